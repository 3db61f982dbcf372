"""FusedAdam equals Keras' Adam: dense and embedding (sparse) gradients,
clipping, several steps, and its checkpoint state is Adam's."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf.optimizers import FusedAdam


def _model(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            keras.layers.Embedding(30, 6),
            keras.layers.Flatten(),
            keras.layers.Dense(4),
        ]
    )
    return model


@pytest.mark.parametrize("clip", [None, 0.05])
@pytest.mark.slow
def test_fused_adam_equals_keras_adam(clip):
    reference, fused = _model(0), _model(0)
    options = dict(learning_rate=0.01, epsilon=1e-6, global_clipnorm=clip)
    optimizers = [keras.optimizers.Adam(**options), FusedAdam(**options)]
    rng = np.random.default_rng(0)
    for step in range(5):
        x = tf.constant(rng.integers(0, 30, (8, 5)), tf.int32)
        y = tf.constant(rng.normal(size=(8, 4)), tf.float32)
        for model, optimizer in zip((reference, fused), optimizers):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean((model(x) - y) ** 2)
            grads = tape.gradient(loss, model.trainable_variables)
            # The embedding's gradient is sparse (IndexedSlices).
            assert isinstance(grads[0], tf.IndexedSlices)
            optimizer.apply(grads, model.trainable_variables)
    for a, b in zip(reference.get_weights(), fused.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(optimizers[0].variables, optimizers[1].variables):
        assert a.shape == b.shape
        np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-7
        )
    # Weights moved: the test could fail.
    assert not np.allclose(
        reference.get_weights()[-1], _model(0).get_weights()[-1]
    )


@pytest.mark.slow
def test_fused_adam_in_a_tf_function_and_round_trips_its_config():
    model = _model(1)
    optimizer = FusedAdam(1e-3)
    x = tf.constant(np.zeros((2, 5)), tf.int32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(x))
        optimizer.apply(
            tape.gradient(loss, model.trainable_variables),
            model.trainable_variables,
        )
        return loss

    before = model.get_weights()[-1].copy()
    step()
    step()
    assert int(optimizer.iterations) == 2
    assert not np.allclose(before, model.get_weights()[-1])
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert isinstance(clone, FusedAdam)
    assert clone.get_config() == optimizer.get_config()


def test_fused_adam_under_a_mirrored_strategy_equals_keras_adam():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    results = []
    for optimizer_class in (keras.optimizers.Adam, FusedAdam):
        with strategy.scope():
            variable = keras.Variable(np.linspace(-1, 1, 6, dtype="float32"))
            optimizer = optimizer_class(0.1)
            optimizer.build([variable])

        step = tf.function(_mirrored_step(strategy, optimizer, variable))
        for _ in range(3):
            step()
        results.append(np.asarray(variable.value))
        ops = {
            op.type
            for op in step.get_concrete_function().graph.get_operations()
        }
        assert ("ResourceApplyAdam" in ops) == (optimizer_class is FusedAdam)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
    assert not np.allclose(results[1], np.linspace(-1, 1, 6))


def _mirrored_step(strategy, optimizer, variable):
    def replica():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.sin(variable.value) ** 2)
        grads = tape.gradient(loss, [variable.value])
        optimizer.apply(grads, [variable])

    return lambda: strategy.run(replica)
