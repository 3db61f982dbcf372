import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import CLI
from conftest import TINY_SENTENCES
from conftest import kill_when_written

from seqgan_tf import bleu
from seqgan_tf import cli
from seqgan_tf import runs

TINY = ["--preset", "tiny", "--verbose", "0"]


def run_cli(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, message):
    assert code == 2
    lines = [
        line
        for line in err.strip().splitlines()
        if line.startswith("seqgan-tf")
    ]
    assert len(lines) == 1, err
    assert lines[0].startswith("seqgan-tf: error:")
    assert message in lines[0]
    assert "Traceback" not in err


def metric_epochs(run_dir):
    with open(run_dir / "metrics.csv", newline="") as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    assert cli.main(["train", *TINY, "--output", str(run_dir)]) == 0
    return run_dir


@pytest.mark.slow
def test_train_writes_a_complete_run_directory(finished_run):
    run_dir = finished_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["preset"] == "tiny"
    assert metric_epochs(run_dir) == [0, 1, 2, 3, 4]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] and summary["epochs_done"] == 5
    assert np.isfinite(summary["nll_oracle_pretrained"])
    assert np.isfinite(summary["nll_oracle_adversarial"])
    assert (run_dir / "checkpoints" / "checkpoint").exists()
    assert list((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    # Samples and real data in the authors' format: ids separated by spaces.
    real = runs.read_token_file(run_dir / "real_data.txt", 26, 12)
    assert real.shape == (256, 12)
    samples = sorted((run_dir / "samples").glob("epoch_*.txt"))
    assert [p.name for p in samples] == [
        "epoch_0000.txt",
        "epoch_0001.txt",
        "epoch_0003.txt",
        "epoch_0004.txt",
    ]
    assert runs.read_token_file(samples[-1], 26, 12).shape == (256, 12)


@pytest.mark.slow
def test_rerunning_a_finished_run_resumes_and_trains_nothing(
    finished_run, capsys
):
    code, out, _ = run_cli(
        ["train", *TINY, "--output", str(finished_run)], capsys
    )
    assert code == 0
    assert "Resuming" in out and "epoch 5/5" in out
    assert metric_epochs(finished_run) == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_stop_and_resume_matches_an_uninterrupted_run(
    finished_run, tmp_path, capsys
):
    run_dir = tmp_path / "resumed"
    args = ["train", *TINY, "--output", str(run_dir)]
    # Stop at the end of MLE pretraining, then at the end of D pretraining.
    assert cli.main(args + ["--stop-after", "2"]) == 0
    assert metric_epochs(run_dir) == [0, 1]
    assert cli.main(args + ["--stop-after", "1"]) == 0
    assert metric_epochs(run_dir) == [0, 1, 2]
    code, out, _ = run_cli(args, capsys)
    assert code == 0 and "from" in out and "epoch 3/5" in out
    assert metric_epochs(run_dir) == [0, 1, 2, 3, 4]
    # Same seed, same schedule: the same numbers as the run never stopped.
    ours = json.loads((run_dir / "metrics.json").read_text())
    theirs = json.loads((finished_run / "metrics.json").read_text())
    for mine, reference in zip(ours, theirs):
        for key in ("g_loss", "d_loss", "nll_oracle"):
            if reference[key]:
                assert float(mine[key]) == pytest.approx(
                    float(reference[key]), rel=1e-3
                )


@pytest.mark.slow
def test_killed_run_resumes_from_its_last_checkpoint(tmp_path):
    run_dir = tmp_path / "killed"
    command = [
        *CLI,
        "train",
        *TINY,
        "--output",
        str(run_dir),
        "--set",
        "training.discriminator_rounds=3",
    ]
    # Kill it hard once the first discriminator round is checkpointed.
    target = run_dir / "checkpoints" / "ckpt-3.index"
    kill_when_written(command, target, timeout=240)
    assert target.exists()
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Resuming" in result.stdout
    assert metric_epochs(run_dir) == list(range(7))


@pytest.mark.slow
def test_generate_is_reproducible_and_in_range(finished_run, capsys):
    args = [
        "generate",
        "--checkpoint",
        str(finished_run),
        "-n",
        "5",
        "--seed",
        "3",
    ]
    code, out, _ = run_cli(args, capsys)
    assert code == 0
    rows = [[int(t) for t in line.split()] for line in out.strip().splitlines()]
    assert len(rows) == 5 and all(len(r) == 12 for r in rows)
    assert all(0 <= t < 26 for r in rows for t in r)
    assert run_cli(args, capsys)[1] == out
    assert run_cli(args[:-1] + ["4"], capsys)[1] != out


@pytest.mark.slow
def test_evaluate_a_checkpoint_and_a_token_file(finished_run, capsys):
    code, out, _ = run_cli(
        ["evaluate", "--checkpoint", str(finished_run), "--samples", "128"],
        capsys,
    )
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["epoch"] == 5 and np.isfinite(result["nll_oracle"])
    code, out, _ = run_cli(
        [
            "evaluate",
            "--tokens",
            str(finished_run / "real_data.txt"),
            "--preset",
            "tiny",
        ],
        capsys,
    )
    assert code == 0
    # The oracle's own samples score below any trained generator's.
    assert (
        json.loads(out.strip().splitlines()[-1])["nll_oracle"]
        < result["nll_oracle"]
    )


@pytest.mark.slow
def test_different_config_in_the_output_directory(finished_run, capsys):
    code, _, err = run_cli(
        ["train", *TINY, "--output", str(finished_run), "--seed", "5"], capsys
    )
    assert_one_line_error(code, err, "holds a different run (seed: 88 -> 5)")


@pytest.mark.slow
def test_corrupt_checkpoints_fall_back_or_are_reported_not_overwritten(
    finished_run, tmp_path, capsys
):
    run_dir = tmp_path / "corrupt"
    run_dir.mkdir()
    for path in finished_run.rglob("*"):
        target = run_dir / path.relative_to(finished_run)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.write_bytes(path.read_bytes())
    checkpoints = run_dir / "checkpoints"
    index = checkpoints / "ckpt-5.index"
    index.write_bytes(b"not a checkpoint")
    # The newest cannot be read: the one before it is used, and said so.
    code, out, err = run_cli(
        ["generate", "--checkpoint", str(run_dir), "-n", "2"], capsys
    )
    assert code == 0 and len(out.splitlines()) == 2
    assert "ckpt-5" in err and "cannot be read" in err
    code, out, _ = run_cli(["train", *TINY, "--output", str(run_dir)], capsys)
    assert code == 0 and "cannot be read" in out
    assert index.read_bytes() != b"not a checkpoint"  # epoch 5 saved again
    # None can be read: an error naming the newest, and nothing rewritten.
    for path in checkpoints.glob("ckpt-*.index"):
        path.write_bytes(b"not a checkpoint")
    code, _, err = run_cli(["train", *TINY, "--output", str(run_dir)], capsys)
    assert_one_line_error(code, err, "no checkpoint of")
    assert "ckpt-5" in err
    assert all(
        path.read_bytes() == b"not a checkpoint"
        for path in checkpoints.glob("ckpt-*.index")
    )
    code, _, err = run_cli(["generate", "--checkpoint", str(run_dir)], capsys)
    assert_one_line_error(code, err, "no checkpoint of")


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--preset", "bogus"], "Unknown preset 'bogus'"),
        (
            ["train", *TINY, "--set", "training.batch_size=-4"],
            "batch_size must be >= 1",
        ),
        (["train", *TINY, "--set", "data.num_real=0"], "num_real must be >= 1"),
        (
            ["train", *TINY, "--set", "training.rollout_policy=x"],
            "rollout_policy",
        ),
        (["evaluate"], "exactly one of --checkpoint"),
        (["evaluate", "--tokens", "/nonexistent/file.txt"], "does not exist"),
        (
            ["generate", "--checkpoint", "/nonexistent/run"],
            "is not a run directory",
        ),
    ],
)
def test_bad_input_is_one_line(args, message, capsys):
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, message)


