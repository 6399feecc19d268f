"""chainrule.numpy's math and statistics functions beyond the composite sweep: NumPy's values,
dtypes, shapes and warnings bit for bit on plain arrays (special values included), the
conventions at kinks (ties share the derivative; interp's one-sided slope; sinc and i0 right to
second order at 0), the errors, and NumPy dispatch on Tensors."""

import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import DTypeError, NonDifferentiableError

RNG = np.random.default_rng(7)
SPECIALS = np.array([0.0, -0.0, 1.0, -2.5, 0.3, np.inf, -np.inf, np.nan, 1e-300, 5e-324, 1e300])


def _same(ours, expected, exact=True):
    """Equal values (NaN where NumPy has NaN), dtypes and shapes; bit for bit when `exact`."""
    if isinstance(expected, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(expected)
        for got, want in zip(ours, expected, strict=True):
            _same(got, want, exact)
        return
    ours = np.asarray(ours.numpy() if isinstance(ours, cr.Tensor) else ours)
    expected = np.asarray(expected)
    assert ours.dtype == expected.dtype and ours.shape == expected.shape
    if exact:
        np.testing.assert_array_equal(ours, expected)
    else:
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-14)


def _messages(function, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    found = {str(w.message) for w in caught if w.category is RuntimeWarning}
    return result, {m for m in found if "encountered in" not in m}


# ----- NumPy's values, bit for bit -------------------------------------------------------------
@pytest.mark.parametrize("name", ["sinc", "i0", "modf", "frexp"])
@pytest.mark.parametrize("values", [
    RNG.uniform(-3.0, 3.0, 9), RNG.uniform(-3.0, 3.0, 9).astype(np.float32), np.arange(-3, 4),
    SPECIALS, np.array(0.4),
], ids=["float64", "float32", "int", "specials", "0-d"])
def test_unary_functions_give_numpys_values(name, values):
    with np.errstate(all="ignore"):
        _same(getattr(cnp, name)(values), getattr(np, name)(values))


@pytest.mark.parametrize("name", ["fmod", "copysign", "heaviside", "divmod"])
def test_binary_functions_give_numpys_values(name):
    x, y = RNG.uniform(-3.0, 3.0, 8), RNG.uniform(-3.0, 3.0, 8)
    with np.errstate(all="ignore"):
        for args in ((x, y), (x.astype(np.float32), 2.5), (np.arange(-3, 4), 2),
                     (SPECIALS[:, None], SPECIALS[None, :])):
            _same(getattr(cnp, name)(*args), getattr(np, name)(*args))


def test_ldexp_is_exact_over_the_whole_exponent_range():
    exponents = np.array([-3000, -1100, -1074, -5, 0, 7, 1023, 1100, 3000])
    with np.errstate(all="ignore"):
        _same(cnp.ldexp(SPECIALS[:, None], exponents), np.ldexp(SPECIALS[:, None], exponents))
    with np.errstate(over="ignore"):
        _same(cnp.ldexp(np.float32([1.5, -0.25]), 130), np.ldexp(np.float32([1.5, -0.25]), 130))
    _same(cnp.ldexp(np.arange(3), 2), np.ldexp(np.arange(3), 2))


def test_sinc_of_complex_numbers():
    z = RNG.uniform(-2, 2, 6) + 1j * RNG.uniform(-1, 1, 6)
    _same(cnp.sinc(np.append(z, 0j)), np.sinc(np.append(z, 0j)), exact=False)


METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
           "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
           "normal_unbiased", "lower", "higher", "midpoint", "nearest"]
DATA = {
    "float64": RNG.normal(size=(3, 4, 5)),
    "float32": RNG.normal(size=(3, 4, 5)).astype(np.float32),
    "ties": np.round(RNG.normal(size=(4, 6))),
    "int": np.arange(24).reshape(4, 6),
}
QS = {"0.3": 0.3, "int 1": 1, "array": np.array([0.0, 0.25, 1.0]), "float32": np.float32(0.7),
      "2-d": np.array([[0.1, 0.9], [0.5, 0.7]])}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("data", DATA, ids=list(DATA))
def test_quantile_gives_numpys_values_for_every_method(method, data):
    a = DATA[data]
    for q in QS.values():
        for axis in (None, -1, (0, 1)):
            _same(cnp.quantile(a, q, axis=axis, method=method),
                  np.quantile(a, q, axis=axis, method=method))
        _same(cnp.percentile(a, np.multiply(q, 100.0), axis=0, method=method, keepdims=True),
              np.percentile(a, np.multiply(q, 100.0), axis=0, method=method, keepdims=True))


