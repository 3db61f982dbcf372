"""The schedules of the text reproductions: what each method trains on
and how it is evaluated (`TextSchedule`), Table 2's named ones
(`SCHEDULES`; `seqgan_tf.reproduce.coco` has its own) and `get_schedule`,
which looks one up. `PAPER_TABLE2` is the paper's BLEU-2 beside them,
`METHODS` the quatrains table's rows.
"""

import dataclasses

from seqgan_tf import methods as methods_lib

# BLEU-2 of the paper's Table 2 (the real data: held-out poems).
PAPER_TABLE2 = {
    "mle": {"bleu_2": 0.6670},
    "seqgan": {"bleu_2": 0.7389},
    "real": {"bleu_2": 0.746},
}
METHODS = methods_lib.names(table="quatrains")


@dataclasses.dataclass(frozen=True)
class TextSchedule:
    """What each method trains on and how it is evaluated.

    Attributes:
        name: the schedule's name ("tiny", "fast", "paper", "family"...).
        base: the preset whose models and training settings are used.
        dataset: the text ("chinese_quatrains", "coco", or a "/small"
            config).
        mle_epochs: MLE epochs (the adversarial methods' pretraining; all
            of MLE's).
        discriminator_rounds, adversarial_rounds: the adversarial methods'.
        eval_samples: generated sequences scored per generator (BLEU against
            every held-out sequence; Self-BLEU among themselves).
        temperatures: the sampling temperatures of each generator's curve
            (the matched temperature is interpolated in MLE's curve).
        overrides: more `section.field=value` settings of every run.
        methods: the trained rows, "mle" first.
        bleu_orders, self_bleu_orders: the orders of BLEU and Self-BLEU
            measured.
        match_order: the order whose Self-BLEU the matched MLE generator
            equals and whose BLEU (each seed's mean) the seed-level tests
            compare.
        matched_row: the name of the matched MLE row of a method
            ("{method}" is replaced).
        published: the published values beside the table ({row: {metric
            key: value}}) and `published_label`, whose they are.
        published_samples: 0, or the number of samples the published
            Self-BLEU was measured on. Self-BLEU grows with the number of
            samples (each is compared with all the others), so each method
            (and the real data) is then also measured at temperature 1 on
            this many samples (`PUBLISHED_FILE`), and the published values
            stand beside those in a table of their own.
    """

    name: str
    base: str
    dataset: str
    mle_epochs: int
    discriminator_rounds: int
    adversarial_rounds: int
    eval_samples: int
    temperatures: tuple = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2)
    overrides: tuple = ()
    methods: tuple = METHODS
    bleu_orders: tuple = (2,)
    self_bleu_orders: tuple = (2,)
    match_order: int = 2
    matched_row: str = "mle_matched"
    published: dict = dataclasses.field(default_factory=dict)
    published_label: str = "paper"
    published_samples: int = 0

    def matched(self, method):
        """The name of the row of the MLE generator matched to `method`."""
        return self.matched_row.format(method=method)

    @property
    def rows(self):
        """The table's rows: the real data, MLE, then each other method
        followed by MLE at its Self-BLEU."""
        rows = ["real", "mle"]
        for method in self.methods:
            if method != "mle":
                rows += [method, self.matched(method)]
        return tuple(rows)


SCHEDULES = {
    # For tests: tiny models on 180 poems, seconds per run.
    "tiny": TextSchedule(
        "tiny",
        "tiny",
        "chinese_quatrains/small",
        mle_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        eval_samples=48,
        temperatures=(0.7, 1.0, 1.3),
        published=PAPER_TABLE2,
    ),
    # The paper's models on all 14,754 training poems; MLE for as many
    # epochs as SeqGAN's pretraining, so the adversarial rounds are the
    # only difference between the two rows (see the README).
    "fast": TextSchedule(
        "fast",
        "quick",
        "chinese_quatrains",
        mle_epochs=10,
        discriminator_rounds=3,
        adversarial_rounds=10,
        eval_samples=2_000,
        overrides=(
            "training.num_negatives=1024",
            "training.eval_every=0",
            "training.eval_samples=256",
        ),
        published=PAPER_TABLE2,
    ),
    # The authors' schedule of the synthetic task (their poem schedule is
    # not published): a GPU or days of CPU.
    "paper": TextSchedule(
        "paper",
        "paper",
        "chinese_quatrains",
        mle_epochs=120,
        discriminator_rounds=50,
        adversarial_rounds=200,
        eval_samples=10_000,
        published=PAPER_TABLE2,
    ),
}


def get_schedule(schedule, schedules=None):
    """`schedules[schedule]` (this module's `SCHEDULES` by default); a
    `TextSchedule` passes through."""
    if isinstance(schedule, TextSchedule):
        return schedule
    return (SCHEDULES if schedules is None else schedules)[schedule]
