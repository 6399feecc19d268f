"""The whitelisted expression parser of `chainrule explain`: what it accepts, what it refuses
(naming the token and its column), and fuzzing: only ExpressionError ever comes out."""

import ast
import copy
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.cli.expression import (
    FUNCTIONS,
    MAX_EXPONENT,
    MAX_LENGTH,
    ExpressionError,
    parse_expression,
)
from chainrule.errors import DTypeError


def value_of(source, **values):
    return float(parse_expression(source)(**values))


# ----- accepted ----------------------------------------------------------------------------------
@pytest.mark.parametrize("source, values, expected", [
    ("(x + y) * (x - y)", {"x": 3.0, "y": 2.0}, 5.0),
    ("-x ** 2", {"x": 3.0}, -9.0),  # Python's precedence: -(x²)
    ("x / y - 1", {"x": 1.0, "y": 4.0}, -0.75),
    ("+x * 2 ** -1", {"x": 3.0}, 1.5),
    ("sin(x) ** 2 + cos(x) ** 2", {"x": 0.7}, 1.0),
    ("exp(log(x))", {"x": 2.5}, 2.5),
    ("sqrt(x) * tanh(0) + abs(-x)", {"x": 4.0}, 4.0),
    ("sigmoid(x)", {"x": 0.0}, 0.5),
    ("max(x, y) - min(x, y)", {"x": 1.0, "y": 3.0}, 2.0),
    ("pow(x, 3) + hypot(3, 4)", {"x": 2.0}, 13.0),
    ("pi * r ** 2", {"r": 2.0}, 4 * math.pi),
    ("relu(x) + relu(-x)", {"x": -2.5}, 2.5),
    ("atan2(y, x)", {"x": 1.0, "y": 1.0}, math.pi / 4),
    ("1_000 * x", {"x": 0.001}, 1.0),
])
def test_accepted_expressions_compute_the_right_value(source, values, expected):
    assert math.isclose(value_of(source, **values), expected, rel_tol=1e-12, abs_tol=1e-15)


@pytest.mark.parametrize("source, values, expected", [
    ("x * (1+2j)", {"x": 2.0}, 2 + 4j),
    ("2j * x", {"x": 1.5}, 3j),
    ("1 - 2J + x", {"x": 0.5}, 1.5 - 2j),  # Python's literals: 1 - 2J is 1 minus the literal 2J
    ("abs(z) ** 2", {"z": 3 - 4j}, 25.0),
    ("exp(1j * pi) + x", {"x": 1.0}, 0.0),
    ("z ** 2", {"z": 1 + 2j}, -3 + 4j),
])
def test_complex_literals_and_values(source, values, expected):
    result = complex(parse_expression(source)(**values))
    assert abs(result - expected) < 1e-12


def test_an_imaginary_literal_is_a_complex128_constant_and_no_variable():
    expression = parse_expression("3j + z")
    assert expression.variables == ["z"]
    assert np.asarray(expression(z=1.0)).dtype == np.complex128


def test_complex_expressions_differentiate_in_both_conventions():
    # |z|^2 at 1+2j: cr.grad gives 2-4j (JAX's); z^3 with holomorphic=True gives 3 z^2 = -9+12j
    assert complex(cr.grad(parse_expression("abs(z) ** 2").function)(1 + 2j)) == pytest.approx(
        2 - 4j)
    cube = parse_expression("z ** 3").function
    assert complex(cr.grad(cube, holomorphic=True)(1 + 2j)) == pytest.approx(-9 + 12j)


def test_variables_are_listed_in_order_of_appearance():
    assert parse_expression("b * a + sin(b) + c").variables == ["b", "a", "c"]
    assert parse_expression("2 * pi").variables == []


def test_the_function_records_on_chainrule_traces():
    expression = parse_expression("x * sin(y)")
    assert [str(p) for p in __import__("inspect").signature(expression.function).parameters] == [
        "x", "y"]
    gradient = cr.grad(expression.function, argnums=(0, 1))(2.0, 0.5)
    assert np.allclose(gradient, [np.sin(0.5), 2 * np.cos(0.5)])  # (sin y, x cos y)


