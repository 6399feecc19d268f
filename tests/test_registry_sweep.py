"""The shared finite-difference checker, swept over the whole primitive registry.

Every primitive must have samples (tests/samples/); each differentiable one is checked in
reverse and forward mode against central differences in float64, and to second order. Edge
points (zeros, ties, singular matrices) are checked to second order as well, in both modes;
at a kink, against the documented convention instead of differences.

Every sample is also batched by cr.vmap (every combination of batched operands) and checked
against a Python loop over the examples: values against NumPy, vmap(grad), grad(vmap) and
vmap(jvp) against cr.grad and cr.jvp per example; likewise with index arrays batched by vmap
(an index per example). Calls that go row by row instead of through their row's batching rule
are counted and must be in ALLOWED_FALLBACKS; the row-by-row fallback itself is checked for
every primitive with its rule taken away.

Complex samples (`Sample.is_complex`: a complex argument or param, in any samples module) take
the same checks, with complex tangents and cotangents and differences that perturb real and
imaginary parts separately (cr.gradcheck), and these: the gradient of the real loss
L = sum(real(f * w)) against dL/dx - i dL/dy (JAX's convention), that gradient's JVP and VJP
(second order) against its own differences, complex64 in and out, and cr.vmap with complex
examples. Every elementwise, reduction and shape row either has complex samples or is listed in
REFUSES_COMPLEX and refuses complex operands with a DTypeError. A complex tangent of real
operands (jvp allows it when asked) must give J a + i J b for every row.
"""

import itertools

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.batching import FALLBACKS
from chainrule.core.primitive import REGISTRY
from chainrule.core.tensor import raw_value
from chainrule.errors import DTypeError
from samples import all_samples

SAMPLES = all_samples()
CASES = [
    pytest.param(name, i, id=f"{name}[{sample.label or i}]")
    for name in sorted(REGISTRY)
    for i, sample in enumerate(SAMPLES.get(name, []))
]

EDGE_CASES = [
    pytest.param(name, i, id=f"{name}[{sample.label}]")
    for name in sorted(REGISTRY)
    for i, sample in enumerate(SAMPLES.get(name, []))
    if sample.edge and not sample.is_complex  # complex edge points: see the complex checks
]


def test_every_primitive_has_samples():
    missing = sorted(set(REGISTRY) - set(SAMPLES))
    assert not missing, f"primitives without samples in tests/samples/: {missing}"


def test_samples_name_only_registered_primitives():
    unknown = sorted(set(SAMPLES) - set(REGISTRY))
    assert not unknown, f"samples for primitives that are not registered: {unknown}"


def test_registry_is_large():
    assert len(REGISTRY) >= 80


@pytest.mark.parametrize("name, index", CASES)
def test_primitive_matches_finite_differences(name, index):
    primitive = REGISTRY[name]
    sample = SAMPLES[name][index]
    function = sample.function(primitive)
    if primitive.nondiff:
        x = cr.tensor(sample.args[0], requires_grad=True)
        out = function(x, *sample.args[1:])
        assert not getattr(out, "requires_grad", False), f"{name} output must not be differentiable"
        expected = primitive.impl(*sample.args, **sample.params)
        np.testing.assert_array_equal(raw_value(out), expected)
        return
    if sample.convention is not None:
        # A kink: differences straddle it and mean nothing; the convention is the closed form.
        x, rest = sample.args[0], sample.args[1:]
        for jacobian in (cr.jacrev, cr.jacfwd):
            found = jacobian(lambda x: function(x, *rest))(x)
            np.testing.assert_allclose(found, sample.convention, rtol=0, atol=1e-12)
        return
    assert cr.gradcheck(function, *sample.args, wrt=sample.wrt)


@pytest.mark.parametrize("name", sorted(n for n in REGISTRY if not REGISTRY[n].nondiff))
def test_primitive_second_order(name):
    sample = SAMPLES[name][0]
    function = sample.function(REGISTRY[name])
    assert cr.gradgradcheck(function, *sample.args)


SECOND_ORDER = {
    "jacfwd(jacrev)": cr.hessian,
    "jacrev(jacrev)": lambda f: cr.jacrev(cr.jacrev(f)),
    "jacfwd(jacfwd)": lambda f: cr.jacfwd(cr.jacfwd(f)),
}


@pytest.mark.parametrize("name, index", EDGE_CASES)
def test_edge_point_second_order(name, index):
    """The Hessian of a random weighting of the outputs, by all three compositions of the two
    modes, against central second differences of the values; at a kink, only finite."""
    sample = SAMPLES[name][index]
    function = sample.function(REGISTRY[name])
    x, rest = np.asarray(sample.args[0], dtype=np.float64), sample.args[1:]
    weights = np.random.default_rng(index).standard_normal(np.shape(function(*sample.args)))

    def weighted(x):
        return cnp.sum(weights * function(x, *rest))

    if sample.second_order is not None:
        for second in SECOND_ORDER.values():
            with pytest.raises(sample.second_order):
                second(weighted)(x)
        return
    found = {
        how: np.reshape(second(weighted)(x), (x.size, x.size))
        for how, second in SECOND_ORDER.items()
    }
    if sample.convention is not None:
        for how, hessian in found.items():
            assert np.all(np.isfinite(hessian)), f"{how} at a kink of {name} is not finite"
        return
    assert cr.gradgradcheck(function, *sample.args)
    expected = _second_differences(weighted, x)
    scale = max(1.0, float(np.abs(expected).max()))  # differences carry rounding ~1e-8 * scale
    for how, hessian in found.items():
        np.testing.assert_allclose(hessian, expected, rtol=1e-5, atol=1e-6 * scale, err_msg=how)


