"""The discriminator study on the tiny preset: every round's line, the
regimes' real halves, the validated regime's kept weights, resumption
after a stop, the table and its rebuild, the fixed regime's first round
equal to the schedule's own D pretraining; the plateau rule and the
AUC."""

import json
import math

import numpy as np
import pytest
from conftest import MAX_TABLE_COLUMNS
from conftest import markdown_tables

from seqgan_tf import experiment
from seqgan_tf import runs
from seqgan_tf.reproduce import discriminator_study as study_lib
from seqgan_tf.reproduce import stages
from seqgan_tf.reproduce import table1

STUDY = study_lib.Study(schedule="tiny_family", probe_samples=64)
ROUNDS = 3
# No plateau within the test's rounds: every regime runs all of them.
WINDOW = ROUNDS + 1


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    """The tiny schedule's MLE stage, trained once for the module."""
    output = tmp_path_factory.mktemp("stages")
    return study_lib.mle_stage(STUDY, output, log=None)


@pytest.fixture(scope="module")
def study(tmp_path_factory, stage):
    """(output, results, curves) of every (model, regime) for 3 rounds."""
    output = tmp_path_factory.mktemp("study")
    results = tmp_path_factory.mktemp("results")
    curves = study_lib.run_study(
        STUDY,
        output,
        rounds=ROUNDS,
        stages_output=stage.parents[2],
        results=results,
        window=WINDOW,
        log=None,
    )
    return output, results, curves


@pytest.mark.slow
def test_every_round_writes_one_line_with_every_measurement(study):
    output, _, curves = study
    assert set(curves) == {
        (m, r) for m in study_lib.MODELS for r in study_lib.REGIMES
    }
    for (model, regime), rows in curves.items():
        directory = study_lib.regime_dir(output, model, regime)
        lines = (directory / study_lib.ROUNDS_FILE).read_text().splitlines()
        assert [json.loads(line) for line in lines] == rows
        assert [row["round"] for row in rows] == [1, 2, 3]
        expected = set(study_lib.ROUND_KEYS)
        if regime == "validated":
            expected |= set(study_lib.VALIDATED_KEYS)
        for row in rows:
            assert set(row) == expected, (model, regime)
            assert row["seconds"] >= row["train_seconds"] > 0
            assert 0.0 <= row["heldout_auc"] <= 1.0
            assert row["negatives"] == 256  # the tiny preset's
            assert not row["plateaued"]
        # Consecutive D epochs after the 2 MLE epochs, as the schedule's
        # own D rounds.
        assert [row["epoch"] for row in rows] == [2, 3, 4]


@pytest.mark.slow
def test_fresh_positives_differ_every_round_and_fixed_ones_do_not(study):
    _, _, curves = study
    for model in study_lib.MODELS:
        fresh = [r["positives_digest"] for r in curves[model, "fresh"]]
        assert len(set(fresh)) == ROUNDS
        # 256 real sequences, 256 negatives: every real one, every round.
        fixed = [r["positives_digest"] for r in curves[model, "fixed"]]
        assert len(set(fixed)) == 1
        validated = curves[model, "validated"]
        # 10% of the 256 held out.
        assert {r["positives"] for r in validated} == {230}
        assert len({r["positives_digest"] for r in validated}) == 1
        assert set(fixed).isdisjoint(r["positives_digest"] for r in validated)


@pytest.mark.slow
def test_validated_keeps_the_weights_of_its_best_round(study, stage):
    output, _, curves = study
    for model in study_lib.MODELS:
        rows = curves[model, "validated"]
        accuracies = [row["validation_accuracy"] for row in rows]
        best = int(np.argmax(accuracies)) + 1  # the first of equal ones
        last = rows[-1]
        assert last["best_round"] == best
        assert last["best_validation_accuracy"] == accuracies[best - 1]
        assert last["best_probe"] == {
            k: rows[best - 1][k] for k in study_lib.BEST_PROBE_KEYS
        }
        directory = study_lib.regime_dir(output, model, "validated")
        kept = sorted((directory / study_lib.BEST_DIR).iterdir())
        assert kept == [study_lib.best_weights_path(directory, best)]
        gan, number = study_lib.best_discriminator(STUDY, output, model, stage)
        assert number == best
        # The kept weights are the best round's checkpoint's (all 3 are
        # kept) ...
        restored, real = study_lib.build(STUDY, model, stage)
        runs.restore(restored, directory, runs.checkpoint_path(directory, best))
        for kept_weight, round_weight in zip(
            gan.discriminator.get_weights(),
            restored.discriminator.get_weights(),
        ):
            np.testing.assert_array_equal(kept_weight, round_weight)
        # ... and score the validation split as logged.
        data = study_lib.regime_data(STUDY, gan, "validated", real)
        accuracy, _ = study_lib.validation_scores(gan.discriminator, data)
        assert accuracy == pytest.approx(last["best_validation_accuracy"])