def test_composite_functions_are_grouped_in_the_graph():
    graph = cr.trace(parse_expression("softplus(x) * 2").function, x=0.0)
    groups = [v.group for v in graph.operations]
    assert groups[:-1] == [("softplus",)] * (len(groups) - 1) and groups[-1] == ()


NUMPY_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
               "pow": "power", "max": "maximum", "min": "minimum", "abs": "absolute"}
CLOSED_FORMS = {"sigmoid": lambda v: 1 / (1 + math.exp(-v)), "relu": lambda v: max(v, 0.0),
                "softplus": lambda v: math.log1p(math.exp(v))}


def test_every_documented_function_matches_numpy():
    for name, function in FUNCTIONS.items():
        first = 1.5 if name == "arccosh" else 0.5  # inside each function's domain
        arguments = [first, 0.25][: function.arity]
        text = ", ".join(str(a) for a in arguments)
        reference = CLOSED_FORMS.get(name) or getattr(np, NUMPY_NAMES.get(name, name))
        expected = float(reference(*arguments))
        assert math.isclose(value_of(f"{name}({text}) + 0 * x", x=1.0), expected,
                            rel_tol=1e-12), name


# ----- refused -----------------------------------------------------------------------------------
@pytest.mark.parametrize("source, fragment, column", [
    ("(x + y", "syntax error at column 1 near '('", 1),
    ("x + * y", "syntax error at column 5 near '*'", 5),
    ("foo(x)", "unknown function 'foo' at column 1", 1),
    ("x + foo(x)", "unknown function 'foo' at column 5", 5),
    ("__import__('os')", "name '__import__' is not allowed at column 1", 1),
    ("x + __builtins__", "name '__builtins__' is not allowed at column 5", 5),
    ("x.real", "attribute access '.real' is not allowed at column 2", 2),
    ("sin(x).__class__", "attribute access '.__class__' is not allowed at column 7", 7),
    ("x ** 1000", "exponent 1000 is too large at column 6", 6),
    ("x ** -101", "exponent -101 is too large at column 6", 6),
    ("pow(x, 1000)", "exponent 1000 is too large at column 8", 8),
    ("9 ** 99999", "exponent 99999 is too large at column 6", 6),
    ("x[0]", "subscript 'x[0]' is not allowed at column 1", 1),
    ("lambda: x", "lambda 'lambda: x' is not allowed at column 1", 1),
    ("[x for x in y]", "comprehension '[x for x in y]' is not allowed at column 1", 1),
    ("x < y", "comparison 'x < y' is not allowed at column 1", 1),
    ("x // 2", "operator '//' is not allowed at column 3", 3),
    ("x @ y", "operator '@' is not allowed at column 3", 3),
    ("~x", "operator '~' is not allowed at column 1", 1),
    ("'text'", "constant 'text' is not allowed at column 1", 1),
    ("True * x", "constant True is not allowed at column 1", 1),
    ("x ** 200j", "exponent 200j is too large at column 6", 6),
    ("1e999j * x", "number 1e999j is too large at column 1", 1),
    ("1e999 * x", "number 1e999 is too large at column 1", 1),
    ("sin", "function 'sin' used as a value at column 1", 1),
    ("sin(x, y)", "sin() takes 1 argument, got 2 at column 1", 1),
    ("sin(x=1)", "keyword argument 'x=' is not allowed at column 5", 5),
    ("sin(*x)", "starred argument '*' is not allowed at column 5", 5),
    ("f(x)(y)", "call of 'f(x)' is not allowed at column 1", 1),
    ("(x := 2)", "assignment expression", 2),
    ("x if y else 1", "conditional expression 'x if y else 1' is not allowed at column 1", 1),
    ("é + x.y", "attribute access '.y' is not allowed at column 6", 6),  # columns count characters
    ("", "the expression is empty", None),
])
def test_refused_expressions_name_the_token_and_column(source, fragment, column):
    with pytest.raises(ExpressionError) as info:
        parse_expression(source)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message
    assert info.value.column == column


