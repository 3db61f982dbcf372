"""Shared pytest setup: tiny, seeded models and a no-network fixture.

The `slow` marker is registered in pyproject.toml.
"""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

import seqgan_tf

# Tiny shapes used across the test files.
VOCABULARY_SIZE = 26
SEQUENCE_LENGTH = 12
HIDDEN_DIM = 4

# The CLI as a subprocess runs it: `[*CLI, "train", ...]`.
CLI = [sys.executable, "-m", "seqgan_tf.cli"]

ROOT = pathlib.Path(__file__).resolve().parents[1]

# A tiny English corpus for text-task runs (CLI, notebooks).
TINY_SENTENCES = [
    "a cat sat on the mat .",
    "a dog sat on the log .",
    "the cat saw a dog .",
    "a bird flew over the mat .",
    "the dog ran to the cat .",
    "a cat and a dog sat .",
    "the bird sat on the dog .",
    "a mat on the log .",
]


def _seeded_weights(model, seed, stddev):
    rng = np.random.default_rng(seed)
    model.set_weights(
        [
            (stddev * rng.standard_normal(w.shape)).astype("float32")
            for w in model.get_weights()
        ]
    )
    return model


@pytest.fixture
def make_generator():
    """Factory for tiny `Generator`s whose weights are N(0, stddev) by `seed`.

    The weights come from NumPy, not from Keras' global RNG, so a test gets
    the same model whatever ran before it.
    """

    def make(seed=0, stddev=0.1, **kwargs):
        kwargs.setdefault("vocabulary_size", VOCABULARY_SIZE)
        kwargs.setdefault("sequence_length", SEQUENCE_LENGTH)
        kwargs.setdefault("embedding_dim", HIDDEN_DIM)
        kwargs.setdefault("hidden_dim", HIDDEN_DIM)
        return _seeded_weights(seqgan_tf.Generator(**kwargs), seed, stddev)

    return make


def kill_when_written(command, target, timeout, log=None):
    """Starts `command`, kills it hard (SIGKILL) once `target` exists (or
    `timeout` seconds passed) unless it ended first; returns its exit
    status (-SIGKILL when killed). `log`: a file for its output (to show
    why, when it ended before `target` appeared)."""
    with open(log or os.devnull, "w") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT
        )
        deadline = time.time() + timeout
        while (
            not target.exists()
            and process.poll() is None
            and time.time() < deadline
        ):
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)  # a no-op once it has ended
        return process.wait()


# The most columns a reproduction's Markdown table may have: the docs site
# shows about 7 columns of numbers whole at 1280 px.
MAX_TABLE_COLUMNS = 7


def markdown_tables(text):
    """The Markdown tables of `text`: [(header cells, [row cells])]."""
    tables, block = [], []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append([c.strip() for c in line.strip("|").split("|")])
        elif block:
            tables.append((block[0], block[2:]))
            block = []
    return tables


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The documentation site built once with `mkdocs build --strict`, for
    every test that reads it (test_docs, test_reference): the finished
    process and the site's directory."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    site = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    return result, site


@pytest.fixture
def no_network(monkeypatch):
    """Fails the test if it opens a network connection (use with
    `pytest.mark.usefixtures("no_network")`)."""

    def refuse(*args, **kwargs):
        raise AssertionError("test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# The small random oracle of the trainer tests (test_trainer, test_probe).
VOCABULARY, LENGTH = 26, 12


@pytest.fixture(scope="module")
def oracle():
    return seqgan_tf.OracleLSTM.random(
        VOCABULARY, LENGTH, embedding_dim=8, hidden_dim=8, seed=0
    )


@pytest.fixture(scope="module")
def real(oracle):
    return oracle.generate(128, seed=(0, 1)).numpy()


# The longest tests start first, so that the two xdist workers of the
# README's test command end together instead of one waiting for them.
LONGEST_FIRST = (
    "test_quick_preset.py",  # when selected (-m long)
    "test_family.py::test_method_resumes_exactly[leakgan]",
    "test_stages.py::test_jobs_and_a_killed_reproduction",
    "test_reproduce.py::test_reproduce_tiny",
)


def pytest_collection_modifyitems(config, items):
    del config
    items.sort(
        key=lambda item: not any(name in item.nodeid for name in LONGEST_FIRST)
    )
