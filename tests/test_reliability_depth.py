"""Deep graphs: a long chain y <- tanh(y) * 0.9 + c runs forward and backward without recursion,
its memory grows linearly with depth and is given back when the output is dropped."""

import gc
import math
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

NODES_PER_STEP = 3  # tanh, multiply, add


def chain_derivatives(x0, c, steps):
    """y_N and dy_N/dx0, dy_N/dc, d2y_N/dc2 by the forward recurrences, in plain Python."""
    y, dy_dx, dy_dc, d2y_dc2 = x0, 1.0, 0.0, 0.0
    for _ in range(steps):
        t = math.tanh(y)
        slope = 0.9 * (1.0 - t * t)
        curvature = 0.9 * (-2.0 * t * (1.0 - t * t))
        d2y_dc2 = slope * d2y_dc2 + curvature * dy_dc * dy_dc
        dy_dx = slope * dy_dx
        dy_dc = slope * dy_dc + 1.0
        y = 0.9 * t + c
    return y, dy_dx, dy_dc, d2y_dc2


def tensor_chain(steps):
    x = cr.tensor(0.5, requires_grad=True)
    c = cr.tensor(0.01, requires_grad=True)
    y = x
    for _ in range(steps):
        y = cnp.tanh(y) * 0.9 + c
    return x, c, y


def functional_chain(steps):
    def f(c):
        y = 0.5
        for _ in range(steps):
            y = cnp.tanh(y) * 0.9 + c
        return y

    return f


def check_backward_through_chain(steps):
    x, c, y = tensor_chain(steps)
    expected_y, expected_dx, expected_dc, _ = chain_derivatives(0.5, 0.01, steps)
    assert float(y) == pytest.approx(expected_y, rel=1e-12)
    y.backward()
    assert float(c.grad) == pytest.approx(expected_dc, rel=1e-9)
    assert float(x.grad) == pytest.approx(expected_dx, rel=1e-6, abs=1e-300)


def test_backward_through_a_100k_node_chain_needs_no_recursion():
    check_backward_through_chain(100_000 // NODES_PER_STEP)


def test_grad_of_a_100k_node_chain():
    steps = 100_000 // NODES_PER_STEP
    _, _, expected_dc, _ = chain_derivatives(0.5, 0.01, steps)
    assert float(cr.grad(functional_chain(steps))(0.01)) == pytest.approx(expected_dc, rel=1e-9)


def test_forward_over_reverse_second_derivative_of_a_10000_step_chain():
    steps = 10_000
    _, _, _, expected = chain_derivatives(0.5, 0.01, steps)
    _, second = cr.jvp(cr.grad(functional_chain(steps)), (0.01,), (1.0,))
    assert float(second) == pytest.approx(expected, rel=1e-8)


@pytest.mark.stress
def test_hessian_of_a_10000_step_chain():
    steps = 10_000
    _, _, _, expected = chain_derivatives(0.5, 0.01, steps)
    hessian = cr.hessian(functional_chain(steps))(0.01)
    assert float(np.squeeze(hessian)) == pytest.approx(expected, rel=1e-8)


def traced_bytes_of_chain(steps):
    """Bytes held by a live chain of `steps` steps, and bytes left after dropping it."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        x, c, y = tensor_chain(steps)
        held = tracemalloc.get_traced_memory()[0] - before
        del x, c, y
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held, left


def test_chain_memory_grows_linearly_and_is_released():
    small_held, small_left = traced_bytes_of_chain(5_000)
    large_held, large_left = traced_bytes_of_chain(10_000)
    assert 1.7 < large_held / small_held < 2.3
    per_node = large_held / (10_000 * NODES_PER_STEP)
    assert per_node < 1_000  # a few hundred bytes: node, tensor, scalar value
    # Dropping the output frees the whole graph at once: no reference cycles, no gc needed.
    # What stays is Python's free lists of small objects: a constant, not growing with depth.
    assert large_left < 0.05 * large_held
    assert large_left < small_left + 50_000


def test_dropping_a_deep_graph_does_not_overflow_the_c_stack():
    # Freeing a chain deallocates node after node; CPython's trashcan keeps that iterative.
    _, _, y = tensor_chain(100_000 // NODES_PER_STEP)
    del y
    gc.collect()


@pytest.mark.stress
def test_backward_through_a_million_step_chain():
    check_backward_through_chain(1_000_000)


@pytest.mark.stress
def test_grad_of_a_million_step_chain():
    steps = 1_000_000
    _, _, expected_dc, _ = chain_derivatives(0.5, 0.01, steps)
    assert float(cr.grad(functional_chain(steps))(0.01)) == pytest.approx(expected_dc, rel=1e-9)


@pytest.mark.stress
def test_million_node_chain_memory_is_linear():
    small_held, _ = traced_bytes_of_chain(33_334)
    large_held, large_left = traced_bytes_of_chain(333_334)
    assert 8.5 < large_held / small_held < 11.5
    assert large_left < 0.01 * large_held