def test_length_and_nesting_limits():
    with pytest.raises(ExpressionError, match=f"the limit is {MAX_LENGTH}"):
        parse_expression("x + " * 300 + "x")
    with pytest.raises(ExpressionError, match="nests more than"):
        parse_expression("sin(" * 70 + "x" + ")" * 70)
    with pytest.raises(ExpressionError):
        parse_expression("(" * 400 + "x" + ")" * 400)
    with pytest.raises(ExpressionError, match="null"):
        parse_expression("x\x00")
    assert MAX_EXPONENT == 100
    assert value_of("x ** 100", x=1.0) == 1.0


def test_power_towers_of_small_literals_stay_floats():
    # 9 ** 9 ** 9 would take forever with Python integers; as floats it is just infinity
    with np.errstate(over="ignore"):
        assert value_of("9 ** 9 ** 9 + 0 * x", x=1.0) == math.inf


# ----- fuzzing -----------------------------------------------------------------------------------
ALPHABET = "xyz_().,+-*/%@<>=!~^&|[]{}:'\"\\ \t\n0123456789eEjsinlogpwrtabcdf#$λé"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=ALPHABET, max_size=40) | st.text(max_size=40))
def test_random_text_never_escapes_as_anything_but_expression_error(source):
    try:
        expression = parse_expression(source)
    except ExpressionError as exc:
        assert "\n" not in str(exc)
        return
    values = {name: 0.5 for name in expression.variables}
    with np.errstate(all="ignore"):
        try:
            expression(**values)  # a parsed expression evaluates without raising...
        except DTypeError as exc:  # ... unless it orders complex numbers: max(x, 2j)
            assert "complex" in str(exc) and "j" in source
            return
        if expression.variables:  # ... and explains itself: both passes, every format
            graph = cr.trace(expression.function, **values)
            for format_name in ("text", "json"):
                assert graph.explain(format=format_name)


# Random trees: a reference evaluation written here on plain floats, independent of the parser.
_SAFE_UNARY = {"sin": math.sin, "cos": math.cos, "tanh": math.tanh, "exp": lambda v: math.exp(
    max(min(v, 50.0), -50.0))}
_OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
              ast.Mult: lambda a, b: a * b}


def _leaf():
    numbers = st.floats(-3, 3, allow_nan=False).map(lambda v: ast.Constant(round(v, 3)))
    names = st.sampled_from(["x", "y"]).map(lambda n: ast.Name(n, ast.Load()))
    return numbers | names


def _grow(children):
    binary = st.builds(lambda op, a, b: ast.BinOp(a, op(), b),
                       st.sampled_from(list(_OPERATORS)), children, children)
    unary = st.builds(lambda a: ast.UnaryOp(ast.USub(), a), children)
    call = st.builds(lambda name, a: ast.Call(ast.Name(name, ast.Load()), [a], []),
                     st.sampled_from(sorted(_SAFE_UNARY)), children)
    return binary | unary | call


allowed_trees = st.recursive(_leaf(), _grow, max_leaves=12)


def reference(node, values):
    """Evaluate a generated tree directly (the exp argument is clipped, as in _SAFE_UNARY)."""
    stack, out = [(node, False)], []
    while stack:
        current, ready = stack.pop()
        children = {ast.BinOp: lambda n: [n.left, n.right], ast.UnaryOp: lambda n: [n.operand],
                    ast.Call: lambda n: n.args}.get(type(current), lambda n: [])(current)
        if not ready:
            stack.append((current, True))
            stack.extend((c, False) for c in reversed(children))
            continue
        if isinstance(current, ast.Constant):
            out.append(float(current.value))
        elif isinstance(current, ast.Name):
            out.append(values[current.id])
        elif isinstance(current, ast.UnaryOp):
            out.append(-out.pop())
        elif isinstance(current, ast.BinOp):
            right, left = out.pop(), out.pop()
            out.append(_OPERATORS[type(current.op)](left, right))
        else:
            out.append(_SAFE_UNARY[current.func.id](out.pop()))
    return out[0]


