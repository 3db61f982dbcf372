"""BLEU and Self-BLEU, equal to nltk's `sentence_bleu`, from precomputed counts.

Plain Python: the reference tables are built once and reused.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Hashable
    from collections.abc import Sequence

# --------------------------------------------------------------------------
# BLEU and Self-BLEU
#
# Exact re-implementations of the mean of NLTK's
#     sentence_bleu(references, hypothesis, weights=(1/n,)*n,
#                   smoothing_function=SmoothingFunction().method1)
# over a list of hypotheses, where every hypothesis is scored against the
# same reference set. NLTK recounts every reference's n-grams for every
# hypothesis; here the clipping counts (per n-gram, the max count over all
# references) and the sorted reference lengths are built once, so scoring a
# hypothesis is a few dictionary lookups. The per-sentence arithmetic
# mirrors NLTK's (`corpus_bleu`, `modified_precision`, `closest_ref_length`,
# `brevity_penalty`, `SmoothingFunction.method1`) operation for operation.
# --------------------------------------------------------------------------


_BLEU_EPSILON = 0.1  # SmoothingFunction().method1's default epsilon.
_MAX_BLEU_ORDER = 5


def _check_order(max_order):
    if (
        isinstance(max_order, bool)
        or not isinstance(max_order, (int, np.integer))
        or not 1 <= max_order <= _MAX_BLEU_ORDER
    ):
        raise ValueError(
            f"`max_order` must be an integer in 1..{_MAX_BLEU_ORDER} "
            f"(BLEU-2..BLEU-5 are the usual choices), got {max_order!r}."
        )
    return int(max_order)


def _as_sentences(sentences, name):
    """Lists of hashable tokens; rejects a bare string (untokenised text)."""
    if isinstance(sentences, (str, bytes)):
        raise TypeError(
            f"`{name}` must be a list of token lists, not a string."
        )
    result = []
    for index, sentence in enumerate(sentences):
        if isinstance(sentence, (str, bytes)):
            raise TypeError(
                f"`{name}[{index}]` is a string; pass token lists "
                "(e.g. `text.split()`), not raw text."
            )
        if hasattr(sentence, "tolist"):  # NumPy rows -> Python ints
            sentence = sentence.tolist()
        result.append(tuple(sentence))
    if not result:
        raise ValueError(f"`{name}` must contain at least one sentence.")
    return result


def _ngram_counts(sentence, n):
    if len(sentence) < n:
        return Counter()
    return Counter(zip(*[sentence[k:] for k in range(n)]))


def _score_from_counts(numerators, denominators, hyp_len, ref_len, weights):
    """NLTK's `corpus_bleu` tail for one sentence with method1 smoothing."""
    if numerators[0] == 0:  # NLTK returns 0 when no unigram matches.
        return 0.0
    if hyp_len > ref_len:  # brevity_penalty
        bp = 1
    elif hyp_len == 0:
        bp = 0
    else:
        bp = math.exp(1 - ref_len / hyp_len)
    log_terms = []
    for weight, numerator, denominator in zip(
        weights, numerators, denominators
    ):
        if numerator == 0:
            p = (numerator + _BLEU_EPSILON) / denominator
        else:
            # float(Fraction(num, den)) is the correctly rounded num / den.
            p = numerator / denominator
        if p > 0:
            log_terms.append(weight * math.log(p))
    return float(bp * math.exp(math.fsum(log_terms)))


def _closest_length(sorted_lengths, hyp_len):
    """NLTK's closest_ref_length: min |ref - hyp|, ties to the shorter."""
    index = bisect.bisect_left(sorted_lengths, hyp_len)
    if index < len(sorted_lengths) and sorted_lengths[index] == hyp_len:
        return hyp_len
    below = sorted_lengths[index - 1] if index > 0 else None
    above = sorted_lengths[index] if index < len(sorted_lengths) else None
    if below is None:
        return above
    if above is None:
        return below
    return below if hyp_len - below <= above - hyp_len else above


