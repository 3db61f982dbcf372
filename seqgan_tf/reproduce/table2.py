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
from seqgan_tf import methods as methods_lib
from seqgan_tf import metrics
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf.reproduce import common
from seqgan_tf.reproduce import stages

# BLEU-2 of the paper's Table 2 (the real data: held-out poems).
PAPER_TABLE2 = {
    "mle": {"bleu_2": 0.6670},
    "seqgan": {"bleu_2": 0.7389},
    "real": {"bleu_2": 0.746},
}
METHODS = methods_lib.names(table="quatrains")
PROTOCOL_FILE = "protocol.json"
PUBLISHED_FILE = "as_published.json"
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
    ("paper BLEU-2", "published_bleu_2"),
    ("p vs SeqGAN (Welch over seeds)", "seed_welch_p_vs_seqgan"),
    ("p vs matched MLE (Welch over seeds)", "seed_welch_p_vs_matched"),
)
REAL_STREAM = 1_000_037


@dataclasses.dataclass(frozen=True)
class TextSchedule:
    """What each method trains on and how it is evaluated.

    Attributes:
        name: the schedule's name ("tiny", "fast", "paper", "family"...).
        base: the preset whose models and training settings are used.
        dataset: the text ("chinese_quatrains", "coco", or a "/small"
            config).
        mle_epochs: MLE epochs (the adversarial methods' pretraining; all
            of MLE's).
        discriminator_rounds, adversarial_rounds: the adversarial methods'.
        eval_samples: generated sequences scored per generator (BLEU against
            every held-out sequence; Self-BLEU among themselves).
        temperatures: the sampling temperatures of each generator's curve
            (the matched temperature is interpolated in MLE's curve).
        overrides: more `section.field=value` settings of every run.
        methods: the trained rows, "mle" first.
        bleu_orders, self_bleu_orders: the orders of BLEU and Self-BLEU
            measured.
        match_order: the order whose Self-BLEU the matched MLE generator
            equals and whose BLEU (each seed's mean) the seed-level tests
            compare.
        matched_row: the name of the matched MLE row of a method
            ("{method}" is replaced).
        published: the published values beside the table ({row: {metric
            key: value}}) and `published_label`, whose they are.
        published_samples: 0, or the number of samples the published
            Self-BLEU was measured on. Self-BLEU grows with the number of
            samples (each is compared with all the others), so each method
            (and the real data) is then also measured at temperature 1 on
            this many samples (`PUBLISHED_FILE`), and the published values
            stand beside those in a table of their own.
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
    methods: tuple = METHODS
    bleu_orders: tuple = (2,)
    self_bleu_orders: tuple = (2,)
    match_order: int = 2
    matched_row: str = "mle_matched"
    published: dict = dataclasses.field(default_factory=dict)
    published_label: str = "paper"
    published_samples: int = 0

    def matched(self, method):
        """The name of the row of the MLE generator matched to `method`."""
        return self.matched_row.format(method=method)

    @property
    def rows(self):
        """The table's rows: the real data, MLE, then each other method
        followed by MLE at its Self-BLEU."""
        rows = ["real", "mle"]
        for method in self.methods:
            if method != "mle":
                rows += [method, self.matched(method)]
        return tuple(rows)


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
        published=PAPER_TABLE2,
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
        published=PAPER_TABLE2,
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
        published=PAPER_TABLE2,
    ),
}


def get_schedule(schedule, schedules=None):
    """`schedules[schedule]` (this module's `SCHEDULES` by default); a
    `TextSchedule` passes through."""
    if isinstance(schedule, TextSchedule):
        return schedule
    return (SCHEDULES if schedules is None else schedules)[schedule]


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


def score(hypotheses, data, schedule):
    """({order: per-sequence BLEU-order against the held-out set}, {order:
    Self-BLEU-order}) of token lists, at the schedule's orders."""
    per_sequence = {
        n: np.asarray(data.bleu_scorer.scores(hypotheses, max_order=n))
        for n in schedule.bleu_orders
    }
    self_scores = {
        n: bleu.self_bleu(hypotheses, max_order=n)
        for n in schedule.self_bleu_orders
    }
    return per_sequence, self_scores


def _point(per_sequence, self_scores):
    point = {f"bleu_{n}": float(v.mean()) for n, v in per_sequence.items()}
    point.update({f"self_bleu_{n}": v for n, v in self_scores.items()})
    return point


def evaluate_generator(generator, data, schedule, seed):
    """The protocol of one generator: BLEU (per sequence) and Self-BLEU of
    `eval_samples` samples, NLL-test of the held-out set, and all of them
    at each temperature of the curve (NLL-test at every temperature from
    one teacher-forced pass). Returns (result, {order: per-sequence
    BLEU})."""
    seed = (seed, common.EVAL_STREAM)
    temperatures = [1.0, *schedule.temperatures]
    nll = metrics.nll_at_temperatures(generator, data.test_ids, temperatures)
    per_sequence, result = _scored(generator, data, schedule, seed, 1.0)
    result["nll_test"] = nll[0]
    curve = []
    for temperature, nll_test in zip(schedule.temperatures, nll[1:]):
        point = _scored(generator, data, schedule, seed, temperature)[1]
        point.update(temperature=float(temperature), nll_test=nll_test)
        curve.append(point)
    result.update(samples=int(schedule.eval_samples), curve=curve)
    return result, per_sequence


def _scored(generator, data, schedule, seed, temperature):
    samples = sampler.sample_many(
        generator, schedule.eval_samples, seed=seed, temperature=temperature
    )
    per_sequence, self_scores = score(data.tokens(samples), data, schedule)
    return per_sequence, _point(per_sequence, self_scores)


def point(generator, data, schedule, seed, temperature):
    """BLEU, Self-BLEU and NLL-test of `generator` at `temperature`;
    returns (point, {order: per-sequence BLEU})."""
    per_sequence, result = _scored(generator, data, schedule, seed, temperature)
    result = {"temperature": float(temperature), **result}
    result["nll_test"] = metrics.nll(
        generator, data.test_ids, temperature=temperature
    )
    return result, per_sequence


def matched_temperature(curve, target, key="self_bleu_2"):
    """The temperature at which a generator's Self-BLEU (`key`) equals
    `target`, linearly interpolated between the curve's neighbouring
    temperatures (Self-BLEU falls as the temperature rises). Returns
    (temperature, inside): outside the curve's range the nearest end is
    returned and `inside` is False."""
    points = sorted((p["temperature"], p[key]) for p in curve)
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


def _save_per_sequence(directory, per_sequence):
    for n, values in per_sequence.items():
        np.save(directory / f"bleu_{n}.npy", values.astype(np.float32))


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
            return _load(protocol_path)
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
        _save_per_sequence(run_dir, per_sequence)
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
        return _load(path)
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
    result = _point(*score(data.tokens(ids), data, schedule))
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
        return _load(protocol_path)
    key = f"self_bleu_{schedule.match_order}"
    target = _load(common.run_dir(output, method, seed) / PROTOCOL_FILE)[key]
    mle = _load(common.run_dir(output, "mle", seed) / PROTOCOL_FILE)
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
    _save_per_sequence(out_dir, per_sequence)
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
        return _load(protocol_path)
    config = method_config(schedule, "mle", 0)
    data = experiment.load_text(config, None, data_dir, log=None)
    rng = np.random.default_rng(REAL_STREAM)
    count = min(schedule.eval_samples, len(data.train_ids))
    chosen = rng.choice(len(data.train_ids), count, replace=False)
    per_sequence, self_scores = score(
        data.tokens(data.train_ids[np.sort(chosen)]), data, schedule
    )
    result = {"method": "real", **_point(per_sequence, self_scores)}
    result["samples"] = int(count)
    out_dir.mkdir(parents=True, exist_ok=True)
    _save_per_sequence(out_dir, per_sequence)
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
                _references(schedule),
                _tested(schedule),
                log,
            )
            if table is not None:
                _published_from_paper(table["rows"], schedule)
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


