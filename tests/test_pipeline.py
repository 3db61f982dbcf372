"""Tests for seqgan_tf.data.pipeline: padding, masks and tf.data batches."""

import collections

import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.data import EOS_ID
from seqgan_tf.data import PAD_ID
from seqgan_tf.data import UNK_ID
from seqgan_tf.data import Vocabulary
from seqgan_tf.data import discriminator_dataset
from seqgan_tf.data import encode_corpus
from seqgan_tf.data import padding_mask
from seqgan_tf.data import real_dataset
from seqgan_tf.data import text_file_dataset

SENTENCES = [
    "the cat sat",
    "the dog sat on the mat",
    "a cat",
    "the mat",
]


@pytest.fixture
def vocabulary():
    # "the" 4, then by frequency and code point: cat 5, mat 6, sat 7, a 8,
    # dog 9, on 10.
    return Vocabulary.build([s.split() for s in SENTENCES])


def _epochs(dataset, count):
    iterator_epochs = []
    for _ in range(count):
        iterator_epochs.append([b.numpy() for b in dataset])
    return iterator_epochs


def _row_keys(batches):
    return [tuple(row) for batch in batches for row in batch]


# --- encode_corpus ----------------------------------------------------------


def test_encode_corpus_pads_after_eos(vocabulary):
    assert vocabulary.tokens[4:] == [
        "the",
        "cat",
        "mat",
        "sat",
        "a",
        "dog",
        "on",
    ]
    token_ids, lengths, report = encode_corpus(
        [["the", "cat", "sat"], ["a"], ["the", "cow"]], vocabulary, 5
    )
    np.testing.assert_array_equal(
        token_ids,
        [
            [4, 5, 7, EOS_ID, PAD_ID],
            [8, EOS_ID, PAD_ID, PAD_ID, PAD_ID],
            [4, UNK_ID, EOS_ID, PAD_ID, PAD_ID],
        ],
    )
    assert token_ids.dtype == np.int32 and lengths.dtype == np.int32
    np.testing.assert_array_equal(lengths, [4, 2, 3])
    assert report.unknown_tokens == 1
    assert (report.num_input, report.num_kept) == (3, 3)
    np.testing.assert_array_equal(
        np.sum(padding_mask(token_ids).numpy(), axis=-1), lengths
    )


