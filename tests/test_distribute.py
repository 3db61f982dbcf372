"""tf.distribute: two replicas train exactly as one device; TF_CONFIG checks.

Device splits and thread pools must be configured before TensorFlow
initialises, so those checks run tests/distributed_helper.py in a
subprocess.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf import distribute
from seqgan_tf import rollout

HELPER = pathlib.Path(__file__).with_name("distributed_helper.py")


def run_helper(*args):
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    completed = subprocess.run(
        [sys.executable, str(HELPER), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )
    lines = [
        line
        for line in completed.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    assert completed.returncode == 0 and lines, completed.stderr[-4000:]
    return json.loads(lines[-1][len("RESULT ") :])


@pytest.mark.parametrize("variant", ["basic", "delayed_eos"])
def test_two_replicas_train_as_one_device(variant):
    # MLE epochs, a D round and adversarial rounds (sampling, rollouts
    # sharded by global row, rewards, PG update) on MirroredStrategy over
    # two logical CPUs give the single-device weights and logs (relative
    # differences for the logs). With dropout > 0 the replicas draw their
    # own masks: the runs are then statistically equivalent, not equal.
    result = run_helper("train", variant)
    assert result["replicas"] == [1, 2]
    assert result["max_weight_change"] > 1e-3  # training did move them
    assert result["max_weight_diff"] < 1e-5, result
    for key, difference in result["log_diff"].items():
        assert difference < 1e-5, (key, result["log_diff"])
    logs = result["logs_one"]
    for key in ("g_loss", "d_loss", "d_accuracy", "mean_reward"):
        assert np.isfinite(logs[key]).any(), key


def test_sampler_split_with_row_ids_equals_whole_batch():
    result = run_helper("sampler")
    assert result["sampled_fraction"] > 0.5
    assert result["equal"]


def test_sampler_does_not_depend_on_thread_count():
    one = run_helper("threads", "one")
    default = run_helper("threads", "default")
    np.testing.assert_array_equal(one["tokens"], default["tokens"])


def test_rollout_rewards_of_a_split_batch_equal_the_whole(make_generator):
    policy = make_generator(seed=4)
    token_ids = tf.constant(
        np.random.default_rng(3).integers(0, 26, (6, 12)), tf.int32
    )
    weights = tf.range(1.0, 27.0) / 26.0

    def score(ids):
        return tf.reduce_mean(tf.gather(weights, ids), axis=1)

    def rewards(ids, offset=0, total=None, chunk_size=4096):
        return rollout.rollout_rewards(
            policy,
            score,
            ids,
            (5, 6),
            num_rollouts=4,
            chunk_size=chunk_size,
            batch_row_offset=offset,
            global_batch_size=total,
        ).numpy()

    whole = rewards(token_ids)
    split = np.concatenate(
        [rewards(token_ids[:3], 0, 6), rewards(token_ids[3:], 3, 6)]
    )
    np.testing.assert_array_equal(split, whole)
    # Nor on the chunking: one rollout per chunk draws the same rows.
    np.testing.assert_array_equal(rewards(token_ids, chunk_size=1), whole)
    assert np.std(whole[:, :-1]) > 0


def test_naive_rollout_of_a_split_batch_equals_the_whole(make_generator):
    token_ids = tf.constant(
        np.random.default_rng(3).integers(0, 26, (4, 5)), tf.int32
    )
    policy = make_generator(seed=4, sequence_length=5)

    def score(ids):
        return tf.reduce_mean(tf.cast(ids, tf.float32), axis=1)

    def rewards(ids, offset, total):
        return rollout.naive_rollout_rewards(
            policy,
            score,
            ids,
            (1, 2),
            num_rollouts=2,
            batch_row_offset=offset,
            global_batch_size=total,
        ).numpy()

    whole = rewards(token_ids, 0, 4)
    split = np.concatenate(
        [rewards(token_ids[:2], 0, 4), rewards(token_ids[2:], 2, 4)]
    )
    np.testing.assert_array_equal(split, whole)


def test_batch_size_must_divide_among_replicas():
    import seqgan_tf

    class FakeStrategy:
        num_replicas_in_sync = 3

    generator = seqgan_tf.Generator(26, 6, embedding_dim=4, hidden_dim=4)
    discriminator = seqgan_tf.Discriminator(
        26, 6, embedding_dim=4, filter_sizes=(2,), num_filters=(2,)
    )
    original = tf.distribute.get_strategy
    tf.distribute.get_strategy = FakeStrategy
    try:
        with pytest.raises(ValueError, match="multiple of the number of"):
            seqgan_tf.SeqGAN(generator, discriminator, batch_size=8)
    finally:
        tf.distribute.get_strategy = original


def test_mixed_precision_keeps_logits_losses_and_rewards_float32():
    result = run_helper("mixed")
    for policy, low in [
        ("mixed_bfloat16", "bfloat16"),
        ("mixed_float16", "float16"),
    ]:
        got = result[policy]
        assert got["compute"] == low and got["d_compute"] == low, got
        assert got["variables"] == "float32"
        assert got["logits"] == got["d_logits"] == got["rewards"] == "float32"
        assert np.all(np.isfinite(got["losses"])) and len(got["losses"]) >= 5
        scaled = policy == "mixed_float16"
        assert got["optimizers"] == (
            ["LossScaleOptimizer"] * 3 if scaled else ["Adam"] * 3
        )


def test_config_strategy_and_mixed_precision_fields():
    import dataclasses

    from seqgan_tf import config

    base = config.ExperimentConfig()
    assert base.training.strategy == "default"
    assert base.training.mixed_precision == ""
    for field, good, bad, message in [
        ("strategy", "mirrored", "gpu", "training.strategy must be one of"),
        (
            "mixed_precision",
            "mixed_bfloat16",
            "float16",
            "training.mixed_precision must be",
        ),
    ]:
        training = dataclasses.replace(base.training, **{field: good})
        dataclasses.replace(base, training=training).validate()
        training = dataclasses.replace(base.training, **{field: bad})
        with pytest.raises(config.ConfigError, match=message):
            dataclasses.replace(base, training=training).validate()
    assert set(config.STRATEGIES) == set(distribute.STRATEGIES)


GOOD = {
    "cluster": {"worker": ["localhost:12345", "localhost:23456"]},
    "task": {"type": "worker", "index": 1},
}


@pytest.mark.parametrize(
    "tf_config, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ({"task": GOOD["task"]}, "no `cluster`"),
        ({"cluster": {}, "task": GOOD["task"]}, "cluster.worker"),
        (
            {"cluster": {"worker": []}, "task": GOOD["task"]},
            "cluster.worker",
        ),
        ({"cluster": GOOD["cluster"]}, "no `task`"),
        (
            {"cluster": GOOD["cluster"], "task": {"type": "boss", "index": 0}},
            "task type 'boss' is unknown",
        ),
        (
            {
                "cluster": {**GOOD["cluster"], "gpu": ["h:1"]},
                "task": GOOD["task"],
            },
            "unknown task type 'gpu'",
        ),
        (
            {"cluster": GOOD["cluster"], "task": {"type": "chief", "index": 0}},
            "no addresses",
        ),
        (
            {
                "cluster": GOOD["cluster"],
                "task": {"type": "worker", "index": 2},
            },
            "index 2 is out of range",
        ),
        (
            {"cluster": GOOD["cluster"], "task": {"type": "worker"}},
            "must be an integer",
        ),
    ],
)
def test_bad_tf_config_is_named(tf_config, message):
    if not isinstance(tf_config, str):
        tf_config = json.dumps(tf_config)
    with pytest.raises(ValueError, match=message):
        distribute.validate_tf_config(tf_config)


def test_good_tf_config_and_environment(monkeypatch):
    assert distribute.validate_tf_config(json.dumps(GOOD)) == GOOD
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs the TF_CONFIG"):
        distribute.make_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{oops")
    with pytest.raises(ValueError, match="not valid JSON"):
        distribute.make_strategy("multiworker")


def test_unknown_strategy_and_default():
    with pytest.raises(ValueError, match="Unknown strategy 'gpu'"):
        distribute.make_strategy("gpu")
    assert distribute.make_strategy("default") is tf.distribute.get_strategy()


def test_tpu_unreachable_is_a_clear_error(monkeypatch):
    # No TPU named and none in the environment. (A named but unreachable
    # address makes TensorFlow retry for minutes, so it is not tested.)
    for name in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_WORKER_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="No TPU is reachable"):
        distribute.make_strategy("tpu")
