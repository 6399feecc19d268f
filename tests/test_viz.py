"""cr.trace, its tables and pictures, and cr.draw; expected numbers are worked out by hand.

The seed example f(x, y) = (x + y)(x - y) at x = 3, y = 2:
  v1 = 3, v2 = 2, v3 = v1 + v2 = 5, v4 = v1 - v2 = 1, v5 = v3 · v4 = 5.
  Forward, seed x: v̇3 = 1, v̇4 = 1, v̇5 = v̇3·v4 + v̇4·v3 = 1 + 5 = 6.
  Forward, seed y: v̇3 = 1, v̇4 = -1, v̇5 = 1·1 + (-1)·5 = -4.
  Reverse: v̄5 = 1, v̄4 = v̄5·v3 = 5, v̄3 = v̄5·v4 = 1, v̄2 = v̄3 - v̄4 = -4, v̄1 = v̄3 + v̄4 = 6.
"""

import html.parser
import json
import re
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import ChainruleError, MissingExtraError
from chainrule.viz import scope
from chainrule.viz.notation import format_number, format_value, parenthesized

SVG_NS = "{http://www.w3.org/2000/svg}"


def seed(x, y):
    return (x + y) * (x - y)


@pytest.fixture
def seed_graph():
    return cr.trace(seed, 3.0, 2.0)


def values_by_name(graph):
    return {v.name: float(v.value) for v in graph.vertices}


def svg_text(svg: str) -> str:
    root = ET.fromstring(svg.encode("utf-8"))
    return "\n".join("".join(element.itertext()) for element in root.iter(f"{SVG_NS}text"))


# ----- the recorded graph ------------------------------------------------------------------------
def test_seed_trace_records_the_three_primitives_in_order(seed_graph):
    assert [v.label for v in seed_graph.vertices] == ["x", "y", "add", "subtract", "multiply"]
    assert values_by_name(seed_graph) == {"v1": 3, "v2": 2, "v3": 5, "v4": 1, "v5": 5}
    assert seed_graph.output == 4
    assert seed_graph.vertices[4].operands == (2, 3)


def test_seed_evaluation_table_reads_like_the_textbook(seed_graph):
    lines = [" ".join(line.split()) for line in seed_graph.evaluation_table().splitlines()]
    for expected in ["v1 = x = 3", "v2 = y = 2", "v3 = v1 + v2 = 5", "v4 = v1 - v2 = 1",
                     "v5 = v3 · v4 = 5", "f = v5 = 5"]:
        assert expected in lines


def test_seed_forward_tangents_match_hand_computation(seed_graph):
    along_x = seed_graph.tangents({"x": 1.0})
    along_y = seed_graph.tangents({"y": 1.0})
    assert [float(along_x.tangents[i]) for i in range(5)] == [1, 0, 1, 1, 6]
    assert [float(along_y.tangents[i]) for i in range(5)] == [0, 1, 1, -1, -4]
    # v̇5's two chain-rule terms: v̇3·v4 = 1·1 and v̇4·v3 = 1·5
    assert [float(t.value) for t in along_x.terms[4]] == [1, 5]
    assert [t.symbolic for t in along_x.terms[4]] == ["v̇3 · v4", "v̇4 · v3"]


def test_seed_forward_table_shows_each_step(seed_graph):
    lines = [" ".join(line.split()) for line in seed_graph.forward_table().splitlines()]
    assert "Forward mode, seed ẋ = 1, ẏ = 0: tangents v̇ = ∂v/∂x" in lines
    assert "v̇5 = v̇3 · v4 + v̇4 · v3 = 1 · 1 + 1 · 5 = 6" in lines
    assert "∂f/∂x = v̇5 = 6" in lines
    assert "v̇4 = v̇1 - v̇2 = 0 - 1 = -1" in lines
    assert "∂f/∂y = v̇5 = -4" in lines


def test_seed_adjoints_match_hand_computation(seed_graph):
    adjoints = seed_graph.adjoints()
    assert [float(adjoints.adjoint(v)) for v in seed_graph.vertices] == [6, -4, 1, 5, 1]
    # v̄1 collects one term from each consumer: v̄3 · 1 = 1 and v̄4 · 1 = 5
    assert [float(t.value) for t in adjoints.terms[0]] == [1, 5]
    assert {k: float(v) for k, v in seed_graph.gradient().items()} == {"x": 6, "y": -4}


