"""Linear algebra primitives. Rules follow the matrix-calculus identities noted beside each.

Batched inputs (..., m, n) are supported throughout; `mT` swaps the last two axes.
"""

import numpy as np

from chainrule.core.primitive import defprimitive
from chainrule.ops._rules import prim, raw

X, Y = 0, 1


def mT(a):
    """Swap the last two axes (matrix transpose of a batch)."""
    ndim = np.ndim(raw(a))
    axes = tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)
    return prim("transpose")(a, axes=axes)


def _matmul_vjp_first(g, x, y):
    # C = A B: dA = dC B^T. A 1-d operand is a row (or column) that NumPy drops from the result.
    x_ndim, y_ndim = np.ndim(raw(x)), np.ndim(raw(y))
    if y_ndim == 1:
        return prim("reshape")(g, shape=np.shape(raw(g)) + (1,)) * y
    if x_ndim == 1:
        return matmul(prim("reshape")(g, shape=np.shape(raw(g))[:-1] + (1,) + np.shape(raw(g))[-1:]), mT(y))[..., 0, :]
    return matmul(g, mT(y))


def _matmul_vjp_second(g, x, y):
    # dB = A^T dC
    x_ndim, y_ndim = np.ndim(raw(x)), np.ndim(raw(y))
    if x_ndim == 1:
        g_column = prim("reshape")(g, shape=np.shape(raw(g))[:-1] + (1,) + np.shape(raw(g))[-1:])
        if y_ndim == 1:
            return g * x
        return prim("reshape")(x, shape=(-1, 1)) * g_column
    if y_ndim == 1:
        return matmul(mT(x), prim("reshape")(g, shape=np.shape(raw(g)) + (1,)))[..., 0]
    return matmul(mT(x), g)


matmul = defprimitive(
    "matmul",
    np.matmul,
    saves=(X, Y),
    vjp=(_matmul_vjp_first, _matmul_vjp_second),
    jvp=(lambda t, x, y: matmul(t, y), lambda t, x, y: matmul(x, t)),
    family="linalg",
)
