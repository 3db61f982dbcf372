"""Reproductions on real text: each method's BLEU (quality against the
held-out set) beside its Self-BLEU (how alike its samples are, lower is
more diverse) and NLL-test, on several seeds.

BLEU alone rewards a generator that repeats common n-grams, so a colder
generator scores higher. Every generator is therefore also measured at
several sampling temperatures, and the MLE generator is evaluated once
more for each other method, at the temperature where its Self-BLEU (of
the schedule's `match_order`) equals that method's (same seed): the row
`mle_at_METHOD` (`mle_matched` in the paper's Table 2, which has one
method) compares quality at equal diversity.

Two harnesses share this module: the paper's Table 2 (MLE against SeqGAN
on the Chinese quatrains, BLEU-2; `reproduce_table2`) and the COCO
captions table of SeqGAN's successors (`seqgan_tf.reproduce.coco`, BLEU-2..5
and Self-BLEU-2..4, beside Texygen's published values). A `TextSchedule`
holds everything that differs.

`reproduce_text(schedule, seeds, output, files)` trains each (method,
seed) into its own resumable run directory (`OUTPUT/METHOD/seed_S`; the
methods that pretrain as SeqGAN does share its MLE and D stages, LeakGAN
its own), evaluates it once (`protocol.json`, the per-sequence BLEU of each
order in `bleu_N.npy`), evaluates the matched MLE generators and the real
training sequences (`OUTPUT/real`), then writes the tables and the plot.
Running it again resumes unfinished runs and skips finished ones.

This module holds each run's config and the running; the parts it
composes have their own modules (every name is importable from here
too): the schedules (`table2_schedules`), the protocol and its files
(`table2_protocol`), the tables (`table2_tables`) and the plot
(`table2_plots`).
"""

import dataclasses
import pathlib
import time

import numpy as np

from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf.reproduce import common
from seqgan_tf.reproduce import stages
from seqgan_tf.reproduce.table2_plots import plot_curves
from seqgan_tf.reproduce.table2_protocol import PROTOCOL_FILE
from seqgan_tf.reproduce.table2_protocol import PUBLISHED_FILE
from seqgan_tf.reproduce.table2_protocol import SEQUENCE_BLEU_FILE  # noqa: F401
from seqgan_tf.reproduce.table2_protocol import bleu_point
from seqgan_tf.reproduce.table2_protocol import evaluate_generator
from seqgan_tf.reproduce.table2_protocol import load_result
from seqgan_tf.reproduce.table2_protocol import matched_temperature
from seqgan_tf.reproduce.table2_protocol import point
from seqgan_tf.reproduce.table2_protocol import save_per_sequence
from seqgan_tf.reproduce.table2_protocol import score
from seqgan_tf.reproduce.table2_schedules import METHODS  # noqa: F401
from seqgan_tf.reproduce.table2_schedules import PAPER_TABLE2  # noqa: F401
from seqgan_tf.reproduce.table2_schedules import SCHEDULES  # noqa: F401
from seqgan_tf.reproduce.table2_schedules import TextSchedule  # noqa: F401
from seqgan_tf.reproduce.table2_schedules import get_schedule
from seqgan_tf.reproduce.table2_tables import TABLE_FILES
from seqgan_tf.reproduce.table2_tables import build_table
from seqgan_tf.reproduce.table2_tables import published_from_paper
from seqgan_tf.reproduce.table2_tables import references
from seqgan_tf.reproduce.table2_tables import tested_key
from seqgan_tf.reproduce.table2_tables import write_tables

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
    ("paper BLEU-2", "published_bleu_2"),
    ("p vs SeqGAN (Welch over seeds)", "seed_welch_p_vs_seqgan"),
    ("p vs matched MLE (Welch over seeds)", "seed_welch_p_vs_matched"),
)
REAL_STREAM = 1_000_037


