"""Reproducing Table 1: configs per method, statistics, resumable runs."""

import csv
import json
import subprocess

import numpy as np
import pytest
from conftest import CLI
from conftest import MAX_TABLE_COLUMNS
from conftest import kill_when_written
from conftest import markdown_tables
from scipy import stats

from seqgan_tf import report
from seqgan_tf import runs
from seqgan_tf import sampler
from seqgan_tf import schedule
from seqgan_tf.experiment import build_oracle
from seqgan_tf.reproduce import common
from seqgan_tf.reproduce import stages
from seqgan_tf.reproduce import table1

TINY = table1.SCHEDULES["tiny"]


def test_every_method_has_a_valid_config():
    for method in table1.METHODS:
        config = table1.method_config(TINY, method, 0)
        assert config.seed == 0
    mle = table1.method_config(TINY, "mle", 0).training
    assert mle.adversarial_rounds == 0 and mle.generator_epochs == 2
    equal = table1.method_config(TINY, "mle_equal_updates", 0).training
    # 2 adversarial updates, rounded up to a whole epoch of MLE steps.
    assert equal.generator_epochs == 3
    ss = table1.method_config(TINY, "scheduled_sampling", 0).training
    assert ss.scheduled_sampling_decrement == pytest.approx(0.3)
    untrained = table1.method_config(
        TINY, "seqgan_untrained_discriminator", 0
    ).training
    assert untrained.discriminator_rounds == untrained.discriminator_steps == 0
    frozen = table1.method_config(
        TINY, "seqgan_frozen_pretrained_discriminator", 0
    ).training
    assert (frozen.discriminator_rounds, frozen.discriminator_steps) == (1, 0)
    baseline = table1.method_config(TINY, "seqgan_reward_baseline", 0)
    assert baseline.training.reward_baseline == "batch_mean"
    fresh = table1.method_config(TINY, "seqgan_fresh_real", 0)
    assert fresh.training.adversarial_real == "fresh"
    assert (
        table1.method_config(TINY, "random", 0).training.generator_epochs == 0
    )


def test_paper_schedule_trains_baselines_as_the_authors_older_code():
    paper = table1.SCHEDULES["paper"]

    def config(method):
        return table1.method_config(paper, method, 0)

    mle, ss, pg_bleu, seqgan = map(
        config, ("mle", "scheduled_sampling", "pg_bleu", "seqgan")
    )
    assert mle.training.generator_epochs == 350
    assert ss.training.generator_epochs == 300
    assert ss.training.scheduled_sampling_decrement == pytest.approx(0.002)
    assert pg_bleu.training.generator_epochs == 200
    assert pg_bleu.training.adversarial_rounds == 800
    for baseline in (mle, ss, pg_bleu):
        assert baseline.generator.learning_rate == pytest.approx(0.001)
    # SeqGAN as the authors' current code: the paper preset.
    assert (
        seqgan.training.generator_epochs,
        seqgan.training.discriminator_rounds,
        seqgan.training.adversarial_rounds,
    ) == (120, 50, 200)
    assert seqgan.generator.learning_rate == pytest.approx(0.01)


@pytest.mark.slow
def test_nll_test_data_is_disjoint_from_the_training_data():
    config = table1.method_config(TINY, "seqgan", 4)
    training = sampler.sample_many(
        build_oracle(config), config.data.num_real, seed=(config.seed, 0)
    )
    test = table1.test_data(config, 128)
    assert table1.TEST_DATA_STREAM != 0
    assert not {tuple(r) for r in test} & {tuple(r) for r in training}


def _fake_results(tmp_path, methods, seeds, missing=()):
    rng = np.random.default_rng(0)
    results = {}
    for index, method in enumerate(methods):
        for seed in seeds:
            if (method, seed) in missing:
                continue
            values = rng.normal(5.0 + 0.1 * index, 1.0, 50)
            run_dir = tmp_path / method / f"seed_{seed}"
            run_dir.mkdir(parents=True)
            np.save(
                run_dir / table1.SEQUENCE_NLL_FILE, values.astype(np.float32)
            )
            results[method, seed] = {
                "nll_oracle": float(values.astype(np.float32).mean()),
                "nll_test": 3.0 + seed,
                "curve": [],
            }
    return results


