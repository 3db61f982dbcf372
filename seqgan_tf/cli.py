"""The `seqgan-tf` command line: train, evaluate, generate, export.

Errors in user input end in one line on stderr and exit status 2.
"""

import argparse
import csv
import io
import json
import math
import os
import pathlib
import sys
import time

CONFIG_FILE = "config.json"
REAL_DATA_FILE = "real_data.txt"
METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
SUMMARY_FILE = "summary.json"
VOCABULARY_FILE = "vocabulary.txt"
EVALUATION_FILE = "evaluation.json"
PRETRAINED_WEIGHTS = "pretrained_generator.weights.h5"
METRIC_COLUMNS = (
    "epoch",
    "phase",
    "g_loss",
    "d_loss",
    "d_accuracy",
    "mean_reward",
    "nll_oracle",
    "nll_test",
    "bleu_4",
    "seconds",
)
BLEU_ORDERS = (2, 3, 4, 5)
SELF_BLEU_ORDERS = (2, 3, 4)
# The SeqGAN authors' published curve (9,984-sample evaluation).
AUTHORS_REFERENCE = {"pretrained": 9.07, "adversarial": 8.68}


class CLIError(Exception):
    """Bad user input; printed as one line, exit status 2."""


def read_token_file(path, vocabulary_size=None, sequence_length=None):
    """Reads sequences of space-separated token ids, one a line (the authors'
    sample format). Names the file and line of the first bad entry."""
    import numpy as np

    path = pathlib.Path(path)
    if path.is_dir():
        raise CLIError(f"{path} is a directory; expected a token file.")
    if not path.exists():
        raise CLIError(f"{path} does not exist.")
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise CLIError(f"{path} is not UTF-8 text ({error.reason}).") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = [int(token) for token in line.split()]
        except ValueError:
            raise CLIError(
                f"{path}:{number}: expected space-separated integer token ids."
            ) from None
        if sequence_length is not None and len(row) != sequence_length:
            raise CLIError(
                f"{path}:{number}: {len(row)} tokens, expected {sequence_length}."
            )
        if vocabulary_size is not None and any(
            not 0 <= t < vocabulary_size for t in row
        ):
            raise CLIError(
                f"{path}:{number}: token id outside [0, {vocabulary_size})."
            )
        rows.append(row)
    if not rows:
        raise CLIError(f"{path} holds no sequences.")
    if len({len(r) for r in rows}) != 1:
        raise CLIError(f"{path}: sequences have different lengths.")
    return np.asarray(rows, dtype=np.int32)


def write_text_atomically(path, text):
    """Writes `text` to a temporary file beside `path`, then renames it into
    place, so a reader never sees half a file."""
    path = pathlib.Path(path)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def write_lines(path, lines):
    write_text_atomically(path, "".join(line + "\n" for line in lines))


def write_token_file(path, token_ids):
    """Writes one sequence of space-separated ids a line, atomically."""
    write_lines(path, (" ".join(str(int(t)) for t in row) for row in token_ids))


def write_json(path, value):
    write_text_atomically(
        path, json.dumps(value, indent=2, sort_keys=True) + "\n"
    )


# --- building things from a config ----------------------------------------


def build_oracle(config):
    from seqgan_tf.models.oracle import OracleLSTM

    if config.data.oracle == "paper":
        return OracleLSTM.from_paper()
    return OracleLSTM.random(
        config.data.vocabulary_size,
        config.data.sequence_length,
        embedding_dim=config.generator.embedding_dim,
        hidden_dim=config.generator.hidden_dim,
        seed=config.data.oracle_seed,
    )


def build_gan(config, oracle=None, vocabulary_size=None, strategy=None):
    """The compiled `SeqGAN` of `config`. A text task needs
    `vocabulary_size` (its vocabulary comes from the data) and trains
    variable-length models: EOS ends a sequence, PAD (0) fills the rest.

    The models are built under `config.training.mixed_precision` (the
    global Keras policy is restored afterwards) and, with a `strategy`,
    inside its scope, so that every step runs on it."""
    import contextlib

    import keras

    policy = config.training.mixed_precision or "float32"
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    scope = strategy.scope() if strategy else contextlib.nullcontext()
    try:
        with scope:
            return _build_gan(config, oracle, vocabulary_size)
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _build_gan(config, oracle, vocabulary_size):
    import keras

    from seqgan_tf.data import EOS_ID
    from seqgan_tf.data import PAD_ID
    from seqgan_tf.models.discriminator import Discriminator
    from seqgan_tf.models.generator import Generator
    from seqgan_tf.trainer import SeqGAN

    if config.is_text and vocabulary_size is None:
        raise ValueError("A text task's GAN needs its vocabulary_size.")
    vocabulary_size = vocabulary_size or config.vocabulary_size
    variable_length = config.is_text and config.data.add_eos
    keras.utils.set_random_seed(config.seed)
    generator = Generator(
        vocabulary_size=vocabulary_size,
        sequence_length=config.sequence_length,
        embedding_dim=config.generator.embedding_dim,
        hidden_dim=config.generator.hidden_dim,
        eos_id=EOS_ID if variable_length else None,
        pad_id=PAD_ID,
    )
    d = config.discriminator
    discriminator = Discriminator(
        vocabulary_size=vocabulary_size,
        sequence_length=config.sequence_length,
        pad_id=PAD_ID if variable_length else None,
        embedding_dim=d.embedding_dim,
        filter_sizes=d.filter_sizes,
        num_filters=d.num_filters,
        highway_layers=d.highway_layers,
        dropout=d.dropout,
        l2_reg=d.l2_reg,
    )
    t = config.training
    gan = SeqGAN(
        generator,
        discriminator,
        oracle=oracle,
        batch_size=t.batch_size,
        num_negatives=t.num_negatives,
        discriminator_epochs=t.discriminator_epochs,
        generator_steps=t.generator_steps,
        discriminator_steps=t.discriminator_steps,
        num_rollouts=t.num_rollouts,
        rollout_policy=t.rollout_policy,
        rollout_update_rate=t.rollout_update_rate,
        rollout_chunk_size=t.rollout_chunk_size,
        reward=t.reward,
        constant_reward=t.constant_reward,
        pg_reduction=t.pg_reduction,
        generator_shuffle=t.generator_shuffle,
        eval_every=t.eval_every,
        eval_samples=t.eval_samples,
        seed=config.seed,
    )
    g = config.generator
    gan.compile(
        g_optimizer=keras.optimizers.Adam(
            g.learning_rate, global_clipnorm=g.clip_norm
        ),
        pg_optimizer=keras.optimizers.Adam(
            g.learning_rate, global_clipnorm=g.clip_norm
        ),
        d_optimizer=keras.optimizers.Adam(d.learning_rate),
    )
    return gan


