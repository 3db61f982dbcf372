"""Tests for seqgan_tf.data.tokenizers."""

import importlib.resources
import pathlib

import nltk.data
import pytest

from seqgan_tf.data import CharacterTokenizer
from seqgan_tf.data import TaggedTokenizer
from seqgan_tf.data import TokenizerError
from seqgan_tf.data import WhitespaceTokenizer
from seqgan_tf.data import WordTokenizer
from seqgan_tf.data import get_tokenizer
from seqgan_tf.data import read_corpus
from seqgan_tf.data import tokenizer_names

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
TAGGED = FIXTURES / "abstract_pos_tagged.txt"
# The corpora shipped with the package (seqgan_tf/resources).
RESOURCES = pathlib.Path(
    str(importlib.resources.files("seqgan_tf") / "resources")
)
COCO = RESOURCES / "coco" / "train.txt"
QUATRAINS = RESOURCES / "poems" / "quatrains.txt"

# Inline copies of the first lines of those corpora, one test case each.
COCO_LINES = [
    "a bicycle replica with a clock as the front wheel.",
    "a black honda motorcycle parked in front of a garage.",
    "a room with blue walls and a white sink and door.",
]
QUATRAIN_LINES = [
    "秦 川 雄 帝 宅 ， 函 谷 壮 皇 居 。 绮 殿 千 寻 起 ， 离 宫 百 雉 余 。",
    "塞 外 悲 风 切 ， 交 河 冰 已 结 。 瀚 海 百 重 波 ， 阴 山 千 里 雪 。",
    "床 前 明 月 光 ，",
]
ENGLISH_LINES = COCO_LINES + [
    'He said "hi" (twice), didn\'t he?',
    "It costs $3.50 -- cheap!",
    "I can't believe it's 1/2 price: U.S. deals.",
]


def _corpus_lines(path, count=200):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for _, line in zip(range(count), f)]


# --- the registry -----------------------------------------------------------


def test_registry_names_and_classes():
    assert tokenizer_names() == ["character", "tagged", "whitespace", "word"]
    assert isinstance(get_tokenizer("whitespace"), WhitespaceTokenizer)
    assert isinstance(get_tokenizer("word"), WordTokenizer)
    assert isinstance(get_tokenizer("character"), CharacterTokenizer)
    assert isinstance(get_tokenizer("tagged"), TaggedTokenizer)


@pytest.mark.parametrize(
    "name, options",
    [
        ("whitespace", {}),
        ("word", {"lowercase": True}),
        ("character", {"joiner": " "}),
        ("tagged", {"mode": "pairs"}),
    ],
)
def test_config_rebuilds_the_tokenizer(name, options):
    tokenizer = get_tokenizer(name, **options)
    assert tokenizer.name == name
    assert tokenizer.get_config() == options
    assert get_tokenizer(name, **tokenizer.get_config()) == tokenizer
    assert get_tokenizer(tokenizer) is tokenizer


def test_registry_errors_name_the_choices():
    with pytest.raises(TokenizerError, match="unknown tokenizer 'words'.*word"):
        get_tokenizer("words")
    with pytest.raises(
        TokenizerError, match=r"no option\(s\) \['lower'\].*lowercase"
    ):
        get_tokenizer("word", lower=True)
    with pytest.raises(TokenizerError, match="mode must be one of"):
        get_tokenizer("tagged", mode="word")


# --- whitespace -------------------------------------------------------------


def test_whitespace_splits_on_any_space():
    tokenizer = get_tokenizer("whitespace")
    assert tokenizer.tokenize(" a\tdog  runs ") == ["a", "dog", "runs"]
    assert tokenizer.tokenize("   ") == []


@pytest.mark.parametrize("line", COCO_LINES + QUATRAIN_LINES)
def test_whitespace_round_trip(line):
    tokenizer = get_tokenizer("whitespace")
    assert tokenizer.detokenize(tokenizer.tokenize(line)) == line


def test_whitespace_round_trip_on_shipped_corpora():
    tokenizer = get_tokenizer("whitespace")
    for line in _corpus_lines(COCO) + _corpus_lines(QUATRAINS):
        assert tokenizer.detokenize(tokenizer.tokenize(line)) == line


# --- word (NLTK Treebank) ---------------------------------------------------


def test_word_tokenizer_splits_punctuation_and_clitics():
    tokenizer = get_tokenizer("word")
    assert tokenizer.tokenize(COCO_LINES[0])[-2:] == ["wheel", "."]
    assert tokenizer.tokenize(ENGLISH_LINES[3]) == [
        "He", "said", "``", "hi", "''", "(", "twice", ")", ",",
        "did", "n't", "he", "?",
    ]  # fmt: skip


def test_word_tokenizer_lowercase():
    assert get_tokenizer("word", lowercase=True).tokenize("The Dog.") == [
        "the",
        "dog",
        ".",
    ]
    assert get_tokenizer("word").tokenize("The Dog.") == ["The", "Dog", "."]


