"""RankGAN's critic: the `Ranker`'s rank score of each completion among
its batch, against real reference sentences."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import seeds
from seqgan_tf.critics.base import Critic


class RankerCritic(Critic):
    """Rollouts scored by the `Ranker`'s rank score against
    `rank_references` real sequences, drawn (with replacement, as the
    released code) for each ranker step from the round's real half and for
    each policy-gradient step from the real data; the ranker learns by
    `losses.rank_loss`. One device: each sequence is ranked among its
    whole batch.

    Args:
        rank_references: the size of the reference set (16).

    Examples:
        >>> import seqgan_tf
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6),
        ...     seqgan_tf.Ranker(20, 6, filter_sizes=(2,), num_filters=(4,)),
        ...     reward="rank", rank_references=4)
        >>> type(gan.critic).__name__, gan.critic.references.shape
        ('RankerCritic', TensorShape([4, 6]))
    """

    SETTINGS = ("rank_references",)
    ranks = True

    def __init__(self, rank_references: int = 16):
        super().__init__()
        self.rank_references = int(rank_references)
        if self.rank_references < 1:
            raise ValueError(
                f"`rank_references` must be >= 1, got {rank_references}."
            )
        self.references = None

    def bind(self, trainer):
        super().bind(trainer)
        self.one_device("RankGAN ranks each sequence among its whole batch")
        # Drawn again before each step that reads them (so not part of a
        # checkpoint).
        self.references = tf.Variable(
            tf.zeros(
                [self.rank_references, trainer.generator.sequence_length],
                tf.int32,
            ),
            trainable=False,
            name="rank_references",
        )

    def scorer(self):
        return self.trainer.discriminator.scorer(self.references)

    def before_discriminator_step(self, positives, epoch, index, step):
        self._draw(positives, epoch, index, int(step))

    def before_generator_step(self, real, epoch, index):
        self._draw(real, epoch, index, -1)

    def _draw(self, real, epoch, index, stream):
        """`rank_references` rows of `real` drawn with replacement, from
        the run's seed, the epoch, the round or step index and the stream
        (the D step, or -1 for a policy-gradient step)."""
        rng = np.random.default_rng(
            seeds.seed_pair(
                self.trainer.seed,
                seeds.RANK_REFERENCES,
                epoch,
                index,
                stream + 1,
            )
        )
        rows = rng.integers(0, len(real), self.rank_references)
        self.references.assign(np.asarray(real)[rows].astype(np.int32))

    def discriminator_replica(self, token_ids, labels):
        trainer = self.trainer
        with tf.GradientTape() as tape:
            loss, correct = losses.rank_loss(
                trainer.discriminator.scores(
                    token_ids, self.references, training=True
                ),
                labels,
            )
        self.apply(trainer.d_optimizer, tape, loss, trainer.discriminator)
        return loss, correct
