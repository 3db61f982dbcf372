"""The discriminator probe, the generator's entropy, the reward baseline
and fresh real sequences for the adversarial D rounds."""

import numpy as np
import pytest
import tensorflow as tf
from test_trainer import Recorder
from test_trainer import make_gan

import seqgan_tf
from seqgan_tf import metrics
from seqgan_tf import schedule
from seqgan_tf import seeds
from seqgan_tf.rewards import batch_mean_baseline


@pytest.mark.parametrize("eos_id", [None, 2])
@pytest.mark.slow
def test_mean_entropy_is_the_masked_mean_of_each_positions_entropy(
    make_generator, eos_id
):
    generator = make_generator(seed=3, stddev=1.0, eos_id=eos_id)
    token_ids = np.random.default_rng(0).integers(0, 26, (9, 12))
    token_ids[0, 3] = token_ids[4, 0] = 2
    logits = generator(tf.constant(token_ids)).numpy().astype(np.float64)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    entropy = -(p * np.log(p)).sum(-1)
    mask = np.ones_like(token_ids, bool)
    if eos_id is not None:
        seen = np.cumsum(token_ids == eos_id, 1) - (token_ids == eos_id)
        mask = seen == 0
    got = metrics.mean_entropy(generator, token_ids, batch_size=4)
    assert got == pytest.approx(entropy[mask].mean(), rel=1e-5)


def test_batch_mean_baseline_centres_each_position_over_the_batch():
    rewards = np.array([[1.0, 2.0, 3.0], [3.0, 4.0, 9.0]], np.float32)
    got = batch_mean_baseline(rewards).numpy()
    np.testing.assert_allclose(got, rewards - rewards.mean(0))
    # A padded position is left out of its mean and left as it is.
    mask = np.array([[1, 1, 1], [1, 1, 0]])
    got = batch_mean_baseline(rewards, mask).numpy()
    np.testing.assert_allclose(got[:, :2], rewards[:, :2] - [2.0, 3.0])
    np.testing.assert_allclose(got[:, 2], [0.0, 9.0])
    # The global batch's sum (a replica's all-reduce) sets the mean.
    doubled = batch_mean_baseline(rewards, batch_sum=lambda v: 2 * v)
    np.testing.assert_allclose(doubled.numpy(), rewards - rewards.mean(0))


@pytest.mark.slow
def test_held_out_sequences_drop_every_excluded_row(oracle):
    # The oracle plays both parts.
    real, fake = metrics.held_out_sequences(oracle, oracle, 64, (3, 4))
    assert len(real) == len(fake) == 64
    # Excluding the drawn rows themselves leaves nothing.
    again = metrics.held_out_sequences(
        oracle, oracle, 64, (3, 4), exclude=[real, fake]
    )
    assert sum(len(rows) for rows in again) == 0


@pytest.mark.slow
def test_probe_after_a_d_round_is_held_out_from_its_training_data(
    oracle, real, monkeypatch
):
    gan = make_gan(oracle, probe_samples=64, num_negatives=64)
    gan.run_epoch("discriminator", 5, real)
    positives, negatives = gan._round_data[-1]
    drawn = {}
    original = metrics.held_out_sequences

    def recording(oracle_, generator, num_samples, seed, exclude=()):
        drawn["exclude"] = exclude
        drawn["sets"] = original(oracle_, generator, num_samples, seed, exclude)
        return drawn["sets"]

    monkeypatch.setattr(metrics, "held_out_sequences", recording)
    logs = gan.monitor.probe(5, real, gan._round_data)
    trained = {r.tobytes() for r in np.concatenate([real, negatives])}
    excluded = {r.tobytes() for rows in drawn["exclude"] for r in rows}
    assert trained <= excluded
    assert not any(
        r.tobytes() in trained for r in np.concatenate(drawn["sets"])
    )
    assert set(logs) == set(schedule.PROBE_KEYS)
    assert 0.0 <= logs["d_heldout_accuracy"] <= 1.0
    assert -1.0 <= logs["d_quality_spearman"] <= 1.0
    assert -1.0 <= logs["d_optimal_spearman"] <= 1.0
    assert -1.0 <= logs["d_optimal_pearson"] <= 1.0
    # The seed is the probe's own stream, not the negatives'.
    assert seeds.PROBE not in (seeds.NEGATIVES, seeds.EVAL, seeds.FRESH_REAL)


@pytest.mark.slow
def test_training_logs_the_probe_after_each_epoch_with_d_rounds(oracle, real):
    gan = make_gan(oracle, probe_samples=32)
    recorder = Recorder()
    gan.train(real, 1, 1, 1, callbacks=[recorder], verbose=0)
    accuracy = recorder.values("d_heldout_accuracy")
    assert np.isnan(accuracy[0]) and np.isfinite(accuracy[1:]).all()
    assert np.isfinite(recorder.values("entropy")[0])


@pytest.mark.slow
def test_fresh_real_rounds_take_oracle_samples_as_positives(oracle, real):
    gan = make_gan(oracle, adversarial_real="fresh")
    gan.run_epoch("adversarial", 7, real)
    positives, negatives = gan._round_data[0]
    expected = seqgan_tf.sampler.sample_many(
        oracle, 64, seed=seeds.seed_pair(gan.seed, seeds.FRESH_REAL, 7, 0)
    )
    np.testing.assert_array_equal(positives, expected)
    assert len(positives) == len(negatives) == 64
    # D pretraining rounds keep the fixed real data.
    gan.run_epoch("discriminator", 8, real)
    fixed = gan._round_data[0][0]
    assert {r.tobytes() for r in fixed} <= {r.tobytes() for r in real}
    with pytest.raises(ValueError, match="oracle"):
        make_gan(None, adversarial_real="fresh")


@pytest.mark.slow
def test_reward_baseline_changes_the_update_and_only_it(oracle):
    def step(**kwargs):
        gan = make_gan(oracle, **kwargs)
        gan.policy_gradient_step([1, 2], [3, 4])
        return [w.numpy() for w in gan.generator.weights]

    plain, again, centred = step(), step(), step(reward_baseline="batch_mean")
    for a, b in zip(plain, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.allclose(a, c) for a, c in zip(plain, centred))
    with pytest.raises(ValueError, match="reward_baseline"):
        make_gan(oracle, reward_baseline="median")
