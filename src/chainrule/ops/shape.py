"""Shape and indexing primitives: they move entries around, so all of them are linear.

Each VJP moves the cotangent back (reshape back, transpose by the inverse permutation,
scatter-add what getitem gathered). Their JVP is the primitive itself applied to the tangent.
"""

import numpy as np

from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.primitive import (
    LINEAR,
    REGISTRY,
    TRACED_TYPES,
    InputShape,
    PerInput,
    defprimitive,
)
from chainrule.errors import DTypeError
from chainrule.ops import _batching as batching

X = 0

# fmt: off
reshape = defprimitive(
    "reshape", lambda x, shape: np.reshape(x, shape), saves=(InputShape(X),),
    vjp=(lambda g, in_shape, shape: reshape(g, shape=in_shape),), jvp=LINEAR, family="shape",
    formula=(("reshape({g})", "reshape({t})"),), batch=batching.reshape_rule,
    code="np.reshape({0}, {shape})", xp=lambda xp, x, shape: xp.reshape(x, shape))

transpose = defprimitive(
    "transpose", lambda x, axes: np.transpose(x, axes),
    vjp=(lambda g, axes: transpose(g, axes=tuple(int(i) for i in np.argsort(axes))),),
    jvp=LINEAR, family="shape", formula=(("transposeᵀ({g})", "transpose({t})"),),
    batch=batching.transpose_rule, code="np.transpose({0}, {axes})",
    xp=lambda xp, x, axes: xp.permute_dims(
        x, tuple(reversed(range(x.ndim))) if axes is None else axes))

# The engine sums a cotangent down to its input's shape, which is exactly broadcast_to's VJP.
broadcast_to = defprimitive(
    "broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
    vjp=(lambda g, shape: g,), jvp=LINEAR, family="shape",
    formula=(("sum({g}) over broadcast axes", "broadcast({t})"),), batch=batching.broadcast_to_rule,
    code="np.broadcast_to({0}, {shape})", xp=lambda xp, x, shape: xp.broadcast_to(x, shape))

flip = defprimitive(
    "flip", lambda x, axis: np.flip(x, axis), vjp=(lambda g, axis: flip(g, axis=axis),),
    jvp=LINEAR, family="shape", batch=batching.flip_rule)

roll = defprimitive(
    "roll", lambda x, shift, axis: np.roll(x, shift, axis),
    vjp=(lambda g, shift, axis: roll(g, shift=_negate(shift), axis=axis),),
    jvp=LINEAR, family="shape", batch=batching.roll_rule)

triu = defprimitive("triu", lambda x, k: np.triu(x, k), vjp=(lambda g, k: triu(g, k=k),),
                    jvp=LINEAR, family="shape", batch=batching.triangle_rule("triu"))
tril = defprimitive("tril", lambda x, k: np.tril(x, k), vjp=(lambda g, k: tril(g, k=k),),
                    jvp=LINEAR, family="shape", batch=batching.triangle_rule("tril"))
# fmt: on


def _negate(shift):
    return tuple(-s for s in shift) if isinstance(shift, tuple) else -shift


# concatenate(*xs, axis, sizes): `sizes` (each input's length along axis) lets the VJP slice.
def _concatenate_vjp(g, input_index, axis, sizes):
    start = int(np.sum(sizes[:input_index]))
    index = (slice(None),) * axis + (slice(start, start + sizes[input_index]),)
    return getitem(g, index=index)


concatenate = defprimitive(
    "concatenate",
    lambda *xs, axis, sizes: np.concatenate(xs, axis=axis),
    xp=lambda xp, *xs, axis, sizes: xp.concat(xs, axis=axis),
    vjp=PerInput(_concatenate_vjp),
    jvp=LINEAR,
    family="shape",
    formula=(("its slice of {g}", "{t} in its slice"),),  # variadic: the same for every input
    batch=batching.concatenate_rule,
)


# pad with a constant: the VJP crops the padding away; the tangent of the constant is zero.
def _crop(g, pad_width):
    shape = shape_of(g)
    kept = tuple(slice(before, size - after) for (before, after), size in zip(pad_width, shape))
    return getitem(g, index=kept)


pad = defprimitive(
    "pad",
    lambda x, pad_width, constant_values: np.pad(
        x, pad_width, mode="constant", constant_values=constant_values
    ),
    vjp=(lambda g, pad_width, constant_values: _crop(g, pad_width),),
    jvp=(lambda t, pad_width, constant_values: pad(t, pad_width=pad_width, constant_values=0.0),),
    family="shape",
    batch=batching.pad_rule,
)


