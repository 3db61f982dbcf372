"""Tests for seqgan_tf.models.generator: tiny shapes (V 26, T 12, hidden 4)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf

V, T = 26, 12


def random_token_ids(batch_size, seed=0):
    return (
        np.random.default_rng(seed)
        .integers(0, V, (batch_size, T))
        .astype("int32")
    )


def greedy_by_teacher_forcing(model, prefix, prefix_length):
    """Greedy decoding written with teacher-forced `call` only.

    Returns the completed tokens and the smallest gap between the best and
    second-best logit among the greedy choices; a test asserts the gap is
    wide, so near-zero-temperature sampling is deterministic by construction.
    """
    tokens = np.array(prefix, dtype="int32").copy()
    prefix_length = np.broadcast_to(prefix_length, tokens.shape[:1])
    smallest_gap = np.inf
    for t in range(tokens.shape[1]):
        # Row t of the logits depends on tokens[:, :t] only.
        logits = model(tokens).numpy()[:, t]
        rows = prefix_length <= t
        if rows.any():
            top2 = np.sort(logits[rows], axis=-1)[:, -2:]
            smallest_gap = min(
                smallest_gap, float(np.min(top2[:, 1] - top2[:, 0]))
            )
            tokens[rows, t] = np.argmax(logits[rows], axis=-1)
    return tokens, smallest_gap


def test_call_and_log_prob_shapes(make_generator):
    generator = make_generator()
    token_ids = random_token_ids(3)
    assert generator(token_ids).shape == (3, T, V)
    assert generator.log_prob(token_ids).shape == (3, T)


def test_call_is_teacher_forced(make_generator):
    # Changing token t changes the logits at positions > t only.
    generator = make_generator(seed=1, stddev=0.5)
    a = random_token_ids(2, seed=1)
    b = a.copy()
    b[:, 5] = (b[:, 5] + 1) % V
    logits_a, logits_b = generator(a).numpy(), generator(b).numpy()
    np.testing.assert_array_equal(logits_a[:, :6], logits_b[:, :6])
    assert np.all(np.abs(logits_a[:, 6:] - logits_b[:, 6:]).max(axis=-1) > 0)


@pytest.mark.parametrize("length", [T, 70])
@pytest.mark.slow
def test_teacher_forcing_equals_the_samplers_step(make_generator, length):
    # Short sequences run the LSTM unrolled, long ones in a loop
    # (MAX_UNROLLED_LENGTH = 64); both equal the step the sampler uses.
    generator = make_generator(seed=2, stddev=0.5, sequence_length=length)
    assert generator.lstm.unroll == (length <= 64)
    token_ids = np.random.default_rng(2).integers(0, V, (3, length))
    logits = tf.function(generator)(tf.constant(token_ids, tf.int32))
    state = generator.initial_state(3)
    previous = tf.fill([3], generator.start_token)
    for t in range(length):
        state = generator.next_state(previous, state)
        np.testing.assert_allclose(
            logits[:, t], generator.logits_from_hidden(state[0]), atol=1e-5
        )
        previous = tf.constant(token_ids[:, t], tf.int32)


@pytest.mark.slow
def test_log_prob_rows_are_log_probabilities(make_generator):
    generator = make_generator(seed=2, stddev=1.0)
    token_ids = random_token_ids(4, seed=2)
    log_softmax = tf.nn.log_softmax(generator(token_ids), axis=-1).numpy()
    np.testing.assert_allclose(
        np.log(np.exp(log_softmax).sum(axis=-1)), 0.0, atol=1e-5
    )
    expected = np.take_along_axis(log_softmax, token_ids[..., None], -1)[..., 0]
    log_probs = generator.log_prob(token_ids).numpy()
    np.testing.assert_allclose(log_probs, expected, atol=1e-6)
    assert np.all(log_probs < 0)


def test_get_config_round_trip(make_generator):
    generator = make_generator(seed=3, start_token=5, initializer_stddev=0.3)
    config = generator.get_config()
    for key, value in [
        ("vocabulary_size", V),
        ("sequence_length", T),
        ("embedding_dim", 4),
        ("hidden_dim", 4),
        ("start_token", 5),
        ("initializer_stddev", 0.3),
    ]:
        assert config[key] == value
    restored = seqgan_tf.Generator.from_config(config)
    assert restored.get_config() == config
    restored.set_weights(generator.get_weights())
    token_ids = random_token_ids(3)
    np.testing.assert_array_equal(restored(token_ids), generator(token_ids))


@pytest.mark.slow
def test_keras_save_and_load_round_trip(make_generator, tmp_path):
    generator = make_generator(seed=4, start_token=2)
    path = str(tmp_path / "generator.keras")
    generator.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored, seqgan_tf.Generator)
    assert restored.get_config() == generator.get_config()
    token_ids = random_token_ids(3)
    np.testing.assert_array_equal(
        restored.log_prob(token_ids), generator.log_prob(token_ids)
    )
    np.testing.assert_array_equal(
        restored.generate(5, seed=(1, 2)), generator.generate(5, seed=(1, 2))
    )


@pytest.mark.slow
def test_generate_shape_dtype_and_range(make_generator):
    samples = make_generator().generate(7, seed=(0, 1))
    assert samples.shape == (7, T)
    assert samples.dtype == tf.int32
    assert np.all((samples.numpy() >= 0) & (samples.numpy() < V))


@pytest.mark.slow
def test_generate_same_seed_same_samples_other_seed_other_samples(
    make_generator,
):
    generator = make_generator(stddev=1.0)
    a = generator.generate(8, seed=(3, 4)).numpy()
    np.testing.assert_array_equal(a, generator.generate(8, seed=(3, 4)))
    assert np.any(a != generator.generate(8, seed=(3, 5)).numpy())
    assert np.any(a != generator.generate(8, seed=(4, 4)).numpy())
    # Rows differ from each other: the batch is not one draw repeated.
    assert len({tuple(row) for row in a}) > 1


@pytest.mark.slow
def test_near_zero_temperature_is_greedy_decoding(make_generator):
    # stddev 1 spreads the logits so every greedy choice wins by a margin
    # far beyond what temperature 1e-5 could ever flip.
    generator = make_generator(seed=5, stddev=1.0)
    expected, gap = greedy_by_teacher_forcing(
        generator, np.zeros((4, T), "int32"), 0
    )
    assert gap > 1e-3
    for seed in [(0, 0), (7, 9)]:
        np.testing.assert_array_equal(
            generator.generate(4, seed=seed, temperature=1e-5), expected
        )


def test_start_token_is_the_first_input(make_generator):
    # Different start tokens give different first-position distributions.
    a = make_generator(seed=6, stddev=1.0, start_token=0)
    b = make_generator(seed=6, stddev=1.0, start_token=1)
    token_ids = random_token_ids(2)
    first_a, first_b = a(token_ids).numpy()[:, 0], b(token_ids).numpy()[:, 0]
    assert not np.allclose(first_a, first_b)
    np.testing.assert_allclose(first_a[0], first_a[1])


@pytest.mark.slow
def test_complete_keeps_each_rows_prefix_and_samples_the_rest(make_generator):
    generator = make_generator(seed=7, stddev=1.0)
    prefix = random_token_ids(5, seed=7)
    prefix_length = np.array([0, 1, 5, 11, 12], "int32")
    completed = generator.complete(prefix, prefix_length, seed=(1, 1)).numpy()
    assert completed.shape == (5, T)
    for row, length in enumerate(prefix_length):
        np.testing.assert_array_equal(
            completed[row, :length], prefix[row, :length]
        )
    # Tokens after a row's prefix length are ignored, not read.
    scrambled = prefix.copy()
    for row, length in enumerate(prefix_length):
        scrambled[row, length:] = (scrambled[row, length:] + 13) % V
    np.testing.assert_array_equal(
        generator.complete(scrambled, prefix_length, seed=(1, 1)), completed
    )
    # The rest is sampled: another seed changes some sampled position.
    other = generator.complete(prefix, prefix_length, seed=(2, 2)).numpy()
    sampled = np.arange(T)[None, :] >= prefix_length[:, None]
    assert np.any(other[sampled] != completed[sampled])
    np.testing.assert_array_equal(other[~sampled], completed[~sampled])


@pytest.mark.slow
def test_complete_near_zero_temperature_is_greedy_completion(make_generator):
    generator = make_generator(seed=8, stddev=1.0)
    prefix = random_token_ids(4, seed=8)
    prefix_length = np.array([1, 3, 6, 0], "int32")
    expected, gap = greedy_by_teacher_forcing(generator, prefix, prefix_length)
    assert gap > 1e-3
    np.testing.assert_array_equal(
        generator.complete(prefix, prefix_length, temperature=1e-5), expected
    )


@pytest.mark.slow
def test_complete_accepts_short_prefix_and_scalar_length(make_generator):
    generator = make_generator(seed=9)
    prefix = random_token_ids(3)[:, :4]
    completed = generator.complete(prefix, 4, seed=(0, 3)).numpy()
    assert completed.shape == (3, T)
    np.testing.assert_array_equal(completed[:, :4], prefix)


@pytest.mark.parametrize(
    "call,argument",
    [
        (lambda g: g.generate(0), "num_samples"),
        (lambda g: g.generate(2, temperature=0.0), "temperature"),
        (lambda g: g.generate(2, temperature=-1.0), "temperature"),
        (
            lambda g: g.complete(np.zeros((2, T + 1), "int32"), 1),
            "sequence_length",
        ),
        (lambda g: g.complete(np.zeros((T,), "int32"), 1), "prefix"),
    ],
)
def test_bad_generation_arguments_raise(make_generator, call, argument):
    with pytest.raises(ValueError, match=argument):
        call(make_generator())


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        ({"vocabulary_size": -26}, "vocabulary_size"),
        ({"vocabulary_size": 0}, "vocabulary_size"),
        ({"sequence_length": 0}, "sequence_length"),
        ({"hidden_dim": 0}, "hidden_dim"),
        ({"start_token": V}, "start_token"),
    ],
)
def test_bad_constructor_arguments_raise(kwargs, argument):
    kwargs = {"vocabulary_size": V, "sequence_length": T, **kwargs}
    with pytest.raises(ValueError, match=argument):
        seqgan_tf.Generator(**kwargs)


@pytest.mark.slow
def test_sample_function_is_traced_once(make_generator):
    generator = make_generator()
    sample_function = generator.make_sample_function()
    assert generator.make_sample_function() is sample_function
    generator.generate(3, seed=(0, 1))
    generator.generate(5, seed=(2, 3), temperature=0.5)
    generator.generate(1, seed=(4, 5), temperature=2.0)
    generator.complete(random_token_ids(4), np.array([1, 2, 3, 4]), seed=(6, 7))
    generator.complete(random_token_ids(2)[:, :3], 3, seed=(8, 9))
    assert sample_function.experimental_get_tracing_count() == 1
    assert generator.make_sample_function() is sample_function


@pytest.mark.slow
def test_compile_clears_the_sample_function(make_generator):
    generator = make_generator()
    before = generator.make_sample_function()
    generator.generate(2)
    generator.compile(optimizer="adam")
    after = generator.make_sample_function()
    assert after is not before
    assert after.experimental_get_tracing_count() == 0
    generator.generate(2)
    assert after.experimental_get_tracing_count() == 1


@pytest.mark.slow
def test_run_eagerly_skips_tf_function(make_generator):
    generator = make_generator(stddev=1.0)
    expected = generator.generate(3, seed=(1, 2)).numpy()
    generator.compile(run_eagerly=True)
    assert not hasattr(
        generator.make_sample_function(), "experimental_get_tracing_count"
    )
    np.testing.assert_array_equal(generator.generate(3, seed=(1, 2)), expected)
