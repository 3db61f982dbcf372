"""`seqgan-tf report RUN_DIR`: one self-contained HTML report of a run.

The report (RUN_DIR/report/report.html by default) holds the run's config,
its curves (generator loss by phase, discriminator loss and accuracy, mean
reward, NLL-oracle or NLL-test and BLEU-4, with the phases shaded), the
first samples of the first and last sample files, the time spent in each
phase, the summary and (text runs) the evaluation tables, and the
quality-diversity sweep when `seqgan-tf sweep` has written one. The plots
are PNG files beside the HTML and are also embedded in it (base64), so the
HTML alone can be mailed or archived.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import pathlib
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from seqgan_tf import quality
from seqgan_tf import reproduce
from seqgan_tf import runs
from seqgan_tf.config import flatten
from seqgan_tf.runs import CONFIG_FILE
from seqgan_tf.runs import EVALUATION_FILE
from seqgan_tf.runs import METRICS_CSV
from seqgan_tf.runs import METRICS_JSON
from seqgan_tf.runs import REPORT_DIR
from seqgan_tf.runs import SAMPLES_DIR
from seqgan_tf.runs import SUMMARY_FILE
from seqgan_tf.runs import SWEEP_DIR
from seqgan_tf.runs import SWEEP_FILE

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping
    from collections.abc import Sequence
    from typing import Any

REPORT_FILE = "report.html"
FIGURES_FILE = "figures.json"
# Short names of `schedule.PHASES`, by index, for legends and tables.
PHASES = dict(enumerate(("MLE", "discriminator", "adversarial")))
PHASE_COLORS = {0: "#1f77b4", 1: "#7f7f7f", 2: "#d62728"}
SAMPLE_LINES = 10


def _float(value):
    if value in ("", None):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, float]]:
    """The rows of metrics.json (or metrics.csv) with numbers as floats
    (NaN where not measured) and `epoch`/`phase` as ints. ValueError when
    `run_dir` is not a run or has no metrics yet."""
    run_dir = pathlib.Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(
            f"{run_dir} is not a run directory (it does not exist)."
        )
    if not (run_dir / CONFIG_FILE).exists():
        raise ValueError(
            f"{run_dir} has no {CONFIG_FILE}; is it a seqgan-tf run?"
        )
    raw = None
    json_path, csv_path = run_dir / METRICS_JSON, run_dir / METRICS_CSV
    try:
        if json_path.exists():
            raw = json.loads(json_path.read_text(encoding="utf-8"))
        elif csv_path.exists():
            with open(csv_path, newline="", encoding="utf-8") as handle:
                raw = list(csv.DictReader(handle))
    except (OSError, json.JSONDecodeError, csv.Error) as error:
        raise ValueError(
            f"{run_dir}: cannot read its metrics ({error})."
        ) from None
    if not raw:
        raise ValueError(
            f"{run_dir} has no metrics yet (no epoch has finished); "
            "train first."
        )
    rows = []
    try:
        for entry in raw:
            row = {key: _float(value) for key, value in entry.items()}
            row["epoch"] = int(entry["epoch"])
            row["phase"] = int(entry["phase"])
            rows.append(row)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{run_dir}: malformed metrics ({error}).") from None
    return sorted(rows, key=lambda row: row["epoch"])


def _read_json(path):
    path = pathlib.Path(path)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


# --- figures ----------------------------------------------------------------


def _figure(columns=1):
    figure = Figure(figsize=(6.5 * columns, 4), dpi=100)
    axes = [figure.add_subplot(1, columns, i + 1) for i in range(columns)]
    return figure, axes


def _shade_phases(axes, rows):
    """Shades each contiguous run of a phase and names it (patches and text,
    no lines: the Line2D objects of an axes are its curves only)."""
    spans = []
    for row in rows:
        if spans and spans[-1][0] == row["phase"]:
            spans[-1][2] = row["epoch"]
        else:
            spans.append([row["phase"], row["epoch"], row["epoch"]])
    for phase, first, last in spans:
        axes.axvspan(
            first - 0.5,
            last + 0.5,
            color=PHASE_COLORS.get(phase, "#bcbd22"),
            alpha=0.08,
            linewidth=0,
        )
        axes.text(
            (first + last) / 2,
            1.0,
            PHASES.get(phase, str(phase)),
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
            color="#555555",
        )


def _points(rows, key, phase=None):
    xs, ys = [], []
    for row in rows:
        value = row.get(key, math.nan)
        if phase is not None and row["phase"] != phase:
            continue
        if not math.isnan(value):
            xs.append(row["epoch"])
            ys.append(value)
    return xs, ys


def _curve(axes, rows, key, label, phase=None, **style):
    xs, ys = _points(rows, key, phase)
    if not xs:
        return 0
    axes.plot(xs, ys, marker="o", markersize=3, label=label, **style)
    return 1


def _finish(axes, rows, title, ylabel, legend=True):
    _shade_phases(axes, rows)
    axes.set_title(title, pad=14)
    axes.set_xlabel("epoch")
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    if legend and axes.lines:
        axes.legend(fontsize=8)


def plot_generator_loss(rows):
    """g_loss against epoch, one curve per phase that has one (MLE loss,
    policy-gradient loss). Returns the figure, or None without data."""
    figure, (axes,) = _figure()
    curves = 0
    for phase in sorted({row["phase"] for row in rows}):
        curves += _curve(
            axes,
            rows,
            "g_loss",
            f"g_loss ({PHASES.get(phase, phase)})",
            phase=phase,
            color=PHASE_COLORS.get(phase),
        )
    if not curves:
        return None
    _finish(axes, rows, "Generator loss", "g_loss")
    figure.tight_layout()
    return figure


def plot_discriminator(rows):
    """d_loss (left) and d_accuracy (right) against epoch."""
    figure, (left, right) = _figure(2)
    curves = _curve(left, rows, "d_loss", "d_loss", color="#2ca02c")
    curves += _curve(right, rows, "d_accuracy", "d_accuracy", color="#9467bd")
    if not curves:
        return None
    _finish(left, rows, "Discriminator loss", "d_loss")
    _finish(right, rows, "Discriminator accuracy", "d_accuracy")
    figure.tight_layout()
    return figure


def plot_reward(rows):
    """The mean reward of the adversarial rounds against epoch."""
    figure, (axes,) = _figure()
    if not _curve(axes, rows, "mean_reward", "mean_reward", color="#d62728"):
        return None
    _finish(axes, rows, "Mean reward (discriminator's verdict)", "reward")
    figure.tight_layout()
    return figure


def plot_evaluation(rows, text):
    """NLL-oracle (oracle task), or NLL-test (left) and BLEU-4 (right) for
    a text task, against epoch."""
    if not text:
        figure, (axes,) = _figure()
        if not _curve(axes, rows, "nll_oracle", "NLL-oracle", color="k"):
            return None
        _finish(axes, rows, "NLL-oracle (lower is better)", "NLL-oracle")
    else:
        figure, (left, right) = _figure(2)
        curves = _curve(left, rows, "nll_test", "NLL-test", color="k")
        curves += _curve(right, rows, "bleu_4", "BLEU-4", color="#ff7f0e")
        if not curves:
            return None
        _finish(left, rows, "NLL-test (lower is better)", "NLL-test")
        _finish(right, rows, "BLEU-4 vs held-out (higher is better)", "BLEU-4")
    figure.tight_layout()
    return figure


def build_figures(
    rows: Sequence[Mapping[str, float]],
    text: bool = False,
    sweep: Mapping[str, Any] | None = None,
) -> dict[str, Figure]:
    """{file name: matplotlib Figure} of the report's plots (those with
    data). Every curve is one `Line2D` of its axes; nothing else is."""

    figures = {
        "generator_loss.png": plot_generator_loss(rows),
        "discriminator.png": plot_discriminator(rows),
        "reward.png": plot_reward(rows),
        "evaluation.png": plot_evaluation(rows, text),
    }
    if sweep and sweep.get("models"):
        figures["quality_diversity.png"] = quality.plot_quality_diversity(
            sweep["models"]
        )
    return {name: figure for name, figure in figures.items() if figure}


def count_curves(figure):
    """The number of curves (Line2D objects) over all axes of `figure`."""
    return sum(len(axes.lines) for axes in figure.axes)


# --- tables -----------------------------------------------------------------


def _format(value):
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.4g}"
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(_format(v) for v in value)
    return str(value)


def _table(header, body):
    cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    lines = [f"<table><thead><tr>{cells}</tr></thead><tbody>"]
    for row in body:
        cells = "".join(f"<td>{html.escape(_format(v))}</td>" for v in row)
        lines.append(f"<tr>{cells}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def reproduction_table(directory):
    """The `seqgan_tf.reproduce` table module whose JSON table is in
    `directory` (None if none is)."""
    for module in reproduce.TABLES.values():
        if (pathlib.Path(directory) / module.TABLE_FILES[2]).exists():
            return module
    return None


def write_reproduction_report(directory, output=None):
    """report.html of a `seqgan-tf reproduce` folder: the table (means and
    standard deviations over seeds, the paper's values, the p-values of
    Welch's t-test over seeds) and its plot, embedded."""
    directory = pathlib.Path(directory)
    module = reproduction_table(directory)
    path = directory / (module or reproduce.table1).TABLE_FILES[2]
    table = _read_json(path)
    if module is None or not isinstance(table, dict) or "rows" not in table:
        raise ValueError(f"{path} is not a reproduction table.")
    output = pathlib.Path(output) if output else directory / REPORT_DIR
    output.mkdir(parents=True, exist_ok=True)
    header = [title for title, _ in module.REPORT_COLUMNS] + ["seeds"]
    body = [
        tuple(row.get(key) for _, key in module.REPORT_COLUMNS)
        + (
            f"{row['seeds']}/{len(table['seeds'])}"
            + ("" if row["complete"] else " (incomplete)"),
        )
        for row in table["rows"]
    ]
    parts = [f"<h1>{html.escape(module.TITLE)}</h1>", _table(header, body)]
    plot = directory / module.PLOT_FILE
    if plot.exists():
        encoded = base64.b64encode(plot.read_bytes()).decode("ascii")
        parts.append(f"<img src='data:image/png;base64,{encoded}'>")
    document = (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(module.TITLE)}</title><style>{STYLE}</style>"
        "</head><body>\n" + "\n".join(parts) + "\n</body></html>\n"
    )
    path = output / REPORT_FILE
    runs.write_text_atomically(path, document)
    return path


