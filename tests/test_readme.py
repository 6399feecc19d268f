"""The README's and the documentation's Python examples run, in order, as a new user would paste
them (the docs build runs them too; this keeps them in `make test`)."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# Pages whose code cells are self-contained examples (the benchmarks page draws from bench JSON
# inside the docs build, and the tutorials are run by `make docs`).
PAGES = sorted((ROOT / "docs" / "user-guide").glob("*.md")) + sorted(
    page for page in (ROOT / "docs" / "guides").glob("*.md")
    if page.name not in ("index.md", "benchmarks.md")
)
CODE = re.compile(r"```(?:python|\{code-cell\} ipython3)\n(.*?)```", re.S)


def _blocks(path):
    return [
        "\n".join(line for line in block.splitlines() if not line.startswith(":tags:"))
        for block in CODE.findall(path.read_text())
    ]


def _run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write pictures and checkpoints
    namespace = {"__name__": "__docs__"}
    for number, block in enumerate(_blocks(path)):
        code = compile(block, f"{path.name} code block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - running our own documentation, not user input


def test_readme_shows_the_two_commands_first():
    text = README.read_text()
    quick_start = text.index("## Quick start")
    assert text.index("make demo") > quick_start
    assert text.index("make test") > quick_start


def test_readme_python_examples_run(tmp_path, monkeypatch):
    assert _blocks(README)
    _run(README, tmp_path, monkeypatch)


def test_the_examples_moved_from_the_readme_are_all_kept():
    assert sum(len(_blocks(page)) for page in PAGES) >= 40


@pytest.mark.parametrize("page", PAGES, ids=lambda page: f"{page.parent.name}/{page.name}")
def test_documentation_examples_run(page, tmp_path, monkeypatch):
    _run(page, tmp_path, monkeypatch)
