"""Tests for seqgan_tf.data.vocabulary: build, encode/decode, files, checks."""

import os

import numpy as np
import pytest

from seqgan_tf.data import BOS_ID
from seqgan_tf.data import EOS_ID
from seqgan_tf.data import PAD_ID
from seqgan_tf.data import UNK_ID
from seqgan_tf.data import Vocabulary
from seqgan_tf.data import VocabularyError

SPECIAL = ["<pad>", "<bos>", "<eos>", "<unk>"]

# Frequencies: the 4, cat 2, a 2, dog 1, zebra 1 (ties broken by string).
SEQUENCES = [
    ["the", "cat", "a"],
    ["the", "dog", "the"],
    ["a", "cat", "zebra", "the"],
]


def test_special_ids_are_fixed():
    assert (PAD_ID, BOS_ID, EOS_ID, UNK_ID) == (0, 1, 2, 3)
    vocabulary = Vocabulary(["x"])
    assert vocabulary.tokens[:4] == SPECIAL
    assert vocabulary.size == len(vocabulary) == 5
    assert vocabulary.token_to_id("x") == 4


def test_custom_special_strings():
    vocabulary = Vocabulary(["x"], pad_token="[PAD]", unk_token="[UNK]")
    assert vocabulary.tokens == ["[PAD]", "<bos>", "<eos>", "[UNK]", "x"]
    assert vocabulary.pad_token == "[PAD]"
    assert vocabulary.unk_token == "[UNK]"


def test_build_orders_by_frequency_then_string():
    vocabulary = Vocabulary.build(SEQUENCES)
    assert vocabulary.tokens == SPECIAL + ["the", "a", "cat", "dog", "zebra"]


def test_build_is_independent_of_input_order():
    a = Vocabulary.build(SEQUENCES)
    b = Vocabulary.build([list(reversed(s)) for s in reversed(SEQUENCES)])
    assert a == b


def test_build_min_frequency():
    vocabulary = Vocabulary.build(SEQUENCES, min_frequency=2)
    assert vocabulary.tokens[4:] == ["the", "a", "cat"]


def test_build_max_size_counts_special_tokens():
    vocabulary = Vocabulary.build(SEQUENCES, max_size=6)
    assert vocabulary.size == 6
    assert vocabulary.tokens[4:] == ["the", "a"]
    assert Vocabulary.build(SEQUENCES, max_size=4).tokens == SPECIAL


def test_build_treats_special_strings_in_data_as_special():
    vocabulary = Vocabulary.build([["<unk>", "a", "<unk>"]])
    assert vocabulary.tokens == SPECIAL + ["a"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_frequency": 0}, "min_frequency must be an integer >= 1"),
        ({"max_size": 3}, "max_size must be an integer >= 4"),
        ({"unknown_token": "?"}, "unknown argument"),
    ],
)
def test_build_rejects_bad_arguments(kwargs, match):
    with pytest.raises(VocabularyError, match=match):
        Vocabulary.build(SEQUENCES, **kwargs)


def test_build_rejects_untokenised_strings():
    with pytest.raises(VocabularyError, match="tokenise"):
        Vocabulary.build(["the cat", "a dog"])


def test_constructor_rejects_duplicates_and_bad_tokens():
    with pytest.raises(VocabularyError, match="repeats id 4"):
        Vocabulary(["a", "a"])
    with pytest.raises(VocabularyError, match="the UNK token"):
        Vocabulary(["<unk>"])
    with pytest.raises(VocabularyError, match="line break"):
        Vocabulary(["a\nb"])
    with pytest.raises(VocabularyError, match="empty"):
        Vocabulary([""])


def test_encode_maps_unknown_to_unk_and_appends_eos():
    vocabulary = Vocabulary.build(SEQUENCES)
    assert vocabulary.encode(["the", "cow", "a"]) == [4, UNK_ID, 5, EOS_ID]
    assert vocabulary.encode(["the"], add_eos=False) == [4]
    assert vocabulary.encode(["the"], add_bos=True) == [BOS_ID, 4, EOS_ID]
    assert vocabulary.encode([]) == [EOS_ID]


def test_encode_rejects_a_raw_string():
    with pytest.raises(VocabularyError, match="tokenise it first"):
        Vocabulary(["a"]).encode("a")


