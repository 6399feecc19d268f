"""The Tensor API as a PyTorch or NumPy user meets it: operators, indexing, methods, conversions.

Expected values come from NumPy on plain arrays or from derivatives worked out by hand.
"""

import operator

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import ShapeError

X_VALUES = np.array([[0.5, -1.5, 2.0], [1.25, 3.0, -0.75]])
Y_VALUES = np.array([[1.5, 2.0, -0.5], [0.25, 1.75, 2.5]])


def leaf(values):
    return cr.tensor(np.array(values, dtype=float), requires_grad=True)


def grad_of(function, values):
    """d sum(function(x)) / dx through the Tensor API."""
    x = leaf(values)
    function(x).sum().backward()
    return x.grad.numpy()


# ----- arithmetic: values and gradients, both operand orders -------------------------------------
# (operator, d(x op y)/dx, d(x op y)/dy), elementwise, by hand.
BINARY = {
    "add": (operator.add, lambda x, y: np.ones_like(x), lambda x, y: np.ones_like(y)),
    "sub": (operator.sub, lambda x, y: np.ones_like(x), lambda x, y: -np.ones_like(y)),
    "mul": (operator.mul, lambda x, y: y, lambda x, y: x),
    "truediv": (operator.truediv, lambda x, y: 1 / y, lambda x, y: -x / y**2),
    "floordiv": (operator.floordiv, lambda x, y: 0 * x, lambda x, y: 0 * y),
    "mod": (operator.mod, lambda x, y: np.ones_like(x), lambda x, y: -np.floor(x / y)),
    "pow": (operator.pow, lambda x, y: y * x ** (y - 1), lambda x, y: np.log(x) * x**y),
}


@pytest.mark.parametrize("name", BINARY)
def test_binary_operator_between_tensors(name):
    op, d_first, d_second = BINARY[name]
    x_values = np.abs(X_VALUES) + 0.1 if name == "pow" else X_VALUES
    x, y = leaf(x_values), leaf(Y_VALUES)
    out = op(x, y)
    np.testing.assert_allclose(out.numpy(), op(x_values, Y_VALUES))
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), d_first(x_values, Y_VALUES))
    np.testing.assert_allclose(y.grad.numpy(), d_second(x_values, Y_VALUES))


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize(
    "constant",
    [2.5, 3, np.float64(2.5), np.float32(2.5), np.full((2, 3), 1.5), np.array(2.5),
     [1.5, 2.5, 0.5]],
    ids=["float", "int", "np.float64", "np.float32", "ndarray", "0-d ndarray", "list"],
)
def test_binary_operator_with_a_constant_on_either_side(name, constant):
    op, d_first, d_second = BINARY[name]
    x_values = np.abs(X_VALUES) + 0.1
    c = np.asarray(constant, dtype=float)
    for on_left in (False, True):
        x = leaf(x_values)
        out = op(constant, x) if on_left else op(x, constant)
        assert isinstance(out, cr.Tensor), f"{type(constant).__name__} {name} did not record"
        expected = op(c, x_values) if on_left else op(x_values, c)
        np.testing.assert_allclose(out.numpy(), expected)
        out.sum().backward()
        expected_grad = d_second(c, x_values) if on_left else d_first(x_values, c)
        np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(expected_grad, x_values.shape))


def test_ndarray_on_the_left_records_like_pytorch():
    x = leaf([1.0, 2.0, 3.0])
    out = np.ones(3) * x
    assert isinstance(out, cr.Tensor) and out.grad_fn is not None
    (np.arange(3.0) + np.float64(2) * x - np.array(1.0) / x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2.0 + 1.0 / np.array([1.0, 2.0, 3.0]) ** 2)


