"""Reproduce the paper's Table 1: every method on several seeds, one
evaluation protocol, statistics, tables and the quality-diversity plot.

`reproduce_table1(schedule, seeds, output)` trains each (method, seed) into
its own resumable run directory (`OUTPUT/METHOD/seed_S`), evaluates it once
(`protocol.json` and the per-sequence `nll_oracle.npy` in the run
directory), then writes `table1.md`, `table1.csv`, `table1.json` and
`quality_diversity.png` into `OUTPUT` (and, for schedules with a
discriminator probe, `trajectory.png`). Running it again resumes unfinished
runs and skips finished ones.

Each seed's MLE pretraining and D pretraining are trained once, as shared
stages (`seqgan_tf.reproduce.stages`); every method whose schedule begins
with them starts from a copy of their checkpoint.
"""

import dataclasses
import json
import pathlib
import time

import numpy as np
from matplotlib.figure import Figure

from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import methods as methods_lib
from seqgan_tf import metrics
from seqgan_tf import paper
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf import schedule as schedule_lib
from seqgan_tf.reproduce import common
from seqgan_tf.reproduce import jobs as jobs_lib
from seqgan_tf.reproduce import stages

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
TRAJECTORY_PLOT = "trajectory.png"
# The files of a run that hold its protocol (what `--table-only` rebuilds
# the table from, and what a reproduction commits).
PROTOCOL_FILES = (PROTOCOL_FILE, SEQUENCE_NLL_FILE, "metrics.csv")
TITLE = "Table 1: the synthetic oracle"
# The report's columns: (title, key of a table row).
REPORT_COLUMNS = (
    ("method", "method"),
    ("NLL-oracle", "nll_oracle"),
    ("sd", "nll_oracle_sd"),
    ("NLL-test", "nll_test"),
    ("sd", "nll_test_sd"),
    ("paper", "paper"),
    ("p vs SeqGAN (Welch over seeds)", "seed_welch_p_vs_seqgan"),
    ("p vs MLE (Welch over seeds)", "seed_welch_p_vs_mle"),
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
        table: the registry's table (`seqgan_tf.methods.TABLES`) whose
            methods are its rows, in registration order (`methods`).
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
    table: str = "classic"

    @property
    def methods(self):
        """The rows of its table: the methods registered in it."""
        return methods_lib.names(table=self.table)


# Every method `method_config` knows: the registry's.
METHODS = methods_lib.names()

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
        table="classic",
    ),
    # The `authors` schedule at the tiny preset's size, for tests.
    "tiny_authors": Schedule(
        "tiny_authors",
        "tiny",
        mle_epochs=2,
        discriminator_rounds=2,
        adversarial_rounds=3,
        ss_epochs=2,
        eval_samples=256,
        test_samples=128,
        curve_samples=64,
        temperatures=(0.8, 1.0, 1.2),
        overrides=("training.probe_samples=64", "training.eval_every=2"),
        method_overrides=(
            ("seqgan_constant_reward", ("training.discriminator_steps=0",)),
        ),
        table="authors",
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
            "training.probe_samples=1024",
        ),
        table="classic",
    ),
    # The `family` schedule at the tiny preset's size, for tests.
    "tiny_family": Schedule(
        "tiny_family",
        "tiny",
        mle_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        ss_epochs=2,
        eval_samples=256,
        test_samples=128,
        curve_samples=64,
        temperatures=(0.8, 1.0, 1.2),
        table="family",
    ),
    # SeqGAN's successors on the `fast` schedule's budget: the paper's
    # oracle and models, 10 MLE epochs, 3 D (or ranker) pretraining rounds
    # and 10 adversarial rounds of 1 generator step and 1 D round of 1,024
    # fresh negatives. Every method keeps its paper's algorithm; only the
    # lengths (and LeakGAN's interleaved D pretraining, replaced by the
    # common one) are shortened.
    # The `critic` table at the tiny preset's size, for tests.
    "tiny_critic": Schedule(
        "tiny_critic",
        "tiny",
        mle_epochs=2,
        discriminator_rounds=1,
        adversarial_rounds=2,
        ss_epochs=2,
        eval_samples=256,
        test_samples=128,
        curve_samples=64,
        temperatures=(0.8, 1.0, 1.2),
        overrides=("training.probe_samples=64",),
        table="critic",
    ),
    # Does a critic that knows help? The family schedule's sizes (its MLE
    # stage; the D stage differs only by the probe), every learned critic
    # beside its constant control and the Bayes-optimal critic, probed
    # after every D round.
    "critic": Schedule(
        "critic",
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
            "training.probe_samples=1024",
        ),
        table="critic",
    ),
    "family": Schedule(
        "family",
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
        table="family",
    ),
    # The authors' discriminator training, exactly: the `paper` preset's
    # pretraining (120 MLE epochs; 50 D rounds of 3 epochs over 9,984 fresh
    # negatives and the 9,984 real sequences) and its adversarial round (1
    # policy-gradient step with 16 rollouts, then 5 such D rounds), for the
    # first 21 rounds (NLL-oracle after rounds 0, 5, 10, 15 and 20, as the
    # authors log it). Only the number of rounds and the evaluation differ
    # from the preset; the constant-reward control skips the D rounds,
    # which its generator never reads (same generator, a fraction of the
    # time).
    "authors": Schedule(
        "authors",
        "paper",
        mle_epochs=120,
        discriminator_rounds=50,
        adversarial_rounds=21,
        ss_epochs=300,
        eval_samples=100_000,
        test_samples=10_000,
        curve_samples=2_000,
        overrides=("training.probe_samples=4992",),
        method_overrides=(
            ("seqgan_constant_reward", ("training.discriminator_steps=0",)),
        ),
        table="authors",
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
        table="classic",
    ),
}


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
      `discriminator_rounds` of D pretraining: a constant reward
      (`seqgan_constant_reward`), a discriminator that is never trained
      (`seqgan_untrained_discriminator`: no D pretraining, no D rounds), the
      pretrained discriminator never updated in the adversarial rounds
      (`seqgan_frozen_pretrained_discriminator`), rewards minus their batch
      mean at each position (`seqgan_reward_baseline`), adversarial D
      rounds whose real half is fresh oracle samples
      (`seqgan_fresh_real`, possible on the synthetic task only), a
      delayed rollout policy (`seqgan_delayed_rollout`);
    - `maligan`, `rankgan` and `leakgan` train as SeqGAN does, each with
      its own reward, discriminator or generator (`config.for_method`);
      `leakgan_unsorted` rescales LeakGAN's rewards as its released code
      does (by order of appearance, not by value);
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
    method_spec = methods_lib.get(method)
    config = config_lib.for_method(config, method)
    if method_spec.adjust is not None:
        config = config_lib.with_overrides(
            config, method_spec.adjust(config, schedule)
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
    temperatures = list(schedule.temperatures)
    # NLL-test at every temperature of the curve and at 1, one pass each.
    nll_tests = metrics.nll_at_temperatures(
        generator, held_out, temperatures + [1.0]
    )
    curve = []
    for temperature, nll_test in zip(temperatures, nll_tests):
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
                "nll_test": nll_test,
            }
        )
    result = {
        "nll_oracle": float(per_sequence.mean()),
        "nll_oracle_samples": int(len(per_sequence)),
        "nll_test": nll_tests[-1],
        "nll_test_samples": int(len(held_out)),
        "curve": curve,
    }
    return result, per_sequence


