"""`load_text_data`: sources, held-out split, T, vocabulary, errors."""

import numpy as np
import pytest

from seqgan_tf import config as config_lib
from seqgan_tf.data import EOS_ID
from seqgan_tf.data import PAD_ID
from seqgan_tf.data import CorpusError
from seqgan_tf.data import Vocabulary
from seqgan_tf.data.corpus import tokenize_lines
from seqgan_tf.datasets.text_data import TextDataError
from seqgan_tf.datasets.text_data import held_out
from seqgan_tf.datasets.text_data import load_for_config
from seqgan_tf.datasets.text_data import load_text_data


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


@pytest.fixture
def corpus(tmp_path):
    lines = [f"w{i % 7} w{i % 5} w{i % 3}" + " x" * (i % 4) for i in range(40)]
    return write(tmp_path / "corpus.txt", lines), lines


def test_held_out_rule_spreads_the_test_share_evenly():
    assert [i for i in range(30) if held_out(i, 0.1)] == [9, 19, 29]
    assert [i for i in range(8) if held_out(i, 0.25)] == [3, 7]
    assert not any(held_out(i, 0.0) for i in range(100))


def test_a_file_is_split_encoded_and_padded(corpus):
    path, lines = corpus
    data = load_text_data(path, test_fraction=0.1)
    # Every 10th line is held out; the longest has 6 tokens -> T = 7.
    assert data.sequence_length == 7
    assert data.train_ids.shape == (36, 7) and data.test_ids.shape == (4, 7)
    assert data.test_sequences == [lines[i].split() for i in (9, 19, 29, 39)]
    for row, line in zip(
        data.train_ids, [x for i, x in enumerate(lines) if i % 10 != 9]
    ):
        length = len(line.split())
        assert row[length] == EOS_ID
        assert (row[length + 1 :] == PAD_ID).all()
        assert data.vocabulary.decode(row) == line.split()
    assert data.decode(data.train_ids[:1]) == [lines[0]]
    assert any("held out" in m for m in data.messages)


def test_a_separate_test_file_replaces_the_held_out_share(corpus, tmp_path):
    path, lines = corpus
    test = write(tmp_path / "test.txt", ["w1 w2 unseen", "w3"])
    data = load_text_data(path, test_dataset=test, sequence_length=8)
    assert len(data.train_ids) == len(lines)
    assert data.test_sequences == [["w1", "w2", "unseen"], ["w3"]]
    # The unseen word is UNK (3) in the ids, kept as a word in the references.
    assert data.test_ids[0, 2] == 3


def test_long_sequences_are_dropped_or_truncated_with_a_count(tmp_path):
    path = write(tmp_path / "c.txt", ["a b", "a b c d e f", "b a", "a"] * 3)
    data = load_text_data(path, sequence_length=4, test_fraction=0.25)
    assert any("too long, dropped" in m for m in data.messages)
    assert len(data.train_ids) == 6  # 9 train lines, 3 too long
    data = load_text_data(
        path, sequence_length=4, test_fraction=0.25, overflow="truncate"
    )
    assert len(data.train_ids) == 9
    long_row = data.train_ids[1]
    assert list(long_row) == data.vocabulary.encode(["a", "b", "c"])


def test_fixed_length_data_has_no_eos_and_drops_short_rows(tmp_path):
    lines = ["60 62 64 65", "60 60 60 60", "67 65", "62 64 65 67"] * 5
    path = write(tmp_path / "tunes.txt", lines)
    data = load_text_data(
        path, sequence_length=4, add_eos=False, test_fraction=0.2
    )
    assert data.train_ids.shape[1] == 4
    assert not (data.train_ids == EOS_ID).any()
    assert not (data.train_ids == PAD_ID).any()
    assert any("shorter than 4 dropped" in m for m in data.messages)


def test_vocabulary_limits_and_a_checkpoint_vocabulary(corpus):
    path, _ = corpus
    data = load_text_data(path, max_vocabulary=8)
    assert len(data.vocabulary) == 8
    again = load_text_data(path, vocabulary=data.vocabulary, max_vocabulary=8)
    assert again.vocabulary is data.vocabulary
    other = Vocabulary(["x", "w0", "w1"])
    with pytest.raises(TextDataError, match="does not match the vocabulary"):
        load_text_data(path, vocabulary=other)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing.txt", "does not exist"),
        (lambda d: d, "is a directory"),
        (lambda d: write(d / "empty.txt", []), "is empty"),
        (lambda d: write(d / "blank.txt", ["", "  "]), "holds no sequences"),
        ("no_such_dataset", "neither a dataset of this package"),
    ],
)
def test_bad_sources_give_one_clear_error(tmp_path, make, message):
    source = make(tmp_path) if callable(make) else make
    with pytest.raises(TextDataError, match=message):
        load_text_data(str(source))


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes(b"a b\nc \xe9 d\n")
    with pytest.raises(TextDataError, match="line 2"):
        load_text_data(str(path))


def test_unknown_tfds_dataset_is_an_error_not_a_download(tmp_path):
    with pytest.raises(TextDataError, match="never downloads"):
        load_text_data("tfds:surely_not_a_dataset_xyz", data_dir=str(tmp_path))


def test_tokenize_lines_counts_what_it_skips():
    report = tokenize_lines(
        ["a b", "", "a b c d", b"c"], "whitespace", max_length=3
    )
    assert report.sequences == [["a", "b"], ["c"]]
    assert (report.skipped_empty, report.dropped_too_long) == (1, 1)
    with pytest.raises(CorpusError, match="one string"):
        tokenize_lines("a b", "whitespace")
    with pytest.raises(CorpusError, match="line 1: not valid UTF-8"):
        tokenize_lines([b"\xff"], "whitespace")


@pytest.mark.slow
def test_package_dataset_through_the_config(tmp_path):
    config = config_lib.for_dataset(
        config_lib.get_preset("tiny"), "chinese_quatrains/small"
    ).validate()
    assert config.is_text and config.vocabulary_size is None
    data = load_for_config(config, data_dir=str(tmp_path))
    assert data.sequence_length == 25
    # Every poem is 24 characters and marks, then EOS.
    assert (data.train_ids[:, 24] == EOS_ID).all()
    assert len(data.test_ids) > 0 and len(data.test_sequences[0]) == 24
    assert np.isin(data.train_ids, np.arange(len(data.vocabulary))).all()


def test_text_config_validation():
    text = config_lib.for_dataset(config_lib.get_preset("tiny"), "x.txt")
    with pytest.raises(config_lib.ConfigError, match="data.tokenizer"):
        config_lib.with_overrides(text, ["data.tokenizer=bpe"]).validate()
    with pytest.raises(config_lib.ConfigError, match="test_fraction"):
        config_lib.with_overrides(text, ["data.test_fraction=1"]).validate()
    with pytest.raises(config_lib.ConfigError, match="max_vocabulary"):
        config_lib.with_overrides(text, ["data.max_vocabulary=3"]).validate()
    with pytest.raises(config_lib.ConfigError, match="data.dataset is empty"):
        config_lib.with_overrides(
            config_lib.get_preset("tiny"), ["data.task=text"]
        ).validate()
    coco = config_lib.for_dataset(config_lib.get_preset("quick"), "coco")
    assert coco.data.tokenizer == "word" and coco.sequence_length == 32
    assert coco.training == config_lib.get_preset("quick").training
