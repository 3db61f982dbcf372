"""The SeqGAN trainer: a generator, a discriminator, a critic that scores
the generator's sequences and an objective that learns from the scores.

A `keras.Model` in the keras-io GAN pattern (one optimizer per update,
`Mean` trackers); the three-phase schedule is its `AdversarialLoop`
(`seqgan_tf.loop`), the end-of-epoch measurements its `Monitor`
(`seqgan_tf.monitor`), the distribution plumbing its `Replicas`
(`seqgan_tf.replicas`). What a method changes lives in its critic
(`seqgan_tf.critics`) and objective (`seqgan_tf.objectives`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from seqgan_tf import critics
from seqgan_tf import objectives
from seqgan_tf import parts
from seqgan_tf.loop import AdversarialLoop
from seqgan_tf.loop import NonFiniteLossError
from seqgan_tf.monitor import Monitor
from seqgan_tf.optimizers import FusedAdam
from seqgan_tf.replicas import Replicas
from seqgan_tf.replicas import loss_scaled
from seqgan_tf.replicas import unscaled

if TYPE_CHECKING:
    from typing import Any

    from numpy.typing import ArrayLike

    from seqgan_tf.critics import Critic
    from seqgan_tf.models import Discriminator
    from seqgan_tf.models import Generator
    from seqgan_tf.models import LeakGANGenerator
    from seqgan_tf.models import OracleLSTM
    from seqgan_tf.objectives import Objective

__all__ = ["NonFiniteLossError", "SeqGAN"]

# Keyword arguments `keras.Model` itself takes.
_KERAS_ARGUMENTS = ("name", "trainable", "dtype")


@keras.saving.register_keras_serializable(package="seqgan_tf")
class SeqGAN(AdversarialLoop, keras.Model):
    """Trains a `Generator` against a `Discriminator` as the SeqGAN paper does.

    `train()` runs the three phases of the authors' code in order, as one
    sequence of epochs that standard Keras callbacks (TensorBoard,
    CSVLogger, EarlyStopping, ...) observe:

    1. `generator_epochs` epochs of MLE pretraining on the real data;
    2. `discriminator_rounds` rounds of D pretraining: each samples
       `num_negatives` sequences from the generator and runs
       `discriminator_epochs` epochs over real + generated sequences;
    3. `adversarial_rounds` rounds: `generator_steps` updates of the
       generator by its objective (SeqGAN's: a batch is sampled, every
       token is rewarded by Monte Carlo rollouts scored by the critic, the
       loss is `-sum log p * reward`), then `discriminator_steps` D rounds
       as in phase 2.

    Each update is a public step: `mle_step`, `scheduled_sampling_step`,
    `discriminator_step`, `policy_gradient_step` (and MaliGAN's
    `mali_step`); `discriminator_round` is one D round. An epoch logs what
    its phase measures: `g_loss`, `d_loss`, `d_accuracy`, `mean_reward`,
    `nll_oracle` / `nll_test` / `entropy` where measured, the probe's keys,
    `phase` (0, 1, 2) and `seconds`. See `seqgan_tf.loop` for why this is
    `train()` and not `fit()`.

    Args:
        generator: the `Generator` to train.
        discriminator: the `Discriminator` (RankGAN: its `Ranker`).
        oracle: optional `OracleLSTM` for NLL-oracle and the probe.
        reward: what scores the generator's sequences: a registered reward
            name (`seqgan_tf.methods.rewards()`: "discriminator",
            "constant", "bleu", "importance", "rank") or a
            `seqgan_tf.critics.Critic`.
        objective: the generator's update: None (the critic's own,
            `Critic.objective`), a name of `seqgan_tf.objectives.OBJECTIVES`
            or an `Objective`.
        batch_size: sequences per step.
        num_negatives: generated sequences per D round; each round pairs
            them with as many real sequences (all of them when the real
            data is no larger).
        discriminator_epochs: D epochs per D round.
        generator_steps: generator updates per adversarial round.
        discriminator_steps: D rounds per adversarial round.
        adversarial_real: "fixed" (the authors': the adversarial D rounds
            take their real half from `x`) or "fresh" (from
            `num_negatives` new oracle samples every round).
        generator_shuffle: reshuffle real data every MLE epoch.
        generator_real: "fixed" (MLE epochs on the real data `x`) or
            "fresh" (each MLE epoch on as many new oracle sequences).
        scheduled_sampling_decrement: 0 for teacher-forced MLE; else MLE
            epoch k (from 0) feeds the true previous token with probability
            `max(0, 1 - decrement * (k + 1))` and a sample otherwise.
        eval_every: NLL-oracle period in epochs of the MLE and adversarial
            phases, also measured at their last epoch (0: only then).
        eval_samples: samples per NLL-oracle.
        probe_samples: 0, or the sequences of each kind with which
            `metrics.discriminator_probe` judges the discriminator after
            every epoch with D rounds (needs the oracle).
        seed: the root of all randomness.
        **settings: the critic's and the objective's settings
            (`Critic.SETTINGS`, `Objective.SETTINGS`: `num_rollouts`,
            `rollout_policy`, `constant_reward`, `reward_baseline`,
            `pg_reduction`, `rank_references`, `mali_continuations`, ...).
            A setting neither takes is refused unless it has its default.

    Distribution: the `tf.distribute` strategy in scope at construction
    runs every step (`Replicas`); create the models and the `SeqGAN` inside
    `strategy.scope()`. Each step splits its global batch into equal
    replica slices and sums the gradients before clipping, so the update
    is the single-device one; with dropout 0 a run on several replicas
    gives the weights of the run on one device, to float rounding.

    Mixed precision: models whose layers compute in "mixed_bfloat16" or
    "mixed_float16" keep logits, losses and rewards float32; under
    "mixed_float16" `compile()` wraps the optimizers in a
    `keras.optimizers.LossScaleOptimizer`.

    Examples:
        A tiny oracle task: an MLE epoch, then a round of discriminator
        pretraining (the paper's schedule is `generator_epochs=120,
        discriminator_rounds=50, adversarial_rounds=200`):

        >>> import seqgan_tf
        >>> oracle = seqgan_tf.OracleLSTM.random(20, 6, seed=0)
        >>> real = oracle.generate(64, seed=(0, 1)).numpy()
        >>> gan = seqgan_tf.SeqGAN(
        ...     seqgan_tf.Generator(20, 6, embedding_dim=8, hidden_dim=8),
        ...     seqgan_tf.Discriminator(
        ...         20, 6, embedding_dim=8, filter_sizes=(2, 3),
        ...         num_filters=(4, 4)),
        ...     oracle=oracle, batch_size=16, num_negatives=32,
        ...     discriminator_epochs=1, num_rollouts=2, eval_samples=64,
        ... )
        >>> gan.compile()
        >>> history = gan.train(real, generator_epochs=1,
        ...                     discriminator_rounds=1, adversarial_rounds=0,
        ...                     verbose=0)
        >>> history.history["phase"]  # one epoch of MLE, one D round
        [0.0, 1.0]
        >>> sorted(history.history)
        ['d_accuracy', 'd_loss', 'entropy', 'g_loss', 'nll_oracle', 'phase',
         'seconds']
    """

    def __init__(
        self,
        generator: Generator | LeakGANGenerator,
        discriminator: Discriminator,
        oracle: OracleLSTM | None = None,
        reward: str | Critic = "discriminator",
        objective: str | Objective | None = None,
        batch_size: int = 64,
        num_negatives: int = 9984,
        discriminator_epochs: int = 3,
        generator_steps: int = 1,
        discriminator_steps: int = 5,
        adversarial_real: str = "fixed",
        generator_shuffle: bool = False,
        generator_real: str = "fixed",
        scheduled_sampling_decrement: float = 0.0,
        eval_every: int = 5,
        eval_samples: int = 9984,
        probe_samples: int = 0,
        seed: int = 0,
        **settings: Any,
    ):
        keras_arguments = {
            k: settings.pop(k) for k in _KERAS_ARGUMENTS if k in settings
        }
        super().__init__(**keras_arguments)
        self._strategy = tf.distribute.get_strategy()
        self.replicas = Replicas(self._strategy, batch_size)
        self.num_replicas = self.replicas.num_replicas
        parts.check_models(generator, discriminator)
        for name, value in (
            ("adversarial_real", adversarial_real),
            ("generator_real", generator_real),
        ):
            if value not in ("fixed", "fresh"):
                raise ValueError(
                    f"`{name}` must be 'fixed' or 'fresh', got {value!r}."
                )
            if value == "fresh" and oracle is None:
                raise ValueError(
                    f"`{name}='fresh'` samples real sequences from the "
                    "oracle; give the `oracle`."
                )
        self.generator = generator
        self.discriminator = discriminator
        self.oracle = oracle
        self.batch_size = int(batch_size)
        self.num_negatives = int(num_negatives)
        self.discriminator_epochs = int(discriminator_epochs)
        self.generator_steps = int(generator_steps)
        self.discriminator_steps = int(discriminator_steps)
        self.adversarial_real = adversarial_real
        self.generator_shuffle = bool(generator_shuffle)
        self.generator_real = generator_real
        self.scheduled_sampling_decrement = float(scheduled_sampling_decrement)
        self.eval_every = int(eval_every)
        self.eval_samples = int(eval_samples)
        self.probe_samples = int(probe_samples)
        self.seed = int(seed)
        self.monitor = Monitor(self, eval_samples, probe_samples)
        self.critic = critics.resolve(reward, settings)
        self.objective = objectives.resolve(
            objective or self.critic.objective, settings
        )
        parts.check_settings(settings, self.critic, self.objective)
        self.reward = parts.reward_name(self.critic)
        # (positives, negatives) of each D round of the current epoch.
        self._round_data = []
        self.epoch_plan = []
        self.phase_steps = {}
        self._steps = {}
        with self._strategy.scope():
            self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
            self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
            self.d_accuracy_tracker = keras.metrics.Mean(name="d_accuracy")
            self.reward_tracker = keras.metrics.Mean(name="mean_reward")
            self.objective.bind(self)
            self.critic.bind(self)
        # No weights of its own: the generator and discriminator hold them.
        self.built = True

    @property
    def strategy(self) -> tf.distribute.Strategy:
        """The `tf.distribute.Strategy` the steps run under."""
        return self._strategy

    @property
    def rollout_generator(self) -> Generator | None:
        """The delayed rollout policy's copy of the generator (None when
        the rollouts use the generator itself)."""
        return getattr(self.objective, "rollout_generator", None)

    @property
    def metrics(self):
        return [
            self.g_loss_tracker,
            self.d_loss_tracker,
            self.d_accuracy_tracker,
            self.reward_tracker,
        ]

    def compile(
        self,
        g_optimizer: keras.optimizers.Optimizer | None = None,
        d_optimizer: keras.optimizers.Optimizer | None = None,
        pg_optimizer: keras.optimizers.Optimizer | None = None,
        **kwargs: Any,
    ) -> None:
        """Sets one optimizer per update: generator MLE, discriminator, and
        the generator's policy gradient (the authors use a separate Adam for
        the adversarial updates). Defaults are the paper's.

        When the generator or the discriminator computes in
        "mixed_float16" (its own dtype policy; the global policy is not
        read) each optimizer that is not already a `LossScaleOptimizer` is
        wrapped in one. Optimizers are created and built in the trainer's
        strategy scope."""
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
                self.g_optimizer = loss_scaled(self.g_optimizer)
                self.d_optimizer = loss_scaled(self.d_optimizer)
                self.pg_optimizer = loss_scaled(self.pg_optimizer)
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

    # --- the updates ------------------------------------------------------
    #
    # Each public step takes a global batch, runs `strategy.run` of its
    # replica body on per-replica slices (one replica and the same code
    # under the default strategy), sums the per-replica losses (already
    # scaled for the global batch) and updates the trackers.

    def mle_step(self, token_ids: ArrayLike) -> tf.Tensor:
        """One maximum-likelihood (teacher-forced) update of the generator.

        Args:
            token_ids: int [B, T], a global batch of real sequences.

        Returns:
            The mean per-token NLL of the batch (float32 scalar).
        """
        return self._compiled("mle", self._mle_step)(
            self.replicas.distribute(token_ids)
        )

    def scheduled_sampling_step(
        self, token_ids: ArrayLike, rate: float, seed: ArrayLike
    ) -> tf.Tensor:
        """One MLE update of the generator with scheduled sampling: each
        input token is the true previous token with probability `rate`,
        else the generator's own sample
        (`Generator.scheduled_sampling_logits`); `rate` 1 is `mle_step`.

        Args:
            token_ids: int [B, T], a global batch of real sequences.
            rate: float in [0, 1].
            seed: int32 [2], the seed of the coins and the samples.
        """
        return self._compiled("scheduled_sampling", self._mle_step)(
            self.replicas.distribute(token_ids),
            tf.constant(rate, tf.float32),
            tf.convert_to_tensor(seed, tf.int32),
        )

    def discriminator_step(
        self, token_ids: ArrayLike, labels: ArrayLike
    ) -> tf.Tensor:
        """One update of the discriminator on real (label 1) and generated
        (label 0) sequences, as the critic trains it; returns its loss.

        Args:
            token_ids: int [B, T].
            labels: int [B].
        """
        return self._compiled("discriminator", self._discriminator_step)(
            self.replicas.distribute(token_ids),
            self.replicas.distribute(labels),
        )

    def policy_gradient_step(
        self, sample_seed: ArrayLike, rollout_seed: ArrayLike
    ) -> tf.Tensor:
        """One policy-gradient update of the generator by its objective:
        sample a batch, reward every token (by rollouts scored by the
        critic, for SeqGAN), take the REINFORCE step, then move the delayed
        rollout policy (if any) towards the generator.

        Args:
            sample_seed: int32 [2], the seed of the sampled batch.
            rollout_seed: int32 [2], the seed of the rollouts.

        Returns:
            The policy-gradient loss (`losses.policy_gradient_loss`).
        """
        return self._compiled(
            "policy_gradient", self.objective.policy_gradient_step
        )(
            tf.convert_to_tensor(sample_seed, tf.int32),
            tf.convert_to_tensor(rollout_seed, tf.int32),
        )

    def mali_step(
        self, real: ArrayLike, prefix_length: int, sample_seed: ArrayLike
    ) -> tf.Tensor:
        """One update of MaliGAN's mixed MLE-Mali training (Che et al.
        2017, the sequential algorithm with variance reduction): the first
        `prefix_length` tokens of each of `batch_size / n` real sequences
        are kept and n continuations of each are sampled; each continuation
        is weighted by D/(1-D) normalised within its group of n, minus 1/n,
        on its sampled tokens, and each real prefix is learnt by maximum
        likelihood (weight 1/n on each of its n copies). Needs the
        `ImportanceWeights` objective with `mali_continuations` n.

        Args:
            real: int [batch_size / n, T] real sequences.
            prefix_length: N (0: no real prefix, groups of n samples).
            sample_seed: int32 [2].
        """
        n = getattr(self.objective, "mali_continuations", 0)
        if not n:
            raise ValueError(
                "`mali_step` is MaliGAN's mixed training: it needs "
                "reward='importance' and mali_continuations >= 2."
            )
        real = tf.repeat(tf.convert_to_tensor(real, tf.int32), n, axis=0)
        return self._compiled("mali", self.objective.mali_step)(
            real,
            tf.constant(prefix_length, tf.int32),
            tf.convert_to_tensor(sample_seed, tf.int32),
        )

    def _mle_step(self, token_ids, rate=None, seed=None):
        args = (token_ids,) if rate is None else (token_ids, rate, seed)
        with self._strategy.scope():
            loss = self.replicas.reduce_sum(
                self._strategy.run(self.objective.mle_replica, args=args)
            )
            self.g_loss_tracker.update_state(loss)
            return loss

    def _discriminator_step(self, token_ids, labels):
        with self._strategy.scope():
            loss, correct = self._strategy.run(
                self.critic.discriminator_replica, args=(token_ids, labels)
            )
            loss = self.replicas.reduce_sum(loss)
            self.d_loss_tracker.update_state(loss)
            self.d_accuracy_tracker.update_state(
                self.replicas.reduce_sum(correct) / float(self.batch_size)
            )
            return loss

    def _compiled(self, name, function):
        if name not in self._steps:
            self._steps[name] = (
                function if self.run_eagerly else tf.function(function)
            )
        return self._steps[name]

    def forget_compiled_step(self, name):
        """Drops a compiled step (it captured what a critic replaced)."""
        self._steps.pop(name, None)

    # --- saving -------------------------------------------------------------

    def make_checkpoint(self, epoch: tf.Variable) -> tf.train.Checkpoint:
        """The `tf.train.Checkpoint` of everything a resumed run needs:
        both models, the three optimizers, the objective's and critic's
        own state (the delayed rollout policy), the dropout RNG states and
        `epoch` (a variable holding the next epoch)."""
        objects = {
            "generator": self.generator,
            "discriminator": self.discriminator,
            "g_optimizer": self.g_optimizer,
            "d_optimizer": self.d_optimizer,
            "pg_optimizer": self.pg_optimizer,
            "epoch": epoch,
        }
        objects.update(self.objective.checkpoint_objects())
        objects.update(self.critic.checkpoint_objects())
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
            name: keras.optimizers.serialize(unscaled(getattr(self, name)))
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
        if self.reward is None:
            raise ValueError(
                f"The critic {type(self.critic).__name__} is not a "
                "registered reward: register it with "
                "seqgan_tf.methods.register_reward to save the trainer."
            )
        for name in _CONFIG_FIELDS:
            config[name] = getattr(self, name)
        if type(self.objective) is not objectives.OBJECTIVES.get(
            self.critic.objective
        ):
            config["objective"] = parts.objective_name(self.objective)
        config.update(self.critic.get_config())
        config.update(self.objective.get_config())
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

# What `get_config` saves besides the models and the parts' settings.
_CONFIG_FIELDS = (
    "reward",
    "batch_size",
    "num_negatives",
    "discriminator_epochs",
    "generator_steps",
    "discriminator_steps",
    "adversarial_real",
    "generator_shuffle",
    "generator_real",
    "scheduled_sampling_decrement",
    "eval_every",
    "eval_samples",
    "probe_samples",
    "seed",
)


def _uses_float16(model):
    policy = getattr(model, "dtype_policy", None)
    return getattr(policy, "name", "") == "mixed_float16"
