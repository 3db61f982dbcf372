"""Tests for seqgan_tf.data.corpus: reading a corpus file robustly."""

import pytest

from seqgan_tf.data import CorpusError
from seqgan_tf.data import get_tokenizer
from seqgan_tf.data import read_corpus

# --- read_corpus ------------------------------------------------------------


def _write(tmp_path, data, name="corpus.txt"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_read_corpus_skips_blank_lines_and_strips(tmp_path):
    path = _write(tmp_path, "\ufeffa b c\n\n   \n d e \r\nf\n")
    report = read_corpus(path, "whitespace")
    assert report.sequences == [["a", "b", "c"], ["d", "e"], ["f"]]
    assert report.num_lines == 5
    assert report.skipped_empty == 2
    assert report.longest == 3
    assert len(report) == 3
    assert report.path == str(path)


def test_read_corpus_without_final_newline(tmp_path):
    report = read_corpus(_write(tmp_path, "a b\nc"), "whitespace")
    assert report.sequences == [["a", "b"], ["c"]]


def test_read_corpus_drops_long_lines(tmp_path):
    path = _write(tmp_path, "a b c\na b c d e\na\na b c d\n")
    report = read_corpus(path, "whitespace", max_length=3)
    assert report.sequences == [["a", "b", "c"], ["a"]]
    assert report.dropped_too_long == 2
    assert report.truncated == 0
    assert report.longest == 5
    assert "2 lines over 3 dropped" in report.summary()


def test_read_corpus_truncates_long_lines(tmp_path):
    path = _write(tmp_path, "a b c\na b c d e\na\n")
    report = read_corpus(path, "whitespace", max_length=3, overflow="truncate")
    assert report.sequences == [["a", "b", "c"], ["a", "b", "c"], ["a"]]
    assert report.truncated == 1
    assert report.dropped_too_long == 0


def test_read_corpus_overflow_error_names_the_first_line(tmp_path):
    path = _write(tmp_path, "a b\na b c d\na b c d e\n")
    with pytest.raises(
        CorpusError, match=r"line 2: 4 tokens, more than max_length=3"
    ):
        read_corpus(path, "whitespace", max_length=3, overflow="error")


def test_read_corpus_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="nope.txt does not exist"):
        read_corpus(tmp_path / "nope.txt", "whitespace")


def test_read_corpus_directory(tmp_path):
    _write(tmp_path, "a\n", name="train.txt")
    with pytest.raises(
        CorpusError, match=r"is a directory \(it holds train.txt\); pass"
    ):
        read_corpus(tmp_path, "whitespace")


def test_read_corpus_empty_file(tmp_path):
    with pytest.raises(CorpusError, match="corpus.txt is empty"):
        read_corpus(_write(tmp_path, ""), "whitespace")


def test_read_corpus_blank_file_has_no_sequences(tmp_path):
    with pytest.raises(
        CorpusError, match=r"no sequences: of its 3 lines, 3 blank"
    ):
        read_corpus(_write(tmp_path, "\n \n\t\n"), "whitespace")


def test_read_corpus_all_lines_too_long(tmp_path):
    with pytest.raises(
        CorpusError, match=r"0 blank and 2 longer than max_length=1.*truncate"
    ):
        read_corpus(_write(tmp_path, "a b\nc d\n"), "whitespace", max_length=1)


def test_read_corpus_non_utf8_names_line_and_offset(tmp_path):
    # Line 2 starts at byte 4; its 0xe9 (Latin-1 "é") is at offset 4 + 3.
    path = _write(tmp_path, b"abc\ncaf\xe9 au lait\nok\n")
    with pytest.raises(CorpusError) as info:
        read_corpus(path, "whitespace")
    message = str(info.value)
    assert "line 2: byte 0xe9 at byte offset 7" in message
    assert "errors='replace'" in message
    assert "\n" not in message


def test_read_corpus_replace_keeps_going_with_a_count(tmp_path):
    path = _write(tmp_path, b"abc\ncaf\xe9 au lait\nok\n\xff\xfe x\n")
    report = read_corpus(path, "whitespace", errors="replace")
    assert report.sequences[1] == ["caf\ufffd", "au", "lait"]
    assert report.replaced_lines == 2
    assert report.first_replaced_line == 2
    assert len(report.sequences) == 4


def test_read_corpus_other_ascii_compatible_encodings(tmp_path):
    path = _write(tmp_path, "café au lait\n".encode("latin-1"))
    report = read_corpus(path, "whitespace", encoding="latin-1")
    assert report.sequences == [["café", "au", "lait"]]
    with pytest.raises(CorpusError, match="convert the file to UTF-8"):
        read_corpus(path, "whitespace", encoding="utf-16")


def test_read_corpus_tokenizer_errors_name_the_line(tmp_path):
    path = _write(tmp_path, "a/DT cat/NN\nthe dog/NN\n")
    with pytest.raises(CorpusError, match=r"line 2: token 'the' has no '/'"):
        read_corpus(path, get_tokenizer("tagged"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_length": 0}, "max_length must be an integer >= 1"),
        ({"overflow": "cut"}, "overflow must be one of drop, truncate, error"),
        ({"errors": "ignore"}, "errors must be one of strict, replace"),
        ({"encoding": "utf-9"}, "unknown encoding 'utf-9'"),
    ],
)
def test_read_corpus_rejects_bad_arguments(tmp_path, kwargs, match):
    path = _write(tmp_path, "a\n")
    with pytest.raises(CorpusError, match=match):
        read_corpus(path, "whitespace", **kwargs)


def test_read_corpus_unknown_tokenizer_name(tmp_path):
    with pytest.raises(CorpusError, match="unknown tokenizer"):
        read_corpus(_write(tmp_path, "a\n"), "spaces")
