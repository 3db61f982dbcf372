"""What the reproductions of the paper's tables share: resumable
(method, seed) runs, seed statistics, Welch's t-test and table output."""

import csv
import io
import pathlib
import shutil
import time

import numpy as np
from scipy import stats

from seqgan_tf import experiment
from seqgan_tf import metrics
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf.reproduce import stages

# The seed stream of every evaluation's samples, apart from training's.
EVAL_STREAM = 1_000_033


def run_dir(output, method, seed):
    """The run directory of one (method, seed) of a reproduction."""
    return pathlib.Path(output) / method / f"seed_{seed}"


def welch(a, b):
    """Welch's t-test of two samples: (t, two-sided p)."""
    result = stats.ttest_ind(a, b, equal_var=False)
    return float(result.statistic), float(result.pvalue)


def table_row(method, paper, seeds, found):
    """(the results present, the start of a table row): the method, the
    paper's value, how many of `seeds` have a result in `found` (one per
    seed, None where missing), whether all do, and which are missing."""
    present = [r for r in found if r is not None]
    row = {
        "method": method,
        "paper": paper,
        "seeds": len(present),
        "complete": len(present) == len(found),
        "missing_seeds": [s for s, r in zip(seeds, found) if r is None],
    }
    return present, row


def versus(reference, values):
    """Welch's (t, p) of the reference method's per-sequence values
    against `values`; (None, None) when either is missing (the reference's
    own row passes None)."""
    if reference is None or values is None:
        return None, None
    return welch(reference, values)


def mean_sd(values):
    """(mean, sample standard deviation) of per-seed values; None where
    there are too few values."""
    values = [v for v in values if v is not None]
    mean = float(np.mean(values)) if values else None
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return mean, sd


def pooled(output, method, seeds, filename):
    """The per-sequence arrays `filename` of a method's seeds, concatenated
    (None when no seed has one)."""
    arrays = []
    for seed in seeds:
        path = run_dir(output, method, seed) / filename
        if path.exists():
            arrays.append(np.load(path).astype(np.float64))
    return np.concatenate(arrays) if arrays else None


def seeds_cell(row, seeds):
    """'3/3', or '2/3 (missing [1])' for a row with missing runs."""
    text = f"{row['seeds']}/{len(seeds)}"
    if not row["complete"]:
        text += f" (missing {row['missing_seeds']})"
    return text


def format_value(value, digits=3):
    """A table cell: '-' for None, '< 1e-300' for a p-value that
    underflowed to 0."""
    if value is None:
        return "-"
    if value == 0.0:
        return "< 1e-300"  # a p-value below the smallest float
    if isinstance(value, float) and abs(value) < 1e-3:
        return f"{value:.1e}"
    return f"{value:.{digits}f}"


def write_outputs(table, rows, columns, markdown_lines, paths):
    """Writes a reproduction's JSON (`table`), CSV (`rows` by `columns`)
    and Markdown (`markdown_lines`) to `paths` = (md, csv, json), each
    atomically."""
    md_path, csv_path, json_path = paths
    runs.write_json(json_path, table)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    runs.write_text_atomically(csv_path, text.getvalue())
    runs.write_text_atomically(md_path, "\n".join(markdown_lines) + "\n")


def copy_existing(output, destination, sources):
    """Copies each of `sources` (paths inside `output`) that exists to the
    same place inside `destination`; returns how many were copied."""
    output, destination = pathlib.Path(output), pathlib.Path(destination)
    copied = 0
    for source in sources:
        if source.exists():
            target = destination / source.relative_to(output)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            copied += 1
    return copied


def estimate_seconds(
    configs,
    real,
    num_real,
    oracle=None,
    vocabulary_size=None,
    evaluation_samples=0,
):
    """Seconds to train one run of each of `configs` and to sample and
    score `evaluation_samples` sequences after each, from the measured
    cost on this machine of one MLE step, one D step, one policy-gradient
    step (with its rollouts) and of sampling and scoring
    (`step_costs`, `run_seconds`).

    `real` is a batch of real sequences (int32 [B, T]) of the task,
    `num_real` the training set's size, `oracle` the oracle of an oracle
    task, `vocabulary_size` that of a text task; the first config must
    train a discriminator (its models are the ones timed)."""
    costs = step_costs(configs[0], real, oracle, vocabulary_size)
    return sum(
        run_seconds(costs, config, num_real, evaluation_samples)
        for config in configs
    )