def _second_differences(scalar, x, step=1e-3):
    """H_ij = [f(x + h e_i + h e_j) - f(x + h e_i - h e_j) - f(x - h e_i + h e_j)
    + f(x - h e_i - h e_j)] / 4h^2, on plain arrays (chainrule computes only the values)."""
    basis = np.eye(x.size).reshape((x.size,) + x.shape) * step
    hessian = np.empty((x.size, x.size))
    for i in range(x.size):
        for j in range(x.size):
            corners = [
                scalar(x + si * basis[i] + sj * basis[j]) for si in (1, -1) for sj in (1, -1)
            ]
            hessian[i, j] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * step * step)
    return hessian


# Primitives whose output is float64 by definition, whatever their input.
PROMOTES_TO_FLOAT64 = {"astype", "float_power"}


@pytest.mark.parametrize(
    "name", sorted(n for n in REGISTRY if not REGISTRY[n].nondiff and n not in PROMOTES_TO_FLOAT64)
)
def test_primitive_keeps_float32(name):
    _check_single_precision(name, 0)


_SINGLE = {"f": np.float32, "c": np.complex64}


def _check_single_precision(name, index):
    """The sample's float operands in float32 and complex ones in complex64: the value is
    float32 or complex64 (float32 pairs with complex64: a real input's FFT, a cast to complex),
    and gradients (Tensor API) and tangents (jvp) come back in each operand's dtype."""
    sample = SAMPLES[name][index]
    function = sample.function(REGISTRY[name])
    args = [
        np.asarray(a).astype(_SINGLE[np.asarray(a).dtype.kind])
        if np.asarray(a).dtype.kind in _SINGLE else a
        for a in sample.args
    ]
    diff = _differentiated(sample)
    leaves = [cr.tensor(a, requires_grad=True) if k in diff else a for k, a in enumerate(args)]
    out = function(*leaves)
    dtype = raw_value(out).dtype
    assert dtype in (np.float32, np.complex64)
    cnp.sum(cnp.abs(out) ** 2).backward()
    for k in diff:
        assert leaves[k].grad is None or leaves[k].grad.dtype == args[k].dtype, f"operand {k}"

    def of_differentiated(*values):
        merged = list(args)
        for k, value in zip(diff, values):
            merged[k] = value
        return function(*merged)

    tangents = tuple(np.ones_like(args[k]) for k in diff)
    _, tangent_out = cr.jvp(of_differentiated, tuple(args[k] for k in diff), tangents)
    assert raw_value(tangent_out).dtype == dtype


def _differentiated(sample):
    """The operands a sample differentiates: `wrt` (default all), float or complex ones."""
    wrt = range(len(sample.args)) if sample.wrt is None else sample.wrt
    return tuple(k for k in wrt if np.asarray(sample.args[k]).dtype.kind in "fc")


# ----- complex numbers (see the module docstring) ------------------------------------------------
COMPLEX_CASES = [
    pytest.param(name, i, id=f"{name}[{sample.label or i}]")
    for name in sorted(REGISTRY)
    for i, sample in enumerate(SAMPLES.get(name, []))
    if sample.is_complex and not REGISTRY[name].nondiff
]
# Each differentiable row's first complex sample, for the complex64 check.
FIRST_COMPLEX = {}
for _case in COMPLEX_CASES:
    FIRST_COMPLEX.setdefault(_case.values[0], _case)

# The elementwise, reduction and shape rows that refuse complex operands: NumPy defines them on
# real numbers only (its TypeError explained), or they order numbers, which has no derivative
# for complex ones (ops/_rules.real_only: the message names cnp.real, cnp.imag and cnp.abs).
NUMPY_REAL_ONLY = {
    "cbrt", "deg2rad", "rad2deg", "floor", "ceil", "trunc", "mod", "floor_divide", "logaddexp",
    "logaddexp2", "arctan2", "hypot",
}
ORDERING = {
    "maximum", "minimum", "fmax", "fmin", "clip", "sign", "rint", "round", "sigmoid", "less",
    "less_equal", "greater", "greater_equal", "amax", "amin", "argmax", "argmin", "argsort",
    "logsumexp", "softmax", "log_softmax",
}
REFUSES_COMPLEX = NUMPY_REAL_ONLY | ORDERING
_OWN_FAMILIES = {"elementwise", "reduce", "shape", "index", "selection", "comparison"}