def method_config(schedule, method, seed):
    """The `ExperimentConfig` of one (method, seed): the schedule's preset
    trained on its text (`config.for_method`); `mle` is the MLE
    pretraining alone."""
    schedule = get_schedule(schedule)
    if method not in schedule.methods:
        raise ValueError(
            f"Unknown method {method!r} for the {schedule.name} schedule; "
            f"choose from {', '.join(schedule.methods)}."
        )
    return _config(schedule, method, seed)


def _config(schedule, method, seed):
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
    return config_lib.for_method(config, method).validate()


def stage_configs(schedule, seed, family=None):
    """The shared stages of a seed: {stage: config}, from its `seqgan` run
    (or the `family`'s own, see `stages.stage_family`)."""
    staged = _config(get_schedule(schedule), family or "seqgan", seed)
    return {s: stages.stage_config(staged, s) for s in stages.STAGES}


def run_method(schedule, method, seed, output, data_dir=None, verbose=0):
    """Trains (or resumes) and evaluates one (method, seed); returns its
    protocol result, read back when it was already evaluated. A lock file
    beside the run directory keeps two reproductions from training the
    same run at once."""
    schedule = get_schedule(schedule)
    run_dir = common.run_dir(output, method, seed)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    with runs.locked(run_dir.parent / f".{run_dir.name}.lock"):
        protocol_path = run_dir / PROTOCOL_FILE
        if protocol_path.exists():
            return load_result(protocol_path)
        started = time.perf_counter()
        config = method_config(schedule, method, seed)
        family = stages.stage_family(method)
        stage = stages.start(
            config,
            run_dir,
            stage_configs(schedule, seed, family),
            output,
            log=None,
            verbose=verbose,
            data_dir=data_dir,
            family=family,
        )
        summary = experiment.train(
            config, run_dir, data_dir=data_dir, verbose=verbose, log=None
        )
        run = experiment.restore_run(run_dir)
        data = experiment.load_text(config, run.vocabulary, data_dir, log=None)
        result, per_sequence = evaluate_generator(
            run.gan.generator, data, schedule, seed
        )
        result.update(
            method=method,
            seed=seed,
            stage=stage,
            train_seconds=summary["wall_seconds"],
            seconds=time.perf_counter() - started,
        )
        save_per_sequence(run_dir, per_sequence)
        runs.write_json(protocol_path, result)
        return result


def run_as_published(schedule, method, seed, output, data_dir=None):
    """BLEU and Self-BLEU of `published_samples` samples of a trained
    (method, seed) at temperature 1 (`method` "real": that many training
    sequences), the published values' protocol: written to
    `PUBLISHED_FILE` in its run directory."""
    schedule = get_schedule(schedule)
    count = schedule.published_samples
    if method == "real":
        out_dir = pathlib.Path(output) / "real"
    else:
        out_dir = common.run_dir(output, method, seed)
    path = out_dir / PUBLISHED_FILE
    if path.exists():
        return load_result(path)
    if method == "real":
        config = method_config(schedule, "mle", 0)
        data = experiment.load_text(config, None, data_dir, log=None)
        rng = np.random.default_rng(REAL_STREAM)
        count = min(count, len(data.train_ids))
        chosen = rng.choice(len(data.train_ids), count, replace=False)
        ids = data.train_ids[np.sort(chosen)]
    else:
        run = experiment.restore_run(out_dir)
        data = experiment.load_text(
            run.config, run.vocabulary, data_dir, log=None
        )
        ids = sampler.sample_many(
            run.gan.generator, count, seed=(seed, common.EVAL_STREAM)
        )
    result = bleu_point(*score(data.tokens(ids), data, schedule))
    result.update(method=method, seed=seed, samples=int(count))
    out_dir.mkdir(parents=True, exist_ok=True)
    runs.write_json(path, result)
    return result


