"""BLEU and Self-BLEU (`seqgan_tf.bleu.bleu` / `self_bleu`) against NLTK.

The reference is NLTK's `sentence_bleu(references, hyp, weights=(1/n,)*n,
smoothing_function=SmoothingFunction().method1)`, averaged over hypotheses;
for Self-BLEU, hypothesis i's references are all the OTHER hypotheses.
"""

import math
import random
import warnings

import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction
from nltk.translate.bleu_score import sentence_bleu

from seqgan_tf import bleu

TOLERANCE = 1e-9
METHOD1 = SmoothingFunction().method1


def _nltk_scores(hypotheses, references, order):
    weights = (1 / order,) * order
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            float(
                sentence_bleu(
                    references, hyp, weights=weights, smoothing_function=METHOD1
                )
            )
            for hyp in hypotheses
        ]


def _nltk_self_scores(hypotheses, order):
    return [
        _nltk_scores([hyp], hypotheses[:i] + hypotheses[i + 1 :], order)[0]
        for i, hyp in enumerate(hypotheses)
    ]


def _tokens(text):
    return text.split()


def _mean(values):
    return sum(values) / len(values)


def _random_corpus(rng, count, vocabulary, max_length, min_length=0):
    return [
        [
            rng.randrange(vocabulary)
            for _ in range(rng.randint(min_length, max_length))
        ]
        for _ in range(count)
    ]


def _assert_close(ours, theirs):
    assert len(ours) == len(theirs)
    for index, (a, b) in enumerate(zip(ours, theirs)):
        assert abs(a - b) <= TOLERANCE, (index, a, b)


# ---------------------------------------------------------------- BLEU ----


