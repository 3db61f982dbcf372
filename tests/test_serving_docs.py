"""The serving examples of docs/export.md, checked against real exports.

The page shows REST requests and responses and the gRPC client's output
for two small seeded generators: an oracle-task layout (vocabulary 5,000,
length 20) exported as `seqgan`, and a text run's generator (33 ids: the
4 special tokens and 29 words) exported as `captions`. The bodies are
files under docs/serving/, included into the page. TF Serving's model
server is not installed here, so these tests do its part without it:

- a request file is parsed the way the server's REST layer parses a
  columnar ("inputs") request (each input typed by the signature), fed to
  the signature of the SavedModel loaded with `tf.saved_model.load`, and
  the outputs are written as the server writes a columnar response
  ("outputs"; float32 as `%g`, or `%.9g` when `%g` does not round-trip);
  the result must equal the committed response file, floats within a
  relative 1e-5 (the last digits of a float32 log-probability may differ
  between CPUs; tokens and text must be equal);
- export/rest_client.py must build the committed request bodies, and
  export/grpc_client.py a `PredictRequest` holding the same tensors;
- the gRPC client's printed output is that of its `main` with the network
  call replaced by the SavedModel's signature.

`SEQGAN_TF_REGENERATE_DOCS=1 pytest tests/test_serving_docs.py` rewrites the
files under docs/serving/ (after a change of the examples, the signatures or
TensorFlow's numerics) before checking them.
"""

import base64
import importlib.util
import io
import json
import math
import os
import pathlib
import re
import shlex
from contextlib import redirect_stdout

import numpy as np
import pytest
import tensorflow as tf

import seqgan_tf
from seqgan_tf import export
from seqgan_tf.data import Vocabulary

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "export.md"
SERVING_DOCS = ROOT / "docs" / "serving"
REGENERATE = os.environ.get("SEQGAN_TF_REGENERATE_DOCS") == "1"
# Float outputs agree with the committed ones to this relative tolerance.
FLOAT_RTOL = 1e-5

ORACLE_NAME = "seqgan"
TEXT_NAME = "captions"
ORACLE_SHAPE = (5000, 20)  # vocabulary size, sequence length
TEXT_LENGTH = 12
MODEL_URL = "http://localhost:8501/v1/models/{}:predict"
CAPTIONS = [
    "a cat sat on the mat .",
    "a dog sat on the log .",
    "the cat saw a dog .",
    "a bird flew over the mat .",
    "the dog ran to the cat .",
    "a man riding a wave on top of a surfboard .",
    "two dogs play in the grass .",
    "a plate of food on a table .",
]


def _load_script(name):
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "export" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page_commands(program):
    """The page's shell commands (continuation lines joined) that start
    with `program`, split as the shell splits them."""
    text = PAGE.read_text(encoding="utf-8").replace("\\\n", " ")
    return [
        shlex.split(line.strip(), comments=True)
        for line in text.splitlines()
        if line.strip().startswith(program + " ")
    ]


def _seeded_weights(model, seed, stddev):
    """Weights N(0, stddev^2) from NumPy's generator: the same on every
    machine, whatever Keras' global RNG did before."""
    rng = np.random.default_rng(seed)
    return [
        (stddev * rng.standard_normal(w.shape)).astype("float32")
        for w in model.get_weights()
    ]


def oracle_generator():
    """The page's oracle-task generator: the paper's shapes, seeded
    random weights."""
    model = seqgan_tf.Generator(*ORACLE_SHAPE, embedding_dim=32, hidden_dim=32)
    model.set_weights(_seeded_weights(model, 0, 0.5))
    return model


def text_vocabulary():
    return Vocabulary.build(caption.split() for caption in CAPTIONS)


def text_generator(vocabulary):
    """The page's text-run generator: variable length (EOS 2, PAD 0) over
    the captions' vocabulary, seeded random weights."""
    model = seqgan_tf.Generator(
        len(vocabulary),
        TEXT_LENGTH,
        embedding_dim=8,
        hidden_dim=8,
        eos_id=2,
        pad_id=0,
    )
    weights = _seeded_weights(model, 5, 0.5)
    weights[-1][2] += np.float32(1.0)  # EOS likelier: rows end early
    model.set_weights(weights)
    return model


# --- TF Serving's REST API ---------------------------------------------------


class RestError(ValueError):
    """A request TF Serving's REST layer answers with HTTP 400."""


