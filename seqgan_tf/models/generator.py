"""The SeqGAN generator: an LSTM language model used as a stochastic policy.

Teacher-forced scoring lives here; sampling lives in `seqgan_tf.sampler`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import tensorflow as tf
from keras import ops

from seqgan_tf import losses
from seqgan_tf import sampler

if TYPE_CHECKING:
    from typing import Any

    import numpy as np
    from numpy.typing import ArrayLike

# The longest sequence whose teacher-forced LSTM is unrolled (the presets
# use 12 to 32).
MAX_UNROLLED_LENGTH = 64


class Policy:
    """What every generator offers on top of its step interface
    (`seqgan_tf.sampler.SamplerModel`) and its teacher-forced `call`:
    log-probabilities, generation and prefix completion through the one
    sampler, and their compiled functions (traced once per model). Used
    by `Generator` and `LeakGANGenerator`."""

    def log_prob(
        self,
        token_ids: ArrayLike,
        training: bool = False,
        temperature: float = 1.0,
    ) -> tf.Tensor:
        """Per-token log-probabilities `log p(y_t | y_<t)` of `token_ids`
        [B, T] under the model's logits divided by `temperature`: float32
        [B, T] (their sum over a row is the sequence's log-likelihood).

        Examples:
            >>> import tensorflow as tf
            >>> import seqgan_tf
            >>> generator = seqgan_tf.Generator(20, 6)
            >>> log_probs = generator.log_prob([[3, 4, 5, 6, 7, 8]])
            >>> log_probs.shape, log_probs.dtype
            (TensorShape([1, 6]), tf.float32)
            >>> bool(tf.reduce_all(log_probs < 0))
            True
        """
        token_ids = ops.cast(token_ids, "int32")
        logits = self(token_ids, training=training)
        return losses.token_log_probs(logits, token_ids, temperature)

    def generate(
        self,
        num_samples: int,
        seed: ArrayLike = (0, 0),
        temperature: float = 1.0,
    ) -> tf.Tensor:
        """Samples `num_samples` sequences: int32 [num_samples, T].

        Args:
            num_samples: how many sequences (at least 1).
            seed: int pair; the same seed gives the same samples.
            temperature: float > 0; the logits are divided by it (below 1
                sharper, above 1 flatter than the model).

        Examples:
            >>> import tensorflow as tf
            >>> import seqgan_tf
            >>> generator = seqgan_tf.Generator(20, 6)
            >>> token_ids = generator.generate(4, seed=(1, 2))
            >>> token_ids.shape, token_ids.dtype
            (TensorShape([4, 6]), tf.int32)
            >>> bool(tf.reduce_all(token_ids == generator.generate(4, (1, 2))))
            True
        """
        num_samples = int(num_samples)
        if num_samples < 1:
            raise ValueError(f"`num_samples` must be >= 1, got {num_samples}.")
        prefix = tf.zeros((num_samples, self.sequence_length), tf.int32)
        prefix_length = tf.zeros((num_samples,), tf.int32)
        return self.complete(prefix, prefix_length, seed, temperature)

    def complete(
        self,
        prefix: ArrayLike,
        prefix_length: ArrayLike,
        seed: ArrayLike = (0, 0),
        temperature: float = 1.0,
    ) -> tf.Tensor:
        """Keeps `prefix[:, :prefix_length]` and samples the rest.

        Args:
            prefix: int [N, P] token ids, P <= sequence_length. Positions at or
                after each row's prefix length are ignored.
            prefix_length: int scalar or [N]; how many leading tokens to keep.
            seed: int pair; the same seed gives the same samples.
            temperature: float > 0; logits are divided by it.

        Returns:
            int32 [N, sequence_length].

        Examples:
            >>> import seqgan_tf
            >>> generator = seqgan_tf.Generator(20, 6)
            >>> completed = generator.complete([[3, 4], [5, 6]], 2, seed=(0, 1))
            >>> completed.shape
            TensorShape([2, 6])
            >>> completed[:, :2].numpy()  # the prefixes, kept
            array([[3, 4],
                   [5, 6]], dtype=int32)
        """
        prefix = tf.convert_to_tensor(prefix, tf.int32)
        if prefix.shape.rank != 2:
            raise ValueError(
                f"`prefix` must be [N, P], got shape {prefix.shape}."
            )
        width = prefix.shape[1]
        if width is not None and width > self.sequence_length:
            raise ValueError(
                f"`prefix` has {width} positions but the generator's "
                f"`sequence_length` is {self.sequence_length}."
            )
        if float(temperature) <= 0:
            raise ValueError(f"`temperature` must be > 0, got {temperature}.")
        pad = self.sequence_length - tf.shape(prefix)[1]
        prefix = tf.pad(prefix, [[0, 0], [0, pad]])
        prefix_length = tf.broadcast_to(
            tf.convert_to_tensor(prefix_length, tf.int32), tf.shape(prefix)[:1]
        )
        return self.make_sample_function()(
            prefix,
            prefix_length,
            tf.convert_to_tensor(seed, tf.int32),
            tf.convert_to_tensor(temperature, tf.float32),
        )

    def make_sample_function(self):
        """Returns the compiled sampler, tracing it once per model."""
        if self._sample_function is not None:
            return self._sample_function

        def sample(prefix, prefix_length, seed, temperature):
            return sampler.sample(
                self, prefix, prefix_length, seed, temperature=temperature
            )

        if not self.run_eagerly:
            sample = tf.function(
                sample,
                input_signature=[
                    tf.TensorSpec([None, self.sequence_length], tf.int32),
                    tf.TensorSpec([None], tf.int32),
                    tf.TensorSpec([2], tf.int32),
                    tf.TensorSpec([], tf.float32),
                ],
                jit_compile=False,
            )
        self._sample_function = sample
        return sample

    def make_log_prob_function(self):
        """Returns the compiled `log_prob`, traced once for any batch size."""
        if self._log_prob_function is None:
            function = self.log_prob
            if not self.run_eagerly:
                function = tf.function(
                    function,
                    input_signature=[
                        tf.TensorSpec([None, self.sequence_length], tf.int32)
                    ],
                )
            self._log_prob_function = function
        return self._log_prob_function

    def compile(self, *args, **kwargs):
        super().compile(*args, **kwargs)
        self._sample_function = None
        self._log_prob_function = None

    def compile_from_config(self, config):
        """Keras' own `compile()` settings (a loaded `.keras` file): this
        `compile()` only adds dropping the compiled functions."""
        self.compile(**keras.saving.deserialize_keras_object(config))


@keras.saving.register_keras_serializable(package="seqgan_tf")
class Generator(Policy, keras.Model):
    """Embedding -> one LSTM layer -> dense logits over the vocabulary.

    The LSTM cell is the one of the SeqGAN paper's code: gates
    `i, f, o = sigmoid(x W + h U + b)`, candidate `tanh(x W_c + h U_c + b_c)`,
    `c = f * c_prev + i * candidate`, `h = o * tanh(c)`; no peepholes and no
    forget-gate bias. The first input is the embedding of `start_token`
    and the initial state is zero. All parameters are drawn from
    N(0, `initializer_stddev`) as in the authors' code.

    Calling the model runs it teacher-forced: position `t` is predicted from
    the tokens before it, so `call(token_ids)` returns logits of shape
    `[batch, sequence_length, vocabulary_size]` whose row `t` is the
    distribution of `token_ids[:, t]`.

    Args:
        vocabulary_size: number of token ids.
        sequence_length: length of generated sequences.
        embedding_dim: size of the token embedding.
        hidden_dim: size of the LSTM state.
        start_token: token id fed as the first input.
        initializer_stddev: standard deviation of the normal initializer
            used for every weight and bias.
        eos_id: opt-in variable-length sequences: when set, a sampled row
            that has produced (or was given in its prefix) this token
            emits `pad_id` at every later sampled position, and the
            trainer, rollouts and `metrics.nll` mask the positions after
            the first EOS. None (default): fixed-length sequences, nothing
            is masked.
        pad_id: the padding token emitted after EOS (ignored when `eos_id`
            is None).
        **kwargs: `keras.Model`'s: `name`, and `dtype`, the Keras dtype
            policy (e.g. "mixed_bfloat16"; default: the global policy).
            The embedding and the LSTM take it; the output projection
            always computes in float32.

    Examples:
        >>> import seqgan_tf
        >>> generator = seqgan_tf.Generator(
        ...     vocabulary_size=20, sequence_length=6
        ... )
        >>> token_ids = generator.generate(4, seed=(1, 2))
        >>> token_ids.shape, token_ids.dtype
        (TensorShape([4, 6]), tf.int32)
        >>> generator(token_ids).shape  # teacher-forced logits
        TensorShape([4, 6, 20])
        >>> generator.log_prob(token_ids).shape  # log p(y_t | y_<t)
        TensorShape([4, 6])

    Reference:
        Yu et al., "SeqGAN: Sequence Generative Adversarial Nets with Policy
        Gradient", AAAI 2017 (arXiv:1609.05473).
    """

    def __init__(
        self,
        vocabulary_size: int,
        sequence_length: int,
        embedding_dim: int = 32,
        hidden_dim: int = 32,
        start_token: int = 0,
        initializer_stddev: float = 0.1,
        eos_id: int | None = None,
        pad_id: int = 0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        check_sizes(
            start_token,
            vocabulary_size=vocabulary_size,
            sequence_length=sequence_length,
            embedding_dim=embedding_dim,
            hidden_dim=hidden_dim,
        )
        if not 0 <= int(pad_id) < int(vocabulary_size):
            raise ValueError(
                f"`pad_id` must be in [0, vocabulary_size={vocabulary_size}), "
                f"got {pad_id}."
            )
        if eos_id is not None and (
            not 0 <= int(eos_id) < int(vocabulary_size)
            or int(eos_id) == int(pad_id)
        ):
            raise ValueError(
                f"`eos_id` must be None or in [0, vocabulary_size="
                f"{vocabulary_size}) and differ from `pad_id`={pad_id}, "
                f"got {eos_id}."
            )
        self.vocabulary_size = int(vocabulary_size)
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.hidden_dim = int(hidden_dim)
        self.start_token = int(start_token)
        self.initializer_stddev = float(initializer_stddev)
        self.eos_id = None if eos_id is None else int(eos_id)
        self.pad_id = int(pad_id)

        def init():
            return keras.initializers.RandomNormal(
                stddev=self.initializer_stddev
            )

        self.embedding = keras.layers.Embedding(
            self.vocabulary_size,
            self.embedding_dim,
            embeddings_initializer=init(),
            dtype=self.dtype_policy,
            name="embedding",
        )
        # Unrolled over a short fixed `sequence_length`: TensorFlow's while
        # loop costs more per step on a CPU than the small cell update
        # itself. Longer sequences keep the loop (a graph of bounded size).
        self.lstm = keras.layers.LSTM(
            self.hidden_dim,
            return_sequences=True,
            unroll=self.sequence_length <= MAX_UNROLLED_LENGTH,
            recurrent_activation="sigmoid",
            unit_forget_bias=False,
            kernel_initializer=init(),
            recurrent_initializer=init(),
            bias_initializer=init(),
            dtype=self.dtype_policy,
            name="lstm",
        )
        # float32 under a mixed-precision policy: the logits feed softmax,
        # sampling and losses, which stay in float32.
        self.output_projection = keras.layers.Dense(
            self.vocabulary_size,
            kernel_initializer=init(),
            bias_initializer=init(),
            dtype="float32",
            name="output_projection",
        )
        self._sample_function = None
        self._log_prob_function = None
        self.build((None, self.sequence_length))

    def build(self, input_shape):
        self.embedding.build(input_shape)
        self.lstm.build((None, None, self.embedding_dim))
        self.output_projection.build((None, self.hidden_dim))
        self.built = True

    def call(
        self, token_ids: tf.Tensor | np.ndarray, training: bool = False
    ) -> tf.Tensor:
        """The teacher-forced logits [B, T, V] of `token_ids` [B, T]: row
        `t` is the distribution of `token_ids[:, t]` given the tokens
        before it (`generator(token_ids)` calls this)."""
        token_ids = ops.cast(token_ids, "int32")
        start = ops.full_like(token_ids[:, :1], self.start_token)
        inputs = ops.concatenate([start, token_ids[:, :-1]], axis=1)
        hidden = self.lstm(self.embedding(inputs), training=training)
        # One [B * T, H] x [H, V] product: on a 2-D input the bias add is
        # fused into the matmul (a 3-D Dense input goes through Tensordot).
        logits = self.output_projection(
            ops.reshape(hidden, (-1, self.hidden_dim))
        )
        return ops.reshape(
            logits, (-1, ops.shape(token_ids)[1], self.vocabulary_size)
        )

    def scheduled_sampling_logits(
        self,
        token_ids: ArrayLike,
        rate: float | tf.Tensor,
        seed: ArrayLike,
        training: bool = False,
        row_ids: ArrayLike | None = None,
        num_global_rows: int | tf.Tensor | None = None,
    ) -> tf.Tensor:
        """Logits [B, T, V] of scheduled sampling (Bengio et al., 2015).

        The input at position t > 0 is the true token `token_ids[:, t - 1]`
        with probability `rate`, else a token drawn from the model's own
        distribution at position t - 1 (`sampler.draw`, inverse-CDF from a
        stateless uniform); position 0 reads the start token. A coin and a
        draw per row and position come from `seed` folded by the position,
        addressed by `row_ids` in `[0, num_global_rows)` (default: the
        rows), as the sampler's draws are. With `rate` >= 1 this is exactly
        the teacher-forced `call`.

        Args:
            token_ids: int [B, T], the real sequences (inputs and targets).
            rate: float scalar in [0, 1], the probability of the true token.
            seed: int32 [2].
            training: whether the layers run in training mode.
            row_ids: the global index of each row (default: `range(B)`).
            num_global_rows: the rows of the global batch (default: B).
        """
        token_ids = ops.cast(token_ids, "int32")
        rate = tf.convert_to_tensor(rate, tf.float32)
        seed = tf.convert_to_tensor(seed, tf.int32)
        num_rows = tf.shape(token_ids)[0]
        if row_ids is None:
            row_ids = tf.range(num_rows)
        if num_global_rows is None:
            num_global_rows = num_rows

        def mixed():
            state = self.initial_state(num_rows)
            previous = tf.fill([num_rows], tf.cast(self.start_token, tf.int32))
            logits = []
            # A static unroll over the T positions, traced once.
            for position in range(self.sequence_length):
                state = self.next_state(previous, state)
                step_logits = self.logits_from_hidden(state[0])
                logits.append(step_logits)
                if position + 1 == self.sequence_length:
                    break
                uniforms = tf.random.stateless_uniform(
                    [2, num_global_rows],
                    tf.random.experimental.stateless_fold_in(seed, position),
                )
                coins = tf.gather(uniforms[0], row_ids)
                sampled = sampler.draw(
                    tf.stop_gradient(step_logits),
                    tf.gather(uniforms[1], row_ids),
                )
                previous = tf.where(
                    coins < rate, token_ids[:, position], sampled
                )
            return tf.stack(logits, axis=1)

        return tf.cond(
            rate >= 1.0, lambda: self(token_ids, training=training), mixed
        )

    # One recurrent step, shared by every sampler and by the rollouts. It uses
    # the LSTM layer's own weights (Keras gate order i, f, c, o), so sampling
    # and teacher forcing can never disagree.
    # The state is in the LSTM's compute dtype (float32, or bfloat16 /
    # float16 under a mixed-precision policy), as in teacher forcing.
    def initial_state(
        self, batch_size: int | tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """The LSTM state `(h, c)` before the first token: zeros
        [batch_size, hidden_dim] (the sampler's step interface,
        `sampler.SamplerModel`)."""
        zeros = ops.zeros(
            (batch_size, self.hidden_dim), dtype=self.lstm.compute_dtype
        )
        return zeros, zeros

    def next_state(
        self, token_ids: tf.Tensor, state: tuple[tf.Tensor, tf.Tensor]
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Feeds `token_ids` [N] into the LSTM; returns the new `(h, c)`."""
        h, c = state
        cell = self.lstm.cell
        dtype = self.lstm.compute_dtype
        return lstm_cell(
            ops.cast(self.embedding(token_ids), dtype),
            h,
            c,
            ops.cast(cell.kernel, dtype),
            ops.cast(cell.recurrent_kernel, dtype),
            ops.cast(cell.bias, dtype),
        )

    def logits_from_hidden(self, hidden: tf.Tensor) -> tf.Tensor:
        """The next token's logits [N, V] from the LSTM output `h` [N, H]."""
        return self.output_projection(hidden)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "hidden_dim": self.hidden_dim,
                "start_token": self.start_token,
                "initializer_stddev": self.initializer_stddev,
                "eos_id": self.eos_id,
                "pad_id": self.pad_id,
            }
        )
        return config


def lstm_cell(x, h, c, kernel, recurrent, bias):
    """One step of the SeqGAN authors' LSTM cell (Keras' gate order i, f,
    candidate, o; no peepholes): returns the new `(h, c)`."""
    z = ops.matmul(x, kernel) + ops.matmul(h, recurrent) + bias
    i, f, g, o = ops.split(z, 4, axis=-1)
    c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
    return ops.sigmoid(o) * ops.tanh(c), c


def check_sizes(start_token, **sizes):
    """Raises a ValueError naming the first of a generator's `sizes` that
    is not a positive integer, or a `start_token` outside the vocabulary
    (`sizes["vocabulary_size"]`)."""
    for name, value in sizes.items():
        if int(value) < 1:
            raise ValueError(
                f"`{name}` must be a positive integer, got {value}."
            )
    vocabulary_size = sizes["vocabulary_size"]
    if not 0 <= int(start_token) < int(vocabulary_size):
        raise ValueError(
            "`start_token` must be in [0, "
            f"vocabulary_size={vocabulary_size}), got {start_token}."
        )
