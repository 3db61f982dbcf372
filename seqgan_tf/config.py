"""Experiment configuration: frozen dataclasses and the named presets.

`paper` is the SeqGAN authors' exact schedule; `quick` is a ~10 minute run.
"""

import dataclasses
import math
import typing

from seqgan_tf import methods
from seqgan_tf import paper


class ConfigError(ValueError):
    """A configuration value is invalid; the message names it and the fix."""


TASKS = ("oracle", "text")
TOKENIZERS = ("whitespace", "word", "character", "tagged")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The data to imitate.

    Attributes:
        task: "oracle" (the paper's synthetic experiment) or "text" (real
            sequences from `dataset`: variable length, EOS then PAD).
        oracle: "paper" (the authors' parameters: vocabulary 5000, length 20)
            or "random" (an N(0, 1) LSTM of any size, drawn by `oracle_seed`).
        vocabulary_size: vocabulary of a "random" oracle.
        sequence_length: length of a "random" oracle's sequences; for
            "text", T, the padded length (EOS counted), or 0 for the longest
            training sequence plus EOS.
        num_real: number of oracle samples used as the real data.
        oracle_seed: seed of a "random" oracle.
        dataset: for "text": a dataset of this package ("coco",
            "chinese_quatrains", "folk_tunes", optionally "/small"), a text
            file (one sequence a line), or "tfds:NAME" (a TFDS dataset
            already prepared on this machine).
        test_dataset: a text file of held-out sequences; "" takes the
            dataset's test split, or holds out `test_fraction` of a file.
        text_key: the text feature of a "tfds:" dataset.
        train_split, test_split: the splits of a TFDS dataset ("" for a
            dataset with no test split: `test_fraction` is held out).
        test_fraction: the share of a file (or of a TFDS dataset without a
            test split) held out, evenly spread and fixed: sequence i is
            held out when floor((i + 1) * f) > floor(i * f).
        tokenizer: "whitespace", "word" (nltk Treebank), "character" or
            "tagged".
        lowercase: lowercase words ("word" tokenizer).
        tag_mode: "words", "tags" or "pairs" ("tagged" tokenizer).
        min_frequency: training-set count a token needs to enter the
            vocabulary (rarer tokens become UNK).
        max_vocabulary: the most ids, the four special ones counted; 0
            for no limit.
        max_sequences: use only the first this many training sequences; 0
            for all.
        overflow: a sequence longer than `sequence_length` (EOS counted) is
            "drop"ped or "truncate"d (kept as its first T-1 tokens + EOS).
        add_eos: end every sequence with EOS, pad with PAD and train the
            models to stop (variable length). False: fixed-length data
            (every sequence exactly T tokens; shorter ones are dropped).
        padding: what fills a row after its EOS: "pad" (PAD, masked out:
            the models see variable-length sequences) or "eos" (EOS
            repeated up to T: the rows are fixed length, nothing is masked
            and the models learn the run of EOS as tokens, the convention of
            Texygen's and LeakGAN's code; text is still cut at the first
            EOS). "eos" needs `add_eos`.
    """

    task: str = "oracle"
    oracle: str = "paper"
    vocabulary_size: int = paper.VOCABULARY_SIZE
    sequence_length: int = paper.SEQUENCE_LENGTH
    num_real: int = paper.NUM_REAL
    oracle_seed: int = 0
    dataset: str = ""
    test_dataset: str = ""
    text_key: str = "text"
    train_split: str = "train"
    test_split: str = "test"
    test_fraction: float = 0.1
    tokenizer: str = "whitespace"
    lowercase: bool = False
    tag_mode: str = "words"
    min_frequency: int = 1
    max_vocabulary: int = 0
    max_sequences: int = 0
    overflow: str = "drop"
    add_eos: bool = True
    padding: str = "pad"


@dataclasses.dataclass(frozen=True)
class GeneratorConfig:
    """Generator size and its two optimizers (MLE and policy gradient).

    `kind` is "lstm" (SeqGAN's) or "leakgan" (LeakGAN's Manager and
    Worker reading the discriminator's features; `goal_size` is the
    Worker's goal embedding k, `goal_step` the Manager's horizon c)."""

    embedding_dim: int = 32
    hidden_dim: int = 32
    learning_rate: float = 0.01
    clip_norm: float = 5.0
    kind: str = "lstm"
    goal_size: int = 16
    goal_step: int = 4


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig:
    """Discriminator CNN and its optimizer (the paper's values).

    `kind` is "classifier" (SeqGAN's: real vs generated) or "ranker"
    (RankGAN's: the same CNN's features ranked by cosine relevance to
    real references, `gamma` the rank softmax's inverse temperature)."""

    embedding_dim: int = 64
    filter_sizes: tuple = paper.FILTER_SIZES
    num_filters: tuple = paper.NUM_FILTERS
    highway_layers: int = 1
    dropout: float = 0.25
    l2_reg: float = 0.2
    learning_rate: float = 1e-4
    kind: str = "classifier"
    gamma: float = 1.0


MIXED_PRECISION_POLICIES = (
    "auto",
    "",
    "float32",
    "mixed_bfloat16",
    "mixed_float16",
)
STRATEGIES = ("default", "mirrored", "multiworker", "tpu")
LEAKGAN_RESCALES = ("sorted", "unsorted", "none")
REWARD_BASELINES = ("none", "batch_mean")


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
        method: the registered method (`seqgan_tf.methods`) that set the
            config up (`for_method`): "seqgan" (the adversarial phases as
            configured), "mle", "pg_bleu", "maligan", ...
        reward: a registered reward (`methods.rewards()`): its critic
            scores the generator's sequences. "discriminator" (P(real) of
            completions), "constant" (every token gets
            `constant_reward`: the ablation), "bleu" (BLEU-3 against a
            `bleu_reference_fraction` share of the real data: PG-BLEU),
            "importance" (MaliGAN's weights of D's verdicts) or "rank"
            (RankGAN's ranker).
        objective: "" (the one the reward's critic names) or the
            generator's update: "rollout", "importance" or "leakgan"
            (`seqgan_tf.objectives`).
        generator_real: the real data of MLE pretraining: "fixed" (the
            real data every epoch, as the authors) or "fresh" (as many new
            oracle sequences every epoch, never the same twice; oracle
            task only).
        constant_reward: the reward of the "constant" ablation.
        reward_baseline: "none" (the authors') or "batch_mean": every
            reward minus the mean reward of the batch at its position, so
            the update keeps what the reward says of one sample against
            another and loses the common push towards the generator's own
            samples (`seqgan_tf.rewards.batch_mean_baseline`).
        adversarial_real: the real half of the adversarial phase's D rounds:
            "fixed" (the real data, as the authors) or "fresh" (new oracle
            samples every round, as many as the negatives, so the
            discriminator cannot memorise a fixed real set; oracle task
            only).
        pg_reduction: "sum" (the authors') or "mean" over the batch.
        scheduled_sampling_decrement: 0 (teacher forcing), or how much the
            probability of feeding the true token falls before each MLE
            epoch, from 1.0 (the authors': 0.002).
        bleu_reference_fraction: the share of the real data that is the
            BLEU reward's references (the authors': 0.4).
        rank_references: RankGAN's reference set: real sequences drawn
            (with replacement) for every ranker step and every
            policy-gradient step (the released code's 16).
        leakgan_rescale: LeakGAN's bootstrapped rescaled activation of
            the rewards: "sorted" (each reward replaced by
            sigmoid(delta * (0.5 - rank / B)) of its rank by value in the
            batch, as the paper defines it), "unsorted" (the released
            code's: ranks in order of first appearance, whatever the
            value) or "none" (the raw P(real)).
        interleaved_mle_steps: MLE steps on real batches after each
            adversarial round (LeakGAN's interleaved training; the
            `leakgan` method sets 1).
        mali_continuations: 0 (MaliGAN's basic algorithm) or n > 1: its
            mixed MLE-Mali training, n continuations of each of
            batch_size / n real prefixes, weights normalised per group.
        mali_prefix_decrement: K: the real prefix of mixed MaliGAN is
            max(0, T - K (r + 1)) tokens in adversarial round r (0: none).
        eval_every: NLL-oracle every this many epochs/rounds (and at the end
            of each phase); 0 turns it off.
        eval_samples: samples per NLL-oracle (9,984 as the authors' code,
            100,000 as the paper's table).
        checkpoint_every: save a checkpoint every this many epochs/rounds.
        probe_samples: 0 (off) or how many sequences of each kind probe the
            discriminator after every epoch with D rounds (oracle task):
            its mean P(real) of its training real sequences, of fresh
            oracle and of fresh generated sequences, its held-out accuracy
            and the Spearman correlation of its verdict with the oracle's
            log-likelihood (`seqgan_tf.metrics.discriminator_probe`).
        mixed_precision: "" or "float32" (default), "auto" (the
            discriminator in bfloat16 where the machine computes it
            natively, AMX or AVX512-BF16 CPUs and accelerators, else
            float32; the generator float32; see
            `seqgan_tf.hardware.resolve_precision`), "mixed_bfloat16" or
            "mixed_float16": the
            `keras.mixed_precision` policy the models are built under
            (logits, losses and rewards stay float32; float16 adds loss
            scaling).
        strategy: the `tf.distribute` strategy: "default" (one device),
            "mirrored" (the devices of one host), "multiworker" (hosts
            described by TF_CONFIG) or "tpu"; see `seqgan_tf.distribute`.
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
    method: str = "seqgan"
    reward: str = "discriminator"
    objective: str = ""
    generator_real: str = "fixed"
    constant_reward: float = 1.0
    reward_baseline: str = "none"
    adversarial_real: str = "fixed"
    pg_reduction: str = "sum"
    scheduled_sampling_decrement: float = 0.0
    bleu_reference_fraction: float = 0.4
    rank_references: int = 16
    leakgan_rescale: str = "sorted"
    interleaved_mle_steps: int = 0
    mali_continuations: int = 0
    mali_prefix_decrement: int = 0
    eval_every: int = 5
    eval_samples: int = 9984
    checkpoint_every: int = 1
    probe_samples: int = 0
    mixed_precision: str = ""
    strategy: str = "default"


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
        _check_field_types(self)
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
            "training.rank_references": self.training.rank_references,
            "generator.goal_size": self.generator.goal_size,
            "generator.goal_step": self.generator.goal_step,
        }
        non_negative = {
            "seed": self.seed,
            "training.generator_epochs": self.training.generator_epochs,
            "training.interleaved_mle_steps": (
                self.training.interleaved_mle_steps
            ),
            "training.discriminator_rounds": self.training.discriminator_rounds,
            "training.adversarial_rounds": self.training.adversarial_rounds,
            "training.generator_steps": self.training.generator_steps,
            "training.discriminator_steps": self.training.discriminator_steps,
            "training.eval_every": self.training.eval_every,
            "training.probe_samples": self.training.probe_samples,
        }
        if self.data.task == "text":
            # The oracle's size fields do not apply; T may be 0 (auto).
            for name in ("data.num_real", "data.vocabulary_size"):
                positive.pop(name)
            positive.pop("data.sequence_length")
            non_negative["data.sequence_length"] = self.data.sequence_length
            non_negative["data.max_vocabulary"] = self.data.max_vocabulary
            non_negative["data.max_sequences"] = self.data.max_sequences
            positive["data.min_frequency"] = self.data.min_frequency
            if not self.data.dataset.strip():
                raise ConfigError(
                    "data.dataset is empty; the text task needs a dataset "
                    "(coco, chinese_quatrains, folk_tunes, a file, or "
                    "tfds:NAME): seqgan-tf train --dataset NAME."
                )
            if methods.reward_needs_oracle(self.training.reward):
                raise ConfigError(
                    f"training.reward={self.training.reward} reads the "
                    "oracle's likelihood; a text task has no oracle."
                )
            if self.training.generator_real == "fresh":
                raise ConfigError(
                    "training.generator_real=fresh needs the oracle task "
                    "(fresh real sequences come from the oracle)."
                )
            if self.training.adversarial_real == "fresh":
                raise ConfigError(
                    "training.adversarial_real=fresh needs the oracle task "
                    "(fresh real sequences come from the oracle); a text "
                    "task has only its fixed real data."
                )
            if not 0.0 <= self.data.test_fraction < 1.0:
                raise ConfigError(
                    "data.test_fraction must be in [0, 1), got "
                    f"{self.data.test_fraction}."
                )
            if 0 < self.data.max_vocabulary <= 4:
                raise ConfigError(
                    "data.max_vocabulary counts the 4 special tokens; it must "
                    f"be 0 (no limit) or > 4, got {self.data.max_vocabulary}."
                )
        for name, value in positive.items():
            if value < 1:
                raise ConfigError(f"{name} must be >= 1, got {value}.")
        self._check_family()
        for name, value in non_negative.items():
            if value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value}.")
        for name, value in [
            ("generator.learning_rate", self.generator.learning_rate),
            ("discriminator.learning_rate", self.discriminator.learning_rate),
        ]:
            if not value > 0:
                raise ConfigError(f"{name} must be > 0, got {value}.")
        for name, value in [
            ("seed", self.seed),
            ("data.oracle_seed", self.data.oracle_seed),
        ]:
            if not 0 <= value < 2**31:
                raise ConfigError(
                    f"{name} must be in [0, 2**31) (TensorFlow's int32 "
                    f"seeds), got {value}."
                )
        if (
            self.data.task != "text"
            and self.training.batch_size > self.data.num_real
        ):
            raise ConfigError(
                f"training.batch_size ({self.training.batch_size}) is larger "
                f"than the real data (data.num_real = {self.data.num_real}); "
                "lower the batch size or sample more real data."
            )
        if not self.generator.clip_norm > 0:
            raise ConfigError(
                "generator.clip_norm (the global gradient norm clip) must be "
                f"> 0, got {self.generator.clip_norm}."
            )
        if self.discriminator.l2_reg < 0:
            raise ConfigError(
                "discriminator.l2_reg must be >= 0, got "
                f"{self.discriminator.l2_reg}."
            )
        choices = {
            "data.task": (self.data.task, TASKS),
            "data.oracle": (self.data.oracle, ("paper", "random")),
            "data.tokenizer": (self.data.tokenizer, TOKENIZERS),
            "data.tag_mode": (self.data.tag_mode, ("words", "tags", "pairs")),
            "data.overflow": (self.data.overflow, ("drop", "truncate")),
            "data.padding": (self.data.padding, ("pad", "eos")),
            "training.rollout_policy": (
                self.training.rollout_policy,
                ("current", "delayed"),
            ),
            "training.method": (self.training.method, methods.names()),
            "training.leakgan_rescale": (
                self.training.leakgan_rescale,
                LEAKGAN_RESCALES,
            ),
            "generator.kind": (self.generator.kind, ("lstm", "leakgan")),
            "discriminator.kind": (
                self.discriminator.kind,
                ("classifier", "ranker"),
            ),
            "training.reward": (self.training.reward, methods.rewards()),
            "training.objective": (
                self.training.objective,
                ("", "rollout", "importance", "leakgan"),
            ),
            "training.generator_real": (
                self.training.generator_real,
                ("fixed", "fresh"),
            ),
            "training.pg_reduction": (
                self.training.pg_reduction,
                ("sum", "mean"),
            ),
            "training.reward_baseline": (
                self.training.reward_baseline,
                REWARD_BASELINES,
            ),
            "training.adversarial_real": (
                self.training.adversarial_real,
                ("fixed", "fresh"),
            ),
            "training.strategy": (self.training.strategy, STRATEGIES),
        }
        if self.data.padding == "eos" and not self.data.add_eos:
            raise ConfigError(
                "data.padding=eos fills each row after its EOS; it needs "
                "data.add_eos=true."
            )
        for name, (value, allowed) in choices.items():
            if value not in allowed:
                raise ConfigError(
                    f"{name} must be one of {', '.join(allowed)}; "
                    f"got {value!r}."
                )
        if self.training.mixed_precision not in MIXED_PRECISION_POLICIES:
            raise ConfigError(
                "training.mixed_precision must be 'auto', 'float32' (or "
                "''), 'mixed_bfloat16' or 'mixed_float16'; got "
                f"{self.training.mixed_precision!r}."
            )
        if not 0.0 <= self.training.scheduled_sampling_decrement <= 1.0:
            raise ConfigError(
                "training.scheduled_sampling_decrement must be in [0, 1], "
                f"got {self.training.scheduled_sampling_decrement}."
            )
        if not 0.0 < self.training.bleu_reference_fraction <= 1.0:
            raise ConfigError(
                "training.bleu_reference_fraction must be in (0, 1], got "
                f"{self.training.bleu_reference_fraction}."
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
                "discriminator.filter_sizes and discriminator.num_filters "
                "must be non-empty and of equal length; got "
                f"{len(sizes)} and {len(counts)}."
            )
        length = self.sequence_length
        if not length:  # "text" with T from the data: checked once known.
            length = max(sizes)
        if max(sizes) > length or min(sizes) < 1 or min(counts) < 1:
            raise ConfigError(
                f"discriminator.filter_sizes must lie in [1, {length}] (the "
                "sequence length) with positive num_filters; got "
                f"{sizes}, {counts}."
            )
        return self

    def _check_family(self):
        """The reward, discriminator and generator kinds must agree."""
        t = self.training
        ranker = self.discriminator.kind == "ranker"
        if ranker != (t.reward == "rank"):
            raise ConfigError(
                "training.reward=rank and discriminator.kind=ranker go "
                f"together (RankGAN); got reward={t.reward!r} with "
                f"discriminator.kind={self.discriminator.kind!r}."
            )
        if not self.discriminator.gamma > 0:
            raise ConfigError(
                "discriminator.gamma must be > 0, got "
                f"{self.discriminator.gamma}."
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
        if t.interleaved_mle_steps and self.generator.kind != "leakgan":
            raise ConfigError(
                "training.interleaved_mle_steps is LeakGAN's "
                "(generator.kind=leakgan)."
            )
        if self.generator.kind == "leakgan":
            if self.variable_length:
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

    @property
    def is_text(self):
        return self.data.task == "text"

    @property
    def variable_length(self):
        """True when the models mask what follows each sequence's EOS (a
        text task with `data.add_eos` and `data.padding="pad"`)."""
        return self.is_text and self.data.add_eos and self.data.padding == "pad"

    @property
    def vocabulary_size(self):
        """The oracle task's vocabulary size; None for "text" (the
        vocabulary is built from the data and saved with the run)."""
        if self.is_text:
            return None
        if self.data.oracle == "paper":
            return paper.VOCABULARY_SIZE
        return self.data.vocabulary_size

    @property
    def sequence_length(self):
        if self.is_text:
            return self.data.sequence_length
        if self.data.oracle == "paper":
            return paper.SEQUENCE_LENGTH
        return self.data.sequence_length

    def tokenizer_options(self):
        """`get_tokenizer` keyword arguments of `data.tokenizer`."""
        if self.data.tokenizer == "word":
            return {"lowercase": self.data.lowercase}
        if self.data.tokenizer == "tagged":
            return {"mode": self.data.tag_mode}
        return {}

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        try:
            return _build(cls, values, prefix="")
        except (TypeError, KeyError) as error:
            raise ConfigError(f"Invalid configuration: {error}") from None


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


def flatten(values, prefix=""):
    """A nested dict (e.g. `ExperimentConfig.to_dict()`) as one level of
    "section.field" keys; tuples become lists, as in the saved JSON."""
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = (
                list(value) if isinstance(value, tuple) else value
            )
    return flat


def _build(cls, values, prefix):
    if not isinstance(values, dict):
        raise ConfigError(
            f"{prefix.rstrip('.') or 'config'} must be a mapping, got "
            f"{values!r}."
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


def for_dataset(config, dataset):
    """`config` with its data section set to train on `dataset`.

    `dataset` is a dataset of this package (optionally "NAME/CONFIG"), a
    text file, or "tfds:NAME". A package dataset gets its tokenizer and
    sequence length from `DATASET_DEFAULTS`; a file or TFDS dataset the
    whitespace tokenizer and T = its longest sequence + EOS. Training,
    model and seed settings are kept: `--preset quick --dataset coco`.
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


def for_method(config, method):
    """`config` set up to train the generator by `method`, a method of the
    registry `seqgan_tf.methods` (`methods.names()`): its settings, its
    ancestors' first, e.g. "mle" (no D, no adversarial rounds), "pg_bleu"
    (BLEU-3 rewards, 1 rollout, no discriminator), "maligan" (importance
    weights, no rollouts), "rankgan" (the ranker), "leakgan" (the
    hierarchical generator). `training.method` records the method (or,
    for a variant the command line does not offer, its nearest ancestor
    that it does).

    The schedule's lengths are kept: set them for the comparison at hand.
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


def get_preset(name):
    """The preset called `name`; a `ConfigError` lists the known ones."""
    if name not in PRESETS:
        raise ConfigError(
            f"Unknown preset {name!r}; choose one of: "
            f"{', '.join(sorted(PRESETS))}."
        )
    return PRESETS[name]
