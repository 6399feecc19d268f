"""`chainrule.numpy`: use it like `import numpy as np`, and everything is differentiable.

Functions here take NumPy arrays, Python numbers or chainrule Tensors. On plain arrays they
return plain arrays (NumPy's own result); on Tensors, or inside a transform, they record.
Composites (mean, var, softmax, logsumexp, ...) are written once from the primitives in
`chainrule.ops`. NumPy's non-differentiable surface (zeros, arange, pi, ...) is passed through.
"""

import builtins
import operator

import numpy as _np

# ----- NumPy's non-differentiable surface, passed through --------------------------------------
from numpy import (  # noqa: F401
    allclose,
    arange,
    array_equal,
    bool_,
    euler_gamma,
    eye,
    finfo,
    float16,
    float32,
    float64,
    floating,
    identity,
    iinfo,
    inf,
    int8,
    int16,
    int32,
    int64,
    integer,
    isclose,
    linspace,
    logspace,
    meshgrid,
    nan,
    ndarray,
    newaxis,
    pi,
    uint8,
)

from chainrule.core.primitive import REGISTRY as _REGISTRY
from chainrule.core.tensor import (
    HANDLED_FUNCTIONS,
    HANDLED_UFUNCS,
    Tensor,
    cast,
    holds_tensor,
    raw_value,
    stack_values,
)
from chainrule.errors import (
    ArgumentError,
    DTypeError,
    InputTypeError,
    ShapeError,
    UnsupportedFunctionError,
)
from chainrule.numpy._explain import allocation_shape, wrap_public
from chainrule.numpy._explain import check_numeric as _check_numeric
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import linalg as _linalg_ops
from chainrule.ops import reduce as _reduce
from chainrule.ops import shape as _shape
from chainrule.ops.elementwise import (
    clip as _clip,
)

# ----- the registry's rows under their NumPy names ----------------------------------------------
# Each row lists its names (sin; abs, absolute, fabs...): none is kept by hand here. Code in this
# module calls them through their modules (_elementwise.sqrt), which linters can follow.
for _primitive in list(_REGISTRY.values()):
    for _name in _primitive.names:
        globals()[_name] = _primitive

# Assigned rather than imported: these NumPy names are also parameter names below.
dtype = _np.dtype
e = _np.e
indices = _np.indices

conjugate = conj = lambda x: x  # real numbers only


def positive(x):
    return x


def round(a, decimals=0):  # noqa: A001
    return _elementwise.round(a, decimals=decimals)


around = round


def shape(a):
    return _np.shape(raw_value(a))


def _shape_of(a):
    return _np.shape(raw_value(a))


def ndim(a):
    return _np.ndim(raw_value(a))


def _ndim(a):  # ndim for this module's own calls, without the public wrapper
    return _np.ndim(raw_value(a))


def size(a, axis=None):
    return _np.size(raw_value(a), axis)


def result_type(*arrays_and_dtypes):
    return _np.result_type(*(raw_value(a) for a in arrays_and_dtypes))


def asarray(a, dtype=None):
    """A Tensor or traced value is returned as it is (it already is an array); anything else
    becomes a NumPy array."""
    if isinstance(a, Tensor):
        return a if dtype is None else a.astype(dtype)
    if isinstance(a, (list, tuple)) and holds_tensor(a):
        # [x, y] built from traced values (common inside functions): stack, so it records.
        stacked = stack_values(a)
        return stacked if dtype is None else astype(stacked, dtype)
    return _np.asarray(a, dtype=dtype)


def array(a, dtype=None, copy=True):
    """Like `asarray`, but a plain array is copied, as `numpy.array` does."""
    if isinstance(a, Tensor) or (isinstance(a, (list, tuple)) and holds_tensor(a)):
        return asarray(a, dtype)
    return _np.array(a, dtype=dtype, copy=copy)


def copy(a):
    """A copy (differentiable on Tensors: a new Tensor recording an identity cast)."""
    if isinstance(a, Tensor):
        return _elementwise.astype(a, dtype=_np.dtype(a.dtype), copy=True)
    return _np.copy(a)


_copy = copy  # for functions whose `copy` argument hides it


def zeros_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "zeros_like")
    return _np.zeros_like(a, dtype=dtype, shape=shape)


def ones_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "ones_like")
    return _np.ones_like(a, dtype=dtype, shape=shape)


def full_like(a, fill_value, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "full_like")
    if _differentiable(fill_value):
        like = _np.empty_like(a, dtype=dtype, shape=shape)
        return _filled(like.shape, fill_value, like.dtype, "full_like")
    return _np.full_like(a, raw_value(fill_value), dtype=dtype, shape=shape)