@pytest.mark.parametrize("name", ["median", "nanmedian"])
@pytest.mark.parametrize("data", [*DATA, "0-d", "1-d"])
def test_median_gives_numpys_values(name, data):
    a = {"0-d": np.array(3.0), "1-d": RNG.normal(size=6), **DATA}[data]
    axes = [None] if np.ndim(a) < 2 else [None, 0, -1, (0, 1)]
    for axis in axes:
        for keepdims in (False, True):
            _same(getattr(cnp, name)(a, axis=axis, keepdims=keepdims),
                  getattr(np, name)(a, axis=axis, keepdims=keepdims))


def _with_nans():
    a = RNG.normal(size=(3, 4, 5))
    a[0, 1, 2] = np.nan
    a[2, :, 3] = np.nan  # slices of NaN only
    a[1, 2, :] = np.nan
    return a


@pytest.mark.parametrize("name, kwargs", [
    ("median", {}), ("nanmedian", {}), ("quantile", {"q": 0.3}), ("nanquantile", {"q": 0.3}),
    ("nanquantile", {"q": np.array([0.2, 0.9]), "method": "lower"}),
    ("nanpercentile", {"q": 30.0, "method": "hazen"}),
    ("nansum", {}), ("nanprod", {}), ("nanmean", {}), ("nanvar", {"ddof": 1}),
    ("nanvar", {"ddof": 4}), ("nanstd", {}), ("nanmax", {}), ("nanmin", {}),
    ("nancumsum", {}), ("nancumprod", {}),
])
def test_nan_handling_and_warnings_are_numpys(name, kwargs):
    a = _with_nans()
    axes = [None, 0, 1] if name.startswith("nancum") else [None, 0, -1, (0, 2)]
    for axis in axes:
        ours, ours_said = _messages(getattr(cnp, name), a, axis=axis, **kwargs)
        expected, numpy_said = _messages(getattr(np, name), a, axis=axis, **kwargs)
        _same(ours, expected)
        assert ours_said == numpy_said


def test_nanargmax_and_nanargmin_ignore_nan_and_refuse_all_nan_slices():
    a = _with_nans()[0]
    for name in ("nanargmax", "nanargmin"):
        for axis in (None, 0, 1):
            _same(getattr(cnp, name)(a, axis=axis), getattr(np, name)(a, axis=axis))
        with pytest.raises(ValueError, match="All-NaN slice"):
            getattr(cnp, name)(_with_nans(), axis=2)


def test_var_warns_and_divides_by_zero_as_numpy_without_degrees_of_freedom():
    x = RNG.normal(size=3)
    ours, ours_said = _messages(cnp.var, x, ddof=3)
    expected, numpy_said = _messages(np.var, x, ddof=3)
    _same(ours, expected)
    assert ours_said == numpy_said == {"Degrees of freedom <= 0 for slice"}
    _same(cnp.std(x, correction=1), np.std(x, correction=1))
    with pytest.raises(ValueError, match="ddof and correction"):
        cnp.var(x, ddof=1, correction=1)


@pytest.mark.parametrize("a", [
    np.array([2**62, 2**62, 1]), RNG.uniform(0, 100, 5000).astype(np.float16),
    np.array([True, False, True]), RNG.normal(size=(3, 4)).astype(np.float32),
], ids=["large ints", "float16", "bool", "float32"])
def test_mean_var_std_accumulate_as_numpy(a):
    for name in ("mean", "var", "std"):
        with np.errstate(over="ignore"):
            _same(getattr(cnp, name)(a), getattr(np, name)(a))


@pytest.mark.parametrize("q", [0.3, np.array([0.0, 0.5, 1.0])])
def test_weighted_inverted_cdf_quantile(q):
    a = RNG.normal(size=(3, 4, 5))
    weights = RNG.uniform(0.1, 1.0, size=a.shape)
    weights[..., 0] = 0.0  # leading zero weights: q = 0 picks the first positive weight
    for axis, w in ((-1, weights), (1, weights[0, :, 1]), (None, weights)):
        kwargs = {"method": "inverted_cdf", "weights": w}
        _same(cnp.quantile(a, q, axis=axis, **kwargs), np.quantile(a, q, axis=axis, **kwargs))


