"""Progress display of `SeqGAN.train`: each phase by name, its own metrics,
and the estimated time left for the whole run."""

import math
import time

import keras

from seqgan_tf import schedule


class PhaseProgress(keras.callbacks.Callback):
    """Prints the schedule's progress, the way `SeqGAN.train` shows it.

    Each epoch is announced by name ("discriminator pretraining 2/5"), its
    steps are counted on a `keras.utils.Progbar` showing only the metrics
    its phase measures (no NaN placeholders), and each epoch ends with the
    elapsed time and an estimate of the time left for the whole run. The
    estimate charges every remaining epoch the measured seconds per step of
    its phase, and a phase that has not run yet the rate of the last one
    that did, so it firms up as each phase starts.

    Reads the schedule from the model being trained (`SeqGAN.epoch_plan`
    and `SeqGAN.phase_steps`).

    Args:
        verbose: 1 for a progress bar per epoch, 2 for one line per epoch.
    """

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self._bar = None
        self._phase = None
        self._seconds = {}  # phase -> [seconds, steps] measured
        self._started = None
        self._epoch_start = None
        self._last_rate = None

    def on_train_begin(self, logs=None):
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        entry = self.model.epoch_plan[epoch]
        self._phase = entry.phase
        print(f"{entry.title} (epoch {epoch + 1}/{len(self.model.epoch_plan)})")
        self._bar = keras.utils.Progbar(
            self.model.phase_steps[entry.phase],
            verbose=self.verbose,
            stateful_metrics=schedule.PHASE_METRICS[entry.phase],
        )
        self._epoch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        # The last step's line is the epoch's, written with its evaluation.
        if self.verbose == 1 and batch + 1 < self._bar.target:
            self._bar.update(batch + 1, self._values(logs))

    def on_epoch_end(self, epoch, logs=None):
        entry = self.model.epoch_plan[epoch]
        seconds = time.perf_counter() - self._epoch_start
        steps = self.model.phase_steps[entry.phase]
        measured = self._seconds.setdefault(entry.phase, [0.0, 0])
        measured[0] += seconds
        measured[1] += steps
        self._last_rate = measured[0] / measured[1]
        self._bar.update(steps, self._values(logs), finalize=True)
        left = self._seconds_left(epoch)
        elapsed = time.perf_counter() - self._started
        print(f"  {_duration(elapsed)} elapsed, about {_duration(left)} left")

    def _values(self, logs):
        return [
            (key, float(logs[key]))
            for key in schedule.PHASE_METRICS[self._phase]
            if logs and key in logs and not math.isnan(float(logs[key]))
        ]

    def _seconds_left(self, epoch):
        plan = self.model.epoch_plan
        left = 0.0
        for entry in plan[epoch + 1 :]:
            measured = self._seconds.get(entry.phase)
            rate = measured[0] / measured[1] if measured else self._last_rate
            left += rate * self.model.phase_steps[entry.phase]
        return left


def _duration(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{seconds:02d}s"
    return f"{seconds}s"
