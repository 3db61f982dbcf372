"""The text reproductions' tables: one row per generator (the real
sequences, MLE, each method and MLE at its Self-BLEU) with means and
standard deviations over seeds of each BLEU and Self-BLEU order and of
NLL-test, the published values and Welch's test over seeds against
SeqGAN and against the matched MLE generator (`build_table`), written as
Markdown, CSV and JSON (`write_tables`), with the rows measured at the
published protocol in tables of their own. The Markdown is in narrow
tables: the order the methods are matched on first, then the tests, then
the other orders; rows no seed has finished are named on a line.
"""

import pathlib

from seqgan_tf.reproduce import common
from seqgan_tf.reproduce.table2_protocol import PUBLISHED_FILE
from seqgan_tf.reproduce.table2_protocol import load_result
from seqgan_tf.reproduce.table2_schedules import get_schedule

TABLE_FILES = ("table2.md", "table2.csv", "table2.json")


def published_from_paper(rows, schedule):
    """Rows built when a row held the paper's BLEU-2 as `paper` (the first
    table2_fast) get the schedule's `published_KEY` values instead (the
    same numbers)."""
    for row in rows:
        row.pop("paper", None)
        published = schedule.published.get(row["method"], {})
        for key in _columns(schedule):
            row.setdefault(f"published_{key}", published.get(key))


def build_table(results, real, seeds, output, schedule):
    """The schedule's rows (`TextSchedule.rows`): mean and sd over seeds of
    each BLEU and Self-BLEU order and of NLL-test, the matched temperature,
    the published values, the seed-level test (`common.seed_welch` on the
    seeds' BLEU of `match_order`) of SeqGAN against the row and of each
    method against its matched MLE generator, the runs' wall time. A row
    with a missing run is marked `complete: false`; the real sequences are
    one measurement, so no test has them."""
    schedule = get_schedule(schedule)
    keys = _columns(schedule)
    matched_of = {schedule.matched(m): m for m in schedule.methods}
    rows, per_seed = [], {}
    for method in schedule.rows:
        if method == "real":
            found, row_seeds = [real], [None]
        else:
            found = [results.get((method, s)) for s in seeds]
            row_seeds = list(seeds)
        present, row = common.table_row(method, None, row_seeds, found)
        del row["paper"]
        for key in (*keys, "nll_test", "temperature"):
            row[key], row[f"{key}_sd"] = common.mean_sd(
                [r.get(key) for r in present]
            )
        per_seed[method] = [r.get(tested_key(schedule)) for r in present]
        published = schedule.published.get(method, {})
        for key in keys:
            row[f"published_{key}"] = published.get(key)
        row["train_seconds"] = [
            r["train_seconds"] for r in present if "train_seconds" in r
        ]
        if method in matched_of:
            row["matched_to"] = matched_of[method]
        if schedule.published_samples and (
            method == "real" or method in schedule.methods
        ):
            row["as_published"] = _as_published(output, method, seeds, keys)
        rows.append(row)
    common.seed_statistics(
        rows, references(schedule), tested_key(schedule), per_seed
    )
    return {
        "rows": rows,
        "seeds": list(seeds),
        "statistics": common.SEED_TEST.format(key=tested_key(schedule)),
    }


def tested_key(schedule):
    """The key whose per-seed values the seed-level tests compare."""
    return f"bleu_{schedule.match_order}"


def references(schedule):
    """`common.seed_statistics`'s references of a schedule's rows: SeqGAN,
    and a method's MLE generator at its Self-BLEU (`matched`)."""

    def references(method):
        matched = method in schedule.methods and method != "mle"
        return [
            ("seqgan", "seqgan"),
            ("matched", schedule.matched(method) if matched else None),
        ]

    return references


def _as_published(output, method, seeds, keys):
    """Mean and sd over seeds of a row's `PUBLISHED_FILE` results."""
    if method == "real":
        paths = [pathlib.Path(output) / "real" / PUBLISHED_FILE]
    else:
        paths = [
            common.run_dir(output, method, s) / PUBLISHED_FILE for s in seeds
        ]
    found = [load_result(p) for p in paths if p.exists()]
    measured = {"seeds": len(found)}
    if found:
        measured["samples"] = found[0]["samples"]
    for key in keys:
        measured[key], measured[f"{key}_sd"] = common.mean_sd(
            [r[key] for r in found]
        )
    return measured


def _columns(schedule):
    """The metric keys of a schedule: BLEU then Self-BLEU, by order."""
    keys = [f"bleu_{n}" for n in schedule.bleu_orders]
    keys += [f"self_bleu_{n}" for n in schedule.self_bleu_orders]
    return keys


def _label(key):
    return key.replace("self_bleu_", "Self-BLEU-").replace("bleu_", "BLEU-")


def write_tables(table, output, schedule, files=TABLE_FILES):
    """The JSON, CSV and Markdown files (`files`: md, csv, json) of
    `build_table`'s table."""
    schedule = get_schedule(schedule)
    keys = _columns(schedule)
    bleu_keys = [k for k in keys if not k.startswith("self")]
    self_keys = [k for k in keys if k.startswith("self")]
    published = [
        group
        for group in (bleu_keys, self_keys)
        if any(
            key in values
            for values in schedule.published.values()
            for key in group
        )
        and not schedule.published_samples
    ]
    columns = ["method", "seeds", "complete"]
    for key in (*keys, "nll_test", "temperature"):
        columns += [key, f"{key}_sd"]
    columns += [f"published_{k}" for k in keys]
    columns += [
        common.T_KEY.format(name="seqgan"),
        common.P_KEY.format(name="seqgan"),
        common.T_KEY.format(name="matched"),
        common.P_KEY.format(name="matched"),
    ]
    lines = _result_lines(table, schedule, keys, published)
    if schedule.published_samples:
        lines += _published_lines(table, schedule, keys)
    output = pathlib.Path(output)
    common.write_outputs(
        table,
        table["rows"],
        columns,
        lines,
        [output / name for name in files],
    )


