"""The `chainrule` command: explain (every mode, format and picture option, every documented
error) and demo, run in-process through `main([...])` and once through `python -m chainrule`."""

import html.parser
import json
import os
import subprocess
import sys
import types
import xml.etree.ElementTree as ET

import pytest

from chainrule.cli import main

SEED = ["explain", "(x + y) * (x - y)", "--at", "x=3", "y=2"]


def squeeze(text):
    return [" ".join(line.split()) for line in text.splitlines()]


def run_cli(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# ----- explain -----------------------------------------------------------------------------------
def test_explain_prints_trace_both_passes_and_gradient(capsys):
    status, out, err = run_cli(capsys, *SEED)
    lines = squeeze(out)
    assert status == 0 and err == ""
    assert lines[0] == "f(x, y) = (x + y) * (x - y) at x = 3, y = 2"
    for expected in [
        "v1 = x = 3", "v2 = y = 2", "v3 = v1 + v2 = 5", "v4 = v1 - v2 = 1", "v5 = v3 · v4 = 5",
        "v̇5 = v̇3 · v4 + v̇4 · v3 = 1 · 1 + 1 · 5 = 6",
        "v̇5 = v̇3 · v4 + v̇4 · v3 = 1 · 1 + (-1) · 5 = -4",
        "v̄3 = v̄5 · v4 = 1 · 1 = 1", "v̄2 = v̄3 - v̄4 = 1 - 5 = -4", "v̄1 = v̄3 + v̄4 = 1 + 5 = 6",
        "∂f/∂x = v̄1 = 6", "∂f/∂y = v̄2 = -4",
    ]:
        assert expected in lines, expected


def test_mode_forward_shows_no_reverse_pass_and_reads_the_gradient_off_the_tangents(capsys):
    status, out, _ = run_cli(capsys, *SEED, "--mode", "forward")
    lines = squeeze(out)
    assert status == 0 and "Reverse mode" not in out
    assert "Gradient (from the forward passes)" in lines
    assert "∂f/∂x = v̇5 = 6" in lines and "∂f/∂y = v̇5 = -4" in lines


def test_mode_reverse_shows_no_forward_pass(capsys):
    status, out, _ = run_cli(capsys, *SEED, "--mode", "reverse")
    assert status == 0 and "Forward mode" not in out and "∂f/∂x = v̄1 = 6" in squeeze(out)


def test_direction_seeds_one_forward_pass(capsys):
    # along (x, y) = (1, 1): 6 - 4 = 2
    status, out, _ = run_cli(capsys, *SEED, "--mode", "forward", "--direction", "x=1", "y=1")
    lines = squeeze(out)
    assert status == 0 and out.count("Forward mode") == 1
    assert "ḟ = v̇5 = 2" in lines


def test_format_json(capsys):
    status, out, _ = run_cli(capsys, *SEED, "--format", "json")
    data = json.loads(out)
    assert status == 0
    assert data["at"] == {"x": 3, "y": 2}
    assert [s["value"] for s in data["evaluation"]["steps"]] == [3, 2, 5, 1, 5]
    assert [f["derivative"] for f in data["forward"]] == [6, -4]
    assert data["gradient"] == {"x": 6, "y": -4}


class _Tags(html.parser.HTMLParser):
    VOID = {"meta", "br"}

    def __init__(self):
        super().__init__()
        self.stack, self.seen, self.mismatched, self.doctype, self.text = [], [], [], None, []

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.seen.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.seen.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.mismatched.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_format_html_is_a_valid_document(capsys):
    status, out, _ = run_cli(capsys, *SEED, "--format", "html")
    tags = _Tags()
    tags.feed(out)
    tags.close()
    assert status == 0 and tags.doctype.lower() == "doctype html"
    assert not tags.mismatched and not tags.stack  # every element closed, properly nested
    assert tags.seen[:4] == ["html", "head", "meta", "title"]
    assert tags.seen.count("table") == tags.seen.count("caption") == 5
    text = "".join(tags.text)
    assert "v̄5 · v4" in text and "∂f/∂y" in text and "multiply" in text


def test_format_markdown(capsys):
    status, out, _ = run_cli(capsys, *SEED, "--format", "markdown")
    assert status == 0
    assert "| v3 | v1 + v2 | 5 |" in out and "| ∂f/∂x | v̄1 | 6 |" in out


def test_pictures_are_written(capsys, tmp_path):
    svg, png, dot = tmp_path / "g.svg", tmp_path / "g.png", tmp_path / "g.dot"
    status, _, err = run_cli(capsys, *SEED, "--svg", str(svg), "--png", str(png), "--dot", str(dot))
    assert status == 0
    root = ET.parse(svg).getroot()
    text = " ".join("".join(e.itertext()) for e in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "v3 = v1 + v2" in text and "v̄1 = 6" in text
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert dot.read_text(encoding="utf-8").startswith("digraph")
    assert f"wrote {svg}" in err


def test_missing_graphviz_still_prints_tables_then_explains(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    status, out, err = run_cli(capsys, *SEED, "--svg", str(tmp_path / "g.svg"))
    assert status == 1 and "∂f/∂x = v̄1 = 6" in squeeze(out)
    assert "apt-get install graphviz" in err and "Traceback" not in err


def test_the_identity_function(capsys):
    status, out, _ = run_cli(capsys, "explain", "x", "--at", "x=2")
    assert status == 0 and "∂f/∂x = v̄1 = 1" in squeeze(out) and "∂f/∂x = v̇1 = 1" in squeeze(out)


def test_array_values(capsys):
    status, out, _ = run_cli(capsys, "explain", "x * y", "--at", "x=[1,2]", "y=[3,4]",
                             "--mode", "reverse")
    lines = squeeze(out)
    assert status == 0
    assert "ones (this differentiates sum(f))" in out
    assert "∂f/∂x = v̄1 = [3, 4]" in lines and "∂f/∂y = v̄2 = [1, 2]" in lines


# ----- explain: complex numbers ------------------------------------------------------------------
def test_complex_values_are_read_and_written_as_python_writes_them(capsys):
    # |z|^2 at 1+2j: cr.grad's gradient 2 Re z - 2i Im z = 2-4j; PyTorch's z.grad is 2+4j
    status, out, err = run_cli(capsys, "explain", "abs(z) ** 2", "--at", "z=1+2j")
    lines = squeeze(out)
    assert status == 0 and err == ""
    assert lines[0] == "f(z) = abs(z) ** 2 at z = 1+2j"
    for expected in ["v1 = z = 1+2j", "v2 = abs(v1) = 2.23607", "∂f/∂(Re z) = v̇3 = 2",
                     "∂f/∂(Im z) = v̇3 = 4", "v̄1 = v̄2 · conj(v1)/v2 = 2-4j",
                     "∂f/∂z = v̄1 = 2-4j"]:
        assert expected in lines, expected
    assert "cr.grad's (JAX's) convention; PyTorch's z.grad is its conjugate (2+4j)." in " ".join(
        out.split())
    assert "(1+2j)" not in lines[0] and ".000000" not in out


def test_complex_literals_in_expressions_and_holomorphic_functions(capsys):
    # z^2 + 2j is holomorphic: along Re z the tangent is f'(z) = 2z = 2+4j, and the reverse pass
    # (which differentiates Re f) gives f'(z) too
    status, out, _ = run_cli(capsys, "explain", "z * z + 2j", "--at", "z=1 + 2j")
    lines = squeeze(out)
    assert status == 0
    assert "v2 = v1 · v1 = -3+4j" in lines and "v3 = v2 + 2j = -3+6j" in lines
    assert "∂f/∂(Re z) = v̇3 = 2+4j" in lines and "∂f/∂z = v̄1 = 2+4j" in lines
    assert "f is complex: the seed 1 differentiates Re f" in " ".join(out.split())


def test_complex_lists_and_json_output(capsys):
    status, out, _ = run_cli(capsys, "explain", "abs(z * w)", "--at", "z=[1+2j, -1j]", "w=2",
                             "--format", "json")
    data = json.loads(out)
    assert status == 0 and data["at"] == {"z": ["1+2j", "-1j"], "w": 2}
    # d/dz sum |2 z| = 2 conj(z)/|z|; d/dw = sum |z|
    gradient = data["gradient"]
    assert [complex(g) for g in gradient["z"]] == pytest.approx(
        [2 * (1 - 2j) / 5 ** 0.5, 2 * 1j])
    assert gradient["w"] == pytest.approx(5 ** 0.5 + 1)


def test_conj_real_and_imag_can_be_called(capsys):
    status, out, _ = run_cli(capsys, "explain", "z * conj(z)", "--at", "z=1+2j")
    lines = squeeze(out)
    assert status == 0
    assert "v2 = conj(v1) = 1-2j" in lines and "v3 = v1 · v2 = 5" in lines
    assert "v̄1 = conj(v̄2) + v̄3 · v2 = 2-4j" in lines and "∂f/∂z = v̄1 = 2-4j" in lines
    status, out, _ = run_cli(capsys, "explain", "real(z) * imag(z)", "--at", "z=3-1j")
    assert status == 0 and "∂f/∂z = v̄1 = -1-3j" in squeeze(out)  # Im z - i Re z


# ----- explain: errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("expression, at, message", [
    ("(x + y", ["x=1", "y=2"], "syntax error at column 1 near '('"),
    ("x +* y", ["x=1", "y=2"], "syntax error at column 4 near '*'"),
    ("foo(x)", ["x=1"], "unknown function 'foo' at column 1"),
    ("x + z", ["x=1"], "no value for variable z (add --at z=...)"),
    ("x", ["x=1", "w=2"], "--at gives w, which the expression does not use"),
    ("x + y + z", [], "no value for variables x, y, z"),
    ("__import__('os').system('ls')", ["x=1"], "attribute access '.system' is not allowed"),
    ("__import__('os')", ["x=1"], "name '__import__' is not allowed at column 1"),
    ("x.real", ["x=1"], "attribute access '.real' is not allowed at column 2"),
    ("x ** 100000", ["x=1"], "exponent 100000 is too large at column 6"),
    ("x[0]", ["x=1"], "subscript 'x[0]' is not allowed at column 1"),
    ("lambda: 1", ["x=1"], "lambda 'lambda: 1' is not allowed at column 1"),
    ("[x for x in x]", ["x=1"], "comprehension '[x for x in x]' is not allowed at column 1"),
    ("x", ["x=abc"], "--at x=abc: 'abc' is not a number"),
    ("x", ["x"], "--at x: write NAME=VALUE"),
    ("2 + 3", [], "has no variables"),
    ("x * y", ["x=[1, 2]", "y=[1, 2, 3]"], "multiply() cannot combine shapes float64[2]"),
    ("x", ["x=[[1, 2], [3]]"], "is not a number or a list of numbers"),
    ("z", ["z=1+2k"], "--at z=1+2k: '1+2k' is not a number"),
    ("z", ["z=[1+2j, 'a']"], "is not a number or a list of numbers"),
    ("z", ["z=[__import__('os')]"], "is not a number or a list of numbers"),
    ("max(z, 1)", ["z=1+2j"], "maximum() got a complex operand"),
    ("x ** 1000j", ["x=1"], "exponent 1000j is too large at column 6"),
])
def test_errors_are_one_line_with_status_2(capsys, expression, at, message):
    status, out, err = run_cli(capsys, "explain", expression, "--at", *at) if at else run_cli(
        capsys, "explain", expression)
    assert status == 2 and out == ""
    assert err.startswith("chainrule explain: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unknown_direction_variable_is_named(capsys):
    status, _, err = run_cli(capsys, *SEED, "--direction", "q=1")
    assert status == 2 and "--direction gives q, which the expression does not use" in err


def _python_m_chainrule(*argv):
    environment = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "chainrule", *argv], capture_output=True,
                          text=True, encoding="utf-8", env=environment, timeout=120)