def test_seed_backward_table_shows_each_chain_rule_step(seed_graph):
    lines = [" ".join(line.split()) for line in seed_graph.backward_table().splitlines()]
    for expected in ["v̄5 = seed = 1", "v̄4 = v̄5 · v3 = 1 · 5 = 5", "v̄3 = v̄5 · v4 = 1 · 1 = 1",
                     "v̄2 = v̄3 - v̄4 = 1 - 5 = -4", "v̄1 = v̄3 + v̄4 = 1 + 5 = 6",
                     "∂f/∂x = v̄1 = 6", "∂f/∂y = v̄2 = -4"]:
        assert expected in lines


def test_inputs_are_named_after_the_parameters_and_keywords():
    def scaled(weight, *rest, scale=1.0):
        return weight * rest[0] * scale

    graph = cr.trace(scaled, 2.0, 5.0, scale=3.0)
    assert [v.label for v in graph.inputs] == ["weight", "rest1", "scale"]
    assert {k: float(v) for k, v in graph.gradient().items()} == {
        "weight": 15.0, "rest1": 6.0, "scale": 10.0,
    }


def test_any_parameter_name_works_even_f():
    graph = cr.trace(lambda f, named_args: f * named_args, f=2.0, named_args=3.0)
    assert {k: float(v) for k, v in graph.gradient().items()} == {"f": 3.0, "named_args": 2.0}


def test_constants_appear_inline_and_non_numbers_pass_through():
    graph = cr.trace(lambda x, power_of: x ** 2 * 3.0 if power_of == "two" else x, 4.0, "two")
    expressions = [line.split("=")[1].strip() for line in graph.evaluation_table().splitlines()[1:]]
    assert "v1^2" in expressions and "v2 · 3" in expressions
    assert float(graph.gradient()["x"]) == 24.0  # d(3x²)/dx = 6x


def test_a_repeated_operand_gives_one_term_per_edge():
    graph = cr.trace(lambda x: x * x, 3.0)
    terms = graph.adjoints().terms[0]
    assert [float(t.value) for t in terms] == [3, 3]  # v̄2·v1 twice: d(x²)/dx = 2x = 6
    assert float(graph.gradient()["x"]) == 6.0
    assert graph.to_dot().count("v1 -> v2") == 2


def test_an_input_that_does_not_reach_the_output_has_zero_adjoint():
    graph = cr.trace(lambda x, unused: cnp.sin(x), 0.0, 1.0)
    assert float(graph.gradient()["unused"]) == 0.0
    assert float(graph.gradient()["x"]) == 1.0  # cos(0)
    assert "does not reach f" in graph.backward_table()


def test_a_constant_output_has_no_operations_and_zero_gradient():
    graph = cr.trace(lambda x: 7.0, 3.0)
    assert graph.operations == [] and float(graph.value) == 7.0
    assert float(graph.gradient()["x"]) == 0.0
    assert "digraph" in graph.to_dot()


def test_steps_that_do_not_reach_the_output_are_left_out():
    def f(x):
        cnp.exp(x)  # computed and thrown away
        return x * 2.0

    assert [v.label for v in cr.trace(f, 1.0).operations] == ["multiply"]


def test_several_outputs_are_refused_with_a_hint():
    with pytest.raises(ChainruleError, match="one output"):
        cr.trace(lambda x: (x, x * 2), 1.0)


def test_a_custom_direction_gives_the_directional_derivative(seed_graph):
    # along (1, 1): 6 + (-4) = 2
    tangent_pass = seed_graph.tangents({"x": 1.0, "y": 1.0})
    assert float(tangent_pass.output_tangent()) == 2.0
    assert "ḟ = v̇5 = 2" in " ".join(seed_graph.forward_table(direction=[1.0, 1.0]).split())
    with pytest.raises(ValueError, match="not inputs"):
        seed_graph.tangents({"z": 1.0})
    with pytest.raises(ValueError, match="one tangent per input"):
        seed_graph.tangents([1.0])


