"""What a configuration may hold, and the checks of it.

`ConfigError`, the allowed values of the choice fields (`TASKS`,
`STRATEGIES`, ...), and `validate(config)`, which
`ExperimentConfig.validate` runs: every field of its declared type, every
size and rate in range, every choice known (the methods and rewards of
the registry `seqgan_tf.methods`), and the reward, discriminator and
generator kinds in agreement. Reads a config only by its attributes, so
it imports none of the dataclasses (`seqgan_tf.config.fields`).
"""

import dataclasses
import math
import typing

from seqgan_tf import methods


class ConfigError(ValueError):
    """A configuration value is invalid; the message names it and the fix."""


TASKS = ("oracle", "text")
TOKENIZERS = ("whitespace", "word", "character", "tagged")

MIXED_PRECISION_POLICIES = (
    "auto",
    "",
    "float32",
    "mixed_bfloat16",
    "mixed_float16",
)
STRATEGIES = ("default", "mirrored", "multiworker", "tpu")
LEAKGAN_RESCALES = ("sorted", "unsorted", "none")
LEAKGAN_GOALS = ("current", "previous")
LEAKGAN_CLIPS = ("per_module", "joint")
REWARD_BASELINES = ("none", "batch_mean")


def validate(config):
    """Raises `ConfigError` naming the first invalid field of `config` (an
    `ExperimentConfig`); returns `config`."""
    _check_field_types(config)
    positive = {
        "data.num_real": config.data.num_real,
        "data.vocabulary_size": config.data.vocabulary_size,
        "data.sequence_length": config.data.sequence_length,
        "generator.embedding_dim": config.generator.embedding_dim,
        "generator.hidden_dim": config.generator.hidden_dim,
        "discriminator.embedding_dim": config.discriminator.embedding_dim,
        "training.batch_size": config.training.batch_size,
        "training.discriminator_epochs": config.training.discriminator_epochs,
        "training.num_negatives": config.training.num_negatives,
        "training.num_rollouts": config.training.num_rollouts,
        "training.rollout_chunk_size": config.training.rollout_chunk_size,
        "training.eval_samples": config.training.eval_samples,
        "training.checkpoint_every": config.training.checkpoint_every,
        "training.rank_references": config.training.rank_references,
        "generator.goal_size": config.generator.goal_size,
        "generator.goal_step": config.generator.goal_step,
    }
    non_negative = {
        "seed": config.seed,
        "training.generator_epochs": config.training.generator_epochs,
        "training.interleaved_mle_steps": (
            config.training.interleaved_mle_steps
        ),
        "training.discriminator_rounds": config.training.discriminator_rounds,
        "training.adversarial_rounds": config.training.adversarial_rounds,
        "training.generator_steps": config.training.generator_steps,
        "training.discriminator_steps": config.training.discriminator_steps,
        "training.eval_every": config.training.eval_every,
        "training.probe_samples": config.training.probe_samples,
    }
    if config.data.task == "text":
        # The oracle's size fields do not apply; T may be 0 (auto).
        for name in ("data.num_real", "data.vocabulary_size"):
            positive.pop(name)
        positive.pop("data.sequence_length")
        non_negative["data.sequence_length"] = config.data.sequence_length
        non_negative["data.max_vocabulary"] = config.data.max_vocabulary
        non_negative["data.max_sequences"] = config.data.max_sequences
        positive["data.min_frequency"] = config.data.min_frequency
        if not config.data.dataset.strip():
            raise ConfigError(
                "data.dataset is empty; the text task needs a dataset "
                "(coco, chinese_quatrains, folk_tunes, a file, or "
                "tfds:NAME): seqgan-tf train --dataset NAME."
            )
        if methods.reward_needs_oracle(config.training.reward):
            raise ConfigError(
                f"training.reward={config.training.reward} reads the "
                "oracle's likelihood; a text task has no oracle."
            )
        if config.training.generator_real == "fresh":
            raise ConfigError(
                "training.generator_real=fresh needs the oracle task "
                "(fresh real sequences come from the oracle)."
            )
        if config.training.adversarial_real == "fresh":
            raise ConfigError(
                "training.adversarial_real=fresh needs the oracle task "
                "(fresh real sequences come from the oracle); a text "
                "task has only its fixed real data."
            )
        if not 0.0 <= config.data.test_fraction < 1.0:
            raise ConfigError(
                "data.test_fraction must be in [0, 1), got "
                f"{config.data.test_fraction}."
            )
        if 0 < config.data.max_vocabulary <= 4:
            raise ConfigError(
                "data.max_vocabulary counts the 4 special tokens; it must "
                f"be 0 (no limit) or > 4, got {config.data.max_vocabulary}."
            )
    for name, value in positive.items():
        if value < 1:
            raise ConfigError(f"{name} must be >= 1, got {value}.")
    _check_family(config)
    for name, value in non_negative.items():
        if value < 0:
            raise ConfigError(f"{name} must be >= 0, got {value}.")
    for name, value in [
        ("generator.learning_rate", config.generator.learning_rate),
        ("discriminator.learning_rate", config.discriminator.learning_rate),
    ]:
        if not value > 0:
            raise ConfigError(f"{name} must be > 0, got {value}.")
    for name, value in [
        ("seed", config.seed),
        ("data.oracle_seed", config.data.oracle_seed),
    ]:
        if not 0 <= value < 2**31:
            raise ConfigError(
                f"{name} must be in [0, 2**31) (TensorFlow's int32 "
                f"seeds), got {value}."
            )
    if (
        config.data.task != "text"
        and config.training.batch_size > config.data.num_real
    ):
        raise ConfigError(
            f"training.batch_size ({config.training.batch_size}) is larger "
            f"than the real data (data.num_real = {config.data.num_real}); "
            "lower the batch size or sample more real data."
        )
    if not config.generator.clip_norm > 0:
        raise ConfigError(
            "generator.clip_norm (the global gradient norm clip) must be "
            f"> 0, got {config.generator.clip_norm}."
        )
    if config.discriminator.l2_reg < 0:
        raise ConfigError(
            "discriminator.l2_reg must be >= 0, got "
            f"{config.discriminator.l2_reg}."
        )
    choices = {
        "data.task": (config.data.task, TASKS),
        "data.oracle": (config.data.oracle, ("paper", "random")),
        "data.tokenizer": (config.data.tokenizer, TOKENIZERS),
        "data.tag_mode": (config.data.tag_mode, ("words", "tags", "pairs")),
        "data.overflow": (config.data.overflow, ("drop", "truncate")),
        "data.padding": (config.data.padding, ("pad", "eos")),
        "training.rollout_policy": (
            config.training.rollout_policy,
            ("current", "delayed"),
        ),
        "training.method": (config.training.method, methods.names()),
        "training.leakgan_rescale": (
            config.training.leakgan_rescale,
            LEAKGAN_RESCALES,
        ),
        "training.leakgan_goals": (
            config.training.leakgan_goals,
            LEAKGAN_GOALS,
        ),
        "training.leakgan_clip": (
            config.training.leakgan_clip,
            LEAKGAN_CLIPS,
        ),
        "generator.kind": (config.generator.kind, ("lstm", "leakgan")),
        "discriminator.kind": (
            config.discriminator.kind,
            ("classifier", "ranker"),
        ),
        "training.reward": (config.training.reward, methods.rewards()),
        "training.objective": (
            config.training.objective,
            ("", "rollout", "importance", "leakgan"),
        ),
        "training.generator_real": (
            config.training.generator_real,
            ("fixed", "fresh"),
        ),
        "training.pg_reduction": (
            config.training.pg_reduction,
            ("sum", "mean"),
        ),
        "training.reward_baseline": (
            config.training.reward_baseline,
            REWARD_BASELINES,
        ),
        "training.adversarial_real": (
            config.training.adversarial_real,
            ("fixed", "fresh"),
        ),
        "training.strategy": (config.training.strategy, STRATEGIES),
    }
    if config.data.padding == "eos" and not config.data.add_eos:
        raise ConfigError(
            "data.padding=eos fills each row after its EOS; it needs "
            "data.add_eos=true."
        )
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ConfigError(
                f"{name} must be one of {', '.join(allowed)}; got {value!r}."
            )
    if config.training.mixed_precision not in MIXED_PRECISION_POLICIES:
        raise ConfigError(
            "training.mixed_precision must be 'auto', 'float32' (or "
            "''), 'mixed_bfloat16' or 'mixed_float16'; got "
            f"{config.training.mixed_precision!r}."
        )
    if not 0.0 <= config.training.scheduled_sampling_decrement <= 1.0:
        raise ConfigError(
            "training.scheduled_sampling_decrement must be in [0, 1], "
            f"got {config.training.scheduled_sampling_decrement}."
        )
    if not 0.0 < config.training.bleu_reference_fraction <= 1.0:
        raise ConfigError(
            "training.bleu_reference_fraction must be in (0, 1], got "
            f"{config.training.bleu_reference_fraction}."
        )
    if not 0.0 <= config.training.rollout_update_rate <= 1.0:
        raise ConfigError(
            "training.rollout_update_rate must be in [0, 1], got "
            f"{config.training.rollout_update_rate}."
        )
    if not 0.0 <= config.discriminator.dropout < 1.0:
        raise ConfigError(
            f"discriminator.dropout must be in [0, 1), got "
            f"{config.discriminator.dropout}."
        )
    sizes, counts = (
        config.discriminator.filter_sizes,
        config.discriminator.num_filters,
    )
    if len(sizes) != len(counts) or not sizes:
        raise ConfigError(
            "discriminator.filter_sizes and discriminator.num_filters "
            "must be non-empty and of equal length; got "
            f"{len(sizes)} and {len(counts)}."
        )
    length = config.sequence_length
    if not length:  # "text" with T from the data: checked once known.
        length = max(sizes)
    if max(sizes) > length or min(sizes) < 1 or min(counts) < 1:
        raise ConfigError(
            f"discriminator.filter_sizes must lie in [1, {length}] (the "
            "sequence length) with positive num_filters; got "
            f"{sizes}, {counts}."
        )
    return config


