"""The numbers the README and the documentation quote are the committed
results' numbers.

Two checks:

- every number of three or more significant digits in the prose of the
  README and the pages (code blocks and included result files aside) is
  a value of some committed result file under `benchmarks/results/`,
  rounded as the prose writes it, or is listed in `UNSOURCED` with where
  it comes from (the papers, the peers' logs, a benchmark's output);
- the headline claims (`CLAIMS`) name their row: each is the text a page
  must contain, formatted from one result file's row.

A planted wrong number fails both (tested below).
"""

import csv
import json
import math
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A decimal number (not part of a version, a path or an identifier).
NUMBER = re.compile(r"(?<![\w.\-/])(\d+\.\d+(?:e-?\d+)?)(?![\w.]*\d)")
# Result files larger than this (per-sequence dumps) are not read.
MAX_FILE_BYTES = 2_000_000


def _floats(value, found):
    if isinstance(value, dict):
        for item in value.values():
            _floats(item, found)
    elif isinstance(value, list):
        for item in value:
            _floats(item, found)
    elif isinstance(value, bool):
        return
    elif isinstance(value, (int, float)):
        found.add(float(value))
    elif isinstance(value, str):
        try:
            found.add(float(value))
        except ValueError:
            pass


def result_values(root=RESULTS):
    """Every number of the committed result files (JSON, CSV and the
    Markdown tables)."""
    found = set()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            continue
        if path.suffix == ".json":
            try:
                _floats(json.loads(path.read_text(encoding="utf-8")), found)
            except ValueError:
                continue
        elif path.suffix == ".csv":
            with open(path, newline="", encoding="utf-8") as handle:
                for row in csv.reader(handle):
                    _floats(row, found)
        elif path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
            found.update(float(n) for n in NUMBER.findall(text))
    return found


def written_forms(values):
    """The ways prose writes each value: 1-4 decimals (and its absolute
    value, for "0.171 above"), and 1-2 significant decimals in e-notation
    ("9.3e-5")."""
    forms = set()
    for value in values:
        if not math.isfinite(value):
            continue
        for digits in range(1, 5):
            forms.add(f"{value:.{digits}f}")
            forms.add(f"{abs(value):.{digits}f}")
        for digits in range(1, 3):
            mantissa, exponent = f"{value:.{digits}e}".split("e")
            forms.add(f"{mantissa}e{int(exponent)}")
            forms.add(f"{mantissa}e-{abs(int(exponent)):02d}")
    return forms


