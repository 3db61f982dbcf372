"""Generator losses as pure functions: MLE and the SeqGAN policy gradient.

Each is checkable by hand; see tests/test_losses.py.
"""

import tensorflow as tf

REDUCTIONS = ("sum", "mean")


def token_log_probs(logits, token_ids):
    """log p(token_ids[b, t]) under `logits` [B, T, V]; returns [B, T]."""
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.gather(log_probs, tf.cast(token_ids, tf.int32), batch_dims=2)


def mle_loss(logits, token_ids, padding_mask=None):
    """Mean per-token negative log-likelihood (the pretraining loss)."""
    nll = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(token_ids, tf.int32), logits=tf.cast(logits, tf.float32)
    )
    if padding_mask is None:
        return tf.reduce_mean(nll)
    mask = tf.cast(padding_mask, tf.float32)
    return tf.reduce_sum(nll * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def policy_gradient_loss(log_probs, rewards, reduction="sum"):
    """REINFORCE loss `-sum_{b,t} log p(y_t | y_<t) * reward_t`.

    `reduction="sum"` is the authors' loss (a sum over batch and time, no
    baseline, no discount); `"mean"` divides by the batch size. Rewards are
    constants of the update: gradients never flow into them.

    Returns:
        (loss, parts): the scalar loss and a dict of its named terms for
        logging (`policy_gradient`, `mean_reward`).
    """
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"`reduction` must be one of {REDUCTIONS}, got {reduction!r}."
        )
    rewards = tf.stop_gradient(tf.cast(rewards, tf.float32))
    rewards = tf.debugging.check_numerics(rewards, "policy-gradient rewards")
    total = -tf.reduce_sum(tf.cast(log_probs, tf.float32) * rewards)
    if reduction == "mean":
        total = total / tf.cast(tf.shape(log_probs)[0], tf.float32)
    return total, {
        "policy_gradient": total,
        "mean_reward": tf.reduce_mean(rewards),
    }
