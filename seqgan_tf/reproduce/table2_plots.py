"""The text reproductions' plot: BLEU against Self-BLEU over the
sampling temperatures, one curve per method, with the matched MLE
generators and the real sequences as points (`bleu_diversity.png`).
"""

import numpy as np
from matplotlib.figure import Figure

from seqgan_tf.reproduce.table2_schedules import get_schedule


def plot_curves(results, real, path, schedule):
    """BLEU (quality, higher is better) against Self-BLEU (lower is more
    diverse) of `match_order` over the temperatures, one curve per method
    (its seeds' mean); the matched MLE generators and the real sequences
    as points."""
    schedule = get_schedule(schedule)
    order = schedule.match_order
    x_key, y_key = f"self_bleu_{order}", f"bleu_{order}"
    figure = Figure(figsize=(7, 5), dpi=100)
    axes = figure.add_subplot()
    colours = {}  # a method's curve and its matched MLE point share one
    for method in schedule.methods:
        by_temperature = {}
        for (name, _), result in results.items():
            if name != method:
                continue
            for p in result["curve"]:
                by_temperature.setdefault(p["temperature"], []).append(
                    (p[x_key], p[y_key])
                )
        if not by_temperature:
            continue
        points = [
            np.mean(by_temperature[t], axis=0) for t in sorted(by_temperature)
        ]
        x, y = zip(*points)
        (line,) = axes.plot(x, y, marker="o", label=f"{method} (temperatures)")
        colours[method] = line.get_color()
    for method in schedule.methods:
        matched = [
            r
            for (name, _), r in results.items()
            if name == schedule.matched(method) and method != "mle"
        ]
        if matched:
            axes.scatter(
                [r[x_key] for r in matched],
                [r[y_key] for r in matched],
                marker="x",
                s=60,
                color=colours.get(method),
                label=f"mle at {method}'s Self-BLEU-{order}",
            )
    if real is not None:
        axes.scatter(
            [real[x_key]],
            [real[y_key]],
            marker="*",
            s=120,
            color="black",
            label="real sequences",
        )
    axes.set_xlabel(f"Self-BLEU-{order} (lower is more diverse)")
    axes.set_ylabel(f"BLEU-{order} against the held-out set (higher is better)")
    axes.set_title("Quality vs diversity over sampling temperatures")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(str(path), format="png")
