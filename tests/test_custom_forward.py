"""custom_vjp and checkpoint under forward mode: the JVP is derived from bwd, so jvp/jacfwd agree
with vjp/jacrev, and a bwd that cannot be differentiated fails loudly instead of returning zero."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import CustomRuleError, GraphFreedError
from test_custom_rules import polar  # the same dict-in, dict-out rule, checked here in forward mode

RNG = np.random.default_rng(7)


def assert_jvp_is_transpose_of_vjp(f, primals, tangents, cotangent):
    """<v, J t> == <J^T v, t>, leaf by leaf over pytrees."""
    _, jt = cr.jvp(f, primals, tangents)
    _, pullback = cr.vjp(f, *primals)
    jtv = pullback(cotangent)
    left = sum(np.vdot(v, w) for v, w in zip(cr.tree.tree_flatten(cotangent)[0],
                                             cr.tree.tree_flatten(jt)[0], strict=True))
    right = sum(np.vdot(a, b) for a, b in zip(cr.tree.tree_flatten(jtv)[0],
                                              cr.tree.tree_flatten(tangents)[0], strict=True))
    assert left == pytest.approx(right, rel=1e-12, abs=1e-12)


# ----- straight-through estimators: fwd and bwd disagree on purpose --------------------------
@cr.custom_vjp
def ste_round(x):
    return cnp.round(x)


ste_round.defvjp(lambda x: (cnp.round(x), None), lambda _, g: (g,))  # pretend d round = 1


@cr.custom_vjp
def ste_sign(x):
    return cnp.sign(x)


def _ste_sign_bwd(x, g):
    # the hard-tanh estimator: pass the cotangent where |x| <= 1, block it elsewhere
    return (g * (np.abs(x) <= 1.0),)


ste_sign.defvjp(lambda x: (cnp.sign(x), x), _ste_sign_bwd)


def test_straight_through_round_has_the_same_jacobian_in_both_modes():
    x = np.array([0.2, 1.7, -2.6])
    np.testing.assert_array_equal(cr.jacfwd(ste_round)(x), np.eye(3))
    np.testing.assert_array_equal(cr.jacrev(ste_round)(x), np.eye(3))
    primal, tangent = cr.jvp(ste_round, (x,), (np.array([1.0, -2.0, 0.5]),))
    np.testing.assert_array_equal(primal, [0.0, 2.0, -3.0])  # the forward value stays rounded
    np.testing.assert_array_equal(tangent, [1.0, -2.0, 0.5])


def test_straight_through_sign_gates_the_tangent_like_the_cotangent():
    x = np.array([-1.5, -0.3, 0.0, 0.8, 2.0])
    expected = np.diag((np.abs(x) <= 1.0).astype(float))
    np.testing.assert_array_equal(cr.jacfwd(ste_sign)(x), expected)
    np.testing.assert_array_equal(cr.jacrev(ste_sign)(x), expected)
    assert_jvp_is_transpose_of_vjp(ste_sign, (x,), (RNG.normal(size=5),), RNG.normal(size=5))


def test_straight_through_second_derivatives_are_zero_in_every_order_of_modes():
    x = np.array([0.4, -0.2])
    loss = lambda x: cnp.sum(ste_round(x) * x)  # d/dx = round(x) + x (STE)
    np.testing.assert_allclose(cr.jacfwd(cr.grad(loss))(x), 2 * np.eye(2))
    np.testing.assert_allclose(cr.jacrev(cr.grad(loss))(x), 2 * np.eye(2))
    np.testing.assert_allclose(cr.hessian(loss)(x), 2 * np.eye(2))
    np.testing.assert_allclose(cr.jacfwd(cr.jacfwd(ste_round))(x), np.zeros((2, 2, 2)))


# ----- smooth rules: forward mode matches closed forms and the reverse mode -------------------
@cr.custom_vjp
def softplus(x):
    return cnp.logaddexp(0.0, x)


softplus.defvjp(lambda x: (softplus(x), x), lambda x, g: (g * cnp.sigmoid(x),))


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def test_forward_mode_of_a_smooth_rule_to_third_order():
    x = np.array([-2.0, 0.3, 1.1])
    s = sigmoid(x)
    np.testing.assert_allclose(cr.jvp(softplus, (x,), (np.ones(3),))[1], s, rtol=1e-12)
    np.testing.assert_allclose(cr.jacfwd(softplus)(x), np.diag(s), rtol=1e-12)
    second = np.diag(s * (1 - s))
    np.testing.assert_allclose(cr.jacfwd(cr.jacfwd(lambda x: cnp.sum(softplus(x))))(x), second,
                               rtol=1e-12)
    np.testing.assert_allclose(cr.hessian(lambda x: cnp.sum(softplus(x)))(x), second, rtol=1e-12)
    third = cr.jacfwd(cr.jacfwd(cr.jacfwd(lambda x: cnp.sum(softplus(x)))))(x)
    diagonal = np.arange(3)
    np.testing.assert_allclose(third[diagonal, diagonal, diagonal], s * (1 - s) * (1 - 2 * s),
                               rtol=1e-10)
    assert np.count_nonzero(third) == 3


def test_jvp_and_grad_nest_either_way():
    for x in (-0.7, 0.5):
        s = sigmoid(x)
        assert cr.jvp(cr.grad(softplus), (x,), (1.0,))[1] == pytest.approx(s * (1 - s))
        assert cr.grad(lambda x: cr.jvp(softplus, (x,), (1.0,))[1])(x) == pytest.approx(
            s * (1 - s))


def test_jvp_of_tensor_api_inputs_stays_on_the_tape():
    x = cr.tensor(np.array([0.3, -1.2]), requires_grad=True)
    _, tangent = cr.jvp(softplus, (x,), (np.ones(2),))
    tangent.sum().backward()
    s = sigmoid(np.array([0.3, -1.2]))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s), rtol=1e-12)


# ----- several inputs, pytrees, None cotangents, keyword arguments ---------------------------


def test_pytree_input_and_output_in_forward_mode():
    x, y = 3.0, 4.0
    _, tangent = cr.jvp(polar, ({"x": x, "y": y},), ({"x": 1.0, "y": 2.0},))
    assert tangent["r"] == pytest.approx((x * 1.0 + y * 2.0) / 5)  # dr = (x dx + y dy) / r
    assert tangent["angle"] == pytest.approx((x * 2.0 - y * 1.0) / 25)  # (x dy - y dx) / r^2
    forward = cr.jacfwd(polar)({"x": x, "y": y})
    reverse = cr.jacrev(polar)({"x": x, "y": y})
    for out in ("r", "angle"):
        for arg in ("x", "y"):
            assert forward[out][arg] == pytest.approx(reverse[out][arg], rel=1e-14)
    assert forward["angle"]["x"] == pytest.approx(-y / 25)
    assert_jvp_is_transpose_of_vjp(polar, ({"x": x, "y": y},), ({"x": 0.3, "y": -0.8},),
                                   {"r": 1.7, "angle": -0.4})


@cr.custom_vjp
def scaled_outer(x, y, *, scale):
    return scale * x[:, None] * y


def _scaled_outer_fwd(x, y, *, scale):
    return scale * x[:, None] * y, (x, y, scale)


def _scaled_outer_bwd(residuals, g):
    x, y, scale = residuals
    return (cnp.sum(scale * g * y, axis=1), scale * g * x[:, None])


scaled_outer.defvjp(_scaled_outer_fwd, _scaled_outer_bwd)


def test_two_inputs_and_a_keyword_argument():
    x, y = RNG.normal(size=3), RNG.normal(size=(3, 2))
    f = lambda x, y: scaled_outer(x, y, scale=2.5)
    # d(2.5 x_i y_ij)/dx_k = 2.5 y_ij [i = k];  d/dy_kl = 2.5 x_i [i = k, j = l]
    dx = 2.5 * np.einsum("ij,ik->ijk", y, np.eye(3))
    dy = 2.5 * np.einsum("i,ik,jl->ijkl", x, np.eye(3), np.eye(2))
    for jacobian in (cr.jacfwd, cr.jacrev):
        dx_found, dy_found = jacobian(f, argnums=(0, 1))(x, y)
        np.testing.assert_allclose(dx_found, dx, rtol=1e-14)
        np.testing.assert_allclose(dy_found, dy, rtol=1e-14)
    assert_jvp_is_transpose_of_vjp(f, (x, y), (RNG.normal(size=3), RNG.normal(size=(3, 2))),
                                   RNG.normal(size=(3, 2)))


@cr.custom_vjp
def gated(x, gate):
    return x * gate


gated.defvjp(lambda x, gate: (x * gate, gate), lambda gate, g: (g * gate, None))


def test_a_none_cotangent_means_no_tangent_flows_from_that_input():
    x, gate = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    _, tangent = cr.jvp(gated, (x, gate), (np.zeros(2), np.ones(2)))
    np.testing.assert_array_equal(tangent, np.zeros(2))
    np.testing.assert_array_equal(cr.jacfwd(gated, argnums=1)(x, gate), np.zeros((2, 2)))
    np.testing.assert_array_equal(cr.jacrev(gated, argnums=1)(x, gate), np.zeros((2, 2)))
    np.testing.assert_array_equal(cr.jacfwd(gated)(x, gate), np.diag(gate))


def test_an_explicit_zero_cotangent_is_a_zero_too():
    @cr.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(lambda x, y: (x * y, y), lambda y, g: (g * y, np.zeros(2)))
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_array_equal(cr.jacfwd(f, argnums=1)(x, y), np.zeros((2, 2)))
    np.testing.assert_array_equal(cr.jacfwd(f)(x, y), np.diag(y))


# ----- a bwd that cannot be differentiated fails loudly --------------------------------------
def _with_bwd(bwd):
    @cr.custom_vjp
    def doubled(x):
        return 2.0 * x

    doubled.defvjp(lambda x: (2.0 * x, None), bwd)
    return doubled


def test_bwd_converting_the_cotangent_to_numpy_raises_in_forward_mode():
    doubled = _with_bwd(lambda _, g: (2.0 * np.asarray(g),))
    assert cr.grad(lambda x: cnp.sum(doubled(x)))(np.ones(2)).tolist() == [2.0, 2.0]
    for forward in (lambda x: cr.jvp(doubled, (x,), (np.ones(2),)),
                    lambda x: cr.jacfwd(doubled)(x),
                    lambda x: cr.hessian(lambda x: cnp.sum(doubled(x) ** 2))(x)):
        with pytest.raises(CustomRuleError, match=r"custom_vjp\(doubled\).*chainrule.numpy.*"
                                                  r"custom_jvp"):
            forward(np.ones(2))


def test_bwd_returning_a_constant_raises_instead_of_a_zero_tangent():
    doubled = _with_bwd(lambda _, g: (np.full(2, 2.0),))  # not linear in g: no JVP to derive
    with pytest.raises(CustomRuleError, match=r"custom_vjp\(doubled\).*argument 0"):
        cr.jvp(doubled, (np.ones(2),), (np.ones(2),))


def test_bwd_written_with_numpy_ufuncs_on_the_cotangent_is_recorded():
    doubled = _with_bwd(lambda _, g: (np.multiply(g, 2.0),))  # dispatches to chainrule
    np.testing.assert_array_equal(cr.jacfwd(doubled)(np.ones(2)), 2 * np.eye(2))


# ----- a custom node is freed after one backward, like any node ------------------------------
def test_second_backward_through_a_custom_node_needs_retain_graph():
    x = cr.tensor(0.5, requires_grad=True)
    y = softplus(x)  # the custom node is the root, so it is the first to notice
    y.backward()
    with pytest.raises(GraphFreedError, match=r"custom_vjp\(softplus\).*retain_graph=True"):
        y.backward()

    x.grad = None
    y = softplus(x)
    y.backward(retain_graph=True)
    y.backward()
    assert float(x.grad) == pytest.approx(2 * sigmoid(0.5), rel=1e-12)


def test_second_backward_from_the_custom_node_itself_with_the_same_seed():
    x = cr.tensor(np.array([0.5, -1.0]), requires_grad=True)
    y = softplus(x)
    seed = np.ones(2)
    y.backward(seed)
    with pytest.raises(GraphFreedError):
        y.backward(seed)


# ----- checkpoint under forward mode ---------------------------------------------------------
def test_checkpoint_under_forward_mode_matches_closed_forms():
    block = cr.checkpoint(lambda x: cnp.sin(x) * x)
    x = np.array([0.3, -1.1, 2.0])
    first = np.cos(x) * x + np.sin(x)
    second = 2 * np.cos(x) - x * np.sin(x)
    np.testing.assert_allclose(cr.jvp(block, (x,), (np.ones(3),))[1], first, rtol=1e-12)
    np.testing.assert_allclose(cr.jacfwd(block)(x), np.diag(first), rtol=1e-12)
    loss = lambda x: cnp.sum(block(x))
    for hessian in (cr.hessian(loss), cr.jacfwd(cr.jacfwd(loss)), cr.jacrev(cr.jacfwd(loss)),
                    cr.jacrev(cr.jacrev(loss))):
        np.testing.assert_allclose(hessian(x), np.diag(second), rtol=1e-12)
