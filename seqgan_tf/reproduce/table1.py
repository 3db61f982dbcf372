"""Reproduce the paper's Table 1: every method on several seeds, one
evaluation protocol, statistics, tables and the quality-diversity plot.

`reproduce_table1(schedule, seeds, output)` trains each (method, seed) into
its own resumable run directory (`OUTPUT/METHOD/seed_S`), evaluates it once
(`protocol.json` and the per-sequence `nll_oracle.npy` in the run
directory), then writes `table1.md`, `table1.csv`, `table1.json` and
`quality_diversity.png` into `OUTPUT`. Running it again resumes unfinished
runs and skips finished ones.
"""

import dataclasses
import json
import math
import pathlib
import time

import numpy as np
from matplotlib.figure import Figure

from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import metrics
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf.reproduce import common

# NLL-oracle of the paper's Table 1.
PAPER_TABLE1 = {
    "random": 10.310,
    "mle": 9.038,
    "scheduled_sampling": 8.985,
    "pg_bleu": 8.946,
    "seqgan": 8.736,
}
PROTOCOL_FILE = "protocol.json"
SEQUENCE_NLL_FILE = "nll_oracle.npy"
TABLE_FILES = ("table1.md", "table1.csv", "table1.json")
PLOT_FILE = "quality_diversity.png"
TITLE = "Table 1: the synthetic oracle"
# The report's columns: (title, key of a table row).
REPORT_COLUMNS = (
    ("method", "method"),
    ("NLL-oracle", "nll_oracle"),
    ("sd", "nll_oracle_sd"),
    ("NLL-test", "nll_test"),
    ("sd", "nll_test_sd"),
    ("paper", "paper"),
    ("p vs SeqGAN", "p_vs_seqgan"),
)
# Seeds of the evaluation's random streams, apart from training's.
TEST_DATA_STREAM = 1_000_003


@dataclasses.dataclass(frozen=True)
class Schedule:
    """How long each method trains and how it is evaluated.

    Attributes:
        name: "tiny", "fast" or "paper".
        base: the preset every method starts from.
        mle_epochs: MLE pretraining epochs (shared by every method).
        discriminator_rounds, adversarial_rounds: SeqGAN's (and its
            ablations'); PG-BLEU makes as many policy-gradient rounds.
        ss_epochs: scheduled sampling's epochs (the rate falls by
            `1 / ss_epochs * 0.6` an epoch, to 0.4 at the end as in the
            authors' 300 epochs of 0.002).
        eval_samples: samples of the NLL-oracle of the table.
        test_samples: fresh oracle samples of NLL-test.
        curve_samples: samples per temperature of the quality-diversity
            curve.
        temperatures: the curve's temperatures.
        overrides: more `section.field=value` settings of every run.
        method_overrides: ((method, settings), ...): settings of one
            method's runs, applied last (the `paper` schedule's baselines
            train as the authors' older code trained them).
    """

    name: str
    base: str
    mle_epochs: int
    discriminator_rounds: int
    adversarial_rounds: int
    ss_epochs: int
    eval_samples: int
    test_samples: int
    curve_samples: int
    temperatures: tuple = (0.7, 0.8, 0.9, 1.0, 1.1, 1.2)
    overrides: tuple = ()
    method_overrides: tuple = ()


SCHEDULES = {
    # For tests: the tiny random oracle, seconds per run.
    "tiny": Schedule(
        "tiny",
        "tiny",
        mle_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        ss_epochs=2,
        eval_samples=256,
        test_samples=128,
        curve_samples=64,
        temperatures=(0.8, 1.0, 1.2),
    ),
    # The paper's models, data and algorithm in about two hours for every
    # method on three seeds (see the README's *Does SeqGAN beat MLE?*).
    "fast": Schedule(
        "fast",
        "quick",
        mle_epochs=10,
        discriminator_rounds=3,
        adversarial_rounds=10,
        ss_epochs=10,
        eval_samples=100_000,
        test_samples=10_000,
        curve_samples=2_000,
        overrides=(
            "training.num_negatives=1024",
            "training.eval_every=0",
            "training.eval_samples=1024",
        ),
    ),
    # The authors' schedules (a GPU or days of CPU): SeqGAN and its
    # ablations as their current code (the `paper` preset); the baselines
    # as their older code, which holds them: MLE 350 epochs, scheduled
    # sampling 300 epochs (rate -0.002 an epoch), PG-BLEU 200 MLE epochs and
    # 800 rounds, each with Adam at its default 0.001.
    "paper": Schedule(
        "paper",
        "paper",
        mle_epochs=120,
        discriminator_rounds=50,
        adversarial_rounds=200,
        ss_epochs=300,
        eval_samples=100_000,
        test_samples=10_000,
        curve_samples=10_000,
        method_overrides=(
            (
                "mle",
                (
                    "training.generator_epochs=350",
                    "generator.learning_rate=0.001",
                ),
            ),
            ("scheduled_sampling", ("generator.learning_rate=0.001",)),
            (
                "pg_bleu",
                (
                    "training.generator_epochs=200",
                    "training.adversarial_rounds=800",
                    "generator.learning_rate=0.001",
                ),
            ),
        ),
    ),
}
METHODS = (
    "random",
    "mle",
    "mle_equal_updates",
    "scheduled_sampling",
    "pg_bleu",
    "seqgan",
    "seqgan_constant_reward",
    "seqgan_frozen_discriminator",
    "seqgan_delayed_rollout",
)


