"""CuPy arrays through chainrule on a GPU: the array-API path of core/namespace.py, as Dask and
array-api-strict take it on the CPU (tests/test_dask.py, tests/test_array_api.py). Marked `gpu`:
`make test-gpu` runs them on a machine with CuPy and a CUDA device; `make test` leaves them out.
Expected values are NumPy's on the same numbers, and results stay on the device.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp

pytestmark = pytest.mark.gpu  # `make test` deselects these; `make test-gpu` installs CuPy

X = np.array([0.5, -1.0, 2.0])
W = np.arange(6.0).reshape(2, 3) / 4


def loss(x, W):
    return cnp.sum(cnp.tanh(cnp.matmul(W, x)) ** 2 + cnp.exp(-x) * cnp.sin(x)) + cnp.logsumexp(x)


def test_grad_jvp_and_tensor_api_on_the_device():
    import cupy

    x, w = cupy.asarray(X), cupy.asarray(W)
    found = cr.grad(loss)(x, w)
    assert isinstance(found, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(found), cr.grad(loss)(X, W), rtol=1e-12)
    _, tangent = cr.jvp(lambda x: loss(x, w), (x,), (cupy.ones(3),))
    _, expected = cr.jvp(lambda x: loss(x, W), (X,), (np.ones(3),))
    np.testing.assert_allclose(float(tangent), expected, rtol=1e-12)
    t = cr.tensor(x, requires_grad=True)
    loss(t, w).backward()
    assert isinstance(t.grad._value, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(t.grad._value), cr.grad(loss)(X, W), rtol=1e-12)


def test_a_model_on_the_device():
    import cupy

    from chainrule import nn

    model = nn.Linear(3, 2, dtype=np.float64, rng=0)
    params = {k: cupy.asarray(v) for k, v in model.parameters_dict().items()}
    x = cupy.asarray(np.stack([X, X * 2]))
    grads = cr.grad(lambda p: cnp.sum(nn.functional_call(model, p, (x,)) ** 2))(params)
    expected = cr.grad(lambda p: cnp.sum(nn.functional_call(model, p, (cupy.asnumpy(x),)) ** 2))(
        model.parameters_dict())
    for name, g in grads.items():
        assert isinstance(g, cupy.ndarray)
        np.testing.assert_allclose(cupy.asnumpy(g), expected[name], rtol=1e-12)