@pytest.mark.parametrize("order", [2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(6))
def test_bleu_matches_nltk_on_random_corpora(seed, order):
    rng = random.Random(1000 * seed + order)
    vocabulary = rng.choice([3, 5, 10, 30])
    hypotheses = _random_corpus(rng, 25, vocabulary, 14)
    references = _random_corpus(rng, rng.randint(1, 30), vocabulary, 14)
    theirs = _nltk_scores(hypotheses, references, order)
    _assert_close(bleu.bleu_scores(hypotheses, references, order), theirs)
    ours = bleu.bleu(hypotheses, references, max_order=order)
    assert isinstance(ours, float)
    assert abs(ours - _mean(theirs)) <= TOLERANCE
    # Guard against a vacuous comparison: some non-trivial scores occur.
    assert any(0 < score < 1 for score in theirs)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_bleu_matches_nltk_on_word_tokens(order):
    references = [
        _tokens("a man riding a wave on top of a surfboard ."),
        _tokens("a man on a surfboard riding a wave ."),
        _tokens("a surfer rides a large wave in the ocean ."),
        _tokens("the the the the"),
        [],
    ]
    hypotheses = [
        _tokens("a man riding a wave on top of a surfboard ."),  # identical
        _tokens("a man riding a large wave ."),
        _tokens("the the the the the the the"),  # repeated n-grams: clipping
        _tokens("the cat"),
        _tokens("a"),  # shorter than every order > 1
        _tokens("zebra giraffe"),  # no overlap at all
        [],  # empty hypothesis
        _tokens("a surfer on a wave in the ocean on top of a large surfboard"),
    ]
    theirs = _nltk_scores(hypotheses, references, order)
    _assert_close(bleu.bleu_scores(hypotheses, references, order), theirs)
    assert (
        abs(bleu.bleu(hypotheses, references, order) - _mean(theirs))
        <= TOLERANCE
    )


def test_bleu_edge_values():
    references = [[1, 2, 3, 4, 5]]
    # Identical sentence: 1.0. No unigram overlap / empty hypothesis: 0.0.
    assert bleu.bleu([[1, 2, 3, 4, 5]], references) == pytest.approx(1.0)
    assert bleu.bleu([[7, 8, 9]], references) == 0.0
    assert bleu.bleu([[]], references) == 0.0
    # Shorter than n: the missing orders get method1's 0.1 / 1.
    short = bleu.bleu([[1, 2]], references, max_order=4)
    expected = math.exp(1 - 5 / 2) * math.exp(
        math.fsum(0.25 * math.log(p) for p in (1.0, 1.0, 0.1, 0.1))
    )
    assert abs(short - expected) <= TOLERANCE
    assert abs(short - _nltk_scores([[1, 2]], references, 4)[0]) <= TOLERANCE


def test_bleu_closest_reference_length_ties_to_shorter():
    # Hypothesis length 5 is equally far from 4 and 6: NLTK picks 4 (no
    # brevity penalty); picking 6 would apply exp(1 - 6/5).
    references = [[1, 2, 3, 4, 5, 6], [9, 9, 9, 9]]
    hypothesis = [[1, 2, 3, 4, 5]]
    theirs = _nltk_scores(hypothesis, references, 4)
    assert abs(bleu.bleu(hypothesis, references) - theirs[0]) <= TOLERANCE
    assert abs(bleu.bleu(hypothesis, references[:1]) - theirs[0]) > 0.1


def test_bleu_accepts_string_int_and_numpy_tokens():
    words = [["a", "b", "c", "d"], ["b", "c", "d", "e"]]
    ids = [[0, 1, 2, 3], [1, 2, 3, 4]]
    assert bleu.bleu(words[:1], words[1:], 2) == pytest.approx(
        bleu.bleu(ids[:1], ids[1:], 2), abs=TOLERANCE
    )
    as_arrays = np.array(ids, dtype=np.int32)
    assert bleu.bleu(as_arrays[:1], as_arrays[1:], 2) == pytest.approx(
        bleu.bleu(ids[:1], ids[1:], 2), abs=TOLERANCE
    )
    expected = _mean(_nltk_scores(words[:1], words[1:], 2))
    assert abs(bleu.bleu(words[:1], words[1:], 2) - expected) <= TOLERANCE


# ----------------------------------------------------------- Self-BLEU ----


@pytest.mark.parametrize("order", [2, 3, 4, 5])
@pytest.mark.parametrize("seed", range(5))
def test_self_bleu_matches_nltk_excluding_self(seed, order):
    rng = random.Random(7919 * seed + order)
    # Small vocabularies and lengths produce many duplicate sentences and
    # n-grams tied for the max count, which the top-2 bookkeeping must get
    # right.
    vocabulary = rng.choice([2, 3, 6, 20])
    hypotheses = _random_corpus(rng, 30, vocabulary, rng.choice([4, 10]))
    theirs = _nltk_self_scores(hypotheses, order)
    _assert_close(bleu.self_bleu_scores(hypotheses, order), theirs)
    ours = bleu.self_bleu(hypotheses, max_order=order)
    assert isinstance(ours, float)
    assert abs(ours - _mean(theirs)) <= TOLERANCE


def test_self_bleu_never_scores_a_sentence_against_itself():
    hypotheses = [
        _tokens("a dog runs on the beach"),
        _tokens("two cats sleep inside"),
        _tokens("an old red bus parked near trees"),
    ]
    # Including the sentence itself among its references would give 1.0.
    assert _mean(_nltk_scores(hypotheses, hypotheses, 4)) == pytest.approx(1.0)
    score = bleu.self_bleu(hypotheses, 4)
    assert score < 1.0
    assert score == 0.0  # no word is shared between the sentences
    assert abs(score - _mean(_nltk_self_scores(hypotheses, 4))) <= TOLERANCE


def test_self_bleu_counts_duplicates_at_other_indices():
    sentence = _tokens("a man riding a wave on a surfboard")
    other = _tokens("three zebras grazing")
    scores = bleu.self_bleu_scores([sentence, other, list(sentence)], 4)
    assert scores[0] == pytest.approx(1.0)
    assert scores[2] == pytest.approx(1.0)
    assert scores[1] == 0.0
    theirs = _nltk_self_scores([sentence, other, list(sentence)], 4)
    _assert_close(scores, theirs)


def test_self_bleu_clipping_uses_max_over_the_others():
    # "x" occurs 3 times in sentence 0, 2 times in sentence 1, once in 2.
    # Without sentence 0, the clip for "x" is 2 (not 3); without sentence 1
    # it is 3; the tie logic also sees equal tops in sentences 3 and 4.
    hypotheses = [
        ["x", "x", "x", "y"],
        ["x", "x", "z"],
        ["x", "y", "z", "w"],
        ["y", "y", "w"],
        ["y", "y", "z", "x", "w"],
    ]
    for order in (1, 2, 3, 4):
        _assert_close(
            bleu.self_bleu_scores(hypotheses, order),
            _nltk_self_scores(hypotheses, order),
        )


def test_self_bleu_length_exclusion():
    # Sentence 0 has a unique length (3): without itself, its closest
    # reference length is 2 (tie between 2 and 4 broken toward the shorter).
    hypotheses = [[1, 2, 3], [1, 2], [1, 2, 3, 4], [5, 6, 7, 8, 9, 1]]
    for order in (2, 3, 4):
        _assert_close(
            bleu.self_bleu_scores(hypotheses, order),
            _nltk_self_scores(hypotheses, order),
        )


# -------------------------------------------------------------- Errors ----


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="references"):
        bleu.bleu([[1, 2]], [])
    with pytest.raises(ValueError, match="hypotheses"):
        bleu.bleu([], [[1, 2]])
    for order in (0, 6, -1, 2.5, True, "4"):
        with pytest.raises(ValueError, match="max_order"):
            bleu.bleu([[1, 2]], [[1, 2]], max_order=order)
        with pytest.raises(ValueError, match="max_order"):
            bleu.self_bleu([[1, 2], [1, 2]], max_order=order)
    with pytest.raises(ValueError, match="at least 2"):
        bleu.self_bleu([[1, 2, 3]])
    with pytest.raises(ValueError, match="hypotheses"):
        bleu.self_bleu([])
    with pytest.raises(TypeError, match="token lists"):
        bleu.bleu(["a raw sentence"], [["a", "raw"]])
    with pytest.raises(TypeError, match="token lists"):
        bleu.bleu([["a"]], "a raw reference")


def test_a_scorer_indexes_once_and_scores_every_order_like_bleu():
    rng = random.Random(7)
    references = [
        [rng.choice("abcdef") for _ in range(rng.randint(1, 9))]
        for _ in range(30)
    ]
    hypotheses = [
        [rng.choice("abcdefg") for _ in range(rng.randint(0, 9))]
        for _ in range(12)
    ]
    scorer = bleu.BleuScorer(references, max_order=5)
    for order in (1, 2, 3, 4, 5):
        assert scorer.scores(hypotheses, order) == bleu.bleu_scores(
            hypotheses, references, order
        )
        assert scorer.bleu(hypotheses, order) == bleu.bleu(
            hypotheses, references, order
        )
    with pytest.raises(ValueError, match="max_order >= 5"):
        bleu.BleuScorer(references, max_order=4).bleu(hypotheses, 5)
