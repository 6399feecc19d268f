"""The functional transforms: values against hand computation, closed forms and finite
differences; pytrees in and out; friendly inputs; errors that name the fix."""

from collections import namedtuple

import numpy as np
import pytest
import scipy.optimize

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.primitive import REGISTRY
from chainrule.errors import (
    ArgnumsError,
    DTypeError,
    InputTypeError,
    NonScalarOutputError,
    ShapeError,
    TreeStructureError,
)
from samples import all_samples

SAMPLES = all_samples()


def numeric_jacobian(function, x, eps=1e-6):
    """Central differences, shape out.shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        step = np.zeros(x.size)
        step[i] = eps
        step = step.reshape(x.shape)
        plus = np.asarray(function(x + step), dtype=np.float64)
        minus = np.asarray(function(x - step), dtype=np.float64)
        columns.append((plus - minus) / (2 * eps))
    out_shape = np.shape(columns[0])
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


# ----- the examples of the issue ------------------------------------------------------------------
def difference_of_squares(x, y):
    return (x + y) * (x - y)


def test_jvp_of_difference_of_squares():
    out, tangent = cr.jvp(difference_of_squares, (3.0, 2.0), (1.0, 0.0))
    assert out == 5.0 and tangent == 6.0  # d/dx (x^2 - y^2) = 2x


def test_grad_with_tuple_argnums():
    gx, gy = cr.grad(difference_of_squares, argnums=(0, 1))(3.0, 2.0)
    assert (gx, gy) == (6.0, -4.0)


def test_negative_argnums_counts_from_the_end():
    assert cr.grad(difference_of_squares, argnums=-1)(3.0, 2.0) == -4.0


def test_value_and_grad_returns_both():
    value, gradient = cr.value_and_grad(lambda x: cnp.sum(x**2))(np.array([1.0, 2.0]))
    assert value == 5.0
    np.testing.assert_array_equal(gradient, [2.0, 4.0])


def test_has_aux_passes_extra_output_through():
    def loss(w):
        prediction = w * 3.0
        return prediction**2, {"prediction": prediction}

    gradient, aux = cr.grad(loss, has_aux=True)(2.0)
    assert gradient == 36.0  # d/dw (3w)^2 = 18 w
    assert aux["prediction"] == 6.0 and isinstance(aux["prediction"], np.float64)
    (value, aux2), gradient2 = cr.value_and_grad(loss, has_aux=True)(2.0)
    assert value == 36.0 and aux2["prediction"] == 6.0 and gradient2 == 36.0


def test_functions_may_use_numpy_dispatch():
    gradient = cr.grad(lambda x: np.sum(np.sin(x) * np.exp(x)))(np.array([0.1, 0.7]))
    x = np.array([0.1, 0.7])
    np.testing.assert_allclose(gradient, np.exp(x) * (np.sin(x) + np.cos(x)))


def test_keyword_arguments_are_passed_and_not_differentiated():
    def scaled(x, scale=1.0):
        return scale * x**2

    assert cr.grad(scaled)(3.0, scale=2.0) == 12.0


def test_output_that_does_not_depend_on_the_input_has_zero_gradient():
    gradient = cr.grad(lambda x, y: cnp.sum(y**2), argnums=0)(np.ones(3), np.ones(2))
    np.testing.assert_array_equal(gradient, np.zeros(3))
    assert cr.grad(lambda x: 4.0)(1.0) == 0.0


# ----- pytrees ------------------------------------------------------------------------------------
Params = namedtuple("Params", ["weight", "bias"])


def test_grad_of_a_dict_of_lists_returns_the_same_structure():
    def loss(params):
        return params["a"] ** 2 + cnp.sum(params["b"][0] * 3.0) + params["b"][1] ** 3

    gradient = cr.grad(loss)({"a": 1.5, "b": [np.ones(2), 2.0]})
    assert set(gradient) == {"a", "b"} and isinstance(gradient["b"], list)
    assert gradient["a"] == 3.0
    np.testing.assert_array_equal(gradient["b"][0], [3.0, 3.0])
    assert gradient["b"][1] == 12.0


def test_grad_of_a_namedtuple_returns_a_namedtuple():
    x = np.array([1.0, -2.0])

    def loss(params):
        return cnp.sum((params.weight * x + params.bias) ** 2)

    gradient = cr.grad(loss)(Params(np.array([0.5, 0.5]), 1.0))
    assert isinstance(gradient, Params)
    residual = 0.5 * x + 1.0
    np.testing.assert_allclose(gradient.weight, 2 * residual * x)
    np.testing.assert_allclose(gradient.bias, np.sum(2 * residual))


def test_jvp_and_vjp_with_pytree_outputs():
    def f(x):
        return {"square": x**2, "pair": (cnp.sin(x), x * 3.0)}

    x = np.array([0.5, 1.0])
    out, tangent = cr.jvp(f, (x,), (np.ones(2),))
    np.testing.assert_allclose(tangent["square"], 2 * x)
    np.testing.assert_allclose(tangent["pair"][0], np.cos(x))
    out2, vjp_fn = cr.vjp(f, x)
    np.testing.assert_allclose(out2["pair"][1], 3 * x)
    (cotangent,) = vjp_fn({"square": np.ones(2), "pair": (np.ones(2), np.zeros(2))})
    np.testing.assert_allclose(cotangent, 2 * x + np.cos(x))


def test_jacobians_of_pytrees_nest_output_then_input_structure():
    def f(params):
        return {"y": params["w"] * params["b"]}

    params = {"w": np.array([1.0, 2.0]), "b": 3.0}
    for jacobian_transform in (cr.jacfwd, cr.jacrev):
        jacobian = jacobian_transform(f)(params)
        np.testing.assert_array_equal(jacobian["y"]["w"], np.diag([3.0, 3.0]))
        np.testing.assert_array_equal(jacobian["y"]["b"], [1.0, 2.0])


# ----- vjp, jvp, linearize, hvp, stop_gradient ----------------------------------------------
def test_vjp_function_can_be_called_repeatedly():
    x = np.array([1.0, 2.0, 3.0])
    out, vjp_fn = cr.vjp(lambda x: x**2, x)
    np.testing.assert_array_equal(out, x**2)
    for cotangent in (np.ones(3), np.array([1.0, 0.0, 2.0])):
        (result,) = vjp_fn(cotangent)
        np.testing.assert_array_equal(result, 2 * x * cotangent)


def test_vjp_with_several_primals_returns_one_cotangent_each():
    out, vjp_fn = cr.vjp(lambda x, y: x * y, 2.0, 5.0)
    assert out == 10.0 and vjp_fn(1.0) == (5.0, 2.0)


def test_linearize_matches_jvp():
    def f(x):
        return cnp.sin(x) * x

    x = np.array([0.3, 1.2])
    out, jvp_fn = cr.linearize(f, x)
    np.testing.assert_allclose(out, np.sin(x) * x)
    for v in (np.ones(2), np.array([2.0, -1.0])):
        np.testing.assert_allclose(jvp_fn(v), (np.cos(x) * x + np.sin(x)) * v)


def test_hvp_equals_hessian_times_vector():
    def f(x):
        return cnp.sum(x[0] * x**3) + cnp.prod(cnp.cos(x))

    x, v = np.array([0.3, -0.7, 1.1]), np.array([1.0, 2.0, -0.5])
    hessian = cr.hessian(f)(x)
    np.testing.assert_allclose(cr.hvp(f, x, v), hessian @ v, rtol=1e-12)
    numeric = numeric_jacobian(cr.grad(f), x)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-8)


def test_stop_gradient_blocks_derivatives_at_every_level():
    assert cr.grad(lambda x: x * cr.stop_gradient(x))(3.0) == 3.0
    assert cr.grad(cr.grad(lambda x: x**2 * cr.stop_gradient(x**2)))(2.0) == 8.0
    tree = cr.stop_gradient({"a": 1.0, "b": [np.ones(2)]})
    assert tree["a"] == 1.0


# ----- Jacobians ----------------------------------------------------------------------------------
W = np.random.default_rng(0).standard_normal((5, 5))


def tanh_layer(x):
    return cnp.tanh(W @ x) * x


def broadcasting_mix(x):
    matrix = cnp.reshape(x, (2, 3))
    return cnp.sum(matrix * x[:3], axis=0) + cnp.transpose(matrix)[:, 1] ** 2 + cnp.mean(x)


@pytest.mark.parametrize("function, size", [(tanh_layer, 5), (broadcasting_mix, 6)])
@pytest.mark.parametrize("transform", [cr.jacfwd, cr.jacrev])
def test_jacobian_matches_finite_differences(function, size, transform):
    x = np.random.default_rng(1).uniform(-1, 1, size)
    numeric = numeric_jacobian(function, x)
    np.testing.assert_allclose(transform(function)(x), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 100])
def test_chunk_size_does_not_change_the_jacobian(chunk_size):
    x = np.random.default_rng(2).uniform(-1, 1, 5)
    expected = numeric_jacobian(tanh_layer, x)
    np.testing.assert_allclose(cr.jacfwd(tanh_layer, chunk_size=chunk_size)(x), expected,
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cr.jacrev(tanh_layer, chunk_size=chunk_size)(x), expected,
                               rtol=1e-6, atol=1e-8)


def test_jacobian_of_matrix_valued_function_of_matrix_has_combined_shape():
    a = np.random.default_rng(3).standard_normal((2, 3))

    def f(m):
        return m @ a  # (4, 2) @ (2, 3) -> (4, 3)

    x = np.random.default_rng(4).standard_normal((4, 2))
    expected = numeric_jacobian(f, x)
    assert expected.shape == (4, 3, 4, 2)
    np.testing.assert_allclose(cr.jacfwd(f)(x), expected, atol=1e-8)
    np.testing.assert_allclose(cr.jacrev(f)(x), expected, atol=1e-8)


def test_jacobian_with_respect_to_two_arguments():
    def f(x, y):
        return x * y[0] + cnp.sin(y)

    x, y = np.array([1.0, 2.0]), np.array([0.5, -0.5])
    for transform in (cr.jacfwd, cr.jacrev):
        jx, jy = transform(f, argnums=(0, 1))(x, y)
        np.testing.assert_allclose(jx, np.diag([0.5, 0.5]))
        np.testing.assert_allclose(jy, np.array([[1.0, 0.0], [2.0, 0.0]]) + np.diag(np.cos(y)))


def test_jacfwd_keeps_float32():
    x = np.array([0.1, 0.2], dtype=np.float32)
    jacobian = cr.jacfwd(lambda x: cnp.exp(x) * 2.0)(x)
    assert jacobian.dtype == np.float32


BATCHED_CASES = [
    pytest.param(name, i, id=f"{name}[{sample.label or i}]")
    for name in sorted(REGISTRY)
    if not REGISTRY[name].nondiff
    for i, sample in enumerate(SAMPLES.get(name, []))
    if not sample.is_complex  # (the registry sweep checks those, holomorphic or not)
]


@pytest.mark.parametrize("name, index", BATCHED_CASES)
def test_batched_forward_mode_matches_column_by_column_jvp(name, index):
    """jacfwd pushes all basis tangents in one batched pass (batch rules, or the row-by-row
    fallback); the plain jvp, checked against finite differences by the registry sweep, gives
    each column on its own. They must agree for every primitive."""
    sample = SAMPLES[name][index]
    function = sample.function(REGISTRY[name])
    args = [np.asarray(a, dtype=np.float64) for a in sample.args]
    wrt = tuple(sample.wrt) if sample.wrt is not None else tuple(range(len(args)))
    jacobians = cr.jacfwd(function, argnums=wrt)(*args)
    for position, jacobian in zip(wrt, jacobians, strict=True):
        x = args[position]
        columns = []
        for column in np.eye(x.size):
            tangents = [np.zeros_like(a) for a in args]
            tangents[position] = column.reshape(x.shape)
            columns.append(np.asarray(cr.jvp(function, tuple(args), tuple(tangents))[1]))
        expected = np.stack(columns, axis=-1).reshape(np.shape(columns[0]) + x.shape)
        np.testing.assert_allclose(jacobian, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("condition", [True, False, [True, True, True], [False, False, False]])
def test_batched_where_with_a_one_sided_condition_passes_that_side_through(condition):
    # where(c, sin x, x^3) with c the same everywhere is one branch: its Jacobian is diagonal.
    x = np.array([0.3, -1.2, 2.0])
    jacobian = cr.jacfwd(lambda x: cnp.where(condition, cnp.sin(x), x**3))(x)
    expected = np.cos(x) if np.all(condition) else 3 * x**2
    np.testing.assert_allclose(jacobian, np.diag(expected))
    # a branch that does not depend on x contributes a zero tangent
    jacobian = cr.jacfwd(lambda x: cnp.where(condition, 2.0 * x, np.ones(3)))(x)
    np.testing.assert_allclose(jacobian, np.diag([2.0] * 3) if np.all(condition) else 0.0)


def test_batched_subtract_of_broadcast_operands():
    # out[i, j] = x[i] - x[j]: d out[i, j] / d x[k] = delta_ik - delta_jk.
    x = np.array([1.0, 2.0, 4.0])
    expected = np.eye(3)[:, None, :] - np.eye(3)[None, :, :]
    np.testing.assert_allclose(cr.jacfwd(lambda x: x[:, None] - x[None, :])(x), expected)
    np.testing.assert_allclose(cr.jacfwd(lambda x: 5.0 - x)(x), -np.eye(3))


def test_batched_product_rule_with_broadcasting_and_mixed_dtypes():
    # out[i, j] = x[i] x[j]: d out[i, j] / d x[k] = delta_ik x[j] + x[i] delta_jk.
    x = np.array([1.0, -2.0, 0.5])
    eye = np.eye(3)
    expected = eye[:, None, :] * x[None, :, None] + x[:, None, None] * eye[None, :, :]
    np.testing.assert_allclose(cr.jacfwd(lambda x: x[:, None] * x[None, :])(x), expected)
    # a float32 factor times a float64 one: forward mode gives the float64 output's dtype
    x32, y64 = np.array([1.5, 2.5], dtype=np.float32), np.array([3.0, -1.0])
    jx, jy = cr.jacfwd(lambda x, y: cnp.sin(x) * cnp.sin(y), argnums=(0, 1))(x32, y64)
    assert jx.dtype == jy.dtype == np.float64
    np.testing.assert_allclose(jx, np.diag(np.cos(x32) * np.sin(y64)), rtol=1e-6)
    np.testing.assert_allclose(jy, np.diag(np.sin(x32) * np.cos(y64)), rtol=1e-6)


def test_power_one_shortcut_keeps_the_exponent_derivative_of_an_outer_level():
    # jacfwd(x ** y) = diag(y x^(y-1)); its trace's derivative in y at y = 1 is
    # sum(x^0 + y x^(y-1) log x) = sum(1 + log x). The batched x ** 1 shortcut must not drop it.
    x = np.array([0.5, 2.0, 3.0])

    def trace_of_jacobian(y):
        return cnp.trace(cr.jacfwd(lambda x: x**y)(x))

    np.testing.assert_allclose(cr.grad(trace_of_jacobian)(1.0), np.sum(1 + np.log(x)))
    np.testing.assert_allclose(cr.jacfwd(lambda x: x**1.0)(x), np.eye(3))
    # the Hessian of sum(x^2) differentiates x ** 1 under forward-over-reverse
    np.testing.assert_allclose(cr.hessian(lambda x: cnp.sum(x**2))(x), 2 * np.eye(3))


# ----- friendly inputs ----------------------------------------------------------------------------
def test_integer_inputs_are_promoted_to_float64():
    gradient = cr.grad(cnp.tanh)(2)
    assert isinstance(gradient, np.float64)
    assert gradient == pytest.approx(1 - np.tanh(2.0) ** 2)
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(x * x))(np.array([1, 2])), [2.0, 4.0])


def test_float64_in_gives_float64_out_and_scalars_are_numpy_scalars():
    gradient = cr.grad(lambda x: cnp.sum(x**2))(np.array([1.0, 2.0]))
    assert gradient.dtype == np.float64
    assert isinstance(cr.grad(lambda x: x**2)(1.0), np.float64)
    float32 = cr.grad(lambda x: cnp.sum(x**2))(np.array([1.0, 2.0], dtype=np.float32))
    assert float32.dtype == np.float32


def rosenbrock(x):
    return cnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_scipy_minimize_with_grad_as_jac():
    result = scipy.optimize.minimize(rosenbrock, np.zeros(4), jac=cr.grad(rosenbrock),
                                     method="BFGS")
    np.testing.assert_allclose(result.x, np.ones(4), atol=1e-4)


def test_scipy_minimize_with_value_and_grad_and_jac_true():
    result = scipy.optimize.minimize(cr.value_and_grad(rosenbrock), np.zeros(3), jac=True,
                                     method="L-BFGS-B")
    np.testing.assert_allclose(result.x, np.ones(3), atol=1e-3)


def test_scipy_newton_with_hessian():
    result = scipy.optimize.minimize(rosenbrock, np.full(3, 0.5), jac=cr.grad(rosenbrock),
                                     hess=cr.hessian(rosenbrock), method="Newton-CG")
    np.testing.assert_allclose(result.x, np.ones(3), atol=1e-4)


# ----- errors -------------------------------------------------------------------------------------
def test_grad_of_vector_output_names_jacrev_and_the_shape():
    with pytest.raises(NonScalarOutputError, match=r"shape \(3,\).*jacrev.*vjp"):
        cr.grad(lambda x: x * 2.0)(np.ones(3))
    assert issubclass(NonScalarOutputError, TypeError)


def test_argnums_out_of_range():
    with pytest.raises(ArgnumsError, match=r"grad: argnums=2 is out of range .* 2 positional"):
        cr.grad(difference_of_squares, argnums=2)(1.0, 2.0)
    with pytest.raises(ArgnumsError, match="jacfwd"):
        cr.jacfwd(difference_of_squares, argnums=(0, 5))(1.0, 2.0)
    with pytest.raises(ArgnumsError, match="int or a tuple"):
        cr.grad(difference_of_squares, argnums="x")(1.0, 2.0)


@pytest.mark.parametrize("bad, error, words", [
    (True, DTypeError, "boolean"),
    (np.array([True, False]), DTypeError, "boolean"),
    ("3.0", InputTypeError, "str"),
    (object(), InputTypeError, "object"),
])
def test_non_float_inputs_are_rejected_with_the_argument_named(bad, error, words):
    with pytest.raises(error, match=f"grad: argument 1.*{words}"):
        cr.grad(lambda x, y: x * 2.0, argnums=(0, 1))(1.0, bad)


def test_tangent_shape_and_dtype_mismatch():
    with pytest.raises(ShapeError, match=r"jvp: the tangent of argument 0 has shape \(2,\)"):
        cr.jvp(cnp.sin, (np.ones(3),), (np.ones(2),))
    with pytest.raises(DTypeError, match="float32.*float64.*astype"):
        cr.jvp(cnp.sin, (np.ones(3),), (np.ones(3, dtype=np.float32),))
    with pytest.raises(TypeError, match=r"primals must be a tuple.*jvp\(f, \(x,\), \(v,\)\)"):
        cr.jvp(cnp.sin, np.ones(3), np.ones(3))


def test_mismatched_pytree_structures():
    with pytest.raises(TreeStructureError, match="tangent of argument 0 has structure"):
        cr.jvp(lambda p: p["a"], ({"a": 1.0},), ({"b": 1.0},))
    _, vjp_fn = cr.vjp(lambda x: (x, x), 1.0)
    with pytest.raises(TreeStructureError, match="vjp: the cotangent has structure"):
        vjp_fn([1.0, 1.0])
    with pytest.raises(ShapeError, match=r"vjp: the cotangent has shape \(2,\)"):
        cr.vjp(lambda x: x, np.ones(3))[1](np.ones(2))


def test_has_aux_needs_a_pair():
    with pytest.raises(TypeError, match="has_aux=True.*pair"):
        cr.grad(lambda x: x**2, has_aux=True)(1.0)
