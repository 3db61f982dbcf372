"""The TF Serving export: signatures, loaders without this package, warmup
file, invalid requests, atomic writes and the CLI."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import types

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

import seqgan_tf
from seqgan_tf import cli
from seqgan_tf import config as config_lib
from seqgan_tf import experiment
from seqgan_tf import export
from seqgan_tf import losses
from seqgan_tf.data import Vocabulary
from seqgan_tf.data import vocabulary as data_vocabulary

VOCABULARY_SIZE = 26
SEQUENCE_LENGTH = 12
NAME = "tiny"


@pytest.fixture(scope="module")
def generator():
    model = seqgan_tf.Generator(
        VOCABULARY_SIZE, SEQUENCE_LENGTH, embedding_dim=4, hidden_dim=4
    )
    rng = np.random.default_rng(3)
    model.set_weights(
        [
            (0.5 * rng.standard_normal(w.shape)).astype("float32")
            for w in model.get_weights()
        ]
    )
    return model


# The tests that use this export are marked slow: writing and loading it
# takes ~3 s.
@pytest.fixture(scope="module")
def exported(generator, tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    path = export.export_generator(
        generator, base, NAME, metadata={"preset": "test"}, max_samples=50
    )
    return path


@pytest.fixture(scope="module")
def loaded(exported):
    return tf.saved_model.load(str(exported))


@pytest.mark.slow
def test_layout_and_metadata(exported):
    assert exported.name == "1" and exported.parent.name == NAME
    assert (exported / "saved_model.pb").exists()
    assert (exported / "variables").is_dir()
    metadata = json.loads(
        (exported / "assets" / export.METADATA_FILE).read_text()
    )
    assert metadata["vocabulary_size"] == VOCABULARY_SIZE
    assert metadata["sequence_length"] == SEQUENCE_LENGTH
    assert metadata["preset"] == "test"
    assert metadata["git_revision"]
    assert metadata["seqgan_tf_version"]
    # No leftovers beside the version.
    assert [p.name for p in exported.parent.iterdir()] == ["1"]


def _signature_call(loaded, name, **inputs):
    return {k: v.numpy() for k, v in loaded.signatures[name](**inputs).items()}


@pytest.mark.slow
def test_signatures_match_the_in_process_generator(generator, loaded):
    assert set(loaded.signatures) == {
        "serving_default",
        "generate",
        "complete",
        "log_prob",
    }
    seed = tf.constant([1, 2], tf.int64)
    out = _signature_call(
        loaded,
        "serving_default",
        num_samples=tf.constant(3),
        temperature=tf.constant(0.8),
        seed=seed,
    )
    expected = generator.generate(3, seed=(1, 2), temperature=0.8).numpy()
    np.testing.assert_array_equal(out["tokens"], expected)
    assert out["tokens"].dtype == np.int32
    assert [t.decode() for t in out["text"]] == [
        " ".join(str(t) for t in row) for row in expected
    ]
    log_probs = generator.log_prob(expected).numpy()
    np.testing.assert_allclose(out["log_prob"], log_probs.sum(1), rtol=1e-5)

    prefix = np.array([[5, 6, 7], [8, 9, 10]], np.int32)
    completed = _signature_call(
        loaded,
        "complete",
        prefix_tokens=tf.constant(prefix),
        temperature=tf.constant(1.0),
        seed=seed,
    )
    np.testing.assert_array_equal(completed["tokens"][:, :3], prefix)
    np.testing.assert_array_equal(
        completed["tokens"],
        generator.complete(prefix, 3, seed=(1, 2)).numpy(),
    )

    scored = _signature_call(loaded, "log_prob", tokens=tf.constant(expected))
    np.testing.assert_allclose(scored["token_log_probs"], log_probs, rtol=1e-5)
    np.testing.assert_allclose(scored["log_prob"], log_probs.sum(1), rtol=1e-5)


def test_seed_mapping():
    seeds = tf.constant([[0, 5], [2**31 - 2, 2**31 - 1], [-1, 2**40]], tf.int64)
    mapped = [export.seed_to_int32(s).numpy().tolist() for s in seeds]
    assert mapped[0] == [0, 5]
    assert mapped[1] == [2**31 - 2, 0]
    assert all(0 <= v < 2**31 - 1 for pair in mapped for v in pair)


@pytest.mark.slow
@pytest.mark.parametrize(
    "signature, inputs, named",
    [
        ("generate", {"num_samples": 0}, "num_samples"),
        ("generate", {"num_samples": 51}, "num_samples"),
        ("generate", {"temperature": 0.0}, "temperature"),
        ("generate", {"temperature": float("nan")}, "temperature"),
        ("complete", {"prefix_tokens": [[1] * 13]}, "prefix_tokens"),
        ("complete", {"prefix_tokens": [[1, 26]]}, "prefix_tokens"),
        ("complete", {"prefix_tokens": [[-1, 2]]}, "prefix_tokens"),
        ("complete", {"temperature": -1.0}, "temperature"),
        ("log_prob", {"tokens": [[1] * 11]}, "tokens"),
        ("log_prob", {"tokens": [[26] * 12]}, "tokens"),
    ],
)
def test_invalid_inputs_name_the_input(loaded, signature, inputs, named):
    defaults = {
        "generate": {"num_samples": 2, "temperature": 1.0, "seed": [0, 0]},
        "complete": {
            "prefix_tokens": [[1, 2]],
            "temperature": 1.0,
            "seed": [0, 0],
        },
        "log_prob": {"tokens": [[1] * 12]},
    }[signature]
    values = {**defaults, **inputs}
    dtypes = {
        "num_samples": tf.int32,
        "temperature": tf.float32,
        "seed": tf.int64,
        "prefix_tokens": tf.int32,
        "tokens": tf.int32,
    }
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        loaded.signatures[signature](
            **{k: tf.constant(v, dtypes[k]) for k, v in values.items()}
        )
    assert f"`{named}`" in info.value.message
    # The model still serves afterwards.
    loaded.signatures["generate"](
        num_samples=tf.constant(1),
        temperature=tf.constant(1.0),
        seed=tf.constant([0, 0], tf.int64),
    )


def _op_types(exported):
    model = saved_model_pb2.SavedModel()
    model.ParseFromString((exported / "saved_model.pb").read_bytes())
    ops = set()
    for meta_graph in model.meta_graphs:
        graph = meta_graph.graph_def
        ops.update(node.op for node in graph.node)
        for function in graph.library.function:
            ops.update(node.op for node in function.node_def)
    return ops


@pytest.mark.slow
def test_graph_has_no_python_ops(exported):
    ops = _op_types(exported)
    assert not ops & {"PyFunc", "EagerPyFunc", "PyFuncStateless"}
    # The sampler's stateless ops are in the graph (no Python RNG).
    assert "StatelessMultinomial" in ops or any("Stateless" in o for o in ops)


def _replay_warmup_file(exported, loaded, name):
    """Replays every warmup request; returns the signatures they call."""
    # tensorflow-serving-api is needed by this check only.
    from tensorflow_serving.apis import prediction_log_pb2

    path = exported / "assets.extra" / export.WARMUP_FILE
    logs = []
    for record in tf.data.TFRecordDataset(str(path)):
        log = prediction_log_pb2.PredictionLog()
        log.ParseFromString(record.numpy())
        logs.append(log)
    by_signature = {
        log.predict_log.request.model_spec.signature_name: log for log in logs
    }
    for signature_name, log in by_signature.items():
        request = log.predict_log.request
        assert request.model_spec.name == name
        signature = loaded.signatures[signature_name]
        expected_keys = set(signature.structured_input_signature[1])
        assert set(request.inputs) == expected_keys
        # The request is valid: replay it.
        signature(
            **{
                key: tf.constant(tf.make_ndarray(proto))
                for key, proto in request.inputs.items()
            }
        )
    return set(by_signature)


@pytest.mark.slow
def test_warmup_file_matches_the_signatures(exported, loaded):
    assert _replay_warmup_file(exported, loaded, NAME) == set(export.SIGNATURES)


LOADERS_SCRIPT = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery
    import json, os, subprocess, sys, tempfile

    # keras (and tf_keras) cannot be imported in this process: TensorFlow
    # imports keras from its own __init__ when it can, so merely not
    # importing it is not enough to show the loaders do not need it.
    class NoKeras(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in ("keras", "tf_keras"):
                return importlib.machinery.ModuleSpec(name, self)
            return None

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            raise ImportError("keras is blocked in this process")

    sys.meta_path.insert(0, NoKeras())

    import numpy as np
    import tensorflow as tf

    directory, cli_path = sys.argv[1], sys.argv[2]
    result = {}

    # 1. TF2 loader.
    model = tf.saved_model.load(directory)
    out = model.signatures["serving_default"](
        num_samples=tf.constant(3),
        temperature=tf.constant(1.0),
        seed=tf.constant([1, 2], tf.int64),
    )
    result["tf2"] = out["tokens"].numpy().tolist()
    result["tf2_text"] = [t.decode() for t in out["text"].numpy()]

    # 2. TF1 session loader, as TF Serving loads a SavedModel.
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        meta = tf.compat.v1.saved_model.loader.load(
            session, ["serve"], directory
        )
        signature = meta.signature_def["generate"]
        inputs = {k: v.name for k, v in signature.inputs.items()}
        outputs = {k: v.name for k, v in signature.outputs.items()}
        for count in (3, 5):
            values = session.run(
                outputs,
                {
                    inputs["num_samples"]: count,
                    inputs["temperature"]: 1.0,
                    inputs["seed"]: np.array([1, 2], np.int64),
                },
            )
            result[f"tf1_{count}"] = values["tokens"].tolist()
        scored = meta.signature_def["log_prob"]
        values = session.run(
            scored.outputs["log_prob"].name,
            {scored.inputs["tokens"].name: np.array(result["tf1_3"], np.int32)},
        )
        result["tf1_log_prob"] = values.tolist()

    # 3. saved_model_cli run.
    outdir = tempfile.mkdtemp()
    subprocess.run(
        [
            cli_path, "run", "--dir", directory, "--tag_set", "serve",
            "--signature_def", "generate",
            "--input_exprs", "num_samples=3;temperature=1.0;seed=[1,2]",
            "--outdir", outdir,
        ],
        check=True,
        capture_output=True,
    )
    result["cli"] = np.load(os.path.join(outdir, "tokens.npy")).tolist()

    result["seqgan_tf_imported"] = "seqgan_tf" in sys.modules
    result["keras_imported"] = "keras" in sys.modules
    print("RESULT " + json.dumps(result))
    """
)