def empty_like(a, dtype=None, shape=None):
    a = _like_source(a, dtype, shape, "empty_like")
    return _np.empty_like(a, dtype=dtype, shape=shape)


def _like_source(a, dtype, shape, what):
    """The plain array behind `a`; a new `shape` is checked against memory first."""
    a = raw_value(a)
    if shape is not None:
        allocation_shape(shape, dtype or _np.result_type(a), what)
    return a


# The creation functions check the shape (ints, >= 0) and that it fits in memory, before
# allocating: NumPy would fail with a bare error, or succeed lazily and be killed later.
def zeros(shape, dtype=float, order="C"):
    return _np.zeros(allocation_shape(shape, dtype, "zeros"), dtype, order)


def ones(shape, dtype=float, order="C"):
    return _np.ones(allocation_shape(shape, dtype, "ones"), dtype, order)


def empty(shape, dtype=float, order="C"):
    return _np.empty(allocation_shape(shape, dtype, "empty"), dtype, order)


def full(shape, fill_value, dtype=None, order="C"):
    fill_dtype = _np.dtype(dtype) if dtype is not None else _dtype_of(fill_value)
    shape = allocation_shape(shape, fill_dtype, "full")
    if _differentiable(fill_value):
        return _filled(shape, fill_value, fill_dtype, "full")
    return _np.full(shape, raw_value(fill_value), dtype, order)


def _differentiable(value) -> bool:
    """Whether `value` carries a derivative: a Tensor that requires grad, or any value traced
    by a transform (forward-mode values do not set requires_grad, so the level counts too)."""
    return isinstance(value, Tensor) and (value.requires_grad or value._trace.level != 0)


def _filled(shape, fill_value, dtype, what):
    """zeros(shape) + fill_value, recorded: a differentiable fill value keeps its derivative
    (the sum of the cotangent over the filled entries), where NumPy would take its number."""
    fill_shape = _shape_of(fill_value)
    try:
        fits = _np.broadcast_shapes(fill_shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{what}: fill_value of shape {fill_shape} does not broadcast to shape {tuple(shape)}"
        )
    return _elementwise.add(_np.zeros(shape, dtype), cast(fill_value, dtype))