def test_matmul_and_reflected_matmul():
    a = leaf(X_VALUES)
    b = leaf(Y_VALUES.T)
    out = a @ b
    np.testing.assert_allclose(out.numpy(), X_VALUES @ Y_VALUES.T)
    out.sum().backward()
    # d sum(A B) / dA = 1 B^T, d / dB = A^T 1
    np.testing.assert_allclose(a.grad.numpy(), np.ones((2, 2)) @ Y_VALUES)
    np.testing.assert_allclose(b.grad.numpy(), X_VALUES.T @ np.ones((2, 2)))
    c = leaf(X_VALUES)
    (np.ones((4, 2)) @ c).sum().backward()
    np.testing.assert_allclose(c.grad.numpy(), np.full((2, 3), 4.0))
    v = leaf([1.0, -2.0, 0.5])
    np.testing.assert_allclose((v @ v).numpy(), 5.25)
    (v @ v).backward()
    np.testing.assert_allclose(v.grad.numpy(), [2.0, -4.0, 1.0])


def test_unary_negation_abs_and_pos():
    np.testing.assert_allclose(grad_of(lambda x: -x, X_VALUES), -np.ones((2, 3)))
    np.testing.assert_allclose(grad_of(lambda x: abs(x), X_VALUES), np.sign(X_VALUES))
    np.testing.assert_allclose(grad_of(lambda x: x.abs(), X_VALUES), np.sign(X_VALUES))
    np.testing.assert_allclose(abs(leaf(X_VALUES)).numpy(), np.abs(X_VALUES))
    np.testing.assert_allclose((+leaf(X_VALUES)).numpy(), X_VALUES)


def test_python_scalar_keeps_a_float32_tensor_float32():
    x = cr.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for out in (x + 1.5, 2 * x, x / 3.0, x**2, 1.0 - x, x % 0.7, 2.0**x):
        assert out.dtype == np.float32


# ----- comparisons -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "op", [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]
)
def test_comparisons_give_boolean_tensors_that_are_not_differentiable(op):
    x, y = leaf(X_VALUES), leaf(Y_VALUES)
    for out, expected in ((op(x, y), op(X_VALUES, Y_VALUES)), (op(x, 1.0), op(X_VALUES, 1.0)),
                          (op(Y_VALUES, x), op(Y_VALUES, X_VALUES))):
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), expected)


def test_boolean_results_combine_with_logical_operators():
    x = leaf([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(((x > 0) & (x < 1)).numpy(), [False, True, False])
    np.testing.assert_array_equal(((x < 0) | (x > 1)).numpy(), [True, False, True])
    np.testing.assert_array_equal((~(x > 0)).numpy(), [True, False, False])


# ----- indexing ----------------------------------------------------------------------------------
INDEXES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, None),
    "step slice": (slice(None), slice(None, None, 2)),
    "tuple": (1, 2),
    "ellipsis and None": (Ellipsis, None, 1),
    "int list with repeats": [1, 1, 0],
    "int array pair": (np.array([0, 1, 1]), np.array([2, 0, 2])),
    "boolean mask": X_VALUES > 0.6,
    "boolean row mask": np.array([True, False]),
    "mixed slice and array": (slice(None), np.array([2, 2, 0])),
}


@pytest.mark.parametrize("index", INDEXES.values(), ids=INDEXES.keys())
def test_getitem_values_and_gradients_match_numpy(index):
    x = leaf(X_VALUES)
    out = x[index]
    np.testing.assert_array_equal(out.numpy(), X_VALUES[index])
    weights = np.arange(1.0, out.size + 1.0).reshape(out.shape)
    (out * weights).sum().backward()
    expected = np.zeros_like(X_VALUES)
    np.add.at(expected, index, weights)  # what d/dx sum(w * x[index]) is, repeats adding up
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_tensor_indices_act_like_their_values():
    x = leaf(X_VALUES)
    rows, cols = cr.tensor([1, 0]), cr.tensor([2, 2])
    np.testing.assert_array_equal(x[rows, cols].numpy(), X_VALUES[[1, 0], [2, 2]])
    np.testing.assert_array_equal(x[x > 0.6].numpy(), X_VALUES[X_VALUES > 0.6])
    x[cr.tensor(np.array([1, 1]))].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0] * 3, [2.0] * 3])


def test_indexing_a_0d_result_and_out_of_range():
    x = leaf([1.0, 2.0])
    assert x[0].shape == ()
    with pytest.raises(IndexError, match="getitem"):
        x[5]


