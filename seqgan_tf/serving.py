"""What an exported SavedModel serves: its signatures, the vocabulary
they read and write in the graph, the checks of a request, and TF
Serving's warmup requests (`seqgan_tf.export` writes the version folder).

`make_serving_functions` builds the signatures:

- `generate` (also `serving_default`):
  `num_samples` int32 scalar, `temperature` float32 scalar, `seed` int64 [2]
  -> `tokens` int32 [N, T], `text` string [N], `log_prob` float32 [N].
- `complete`: `prefix_tokens` int32 [N, P] (P <= T), `temperature`, `seed`
  -> the same outputs; each row keeps its P prefix tokens.
- `log_prob`: `tokens` int32 [N, T]
  -> `log_prob` float32 [N] and `token_log_probs` float32 [N, T].
- `prefix_text` (text models only, i.e. exported with a
  `seqgan_tf.data.Vocabulary`): `prefix_text` string [N] (each at most T - 1
  whitespace-separated tokens), `temperature`, `seed` -> the outputs of
  `generate`; each row starts with its prefix's ids.

`log_prob` outputs are always under the model itself (temperature 1), also
for sequences sampled at another temperature: they score a sequence, they do
not describe how it was drawn. For a variable-length generator (`eos_id`
set) they count only the positions up to and including the first EOS
(`seqgan_tf.data.padding_mask`); `token_log_probs` is 0 after it.

`text` is the ids as decimal strings for the oracle task (no vocabulary).
With a `seqgan_tf.data.Vocabulary` it is, computed in the graph, what
`separator.join(vocabulary.decode(row))` gives: the tokens before the first
EOS, PAD and BOS left out. `prefix_text` tokenises by whitespace splitting
only (`tf.strings.split`), then maps each token with a
`tf.lookup.StaticHashTable` (unknown -> UNK, id 3): clients send text
tokenised as the training corpus was.

Sampling reuses `seqgan_tf.sampler.sample`. The int64 `seed` pair is mapped
to the sampler's int32 pair by `seed mod (2**31 - 1)` element-wise (always
non-negative), so seeds in `[0, 2**31 - 2]` map to themselves and an export
gives the same tokens as `Generator.generate(n, seed=(a, b))` for them.

Invalid requests (`num_samples` < 1 or above `max_samples`, `temperature` <= 0
or NaN, token ids outside the vocabulary, a prefix longer than T (T - 1
tokens for `prefix_text`), `tokens` not of length T) fail inside the graph
with `InvalidArgumentError` naming the input; the server keeps running.

`warmup_inputs` is one small valid request per signature, and
`write_warmup_file` writes them as TF Serving's warmup file.
"""

from __future__ import annotations

import pathlib
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import sampler
from seqgan_tf.data.vocabulary import BOS_ID
from seqgan_tf.data.vocabulary import EOS_ID
from seqgan_tf.data.vocabulary import PAD_ID
from seqgan_tf.data.vocabulary import UNK_ID

if TYPE_CHECKING:
    import os
    from collections.abc import Callable
    from collections.abc import Iterable

    from numpy.typing import ArrayLike

    from seqgan_tf.data import Vocabulary
    from seqgan_tf.models import Generator
    from seqgan_tf.models import LeakGANGenerator

# The signatures of every export; text exports (a data vocabulary) add
# TEXT_SIGNATURE.
SIGNATURES = ("generate", "complete", "log_prob")
TEXT_SIGNATURE = "prefix_text"
# The sampler takes an int32 seed pair; requests carry int64 seeds.
SEED_MODULUS = 2**31 - 1


class ExportError(ValueError):
    """Bad export arguments (name, version, an existing version...)."""


def seed_to_int32(seed: ArrayLike) -> tf.Tensor:
    """Maps an int64 seed pair to the sampler's int32 pair:
    `seed mod (2**31 - 1)`, so `[0, 2**31 - 2]` maps to itself.

    Examples:
        >>> from seqgan_tf import serving
        >>> serving.seed_to_int32([2**31 - 1, 5]).numpy()
        array([0, 5], dtype=int32)
    """
    seed = tf.convert_to_tensor(seed, tf.int64)
    return tf.cast(tf.math.floormod(seed, SEED_MODULUS), tf.int32)


