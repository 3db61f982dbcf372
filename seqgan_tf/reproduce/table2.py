"""Reproduce the paper's Table 2: MLE against SeqGAN on the Chinese
quatrains, BLEU-2 beside Self-BLEU-2 and NLL-test, on several seeds.

BLEU-2 alone rewards a generator that repeats common bigrams, so a colder
generator scores higher. Every generator is therefore also measured at
several sampling temperatures, and the MLE generator is evaluated once
more at the temperature where its Self-BLEU-2 equals SeqGAN's (same
seed): the row `mle_matched` compares quality at equal diversity.

`reproduce_table2(schedule, seeds, output)` trains each (method, seed) into
its own resumable run directory (`OUTPUT/METHOD/seed_S`), evaluates it once
(`protocol.json` and the per-sequence BLEU-2 in `bleu_2.npy`), evaluates
the matched MLE generator (`OUTPUT/mle_matched/seed_S`) and the real
training poems (`OUTPUT/real`), then writes `table2.md`, `table2.csv`,
`table2.json` and `bleu_diversity.png`. Running it again resumes
unfinished runs and skips finished ones.
"""

import dataclasses
import json
import pathlib
import time

import numpy as np
from matplotlib.figure import Figure

from seqgan_tf import bleu
from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import metrics
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf.reproduce import common
from seqgan_tf.reproduce import stages

# BLEU-2 of the paper's Table 2 (the real data: held-out poems).
PAPER_TABLE2 = {"mle": 0.6670, "seqgan": 0.7389, "real": 0.746}
METHODS = ("mle", "seqgan")
ROWS = ("real", "mle", "mle_matched", "seqgan")
PROTOCOL_FILE = "protocol.json"
SEQUENCE_BLEU_FILE = "bleu_2.npy"
TABLE_FILES = ("table2.md", "table2.csv", "table2.json")
PLOT_FILE = "bleu_diversity.png"
TITLE = "Table 2: Chinese quatrains"
# The report's columns: (title, key of a table row).
REPORT_COLUMNS = (
    ("generator", "method"),
    ("BLEU-2", "bleu_2"),
    ("sd", "bleu_2_sd"),
    ("Self-BLEU-2", "self_bleu_2"),
    ("sd", "self_bleu_2_sd"),
    ("NLL-test", "nll_test"),
    ("temperature", "temperature"),
    ("paper BLEU-2", "paper"),
    ("p vs SeqGAN", "p_vs_seqgan"),
)
REAL_STREAM = 1_000_037