def phase_timings(rows):
    """[(phase name, epochs, seconds)] in phase order, from `seconds`."""
    result = []
    for phase in sorted({row["phase"] for row in rows}):
        selected = [row for row in rows if row["phase"] == phase]
        seconds = math.fsum(
            row.get("seconds", math.nan)
            for row in selected
            if not math.isnan(row.get("seconds", math.nan))
        )
        result.append((PHASES.get(phase, str(phase)), len(selected), seconds))
    return result


def _sample_files(run_dir):
    files = []
    for path in (pathlib.Path(run_dir) / SAMPLES_DIR).glob("epoch_*.txt"):
        try:
            files.append((int(path.stem.split("_", 1)[1]), path))
        except ValueError:
            continue
    return [path for _, path in sorted(files)]


def _samples_section(run_dir, count):
    files = _sample_files(run_dir)
    if not files:
        return "<p>No sample files.</p>"
    chosen = [files[-1]] if len(files) == 1 else [files[-1], files[0]]
    parts = []
    for path in chosen:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        parts.append(f"<h3>{html.escape(path.name)} (first {count})</h3>")
        parts.append(
            _table(
                ["#", "sample"],
                [(i + 1, line) for i, line in enumerate(lines[:count])],
            )
        )
    return "\n".join(parts)