def test_statistics_equal_scipy_and_missing_runs_are_marked(tmp_path):
    methods, seeds = ("mle", "seqgan"), (0, 1, 2)
    results = _fake_results(tmp_path, methods, seeds, missing={("mle", 2)})
    table = table1.build_table(results, methods, seeds, tmp_path)
    mle, seqgan = table["rows"]
    assert (mle["seeds"], mle["complete"], mle["missing_seeds"]) == (
        2,
        False,
        [2],
    )
    assert seqgan["complete"]
    means = [results["seqgan", s]["nll_oracle"] for s in seeds]
    assert seqgan["nll_oracle"] == pytest.approx(np.mean(means))
    assert seqgan["nll_oracle_sd"] == pytest.approx(stats.tstd(means))
    table1.write_tables(table, tmp_path)
    markdown = (tmp_path / "table1.md").read_text()
    assert "2/3 (missing [2])" in markdown
    assert len((tmp_path / "table1.csv").read_text().splitlines()) == 3


def _seed_results(methods, seeds, missing=()):
    """Protocol results of fabricated runs: each seed's NLL-oracle only
    (the seed-level test reads nothing else)."""
    rng = np.random.default_rng(7)
    return {
        (method, seed): {
            "nll_oracle": float(9.0 + 0.05 * index + rng.normal(0, 0.03)),
            "nll_test": 7.8,
            "curve": [],
        }
        for index, method in enumerate(methods)
        for seed in seeds
        if (method, seed) not in missing
    }


def test_the_p_value_is_welch_over_the_seeds_means(tmp_path):
    methods, seeds = ("mle", "seqgan", "rankgan"), (0, 1, 2, 3)
    results = _seed_results(methods, seeds, missing={("rankgan", 3)})
    table = table1.build_table(results, methods, seeds, tmp_path)
    rows = {row["method"]: row for row in table["rows"]}

    def values(method):
        return [
            results[method, s]["nll_oracle"]
            for s in seeds
            if (method, s) in results
        ]

    # Computed here, apart from the library: scipy on the seeds' values.
    for method, reference in (
        ("mle", "seqgan"),
        ("rankgan", "seqgan"),
        ("seqgan", "mle"),
        ("rankgan", "mle"),
    ):
        expected = stats.ttest_ind(
            values(reference), values(method), equal_var=False
        )
        row = rows[method]
        assert row[f"seed_welch_t_vs_{reference}"] == pytest.approx(
            expected.statistic
        )
        assert row[f"seed_welch_p_vs_{reference}"] == pytest.approx(
            expected.pvalue
        )
    # Unpaired: pairing rankgan's 3 seeds with SeqGAN's gives another p.
    paired = stats.ttest_rel(values("seqgan")[:3], values("rankgan"))
    assert rows["rankgan"]["seed_welch_p_vs_seqgan"] != pytest.approx(
        paired.pvalue
    )
    assert rows["seqgan"]["seed_welch_p_vs_seqgan"] is None
    assert rows["mle"]["seed_welch_p_vs_mle"] is None
    assert "Welch" in table["statistics"] and "seed" in table["statistics"]
    table1.write_tables(table, tmp_path)
    markdown = (tmp_path / "table1.md").read_text()
    assert "p vs SeqGAN (Welch over seeds)" in markdown
    p = rows["mle"]["seed_welch_p_vs_seqgan"]
    assert f"| {common.format_value(p)} |" in markdown


def test_the_seed_level_test_is_not_the_pooled_one(tmp_path):
    # 50 sequences a seed: pooling them tests the sampling noise of the
    # runs, a far smaller p than the 3 seeds' means give.
    methods, seeds = ("mle", "seqgan"), (0, 1, 2)
    results = _fake_results(tmp_path, methods, seeds)
    table = table1.build_table(results, methods, seeds, tmp_path)
    p = table["rows"][0]["seed_welch_p_vs_seqgan"]

    def pooled(method):
        return np.concatenate(
            [
                np.load(
                    tmp_path / method / f"seed_{s}" / table1.SEQUENCE_NLL_FILE
                )
                for s in seeds
            ]
        ).astype(np.float64)

    means = {m: [results[m, s]["nll_oracle"] for s in seeds] for m in methods}
    assert p == pytest.approx(
        stats.ttest_ind(means["seqgan"], means["mle"], equal_var=False).pvalue
    )
    within_runs = stats.ttest_ind(
        pooled("seqgan"), pooled("mle"), equal_var=False
    ).pvalue
    assert p != pytest.approx(within_runs)