def run_matched(schedule, method, seed, output, data_dir=None):
    """The MLE generator of `seed` at the temperature where its Self-BLEU
    (of `match_order`) equals `method`'s: written to
    `OUTPUT/{schedule.matched(method)}/seed_S`."""
    schedule = get_schedule(schedule)
    name = schedule.matched(method)
    out_dir = common.run_dir(output, name, seed)
    protocol_path = out_dir / PROTOCOL_FILE
    if protocol_path.exists():
        return load_result(protocol_path)
    key = f"self_bleu_{schedule.match_order}"
    method_protocol = common.run_dir(output, method, seed) / PROTOCOL_FILE
    target = load_result(method_protocol)[key]
    mle = load_result(common.run_dir(output, "mle", seed) / PROTOCOL_FILE)
    temperature, inside = matched_temperature(mle["curve"], target, key)
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
        method=name,
        seed=seed,
        matched_to=method,
        inside_curve=inside,
        **{f"target_{key}": target},
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    save_per_sequence(out_dir, per_sequence)
    runs.write_json(protocol_path, result)
    return result


def run_real(schedule, output, data_dir=None):
    """BLEU and Self-BLEU of `eval_samples` real training sequences (a
    fixed random choice), the ceiling a generator can reach: written to
    `OUTPUT/real`."""
    schedule = get_schedule(schedule)
    out_dir = pathlib.Path(output) / "real"
    protocol_path = out_dir / PROTOCOL_FILE
    if protocol_path.exists():
        return load_result(protocol_path)
    config = method_config(schedule, "mle", 0)
    data = experiment.load_text(config, None, data_dir, log=None)
    rng = np.random.default_rng(REAL_STREAM)
    count = min(schedule.eval_samples, len(data.train_ids))
    chosen = rng.choice(len(data.train_ids), count, replace=False)
    per_sequence, self_scores = score(
        data.tokens(data.train_ids[np.sort(chosen)]), data, schedule
    )
    result = {"method": "real", **bleu_point(per_sequence, self_scores)}
    result["samples"] = int(count)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_per_sequence(out_dir, per_sequence)
    runs.write_json(protocol_path, result)
    return result


def reproduce_text(
    schedule,
    seeds,
    output,
    table_files=TABLE_FILES,
    plot_file=PLOT_FILE,
    methods=None,
    data_dir=None,
    verbose=0,
    log=print,
    table_only=False,
):
    """Runs `methods` (default: the schedule's) on every seed (resuming),
    the matched MLE generators and the real sequences, then writes the
    tables (`table_files`: md, csv, json) and the plot (`plot_file`) into
    `output`; returns the table. With `table_only`, nothing is trained or
    evaluated: the table is built from the protocol results already in
    `output`, runs without one are marked missing; when none has one but
    `output` holds the table's JSON (a table committed without its runs),
    that table is kept and only its statistics are rebuilt
    (`common.rebuilt_from_summaries`).
    MLE always runs: every other row is compared with it. `log` receives a
    line per run (None: silent)."""
    schedule = get_schedule(schedule)
    log = log or (lambda line: None)
    if methods is not None:
        unknown = sorted(set(methods) - set(schedule.methods))
        if unknown:
            raise ValueError(
                f"unknown methods {unknown} for the {schedule.name} "
                f"schedule; choose from {', '.join(schedule.methods)}."
            )
        kept = ("mle", *methods)
        schedule = dataclasses.replace(
            schedule, methods=tuple(m for m in schedule.methods if m in kept)
        )
    output = pathlib.Path(output)
    output.mkdir(parents=True, exist_ok=True)
    if table_only:
        results, real = _finished(schedule, seeds, output)
        if not results and real is None:
            # A committed table without its runs' results: only its
            # statistics can be rebuilt.
            table = common.rebuilt_from_summaries(
                output / table_files[2],
                references(schedule),
                tested_key(schedule),
                log,
            )
            if table is not None:
                published_from_paper(table["rows"], schedule)
                write_tables(table, output, schedule, table_files)
                return table
    else:
        results = {}
        for method in schedule.methods:
            for seed in seeds:
                log(f"{method}, seed {seed}:")
                results[method, seed] = run_method(
                    schedule, method, seed, output, data_dir, verbose
                )
        for method in schedule.methods:
            if method == "mle":
                continue
            for seed in seeds:
                name = schedule.matched(method)
                log(f"{name}, seed {seed}:")
                results[name, seed] = run_matched(
                    schedule, method, seed, output, data_dir
                )
        log("real sequences:")
        real = run_real(schedule, output, data_dir)
        if schedule.published_samples:
            for method in ("real", *schedule.methods):
                for seed in (0,) if method == "real" else seeds:
                    log(
                        f"{method}, seed {seed}: "
                        f"{schedule.published_samples:,} samples"
                    )
                    run_as_published(schedule, method, seed, output, data_dir)
    table = build_table(results, real, seeds, output, schedule)
    table["schedule"] = dataclasses.asdict(schedule)
    write_tables(table, output, schedule, table_files)
    if results:
        plot_curves(results, real, output / plot_file, schedule)
    return table


