"""Tests for seqgan_tf.music (tune encoding, pitch MSE) and the folk-tune
TFDS builder, built offline from music21's corpus into `tmp_path`.

Skipped where music21 (the optional `music` extra) is not installed.
"""

import sys
import time

import numpy as np
import pytest
import tensorflow_datasets as tfds

from seqgan_tf import datasets
from seqgan_tf import music
from seqgan_tf.datasets import folk_tunes

# music21 is the optional `music` extra: without it the module is skipped.
converter = pytest.importorskip("music21.converter")

# M:2/4, L:1/8, so a 16th-note step is half an eighth note. A pickup, a
# chord symbol (ignored), a grace note (ignored), a rest, a triplet, a tie
# across the bar line, a chord (highest pitch), 16ths and a final rest.
TUNE = """X:1
T:Test tune
M:2/4
L:1/8
K:G
"G"D|{A}G2 z B|(3ABc d-|d [GBd]2 ^F/2G/2|z
"""
# By hand, one token a 16th note (MIDI: D4 62, G4 67, A4 69, B4 71, C5 72,
# D5 74, F#4 66): D (2 steps); G2 (4); z (2); B (2); the triplet A B c
# (each 1/3 of an eighth: starts 0, 2/3, 4/3 steps, sampled at steps 0-3
# -> A A B c); d tied to d (2 + 2 steps); chord [GBd]2 -> d (4); ^F/2 (1);
# G/2 (1); z (2).
TUNE_TOKENS = (
    [62, 62]
    + [67] * 4
    + [0, 0]
    + [71, 71]
    + [69, 69, 71, 72]
    + [74] * 4
    + [74] * 4
    + [66, 67]
    + [0, 0]
)
# M:4/4, L:1/16: exactly 32 steps.
TUNE_32 = """X:2
T:Exactly two bars
M:4/4
L:1/16
K:C
C4 D4 E4 F4|G8 z8|
"""


# Building datasets must never touch the network.
pytestmark = pytest.mark.usefixtures("no_network")


def _parse(abc):
    return converter.parse(abc, format="abc")


def test_encode_tune_by_hand():
    score = _parse(TUNE)
    assert len(TUNE_TOKENS) == 26
    assert music.encode_tune(score, length=None) == TUNE_TOKENS
    assert music.encode_tune(score, length=26) == TUNE_TOKENS
    assert music.encode_tune(score, length=5) == TUNE_TOKENS[:5]
    # Shorter than `length` steps: not encoded (not padded).
    assert music.encode_tune(score, length=27) is None
    assert music.encode_tune(score) is None  # default length 32


def test_encode_tune_steps_per_quarter_and_exact_length():
    score = _parse(TUNE_32)
    expected = [60] * 4 + [62] * 4 + [64] * 4 + [65] * 4 + [67] * 8 + [0] * 8
    assert music.encode_tune(score) == expected
    # Eighth-note steps: every other 16th.
    every_other = music.encode_tune(score, steps_per_quarter=2, length=None)
    assert every_other == expected[::2]
    assert music.tokens_to_text(expected[:6]) == "60 60 60 60 62 62"


def test_encode_tune_rejects_an_opus_and_bad_arguments():
    opus = _parse(TUNE + "\n" + TUNE_32)
    with pytest.raises(ValueError, match="Opus of 2 tunes"):
        music.encode_tune(opus)
    score = _parse(TUNE_32)
    with pytest.raises(ValueError, match="steps_per_quarter"):
        music.encode_tune(score, steps_per_quarter=0)
    with pytest.raises(ValueError, match="length"):
        music.encode_tune(score, length=0)
    with pytest.raises(TypeError, match="music21 stream"):
        music.encode_tune("C4 D4")


def test_pitch_mse_by_hand():
    # [60, 62] vs [60, 60]: (0 + 4) / 2 = 2; vs [61, 62]: (1 + 0) / 2 = 0.5.
    assert music.pitch_mse([[60, 62]], [[60, 60], [61, 62]]) == 0.5
    # [0, 0] (two rests) vs [60, 60]: 3600; vs [61, 62]: (3721 + 3844) / 2.
    # Mean of the two hypotheses' minima: (0.5 + 3600) / 2.
    assert music.pitch_mse(
        [["60", "62"], ["0", "0"]], [["60", "60"], ["61", "62"]]
    ) == pytest.approx((0.5 + 3600) / 2, abs=0)
    np.testing.assert_array_equal(
        music.pitch_mse_scores([[60, 62], [61, 62]], [[60, 60], [61, 62]]),
        [0.5, 0.0],
    )
    assert music.pitch_mse([[1, 2, 3]], [[1, 2, 3]]) == 0.0


