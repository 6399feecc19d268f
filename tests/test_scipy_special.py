"""chainrule.scipy.special: what the registry and composite sweeps do not say by themselves.

SciPy stays optional (imported on first use, MissingExtraError without it); the arguments with no
closed-form derivative refuse to be differentiated in both modes, naming themselves; batching
over those arguments; derivatives at edge points against closed forms, to the orders where the
chain rule alone would give 0 * infinity; complex numbers where SciPy has them, refused where it
does not; every row's values against SciPy's under its public name.
"""

import subprocess
import sys

import numpy as np
import pytest
import scipy.special as scipy_special

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.primitive import REGISTRY
from chainrule.errors import DTypeError, MissingExtraError, NonDifferentiableError
from chainrule.scipy import special
from samples import all_samples

ROWS = sorted(name for name in REGISTRY if name.startswith("special."))


# ----- SciPy is optional --------------------------------------------------------------------------
def test_importing_chainrule_and_its_scipy_modules_does_not_import_scipy():
    code = (
        "import sys\n"
        "import chainrule, chainrule.numpy\n"
        "import chainrule.scipy.special, chainrule.scipy.stats\n"
        "assert 'scipy' not in sys.modules, sorted(m for m in sys.modules if 'scipy' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_without_scipy_a_special_function_names_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # `import scipy.special` fails
    with pytest.raises(MissingExtraError, match=r"pip install 'chainrule\[scipy\]'"):
        special.erf(np.array([0.5]))
    with pytest.raises(ImportError):  # MissingExtraError is an ImportError too
        special.gammaln(2.0)


def test_without_scipy_in_a_fresh_interpreter_the_stats_say_the_same():
    code = (
        "import sys\n"
        "sys.modules['scipy'] = None\n"
        "import numpy as np\n"
        "from chainrule.errors import MissingExtraError\n"
        "from chainrule.scipy import special, stats\n"
        "for call in (lambda: special.ndtr(0.3), lambda: stats.norm.cdf(0.3),\n"
        "             lambda: stats.gamma.logpdf(1.0, 2.0)):\n"
        "    try:\n"
        "        call()\n"
        "    except MissingExtraError as exc:\n"
        "        assert \"pip install 'chainrule[scipy]'\" in str(exc), exc\n"
        "    else:\n"
        "        raise AssertionError('no MissingExtraError')\n"
        "assert abs(special.expit(0.0) - 0.5) < 1e-15  # built from chainrule's own rows\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ----- arguments without a derivative -------------------------------------------------------------
REFUSED = [
    ("polygamma", "n", lambda n: special.polygamma(n, 1.5), 2.0),
    ("gammainc", "a", lambda a: special.gammainc(a, 1.5), 2.0),
    ("gammaincc", "a", lambda a: special.gammaincc(a, 1.5), 2.0),
    ("gammaincinv", "a", lambda a: special.gammaincinv(a, 0.4), 2.0),
    ("gammainccinv", "a", lambda a: special.gammainccinv(a, 0.4), 2.0),
    ("betainc", "a", lambda a: special.betainc(a, 2.0, 0.3), 1.5),
    ("betainc", "b", lambda b: special.betainc(1.5, b, 0.3), 2.0),
    ("betaincinv", "b", lambda b: special.betaincinv(1.5, b, 0.3), 2.0),
    ("stdtr", "df", lambda df: special.stdtr(df, 0.7), 3.0),
    ("stdtrit", "df", lambda df: special.stdtrit(df, 0.7), 3.0),
    ("iv", "v", lambda v: special.iv(v, 1.5), 1.0),
    ("ive", "v", lambda v: special.ive(v, 1.5), 1.0),
    ("jv", "v", lambda v: special.jv(v, 1.5), 1.0),
    ("yv", "v", lambda v: special.yv(v, 1.5), 1.0),
    ("yn", "n", lambda n: special.yn(n, 1.5), 1.0),
    ("zeta", "x", lambda x: special.zeta(x, 1.5), 3.0),
    ("zeta", "x", lambda x: special.zeta(x), 3.0),
]


@pytest.mark.parametrize("function, argument, call, at", REFUSED,
                         ids=[f"{f}-{a}" for f, a, _, _ in REFUSED])
@pytest.mark.parametrize("mode", ["grad", "jvp", "tensor"])
def test_an_argument_without_a_closed_form_derivative_refuses_to_be_differentiated(
    function, argument, call, at, mode
):
    words = rf"scipy\.special\.{function} is not differentiable with respect to {argument}\b"
    with pytest.raises(NonDifferentiableError, match=words):
        if mode == "grad":
            cr.grad(call)(at)
        elif mode == "jvp":
            cr.jvp(call, (at,), (1.0,))
        else:
            value = cr.tensor(at, requires_grad=True)
            call(value).backward()
    np.testing.assert_allclose(call(at), call(np.float64(at)))  # its values are fine


def test_the_other_arguments_stay_differentiable_while_the_refused_one_is_constant():
    x = np.array([0.4, 1.3, 2.5])
    gradient = cr.grad(lambda x: cnp.sum(special.gammainc(2.5, x)))(x)
    np.testing.assert_allclose(gradient, x**1.5 * np.exp(-x) / scipy_special.gamma(2.5))
    gradient = cr.grad(lambda q: special.zeta(3.0, q))(1.5)
    np.testing.assert_allclose(gradient, -3.0 * scipy_special.zeta(4.0, 1.5))


# ----- batching over the non-differentiable operands (the sweep fixes them) -----------------------
BATCHED_OPERAND = [
    ("gammainc", np.array([0.5, 1.0, 3.0]), np.array([0.7, 1.5, 2.0])),
    ("gammaincinv", np.array([0.5, 1.0, 3.0]), np.array([0.2, 0.5, 0.9])),
    ("polygamma", np.array([0, 1, 3]), np.array([0.7, 1.5, 2.0])),
    ("iv", np.array([0.0, 1.5, 2.0]), np.array([0.7, 1.5, 2.0])),
    ("ive", np.array([0, 1, 2]), np.array([-0.7, 1.5, 2.0])),
    ("jv", np.array([0.0, 1.5, 2.0]), np.array([0.7, 1.5, 2.0])),
    ("yn", np.array([0, 1, 2]), np.array([0.7, 1.5, 2.0])),
    ("stdtr", np.array([1.0, 2.5, 30.0]), np.array([-0.7, 0.5, 2.0])),
    ("zeta", np.array([2.0, 3.0, 4.5]), np.array([0.7, 1.5, 2.0])),
]


@pytest.mark.parametrize("name, first, second", BATCHED_OPERAND,
                         ids=[b[0] for b in BATCHED_OPERAND])
def test_vmap_over_both_operands_and_grad_in_the_second_match_a_loop(name, first, second):
    function = getattr(special, name)
    stacked_first = np.stack([first, first[::-1], first])
    stacked_second = np.stack([second, second * 0.9, second[::-1]])
    found = cr.vmap(function)(stacked_first, stacked_second)
    expected = [getattr(scipy_special, name)(a, b) for a, b in zip(stacked_first, stacked_second)]
    np.testing.assert_allclose(found, np.stack(expected), rtol=1e-12)

    def loss(a, x):
        return cnp.sum(function(a, x) ** 2)

    gradient = cr.grad(loss, argnums=1)
    found = cr.vmap(gradient)(stacked_first, stacked_second)
    loop = [gradient(a, b) for a, b in zip(stacked_first, stacked_second)]
    np.testing.assert_allclose(found, np.stack(loop), rtol=1e-12)


def test_riemann_zeta_batches_and_keeps_scipys_values_below_one():
    x = np.array([[-3.5, 0.5, 2.0], [-1.0, 0.0, 6.0]])
    np.testing.assert_allclose(cr.vmap(special.zeta)(x), scipy_special.zeta(x), rtol=1e-13)
    assert np.isfinite(special.zeta(0.5))  # zeta(0.5, 1) would be NaN: Riemann's is not


# ----- edge points, against closed forms ----------------------------------------------------------
def _derivatives(function, x, order):
    """d^k f / dx^k at x for k = 1..order, by nesting cr.grad (scalar x)."""
    found, derivative = [], function
    for _ in range(order):
        derivative = cr.grad(derivative)
        found.append(float(derivative(x)))
    return found


def test_gammainc_at_zero_to_second_order():
    # P(1, x) = 1 - e^-x: 1, -1; P(2, x) = 1 - e^-x (1 + x): 0, 1; P(3, x): 0, 0.
    assert _derivatives(lambda x: special.gammainc(1.0, x), 0.0, 2) == pytest.approx([1, -1])
    assert _derivatives(lambda x: special.gammainc(2.0, x), 0.0, 2) == pytest.approx([0, 1])
    assert _derivatives(lambda x: special.gammainc(3.0, x), 0.0, 2) == pytest.approx([0, 0])
    assert _derivatives(lambda x: special.gammaincc(2.0, x), 0.0, 2) == pytest.approx([0, -1])
    hessian = cr.hessian(lambda x: cnp.sum(special.gammainc(np.array([1.0, 2.0]), x)))
    np.testing.assert_allclose(hessian(np.zeros(2)), np.diag([-1.0, 1.0]), atol=1e-15)


def test_gammainc_density_stays_finite_for_large_shape_and_argument():
    # x^(a-1) overflows for a = 400, x = 380; e^-x underflows: the log form is finite.
    gradient = cr.grad(lambda x: special.gammainc(400.0, x))(380.0)
    expected = np.exp(399.0 * np.log(380.0) - 380.0 - scipy_special.gammaln(400.0))
    np.testing.assert_allclose(gradient, expected, rtol=1e-10)


def test_betainc_at_both_ends():
    # I_x(1, b) = 1 - (1-x)^b: d/dx = b (1-x)^(b-1) -> b at 0; I_x(a, 1) = x^a -> a at 1.
    assert _derivatives(lambda x: special.betainc(1.0, 3.0, x), 0.0, 2) == pytest.approx([3, -6])
    assert _derivatives(lambda x: special.betainc(2.0, 1.0, x), 1.0, 2) == pytest.approx([2, 2])


def test_bessel_i1_at_zero_to_third_order():
    # I_1(x) = x/2 + x^3/16 + ...: 1/2, 0, 3/8.
    assert _derivatives(special.i1, 0.0, 3) == pytest.approx([0.5, 0.0, 0.375])
    assert _derivatives(special.i0, 0.0, 2) == pytest.approx([0.0, 0.5])


def test_scaled_bessel_functions_at_their_kink_take_the_mean_of_both_sides():
    # e^-|x| I_0(x): slopes -1 and +1 on either side of 0, the convention 0 between them.
    assert cr.grad(special.i0e)(0.0) == 0.0
    assert cr.grad(special.i1e)(0.0) == pytest.approx(0.5)  # both sides agree


def test_log_ndtr_far_in_the_lower_tail():
    # d log Phi(x) = phi(x) / Phi(x) ~ -x for x -> -inf; where Phi underflows to 0 (x = -40),
    # pdf / ndtr would be 0 / 0.
    x = np.array([-40.0, -1e3, 5.0])
    gradient = cr.grad(lambda x: cnp.sum(special.log_ndtr(x)))(x)
    assert np.all(np.isfinite(gradient))
    np.testing.assert_allclose(gradient[:2], -x[:2], rtol=1e-3)


def test_xlogy_is_differentiable_in_y_where_x_is_zero():
    gradient = cr.grad(lambda x, y: special.xlogy(x, y), argnums=(0, 1))(0.0, 0.0)
    assert gradient[1] == 0.0  # the term is 0 for every y
    gradient = cr.grad(lambda y: special.xlog1py(0.0, y))(-1.0)
    assert gradient == 0.0


def test_any_order_comes_from_the_rules_themselves():
    x = 1.7
    third = cr.grad(cr.grad(cr.grad(special.gammaln)))(x)
    np.testing.assert_allclose(third, scipy_special.polygamma(2, x), rtol=1e-12)
    fourth = cr.grad(cr.grad(cr.grad(cr.grad(special.erf))))(x)
    # erf'''' = 2/sqrt(pi) d^3 e^-x^2 = 2/sqrt(pi) (-8x^3 + 12x) e^-x^2
    expected = 2 / np.sqrt(np.pi) * (-8 * x**3 + 12 * x) * np.exp(-x * x)
    np.testing.assert_allclose(fourth, expected, rtol=1e-12)


# ----- complex numbers ----------------------------------------------------------------------------
def test_complex_erf_is_holomorphic_in_both_modes():
    z = np.array([0.3 + 0.4j, -1.0 + 0.2j])
    derivative = 2 / np.sqrt(np.pi) * np.exp(-(z**2))
    np.testing.assert_allclose(special.erf(z), scipy_special.erf(z))
    _, pushed = cr.jvp(special.erf, (z,), (np.ones(2, complex),))
    np.testing.assert_allclose(pushed, derivative)
    # cr.grad of L = Re f is dL/dx - i dL/dy (JAX's convention): f'(z) for holomorphic f
    gradient = cr.grad(lambda z: cnp.sum(cnp.real(special.erf(z))))(z)
    np.testing.assert_allclose(gradient, derivative)


@pytest.mark.parametrize("name", ["gammaln", "gamma", "digamma", "rgamma", "erfinv", "i0",
                                  "polygamma", "gammainc", "zeta", "ive", "expit", "logit"])
def test_complex_numbers_are_refused_where_scipy_or_the_derivatives_are_real_only(name):
    z = np.array([0.5 + 0.3j])
    two_arguments = {"polygamma": (1, z), "gammainc": (2.0, z), "zeta": (z, 1.5),
                     "ive": (1.0, z)}
    with pytest.raises(DTypeError, match=rf"scipy\.special\.{name} got a complex operand"):
        getattr(special, name)(*two_arguments.get(name, (z,)))


def test_every_row_has_complex_samples_or_refuses_complex_numbers():
    samples = all_samples()
    with_complex = {n for n in ROWS if any(s.is_complex for s in samples[n])}
    assert with_complex == {
        f"special.{n}" for n in ("erf", "erfc", "erfcx", "ndtr", "log_ndtr", "xlogy", "xlog1py",
                                 "iv", "jv", "yv")
    }
    for name in sorted(set(ROWS) - with_complex):
        sample = samples[name][0]
        args = [a + 0.5j if np.asarray(a).dtype.kind == "f" else a for a in sample.args]
        with pytest.raises(DTypeError, match="complex operand"):
            sample.function(REGISTRY[name])(*args)


# ----- values, names, dtypes ----------------------------------------------------------------------
VALUES = {
    "erf": (0.7,), "erfc": (0.7,), "erfinv": (0.7,), "erfcinv": (0.7,), "erfcx": (0.7,),
    "ndtr": (0.7,), "ndtri": (0.7,), "log_ndtr": (-7.0,), "gamma": (-1.5,), "gammaln": (-1.5,),
    "digamma": (0.7,), "psi": (0.7,), "polygamma": (2, 0.7), "rgamma": (-1.5,),
    "gammasgn": (-1.5,), "beta": (0.7, 2.0), "betaln": (70.0, 20.0), "gammainc": (2.5, 0.7),
    "gammaincc": (2.5, 0.7), "gammaincinv": (2.5, 0.7), "gammainccinv": (2.5, 0.7),
    "betainc": (2.0, 3.0, 0.7), "betaincinv": (2.0, 3.0, 0.7), "stdtr": (3.0, -0.7),
    "stdtrit": (3.0, 0.7), "xlogy": (0.0, 0.0), "xlog1py": (2.0, 0.7), "entr": (0.7,),
    "rel_entr": (0.7, 0.2), "kl_div": (0.7, 0.2), "i0": (0.7,), "i0e": (-0.7,), "i1": (0.7,),
    "i1e": (-0.7,), "iv": (1.5, 0.7), "ive": (1.5, 0.7), "j0": (0.7,), "j1": (0.7,),
    "jn": (2, 0.7), "jv": (1.5, 0.7), "y0": (0.7,), "y1": (0.7,), "yn": (2, 0.7),
    "yv": (1.5, 0.7), "expit": (0.7,), "logit": (0.7,), "zeta": (3.0, 0.7),
    "multigammaln": (3.5, 3), "logsumexp": (np.array([0.7, -2.0]),),
    "softmax": (np.array([0.7, -2.0]),), "log_softmax": (np.array([0.7, -2.0]),),
}


def test_every_public_name_is_scipys_and_gives_scipys_value():
    assert sorted(special.__all__) == sorted(VALUES)
    for name, args in VALUES.items():
        np.testing.assert_allclose(getattr(special, name)(*args),
                                   getattr(scipy_special, name)(*args), rtol=1e-13, err_msg=name)


def test_the_rows_live_apart_from_chainrule_numpys():
    assert ROWS and all(REGISTRY[name].family == "special" for name in ROWS)
    assert not any(REGISTRY[name].names for name in ROWS)  # not published in chainrule.numpy
    assert special.erf is REGISTRY["special.erf"] and special.psi is special.digamma


def test_an_integer_order_keeps_float32_float32():
    x = np.array([0.5, 1.5], dtype=np.float32)
    assert special.polygamma(1, x).dtype == np.float32
    assert special.gammainc(np.array([1, 2]), x).dtype == np.float32
    assert special.gammainc(2.0, x).dtype == np.float32  # a Python float does not promote
    assert special.iv(np.array([0, 1]), x).dtype == np.float32


def test_logsumexp_with_signed_weights():
    a = np.array([[0.5, 1.0, -0.3], [2.0, 0.1, 0.0]])
    b = np.array([1.0, -2.0, 0.5])
    out, sign = special.logsumexp(a, axis=1, b=b, return_sign=True)
    expected = scipy_special.logsumexp(a, axis=1, b=b, return_sign=True)
    np.testing.assert_allclose(out, expected[0])
    np.testing.assert_array_equal(sign, expected[1])
    with np.errstate(invalid="ignore"):
        assert np.isnan(special.logsumexp(a[0], b=b))  # a negative sum, without return_sign
    # d/db_j of log|sum b e^a| = e^(a_j) / sum, whatever its sign
    gradient = cr.grad(lambda b: special.logsumexp(a[0], b=b, return_sign=True)[0])(b)
    np.testing.assert_allclose(gradient, np.exp(a[0]) / np.sum(b * np.exp(a[0])))


def test_multigammaln_refuses_what_scipy_refuses():
    with pytest.raises(ValueError, match="positive integer"):
        special.multigammaln(3.0, 2.5)
    with pytest.raises(ValueError, match="not met"):
        special.multigammaln(np.array([0.9, 3.0]), 3)