def test_every_elementwise_reduction_and_shape_row_takes_complex_or_refuses_it():
    rows = {name for name, row in REGISTRY.items() if row.family in _OWN_FAMILIES}
    with_complex = {name for name in rows if any(s.is_complex for s in SAMPLES.get(name, []))}
    assert not sorted(rows - with_complex - REFUSES_COMPLEX), "rows without complex samples"
    assert not sorted(with_complex & REFUSES_COMPLEX), "refused rows with complex samples"
    assert REFUSES_COMPLEX <= rows


@pytest.mark.parametrize("name", sorted(REFUSES_COMPLEX))
def test_refused_rows_raise_a_dtype_error_on_complex(name):
    sample = SAMPLES[name][0]
    args = [a + 0.5j if np.asarray(a).dtype.kind == "f" else a for a in sample.args]
    words = r"cnp\.real\(z\), cnp\.imag\(z\), cnp\.abs\(z\)" if name in ORDERING else "complex"
    with pytest.raises(DTypeError, match=words):
        sample.function(REGISTRY[name])(*args)


def _promoted(value):
    value = np.asarray(raw_value(value))
    return value.astype(np.complex128 if value.dtype.kind == "c" else np.float64)


def _gradient_by_differences(loss, args, k, step=1e-6):
    """dL/dx - i dL/dy entry by entry (dL/dx for a real operand): JAX's convention."""
    units = (1.0, 1j) if args[k].dtype.kind == "c" else (1.0,)
    gradient = np.zeros(args[k].shape, args[k].dtype)
    for entry in range(args[k].size):
        for unit in units:
            sides = []
            for sign in (1.0, -1.0):
                moved = list(args)
                moved[k] = args[k].copy()
                moved[k].flat[entry] += sign * step * unit
                sides.append(float(raw_value(loss(*moved))))
            gradient.flat[entry] += (sides[0] - sides[1]) / (2 * step) * np.conj(unit)
    return gradient


@pytest.mark.parametrize("name, index", COMPLEX_CASES)
def test_complex_gradient_and_second_order(name, index):
    """L = sum(real(f * w)), w random (complex where f is): cr.grad(L) is dL/dx - i dL/dy by
    differences, real for a real operand; then the gradient as a function of the operands is
    itself checked by cr.gradcheck: its JVP (forward over reverse, complex tangents) and its VJP
    (reverse over reverse), each against differences of the gradient."""
    sample = SAMPLES[name][index]
    function = sample.function(REGISTRY[name])
    args = [_promoted(a) if np.asarray(a).dtype.kind in "fc" else a for a in sample.args]
    diff = _differentiated(sample)
    out = np.asarray(raw_value(function(*args)))
    weights = _normal(np.random.default_rng(index), out.shape, out.dtype.kind == "c")

    def loss(*args):
        return cnp.sum(cnp.real(function(*args) * weights))

    gradients = cr.grad(loss, argnums=diff)(*args)
    for k, gradient in zip(diff, gradients):
        expected = _gradient_by_differences(loss, args, k)
        assert gradient.dtype == expected.dtype, f"operand {k}: {gradient.dtype}"
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-7 * scale,
                                   err_msg=f"cr.grad wrt operand {k}")

    def gradient_entries(*args):
        return cnp.concatenate([cnp.ravel(g) for g in cr.grad(loss, argnums=diff)(*args)])

    assert cr.gradcheck(gradient_entries, *args, wrt=diff, eps=1e-5, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "name, index",
    [case for name, case in sorted(FIRST_COMPLEX.items()) if name not in PROMOTES_TO_FLOAT64],
)
def test_primitive_keeps_complex64(name, index):
    """complex64 in, complex64 out: test_primitive_keeps_float32 for the complex samples."""
    _check_single_precision(name, index)


# Each differentiable row's first real sample, for the complex-tangent check.
FIRST_REAL = {}
for _case in CASES:
    _name, _index = _case.values
    if not REGISTRY[_name].nondiff and not SAMPLES[_name][_index].is_complex:
        FIRST_REAL.setdefault(_name, _case)


# Rows whose JVP takes the real part of a complex tangent of a real operand (reported).
COMPLEX_TANGENT_OF_REAL_LOST: dict = {}  # name -> why, for a rule that gets it wrong (none now)


@pytest.mark.parametrize(
    "name, index",
    [
        pytest.param(*case.values, id=case.id, marks=pytest.mark.xfail(
            reason=COMPLEX_TANGENT_OF_REAL_LOST[case.values[0]]))
        if case.values[0] in COMPLEX_TANGENT_OF_REAL_LOST else case
        for case in sorted(FIRST_REAL.values(), key=lambda c: c.id)
    ],
)
def test_a_complex_tangent_of_real_operands_extends_linearly(name, index):
    """jvp with a complex tangent a + ib of real operands (allowed when asked for) is
    J a + i J b, at the paired precision: rules written for complex operands (real, conj, a cast)
    must not treat such a tangent as the tangent of a complex number."""
    sample = SAMPLES[name][index]
    function = sample.function(REGISTRY[name])
    args = [_promoted(a) if np.asarray(a).dtype.kind == "f" else a for a in sample.args]
    diff = _differentiated(sample)

    def of_differentiated(*values):
        merged = list(args)
        for k, value in zip(diff, values):
            merged[k] = value
        return function(*merged)

    generator = np.random.default_rng(index)
    primals = tuple(args[k] for k in diff)
    real_parts = tuple(generator.standard_normal(p.shape) for p in primals)
    imaginary_parts = tuple(generator.standard_normal(p.shape) for p in primals)
    pushed = [
        np.asarray(raw_value(cr.jvp(of_differentiated, primals, tangents)[1]))
        for tangents in (real_parts, imaginary_parts,
                         tuple(a + 1j * b for a, b in zip(real_parts, imaginary_parts)))
    ]
    assert pushed[2].dtype.kind == "c" or not np.any(pushed[2]), "the imaginary part is lost"
    np.testing.assert_allclose(pushed[2], pushed[0] + 1j * pushed[1], rtol=1e-12, atol=1e-12)


