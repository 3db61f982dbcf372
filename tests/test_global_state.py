"""Building, training and restoring a trainer from a config leaves the
caller's global state as it was: Python's, NumPy's, TensorFlow's and Keras'
random generators, and Keras' global dtype policy. The models still start
from the weights of the config's seed, in the config's precision."""

import random

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf import config as config_lib
from seqgan_tf import experiment


def tiny(*overrides):
    return config_lib.with_overrides(
        config_lib.get_preset("tiny"), list(overrides)
    ).validate()


def seed_globals(seed):
    """Seeds every global generator, then draws from each once, so that
    Keras' global `SeedGenerator` exists and TensorFlow's operation seeds
    and kernels have moved on from the seed."""
    keras.utils.set_random_seed(seed)
    random.random()
    np.random.rand()
    tf.random.uniform(())
    tf.random.uniform((), seed=3)
    keras.random.uniform(())


def next_draws():
    """The next draw of every global generator."""
    return {
        "python random": random.random(),
        "numpy global": float(np.random.rand()),
        "tf global seed": float(tf.random.uniform(())),
        # An op seed's kernel continues its sequence until the global
        # seed is set again.
        "tf op seed": float(tf.random.uniform((), seed=3)),
        "keras.random": float(keras.random.uniform(())),
    }


def expected_draws(seed):
    seed_globals(seed)
    return next_draws()


def weights(model):
    return [np.asarray(w) for w in model.get_weights()]


@pytest.fixture
def caller_policy():
    """The caller's global policy (restored after the test)."""
    previous = keras.mixed_precision.global_policy()
    yield
    keras.mixed_precision.set_global_policy(previous)


@pytest.mark.usefixtures("caller_policy")
@pytest.mark.slow
def test_training_and_restoring_keep_the_callers_global_state(tmp_path):
    config = tiny("training.rollout_policy=delayed")
    expected = expected_draws(123)
    seed_globals(123)
    # Not the config's policy: the models must not take it.
    keras.mixed_precision.set_global_policy("mixed_float16")
    experiment.train(config, tmp_path / "run", verbose=0, log=None)
    run = experiment.restore_run(tmp_path / "run")
    assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert next_draws() == expected
    # The models and the optimizers are the config's (float32), not the
    # caller's policy's.
    gan = run.gan
    for model in (gan.generator, gan.discriminator, gan.rollout_generator):
        for layer in model._flatten_layers(include_self=True):
            assert layer.dtype_policy.name == "float32", layer.name
    for optimizer in (gan.g_optimizer, gan.d_optimizer, gan.pg_optimizer):
        assert not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)


@pytest.mark.slow
def test_building_keeps_the_global_state_and_the_seeds_weights():
    config = tiny()
    expected = expected_draws(7)
    seed_globals(7)
    first = experiment.build_gan(config)
    assert next_draws() == expected
    # Other global seeds: the same initial weights, those of config.seed.
    seed_globals(8)
    second = experiment.build_gan(config)
    for model in ("generator", "discriminator"):
        for a, b in zip(
            weights(getattr(first, model)), weights(getattr(second, model))
        ):
            np.testing.assert_array_equal(a, b)


@pytest.mark.usefixtures("caller_policy")
@pytest.mark.parametrize("global_policy", ["float32", "mixed_float16"])
@pytest.mark.parametrize("kind", ["seqgan", "leakgan"])
@pytest.mark.slow
def test_mixed_precision_is_per_model(global_policy, kind):
    config = tiny("training.mixed_precision=mixed_bfloat16")
    if kind == "leakgan":
        config = config_lib.for_method(config, "leakgan").validate()
    keras.mixed_precision.set_global_policy(global_policy)
    gan = experiment.build_gan(config)
    assert keras.mixed_precision.global_policy().name == global_policy
    # Every layer computes in bfloat16 but the logits' layers, which stay
    # float32; the weights are float32.
    float32_layers = {"output", "output_projection"}
    for model in (gan.generator, gan.discriminator):
        assert model.dtype_policy.name == "mixed_bfloat16"
        for layer in model._flatten_layers(include_self=True):
            policy = layer.dtype_policy.name
            if layer.name in float32_layers:
                assert policy == "float32", layer.name
            else:
                assert policy == "mixed_bfloat16", layer.name
        assert {v.dtype for v in model.trainable_variables} == {"float32"}
    for optimizer in (gan.g_optimizer, gan.d_optimizer, gan.pg_optimizer):
        assert not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    tokens = keras.ops.ones((2, config.sequence_length), dtype="int32")
    assert gan.discriminator.predict_real(tokens).dtype == "float32"
    if kind == "seqgan":
        assert gan.generator(tokens).dtype == "float32"


@pytest.mark.usefixtures("caller_policy")
def test_mixed_float16_scales_the_loss_whatever_the_global_policy():
    keras.mixed_precision.set_global_policy("float32")
    gan = experiment.build_gan(tiny("training.mixed_precision=mixed_float16"))
    assert keras.mixed_precision.global_policy().name == "float32"
    assert gan.generator.dtype_policy.name == "mixed_float16"
    assert gan.discriminator.dtype_policy.name == "mixed_float16"
    for optimizer in (gan.g_optimizer, gan.d_optimizer, gan.pg_optimizer):
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