def test_pitch_mse_chunks_match_brute_force(monkeypatch):
    rng = np.random.default_rng(0)
    hyp = rng.integers(0, 90, size=(37, 8))
    ref = rng.integers(0, 90, size=(23, 8))
    squared = ((hyp[:, None, :] - ref[None, :, :]) ** 2).mean(axis=2)
    expected = squared.min(axis=1)
    monkeypatch.setattr(music, "_MSE_CHUNK_ELEMENTS", 50)  # chunks of 2
    np.testing.assert_array_equal(
        music.pitch_mse_scores(hyp.tolist(), ref.tolist()), expected
    )
    assert music.pitch_mse(hyp, ref) == pytest.approx(expected.mean())


@pytest.mark.parametrize(
    "hypotheses, references, message",
    [
        ([["60", "C4"]], [[60, 60]], "'C4' is not a pitch number"),
        ([[60, 61.5]], [[60, 60]], "61.5 is not a pitch number"),
        ([[60, True]], [[60, 60]], "True is not a pitch number"),
        ([[60, 62], [60]], [[60, 60]], "same length"),
        ([[60, 62]], [[60, 60, 60]], "length 2 but references 3"),
        ([], [[60]], "`hypotheses` is empty"),
        ([[60]], [], "`references` is empty"),
        ([[]], [[]], "sequences are empty"),
    ],
)
def test_pitch_mse_errors(hypotheses, references, message):
    with pytest.raises(ValueError, match=message):
        music.pitch_mse(hypotheses, references)


def test_pitch_mse_refuses_unsplit_text():
    with pytest.raises(TypeError, match=r"\[0\] is a string.*split"):
        music.pitch_mse(["60 62"], [[60, 60]])
    with pytest.raises(TypeError, match="list of token sequences"):
        music.pitch_mse("60 62", [[60, 60]])


def test_folk_tunes_is_registered():
    assert datasets.DATASETS["folk_tunes"] == "seqgan_folk_tunes"
    assert datasets.BUILDERS["seqgan_folk_tunes"] is datasets.SeqganFolkTunes
    assert tfds.builder_cls("seqgan_folk_tunes") is datasets.SeqganFolkTunes
    assert [folk_tunes.folk_tune_split(i) for i in (0, 1, 9, 10, 20)] == [
        "test",
        "train",
        "train",
        "test",
        "test",
    ]


@pytest.mark.slow
def test_folk_tunes_small_builds_offline(tmp_path):
    start = time.monotonic()
    builder = datasets.prepare("folk_tunes/small", data_dir=tmp_path)
    assert time.monotonic() - start < 60
    assert builder.info.full_name == "seqgan_folk_tunes/small/1.0.0"
    assert str(builder.data_dir).startswith(str(tmp_path))
    paths = folk_tunes.folk_tune_paths()[:40]
    assert len(paths) == 40
    expected = {}
    for index, path in enumerate(paths):
        tokens = music.encode_tune(converter.parseFile(path, format="abc"))
        if tokens is not None:
            expected[index] = " ".join(map(str, tokens))
    assert len(expected) > 30  # few of the first 40 are dropped as short
    for split in ("train", "test"):
        dataset = datasets.load("folk_tunes/small", split, tmp_path)
        examples = list(dataset.as_numpy_iterator())
        indices = [int(e["index"]) for e in examples]
        assert indices == [
            i
            for i in sorted(expected)
            if folk_tunes.folk_tune_split(i) == split
        ]
        for example in examples:
            text = example["text"].decode("utf-8")
            assert text == expected[int(example["index"])]
            tokens = [int(token) for token in text.split(" ")]
            assert len(tokens) == 32
            assert all(t == 0 or 21 <= t <= 108 for t in tokens)
    assert builder.info.splits["test"].num_examples == len(
        [i for i in expected if i % 10 == 0]
    )
    lines = datasets.text_lines("folk_tunes/small", "test", data_dir=tmp_path)
    assert lines == [expected[i] for i in sorted(expected) if i % 10 == 0]


def test_missing_music21_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "music21", None)
    with pytest.raises(ImportError, match=r'pip install "seqgan-tf\[music\]"'):
        folk_tunes.folk_tune_paths()