# ----- batching: cr.vmap of every primitive against a Python loop ---------------------------------
# Every (primitive, sample) is applied to a batch of BATCH examples per operand: the sample itself,
# then the sample scaled by 0.95 and 0.9 (zeros, ties and singular matrices stay what they are)
# plus, away from edge points, a small fixed random perturbation; a boolean operand (where's
# condition) gets entries flipped at random, an integer one stays as it is. Every combination of
# batched and unbatched operands is checked (in_axes 0; unbatched operands are the sample's), and
# all operands batched along their last axis (in_axes -1). The values are compared with the NumPy
# implementation applied example by example (exactly, with dtypes, for integer and boolean
# outputs); for float outputs, vmap(grad), grad(vmap) and vmap(jvp) with respect to the float
# operands are compared with cr.grad and cr.jvp applied example by example.
BATCH = 3

# Primitives that may go row by row (core/batching.py counts every such call in FALLBACKS)
# somewhere in the batching checks, and why. Every other call must go through its row's rule:
# a check fails for a primitive that falls back and is not listed here, and
# test_batching_rules_and_fallbacks for one listed here that no longer falls back.
ALLOWED_FALLBACKS: dict = {}
# Primitives whose row declares no batching rule at all (REGISTRY[name].batch is None).
ALLOWED_WITHOUT_RULE: dict = {}

_FALLBACK_RUNS: dict = {}  # check id -> {primitive: fallback calls}, per test process


def _examples(args, edge, seed):
    """One stacked array (BATCH, *shape) per operand (see above)."""
    generator = np.random.default_rng(seed)
    stacked = []
    for arg in args:
        arg = np.asarray(arg)
        if arg.dtype.kind == "b":
            flips = [np.zeros(arg.shape, bool)] + [
                generator.random(arg.shape) < 0.5 for _ in range(BATCH - 1)
            ]
            stacked.append(np.stack([arg ^ flip for flip in flips]))
        elif arg.dtype.kind in "iu":
            stacked.append(np.stack([arg] * BATCH))
        else:
            arg = arg.astype(np.complex128 if arg.dtype.kind == "c" else np.float64)
            delta = 0.0 if edge else 0.01 * _normal(generator, arg.shape, arg.dtype.kind == "c")
            with np.errstate(invalid="ignore"):  # complex infinities (isinf's sample) scaled
                scaled = [arg * (1.0 - 0.05 * e) + e * delta for e in range(BATCH)]
            stacked.append(np.stack(scaled))
    return stacked


def _normal(generator, shape, complex_):
    """Standard normal entries (plus i times standard normal ones where `complex_`)."""
    if complex_:
        return generator.standard_normal(shape) + 1j * generator.standard_normal(shape)
    return generator.standard_normal(shape)


def _layouts(count):
    """in_axes per operand: every batched/unbatched combination, then all along the last axis."""
    masks = [m for m in itertools.product((None, 0), repeat=count) if 0 in m]
    return masks + [(-1,) * count]


def _close(found, expected, what):
    found = np.asarray(found)
    expected = np.asarray(expected)
    assert found.shape == expected.shape, f"{what}: shape {found.shape} != {expected.shape}"
    assert found.dtype == expected.dtype, f"{what}: dtype {found.dtype} != {expected.dtype}"
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(found, expected, err_msg=what)
    else:
        scale = max(1.0, float(np.nanmax(np.abs(expected), initial=0.0)))
        np.testing.assert_allclose(found, expected, rtol=1e-10, atol=1e-12 * scale, err_msg=what)