def test_decode_stops_at_eos_and_drops_pad():
    vocabulary = Vocabulary.build(SEQUENCES)
    ids = [BOS_ID, 4, PAD_ID, UNK_ID, 6, EOS_ID, 5, PAD_ID]
    assert vocabulary.decode(ids) == ["the", "<unk>", "cat"]
    assert vocabulary.decode(ids, strip_special=False) == [
        "<bos>",
        "the",
        "<pad>",
        "<unk>",
        "cat",
        "<eos>",
        "a",
        "<pad>",
    ]


def test_decode_accepts_int32_arrays():
    vocabulary = Vocabulary.build(SEQUENCES)
    ids = np.array([4, 5, EOS_ID, PAD_ID], dtype=np.int32)
    assert vocabulary.decode(ids) == ["the", "a"]


def test_encode_decode_round_trip():
    vocabulary = Vocabulary.build(SEQUENCES)
    for sequence in SEQUENCES:
        assert vocabulary.decode(vocabulary.encode(sequence)) == sequence


def test_decode_rejects_ids_out_of_range():
    with pytest.raises(VocabularyError, match=r"token id 9 .*ids 0 to 4"):
        Vocabulary(["a"]).decode([4, 9])


def test_save_load_round_trip(tmp_path):
    vocabulary = Vocabulary.build(SEQUENCES + [["床", "前", "1/2"]])
    path = tmp_path / "run" / "vocabulary.txt"
    assert vocabulary.save(path) == str(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[:4] == SPECIAL and lines[-1] == ""
    assert len(lines) - 1 == vocabulary.size
    loaded = Vocabulary.load(path)
    assert loaded == vocabulary
    assert loaded.path == str(path)
    # No temporary file is left behind.
    assert sorted(os.listdir(path.parent)) == ["vocabulary.txt"]


def test_save_load_custom_special_tokens(tmp_path):
    vocabulary = Vocabulary(["a"], pad_token="[PAD]")
    vocabulary.save(tmp_path / "v.txt")
    with pytest.raises(VocabularyError, match="line 1: expected the PAD"):
        Vocabulary.load(tmp_path / "v.txt")
    loaded = Vocabulary.load(tmp_path / "v.txt", pad_token="[PAD]")
    assert loaded == vocabulary


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "v.txt"
    Vocabulary(["a", "b", "c"]).save(path)
    Vocabulary(["z"]).save(path)
    assert Vocabulary.load(path).tokens == SPECIAL + ["z"]


def test_save_to_a_directory_is_an_error(tmp_path):
    with pytest.raises(VocabularyError, match="is a directory"):
        Vocabulary(["a"]).save(tmp_path)


def _write(tmp_path, text, name="v.txt"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "is empty"),
        ("\n\n", "is empty"),
        ("<pad>\n<bos>\n<eos>\n<unk>\na\nb\na\n", r"line 7: token 'a' repeats"),
        ("<pad>\n<bos>\n<eos>\n<unk>\na\n\nb\n", "line 6: empty token"),
        ("<pad>\n<bos>\n<eos>\n", r"line 4: expected the UNK .* end of file"),
        ("<pad>\n<bos>\n<eos>\na\n", r"line 4: .*'a'; it is missing"),
        (
            "<pad>\n<eos>\n<bos>\n<unk>\n",
            r"line 2: expected the BOS token '<bos>', found '<eos>'; it is "
            r"on line 3",
        ),
        ("a\n<pad>\n<bos>\n<eos>\n<unk>\n", r"line 1: .*it is on line 2"),
        (b"<pad>\n<bos>\n<eos>\n<unk>\ncaf\xe9\n", "line 5: not UTF-8"),
    ],
)
def test_load_errors_name_the_line(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(VocabularyError, match=match) as info:
        Vocabulary.load(path)
    assert str(path) in str(info.value)


def test_load_missing_file_and_directory(tmp_path):
    with pytest.raises(VocabularyError, match="does not exist"):
        Vocabulary.load(tmp_path / "nope.txt")
    with pytest.raises(VocabularyError, match="is a directory"):
        Vocabulary.load(tmp_path)


def test_load_accepts_crlf_and_a_missing_final_newline(tmp_path):
    path = _write(tmp_path, "<pad>\r\n<bos>\r\n<eos>\r\n<unk>\r\na\r\nb")
    assert Vocabulary.load(path).tokens == SPECIAL + ["a", "b"]
