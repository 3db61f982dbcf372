"""What Table 1's runs logged while they trained, read back: a run's
metrics.csv as floats (`run_metrics`, `float_rows`), its discriminator
probe at the end of a phase (`probe_at`), its NLL-oracle and entropy per
adversarial round (`trajectory`) and at the ends of MLE pretraining and
of the adversarial rounds (`progress`). The tables
(`seqgan_tf.reproduce.table1_tables`) and the plots
(`seqgan_tf.reproduce.table1_plots`) read them.
"""

from seqgan_tf import runs
from seqgan_tf import schedule as schedule_lib
from seqgan_tf.reproduce import common


def run_metrics(output, method, seed):
    """The metrics.csv rows of one run as floats (None where empty); []
    when it has none."""
    return float_rows(common.run_dir(output, method, seed))


def float_rows(path):
    """metrics.csv of a run directory as floats (None where empty)."""
    try:
        rows = runs.read_metric_rows(path)
    except runs.RunError:
        return []
    return [
        {k: (float(v) if v not in ("", None) else None) for k, v in r.items()}
        for r in rows
    ]


def probe_at(rows, phase):
    """The discriminator probe (`schedule.PROBE_KEYS`) of the last epoch of
    `phase` that probed, or None."""
    index = schedule_lib.PHASES.index(phase)
    probed = [
        r
        for r in rows
        if r.get("phase") == index and r.get("d_heldout_accuracy") is not None
    ]
    if not probed:
        return None
    # Logs written before a key existed lack it (None).
    return {key: probed[-1].get(key) for key in schedule_lib.PROBE_KEYS}


def trajectory(rows):
    """{round: (NLL-oracle, entropy)} of the adversarial rounds that
    measured NLL-oracle, round 0 being the first."""
    adversarial = schedule_lib.PHASES.index("adversarial")
    epochs = [r["epoch"] for r in rows if r.get("phase") == adversarial]
    if not epochs:
        return {}
    first = min(epochs)
    return {
        int(r["epoch"] - first): (r["nll_oracle"], r.get("entropy"))
        for r in rows
        if r.get("phase") == adversarial and r.get("nll_oracle") is not None
    }


def progress(rows):
    """{"pretrained": (NLL-oracle, entropy) at the end of MLE pretraining,
    "last": the same after the last adversarial round}, from a run's
    metrics rows; a key is absent when its phase measured nothing."""
    found = {}
    for name, phase in (("pretrained", "generator"), ("last", "adversarial")):
        index = schedule_lib.PHASES.index(phase)
        measured = [
            r
            for r in rows
            if r.get("phase") == index and r.get("nll_oracle") is not None
        ]
        if measured:
            row = max(measured, key=lambda r: r["epoch"])
            found[name] = (row["nll_oracle"], row.get("entropy"))
    return found
