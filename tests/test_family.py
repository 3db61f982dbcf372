"""SeqGAN's successors: MaliGAN's importance weights, RankGAN's ranker,
LeakGAN's hierarchical generator; each method trains, resumes exactly and
exports for TF Serving."""

import dataclasses
import json
import math

import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import losses
from seqgan_tf import rewards
from seqgan_tf import runs
from seqgan_tf.models.ranker import RankScorer
from seqgan_tf.models.ranker import relevance

# --- MaliGAN -----------------------------------------------------------


def test_importance_weights_are_normalised_odds():
    p_real = np.array([0.5, 0.8, 0.2, 0.9], np.float32)
    odds = p_real / (1 - p_real)  # 1, 4, 0.25, 9
    weights = rewards.importance_weights(p_real).numpy()
    np.testing.assert_allclose(weights, odds / odds.sum(), rtol=1e-6)
    assert weights.sum() == pytest.approx(1.0, abs=1e-6)
    # Not the raw D normalised (what Texygen's MaliGAN computes).
    assert not np.allclose(weights, p_real / p_real.sum(), atol=1e-3)


def test_importance_weights_stay_finite_for_a_certain_discriminator():
    weights = rewards.importance_weights([1.0, 0.0, 0.5]).numpy()
    assert np.isfinite(weights).all()
    assert weights.sum() == pytest.approx(1.0, abs=1e-5)
    assert weights.argmax() == 0


def test_maligan_rewards_are_weights_minus_the_mean(oracle):
    gan = _gan("maligan", oracle)
    samples = gan.generator.generate(gan.batch_size, seed=(1, 2))
    rewards_ = gan._importance_rewards(samples).numpy()
    p_real = gan.discriminator.predict_real(samples).numpy()
    odds = p_real / (1 - p_real)
    expected = odds / odds.sum() - 1.0 / gan.batch_size
    np.testing.assert_allclose(rewards_[:, 0], expected, rtol=1e-4, atol=1e-7)
    # One weight for every token of a sequence; the batch sums to 0.
    assert (rewards_ == rewards_[:, :1]).all()
    assert rewards_[:, 0].sum() == pytest.approx(0.0, abs=1e-5)


# --- RankGAN -----------------------------------------------------------


def test_rank_score_of_a_hand_made_case():
    # Three candidates, two references, features given by hand.
    candidates = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    references = np.array([[1, 0], [3, 4]], np.float32)
    gamma = 2.0
    cos = lambda a, b: a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    expected_scores = np.array(
        [gamma * sum(cos(c, u) for u in references) for c in candidates]
    )
    # 2 * (1 + 0.6), 2 * (0 + 0.8), 2 * (0.7071 + 0.9899)
    np.testing.assert_allclose(
        expected_scores, [3.2, 1.6, 2 * (1 / math.sqrt(2) + 7 / math.sqrt(50))]
    )
    scores = relevance(candidates, references, gamma).numpy()
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)
    rank = tf.nn.softmax(scores).numpy()
    by_hand = np.exp(expected_scores) / np.exp(expected_scores).sum()
    np.testing.assert_allclose(rank, by_hand, rtol=1e-5)


def test_ranker_rank_scores_follow_its_features():
    ranker = seqgan_tf.Ranker(
        26, 12, embedding_dim=4, filter_sizes=(2, 3), num_filters=(3, 3),
        gamma=1.5,
    )
    rng = np.random.default_rng(0)
    candidates = rng.integers(0, 26, (3, 12))
    references = rng.integers(0, 26, (2, 12))
    f_c = ranker(candidates).numpy()
    f_u = ranker(references).numpy()
    cos = f_c @ f_u.T / np.outer(
        np.linalg.norm(f_c, axis=1), np.linalg.norm(f_u, axis=1)
    )
    score = 1.5 * cos.sum(1)
    expected = np.exp(score) / np.exp(score).sum()
    np.testing.assert_allclose(
        ranker.rank_scores(candidates, references).numpy(), expected, rtol=1e-5
    )