@pytest.mark.slow
def test_a_stopped_regime_goes_on_with_exactly_one_more_round(tmp_path, stage):
    arguments = dict(stage=stage, window=WINDOW, log=None)
    stopped, whole = tmp_path / "stopped", tmp_path / "whole"
    for model, regime in (("discriminator", "fixed"), ("ranker", "fresh")):
        first = study_lib.run_regime(
            STUDY, model, regime, stopped, rounds=1, **arguments
        )
        assert len(first) == 1
        # Finished: running it again with as many rounds does nothing.
        again = study_lib.run_regime(
            STUDY, model, regime, stopped, rounds=1, **arguments
        )
        assert again == first
        resumed = study_lib.run_regime(
            STUDY, model, regime, stopped, rounds=2, **arguments
        )
        assert len(resumed) == 2 and resumed[0] == first[0]
        assert (
            study_lib.read_rounds(study_lib.regime_dir(stopped, model, regime))
            == resumed
        )
        # The same second round as a run that never stopped.
        uninterrupted = study_lib.run_regime(
            STUDY, model, regime, whole, rounds=2, **arguments
        )
        for key in (*study_lib.BEST_PROBE_KEYS, "d_loss", "positives_digest"):
            a, b = resumed[1][key], uninterrupted[1][key]
            if isinstance(a, str) or a is None:
                assert a == b, key
            else:
                assert a == pytest.approx(b, rel=1e-4, abs=1e-5), key


@pytest.mark.slow
def test_the_table_and_figure_and_their_rebuild(study, tmp_path):
    output, results, _ = study
    for name in (
        study_lib.TABLE_MD,
        study_lib.TABLE_JSON,
        study_lib.PLOT_FILE,
        study_lib.STUDY_FILE,
    ):
        assert (results / name).exists(), name
    table = json.loads((results / study_lib.TABLE_JSON).read_text())
    assert len(table["runs"]) == 6
    for entry in table["runs"]:
        # Round 1 and the last (3); rounds 5, 10, ... were not run.
        assert [row["round"] for row in entry["rows"]] == [1, 3]
    markdown = (results / study_lib.TABLE_MD).read_text()
    assert "## ranker" in markdown and "kept checkpoint" in markdown
    # Every table is narrow enough for the docs site (key columns first).
    for header, rows in markdown_tables(markdown):
        assert len(header) <= MAX_TABLE_COLUMNS, header
        assert all(len(cells) == len(header) for cells in rows)
    # --table-only from the committed folder alone gives the same table.
    rebuilt = study_lib.write_results(tmp_path / "no_output", results)
    assert rebuilt == table
    # Another study's settings are refused in the same output.
    with pytest.raises(runs.RunError, match="probe_samples"):
        study_lib.check_settings(
            study_lib.Study(schedule="tiny_family", probe_samples=32), output
        )


def test_a_plateau_is_a_window_of_small_moves_of_both_measurements():
    def rows(accuracy, spearman):
        return [
            {"d_heldout_accuracy": a, "heldout_auc": a, "d_optimal_spearman": s}
            for a, s in zip(accuracy, spearman)
        ]

    flat = [0.8, 0.802, 0.801, 0.804, 0.803]
    assert study_lib.plateaued(rows(flat, flat), "discriminator")
    assert study_lib.plateaued(rows(flat, flat), "ranker")
    assert not study_lib.plateaued(rows(flat[1:], flat[1:]), "discriminator")
    moving = [0.8, 0.802, 0.801, 0.804, 0.806]
    assert not study_lib.plateaued(rows(flat, moving), "discriminator")
    assert not study_lib.plateaued(rows(moving, flat), "discriminator")
    missing = rows(flat, flat)
    missing[2]["d_optimal_spearman"] = None
    assert not study_lib.plateaued(missing, "discriminator")
    assert study_lib.finished(rows(flat[:2], moving[:2]), "ranker", 2)


def test_auc_is_the_share_of_real_above_fake_pairs():
    assert study_lib.separation_auc([2.0, 3.0], [0.0, 1.0]) == 1.0
    assert study_lib.separation_auc([0.0], [1.0]) == 0.0
    # (3 > 1, 3 > 2, 1 = 1 half, 1 < 2) / 4
    assert study_lib.separation_auc([3.0, 1.0], [1.0, 2.0]) == 0.625
    assert math.isnan(study_lib.separation_auc([], [1.0]))


@pytest.mark.slow
def test_the_fixed_regimes_first_round_is_the_schedules_d_pretraining(
    study, stage
):
    output, _, _ = study
    configs = table1.stage_configs(STUDY.schedule, STUDY.seed)
    pretrained = experiment.restore_run(
        stages.ensure_stage(
            configs, stages.DISCRIMINATOR, stage.parents[2], log=None
        )
    ).gan
    gan, _ = study_lib.build(STUDY, "discriminator", stage)
    directory = study_lib.regime_dir(output, "discriminator", "fixed")
    runs.restore(gan, directory, runs.checkpoint_path(directory, 1))
    for ours, theirs in zip(
        gan.discriminator.get_weights(),
        pretrained.discriminator.get_weights(),
    ):
        np.testing.assert_array_equal(ours, theirs)
