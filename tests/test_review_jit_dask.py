"""Review of cr.jit and foreign arrays: each test is a bug found and fixed."""

import numpy as np

import chainrule as cr


def test_jit_of_a_function_named_like_a_captured_array_replays_with_the_array():
    # The generated function was defined under the user's name in the namespace holding the
    # captured arrays (c1, c2, ...), so `def c1(a)` replaced the array c1 it reads.
    weights = np.arange(15.0).reshape(5, 3)

    def c1(a):
        return a @ weights

    fast = cr.jit(c1)
    x = np.ones((4, 5))
    for _ in range(3):
        np.testing.assert_allclose(fast(x), x @ weights)


def test_jit_outputs_never_alias_an_input_or_each_other_when_plain_python_would_not():
    # x * 1 is folded to x, and two equal computations are merged: the replay returned the
    # caller's array itself, or one array for two outputs, so updating one result in place
    # changed the caller's input or the other result.
    x = np.ones(3)
    scaled = cr.jit(lambda a: a * 1)
    twice = cr.jit(lambda a: (a * 2.0, a * 2.0))
    for _ in range(2):
        out = scaled(x)
        out += 1.0
        np.testing.assert_array_equal(x, np.ones(3))
        first, second = twice(x)
        first += 1.0
        np.testing.assert_array_equal(second, np.full(3, 2.0))
    same = cr.jit(lambda a: (a, a))  # plain Python returns one object twice: so does jit
    first, second = same(x)
    assert first is second is x


def test_std_of_a_dask_array_and_its_gradient_compute_nothing():
    # std's square root checked for a constant row with np.any on the value, which computes
    # a Dask array in this process.
    import pytest

    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    import chainrule.numpy as cnp

    def refuse(*args, **kwargs):
        raise AssertionError("a Dask array was computed")

    x = np.random.default_rng(0).standard_normal((6, 4))
    x[:, 1] = 2.0  # a constant column: std 0 there, subgradient 0
    lazy = da.from_array(x, chunks=(3, 2))
    with dask.config.set(scheduler=refuse):
        value = cnp.std(lazy, axis=0)
        gradient = cr.grad(lambda a: cnp.sum(cnp.std(a, axis=0)))(lazy)
    np.testing.assert_allclose(value.compute(), np.std(x, axis=0))
    np.testing.assert_allclose(gradient.compute(),
                               cr.grad(lambda a: cnp.sum(cnp.std(a, axis=0)))(x))
