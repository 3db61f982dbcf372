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

This module holds each run's config and the running; the parts it
composes have their own modules (every name is importable from here
too): the schedules (`table1_schedules`), the protocol
(`table1_protocol`), the table and its statistics (`table1_tables`, from
the runs' logs, `table1_logs`) and the plots (`table1_plots`).
"""

import dataclasses
import json
import pathlib
import time

import numpy as np

from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import methods as methods_lib
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf.reproduce import common
from seqgan_tf.reproduce import jobs as jobs_lib
from seqgan_tf.reproduce import stages
from seqgan_tf.reproduce.table1_logs import probe_at  # noqa: F401
from seqgan_tf.reproduce.table1_logs import progress  # noqa: F401
from seqgan_tf.reproduce.table1_logs import run_metrics  # noqa: F401
from seqgan_tf.reproduce.table1_logs import trajectory  # noqa: F401
from seqgan_tf.reproduce.table1_plots import plot_curves
from seqgan_tf.reproduce.table1_plots import plot_trajectory
from seqgan_tf.reproduce.table1_protocol import TEST_DATA_STREAM  # noqa: F401
from seqgan_tf.reproduce.table1_protocol import evaluate_generator
from seqgan_tf.reproduce.table1_protocol import test_data  # noqa: F401
from seqgan_tf.reproduce.table1_schedules import METHODS
from seqgan_tf.reproduce.table1_schedules import SCHEDULES
from seqgan_tf.reproduce.table1_schedules import Schedule  # noqa: F401
from seqgan_tf.reproduce.table1_tables import PAPER_TABLE1  # noqa: F401
from seqgan_tf.reproduce.table1_tables import TABLE_FILES
from seqgan_tf.reproduce.table1_tables import TRAJECTORY_ROUNDS  # noqa: F401
from seqgan_tf.reproduce.table1_tables import build_table
from seqgan_tf.reproduce.table1_tables import mean_curve  # noqa: F401
from seqgan_tf.reproduce.table1_tables import references
from seqgan_tf.reproduce.table1_tables import versus_mle_curve  # noqa: F401
from seqgan_tf.reproduce.table1_tables import write_tables

PROTOCOL_FILE = "protocol.json"
SEQUENCE_NLL_FILE = "nll_oracle.npy"
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
