"""The documentation: the README stays short and keeps the two set-up
commands, every link of a page leads to a file that exists, and the site
builds with `mkdocs build --strict` (broken links, pages missing from the
navigation and unresolvable API references fail it)."""

import pathlib
import re

import pytest
from conftest import MAX_TABLE_COLUMNS
from conftest import markdown_tables

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# The pages: docs/*.md and the API reference's docs/reference/*.md.
PAGES = sorted(DOCS.glob("*.md")) + sorted((DOCS / "reference").glob("*.md"))
# [text](target) and ![alt](target), not inside inline code.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def links(path):
    """The relative link targets of a Markdown file (no URLs, no pure
    anchors), without their #anchor."""
    text = re.sub(
        r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S
    )
    text = re.sub(r"`[^`]*`", "", text)
    found = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        found.append(target.split("#", 1)[0])
    return found


def broken_links(path):
    return [
        target for target in links(path) if not (path.parent / target).exists()
    ]


def test_the_readme_is_short_and_keeps_the_set_up_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    lines = text.splitlines()
    assert "pip install -e . && seqgan-tf train" in lines
    assert 'pip install -e ".[test]" && pytest -n 2' in lines


@pytest.mark.parametrize(
    "path",
    [ROOT / "README.md", *PAGES],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_every_link_leads_to_a_file(path):
    assert links(path) or path.name != "index.md"
    assert broken_links(path) == []


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("x")
    page.write_text(
        "[ok](there.md#a) [web](https://example.org) `[no](code.md)` "
        "[gone](missing.md) ![plot](results/none.png)"
    )
    assert broken_links(page) == ["missing.md", "results/none.png"]


def test_every_page_is_in_the_navigation():
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in PAGES:
        name = page.relative_to(DOCS).as_posix()
        assert f": {name}" in config, name


@pytest.mark.slow
def test_the_site_builds_strict(built_site):
    result, site = built_site
    assert result.returncode == 0, result.stderr[-3000:]
    assert (site / "reference" / "index.html").exists()
    # The pages show the results' figures; the per-seed files (most of
    # benchmarks/results) stay out of the site.
    shipped = {p.suffix for p in (site / "results").rglob("*.*")}
    assert shipped == {".png"}


def test_the_committed_result_tables_are_narrow():
    tables = sorted((ROOT / "benchmarks" / "results").glob("*/*.md"))
    assert tables
    for path in tables:
        for header, rows in markdown_tables(path.read_text(encoding="utf-8")):
            assert len(header) <= MAX_TABLE_COLUMNS, (path.name, header)
            assert all(len(cells) == len(header) for cells in rows)


# The glossary's terms and their anchors; each page links its first use.
GLOSSARY_TERMS = {
    "NLL-oracle": "nll-oracle",
    "NLL-test": "nll-test",
    "Self-BLEU": "bleu-and-self-bleu",
    "BLEU": "bleu-and-self-bleu",
    "rollout": "rollout-monte-carlo-rollout",
    "policy gradient": "policy-gradient-reinforce",
    "temperature curve": "temperature-and-the-temperature-curve",
}
# Where a term is not prose: code, headings, tables, links' texts,
# included files and HTML.
NOT_PROSE = [
    (re.compile(r"```.*?```", re.S)),
    *(
        re.compile(pattern, re.M)
        for pattern in (
            r"`[^`\n]*`",
            r"^#.*$",
            r"!?\[[^\]]*\]\([^)]*\)",
            r"^--8<--.*$",
            r"^\|.*$",
            r"<[^>]+>",
        )
    ),
]


def unlinked_first_uses(text, prefix=""):
    """The glossary terms whose first use in `text`'s prose comes before
    any link to the term's glossary entry."""
    skip = [m.span() for pattern in NOT_PROSE for m in pattern.finditer(text)]
    missing = []
    for term, anchor in GLOSSARY_TERMS.items():
        uses = (
            m.start()
            for m in re.finditer(
                rf"(?<![\w\-])(?i:{re.escape(term[0])}){re.escape(term[1:])}"
                r"(?![\w\-])",
                text,
            )
            if not any(a <= m.start() < b for a, b in skip)
            and not text[: m.start()].lower().endswith("self-")
        )
        first = next(uses, None)
        if first is None:
            continue
        link = re.search(
            rf"\]\({re.escape(prefix)}(?:\.\./)*glossary\.md#{anchor}\)",
            text,
        )
        if link is None or link.start() > first:
            missing.append(term)
    return missing


@pytest.mark.parametrize(
    "path",
    [p for p in PAGES if p.name != "glossary.md"],
    ids=lambda p: p.name,
)
def test_a_page_links_its_first_use_of_a_glossary_term(path):
    text = path.read_text(encoding="utf-8")
    assert unlinked_first_uses(text) == []


def test_an_unlinked_glossary_term_is_found():
    text = (
        "# NLL-oracle\n`NLL-test` and "
        "[rollout](glossary.md#rollout-monte-carlo-rollout)\n"
        "Lower [NLL-oracle](glossary.md#nll-oracle) is better; NLL-test "
        "too.\n"
    )
    assert unlinked_first_uses(text) == ["NLL-test"]
    # "Policy Gradient" in a title is the term; "policy-gradient" is not.
    assert unlinked_first_uses("Policy gradient, policy-gradient") == [
        "policy gradient"
    ]


def nav_labels(nav=None):
    """(label, page) of every page in mkdocs.yml's navigation."""
    if nav is None:
        yaml = pytest.importorskip("yaml")
        config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
        nav = yaml.safe_load(config)["nav"]
    labels = []
    for entry in nav:
        for label, target in entry.items():
            if isinstance(target, list):
                labels += nav_labels(target)
            else:
                labels.append((label, target))
    return labels


def test_a_nav_label_is_its_page_title():
    labels = nav_labels()
    assert len(labels) >= len(PAGES)
    for label, page in labels:
        path = ROOT / "docs" / page
        title = path.read_text(encoding="utf-8").splitlines()[0]
        assert title == f"# {label}", page
