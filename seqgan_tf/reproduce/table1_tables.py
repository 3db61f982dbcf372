"""Table 1's table: one row per method (means and standard deviations
over seeds, the paper's value, Welch's test over seeds against SeqGAN and
MLE, where the method lies against the MLE generator's temperature
curve, and the means of what its runs logged: probe, progress,
trajectory), built from the protocol results (`build_table`) and written
as `table1.json`, `table1.csv` and `table1.md` (`write_tables`; the
Markdown in narrow tables, the values before the tests, and the rows no
seed has finished named on a line).
"""

import pathlib

import numpy as np

from seqgan_tf import methods as methods_lib
from seqgan_tf import paper
from seqgan_tf import schedule as schedule_lib
from seqgan_tf.reproduce import common
from seqgan_tf.reproduce.table1_logs import probe_at
from seqgan_tf.reproduce.table1_logs import progress
from seqgan_tf.reproduce.table1_logs import run_metrics
from seqgan_tf.reproduce.table1_logs import trajectory

# NLL-oracle of the paper's Table 1.
PAPER_TABLE1 = {
    "random": 10.310,
    "mle": 9.038,
    "scheduled_sampling": 8.985,
    "pg_bleu": 8.946,
    "seqgan": 8.736,
}
TABLE_FILES = ("table1.md", "table1.csv", "table1.json")


def build_table(results, methods, seeds, output):
    """One row per method: mean and sd over seeds of NLL-oracle and
    NLL-test, the paper's value, the seed-level test of SeqGAN and of MLE
    against the method (`common.seed_welch` on the seeds' NLL-oracle), the
    runs' wall time. A method with a missing run is marked `complete:
    false`."""
    rows, per_seed = [], {}
    for method in methods:
        present, row = common.table_row(
            method,
            PAPER_TABLE1.get(method),
            seeds,
            [results.get((method, s)) for s in seeds],
        )
        for key in ("nll_oracle", "nll_test"):
            row[key], row[f"{key}_sd"] = common.mean_sd(
                [r[key] for r in present]
            )
        per_seed[method] = [r["nll_oracle"] for r in present]
        row["train_seconds"] = [r.get("train_seconds") for r in present]
        row.update(_run_summaries(output, method, seeds))
        row.update(versus_mle_curve(results, method, seeds))
        rows.append(row)
    common.seed_statistics(rows, references, "nll_oracle", per_seed)
    return {
        "rows": rows,
        "seeds": list(seeds),
        "statistics": common.SEED_TEST.format(key="nll_oracle"),
    }


def references(method):
    """[(name, method)] of the rows a method's row is tested against:
    SeqGAN, MLE, and the row it is a variant of (its registered parent,
    e.g. a method's learned-critic row for its constant or optimal critic;
    none on their own rows)."""
    parent = (
        methods_lib.get(method).parent
        if method in methods_lib.names()
        else None
    )
    return [("seqgan", "seqgan"), ("mle", "mle"), ("parent", parent)]


def _parent_column(rows):
    """Whether a table shows the test against each row's parent: when a
    row's parent is in the table and is not SeqGAN or MLE."""
    present = {row["method"] for row in rows}
    return any(
        methods_lib.get(row["method"]).parent in present - {"seqgan", "mle"}
        for row in rows
        if row["method"] in methods_lib.names()
    )


def mean_curve(results, method, seeds):
    """{temperature: (NLL-test, NLL-oracle)} of a method's curve, the mean
    over its seeds that have one."""
    points = {}
    for seed in seeds:
        result = results.get((method, seed)) or {}
        for point in result.get("curve", []):
            points.setdefault(point["temperature"], []).append(
                (point["nll_test"], point["nll_oracle"])
            )
    return {t: tuple(np.mean(v, axis=0)) for t, v in sorted(points.items())}