def test_a_table_of_one_seed_shows_no_p_value(tmp_path):
    methods = ("mle", "seqgan", "pg_bleu")
    results = _seed_results(methods, (0,))
    table = table1.build_table(results, methods, (0,), tmp_path)
    for row in table["rows"]:
        assert row["seed_welch_p_vs_seqgan"] is None
        assert row["seed_welch_t_vs_mle"] is None
    table1.write_tables(table, tmp_path)
    markdown = (tmp_path / "table1.md").read_text()
    first = markdown.splitlines()[2]
    assert first.startswith("| mle |") and first.endswith("| 9.038 | 1/1 |")
    # No table of dashes: one line says there is no test yet.
    assert "no row has a p-value yet." in markdown
    assert len(markdown_tables(markdown)) == 1


def test_the_table_is_split_the_values_before_the_tests(tmp_path):
    # A parent column would make 8 columns: the values and the tests are
    # two tables, each led by the method.
    methods, seeds = ("mle", "maligan", "maligan_uniform_weights"), (0, 1, 2)
    results = _seed_results(methods, seeds)
    table = table1.build_table(results, methods, seeds, tmp_path)
    table1.write_tables(table, tmp_path)
    tables = markdown_tables((tmp_path / "table1.md").read_text())
    (values, value_rows), (tests, test_rows) = tables[:2]
    assert values == [
        "method",
        "NLL-oracle (mean ± sd)",
        "NLL-test (mean ± sd)",
        "paper",
        "seeds",
    ]
    assert tests == [
        "method",
        "p vs SeqGAN (Welch over seeds)",
        "p vs MLE (Welch over seeds)",
        "p vs its parent row (Welch over seeds)",
    ]
    rows = {row["method"]: row for row in table["rows"]}
    f = common.format_value
    uniform = rows["maligan_uniform_weights"]
    assert value_rows[2] == [
        "maligan_uniform_weights",
        f"{f(uniform['nll_oracle'])} ± {f(uniform['nll_oracle_sd'])}",
        f"{f(uniform['nll_test'])} ± {f(uniform['nll_test_sd'])}",
        "-",
        "3/3",
    ]
    assert test_rows[2] == [
        "maligan_uniform_weights",
        "-",
        f(uniform["seed_welch_p_vs_mle"]),
        f"{f(uniform['seed_welch_p_vs_parent'])} (maligan)",
    ]
    for header, body in tables:
        assert len(header) <= MAX_TABLE_COLUMNS
        assert all(len(cells) == len(header) for cells in body)


def test_rows_no_seed_finished_are_named_not_tabled(tmp_path):
    methods, seeds = ("mle", "pg_bleu", "seqgan", "seqgan_fresh_real"), (0, 1)
    missing = {(m, s) for m in methods[2:] for s in seeds} | {("pg_bleu", 1)}
    results = _seed_results(methods, seeds, missing=missing)
    table = table1.build_table(results, methods, seeds, tmp_path)
    table1.write_tables(table, tmp_path)
    markdown = (tmp_path / "table1.md").read_text()
    assert (
        "Not run yet (no seed finished): `seqgan`, `seqgan_fresh_real`."
        in markdown
    )
    tables = markdown_tables(markdown)
    for _, body in tables:
        assert [cells[0] for cells in body] == ["mle", "pg_bleu"]
    # A row with a seed stays, its missing seeds said.
    assert tables[0][1][1][-1] == "1/2 (missing [1])"
    assert len(table["rows"]) == 4  # the JSON keeps every row


def test_the_probe_table_is_split_in_two(tmp_path):
    methods, seeds = ("mle", "seqgan"), (0, 1)
    results = _seed_results(methods, seeds)
    table = table1.build_table(results, methods, seeds, tmp_path)
    seqgan = table["rows"][1]
    for index, key in enumerate(schedule.PROBE_KEYS):
        seqgan[f"{key}_pretrained"] = 0.1 * index
        seqgan[f"{key}_final"] = 0.5
    table1.write_tables(table, tmp_path)
    tables = markdown_tables((tmp_path / "table1.md").read_text())
    probe = [t for t in tables if t[0][1].startswith(("P(real)", "Spearman"))]
    assert len(probe) == 2
    cells = {
        title: cell
        for header, body in probe
        for title, cell in zip(header[1:], body[0][1:])
    }
    assert len(cells) == len(schedule.PROBE_KEYS)
    assert cells["held-out accuracy"] == "0.300 → 0.500"
    assert cells["logit vs optimal, Pearson"] == "0.600 → 0.500"
    for header, body in tables:
        assert len(header) <= MAX_TABLE_COLUMNS


