"""What chainrule.numpy's topic modules share: axes as sorted tuples, the refusal of NumPy's
`out=` and `where=`, the facts of a value (its dimensions, its dtype as an array, whether it
carries a derivative), a recorded fill, and NumPy's non-differentiable functions made to
answer on Tensors (`plain`, `by_aval`)."""

import numpy as np

from chainrule.core.batching import map_examples
from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.namespace import is_foreign, numpy_dtype
from chainrule.core.tensor import Tensor, cast, raw_value
from chainrule.errors import BatchingError, ShapeError, UnsupportedFunctionError
from chainrule.ops import elementwise as _elementwise
from chainrule.ops._rules import const


def normalize_axes(axis, ndim, what):
    """`axis` (None, int or tuple) as a sorted tuple of non-negative ints; a ShapeError if out
    of range."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and 0 <= axis < ndim:
        return (axis,)  # the common case, without the checks below
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    normalized = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
            raise ShapeError(
                f"{what}: axis {a} is out of range for an array with {ndim} dimensions"
            )
        normalized.append(a % max(ndim, 1))
    if ndim == 0:
        return ()
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"{what}: repeated axis in {axis}")
    return tuple(sorted(normalized))


def normalize_axis(axis, ndim, what):
    """One axis as a non-negative int."""
    (a,) = normalize_axes(axis, ndim, what) if ndim else (0,)
    return a


def reject(what, out=None, where=None):
    """Refuse NumPy's `out=` and `where=`, which would write into or mask a recorded value."""
    if out is not None:
        raise UnsupportedFunctionError(
            f"{what}(..., out=...) is not supported: use the returned value instead"
        )
    if where is not None and where is not True:
        raise UnsupportedFunctionError(
            f"{what}(..., where=...) is not supported: mask with cr.numpy.where first"
        )


def ndim_of(a) -> int:
    return len(shape_of(a))


def array_dtype(a) -> np.dtype:
    """The dtype of `a` as an array (of a list: the dtype NumPy would give it)."""
    if isinstance(a, Tensor):
        return dtype_of(a)
    value = raw_value(a)
    dtype = getattr(value, "dtype", None)
    return dtype if dtype is not None else np.asarray(value).dtype


def differentiable(value) -> bool:
    """Whether `value` carries a derivative: a Tensor that requires grad, or any value traced
    by a transform (forward-mode values do not set requires_grad, so the level counts too)."""
    return isinstance(value, Tensor) and (value.requires_grad or value._trace.level != 0)


def filled(shape, fill_value, dtype, what):
    """zeros(shape) + fill_value, recorded: a differentiable fill value keeps its derivative
    (the sum of the cotangent over the filled entries), where NumPy would take its number."""
    fill_shape = shape_of(fill_value)
    try:
        fits = np.broadcast_shapes(fill_shape, shape) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{what}: fill_value of shape {fill_shape} does not broadcast to shape {tuple(shape)}"
        )
    return _elementwise.add(np.zeros(shape, dtype), cast(fill_value, dtype))


def plain(function, per_example=True, name=None):
    """`function` called on the plain values of its arguments: for NumPy's functions whose
    results (booleans, indices, counts) carry no derivative. Under vmap it is called once per
    example and the results are stacked (batched): each example gets its own answer. With
    `per_example=False` (a string, a file written) vmap raises a BatchingError instead."""
    name = name or function.__name__

    def on_plain_values(*args, **kwargs):
        args = [const(a) for a in args]
        kwargs = {k: const(v) for k, v in kwargs.items()}
        trace = _innermost_batch(args, kwargs)
        if trace is None:
            plain_kwargs = {k: raw_value(v) for k, v in kwargs.items()}
            return function(*(raw_value(a) for a in args), **plain_kwargs)
        if not per_example:
            raise BatchingError(
                f"cnp.{name} under cr.{trace.name}: its result (a string, or a file written) "
                "has no batch axis to stack examples along. Call it outside the vmapped "
                "function, on the whole batch."
            )
        return _per_example(on_plain_values, trace, args, kwargs, name)

    on_plain_values.__name__ = name
    on_plain_values.__doc__ = function.__doc__
    return on_plain_values


def by_aval(function, name=None):
    """`function` asked about the shapes and dtypes of its arguments only (can_cast,
    iscomplexobj, einsum_path): each Tensor stands in as a zero-stride array of its shape and
    dtype (one example's, under vmap), so the answer is the same batched or not."""

    def on_avals(*args, **kwargs):
        args = [_aval(a) for a in args]
        return function(*args, **{k: _aval(v) for k, v in kwargs.items()})

    on_avals.__name__ = name or function.__name__
    on_avals.__doc__ = function.__doc__
    return on_avals


def _aval(value):
    if not isinstance(value, Tensor):
        return value
    return np.broadcast_to(np.zeros((), dtype_of(value)), shape_of(value))


def _innermost_batch(args, kwargs):
    top = None
    for value in (*args, *kwargs.values()):
        if isinstance(value, Tensor) and value._trace.batched and (
            top is None or value._trace.level > top.level
        ):
            top = value._trace
    return top


def _per_example(function, trace, args, kwargs, name):
    """`function` once per example of vmap level `trace`, results stacked and batched there
    (core.batching.map_examples: the one way to run something example by example)."""
    values = [*args, *kwargs.values()]
    batched = [isinstance(v, Tensor) and v._trace is trace for v in values]
    lowered = [v._value if b else v for v, b in zip(values, batched)]
    count = len(args)

    def one_example(row, *example):
        try:
            return function(*example[:count], **dict(zip(kwargs, example[count:], strict=True)))
        except Exception as exc:  # NumPy's own error for one example: raised as it is, below
            raise _ExampleFailed from exc

    try:
        stacked = map_examples(one_example, lowered, batched, trace.size)
    except _ExampleFailed as failed:
        raise failed.__cause__ from None
    except ValueError as exc:  # the examples' results have different shapes
        raise BatchingError(
            f"{name} under cr.{trace.name}: the size of its result depends on the values, "
            "and here the examples give results of different shapes (e.g. different numbers of "
            "entries), so they do not stack. Call it outside the vmapped function, or use "
            "cnp.where for a result of fixed size."
        ) from exc
    if isinstance(stacked, tuple):
        boxed = [trace.box(part) for part in stacked]
        return type(stacked)(*boxed) if hasattr(type(stacked), "_fields") else tuple(boxed)
    return trace.box(stacked)


class _ExampleFailed(Exception):
    """Carries the error `function` raised on one example past the stacking's own check."""


def condition_of(condition):
    """A `where` condition as a boolean operand: a plain array, or under vmap a batched one
    (never differentiated). Non-boolean conditions mean `!= 0`, as in NumPy."""
    condition = const(condition)
    if is_foreign(condition):  # a Dask or CuPy array: compared lazily, in its own library
        return condition if numpy_dtype(condition.dtype).kind == "b" else condition != 0
    if not isinstance(condition, Tensor):
        return np.asarray(condition, dtype=bool)
    if dtype_of(condition).kind != "b":
        return condition != 0
    return condition
