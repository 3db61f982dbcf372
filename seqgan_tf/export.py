"""Export a trained generator as a TF Serving SavedModel.

`export_generator` writes `<output>/<name>/<version>/` (TF Serving's layout)
with `keras.export.ExportArchive` and three explicit signatures:

- `generate` (also `serving_default`):
  `num_samples` int32 scalar, `temperature` float32 scalar, `seed` int64 [2]
  -> `tokens` int32 [N, T], `text` string [N], `log_prob` float32 [N].
- `complete`: `prefix_tokens` int32 [N, P] (P <= T), `temperature`, `seed`
  -> the same outputs; each row keeps its P prefix tokens.
- `log_prob`: `tokens` int32 [N, T]
  -> `log_prob` float32 [N] and `token_log_probs` float32 [N, T].

`log_prob` outputs are always under the model itself (temperature 1), also
for sequences sampled at another temperature: they score a sequence, they do
not describe how it was drawn.

Sampling reuses `seqgan_tf.sampler.sample`. The int64 `seed` pair is mapped
to the sampler's int32 pair by `seed mod (2**31 - 1)` element-wise (always
non-negative), so seeds in `[0, 2**31 - 2]` map to themselves and an export
gives the same tokens as `Generator.generate(n, seed=(a, b))` for them.

Invalid requests (`num_samples` < 1 or above `max_samples`, `temperature` <= 0
or NaN, token ids outside the vocabulary, a prefix longer than T, `tokens` not
of length T) fail inside the graph with `InvalidArgumentError` naming the
input; the server keeps running.

Beside the graph, the version folder holds `assets/seqgan_tf_metadata.json`
(vocabulary size, sequence length, preset, git revision, package version,
signatures) and `assets.extra/tf_serving_warmup_requests`: a TFRecord of
`PredictionLog` protos, one small valid request per signature, which TF
Serving replays before it marks the version as available.

The write is atomic: everything goes to a temporary folder beside the
version (`.<version>.tmp-<pid>`, a name TF Serving ignores), renamed into
place only when complete. A failed or interrupted export leaves nothing; an
existing version is replaced only with `overwrite=True`.
"""

import json
import os
import pathlib
import shutil
import subprocess

import tensorflow as tf

DEFAULT_MAX_SAMPLES = 10000
METADATA_FILE = "seqgan_tf_metadata.json"
WARMUP_FILE = "tf_serving_warmup_requests"
SIGNATURES = ("generate", "complete", "log_prob")
# The sampler takes an int32 seed pair; requests carry int64 seeds.
SEED_MODULUS = 2**31 - 1


class ExportError(ValueError):
    """Bad export arguments (name, version, an existing version...)."""


def seed_to_int32(seed):
    """Maps an int64 seed pair to the sampler's int32 pair:
    `seed mod (2**31 - 1)`, so `[0, 2**31 - 2]` maps to itself."""
    seed = tf.convert_to_tensor(seed, tf.int64)
    return tf.cast(tf.math.floormod(seed, SEED_MODULUS), tf.int32)


class Vocabulary:
    """Token strings held in the graph as a constant.

    `detokenize` is a gather plus a join, so TF Serving returns text. The
    reverse direction for word vocabularies (text -> ids with a
    `tf.lookup.StaticHashTable`, created here and tracked by the archive so
    it is saved as a resource) belongs to the `prefix_text` signature of a
    later release; `make_lookup_table` is where it goes.
    """

    def __init__(self, tokens, separator=" "):
        self.tokens = [str(token) for token in tokens]
        self.separator = separator

    @classmethod
    def ids(cls, vocabulary_size):
        """The oracle task's vocabulary: each id as its decimal string."""
        return cls(str(i) for i in range(int(vocabulary_size)))

    def __len__(self):
        return len(self.tokens)

    def detokenize(self, token_ids):
        """int [N, T] ids -> string [N]; one graph constant, no Python."""
        table = tf.constant(self.tokens, dtype=tf.string)
        words = tf.gather(table, token_ids)
        return tf.strings.reduce_join(
            words, axis=-1, separator=self.separator
        )

    def make_lookup_table(self, unknown_id):
        """A text -> id table (for the word-vocabulary `prefix_text`
        signature); the caller must `archive.track()` it."""
        return tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(self.tokens),
                tf.range(len(self.tokens), dtype=tf.int32),
            ),
            default_value=unknown_id,
        )