def versus_mle_curve(results, method, seeds):
    """Where a method's point at temperature 1 lies against the MLE
    generator's temperature curve: `mle_curve_nll_oracle`, the curve's
    NLL-oracle at the method's NLL-test (linear between the curve's
    points), and `below_mle_curve_by`, how much lower the method's
    NLL-oracle is (> 0: below the curve, better quality at the same
    diversity; < 0: above it). None when either curve is missing or the
    method's NLL-test lies outside the MLE curve's range."""
    empty = {
        "mle_curve_nll_oracle": None,
        "below_mle_curve_by": None,
        "dominated_by_mle_at": None,
    }
    # The method's own curve point at temperature 1 (the curve's samples,
    # so both sides of the comparison are measured alike).
    own = mean_curve(results, method, seeds).get(1.0)
    curve = sorted(mean_curve(results, "mle", seeds).values())
    if method == "mle" or own is None or len(curve) < 2:
        return empty
    x, y = own
    xs = [p[0] for p in curve]
    # An MLE temperature better on both axes (the coldest such) dominates.
    points = mean_curve(results, "mle", seeds)
    better = [t for t, (px, py) in points.items() if px < x and py < y]
    dominated = min(better) if better else None
    if not xs[0] <= x <= xs[-1]:
        return {
            **empty,
            "curve_nll_test": float(x),
            "curve_nll_oracle": float(y),
            "dominated_by_mle_at": dominated,
        }
    at = float(np.interp(x, xs, [p[1] for p in curve]))
    return {
        "curve_nll_test": float(x),
        "curve_nll_oracle": float(y),
        "mle_curve_nll_oracle": at,
        "below_mle_curve_by": at - y,
        "dominated_by_mle_at": dominated,
    }


# The rounds of the trajectory table (the authors log every 5th).
TRAJECTORY_ROUNDS = (0, 5, 10, 15, 20)


def _run_summaries(output, method, seeds):
    """A row's means over seeds of what its runs' metrics.csv recorded:
    the discriminator probe at the end of D pretraining and at the last
    round, the NLL-oracle and entropy at `TRAJECTORY_ROUNDS`, the entropy
    at the end of MLE pretraining."""
    summary = {}
    probes = {"pretrained": [], "final": []}
    rounds = {k: [] for k in TRAJECTORY_ROUNDS}
    entropy = {k: [] for k in TRAJECTORY_ROUNDS}
    ends = {
        f"{key}_{name}": []
        for key in ("nll_oracle", "entropy")
        for name in ("pretrained", "last")
    }
    for seed in seeds:
        rows = run_metrics(output, method, seed)
        if not rows:
            continue
        for name, values in progress(rows).items():
            for key, value in zip(("nll_oracle", "entropy"), values):
                if value is not None:
                    ends[f"{key}_{name}"].append(value)
        for name, phase in (
            ("pretrained", "discriminator"),
            ("final", "adversarial"),
        ):
            found = probe_at(rows, phase)
            if found:
                probes[name].append(found)
        for k, (nll, ent) in trajectory(rows).items():
            if k in rounds:
                rounds[k].append(nll)
                if ent is not None:
                    entropy[k].append(ent)
    for name, found in probes.items():
        for key in schedule_lib.PROBE_KEYS:
            summary[f"{key}_{name}"] = common.mean_sd([f[key] for f in found])[
                0
            ]
    for key, values in ends.items():
        summary[key] = common.mean_sd(values)[0]
    summary["trajectory"] = {
        str(k): common.mean_sd(v)[0] for k, v in rounds.items()
    }
    summary["entropy"] = {
        str(k): common.mean_sd(v)[0] for k, v in entropy.items()
    }
    return summary


def write_tables(table, output):
    """table1.json, table1.csv and table1.md of `build_table`'s table."""
    columns = [
        "method",
        "seeds",
        "complete",
        "nll_oracle",
        "nll_oracle_sd",
        "nll_test",
        "nll_test_sd",
        "paper",
        "seed_welch_t_vs_seqgan",
        "seed_welch_p_vs_seqgan",
        "seed_welch_t_vs_mle",
        "seed_welch_p_vs_mle",
        "seed_welch_t_vs_parent",
        "seed_welch_p_vs_parent",
        "mle_curve_nll_oracle",
        "below_mle_curve_by",
        "dominated_by_mle_at",
        "d_heldout_accuracy_pretrained",
        "d_heldout_accuracy_final",
    ]
    lines = _result_lines(table) + (
        _curve_lines(table["rows"])
        + _progress_lines(table["rows"])
        + _probe_lines(table["rows"])
        + _trajectory_lines(table["rows"])
    )
    output = pathlib.Path(output)
    common.write_outputs(
        table,
        table["rows"],
        columns,
        lines,
        [output / name for name in TABLE_FILES],
    )


