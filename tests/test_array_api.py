"""The array-API path without a GPU: `array-api-strict` (the standard's reference implementation,
which refuses everything outside the standard) through chainrule, so that NumPy-only
assumptions in the engine and the rules are caught on the CPU. CuPy takes the same path; its own
tests are marked `gpu` and run with `make test-gpu` on a machine with a device.

Expected values are NumPy's on the same numbers.
"""

import warnings

import array_api_strict as xps
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

X = np.array([0.5, -1.0, 2.0])
W = np.arange(6.0).reshape(2, 3) / 4

FUNCTIONS = {
    "elementwise": lambda x, W: cnp.sum(cnp.tanh(x) ** 2 + cnp.exp(-x) * cnp.sin(x)),
    "matmul": lambda x, W: cnp.sum(cnp.log1p(cnp.matmul(W, x) ** 2)),
    "reductions": lambda x, W: cnp.max(x) + cnp.mean(x * x) + cnp.logsumexp(x),
    "softmax": lambda x, W: cnp.sum(cnp.log_softmax(cnp.matmul(W, x), axis=0) * 2.0),
    "shapes": lambda x, W: cnp.sum(cnp.reshape(cnp.matmul(W, x), (2, 1)) * x[:2]),
    "where": lambda x, W: cnp.sum(cnp.where(x > 0, x ** 3, -x)),
}


def strict(array):
    return xps.asarray(array)


@pytest.fixture(autouse=True)
def quiet():
    # array-api-strict warns when its dtypes meet NumPy's in a comparison; the engine converts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_reverse_mode(name):
    f = FUNCTIONS[name]
    found = cr.grad(f)(strict(X), strict(W))
    assert type(found).__module__.startswith("array_api_strict"), type(found)
    np.testing.assert_allclose(np.asarray(found), cr.grad(f)(X, W), rtol=1e-13)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_forward_mode(name):
    f = FUNCTIONS[name]
    tangent = np.array([1.0, 0.5, -2.0])
    _, found = cr.jvp(lambda x: f(x, strict(W)), (strict(X),), (strict(tangent),))
    _, expected = cr.jvp(lambda x: f(x, W), (X,), (tangent,))
    np.testing.assert_allclose(float(found), expected, rtol=1e-13)


def test_tensor_api():
    x = cr.tensor(strict(X), requires_grad=True)
    FUNCTIONS["elementwise"](x, None).backward()
    assert type(x.grad._value).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.asarray(x.grad._value), cr.grad(FUNCTIONS["elementwise"])(X, W),
                               rtol=1e-13)
