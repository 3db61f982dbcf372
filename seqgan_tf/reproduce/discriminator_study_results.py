"""The discriminator study's results: where its rounds are written, how
they are read back, and the table and figure built from them
(`discriminator_study` runs the study)."""

import json
import math
import pathlib

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from seqgan_tf import runs

# The models studied: model -> the method whose config builds it.
MODELS = {"discriminator": "seqgan", "ranker": "rankgan"}
REGIMES = ("fixed", "validated", "fresh")
# The held-out separation that decides a plateau: a `Ranker`'s P(real)
# is not a probability, so its accuracy says nothing.
SEPARATION = {"discriminator": "d_heldout_accuracy", "ranker": "heldout_auc"}
# Its quality correlation: the `Ranker`'s from its logit.
QUALITY = {
    "discriminator": "d_quality_spearman",
    "ranker": "logit_quality_spearman",
}
ROUNDS_FILE = "rounds.jsonl"
STUDY_FILE = "study.json"
BEST_DIR = "best"
TABLE_ROUNDS = (1, 5, 10, 25, 50)
TABLE_MD = "discriminator_study.md"
TABLE_JSON = "discriminator_study.json"
PLOT_FILE = "discriminator_study.png"


def regime_dir(output, model, regime):
    """Where one (model, regime) of a study writes its rounds."""
    return pathlib.Path(output) / model / regime