def test_cov_corrcoef_average_give_numpys_values():
    m = RNG.normal(size=(3, 6))
    fweights, aweights = np.array([1, 2, 1, 3, 1, 1]), RNG.uniform(0.2, 1.0, 6)
    for kwargs in ({}, {"rowvar": False}, {"bias": True}, {"ddof": 2}, {"fweights": fweights},
                   {"aweights": aweights, "fweights": fweights, "ddof": 1},
                   {"dtype": np.float32}):
        _same(cnp.cov(m, **kwargs), np.cov(m, **kwargs), exact=False)
    _same(cnp.cov(m, m[:2]), np.cov(m, m[:2]), exact=False)
    _same(cnp.cov(m[0]), np.cov(m[0]), exact=False)
    _same(cnp.corrcoef(m), np.corrcoef(m), exact=False)
    _same(cnp.corrcoef(m[0]), np.corrcoef(m[0]))
    _same(cnp.corrcoef(m + 1j * m[::-1]), np.corrcoef(m + 1j * m[::-1]), exact=False)
    for a in (m, m.astype(np.float32), np.arange(12).reshape(3, 4)):
        w = RNG.uniform(size=np.shape(a)[1])
        _same(cnp.average(a, axis=1, weights=w, returned=True),
              np.average(a, axis=1, weights=w, returned=True))
        _same(cnp.average(a, returned=True), np.average(a, returned=True))


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_and_correlate_for_every_pair_of_lengths(mode):
    for n1 in range(1, 7):
        for n2 in range(1, 7):
            a = RNG.normal(size=n1) + 1j * RNG.normal(size=n1)
            v = RNG.normal(size=n2) - 1j * RNG.normal(size=n2)
            _same(cnp.convolve(a, v, mode), np.convolve(a, v, mode), exact=False)
            _same(cnp.correlate(a, v, mode), np.correlate(a, v, mode), exact=False)
    _same(cnp.convolve(np.arange(5), np.arange(3), mode), np.convolve(np.arange(5),
                                                                      np.arange(3), mode))


def test_interp_gives_numpys_values_at_knots_nan_and_infinite_samples():
    xp = np.sort(RNG.uniform(0, 10, 7))
    fp = RNG.normal(size=7)
    x = np.concatenate([RNG.uniform(-1, 11, 20), xp, [np.nan]])
    _same(cnp.interp(x, xp, fp), np.interp(x, xp, fp))
    _same(cnp.interp(x.astype(np.float32), xp, fp, left=-5, right=7.0),
          np.interp(x.astype(np.float32), xp, fp, left=-5, right=7.0))
    _same(cnp.interp(x, xp, fp + 1j * fp[::-1]), np.interp(x, xp, fp + 1j * fp[::-1]))
    _same(cnp.interp(x, xp, fp, period=4.0), np.interp(x, xp, fp, period=4.0))
    _same(cnp.interp(x, [3.0], [2.0]), np.interp(x, [3.0], [2.0]))
    with np.errstate(all="ignore"):
        infinite, repeated = fp.copy(), xp.copy()
        infinite[3], repeated[3] = np.inf, repeated[2]
        _same(cnp.interp(x, xp, infinite), np.interp(x, xp, infinite))
        _same(cnp.interp(x, repeated, fp), np.interp(x, repeated, fp))


