"""`chainrule.numpy.linalg`: NumPy's linalg names over chainrule's linear-algebra primitives."""

import numpy as _np

from chainrule.core.tensor import raw_value
from chainrule.ops import linalg as _ops

__all__ = ["norm", "matmul"]

matmul = _ops.matmul


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's argument name
    """Vector or matrix norm. The 2-norm's gradient at 0 is the subgradient 0."""
    import chainrule.numpy as cnp

    if ord not in (None, 2, "fro") or (ord == 2 and _np.ndim(raw_value(x)) != 1 and axis is None):
        raise NotImplementedError(f"norm(ord={ord!r}) is not supported yet; ord=None/'fro' is")
    squared = cnp.sum(x * x, axis=axis, keepdims=keepdims)
    return cnp.sqrt(squared)
