"""The SeqGAN trainer: MLE pretraining, D pretraining, adversarial training.

A `keras.Model` in the keras-io GAN pattern (one optimizer per update,
`Mean` trackers), whose `train()` drives standard Keras callbacks.
"""

import itertools
import math
import time

import keras
import numpy as np
import tensorflow as tf

from seqgan_tf import losses
from seqgan_tf import metrics
from seqgan_tf import rollout
from seqgan_tf import sampler
from seqgan_tf import schedule as schedule_lib
from seqgan_tf import seeds
from seqgan_tf.data import pipeline
from seqgan_tf.data.masks import padding_mask
from seqgan_tf.models.generator import Generator
from seqgan_tf.models.ranker import Ranker
from seqgan_tf.optimizers import FusedAdam
from seqgan_tf.progress import PhaseProgress
from seqgan_tf.rewards import BleuReward
from seqgan_tf.rewards import batch_mean_baseline
from seqgan_tf.rewards import importance_weights

# What rewards the policy gradient: the discriminator's P(real) (SeqGAN), a
# constant (ablation), BLEU-3 against a share of the real data (PG-BLEU),
# MaliGAN's normalised importance weights of whole sequences, or RankGAN's
# rank score.
REWARDS = ("discriminator", "constant", "bleu", "importance", "rank")
REWARD_BASELINES = ("none", "batch_mean")


