"""Keras callbacks that keep a run directory: metrics, samples, the MLE
generator and the text evaluation at phase ends, checkpoints, stopping.

Each is a plain `keras.callbacks.Callback` that `SeqGAN.train` (or any
Keras training loop with the same logs) drives.
"""

from __future__ import annotations

import math
import pathlib
import shutil
from typing import TYPE_CHECKING

import keras
import tensorflow as tf

from seqgan_tf import distribute
from seqgan_tf import evaluation
from seqgan_tf import runs
from seqgan_tf import seeds

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from seqgan_tf.datasets.text_data import TextData
    from seqgan_tf.schedule import Epoch
    from seqgan_tf.trainer import SeqGAN


class MetricsWriter(keras.callbacks.Callback):
    """Writes every epoch's logs to metrics.csv and metrics.json of a run
    directory (the columns of `runs.METRIC_COLUMNS`, empty where an epoch
    measured nothing), keeping the rows of earlier invocations up to the
    resumed epoch.

    Args:
        run_dir: the run directory.
        initial_epoch: the first epoch this invocation trains; rows from
            it on are dropped (they will be written again).

    Examples:
        >>> import pathlib
        >>> from seqgan_tf import runs
        >>> from seqgan_tf.callbacks import MetricsWriter
        >>> pathlib.Path("runs/example").mkdir(parents=True, exist_ok=True)
        >>> writer = MetricsWriter("runs/example")
        >>> writer.on_epoch_end(0, {"phase": 0, "g_loss": 2.5})
        >>> row = runs.read_metric_rows("runs/example")[0]
        >>> row["epoch"], row["g_loss"], row["d_loss"]
        ('0', '2.5', '')
    """

    def __init__(self, run_dir: str | os.PathLike, initial_epoch: int = 0):
        super().__init__()
        self.run_dir = pathlib.Path(run_dir)
        self.rows = runs.read_metric_rows(self.run_dir, initial_epoch)
        runs.write_metrics(self.run_dir, self.rows)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        row = {"epoch": epoch, "phase": int(logs.get("phase", -1))}
        for key in runs.METRIC_COLUMNS[2:]:
            value = logs.get(key, math.nan)
            row[key] = "" if math.isnan(value) else repr(float(value))
        self.rows.append(row)
        runs.write_metrics(self.run_dir, self.rows)


class SampleWriter(keras.callbacks.Callback):
    """At every epoch that measured NLL-oracle or NLL-test, writes `count`
    samples of the generator to samples/epoch_NNNN.txt: token ids (oracle
    task) or text (give `data`, a `TextData`). For text it also adds their
    BLEU-4 against the held-out set to the logs as `bleu_4`, so it must come
    before callbacks that record the logs.

    Args:
        gan: the `SeqGAN` being trained.
        run_dir: the run directory.
        count: samples per file.
        data: the `TextData` of a text task, else None.

    Examples:
        >>> import pathlib
        >>> import seqgan_tf
        >>> from seqgan_tf import experiment
        >>> tiny = seqgan_tf.get_preset("tiny")
        >>> gan = experiment.build_gan(tiny, experiment.build_oracle(tiny))
        >>> from seqgan_tf.callbacks import SampleWriter
        >>> pathlib.Path("runs/example").mkdir(parents=True, exist_ok=True)
        >>> writer = SampleWriter(gan, "runs/example", count=3)
        >>> writer.on_epoch_end(0, {"nll_oracle": 4.2})
        >>> lines = pathlib.Path("runs/example/samples/epoch_0000.txt")
        >>> len(lines.read_text().splitlines())
        3
    """

    def __init__(
        self,
        gan: SeqGAN,
        run_dir: str | os.PathLike,
        count: int,
        data: TextData | None = None,
    ):
        super().__init__()
        self.gan = gan
        self.directory = pathlib.Path(run_dir) / runs.SAMPLES_DIR
        self.directory.mkdir(exist_ok=True)
        self.count = count
        self.data = data

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        key = "nll_oracle" if self.data is None else "nll_test"
        if math.isnan(logs.get(key, math.nan)):
            return
        samples = self.gan.generator.generate(
            self.count,
            seed=seeds.seed_pair(self.gan.seed, seeds.EVAL, epoch, 1),
        ).numpy()
        path = self.directory / f"epoch_{epoch:04d}.txt"
        if self.data is None:
            runs.write_token_file(path, samples)
            return
        runs.write_lines(path, self.data.decode(samples))
        logs["bleu_4"] = self.data.bleu_scorer.bleu(
            self.data.tokens(samples), 4
        )