def _check_batched(function, reference, stacked, fixed, layout, derivatives=True):
    """cr.vmap(function, in_axes=layout) against a loop over the examples: the values against
    `reference` (NumPy, one example at a time); derivatives with respect to the float operands
    against cr.grad and cr.jvp one example at a time. `fixed[k]` is operand k where unbatched."""
    count = len(stacked)
    inputs = [
        fixed[k] if axis is None else np.moveaxis(stacked[k], 0, axis)
        for k, axis in enumerate(layout)
    ]
    examples = [
        [fixed[k] if axis is None else stacked[k][e] for k, axis in enumerate(layout)]
        for e in range(BATCH)
    ]
    expected = np.stack([np.asarray(reference(*args)) for args in examples])
    _close(cr.vmap(function, in_axes=layout)(*inputs), expected, f"vmap values, in_axes={layout}")
    diff = tuple(k for k in range(count) if np.asarray(fixed[k]).dtype.kind in "fc")
    if not derivatives or expected.dtype.kind not in "fc" or not diff:
        return

    # vmap(grad): per-example gradients of a per-example (real) weighting of the output.
    generator = np.random.default_rng(count)
    complex_out = expected.dtype.kind == "c"
    weights = _normal(generator, expected.shape, complex_out)

    def weighted(*args):
        weighted_out = function(*args[:-1]) * args[-1]
        return cnp.sum(cnp.real(weighted_out) if complex_out else weighted_out)

    gradient = cr.grad(weighted, argnums=diff)
    per_example = [gradient(*args, weights[e]) for e, args in enumerate(examples)]
    found = cr.vmap(gradient, in_axes=(*layout, 0))(*inputs, weights)
    for position, k in enumerate(diff):
        _close(found[position], np.stack([g[position] for g in per_example]),
               f"vmap(grad) wrt operand {k}, in_axes={layout}")

    # grad(vmap): the gradient of the weighted sum over the batch.
    found = cr.grad(
        lambda *args: cnp.sum(cr.vmap(weighted, in_axes=(*layout, 0))(*args, weights)),
        argnums=diff,
    )(*inputs)
    for position, k in enumerate(diff):
        rows = np.stack([g[position] for g in per_example])
        axis = layout[k]
        want = rows.sum(axis=0) if axis is None else np.moveaxis(rows, 0, axis)
        _close(found[position], want, f"grad(vmap) wrt operand {k}, in_axes={layout}")

    # vmap(jvp): a batched tangent for every float operand, batched or not.
    tangents = [_normal(generator, stacked[k].shape, stacked[k].dtype.kind == "c") for k in diff]

    def along(*args):
        operands, directions = list(args[:count]), args[count:]

        def of_float_operands(*floats):
            merged = list(operands)
            for k, value in zip(diff, floats):
                merged[k] = value
            return function(*merged)

        return cr.jvp(of_float_operands, tuple(operands[k] for k in diff), directions)[1]

    per_example = [along(*args, *(t[e] for t in tangents)) for e, args in enumerate(examples)]
    found = cr.vmap(along, in_axes=(*layout,) + (0,) * len(diff))(*inputs, *tangents)
    _close(found, np.stack(per_example), f"vmap(jvp), in_axes={layout}")


def _counting_fallbacks(key, check):
    """Runs `check()` once per process; returns the row-by-row calls it caused, by primitive."""
    if key in _FALLBACK_RUNS:
        return _FALLBACK_RUNS[key]
    before = dict(FALLBACKS)
    check()
    fallbacks = {
        name: calls - before.get(name, 0)
        for name, calls in FALLBACKS.items() if calls != before.get(name, 0)
    }
    _FALLBACK_RUNS[key] = fallbacks
    return fallbacks


def _assert_allowed(fallbacks, what):
    unexpected = sorted(set(fallbacks) - set(ALLOWED_FALLBACKS))
    assert not unexpected, (
        f"{what} went row by row for {unexpected} ({fallbacks}): give the row a batching rule "
        "that covers the call, or list it in ALLOWED_FALLBACKS with the reason"
    )


def _sweep_batching(name, index):
    primitive = REGISTRY[name]
    sample = SAMPLES[name][index]
    function = sample.function(primitive)

    def reference(*args):
        prepared = sample.prepare(*args) if sample.prepare is not None else args
        return primitive.impl(*prepared, **sample.params)

    stacked = _examples(sample.args, sample.edge, [index, *name.encode()])
    fixed = [np.asarray(arg) for arg in sample.args]
    fixed = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in fixed]
    for layout in _layouts(len(stacked)):
        _check_batched(function, reference, stacked, fixed, layout, not primitive.nondiff)


@pytest.mark.parametrize("name, index", CASES)
def test_primitive_batches_like_a_loop(name, index):
    fallbacks = _counting_fallbacks((name, index), lambda: _sweep_batching(name, index))
    _assert_allowed(fallbacks, f"vmap of {name}")


# ----- batching with an index per example -------------------------------------------------------
# vmap over the index arrays themselves (x[labels] with a label per example): getitem, scatter_add
# and setitem with index arrays batched by vmap, and the chainrule.numpy functions built on them.
_GETITEM, _SCATTER_ADD, _SETITEM = REGISTRY["getitem"], REGISTRY["scatter_add"], REGISTRY["setitem"]
_X = np.random.default_rng(11).uniform(-2.0, 2.0, size=(BATCH, 4, 3))
_X4 = np.random.default_rng(12).uniform(-2.0, 2.0, size=(BATCH, 2, 3, 2, 2))


def _indices(high, shape, seed):
    """BATCH different integer index arrays (repeats included)."""
    return np.random.default_rng(seed).integers(0, high, size=(BATCH,) + shape)


def _distinct(high, count, seed):
    """BATCH index arrays without repeats (setitem: which repeated write wins is unspecified)."""
    generator = np.random.default_rng(seed)
    return np.stack([generator.permutation(high)[:count] for _ in range(BATCH)])


def _scatter_reference(updates, index, shape):
    out = np.zeros(shape)
    np.add.at(out, index, updates)
    return out


