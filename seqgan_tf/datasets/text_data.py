"""A text task's data in one call: source -> token lists -> vocabulary -> ids.

`load_text_data` reads the training and held-out sequences of a dataset of
this package, a text file or a prepared TFDS dataset, builds (or checks) the
vocabulary and encodes both splits to padded int32 [N, T] arrays. Every
problem is one `TextDataError` naming the source and the fix.
"""

import dataclasses
import functools
import math
import os
import re

import numpy as np

from seqgan_tf import bleu
from seqgan_tf import datasets
from seqgan_tf.data.corpus import CorpusError
from seqgan_tf.data.corpus import read_corpus
from seqgan_tf.data.corpus import tokenize_lines
from seqgan_tf.data.pipeline import encode_corpus
from seqgan_tf.data.tokenizers import TokenizerError
from seqgan_tf.data.tokenizers import get_tokenizer
from seqgan_tf.data.vocabulary import EOS_ID
from seqgan_tf.data.vocabulary import PAD_ID
from seqgan_tf.data.vocabulary import Vocabulary
from seqgan_tf.data.vocabulary import VocabularyError

TFDS_PREFIX = "tfds:"
# A TFDS builder name as TFDS parses it: a snake_case dataset, an optional
# config, an optional version (digits or *), optional builder kwargs.
TFDS_NAME = re.compile(
    r"^[a-z][a-z0-9_]*"
    r"(/[A-Za-z0-9_.\-]+)?"
    r"(:(\d+|\*)\.(\d+|\*)\.(\d+|\*))?"
    r"(/[A-Za-z0-9_]+=[^/,]+(,[A-Za-z0-9_]+=[^/,]+)*)?$"
)


class TextDataError(ValueError):
    """The text data cannot be loaded; the message names the source and fix."""


@dataclasses.dataclass(frozen=True)
class TextData:
    """The encoded splits of a text task and how they were made.

    Attributes:
        train_ids: int32 [N, T], EOS then PAD (0) after each sequence (no
            EOS when `add_eos` is False: every row is exactly T tokens).
        test_ids: int32 [M, T], the held-out sequences that fit T (for
            NLL-test).
        test_sequences: every held-out sequence as a token list (the BLEU
            references; not cut to T).
        vocabulary: the `Vocabulary` (built from the training sequences).
        tokenizer: the `Tokenizer` that read the text.
        sequence_length: T.
        add_eos: whether sequences end in EOS (variable length).
        messages: one line per step for a log: what was read, kept,
            dropped and why.
    """

    train_ids: np.ndarray
    test_ids: np.ndarray
    test_sequences: list
    vocabulary: Vocabulary
    tokenizer: object
    sequence_length: int
    add_eos: bool
    messages: tuple

    @functools.cached_property
    def bleu_scorer(self):
        """A `bleu.BleuScorer` of the held-out sequences (orders 1..5),
        built on first use."""
        return bleu.BleuScorer(self.test_sequences, max_order=5)

    def tokens(self, token_ids):
        """Token lists of id rows (for BLEU): cut at EOS with PAD dropped;
        for fixed-length data (no EOS) every id, specials included, so
        every row keeps its T tokens."""
        return [
            self.vocabulary.decode(row, strip_special=self.add_eos)
            for row in np.asarray(token_ids)
        ]

    def decode(self, token_ids):
        """Text lines of id rows (the tokenizer's `detokenize`)."""
        return [self.tokenizer.detokenize(t) for t in self.tokens(token_ids)]


def held_out(index, fraction):
    """True if sequence `index` belongs to the held-out share `fraction`.

    Spread evenly and fixed: floor((i + 1) f) > floor(i f); with f = 0.1,
    sequences 9, 19, 29, ... are held out.
    """
    return math.floor((index + 1) * fraction) > math.floor(index * fraction)


def _split_by_fraction(sequences, fraction):
    train, test = [], []
    for index, sequence in enumerate(sequences):
        (test if held_out(index, fraction) else train).append(sequence)
    return train, test


def _tfds_lines(name, split, data_dir, text_key):
    try:
        return datasets.text_lines(
            name, split, data_dir=data_dir, text_key=text_key
        )
    except ValueError as error:
        raise TextDataError(str(error)) from None


def _has_split(name, split, data_dir):
    try:
        dataset_builder = datasets.get_prepared_builder(name, data_dir=data_dir)
    except ValueError as error:
        raise TextDataError(str(error)) from None
    return split in dataset_builder.info.splits


