"""The generator-objective contract and the maximum-likelihood
pretraining step every objective shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import seeds
from seqgan_tf.component import Component
from seqgan_tf.data.masks import padding_mask

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np


class Objective(Component):
    """How the generator learns in the adversarial rounds (and in MLE
    pretraining).

    A trainer binds its objective once (`bind`, inside its strategy scope)
    and calls:

    - `start()` when the adversarial phase begins;
    - `generator_step(real, epoch, index)` for each of a round's
      `generator_steps` updates, outside the compiled steps;
    - `policy_gradient_step(sample_seed, rollout_seed)`, compiled by the
      trainer (`SeqGAN.policy_gradient_step`);
    - `after_round(real, epoch, on_step)` after the round's D rounds;
    - `mle_replica(token_ids, rate, seed)` in replica context for each
      MLE pretraining step.

    `SETTINGS` lists the trainer keyword arguments (config fields) it takes.

    Examples:
        The trainer builds the objective its critic names, with the
        settings it takes:

        >>> import seqgan_tf
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> discriminator = seqgan_tf.Discriminator(
        ...     20, 6, filter_sizes=(2,), num_filters=(4,))
        >>> gan = seqgan_tf.SeqGAN(generator, discriminator, num_rollouts=4)
        >>> type(gan.objective).__name__, gan.objective.num_rollouts
        ('RolloutPolicyGradient', 4)
        >>> gan = seqgan_tf.SeqGAN(generator, discriminator,
        ...                        objective="importance", num_rollouts=1)
        >>> type(gan.objective).__name__
        'ImportanceWeights'
    """

    def start(self) -> None:
        """Called when the adversarial phase begins."""

    def generator_step(self, real: np.ndarray, epoch: int, index: int) -> None:
        """One generator update of an adversarial round."""
        raise NotImplementedError

    def policy_gradient_step(
        self, sample_seed: tf.Tensor, rollout_seed: tf.Tensor
    ) -> tf.Tensor:
        """The compiled body of `SeqGAN.policy_gradient_step`."""
        raise NotImplementedError(
            f"{type(self).__name__} makes no policy-gradient step."
        )

    def after_round(
        self,
        real: np.ndarray,
        epoch: int,
        on_step: Callable[[], None] | None = None,
    ) -> None:
        """Called after an adversarial round's D rounds."""

    def extra_steps(self) -> int:
        """Updates an adversarial round makes beyond the generator steps
        and D rounds (for progress bars)."""
        return 0

    def padding_mask(self, token_ids: tf.Tensor) -> tf.Tensor | None:
        """The mask of a variable-length generator's sequences, else None
        (every position counts)."""
        eos_id = getattr(self.trainer.generator, "eos_id", None)
        if eos_id is None:
            return None
        return padding_mask(token_ids, eos_id)

    def mle_replica(
        self,
        token_ids: tf.Tensor,
        rate: tf.Tensor | None = None,
        seed: tf.Tensor | None = None,
    ) -> tf.Tensor:
        """One teacher-forced MLE update in replica context (with `rate`:
        scheduled sampling, the true previous token with probability
        `rate`, else the generator's own sample); returns the loss."""
        trainer = self.trainer
        generator = trainer.generator
        with tf.GradientTape() as tape:
            if rate is None:
                logits = generator(token_ids, training=True)
            else:
                replicas = trainer.replicas
                logits = generator.scheduled_sampling_logits(
                    token_ids,
                    rate,
                    seed,
                    training=True,
                    row_ids=replicas.row_offset()
                    + tf.range(replicas.local_batch),
                    num_global_rows=trainer.batch_size,
                )
            total, count = losses.mle_loss_terms(
                logits, token_ids, padding_mask=self.padding_mask(token_ids)
            )
            count = trainer.replicas.all_reduce_sum(count)
            loss = total / tf.maximum(count, 1.0)
        self.apply(trainer.g_optimizer, tape, loss, generator)
        return loss

    def seeds(self, stream, epoch, index):
        """The trainer's seed pair of `stream` for (epoch, index)."""
        return seeds.seed_pair(self.trainer.seed, stream, epoch, index)
