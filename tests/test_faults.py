"""Fault injection: every bad input is one line on stderr with exit status
2 and no traceback; damaged run directories, a non-finite loss, a full
disk and kill -9 at random moments of `train` and `export` are survived."""

import json
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf
from conftest import CLI
from conftest import kill_when_written

from seqgan_tf import cli
from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import export
from seqgan_tf import runs
from seqgan_tf.trainer import NonFiniteLossError

TINY = ["--preset", "tiny"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("faults") / "run"
    experiment.train(
        config_lib.get_preset("tiny"), run_dir, verbose=0, log=None
    )
    return run_dir


@pytest.fixture(scope="module")
def tiny_export(tiny_run, tmp_path_factory):
    models = tmp_path_factory.mktemp("models")
    export.export_run(experiment.restore_run(tiny_run), models, "tiny")
    return models / "tiny"


def _copy(run_dir, tmp_path, name="copy"):
    target = tmp_path / name
    shutil.copytree(run_dir, target)
    return target


def _newest_data_file(run_dir):
    newest = runs.checkpoint_candidates(run_dir)[0]
    return pathlib.Path(newest + ".data-00000-of-00001")


# --- bad inputs -------------------------------------------------------------
#
# Each case: (name, function (run, export, tmp_path) -> argv, a part of the
# one-line message). Every one must exit 2 with exactly one stderr line
# that names the file, field or flag, and no traceback.


def _damaged(run, tmp_path, change):
    copy = _copy(run, tmp_path)
    change(copy)
    return str(copy)


def _config_edit(**fields):
    def change(run_dir):
        path = run_dir / runs.CONFIG_FILE
        values = json.loads(path.read_text())
        for name, value in fields.items():
            section, _, field = name.rpartition("__")
            (values[section] if section else values)[field] = value
        path.write_text(json.dumps(values))

    return change


def _truncate_all_checkpoints(run_dir):
    for path in (run_dir / runs.CHECKPOINT_DIR).glob("ckpt-*.data-*"):
        path.write_bytes(path.read_bytes()[:10])


def _file(tmp_path, name="a_file", text="x"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _foreign_dir(tmp_path):
    folder = tmp_path / "foreign"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    return str(folder)


def _set(value):
    return ["train", *TINY, "--set", value, "--output", "{tmp}/never"]


BAD_INPUTS = [
    # --- the command line and the config ---
    (
        "lr inf",
        lambda r, e, t: _set("generator.learning_rate=inf"),
        "generator.learning_rate must be a finite",
    ),
    (
        "lr nan",
        lambda r, e, t: _set("generator.learning_rate=nan"),
        "generator.learning_rate must be a finite",
    ),
    (
        "lr zero",
        lambda r, e, t: _set("generator.learning_rate=0"),
        "generator.learning_rate must be > 0",
    ),
    (
        "clip negative",
        lambda r, e, t: _set("generator.clip_norm=-1"),
        "generator.clip_norm",
    ),
    (
        "clip nan",
        lambda r, e, t: _set("generator.clip_norm=nan"),
        "generator.clip_norm",
    ),
    (
        "batch above data",
        lambda r, e, t: _set("training.batch_size=512"),
        "training.batch_size (512) is larger",
    ),
    (
        "seed beyond int64",
        lambda r, e, t: _set("seed=99999999999999999999"),
        "seed must fit in a 64-bit",
    ),
    (
        "seed beyond int32",
        lambda r, e, t: _set("seed=4294967296"),
        "seed must be in [0, 2**31)",
    ),
    (
        "seed negative",
        lambda r, e, t: [
            "train",
            *TINY,
            "--seed",
            "-1",
            "--output",
            "{tmp}/never",
        ],
        "seed must be >= 0",
    ),
    (
        "batch not int",
        lambda r, e, t: _set("training.batch_size=abc"),
        "training.batch_size expects int",
    ),
    (
        "unknown field",
        lambda r, e, t: _set("training.nosuch=1"),
        "Unknown configuration field",
    ),
    (
        "dropout 1.5",
        lambda r, e, t: _set("discriminator.dropout=1.5"),
        "discriminator.dropout",
    ),
    (
        "l2 negative",
        lambda r, e, t: _set("discriminator.l2_reg=-1"),
        "discriminator.l2_reg",
    ),
    (
        "rollout rate 2",
        lambda r, e, t: _set("training.rollout_update_rate=2"),
        "training.rollout_update_rate",
    ),
    (
        "precision float8",
        lambda r, e, t: _set("training.mixed_precision=float8"),
        "training.mixed_precision must be",
    ),
    (
        "constant reward nan",
        lambda r, e, t: _set("training.constant_reward=nan"),
        "training.constant_reward must be a finite",
    ),
    # --- output paths ---
    (
        "train under a file",
        lambda r, e, t: ["train", *TINY, "--output", f"{_file(t)}/run"],
        "a_file/run: Not a directory",
    ),
    (
        "train into a file",
        lambda r, e, t: ["train", *TINY, "--output", str(_file(t))],
        "exists and is not a directory",
    ),
    (
        "train into a foreign folder",
        lambda r, e, t: ["train", *TINY, "--output", _foreign_dir(t)],
        "refusing to mix",
    ),
    (
        "train on a missing corpus",
        lambda r, e, t: [
            "train",
            *TINY,
            "--dataset",
            f"{t}/missing.txt",
            "--output",
            f"{t}/never",
        ],
        "missing.txt",
    ),
    (
        "tfds malformed name",
        lambda r, e, t: [
            "train",
            *TINY,
            "--dataset",
            "tfds:bad name!!",
            "--output",
            f"{t}/never",
        ],
        "--dataset tfds:bad name!!: 'bad name!!' is not a TFDS name; expected NAME[/CONFIG][:X.Y.Z]",
    ),
    (
        "train on an empty corpus",
        lambda r, e, t: [
            "train",
            *TINY,
            "--dataset",
            str(_file(t, "empty.txt", "")),
            "--output",
            f"{t}/never",
        ],
        "empty.txt",
    ),
    (
        "generate under a file",
        lambda r, e, t: [
            "generate",
            "--checkpoint",
            r,
            "-n",
            "2",
            "--output",
            f"{_file(t)}/out.txt",
        ],
        "Not a directory",
    ),
    (
        "export under a file",
        lambda r, e, t: [
            "export",
            "--checkpoint",
            r,
            "--output",
            f"{_file(t)}/models",
        ],
        "Not a directory",
    ),
    (
        "report under a file",
        lambda r, e, t: ["report", r, "--output", f"{_file(t)}/report"],
        "Not a directory",
    ),
    # --- run directories ---
    (
        "evaluate a missing run",
        lambda r, e, t: ["evaluate", "--checkpoint", f"{t}/nothing"],
        "it does not exist",
    ),
    (
        "evaluate a file",
        lambda r, e, t: ["evaluate", "--checkpoint", str(_file(t))],
        "it is a file",
    ),
    (
        "evaluate a folder without config",
        lambda r, e, t: ["evaluate", "--checkpoint", _foreign_dir(t)],
        "has no config.json",
    ),
    (
        "config not JSON",
        lambda r, e, t: [
            "evaluate",
            "--checkpoint",
            _damaged(r, t, lambda d: (d / "config.json").write_text("{oops")),
        ],
        "config.json is not a valid run config",
    ),
    (
        "config wrong type",
        lambda r, e, t: [
            "evaluate",
            "--checkpoint",
            _damaged(r, t, _config_edit(training__batch_size="64")),
        ],
        "training.batch_size must be an integer",
    ),
    (
        "config NaN",
        lambda r, e, t: [
            "evaluate",
            "--checkpoint",
            _damaged(r, t, _config_edit(generator__learning_rate=float("nan"))),
        ],
        "generator.learning_rate must be a finite",
    ),
    (
        "config not a mapping",
        lambda r, e, t: [
            "evaluate",
            "--checkpoint",
            _damaged(r, t, _config_edit(training=[1, 2])),
        ],
        "training must be a mapping",
    ),
    (
        "every checkpoint truncated",
        lambda r, e, t: [
            "evaluate",
            "--checkpoint",
            _damaged(r, t, _truncate_all_checkpoints),
        ],
        "no checkpoint of",
    ),
    (
        "no such step",
        lambda r, e, t: ["evaluate", "--checkpoint", r, "--step", "99"],
        "no checkpoint for epoch 99",
    ),
    (
        "damaged metrics.csv on resume",
        lambda r, e, t: [
            "train",
            *TINY,
            "--output",
            _damaged(
                r, t, lambda d: (d / "metrics.csv").write_text("garbage\n1,2\n")
            ),
        ],
        "metrics.csv is damaged",
    ),
    # --- generate, evaluate, sweep arguments ---
    (
        "generate -n 0",
        lambda r, e, t: ["generate", "--checkpoint", r, "-n", "0"],
        "-n must be in [1,",
    ),
    (
        "generate -n huge",
        lambda r, e, t: ["generate", "--checkpoint", r, "-n", "1000000000"],
        "-n must be in [1,",
    ),
    (
        "temperature inf",
        lambda r, e, t: ["generate", "--checkpoint", r, "--temperature", "inf"],
        "--temperature must be a finite number",
    ),
    (
        "temperature nan",
        lambda r, e, t: ["generate", "--checkpoint", r, "--temperature", "nan"],
        "--temperature must be a finite number",
    ),
    (
        "temperature 0",
        lambda r, e, t: ["generate", "--checkpoint", r, "--temperature", "0"],
        "--temperature must be a finite number",
    ),
    (
        "generate seed huge",
        lambda r, e, t: ["generate", "--checkpoint", r, "--seed", str(2**40)],
        "--seed must fit in 32 bits",
    ),
    (
        "evaluate seed huge",
        lambda r, e, t: ["evaluate", "--checkpoint", r, "--seed", str(2**40)],
        "--seed must fit in 32 bits",
    ),
    (
        "generate from nothing",
        lambda r, e, t: ["generate", "-n", "2"],
        "exactly one of --checkpoint",
    ),
    (
        "sweep one sample",
        lambda r, e, t: ["sweep", "--checkpoint", r, "--samples", "1"],
        "--samples must be >= 2",
    ),
    # --- exports and their signatures ---
    (
        "export a missing run",
        lambda r, e, t: [
            "export",
            "--checkpoint",
            f"{t}/nothing",
            "--output",
            f"{t}/models",
        ],
        "it does not exist",
    ),
    (
        "export name escapes",
        lambda r, e, t: [
            "export",
            "--checkpoint",
            r,
            "--output",
            f"{t}/models",
            "--name",
            "../evil",
        ],
        "name",
    ),
    (
        "serve above the cap",
        lambda r, e, t: ["generate", "--saved-model", e, "-n", "20000"],
        "rejected the request",
    ),
    (
        "serve a missing model",
        lambda r, e, t: [
            "generate",
            "--saved-model",
            f"{t}/nothing",
            "-n",
            "2",
        ],
        "nothing",
    ),
    # --- reproductions ---
    (
        "table2 with methods",
        lambda r, e, t: [
            "reproduce",
            "table2",
            "--methods",
            "mle",
            "--output",
            f"{t}/t2",
        ],
        "--methods applies to table1",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "make_argv, message",
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_is_one_line(
    make_argv, message, tiny_run, tiny_export, tmp_path, capsys
):
    argv = [
        a.replace("{tmp}", str(tmp_path))
        for a in make_argv(str(tiny_run), str(tiny_export), tmp_path)
    ]
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("seqgan-tf: error: ")
    assert message in lines[0], lines[0]
    # Validation comes before the first write.
    assert not (tmp_path / "never").exists()


def test_there_are_at_least_forty_bad_inputs():
    assert len(BAD_INPUTS) >= 40


# --- damaged runs ------------------------------------------------------------


CORPUS = [
    f"{words} {i % 7}"
    for i, words in enumerate(
        [
            "the cat sat on the mat",
            "a dog ran in the park",
            "the bird flew over a tree",
            "my cat likes the warm sun",
        ]
        * 40
    )
]


@pytest.fixture(scope="module")
def tiny_text_run(tmp_path_factory):
    """A text run stopped after its MLE epochs (a resumable one)."""
    folder = tmp_path_factory.mktemp("text")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n")
    run_dir = folder / "run"
    code = cli.main(
        [
            "train",
            *TINY,
            "--dataset",
            str(corpus),
            "--output",
            str(run_dir),
            "--stop-after",
            "2",
            "--verbose",
            "0",
        ]
    )
    assert code == 0
    return run_dir, corpus


def _halve_lines(path):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[: len(lines) // 2]))


def _cut_mid_line(path):
    text = path.read_text()
    path.write_text(text[: len(text) // 2 + 1])


@pytest.mark.slow
@pytest.mark.parametrize(
    "command, damage",
    [
        ("generate", _halve_lines),
        ("evaluate", _halve_lines),
        ("export", _halve_lines),
        ("train", _halve_lines),
        ("generate", _cut_mid_line),
        ("train", _cut_mid_line),
    ],
)
def test_a_damaged_vocabulary_is_named_in_one_line(
    tiny_text_run, tmp_path, capsys, command, damage
):
    source, corpus = tiny_text_run
    run_dir = _copy(source, tmp_path)
    vocabulary = run_dir / runs.VOCABULARY_FILE
    size = len(vocabulary.read_text().splitlines())
    damage(vocabulary)
    entries = len(vocabulary.read_text().splitlines())
    before = sorted(p.name for p in (run_dir / runs.CHECKPOINT_DIR).iterdir())
    metrics = (run_dir / runs.METRICS_CSV).read_text()
    out = tmp_path / "out"
    argv = {
        "generate": ["generate", "--checkpoint", str(run_dir), "-n", "2",
                     "--output", str(out)],
        "evaluate": ["evaluate", "--checkpoint", str(run_dir)],
        "export": ["export", "--checkpoint", str(run_dir), "--output",
                   str(out)],
        "train": ["train", *TINY, "--dataset", str(corpus), "--output",
                  str(run_dir), "--verbose", "0"],
    }[command]  # fmt: skip
    capsys.readouterr()
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert f"{runs.VOCABULARY_FILE} is damaged: {entries} entries" in lines[0]
    assert f"checkpoints hold {size} ids" in lines[0]
    # Nothing written.
    assert not out.exists()
    assert (
        sorted(p.name for p in (run_dir / runs.CHECKPOINT_DIR).iterdir())
        == before
    )
    assert (run_dir / runs.METRICS_CSV).read_text() == metrics


@pytest.mark.slow
def test_a_truncated_newest_checkpoint_falls_back(tiny_run, tmp_path, capsys):
    run_dir = _copy(tiny_run, tmp_path)
    newest = _newest_data_file(run_dir)
    newest.write_bytes(b"")
    complete = experiment.restore_run(tiny_run).epoch
    second = int(runs.checkpoint_candidates(tiny_run)[1].rpartition("-")[2])
    capsys.readouterr()
    restored = experiment.restore_run(run_dir)
    assert restored.epoch == second < complete
    assert "cannot be read" in capsys.readouterr().err
    # Resuming does the same and finishes the run (the damaged epoch again).
    code = cli.main(["train", *TINY, "--output", str(run_dir)])
    assert code == 0
    assert experiment.restore_run(run_dir).epoch == (
        experiment.restore_run(tiny_run).epoch
    )


@pytest.mark.slow
def test_a_garbage_state_file_neither_hides_nor_restarts_a_run(
    tiny_run, tmp_path
):
    run_dir = _copy(tiny_run, tmp_path)
    (run_dir / runs.CHECKPOINT_DIR / "checkpoint").write_text("{{ garbage")
    metrics_before = (run_dir / runs.METRICS_CSV).read_text()
    assert experiment.restore_run(run_dir).epoch == (
        experiment.restore_run(tiny_run).epoch
    )
    assert cli.main(["train", *TINY, "--output", str(run_dir)]) == 0
    # Complete already: nothing was trained again or rewritten.
    assert (run_dir / runs.METRICS_CSV).read_text() == metrics_before


@pytest.mark.slow
def test_an_interrupted_start_up_starts_again(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / runs.REAL_DATA_FILE).write_text("1 2 3\n")  # half written
    (run_dir / (runs.REAL_DATA_FILE + ".tmp")).write_text("1 2")
    assert cli.main(["train", *TINY, "--output", str(run_dir)]) == 0
    assert (run_dir / runs.CONFIG_FILE).exists()
    lines = (run_dir / runs.REAL_DATA_FILE).read_text().splitlines()
    assert len(lines) == config_lib.get_preset("tiny").data.num_real


class _Poison(__import__("keras").callbacks.Callback):
    """Makes the generator's weights NaN at the end of epoch 0."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            variable = self.model.generator.trainable_variables[-1]
            variable.assign(tf.fill(variable.shape, float("nan")))


@pytest.mark.slow
def test_a_non_finite_loss_stops_before_saving_it(tmp_path):
    run_dir = tmp_path / "run"
    config = config_lib.get_preset("tiny")
    with pytest.raises(NonFiniteLossError, match="g_loss became nan"):
        experiment.train(
            config, run_dir, verbose=0, log=None, callbacks=[_Poison()]
        )
    # Epoch 0's checkpoint is the newest, and it is finite.
    restored = experiment.restore_run(run_dir)
    assert restored.epoch == 1
    for weight in restored.gan.generator.get_weights():
        assert np.isfinite(weight).all()


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_the_run_resumes(tmp_path):
    run_dir = tmp_path / "run"
    # A file-size limit makes writes fail as a full disk does (EFBIG).
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
        "from seqgan_tf import cli\n"
        f"sys.exit(cli.main(['train', '--preset', 'tiny', '--output', "
        f"{str(run_dir)!r}]))\n"
    )
    limited = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True
    )
    assert limited.returncode == 2, limited.stderr[-2000:]
    lines = [
        line for line in limited.stderr.splitlines() if "seqgan-tf" in line
    ]
    assert len(lines) == 1 and "Traceback" not in limited.stderr
    assert "File too large" in lines[0] and "resumes" in lines[0]
    assert cli.main(["train", *TINY, "--output", str(run_dir)]) == 0
    assert experiment.restore_run(run_dir).epoch == len(
        experiment.build_gan(config_lib.get_preset("tiny")).schedule(2, 1, 2)
    )


def test_stale_export_temporaries_of_dead_processes_are_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".3.tmp-{dead.pid}"
    live = tmp_path / f".4.tmp-{pathlib.os.getpid()}"
    for folder in (stale, live):
        folder.mkdir()
        (folder / "saved_model.pb").write_bytes(b"partial")
    assert export.remove_stale_temporaries(tmp_path) == [stale]
    assert not stale.exists() and live.exists()


# --- kill -9 at random moments ------------------------------------------------


def _train_command(run_dir):
    return [
        *CLI,
        "train",
        *TINY,
        "--output",
        str(run_dir),
    ]


def _kill_after(command, seconds):
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
    return process.returncode


def _checkpoint_values(run_dir):
    path = runs.checkpoint_candidates(run_dir)[0]
    reader = tf.train.load_checkpoint(path)
    return {
        name: reader.get_tensor(name)
        for name, _ in tf.train.list_variables(path)
        if "OPTIMIZER_SLOT" not in name
        and name != "_CHECKPOINTABLE_OBJECT_GRAPH"
    }


def _assert_same_weights(reference, run_dir):
    expected, got = _checkpoint_values(reference), _checkpoint_values(run_dir)
    assert expected.keys() == got.keys()
    for name, value in expected.items():
        np.testing.assert_allclose(
            got[name], value, rtol=1e-5, atol=1e-6, err_msg=name
        )


# Six minutes on 2 busy cores: in `pytest -m long`; the default run kills
# training in tests/test_cli.py and export ten times below.
@pytest.mark.long
@pytest.mark.slow
def test_train_survives_twenty_kills_at_random_moments(tmp_path):
    reference = tmp_path / "reference"
    started = time.perf_counter()
    subprocess.run(_train_command(reference), check=True, capture_output=True)
    duration = time.perf_counter() - started
    rng = random.Random(13)
    runs_done, kills, trial = 0, 0, 0
    killed = tmp_path / "killed_0"
    while kills < 20 and trial < 60:
        trial += 1
        if trial % 5 == 0:
            # Timed by a checkpoint write: killed as its index appears.
            done = len(runs.checkpoint_candidates(killed))
            target = killed / runs.CHECKPOINT_DIR / f"ckpt-{done + 1}.index"
            code = kill_when_written(
                _train_command(killed), target, duration * 2
            )
        else:
            # From start-up (interpreter, TensorFlow, data) to the end.
            code = _kill_after(
                _train_command(killed), rng.uniform(0.2, duration)
            )
        if code == -signal.SIGKILL:
            kills += 1
        elif code == 0:
            # Finished between kills: it must be the uninterrupted run.
            _assert_same_weights(reference, killed)
            runs_done += 1
            killed = tmp_path / f"killed_{runs_done}"
        else:
            raise AssertionError(f"train exited with {code}")
    assert kills >= 20
    finished = subprocess.run(
        _train_command(killed), capture_output=True, text=True
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    _assert_same_weights(reference, killed)


@pytest.mark.slow
def test_export_survives_ten_kills_without_a_partial_version(
    tiny_run, tmp_path
):
    models = tmp_path / "models"
    command = [
        *CLI,
        "export",
        "--checkpoint",
        str(tiny_run),
        "--output",
        str(models),
        "--name",
        "tiny",
    ]
    started = time.perf_counter()
    subprocess.run([*command, "--version", "99"], check=True)
    duration = time.perf_counter() - started
    shutil.rmtree(models / "tiny" / "99")
    rng = random.Random(7)
    for trial in range(10):
        _kill_after([*command, "--version", "1"], rng.uniform(0.2, duration))
        version = models / "tiny" / "1"
        # Either no version, or a complete one.
        if version.exists():
            assert (version / "saved_model.pb").exists()
            assert (version / "assets" / export.METADATA_FILE).exists()
            shutil.rmtree(version)
    final = subprocess.run(
        [*command, "--version", "1"], capture_output=True, text=True
    )
    assert final.returncode == 0, final.stderr[-3000:]
    assert (models / "tiny" / "1" / "saved_model.pb").exists()
    leftovers = [p.name for p in (models / "tiny").iterdir()]
    assert leftovers == ["1"], leftovers
