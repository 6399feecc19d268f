"""Probe inputs for tools/coverage.py: one small input per function, on which a function is
asked whether it differentiates (JAX's once, at `--refresh`; chainrule's on every run).

A probe is built from four constants (`Constants`): two vectors and two 3 x 3 matrices, well
inside every domain the probed functions have (entries in (0, 1) or a positive definite
matrix, no ties, distinct eigenvalues). The complex constants keep that: the matrices stay
Hermitian positive definite. Most functions take one of `CANDIDATES` (the first that NumPy
itself accepts); those that need more (a shape, an axis, a condition) are listed in `PROBES`.
Plain NumPy only, so JAX's environment and chainrule's read the same inputs.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["Constants", "REAL", "COMPLEX", "CANDIDATES", "PROBES", "probe_builder"]


@dataclass(frozen=True)
class Constants:
    v: np.ndarray  # a vector, entries in (0, 1), no ties, none at a rounding boundary (0.5)
    w: np.ndarray  # another, of the same length
    m: np.ndarray  # a symmetric (Hermitian) positive definite 3 x 3 matrix
    n: np.ndarray  # a general 3 x 3 matrix, well conditioned


_V = np.array([0.3, 0.9, 0.45, 0.7])
_W = np.array([0.6, 0.2, 0.8, 0.4])
_M = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.1]])
_N = np.array([[0.9, 0.2, 0.4], [0.1, 0.7, 0.3], [0.5, 0.6, 0.8]])
_SKEW = np.array([[0.0, 0.2, -0.1], [-0.2, 0.0, 0.3], [0.1, -0.3, 0.0]])

REAL = Constants(_V, _W, _M, _N)
COMPLEX = Constants(
    _V + 0.4j * _W[::-1], _W + 0.3j * _V[::-1], _M + 1j * _SKEW, _N + 0.5j * _N.T
)

# Tried in order: the first that NumPy's own function accepts is the probe.
CANDIDATES = (
    lambda c: (c.v,),
    lambda c: (c.v, c.w),
    lambda c: (c.m,),
    lambda c: (c.m, c.n),
)

_INDEX = np.array([2, 0, 1])


def _decay(y, t):
    return -0.5 * y


# Functions whose arguments are not one or two arrays (or for which NumPy takes an input JAX
# refuses: tril of a vector). Keys are names as the coverage table writes them
# ("linalg.solve", "scipy.special.xlogy"); values build (args, kwargs), or (args, kwargs, wrt)
# to name the positions differentiated. NumPy's in-place functions are probed in the form that
# returns the new array (inplace=False, as in jax.numpy).
PROBES = {
    "apply_along_axis": lambda c: ((np.sum, 0, c.m), {}),
    "apply_over_axes": lambda c: ((np.sum, c.m, [0]), {}),
    "array_split": lambda c: ((c.v, 2), {}),
    "broadcast_to": lambda c: ((c.v, (2, 4)), {}),
    "argpartition": lambda c: ((c.v, 2), {}),
    "astype": lambda c: ((c.v, c.v.dtype), {}),
    "bincount": lambda c: ((np.array([0, 2, 1, 2]), c.v), {}),
    "choose": lambda c: ((np.array([0, 1, 0, 1]), np.stack([c.v, c.w])), {}),
    "block": lambda c: (([c.v, c.w],), {}),
    "column_stack": lambda c: (([c.v, c.w],), {}),
    "concat": lambda c: (([c.v, c.w],), {}),
    "concatenate": lambda c: (([c.v, c.w],), {}),
    "compress": lambda c: ((np.array([True, False, True]), c.m), {"axis": 0}),
    "delete": lambda c: ((c.v, 1), {}),
    "dstack": lambda c: (([c.v, c.w],), {}),
    "dsplit": lambda c: ((c.m.reshape(1, 3, 3), 3), {}),
    "digitize": lambda c: ((c.v, np.array([0.25, 0.5, 0.75])), {}),
    "empty": lambda c: (((2, 3),), {}),
    "einsum": lambda c: (("ij,jk->ik", c.m, c.n), {}),
    "einsum_path": lambda c: (("ij,jk->ik", c.m, c.n), {}),
    "expand_dims": lambda c: ((c.v, 0), {}),
    "extract": lambda c: ((np.array([True, False, True, True]), c.v), {}),
    "fft.fftfreq": lambda c: ((4, c.v[0]), {}),
    "fft.rfftfreq": lambda c: ((4, c.v[0]), {}),
    "fft.fftshift": lambda c: ((c.v,), {}),
    "fft.ifftshift": lambda c: ((c.v,), {}),
    "fill_diagonal": lambda c: ((c.m, c.v[0]), {"inplace": False}),
    "full": lambda c: (((2, 3), c.v[0]), {}),
    "full_like": lambda c: ((c.v, c.w[0]), {}),
    "histogramdd": lambda c: ((np.stack([c.v, c.w], axis=1),), {}),
    "hsplit": lambda c: ((c.v, 2), {}),
    "hstack": lambda c: (([c.v, c.w],), {}),
    "insert": lambda c: ((c.v, 1, c.w[0]), {}),
    "kaiser": lambda c: ((5, c.v[0] * 4), {}),
    "ldexp": lambda c: ((c.v, np.array([1, 2, 0, 3])), {}),
    "linalg.multi_dot": lambda c: (([c.m, c.n, c.m],), {}),
    "interp": lambda c: ((c.v, np.array([0.0, 0.4, 0.8, 1.0]), c.w), {}),
    "linalg.matrix_power": lambda c: ((c.n, 3), {}),
    "linalg.tensorinv": lambda c: ((c.m, 1), {}),
    "linalg.tensorsolve": lambda c: ((c.m, c.v[:3]), {}),
    "moveaxis": lambda c: ((c.n.reshape(3, 3, 1), 0, 2), {}),
    "pad": lambda c: ((c.v, 1), {}),
    "partition": lambda c: ((c.v, 2), {}),
    "piecewise": lambda c: ((c.v, [c.v.real < 0.6], [lambda x: x * x, lambda x: x]), {}),
    "permute_dims": lambda c: ((c.n, (1, 0)), {}),
    "place": lambda c: ((c.v, c.v.real > 0.5, c.w), {"inplace": False}),
    "polyfit": lambda c: ((c.v, c.w, 2), {}),
    "put": lambda c: ((c.v, np.array([0, 2]), c.w[:2]), {"inplace": False}),
    "put_along_axis": lambda c: ((c.m, _INDEX[:, None], c.n[:, :1], 1), {"inplace": False}),
    "repeat": lambda c: ((c.v, 2), {}),
    "reshape": lambda c: ((c.v, (2, 2)), {}),
    "resize": lambda c: ((c.v, (2, 3)), {}),
    "rollaxis": lambda c: ((c.n.reshape(3, 3, 1), 2), {}),
    "roll": lambda c: ((c.v, 1), {}),
    "row_stack": lambda c: (([c.v, c.w],), {}),
    "select": lambda c: (([c.v.real < 0.6, c.v.real >= 0.6], np.stack([c.v, c.w])), {}),
    "split": lambda c: ((c.v, 2), {}),
    "stack": lambda c: (([c.v, c.w],), {}),
    "swapaxes": lambda c: ((c.m, 0, 1), {}),
    "take": lambda c: ((c.v, _INDEX), {}),
    "take_along_axis": lambda c: ((c.m, _INDEX[:, None], 1), {}),
    "tensordot": lambda c: ((c.m, c.n), {"axes": 1}),
    "tile": lambda c: ((c.v, 2), {}),
    "ones": lambda c: (((2, 3),), {}),
    "tri": lambda c: ((3,), {}),
    "zeros": lambda c: (((2, 3),), {}),
    "tril": lambda c: ((c.n,), {}),
    "triu": lambda c: ((c.n,), {}),
    "vsplit": lambda c: ((c.m, 3), {}),
    "vstack": lambda c: (([c.v, c.w],), {}),
    "where": lambda c: ((c.v.real < 0.6, c.v, c.w), {}),
}

# SciPy's functions: an order or a count first (not differentiated), or several arguments.
PROBES.update({
    "scipy.special.polygamma": lambda c: ((1, c.v), {}),
    "scipy.special.multigammaln": lambda c: ((c.v + 3.0, 2), {}),
    "scipy.special.jn": lambda c: ((2, c.v), {}),
    "scipy.special.yn": lambda c: ((2, c.v), {}),
    "scipy.special.iv": lambda c: ((1, c.v), {}),
    "scipy.special.ive": lambda c: ((1, c.v), {}),
    "scipy.special.gammainc": lambda c: ((c.w + 1.0, c.v), {}, (1,)),
    "scipy.special.gammaincc": lambda c: ((c.w + 1.0, c.v), {}, (1,)),
    "scipy.special.betainc": lambda c: ((c.w + 1.0, c.v + 1.0, c.v), {}, (2,)),
    "scipy.special.zeta": lambda c: ((c.v + 2.0, c.w + 1.0), {}, (1,)),
    "scipy.linalg.solve_sylvester": lambda c: ((c.m, c.n, c.m), {}),
    "scipy.linalg.solve_banded": lambda c: (((1, 1), c.n, c.v[:3]), {}),
    "scipy.integrate.odeint": lambda c: ((_decay, c.v[:2], np.array([0.0, 0.5, 1.0])), {}),
})

# scipy.stats: each distribution's data and parameters, for every method.
_DISTRIBUTIONS = {
    "norm": lambda c: (c.v, 0.1, 1.3),
    "t": lambda c: (c.v, c.w * 5.0 + 1.0),
    "gamma": lambda c: (c.v, c.w + 1.0),
    "chi2": lambda c: (c.v, c.w + 2.0),
    "beta": lambda c: (c.v, c.w + 1.0, c.v[::-1] + 1.0),
    "cauchy": lambda c: (c.v, 0.1, 1.3),
    "laplace": lambda c: (c.v, 0.1, 1.3),
    "logistic": lambda c: (c.v, 0.1, 1.3),
    "expon": lambda c: (c.v, 0.0, 1.3),
    "poisson": lambda c: (np.array([0, 1, 2, 3]), c.w * 3.0),
    "binom": lambda c: (np.array([0, 1, 2, 3]), 5, c.w),
    "dirichlet": lambda c: (c.v / np.sum(c.v), c.w + 1.0),
    "multivariate_normal": lambda c: (c.v[:3], c.w[:3], c.m),
}
for _distribution, _arguments in _DISTRIBUTIONS.items():
    for _method in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "pmf", "logpmf"):
        PROBES[f"scipy.stats.{_distribution}.{_method}"] = (
            lambda c, arguments=_arguments: (arguments(c), {})
        )
PROBES["scipy.stats.multivariate_normal.entropy"] = lambda c: ((c.w[:3], c.m), {})


def probe_builder(name, reference):
    """How to build the probe of `name` from constants (`REAL` or `COMPLEX`): its `PROBES`
    entry, else the first of `CANDIDATES` on which `reference` (NumPy's or SciPy's own
    function, or chainrule's where they lack it) succeeds with the real constants; None when
    none fits. A builder returns (args, kwargs), or (args, kwargs, wrt) to name the positions
    differentiated (default: every floating argument)."""
    if name in PROBES:
        return PROBES[name]
    for candidate in CANDIDATES:
        args = candidate(REAL)
        try:
            with np.errstate(all="ignore"):
                reference(*(np.copy(a) for a in args))
        except Exception:  # any refusal means "not this candidate"
            continue
        return lambda constants, candidate=candidate: (candidate(constants), {})
    return None
