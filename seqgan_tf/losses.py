"""SeqGAN's losses as pure functions: MLE, policy gradient, discriminator.

Each is checkable by hand; see tests/test_losses.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf.data.masks import padding_mask

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

REDUCTIONS = ("sum", "mean")


def token_log_probs(
    logits: ArrayLike,
    token_ids: ArrayLike,
    temperature: float | tf.Tensor = 1.0,
) -> tf.Tensor:
    """log p(token_ids[b, t]) under `logits` [B, T, V] divided by
    `temperature` (a number or a float32 scalar tensor); returns float32
    [B, T] (`-token_nll`).

    Examples:
        >>> import math
        >>> from seqgan_tf import losses
        >>> logits = [[[0.0, 0.0], [0.0, math.log(3.0)]]]  # [1, 2, 2]
        >>> losses.token_log_probs(logits, [[0, 1]]).numpy().round(4)
        array([[-0.6931, -0.2877]], dtype=float32)
    """
    logits = tf.cast(logits, tf.float32)
    if not isinstance(temperature, (int, float)) or temperature != 1.0:
        logits = logits / temperature
    return -token_nll(logits, token_ids)


def masked_log_probs(
    log_probs: ArrayLike, token_ids: ArrayLike, eos_id: int | None
) -> tuple[tf.Tensor, tf.Tensor]:
    """`(log_probs with 0 after each row's first EOS, the mask)`.

    The per-token log-probabilities [B, T] of a sequence's own positions
    (up to and including its first `eos_id`); with `eos_id` None every
    position counts. Sums and counts of NLL metrics and of the exported
    `log_prob` signature come from here.

    Examples:
        >>> from seqgan_tf import losses
        >>> log_probs, mask = losses.masked_log_probs(
        ...     [[-1.0, -1.0, -1.0, -1.0]], [[5, 2, 0, 0]], eos_id=2)
        >>> log_probs.numpy(), mask.numpy()
        (array([[-1., -1.,  0.,  0.]], dtype=float32),
         array([[ True,  True, False, False]]))
    """
    mask = padding_mask(token_ids, eos_id)
    log_probs = tf.cast(log_probs, tf.float32)
    return tf.where(mask, log_probs, tf.zeros_like(log_probs)), mask


# The element-wise passes over the [N, V] logits (max, exp, sum, and the
# gradient's scale and one-hot) are memory-bound; XLA fuses each direction
# into one pass, about twice as fast as TensorFlow's separate kernels.
@tf.function(jit_compile=True)
def _nll_forward(logits, labels):
    peak = tf.reduce_max(logits, axis=-1, keepdims=True)
    exps = tf.exp(logits - peak)
    sums = tf.reduce_sum(exps, axis=-1, keepdims=True)
    nll = tf.squeeze(tf.math.log(sums) + peak, -1) - tf.gather(
        logits, labels, batch_dims=1
    )
    return nll, exps, sums


@tf.function(jit_compile=True)
def _nll_backward(exps, sums, labels, upstream):
    # d nll / d logits = softmax - one-hot.
    one_hot = tf.one_hot(labels, tf.shape(exps)[-1], dtype=exps.dtype)
    return (exps / sums - one_hot) * upstream[:, None]


@tf.custom_gradient
def _token_nll(logits, labels):
    # -log softmax(logits)[label] of each row of [N, V] logits. The
    # exponentials of the forward pass are kept for the gradient
    # (softmax - one-hot), so the [N, V] tensor is exponentiated once; TF's
    # fused kernel does it twice, and that pass is most of an MLE step.
    nll, exps, sums = _nll_forward(logits, labels)

    def gradient(upstream):
        return _nll_backward(exps, sums, labels, upstream), None

    return nll, gradient


def token_nll(logits: ArrayLike, token_ids: ArrayLike) -> tf.Tensor:
    """Per-token negative log-likelihood of `token_ids` [..., T] under
    `logits` [..., T, V] (float32): the values and gradients of
    `tf.nn.sparse_softmax_cross_entropy_with_logits`, to float rounding,
    for one exponential pass instead of two."""
    logits = tf.cast(logits, tf.float32)
    token_ids = tf.cast(token_ids, tf.int32)
    flat = _token_nll(
        tf.reshape(logits, [-1, tf.shape(logits)[-1]]),
        tf.reshape(token_ids, [-1]),
    )
    return tf.reshape(flat, tf.shape(token_ids))


def mle_loss(
    logits: ArrayLike,
    token_ids: ArrayLike,
    padding_mask: ArrayLike | None = None,
) -> tf.Tensor:
    """Mean per-token negative log-likelihood of `token_ids` [B, T] under
    `logits` [B, T, V] (the pretraining loss), over the positions where
    `padding_mask` is True (all when it is None).

    Examples:
        >>> import tensorflow as tf
        >>> from seqgan_tf import losses
        >>> uniform = tf.zeros([2, 3, 4])  # every token 1/4
        >>> round(float(losses.mle_loss(uniform, [[0, 1, 2], [3, 0, 1]])), 4)
        1.3863
    """
    nll = token_nll(logits, token_ids)
    if padding_mask is None:
        return tf.reduce_mean(nll)
    mask = tf.cast(padding_mask, tf.float32)
    return tf.reduce_sum(nll * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def mle_loss_terms(
    logits: ArrayLike,
    token_ids: ArrayLike,
    padding_mask: ArrayLike | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """(sum of the per-token NLL over the unmasked positions, their count).

    `mle_loss` is `sum / max(count, 1)` (to rounding); a replica of a
    distributed step divides its own sum by the count of the global batch.
    """
    nll = token_nll(logits, token_ids)
    if padding_mask is None:
        return tf.reduce_sum(nll), tf.cast(tf.size(nll), tf.float32)
    mask = tf.cast(padding_mask, tf.float32)
    return tf.reduce_sum(nll * mask), tf.reduce_sum(mask)


def policy_gradient_loss(
    log_probs: ArrayLike,
    rewards: ArrayLike,
    reduction: str = "sum",
    padding_mask: ArrayLike | None = None,
    global_batch_size: int | None = None,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """REINFORCE loss `-sum_{b,t} log p(y_t | y_<t) * reward_t`.

    `reduction="sum"` is the authors' loss (a sum over batch and time, no
    baseline, no discount); `"mean"` divides by the batch size. Rewards are
    constants of the update: gradients never flow into them.

    `padding_mask` (bool or 0/1 [B, T], optional): positions where it is
    False (after a sequence's EOS) contribute nothing: both the
    log-probabilities and the rewards are multiplied by it, so such
    positions get no gradient. `"mean"` still divides by the batch size,
    not by the number of unmasked positions.

    `global_batch_size` (optional): the batch size `"mean"` divides by, for
    one replica's slice of a global batch (default: the rows given).

    Returns:
        `(loss, parts)`, the scalar loss and a dict of its named terms for
        logging: `policy_gradient`; `mean_reward`, the mean reward over the
        unmasked positions; and `reward_sum` and `reward_count`, its
        numerator and denominator (a distributed step sums them over
        replicas for the global mean).

    Examples:
        >>> from seqgan_tf import losses
        >>> loss, parts = losses.policy_gradient_loss(
        ...     [[-1.0, -2.0]], [[1.0, 0.5]])  # -(-1 * 1 - 2 * 0.5)
        >>> float(loss), float(parts["mean_reward"])
        (2.0, 0.75)
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"`reduction` must be one of {REDUCTIONS}, got {reduction!r}."
        )
    rewards = tf.stop_gradient(tf.cast(rewards, tf.float32))
    rewards = tf.debugging.check_numerics(rewards, "policy-gradient rewards")
    log_probs = tf.cast(log_probs, tf.float32)
    if padding_mask is not None:
        mask = tf.cast(padding_mask, tf.float32)
        log_probs = log_probs * mask
        rewards = rewards * mask
    total = -tf.reduce_sum(log_probs * rewards)
    if reduction == "mean":
        batch = (
            tf.shape(log_probs)[0]
            if global_batch_size is None
            else global_batch_size
        )
        total = total / tf.cast(batch, tf.float32)
    # The mean reward is over the sequences' own positions, not padding.
    reward_sum = tf.reduce_sum(rewards)
    if padding_mask is None:
        reward_count = tf.cast(tf.size(rewards), tf.float32)
    else:
        reward_count = tf.reduce_sum(mask)
    return total, {
        "policy_gradient": total,
        "mean_reward": reward_sum / tf.maximum(reward_count, 1.0),
        "reward_sum": reward_sum,
        "reward_count": reward_count,
    }


