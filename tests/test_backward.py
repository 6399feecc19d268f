"""Reverse mode through the Tensor API: accumulation, broadcasting, retain_graph, create_graph,
grad mode, and very deep graphs.

Expected gradients are worked out by hand (noted next to each) or come from finite differences.
"""

import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import GraphFreedError


def leaf(values):
    return cr.tensor(np.array(values, dtype=float), requires_grad=True)


def test_the_seed_example():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.tensor(2.0, requires_grad=True)
    f = (x + y) * (x - y)  # x^2 - y^2
    assert f.item() == 5.0
    f.backward()
    assert x.grad.item() == 6.0 and y.grad.item() == -4.0
    assert isinstance(x.grad, cr.Tensor) and x.grad.shape == ()


def test_fan_out_sums_every_use():
    x = cr.tensor(1.5, requires_grad=True)
    f = x * x + x * 3.0 - x / x + np.sin(x) + x  # 2x + 3 + 0 + cos(x) + 1
    f.backward()
    np.testing.assert_allclose(x.grad.item(), 2 * 1.5 + 3 + np.cos(1.5) + 1)


def test_fan_out_across_many_uses():
    x = cr.tensor(2.0, requires_grad=True)
    total = x
    for _ in range(99):
        total = total + x
    total.backward()
    assert x.grad.item() == 100.0


def test_diamond_graph_counts_each_path_once():
    x = cr.tensor(0.7, requires_grad=True)
    a = np.exp(x)
    b = a * a  # e^{2x}
    c = a + b  # e^x + e^{2x}
    d = c * a  # e^{2x} + e^{3x}
    d.backward()
    np.testing.assert_allclose(x.grad.item(), 2 * np.exp(1.4) + 3 * np.exp(2.1))


def test_unused_leaf_gets_no_gradient():
    x, unused = leaf(1.0), leaf(2.0)
    (x * 2).backward()
    assert unused.grad is None


def test_grad_accumulates_across_backward_calls_like_pytorch():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()  # 2x
    (x * 3.0).sum().backward()  # + 3
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    x.zero_grad_()
    assert x.grad is None


def test_backward_with_an_explicit_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(gradient=np.array([1.0, 0.5, -1.0]))  # v * 2x
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, -6.0])
    x = leaf([1.0, 2.0])
    (x * 3.0).backward(gradient=[1.0, 10.0])  # a list works too
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 30.0])
    x = leaf([1.0, 2.0])
    (x * 3.0).backward(gradient=cr.tensor([2.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 3.0])


def test_backward_from_a_leaf_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0


# ----- broadcasting: gradients come back in each input's shape ------------------------------------
BROADCAST_SHAPES = [
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((), (2, 3)),
    ((1,), (3,)),
    ((2, 1, 4), (3, 1)),
    ((1, 1), ()),
    ((5, 1, 1), (1, 2, 1)),
]


@pytest.mark.parametrize("shape_a, shape_b", BROADCAST_SHAPES, ids=str)
def test_broadcasting_gradients_are_unbroadcast_to_the_input_shapes(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a_values, b_values = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    a, b = leaf(a_values), leaf(b_values)
    out = a * b + a
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    assert a.grad.shape == shape_a and b.grad.shape == shape_b
    # d/da sum(w (a b + a)) = sum over broadcast axes of w (b + 1); likewise w a for b.
    full = np.broadcast_shapes(shape_a, shape_b)
    expected_a = _sum_to(weights * (np.broadcast_to(b_values, full) + 1.0), shape_a)
    expected_b = _sum_to(weights * np.broadcast_to(a_values, full), shape_b)
    np.testing.assert_allclose(a.grad.numpy(), expected_a)
    np.testing.assert_allclose(b.grad.numpy(), expected_b)


def _sum_to(values, shape):
    """Sum `values` down to `shape`, written directly from NumPy's broadcasting rules."""
    leading = values.ndim - len(shape)
    values = values.sum(axis=tuple(range(leading)))
    axes = tuple(i for i, size in enumerate(shape) if size == 1)
    return values.sum(axis=axes, keepdims=True).reshape(shape)


def test_broadcasting_through_numpy_functions():
    w = leaf(np.ones((1, 3)))
    b = leaf(0.5)
    out = np.maximum(np.ones((4, 1)) * w, b)  # w wins everywhere (1 > 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[4.0, 4.0, 4.0]])
    assert b.grad.shape == () and b.grad.item() == 0.0


# ----- retain_graph and freed graphs -------------------------------------------------------------
def test_retain_graph_allows_a_second_backward():
    x = leaf(3.0)
    f = x * x * x
    f.backward(retain_graph=True)
    f.backward()
    assert x.grad.item() == 2 * 27.0  # 3x^2 twice


def test_backward_through_a_released_graph_explains_retain_graph():
    x = leaf(3.0)
    f = np.sin(x) * x
    f.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True") as error:
        f.backward()
    assert isinstance(error.value, RuntimeError)
    assert "multiply" in str(error.value)


def test_a_new_branch_from_a_released_graph_also_fails_clearly():
    x = leaf(2.0)
    shared = np.exp(x)
    (shared * 2).backward()
    with pytest.raises(GraphFreedError):
        (shared * 3).backward()


# ----- create_graph: differentiating gradients ----------------------------------------------------
def test_second_derivative_of_x_cubed_via_create_graph():
    x = leaf(2.0)
    (x**3).backward(create_graph=True)
    first = x.grad  # 3 x^2 = 12
    assert first.item() == 12.0
    assert first.requires_grad and first.grad_fn is not None
    x.grad = None
    first.backward()  # d/dx 3x^2 = 6x = 12
    assert x.grad.item() == 12.0


def test_third_derivative_of_sin_via_create_graph():
    x = leaf(0.4)
    np.sin(x).backward(create_graph=True)
    first = x.grad  # cos x
    x.grad = None
    first.backward(create_graph=True)
    second = x.grad  # -sin x
    x.grad = None
    second.backward()
    np.testing.assert_allclose(first.item(), np.cos(0.4))
    np.testing.assert_allclose(second.item(), -np.sin(0.4))
    np.testing.assert_allclose(x.grad.item(), -np.cos(0.4))


def test_gradient_penalty_with_create_graph():
    # loss = |d/dx sum(w x^2)|^2 = sum((2 w x)^2); d loss / dw = 8 w x^2
    x = leaf([1.0, -2.0])
    w = leaf([0.5, 1.5])
    (w * x * x).sum().backward(create_graph=True)
    penalty = (x.grad * x.grad).sum()
    w.grad = None
    x.grad = None
    penalty.backward()
    np.testing.assert_allclose(w.grad.numpy(), 8 * np.array([0.5, 1.5]) * np.array([1.0, 4.0]))
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array([0.25, 2.25]) * np.array([1.0, -2.0]))


def test_hessian_vector_product_through_the_tensor_api():
    # f = sum(x^2 y) ; grad_x = 2 x y ; d/dx (grad_x . v) = 2 y v
    x, y = leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.0, 2.0])
    v = np.array([1.0, 1.0, -1.0])
    (x * x * y).sum().backward(create_graph=True)
    gx = x.grad
    x.grad, y.grad = None, None
    (gx * v).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([0.5, -1.0, 2.0]) * v)
    np.testing.assert_allclose(y.grad.numpy(), 2 * np.array([1.0, 2.0, 3.0]) * v)