def _check_family(config):
    """The reward, discriminator and generator kinds must agree."""
    t = config.training
    ranker = config.discriminator.kind == "ranker"
    if ranker != (t.reward == "rank"):
        raise ConfigError(
            "training.reward=rank and discriminator.kind=ranker go "
            f"together (RankGAN); got reward={t.reward!r} with "
            f"discriminator.kind={config.discriminator.kind!r}."
        )
    if not config.discriminator.gamma > 0:
        raise ConfigError(
            "discriminator.gamma must be > 0, got "
            f"{config.discriminator.gamma}."
        )
    if t.mali_continuations and (
        t.reward != "importance"
        or t.mali_continuations < 2
        or t.batch_size % t.mali_continuations
    ):
        raise ConfigError(
            "training.mali_continuations (MaliGAN's mixed training) needs "
            "training.reward=importance, at least 2 continuations and a "
            f"batch_size that is a multiple of them; got "
            f"{t.mali_continuations} with reward={t.reward!r}, "
            f"batch_size={t.batch_size}."
        )
    if t.mali_prefix_decrement < 0:
        raise ConfigError(
            "training.mali_prefix_decrement must be >= 0, got "
            f"{t.mali_prefix_decrement}."
        )
    if t.interleaved_mle_steps and config.generator.kind != "leakgan":
        raise ConfigError(
            "training.interleaved_mle_steps is LeakGAN's "
            "(generator.kind=leakgan)."
        )
    if config.generator.kind == "leakgan":
        if config.variable_length:
            raise ConfigError(
                "generator.kind=leakgan generates fixed-length sequences; "
                "for a text task set data.padding=eos (rows ending in a "
                "run of EOS) or data.add_eos=false (--no-eos)."
            )
        if t.reward not in ("discriminator", "constant"):
            raise ConfigError(
                "generator.kind=leakgan is rewarded by its discriminator "
                f"(or a constant); got training.reward={t.reward!r}."
            )


