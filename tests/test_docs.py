"""The documentation's sources stay buildable: fast checks inside `make test` (the full site,
with its executed tutorials, is built by `make docs`)."""

import ast
import importlib
import inspect
import pathlib
import re
from html.parser import HTMLParser
from urllib.parse import unquote, urlparse

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SECTIONS = ("tutorials", "user-guide", "guides")
CODE_BLOCK = re.compile(r"```(?:python|\{code-cell\} ipython3)\n(.*?)```", re.S)
DOCSTRING_SECTION = re.compile(r"^\s*(Returns|Raises|Yields):\s*$", re.M)

# Public names whose docstrings still lack a Returns/Raises section (none now; a name added
# here must still be missing one, see the test below).
PENDING: set = set()
DOCUMENTED_MODULES = (
    "chainrule", "chainrule.nn", "chainrule.nn.utils", "chainrule.optim", "chainrule.data",
    "chainrule.io", "chainrule.errors",
)


def _markdown_pages(section):
    return sorted(path for path in (DOCS / section).glob("*.md") if path.name != "index.md")


def _toctree_entries(index):
    entries = set()
    for block in re.findall(r"```\{toctree\}\n(.*?)```", index.read_text(), re.S):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(":"):
                entries.add(line)
    return entries


@pytest.mark.parametrize("section", SECTIONS)
def test_every_page_is_in_its_toctree(section):
    listed = _toctree_entries(DOCS / section / "index.md")
    pages = {path.stem for path in _markdown_pages(section)}
    assert pages, f"no pages under docs/{section}"
    assert pages - listed == set(), f"pages missing from docs/{section}/index.md's toctree"
    assert listed - pages == set(), f"toctree entries without a page in docs/{section}"


def test_the_front_page_links_every_section():
    listed = _toctree_entries(DOCS / "index.md")
    assert {"tutorials/index", "user-guide/index", "guides/index", "api/index", "about"} <= listed


@pytest.mark.parametrize(
    "page", [p for s in SECTIONS for p in _markdown_pages(s)], ids=lambda p: p.name
)
def test_every_python_code_block_compiles(page):
    blocks = CODE_BLOCK.findall(page.read_text())
    for number, block in enumerate(blocks):
        code = "\n".join(line for line in block.splitlines() if not line.startswith(":tags:"))
        ast.parse(code, filename=f"{page.name} code block {number}")


def test_tutorials_are_executable_notebooks():
    for page in _markdown_pages("tutorials"):
        text = page.read_text()
        assert text.startswith("---\nfile_format: mystnb"), f"{page.name} is not a MyST notebook"
        assert "```{code-cell}" in text, f"{page.name} has no code to run"


def _public_callables():
    seen = set()
    for module_name in DOCUMENTED_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.ismodule(value) or not callable(value) or id(value) in seen:
                continue
            seen.add(id(value))
            yield f"{module_name}.{name}", value


def _docstring(value):
    text = inspect.getdoc(value) or ""
    if inspect.isclass(value) and value.__init__ is not object.__init__:
        text += "\n" + (inspect.getdoc(value.__init__) or "")
    return text


def _missing_sections():
    missing = []
    for name, value in _public_callables():
        if inspect.isclass(value) and issubclass(value, BaseException):
            continue  # exceptions are what Raises sections name; their docstrings say when
        if not DOCSTRING_SECTION.search(_docstring(value)):
            missing.append(name)
    return missing


def test_public_callables_document_what_they_return_or_raise():
    missing = [name for name in _missing_sections() if name not in PENDING]
    assert missing == [], (
        "public callables whose docstring has no 'Returns:' or 'Raises:' section: "
        + ", ".join(missing)
    )


def test_the_pending_list_only_names_what_is_still_missing():
    public = {name for name, _ in _public_callables()}
    done = (PENDING & public) - set(_missing_sections())
    assert done == set(), f"documented now, remove from PENDING: {sorted(done)}"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets = []

    def handle_starttag(self, tag, attrs):
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.targets.append(value)


@pytest.mark.docs  # needs the built site: `make docs` builds it, then runs this check
def test_built_site_has_no_broken_internal_links():
    site = DOCS / "_build" / "html"
    assert (site / "index.html").exists(), "the site is not built: run make docs"
    broken = []
    for page in site.rglob("*.html"):
        parser = _Links()
        parser.feed(page.read_text(errors="replace"))
        for target in parser.targets:
            parts = urlparse(target)
            if parts.scheme or parts.netloc or not parts.path or target.startswith("data:"):
                continue
            if not (page.parent / unquote(parts.path)).exists():
                broken.append(f"{page.relative_to(site)} -> {target}")
    assert broken == [], "broken links:\n" + "\n".join(sorted(set(broken))[:40])
