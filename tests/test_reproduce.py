"""Reproducing Table 1: configs per method, statistics, resumable runs."""

import json
import subprocess

import numpy as np
import pytest
from conftest import CLI
from conftest import kill_when_written
from scipy import stats

from seqgan_tf import report
from seqgan_tf import sampler
from seqgan_tf.experiment import build_oracle
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

    def pooled(method, present):
        return np.concatenate(
            [
                np.load(
                    tmp_path / method / f"seed_{s}" / table1.SEQUENCE_NLL_FILE
                )
                for s in present
            ]
        ).astype(np.float64)

    expected = stats.ttest_ind(
        pooled("seqgan", seeds), pooled("mle", (0, 1)), equal_var=False
    )
    assert mle["t_vs_seqgan"] == pytest.approx(expected.statistic)
    assert mle["p_vs_seqgan"] == pytest.approx(expected.pvalue)
    table1.write_tables(table, tmp_path)
    markdown = (tmp_path / "table1.md").read_text()
    assert "2/3 (missing [2])" in markdown
    assert len((tmp_path / "table1.csv").read_text().splitlines()) == 3


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
def test_reproduce_tiny_writes_every_file_and_a_killed_run_resumes(tmp_path):
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

    # Killed in the middle, then run again: the same table.
    methods = ("--methods", "mle,seqgan,pg_bleu")
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
