"""LeakGAN's training (Guo et al., AAAI 2018, arXiv 1709.08624) on the
SeqGAN trainer's schedule.

The phases are SeqGAN's (`trainer.SeqGAN`): MLE pretraining, discriminator
pretraining, adversarial rounds of policy-gradient steps and D rounds. What
LeakGAN changes:

- MLE pretraining trains the Worker by maximum likelihood and the Manager
  by its cosine loss on the same real batch (`losses.leakgan_manager_loss`
  with Q = 1);
- a policy-gradient step rolls out only every c-th prefix (the Manager's
  horizon), `num_rollouts` completions each, and scores them by the
  discriminator. Each block of c tokens gets the reward of the prefix
  that ends it (the last block: of the whole sequence), rescaled over the
  batch by the bootstrapped rescaled activation
  (`rewards.rescaled_activation`, `leakgan_rescale`). The Manager's loss
  weights cos(f_{j+c} - f_j, g_j) by that reward, sequence by sequence; the
  Worker takes a REINFORCE step with its intrinsic reward
  (`losses.leakgan_intrinsic_rewards`);
- after each adversarial round's D rounds, `interleaved_mle_steps` MLE
  steps on real batches (the paper's interleaved training).

The released code's departures (the rewards ranked in order of appearance,
not by value; cosine terms averaged over the batch before the reward
multiplies them) are described in `seqgan_tf.models.leakgan`;
`leakgan_rescale="unsorted"` reproduces the first for comparison. One
global gradient-norm clip covers the Manager and the Worker together (the
released code clips each).
"""

import keras
import numpy as np
import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import rollout
from seqgan_tf import sampler
from seqgan_tf import seeds
from seqgan_tf.config import LEAKGAN_RESCALES
from seqgan_tf.models.leakgan import LeakGANGenerator
from seqgan_tf.rewards import rescaled_activation
from seqgan_tf.trainer import SeqGAN


