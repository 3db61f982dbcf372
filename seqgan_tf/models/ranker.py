"""RankGAN's ranker (Lin et al., NeurIPS 2017, arXiv 1705.11001).

RankGAN replaces the binary classifier by a ranker. A CNN maps a sentence
s to a feature y_s; its relevance to a reference sentence u is the cosine
alpha(s | u) = cos(y_s, y_u); over a comparison set C the rank score is a
softmax of gamma * alpha, so a sentence scores high when it resembles
human references more than the sentences it is compared with do. The
ranker learns to put human sentences above generated ones; the generator
is rewarded, through SeqGAN's Monte Carlo rollouts, by the rank score of
its completions.

The paper averages a softmax per reference, R(s | U, C) = E_u P(s | u, C),
and ranks human sentences against generated ones and vice versa. The
authors' released code (cookielee77/RankGan-NIPS2017), which produced the
published synthetic numbers, computes one score per sentence,
gamma * sum_u cos(y_s, y_u) over 16 references drawn from the real data
(a sum, not a mean: the effective temperature is gamma * |U|), and takes
one softmax over the whole batch: a mixed batch of human and generated
sentences for the ranker's loss, and, for the reward, the generated
completions of the same rollout and prefix length (human sentences were
dropped from the comparison set; the maintainers found they slowed
training without helping). This module follows the released code, with
gamma = 1 and 16 references by default. Texygen averages the cosines (an
effective gamma 16 times smaller).

The network is SeqGAN's discriminator CNN without its classifier: the
feature is the highway output after dropout (keep 0.75 in training, off
when scoring), highway gate bias 0 and no L2 term, as in the released
code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import ops

from seqgan_tf.models.discriminator import Discriminator

if TYPE_CHECKING:
    from typing import Any

    import numpy as np
    import tensorflow as tf
    from numpy.typing import ArrayLike


@keras.saving.register_keras_serializable(package="seqgan_tf")
class Ranker(Discriminator):
    """RankGAN's ranker: CNN features, cosine relevance, softmax rank.

    Calling it returns the features [N, F].

    Args:
        *args: `Discriminator`'s arguments (no classifier is built, so
            `l2_reg` has no effect).
        gamma: the inverse temperature of the rank softmax.
        highway_gate_bias: the initial bias of the highway gates (0, the
            released code's).
        **kwargs: `Discriminator`'s keyword arguments.

    Examples:
        >>> import seqgan_tf
        >>> ranker = seqgan_tf.Ranker(20, 6, filter_sizes=(2, 3),
        ...                           num_filters=(4, 4))
        >>> candidates = [[3, 4, 5, 6, 7, 8], [9, 9, 9, 9, 9, 9]]
        >>> references = [[3, 4, 5, 6, 7, 7]]
        >>> ranker.scores(candidates, references).shape
        TensorShape([2])
        >>> rank = ranker.rank_scores(candidates, references)  # a softmax
        >>> round(float(sum(rank)), 4)
        1.0
    """

    def __init__(
        self,
        *args: Any,
        gamma: float = 1.0,
        highway_gate_bias: float = 0.0,
        **kwargs: Any,
    ):
        kwargs.setdefault("l2_reg", 0.0)
        self.gamma = float(gamma)
        if not self.gamma > 0:
            raise ValueError(f"`gamma` must be > 0, got {gamma}.")
        super().__init__(*args, highway_gate_bias=highway_gate_bias, **kwargs)

    def _make_head(self):
        return None

    def call(
        self, token_ids: tf.Tensor | np.ndarray, training: bool = False
    ) -> tf.Tensor:
        """The features [N, F] of `token_ids` [N, T]."""
        return self.features(token_ids, training=training)

    def scores(
        self,
        token_ids: ArrayLike,
        references: ArrayLike,
        training: bool = False,
    ) -> tf.Tensor:
        """gamma * sum over the references of cos(y_s, y_u): float32 [N].

        Args:
            token_ids: int [N, T] the sentences to score.
            references: int [U, T] the reference (human) sentences.
            training: dropout on (the ranker's own update) or off.
        """
        both = ops.concatenate(
            [ops.cast(token_ids, "int32"), ops.cast(references, "int32")], 0
        )
        features = ops.cast(self.features(both, training=training), "float32")
        count = ops.shape(token_ids)[0]
        return relevance(features[:count], features[count:], self.gamma)

    def rank_scores(
        self, token_ids: ArrayLike, references: ArrayLike
    ) -> tf.Tensor:
        """The rank score of each sentence among the others given, with
        dropout off: softmax over the N rows of `scores`, float32 [N]."""
        return ops.softmax(self.scores(token_ids, references), axis=0)

    def scorer(self, references: ArrayLike | tf.Variable) -> RankScorer:
        """The ranker as a rollout scorer (`seqgan_tf.rollout.Scorer`)
        against `references` (int [U, T], e.g. a variable reassigned
        before each step): its comparison set is the batch scored."""
        return RankScorer(self, references)

    def get_config(self):
        config = super().get_config()
        config["gamma"] = self.gamma
        return config


def relevance(features, reference_features, gamma=1.0):
    """gamma * sum_u cos(features[i], reference_features[u]): [N].

    The score the released RankGAN code gives a sentence (a sum over the
    references; the paper's average of per-reference softmaxes differs)."""
    features = ops.normalize(ops.cast(features, "float32"), axis=-1)
    references = ops.normalize(ops.cast(reference_features, "float32"), axis=-1)
    return gamma * ops.sum(ops.matmul(features, ops.transpose(references)), 1)


class RankScorer:
    """Rank scores as the scorer of Monte Carlo rollouts.

    Called on [N, T] sentences it returns their rank scores among each
    other (the final tokens' reward: the batch is the comparison set).
    `score_completions` scores completions laid out [R, T - 1, B, T] with
    one softmax per (rollout, prefix length) over the B completions, as
    the released code does: equal to calling it on each [B, T] slice.
    """

    def __init__(self, ranker, references):
        self.ranker = ranker
        self.references = references

    def __call__(self, token_ids):
        return self.ranker.rank_scores(token_ids, self.references)

    def score_completions(self, token_ids, completions):
        shape = ops.shape(completions)
        length = completions.shape[-1]
        scores = self.ranker.scores(
            ops.reshape(completions, (-1, length)), self.references
        )
        scores = ops.reshape(scores, (shape[0], shape[1], shape[2]))
        return ops.softmax(scores, axis=-1)