def family_seconds(
    method_config,
    stage_configs,
    methods,
    real,
    num_real,
    evaluation_samples,
    oracle=None,
    vocabulary_size=None,
):
    """Seconds to train and evaluate one seed of `methods`: a method that
    starts from a shared stage counts only its own epochs, each stage
    counts once (runs already evaluated are not skipped). Steps are timed
    once per kind of models and reward (SeqGAN's, MaliGAN's, RankGAN's and
    LeakGAN's costs differ; PG-BLEU's and the constant reward's are timed as
    SeqGAN's, `run_seconds` scales PG-BLEU's to its one rollout).

    `method_config(method)` gives a method's config, `stage_configs(family)`
    the shared stages ({stage: config}) of a `stages.stage_family`; `real`,
    `num_real`, `oracle`, `vocabulary_size`: see `estimate_seconds`."""
    seqgan = method_config("seqgan")
    measured = {}

    def costs(run):
        own = run.training.reward in ("importance", "rank") or (
            run.generator.kind != "lstm"
        )
        key = (
            (run.generator.kind, run.discriminator.kind, run.training.reward)
            if own
            else "seqgan"
        )
        if key not in measured:
            measured[key] = step_costs(
                run if own else seqgan, real, oracle, vocabulary_size
            )
        return measured[key]

    seconds, used = 0.0, {}
    for method in methods:
        family = stages.stage_family(method)
        shared = stage_configs(family)
        run = method_config(method)
        stage = stages.usable_stage(run, shared)
        if stage is not None:
            for name in stages.STAGES[: stages.STAGES.index(stage) + 1]:
                used[family, name] = shared
            run = stages.after(run, shared[stage])
        seconds += run_seconds(costs(run), run, num_real, evaluation_samples)
    for (family, name), shared in used.items():
        staged = shared[name]
        if name == stages.DISCRIMINATOR:
            staged = stages.after(staged, shared[stages.MLE])
        seconds += run_seconds(costs(staged), staged, num_real)
    return seconds


def step_costs(config, real, oracle=None, vocabulary_size=None):
    """Measured seconds of one step of each kind with `config`'s models:
    {"mle", "d_step", "pg", "per_sample"} (see `estimate_seconds`)."""
    t = config.training
    gan = experiment.build_gan(config, oracle, vocabulary_size)
    batch = np.asarray(real[: t.batch_size])
    labels = np.arange(len(batch), dtype=np.int32) % 2

    def cost(step, repeats=3):
        step()  # trace
        started = time.perf_counter()
        for _ in range(repeats):
            step()
        return (time.perf_counter() - started) / repeats

    def sample_and_score():
        drawn = sampler.sample_many(gan.generator, 1000, seed=(0, 1))
        metrics.nll(oracle or gan.generator, drawn)

    return {
        "mle": cost(lambda: gan.mle_step(batch)),
        "d_step": cost(lambda: gan.discriminator_step(batch, labels)),
        "pg": cost(lambda: gan.policy_gradient_step([1, 2], [3, 4])),
        "per_sample": cost(sample_and_score, 1) / 1000,
    }


def run_seconds(costs, config, num_real, evaluation_samples=0):
    """Seconds of one run of `config` at the `step_costs` measured, with
    `evaluation_samples` sampled and scored after it."""
    c = config.training
    per_sample = costs["per_sample"]
    d_round = per_sample * c.num_negatives + costs["d_step"] * (
        c.discriminator_epochs
        * (min(num_real, c.num_negatives) + c.num_negatives)
        // c.batch_size
    )
    pg_cost = (
        costs["pg"] if c.reward != "bleu" else costs["pg"] / c.num_rollouts
    )
    return (
        c.generator_epochs * (num_real // c.batch_size) * costs["mle"]
        + c.discriminator_rounds * d_round
        + c.adversarial_rounds
        * (c.generator_steps * pg_cost + c.discriminator_steps * d_round)
        + per_sample * evaluation_samples
    )
