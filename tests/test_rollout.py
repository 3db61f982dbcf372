"""Tests for seqgan_tf.rollout with tiny models (V 26, T 12, hidden 4)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf import rollout
from seqgan_tf import sampler

V, T, B = 26, 12, 3
# Chunk sizes covering one completion per chunk, less than one rollout,
# exactly one and two rollouts ((T - 1) * B = 33 completions each), and all.
CHUNK_SIZES = [1, 20, 33, 66, 4096]


def random_token_ids(batch_size=B, seed=0, length=T):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (batch_size, length)).astype("int32")


def weighted_mean_score(token_ids):
    """A score that changes whenever any token changes, in [0, 1]."""
    weights = tf.linspace(0.5, 1.5, tf.shape(token_ids)[1])
    tokens = tf.cast(token_ids, tf.float32) / (V - 1)
    return tf.reduce_mean(tokens * weights, axis=1)


def forced_token_policy(make_generator, token):
    # Zero output kernel, bias 1e9 on `token`: every sampled token is `token`.
    policy = make_generator(seed=1, stddev=1.0)
    projection = policy.output_projection
    projection.kernel.assign(tf.zeros_like(projection.kernel))
    projection.bias.assign(1e9 * tf.one_hot(token, V))
    return policy


@pytest.mark.slow
def test_shape_and_dtype(make_generator):
    rewards = rollout.rollout_rewards(
        make_generator(),
        weighted_mean_score,
        random_token_ids(),
        (0, 1),
        num_rollouts=2,
    )
    assert rewards.shape == (B, T)
    assert rewards.dtype == tf.float32


@pytest.mark.slow
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize("num_rollouts", [1, 3, 4])
def test_constant_score_gives_constant_rewards(
    make_generator, chunk_size, num_rollouts
):
    # 0.375 = 3/8 is exact in float32, and so is its mean over rollouts.
    def constant(token_ids):
        return tf.fill(tf.shape(token_ids)[:1], 0.375)

    rewards = rollout.rollout_rewards(
        make_generator(),
        constant,
        random_token_ids(),
        (2, 3),
        num_rollouts=num_rollouts,
        chunk_size=chunk_size,
    )
    assert rewards.shape == (B, T)
    np.testing.assert_array_equal(rewards, np.full((B, T), 0.375, "float32"))


def test_last_reward_is_the_score_of_the_full_sequence(make_generator):
    token_ids = random_token_ids(seed=1)
    rewards = rollout.rollout_rewards(
        make_generator(stddev=1.0),
        weighted_mean_score,
        token_ids,
        (4, 5),
        num_rollouts=2,
    )
    np.testing.assert_array_equal(
        rewards[:, -1], weighted_mean_score(token_ids)
    )


@pytest.mark.slow
def test_same_seed_same_rewards_other_seed_other_rewards(make_generator):
    policy = make_generator(stddev=1.0)
    token_ids = random_token_ids(seed=2)

    def rewards(seed):
        return rollout.rollout_rewards(
            policy, weighted_mean_score, token_ids, seed, num_rollouts=2
        ).numpy()

    first = rewards((6, 7))
    np.testing.assert_array_equal(rewards((6, 7)), first)
    # (Not every seed: with this peaky policy two completions of the
    # longest prefixes can coincide by chance, as they do for (6, 8).)
    other = rewards((6, 9))
    assert np.all(other[:, :-1] != first[:, :-1])
    np.testing.assert_array_equal(other[:, -1], first[:, -1])


@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.slow
def test_rewards_with_forced_completions_are_known_exactly(
    make_generator, chunk_size
):
    # The policy always samples token 7 and the sequences contain no 7, so
    # the completion of prefix y_1..y_t is y_1..y_t 7 7 ... 7. Scoring a
    # sequence by its number of leading non-7 tokens therefore scores every
    # completion of prefix length t at exactly t, and the full sequence at
    # T: the rewards are 1, 2, ..., T in every row, whatever the seed, the
    # chunking or the row layout. A rollout that lost prefix tokens, kept
    # too many or put a reward at the wrong position would fail.
    policy = forced_token_policy(make_generator, token=7)
    token_ids = random_token_ids(seed=3)
    token_ids[token_ids == 7] = 8

    def leading_non_sevens(token_ids):
        is_seven = tf.cast(tf.equal(token_ids, 7), tf.int32)
        return tf.cast(
            tf.reduce_sum(1 - tf.minimum(tf.cumsum(is_seven, axis=1), 1), 1),
            tf.float32,
        )

    rewards = rollout.rollout_rewards(
        policy,
        leading_non_sevens,
        token_ids,
        (0, 0),
        num_rollouts=4,
        chunk_size=chunk_size,
    )
    expected = np.tile(np.arange(1, T + 1, dtype="float32"), [B, 1])
    np.testing.assert_array_equal(rewards, expected)


def rollout_layout(token_ids, num_rollouts):
    """Rows laid out [rollout, prefix length 1..T-1, batch], as rollout does."""
    batch_size, length = token_ids.shape
    prefixes = np.tile(token_ids, [num_rollouts * (length - 1), 1])
    prefix_length = np.tile(
        np.repeat(np.arange(1, length, dtype="int32"), batch_size),
        [num_rollouts],
    )
    return prefixes, prefix_length


def test_sampler_keeps_prefixes_in_the_rollout_layout(make_generator):
    policy = make_generator(stddev=1.0)
    token_ids = random_token_ids(seed=4)
    prefixes, prefix_length = rollout_layout(token_ids, num_rollouts=2)
    assert prefixes.shape == (2 * (T - 1) * B, T)
    completed = sampler.sample(policy, prefixes, prefix_length, (1, 2)).numpy()
    kept = np.arange(T)[None, :] < prefix_length[:, None]
    np.testing.assert_array_equal(completed[kept], prefixes[kept])
    # The rest is sampled, not copied from the sequence.
    assert np.mean(completed[~kept] != prefixes[~kept]) > 0.5


@pytest.mark.slow
def test_rollout_completions_keep_their_prefixes(make_generator):
    # A score of 1 when the completion starts with its own prefix, its row
    # decoded from the [rollout, prefix length, batch] layout (the final
    # call on the B sequences themselves decodes as prefix length 1).
    token_ids = random_token_ids(seed=5)
    original = tf.constant(token_ids)

    def prefix_kept(completed):
        row = tf.range(tf.shape(completed)[0])
        kept_length = (row // B) % (T - 1) + 1
        kept = tf.range(T)[None, :] < kept_length[:, None]
        same = tf.equal(completed, tf.gather(original, row % B))
        return tf.cast(tf.reduce_all(same | ~kept, axis=1), tf.float32)

    for chunk_size in [33, 4096]:
        rewards = rollout.rollout_rewards(
            make_generator(stddev=1.0),
            prefix_kept,
            token_ids,
            (3, 1),
            num_rollouts=4,
            chunk_size=chunk_size,
        )
        np.testing.assert_array_equal(rewards, np.ones((B, T)))


@pytest.mark.slow
def test_deterministic_policy_matches_naive_rollout(make_generator):
    # With temperature 1e-5 and well-separated logits (stddev 1) the policy
    # completes greedily, so both implementations score the same
    # completions and agree to rounding whatever their seeds and chunking.
    policy = make_generator(seed=6, stddev=1.0)
    token_ids = random_token_ids(seed=6)
    naive = rollout.naive_rollout_rewards(
        policy,
        weighted_mean_score,
        token_ids,
        (0, 0),
        num_rollouts=2,
        temperature=1e-5,
    )
    # Not trivially equal: rewards differ across positions and rows.
    assert len(np.unique(np.round(naive.numpy(), 6))) > T
    for chunk_size in CHUNK_SIZES:
        vectorised = rollout.rollout_rewards(
            policy,
            weighted_mean_score,
            token_ids,
            (9, chunk_size),
            num_rollouts=4,
            chunk_size=chunk_size,
            temperature=1e-5,
        )
        np.testing.assert_allclose(vectorised, naive, rtol=1e-6)


def exact_rewards(policy, score_fn, token_ids):
    """Exact expected rewards and score variances for sequences of length 3.

    Enumerates every completion: for prefix y_1 all 26^2 pairs (y_2, y_3),
    for prefix y_1 y_2 all 26 tokens y_3, weighted by the policy's
    teacher-forced probabilities.
    """
    means, variances = [], []
    for row in token_ids:
        y2, y3 = np.meshgrid(np.arange(V), np.arange(V), indexing="ij")
        after_one = np.stack(
            [np.full(V * V, row[0]), y2.ravel(), y3.ravel()], axis=1
        ).astype("int32")
        after_two = np.stack(
            [np.full(V, row[0]), np.full(V, row[1]), np.arange(V)], axis=1
        ).astype("int32")
        row_means, row_variances = [], []
        for completions, first_sampled in [(after_one, 1), (after_two, 2)]:
            log_probs = policy.log_prob(completions).numpy()
            p = np.exp(log_probs[:, first_sampled:].sum(axis=1))
            np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-4)
            scores = score_fn(completions).numpy()
            mean = np.sum(p * scores)
            row_means.append(mean)
            row_variances.append(np.sum(p * (scores - mean) ** 2))
        means.append(row_means)
        variances.append(row_variances)
    return np.array(means), np.array(variances)


@pytest.mark.slow
def test_rewards_agree_in_distribution_with_exact_and_naive(make_generator):
    # Length-3 sequences have few enough completions to compute the expected
    # rewards exactly. Both estimators (n = 256 vectorised, 128 naive
    # rollouts, the naive loop being slow) must be within 5 standard errors
    # sqrt(var / n) (at most 0.07 and 0.09) of them; for this fixed seed a
    # correct implementation is inside (|z| < 2.2), while completing another
    # row's prefix moves the means by 0.17 to 0.26. stddev 3 makes the
    # policy's next-token distribution depend strongly on the prefix.
    policy = make_generator(seed=7, stddev=3.0, sequence_length=3)
    token_ids = random_token_ids(batch_size=2, seed=7, length=3)

    def score(token_ids):
        token_ids = tf.cast(token_ids, tf.float32)
        return (token_ids[:, 1] + 2.0 * token_ids[:, 2]) / (3.0 * (V - 1))

    means, variances = exact_rewards(policy, score, token_ids)
    assert np.all(np.abs(means[0] - means[1]) > 0.15)
    for estimator, num_rollouts in [
        (rollout.rollout_rewards, 256),
        (rollout.naive_rollout_rewards, 128),
    ]:
        rewards = estimator(policy, score, token_ids, (1, 1), num_rollouts)
        rewards = rewards.numpy()
        tolerance = 5 * np.sqrt(variances / num_rollouts)
        assert np.all(np.abs(rewards[:, :2] - means) < tolerance)
        np.testing.assert_allclose(rewards[:, 2], score(token_ids), rtol=1e-6)


@pytest.mark.parametrize(
    "chunk_size", [pytest.param(33, marks=pytest.mark.slow), 4096]
)
def test_discriminator_scores_with_and_without_prefix_sharing(
    make_generator, chunk_size
):
    # A Discriminator's scorer scores completions with the prefix-sharing
    # `predict_real_of_completions`; the same seed samples the same
    # completions, so the rewards must agree with plain scoring to rounding.
    keras.utils.set_random_seed(1)
    discriminator = seqgan_tf.Discriminator(
        V, T, embedding_dim=4, filter_sizes=(1, 3, 12), num_filters=(2, 3, 3)
    )
    policy = make_generator(seed=8, stddev=1.0)
    token_ids = random_token_ids(seed=8)
    rewards = {
        share: rollout.rollout_rewards(
            policy,
            discriminator.scorer,
            token_ids,
            (4, 2),
            num_rollouts=4,
            chunk_size=chunk_size,
            share_prefix=share,
        ).numpy()
        for share in [True, False]
    }
    np.testing.assert_allclose(rewards[True], rewards[False], atol=1e-6)
    assert np.all((rewards[True] > 0) & (rewards[True] < 1))
    assert np.std(rewards[True]) > 0


def test_length_one_returns_the_score(make_generator):
    policy = make_generator(sequence_length=1)
    token_ids = random_token_ids(length=1)
    rewards = rollout.rollout_rewards(
        policy, weighted_mean_score, token_ids, (0, 0), num_rollouts=2
    )
    assert rewards.shape == (B, 1)
    np.testing.assert_array_equal(rewards[:, 0], weighted_mean_score(token_ids))


def test_num_rollouts_must_be_positive(make_generator):
    with pytest.raises(ValueError, match="num_rollouts"):
        rollout.rollout_rewards(
            make_generator(),
            weighted_mean_score,
            random_token_ids(),
            (0, 0),
            num_rollouts=0,
        )
