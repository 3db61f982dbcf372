"""Table 1's plots: quality against diversity over the sampling
temperatures (`plot_curves`, `quality_diversity.png`) and, for the
schedules with a discriminator probe, each method's NLL-oracle and the
discriminator's held-out accuracy per adversarial round beside the
authors' log (`plot_trajectory`, `trajectory.png`).
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from seqgan_tf import paper
from seqgan_tf import schedule as schedule_lib
from seqgan_tf.reproduce import stages
from seqgan_tf.reproduce.table1_logs import float_rows
from seqgan_tf.reproduce.table1_logs import probe_at
from seqgan_tf.reproduce.table1_logs import run_metrics
from seqgan_tf.reproduce.table1_logs import trajectory

# The fewest rounds in which one run (or one seed's shared D
# pretraining) probed its discriminator for the accuracy panel to be
# drawn: fewer points say nothing of a trend.
MIN_PROBED_ROUNDS = 5
# The steps between the rounds' ticks (times a power of ten): 0, 5, 10...
ROUND_STEPS = (1, 2, 5, 10)


def plot_trajectory(output, methods, seeds, path):
    """NLL-oracle against adversarial round (every seed of every method
    whose runs logged it) with the authors' logged curve; beside it the
    change from round 0; beneath, the discriminator's held-out accuracy
    per round, when some run or shared D pretraining probed it in at
    least `MIN_PROBED_ROUNDS` rounds. Rounds are whole numbers on every
    axis. Returns the figure (also written to `path`)."""
    curves, accuracy = _trajectories(output, methods, seeds)
    probed = max((len(points) for _, points in accuracy), default=0)
    with_accuracy = probed >= MIN_PROBED_ROUNDS
    figure = Figure(figsize=(11, 7 if with_accuracy else 4), dpi=100)
    rows = 2 if with_accuracy else 1
    top_left = figure.add_subplot(rows, 2, 1)
    top_right = figure.add_subplot(rows, 2, 2)
    # One colour a method in both panels (grey: the shared D pretraining).
    shown = dict.fromkeys([*curves, *(m for m, _ in accuracy if m)])
    colors = {method: f"C{i}" for i, method in enumerate(shown)}
    labelled = set()
    last = 0
    for method, by_seed in curves.items():
        for points in by_seed:
            x = [k for k, _ in points]
            y = [v for _, v in points]
            last = max(last, x[-1])
            style = dict(color=colors[method], marker="o", markersize=3)
            top_left.plot(
                x,
                y,
                label=None if method in labelled else method,
                alpha=0.8,
                **style,
            )
            labelled.add(method)
            top_right.plot(x, [v - y[0] for v in y], alpha=0.8, **style)
    authors = sorted(paper.AUTHORS_ADVERSARIAL_LOG.items())
    shown_authors = [(k, v) for k, v in authors if k <= max(last, 20)]
    x, y = zip(*shown_authors)
    top_left.plot(x, y, color="black", linestyle="--", label="the authors' log")
    top_right.plot(x, [v - y[0] for v in y], color="black", linestyle="--")
    top_left.set_xlabel("adversarial round")
    top_left.set_ylabel("NLL-oracle (9,984 samples)")
    top_left.set_title("NLL-oracle per round")
    top_left.legend(fontsize=7)
    top_right.set_xlabel("adversarial round")
    top_right.set_ylabel("change from round 0")
    top_right.set_title("Change from round 0 (pretraining ends differ)")
    panels = [top_left, top_right]
    if with_accuracy:
        bottom = figure.add_subplot(2, 1, 2)
        labelled = set()
        for method, points in accuracy:
            label = method or "shared D pretraining"
            bottom.plot(
                [e for e, _ in points],
                [a for _, a in points],
                color=colors.get(method, "grey"),
                marker="o",
                markersize=3,
                alpha=0.8,
                label=None if label in labelled else label,
            )
            labelled.add(label)
        bottom.axhline(0.5, color="grey", linewidth=0.8)
        bottom.set_xlabel("round (negative: D pretraining rounds)")
        bottom.set_ylabel("D held-out accuracy")
        bottom.set_title("Discriminator: fresh real against fresh generated")
        bottom.legend(fontsize=7)
        panels.append(bottom)
    for axes in panels:
        axes.xaxis.set_major_locator(
            MaxNLocator(integer=True, steps=ROUND_STEPS)
        )
        axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(str(path), format="png")
    return figure


def _trajectories(output, methods, seeds):
    """What `plot_trajectory` draws, read from the runs' metrics.csv:
    ({method: [[(round, NLL-oracle)] of each seed that logged one]},
    [(method, [(round, D held-out accuracy)]) of each run whose
    discriminator was pretrained and of each seed's shared D pretraining
    (method None)]), rounds counted from the first adversarial one (the D
    pretraining rounds negative)."""
    curves, accuracy = {}, []
    discriminator = schedule_lib.PHASES.index("discriminator")
    adversarial = schedule_lib.PHASES.index("adversarial")
    for seed in seeds:
        # The shared D pretraining, before any method's own rounds.
        rows = float_rows(stages.stage_dir(output, seed, stages.DISCRIMINATOR))
        points = [
            (r["epoch"], r["d_heldout_accuracy"])
            for r in rows
            if r.get("phase") == discriminator
            and r.get("d_heldout_accuracy") is not None
        ]
        if points:
            end = max(e for e, _ in points) + 1
            accuracy.append((None, [(e - end, a) for e, a in points]))
    for method in methods:
        for seed in seeds:
            rows = run_metrics(output, method, seed)
            points = sorted(trajectory(rows).items())
            if points:
                curves.setdefault(method, []).append(
                    [(k, v[0]) for k, v in points]
                )
            if probe_at(rows, "discriminator") is None:
                # Its discriminator was never pretrained (PG-BLEU's is
                # never trained): its probe says nothing.
                continue
            epochs = [r["epoch"] for r in rows if r.get("phase") == adversarial]
            first = min(epochs) if epochs else 0
            points = [
                (r["epoch"] - first, r["d_heldout_accuracy"])
                for r in rows
                if r.get("d_heldout_accuracy") is not None
                and r.get("phase") in (adversarial - 1, adversarial)
            ]
            if points:
                accuracy.append((method, points))
    return curves, accuracy


def plot_curves(results, path):
    """NLL-oracle (quality) against NLL-test (diversity) at each
    temperature, one curve per method (its seeds' mean), lower left is
    better on both."""
    by_method = {}
    for (method, _), result in results.items():
        for point in result["curve"]:
            key = (method, point["temperature"])
            by_method.setdefault(key, []).append(
                (point["nll_test"], point["nll_oracle"])
            )
    figure = Figure(figsize=(7, 5), dpi=100)
    axes = figure.add_subplot()
    for method in dict.fromkeys(m for m, _ in by_method):
        temperatures = sorted(t for m, t in by_method if m == method)
        points = [np.mean(by_method[method, t], axis=0) for t in temperatures]
        x, y = zip(*points)
        axes.plot(x, y, marker="o", label=method)
    axes.set_xlabel("NLL-test (diversity / coverage, lower is better)")
    axes.set_ylabel("NLL-oracle (quality, lower is better)")
    axes.set_title("Quality vs diversity over sampling temperatures")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(str(path), format="png")
