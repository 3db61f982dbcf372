"""Tests for seqgan_tf.losses: every expected value is computed by hand."""

import math

import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf import losses

V = 26

# A 2x3 example over a vocabulary of 3 with logits log(w), so p = w / sum(w):
#
#   b  t  w        p(token)      token  p        -log p
#   0  0  [1,1,2]  [1/4,1/4,1/2] 2      1/2      log 2
#   0  1  [2,1,1]  [1/2,1/4,1/4] 0      1/2      log 2
#   0  2  [1,3,4]  [1/8,3/8,1/2] 1      3/8      log(8/3)
#   1  0  [1,1,2]  [1/4,1/4,1/2] 0      1/4      log 4
#   1  1  [1,1,6]  [1/8,1/8,3/4] 2      3/4      log(4/3)
#   1  2  [1,1,1]  [1/3,1/3,1/3] 1      1/3      log 3
#
# Sum of -log p = 9 log 2 - log 3.
WEIGHTS = np.array(
    [
        [[1, 1, 2], [2, 1, 1], [1, 3, 4]],
        [[1, 1, 2], [1, 1, 6], [1, 1, 1]],
    ],
    dtype="float32",
)
LOGITS = np.log(WEIGHTS)
TOKEN_IDS = np.array([[2, 0, 1], [0, 2, 1]], dtype="int32")
EXPECTED_LOG_PROBS = np.log(
    np.array([[1 / 2, 1 / 2, 3 / 8], [1 / 4, 3 / 4, 1 / 3]])
)


def test_token_log_probs_matches_hand_computation():
    log_probs = losses.token_log_probs(LOGITS, TOKEN_IDS)
    assert log_probs.shape == (2, 3)
    np.testing.assert_allclose(log_probs, EXPECTED_LOG_PROBS, rtol=1e-6)


def test_token_log_probs_shifting_logits_changes_nothing():
    # log_softmax is invariant to adding a constant per distribution.
    shifted = LOGITS + np.array([[[5.0]], [[-3.0]]], dtype="float32")
    np.testing.assert_allclose(
        losses.token_log_probs(shifted, TOKEN_IDS),
        EXPECTED_LOG_PROBS,
        rtol=1e-5,
    )


def test_mle_loss_with_zero_logits_is_log_vocabulary_size():
    logits = np.zeros((2, 12, V), "float32")
    token_ids = np.arange(24, dtype="int32").reshape(2, 12) % V
    loss = losses.mle_loss(logits, token_ids)
    assert loss.shape == ()
    np.testing.assert_allclose(loss, math.log(V), rtol=1e-6)


def test_mle_loss_matches_hand_computation():
    expected = (9 * math.log(2) - math.log(3)) / 6
    np.testing.assert_allclose(
        losses.mle_loss(LOGITS, TOKEN_IDS), expected, rtol=1e-6
    )


def test_mle_loss_padding_mask_excludes_positions():
    # Kept: (0,0) log 2, (0,1) log 2, (1,0) log 4 -> mean 4 log 2 / 3.
    mask = np.array([[1, 1, 0], [1, 0, 0]], dtype="int32")
    np.testing.assert_allclose(
        losses.mle_loss(LOGITS, TOKEN_IDS, padding_mask=mask),
        4 * math.log(2) / 3,
        rtol=1e-6,
    )
    # A boolean mask means the same; a full mask equals no mask.
    np.testing.assert_allclose(
        losses.mle_loss(LOGITS, TOKEN_IDS, padding_mask=mask.astype(bool)),
        4 * math.log(2) / 3,
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        losses.mle_loss(LOGITS, TOKEN_IDS, padding_mask=np.ones((2, 3))),
        losses.mle_loss(LOGITS, TOKEN_IDS),
        rtol=1e-6,
    )


# With zero logits every log p is -log V, so the loss
# -sum_{b,t} log p * r = log(V) * sum(r):
#
#   rewards        sum(r)  'sum' loss         'mean' loss (B = 2)
#   [[1, 2, 3],    5.5     5.5 log 26         2.75 log 26
#    [.5, 0, -1]]
REWARDS = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]], dtype="float32")
ZERO_LOG_PROBS = losses.token_log_probs(
    np.zeros((2, 3, V), "float32"), TOKEN_IDS
)


def test_policy_gradient_loss_sum_with_zero_logits():
    np.testing.assert_allclose(ZERO_LOG_PROBS, -math.log(V), rtol=1e-6)
    loss, parts = losses.policy_gradient_loss(ZERO_LOG_PROBS, REWARDS, "sum")
    np.testing.assert_allclose(loss, 5.5 * math.log(V), rtol=1e-6)
    np.testing.assert_allclose(parts["policy_gradient"], loss)
    np.testing.assert_allclose(parts["mean_reward"], 5.5 / 6, rtol=1e-6)


