"""custom_vjp, custom_jvp and checkpoint: the rules are used, they nest, and they fail clearly."""

import tracemalloc

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import CustomRuleError


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # 1 / (1 + e^-x), without overflow


# ----- custom_vjp: a numerically stable log(1 + e^x) ----------------------------------------------
@cr.custom_vjp
def log1pexp(x):
    return cnp.logaddexp(0.0, x)


def _log1pexp_fwd(x):
    return log1pexp(x), x


def _log1pexp_bwd(x, g):
    # d/dx log(1 + e^x) = sigmoid(x), computed without overflow
    return (g * cnp.sigmoid(x),)


log1pexp.defvjp(_log1pexp_fwd, _log1pexp_bwd)

EXTREMES = np.array([-800.0, -3.0, 0.0, 2.5, 800.0])


def test_custom_vjp_rule_is_used_where_the_naive_gradient_overflows():
    naive = cr.grad(lambda x: cnp.sum(cnp.log(1.0 + cnp.exp(x))))
    with np.errstate(over="ignore", invalid="ignore"):
        assert np.isnan(naive(EXTREMES)[-1])  # inf / inf
    np.testing.assert_allclose(cr.grad(lambda x: cnp.sum(log1pexp(x)))(EXTREMES),
                               sigmoid(EXTREMES))


def test_custom_vjp_nests_grad_of_grad_differentiates_the_rule():
    for x in (-2.0, 0.0, 1.5):
        s = sigmoid(x)
        assert cr.grad(cr.grad(log1pexp))(x) == pytest.approx(s * (1 - s), rel=1e-12)
        assert cr.grad(cr.grad(cr.grad(log1pexp)))(x) == pytest.approx(
            s * (1 - s) * (1 - 2 * s), rel=1e-12)


def test_custom_vjp_forward_mode_uses_the_jvp_derived_from_bwd():
    x = np.array([-1.0, 0.5, 3.0])
    _, tangent = cr.jvp(log1pexp, (x,), (np.ones(3),))
    np.testing.assert_allclose(tangent, sigmoid(x))
    np.testing.assert_allclose(cr.jacfwd(log1pexp)(x), np.diag(sigmoid(x)))
    s = sigmoid(x)
    np.testing.assert_allclose(cr.hessian(lambda x: cnp.sum(log1pexp(x)))(x), np.diag(s * (1 - s)))
    diagonal = np.arange(3)
    third_order = cr.jacrev(cr.jacfwd(log1pexp))(x)
    np.testing.assert_allclose(third_order[diagonal, diagonal, diagonal], s * (1 - s))


def test_custom_vjp_through_the_tensor_api_with_create_graph():
    x = cr.tensor(np.array([0.3, -1.2]), requires_grad=True)
    log1pexp(x).sum().backward(create_graph=True)
    s = sigmoid(np.array([0.3, -1.2]))
    np.testing.assert_allclose(x.grad.numpy(), s)
    first = x.grad
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s))


# ----- custom_vjp: gradient clipping -------------------------------------------------------------
@cr.custom_vjp
def clip_gradient(x, low, high):
    return x


def _clip_fwd(x, low, high):
    return x, (low, high)


def _clip_bwd(bounds, g):
    low, high = bounds
    return (cnp.clip(g, low, high), None, None)


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def test_gradient_clipping_clips_only_the_backward_pass():
    def loss(x):
        return cnp.sum(clip_gradient(x, -1.0, 1.0) * np.array([5.0, 0.5, -3.0]))

    x = np.array([1.0, 2.0, 3.0])
    assert loss(x) == pytest.approx(5.0 + 1.0 - 9.0)  # the forward value is untouched
    np.testing.assert_array_equal(cr.grad(loss)(x), [1.0, 0.5, -1.0])
    # forward mode transposes bwd at a zero cotangent, where clipping is the identity
    np.testing.assert_array_equal(cr.jvp(loss, (x,), (np.array([1.0, 0.0, 0.0]),))[1], 5.0)


# ----- custom_vjp with structured outputs and inputs ------------------------------------------
@cr.custom_vjp
def polar(point):
    return {"r": cnp.sqrt(point["x"] ** 2 + point["y"] ** 2), "angle": cnp.arctan2(point["y"],
                                                                                   point["x"])}