def test_rank_scorer_completions_equal_one_call_per_slice():
    ranker = seqgan_tf.Ranker(
        26, 12, embedding_dim=4, filter_sizes=(2, 3), num_filters=(3, 3)
    )
    rng = np.random.default_rng(1)
    references = rng.integers(0, 26, (4, 12))
    completions = rng.integers(0, 26, (2, 11, 5, 12))
    scorer = RankScorer(ranker, references)
    together = scorer.score_completions(None, completions).numpy()
    for r in range(2):
        for t in range(11):
            np.testing.assert_allclose(
                together[r, t], scorer(completions[r, t]).numpy(), rtol=1e-5
            )
    np.testing.assert_allclose(together.sum(-1), 1.0, rtol=1e-5)


def test_ranker_loss_decreases_on_a_separable_toy_set():
    ranker = seqgan_tf.Ranker(
        26, 12, embedding_dim=8, filter_sizes=(2, 3), num_filters=(8, 8),
        dropout=0.0,
    )
    rng = np.random.default_rng(2)
    real = rng.integers(0, 8, (64, 12))  # "human" sentences: tokens 0-7
    fake = rng.integers(16, 26, (64, 12))  # "generated": tokens 16-25
    batch = np.concatenate([real[:16], fake[:16]])
    labels = np.array([1] * 16 + [0] * 16)
    optimizer = tf.keras.optimizers.Adam(1e-2)
    history = []
    for step in range(30):
        references = real[rng.integers(0, 64, 16)]
        with tf.GradientTape() as tape:
            loss, correct = losses.rank_loss(
                ranker.scores(batch, references, training=True), labels
            )
        grads = tape.gradient(loss, ranker.trainable_variables)
        optimizer.apply_gradients(zip(grads, ranker.trainable_variables))
        history.append(float(loss))
    assert history[-1] < history[0] - 1.0
    assert float(correct) == len(batch)


def test_rank_loss_by_hand():
    scores = np.array([2.0, 1.0, 0.0, -1.0], np.float32)
    labels = np.array([1, 0, 1, 0])
    log_p = scores - np.log(np.exp(scores).sum())
    loss, correct = losses.rank_loss(scores, labels)
    assert float(loss) == pytest.approx(
        log_p[[1, 3]].mean() - log_p[[0, 2]].mean(), rel=1e-6
    )
    # P = 0.64, 0.24, 0.09, 0.03: only row 0 is above 1/4; rows 0 (real)
    # 1 and 3 (generated) are on their side, row 2 (real) is not.
    assert float(correct) == 3


def test_ranker_and_rank_reward_go_together(oracle):
    config = config_lib.for_method(config_lib.get_preset("tiny"), "rankgan")
    bad = dataclasses.replace(
        config,
        discriminator=dataclasses.replace(config.discriminator, kind="classifier"),
    )
    with pytest.raises(config_lib.ConfigError, match="reward=rank"):
        bad.validate()


# --- every method ------------------------------------------------------


def _gan(method, oracle):
    config = config_lib.for_method(config_lib.get_preset("tiny"), method)
    return experiment.build_gan(
        dataclasses.replace(
            config,
            data=dataclasses.replace(
                config.data,
                vocabulary_size=oracle.vocabulary_size,
                sequence_length=oracle.sequence_length,
            ),
        ).validate(),
        oracle=oracle,
    )


def _tiny(method):
    config = config_lib.for_method(config_lib.get_preset("tiny"), method)
    return dataclasses.replace(
        config,
        training=dataclasses.replace(
            config.training, adversarial_rounds=3, eval_every=1
        ),
    ).validate()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["maligan", "rankgan"])
def test_method_resumes_exactly(method, tmp_path):
    config = _tiny(method)
    whole = tmp_path / "whole"
    experiment.train(config, whole, verbose=0, log=None)
    parts = tmp_path / "parts"
    # Stop inside the adversarial phase (epochs: 2 MLE, 1 D, 3 adversarial).
    experiment.train(config, parts, verbose=0, stop_after=4, log=None)
    experiment.train(config, parts, verbose=0, log=None)
    a = runs.read_metric_rows(whole)
    b = runs.read_metric_rows(parts)
    assert len(a) == len(b) == 6
    for row_a, row_b in zip(a, b):
        for key in ("g_loss", "mean_reward", "nll_oracle", "d_loss"):
            if row_a.get(key) not in (None, ""):
                assert float(row_a[key]) == pytest.approx(
                    float(row_b[key]), rel=1e-4, abs=1e-6
                ), (method, key)
    # The adversarial rounds moved the generator.
    assert float(a[-1]["g_loss"]) != 0.0
