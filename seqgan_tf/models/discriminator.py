"""The SeqGAN discriminator: a CNN text classifier whose P(real) is the reward.

Filters of many widths, max over time, highway, dropout, 2-way output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import ops

from seqgan_tf import paper

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    import numpy as np
    import tensorflow as tf
    from numpy.typing import ArrayLike


@keras.saving.register_keras_serializable(package="seqgan_tf")
class Discriminator(keras.Model):
    """CNN over token embeddings that tells real sequences from generated ones.

    Each width in `filter_sizes` is a `Conv1D` over the `[B, T, E]` embedded
    sequence (the embedding dimensions are the channels, which equals the
    authors' conv2d over a one-channel `[B, T, E, 1]` image and runs much
    faster), followed by ReLU and a max over time. The pooled features pass
    through `highway_layers` highway layers (gate bias -2 as in the authors'
    code), dropout, and a dense layer to two logits: index 0 is "generated",
    index 1 is "real". `l2_reg` is the authors' coefficient on
    `tf.nn.l2_loss` (half the sum of squares) of the output layer's kernel
    and bias, added through Keras regularizers.

    Widths longer than `sequence_length` are rejected: such a filter has no
    valid window.

    Args:
        vocabulary_size: number of token ids.
        sequence_length: length of the input sequences.
        embedding_dim: size of the token embedding (U(-1, 1) init).
        filter_sizes: convolution widths (default: the paper's twelve,
            1 to 20).
        num_filters: the number of filters of each width (default: the
            paper's, 100 to 200).
        highway_layers: number of highway layers.
        dropout: dropout rate before the output layer (the authors' keep
            probability 0.75 is a rate of 0.25); off outside training.
        l2_reg: L2 coefficient on the output layer.
        pad_id: when set (variable-length sequences), the embeddings of
            positions holding `pad_id` are zeroed before the convolutions,
            so padding carries no learned signal. None (default): every
            position is embedded as is.
        highway_gate_bias: the initial bias of the highway gates (-2, the
            authors'; RankGAN's ranker uses 0).
        **kwargs: `keras.Model`'s: `name`, and `dtype`, the Keras dtype
            policy (e.g. "mixed_bfloat16"; default: the global policy).
            Every layer takes it but the output layer, which always
            computes in float32.

    Examples:
        >>> import seqgan_tf
        >>> import tensorflow as tf
        >>> discriminator = seqgan_tf.Discriminator(
        ...     vocabulary_size=20, sequence_length=6,
        ...     filter_sizes=(2, 3), num_filters=(4, 4),
        ... )
        >>> token_ids = tf.constant([[3, 4, 5, 6, 7, 8], [9, 9, 9, 9, 9, 9]])
        >>> discriminator(token_ids).shape  # logits: generated, real
        TensorShape([2, 2])
        >>> p_real = discriminator.predict_real(token_ids)  # the reward
        >>> p_real.shape, p_real.dtype
        (TensorShape([2]), tf.float32)
    """

    def __init__(
        self,
        vocabulary_size: int,
        sequence_length: int,
        embedding_dim: int = 64,
        filter_sizes: Sequence[int] = paper.FILTER_SIZES,
        num_filters: Sequence[int] = paper.NUM_FILTERS,
        highway_layers: int = 1,
        dropout: float = 0.25,
        l2_reg: float = 0.2,
        pad_id: int | None = None,
        highway_gate_bias: float = -2.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        filter_sizes = tuple(int(w) for w in filter_sizes)
        num_filters = tuple(int(n) for n in num_filters)
        if len(filter_sizes) != len(num_filters) or not filter_sizes:
            raise ValueError(
                "`filter_sizes` and `num_filters` must be non-empty and of the "
                f"same length, got {len(filter_sizes)} and {len(num_filters)}."
            )
        for name, value in [
            ("vocabulary_size", vocabulary_size),
            ("sequence_length", sequence_length),
            ("embedding_dim", embedding_dim),
        ]:
            if int(value) < 1:
                raise ValueError(
                    f"`{name}` must be a positive integer, got {value}."
                )
        bad = [w for w in filter_sizes if not 1 <= w <= int(sequence_length)]
        if bad or min(num_filters) < 1:
            raise ValueError(
                f"Every filter width must be in [1, sequence_length="
                f"{sequence_length}] and every filter count positive; got "
                f"filter_sizes={filter_sizes}, num_filters={num_filters}."
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1), got {dropout}.")
        if pad_id is not None and not 0 <= int(pad_id) < int(vocabulary_size):
            raise ValueError(
                f"`pad_id` must be None or in [0, vocabulary_size="
                f"{vocabulary_size}), got {pad_id}."
            )
        self.vocabulary_size = int(vocabulary_size)
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.filter_sizes = filter_sizes
        self.num_filters = num_filters
        self.highway_layers = int(highway_layers)
        self.dropout = float(dropout)
        self.l2_reg = float(l2_reg)
        self.pad_id = None if pad_id is None else int(pad_id)
        self.highway_gate_bias = float(highway_gate_bias)

        self.embedding = keras.layers.Embedding(
            self.vocabulary_size,
            self.embedding_dim,
            embeddings_initializer=keras.initializers.RandomUniform(-1.0, 1.0),
            dtype=self.dtype_policy,
            name="embedding",
        )
        self.convolutions = [
            keras.layers.Conv1D(
                filters,
                width,
                activation="relu",
                kernel_initializer=keras.initializers.TruncatedNormal(
                    stddev=0.1
                ),
                bias_initializer=keras.initializers.Constant(0.1),
                dtype=self.dtype_policy,
                name=f"conv_{width}",
            )
            for width, filters in zip(self.filter_sizes, self.num_filters)
        ]
        features = sum(self.num_filters)
        self.highway_transforms = [
            keras.layers.Dense(
                features,
                activation="relu",
                dtype=self.dtype_policy,
                name=f"highway_{i}",
            )
            for i in range(self.highway_layers)
        ]
        self.highway_gates = [
            keras.layers.Dense(
                features,
                activation="sigmoid",
                bias_initializer=keras.initializers.Constant(
                    self.highway_gate_bias
                ),
                dtype=self.dtype_policy,
                name=f"highway_gate_{i}",
            )
            for i in range(self.highway_layers)
        ]
        self.dropout_layer = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.output_layer = self._make_head()
        self.build((None, self.sequence_length))

    def _make_head(self):
        """The layer on the features: two logits (a subclass without a
        classifier, the `Ranker`, returns None)."""
        # tf.nn.l2_loss is sum(x**2) / 2; Keras' L2(l) is l * sum(x**2).
        regularizer = keras.regularizers.L2(self.l2_reg / 2.0)
        return keras.layers.Dense(
            2,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.1),
            bias_initializer=keras.initializers.Constant(0.1),
            kernel_regularizer=regularizer,
            bias_regularizer=regularizer,
            # float32 logits under a mixed-precision policy.
            dtype="float32",
            name="output",
        )

    def build(self, input_shape):
        self.embedding.build(input_shape)
        for conv in self.convolutions:
            conv.build((None, self.sequence_length, self.embedding_dim))
        features = sum(self.num_filters)
        for layer in self.highway_transforms + self.highway_gates:
            layer.build((None, features))
        if self.output_layer is not None:
            self.output_layer.build((None, features))
        self.built = True

    def _embed(self, token_ids):
        # With `pad_id` set, PAD positions embed to zero vectors.
        embedded = self.embedding(token_ids)
        if self.pad_id is None:
            return embedded
        keep = ops.cast(ops.not_equal(token_ids, self.pad_id), embedded.dtype)
        return embedded * keep[..., None]

    def call(
        self, token_ids: tf.Tensor | np.ndarray, training: bool = False
    ) -> tf.Tensor:
        """The two logits [N, 2] of `token_ids` [N, T]: index 0
        "generated", index 1 "real"."""
        return self.output_layer(self.features(token_ids, training=training))

    def features(
        self, token_ids: tf.Tensor | np.ndarray, training: bool = False
    ) -> tf.Tensor:
        """The features the head reads, [N, sum(num_filters)]: max over
        time of each convolution, then the highway layers and dropout."""
        return self._highway(self._pooled(token_ids), training=training)

    def prefix_features(
        self, token_ids: ArrayLike, lengths: ArrayLike
    ) -> tf.Tensor:
        """`features` (dropout off) of each row's first `lengths` tokens:
        the positions after a row's prefix embed to zero vectors, so the
        sequence read is the prefix with nothing after it. LeakGAN's
        generator reads these features while it samples.

        Args:
            token_ids: int [N, T].
            lengths: int scalar or [N], the prefix length of each row.

        Returns:
            float [N, F], F = sum(num_filters).
        """
        token_ids = ops.cast(token_ids, "int32")
        embedded = self._embed(token_ids)
        lengths = ops.reshape(ops.cast(lengths, "int32"), (-1, 1))
        keep = ops.arange(self.sequence_length)[None, :] < lengths
        embedded = embedded * ops.cast(keep, embedded.dtype)[..., None]
        pooled = ops.concatenate(
            [ops.max(conv(embedded), axis=1) for conv in self.convolutions],
            axis=-1,
        )
        return self._highway(pooled, training=False)

    def prefix_features_all(self, token_ids: ArrayLike) -> tf.Tensor:
        """`prefix_features` of every prefix of every row at once:
        [N, T + 1, F], entry j the feature of the first j tokens.

        About two convolutions' work instead of T + 1: a window of width w
        starting at s holds k = clip(j - s, 0, w) tokens of the prefix of
        length j, so its output is the partial sum of its first k offsets
        (`relu(bias)` for k = 0), and the max over windows is assembled
        from the partial sums of each window at the one j where it holds k
        tokens (0 < k < w) and from the running max of complete ones.
        """
        token_ids = ops.cast(token_ids, "int32")
        length = self.sequence_length
        embedded = ops.cast(self._embed(token_ids), "float32")
        pooled = []
        for conv, width in zip(self.convolutions, self.filter_sizes):
            kernel = ops.cast(conv.kernel, "float32")  # [w, E, n]
            bias = ops.cast(conv.bias, "float32")
            starts = length - width + 1
            partial = 0.0
            shift = []
            for k in range(1, width + 1):
                # The first k offsets of every window: [N, S, n].
                partial = partial + ops.matmul(
                    embedded[:, k - 1 : k - 1 + starts], kernel[k - 1]
                )
                value = ops.relu(partial + bias)
                if k < width:
                    # Window s holds k tokens of the prefix of length s + k.
                    shift.append(
                        ops.pad(
                            value,
                            [[0, 0], [k, length + 1 - k - starts], [0, 0]],
                        )
                    )
                else:
                    complete = value
            # Complete windows count for every j >= s + w: a running max.
            running = []
            current = ops.zeros_like(complete[:, 0])
            for j in range(length + 1):
                if j - width >= 0:
                    current = ops.maximum(current, complete[:, j - width])
                running.append(current)
            best = ops.stack(running, axis=1)  # [N, T + 1, n]
            for value in shift:
                best = ops.maximum(best, value)
            # Windows holding no token yet (s >= j) give relu(bias).
            empty = ops.cast(
                ops.arange(length + 1) <= length - width, "float32"
            )
            best = ops.maximum(best, empty[None, :, None] * ops.relu(bias))
            pooled.append(best)
        pooled = ops.concatenate(pooled, axis=-1)
        features = self._highway(
            ops.reshape(pooled, (-1, pooled.shape[-1])), training=False
        )
        return ops.reshape(features, (-1, length + 1, pooled.shape[-1]))

    def stream_start(self, num_rows: int | tf.Tensor) -> tuple[tf.Tensor, ...]:
        """The state of `stream_add` before any token: the running max of
        the windows that left (zeros: every window's output is >= 0) and,
        per width w, the partial sums of the w windows ending at the last
        token [N, w, n]."""
        rows = [ops.zeros((num_rows, sum(self.num_filters)))]
        for width, count in zip(self.filter_sizes, self.num_filters):
            rows.append(ops.zeros((num_rows, width, count)))
        return tuple(rows)

    def stream_add(
        self,
        state: tuple[tf.Tensor, ...],
        token_ids: ArrayLike,
        length: int | tf.Tensor,
    ) -> tuple[tuple[tf.Tensor, ...], tf.Tensor]:
        """Adds token `length - 1` (`token_ids` [N]) to the prefixes of
        `stream_start`'s state; returns (the new state, `prefix_features`
        of the `length` tokens so far [N, F]). One token's products per
        width instead of a convolution over the whole sequence. With
        `length` 0 the token only fills windows that start before the
        sequence, which never count: the features are the empty prefix's.
        """
        sequence = self.sequence_length
        embedded = ops.cast(
            self._embed(ops.cast(token_ids, "int32")), "float32"
        )
        length = ops.cast(length, "int32")
        gone, rings = state[0], state[1:]
        new_rings, left, pooled = [], [], []
        for conv, width, ring in zip(
            self.convolutions, self.filter_sizes, rings
        ):
            kernel = ops.cast(conv.kernel, "float32")
            bias = ops.cast(conv.bias, "float32")
            # Ring slot i holds the window starting at length - w + i; the
            # window in slot 0 of the old ring (start length - 1 - w) is
            # complete and leaves (valid when that start is >= 0).
            valid_out = ops.cast(length - 1 - width >= 0, "float32")
            left.append(valid_out * ops.relu(ring[:, 0] + bias))
            ring = ops.concatenate(
                [ring[:, 1:], ops.zeros_like(ring[:, :1])], axis=1
            )
            # The new token is offset w - 1 - i of the window in slot i.
            products = ops.einsum("ne,wec->nwc", embedded, kernel)
            ring = ring + ops.flip(products, axis=1)
            new_rings.append(ring)
            start = length - width + ops.arange(width)
            valid = ops.cast(
                (start >= 0) & (start <= sequence - width), "float32"
            )
            inside = ops.max(
                ops.relu(ring + bias) * valid[None, :, None], axis=1
            )
            empty = ops.cast(length <= sequence - width, "float32")
            pooled.append(ops.maximum(inside, empty * ops.relu(bias)))
        gone = ops.maximum(gone, ops.concatenate(left, axis=-1))
        pooled = ops.maximum(ops.concatenate(pooled, axis=-1), gone)
        features = self._highway(pooled, training=False)
        return (gone,) + tuple(new_rings), features

    def _pooled(self, token_ids):
        embedded = self._embed(ops.cast(token_ids, "int32"))
        return ops.concatenate(
            [ops.max(conv(embedded), axis=1) for conv in self.convolutions],
            axis=-1,
        )

    def _highway(self, pooled, training=False):
        # Everything after max-over-time but the head: highway, dropout.
        for transform, gate in zip(self.highway_transforms, self.highway_gates):
            carry = gate(pooled)
            pooled = carry * transform(pooled) + (1.0 - carry) * pooled
        return self.dropout_layer(pooled, training=training)

    def _classify(self, pooled, training=False):
        return self.output_layer(self._highway(pooled, training=training))

    @property
    def scorer(self) -> RealScorer:
        """The discriminator as a rollout scorer (`seqgan_tf.rollout`):
        `predict_real`, with `predict_real_of_completions` as its
        prefix-sharing `score_completions`.

        Examples:
            >>> import seqgan_tf
            >>> import tensorflow as tf
            >>> discriminator = seqgan_tf.Discriminator(
            ...     20, 6, filter_sizes=(2,), num_filters=(4,))
            >>> scorer = discriminator.scorer
            >>> scorer(tf.constant([[3, 4, 5, 6, 7, 8]])).shape
            TensorShape([1])
            >>> hasattr(scorer, "score_completions")  # shares prefixes' work
            True
        """
        return RealScorer(self)

    def predict_real(self, token_ids: tf.Tensor | np.ndarray) -> tf.Tensor:
        """P(real) of each sequence with dropout off: the SeqGAN reward,
        float32 [B]."""
        logits = ops.cast(self(token_ids, training=False), "float32")
        return ops.softmax(logits, axis=-1)[:, 1]

    def predict_real_of_completions(
        self, token_ids: ArrayLike, completions: ArrayLike
    ) -> tf.Tensor:
        """`predict_real` of Monte Carlo completions of every prefix.

        `completions[r, t - 1, b]` must be a sequence whose first `t` tokens
        are `token_ids[b, :t]` (the layout of `seqgan_tf.rollout`); the
        result equals `predict_real` of each completion, up to float
        rounding, for about two thirds of the convolution work.

        A convolution window that lies inside the shared prefix gives the
        same output for every completion of that prefix as for `token_ids`
        itself. So each width is convolved once over `token_ids`, and per
        completion only the windows that touch a sampled position are
        computed; the max over time is the max of both parts.

        Args:
            token_ids: int [B, T], the sequences whose prefixes were completed.
            completions: int [R, T - 1, B, T] (R rollouts, prefix lengths
                1..T-1).

        Returns:
            float32 [R, T - 1, B].
        """
        token_ids = ops.cast(token_ids, "int32")
        completions = ops.cast(completions, "int32")
        length = self.sequence_length
        batch_size = token_ids.shape[0]
        if batch_size is None or tuple(completions.shape[1:]) != (
            length - 1,
            batch_size,
            length,
        ):
            raise ValueError(
                "Expected `token_ids` [B, sequence_length] with a static B and "
                "`completions` [R, sequence_length - 1, B, sequence_length]; "
                f"got {token_ids.shape} and {completions.shape}."
            )
        embedded = self._embed(token_ids)
        prefix_features = [conv(embedded) for conv in self.convolutions]
        pooled = []
        # Static unroll over the T - 1 prefix lengths (traced once inside the
        # caller's tf.function): each length needs different static slices,
        # and the slices are what saves the work. No Python runs per step.
        for given in range(1, length):
            rows = ops.reshape(completions[:, given - 1], (-1, length))
            embedded = self._embed(rows)
            features = []
            for conv, width, prefix in zip(
                self.convolutions, self.filter_sizes, prefix_features
            ):
                # Windows starting at `first` or later touch a sampled
                # position; the windows before it lie inside the prefix.
                first = max(0, given - width + 1)
                new = ops.max(conv(embedded[:, first:]), axis=1)
                new = ops.reshape(new, (-1, batch_size, new.shape[-1]))
                if first > 0:
                    new = ops.maximum(new, ops.max(prefix[:, :first], axis=1))
                features.append(new)
            pooled.append(ops.concatenate(features, axis=-1))
        pooled = ops.stack(pooled, axis=1)  # [R, T - 1, B, F]
        logits = self._classify(ops.reshape(pooled, (-1, pooled.shape[-1])))
        probabilities = ops.softmax(ops.cast(logits, "float32"), axis=-1)[:, 1]
        return ops.reshape(probabilities, (-1, length - 1, batch_size))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "filter_sizes": list(self.filter_sizes),
                "num_filters": list(self.num_filters),
                "highway_layers": self.highway_layers,
                "dropout": self.dropout,
                "l2_reg": self.l2_reg,
                "pad_id": self.pad_id,
                "highway_gate_bias": self.highway_gate_bias,
            }
        )
        return config


class RealScorer:
    """P(real) of a `Discriminator`, as the scorer of Monte Carlo rollouts.

    Calling it scores sequences (`Discriminator.predict_real`);
    `score_completions` scores the completions of every prefix of a batch
    with the convolutions of the shared prefixes computed once
    (`Discriminator.predict_real_of_completions`), which `rollout_rewards`
    uses when a scorer offers it. A subclass of `Discriminator` that
    changes `predict_real` must change `predict_real_of_completions` to
    agree (or return a scorer without it).
    """

    def __init__(self, discriminator):
        self.discriminator = discriminator

    def __call__(self, token_ids):
        return self.discriminator.predict_real(token_ids)

    def score_completions(self, token_ids, completions):
        return self.discriminator.predict_real_of_completions(
            token_ids, completions
        )
