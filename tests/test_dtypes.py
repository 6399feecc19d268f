"""The dtype policy: float64 by default, float32 and float16 kept (values and gradients),
integers and booleans compute but cannot be differentiated, complex64 and complex128 pair with
float32 and float64 (tests/test_complex.py)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import DTypeError

VALUES = np.array([[0.3, -1.2, 0.8], [1.4, -0.7, 0.25]])

# Functions of one tensor, each reduced to a scalar by the test.
FUNCTIONS = {
    "sin": np.sin,
    "exp": np.exp,
    "tanh": np.tanh,
    "square": np.square,
    "abs": np.abs,
    "sqrt of square": lambda t: np.sqrt(t * t + 1.0),
    "log of exp": lambda t: np.log(np.exp(t) + 1.0),
    "python scalars": lambda t: 2.0 * t - 1 + t / 3.0 + t**2 + 0.5**t,
    "numpy scalar of the same dtype": lambda t: t * t.dtype.type(2.0),
    "sum": lambda t: t.sum(axis=0),
    "mean": lambda t: np.mean(t, axis=1),
    "var": np.var,
    "std": lambda t: np.std(t, axis=0),
    "prod": lambda t: t.prod(axis=1),
    "max": lambda t: t.max(axis=0),
    "cumsum": lambda t: np.cumsum(t, axis=1),
    "matmul": lambda t: t @ t.T,
    "getitem": lambda t: t[[0, 1, 1], [2, 0, 0]],
    "where": lambda t: np.where(VALUES > 0, t, 0.0),
    "clip": lambda t: np.clip(t, -0.5, 0.5),
    "maximum": lambda t: np.maximum(t, 0.0),
    "concatenate": lambda t: np.concatenate([t, t * t], axis=1),
    "stack": lambda t: np.stack([t, t]),
    "reshape and transpose": lambda t: t.reshape(3, 2).T,
    "logsumexp": lambda t: cnp.logsumexp(t, axis=1),
    "softmax": cnp.softmax,
    "log_softmax": cnp.log_softmax,
    "sigmoid": cnp.sigmoid,
    "softplus": cnp.softplus,
    "relu": cnp.relu,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["float32", "float16"])
@pytest.mark.parametrize("function", FUNCTIONS.values(), ids=FUNCTIONS.keys())
def test_low_precision_floats_stay_in_their_dtype(function, dtype):
    x = cr.tensor(VALUES.astype(dtype), requires_grad=True)
    out = function(x)
    assert out.dtype == dtype, f"value became {out.dtype}"
    out.sum().backward()
    assert x.grad.dtype == dtype, f"gradient became {x.grad.dtype}"
    assert np.all(np.isfinite(x.grad.numpy()))


@pytest.mark.parametrize("function", FUNCTIONS.values(), ids=FUNCTIONS.keys())
def test_float32_gradients_agree_with_float64(function):
    x32 = cr.tensor(VALUES.astype(np.float32), requires_grad=True)
    x64 = cr.tensor(VALUES, requires_grad=True)
    function(x32).sum().backward()
    function(x64).sum().backward()
    np.testing.assert_allclose(x32.grad.numpy(), x64.grad.numpy(), rtol=2e-4, atol=2e-5)


def test_float16_computes_usable_values():
    x = cr.tensor(np.array([0.5, 1.5], dtype=np.float16), requires_grad=True)
    out = (np.exp(x) * x).sum()
    out.backward()  # d/dx x e^x = (1 + x) e^x
    np.testing.assert_allclose(x.grad.numpy(), (1 + np.array([0.5, 1.5])) * np.exp([0.5, 1.5]),
                               rtol=2e-3)


def test_default_dtypes_follow_numpy():
    assert cr.tensor(1.0).dtype == np.float64
    assert cr.tensor([1.0, 2.0]).dtype == np.float64
    assert cr.tensor([1, 2.5]).dtype == np.float64
    assert cr.tensor(3).dtype == np.int64
    assert cr.tensor(True).dtype == np.bool_
    assert cr.tensor(np.float32(1.0)).dtype == np.float32
    assert cr.tensor(np.arange(3, dtype=np.int32)).dtype == np.int32
    assert cr.tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert cr.tensor([1, 2], dtype="float16").dtype == np.float16


def test_python_scalars_are_float64_but_do_not_promote_float32():
    x = cr.tensor(2.0, requires_grad=True)
    assert (x * 3).dtype == np.float64
    y = cr.tensor(np.float32(2.0), requires_grad=True)
    assert (y * 3.0 + 1).dtype == np.float32


def test_mixing_dtypes_promotes_like_numpy_and_gradients_come_back_in_each_input_dtype():
    x32 = cr.tensor(np.ones(2, np.float32), requires_grad=True)
    x64 = cr.tensor(np.full(2, 3.0), requires_grad=True)
    out = x32 * x64
    assert out.dtype == np.result_type(np.float32, np.float64)
    out.sum().backward()
    assert x32.grad.dtype == np.float32 and x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x32.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x64.grad.numpy(), [1.0, 1.0])


def test_requires_grad_dtype_is_checked_at_creation():
    for data in ([1, 2], np.arange(3), np.array([1], np.uint8), [True, False], 5):
        with pytest.raises(DTypeError, match="float") as error:
            cr.tensor(data, requires_grad=True)
        assert isinstance(error.value, TypeError)
        assert "astype(float)" in str(error.value) or "dtype=np.float64" in str(error.value)
    with pytest.raises(DTypeError):
        cr.tensor([1.5], dtype=int, requires_grad=True)
    with pytest.raises(DTypeError, match="requires_grad_"):
        cr.tensor([1, 2]).requires_grad_()
    assert cr.tensor([1, 2], dtype=float, requires_grad=True).dtype == np.float64


def test_integer_tensors_compute_like_numpy():
    i = cr.tensor([1, 2, 3])
    np.testing.assert_array_equal((i + 1).numpy(), [2, 3, 4])
    assert (i + 1).dtype == np.int64
    assert (i / 2).dtype == np.float64
    assert (i * 0.5).dtype == np.float64
    assert i.sum().dtype == np.sum(np.array([1, 2, 3])).dtype
    assert i.mean().dtype == np.float64 and i.mean().item() == 2.0


def test_integer_constants_scale_float_gradients():
    i = cr.tensor([1, 2, 3])
    x = cr.tensor([1.0, 1.0, 1.0], requires_grad=True)
    (i * x).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


def test_casting_to_integers_or_booleans_is_not_differentiable():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    as_int = x.astype(np.int64)
    assert as_int.dtype == np.int64 and not as_int.requires_grad
    np.testing.assert_array_equal(as_int.numpy(), [1, 2])
    (as_int * x).sum().backward()  # the integer factor is a constant: gradient [1, 2]
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0])
    assert not cnp.astype(x, bool).requires_grad


def test_casting_between_floats_is_differentiable():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    y = cnp.astype(x, np.float32)
    assert y.dtype == np.float32 and y.requires_grad
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_complex_numbers_are_tensors_and_pair_with_their_precision():
    z = cr.tensor([1 + 2j], requires_grad=True)
    assert z.dtype == np.complex128 and z.requires_grad
    x = cr.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    assert (x * 1j).dtype == np.complex64 and (1j + x).dtype == np.complex64
    assert (cr.tensor([1.0, 2.0]) * 1j).dtype == np.complex128


def test_gradients_of_boolean_masks_are_not_needed():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == np.bool_ and not mask.requires_grad
    (mask * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0])