def _json_scalar(value, dtype):
    if dtype == tf.string:
        if isinstance(value, dict) and set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        if not isinstance(value, str):
            raise RestError(f"{value!r} is not of expected type: DT_STRING")
        return value.encode("utf-8")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RestError(f"{value!r} is not a number")
    if dtype.is_integer:
        if not isinstance(value, int) or not (dtype.min <= value <= dtype.max):
            raise RestError(f"{value!r} is not of expected type: {dtype.name}")
        return value
    if dtype == tf.float32:
        # Lossless: integers up to 2**24, finite values within float32.
        limit = 2**24 if isinstance(value, int) else dtype.max
        if math.isfinite(value) and abs(value) > limit:
            raise RestError(f"{value!r} does not fit float without loss")
        return value
    raise RestError(f"no JSON conversion to {dtype.name} here")


def _tensor_from_json(value, dtype):
    """A JSON value -> an array of `dtype`: the shape is read along the
    first elements and every list must be of that size (no ragged
    tensors); a scalar is a 0-d tensor."""
    shape, probe = [], value
    while isinstance(probe, list):
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    flat = []

    def fill(item, level):
        if not isinstance(item, list):
            if level != len(shape):
                raise RestError(f"{item!r} found at incorrect level")
            flat.append(_json_scalar(item, dtype))
            return
        if level >= len(shape) or len(item) != shape[level]:
            raise RestError(f"a list of unexpected size at level {level}")
        for element in item:
            fill(element, level + 1)

    fill(value, 0)
    numpy_dtype = object if dtype == tf.string else dtype.as_numpy_dtype
    return np.array(flat, numpy_dtype).reshape(shape)


def parse_rest_request(text, signatures):
    """A columnar `:predict` body -> (signature name, {input: array}), with
    each input typed by the signature's inputs, as TF Serving's REST layer
    parses it (the row format, "instances", is not used by the page: it
    adds a batch dimension to every input, which scalar inputs such as
    `num_samples` do not have)."""
    body = json.loads(text)
    if not isinstance(body, dict):
        raise RestError("the request is not a JSON object")
    name = body.get("signature_name", "serving_default")
    if not isinstance(name, str):
        raise RestError("'signature_name' key must be a string value")
    if name not in signatures:
        raise RestError(f"Serving signature name: {name!r} not found")
    if "instances" in body:
        raise RestError("row format: not what the page's requests use")
    if "inputs" not in body:
        raise RestError("Missing 'inputs' or 'instances' key")
    specs = signatures[name].structured_input_signature[1]
    values = body["inputs"]
    if not isinstance(values, dict) or set(values) == {"b64"}:
        if len(specs) > 1:
            raise RestError(
                "inputs is a plain value/list, but expecting an object"
            )
        values = {next(iter(specs)): values}
    inputs = {}
    for key, spec in specs.items():  # the server ignores other keys
        if key not in values:
            raise RestError(f"Missing named input: {key} in 'inputs' object.")
        inputs[key] = _tensor_from_json(values[key], spec.dtype)
    return name, inputs


def tf_serving_float(value):
    """A float32 as TF Serving writes it into JSON: `%g` (six digits) if
    that reads back as the same float32, else `%.9g`; ".0" appended to
    whole numbers; NaN and +-Infinity spelled out."""
    value = np.float32(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    text = "%g" % float(value)
    if np.float32(float(text)) != value:
        text = "%.9g" % float(value)
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def _json_value(array):
    if array.dtype == object or array.dtype.kind in "SU":
        return np.vectorize(
            lambda s: s.decode("utf-8") if isinstance(s, bytes) else s,
            otypes=[object],
        )(array).tolist()
    if array.dtype.kind == "f":
        return array.astype(np.float64).tolist()
    return array.tolist()


def rest_response(outputs):
    """Output arrays -> the JSON of a columnar response: "outputs" maps
    each output name to its values (a single output's values directly)."""
    values = {key: _json_value(np.asarray(outputs[key])) for key in outputs}
    if len(values) == 1:
        return {"outputs": next(iter(values.values()))}
    return {"outputs": dict(sorted(values.items()))}


def call_signature(loaded, name, inputs):
    """Runs a signature on arrays; returns {output: array}."""
    signature = loaded.signatures[name]
    specs = signature.structured_input_signature[1]
    tensors = {
        key: tf.constant(value, specs[key].dtype)
        for key, value in inputs.items()
    }
    return {key: value.numpy() for key, value in signature(**tensors).items()}


def serve_rest(loaded, text):
    """What `POST /v1/models/<name>:predict` answers to body `text`."""
    name, inputs = parse_rest_request(text, loaded.signatures)
    return rest_response(call_signature(loaded, name, inputs))


def dumps(value, indent=0):
    """The committed files' JSON: two-space indentation, lists of numbers
    on one line, strings one a line, floats as TF Serving writes float32."""
    pad = " " * indent
    if isinstance(value, dict):
        items = [
            f"{pad}  {json.dumps(key)}: {dumps(item, indent + 2)}"
            for key, item in value.items()
        ]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list):
        if len(value) < 2 or all(
            not isinstance(item, (list, dict, str)) for item in value
        ):
            return "[" + ", ".join(dumps(item) for item in value) + "]"
        items = [f"{pad}  {dumps(item, indent + 2)}" for item in value]
        return "[\n" + ",\n".join(items) + f"\n{pad}]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        return tf_serving_float(value)
    return str(int(value))


