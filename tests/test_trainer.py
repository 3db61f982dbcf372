import math
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import LENGTH
from conftest import VOCABULARY

import seqgan_tf
from seqgan_tf.callbacks import CheckpointCallback
from seqgan_tf.optimizers import FusedAdam
from seqgan_tf.progress import PhaseProgress
from seqgan_tf.trainer import SeqGAN


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
    """Every epoch's logs, as the callbacks saw them."""

    def __init__(self):
        super().__init__()
        self.epochs, self.batches, self.logs = [], 0, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        self.logs.append(dict(logs))

    def values(self, key):
        """`key` of every epoch, NaN where the epoch did not log it."""
        return [logs.get(key, math.nan) for logs in self.logs]


@pytest.mark.slow
def test_train_runs_three_phases_and_logs_what_each_measures(
    oracle, real, tmp_path
):
    gan = make_gan(oracle)
    recorder = Recorder()
    csv_path = tmp_path / "log.csv"
    history = gan.train(
        real,
        generator_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        callbacks=[recorder, keras.callbacks.CSVLogger(str(csv_path))],
        verbose=0,
    )
    assert history.history["phase"] == [0, 0, 1, 2, 2]
    assert history.epoch == [0, 1, 2, 3, 4]
    logs = {
        key: recorder.values(key)
        for key in (
            "g_loss",
            "d_loss",
            "d_accuracy",
            "mean_reward",
            "nll_oracle",
        )
    }
    assert recorder.epochs == [0, 1, 2, 3, 4]
    # 4 MLE steps x 2 epochs; a D round pairs the 64 negatives with 64 of
    # the 128 real sequences: (64 + 64) // 32 = 4 steps; adversarial: 1 PG
    # step + one D round of 4, twice.
    assert recorder.batches == 8 + 4 + 10
    assert all(math.isfinite(v) for v in logs["g_loss"][:2])
    # Each phase logs only what it measures.
    assert set(recorder.logs[0]) == {
        "g_loss",
        "nll_oracle",
        "entropy",
        "phase",
        "seconds",
    }
    assert set(recorder.logs[2]) == {"d_loss", "d_accuracy", "phase", "seconds"}
    assert math.isfinite(logs["d_loss"][2])
    assert all(0.0 <= logs["d_accuracy"][i] <= 1.0 for i in (2, 3, 4))
    assert all(0.0 < logs["mean_reward"][i] < 1.0 for i in (3, 4))
    assert math.isnan(logs["nll_oracle"][2])
    assert all(math.isfinite(logs["nll_oracle"][i]) for i in (0, 1, 3, 4))
    assert len(csv_path.read_text().strip().splitlines()) == 1 + 5


@pytest.mark.slow
def test_mle_pretraining_lowers_the_loss(oracle, real):
    gan = make_gan(oracle, eval_every=0)
    recorder = Recorder()
    history = gan.train(real, 6, 0, 0, callbacks=[recorder], verbose=0)
    losses = history.history["g_loss"]
    assert losses[-1] < losses[0] - 0.1
    # eval_every=0 still measures at the end of the phase.
    nll_oracle = recorder.values("nll_oracle")
    assert math.isfinite(nll_oracle[-1])
    assert all(math.isnan(v) for v in nll_oracle[:-1])


@pytest.mark.slow
def test_early_stopping_callback_stops_training(oracle, real):
    gan = make_gan(oracle)
    stopper = keras.callbacks.EarlyStopping(
        monitor="g_loss", mode="min", min_delta=100.0, patience=0
    )
    history = gan.train(real, 5, 0, 0, callbacks=[stopper], verbose=0)
    assert len(history.history["g_loss"]) == 2