# ----- indexing ----------------------------------------------------------------------------------
def _is_basic(index) -> bool:
    """Only slices, ints, None and Ellipsis: no entry is selected twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(p, (slice, int, np.integer)) or p is None or p is Ellipsis for p in parts
    )


def _scatter_add_impl(updates, index, shape):
    out = np.zeros(shape, dtype=np.result_type(updates))
    if _is_basic(index):
        out[index] = updates
    else:
        np.add.at(out, index, updates)  # repeated indices add up
    return out


def _xp_getitem(x, index):
    """x[index] for a foreign array; a boolean mask is refused: its result has a shape Dask
    knows only after computing (nan), which no derivative can be fitted to."""
    for part in index if type(index) is tuple else (index,):
        dtype = getattr(part, "dtype", None)
        if dtype is not None and getattr(dtype, "kind", None) == "b" and not isinstance(
            part, np.ndarray
        ):
            from chainrule.errors import UnsupportedFunctionError

            raise UnsupportedFunctionError(
                f"x[mask] with a boolean mask in a {type(part).__module__} array (x of shape "
                f"{x.shape}): the result's length is known only after computing the mask. Keep "
                "the shape: cnp.where(mask, x, 0) (then sum or mean over it), or compute the "
                "mask first (mask.compute())."
            )
    return x[index]


def _xp_scatter_add(xp, updates, index, shape):
    """scatter_add in a foreign array's namespace: basic indices only (no index repeats, so an
    assignment into zeros); repeated advanced indices have no spelling in the array API."""
    if not _is_basic(index):
        from chainrule.errors import UnsupportedFunctionError

        raise UnsupportedFunctionError(
            f"the gradient of x[index] with an integer or boolean array index (scatter_add, "
            f"shape {shape}) for {type(updates).__module__} arrays: the array API has no "
            "scatter-add. Index with slices, or use cnp.take_along_axis / a one-hot product."
        )
    # None (a new axis) in the index: Dask's item assignment takes none, so drop those axes of
    # the updates (each of size 1) and the Nones with them.
    parts = list(index) if type(index) is tuple else [index]
    if Ellipsis in parts:
        at = parts.index(Ellipsis)
        consumed = sum(1 for part in parts if part is not None and part is not Ellipsis)
        parts[at:at + 1] = [slice(None)] * (len(shape) - consumed)
    kept, axis, new_axes = [], 0, []
    for part in parts:
        if part is None:
            new_axes.append(axis)
            axis += 1
            continue
        kept.append(part)
        axis += type(part) is slice
    if new_axes:
        updates = xp.reshape(updates, tuple(
            n for k, n in enumerate(updates.shape) if k not in new_axes))
    out = xp.zeros(shape, dtype=updates.dtype)
    out[tuple(kept)] = updates
    return out


getitem = defprimitive(
    "getitem",
    lambda x, index: x[index],
    xp=lambda xp, x, index: _xp_getitem(x, index),
    saves=(InputShape(X),),
    vjp=(lambda g, shape, index: scatter_add(g, index=index, shape=shape),),
    jvp=LINEAR,
    family="index",
    formula=(("scatter({g})", "{t}[index]"),),
    batch=batching.getitem_rule,
    indexed=True,
)

# scatter_add(updates, index, shape): zeros(shape) with updates added at index. getitem's transpose.
scatter_add = defprimitive(
    "scatter_add",
    _scatter_add_impl,
    xp=lambda xp, updates, index, shape: _xp_scatter_add(xp, updates, index, shape),
    vjp=(lambda g, index, shape: getitem(g, index=index),),
    jvp=LINEAR,
    family="index",
    batch=batching.scatter_add_rule,
    indexed=True,
)


def _setitem_impl(x, value, index):
    out = np.array(x, copy=True)
    if out.dtype.kind != "c" and (
        type(value) is complex or getattr(getattr(value, "dtype", None), "kind", None) == "c"
    ):
        raise DTypeError(
            f"x[index] = value: value is complex but x is real ({out.dtype}); NumPy would drop "
            "the imaginary part. Make x complex first (x.astype(complex)), or write the part "
            "you mean: cnp.real(value), cnp.imag(value) or cnp.abs(value)."
        )
    out[index] = value
    return out


def _written_value_vjp(g, index):
    """The cotangent of `value` in x[index] = value: the entries it wrote, read back from g.
    An advanced index may name one entry several times; NumPy keeps the last write, so only
    that occurrence reached the output and only it gets the cotangent (the others get 0)."""
    selected = getitem(g, index=index)
    if _is_basic(index):
        return selected
    return selected * _last_writes(shape_of(g), index).astype(dtype_of(g))


def _last_writes(shape, index):
    """Boolean mask over x[index]: True where that occurrence is the write NumPy keeps. Found
    by letting NumPy do the same assignment with each occurrence's number as the value."""
    if _holds_traced(index):
        return _last_writes_bound(shape, index)
    occurrences = np.zeros(shape, dtype=bool)[index].shape
    numbers = np.arange(int(np.prod(occurrences, dtype=np.int64))).reshape(occurrences)
    owner = np.full(shape, -1, dtype=np.int64)
    owner[index] = numbers
    return owner[index] == numbers


def _holds_traced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(type(p) in TRACED_TYPES for p in parts)


def _last_writes_bound(shape, index):
    """`_last_writes` for an index holding arrays batched by `cr.vmap` (an index per example):
    the same assignment, made with bound primitives, so each example finds its own mask."""
    occurrences = tuple(shape_of(getitem(np.zeros(shape, dtype=bool), index=index)))
    numbers = np.arange(int(np.prod(occurrences, dtype=np.int64))).reshape(occurrences)
    owner = setitem(np.full(shape, -1, dtype=np.int64), numbers, index=index)
    return REGISTRY["equal"](getitem(owner, index=index), numbers)


# setitem(x, value, index): a copy of x with x[index] = value (what `t[i] = v` records).
setitem = defprimitive(
    "setitem",
    _setitem_impl,
    vjp=(lambda g, index: setitem(g, 0.0, index=index), _written_value_vjp),
    jvp=LINEAR,
    family="index",
    batch=batching.setitem_rule,
    indexed=True,
)
