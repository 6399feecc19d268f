"""The composite sweep: every function of chainrule.numpy / chainrule.scipy built from
primitives (cases in tests/composites/) is checked like a registry row: values against NumPy or
SciPy, both modes against central differences (cr.gradcheck), second order
(cr.gradgradcheck), and vmap against a loop of the function."""

import numpy as np
import pytest

import chainrule as cr
from composites import all_cases

CASES = all_cases()
IDS = [case.id for case in CASES]


def _floating(value):
    return np.asarray(value).dtype.kind in "fc"


def _wrt(case):
    if case.wrt is not None:
        return tuple(case.wrt)
    return tuple(i for i, a in enumerate(case.args) if _floating(a))


def _plain(value):
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return np.asarray(cr.tensor(value).numpy() if isinstance(value, cr.Tensor) else value)


@pytest.mark.parametrize("case", [c for c in CASES if c.reference is not None], ids=lambda c: c.id)
def test_composite_values_match_numpy(case):
    ours = _plain(case.function(*case.args))
    expected = case.reference(*case.args)
    if isinstance(expected, tuple):
        for got, want in zip(ours, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)
        assert np.shape(ours) == np.shape(expected)


@pytest.mark.parametrize("case", [c for c in CASES if _wrt(c)], ids=lambda c: c.id)
def test_composite_matches_finite_differences(case):
    assert cr.gradcheck(case.function, *case.args, wrt=_wrt(case), rtol=case.rtol,
                        atol=case.atol)


@pytest.mark.parametrize("case", [c for c in CASES if _wrt(c) and c.second_order],
                         ids=lambda c: c.id)
def test_composite_second_order(case):
    fixed = list(case.args)
    wrt = _wrt(case)

    def of_differentiated(*values):
        for index, value in zip(wrt, values, strict=True):
            fixed[index] = value
        return case.function(*fixed)

    assert cr.gradgradcheck(of_differentiated, *(case.args[i] for i in wrt))


@pytest.mark.parametrize("case", [c for c in CASES if c.batch and _wrt(c)], ids=lambda c: c.id)
def test_composite_batches_like_a_loop(case):
    wrt = _wrt(case)
    rng = np.random.default_rng(0)
    examples = []
    for k in range(3):
        args = list(case.args)
        for i in wrt:
            a = np.asarray(args[i])
            args[i] = a * (1.0 - 0.05 * k) + 0.01 * k * rng.standard_normal(a.shape)
        examples.append(args)
    in_axes = tuple(0 if i in wrt else None for i in range(len(case.args)))
    stacked = [
        np.stack([e[i] for e in examples]) if i in wrt else case.args[i]
        for i in range(len(case.args))
    ]
    batched = cr.vmap(case.function, in_axes=in_axes)(*stacked)
    expected = [case.function(*e) for e in examples]
    for out, row in zip(np.asarray(_plain(batched)), expected, strict=True):
        np.testing.assert_allclose(out, _plain(row), rtol=1e-10, atol=1e-12)


def test_composite_sweep_names_are_public():
    import chainrule.numpy as cnp

    missing = sorted({c.name for c in CASES if c.name.startswith("numpy.")
                      and not hasattr(cnp, c.name.split(".", 1)[1].split(".")[0])})
    assert not missing, missing
