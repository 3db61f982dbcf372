"""What the reproductions of the paper's tables share: resumable
(method, seed) runs, seed statistics, the seed-level test behind every
p-value of their tables and table output."""

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


def mean_sd(values):
    """(mean, sample standard deviation) of per-seed values; None where
    there are too few values."""
    values = [v for v in values if v is not None]
    mean = float(np.mean(values)) if values else None
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return mean, sd


# What every p-value of a reproduction table is (the tables' JSON keeps
# it as `statistics`, their columns say "Welch over seeds").
SEED_TEST = (
    "Welch's t-test over seeds: scipy.stats.ttest_ind(equal_var=False) "
    "of the two rows' per-seed values of {key} (one value per seed, the "
    "mean over that seed's samples), unpaired; two-sided p, none with "
    "fewer than 2 seeds on either side"
)
# The keys of a row's seed-level statistics against `name`.
T_KEY = "seed_welch_t_vs_{name}"
P_KEY = "seed_welch_p_vs_{name}"
# The statistics of tables built before the seed-level test: Welch's test
# over the pooled per-sequence values of every seed (within-run sampling
# noise, not replication); dropped when such a table is rebuilt.
POOLED_KEYS = (
    "t_vs_seqgan",
    "p_vs_seqgan",
    "t_vs_mle",
    "p_vs_mle",
    "t_vs_matched",
    "p_vs_matched",
)


def seed_welch(reference, values):
    """The seed-level test of every reproduction table: Welch's t-test
    (`scipy.stats.ttest_ind(equal_var=False)`) of the reference row's
    per-seed values against another row's (one value per seed, e.g. each
    seed's NLL-oracle: the mean over its 100,000 samples). Returns (t,
    two-sided p); (None, None) with fewer than 2 values on either side or
    when the test is undefined (both sides without spread).

    The seed is the unit of replication: a seed's training data,
    initialisation and sampling streams are one draw of the experiment,
    and its thousands of evaluated sequences measure that draw, not
    another. (The tables used to pool every seed's per-sequence values;
    with 300,000 sequences that test measures within-run sampling noise
    and calls any difference significant. It is not kept.)

    Unpaired, deliberately, although the methods of a seed often start
    from the same shared MLE / D stage checkpoints (`stages`) and a
    paired test (`scipy.stats.ttest_rel` over the seeds both rows have)
    would then be defensible:

    - one test for every row and every table: what two rows of a seed
      share differs pair by pair (both stages, the MLE stage only,
      nothing when RankGAN trains from scratch or LeakGAN from its own
      stages, the whole generator for a matched MLE row), and a column
      should not change its test row by row;
    - it needs only each row's mean, sd and number of seeds, so it
      rebuilds the tables whose per-seed results were not kept
      (`seed_welch_from_summaries`), where no paired test can;
    - with 3 seeds a paired test has 2 degrees of freedom; when a shared
      stage correlates two rows' seeds positively, leaving the pairing
      out overstates the variance of their difference (conservative).
      On the family table the two disagree either way (RankGAN against
      SeqGAN: p = 0.028 unpaired, 0.009 paired; SeqGAN against MLE:
      0.0006 and 0.004), so neither is the "more significant" choice.
    """
    reference = [float(v) for v in reference if v is not None]
    values = [float(v) for v in values if v is not None]
    if len(reference) < 2 or len(values) < 2:
        return None, None
    if np.ptp(reference) == 0 and np.ptp(values) == 0:
        return None, None  # no spread on either side: t is undefined
    result = stats.ttest_ind(reference, values, equal_var=False)
    return _finite(result.statistic), _finite(result.pvalue)


