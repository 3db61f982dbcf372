"""Table 1's plots: quality against diversity over the sampling
temperatures (`plot_curves`, `quality_diversity.png`) and, for the
schedules with a discriminator probe, NLL-oracle and the discriminator's
held-out accuracy per adversarial round beside the authors' log
(`plot_trajectory`, `trajectory.png`).
"""

import numpy as np
from matplotlib.figure import Figure

from seqgan_tf import paper
from seqgan_tf import schedule as schedule_lib
from seqgan_tf.reproduce import stages
from seqgan_tf.reproduce.table1_logs import float_rows
from seqgan_tf.reproduce.table1_logs import run_metrics
from seqgan_tf.reproduce.table1_logs import trajectory


def plot_trajectory(output, methods, seeds, path):
    """NLL-oracle against adversarial round (every seed of `seqgan`, the
    seed means of its controls) with the authors' logged curve; beside it
    the change from round 0; beneath, the discriminator's held-out
    accuracy per round."""
    shown = [m for m in methods if m.startswith("seqgan")]
    figure = Figure(figsize=(11, 7), dpi=100)
    top_left = figure.add_subplot(2, 2, 1)
    top_right = figure.add_subplot(2, 2, 2)
    bottom = figure.add_subplot(2, 1, 2)
    authors = sorted(paper.AUTHORS_ADVERSARIAL_LOG.items())
    last = 0
    discriminator = schedule_lib.PHASES.index("discriminator")
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
            bottom.plot(
                [e - end for e, _ in points],
                [a for _, a in points],
                color="grey",
                marker=".",
                label="shared D pretraining" if seed == seeds[0] else None,
            )
    for index, method in enumerate(shown):
        color = f"C{index}"
        for seed in seeds:
            rows = run_metrics(output, method, seed)
            points = sorted(trajectory(rows).items())
            if not points:
                continue
            x = [k for k, _ in points]
            y = [v[0] for _, v in points]
            last = max(last, x[-1])
            label = method if seed == seeds[0] or method != "seqgan" else None
            style = dict(color=color, marker="o", markersize=3, alpha=0.8)
            top_left.plot(
                x, y, label=label if seed == seeds[0] else None, **style
            )
            top_right.plot(x, [v - y[0] for v in y], **style)
            adversarial = schedule_lib.PHASES.index("adversarial")
            accuracy = [
                (r["epoch"], r["d_heldout_accuracy"])
                for r in rows
                if r.get("d_heldout_accuracy") is not None
                and r.get("phase") in (adversarial - 1, adversarial)
            ]
            if accuracy:
                first = (
                    min(
                        r["epoch"]
                        for r in rows
                        if r.get("phase") == adversarial
                    )
                    if any(r.get("phase") == adversarial for r in rows)
                    else 0
                )
                bottom.plot(
                    [e - first for e, _ in accuracy],
                    [a for _, a in accuracy],
                    color=color,
                    alpha=0.8,
                    label=method if seed == seeds[0] else None,
                )
    shown_authors = [(k, v) for k, v in authors if k <= max(last, 20)]
    if shown_authors:
        x, y = zip(*shown_authors)
        top_left.plot(
            x, y, color="black", linestyle="--", label="the authors' log"
        )
        top_right.plot(x, [v - y[0] for v in y], color="black", linestyle="--")
    top_left.set_xlabel("adversarial round")
    top_left.set_ylabel("NLL-oracle (9,984 samples)")
    top_left.set_title("NLL-oracle per round")
    if top_left.get_legend_handles_labels()[0]:
        top_left.legend(fontsize=7)
    top_right.set_xlabel("adversarial round")
    top_right.set_ylabel("change from round 0")
    top_right.set_title("Change from round 0 (pretraining ends differ)")
    bottom.axhline(0.5, color="grey", linewidth=0.8)
    bottom.set_xlabel("round (negative: D pretraining rounds)")
    bottom.set_ylabel("D held-out accuracy")
    bottom.set_title("Discriminator: fresh real against fresh generated")
    if bottom.get_legend_handles_labels()[0]:
        bottom.legend(fontsize=7)
    for axes in (top_left, top_right, bottom):
        axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(str(path), format="png")


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
