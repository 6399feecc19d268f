"""Functions that NumPy computes with a decision on values, differentiable where jax.numpy's
are: `kaiser` (a window, differentiable in its shape parameter beta), `real_if_close` (the real
part when every imaginary part is within `tol`, decided on the plain values) and `ix_` (open-mesh
reshapes of index vectors, differentiable in floating ones; boolean masks become their
positions). On plain arrays each is NumPy's own.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.primitive import holds_tensor
from chainrule.core.trace import physical_value
from chainrule.errors import BatchingError
from chainrule.numpy._common import plain
from chainrule.numpy._explain import wrap_public
from chainrule.numpy.elementwise import i0
from chainrule.numpy.shapes import as_array, reshape, traced
from chainrule.ops import elementwise as _elementwise

__all__ = ["kaiser", "real_if_close", "ix_"]


def kaiser(M, beta):  # noqa: N803 - NumPy's argument name
    """np.kaiser; differentiable in `beta`: i0(beta sqrt(1 - ((n - alpha) / alpha)^2)) / i0(beta),
    with cnp.i0 (NumPy's values)."""
    if not traced(beta):
        return np.kaiser(M, beta)
    length = float(M)
    if length == 1:
        return np.ones(1)
    alpha = (length - 1) / 2.0
    profile = np.sqrt(1 - ((np.arange(0, length) - alpha) / alpha) ** 2.0)
    return i0(beta * profile) / i0(beta)


def real_if_close(a, tol=100):
    """np.real_if_close: the real part of a complex `a` when every imaginary part is below `tol`
    (in multiples of the dtype's machine epsilon when tol > 1), else `a` itself. The choice is
    NumPy's, on the plain values; the real part records. Under vmap every example must choose
    alike, as the results would differ in dtype."""
    a = as_array(a)
    if not traced(a):
        return np.real_if_close(a, tol)
    if dtype_of(a).kind != "c":
        return a
    every = np.asarray(physical_value(plain(_is_close, name="real_if_close")(a, tol)))
    if every.all():
        return _elementwise.real(a)
    if not every.any():
        return a
    raise BatchingError(
        "cnp.real_if_close under cr.vmap: some examples are real within tol and others are "
        "not, so some results would be real and others complex, and they do not stack. Take "
        "cnp.real(a) (or keep a complex) explicitly inside the vmapped function."
    )


def _is_close(a, tol):
    return np.asarray(np.isrealobj(np.real_if_close(a, tol)))


def ix_(*args):
    """np.ix_; a floating (or integer) Tensor is reshaped, recorded; boolean masks are replaced
    by their positions (NumPy's, on the plain values)."""
    arrays = [as_array(a) if _holds_tensor(a) else a for a in args]
    if not any(traced(a) for a in arrays):
        return np.ix_(*args)
    found = plain(np.ix_, name="ix_")(*arrays)  # NumPy's checks, shapes and masks' positions
    return tuple(
        reshape(a, tuple(shape_of(index))) if traced(a) and dtype_of(a).kind != "b" else index
        for a, index in zip(arrays, found, strict=True)
    )


def _holds_tensor(value):
    return traced(value) or isinstance(value, (list, tuple)) and holds_tensor(value)


wrap_public(globals(), __all__, not_array_first={"kaiser"})
