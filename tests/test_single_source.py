"""A primitive's row is the single source: chainrule.numpy, NumPy dispatch, the `chainrule
explain` whitelist, the trace tables and batching all read it, and nothing else lists it.

The first tests check every row of the registry; the last adds the README's example row in a
fresh interpreter (so the registry of this one is untouched) and checks that the row alone is
enough for all of them."""

import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import chainrule.numpy as cnp
from chainrule.cli.expression import FUNCTIONS
from chainrule.core.primitive import REGISTRY, ZERO, PerInput
from chainrule.core.tensor import HANDLED_UFUNCS
from chainrule.viz.notation import LinearMap, Scale, term_templates

ROWS = sorted(REGISTRY)
README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", [n for n in ROWS if REGISTRY[n].names])
def test_chainrule_numpy_publishes_each_row_under_its_names(name):
    primitive = REGISTRY[name]
    for public_name in primitive.names:
        assert getattr(cnp, public_name) is primitive, public_name
        assert public_name in cnp.__all__, public_name


def test_a_row_answers_to_numpys_ufunc_of_its_name_by_default():
    assert REGISTRY["sin"].ufunc is np.sin and REGISTRY["matmul"].ufunc is np.matmul
    assert REGISTRY["sigmoid"].ufunc is None and REGISTRY["sum"].ufunc is None


@pytest.mark.parametrize("name", [n for n in ROWS if REGISTRY[n].ufunc is not None])
def test_numpy_dispatch_reads_each_rows_ufunc_and_aliases(name):
    primitive = REGISTRY[name]
    assert HANDLED_UFUNCS[primitive.ufunc] is primitive
    for alias in primitive.names[1:]:
        ufunc = getattr(np, alias, None)
        if isinstance(ufunc, np.ufunc):
            assert HANDLED_UFUNCS[ufunc] is primitive, alias


def test_the_expression_whitelist_is_the_rows_that_say_so_plus_math_names_and_composites():
    rows = {n for n in ROWS if REGISTRY[n].expression}
    assert {"sin", "arccosh", "sigmoid", "hypot", "maximum"} <= rows
    assert not {"add", "power", "floor", "equal", "sum"} & rows  # operators, kinks, not elementwise
    for name in rows:
        assert FUNCTIONS[name].implementation is REGISTRY[name], name
        assert FUNCTIONS[name].arity == len(REGISTRY[name].vjps), name
    others = set(FUNCTIONS) - rows
    assert others == {"asin", "acos", "atan", "atan2", "pow", "max", "min", "relu", "softplus"}


@pytest.mark.parametrize("name", [n for n in ROWS if REGISTRY[n].formula is not None])
def test_the_trace_tables_read_each_rows_formula(name):
    formula = REGISTRY[name].formula
    variadic = isinstance(REGISTRY[name].vjps, PerInput)
    arity = 3 if variadic else len(formula)
    for entry, template in zip(formula * arity, term_templates(name, arity)):
        if isinstance(entry, str):
            assert isinstance(template, Scale) and template.partial == entry
        else:
            assert isinstance(template, LinearMap)
            assert (template.reverse, template.forward) == tuple(entry)


def test_every_unary_elementwise_row_has_a_formula_and_is_callable_in_expressions():
    unary = [  # what `unary` builds: one input, a derivative neither zero nor the map itself
        name for name in ROWS
        if REGISTRY[name].family == "elementwise" and len(REGISTRY[name].vjps) == 1
        and not REGISTRY[name].linear and REGISTRY[name].vjps[0] is not ZERO
        and isinstance(REGISTRY[name].formula[0], str)  # a factor, not a linear map's pair
    ]
    assert len(unary) >= 27
    for name in unary:
        assert REGISTRY[name].expression and len(REGISTRY[name].formula) == 1, name


def test_batching_reads_pointwise_from_the_row():
    assert REGISTRY["sin"].pointwise and REGISTRY["where"].pointwise
    assert not REGISTRY["sum"].pointwise and not REGISTRY["matmul"].pointwise


# ----- one row is enough -------------------------------------------------------------------------
_CHECKS = """
import importlib
import sys

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.ops.elementwise as table

exec(sys.argv[1], vars(table))  # the README's row, as if written in ops/elementwise.py
importlib.reload(cnp)  # chainrule.numpy reads the registry when it is first imported
from chainrule.cli.expression import parse_expression  # noqa: E402

row = table.log_sigmoid
x = np.array([-1.5, 0.3, 2.0])
expected = -np.logaddexp(0.0, -x)
derivative = 1.0 / (1.0 + np.exp(x))
assert cnp.log_sigmoid is row and "log_sigmoid" in cnp.__all__
np.testing.assert_allclose(cnp.log_sigmoid(x), expected)
np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(cnp.log_sigmoid(x)))(x), derivative)
assert cr.gradcheck(row, x) and cr.gradgradcheck(row, x)
for jacobian in (cr.jacfwd, cr.jacrev):  # batched as a pointwise row
    np.testing.assert_allclose(jacobian(row)(x), np.diag(derivative))
expression = parse_expression("log_sigmoid(x) * 2")
np.testing.assert_allclose(cr.grad(expression.function)(0.5), 2.0 / (1.0 + np.exp(0.5)))
table_text = cr.trace(row, 0.5).backward_table()
assert "v̄2 · sigmoid(-v1)" in table_text, table_text
print("one row is enough")
"""


def _readme_row():
    match = re.search(r"^log_sigmoid = unary\(.*\)$", README.read_text(), re.M)
    assert match, "README's 'How it works' shows the log_sigmoid row"
    return match.group(0)


def test_the_readme_row_alone_reaches_numpy_dispatch_cli_trace_tables_and_batching():
    result = subprocess.run(
        [sys.executable, "-c", _CHECKS, _readme_row()], capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "one row is enough" in result.stdout