def _read(source, tokenizer, lines=None):
    try:
        if lines is None:
            return read_corpus(source, tokenizer)
        return tokenize_lines(lines, tokenizer, source=source)
    except CorpusError as error:
        raise TextDataError(str(error)) from None


def _read_splits(
    dataset,
    tokenizer,
    test_dataset,
    text_key,
    train_split,
    test_split,
    test_fraction,
    data_dir,
):
    """(train token lists, test token lists, messages)."""
    messages = []
    test = None
    if dataset.startswith(TFDS_PREFIX) or datasets.is_seqgan_dataset(dataset):
        name = (
            dataset[len(TFDS_PREFIX) :]
            if dataset.startswith(TFDS_PREFIX)
            else dataset
        )
        if not name:
            raise TextDataError(
                "--dataset tfds: needs a TFDS name, e.g. tfds:imdb_reviews."
            )
        if not TFDS_NAME.match(name):
            raise TextDataError(
                f"--dataset {dataset}: {name!r} is not a TFDS name; expected "
                "NAME[/CONFIG][:X.Y.Z], e.g. tfds:imdb_reviews or "
                "tfds:wmt14_translate/de-en:1.0.0."
            )
        report = _read(
            f"{dataset}[{train_split}]",
            tokenizer,
            _tfds_lines(name, train_split, data_dir, text_key),
        )
        train = report.sequences
        messages.append(report.summary())
        if (
            not test_dataset
            and test_split
            and _has_split(name, test_split, data_dir)
        ):
            report = _read(
                f"{dataset}[{test_split}]",
                tokenizer,
                _tfds_lines(name, test_split, data_dir, text_key),
            )
            test = report.sequences
            messages.append(report.summary())
    else:
        if (
            not os.path.exists(dataset)
            and os.sep not in dataset
            and ("." not in dataset)
        ):
            raise TextDataError(
                f"dataset {dataset!r} is neither a dataset of this package "
                f"({', '.join(sorted(datasets.DATASETS))}), nor a file, nor "
                "tfds:NAME."
            )
        report = _read(dataset, tokenizer)
        train = report.sequences
        messages.append(report.summary())
    if test_dataset:
        report = _read(test_dataset, tokenizer)
        test = report.sequences
        messages.append(report.summary())
    if test is None:
        if not test_fraction:
            raise TextDataError(
                f"{dataset} has no test split and data.test_fraction is 0; "
                "give data.test_dataset or a test_fraction > 0."
            )
        train, test = _split_by_fraction(train, test_fraction)
        messages.append(
            f"held out every {1 / test_fraction:g}th sequence "
            f"(test_fraction={test_fraction:g}): {len(train):,} train, "
            f"{len(test):,} test."
        )
        if not train or not test:
            raise TextDataError(
                f"{dataset}: too few sequences to hold out "
                f"test_fraction={test_fraction:g} ({len(train)} train, "
                f"{len(test)} test)."
            )
    return train, test, messages


def _fixed_length(sequences, length, what, messages):
    kept = [s for s in sequences if len(s) >= length]
    short = len(sequences) - len(kept)
    if short:
        messages.append(
            f"{what}: {short:,} sequences shorter than {length} dropped "
            "(fixed-length data: add_eos is False)."
        )
    return kept


def _check_same(vocabulary, built, dataset):
    if vocabulary == built:
        return
    where = vocabulary.path or "the given vocabulary"
    difference = next(
        (
            f"id {i}: {a!r} there, {b!r} in the data"
            for i, (a, b) in enumerate(zip(vocabulary.tokens, built.tokens))
            if a != b
        ),
        "the longer one has extra tokens at the end",
    )
    raise TextDataError(
        f"{where} ({len(vocabulary):,} ids) does not match the vocabulary "
        f"{dataset} gives now ({len(built):,} ids; first difference at "
        f"{difference}): the data or its settings changed since the model "
        "was trained. Train into a new --output, or restore the data."
    )