def discriminator_loss(
    logits: ArrayLike,
    labels: ArrayLike,
    regularization: float | tf.Tensor = 0.0,
    global_batch_size: int | None = None,
    num_replicas: int = 1,
) -> tuple[tf.Tensor, tf.Tensor]:
    """The discriminator's loss: mean cross-entropy of real (1) vs generated
    (0) plus its regularization (the L2 term of the output layer).

    `logits` [B, 2] are cast to float32. For one replica's slice of a
    global batch, the cross-entropy sum is divided by `global_batch_size`
    and the regularization by `num_replicas`, so that the replicas' losses
    sum to the single-device loss.

    Returns:
        `(loss, correct)`, the scalar loss and the number of rows whose
        argmax is their label (float32).

    Examples:
        >>> from seqgan_tf import losses
        >>> logits = [[0.0, 2.0], [1.0, -1.0]]  # says real, then generated
        >>> loss, correct = losses.discriminator_loss(logits, [1, 1])
        >>> round(float(loss), 4), float(correct)
        (1.1269, 1.0)
    """
    logits = tf.cast(logits, tf.float32)
    labels = tf.cast(labels, tf.int32)
    batch = (
        tf.shape(logits)[0]
        if global_batch_size is None
        else (global_batch_size)
    )
    cross_entropy = tf.reduce_sum(
        tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits
        )
    ) / tf.cast(batch, tf.float32)
    regularization = tf.cast(regularization, tf.float32)
    loss = cross_entropy + regularization / float(num_replicas)
    predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
    correct = tf.reduce_sum(tf.cast(tf.equal(predicted, labels), tf.float32))
    return loss, correct


