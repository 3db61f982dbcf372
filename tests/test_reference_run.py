"""The `tiny` preset trained through the library gives what the trainer
gave before the library layer existed (tests/fixtures/tiny_reference, see
its README): checkpoint, MLE generator and metrics to float tolerance,
samples token for token, for the same seed."""

import json
import math
import pathlib

import h5py
import numpy as np
import pytest
import tensorflow as tf
from conftest import TINY_SENTENCES

from seqgan_tf import config as config_lib
from seqgan_tf import experiment

REFERENCE = pathlib.Path(__file__).parent / "fixtures" / "tiny_reference"
VARIANTS = sorted(p.name for p in REFERENCE.iterdir() if p.is_dir())
# Float tolerance: the fixture was recorded with Keras' Adam; the trainer's
# FusedAdam computes the same update with a fused kernel whose rounding
# differs, and Adam's normalised steps carry those differences through
# the run's updates.
RTOL, ATOL = 1e-3, 1e-4


def _config(arguments, corpus):
    """The config `seqgan-tf train --preset tiny ARGUMENTS` trains."""
    config = config_lib.get_preset("tiny")
    overrides = []
    arguments = list(arguments)
    while arguments:
        flag, value = arguments.pop(0), arguments.pop(0)
        if flag == "--dataset":
            config = config_lib.for_dataset(config, str(corpus))
        elif flag == "--seed":
            overrides.append(f"seed={value}")
        else:
            assert flag == "--set", flag
            overrides.append(value)
    return config_lib.with_overrides(config, overrides).validate()


def _numbers(text):
    """metrics.csv without its wall-time column, numbers as floats."""
    lines = text.splitlines()
    header = lines[0].split(",")
    rows = []
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        del row["seconds"]
        rows.append(
            {k: (math.nan if v == "" else float(v)) for k, v in row.items()}
        )
    return rows


def _h5_arrays(path):
    arrays = {}
    with h5py.File(path, "r") as handle:
        handle.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_tiny_run_matches_the_reference(variant, tmp_path):
    expected_dir = REFERENCE / variant
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(TINY_SENTENCES * 6) + "\n")
    arguments = json.loads((expected_dir / "args.json").read_text())
    run_dir = tmp_path / "run"
    experiment.train(_config(arguments, corpus), run_dir, verbose=0, log=None)

    # config.json: the same, but for the corpus's path.
    config = json.loads((run_dir / "config.json").read_text())
    expected_config = json.loads((expected_dir / "config.json").read_text())
    config["data"]["dataset"] = expected_config["data"]["dataset"]
    assert config == expected_config

    # Every checkpoint variable (weights, optimizer slots, step counters,
    # RNG states), with the same names.
    checkpoint = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    reader = tf.train.load_checkpoint(checkpoint)
    expected = np.load(expected_dir / "weights.npz")
    names = {
        name.replace("/", "|")
        for name, _ in tf.train.list_variables(checkpoint)
        if name != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }
    assert names == set(expected.files)
    for name in expected.files:
        np.testing.assert_allclose(
            reader.get_tensor(name.replace("|", "/")),
            expected[name],
            rtol=RTOL,
            atol=ATOL,
            err_msg=name,
        )

    pretrained = _h5_arrays(run_dir / "pretrained_generator.weights.h5")
    expected_pretrained = _h5_arrays(
        expected_dir / "pretrained_generator.weights.h5"
    )
    assert pretrained.keys() == expected_pretrained.keys()
    for name, value in expected_pretrained.items():
        np.testing.assert_allclose(
            pretrained[name], value, rtol=RTOL, atol=ATOL, err_msg=name
        )

    rows = _numbers((run_dir / "metrics.csv").read_text())
    expected_rows = _numbers((expected_dir / "metrics.csv").read_text())
    assert len(rows) == len(expected_rows)
    for row, expected_row in zip(rows, expected_rows):
        assert row.keys() == expected_row.keys()
        for key in row:
            np.testing.assert_allclose(
                row[key], expected_row[key], rtol=RTOL, err_msg=key
            )

    # Samples are tokens: exactly the same.
    files = sorted(p.name for p in (expected_dir / "samples").iterdir())
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == files
    for name in files:
        assert (run_dir / "samples" / name).read_text() == (
            expected_dir / "samples" / name
        ).read_text(), name
    for name in ("real_data.txt", "vocabulary.txt"):
        if (expected_dir / name).exists():
            assert (run_dir / name).read_text() == (
                expected_dir / name
            ).read_text()
    if (expected_dir / "evaluation.json").exists():
        evaluation = json.loads((run_dir / "evaluation.json").read_text())
        expected_evaluation = json.loads(
            (expected_dir / "evaluation.json").read_text()
        )
        assert evaluation.keys() == expected_evaluation.keys()
        for stage, values in expected_evaluation.items():
            for key, value in values.items():
                np.testing.assert_allclose(
                    evaluation[stage][key], value, rtol=1e-5, err_msg=key
                )