def _stage_order(stage):
    order = ("pretrained", "adversarial", "checkpoint")
    return (order.index(stage) if stage in order else len(order), stage)


def _sweep_table(sweep):
    parts = []
    columns = [
        "temperature",
        "quality",
        "diversity",
        "nll_oracle",
        "bleu_4",
        "self_bleu_4",
        "nll_test",
        "unique_fraction",
    ]
    for name, rows in sweep.get("models", {}).items():
        present = [c for c in columns if any(c in row for row in rows)]
        parts.append(f"<h3>{html.escape(name)}</h3>")
        parts.append(
            _table(present, [[row.get(c) for c in present] for row in rows])
        )
    return "\n".join(parts)


STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto;
       color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; }
td { font-family: monospace; }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
"""


def write_report(
    run_dir: str | os.PathLike,
    output: str | os.PathLike | None = None,
    sample_lines: int = SAMPLE_LINES,
) -> pathlib.Path:
    """Writes the report of `run_dir` into `output` (default:
    RUN_DIR/report/): report.html (plots embedded), the PNG files and
    figures.json ({png: number of curves}). Returns the path of
    report.html. ValueError if `run_dir` is not a run or has no metrics.

    A folder of `seqgan-tf reproduce` (its table1.json or table2.json, no
    config.json) gets the reproduction's report instead: the table and its
    plot."""
    run_dir = pathlib.Path(run_dir)
    if (
        reproduction_table(run_dir) is not None
        and not (run_dir / CONFIG_FILE).exists()
    ):
        return write_reproduction_report(run_dir, output)
    rows = read_metrics(run_dir)
    config = _read_json(run_dir / CONFIG_FILE)
    if not isinstance(config, dict):
        raise ValueError(f"{run_dir / CONFIG_FILE} is not a valid run config.")
    text = config.get("data", {}).get("task") == "text"
    summary = _read_json(run_dir / SUMMARY_FILE)
    evaluation = _read_json(run_dir / EVALUATION_FILE)
    sweep = _read_json(run_dir / SWEEP_DIR / SWEEP_FILE)
    output = pathlib.Path(output) if output else run_dir / REPORT_DIR
    output.mkdir(parents=True, exist_ok=True)

    figures = build_figures(rows, text=text, sweep=sweep)
    images, counts = [], {}
    for name, figure in figures.items():
        path = output / name
        figure.savefig(str(path), format="png")
        counts[name] = count_curves(figure)
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        images.append(
            f'<h3>{html.escape(name)}</h3><a href="{html.escape(name)}">'
            f'<img alt="{html.escape(name)}" '
            f'src="data:image/png;base64,{encoded}"></a>'
        )
    (output / FIGURES_FILE).write_text(
        json.dumps(counts, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )

    last = rows[-1]
    title = f"seqgan-tf run {run_dir.name}"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        (
            f"<p>{html.escape(str(run_dir))}: {len(rows)} epochs recorded "
            f"(last: epoch {last['epoch']}, phase "
            f"{PHASES.get(last['phase'], last['phase'])}); task "
            f"{'text' if text else 'oracle'}.</p>"
        ),
    ]
    if summary:
        body.append("<h2>Summary</h2>")
        flat = flatten({k: v for k, v in summary.items() if k != "evaluation"})
        body.append(_table(["field", "value"], sorted(flat.items())))
    if evaluation:
        metrics = sorted(
            {k for stage in evaluation.values() for k in stage if k != "epoch"}
        )
        body.append("<h2>Evaluation</h2>")
        body.append(
            _table(
                ["stage", "epoch", *metrics],
                [
                    [stage, values.get("epoch")]
                    + [values.get(m) for m in metrics]
                    for stage, values in sorted(
                        evaluation.items(),
                        key=lambda item: _stage_order(item[0]),
                    )
                ],
            )
        )
    body.append("<h2>Curves</h2>")
    body.extend(images or ["<p>No metric has values yet.</p>"])
    if sweep and sweep.get("models"):
        body.append("<h2>Temperature sweep (quality vs diversity)</h2>")
        body.append(
            f"<p>{html.escape(str(sweep.get('samples', '?')))} samples per "
            f"temperature, seed {html.escape(str(sweep.get('seed', '?')))}."
            "</p>"
        )
        body.append(_sweep_table(sweep))
    body.append("<h2>Timings</h2>")
    timings = phase_timings(rows)
    total = math.fsum(seconds for _, _, seconds in timings)
    body.append(
        _table(
            ["phase", "epochs", "seconds", "seconds / epoch"],
            [
                (name, epochs, seconds, seconds / epochs if epochs else None)
                for name, epochs, seconds in timings
            ]
            + [("all", len(rows), total, total / len(rows))],
        )
    )
    body.append("<h2>Samples</h2>")
    body.append(_samples_section(run_dir, sample_lines))
    body.append("<h2>Config</h2>")
    body.append(_table(["field", "value"], sorted(flatten(config).items())))
    document = (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    path = output / REPORT_FILE
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(document, encoding="utf-8")
    temporary.replace(path)
    return path