def _published_from_paper(rows, schedule):
    """Rows built when a row held the paper's BLEU-2 as `paper` (the first
    table2_fast) get the schedule's `published_KEY` values instead (the
    same numbers)."""
    for row in rows:
        row.pop("paper", None)
        published = schedule.published.get(row["method"], {})
        for key in _columns(schedule):
            row.setdefault(f"published_{key}", published.get(key))


def _finished(schedule, seeds, output):
    """(results, real) of the runs of `output` that have a protocol."""
    results = {}
    for method in schedule.rows[1:]:
        for seed in seeds:
            path = common.run_dir(output, method, seed) / PROTOCOL_FILE
            if path.exists():
                results[method, seed] = _load(path)
    real = pathlib.Path(output) / "real" / PROTOCOL_FILE
    return results, _load(real) if real.exists() else None


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
        per_seed[method] = [r.get(_tested(schedule)) for r in present]
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
        rows, _references(schedule), _tested(schedule), per_seed
    )
    return {
        "rows": rows,
        "seeds": list(seeds),
        "statistics": common.SEED_TEST.format(key=_tested(schedule)),
    }


def _tested(schedule):
    """The key whose per-seed values the seed-level tests compare."""
    return f"bleu_{schedule.match_order}"


def _references(schedule):
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
    found = [_load(p) for p in paths if p.exists()]
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
    f = common.format_value
    order = schedule.match_order
    header = ["generator", *(f"{_label(k)} (mean ± sd)" for k in keys)]
    header += ["NLL-test (mean ± sd)", "temperature"]
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
        "seeds",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table["rows"]:
        seeds = (
            "-"
            if row["method"] == "real"
            else common.seeds_cell(row, table["seeds"])
        )
        temperature = row["temperature"]
        if temperature is None and row["method"] in schedule.methods:
            temperature = 1.0
        cells = [row["method"]]
        cells += [f"{f(row[k])} ± {f(row[f'{k}_sd'])}" for k in keys]
        cells += [
            f"{f(row['nll_test'])} ± {f(row['nll_test_sd'])}",
            f(temperature, 2),
        ]
        cells += [
            " / ".join(f(row[f"published_{k}"]) for k in group)
            for group in published
        ]
        cells += [
            f(row.get(common.P_KEY.format(name="seqgan"))),
            f(row.get(common.P_KEY.format(name="matched"))),
            seeds,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"p: Welch's t-test over seeds (unpaired) of the seeds' BLEU-{order} "
        "(one value per seed: the mean over its samples); - with fewer than "
        "2 seeds on either side (the real sequences are one measurement).",
    ]
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


def _published_lines(table, schedule, keys):
    """The Markdown table of each row measured as the published values
    were (`published_samples` samples at temperature 1), ours beside
    theirs."""
    f = common.format_value
    label = schedule.published_label
    lines = [
        "",
        f"At {label}'s protocol: {schedule.published_samples:,} samples at "
        f"temperature 1; each cell is ours (mean ± sd over seeds) and "
        f"{label}'s in brackets.",
        "",
        "| generator | " + " | ".join(_label(k) for k in keys) + " | seeds |",
        "|" + "---|" * (len(keys) + 2),
    ]
    for row in table["rows"]:
        measured = row.get("as_published")
        if measured is None:
            continue
        cells = [row["method"]]
        for key in keys:
            cell = f"{f(measured[key])} ± {f(measured[f'{key}_sd'])}"
            cells.append(f"{cell} ({f(row[f'published_{key}'])})")
        cells.append(str(measured["seeds"]))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


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