@dataclasses.dataclass(frozen=True)
class TextSchedule:
    """How long each method trains on the poems and how it is evaluated.

    Attributes:
        name: "tiny", "fast" or "paper".
        base: the preset whose models and training settings are used.
        dataset: the poems ("chinese_quatrains" or its "/small" config).
        mle_epochs: MLE epochs (SeqGAN's pretraining; all of MLE's).
        discriminator_rounds, adversarial_rounds: SeqGAN's.
        eval_samples: generated poems scored per generator (BLEU-2 against
            every held-out poem; Self-BLEU-2 among themselves).
        temperatures: the sampling temperatures of each generator's curve
            (the matched temperature is interpolated in MLE's curve).
        overrides: more `section.field=value` settings of every run.
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
    ),
}


def get_schedule(schedule):
    """`SCHEDULES[schedule]` (a `TextSchedule` passes through)."""
    return SCHEDULES[schedule] if isinstance(schedule, str) else schedule


def method_config(schedule, method, seed):
    """The `ExperimentConfig` of one (method, seed): the schedule's preset
    trained on the poems; `mle` is its MLE pretraining alone."""
    base = config_lib.for_dataset(
        config_lib.get_preset(schedule.base), schedule.dataset
    )
    config = config_lib.with_overrides(
        base,
        [
            f"seed={seed}",
            f"training.generator_epochs={schedule.mle_epochs}",
            f"training.discriminator_rounds={schedule.discriminator_rounds}",
            f"training.adversarial_rounds={schedule.adversarial_rounds}",
            *schedule.overrides,
        ],
    )
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}.")
    return config_lib.for_method(config, method).validate()


def score_poems(hypotheses, data):
    """(per-poem BLEU-2 against the held-out poems, Self-BLEU-2) of token
    lists."""
    per_sequence = np.asarray(
        data.bleu_scorer.scores(hypotheses, max_order=2), np.float64
    )
    return per_sequence, bleu.self_bleu(hypotheses, max_order=2)


def evaluate_generator(generator, data, schedule, seed):
    """The protocol of one generator: BLEU-2 (per poem) and Self-BLEU-2 of
    `eval_samples` poems, NLL-test of the held-out poems, and all three at
    each temperature of the curve. Returns (result, per-poem BLEU-2)."""
    seed = (seed, common.EVAL_STREAM)
    samples = sampler.sample_many(generator, schedule.eval_samples, seed=seed)
    per_sequence, self_bleu = score_poems(data.tokens(samples), data)
    curve = [
        point(generator, data, schedule, seed, temperature)[0]
        for temperature in schedule.temperatures
    ]
    result = {
        "bleu_2": float(per_sequence.mean()),
        "self_bleu_2": self_bleu,
        "nll_test": metrics.nll(generator, data.test_ids),
        "samples": int(schedule.eval_samples),
        "curve": curve,
    }
    return result, per_sequence


def point(generator, data, schedule, seed, temperature):
    """BLEU-2, Self-BLEU-2 and NLL-test of `generator` at `temperature`;
    returns (point, per-poem BLEU-2)."""
    samples = sampler.sample_many(
        generator, schedule.eval_samples, seed=seed, temperature=temperature
    )
    per_sequence, self_bleu = score_poems(data.tokens(samples), data)
    result = {
        "temperature": float(temperature),
        "bleu_2": float(per_sequence.mean()),
        "self_bleu_2": self_bleu,
        "nll_test": metrics.nll(
            generator, data.test_ids, temperature=temperature
        ),
    }
    return result, per_sequence


def matched_temperature(curve, target):
    """The temperature at which a generator's Self-BLEU-2 equals `target`,
    linearly interpolated between the curve's neighbouring temperatures
    (Self-BLEU falls as the temperature rises). Returns (temperature,
    inside): outside the curve's range the nearest end is returned and
    `inside` is False."""
    points = sorted((p["temperature"], p["self_bleu_2"]) for p in curve)
    for (t0, s0), (t1, s1) in zip(points, points[1:]):
        if min(s0, s1) <= target <= max(s0, s1):
            if s0 == s1:
                return t0, True
            return t0 + (target - s0) * (t1 - t0) / (s1 - s0), True
    # Outside: the end whose Self-BLEU is nearest the target.
    nearest = min(points, key=lambda p: abs(p[1] - target))
    return nearest[0], False


def _load(path):
    return json.loads(pathlib.Path(path).read_text())


def _text_run(config, run_dir, data_dir, verbose):
    """Trains (or resumes) a run; returns (RestoredRun, TextData, wall
    seconds of training)."""
    summary = experiment.train(
        config, run_dir, data_dir=data_dir, verbose=verbose, log=None
    )
    run = experiment.restore_run(run_dir)
    data = experiment.load_text(config, run.vocabulary, data_dir, log=None)
    return run, data, summary["wall_seconds"]


def run_method(schedule, method, seed, output, data_dir=None, verbose=0):
    """Trains (or resumes) and evaluates one (method, seed); returns its
    protocol result, read back when it was already evaluated."""
    schedule = get_schedule(schedule)
    run_dir = common.run_dir(output, method, seed)
    protocol_path = run_dir / PROTOCOL_FILE
    if protocol_path.exists():
        return _load(protocol_path)
    started = time.perf_counter()
    config = method_config(schedule, method, seed)
    seqgan = method_config(schedule, "seqgan", seed)
    stages.start(
        config,
        run_dir,
        {s: stages.stage_config(seqgan, s) for s in stages.STAGES},
        output,
        log=None,
        verbose=verbose,
        data_dir=data_dir,
    )
    run, data, train_seconds = _text_run(config, run_dir, data_dir, verbose)
    result, per_sequence = evaluate_generator(
        run.gan.generator, data, schedule, seed
    )
    result.update(
        method=method,
        seed=seed,
        train_seconds=train_seconds,
        seconds=time.perf_counter() - started,
    )
    np.save(run_dir / SEQUENCE_BLEU_FILE, per_sequence.astype(np.float32))
    runs.write_json(protocol_path, result)
    return result


def run_matched(schedule, seed, output, target, data_dir=None):
    """The MLE generator of `seed` at the temperature where its Self-BLEU-2
    equals `target` (SeqGAN's): written to `OUTPUT/mle_matched/seed_S`."""
    schedule = get_schedule(schedule)
    out_dir = common.run_dir(output, "mle_matched", seed)
    protocol_path = out_dir / PROTOCOL_FILE
    if protocol_path.exists():
        return _load(protocol_path)
    mle = _load(common.run_dir(output, "mle", seed) / PROTOCOL_FILE)
    temperature, inside = matched_temperature(mle["curve"], target)
    run = experiment.restore_run(common.run_dir(output, "mle", seed))
    data = experiment.load_text(run.config, run.vocabulary, data_dir, log=None)
    result, per_sequence = point(
        run.gan.generator,
        data,
        schedule,
        (seed, common.EVAL_STREAM),
        temperature,
    )
    result.update(
        method="mle_matched",
        seed=seed,
        target_self_bleu_2=target,
        inside_curve=inside,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / SEQUENCE_BLEU_FILE, per_sequence.astype(np.float32))
    runs.write_json(protocol_path, result)
    return result


def run_real(schedule, output, data_dir=None):
    """BLEU-2 and Self-BLEU-2 of `eval_samples` real training poems (a
    fixed random choice), the ceiling a generator can reach: written to
    `OUTPUT/real`."""
    schedule = get_schedule(schedule)
    out_dir = pathlib.Path(output) / "real"
    protocol_path = out_dir / PROTOCOL_FILE
    if protocol_path.exists():
        return _load(protocol_path)
    config = method_config(schedule, "mle", 0)
    data = experiment.load_text(config, None, data_dir, log=None)
    rng = np.random.default_rng(REAL_STREAM)
    count = min(schedule.eval_samples, len(data.train_ids))
    chosen = rng.choice(len(data.train_ids), count, replace=False)
    per_sequence, self_bleu = score_poems(
        data.tokens(data.train_ids[np.sort(chosen)]), data
    )
    result = {
        "method": "real",
        "bleu_2": float(per_sequence.mean()),
        "self_bleu_2": self_bleu,
        "samples": int(count),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / SEQUENCE_BLEU_FILE, per_sequence.astype(np.float32))
    runs.write_json(protocol_path, result)
    return result


def reproduce_table2(
    schedule="fast",
    seeds=(0, 1, 2),
    output="runs/table2",
    data_dir=None,
    verbose=0,
    log=print,
):
    """Runs MLE and SeqGAN on every seed (resuming), the matched MLE
    generators and the real poems, then writes the tables and the plot
    into `output`; returns the table (`table2.json`)."""
    schedule = get_schedule(schedule)
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    results = {}
    for method in METHODS:
        for seed in seeds:
            log(f"{method}, seed {seed}:")
            results[method, seed] = run_method(
                schedule, method, seed, output, data_dir, verbose
            )
    for seed in seeds:
        log(f"mle at SeqGAN's Self-BLEU-2, seed {seed}:")
        target = results["seqgan", seed]["self_bleu_2"]
        results["mle_matched", seed] = run_matched(
            schedule, seed, output, target, data_dir
        )
    log("real poems:")
    real = run_real(schedule, output, data_dir)
    table = build_table(results, real, seeds, output)
    table["schedule"] = dataclasses.asdict(schedule)
    write_tables(table, output)
    plot_curves(results, real, output / PLOT_FILE)
    return table


def build_table(results, real, seeds, output):
    """Rows real, mle, mle_matched and seqgan: mean and sd over seeds of
    BLEU-2, Self-BLEU-2 and NLL-test, the matched temperature, the
    paper's BLEU-2, Welch's t-test of SeqGAN against the row on the pooled
    per-poem BLEU-2, the runs' wall time. A row with a missing run is
    marked `complete: false`."""
    reference = common.pooled(output, "seqgan", seeds, SEQUENCE_BLEU_FILE)
    rows = []
    for method in ROWS:
        if method == "real":
            found, row_seeds = [real], [None]
        else:
            found = [results.get((method, s)) for s in seeds]
            row_seeds = list(seeds)
        present, row = common.table_row(
            method, PAPER_TABLE2.get(method), row_seeds, found
        )
        for key in ("bleu_2", "self_bleu_2", "nll_test", "temperature"):
            row[key], row[f"{key}_sd"] = common.mean_sd(
                [r.get(key) for r in present]
            )
        row["train_seconds"] = [
            r["train_seconds"] for r in present if "train_seconds" in r
        ]
        values = None
        if method == "real" and real is not None:
            path = pathlib.Path(output) / "real" / SEQUENCE_BLEU_FILE
            values = np.load(path).astype(np.float64)
        elif method not in ("real", "seqgan"):
            values = common.pooled(output, method, seeds, SEQUENCE_BLEU_FILE)
        row["t_vs_seqgan"], row["p_vs_seqgan"] = common.versus(
            reference, values
        )
        rows.append(row)
    return {"rows": rows, "seeds": list(seeds)}


def write_tables(table, output):
    """table2.json, table2.csv and table2.md of `build_table`'s table."""
    columns = [
        "method",
        "seeds",
        "complete",
        "bleu_2",
        "bleu_2_sd",
        "self_bleu_2",
        "self_bleu_2_sd",
        "nll_test",
        "nll_test_sd",
        "temperature",
        "paper",
        "t_vs_seqgan",
        "p_vs_seqgan",
    ]
    f = common.format_value
    lines = [
        "| generator | BLEU-2 (mean ± sd) | Self-BLEU-2 (mean ± sd) "
        "| NLL-test (mean ± sd) | temperature | paper BLEU-2 "
        "| p (Welch, vs SeqGAN) | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in table["rows"]:
        seeds = (
            "-"
            if row["method"] == "real"
            else common.seeds_cell(row, table["seeds"])
        )
        temperature = row["temperature"]
        if temperature is None and row["method"] in ("mle", "seqgan"):
            temperature = 1.0
        lines.append(
            f"| {row['method']} | {f(row['bleu_2'])} ± {f(row['bleu_2_sd'])} "
            f"| {f(row['self_bleu_2'])} ± {f(row['self_bleu_2_sd'])} "
            f"| {f(row['nll_test'])} ± {f(row['nll_test_sd'])} "
            f"| {f(temperature, 2)} | {f(row['paper'])} "
            f"| {f(row['p_vs_seqgan'])} | {seeds} |"
        )
    output = pathlib.Path(output)
    common.write_outputs(
        table,
        table["rows"],
        columns,
        lines,
        [output / name for name in TABLE_FILES],
    )


def plot_curves(results, real, path):
    """BLEU-2 (quality, higher is better) against Self-BLEU-2 (lower is
    more diverse) over the temperatures, one curve per method (its seeds'
    mean); the matched MLE generators and the real poems as points."""
    figure = Figure(figsize=(7, 5), dpi=100)
    axes = figure.add_subplot()
    for method in METHODS:
        by_temperature = {}
        for (name, _), result in results.items():
            if name != method:
                continue
            for p in result["curve"]:
                by_temperature.setdefault(p["temperature"], []).append(
                    (p["self_bleu_2"], p["bleu_2"])
                )
        if not by_temperature:
            continue
        points = [
            np.mean(by_temperature[t], axis=0) for t in sorted(by_temperature)
        ]
        x, y = zip(*points)
        axes.plot(x, y, marker="o", label=f"{method} (temperatures)")
    matched = [r for (name, _), r in results.items() if name == "mle_matched"]
    if matched:
        axes.scatter(
            [r["self_bleu_2"] for r in matched],
            [r["bleu_2"] for r in matched],
            marker="x",
            color="black",
            label="mle at SeqGAN's Self-BLEU-2",
        )
    if real is not None:
        axes.scatter(
            [real["self_bleu_2"]],
            [real["bleu_2"]],
            marker="*",
            s=120,
            color="red",
            label="real poems",
        )
    axes.set_xlabel("Self-BLEU-2 (lower is more diverse)")
    axes.set_ylabel("BLEU-2 against held-out poems (higher is better)")
    axes.set_title("Quality vs diversity over sampling temperatures")
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(str(path), format="png")


def estimate_seconds(schedule, seeds, data_dir=None):
    """The wall time of the reproduction from one measured step of each
    kind on this machine (see `table1.estimate_seconds`)."""
    schedule = get_schedule(schedule)
    config = method_config(schedule, "seqgan", seeds[0])
    data = experiment.load_text(config, None, data_dir, log=None)
    return common.estimate_seconds(
        [method_config(schedule, m, seeds[0]) for m in ("seqgan", "mle")],
        data.train_ids[: config.training.batch_size],
        len(data.train_ids),
        vocabulary_size=len(data.vocabulary),
        evaluation_samples=schedule.eval_samples
        * (1 + len(schedule.temperatures)),
    ) * len(seeds)