def test_python_m_chainrule_runs_explain_and_refuses_import():
    result = _python_m_chainrule(*SEED)
    assert result.returncode == 0 and "∂f/∂y = v̄2 = -4" in squeeze(result.stdout)
    refused = _python_m_chainrule("explain", "__import__('os').getcwd()", "--at", "x=1")
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert "is not allowed" in refused.stderr


# ----- demo --------------------------------------------------------------------------------------
def test_demo_writes_the_seed_graph_and_tables(capsys, tmp_path):
    out_dir = tmp_path / "demo-output"
    status, out, _ = run_cli(capsys, "demo", "--out", str(out_dir), "--no-train")
    assert status == 0
    assert "∂f/∂x = v̄1 = 6" in squeeze(out)
    names = sorted(os.listdir(out_dir))
    assert names == ["mlp-graph.svg", "seed-explain.html", "seed-explain.json",
                     "seed-explain.md", "seed-graph.svg"]
    root = ET.parse(out_dir / "seed-graph.svg").getroot()
    assert "multiply" in " ".join(root.itertext())
    assert json.loads((out_dir / "seed-explain.json").read_text("utf-8"))["gradient"] == {
        "x": 6, "y": -4}
    for name in names:
        assert str(out_dir / name) in out  # it says where the files are