class PhaseEnd(keras.callbacks.Callback):
    """At the last epoch of a generator phase: saves the MLE generator
    (`runs.PRETRAINED_WEIGHTS`, for comparing it with the adversarial one)
    and, for a text task, records the full evaluation of the generator in
    evaluation.json under "pretrained" or "adversarial".

    Args:
        gan: the `SeqGAN` being trained.
        run_dir: the run directory.
        plan: the schedule (`SeqGAN.schedule(...)`).
        data: the `TextData` of a text task, else None.
        num_samples: samples of the text evaluation.
        music_task: also score the pitch MSE (folk tunes).

    Examples:
        >>> import pathlib
        >>> import seqgan_tf
        >>> from seqgan_tf import experiment
        >>> tiny = seqgan_tf.get_preset("tiny")
        >>> gan = experiment.build_gan(tiny, experiment.build_oracle(tiny))
        >>> from seqgan_tf.callbacks import PhaseEnd
        >>> pathlib.Path("runs/example").mkdir(parents=True, exist_ok=True)
        >>> plan = gan.schedule(1, 0, 0)  # one MLE epoch
        >>> PhaseEnd(gan, "runs/example", plan).on_epoch_end(0)
        >>> [path.name for path in pathlib.Path("runs/example").glob("*.h5")]
        ['pretrained_generator.weights.h5']
    """

    def __init__(
        self,
        gan: SeqGAN,
        run_dir: str | os.PathLike,
        plan: Sequence[Epoch],
        data: TextData | None = None,
        num_samples: int | None = None,
        music_task: bool = False,
    ):
        super().__init__()
        self.gan = gan
        self.run_dir = pathlib.Path(run_dir)
        self.plan = plan
        self.data = data
        self.num_samples = num_samples
        self.music_task = music_task

    def on_epoch_end(self, epoch, logs=None):
        entry = self.plan[epoch]
        if entry.phase == "discriminator" or entry.index != entry.count - 1:
            return
        stage = "pretrained" if entry.phase == "generator" else "adversarial"
        if stage == "pretrained":
            runs.save_weights_atomically(
                self.gan.generator, self.run_dir / runs.PRETRAINED_WEIGHTS
            )
        if self.data is None:
            return
        result, _ = evaluation.evaluate_text(
            self.gan.generator,
            self.data,
            self.num_samples,
            seed=seeds.seed_pair(self.gan.seed, seeds.EVAL, epoch, 2),
            music_task=self.music_task,
        )
        result["epoch"] = epoch
        path = self.run_dir / runs.EVALUATION_FILE
        table = runs.read_json(path)
        table[stage] = result
        runs.write_json(path, table)


class StopAfter(keras.callbacks.Callback):
    """Stops training after `epochs` epochs of this invocation (a run
    continues from its checkpoint when started again).

    Args:
        epochs: how many epochs to train.

    Examples:
        >>> import seqgan_tf
        >>> from seqgan_tf import experiment
        >>> tiny = seqgan_tf.get_preset("tiny")
        >>> gan = experiment.build_gan(tiny, experiment.build_oracle(tiny))
        >>> from seqgan_tf.callbacks import StopAfter
        >>> stop = StopAfter(2)
        >>> stop.set_model(gan)
        >>> stop.on_epoch_end(0)
        >>> gan.stop_training
        False
        >>> stop.on_epoch_end(1)
        >>> gan.stop_training
        True
    """

    def __init__(self, epochs: int):
        super().__init__()
        self.epochs = int(epochs)
        self.seen = 0

    def on_epoch_end(self, epoch, logs=None):
        self.seen += 1
        if self.seen >= self.epochs:
            self.model.stop_training = True


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

    Args:
        manager: the manager of the trainer's checkpoint
            (`SeqGAN.make_checkpoint`).
        epoch_variable: the checkpoint's variable holding the next epoch.
        every: save every this many epochs.
        strategy: the strategy the trainer runs under (see above).

    Examples:
        >>> import tensorflow as tf
        >>> import seqgan_tf
        >>> from seqgan_tf import experiment
        >>> tiny = seqgan_tf.get_preset("tiny")
        >>> gan = experiment.build_gan(tiny, experiment.build_oracle(tiny))
        >>> from seqgan_tf.callbacks import CheckpointCallback
        >>> epoch = tf.Variable(0, dtype=tf.int64)
        >>> manager = tf.train.CheckpointManager(
        ...     gan.make_checkpoint(epoch), "runs/example/checkpoints", 2)
        >>> callback = CheckpointCallback(manager, epoch)
        >>> callback.set_model(gan)
        >>> callback.on_epoch_end(0)
        >>> int(epoch.numpy()), manager.latest_checkpoint
        (1, 'runs/example/checkpoints/ckpt-1')
    """

    def __init__(
        self,
        manager: tf.train.CheckpointManager,
        epoch_variable: tf.Variable,
        every: int = 1,
        strategy: tf.distribute.Strategy | None = None,
    ):
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
        model_strategy = getattr(self.model, "strategy", None)
        return model_strategy or tf.distribute.get_strategy()

    def _save(self):
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
