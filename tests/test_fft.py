"""chainrule.numpy.fft against np.fft (values) and central differences of np.fft (derivatives).

Every function is checked over every norm and a grid of n/s and axes (crop, zero-pad, one
point, odd and even lengths, axes in any order, repeated axes, -1 in s), on plain arrays and
on Tensors. Derivatives are checked against differences that perturb the real and imaginary
parts of a complex input separately (a real input, such as rfft's, only along real directions):
the VJP under the bilinear pairing <w, t> = Re(sum w t) (JAX's convention), the JVP along a
complex direction, the transposition identity, Jacobians (holomorphic=True from complex to
complex), second order, and cr.vmap against a loop. Expected values come from NumPy or from
differences, never from chainrule.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.batching import FALLBACKS
from chainrule.core.tensor import HANDLED_FUNCTIONS, raw_value
from chainrule.errors import ArgumentError, DTypeError, ShapeError, UnsupportedFunctionError

NORMS = (None, "backward", "ortho", "forward")
STEP = 1e-3  # the transforms are linear: differences are exact up to rounding


def _input(kind, shape, seed=0):
    generator = np.random.default_rng(seed)
    value = generator.standard_normal(shape)
    if kind == "complex":
        value = value + 1j * generator.standard_normal(shape)
    return value


def _normal_like(value, generator):
    """Standard normal entries of value's shape (complex where value is)."""
    out = generator.standard_normal(np.shape(value))
    if np.iscomplexobj(value):
        out = out + 1j * generator.standard_normal(np.shape(value))
    return out


def _units(x):
    """The real directions of one entry: 1, and i for a complex input."""
    return (1.0, 1j) if np.iscomplexobj(x) else (1.0,)


def _differences(function, x, direction, step=STEP):
    return (function(x + step * direction) - function(x - step * direction)) / (2 * step)


def _entry(x, index, unit):
    direction = np.zeros(x.shape, dtype=np.result_type(x, unit))
    direction.flat[index] = unit
    return direction


def _vjp_by_differences(function, x, cotangent):
    """The w with Re(sum w t) = Re(sum c J t) for every real direction t of x: for each entry,
    w = sum over units u (1, and i for complex x) of Re(sum c J(u e)) conj(u)."""
    w = np.zeros(x.shape, dtype=x.dtype)
    for index in range(x.size):
        for unit in _units(x):
            derivative = _differences(function, x, _entry(x, index, unit))
            w.flat[index] += np.real(np.sum(cotangent * derivative)) * np.conj(unit)
    return w


def _jacobian_by_differences(function, x, unit=1.0):
    """d out / d x along `unit` (1: the real part; for a holomorphic function, f'), shape
    out.shape + x.shape."""
    columns = [_differences(function, x, _entry(x, i, unit)) for i in range(x.size)]
    out_shape = np.shape(columns[0])
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape)


def _close(found, expected, rtol=1e-7, what=""):
    expected = np.asarray(expected)
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(raw_value(found), expected, rtol=rtol, atol=1e-9 * scale,
                               err_msg=what)


# ----- the grid of calls -------------------------------------------------------------------------
# (function, the kind of input NumPy accepts it with). An input of shape (4, 5) for the 1-d
# functions, (2, 3, 4) for the n-d ones.
ONE_AXIS = [
    ("fft", "complex"), ("fft", "real"), ("ifft", "complex"), ("ifft", "real"),
    ("rfft", "real"), ("irfft", "complex"), ("irfft", "real"), ("hfft", "complex"),
    ("hfft", "real"), ("ihfft", "real"),
]
ONE_AXIS_ARGS = [
    {}, {"n": 3}, {"n": 8}, {"n": 1}, {"n": 2}, {"axis": 0}, {"axis": 0, "n": 7},
    {"axis": -2, "n": 3},
]
SEVERAL_AXES = [
    ("fftn", "complex"), ("fftn", "real"), ("ifftn", "complex"), ("ifftn", "real"),
    ("rfftn", "real"), ("irfftn", "complex"), ("irfftn", "real"),
]
SEVERAL_AXES_ARGS = [
    {}, {"axes": (0,)}, {"axes": (2, 0)}, {"axes": (-1, 0, 1)}, {"s": (3, 5), "axes": (1, 2)},
    {"s": (2, 2), "axes": (2, 1)}, {"s": (4, -1, 3), "axes": (0, 1, 2)},
    {"s": (1, 1), "axes": (0, 2)}, {"axes": (1, 1)}, {"s": (5, 3), "axes": (2, 2)},
    {"s": (3, 4, 2), "axes": (0, 2, 0)},
]
TWO_AXES = [("fft2", "complex"), ("ifft2", "complex"), ("rfft2", "real"), ("irfft2", "complex"),
            ("fft2", "real")]
