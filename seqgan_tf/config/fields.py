"""The configuration's fields: frozen dataclasses, one a section.

`DataConfig` (what to imitate), `GeneratorConfig`, `DiscriminatorConfig`,
`TrainingConfig` (the schedule, rollouts, rewards and evaluation) and
`ExperimentConfig`, the whole experiment: what `seqgan-tf train` runs and
saves as JSON (`to_dict`, `from_dict`). Its `validate` is
`seqgan_tf.config.validation.validate`.
"""

import dataclasses
import typing

from seqgan_tf import paper
from seqgan_tf.config import validation
from seqgan_tf.config.validation import ConfigError


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

    Examples:
        >>> from seqgan_tf.config import DataConfig
        >>> data = DataConfig(oracle="random", vocabulary_size=20,
        ...                   sequence_length=6, num_real=256)
        >>> data.task, data.oracle_seed
        ('oracle', 0)
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
    Worker's goal embedding k, `goal_step` the Manager's horizon c).

    Examples:
        >>> from seqgan_tf.config import GeneratorConfig
        >>> GeneratorConfig(hidden_dim=64).learning_rate
        0.01
    """

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
    real references, `gamma` the rank softmax's inverse temperature).

    Examples:
        >>> from seqgan_tf.config import DiscriminatorConfig
        >>> small = DiscriminatorConfig(filter_sizes=(2, 3), num_filters=(8, 8))
        >>> small.kind, small.dropout
        ('classifier', 0.25)
    """

    embedding_dim: int = 64
    filter_sizes: tuple = paper.FILTER_SIZES
    num_filters: tuple = paper.NUM_FILTERS
    highway_layers: int = 1
    dropout: float = 0.25
    l2_reg: float = 0.2
    learning_rate: float = 1e-4
    kind: str = "classifier"
    gamma: float = 1.0


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
        leakgan_goals: which of the Manager's goals make the goal
            embedding w_j of LeakGAN's token j: "current" (g_{j-c+1} ..
            g_j, the goals its intrinsic reward scores) or "previous"
            (g_{j-c} .. g_{j-1}, the window of the runs made before it was
            corrected); `LeakGANGenerator`'s `goals`.
        leakgan_clip: how LeakGAN's steps clip the generator's gradient:
            "per_module" (the Worker's and the Manager's each clipped to
            generator.clip_norm, as the released code) or "joint" (one
            clip of both, as the runs made before it was corrected).
            A saved LeakGAN config.json without these two fields was
            trained with "previous" and "joint", and reads back so
            (`ExperimentConfig.from_dict`).
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

    Examples:
        >>> from seqgan_tf.config import TrainingConfig
        >>> paper = TrainingConfig()  # the authors' schedule
        >>> paper.generator_epochs, paper.discriminator_rounds
        (120, 50)
        >>> paper.adversarial_rounds, paper.num_rollouts
        (200, 16)
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
    leakgan_goals: str = "current"
    leakgan_clip: str = "per_module"
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
    """A whole experiment: what `seqgan-tf train` runs and saves as JSON.

    Attributes:
        preset: the name of the preset it started from.
        seed: the root of all randomness (initial weights, data, steps).
        data: what to imitate.
        generator: the generator and its optimizers.
        discriminator: the discriminator and its optimizer.
        training: the schedule, rollouts, rewards and evaluation.

    Examples:
        >>> import seqgan_tf
        >>> config = seqgan_tf.get_preset("quick")
        >>> config.training.generator_epochs, config.sequence_length
        (20, 20)
        >>> config = seqgan_tf.config.with_overrides(config, ["seed=1"])
        >>> seqgan_tf.ExperimentConfig.from_dict(config.to_dict()) == config
        True
    """

    preset: str = "paper"
    seed: int = 88
    data: DataConfig = DataConfig()
    generator: GeneratorConfig = GeneratorConfig()
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    training: TrainingConfig = TrainingConfig()

    def validate(self) -> "ExperimentConfig":
        """Raises `ConfigError` naming the first invalid field; returns
        the config."""
        return validation.validate(self)

    @property
    def is_text(self) -> bool:
        """True for a text task (`data.task` "text")."""
        return self.data.task == "text"

    @property
    def variable_length(self) -> bool:
        """True when the models mask what follows each sequence's EOS (a
        text task with `data.add_eos` and `data.padding="pad"`)."""
        return self.is_text and self.data.add_eos and self.data.padding == "pad"

    @property
    def vocabulary_size(self) -> int | None:
        """The oracle task's vocabulary size; None for "text" (the
        vocabulary is built from the data and saved with the run)."""
        if self.is_text:
            return None
        if self.data.oracle == "paper":
            return paper.VOCABULARY_SIZE
        return self.data.vocabulary_size

    @property
    def sequence_length(self) -> int:
        """T, the length of the models' sequences (for a text task, 0
        until the data sets it)."""
        if self.is_text:
            return self.data.sequence_length
        if self.data.oracle == "paper":
            return paper.SEQUENCE_LENGTH
        return self.data.sequence_length

    def tokenizer_options(self) -> dict[str, typing.Any]:
        """`get_tokenizer` keyword arguments of `data.tokenizer`."""
        if self.data.tokenizer == "word":
            return {"lowercase": self.data.lowercase}
        if self.data.tokenizer == "tagged":
            return {"mode": self.data.tag_mode}
        return {}

    def to_dict(self) -> dict[str, typing.Any]:
        """The config as nested dicts (what config.json holds)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(
        cls, values: typing.Mapping[str, typing.Any]
    ) -> "ExperimentConfig":
        """The config of `values` (as `to_dict` writes it; a `ConfigError`
        names an unknown field). A field it lacks takes its default, except
        in a LeakGAN config saved before `training.leakgan_goals` and
        `training.leakgan_clip` existed: it was trained with "previous" and
        "joint" (`LEAKGAN_LEGACY`), and reads back so."""
        try:
            config = _build(cls, values, prefix="")
        except (TypeError, KeyError) as error:
            raise ConfigError(f"Invalid configuration: {error}") from None
        return _with_leakgan_legacy(config, values)


# Training fields whose default changed what a LeakGAN run trains when they
# were added: a saved LeakGAN config without them was trained with these.
LEAKGAN_LEGACY = {"leakgan_goals": "previous", "leakgan_clip": "joint"}


def _with_leakgan_legacy(config, values):
    if config.generator.kind != "leakgan":
        return config
    training = values.get("training", {})
    if not isinstance(training, dict):
        return config
    missing = {
        name: value
        for name, value in LEAKGAN_LEGACY.items()
        if name not in training
    }
    if not missing:
        return config
    return dataclasses.replace(
        config, training=dataclasses.replace(config.training, **missing)
    )


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