class BleuScorer:
    """BLEU against one fixed reference set, indexed once.

    Building the clipping tables (the highest count of every n-gram over
    the references) is the expensive part of corpus-scale sentence BLEU; a
    scorer builds them once for orders 1..`max_order` and then scores any
    number of hypothesis batches at any order up to it, e.g. BLEU-2..5 of
    the samples of every evaluation epoch against the same test set.

    Args:
        references: the reference sentences, each a sequence of tokens
            (any hashable values: str, int, ...).
        max_order: the highest n-gram order indexed (at most 5).

    Examples:
        >>> from seqgan_tf.bleu import BleuScorer
        >>> scorer = BleuScorer([["a", "cat", "sat", "on", "the", "mat"]])
        >>> samples = [["a", "cat", "sat", "on", "a", "mat"]]
        >>> [round(scorer.bleu(samples, order), 4) for order in (2, 3, 4)]
        [0.7071, 0.63, 0.5373]
    """

    def __init__(
        self, references: Sequence[Sequence[Hashable]], max_order: int = 5
    ):
        self.max_order = _check_order(max_order)
        references = _as_sentences(references, "references")
        self.num_references = len(references)
        self._max_counts = []
        for n in range(1, self.max_order + 1):
            table = {}
            get = table.get
            for reference in references:
                for ngram, count in _ngram_counts(reference, n).items():
                    if count > get(ngram, 0):
                        table[ngram] = count
            self._max_counts.append(table)
        self._sorted_lengths = sorted({len(r) for r in references})

    def scores(
        self, hypotheses: Sequence[Sequence[Hashable]], max_order: int = 4
    ) -> list[float]:
        """Per-hypothesis BLEU-`max_order` (see `bleu_scores`)."""
        max_order = _check_order(max_order)
        if max_order > self.max_order:
            raise ValueError(
                f"this scorer indexed n-grams up to {self.max_order}; "
                f"build it with max_order >= {max_order}."
            )
        hypotheses = _as_sentences(hypotheses, "hypotheses")
        weights = (1 / max_order,) * max_order
        tables = self._max_counts[:max_order]
        scores = []
        for hypothesis in hypotheses:
            hyp_len = len(hypothesis)
            numerators, denominators = [], []
            for n, table in enumerate(tables, start=1):
                get = table.get
                numerators.append(
                    sum(
                        min(count, get(ngram, 0))
                        for ngram, count in _ngram_counts(hypothesis, n).items()
                    )
                )
                denominators.append(max(1, hyp_len - n + 1))
            ref_len = _closest_length(self._sorted_lengths, hyp_len)
            scores.append(
                _score_from_counts(
                    numerators, denominators, hyp_len, ref_len, weights
                )
            )
        return scores

    def bleu(
        self, hypotheses: Sequence[Sequence[Hashable]], max_order: int = 4
    ) -> float:
        """Mean sentence BLEU-`max_order` (see `bleu`)."""
        scores = self.scores(hypotheses, max_order)
        return math.fsum(scores) / len(scores)


def bleu_scores(
    hypotheses: Sequence[Sequence[Hashable]],
    references: Sequence[Sequence[Hashable]],
    max_order: int = 4,
) -> list[float]:
    """Per-hypothesis BLEU-`max_order` scores (list of floats), each
    hypothesis scored against the whole `references` set.

    Equal (to floating-point rounding; in practice bit-for-bit) to NLTK's
    `sentence_bleu(references, hyp, weights=(1/n,)*n,
    smoothing_function=SmoothingFunction().method1)` with n = `max_order`.
    Tokens may be any hashable values (str, int, ...). To score several
    batches against the same references, build a `BleuScorer` once.

    Examples:
        >>> from seqgan_tf import bleu
        >>> references = [[1, 2, 3, 4], [1, 2, 5, 6]]
        >>> bleu.bleu_scores([[1, 2, 3, 4], [7, 8, 9, 9]], references, 2)
        [1.0, 0.0]
    """
    max_order = _check_order(max_order)
    hypotheses = _as_sentences(hypotheses, "hypotheses")
    return BleuScorer(references, max_order).scores(hypotheses, max_order)


def bleu(
    hypotheses: Sequence[Sequence[Hashable]],
    references: Sequence[Sequence[Hashable]],
    max_order: int = 4,
) -> float:
    """Mean sentence BLEU-`max_order` of `hypotheses` (lists of tokens)
    against the whole `references` set, with NLTK's method1 smoothing and
    uniform weights: exactly the mean over hypotheses of NLTK's
    `sentence_bleu(references, hyp, weights=(1/n,)*n,
    smoothing_function=SmoothingFunction().method1)`, but the references are
    indexed once, so it runs orders of magnitude faster than NLTK in a loop.

    `max_order` may be 1..5. Raises
    ValueError for empty `hypotheses` or `references`.

    Examples:
        >>> from seqgan_tf import bleu
        >>> references = ["a cat sat on the mat".split()]
        >>> round(bleu.bleu(["a cat sat on a mat".split()], references, 2), 4)
        0.7071
        >>> bleu.bleu([["a", "cat", "sat", "on", "the", "mat"]], references)
        1.0
    """
    scores = bleu_scores(hypotheses, references, max_order)
    return math.fsum(scores) / len(scores)


