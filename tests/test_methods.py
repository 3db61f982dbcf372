"""A method is one registration: a reward and a method registered from this
file (the sequence's length as the reward; nothing in the library edited)
train through `seqgan-tf`'s Python entry point and a reproduction, and the
registry is the one list every consumer reads."""

import csv
import json

import pytest
import tensorflow as tf

from seqgan_tf import cli
from seqgan_tf import config as config_lib
from seqgan_tf import methods
from seqgan_tf.critics import Critic
from seqgan_tf.reproduce import table1


class LengthCritic(Critic):
    """Scores each completed sequence by its length: the tokens up to and
    including its first EOS (every token in a fixed-length task)."""

    def scorer(self):
        return self._score

    def _score(self, token_ids):
        eos_id = getattr(self.trainer.generator, "eos_id", None)
        length = tf.shape(token_ids)[1]
        if eos_id is None:
            return tf.fill(tf.shape(token_ids)[:1], tf.cast(length, tf.float32))
        first = tf.argmax(tf.cast(token_ids == eos_id, tf.int32), axis=1)
        return tf.cast(first + 1, tf.float32)


@pytest.fixture
def length_method():
    methods.register_reward("length", LengthCritic)
    methods.register(
        methods.Method(
            "length_reward",
            "every token rewarded by its sequence's length",
            settings=("training.reward=length",),
            parent="seqgan",
            tables=("classic",),
        )
    )
    yield "length_reward"
    methods.unregister("length_reward")
    methods.unregister_reward("length")


def _rows(run_dir):
    with open(run_dir / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_a_registered_method_trains_from_the_command_line(
    length_method, tmp_path
):
    run_dir = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "--preset",
            "tiny",
            "--method",
            length_method,
            "--output",
            str(run_dir),
            "--verbose",
            "0",
        ]
    )
    assert code == 0
    config = json.loads((run_dir / "config.json").read_text())
    assert config["training"]["method"] == "length_reward"
    assert config["training"]["reward"] == "length"
    # Every adversarial round's mean reward is the tiny task's length (12):
    # the policy gradient read the registered critic, not the
    # discriminator (whose P(real) is below 1).
    length = config_lib.get_preset("tiny").data.sequence_length
    rewards = [
        float(r["mean_reward"]) for r in _rows(run_dir) if r["phase"] == "2"
    ]
    assert rewards and all(r == pytest.approx(length) for r in rewards)


@pytest.mark.slow
def test_a_registered_method_is_a_row_of_a_reproduction(
    length_method, tmp_path
):
    assert length_method in table1.SCHEDULES["tiny"].methods
    table = table1.reproduce_table1(
        "tiny",
        seeds=(0,),
        output=tmp_path,
        methods=(length_method,),
        log=lambda *a: None,
    )
    (row,) = table["rows"]
    assert row["method"] == length_method and row["complete"]
    assert (tmp_path / length_method / "seed_0" / "protocol.json").exists()


def test_the_registry_is_what_the_command_line_and_tables_offer():
    parser = cli.make_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    (method,) = [a for a in train._actions if a.dest == "method"]
    assert tuple(method.choices) == methods.names(command_line=True)
    for name, schedule in table1.SCHEDULES.items():
        assert schedule.methods, name
        assert set(schedule.methods) <= set(methods.names())


def test_for_method_applies_the_lineage_and_names_the_offered_ancestor():
    tiny = config_lib.get_preset("tiny")
    config = config_lib.for_method(tiny, "seqgan_constant_reward")
    assert config.training.reward == "constant"
    assert config.training.method == "seqgan"
    leak = config_lib.for_method(tiny, "leakgan_unsorted")
    assert leak.generator.kind == "leakgan"
    assert leak.training.leakgan_rescale == "unsorted"
    with pytest.raises(config_lib.ConfigError, match="Unknown method"):
        config_lib.for_method(tiny, "no_such_method")


def test_the_registry_refuses_duplicates_and_unknown_tables():
    with pytest.raises(ValueError, match="is registered"):
        methods.register(methods.Method("seqgan", "again"))
    with pytest.raises(ValueError, match="Unknown tables"):
        methods.register(methods.Method("x_method", "x", tables=("nope",)))
    assert "x_method" not in methods.names()
    with pytest.raises(ValueError, match="Unknown reward"):
        methods.reward_critic("no_such_reward")


def _committed_configs():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found = sorted(root.glob("tests/fixtures/**/config.json"))
    found += sorted(root.glob("benchmarks/results/**/config.json"))
    return found


@pytest.mark.parametrize(
    "path", _committed_configs(), ids=lambda p: "/".join(p.parts[-3:])
)
def test_every_committed_config_still_loads_and_builds_its_trainer(path):
    from seqgan_tf import experiment
    from seqgan_tf import runs

    config = runs.load_config(path.parent)
    kwargs = experiment.trainer_arguments(config)
    assert kwargs["reward"] == config.training.reward
    vocabulary = 40 if config.is_text else None
    gan = experiment.build_gan(config, vocabulary_size=vocabulary)
    assert gan.reward == config.training.reward