# The range of an int field: TensorFlow's seeds and sizes are int64.
_INT_RANGE = (-(2**63), 2**63 - 1)


def _check_field_types(config, prefix=""):
    """Every field of `config` (recursively) has its declared type: ints
    within int64, floats finite, strings, booleans, tuples of ints. A
    config read from a damaged config.json or built by hand fails here
    with the field's name, before any comparison could raise a TypeError.
    """
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        name, value = f"{prefix}{field.name}", getattr(config, field.name)
        expected = hints[field.name]
        if dataclasses.is_dataclass(expected):
            if not isinstance(value, expected):
                raise ConfigError(f"{name} must be a mapping, got {value!r}.")
            _check_field_types(value, f"{name}.")
            continue
        if expected is bool:
            good = isinstance(value, bool)
        elif expected is int:
            good = isinstance(value, int) and not isinstance(value, bool)
            if good and not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
                raise ConfigError(
                    f"{name} must fit in a 64-bit integer, got {value}."
                )
        elif expected is float:
            good = isinstance(value, (int, float)) and not isinstance(
                value, bool
            )
            if good and not math.isfinite(value):
                raise ConfigError(
                    f"{name} must be a finite number, got {value}."
                )
        elif expected is tuple:
            good = isinstance(value, tuple) and all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            )
        else:
            good = isinstance(value, expected)
        if not good:
            raise ConfigError(
                f"{name} must be {_TYPE_NAMES.get(expected, expected.__name__)}"
                f", got {value!r}."
            )


_TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    tuple: "a list of integers",
}
