"""The shared finite-difference checker, swept over the whole primitive registry.

Every primitive must have samples (tests/samples/); each differentiable one is checked in
reverse and forward mode against central differences in float64, and to second order.
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule.core.primitive import REGISTRY
from chainrule.core.tensor import raw_value
from samples import all_samples

SAMPLES = all_samples()
CASES = [
    pytest.param(name, i, id=f"{name}[{sample.label or i}]")
    for name in sorted(REGISTRY)
    for i, sample in enumerate(SAMPLES.get(name, []))
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
    assert cr.gradcheck(function, *sample.args, wrt=sample.wrt)


@pytest.mark.parametrize("name", sorted(n for n in REGISTRY if not REGISTRY[n].nondiff))
def test_primitive_second_order(name):
    sample = SAMPLES[name][0]
    function = sample.function(REGISTRY[name])
    assert cr.gradgradcheck(function, *sample.args)


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
