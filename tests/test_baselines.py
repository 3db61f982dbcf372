"""The paper's baselines as trainers: scheduled sampling and PG-BLEU."""

import keras
import nltk.translate.bleu_score as nltk_bleu
import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf import config as config_lib
from seqgan_tf import rollout
from seqgan_tf.rewards import BleuReward
from seqgan_tf.trainer import SeqGAN

VOCABULARY, LENGTH = 26, 12


def make_gan(seed=3, **kwargs):
    keras.utils.set_random_seed(seed)
    generator = seqgan_tf.Generator(
        VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8
    )
    discriminator = seqgan_tf.Discriminator(
        VOCABULARY, LENGTH, embedding_dim=8, filter_sizes=(2,), num_filters=(4,)
    )
    options = dict(batch_size=8, num_negatives=16, num_rollouts=2, seed=seed)
    options.update(kwargs)
    gan = SeqGAN(generator, discriminator, **options)
    gan.compile()
    return gan


def forced_generator(token, stddev=0.1):
    """A generator that samples `token` at every position, whatever it is
    fed (a one-hot output bias of 1e4)."""
    keras.utils.set_random_seed(0)
    generator = seqgan_tf.Generator(
        VOCABULARY, LENGTH, embedding_dim=4, hidden_dim=4
    )
    bias = np.zeros(VOCABULARY, np.float32)
    bias[token] = 1e4
    generator.output_projection.bias.assign(bias)
    return generator


REAL = np.random.default_rng(0).integers(0, VOCABULARY, (8, LENGTH))


# --- scheduled sampling ------------------------------------------------------