stage_family = stages.stage_family


def stage_configs(schedule, seed, family=None):
    """The shared stages of a schedule's seed: {stage: config}, derived
    from its `seqgan` run (or the `family` method's run)."""
    schedule = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    seqgan = method_config(schedule, family or "seqgan", seed)
    return {
        stage: stages.stage_config(seqgan, stage) for stage in stages.STAGES
    }


def run_method(schedule, method, seed, output, verbose=0, log=print):
    """Trains (or resumes) and evaluates one (method, seed); returns its
    protocol result, read back when it was already evaluated. A method
    whose schedule begins with a shared stage of its seed starts from it
    (`stages.start`). A lock file beside the run directory keeps two
    reproductions (or jobs) from training the same run at once."""
    run_dir = common.run_dir(output, method, seed)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with runs.locked(run_dir.parent / f".{run_dir.name}.lock"):
        return _run_method(schedule, method, seed, output, verbose, log)


def _run_method(schedule, method, seed, output, verbose, log):
    schedule = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    run_dir = common.run_dir(output, method, seed)
    protocol_path = run_dir / PROTOCOL_FILE
    if protocol_path.exists():
        return json.loads(protocol_path.read_text())
    config = method_config(schedule, method, seed)
    started = time.perf_counter()
    stage = None
    t = config.training
    if not t.generator_epochs + t.discriminator_rounds + t.adversarial_rounds:
        # Nothing to train (`random`): the initialised generator.
        run_dir.mkdir(parents=True, exist_ok=True)
        runs.write_json(run_dir / runs.CONFIG_FILE, config.to_dict())
        oracle = experiment.build_oracle(config)
        generator = experiment.build_gan(config, oracle).generator
        train_seconds = 0.0
    else:
        stage = stages.start(
            config,
            run_dir,
            stage_configs(schedule, seed, stage_family(method)),
            output,
            log=log,
            verbose=verbose,
            family=stage_family(method),
        )
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
        stage=stage,
        train_seconds=train_seconds,
        seconds=time.perf_counter() - started,
    )
    np.save(run_dir / SEQUENCE_NLL_FILE, per_sequence.astype(np.float32))
    runs.write_json(protocol_path, result)
    return result