def _result_lines(table):
    """The main table, in two: each method's NLL-oracle and NLL-test (mean
    ± sd over seeds), the paper's value and its seeds; then the seed-level
    tests against SeqGAN, MLE and its parent row (when the table has
    one), a line while no row has one. Rows without a finished seed are
    named on a line instead."""
    f = common.format_value
    rows = [row for row in table["rows"] if row["seeds"]]
    values = [
        [
            row["method"],
            f"{f(row['nll_oracle'])} ± {f(row['nll_oracle_sd'])}",
            f"{f(row['nll_test'])} ± {f(row['nll_test_sd'])}",
            f(row["paper"]),
            common.seeds_cell(row, table["seeds"]),
        ]
        for row in rows
    ]
    header = [
        "method",
        "NLL-oracle (mean ± sd)",
        "NLL-test (mean ± sd)",
        "paper",
        "seeds",
    ]
    lines = common.markdown_table(header, values)
    lines += common.pending_lines(table["rows"])
    parent = _parent_column(table["rows"])
    tests = []
    for row in rows:
        cells = [
            row["method"],
            f(row.get("seed_welch_p_vs_seqgan")),
            f(row.get("seed_welch_p_vs_mle")),
        ]
        if parent:
            name = methods_lib.get(row["method"]).parent
            cells.append(
                f"{f(row.get('seed_welch_p_vs_parent'))} ({name})"
                if name
                else "-"
            )
        tests.append(cells)
    header = [
        "method",
        "p vs SeqGAN (Welch over seeds)",
        "p vs MLE (Welch over seeds)",
    ]
    if parent:
        header.append("p vs its parent row (Welch over seeds)")
    test = (
        "p: Welch's t-test over seeds (unpaired) of the seeds' NLL-oracle "
        "(one value per seed); - with fewer than 2 seeds on either side"
    )
    tested = [
        row.get(common.P_KEY.format(name=name))
        for row in rows
        for name in ("seqgan", "mle", "parent")
    ]
    if all(p is None for p in tested):
        return lines + ["", f"{test}: no row has a p-value yet."]
    return lines + ["", f"{test}:", "", *common.markdown_table(header, tests)]


def _curve_lines(rows):
    """Each method's point at temperature 1 against the MLE generator's
    temperature curve (empty when no row has it)."""
    placed = [r for r in rows if r.get("curve_nll_test") is not None]
    if not placed:
        return []
    f = common.format_value
    lines = [
        "",
        "Against the MLE generator's temperature curve (NLL-oracle of the "
        "curve at the method's NLL-test; below > 0: better quality than "
        "MLE at the same diversity; outside: the NLL-test lies beyond the "
        "curve's range of temperatures; dominated: the MLE generator is "
        "better on both axes at that temperature):",
        "",
        "| method | NLL-test (T = 1) | NLL-oracle (T = 1) | MLE curve there "
        "| below by | dominated by MLE at T |",
        "|---|---|---|---|---|---|",
    ]
    for row in placed:
        there = row.get("mle_curve_nll_oracle")
        lines.append(
            f"| {row['method']} | {f(row['curve_nll_test'])} | "
            f"{f(row['curve_nll_oracle'])} | "
            f"{'outside' if there is None else f(there)} | "
            f"{f(row['below_mle_curve_by'])} | "
            f"{f(row.get('dominated_by_mle_at'))} |"
        )
    return lines