def _setitem_reference(x, value, index):
    out = np.array(x, copy=True)
    out[index] = value
    return out


def _index_case(label, function, reference, stacked):
    return pytest.param(function, reference, stacked, id=label)


_I = _indices(4, (2,), 1)  # rows of a (4, 3) example, per example
_J = _indices(3, (2,), 2)  # columns
INDEX_CASES = [
    _index_case("x[i]", lambda x, i: _GETITEM(x, index=i), lambda x, i: x[i], [_X, _I]),
    _index_case("x[i] 2-d i", lambda x, i: _GETITEM(x, index=i), lambda x, i: x[i],
                [_X, _indices(4, (2, 2), 3)]),
    _index_case("x[i, j]", lambda x, i, j: _GETITEM(x, index=(i, j)),
                lambda x, i, j: x[i, j], [_X, _I, _J]),
    _index_case("x[i, 1]", lambda x, i: _GETITEM(x, index=(i, 1)), lambda x, i: x[i, 1],
                [_X, _I]),
    _index_case("x[i, constant array]", lambda x, i: _GETITEM(x, index=(i, np.array([0, 2]))),
                lambda x, i: x[i, np.array([0, 2])], [_X, _I]),
    _index_case("x[:, j]", lambda x, j: _GETITEM(x, index=(slice(None), j)),
                lambda x, j: x[:, j], [_X, _J]),
    _index_case("x[i, 1:]", lambda x, i: _GETITEM(x, index=(i, slice(1, None))),
                lambda x, i: x[i, 1:], [_X, _I]),
    _index_case("x[..., j]", lambda x, j: _GETITEM(x, index=(Ellipsis, j)),
                lambda x, j: x[..., j], [_X, _J]),
    _index_case("x[None, i]", lambda x, i: _GETITEM(x, index=(None, i)),
                lambda x, i: x[None, i], [_X, _I]),
    _index_case("x[i, ::-1]", lambda x, i: _GETITEM(x, index=(i, slice(None, None, -1))),
                lambda x, i: x[i, ::-1], [_X, _I]),
    _index_case("x[i, mask]", lambda x, i: _GETITEM(x, index=(i, np.array([True, False, True]))),
                lambda x, i: x[i, np.array([True, False, True])], [_X, _I]),
    _index_case("x[i, :, j] (apart)", lambda x, i, j: _GETITEM(x, index=(i, slice(None), j)),
                lambda x, i, j: x[i, :, j],
                [_X.reshape(BATCH, 2, 2, 3), _indices(2, (2,), 9), _J]),
    _index_case("x[:, i, :, j] (apart)",
                lambda x, i, j: _GETITEM(x, index=(slice(None), i, slice(None), j)),
                lambda x, i, j: x[:, i, :, j],
                [_X4, _indices(3, (2,), 12), _indices(2, (2,), 13)]),
    _index_case("take_along_axis", lambda x, i: cnp.take_along_axis(x, i, axis=1),
                lambda x, i: np.take_along_axis(x, i, axis=1), [_X, _indices(3, (4, 2), 4)]),
    _index_case("take axis 1", lambda x, j: cnp.take(x, j, axis=1),
                lambda x, j: np.take(x, j, axis=1), [_X, _J]),
    _index_case("sort last axis", lambda x: cnp.sort(x, axis=-1), lambda x: np.sort(x, axis=-1),
                [_X]),
    _index_case("sort axis 0", lambda x: cnp.sort(x, axis=0), lambda x: np.sort(x, axis=0),
                [_X]),
    _index_case("complex x[i, j]", lambda x, i, j: _GETITEM(x, index=(i, j)),
                lambda x, i, j: x[i, j], [_X + 1j * _X[:, ::-1], _I, _J]),
    _index_case("complex setitem[i]", lambda x, v, i: _SETITEM(x, v, index=i),
                _setitem_reference, [_X * 1j - 0.5, _X[:, :2] + 5.0j, _distinct(4, 2, 15)]),
    _index_case("scatter_add[i]", lambda u, i: _SCATTER_ADD(u, index=i, shape=(4, 3)),
                lambda u, i: _scatter_reference(u, i, (4, 3)), [_X[:, :2], _I]),
    _index_case("scatter_add[i, j]",
                lambda u, i, j: _SCATTER_ADD(u, index=(i, j), shape=(4, 3)),
                lambda u, i, j: _scatter_reference(u, (i, j), (4, 3)), [_X[:, 0, :2], _I, _J]),
    _index_case("scatter_add[:, j]",
                lambda u, j: _SCATTER_ADD(u, index=(slice(None), j), shape=(4, 3)),
                lambda u, j: _scatter_reference(u, (slice(None), j), (4, 3)), [_X[:, :, :2], _J]),
    _index_case("setitem[:, j]", lambda x, v, j: _SETITEM(x, v, index=(slice(None), j)),
                lambda x, v, j: _setitem_reference(x, v, (slice(None), j)),
                [_X, _X[:, :, :2] + 5.0, _distinct(3, 2, 10)]),
    _index_case("setitem[i]", lambda x, v, i: _SETITEM(x, v, index=i), _setitem_reference,
                [_X, _X[:, :2] + 5.0, _distinct(4, 2, 5)]),
    # NumPy keeps the last of repeated writes; only it gets the value's cotangent.
    _index_case("setitem[i] repeated", lambda x, v, i: _SETITEM(x, v, index=i),
                _setitem_reference, [_X, _X[:, :2] + 5.0, np.array([[1, 1], [0, 2], [3, 3]])]),
    _index_case("setitem[i] broadcast value",
                lambda x, v, i: _SETITEM(x, v, index=i), _setitem_reference,
                [_X, _X[:, 0] + 5.0, _distinct(4, 2, 6)]),
    _index_case("setitem[i, j] 0-d value",
                lambda x, v, i, j: _SETITEM(x, v, index=(i, j)),
                lambda x, v, i, j: _setitem_reference(x, v, (i, j)),
                [_X, _X[:, 0, 0] + 5.0, _distinct(4, 2, 7), _distinct(3, 2, 8)]),
]


