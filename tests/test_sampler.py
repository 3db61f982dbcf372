"""Tests for seqgan_tf.sampler: outputs known exactly by construction."""

import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf import sampler

V, T = 26, 12


class CountingModel:
    """The sampler's step interface with logits one-hot * 1e9.

    After reading token `y` the next token is `(y + 1) % V` with probability
    1 (the other logits are 1e9 smaller), so every sampled position is known
    exactly and depends on the token fed in, kept or sampled.
    """

    start_token = 3

    def initial_state(self, batch_size):
        zeros = tf.zeros((batch_size, V), tf.float32)
        return zeros, zeros

    def next_state(self, token_ids, state):
        h = 1e9 * tf.one_hot((token_ids + 1) % V, V)
        return h, state[1]

    def logits_from_hidden(self, hidden):
        return hidden


def counting_reference(prefix, prefix_length, start_token=3):
    tokens = np.array(prefix).copy()
    for row, length in enumerate(prefix_length):
        previous = tokens[row, length - 1] if length else start_token
        for t in range(length, tokens.shape[1]):
            previous = tokens[row, t] = (previous + 1) % V
    return tokens


PREFIX = np.array(
    [
        [24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24],
        [25, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7],
        [7, 7, 7, 19, 19, 19, 19, 19, 19, 19, 19, 19],
        [0, 13, 2, 5, 21, 8, 1, 1, 9, 6, 0, 25],
    ],
    dtype="int32",
)
PREFIX_LENGTH = np.array([0, 1, 3, 12], "int32")
# Row 0 keeps nothing and counts from the start token 3; row 1 keeps 25 and
# wraps to 0; row 2 keeps 7 7 7; row 3 keeps everything.
EXPECTED = np.array(
    [
        [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [25, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        [7, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        [0, 13, 2, 5, 21, 8, 1, 1, 9, 6, 0, 25],
    ],
    dtype="int32",
)


def test_counting_model_output_is_known_exactly():
    np.testing.assert_array_equal(
        counting_reference(PREFIX, PREFIX_LENGTH), EXPECTED
    )
    for seed in [(0, 0), (5, 17)]:
        tokens = sampler.sample(CountingModel(), PREFIX, PREFIX_LENGTH, seed)
        assert tokens.dtype == tf.int32
        np.testing.assert_array_equal(tokens, EXPECTED)


def test_counting_model_inside_tf_function():
    sample = tf.function(
        lambda prefix, length, seed: sampler.sample(
            CountingModel(), prefix, length, seed
        ),
        input_signature=[
            tf.TensorSpec([None, T], tf.int32),
            tf.TensorSpec([None], tf.int32),
            tf.TensorSpec([2], tf.int32),
        ],
    )
    np.testing.assert_array_equal(
        sample(PREFIX, PREFIX_LENGTH, tf.constant([1, 2])), EXPECTED
    )


@pytest.mark.parametrize("length", [0, 1, 6, 11, 12])
def test_counting_model_every_prefix_length(length):
    prefix = (
        np.random.default_rng(length).integers(0, V, (3, T)).astype("int32")
    )
    prefix_length = np.full([3], length, "int32")
    np.testing.assert_array_equal(
        sampler.sample(CountingModel(), prefix, prefix_length, (0, 1)),
        counting_reference(prefix, prefix_length),
    )


def forced_token_generator(make_generator, token):
    # Zero output kernel and a bias of 1e9 on `token`: the logits are the
    # same one-hot * 1e9 vector whatever the state.
    generator = make_generator(seed=1, stddev=1.0)
    projection = generator.output_projection
    projection.kernel.assign(tf.zeros_like(projection.kernel))
    projection.bias.assign(1e9 * tf.one_hot(token, V))
    return generator


@pytest.mark.slow
def test_generator_with_forced_token(make_generator):
    generator = forced_token_generator(make_generator, token=11)
    tokens = sampler.sample(generator, PREFIX, PREFIX_LENGTH, (2, 3)).numpy()
    kept = np.arange(T)[None, :] < PREFIX_LENGTH[:, None]
    np.testing.assert_array_equal(tokens[kept], PREFIX[kept])
    np.testing.assert_array_equal(tokens[~kept], 11)
    np.testing.assert_array_equal(generator.generate(3, seed=(4, 4)), 11)


@pytest.mark.slow
def test_prefix_length_zero_samples_everything(make_generator):
    # The prefix is ignored: the draw equals `generate` with the same seed.
    generator = make_generator(seed=2, stddev=1.0)
    prefix = np.full((6, T), 21, "int32")
    tokens = sampler.sample(generator, prefix, np.zeros([6], "int32"), (8, 1))
    np.testing.assert_array_equal(tokens, generator.generate(6, seed=(8, 1)))
    assert np.any(tokens.numpy() != 21)


@pytest.mark.slow
def test_prefix_length_full_returns_prefix_unchanged(make_generator):
    generator = make_generator(seed=3, stddev=1.0)
    prefix = np.random.default_rng(3).integers(0, V, (5, T)).astype("int32")
    for seed in [(0, 0), (1, 2)]:
        np.testing.assert_array_equal(
            sampler.sample(generator, prefix, np.full([5], T, "int32"), seed),
            prefix,
        )


@pytest.mark.slow
def test_near_zero_temperature_is_greedy_with_mixed_prefix_lengths(
    make_generator,
):
    # Greedy completion by teacher forcing; every greedy choice wins by a
    # wide margin (asserted), so temperature 1e-5 is deterministic.
    generator = make_generator(seed=4, stddev=1.0)
    prefix = np.random.default_rng(4).integers(0, V, (6, T)).astype("int32")
    prefix_length = np.array([0, 12, 1, 7, 11, 3], "int32")
    expected = prefix.copy()
    for t in range(T):
        logits = generator(expected).numpy()[:, t]
        rows = prefix_length <= t
        top2 = np.sort(logits[rows], axis=-1)[:, -2:]
        assert np.all(top2[:, 1] - top2[:, 0] > 1e-3)
        expected[rows, t] = np.argmax(logits[rows], axis=-1)
    tokens = sampler.sample(
        generator, prefix, prefix_length, (3, 3), temperature=1e-5
    )
    np.testing.assert_array_equal(tokens, expected)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
@pytest.mark.slow
def test_first_two_positions_follow_the_model(make_generator, temperature):
    # Empirical marginals of y1 and y2 over 20,000 draws against the exact
    # ones: q(y1) and sum_{y1} q(y1) q(y2 | y1), with q = softmax(logits / t)
    # from teacher forcing. The tolerance is 5 standard errors
    # (sqrt(p (1 - p) / N) <= 0.0036) so a correct sampler never fails it
    # for this fixed seed, while sampling at the wrong temperature misses by
    # about 0.2.
    generator = make_generator(seed=5, stddev=1.0)
    n = 20000
    tokens = sampler.sample(
        generator,
        np.zeros((n, T), "int32"),
        np.zeros([n], "int32"),
        (6, 7),
        temperature=temperature,
    ).numpy()
    first = np.zeros((V, T), "int32")
    first[:, 0] = np.arange(V)
    logits = generator(first).numpy()[:, :2] / temperature  # [V, 2, V]
    q = np.exp(logits - logits.max(-1, keepdims=True))
    q /= q.sum(-1, keepdims=True)
    q1 = q[0, 0]
    q2 = q1 @ q[:, 1]
    tolerance = 5 * np.sqrt(0.25 / n)
    for position, expected in [(0, q1), (1, q2)]:
        frequencies = np.bincount(tokens[:, position], minlength=V) / n
        np.testing.assert_allclose(frequencies, expected, atol=tolerance)


# --- the inverse-CDF draw: row-addressable, exact on zero probabilities ----


def reference_draw(logits, uniforms):
    """Float64 inverse CDF: the token whose interval holds 1 - u."""
    logits = np.asarray(logits, np.float64)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    cdf = np.cumsum(weights, axis=1)
    goal = (1.0 - np.asarray(uniforms, np.float64)) * cdf[:, -1]
    return np.minimum((cdf < goal[:, None]).sum(axis=1), logits.shape[1] - 1)


@pytest.mark.parametrize(
    "num_classes", [26, 600, 1009, pytest.param(5000, marks=pytest.mark.slow)]
)
def test_draw_is_the_inverse_cdf(num_classes):
    # One level below sampler.TWO_LEVEL_MIN_CLASSES, two levels above (1009
    # is prime: its last block is padded). Float32 rounding may move a draw
    # whose uniform lies within rounding of a boundary, nothing else.
    rng = np.random.default_rng(num_classes)
    logits = rng.normal(0.0, 2.0, (2000, num_classes)).astype("float32")
    uniforms = rng.uniform(size=2000).astype("float32")
    drawn = sampler.draw(tf.constant(logits), tf.constant(uniforms)).numpy()
    assert drawn.dtype == np.int32
    assert np.mean(drawn == reference_draw(logits, uniforms)) > 0.995
    # Each row depends on its own logits and uniform only.
    np.testing.assert_array_equal(
        sampler.draw(tf.constant(logits[7:9]), tf.constant(uniforms[7:9])),
        drawn[7:9],
    )


@pytest.mark.parametrize("num_classes", [26, 1009, 5000])
def test_draw_never_picks_a_token_of_probability_zero(num_classes):
    rng = np.random.default_rng(1)
    rows = 64
    allowed = rng.uniform(size=(rows, num_classes)) < 0.01
    allowed[np.arange(rows), rng.integers(0, num_classes, rows)] = True
    allowed[0] = False
    allowed[0, 0] = True  # only the first token
    allowed[1] = False
    allowed[1, -1] = True  # only the last token
    logits = np.where(allowed, rng.normal(size=allowed.shape), -1e9)
    # The extremes: u = 0 (the whole mass) and the largest u below 1.
    uniforms = rng.uniform(size=rows).astype("float32")
    uniforms[::3] = 0.0
    uniforms[1::3] = np.nextafter(np.float32(1.0), np.float32(0.0))
    drawn = sampler.draw(
        tf.constant(logits, tf.float32), tf.constant(uniforms)
    ).numpy()
    assert np.all(allowed[np.arange(rows), drawn])
    assert drawn[0] == 0 and drawn[1] == num_classes - 1


def test_block_size():
    assert sampler.block_size(26) is None
    assert sampler.block_size(None) is None
    assert sampler.block_size(5000) == 50  # a divisor near sqrt(5000)
    assert sampler.block_size(1009) == 32  # prime: padded


class ProjectionModel:
    """`logits_from_hidden` as a fixed [H, V] projection (V two-level)."""

    def __init__(self, num_classes=600, hidden=8, seed=0):
        rng = np.random.default_rng(seed)
        self.kernel = tf.constant(
            rng.normal(0.0, 1.0, (hidden, num_classes)).astype("float32")
        )

    def logits_from_hidden(self, hidden):
        return tf.matmul(hidden, self.kernel)


@pytest.mark.parametrize("rows", [0, 1, 8, 19])
@pytest.mark.parametrize("temperature", [None, 0.7])
@pytest.mark.slow
def test_chunked_draws_equal_one_draw_per_row(monkeypatch, rows, temperature):
    # Chunks of 8 rows: empty input, one row, a partial chunk, exact
    # chunks and a padded last chunk; traced, as the sampler runs it.
    monkeypatch.setattr(sampler, "DRAW_CHUNK_ROWS", 8)
    model = ProjectionModel()
    rng = np.random.default_rng(rows)
    hidden = tf.constant(rng.normal(size=(rows, 8)).astype("float32"))
    uniforms = tf.constant(rng.uniform(size=rows).astype("float32"))

    def scale(logits):
        return logits if temperature is None else logits / temperature

    drawn = tf.function(
        lambda h, u: sampler.draw_from_hidden(model, h, u, scale)
    )(hidden, uniforms).numpy()
    assert drawn.shape == (rows,) and drawn.dtype == np.int32
    # `draw` treats each row alone (test_draw_is_the_inverse_cdf).
    unchunked = sampler.draw(scale(model.logits_from_hidden(hidden)), uniforms)
    np.testing.assert_array_equal(drawn, unchunked.numpy())