# ----- array facts -------------------------------------------------------------------------------
def test_shape_ndim_size_dtype_len_iter_and_T():
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.size == 24
    assert x.dtype == np.float64
    assert len(x) == 2
    rows = list(x)
    assert len(rows) == 2 and all(isinstance(r, cr.Tensor) for r in rows)
    np.testing.assert_array_equal(rows[1].numpy(), np.arange(12.0, 24.0).reshape(3, 4))
    assert x.T.shape == (4, 3, 2)
    np.testing.assert_array_equal(x.T.numpy(), np.arange(24.0).reshape(2, 3, 4).T)
    assert cr.tensor(1.0).shape == () and cr.tensor(1.0).ndim == 0 and cr.tensor(1.0).size == 1


def test_iterating_records_each_row():
    x = leaf([1.0, 2.0, 3.0])
    total = sum(row * row for row in x)
    total.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_len_and_iter_of_a_0d_tensor_fail_at_once():
    x = cr.tensor(1.0)
    with pytest.raises(TypeError, match="0-d"):
        len(x)
    with pytest.raises(TypeError, match="0-d"):
        iter(x)


# ----- methods -----------------------------------------------------------------------------------
A = np.array([[[0.3, -1.2, 0.8, 1.9], [-0.45, 0.6, -2.1, 1.05], [1.4, -0.7, 0.2, -0.15]],
              [[0.9, 1.1, -0.35, 0.5], [2.2, -1.6, 0.75, -0.4], [0.1, 1.3, -0.9, 0.65]]])

