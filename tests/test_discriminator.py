"""Tests for seqgan_tf.models.discriminator on tiny shapes (V 26, T 12)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf

V, T = 26, 12


def make_discriminator(**kwargs):
    kwargs = {
        "vocabulary_size": V,
        "sequence_length": T,
        "embedding_dim": 4,
        "filter_sizes": (1, 3, 12),
        "num_filters": (2, 3, 3),
        **kwargs,
    }
    keras.utils.set_random_seed(0)
    return seqgan_tf.Discriminator(**kwargs)


def random_token_ids(batch_size, seed=0):
    return (
        np.random.default_rng(seed)
        .integers(0, V, (batch_size, T))
        .astype("int32")
    )


def test_output_shape():
    discriminator = make_discriminator()
    assert discriminator(random_token_ids(5)).shape == (5, 2)
    assert discriminator.predict_real(random_token_ids(5)).shape == (5,)


def test_predict_real_is_softmax_of_real_logit():
    discriminator = make_discriminator(dropout=0.5)
    token_ids = random_token_ids(8)
    p_real = discriminator.predict_real(token_ids).numpy()
    assert np.all((p_real > 0) & (p_real < 1))
    logits = discriminator(token_ids, training=False).numpy().astype("float64")
    expected = 1.0 / (1.0 + np.exp(logits[:, 0] - logits[:, 1]))
    np.testing.assert_allclose(p_real, expected, rtol=1e-5)
    # The reward never sees dropout, even with a high rate.
    np.testing.assert_array_equal(discriminator.predict_real(token_ids), p_real)


def test_dropout_only_in_training():
    discriminator = make_discriminator(dropout=0.5)
    token_ids = random_token_ids(8)
    inference = discriminator(token_ids, training=False).numpy()
    np.testing.assert_array_equal(discriminator(token_ids), inference)
    np.testing.assert_array_equal(
        discriminator(token_ids, training=False), inference
    )
    first = discriminator(token_ids, training=True).numpy()
    second = discriminator(token_ids, training=True).numpy()
    assert not np.allclose(first, inference)
    assert not np.allclose(first, second)


def test_zero_dropout_training_equals_inference():
    discriminator = make_discriminator(dropout=0.0)
    token_ids = random_token_ids(4)
    np.testing.assert_allclose(
        discriminator(token_ids, training=True),
        discriminator(token_ids, training=False),
        rtol=1e-6,
    )


def test_regularization_loss_by_hand():
    # tf.nn.l2_loss convention: (l2_reg / 2) * sum of squares of the output
    # kernel and bias. Kernel [8, 2] of 0.5 -> 16 * 0.25 = 4; bias [1, 2]
    # -> 1 + 4 = 5; with l2_reg 0.2 the loss is 0.1 * 9 = 0.9.
    discriminator = make_discriminator(l2_reg=0.2)
    output = discriminator.output_layer
    assert output.kernel.shape == (8, 2)
    output.kernel.assign(tf.fill([8, 2], 0.5))
    output.bias.assign([1.0, 2.0])
    discriminator(random_token_ids(2))
    np.testing.assert_allclose(sum(discriminator.losses), 0.9, rtol=1e-6)


def test_regularization_loss_matches_weights_and_is_zero_without_l2():
    discriminator = make_discriminator(l2_reg=0.7)
    kernel = discriminator.output_layer.kernel.numpy()
    bias = discriminator.output_layer.bias.numpy()
    expected = 0.35 * (np.sum(kernel**2) + np.sum(bias**2))
    np.testing.assert_allclose(sum(discriminator.losses), expected, rtol=1e-5)
    unregularized = make_discriminator(l2_reg=0.0)
    np.testing.assert_allclose(sum(unregularized.losses), 0.0)


def test_get_config_round_trip():
    discriminator = make_discriminator(
        highway_layers=2, dropout=0.3, l2_reg=0.1
    )
    config = discriminator.get_config()
    assert config["filter_sizes"] == [1, 3, 12]
    assert config["num_filters"] == [2, 3, 3]
    for key, value in [
        ("vocabulary_size", V),
        ("sequence_length", T),
        ("embedding_dim", 4),
        ("highway_layers", 2),
        ("dropout", 0.3),
        ("l2_reg", 0.1),
    ]:
        assert config[key] == value
    restored = seqgan_tf.Discriminator.from_config(config)
    assert restored.get_config() == config
    restored.set_weights(discriminator.get_weights())
    token_ids = random_token_ids(3)
    np.testing.assert_array_equal(
        restored.predict_real(token_ids), discriminator.predict_real(token_ids)
    )


def test_keras_save_and_load_round_trip(tmp_path):
    discriminator = make_discriminator()
    path = str(tmp_path / "discriminator.keras")
    discriminator.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, seqgan_tf.Discriminator)
    token_ids = random_token_ids(3)
    np.testing.assert_array_equal(
        restored.predict_real(token_ids), discriminator.predict_real(token_ids)
    )


def test_every_trainable_weight_gets_a_gradient():
    discriminator = make_discriminator(highway_layers=2)
    token_ids = random_token_ids(8)
    labels = np.array([0, 1] * 4)
    with tf.GradientTape() as tape:
        logits = discriminator(token_ids, training=True)
        loss = keras.losses.sparse_categorical_crossentropy(
            labels, logits, from_logits=True
        )
        loss = tf.reduce_mean(loss) + sum(discriminator.losses)
    variables = discriminator.trainable_variables
    # Embedding, 3 convolutions, 2 highway layers of 2 dense, output.
    assert len(variables) == 1 + 2 * 3 + 2 * 2 * 2 + 2
    gradients = tape.gradient(loss, variables)
    for variable, gradient in zip(variables, gradients, strict=True):
        assert gradient is not None, variable.path
        assert np.any(tf.convert_to_tensor(gradient).numpy()), variable.path


@pytest.mark.parametrize(
    "filter_sizes,num_filters,message",
    [
        ((2, 13), (4, 4), "filter width"),
        ((0, 3), (4, 4), "filter width"),
        ((-1,), (4,), "filter width"),
        ((2, 3), (4,), "same length"),
        ((2,), (4, 4), "same length"),
        ((), (), "non-empty"),
        ((2, 3), (4, 0), "filter count"),
    ],
)
def test_invalid_filters_raise(filter_sizes, num_filters, message):
    with pytest.raises(ValueError, match=message):
        make_discriminator(filter_sizes=filter_sizes, num_filters=num_filters)


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        ({"vocabulary_size": 0}, "vocabulary_size"),
        ({"sequence_length": -1}, "sequence_length"),
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
    ],
)
def test_invalid_arguments_raise(kwargs, argument):
    if "sequence_length" in kwargs:
        kwargs["filter_sizes"], kwargs["num_filters"] = (1,), (1,)
    with pytest.raises(ValueError, match=argument):
        make_discriminator(**kwargs)


@pytest.mark.slow
def test_predict_real_of_completions_equals_predict_real():
    # Completions in the rollout layout [R, T - 1, B, T]: row (r, t - 1, b)
    # keeps token_ids[b, :t] and samples the rest. Widths 1, 3 and 12 cover
    # windows fully inside the prefix, straddling it and spanning all of T.
    discriminator = make_discriminator(highway_layers=2)
    generator = seqgan_tf.Generator(V, T, embedding_dim=4, hidden_dim=4)
    token_ids = random_token_ids(3, seed=1)
    num_rollouts = 2
    prefixes = np.tile(token_ids, [num_rollouts * (T - 1), 1])
    prefix_length = np.tile(np.repeat(np.arange(1, T), 3), [num_rollouts])
    completions = generator.complete(prefixes, prefix_length, seed=(1, 2))
    expected = discriminator.predict_real(completions).numpy()
    shared = discriminator.predict_real_of_completions(
        token_ids, tf.reshape(completions, [num_rollouts, T - 1, 3, T])
    )
    assert shared.shape == (num_rollouts, T - 1, 3)
    np.testing.assert_allclose(
        shared, expected.reshape(num_rollouts, T - 1, 3), rtol=1e-5, atol=1e-6
    )


def test_predict_real_of_completions_rejects_bad_layout():
    discriminator = make_discriminator()
    token_ids = random_token_ids(3)
    with pytest.raises(ValueError, match="completions"):
        discriminator.predict_real_of_completions(
            token_ids, np.zeros((2, T, 3, T), "int32")
        )