def run_order(methods, seeds):
    """The (method, seed) runs in the order they are trained: every cheap
    row of each seed (after its shared stages), then the rows that train
    the discriminator every round (`Method.run_last`), one method at a time over
    the seeds."""
    cheap = [(m, s) for s in seeds for m in methods if not _runs_last(m)]
    costly = [(m, s) for m in methods if _runs_last(m) for s in seeds]
    return cheap + costly


def _runs_last(method):
    return methods_lib.get(method).run_last


def reproduce_table1(
    schedule="fast",
    seeds=(0, 1, 2),
    output="runs/table1",
    verbose=0,
    methods=None,
    log=print,
    jobs=1,
    table_only=False,
):
    """Runs every method on every seed (resuming; `jobs` runs side by side
    in worker processes), then writes the tables and the plots into
    `output`; returns the table (`table1.json`). With `table_only`, nothing
    is trained: the table is built from the protocol results already in
    `output`, runs without one are marked missing; when no run has one but
    `output` holds a table1.json (a table committed without its runs),
    that table is kept and only its statistics are rebuilt
    (`common.rebuilt_from_summaries`)."""
    schedule = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    methods = tuple(methods or schedule.methods)
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    if table_only:
        results = {}
        for method in methods:
            for seed in seeds:
                path = common.run_dir(output, method, seed) / PROTOCOL_FILE
                if path.exists():
                    results[method, seed] = json.loads(path.read_text())
        if not results:
            # A committed table without its runs' results: only its
            # statistics can be rebuilt.
            table = common.rebuilt_from_summaries(
                output / TABLE_FILES[2], references, "nll_oracle", log
            )
            if table is not None:
                write_tables(table, output)
                return table
    else:
        tasks = [
            (schedule, method, seed, str(output), verbose)
            for method, seed in run_order(methods, seeds)
        ]
        done = jobs_lib.run(run_method, tasks, jobs, log)
        results = {(task[1], task[2]): value for task, value in done}
    table = build_table(results, methods, seeds, output)
    table["schedule"] = dataclasses.asdict(schedule)
    table["schedule"]["methods"] = list(schedule.methods)
    write_tables(table, output)
    if results:
        plot_curves(results, output / PLOT_FILE)
    if _probes(schedule):
        plot_trajectory(output, methods, seeds, output / TRAJECTORY_PLOT)
    return table


def copy_results(output, destination, methods, seeds):
    """Copies what rebuilds a reproduction's table without its checkpoints
    into `destination`: each run's `PROTOCOL_FILES`, each shared stage's
    metrics.csv, and the tables and plots. `reproduce_table1(...,
    output=destination, table_only=True)` then rebuilds the table."""
    output, destination = pathlib.Path(output), pathlib.Path(destination)
    sources = [
        common.run_dir(output, m, s) / name
        for m in methods
        for s in seeds
        for name in PROTOCOL_FILES
    ]
    families = {stages.stage_family(m) for m in methods}
    sources += [
        stages.stage_dir(output, s, stage, family) / runs.METRICS_CSV
        for s in seeds
        for stage in stages.STAGES
        for family in families
    ]
    sources += [
        output / name for name in (*TABLE_FILES, PLOT_FILE, TRAJECTORY_PLOT)
    ]
    return common.copy_existing(output, destination, sources)


