"""The Colab notebooks in notebooks/ run top to bottom, offline, at tiny scale.

Each notebook is executed with nbclient in a fresh `python3` kernel
(ipykernel), with the working directory a temporary folder. Tiny values are
injected the papermill way: a code cell tagged "injected-parameters" is
inserted right after the cell tagged "parameters", overriding its values
(tiny preset, short schedules, a tiny corpus written by the test,
`coco/small` built into a temporary TFDS folder). The notebooks themselves
are stored clean (no outputs), which is also checked here.
"""

import importlib.util
import json
import os
import pathlib

import pytest
from conftest import TINY_SENTENCES

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
from nbclient.exceptions import CellExecutionError  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = (
    "01_quickstart_synthetic.ipynb",
    "02_your_own_text.ipynb",
    "03_export_and_serve.ipynb",
)
CELL_TIMEOUT = 300  # seconds per cell; each notebook takes ~10-30 s here

CORPUS = TINY_SENTENCES * 8


def _load(name):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def _inject(notebook, parameters):
    """Inserts `NAME = value` lines after the "parameters" cell."""
    index = next(
        i
        for i, cell in enumerate(notebook.cells)
        if "parameters" in cell.metadata.get("tags", [])
    )
    source = "\n".join(
        f"{key} = {value!r}" for key, value in parameters.items()
    )
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    notebook.cells.insert(index + 1, cell)
    return notebook


def _execute(name, workdir, parameters):
    notebook = _inject(_load(name), parameters)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg")
    env.pop("TF_CONFIG", None)
    try:
        client.execute(env=env)
    except CellExecutionError as error:
        pytest.fail(f"{name} failed:\n{error}")
    finally:
        # Keep the executed notebook beside its outputs for debugging.
        nbformat.write(notebook, str(workdir / name))
    return notebook


def _text_output(notebook):
    chunks = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                chunks.append(output.get("text", ""))
            elif "data" in output:
                chunks.append(output["data"].get("text/plain", ""))
    return "".join(chunks)


def _images(notebook):
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("name", NAMES)
def test_notebooks_are_stored_clean(name):
    notebook = _load(name)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    tagged = [
        c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])
    ]
    assert len(tagged) == 1
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert "IN_COLAB" in first_code.source and "REPO_URL" in first_code.source
    assert "colab.research.google.com/github/" in notebook.cells[0].source


@pytest.mark.slow
def test_quickstart_synthetic(tmp_path):
    notebook = _execute(
        "01_quickstart_synthetic.ipynb",
        tmp_path,
        {
            "PRESET": "tiny",
            "OUTPUT": "runs/tiny",
            "VERBOSE": 0,
        },
    )
    run_dir = tmp_path / "runs" / "tiny"
    assert (run_dir / "metrics.csv").exists()
    assert (run_dir / "summary.json").exists()
    assert (run_dir / "nll_oracle_vs_authors.png").stat().st_size > 0
    assert (run_dir / "report" / "report.html").exists()
    text = _text_output(notebook)
    assert "after MLE pretraining" in text and "9.07" in text and "8.68" in text
    assert _images(notebook) >= 1


@pytest.mark.slow
def test_your_own_text(tmp_path):
    corpus = tmp_path / "my_corpus.txt"
    corpus.write_text("\n".join(CORPUS) + "\n", encoding="utf-8")
    notebook = _execute(
        "02_your_own_text.ipynb",
        tmp_path,
        {
            "PRESET": "tiny",
            "DATASET": str(corpus),
            "TOKENIZER": "whitespace",
            "VERBOSE": 0,
            "SETTINGS": ["training.eval_samples=64"],
            "SHOW_SAMPLES": 4,
            "SWEEP": True,
            "SWEEP_TEMPERATURES": "0.8,1.0",
            "SWEEP_SAMPLES": 16,
        },
    )
    run_dir = tmp_path / "runs" / "tiny_my_corpus"
    assert (run_dir / "metrics.csv").exists()
    assert (run_dir / "vocabulary.txt").exists()
    evaluation = json.loads((run_dir / "evaluation.json").read_text())
    assert set(evaluation) == {"pretrained", "adversarial"}
    assert (run_dir / "sweep" / "sweep.json").exists()
    assert (run_dir / "text_curves.png").exists()
    text = _text_output(notebook)
    assert "bleu_4" in text and "self_bleu_4" in text and "nll_test" in text
    words = set(" ".join(CORPUS).split())
    assert any(set(line.split()) & words for line in text.splitlines())
    assert _images(notebook) >= 2


def _rest_client():
    spec = importlib.util.spec_from_file_location(
        "rest_client", ROOT / "export" / "rest_client.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_export_and_serve(tmp_path):
    notebook = _execute(
        "03_export_and_serve.ipynb",
        tmp_path,
        {
            "RUN_DIR": "runs/coco_tiny",
            "PRESET": "tiny",
            "DATASET": "coco/small",
            "DATA_DIR": str(tmp_path / "tfds"),
            "SETTINGS": ["training.eval_samples=32"],
        },
    )
    version_dir = tmp_path / "export" / "models" / "seqgan" / "1"
    assert (version_dir / "saved_model.pb").exists()
    assert (version_dir / "assets" / "vocabulary.txt").exists()
    assert (
        version_dir / "assets.extra" / "tf_serving_warmup_requests"
    ).exists()
    text = _text_output(notebook)
    for signature in ("serving_default", "complete", "log_prob", "prefix_text"):
        assert signature in text
    assert "matches generate's log_prob: True" in text
    # The REST bodies are the ones export/rest_client.py builds.
    requests = json.loads(
        (tmp_path / "export" / "models" / "rest_requests.json").read_text()
    )
    client = _rest_client()
    assert requests["generate"] == client.build_body(3, 0.8, (1, 2))
    prefix = requests["complete"]["inputs"]["prefix_tokens"][0]
    assert requests["complete"] == client.build_body(2, 1.0, (3, 4), prefix)
    prompt = requests["prefix_text"]["inputs"]["prefix_text"][0]
    assert requests["prefix_text"] == client.build_body(
        2, 1.0, (5, 6), prefix_text=prompt
    )
    assert "curl -s -X POST http://localhost:8501/v1/models/seqgan" in text