def prose(text):
    """A page's text without code blocks, inline code, included files and
    links' targets."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    text = re.sub(r"^--8<--.*$", "", text, flags=re.M)
    return re.sub(r"\]\([^)]*\)", "]", text)


def checked_numbers(text):
    """The numbers of `text`'s prose the check applies to: three or more
    significant digits (a 0.08 or a 1.5 matches too much to check)."""
    numbers = []
    for number in NUMBER.findall(prose(text)):
        digits = re.sub(r"e-?\d+$", "", number).replace(".", "").lstrip("0")
        if len(digits) >= 3:
            numbers.append(number)
    return numbers


def unsourced(text, forms, allowed=()):
    """The checked numbers of `text` that no result file holds."""
    return [
        number
        for number in checked_numbers(text)
        if number not in forms and number not in allowed
    ]


# Numbers the pages quote that no committed result file holds, page by
# page, with where they come from.
ARXIV = "an arXiv identifier"
PYTHON = "a Python version"
UNIFORM = "ln 5000, the per-token NLL of a uniform generator"
XEON_QUICK = "the quick run on an AVX-512 Xeon (Measured numbers)"
BENCHMARK = "a benchmark's printed output, its command beside it"
RELEASED_LEAKGAN = "the released LeakGAN code's constant mean reward"
FAMILY_CURVE = "the family table's MLE curve at T = 0.7 over the seeds"
RANKGAN_40 = "a 40-round RankGAN run and the authors' log, on the page"
REAL_DATA_RUNS = "the quick COCO and quatrain runs of Real data"
COCO_SWEEP = "the quick COCO run's temperature sweep"
PY_GUIDE = "the Python guide's run, printed on its page"
UNSOURCED = {
    "python-api.md": {"10.212": PY_GUIDE, "9.194": PY_GUIDE},
    "README.md": {
        "1609.05473": ARXIV,
    },
    "family.md": {
        "0.12695": RELEASED_LEAKGAN,
        "1702.07983": ARXIV,
        "1705.11001": ARXIV,
        "1709.08624": ARXIV,
        "8.517": UNIFORM,
        "7.90": FAMILY_CURVE,
        "9.076": RANKGAN_40,
        "9.030": RANKGAN_40,
        "9.024": RANKGAN_40,
        "9.014": RANKGAN_40,
        "8.982": RANKGAN_40,
        "9.157": RANKGAN_40,
        "9.064": RANKGAN_40,
        "9.018": RANKGAN_40,
        "8.996": RANKGAN_40,
        "8.980": RANKGAN_40,
        "8.990": RANKGAN_40,
        "8.970": RANKGAN_40,
        "8.886": RANKGAN_40,
    },
    "getting-started.md": {
        "3.10": PYTHON,
        "9.061": XEON_QUICK,
        "8.738": XEON_QUICK,
    },
    "index.md": {
        "1609.05473": ARXIV,
        "9.061": XEON_QUICK,
        "8.738": XEON_QUICK,
        "8.517": UNIFORM,
    },
    "performance.md": {
        "10.197": BENCHMARK,
        "9.061": BENCHMARK,
        "9.007": BENCHMARK,
        "8.800": BENCHMARK,
        "8.738": BENCHMARK,
        "9.049": BENCHMARK,
        "8.776": BENCHMARK,
        "8.818": BENCHMARK,
        "8.779": BENCHMARK,
        "38.6": BENCHMARK,
        "16.7": BENCHMARK,
        "3.31": BENCHMARK,
        "3.32": BENCHMARK,
        "3.23": BENCHMARK,
        "1.62": BENCHMARK,
        "13.1": BENCHMARK,
        "8.822": BENCHMARK,
        "8.857": BENCHMARK,
        "8.858": BENCHMARK,
        "8.793": BENCHMARK,
        "8.846": BENCHMARK,
        "56.1": BENCHMARK,
        "52.5": BENCHMARK,
        "48.3": BENCHMARK,
        "12.1": BENCHMARK,
        "58.7": BENCHMARK,
        "18.2": BENCHMARK,
        "24.1": BENCHMARK,
        "53.5": BENCHMARK,
        "39.6": BENCHMARK,
    },
    "real-data.md": {
        "4.640": REAL_DATA_RUNS,
        "0.334": REAL_DATA_RUNS,
        "0.696": REAL_DATA_RUNS,
        "4.897": REAL_DATA_RUNS,
        "5.025": REAL_DATA_RUNS,
        "0.117": REAL_DATA_RUNS,
        "5.292": REAL_DATA_RUNS,
        "4.966": REAL_DATA_RUNS,
    },
    "reproducing.md": {
        "8.517": UNIFORM,
        "0.293": COCO_SWEEP,
    },
    "scaling.md": {
        "36.8": BENCHMARK,
        "79.9": BENCHMARK,
        "41.4": BENCHMARK,
        "1.13": BENCHMARK,
        "5.37": BENCHMARK,
        "41.5": BENCHMARK,
        "407.1": BENCHMARK,
        "5.10": BENCHMARK,
        "5.96": BENCHMARK,
        "49.4": BENCHMARK,
        "479.5": BENCHMARK,
        "5.73": BENCHMARK,
    },
}


def page_key(path):
    return "README.md" if path.name == "README.md" else path.name


@pytest.fixture(scope="module")
def forms():
    return written_forms(result_values())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_quoted_number_is_a_committed_result(page, forms):
    allowed = UNSOURCED.get(page_key(page), {})
    text = page.read_text(encoding="utf-8")
    assert unsourced(text, forms, allowed) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_unsourced_list_holds_only_numbers_the_page_quotes(page):
    numbers = set(checked_numbers(page.read_text(encoding="utf-8")))
    allowed = UNSOURCED.get(page_key(page), {})
    assert sorted(set(allowed) - numbers) == []


def _row(name, method):
    path = RESULTS / name
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("method") == method:
                return row
    raise KeyError(f"{method} not in {path}")


def mean_sd(name, method, column):
    row = _row(name, method)
    return f"{float(row[column]):.3f} ± {float(row[column + '_sd']):.3f}"


def value(name, method, column, digits=3):
    return f"{float(_row(name, method)[column]):.{digits}f}"


def p_value(name, method, column):
    p = float(_row(name, method)[column])
    if p >= 0.001:
        return f"p = {p:.3f}".rstrip("0")
    mantissa, exponent = f"{p:.1e}".split("e")
    return f"p = {mantissa}e{int(exponent)}"


FAST = "table1_fast/table1.csv"
FAMILY = "table1_family/table1.csv"
TABLE2 = "table2_fast/table2.csv"
CRITIC = "table1_critic/table1.csv"

# (page, the text it must contain, built from a result file's row).
CLAIMS = [
    ("index.md", lambda: mean_sd(FAST, "mle", "nll_oracle")),
    ("index.md", lambda: mean_sd(FAST, "seqgan", "nll_oracle")),
    ("index.md", lambda: p_value(FAST, "seqgan", "seed_welch_p_vs_mle")),
    (
        "index.md",
        lambda: mean_sd(FAST, "seqgan_constant_reward", "nll_oracle"),
    ),
    (
        "index.md",
        lambda: value(FAST, "seqgan_constant_reward", "seed_welch_p_vs_seqgan"),
    ),
    ("index.md", lambda: value(FAMILY, "seqgan", "below_mle_curve_by")),
    ("index.md", lambda: mean_sd(FAMILY, "maligan", "nll_oracle")),
    ("index.md", lambda: mean_sd(FAMILY, "mle", "nll_oracle")),
    ("index.md", lambda: p_value(FAMILY, "maligan", "seed_welch_p_vs_mle")),
    ("index.md", lambda: value(FAMILY, "rankgan", "below_mle_curve_by")),
    ("index.md", lambda: mean_sd(FAMILY, "leakgan", "nll_oracle")),
    ("index.md", lambda: value(FAMILY, "leakgan", "nll_test")),
    ("README.md", lambda: mean_sd(FAST, "mle", "nll_oracle")),
    ("README.md", lambda: mean_sd(FAST, "seqgan", "nll_oracle")),
    ("README.md", lambda: mean_sd(FAMILY, "seqgan", "nll_oracle")),
    ("README.md", lambda: mean_sd(FAMILY, "maligan", "nll_oracle")),
    ("README.md", lambda: mean_sd(FAMILY, "rankgan", "nll_oracle")),
    ("README.md", lambda: value(FAMILY, "seqgan", "below_mle_curve_by")),
    ("README.md", lambda: value(FAMILY, "rankgan", "below_mle_curve_by")),
    ("reproducing.md", lambda: mean_sd(FAST, "seqgan", "nll_oracle")),
    ("reproducing.md", lambda: mean_sd(FAMILY, "seqgan", "nll_oracle")),
    ("reproducing.md", lambda: value(FAMILY, "seqgan", "below_mle_curve_by")),
    ("family.md", lambda: mean_sd(FAMILY, "seqgan", "nll_oracle")),
    ("family.md", lambda: value(FAMILY, "seqgan", "below_mle_curve_by")),
    (
        "critics.md",
        lambda: mean_sd(CRITIC, "seqgan_optimal_discriminator", "nll_oracle"),
    ),
    (
        "critics.md",
        lambda: mean_sd(CRITIC, "seqgan_optimal_logit", "nll_oracle"),
    ),
    (
        "critics.md",
        lambda: p_value(CRITIC, "seqgan_optimal_logit", "seed_welch_p_vs_mle"),
    ),
    (
        "critics.md",
        lambda: value(
            CRITIC, "seqgan_optimal_logit_baseline", "below_mle_curve_by"
        ),
    ),
    ("critics.md", lambda: mean_sd(CRITIC, "seqgan", "nll_oracle")),
    (
        "critics.md",
        lambda: mean_sd(CRITIC, "seqgan_constant_reward", "nll_oracle"),
    ),
    ("critics.md", lambda: mean_sd(CRITIC, "mle_fresh", "nll_oracle")),
    ("index.md", lambda: mean_sd(CRITIC, "seqgan_optimal_logit", "nll_oracle")),
    ("index.md", lambda: mean_sd(CRITIC, "mle_fresh", "nll_oracle")),
    (
        "README.md",
        lambda: mean_sd(CRITIC, "seqgan_optimal_discriminator", "nll_oracle"),
    ),
    ("README.md", lambda: mean_sd(CRITIC, "seqgan", "nll_oracle")),
]


def page_text(name):
    path = ROOT / name if name == "README.md" else ROOT / "docs" / name
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "page, claim", CLAIMS, ids=[f"{p}-{i}" for i, (p, _) in enumerate(CLAIMS)]
)
def test_a_headline_number_is_its_rows(page, claim):
    assert claim() in page_text(page)


def test_a_planted_wrong_number_is_found(forms):
    good = page_text("index.md")
    seqgan = mean_sd(FAST, "seqgan", "nll_oracle")
    assert seqgan in good
    # A number near SeqGAN's that no result file holds.
    wrong = next(
        f"{float(seqgan.split()[0]) + k / 1000:.3f}"
        for k in range(1, 100)
        if f"{float(seqgan.split()[0]) + k / 1000:.3f}" not in forms
    )
    planted = good.replace(seqgan, f"{wrong} ± 0.013")
    assert unsourced(good, forms, UNSOURCED["index.md"]) == []
    assert unsourced(planted, forms, UNSOURCED["index.md"]) == [wrong]
    assert seqgan not in planted  # so the headline claim fails too


def test_code_and_included_files_are_not_prose():
    text = (
        "SeqGAN 9.006 here.\n```\n1.2345\n```\n`7.777` and "
        '[x](a/9.1234.md)\n--8<-- "results/9.999.md"\n'
    )
    assert checked_numbers(text) == ["9.006"]
