"""NumPy's own functions on Tensors (NEP-13 ufuncs, NEP-18 array functions) record onto the graph.

Each function is called as `np.<name>(tensor, ...)`; its gradient through `.backward()` is
compared with central finite differences of the very same NumPy call on plain arrays.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import UnsupportedFunctionError

RNG = np.random.default_rng(7)
X = np.array([[0.3, -1.2, 0.8, 1.9], [-0.45, 0.6, -2.1, 1.05], [1.4, -0.7, 0.2, -0.15]])
POSITIVE = np.abs(X) + 0.25
UNIT = X / 2.5
OTHER = RNG.standard_normal((3, 4))


def numeric_gradient(function, x, weights, eps=1e-6):
    """d sum(weights * function(x)) / dx by central differences, on plain NumPy."""
    gradient = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        plus = np.sum(weights * np.asarray(function(x + step)))
        minus = np.sum(weights * np.asarray(function(x - step)))
        gradient[index] = (plus - minus) / (2 * eps)
    return gradient


def _outputs(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


# (label, function of one array, input)
DISPATCHED = [
    ("np.sin", np.sin, X),
    ("np.cos", np.cos, X),
    ("np.tan", np.tan, UNIT),
    ("np.exp", np.exp, X),
    ("np.log", np.log, POSITIVE),
    ("np.log1p", np.log1p, POSITIVE),
    ("np.sqrt", np.sqrt, POSITIVE),
    ("np.tanh", np.tanh, X),
    ("np.arctan", np.arctan, X),
    ("np.arcsin", np.arcsin, UNIT),
    ("np.square", np.square, X),
    ("np.abs", np.abs, X),
    ("np.negative", np.negative, X),
    ("np.reciprocal", np.reciprocal, POSITIVE),
    ("np.power", lambda x: np.power(x, 3), X),
    ("np.power exponent", lambda x: np.power(2.0, x), X),
    ("np.maximum", lambda x: np.maximum(x, 0.1), X),
    ("np.minimum tensor pair", lambda x: np.minimum(x, x[::-1]), X),
    ("np.hypot", lambda x: np.hypot(x, OTHER), X),
    ("np.arctan2", lambda x: np.arctan2(x, POSITIVE), X),
    ("np.logaddexp", lambda x: np.logaddexp(x, OTHER), X),
    ("np.add ndarray first", lambda x: np.add(OTHER, x), X),
    ("np.divide", lambda x: np.divide(OTHER, x), POSITIVE),
    ("np.sum", np.sum, X),
    ("np.sum axis 0", lambda x: np.sum(x, axis=0), X),
    ("np.sum axis -1 keepdims", lambda x: np.sum(x, axis=-1, keepdims=True), X),
    ("np.sum axis tuple", lambda x: np.sum(x, axis=(0, 1)), X),
    ("np.mean", np.mean, X),
    ("np.mean axis", lambda x: np.mean(x, axis=1), X),
    ("np.var", np.var, X),
    ("np.var axis ddof", lambda x: np.var(x, axis=0, ddof=1), X),
    ("np.std", np.std, X),
    ("np.std axis keepdims", lambda x: np.std(x, axis=1, keepdims=True), X),
    ("np.prod", lambda x: np.prod(x, axis=0), X),
    ("np.max", lambda x: np.max(x, axis=1), X),
    ("np.min", np.min, X),
    ("np.cumsum", lambda x: np.cumsum(x, axis=1), X),
    ("np.cumprod", lambda x: np.cumprod(x, axis=0), X),
    ("np.where", lambda x: np.where(X > 0, x, 0), X),
    ("np.where both branches", lambda x: np.where(X > 0, x, x * x), X),
    ("np.clip", lambda x: np.clip(x, -1.0, 1.0), X),
    ("np.concatenate", lambda x: np.concatenate([x, 2 * x]), X),
    ("np.concatenate axis 1", lambda x: np.concatenate([x, OTHER], axis=1), X),
    ("np.stack", lambda x: np.stack([x, x * x], axis=1), X),
    ("np.hstack", lambda x: np.hstack([x, x]), X),
    ("np.vstack", lambda x: np.vstack([x, x[0]]), X),
    ("np.reshape", lambda x: np.reshape(x, (2, 6)), X),
    ("np.transpose", np.transpose, X),
    ("np.swapaxes", lambda x: np.swapaxes(x, 0, 1), X),
    ("np.moveaxis", lambda x: np.moveaxis(x[None], 0, -1), X),
    ("np.expand_dims", lambda x: np.expand_dims(x, 1), X),
    ("np.squeeze", lambda x: np.squeeze(x[:, :1]), X),
    ("np.ravel", np.ravel, X),
    ("np.flip", lambda x: np.flip(x, 1), X),
    ("np.roll", lambda x: np.roll(x, 1, axis=1), X),
    ("np.tile", lambda x: np.tile(x, (1, 2)), X),
    ("np.repeat", lambda x: np.repeat(x, 2, axis=1), X),
    ("np.pad", lambda x: np.pad(x, 1), X),
    ("np.split", lambda x: np.split(x, 2, axis=1), X),
    ("np.broadcast_to", lambda x: np.broadcast_to(x[0], (5, 4)), X),
    ("np.take", lambda x: np.take(x, [0, 3, 3], axis=1), X),
    ("np.take_along_axis", lambda x: np.take_along_axis(x, np.argsort(X, axis=1), 1), X),
    ("np.sort", lambda x: np.sort(x, axis=1), X),
    ("np.triu", np.triu, X),
    ("np.tril", lambda x: np.tril(x, -1), X),
    ("np.diagonal", np.diagonal, X),
    ("np.trace", np.trace, X),
    ("np.dot", lambda x: np.dot(x, OTHER.T), X),
    ("np.matmul", lambda x: np.matmul(OTHER.T, x), X),
    ("np.tensordot", lambda x: np.tensordot(x, OTHER, axes=([0], [0])), X),
    ("np.outer", lambda x: np.outer(x[0], x[1]), X),
    ("np.inner", lambda x: np.inner(x, OTHER), X),
    ("np.vdot", lambda x: np.vdot(x, OTHER), X),
    ("np.copy", np.copy, X),
]


@pytest.mark.parametrize("label, function, values", DISPATCHED, ids=[d[0] for d in DISPATCHED])
def test_numpy_function_on_a_tensor_records_and_differentiates(label, function, values):
    x = cr.tensor(values, requires_grad=True)
    results = _outputs(function(x))
    expected = _outputs(function(values))
    rng = np.random.default_rng(1)
    weights = []
    total = 0.0
    for result, want in zip(results, expected, strict=True):
        assert isinstance(result, cr.Tensor), f"{label} returned {type(result).__name__}"
        assert result.requires_grad and result.grad_fn is not None, f"{label} did not record"
        np.testing.assert_allclose(result.numpy(), want, rtol=1e-12, atol=1e-12)
        weight = rng.standard_normal(np.shape(want))
        weights.append(weight)
        total = total + (result * weight).sum()
    total.backward()

    def weighted(array):
        return sum(np.sum(w * r) for w, r in zip(weights, _outputs(function(array)), strict=True))

    numeric = numeric_gradient(weighted, values, 1.0)
    np.testing.assert_allclose(x.grad.numpy(), numeric, rtol=1e-5, atol=1e-7)


def test_the_issue_example_runs():
    w = cr.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    loss = np.tanh(np.ones((5, 4)) @ w).sum()
    loss.backward()
    # d/dW sum(tanh(1 W)) = 1^T (1 - tanh^2(1 W))
    hidden = np.tanh(np.ones((5, 4)) @ w.numpy())
    np.testing.assert_allclose(w.grad.numpy(), np.ones((5, 4)).T @ (1 - hidden**2))


def test_non_differentiable_numpy_functions_return_plain_or_boolean_results():
    x = cr.tensor(X, requires_grad=True)
    np.testing.assert_array_equal(np.asarray(np.argmax(x, axis=1)), np.argmax(X, axis=1))
    np.testing.assert_array_equal(np.asarray(np.argsort(x)), np.argsort(X))
    greater = np.greater(x, 0.0)
    assert greater.dtype == np.bool_ and not greater.requires_grad
    np.testing.assert_array_equal(np.asarray(greater), X > 0)
    assert np.isfinite(x).numpy().all()
    assert np.allclose(x, X) and np.any(x > 1.5) and not np.all(x > 0)
    np.testing.assert_array_equal(np.nonzero(x > 1.0)[0], np.nonzero(X > 1.0)[0])
    assert np.shape(x) == (3, 4) and np.ndim(x) == 2 and np.size(x) == 12


@pytest.mark.parametrize("function", [np.sign, np.floor, np.ceil, np.round, np.rint, np.trunc],
                         ids=lambda f: f.__name__)
def test_piecewise_constant_functions_have_zero_gradient(function):
    x = cr.tensor(X, requires_grad=True)
    out = function(x)
    np.testing.assert_array_equal(out.numpy(), function(X))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(X))


def test_like_functions_give_plain_arrays():
    x = cr.tensor(X, requires_grad=True)
    for function, fill in ((np.zeros_like, 0.0), (np.ones_like, 1.0)):
        out = function(x)
        assert type(out) is np.ndarray
        np.testing.assert_array_equal(out, np.full(X.shape, fill))


def test_ufunc_dtype_keyword_computes_in_that_dtype():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    out = np.exp(x, dtype=np.float32)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)


def test_ufunc_neutral_keywords_are_accepted():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    out = np.add(x, 1.0, where=True, casting="same_kind")
    np.testing.assert_array_equal(out.numpy(), [2.0, 3.0])


# ----- what is refused, and how ------------------------------------------------------------------
# NumPy functions with no rule, reached with a Tensor that carries derivatives, and the fix each
# message gives: a refusal's reason, the chainrule.numpy spelling, or NumPy's own on .detach().
UNSUPPORTED = [
    ("numpy.busday_count", lambda t: np.busday_count(t, t), "dates carry no derivative"),
    ("numpy.add.accumulate", lambda t: np.add.accumulate(t), "cnp.cumsum"),
    ("numpy.add.reduceat", lambda t: np.add.reduceat(t, [0, 1]), "cnp.sum"),
    ("numpy.multiply.outer", lambda t: np.multiply.outer(t, t), "cnp.outer"),
    ("numpy.abs (vectorized)", lambda t: np.frompyfunc(abs, 1, 1)(t), "cnp.vectorize"),
]


@pytest.mark.parametrize("name, call, fix", UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_numpy_function_names_itself_and_the_fixes(name, call, fix):
    x = cr.tensor(X, requires_grad=True)
    with pytest.raises(UnsupportedFunctionError) as error:
        call(x)
    message = str(error.value)
    assert isinstance(error.value, TypeError)
    assert name in message and ".detach()" in message and fix in message


def test_unsupported_function_works_after_detach():
    x = cr.tensor(X, requires_grad=True)
    np.testing.assert_allclose(np.multiply.outer(x.detach(), X), np.multiply.outer(X, X))
    np.testing.assert_allclose(np.add.accumulate(x.detach()), np.add.accumulate(X))
    with pytest.raises(UnsupportedFunctionError):
        np.add.accumulate(x.detach() + x)  # one input still requires grad


def test_numpy_functions_that_chainrule_numpy_records_are_routed_there():
    # np.histogram's edges move with the data, np.unwrap's values too: dispatch records them.
    def f(v):
        return np.concatenate([np.histogram(v, bins=2, density=True)[0] ** 2, np.unwrap(v)])

    assert cr.gradcheck(f, X[0])


OUT_CALLS = [
    ("sin", lambda t, out: np.sin(t, out=out)),
    ("add", lambda t, out: np.add(t, 1.0, out=out)),
    ("sum", lambda t, out: np.sum(t, axis=0, out=out[0])),
    ("mean", lambda t, out: np.mean(t, axis=0, out=out[0])),
    ("cumsum", lambda t, out: np.cumsum(t, axis=0, out=out)),
    ("clip", lambda t, out: np.clip(t, 0, 1, out=out)),
    ("concatenate", lambda t, out: np.concatenate([t[:1], t[1:]], out=out)),
]


@pytest.mark.parametrize("name, call", OUT_CALLS, ids=[c[0] for c in OUT_CALLS])
def test_out_is_refused_and_the_buffer_is_left_alone(name, call):
    x = cr.tensor(X, requires_grad=True)
    buffer = np.full(X.shape, -7.0)
    with pytest.raises(UnsupportedFunctionError, match=rf"{name}\(\.\.\., out=\.\.\.\)"):
        call(x, buffer)
    np.testing.assert_array_equal(buffer, np.full(X.shape, -7.0))


def test_ufunc_where_keyword_is_refused_with_a_fix():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(UnsupportedFunctionError, match="where=.*np.where"):
        np.add(x, 1.0, where=np.array([True, False]))
    with pytest.raises(UnsupportedFunctionError, match="where="):
        np.mean(x, where=np.array([True, False]))


def test_numpy_array_of_tensors_that_require_grad_is_refused():
    # np.array / np.asarray read the value (__array__) and cannot record: they would drop the
    # gradient, so they raise; detached tensors convert to the plain values.
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(cr.errors.GraphEscapeError, match=r"np\.asarray.*detach"):
        np.array([x, x])
    out = np.array([x.detach(), x.detach()])
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, [[1.0, 2.0], [1.0, 2.0]])


LIST_OPERANDS = [
    ("np.divide", lambda x: np.divide(x, [0.5, 2.0]), lambda v: 1 / np.array([0.5, 2.0])),
    ("np.divide reflected", lambda x: np.divide([0.5, 2.0], x),
     lambda v: -np.array([0.5, 2.0]) / v**2),
    ("np.power base list", lambda x: np.power([0.0, 2.0], x),
     lambda v: np.array([0.0, np.log(2.0) * 2.0**v[1]])),
    ("np.arctan2", lambda x: np.arctan2(x, [1.0, 1.0]), lambda v: 1 / (1 + v**2)),
    ("np.multiply nested list", lambda x: np.multiply(x, [[1.0, 2.0]]),
     lambda v: np.array([1.0, 2.0])),
]


@pytest.mark.parametrize(
    "label, call, derivative", LIST_OPERANDS, ids=[c[0] for c in LIST_OPERANDS]
)
def test_list_operands_of_ufuncs_are_arrays_in_the_derivative_rules(label, call, derivative):
    values = np.array([1.0, 2.0])
    x = cr.tensor(values, requires_grad=True)
    call(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), derivative(values))


def test_numpy_astype_records_like_the_method():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = np.astype(x, np.float32)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
