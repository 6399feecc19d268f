"""Hostile input: None, strings, object arrays, ragged lists, complex numbers, NaN/inf, empty
and huge arrays each get a chainrule exception that names the problem (never a bare NumPy
error); property tests compare broadcasting binary primitives with NumPy and finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import (
    ChainruleError,
    DTypeError,
    InputTypeError,
    NonScalarOutputError,
    ShapeError,
)

NOT_NUMBERS = {
    "None": None,
    "string": "abc",
    "bytes": b"x",
    "object array": np.array([1, "a"], dtype=object),
    "ragged list": [[1.0, 2.0], [3.0]],
    "dict": {},
}

ENTRY_POINTS = {
    "cr.tensor": lambda a: cr.tensor(a),
    "cr.tensor(requires_grad)": lambda a: cr.tensor(a, requires_grad=True),
    "cnp.sin": cnp.sin,
    "cnp.add": lambda a: cnp.add(a, 1.0),
    "cnp.matmul": lambda a: cnp.matmul(a, a),
    "Tensor + x": lambda a: cr.tensor(1.0, requires_grad=True) + a,
    "cr.grad": lambda a: cr.grad(lambda x: cnp.sum(cnp.sin(x)))(a),
    "cr.vjp": lambda a: cr.vjp(cnp.sin, a),
    "cr.jvp": lambda a: cr.jvp(cnp.sin, (a,), (a,)),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize("kind", sorted(NOT_NUMBERS))
def test_non_numeric_input_gets_an_input_type_error(entry, kind):
    with pytest.raises(InputTypeError) as caught:
        ENTRY_POINTS[entry](NOT_NUMBERS[kind])
    assert isinstance(caught.value, TypeError)  # `except TypeError` still works
    assert "(" in str(caught.value) and len(str(caught.value)) > 40  # names the call and the fix


@pytest.mark.parametrize("value", [1 + 2j, np.ones(3, dtype=complex)])
def test_a_complex_output_of_grad_names_holomorphic_and_jacrev(value):
    with pytest.raises(DTypeError, match="holomorphic=True.*jacrev"):
        cr.grad(lambda x: cnp.sum(x * x))(value)
    with pytest.raises(DTypeError, match="holomorphic=True"):
        cr.jacfwd(cnp.sin)(value)
    with pytest.raises(DTypeError, match="real"):
        cr.grad(lambda x: cnp.sum(x * x), holomorphic=True)(np.real(value))


def test_integer_and_boolean_inputs_cannot_require_grad():
    with pytest.raises(DTypeError, match="floating-point"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(DTypeError, match="boolean"):
        cr.grad(lambda x: cnp.sum(x))(np.array([True, False]))
    assert cr.grad(lambda x: x * x)(3) == 6.0  # ints are promoted by the transforms


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_and_inf_inputs_propagate_like_numpy():
    values = np.array([np.nan, np.inf, -np.inf, 1.0])
    np.testing.assert_array_equal(cnp.sin(cr.tensor(values)).numpy(), np.sin(values))
    gradient = cr.grad(lambda x: cnp.sum(x * 2.0))(values)
    np.testing.assert_array_equal(gradient, [2.0, 2.0, 2.0, 2.0])
    assert np.isnan(cr.grad(cnp.sin)(np.nan))


@pytest.mark.parametrize("shape", [(0,), (3, 0)])
def test_empty_arrays_flow_through_forward_and_backward(shape):
    empty = np.zeros(shape)
    x = cr.tensor(empty, requires_grad=True)
    total = cnp.sum(cnp.tanh(x) * 2.0 + x)
    total.backward()
    assert float(total) == 0.0 and x.grad.shape == shape
    assert cr.grad(lambda v: cnp.sum(cnp.exp(v)))(empty).shape == shape
    _, tangent = cr.jvp(lambda v: cnp.sin(v) * v, (empty,), (empty,))
    assert tangent.shape == shape


def test_shapes_that_do_not_combine_get_a_shape_error():
    with pytest.raises(ShapeError, match=r"add\(\).*\[2\].*\[3\]"):
        cr.tensor([1.0, 2.0], requires_grad=True) + np.ones(3)
    with pytest.raises(ShapeError, match="matmul"):
        cnp.matmul(np.ones((3, 0)), np.ones((3, 0)))


def test_backward_gets_clear_errors_for_bad_seeds():
    y = cr.tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(NonScalarOutputError, match=r"shape \(2,\).*gradient"):
        y.backward()
    with pytest.raises(ShapeError, match="must match"):
        y.backward(gradient=np.ones(3))
    with pytest.raises(InputTypeError):
        y.backward(gradient="ones")
    with pytest.raises(NonScalarOutputError, match="jacrev"):
        cr.grad(lambda x: x * 2.0)(np.ones(2))


def test_huge_arrays_are_refused_before_allocating():
    huge = (10**7, 10**7)  # 800 TB of float64
    with pytest.raises(MemoryError, match="allocate"):
        cnp.zeros(huge)
    with pytest.raises(MemoryError):
        cr.tensor(np.broadcast_to(np.float64(1.0), huge))
    view = cnp.broadcast_to(cr.tensor(1.0, requires_grad=True), huge)  # a view: no allocation
    assert view.shape == huge
    with pytest.raises(MemoryError):
        view + 1.0


def test_check_allocation_names_sizes_and_the_fix():
    from chainrule.errors import AllocationError
    from chainrule.reliability import check_allocation

    check_allocation((1000, 1000), np.float64, "zeros()")  # 8 MB is fine
    with pytest.raises(AllocationError, match=r"zeros\(\).*\(10000000, 10000000\).*TiB.*batches"):
        check_allocation((10**7, 10**7), np.float64, "zeros()")
    assert issubclass(AllocationError, MemoryError) and issubclass(AllocationError, ChainruleError)


# ----- property tests: broadcasting binary primitives against NumPy and finite differences -------
BINARY = {
    "add": (cnp.add, np.add),
    "subtract": (cnp.subtract, np.subtract),
    "multiply": (cnp.multiply, np.multiply),
    "maximum": (cnp.maximum, np.maximum),
    "arctan2": (cnp.arctan2, np.arctan2),
    "hypot": (cnp.hypot, np.hypot),
    "logaddexp": (cnp.logaddexp, np.logaddexp),
}

shape_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


def finite_difference_gradient(function, first, second, which, eps=1e-6):
    base = [first.copy(), second.copy()]
    gradient = np.zeros_like(base[which])
    for index in np.ndindex(base[which].shape):
        plus = [b.copy() for b in base]
        minus = [b.copy() for b in base]
        plus[which][index] += eps
        minus[which][index] -= eps
        gradient[index] = (function(*plus).sum() - function(*minus).sum()) / (2 * eps)
    return gradient


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(BINARY)), shapes=shape_pairs, seed=st.integers(0, 2**16))
def test_binary_primitives_broadcast_like_numpy_with_correct_gradients(name, shapes, seed):
    ours, numpys = BINARY[name]
    rng = np.random.default_rng(seed)
    first_shape, second_shape = shapes.input_shapes
    # Values away from ties (maximum) and from 0 (arctan2, hypot): the derivatives exist there.
    signs = rng.choice([-1.0, 1.0], size=first_shape)
    first = np.asarray(rng.uniform(0.5, 2.0, size=first_shape) * signs)
    second = np.asarray(rng.uniform(2.5, 4.0, size=second_shape))
    np.testing.assert_allclose(np.asarray(ours(first, second)), numpys(first, second), rtol=1e-12)

    def total(a, b):
        return cnp.sum(ours(a, b))

    gradients = cr.grad(total, argnums=(0, 1))(first, second)
    for which in (0, 1):
        expected = finite_difference_gradient(numpys, first, second, which)
        assert np.shape(gradients[which]) == (first_shape, second_shape)[which]
        np.testing.assert_allclose(gradients[which], expected, rtol=1e-5, atol=1e-7)


@settings(max_examples=20, deadline=None)
@given(
    name=st.sampled_from(["add", "multiply", "maximum"]),
    shapes=shape_pairs,
    dtypes=st.tuples(*[st.sampled_from([np.float32, np.float64])] * 2),
)
def test_binary_primitives_follow_numpy_dtype_promotion(name, shapes, dtypes):
    ours, numpys = BINARY[name]
    first = np.ones(shapes.input_shapes[0], dtype=dtypes[0])
    second = np.full(shapes.input_shapes[1], 2.0, dtype=dtypes[1])
    expected = numpys(first, second)
    result = ours(cr.tensor(first, requires_grad=True), cr.tensor(second))
    assert result.dtype == expected.dtype and result.shape == expected.shape
    gradient = cr.grad(lambda a: cnp.sum(ours(a, second)))(first)
    assert gradient.dtype == first.dtype and gradient.shape == first.shape