TWO_AXES_ARGS = [
    {}, {"s": (4, 3)}, {"axes": (0, 2)}, {"axes": (2, 0)}, {"s": (2, 7), "axes": (1, 0)},
]


def _cases():
    groups = [
        (ONE_AXIS, ONE_AXIS_ARGS, (4, 5)),
        (SEVERAL_AXES, SEVERAL_AXES_ARGS, (2, 3, 4)),
        (TWO_AXES, TWO_AXES_ARGS, (2, 3, 4)),
    ]
    cases = []
    for functions, arguments, shape in groups:
        for name, kind in functions:
            for kwargs in arguments:
                for norm in NORMS:
                    call = dict(kwargs, norm=norm) if norm is not None else kwargs
                    label = f"{name}-{kind}-{kwargs}-{norm}"
                    cases.append(pytest.param(name, kind, shape, call, id=label))
    return cases


CASES = _cases()


def _functions(name, kwargs):
    return (lambda a: getattr(cnp.fft, name)(a, **kwargs),
            lambda a: getattr(np.fft, name)(a, **kwargs))


@pytest.mark.parametrize("name, kind, shape, kwargs", CASES)
def test_values_match_numpy(name, kind, shape, kwargs):
    ours, numpys = _functions(name, kwargs)
    x = _input(kind, shape)
    expected = numpys(x)
    found = ours(x)
    assert type(found) is np.ndarray and found.dtype == expected.dtype
    _close(found, expected, what="plain array")
    recorded = ours(cr.tensor(x, requires_grad=True))
    assert raw_value(recorded).dtype == expected.dtype
    _close(recorded, expected, what="Tensor")


@pytest.mark.parametrize("name, kind, shape, kwargs", CASES)
def test_derivatives_match_differences(name, kind, shape, kwargs):
    """VJP against differences (real and imaginary parts separately), JVP along a complex
    direction where the input is complex (real otherwise), and <vjp(c), t> = <c, jvp(t)>."""
    ours, numpys = _functions(name, kwargs)
    x = _input(kind, shape, seed=1)
    generator = np.random.default_rng(2)
    out = numpys(x)
    cotangent = _normal_like(out, generator)
    tangent = _normal_like(x, generator)

    _, pullback = cr.vjp(ours, x)
    (gradient,) = pullback(cotangent)
    assert raw_value(gradient).dtype == x.dtype  # a real input's gradient is real
    _close(gradient, _vjp_by_differences(numpys, x, cotangent), 1e-6, "VJP")

    _, pushed = cr.jvp(ours, (x,), (tangent,))
    _close(pushed, _differences(numpys, x, tangent), 1e-6, "JVP")

    paired_in = np.real(np.sum(raw_value(gradient) * tangent))
    paired_out = np.real(np.sum(cotangent * raw_value(pushed)))
    np.testing.assert_allclose(paired_in, paired_out, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name, kwargs", [
    ("fft", {}), ("rfft", {"n": 6}), ("rfftn", {"axes": (1, 0)}), ("rfft2", {}), ("ifft2", {}),
])
def test_a_complex_tangent_of_a_real_input_is_pushed_linearly(name, kwargs):
    """jvp with a complex tangent a + ib of a real input (asked for) gives J a + i J b through
    the C-linear transforms; NumPy's rfft refuses complex input, so rfftn's rule transforms the
    two parts. (Through an R-linear step, irfft's or the conj in ihfft and hfft, the imaginary
    part is a perturbation of the complex value there, as for cnp.real and cnp.conj.)"""
    ours, numpys = _functions(name, kwargs)
    x = _input("real", (3, 4), seed=25)
    tangent = _input("complex", (3, 4), seed=26)
    expected = (_differences(numpys, x, tangent.real)
                + 1j * _differences(numpys, x, tangent.imag))
    _close(cr.jvp(ours, (x,), (tangent,))[1], expected, 1e-6)