def rank_loss(
    scores: ArrayLike, labels: ArrayLike
) -> tuple[tf.Tensor, tf.Tensor]:
    """RankGAN's ranker loss on one batch of real (1) and generated (0)
    sequences: with log P = log_softmax(scores) over the batch (the
    comparison set), `mean_generated log P - mean_real log P`, as the
    released code computes it. Minimising it ranks real sequences above
    generated ones. It has no lower bound (a perfect ranker drives the
    generated log P to -inf); a batch without real or without generated
    rows contributes 0 for the missing class.

    Args:
        scores: float [N] the ranker's scores (`Ranker.scores`).
        labels: int [N] 1 real, 0 generated.

    Returns:
        `(loss, correct)`, the scalar loss and how many rows the ranking
        puts on their side of uniform (P > 1/N for real, P <= 1/N for
        generated), float32.
    """
    scores = tf.cast(scores, tf.float32)
    real = tf.cast(tf.equal(tf.cast(labels, tf.int32), 1), tf.float32)
    log_p = tf.nn.log_softmax(scores)
    count = tf.cast(tf.size(scores), tf.float32)

    def mean(weights):
        return tf.reduce_sum(log_p * weights) / tf.maximum(
            tf.reduce_sum(weights), 1.0
        )

    loss = mean(1.0 - real) - mean(real)
    above = tf.cast(log_p > -tf.math.log(count), tf.float32)
    correct = tf.reduce_sum(above * real + (1.0 - above) * (1.0 - real))
    return loss, correct


def _cosine(a, b):
    a = tf.math.l2_normalize(tf.cast(a, tf.float32), axis=-1, epsilon=1e-12)
    b = tf.math.l2_normalize(tf.cast(b, tf.float32), axis=-1, epsilon=1e-12)
    return tf.reduce_sum(a * b, axis=-1)


def leakgan_manager_loss(
    features: ArrayLike,
    goals: ArrayLike,
    goal_step: int,
    rewards: ArrayLike | None = None,
) -> tf.Tensor:
    """LeakGAN's Manager loss: `-mean_{b,j} Q[b, j] cos(f_{j+c} - f_j, g_j)`.

    Goal g_j should point where the feature moves over the next c steps
    (the last goals, j + c > T, look at f_T). In pretraining Q = 1; in
    adversarial training Q is the token's extrinsic reward (a constant).

    Args:
        features: float [B, T + 1, F], f_j of the first j tokens (constants).
        goals: float [B, T, F], the goals g_j (unit vectors).
        goal_step: c.
        rewards: optional float [B, T], Q.
    """
    length = goals.shape[1]
    ahead = [min(j + goal_step, length) for j in range(length)]
    moved = tf.gather(features, ahead, axis=1) - features[:, :length]
    cos = _cosine(tf.stop_gradient(moved), goals)
    if rewards is not None:
        cos = cos * tf.stop_gradient(tf.cast(rewards, tf.float32))
    return -tf.reduce_mean(cos)


def leakgan_intrinsic_rewards(
    features: ArrayLike, goals: ArrayLike, goal_step: int
) -> tf.Tensor:
    """The Worker's intrinsic reward of each token, float32 [B, T]:
    token j (after which the prefix has j + 1 tokens) gets
    `(1/c) sum_{i=1..c} cos(f_{j+1} - f_{j+1-i}, g_{j+1-i})` over the terms
    with j + 1 - i >= 0: how far the step moved the feature along the
    goals g_{j+1-c} .. g_j, those that make token j's goal embedding w_j
    (`LeakGANGenerator`'s default window, `goals="current"`). Constants
    of the update.

    Args:
        features: float [B, T + 1, F].
        goals: float [B, T, F].
        goal_step: c.
    """
    features = tf.stop_gradient(tf.cast(features, tf.float32))
    goals = tf.stop_gradient(tf.cast(goals, tf.float32))
    length = goals.shape[1]
    columns = []
    for j in range(length):
        terms = [
            _cosine(
                features[:, j + 1] - features[:, j + 1 - i], goals[:, j + 1 - i]
            )
            for i in range(1, goal_step + 1)
            if j + 1 - i >= 0
        ]
        columns.append(tf.add_n(terms) / float(goal_step))
    return tf.stack(columns, axis=1)
