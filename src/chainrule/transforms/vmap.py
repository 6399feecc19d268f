"""`vmap`: a function of one example, applied to a batch of examples in one vectorised call.

`vmap(f)(xs)` opens a batching level (core/batching.py), boxes each batched input with its
batch axis moved to the front, runs `f` once, and every primitive `f` applies runs for all
examples at once through its batching rule. Composes with every other transform in any order
(`vmap(grad(f))` gives per-example gradients, `jacfwd` is built the same way), because the
batching level is a level like the others.
"""

import numbers
from collections.abc import Mapping

import numpy as np

from chainrule.core.batching import BatchTrace, move_to_front
from chainrule.core.dtypes import is_numeric, shape_of
from chainrule.core.namespace import is_foreign
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, bind
from chainrule.core.trace import new_level, physical_value
from chainrule.errors import BatchingError, InputTypeError, ShapeError, UnsupportedFunctionError
from chainrule.transforms._levels import _run_at_level, chunks, to_user, transformed
from chainrule.transforms.tree import tree_flatten, tree_node_handler, tree_unflatten

__all__ = ["vmap"]


def _refuse_foreign(leaves, position):
    """Dask and CuPy arrays are not batched yet: the batching rules move axes with NumPy, which
    would compute a Dask array in this process. Refused, never converted."""
    for leaf in leaves:
        value = physical_value(leaf) if type(leaf) in TRACED_TYPES else leaf
        if is_foreign(value):
            raise UnsupportedFunctionError(
                f"cr.vmap: argument {position} holds a {type(value).__module__}."
                f"{type(value).__name__} array; vmap's batching rules work on NumPy arrays only "
                "(for Dask they would compute the whole array). Map over the examples with the "
                "array's own tools (dask.array.map_blocks, or a batch axis in the function "
                "itself), or pass NumPy arrays."
            )


def vmap(function, in_axes=0, out_axes=0, axis_size=None, chunk_size=None):
    """Vectorise `function` over a batch axis of its positional arguments.

    `vmap(f)(xs)` equals stacking `f(x)` for every `x` along axis 0 of `xs`, computed in one call
    in which every operation is applied to all examples at once (the name and meaning are JAX's
    `jax.vmap` and `torch.func.vmap`).

    Args:
        function: a function of one example (numbers, arrays, Tensors, pytrees of them).
        in_axes: where the batch axis is in each positional argument: an int (every leaf of
            every argument), None (not batched: the same for every example), or a tuple with one
            entry per positional argument, each an int, None or a pytree prefix of that argument
            (`in_axes=(None, 0)`, `in_axes=({"w": None, "b": 0},)`). Negative axes count from
            the end. Keyword arguments are passed to every example unbatched (as torch.func).
        out_axes: where the batch axis goes in each output: an int, None (an output that does
            not depend on the batch: returned once), or a pytree prefix of the output.
        axis_size: the number of examples, needed only when no argument is batched.
        chunk_size: run the examples in chunks of this many (less memory for large batches;
            the results are the same).

    Returns:
        A function with `function`'s signature whose outputs gain the batch axis at `out_axes`.
        Inside other transforms, or on Tensors, the results stay on the graph.

    Raises:
        ShapeError: batched arguments disagree on the number of examples (the message names
            each argument and its size), or disagree with axis_size; an in or out axis is out
            of range, or a batched leaf is 0-d.
        InputTypeError: a leaf given an int in_axes is not an array (a string, an object).
        ValueError: in_axes/out_axes do not match the arguments/outputs, they hold something
            other than ints and None, no argument is batched and axis_size is not given, or
            axis_size/chunk_size is not a non-negative/positive int.
        BatchingError: the function needs one value where each example has its own: Python
            control flow on a batched value (`if x > 0:` — use `cnp.where`), a batched boolean
            mask used as an index, an in-place update of an unbatched tensor (one made outside
            `f`, or made inside it from plain values such as `cr.tensor(np.zeros(n))`) with a
            batched value, or out_axes=None for an output that depends on the batch. (Turning a
            batched value into a number or a NumPy array, `float(x)`, `np.asarray(x)`, raises a
            ConcretizationError.)

    Randomness: `chainrule.nn`'s dropout draws a mask per example. A NumPy draw that `function`
    makes itself (`rng.random(x.shape)`) is made once, with one example's shape, and shared by
    every example (torch.func's `randomness="same"`); for noise that differs per example, draw
    it outside with the batch axis and pass it in as a batched argument.

    Example:
        >>> per_example = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, X, y)
    """
    chunks(0, chunk_size, "vmap")  # checks the argument now, not at the first call
    _check_axis_size(axis_size)

    def vectorised(*args, **kwargs):
        flat, treedefs = [], []
        for position, arg in enumerate(args):
            leaves, treedef = tree_flatten(arg)
            _refuse_foreign(leaves, position)
            spec = _axes_for(in_axes, position, len(args))
            axes = _leaf_axes(spec, arg, f"in_axes for argument {position}")
            flat.append([(leaf, axis) for leaf, axis in zip(leaves, axes, strict=True)])
            treedefs.append(treedef)
        size = _batch_size(flat, axis_size)
        pieces = [
            _run_chunk(function, flat, treedefs, kwargs, start, stop, size, out_axes)
            for start, stop in chunks(size, chunk_size, "vmap") or [(0, 0)]
        ]
        return _join_chunks(pieces, out_axes)

    return transformed(vectorised, function, "vmap")


