import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf.trainer import CheckpointCallback
from seqgan_tf.trainer import SeqGAN
from seqgan_tf.trainer import checkpoint_for

VOCABULARY, LENGTH = 26, 12


@pytest.fixture(scope="module")
def oracle():
    return seqgan_tf.OracleLSTM.random(
        VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8, seed=0
    )


@pytest.fixture(scope="module")
def real(oracle):
    return oracle.generate(128, seed=(0, 1)).numpy()


def make_gan(oracle, seed=3, **kwargs):
    keras.utils.set_random_seed(seed)
    generator = seqgan_tf.Generator(
        VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8
    )
    discriminator = seqgan_tf.Discriminator(
        VOCABULARY,
        LENGTH,
        embedding_dim=8,
        filter_sizes=(2, 3),
        num_filters=(4, 4),
    )
    options = dict(
        batch_size=32,
        num_negatives=64,
        discriminator_epochs=1,
        discriminator_steps=1,
        num_rollouts=2,
        eval_every=1,
        eval_samples=64,
        seed=seed,
    )
    options.update(kwargs)
    gan = SeqGAN(generator, discriminator, oracle=oracle, **options)
    gan.compile()
    return gan


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs, self.batches = [], 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


def test_fit_runs_three_phases_and_logs_every_metric(oracle, real, tmp_path):
    gan = make_gan(oracle)
    recorder = Recorder()
    csv_path = tmp_path / "log.csv"
    history = gan.fit(
        real,
        generator_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        callbacks=[recorder, keras.callbacks.CSVLogger(str(csv_path))],
        verbose=0,
    )
    logs = history.history
    assert logs["phase"] == [0.0, 0.0, 1.0, 2.0, 2.0]
    assert recorder.epochs == [0, 1, 2, 3, 4]
    # 4 MLE steps x 2 epochs; a D round pairs the 64 negatives with 64 of
    # the 128 real sequences: (64 + 64) // 32 = 4 steps; adversarial: 1 PG
    # step + one D round of 4, twice.
    assert recorder.batches == 8 + 4 + 10
    assert all(math.isfinite(v) for v in logs["g_loss"][:2])
    assert math.isnan(logs["g_loss"][2]) and math.isfinite(logs["d_loss"][2])
    assert all(0.0 <= logs["d_accuracy"][i] <= 1.0 for i in (2, 3, 4))
    assert all(0.0 < logs["mean_reward"][i] < 1.0 for i in (3, 4))
    assert math.isnan(logs["nll_oracle"][2])
    assert all(math.isfinite(logs["nll_oracle"][i]) for i in (0, 1, 3, 4))
    assert len(csv_path.read_text().strip().splitlines()) == 1 + 5


def test_mle_pretraining_lowers_the_loss(oracle, real):
    gan = make_gan(oracle, eval_every=0)
    history = gan.fit(real, 6, 0, 0, verbose=0)
    losses = history.history["g_loss"]
    assert losses[-1] < losses[0] - 0.1
    # eval_every=0 still measures at the end of the phase.
    assert math.isfinite(history.history["nll_oracle"][-1])
    assert all(math.isnan(v) for v in history.history["nll_oracle"][:-1])


def test_early_stopping_callback_stops_training(oracle, real):
    gan = make_gan(oracle)
    stopper = keras.callbacks.EarlyStopping(
        monitor="g_loss", mode="min", min_delta=100.0, patience=0
    )
    history = gan.fit(real, 5, 0, 0, callbacks=[stopper], verbose=0)
    assert len(history.history["g_loss"]) == 2