class GraphVocabulary:
    """Token strings held in the graph as a constant.

    `detokenize` is a gather plus a join, so TF Serving returns text. With
    `eos_id` set it also stops each row at its first EOS and leaves out the
    ids in `skip_ids` (PAD and BOS for a data vocabulary), the in-graph twin
    of `seqgan_tf.data.Vocabulary.decode(strip_special=True)`. The reverse
    direction (text -> ids, for the `prefix_text` signature) is
    `make_lookup_table`.

    Args:
        tokens: the token of each id, in id order.
        separator: joins the tokens of a row (" " for words, "" for
            characters).
        eos_id: None (every position is text, the oracle's default) or the
            id at which a row's text ends (the EOS itself is left out).
        skip_ids: ids left out of the text (only used with `eos_id`).
        unknown_id: the id of a token not in `tokens` (for
            `make_lookup_table`); None when text cannot be mapped back.

    Examples:
        >>> from seqgan_tf.serving import GraphVocabulary
        >>> vocabulary = GraphVocabulary(
        ...     ["<pad>", "<bos>", "<eos>", "<unk>", "a", "cat"],
        ...     eos_id=2, skip_ids=(0, 1), unknown_id=3)
        >>> vocabulary.detokenize([[4, 5, 2, 0], [1, 5, 5, 2]]).numpy()
        array([b'a cat', b'cat cat'], dtype=object)
        >>> GraphVocabulary.ids(20).detokenize([[3, 4, 5]]).numpy()  # oracle
        array([b'3 4 5'], dtype=object)
    """

    def __init__(
        self,
        tokens: Iterable[str],
        separator: str = " ",
        eos_id: int | None = None,
        skip_ids: Iterable[int] = (),
        unknown_id: int | None = None,
    ):
        self.tokens = [str(token) for token in tokens]
        self.separator = str(separator)
        self.eos_id = None if eos_id is None else int(eos_id)
        self.skip_ids = tuple(int(i) for i in skip_ids)
        self.unknown_id = None if unknown_id is None else int(unknown_id)

    @classmethod
    def ids(cls, vocabulary_size: int) -> GraphVocabulary:
        """The oracle task's vocabulary: each id as its decimal string."""
        return cls(str(i) for i in range(int(vocabulary_size)))

    @classmethod
    def from_data_vocabulary(
        cls, vocabulary: Vocabulary, separator: str = " "
    ) -> GraphVocabulary:
        """The graph twin of a `seqgan_tf.data.Vocabulary`: text stops at
        EOS and leaves out PAD and BOS; unknown words map to UNK."""
        return cls(
            vocabulary.tokens,
            separator=separator,
            eos_id=EOS_ID,
            skip_ids=(PAD_ID, BOS_ID),
            unknown_id=UNK_ID,
        )

    def __len__(self):
        return len(self.tokens)

    def detokenize(self, token_ids: ArrayLike) -> tf.Tensor:
        """int [N, T] ids -> string [N]; graph ops only, no Python."""
        table = tf.constant(self.tokens, dtype=tf.string)
        words = tf.gather(table, token_ids)
        if self.eos_id is None:
            return tf.strings.reduce_join(
                words, axis=-1, separator=self.separator
            )
        # Strictly before the first EOS, and not a skipped id.
        is_eos = tf.cast(tf.equal(token_ids, self.eos_id), tf.int32)
        keep = tf.equal(tf.cumsum(is_eos, axis=-1), 0)
        for skip_id in self.skip_ids:
            keep = tf.logical_and(keep, tf.not_equal(token_ids, skip_id))
        kept = tf.ragged.boolean_mask(words, keep)
        return tf.strings.reduce_join(kept, axis=-1, separator=self.separator)

    def make_lookup_table(
        self, unknown_id: int | None = None
    ) -> tf.lookup.StaticHashTable:
        """A text -> int32 id table (for the `prefix_text` signature); the
        caller must `archive.track()` it so it is saved as a resource."""
        if unknown_id is None:
            unknown_id = self.unknown_id
        if unknown_id is None:
            raise ExportError("this vocabulary has no unknown-token id.")
        return tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(self.tokens, tf.string),
                tf.range(len(self.tokens), dtype=tf.int32),
            ),
            default_value=tf.constant(int(unknown_id), tf.int32),
        )


# --- the serving functions ----------------------------------------------------