METHODS = {
    "sum": (lambda t: t.sum(), lambda a: a.sum()),
    "sum axis": (lambda t: t.sum(axis=1), lambda a: a.sum(axis=1)),
    "sum tuple keepdims": (lambda t: t.sum(axis=(0, 2), keepdims=True),
                           lambda a: a.sum(axis=(0, 2), keepdims=True)),
    "mean": (lambda t: t.mean(), lambda a: a.mean()),
    "mean axis -1": (lambda t: t.mean(axis=-1), lambda a: a.mean(axis=-1)),
    "prod axis": (lambda t: t.prod(axis=2), lambda a: a.prod(axis=2)),
    "max": (lambda t: t.max(), lambda a: a.max()),
    "max axis keepdims": (lambda t: t.max(axis=1, keepdims=True),
                          lambda a: a.max(axis=1, keepdims=True)),
    "min axis": (lambda t: t.min(axis=0), lambda a: a.min(axis=0)),
    "var": (lambda t: t.var(), lambda a: a.var()),
    "var axis ddof": (lambda t: t.var(axis=2, ddof=1), lambda a: a.var(axis=2, ddof=1)),
    "std axis": (lambda t: t.std(axis=0), lambda a: a.std(axis=0)),
    "cumsum": (lambda t: t.cumsum(axis=2), lambda a: a.cumsum(axis=2)),
    "cumsum flat": (lambda t: t.cumsum(), lambda a: a.cumsum()),
    "reshape tuple": (lambda t: t.reshape((4, 6)), lambda a: a.reshape((4, 6))),
    "reshape args": (lambda t: t.reshape(6, -1), lambda a: a.reshape(6, -1)),
    "transpose": (lambda t: t.transpose(), lambda a: a.transpose()),
    "transpose args": (lambda t: t.transpose(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    "transpose tuple": (lambda t: t.transpose((2, 0, 1)), lambda a: a.transpose((2, 0, 1))),
    "clip": (lambda t: t.clip(-0.55, 0.45), lambda a: a.clip(-0.55, 0.45)),
    "clip min only": (lambda t: t.clip(0.0), lambda a: a.clip(0.0)),
    "clip max keyword": (lambda t: t.clip(max=0.4), lambda a: a.clip(max=0.4)),
    "astype float32": (lambda t: t.astype(np.float32), lambda a: a.astype(np.float32)),
    "flatten": (lambda t: t.flatten(), lambda a: a.flatten()),
    "ravel": (lambda t: t.ravel(), lambda a: a.ravel()),
    "squeeze": (lambda t: t[:1].squeeze(), lambda a: a[:1].squeeze()),
    "swapaxes": (lambda t: t.swapaxes(0, 2), lambda a: a.swapaxes(0, 2)),
    "dot": (lambda t: t.dot(np.ones(4)), lambda a: a.dot(np.ones(4))),
}


@pytest.mark.parametrize("method, reference", METHODS.values(), ids=METHODS.keys())
def test_method_values_match_ndarray_methods(method, reference):
    out = method(leaf(A))
    expected = reference(A)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    rtol = 1e-6 if out.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.numpy(), expected, rtol=rtol)


# astype(float32) is left out: float32 rounding swamps central differences (checked by hand below).
DIFFERENTIABLE_METHODS = {k: m for k, (m, _) in METHODS.items() if k != "astype float32"}


@pytest.mark.parametrize(
    "method", DIFFERENTIABLE_METHODS.values(), ids=DIFFERENTIABLE_METHODS.keys()
)
def test_method_gradients_match_finite_differences(method):
    assert cr.gradcheck(method, A)


def test_method_gradients_by_hand():
    np.testing.assert_allclose(grad_of(lambda x: x.mean(), A), np.full(A.shape, 1 / 24))
    x = leaf([1.0, 5.0, 3.0])
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
    x = leaf([2.0, 3.0, 4.0])
    x.prod().backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 8.0, 6.0])
    x = leaf([1.0, 2.0, 3.0])
    x.var().backward()  # d/dx_i mean((x - mean)^2) = 2 (x_i - mean) / n
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.array([1.0, 2.0, 3.0]) - 2.0) / 3)
    x = leaf([1.0, 2.0, 3.0])
    x.cumsum().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 2.0, 1.0])
    x = leaf([-2.0, 0.5, 2.0])
    x.clip(-1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


def test_argmax_argmin_are_plain_integer_results():
    x = leaf(A)
    for name in ("argmax", "argmin"):
        for axis in (None, 1, -1):
            out = getattr(x, name)(axis=axis)
            assert not out.requires_grad
            np.testing.assert_array_equal(np.asarray(out), getattr(A, name)(axis=axis))


def test_astype_keeps_gradients_in_the_input_dtype():
    x = leaf([1.0, 2.0])
    y = x.astype(np.float32)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


# ----- conversions -------------------------------------------------------------------------------
def test_detach_numpy_item_float_int():
    x = leaf([1.5, -2.5])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    np.testing.assert_array_equal(d.numpy(), [3.0, -5.0])
    array = x.numpy()
    assert isinstance(array, np.ndarray) and not array.flags.writeable
    s = y.sum()
    assert s.item() == -2.0 and isinstance(s.item(), float)
    assert float(s) == -2.0 and int(cr.tensor(3.7)) == 3
    assert cr.tensor([7]).item() == 7 and isinstance(cr.tensor([7]).item(), int)
    assert y.tolist() == [3.0, -5.0]


def test_item_of_many_elements_says_why():
    with pytest.raises(ShapeError, match="item.*shape \\(2,\\)"):
        cr.tensor([1.0, 2.0]).item()


def test_array_protocol_gives_the_value_of_a_constant():
    x = cr.tensor([1.0, 2.0])
    array = np.asarray(x)
    assert type(array) is np.ndarray
    np.testing.assert_array_equal(array, [1.0, 2.0])
    assert np.asarray(x, dtype=np.float32).dtype == np.float32
    copied = np.array(x)
    copied[0] = 9.0  # a copy: the tensor does not change
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_tensor_copies_its_data_and_as_tensor_shares_it():
    data = np.array([1.0, 2.0])
    copied, shared = cr.tensor(data), cr.as_tensor(data)
    data[0] = 5.0
    assert copied.numpy()[0] == 1.0 and shared.numpy()[0] == 5.0


def test_tensor_from_a_tensor_is_a_fresh_leaf():
    x = leaf([1.0, 2.0])
    y = cr.tensor(x * 2, requires_grad=True)
    assert y.grad_fn is None and y.requires_grad
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


# ----- repr --------------------------------------------------------------------------------------
def test_repr_reads_like_pytorch():
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(cr.tensor(3.0, requires_grad=True)) == "tensor(3., requires_grad=True)"
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(cr.tensor([1.0], dtype=np.float32)) == "tensor([1.], dtype=float32)"
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<multiply>)"
    assert repr(cr.tensor([[1.0, 2.0], [3.0, 4.0]])) == "tensor([[1., 2.],\n        [3., 4.]])"


