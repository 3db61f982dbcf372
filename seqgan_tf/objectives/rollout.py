"""SeqGAN's generator update: REINFORCE with every token rewarded by Monte
Carlo rollouts scored by the critic."""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import rollout
from seqgan_tf import sampler
from seqgan_tf import seeds
from seqgan_tf.models.generator import Generator
from seqgan_tf.objectives.base import Objective
from seqgan_tf.rewards import batch_mean_baseline

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike

REWARD_BASELINES = ("none", "batch_mean")


class RolloutPolicyGradient(Objective):
    """Sample a batch, reward every token by rollouts scored by the critic,
    take the REINFORCE step `-sum log p * reward`, then move the delayed
    rollout policy (if any) towards the generator.

    The reward of token t < T is the mean over `num_rollouts` of the
    critic's score of the prefix y1..yt completed by the rollout policy;
    the reward of token T is the score of the whole sequence.

    Args:
        num_rollouts: Monte Carlo rollouts per prefix (16).
        rollout_policy: "current" (the generator itself, what the authors'
            code runs in effect) or "delayed" (a copy updated as
            `rate * copy + (1 - rate) * generator` after each step).
        rollout_update_rate: the delayed copy's rate (0.8).
        rollout_chunk_size: completions sampled and scored at once.
        reward_baseline: "none" (the authors') or "batch_mean": each reward
            minus the batch's mean reward at its position
            (`rewards.batch_mean_baseline`).
        pg_reduction: "sum" (the authors') or "mean" over the batch.
        **settings: `Objective`'s (none).

    Examples:
        >>> from seqgan_tf.objectives import RolloutPolicyGradient
        >>> objective = RolloutPolicyGradient(
        ...     num_rollouts=2, reward_baseline="batch_mean")
        >>> objective.get_config()
        {'num_rollouts': 2, 'rollout_policy': 'current',
         'rollout_update_rate': 0.8, 'rollout_chunk_size': 4096,
         'reward_baseline': 'batch_mean', 'pg_reduction': 'sum'}
        >>> import seqgan_tf
        >>> generator = seqgan_tf.Generator(20, 6)
        >>> discriminator = seqgan_tf.Discriminator(
        ...     20, 6, filter_sizes=(2,), num_filters=(4,))
        >>> gan = seqgan_tf.SeqGAN(generator, discriminator, batch_size=4,
        ...                        objective=objective)
        >>> samples = objective.sample((0, 1))  # a batch of the generator's
        >>> objective.rewards(samples, (0, 2)).shape  # every token's reward
        TensorShape([4, 6])
    """

    SETTINGS = (
        "num_rollouts",
        "rollout_policy",
        "rollout_update_rate",
        "rollout_chunk_size",
        "reward_baseline",
        "pg_reduction",
    )

    def __init__(
        self,
        num_rollouts: int = 16,
        rollout_policy: str = "current",
        rollout_update_rate: float = 0.8,
        rollout_chunk_size: int = 4096,
        reward_baseline: str = "none",
        pg_reduction: str = "sum",
        **settings: Any,
    ):
        super().__init__(**settings)
        if rollout_policy not in ("current", "delayed"):
            raise ValueError(
                "`rollout_policy` must be 'current' or 'delayed', got "
                f"{rollout_policy!r}."
            )
        if reward_baseline not in REWARD_BASELINES:
            raise ValueError(
                "`reward_baseline` must be one of "
                f"{', '.join(REWARD_BASELINES)}, got {reward_baseline!r}."
            )
        if pg_reduction not in losses.REDUCTIONS:
            raise ValueError("`pg_reduction` must be 'sum' or 'mean'.")
        self.num_rollouts = int(num_rollouts)
        self.rollout_policy = rollout_policy
        self.rollout_update_rate = float(rollout_update_rate)
        self.rollout_chunk_size = int(rollout_chunk_size)
        self.reward_baseline = reward_baseline
        self.pg_reduction = pg_reduction
        self.rollout_generator = None

    def bind(self, trainer):
        super().bind(trainer)
        if self.rollout_policy == "delayed":
            generator = trainer.generator
            self.rollout_generator = Generator.from_config(
                generator.get_config()
            )
            self.rollout_generator.set_weights(generator.get_weights())
            self.rollout_generator.trainable = False

    def start(self):
        """The delayed rollout policy starts as the pretrained generator
        (the authors build their rollout module after pretraining)."""
        if self.rollout_generator is not None:
            self.rollout_generator.set_weights(
                self.trainer.generator.get_weights()
            )

    def checkpoint_objects(self):
        if self.rollout_generator is None:
            return {}
        return {"rollout_generator": self.rollout_generator}

    def generator_step(self, real, epoch, index):
        trainer = self.trainer
        trainer.critic.before_generator_step(real, epoch, index)
        trainer.policy_gradient_step(
            seeds.seed_pair(trainer.seed, seeds.POLICY, epoch, index),
            seeds.seed_pair(trainer.seed, seeds.ROLLOUT, epoch, index),
        )

    def policy_gradient_step(self, sample_seed, rollout_seed):
        trainer = self.trainer
        replicas = trainer.replicas
        with replicas.strategy.scope():
            loss, reward_sum, reward_count = replicas.strategy.run(
                self.policy_gradient_replica, args=(sample_seed, rollout_seed)
            )
            loss = replicas.reduce_sum(loss)
            self._update_rollout_policy()
            trainer.g_loss_tracker.update_state(loss)
            trainer.reward_tracker.update_state(
                replicas.reduce_sum(reward_sum)
                / tf.maximum(replicas.reduce_sum(reward_count), 1.0)
            )
            return loss

    def sample(self, sample_seed: ArrayLike) -> tf.Tensor:
        """This replica's rows of a sampled global batch: int32 [B, T]."""
        trainer = self.trainer
        replicas = trainer.replicas
        local_batch = replicas.local_batch
        return sampler.sample(
            trainer.generator,
            tf.zeros(
                [local_batch, trainer.generator.sequence_length], tf.int32
            ),
            tf.zeros([local_batch], tf.int32),
            sample_seed,
            row_ids=replicas.row_offset() + tf.range(local_batch),
            num_global_rows=trainer.batch_size,
        )

    def rewards(self, samples: tf.Tensor, rollout_seed: ArrayLike) -> tf.Tensor:
        """The reward of every token [B, T] of this replica's samples."""
        trainer = self.trainer
        return rollout.rollout_rewards(
            self.rollout_generator or trainer.generator,
            trainer.critic.scorer(),
            samples,
            rollout_seed,
            num_rollouts=self.num_rollouts,
            chunk_size=self.rollout_chunk_size,
            batch_row_offset=trainer.replicas.row_offset(),
            global_batch_size=trainer.batch_size,
        )

    def policy_gradient_replica(self, sample_seed, rollout_seed):
        trainer = self.trainer
        samples = self.sample(sample_seed)
        rewards = self.rewards(samples, rollout_seed)
        if self.reward_baseline == "batch_mean":
            rewards = batch_mean_baseline(
                rewards,
                self.padding_mask(samples),
                trainer.replicas.all_reduce_sum,
            )
        loss, parts = self.reinforce(
            samples, rewards, global_batch_size=trainer.batch_size
        )
        return loss, parts["reward_sum"], parts["reward_count"]

    def reinforce(
        self,
        samples: tf.Tensor,
        rewards: tf.Tensor,
        global_batch_size: int | None = None,
    ) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """The REINFORCE update `-sum log p * reward` of the generator on
        `samples` (a variable-length sequence's positions after its EOS
        take no part), applied with the policy-gradient optimizer;
        returns `losses.policy_gradient_loss`'s (loss, parts)."""
        trainer = self.trainer
        with tf.GradientTape() as tape:
            log_probs = trainer.generator.log_prob(samples, training=True)
            loss, parts = losses.policy_gradient_loss(
                log_probs,
                rewards,
                reduction=self.pg_reduction,
                padding_mask=self.padding_mask(samples),
                global_batch_size=global_batch_size,
            )
        self.apply(trainer.pg_optimizer, tape, loss, trainer.generator)
        return loss, parts

    def _update_rollout_policy(self):
        if self.rollout_generator is None:
            return
        rate = self.rollout_update_rate
        for target, source in zip(
            self.rollout_generator.weights, self.trainer.generator.weights
        ):
            target.assign(rate * target + (1.0 - rate) * source)
