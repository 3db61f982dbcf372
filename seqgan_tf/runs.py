"""The run directory: its file names, atomic writes, the config and
vocabulary it holds, its checkpoints and its summary.

A run directory holds `config.json`, the real data (`real_data.txt`, oracle
task) or `vocabulary.txt` (text task), `metrics.csv` / `metrics.json`,
`samples/epoch_NNNN.txt`, `tensorboard/`, `checkpoints/`,
`pretrained_generator.weights.h5`, `evaluation.json` (text task) and
`summary.json`; `seqgan-tf sweep` and `report` add `sweep/` and `report/`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import fcntl
import io
import json
import os
import pathlib
import re
import sys
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from seqgan_tf import schedule
from seqgan_tf.config import ConfigError
from seqgan_tf.config import ExperimentConfig
from seqgan_tf.config import flatten
from seqgan_tf.data.vocabulary import Vocabulary
from seqgan_tf.data.vocabulary import VocabularyError

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

    from seqgan_tf.trainer import SeqGAN

CONFIG_FILE = "config.json"
REAL_DATA_FILE = "real_data.txt"
VOCABULARY_FILE = "vocabulary.txt"
METRICS_CSV = "metrics.csv"
METRICS_JSON = "metrics.json"
SUMMARY_FILE = "summary.json"
EVALUATION_FILE = "evaluation.json"
PRETRAINED_WEIGHTS = "pretrained_generator.weights.h5"
CHECKPOINT_DIR = "checkpoints"
SAMPLES_DIR = "samples"
TENSORBOARD_DIR = "tensorboard"
SWEEP_DIR = "sweep"
SWEEP_FILE = "sweep.json"
SWEEP_PLOT = "quality_diversity.png"
REPORT_DIR = "report"

# The columns of metrics.csv.
METRIC_COLUMNS = ("epoch", "phase", *schedule.LOG_KEYS, "bleu_4", "seconds")
# Settings a run may change between invocations: a checkpoint restores on
# any number of replicas.
RESUMABLE_WITH_CHANGES = ("training.strategy",)
# Checkpoints kept in checkpoints/.
MAX_CHECKPOINTS = 3


class RunError(ValueError):
    """A run directory (or a file in it) cannot be used as asked; the
    message names the path and what to do."""


# --- writing files ----------------------------------------------------------


@contextlib.contextmanager
def _atomic_file(path):
    """A text handle on a temporary file beside `path`, renamed into place
    when the block ends, so a reader never sees half a file; if the block
    fails (a full disk, an interrupted generator) the temporary is removed
    and `path` is left as it was."""
    path = pathlib.Path(path)
    temporary = path.with_name(path.name + ".tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            yield handle
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


@contextlib.contextmanager
def locked(path):
    """An exclusive lock on the file `path` (created if missing), held for
    the block: another process asking for it waits (POSIX `flock`)."""
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_text_atomically(path, text):
    """Writes `text` to `path` through a temporary file renamed into place."""
    with _atomic_file(path) as handle:
        handle.write(text)


def write_lines(path, lines):
    """Writes one line per item of `lines`, atomically."""
    write_text_atomically(path, "".join(line + "\n" for line in lines))


def write_line_batches(path, batches):
    """Writes the lines of each batch (an iterable of lists of str) to
    `path` as they come, through a temporary file renamed into place at
    the end; returns the number of lines."""
    count = 0
    with _atomic_file(path) as handle:
        for lines in batches:
            for line in lines:
                handle.write(line + "\n")
            count += len(lines)
    return count


def write_token_file(path: str | os.PathLike, token_ids: ArrayLike) -> None:
    """Writes one sequence of space-separated ids a line, atomically (the
    authors' sample format; `read_token_file` reads it back).

    Examples:
        >>> from seqgan_tf import runs
        >>> runs.write_token_file("real.txt", [[3, 4, 5], [6, 7, 8]])
        >>> open("real.txt").read()
        '3 4 5\\n6 7 8\\n'
        >>> runs.read_token_file("real.txt", vocabulary_size=20)
        array([[3, 4, 5],
               [6, 7, 8]], dtype=int32)
    """
    write_lines(path, (" ".join(str(int(t)) for t in row) for row in token_ids))


def write_json(path, value):
    """Writes `value` as indented JSON, atomically."""
    write_text_atomically(
        path, json.dumps(value, indent=2, sort_keys=True) + "\n"
    )


def save_weights_atomically(model, path):
    """`model.save_weights(path)` through a temporary file and a rename."""
    path = pathlib.Path(path)
    temporary = path.with_name(".tmp-" + path.name)
    model.save_weights(str(temporary))
    os.replace(temporary, path)


def write_metrics(run_dir, rows):
    """Writes the rows (dicts keyed by `METRIC_COLUMNS`) to metrics.csv and
    metrics.json."""
    run_dir = pathlib.Path(run_dir)
    table = io.StringIO(newline="")
    writer = csv.DictWriter(table, METRIC_COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomically(run_dir / METRICS_CSV, table.getvalue())
    write_json(run_dir / METRICS_JSON, rows)


def read_metric_rows(
    run_dir: str | os.PathLike, before_epoch: int | None = None
) -> list[dict[str, str]]:
    """The rows of metrics.csv as written (strings), those of epochs before
    `before_epoch` only when it is given; [] when there is no file."""
    path = pathlib.Path(run_dir) / METRICS_CSV
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        epochs = [int(row["epoch"]) for row in rows]
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, csv.Error):
        raise RunError(
            f"{path} is damaged (no readable 'epoch' column in every row); "
            "delete it to resume (the checkpoints hold the run) or use a new "
            "--output."
        ) from None
    if before_epoch is None:
        return rows
    return [row for row, epoch in zip(rows, epochs) if epoch < before_epoch]


# --- reading files ----------------------------------------------------------


def read_token_file(
    path: str | os.PathLike,
    vocabulary_size: int | None = None,
    sequence_length: int | None = None,
) -> np.ndarray:
    """Reads sequences of space-separated token ids, one a line (the authors'
    sample format). Names the file and line of the first bad entry."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise RunError(f"{path} is a directory; expected a token file.")
    if not path.exists():
        raise RunError(f"{path} does not exist.")
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise RunError(f"{path} is not UTF-8 text ({error.reason}).") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = [int(token) for token in line.split()]
        except ValueError:
            raise RunError(
                f"{path}:{number}: expected space-separated integer token ids."
            ) from None
        if sequence_length is not None and len(row) != sequence_length:
            raise RunError(
                f"{path}:{number}: {len(row)} tokens, expected "
                f"{sequence_length}."
            )
        if vocabulary_size is not None and any(
            not 0 <= t < vocabulary_size for t in row
        ):
            raise RunError(
                f"{path}:{number}: token id outside [0, {vocabulary_size})."
            )
        rows.append(row)
    if not rows:
        raise RunError(f"{path} holds no sequences.")
    if len({len(r) for r in rows}) != 1:
        raise RunError(f"{path}: sequences have different lengths.")
    return np.asarray(rows, dtype=np.int32)


def load_config(run_dir: str | os.PathLike) -> ExperimentConfig:
    """The validated `ExperimentConfig` of a run directory."""
    run_dir = pathlib.Path(run_dir)
    path = run_dir / CONFIG_FILE
    if not run_dir.is_dir():
        what = "it is a file" if run_dir.exists() else "it does not exist"
        raise RunError(f"{run_dir} is not a run directory ({what}).")
    if not path.exists():
        raise RunError(
            f"{run_dir} has no {CONFIG_FILE}; is it a seqgan-tf run?"
        )
    try:
        return ExperimentConfig.from_dict(
            json.loads(path.read_text())
        ).validate()
    except (json.JSONDecodeError, UnicodeDecodeError, ConfigError) as error:
        raise RunError(f"{path} is not a valid run config: {error}") from None


def load_vocabulary(run_dir: str | os.PathLike) -> Vocabulary | None:
    """The vocabulary saved with a text run, or None (an oracle run).

    A vocabulary whose size is not the one the run's checkpoints were
    trained with (a truncated or edited file) is refused here, naming the
    file and both sizes: the checkpoint could not be read with it."""
    path = pathlib.Path(run_dir) / VOCABULARY_FILE
    if not path.exists():
        return None
    expected = checkpoint_vocabulary_size(run_dir)
    try:
        vocabulary = Vocabulary.load(path)
    except VocabularyError as error:
        if expected is None:
            raise RunError(f"{path}: {error}") from None
        raise RunError(
            f"{path} is damaged ({error}); the run's checkpoints hold "
            f"{expected:,} ids: restore the file from a copy of the run."
        ) from None
    if expected is not None and len(vocabulary) != expected:
        raise RunError(
            f"{path} is damaged: {len(vocabulary):,} entries, but the run's "
            f"checkpoints hold {expected:,} ids; restore the file from a "
            "copy of the run."
        )
    return vocabulary


# Where the generator's embedding table [V, E] lies in a trainer
# checkpoint: Keras optimizers hold their model's trainable variables in
# model order, and the generator's first one is its embedding table.
_EMBEDDING_KEY = "g_optimizer/_trainable_variables/0/.ATTRIBUTES/VARIABLE_VALUE"


def checkpoint_vocabulary_size(run_dir):
    """The vocabulary size of the newest readable checkpoint's generator,
    or None (no checkpoint, or none whose variables can be listed)."""
    for path in checkpoint_candidates(run_dir):
        try:
            shapes = tf.train.load_checkpoint(path).get_variable_to_shape_map()
        except Exception:  # a damaged checkpoint: try the one before
            continue
        shape = shapes.get(_EMBEDDING_KEY)
        if shape and len(shape) == 2:
            return int(shape[0])
    return None


def config_differences(old, new):
    """`field: old -> new` for every field in which two configs differ,
    but for those a resumed run may change."""
    old_flat, new_flat = flatten(old.to_dict()), flatten(new.to_dict())
    return [
        f"{key}: {old_flat.get(key)!r} -> {new_flat.get(key)!r}"
        for key in sorted(set(old_flat) | set(new_flat))
        if old_flat.get(key) != new_flat.get(key)
        and key not in RESUMABLE_WITH_CHANGES
    ]


def default_name(config: ExperimentConfig) -> str:
    """The name of a config's default run directory under `runs/`: the
    preset's name, and for a text task the dataset's (a file's stem, a
    TFDS dataset's name), e.g. `quick`, `quick_coco`, `quick_my_corpus`.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import config, runs
        >>> quick = seqgan_tf.get_preset("quick")
        >>> runs.default_name(quick)
        'quick'
        >>> runs.default_name(config.for_dataset(quick, "coco"))
        'quick_coco'
    """
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


def with_sequence_length(config, sequence_length):
    """`config` with the text task's T fixed (T = 0 means "from the data")."""
    data = dataclasses.replace(config.data, sequence_length=sequence_length)
    return dataclasses.replace(config, data=data).validate()


# --- checkpoints ------------------------------------------------------------


def checkpoint_path(run_dir: str | os.PathLike, epoch: int) -> str:
    """The checkpoint prefix of `epoch` in a run directory.

    Examples:
        >>> from seqgan_tf import runs
        >>> runs.checkpoint_path("runs/tiny", 3)
        'runs/tiny/checkpoints/ckpt-3'
    """
    return str(pathlib.Path(run_dir) / CHECKPOINT_DIR / f"ckpt-{epoch}")


def checkpoint_candidates(run_dir: str | os.PathLike) -> list[str]:
    """The checkpoint prefixes of a run (`ckpt-N` with an index file),
    newest first, found from the files themselves: TensorFlow's
    `checkpoints/checkpoint` state file is not trusted, so a damaged one
    cannot hide a run's checkpoints."""
    found = []
    for index in (pathlib.Path(run_dir) / CHECKPOINT_DIR).glob("ckpt-*.index"):
        number = index.name[len("ckpt-") : -len(".index")]
        if number.isdigit():
            found.append((int(number), str(index)[: -len(".index")]))
    return [path for _, path in sorted(found, reverse=True)]


def restore(
    gan: SeqGAN,
    run_dir: str | os.PathLike,
    checkpoint: str | None = None,
    save_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = None,
) -> tuple[tf.train.CheckpointManager, tf.Variable, str | None]:
    """Restores a trainer from the newest readable (or the given)
    checkpoint of a run.

    Returns `(manager, epoch, path)`: a `tf.train.CheckpointManager` that
    saves into `save_dir` (default: the run's checkpoints/; a non-chief
    worker reads the chief's checkpoints but saves into a folder of its
    own), the variable holding the next epoch (0 for a new run), and the
    restored checkpoint's path (None for a new run).

    A newest checkpoint that cannot be read completely (truncated, empty,
    from another model) is skipped for the one before it, and `log` (default:
    standard error) says so; if none can be read, or the given one cannot,
    it is an error naming the file: training never silently starts over on
    top of a damaged run.
    """
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    checkpoint_object = gan.make_checkpoint(epoch)
    directory = pathlib.Path(run_dir) / CHECKPOINT_DIR
    manager = tf.train.CheckpointManager(
        checkpoint_object,
        str(save_dir or directory),
        max_to_keep=MAX_CHECKPOINTS,
    )
    candidates = [checkpoint] if checkpoint else checkpoint_candidates(run_dir)
    if not candidates:
        # No index file: no save ever finished (TensorFlow writes the index
        # last), so the run starts from its first epoch.
        return manager, epoch, None
    skipped = []
    for path in candidates:
        reason = _read_checkpoint(checkpoint_object, path)
        if reason is None:
            if skipped:
                (log or _to_stderr)(
                    f"Checkpoint {skipped[0][0]} cannot be read "
                    f"({skipped[0][1]}); using {path}, the newest one that "
                    "can."
                )
            return manager, epoch, path
        skipped.append((path, reason))
    path, reason = skipped[0]
    if checkpoint:
        raise RunError(
            f"checkpoint {path} is corrupt or from another model ({reason})."
        )
    raise RunError(
        f"no checkpoint of {run_dir} can be read (the newest, {path}: "
        f"{reason}); the run is left as it is: use a new --output."
    )


def _read_checkpoint(checkpoint_object, path):
    """Reads `path` into the trainer's objects; None on success, else the
    reason in one line."""
    try:
        status = checkpoint_object.read(path)
        status.assert_existing_objects_matched().expect_partial()
    except Exception as error:  # any damage: OpError, IndexError, ...
        text = str(error).strip().splitlines()
        return f"{type(error).__name__}: {text[0][:160] if text else ''}"
    return None


def _to_stderr(message):
    print(message, file=sys.stderr)


# --- summary ----------------------------------------------------------------


def summarize(run_dir, config, seconds, finished_epochs):
    """Writes summary.json (epochs done, the NLL-oracle after each phase,
    the text evaluation, wall time accumulated over invocations) and
    returns it."""
    run_dir = pathlib.Path(run_dir)
    t = config.training
    rows = json.loads((run_dir / METRICS_JSON).read_text())
    total = t.generator_epochs + t.discriminator_rounds + t.adversarial_rounds

    def last_nll(phase):
        values = [
            (int(r["epoch"]), float(r["nll_oracle"]))
            for r in rows
            if int(r["phase"]) == phase and r["nll_oracle"] not in ("", None)
        ]
        return values[-1] if values else (None, None)

    pre_epoch, pre_nll = last_nll(schedule.PHASES.index("generator"))
    adv_epoch, adv_nll = last_nll(schedule.PHASES.index("adversarial"))
    evaluation = read_json(run_dir / EVALUATION_FILE)
    previous = read_json(run_dir / SUMMARY_FILE)
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
    write_json(run_dir / SUMMARY_FILE, summary)
    return summary


def read_json(path):
    """The JSON value of `path`, or {} when there is no such file."""
    return json.loads(path.read_text()) if path.exists() else {}