# ----- in_axes ------------------------------------------------------------------------------
def _axes_for(in_axes, position, count):
    if isinstance(in_axes, (list, tuple)):
        if len(in_axes) != count:
            raise ValueError(
                f"vmap: in_axes has {len(in_axes)} entries but the function was called with "
                f"{count} positional argument(s); give one entry (an int, None or a pytree "
                "prefix) per positional argument, or a single int/None for all."
            )
        return in_axes[position]
    return in_axes


def _leaf_axes(spec, tree, where, what="argument"):
    """The batch axis of every leaf of `tree` (in tree_flatten's order), from `spec`, a pytree
    prefix of it: an int or None stands for its whole subtree; a container must match the
    tree's container there (a dict by its keys, taken in the tree's order: an OrderedDict keeps
    its own). Walked with an explicit stack, as pytrees are everywhere."""
    axes = []
    pending = [(spec, tree)]
    while pending:
        spec, tree = pending.pop()
        if spec is None or isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
            axes.extend([None if spec is None else int(spec)] * len(tree_flatten(tree)[0]))
            continue
        children = _matched_children(spec, tree, where, what)
        pending.extend(reversed(children))
    return axes


def _matched_children(spec, tree, where, what):
    """(spec child, tree child) pairs of a container `spec` matched against `tree`."""
    if tree_node_handler(spec) is None:
        _check_axis_spec(spec, where)  # neither an axis nor a container: say what is allowed
    tree_handler = tree_node_handler(tree)
    if isinstance(spec, Mapping) and isinstance(tree, Mapping) and set(spec) == set(tree):
        children, keys = tree_handler[0](tree)
        return [(spec[key], child) for key, child in zip(keys, children, strict=True)]
    if (
        isinstance(spec, (list, tuple)) and isinstance(tree, (list, tuple))
        and len(spec) == len(tree)
    ):
        return list(zip(spec, tree, strict=True))
    if tree_handler is not None and type(spec) is type(tree):
        spec_children, spec_aux = tree_handler[0](spec)
        tree_children, tree_aux = tree_handler[0](tree)
        if spec_aux == tree_aux and len(spec_children) == len(tree_children):
            return list(zip(spec_children, tree_children, strict=True))
    raise ValueError(
        f"vmap: {where} is {spec!r}, which does not match the {what}'s structure "
        f"({type(tree).__name__}); use an int, None, or a container of the same structure."
    )


def _check_axis_spec(axis, where):
    integer = isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)
    if axis is not None and not integer:
        raise ValueError(f"vmap: {where} must hold ints or None, got {axis!r}")


