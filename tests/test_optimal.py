"""The optimal discriminator of the oracle task: its logit against an
independent step-by-step computation, D* at extreme logits, both rollout
scorers (in graph mode, following the generator's updates), MaliGAN's
exact importance weights and their effective sample size, and the probe's
correlation of a discriminator's logit with the optimal one."""

import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf import metrics
from seqgan_tf import optimal
from seqgan_tf import rollout
from seqgan_tf.rewards import effective_sample_size
from seqgan_tf.rewards import importance_weights
from seqgan_tf.rewards import optimal_importance_weights


def stepwise_log_probs(model, token_ids):
    """log p(y_t | y_<t) [B, T] in float64 from the model's one-step
    interface (`next_state`, `logits_from_hidden`, the sampler's path, not
    the teacher-forced Keras LSTM) and an explicit softmax in NumPy."""
    token_ids = np.asarray(token_ids)
    rows, length = token_ids.shape
    state = model.initial_state(rows)
    previous = tf.fill([rows], model.start_token)
    columns = []
    for t in range(length):
        state = model.next_state(previous, state)
        logits = model.logits_from_hidden(state[0]).numpy().astype(np.float64)
        peak = logits.max(-1, keepdims=True)
        log_z = peak[:, 0] + np.log(np.exp(logits - peak).sum(-1))
        columns.append(logits[np.arange(rows), token_ids[:, t]] - log_z)
        previous = tf.constant(token_ids[:, t], tf.int32)
    return np.stack(columns, axis=1)


def some_sequences(oracle, generator):
    """Sequences of both models and uniform ones: 13 rows (not a multiple
    of the chunk sizes used below)."""
    uniform = np.random.default_rng(5).integers(0, 26, (3, 12))
    return np.concatenate(
        [
            oracle.generate(5, seed=(1, 1)).numpy(),
            generator.generate(5, seed=(1, 2)).numpy(),
            uniform,
        ]
    ).astype(np.int32)


@pytest.mark.parametrize("eos_id", [None, 2])
@pytest.mark.slow
def test_optimal_logit_is_the_log_likelihood_ratio_of_whole_sequences(
    oracle, make_generator, eos_id
):
    generator = make_generator(seed=1, stddev=0.5, eos_id=eos_id)
    token_ids = some_sequences(oracle, generator)
    token_ids[0, 4] = token_ids[7, 0] = 2  # an EOS, where it means one
    ratio = stepwise_log_probs(oracle, token_ids) - stepwise_log_probs(
        generator, token_ids
    )
    mask = np.ones(token_ids.shape, bool)
    if eos_id is not None:
        # Up to and including the first EOS of each row.
        mask = np.cumsum(token_ids == eos_id, 1) - (token_ids == eos_id) == 0
        assert not mask.all()
    expected = np.where(mask, ratio, 0.0).sum(1)
    got = optimal.optimal_logit(oracle, generator, token_ids)
    assert got.dtype == tf.float32 and got.shape == (13,)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-4)
    # In chunks (a remainder of 13 % 5 rows), and compiled.
    chunked = optimal.optimal_logit(oracle, generator, token_ids, batch_size=5)
    np.testing.assert_allclose(chunked.numpy(), expected, rtol=1e-5, atol=1e-4)
    compiled = tf.function(
        lambda rows: optimal.optimal_logit(oracle, generator, rows, None, 4)
    )
    np.testing.assert_allclose(
        compiled(tf.constant(token_ids)).numpy(), expected, rtol=1e-5, atol=1e-4
    )


def test_optimal_probability_is_finite_and_in_range_at_any_logit():
    logits = np.array([-200.0, -110.0, -90.0, -53.0, -20.0, 0.0, 20.0, 53.0])
    logits = np.concatenate([logits, [200.0]])
    got = optimal.optimal_probability(tf.constant(logits, tf.float32))
    assert got.dtype == tf.float32
    got = got.numpy()
    assert np.isfinite(got).all() and (got >= 0).all() and (got <= 1).all()
    exact = np.exp(-np.logaddexp(0.0, -logits))  # sigmoid in float64
    normal = exact >= np.finfo(np.float32).tiny
    np.testing.assert_allclose(got[normal], exact[normal], rtol=1e-6)
    # Below float32's smallest normal: subnormal or flushed to 0, and 0
    # beyond the smallest subnormal's half (a logit of -103.97).
    assert (got[~normal] <= np.finfo(np.float32).tiny).all()
    assert got[0] == got[1] == 0.0 and got[-1] == 1.0
    assert got[logits == -53.0][0] == pytest.approx(9.6e-24, rel=1e-2)