def method_config(schedule, method, seed):
    """The `ExperimentConfig` of one (method, seed) of a schedule.

    Every method shares the MLE pretraining (`mle_epochs`, same data and
    initialisation per seed). After it:

    - `mle` stops; `mle_equal_updates` goes on with as many MLE steps as
      SeqGAN makes generator updates after pretraining (one per
      adversarial round), rounded up to whole epochs;
    - `scheduled_sampling` trains `ss_epochs` epochs of MLE with the rate
      falling to 0.4 (as the authors' 300 epochs of 0.002 do);
    - `pg_bleu` makes `adversarial_rounds` policy-gradient rounds rewarded
      by BLEU-3 (1 rollout, no discriminator);
    - `seqgan` and its ablations make `adversarial_rounds` rounds after
      `discriminator_rounds` of D pretraining: a constant reward, a
      discriminator that is never trained, a delayed rollout policy;
    - `random` is not trained at all.
    """
    base = config_lib.get_preset(schedule.base)
    overrides = [
        f"seed={seed}",
        f"training.generator_epochs={schedule.mle_epochs}",
        f"training.discriminator_rounds={schedule.discriminator_rounds}",
        f"training.adversarial_rounds={schedule.adversarial_rounds}",
        *schedule.overrides,
    ]
    config = config_lib.with_overrides(base, overrides)
    t = config.training
    if method == "random":
        return config_lib.with_overrides(
            config_lib.for_method(config, "mle"),
            ["training.generator_epochs=0"],
        ).validate()
    if method in ("mle", "scheduled_sampling", "pg_bleu", "seqgan"):
        config = config_lib.for_method(config, method)
    elif method == "mle_equal_updates":
        steps_per_epoch = config.data.num_real // t.batch_size
        extra = math.ceil(
            t.adversarial_rounds * t.generator_steps / steps_per_epoch
        )
        config = config_lib.with_overrides(
            config_lib.for_method(config, "mle"),
            [f"training.generator_epochs={schedule.mle_epochs + extra}"],
        )
    elif method == "seqgan_constant_reward":
        config = config_lib.with_overrides(config, ["training.reward=constant"])
    elif method == "seqgan_frozen_discriminator":
        config = config_lib.with_overrides(
            config,
            [
                "training.discriminator_rounds=0",
                "training.discriminator_steps=0",
            ],
        )
    elif method == "seqgan_delayed_rollout":
        config = config_lib.with_overrides(
            config, ["training.rollout_policy=delayed"]
        )
    else:
        raise ValueError(f"Unknown method {method!r}.")
    if method == "scheduled_sampling":
        config = config_lib.with_overrides(
            config,
            [
                f"training.generator_epochs={schedule.ss_epochs}",
                "training.scheduled_sampling_decrement="
                f"{0.6 / schedule.ss_epochs!r}",
            ],
        )
    for name, settings in schedule.method_overrides:
        if name == method:
            config = config_lib.with_overrides(config, list(settings))
    return config.validate()


def test_data(config, num_samples):
    """NLL-test's real data: fresh oracle samples from a seed the training
    data (seed `(config.seed, 0)`) never uses."""
    oracle = experiment.build_oracle(config)
    return sampler.sample_many(
        oracle, num_samples, seed=(config.seed, TEST_DATA_STREAM)
    )


def evaluate_generator(generator, oracle, config, schedule):
    """The protocol of one generator: NLL-oracle of `eval_samples` samples
    (per sequence), NLL-test of `test_samples` fresh oracle samples, and
    both at each temperature of the curve. Returns (result, per-sequence
    NLL-oracle)."""
    seed = (config.seed, common.EVAL_STREAM)
    samples = sampler.sample_many(generator, schedule.eval_samples, seed=seed)
    per_sequence = metrics.sequence_nll(oracle, samples)
    held_out = test_data(config, schedule.test_samples)
    curve = []
    for temperature in schedule.temperatures:
        drawn = sampler.sample_many(
            generator,
            schedule.curve_samples,
            seed=seed,
            temperature=temperature,
        )
        curve.append(
            {
                "temperature": temperature,
                "nll_oracle": metrics.nll(oracle, drawn),
                "nll_test": metrics.nll(
                    generator, held_out, temperature=temperature
                ),
            }
        )
    result = {
        "nll_oracle": float(per_sequence.mean()),
        "nll_oracle_samples": int(len(per_sequence)),
        "nll_test": metrics.nll(generator, held_out),
        "nll_test_samples": int(len(held_out)),
        "curve": curve,
    }
    return result, per_sequence