def _batch_size(flat, axis_size):
    sizes = {}
    for position, pairs in enumerate(flat):
        for index, (leaf, axis) in enumerate(pairs):
            if axis is None:
                continue
            if not is_numeric(leaf):
                raise InputTypeError(
                    f"vmap: argument {position} (leaf {index}) is {type(leaf).__name__}, which "
                    "has no batch axis; pass arrays, or in_axes=None for it."
                )
            shape = shape_of(leaf)
            if not -len(shape) <= axis < max(len(shape), 1) or not shape:
                raise ShapeError(
                    f"vmap: in_axes={axis} for argument {position} (leaf {index}) of shape "
                    f"{tuple(shape)}: there is no such axis to map over. Use an axis in range, "
                    "or in_axes=None to pass it to every example unbatched."
                )
            sizes.setdefault(shape[axis], []).append(f"argument {position}" + (
                f" (leaf {index})" if len(pairs) > 1 else "") + f" has {shape[axis]}")
    if len(sizes) > 1:
        detail = "; ".join(entry for entries in sizes.values() for entry in entries)
        raise ShapeError(
            f"vmap: the batched arguments disagree on the number of examples along their "
            f"in_axes: {detail}. Give them the same batch size, or in_axes=None to the ones "
            "that are the same for every example."
        )
    if sizes:
        (size,) = sizes
        if axis_size is not None and axis_size != size:
            raise ShapeError(f"vmap: axis_size={axis_size} but the arguments have {size} examples")
        return int(size)
    if axis_size is None:
        raise ValueError(
            "vmap: no argument is batched (every in_axes is None), so the number of examples is "
            "unknown; pass axis_size=N."
        )
    return int(axis_size)


def _check_axis_size(axis_size):
    if axis_size is not None and (
        isinstance(axis_size, bool) or not isinstance(axis_size, (int, np.integer))
        or axis_size < 0
    ):
        raise ValueError(
            f"vmap: axis_size must be a non-negative int or None, got {axis_size!r}"
        )


# ----- one call at a batching level ---------------------------------------------------------
def _run_chunk(function, flat, treedefs, kwargs, start, stop, size, out_axes):
    count = stop - start
    trace = BatchTrace(new_level(), count)
    args = []
    for pairs, treedef in zip(flat, treedefs, strict=True):
        leaves = []
        for leaf, axis in pairs:
            if axis is None:
                leaves.append(leaf)
                continue
            value = move_to_front(leaf if type(leaf) in TRACED_TYPES else np.asarray(leaf), axis)
            if count != size:
                value = bind(REGISTRY["getitem"], value, index=slice(start, stop))
            leaves.append(trace.box(value))
        args.append(tree_unflatten(treedef, leaves))

    def call(*boxed):
        return function(*boxed, **kwargs)

    out_leaves, out_def, _ = _run_at_level(trace, call, args, False, "vmap")
    axes = _leaf_axes(out_axes, tree_unflatten(out_def, out_leaves), "out_axes", "output")
    results = [
        _unbatched(leaf, trace, axis, count)
        for leaf, axis in zip(out_leaves, axes, strict=True)
    ]
    return out_def, results, axes


def _unbatched(leaf, trace, axis, count):
    """An output leaf with the batch axis at `axis` (None: an output the same for every
    example, returned once)."""
    batched = type(leaf) in TRACED_TYPES and leaf._trace is trace
    if axis is None:
        if batched:
            raise BatchingError(
                "vmap: out_axes=None for an output that differs from example to example (it "
                "depends on a batched argument); give it an out axis (0)."
            )
        return to_user(leaf)
    if batched:
        value = leaf._value
    else:  # the same for every example: stacked (a broadcast view, no copy)
        known = (np.ndarray, np.generic, numbers.Number)
        if not (type(leaf) in TRACED_TYPES or isinstance(leaf, known)):
            raise TypeError(f"vmap: f returned {type(leaf).__name__}; outputs must be arrays")
        value = bind(REGISTRY["broadcast_to"], leaf, shape=(count,) + tuple(shape_of(leaf)))
    rank = len(shape_of(value))
    if not -rank <= axis < rank:
        raise ShapeError(f"vmap: out_axes={axis} is out of range for an output of rank {rank - 1}")
    axis %= rank
    if axis:
        order = tuple(range(1, axis + 1)) + (0,) + tuple(range(axis + 1, rank))
        value = bind(REGISTRY["transpose"], value, axes=order)
    return to_user(value)


def _join_chunks(pieces, out_axes):
    out_def, first, axes = pieces[0]
    if len(pieces) == 1:
        return tree_unflatten(out_def, first)
    joined = []
    for index, axis in enumerate(axes):
        parts = [piece[1][index] for piece in pieces]
        if axis is None:
            joined.append(parts[0])
            continue
        if any(type(p) in TRACED_TYPES for p in parts):
            rank = len(shape_of(parts[0]))
            sizes = tuple(shape_of(p)[axis % rank] for p in parts)
            joined.append(bind(REGISTRY["concatenate"], *parts, axis=axis % rank, sizes=sizes))
        else:
            joined.append(to_user(np.concatenate(parts, axis=axis)))
    return tree_unflatten(out_def, joined)