def assert_json_close(actual, expected, where="response"):
    """Equal JSON, except floats: within FLOAT_RTOL."""
    if isinstance(expected, float):
        assert isinstance(actual, float), where
        assert math.isclose(actual, expected, rel_tol=FLOAT_RTOL), (
            f"{where}: {actual} != {expected}"
        )
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), where
        for key in expected:
            assert_json_close(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), where
        assert len(actual) == len(expected), where
        for index, (a, e) in enumerate(zip(actual, expected)):
            assert_json_close(a, e, f"{where}[{index}]")
    else:
        assert type(actual) is type(expected), where
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def _write_or_read(name, make_text):
    """Writes docs/serving/<name> (`make_text()`) when regenerating;
    returns the committed text."""
    path = SERVING_DOCS / name
    if REGENERATE:
        SERVING_DOCS.mkdir(exist_ok=True)
        path.write_text(make_text(), encoding="utf-8")
    return path.read_text(encoding="utf-8")


# --- the examples -------------------------------------------------------------


@pytest.fixture(scope="module")
def rest_client():
    return _load_script("rest_client")


@pytest.fixture(scope="module")
def grpc_client():
    pytest.importorskip("tensorflow_serving.apis.predict_pb2")
    return _load_script("grpc_client")


# Exporting and loading both models takes 10-30 s on a 2-core machine.
@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    base = tmp_path_factory.mktemp("serving_docs")
    vocabulary = text_vocabulary()
    oracle = export.export_generator(oracle_generator(), base, ORACLE_NAME)
    text = export.export_generator(
        text_generator(vocabulary),
        base,
        TEXT_NAME,
        vocabulary=vocabulary,
        metadata={"tokenizer": "whitespace"},
    )
    return {
        ORACLE_NAME: tf.saved_model.load(str(oracle)),
        TEXT_NAME: tf.saved_model.load(str(text)),
    }


def example_requests(rest_client, generated):
    """{example: (model, request body)}, built by export/rest_client.py
    where it can: it has no option for `log_prob`, whose request scores
    the first row of `generated` (the `generate` example's response)."""
    examples = {
        "generate": (ORACLE_NAME, rest_client.build_body(3, 0.8, (1, 2))),
        "prefix_text": (
            TEXT_NAME,
            rest_client.build_body(2, 0.8, (1, 2), prefix_text="a dog"),
        ),
    }
    if generated is not None:
        tokens = generated["outputs"]["tokens"][:1]
        examples["log_prob"] = (
            ORACLE_NAME,
            {"signature_name": "log_prob", "inputs": {"tokens": tokens}},
        )
    return examples


@pytest.fixture(scope="module")
def committed(exports, rest_client):
    """{example: (model, request text, response text)}; when asked,
    regenerated first (in this order: `log_prob` scores a row of
    `generate`'s response)."""
    examples = {}
    generated = None
    for example in ("generate", "log_prob", "prefix_text"):
        model, body = example_requests(rest_client, generated)[example]
        request = _write_or_read(
            f"{example}_request.json", lambda: dumps(body) + "\n"
        )
        response = _write_or_read(
            f"{example}_response.json",
            lambda: dumps(serve_rest(exports[model], request)) + "\n",
        )
        examples[example] = (model, request, response)
        if example == "generate":
            generated = json.loads(response)
    return examples


# --- the REST layer's rules, on small cases -----------------------------------