def _check_rows(rows, max_samples, name):
    return [
        tf.debugging.assert_greater_equal(
            rows, 1, message=f"`{name}` must be >= 1"
        ),
        tf.debugging.assert_less_equal(
            rows,
            max_samples,
            message=(
                f"`{name}` must be <= {max_samples} (the cap of this export)"
            ),
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


def make_serving_functions(
    generator: Generator | LeakGANGenerator,
    vocabulary: GraphVocabulary,
    max_samples: int,
    lookup_table: tf.lookup.StaticHashTable | None = None,
) -> dict[str, tuple[Callable[..., dict[str, tf.Tensor]], list[tf.TensorSpec]]]:
    """The endpoint functions and their input signatures.

    `generate`, `complete` and `log_prob` always; `prefix_text` when a
    text -> id `lookup_table` (from `GraphVocabulary.make_lookup_table`) is
    given.
    """
    length = generator.sequence_length
    vocabulary_size = generator.vocabulary_size
    eos_id = generator.eos_id

    def scored(tokens):
        """Per-token log-probabilities, zero after each row's first EOS
        (variable-length generators only), and their sum."""
        token_log_probs = tf.cast(generator.log_prob(tokens), tf.float32)
        if eos_id is not None:
            token_log_probs, _ = losses.masked_log_probs(
                token_log_probs, tokens, eos_id
            )
        return token_log_probs, tf.reduce_sum(token_log_probs, axis=1)

    def outputs(tokens):
        _, total = scored(tokens)
        return {
            "tokens": tokens,
            "text": vocabulary.detokenize(tokens),
            "log_prob": total,
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
                message=(
                    "`prefix_tokens` is longer than the sequence length "
                    f"{length}"
                ),
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
                message=(
                    f"`tokens` must have length {length} (the sequence length)"
                ),
            )
        )
        checks += _check_ids(tokens, vocabulary_size, "tokens")
        with tf.control_dependencies(checks):
            tokens = tf.ensure_shape(tf.identity(tokens), [None, length])
        token_log_probs, total = scored(tokens)
        return {"log_prob": total, "token_log_probs": token_log_probs}

    def prefix_text(prefix_text, temperature, seed):
        # Whitespace splitting is the whole in-graph tokenisation: clients
        # send text tokenised the way the training data was.
        words = tf.strings.split(prefix_text)
        ids = tf.cast(lookup_table.lookup(words), tf.int32)
        lengths = tf.cast(ids.row_lengths(), tf.int32)
        checks = _check_rows(tf.size(prefix_text), max_samples, "prefix_text")
        checks.append(
            tf.debugging.assert_less_equal(
                tf.reduce_max(tf.concat([lengths, [0]], axis=0)),
                length - 1,
                message=f"`prefix_text` holds a prefix of more than "
                f"{length - 1} tokens (the sequence length {length} minus "
                "one)",
            )
        )
        checks += _check_temperature(temperature)
        with tf.control_dependencies(checks):
            lengths = tf.identity(lengths)
            prefix = tf.identity(
                ids.to_tensor(default_value=0, shape=[None, length])
            )
        prefix = tf.ensure_shape(prefix, [None, length])
        return run_sampler(prefix, lengths, temperature, seed)

    scalar_temperature = tf.TensorSpec([], tf.float32, name="temperature")
    seed_spec = tf.TensorSpec([2], tf.int64, name="seed")
    functions = {
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
    if lookup_table is not None:
        functions["prefix_text"] = (
            prefix_text,
            [
                tf.TensorSpec([None], tf.string, name="prefix_text"),
                scalar_temperature,
                seed_spec,
            ],
        )
    return functions


# --- warmup requests ---------------------------------------------------------


def warmup_inputs(
    sequence_length: int, prefix_word: str | None = None
) -> dict[str, dict[str, np.ndarray]]:
    """One small valid request per signature: {signature: {key: array}}.

    With `prefix_word` (a token of a text vocabulary) there is also a
    `prefix_text` request: an empty prefix and a one-word one.

    Examples:
        >>> from seqgan_tf import serving
        >>> requests = serving.warmup_inputs(6, prefix_word="a")
        >>> sorted(requests)
        ['complete', 'generate', 'log_prob', 'prefix_text']
        >>> requests["log_prob"]["tokens"].shape
        (2, 6)
    """
    prefix = np.zeros((2, min(2, sequence_length)), np.int32)
    inputs = {
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
    if prefix_word is not None:
        word = str(prefix_word) if sequence_length > 1 else ""
        inputs["prefix_text"] = {
            "prefix_text": np.array(["", word], object),
            "temperature": np.float32(1.0),
            "seed": np.array([0, 0], np.int64),
        }
    return inputs


def write_warmup_file(
    path: str | os.PathLike,
    model_name: str,
    sequence_length: int,
    prefix_word: str | None = None,
) -> None:
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
        requests = warmup_inputs(sequence_length, prefix_word)
        for signature, inputs in requests.items():
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