@keras.saving.register_keras_serializable(package="seqgan_tf")
class LeakGAN(SeqGAN):
    """`SeqGAN`'s trainer for a `LeakGANGenerator`.

    Takes `SeqGAN`'s arguments (the reward must be "discriminator" or
    "constant"; one device; no scheduled sampling) and:

    Args:
        leakgan_rescale: "sorted" (the paper's rescaled activation of the
            rewards, ranked by value), "unsorted" (the released code's:
            ranked in order of appearance) or "none".
        interleaved_mle_steps: MLE steps on real batches after each
            adversarial round.
    """

    def __init__(
        self,
        generator,
        discriminator,
        *args,
        leakgan_rescale="sorted",
        interleaved_mle_steps=0,
        **kwargs,
    ):
        if not isinstance(generator, LeakGANGenerator):
            raise ValueError(
                "LeakGAN trains a LeakGANGenerator, got "
                f"{type(generator).__name__}."
            )
        if generator.discriminator is not discriminator:
            raise ValueError(
                "The LeakGANGenerator must leak the features of the "
                "discriminator it is trained against."
            )
        super().__init__(generator, discriminator, *args, **kwargs)
        if self.reward not in ("discriminator", "constant"):
            raise ValueError(
                "LeakGAN is rewarded by the discriminator (or a constant), "
                f"got reward={self.reward!r}."
            )
        if self.num_replicas > 1:
            raise ValueError(
                "LeakGAN's rescaled rewards rank each sequence among its whole "
                f"batch; train it on one device ({self.num_replicas} replicas)."
            )
        if (
            self.rollout_policy != "current"
            or self.scheduled_sampling_decrement
        ):
            raise ValueError(
                "LeakGAN rolls out with the current generator and pretrains "
                "with teacher forcing."
            )
        if leakgan_rescale not in LEAKGAN_RESCALES:
            raise ValueError(
                "`leakgan_rescale` must be one of "
                f"{', '.join(LEAKGAN_RESCALES)}, got {leakgan_rescale!r}."
            )
        if int(interleaved_mle_steps) < 0:
            raise ValueError(
                "`interleaved_mle_steps` must be >= 0, got "
                f"{interleaved_mle_steps}."
            )
        self.leakgan_rescale = leakgan_rescale
        self.interleaved_mle_steps = int(interleaved_mle_steps)

    def _mle_replica(self, token_ids, rate=None, seed=None):
        with tf.GradientTape() as tape:
            leaked = self.generator.leak(token_ids)
            total, count = losses.mle_loss_terms(leaked["logits"], token_ids)
            nll = total / tf.maximum(count, 1.0)
            loss = nll + losses.leakgan_manager_loss(
                leaked["features"], leaked["goals"], self.generator.goal_step
            )
        self._apply(
            self.g_optimizer, tape, loss, self.generator.trainable_variables
        )
        # The logged loss is the MLE's, comparable with SeqGAN's.
        return nll

    def block_rewards(self, samples, rollout_seed):
        """The extrinsic reward of every token [B, T]: the rescaled reward
        of the prefix that ends its block of c tokens."""
        length = self.generator.sequence_length
        step = self.generator.goal_step
        ends = list(range(step, length, step))
        if ends:
            raw = rollout.rollout_rewards(
                self.generator,
                self._scorer(),
                samples,
                rollout_seed,
                num_rollouts=self.num_rollouts,
                chunk_size=self.rollout_chunk_size,
                prefix_lengths=ends,
            )
        else:
            raw = tf.cast(self._scorer()(samples), tf.float32)[:, None]
        if self.reward == "discriminator":
            raw = rescaled_activation(raw, self.leakgan_rescale)
        blocks = [j // step for j in range(length)]
        return tf.gather(raw, blocks, axis=1)

    def _policy_gradient_replica(self, sample_seed, rollout_seed):
        samples = sampler.sample(
            self.generator,
            tf.zeros(
                [self.batch_size, self.generator.sequence_length], tf.int32
            ),
            tf.zeros([self.batch_size], tf.int32),
            sample_seed,
        )
        rewards = self.block_rewards(samples, rollout_seed)
        with tf.GradientTape() as tape:
            leaked = self.generator.leak(samples)
            intrinsic = losses.leakgan_intrinsic_rewards(
                leaked["features"], leaked["goals"], self.generator.goal_step
            )
            worker_loss, _ = losses.policy_gradient_loss(
                losses.token_log_probs(leaked["logits"], samples),
                intrinsic,
                reduction=self.pg_reduction,
            )
            manager_loss = losses.leakgan_manager_loss(
                leaked["features"],
                leaked["goals"],
                self.generator.goal_step,
                rewards,
            )
            loss = worker_loss + manager_loss
        self._apply(
            self.pg_optimizer, tape, loss, self.generator.trainable_variables
        )
        return (
            loss,
            tf.reduce_sum(rewards),
            tf.cast(tf.size(rewards), tf.float32),
        )

    def run_epoch(self, phase, epoch, real, on_step=None):
        super().run_epoch(phase, epoch, real, on_step)
        if phase != "adversarial" or not self.interleaved_mle_steps:
            return
        rng = np.random.default_rng(
            seeds.seed_pair(self.seed, seeds.INTERLEAVED_MLE, epoch)
        )
        for _ in range(self.interleaved_mle_steps):
            rows = rng.choice(len(real), self.batch_size, replace=False)
            self.mle_step(real[np.sort(rows)])
            if on_step is not None:
                on_step()

    def steps_per_epoch(self, phase, num_real):
        steps = super().steps_per_epoch(phase, num_real)
        if phase == "adversarial":
            steps += self.interleaved_mle_steps
        return steps

    def get_config(self):
        config = super().get_config()
        config.update(
            leakgan_rescale=self.leakgan_rescale,
            interleaved_mle_steps=self.interleaved_mle_steps,
        )
        return config

    @classmethod
    def from_config(cls, config):
        # The generator holds the discriminator it leaks: train against it.
        config = dict(config)
        config.pop("discriminator")
        generator = keras.saving.deserialize_keras_object(
            config.pop("generator")
        )
        return cls(generator, generator.discriminator, **config)
