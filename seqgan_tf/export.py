"""Export a trained generator as a TF Serving SavedModel.

`export_generator` writes `<output>/<name>/<version>/` (TF Serving's layout)
with `keras.export.ExportArchive` and the signatures of `seqgan_tf.serving`
(`generate`, also `serving_default`; `complete`; `log_prob`; for text
models, i.e. exported with a `seqgan_tf.data.Vocabulary`, `prefix_text`);
`export_run` exports the generator of a training run, and
`resolve_saved_model` finds the version `seqgan-tf generate --saved-model`
loads.

Beside the graph, the version folder holds `assets/seqgan_tf_metadata.json`
(vocabulary size, sequence length, preset, git revision, package version,
signatures; for text models the vocabulary's facts), for text models
`assets/vocabulary.txt` (the format of `Vocabulary.save`), and
`assets.extra/tf_serving_warmup_requests`: a TFRecord of `PredictionLog`
protos, one small valid request per signature, which TF Serving replays
before it marks the version as available.

The write is atomic: everything goes to a temporary folder beside the
version (`.<version>.tmp-<pid>`, a name TF Serving ignores), renamed into
place only when complete. A failed export leaves nothing; one killed
mid-write leaves its temporary folder, which the next export into the same
model folder removes (its process is gone). An existing version is
replaced only with `overwrite=True`.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from seqgan_tf import runs
from seqgan_tf.data.vocabulary import BOS_ID
from seqgan_tf.data.vocabulary import EOS_ID
from seqgan_tf.data.vocabulary import NUM_SPECIAL
from seqgan_tf.data.vocabulary import PAD_ID
from seqgan_tf.data.vocabulary import UNK_ID
from seqgan_tf.data.vocabulary import Vocabulary
from seqgan_tf.serving import SEED_MODULUS  # noqa: F401
from seqgan_tf.serving import SIGNATURES
from seqgan_tf.serving import TEXT_SIGNATURE
from seqgan_tf.serving import ExportError
from seqgan_tf.serving import GraphVocabulary
from seqgan_tf.serving import make_serving_functions
from seqgan_tf.serving import seed_to_int32  # noqa: F401
from seqgan_tf.serving import warmup_inputs  # noqa: F401
from seqgan_tf.serving import write_warmup_file

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from seqgan_tf.experiment import RestoredRun
    from seqgan_tf.models import Generator
    from seqgan_tf.models import LeakGANGenerator

DEFAULT_MAX_SAMPLES = 10000
METADATA_FILE = "seqgan_tf_metadata.json"
WARMUP_FILE = "tf_serving_warmup_requests"
VOCABULARY_FILE = runs.VOCABULARY_FILE


def git_revision():
    """`git rev-parse HEAD` of the source tree, or "unknown"."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            check=False,
            cwd=pathlib.Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    revision = result.stdout.strip()
    return revision if result.returncode == 0 and revision else "unknown"


def _package_version():
    try:
        return package_version("seqgan-tf")
    except PackageNotFoundError:  # run from a source tree
        return "unknown"


# --- writing a version --------------------------------------------------------


def existing_versions(model_dir: str | os.PathLike) -> list[int]:
    """Sorted integer version folders of `model_dir`."""
    model_dir = pathlib.Path(model_dir)
    if not model_dir.is_dir():
        return []
    return sorted(
        int(p.name)
        for p in model_dir.iterdir()
        if p.is_dir() and p.name.isdigit()
    )


def _check_name(name):
    name = str(name)
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or os.sep in name
        or name.startswith(".")
    ):
        raise ExportError(
            f"model name {name!r} must be a plain folder name "
            "(no '/', not starting with '.')."
        )
    return name