def git_revision():
    """`git rev-parse HEAD` of the source tree, or "unknown"."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
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
        from importlib.metadata import version

        return version("seqgan-tf")
    except Exception:  # noqa: BLE001 - not installed: fall back
        import seqgan_tf

        return getattr(seqgan_tf, "__version__", "unknown")


# --- the serving functions ----------------------------------------------------


def _check_rows(rows, max_samples, name):
    return [
        tf.debugging.assert_greater_equal(
            rows, 1, message=f"`{name}` must be >= 1"
        ),
        tf.debugging.assert_less_equal(
            rows,
            max_samples,
            message=f"`{name}` must be <= {max_samples} "
            "(the cap of this export)",
        ),
    ]


def _check_temperature(temperature):
    # NaN fails `> 0` too.
    return [
        tf.debugging.assert_positive(
            temperature, message="`temperature` must be > 0"
        )
    ]


def _check_ids(token_ids, vocabulary_size, name):
    return [
        tf.debugging.assert_non_negative(
            token_ids, message=f"`{name}` holds a negative token id"
        ),
        tf.debugging.assert_less(
            token_ids,
            tf.constant(vocabulary_size, tf.int32),
            message=f"`{name}` holds a token id >= the vocabulary size "
            f"{vocabulary_size}",
        ),
    ]


def make_serving_functions(generator, vocabulary, max_samples):
    """The three endpoint functions and their input signatures."""
    from seqgan_tf import sampler

    length = generator.sequence_length
    vocabulary_size = generator.vocabulary_size

    def outputs(tokens):
        token_log_probs = tf.cast(generator.log_prob(tokens), tf.float32)
        return {
            "tokens": tokens,
            "text": vocabulary.detokenize(tokens),
            "log_prob": tf.reduce_sum(token_log_probs, axis=1),
        }

    def run_sampler(prefix, prefix_length, temperature, seed):
        tokens = sampler.sample(
            generator,
            prefix,
            prefix_length,
            seed_to_int32(seed),
            temperature=temperature,
        )
        return outputs(tf.ensure_shape(tokens, [None, length]))

    def generate(num_samples, temperature, seed):
        checks = _check_rows(num_samples, max_samples, "num_samples")
        checks += _check_temperature(temperature)
        with tf.control_dependencies(checks):
            num_samples = tf.identity(num_samples)
        prefix = tf.zeros(tf.stack([num_samples, length]), tf.int32)
        prefix_length = tf.zeros(tf.stack([num_samples]), tf.int32)
        return run_sampler(prefix, prefix_length, temperature, seed)

    def complete(prefix_tokens, temperature, seed):
        shape = tf.shape(prefix_tokens)
        checks = _check_rows(shape[0], max_samples, "prefix_tokens")
        checks.append(
            tf.debugging.assert_less_equal(
                shape[1],
                length,
                message=f"`prefix_tokens` is longer than the sequence "
                f"length {length}",
            )
        )
        checks += _check_ids(prefix_tokens, vocabulary_size, "prefix_tokens")
        checks += _check_temperature(temperature)
        with tf.control_dependencies(checks):
            prefix_tokens = tf.identity(prefix_tokens)
        width = shape[1]
        prefix = tf.pad(prefix_tokens, [[0, 0], [0, length - width]])
        prefix = tf.ensure_shape(prefix, [None, length])
        prefix_length = tf.fill(shape[:1], width)
        return run_sampler(prefix, prefix_length, temperature, seed)

    def log_prob(tokens):
        shape = tf.shape(tokens)
        checks = _check_rows(shape[0], max_samples, "tokens")
        checks.append(
            tf.debugging.assert_equal(
                shape[1],
                length,
                message=f"`tokens` must have length {length} "
                "(the sequence length)",
            )
        )
        checks += _check_ids(tokens, vocabulary_size, "tokens")
        with tf.control_dependencies(checks):
            tokens = tf.ensure_shape(tf.identity(tokens), [None, length])
        token_log_probs = tf.cast(generator.log_prob(tokens), tf.float32)
        return {
            "log_prob": tf.reduce_sum(token_log_probs, axis=1),
            "token_log_probs": token_log_probs,
        }

    scalar_temperature = tf.TensorSpec([], tf.float32, name="temperature")
    seed_spec = tf.TensorSpec([2], tf.int64, name="seed")
    return {
        "generate": (
            generate,
            [
                tf.TensorSpec([], tf.int32, name="num_samples"),
                scalar_temperature,
                seed_spec,
            ],
        ),
        "complete": (
            complete,
            [
                tf.TensorSpec([None, None], tf.int32, name="prefix_tokens"),
                scalar_temperature,
                seed_spec,
            ],
        ),
        "log_prob": (
            log_prob,
            [tf.TensorSpec([None, None], tf.int32, name="tokens")],
        ),
    }


# --- warmup requests ---------------------------------------------------------


def warmup_inputs(sequence_length):
    """One small valid request per signature: {signature: {key: array}}."""
    import numpy as np

    prefix = np.zeros((2, min(2, sequence_length)), np.int32)
    return {
        "generate": {
            "num_samples": np.int32(2),
            "temperature": np.float32(1.0),
            "seed": np.array([0, 0], np.int64),
        },
        "complete": {
            "prefix_tokens": prefix,
            "temperature": np.float32(1.0),
            "seed": np.array([0, 0], np.int64),
        },
        "log_prob": {
            "tokens": np.zeros((2, sequence_length), np.int32),
        },
    }


def write_warmup_file(path, model_name, sequence_length):
    """Writes TF Serving's `assets.extra/tf_serving_warmup_requests`."""
    try:
        from tensorflow_serving.apis import model_pb2
        from tensorflow_serving.apis import predict_pb2
        from tensorflow_serving.apis import prediction_log_pb2
    except ImportError as error:
        raise ImportError(
            "Writing TF Serving warmup requests needs the "
            "`tensorflow-serving-api` package (pip install "
            "tensorflow-serving-api==2.21.0)."
        ) from error
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for signature, inputs in warmup_inputs(sequence_length).items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(
                    name=model_name, signature_name=signature
                )
            )
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())


