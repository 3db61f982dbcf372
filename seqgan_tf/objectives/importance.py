"""MaliGAN's generator update (Che et al. 2017): whole sequences weighted
by their normalised importance weights D/(1-D), no rollouts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from seqgan_tf import sampler
from seqgan_tf import seeds
from seqgan_tf.objectives.rollout import RolloutPolicyGradient

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike


class ImportanceWeights(RolloutPolicyGradient):
    """MaliGAN: every token of sample i gets w_i - 1/B, where w are the
    normalised importance weights of the batch that the critic gives
    (`Critic.importance_weights`: D/(1-D) of the discriminator,
    `rewards.importance_weights`; the exact ratio with the optimal
    critic), so a batch's rewards sum to 0 (algorithm 1 of the paper).
    With `mali_continuations` n > 1, its mixed MLE-Mali training
    (`mali_step`).

    Args:
        mali_continuations: 0 (the basic algorithm) or n > 1: each step
            takes `batch_size / n` real sequences, keeps the first N tokens
            of each and samples n continuations; the weights are normalised
            within each group of n, and the real prefixes get MLE.
        mali_prefix_decrement: K, how many tokens the real prefix loses
            each adversarial round: N = max(0, T - K (r + 1)) in round r.
        **kw: `RolloutPolicyGradient`'s settings (its reward baseline and
            delayed policy apply; the rollout settings are not read).

    Examples:
        >>> import seqgan_tf
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> discriminator = seqgan_tf.Discriminator(
        ...     20, 6, filter_sizes=(2,), num_filters=(4,))
        >>> gan = seqgan_tf.SeqGAN(
        ...     generator, discriminator, batch_size=4, reward="importance",
        ...     num_rollouts=1, mali_continuations=2, mali_prefix_decrement=2)
        >>> type(gan.objective).__name__
        'ImportanceWeights'
        >>> [gan.objective.mali_prefix(r) for r in range(4)]  # N by round
        [4, 2, 0, 0]
    """

    SETTINGS = RolloutPolicyGradient.SETTINGS + (
        "mali_continuations",
        "mali_prefix_decrement",
    )

    def __init__(
        self,
        mali_continuations: int = 0,
        mali_prefix_decrement: int = 0,
        **kw: Any,
    ):
        super().__init__(**kw)
        self.mali_continuations = int(mali_continuations)
        self.mali_prefix_decrement = int(mali_prefix_decrement)
        if self.mali_continuations == 1 or self.mali_continuations < 0:
            raise ValueError(
                "`mali_continuations` (MaliGAN's mixed training) needs at "
                f"least 2 continuations, got {mali_continuations}."
            )
        if self.mali_prefix_decrement < 0:
            raise ValueError(
                "`mali_prefix_decrement` must be >= 0, got "
                f"{mali_prefix_decrement}."
            )

    def bind(self, trainer):
        super().bind(trainer)
        n = self.mali_continuations
        if n and trainer.batch_size % n:
            raise ValueError(
                f"`batch_size` ({trainer.batch_size}) must be a multiple of "
                f"`mali_continuations` ({n})."
            )
        if n:
            self.one_device(
                "MaliGAN's mixed training normalises within groups of "
                "continuations"
            )

    def rewards(self, samples: tf.Tensor, rollout_seed: ArrayLike) -> tf.Tensor:
        """MaliGAN's reward of every token of sample i: its normalised
        importance weight minus the baseline 1/B (the mean weight)."""
        trainer = self.trainer
        weights = trainer.critic.importance_weights(
            samples, trainer.replicas.all_reduce_sum
        )
        weights = weights - 1.0 / float(trainer.batch_size)
        return tf.broadcast_to(weights[:, tf.newaxis], tf.shape(samples))

    def generator_step(self, real, epoch, index):
        if not self.mali_continuations:
            super().generator_step(real, epoch, index)
            return
        trainer = self.trainer
        rng = np.random.default_rng(
            seeds.seed_pair(trainer.seed, seeds.MALI_REAL, epoch, index)
        )
        count = trainer.batch_size // self.mali_continuations
        rows = np.sort(rng.choice(len(real), count, replace=False))
        entry = trainer.epoch_plan[epoch] if trainer.epoch_plan else None
        trainer.mali_step(
            real[rows],
            self.mali_prefix(entry.index if entry else 0),
            seeds.seed_pair(trainer.seed, seeds.POLICY, epoch, index),
        )

    def mali_prefix(self, adversarial_round: int) -> int:
        """N, the real prefix of mixed MaliGAN in an adversarial round."""
        length = self.trainer.generator.sequence_length
        if not self.mali_prefix_decrement:
            return 0
        return max(
            0, length - self.mali_prefix_decrement * (adversarial_round + 1)
        )

    def mali_step(
        self, real: tf.Tensor, prefix_length: tf.Tensor, sample_seed: tf.Tensor
    ) -> tf.Tensor:
        """The compiled body of `SeqGAN.mali_step` (`real` already
        repeated n times)."""
        trainer = self.trainer
        n = self.mali_continuations
        length = trainer.generator.sequence_length
        samples = sampler.sample(
            trainer.generator,
            real,
            tf.fill([trainer.batch_size], prefix_length),
            sample_seed,
        )
        weights = tf.reshape(
            trainer.critic.importance_weights(samples, group_size=n), [-1]
        )
        sampled = tf.range(length)[None, :] >= prefix_length
        rewards = tf.where(
            sampled, (weights - 1.0 / n)[:, None], tf.fill([1, length], 1.0 / n)
        )
        loss, parts = self.reinforce(samples, rewards)
        trainer.g_loss_tracker.update_state(loss)
        trainer.reward_tracker.update_state(parts["mean_reward"])
        return loss
