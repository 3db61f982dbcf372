"""Experiment configuration: frozen dataclasses and the named presets.

`paper` is the SeqGAN authors' exact schedule; `quick` is a ~10 minute run.
"""

import dataclasses
import json
import typing

from seqgan_tf.models.discriminator import PAPER_FILTER_SIZES
from seqgan_tf.models.discriminator import PAPER_NUM_FILTERS


class ConfigError(ValueError):
    """A configuration value is invalid; the message names it and the fix."""


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The data to imitate.

    Attributes:
        task: "oracle", the paper's synthetic experiment.
        oracle: "paper" (the authors' parameters: vocabulary 5000, length 20)
            or "random" (an N(0, 1) LSTM of any size, drawn by `oracle_seed`).
        vocabulary_size: vocabulary of a "random" oracle.
        sequence_length: length of a "random" oracle's sequences.
        num_real: number of oracle samples used as the real data.
        oracle_seed: seed of a "random" oracle.
    """

    task: str = "oracle"
    oracle: str = "paper"
    vocabulary_size: int = 5000
    sequence_length: int = 20
    num_real: int = 9984
    oracle_seed: int = 0


@dataclasses.dataclass(frozen=True)
class GeneratorConfig:
    """Generator size and its two optimizers (MLE and policy gradient)."""

    embedding_dim: int = 32
    hidden_dim: int = 32
    learning_rate: float = 0.01
    clip_norm: float = 5.0


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig:
    """Discriminator CNN and its optimizer (the paper's values)."""

    embedding_dim: int = 64
    filter_sizes: tuple = PAPER_FILTER_SIZES
    num_filters: tuple = PAPER_NUM_FILTERS
    highway_layers: int = 1
    dropout: float = 0.25
    l2_reg: float = 0.2
    learning_rate: float = 1e-4


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """The three-phase schedule, rollouts, rewards and evaluation.

    Attributes:
        batch_size: sequences per step in every phase.
        generator_epochs: MLE pretraining epochs over the real data.
        generator_shuffle: reshuffle the real data every MLE epoch (the
            authors' loader does not).
        discriminator_rounds: D pretraining rounds; each samples
            `num_negatives` fresh negatives and runs `discriminator_epochs`
            epochs over positives + negatives.
        discriminator_epochs: D epochs per round.
        num_negatives: generated sequences per D round, paired with as many
            real ones (a fresh random subset when the real data is larger).
        adversarial_rounds: adversarial rounds; each makes
            `generator_steps` policy-gradient steps, then
            `discriminator_steps` D rounds.
        generator_steps: PG steps per adversarial round.
        discriminator_steps: D rounds per adversarial round.
        num_rollouts: Monte Carlo rollouts per prefix.
        rollout_policy: "current" (the generator's own weights: what the
            authors' code really runs) or "delayed" (a copy updated as
            `rate * copy + (1 - rate) * generator` after each PG step).
        rollout_update_rate: the delayed copy's update rate.
        rollout_chunk_size: completions sampled and scored at once.
        reward: "discriminator" (P(real) of completions) or "constant"
            (every token gets `constant_reward`: the ablation).
        constant_reward: the reward of the "constant" ablation.
        pg_reduction: "sum" (the authors') or "mean" over the batch.
        eval_every: NLL-oracle every this many epochs/rounds (and at the end
            of each phase); 0 turns it off.
        eval_samples: samples per NLL-oracle (9,984 as the authors' code,
            100,000 as the paper's table).
        checkpoint_every: save a checkpoint every this many epochs/rounds.
    """

    batch_size: int = 64
    generator_epochs: int = 120
    generator_shuffle: bool = False
    discriminator_rounds: int = 50
    discriminator_epochs: int = 3
    num_negatives: int = 9984
    adversarial_rounds: int = 200
    generator_steps: int = 1
    discriminator_steps: int = 5
    num_rollouts: int = 16
    rollout_policy: str = "current"
    rollout_update_rate: float = 0.8
    rollout_chunk_size: int = 4096
    reward: str = "discriminator"
    constant_reward: float = 1.0
    pg_reduction: str = "sum"
    eval_every: int = 5
    eval_samples: int = 9984
    checkpoint_every: int = 1


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: what `seqgan-tf train` runs and saves as JSON."""

    preset: str = "paper"
    seed: int = 88
    data: DataConfig = DataConfig()
    generator: GeneratorConfig = GeneratorConfig()
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    training: TrainingConfig = TrainingConfig()

    def validate(self):
        """Raises `ConfigError` naming the first invalid field."""
        positive = {
            "data.num_real": self.data.num_real,
            "data.vocabulary_size": self.data.vocabulary_size,
            "data.sequence_length": self.data.sequence_length,
            "generator.embedding_dim": self.generator.embedding_dim,
            "generator.hidden_dim": self.generator.hidden_dim,
            "discriminator.embedding_dim": self.discriminator.embedding_dim,
            "training.batch_size": self.training.batch_size,
            "training.discriminator_epochs": self.training.discriminator_epochs,
            "training.num_negatives": self.training.num_negatives,
            "training.num_rollouts": self.training.num_rollouts,
            "training.rollout_chunk_size": self.training.rollout_chunk_size,
            "training.eval_samples": self.training.eval_samples,
            "training.checkpoint_every": self.training.checkpoint_every,
        }
        non_negative = {
            "seed": self.seed,
            "training.generator_epochs": self.training.generator_epochs,
            "training.discriminator_rounds": self.training.discriminator_rounds,
            "training.adversarial_rounds": self.training.adversarial_rounds,
            "training.generator_steps": self.training.generator_steps,
            "training.discriminator_steps": self.training.discriminator_steps,
            "training.eval_every": self.training.eval_every,
        }
        for name, value in positive.items():
            if value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}.")
        for name, value in non_negative.items():
            if value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value}.")
        for name, value in [
            ("generator.learning_rate", self.generator.learning_rate),
            ("discriminator.learning_rate", self.discriminator.learning_rate),
        ]:
            if not value > 0:
                raise ConfigError(f"{name} must be > 0, got {value}.")
        choices = {
            "data.task": (self.data.task, ("oracle",)),
            "data.oracle": (self.data.oracle, ("paper", "random")),
            "training.rollout_policy": (
                self.training.rollout_policy,
                ("current", "delayed"),
            ),
            "training.reward": (
                self.training.reward,
                ("discriminator", "constant"),
            ),
            "training.pg_reduction": (
                self.training.pg_reduction,
                ("sum", "mean"),
            ),
        }
        for name, (value, allowed) in choices.items():
            if value not in allowed:
                raise ConfigError(
                    f"{name} must be one of {', '.join(allowed)}; got {value!r}."
                )
        if not 0.0 <= self.training.rollout_update_rate <= 1.0:
            raise ConfigError(
                "training.rollout_update_rate must be in [0, 1], got "
                f"{self.training.rollout_update_rate}."
            )
        if not 0.0 <= self.discriminator.dropout < 1.0:
            raise ConfigError(
                f"discriminator.dropout must be in [0, 1), got "
                f"{self.discriminator.dropout}."
            )
        sizes, counts = (
            self.discriminator.filter_sizes,
            self.discriminator.num_filters,
        )
        if len(sizes) != len(counts) or not sizes:
            raise ConfigError(
                "discriminator.filter_sizes and discriminator.num_filters must be "
                f"non-empty and of equal length; got {len(sizes)} and {len(counts)}."
            )
        length = self.sequence_length
        if max(sizes) > length or min(sizes) < 1 or min(counts) < 1:
            raise ConfigError(
                f"discriminator.filter_sizes must lie in [1, {length}] (the "
                f"sequence length) with positive num_filters; got {sizes}, {counts}."
            )
        return self

    @property
    def vocabulary_size(self):
        return (
            5000 if self.data.oracle == "paper" else self.data.vocabulary_size
        )

    @property
    def sequence_length(self):
        return 20 if self.data.oracle == "paper" else self.data.sequence_length

    def to_dict(self):
        return dataclasses.asdict(self)

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values):
        try:
            return _build(cls, values, prefix="")
        except (TypeError, KeyError) as error:
            raise ConfigError(f"Invalid configuration: {error}") from None


def _build(cls, values, prefix):
    if not isinstance(values, dict):
        raise ConfigError(
            f"{prefix or 'config'} must be a mapping, got {values!r}."
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in values.items():
        if name not in hints:
            raise ConfigError(f"Unknown configuration field '{prefix}{name}'.")
        field_type = hints[name]
        if dataclasses.is_dataclass(field_type):
            value = _build(field_type, value, prefix=f"{prefix}{name}.")
        elif field_type is tuple:
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def _parse_value(field_type, text, name):
    try:
        if field_type is bool:
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if field_type is int:
            return int(text)
        if field_type is float:
            return float(text)
        if field_type is tuple:
            return tuple(int(part) for part in text.split(",") if part.strip())
        return str(text)
    except ValueError:
        raise ConfigError(
            f"{name} expects {field_type.__name__}, got {text!r}."
        ) from None


def with_overrides(config, assignments):
    """Applies `section.field=value` strings (the CLI's `--set`) to `config`."""
    for assignment in assignments:
        if "=" not in assignment:
            raise ConfigError(
                f"--set expects section.field=value, got {assignment!r}."
            )
        name, text = assignment.split("=", 1)
        path = name.strip().split(".")
        target = config
        for part in path[:-1]:
            if not dataclasses.is_dataclass(target) or not hasattr(
                target, part
            ):
                raise ConfigError(f"Unknown configuration field {name!r}.")
            target = getattr(target, part)
        hints = (
            typing.get_type_hints(type(target))
            if dataclasses.is_dataclass(target)
            else {}
        )
        field = path[-1]
        if field not in hints or dataclasses.is_dataclass(hints[field]):
            known = ", ".join(sorted(hints)) or "none"
            raise ConfigError(
                f"Unknown configuration field {name!r} (fields here: {known})."
            )
        value = _parse_value(hints[field], text, name)
        config = _replace_path(config, path, value)
    return config


def _replace_path(config, path, value):
    if len(path) == 1:
        return dataclasses.replace(config, **{path[0]: value})
    child = getattr(config, path[0])
    return dataclasses.replace(
        config, **{path[0]: _replace_path(child, path[1:], value)}
    )


PRESETS = {
    # The SeqGAN authors' code, exactly (see DESIGN.md).
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


def get_preset(name):
    """The preset called `name`; a `ConfigError` lists the known ones."""
    if name not in PRESETS:
        raise ConfigError(
            f"Unknown preset {name!r}; choose one of: {', '.join(sorted(PRESETS))}."
        )
    return PRESETS[name]
