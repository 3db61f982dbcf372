"""Variable-length sequences (opt-in `eos_id`): EOS, PAD and masking.

Tiny models (V 26, T 8, hidden 4). With `eos_id=None` (the default) the
existing suite checks that nothing changes.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf import losses
from seqgan_tf import metrics
from seqgan_tf import rollout
from seqgan_tf.data import EOS_ID
from seqgan_tf.data import PAD_ID
from seqgan_tf.data import padding_mask

V, T, H = 26, 8, 4

# Rows end in EOS (2) and are padded with PAD (0); the last row has no EOS.
TOKENS = np.array(
    [
        [5, 6, 2, 0, 0, 0, 0, 0],
        [2, 0, 0, 0, 0, 0, 0, 0],
        [7, 8, 9, 10, 11, 12, 2, 0],
        [3, 4, 5, 6, 7, 8, 9, 10],
    ],
    np.int32,
)


def make_generator(eos_id=EOS_ID, seed=0, stddev=1.0):
    generator = seqgan_tf.Generator(
        V, T, embedding_dim=H, hidden_dim=H, eos_id=eos_id, pad_id=PAD_ID
    )
    rng = np.random.default_rng(seed)
    generator.set_weights(
        [
            (stddev * rng.standard_normal(w.shape)).astype("float32")
            for w in generator.get_weights()
        ]
    )
    return generator


def make_discriminator(pad_id=PAD_ID):
    keras.utils.set_random_seed(0)
    return seqgan_tf.Discriminator(
        V,
        T,
        embedding_dim=4,
        filter_sizes=(1, 2, 3),
        num_filters=(3, 3, 3),
        pad_id=pad_id,
    )


def force_bias(generator, bias):
    projection = generator.output_projection
    projection.kernel.assign(tf.zeros_like(projection.kernel))
    projection.bias.assign(tf.constant(bias, tf.float32))


def assert_padded_after_eos(tokens):
    for row in np.asarray(tokens):
        hits = np.flatnonzero(row == EOS_ID)
        if len(hits):
            assert np.all(row[hits[0] + 1 :] == PAD_ID), row


# --- config -----------------------------------------------------------------


def test_config_round_trip_and_validation():
    generator = make_generator()
    clone = seqgan_tf.Generator.from_config(generator.get_config())
    assert (clone.eos_id, clone.pad_id) == (EOS_ID, PAD_ID)
    assert seqgan_tf.Generator(V, T).eos_id is None
    for kwargs in (
        {"eos_id": V},
        {"eos_id": -1},
        {"pad_id": V},
        {"eos_id": 0, "pad_id": 0},
    ):
        with pytest.raises(ValueError):
            seqgan_tf.Generator(V, T, **kwargs)
    discriminator = make_discriminator()
    clone = seqgan_tf.Discriminator.from_config(discriminator.get_config())
    assert clone.pad_id == PAD_ID
    assert (
        seqgan_tf.Discriminator(
            V, T, filter_sizes=(2,), num_filters=(2,)
        ).pad_id
        is None
    )
    with pytest.raises(ValueError):
        make_discriminator(pad_id=V)
    oracle = seqgan_tf.OracleLSTM.random(V, T, hidden_dim=H)
    assert oracle.eos_id is None


# --- (a) the sampler pads after EOS -------------------------------------------


@pytest.mark.slow
def test_sampler_emits_only_pad_after_eos():
    generator = make_generator()
    bias = np.zeros(V, np.float32)
    bias[EOS_ID] = 2.5  # EOS often, not always
    force_bias(generator, bias)
    tokens = generator.generate(200, seed=(3, 4)).numpy()
    assert_padded_after_eos(tokens)
    first = np.argmax(tokens == EOS_ID, axis=1)
    has_eos = np.any(tokens == EOS_ID, axis=1)
    # Rows end at various positions, and some tokens precede EOS.
    assert len(set(first[has_eos])) > 3
    assert np.any(tokens[:, 0] != EOS_ID)
    # The same model without eos_id draws the same tokens up to the first
    # EOS (the draws are unchanged), and non-PAD tokens after it.
    plain = make_generator(eos_id=None)
    force_bias(plain, bias)
    plain_tokens = plain.generate(200, seed=(3, 4)).numpy()
    mask = padding_mask(plain_tokens).numpy()
    np.testing.assert_array_equal(tokens[mask], plain_tokens[mask])
    assert np.any(plain_tokens[~mask] != PAD_ID)


@pytest.mark.slow
def test_sampler_forced_eos_and_prefix_with_eos():
    generator = make_generator()
    bias = np.zeros(V, np.float32)
    bias[EOS_ID] = 1e9
    force_bias(generator, bias)
    tokens = generator.generate(3, seed=(0, 1)).numpy()
    np.testing.assert_array_equal(tokens[:, 0], EOS_ID)
    np.testing.assert_array_equal(tokens[:, 1:], PAD_ID)
    # A policy forced to emit token 9, given prefixes: rows whose prefix
    # holds EOS pad the rest, the others emit 9 (prefix tokens kept).
    bias = np.zeros(V, np.float32)
    bias[9] = 1e9
    force_bias(generator, bias)
    prefix = np.array(
        [
            [5, 2, 7, 0, 0, 0, 0, 0],
            [5, 6, 7, 0, 0, 0, 0, 0],
            [2, 0, 0, 0, 0, 0, 0, 0],
        ],
        np.int32,
    )
    tokens = generator.complete(prefix, [3, 3, 1], seed=(0, 2)).numpy()
    np.testing.assert_array_equal(
        tokens,
        [
            [5, 2, 7, 0, 0, 0, 0, 0],
            [5, 6, 7, 9, 9, 9, 9, 9],
            [2, 0, 0, 0, 0, 0, 0, 0],
        ],
    )
    # The compiled sampler (rollout path) behaves the same way.
    plain = make_generator(eos_id=None)
    force_bias(plain, bias)
    plain_tokens = plain.complete(prefix, [3, 3, 1], seed=(0, 2)).numpy()
    assert np.all(plain_tokens[:, 3:] == 9)


# --- (b), (c) losses and rewards ----------------------------------------------


def random_logits(seed=0):
    return tf.constant(
        np.random.default_rng(seed).standard_normal((*TOKENS.shape, V)),
        tf.float32,
    )


def test_mle_loss_equals_hand_masked_mean():
    logits = random_logits()
    mask = padding_mask(TOKENS).numpy()
    z = logits.numpy()
    log_softmax = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    nll = -np.take_along_axis(log_softmax, TOKENS[..., None], axis=-1)[..., 0]
    expected = nll[mask].sum() / mask.sum()
    assert mask.sum() == 3 + 1 + 7 + 8
    np.testing.assert_allclose(
        losses.mle_loss(logits, TOKENS, padding_mask=mask), expected, rtol=1e-5
    )
    assert not np.isclose(float(losses.mle_loss(logits, TOKENS)), expected)


@pytest.mark.slow
def test_pad_positions_get_no_mle_or_pg_gradient():
    logits = random_logits(1)
    mask = padding_mask(TOKENS).numpy()
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        mle = losses.mle_loss(logits, TOKENS, padding_mask=mask)
        pg, _ = losses.policy_gradient_loss(
            losses.token_log_probs(logits, TOKENS),
            tf.ones(TOKENS.shape),  # nonzero everywhere: the mask must act
            padding_mask=mask,
        )
        pg_mean, _ = losses.policy_gradient_loss(
            losses.token_log_probs(logits, TOKENS),
            tf.ones(TOKENS.shape),
            reduction="mean",
            padding_mask=mask,
        )
    for loss in (mle, pg, pg_mean):
        grad = tape.gradient(loss, logits).numpy()
        assert np.all(grad[~mask] == 0.0)
        assert np.all(np.abs(grad[mask]).sum(-1) > 0)
    np.testing.assert_allclose(float(pg_mean), float(pg) / len(TOKENS))
    # Unmasked, the PAD positions would get a gradient.
    with tf.GradientTape() as tape:
        tape.watch(logits)
        unmasked, _ = losses.policy_gradient_loss(
            losses.token_log_probs(logits, TOKENS), tf.ones(TOKENS.shape)
        )
    assert np.all(
        np.abs(tape.gradient(unmasked, logits).numpy()[~mask]).sum(-1) > 0
    )


@pytest.mark.slow
def test_rollout_rewards_are_zero_after_eos():
    generator = make_generator(stddev=0.5)
    discriminator = make_discriminator()
    mask = padding_mask(TOKENS).numpy()
    for share_prefix in (True, False):
        rewards = rollout.rollout_rewards(
            generator,
            discriminator.predict_real,
            TOKENS,
            seed=(1, 2),
            num_rollouts=2,
            share_prefix=share_prefix,
        ).numpy()
        assert np.all(rewards[~mask] == 0.0)
        assert np.all(rewards[mask] > 0.0)
    naive = rollout.naive_rollout_rewards(
        generator,
        discriminator.predict_real,
        TOKENS,
        seed=(1, 2),
        num_rollouts=1,
    ).numpy()
    assert np.all(naive[~mask] == 0.0)
    # An explicit mask is honoured whatever the policy.
    plain = make_generator(eos_id=None, stddev=0.5)
    rewards = rollout.rollout_rewards(
        plain,
        discriminator.predict_real,
        TOKENS,
        seed=(1, 2),
        num_rollouts=1,
        padding_mask=mask,
    ).numpy()
    assert np.all(rewards[~mask] == 0.0)
    rewards = rollout.rollout_rewards(
        plain, discriminator.predict_real, TOKENS, seed=(1, 2), num_rollouts=1
    ).numpy()
    assert np.all(rewards > 0.0)


# --- (d) the discriminator ignores PAD embeddings ----------------------------


@pytest.mark.parametrize("pad_id", [PAD_ID, None])
@pytest.mark.slow
def test_discriminator_pad_embedding_has_no_effect(pad_id):
    discriminator = make_discriminator(pad_id=pad_id)
    completions = np.stack(
        [np.stack([TOKENS] * (T - 1))] * 2
    )  # [R=2, T-1, B, T]: each completion is the sequence itself
    before = discriminator.predict_real(TOKENS).numpy()
    before_completions = discriminator.predict_real_of_completions(
        TOKENS, completions
    ).numpy()
    np.testing.assert_allclose(
        before_completions,
        np.broadcast_to(before, before_completions.shape),
        rtol=1e-5,
        atol=1e-6,
    )
    table = discriminator.embedding.embeddings
    table.assign(tf.tensor_scatter_nd_update(table, [[PAD_ID]], [[5.0] * 4]))
    after = discriminator.predict_real(TOKENS).numpy()
    after_completions = discriminator.predict_real_of_completions(
        TOKENS, completions
    ).numpy()
    if pad_id is None:
        # Without pad_id the PAD row is an ordinary embedding.
        assert not np.allclose(after[:3], before[:3])
    else:
        np.testing.assert_array_equal(after, before)
        np.testing.assert_allclose(
            after_completions, before_completions, rtol=1e-6, atol=1e-7
        )


@pytest.mark.slow
def test_discriminator_completions_match_predict_real_with_pad_id():
    discriminator = make_discriminator()
    generator = make_generator(stddev=0.5)
    bias = generator.output_projection.bias.numpy()
    bias[EOS_ID] += 3.0  # plenty of EOS and PAD in the completions
    generator.output_projection.bias.assign(bias)
    prefixes = np.tile(TOKENS, [T - 1, 1])
    lengths = np.repeat(np.arange(1, T, dtype=np.int32), len(TOKENS))
    completed = generator.complete(prefixes, lengths, seed=(5, 6)).numpy()
    assert np.sum(completed == PAD_ID) > 20
    shared = discriminator.predict_real_of_completions(
        TOKENS, completed.reshape(1, T - 1, len(TOKENS), T)
    ).numpy()
    direct = discriminator.predict_real(completed).numpy()
    np.testing.assert_allclose(shared.reshape(-1), direct, rtol=1e-5, atol=1e-6)


# --- (e) nll ------------------------------------------------------------------


@pytest.mark.slow
def test_nll_ignores_padding():
    generator = make_generator(stddev=0.5)
    log_probs = generator.log_prob(TOKENS).numpy()
    mask = padding_mask(TOKENS).numpy()
    expected = -log_probs[mask].mean()
    np.testing.assert_allclose(
        metrics.nll(generator, TOKENS), expected, rtol=1e-5
    )
    # Whatever follows EOS does not count.
    other = TOKENS.copy()
    other[~mask] = 17
    np.testing.assert_allclose(
        metrics.nll(generator, other), metrics.nll(generator, TOKENS), rtol=1e-6
    )
    plain = make_generator(eos_id=None, stddev=0.5)
    np.testing.assert_allclose(
        metrics.nll(plain, TOKENS), -log_probs.mean(), rtol=1e-5
    )


# --- the trainer --------------------------------------------------------------


@pytest.mark.slow
def test_trainer_masks_mle_and_runs_policy_gradient():
    generator = make_generator(stddev=0.3)
    discriminator = make_discriminator()
    gan = seqgan_tf.SeqGAN(
        generator, discriminator, batch_size=len(TOKENS), num_rollouts=2, seed=0
    )
    gan.compile(run_eagerly=True)
    logits = generator(TOKENS)
    expected = losses.mle_loss(
        logits, TOKENS, padding_mask=padding_mask(TOKENS)
    )
    np.testing.assert_allclose(
        float(gan._mle_step(tf.constant(TOKENS))), float(expected), rtol=1e-6
    )
    loss = gan.objective.policy_gradient_step(
        tf.constant([1, 2], tf.int32), tf.constant([3, 4], tf.int32)
    )
    assert np.isfinite(float(loss))
