"""The SeqGAN trainer: MLE pretraining, D pretraining, adversarial training.

A `keras.Model` in the keras-io GAN pattern, driving standard Keras callbacks.
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
from seqgan_tf.models.generator import Generator

PHASES = ("generator", "discriminator", "adversarial")
LOG_KEYS = (
    "g_loss",
    "d_loss",
    "d_accuracy",
    "mean_reward",
    "nll_oracle",
    "nll_test",
)

# Distinct streams of randomness, so that resuming at any epoch replays it.
_NEGATIVES, _SHUFFLE, _POLICY, _ROLLOUT, _EVAL, _GENERATOR_ORDER, _POSITIVES = (
    range(7)
)


def seed_pair(*values):
    """A stateless int32 seed pair derived from integers (e.g. seed, epoch)."""
    state = np.random.SeedSequence([int(v) for v in values]).generate_state(2)
    return (state % np.uint32(2**31 - 1)).astype(np.int32)


class SeqGAN(keras.Model):
    """Trains a `Generator` against a `Discriminator` as the SeqGAN paper does.

    `fit()` runs the three phases of the authors' code in order, as one
    sequence of epochs that standard Keras callbacks (progress bar,
    TensorBoard, CSVLogger, EarlyStopping, ...) observe:

    1. `generator_epochs` epochs of MLE pretraining on the real data;
    2. `discriminator_rounds` rounds of D pretraining: each samples
       `num_negatives` sequences from the generator and runs
       `discriminator_epochs` epochs over real + generated sequences;
    3. `adversarial_rounds` rounds: `generator_steps` policy-gradient steps
       (a batch is sampled, every token is rewarded by Monte Carlo rollouts
       scored by D, the loss is `-sum log p * reward`), then
       `discriminator_steps` D rounds as in phase 2.

    Every epoch logs `g_loss`, `d_loss`, `d_accuracy`, `mean_reward` and
    `nll_oracle` (NaN where the phase does not measure it, so CSV columns
    stay fixed), plus `phase` (0, 1, 2) and `seconds`. NLL-oracle is
    measured every `eval_every` epochs of phases 1 and 3 and at the end of
    each, when an oracle is given.

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
        reward: "discriminator" or "constant" (ablation).
        constant_reward: reward of the constant ablation.
        pg_reduction: "sum" (authors) or "mean".
        generator_shuffle: reshuffle real data every MLE epoch.
        eval_every: NLL-oracle period in epochs of the MLE and adversarial
            phases, which are also measured at their last epoch (0: only
            then). Nothing is measured without an oracle.
        eval_samples: samples per NLL-oracle.
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
    history = gan.fit(real, generator_epochs=120, discriminator_rounds=50,
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
        pg_reduction="sum",
        generator_shuffle=False,
        eval_every=5,
        eval_samples=9984,
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
                f"{generator.sequence_length} vs {discriminator.sequence_length}."
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
        if reward not in ("discriminator", "constant"):
            raise ValueError(
                f"`reward` must be 'discriminator' or 'constant', got {reward!r}."
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
        self.pg_reduction = pg_reduction
        self.generator_shuffle = bool(generator_shuffle)
        self.eval_every = int(eval_every)
        self.eval_samples = int(eval_samples)
        self.seed = int(seed)
        self.rollout_generator = None
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
        self._steps = {}

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
            self.g_optimizer = g_optimizer or keras.optimizers.Adam(
                0.01, global_clipnorm=5.0
            )
            self.d_optimizer = d_optimizer or keras.optimizers.Adam(1e-4)
            self.pg_optimizer = pg_optimizer or keras.optimizers.Adam(
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

    def _function(self, name, function):
        if name not in self._steps:
            self._steps[name] = (
                function if self.run_eagerly else tf.function(function)
            )
        return self._steps[name]

    # --- the compiled steps -------------------------------------------------
    #
    # Each step is `strategy.run(replica_step)` on per-replica slices of the
    # global batch, then a SUM over replicas of the per-replica (already
    # globally scaled) losses for the trackers. Under the default strategy
    # this is one replica and the same code.

    def _reduce_sum(self, value):
        return self._strategy.reduce(tf.distribute.ReduceOp.SUM, value, None)

    def _distribute(self, array):
        """Per-replica slices of a global NumPy batch: replica r gets rows
        [r * B / R, (r + 1) * B / R)."""
        if self.num_replicas == 1:
            return tf.constant(array)
        per_replica = len(array) // self.num_replicas

        def value_fn(context):
            index = context.replica_id_in_sync_group
            return tf.constant(
                array[index * per_replica : (index + 1) * per_replica]
            )

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
        clips = (
            inner.clipnorm is not None
            or inner.global_clipnorm is not None
            or inner.clipvalue is not None
        )
        if self.num_replicas > 1 and clips:
            context = tf.distribute.get_replica_context()
            grads = context.all_reduce(
                tf.distribute.ReduceOp.SUM,
                [tf.convert_to_tensor(g) for g in grads],
            )
            factor = 1.0
            if inner is not optimizer:  # LossScaleOptimizer: clip unscaled.
                factor = tf.cast(optimizer.dynamic_scale, tf.float32)
            grads = inner._clip_gradients([g / factor for g in grads])
            grads = [g * (factor / self.num_replicas) for g in grads]
        optimizer.apply(grads, variables)

    def _mle_step(self, token_ids):
        def replica_step(token_ids):
            with tf.GradientTape() as tape:
                logits = self.generator(token_ids, training=True)
                eos_id = getattr(self.generator, "eos_id", None)
                mask = None
                if eos_id is not None:
                    mask = losses.padding_mask(token_ids, eos_id)
                total, count = losses.mle_loss_terms(
                    logits, token_ids, padding_mask=mask
                )
                count = tf.distribute.get_replica_context().all_reduce(
                    tf.distribute.ReduceOp.SUM, count
                )
                loss = total / tf.maximum(count, 1.0)
            self._apply(
                self.g_optimizer,
                tape,
                loss,
                self.generator.trainable_variables,
            )
            return loss

        with self._strategy.scope():
            loss = self._reduce_sum(
                self._strategy.run(replica_step, args=(token_ids,))
            )
            self.g_loss_tracker.update_state(loss)
            return loss

    def _discriminator_step(self, token_ids, labels):
        global_batch = float(self.batch_size)

        def replica_step(token_ids, labels):
            with tf.GradientTape() as tape:
                logits = self.discriminator(token_ids, training=True)
                loss = (
                    keras.ops.sum(
                        keras.losses.sparse_categorical_crossentropy(
                            labels,
                            keras.ops.cast(logits, "float32"),
                            from_logits=True,
                        )
                    )
                    / global_batch
                )
                regularization = keras.ops.cast(
                    keras.ops.sum(self.discriminator.losses), "float32"
                )
                loss = loss + regularization / float(self.num_replicas)
            self._apply(
                self.d_optimizer,
                tape,
                loss,
                self.discriminator.trainable_variables,
            )
            correct = keras.ops.sum(
                keras.ops.cast(
                    keras.ops.argmax(logits, axis=-1) == labels, "float32"
                )
            )
            return loss, correct

        with self._strategy.scope():
            loss, correct = self._strategy.run(
                replica_step, args=(token_ids, labels)
            )
            loss = self._reduce_sum(loss)
            self.d_loss_tracker.update_state(loss)
            self.d_accuracy_tracker.update_state(
                self._reduce_sum(correct) / global_batch
            )
            return loss

    def _constant_score(self, token_ids):
        return tf.fill(tf.shape(token_ids)[:1], self.constant_reward)

    def _policy_gradient_step(self, sample_seed, rollout_seed):
        length = self.generator.sequence_length
        local_batch = self.batch_size // self.num_replicas

        def replica_step(sample_seed, rollout_seed):
            # This replica's rows of the global batch, with their global ids.
            replica = tf.cast(
                tf.distribute.get_replica_context().replica_id_in_sync_group,
                tf.int32,
            )
            offset = replica * local_batch
            zeros = tf.zeros([local_batch, length], tf.int32)
            samples = sampler.sample(
                self.generator,
                zeros,
                tf.zeros([local_batch], tf.int32),
                sample_seed,
                row_ids=offset + tf.range(local_batch),
                num_global_rows=self.batch_size,
            )
            policy = self.rollout_generator or self.generator
            # The bound `predict_real` itself, so that the rollout can
            # recognise it and reuse the convolutions of the shared prefixes.
            score = (
                self._constant_score
                if self.reward == "constant"
                else self.discriminator.predict_real
            )
            rewards = rollout.rollout_rewards(
                policy,
                score,
                samples,
                rollout_seed,
                num_rollouts=self.num_rollouts,
                chunk_size=self.rollout_chunk_size,
                batch_row_offset=offset,
                global_batch_size=self.batch_size,
            )
            eos_id = getattr(self.generator, "eos_id", None)
            mask = None
            if eos_id is not None:
                # Rewards after EOS are already 0 (the rollout masks them).
                mask = losses.padding_mask(samples, eos_id)
            with tf.GradientTape() as tape:
                log_probs = self.generator.log_prob(samples, training=True)
                loss, _ = losses.policy_gradient_loss(
                    log_probs,
                    rewards,
                    reduction=self.pg_reduction,
                    padding_mask=mask,
                    global_batch_size=self.batch_size,
                )
            self._apply(
                self.pg_optimizer,
                tape,
                loss,
                self.generator.trainable_variables,
            )
            weights = (
                tf.ones_like(rewards)
                if mask is None
                else tf.cast(mask, tf.float32)
            )
            return (
                loss,
                tf.reduce_sum(rewards * weights),
                tf.reduce_sum(weights),
            )

        with self._strategy.scope():
            loss, reward_sum, reward_count = self._strategy.run(
                replica_step, args=(sample_seed, rollout_seed)
            )
            loss = self._reduce_sum(loss)
            if self.rollout_generator is not None:
                rate = self.rollout_update_rate
                for target, source in zip(
                    self.rollout_generator.weights, self.generator.weights
                ):
                    target.assign(rate * target + (1.0 - rate) * source)
            self.g_loss_tracker.update_state(loss)
            self.reward_tracker.update_state(
                self._reduce_sum(reward_sum)
                / tf.maximum(self._reduce_sum(reward_count), 1.0)
            )
            return loss

    # --- phases -------------------------------------------------------------

    def _discriminator_round(self, positives, epoch, index, step_callback):
        negatives = metrics.sample_many(
            self.generator,
            self.num_negatives,
            seed=seed_pair(self.seed, _NEGATIVES, epoch, index),
        )
        if len(positives) > self.num_negatives:
            # Balanced classes: as many real sequences as generated ones, a
            # fresh subset each round. With the paper's sizes (9,984 each)
            # every real sequence is used, as in the authors' code.
            rng = np.random.default_rng(
                seed_pair(self.seed, _POSITIVES, epoch, index)
            )
            positives = positives[
                np.sort(
                    rng.choice(
                        len(positives), self.num_negatives, replace=False
                    )
                )
            ]
        token_ids = np.concatenate([positives, negatives])
        labels = np.concatenate(
            [
                np.ones(len(positives), np.int32),
                np.zeros(len(negatives), np.int32),
            ]
        )
        step = self._function("discriminator", self._discriminator_step)
        batches = len(token_ids) // self.batch_size
        for pass_index in range(self.discriminator_epochs):
            rng = np.random.default_rng(
                seed_pair(self.seed, _SHUFFLE, epoch, index, pass_index)
            )
            order = rng.permutation(len(token_ids))
            for batch in range(batches):
                rows = order[
                    batch * self.batch_size : (batch + 1) * self.batch_size
                ]
                step(
                    self._distribute(token_ids[rows]),
                    self._distribute(labels[rows]),
                )
                step_callback()

    def steps_per_epoch(self, phase, num_real):
        if phase == "generator":
            return num_real // self.batch_size
        d_round = self.discriminator_epochs * (
            (min(num_real, self.num_negatives) + self.num_negatives)
            // self.batch_size
        )
        if phase == "discriminator":
            return d_round
        return self.generator_steps + self.discriminator_steps * d_round

    def _run_epoch(self, phase, epoch, real, step_callback):
        if phase == "generator":
            step = self._function("mle", self._mle_step)
            order = np.arange(len(real))
            if self.generator_shuffle:
                order = np.random.default_rng(
                    seed_pair(self.seed, _GENERATOR_ORDER, epoch)
                ).permutation(len(real))
            for batch in range(len(real) // self.batch_size):
                rows = order[
                    batch * self.batch_size : (batch + 1) * self.batch_size
                ]
                step(self._distribute(real[rows]))
                step_callback()
        elif phase == "discriminator":
            self._discriminator_round(real, epoch, 0, step_callback)
        else:
            step = self._function("policy_gradient", self._policy_gradient_step)
            for index in range(self.generator_steps):
                step(
                    tf.constant(seed_pair(self.seed, _POLICY, epoch, index)),
                    tf.constant(seed_pair(self.seed, _ROLLOUT, epoch, index)),
                )
                step_callback()
            for index in range(self.discriminator_steps):
                self._discriminator_round(real, epoch, index, step_callback)

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
        """The phase and phase-local index of every global epoch."""
        plan = []
        for phase, count in zip(
            PHASES, (generator_epochs, discriminator_rounds, adversarial_rounds)
        ):
            if count < 0:
                raise ValueError(f"Epoch counts must be >= 0, got {count}.")
            plan.extend((phase, index, count) for index in range(count))
        return plan

    def fit(
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
            verbose: 0 (silent), 1 (progress bar), 2 (a line per epoch).
            initial_epoch: global epoch to start at (resume).
            validation_data: held-out real token ids [N, T] (like `x`);
                their per-token NLL under the generator is logged as
                `nll_test` at the same epochs as NLL-oracle.
        """
        if not getattr(self, "g_optimizer", None):
            raise RuntimeError("Call `compile()` before `fit()`.")
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
                f"`initial_epoch` must be in [0, {len(plan)}], got {initial_epoch}."
            )
        verbose = 1 if verbose == "auto" else verbose
        callback_list = keras.callbacks.CallbackList(
            callbacks,
            add_history=True,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=len(plan),
            steps=None,
        )
        self.stop_training = False
        callback_list.on_train_begin()
        current_phase = None
        for epoch in range(initial_epoch, len(plan)):
            phase, index, count = plan[epoch]
            if phase != current_phase:
                current_phase = phase
                callback_list.set_params(
                    {
                        "verbose": verbose,
                        "epochs": len(plan),
                        "steps": self.steps_per_epoch(phase, len(real)),
                    }
                )
            self.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            start = time.perf_counter()
            steps = itertools.count()
            self._run_epoch(
                phase,
                epoch,
                real,
                lambda steps=steps: callback_list.on_train_batch_end(
                    next(steps), self._tracker_logs()
                ),
            )
            logs = {key: math.nan for key in LOG_KEYS}
            logs.update(self._tracker_logs())
            evaluate = phase != "discriminator" and (
                (self.eval_every and index % self.eval_every == 0)
                or index == count - 1
            )
            if evaluate and self.oracle is not None:
                logs["nll_oracle"] = self.evaluate_nll_oracle(
                    seed=seed_pair(self.seed, _EVAL, epoch)
                )
            if evaluate and held_out is not None:
                logs["nll_test"] = metrics.nll(self.generator, held_out)
            logs["phase"] = float(PHASES.index(phase))
            logs["seconds"] = time.perf_counter() - start
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end()
        return self.history

    def _tracker_logs(self):
        logs = {}
        for tracker in self.metrics:
            if tracker.count.numpy() > 0:
                logs[tracker.name] = float(tracker.result())
        return logs

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
                f"{self.generator.vocabulary_size}): min {x.min()}, max {x.max()}."
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

    def get_config(self):
        config = {
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": keras.saving.serialize_keras_object(
                self.discriminator
            ),
        }
        for name in (
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
            "pg_reduction",
            "generator_shuffle",
            "eval_every",
            "eval_samples",
            "seed",
        ):
            config[name] = getattr(self, name)
        return config


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


def checkpoint_for(gan, epoch_variable):
    """The `tf.train.Checkpoint` of everything a resumed run needs."""
    objects = {
        "generator": gan.generator,
        "discriminator": gan.discriminator,
        "g_optimizer": gan.g_optimizer,
        "d_optimizer": gan.d_optimizer,
        "pg_optimizer": gan.pg_optimizer,
        "epoch": epoch_variable,
    }
    if gan.rollout_generator is not None:
        objects["rollout_generator"] = gan.rollout_generator
    # Keras keeps the state of stateful RNGs (dropout) outside the tracked
    # weights; without it a resumed run would repeat earlier dropout masks.
    for model_name in ("generator", "discriminator"):
        for index, layer in enumerate(getattr(gan, model_name).layers):
            seed_generator = getattr(layer, "seed_generator", None)
            if seed_generator is not None:
                objects[f"rng_{model_name}_{index}"] = seed_generator.state
    return tf.train.Checkpoint(**objects)


class CheckpointCallback(keras.callbacks.Callback):
    """Saves generator, discriminator, optimizers and the next epoch with
    `tf.train.CheckpointManager` every `every` epochs and at the end.

    `CheckpointManager` writes each checkpoint under a new prefix and only
    then updates the `checkpoint` index file, so an interrupted save leaves
    the previous checkpoint intact.

    Multi-worker runs: every worker must take part in each save, but only
    the chief's (`seqgan_tf.distribute.is_chief`) lands in the manager's
    directory; the other workers save into a private directory
    (`seqgan_tf.distribute.write_dir`) that they delete at once. The
    strategy is `strategy`, else the trained model's (`SeqGAN.strategy`),
    else the one in scope.
    """

    def __init__(self, manager, epoch_variable, every=1, strategy=None):
        super().__init__()
        self.manager = manager
        self.epoch_variable = epoch_variable
        self.every = max(1, int(every))
        self.strategy = strategy
        self._completed = None
        self._saved = None

    def on_epoch_end(self, epoch, logs=None):
        self._completed = epoch + 1
        if self._completed % self.every == 0:
            self._save()

    def on_train_end(self, logs=None):
        if self._completed is not None and self._saved != self._completed:
            self._save()

    def _strategy(self):
        if self.strategy is not None:
            return self.strategy
        model = getattr(self, "_model", None)
        return getattr(model, "strategy", None) or tf.distribute.get_strategy()

    def _save(self):
        import shutil

        from seqgan_tf import distribute

        self.epoch_variable.assign(self._completed)
        strategy = self._strategy()
        if distribute.is_chief(strategy):
            self.manager.save(checkpoint_number=self._completed)
        else:
            directory = distribute.write_dir(self.manager.directory, strategy)
            try:
                tf.train.CheckpointManager(
                    self.manager.checkpoint, directory, max_to_keep=1
                ).save(checkpoint_number=self._completed)
            finally:
                shutil.rmtree(directory, ignore_errors=True)
        self._saved = self._completed
