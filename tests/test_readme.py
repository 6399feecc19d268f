"""The README's Python examples run, in order, as a new user would paste them."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_shows_the_two_commands_first():
    text = README.read_text()
    quick_start = text.index("## Quick start")
    assert text.index("make demo") > quick_start
    assert text.index("make test") > quick_start


def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 20
    monkeypatch.chdir(tmp_path)  # examples may write pictures and checkpoints
    namespace = {"__name__": "__readme__"}
    for number, block in enumerate(blocks):
        code = compile(block, f"README.md python block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - running our own documentation, not user input