# ----- in-place ----------------------------------------------------------------------------------
def test_inplace_on_an_intermediate_records():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    y += x  # 2x
    y *= x  # 2x^2
    y -= 1.0
    y /= 2.0  # x^2 - 1/2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_setitem_on_an_intermediate_records():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 1.0
    y[1] = 10.0
    (y * x).sum().backward()  # y = [x0, 10, x2]: gradient [2 x0, 10, 2 x2]
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 10.0, 6.0])


def test_inplace_on_a_leaf_needs_no_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        x += 1.0
    with pytest.raises(RuntimeError, match="no_grad"):
        x[0] = 1.0
    with cr.no_grad():
        x -= 0.5
        x[1] = 7.0
    np.testing.assert_array_equal(x.numpy(), [0.5, 7.0])
    assert x.requires_grad and x.grad_fn is None


# ----- Python protocols --------------------------------------------------------------------------
def test_format_round_and_divmod():
    assert f"{cr.tensor(2.567, requires_grad=True):.2f}" == "2.57"
    assert f"{cr.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
    rounded = round(cr.tensor([2.567, -1.44]), 1)
    np.testing.assert_allclose(rounded.numpy(), [2.6, -1.4])
    quotient, remainder = divmod(cr.tensor([7.0, -7.0]), 2.0)
    np.testing.assert_array_equal(quotient.numpy(), [3.0, -4.0])
    np.testing.assert_array_equal(remainder.numpy(), [1.0, 1.0])
    quotient, remainder = divmod(7.0, cr.tensor([2.0]))
    assert quotient.item() == 3.0 and remainder.item() == 1.0


def test_deepcopy_and_pickle_keep_value_requires_grad_and_grad():
    import copy
    import pickle

    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    for clone in (copy.deepcopy(x), pickle.loads(pickle.dumps(x))):
        assert clone.requires_grad and clone.is_leaf
        np.testing.assert_array_equal(clone.numpy(), [1.0, 2.0])
        np.testing.assert_array_equal(clone.grad.numpy(), [2.0, 4.0])
        assert not np.shares_memory(clone.numpy(), x.numpy())
        clone.grad = None
        (clone * 3.0).sum().backward()  # the clone is a working leaf of its own
        np.testing.assert_array_equal(clone.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    computed = pickle.loads(pickle.dumps(x * 2.0))
    assert computed.is_leaf and computed.requires_grad
    np.testing.assert_array_equal(computed.numpy(), [2.0, 4.0])


def test_values_traced_in_a_transform_cannot_be_pickled():
    import pickle

    with pytest.raises(TypeError, match="transform"):
        cr.grad(lambda x: pickle.dumps(x) and x.sum())(np.ones(2))


def test_the_documented_example():
    # README.md, "The Tensor API": the values printed there, checked by hand here.
    w = cr.tensor(np.full((4, 3), 0.1), requires_grad=True)
    b = cr.tensor(np.zeros(3), requires_grad=True)
    inputs = np.arange(8.0).reshape(2, 4) / 8
    logits = np.tanh(inputs @ w + b)
    loss = -cr.numpy.log_softmax(logits, axis=1)[:, 0].mean()
    loss.backward()
    # Equal columns: every logit row is constant, so log_softmax = -log 3 everywhere.
    np.testing.assert_allclose(loss.item(), np.log(3.0))
    # d loss / d logits[r, k] = -(1{k=0} - 1/3) / 2; chain through tanh' = 1 - tanh^2.
    slope = 1 - np.tanh(inputs.sum(axis=1) * 0.1) ** 2
    expected_b = np.array([-(2 / 3), 1 / 3, 1 / 3]) / 2 * slope.sum()
    np.testing.assert_allclose(b.grad.numpy(), expected_b)
    with cr.no_grad():
        w -= 0.1 * w.grad
    assert w.requires_grad and w.grad_fn is None
