"""Shared stages: a method started from a copy of a seed's MLE or D
pretraining equals the method trained alone; the `authors` schedule is
the `paper` preset; parallel jobs and killed runs give the same table."""

import json
import subprocess

import numpy as np
import pytest
from conftest import CLI
from conftest import kill_when_written

from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import runs
from seqgan_tf.reproduce import stages
from seqgan_tf.reproduce import table1
from seqgan_tf.reproduce import table1_tables

TINY = table1.SCHEDULES["tiny_authors"]
AUTHORS = table1.SCHEDULES["authors"]
RTOL, ATOL = 1e-3, 1e-4  # as the reference-run test


def _differences(method, seed=5):
    """{field: (paper preset, authors schedule)} of one method's run."""
    paper = config_lib.with_overrides(
        config_lib.get_preset("paper"), [f"seed={seed}"]
    )
    config = table1.method_config(AUTHORS, method, seed)
    old = config_lib.flatten(paper.to_dict())
    new = config_lib.flatten(config.to_dict())
    return {k: (old[k], new[k]) for k in old if old[k] != new[k]}


def test_authors_schedule_is_the_paper_preset_but_its_rounds():
    assert _differences("seqgan") == {
        "training.adversarial_rounds": (200, 21),
        "training.probe_samples": (0, 4992),  # evaluation only
    }
    expected = {
        "seqgan_frozen_pretrained_discriminator": {
            "training.discriminator_steps": (5, 0)
        },
        "seqgan_reward_baseline": {
            "training.reward_baseline": ("none", "batch_mean")
        },
        "seqgan_fresh_real": {"training.adversarial_real": ("fixed", "fresh")},
        # Its generator never reads the discriminator: its rounds skip it.
        "seqgan_constant_reward": {
            "training.reward": ("discriminator", "constant"),
            "training.discriminator_steps": (5, 0),
        },
    }
    shared = _differences("seqgan")
    for method, changes in expected.items():
        got = _differences(method)
        assert got == {**shared, **changes}, method
    mle = _differences("mle")
    assert mle["training.discriminator_rounds"] == (50, 0)
    assert mle["training.adversarial_rounds"] == (200, 0)
    assert "training.generator_epochs" not in mle  # the preset's 120


def test_each_method_starts_from_the_last_stage_it_shares():
    configs = table1.stage_configs(AUTHORS, 0)
    assert configs[stages.MLE].training.discriminator_rounds == 0
    assert configs[stages.DISCRIMINATOR].training.discriminator_rounds == 50
    expected = {
        "random": None,  # never trained
        "mle": stages.MLE,
        "mle_equal_updates": stages.MLE,  # 121 epochs: the first 120
        "pg_bleu": stages.MLE,
        "seqgan": stages.DISCRIMINATOR,
        "seqgan_constant_reward": stages.DISCRIMINATOR,
        "seqgan_frozen_pretrained_discriminator": stages.DISCRIMINATOR,
        "seqgan_reward_baseline": stages.DISCRIMINATOR,
        "seqgan_fresh_real": stages.DISCRIMINATOR,
    }
    for method, stage in expected.items():
        config = table1.method_config(AUTHORS, method, 0)
        assert stages.usable_stage(config, configs) == stage, method
    fast = table1.SCHEDULES["fast"]
    configs = table1.stage_configs(fast, 0)
    for method, stage in {
        "scheduled_sampling": None,  # its MLE epochs differ from the start
        "seqgan_untrained_discriminator": stages.MLE,
        "seqgan_delayed_rollout": None,  # a rollout copy in its checkpoint
    }.items():
        config = table1.method_config(fast, method, 0)
        assert stages.usable_stage(config, configs) == stage, method
    # A setting the stage reads makes it unusable.
    seqgan = table1.method_config(AUTHORS, "seqgan", 0)
    other = config_lib.with_overrides(seqgan, ["generator.learning_rate=0.02"])
    assert stages.usable_stage(other, table1.stage_configs(AUTHORS, 0)) is None


