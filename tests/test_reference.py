"""The API reference (docs/reference/): every example in the docstrings it
shows runs, every public class it shows has one, and the built pages show
every public name with a typed signature and every word of its
docstrings.

The pages name what they show in `::: identifier` blocks (mkdocstrings);
the helpers below read those blocks, so a page that shows a new class or
module brings its examples into these tests.
"""

import ast
import doctest
import html
import html.parser
import importlib
import inspect
import pathlib
import re
import sys
import textwrap
import types

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference"
PAGES = sorted(REFERENCE.glob("*.md"))
# A `::: identifier` block of a page and its indented YAML (`options:`).
BLOCK = re.compile(r"^::: ([\w.]+)[ \t]*\n((?:[ \t]+\S.*\n|[ \t]*\n)*)", re.M)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# The functions a reader starts from: each shows an example.
MAIN_FUNCTIONS = (
    "seqgan_tf.models.Generator.generate",
    "seqgan_tf.models.Generator.complete",
    "seqgan_tf.models.Generator.log_prob",
    "seqgan_tf.config.get_preset",
    "seqgan_tf.config.with_overrides",
    "seqgan_tf.config.for_dataset",
    "seqgan_tf.config.for_method",
    "seqgan_tf.methods.get",
    "seqgan_tf.methods.register",
    "seqgan_tf.methods.names",
    "seqgan_tf.sampler.sample",
    "seqgan_tf.sampler.sample_many",
    "seqgan_tf.rollout.rollout_rewards",
    "seqgan_tf.losses.mle_loss",
    "seqgan_tf.losses.policy_gradient_loss",
    "seqgan_tf.metrics.nll",
    "seqgan_tf.metrics.nll_oracle",
    "seqgan_tf.metrics.discriminator_probe",
    "seqgan_tf.bleu.bleu",
    "seqgan_tf.bleu.self_bleu",
    "seqgan_tf.quality.temperature_sweep",
    "seqgan_tf.experiment.train",
    "seqgan_tf.experiment.build_gan",
    "seqgan_tf.export.export_generator",
)

# The elements the theme and the Markdown renderer write. Anything else in
# a built page is a word in angle brackets that the browser swallowed as
# a tag (e.g. "runs/<preset>" shown as "runs/"): write it in backticks.
HTML_TAGS = frozenset(
    "a abbr article aside b blockquote body br button caption code dd "
    "del details div dl dt em figcaption figure footer form h1 h2 h3 h4 h5 "
    "h6 head header hr html i img input kbd label li link main mark meta "
    "nav ol p path pre script small span strong style sub summary sup svg "
    "table tbody td th thead title tr ul".split()
)


# --- what the pages show --------------------------------------------------


def blocks(text):
    """(identifier, options) of each `::: identifier` block of a page."""
    found = []
    for match in BLOCK.finditer(text):
        body = textwrap.dedent(match.group(2))
        settings = yaml.safe_load(body) if body.strip() else None
        found.append((match.group(1), (settings or {}).get("options", {})))
    return found


def resolve(identifier):
    """The object at a dotted path: its longest importable module, then
    attributes."""
    parts = identifier.split(".")
    for end in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:end]))
        except ModuleNotFoundError:
            continue
        for part in parts[end:]:
            found = getattr(found, part)
        return found
    raise ImportError(f"nothing at {identifier}")


def shown_members(module, options):
    """The names of a module block's members: its `members` option, else
    (as mkdocstrings shows them) `__all__`, else the module's own public
    classes and functions."""
    names = options.get("members")
    if names is None:
        names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and getattr(value, "__module__", None) == module.__name__
        ]
    return list(names or [])


def documented(page):
    """{identifier: object} of what a reference page shows at the top
    level: its blocks' objects, and the members of its module blocks."""
    found = {}
    for identifier, options in blocks(page.read_text(encoding="utf-8")):
        value = resolve(identifier)
        if not inspect.ismodule(value):
            found[identifier] = value
            continue
        for name in shown_members(value, options):
            found[f"{identifier}.{name}"] = getattr(value, name)
    return found


def example_modules(page):
    """The modules whose docstrings a page shows: those of its module
    blocks, those defining its classes and functions, and those defining
    the package classes theirs inherit from (inherited members)."""
    modules = {}
    for identifier, _ in blocks(page.read_text(encoding="utf-8")):
        value = resolve(identifier)
        if inspect.ismodule(value):
            modules[value.__name__] = value
    for value in documented(page).values():
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        for owner in inspect.getmro(value) if inspect.isclass(value) else ():
            if owner.__module__.startswith("seqgan_tf"):
                module = inspect.getmodule(owner)
                modules[module.__name__] = module
        module = inspect.getmodule(value)
        modules[module.__name__] = module
    return [modules[name] for name in sorted(modules)]


