"""The one sampler: generation, prefix completion and Monte Carlo rollouts.

A `tf.while_loop` over positions with stateless randomness folded per step.
Every draw is addressed by a global row id (see `sample`), so a batch split
across replicas (or CPU threads) samples exactly what it would unsplit.
"""

from __future__ import annotations

import math
import typing
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

if TYPE_CHECKING:
    from collections.abc import Iterator

    import keras
    from numpy.typing import ArrayLike


class SamplerModel(typing.Protocol):
    """What `sample` needs of a model: one recurrent step at a time.

    `Generator`, `OracleLSTM` and `LeakGANGenerator` provide it. `eos_id`
    / `pad_id` may be absent or None for fixed-length sequences.

    Examples:
        One step by hand, as `sample` takes it:

        >>> import tensorflow as tf
        >>> import seqgan_tf
        >>> generator = seqgan_tf.Generator(20, 6)  # a SamplerModel
        >>> state = generator.initial_state(3)
        >>> start = tf.fill([3], generator.start_token)
        >>> state = generator.next_state(start, state)
        >>> generator.logits_from_hidden(state[0]).shape  # the first token's
        TensorShape([3, 20])
    """

    sequence_length: int
    start_token: int

    def initial_state(
        self, batch_size: int | tf.Tensor
    ) -> tuple[tf.Tensor, ...]:
        """The recurrent state before the first token: a tuple of tensors
        with the batch first, whose first element is the hidden output
        the next token is drawn from (`(h, c)` for an LSTM)."""

    def next_state(
        self, token_ids: tf.Tensor, state: tuple[tf.Tensor, ...]
    ) -> tuple[tf.Tensor, ...]:
        """Feeds `token_ids` [N]; returns the next state (same structure)."""

    def logits_from_hidden(self, hidden: tf.Tensor) -> tf.Tensor:
        """Logits [N, V] of the next token from the hidden output
        `state[0]` [N, H]."""


# Vocabularies at least this large are searched in two levels (blocks, then
# the tokens of one block), which avoids a cumulative sum over every logit.
TWO_LEVEL_MIN_CLASSES = 512


# The smallest sampling temperature: lower ones sample as this one, which
# draws the most likely token (logits that differ by 1e-4 differ by 100
# after division, a factor e^100 in probability).
MIN_TEMPERATURE = 1e-6


def block_size(num_classes):
    """Tokens per block of the two-level search (None: one level).

    A divisor of `num_classes` near its square root when there is one (no
    padding), else the rounded-up square root (the last block is padded
    with zero weights)."""
    if num_classes is None or num_classes < TWO_LEVEL_MIN_CLASSES:
        return None
    root = math.sqrt(num_classes)
    divisors = [
        d
        for d in range(math.ceil(root / 2), math.floor(2 * root) + 1)
        if num_classes % d == 0
    ]
    if divisors:
        return min(divisors, key=lambda d: abs(d - root))
    return math.ceil(root)


