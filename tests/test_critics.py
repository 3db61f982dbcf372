"""The critics that know (the Bayes-optimal discriminator of the oracle
task), the constant controls, and MLE on fresh oracle sequences."""

import numpy as np
import pytest
import tensorflow as tf
from conftest import LENGTH
from conftest import VOCABULARY
from test_trainer import make_gan

from seqgan_tf import config as config_lib
from seqgan_tf.critics.optimal import OptimalCritic
from seqgan_tf.critics.optimal import OptimalImportanceCritic


def _log_likelihood(model, token_ids):
    """log p(x) of each row, from the model's one-step logits by an
    explicit softmax in NumPy (independent of `optimal.optimal_logit`)."""
    logits = model(tf.constant(token_ids), training=False).numpy()
    logits = logits.astype(np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_p, token_ids[..., None], axis=-1)
    return picked[..., 0].sum(axis=1)


@pytest.mark.slow
def test_the_optimal_critics_score_with_the_exact_log_ratio(oracle, real):
    gan = make_gan(oracle, reward="optimal_logit")
    rows = gan.generator.generate(16, seed=(3, 4)).numpy()
    expected = _log_likelihood(oracle, rows) - _log_likelihood(
        gan.generator, rows
    )
    logit = gan.critic.scorer()(tf.constant(rows)).numpy()
    np.testing.assert_allclose(logit, expected, rtol=1e-4, atol=1e-4)
    d_star = make_gan(oracle, reward="optimal_discriminator")
    assert isinstance(d_star.critic, OptimalCritic)
    probability = d_star.critic.scorer()(tf.constant(rows)).numpy()
    np.testing.assert_allclose(
        probability, 1.0 / (1.0 + np.exp(-expected)), rtol=1e-3, atol=1e-7
    )


@pytest.mark.slow
def test_the_optimal_critic_follows_the_generator_being_trained(oracle, real):
    gan = make_gan(oracle, reward="optimal_logit")
    rows = tf.constant(real[:8])
    before = gan.critic.scorer()(rows).numpy()
    for start in range(0, 64, 32):
        gan.mle_step(real[start : start + 32])
    after = gan.critic.scorer()(rows).numpy()
    expected = _log_likelihood(oracle, real[:8]) - _log_likelihood(
        gan.generator, real[:8]
    )
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_maligan_with_the_optimal_critic_weights_by_the_exact_ratio(oracle):
    gan = make_gan(oracle, reward="optimal_importance")
    assert isinstance(gan.critic, OptimalImportanceCritic)
    assert type(gan.objective).__name__ == "ImportanceWeights"
    rows = gan.generator.generate(gan.batch_size, seed=(5, 6)).numpy()
    ratio = _log_likelihood(oracle, rows) - _log_likelihood(gan.generator, rows)
    expected = np.exp(ratio - ratio.max())
    expected /= expected.sum()
    rewards = gan.objective.rewards(tf.constant(rows), None).numpy()
    np.testing.assert_allclose(
        rewards[:, 0], expected - 1.0 / gan.batch_size, rtol=1e-3, atol=1e-6
    )


@pytest.mark.slow
def test_maligan_with_uniform_weights_makes_no_update(oracle, real):
    gan = make_gan(oracle, reward="constant", objective="importance")
    before = [w.copy() for w in gan.generator.get_weights()]
    gan.policy_gradient_step((1, 2), (3, 4))
    # w - 1/B = 0 for every sequence: the update without a critic is none.
    for a, b in zip(before, gan.generator.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "reward", ["optimal_discriminator", "optimal_logit", "optimal_importance"]
)
def test_the_optimal_critics_refuse_a_text_task_in_one_line(reward, tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_text("a b c\nb c a\n")
    config = config_lib.for_dataset(config_lib.get_preset("tiny"), str(corpus))
    config = config_lib.with_overrides(config, [f"training.reward={reward}"])
    with pytest.raises(config_lib.ConfigError) as error:
        config.validate()
    message = str(error.value)
    assert "\n" not in message and "oracle" in message


def test_the_optimal_critic_needs_the_oracle():
    from seqgan_tf import Discriminator
    from seqgan_tf import Generator
    from seqgan_tf import SeqGAN

    with pytest.raises(ValueError, match="synthetic task"):
        SeqGAN(
            Generator(VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8),
            Discriminator(
                VOCABULARY, LENGTH, filter_sizes=(2,), num_filters=(2,)
            ),
            reward="optimal_discriminator",
        )


@pytest.mark.slow
def test_mle_fresh_never_sees_an_oracle_sequence_twice(oracle, real):
    gan = make_gan(oracle, generator_real="fresh")
    seen = [gan.mle_data(real, epoch) for epoch in range(4)]
    again = gan.mle_data(real, 2)
    np.testing.assert_array_equal(seen[2], again)  # seeded by the epoch
    rows = {tuple(row) for data in seen for row in data}
    assert len(rows) == 4 * len(real)  # no sequence twice across epochs
    assert not rows & {tuple(row) for row in real}  # nor the fixed data
    assert make_gan(oracle).mle_data(real, 1) is real


@pytest.mark.slow
def test_mle_fresh_trains_on_the_epochs_draws(oracle, real):
    fixed = make_gan(oracle, seed=4)
    fresh = make_gan(oracle, seed=4, generator_real="fresh")
    fixed.train(real, 1, 0, 0, verbose=0)
    fresh.train(real, 1, 0, 0, verbose=0)
    assert not np.allclose(
        fixed.generator.get_weights()[0], fresh.generator.get_weights()[0]
    )


@pytest.mark.slow
def test_mixed_maligan_leaves_the_padding_out(oracle):
    """A variable-length generator's positions after EOS take no part in
    MaliGAN's mixed step, as in every other policy-gradient step."""
    import keras

    from seqgan_tf import Discriminator
    from seqgan_tf import Generator
    from seqgan_tf import SeqGAN
    from seqgan_tf import losses
    from seqgan_tf import sampler
    from seqgan_tf.data.masks import padding_mask

    keras.utils.set_random_seed(7)
    gan = SeqGAN(
        Generator(VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8, eos_id=2),
        Discriminator(
            VOCABULARY, LENGTH, filter_sizes=(2,), num_filters=(2,), pad_id=0
        ),
        reward="importance",
        mali_continuations=4,
        batch_size=16,
    )
    gan.compile()
    real = gan.generator.generate(4, seed=(1, 1)).numpy()
    n, prefix, seed = 4, 3, (5, 9)
    repeated = tf.repeat(tf.constant(real), n, axis=0)
    samples = sampler.sample(
        gan.generator, repeated, tf.fill([16], prefix), tf.constant(seed)
    )
    mask = padding_mask(samples, 2)
    assert not bool(tf.reduce_all(mask))  # some sequences end early
    weights = tf.reshape(
        gan.critic.importance_weights(samples, group_size=n), [-1]
    )
    sampled = tf.range(LENGTH)[None, :] >= prefix
    rewards = tf.where(
        sampled, (weights - 1.0 / n)[:, None], tf.fill([1, LENGTH], 1.0 / n)
    )
    log_probs = gan.generator.log_prob(samples)
    expected, _ = losses.policy_gradient_loss(
        log_probs, rewards, padding_mask=mask
    )
    loss = gan.mali_step(real, prefix, seed)
    np.testing.assert_allclose(float(loss), float(expected), rtol=1e-5)