def takes_arguments(value):
    """Whether `value` is a class built with arguments: not an exception,
    nor a protocol, nor a class of `object`'s constructor."""
    if not inspect.isclass(value) or issubclass(value, BaseException):
        return False
    if getattr(value, "_is_protocol", False):
        return False
    return bool(inspect.signature(value).parameters)


def has_example(value):
    """Whether a docstring holds a Google-style Examples section with a
    doctest."""
    docstring = inspect.getdoc(value) or ""
    return bool(re.search(r"^Examples:\s*$", docstring, re.M)) and (
        ">>>" in docstring
    )


def classes_without_examples(objects):
    """The identifiers of the classes of `objects` (exceptions aside) whose
    docstring has no example."""
    return sorted(
        identifier
        for identifier, value in objects.items()
        if inspect.isclass(value)
        and not issubclass(value, BaseException)
        and not has_example(value)
    )


def run_examples(modules):
    """Runs every `>>>` example of `modules`, each docstring on its own
    (no module globals: an example imports what it uses); returns
    (doctest's TestResults, the report of the failures)."""
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for module in modules:
        for test in finder.find(module, globs={}):
            runner.run(test, out=report.append)
    return runner.summarize(verbose=False), "".join(report)


# --- what the built pages show --------------------------------------------

OBJECT = re.compile(
    r'<div class="doc doc-object doc-(?P<kind>class|function)">\s*'
    r'<h\d id="(?P<identifier>[^"]+)"'
)
SIGNATURE = re.compile(
    r'<div class="doc-signature highlight">(.*?)</div>', re.S
)


def signatures(page_html):
    """{identifier: (kind, signature)} of the classes and functions a built
    page documents; the signature is "" when none follows the heading."""
    found = {}
    for match in OBJECT.finditer(page_html):
        following = OBJECT.search(page_html, match.end())
        signature = SIGNATURE.search(page_html, match.end())
        text = ""
        if signature and (
            following is None or signature.start() < following.start()
        ):
            text = re.sub(r"<[^>]+>", "", signature.group(1))
            text = html.unescape(text).strip()
        found[match["identifier"]] = (match["kind"], text)
    return found


def missing_names(found, names):
    """The names of `names` that no documented object of `found`
    (`signatures`) shows with a signature `name(...)`."""
    shown = {
        identifier.rsplit(".", 1)[-1]
        for identifier, (_, text) in found.items()
        if text.startswith(identifier.rsplit(".", 1)[-1] + "(")
    }
    return sorted(set(names) - shown)


def untyped(kind, text):
    """What a rendered signature leaves untyped: its parameters without
    an annotation, and "return" for a function without a return type."""
    function = ast.parse(f"def {text}: pass").body[0]
    arguments = function.args
    parameters = [
        *arguments.posonlyargs,
        *arguments.args,
        *arguments.kwonlyargs,
        *(p for p in (arguments.vararg, arguments.kwarg) if p is not None),
    ]
    missing = [p.arg for p in parameters if p.annotation is None]
    if kind == "function" and function.returns is None:
        missing.append("return")
    return missing


class _Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)


def unknown_tags(page_html):
    """The tags of a built page that are no element the site writes."""
    parser = _Tags()
    parser.feed(page_html)
    return sorted(parser.tags - HTML_TAGS)


def built_pages(built_site):
    result, site = built_site
    if result.returncode != 0:
        pytest.fail(f"the site does not build:\n{result.stderr[-3000:]}")
    pages = sorted((site / "reference").glob("**/index.html"))
    assert len(pages) == len(PAGES)
    return {page: page.read_text(encoding="utf-8") for page in pages}


# --- the examples ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_every_example_runs(page, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # examples write run and export folders
    results, report = run_examples(example_modules(page))
    assert results.failed == 0, report[-6000:]
    assert results.attempted or page.stem == "index"


PLANTED = '''
def twice(x):
    """Examples:
        >>> twice(2)
        4
        >>> from planted import twice
        >>> twice(2)
        5
    """
    return 2 * x
'''


def test_a_failing_example_is_reported(monkeypatch):
    module = types.ModuleType("planted")
    exec(PLANTED, module.__dict__)
    monkeypatch.setitem(sys.modules, "planted", module)
    results, report = run_examples([module])
    # No module globals: the first call does not know `twice`; imported,
    # it returns 4, not the 5 shown.
    assert (results.failed, results.attempted) == (2, 3)
    assert "NameError" in report and "Expected:\n    5" in report