def test_policy_gradient_loss_default_reduction_is_sum():
    loss, _ = losses.policy_gradient_loss(ZERO_LOG_PROBS, REWARDS)
    np.testing.assert_allclose(loss, 5.5 * math.log(V), rtol=1e-6)


def test_policy_gradient_loss_mean_divides_by_batch_size():
    loss, parts = losses.policy_gradient_loss(ZERO_LOG_PROBS, REWARDS, "mean")
    np.testing.assert_allclose(loss, 5.5 * math.log(V) / 2, rtol=1e-6)
    np.testing.assert_allclose(parts["policy_gradient"], loss)


def test_policy_gradient_loss_on_hand_example():
    # -sum log p * r with the table's log-probabilities.
    expected = -np.sum(EXPECTED_LOG_PROBS * REWARDS)
    loss, _ = losses.policy_gradient_loss(EXPECTED_LOG_PROBS, REWARDS)
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


@pytest.mark.parametrize("reduction,scale", [("sum", 1.0), ("mean", 0.5)])
def test_policy_gradient_loss_gradients(reduction, scale):
    log_probs = tf.constant(EXPECTED_LOG_PROBS, tf.float32)
    rewards = tf.constant(REWARDS)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([log_probs, rewards])
        loss, _ = losses.policy_gradient_loss(log_probs, rewards, reduction)
    # d loss / d log p = -r (/ B for 'mean'); rewards are constants.
    np.testing.assert_allclose(
        tape.gradient(loss, log_probs), -scale * REWARDS, rtol=1e-6
    )
    reward_gradient = tape.gradient(loss, rewards)
    assert reward_gradient is None or not np.any(reward_gradient.numpy())


@pytest.mark.slow
def test_policy_gradient_loss_gradient_through_a_generator(make_generator):
    # tf_agents-style: zero output kernel and bias make every logit 0, so
    # p = 1/V and d loss / d bias_v = -sum_{b,t} r_bt (1[y_bt = v] - 1/V).
    generator = make_generator(seed=3)
    projection = generator.output_projection
    projection.kernel.assign(tf.zeros_like(projection.kernel))
    projection.bias.assign(tf.zeros_like(projection.bias))
    token_ids = np.array(
        [[3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], [0] * 12], dtype="int32"
    )
    rewards = np.linspace(-1.0, 2.0, 24, dtype="float32").reshape(2, 12)
    with tf.GradientTape() as tape:
        log_probs = generator.log_prob(token_ids)
        loss, _ = losses.policy_gradient_loss(log_probs, rewards)
    np.testing.assert_allclose(log_probs, -math.log(V), rtol=1e-6)
    np.testing.assert_allclose(loss, math.log(V) * rewards.sum(), rtol=1e-5)
    one_hot = np.eye(V, dtype="float32")[token_ids]  # [B, T, V]
    expected = -np.einsum("bt,btv->v", rewards, one_hot - 1.0 / V)
    np.testing.assert_allclose(
        tape.gradient(loss, projection.bias), expected, atol=1e-5
    )


def test_policy_gradient_loss_rejects_bad_reduction():
    with pytest.raises(ValueError, match="reduction"):
        losses.policy_gradient_loss(ZERO_LOG_PROBS, REWARDS, reduction="max")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_policy_gradient_loss_check_numerics_catches_bad_rewards(bad):
    rewards = REWARDS.copy()
    rewards[1, 2] = bad
    with pytest.raises(tf.errors.InvalidArgumentError, match="rewards"):
        losses.policy_gradient_loss(ZERO_LOG_PROBS, rewards)


def test_mean_reward_averages_only_unmasked_positions():
    mask = np.array([[True, True, False], [True, False, False]])
    _, parts = losses.policy_gradient_loss(
        ZERO_LOG_PROBS, REWARDS, padding_mask=mask
    )
    # (1 + 2 + 0.5) / 3 unmasked positions, not / 6.
    np.testing.assert_allclose(parts["mean_reward"], 3.5 / 3, rtol=1e-6)


@pytest.mark.parametrize("scale", [1.0, 30.0])
@pytest.mark.slow
def test_token_nll_equals_tf_fused_cross_entropy(scale):
    rng = np.random.default_rng(4)
    logits = tf.constant(rng.normal(size=(3, 5, 40)) * scale, tf.float32)
    labels = tf.constant(rng.integers(0, 40, (3, 5)), tf.int32)
    weights = tf.constant(rng.uniform(size=(3, 5)), tf.float32)

    def value_and_grad(function):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            nll = function()
            total = tf.reduce_sum(nll * weights)
        return nll.numpy(), tape.gradient(total, logits).numpy()

    got = value_and_grad(lambda: losses.token_nll(logits, labels))
    expected = value_and_grad(
        lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=labels, logits=logits
        )
    )
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-6)
    compiled = tf.function(losses.token_nll)(logits, labels).numpy()
    np.testing.assert_allclose(compiled, expected[0], rtol=1e-5, atol=1e-5)