def _probes(schedule):
    return any(
        o.startswith("training.probe_samples=") for o in schedule.overrides
    )


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
        row.get("seed_welch_p_vs_parent") is not None
        or methods_lib.get(row["method"]).parent in present - {"seqgan", "mle"}
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


def run_metrics(output, method, seed):
    """The metrics.csv rows of one run as floats (None where empty); []
    when it has none."""
    return _float_rows(common.run_dir(output, method, seed))


def _float_rows(path):
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
    f = common.format_value
    parent = _parent_column(table["rows"])
    lines = [
        "| method | NLL-oracle (mean ± sd) | NLL-test (mean ± sd) | paper "
        "| p vs SeqGAN (Welch over seeds) | p vs MLE (Welch over seeds) "
        + ("| p vs its parent row (Welch over seeds) " if parent else "")
        + "| seeds |",
        "|---|---|---|---|---|---|" + ("---|" if parent else "") + "---|",
    ]
    for row in table["rows"]:
        parent_cell = ""
        if parent:
            name = methods_lib.get(row["method"]).parent
            parent_cell = (
                f"{f(row.get('seed_welch_p_vs_parent'))} ({name}) | "
                if name
                else "- | "
            )
        lines.append(
            f"| {row['method']} | {f(row['nll_oracle'])} ± "
            f"{f(row['nll_oracle_sd'])} | {f(row['nll_test'])} ± "
            f"{f(row['nll_test_sd'])} | {f(row['paper'])} | "
            f"{f(row.get('seed_welch_p_vs_seqgan'))} | "
            f"{f(row.get('seed_welch_p_vs_mle'))} | "
            + parent_cell
            + f"{common.seeds_cell(row, table['seeds'])} |"
        )
    lines += [
        "",
        "p: Welch's t-test over seeds (unpaired) of the seeds' NLL-oracle "
        "(one value per seed); - with fewer than 2 seeds on either side.",
    ]
    lines += (
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
        "MLE at the same diversity; dominated: the MLE generator is better "
        "on both axes at that temperature):",
        "",
        "| method | NLL-test (T = 1) | NLL-oracle (T = 1) | MLE curve there "
        "| below by | dominated by MLE at T |",
        "|---|---|---|---|---|---|",
    ]
    for row in placed:
        lines.append(
            f"| {row['method']} | {f(row['curve_nll_test'])} | "
            f"{f(row['curve_nll_oracle'])} | "
            f"{f(row['mle_curve_nll_oracle'])} | "
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


def _probe_lines(rows):
    """The discriminator table: the probe at the end of D pretraining and
    after the last round (empty when no run probed)."""
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
        "",
        "| method | P(real) train | P(real) fresh real | P(real) fresh "
        "generated | held-out accuracy | Spearman with quality | logit vs "
        "optimal, Spearman | logit vs optimal, Pearson |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in probed:
        cells = [
            f"{f(row.get(f'{key}_pretrained'))} → {f(row.get(f'{key}_final'))}"
            for key in schedule_lib.PROBE_KEYS
        ]
        lines.append(f"| {row['method']} | " + " | ".join(cells) + " |")
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
        rows = _float_rows(stages.stage_dir(output, seed, stages.DISCRIMINATOR))
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


def estimate_seconds(schedule, seeds, methods=METHODS):
    """The wall time of a reproduction with one job, from the measured cost
    of one step of each kind on this machine (`common.family_seconds`)."""
    schedule = SCHEDULES[schedule] if isinstance(schedule, str) else schedule
    config = method_config(schedule, "seqgan", seeds[0])
    oracle = experiment.build_oracle(config)
    real = sampler.sample_many(oracle, config.training.batch_size, seed=(0, 1))
    evaluation = (
        schedule.eval_samples
        + schedule.test_samples * (1 + len(schedule.temperatures))
        + schedule.curve_samples * len(schedule.temperatures)
    )
    return common.family_seconds(
        lambda method: method_config(schedule, method, seeds[0]),
        lambda family: stage_configs(schedule, seeds[0], family),
        methods,
        real,
        config.data.num_real,
        evaluation,
        oracle=oracle,
    ) * len(seeds)