@pytest.mark.parametrize("line", ENGLISH_LINES)
def test_word_round_trip(line):
    tokenizer = get_tokenizer("word")
    tokens = tokenizer.tokenize(line)
    assert tokenizer.tokenize(tokenizer.detokenize(tokens)) == tokens


def test_word_detokenize_restores_simple_text():
    tokenizer = get_tokenizer("word")
    for line in COCO_LINES + ['He said "hi" (twice), didn\'t he?']:
        assert tokenizer.detokenize(tokenizer.tokenize(line)) == line


@pytest.mark.slow
def test_word_round_trip_on_shipped_coco():
    tokenizer = get_tokenizer("word")
    for line in _corpus_lines(COCO, count=2000):
        tokens = tokenizer.tokenize(line)
        assert tokenizer.tokenize(tokenizer.detokenize(tokens)) == tokens


def test_word_tokenizer_needs_no_nltk_data(monkeypatch):
    def refuse(*args, **kwargs):
        raise LookupError("no NLTK data in this test")

    monkeypatch.setattr(nltk.data, "load", refuse)
    monkeypatch.setattr(nltk.data, "find", refuse)
    tokenizer = WordTokenizer()
    tokens = tokenizer.tokenize("It isn't here.")
    assert tokens == ["It", "is", "n't", "here", "."]
    assert tokenizer.detokenize(tokens) == "It isn't here."


# --- character --------------------------------------------------------------


def test_character_ignores_spaces():
    tokenizer = get_tokenizer("character")
    expected = ["床", "前", "明", "月", "光", "，"]
    assert tokenizer.tokenize("床前明月光，") == expected
    assert tokenizer.tokenize("床 前 明 月 光 ，") == expected
    assert tokenizer.tokenize(" 床前\u3000明月光， ") == expected


@pytest.mark.parametrize("line", QUATRAIN_LINES)
def test_character_round_trip(line):
    spaced = get_tokenizer("character", joiner=" ")
    assert spaced.detokenize(spaced.tokenize(line)) == line
    running = get_tokenizer("character")
    text = line.replace(" ", "")
    assert running.detokenize(running.tokenize(text)) == text


def test_character_round_trip_on_shipped_quatrains():
    tokenizer = get_tokenizer("character", joiner=" ")
    for line in _corpus_lines(QUATRAINS):
        tokens = tokenizer.tokenize(line)
        assert len(tokens) == 24
        assert tokenizer.detokenize(tokens) == line


# --- tagged -----------------------------------------------------------------


def test_tagged_splits_on_the_last_slash():
    line = "1/2/CD cup/NN //SYM and/or/CC"
    assert get_tokenizer("tagged", mode="words").tokenize(line) == [
        "1/2",
        "cup",
        "/",
        "and/or",
    ]
    assert get_tokenizer("tagged", mode="tags").tokenize(line) == [
        "CD",
        "NN",
        "SYM",
        "CC",
    ]
    pairs = get_tokenizer("tagged", mode="pairs")
    assert pairs.tokenize(line) == line.split()
    assert pairs.detokenize(pairs.tokenize(line)) == line


@pytest.mark.parametrize(
    "token, problem",
    [("cat", "has no '/'"), ("/NN", "empty word"), ("cat/", "empty tag")],
)
def test_tagged_rejects_untagged_tokens(token, problem):
    with pytest.raises(TokenizerError, match=problem) as info:
        get_tokenizer("tagged").tokenize(f"a/DT {token} sat/VBD")
    assert repr(token) in str(info.value)


@pytest.mark.parametrize("mode", ["words", "tags", "pairs"])
def test_tagged_fixture_loads_in_every_mode(mode):
    report = read_corpus(TAGGED, get_tokenizer("tagged", mode=mode))
    assert len(report.sequences) == 8
    assert report.num_lines == 8
    assert sum(map(len, report.sequences)) == 219
    assert report.skipped_empty == report.dropped_too_long == 0


def test_tagged_fixture_modes_agree():
    words, tags, pairs = (
        read_corpus(TAGGED, get_tokenizer("tagged", mode=mode)).sequences
        for mode in ("words", "tags", "pairs")
    )
    assert [len(s) for s in words] == [len(s) for s in tags]
    assert [len(s) for s in words] == [len(s) for s in pairs]
    for w, t, p in zip(words, tags, pairs):
        assert p == [f"{a}/{b}" for a, b in zip(w, t)]
    assert words[0][:4] == ["As", "a", "new", "way"]
    assert tags[0][:4] == ["IN", "DT", "JJ", "NN"]
    assert "generative/JJ" in pairs[0]
    assert "(/-LRB-" in pairs[0]
    assert {"NN", "NNS", "JJ", "DT", "IN", "."} <= {t for s in tags for t in s}
    # The pairs mode reproduces the file.
    lines = TAGGED.read_text(encoding="utf-8").splitlines()
    detokenize = get_tokenizer("tagged", mode="pairs").detokenize
    assert [detokenize(s) for s in pairs] == lines


def test_read_shipped_quatrains():
    report = read_corpus(QUATRAINS, get_tokenizer("character", joiner=" "))
    assert len(report.sequences) == 16394
    assert report.longest == 24