def test_unwrap_trapezoid_and_polynomials_give_numpys_values():
    phase = np.cumsum(RNG.uniform(-4, 4, (3, 10)), axis=1)
    for kwargs in ({}, {"axis": 0}, {"discont": 1.0}, {"period": 3.0}):
        _same(cnp.unwrap(phase, **kwargs), np.unwrap(phase, **kwargs))
    ints = np.array([0, 1, 3, 4, 7, 2, 1])
    _same(cnp.unwrap(ints, period=4), np.unwrap(ints, period=4))
    y, x = RNG.normal(size=(3, 6)), np.sort(RNG.normal(size=6))
    _same(cnp.trapezoid(y, x), np.trapezoid(y, x))
    _same(cnp.trapezoid(np.arange(5)), np.trapezoid(np.arange(5)))
    p, q = RNG.normal(size=4), RNG.normal(size=2)
    _same(cnp.polyval(p, y), np.polyval(p, y))
    _same(cnp.polyval([1, 2], np.float32([3.0])), np.polyval([1, 2], np.float32([3.0])))
    _same(cnp.polydiv(p, q), np.polydiv(p, q))
    _same(cnp.polyint(p, 2, k=3.0), np.polyint(p, 2, k=3.0))
    _same(cnp.poly([1 + 1j, 1 - 1j, 2]), np.poly([1 + 1j, 1 - 1j, 2]))
    _same(cnp.roots([0, 0, 1, -3, 2, 0, 0]), np.roots([0, 0, 1, -3, 2, 0, 0]))
    _same(cnp.roots([1.0, 0.0, 1.0]), np.roots([1.0, 0.0, 1.0]))
    _same(cnp.roots([0.0, 0.0]), np.roots([0.0, 0.0]))
    x = np.sort(RNG.uniform(-2, 2, 12))
    y = np.polyval([0.5, -1.0, 2.0], x) + 0.1 * RNG.normal(size=12)
    for kwargs in ({}, {"full": True}, {"cov": True}, {"w": RNG.uniform(0.5, 2, 12)},
                   {"full": True, "rcond": 0.5}):
        _same(cnp.polyfit(x, y, 2, **kwargs), np.polyfit(x, y, 2, **kwargs), exact=False)


def test_partition_is_numpys_arrangement():
    a = RNG.normal(size=(4, 9))
    for kth, axis in ((0, -1), (4, -1), ([1, 6], -1), (2, 0), (10, None)):
        _same(cnp.partition(a, kth, axis=axis), np.partition(a, kth, axis=axis))


# ----- conventions at kinks -------------------------------------------------------------------
def _both_jacobians(function, x):
    return [np.asarray(jacobian(function)(x)) for jacobian in (cr.jacrev, cr.jacfwd)]


def test_a_tie_at_the_median_shares_its_derivative_evenly_like_max():
    x = np.array([1.0, 2.0, 2.0, 2.0, 5.0])
    for jacobian in _both_jacobians(cnp.median, x):
        np.testing.assert_allclose(jacobian, [0.0, 1 / 3, 1 / 3, 1 / 3, 0.0])
    for jacobian in _both_jacobians(cnp.max, x[::-1] * np.array([1, 0, 1, 1, 1])):
        assert np.count_nonzero(jacobian) >= 1  # max's own convention, for comparison


def test_an_even_count_gives_each_middle_entry_half():
    x = np.array([4.0, 1.0, 3.0, 2.0])
    for jacobian in _both_jacobians(cnp.median, x):
        np.testing.assert_allclose(jacobian, [0.0, 0.0, 0.5, 0.5])


def test_a_tied_quantile_shares_its_derivative_and_keeps_numpys_value():
    x = np.array([1.0, 1.0, 1.0, 4.0, 5.0])
    assert cnp.quantile(cr.tensor(x), 0.25).item() == np.quantile(x, 0.25)
    for jacobian in _both_jacobians(lambda v: cnp.quantile(v, 0.25), x):
        np.testing.assert_allclose(jacobian, [1 / 3, 1 / 3, 1 / 3, 0.0, 0.0])
    # Between a tie group and the next value (gamma 0.4): 1 - gamma spread over the group.
    for jacobian in _both_jacobians(lambda v: cnp.quantile(v, 0.6), x):
        np.testing.assert_allclose(jacobian, [0.2, 0.2, 0.2, 0.4, 0.0])


