"""Composite cases: bincount and the histograms, the array API's unique functions, ix_, kaiser
and real_if_close (numpy/histograms.py, sets.py, functional.py).

What is piecewise constant (which bin an entry falls in, the counts, which entries are unique)
NumPy decides on the values; the cases check what moves: bin edges from the data's min and max
(and so densities), edges from a differentiable range or given as an array, weighted counts,
the unique values picked from the input. Data lie away from the bin edges, so finite
differences keep every entry in its bin; repeated values are made inside the function, so they
stay repeated. Functions returning several arrays are checked through one of them, or through
the floating ones joined.
"""

import numpy as np

import chainrule.numpy as cnp
from composites import Case

RNG = np.random.default_rng(1414)
X = np.array([-1.3, 0.35, 1.8, -0.6, 0.9, 2.6, -0.1])  # bins=3 edges -1.3, 0.0333, 1.3667, 2.6
Y = np.array([0.2, -1.1, 0.75, 1.9, -0.4, 0.05, 1.3])
WEIGHTS = RNG.uniform(0.5, 2.0, 7)
SAMPLE = np.stack([X, Y, X * Y], axis=1)
BINS = np.array([-2.0, -0.5, 0.5, 1.1, 3.0])  # edges given: none at a data point
INDEX = np.array([3, 0, 1, 3, 3, 0, 5])
SCALAR = np.array(0.7)
V = RNG.uniform(-2.0, 2.0, 6)
Z = RNG.uniform(-1.0, 1.0, 4) + 1j * RNG.uniform(0.5, 1.0, 4)


def _same(name, call, *args, label="", edge=False, **options):
    """A case whose reference is NumPy's function of the same name and call."""
    attribute = name.split(".", 1)[1]
    return Case(
        name, lambda *a: call(cnp, getattr(cnp, attribute), *a), args,
        reference=lambda *a: call(np, getattr(np, attribute), *a), label=label, edge=edge,
        **options,
    )


def _joined(module, pieces):
    """One array from several: each scaled by its position, then joined flat."""
    return module.concatenate([module.ravel(p) * (i + 1.0) for i, p in enumerate(pieces)])


def _repeated(module, a):
    """`a` with two of its entries again: ties that finite differences keep tied."""
    return module.concatenate([a, a[[1, 4]], a[:1]])