@pytest.mark.slow
def test_same_seed_same_weights(oracle, real):
    first = make_gan(oracle)
    first.train(real, 1, 1, 1, verbose=0)
    second = make_gan(oracle)
    second.train(real, 1, 1, 1, verbose=0)
    for a, b in zip(
        first.generator.get_weights(), second.generator.get_weights()
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_resume_from_checkpoint_continues_the_same_run(oracle, real, tmp_path):
    reference = make_gan(oracle)
    reference.train(real, 2, 1, 2, verbose=0)

    class StopAt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:  # the end of discriminator pretraining
                self.model.stop_training = True

    interrupted = make_gan(oracle)
    epoch = tf.Variable(0, dtype=tf.int64)
    manager = tf.train.CheckpointManager(
        interrupted.make_checkpoint(epoch), str(tmp_path), max_to_keep=2
    )
    interrupted.train(
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
    resumed.make_checkpoint(resumed_epoch).read(manager.latest_checkpoint)
    history = resumed.train(
        real, 2, 1, 2, initial_epoch=int(resumed_epoch.numpy()), verbose=0
    )
    assert history.history["phase"] == [2, 2]
    for a, b in zip(
        reference.generator.get_weights(), resumed.generator.get_weights()
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_constant_reward_ablation(oracle, real):
    gan = make_gan(oracle, reward="constant", constant_reward=0.25)
    history = gan.train(real, 0, 0, 1, verbose=0)
    assert history.history["mean_reward"] == [pytest.approx(0.25)]


@pytest.mark.slow
def test_delayed_rollout_policy_follows_the_generator(oracle, real):
    gan = make_gan(oracle, rollout_policy="delayed", rollout_update_rate=0.5)
    before = gan.rollout_generator.get_weights()
    gan.train(real, 0, 0, 1, verbose=0)
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
        make_gan(oracle).train(data, 1, 0, 0, verbose=0)


@pytest.mark.slow
def test_train_needs_compile(oracle, real):
    gan = SeqGAN(
        seqgan_tf.Generator(VOCABULARY, LENGTH, hidden_dim=4),
        seqgan_tf.Discriminator(
            VOCABULARY, LENGTH, filter_sizes=(2,), num_filters=(2,)
        ),
    )
    with pytest.raises(RuntimeError, match="compile"):
        gan.train(real, 1, 0, 0)


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


@pytest.mark.slow
def test_validation_data_logs_nll_test_at_the_evaluation_epochs(oracle, real):
    held_out = oracle.generate(40, seed=(5, 5)).numpy()
    gan = make_gan(oracle, eval_every=2)
    recorder = Recorder()
    gan.train(
        real,
        3,
        1,
        1,
        callbacks=[recorder],
        verbose=0,
        validation_data=held_out,
    )
    nll_test = recorder.values("nll_test")
    # MLE epochs 0 and 2 (every 2nd and the last), no D round, the last
    # adversarial round.
    evaluated = [not math.isnan(v) for v in nll_test]
    assert evaluated == [True, False, True, False, True]
    expected = seqgan_tf.metrics.nll(gan.generator, held_out)
    assert nll_test[-1] == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="Validation data"):
        gan.train(real, 1, 0, 0, verbose=0, validation_data=held_out[:, :5])


def test_keras_fit_is_left_alone_and_train_step_points_to_train(oracle):
    assert SeqGAN.fit is keras.Model.fit
    with pytest.raises(NotImplementedError, match="SeqGAN.train"):
        make_gan(oracle).train_step(None)


@pytest.mark.slow
def test_public_steps_update_their_network_and_trackers(oracle, real):
    gan = make_gan(oracle)
    before = [w.copy() for w in gan.generator.get_weights()]
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    first = float(gan.mle_step(real[:32]))
    for _ in range(5):
        last = float(gan.mle_step(real[:32]))
    assert last < first
    assert gan.g_loss_tracker.count.numpy() == 6
    assert not np.allclose(before[-1], gan.generator.get_weights()[-1])
    np.testing.assert_array_equal(
        d_before[-1], gan.discriminator.get_weights()[-1]
    )

    labels = np.tile([1, 0], 16).astype(np.int32)
    loss = float(gan.discriminator_step(real[:32], labels))
    assert math.isfinite(loss)
    assert 0.0 <= float(gan.d_accuracy_tracker.result()) <= 1.0
    assert not np.allclose(d_before[-1], gan.discriminator.get_weights()[-1])

    generator_before = gan.generator.get_weights()[-1].copy()
    loss = float(gan.policy_gradient_step([1, 2], [3, 4]))
    assert math.isfinite(loss)
    assert 0.0 < float(gan.reward_tracker.result()) < 1.0
    assert not np.allclose(generator_before, gan.generator.get_weights()[-1])


def test_config_round_trip(oracle):
    gan = make_gan(oracle, num_rollouts=3, reward="constant")
    config = gan.get_config()
    again = SeqGAN.from_config(config)
    settings = {
        k: v
        for k, v in config.items()
        if k not in ("generator", "discriminator")
    }
    assert settings["num_rollouts"] == 3 and settings["reward"] == "constant"
    assert {k: again.get_config()[k] for k in settings} == settings
    for name in ("generator", "discriminator"):
        assert (
            getattr(again, name).get_config() == getattr(gan, name).get_config()
        )


@pytest.mark.slow
def test_progress_names_each_phase_and_shows_no_nan(oracle, real, capsys):
    gan = make_gan(oracle)
    gan.train(real, 2, 1, 1, verbose=2)
    out = capsys.readouterr().out
    for title in (
        "generator pretraining (MLE) 1/2",
        "generator pretraining (MLE) 2/2",
        "discriminator pretraining 1/1",
        "adversarial round 1/1",
    ):
        assert title in out
    assert "nan" not in out.lower()
    assert out.count("left") == 4
    discriminator_line = out.split("discriminator pretraining 1/1")[1]
    discriminator_line = discriminator_line.splitlines()[1]
    assert "d_loss" in discriminator_line
    assert "g_loss" not in discriminator_line
    assert "phase" not in out


@pytest.mark.slow
def test_verbose_0_prints_nothing(oracle, real, capsys):
    assert issubclass(PhaseProgress, keras.callbacks.Callback)
    history = make_gan(oracle).train(real, 1, 1, 0, verbose=0)
    assert history.epoch == [0, 1]
    assert capsys.readouterr().out == ""


@pytest.mark.slow
def test_delayed_rollout_policy_starts_as_the_pretrained_generator(
    oracle, real
):
    # With update rate 1 the copy never moves after it starts: it must be
    # the generator as pretraining left it, not the untrained one.
    gan = make_gan(oracle, rollout_policy="delayed", rollout_update_rate=1.0)
    untrained = gan.generator.get_weights()
    pretrained = []

    class AfterPretraining(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                pretrained.extend(gan.generator.get_weights())

    gan.train(real, 2, 0, 1, callbacks=[AfterPretraining()], verbose=0)
    copy = gan.rollout_generator.get_weights()
    for a, b in zip(copy, pretrained):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(copy[-1], untrained[-1])


@pytest.mark.slow
def test_a_compiled_seqgan_saved_as_keras_loads_compiled(oracle, tmp_path):
    gan = make_gan(oracle, num_rollouts=3)
    gan.compile(
        g_optimizer=FusedAdam(0.02, global_clipnorm=3.0),
        d_optimizer=FusedAdam(3e-4),
        pg_optimizer=FusedAdam(0.005, global_clipnorm=4.0),
    )
    path = str(tmp_path / "seqgan.keras")
    gan.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "compile() was not called"
        restored = keras.saving.load_model(path)
    assert isinstance(restored, SeqGAN) and restored.objective.num_rollouts == 3
    for name, rate, clip in (
        ("g_optimizer", 0.02, 3.0),
        ("d_optimizer", 3e-4, None),
        ("pg_optimizer", 0.005, 4.0),
    ):
        optimizer = getattr(restored, name)
        assert isinstance(optimizer, FusedAdam), name
        assert float(optimizer.learning_rate) == pytest.approx(rate), name
        assert optimizer.global_clipnorm == clip, name
    for a, b in zip(gan.generator.weights, restored.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Compiled: it trains at once.
    restored.mle_step(oracle.generate(32, seed=(0, 2)).numpy())