def test_the_family_table_shares_each_models_own_stages():
    family = table1.SCHEDULES["family"]
    seqgan_stages = table1.stage_configs(family, 0)
    leakgan_stages = table1.stage_configs(family, 0, "leakgan")
    for method, (family_name, stage) in {
        "mle": (None, stages.MLE),
        "seqgan": (None, stages.DISCRIMINATOR),
        "maligan": (None, stages.DISCRIMINATOR),  # SeqGAN's D pretraining
        "rankgan": (None, None),  # its ranker is another model
        "leakgan": ("leakgan", stages.DISCRIMINATOR),
        "leakgan_unsorted": ("leakgan", stages.DISCRIMINATOR),
    }.items():
        assert table1.stage_family(method) == family_name, method
        config = table1.method_config(family, method, 0)
        configs = leakgan_stages if family_name else seqgan_stages
        assert stages.usable_stage(config, configs) == stage, method
    # LeakGAN's generator never starts from SeqGAN's stages.
    leakgan = table1.method_config(family, "leakgan", 0)
    assert stages.usable_stage(leakgan, seqgan_stages) is None
    assert stages.stage_dir("out", 0, stages.MLE, "leakgan").parts[-3:] == (
        "seed_0",
        "leakgan",
        "mle",
    )


def test_a_point_against_the_mle_curve():
    def result(curve):
        return {
            "curve": [
                {"temperature": t, "nll_test": x, "nll_oracle": y}
                for t, x, y in curve
            ]
        }

    results = {
        ("mle", 0): result([(0.8, 8.0, 8.0), (1.0, 7.0, 9.0)]),
        ("mle", 1): result([(0.8, 8.2, 8.2), (1.0, 7.2, 9.2)]),
        ("better", 0): result([(1.0, 7.5, 8.0)]),
        ("outside", 0): result([(1.0, 6.0, 8.0)]),
    }
    # The MLE curve (mean of its seeds): (7.1, 9.1) to (8.1, 8.1); at
    # NLL-test 7.5 it is 8.7, so a point at 8.0 lies 0.7 below it.
    placed = table1.versus_mle_curve(results, "better", [0, 1])
    assert placed["mle_curve_nll_oracle"] == pytest.approx(8.7)
    assert placed["below_mle_curve_by"] == pytest.approx(0.7)
    assert placed["dominated_by_mle_at"] is None
    outside = table1.versus_mle_curve(results, "outside", [0, 1])
    assert outside["below_mle_curve_by"] is None
    assert outside["dominated_by_mle_at"] is None  # more diverse than all
    results[("worse", 0)] = result([(1.0, 8.5, 8.9)])
    # Beyond the curve's coldest point and worse on both axes than it.
    worse = table1.versus_mle_curve(results, "worse", [0, 1])
    assert worse["below_mle_curve_by"] is None
    assert worse["dominated_by_mle_at"] == 0.8
    # The table marks a point beyond the curve's range as outside.
    rows = [
        {"method": m, **table1.versus_mle_curve(results, m, [0, 1])}
        for m in ("better", "outside")
    ]
    lines = table1_tables._curve_lines(rows)
    assert lines[-2].startswith("| better | 7.500 | 8.000 | 8.700 | 0.700 |")
    assert lines[-1].startswith("| outside | 6.000 | 8.000 | outside | - |")


def test_progress_reads_the_ends_of_pretraining_and_of_the_rounds():
    rows = [
        {"epoch": 0, "phase": 0, "nll_oracle": 9.5, "entropy": 6.0},
        {"epoch": 1, "phase": 0, "nll_oracle": 9.2, "entropy": 5.9},
        {"epoch": 2, "phase": 1},
        {"epoch": 3, "phase": 2, "nll_oracle": 9.0, "entropy": 5.5},
        {"epoch": 4, "phase": 2},
        {"epoch": 5, "phase": 2, "nll_oracle": 8.8, "entropy": 5.2},
    ]
    assert table1.progress(rows) == {
        "pretrained": (9.2, 5.9),
        "last": (8.8, 5.2),
    }
    assert table1.progress(rows[:3]) == {"pretrained": (9.2, 5.9)}


def _weights(run_dir):
    run = experiment.restore_run(run_dir)
    gan = run.gan
    values = {}
    for name in ("generator", "discriminator"):
        for index, w in enumerate(getattr(gan, name).weights):
            values[f"{name}/{index}"] = w.numpy()
    for name in ("g_optimizer", "d_optimizer", "pg_optimizer"):
        for index, w in enumerate(getattr(gan, name).variables):
            values[f"{name}/{index}"] = w.numpy()
    return run, values


