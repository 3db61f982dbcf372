"""The adversarial training loop: the three phases as one sequence of
epochs that Keras callbacks observe, the D rounds' data, resumption.

`AdversarialLoop` is a mixin of `trainer.SeqGAN` (as Keras' own `Trainer`
is of `keras.Model`): it drives the trainer's steps (`mle_step`,
`scheduled_sampling_step`, `discriminator_step`, and its objective's
generator updates) and reads its end-of-epoch measurements from the
trainer's `Monitor`. Randomness is derived from the trainer's `seed` and
the epoch number only, so a run resumed with `initial_epoch` continues
exactly as the uninterrupted run would.
"""

from __future__ import annotations

import itertools
import math
import time
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

from seqgan_tf import metrics
from seqgan_tf import sampler
from seqgan_tf import schedule as schedule_lib
from seqgan_tf import seeds
from seqgan_tf.data import pipeline
from seqgan_tf.progress import PhaseProgress

if TYPE_CHECKING:
    from collections.abc import Callable
    from collections.abc import Sequence

    from numpy.typing import ArrayLike


class AdversarialLoop:
    """The schedule of a `SeqGAN`: `train()`, its epochs and D rounds."""

    def discriminator_round(
        self,
        real: np.ndarray,
        epoch: int,
        index: int = 0,
        on_step: Callable[[], None] | None = None,
        fresh_real: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One D round: `num_negatives` fresh generated sequences against as
        many real ones, `discriminator_epochs` passes of
        `discriminator_step` over them (`data.discriminator_dataset`).

        Args:
            real: int [N, T] real sequences.
            epoch: the global epoch, which with `index` seeds the
                negatives, the positives and the order.
            index: the round's index in the epoch.
            on_step: called after every step.
            fresh_real: take the positives from `num_negatives` new oracle
                samples instead of `real`.

        Returns:
            `(positives, negatives)`, the round's real and generated
            sequences, int32 [P, T] and [num_negatives, T].
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
            self.critic.before_discriminator_step(positives, epoch, index, step)
            self.discriminator_step(token_ids, labels)
            _call(on_step)
        return positives, negatives

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

    def run_epoch(
        self,
        phase: str,
        epoch: int,
        real: np.ndarray,
        on_step: Callable[[], None] | None = None,
    ) -> None:
        """One epoch of `phase` ("generator", "discriminator" or
        "adversarial") at global epoch `epoch` on the `real` data;
        `on_step` is called after every step."""
        self._round_data = []
        if phase == "generator":
            real = self.mle_data(real, epoch)
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
                self.objective.generator_step(real, epoch, index)
                _call(on_step)
            for index in range(self.discriminator_steps):
                self.discriminator_round(
                    real,
                    epoch,
                    index,
                    on_step,
                    fresh_real=self.adversarial_real == "fresh",
                )
            self.objective.after_round(real, epoch, on_step)

    def mle_data(self, real, epoch):
        """The real sequences of MLE epoch `epoch`: `real`, or with
        `generator_real="fresh"` as many new oracle sequences drawn for
        the epoch (a stream no other draw uses)."""
        if self.generator_real != "fresh":
            return real
        return sampler.sample_many(
            self.oracle,
            len(real),
            seed=seeds.seed_pair(self.seed, seeds.FRESH_MLE, epoch),
        )

    def steps_per_epoch(self, phase: str, num_real: int) -> int:
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
        return (
            self.generator_steps
            + self.discriminator_steps * d_round
            + self.objective.extra_steps()
        )

    def evaluate_nll_oracle(
        self, num_samples: int | None = None, seed: ArrayLike = (0, 0)
    ) -> float:
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
        self,
        generator_epochs: int,
        discriminator_rounds: int,
        adversarial_rounds: int,
    ) -> list[schedule_lib.Epoch]:
        """The `schedule.Epoch` (phase, index in it, its length) of every
        global epoch."""
        return schedule_lib.plan(
            generator_epochs, discriminator_rounds, adversarial_rounds
        )

    def train(
        self,
        x: ArrayLike | tf.data.Dataset,
        generator_epochs: int = 120,
        discriminator_rounds: int = 50,
        adversarial_rounds: int = 200,
        callbacks: Sequence[keras.callbacks.Callback] | None = None,
        verbose: int | str = "auto",
        initial_epoch: int = 0,
        validation_data: ArrayLike | None = None,
    ) -> keras.callbacks.History:
        """Runs the three phases; returns a `keras.callbacks.History`.

        Args:
            x: the real data, int [N, T] token ids (array, tensor, or a
                `tf.data.Dataset` of sequences, batched or not).
            generator_epochs: the epochs of MLE pretraining.
            discriminator_rounds: the rounds of discriminator pretraining.
            adversarial_rounds: the adversarial rounds.
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
        self.critic.prepare(real)
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
                self.objective.start()
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
                logs.update(self.monitor.evaluate(epoch, held_out))
            if entry.phase != "generator":
                logs.update(self.monitor.probe(epoch, real, self._round_data))
            logs["phase"] = schedule_lib.PHASES.index(entry.phase)
            logs["seconds"] = time.perf_counter() - start
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end()
        return self.history

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