def test_floats_are_written_as_tf_serving_writes_them():
    assert tf_serving_float(0.2) == "0.2"  # not 0.20000000298...
    assert tf_serving_float(3.0) == "3.0"
    assert tf_serving_float(9e6) == "9e+06"
    assert tf_serving_float(3e-5) == "3e-05"
    assert tf_serving_float(-170.24231) == "-170.24231"  # %g: -170.242
    assert tf_serving_float(np.float32(1) / 3) == "0.333333343"
    assert tf_serving_float(float("nan")) == "NaN"
    assert tf_serving_float(-float("inf")) == "-Infinity"
    assert dumps({"a": [[1, 2], [3, 4]], "b": ["x", "y"], "c": [0.5]}) == (
        '{\n  "a": [\n    [1, 2],\n    [3, 4]\n  ],\n'
        '  "b": [\n    "x",\n    "y"\n  ],\n  "c": [0.5]\n}'
    )


def test_json_inputs_are_typed_by_the_signature():
    assert _tensor_from_json(3, tf.int32).shape == ()
    seed = _tensor_from_json([1, 2], tf.int64)
    assert seed.dtype == np.int64 and seed.tolist() == [1, 2]
    assert _tensor_from_json(1, tf.float32).dtype == np.float32
    assert _tensor_from_json([["a b"]], tf.string).tolist() == [[b"a b"]]
    assert _tensor_from_json([{"b64": "eA=="}], tf.string).tolist() == [b"x"]
    for value, dtype in [
        (3.0, tf.int32),  # an int input takes JSON integers only
        (True, tf.int32),
        (2**31, tf.int32),
        ("3", tf.int32),
        (5, tf.string),
        ([[1, 2], [3]], tf.int32),  # ragged
        ([1, [2]], tf.int32),
        (2**25, tf.float32),
    ]:
        with pytest.raises(RestError):
            _tensor_from_json(value, dtype)


# --- the page's examples ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("example", ["generate", "log_prob", "prefix_text"])
def test_rest_examples_match_the_committed_responses(
    exports, committed, example
):
    model, request, response = committed[example]
    expected = json.loads(response)
    assert_json_close(serve_rest(exports[model], request), expected)
    # The committed files are in the writer's format: floats as the
    # server writes them, not edited by hand.
    assert dumps(json.loads(request)) + "\n" == request
    assert dumps(expected) + "\n" == response


@pytest.mark.slow
def test_rest_requests_are_what_rest_client_sends(committed, rest_client):
    generated = json.loads(committed["generate"][2])
    requests = example_requests(rest_client, generated)
    assert set(requests) == set(committed)
    for example, (model, body) in requests.items():
        assert committed[example][0] == model
        assert json.loads(committed[example][1]) == body, example
    generate = generated["outputs"]
    scored = json.loads(committed["log_prob"][2])["outputs"]
    # `log_prob` scores a sequence as `generate` did.
    assert math.isclose(
        scored["log_prob"][0], generate["log_prob"][0], rel_tol=FLOAT_RTOL
    )
    assert math.isclose(
        sum(scored["token_log_probs"][0]),
        scored["log_prob"][0],
        rel_tol=FLOAT_RTOL,
    )
    assert generate["text"][0] == " ".join(map(str, generate["tokens"][0]))
    completions = json.loads(committed["prefix_text"][2])["outputs"]
    assert all(text.startswith("a dog") for text in completions["text"])


@pytest.mark.slow
def test_grpc_requests_carry_the_rest_inputs(exports, committed, grpc_client):
    arguments = {
        "generate": dict(num_samples=3, temperature=0.8, seed=(1, 2)),
        "prefix_text": dict(
            num_samples=2, temperature=0.8, seed=(1, 2), prefix_text="a dog"
        ),
    }
    for example, kwargs in arguments.items():
        model, request_text, _ = committed[example]
        name, inputs = parse_rest_request(
            request_text, exports[model].signatures
        )
        request = grpc_client.build_request(model, **kwargs)
        assert request.model_spec.name == model
        assert request.model_spec.signature_name == name
        assert set(request.inputs) == set(inputs)
        specs = exports[model].signatures[name].structured_input_signature[1]
        for key, proto in request.inputs.items():
            # Over gRPC a tensor of another dtype is an error: the
            # request must carry the signature's dtype itself.
            assert proto.dtype == specs[key].dtype.as_datatype_enum, key
            array = tf.make_ndarray(proto)
            assert array.shape == inputs[key].shape, key
            np.testing.assert_array_equal(array, inputs[key])


