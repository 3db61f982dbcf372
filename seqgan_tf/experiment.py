"""Experiments from an `ExperimentConfig`: build the oracle, the models and
the trainer, train into a run directory (resuming it), restore a run.

This is the library API under the `seqgan-tf` command line:

```python
config = seqgan_tf.get_preset("tiny")
summary = seqgan_tf.experiment.train(config, "runs/tiny")
run = seqgan_tf.experiment.restore_run("runs/tiny")
run.gan.generator.generate(10)
```
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import shutil
import time
from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from seqgan_tf import callbacks as callbacks_lib
from seqgan_tf import distribute
from seqgan_tf import evaluation
from seqgan_tf import hardware
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf import seeds
from seqgan_tf.data import EOS_ID
from seqgan_tf.data import PAD_ID
from seqgan_tf.data import get_tokenizer
from seqgan_tf.datasets.text_data import TextDataError
from seqgan_tf.datasets.text_data import load_for_config
from seqgan_tf.leakgan import LeakGAN
from seqgan_tf.models.discriminator import Discriminator
from seqgan_tf.models.generator import Generator
from seqgan_tf.models.leakgan import LeakGANGenerator
from seqgan_tf.models.oracle import OracleLSTM
from seqgan_tf.models.ranker import Ranker
from seqgan_tf.optimizers import FusedAdam
from seqgan_tf.runs import RunError
from seqgan_tf.trainer import SeqGAN

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from collections.abc import Sequence
    from typing import Any

    from numpy.typing import ArrayLike

    from seqgan_tf.config import ExperimentConfig
    from seqgan_tf.data import Vocabulary
    from seqgan_tf.datasets.text_data import TextData

# Samples written per sample file (at most `training.eval_samples`).
SAMPLE_FILE_SIZE = 1000


@dataclasses.dataclass
class RestoredRun:
    """A run directory's trainer restored from a checkpoint.

    Attributes:
        run_dir: the run directory.
        config: its `ExperimentConfig`.
        gan: the compiled `SeqGAN` with the checkpoint's weights (and the
            oracle of an oracle run).
        epoch: the number of epochs the checkpoint completed.
        vocabulary: the run's `Vocabulary` (text runs), else None.

    Examples:
        `restore_run` returns one (see `train`'s example); by hand:

        >>> import pathlib
        >>> import seqgan_tf
        >>> from seqgan_tf import experiment
        >>> config = seqgan_tf.get_preset("tiny")
        >>> gan = experiment.build_gan(config, experiment.build_oracle(config))
        >>> run = experiment.RestoredRun(
        ...     pathlib.Path("runs/tiny"), config, gan, epoch=0)
        >>> run.decode([[3, 4, 5]])  # an oracle run's lines: the ids
        ['3 4 5']
    """

    run_dir: pathlib.Path
    config: ExperimentConfig
    gan: SeqGAN
    epoch: int
    vocabulary: Vocabulary | None = None

    def decode(self, token_ids: ArrayLike) -> list[str]:
        """Sequences as lines: text (text runs) or space-separated ids (oracle
        runs)."""
        if self.vocabulary is None:
            return [" ".join(str(int(t)) for t in row) for row in token_ids]
        tokenizer = get_tokenizer(
            self.config.data.tokenizer, **self.config.tokenizer_options()
        )
        return [
            tokenizer.detokenize(self.vocabulary.decode(row))
            for row in token_ids
        ]

    def load_pretrained(self) -> None:
        """Loads the MLE-pretrained generator saved by the run into
        `gan.generator` (it replaces the checkpoint's generator)."""
        path = self.run_dir / runs.PRETRAINED_WEIGHTS
        if not path.exists():
            raise RunError(
                f"{self.run_dir} has no {runs.PRETRAINED_WEIGHTS}: MLE "
                "pretraining has not finished in this run."
            )
        self.gan.generator.load_weights(str(path))


def trainer_arguments(config: ExperimentConfig) -> dict[str, Any]:
    """The `SeqGAN` keyword arguments of `config.training` (and its seed).

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import experiment
        >>> tiny = seqgan_tf.get_preset("tiny")
        >>> arguments = experiment.trainer_arguments(tiny)
        >>> arguments["batch_size"], arguments["num_rollouts"]
        (32, 4)
    """
    t = config.training
    return {
        "batch_size": t.batch_size,
        "num_negatives": t.num_negatives,
        "discriminator_epochs": t.discriminator_epochs,
        "generator_steps": t.generator_steps,
        "discriminator_steps": t.discriminator_steps,
        "num_rollouts": t.num_rollouts,
        "rollout_policy": t.rollout_policy,
        "rollout_update_rate": t.rollout_update_rate,
        "rollout_chunk_size": t.rollout_chunk_size,
        "reward": t.reward,
        "objective": t.objective or None,
        "generator_real": t.generator_real,
        "constant_reward": t.constant_reward,
        "reward_baseline": t.reward_baseline,
        "adversarial_real": t.adversarial_real,
        "pg_reduction": t.pg_reduction,
        "generator_shuffle": t.generator_shuffle,
        "scheduled_sampling_decrement": t.scheduled_sampling_decrement,
        "bleu_reference_fraction": t.bleu_reference_fraction,
        "rank_references": t.rank_references,
        "mali_continuations": t.mali_continuations,
        "mali_prefix_decrement": t.mali_prefix_decrement,
        "eval_every": t.eval_every,
        "eval_samples": t.eval_samples,
        "probe_samples": t.probe_samples,
        "seed": config.seed,
    }


def build_oracle(config: ExperimentConfig) -> OracleLSTM:
    """The oracle of an oracle-task config: the authors' ("paper") or a
    seeded random one, in float32. The caller's global random generators
    are left as they were.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import experiment
        >>> oracle = experiment.build_oracle(seqgan_tf.get_preset("tiny"))
        >>> oracle.vocabulary_size, oracle.sequence_length
        (26, 12)
    """
    with seeds.global_random_state():
        if config.data.oracle == "paper":
            return OracleLSTM.from_paper(dtype="float32")
        return OracleLSTM.random(
            config.data.vocabulary_size,
            config.data.sequence_length,
            embedding_dim=config.generator.embedding_dim,
            hidden_dim=config.generator.hidden_dim,
            seed=config.data.oracle_seed,
            dtype="float32",
        )


def build_gan(
    config: ExperimentConfig,
    oracle: OracleLSTM | None = None,
    vocabulary_size: int | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> SeqGAN:
    """The compiled `SeqGAN` of `config`. A text task needs
    `vocabulary_size` (its vocabulary comes from the data) and trains
    variable-length models: EOS ends a sequence, PAD (0) fills the rest.

    Each model gets its dtype policy of `config.training.mixed_precision`
    (`precision_policies`) as its own `dtype`, and, with a `strategy`, is
    built inside its scope, so that every step runs on it. The initial
    weights are those of `config.seed` whatever the caller's global
    random state, and building leaves global state as it was: Keras'
    global dtype policy is never set, and the global generators the build
    draws from (Python's `random`, which seeds Keras' initializers and
    dropout layers, and NumPy's) are seeded with `config.seed` only while
    the models are built, then restored (`seeds.global_random_state`).

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import experiment
        >>> config = seqgan_tf.get_preset("tiny")
        >>> gan = experiment.build_gan(config, experiment.build_oracle(config))
        >>> type(gan).__name__, gan.batch_size, gan.generator.hidden_dim
        ('SeqGAN', 32, 8)
        >>> again = experiment.build_gan(config)  # the same initial weights
        >>> bool((again.generator.get_weights()[0]
        ...       == gan.generator.get_weights()[0]).all())
        True
    """
    if config.is_text and vocabulary_size is None:
        raise ValueError("A text task's GAN needs its vocabulary_size.")
    policies = precision_policies(config)
    scope = strategy.scope() if strategy else contextlib.nullcontext()
    with scope, seeds.global_random_state(config.seed):
        return _build_gan(config, oracle, vocabulary_size, policies)


def precision_policies(config: ExperimentConfig) -> tuple[str, str]:
    """(generator's, discriminator's) Keras policy of the config on this
    machine (`hardware.resolve_precision` with the accelerators TensorFlow
    sees)."""
    accelerators = tf.config.list_physical_devices(
        "GPU"
    ) + tf.config.list_physical_devices("TPU")
    return hardware.resolve_precision(
        config.training.mixed_precision, accelerators=accelerators
    )


def _build_gan(config, oracle, vocabulary_size, policies):
    vocabulary_size = vocabulary_size or config.vocabulary_size
    variable_length = config.variable_length
    generator_policy, discriminator_policy = policies
    leakgan = config.generator.kind == "leakgan"
    if not leakgan:
        generator = Generator(
            vocabulary_size=vocabulary_size,
            sequence_length=config.sequence_length,
            embedding_dim=config.generator.embedding_dim,
            hidden_dim=config.generator.hidden_dim,
            eos_id=EOS_ID if variable_length else None,
            pad_id=PAD_ID,
            dtype=generator_policy,
        )
    d = config.discriminator
    arguments = dict(
        vocabulary_size=vocabulary_size,
        sequence_length=config.sequence_length,
        pad_id=PAD_ID if variable_length else None,
        embedding_dim=d.embedding_dim,
        filter_sizes=d.filter_sizes,
        num_filters=d.num_filters,
        highway_layers=d.highway_layers,
        dropout=d.dropout,
        l2_reg=d.l2_reg,
        dtype=discriminator_policy,
    )
    if d.kind == "ranker":
        discriminator = Ranker(gamma=d.gamma, **arguments)
    else:
        discriminator = Discriminator(**arguments)
    arguments = trainer_arguments(config)
    trainer = SeqGAN
    if leakgan:
        # The generator reads the discriminator's features: built after it.
        generator = LeakGANGenerator(
            vocabulary_size=vocabulary_size,
            sequence_length=config.sequence_length,
            discriminator=discriminator,
            embedding_dim=config.generator.embedding_dim,
            hidden_dim=config.generator.hidden_dim,
            goal_size=config.generator.goal_size,
            goal_step=config.generator.goal_step,
            goals=config.training.leakgan_goals,
            dtype=generator_policy,
        )
        trainer = LeakGAN
        arguments.update(
            leakgan_rescale=config.training.leakgan_rescale,
            interleaved_mle_steps=config.training.interleaved_mle_steps,
            leakgan_clip=config.training.leakgan_clip,
        )
    gan = trainer(
        generator,
        discriminator,
        oracle=oracle,
        dtype=generator_policy,
        **arguments,
    )
    g = config.generator
    gan.compile(
        g_optimizer=FusedAdam(g.learning_rate, global_clipnorm=g.clip_norm),
        pg_optimizer=FusedAdam(g.learning_rate, global_clipnorm=g.clip_norm),
        d_optimizer=FusedAdam(d.learning_rate),
    )
    return gan


def make_strategy(config: ExperimentConfig) -> tf.distribute.Strategy:
    """The `tf.distribute` strategy of `config.training.strategy`."""
    try:
        return distribute.make_strategy(config.training.strategy)
    except (ValueError, RuntimeError) as error:
        raise RunError(
            f"--strategy {config.training.strategy}: {error}"
        ) from None


def load_text(
    config: ExperimentConfig,
    vocabulary: Vocabulary | None = None,
    data_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = print,
) -> TextData:
    """The `TextData` of a text config; `vocabulary` (a run's) must match.
    `log` receives one line per step (None: silent)."""
    log = log or _silent
    log(f"Reading {config.data.dataset}...")
    try:
        data = load_for_config(config, vocabulary=vocabulary, data_dir=data_dir)
    except TextDataError as error:
        raise RunError(str(error)) from None
    for message in data.messages:
        log(f"  {message}")
    return data


def train(
    config: ExperimentConfig,
    run_dir: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    verbose: int = 1,
    stop_after: int | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    log: Callable[[str], None] | None = print,
) -> dict[str, Any] | None:
    """Trains `config` into a run directory, resuming it if it holds the
    same run; returns the run's summary (`runs.summarize`), or None on a
    non-chief worker of a multi-worker run.

    A new run directory gets config.json, the real data (oracle task) or
    vocabulary (text task); every epoch adds a row to metrics.csv,
    samples at evaluation epochs, TensorBoard events and checkpoints
    (every `training.checkpoint_every` epochs and at the end). Starting
    again with the same config continues from the newest checkpoint,
    exactly as if uninterrupted; another config is refused, naming the
    differences.

    Args:
        config: an `ExperimentConfig`.
        run_dir: the run directory; None: `runs/` and
            `runs.default_name(config)`, e.g. `runs/quick` or
            `runs/quick_coco` (the preset, then the dataset).
        data_dir: the TFDS data directory of `tfds:` datasets.
        verbose: 0 silent, 1 progress bars, 2 one line per epoch.
        stop_after: stop (with a checkpoint) after this many epochs.
        callbacks: more Keras callbacks, run after the run directory's.
        log: receives the run's messages (None: silent).

    Raises:
        RunError: the run directory holds another run or cannot be used.
        ConfigError: `config` is invalid.

    Examples:
        One MLE epoch of the tiny preset, then the run restored:

        >>> import seqgan_tf
        >>> from seqgan_tf import config, experiment
        >>> tiny = config.with_overrides(seqgan_tf.get_preset("tiny"), [
        ...     "training.generator_epochs=1",
        ...     "training.discriminator_rounds=0",
        ...     "training.adversarial_rounds=0",
        ...     "data.num_real=64", "training.eval_samples=64"])
        >>> summary = experiment.train(tiny, "runs/tiny", verbose=0, log=None)
        >>> summary["epochs_done"], summary["complete"]
        (1, True)
        >>> run = experiment.restore_run("runs/tiny")  # the newest checkpoint
        >>> run.epoch, len(run.decode(run.gan.generator.generate(2)))
        (1, 2)
    """
    log = log or _silent
    config = config.validate()
    # Before any other TensorFlow op: a multi-worker strategy must be the
    # first thing to touch the runtime.
    strategy = make_strategy(config)
    run_dir = pathlib.Path(run_dir or f"runs/{runs.default_name(config)}")
    config, resuming = _check_run_dir(config, run_dir)
    # Only the chief writes the run directory. Other workers of a
    # multi-worker run take part in every save (the strategy needs them
    # to) but write into a folder of their own, removed at the end.
    out_dir = pathlib.Path(distribute.write_dir(run_dir, strategy))
    started = time.perf_counter()
    config, oracle, data, real = _real_data(
        config, run_dir, out_dir, resuming, data_dir, log
    )
    vocabulary_size = len(data.vocabulary) if data else None
    gan = build_gan(config, oracle, vocabulary_size, strategy)
    manager, epoch_variable, restored = runs.restore(
        gan, run_dir, save_dir=out_dir / runs.CHECKPOINT_DIR, log=log
    )
    initial_epoch = int(epoch_variable.numpy())
    if not resuming:
        runs.write_json(out_dir / runs.CONFIG_FILE, config.to_dict())
    t = config.training
    plan = gan.schedule(
        t.generator_epochs, t.discriminator_rounds, t.adversarial_rounds
    )
    if restored:
        log(
            f"Resuming {run_dir} from {restored} (epoch {initial_epoch}/"
            f"{len(plan)})."
        )
    run_callbacks = _run_callbacks(
        config,
        gan,
        out_dir,
        plan,
        data,
        initial_epoch,
        manager,
        epoch_variable,
    )
    if stop_after:
        run_callbacks.append(callbacks_lib.StopAfter(stop_after))
    gan.train(
        real,
        generator_epochs=t.generator_epochs,
        discriminator_rounds=t.discriminator_rounds,
        adversarial_rounds=t.adversarial_rounds,
        callbacks=run_callbacks + list(callbacks),
        verbose=verbose,
        initial_epoch=initial_epoch,
        validation_data=data.test_ids if data else None,
    )
    finished = int(epoch_variable.numpy())
    if not distribute.is_chief(strategy):
        shutil.rmtree(out_dir, ignore_errors=True)
        return None
    return runs.summarize(
        run_dir, config, time.perf_counter() - started, finished
    )


def _check_run_dir(config, run_dir):
    """`(config, resuming)`: refuses a directory that holds another run or
    something else; a resumed text run keeps the T it started with."""
    if run_dir.exists() and not run_dir.is_dir():
        raise RunError(f"--output {run_dir} exists and is not a directory.")
    if not (run_dir / runs.CONFIG_FILE).exists():
        if run_dir.exists() and any(run_dir.iterdir()):
            if not _interrupted_start(run_dir):
                raise RunError(
                    f"{run_dir} is not empty and holds no "
                    f"{runs.CONFIG_FILE}; refusing to mix a run into it. "
                    "Use another --output."
                )
            # A start-up killed before config.json: only files that
            # start-up writes (and rewrites), so it starts again.
            for entry in run_dir.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
        return config, False
    previous = runs.load_config(run_dir)
    if config.is_text and not config.sequence_length:
        # T "from the data" was fixed when the run started.
        config = runs.with_sequence_length(config, previous.sequence_length)
    differences = runs.config_differences(previous, config)
    if differences:
        raise RunError(
            f"{run_dir} holds a different run "
            f"({'; '.join(differences[:4])}); use another --output, or "
            "the same settings to resume it."
        )
    return config, True


# What a start-up writes before config.json (which comes last of its
# files): real data, the vocabulary, their temporary files.
_START_FILES = (runs.REAL_DATA_FILE, runs.VOCABULARY_FILE)


def _interrupted_start(run_dir):
    """True if everything in `run_dir` is what an interrupted start-up
    leaves: the files before config.json, their `.tmp` files, and empty
    folders."""
    for entry in run_dir.iterdir():
        if entry.is_dir():
            if any(entry.iterdir()):
                return False
        elif entry.name not in _START_FILES and not any(
            entry.name.startswith(f"{name}.") and entry.name.endswith(".tmp")
            for name in _START_FILES
        ):
            return False
    return True


def _real_data(config, run_dir, out_dir, resuming, data_dir, log):
    """`(config, oracle, text data, real token ids)` of a run: a text task's
    data (its vocabulary saved, T fixed in the config) or the oracle and
    its samples."""
    if not config.is_text:
        out_dir.mkdir(parents=True, exist_ok=True)
        oracle = build_oracle(config)
        return (
            config,
            oracle,
            None,
            _oracle_data(config, oracle, run_dir, out_dir, log),
        )
    vocabulary = runs.load_vocabulary(run_dir) if resuming else None
    data = load_text(config, vocabulary, data_dir, log)
    if len(data.train_ids) < config.training.batch_size:
        raise RunError(
            f"{config.data.dataset} has {len(data.train_ids)} training "
            "sequences, fewer than one batch "
            f"(training.batch_size = {config.training.batch_size})."
        )
    config = runs.with_sequence_length(config, data.sequence_length)
    out_dir.mkdir(parents=True, exist_ok=True)
    if vocabulary is None:
        data.vocabulary.save(out_dir / runs.VOCABULARY_FILE)
    return config, None, data, data.train_ids


def _run_callbacks(
    config, gan, out_dir, plan, data, initial_epoch, manager, epoch_variable
):
    """The callbacks that keep a run directory, in the order they must run
    (the samples add `bleu_4` to the logs before they are written)."""
    t = config.training
    return [
        callbacks_lib.SampleWriter(
            gan, out_dir, min(SAMPLE_FILE_SIZE, t.eval_samples), data
        ),
        callbacks_lib.PhaseEnd(
            gan,
            out_dir,
            plan,
            data,
            t.eval_samples,
            music_task=config.is_text and evaluation.is_music(config),
        ),
        callbacks_lib.MetricsWriter(out_dir, initial_epoch),
        keras.callbacks.TensorBoard(
            str(out_dir / runs.TENSORBOARD_DIR),
            write_graph=False,
            profile_batch=0,
        ),
        callbacks_lib.CheckpointCallback(
            manager, epoch_variable, every=t.checkpoint_every
        ),
    ]


def _oracle_data(config, oracle, run_dir, out_dir, log):
    """The oracle task's real data: the run's real_data.txt, or (a new
    run) `data.num_real` oracle samples, written there."""
    path = run_dir / runs.REAL_DATA_FILE
    if path.exists():
        return runs.read_token_file(
            path, config.vocabulary_size, config.sequence_length
        )
    log(f"Sampling {config.data.num_real} real sequences from the oracle...")
    real = sampler.sample_many(
        oracle, config.data.num_real, seed=(config.seed, 0)
    )
    runs.write_token_file(out_dir / runs.REAL_DATA_FILE, real)
    return real


def restore_run(
    run_dir: str | os.PathLike, step: int | None = None
) -> RestoredRun:
    """The `RestoredRun` of a run directory's newest checkpoint (or that of
    epoch `step`): its config, its compiled trainer with the checkpoint's
    weights (and the oracle of an oracle run), its vocabulary. `train`'s
    example restores the run it trains."""
    run_dir = pathlib.Path(run_dir)
    config = runs.load_config(run_dir)
    oracle = vocabulary = vocabulary_size = None
    if config.is_text:
        vocabulary = runs.load_vocabulary(run_dir)
        if vocabulary is None:
            raise RunError(
                f"{run_dir} is a text run without its {runs.VOCABULARY_FILE}; "
                "restore the file (the checkpoint needs it)."
            )
        vocabulary_size = len(vocabulary)
    else:
        oracle = build_oracle(config)
    gan = build_gan(config, oracle, vocabulary_size=vocabulary_size)
    checkpoint = None
    if step is not None:
        checkpoint = runs.checkpoint_path(run_dir, step)
        if not pathlib.Path(checkpoint + ".index").exists():
            raise RunError(f"{run_dir} has no checkpoint for epoch {step}.")
    try:
        _, epoch, path = runs.restore(gan, run_dir, checkpoint)
    except RunError as error:
        if vocabulary_size is None:
            raise
        raise RunError(
            f"{error} Check that {runs.VOCABULARY_FILE} "
            f"({vocabulary_size:,} ids) is the run's own vocabulary."
        ) from None
    if path is None:
        raise RunError(f"{run_dir} has no checkpoint yet; train first.")
    return RestoredRun(run_dir, config, gan, int(epoch.numpy()), vocabulary)


def _silent(message):
    del message