# ----- Jacobians ---------------------------------------------------------------------------------
HOLOMORPHIC = [
    ("fft", {}), ("fft", {"n": 3, "norm": "ortho"}), ("ifft", {"n": 6}), ("fftn", {}),
    ("ifftn", {"axes": (1, 0), "norm": "forward"}), ("fft2", {"s": (2, 4)}), ("ifft2", {}),
]


@pytest.mark.parametrize("name, kwargs", HOLOMORPHIC)
def test_holomorphic_jacobians_of_complex_transforms(name, kwargs):
    ours, numpys = _functions(name, kwargs)
    z = _input("complex", (3, 4), seed=3)
    expected = _jacobian_by_differences(numpys, z)
    # A C-linear map: the derivative along i is i times the derivative along 1.
    _close(_jacobian_by_differences(numpys, z, 1j), 1j * expected, 1e-6)
    for jacobian in (cr.jacfwd, cr.jacrev):
        _close(jacobian(ours, holomorphic=True)(z), expected, 1e-6, jacobian.__name__)


@pytest.mark.parametrize("name, kwargs", [
    ("rfft", {}), ("rfft", {"n": 6, "norm": "ortho"}), ("rfftn", {}), ("rfft2", {"s": (4, 5)}),
    ("ihfft", {"n": 5}), ("fft", {"axis": 0}),
])
def test_jacfwd_of_real_to_complex_transforms(name, kwargs):
    ours, numpys = _functions(name, kwargs)
    x = _input("real", (3, 4), seed=4)
    _close(cr.jacfwd(ours)(x), _jacobian_by_differences(numpys, x), 1e-6)


@pytest.mark.parametrize("name, kwargs", [
    ("irfft", {}), ("irfft", {"n": 5, "norm": "forward"}), ("irfftn", {}), ("hfft", {"n": 4}),
    ("irfft2", {"s": (3, 3)}),
])
def test_jacrev_of_complex_to_real_transforms(name, kwargs):
    """A real output of a complex input: each row of jacrev is that entry's gradient in grad's
    convention, d/dx - i d/dy."""
    ours, numpys = _functions(name, kwargs)
    z = _input("complex", (3, 4), seed=5)
    expected = _jacobian_by_differences(numpys, z) - 1j * _jacobian_by_differences(numpys, z, 1j)
    _close(cr.jacrev(ours)(z), expected, 1e-6)


@pytest.mark.parametrize("name, kwargs", [("irfft", {"n": 7}), ("hfft", {}), ("irfftn", {})])
def test_jacobians_of_real_to_real_transforms(name, kwargs):
    ours, numpys = _functions(name, kwargs)
    x = _input("real", (3, 4), seed=6)
    expected = _jacobian_by_differences(numpys, x)
    for jacobian in (cr.jacfwd, cr.jacrev):
        _close(jacobian(ours)(x), expected, 1e-6, jacobian.__name__)


