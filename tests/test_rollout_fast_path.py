"""The rollout fast paths compute exactly what the plain computation does.

`Discriminator.predict_real_of_completions` reuses the convolutions of the
shared prefix; the sampler skips the division at temperature 1. Tiny shapes:
vocabulary 26, length 12.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf import Discriminator
from seqgan_tf import Generator
from seqgan_tf import rollout
from seqgan_tf import sampler

VOCABULARY_SIZE = 26
SEQUENCE_LENGTH = 12
# Width 1 (no window inside any prefix but the first), widths in between,
# and width == length (no window ever lies inside a proper prefix).
FILTER_SIZES = (1, 2, 3, 5, 12)
NUM_FILTERS = (3, 4, 4, 2, 3)


def make_discriminator(seed=0):
    keras.utils.set_random_seed(seed)
    return Discriminator(
        VOCABULARY_SIZE,
        SEQUENCE_LENGTH,
        embedding_dim=8,
        filter_sizes=FILTER_SIZES,
        num_filters=NUM_FILTERS,
    )


def make_generator(seed=0):
    keras.utils.set_random_seed(seed)
    # A large init spread makes the policy peaked enough that completions
    # differ in interesting ways from uniform noise.
    return Generator(
        VOCABULARY_SIZE,
        SEQUENCE_LENGTH,
        embedding_dim=4,
        hidden_dim=4,
        initializer_stddev=1.0,
    )


def completions_of(token_ids, num_rollouts, rng):
    """[R, T - 1, B, T]: row [r, t - 1, b] keeps token_ids[b, :t] and has a
    random suffix (the rollout layout)."""
    batch_size, length = token_ids.shape
    suffix = rng.integers(
        0, VOCABULARY_SIZE, size=(num_rollouts, length - 1, batch_size, length)
    )
    given = np.arange(1, length)[None, :, None, None]
    position = np.arange(length)[None, None, None, :]
    return np.where(position < given, token_ids[None, None], suffix).astype(
        "int32"
    )


def test_predict_real_of_completions_matches_predict_real():
    discriminator = make_discriminator()
    rng = np.random.default_rng(1)
    token_ids = rng.integers(0, VOCABULARY_SIZE, size=(3, SEQUENCE_LENGTH))
    completions = completions_of(token_ids, num_rollouts=2, rng=rng)

    fast = discriminator.predict_real_of_completions(token_ids, completions)
    plain = discriminator.predict_real(completions.reshape(-1, SEQUENCE_LENGTH))

    assert tuple(fast.shape) == (2, SEQUENCE_LENGTH - 1, 3)
    np.testing.assert_allclose(
        np.asarray(fast).reshape(-1), np.asarray(plain), rtol=0, atol=1e-6
    )


@pytest.mark.slow
def test_predict_real_of_completions_reads_the_prefix_features():
    # Guards the test above against a fast path that ignored the prefix
    # windows (or read them from the completions): when `token_ids` does not
    # match the completions' prefixes, the scores must change.
    discriminator = make_discriminator()
    rng = np.random.default_rng(1)
    token_ids = rng.integers(0, VOCABULARY_SIZE, size=(3, SEQUENCE_LENGTH))
    completions = completions_of(token_ids, num_rollouts=2, rng=rng)
    other = (token_ids + 1) % VOCABULARY_SIZE

    fast = discriminator.predict_real_of_completions(token_ids, completions)
    wrong = discriminator.predict_real_of_completions(other, completions)

    # Prefix length 1 with width 1 only reuses one window; longer prefixes
    # reuse many, so most scores must move.
    moved = np.abs(np.asarray(fast) - np.asarray(wrong)) > 1e-6
    assert moved[:, 4:].mean() > 0.5


def test_predict_real_of_completions_rejects_bad_shapes():
    discriminator = make_discriminator()
    token_ids = np.zeros((3, SEQUENCE_LENGTH), "int32")
    with pytest.raises(ValueError, match="completions"):
        discriminator.predict_real_of_completions(
            token_ids,
            np.zeros((2, SEQUENCE_LENGTH, 3, SEQUENCE_LENGTH), "int32"),
        )


@pytest.mark.slow
@pytest.mark.parametrize("chunk_size", [4096, 2 * 11 * 3])
def test_rollout_rewards_shared_prefix_matches_plain(chunk_size):
    generator = make_generator()
    discriminator = make_discriminator()
    token_ids = generator.generate(3, seed=(4, 5))

    def rewards(score_fn, share_prefix):
        return tf.function(
            lambda: rollout.rollout_rewards(
                generator,
                score_fn,
                token_ids,
                seed=(6, 7),
                num_rollouts=4,
                chunk_size=chunk_size,
                share_prefix=share_prefix,
            )
        )()

    shared = rewards(discriminator.scorer, True)
    plain = rewards(discriminator.scorer, False)
    wrapped = rewards(lambda x: discriminator.predict_real(x), True)

    np.testing.assert_allclose(shared, plain, rtol=0, atol=1e-6)
    np.testing.assert_allclose(wrapped, plain, rtol=0, atol=0)
    # Not vacuous: the rewards vary over prefixes and rows.
    assert np.std(np.asarray(plain)[:, :-1]) > 1e-4


@pytest.mark.slow
def test_rollout_uses_score_completions_only_when_the_scorer_offers_it():
    generator = make_generator()
    discriminator = make_discriminator()
    token_ids = generator.generate(3, seed=(4, 5))
    calls = []

    class Recording:
        def __call__(self, token_ids):
            calls.append("whole")
            return discriminator.predict_real(token_ids)

        def score_completions(self, token_ids, completions):
            calls.append("completions")
            return discriminator.predict_real_of_completions(
                token_ids, completions
            )

    def run(scorer, share_prefix=True):
        calls.clear()
        rollout.rollout_rewards(
            generator,
            scorer,
            token_ids,
            (6, 7),
            num_rollouts=2,
            share_prefix=share_prefix,
        )
        return sorted(set(calls))

    assert run(Recording()) == ["completions", "whole"]
    assert run(Recording(), share_prefix=False) == ["whole"]
    assert run(lambda x: Recording()(x)) == ["whole"]
    # The discriminator's own scorer offers it.
    assert callable(discriminator.scorer.score_completions)
    assert not hasattr(discriminator.predict_real, "score_completions")


@pytest.mark.parametrize("temperature", [1.0, 0.5])
@pytest.mark.slow
def test_sampler_static_and_traced_temperature_agree(temperature):
    # At temperature 1 the sampler skips the division (statically or by a
    # tf.cond); both must give the very samples the division would.
    generator = make_generator()
    prefix = tf.constant(
        np.random.default_rng(2).integers(
            0, VOCABULARY_SIZE, size=(16, SEQUENCE_LENGTH)
        ),
        tf.int32,
    )
    prefix_length = tf.constant(np.arange(16) % SEQUENCE_LENGTH, tf.int32)
    seed = tf.constant([8, 9], tf.int32)

    static = sampler.sample(generator, prefix, prefix_length, seed, temperature)
    traced = tf.function(
        lambda t: sampler.sample(generator, prefix, prefix_length, seed, t)
    )(tf.constant(temperature))
    reference = reference_sample(
        generator, prefix, prefix_length, seed, temperature
    )

    np.testing.assert_array_equal(static, traced)
    np.testing.assert_array_equal(static, reference)


def reference_sample(model, prefix, prefix_length, seed, temperature):
    """The sampler's step written out plainly (always divides)."""
    prefix = np.asarray(prefix)
    prefix_length = np.asarray(prefix_length)
    h, c = model.initial_state(prefix.shape[0])
    previous = tf.fill([prefix.shape[0]], model.start_token)
    output = prefix.copy()
    for position in range(prefix.shape[1]):
        h, c = model.next_state(previous, (h, c))
        rows = np.flatnonzero(prefix_length <= position)
        logits = model.logits_from_hidden(tf.gather(h, rows)) / temperature
        # Inverse CDF: the token whose cumulative-probability interval holds
        # 1 - u, where u is the uniform of the row's (global) index.
        uniforms = tf.random.stateless_uniform(
            [prefix.shape[0]],
            seed=tf.random.experimental.stateless_fold_in(seed, position),
        ).numpy()
        drawn = []
        for row, row_logits in zip(rows, tf.unstack(logits)):
            weights = tf.exp(row_logits - tf.reduce_max(row_logits))
            cdf = tf.cumsum(weights).numpy()
            target = (1.0 - uniforms[row]) * cdf[-1]
            drawn.append(min(int(np.sum(cdf < target)), len(cdf) - 1))
        output[rows, position] = drawn
        previous = tf.constant(output[:, position])
    return output