def test_every_public_class_shows_an_example():
    for page in PAGES:
        assert classes_without_examples(documented(page)) == [], page.name


def test_a_class_without_an_example_is_found():
    class Shown:
        """Examples:
        >>> Shown()  # doctest: +ELLIPSIS
        <...>
        """

    class Bare:
        """No example."""

    class Refused(ValueError):
        """Raised, not used."""

    objects = {"x.Shown": Shown, "x.Bare": Bare, "x.Refused": Refused}
    assert classes_without_examples(objects) == ["x.Bare"]


def test_the_main_functions_show_examples():
    shown = {}
    for page in PAGES:
        shown.update(documented(page))
    for identifier in MAIN_FUNCTIONS:
        owner = identifier.rsplit(".", 1)[0]
        assert identifier in shown or owner in shown, identifier
        assert has_example(resolve(identifier)), identifier


def test_every_module_of_the_package_namespace_has_a_page():
    # `seqgan_tf.<module>` names of the package (its lazy `_MODULES`) that
    # a library user imports: each is shown on a reference page.
    import seqgan_tf

    shown = set()
    for page in PAGES:
        for identifier, _ in blocks(page.read_text(encoding="utf-8")):
            shown.add(".".join(identifier.split(".")[:2]))
    for name in seqgan_tf._MODULES:
        assert f"seqgan_tf.{name}" in shown, name


# --- the navigation -------------------------------------------------------


def test_the_reference_pages_are_in_the_navigation_under_their_titles():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    section = next(
        entry["API reference"]
        for entry in config["nav"]
        if isinstance(entry, dict) and "API reference" in entry
    )
    listed = {}
    for entry in section:
        ((label, path),) = entry.items()
        listed[path] = label
    assert sorted(listed) == [f"reference/{page.name}" for page in PAGES]
    for path, label in listed.items():
        text = (ROOT / "docs" / path).read_text(encoding="utf-8")
        assert text.splitlines()[0] == f"# {label}", path


# --- the built pages ------------------------------------------------------


def test_every_public_name_is_shown_with_its_signature(built_site):
    import seqgan_tf

    found = {}
    for text in built_pages(built_site).values():
        found.update(signatures(text))
    assert missing_names(found, seqgan_tf.__all__) == []
    # And every function the pages name at the top level, and every class
    # that takes arguments (not exceptions, protocols or a bare `Tokenizer()`).
    for page in PAGES:
        for identifier, value in documented(page).items():
            if inspect.isfunction(value) or takes_arguments(value):
                assert found.get(identifier, ("", ""))[1], identifier


def test_a_name_without_a_signature_is_found():
    page = (
        '<div class="doc doc-object doc-class">\n<h2 id="m.Shown">x</h2>'
        '<div class="doc-signature highlight"><code>Shown(a: int)</code>'
        '</div><div class="doc doc-object doc-function">\n'
        '<h3 id="m.Shown.f">f</h3><p>no signature</p>'
    )
    found = signatures(page)
    assert found == {
        "m.Shown": ("class", "Shown(a: int)"),
        "m.Shown.f": ("function", ""),
    }
    assert missing_names(found, ["Shown", "f", "Absent"]) == ["Absent", "f"]


def test_every_shown_signature_is_typed(built_site):
    untyped_signatures = {}
    for text in built_pages(built_site).values():
        for identifier, (kind, signature) in signatures(text).items():
            missing = untyped(kind, signature) if signature else []
            if missing:
                untyped_signatures[identifier] = missing
    assert untyped_signatures == {}


def test_an_untyped_signature_is_found():
    assert untyped("function", "f(a, b: int = 1, *c, **d: str)") == [
        "a",
        "c",
        "return",
    ]
    assert untyped("class", "C(a: int, b: str = 'x')") == []
    assert untyped("function", "f() -> int") == []


@pytest.mark.slow
def test_no_word_in_angle_brackets_is_swallowed(built_site):
    pages = built_pages(built_site)
    for page, text in pages.items():
        assert unknown_tags(text) == [], page
    # `experiment.train`'s default run directory reads in full.
    (experiment,) = [t for p, t in pages.items() if "experiment" in p.parts]
    assert "runs/quick_coco" in experiment


def test_a_swallowed_word_is_found():
    assert unknown_tags("<p>runs/<preset>[_<dataset>]</p>") == [
        "dataset",
        "preset",
    ]
    assert unknown_tags("<p><code>runs/&lt;preset&gt;</code></p>") == []