def run_method(schedule, method, seed, output, verbose=0, log=print):
    """Trains (or resumes) and evaluates one (method, seed); returns its
    protocol result, read back when it was already evaluated."""
    run_dir = common.run_dir(output, method, seed)
    protocol_path = run_dir / PROTOCOL_FILE
    if protocol_path.exists():
        return json.loads(protocol_path.read_text())
    config = method_config(schedule, method, seed)
    started = time.perf_counter()
    if method == "random":
        run_dir.mkdir(parents=True, exist_ok=True)
        runs.write_json(run_dir / runs.CONFIG_FILE, config.to_dict())
        oracle = experiment.build_oracle(config)
        generator = experiment.build_gan(config, oracle).generator
        train_seconds = 0.0
    else:
        summary = experiment.train(config, run_dir, verbose=verbose, log=None)
        run = experiment.restore_run(run_dir)
        oracle, generator = run.gan.oracle, run.gan.generator
        train_seconds = summary["wall_seconds"]
    log(f"  evaluating {method} seed {seed}...")
    result, per_sequence = evaluate_generator(
        generator, oracle, config, schedule
    )
    result.update(
        method=method,
        seed=seed,
        train_seconds=train_seconds,
        seconds=time.perf_counter() - started,
    )
    np.save(run_dir / SEQUENCE_NLL_FILE, per_sequence.astype(np.float32))
    runs.write_json(protocol_path, result)
    return result


def reproduce_table1(
    schedule="fast",
    seeds=(0, 1, 2),
    output="runs/table1",
    verbose=0,
    methods=METHODS,
    log=print,
):
    """Runs every method on every seed (resuming), then writes the tables
    and the plot into `output`; returns the table (`table1.json`)."""
    schedule = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    results = {}
    for method in methods:
        for seed in seeds:
            log(f"{method}, seed {seed}:")
            results[method, seed] = run_method(
                schedule, method, seed, output, verbose, log
            )
    table = build_table(results, methods, seeds, output)
    table["schedule"] = dataclasses.asdict(schedule)
    write_tables(table, output)
    plot_curves(results, output / PLOT_FILE)
    return table


def build_table(results, methods, seeds, output):
    """One row per method: mean and sd over seeds of NLL-oracle and
    NLL-test, the paper's value, Welch's t-test of SeqGAN against the
    method on the pooled per-sequence NLL-oracle, the runs' wall time. A
    method with a missing run is marked `complete: false`."""
    reference = common.pooled(output, "seqgan", seeds, SEQUENCE_NLL_FILE)
    rows = []
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
        row["train_seconds"] = [r.get("train_seconds") for r in present]
        values = None
        if method != "seqgan":
            values = common.pooled(output, method, seeds, SEQUENCE_NLL_FILE)
        row["t_vs_seqgan"], row["p_vs_seqgan"] = common.versus(
            reference, values
        )
        rows.append(row)
    return {"rows": rows, "seeds": list(seeds)}


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
        "t_vs_seqgan",
        "p_vs_seqgan",
    ]
    f = common.format_value
    lines = [
        "| method | NLL-oracle (mean ± sd) | NLL-test (mean ± sd) | paper "
        "| p (Welch, vs SeqGAN) | seeds |",
        "|---|---|---|---|---|---|",
    ]
    for row in table["rows"]:
        lines.append(
            f"| {row['method']} | {f(row['nll_oracle'])} ± "
            f"{f(row['nll_oracle_sd'])} | {f(row['nll_test'])} ± "
            f"{f(row['nll_test_sd'])} | {f(row['paper'])} | "
            f"{f(row['p_vs_seqgan'])} | "
            f"{common.seeds_cell(row, table['seeds'])} |"
        )
    output = pathlib.Path(output)
    common.write_outputs(
        table,
        table["rows"],
        columns,
        lines,
        [output / name for name in TABLE_FILES],
    )


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


def estimate_seconds(schedule, seeds, methods=METHODS):
    """The wall time of a reproduction, from the measured cost of one step
    of each kind on this machine times the steps each method's schedule
    makes (runs already evaluated are not skipped)."""
    schedule = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    config = method_config(schedule, "seqgan", seeds[0])
    oracle = experiment.build_oracle(config)
    real = sampler.sample_many(oracle, config.training.batch_size, seed=(0, 1))
    evaluation = (
        schedule.eval_samples
        + schedule.test_samples * (1 + len(schedule.temperatures))
        + schedule.curve_samples * len(schedule.temperatures)
    )
    configs = [method_config(schedule, m, seeds[0]) for m in methods]
    return common.estimate_seconds(
        configs,
        real,
        config.data.num_real,
        oracle=oracle,
        evaluation_samples=evaluation,
    ) * len(seeds)