# ----- axes ---------------------------------------------------------------------------------------
def normalize_axes(axis, ndim, what):
    """`axis` (None, int or tuple) as a sorted tuple of non-negative ints; a ShapeError if out
    of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < builtins.max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ShapeError(
                f"{what}: axis {a} is out of range for an array with {ndim} dimensions"
            )
        normalized.append(a % builtins.max(ndim, 1))
    if ndim == 0:
        return ()
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{what}: repeated axis in {axis}")
    return tuple(sorted(normalized))


def normalize_axis(axis, ndim, what):
    """One axis as a non-negative int."""
    (a,) = normalize_axes(axis, ndim, what) if ndim else (0,)
    return a


def _reject(what, out=None, where=None):
    if out is not None:
        raise UnsupportedFunctionError(
            f"{what}(..., out=...) is not supported: use the returned value instead"
        )
    if where is not None and where is not True:
        raise UnsupportedFunctionError(
            f"{what}(..., where=...) is not supported: mask with cr.numpy.where first"
        )


# ----- reductions ---------------------------------------------------------------------------------
def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    _reject("sum", out, where)
    if dtype is not None:
        a = astype(a, dtype)
    result = _reduce.sum(a, axis=normalize_axes(axis, _ndim(a), "sum"), keepdims=keepdims)
    return result if initial is None else result + initial


def mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    _reject("mean", out, where)
    axes = normalize_axes(axis, _ndim(a), "mean")
    count = int(_np.prod([_shape_of(a)[i] for i in axes], dtype=_np.int64))
    total = sum(a, axis=axes, dtype=dtype, keepdims=keepdims)
    return total / count if count else total * _np.nan


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    _reject("var", out, where)
    if _dtype_of(a).kind == "c":
        raise DTypeError(
            f"var: got complex input ({_dtype_of(a)}); NumPy's variance of complex numbers is "
            "mean(|x - mean(x)|^2), and chainrule differentiates real arrays only: pass "
            "abs(x - mean(x)) ** 2 to mean, or the real and imaginary parts separately"
        )
    axes = normalize_axes(axis, _ndim(a), "var")
    centred = a - mean(a, axis=axes, dtype=dtype, keepdims=True)
    count = int(_np.prod([_shape_of(a)[i] for i in axes], dtype=_np.int64))
    return sum(centred * centred, axis=axes, keepdims=keepdims) / builtins.max(count - ddof, 0)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None):
    variance = var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, where=where)
    # std is |x - mean| / sqrt(n - ddof): a cone with its tip where the variance is 0 (a constant
    # row). There it takes the subgradient 0, as PyTorch does: the outer where makes std there a
    # constant 0, and the inner one keeps sqrt's infinite derivative at 0 out of the graph, so
    # no derivative of any order is NaN and a constant row leaves the other rows alone.
    constant = _np.asarray(raw_value(variance)) == 0
    if not constant.any():
        return _elementwise.sqrt(variance)
    root = _elementwise.sqrt(_elementwise.where(1.0, variance, condition=constant))
    return _elementwise.where(0.0, root, condition=constant)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _reject("prod", out, where)
    if dtype is not None:
        a = astype(a, dtype)
    result = _reduce.prod(a, axis=normalize_axes(axis, _ndim(a), "prod"), keepdims=keepdims)
    return result if initial is None else result * initial


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    _reject("max", out, where)
    axes = normalize_axes(axis, _ndim(a), "max")
    if initial is not None and _reduces_empty(a, axes):
        return _empty_reduction(_np.max, a, axes, keepdims, initial, "max")
    result = _reduce.amax(a, axis=axes, keepdims=keepdims)
    return result if initial is None else _elementwise.maximum(result, initial)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    _reject("min", out, where)
    axes = normalize_axes(axis, _ndim(a), "min")
    if initial is not None and _reduces_empty(a, axes):
        return _empty_reduction(_np.min, a, axes, keepdims, initial, "min")
    result = _reduce.amin(a, axis=axes, keepdims=keepdims)
    return result if initial is None else _elementwise.minimum(result, initial)


def _empty_reduction(reduction, a, axes, keepdims, initial, what):
    """max/min over an empty set: every entry is `initial` (recorded when it is differentiable,
    so its derivative is not dropped)."""
    plain = reduction(raw_value(a), axis=axes, keepdims=keepdims, initial=raw_value(initial))
    if not _differentiable(initial):
        return plain
    return _filled(_np.shape(plain), initial, _np.result_type(plain), what)


def _reduces_empty(a, axes) -> bool:
    """Whether reducing `a` over `axes` reduces an empty set (its result holds no input entry:
    a constant, with no gradient)."""
    shape = _shape_of(a)
    return builtins.any(shape[i] == 0 for i in axes)


amax, amin = max, min


def argmax(a, axis=None, out=None, keepdims=False):
    _reject("argmax", out)
    return _reduce.argmax(a, axis=axis, keepdims=keepdims)


def argmin(a, axis=None, out=None, keepdims=False):
    _reject("argmin", out)
    return _reduce.argmin(a, axis=axis, keepdims=keepdims)


def argsort(a, axis=-1, kind=None, order=None, stable=None):
    return _reduce.argsort(a, axis=axis, stable=bool(stable or kind in ("stable", "mergesort")))


def cumsum(a, axis=None, dtype=None, out=None):
    _reject("cumsum", out)
    if dtype is not None:
        a = astype(a, dtype)
    if axis is None:
        a, axis = ravel(a), 0
    return _reduce.cumsum(a, axis=normalize_axis(axis, _ndim(a), "cumsum"))


def cumprod(a, axis=None, dtype=None, out=None):
    _reject("cumprod", out)
    if dtype is not None:
        a = astype(a, dtype)
    if axis is None:
        a, axis = ravel(a), 0
    return _reduce.cumprod(a, axis=normalize_axis(axis, _ndim(a), "cumprod"))


def astype(a, dtype):
    return cast(a, dtype)


# ----- shape --------------------------------------------------------------------------------------
def reshape(a, shape=None, order="C", *, newshape=None):
    if shape is None:
        shape = newshape
    if order != "C":
        raise ArgumentError(f"reshape: only order='C' is supported, got order={order!r}")
    try:
        new_shape = (
            (operator.index(shape),) if _np.ndim(shape) == 0
            else tuple(operator.index(s) for s in shape)
        )
    except (TypeError, ValueError, OverflowError):
        raise InputTypeError(
            f"reshape: the new shape {shape!r} must be an int or a sequence of ints, e.g. (3, -1)"
        ) from None
    return _shape.reshape(a, shape=_resolve_shape(_shape_of(a), new_shape))


def _resolve_shape(old_shape, new_shape):
    """Fill in a -1 so the primitive always records a concrete shape."""
    size = int(_np.prod(old_shape, dtype=_np.int64))
    known = int(_np.prod([s for s in new_shape if s != -1], dtype=_np.int64))
    unknown = [i for i, s in enumerate(new_shape) if s == -1]
    if len(unknown) == 1 and known and size % known == 0:
        new_shape = tuple(size // known if s == -1 else s for s in new_shape)
    new_size = int(_np.prod(new_shape, dtype=_np.int64))
    if len(unknown) > 1 or new_size != size or builtins.any(s < 0 for s in new_shape):
        raise ShapeError(
            f"reshape: cannot reshape an array of shape {old_shape} (size {size}) into {new_shape}"
        )
    return new_shape


def ravel(a, order="C"):
    return reshape(a, (-1,))


def transpose(a, axes=None):
    n = _ndim(a)
    if axes is None:
        axes = tuple(reversed(range(n)))
    else:
        axes = tuple(int(x) % builtins.max(n, 1) for x in axes)
    if sorted(axes) != list(range(n)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of {n} dimensions")
    return _shape.transpose(a, axes=axes)


def permute_dims(a, axes=None):
    return transpose(a, axes)


def moveaxis(a, source, destination):
    n = _ndim(a)
    source = [normalize_axis(s, n, "moveaxis") for s in _np.atleast_1d(source)]
    destination = [normalize_axis(d, n, "moveaxis") for d in _np.atleast_1d(destination)]
    order = [i for i in range(n) if i not in source]
    if len(source) != len(destination):
        raise ShapeError(
            f"moveaxis: source {source} and destination {destination} name different numbers "
            "of axes; give one destination per source axis"
        )
    for dest, src in sorted(zip(destination, source, strict=True)):
        order.insert(dest, src)
    return transpose(a, order)


def swapaxes(a, axis1, axis2):
    n = _ndim(a)
    order = list(range(n))
    i, j = normalize_axis(axis1, n, "swapaxes"), normalize_axis(axis2, n, "swapaxes")
    order[i], order[j] = order[j], order[i]
    return transpose(a, order)


def expand_dims(a, axis):
    n = _ndim(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_ndim = n + len(axes)
    axes = normalize_axes(tuple(axes), out_ndim, "expand_dims")
    old = iter(_shape_of(a))
    new_shape = tuple(1 if i in axes else next(old) for i in range(out_ndim))
    return _shape.reshape(a, shape=new_shape)


def squeeze(a, axis=None):
    old_shape = _shape_of(a)
    if axis is None:
        axes = tuple(i for i, s in enumerate(old_shape) if s == 1)
    else:
        axes = normalize_axes(axis, len(old_shape), "squeeze")
        for i in axes:
            if old_shape[i] != 1:
                raise ShapeError(
                    f"squeeze: axis {i} has size {old_shape[i]}, not 1 (shape {old_shape})"
                )
    return _shape.reshape(a, shape=tuple(s for i, s in enumerate(old_shape) if i not in axes))


def atleast_1d(a):
    return a if _ndim(a) >= 1 else reshape(a, (1,))


def atleast_2d(a):
    n = _ndim(a)
    return a if n >= 2 else reshape(a, (1, -1) if n == 1 else (1, 1))


def broadcast_to(array, shape):
    shape = (shape,) if isinstance(shape, (int, _np.integer)) else tuple(shape)
    return _shape.broadcast_to(array, shape=shape)


def broadcast_arrays(*args):
    target = _np.broadcast_shapes(*(_shape_of(a) for a in args))
    return [broadcast_to(a, target) for a in args]


def concatenate(arrays, axis=0, out=None, dtype=None):
    _reject("concatenate", out)
    arrays = _array_list(arrays, "concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    shapes = [_shape_of(a) for a in arrays]
    if builtins.min(len(s) for s in shapes) == 0:
        raise ShapeError(
            f"concatenate: 0-d inputs (shapes {shapes}) cannot be joined along an axis; "
            "use stack, or make them 1-d with atleast_1d"
        )
    axis = normalize_axis(axis, len(shapes[0]), "concatenate")
    for s in shapes[1:]:
        if len(s) != len(shapes[0]) or _differ_outside(s, shapes[0], axis):
            raise ShapeError(
                f"concatenate: shapes {shapes} differ outside axis {axis}; all inputs must match "
                "except along the joining axis"
            )
    result = _shape.concatenate(*arrays, axis=axis, sizes=tuple(s[axis] for s in shapes))
    return result if dtype is None else astype(result, dtype)


concat = concatenate


def _differ_outside(shape, other, axis) -> bool:
    pairs = enumerate(zip(shape, other, strict=True))
    return builtins.any(x != y for i, (x, y) in pairs if i != axis)


def _array_list(arrays, what):
    """`arrays` (a sequence of arrays) as a non-empty list, or an error saying what to pass."""
    if not hasattr(arrays, "__iter__") or isinstance(arrays, (str, bytes)) or (
        not isinstance(arrays, (list, tuple)) and _np.ndim(raw_value(arrays)) == 0
    ):
        raise InputTypeError(
            f"{what}: expected a sequence of arrays (a list or tuple), got "
            f"{type(arrays).__name__}; pass e.g. [a, b]"
        )
    arrays = list(arrays)
    if not arrays:
        raise ShapeError(f"{what}: needs at least one array to join, got an empty sequence")
    for array in arrays:
        _check_numeric(array, what)
    return arrays


def stack(arrays, axis=0, out=None):
    _reject("stack", out)
    arrays = _array_list(arrays, "stack")
    shapes = {_shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all inputs must have the same shape, got {sorted(shapes)}")
    axis = int(axis) % (_ndim(arrays[0]) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(tup):
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, axis=0 if _ndim(arrays[0]) == 1 else 1)


def vstack(tup):
    return concatenate([atleast_2d(a) for a in tup], axis=0)


row_stack = vstack


def column_stack(tup):
    arrays = [reshape(a, (-1, 1)) if _ndim(a) < 2 else a for a in tup]
    return concatenate(arrays, axis=1)


def array_split(ary, indices_or_sections, axis=0):
    n = _shape_of(ary)[axis]
    axis = normalize_axis(axis, _ndim(ary), "array_split")
    pieces = _np.array_split(_np.arange(n), indices_or_sections)
    lead = (slice(None),) * axis
    return [
        ary[lead + (slice(int(p[0]), int(p[-1]) + 1),)] if len(p) else ary[lead + (slice(0, 0),)]
        for p in pieces
    ]


def split(ary, indices_or_sections, axis=0):
    sections = indices_or_sections
    if isinstance(sections, (int, _np.integer)) and _shape_of(ary)[axis] % sections:
        raise ShapeError(
            f"split: axis {axis} of length {_shape_of(ary)[axis]} does not divide into "
            f"{indices_or_sections} equal parts; use array_split for unequal parts"
        )
    return array_split(ary, indices_or_sections, axis)


def flip(m, axis=None):
    return _shape.flip(m, axis=normalize_axes(axis, _ndim(m), "flip"))


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), _shape_of(a))
    if isinstance(shift, (list, tuple)):
        shift = tuple(int(s) for s in shift)
        axis = tuple(int(x) for x in axis)
    else:
        shift, axis = int(shift), int(axis)
    return _shape.roll(a, shift=shift, axis=axis)


def tile(A, reps):  # noqa: N803 - NumPy's argument name
    reps = (reps,) if isinstance(reps, (int, _np.integer)) else tuple(int(r) for r in reps)
    a_shape = _shape_of(A)
    d = builtins.max(len(reps), len(a_shape))
    reps = (1,) * (d - len(reps)) + reps
    a_shape = (1,) * (d - len(a_shape)) + a_shape
    out_shape = allocation_shape(
        tuple(r * s for r, s in zip(reps, a_shape, strict=True)), _dtype_of(A), "tile"
    )
    interleaved = tuple(x for s in a_shape for x in (1, s))
    spread = tuple(x for r, s in zip(reps, a_shape, strict=True) for x in (r, s))
    return reshape(broadcast_to(reshape(A, interleaved), spread), out_shape)


def _dtype_of(a):
    value = raw_value(a)
    dtype = getattr(value, "dtype", None)
    return dtype if dtype is not None else _np.asarray(value).dtype


def repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, _ndim(a), "repeat")
    a_shape = _shape_of(a)
    counts = _np.asarray(raw_value(repeats))
    if counts.dtype.kind not in "iub" or counts.ndim > 1 or _np.any(counts < 0):
        raise ArgumentError(
            f"repeat: repeats must be a non-negative int or a 1-d sequence of them, got "
            f"{repeats!r}"
        )
    length = int(counts.sum()) if counts.ndim else int(counts) * a_shape[axis]
    allocation_shape(a_shape[:axis] + (length,) + a_shape[axis + 1:], _dtype_of(a), "repeat")
    source = _np.repeat(_np.arange(a_shape[axis]), counts)
    return a[(slice(None),) * axis + (source,)]


def pad(array, pad_width, mode="constant", constant_values=0):
    if mode != "constant":
        raise ArgumentError(f"pad: mode={mode!r} is not supported; only mode='constant' is")
    n = _ndim(array)
    widths = _np.broadcast_to(_np.asarray(pad_width, dtype=_np.int64), (n, 2))
    widths = tuple((int(before), int(after)) for before, after in widths)
    padded = tuple(
        s + before + after for s, (before, after) in zip(_shape_of(array), widths, strict=True)
    )
    allocation_shape(padded, _dtype_of(array), "pad")
    if _differentiable(constant_values):
        return _pad_with_differentiable_constant(array, widths, constant_values)
    return _shape.pad(array, pad_width=widths, constant_values=float(raw_value(constant_values)))


def _pad_with_differentiable_constant(array, widths, constant_values):
    """Pad with zeros, then add the constant on the border, so the constant records (its
    derivative is the sum of the cotangent over the border)."""
    if _ndim(constant_values) != 0:
        raise ArgumentError(
            f"pad: a differentiable constant_values must be a single number, got shape "
            f"{_shape_of(constant_values)}; pad one axis at a time to use different values"
        )
    dtype = _dtype_of(array)
    border = _np.pad(_np.zeros(_shape_of(array), dtype), widths, constant_values=1)
    padded = _shape.pad(array, pad_width=widths, constant_values=0.0)
    return padded + cast(constant_values, dtype) * border


def triu(m, k=0):
    return _shape.triu(m, k=int(k))


def tril(m, k=0):
    return _shape.tril(m, k=int(k))


# ----- selection ----------------------------------------------------------------------------------
def where(condition, x=None, y=None):
    if x is None and y is None:
        return _np.nonzero(raw_value(condition))
    return _elementwise.where(x, y, condition=_np.asarray(raw_value(condition), dtype=bool))


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None):  # noqa: A002
    _reject("clip", out)
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    if _differentiable(lo) or _differentiable(hi):
        # Differentiable bounds: the bound takes the cotangent where it is the active value.
        result = a if lo is None else where(a < lo, lo, a)
        return result if hi is None else where(result > hi, hi, result)
    return _clip(a, lo=raw_value(lo), hi=raw_value(hi))


def take(a, indices, axis=None):
    if axis is None:
        return ravel(a)[raw_value(indices)]
    axis = normalize_axis(axis, _ndim(a), "take")
    return a[(slice(None),) * axis + (raw_value(indices),)]


def take_along_axis(arr, indices, axis):
    indices = _np.asarray(raw_value(indices))
    if axis is None:
        return take_along_axis(ravel(arr), indices.ravel(), 0)
    n = _ndim(arr)
    axis = normalize_axis(axis, n, "take_along_axis")
    if indices.ndim != n:
        raise ShapeError(f"take_along_axis: indices have {indices.ndim} dims, the array has {n}")
    index = tuple(
        indices if d == axis
        else _np.arange(_shape_of(arr)[d]).reshape([-1 if i == d else 1 for i in range(n)])
        for d in range(n)
    )
    return arr[index]


def sort(a, axis=-1, kind=None, order=None, stable=None):
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, _np.argsort(raw_value(a), axis=axis, kind=kind), axis)


def diagonal(a, offset=0, axis1=0, axis2=1):
    moved = moveaxis(a, (axis1, axis2), (-2, -1))
    rows, cols = _shape_of(moved)[-2:]
    start_row, start_col = builtins.max(-offset, 0), builtins.max(offset, 0)
    length = builtins.max(builtins.min(rows - start_row, cols - start_col), 0)
    i = _np.arange(length)
    return moved[..., start_row + i, start_col + i]


def diag(v, k=0):
    if _ndim(v) == 2:
        return diagonal(v, k)
    if _ndim(v) != 1:
        raise ShapeError(f"diag: input must be 1-d or 2-d, got shape {_shape_of(v)}")
    n = _shape_of(v)[0] + builtins.abs(k)
    i = _np.arange(_shape_of(v)[0])
    index = (i + builtins.max(-k, 0), i + builtins.max(k, 0))
    return _shape.scatter_add(v, index=index, shape=(n, n))


def diagflat(v, k=0):
    return diag(ravel(v), k)


def trace(a, offset=0, axis1=0, axis2=1):
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


# ----- products -----------------------------------------------------------------------------------
def tensordot(a, b, axes=2):
    """Contract `axes` of a with `axes` of b, as a transpose + reshape + matmul."""
    a_shape, b_shape = _shape_of(a), _shape_of(b)
    if isinstance(axes, (int, _np.integer)):
        a_axes = list(range(len(a_shape) - axes, len(a_shape)))
        b_axes = list(range(axes))
    else:
        a_axes, b_axes = ([int(x)] if _np.ndim(x) == 0 else [int(i) for i in x] for x in axes)
    a_axes = [x % builtins.max(len(a_shape), 1) for x in a_axes]
    b_axes = [x % builtins.max(len(b_shape), 1) for x in b_axes]
    if [a_shape[i] for i in a_axes] != [b_shape[i] for i in b_axes]:
        raise ShapeError(
            f"tensordot: contracted axes differ in size: a{list(a_shape)} axes {a_axes} vs "
            f"b{list(b_shape)} axes {b_axes}"
        )
    a_free = [i for i in range(len(a_shape)) if i not in a_axes]
    b_free = [i for i in range(len(b_shape)) if i not in b_axes]
    inner = int(_np.prod([a_shape[i] for i in a_axes], dtype=_np.int64))
    a_matrix = reshape(transpose(a, a_free + a_axes), (-1, inner))
    b_matrix = reshape(transpose(b, b_axes + b_free), (inner, -1))
    out_shape = tuple(a_shape[i] for i in a_free) + tuple(b_shape[i] for i in b_free)
    return reshape(_linalg_ops.matmul(a_matrix, b_matrix), out_shape)


def dot(a, b, out=None):
    _reject("dot", out)
    if _ndim(a) == 0 or _ndim(b) == 0:
        return _elementwise.multiply(a, b)
    if _ndim(b) <= 2:
        return _linalg_ops.matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2]))


def vdot(a, b):
    return sum(ravel(a) * ravel(b))


def inner(a, b):
    if _ndim(a) == 0 or _ndim(b) == 0:
        return _elementwise.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b, out=None):
    _reject("outer", out)
    return reshape(a, (-1, 1)) * reshape(b, (1, -1))


# ----- composites for machine learning ------------------------------------------------------------
def logsumexp(a, axis=None, keepdims=False):
    axes = normalize_axes(axis, _ndim(a), "logsumexp")
    if _reduces_empty(a, axes):
        # log of an empty sum is log 0 = -inf, as in scipy; the fused primitive needs a max.
        with _np.errstate(divide="ignore"):
            return _elementwise.log(sum(_elementwise.exp(a), axis=axes, keepdims=keepdims))
    return _reduce.logsumexp(a, axis=axes, keepdims=keepdims)


# softmax and log_softmax are fused primitives (ops/reduce.py): as composites of exp, sum and
# logsumexp their derivatives subtract nearly equal numbers where one entry dominates.
def softmax(x, axis=-1):
    return _reduce.softmax(x, axis=normalize_axes(axis, _ndim(x), "softmax"))


def log_softmax(x, axis=-1):
    return _reduce.log_softmax(x, axis=normalize_axes(axis, _ndim(x), "log_softmax"))


def softplus(x):
    return _elementwise.logaddexp(x, 0.0)


def relu(x):
    # Gradient 0 at 0, as in PyTorch (maximum would split it 1/2 : 1/2).
    # NaN stays NaN (the condition is "not <= 0"), as with np.maximum and PyTorch.
    return _elementwise.where(x, 0.0, condition=~(_np.asarray(raw_value(x)) <= 0))


def einsum(*operands, out=None, dtype=None, optimize=False, **unused):
    """np.einsum, differentiable: subscripts (implicit or explicit, with '...') or sublists."""
    _reject("einsum", out)
    subscripts, arrays = _linalg_ops.einsum_arguments(operands)
    result = _linalg_ops.einsum_call(subscripts, *arrays)
    return result if dtype is None else astype(result, dtype)


from chainrule.numpy import linalg  # noqa: E402, F401 - a public submodule
from chainrule.numpy.linalg import norm  # noqa: E402, F401


def _plain(function):
    def on_plain_values(*args, **kwargs):
        plain_kwargs = {k: raw_value(v) for k, v in kwargs.items()}
        return function(*(raw_value(a) for a in args), **plain_kwargs)

    on_plain_values.__name__ = function.__name__
    return on_plain_values


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):  # noqa: F811 - NumPy's names
    """NaN -> `nan`, +inf -> `posinf`, -inf -> `neginf` (defaults: the dtype's largest and most
    negative finite numbers), recorded: finite entries keep their derivative, replaced ones get
    the derivative of their replacement (0 for a number)."""
    value = _np.asarray(raw_value(x))
    if value.dtype.kind not in "fc":
        return _np.nan_to_num(value, copy=copy, nan=raw_value(nan), posinf=posinf, neginf=neginf)
    info = _np.finfo(value.dtype)
    result = x
    for mask, replacement in (
        (_np.isnan(value), nan),
        (_np.isposinf(value), info.max if posinf is None else posinf),
        (_np.isneginf(value), info.min if neginf is None else neginf),
    ):
        if mask.any():
            result = _elementwise.where(replacement, result, condition=mask)
    return result if result is not x or not copy else _copy(x)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
           *, equal_nan=True, sorted=True):  # noqa: A002 - NumPy's argument name
    """np.unique; the unique values are recorded (picked from `ar` by index), the indices and
    counts are plain integers."""
    results = _np.unique(
        raw_value(ar), return_index=True, return_inverse=return_inverse,
        return_counts=return_counts, axis=axis, equal_nan=equal_nan,
    )
    first = results[1]
    values = take(ar, first, axis=axis) if axis is not None else ravel(ar)[first]
    extras = ((first,) if return_index else ()) + tuple(results[2:])
    return (values, *extras) if extras else values


any = _plain(_np.any)  # noqa: A001
all = _plain(_np.all)  # noqa: A001
nonzero = _plain(_np.nonzero)
count_nonzero = _plain(_np.count_nonzero)

# ----- the public surface; every function in it raises chainrule's exceptions ------------------
_INTERNAL = {
    "builtins", "HANDLED_FUNCTIONS", "HANDLED_UFUNCS", "Tensor", "cast", "raw_value",
    "holds_tensor", "stack_values",
    "ArgumentError", "InputTypeError", "ShapeError", "UnsupportedFunctionError",
    "allocation_shape", "wrap_public", "normalize_axes", "normalize_axis",
}
__all__ = sorted(name for name in globals() if name[0] != "_" and name not in _INTERNAL)
_NOT_ARRAY_FIRST = {
    "zeros", "ones", "empty", "full", "arange", "linspace", "logspace", "eye", "identity",
    "indices", "meshgrid", "einsum", "concatenate", "concat", "stack", "hstack", "vstack",
    "row_stack", "column_stack", "broadcast_arrays", "result_type", "asarray", "array", "copy",
    "shape", "ndim", "size",
}
wrap_public(globals(), __all__, _NOT_ARRAY_FIRST)

# ----- NumPy dispatch tables (NEP-13 ufuncs, NEP-18 functions) -----------------------------------
# Every row answers to its ufunc and to its aliases' (np.fabs...); the composites add theirs.
def _ufunc_named(name):
    ufunc = getattr(_np, name, None)
    return ufunc if isinstance(ufunc, _np.ufunc) else None


for _primitive in list(_REGISTRY.values()):
    for _ufunc in {_primitive.ufunc, *map(_ufunc_named, _primitive.names)} - {None}:
        HANDLED_UFUNCS[_ufunc] = _primitive
for _name in ("positive", "conjugate"):
    HANDLED_UFUNCS[getattr(_np, _name)] = globals()[_name]

_FUNCTION_NAMES = [
    "sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax", "argmin",
    "argsort", "sort", "cumsum", "cumprod", "reshape", "ravel", "transpose", "moveaxis",
    "swapaxes", "expand_dims", "squeeze", "atleast_1d", "atleast_2d", "broadcast_to",
    "broadcast_arrays", "concatenate", "stack", "hstack", "vstack", "column_stack", "split",
    "array_split", "flip", "fliplr", "flipud", "roll", "tile", "repeat", "pad", "triu", "tril",
    "where", "clip", "take", "take_along_axis", "diagonal", "diag", "diagflat", "trace",
    "tensordot", "dot", "vdot", "inner", "outer", "round", "around", "fix", "shape", "ndim", "size",
    "zeros_like", "ones_like", "full_like", "empty_like", "result_type", "permute_dims", "copy",
    "einsum", "nan_to_num", "unique",
]
for _name in _FUNCTION_NAMES:
    if hasattr(_np, _name):
        HANDLED_FUNCTIONS[getattr(_np, _name)] = globals()[_name]


for _function in (_np.allclose, _np.isclose, _np.array_equal, _np.nonzero, _np.count_nonzero,
                  _np.any, _np.all, _np.array_equiv, _np.searchsorted):
    HANDLED_FUNCTIONS[_function] = _plain(_function)


def __getattr__(name):
    # numpy.random costs ~20 ms to import; pass it through only when asked for.
    if name == "random":
        return _np.random
    raise AttributeError(f"module 'chainrule.numpy' has no attribute {name!r}")
