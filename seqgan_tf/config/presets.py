"""The named presets and the configs derived from them.

`PRESETS`: `paper` is the SeqGAN authors' exact schedule, `quick` a ~10
minute run, `tiny` seconds (tests); `get_preset` looks one up.
`for_dataset` sets a config to train on a text dataset (with
`DATASET_DEFAULTS`, the tokenizer and length of this package's datasets),
`for_method` to train the generator by a method of the registry
`seqgan_tf.methods`.
"""

from __future__ import annotations

import dataclasses

from seqgan_tf import methods
from seqgan_tf.config.fields import DataConfig
from seqgan_tf.config.fields import DiscriminatorConfig
from seqgan_tf.config.fields import ExperimentConfig
from seqgan_tf.config.fields import GeneratorConfig
from seqgan_tf.config.fields import TrainingConfig
from seqgan_tf.config.overrides import with_overrides
from seqgan_tf.config.validation import ConfigError

PRESETS = {
    # The SeqGAN authors' code, exactly (see the README's algorithm section).
    "paper": ExperimentConfig(preset="paper"),
    # Same models and algorithm, a schedule for ~10 minutes on 2 CPU cores.
    "quick": ExperimentConfig(
        preset="quick",
        training=TrainingConfig(
            generator_epochs=20,
            generator_shuffle=True,
            discriminator_rounds=5,
            discriminator_epochs=1,
            num_negatives=2048,
            adversarial_rounds=20,
            discriminator_steps=1,
            eval_every=5,
            eval_samples=2048,
        ),
    ),
    # For tests and smoke runs: a small random oracle, seconds end to end.
    "tiny": ExperimentConfig(
        preset="tiny",
        data=DataConfig(
            oracle="random",
            vocabulary_size=26,
            sequence_length=12,
            num_real=256,
        ),
        generator=GeneratorConfig(embedding_dim=8, hidden_dim=8),
        discriminator=DiscriminatorConfig(
            embedding_dim=8, filter_sizes=(2, 3), num_filters=(8, 8)
        ),
        training=TrainingConfig(
            batch_size=32,
            generator_epochs=2,
            discriminator_rounds=1,
            discriminator_epochs=1,
            num_negatives=256,
            adversarial_rounds=2,
            discriminator_steps=1,
            num_rollouts=4,
            eval_every=1,
            eval_samples=256,
        ),
    ),
}


# The data section of `--dataset NAME` for the datasets of this package:
# tokenizer and T chosen so that (almost) every sequence fits with its EOS.
DATASET_DEFAULTS = {
    # COCO captions, Treebank words: 99.97% of training captions have at
    # most 31 tokens (3 of 10,000 are dropped).
    "coco": {"tokenizer": "word", "lowercase": True, "sequence_length": 32},
    # Five-character quatrains, one token a character or punctuation
    # mark: every poem has 24.
    "chinese_quatrains": {"tokenizer": "whitespace", "sequence_length": 25},
    # The paper's music task: exactly 32 pitch tokens a tune, fixed length
    # as in the paper (no EOS, no padding).
    "folk_tunes": {
        "tokenizer": "whitespace",
        "sequence_length": 32,
        "add_eos": False,
    },
}


def for_dataset(config: ExperimentConfig, dataset: str) -> ExperimentConfig:
    """`config` with its data section set to train on `dataset`.

    `dataset` is a dataset of this package (optionally "NAME/CONFIG"), a
    text file, or "tfds:NAME". A package dataset gets its tokenizer and
    sequence length from `DATASET_DEFAULTS`; a file or TFDS dataset the
    whitespace tokenizer and T = its longest sequence + EOS. Training,
    model and seed settings are kept: `--preset quick --dataset coco`.

    Examples:
        >>> from seqgan_tf import config
        >>> coco = config.for_dataset(config.get_preset("quick"), "coco")
        >>> coco.data.task, coco.data.tokenizer, coco.data.sequence_length
        ('text', 'word', 32)
    """
    base = dataset.partition("/")[0] if not dataset.startswith("tfds:") else ""
    values = {
        "task": "text",
        "dataset": dataset,
        "tokenizer": "whitespace",
        "sequence_length": 0,
    }
    values.update(DATASET_DEFAULTS.get(base, {}))
    data = dataclasses.replace(DataConfig(), **values)
    return dataclasses.replace(config, data=data)


def for_method(config: ExperimentConfig, method: str) -> ExperimentConfig:
    """`config` set up to train the generator by `method`, a method of the
    registry `seqgan_tf.methods` (`methods.names()`): its settings, its
    ancestors' first, e.g. "mle" (no D, no adversarial rounds), "pg_bleu"
    (BLEU-3 rewards, 1 rollout, no discriminator), "maligan" (importance
    weights, no rollouts), "rankgan" (the ranker), "leakgan" (the
    hierarchical generator). `training.method` records the method (or,
    for a variant the command line does not offer, its nearest ancestor
    that it does).

    The schedule's lengths are kept: set them for the comparison at hand.

    Examples:
        >>> from seqgan_tf import config
        >>> maligan = config.for_method(config.get_preset("quick"), "maligan")
        >>> maligan.training.reward, maligan.training.num_rollouts
        ('importance', 1)
    """
    try:
        lineage = methods.lineage(method)
    except ValueError as error:
        raise ConfigError(str(error)) from None
    config = with_overrides(
        config, [f"training.method={methods.config_name(method)}"]
    )
    for step in lineage:
        config = with_overrides(config, step.settings)
        if step.configure is not None:
            config = with_overrides(config, step.configure(config))
    return config


def get_preset(name: str) -> ExperimentConfig:
    """The preset called `name` (of `PRESETS`: "paper", "quick", "tiny");
    a `ConfigError` lists the known ones.

    Examples:
        >>> import seqgan_tf
        >>> tiny = seqgan_tf.get_preset("tiny")
        >>> tiny.vocabulary_size, tiny.sequence_length, tiny.data.num_real
        (26, 12, 256)
    """
    if name not in PRESETS:
        raise ConfigError(
            f"Unknown preset {name!r}; choose one of: "
            f"{', '.join(sorted(PRESETS))}."
        )
    return PRESETS[name]