@pytest.mark.slow
def test_both_scorers_score_the_optimal_logit_of_the_current_generator(
    oracle, make_generator
):
    generator = make_generator(seed=2, stddev=0.5)
    token_ids = some_sequences(oracle, generator)
    logit_scorer = optimal.OptimalLogitScorer(oracle, generator, batch_size=4)
    scorer = optimal.OptimalScorer(oracle, generator, batch_size=4)
    expected = optimal.optimal_logit(oracle, generator, token_ids).numpy()
    np.testing.assert_allclose(logit_scorer(token_ids), expected, rtol=1e-5)
    np.testing.assert_allclose(
        scorer(token_ids),
        optimal.optimal_probability(expected),
        rtol=1e-5,
        atol=1e-30,
    )
    # The generator moves: so does the critic.
    generator.set_weights([1.5 * w for w in generator.get_weights()])
    moved = optimal.optimal_logit(oracle, generator, token_ids).numpy()
    assert np.abs(moved - expected).max() > 1.0
    np.testing.assert_allclose(logit_scorer(token_ids), moved, rtol=1e-5)


@pytest.mark.parametrize(
    "scorer_class", ["OptimalScorer", "OptimalLogitScorer"]
)
@pytest.mark.slow
def test_rollouts_scored_by_the_optimal_critic_in_graph_mode(
    oracle, make_generator, scorer_class
):
    generator = make_generator(seed=3, stddev=0.5)
    # 7 rows a chunk: the completions (2 x 11 x 4) leave a remainder.
    scorer = getattr(optimal, scorer_class)(oracle, generator, batch_size=7)
    samples = generator.generate(4, seed=(4, 5))

    def rewards(token_ids):
        return rollout.rollout_rewards(
            generator, scorer, token_ids, (6, 7), num_rollouts=2
        )

    compiled = tf.function(rewards)(samples).numpy()
    np.testing.assert_allclose(compiled, rewards(samples), rtol=1e-5)
    assert compiled.shape == (4, 12) and np.isfinite(compiled).all()
    np.testing.assert_allclose(compiled[:, -1], scorer(samples), rtol=1e-5)


def test_optimal_importance_weights_are_the_softmax_of_the_logits():
    rng = np.random.default_rng(0)
    # The paper's scale: -53 +- 12 nats, with extremes.
    logits = np.concatenate(
        [-53.0 + 12.0 * rng.standard_normal(14), [-200, 200]]
    )
    weights = optimal_importance_weights(tf.constant(logits, tf.float32))
    weights = weights.numpy()
    exps = np.exp(logits - logits.max())
    np.testing.assert_allclose(
        weights, exps / exps.sum(), rtol=1e-5, atol=1e-30
    )
    assert np.isfinite(weights).all()
    assert weights.sum() == pytest.approx(1.0, abs=1e-6)
    # Within groups of 4: each row of [4, 4] is its group's softmax.
    grouped = optimal_importance_weights(logits[:16], group_size=4).numpy()
    groups = logits[:16].reshape(4, 4)
    exps = np.exp(groups - groups.max(1, keepdims=True))
    np.testing.assert_allclose(
        grouped, exps / exps.sum(1, keepdims=True), rtol=1e-5, atol=1e-30
    )
    # Where D's clip does not bind, MaliGAN's weights of D* = sigmoid.
    moderate = 3.0 * rng.standard_normal(16).astype(np.float32)
    np.testing.assert_allclose(
        optimal_importance_weights(moderate),
        importance_weights(tf.sigmoid(moderate)),
        rtol=1e-4,
    )


def test_optimal_importance_weights_over_replicas_share_one_shift():
    logits = np.array([-60.0, -50.0, -40.0, -95.0, -30.0, -70.0], np.float32)
    peak = logits.max()
    exps = np.exp((logits - peak).astype(np.float64))
    expected = exps / exps.sum()
    slices = [logits[:3], logits[3:]]  # two replicas
    got = []
    for mine, other in (slices, slices[::-1]):
        other_sum = float(np.exp(other - peak).sum())
        got.append(
            optimal_importance_weights(
                mine,
                batch_sum=lambda v, s=other_sum: v + s,
                batch_max=lambda v, o=other: tf.maximum(v, o.max()),
            ).numpy()
        )
    np.testing.assert_allclose(np.concatenate(got), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="batch_max"):
        optimal_importance_weights(logits, batch_sum=lambda v: v)


def test_effective_sample_size():
    assert float(effective_sample_size(np.full(8, 0.125))) == pytest.approx(8)
    assert float(effective_sample_size(np.eye(5)[2])) == pytest.approx(1)
    # (1/2 + 1/4 + 1/4)^2 / (1/4 + 1/16 + 1/16) = 8/3, at any scale
    # (squares of 1e-30 underflow in float32).
    for scale in (1.0, 7.0, 1e-30):
        got = effective_sample_size(scale * np.array([0.5, 0.25, 0.25]))
        assert float(got) == pytest.approx(8.0 / 3.0, rel=1e-6)
    # One per group along the last axis.
    groups = np.array([[1.0, 1.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]])
    np.testing.assert_allclose(effective_sample_size(groups), [2.0, 4.0])
    # Of the optimal weights: exp(2 logsumexp(l) - logsumexp(2 l)).
    logits = np.array([-53.0, -41.0, -60.0, -45.5, -70.0])
    weights = optimal_importance_weights(logits.astype(np.float32))
    expected = np.exp(
        2 * np.logaddexp.reduce(logits) - np.logaddexp.reduce(2 * logits)
    )
    assert float(effective_sample_size(weights)) == pytest.approx(
        expected, rel=1e-5
    )