def test_same_seed_same_weights(oracle, real):
    first = make_gan(oracle)
    first.fit(real, 1, 1, 1, verbose=0)
    second = make_gan(oracle)
    second.fit(real, 1, 1, 1, verbose=0)
    for a, b in zip(
        first.generator.get_weights(), second.generator.get_weights()
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_resume_from_checkpoint_continues_the_same_run(oracle, real, tmp_path):
    reference = make_gan(oracle)
    reference.fit(real, 2, 1, 2, verbose=0)

    class StopAt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:  # the end of discriminator pretraining
                self.model.stop_training = True

    interrupted = make_gan(oracle)
    epoch = tf.Variable(0, dtype=tf.int64)
    manager = tf.train.CheckpointManager(
        checkpoint_for(interrupted, epoch), str(tmp_path), max_to_keep=2
    )
    interrupted.fit(
        real,
        2,
        1,
        2,
        callbacks=[CheckpointCallback(manager, epoch), StopAt()],
        verbose=0,
    )
    assert int(epoch.numpy()) == 3

    resumed = make_gan(oracle, seed=3)
    resumed_epoch = tf.Variable(0, dtype=tf.int64)
    checkpoint_for(resumed, resumed_epoch).read(manager.latest_checkpoint)
    history = resumed.fit(
        real, 2, 1, 2, initial_epoch=int(resumed_epoch.numpy()), verbose=0
    )
    assert history.history["phase"] == [2.0, 2.0]
    for a, b in zip(
        reference.generator.get_weights(), resumed.generator.get_weights()
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_constant_reward_ablation(oracle, real):
    gan = make_gan(oracle, reward="constant", constant_reward=0.25)
    history = gan.fit(real, 0, 0, 1, verbose=0)
    assert history.history["mean_reward"] == [pytest.approx(0.25)]


def test_delayed_rollout_policy_follows_the_generator(oracle, real):
    gan = make_gan(oracle, rollout_policy="delayed", rollout_update_rate=0.5)
    before = gan.rollout_generator.get_weights()
    gan.fit(real, 0, 0, 1, verbose=0)
    after = gan.rollout_generator.get_weights()
    generator = gan.generator.get_weights()
    assert not np.allclose(before[-1], after[-1])
    assert not np.allclose(after[-1], generator[-1])
    # One PG step then one update: copy = 0.5 * copy + 0.5 * generator.
    np.testing.assert_allclose(
        after[-1], 0.5 * before[-1] + 0.5 * generator[-1], atol=1e-6
    )


def test_current_rollout_policy_has_no_copy(oracle):
    assert make_gan(oracle).rollout_generator is None


@pytest.mark.parametrize(
    "data, message",
    [
        (np.zeros((64, 5), np.int32), r"shape \[N, 12\]"),
        (np.full((64, 12), 26, np.int32), r"outside \[0, 26\)"),
        (np.zeros((64, 12), np.float32), "integer token ids"),
        (np.zeros((8, 12), np.int32), "fewer than one batch"),
    ],
)
def test_bad_real_data_is_named(oracle, data, message):
    with pytest.raises(ValueError, match=message):
        make_gan(oracle).fit(data, 1, 0, 0, verbose=0)


def test_fit_needs_compile(oracle, real):
    gan = SeqGAN(
        seqgan_tf.Generator(VOCABULARY, LENGTH, hidden_dim=4),
        seqgan_tf.Discriminator(
            VOCABULARY, LENGTH, filter_sizes=(2,), num_filters=(2,)
        ),
    )
    with pytest.raises(RuntimeError, match="compile"):
        gan.fit(real, 1, 0, 0)


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="sequence_length"):
        SeqGAN(
            seqgan_tf.Generator(VOCABULARY, LENGTH, hidden_dim=4),
            seqgan_tf.Discriminator(
                VOCABULARY, 10, filter_sizes=(2,), num_filters=(2,)
            ),
        )


def test_mismatched_vocabularies_and_padding_are_rejected():
    with pytest.raises(ValueError, match="vocabulary_size"):
        SeqGAN(
            seqgan_tf.Generator(VOCABULARY, LENGTH, hidden_dim=4),
            seqgan_tf.Discriminator(
                VOCABULARY + 1, LENGTH, filter_sizes=(2,), num_filters=(2,)
            ),
        )
    # A variable-length generator pads after EOS; its discriminator must
    # know the padding id.
    with pytest.raises(ValueError, match="same pad_id"):
        SeqGAN(
            seqgan_tf.Generator(VOCABULARY, LENGTH, hidden_dim=4, eos_id=2),
            seqgan_tf.Discriminator(
                VOCABULARY, LENGTH, filter_sizes=(2,), num_filters=(2,)
            ),
        )


def test_validation_data_logs_nll_test_at_the_evaluation_epochs(
    oracle, real
):
    held_out = oracle.generate(40, seed=(5, 5)).numpy()
    gan = make_gan(oracle, eval_every=2)
    history = gan.fit(real, 3, 1, 1, verbose=0, validation_data=held_out)
    nll_test = history.history["nll_test"]
    # MLE epochs 0 and 2 (every 2nd and the last), no D round, the last
    # adversarial round.
    evaluated = [not math.isnan(v) for v in nll_test]
    assert evaluated == [True, False, True, False, True]
    expected = seqgan_tf.metrics.nll(gan.generator, held_out)
    assert nll_test[-1] == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="Validation data"):
        gan.fit(real, 1, 0, 0, verbose=0, validation_data=held_out[:, :5])