@pytest.mark.slow
def test_non_empty_directory_without_a_run_is_refused(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli(["train", *TINY, "--output", str(tmp_path)], capsys)
    assert_one_line_error(code, err, "not empty")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_bad_token_files_name_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2 3 4 5 6 7 8 9 10 11 12\n1 2 x\n")
    code, _, err = run_cli(
        ["evaluate", "--tokens", str(bad), "--preset", "tiny"], capsys
    )
    assert_one_line_error(code, err, "bad.txt:2")
    bad.write_bytes(b"\xff\xfe\x00")
    code, _, err = run_cli(
        ["evaluate", "--tokens", str(bad), "--preset", "tiny"], capsys
    )
    assert_one_line_error(code, err, "not UTF-8")
    code, _, err = run_cli(
        ["evaluate", "--tokens", str(tmp_path), "--preset", "tiny"], capsys
    )
    assert_one_line_error(code, err, "is a directory")


@pytest.mark.slow
def test_argument_errors_exit_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as error:
        cli.main(["train", "--verbose", "7"])
    assert error.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice" in err
    with pytest.raises(SystemExit):
        cli.main(["train", "--stop-after", "-1"])
    assert "must be >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_console_script_is_installed():
    # The script pip installed beside this interpreter, venv activated or not.
    script = os.path.join(os.path.dirname(sys.executable), "seqgan-tf")
    result = subprocess.run(
        [script, "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    assert "train" in result.stdout and "generate" in result.stdout


# C++ log lines of TensorFlow and absl, as they start.
NATIVE_LOG_MARKERS = (
    "I0000",
    "W0000",
    "E0000",
    "absl::InitializeLog",
    "oneDNN",
    "cuda",
    "cuInit",
    "cpu_feature_guard",
)


@pytest.mark.slow
def test_train_output_is_ours_alone(tmp_path):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")
    }
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment["TMPDIR"] = str(temporary)
    result = subprocess.run(
        [
            *CLI,
            "train",
            "--preset",
            "tiny",
            "--output",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    for marker in NATIVE_LOG_MARKERS:
        assert marker not in output, marker
    assert "nan" not in output.lower()
    for title in (
        "generator pretraining (MLE) 1/2",
        "discriminator pretraining 1/1",
        "adversarial round 2/2",
    ):
        assert title in result.stdout
    assert "left" in result.stdout
    assert "after adversarial" in result.stdout
    # The native log went to a temporary file, removed after success.
    assert not list(temporary.glob("seqgan-tf-native-*.log"))


@pytest.mark.slow
def test_the_parser_and_the_package_leave_tensorflow_and_the_environment():
    probe = (
        "import os, sys\n"
        "import seqgan_tf\n"
        "from seqgan_tf import cli\n"
        "cli.make_parser().parse_args(['train', '--preset', 'tiny'])\n"
        "assert 'tensorflow' not in sys.modules, 'parsing imported TF'\n"
        "import seqgan_tf.trainer\n"
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n"
    )
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")
    }
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "None"


# --- the text task ------------------------------------------------------------

TEXT_LINES = TINY_SENTENCES * 12


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("text")
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(TEXT_LINES) + "\n", encoding="utf-8")
    run_dir = directory / "run"
    args = ["--dataset", str(corpus), "--output", str(run_dir)]
    assert cli.main(["train", *TINY, *args]) == 0
    return run_dir, corpus, args


@pytest.mark.slow
def test_text_training_writes_vocabulary_text_samples_and_scores(text_run):
    run_dir, _, _ = text_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["data"]["task"] == "text"
    # T came from the data: 7 tokens + EOS.
    assert config["data"]["sequence_length"] == 8
    vocabulary = (run_dir / "vocabulary.txt").read_text().split("\n")
    assert vocabulary[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    words = set(vocabulary[4:]) - {""}
    assert words == set(" ".join(TEXT_LINES).split())
    samples = (run_dir / "samples" / "epoch_0004.txt").read_text().splitlines()
    assert len(samples) == 256
    assert all(set(line.split()) <= words | {"<unk>"} for line in samples)
    assert all(len(line.split()) <= 8 for line in samples)
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert set(evaluation) == {"pretrained", "adversarial"}
    for stage in evaluation.values():
        for key in (
            "bleu_2",
            "bleu_3",
            "bleu_4",
            "bleu_5",
            "self_bleu_2",
            "self_bleu_3",
            "self_bleu_4",
        ):
            assert 0.0 <= stage[key] <= 1.0
        assert 0.0 < stage["nll_test"] < 20.0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["evaluation"] == evaluation
    assert (run_dir / "pretrained_generator.weights.h5").exists()
    with open(run_dir / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    # nll_test and bleu_4 at the evaluation epochs, not in the D round.
    assert [bool(r["nll_test"]) for r in rows] == [1, 1, 0, 1, 1]
    assert [bool(r["bleu_4"]) for r in rows] == [1, 1, 0, 1, 1]
    assert all(r["nll_oracle"] == "" for r in rows)


@pytest.mark.slow
def test_text_evaluate_matches_the_recorded_scores(text_run, capsys):
    run_dir, _, _ = text_run
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    code, out, _ = run_cli(
        ["evaluate", "--checkpoint", str(run_dir), "--samples", "64"], capsys
    )
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    # NLL-test is over the same held-out set: exactly the recorded value.
    assert result["nll_test"] == pytest.approx(
        evaluation["adversarial"]["nll_test"], rel=1e-9
    )
    assert result["samples"] == 64 and 0.0 <= result["bleu_4"] <= 1.0
    code, out, _ = run_cli(
        ["evaluate", "--checkpoint", str(run_dir), "--pretrained"], capsys
    )
    pretrained = json.loads(out.strip().splitlines()[-1])
    assert pretrained["generator"] == "pretrained"
    assert pretrained["nll_test"] == pytest.approx(
        evaluation["pretrained"]["nll_test"], rel=1e-9
    )
    assert pretrained["nll_test"] != result["nll_test"]


@pytest.mark.slow
def test_text_generate_prints_sentences(text_run, capsys):
    run_dir, _, _ = text_run
    code, out, _ = run_cli(
        ["generate", "--checkpoint", str(run_dir), "-n", "5"], capsys
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 5
    vocabulary = set((run_dir / "vocabulary.txt").read_text().split())
    assert all(set(line.split()) <= vocabulary for line in lines)


@pytest.mark.slow
def test_evaluate_a_text_file_against_a_dataset(text_run, tmp_path, capsys):
    _, corpus, _ = text_run
    hypotheses = tmp_path / "hypotheses.txt"
    hypotheses.write_text("a cat sat on the log .\nzebra zebra\n")
    code, out, _ = run_cli(
        [
            "evaluate",
            "--text",
            str(hypotheses),
            "--dataset",
            str(corpus),
            "--preset",
            "tiny",
        ],
        capsys,
    )
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    references = [line.split() for line in TEXT_LINES[9::10]]
    expected = bleu.bleu(
        [["a", "cat", "sat", "on", "the", "log", "."], ["zebra", "zebra"]],
        references,
        max_order=4,
    )
    assert result["samples"] == 2
    assert result["bleu_4"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.slow
def test_a_changed_vocabulary_file_is_a_clear_error(text_run, capsys):
    run_dir, _, args = text_run
    path = run_dir / "vocabulary.txt"
    original = path.read_text()
    try:
        path.write_text(original.replace("\ncat\n", "\nkitten\n"))
        code, _, err = run_cli(["train", *TINY, *args], capsys)
        assert_one_line_error(code, err, "does not match the vocabulary")
        path.write_text("".join(original.splitlines(True)[:-1]))
        code, _, err = run_cli(
            ["generate", "--checkpoint", str(run_dir)], capsys
        )
        assert_one_line_error(code, err, "vocabulary.txt")
    finally:
        path.write_text(original)


@pytest.mark.slow
@pytest.mark.parametrize(
    "dataset, message",
    [
        ("missing.txt", "does not exist"),
        (".", "is a directory"),
        ("tfds:surely_not_a_dataset_xyz", "never downloads"),
    ],
)
def test_bad_datasets_are_one_line_errors(tmp_path, capsys, dataset, message):
    code, _, err = run_cli(
        [
            "train",
            *TINY,
            "--dataset",
            dataset,
            "--output",
            str(tmp_path / "run"),
            "--data-dir",
            str(tmp_path / "tfds"),
        ],
        capsys,
    )
    assert_one_line_error(code, err, message)


def _external_tfds_builder():
    """A TFDS dataset that is not this package's: prepared locally, read
    through `--dataset tfds:NAME --text-key sentence`."""
    import tensorflow_datasets as tfds

    class SeqganTestExternalText(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(
                builder=self,
                features=tfds.features.FeaturesDict(
                    {"sentence": tfds.features.Text(), "label": np.int64}
                ),
            )

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(96)}

        def _generate_examples(self, count):
            for i in range(count):
                yield i, {"sentence": TEXT_LINES[i], "label": i % 2}

    return SeqganTestExternalText


@pytest.mark.slow
def test_a_prepared_tfds_dataset_trains_with_its_text_key(tmp_path, capsys):
    builder_class = _external_tfds_builder()
    data_dir = str(tmp_path / "tfds")
    builder_class(data_dir=data_dir).download_and_prepare()
    base = [
        "train",
        *TINY,
        "--dataset",
        f"tfds:{builder_class.name}",
        "--data-dir",
        data_dir,
    ]
    code, _, err = run_cli([*base, "--output", str(tmp_path / "a")], capsys)
    assert_one_line_error(code, err, "has no feature 'text'")
    code, out, _ = run_cli(
        [*base, "--text-key", "sentence", "--output", str(tmp_path / "b")],
        capsys,
    )
    assert code == 0
    # No test split: every 10th sentence is held out.
    assert "87 train, 9 test" in out
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert config["data"]["text_key"] == "sentence"
    vocabulary = set((tmp_path / "b" / "vocabulary.txt").read_text().split())
    assert set(" ".join(TEXT_LINES).split()) <= vocabulary


@pytest.mark.slow
def test_text_export_serves_the_same_sentences(text_run, tmp_path, capsys):
    run_dir, _, _ = text_run
    models = tmp_path / "models"
    code, _, _ = run_cli(
        ["export", "--checkpoint", str(run_dir), "--output", str(models)],
        capsys,
    )
    assert code == 0
    version = models / "seqgan" / "1"
    assert (version / "assets" / "vocabulary.txt").read_text() == (
        run_dir / "vocabulary.txt"
    ).read_text()
    args = ["-n", "6", "--seed", "3"]
    _, from_checkpoint, _ = run_cli(
        ["generate", "--checkpoint", str(run_dir), *args], capsys
    )
    _, from_export, _ = run_cli(
        ["generate", "--saved-model", str(version), *args], capsys
    )
    assert from_export == from_checkpoint
    assert len(from_export.splitlines()) == 6  # an empty line: EOS first


@pytest.mark.slow
def test_a_run_resumes_under_another_strategy(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    code, _, _ = run_cli(
        [
            "train",
            *TINY,
            "--output",
            run_dir,
            "--strategy",
            "mirrored",
            "--stop-after",
            "3",
        ],
        capsys,
    )
    assert code == 0
    # The checkpoint of the mirrored run restores on the default strategy.
    code, out, _ = run_cli(
        ["train", *TINY, "--output", run_dir, "--strategy", "default"],
        capsys,
    )
    assert code == 0
    assert "Resuming" in out and "epoch 3/5" in out
    assert metric_epochs(tmp_path / "run") == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_mixed_precision_run_trains_and_is_a_different_run(tmp_path, capsys):
    run_dir = str(tmp_path / "run")
    base = ["train", *TINY, "--output", run_dir]
    code, _, _ = run_cli([*base, "--mixed-precision", "mixed_bfloat16"], capsys)
    assert code == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["training"]["mixed_precision"] == "mixed_bfloat16"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert np.isfinite(summary["nll_oracle_adversarial"])
    code, _, err = run_cli(base, capsys)
    assert_one_line_error(code, err, "training.mixed_precision")


@pytest.mark.slow
def test_multiworker_without_tf_config_is_a_one_line_error(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    code, _, err = run_cli(
        [
            "train",
            *TINY,
            "--output",
            str(tmp_path / "run"),
            "--strategy",
            "multiworker",
        ],
        capsys,
    )
    assert_one_line_error(code, err, "TF_CONFIG")
