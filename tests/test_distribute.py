"""tf.distribute: two replicas, or two worker processes, train exactly as
one device; checkpoints move between replica counts; TF_CONFIG checks; a
missing worker is a bounded, named failure.

Device splits, thread pools and multi-worker strategies must be set up
before TensorFlow initialises, so those checks run
tests/distributed_helper.py in subprocesses (killed after a hard cap).
"""

import dataclasses
import json
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import types

import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf import config
from seqgan_tf import distribute
from seqgan_tf import rollout
from seqgan_tf.callbacks import CheckpointCallback

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


@pytest.mark.slow
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


@pytest.mark.slow
def test_sampler_split_with_row_ids_equals_whole_batch():
    result = run_helper("sampler")
    assert result["sampled_fraction"] > 0.5
    assert result["equal"]


@pytest.mark.slow
def test_sampler_does_not_depend_on_thread_count():
    one = run_helper("threads", "one")
    default = run_helper("threads", "default")
    np.testing.assert_array_equal(one["tokens"], default["tokens"])


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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
            ["LossScaleOptimizer"] * 3 if scaled else ["FusedAdam"] * 3
        )


def test_config_strategy_and_mixed_precision_fields():
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


def free_ports(count):
    """Ports nothing listens on now (bound to port 0, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def worker_environment(ports, index):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
    return dict(
        os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_CONFIG=json.dumps(tf_config)
    )


def run_processes(commands, directory, timeout):
    """Runs the (args, environment) commands at once, each killed after
    `timeout` s at the latest; returns [(returncode, stdout, stderr)]."""
    processes, outputs = [], []
    try:
        for number, (args, environment) in enumerate(commands):
            out = open(directory / f"out{number}.txt", "w+")
            err = open(directory / f"err{number}.txt", "w+")
            outputs.append((out, err))
            processes.append(
                subprocess.Popen(
                    [sys.executable, str(HELPER), *args],
                    stdout=out,
                    stderr=err,
                    text=True,
                    env=environment,
                )
            )
        deadline = time.monotonic() + timeout
        for process in processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    results = []
    for process, (out, err) in zip(processes, outputs):
        out.seek(0)
        err.seek(0)
        results.append((process.returncode, out.read(), err.read()))
        out.close()
        err.close()
    return results


def parse_result(returncode, stdout, stderr):
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert returncode == 0 and lines, (returncode, stderr[-4000:])
    return json.loads(lines[-1][len("RESULT ") :])


def max_diff(first, second):
    assert len(first) == len(second)
    return max(
        float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
        for a, b in zip(first, second)
    )


@pytest.mark.slow
def test_two_workers_train_as_one_device(tmp_path):
    # Two processes of MultiWorkerMirroredStrategy over loopback (collective
    # ops over gRPC) run MLE epochs, a D round and two adversarial rounds
    # with checkpoints: they end with the same weights as each other and as
    # one process on the default strategy with the same global batch.
    ports = free_ports(2)
    checkpoints = tmp_path / "checkpoints"
    worker = ["multiworker", "60", str(checkpoints)]
    reference = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    reference.pop("TF_CONFIG", None)
    chief, other, single = [
        parse_result(*outcome)
        for outcome in run_processes(
            [
                (worker, worker_environment(ports, 0)),
                (worker, worker_environment(ports, 1)),
                (["single"], reference),
            ],
            tmp_path,
            timeout=240,
        )
    ]
    assert [chief["replicas"], other["replicas"], single["replicas"]] == [
        2,
        2,
        1,
    ]
    assert chief["chief"] and not other["chief"]
    # Saves at epochs 2 and 4 and at the end (5), by the chief only.
    assert chief["saves_as_chief"] == [[True] * 3]
    assert other["saves_as_chief"] == [[False] * 3]
    assert chief["write_dir"] == str(checkpoints)
    assert other["write_dir"] == str(checkpoints / "workertemp_worker_1")
    assert max_diff(chief["initial"], single["initial"]) == 0
    assert max_diff(chief["weights"], chief["initial"]) > 1e-3
    assert max_diff(chief["weights"], other["weights"]) < 1e-6
    assert max_diff(chief["weights"], single["weights"]) < 1e-5
    for key, values in single["logs"].items():
        np.testing.assert_allclose(
            chief["logs"][key], values, rtol=1e-5, atol=1e-6, err_msg=key
        )
    # The chief alone kept checkpoints (every 2 epochs and the last, 2
    # kept); the other worker's copies are gone.
    assert sorted(path.name for path in checkpoints.iterdir()) == [
        "checkpoint",
        "ckpt-4.data-00000-of-00001",
        "ckpt-4.index",
        "ckpt-5.data-00000-of-00001",
        "ckpt-5.index",
    ]


@pytest.mark.slow
def test_worker_without_its_peer_fails_within_the_timeout(tmp_path):
    # TensorFlow would wait for the missing worker forever; make_strategy
    # gives up after timeout_seconds and names the address.
    ports = free_ports(2)
    start = time.monotonic()
    [(returncode, stdout, stderr)] = run_processes(
        [(["lone", "3"], worker_environment(ports, 1))], tmp_path, timeout=90
    )
    elapsed = time.monotonic() - start
    assert returncode not in (0, -9), (returncode, stderr[-4000:])
    assert "RuntimeError: Timed out after 3 s" in stderr, stderr[-4000:]
    assert f"no worker answers at 127.0.0.1:{ports[0]}" in stderr
    assert "RESULT" not in stdout
    assert elapsed < 60


def test_worker_address_in_use_is_named(monkeypatch):
    busy = socket.socket()
    busy.bind(("", 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        tf_config = {
            "cluster": {"worker": [f"127.0.0.1:{port}", "127.0.0.1:1"]},
            "task": {"type": "worker", "index": 0},
        }
        monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
        with pytest.raises(RuntimeError, match=f"cannot listen .*:{port}"):
            distribute.make_strategy("multiworker", timeout_seconds=1)
    finally:
        busy.close()


def test_is_chief_and_write_dir_outside_multi_worker(tmp_path):
    strategy = tf.distribute.get_strategy()
    assert distribute.is_chief() and distribute.is_chief(strategy)
    assert distribute.write_dir(tmp_path, strategy) == str(tmp_path)


def test_checkpoint_callback_on_a_non_chief_worker_keeps_nothing(
    tmp_path, monkeypatch
):
    private = tmp_path / "workertemp_worker_1"
    written = []

    def write_dir(directory, strategy=None):
        written.append(private.exists())
        return str(private)

    monkeypatch.setattr(distribute, "is_chief", lambda strategy=None: False)
    monkeypatch.setattr(distribute, "write_dir", write_dir)
    epoch = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(epoch=epoch, value=tf.Variable(2.0))
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path), 2)
    callback = CheckpointCallback(manager, epoch)
    callback.on_epoch_end(0)
    callback.on_train_end()
    assert written == [False]  # one save, into the private directory
    assert list(tmp_path.iterdir()) == [] and manager.latest_checkpoint is None
    assert int(epoch.numpy()) == 1


@pytest.mark.slow
def test_checkpoint_restores_across_replica_counts(tmp_path):
    # Saved with two replicas (MirroredStrategy over two logical CPUs),
    # restored on one device, and the other way round: generator,
    # discriminator and all three optimizers come back exactly, in every
    # replica's copy.
    saved = run_helper("save", str(tmp_path))
    restored = run_helper("restore", str(tmp_path))
    assert saved["one"]["replicas"] == 1 and saved["two"]["replicas"] == 2
    for source, target, replicas in [("one", "two", 2), ("two", "one", 1)]:
        got = restored[f"{source}_to_{target}"]
        assert got["replicas"] == replicas and got["epoch"] == 3
        assert max_diff(got["weights"], saved[source]["weights"]) == 0
        assert max_diff(got["optimizers"], saved[source]["optimizers"]) == 0
        mirrored, agree = got["replicas_agree"]
        assert agree and (mirrored > 0) == (replicas == 2)
    # The optimizers had state to restore (steps, moments).
    assert max_diff(saved["two"]["optimizers"], [0] * 52) > 0


@pytest.mark.parametrize(
    "workers, message",
    [
        (["127.0.0.1:7001", "127.0.0.1:7001"], "same address"),
        (["127.0.0.1:7001", "127.0.0.1"], "not of the form 'host:port'"),
    ],
)
def test_bad_cluster_addresses_are_named(workers, message, monkeypatch):
    tf_config = {"cluster": {"worker": workers}, "task": GOOD["task"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    with pytest.raises(ValueError, match=message):
        distribute.make_strategy("multiworker", timeout_seconds=1)


def rendezvous(clusters, timeout=10):
    """Runs the start-up rendezvous of one worker per cluster (worker i
    of its cluster) in threads; returns each one's error, or None."""
    errors = [None] * len(clusters)

    def worker(index, cluster):
        addresses = cluster["worker"]
        own = addresses[index]
        peers = [a for a in addresses if a != own]
        try:
            distribute._wait_for_peers(own, peers, cluster, timeout)
        except RuntimeError as error:
            errors[index] = str(error)

    threads = [
        threading.Thread(target=worker, args=(i, c), daemon=True)
        for i, c in enumerate(clusters)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 10)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_rendezvous_of_agreeing_workers():
    addresses = [f"127.0.0.1:{port}" for port in free_ports(3)]
    cluster = {"worker": addresses}
    start = time.monotonic()
    assert rendezvous([cluster] * 3) == [None] * 3
    assert time.monotonic() - start < 5
    # Their listeners are closed again: the ports are free for TensorFlow
    # (whose gRPC server binds with SO_REUSEADDR).
    for address in addresses:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", int(address.rsplit(":", 1)[1])))
            sock.listen(1)


