"""The training schedule's vocabulary: phases, their titles and log keys.

Plain Python, shared by the trainer, the run directory, reports and the
CLI (which reads it before importing TensorFlow).
"""

import typing

# The phases in the order they run.
PHASES = ("generator", "discriminator", "adversarial")
PHASE_TITLES = {
    "generator": "generator pretraining (MLE)",
    "discriminator": "discriminator pretraining",
    "adversarial": "adversarial round",
}
# What the discriminator probe logs after an epoch with D rounds
# (`metrics.discriminator_probe`).
PROBE_KEYS = (
    "d_real_train",
    "d_real_fresh",
    "d_fake_fresh",
    "d_heldout_accuracy",
    "d_quality_spearman",
    "d_optimal_spearman",
    "d_optimal_pearson",
)
# What an epoch of each phase may log (besides `phase` and `seconds`).
PHASE_METRICS = {
    "generator": ("g_loss", "nll_oracle", "nll_test", "entropy", "bleu_4"),
    "discriminator": ("d_loss", "d_accuracy", *PROBE_KEYS),
    "adversarial": (
        "g_loss",
        "mean_reward",
        "d_loss",
        "d_accuracy",
        "nll_oracle",
        "nll_test",
        "entropy",
        "bleu_4",
        *PROBE_KEYS,
    ),
}
# Every key the trainer logs, in the column order of metrics.csv; `bleu_4`
# is added by the text-samples callback.
LOG_KEYS = (
    "g_loss",
    "d_loss",
    "d_accuracy",
    "mean_reward",
    "nll_oracle",
    "nll_test",
    "entropy",
    *PROBE_KEYS,
)


class Epoch(typing.NamedTuple):
    """One epoch of the schedule: its phase, its index in the phase, and the
    phase's length."""

    phase: str
    index: int
    count: int

    @property
    def title(self):
        """E.g. "adversarial round 7/20" (1-based)."""
        return f"{PHASE_TITLES[self.phase]} {self.index + 1}/{self.count}"


def plan(generator_epochs, discriminator_rounds, adversarial_rounds):
    """The `Epoch` of every global epoch: MLE epochs, then D rounds, then
    adversarial rounds."""
    epochs = []
    for phase, count in zip(
        PHASES, (generator_epochs, discriminator_rounds, adversarial_rounds)
    ):
        if count < 0:
            raise ValueError(f"Epoch counts must be >= 0, got {count}.")
        epochs.extend(Epoch(phase, index, count) for index in range(count))
    return epochs