def load_run_config(run_dir):
    from seqgan_tf.config import ConfigError
    from seqgan_tf.config import ExperimentConfig

    path = pathlib.Path(run_dir) / CONFIG_FILE
    if not pathlib.Path(run_dir).is_dir():
        raise CLIError(f"{run_dir} is not a run directory (it does not exist).")
    if not path.exists():
        raise CLIError(
            f"{run_dir} has no {CONFIG_FILE}; is it a seqgan-tf run?"
        )
    try:
        return ExperimentConfig.from_dict(
            json.loads(path.read_text())
        ).validate()
    except (json.JSONDecodeError, ConfigError) as error:
        raise CLIError(f"{path} is not a valid run config: {error}") from None


def load_run_vocabulary(run_dir):
    """The vocabulary saved with a text run, or None (an oracle run)."""
    from seqgan_tf.data import Vocabulary
    from seqgan_tf.data import VocabularyError

    path = pathlib.Path(run_dir) / VOCABULARY_FILE
    if not path.exists():
        return None
    try:
        return Vocabulary.load(path)
    except VocabularyError as error:
        raise CLIError(f"{path}: {error}") from None


def load_text(config, vocabulary=None, data_dir=None, verbose=True):
    """The `TextData` of a text config; `vocabulary` (a run's) must match."""
    from seqgan_tf.data.text_data import TextDataError
    from seqgan_tf.data.text_data import load_for_config

    if verbose:
        print(f"Reading {config.data.dataset}...")
    try:
        data = load_for_config(config, vocabulary=vocabulary, data_dir=data_dir)
    except TextDataError as error:
        raise CLIError(str(error)) from None
    if verbose:
        for message in data.messages:
            print(f"  {message}")
    return data


def with_sequence_length(config, sequence_length):
    """`config` with the text task's T fixed (T = 0 means "from the data")."""
    import dataclasses

    data = dataclasses.replace(config.data, sequence_length=sequence_length)
    return dataclasses.replace(config, data=data).validate()


def is_music(config):
    """True for the folk-tune task (scored with the music MSE too)."""
    return config.data.dataset.partition("/")[0] == "folk_tunes"


def evaluate_text(generator, data, num_samples, seed, music=False):
    """BLEU-2..5 against the held-out set, Self-BLEU-2..4 and NLL-test of
    `num_samples` sequences from `generator` (and, for `music`, the pitch
    MSE of `seqgan_tf.music.pitch_mse`); returns (result, samples)."""
    from seqgan_tf import metrics

    samples = metrics.sample_many(generator, num_samples, seed=seed)
    hypotheses = data.tokens(samples)
    result = {
        "samples": int(num_samples),
        "mean_length": float(sum(map(len, hypotheses)) / len(hypotheses)),
    }
    result.update(bleu_table(hypotheses, data))
    result["nll_test"] = metrics.nll(generator, data.test_ids)
    if music:
        result.update(music_mse(hypotheses, data))
    return result, samples


def bleu_table(hypotheses, data):
    """BLEU-2..5 of token lists against `data`'s held-out set (its
    `BleuScorer`, built once) and their Self-BLEU-2..4."""
    from seqgan_tf import metrics

    table = {
        f"bleu_{order}": data.bleu_scorer.bleu(hypotheses, order)
        for order in BLEU_ORDERS
    }
    for order in SELF_BLEU_ORDERS:
        table[f"self_bleu_{order}"] = metrics.self_bleu(
            hypotheses, max_order=order
        )
    return table


def music_mse(hypotheses, data):
    """The pitch MSE of the sequences that are all pitches (a sampled
    special token, e.g. <eos>, makes a sequence unscorable: counted)."""
    from seqgan_tf import music

    length = data.sequence_length
    valid = [
        h
        for h in hypotheses
        if len(h) == length and all(t.isdigit() for t in h)
    ]
    references = [r for r in data.test_sequences if len(r) == length]
    return {
        "mse": music.pitch_mse(valid, references) if valid else math.nan,
        "mse_unscorable": len(hypotheses) - len(valid),
    }


def save_weights_atomically(model, path):
    path = pathlib.Path(path)
    temporary = path.with_name(".tmp-" + path.name)
    model.save_weights(str(temporary))
    os.replace(temporary, path)