# ----- the half-spectrum -------------------------------------------------------------------------
@pytest.mark.parametrize("n", [6, 7])
def test_irfft_ignores_the_imaginary_parts_of_self_conjugate_bins(n):
    """NumPy drops Im of the zero-frequency bin (and of the Nyquist bin for even n); their
    gradient is zero. The interior bins count twice (each stands for a conjugate pair)."""
    a = _input("complex", (n // 2 + 1,), seed=7)
    moved = a.copy()
    moved[0] += 0.5j
    if n % 2 == 0:
        moved[-1] -= 0.25j
    np.testing.assert_allclose(np.fft.irfft(moved, n), np.fft.irfft(a, n))
    weights = np.random.default_rng(8).standard_normal(n)

    def loss(a):
        return cnp.sum(weights * cnp.fft.irfft(a, n))

    gradient = cr.grad(loss)(a)
    assert np.imag(gradient[0]) == 0.0
    if n % 2 == 0:
        assert np.imag(gradient[-1]) == 0.0
    expected = _vjp_by_differences(lambda a: np.fft.irfft(a, n), a, weights)
    _close(gradient, expected, 1e-6)
    interior = slice(1, -1) if n % 2 == 0 else slice(1, None)
    spectrum = np.fft.fft(weights)[: n // 2 + 1]
    _close(gradient[interior], 2 * np.conj(spectrum[interior]) / n, 1e-10)


def test_rfft_gradient_is_the_real_part_of_the_complex_transpose():
    """For real x, <c, rfft(x)> = Re(sum F^T H^T c x) = sum Re(F^T H^T c) x: the gradient is
    the real part of fft of the zero-padded cotangent, and real."""
    x = _input("real", (6,), seed=9)
    c = _input("complex", (4,), seed=10)
    gradient = cr.vjp(cnp.fft.rfft, x)[1](c)[0]
    assert raw_value(gradient).dtype == np.float64
    padded = np.concatenate([c, np.zeros(2)])
    _close(gradient, np.real(np.fft.fft(padded)), 1e-12)
    _close(gradient, _vjp_by_differences(np.fft.rfft, x, c), 1e-6)


# ----- second order ------------------------------------------------------------------------------
def _second_differences(scalar, x, step=1e-3):
    basis = np.eye(x.size).reshape((x.size,) + x.shape) * step
    hessian = np.empty((x.size, x.size))
    for i in range(x.size):
        for j in range(x.size):
            corners = [
                scalar(x + si * basis[i] + sj * basis[j]) for si in (1, -1) for sj in (1, -1)
            ]
            hessian[i, j] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * step**2)
    return hessian


def _spectral_loss(fft_module, sin, cos, conj, real):
    weights = np.random.default_rng(11).standard_normal(4)

    def loss(xy):  # a real function of a complex signal built from real coordinates
        z = xy[:5] + 1j * xy[5:]
        spectrum = fft_module.fft(z, n=8, norm="ortho")
        power = fft_module.rfft(fft_module.irfft(spectrum * spectrum, n=6)) * weights
        return (sin(fft_module.hfft(spectrum[:5], n=8)).sum()
                + cos(real(power * conj(power))).sum())

    return loss


def test_hessian_through_complex_transforms_matches_second_differences():
    xy = _input("real", (10,), seed=12) * 0.3
    expected = _second_differences(_spectral_loss(np.fft, np.sin, np.cos, np.conj, np.real), xy)
    ours = _spectral_loss(cnp.fft, cnp.sin, cnp.cos, cnp.conj, cnp.real)
    for how, hessian in {
        "jacfwd(jacrev)": cr.hessian(ours),
        "jacrev(jacrev)": cr.jacrev(cr.jacrev(ours)),
        "jacfwd(jacfwd)": cr.jacfwd(cr.jacfwd(ours)),
    }.items():
        _close(hessian(xy), expected, 1e-4, how)


def test_holomorphic_second_derivative():
    weights = _input("complex", (5,), seed=13)

    def function(fft_module):
        return lambda z: (fft_module.fft(z * z) * weights).sum()

    z = _input("complex", (5,), seed=14)
    ours = cr.hessian(function(cnp.fft), holomorphic=True)(z)
    # f(z) = sum_k w_k sum_j z_j^2 e(j, k): f'' is diagonal, 2 sum_k w_k e(j, k).
    expected = np.diag(2 * np.fft.fft(np.eye(5)) @ weights)
    gradient = cr.grad(function(cnp.fft), holomorphic=True)
    _close(ours, expected, 1e-10)
    _close(_jacobian_by_differences(lambda z: raw_value(gradient(z)), z), expected, 1e-6)


# ----- batching ----------------------------------------------------------------------------------
BATCHED = [
    ("fft", "complex", {}), ("ifft", "complex", {"n": 3, "axis": 0}),
    ("rfft", "real", {"n": 6, "norm": "ortho"}), ("irfft", "complex", {"axis": 0}),
    ("hfft", "complex", {"n": 5}), ("ihfft", "real", {}),
    ("fftn", "complex", {"s": (2, 6), "axes": (0, 1)}), ("ifftn", "real", {"axes": (1, 0)}),
    ("rfftn", "real", {"axes": (1, 0)}),
    ("irfftn", "complex", {"s": (4, 5), "axes": (0, 1), "norm": "forward"}),
    ("fft2", "complex", {"axes": (1, 1)}),
    ("rfft2", "real", {}), ("irfft2", "complex", {"s": (2, 3)}),
    ("fftshift", "real", {}), ("ifftshift", "complex", {"axes": 0}),
]


@pytest.mark.parametrize("name, kind, kwargs", BATCHED)
def test_vmap_matches_a_loop(name, kind, kwargs):
    ours, numpys = _functions(name, kwargs)
    batch = _input(kind, (3, 4, 5), seed=15)
    before = dict(FALLBACKS)
    expected = np.stack([numpys(example) for example in batch])
    _close(cr.vmap(ours)(batch), expected, 1e-12, "in_axes=0")
    _close(cr.vmap(ours, in_axes=2)(np.moveaxis(batch, 0, 2)), expected, 1e-12, "in_axes=2")

    weights = _normal_like(expected, np.random.default_rng(16))

    def loss(x, w):
        return cnp.sum(cnp.real(ours(x) * w))

    gradients = cr.vmap(cr.grad(loss))(batch, weights)
    for example, w, gradient in zip(batch, weights, gradients):
        _close(gradient, _vjp_by_differences(numpys, example, w), 1e-6, "vmap(grad)")
    assert dict(FALLBACKS) == before, "an FFT call went row by row under vmap"


# ----- shifts and frequencies --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("axes", [None, 0, 1, (1, 0), (-1,)])
@pytest.mark.parametrize("shape", [(4, 5), (3, 6)])
def test_shifts_match_numpy_and_move_gradients_back(name, axes, shape):
    ours, numpys = _functions(name, {"axes": axes})
    z = _input("complex", shape, seed=17)
    _close(ours(z), numpys(z), 0)
    cotangent = _input("complex", shape, seed=18)
    (gradient,) = cr.vjp(ours, z)[1](cotangent)
    _close(gradient, _vjp_by_differences(numpys, z, cotangent), 1e-8)


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("n, d", [(8, 1.0), (7, 0.1), (1, 2.0)])
def test_frequencies_match_numpy(name, n, d):
    found = getattr(cnp.fft, name)(n, d)
    expected = getattr(np.fft, name)(n, d)
    assert type(found) is np.ndarray
    np.testing.assert_array_equal(found, expected)


def test_frequencies_are_differentiable_in_a_tensor_spacing():
    def total(d):
        return cnp.sum(cnp.fft.fftfreq(6, d) ** 2) + cnp.sum(cnp.fft.rfftfreq(6, d))

    def numpys(d):
        return np.sum(np.fft.fftfreq(6, d) ** 2) + np.sum(np.fft.rfftfreq(6, d))

    d = 0.3
    _close(cr.grad(total)(d), _differences(numpys, d, 1.0, 1e-6), 1e-6)
    _close(total(cr.tensor(d)), numpys(d), 1e-12)


# ----- dtypes, the Tensor API and NumPy dispatch --------------------------------------------------
@pytest.mark.parametrize("name, kind", [("fft", "real"), ("fft", "complex"), ("rfft", "real"),
                                        ("irfft", "complex"), ("fftn", "complex"),
                                        ("ihfft", "real"), ("hfft", "complex")])
def test_single_precision_stays_single(name, kind):
    """float32 pairs with complex64: values as NumPy gives them, gradients in the input's dtype."""
    x = _input(kind, (3, 4), seed=19).astype(np.complex64 if kind == "complex" else np.float32)
    leaf = cr.tensor(x, requires_grad=True)
    out = getattr(cnp.fft, name)(leaf)
    expected = getattr(np.fft, name)(x)
    assert raw_value(out).dtype == expected.dtype
    np.testing.assert_allclose(raw_value(out), expected, rtol=1e-5, atol=1e-5)
    cnp.sum(cnp.abs(out) ** 2).backward()
    assert leaf.grad.dtype == x.dtype


def test_backward_gives_pytorchs_convention_on_a_complex_leaf():
    """.grad is the conjugate of the functional gradient: dL/dx + i dL/dy."""
    z = _input("complex", (6,), seed=20)
    weights = np.random.default_rng(21).standard_normal(4)

    def loss(np_module, z):
        signal = np_module.real(np_module.fft.ifft(z))
        return (weights * abs(np_module.fft.rfft(signal, n=6)) ** 2).sum()

    leaf = cr.tensor(z, requires_grad=True)
    loss(cnp, leaf).backward()
    expected = np.zeros(6, complex)
    for index in range(6):
        for unit in (1.0, 1j):
            derivative = _differences(lambda z: loss(np, z), z, _entry(z, index, unit), 1e-6)
            expected[index] += derivative * unit
    _close(leaf.grad, expected, 1e-6)
    _close(cr.grad(lambda z: loss(cnp, z))(z), np.conj(expected), 1e-6)


def test_numpy_fft_functions_dispatch_to_chainrule():
    for name in cnp.fft.__all__:
        if name not in ("fftfreq", "rfftfreq"):
            assert HANDLED_FUNCTIONS[getattr(np.fft, name)] is getattr(cnp.fft, name), name
    x = _input("real", (8,), seed=22)
    leaf = cr.tensor(x, requires_grad=True)
    spectrum = np.fft.rfft(np.fft.fftshift(leaf), n=10)
    assert isinstance(spectrum, cr.Tensor)
    cnp.sum(cnp.abs(spectrum) ** 2).backward()
    expected = _differences_gradient(
        lambda x: np.sum(np.abs(np.fft.rfft(np.fft.fftshift(x), 10)) ** 2), x
    )
    _close(leaf.grad, expected, 1e-6)


def _differences_gradient(scalar, x):
    return np.array([_differences(scalar, x, _entry(x, i, 1.0)) for i in range(x.size)])


def test_the_submodule_is_public():
    assert "fft" in cnp.__all__
    import chainrule.numpy.fft as module

    assert cnp.fft is module
    assert sorted(module.__all__) == sorted([
        "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
        "fftn", "ifftn", "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
    ])


# ----- errors ------------------------------------------------------------------------------------
X = np.ones((2, 3))
Z = np.ones((2, 3), complex)


@pytest.mark.parametrize("call, error, words", [
    (lambda: cnp.fft.fft(X, axis=2), ShapeError, r"axis 2 is out of range .* 2 dimensions"),
    (lambda: cnp.fft.fft(X, axis=-3), ShapeError, "axis -3 is out of range"),
    (lambda: cnp.fft.fft(np.float64(1.0)), ShapeError, "0-d array has no axis"),
    (lambda: cnp.fft.fft(X, n=0), ShapeError, "n=0 is not a valid number of data points"),
    (lambda: cnp.fft.ifft(Z, n=-2), ShapeError, "n=-2"),
    (lambda: cnp.fft.fft(Z, n=2.5), ArgumentError, "n must be an integer, got 2.5"),
    (lambda: cnp.fft.fft(Z, axis=1.0), ArgumentError, "axis must be an integer"),
    (lambda: cnp.fft.fft(X, norm="unitary"), ArgumentError, "norm='unitary' is not one of"),
    (lambda: cnp.fft.irfft(np.ones(1)), ShapeError, "irfft: n=0"),
    (lambda: cnp.fft.rfft(Z), DTypeError, "rfft transforms real input.*fft/fftn"),
    (lambda: cnp.fft.ihfft(Z), DTypeError, "ihfft transforms real input"),
    (lambda: cnp.fft.rfftn(cr.tensor(Z)), DTypeError, "rfftn transforms real input"),
    (lambda: cnp.fft.fftn(X, s=(2, 3), axes=(0,)), ShapeError, "s has 2 entries and axes has 1"),
    (lambda: cnp.fft.fft2(X, axes=(0, 5)), ShapeError, "axis 5 is out of range"),
    (lambda: cnp.fft.irfftn(Z, s=(2, 0), axes=(0, 1)), ShapeError, "s=0"),
    (lambda: cnp.fft.rfftn(X, axes=()), ShapeError, "rfftn: needs at least one axis"),
    (lambda: cnp.fft.fft(X, out=np.empty((2, 3), complex)), UnsupportedFunctionError, "out="),
    (lambda: cnp.fft.fftshift(X, axes=2), ShapeError, "fftshift: axis 2"),
])
def test_bad_arguments_raise_errors_that_name_the_function(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_s_without_axes_warns_as_numpy_does_and_transforms_the_last_axes():
    x = _input("complex", (2, 3, 4), seed=23)
    with pytest.warns(DeprecationWarning, match="axes"):
        found = cnp.fft.fftn(x, s=(3, 5))
    with pytest.warns(DeprecationWarning):
        expected = np.fft.fftn(x, s=(3, 5))
    _close(found, expected)


def test_empty_axes_leave_the_input_as_numpy_does():
    x = _input("real", (2, 3), seed=24)
    np.testing.assert_array_equal(cnp.fft.fftn(x, axes=()), np.fft.fftn(x, axes=()))