def test_workers_with_different_clusters_fail_at_once():
    addresses = [f"127.0.0.1:{port}" for port in free_ports(3)]
    start = time.monotonic()
    errors = rendezvous(
        [{"worker": addresses[:2]}, {"worker": addresses}], timeout=20
    )
    assert time.monotonic() - start < 10
    assert all("has another TF_CONFIG cluster" in e for e in errors), errors
    assert f"worker at {addresses[1]}" in errors[0]
    assert f"worker at {addresses[0]}" in errors[1]


@pytest.mark.parametrize(
    "jobs, task_type, task_id, chief",
    [
        ({"worker": 2}, "worker", 0, True),
        ({"worker": 2}, "worker", 1, False),
        ({"chief": 1, "worker": 2}, "chief", 0, True),
        ({"chief": 1, "worker": 2}, "worker", 0, False),
        ({"worker": 2, "evaluator": 1}, "evaluator", 0, False),
    ],
)
def test_is_chief_and_write_dir_of_multi_worker_tasks(
    jobs, task_type, task_id, chief, tmp_path
):
    # A MultiWorkerMirroredStrategy shell (a real one would start the
    # collective runtime of this process) with its cluster resolver.
    port = iter(range(7001, 7100))
    cluster = tf.train.ClusterSpec(
        {
            job: [f"127.0.0.1:{next(port)}" for _ in range(count)]
            for job, count in jobs.items()
        }
    )
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        cluster, task_type=task_type, task_id=task_id
    )
    strategy = object.__new__(tf.distribute.MultiWorkerMirroredStrategy)
    strategy._extended = types.SimpleNamespace(_cluster_resolver=resolver)
    assert strategy.cluster_resolver is resolver
    assert distribute.is_chief(strategy) == chief
    expected = (
        str(tmp_path)
        if chief
        else str(tmp_path / f"workertemp_{task_type}_{task_id}")
    )
    assert distribute.write_dir(tmp_path, strategy) == expected