def export_generator(
    generator: Generator | LeakGANGenerator,
    output: str | os.PathLike,
    name: str,
    version: int | None = None,
    overwrite: bool = False,
    metadata: Mapping[str, Any] | None = None,
    max_samples: int = DEFAULT_MAX_SAMPLES,
    vocabulary: Vocabulary | GraphVocabulary | None = None,
    separator: str | None = None,
) -> pathlib.Path:
    """Exports `generator` to `<output>/<name>/<version>/`.

    Args:
        generator: a built `seqgan_tf.Generator`.
        output: base folder of TF Serving models (e.g. `export/models`).
        name: model name (a folder name).
        version: positive int; default: one more than the highest existing
            version (1 for a new model).
        overwrite: replace an existing version; without it an existing
            version is an `ExportError`.
        metadata: extra JSON-serialisable entries for the metadata file
            (e.g. `{"preset": "paper"}`).
        max_samples: the largest `num_samples` (or batch) a request may ask
            for; larger requests fail with `InvalidArgumentError`.
        vocabulary: None (the oracle task: `text` is the ids as decimal
            strings), a `seqgan_tf.data.Vocabulary` (a text model: `text`
            stops at the first EOS and leaves out PAD and BOS, the
            vocabulary is written to `assets/vocabulary.txt`, and the
            `prefix_text` signature is added), or a `GraphVocabulary`.
        separator: joins the tokens of `text`; default " " (words). Pass ""
            for a character-level vocabulary.
            A `"tokenizer"` entry of `metadata` is also recorded with the
            vocabulary's facts in the metadata file.

    Returns:
        `pathlib.Path` of the version folder.

    Examples:
        >>> import tensorflow as tf
        >>> import seqgan_tf
        >>> from seqgan_tf import export
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> path = export.export_generator(generator, "export/models", "tiny")
        >>> str(path)  # version 1 of the model "tiny"
        'export/models/tiny/1'
        >>> served = tf.saved_model.load(str(path))
        >>> sorted(served.signatures)
        ['complete', 'generate', 'log_prob', 'serving_default']
        >>> outputs = served.signatures["generate"](
        ...     num_samples=tf.constant(2), temperature=tf.constant(1.0),
        ...     seed=tf.constant([0, 7], tf.int64))
        >>> sorted(outputs)
        ['log_prob', 'text', 'tokens']
        >>> bool(tf.reduce_all(  # what `generate` gives with the same seed
        ...     outputs["tokens"] == generator.generate(2, seed=(0, 7))))
        True
    """
    name = _check_name(name)
    max_samples = int(max_samples)
    if max_samples < 1:
        raise ExportError(f"max_samples must be >= 1, got {max_samples}.")
    data_vocabulary = None
    if _is_data_vocabulary(vocabulary):
        data_vocabulary = vocabulary
        _check_text_generator(generator)
        vocabulary = GraphVocabulary.from_data_vocabulary(
            data_vocabulary, " " if separator is None else separator
        )
    elif vocabulary is None:
        vocabulary = GraphVocabulary.ids(generator.vocabulary_size)
        if separator is not None:
            vocabulary.separator = str(separator)
    elif isinstance(vocabulary, GraphVocabulary):
        if separator is not None:
            vocabulary = GraphVocabulary(
                vocabulary.tokens,
                separator,
                vocabulary.eos_id,
                vocabulary.skip_ids,
                vocabulary.unknown_id,
            )
    else:
        raise ExportError(
            "vocabulary must be None, a seqgan_tf.data.Vocabulary or an "
            f"export.GraphVocabulary, got {type(vocabulary).__name__}."
        )
    if len(vocabulary) != generator.vocabulary_size:
        raise ExportError(
            f"the vocabulary has {len(vocabulary)} tokens but the generator "
            f"{generator.vocabulary_size}."
        )
    signatures = SIGNATURES + (
        (TEXT_SIGNATURE,) if data_vocabulary is not None else ()
    )
    model_dir = pathlib.Path(output) / name
    if version is None:
        versions = existing_versions(model_dir)
        version = versions[-1] + 1 if versions else 1
    else:
        try:
            valid = not isinstance(version, bool) and int(version) == version
        except (TypeError, ValueError):
            valid = False
        if not valid or int(version) < 1:
            raise ExportError(
                f"version must be a positive integer, got {version!r}."
            )
    version = int(version)
    target = model_dir / str(version)
    if target.exists() and not overwrite:
        raise ExportError(
            f"{target} already exists; use another version or overwrite."
        )

    info = {
        "vocabulary_size": generator.vocabulary_size,
        "sequence_length": generator.sequence_length,
        "start_token": generator.start_token,
        "embedding_dim": generator.embedding_dim,
        "hidden_dim": generator.hidden_dim,
        "preset": None,
        "git_revision": git_revision(),
        "seqgan_tf_version": _package_version(),
        "tensorflow_version": tf.__version__,
        "keras_version": keras.__version__,
        "signatures": ["serving_default", *signatures],
        "serving_default": "generate",
        "max_samples": max_samples,
        "seed_mapping": "int32 seed = int64 seed mod (2**31 - 1)",
        "model_name": name,
        "version": version,
    }
    info.update(metadata or {})
    if data_vocabulary is not None:
        info["vocabulary"] = {
            "file": VOCABULARY_FILE,
            "size": len(data_vocabulary),
            "separator": vocabulary.separator,
            "pad_id": PAD_ID,
            "bos_id": BOS_ID,
            "eos_id": EOS_ID,
            "unk_id": UNK_ID,
            "generator_eos_id": generator.eos_id,
            "generator_pad_id": generator.pad_id,
            "tokenizer": (metadata or {}).get("tokenizer"),
            "prefix_text_tokenization": "whitespace split (tf.strings.split)",
            "text": "tokens before the first EOS, without PAD and BOS, "
            "joined by the separator",
        }

    model_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(model_dir)
    temporary = model_dir / f".{version}.tmp-{os.getpid()}"
    if temporary.exists():
        shutil.rmtree(temporary)
    try:
        archive = keras.export.ExportArchive()
        archive.track(generator)
        lookup_table = None
        if data_vocabulary is not None:
            lookup_table = vocabulary.make_lookup_table()
            archive.track(lookup_table)  # saved as a resource of the graph
        functions = make_serving_functions(
            generator, vocabulary, max_samples, lookup_table
        )
        for signature in signatures:  # the first one is serving_default
            fn, input_signature = functions[signature]
            archive.add_endpoint(signature, fn, input_signature=input_signature)
        archive.write_out(str(temporary), verbose=False)
        assets = temporary / "assets"
        assets.mkdir(exist_ok=True)
        (assets / METADATA_FILE).write_text(
            json.dumps(info, indent=2, sort_keys=True) + "\n"
        )
        if data_vocabulary is not None:
            _write_vocabulary_file(assets / VOCABULARY_FILE, data_vocabulary)
        write_warmup_file(
            temporary / "assets.extra" / WARMUP_FILE,
            name,
            generator.sequence_length,
            _warmup_word(data_vocabulary),
        )
        _move_into_place(temporary, target, overwrite)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return target