@pytest.mark.slow
def test_a_method_from_a_shared_stage_equals_it_trained_alone(tmp_path):
    # SeqGAN starts from the D stage, which itself started from a copy of
    # the MLE stage: both copies are on its path.
    method = "seqgan"
    config = table1.method_config(TINY, method, 3)
    alone = tmp_path / "alone"
    experiment.train(config, alone, verbose=0, log=None)
    shared = tmp_path / "shared"
    run_dir = shared / method / "seed_3"
    stage = stages.start(
        config, run_dir, table1.stage_configs(TINY, 3), shared, log=None
    )
    assert stage == (stages.DISCRIMINATOR if method == "seqgan" else stages.MLE)
    assert stages.is_done(stages.stage_dir(shared, 3, stage))
    experiment.train(config, run_dir, verbose=0, log=None)
    run_a, expected = _weights(alone)
    run_b, got = _weights(run_dir)
    assert run_a.epoch == run_b.epoch == stages.epochs(config)
    assert expected.keys() == got.keys()
    for name, value in expected.items():
        np.testing.assert_allclose(
            got[name], value, rtol=RTOL, atol=ATOL, err_msg=name
        )
    np.testing.assert_array_equal(
        run_a.gan.generator.generate(64, seed=(1, 2)).numpy(),
        run_b.gan.generator.generate(64, seed=(1, 2)).numpy(),
    )
    # The stage's rows are the method's first rows.
    rows = runs.read_metric_rows(run_dir)
    assert [int(r["epoch"]) for r in rows] == list(range(run_a.epoch))


def test_seeding_a_run_is_all_or_nothing(tmp_path):
    source = tmp_path / "source"
    with pytest.raises(runs.RunError, match="no checkpoint"):
        source.mkdir()
        stages.seed_from(source, tmp_path / "run", table1.method_config(
            TINY, "seqgan", 0))  # fmt: skip
    assert not (tmp_path / "run").exists()
    assert not list(tmp_path.glob(".run.*"))


def _cli(output, *extra):
    return [
        *CLI,
        "reproduce",
        "table1",
        "--schedule",
        "tiny_authors",
        "--seeds",
        "1",
        "--methods",
        "mle,seqgan",
        "--output",
        str(output),
        *extra,
    ]


def _table(output):
    return {
        row["method"]: row
        for row in json.loads((output / "table1.json").read_text())["rows"]
    }


def _same_tables(got, expected):
    for method, row in expected.items():
        for key in ("nll_oracle", "nll_test", "d_heldout_accuracy_final"):
            if row[key] is None:
                assert got[method][key] is None
                continue
            assert got[method][key] == pytest.approx(row[key], rel=1e-4), (
                method,
                key,
            )


@pytest.mark.slow
def test_jobs_and_a_killed_reproduction_give_the_same_table(tmp_path):
    one = tmp_path / "one"
    result = subprocess.run(
        _cli(one), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected = _table(one)
    assert all(row["complete"] for row in expected.values())
    for name in (*table1.TABLE_FILES, table1.TRAJECTORY_PLOT):
        assert (one / name).stat().st_size > 0

    two = tmp_path / "two"
    result = subprocess.run(
        _cli(two, "--jobs", "2"), capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "in 2 processes" in result.stdout
    _same_tables(_table(two), expected)

    # Killed inside a shared stage, then inside a method's own rounds.
    killed = tmp_path / "killed"
    stage = stages.stage_dir(killed, 0, stages.DISCRIMINATOR)
    kill_when_written(_cli(killed), stage / "checkpoints" / "checkpoint", 600)
    assert not stages.is_done(stage)
    own = killed / "seqgan" / "seed_0" / "checkpoints" / "checkpoint"
    kill_when_written(_cli(killed), own, 600)
    assert not (killed / "seqgan" / "seed_0" / table1.PROTOCOL_FILE).exists()
    again = subprocess.run(
        _cli(killed), capture_output=True, text=True, timeout=900
    )
    assert again.returncode == 0, again.stderr[-3000:]
    _same_tables(_table(killed), expected)

    # The table alone, from the protocol files copied out (no checkpoints).
    copied = tmp_path / "copied"
    result = subprocess.run(
        _cli(killed, "--table-only", "--copy-results", str(copied)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert not list(copied.rglob("checkpoints"))
    (copied / "table1.json").unlink()
    rebuilt = subprocess.run(
        _cli(copied, "--table-only"), capture_output=True, text=True
    )
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    _same_tables(_table(copied), expected)