def test_a_custom_reverse_seed_scales_the_adjoints(seed_graph):
    assert {k: float(v) for k, v in seed_graph.adjoints(2.0).gradient().items()} == {
        "x": 12.0, "y": -8.0}
    assert "seed v̄5 = 2" in seed_graph.backward_table(seed=2.0)


def test_long_chains_are_walked_without_recursion():
    def chain(x):
        for _ in range(3000):
            x = x * 1.0001
        return x

    graph = cr.trace(chain, 1.0)
    assert len(graph.operations) == 3000
    assert np.isclose(float(graph.gradient()["x"]), 1.0001 ** 3000)


# ----- arrays ------------------------------------------------------------------------------------
def test_array_steps_show_shapes_and_small_values_inline():
    w = np.array([0.5, -1.0, 2.0])
    x = np.array([1.0, 2.0, 3.0])
    graph = cr.trace(lambda w, x: cnp.sum(cnp.tanh(w * x)), w, x)
    table = graph.evaluation_table()
    assert "[0.5, -2, 6]" in table and "float64[3]" in table
    gradient = graph.gradient()
    # d/dw sum(tanh(w x)) = (1 - tanh²(w x)) x
    np.testing.assert_allclose(gradient["w"], (1 - np.tanh(w * x) ** 2) * x)
    np.testing.assert_allclose(gradient["x"], (1 - np.tanh(w * x) ** 2) * w)


def test_matmul_adjoints_are_the_closed_forms():
    rng = np.random.default_rng(1)
    weights, vector = rng.normal(size=(3, 4)), rng.normal(size=4)
    graph = cr.trace(lambda weights, vector: cnp.sum(weights @ vector), weights, vector)
    # sum(W v) = 1ᵀ W v: d/dW = 1 vᵀ, d/dv = Wᵀ 1
    np.testing.assert_allclose(graph.gradient()["weights"], np.outer(np.ones(3), vector))
    np.testing.assert_allclose(graph.gradient()["vector"], weights.T @ np.ones(3))
    assert "v̄3 @ v2ᵀ" in graph.backward_table()


def test_an_array_output_is_seeded_with_ones():
    x = np.array([1.0, 2.0])
    graph = cr.trace(lambda x: x * x, x)
    assert "ones (this differentiates sum(f))" in graph.backward_table()
    np.testing.assert_allclose(graph.gradient()["x"], 2 * x)


def test_forward_mode_along_ones_matches_finite_differences():
    x = np.array([0.3, -0.7, 1.1])
    graph = cr.trace(lambda x: cnp.sum(cnp.sin(x) * cnp.exp(x)), x)
    [direction] = graph.directions()
    derivative = float(graph.tangents(direction).output_tangent())
    h = 1e-6
    f = lambda x: np.sum(np.sin(x) * np.exp(x))
    assert np.isclose(derivative, (f(x + h) - f(x - h)) / (2 * h), rtol=1e-6)