@keras.saving.register_keras_serializable(package="seqgan_tf")
class SeqGAN(keras.Model):
    """Trains a `Generator` against a `Discriminator` as the SeqGAN paper does.

    `train()` runs the three phases of the authors' code in order, as one
    sequence of epochs that standard Keras callbacks (TensorBoard,
    CSVLogger, EarlyStopping, ...) observe:

    1. `generator_epochs` epochs of MLE pretraining on the real data;
    2. `discriminator_rounds` rounds of D pretraining: each samples
       `num_negatives` sequences from the generator and runs
       `discriminator_epochs` epochs over real + generated sequences;
    3. `adversarial_rounds` rounds: `generator_steps` policy-gradient steps
       (a batch is sampled, every token is rewarded by Monte Carlo rollouts
       scored by D, the loss is `-sum log p * reward`), then
       `discriminator_steps` D rounds as in phase 2.

    Each update is a public step: `mle_step`, `discriminator_step`,
    `policy_gradient_step`; `discriminator_round` is one D round. An
    epoch logs what its phase measures: `g_loss` (MLE, adversarial),
    `d_loss` and `d_accuracy` (D rounds), `mean_reward` (adversarial),
    `nll_oracle` / `nll_test` where measured, plus `phase` (0, 1, 2) and
    `seconds`. NLL-oracle is measured every `eval_every` epochs of phases
    1 and 3 and at the end of each, when an oracle is given.

    Why `train()` and not `fit()`: an adversarial round is one policy-
    gradient step followed by D rounds, each on negatives freshly sampled
    from the generator, and the three phases share one epoch count that
    checkpoints and resumption refer to. Keras' `fit` runs one `train_step`
    over one dataset; expressing the schedule with it would need three
    `fit` calls (three `History` objects, callbacks begun and ended three
    times) or datasets rebuilt inside an epoch. So `keras.Model.fit` is
    left as Keras defines it (and `train_step` says to call `train()`),
    while `train()` drives the standard callbacks through
    `keras.callbacks.CallbackList` as `fit` does.

    Randomness is derived from `seed` and the epoch number only, so a run
    resumed from a checkpoint with `initial_epoch` continues exactly as the
    uninterrupted run would.

    Args:
        generator: the `Generator` to train.
        discriminator: the `Discriminator`.
        oracle: optional `OracleLSTM` for NLL-oracle.
        batch_size: sequences per step.
        num_negatives: generated sequences per D round; each round pairs
            them with as many real sequences (all of them when the real
            data is no larger).
        discriminator_epochs: D epochs per D round.
        generator_steps: PG steps per adversarial round.
        discriminator_steps: D rounds per adversarial round.
        num_rollouts: Monte Carlo rollouts per prefix.
        rollout_policy: "current" (the authors' code in effect) or "delayed".
        rollout_update_rate: update rate of the delayed rollout copy.
        rollout_chunk_size: completions sampled and scored at once.
        reward: "discriminator" (SeqGAN), "constant" (ablation), "bleu"
            (PG-BLEU: BLEU-3 of the completed sequence against a fixed
            random `bleu_reference_fraction` of the real data, see
            `rewards.BleuReward`), "importance" (MaliGAN: no rollouts;
            every token of sample i gets w_i - 1/B, where w are the
            normalised importance weights D/(1-D) of the batch,
            `rewards.importance_weights`) or "rank" (RankGAN: the
            rollouts are scored by the `Ranker`'s rank score among the
            batch's completions, against `rank_references` real
            sequences drawn for each step; needs a `Ranker` and one
            device).
        constant_reward: reward of the constant ablation.
        reward_baseline: "none" (the authors') or "batch_mean": each
            reward minus the batch's mean reward at its position
            (`rewards.batch_mean_baseline`).
        adversarial_real: "fixed" (the authors': the adversarial D rounds
            take their real half from `x`) or "fresh" (from `num_negatives`
            new oracle samples every round; needs the oracle).
        pg_reduction: "sum" (authors) or "mean".
        generator_shuffle: reshuffle real data every MLE epoch.
        scheduled_sampling_decrement: 0 for teacher-forced MLE; else MLE
            epoch k (from 0) feeds the true previous token with probability
            `max(0, 1 - decrement * (k + 1))` and a sample of the generator
            otherwise (`scheduled_sampling_step`), as the authors' old
            scheduled-sampling baseline lowered its rate before each epoch.
        bleu_reference_fraction: the share of the real data that is the
            BLEU reward's references.
        rank_references: the size of RankGAN's reference set, drawn from
            the real data (with replacement) for each ranker step (from
            the round's real half) and each policy-gradient step.
        mali_continuations: 0 (MaliGAN's basic algorithm), or n > 1 for its
            mixed MLE-Mali training (`mali_step`): each step takes
            `batch_size / n` real sequences, keeps the first N tokens of
            each and samples n continuations; the weights are normalised
            within each group of n, and the real prefixes get MLE.
        mali_prefix_decrement: K, how many tokens the real prefix loses
            each adversarial round: N = max(0, T - K (r + 1)) in round r.
        eval_every: NLL-oracle period in epochs of the MLE and adversarial
            phases, which are also measured at their last epoch (0: only
            then). Nothing is measured without an oracle.
        eval_samples: samples per NLL-oracle.
        probe_samples: 0, or the sequences of each kind with which
            `metrics.discriminator_probe` judges the discriminator after
            every epoch with D rounds (and every adversarial round); needs
            the oracle. Logged as `schedule.PROBE_KEYS`.
        seed: int, the root of all randomness.

    Distribution: the `tf.distribute` strategy in scope at construction
    (`tf.distribute.get_strategy()`: the default one-device strategy
    outside any scope) runs every step. Create the models and the `SeqGAN`
    inside `strategy.scope()`; `compile()` creates the optimizers in the
    same scope. Each step splits its global batch of `batch_size` rows
    into `num_replicas_in_sync` equal slices (`batch_size` must be a
    multiple), scales the losses for the global batch and sums the
    gradients across replicas before clipping and applying them, so the
    update is the single-device one. Every random draw of sampling and
    rollouts is addressed by global row (`seqgan_tf.sampler.sample`), so
    with dropout 0 a run on several replicas gives the weights of the run
    on one device, to float rounding. Dropout masks are drawn per replica:
    with dropout the runs are statistically equivalent, not equal.

    Mixed precision: models built under a `keras.mixed_precision` policy
    ("mixed_bfloat16", "mixed_float16") compute in low precision while
    logits, losses and rewards stay float32; under "mixed_float16"
    `compile()` wraps the optimizers in `keras.optimizers.LossScaleOptimizer`.

    Example:

    ```python
    oracle = seqgan_tf.OracleLSTM.from_paper()
    real = oracle.generate(9984, seed=(0, 88)).numpy()
    gan = seqgan_tf.SeqGAN(
        seqgan_tf.Generator(5000, 20), seqgan_tf.Discriminator(5000, 20),
        oracle=oracle,
    )
    gan.compile()
    history = gan.train(real, generator_epochs=120, discriminator_rounds=50,
                        adversarial_rounds=200)
    ```
    """

    def __init__(
        self,
        generator,
        discriminator,
        oracle=None,
        batch_size=64,
        num_negatives=9984,
        discriminator_epochs=3,
        generator_steps=1,
        discriminator_steps=5,
        num_rollouts=16,
        rollout_policy="current",
        rollout_update_rate=0.8,
        rollout_chunk_size=4096,
        reward="discriminator",
        constant_reward=1.0,
        reward_baseline="none",
        adversarial_real="fixed",
        pg_reduction="sum",
        generator_shuffle=False,
        scheduled_sampling_decrement=0.0,
        bleu_reference_fraction=0.4,
        rank_references=16,
        mali_continuations=0,
        mali_prefix_decrement=0,
        eval_every=5,
        eval_samples=9984,
        probe_samples=0,
        seed=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self._strategy = tf.distribute.get_strategy()
        self.num_replicas = int(self._strategy.num_replicas_in_sync)
        if int(batch_size) % self.num_replicas:
            raise ValueError(
                f"`batch_size` ({batch_size}) must be a multiple of the "
                f"number of replicas ({self.num_replicas}) of the "
                f"{type(self._strategy).__name__}: each replica takes an "
                "equal slice of every batch."
            )
        if generator.sequence_length != discriminator.sequence_length:
            raise ValueError(
                "Generator and discriminator disagree on sequence_length: "
                f"{generator.sequence_length} vs "
                f"{discriminator.sequence_length}."
            )
        if generator.vocabulary_size != discriminator.vocabulary_size:
            raise ValueError(
                "Generator and discriminator disagree on vocabulary_size: "
                f"{generator.vocabulary_size} vs "
                f"{discriminator.vocabulary_size}."
            )
        eos_id = getattr(generator, "eos_id", None)
        d_pad_id = getattr(discriminator, "pad_id", None)
        if eos_id is not None and d_pad_id != generator.pad_id:
            # The generator pads after EOS with its pad_id; a discriminator
            # that does not know it would judge the padding as tokens.
            raise ValueError(
                "A variable-length generator (eos_id="
                f"{eos_id}, pad_id={generator.pad_id}) needs a discriminator "
                f"with the same pad_id; got pad_id={d_pad_id}."
            )
        if rollout_policy not in ("current", "delayed"):
            raise ValueError(
                "`rollout_policy` must be 'current' or 'delayed', got "
                f"{rollout_policy!r}."
            )
        if reward not in REWARDS:
            raise ValueError(
                f"`reward` must be one of {', '.join(REWARDS)}, got {reward!r}."
            )
        if reward_baseline not in REWARD_BASELINES:
            raise ValueError(
                "`reward_baseline` must be one of "
                f"{', '.join(REWARD_BASELINES)}, got {reward_baseline!r}."
            )
        if adversarial_real not in ("fixed", "fresh"):
            raise ValueError(
                "`adversarial_real` must be 'fixed' or 'fresh', got "
                f"{adversarial_real!r}."
            )
        if adversarial_real == "fresh" and oracle is None:
            raise ValueError(
                "`adversarial_real='fresh'` samples real sequences from the "
                "oracle; give the `oracle`."
            )
        ranker = isinstance(discriminator, Ranker)
        if ranker != (reward == "rank"):
            raise ValueError(
                "RankGAN's `reward='rank'` and a `Ranker` go together; got "
                f"reward={reward!r} with a {type(discriminator).__name__}."
            )
        if ranker and self.num_replicas > 1:
            raise ValueError(
                "RankGAN ranks each sequence among its whole batch; train it "
                f"on one device (the strategy has {self.num_replicas} "
                "replicas)."
            )
        if pg_reduction not in losses.REDUCTIONS:
            raise ValueError("`pg_reduction` must be 'sum' or 'mean'.")
        self.generator = generator
        self.discriminator = discriminator
        self.oracle = oracle
        self.batch_size = int(batch_size)
        self.num_negatives = int(num_negatives)
        self.discriminator_epochs = int(discriminator_epochs)
        self.generator_steps = int(generator_steps)
        self.discriminator_steps = int(discriminator_steps)
        self.num_rollouts = int(num_rollouts)
        self.rollout_policy = rollout_policy
        self.rollout_update_rate = float(rollout_update_rate)
        self.rollout_chunk_size = int(rollout_chunk_size)
        self.reward = reward
        self.constant_reward = float(constant_reward)
        self.reward_baseline = reward_baseline
        self.adversarial_real = adversarial_real
        self.probe_samples = int(probe_samples)
        # (positives, negatives) of each D round of the current epoch.
        self._round_data = []
        self.pg_reduction = pg_reduction
        self.generator_shuffle = bool(generator_shuffle)
        self.scheduled_sampling_decrement = float(scheduled_sampling_decrement)
        self.bleu_reference_fraction = float(bleu_reference_fraction)
        self.bleu_reward = None
        self.mali_continuations = int(mali_continuations)
        self.mali_prefix_decrement = int(mali_prefix_decrement)
        if self.mali_continuations:
            if reward != "importance" or self.mali_continuations < 2:
                raise ValueError(
                    "`mali_continuations` (MaliGAN's mixed training) needs "
                    "reward='importance' and at least 2 continuations, got "
                    f"{reward!r} and {mali_continuations}."
                )
            if self.batch_size % self.mali_continuations:
                raise ValueError(
                    f"`batch_size` ({batch_size}) must be a multiple of "
                    f"`mali_continuations` ({mali_continuations})."
                )
            if self.num_replicas > 1:
                raise ValueError(
                    "MaliGAN's mixed training normalises within groups of "
                    "continuations; train it on one device."
                )
        if self.mali_prefix_decrement < 0:
            raise ValueError(
                "`mali_prefix_decrement` must be >= 0, got "
                f"{mali_prefix_decrement}."
            )
        self.rank_references = int(rank_references)
        if self.rank_references < 1:
            raise ValueError(
                f"`rank_references` must be >= 1, got {rank_references}."
            )
        self.eval_every = int(eval_every)
        self.eval_samples = int(eval_samples)
        self.seed = int(seed)
        self.rollout_generator = None
        self.epoch_plan = []
        self.phase_steps = {}
        with self._strategy.scope():
            if rollout_policy == "delayed":
                self.rollout_generator = Generator.from_config(
                    generator.get_config()
                )
                self.rollout_generator.set_weights(generator.get_weights())
                self.rollout_generator.trainable = False
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.d_accuracy_tracker = keras.metrics.Mean(name="d_accuracy")
            self.reward_tracker = keras.metrics.Mean(name="mean_reward")
            # RankGAN's reference sentences, drawn again before each step
            # that reads them (so not part of a checkpoint).
            self.references = None
            if ranker:
                self.references = tf.Variable(
                    tf.zeros(
                        [self.rank_references, generator.sequence_length],
                        tf.int32,
                    ),
                    trainable=False,
                    name="rank_references",
                )
        self._steps = {}
        # No weights of its own: the generator and discriminator hold them.
        self.built = True

    @property
    def strategy(self):
        """The `tf.distribute.Strategy` the steps run under."""
        return self._strategy

    @property
    def metrics(self):
        return [
            self.g_loss_tracker,
            self.d_loss_tracker,
            self.d_accuracy_tracker,
            self.reward_tracker,
        ]

    def compile(
        self, g_optimizer=None, d_optimizer=None, pg_optimizer=None, **kwargs
    ):
        """Sets one optimizer per update: generator MLE, discriminator, and
        the generator's policy gradient (the authors use a separate Adam for
        the adversarial updates). Defaults are the paper's.

        Under a "mixed_float16" policy (global, or the generator's) each
        optimizer that is not already a `LossScaleOptimizer` is wrapped in
        one. Optimizers are created and built in the trainer's strategy
        scope."""
        super().compile(**kwargs)
        with self._strategy.scope():
            self.g_optimizer = g_optimizer or FusedAdam(
                0.01, global_clipnorm=5.0
            )
            self.d_optimizer = d_optimizer or FusedAdam(1e-4)
            self.pg_optimizer = pg_optimizer or FusedAdam(
                0.01, global_clipnorm=5.0
            )
            if _uses_float16(self.generator) or _uses_float16(
                self.discriminator
            ):
                self.g_optimizer = _loss_scaled(self.g_optimizer)
                self.d_optimizer = _loss_scaled(self.d_optimizer)
                self.pg_optimizer = _loss_scaled(self.pg_optimizer)
            # Build the slots now, so checkpoints restore into existing
            # variables.
            self.g_optimizer.build(self.generator.trainable_variables)
            self.pg_optimizer.build(self.generator.trainable_variables)
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.generator.compile(run_eagerly=self.run_eagerly)
        self._steps = {}

    def train_step(self, data):
        raise NotImplementedError(
            "SeqGAN alternates phases that one `fit()` cannot express; "
            "train it with `SeqGAN.train(...)`, or call `mle_step`, "
            "`discriminator_step` and `policy_gradient_step` yourself."
        )

    # --- the three updates ------------------------------------------------
    #
    # Each public step takes a global batch, runs `strategy.run` of its
    # replica body on per-replica slices (one replica and the same code
    # under the default strategy), sums the per-replica losses (already
    # scaled for the global batch) and updates the trackers.

    def mle_step(self, token_ids):
        """One maximum-likelihood (teacher-forced) update of the generator.

        Args:
            token_ids: int [B, T], a global batch of real sequences.

        Returns:
            The mean per-token NLL of the batch (float32 scalar).
        """
        return self._compiled("mle", self._mle_step)(
            self._distribute(token_ids)
        )

    def scheduled_sampling_step(self, token_ids, rate, seed):
        """One MLE update of the generator with scheduled sampling: each
        input token is the true previous token with probability `rate`,
        else the generator's own sample
        (`Generator.scheduled_sampling_logits`); `rate` 1 is `mle_step`.

        Args:
            token_ids: int [B, T], a global batch of real sequences.
            rate: float in [0, 1].
            seed: int32 [2], the seed of the coins and the samples.
        """
        return self._compiled("scheduled_sampling", self._ss_step)(
            self._distribute(token_ids),
            tf.constant(rate, tf.float32),
            tf.convert_to_tensor(seed, tf.int32),
        )

    def discriminator_step(self, token_ids, labels):
        """One update of the discriminator on real (label 1) and generated
        (label 0) sequences; returns its loss (`losses.discriminator_loss`).

        Args:
            token_ids: int [B, T].
            labels: int [B].
        """
        return self._compiled("discriminator", self._discriminator_step)(
            self._distribute(token_ids), self._distribute(labels)
        )

    def policy_gradient_step(self, sample_seed, rollout_seed):
        """One REINFORCE update of the generator: sample a batch, reward
        every token by Monte Carlo rollouts scored by the discriminator (or
        the constant reward), take the policy-gradient step, then move the
        delayed rollout policy (if any) towards the generator.

        Args:
            sample_seed: int32 [2], the seed of the sampled batch.
            rollout_seed: int32 [2], the seed of the rollouts.

        Returns:
            The policy-gradient loss (`losses.policy_gradient_loss`).
        """
        return self._compiled("policy_gradient", self._policy_gradient_step)(
            tf.convert_to_tensor(sample_seed, tf.int32),
            tf.convert_to_tensor(rollout_seed, tf.int32),
        )

    def mali_step(self, real, prefix_length, sample_seed):
        """One update of MaliGAN's mixed MLE-Mali training (Che et al.
        2017, the sequential algorithm with variance reduction): the first
        `prefix_length` tokens of each of `batch_size / n` real sequences
        are kept and n continuations of each are sampled; each continuation
        is weighted by D/(1-D) normalised within its group of n, minus 1/n,
        on its sampled tokens, and each real prefix is learnt by maximum
        likelihood (weight 1/n on each of its n copies).

        Args:
            real: int [batch_size / n, T] real sequences.
            prefix_length: int, N (0: no real prefix, groups of n samples).
            sample_seed: int32 [2].
        """
        n = self.mali_continuations
        real = tf.repeat(tf.convert_to_tensor(real, tf.int32), n, axis=0)
        return self._compiled("mali", self._mali_step)(
            real,
            tf.constant(prefix_length, tf.int32),
            tf.convert_to_tensor(sample_seed, tf.int32),
        )

    def _mali_step(self, real, prefix_length, sample_seed):
        n = self.mali_continuations
        length = self.generator.sequence_length
        samples = sampler.sample(
            self.generator,
            real,
            tf.fill([self.batch_size], prefix_length),
            sample_seed,
        )
        p_real = tf.reshape(self.discriminator.predict_real(samples), [-1, n])
        weights = tf.reshape(
            importance_weights(tf.reshape(p_real, [-1]), group_size=n), [-1]
        )
        sampled = tf.range(length)[None, :] >= prefix_length
        rewards = tf.where(
            sampled, (weights - 1.0 / n)[:, None], tf.fill([1, length], 1.0 / n)
        )
        with tf.GradientTape() as tape:
            log_probs = self.generator.log_prob(samples, training=True)
            loss, parts = losses.policy_gradient_loss(
                log_probs, rewards, reduction=self.pg_reduction
            )
        self._apply(
            self.pg_optimizer, tape, loss, self.generator.trainable_variables
        )
        self.g_loss_tracker.update_state(loss)
        self.reward_tracker.update_state(parts["mean_reward"])
        return loss

    def mali_prefix(self, adversarial_round):
        """N, the real prefix of mixed MaliGAN in an adversarial round."""
        length = self.generator.sequence_length
        if not self.mali_prefix_decrement:
            return 0
        return max(
            0, length - self.mali_prefix_decrement * (adversarial_round + 1)
        )

    def _mle_step(self, token_ids):
        with self._strategy.scope():
            loss = self._reduce_sum(
                self._strategy.run(self._mle_replica, args=(token_ids,))
            )
            self.g_loss_tracker.update_state(loss)
            return loss

    def _ss_step(self, token_ids, rate, seed):
        with self._strategy.scope():
            loss = self._reduce_sum(
                self._strategy.run(
                    self._mle_replica, args=(token_ids, rate, seed)
                )
            )
            self.g_loss_tracker.update_state(loss)
            return loss

    def _mle_replica(self, token_ids, rate=None, seed=None):
        with tf.GradientTape() as tape:
            if rate is None:
                logits = self.generator(token_ids, training=True)
            else:
                local_batch = self.batch_size // self.num_replicas
                logits = self.generator.scheduled_sampling_logits(
                    token_ids,
                    rate,
                    seed,
                    training=True,
                    row_ids=self._replica_offset() + tf.range(local_batch),
                    num_global_rows=self.batch_size,
                )
            total, count = losses.mle_loss_terms(
                logits, token_ids, padding_mask=self._padding_mask(token_ids)
            )
            count = tf.distribute.get_replica_context().all_reduce(
                tf.distribute.ReduceOp.SUM, count
            )
            loss = total / tf.maximum(count, 1.0)
        self._apply(
            self.g_optimizer, tape, loss, self.generator.trainable_variables
        )
        return loss

    def _discriminator_step(self, token_ids, labels):
        with self._strategy.scope():
            loss, correct = self._strategy.run(
                self._discriminator_replica, args=(token_ids, labels)
            )
            loss = self._reduce_sum(loss)
            self.d_loss_tracker.update_state(loss)
            self.d_accuracy_tracker.update_state(
                self._reduce_sum(correct) / float(self.batch_size)
            )
            return loss

    def _discriminator_replica(self, token_ids, labels):
        with tf.GradientTape() as tape:
            if self.references is not None:
                # RankGAN: one device (checked at construction).
                loss, correct = losses.rank_loss(
                    self.discriminator.scores(
                        token_ids, self.references, training=True
                    ),
                    labels,
                )
            else:
                logits = self.discriminator(token_ids, training=True)
                loss, correct = losses.discriminator_loss(
                    logits,
                    labels,
                    regularization=keras.ops.sum(self.discriminator.losses),
                    global_batch_size=self.batch_size,
                    num_replicas=self.num_replicas,
                )
        self._apply(
            self.d_optimizer,
            tape,
            loss,
            self.discriminator.trainable_variables,
        )
        return loss, correct

    def _policy_gradient_step(self, sample_seed, rollout_seed):
        with self._strategy.scope():
            loss, reward_sum, reward_count = self._strategy.run(
                self._policy_gradient_replica, args=(sample_seed, rollout_seed)
            )
            loss = self._reduce_sum(loss)
            self._update_rollout_policy()
            self.g_loss_tracker.update_state(loss)
            self.reward_tracker.update_state(
                self._reduce_sum(reward_sum)
                / tf.maximum(self._reduce_sum(reward_count), 1.0)
            )
            return loss

    def _policy_gradient_replica(self, sample_seed, rollout_seed):
        # This replica's rows of the global batch, with their global ids.
        local_batch = self.batch_size // self.num_replicas
        offset = self._replica_offset()
        samples = sampler.sample(
            self.generator,
            tf.zeros([local_batch, self.generator.sequence_length], tf.int32),
            tf.zeros([local_batch], tf.int32),
            sample_seed,
            row_ids=offset + tf.range(local_batch),
            num_global_rows=self.batch_size,
        )
        if self.reward == "importance":
            rewards = self._importance_rewards(samples)
        else:
            rewards = rollout.rollout_rewards(
                self.rollout_generator or self.generator,
                self._scorer(),
                samples,
                rollout_seed,
                num_rollouts=self.num_rollouts,
                chunk_size=self.rollout_chunk_size,
                batch_row_offset=offset,
                global_batch_size=self.batch_size,
            )
        if self.reward_baseline == "batch_mean":
            context = tf.distribute.get_replica_context()
            rewards = batch_mean_baseline(
                rewards,
                self._padding_mask(samples),
                lambda value: context.all_reduce(
                    tf.distribute.ReduceOp.SUM, value
                ),
            )
        with tf.GradientTape() as tape:
            log_probs = self.generator.log_prob(samples, training=True)
            loss, parts = losses.policy_gradient_loss(
                log_probs,
                rewards,
                reduction=self.pg_reduction,
                padding_mask=self._padding_mask(samples),
                global_batch_size=self.batch_size,
            )
        self._apply(
            self.pg_optimizer, tape, loss, self.generator.trainable_variables
        )
        return loss, parts["reward_sum"], parts["reward_count"]

    def _importance_rewards(self, samples):
        """MaliGAN's reward of every token of sample i: its normalised
        importance weight minus the baseline 1/B (the mean weight), so the
        rewards of a batch sum to 0 (Che et al. 2017, algorithm 1)."""
        context = tf.distribute.get_replica_context()
        weights = importance_weights(
            self.discriminator.predict_real(samples),
            lambda value: context.all_reduce(tf.distribute.ReduceOp.SUM, value),
        )
        weights = weights - 1.0 / float(self.batch_size)
        return tf.broadcast_to(weights[:, tf.newaxis], tf.shape(samples))

    def _replica_offset(self):
        """The global index of this replica's first row of a batch."""
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        local_batch = self.batch_size // self.num_replicas
        return tf.cast(replica, tf.int32) * local_batch

    def _scorer(self):
        """The rollouts' scorer: the discriminator's P(real), the constant
        reward of the ablation, or PG-BLEU's BLEU reward."""
        if self.reward == "constant":
            return self._constant_score
        if self.reward == "bleu":
            return self.bleu_reward
        if self.reward == "rank":
            return self.discriminator.scorer(self.references)
        return self.discriminator.scorer

    def _constant_score(self, token_ids):
        return tf.fill(tf.shape(token_ids)[:1], self.constant_reward)

    def _start_rollout_policy(self):
        """The delayed rollout policy starts as the pretrained generator
        (the authors build their rollout module after pretraining)."""
        if self.rollout_generator is not None:
            self.rollout_generator.set_weights(self.generator.get_weights())

    def _update_rollout_policy(self):
        if self.rollout_generator is None:
            return
        rate = self.rollout_update_rate
        for target, source in zip(
            self.rollout_generator.weights, self.generator.weights
        ):
            target.assign(rate * target + (1.0 - rate) * source)

    def _padding_mask(self, token_ids):
        """The mask of a variable-length generator's sequences, else None
        (every position counts)."""
        eos_id = getattr(self.generator, "eos_id", None)
        if eos_id is None:
            return None
        return padding_mask(token_ids, eos_id)

    def _compiled(self, name, function):
        if name not in self._steps:
            self._steps[name] = (
                function if self.run_eagerly else tf.function(function)
            )
        return self._steps[name]

    def _reduce_sum(self, value):
        return self._strategy.reduce(tf.distribute.ReduceOp.SUM, value, None)

    def _distribute(self, batch):
        """Per-replica slices of a global batch: replica r gets rows
        [r * B / R, (r + 1) * B / R)."""
        batch = tf.convert_to_tensor(batch)
        if self.num_replicas == 1:
            return batch
        per_replica = batch.shape[0] // self.num_replicas

        def value_fn(context):
            index = context.replica_id_in_sync_group
            return batch[index * per_replica : (index + 1) * per_replica]

        return self._strategy.experimental_distribute_values_from_function(
            value_fn
        )

    def _apply(self, optimizer, tape, loss, variables):
        """Applies the gradient of `loss` summed over replicas.

        Called in replica context with `loss` scaled for the global batch.
        Keras optimizers clip (`clipnorm`, `global_clipnorm`, `clipvalue`)
        each replica's own gradient before summing them; so with several
        replicas and clipping the gradients are summed here first, clipped
        as the single-device gradient would be, and handed over divided by
        the number of replicas (the optimizer's own clipping is then a
        no-op and its sum restores them)."""
        with tape:  # Loss scaling (mixed float16) must be recorded too.
            scaled = optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        inner = getattr(optimizer, "inner_optimizer", optimizer)
        if self.num_replicas > 1 and _clips(inner):
            context = tf.distribute.get_replica_context()
            grads = context.all_reduce(
                tf.distribute.ReduceOp.SUM,
                [tf.convert_to_tensor(g) for g in grads],
            )
            factor = 1.0
            if inner is not optimizer:  # LossScaleOptimizer: clip unscaled.
                factor = tf.cast(optimizer.dynamic_scale, tf.float32)
            grads = _clip([g / factor for g in grads], inner)
            grads = [g * (factor / self.num_replicas) for g in grads]
        optimizer.apply(grads, variables)

    # --- rounds and epochs ------------------------------------------------

    def discriminator_round(
        self, real, epoch, index=0, on_step=None, fresh_real=False
    ):
        """One D round: `num_negatives` fresh generated sequences against as
        many real ones, `discriminator_epochs` passes of
        `discriminator_step` over them (`data.discriminator_dataset`).

        Args:
            real: int [N, T] real sequences.
            epoch, index: the global epoch and the round's index in it,
                which seed the negatives, the positives and the order.
            on_step: called after every step.
            fresh_real: take the positives from `num_negatives` new oracle
                samples instead of `real`.
        """
        negatives = sampler.sample_many(
            self.generator,
            self.num_negatives,
            seed=seeds.seed_pair(self.seed, seeds.NEGATIVES, epoch, index),
        )
        if fresh_real:
            positives = sampler.sample_many(
                self.oracle,
                self.num_negatives,
                seed=seeds.seed_pair(self.seed, seeds.FRESH_REAL, epoch, index),
            )
        else:
            positives = self._positives(real, epoch, index)
        self._round_data.append((positives, negatives))
        dataset = pipeline.discriminator_dataset(
            positives,
            negatives,
            self.batch_size,
            seed=(self.seed, seeds.SHUFFLE, epoch, index),
            epochs=self.discriminator_epochs,
        )
        for step, (token_ids, labels) in enumerate(dataset):
            if self.references is not None:
                self._draw_references(positives, epoch, index, step)
            self.discriminator_step(token_ids, labels)
            _call(on_step)

    def _mixed_mali_step(self, real, epoch, index):
        """`mali_step` on real sequences drawn for (epoch, step index),
        with the prefix of the epoch's adversarial round."""
        rng = np.random.default_rng(
            seeds.seed_pair(self.seed, seeds.MALI_REAL, epoch, index)
        )
        count = self.batch_size // self.mali_continuations
        rows = np.sort(rng.choice(len(real), count, replace=False))
        entry = self.epoch_plan[epoch] if self.epoch_plan else None
        self.mali_step(
            real[rows],
            self.mali_prefix(entry.index if entry else 0),
            seeds.seed_pair(self.seed, seeds.POLICY, epoch, index),
        )

    def _draw_references(self, real, epoch, index, step):
        """RankGAN's references for one step: `rank_references` rows of
        `real` drawn with replacement (as the released code draws them),
        from the run's seed, the epoch, the round or step index and the
        step (an int, or "policy" for a policy-gradient step)."""
        stream = -1 if step == "policy" else int(step)
        rng = np.random.default_rng(
            seeds.seed_pair(
                self.seed, seeds.RANK_REFERENCES, epoch, index, stream + 1
            )
        )
        rows = rng.integers(0, len(real), self.rank_references)
        self.references.assign(np.asarray(real)[rows].astype(np.int32))

    def _positives(self, real, epoch, index):
        """Balanced classes: as many real sequences as generated ones, a
        fresh subset each round. With the paper's sizes (9,984 each) every
        real sequence is used, as in the authors' code."""
        if len(real) <= self.num_negatives:
            return real
        rng = np.random.default_rng(
            seeds.seed_pair(self.seed, seeds.POSITIVES, epoch, index)
        )
        rows = rng.choice(len(real), self.num_negatives, replace=False)
        return real[np.sort(rows)]

    def run_epoch(self, phase, epoch, real, on_step=None):
        """One epoch of `phase` ("generator", "discriminator" or
        "adversarial") at global epoch `epoch` on the real data."""
        self._round_data = []
        if phase == "generator":
            order_seed = None
            if self.generator_shuffle:
                order_seed = seeds.seed_pair(
                    self.seed, seeds.GENERATOR_ORDER, epoch
                )
            order = pipeline.seeded_order(len(real), order_seed)
            batches = pipeline.ordered_batches(real, self.batch_size, [order])
            rate = max(
                0.0, 1.0 - self.scheduled_sampling_decrement * (epoch + 1)
            )
            for index, token_ids in enumerate(batches):
                if self.scheduled_sampling_decrement:
                    self.scheduled_sampling_step(
                        token_ids,
                        rate,
                        seeds.seed_pair(
                            self.seed, seeds.SCHEDULED, epoch, index
                        ),
                    )
                else:
                    self.mle_step(token_ids)
                _call(on_step)
        elif phase == "discriminator":
            self.discriminator_round(real, epoch, 0, on_step)
        else:
            for index in range(self.generator_steps):
                if self.mali_continuations:
                    self._mixed_mali_step(real, epoch, index)
                    _call(on_step)
                    continue
                if self.references is not None:
                    self._draw_references(real, epoch, index, "policy")
                self.policy_gradient_step(
                    seeds.seed_pair(self.seed, seeds.POLICY, epoch, index),
                    seeds.seed_pair(self.seed, seeds.ROLLOUT, epoch, index),
                )
                _call(on_step)
            for index in range(self.discriminator_steps):
                self.discriminator_round(
                    real,
                    epoch,
                    index,
                    on_step,
                    fresh_real=self.adversarial_real == "fresh",
                )

    def steps_per_epoch(self, phase, num_real):
        """Steps (updates) of one epoch of `phase` with `num_real` real
        sequences."""
        if phase == "generator":
            return num_real // self.batch_size
        d_round = self.discriminator_epochs * (
            (min(num_real, self.num_negatives) + self.num_negatives)
            // self.batch_size
        )
        if phase == "discriminator":
            return d_round
        return self.generator_steps + self.discriminator_steps * d_round

    def evaluate_nll_oracle(self, num_samples=None, seed=(0, 0)):
        """NLL-oracle of the current generator (needs an oracle)."""
        if self.oracle is None:
            raise ValueError("NLL-oracle needs an `oracle`; none was given.")
        return metrics.nll_oracle(
            self.generator,
            self.oracle,
            num_samples=num_samples or self.eval_samples,
            seed=seed,
        )

    def schedule(
        self, generator_epochs, discriminator_rounds, adversarial_rounds
    ):
        """The `schedule.Epoch` (phase, index in it, its length) of every
        global epoch."""
        return schedule_lib.plan(
            generator_epochs, discriminator_rounds, adversarial_rounds
        )

    def train(
        self,
        x,
        generator_epochs=120,
        discriminator_rounds=50,
        adversarial_rounds=200,
        callbacks=None,
        verbose="auto",
        initial_epoch=0,
        validation_data=None,
    ):
        """Runs the three phases; returns a `keras.callbacks.History`.

        Args:
            x: the real data, int [N, T] token ids (array, tensor, or a
                `tf.data.Dataset` of sequences, batched or not).
            generator_epochs, discriminator_rounds, adversarial_rounds: the
                length of each phase.
            callbacks: Keras callbacks; they see one epoch per MLE epoch, D
                round or adversarial round.
            verbose: 0 (silent), 1 (a progress bar per epoch), 2 (a line
                per epoch); "auto" is 1. See `progress.PhaseProgress`.
            initial_epoch: global epoch to start at (resume).
            validation_data: held-out real token ids [N, T] (like `x`);
                their per-token NLL under the generator is logged as
                `nll_test` at the same epochs as NLL-oracle.
        """
        if not getattr(self, "g_optimizer", None):
            raise RuntimeError("Call `compile()` before `train()`.")
        real = self._as_token_array(x)
        held_out = None
        if validation_data is not None:
            held_out = self._as_token_array(
                validation_data, name="Validation data", min_rows=1
            )
        plan = self.schedule(
            generator_epochs, discriminator_rounds, adversarial_rounds
        )
        if not 0 <= initial_epoch <= len(plan):
            raise ValueError(
                f"`initial_epoch` must be in [0, {len(plan)}], got "
                f"{initial_epoch}."
            )
        if self.reward == "bleu":
            self._set_bleu_references(real)
        self.epoch_plan = plan
        self.phase_steps = {
            phase: self.steps_per_epoch(phase, len(real))
            for phase in schedule_lib.PHASES
        }
        verbose = 1 if verbose == "auto" else verbose
        callbacks = list(callbacks or [])
        if verbose:
            callbacks.insert(0, PhaseProgress(verbose))
        callback_list = keras.callbacks.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=False,
            model=self,
            verbose=verbose,
            epochs=len(plan),
            steps=None,
        )
        self.stop_training = False
        callback_list.on_train_begin()
        for epoch in range(initial_epoch, len(plan)):
            entry = plan[epoch]
            callback_list.set_params(
                {
                    "verbose": verbose,
                    "epochs": len(plan),
                    "steps": self.phase_steps[entry.phase],
                }
            )
            if entry.phase == "adversarial" and entry.index == 0:
                self._start_rollout_policy()
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            start = time.perf_counter()
            steps = itertools.count()
            self.run_epoch(
                entry.phase,
                epoch,
                real,
                lambda: callback_list.on_train_batch_end(
                    next(steps), self._tracker_logs()
                ),
            )
            logs = self._tracker_logs()
            _check_finite(logs, epoch, entry.phase)
            if entry.phase != "discriminator" and (
                (self.eval_every and entry.index % self.eval_every == 0)
                or entry.index == entry.count - 1
            ):
                logs.update(self._evaluate(epoch, held_out))
            if entry.phase != "generator":
                logs.update(self._probe(epoch, real))
            logs["phase"] = schedule_lib.PHASES.index(entry.phase)
            logs["seconds"] = time.perf_counter() - start
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end()
        return self.history

    def _set_bleu_references(self, real):
        """PG-BLEU's references: each real sequence with probability
        `bleu_reference_fraction`, drawn from the run's seed."""
        rng = np.random.default_rng(
            seeds.seed_pair(self.seed, seeds.REFERENCES)
        )
        chosen = real[rng.random(len(real)) < self.bleu_reference_fraction]
        if not len(chosen):
            chosen = real[:1]
        self.bleu_reward = BleuReward(
            chosen, eos_id=getattr(self.generator, "eos_id", None)
        )
        # The compiled step captured the previous scorer.
        self._steps.pop("policy_gradient", None)

    def _evaluate(self, epoch, held_out):
        logs = {}
        if self.oracle is not None:
            # Drawn once, in the chunks of 1,000 `metrics.nll_oracle` uses
            # (the same sequences `evaluate_nll_oracle` would score), for
            # both NLL-oracle and the generator's entropy.
            drawn = sampler.sample_many(
                self.generator,
                self.eval_samples,
                seeds.seed_pair(self.seed, seeds.EVAL, epoch),
                batch_size=1000,
            )
            logs["nll_oracle"] = metrics.nll(self.oracle, drawn)
            logs["entropy"] = metrics.mean_entropy(self.generator, drawn)
        if held_out is not None:
            logs["nll_test"] = metrics.nll(self.generator, held_out)
        return logs

    def _probe(self, epoch, real):
        """The discriminator probe's logs after an epoch (`probe_samples`
        sequences of each kind; {} when off or without an oracle). Its
        held-out sequences are disjoint from the real data and from this
        epoch's D rounds; its "training real" are the real sequences of
        the epoch's last D round (the real data when it made none)."""
        if not self.probe_samples or self.oracle is None:
            return {}
        training_real = real
        if self._round_data:
            training_real = self._round_data[-1][0]
        exclude = [real] + [rows for pair in self._round_data for rows in pair]
        return metrics.discriminator_probe(
            self.discriminator,
            self.generator,
            self.oracle,
            training_real,
            self.probe_samples,
            seed=seeds.seed_pair(self.seed, seeds.PROBE, epoch),
            exclude=exclude,
        )

    def _tracker_logs(self):
        return {
            tracker.name: float(tracker.result())
            for tracker in self.metrics
            if tracker.count.numpy() > 0
        }

    def _as_token_array(self, x, name="Real data", min_rows=None):
        if isinstance(x, tf.data.Dataset):
            x = np.concatenate(
                [
                    np.reshape(
                        np.asarray(b), (-1, self.generator.sequence_length)
                    )
                    for b in x.as_numpy_iterator()
                ]
            )
        x = np.asarray(x)
        length = self.generator.sequence_length
        if (
            x.ndim != 2
            or x.shape[1] != length
            or not np.issubdtype(x.dtype, np.integer)
        ):
            raise ValueError(
                f"{name} must be integer token ids of shape [N, {length}], "
                f"got {x.dtype} {x.shape}."
            )
        if x.size and (
            x.min() < 0 or x.max() >= self.generator.vocabulary_size
        ):
            raise ValueError(
                f"{name} holds token ids outside [0, "
                f"{self.generator.vocabulary_size}): min {x.min()}, max "
                f"{x.max()}."
            )
        min_rows = self.batch_size if min_rows is None else min_rows
        if len(x) < min_rows:
            raise ValueError(
                f"{name} has {len(x)} sequences, fewer than "
                + (
                    f"one batch ({self.batch_size})."
                    if min_rows == self.batch_size
                    else f"{min_rows}."
                )
            )
        return x.astype(np.int32)

    def make_checkpoint(self, epoch):
        """The `tf.train.Checkpoint` of everything a resumed run needs:
        both models, the three optimizers, the delayed rollout policy (if
        any), the dropout RNG states and `epoch` (a variable holding the
        next epoch)."""
        objects = {
            "generator": self.generator,
            "discriminator": self.discriminator,
            "g_optimizer": self.g_optimizer,
            "d_optimizer": self.d_optimizer,
            "pg_optimizer": self.pg_optimizer,
            "epoch": epoch,
        }
        if self.rollout_generator is not None:
            objects["rollout_generator"] = self.rollout_generator
        # Keras keeps the state of stateful RNGs (dropout) outside the
        # tracked weights; without it a resumed run would repeat earlier
        # dropout masks.
        for model_name in ("generator", "discriminator"):
            for index, layer in enumerate(getattr(self, model_name).layers):
                seed_generator = getattr(layer, "seed_generator", None)
                if seed_generator is not None:
                    objects[f"rng_{model_name}_{index}"] = seed_generator.state
        return tf.train.Checkpoint(**objects)

    def get_compile_config(self):
        """The three optimizers (their settings), so that a `SeqGAN` loaded
        from a `.keras` file comes back compiled as it was saved."""
        if not getattr(self, "g_optimizer", None):
            return None
        return {
            name: keras.optimizers.serialize(_unscaled(getattr(self, name)))
            for name in _OPTIMIZERS
        }

    def compile_from_config(self, config):
        """`compile()` with the optimizers of `get_compile_config()`."""
        if not config:
            return
        self.compile(
            **{
                name: keras.optimizers.deserialize(config[name])
                for name in _OPTIMIZERS
                if name in config
            }
        )

    def get_config(self):
        config = {
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(
                self.discriminator
            ),
        }
        for name in _CONFIG_FIELDS:
            config[name] = getattr(self, name)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        generator = keras.saving.deserialize_keras_object(
            config.pop("generator")
        )
        discriminator = keras.saving.deserialize_keras_object(
            config.pop("discriminator")
        )
        return cls(generator, discriminator, **config)


