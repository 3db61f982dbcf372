import dataclasses
import json

import pytest

from seqgan_tf import config as config_lib
from seqgan_tf.config import ConfigError


def test_paper_preset_is_the_authors_schedule():
    config = config_lib.get_preset("paper").validate()
    t = config.training
    assert (config.vocabulary_size, config.sequence_length) == (5000, 20)
    assert config.data.num_real == 9984
    assert (t.batch_size, t.generator_epochs) == (64, 120)
    assert (t.discriminator_rounds, t.discriminator_epochs) == (50, 3)
    assert (t.adversarial_rounds, t.generator_steps, t.discriminator_steps) == (
        200,
        1,
        5,
    )
    assert (t.num_rollouts, t.rollout_policy, t.pg_reduction) == (
        16,
        "current",
        "sum",
    )
    assert config.generator.learning_rate == 0.01
    assert config.generator.clip_norm == 5.0
    assert config.discriminator.learning_rate == 1e-4
    assert sum(config.discriminator.num_filters) == 1720
    assert config.discriminator.dropout == 0.25


@pytest.mark.parametrize("name", sorted(config_lib.PRESETS))
def test_presets_validate_and_round_trip_through_json(name):
    config = config_lib.get_preset(name).validate()
    restored = config_lib.ExperimentConfig.from_dict(
        json.loads(json.dumps(config.to_dict()))
    )
    assert restored == config


def test_quick_preset_keeps_the_paper_models():
    paper, quick = (
        config_lib.get_preset("paper"),
        config_lib.get_preset("quick"),
    )
    assert quick.data == paper.data
    assert quick.generator == paper.generator
    assert quick.discriminator == paper.discriminator
    assert quick.training.num_rollouts == paper.training.num_rollouts


def test_unknown_preset_names_the_choices():
    with pytest.raises(ConfigError, match="paper, quick, tiny"):
        config_lib.get_preset("papper")


def test_overrides_parse_types_of_every_kind():
    config = config_lib.with_overrides(
        config_lib.get_preset("tiny"),
        [
            "seed=7",
            "training.adversarial_rounds=9",
            "training.rollout_update_rate=0.5",
            "training.generator_shuffle=false",
            "training.rollout_policy=delayed",
            "discriminator.filter_sizes=1,2,3",
            "discriminator.num_filters=4,4,4",
        ],
    ).validate()
    assert config.seed == 7
    assert config.training.adversarial_rounds == 9
    assert config.training.rollout_update_rate == 0.5
    assert config.training.generator_shuffle is False
    assert config.training.rollout_policy == "delayed"
    assert config.discriminator.filter_sizes == (1, 2, 3)
    # The preset itself is frozen and unchanged.
    assert config_lib.get_preset("tiny").seed == 88
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 3


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("training.batch_size=-1", "training.batch_size must be >= 1"),
        ("training.num_rollouts=0", "training.num_rollouts must be >= 1"),
        ("training.adversarial_rounds=-2", "adversarial_rounds must be >= 0"),
        ("training.rollout_policy=lagged", "rollout_policy must be one of"),
        ("training.reward=gold", "training.reward must be one of"),
        ("training.method=gail", "training.method must be one of"),
        (
            "training.scheduled_sampling_decrement=2",
            "scheduled_sampling_decrement must be in",
        ),
        ("training.bleu_reference_fraction=0", "bleu_reference_fraction"),
        ("training.rollout_update_rate=1.5", "rollout_update_rate must be in"),
        ("discriminator.filter_sizes=2,30", "filter_sizes must lie in"),
        ("discriminator.num_filters=4", "equal length"),
        ("generator.learning_rate=0", "generator.learning_rate must be > 0"),
    ],
)
def test_invalid_values_are_named(assignment, message):
    with pytest.raises(ConfigError, match=message):
        config_lib.with_overrides(
            config_lib.get_preset("tiny"), [assignment]
        ).validate()


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("training.epochs=3", "Unknown configuration field 'training.epochs'"),
        ("nonsense", "section.field=value"),
        ("training.batch_size=many", "training.batch_size expects int"),
        ("training.generator_shuffle=maybe", "expects bool"),
        ("training=3", "Unknown configuration field 'training'"),
    ],
)
def test_malformed_overrides_are_named(assignment, message):
    with pytest.raises(ConfigError, match=message):
        config_lib.with_overrides(config_lib.get_preset("tiny"), [assignment])


def test_from_dict_rejects_unknown_fields():
    values = config_lib.get_preset("tiny").to_dict()
    values["training"]["warp_speed"] = 9
    with pytest.raises(ConfigError, match="training.warp_speed"):
        config_lib.ExperimentConfig.from_dict(values)