@pytest.mark.parametrize("as_list", [True, False])
def test_demo_calls_the_training_hook_when_it_exists(capsys, tmp_path, monkeypatch, as_list):
    calls = []

    def run_demo_training(out_dir):
        calls.append(out_dir)
        path = os.path.join(out_dir, "training.txt")
        with open(path, "w") as handle:
            handle.write("trained\n")
        return [path] if as_list else path  # a list of paths, or one path

    fake = types.ModuleType("chainrule.cli.train")
    fake.add_parser = lambda subparsers: None
    fake.run_demo_training = run_demo_training
    monkeypatch.setitem(sys.modules, "chainrule.cli.train", fake)
    status, out, _ = run_cli(capsys, "demo", "--out", str(tmp_path))
    assert status == 0 and calls == [str(tmp_path)]
    assert f"  {os.path.join(str(tmp_path), 'training.txt')}\n" in out


def test_demo_skips_training_when_the_hook_is_missing(capsys, tmp_path, monkeypatch):
    without_hook = types.ModuleType("chainrule.cli.train")
    without_hook.add_parser = lambda subparsers: None
    monkeypatch.setitem(sys.modules, "chainrule.cli.train", without_hook)
    status, out, _ = run_cli(capsys, "demo", "--out", str(tmp_path))
    assert status == 0 and "training demo: not available" in out