def load_text_data(
    dataset,
    tokenizer="whitespace",
    tokenizer_options=None,
    sequence_length=0,
    add_eos=True,
    padding="pad",
    test_dataset="",
    text_key="text",
    train_split="train",
    test_split="test",
    test_fraction=0.1,
    min_frequency=1,
    max_vocabulary=0,
    max_sequences=0,
    overflow="drop",
    vocabulary=None,
    data_dir=None,
):
    """Reads, tokenises, builds the vocabulary and encodes a text task.

    Args:
        dataset: "coco", "chinese_quatrains", "folk_tunes" (optionally
            "/small"), a text file (one sequence a line), or "tfds:NAME" (a
            TFDS dataset prepared in `data_dir`; nothing is downloaded).
        tokenizer, tokenizer_options: the tokenizer's name and options.
        sequence_length: T (EOS counted), or 0 for the longest training
            sequence (+ 1 for EOS).
        add_eos: end sequences with EOS (variable length); False for
            fixed-length data, where sequences shorter than T are dropped
            and longer ones cut or dropped by `overflow`.
        padding: "pad" (PAD after EOS) or "eos" (EOS repeated up to T:
            fixed-length rows whose tokens are all learnt).
        test_dataset: a file of held-out sequences (overrides the split).
        text_key, train_split, test_split: for TFDS datasets.
        test_fraction: the share held out when there is no test split.
        min_frequency, max_vocabulary: vocabulary limits (0: no maximum).
        max_sequences: keep only the first training sequences (0: all).
        overflow: "drop" or "truncate" sequences longer than T.
        vocabulary: a `Vocabulary` to use instead of building one (a
            checkpoint's); it must equal the one the data gives, else a
            `TextDataError` names the first difference.
        data_dir: TFDS data directory (None: TFDS's default).

    Returns:
        A `TextData`.
    """
    try:
        tokenizer = get_tokenizer(tokenizer, **(tokenizer_options or {}))
    except TokenizerError as error:
        raise TextDataError(str(error)) from None
    train, test, messages = _read_splits(
        dataset,
        tokenizer,
        test_dataset,
        text_key,
        train_split,
        test_split,
        test_fraction,
        data_dir,
    )
    if max_sequences and len(train) > max_sequences:
        messages.append(
            f"kept the first {max_sequences:,} of {len(train):,} training "
            "sequences (data.max_sequences)."
        )
        train = train[:max_sequences]
    if not sequence_length:
        sequence_length = max(len(s) for s in train) + int(add_eos)
        messages.append(
            f"sequence length T = {sequence_length} (the longest training "
            "sequence" + (" + EOS)." if add_eos else ").")
        )
    if not add_eos:
        train = _fixed_length(train, sequence_length, "train", messages)
        test = _fixed_length(test, sequence_length, "test", messages)
        if not train:
            raise TextDataError(
                f"{dataset}: no training sequence has {sequence_length} "
                "tokens; lower data.sequence_length."
            )
    try:
        built = Vocabulary.build(
            train,
            min_frequency=min_frequency,
            max_size=max_vocabulary or None,
        )
        if vocabulary is not None:
            _check_same(vocabulary, built, dataset)
        else:
            vocabulary = built
    except VocabularyError as error:
        raise TextDataError(str(error)) from None
    messages.append(
        f"vocabulary: {len(vocabulary):,} ids (4 special; "
        f"min_frequency={min_frequency}"
        + (f", max {max_vocabulary:,}" if max_vocabulary else "")
        + ")."
    )
    try:
        train_ids, _, report = encode_corpus(
            train, vocabulary, sequence_length, add_eos, overflow
        )
        messages.append("train: " + report.summary())
        test_ids, _, report = encode_corpus(
            test, vocabulary, sequence_length, add_eos, overflow
        )
        messages.append("test: " + report.summary())
    except ValueError as error:
        raise TextDataError(f"{dataset}: {error}") from None
    if padding == "eos":
        train_ids = np.where(train_ids == PAD_ID, EOS_ID, train_ids)
        test_ids = np.where(test_ids == PAD_ID, EOS_ID, test_ids)
        messages.append(
            "every row filled with EOS after its end (fixed length T, "
            "data.padding=eos)."
        )
    return TextData(
        train_ids=train_ids,
        test_ids=test_ids,
        test_sequences=test,
        vocabulary=vocabulary,
        tokenizer=tokenizer,
        sequence_length=int(sequence_length),
        add_eos=bool(add_eos),
        messages=tuple(messages),
    )


def load_for_config(config, vocabulary=None, data_dir=None):
    """`load_text_data` with the fields of an `ExperimentConfig`'s data."""
    data = config.data
    return load_text_data(
        data.dataset,
        tokenizer=data.tokenizer,
        tokenizer_options=config.tokenizer_options(),
        sequence_length=data.sequence_length,
        add_eos=data.add_eos,
        padding=data.padding,
        test_dataset=data.test_dataset,
        text_key=data.text_key,
        train_split=data.train_split,
        test_split=data.test_split,
        test_fraction=data.test_fraction,
        min_frequency=data.min_frequency,
        max_vocabulary=data.max_vocabulary,
        max_sequences=data.max_sequences,
        overflow=data.overflow,
        vocabulary=vocabulary,
        data_dir=data_dir,
    )
