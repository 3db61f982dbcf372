"""LeakGAN's hierarchical generator (Guo et al., AAAI 2018, arXiv 1709.08624).

The discriminator "leaks" its features to the generator. While it writes
token t the generator reads f_t, the discriminator's feature (convolutions,
max over time, highway) of the prefix written so far. A Manager LSTM reads
f_t and emits a unit goal g_t in the feature space; the goals of the last c
steps, summed and projected without bias by W_psi, make the Worker's goal
embedding w_t (k numbers). A Worker LSTM over the token embeddings emits a
matrix O_t (|V| x k) and the policy is softmax(O_t w_t / alpha).

Here (paper, eq. 3-7), with f_j the feature of the first j tokens:

- the Manager steps on f_j before token j is drawn and emits g_j;
- token j is drawn with w_j = W_psi (g_{j-c+1} + ... + g_j): the goals of
  the last c steps, this one's included, a sliding window (g_j reads only
  f_j, the prefix before token j, so nothing leaks from the token it
  shapes); goals before the first step are a learned initial goal
  (trained with the Worker);
- the Manager learns to point its goal where the feature moves in the next
  c steps, cos(f_{j+c} - f_j, g_j), weighted by the extrinsic reward in
  adversarial training (`losses.leakgan_manager_loss`): g_j shapes tokens
  j .. j+c-1, which move the feature from f_j to f_{j+c}; the Worker is
  trained by MLE in pretraining and by REINFORCE with the intrinsic reward
  (1/c) sum_i cos(f_{j+1} - f_{j+1-i}, g_{j+1-i}) in adversarial training
  (`losses.leakgan_intrinsic_rewards`), which scores g_{j-c+1} .. g_j,
  exactly the goals in w_j.

`goals="previous"` keeps this project's earlier window, w_j = W_psi
(g_{j-c} + ... + g_{j-1}), which leaves g_j out of w_j although the
reward of token j scores it (and scores none of g_{j-c}, which is in
w_j), and credits the Manager's g_j with tokens it does not shape; it
reproduces the runs made before the window was corrected. The released
code's teacher-forced pass, the one it trains on, likewise puts the
newest goal (read from the prefix before its block) in w: the goals its
reward scores.

The released code (CR-Gjx/LeakGAN) differs, and this module does not follow
it where it departs from the paper: w changes only every c steps (the sum
of the previous block of c goals) and is normalised; its teacher-forced
pass groups the goals one step off from its sampler, so the log-
probabilities it trains on are not those it sampled with; its initial goal
is one learned row per batch slot; its cosine losses are averaged over the
batch and time before the reward multiplies them, so no sequence's reward
reaches its own update (and the Worker never sees the extrinsic reward);
and it samples evaluation sequences with logits multiplied by 1.5
(temperature 2/3). Here sampling and teacher forcing run the same step
(`_step`), so the sampler's probabilities are exactly the trained ones.

Positions after the prefix embed to zero vectors when the feature is read
(`Discriminator.prefix_features`; the released code pads with an id whose
embedding row is never trained). The features are constants of the
generator's updates: the discriminator is trained only by its own loss.

The discriminator is part of the generator: its variables are saved and
exported with it (a SavedModel samples without anything else), but they
are not among the generator's `trainable_weights`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import tensorflow as tf
from keras import ops

from seqgan_tf.models.generator import Policy
from seqgan_tf.models.generator import check_sizes
from seqgan_tf.models.generator import lstm_cell

# Which goals make token j's w (`LeakGANGenerator`'s `goals`).
GOALS = ("current", "previous")

if TYPE_CHECKING:
    from typing import Any

    import numpy as np
    from numpy.typing import ArrayLike

    from seqgan_tf.models.discriminator import Discriminator


@keras.saving.register_keras_serializable(package="seqgan_tf")
class LeakGANGenerator(Policy, keras.Model):
    """A Manager and a Worker that read the discriminator's features.

    Calling the model runs it teacher-forced (logits [B, T, V]); `leak`
    also returns the features and goals the losses need. The step
    interface (`initial_state`, `next_state`, `logits_from_hidden`) lets
    `seqgan_tf.sampler` sample it like any generator: its state carries
    the tokens written so far, from which each step reads the feature.

    Args:
        vocabulary_size: number of token ids.
        sequence_length: length of generated sequences.
        discriminator: the `Discriminator` whose features are leaked
            (`prefix_features`); shared with the trainer, not copied.
        embedding_dim: the Worker's token embedding.
        hidden_dim: the Worker's and the Manager's LSTM state.
        goal_size: k, the size of the Worker's goal embedding w.
        goal_step: c, how many of the Manager's goals make w (and the
            horizon of its cosine loss).
        goals: which c goals make token j's w: "current" (g_{j-c+1} ..
            g_j, the goals its intrinsic reward scores) or "previous"
            (g_{j-c} .. g_{j-1}: this project's earlier window, kept to
            reproduce the runs made with it).
        start_token: the token fed before the first.
        initializer_stddev: every weight is N(0, this), as the released
            code's.
        **kwargs: `keras.Model`'s (`name`, `dtype`).

    Examples:
        >>> import seqgan_tf
        >>> d = seqgan_tf.Discriminator(20, 6, filter_sizes=(2, 3),
        ...                             num_filters=(4, 4))
        >>> g = seqgan_tf.LeakGANGenerator(20, 6, d, goal_size=4, goal_step=2)
        >>> tokens = g.generate(3, seed=(1, 2))
        >>> tokens.shape
        TensorShape([3, 6])
        >>> g.log_prob(tokens).shape  # what they were drawn with
        TensorShape([3, 6])
        >>> {key: value.shape for key, value in g.leak(tokens).items()}
        {'logits': TensorShape([3, 6, 20]), 'features': TensorShape([3, 7, 8]),
         'goals': TensorShape([3, 6, 8])}
    """

    # Variable-length sequences are not supported: every row is T tokens.
    eos_id = None
    pad_id = 0

    def __init__(
        self,
        vocabulary_size: int,
        sequence_length: int,
        discriminator: Discriminator,
        embedding_dim: int = 32,
        hidden_dim: int = 32,
        goal_size: int = 16,
        goal_step: int = 4,
        start_token: int = 0,
        initializer_stddev: float = 0.1,
        goals: str = "current",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if goals not in GOALS:
            raise ValueError(
                f"`goals` must be one of {', '.join(GOALS)}, got {goals!r}."
            )
        check_sizes(
            start_token,
            vocabulary_size=vocabulary_size,
            sequence_length=sequence_length,
            embedding_dim=embedding_dim,
            hidden_dim=hidden_dim,
            goal_size=goal_size,
            goal_step=goal_step,
        )
        if discriminator.sequence_length != int(
            sequence_length
        ) or discriminator.vocabulary_size != int(vocabulary_size):
            raise ValueError(
                "The leaked discriminator must read the generator's "
                f"sequences: it has vocabulary {discriminator.vocabulary_size}"
                f" and length {discriminator.sequence_length}, the generator "
                f"{vocabulary_size} and {sequence_length}."
            )
        self.vocabulary_size = int(vocabulary_size)
        self.sequence_length = int(sequence_length)
        self.embedding_dim = int(embedding_dim)
        self.hidden_dim = int(hidden_dim)
        self.goal_size = int(goal_size)
        self.goal_step = int(goal_step)
        self.start_token = int(start_token)
        self.initializer_stddev = float(initializer_stddev)
        self.goals = goals
        self.discriminator = discriminator
        self.feature_dim = int(sum(discriminator.num_filters))
        self._sample_function = None
        self._log_prob_function = None

        def weight(name, shape):
            return self.add_weight(
                shape=shape,
                initializer=keras.initializers.RandomNormal(
                    stddev=self.initializer_stddev
                ),
                name=name,
            )

        h, e, k, f, v = (
            self.hidden_dim,
            self.embedding_dim,
            self.goal_size,
            self.feature_dim,
            self.vocabulary_size,
        )
        # The Worker: embedding, LSTM, O_t = h W_out + b_out as [V, k],
        # kept as [H * k, V] and [k, V] so that O_t w_t is one product.
        self.embedding = weight("embedding", (v, e))
        self.worker_kernel = weight("worker_kernel", (e, 4 * h))
        self.worker_recurrent = weight("worker_recurrent", (h, 4 * h))
        self.worker_bias = weight("worker_bias", (4 * h,))
        self.worker_output = weight("worker_output", (h * k, v))
        self.worker_output_bias = weight("worker_output_bias", (k, v))
        # W_psi: goals (feature space) -> w (k), no bias; the Worker's.
        self.goal_projection = weight("goal_projection", (f, k))
        # The Manager: LSTM over features, goal = l2n(h W_g + b_g).
        self.manager_kernel = weight("manager_kernel", (f, 4 * h))
        self.manager_recurrent = weight("manager_recurrent", (h, 4 * h))
        self.manager_bias = weight("manager_bias", (4 * h,))
        self.goal_kernel = weight("goal_kernel", (h, f))
        self.goal_bias = weight("goal_bias", (f,))
        self.initial_goal = weight("initial_goal", (f,))
        self.built = True

    # --- which weights each loss trains -----------------------------------

    @property
    def worker_variables(self) -> list[keras.Variable]:
        """Trained by the Worker's losses (MLE, intrinsic reward)."""
        return [
            self.embedding,
            self.worker_kernel,
            self.worker_recurrent,
            self.worker_bias,
            self.worker_output,
            self.worker_output_bias,
            self.goal_projection,
            self.initial_goal,
        ]

    @property
    def manager_variables(self) -> list[keras.Variable]:
        """Trained by the Manager's cosine loss."""
        return [
            self.manager_kernel,
            self.manager_recurrent,
            self.manager_bias,
            self.goal_kernel,
            self.goal_bias,
        ]

    # The discriminator's weights are saved with the generator but trained
    # only by the discriminator's own loss.
    @property
    def trainable_weights(self):
        return self.worker_variables + self.manager_variables

    @property
    def trainable_variables(self):
        return self.trainable_weights

    # --- one step, shared by sampling and teacher forcing ------------------

    def initial_state(self, batch_size):
        """(draw input [N, H + k], Worker h, c, Manager h, c, the projected
        goals of the last c steps [N, c, k] (oldest first; the initial
        goal's before the first step), the position, then the
        discriminator's streamed convolutions of the prefix,
        `Discriminator.stream_start`)."""
        zeros = ops.zeros((batch_size, self.hidden_dim))
        projected = ops.matmul(
            _normalize(self.initial_goal)[None, :], self.goal_projection
        )
        window = ops.tile(
            projected[:, None, :], (batch_size, self.goal_step, 1)
        )
        return (
            ops.zeros((batch_size, self.hidden_dim + self.goal_size)),
            zeros,
            zeros,
            zeros,
            zeros,
            window,
            ops.convert_to_tensor(0, "int32"),
        ) + tuple(self.discriminator.stream_start(batch_size))

    def next_state(self, token_ids, state):
        """Feeds the previous token (the start token first): adds it to the
        streamed prefix, reads the prefix's feature and steps."""
        position = state[6]
        stream, feature = self.discriminator.stream_add(
            state[7:], token_ids, position
        )
        new_state, _ = self._step(token_ids, state, tf.stop_gradient(feature))
        return new_state + (position + 1,) + tuple(stream)

    def _step(self, token_ids, state, feature):
        """One step on the previous token and the prefix's feature
        [N, F]; returns (the next state, the goal g emitted)."""
        _, worker_h, worker_c, manager_h, manager_c, window = state[:6]
        x = ops.take(self.embedding, ops.cast(token_ids, "int32"), axis=0)
        worker_h, worker_c = lstm_cell(
            x,
            worker_h,
            worker_c,
            self.worker_kernel,
            self.worker_recurrent,
            self.worker_bias,
        )
        manager_h, manager_c = lstm_cell(
            ops.cast(feature, "float32"),
            manager_h,
            manager_c,
            self.manager_kernel,
            self.manager_recurrent,
            self.manager_bias,
        )
        goal = _normalize(
            ops.matmul(manager_h, self.goal_kernel) + self.goal_bias
        )
        # The Manager learns only from its cosine loss, the Worker (W_psi
        # included) only from its own: no gradient crosses the goal.
        projected = ops.matmul(tf.stop_gradient(goal), self.goal_projection)
        if self.goals == "previous":
            # w from the c previous goals; this step's acts from the next.
            w = ops.sum(window, axis=1)
            window = ops.concatenate(
                [window[:, 1:], projected[:, None]], axis=1
            )
        else:
            # w from the last c goals, this step's included (it read only
            # the prefix before the token it shapes).
            window = ops.concatenate(
                [window[:, 1:], projected[:, None]], axis=1
            )
            w = ops.sum(window, axis=1)
        hidden = ops.concatenate([worker_h, w], axis=-1)
        state = (hidden, worker_h, worker_c, manager_h, manager_c, window)
        return state, goal

    def logits_from_hidden(self, hidden):
        """O_t w_t from the draw input [N, H + k] = (Worker h, w): the
        logits [N, V]."""
        h = hidden[:, : self.hidden_dim]
        w = hidden[:, self.hidden_dim :]
        outer = ops.reshape(
            h[:, :, None] * w[:, None, :],
            (-1, self.hidden_dim * self.goal_size),
        )
        return ops.matmul(outer, self.worker_output) + ops.matmul(
            w, self.worker_output_bias
        )

    # --- teacher forcing ---------------------------------------------------

    def leak(self, token_ids: ArrayLike) -> dict[str, tf.Tensor]:
        """The teacher-forced pass of complete sequences [B, T]: a dict of
        `logits` [B, T, V], `features` [B, T + 1, F] (f_j of the first j
        tokens, j = 0..T; constants) and `goals` [B, T, F] (g_j)."""
        token_ids = ops.cast(token_ids, "int32")
        length = self.sequence_length
        batch = ops.shape(token_ids)[0]
        features = tf.stop_gradient(
            ops.transpose(
                self.discriminator.prefix_features_all(token_ids), (1, 0, 2)
            )
        )
        state = self.initial_state(batch)
        previous = ops.full((batch,), self.start_token, "int32")
        logits, goals = [], []
        for position in range(length):
            step_state, goal = self._step(previous, state, features[position])
            state = step_state + state[6:]
            logits.append(self.logits_from_hidden(step_state[0]))
            goals.append(goal)
            previous = token_ids[:, position]
        return {
            "logits": ops.stack(logits, axis=1),
            "features": ops.transpose(features, (1, 0, 2)),
            "goals": ops.stack(goals, axis=1),
        }

    def call(
        self, token_ids: tf.Tensor | np.ndarray, training: bool = False
    ) -> tf.Tensor:
        """The teacher-forced logits [B, T, V] of `token_ids` [B, T]."""
        return self.leak(token_ids)["logits"]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "discriminator": keras.saving.serialize_keras_object(
                    self.discriminator
                ),
                "embedding_dim": self.embedding_dim,
                "hidden_dim": self.hidden_dim,
                "goal_size": self.goal_size,
                "goal_step": self.goal_step,
                "start_token": self.start_token,
                "initializer_stddev": self.initializer_stddev,
                "goals": self.goals,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # Saved before `goals` existed: trained with the earlier window.
        config.setdefault("goals", "previous")
        config["discriminator"] = keras.saving.deserialize_keras_object(
            config["discriminator"]
        )
        return cls(**config)


def _normalize(x):
    return x / ops.sqrt(
        ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-12)
    )