def seed_welch_from_summaries(reference, other):
    """`seed_welch` from each side's (mean, sample sd, number of seeds),
    e.g. a table row's: `scipy.stats.ttest_ind_from_stats(equal_var=False)`
    gives the same t and p as the test on the values. For tables whose
    per-seed results were not kept."""
    if reference is None or other is None:
        return None, None
    (m1, s1, n1), (m2, s2, n2) = reference, other
    if None in (m1, s1, m2, s2) or min(n1, n2) < 2 or s1 == s2 == 0:
        return None, None
    result = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=False)
    return _finite(result.statistic), _finite(result.pvalue)


def _finite(value):
    value = float(value)
    return value if np.isfinite(value) else None


def seed_statistics(rows, references, key, per_seed=None):
    """Writes the seed-level test of each row against its references into
    the rows: `references(method)` gives [(name, reference method)], the
    row gets `T_KEY` and `P_KEY` of each name (None where a side has
    fewer than 2 seeds or is missing, on the reference's own row and where
    the reference is None). `per_seed`, {method: [value per seed
    present]}, are the values tested (`seed_welch`); without it each row's
    mean, sd and seed count of `key` are (`seed_welch_from_summaries`: a
    table whose per-seed results were not kept)."""
    by_method = {row["method"]: row for row in rows}

    def summary(row):
        if row is None:
            return None
        return row.get(key), row.get(f"{key}_sd"), row.get("seeds", 0)

    for row in rows:
        for name, reference in references(row["method"]):
            if reference in (None, row["method"]):
                t, p = None, None
            elif per_seed is not None:
                t, p = seed_welch(
                    per_seed.get(reference, []),
                    per_seed.get(row["method"], []),
                )
            else:
                t, p = seed_welch_from_summaries(
                    summary(by_method.get(reference)), summary(row)
                )
            row[T_KEY.format(name=name)] = t
            row[P_KEY.format(name=name)] = p
    return rows


def rebuilt_from_summaries(path, references, key, log=print):
    """A table (its JSON at `path`) whose per-seed results were not kept
    (the first `fast` reproductions committed only their tables), with
    its statistics rebuilt: the pooled per-sequence ones dropped
    (`POOLED_KEYS`), the seed-level test from each row's mean, sd and
    seed count (`seed_statistics`), `statistics` saying so. None when
    there is no such table."""
    path = pathlib.Path(path)
    if not path.exists():
        return None
    table = runs.read_json(path)
    for row in table["rows"]:
        for name in POOLED_KEYS:
            row.pop(name, None)
    seed_statistics(table["rows"], references, key)
    table["statistics"] = SEED_TEST.format(key=key) + (
        " (from each row's mean, sd and number of seeds: "
        "scipy.stats.ttest_ind_from_stats)"
    )
    if log:
        log(
            f"No run in {path.parent} has a protocol: the statistics of "
            f"{path.name} are rebuilt from its rows' means, sds and seeds."
        )
    return table


def seeds_cell(row, seeds):
    """'3/3', or '2/3 (missing [1])' for a row with missing runs."""
    text = f"{row['seeds']}/{len(seeds)}"
    if not row["complete"]:
        text += f" (missing {row['missing_seeds']})"
    return text


def markdown_table(header, rows):
    """The lines of a Markdown table: `header`, the column titles, and
    `rows`, one list of cells (strings) per row.

    The reproductions' tables keep to about 7 columns, the key ones first:
    the docs site shows about that many columns of numbers whole at
    1280 px, a phone the first few. Wider ones are split into tables that
    share their first column."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines


def pending_lines(rows, name="method"):
    """The line after a table naming its rows that no seed has finished
    yet (rows with `seeds` 0, left out of the table: every cell of theirs
    would be '-'); [] when every row has a result."""
    pending = [row[name] for row in rows if not row["seeds"]]
    if not pending:
        return []
    return [
        "",
        "Not run yet (no seed finished): "
        + ", ".join(f"`{method}`" for method in pending)
        + ".",
    ]


def format_value(value, digits=3):
    """A table cell: '-' for None, small values in scientific notation."""
    if value is None:
        return "-"
    if value == 0.0:
        return "0"
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