def self_bleu_scores(
    hypotheses: Sequence[Sequence[Hashable]], max_order: int = 4
) -> list[float]:
    """Per-hypothesis Self-BLEU-`max_order` scores: hypothesis i scored (as in
    `bleu_scores`) against all the OTHER hypotheses,
    `hypotheses[:i] + hypotheses[i + 1:]`. A sentence is never its own
    reference; copies of it at other indices are references.

    Examples:
        >>> from seqgan_tf import bleu
        >>> samples = [[1, 2, 3], [1, 2, 3], [7, 8, 9]]
        >>> [round(s, 4) for s in bleu.self_bleu_scores(samples, 2)]
        [1.0, 1.0, 0.0]
    """
    max_order = _check_order(max_order)
    hypotheses = _as_sentences(hypotheses, "hypotheses")
    if len(hypotheses) < 2:
        raise ValueError(
            "Self-BLEU needs at least 2 hypotheses (each one is scored "
            f"against the others), got {len(hypotheses)}."
        )
    weights = (1 / max_order,) * max_order

    # Per order and n-gram, [top count, how many sentences have it, second
    # count (0 if none)] over all sentences: the max over all sentences
    # except one is then O(1) to get.
    counts = [
        [_ngram_counts(hypothesis, n) for hypothesis in hypotheses]
        for n in range(1, max_order + 1)
    ]
    tops = []
    for per_sentence in counts:
        table = {}
        for sentence_counts in per_sentence:
            for ngram, count in sentence_counts.items():
                entry = table.get(ngram)
                if entry is None:
                    table[ngram] = [count, 1, 0]
                elif count > entry[0]:
                    entry[2] = entry[0]
                    entry[0] = count
                    entry[1] = 1
                elif count == entry[0]:
                    entry[1] += 1
                elif count > entry[2]:
                    entry[2] = count
        tops.append(table)
    length_counts = Counter(len(hypothesis) for hypothesis in hypotheses)
    sorted_lengths = sorted(length_counts)

    scores = []
    for i, hypothesis in enumerate(hypotheses):
        hyp_len = len(hypothesis)
        numerators, denominators = [], []
        for n, table in enumerate(tops, start=1):
            numerator = 0
            for ngram, count in counts[n - 1][i].items():
                top, multiplicity, second = table[ngram]
                # Max over the other sentences: `top` unless this sentence is
                # the only one reaching it.
                others = second if (count == top and multiplicity == 1) else top
                numerator += min(count, others)
            numerators.append(numerator)
            denominators.append(max(1, hyp_len - n + 1))
        if length_counts[hyp_len] > 1:
            ref_len = hyp_len
        else:  # remove this sentence's own length
            index = bisect.bisect_left(sorted_lengths, hyp_len)
            ref_len = _closest_excluding(sorted_lengths, index, hyp_len)
        scores.append(
            _score_from_counts(
                numerators, denominators, hyp_len, ref_len, weights
            )
        )
    return scores


def _closest_excluding(sorted_lengths, index, hyp_len):
    """Closest length to `hyp_len` == sorted_lengths[index], ignoring it."""
    below = sorted_lengths[index - 1] if index > 0 else None
    above = (
        sorted_lengths[index + 1] if index + 1 < len(sorted_lengths) else None
    )
    if below is None:
        return above
    if above is None:
        return below
    return below if hyp_len - below <= above - hyp_len else above


def self_bleu(
    hypotheses: Sequence[Sequence[Hashable]], max_order: int = 4
) -> float:
    """Mean Self-BLEU-`max_order` (diversity; lower is more diverse): each
    hypothesis scored against all the other hypotheses (never itself;
    duplicates at other indices count), with the same exact NLTK arithmetic
    as `bleu`. Needs at least 2 hypotheses.

    Examples:
        >>> from seqgan_tf import bleu
        >>> bleu.self_bleu([[1, 2, 3], [1, 2, 3]], 2)  # no diversity
        1.0
        >>> bleu.self_bleu([[1, 2, 3], [4, 5, 6]], 2)
        0.0
    """
    scores = self_bleu_scores(hypotheses, max_order)
    return math.fsum(scores) / len(scores)