def test_encode_corpus_exact_fit_and_without_eos(vocabulary):
    # 3 tokens + EOS fill T=4 exactly: kept, no PAD.
    token_ids, lengths, report = encode_corpus(
        [["the", "cat", "sat"]], vocabulary, 4
    )
    np.testing.assert_array_equal(token_ids, [[4, 5, 7, EOS_ID]])
    assert report.dropped_too_long == 0
    token_ids, lengths, _ = encode_corpus(
        [["the", "cat", "sat"], ["a"]], vocabulary, 3, add_eos=False
    )
    np.testing.assert_array_equal(token_ids, [[4, 5, 7], [8, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1])


def test_encode_corpus_drop_counts(vocabulary):
    sequences = [s.split() for s in SENTENCES]  # 3, 6, 2, 2 tokens.
    token_ids, lengths, report = encode_corpus(sequences, vocabulary, 4)
    # "the dog sat on the mat" + EOS is 7 ids > 4: dropped.
    assert report.dropped_too_long == 1 and report.truncated == 0
    assert report.num_kept == 3 and report.longest == 7
    assert token_ids.shape == (3, 4)
    np.testing.assert_array_equal(lengths, [4, 3, 3])
    assert "1 too long, dropped" in report.summary()


def test_encode_corpus_truncate_keeps_first_tokens_then_eos(vocabulary):
    sequences = [s.split() for s in SENTENCES]
    token_ids, lengths, report = encode_corpus(
        sequences, vocabulary, 4, overflow="truncate"
    )
    assert report.truncated == 1 and report.dropped_too_long == 0
    # T - 1 = 3 tokens of "the dog sat on the mat", then EOS.
    np.testing.assert_array_equal(token_ids[1], [4, 9, 7, EOS_ID])
    assert lengths[1] == 4
    token_ids, _, _ = encode_corpus(
        sequences[1:2], vocabulary, 4, add_eos=False, overflow="truncate"
    )
    np.testing.assert_array_equal(token_ids, [[4, 9, 7, 10]])


def test_encode_corpus_errors(vocabulary):
    with pytest.raises(ValueError, match="sequence 0 has 7 ids"):
        encode_corpus([SENTENCES[1].split()], vocabulary, 4, overflow="error")
    with pytest.raises(ValueError, match="overflow='truncate'"):
        encode_corpus([SENTENCES[1].split()], vocabulary, 4)
    with pytest.raises(ValueError, match="overflow must be one of"):
        encode_corpus([["a"]], vocabulary, 4, overflow="cut")
    with pytest.raises(ValueError, match="tokenise it first"):
        encode_corpus("the cat", vocabulary, 4)
    with pytest.raises(ValueError, match="sequence_length must be >= 2"):
        encode_corpus([["a"]], vocabulary, 1)


# --- padding_mask -----------------------------------------------------------

# token_ids (EOS = 2, PAD = 0)   expected mask
# 2 0 0 0 0                      T F F F F   EOS at 0
# 5 6 2 0 0                      T T T F F   EOS in the middle
# 5 6 7 8 2                      T T T T T   EOS at T - 1
# 5 6 7 8 9                      T T T T T   no EOS (synthetic task)
# 5 2 6 2 0                      T T F F F   only the first EOS counts
MASK_CASES = (
    ([2, 0, 0, 0, 0], [1, 0, 0, 0, 0]),
    ([5, 6, 2, 0, 0], [1, 1, 1, 0, 0]),
    ([5, 6, 7, 8, 2], [1, 1, 1, 1, 1]),
    ([5, 6, 7, 8, 9], [1, 1, 1, 1, 1]),
    ([5, 2, 6, 2, 0], [1, 1, 0, 0, 0]),
)


def test_padding_mask_table():
    token_ids = tf.constant([ids for ids, _ in MASK_CASES], tf.int32)
    mask = padding_mask(token_ids)
    assert mask.dtype == tf.bool and mask.shape == (5, 5)
    np.testing.assert_array_equal(
        mask.numpy(), np.array([m for _, m in MASK_CASES], bool)
    )


def test_padding_mask_in_tf_function_int64_and_no_eos_id():
    mask_fn = tf.function(padding_mask)
    token_ids = tf.constant([ids for ids, _ in MASK_CASES], tf.int64)
    np.testing.assert_array_equal(
        mask_fn(token_ids).numpy(),
        np.array([m for _, m in MASK_CASES], bool),
    )
    assert bool(tf.reduce_all(padding_mask(token_ids, eos_id=None)))


# --- real_dataset -----------------------------------------------------------


def _numbered(n, length=3):
    # Row i is [i, i, i] so rows are identifiable after shuffling.
    return np.repeat(np.arange(n, dtype=np.int32)[:, None], length, axis=1)


def test_real_dataset_shapes_and_dtypes():
    dataset = real_dataset(_numbered(10), batch_size=4, seed=0)
    assert dataset.element_spec == tf.TensorSpec([4, 3], tf.int32)
    batches = [b.numpy() for b in dataset]
    assert len(batches) == 2  # 10 // 4, remainder dropped.
    assert all(b.shape == (4, 3) and b.dtype == np.int32 for b in batches)
    dataset = real_dataset(
        _numbered(10), batch_size=4, seed=0, drop_remainder=False
    )
    assert [len(b) for b in dataset] == [4, 4, 2]


def test_real_dataset_each_sequence_once_per_epoch():
    for batches in _epochs(real_dataset(_numbered(10), 4, seed=3), 3):
        keys = [key[0] for key in _row_keys(batches)]
        assert len(keys) == 8 and len(set(keys)) == 8  # 2 left out.
    for batches in _epochs(
        real_dataset(_numbered(10), 4, seed=3, drop_remainder=False), 2
    ):
        assert sorted(key[0] for key in _row_keys(batches)) == list(range(10))


def test_real_dataset_is_deterministic_and_reshuffles():
    data = _numbered(64)
    first = _epochs(real_dataset(data, 8, seed=7), 3)
    again = _epochs(real_dataset(data, 8, seed=7), 3)
    other = _epochs(real_dataset(data, 8, seed=8), 3)
    np.testing.assert_array_equal(np.array(first), np.array(again))
    assert not np.array_equal(np.array(first[0]), np.array(other[0]))
    # Each pass is a new order.
    assert not np.array_equal(np.array(first[0]), np.array(first[1]))
    assert not np.array_equal(np.array(first[1]), np.array(first[2]))


def test_real_dataset_repeat_keeps_epochs_apart():
    data = _numbered(10)
    batches = [b.numpy() for b in real_dataset(data, 4, seed=1, repeat=3)]
    assert len(batches) == 6
    for epoch in range(3):
        keys = [k[0] for k in _row_keys(batches[2 * epoch : 2 * epoch + 2])]
        assert len(set(keys)) == 8
    forever = real_dataset(data, 4, seed=1, repeat=True)
    assert len(list(forever.take(20))) == 20


def test_real_dataset_without_shuffle_keeps_order():
    batches = [
        b.numpy() for b in real_dataset(_numbered(8), 4, seed=0, shuffle=False)
    ]
    assert [k[0] for k in _row_keys(batches)] == list(range(8))


def test_real_dataset_errors():
    with pytest.raises(ValueError, match="fewer than one batch of 16"):
        real_dataset(_numbered(10), 16, seed=0)
    with pytest.raises(ValueError, match=r"shape \[N, T\]"):
        real_dataset(np.zeros([4], np.int32), 2, seed=0)
    with pytest.raises(ValueError, match="seed must be an int"):
        real_dataset(_numbered(4), 2, seed=None)
    with pytest.raises(ValueError, match="batch_size must be"):
        real_dataset(_numbered(4), 0, seed=0)


# --- discriminator_dataset --------------------------------------------------


def test_discriminator_dataset_labels_follow_rows():
    # Positives hold ids 100.., negatives 200..: the label is readable from
    # the row.
    positives = 100 + _numbered(12, length=4)
    negatives = 200 + _numbered(12, length=4)
    dataset = discriminator_dataset(positives, negatives, 5, seed=0, epochs=3)
    assert dataset.element_spec == (
        tf.TensorSpec([5, 4], tf.int32),
        tf.TensorSpec([5], tf.int32),
    )
    batches = [(x.numpy(), y.numpy()) for x, y in dataset]
    assert len(batches) == 3 * (24 // 5)
    labels = np.concatenate([y for _, y in batches])
    np.testing.assert_array_equal(
        labels, (np.concatenate([x[:, 0] for x, _ in batches]) < 200)
    )
    orders = []
    for epoch in range(3):
        part = batches[4 * epoch : 4 * epoch + 4]
        rows = [int(r) for x, _ in part for r in x[:, 0]]
        assert len(set(rows)) == 20  # each row once, 4 left out.
        orders.append(rows)
    assert orders[0] != orders[1] != orders[2]
    # Balance: over a pass that uses all rows, exactly half are positive.
    full = discriminator_dataset(positives, negatives, 6, seed=0, epochs=2)
    counts = collections.Counter(
        int(label) for _, y in full for label in y.numpy()
    )
    assert counts == {0: 24, 1: 24}


def test_discriminator_dataset_is_deterministic():
    positives, negatives = _numbered(16), 100 + _numbered(16)

    def run(seed):
        dataset = discriminator_dataset(positives, negatives, 8, seed, 2)
        return np.concatenate([x.numpy() for x, _ in dataset])

    np.testing.assert_array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_discriminator_dataset_errors():
    with pytest.raises(ValueError, match="same sequence length"):
        discriminator_dataset(_numbered(4, 3), _numbered(4, 5), 2, seed=0)
    with pytest.raises(ValueError, match="epochs must be"):
        discriminator_dataset(_numbered(4), _numbered(4), 2, seed=0, epochs=0)


# --- text_file_dataset ------------------------------------------------------


def test_text_file_dataset_end_to_end(tmp_path, vocabulary):
    path = tmp_path / "train.txt"
    lines = SENTENCES + ["", "the cow sat", "the mat"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dataset, report = text_file_dataset(
        path, "whitespace", vocabulary, 5, batch_size=2, seed=0
    )
    # 7 lines: 1 blank, "the dog sat on the mat" (6 tokens + EOS > 5)
    # dropped, 5 kept.
    assert report.num_lines == 7
    assert report.skipped_empty == 1
    assert report.dropped_too_long == 1
    assert len(report.sequences) == 5
    assert "1 lines over 4 dropped" in report.summary()
    batches = [b.numpy() for b in dataset]
    assert len(batches) == 2
    rows = {tuple(r) for b in batches for r in b}
    expected = {
        (4, 5, 7, 2, 0),
        (8, 5, 2, 0, 0),
        (4, 6, 2, 0, 0),
        (4, UNK_ID, 7, 2, 0),
    }
    assert rows <= expected and len(rows) >= 3
    mask = padding_mask(np.concatenate(batches)).numpy()
    np.testing.assert_array_equal(mask, np.concatenate(batches) != PAD_ID)

    dataset, report = text_file_dataset(
        path,
        "whitespace",
        vocabulary,
        5,
        batch_size=2,
        seed=0,
        overflow="truncate",
        drop_remainder=False,
        shuffle=False,
    )
    assert report.truncated == 1 and report.dropped_too_long == 0
    rows = np.concatenate([b.numpy() for b in dataset])
    np.testing.assert_array_equal(rows[1], [4, 9, 7, 10, EOS_ID])


def test_text_file_dataset_too_few_lines(tmp_path, vocabulary):
    path = tmp_path / "small.txt"
    path.write_text("a cat\n", encoding="utf-8")
    with pytest.raises(ValueError, match="fewer than one batch"):
        text_file_dataset(path, "whitespace", vocabulary, 5, 4, seed=0)