def _polar_fwd(point):
    out = polar(point)
    return out, (point, out["r"])


def _polar_bwd(residuals, g):
    point, r = residuals
    x, y = point["x"], point["y"]
    # dr = (x dx + y dy) / r; dangle = (x dy - y dx) / r^2
    return ({"x": g["r"] * x / r - g["angle"] * y / r**2,
             "y": g["r"] * y / r + g["angle"] * x / r**2},)


polar.defvjp(_polar_fwd, _polar_bwd)


def test_custom_vjp_with_dict_input_and_output():
    def loss(point):
        out = polar(point)
        return 2.0 * out["r"] + 3.0 * out["angle"]

    x, y = 3.0, 4.0
    gradient = cr.grad(loss)({"x": x, "y": y})
    assert gradient["x"] == pytest.approx(2 * x / 5 - 3 * y / 25)
    assert gradient["y"] == pytest.approx(2 * y / 5 + 3 * x / 25)
    # second order goes through the rule: d/dx of dr/dx = y^2 / r^3
    assert cr.grad(lambda x: cr.grad(lambda p: polar(p)["r"])({"x": x, "y": y})["x"])(x) == \
        pytest.approx(y**2 / 125)


# ----- custom_jvp -------------------------------------------------------------------------------
@cr.custom_jvp
def sin_with_rule(x):
    return cnp.sin(x)


@sin_with_rule.defjvp
def _sin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return sin_with_rule(x), cnp.cos(x) * t


@cr.custom_jvp
def straight_through_round(x):
    return cnp.round(x)


@straight_through_round.defjvp
def _round_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return straight_through_round(x), t  # pretend the derivative is 1


