"""bincount and the histograms, the array API's unique functions, ix_, kaiser, real_if_close
and the refused frompyfunc (numpy/histograms.py, sets.py, functional.py, _refused.py).

The composite sweep (tests/composites/functional.py) checks their derivatives; here: NumPy's
values and dtypes on arrays and on Tensors, the parts that carry no derivative (counts, indices,
edges from a constant range), closed-form derivatives, vmap where examples agree and the
BatchingError where results differ in size, NumPy's errors, and NumPy's dispatch to them.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import BatchingError, DTypeError, UnsupportedFunctionError

X = np.array([-1.3, 0.35, 1.8, -0.6, 0.9, 2.6, -0.1])
Y = np.array([0.2, -1.1, 0.75, 1.9, -0.4, 0.05, 1.3])
WEIGHTS = np.array([0.5, 1.5, 2.0, 0.25, 1.0, 0.75, 1.25])
INDEX = np.array([3, 0, 1, 3, 3, 0, 5])
TIES = np.array([2.0, -1.0, 2.0, 0.5, -1.0, 3.0])
NANS = np.array([2.0, np.nan, 1.0, np.nan, 2.0])


def _plain(value):
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(part) for part in value) if not hasattr(value, "_fields") \
            else type(value)(*(_plain(part) for part in value))
    if isinstance(value, cr.Tensor):
        return value.detach().numpy()
    return value


def _assert_same(ours, expected):
    """Equal values (NaN where NaN), the same dtypes, the same containers."""
    assert type(_plain(ours)) is type(expected) or isinstance(expected, np.ndarray)
    if isinstance(expected, (tuple, list)):
        assert len(ours) == len(expected)
        for got, want in zip(ours, expected, strict=True):
            _assert_same(got, want)
        return
    got = np.asarray(_plain(ours))
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.asarray(expected).dtype


# name -> (args, kwargs): every call is NumPy's own on arrays, and gives NumPy's values and dtypes
# on Tensors.
CALLS = {
    "bincount": [((INDEX,), {}), ((INDEX, WEIGHTS), {"minlength": 8}),
                 ((INDEX, WEIGHTS.astype(np.float32)), {})],
    "histogram": [((X,), {}), ((X,), {"bins": 3, "density": True}),
                  ((X.astype(np.float32),), {"bins": 4, "weights": WEIGHTS.astype(np.float32)}),
                  ((X,), {"bins": "auto", "range": (-1.0, 2.0)}),
                  ((X,), {"bins": [-2.0, 0.0, 0.5, 3.0], "weights": WEIGHTS})],
    "histogram_bin_edges": [((X,), {"bins": 5}), ((X.astype(np.float32),), {"bins": "sturges"}),
                            ((X,), {"bins": 3, "range": (-2, 2)})],
    "histogram2d": [((X, Y), {"bins": [2, 3]}), ((X, Y), {"bins": 2, "weights": WEIGHTS,
                                                          "density": True})],
    "histogramdd": [((np.stack([X, Y], axis=1),), {"bins": 3}),
                    (([X, Y],), {"bins": (2, 3), "range": [(-2, 3), None]})],
    "unique_values": [((TIES,), {}), ((NANS,), {})],
    "unique_counts": [((TIES,), {}), ((NANS,), {})],
    "unique_inverse": [((TIES.reshape(2, 3),), {}), ((NANS,), {})],
    "unique_all": [((TIES,), {}), ((NANS,), {})],
    "ix_": [((X[:3], np.array([True, False, True])), {}), ((X[:2], X[:3], []), {})],
    "real_if_close": [((X + 1e-17j,), {}), ((X + 0.5j,), {}), ((X.astype(np.complex64),), {})],
}
CALL_IDS = [f"{name}-{i}" for name, calls in CALLS.items() for i in range(len(calls))]
EVERY_CALL = [(name, *call) for name, calls in CALLS.items() for call in calls]


def _tensors(value):
    """The floating arrays (in lists too) as Tensors that require grad."""
    if isinstance(value, list):
        return [_tensors(part) for part in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        return cr.tensor(value, requires_grad=True)
    return value


@pytest.mark.parametrize("name, args, kwargs", EVERY_CALL, ids=CALL_IDS)
def test_plain_arrays_get_numpys_own_result(name, args, kwargs):
    _assert_same(getattr(cnp, name)(*args, **kwargs), getattr(np, name)(*args, **kwargs))


@pytest.mark.parametrize("name, args, kwargs", EVERY_CALL, ids=CALL_IDS)
def test_tensors_get_numpys_values_and_dtypes(name, args, kwargs):
    expected = getattr(np, name)(*args, **kwargs)
    ours = getattr(cnp, name)(*_tensors(list(args)), **_tensors_in_kwargs(kwargs))
    if name in ("histogram", "histogram2d", "histogramdd", "histogram_bin_edges"):
        # Edges from Tensors are cnp.linspace's: NumPy's to the last bit or two.
        np.testing.assert_allclose(_flat(ours), _flat(expected), rtol=1e-6, atol=1e-12)
        assert [np.asarray(p).dtype for p in _leaves(ours)] == [
            p.dtype for p in _leaves(expected)]
    else:
        _assert_same(ours, expected)


def _tensors_in_kwargs(kwargs):
    return {k: _tensors(v) if k == "weights" else v for k, v in kwargs.items()}


def _leaves(value):
    if isinstance(value, (tuple, list)):
        return [leaf for part in value for leaf in _leaves(part)]
    return [_plain(value)]


def _flat(value):
    return np.concatenate([np.ravel(leaf).astype(complex) for leaf in _leaves(value)])


# ----- what carries no derivative ----------------------------------------------------------------
def test_counts_indices_and_the_inverse_are_plain_integers():
    x = cr.tensor(TIES, requires_grad=True)
    counts, edges = cnp.histogram(x, bins=3)
    assert type(counts) is np.ndarray and counts.dtype == np.intp
    assert isinstance(edges, cr.Tensor) and edges.requires_grad
    result = cnp.unique_all(x)
    assert type(result).__name__ == "UniqueAllResult"
    assert isinstance(result.values, cr.Tensor)
    for part in (result.indices, result.inverse_indices, result.counts):
        assert type(part) is np.ndarray and part.dtype.kind == "i"
    assert type(cnp.bincount(INDEX)) is np.ndarray


def test_edges_from_a_constant_range_do_not_move_with_the_data():
    counts, edges = cnp.histogram(cr.tensor(X, requires_grad=True), bins=4, range=(-2.0, 3.0))
    assert type(edges) is np.ndarray
    _assert_same((counts, edges), np.histogram(X, bins=4, range=(-2.0, 3.0)))


def test_edges_move_with_the_smallest_and_largest_entries():
    # edges_k = min + (max - min) k / n: d/dmin = 1 - k/n, d/dmax = k/n, others 0.
    bins = 4
    cotangent = np.array([1.0, -2.0, 0.5, 3.0, 1.5])
    gradient = cr.grad(lambda x: cnp.sum(cnp.histogram_bin_edges(x, bins) * cotangent))(X)
    k = np.arange(bins + 1) / bins
    expected = np.zeros_like(X)
    expected[np.argmin(X)] = np.sum(cotangent * (1 - k))
    expected[np.argmax(X)] = np.sum(cotangent * k)
    np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-12)


def test_bincount_is_differentiable_in_its_weights_only():
    # sum_k c_k sum_{i: x_i = k} w_i: each weight gets the cotangent of its bin.
    c = np.arange(1.0, 7.0)
    gradient = cr.grad(lambda w: cnp.sum(cnp.bincount(INDEX, w) * c))(WEIGHTS)
    np.testing.assert_array_equal(gradient, c[INDEX])
    assert cnp.bincount(INDEX, cr.tensor(WEIGHTS)).dtype == np.float64


def test_a_unique_values_derivative_goes_to_its_first_occurrence():
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    gradient = cr.grad(lambda x: cnp.sum(cnp.unique_counts(x).values * weights))(TIES)
    # unique values -1, 0.5, 2, 3 first occur at positions 1, 3, 0, 5
    np.testing.assert_array_equal(gradient, [3.0, 1.0, 0.0, 2.0, 0.0, 4.0])


def test_each_nan_is_a_unique_value_of_its_own():
    values = cnp.unique_values(cr.tensor(NANS, requires_grad=True))
    np.testing.assert_array_equal(values.detach().numpy(), np.unique_values(NANS))
    # values 1, 2, nan, nan: picked from positions 2, 0, 1, 3
    _, pullback = cr.vjp(cnp.unique_values, NANS)
    (gradient,) = pullback(np.array([10.0, 20.0, 30.0, 40.0]))
    np.testing.assert_array_equal(gradient, [20.0, 30.0, 10.0, 40.0, 0.0])


def test_ix_reshapes_floating_vectors_and_reads_masks_as_positions():
    mask = cr.tensor(np.array([True, False, True]))
    rows, columns = cnp.ix_(cr.tensor(X[:2], requires_grad=True), mask)
    assert rows.shape == (2, 1) and rows.requires_grad
    _assert_same(columns, np.array([[0, 2]]))
    gradient = cr.grad(lambda v: cnp.sum(cnp.ix_(v, v)[0] * cnp.ix_(v, v)[1]))(X[:3])
    np.testing.assert_allclose(gradient, 2 * np.sum(X[:3]) * np.ones(3))


def test_kaiser_in_beta_matches_numpy_and_its_edge_lengths():
    for length in (0, 1, 2, 7):
        ours = cnp.kaiser(length, cr.tensor(2.5, requires_grad=True))
        np.testing.assert_allclose(_plain(ours), np.kaiser(length, 2.5), rtol=1e-14)
    _assert_same(cnp.kaiser(6, 1.5), np.kaiser(6, 1.5))


def test_real_if_close_decides_on_the_values():
    z = cr.tensor(X + 1e-17j, requires_grad=True)
    assert cnp.real_if_close(z).dtype == np.float64
    assert cnp.real_if_close(z, tol=1e-20).dtype == np.complex128
    real = cr.tensor(X, requires_grad=True)
    assert cnp.real_if_close(real) is real


# ----- vmap: once per example; results of different sizes raise -----------------------------------
def test_vmap_runs_once_per_example_where_sizes_agree():
    stacked = np.stack([TIES, TIES[::-1] * 2.0])
    batched = cr.vmap(cnp.unique_all)(stacked)
    for row, example in enumerate(stacked):
        _assert_same(tuple(part[row] for part in _plain(batched)),
                     tuple(np.unique_all(example)))
    weights = np.stack([WEIGHTS, WEIGHTS ** 2])
    indices = np.stack([INDEX, INDEX[::-1]])
    np.testing.assert_allclose(
        cr.vmap(cnp.bincount)(indices, weights),
        [np.bincount(i, w) for i, w in zip(indices, weights, strict=True)],
    )
    density = cr.vmap(lambda x: cnp.histogram(x, bins=3, density=True)[0])(np.stack([X, Y]))
    np.testing.assert_allclose(density, [np.histogram(e, 3, density=True)[0] for e in (X, Y)])


@pytest.mark.parametrize("call, examples", [
    (cnp.unique_values, np.array([[1.0, 1.0, 2.0], [1.0, 2.0, 3.0]])),
    (lambda i: cnp.bincount(i, np.ones(3)), np.array([[0, 1, 1], [0, 4, 1]])),
    (lambda x: cnp.histogram_bin_edges(x, bins="auto"), np.stack([X, np.r_[X[:6], 40.0]])),
], ids=["unique_values", "bincount", "histogram bins='auto'"])
def test_results_whose_size_depends_on_the_values_raise_under_vmap(call, examples):
    with pytest.raises(BatchingError, match="size of its result depends on the values"):
        cr.vmap(call)(examples)


def test_real_if_close_refuses_examples_that_choose_differently_under_vmap():
    with pytest.raises(BatchingError, match="some examples are real within tol"):
        cr.vmap(cnp.real_if_close)(np.stack([X + 0j, X + 1j]))


def test_numpys_error_for_one_example_is_raised_as_it_is_under_vmap():
    with pytest.raises(ValueError, match="negative"):
        cr.vmap(cnp.bincount)(np.array([[0, 1], [-1, 2]]))


# ----- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda x: cnp.histogram(x, range=(2.0, 1.0)), "max must be larger than min"),
    (lambda x: cnp.histogram(x, bins=[0.0, 2.0, 1.0]), "monotonically"),
    (lambda x: cnp.histogram(x, weights=np.ones(3)), "same shape"),
    (lambda x: cnp.histogram(x, bins="auto", weights=x), "not supported for weighted"),
    (lambda x: cnp.histogram_bin_edges(x * np.inf), "not finite"),
    (lambda x: cnp.histogramdd(x, bins=[2, 2]), "dimension of bins"),
    (lambda x: cnp.bincount(INDEX, x[:4]), "length"),
    (lambda x: cnp.ix_(x.reshape(7, 1)), "1 dimensional"),
], ids=["range", "bins", "weights", "auto weights", "infinite", "dd bins", "bincount", "ix_"])
def test_numpys_errors_on_tensors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(cr.tensor(X, requires_grad=True))


def test_complex_data_is_refused_on_tensors_and_complex_weights_are_fine():
    z = cr.tensor(X + 1j * Y, requires_grad=True)
    for call in (cnp.histogram, cnp.histogram_bin_edges, lambda a: cnp.histogram2d(a, a)):
        with pytest.raises(DTypeError, match="lexicographic order"):
            call(z)
    counts, _ = cnp.histogram(X, bins=3, weights=z)
    np.testing.assert_allclose(_plain(counts), np.histogram(X, 3, weights=X + 1j * Y)[0])


def test_frompyfunc_is_refused_with_its_reason():
    with pytest.raises(AttributeError, match="refuses numpy.frompyfunc: its ufuncs compute on "
                                             "object arrays"):
        cnp.frompyfunc  # noqa: B018
    with pytest.raises(UnsupportedFunctionError, match=r"frompyfunc.*cnp\.vectorize"):
        np.frompyfunc(abs, 1, 1)(cr.tensor(X, requires_grad=True))


# ----- NumPy's own functions dispatch here --------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda x: np.histogram(x, bins=3, density=True)[0],
    lambda x: np.histogram_bin_edges(x, bins=3),
    lambda x: np.histogram2d(x, x[::-1], bins=2, density=True)[0],
    lambda x: np.histogramdd(np.stack([x, x[::-1]], axis=1), bins=2)[1][0],
    lambda x: np.bincount(INDEX, x),
    lambda x: np.unique_all(x).values,
    lambda x: np.ix_(x)[0],
], ids=["histogram", "histogram_bin_edges", "histogram2d", "histogramdd", "bincount",
        "unique_all", "ix_"])
def test_numpys_functions_record_on_tensors(call):
    assert cr.gradcheck(call, X)