def _check_index_case(function, reference, stacked):
    fixed = [s[0] for s in stacked]
    for layout in _layouts(len(stacked)):
        _check_batched(function, reference, stacked, fixed, layout)


@pytest.mark.parametrize("function, reference, stacked", INDEX_CASES)
def test_batched_index_like_a_loop(function, reference, stacked, request):
    fallbacks = _counting_fallbacks(
        request.node.callspec.id, lambda: _check_index_case(function, reference, stacked)
    )
    _assert_allowed(fallbacks, f"vmap of {request.node.callspec.id}")


def test_nested_vmap_with_batched_index():
    """Two vmap levels, the array batched by the outer one and the index by the inner one (and
    the other way round): each rule passes the index on to the level below as an index."""
    x = _X4[:, 0, :, 0, :]  # (BATCH, 3, 2)
    generator = np.random.default_rng(14)
    rows, columns = generator.integers(0, 3, size=(4, 2)), generator.integers(0, 2, size=(4,))
    inner = cr.vmap(lambda x, i: _GETITEM(x, index=(slice(None), i)), in_axes=(None, 0))
    found = cr.vmap(inner, in_axes=(0, None))(x.transpose(0, 2, 1), rows)
    want = [[x[a].T[:, rows[b]] for b in range(4)] for a in range(BATCH)]
    _close(found, np.array(want), "vmap(vmap(x[:, i]))")

    def loss(x, i, j):
        return cnp.sum(_GETITEM(x, index=(i, j)) ** 2)

    per_example = cr.vmap(cr.vmap(cr.grad(loss), in_axes=(None, 0, 0)), in_axes=(0, None, None))
    found = per_example(x, rows, columns[:, None] + np.zeros((1, 2), dtype=int))
    want = [[cr.grad(loss)(x[a], rows[b], np.full(2, columns[b])) for b in range(4)]
            for a in range(BATCH)]
    _close(found, np.array(want), "vmap(vmap(grad(x[i, j])))")


# ----- the row-by-row fallback: always right, for every primitive ---------------------------------
@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_row_by_row_fallback_batches_like_a_loop(name, monkeypatch):
    """With its rule taken away, a primitive still batches (core/batching.row_by_row): its first
    sample, checked as in the sweep, and the fallback counted."""
    monkeypatch.setattr(REGISTRY[name], "batch", None)
    before = FALLBACKS.get(name, 0)
    _sweep_batching(name, 0)
    assert FALLBACKS.get(name, 0) > before


@pytest.mark.parametrize("name, index", sorted(FIRST_COMPLEX.values(), key=lambda c: c.id))
def test_row_by_row_fallback_batches_complex_like_a_loop(name, index, monkeypatch):
    """The fallback on each row's first complex sample."""
    monkeypatch.setattr(REGISTRY[name], "batch", None)
    before = FALLBACKS.get(name, 0)
    _sweep_batching(name, index)
    assert FALLBACKS.get(name, 0) > before


@pytest.mark.parametrize("function, reference, stacked", INDEX_CASES)
def test_row_by_row_with_batched_index(function, reference, stacked, monkeypatch):
    """The fallback with an index per example: each row gets its own entries of the index."""
    for name in ("getitem", "scatter_add", "setitem"):
        monkeypatch.setattr(REGISTRY[name], "batch", None)
    _check_index_case(function, reference, stacked)


def test_batching_rules_and_fallbacks(record_property):
    """Which primitives have no batching rule, and which go row by row in the batching checks:
    both as documented above. Prints the counts (pytest -s) and records them as properties."""
    without_rule = sorted(name for name, row in REGISTRY.items() if row.batch is None)
    runs = [
        _counting_fallbacks(case.values, lambda case=case: _sweep_batching(*case.values))
        for case in CASES
    ] + [
        _counting_fallbacks(case.id, lambda case=case: _check_index_case(*case.values))
        for case in INDEX_CASES
    ]
    fallbacks: dict = {}
    for run in runs:
        for name, calls in run.items():
            fallbacks[name] = fallbacks.get(name, 0) + calls
    with_rule = len(REGISTRY) - len(without_rule)
    print(
        f"\nbatching: {with_rule} of {len(REGISTRY)} primitives have a rule, "
        f"{len(without_rule)} have none {without_rule}; {len(fallbacks)} primitive(s) still on "
        f"the row-by-row fallback somewhere in the sweep: {dict(sorted(fallbacks.items()))}"
    )
    record_property("primitives_with_batching_rule", with_rule)
    record_property("primitives_without_batching_rule", len(without_rule))
    record_property("primitives_on_fallback", len(fallbacks))
    record_property("fallback_calls", dict(sorted(fallbacks.items())))
    assert without_rule == sorted(ALLOWED_WITHOUT_RULE)
    assert sorted(fallbacks) == sorted(ALLOWED_FALLBACKS)