def _result_lines(table, schedule, keys, published):
    """The main table, in narrow tables (`common.markdown_table`): the
    key one (BLEU and Self-BLEU of `match_order`, NLL-test, temperature,
    seeds), then the published values (`published`: groups of keys) and
    the seed-level tests, then the other orders. Rows without a finished
    seed are named on a line instead."""
    f = common.format_value
    order = schedule.match_order
    rows = [row for row in table["rows"] if row["seeds"]]
    first = [f"bleu_{order}", f"self_bleu_{order}"]
    key_cells = []
    for row in rows:
        temperature = row["temperature"]
        if temperature is None and row["method"] in schedule.methods:
            temperature = 1.0
        key_cells.append(
            [
                row["method"],
                *(f"{f(row[k])} ± {f(row[f'{k}_sd'])}" for k in first),
                f"{f(row['nll_test'])} ± {f(row['nll_test_sd'])}",
                f(temperature, 2),
                "-"
                if row["method"] == "real"
                else common.seeds_cell(row, table["seeds"]),
            ]
        )
    header = [
        "generator",
        *(f"{_label(k)} (mean ± sd)" for k in first),
        "NLL-test (mean ± sd)",
        "temperature",
        "seeds",
    ]
    lines = common.markdown_table(header, key_cells)
    lines += common.pending_lines(table["rows"])
    header = ["generator"]
    header += [
        f"{schedule.published_label} "
        + "/".join(
            _label(k) if i == 0 else k.rsplit("_", 1)[1]
            for i, k in enumerate(group)
        )
        for group in published
    ]
    header += [
        f"p vs SeqGAN (Welch over seeds, BLEU-{order})",
        f"p vs MLE at its Self-BLEU-{order} (Welch over seeds)",
    ]
    test_cells = [
        [
            row["method"],
            *(
                " / ".join(f(row[f"published_{k}"]) for k in group)
                for group in published
            ),
            f(row.get(common.P_KEY.format(name="seqgan"))),
            f(row.get(common.P_KEY.format(name="matched"))),
        ]
        for row in rows
    ]
    lines += [
        "",
        f"p: Welch's t-test over seeds (unpaired) of the seeds' BLEU-{order} "
        "(one value per seed: the mean over its samples); - with fewer than "
        "2 seeds on either side (the real sequences are one measurement):",
        "",
        *common.markdown_table(header, test_cells),
    ]
    others = [k for k in keys if k not in first]
    if others:
        lines += ["", "The other orders (mean ± sd over seeds):"]
        lines += _metric_tables(
            rows,
            others,
            lambda row, k: f"{f(row[k])} ± {f(row[f'{k}_sd'])}",
            OTHER_ORDERS_COLUMNS,
        )
    return lines


# How many metric columns a table of the other orders holds beside the
# generator's: BLEU-2, -3, -5 and Self-BLEU-2, -3 of COCO fit one table of
# "mean ± sd" cells; those at the published protocol, which add the
# published value, take two.
OTHER_ORDERS_COLUMNS = 5
PUBLISHED_COLUMNS = 3


def _metric_tables(rows, keys, cell, columns):
    """Markdown tables of `keys` (`cell(row, key)` each), at most
    `columns` of them a table, each led by the generator."""
    lines = []
    for start in range(0, len(keys), columns):
        group = keys[start : start + columns]
        header = ["generator", *(_label(k) for k in group)]
        cells = [
            [row["method"], *(cell(row, k) for k in group)] for row in rows
        ]
        lines += ["", *common.markdown_table(header, cells)]
    return lines


def _published_lines(table, schedule, keys):
    """The Markdown tables of each row measured as the published values
    were (`published_samples` samples at temperature 1), ours beside
    theirs: BLEU and Self-BLEU of `match_order` with the seeds, then the
    other orders."""
    f = common.format_value
    label = schedule.published_label
    rows = [r for r in table["rows"] if r["seeds"] and r.get("as_published")]

    def cell(row, key):
        measured = row["as_published"]
        ours = f"{f(measured[key])} ± {f(measured[f'{key}_sd'])}"
        return f"{ours} ({f(row[f'published_{key}'])})"

    order = schedule.match_order
    first = [f"bleu_{order}", f"self_bleu_{order}"]
    header = ["generator", *(_label(k) for k in first), "seeds"]
    cells = [
        [
            row["method"],
            *(cell(row, k) for k in first),
            str(row["as_published"]["seeds"]),
        ]
        for row in rows
    ]
    lines = [
        "",
        f"At {label}'s protocol: {schedule.published_samples:,} samples at "
        f"temperature 1; each cell is ours (mean ± sd over seeds) and "
        f"{label}'s in brackets.",
        "",
        *common.markdown_table(header, cells),
    ]
    bleu = [k for k in keys if k not in first and not k.startswith("self")]
    self_bleu = [k for k in keys if k not in first and k.startswith("self")]
    for group in (bleu, self_bleu):
        lines += _metric_tables(rows, group, cell, PUBLISHED_COLUMNS)
    return lines