def restore(gan, run_dir, checkpoint=None, save_dir=None):
    """Restores the newest (or the given) checkpoint; returns its epoch.

    The returned manager saves into `save_dir` (default: the run's
    checkpoints/); a non-chief worker reads the chief's checkpoints but
    saves into a folder of its own.

    A checkpoint that cannot be read is an error naming the file: training
    never silently starts over on top of a damaged run.
    """
    import tensorflow as tf

    from seqgan_tf.trainer import checkpoint_for

    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    ckpt = checkpoint_for(gan, epoch)
    directory = pathlib.Path(run_dir) / "checkpoints"
    manager = tf.train.CheckpointManager(
        ckpt, str(save_dir or directory), max_to_keep=3
    )
    path = checkpoint or tf.train.latest_checkpoint(str(directory))
    if path is None:
        return manager, epoch, None
    try:
        ckpt.read(path).assert_existing_objects_matched().expect_partial()
    except (tf.errors.OpError, AssertionError, ValueError) as error:
        reason = str(error).strip().splitlines()[0][:200]
        raise CLIError(
            f"checkpoint {path} is corrupt or from another model ({reason}); "
            "delete it to resume from an earlier one, or use a new --output."
        ) from None
    return manager, epoch, path


# --- train ---------------------------------------------------------------


class MetricsWriter:
    """Keras callback writing metrics.csv/metrics.json in the run directory,
    keeping rows of earlier invocations up to the resumed epoch."""

    def __new__(cls, *args, **kwargs):
        import keras

        class _Writer(keras.callbacks.Callback):
            def __init__(self, run_dir, initial_epoch):
                super().__init__()
                self.csv_path = pathlib.Path(run_dir) / METRICS_CSV
                self.json_path = pathlib.Path(run_dir) / METRICS_JSON
                self.rows = []
                if self.csv_path.exists():
                    with open(self.csv_path, newline="") as handle:
                        self.rows = [
                            row
                            for row in csv.DictReader(handle)
                            if int(row["epoch"]) < initial_epoch
                        ]
                self._flush()

            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                row = {"epoch": epoch, "phase": int(logs.get("phase", -1))}
                for key in METRIC_COLUMNS[2:]:
                    value = logs.get(key, math.nan)
                    row[key] = "" if math.isnan(value) else repr(float(value))
                self.rows.append(row)
                self._flush()

            def _flush(self):
                table = io.StringIO(newline="")
                writer = csv.DictWriter(table, METRIC_COLUMNS)
                writer.writeheader()
                writer.writerows(self.rows)
                write_text_atomically(self.csv_path, table.getvalue())
                write_json(self.json_path, self.rows)

        return _Writer(*args, **kwargs)


def _phase_end_callback(
    gan, run_dir, plan, data=None, eval_samples=None, music=False
):
    """Saves the generator at the end of MLE pretraining (for comparing it
    with the adversarial one) and, for a text task, records the full
    evaluation of both in evaluation.json."""
    import keras

    from seqgan_tf.trainer import _EVAL
    from seqgan_tf.trainer import seed_pair

    run_dir = pathlib.Path(run_dir)

    class PhaseEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            phase, index, count = plan[epoch]
            if phase == "discriminator" or index != count - 1:
                return
            stage = "pretrained" if phase == "generator" else "adversarial"
            if stage == "pretrained":
                save_weights_atomically(
                    gan.generator, run_dir / PRETRAINED_WEIGHTS
                )
            if data is None:
                return
            result, _ = evaluate_text(
                gan.generator,
                data,
                eval_samples,
                seed=seed_pair(gan.seed, _EVAL, epoch, 2),
                music=music,
            )
            result["epoch"] = epoch
            path = run_dir / EVALUATION_FILE
            table = json.loads(path.read_text()) if path.exists() else {}
            table[stage] = result
            write_json(path, table)

    return PhaseEnd()


