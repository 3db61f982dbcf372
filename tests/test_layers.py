"""The package's layers: every import goes to the same layer or one below,
and no modules import each other in a cycle. The layer table is the one in
documentation's architecture page (docs/architecture.md)."""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "seqgan_tf"


def layer_table():
    """{module prefix: layer number} from the architecture page's table."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("# Architecture", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        row = re.match(r"\|\s*(\d+) [^|]*\|([^|]*)\|", line)
        if row:
            for module in re.findall(r"`(seqgan_tf[\w.]*)`", row.group(2)):
                table[module] = int(row.group(1))
    return table


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules():
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imported_modules(path, known):
    """The package modules the file `path` imports, anywhere in it."""
    return imports_in(
        path.read_text(encoding="utf-8"),
        module_name(path),
        path.name == "__init__.py",
        known,
    )


def imports_in(source, name, is_package, known):
    """The package modules module `name`'s `source` imports."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[
                        : len(package.split(".")) - node.level + 1
                    ]
                    + ([base] if base else [])
                )
            # `from package import module` imports the module.
            targets = [
                f"{base}.{alias.name}"
                if f"{base}.{alias.name}" in known
                else base
                for alias in node.names
            ]
        else:
            continue
        found.update(t for t in targets if t.startswith("seqgan_tf"))
    found.discard(name)
    return found


def layer_of(module, table):
    """The layer of the longest table prefix of `module`."""
    matches = [
        prefix
        for prefix in table
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        return None
    return table[max(matches, key=len)]


def test_the_table_names_every_module():
    table = layer_table()
    assert len(set(table.values())) >= 8
    unplaced = [
        name
        for name in modules()
        if name != "seqgan_tf" and layer_of(name, table) is None
    ]
    assert not unplaced, f"modules missing from the layer table: {unplaced}"


@pytest.mark.slow
def test_no_module_imports_a_higher_layer():
    table = layer_table()
    known = modules()
    upward = []
    for name, path in known.items():
        if name == "seqgan_tf":
            continue  # imports nothing eagerly; names load on first use
        own = layer_of(name, table)
        for target in imported_modules(path, known):
            if target == "seqgan_tf":
                upward.append(f"{name} -> seqgan_tf (the whole package)")
            elif layer_of(target, table) > own:
                upward.append(
                    f"{name} ({own}) -> {target} ({layer_of(target, table)})"
                )
    assert not upward, "\n".join(upward)


@pytest.mark.slow
def test_no_import_cycles():
    known = modules()
    graph = {
        name: imported_modules(path, known) & set(known)
        for name, path in known.items()
    }
    # A package's __init__ importing its own submodules is not a cycle.
    cycles = []
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for target in sorted(graph[node]):
            if node.startswith(target + "."):
                continue  # a submodule importing its package
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target) :] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from seqgan_tf import runs\n", {"seqgan_tf.runs"}),
        ("from seqgan_tf.data import EOS_ID\n", {"seqgan_tf.data"}),
        ("def f():\n    import seqgan_tf.cli\n", {"seqgan_tf.cli"}),
        ("from . import masks\n", {"seqgan_tf.data.masks"}),
    ],
)
def test_imports_are_found_anywhere_in_a_file(source, expected):
    found = imports_in(source, "seqgan_tf.data.pipeline", False, modules())
    assert found == expected