@pytest.mark.slow
def test_grpc_client_output_matches_the_page(
    exports, committed, grpc_client, monkeypatch
):
    """grpc_client.main, its network call replaced by the SavedModel: the
    request proto's tensors in, the outputs back through TensorProtos as
    a server's response carries them."""

    def predict(host, port, request, timeout=30.0):
        assert (host, port) == ("localhost", 8500)
        loaded = exports[request.model_spec.name]
        inputs = {
            key: tf.make_ndarray(value) for key, value in request.inputs.items()
        }
        name = request.model_spec.signature_name or "serving_default"
        outputs = call_signature(loaded, name, inputs)
        return {
            key: tf.make_ndarray(tf.make_tensor_proto(value))
            for key, value in outputs.items()
        }

    monkeypatch.setattr(grpc_client, "predict", predict)
    # The page shows one gRPC example: this one.
    [argv] = page_commands("python export/grpc_client.py")
    printed = io.StringIO()
    with redirect_stdout(printed):
        assert grpc_client.main(argv[2:]) == 0
    output = _write_or_read("grpc_generate_output.txt", printed.getvalue)
    actual_lines = printed.getvalue().splitlines()
    expected_lines = output.splitlines()
    assert len(actual_lines) == len(expected_lines) == 9
    for actual, expected in zip(actual_lines, expected_lines):
        if expected.startswith("  log_prob: "):  # printed with 4 decimals
            assert actual.startswith("  log_prob: ")
            assert math.isclose(
                float(actual.split()[-1]),
                float(expected.split()[-1]),
                abs_tol=2e-3,
            )
        else:
            assert actual == expected
    # The same samples as the REST example, which sends the same inputs.
    generated = json.loads(committed["generate"][2])["outputs"]
    assert expected_lines[0::3] == generated["text"]


# --- the page lists the signatures the exports have ---------------------------

_NAMED = re.compile(r"`(\w+)` (\w+) `\[([^\]]*)\]`")


def page_signature_table():
    """{signature: (runs, {input: (dtype, dims)}, {output: ...})} from the
    table under "## Signatures" of the page."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("\n## Signatures", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`(\w+)`", cells[0])
        runs = set(re.findall(r"\b(oracle|text)\b", cells[1]))
        inputs, outputs = (
            {
                name: (dtype, [d.strip() for d in dims.split(",") if d.strip()])
                for name, dtype, dims in _NAMED.findall(cell)
            }
            for cell in cells[2:]
        )
        for name in names:
            rows[name] = (runs, inputs, outputs)
    return rows


def _dims_match(page_dims, spec, sequence_length):
    shape = spec.shape.as_list()
    if len(shape) != len(page_dims):
        return False
    for page_dim, dim in zip(page_dims, shape):
        if page_dim.isdigit():
            if dim != int(page_dim):
                return False
        elif page_dim == "T":
            if dim not in (None, sequence_length):
                return False
        elif dim is not None:
            return False
    return True


@pytest.mark.slow
def test_the_page_lists_the_signatures_of_each_kind_of_run(exports):
    table = page_signature_table()
    for model, run in [(ORACLE_NAME, "oracle"), (TEXT_NAME, "text")]:
        loaded = exports[model]
        listed = {name for name, row in table.items() if run in row[0]}
        assert listed == set(loaded.signatures), run
        length = ORACLE_SHAPE[1] if run == "oracle" else TEXT_LENGTH
        for name in listed:
            _, inputs, outputs = table[name]
            signature = loaded.signatures[name]
            for page, specs in [
                (inputs, signature.structured_input_signature[1]),
                (outputs, signature.structured_outputs),
            ]:
                assert set(page) == set(specs), (run, name)
                for key, (dtype, dims) in page.items():
                    spec = specs[key]
                    assert dtype == spec.dtype.name, (run, name, key)
                    assert _dims_match(dims, spec, length), (run, name, key)
    assert set(table) - {"serving_default"} == {
        *export.SIGNATURES,
        export.TEXT_SIGNATURE,
    }


def test_the_page_includes_every_committed_example():
    text = PAGE.read_text(encoding="utf-8")
    included = set(re.findall(r'--8<-- "docs/serving/([^"]+)"', text))
    assert included == {path.name for path in SERVING_DOCS.iterdir()}
    # Each curl example posts a committed request to its model.
    posted = {}
    for argv in page_commands("curl"):
        if "-d" not in argv or not argv[argv.index("-d") + 1].startswith("@"):
            continue
        data = argv[argv.index("-d") + 1]
        [url] = [arg for arg in argv if arg.startswith("http://")]
        posted[data] = url
    assert posted == {
        "@docs/serving/generate_request.json": MODEL_URL.format(ORACLE_NAME),
        "@docs/serving/log_prob_request.json": MODEL_URL.format(ORACLE_NAME),
        "@docs/serving/prefix_text_request.json": MODEL_URL.format(TEXT_NAME),
    }