def read_rounds(directory):
    """The rounds a (model, regime) finished: the dicts of its
    rounds.jsonl ([] if none)."""
    path = pathlib.Path(directory) / ROUNDS_FILE
    if not path.exists():
        return []
    return [
        json.loads(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def read_curves(source):
    """{(model, regime): rows} of every (model, regime) with rounds in
    `source` (a study's output, or a results folder with its copies)."""
    curves = {}
    for model in MODELS:
        for regime in REGIMES:
            rows = read_rounds(regime_dir(source, model, regime))
            if rows:
                curves[model, regime] = rows
    return curves


def table_rounds(rows, rounds=TABLE_ROUNDS):
    """The rows of `rounds` that exist, and the last row."""
    wanted = {r for r in rounds if r <= len(rows)} | {len(rows)}
    return [row for row in rows if row["round"] in wanted]


def build_table(curves, settings=None, rounds=TABLE_ROUNDS):
    """The JSON table: per (model, regime), its rounds run, plateau,
    mean seconds per round, its rows at `rounds` (and the last), and for
    `validated` its best round and that checkpoint's probe."""
    entries = []
    for (model, regime), rows in curves.items():
        last = rows[-1]
        entry = {
            "model": model,
            "regime": regime,
            "rounds_run": len(rows),
            "plateaued_at": next(
                (row["round"] for row in rows if row.get("plateaued")), None
            ),
            # The median: a round that spans a pause of the machine's jobs
            # would dominate a mean.
            "seconds_per_round": float(np.median([r["seconds"] for r in rows])),
            "rows": table_rounds(rows, rounds),
        }
        if "best_round" in last:
            entry.update(
                best_round=last["best_round"],
                best_validation_accuracy=last["best_validation_accuracy"],
                best_probe=last["best_probe"],
            )
        entries.append(entry)
    return {
        "settings": settings,
        "table_rounds": list(rounds),
        "runs": entries,
    }


def cell(value, digits=3):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown_lines(table):
    """The Markdown of `build_table`'s table."""
    settings = table.get("settings") or {}
    negatives = next(
        (e["rows"][0]["negatives"] for e in table["runs"] if e["rows"]), "?"
    )
    lines = [
        "# What a discriminator learns, round by round",
        "",
        "The frozen MLE generator of the "
        f"`{settings.get('schedule', '?')}` schedule (seed "
        f"{settings.get('seed', '?')}); {negatives} fresh negatives a "
        f"round; the probe: {settings.get('probe_samples', '?')} held-out "
        "sequences of each kind, the same set every round, regime and "
        "model (`seqgan_tf.reproduce.discriminator_study`). Rows: rounds "
        f"{', '.join(str(r) for r in table['table_rounds'])} and the last.",
        "",
        "| model | regime | rounds run | plateaued at | median s / round |",
        "|---|---|---|---|---|",
    ]
    for entry in table["runs"]:
        lines.append(
            f"| {entry['model']} | {entry['regime']} | "
            f"{entry['rounds_run']} | {cell(entry['plateaued_at'])} | "
            f"{entry['seconds_per_round']:.1f} |"
        )
    # Two tables a model, each narrow enough to read whole: how well it
    # separates and ranks, then what it says of each kind of sequence.
    column_groups = (
        (
            "separation and ranking",
            (
                ("round", "round"),
                ("held-out acc.", "d_heldout_accuracy"),
                ("held-out AUC", "heldout_auc"),
                ("Spearman oracle LL", None),
                ("Spearman optimal", "d_optimal_spearman"),
                ("Pearson optimal", "d_optimal_pearson"),
            ),
        ),
        (
            "P(real) and cost",
            (
                ("round", "round"),
                ("P(real) train", "d_real_train"),
                ("P(real) fresh real", "d_real_fresh"),
                ("P(real) fresh gen.", "d_fake_fresh"),
                ("validation acc.", "validation_accuracy"),
                ("s", "seconds"),
            ),
        ),
    )
    for model in dict.fromkeys(entry["model"] for entry in table["runs"]):
        lines += ["", f"## {model}"]
        hidden = ()
        if model == "ranker":
            # Its P(real) reads its features as two logits: not a verdict.
            hidden = (
                "d_heldout_accuracy",
                "d_real_train",
                "d_real_fresh",
                "d_fake_fresh",
            )
        for heading, columns in column_groups:
            lines += [
                "",
                f"{model}, {heading}:",
                "",
                "| regime | "
                + " | ".join(title for title, _ in columns)
                + " |",
                "|---" * (len(columns) + 1) + "|",
            ]
            for entry in table["runs"]:
                if entry["model"] != model:
                    continue
                for row in entry["rows"]:
                    cells = []
                    for _, key in columns:
                        key = key or QUALITY[model]
                        value = None if key in hidden else row.get(key)
                        cells.append(cell(value, 1 if key == "seconds" else 3))
                    lines.append(
                        f"| {entry['regime']} | " + " | ".join(cells) + " |"
                    )
        if model == "ranker":
            lines += [
                "",
                "A `Ranker` has no P(real) (its inherited `predict_real` "
                "reads its features as two logits): its accuracy and P(real) "
                "columns are left out; its separation is the held-out AUC, "
                "its quality correlation that of its logit.",
            ]
    validated = [e for e in table["runs"] if "best_round" in e]
    if validated:
        lines += [
            "",
            "## The `validated` regime's kept checkpoint",
            "",
            "| model | best round | validation acc. | held-out acc. | "
            "held-out AUC | Spearman optimal | Pearson optimal |",
            "|---|---|---|---|---|---|---|",
        ]
        for entry in validated:
            best = entry["best_probe"]
            accuracy = best.get("d_heldout_accuracy")
            if entry["model"] == "ranker":
                accuracy = None
            lines.append(
                f"| {entry['model']} | {entry['best_round']} | "
                f"{cell(entry['best_validation_accuracy'])} | "
                f"{cell(accuracy)} | {cell(best.get('heldout_auc'))} | "
                f"{cell(best.get('d_optimal_spearman'))} | "
                f"{cell(best.get('d_optimal_pearson'))} |"
            )
    return lines


REGIME_COLORS = {"fixed": "C0", "validated": "C1", "fresh": "C2"}
MODEL_STYLES = {"discriminator": "-", "ranker": "--"}


def plot(curves, path):
    """Held-out accuracy (the `Discriminator`'s), held-out AUC and the
    optimal-logit Spearman per round, one line per (model, regime); the
    `validated` regime's kept round is starred."""
    figure = Figure(figsize=(13, 4.5), dpi=100)
    panels = [figure.add_subplot(1, 3, i + 1) for i in range(3)]
    keys = ("d_heldout_accuracy", "heldout_auc", "d_optimal_spearman")
    titles = (
        "Held-out accuracy (Discriminator)",
        "Held-out AUC (fresh real vs fresh generated)",
        "Spearman with the optimal logit\n"
        "(star: the validated regime's kept round)",
    )
    for (model, regime), rows in curves.items():
        x = [row["round"] for row in rows]
        for axes, key in zip(panels, keys):
            if key == "d_heldout_accuracy" and model == "ranker":
                continue
            y = [np.nan if row.get(key) is None else row[key] for row in rows]
            axes.plot(
                x,
                y,
                color=REGIME_COLORS[regime],
                linestyle=MODEL_STYLES[model],
                marker=".",
                markersize=3,
                label=f"{model}, {regime}",
            )
            best = rows[-1].get("best_round")
            if best:
                value = rows[best - 1].get(key)
                if value is not None:
                    axes.plot(
                        [best],
                        [value],
                        marker="*",
                        markersize=10,
                        color=REGIME_COLORS[regime],
                    )
    for axes, title in zip(panels, titles):
        axes.set_xlabel("D round")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_title(title, fontsize=10)
        axes.grid(True, alpha=0.3)
    panels[0].axhline(0.5, color="grey", linewidth=0.8)
    panels[1].axhline(0.5, color="grey", linewidth=0.8)
    panels[2].axhline(0.0, color="grey", linewidth=0.8)
    handles, labels = panels[1].get_legend_handles_labels()
    if handles:
        panels[1].legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(str(path), format="png")


def write_results(output, results):
    """Copies every (model, regime)'s rounds.jsonl and study.json from
    `output` (when it holds them) to `results`, then writes the table
    (`TABLE_MD`, `TABLE_JSON`) and the figure (`PLOT_FILE`) there from
    the copies; `results` alone rebuilds them (`--table-only`). Returns
    the table."""
    output, results = pathlib.Path(output), pathlib.Path(results)
    results.mkdir(parents=True, exist_ok=True)
    sources = [output / STUDY_FILE] + [
        regime_dir(output, model, regime) / ROUNDS_FILE
        for model in MODELS
        for regime in REGIMES
    ]
    if output.resolve() != results.resolve():
        for source in sources:
            if source.exists():
                target = results / source.relative_to(output)
                target.parent.mkdir(parents=True, exist_ok=True)
                runs.write_text_atomically(
                    target, source.read_text(encoding="utf-8")
                )
    curves = read_curves(results)
    settings = None
    if (results / STUDY_FILE).exists():
        settings = json.loads((results / STUDY_FILE).read_text("utf-8"))
    table = build_table(curves, settings)
    runs.write_json(results / TABLE_JSON, table)
    runs.write_text_atomically(
        results / TABLE_MD, "\n".join(markdown_lines(table)) + "\n"
    )
    if curves:
        plot(curves, results / PLOT_FILE)
    return table