def remove_stale_temporaries(
    model_dir: str | os.PathLike,
) -> list[pathlib.Path]:
    """Removes the temporary folders (`.<version>.tmp-<pid>`) that exports
    killed before they finished left in `model_dir`: those whose process
    is gone. Returns their paths."""
    removed = []
    for path in pathlib.Path(model_dir).glob(".*.tmp-*"):
        pid = path.name.rpartition(".tmp-")[2]
        if path.is_dir() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _is_data_vocabulary(vocabulary):
    return isinstance(vocabulary, Vocabulary)


def _check_text_generator(generator):
    """A text model's generator must use the data vocabulary's EOS/PAD ids
    (or be fixed-length, eos_id None)."""
    if generator.eos_id is None:
        return
    if generator.eos_id != EOS_ID or generator.pad_id != PAD_ID:
        raise ExportError(
            f"the generator has eos_id={generator.eos_id}, "
            f"pad_id={generator.pad_id} but a seqgan_tf.data.Vocabulary has "
            f"EOS {EOS_ID} and PAD {PAD_ID}; build it with "
            f"Generator(..., eos_id={EOS_ID}, pad_id={PAD_ID})."
        )


def _write_vocabulary_file(path, vocabulary):
    """The format of `Vocabulary.save` (one token a line, UTF-8), without
    changing the vocabulary's own `path`."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(token + "\n" for token in vocabulary.tokens)


def _warmup_word(data_vocabulary):
    """A token for the `prefix_text` warmup request (None: no request)."""
    if data_vocabulary is None:
        return None
    tokens = data_vocabulary.tokens
    for token in tokens[NUM_SPECIAL:] + [tokens[UNK_ID]]:
        if token.split() == [token]:  # survives whitespace splitting
            return token
    return ""


def _move_into_place(temporary, target, overwrite):
    if not target.exists():
        os.rename(temporary, target)
        return
    if not overwrite:
        raise ExportError(f"{target} already exists; use overwrite.")
    # The old version moves aside first, so the folder always holds a
    # complete version (old or new) except between two renames.
    retired = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, retired)
    try:
        os.rename(temporary, target)
    except BaseException:
        os.rename(retired, target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def export_run(
    run: RestoredRun,
    output: str | os.PathLike,
    name: str,
    version: int | None = None,
    overwrite: bool = False,
) -> pathlib.Path:
    """Exports the generator of a restored training run
    (`seqgan_tf.experiment.restore_run(run_dir)`).

    A text run is exported with its vocabulary: `text` outputs words
    (characters, joined by "", when the run's `data.tokenizer` is
    "character") and the `prefix_text` signature is added.
    """
    metadata = {
        "preset": run.config.preset,
        "task": run.config.data.task,
        "checkpoint_epoch": run.epoch,
        "run_dir": str(pathlib.Path(run.run_dir).resolve()),
    }
    vocabulary, separator = run.vocabulary, None
    if vocabulary is not None:
        size = run.gan.generator.vocabulary_size
        if len(vocabulary) != size:
            raise ExportError(
                f"{vocabulary.path or 'the run vocabulary'} has "
                f"{len(vocabulary)} tokens but the checkpoint's generator "
                f"has a vocabulary of {size}; was the run's vocabulary file "
                "replaced?"
            )
        tokenizer = run.config.data.tokenizer
        separator = "" if tokenizer == "character" else " "
        metadata["tokenizer"] = tokenizer
    return export_generator(
        run.gan.generator,
        output,
        name,
        version=version,
        overwrite=overwrite,
        metadata=metadata,
        vocabulary=vocabulary,
        separator=separator,
    )


# --- loading (for `seqgan-tf generate --saved-model`) -------------------------


def resolve_saved_model(path: str | os.PathLike) -> pathlib.Path:
    """The version folder of `path`: `path` itself if it is one, the
    highest version of a model folder else (an `ExportError` if neither).

    Examples:
        A model folder of two versions (the files a version needs to be
        found):

        >>> import pathlib
        >>> from seqgan_tf import export
        >>> for version in (1, 2):
        ...     folder = pathlib.Path(f"export/models/two/{version}")
        ...     folder.mkdir(parents=True, exist_ok=True)
        ...     (folder / "saved_model.pb").touch()
        >>> export.existing_versions("export/models/two")
        [1, 2]
        >>> str(export.resolve_saved_model("export/models/two"))
        'export/models/two/2'
    """
    path = pathlib.Path(path)
    if (path / "saved_model.pb").exists():
        return path
    versions = existing_versions(path)
    if versions and (path / str(versions[-1]) / "saved_model.pb").exists():
        return path / str(versions[-1])
    raise ExportError(
        f"{path} is neither a SavedModel version folder nor a model folder "
        "holding numbered versions."
    )
