"""tf.data input pipelines: token lists -> padded int32 [N, T] -> batches.

Sequences end in EOS and are padded with PAD (0) to a fixed length T, so the
fixed-shape models train on variable-length text unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from seqgan_tf.data.corpus import read_corpus
from seqgan_tf.data.vocabulary import EOS_ID
from seqgan_tf.data.vocabulary import PAD_ID
from seqgan_tf.seeds import seed_pair

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from seqgan_tf.data.corpus import CorpusReport
    from seqgan_tf.data.tokenizers import Tokenizer
    from seqgan_tf.data.vocabulary import Vocabulary

ENCODE_OVERFLOW_MODES = ("drop", "truncate", "error")


@dataclasses.dataclass(frozen=True)
class EncodeReport:
    """What `encode_corpus` kept, cut and dropped.

    Attributes:
        num_input: sequences given.
        num_kept: rows of the returned array.
        dropped_too_long: sequences longer than `sequence_length` (EOS
            counted), dropped (`overflow="drop"`).
        truncated: such sequences cut to fit (`overflow="truncate"`).
        unknown_tokens: tokens not in the vocabulary, encoded as UNK.
        sequence_length: T, the padded length.
        longest: the longest encoded sequence (EOS counted), before any
            truncation.

    Examples:
        >>> from seqgan_tf.data import Vocabulary, encode_corpus
        >>> vocabulary = Vocabulary.build([["a", "cat"]])
        >>> _, _, report = encode_corpus(
        ...     [["a", "cat"], ["a", "big", "cat", "sat"]], vocabulary, 4)
        >>> print(report.summary())
        1 of 2 sequences encoded to length 4 (longest 5 ids); 1 too long,
        dropped; 2 unknown tokens mapped to UNK.
    """

    num_input: int
    num_kept: int
    dropped_too_long: int
    truncated: int
    unknown_tokens: int
    sequence_length: int
    longest: int

    def summary(self) -> str:
        """One line for a log."""
        parts = [
            f"{self.num_kept:,} of {self.num_input:,} sequences encoded to "
            f"length {self.sequence_length} (longest {self.longest} ids)"
        ]
        for count, what in (
            (self.dropped_too_long, "too long, dropped"),
            (self.truncated, "too long, truncated"),
            (self.unknown_tokens, "unknown tokens mapped to UNK"),
        ):
            if count:
                parts.append(f"{count:,} {what}")
        return "; ".join(parts) + "."


def encode_corpus(
    sequences: Iterable[Sequence[str]],
    vocabulary: Vocabulary,
    sequence_length: int,
    add_eos: bool = True,
    overflow: str = "drop",
) -> tuple[np.ndarray, np.ndarray, EncodeReport]:
    """Encodes token lists into a padded int32 [N, T] array.

    Every row is the `Vocabulary.encode` ids of one sequence, EOS appended
    (with `add_eos`), then PAD (0) up to `sequence_length`. A sequence whose
    ids (EOS counted) do not fit is dropped, or truncated to its first
    `sequence_length - 1` tokens followed by EOS, so that a truncated row
    still teaches the model to stop. Without `add_eos`, truncation keeps the
    first `sequence_length` tokens.

    Args:
        sequences: an iterable of token lists (e.g. `CorpusReport.sequences`).
        vocabulary: the `Vocabulary`.
        sequence_length: T, the models' `sequence_length`.
        add_eos: append EOS to every sequence.
        overflow: "drop" or "truncate" a sequence that does not fit, or
            raise an "error" naming it.

    Returns:
        `(token_ids, lengths, report)`: int32 [N, T] ids; int32 [N], the
        ids before the padding in each row (EOS counted), which is also
        `padding_mask(token_ids).sum(-1)`; and an `EncodeReport`.

    Raises:
        ValueError: an argument is invalid, a sequence does not fit with
            `overflow="error"`, or no sequence is left.

    Examples:
        >>> from seqgan_tf.data import Vocabulary, encode_corpus
        >>> vocabulary = Vocabulary.build([["a", "cat"], ["a", "dog"]])
        >>> token_ids, lengths, report = encode_corpus(
        ...     [["a", "cat"], ["a", "big", "dog"]], vocabulary, 4)
        >>> token_ids
        array([[4, 5, 2, 0],
               [4, 3, 6, 2]], dtype=int32)
        >>> lengths, report.unknown_tokens
        (array([3, 4], dtype=int32), 1)
    """
    sequence_length = _check_positive_int(sequence_length, "sequence_length")
    if add_eos and sequence_length < 2:
        raise ValueError(
            f"sequence_length must be >= 2 with add_eos=True (one token and "
            f"EOS), got {sequence_length}."
        )
    if overflow not in ENCODE_OVERFLOW_MODES:
        raise ValueError(
            f"overflow must be one of {', '.join(ENCODE_OVERFLOW_MODES)}, "
            f"got {overflow!r}."
        )
    if isinstance(sequences, str):
        raise ValueError(
            "sequences must be an iterable of token lists, got a string; "
            "tokenise it first (e.g. with read_corpus)."
        )
    rows = []
    num_input = dropped = truncated = unknown = longest = 0
    for index, tokens in enumerate(sequences):
        num_input += 1
        ids = vocabulary.encode(tokens, add_eos=add_eos)
        unknown += sum(token not in vocabulary for token in tokens)
        longest = max(longest, len(ids))
        if len(ids) > sequence_length:
            if overflow == "error":
                raise ValueError(
                    f"sequence {index} has {len(ids)} ids"
                    + (" (EOS counted)" if add_eos else "")
                    + f", more than sequence_length={sequence_length}; raise "
                    "sequence_length or pass overflow='drop' or 'truncate'."
                )
            if overflow == "drop":
                dropped += 1
                continue
            if add_eos:
                ids = ids[: sequence_length - 1] + [EOS_ID]
            else:
                ids = ids[:sequence_length]
            truncated += 1
        rows.append(ids)
    if not rows:
        raise ValueError(
            f"no sequences to encode: {num_input:,} given"
            + (
                f", {dropped:,} longer than sequence_length={sequence_length} "
                "dropped; raise sequence_length or pass overflow='truncate'."
                if dropped
                else "."
            )
        )
    token_ids = np.full((len(rows), sequence_length), PAD_ID, np.int32)
    lengths = np.zeros(len(rows), np.int32)
    for row, ids in enumerate(rows):
        token_ids[row, : len(ids)] = ids
        lengths[row] = len(ids)
    report = EncodeReport(
        num_input=num_input,
        num_kept=len(rows),
        dropped_too_long=dropped,
        truncated=truncated,
        unknown_tokens=unknown,
        sequence_length=sequence_length,
        longest=longest,
    )
    return token_ids, lengths, report


def real_dataset(
    token_ids: ArrayLike,
    batch_size: int,
    seed: int,
    shuffle: bool = True,
    cache: bool = True,
    drop_remainder: bool = True,
    repeat: bool | int = False,
) -> tf.data.Dataset:
    """A `tf.data.Dataset` of int32 [B, T] batches of the real sequences.

    from_tensor_slices -> cache -> shuffle (a buffer of the whole data, so
    a uniform permutation, reshuffled every pass) -> batch -> repeat ->
    prefetch. One pass over the dataset is one epoch: with
    `drop_remainder`, every sequence appears at most once and all but
    `N % batch_size` of them exactly once. Repeating after batching keeps
    batches inside an epoch.

    The order is fixed by `seed` (and TensorFlow's global seed, if one is
    set with `keras.utils.set_random_seed`): the same seed replays the same
    sequence of epoch orders from a freshly built dataset.

    Args:
        token_ids: int [N, T] array (e.g. from `encode_corpus`).
        batch_size: sequences per batch.
        seed: int seed of the shuffle.
        shuffle: shuffle the rows (else file order).
        cache: cache the rows after the first pass.
        drop_remainder: drop the last, smaller batch, so every batch is
            [batch_size, T] (the models' fixed shapes need this).
        repeat: False for one epoch, True to repeat forever, or an int
            number of epochs.

    Returns:
        A `tf.data.Dataset` of int32 [B, T] tensors.

    Examples:
        >>> import numpy as np
        >>> from seqgan_tf.data import real_dataset
        >>> token_ids = np.arange(30, dtype=np.int32).reshape(10, 3)
        >>> dataset = real_dataset(token_ids, batch_size=4, seed=0)
        >>> [batch.shape for batch in dataset]  # an epoch: 2 full batches
        [TensorShape([4, 3]), TensorShape([4, 3])]
    """
    token_ids = _check_token_ids(token_ids, "token_ids")
    batch_size = _check_positive_int(batch_size, "batch_size")
    _check_enough(len(token_ids), batch_size, drop_remainder, "token_ids")
    dataset = tf.data.Dataset.from_tensor_slices(token_ids)
    return _finish(
        dataset,
        len(token_ids),
        batch_size,
        seed,
        shuffle,
        cache,
        drop_remainder,
        repeat,
    )


def text_file_dataset(
    path: str | os.PathLike,
    tokenizer: Tokenizer | str,
    vocabulary: Vocabulary,
    sequence_length: int,
    batch_size: int,
    seed: int,
    add_eos: bool = True,
    overflow: str = "drop",
    shuffle: bool = True,
    cache: bool = True,
    drop_remainder: bool = True,
    repeat: bool | int = False,
    encoding: str = "utf-8",
    errors: str = "strict",
) -> tuple[tf.data.Dataset, CorpusReport]:
    """A text file, one sequence a line, as a dataset of int32 [B, T] batches.

    `read_corpus` reads the file (blank lines skipped, lines that do not fit
    dropped or truncated, all counted), `encode_corpus` pads the ids and
    `real_dataset` batches them. A line fits when its tokens plus EOS fit in
    `sequence_length`; truncation keeps the first `sequence_length - 1`
    tokens and then EOS.

    Args:
        path: the text file.
        tokenizer: a `Tokenizer` or a tokenizer name.
        vocabulary: the `Vocabulary` (unknown tokens become UNK).
        sequence_length: T.
        batch_size: sequences per batch.
        seed: int seed of the shuffle.
        add_eos: append EOS to every line.
        overflow: "drop", "truncate" or "error", as in `read_corpus`.
        shuffle: shuffle the rows (else file order), as in `real_dataset`.
        cache: cache the rows after the first pass.
        drop_remainder: drop the last, smaller batch.
        repeat: False for one epoch, True to repeat forever, or a number
            of epochs.
        encoding: the file's text encoding, as in `read_corpus`.
        errors: "strict" or "replace", as in `read_corpus`.

    Returns:
        `(dataset, report)`, `report` being the `CorpusReport` of the file,
        whose `summary()` gives the lines read, skipped, dropped and
        truncated.

    Raises:
        CorpusError: the file cannot be read (see `read_corpus`).
        ValueError: an argument is invalid or the file holds fewer
            sequences than one batch.

    Examples:
        >>> import pathlib
        >>> from seqgan_tf.data import Vocabulary, text_file_dataset
        >>> lines = ["a cat sat .", "a dog sat .", "the cat ran ."]
        >>> _ = pathlib.Path("train.txt").write_text("\\n".join(lines))
        >>> vocabulary = Vocabulary.build([line.split() for line in lines])
        >>> dataset, report = text_file_dataset(
        ...     "train.txt", "whitespace", vocabulary, 6, batch_size=2, seed=0)
        >>> [batch.shape for batch in dataset]
        [TensorShape([2, 6])]
        >>> len(report.sequences)
        3
    """
    sequence_length = _check_positive_int(sequence_length, "sequence_length")
    max_length = sequence_length - 1 if add_eos else sequence_length
    report = read_corpus(
        path,
        tokenizer,
        max_length=max_length,
        overflow=overflow,
        encoding=encoding,
        errors=errors,
    )
    token_ids, _, _ = encode_corpus(
        report.sequences,
        vocabulary,
        sequence_length,
        add_eos=add_eos,
        overflow="error",
    )
    try:
        _check_enough(len(token_ids), batch_size, drop_remainder, str(path))
    except ValueError as error:
        raise ValueError(f"{error} ({report.summary()})") from None
    dataset = real_dataset(
        token_ids,
        batch_size,
        seed,
        shuffle=shuffle,
        cache=cache,
        drop_remainder=drop_remainder,
        repeat=repeat,
    )
    return dataset, report


def ordered_batches(
    arrays: ArrayLike | tuple[ArrayLike, ...],
    batch_size: int,
    orders: Iterable[ArrayLike],
) -> tf.data.Dataset:
    """Full batches of the rows of `arrays`, one pass per order given.

    Each pass takes the rows in the order of one index array of `orders`
    and cuts it into `len(order) // batch_size` batches of `batch_size`
    (the rest of that pass is left out). The trainer's MLE epochs and
    discriminator rounds run on this; a seeded order (`seeded_order`)
    makes them replayable from any epoch.

    Args:
        arrays: one array [N, ...] or a tuple of arrays with N rows each.
        batch_size: rows per batch.
        orders: index arrays into the N rows, one per pass.

    Returns:
        A `tf.data.Dataset` of batches (a tensor, or a tuple like `arrays`).

    Examples:
        >>> import numpy as np
        >>> from seqgan_tf.data import ordered_batches
        >>> rows = np.arange(5)
        >>> orders = [[4, 3, 2, 1, 0], [0, 1, 2, 3, 4]]
        >>> batches = ordered_batches(rows, 2, orders)
        >>> [batch.numpy().tolist() for batch in batches]  # 2 passes
        [[4, 3], [2, 1], [0, 1], [2, 3]]
    """
    single = not isinstance(arrays, tuple)
    arrays = (arrays,) if single else arrays
    batch_size = _check_positive_int(batch_size, "batch_size")
    rows = [
        np.asarray(order)[: len(order) // batch_size * batch_size]
        for order in orders
    ]
    index = np.concatenate(rows) if rows else np.zeros([0], np.int64)
    sliced = tuple(np.asarray(array)[index] for array in arrays)
    dataset = tf.data.Dataset.from_tensor_slices(
        sliced[0] if single else sliced
    )
    return dataset.batch(batch_size, drop_remainder=True).prefetch(
        tf.data.AUTOTUNE
    )


def seeded_order(size, seed=None):
    """A permutation of `range(size)` drawn by NumPy from `seed` (an int or
    a sequence of ints), or `range(size)` itself when `seed` is None."""
    if seed is None:
        return np.arange(size)
    return np.random.default_rng(seed).permutation(size)


def discriminator_dataset(
    positives: ArrayLike,
    negatives: ArrayLike,
    batch_size: int,
    seed: int | Sequence[int],
    epochs: int = 1,
) -> tf.data.Dataset:
    """Real (label 1) and generated (label 0) sequences, shuffled together.

    A discriminator round: the two arrays are concatenated; each of
    `epochs` passes takes all the rows in a new order and cuts it into
    `len // batch_size` full batches (the remainder is left out of that
    pass). Pass `p`'s order is `seeded_order` of `seed_pair(*seed, p)`, so
    the same `seed` replays the same round. Class balance is the caller's:
    the trainer subsamples the positives to as many as the negatives first.

    Args:
        positives: int [P, T] real sequences.
        negatives: int [G, T] generated sequences.
        batch_size: rows per batch.
        seed: an int, or a sequence of ints (e.g. run seed, stream, epoch).
        epochs: passes over the rows, each in a new order.

    Returns:
        A `tf.data.Dataset` of `(token_ids, labels)`, int32 [B, T] and
        int32 [B].

    Examples:
        >>> import numpy as np
        >>> from seqgan_tf.data import discriminator_dataset
        >>> real = np.full([4, 3], 5, np.int32)
        >>> generated = np.full([4, 3], 6, np.int32)
        >>> dataset = discriminator_dataset(real, generated, 4, seed=0)
        >>> [tokens.shape for tokens, _ in dataset]  # 8 rows, 2 batches
        [TensorShape([4, 3]), TensorShape([4, 3])]
        >>> sum(int(labels.numpy().sum()) for _, labels in dataset)  # 4 real
        4
    """
    positives = _check_token_ids(positives, "positives")
    negatives = _check_token_ids(negatives, "negatives")
    if positives.shape[1] != negatives.shape[1]:
        raise ValueError(
            f"positives and negatives must have the same sequence length, "
            f"got {positives.shape[1]} and {negatives.shape[1]}; sample the "
            "negatives with the generator's sequence_length."
        )
    batch_size = _check_positive_int(batch_size, "batch_size")
    epochs = _check_positive_int(epochs, "epochs")
    root = _seed_values(seed)
    token_ids = np.concatenate([positives, negatives])
    labels = np.concatenate(
        [
            np.ones(len(positives), np.int32),
            np.zeros(len(negatives), np.int32),
        ]
    )
    _check_enough(len(token_ids), batch_size, True, "positives + negatives")
    orders = [
        seeded_order(len(token_ids), seed_pair(*root, index))
        for index in range(epochs)
    ]
    return ordered_batches((token_ids, labels), batch_size, orders)


def _seed_values(seed):
    values = np.atleast_1d(np.asarray(seed))
    if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(
            f"seed must be an int or a sequence of ints, got {seed!r}; pass "
            "e.g. seed=0 (every shuffle is seeded so runs can be replayed)."
        )
    return [int(v) for v in values]


def _finish(
    dataset, size, batch_size, seed, shuffle, cache, drop_remainder, repeat
):
    if cache:
        dataset = dataset.cache()
    if shuffle:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(
                f"seed must be an int, got {seed!r}; pass e.g. seed=0 (every "
                "shuffle is seeded so runs can be replayed)."
            )
        dataset = dataset.shuffle(
            size, seed=int(seed), reshuffle_each_iteration=True
        )
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if repeat is True:
        dataset = dataset.repeat()
    elif repeat is not False and repeat is not None:
        dataset = dataset.repeat(_check_positive_int(repeat, "repeat"))
    dataset = dataset.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return dataset.with_options(options)


def _check_positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}.")
    return int(value)


def _check_token_ids(token_ids, name):
    if isinstance(token_ids, tf.Tensor):
        token_ids = token_ids.numpy()
    token_ids = np.asarray(token_ids)
    if token_ids.ndim != 2 or not np.issubdtype(token_ids.dtype, np.integer):
        raise ValueError(
            f"{name} must be integer token ids of shape [N, T], got "
            f"{token_ids.dtype} {token_ids.shape}; encode text with "
            "encode_corpus first."
        )
    if token_ids.size and (
        token_ids.min() < np.iinfo(np.int32).min
        or token_ids.max() > np.iinfo(np.int32).max
    ):
        raise ValueError(f"{name} holds ids that do not fit int32.")
    return token_ids.astype(np.int32, copy=False)


def _check_enough(size, batch_size, drop_remainder, name):
    if size == 0 or (drop_remainder and size < batch_size):
        raise ValueError(
            f"{name} holds {size:,} sequences, fewer than one batch of "
            f"{batch_size}; lower batch_size or pass drop_remainder=False."
        )