# ----- grad mode ---------------------------------------------------------------------------------
def test_no_grad_records_nothing():
    x = leaf(2.0)
    with cr.no_grad():
        y = x * x
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_enable_grad_inside_no_grad():
    x = leaf(2.0)
    with cr.no_grad():
        with cr.enable_grad():
            y = x * x
        z = x * x
    assert y.requires_grad and not z.requires_grad
    y.backward()
    assert x.grad.item() == 4.0


def test_grad_mode_switches_as_decorators():
    x = leaf(2.0)

    @cr.no_grad()
    def evaluate(t):
        return t * t, cr.is_grad_enabled()

    @cr.enable_grad()
    def train(t):
        return t * t

    @cr.set_grad_enabled(False)
    def frozen(t):
        return t * t

    out, mode = evaluate(x)
    assert not out.requires_grad and mode is False
    assert cr.is_grad_enabled()  # creating and calling the decorators changed nothing outside
    with cr.no_grad():
        assert train(x).requires_grad
    assert not frozen(x).requires_grad
    assert cr.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context_manager():
    x = leaf(2.0)
    try:
        cr.set_grad_enabled(False)
        assert not cr.is_grad_enabled() and not (x * x).requires_grad
    finally:
        cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()
    with cr.set_grad_enabled(False):
        assert not (x * x).requires_grad
    assert cr.is_grad_enabled()
    with cr.no_grad():
        with cr.set_grad_enabled(True):
            assert (x * x).requires_grad
        assert not cr.is_grad_enabled()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with cr.no_grad():
            raise ValueError("boom")
    assert cr.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def other_thread():
        seen["before"] = cr.is_grad_enabled()
        x = leaf(3.0)
        y = x * x
        seen["recorded"] = y.requires_grad
        with cr.no_grad():
            inside.set()
            release.wait(5)
        seen["after"] = cr.is_grad_enabled()

    with cr.no_grad():
        worker = threading.Thread(target=other_thread)
        worker.start()
        assert inside.wait(5)
        # The worker is inside its own no_grad; this thread's enable_grad must not leak there.
        with cr.enable_grad():
            assert cr.is_grad_enabled()
        release.set()
        worker.join(5)
        assert not cr.is_grad_enabled()
    assert seen == {"before": True, "recorded": True, "after": True}
    assert cr.is_grad_enabled()


def test_backward_does_not_record_without_create_graph():
    x = leaf(2.0)
    (x * x).backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


# ----- deep graphs -------------------------------------------------------------------------------
def test_a_very_long_chain_does_not_hit_the_recursion_limit():
    # 200,000 nodes: far beyond Python's recursion limit (1,000), so a recursive walk would fail.
    x = leaf(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0
        y = y + 0.0
    y.backward()
    assert x.grad.item() == 1.0


def test_a_root_that_is_an_ancestor_of_another_root_waits_for_it():
    # Regression: the backward pass counted children only below the roots, so a second root
    # computed from the first failed (custom_vjp's forward mode hit it: bwd's cotangents where
    # one is computed from the other). d/dx of [x*y, x*y*x] against (1, 1) at x=2, y=3.
    import chainrule as cr

    @cr.custom_vjp
    def f(x, y):
        return x * y

    def f_bwd(residuals, g):
        x, y = residuals
        gx = g * y
        return gx, gx * x

    f.defvjp(lambda x, y: (x * y, (x, y)), f_bwd)
    value, tangent = cr.jvp(f, (2.0, 3.0), (1.0, 1.0))
    # the JVP derived from bwd by transposition: t_x * y + t_y * (y * x) = 3 + 6
    assert value == 6.0 and tangent == 9.0