def _clip_exp_arguments(tree):
    # Keep exp's argument in [-50, 50] in the parsed text too: min(max(a, -50), 50).
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.func.id == "exp":
            bounded = ast.Call(ast.Name("max", ast.Load()), [node.args[0], ast.Constant(-50.0)],
                               [])
            node.args = [ast.Call(ast.Name("min", ast.Load()), [bounded, ast.Constant(50.0)], [])]
    return tree


@settings(max_examples=200, deadline=None)
@given(allowed_trees, st.floats(-2, 2), st.floats(-2, 2))
def test_random_allowed_trees_parse_and_match_a_reference_evaluation(tree, x, y):
    source = ast.unparse(_clip_exp_arguments(copy.deepcopy(tree)))
    expression = parse_expression(source)
    values = {"x": x, "y": y}
    result = float(expression(**{k: v for k, v in values.items() if k in expression.variables}))
    expected = reference(tree, values)
    assert math.isclose(result, expected, rel_tol=1e-9, abs_tol=1e-9)


_FORBIDDEN_NODES = st.sampled_from([
    lambda a: ast.Attribute(a, "real", ast.Load()),
    lambda a: ast.Subscript(a, ast.Constant(0), ast.Load()),
    lambda a: ast.Lambda(ast.arguments([], [], None, [], [], None, []), a),
    lambda a: ast.Call(ast.Name("__import__", ast.Load()), [a], []),
    lambda a: ast.Call(ast.Name("eval", ast.Load()), [a], []),
    lambda a: ast.Compare(a, [ast.Lt()], [ast.Constant(1)]),
    lambda a: ast.BinOp(a, ast.Pow(), ast.Constant(10 ** 6)),
    lambda a: ast.BinOp(a, ast.FloorDiv(), ast.Constant(2)),
    lambda a: ast.ListComp(a, [ast.comprehension(ast.Name("i", ast.Store()),
                                                 ast.Name("y", ast.Load()), [], 0)]),
    lambda a: ast.Name("_secret", ast.Load()),
    lambda a: ast.Constant("text"),
])


@settings(max_examples=200, deadline=None)
@given(allowed_trees, _FORBIDDEN_NODES, allowed_trees, st.booleans())
def test_random_trees_with_a_forbidden_node_are_refused(left, make_forbidden, right, on_left):
    bad = make_forbidden(left)
    tree = ast.BinOp(bad, ast.Add(), right) if on_left else ast.BinOp(right, ast.Mult(), bad)
    source = ast.unparse(ast.fix_missing_locations(tree))
    with pytest.raises(ExpressionError) as info:
        parse_expression(source)
    assert info.value.column is not None and 1 <= info.value.column <= len(source)


def _no_exp(tree):
    return not any(isinstance(n, ast.Call) and n.func.id == "exp" for n in ast.walk(tree))


@settings(max_examples=60, deadline=None)
@given(allowed_trees.filter(_no_exp), st.floats(-2, 2), st.floats(-2, 2))
def test_traced_random_expressions_have_the_finite_difference_gradient(tree, x, y):
    expression = parse_expression(ast.unparse(tree))
    values = {"x": x, "y": y}
    names = expression.variables
    if not names:
        return
    graph = cr.trace(expression.function, **{n: values[n] for n in names})
    reverse = graph.gradient()
    forward = [float(graph.tangents({n: 1.0}).output_tangent()) for n in names]
    h = 1e-6
    for name, forward_value in zip(names, forward, strict=True):
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        expected = (reference(tree, up) - reference(tree, down)) / (2 * h)
        assert math.isclose(float(reverse[name]), expected, rel_tol=1e-4, abs_tol=1e-4)
        assert math.isclose(forward_value, float(reverse[name]), rel_tol=1e-12, abs_tol=1e-12)
