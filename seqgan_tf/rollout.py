"""Monte Carlo rollout rewards: the discriminator's verdict passed to each
token. All (rollouts x prefixes x batch) completions are sampled and scored
as one batch.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf import sampler
from seqgan_tf.data.masks import padding_mask as make_padding_mask

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from seqgan_tf.sampler import SamplerModel


def rows_per_chunk(num_rollouts, sequence_length, batch_size, chunk_size):
    """Rollouts per chunk: the largest divisor of `num_rollouts` whose
    `rollouts * (T - 1) * B` completions fit in `chunk_size` (at least 1)."""
    per_rollout = max(1, (sequence_length - 1) * batch_size)
    best = 1
    for k in range(1, num_rollouts + 1):
        if num_rollouts % k == 0 and k * per_rollout <= chunk_size:
            best = k
    return best


class Scorer(typing.Protocol):
    """What rewards a complete sequence: int32 [N, T] -> float32 [N].

    Any callable will do (a function, `Discriminator.predict_real`). A
    scorer may also offer `score_completions(token_ids, completions)`,
    scoring completions laid out [R, T - 1, B, T] (rollout, prefix length,
    batch row) into [R, T - 1, B] and equal to calling it on each; then
    `rollout_rewards` uses it (see `Discriminator.scorer`, which reuses the
    convolutions of the shared prefixes).

    Examples:
        >>> import tensorflow as tf
        >>> def ones(token_ids):  # a Scorer: how many 1s a sequence holds
        ...     return tf.reduce_sum(tf.cast(token_ids == 1, tf.float32), 1)
        >>> ones(tf.constant([[1, 1, 2], [2, 2, 2]])).numpy()
        array([2., 0.], dtype=float32)
    """

    def __call__(self, token_ids: tf.Tensor) -> tf.Tensor:
        """Rewards of complete sequences [N, T] -> [N]."""


def rollout_rewards(
    policy: SamplerModel,
    scorer: Scorer,
    token_ids: ArrayLike,
    seed: ArrayLike,
    num_rollouts: int = 16,
    chunk_size: int = 4096,
    temperature: float = 1.0,
    share_prefix: bool = True,
    padding_mask: ArrayLike | None = None,
    batch_row_offset: int | tf.Tensor = 0,
    global_batch_size: int | None = None,
    prefix_lengths: Sequence[int] | None = None,
) -> tf.Tensor:
    """Per-token rewards of complete sequences, as in the SeqGAN authors' code.

    For `t < T` the reward of token `t` (1-based) is the mean over
    `num_rollouts` of `scorer` on the prefix `y_1..y_t` completed by
    sampling from `policy`; the reward of token `T` is `scorer(y)` itself.
    Completions of every prefix length and every rollout share one sampler
    call per chunk; chunks loop in a `tf.while_loop` so memory stays bounded
    by `chunk_size` completions.

    Args:
        policy: the rollout policy, a `Generator` (the one being trained, as
            the authors' code really does, or a delayed copy).
        scorer: a `Scorer`: maps int32 [N, T] token ids to float32 [N]
            rewards, e.g. `discriminator.scorer`.
        token_ids: int32 [B, T] the sequences to reward.
        seed: int32 [2] stateless seed.
        num_rollouts: Monte Carlo samples per prefix.
        chunk_size: upper bound on completions sampled and scored at once.
        temperature: sampling temperature of the rollouts.
        share_prefix: use the scorer's `score_completions` when it
            offers one (same rewards, less work). False scores every
            completion from scratch.
        padding_mask: optional bool [B, T]; rewards where it is False are
            exactly 0. When None and `policy.eos_id` is not None
            (variable-length sequences), it is the mask of `token_ids`
            (`seqgan_tf.data.padding_mask`: False after the first EOS).
            When None and `eos_id` is None, nothing is masked.
        batch_row_offset: int (or int32 scalar tensor). The global index of
            `token_ids[0]` when `token_ids` is one replica's slice of a
            global batch of `global_batch_size` rows (default 0).
        global_batch_size: the global batch size (default B).
        prefix_lengths: optional increasing ints in [1, T - 1]: roll out
            only these prefixes (LeakGAN's every c-th token). The result
            is then [B, len(prefix_lengths) + 1]: the reward of each given
            prefix, then `scorer(y)`; completions are scored one by one
            (no `score_completions`).

    Every completion's draws are addressed by a global row id (see
    `seqgan_tf.sampler.sample`): completion (rollout `r`, prefix length
    `t`, batch row `b`) has id `(r * (T - 1) + t - 1) * global_batch_size +
    batch_row_offset + b`, from one seed for all chunks. So the rewards of a
    row depend only on the seed, the weights, the sequence and its global
    index: not on `chunk_size`, nor on how the batch is split across
    replicas.

    Returns:
        float32 [B, T] rewards.

    Examples:
        >>> import tensorflow as tf
        >>> import seqgan_tf
        >>> from seqgan_tf import rollout
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> def ones(token_ids):
        ...     return tf.reduce_sum(tf.cast(token_ids == 1, tf.float32), 1)
        >>> token_ids = generator.generate(3, seed=(0, 1))
        >>> rewards = rollout.rollout_rewards(
        ...     generator, ones, token_ids, seed=(2, 3), num_rollouts=4)
        >>> rewards.shape
        TensorShape([3, 6])
        >>> bool(tf.reduce_all(rewards[:, -1] == ones(token_ids)))  # the last
        True
    """
    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    # Rewards of given prefix lengths are per block, not per position:
    # there is no [B, T] mask to apply to them.
    mask = (
        None
        if prefix_lengths is not None
        else _rollout_mask(policy, token_ids, padding_mask)
    )

    def masked(rewards):
        if mask is None:
            return rewards
        return tf.where(mask, rewards, tf.zeros_like(rewards))

    seed = tf.convert_to_tensor(seed, tf.int32)
    length = token_ids.shape[1]
    batch_size = token_ids.shape[0]
    if batch_size is None:
        raise ValueError("`rollout_rewards` needs a static batch size.")
    if num_rollouts < 1:
        raise ValueError(f"`num_rollouts` must be >= 1, got {num_rollouts}.")
    global_batch_size = (
        batch_size if global_batch_size is None else int(global_batch_size)
    )
    if global_batch_size < batch_size:
        raise ValueError(
            f"`global_batch_size` ({global_batch_size}) is smaller than the "
            f"batch ({batch_size})."
        )
    final = tf.cast(scorer(token_ids), tf.float32)
    if length == 1:
        return masked(final[:, None])
    score_completions = (
        getattr(scorer, "score_completions", None) if share_prefix else None
    )
    if prefix_lengths is None:
        given = list(range(1, length))
    else:
        given = [int(p) for p in prefix_lengths]
        if (
            not given
            or given != sorted(set(given))
            or not (1 <= given[0] and given[-1] < length)
        ):
            raise ValueError(
                "`prefix_lengths` must be increasing ints in [1, "
                f"{length - 1}], got {prefix_lengths}."
            )
        score_completions = None
    slots_per_rollout = len(given)
    per_chunk = rows_per_chunk(
        num_rollouts, slots_per_rollout + 1, batch_size, chunk_size
    )
    num_chunks = num_rollouts // per_chunk
    # Row layout [rollout, prefix length, batch]: prefix lengths `given`.
    prefixes = tf.tile(token_ids, [per_chunk * slots_per_rollout, 1])
    prefix_length = tf.tile(
        tf.repeat(tf.constant(given, tf.int32), batch_size), [per_chunk]
    )
    # Global row ids of chunk 0, same layout; chunk c adds c * rows_per_id.
    batch_rows = tf.cast(batch_row_offset, tf.int32) + tf.range(
        batch_size, dtype=tf.int32
    )
    slots = tf.range(per_chunk * slots_per_rollout, dtype=tf.int32)
    base_ids = tf.reshape(
        slots[:, None] * global_batch_size + batch_rows[None, :], [-1]
    )
    ids_per_chunk = per_chunk * slots_per_rollout * global_batch_size
    num_global_rows = num_rollouts * slots_per_rollout * global_batch_size

    def body(chunk, total):
        completed = sampler.sample(
            policy,
            prefixes,
            prefix_length,
            seed,
            temperature,
            row_ids=base_ids + chunk * ids_per_chunk,
            num_global_rows=num_global_rows,
        )
        if score_completions is not None:
            completed = tf.reshape(
                completed, [per_chunk, length - 1, batch_size, length]
            )
            scores = score_completions(token_ids, completed)
        else:
            scores = scorer(completed)
        scores = tf.reshape(
            tf.cast(scores, tf.float32),
            [per_chunk, slots_per_rollout, batch_size],
        )
        return chunk + 1, total + tf.reduce_sum(scores, axis=0)

    _, total = tf.while_loop(
        lambda chunk, _: chunk < num_chunks,
        body,
        (
            tf.constant(0),
            tf.zeros([slots_per_rollout, batch_size], tf.float32),
        ),
        maximum_iterations=num_chunks,
    )
    intermediate = tf.transpose(total) / float(num_rollouts)
    return masked(tf.concat([intermediate, final[:, None]], axis=1))


def _rollout_mask(policy, token_ids, padding_mask):
    if padding_mask is not None:
        return tf.cast(padding_mask, tf.bool)
    eos_id = getattr(policy, "eos_id", None)
    if eos_id is None:
        return None
    return make_padding_mask(token_ids, eos_id)


def naive_rollout_rewards(
    policy: SamplerModel,
    scorer: Scorer,
    token_ids: ArrayLike,
    seed: ArrayLike,
    num_rollouts: int = 16,
    temperature: float = 1.0,
    batch_row_offset: int | tf.Tensor = 0,
    global_batch_size: int | None = None,
) -> tf.Tensor:
    """Reference loop shaped like the authors' `get_reward`: one sampler call
    and one score call per (rollout, prefix length). Slow by design; used by
    the benchmark and the tests, never by training.

    `batch_row_offset` / `global_batch_size` address the draws of a slice
    of a global batch as `rollout_rewards` does: the rewards of a row do not
    depend on how the batch is split (its seeds differ from
    `rollout_rewards`', so the two agree in distribution, not sample by
    sample)."""
    token_ids = tf.convert_to_tensor(token_ids, tf.int32)
    batch_size, length = token_ids.shape
    seed = tf.convert_to_tensor(seed, tf.int32)
    sums = [tf.zeros([batch_size]) for _ in range(length - 1)]
    for rollout in range(num_rollouts):
        for given in range(1, length):
            step_seed = tf.random.experimental.stateless_fold_in(
                seed, rollout * length + given
            )
            if global_batch_size is None and batch_row_offset == 0:
                completed = policy.complete(
                    token_ids, given, seed=step_seed, temperature=temperature
                )
            else:
                completed = sampler.sample(
                    policy,
                    token_ids,
                    tf.fill([batch_size], given),
                    step_seed,
                    temperature,
                    row_ids=batch_row_offset + tf.range(batch_size),
                    num_global_rows=global_batch_size or batch_size,
                )
            sums[given - 1] += tf.cast(scorer(completed), tf.float32)
    rewards = [s / float(num_rollouts) for s in sums]
    rewards.append(tf.cast(scorer(token_ids), tf.float32))
    rewards = tf.stack(rewards, axis=1)
    mask = _rollout_mask(policy, token_ids, None)
    if mask is not None:
        rewards = tf.where(mask, rewards, tf.zeros_like(rewards))
    return rewards
