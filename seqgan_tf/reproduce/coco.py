"""SeqGAN's successors on COCO captions: MLE, SeqGAN, MaliGAN, RankGAN and
LeakGAN trained on the same schedule, each measured by BLEU-2..5 against
the 10,000 held-out captions and Self-BLEU-2..4 among its samples, beside
the values Texygen published for the same models, and each at the
diversity of the MLE generator's temperature curve.

The harness is `table2`'s (`table2.reproduce_text`) with this module's
schedules. Every run uses fixed-length captions (`data.padding=eos`: each
row is the caption, its EOS and EOS again up to T = 32), the convention of
Texygen's and LeakGAN's code, because LeakGAN's Manager reads the
discriminator's features of every prefix and generates fixed-length
sequences; all methods share it so that they differ only in training.
The samples are cut at their first EOS before BLEU.

`reproduce_coco(schedule, seeds, output, methods)` writes `coco.md`,
`coco.csv`, `coco.json` and `bleu_diversity.png` into `output`.
"""

from seqgan_tf import methods as methods_lib
from seqgan_tf.reproduce import table2
from seqgan_tf.reproduce.table2 import TextSchedule

TABLE_FILES = ("coco.md", "coco.csv", "coco.json")
PLOT_FILE = "bleu_diversity.png"
TITLE = "SeqGAN's successors on COCO captions"
METHODS = methods_lib.names(table="coco")
BLEU_ORDERS = (2, 3, 4, 5)
SELF_BLEU_ORDERS = (2, 3, 4)
MATCH_ORDER = 4

# Texygen's published COCO table (its README and docs/evaluation.md):
# sentence BLEU of each of 9,984 samples against all its test captions
# (nltk, smoothing method 1) and Self-BLEU of each sample against the
# other 9,983; "real" is its "training set" column. Its samples
# (docs/instances/) re-scored by this project's metrics give its MLE
# column to the third decimal (docs/family.md).
TEXYGEN_SAMPLES = 9_984
TEXYGEN_COCO = {
    "real": {
        "bleu_2": 0.740,
        "bleu_3": 0.520,
        "bleu_4": 0.337,
        "bleu_5": 0.218,
        "self_bleu_2": 0.892,
        "self_bleu_3": 0.747,
        "self_bleu_4": 0.573,
    },
    "mle": {
        "bleu_2": 0.731,
        "bleu_3": 0.497,
        "bleu_4": 0.305,
        "bleu_5": 0.189,
        "self_bleu_2": 0.916,
        "self_bleu_3": 0.769,
        "self_bleu_4": 0.583,
    },
    "seqgan": {
        "bleu_2": 0.745,
        "bleu_3": 0.498,
        "bleu_4": 0.294,
        "bleu_5": 0.180,
        "self_bleu_2": 0.950,
        "self_bleu_3": 0.840,
        "self_bleu_4": 0.670,
    },
    "maligan": {
        "bleu_2": 0.673,
        "bleu_3": 0.432,
        "bleu_4": 0.257,
        "bleu_5": 0.159,
        "self_bleu_2": 0.918,
        "self_bleu_3": 0.781,
        "self_bleu_4": 0.606,
    },
    "rankgan": {
        "bleu_2": 0.743,
        "bleu_3": 0.467,
        "bleu_4": 0.264,
        "bleu_5": 0.156,
        "self_bleu_2": 0.959,
        "self_bleu_3": 0.882,
        "self_bleu_4": 0.762,
    },
    "leakgan": {
        "bleu_2": 0.746,
        "bleu_3": 0.528,
        "bleu_4": 0.355,
        "bleu_5": 0.230,
        "self_bleu_2": 0.966,
        "self_bleu_3": 0.913,
        "self_bleu_4": 0.848,
    },
}

REPORT_COLUMNS = (
    ("generator", "method"),
    *((f"BLEU-{n}", f"bleu_{n}") for n in BLEU_ORDERS),
    *((f"Self-BLEU-{n}", f"self_bleu_{n}") for n in SELF_BLEU_ORDERS),
    ("NLL-test", "nll_test"),
    ("temperature", "temperature"),
    ("p vs matched MLE (Welch over seeds)", "seed_welch_p_vs_matched"),
)

_COMMON = dict(
    methods=METHODS,
    bleu_orders=BLEU_ORDERS,
    self_bleu_orders=SELF_BLEU_ORDERS,
    match_order=MATCH_ORDER,
    matched_row="mle_at_{method}",
    published=TEXYGEN_COCO,
    published_label="Texygen",
)

SCHEDULES = {
    # For tests: tiny models on 200 captions, seconds per run.
    "tiny": TextSchedule(
        "tiny",
        "tiny",
        "coco/small",
        mle_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        eval_samples=40,
        temperatures=(0.7, 1.0, 1.3),
        overrides=("data.padding=eos",),
        published_samples=60,
        **_COMMON,
    ),
    # The paper's models (the quick preset) on the 10,000 training
    # captions with the oracle family table's budget except MLE: 6 epochs
    # (where the held-out NLL of MLE on these captions stops falling, see
    # docs/real-data.md), shared by every method (LeakGAN its own stages),
    # 3 D rounds, 10 adversarial rounds, 2,000 samples a point.
    "family": TextSchedule(
        "family",
        "quick",
        "coco",
        mle_epochs=6,
        discriminator_rounds=3,
        adversarial_rounds=10,
        eval_samples=2_000,
        temperatures=(0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2),
        overrides=(
            "data.padding=eos",
            "training.num_negatives=1024",
            "training.eval_every=0",
            "training.eval_samples=256",
        ),
        published_samples=TEXYGEN_SAMPLES,
        **_COMMON,
    ),
}


def get_schedule(schedule):
    """`SCHEDULES[schedule]` (a `TextSchedule` passes through)."""
    return table2.get_schedule(schedule, SCHEDULES)


def reproduce_coco(
    schedule="family",
    seeds=(0, 1, 2),
    output="runs/coco",
    methods=None,
    data_dir=None,
    verbose=0,
    log=print,
):
    """Trains and measures `methods` (default all; MLE always) on every
    seed, resuming; returns the table (`coco.json`)."""
    return table2.reproduce_text(
        get_schedule(schedule),
        seeds,
        output,
        TABLE_FILES,
        PLOT_FILE,
        methods=methods,
        data_dir=data_dir,
        verbose=verbose,
        log=log,
    )


def estimate_seconds(schedule, seeds, data_dir=None, methods=None):
    """See `table2.estimate_seconds`."""
    return table2.estimate_seconds(
        get_schedule(schedule), seeds, data_dir, methods
    )