@pytest.mark.slow
def test_loads_without_this_package_tf1_loader_and_saved_model_cli(
    generator, exported
):
    cli_path = pathlib.Path(sys.executable).with_name("saved_model_cli")
    assert cli_path.exists()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.run(
        [sys.executable, "-c", LOADERS_SCRIPT, str(exported), str(cli_path)],
        check=False,
        capture_output=True,
        text=True,
        cwd=exported.parent,
        env=env,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    lines = [
        line
        for line in process.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    result = json.loads(lines[-1][len("RESULT ") :])
    expected = generator.generate(3, seed=(1, 2)).numpy().tolist()
    assert result["tf2"] == expected
    assert result["tf1_3"] == expected
    assert result["cli"] == expected
    assert len(result["tf1_5"]) == 5
    assert result["tf2_text"][0] == " ".join(str(t) for t in expected[0])
    np.testing.assert_allclose(
        result["tf1_log_prob"],
        generator.log_prob(np.array(expected)).numpy().sum(1),
        rtol=1e-5,
    )
    assert not result["seqgan_tf_imported"]
    assert not result["keras_imported"]


@pytest.mark.slow
def test_versions_increment_and_are_not_overwritten(generator, tmp_path):
    first = export.export_generator(generator, tmp_path, "m")
    second = export.export_generator(generator, tmp_path, "m")
    assert (first.name, second.name) == ("1", "2")
    before = (first / "saved_model.pb").stat().st_mtime_ns
    with pytest.raises(export.ExportError, match="already exists"):
        export.export_generator(generator, tmp_path, "m", version=1)
    assert (first / "saved_model.pb").stat().st_mtime_ns == before
    again = export.export_generator(
        generator, tmp_path, "m", version=1, overwrite=True
    )
    assert again == first and (first / "saved_model.pb").exists()
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1", "2"]
    assert export.resolve_saved_model(tmp_path / "m") == second
    with pytest.raises(export.ExportError):
        export.export_generator(generator, tmp_path, "a/b")


@pytest.mark.slow
def test_interrupted_export_leaves_nothing(generator, tmp_path, monkeypatch):
    # `keras.export.ExportArchive()` returns an instance of a backend class.
    archive_class = type(keras.export.ExportArchive())
    original = archive_class.write_out

    def write_then_fail(self, filepath, *args, **kwargs):
        original(self, filepath, *args, **kwargs)  # half of the version
        assert (pathlib.Path(filepath) / "saved_model.pb").exists()
        raise KeyboardInterrupt

    monkeypatch.setattr(archive_class, "write_out", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        export.export_generator(generator, tmp_path, "m")
    assert list((tmp_path / "m").iterdir()) == []
    # With overwrite, a failure keeps the old version.
    monkeypatch.undo()
    kept = export.export_generator(generator, tmp_path, "m")
    monkeypatch.setattr(archive_class, "write_out", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        export.export_generator(generator, tmp_path, "m", 1, overwrite=True)
    assert [p.name for p in (tmp_path / "m").iterdir()] == ["1"]
    assert (kept / "saved_model.pb").exists()


# --- text (data vocabulary) exports -------------------------------------

TEXT_WORDS = [
    "a",
    "cat",
    "dog",
    "sat",
    "on",
    "the",
    "mat",
    "ran",
    "big",
    "small",
    "red",
    "blue",
    "green",
    "tree",
    "house",
    "sky",
]
TEXT_LENGTH = 8
TEXT_NAME = "text"


@pytest.fixture(scope="module")
def text_vocabulary():
    return Vocabulary(TEXT_WORDS)  # 4 special tokens + 16 words = 20


@pytest.fixture(scope="module")
def text_generator(text_vocabulary):
    model = seqgan_tf.Generator(
        len(text_vocabulary),
        TEXT_LENGTH,
        embedding_dim=4,
        hidden_dim=4,
        eos_id=2,
        pad_id=0,
    )
    rng = np.random.default_rng(5)
    weights = [
        (0.5 * rng.standard_normal(w.shape)).astype("float32")
        for w in model.get_weights()
    ]
    # Make EOS (and PAD, BOS before it) likely, so rows end at varied places.
    weights[-1][[0, 1, 2]] += np.float32(1.5)
    model.set_weights(weights)
    return model


# The tests that use this export are marked slow, as those of `exported`.
@pytest.fixture(scope="module")
def text_exported(text_generator, text_vocabulary, tmp_path_factory):
    base = tmp_path_factory.mktemp("text_export")
    return export.export_generator(
        text_generator,
        base,
        TEXT_NAME,
        metadata={"preset": "test", "tokenizer": "whitespace"},
        max_samples=50,
        vocabulary=text_vocabulary,
    )


@pytest.fixture(scope="module")
def text_loaded(text_exported):
    return tf.saved_model.load(str(text_exported))


def _masked_log_prob(generator, tokens):
    token_log_probs = generator.log_prob(tokens).numpy()
    mask = losses.padding_mask(tokens, generator.eos_id).numpy()
    token_log_probs = np.where(mask, token_log_probs, 0.0)
    return token_log_probs, token_log_probs.sum(1)


def test_special_ids_match_the_data_vocabulary():
    assert (export.PAD_ID, export.BOS_ID, export.EOS_ID, export.UNK_ID) == (
        data_vocabulary.PAD_ID,
        data_vocabulary.BOS_ID,
        data_vocabulary.EOS_ID,
        data_vocabulary.UNK_ID,
    )
    assert export.NUM_SPECIAL == data_vocabulary.NUM_SPECIAL


@pytest.mark.parametrize("separator", [" ", ""])
def test_graph_detokenize_equals_decode(text_vocabulary, separator):
    graph = export.GraphVocabulary.from_data_vocabulary(
        text_vocabulary, separator
    )
    rows = np.array(
        [
            [4, 5, 2, 6, 0, 0],  # stops at EOS
            [1, 4, 0, 3, 5, 6],  # BOS and PAD left out, UNK kept
            [2, 4, 5, 6, 7, 8],  # EOS first: empty text
            [4, 5, 6, 7, 8, 9],  # no EOS
        ],
        np.int32,
    )
    texts = [t.decode() for t in graph.detokenize(tf.constant(rows)).numpy()]
    assert texts == [
        separator.join(text_vocabulary.decode(row.tolist())) for row in rows
    ]
    assert texts[2] == ""


@pytest.mark.slow
def test_text_export_layout_and_metadata(text_exported, text_vocabulary):
    assets = text_exported / "assets"
    assert Vocabulary.load(assets / "vocabulary.txt") == text_vocabulary
    assert (assets / "vocabulary.txt").read_text() == "".join(
        token + "\n" for token in text_vocabulary.tokens
    )
    metadata = json.loads((assets / export.METADATA_FILE).read_text())
    assert metadata["signatures"] == [
        "serving_default",
        "generate",
        "complete",
        "log_prob",
        "prefix_text",
    ]
    vocabulary = metadata["vocabulary"]
    assert vocabulary["size"] == len(text_vocabulary) == 20
    assert vocabulary["separator"] == " "
    assert (vocabulary["eos_id"], vocabulary["pad_id"]) == (2, 0)
    assert vocabulary["tokenizer"] == "whitespace"
    assert vocabulary["file"] == "vocabulary.txt"
    # The export did not change where the caller's vocabulary lives.
    assert text_vocabulary.path is None


@pytest.mark.slow
def test_text_export_warmup_and_ops(text_exported, text_loaded):
    replayed = _replay_warmup_file(text_exported, text_loaded, TEXT_NAME)
    assert replayed == {*export.SIGNATURES, "prefix_text"}
    ops = _op_types(text_exported)
    assert not ops & {"PyFunc", "EagerPyFunc", "PyFuncStateless"}
    assert "LookupTableFindV2" in ops


def test_text_export_rejects_mismatches(text_vocabulary, tmp_path):
    small = seqgan_tf.Generator(19, 4, embedding_dim=2, hidden_dim=2)
    with pytest.raises(export.ExportError, match="20 tokens.*19"):
        export.export_generator(
            small, tmp_path, "m", vocabulary=text_vocabulary
        )
    other_eos = seqgan_tf.Generator(
        20, 4, embedding_dim=2, hidden_dim=2, eos_id=5, pad_id=0
    )
    with pytest.raises(export.ExportError, match="eos_id=5"):
        export.export_generator(
            other_eos, tmp_path, "m", vocabulary=text_vocabulary
        )
    assert not (tmp_path / "m").exists() or not list((tmp_path / "m").iterdir())


TEXT_SCRIPT = textwrap.dedent(
    """
    import importlib.abc, importlib.machinery
    import json, sys

    class NoKeras(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in ("keras", "tf_keras"):
                return importlib.machinery.ModuleSpec(name, self)
            return None

        def create_module(self, spec):
            return None

        def exec_module(self, module):
            raise ImportError("keras is blocked in this process")

    sys.meta_path.insert(0, NoKeras())

    import numpy as np
    import tensorflow as tf

    directory = sys.argv[1]
    prefixes = json.loads(sys.argv[2])
    too_long = sys.argv[3]
    result = {}

    def run(signature, **inputs):
        out = model.signatures[signature](**inputs)
        return {
            k: [t.decode() for t in v.numpy()] if v.dtype == tf.string
            else v.numpy().tolist()
            for k, v in out.items()
        }

    model = tf.saved_model.load(directory)
    seed = tf.constant([1, 2], tf.int64)
    result["generate"] = run(
        "generate", num_samples=tf.constant(16),
        temperature=tf.constant(1.0), seed=seed,
    )
    result["log_prob"] = run(
        "log_prob",
        tokens=tf.constant(result["generate"]["tokens"], tf.int32),
    )
    result["prefix_text"] = run(
        "prefix_text", prefix_text=tf.constant(prefixes),
        temperature=tf.constant(1.0), seed=seed,
    )
    try:
        run(
            "prefix_text", prefix_text=tf.constant([prefixes[0], too_long]),
            temperature=tf.constant(1.0), seed=seed,
        )
        result["too_long"] = None
    except tf.errors.InvalidArgumentError as error:
        result["too_long"] = error.message

    # TF1 session loader (TF Serving's code path): the lookup table is
    # initialised by the SavedModel's init op.
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as session:
        meta = tf.compat.v1.saved_model.loader.load(
            session, ["serve"], directory
        )
        signature = meta.signature_def["prefix_text"]
        values = session.run(
            {k: v.name for k, v in signature.outputs.items()},
            {
                signature.inputs["prefix_text"].name: np.array(
                    prefixes, object
                ),
                signature.inputs["temperature"].name: 1.0,
                signature.inputs["seed"].name: np.array([1, 2], np.int64),
            },
        )
        result["tf1_prefix_tokens"] = values["tokens"].tolist()

    result["keras_imported"] = "keras" in sys.modules
    result["seqgan_tf_imported"] = "seqgan_tf" in sys.modules
    print("RESULT " + json.dumps(result))
    """
)


@pytest.mark.slow
def test_text_export_without_this_package(
    text_generator, text_vocabulary, text_exported
):
    prefixes = ["a cat", "the zebra sat", "", "  big \t red  "]
    too_long = " ".join(["dog"] * TEXT_LENGTH)  # T tokens > T - 1
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            TEXT_SCRIPT,
            str(text_exported),
            json.dumps(prefixes),
            too_long,
        ],
        check=False,
        capture_output=True,
        text=True,
        cwd=text_exported.parent,
        env=env,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    lines = [
        line
        for line in process.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    result = json.loads(lines[-1][len("RESULT ") :])
    assert not result["keras_imported"]
    assert not result["seqgan_tf_imported"]

    # generate: the in-process sampler's tokens, text = decode + join.
    generated = result["generate"]
    tokens = np.array(generated["tokens"], np.int32)
    np.testing.assert_array_equal(
        tokens, text_generator.generate(16, seed=(1, 2)).numpy()
    )
    ends = [row.tolist().index(2) for row in tokens if 2 in row]
    assert len(set(ends)) > 1, "the test needs rows ending at varied places"
    assert generated["text"] == [
        " ".join(text_vocabulary.decode(row.tolist())) for row in tokens
    ]
    token_log_probs, totals = _masked_log_prob(text_generator, tokens)
    np.testing.assert_allclose(generated["log_prob"], totals, rtol=1e-5)
    # Positions after EOS are zero and do not count.
    scored = result["log_prob"]
    np.testing.assert_allclose(
        scored["token_log_probs"], token_log_probs, rtol=1e-5, atol=1e-7
    )
    np.testing.assert_allclose(scored["log_prob"], totals, rtol=1e-5)
    unmasked = text_generator.log_prob(tokens).numpy().sum(1)
    assert not np.allclose(totals, unmasked)

    # prefix_text: whitespace split, unknown word -> UNK, then `complete`.
    completed = result["prefix_text"]
    ids = [
        text_vocabulary.encode(text.split(), add_eos=False) for text in prefixes
    ]
    assert ids[1][1] == 3  # "zebra" is unknown
    rows = np.array(completed["tokens"], np.int32)
    assert rows.shape == (len(prefixes), TEXT_LENGTH)
    for row, prefix in zip(rows, ids):
        assert row[: len(prefix)].tolist() == prefix
    np.testing.assert_array_equal(result["tf1_prefix_tokens"], rows)
    prefix = np.zeros((len(ids), TEXT_LENGTH), np.int32)
    for i, row in enumerate(ids):
        prefix[i, : len(row)] = row
    expected = text_generator.complete(
        prefix, [len(row) for row in ids], seed=(1, 2)
    ).numpy()
    np.testing.assert_array_equal(rows, expected)
    assert completed["text"] == [
        " ".join(text_vocabulary.decode(row.tolist())) for row in rows
    ]
    np.testing.assert_allclose(
        completed["log_prob"],
        _masked_log_prob(text_generator, rows)[1],
        rtol=1e-5,
    )
    assert result["too_long"] is not None
    assert "`prefix_text`" in result["too_long"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "inputs",
    [
        {"prefix_text": []},
        {"prefix_text": ["a"] * 51},
        {"prefix_text": ["a b c d e f g h"]},
        {"temperature": 0.0},
    ],
)
def test_prefix_text_invalid_inputs(text_loaded, inputs):
    values = {
        "prefix_text": ["a cat"],
        "temperature": 1.0,
        "seed": [0, 0],
        **inputs,
    }
    dtypes = {
        "prefix_text": tf.string,
        "temperature": tf.float32,
        "seed": tf.int64,
    }
    named = "temperature" if "temperature" in inputs else "prefix_text"
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        text_loaded.signatures["prefix_text"](
            **{k: tf.constant(v, dtypes[k]) for k, v in values.items()}
        )
    assert f"`{named}`" in info.value.message


def _fake_run(tmp_path, generator, vocabulary, tokenizer):
    """A restored run for `export_run`, as `experiment.restore_run` returns
    it, at epoch 3 and with its vocabulary read back from the run folder
    (restoring a checkpoint is tested with real runs below)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    if vocabulary is not None:
        vocabulary.save(run_dir / "vocabulary.txt")
        vocabulary = Vocabulary.load(run_dir / "vocabulary.txt")
    config = types.SimpleNamespace(
        preset="test",
        data=types.SimpleNamespace(task="text", tokenizer=tokenizer),
    )
    return types.SimpleNamespace(
        config=config,
        gan=types.SimpleNamespace(generator=generator),
        epoch=3,
        run_dir=run_dir,
        vocabulary=vocabulary,
    )


@pytest.mark.slow
def test_export_run_uses_the_run_vocabulary(text_generator, tmp_path):
    # Single characters; "" joins them.
    vocabulary = Vocabulary(list("abcdefghijklmnop"))
    run = _fake_run(tmp_path, text_generator, vocabulary, "character")
    target = export.export_run(run, tmp_path / "models", "chars")
    metadata = json.loads(
        (target / "assets" / export.METADATA_FILE).read_text()
    )
    assert metadata["vocabulary"]["separator"] == ""
    assert metadata["vocabulary"]["tokenizer"] == "character"
    assert metadata["checkpoint_epoch"] == 3
    assert "prefix_text" in metadata["signatures"]
    assert Vocabulary.load(target / "assets" / "vocabulary.txt") == vocabulary
    loaded = tf.saved_model.load(str(target))
    out = loaded.signatures["generate"](
        num_samples=tf.constant(4),
        temperature=tf.constant(1.0),
        seed=tf.constant([0, 0], tf.int64),
    )
    assert [t.decode() for t in out["text"].numpy()] == [
        "".join(vocabulary.decode(row)) for row in out["tokens"].numpy()
    ]


def test_export_run_vocabulary_size_mismatch(text_generator, tmp_path):
    run = _fake_run(tmp_path, text_generator, Vocabulary(["x", "y"]), None)
    with pytest.raises(export.ExportError) as info:
        export.export_run(run, tmp_path / "models", "m")
    assert "6 tokens" in str(info.value) and "20" in str(info.value)
    assert not (tmp_path / "models" / "m").exists() or not list(
        (tmp_path / "models" / "m").iterdir()
    )


# --- CLI -----------------------------------------------------------------


def _run(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_line_error(code, err, message):
    assert code == 2, err
    lines = [
        line
        for line in err.strip().splitlines()
        if line.startswith("seqgan-tf")
    ]
    assert len(lines) == 1 and lines[0].startswith("seqgan-tf: error:"), err
    assert message in lines[0], lines[0]
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    config = config_lib.with_overrides(
        config_lib.get_preset("tiny"),
        [
            "training.generator_epochs=1",
            "training.discriminator_rounds=0",
            "training.adversarial_rounds=0",
        ],
    )
    experiment.train(config, run_dir, verbose=0, log=None)
    return run_dir


@pytest.mark.slow
def test_cli_export_and_generate(tiny_run, tmp_path, capsys):
    output = tmp_path / "models"
    args = ["export", "--checkpoint", str(tiny_run), "--output", str(output)]
    code, out, err = _run([*args, "--name", "tiny"], capsys)
    assert code == 0, err
    version = output / "tiny" / "1"
    assert (version / "saved_model.pb").exists()
    metadata_path = version / "assets" / export.METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    assert metadata["preset"] == "tiny"

    code, out, err = _run(
        [
            "generate",
            "--saved-model",
            str(output / "tiny"),
            "-n",
            "4",
            "--temperature",
            "0.8",
            "--seed",
            "1",
        ],
        capsys,
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 4
    assert all(len(line.split()) == SEQUENCE_LENGTH for line in lines)
    assert all(
        0 <= int(t) < VOCABULARY_SIZE for line in lines for t in line.split()
    )
    # The checkpoint the export came from prints the same samples.
    code, out, err = _run(
        [
            "generate",
            "--checkpoint",
            str(tiny_run),
            "-n",
            "4",
            "--temperature",
            "0.8",
            "--seed",
            "1",
        ],
        capsys,
    )
    assert code == 0, err
    assert out.strip().splitlines() == lines

    code, _, err = _run([*args, "--name", "tiny", "--version", "1"], capsys)
    _assert_one_line_error(code, err, "already exists")
    code, _, err = _run(
        [
            "export",
            "--checkpoint",
            str(tmp_path / "nope"),
            "--output",
            str(output),
        ],
        capsys,
    )
    _assert_one_line_error(code, err, "nope")
    code, _, err = _run(
        ["generate", "--saved-model", str(version), "-n", "0"], capsys
    )
    _assert_one_line_error(code, err, "-n must be in [1,")
    code, _, err = _run(
        ["generate", "--saved-model", str(version), "-n", "20000"], capsys
    )
    _assert_one_line_error(code, err, "num_samples")
    code, _, err = _run(
        ["generate", "--saved-model", str(tmp_path / "nope")], capsys
    )
    _assert_one_line_error(code, err, "nope")
    code, _, err = _run(["generate"], capsys)
    _assert_one_line_error(code, err, "exactly one of")