class LogitDiscriminator(seqgan_tf.Discriminator):
    """A `Discriminator` whose two logits are 0 and `scale` times the
    optimal logit: its P(real) saturates at 0 and 1 in float32 when the
    scale is large, its raw logit does not."""

    def __init__(self, oracle, generator, scale):
        super().__init__(26, 12, filter_sizes=(2,), num_filters=(2,))
        # A function, not attributes: the models are not its layers.
        self.logit = lambda rows: (
            scale * optimal.optimal_logit(oracle, generator, rows)
        )

    def call(self, token_ids, training=False):
        logit = self.logit(token_ids)
        return tf.stack([tf.zeros_like(logit), logit], axis=1)


class ProbabilityOnly:
    """A critic that offers only `predict_real`."""

    def __init__(self, predict_real):
        self.predict_real = predict_real


def probe(critic, oracle, generator, real):
    return metrics.discriminator_probe(
        critic, generator, oracle, real, num_samples=256, seed=(8, 9)
    )


@pytest.mark.slow
def test_probe_correlates_the_optimal_critic_perfectly(
    oracle, real, make_generator
):
    generator = make_generator(seed=4, stddev=0.5)
    # P(real) = sigmoid(optimal logit), in float64: its logit is exact.
    exact = ProbabilityOnly(
        lambda rows: tf.sigmoid(
            tf.cast(optimal.optimal_logit(oracle, generator, rows), tf.float64)
        )
    )
    # Logits 10 times the optimal ones (hundreds of nats): P(real) is 0 or
    # 1 in float32, the raw logit keeps every difference.
    steep = LogitDiscriminator(oracle, generator, scale=10.0)
    sample = generator.generate(256, seed=(8, 10)).numpy()
    p = steep.predict_real(sample).numpy()
    assert ((p == 0.0) | (p == 1.0)).mean() > 0.5
    for critic in (exact, steep):
        logs = probe(critic, oracle, generator, real)
        assert logs["d_optimal_spearman"] == pytest.approx(1.0, abs=1e-9)
        assert logs["d_optimal_pearson"] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
def test_probe_finds_no_correlation_in_noise(oracle, real, make_generator):
    generator = make_generator(seed=4, stddev=0.5)
    rng = np.random.default_rng(11)
    noise = ProbabilityOnly(
        lambda rows: tf.constant(rng.uniform(size=len(rows)), tf.float64)
    )
    logs = probe(noise, oracle, generator, real)
    # 256 independent pairs: both coefficients have a standard deviation
    # of about 1 / sqrt(255) = 0.063 around 0; 0.25 is 4 of them (a
    # chance of about 1e-4 for a given seed; the seeds are fixed).
    assert abs(logs["d_optimal_spearman"]) < 0.25
    assert abs(logs["d_optimal_pearson"]) < 0.25
    # A constant verdict has no correlation at all.
    constant = ProbabilityOnly(
        lambda rows: tf.fill([len(rows)], tf.constant(0.3, tf.float64))
    )
    logs = probe(constant, oracle, generator, real)
    assert np.isnan(logs["d_optimal_spearman"])
    assert np.isnan(logs["d_optimal_pearson"])


@pytest.mark.slow
def test_a_rankers_logit_is_its_score_against_the_references(
    oracle, real, make_generator
):
    ranker = seqgan_tf.Ranker(26, 12, filter_sizes=(2, 3), num_filters=(4, 4))
    rows, references = real[:9], real[100:116]
    np.testing.assert_allclose(
        metrics.discriminator_logits(ranker, rows, references, batch_size=4),
        ranker.scores(rows, references),
        rtol=1e-5,
    )
    # The log of its rank score among the rows differs by a constant.
    log_rank = np.log(ranker.rank_scores(rows, references).numpy())
    difference = log_rank - ranker.scores(rows, references).numpy()
    np.testing.assert_allclose(difference, difference[0], atol=1e-5)
    with pytest.raises(ValueError, match="references"):
        metrics.discriminator_logits(ranker, rows)
    logs = probe(ranker, oracle, make_generator(seed=4, stddev=0.5), real)
    for key in ("d_optimal_spearman", "d_optimal_pearson"):
        assert -1.0 <= logs[key] <= 1.0
