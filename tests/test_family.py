"""SeqGAN's successors: MaliGAN's importance weights, RankGAN's ranker,
LeakGAN's hierarchical generator; each method trains, resumes exactly and
exports for TF Serving."""

import dataclasses
import json
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import losses
from seqgan_tf import rewards
from seqgan_tf import runs
from seqgan_tf.models.ranker import RankScorer
from seqgan_tf.models.ranker import relevance

# --- MaliGAN -----------------------------------------------------------


def test_importance_weights_are_normalised_odds():
    p_real = np.array([0.5, 0.8, 0.2, 0.9], np.float32)
    odds = p_real / (1 - p_real)  # 1, 4, 0.25, 9
    weights = rewards.importance_weights(p_real).numpy()
    np.testing.assert_allclose(weights, odds / odds.sum(), rtol=1e-6)
    assert weights.sum() == pytest.approx(1.0, abs=1e-6)
    # Not the raw D normalised (what Texygen's MaliGAN computes).
    assert not np.allclose(weights, p_real / p_real.sum(), atol=1e-3)


def test_importance_weights_stay_finite_for_a_certain_discriminator():
    weights = rewards.importance_weights([1.0, 0.0, 0.5]).numpy()
    assert np.isfinite(weights).all()
    assert weights.sum() == pytest.approx(1.0, abs=1e-5)
    assert weights.argmax() == 0


@pytest.mark.slow
def test_maligan_rewards_are_weights_minus_the_mean(oracle):
    gan = _gan("maligan", oracle)
    samples = gan.generator.generate(gan.batch_size, seed=(1, 2))
    rewards_ = gan.objective.rewards(samples, None).numpy()
    p_real = gan.discriminator.predict_real(samples).numpy()
    odds = p_real / (1 - p_real)
    expected = odds / odds.sum() - 1.0 / gan.batch_size
    np.testing.assert_allclose(rewards_[:, 0], expected, rtol=1e-4, atol=1e-7)
    # One weight for every token of a sequence; the batch sums to 0.
    assert (rewards_ == rewards_[:, :1]).all()
    assert rewards_[:, 0].sum() == pytest.approx(0.0, abs=1e-5)


def test_importance_weights_within_groups():
    p_real = np.array([0.5, 0.8, 0.2, 0.9, 0.5, 0.5], np.float32)
    weights = rewards.importance_weights(p_real, group_size=3).numpy()
    odds = (p_real / (1 - p_real)).reshape(2, 3)
    np.testing.assert_allclose(
        weights, odds / odds.sum(1, keepdims=True), rtol=1e-6
    )


@pytest.mark.slow
def test_mixed_maligan_learns_a_whole_real_prefix_by_likelihood(oracle):
    config = config_lib.with_overrides(
        config_lib.for_method(config_lib.get_preset("tiny"), "maligan"),
        [
            "training.mali_continuations=4",
            "training.mali_prefix_decrement=3",
            f"data.vocabulary_size={oracle.vocabulary_size}",
            f"data.sequence_length={oracle.sequence_length}",
        ],
    ).validate()
    gan = experiment.build_gan(config, oracle=oracle)
    length = oracle.sequence_length
    # N = T - K (r + 1): 9, 6, 3, 0, 0 in rounds 0..4.
    assert [gan.objective.mali_prefix(r) for r in range(5)] == [9, 6, 3, 0, 0]
    real = oracle.generate(gan.batch_size // 4, seed=(2, 3)).numpy()
    # With the whole sequence as prefix nothing is sampled: the loss is
    # the real sequences' negative log-likelihood (n copies weighted 1/n).
    expected = -float(gan.generator.log_prob(real).numpy().sum())
    loss = float(gan.mali_step(real, length, (1, 2)))
    assert loss == pytest.approx(expected, rel=1e-5)
    # With a partial prefix the step samples and runs.
    assert np.isfinite(float(gan.mali_step(real, 3, (1, 3))))


def test_mixed_maligan_needs_groups_that_divide_the_batch():
    config = config_lib.with_overrides(
        config_lib.for_method(config_lib.get_preset("tiny"), "maligan"),
        ["training.mali_continuations=5"],
    )
    with pytest.raises(config_lib.ConfigError, match="multiple"):
        config.validate()


# --- RankGAN -----------------------------------------------------------


def test_rank_score_of_a_hand_made_case():
    # Three candidates, two references, features given by hand.
    candidates = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    references = np.array([[1, 0], [3, 4]], np.float32)
    gamma = 2.0

    def cos(a, b):
        return a @ b / np.linalg.norm(a) / np.linalg.norm(b)

    expected_scores = np.array(
        [gamma * sum(cos(c, u) for u in references) for c in candidates]
    )
    # 2 * (1 + 0.6), 2 * (0 + 0.8), 2 * (0.7071 + 0.9899)
    np.testing.assert_allclose(
        expected_scores, [3.2, 1.6, 2 * (1 / math.sqrt(2) + 7 / math.sqrt(50))]
    )
    scores = relevance(candidates, references, gamma).numpy()
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-6)
    rank = tf.nn.softmax(scores).numpy()
    by_hand = np.exp(expected_scores) / np.exp(expected_scores).sum()
    np.testing.assert_allclose(rank, by_hand, rtol=1e-5)