# ----- cr.jit: every primitive staged, replayed, and its program checked -------------------------
def _jitted_twice(function, *args):
    """The result of a jitted call when it traces and when it replays (the same arguments,
    fresh copies, so a replay cannot hand back the trace's own arrays)."""
    fast = cr.jit(function)
    first = fast(*args)
    second = fast(*[np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args])
    info = fast.cache_info()
    assert info.traces == 1 and info.hits == 1, f"the second call did not replay: {info}"
    return fast, first, second


def _numpy_only(fast, args):
    """The held program calls NumPy and the rows' NumPy implementations only: no Tensor, no
    bind, no chainrule.numpy function in its namespace, and none created while it runs."""
    from chainrule.core.primitive import REGISTRY as registry
    from chainrule.core.tensor import Tensor

    implementations = {id(row.impl) for row in registry.values()}
    (compiled,) = [c for programs in fast._cache.values() for c in programs]
    for name, value in compiled.generated.namespace.items():
        if name in ("np", "GuardFailed", "same") or isinstance(value, (np.ndarray, np.generic)):
            continue
        assert not isinstance(value, Tensor), f"the program holds a Tensor ({name})"
        if callable(value) and not isinstance(value, type):
            assert id(value) in implementations or getattr(value, "__module__", "") in (
                "numpy", None
            ) or isinstance(value, np.ufunc), f"the program calls {value!r} ({name})"
    created = []
    original = Tensor.__init__

    def counting(self, *a, **k):
        created.append(1)
        original(self, *a, **k)

    Tensor.__init__ = counting
    try:
        fast(*args)
    finally:
        Tensor.__init__ = original
    assert not created, f"the replay created {len(created)} Tensors"


@pytest.mark.parametrize("name, index", CASES)
def test_primitive_through_jit(name, index):
    """cr.jit of the primitive, of the gradient of a weighted sum of it (reverse mode) and of
    its JVP (forward mode): when it traces and when it replays, against the eager result and
    against NumPy's value and central differences."""
    primitive = REGISTRY[name]
    sample = SAMPLES[name][index]
    function = sample.function(primitive)
    args = [np.asarray(a) if isinstance(a, (list, float, int)) else a for a in sample.args]
    expected = primitive.impl(*(sample.prepare(*args) if sample.prepare else args),
                              **sample.params)
    fast, first, second = _jitted_twice(function, *args)
    for found in (first, second):
        _close(found, raw_value(function(*args)), f"jit({name}) against eager")
        np.testing.assert_allclose(np.asarray(found), np.asarray(expected), rtol=1e-12,
                                   err_msg=f"jit({name}) against NumPy")
    _numpy_only(fast, args)
    diff = _differentiated(sample)
    if primitive.nondiff or not diff or sample.convention is not None:
        return
    args = [_promoted(a) if k in diff else a for k, a in enumerate(args)]
    out = np.asarray(raw_value(function(*args)))
    weights = _normal(np.random.default_rng(index), out.shape, out.dtype.kind == "c")

    def loss(*operands):
        return cnp.sum(cnp.real(function(*operands) * weights))

    eager = cr.grad(loss, argnums=diff)(*args)
    _, *staged = _jitted_twice(cr.grad(loss, argnums=diff), *args)
    for gradients in staged:
        for k, found, reference in zip(diff, gradients, eager):
            _close(found, reference, f"jit(grad({name})) operand {k} against eager")
    k = diff[0]
    by_differences = _gradient_by_differences(loss, args, k)
    scale = max(1.0, float(np.abs(by_differences).max()))
    np.testing.assert_allclose(staged[1][0], by_differences, rtol=1e-5, atol=1e-7 * scale,
                               err_msg=f"jit(grad({name})) against differences")

    tangents = tuple(_normal(np.random.default_rng(index + 1), np.shape(args[j]),
                             np.asarray(args[j]).dtype.kind == "c") for j in diff)

    def pushed(*operands):
        def of_differentiated(*d):
            full = list(operands)
            for j, value in zip(diff, d):
                full[j] = value
            return function(*full)

        return cr.jvp(of_differentiated, tuple(operands[j] for j in diff), tangents)

    eager_out, eager_tangent = pushed(*args)
    _, *staged = _jitted_twice(pushed, *args)
    for value, tangent in staged:
        _close(value, eager_out, f"jit(jvp({name})) value against eager")
        _close(tangent, eager_tangent, f"jit(jvp({name})) tangent against eager")