# --- writing a version --------------------------------------------------------


def existing_versions(model_dir):
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
    generator,
    output,
    name,
    version=None,
    overwrite=False,
    metadata=None,
    max_samples=DEFAULT_MAX_SAMPLES,
    vocabulary=None,
):
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
        vocabulary: a `Vocabulary`; default: ids as decimal strings.

    Returns:
        `pathlib.Path` of the version folder.
    """
    import keras

    name = _check_name(name)
    max_samples = int(max_samples)
    if max_samples < 1:
        raise ExportError(f"max_samples must be >= 1, got {max_samples}.")
    if vocabulary is None:
        vocabulary = Vocabulary.ids(generator.vocabulary_size)
    if len(vocabulary) != generator.vocabulary_size:
        raise ExportError(
            f"the vocabulary has {len(vocabulary)} tokens but the generator "
            f"{generator.vocabulary_size}."
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
        "signatures": ["serving_default", *SIGNATURES],
        "serving_default": "generate",
        "max_samples": max_samples,
        "seed_mapping": "int32 seed = int64 seed mod (2**31 - 1)",
        "model_name": name,
        "version": version,
    }
    info.update(metadata or {})

    model_dir.mkdir(parents=True, exist_ok=True)
    temporary = model_dir / f".{version}.tmp-{os.getpid()}"
    if temporary.exists():
        shutil.rmtree(temporary)
    try:
        archive = keras.export.ExportArchive()
        archive.track(generator)
        functions = make_serving_functions(generator, vocabulary, max_samples)
        for signature in SIGNATURES:  # the first one is serving_default
            fn, input_signature = functions[signature]
            archive.add_endpoint(signature, fn, input_signature=input_signature)
        archive.write_out(str(temporary), verbose=False)
        assets = temporary / "assets"
        assets.mkdir(exist_ok=True)
        (assets / METADATA_FILE).write_text(
            json.dumps(info, indent=2, sort_keys=True) + "\n"
        )
        write_warmup_file(
            temporary / "assets.extra" / WARMUP_FILE,
            name,
            generator.sequence_length,
        )
        _move_into_place(temporary, target, overwrite)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return target


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


def export_run(run_dir, output, name, version=None, overwrite=False):
    """Exports the generator of the newest checkpoint of a training run."""
    from seqgan_tf import cli

    config, gan, epoch = cli._restored_gan(run_dir, None)
    metadata = {
        "preset": config.preset,
        "task": config.data.task,
        "checkpoint_epoch": epoch,
        "run_dir": str(pathlib.Path(run_dir).resolve()),
    }
    return export_generator(
        gan.generator,
        output,
        name,
        version=version,
        overwrite=overwrite,
        metadata=metadata,
    )


# --- loading (for `seqgan-tf generate --saved-model`) -------------------------


def resolve_saved_model(path):
    """A version folder, or a model folder (-> its highest version)."""
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
