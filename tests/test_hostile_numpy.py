"""Hostile input to chainrule.numpy's public composites: None, strings, object arrays, ragged
lists, complex numbers, empty arrays, NaN/inf and shapes too large for memory each give one of
chainrule's exceptions naming the function (never a bare NumPy error), or, where NumPy defines a
result (sum of nothing, NaN in, NaN out), NumPy's own result."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import (
    AllocationError,
    ChainruleError,
    DTypeError,
    InputTypeError,
    ShapeError,
)

VECTOR = np.array([0.5, -1.0, 2.0])
MATRIX = np.arange(6.0).reshape(2, 3)

# name -> how to call it with one hostile value `v` (the value takes the array's place).
CALLS = {
    "sum": lambda v: cnp.sum(v),
    "mean": lambda v: cnp.mean(v),
    "var": lambda v: cnp.var(v),
    "std": lambda v: cnp.std(v),
    "prod": lambda v: cnp.prod(v),
    "max": lambda v: cnp.max(v),
    "min": lambda v: cnp.min(v),
    "argmax": lambda v: cnp.argmax(v),
    "cumsum": lambda v: cnp.cumsum(v),
    "logsumexp": lambda v: cnp.logsumexp(v),
    "softmax": lambda v: cnp.softmax(v),
    "log_softmax": lambda v: cnp.log_softmax(v),
    "sigmoid": lambda v: cnp.sigmoid(v),
    "relu": lambda v: cnp.relu(v),
    "sort": lambda v: cnp.sort(v),
    "transpose": lambda v: cnp.transpose(v),
    "ravel": lambda v: cnp.ravel(v),
    "reshape": lambda v: cnp.reshape(v, (-1,)),
    "flip": lambda v: cnp.flip(v),
    "expand_dims": lambda v: cnp.expand_dims(v, 0),
    "tile": lambda v: cnp.tile(v, 2),
    "repeat": lambda v: cnp.repeat(v, 2),
    "pad": lambda v: cnp.pad(v, 1),
    "trace": lambda v: cnp.trace(v),
    "outer": lambda v: cnp.outer(v, VECTOR),
    "dot": lambda v: cnp.dot(v, v),
    "clip": lambda v: cnp.clip(v, 0.0, 1.0),
    "where": lambda v: cnp.where(v, 1.0, 0.0),
    "concatenate": lambda v: cnp.concatenate([v, v]),
    "stack": lambda v: cnp.stack([v, v]),
    "norm": lambda v: cnp.linalg.norm(v),
    "vector_norm": lambda v: cnp.linalg.vector_norm(v),
    "inv": lambda v: cnp.linalg.inv(v),
    "zeros_like": lambda v: cnp.zeros_like(v),
}

NOT_NUMBERS = {
    "None": None,
    "string": "abc",
    "object array": np.array([1.0, "a"], dtype=object),
    "ragged list": [[1.0, 2.0], [3.0]],
}

# Functions whose NumPy counterparts accept anything array-like (they only look at a shape or
# build a new array) are left out of the None/string rows.
SHAPE_ONLY = {"zeros_like"}


def assert_chainrule_error(error, expected, name):
    assert isinstance(error, expected), f"{type(error).__name__}: {error}"
    assert isinstance(error, ChainruleError) and type(error).__module__.startswith("chainrule")
    assert f"{name}" in str(error), f"the message does not name {name}(): {error}"


@pytest.mark.parametrize("kind", sorted(NOT_NUMBERS))
@pytest.mark.parametrize("name", sorted(set(CALLS) - SHAPE_ONLY))
def test_non_numeric_input_gets_an_input_type_error_naming_the_function(name, kind):
    with pytest.raises(ChainruleError) as caught:
        CALLS[name](NOT_NUMBERS[kind])
    assert_chainrule_error(caught.value, InputTypeError, name)
    assert isinstance(caught.value, TypeError)  # `except TypeError` still catches it


@pytest.mark.parametrize("name", ["softplus", "relu_grad", "sigmoid_grad", "max", "sort"])
def test_complex_input_where_unsupported_gets_a_dtype_error(name):
    value = np.array([1.0 + 2.0j, -3.0j])
    calls = {
        "softplus": lambda: cnp.softplus(value),
        "max": lambda: cnp.max(value),  # NumPy orders complex numbers; no derivative follows
        "sort": lambda: cnp.sort(value),
        "relu_grad": lambda: cr.grad(lambda x: cnp.sum(cnp.relu(x)))(value),
        "sigmoid_grad": lambda: cr.grad(lambda x: cnp.sum(cnp.sigmoid(x)))(value),
    }
    with pytest.raises(DTypeError, match="complex"):
        calls[name]()


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "flip", "transpose"])
def test_complex_input_numpy_supports_gives_numpy_result(name):
    value = np.array([1.0 + 2.0j, -3.0j, 0.5])
    np.testing.assert_allclose(CALLS[name](value), getattr(np, name)(value))


@pytest.mark.parametrize("name", ["var", "std", "tile", "repeat", "pad", "max", "softmax"])
def test_lists_of_numbers_are_accepted_like_numpy(name):
    values = [[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]]
    expected = {
        "tile": lambda: np.tile(values, 2),
        "repeat": lambda: np.repeat(values, 2),
        "pad": lambda: np.pad(values, 1),
        "softmax": lambda: np.exp(values) / np.exp(values).sum(axis=-1, keepdims=True),
    }.get(name, lambda: getattr(np, name)(values))
    np.testing.assert_allclose(CALLS[name](values), expected())


# ----- empty arrays: NumPy's results where it defines one, chainrule's error where it raises ----
EMPTY_RESULTS = {
    # name, shape, call, expected (from NumPy, or the closed form for composites NumPy lacks)
    "sum (0,)": ((0,), lambda v: cnp.sum(v), 0.0),
    "sum (3, 0) axis 1": ((3, 0), lambda v: cnp.sum(v, axis=1), np.zeros(3)),
    "prod (0,)": ((0,), lambda v: cnp.prod(v), 1.0),
    "max (3, 0) axis 0": ((3, 0), lambda v: cnp.max(v, axis=0), np.zeros(0)),
    "max initial": ((0,), lambda v: cnp.max(v, initial=-np.inf), -np.inf),
    "min initial (3, 0)": ((3, 0), lambda v: cnp.min(v, axis=1, initial=5.0), np.full(3, 5.0)),
    "logsumexp (0,)": ((0,), lambda v: cnp.logsumexp(v), -np.inf),  # log of an empty sum
    "logsumexp (3, 0)": ((3, 0), lambda v: cnp.logsumexp(v, axis=1), np.full(3, -np.inf)),
    "softmax (0,)": ((0,), lambda v: cnp.softmax(v), np.zeros(0)),
    "log_softmax (3, 0)": ((3, 0), lambda v: cnp.log_softmax(v), np.zeros((3, 0))),
    "cumsum (3, 0)": ((3, 0), lambda v: cnp.cumsum(v, axis=1), np.zeros((3, 0))),
    "norm (0,)": ((0,), lambda v: cnp.linalg.norm(v), 0.0),
    "concatenate (3, 0)": ((3, 0), lambda v: cnp.concatenate([v, v], axis=1), np.zeros((3, 0))),
    "stack (0,)": ((0,), lambda v: cnp.stack([v, v]), np.zeros((2, 0))),
    "tile (3, 0)": ((3, 0), lambda v: cnp.tile(v, 2), np.zeros((3, 0))),
    "repeat (0,)": ((0,), lambda v: cnp.repeat(v, 3), np.zeros(0)),
}


@pytest.mark.parametrize("case", sorted(EMPTY_RESULTS))
def test_empty_input_gives_numpy_result(case):
    shape, call, expected = EMPTY_RESULTS[case]
    result = call(np.zeros(shape))
    assert np.shape(result) == np.shape(expected)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("shape", [(0,), (3, 0)])
def test_mean_var_std_of_nothing_are_nan_like_numpy(shape):
    empty = np.zeros(shape)
    for name in ("mean", "var", "std"):
        assert np.isnan(getattr(cnp, name)(empty))
        np.testing.assert_array_equal(
            getattr(cnp, name)(empty, axis=-1), getattr(np, name)(empty, axis=-1)
        )


EMPTY_ERRORS = {
    "max": lambda v: cnp.max(v),
    "min": lambda v: cnp.min(v),
    "amax": lambda v: cnp.amax(v, axis=-1),
    "argmax": lambda v: cnp.argmax(v),
    "argmin": lambda v: cnp.argmin(v, axis=-1),
    "concatenate": lambda v: cnp.concatenate(list(v[:0])),
    "stack": lambda v: cnp.stack([]),
    "vector_norm": lambda v: cnp.linalg.vector_norm(v, ord=np.inf),
}


@pytest.mark.parametrize("shape", [(0,), (3, 0)])
@pytest.mark.parametrize("name", sorted(EMPTY_ERRORS))
def test_reductions_numpy_refuses_on_empty_input_get_a_shape_error(name, shape):
    with pytest.raises(ShapeError) as caught:
        EMPTY_ERRORS[name](np.zeros(shape))
    assert_chainrule_error(caught.value, ShapeError, name)
    assert "empty" in str(caught.value)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) = -inf is the intended value
def test_gradients_through_empty_reductions_have_the_input_shape():
    empty = np.zeros((3, 0))
    assert cr.grad(lambda x: cnp.sum(cnp.logsumexp(x, axis=1)) * 0.0)(empty).shape == (3, 0)
    assert cr.grad(lambda x: cnp.sum(cnp.softmax(x) ** 2))(empty).shape == (3, 0)


# ----- NaN and inf propagate as in NumPy ---------------------------------------------------------
NON_FINITE = np.array([[np.nan, 1.0, 2.0], [np.inf, 0.0, -1.0], [-np.inf, 3.0, 4.0]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "min", "prod", "cumsum"])
def test_nan_and_inf_propagate_like_numpy(name):
    for axis in (None, 0, 1):
        np.testing.assert_array_equal(
            getattr(cnp, name)(NON_FINITE, axis=axis), getattr(np, name)(NON_FINITE, axis=axis)
        )


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_rows_of_logsumexp_and_softmax():
    # Row by row: a NaN row stays NaN; +inf dominates (logsumexp inf, softmax NaN as in
    # exp(inf - inf)); -inf contributes exp(-inf) = 0.
    expected = [np.nan, np.inf, np.log(np.exp(3.0) + np.exp(4.0))]
    np.testing.assert_allclose(cnp.logsumexp(NON_FINITE, axis=1), expected)
    probabilities = cnp.softmax(NON_FINITE, axis=1)
    assert np.isnan(probabilities[0]).all()
    np.testing.assert_allclose(probabilities[2], [0.0, 1 / (1 + np.e), np.e / (1 + np.e)])
    row = np.array([-np.inf, -np.inf])
    assert cnp.logsumexp(row) == -np.inf


# ----- shapes: bad shapes, bad axes, shapes too large for memory ---------------------------------
BAD_SHAPES = {
    "None": (None, InputTypeError),
    "string": ("3", InputTypeError),
    "float": (2.5, InputTypeError),
    "ragged": ([[2], [3, 4]], InputTypeError),
    "negative": ((3, -2), ShapeError),
}
CREATORS = {
    "zeros": lambda shape: cnp.zeros(shape),
    "ones": lambda shape: cnp.ones(shape),
    "empty": lambda shape: cnp.empty(shape),
    "full": lambda shape: cnp.full(shape, 1.5),
    "zeros_like": lambda shape: cnp.zeros_like(VECTOR, shape=shape),
    "reshape": lambda shape: cnp.reshape(VECTOR, shape),
}


@pytest.mark.parametrize("bad", sorted(BAD_SHAPES))
@pytest.mark.parametrize("name", sorted(CREATORS))
def test_bad_shapes_get_chainrule_errors(name, bad):
    shape, expected = BAD_SHAPES[bad]
    if name == "zeros_like" and shape is None:  # shape=None means "the input's shape"
        np.testing.assert_array_equal(CREATORS[name](shape), np.zeros(3))
        return
    with pytest.raises(ChainruleError) as caught:
        CREATORS[name](shape)
    assert_chainrule_error(caught.value, expected, name)


HUGE = (10**7, 10**7)  # 800 TB of float64


@pytest.mark.parametrize(
    "name, call",
    [
        ("zeros", lambda: cnp.zeros(HUGE)),
        ("ones", lambda: cnp.ones(HUGE, dtype=np.float32)),
        ("empty", lambda: cnp.empty(HUGE)),
        ("full", lambda: cnp.full(HUGE, 2.0)),
        ("ones_like", lambda: cnp.ones_like(VECTOR, shape=HUGE)),
        ("tile", lambda: cnp.tile(VECTOR, (10**7, 10**7))),
        ("repeat", lambda: cnp.repeat(VECTOR, 10**14)),
        ("pad", lambda: cnp.pad(MATRIX, 10**7)),
    ],
)
def test_huge_outputs_are_refused_before_allocating(name, call):
    with pytest.raises(AllocationError) as caught:
        call()
    message = str(caught.value)
    assert isinstance(caught.value, MemoryError)
    assert message.startswith(f"{name}()") and "allocate" in message
    assert "iB" in message  # the bytes it would need, in human units


def test_broadcast_to_a_huge_shape_is_a_view_and_allowed():
    view = cnp.broadcast_to(1.0, HUGE)
    assert view.shape == HUGE and view.strides == (0, 0)


BAD_AXES = {
    "sum": lambda: cnp.sum(MATRIX, axis=2),
    "mean": lambda: cnp.mean(MATRIX, axis=-3),
    "softmax": lambda: cnp.softmax(MATRIX, axis=5),
    "logsumexp": lambda: cnp.logsumexp(MATRIX, axis=(0, 0)),
    "concatenate": lambda: cnp.concatenate([MATRIX, MATRIX], axis=2),
    "moveaxis": lambda: cnp.moveaxis(MATRIX, (0, 1), 0),
    "take": lambda: cnp.take(MATRIX, [0], axis=3),
    "norm": lambda: cnp.linalg.norm(MATRIX, axis=(0, 1, 1)),
}


@pytest.mark.parametrize("name", sorted(BAD_AXES))
def test_bad_axes_get_a_shape_error(name):
    with pytest.raises(ShapeError) as caught:
        BAD_AXES[name]()
    assert_chainrule_error(caught.value, ShapeError, name)


MISMATCHED = {
    "concatenate": lambda: cnp.concatenate([MATRIX, VECTOR]),
    "stack": lambda: cnp.stack([MATRIX, VECTOR]),
    "where": lambda: cnp.where([[True, False]], VECTOR, np.ones(2)),
    "dot": lambda: cnp.dot(MATRIX, MATRIX),
    "outer": lambda: cnp.outer(MATRIX, "a"),
    "tensordot": lambda: cnp.tensordot(MATRIX, MATRIX, axes=1),
    "solve": lambda: cnp.linalg.solve(np.eye(3), np.ones(2)),
}


@pytest.mark.parametrize("name", sorted(MISMATCHED))
def test_arguments_that_do_not_fit_together_get_chainrule_errors(name):
    with pytest.raises(ChainruleError) as caught:
        MISMATCHED[name]()
    assert type(caught.value).__module__.startswith("chainrule")
    assert name in str(caught.value)
    assert isinstance(caught.value, (ShapeError, InputTypeError))


def test_traced_inputs_get_the_same_errors():
    x = cr.tensor(MATRIX, requires_grad=True)
    with pytest.raises(ShapeError, match="softmax"):
        cnp.softmax(x, axis=4)
    with pytest.raises(ShapeError, match="max.*empty"):
        cnp.max(cr.tensor(np.zeros(0), requires_grad=True))
    with pytest.raises(InputTypeError, match="concatenate"):
        cnp.concatenate([x, None])
    with pytest.raises(ShapeError, match="logsumexp"):
        cr.grad(lambda v: cnp.logsumexp(v, axis=3))(MATRIX)


def test_numpy_dispatch_gives_chainrule_errors_too():
    x = cr.tensor(np.zeros(0), requires_grad=True)
    with pytest.raises(ShapeError, match="max"):
        np.max(x)
    assert float(np.sum(x)) == 0.0