@pytest.mark.slow
def test_scheduled_sampling_at_rate_one_is_exactly_the_mle_update():
    mle, scheduled = make_gan(), make_gan()
    for _ in range(3):
        mle.mle_step(REAL)
        scheduled.scheduled_sampling_step(REAL, 1.0, [5, 6])
    for a, b in zip(
        mle.generator.get_weights(), scheduled.generator.get_weights()
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_scheduled_sampling_at_rate_zero_feeds_only_samples():
    # The forced generator samples token 7 everywhere, so at rate 0 every
    # input after the start token is 7: the logits are those of teacher
    # forcing on all-7 sequences, whatever the real tokens are.
    generator = forced_generator(7)
    logits = generator.scheduled_sampling_logits(REAL, 0.0, [1, 2])
    sevens = generator(np.full_like(REAL, 7)).numpy()
    np.testing.assert_allclose(logits.numpy(), sevens, rtol=1e-5, atol=1e-3)
    # At rate 1 the inputs are the real tokens.
    np.testing.assert_array_equal(
        generator.scheduled_sampling_logits(REAL, 1.0, [1, 2]).numpy(),
        generator(REAL).numpy(),
    )


@pytest.mark.slow
def test_scheduled_sampling_mixes_at_a_rate_between():
    # At rate 0.5 about half the inputs are real: the logits differ from
    # both extremes, and the same seed gives the same mix.
    generator = forced_generator(7)
    mixed = generator.scheduled_sampling_logits(REAL, 0.5, [3, 4]).numpy()
    again = generator.scheduled_sampling_logits(REAL, 0.5, [3, 4]).numpy()
    np.testing.assert_array_equal(mixed, again)
    real = generator(REAL).numpy()
    sevens = generator(np.full_like(REAL, 7)).numpy()
    same_as_real = np.isclose(mixed, real, atol=1e-4).all(-1)[:, 1:]
    same_as_sevens = np.isclose(mixed, sevens, atol=1e-4).all(-1)[:, 1:]
    assert 0 < same_as_real.mean() < 1 and 0 < same_as_sevens.mean() < 1


@pytest.mark.slow
def test_the_trainer_lowers_the_rate_each_epoch(monkeypatch):
    gan = make_gan(scheduled_sampling_decrement=0.25)
    rates = []
    original = gan.scheduled_sampling_step

    def recording(token_ids, rate, seed):
        rates.append(rate)
        return original(token_ids, rate, seed)

    monkeypatch.setattr(gan, "scheduled_sampling_step", recording)
    real = np.tile(REAL, (2, 1))
    gan.train(real, 5, 0, 0, verbose=0)
    # Two batches an epoch; 1 - 0.25 (k + 1), floored at 0.
    assert rates == [0.75, 0.75, 0.5, 0.5, 0.25, 0.25, 0.0, 0.0, 0.0, 0.0]


# --- PG-BLEU ---------------------------------------------------------------


REFERENCES = [
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    [1, 2, 3, 4, 9, 9, 9, 9, 5, 6, 7, 8],
    [12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1],
]


def nltk_bleu3(hypothesis):
    return nltk_bleu.sentence_bleu(
        REFERENCES,
        list(hypothesis),
        weights=(1 / 3, 1 / 3, 1 / 3),
        smoothing_function=nltk_bleu.SmoothingFunction().method1,
    )


def test_bleu_reward_equals_nltk_and_is_one_for_a_reference():
    reward = BleuReward(np.array(REFERENCES), max_order=3)
    hypotheses = np.array(
        [
            REFERENCES[0],
            [1, 2, 3, 4, 5, 6, 9, 9, 9, 9, 11, 12],
            [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5],
            [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24],
        ]
    )
    got = reward(tf.constant(hypotheses, tf.int32)).numpy()
    expected = [nltk_bleu3(h) for h in hypotheses]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got[0] == pytest.approx(1.0)
    assert 0 < got[1] < 1 and got[3] < got[1]


@pytest.mark.slow
def test_pg_bleu_rollout_rewards_are_the_bleu_of_the_completions():
    # The forced generator completes every prefix with 5s: the reward of
    # token t is the BLEU-3 of y_1..y_t followed by 5s, exactly.
    generator = forced_generator(5)
    reward = BleuReward(np.array(REFERENCES), max_order=3)
    sequence = np.array([REFERENCES[1]], np.int32)
    rewards = rollout.rollout_rewards(
        generator, reward, sequence, (1, 1), num_rollouts=1
    ).numpy()[0]
    for t in range(1, LENGTH + 1):
        completion = list(sequence[0, :t]) + [5] * (LENGTH - t)
        assert rewards[t - 1] == pytest.approx(nltk_bleu3(completion), rel=1e-6)
    assert rewards[-1] == pytest.approx(1.0)


@pytest.mark.slow
def test_pg_bleu_trains_against_a_share_of_the_real_data():
    gan = make_gan(
        reward="bleu",
        num_rollouts=1,
        discriminator_steps=0,
        bleu_reference_fraction=0.5,
    )
    real = np.random.default_rng(1).integers(0, VOCABULARY, (40, LENGTH))
    before = gan.generator.get_weights()[-1].copy()
    history = gan.train(real, 1, 0, 2, verbose=0)
    references = gan.critic.bleu_reward.scorer
    assert 0 < references.num_references < 40
    assert not np.allclose(before, gan.generator.get_weights()[-1])
    assert 0.0 <= history.history["mean_reward"][-1] <= 1.0
    # The discriminator has no part in it.
    assert "d_loss" not in history.history


# --- the config's methods ----------------------------------------------------


def test_for_method_sets_each_baseline_up():
    base = config_lib.get_preset("tiny")
    mle = config_lib.for_method(base, "mle").training
    assert (mle.method, mle.discriminator_rounds, mle.adversarial_rounds) == (
        "mle",
        0,
        0,
    )
    ss = config_lib.for_method(base, "scheduled_sampling").training
    assert (
        ss.scheduled_sampling_decrement == 0.002 and ss.adversarial_rounds == 0
    )
    bleu = config_lib.for_method(base, "pg_bleu").training
    assert (bleu.reward, bleu.num_rollouts, bleu.discriminator_steps) == (
        "bleu",
        1,
        0,
    )
    assert bleu.adversarial_rounds == base.training.adversarial_rounds
    assert config_lib.for_method(base, "seqgan") == base
    with pytest.raises(config_lib.ConfigError, match="Unknown method"):
        config_lib.for_method(base, "gail")