def draw(logits: ArrayLike, uniforms: ArrayLike) -> tf.Tensor:
    """Inverse-CDF categorical draws: one token per row of `logits`.

    Row `i` draws the token whose interval of the unnormalised float32
    cumulative distribution of `exp(logits - max)` holds `(1 - uniforms[i])`
    times the total (in (0, total]). With at least `TWO_LEVEL_MIN_CLASSES`
    classes the search runs in two levels: over block sums of
    `block_size(V)` tokens, then inside the chosen block (a full cumulative
    sum over [N, V] costs three times the categorical draw; this costs
    about the same). Tokens of probability 0 are never drawn.

    Each row depends only on its own logits and uniform: the result does
    not depend on how rows are batched, split across replicas or sharded
    across CPU threads (`tf.random.stateless_categorical`'s does).

    Args:
        logits: float [N, V].
        uniforms: float32 [N] in [0, 1).

    Returns:
        int32 [N] token ids.

    Examples:
        >>> import tensorflow as tf
        >>> from seqgan_tf import sampler
        >>> logits = tf.math.log([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
        >>> sampler.draw(logits, [0.7, 0.7]).numpy()
        array([0, 2], dtype=int32)
        >>> sampler.draw(logits, [0.2, 0.2]).numpy()
        array([1, 2], dtype=int32)
    """
    logits = tf.cast(logits, tf.float32)
    weights = tf.exp(logits - tf.reduce_max(logits, axis=-1, keepdims=True))
    share = 1.0 - tf.cast(uniforms, tf.float32)
    num_classes = logits.shape[-1]
    block = block_size(num_classes)
    if block is None:
        cdf = tf.cumsum(weights, axis=-1)
        return _count_below(cdf, share * cdf[:, -1])
    num_blocks = -(-num_classes // block)
    if num_blocks * block != num_classes:
        weights = tf.pad(
            weights, [[0, 0], [0, num_blocks * block - num_classes]]
        )
    blocks = tf.reshape(weights, [-1, num_blocks, block])
    block_cdf = tf.cumsum(tf.reduce_sum(blocks, axis=-1), axis=-1)
    goal = share * block_cdf[:, -1]  # <= the total: the last block at most.
    chosen = _count_below(block_cdf, goal)
    # goal > block_cdf[chosen - 1] strictly, so the goal inside the block
    # is > 0; clamped to the block's own total, zero weights at its end (or
    # the padding) cannot be drawn whatever the rounding.
    before = tf.where(
        chosen > 0,
        tf.gather(block_cdf, tf.maximum(chosen - 1, 0), batch_dims=1),
        0.0,
    )
    inner = tf.cumsum(tf.gather(blocks, chosen, batch_dims=1), axis=-1)
    inner_goal = tf.minimum(goal - before, inner[:, -1])
    return chosen * block + _count_below(inner, inner_goal)


# Rows draw their tokens in chunks of at most this many, several chunks at
# once: TensorFlow's CPU kernels run the element-wise passes over a
# [rows, V] logits tensor (subtract, exp, max, sums) on few threads, so
# concurrent chunks use the other cores, and a chunk's logits stay in
# cache between the passes. Every row is drawn as it would be alone.
DRAW_CHUNK_ROWS = 1024
DRAW_PARALLEL_CHUNKS = 4


def draw_from_hidden(model, hidden, uniforms, scale=None):
    """`draw` of `model.logits_from_hidden(hidden)` (passed through `scale`,
    e.g. a temperature), in chunks of at most `DRAW_CHUNK_ROWS` rows run
    concurrently. Equal to the unchunked draw row for row.

    Args:
        model: a `SamplerModel`.
        hidden: [N, H] hidden outputs (N may be 0 or unknown).
        uniforms: float32 [N] in [0, 1).
        scale: optional function of the float32 [n, V] logits.

    Returns:
        int32 [N] token ids.
    """
    num_rows = tf.shape(hidden)[0]
    chunks = tf.maximum(-(-num_rows // DRAW_CHUNK_ROWS), 1)
    per_chunk = -(-num_rows // chunks)
    padding = chunks * per_chunk - num_rows
    hidden = tf.reshape(
        tf.pad(hidden, [[0, padding], [0, 0]]),
        [chunks, per_chunk, hidden.shape[-1]],
    )
    uniforms = tf.reshape(tf.pad(uniforms, [[0, padding]]), [chunks, -1])

    def one_chunk(args):
        rows, row_uniforms = args
        logits = tf.cast(model.logits_from_hidden(rows), tf.float32)
        if scale is not None:
            logits = scale(logits)
        return draw(logits, row_uniforms)

    drawn = tf.map_fn(
        one_chunk,
        (hidden, uniforms),
        fn_output_signature=tf.int32,
        parallel_iterations=DRAW_PARALLEL_CHUNKS,
    )
    return tf.reshape(drawn, [-1])[:num_rows]


def _count_below(cdf, goal):
    """Per row, how many entries of the non-decreasing `cdf` are < `goal`."""
    return tf.searchsorted(cdf, goal[:, None], side="left", out_type=tf.int32)[
        :, 0
    ]


def sample(
    model: SamplerModel,
    prefix: ArrayLike,
    prefix_length: ArrayLike,
    seed: ArrayLike,
    temperature: float | tf.Tensor = 1.0,
    row_ids: ArrayLike | None = None,
    num_global_rows: int | tf.Tensor | None = None,
) -> tf.Tensor:
    """Samples every position of each row at or after its prefix length.

    Rows keep `prefix[i, :prefix_length[i]]` and sample the rest from `model`,
    any object with the `Generator` step interface (`initial_state`,
    `next_state`, `logits_from_hidden`, `start_token`). The LSTM state is
    advanced for every row at every step, but the output projection and the
    categorical draw, which dominate the cost with a large vocabulary, run
    only for the rows that sample at that position: a rollout batch whose
    prefixes cover lengths 1..T-1 pays for half the draws a masked sampler
    would.

    When `model.eos_id` is not None (variable-length sequences), a row
    that has produced EOS, or was given it in its prefix, emits
    `model.pad_id` at every later sampled position; prefix positions are
    kept as given. The draws themselves (and so every other token) are
    the same as without it. With `eos_id` None the loop is unchanged.

    Args:
        model: a `Generator` (or `OracleLSTM`).
        prefix: int32 [N, T] token ids.
        prefix_length: int32 [N] number of leading tokens to keep per row.
        seed: int32 [2] stateless seed; folded with the position index.
        temperature: float32 scalar > 0 (values below `MIN_TEMPERATURE`
            sample as `MIN_TEMPERATURE`: the most likely token).
        row_ids: optional int32 [N], the global index of each row in
            [0, num_global_rows) (default: `range(N)`). The draw of a row
            at a position reads the uniform at its global index, from
            `num_global_rows` uniforms of the step's seed: a batch split
            into parts, each given its rows' global ids, samples exactly
            what the whole batch does (same weights and seed assumed).
        num_global_rows: int32 scalar > max(row_ids) (default: N).

    Returns:
        int32 [N, T] token ids.

    Examples:
        >>> import tensorflow as tf
        >>> import seqgan_tf
        >>> from seqgan_tf import sampler
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> prefix = tf.constant([[3, 4, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0]])
        >>> tokens = sampler.sample(generator, prefix, [2, 1], seed=(0, 1))
        >>> tokens.shape
        TensorShape([2, 6])
        >>> tokens[0, :2].numpy(), tokens[1, :1].numpy()  # kept
        (array([3, 4], dtype=int32), array([5], dtype=int32))

        Row 0 alone, addressed as row 0 of 2, samples what it did in the
        batch:

        >>> alone = sampler.sample(generator, prefix[:1], [2], (0, 1),
        ...                        row_ids=[0], num_global_rows=2)
        >>> bool(tf.reduce_all(alone == tokens[:1]))
        True
    """
    prefix = tf.convert_to_tensor(prefix, tf.int32)
    prefix_length = tf.convert_to_tensor(prefix_length, tf.int32)
    seed = tf.convert_to_tensor(seed, tf.int32)
    temperature = tf.cast(temperature, tf.float32)
    num_rows = tf.shape(prefix)[0]
    length = prefix.shape[1]
    if row_ids is None:
        row_ids = tf.range(num_rows)
    row_ids = tf.convert_to_tensor(row_ids, tf.int32)
    if num_global_rows is None:
        num_global_rows = num_rows
    num_global_rows = tf.reshape(
        tf.convert_to_tensor(num_global_rows, tf.int32), [1]
    )

    # Dividing [rows, vocabulary] logits by the temperature is a full extra
    # pass over the largest tensor of the loop (~15% of sampling time at
    # V=5000); at temperature 1 it changes no bit, so it is skipped (known
    # at trace time for a constant temperature, else decided per step).
    static_one = tf.get_static_value(temperature) == 1.0
    # Below MIN_TEMPERATURE the draw is the argmax in practice; clamping
    # keeps logits / temperature finite (1e-40 would make them inf and
    # every draw NaN).
    temperature = tf.maximum(temperature, MIN_TEMPERATURE)

    def scale(logits):
        if static_one:
            return logits
        return tf.cond(
            temperature == 1.0, lambda: logits, lambda: logits / temperature
        )

    # Position-major so each step reads and writes one row of the buffer.
    prefix_t = tf.transpose(prefix)
    state = model.initial_state(num_rows)
    previous = tf.fill([num_rows], tf.cast(model.start_token, tf.int32))
    tokens = tf.TensorArray(tf.int32, size=length, element_shape=[None])

    # Variable-length sequences: once a row holds EOS (sampled or given),
    # its later sampled positions are PAD. Decided at trace time, so the
    # fixed-length loop carries only an unused flag.
    eos_id = getattr(model, "eos_id", None)
    pad_id = getattr(model, "pad_id", 0)

    def body(position, previous, state, tokens, finished):
        state = tuple(model.next_state(previous, state))
        sampling = tf.where(prefix_length <= position)[:, 0]
        step_seed = tf.random.experimental.stateless_fold_in(seed, position)
        uniforms = tf.random.stateless_uniform(num_global_rows, seed=step_seed)
        drawn = draw_from_hidden(
            model,
            tf.gather(state[0], sampling),
            tf.gather(uniforms, tf.gather(row_ids, sampling)),
            scale,
        )
        if eos_id is not None:
            drawn = tf.where(tf.gather(finished, sampling), pad_id, drawn)
        current = tf.tensor_scatter_nd_update(
            prefix_t[position], sampling[:, None], drawn
        )
        if eos_id is not None:
            finished = tf.logical_or(finished, tf.equal(current, eos_id))
        tokens = tokens.write(position, current)
        return position + 1, current, state, tokens, finished

    _, _, _, tokens, _ = tf.while_loop(
        lambda position, *_: position < length,
        body,
        (
            tf.constant(0),
            previous,
            tuple(state),
            tokens,
            tf.zeros([num_rows], tf.bool),
        ),
        maximum_iterations=length,
    )
    return tf.transpose(tokens.stack())


def sample_chunks(
    model: keras.Model,
    num_samples: int,
    seed: ArrayLike = (0, 0),
    batch_size: int = 4096,
    temperature: float = 1.0,
) -> Iterator[tf.Tensor]:
    """Yields `num_samples` sequences of `model.generate` (a generator) as
    int32 tensors of at most `batch_size` rows; chunk `i` is drawn with
    `seed` folded by `i`, so the samples depend on `batch_size` but on
    nothing else.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import sampler
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> chunks = sampler.sample_chunks(generator, 10, batch_size=4)
        >>> [chunk.shape[0] for chunk in chunks]
        [4, 4, 2]
    """
    if num_samples < 1:
        raise ValueError(f"`num_samples` must be >= 1, got {num_samples}.")
    seed = tf.convert_to_tensor(seed, tf.int32)
    for index, start in enumerate(range(0, num_samples, batch_size)):
        count = min(batch_size, num_samples - start)
        yield model.generate(
            count,
            seed=tf.random.experimental.stateless_fold_in(seed, index),
            temperature=temperature,
        )


def sample_many(
    model: keras.Model,
    num_samples: int,
    seed: ArrayLike = (0, 0),
    batch_size: int = 4096,
    temperature: float = 1.0,
) -> np.ndarray:
    """`num_samples` sequences from `model` (a generator) as an int32 NumPy
    array [num_samples, T], drawn `batch_size` at a time
    (`sample_chunks`).

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import sampler
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> samples = sampler.sample_many(generator, 10, seed=(0, 1))
        >>> samples.shape, samples.dtype
        ((10, 6), dtype('int32'))
    """
    return np.concatenate(
        [
            chunk.numpy()
            for chunk in sample_chunks(
                model, num_samples, seed, batch_size, temperature
            )
        ],
        axis=0,
    )