def _progress_lines(rows):
    """NLL-oracle and entropy at the end of MLE pretraining and after the
    last adversarial round (`training.eval_samples` samples; empty when no
    row has both)."""
    shown = [
        r
        for r in rows
        if r.get("nll_oracle_pretrained") is not None
        and r.get("nll_oracle_last") is not None
    ]
    if not shown:
        return []
    f = common.format_value
    lines = [
        "",
        "NLL-oracle during training (`training.eval_samples` samples, mean "
        "over seeds; entropy per token in brackets):",
        "",
        "| method | after MLE pretraining | after the last round | change |",
        "|---|---|---|---|",
    ]
    for row in shown:
        start, end = row["nll_oracle_pretrained"], row["nll_oracle_last"]
        before = f"{f(start)} ({f(row['entropy_pretrained'], 2)})"
        after = f"{f(end)} ({f(row['entropy_last'], 2)})"
        lines.append(
            f"| {row['method']} | {before} | {after} | {f(end - start)} |"
        )
    return lines


# The probe's tables: what the discriminator says of real and generated
# sequences, then whether its verdict follows their quality.
PROBE_TABLES = (
    (
        ("d_real_train", "P(real) train"),
        ("d_real_fresh", "P(real) fresh real"),
        ("d_fake_fresh", "P(real) fresh generated"),
        ("d_heldout_accuracy", "held-out accuracy"),
    ),
    (
        ("d_quality_spearman", "Spearman with quality"),
        ("d_optimal_spearman", "logit vs optimal, Spearman"),
        ("d_optimal_pearson", "logit vs optimal, Pearson"),
    ),
)


def _probe_lines(rows):
    """The discriminator's tables (`PROBE_TABLES`): the probe at the end
    of D pretraining and after the last round (empty when no run
    probed)."""
    # Rows whose discriminator was pretrained (PG-BLEU's is never
    # trained: its probe says nothing).
    probed = [
        r for r in rows if r.get("d_heldout_accuracy_pretrained") is not None
    ]
    if not probed:
        return []
    f = common.format_value
    lines = [
        "",
        "What the discriminator knows (means over seeds; P(real) of the "
        "real sequences it trained on / of fresh oracle sequences / of "
        "fresh generated sequences; held-out accuracy, fresh real against "
        "fresh generated; Spearman correlation of P(real) with the "
        "oracle's log-likelihood of generated sequences; Spearman and "
        "Pearson correlation of its logit with the optimal discriminator's, "
        "log p_oracle - log p_G), after D pretraining → after the last "
        "round:",
    ]
    for group in PROBE_TABLES:
        cells = [
            [row["method"]]
            + [
                f"{f(row.get(f'{key}_pretrained'))} → "
                f"{f(row.get(f'{key}_final'))}"
                for key, _ in group
            ]
            for row in probed
        ]
        header = ["method", *(title for _, title in group)]
        lines += ["", *common.markdown_table(header, cells)]
    return lines


def _trajectory_lines(rows):
    """NLL-oracle (9,984 samples, as the authors log it) after adversarial
    rounds 0, 5, ..., beside the authors' log (empty without rounds)."""
    shown = [
        r
        for r in rows
        if any(v is not None for v in r.get("trajectory", {}).values())
    ]
    if not shown:
        return []
    f = common.format_value
    header = " | ".join(f"round {k}" for k in TRAJECTORY_ROUNDS)
    lines = [
        "",
        "NLL-oracle after adversarial round k (`training.eval_samples` "
        "samples each: 9,984 in the authors schedule, as their log; mean over "
        "seeds; generator entropy per token in brackets):",
        "",
        f"| method | {header} |",
        "|---" * (len(TRAJECTORY_ROUNDS) + 1) + "|",
    ]
    for row in shown:
        cells = []
        for k in TRAJECTORY_ROUNDS:
            nll = row["trajectory"].get(str(k))
            ent = row["entropy"].get(str(k))
            cells.append(
                f"{f(nll)} ({f(ent, 2)})" if ent is not None else f(nll)
            )
        lines.append(f"| {row['method']} | " + " | ".join(cells) + " |")
    authors = [
        f(paper.AUTHORS_ADVERSARIAL_LOG.get(k)) for k in TRAJECTORY_ROUNDS
    ]
    lines.append("| the authors' log | " + " | ".join(authors) + " |")
    return lines