def test_nan_entries_get_zero_derivative_and_slices_of_nan_only_stay_finite():
    x = np.array([[1.0, np.nan, 3.0, 2.0], [np.nan, np.nan, np.nan, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in ("nanmedian", "nanmean", "nanvar", "nanstd", "nanmax", "nansum"):
            for jacobian in _both_jacobians(lambda v, n=name: getattr(cnp, n)(v, axis=1), x):
                assert np.all(np.isfinite(jacobian))
                assert np.all(jacobian[:, :, 1] == 0) and np.all(jacobian[1] == 0)


def test_interp_takes_the_slope_to_the_right_at_a_knot_and_zero_outside():
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    x = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    for jacobian in _both_jacobians(lambda v: cnp.interp(v, xp, fp), x):
        np.testing.assert_allclose(np.diag(jacobian), [0.0, 2.0, 0.5, 0.5, 0.0, 0.0])


def test_sinc_and_i0_are_right_to_second_order_at_zero():
    zero = np.array(0.0)
    assert cr.grad(cnp.sinc)(zero) == 0.0
    np.testing.assert_allclose(cr.grad(cr.grad(cnp.sinc))(zero), -np.pi**2 / 3)
    np.testing.assert_allclose(cr.hessian(cnp.sinc)(zero), -np.pi**2 / 3)
    np.testing.assert_allclose(cr.grad(cr.grad(cnp.i0))(zero), 0.5)
    assert abs(cr.grad(cnp.i0)(zero)) < 1e-15


def test_i0s_derivative_is_i1():
    scipy_special = pytest.importorskip("scipy.special")
    x = np.array([-9.0, -2.0, 0.3, 5.0, 8.0, 12.0])
    np.testing.assert_allclose(cr.vmap(cr.grad(cnp.i0))(x), scipy_special.i1(x), rtol=1e-13)


def test_fmod_copysign_frexp_derivatives_at_zero_and_powers_of_two():
    zeros = np.array([0.0, -0.0])
    np.testing.assert_array_equal(cr.grad(lambda v: cnp.sum(cnp.fmod(v, 2.0)))(zeros), [1, 1])
    np.testing.assert_array_equal(
        cr.grad(lambda v: cnp.sum(cnp.copysign(v, np.array([1.0, 1.0]))))(zeros), [1.0, -1.0])
    x = np.array([3.0, 0.75, -8.0])
    mantissa, exponent = cnp.frexp(cr.tensor(x))
    assert exponent.dtype == np.int32
    np.testing.assert_array_equal(
        cr.grad(lambda v: cnp.sum(cnp.frexp(v)[0]))(x), 2.0 ** -np.frexp(x)[1])


def test_repeated_roots_have_no_derivative():
    for double in (np.array([1.0, -2.0, 1.0]), np.array([1.0, -3.0, 3.0, -1.0])):
        with pytest.raises(NonDifferentiableError, match="repeated root"):
            cr.grad(lambda p: cnp.sum(cnp.real(cnp.roots(p))))(double)
        _same(cnp.roots(double), np.roots(double))  # values are fine
    np.testing.assert_allclose(  # simple roots 1, 2: dr/dp = -r^(2 - k) / p'(r)
        cr.jacrev(cnp.roots)(np.array([1.0, -3.0, 2.0])), [[-4.0, -2.0, -1.0], [1.0, 1.0, 1.0]])


# ----- vmap --------------------------------------------------------------------------------------
def test_nan_functions_and_quantiles_batch_like_a_loop():
    batch = RNG.normal(size=(4, 3, 5))
    batch[1, 0, 2] = np.nan
    batch[2, 1, :] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for function in (
            lambda v: cnp.nanmedian(v, axis=-1),
            lambda v: cnp.nanquantile(v, np.array([0.2, 0.8]), axis=-1, method="midpoint"),
            lambda v: cnp.nanmax(v, axis=0),
            lambda v: cnp.nanvar(v, axis=1, ddof=1),
        ):
            looped = np.stack([np.asarray(function(example)) for example in batch])
            np.testing.assert_allclose(cr.vmap(function)(batch), looped, equal_nan=True)


def test_polydiv_under_vmap_trims_the_remainder_as_far_as_every_example_allows():
    u = RNG.normal(size=(3, 5))
    v = np.array([2.0, 0.5])
    remainders = cr.vmap(lambda a: cnp.polydiv(a, v)[1])(u)
    np.testing.assert_allclose(remainders, np.stack([np.polydiv(a, v)[1] for a in u]))


# ----- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, words", [
    (lambda: cnp.quantile(np.arange(3.0), 1.5), ValueError, r"range \[0, 1\]"),
    (lambda: cnp.percentile(np.arange(3.0), -1), ValueError, r"range \[0, 100\]"),
    (lambda: cnp.quantile(np.arange(3.0), 0.5, method="nope"), ValueError, "not a valid method"),
    (lambda: cnp.quantile(np.arange(3.0), 0.5, weights=np.ones(3)), ValueError, "inverted_cdf"),
    (lambda: cnp.quantile(np.ones(3) + 1j, 0.5), TypeError, "real numbers"),
    (lambda: cnp.median(np.ones(3) + 1j), DTypeError, r"cnp\.real\(z\)"),
    (lambda: cnp.i0(np.ones(3) + 1j), DTypeError, "real numbers"),
    (lambda: cnp.ldexp(np.ones(3), 1.5), TypeError, "ldexp"),
    (lambda: cnp.fmod(np.ones(3) + 1j, 2.0), TypeError, "fmod"),
    (lambda: cnp.convolve(np.ones(3), []), ValueError, "cannot be empty"),
    (lambda: cnp.convolve(np.ones(3), np.ones(2), "middle"), ValueError, "'valid', 'same'"),
    (lambda: cnp.correlate(np.ones((2, 2)), np.ones(2)), ValueError, "1-d"),
    (lambda: cnp.interp(0.5, [0.0, 1.0], [1.0]), ValueError, "same length"),
    (lambda: cnp.interp(0.5, [], []), ValueError, "empty"),
    (lambda: cnp.interp(0.5, [0.0, 1.0], [1.0, 2.0], period=0), ValueError, "non-zero"),
    (lambda: cnp.polyder([1.0, 2.0], -1), ValueError, "positive"),
    (lambda: cnp.polyfit([1.0, 2.0], [1.0, 2.0], -1), ValueError, "deg >= 0"),
    (lambda: cnp.polyfit([1.0, 2.0], [1.0], 1), TypeError, "same length"),
    (lambda: cnp.cumulative_sum(np.ones((2, 2))), ValueError, "axis"),
    (lambda: cnp.average(np.ones(3), weights=np.zeros(3)), ZeroDivisionError, "sum to zero"),
    (lambda: cnp.average(np.ones((2, 3)), weights=np.ones(3)), TypeError, "Axis must be"),
    (lambda: cnp.cov(np.ones((2, 2, 2))), ValueError, "more than 2 dimensions"),
    (lambda: cnp.cov(np.ones((2, 3)), fweights=[1.5, 1, 1]), TypeError, "integer"),
    (lambda: cnp.partition(np.ones(3), 1, order="f"), ValueError, "structured"),
])
def test_errors_say_what_is_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_polyfit_warns_when_the_fit_is_poorly_conditioned():
    with pytest.warns(np.exceptions.RankWarning):
        cnp.polyfit([0.0, 1.0, 2.0], [1.0, 2.0, 0.0], 5)


# ----- names and dispatch ------------------------------------------------------------------------
def test_array_api_spellings_are_the_rows_themselves():
    for alias, name in (("acos", "arccos"), ("asin", "arcsin"), ("atan", "arctan"),
                        ("acosh", "arccosh"), ("asinh", "arcsinh"), ("atanh", "arctanh"),
                        ("atan2", "arctan2"), ("pow", "power")):
        assert getattr(cnp, alias) is getattr(cnp, name)
        assert alias in cnp.__all__


@pytest.mark.parametrize("call, reference", [
    (lambda t: np.median(t, axis=0), lambda a: np.median(a, axis=0)),
    (lambda t: np.percentile(t, 30.0), lambda a: np.percentile(a, 30.0)),
    (lambda t: np.convolve(t[0], t[1]), lambda a: np.convolve(a[0], a[1])),
    (lambda t: np.heaviside(t - 0.5, 0.5), lambda a: np.heaviside(a - 0.5, 0.5)),
    (lambda t: np.interp(t, [0.0, 0.5, 1.0], [1.0, 3.0, 2.0]),
     lambda a: np.interp(a, [0.0, 0.5, 1.0], [1.0, 3.0, 2.0])),
    (lambda t: np.polyval(t[0], t[1]), lambda a: np.polyval(a[0], a[1])),
    (lambda t: np.nanmean(t), lambda a: np.nanmean(a)),
    (lambda t: np.sinc(t), lambda a: np.sinc(a)),
    (lambda t: np.unwrap(t * 9.0), lambda a: np.unwrap(a * 9.0)),
    (lambda t: np.acos(t), lambda a: np.acos(a)),
])
def test_numpys_functions_record_on_tensors(call, reference):
    a = RNG.uniform(0.1, 0.9, (2, 3))
    x = cr.tensor(a, requires_grad=True)
    out = call(x)
    assert isinstance(out, cr.Tensor)
    np.testing.assert_allclose(out.numpy(), reference(a))
    cnp.sum(out).backward()
    assert x.grad is not None and np.all(np.isfinite(x.grad.numpy()))


def test_nextafter_and_spacing_answer_on_values():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    _same(cnp.nextafter(x, np.inf), np.nextafter([1.0, -2.0], np.inf))
    _same(cnp.spacing(x), np.spacing([1.0, -2.0]))
