"""Rewards of complete sequences other than the discriminator's: BLEU
against reference sequences (the PG-BLEU baseline of the SeqGAN paper).
Also MaliGAN's importance weights (of a discriminator's verdict, or of
the exact ratio of the synthetic task) and their effective sample size,
and LeakGAN's rescaled activation.

A reward here is a `rollout.Scorer`: int32 [N, T] token ids -> float32 [N].
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from seqgan_tf import bleu
from seqgan_tf.config import LEAKGAN_RESCALES

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike


class BleuReward:
    """BLEU-n of each sequence against fixed references, as a rollout scorer.

    The PG-BLEU baseline of the SeqGAN paper rewards a completed sequence
    with its BLEU-3 (weights 1/3 each) against a random 40% of the real
    data. Scores are `bleu.BleuScorer`'s: nltk's `sentence_bleu` with
    `SmoothingFunction().method1` (epsilon 0.1 for an n-gram order without
    a match), so a sequence that shares unigrams but no trigram with any
    reference still gets a small, graded reward instead of 0 (the authors'
    code used no smoothing). A sequence equal to a reference scores 1.

    Sequences are compared as whole token-id rows; with `eos_id`, each is
    cut after its first EOS (the EOS kept) and PAD after it is dropped.
    Scoring runs in NumPy through `tf.numpy_function`, so it works inside
    the compiled policy-gradient step but not in an exported graph.

    Args:
        references: int [M, T] reference sequences.
        max_order: the BLEU order n (3 for PG-BLEU).
        eos_id: the EOS id of variable-length sequences, or None.

    Examples:
        >>> from seqgan_tf.rewards import BleuReward
        >>> reward = BleuReward([[3, 4, 5, 6, 7, 8]])
        >>> reward([[3, 4, 5, 6, 7, 8], [3, 4, 5, 9, 9, 9]]).numpy().round(4)
        array([1.    , 0.3684], dtype=float32)
    """

    def __init__(
        self,
        references: ArrayLike,
        max_order: int = 3,
        eos_id: int | None = None,
    ):
        self.max_order = int(max_order)
        self.eos_id = eos_id
        rows = [self._tokens(row) for row in np.asarray(references)]
        if not rows:
            raise ValueError("BleuReward needs at least one reference.")
        self.scorer = bleu.BleuScorer(rows, max_order=self.max_order)

    def _tokens(self, row):
        row = [int(t) for t in row]
        if self.eos_id is not None and self.eos_id in row:
            row = row[: row.index(self.eos_id) + 1]
        return tuple(row)

    def scores(self, token_ids: ArrayLike) -> np.ndarray:
        """BLEU of each row of `token_ids` (NumPy [N, T]) as float32 [N]."""
        rows = [self._tokens(row) for row in np.asarray(token_ids)]
        return np.asarray(
            self.scorer.scores(rows, self.max_order), dtype=np.float32
        )

    def __call__(self, token_ids: ArrayLike) -> tf.Tensor:
        rewards = tf.numpy_function(
            self.scores, [tf.cast(token_ids, tf.int32)], tf.float32
        )
        return tf.reshape(rewards, tf.shape(token_ids)[:1])


def batch_mean_baseline(
    rewards: ArrayLike,
    padding_mask: ArrayLike | None = None,
    batch_sum: Callable[[tf.Tensor], tf.Tensor] | None = None,
) -> tf.Tensor:
    """Rewards minus their mean over the batch at each position.

    REINFORCE with a baseline: `r[b, t] - mean_b r[b, t]`. The update then
    keeps what the rewards say of one sample against another (a sample
    scored above its batch is made likelier, one below it less likely) and
    loses their common part, which with the SeqGAN loss (all rewards
    positive) pushes the generator towards whatever it sampled.

    Args:
        rewards: float [B, T] rewards of one batch (or one replica's slice).
        padding_mask: optional bool or 0/1 [B, T]; the mean at a position
            is over the rows whose sequence still runs there, and masked
            positions stay as they are (the loss ignores them).
        batch_sum: optional function summing a [T] tensor over the whole
            global batch (a replica's all-reduce); default: this slice only.

    Returns:
        float32 [B, T].

    Examples:
        >>> from seqgan_tf import rewards
        >>> rewards.batch_mean_baseline([[1.0, 2.0], [3.0, 6.0]]).numpy()
        array([[-1., -2.],
               [ 1.,  2.]], dtype=float32)
    """
    rewards = tf.cast(rewards, tf.float32)
    mask = (
        tf.ones_like(rewards)
        if padding_mask is None
        else tf.cast(padding_mask, tf.float32)
    )
    total = tf.reduce_sum(rewards * mask, axis=0)
    count = tf.reduce_sum(mask, axis=0)
    if batch_sum is not None:
        total, count = batch_sum(total), batch_sum(count)
    mean = total / tf.maximum(count, 1.0)
    return rewards - mean[tf.newaxis, :] * mask


def importance_weights(
    p_real: ArrayLike,
    batch_sum: Callable[[tf.Tensor], tf.Tensor] | None = None,
    epsilon: float = 1e-06,
    group_size: int | None = None,
) -> tf.Tensor:
    """MaliGAN's normalised importance weights of a batch of sequences.

    With the optimal discriminator D, p_data(x) is proportional to
    p_G(x) D(x) / (1 - D(x)), so a sample x_i of the generator stands for
    the data distribution with weight r_i = D(x_i) / (1 - D(x_i));
    normalised over the m samples of the batch, w_i = r_i / sum_j r_j, the
    weights sum to 1 (Che et al. 2017, arXiv 1702.07983, eq. 4-5).

    Args:
        p_real: float [B] the discriminator's P(real) of each sequence
            (clipped to [epsilon, 1 - epsilon] so r stays finite).
        batch_sum: optional function summing a scalar over the whole
            global batch (a replica's all-reduce); default: this slice.
        epsilon: the clip of `p_real`.
        group_size: optional n: normalise within each group of n
            consecutive rows instead (MaliGAN's mixed training, the n
            continuations of one real prefix); returns [B / n, n].

    Returns:
        float32 [B], summing to 1 over the (global) batch.

    Examples:
        >>> from seqgan_tf import rewards
        >>> rewards.importance_weights([0.5, 0.8]).numpy().round(4)  # r: 1, 4
        array([0.2, 0.8], dtype=float32)
    """
    p = tf.clip_by_value(tf.cast(p_real, tf.float32), epsilon, 1.0 - epsilon)
    ratio = p / (1.0 - p)
    if group_size is not None:
        ratio = tf.reshape(ratio, [-1, group_size])
        return ratio / tf.reduce_sum(ratio, axis=1, keepdims=True)
    total = tf.reduce_sum(ratio)
    if batch_sum is not None:
        total = batch_sum(total)
    return ratio / total


def optimal_importance_weights(
    logits: ArrayLike,
    batch_sum: Callable[[tf.Tensor], tf.Tensor] | None = None,
    batch_max: Callable[[tf.Tensor], tf.Tensor] | None = None,
    group_size: int | None = None,
) -> tf.Tensor:
    """MaliGAN's normalised importance weights with the exact ratio.

    `importance_weights` with the optimal discriminator's logits
    (`optimal.optimal_logit`, log p_oracle(x) - log p_G(x)) in place of a
    trained discriminator's P(real): the ratio D* / (1 - D*) is then
    exactly p_oracle(x_i) / p_G(x_i) = exp(logit_i), and the normalised
    weights w_i = exp(logit_i) / sum_j exp(logit_j) are the softmax of the
    logits, computed as one (shifted by the largest logit: no overflow,
    no clipping). They equal `importance_weights(sigmoid(logits))` for
    moderate logits (to the float32 rounding of 1 - D); that one clips
    P(real) to [epsilon, 1 - epsilon], so it tells no two logits beyond
    about +-13.8 apart (epsilon 1e-6). On the paper's task the logits of
    one batch spread over tens of nats, so a few samples carry nearly all
    the weight: `effective_sample_size` says how many.

    Args:
        logits: float [B] the optimal logit of each sequence.
        batch_sum: optional function summing a scalar over the whole
            global batch (a replica's all-reduce); needs `batch_max`.
        batch_max: optional function giving the largest value of a
            scalar over the global batch (e.g. the max of the replica
            context's `all_gather`), the common shift of the softmax;
            needs `batch_sum`. Default for both: this slice only.
        group_size: optional n: normalise within each group of n
            consecutive rows instead (MaliGAN's mixed training, the n
            continuations of one real prefix); returns [B / n, n].

    Returns:
        float32 [B], summing to 1 over the (global) batch.

    Examples:
        >>> import math
        >>> from seqgan_tf import rewards
        >>> weights = rewards.optimal_importance_weights([0.0, math.log(3.0)])
        >>> weights.numpy().round(4)  # p_oracle / p_G of 1 and 3
        array([0.25, 0.75], dtype=float32)
    """
    logits = tf.cast(logits, tf.float32)
    if group_size is not None:
        return tf.nn.softmax(tf.reshape(logits, [-1, group_size]), axis=1)
    if (batch_sum is None) != (batch_max is None):
        raise ValueError(
            "`batch_sum` and `batch_max` go together: the softmax over a "
            "global batch needs one shift for every replica."
        )
    if batch_sum is None:
        return tf.nn.softmax(logits)
    # The shift cancels in the ratio: no gradient through it.
    peak = tf.stop_gradient(batch_max(tf.reduce_max(logits)))
    exps = tf.exp(logits - peak)
    return exps / batch_sum(tf.reduce_sum(exps))


def effective_sample_size(weights: ArrayLike, axis: int = -1) -> tf.Tensor:
    """Kish's effective sample size of importance weights,
    (sum w)^2 / sum w^2, along `axis`: n for n equal weights, 1 when one
    weight holds everything, the same for any positive scale of the
    weights. Of `importance_weights` or `optimal_importance_weights`
    (normalised over the batch: a scalar; within groups [G, n]: one per
    group with `axis=-1`). NaN when every weight is 0.

    Args:
        weights: nonnegative weights.
        axis: the axis of one normalised set of weights.

    Returns:
        float32, `weights` without `axis`.

    Examples:
        >>> from seqgan_tf import rewards
        >>> float(rewards.effective_sample_size([0.25, 0.25, 0.25, 0.25]))
        4.0
        >>> float(rewards.effective_sample_size([0.97, 0.01, 0.01, 0.01]))
        1.0...
    """
    weights = tf.cast(weights, tf.float32)
    # Scaled by the largest weight first, so that squares of tiny
    # weights cannot underflow to 0 together (the ratio is unchanged).
    weights = weights / tf.reduce_max(weights, axis=axis, keepdims=True)
    total = tf.reduce_sum(weights, axis=axis)
    return total * total / tf.reduce_sum(weights * weights, axis=axis)


def rescaled_activation(
    rewards: ArrayLike, mode: str = "sorted", delta: float = 16.0
) -> tf.Tensor:
    """LeakGAN's bootstrapped rescaled activation, per column over the batch.

    "sorted" (the paper): each reward becomes sigmoid(delta * (rank / B -
    0.5)), its rank counted from the lowest (1) to the highest (B) reward
    of its column, so the rewards of every batch spread over the same
    range whatever the discriminator's scale; equal rewards share the rank
    of the first of them. "unsorted" (the released code): the ranks are
    given to the distinct values in the order they first appear in the
    column, never sorted by value, so the rewards are a fixed set of values
    assigned regardless of the discriminator's verdict. "none": unchanged.

    Args:
        rewards: float [B, K] (K time blocks).
        mode: "sorted", "unsorted" or "none".
        delta: the slope (16 in the released code).

    Returns:
        float32 [B, K].

    Examples:
        The ranks of 0.2, 0.9, 0.5 and 0.1 are 2, 4, 3 and 1 of 4:

        >>> from seqgan_tf import rewards
        >>> scores = [[0.2], [0.9], [0.5], [0.1]]
        >>> rewards.rescaled_activation(scores).numpy().round(4)
        array([[0.5   ],
               [0.9997],
               [0.982 ],
               [0.018 ]], dtype=float32)
    """
    if mode not in LEAKGAN_RESCALES:
        raise ValueError(
            f"`mode` must be one of {', '.join(LEAKGAN_RESCALES)}, got "
            f"{mode!r}."
        )
    rewards = tf.cast(rewards, tf.float32)
    if mode == "none":
        return rewards
    count = tf.cast(tf.shape(rewards)[0], tf.float32)
    # [K, B, B]: column k, rows i and j.
    by_column = tf.transpose(rewards)
    value_i = by_column[:, :, None]
    value_j = by_column[:, None, :]
    if mode == "sorted":
        rank = 1.0 + tf.reduce_sum(tf.cast(value_j < value_i, tf.float32), -1)
    else:
        index = tf.range(tf.shape(rewards)[0])
        equal = tf.equal(value_i, value_j)
        # The first row holding each row's value, and whether a row is the
        # first of its value.
        first = tf.reduce_min(
            tf.where(equal, index[None, None, :], tf.shape(rewards)[0]), -1
        )
        is_first = tf.cast(tf.equal(first, index[None, :]), tf.float32)
        # Rank: 1 + distinct values that appeared before this one.
        before = tf.cast(index[None, None, :] < first[:, :, None], tf.float32)
        rank = 1.0 + tf.reduce_sum(before * is_first[:, None, :], -1)
    return tf.transpose(tf.sigmoid(delta * (rank / count - 0.5)))
