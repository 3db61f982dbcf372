"""`seqgan-tf report` and `seqgan-tf sweep`: the HTML report of a run with
its PNG curves, and the quality-diversity temperature sweep."""

import json
import struct

import numpy as np
import pytest

from seqgan_tf import cli
from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import quality
from seqgan_tf import report


def train_tiny(run_dir, dataset=None):
    config = config_lib.get_preset("tiny")
    if dataset:
        config = config_lib.for_dataset(config, str(dataset))
    experiment.train(config, run_dir, verbose=0, log=None)


TEXT_LINES = [
    "the cat sat on the mat .",
    "a dog sat on a log .",
    "the dog and the cat .",
    "a cat and a dog sat .",
    "the bird sat on the dog .",
    "a mat on the log .",
] * 12
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_one_line_error(code, err, message):
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, err
    assert lines[0].startswith("seqgan-tf: error:")
    assert message in lines[0]


def png_size(path):
    """(width, height) from a PNG's IHDR chunk; asserts the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("report") / "tiny"
    train_tiny(run_dir)
    return run_dir


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("report_text")
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(TEXT_LINES) + "\n", encoding="utf-8")
    run_dir = directory / "run"
    train_tiny(run_dir, dataset=corpus)
    return run_dir


@pytest.fixture(scope="module")
def text_gan(text_run):
    run = experiment.restore_run(text_run)
    data = experiment.load_text(run.config, run.vocabulary, log=None)
    return run.gan, data


# Curves per PNG: g_loss of the MLE and the adversarial phase; d_loss and
# d_accuracy; mean_reward; NLL-oracle (oracle) or NLL-test and BLEU-4.
ORACLE_CURVES = {
    "generator_loss.png": 2,
    "discriminator.png": 2,
    "reward.png": 1,
    "evaluation.png": 1,
}
TEXT_CURVES = {**ORACLE_CURVES, "evaluation.png": 2}


@pytest.mark.slow
@pytest.mark.parametrize("task", ["oracle", "text"])
def test_report_writes_html_and_valid_pngs(
    task, oracle_run, text_run, tmp_path, capsys
):
    run_dir = oracle_run if task == "oracle" else text_run
    expected = ORACLE_CURVES if task == "oracle" else TEXT_CURVES
    output = tmp_path / "out"
    assert cli.main(["report", str(run_dir), "--output", str(output)]) == 0
    assert str(output / "report.html") in capsys.readouterr().out
    counts = json.loads((output / "figures.json").read_text())
    assert counts == expected
    import matplotlib.image

    for name in expected:
        width, height = png_size(output / name)
        assert width >= 400 and height >= 300
        image = matplotlib.image.imread(str(output / name))
        assert image.shape[:2] == (height, width)
        # Not a blank canvas.
        assert float(np.std(image[..., :3])) > 0.01
    page = (output / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == len(expected)
    for heading in ("Summary", "Curves", "Timings", "Samples", "Config"):
        assert f"<h2>{heading}</h2>" in page
    assert "epoch_0004.txt" in page and "epoch_0000.txt" in page
    if task == "text":
        assert "<h2>Evaluation</h2>" in page and "self_bleu_4" in page
        assert "the" in page  # decoded sentences in the sample table
    # The timings add up to the metrics' seconds.
    rows = report.read_metrics(run_dir)
    timings = report.phase_timings(rows)
    assert [name for name, _, _ in timings] == [
        "MLE",
        "discriminator",
        "adversarial",
    ]
    assert [epochs for _, epochs, _ in timings] == [2, 1, 2]
    assert sum(s for _, _, s in timings) == pytest.approx(
        sum(row["seconds"] for row in rows)
    )


@pytest.mark.slow
def test_figures_count_only_curves(oracle_run):
    rows = report.read_metrics(oracle_run)
    figures = report.build_figures(rows, text=False)
    assert {k: report.count_curves(f) for k, f in figures.items()} == (
        ORACLE_CURVES
    )
    # Phases are shaded (patches), not drawn as lines.
    axes = figures["generator_loss.png"].axes[0]
    assert len(axes.patches) == 3
    assert [line.get_label() for line in axes.lines] == [
        "g_loss (MLE)",
        "g_loss (adversarial)",
    ]
    # A run that has only pretrained so far: no D or reward plot.
    figures = report.build_figures(
        [r for r in rows if r["phase"] == 0], text=False
    )
    assert set(figures) == {"generator_loss.png", "evaluation.png"}


def test_report_of_a_non_run_is_a_one_line_error(tmp_path, capsys):
    code = cli.main(["report", str(tmp_path / "missing")])
    assert_one_line_error(code, capsys.readouterr().err, "does not exist")
    code = cli.main(["report", str(tmp_path)])
    assert_one_line_error(code, capsys.readouterr().err, "config.json")
    (tmp_path / "config.json").write_text("{}")
    code = cli.main(["report", str(tmp_path)])
    assert_one_line_error(code, capsys.readouterr().err, "no metrics yet")
    with pytest.raises(ValueError, match="no metrics yet"):
        report.write_report(tmp_path)


@pytest.mark.slow
def test_sweep_command_writes_json_plot_and_feeds_the_report(
    oracle_run, tmp_path, capsys
):
    args = ["sweep", "--checkpoint", str(oracle_run), "--samples", "64"]
    assert cli.main([*args, "--temperatures", "0.05,1.0"]) == 0
    out = capsys.readouterr().out
    assert "nll_oracle" in out and "MLE" in out
    sweep_dir = oracle_run / "sweep"
    result = json.loads((sweep_dir / "sweep.json").read_text())
    assert result["task"] == "oracle" and result["temperatures"] == [0.05, 1.0]
    assert list(result["models"]) == ["MLE", "adversarial"]
    for rows in result["models"].values():
        assert [row["temperature"] for row in rows] == [0.05, 1.0]
        assert all(row["quality_metric"] == "nll_oracle" for row in rows)
        cold, hot = rows
        # Near-greedy samples: likelier under the oracle, far less
        # diverse, and a much worse fit of real data.
        assert cold["nll_oracle"] < hot["nll_oracle"]
        assert cold["self_bleu_4"] > hot["self_bleu_4"]
        assert cold["nll_test"] > hot["nll_test"]
    png_size(sweep_dir / "quality_diversity.png")
    # The same command again (a new model, new traces): the same numbers.
    again = tmp_path / "again"
    assert (
        cli.main([*args, "--temperatures", "0.05,1.0", "--output", str(again)])
        == 0
    )
    assert (
        json.loads((again / "sweep.json").read_text())["models"]
        == (result["models"])
    )
    # The report picks the sweep up: its plot (2 curves) and its tables.
    path = report.write_report(oracle_run)
    counts = json.loads((path.parent / "figures.json").read_text())
    assert counts["quality_diversity.png"] == 2
    assert "Temperature sweep" in path.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--temperatures", "0.5,0"], "--temperatures must be numbers > 0"),
        (["--temperatures", "a,b"], "comma-separated numbers"),
        (["--samples", "1"], "--samples must be >= 2"),
    ],
)
def test_sweep_bad_input_is_one_line(oracle_run, extra, message, capsys):
    code = cli.main(["sweep", "--checkpoint", str(oracle_run), *extra])
    assert_one_line_error(code, capsys.readouterr().err, message)


@pytest.mark.slow
def test_text_sweep_orders_extremes_and_is_reproducible(text_gan, tmp_path):
    gan, data = text_gan
    temperatures = [0.05, 1.0]
    first = quality.temperature_sweep(
        gan.generator, temperatures, num_samples=128, seed=3, text_data=data
    )
    second = quality.temperature_sweep(
        gan.generator, temperatures, num_samples=128, seed=3, text_data=data
    )
    assert first == second  # bit for bit, run to run
    cold, hot = first
    assert cold["quality_metric"] == "bleu_4"
    assert cold["diversity_metric"] == "self_bleu_4"
    # Near-zero temperature: the samples repeat each other's n-grams.
    # (Not necessarily fewer distinct sentences: this tiny generator is
    # almost uniform, and at T=1 it ends many sentences after a word.)
    assert cold["self_bleu_4"] > hot["self_bleu_4"]
    assert cold["diversity"] == cold["self_bleu_4"]
    for row in first:
        assert 0.0 <= row["bleu_4"] <= 1.0
        assert 0.0 <= row["self_bleu_4"] <= 1.0
        assert np.isfinite(row["nll_test"])
    # Another seed draws other samples.
    other = quality.temperature_sweep(
        gan.generator, [1.0], num_samples=128, seed=4, text_data=data
    )
    assert other[0] != hot
    # One curve per model on the same axes, temperatures annotated.
    figure = quality.plot_quality_diversity(
        {"MLE": first, "adversarial": other}, tmp_path / "qd.png"
    )
    assert report.count_curves(figure) == 2
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts == ["T=0.05", "T=1", "T=1"]
    png_size(tmp_path / "qd.png")


@pytest.mark.slow
def test_sweep_needs_exactly_one_task(text_gan):
    gan, data = text_gan
    with pytest.raises(ValueError, match="exactly one"):
        quality.temperature_sweep(gan.generator, [1.0], 8)
    with pytest.raises(ValueError, match="> 0"):
        quality.temperature_sweep(gan.generator, [0.0], 8, text_data=data)
