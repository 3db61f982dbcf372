"""The documentation: the README stays short and keeps the two set-up
commands, every link of a page leads to a file that exists, and the site
builds with `mkdocs build --strict` (broken links, pages missing from the
navigation and unresolvable API references fail it)."""

import pathlib
import re

import pytest

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


def test_the_site_builds_strict(built_site):
    result, site = built_site
    assert result.returncode == 0, result.stderr[-3000:]
    assert (site / "reference" / "index.html").exists()