def _finished(schedule, seeds, output):
    """(results, real) of the runs of `output` that have a protocol."""
    results = {}
    for method in schedule.rows[1:]:
        for seed in seeds:
            path = common.run_dir(output, method, seed) / PROTOCOL_FILE
            if path.exists():
                results[method, seed] = load_result(path)
    real = pathlib.Path(output) / "real" / PROTOCOL_FILE
    return results, load_result(real) if real.exists() else None


def copy_results(output, destination, schedule, seeds, files):
    """Copies what rebuilds a reproduction's table without its checkpoints
    into `destination`: each row's protocol, per-sequence BLEU and
    metrics.csv, each shared stage's metrics.csv, and `files` (the tables
    and the plot). `reproduce_text(..., table_only=True)` on
    `destination` then rebuilds the table."""
    schedule = get_schedule(schedule)
    output = pathlib.Path(output)
    names = (
        PROTOCOL_FILE,
        PUBLISHED_FILE,
        runs.METRICS_CSV,
        *(f"bleu_{n}.npy" for n in schedule.bleu_orders),
    )
    sources = [
        common.run_dir(output, row, s) / name
        for row in schedule.rows[1:]
        for s in seeds
        for name in names
    ]
    sources += [output / "real" / name for name in names]
    families = {stages.stage_family(m) for m in schedule.methods}
    sources += [
        stages.stage_dir(output, s, stage, family) / runs.METRICS_CSV
        for s in seeds
        for stage in stages.STAGES
        for family in families
    ]
    sources += [output / name for name in files]
    return common.copy_existing(output, destination, sources)


def reproduce_table2(
    schedule="fast",
    seeds=(0, 1, 2),
    output="runs/table2",
    data_dir=None,
    verbose=0,
    log=print,
):
    """The paper's Table 2: MLE and SeqGAN on the quatrains (see
    `reproduce_text`)."""
    return reproduce_text(
        get_schedule(schedule),
        seeds,
        output,
        data_dir=data_dir,
        verbose=verbose,
        log=log,
    )


def estimate_seconds(schedule, seeds, data_dir=None, methods=None):
    """The wall time of the reproduction from one measured step of each
    kind on this machine (`common.family_seconds`): each run's training,
    its curve and, for every method but MLE, its matched MLE point."""
    schedule = get_schedule(schedule)
    config = method_config(schedule, "mle", seeds[0])
    data = experiment.load_text(config, None, data_dir, log=None)
    methods = tuple(methods or schedule.methods)
    return common.family_seconds(
        lambda method: _config(schedule, method, seeds[0]),
        lambda family: stage_configs(schedule, seeds[0], family),
        methods,
        data.train_ids[: config.training.batch_size],
        len(data.train_ids),
        schedule.eval_samples * (2 + len(schedule.temperatures)),
        vocabulary_size=len(data.vocabulary),
    ) * len(seeds)
