"""The shared finite-difference checker, swept over the whole primitive registry.

Every primitive must have samples (tests/samples/); each differentiable one is checked in
reverse and forward mode against central differences in float64, and to second order. Edge
points (zeros, ties, singular matrices) are checked to second order as well, in both modes;
at a kink, against the documented convention instead of differences.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.primitive import REGISTRY
from chainrule.core.tensor import raw_value
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
    if sample.edge
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
    sample = SAMPLES[name][0]
    args = [cr.tensor(np.asarray(a, dtype=np.float32), requires_grad=True) for a in sample.args]
    out = sample.function(REGISTRY[name])(*args)
    assert raw_value(out).dtype == np.float32
    (out * out).sum().backward()
    for arg in args:
        if arg.grad is not None:
            assert arg.grad.dtype == np.float32