def test_custom_jvp_rule_is_used_in_both_modes():
    x = np.array([0.2, 1.7, -2.6])
    np.testing.assert_array_equal(cr.jvp(straight_through_round, (x,), (np.ones(3),))[1],
                                  np.ones(3))
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(straight_through_round(x) * 2.0))(x),
                                  [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(cr.jacrev(straight_through_round)(x), np.eye(3))
    np.testing.assert_array_equal(cr.jacfwd(straight_through_round)(x), np.eye(3))


@pytest.mark.parametrize("x", [-0.7, 0.4, 2.0])
def test_custom_jvp_nests_to_any_order(x):
    assert cr.grad(sin_with_rule)(x) == pytest.approx(np.cos(x), rel=1e-12)
    assert cr.grad(cr.grad(sin_with_rule))(x) == pytest.approx(-np.sin(x), rel=1e-12)
    assert cr.grad(cr.grad(cr.grad(sin_with_rule)))(x) == pytest.approx(-np.cos(x), rel=1e-12)
    assert cr.jvp(cr.grad(sin_with_rule), (x,), (1.0,))[1] == pytest.approx(-np.sin(x))
    assert cr.grad(lambda x: cr.jvp(sin_with_rule, (x,), (1.0,))[1])(x) == pytest.approx(
        -np.sin(x))


def test_custom_jvp_hessian_and_batched_jacobian():
    x = np.array([0.1, 0.9])
    np.testing.assert_allclose(cr.hessian(lambda x: cnp.sum(sin_with_rule(x)))(x),
                               np.diag(-np.sin(x)), rtol=1e-12)
    np.testing.assert_allclose(cr.jacfwd(sin_with_rule)(x), np.diag(np.cos(x)), rtol=1e-12)


@cr.custom_jvp
def product(x, y):
    return x * y


@product.defjvp
def _product_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    return product(x, y), y * tx + x * ty


def test_custom_jvp_with_two_arguments_and_the_tensor_api():
    assert cr.grad(product, argnums=(0, 1))(3.0, 5.0) == (5.0, 3.0)
    x = cr.tensor(2.0, requires_grad=True)
    product(x, x).backward()
    assert float(x.grad) == 4.0


# ----- errors --------------------------------------------------------------------------------
def _custom(fwd, bwd):
    @cr.custom_vjp
    def f(x, y):
        return x * y

    f.defvjp(fwd, bwd)
    return f


def test_bwd_returning_the_wrong_number_of_cotangents():
    f = _custom(lambda x, y: (x * y, (x, y)), lambda res, g: (g * res[1],))
    with pytest.raises(CustomRuleError, match=r"custom_vjp\(f\): bwd must return .* \(2\); it "
                                              r"returned 1 values"):
        cr.grad(f)(2.0, 3.0)


def test_bwd_returning_the_wrong_shape():
    f = _custom(lambda x, y: (x * y, (x, y)), lambda res, g: (np.ones(3), None))
    with pytest.raises(CustomRuleError, match=r"shape \(3,\) for argument 0 of shape \(2,\)"):
        cr.grad(lambda x: cnp.sum(f(x, 2.0)))(np.ones(2))


def test_bwd_returning_the_wrong_structure():
    f = _custom(lambda x, y: (x * y, (x, y)), lambda res, g: ([g, g], None))
    with pytest.raises(CustomRuleError, match="structure"):
        cr.grad(f)(2.0, 3.0)


def test_fwd_must_return_a_pair_and_rules_must_be_defined():
    f = _custom(lambda x, y: x * y, lambda res, g: (g, g))
    with pytest.raises(CustomRuleError, match="fwd must return a pair"):
        cr.grad(f)(2.0, 3.0)

    @cr.custom_vjp
    def undefined(x):
        return x

    with pytest.raises(CustomRuleError, match="defvjp"):
        cr.grad(undefined)(1.0)


def test_custom_jvp_rule_with_mismatched_tangent_shape():
    @cr.custom_jvp
    def f(x):
        return x * 2.0

    @f.defjvp
    def _(primals, tangents):
        return primals[0] * 2.0, np.ones(5)

    with pytest.raises(CustomRuleError, match="tangent_out"):
        cr.jvp(f, (np.ones(2),), (np.ones(2),))


# ----- checkpoint --------------------------------------------------------------------------------
def layer(x):
    return cnp.tanh(x) * 0.9 + cnp.sin(x) * 0.1


def ten_layers(x):
    for _ in range(10):
        x = layer(x)
    return x


def hundred_layers(x, block):
    for _ in range(10):
        x = block(x)
    return cnp.sum(x)


def _peak_bytes(function, x):
    tracemalloc.start()
    try:
        result = function(x)
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


def test_checkpointed_chain_has_much_lower_peak_memory_and_equal_gradients():
    x = np.random.default_rng(0).uniform(-1, 1, 20000)
    plain_peak, plain = _peak_bytes(cr.grad(lambda x: hundred_layers(x, ten_layers)), x)
    saved_peak, saved = _peak_bytes(cr.grad(lambda x: hundred_layers(x, cr.checkpoint(ten_layers))),
                                    x)
    np.testing.assert_allclose(saved, plain, rtol=1e-12)
    # plain keeps ~3 arrays per layer for 100 layers; checkpointed keeps 10 block inputs and
    # one block's residuals at a time
    assert saved_peak < 0.3 * plain_peak, (saved_peak, plain_peak)


def test_checkpoint_nests_and_works_with_every_mode():
    block = cr.checkpoint(ten_layers)
    x = np.array([0.3, -0.6])
    np.testing.assert_allclose(cr.hessian(lambda x: cnp.sum(block(x)))(x),
                               cr.hessian(lambda x: cnp.sum(ten_layers(x)))(x), rtol=1e-12)
    np.testing.assert_allclose(cr.jacfwd(block)(x), cr.jacrev(ten_layers)(x), rtol=1e-12)
    tensor = cr.tensor(x, requires_grad=True)
    block(tensor).sum().backward()
    np.testing.assert_allclose(tensor.grad.numpy(),
                               cr.grad(lambda x: cnp.sum(ten_layers(x)))(x), rtol=1e-12)


def test_checkpoint_under_create_graph_in_the_tensor_api():
    x = cr.tensor(0.4, requires_grad=True)
    cr.checkpoint(lambda z: cnp.sin(z) ** 2)(x).backward(create_graph=True)  # sin 2x
    first = x.grad
    x.grad = None
    first.backward()  # 2 cos 2x
    assert float(x.grad) == pytest.approx(2 * np.cos(0.8), rel=1e-12)