# ----- formats -----------------------------------------------------------------------------------
class _StructureChecker(html.parser.HTMLParser):
    """Records the tag structure and fails on a closing tag that does not match."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.seen, self.errors, self.doctype = [], [], [], None

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
            self.errors.append(tag)


def check_html_document(text):
    checker = _StructureChecker()
    checker.feed(text)
    checker.close()
    assert checker.doctype.lower() == "doctype html"
    assert not checker.errors and not checker.stack
    assert checker.seen[:3] == ["html", "head", "meta"] and "body" in checker.seen
    return checker


def test_tables_in_markdown(seed_graph):
    markdown = seed_graph.backward_table(format="markdown")
    assert "| v̄3 | v̄5 · v4 | 1 · 1 | 1 |" in markdown
    assert "| ∂f/∂y | v̄2 | -4 |" in markdown
    assert "| v3 | v1 + v2 | 5 |" in seed_graph.evaluation_table(format="markdown")


def test_tables_in_json(seed_graph):
    evaluation = json.loads(seed_graph.evaluation_table(format="json"))["evaluation"]
    assert [s["value"] for s in evaluation["steps"]] == [3, 2, 5, 1, 5]
    forward = json.loads(seed_graph.forward_table(format="json"))["forward"]
    assert [f["derivative"] for f in forward] == [6, -4]
    backward = json.loads(seed_graph.backward_table(format="json"))
    assert backward["gradient"] == {"x": 6, "y": -4}
    assert [s["value"] for s in backward["reverse"]["steps"]] == [1, 5, 1, -4, 6]


def test_json_writes_nan_and_infinity_as_text():
    with np.errstate(divide="ignore"):
        graph = cr.trace(lambda x: cnp.log(x), 0.0)
        data = json.loads(graph.explain(format="json"))
    assert data["evaluation"]["value"] == "-inf"


def test_html_explanation_is_a_complete_document(seed_graph):
    checker = check_html_document(seed_graph.explain(format="html"))
    assert checker.seen.count("table") == 5  # evaluation, forward x2, reverse, gradient
    assert "svg" in checker.seen


def test_html_table_fragment_has_caption_header_and_rows(seed_graph):
    checker = _StructureChecker()
    checker.feed(seed_graph.backward_table(format="html"))
    assert not checker.errors and not checker.stack
    assert {"table", "caption", "thead", "th", "tbody", "td"} <= set(checker.seen)


def test_unknown_format_is_named(seed_graph):
    with pytest.raises(ValueError, match="format='pdf'"):
        seed_graph.evaluation_table(format="pdf")


# ----- pictures ----------------------------------------------------------------------------------
def test_dot_marks_inputs_intermediates_and_output_differently(seed_graph):
    dot = seed_graph.to_dot()
    styles = {name: line for line in dot.splitlines()
              for name in re.findall(r"^\s+(v\d)\s\[", line)}
    assert "ellipse" in styles["v1"] and "#dbeafe" in styles["v1"]
    assert "#f3f4f6" in styles["v3"] and "#fef3c7" in styles["v5"]
    assert "v̄1 = 6" in styles["v1"] and "v̄5 = 1 (seed)" in styles["v5"]
    assert "v1 -> v4" in dot and "v3 -> v5 [label=<v̄5 · v4 = 1>]" in dot
    assert "v̄" not in seed_graph.to_dot(adjoints=False)


def test_svg_is_well_formed_and_shows_operations_values_and_adjoints(seed_graph, tmp_path):
    path = seed_graph.render(tmp_path / "seed.svg")
    text = svg_text(open(path, encoding="utf-8").read())
    for expected in ["add", "subtract", "multiply", "v3 = v1 + v2", "= 5", "v4 = v1 - v2",
                     "f = v5 = v3 · v4", "v̄1 = 6", "v̄2 = -4", "v̄5 · v4 = 1"]:
        assert expected in text


def test_png_render(seed_graph, tmp_path):
    path = seed_graph.render(tmp_path / "seed.png")
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_render_needs_a_known_suffix(seed_graph, tmp_path):
    with pytest.raises(ValueError, match=".svg, .png"):
        seed_graph.render(tmp_path / "seed.picture")


def test_jupyter_display(seed_graph):
    svg = seed_graph._repr_svg_()
    assert "multiply" in svg_text(svg)
    fragment = seed_graph._repr_html_()
    assert fragment.count("<table") == 3 and "<svg" in fragment


def test_missing_graphviz_package_says_how_to_install(seed_graph, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # import graphviz now fails
    with pytest.raises(MissingExtraError, match=r"pip install 'chainrule\[viz\]'"):
        seed_graph.render(tmp_path / "seed.svg")
    assert seed_graph._repr_svg_() is None
    assert "digraph" in seed_graph.to_dot()  # DOT and tables need nothing installed
    assert "v̄1" in seed_graph.backward_table()


def test_missing_dot_program_says_how_to_install(seed_graph, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on PATH
    with pytest.raises(MissingExtraError, match="apt-get install graphviz"):
        seed_graph.render(tmp_path / "seed.svg")
    assert not (tmp_path / "seed.svg").exists()
    assert seed_graph.render(tmp_path / "seed.dot") == str(tmp_path / "seed.dot")


# ----- complex numbers ---------------------------------------------------------------------------
# f(z) = z · conj(z) = |z|^2 at z = 1+2j, by hand:
#   v1 = 1+2j, v2 = conj(v1) = 1-2j, v3 = v1 · v2 = 5 (complex, imaginary part 0).
#   Forward along Re z (ż = 1):  v̇2 = conj(v̇1) = 1,   v̇3 = 1 · (1-2j) + 1 · (1+2j) = 2.
#   Forward along Im z (ż = 1j): v̇2 = -1j, v̇3 = 1j · (1-2j) + (-1j) · (1+2j) = 4.
#   Reverse: v̄3 = 1, v̄2 = v̄3 · v1 = 1+2j, v̄1 = conj(v̄2) + v̄3 · v2 = 2-4j
#   = ∂f/∂(Re z) - i ∂f/∂(Im z), cr.grad's gradient; PyTorch's z.grad is 2+4j.
@pytest.fixture
def modulus_graph():
    return cr.trace(lambda z: z * cnp.conj(z), 1 + 2j)


@pytest.mark.parametrize("number, text", [
    (1 + 2j, "1+2j"), (1 - 2j, "1-2j"), (2j, "2j"), (-1j, "-1j"), (5 + 0j, "5"), (0j, "0"),
    (-0.5 - 0.25j, "-0.5-0.25j"), (1e-5 + 2j, "1e-05+2j"), (0.1 + 1e-7j, "0.1+1e-07j"),
    (complex(np.nan, 1), "nan+1j"), (complex(1, np.inf), "1+infj"),
    (np.complex64(1 / 3 + 2j), "0.333333+2j"), (np.array(3 - 4j), "3-4j"),
])
def test_complex_numbers_are_written_as_python_writes_them_without_parentheses(number, text):
    assert format_number(number) == text and format_value(number) == text


def test_a_complex_number_takes_parentheses_only_inside_a_product():
    assert [parenthesized(t) for t in ["1+2j", "1-2j", "-2j", "2j", "1e-05", "-3", "[1+2j, 3]",
                                       "1e-05-2j", "nan+1j"]] == [
        "(1+2j)", "(1-2j)", "(-2j)", "2j", "1e-05", "(-3)", "[1+2j, 3]", "(1e-05-2j)", "(nan+1j)"]
    assert format_value(np.array([1 + 2j, 3, -1j])) == "[1+2j, 3, -1j]"
    assert format_value(np.zeros((3, 3), complex)) == "complex128[3, 3]"


def test_complex_trace_tables_match_the_hand_computation(modulus_graph):
    lines = [" ".join(line.split()) for line in modulus_graph.explain().splitlines()]
    for expected in [
        "f(z) at z = 1+2j",
        "v1 = z = 1+2j", "v2 = conj(v1) = 1-2j", "v3 = v1 · v2 = 5",
        "Forward mode, seed ż = 1: tangents v̇ = ∂v/∂(Re z)",
        "v̇3 = v̇1 · v2 + v̇2 · v1 = 1 · (1-2j) + 1 · (1+2j) = 2", "∂f/∂(Re z) = v̇3 = 2",
        "Forward mode, seed ż = 1j: tangents v̇ = ∂v/∂(Im z)",
        "v̇2 = conj(v̇1) = -1j",
        "v̇3 = v̇1 · v2 + v̇2 · v1 = 1j · (1-2j) + (-1j) · (1+2j) = 4", "∂f/∂(Im z) = v̇3 = 4",
        "v̄2 = v̄3 · v1 = 1 · (1+2j) = 1+2j", "v̄1 = conj(v̄2) + v̄3 · v2 = 2-4j",
        "∂f/∂z = v̄1 = 2-4j",
    ]:
        assert expected in lines, expected
    assert "PyTorch's z.grad is its conjugate (2+4j)." in " ".join(lines)
    assert "(1+2j)" not in lines[0] and "1.000000" not in "".join(lines)


def test_complex_gradients_in_the_tables_are_cr_grads():
    def f(z, w):
        return cnp.sum(cnp.abs(cnp.exp(z) * w - 1j) ** 2)

    w = np.array([1 + 1j, 2.0])
    graph = cr.trace(f, 0.3 - 0.5j, w)
    gradient = cr.grad(f, argnums=(0, 1))(0.3 - 0.5j, w)
    np.testing.assert_allclose(graph.gradient()["z"], gradient[0], rtol=1e-12)
    np.testing.assert_allclose(graph.gradient()["w"], gradient[1], rtol=1e-12)
    # forward mode along Re z and Im z gives the same gradient: ∂f/∂(Re z) - i ∂f/∂(Im z)
    forward = json.loads(graph.explain(mode="forward", format="json"))["gradient"]
    assert complex(forward["z"]) == pytest.approx(complex(gradient[0]), rel=1e-12)
    assert set(forward) == {"Re z", "Im z", "z"}


def test_abs_of_a_complex_operand_shows_its_linear_map_not_sign():
    graph = cr.trace(lambda z: cnp.abs(z) ** 2, 1 + 2j)
    lines = [" ".join(line.split()) for line in graph.explain().splitlines()]
    assert "v̄1 = v̄2 · conj(v1)/v2 = 2-4j" in lines
    assert "v̇2 = real(conj(v1) · v̇1)/v2 = 0.894427" in lines  # along Im z: 2 / sqrt(5)
    assert "v̄1 = v̄2 · sign(v1) = 6 · sign((-3)) = -6" in " ".join(
        cr.trace(lambda x: cnp.abs(x) ** 2, -3.0).backward_table().split())  # real: as before


def test_a_complex_output_is_differentiated_through_its_real_part():
    # f(x) = x^(2j) = exp(2j log x) at x = 2: f'(x) = 2j x^(2j-1); a real x's adjoint keeps its
    # real part, Re f'(2) = -sin(2 log 2).
    graph = cr.trace(lambda x: x ** 2j, 2.0)
    text = " ".join(graph.explain().split())
    assert f"∂f/∂x = v̇2 = {format_number(2j * 2.0 ** (2j - 1))}" in text
    assert f"∂f/∂x = v̄1 = {format_number(-np.sin(2 * np.log(2)))}" in text
    assert "f is complex: the seed 1 differentiates Re f" in text
    assert "v1 real: each adjoint is the real part of its chain-rule sum" in text


def test_a_complex_direction_of_a_real_input_is_kept_complex():
    graph = cr.trace(lambda x: x * x, 3.0)
    table = graph.forward_table(direction={"x": 1j})
    assert "ẋ = 1j" in table and "= 6j" in table


def test_a_complex_array_input_is_pushed_along_ones_and_along_1j():
    graph = cr.trace(lambda z: cnp.sum(cnp.real(z) * cnp.imag(z)), np.array([1 + 2j, 3 - 1j]))
    directions = graph.directions()
    assert len(directions) == 2 and directions[1]["z"].tolist() == [1j, 1j]
    text = " ".join(graph.explain().split())
    assert "v1 = z = [1+2j, 3-1j] complex128[2]" in text
    assert "∂f/∂z = v̄1 = [2-1j, -1-3j]" in text  # Im z - i Re z


def test_complex_values_in_json_are_text_complex_reads_back_at_full_precision(modulus_graph):
    data = json.loads(modulus_graph.explain(format="json"))
    assert data["at"] == {"z": "1+2j"}
    assert [s["value"] for s in data["evaluation"]["steps"]] == ["1+2j", "1-2j", "5+0j"]
    assert data["gradient"] == {"z": "2-4j"}
    third = cr.trace(lambda z: z / 3, 1 + 1j)
    value = json.loads(third.evaluation_table(format="json"))["evaluation"]["value"]
    assert complex(value) == (1 + 1j) / 3


def test_complex_values_in_markdown_html_and_pictures(modulus_graph):
    markdown = modulus_graph.explain(format="markdown")
    assert "| ∂f/∂z | v̄1 | 2-4j |" in markdown and "abs(f) \\*\\* 2" in markdown
    checker = check_html_document(modulus_graph.explain(format="html"))
    assert "p" in checker.seen  # the notes on the convention
    dot = modulus_graph.to_dot()
    assert "v1 = 1+2j" in dot and "v̄1 = 2-4j" in dot and "conj(v̄2) = 1-2j" in dot


# ----- large graphs ------------------------------------------------------------------------------
def small_mlp(x, w1, b1, w2, b2, w3, b3):
    hidden = cnp.tanh(x @ w1 + b1)
    hidden = cnp.tanh(hidden @ w2 + b2)
    return cnp.mean((hidden @ w3 + b3) ** 2)


@pytest.fixture
def mlp_graph():
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3, 8), (8,), (8, 8), (8,), (8, 1), (1,)]
    return cr.trace(small_mlp, *(rng.normal(size=shape) for shape in shapes))


def drawn_nodes(dot):
    return re.findall(r"^\s+(v\d+|group\d+) \[", dot, flags=re.M)


def test_a_small_mlp_is_drawn_one_box_per_layer(mlp_graph):
    collapsed = drawn_nodes(mlp_graph.to_dot())
    expanded = drawn_nodes(mlp_graph.to_dot(expand=True))
    assert len(mlp_graph.operations) == 11  # 3 × (matmul, add) + 2 tanh + power, sum, divide
    assert sorted(n for n in collapsed if n.startswith("group")) == ["group1", "group2", "group3"]
    assert len(collapsed) == 7 + 3 + 1  # inputs, layers, the output
    assert len(expanded) == 7 + 11 and "subgraph cluster_0" in mlp_graph.to_dot(expand=True)
    dot = mlp_graph.to_dot()
    assert "layer 1" in dot and "3 operations: matmul, add, tanh" in dot


def test_a_collapsed_graph_renders(mlp_graph, tmp_path):
    text = svg_text(open(mlp_graph.render(tmp_path / "mlp.svg"), encoding="utf-8").read())
    assert "layer 2" in text and "‖v̄2‖" in text


def test_scopes_group_steps_in_tables_and_pictures():
    def f(x):
        with scope("block"):
            x = cnp.sin(x) * 2.0
        return x + 1.0

    graph = cr.trace(f, 0.5)
    assert [v.group for v in graph.operations] == [("block",), ("block",), ()]
    assert "block" in graph.evaluation_table()
    assert 'label=<<b>block</b>>' in graph.to_dot()
    assert "group1" in graph.to_dot(expand=False)


# ----- cr.draw -----------------------------------------------------------------------------------
def test_draw_a_tensor_after_backward():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(2.0, requires_grad=True)
    f = (x + y) * (x - y)
    f.backward()
    graph = cr.draw(f, params={"x": x, "y": y})
    assert [v.label for v in graph.inputs] == ["x", "y"]
    assert sorted(v.label for v in graph.operations) == ["add", "multiply", "subtract"]
    dot = graph.to_dot()
    assert "grad = 6" in dot and "grad = -4" in dot and "output" in dot
    assert "multiply" in svg_text(graph.svg())
    with pytest.raises(ChainruleError, match="cr.trace"):
        graph.forward_table()


def test_draw_groups_an_mlp_built_with_tensors():
    rng = np.random.default_rng(2)
    x = cr.tensor(rng.normal(size=(5, 3)))
    layers = [(cr.tensor(rng.normal(size=(3, 6)), requires_grad=True),
               cr.tensor(np.zeros(6), requires_grad=True)),
              (cr.tensor(rng.normal(size=(6, 6)), requires_grad=True),
               cr.tensor(np.zeros(6), requires_grad=True)),
              (cr.tensor(rng.normal(size=(6, 1)), requires_grad=True),
               cr.tensor(np.zeros(1), requires_grad=True))]
    hidden = x
    for weight, bias in layers:
        hidden = np.tanh(hidden @ weight + bias)
    loss = (hidden ** 2).mean()
    graph = cr.draw(loss)
    assert len(graph.inputs) == 6  # the parameters; x needs no grad, so it is a constant
    shapes = {v.label: v.shape for v in graph.operations}
    assert shapes["matmul"] in {(5, 6), (5, 1)}
    assert sum(n.startswith("group") for n in drawn_nodes(graph.to_dot())) == 3


def test_draw_refuses_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="cr.trace"):
        cr.draw(3.0)