def test_ranker_rank_scores_follow_its_features():
    ranker = seqgan_tf.Ranker(
        26,
        12,
        embedding_dim=4,
        filter_sizes=(2, 3),
        num_filters=(3, 3),
        gamma=1.5,
    )
    rng = np.random.default_rng(0)
    candidates = rng.integers(0, 26, (3, 12))
    references = rng.integers(0, 26, (2, 12))
    f_c = ranker(candidates).numpy()
    f_u = ranker(references).numpy()
    cos = (
        f_c
        @ f_u.T
        / np.outer(np.linalg.norm(f_c, axis=1), np.linalg.norm(f_u, axis=1))
    )
    score = 1.5 * cos.sum(1)
    expected = np.exp(score) / np.exp(score).sum()
    np.testing.assert_allclose(
        ranker.rank_scores(candidates, references).numpy(), expected, rtol=1e-5
    )


@pytest.mark.slow
def test_rank_scorer_completions_equal_one_call_per_slice():
    ranker = seqgan_tf.Ranker(
        26, 12, embedding_dim=4, filter_sizes=(2, 3), num_filters=(3, 3)
    )
    rng = np.random.default_rng(1)
    references = rng.integers(0, 26, (4, 12))
    completions = rng.integers(0, 26, (2, 11, 5, 12))
    scorer = RankScorer(ranker, references)
    together = scorer.score_completions(None, completions).numpy()
    for r in range(2):
        for t in range(11):
            np.testing.assert_allclose(
                together[r, t], scorer(completions[r, t]).numpy(), rtol=1e-5
            )
    np.testing.assert_allclose(together.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.slow
def test_ranker_loss_decreases_on_a_separable_toy_set():
    ranker = seqgan_tf.Ranker(
        26,
        12,
        embedding_dim=8,
        filter_sizes=(2, 3),
        num_filters=(8, 8),
        dropout=0.0,
    )
    rng = np.random.default_rng(2)
    real = rng.integers(0, 8, (64, 12))  # "human" sentences: tokens 0-7
    fake = rng.integers(16, 26, (64, 12))  # "generated": tokens 16-25
    batch = np.concatenate([real[:16], fake[:16]])
    labels = np.array([1] * 16 + [0] * 16)
    optimizer = tf.keras.optimizers.Adam(1e-2)
    history = []
    for step in range(20):
        references = real[rng.integers(0, 64, 16)]
        with tf.GradientTape() as tape:
            loss, correct = losses.rank_loss(
                ranker.scores(batch, references, training=True), labels
            )
        grads = tape.gradient(loss, ranker.trainable_variables)
        optimizer.apply_gradients(zip(grads, ranker.trainable_variables))
        history.append(float(loss))
    assert history[-1] < history[0] - 1.0
    assert float(correct) == len(batch)


def test_rank_loss_by_hand():
    scores = np.array([2.0, 1.0, 0.0, -1.0], np.float32)
    labels = np.array([1, 0, 1, 0])
    log_p = scores - np.log(np.exp(scores).sum())
    loss, correct = losses.rank_loss(scores, labels)
    assert float(loss) == pytest.approx(
        log_p[[1, 3]].mean() - log_p[[0, 2]].mean(), rel=1e-6
    )
    # P = 0.64, 0.24, 0.09, 0.03: only row 0 is above 1/4; rows 0 (real)
    # 1 and 3 (generated) are on their side, row 2 (real) is not.
    assert float(correct) == 3


def test_ranker_and_rank_reward_go_together(oracle):
    config = config_lib.for_method(config_lib.get_preset("tiny"), "rankgan")
    bad = dataclasses.replace(
        config,
        discriminator=dataclasses.replace(
            config.discriminator, kind="classifier"
        ),
    )
    with pytest.raises(config_lib.ConfigError, match="reward=rank"):
        bad.validate()


# --- LeakGAN -----------------------------------------------------------


def test_sorted_rescale_is_monotone_in_the_rewards():
    rng = np.random.default_rng(3)
    raw = rng.random((64, 5)).astype(np.float32)
    raw[10, 2] = raw[20, 2]  # a tie shares its value
    scaled = rewards.rescaled_activation(raw, "sorted").numpy()
    for k in range(5):
        order = np.argsort(raw[:, k], kind="stable")
        assert (np.diff(scaled[order, k]) >= 0).all()
        # Strictly increasing between distinct values.
        distinct = np.diff(raw[order, k]) > 0
        assert (np.diff(scaled[order, k])[distinct] > 0).all()
    assert scaled[10, 2] == scaled[20, 2]
    # The highest reward of 64 gets sigmoid(16 * (64/64 - 0.5)) = sigmoid(8).
    assert scaled[:, 0].max() == pytest.approx(1 / (1 + math.exp(-8)))


def test_rescale_modes_are_checked_and_none_leaves_the_rewards():
    raw = np.array([[0.9], [0.1]], np.float32)
    np.testing.assert_array_equal(
        rewards.rescaled_activation(raw, "none").numpy(), raw
    )
    with pytest.raises(ValueError, match="`mode` must be one of sorted"):
        rewards.rescaled_activation(raw, "ranked")


def test_unsorted_rescale_ignores_the_rewards_values():
    # The released code ranks distinct values in order of appearance: the
    # first row always gets the lowest value, whatever the verdicts.
    raw = np.array([[0.9], [0.1], [0.5], [0.1]], np.float32)
    scaled = rewards.rescaled_activation(raw, "unsorted").numpy()[:, 0]

    def sigmoid(rank):
        return 1 / (1 + np.exp(-16 * (rank / 4 - 0.5)))

    np.testing.assert_allclose(
        scaled, sigmoid(np.array([1, 2, 3, 2])), rtol=1e-6
    )
    # Distinct values get the same rewards by position, in any order.
    distinct = np.array([[0.9], [0.1], [0.5], [0.3]], np.float32)
    forward = rewards.rescaled_activation(distinct, "unsorted").numpy()
    flipped = rewards.rescaled_activation(distinct[::-1].copy(), "unsorted")
    np.testing.assert_allclose(flipped.numpy(), forward, rtol=1e-6)
    np.testing.assert_allclose(
        forward[:, 0], sigmoid(np.arange(1, 5)), rtol=1e-6
    )
    # With 64 distinct values the mean is a constant: LeakGAN's users
    # report the mean reward 0.12695181503855285 (this, / 4 rollouts).
    distinct = np.random.default_rng(4).random((64, 1)).astype(np.float32)
    mean = float(
        rewards.rescaled_activation(distinct, "unsorted").numpy().mean()
    )
    assert mean / 4 == pytest.approx(0.12695181503855285, rel=1e-6)


def _leakgan(seed=0, **kwargs):
    discriminator = seqgan_tf.Discriminator(
        26, 12, embedding_dim=4, filter_sizes=(2, 3), num_filters=(3, 2)
    )
    kwargs.setdefault("embedding_dim", 3)
    kwargs.setdefault("hidden_dim", 2)
    kwargs.setdefault("goal_size", 2)
    kwargs.setdefault("goal_step", 2)
    generator = seqgan_tf.LeakGANGenerator(26, 12, discriminator, **kwargs)
    rng = np.random.default_rng(seed)
    for model in (discriminator, generator):
        model.set_weights(
            [
                (0.5 * rng.standard_normal(w.shape)).astype("float32")
                for w in model.get_weights()
            ]
        )
    return generator


@pytest.mark.slow
def test_streamed_and_all_prefix_features_equal_each_prefix_alone():
    d = seqgan_tf.Discriminator(
        26,
        12,
        embedding_dim=4,
        filter_sizes=(1, 2, 3, 5, 12),
        num_filters=(3, 2, 4, 2, 3),
    )
    rng = np.random.default_rng(6)
    d.set_weights(
        [
            (0.5 * rng.standard_normal(w.shape)).astype("float32")
            for w in d.get_weights()
        ]
    )
    tokens = rng.integers(0, 26, (7, 12))
    alone = np.stack(
        [d.prefix_features(tokens, j).numpy() for j in range(13)], axis=1
    )
    # An empty prefix is not the zero sequence's feature... unless the
    # embedding of token 0 is zero: the positions after it count as empty.
    assert not np.allclose(alone[:, 0], d.features(np.zeros((1, 12))).numpy())
    np.testing.assert_allclose(
        d.prefix_features_all(tokens).numpy(), alone, rtol=1e-5, atol=1e-5
    )
    state = d.stream_start(7)
    # Length 0 (the start token): the empty prefix's feature.
    state, first = d.stream_add(state, np.zeros(7, np.int32), 0)
    streamed = [first.numpy()]
    for j in range(1, 13):
        state, feature = d.stream_add(state, tokens[:, j - 1], j)
        streamed.append(feature.numpy())
    np.testing.assert_allclose(
        np.stack(streamed, axis=1), alone, rtol=1e-5, atol=1e-5
    )


@pytest.mark.slow
def test_nll_at_temperatures_equals_nll_at_each(make_generator):
    from seqgan_tf import metrics

    generator = make_generator(seed=4)
    tokens = generator.generate(50, seed=(1, 1)).numpy()
    together = metrics.nll_at_temperatures(
        generator, tokens, [0.7, 1.0, 1.3], batch_size=25
    )
    for temperature, value in zip([0.7, 1.0, 1.3], together):
        assert value == pytest.approx(
            metrics.nll(generator, tokens, temperature=temperature), rel=1e-5
        )


def test_goal_and_worker_logits_by_hand():
    g = _leakgan()
    n, c = 3, g.goal_step
    state = g.initial_state(n)
    # Hand state: Worker h, w from a window of two projected goals.
    worker_h = np.array([[0.5, -1.0], [0.0, 2.0], [1.0, 1.0]], np.float32)
    window = np.arange(n * c * 2, dtype=np.float32).reshape(n, c, 2) / 10
    w = window.sum(1)
    hidden = np.concatenate([worker_h, w], -1)
    out = g.worker_output.numpy().reshape(2, 2, 26)  # [H, k, V]
    bias = g.worker_output_bias.numpy()  # [k, V]
    # O_t = h W_out + b_out as [V, k]; logits = O_t w.
    expected = np.stack(
        [
            (np.einsum("h,hkv->vk", worker_h[i], out) + bias.T) @ w[i]
            for i in range(n)
        ]
    )
    np.testing.assert_allclose(
        g.logits_from_hidden(hidden).numpy(), expected, rtol=1e-5, atol=1e-6
    )
    # One step: the goal is the normalised h_M W_g + b_g of the Manager's
    # LSTM on the feature; it enters the window, and w is the window's sum
    # (this goal and the c - 1 before it).
    feature = np.random.default_rng(5).standard_normal((n, 5)).astype("float32")
    given = (hidden, state[1], state[2], state[3], state[4], window)
    (new_hidden, *rest), goal = g._step(np.array([1, 2, 3]), given, feature)
    z = feature @ g.manager_kernel.numpy() + g.manager_bias.numpy()
    i, f, cand, o = np.split(z, 4, axis=-1)

    def sig(x):
        return 1 / (1 + np.exp(-x))

    cell = sig(i) * np.tanh(cand)
    manager_h = sig(o) * np.tanh(cell)
    raw_goal = manager_h @ g.goal_kernel.numpy() + g.goal_bias.numpy()
    expected_goal = raw_goal / np.linalg.norm(raw_goal, axis=-1, keepdims=True)
    np.testing.assert_allclose(
        goal.numpy(), expected_goal, rtol=1e-5, atol=1e-6
    )
    projected = expected_goal @ g.goal_projection.numpy()
    np.testing.assert_allclose(
        new_hidden.numpy()[:, 2:],
        window[:, 1] + projected,
        rtol=1e-5,
        atol=1e-6,
    )
    # The new goal, projected, enters the window last; the oldest leaves.
    new_window = rest[-1].numpy()
    np.testing.assert_allclose(new_window[:, 0], window[:, 1], rtol=1e-6)
    np.testing.assert_allclose(
        new_window[:, 1], projected, rtol=1e-5, atol=1e-6
    )
    # The earlier window: w from the c goals before this step's.
    g.goals = "previous"
    (old_hidden, *old_rest), _ = g._step(np.array([1, 2, 3]), given, feature)
    np.testing.assert_allclose(old_hidden.numpy()[:, 2:], w, rtol=1e-6)
    np.testing.assert_allclose(
        old_rest[-1].numpy(), new_window, rtol=1e-6, atol=1e-7
    )


@pytest.mark.slow
def test_sampling_uses_the_teacher_forced_probabilities():
    g = _leakgan(seed=1)
    samples = g.generate(6, seed=(3, 4))
    teacher_forced = g.log_prob(samples).numpy()
    # The sampler's own steps: each reads the feature of the prefix it
    # has written (the leak) and draws from these logits.
    state = g.initial_state(6)
    previous = tf.zeros([6], tf.int32)
    stepped = []
    for t in range(12):
        state = tuple(g.next_state(previous, state))
        log_p = tf.nn.log_softmax(g.logits_from_hidden(state[0]))
        stepped.append(tf.gather(log_p, samples[:, t], batch_dims=1).numpy())
        previous = samples[:, t]
    np.testing.assert_allclose(
        np.stack(stepped, 1), teacher_forced, rtol=1e-5, atol=1e-5
    )
    # The leak is real: other discriminator weights change the policy.
    d = g.discriminator
    d.set_weights([w * 1.5 for w in d.get_weights()])
    assert not np.allclose(g.log_prob(samples).numpy(), teacher_forced)


def _goal_windows(g, tokens):
    """For each token j of `tokens` [B, T] sampled step by step: the goal
    indices whose projected sum (slots before g_0 hold the initial goal)
    is the w_j the generator drew it with, found among all windows of c
    consecutive slots."""
    batch, length = tokens.shape
    c = g.goal_step
    goals = g.leak(tokens)["goals"].numpy()  # [B, T, F]
    initial = g.initial_goal.numpy()
    initial = initial / np.linalg.norm(initial)
    projection = g.goal_projection.numpy()

    def goal(i):
        return (
            goals[:, i]
            if i >= 0
            else np.broadcast_to(initial, goals[:, 0].shape)
        )

    state = g.initial_state(batch)
    previous = tf.zeros([batch], tf.int32)
    windows = []
    for j in range(length):
        state = tuple(g.next_state(previous, state))
        w = state[0].numpy()[:, g.hidden_dim :]
        found = [
            start
            for start in range(-c, length - c + 1)
            if np.allclose(
                sum(goal(i) for i in range(start, start + c)) @ projection,
                w,
                rtol=1e-4,
                atol=1e-5,
            )
        ]
        assert len(found) == 1, (j, found)
        windows.append({i for i in range(found[0], found[0] + c) if i >= 0})
        previous = tokens[:, j]
    return windows


@pytest.mark.parametrize("goal_step", [2, 3])
@pytest.mark.slow
def test_leakgan_goal_embedding_includes_the_current_goal(goal_step):
    # w_j sums the projected g_{j-c+1} .. g_j: the goal the Manager emits
    # on reading f_j (the prefix before token j) shapes token j.
    g = _leakgan(seed=1, goal_step=goal_step)
    tokens = g.generate(5, seed=(3, 4)).numpy()
    windows = _goal_windows(g, tokens)
    assert windows == [
        set(range(max(0, j - goal_step + 1), j + 1)) for j in range(12)
    ]
    # "previous", the earlier window: g_{j-c} .. g_{j-1}.
    g.goals = "previous"
    assert _goal_windows(g, tokens) == [
        set(range(max(0, j - goal_step), j)) for j in range(12)
    ]


def _reward_goals(goal_step, length=12):
    """For each token j: the goals its intrinsic reward depends on (a goal
    counts when perturbing it alone changes the reward)."""
    rng = np.random.default_rng(11)
    features = rng.standard_normal((3, length + 1, 5)).astype("float32")
    goals = rng.standard_normal((3, length, 5)).astype("float32")
    base = losses.leakgan_intrinsic_rewards(features, goals, goal_step)
    scored = [set() for _ in range(length)]
    for i in range(length):
        moved = goals.copy()
        moved[:, i] = rng.standard_normal((3, 5))
        changed = losses.leakgan_intrinsic_rewards(features, moved, goal_step)
        for j in np.flatnonzero(
            (np.abs(changed.numpy() - base.numpy()) > 1e-6).all(axis=0)
        ):
            scored[j].add(i)
    return scored


@pytest.mark.parametrize("goal_step", [2, 3])
@pytest.mark.slow
def test_leakgan_reward_scores_exactly_the_goals_of_w(goal_step):
    g = _leakgan(seed=2, goal_step=goal_step)
    tokens = g.generate(4, seed=(5, 6)).numpy()
    scored = _reward_goals(goal_step)
    assert _goal_windows(g, tokens) == scored
    # The earlier window scores goals that did not shape the token.
    g.goals = "previous"
    assert _goal_windows(g, tokens) != scored


LEAKGAN_REFERENCE = (
    pathlib.Path(__file__).parent / "fixtures" / "leakgan_previous_joint.npz"
)


def _leakgan_trainer(goals, leakgan_clip, **compile_arguments):
    from seqgan_tf.leakgan import LeakGAN

    generator = _leakgan(seed=7, goals=goals)
    gan = LeakGAN(
        generator,
        generator.discriminator,
        batch_size=8,
        num_negatives=16,
        num_rollouts=2,
        seed=5,
        leakgan_clip=leakgan_clip,
    )
    gan.compile(**compile_arguments)
    return gan


@pytest.mark.slow
def test_leakgan_previous_joint_is_the_earlier_code():
    # One MLE step and two policy-gradient steps from fixed weights, with
    # the earlier window and one joint clip, against what the code before
    # these settings gave (tests/fixtures/README.md). Bit-identical on the
    # machine that recorded it; the tolerance leaves another CPU's kernels
    # their rounding.
    expected = np.load(LEAKGAN_REFERENCE)

    def check(stage, gan):
        for variable in gan.generator.trainable_weights:
            np.testing.assert_allclose(
                variable.numpy(),
                expected[f"{stage}|{variable.name}"],
                rtol=1e-5,
                atol=1e-6,
                err_msg=f"{stage} {variable.name}",
            )

    gan = _leakgan_trainer("previous", "joint")
    real = np.random.default_rng(8).integers(0, 26, (8, 12)).astype("int32")
    gan.mle_step(real)
    check("mle", gan)
    gan.policy_gradient_step([1, 2], [3, 4])
    gan.policy_gradient_step([5, 6], [7, 8])
    check("pg", gan)
    np.testing.assert_array_equal(
        gan.generator.generate(8, seed=(9, 10)).numpy(), expected["samples"]
    )


@pytest.mark.parametrize("step", ["mle", "policy_gradient"])
@pytest.mark.slow
def test_leakgan_per_module_clip_keeps_the_manager_from_the_worker(
    step, monkeypatch
):
    """The Worker's loss scaled by 1000 leaves the Manager's update as it
    was with per-module clipping, and shrinks it with one joint clip."""
    import keras

    scale = tf.Variable(1.0)
    if step == "mle":
        terms = losses.mle_loss_terms

        def scaled(*args, **kwargs):
            total, count = terms(*args, **kwargs)
            return total * scale, count

        monkeypatch.setattr(losses, "mle_loss_terms", scaled)
    else:
        policy_gradient = losses.policy_gradient_loss

        def scaled(*args, **kwargs):
            loss, parts = policy_gradient(*args, **kwargs)
            return loss * scale, parts

        monkeypatch.setattr(losses, "policy_gradient_loss", scaled)
    real = np.random.default_rng(8).integers(0, 26, (8, 12)).astype("int32")
    rate, clip = 0.1, 5.0
    updates = {}

    def sgd(loss_scaled):
        optimizer = keras.optimizers.SGD(rate, global_clipnorm=clip)
        if loss_scaled:
            return keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    # "per_module" also under loss scaling (mixed float16's optimizer).
    for mode in ("per_module", "joint", "per_module_scaled"):
        scaled_loss = mode == "per_module_scaled"
        gan = _leakgan_trainer(
            "current",
            mode.removesuffix("_scaled"),
            g_optimizer=sgd(scaled_loss),
            pg_optimizer=sgd(scaled_loss),
        )
        generator = gan.generator
        start = [v.numpy() for v in generator.trainable_weights]
        for factor in (1.0, 1000.0):
            scale.assign(factor)
            for variable, value in zip(generator.trainable_weights, start):
                variable.assign(value)
            if step == "mle":
                gan.mle_step(real)
            else:
                gan.policy_gradient_step([1, 2], [3, 4])
            updates[mode, factor] = {
                variable.name: variable.numpy() - value
                for variable, value in zip(generator.trainable_weights, start)
            }
    worker = [v.name for v in generator.worker_variables]
    manager = [v.name for v in generator.manager_variables]

    def norm(update, names):
        return np.sqrt(sum(np.sum(update[n] ** 2) for n in names))

    for name in manager:
        np.testing.assert_array_equal(
            updates["per_module", 1000.0][name],
            updates["per_module", 1.0][name],
        )
    # Each module's step is its gradient clipped to the norm on its own.
    assert norm(updates["per_module", 1000.0], worker) == pytest.approx(
        rate * clip, rel=1e-4
    )
    assert norm(updates["per_module", 1.0], manager) <= rate * clip * 1.0001
    # Clipped unscaled: loss scaling changes nothing (but the rounding of
    # the weights it is added to).
    for factor in (1.0, 1000.0):
        for name in worker + manager:
            np.testing.assert_allclose(
                updates["per_module_scaled", factor][name],
                updates["per_module", factor][name],
                rtol=1e-5,
                atol=1e-7,
                err_msg=f"{name} at {factor}",
            )
    # One clip of both: the Worker's norm scales the Manager's step.
    joint = norm(updates["joint", 1000.0], manager)
    assert joint < 0.1 * norm(updates["joint", 1.0], manager)
    # (Keras' clip measures the embedding's IndexedSlices with a repeated
    # row's parts apart: the clipped norm is near, not at, the bound.)
    assert norm(updates["joint", 1000.0], worker + manager) == pytest.approx(
        rate * clip, rel=1e-2
    )


def test_leakgan_settings_are_validated_and_read_back(tmp_path):
    tiny = config_lib.for_method(config_lib.get_preset("tiny"), "leakgan")
    assert (tiny.training.leakgan_goals, tiny.training.leakgan_clip) == (
        "current",
        "per_module",
    )
    for name, value in (("leakgan_goals", "next"), ("leakgan_clip", "both")):
        bad = config_lib.with_overrides(tiny, [f"training.{name}={value}"])
        with pytest.raises(config_lib.ConfigError) as error:
            bad.validate()
        assert str(error.value).startswith(f"training.{name} must be one of")
        assert "\n" not in str(error.value)
    earlier = config_lib.with_overrides(
        tiny,
        ["training.leakgan_goals=previous", "training.leakgan_clip=joint"],
    ).validate()
    gan = experiment.build_gan(earlier, oracle=experiment.build_oracle(tiny))
    assert gan.generator.goals == "previous"
    assert gan.objective.leakgan_clip == "joint"
    # A run's config.json reads back with its values...
    run = tmp_path / "run"
    run.mkdir()
    runs.write_json(run / runs.CONFIG_FILE, earlier.to_dict())
    assert runs.load_config(run) == earlier
    runs.write_json(run / runs.CONFIG_FILE, tiny.to_dict())
    assert runs.load_config(run) == tiny
    # ... and one saved before the fields existed was trained with the
    # earlier window and clip: a LeakGAN run reads back so, any other
    # run with the defaults (which it does not read).
    for config, values in (
        (tiny, earlier.training),
        (config_lib.get_preset("tiny"), None),
    ):
        saved = config.to_dict()
        del saved["training"]["leakgan_goals"]
        del saved["training"]["leakgan_clip"]
        runs.write_json(run / runs.CONFIG_FILE, saved)
        loaded = runs.load_config(run)
        if values is None:
            assert loaded == config
        else:
            assert loaded.training == values


def test_leakgan_losses_by_hand():
    features = np.zeros((1, 4, 2), np.float32)  # f_0..f_3
    features[0, :, 0] = [0, 1, 2, 3]
    goals = np.array([[[1, 0], [0, 1], [1, 0]]], np.float32)  # g_0..g_2
    # Manager, c = 2: cos(f_2 - f_0, g_0) = 1, cos(f_3 - f_1, g_1) = 0,
    # cos(f_3 - f_2, g_2) = 1 (clamped at f_T).
    assert float(losses.leakgan_manager_loss(features, goals, 2)) == (
        pytest.approx(-2 / 3)
    )
    rewards_ = np.array([[0.5, 1.0, 0.25]], np.float32)
    assert float(
        losses.leakgan_manager_loss(features, goals, 2, rewards_)
    ) == pytest.approx(-(0.5 + 0.25) / 3)
    # Worker, token j: (1/2) sum_i cos(f_{j+1} - f_{j+1-i}, g_{j+1-i}).
    intrinsic = losses.leakgan_intrinsic_rewards(features, goals, 2).numpy()
    np.testing.assert_allclose(
        intrinsic, [[1 / 2, (0 + 1) / 2, (1 + 0) / 2]], atol=1e-6
    )


@pytest.mark.slow
def test_leakgan_trainer_saves_as_keras_and_keeps_its_leak(tmp_path):
    import keras

    from seqgan_tf.leakgan import LeakGAN

    generator = _leakgan(seed=2)
    gan = LeakGAN(
        generator,
        generator.discriminator,
        batch_size=32,
        num_negatives=64,
        leakgan_rescale="unsorted",
        interleaved_mle_steps=2,
        leakgan_clip="joint",
    )
    gan.compile()
    gan.save(tmp_path / "leakgan.keras")
    loaded = keras.saving.load_model(tmp_path / "leakgan.keras")
    assert isinstance(loaded, LeakGAN)
    assert (
        loaded.objective.leakgan_rescale,
        loaded.objective.interleaved_mle_steps,
        loaded.objective.leakgan_clip,
        loaded.generator.goals,
    ) == ("unsorted", 2, "joint", "current")
    # Saved before the settings existed: the earlier window and clip.
    config = gan.get_config()
    del config["leakgan_clip"]
    config["generator"]["config"].pop("goals")
    earlier = LeakGAN.from_config(config)
    assert earlier.objective.leakgan_clip == "joint"
    assert earlier.generator.goals == "previous"
    assert loaded.generator.discriminator is loaded.discriminator
    tokens = np.random.default_rng(0).integers(0, 26, (3, 12))
    np.testing.assert_allclose(
        loaded.generator.log_prob(tokens).numpy(),
        generator.log_prob(tokens).numpy(),
        rtol=1e-6,
    )


def test_leakgan_refuses_variable_length_text():
    config = config_lib.for_method(
        config_lib.for_dataset(config_lib.get_preset("tiny"), "coco"), "leakgan"
    )
    with pytest.raises(config_lib.ConfigError, match="add_eos=false"):
        config.validate()


# --- every method ------------------------------------------------------


def _gan(method, oracle):
    config = config_lib.for_method(config_lib.get_preset("tiny"), method)
    return experiment.build_gan(
        dataclasses.replace(
            config,
            data=dataclasses.replace(
                config.data,
                vocabulary_size=oracle.vocabulary_size,
                sequence_length=oracle.sequence_length,
            ),
        ).validate(),
        oracle=oracle,
    )


def _tiny(method):
    config = config_lib.for_method(config_lib.get_preset("tiny"), method)
    return dataclasses.replace(
        config, training=dataclasses.replace(config.training, eval_every=1)
    ).validate()


@pytest.mark.slow
@pytest.mark.parametrize("method", ["maligan", "rankgan", "leakgan"])
def test_method_resumes_exactly(method, tmp_path):
    config = _tiny(method)
    whole = tmp_path / "whole"
    experiment.train(config, whole, verbose=0, log=None)
    parts = tmp_path / "parts"
    # Stop inside the adversarial phase (epochs: 2 MLE, 1 D, 2 adversarial).
    experiment.train(config, parts, verbose=0, stop_after=4, log=None)
    experiment.train(config, parts, verbose=0, log=None)
    a = runs.read_metric_rows(whole)
    b = runs.read_metric_rows(parts)
    assert len(a) == len(b) == 5
    for row_a, row_b in zip(a, b):
        for key in ("g_loss", "mean_reward", "nll_oracle", "d_loss"):
            if row_a.get(key) not in (None, ""):
                assert float(row_a[key]) == pytest.approx(
                    float(row_b[key]), rel=1e-4, abs=1e-6
                ), (method, key)
    assert a[-1]["mean_reward"] not in (None, "")
    whole_run = experiment.restore_run(whole)
    resumed = experiment.restore_run(parts)
    for x, y in zip(
        whole_run.gan.generator.get_weights(),
        resumed.gan.generator.get_weights(),
    ):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)
    if method == "leakgan":
        _serves_without_this_package(whole_run, tmp_path)
    else:
        # MaliGAN and RankGAN train SeqGAN's generator: the class whose
        # export tests/test_export.py serves without this package.
        assert type(whole_run.gan.generator) is seqgan_tf.Generator


def _serves_without_this_package(run, tmp_path):
    """The exported LeakGAN generator (its discriminator inside) samples
    through the TF1 session loader in a process without keras or
    seqgan_tf, exactly as in process."""
    from test_export import LOADERS_SCRIPT

    from seqgan_tf import export

    exported = export.export_run(run, tmp_path / "models", "leakgan")
    cli_path = pathlib.Path(sys.executable).with_name("saved_model_cli")
    process = subprocess.run(
        [sys.executable, "-c", LOADERS_SCRIPT, str(exported), str(cli_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    generator = run.gan.generator
    line = [
        text
        for text in process.stdout.splitlines()
        if text.startswith("RESULT ")
    ]
    result = json.loads(line[-1][len("RESULT ") :])
    expected = generator.generate(3, seed=(1, 2)).numpy().tolist()
    assert result["tf1_3"] == result["tf2"] == expected
    np.testing.assert_allclose(
        result["tf1_log_prob"],
        generator.log_prob(np.array(expected)).numpy().sum(1),
        rtol=1e-5,
    )
    assert not result["keras_imported"] and not result["seqgan_tf_imported"]