CASES = [
    # ----- bincount ----------------------------------------------------------------------------
    _same("numpy.bincount", lambda m, f, w: f(INDEX, w), WEIGHTS, label="weights"),
    _same("numpy.bincount", lambda m, f, w: f(INDEX, w, minlength=9), WEIGHTS,
          label="minlength"),
    _same("numpy.bincount", lambda m, f, w: f(np.zeros(0, int), w[:0], minlength=2), WEIGHTS,
          label="no entries", edge=True),
    # ----- histogram_bin_edges and histogram: edges from min and max, or from the range -------
    _same("numpy.histogram_bin_edges", lambda m, f, x: f(x, bins=3), X),
    _same("numpy.histogram_bin_edges", lambda m, f, x: f(x, bins="auto"), X, label="auto"),
    _same("numpy.histogram_bin_edges", lambda m, f, lo, hi: f(X, bins=4, range=(lo, hi)),
          np.array(-2.0), np.array(3.1), label="range"),
    _same("numpy.histogram_bin_edges", lambda m, f, s: f(m.zeros(3) + s, bins=2), SCALAR,
          label="one value: +-0.5", edge=True),
    _same("numpy.histogram_bin_edges", lambda m, f, x: f(x[:1], bins=3), X, label="size 1",
          edge=True),
    _same("numpy.histogram_bin_edges", lambda m, f, b: f(X, bins=b), BINS, label="given"),
    _same("numpy.histogram", lambda m, f, x: f(x, bins=3)[1], X, label="edges"),
    _same("numpy.histogram", lambda m, f, x: f(x, bins=3, density=True)[0], X,
          label="density"),
    _same("numpy.histogram", lambda m, f, x: f(x.reshape(7, 1), bins=3, density=True)[0], X,
          label="2-d data"),
    _same("numpy.histogram", lambda m, f, x, w: f(x, bins=3, weights=w)[0], X, WEIGHTS,
          label="weights"),
    _same("numpy.histogram", lambda m, f, x, w: f(x, bins=3, weights=w, density=True)[0], X,
          WEIGHTS, label="weighted density"),
    _same("numpy.histogram", lambda m, f, x, w: f(x, bins=BINS, weights=w)[0], X, WEIGHTS,
          label="given edges, weights"),
    _same("numpy.histogram", lambda m, f, b: f(X, bins=b, density=True)[0], BINS,
          label="density in the given edges"),
    _same("numpy.histogram", lambda m, f, lo, hi, w: f(X, 4, (lo, hi), True, w)[0],
          np.array(-1.0), np.array(2.0), WEIGHTS, label="range: outliers dropped"),
    _same("numpy.histogram", lambda m, f, w: f(X, bins=3, weights=w + 1j * w[::-1])[0],
          WEIGHTS, label="complex weights"),
    _same("numpy.histogram", lambda m, f, x: f(x, bins="fd", density=True)[0], X,
          label="fd"),
    # ----- histogram2d and histogramdd -----------------------------------------------------------
    _same("numpy.histogram2d", lambda m, f, x, y: f(x, y, bins=[2, 3], density=True)[0], X, Y,
          label="density"),
    _same("numpy.histogram2d", lambda m, f, x, y: _joined(m, f(x, y, bins=3)[1:]), X, Y,
          label="edges"),
    _same("numpy.histogram2d", lambda m, f, x, y, w: f(x, y, bins=2, weights=w)[0], X, Y,
          WEIGHTS, label="weights"),
    _same("numpy.histogram2d", lambda m, f, x, y: f(x, y, bins=BINS, density=True)[0], X, Y,
          label="one array of edges"),
    _same("numpy.histogramdd", lambda m, f, s: f(s, bins=2, density=True)[0], SAMPLE,
          label="density"),
    _same("numpy.histogramdd", lambda m, f, s: _joined(m, f(s, bins=(2, 3, 2))[1]), SAMPLE,
          label="edges"),
    _same("numpy.histogramdd", lambda m, f, x, y, w: f([x, y], bins=2, weights=w)[0], X, Y,
          WEIGHTS, label="coordinate list, weights"),
    _same("numpy.histogramdd",
          lambda m, f, s, b: f(s, bins=[2, b, 3], range=[None, None, (-3.0, 3.0)],
                               density=True)[0],
          SAMPLE, BINS, label="given edges and a range"),
    # ----- the unique values, picked from the input ---------------------------------------------
    _same("numpy.unique_values", lambda m, f, a: m.sort(f(_repeated(m, a))), V),
    _same("numpy.unique_counts", lambda m, f, a: f(_repeated(m, a)).values, V),
    _same("numpy.unique_inverse", lambda m, f, a: f(_repeated(m, a).reshape(3, 3)).values, V,
          label="2-d"),
    _same("numpy.unique_all", lambda m, f, a: f(_repeated(m, a)).values, V),
    _same("numpy.unique_all", lambda m, f, a: f(a[2]).values, V, label="0-d", edge=True),
    _same("numpy.unique_counts", lambda m, f, z: f(m.concatenate([z, z[:1]])).values, Z,
          label="complex"),
    # NumPy's order for complex numbers is a hash order that moves with the values: a sum of
    # squares does not depend on it.
    _same("numpy.unique_values", lambda m, f, z: m.sum(f(m.concatenate([z, z[:1]])) ** 2), Z,
          label="complex"),
    # ----- ix_, kaiser, real_if_close ------------------------------------------------------------
    _same("numpy.ix_", lambda m, f, a, b: _joined(m, f(a, b[:2], [True, False, True])), V, X),
    _same("numpy.kaiser", lambda m, f, beta: f(7, beta), np.array(2.3)),
    _same("numpy.kaiser", lambda m, f, beta: f(6, beta), np.array(0.0), label="beta 0",
          edge=True),
    _same("numpy.kaiser", lambda m, f, beta: f(2, beta), np.array(1.5), label="M=2", edge=True),
    _same("numpy.real_if_close", lambda m, f, x: f(x + 0j), V, label="imaginary parts 0"),
    _same("numpy.real_if_close", lambda m, f, z: f(z), Z, label="complex stays"),
]

# fabs: abs for real numbers, refusing complex ones as np.fabs does (away from the kink at 0).
CASES.append(Case("numpy.fabs", cnp.fabs, (np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, -3.0]]),),
                  reference=np.fabs))