def _text_samples_callback(gan, data, run_dir, count):
    """At every evaluation epoch: samples as text in samples/epoch_N.txt and
    their BLEU-4 against the held-out set, added to the logs as `bleu_4`
    (so it reaches metrics.csv and TensorBoard; this callback must come
    before them)."""
    import keras

    from seqgan_tf.trainer import _EVAL
    from seqgan_tf.trainer import seed_pair

    directory = pathlib.Path(run_dir) / "samples"
    directory.mkdir(exist_ok=True)

    class TextSamples(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs is None or math.isnan(logs.get("nll_test", math.nan)):
                return
            samples = gan.generator.generate(
                count, seed=seed_pair(gan.seed, _EVAL, epoch, 1)
            ).numpy()
            write_lines(
                directory / f"epoch_{epoch:04d}.txt", data.decode(samples)
            )
            logs["bleu_4"] = data.bleu_scorer.bleu(data.tokens(samples), 4)

    return TextSamples()


def _samples_callback(gan, run_dir, count):
    import keras

    from seqgan_tf.trainer import _EVAL
    from seqgan_tf.trainer import seed_pair

    directory = pathlib.Path(run_dir) / "samples"
    directory.mkdir(exist_ok=True)

    class SampleWriter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs and not math.isnan(logs.get("nll_oracle", math.nan)):
                samples = gan.generator.generate(
                    count, seed=seed_pair(gan.seed, _EVAL, epoch, 1)
                )
                write_token_file(
                    directory / f"epoch_{epoch:04d}.txt", samples.numpy()
                )

    return SampleWriter()


class _StopAfter:
    def __new__(cls, epochs):
        import keras

        class StopAfter(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seen = 0

            def on_epoch_end(self, epoch, logs=None):
                self.seen += 1
                if self.seen >= epochs:
                    self.model.stop_training = True

        return StopAfter()


# Settings a run may change between invocations: a checkpoint restores on
# any number of replicas.
RESUMABLE_WITH_CHANGES = ("training.strategy",)


def _config_differences(old, new):
    from seqgan_tf.config import flatten

    old_flat, new_flat = flatten(old.to_dict()), flatten(new.to_dict())
    return [
        f"{key}: {old_flat.get(key)!r} -> {new_flat.get(key)!r}"
        for key in sorted(set(old_flat) | set(new_flat))
        if old_flat.get(key) != new_flat.get(key)
        and key not in RESUMABLE_WITH_CHANGES
    ]


def command_train(args):
    from seqgan_tf import config as config_lib

    config = config_lib.get_preset(args.preset)
    if args.dataset:
        config = config_lib.for_dataset(config, args.dataset)
    overrides = list(args.set or [])
    if args.text_key:
        overrides.append(f"data.text_key={args.text_key}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.strategy:
        overrides.append(f"training.strategy={args.strategy}")
    if args.mixed_precision:
        policy = (
            "" if args.mixed_precision == "float32" else args.mixed_precision
        )
        overrides.append(f"training.mixed_precision={policy}")
    config = config_lib.with_overrides(config, overrides).validate()
    # Before any other TensorFlow op: a multi-worker strategy must be the
    # first thing to touch the runtime.
    strategy = make_strategy(config)
    run_dir = pathlib.Path(args.output or f"runs/{_default_run_name(config)}")
    if run_dir.exists() and not run_dir.is_dir():
        raise CLIError(f"--output {run_dir} exists and is not a directory.")
    config_path = run_dir / CONFIG_FILE
    resuming = config_path.exists()
    if resuming:
        previous = load_run_config(run_dir)
        if config.is_text and not config.sequence_length:
            # T "from the data" was fixed when the run started.
            config = with_sequence_length(config, previous.sequence_length)
        differences = _config_differences(previous, config)
        if differences:
            raise CLIError(
                f"{run_dir} holds a different run ({'; '.join(differences[:4])}); "
                "use another --output, or the same settings to resume it."
            )
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise CLIError(
            f"{run_dir} is not empty and holds no {CONFIG_FILE}; refusing to mix "
            "a run into it. Use another --output."
        )

    import shutil

    import keras

    # Only the chief writes the run directory. Other workers of a
    # multi-worker run take part in every save (the strategy needs them
    # to) but write into a folder of their own, removed at the end.
    from seqgan_tf import distribute
    from seqgan_tf import metrics
    from seqgan_tf.trainer import CheckpointCallback

    chief = distribute.is_chief(strategy)
    out_dir = pathlib.Path(distribute.write_dir(run_dir, strategy))
    started = time.perf_counter()
    oracle = data = held_out = None
    vocabulary_size = None
    if config.is_text:
        vocabulary = load_run_vocabulary(run_dir) if resuming else None
        data = load_text(config, vocabulary=vocabulary, data_dir=args.data_dir)
        config = with_sequence_length(config, data.sequence_length)
        out_dir.mkdir(parents=True, exist_ok=True)
        if vocabulary is None:
            data.vocabulary.save(out_dir / VOCABULARY_FILE)
        real, held_out = data.train_ids, data.test_ids
        vocabulary_size = len(data.vocabulary)
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        oracle = build_oracle(config)
        real_path = run_dir / REAL_DATA_FILE
        if real_path.exists():
            real = read_token_file(
                real_path, config.vocabulary_size, config.sequence_length
            )
        else:
            print(
                f"Sampling {config.data.num_real} real sequences from the "
                "oracle..."
            )
            real = metrics.sample_many(
                oracle, config.data.num_real, seed=(config.seed, 0)
            )
            write_token_file(out_dir / REAL_DATA_FILE, real)
    gan = build_gan(
        config, oracle, vocabulary_size=vocabulary_size, strategy=strategy
    )
    manager, epoch_variable, restored = restore(
        gan, run_dir, save_dir=out_dir / "checkpoints"
    )
    initial_epoch = int(epoch_variable.numpy())
    if not resuming:
        write_json(out_dir / CONFIG_FILE, config.to_dict())
    t = config.training
    plan = gan.schedule(
        t.generator_epochs, t.discriminator_rounds, t.adversarial_rounds
    )
    if restored:
        print(
            f"Resuming {run_dir} from {restored} (epoch {initial_epoch}/"
            f"{len(plan)})."
        )
    sample_count = min(1000, t.eval_samples)
    if config.is_text:
        callbacks = [_text_samples_callback(gan, data, out_dir, sample_count)]
    else:
        callbacks = [_samples_callback(gan, out_dir, sample_count)]
    callbacks += [
        _phase_end_callback(
            gan, out_dir, plan, data, t.eval_samples, music=is_music(config)
        ),
        MetricsWriter(out_dir, initial_epoch),
        keras.callbacks.TensorBoard(
            str(out_dir / "tensorboard"), write_graph=False, profile_batch=0
        ),
        CheckpointCallback(manager, epoch_variable, every=t.checkpoint_every),
    ]
    if args.stop_after:
        callbacks.append(_StopAfter(args.stop_after))
    gan.fit(
        real,
        generator_epochs=t.generator_epochs,
        discriminator_rounds=t.discriminator_rounds,
        adversarial_rounds=t.adversarial_rounds,
        callbacks=callbacks,
        verbose=args.verbose,
        initial_epoch=initial_epoch,
        validation_data=held_out,
    )
    finished = int(epoch_variable.numpy())
    if not chief:
        shutil.rmtree(out_dir, ignore_errors=True)
        return 0
    summary = summarize(
        run_dir, config, time.perf_counter() - started, finished
    )
    print_summary(summary)
    return 0


def make_strategy(config):
    """The `tf.distribute` strategy of `config.training.strategy`."""
    from seqgan_tf import distribute

    try:
        return distribute.make_strategy(config.training.strategy)
    except (ValueError, RuntimeError) as error:
        raise CLIError(
            f"--strategy {config.training.strategy}: {error}"
        ) from None


def _default_run_name(config):
    """runs/quick, runs/quick_coco, runs/quick_my_corpus (from a file)."""
    import re

    if not config.is_text:
        return config.preset
    dataset = config.data.dataset
    if dataset.startswith("tfds:"):
        name = dataset[len("tfds:") :]
    elif os.path.isfile(dataset):
        name = pathlib.Path(dataset).stem
    else:
        name = dataset
    return f"{config.preset}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}"


def summarize(run_dir, config, seconds, finished_epochs):
    t = config.training
    rows = json.loads((pathlib.Path(run_dir) / METRICS_JSON).read_text())
    total = t.generator_epochs + t.discriminator_rounds + t.adversarial_rounds

    def last_nll(phase):
        values = [
            (int(r["epoch"]), float(r["nll_oracle"]))
            for r in rows
            if int(r["phase"]) == phase and r["nll_oracle"] not in ("", None)
        ]
        return values[-1] if values else (None, None)

    pre_epoch, pre_nll = last_nll(0)
    adv_epoch, adv_nll = last_nll(2)
    evaluation_path = pathlib.Path(run_dir) / EVALUATION_FILE
    evaluation = (
        json.loads(evaluation_path.read_text())
        if evaluation_path.exists()
        else {}
    )
    previous = {}
    summary_path = pathlib.Path(run_dir) / SUMMARY_FILE
    if summary_path.exists():
        previous = json.loads(summary_path.read_text())
    summary = {
        "preset": config.preset,
        "epochs_done": finished_epochs,
        "epochs_total": total,
        "complete": finished_epochs >= total,
        "nll_oracle_pretrained": pre_nll,
        "nll_oracle_pretrained_epoch": pre_epoch,
        "nll_oracle_adversarial": adv_nll,
        "nll_oracle_adversarial_epoch": adv_epoch,
        "wall_seconds": previous.get("wall_seconds", 0.0) + seconds,
        "run_dir": str(run_dir),
        "task": config.data.task,
    }
    if config.is_text:
        summary["dataset"] = config.data.dataset
        summary["evaluation"] = evaluation
    write_json(summary_path, summary)
    return summary


def print_summary(summary):
    def fmt(value):
        return "-" if value is None else f"{value:.3f}"

    reference = summary["preset"] == "paper"
    print()
    print(
        f"Run {summary['run_dir']} ({summary['preset']}): "
        f"{summary['epochs_done']}/{summary['epochs_total']} epochs, "
        f"{summary['wall_seconds']:.0f} s of training in all."
    )
    if summary.get("task") == "text":
        print_text_table(summary.get("evaluation", {}))
        return
    header = f"{'stage':<24}{'epoch':>8}{'NLL-oracle':>12}"
    if reference:
        header += f"{'authors':>10}"
    print(header)
    print("-" * len(header))
    for stage, key in [
        ("after MLE pretraining", "pretrained"),
        ("after adversarial", "adversarial"),
    ]:
        epoch = summary[f"nll_oracle_{key}_epoch"]
        line = (
            f"{stage:<24}{'-' if epoch is None else epoch:>8}"
            f"{fmt(summary[f'nll_oracle_{key}']):>12}"
        )
        if reference:
            line += f"{AUTHORS_REFERENCE[key]:>10.2f}"
        print(line)


def print_text_table(evaluation):
    """The BLEU / Self-BLEU / NLL-test table of `evaluation` (stage ->
    result), one row per stage."""
    columns = (
        [f"bleu_{n}" for n in BLEU_ORDERS]
        + [f"self_bleu_{n}" for n in SELF_BLEU_ORDERS]
        + ["nll_test", "mean_length"]
    )
    titles = (
        [f"BLEU-{n}" for n in BLEU_ORDERS]
        + [f"SBLEU-{n}" for n in SELF_BLEU_ORDERS]
        + ["NLL-test", "length"]
    )
    header = f"{'stage':<14}{'epoch':>6}" + "".join(f"{t:>9}" for t in titles)
    print(header)
    print("-" * len(header))
    for stage, title in (
        ("pretrained", "MLE"),
        ("adversarial", "adversarial"),
        ("checkpoint", "checkpoint"),
    ):
        if stage not in evaluation:
            continue
        row = evaluation[stage]
        print(
            f"{title:<14}{row.get('epoch', '-'):>6}"
            + "".join(f"{row[c]:>9.3f}" for c in columns)
        )
    if not evaluation:
        print("(no generator phase has finished yet)")


# --- evaluate / generate -----------------------------------------------------


def _restored_gan(run_dir, step):
    """(config, gan, epoch) of a run's newest (or `step`'s) checkpoint."""
    config = load_run_config(run_dir)
    oracle = vocabulary_size = None
    if config.is_text:
        vocabulary = load_run_vocabulary(run_dir)
        if vocabulary is None:
            raise CLIError(
                f"{run_dir} is a text run without its {VOCABULARY_FILE}; "
                "restore the file (the checkpoint needs it)."
            )
        vocabulary_size = len(vocabulary)
    else:
        oracle = build_oracle(config)
    gan = build_gan(config, oracle, vocabulary_size=vocabulary_size)
    checkpoint = None
    if step is not None:
        checkpoint = str(pathlib.Path(run_dir) / "checkpoints" / f"ckpt-{step}")
        if not pathlib.Path(checkpoint + ".index").exists():
            raise CLIError(f"{run_dir} has no checkpoint for epoch {step}.")
    try:
        _, epoch, path = restore(gan, run_dir, checkpoint)
    except CLIError as error:
        if vocabulary_size is None:
            raise
        raise CLIError(
            f"{error} Check that {VOCABULARY_FILE} ({vocabulary_size:,} ids) "
            "is the run's own vocabulary."
        ) from None
    if path is None:
        raise CLIError(f"{run_dir} has no checkpoint yet; train first.")
    return config, gan, int(epoch.numpy())


def _load_pretrained(gan, run_dir):
    path = pathlib.Path(run_dir) / PRETRAINED_WEIGHTS
    if not path.exists():
        raise CLIError(
            f"{run_dir} has no {PRETRAINED_WEIGHTS}: MLE pretraining has "
            "not finished in this run."
        )
    gan.generator.load_weights(str(path))


def command_evaluate(args):
    from seqgan_tf import metrics

    sources = [bool(args.checkpoint), bool(args.tokens), bool(args.text)]
    if sum(sources) != 1:
        raise CLIError(
            "give exactly one of --checkpoint RUN_DIR, --tokens FILE "
            "(oracle task) or --text FILE (with --dataset)."
        )
    if args.samples < 1:
        raise CLIError(f"--samples must be >= 1, got {args.samples}.")
    if args.pretrained and not args.checkpoint:
        raise CLIError("--pretrained applies to --checkpoint.")
    if args.checkpoint:
        config, gan, epoch = _restored_gan(args.checkpoint, args.step)
        if args.pretrained:
            _load_pretrained(gan, args.checkpoint)
        result = {
            "source": args.checkpoint,
            "generator": "pretrained" if args.pretrained else "checkpoint",
            "epoch": None if args.pretrained else epoch,
        }
        if config.is_text:
            data = load_text(
                config,
                vocabulary=load_run_vocabulary(args.checkpoint),
                data_dir=args.data_dir,
                verbose=False,
            )
            scores, _ = evaluate_text(
                gan.generator,
                data,
                args.samples,
                seed=(args.seed, 1),
                music=is_music(config),
            )
            result.update(scores)
        else:
            result["samples"] = args.samples
            result["nll_oracle"] = metrics.nll_oracle(
                gan.generator, gan.oracle, args.samples, seed=(args.seed, 1)
            )
    elif args.text:
        result = _evaluate_text_file(args)
    else:
        from seqgan_tf import config as config_lib

        config = config_lib.with_overrides(
            config_lib.get_preset(args.preset), args.set or []
        ).validate()
        if config.is_text:
            raise CLIError("--tokens is for the oracle task; use --text.")
        oracle = build_oracle(config)
        tokens = read_token_file(
            args.tokens, config.vocabulary_size, config.sequence_length
        )
        result = {
            "source": args.tokens,
            "samples": int(len(tokens)),
            "nll_oracle": metrics.nll(oracle, tokens),
        }
    print(json.dumps(result))
    return 0


def _evaluate_text_file(args):
    """BLEU-2..5 against a dataset's held-out set and Self-BLEU-2..4 of the
    sentences of a text file (e.g. another implementation's samples),
    tokenised as the dataset is."""
    from seqgan_tf import config as config_lib
    from seqgan_tf.data import CorpusError
    from seqgan_tf.data import get_tokenizer
    from seqgan_tf.data import read_corpus

    if not args.dataset:
        raise CLIError(
            "--text needs --dataset (its held-out set is the BLEU reference)."
        )
    config = config_lib.for_dataset(
        config_lib.get_preset(args.preset), args.dataset
    )
    config = config_lib.with_overrides(config, args.set or []).validate()
    data = load_text(config, data_dir=args.data_dir, verbose=False)
    tokenizer = get_tokenizer(
        config.data.tokenizer, **config.tokenizer_options()
    )
    try:
        hypotheses = read_corpus(args.text, tokenizer).sequences
    except CorpusError as error:
        raise CLIError(str(error)) from None
    result = {"source": args.text, "samples": len(hypotheses)}
    result.update(bleu_table(hypotheses, data))
    return result


def command_generate(args):
    if bool(args.checkpoint) == bool(args.saved_model):
        raise CLIError(
            "give exactly one of --checkpoint RUN_DIR or --saved-model DIR."
        )
    if args.num_samples < 1:
        raise CLIError(f"-n must be >= 1, got {args.num_samples}.")
    if not args.temperature > 0:
        raise CLIError(f"--temperature must be > 0, got {args.temperature}.")
    if args.saved_model:
        if args.step is not None:
            raise CLIError("--step applies to --checkpoint, not --saved-model.")
        lines = _generate_from_saved_model(args)
    else:
        config, gan, _ = _restored_gan(args.checkpoint, args.step)
        # One sampler call with the seed pair as given, exactly what the
        # exported `generate` signature does: a checkpoint and its export
        # print the same lines for the same --seed.
        samples = gan.generator.generate(
            args.num_samples,
            seed=(args.seed, 7),
            temperature=args.temperature,
        ).numpy()
        if config.is_text:
            lines = _decode_lines(config, args.checkpoint, samples)
        else:
            lines = [" ".join(str(int(t)) for t in row) for row in samples]
    if args.output:
        write_lines(args.output, lines)
        print(f"Wrote {len(lines)} sequences to {args.output}.")
    else:
        for line in lines:
            print(line)
    return 0


def _decode_lines(config, run_dir, samples):
    from seqgan_tf.data import get_tokenizer

    vocabulary = load_run_vocabulary(run_dir)
    tokenizer = get_tokenizer(
        config.data.tokenizer, **config.tokenizer_options()
    )
    return [tokenizer.detokenize(vocabulary.decode(row)) for row in samples]


def _generate_from_saved_model(args):
    """Serves from an export as a client would: `tf.saved_model.load` and
    the `serving_default` (generate) signature; returns its text lines."""
    import tensorflow as tf

    from seqgan_tf.export import ExportError
    from seqgan_tf.export import resolve_saved_model

    try:
        directory = resolve_saved_model(args.saved_model)
    except ExportError as error:
        raise CLIError(str(error)) from None
    try:
        model = tf.saved_model.load(str(directory))
    except (OSError, ValueError, tf.errors.OpError) as error:
        reason = str(error).strip().splitlines()[0][:200]
        raise CLIError(f"cannot load {directory}: {reason}") from None
    if "serving_default" not in model.signatures:
        raise CLIError(f"{directory} has no serving_default signature.")
    try:
        outputs = model.signatures["serving_default"](
            num_samples=tf.constant(args.num_samples, tf.int32),
            temperature=tf.constant(args.temperature, tf.float32),
            seed=tf.constant([args.seed, 7], tf.int64),
        )
    except tf.errors.InvalidArgumentError as error:
        import re

        found = re.search(r"assertion failed: \[([^\]]*)\]", error.message)
        reason = found.group(1) if found else error.message.strip()[:300]
        reason = " ".join(reason.rstrip(". ").split())
        raise CLIError(f"{directory} rejected the request: {reason}.") from None
    return [text.decode("utf-8") for text in outputs["text"].numpy()]


def command_export(args):
    from seqgan_tf.export import ExportError
    from seqgan_tf.export import export_run

    try:
        target = export_run(
            args.checkpoint,
            args.output,
            args.name,
            version=args.version,
            overwrite=args.overwrite,
        )
    except ExportError as error:
        raise CLIError(str(error)) from None
    print(f"Exported {args.checkpoint} to {target}.")
    return 0


# --- entry point -------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def make_parser():
    parser = _Parser(
        prog="seqgan-tf",
        description="SeqGAN for TensorFlow 2 / Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = commands.add_parser(
        "train", help="train a SeqGAN (default: the quick synthetic experiment)"
    )
    train.add_argument(
        "--preset",
        default="quick",
        help="paper | quick | tiny (default: quick)",
    )
    train.add_argument(
        "--output",
        help="run directory (default: runs/PRESET); "
        "re-running with the same one resumes it",
    )
    train.add_argument(
        "--dataset",
        help="train on text: coco | chinese_quatrains | folk_tunes (their "
        "/small configs too) | a text file, one sequence a line | tfds:NAME "
        "(a TFDS dataset prepared on this machine); default: the preset's "
        "synthetic oracle",
    )
    train.add_argument(
        "--text-key",
        help="the text feature of a tfds:NAME dataset (default: text)",
    )
    train.add_argument(
        "--data-dir",
        help="TFDS data directory (default: TFDS's, ~/tensorflow_datasets)",
    )
    train.add_argument(
        "--strategy",
        choices=("default", "mirrored", "multiworker", "tpu"),
        help="tf.distribute strategy (default: one device); mirrored: all "
        "GPUs of this host; multiworker: the cluster of TF_CONFIG; tpu: "
        "the TPU of the environment (Colab)",
    )
    train.add_argument(
        "--mixed-precision",
        choices=("float32", "mixed_bfloat16", "mixed_float16"),
        help="compute in bfloat16 (CPUs with AMX, TPUs) or float16 (GPUs, "
        "with loss scaling); logits, losses and rewards stay float32",
    )
    train.add_argument("--seed", type=int, help="root random seed")
    train.add_argument(
        "--set",
        action="append",
        metavar="SECTION.FIELD=VALUE",
        help="override any config field, e.g. "
        "--set training.adversarial_rounds=50 (repeatable)",
    )
    train.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="0 silent, 1 progress bars, 2 one line per epoch",
    )
    train.add_argument(
        "--stop-after",
        type=_positive_int,
        metavar="EPOCHS",
        help="stop (with a checkpoint) after this many epochs; "
        "run again to continue",
    )
    train.set_defaults(handler=command_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="NLL-oracle (oracle task) or BLEU-2..5, Self-BLEU-2..4 and "
        "NLL-test (text) of a checkpoint; or score a file of samples",
    )
    evaluate.add_argument("--checkpoint", metavar="RUN_DIR")
    evaluate.add_argument(
        "--pretrained",
        action="store_true",
        help="evaluate the run's generator as it was after MLE pretraining",
    )
    evaluate.add_argument(
        "--text",
        metavar="FILE",
        help="sentences to score with BLEU / Self-BLEU against --dataset's "
        "held-out set",
    )
    evaluate.add_argument("--dataset", help="the dataset of --text")
    evaluate.add_argument("--data-dir", help="TFDS data directory")
    evaluate.add_argument(
        "--step", type=int, help="checkpoint epoch (default: latest)"
    )
    evaluate.add_argument(
        "--tokens",
        metavar="FILE",
        help="sequences of space-separated token ids",
    )
    evaluate.add_argument(
        "--preset",
        default="quick",
        help="the oracle of --tokens comes from this preset",
    )
    evaluate.add_argument(
        "--set", action="append", metavar="SECTION.FIELD=VALUE"
    )
    evaluate.add_argument("--samples", type=int, default=9984)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.set_defaults(handler=command_evaluate)

    generate = commands.add_parser(
        "generate", help="sample from a checkpoint or an exported SavedModel"
    )
    generate.add_argument("--checkpoint", metavar="RUN_DIR")
    generate.add_argument(
        "--saved-model",
        metavar="DIR",
        help="an export's version folder, or its model folder (the highest "
        "version is used)",
    )
    generate.add_argument("--step", type=int)
    generate.add_argument("-n", "--num-samples", type=int, default=10)
    generate.add_argument("--temperature", type=float, default=1.0)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument(
        "--output", help="write to this file instead of stdout"
    )
    generate.set_defaults(handler=command_generate)

    export = commands.add_parser(
        "export", help="export a run's generator as a TF Serving SavedModel"
    )
    export.add_argument("--checkpoint", metavar="RUN_DIR", required=True)
    export.add_argument(
        "--output",
        default="export/models",
        help="base folder of models (default: export/models)",
    )
    export.add_argument(
        "--name", default="seqgan", help="model name (default: seqgan)"
    )
    export.add_argument(
        "--version",
        type=_positive_int,
        help="version number (default: the next free one)",
    )
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing version",
    )
    export.set_defaults(handler=command_export)
    _add_report_commands(commands)
    return parser


def main(argv=None):
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    from seqgan_tf.config import ConfigError

    try:
        return args.handler(args)
    except (CLIError, ConfigError) as error:
        print(f"seqgan-tf: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "seqgan-tf: interrupted; the last checkpoint is kept.",
            file=sys.stderr,
        )
        return 130


# --- report / sweep (issue 6) -------------------------------------------------

SWEEP_DIR = "sweep"
SWEEP_FILE = "sweep.json"
SWEEP_PLOT = "quality_diversity.png"


def command_report(args):
    from seqgan_tf.report import write_report

    try:
        path = write_report(args.run_dir, args.output)
    except ValueError as error:
        raise CLIError(str(error)) from None
    print(f"Wrote {path}.")
    return 0


def _parse_temperatures(text):
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise CLIError(
            f"--temperatures: expected comma-separated numbers, got {text!r}."
        ) from None
    if not values or not all(math.isfinite(t) and t > 0 for t in values):
        raise CLIError(f"--temperatures must be numbers > 0, got {text!r}.")
    return values


def command_sweep(args):
    """Quality-diversity sweep of the sampling temperature for the run's
    checkpoint and (when saved) its MLE-pretrained generator."""
    from seqgan_tf import quality

    temperatures = _parse_temperatures(args.temperatures)
    if args.samples < 2:
        raise CLIError(f"--samples must be >= 2, got {args.samples}.")
    run_dir = pathlib.Path(args.checkpoint)
    config, gan, epoch = _restored_gan(run_dir, args.step)
    t = config.training
    adversarial_from = t.generator_epochs + t.discriminator_rounds
    name = "adversarial" if epoch > adversarial_from else f"epoch {epoch}"
    options = {}
    if config.is_text:
        options["text_data"] = load_text(
            config,
            vocabulary=load_run_vocabulary(run_dir),
            data_dir=args.data_dir,
            verbose=False,
        )
    else:
        options["oracle"] = gan.oracle

    def sweep():
        return quality.temperature_sweep(
            gan.generator,
            temperatures,
            num_samples=args.samples,
            seed=args.seed,
            **options,
        )

    models = {name: sweep()}
    if (run_dir / PRETRAINED_WEIGHTS).exists():
        _load_pretrained(gan, run_dir)
        models = {"MLE": sweep(), **models}
    output = pathlib.Path(args.output) if args.output else run_dir / SWEEP_DIR
    output.mkdir(parents=True, exist_ok=True)
    result = {
        "run_dir": str(run_dir),
        "task": "text" if config.is_text else "oracle",
        "checkpoint_epoch": epoch,
        "samples": args.samples,
        "seed": args.seed,
        "temperatures": temperatures,
        "models": models,
    }
    write_json(output / SWEEP_FILE, result)
    quality.plot_quality_diversity(models, output / SWEEP_PLOT)
    first = next(iter(models.values()))[0]
    quality_name, diversity_name = (
        first["quality_metric"],
        first["diversity_metric"],
    )
    header = f"{'model':<14}{'T':>6}{quality_name:>14}{diversity_name:>14}"
    print(header)
    print("-" * len(header))
    for model, rows in models.items():
        for row in rows:
            print(
                f"{model:<14}{row['temperature']:>6g}"
                f"{row['quality']:>14.4f}{row['diversity']:>14.4f}"
            )
    print(f"Wrote {output / SWEEP_FILE} and {output / SWEEP_PLOT}.")
    return 0


def _add_report_commands(commands):
    report = commands.add_parser(
        "report",
        help="write an HTML report of a run (config, curves, samples, timings)",
    )
    report.add_argument("run_dir", metavar="RUN_DIR")
    report.add_argument(
        "--output", help="report folder (default: RUN_DIR/report)"
    )
    report.set_defaults(handler=command_report)

    sweep = commands.add_parser(
        "sweep",
        help="quality-diversity sweep of the sampling temperature for the "
        "checkpoint and the MLE-pretrained generator",
    )
    sweep.add_argument("--checkpoint", metavar="RUN_DIR", required=True)
    sweep.add_argument(
        "--step", type=int, help="checkpoint epoch (default: latest)"
    )
    sweep.add_argument(
        "--temperatures",
        default="0.1,0.5,0.8,1.0,1.2,1.5",
        help="comma-separated sampling temperatures "
        "(default: 0.1,0.5,0.8,1.0,1.2,1.5)",
    )
    sweep.add_argument(
        "--samples",
        type=int,
        default=1000,
        help="samples per temperature (default: 1000)",
    )
    sweep.add_argument("--seed", type=int, default=0)
    sweep.add_argument("--data-dir", help="TFDS data directory")
    sweep.add_argument(
        "--output",
        help="folder of sweep.json and quality_diversity.png "
        "(default: RUN_DIR/sweep, where the report finds them)",
    )
    sweep.set_defaults(handler=command_sweep)


if __name__ == "__main__":
    sys.exit(main())
