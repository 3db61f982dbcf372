"""The TF Serving export: signatures, loaders without this package, warmup
file, invalid requests, atomic writes and the CLI."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from seqgan_tf import cli
from seqgan_tf import export

VOCABULARY_SIZE = 26
SEQUENCE_LENGTH = 12
NAME = "tiny"


@pytest.fixture(scope="module")
def generator():
    import seqgan_tf

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
    return {
        k: v.numpy() for k, v in loaded.signatures[name](**inputs).items()
    }


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


@pytest.mark.parametrize(
    "signature, inputs, named",
    [
        ("generate", dict(num_samples=0), "num_samples"),
        ("generate", dict(num_samples=51), "num_samples"),
        ("generate", dict(temperature=0.0), "temperature"),
        ("generate", dict(temperature=float("nan")), "temperature"),
        ("complete", dict(prefix_tokens=[[1] * 13]), "prefix_tokens"),
        ("complete", dict(prefix_tokens=[[1, 26]]), "prefix_tokens"),
        ("complete", dict(prefix_tokens=[[-1, 2]]), "prefix_tokens"),
        ("complete", dict(temperature=-1.0), "temperature"),
        ("log_prob", dict(tokens=[[1] * 11]), "tokens"),
        ("log_prob", dict(tokens=[[26] * 12]), "tokens"),
    ],
)
def test_invalid_inputs_name_the_input(loaded, signature, inputs, named):
    defaults = {
        "generate": dict(num_samples=2, temperature=1.0, seed=[0, 0]),
        "complete": dict(prefix_tokens=[[1, 2]], temperature=1.0, seed=[0, 0]),
        "log_prob": dict(tokens=[[1] * 12]),
    }[signature]
    values = {**defaults, **inputs}
    dtypes = dict(
        num_samples=tf.int32,
        temperature=tf.float32,
        seed=tf.int64,
        prefix_tokens=tf.int32,
        tokens=tf.int32,
    )
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
    from tensorflow.core.protobuf import saved_model_pb2

    model = saved_model_pb2.SavedModel()
    model.ParseFromString((exported / "saved_model.pb").read_bytes())
    ops = set()
    for meta_graph in model.meta_graphs:
        graph = meta_graph.graph_def
        ops.update(node.op for node in graph.node)
        for function in graph.library.function:
            ops.update(node.op for node in function.node_def)
    return ops


def test_graph_has_no_python_ops(exported):
    ops = _op_types(exported)
    assert not ops & {"PyFunc", "EagerPyFunc", "PyFuncStateless"}
    # The sampler's stateless ops are in the graph (no Python RNG).
    assert "StatelessMultinomial" in ops or any("Stateless" in o for o in ops)


def test_warmup_file_matches_the_signatures(exported, loaded):
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
    assert set(by_signature) == set(export.SIGNATURES)
    for name, log in by_signature.items():
        request = log.predict_log.request
        assert request.model_spec.name == NAME
        signature = loaded.signatures[name]
        expected_keys = set(signature.structured_input_signature[1])
        assert set(request.inputs) == expected_keys
        # The request is valid: replay it.
        signature(
            **{
                key: tf.constant(tf.make_ndarray(proto))
                for key, proto in request.inputs.items()
            }
        )


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


def test_loads_without_this_package_tf1_loader_and_saved_model_cli(
    generator, exported
):
    cli_path = pathlib.Path(sys.executable).with_name("saved_model_cli")
    assert cli_path.exists()
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    process = subprocess.run(
        [sys.executable, "-c", LOADERS_SCRIPT, str(exported), str(cli_path)],
        capture_output=True,
        text=True,
        cwd=exported.parent,
        env=env,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    line = [l for l in process.stdout.splitlines() if l.startswith("RESULT ")]
    result = json.loads(line[-1][len("RESULT ") :])
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


def test_interrupted_export_leaves_nothing(generator, tmp_path, monkeypatch):
    import keras

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


# --- CLI -----------------------------------------------------------------


def _run(args, capsys):
    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_line_error(code, err, message):
    assert code == 2, err
    lines = [l for l in err.strip().splitlines() if l.startswith("seqgan-tf")]
    assert len(lines) == 1 and lines[0].startswith("seqgan-tf: error:"), err
    assert message in lines[0], lines[0]
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    assert (
        cli.main(
            [
                "train",
                "--preset",
                "tiny",
                "--verbose",
                "0",
                "--output",
                str(run_dir),
                "--set",
                "training.generator_epochs=1",
                "--set",
                "training.discriminator_rounds=0",
                "--set",
                "training.adversarial_rounds=0",
            ]
        )
        == 0
    )
    return run_dir


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
        ["generate", "--saved-model", str(output / "tiny"), "-n", "4",
         "--temperature", "0.8", "--seed", "1"],
        capsys,
    )
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 4
    assert all(len(line.split()) == SEQUENCE_LENGTH for line in lines)
    assert all(0 <= int(t) < VOCABULARY_SIZE for l in lines for t in l.split())
    # The checkpoint the export came from prints the same samples.
    code, out, err = _run(
        ["generate", "--checkpoint", str(tiny_run), "-n", "4",
         "--temperature", "0.8", "--seed", "1"],
        capsys,
    )
    assert code == 0, err
    assert out.strip().splitlines() == lines

    code, _, err = _run([*args, "--name", "tiny", "--version", "1"], capsys)
    _assert_one_line_error(code, err, "already exists")
    code, _, err = _run(
        ["export", "--checkpoint", str(tmp_path / "nope"), "--output",
         str(output)],
        capsys,
    )
    _assert_one_line_error(code, err, "nope")
    code, _, err = _run(
        ["generate", "--saved-model", str(version), "-n", "0"], capsys
    )
    _assert_one_line_error(code, err, "-n must be >= 1")
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
