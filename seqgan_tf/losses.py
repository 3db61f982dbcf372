"""Generator losses as pure functions: MLE and the SeqGAN policy gradient.

Each is checkable by hand; see tests/test_losses.py.
"""

import tensorflow as tf

REDUCTIONS = ("sum", "mean")


def token_log_probs(logits, token_ids):
    """log p(token_ids[b, t]) under `logits` [B, T, V]; returns [B, T]."""
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
    return tf.gather(log_probs, tf.cast(token_ids, tf.int32), batch_dims=2)


def padding_mask(token_ids, eos_id):
    """True up to and including the first `eos_id` of each row, False after.

    The one implementation of the mask (`seqgan_tf.data.padding_mask` is a
    thin wrapper with EOS as default). Rows without EOS are all True; with
    `eos_id=None` the mask is all True. The last axis is time.
    """
    token_ids = tf.convert_to_tensor(token_ids)
    if eos_id is None:
        return tf.ones_like(token_ids, tf.bool)
    is_eos = tf.cast(tf.equal(token_ids, eos_id), tf.int32)
    # EOS seen strictly before this position <=> past the end.
    return tf.equal(tf.cumsum(is_eos, axis=-1, exclusive=True), 0)


def mle_loss(logits, token_ids, padding_mask=None):
    """Mean per-token negative log-likelihood (the pretraining loss)."""
    nll = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(token_ids, tf.int32), logits=tf.cast(logits, tf.float32)
    )
    if padding_mask is None:
        return tf.reduce_mean(nll)
    mask = tf.cast(padding_mask, tf.float32)
    return tf.reduce_sum(nll * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def mle_loss_terms(logits, token_ids, padding_mask=None):
    """(sum of the per-token NLL over the unmasked positions, their count).

    `mle_loss` is `sum / max(count, 1)` (to rounding); a replica of a
    distributed step divides its own sum by the count of the global batch.
    """
    nll = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(token_ids, tf.int32), logits=tf.cast(logits, tf.float32)
    )
    if padding_mask is None:
        return tf.reduce_sum(nll), tf.cast(tf.size(nll), tf.float32)
    mask = tf.cast(padding_mask, tf.float32)
    return tf.reduce_sum(nll * mask), tf.reduce_sum(mask)


def policy_gradient_loss(
    log_probs,
    rewards,
    reduction="sum",
    padding_mask=None,
    global_batch_size=None,
):
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
        (loss, parts): the scalar loss and a dict of its named terms for
        logging (`policy_gradient`, and `mean_reward`: the mean reward over
        the unmasked positions).
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
    if padding_mask is None:
        mean_reward = tf.reduce_mean(rewards)
    else:  # over the sequences' own positions, not their padding.
        mean_reward = tf.reduce_sum(rewards) / tf.maximum(
            tf.reduce_sum(mask), 1.0
        )
    return total, {"policy_gradient": total, "mean_reward": mean_reward}