def _write_metrics(run_dir, rows):
    """A run's metrics.csv of `rows` ({column: value}, the rest empty)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / runs.METRICS_CSV, "w", newline="") as handle:
        writer = csv.DictWriter(handle, runs.METRIC_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.slow
def test_the_trajectory_plots_every_method_on_whole_rounds(tmp_path):
    discriminator = schedule.PHASES.index("discriminator")
    adversarial = schedule.PHASES.index("adversarial")

    def probed(epochs, phase, **values):
        return [
            dict(epoch=e, phase=phase, d_heldout_accuracy=0.5, **values)
            for e in epochs
        ]

    def rounds(start, count):
        return [
            dict(epoch=start + k, phase=adversarial, nll_oracle=9.0 - k / 10)
            for k in range(count)
        ]

    # As the authors table so far: 3 and 1 rounds of the shared D
    # pretraining, and PG-BLEU, whose discriminator is never trained
    # (what its probe logs means nothing).
    for seed, count in ((0, 3), (1, 1)):
        stage = stages.stage_dir(tmp_path, seed, stages.DISCRIMINATOR)
        _write_metrics(stage, probed(range(10, 10 + count), discriminator))
        _write_metrics(
            tmp_path / "pg_bleu" / f"seed_{seed}",
            [{**row, "d_heldout_accuracy": 0.5} for row in rounds(10, 21)],
        )
    methods, seeds = ("mle", "pg_bleu", "seqgan"), (0, 1)
    figure = table1.plot_trajectory(
        tmp_path, methods, seeds, tmp_path / "trajectory.png"
    )
    assert (tmp_path / "trajectory.png").stat().st_size > 0
    # Too few probed rounds: no accuracy panel.
    assert len(figure.axes) == 2
    nll = figure.axes[0]
    assert nll.get_legend_handles_labels()[1] == ["pg_bleu", "the authors' log"]
    assert len(nll.get_lines()) == 3  # each seed of PG-BLEU and the log
    # SeqGAN after its D pretraining, probed every round: the panel.
    _write_metrics(
        tmp_path / "seqgan" / "seed_0",
        probed((10, 11, 12), discriminator)
        + [{**row, "d_heldout_accuracy": 0.6} for row in rounds(13, 3)],
    )
    figure = table1.plot_trajectory(
        tmp_path, methods, seeds, tmp_path / "trajectory.png"
    )
    assert len(figure.axes) == 3
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert labels == ["pg_bleu", "seqgan", "the authors' log"]
    accuracy = figure.axes[2]
    assert accuracy.get_legend_handles_labels()[1] == [
        "shared D pretraining",
        "seqgan",
    ]
    seqgan = [line for line in accuracy.get_lines() if line.get_marker() == "o"]
    assert [list(line.get_xdata()) for line in seqgan][-1] == [
        -3,
        -2,
        -1,
        0,
        1,
        2,
    ]
    for axes in figure.axes:
        ticks = axes.get_xticks()
        assert all(float(t).is_integer() for t in ticks), ticks


def test_seed_welch_needs_two_seeds_a_side():
    assert common.seed_welch([1.0, 2.0], [3.0]) == (None, None)
    assert common.seed_welch([1.0, None], [3.0, 4.0]) == (None, None)
    assert common.seed_welch([1.0, 1.0], [1.0, 1.0]) == (None, None)
    t, p = common.seed_welch([1.0, 2.0, 3.0], [2.0, 4.0])
    expected = stats.ttest_ind([1.0, 2.0, 3.0], [2.0, 4.0], equal_var=False)
    assert (t, p) == pytest.approx((expected.statistic, expected.pvalue))


def test_the_test_from_summaries_equals_the_test_on_the_values():
    rng = np.random.default_rng(3)
    for a_size, b_size in ((2, 2), (3, 3), (3, 5)):
        a, b = rng.normal(0, 1, a_size), rng.normal(0.5, 2, b_size)
        summaries = [(np.mean(v), np.std(v, ddof=1), len(v)) for v in (a, b)]
        assert common.seed_welch_from_summaries(*summaries) == pytest.approx(
            common.seed_welch(a, b)
        )
    assert common.seed_welch_from_summaries((1.0, 0.1, 1), (2, 0.1, 3)) == (
        None,
        None,
    )


def test_a_table_committed_without_its_runs_rebuilds_its_statistics(
    tmp_path,
):
    methods, seeds = ("mle", "seqgan", "pg_bleu"), (0, 1, 2)
    results = _seed_results(methods, seeds)
    table = table1.build_table(results, methods, seeds, tmp_path)
    # As the first fast table was committed: rows and the pooled test.
    for row in table["rows"]:
        for key in list(row):
            if key.startswith("seed_welch_"):
                del row[key]
        row["p_vs_seqgan"], row["t_vs_seqgan"] = 0.0, -98.3
    del table["statistics"]
    table1.write_tables(table, tmp_path)
    rebuilt = table1.reproduce_table1(
        "tiny", seeds, tmp_path, methods=methods, table_only=True, log=None
    )
    saved = json.loads((tmp_path / "table1.json").read_text())
    assert saved == json.loads(json.dumps(rebuilt))
    rows = {row["method"]: row for row in saved["rows"]}
    mle = [results["mle", s]["nll_oracle"] for s in seeds]
    pg_bleu = [results["pg_bleu", s]["nll_oracle"] for s in seeds]
    expected = stats.ttest_ind(mle, pg_bleu, equal_var=False)
    assert rows["pg_bleu"]["seed_welch_p_vs_mle"] == pytest.approx(
        expected.pvalue
    )
    assert rows["pg_bleu"]["seed_welch_t_vs_mle"] == pytest.approx(
        expected.statistic
    )
    assert all("p_vs_seqgan" not in row for row in saved["rows"])
    assert rows["mle"]["nll_oracle"] == table["rows"][0]["nll_oracle"]
    assert "ttest_ind_from_stats" in saved["statistics"]


def _cli(output, *extra):
    return [
        *CLI,
        "reproduce",
        "table1",
        "--schedule",
        "tiny",
        "--seeds",
        "1",
        "--output",
        str(output),
        *extra,
    ]


@pytest.mark.slow
def test_reproduce_tiny_writes_every_file(tmp_path):
    complete = tmp_path / "complete"
    result = subprocess.run(
        _cli(complete), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "about" in result.stdout and "min on this machine" in result.stdout
    for name in (*table1.TABLE_FILES, table1.PLOT_FILE):
        assert (complete / name).stat().st_size > 0, name
    table = json.loads((complete / "table1.json").read_text())
    assert [row["method"] for row in table["rows"]] == list(TINY.methods)
    assert all(row["complete"] for row in table["rows"])
    page = report.write_report(complete).read_text()
    for method in TINY.methods:
        assert f"<td>{method}</td>" in page


@pytest.mark.long
@pytest.mark.slow
def test_a_killed_reproduction_resumes_to_the_same_table(tmp_path):
    # The whole tiny table, then the same killed in the middle and run
    # again. (tests/test_stages.py kills a shorter reproduction in the
    # default run; this one kills the table's own command.)
    complete = tmp_path / "complete"
    methods = ("--methods", "mle,seqgan,pg_bleu")
    result = subprocess.run(
        _cli(complete, *methods), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = json.loads((complete / "table1.json").read_text())
    killed = tmp_path / "killed"
    target = killed / "seqgan" / "seed_0" / "checkpoints" / "checkpoint"
    log = tmp_path / "killed.log"
    code = kill_when_written(_cli(killed, *methods), target, 900, log)
    assert target.exists(), (code, log.read_text()[-3000:])
    assert (killed / "mle" / "seed_0" / table1.PROTOCOL_FILE).exists(), (
        log.read_text()[-3000:]
    )
    assert not (killed / "seqgan" / "seed_0" / table1.PROTOCOL_FILE).exists()
    again = subprocess.run(
        _cli(killed, *methods), capture_output=True, text=True, timeout=900
    )
    assert again.returncode == 0, again.stderr[-3000:]
    resumed = json.loads((killed / "table1.json").read_text())
    reference = {row["method"]: row for row in table["rows"]}
    for row in resumed["rows"]:
        for key in ("nll_oracle", "nll_test"):
            assert row[key] == pytest.approx(
                reference[row["method"]][key], rel=1e-5
            ), (row["method"], key)
