"""LeakGAN's generator update (Guo et al., AAAI 2018, arXiv 1709.08624).

- MLE pretraining trains the Worker by maximum likelihood and the Manager
  by its cosine loss on the same real batch (`losses.leakgan_manager_loss`
  with Q = 1);
- a policy-gradient step rolls out only every c-th prefix (the Manager's
  horizon), `num_rollouts` completions each, scored by the critic. Each
  block of c tokens gets the reward of the prefix that ends it (the last
  block: of the whole sequence), rescaled over the batch by the
  bootstrapped rescaled activation (`rewards.rescaled_activation`,
  `leakgan_rescale`). The Manager's loss weights cos(f_{j+c} - f_j, g_j)
  by that reward, sequence by sequence; the Worker takes a REINFORCE step
  with its intrinsic reward (`losses.leakgan_intrinsic_rewards`);
- after each adversarial round's D rounds, `interleaved_mle_steps` MLE
  steps on real batches (the paper's interleaved training).

The released code's departures (the rewards ranked in order of appearance,
not by value; cosine terms averaged over the batch before the reward
multiplies them) are described in `seqgan_tf.models.leakgan`;
`leakgan_rescale="unsorted"` reproduces the first for comparison.

Each step (MLE and policy gradient) applies the Worker's and the Manager's
gradients in one optimizer step, each clipped to the optimizer's
`global_clipnorm` on its own (`leakgan_clip="per_module"`), as the
released code clips each module's: their variables do not overlap, and
the Worker's REINFORCE loss (with `pg_reduction="sum"` a sum over the
batch and the sequence) is about a thousand times the Manager's mean, so
one clip of both would scale the Manager's step by what the Worker's norm
says. `leakgan_clip="joint"` clips the two together (the optimizer's own
clip), as this project did before, to reproduce the runs made with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import rollout
from seqgan_tf import sampler
from seqgan_tf import seeds
from seqgan_tf.config import LEAKGAN_CLIPS
from seqgan_tf.config import LEAKGAN_RESCALES
from seqgan_tf.critics.discriminator import DiscriminatorCritic
from seqgan_tf.objectives.rollout import RolloutPolicyGradient
from seqgan_tf.rewards import rescaled_activation

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike


class LeakGANUpdate(RolloutPolicyGradient):
    """LeakGAN's Manager-Worker update of a `LeakGANGenerator`.

    Args:
        leakgan_rescale: "sorted" (the paper's rescaled activation of the
            rewards, ranked by value), "unsorted" (the released code's:
            ranked in order of appearance) or "none".
        interleaved_mle_steps: MLE steps on real batches after each
            adversarial round.
        leakgan_clip: "per_module" (the Worker's and the Manager's
            gradients each clipped to the optimizer's `global_clipnorm`)
            or "joint" (one clip of both, the optimizer's own).
        **settings: `RolloutPolicyGradient`'s `num_rollouts`,
            `rollout_chunk_size` and `pg_reduction` (the rollout policy is
            the current generator, no baseline).

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf.leakgan import LeakGAN
        >>> d = seqgan_tf.Discriminator(20, 6, filter_sizes=(2, 3),
        ...                             num_filters=(4, 4))
        >>> g = seqgan_tf.LeakGANGenerator(20, 6, d, goal_size=4, goal_step=2)
        >>> gan = LeakGAN(g, d, batch_size=4, leakgan_rescale="unsorted")
        >>> type(gan.objective).__name__, gan.objective.leakgan_rescale
        ('LeakGANUpdate', 'unsorted')
    """

    SETTINGS = RolloutPolicyGradient.SETTINGS + (
        "leakgan_rescale",
        "interleaved_mle_steps",
        "leakgan_clip",
    )

    def __init__(
        self,
        leakgan_rescale: str = "sorted",
        interleaved_mle_steps: int = 0,
        leakgan_clip: str = "per_module",
        **settings: Any,
    ):
        super().__init__(**settings)
        if leakgan_rescale not in LEAKGAN_RESCALES:
            raise ValueError(
                "`leakgan_rescale` must be one of "
                f"{', '.join(LEAKGAN_RESCALES)}, got {leakgan_rescale!r}."
            )
        if leakgan_clip not in LEAKGAN_CLIPS:
            raise ValueError(
                "`leakgan_clip` must be one of "
                f"{', '.join(LEAKGAN_CLIPS)}, got {leakgan_clip!r}."
            )
        if int(interleaved_mle_steps) < 0:
            raise ValueError(
                "`interleaved_mle_steps` must be >= 0, got "
                f"{interleaved_mle_steps}."
            )
        if self.rollout_policy != "current":
            raise ValueError(
                "LeakGAN rolls out with the current generator and pretrains "
                "with teacher forcing."
            )
        self.leakgan_rescale = leakgan_rescale
        self.interleaved_mle_steps = int(interleaved_mle_steps)
        self.leakgan_clip = leakgan_clip

    def bind(self, trainer):
        super().bind(trainer)
        self.one_device(
            "LeakGAN's rescaled rewards rank each sequence among its whole "
            "batch"
        )

    def apply_generator(self, optimizer, tape, loss):
        """Applies the gradient of `loss` (the Worker's loss plus the
        Manager's) to the generator, clipped as `leakgan_clip` says."""
        generator = self.trainer.generator
        if self.leakgan_clip == "joint":
            self.apply(optimizer, tape, loss, generator)
            return
        self.trainer.replicas.apply_clipped_apart(
            optimizer,
            tape,
            loss,
            (generator.worker_variables, generator.manager_variables),
        )

    def mle_replica(self, token_ids, rate=None, seed=None):
        trainer = self.trainer
        generator = trainer.generator
        with tf.GradientTape() as tape:
            leaked = generator.leak(token_ids)
            total, count = losses.mle_loss_terms(leaked["logits"], token_ids)
            nll = total / tf.maximum(count, 1.0)
            loss = nll + losses.leakgan_manager_loss(
                leaked["features"], leaked["goals"], generator.goal_step
            )
        self.apply_generator(trainer.g_optimizer, tape, loss)
        # The logged loss is the MLE's, comparable with SeqGAN's.
        return nll

    def block_rewards(
        self, samples: tf.Tensor, rollout_seed: ArrayLike
    ) -> tf.Tensor:
        """The extrinsic reward of every token [B, T]: the rescaled reward
        of the prefix that ends its block of c tokens."""
        trainer = self.trainer
        length = trainer.generator.sequence_length
        step = trainer.generator.goal_step
        ends = list(range(step, length, step))
        scorer = trainer.critic.scorer()
        if ends:
            raw = rollout.rollout_rewards(
                trainer.generator,
                scorer,
                samples,
                rollout_seed,
                num_rollouts=self.num_rollouts,
                chunk_size=self.rollout_chunk_size,
                prefix_lengths=ends,
            )
        else:
            raw = tf.cast(scorer(samples), tf.float32)[:, None]
        if isinstance(trainer.critic, DiscriminatorCritic):
            raw = rescaled_activation(raw, self.leakgan_rescale)
        blocks = [j // step for j in range(length)]
        return tf.gather(raw, blocks, axis=1)

    def policy_gradient_replica(self, sample_seed, rollout_seed):
        trainer = self.trainer
        generator = trainer.generator
        samples = sampler.sample(
            generator,
            tf.zeros([trainer.batch_size, generator.sequence_length], tf.int32),
            tf.zeros([trainer.batch_size], tf.int32),
            sample_seed,
        )
        rewards = self.block_rewards(samples, rollout_seed)
        with tf.GradientTape() as tape:
            leaked = generator.leak(samples)
            intrinsic = losses.leakgan_intrinsic_rewards(
                leaked["features"], leaked["goals"], generator.goal_step
            )
            worker_loss, _ = losses.policy_gradient_loss(
                losses.token_log_probs(leaked["logits"], samples),
                intrinsic,
                reduction=self.pg_reduction,
            )
            manager_loss = losses.leakgan_manager_loss(
                leaked["features"],
                leaked["goals"],
                generator.goal_step,
                rewards,
            )
            loss = worker_loss + manager_loss
        self.apply_generator(trainer.pg_optimizer, tape, loss)
        return (
            loss,
            tf.reduce_sum(rewards),
            tf.cast(tf.size(rewards), tf.float32),
        )

    def after_round(self, real, epoch, on_step=None):
        """`interleaved_mle_steps` MLE steps on real batches drawn for the
        epoch."""
        if not self.interleaved_mle_steps:
            return
        trainer = self.trainer
        rng = np.random.default_rng(
            seeds.seed_pair(trainer.seed, seeds.INTERLEAVED_MLE, epoch)
        )
        for _ in range(self.interleaved_mle_steps):
            rows = rng.choice(len(real), trainer.batch_size, replace=False)
            trainer.mle_step(real[np.sort(rows)])
            if on_step is not None:
                on_step()

    def extra_steps(self):
        return self.interleaved_mle_steps
