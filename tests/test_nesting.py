"""Transforms nested to any order, in any combination, with no perturbation confusion.

Expected values are closed forms derived by hand (in the comments) or finite differences."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp


def nth_grad(function, order):
    for _ in range(order):
        function = cr.grad(function)
    return function


# ----- grad of grad, to 4th order -----------------------------------------------------------------
@pytest.mark.parametrize("x", [-1.3, 0.2, 0.9])
def test_fourth_derivative_of_sin_is_sin(x):
    assert nth_grad(cnp.sin, 4)(x) == pytest.approx(np.sin(x), rel=1e-12)


@pytest.mark.parametrize("x", [-1.5, 0.5, 2.0])
def test_derivatives_of_x_to_the_fifth(x):
    # d/dx x^5 = 5x^4, then 20x^3, 60x^2, 120x
    expected = [5 * x**4, 20 * x**3, 60 * x**2, 120 * x]
    for order, value in enumerate(expected, start=1):
        assert nth_grad(lambda x: x**5, order)(x) == pytest.approx(value, rel=1e-12)


def test_fourth_derivative_of_exp_2x():
    # each derivative multiplies by 2
    assert nth_grad(lambda x: cnp.exp(2.0 * x), 4)(0.3) == pytest.approx(16 * np.exp(0.6))


@pytest.mark.parametrize("x", [-2.0, -0.4, 0.0, 0.5, 1.7])
def test_third_and_fourth_derivatives_of_tanh(x):
    # With t = tanh x and s = sech^2 x = 1 - t^2: t' = s, s' = -2ts, so
    # t'' = -2ts, t''' = -2(s*s + t*(-2ts)) = -2s(1 - 3t^2),
    # t'''' = 4ts + 12ts^2 - 12t^3 s = 8ts(2 - 3t^2).
    t = np.tanh(x)
    s = 1 - t**2
    assert nth_grad(cnp.tanh, 3)(x) == pytest.approx(-2 * s * (1 - 3 * t**2), rel=1e-12, abs=1e-14)
    assert nth_grad(cnp.tanh, 4)(x) == pytest.approx(8 * t * s * (2 - 3 * t**2), rel=1e-12,
                                                     abs=1e-14)


def test_third_derivative_of_tanh_in_forward_mode_and_mixed():
    x, t = 0.5, np.tanh(0.5)
    expected = -2 * (1 - t**2) * (1 - 3 * t**2)

    def forward_derivative(function):
        return lambda x: cr.jvp(function, (x,), (1.0,))[1]

    third_forward = forward_derivative(forward_derivative(forward_derivative(cnp.tanh)))
    assert third_forward(x) == pytest.approx(expected, rel=1e-12)
    mixed = cr.grad(forward_derivative(cr.grad(cnp.tanh)))
    assert mixed(x) == pytest.approx(expected, rel=1e-12)


# ----- perturbation confusion ---------------------------------------------------------------------
@pytest.mark.parametrize("x, y", [(3.0, 2.0), (-1.0, 0.5), (0.0, 7.0), (10.0, -3.0)])
def test_grad_of_grad_has_no_perturbation_confusion(x, y):
    # d/dx [x * d/dy (x + y)] = d/dx [x * 1] = 1; confusing the two perturbations gives 2.
    def inner(x):
        return x * cr.grad(lambda y: x + y)(y)

    assert cr.grad(inner)(x) == 1.0


@pytest.mark.parametrize("x, y", [(3.0, 2.0), (-1.0, 0.5)])
def test_forward_over_forward_and_mixed_have_no_perturbation_confusion(x, y):
    def d_dy_forward(x):
        return cr.jvp(lambda y: x + y, (y,), (1.0,))[1]

    assert cr.jvp(lambda x: x * d_dy_forward(x), (x,), (1.0,))[1] == 1.0
    assert cr.grad(lambda x: x * d_dy_forward(x))(x) == 1.0
    assert cr.jvp(lambda x: x * cr.grad(lambda y: x + y)(y), (x,), (1.0,))[1] == 1.0


def test_closure_over_outer_variable_is_differentiated_by_the_outer_transform_only():
    # f(x) = d/dy [x^2 y^2] at y = 1 = 2 x^2, so f'(x) = 4x
    assert cr.grad(lambda x: cr.grad(lambda y: x**2 * y**2)(1.0))(3.0) == 12.0


# ----- Hessians four ways -------------------------------------------------------------------------
def coupled(x):
    return x[0] * x[1] ** 2 + cnp.exp(x[0] * x[2]) + cnp.sum(cnp.sin(x) ** 2)


def coupled_hessian(x):
    a, b, c = x
    e = np.exp(a * c)
    # second derivatives of x0 x1^2 + exp(x0 x2), plus diag(2 cos 2x) from sum sin^2
    hessian = np.array([
        [c * c * e, 2 * b, e + a * c * e],
        [2 * b, 2 * a, 0.0],
        [e + a * c * e, 0.0, a * a * e],
    ])
    return hessian + np.diag(2 * np.cos(2 * x))


@pytest.mark.parametrize("compose", [
    lambda f: cr.hessian(f),
    lambda f: cr.jacfwd(cr.jacrev(f)),
    lambda f: cr.jacrev(cr.jacrev(f)),
    lambda f: cr.jacfwd(cr.jacfwd(f)),
    lambda f: cr.jacrev(cr.jacfwd(f)),
    lambda f: cr.jacfwd(cr.grad(f)),
    lambda f: cr.jacfwd(cr.jacrev(f), chunk_size=2),
], ids=["hessian", "jacfwd-jacrev", "jacrev-jacrev", "jacfwd-jacfwd", "jacrev-jacfwd",
        "jacfwd-grad", "chunked"])
def test_every_hessian_composition_matches_the_closed_form(compose):
    x = np.array([0.3, -0.8, 0.5])
    np.testing.assert_allclose(compose(coupled)(x), coupled_hessian(x), rtol=1e-12, atol=1e-12)


def test_jvp_of_grad_is_the_hessian_vector_product():
    x, v = np.array([0.3, -0.8, 0.5]), np.array([1.0, -2.0, 0.25])
    _, tangent = cr.jvp(cr.grad(coupled), (x,), (v,))
    np.testing.assert_allclose(tangent, coupled_hessian(x) @ v, rtol=1e-12)


def test_vjp_of_jvp():
    # g(x) = J(x) v for f = x sin x elementwise: g = (sin x + x cos x) v,
    # so u^T dg/dx = u v (2 cos x - x sin x).
    v, u = np.array([1.0, 2.0]), np.array([0.5, -1.0])

    def directional(x):
        return cr.jvp(lambda x: x * cnp.sin(x), (x,), (v,))[1]

    x = np.array([0.4, 1.3])
    out, vjp_fn = cr.vjp(directional, x)
    np.testing.assert_allclose(out, (np.sin(x) + x * np.cos(x)) * v)
    np.testing.assert_allclose(vjp_fn(u)[0], u * v * (2 * np.cos(x) - x * np.sin(x)))


def test_third_order_tensor_by_nested_jacobians():
    # f = sum x^4 / 12: the third derivative tensor is diagonal with entries 2 x_i
    x = np.array([0.5, -1.0])
    third = cr.jacfwd(cr.jacfwd(cr.grad(lambda x: cnp.sum(x**4) / 12.0)))(x)
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0], expected[1, 1, 1] = 2 * x[0], 2 * x[1]
    np.testing.assert_allclose(third, expected, atol=1e-14)


def test_grad_through_a_jacobian():
    # sum of J for f = sin(x) * a is sum(cos(x) * a); its gradient is -sin(x) * a
    a = np.array([1.0, 2.0, 3.0])

    def total(x):
        return cnp.sum(cr.jacfwd(lambda x: cnp.sin(x) * a)(x))

    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(cr.grad(total)(x), -np.sin(x) * a, rtol=1e-12)
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(cr.jacrev(
        lambda x: cnp.sin(x) * a)(x)))(x), -np.sin(x) * a, rtol=1e-12)


# ----- transforms inside the Tensor API -----------------------------------------------------------
def test_tensor_backward_through_a_transform():
    x = cr.tensor(0.7, requires_grad=True)
    derivative = cr.grad(cnp.sin)(x)  # cos x, still connected to x on the tape
    assert isinstance(derivative, cr.Tensor)
    derivative.backward()
    assert float(x.grad) == pytest.approx(-np.sin(0.7), rel=1e-12)


def test_tensor_backward_through_a_jacobian_and_a_jvp():
    x = cr.tensor(np.array([0.2, 0.5]), requires_grad=True)
    jacobian = cr.jacfwd(lambda z: z**3)(x)  # diag(3 z^2)
    _, tangent = cr.jvp(lambda z: cnp.exp(z), (x,), (np.ones(2),))  # exp(z)
    loss = jacobian.sum() + tangent.sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.array([0.2, 0.5]) + np.exp([0.2, 0.5]))


def test_tensor_create_graph_over_functional_grad():
    x = cr.tensor(1.5, requires_grad=True)
    first = cr.grad(lambda z: z**4)(x)  # 4 x^3
    first.backward(create_graph=True)  # x.grad = 12 x^2
    second = x.grad
    x.grad = None
    second.backward()  # 24 x
    assert float(x.grad) == pytest.approx(36.0)