# The optimizers `compile()` takes, one per update.
_OPTIMIZERS = ("g_optimizer", "d_optimizer", "pg_optimizer")


def _unscaled(optimizer):
    """The optimizer inside a `LossScaleOptimizer` (`compile()` wraps
    again when the models compute in float16), else `optimizer`."""
    return getattr(optimizer, "inner_optimizer", optimizer)


_CONFIG_FIELDS = (
    "batch_size",
    "num_negatives",
    "discriminator_epochs",
    "generator_steps",
    "discriminator_steps",
    "num_rollouts",
    "rollout_policy",
    "rollout_update_rate",
    "rollout_chunk_size",
    "reward",
    "constant_reward",
    "reward_baseline",
    "adversarial_real",
    "pg_reduction",
    "generator_shuffle",
    "scheduled_sampling_decrement",
    "bleu_reference_fraction",
    "rank_references",
    "mali_continuations",
    "mali_prefix_decrement",
    "eval_every",
    "eval_samples",
    "probe_samples",
    "seed",
)


class NonFiniteLossError(ArithmeticError):
    """A training loss became NaN or infinite: `train()` stops before the
    epoch's callbacks run, so no checkpoint holds the broken weights."""


def _check_finite(logs, epoch, phase):
    for key in ("g_loss", "d_loss"):
        if key in logs and not math.isfinite(float(logs[key])):
            raise NonFiniteLossError(
                f"{key} became {float(logs[key])} in epoch {epoch + 1} "
                f"({phase}); training stopped without saving that epoch, so "
                "the newest checkpoint is the last good one. Lower the "
                "learning rate (or clip the gradients harder) in a new run."
            )


def _call(function):
    if function is not None:
        function()


def _clips(optimizer):
    return (
        optimizer.clipnorm is not None
        or optimizer.global_clipnorm is not None
        or optimizer.clipvalue is not None
    )


def _clip(grads, optimizer):
    """`grads` clipped as `optimizer`'s own settings clip them."""
    if optimizer.clipnorm is not None and optimizer.clipnorm > 0:
        return [tf.clip_by_norm(g, optimizer.clipnorm) for g in grads]
    if optimizer.global_clipnorm is not None and optimizer.global_clipnorm > 0:
        return tf.clip_by_global_norm(grads, optimizer.global_clipnorm)[0]
    if optimizer.clipvalue is not None and optimizer.clipvalue > 0:
        value = optimizer.clipvalue
        return [tf.clip_by_value(g, -value, value) for g in grads]
    return grads


def _uses_float16(model):
    policy = getattr(model, "dtype_policy", None)
    name = getattr(policy, "name", "")
    return name == "mixed_float16" or (
        keras.mixed_precision.global_policy().name == "mixed_float16"
    )


def _loss_scaled(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)
