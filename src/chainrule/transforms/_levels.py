"""Entering and leaving a transform's level, one routine for every transform: the input policy
(which leaves are differentiated, how they are promoted), argnums, boxing the function's call at
a fresh level and closing it, and handing results back to the user.
"""

import numbers

import numpy as np

from chainrule.core.dtypes import complex_pair, dtype_of, is_numeric, shape_of, tangent_dtype
from chainrule.core.namespace import is_foreign
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, bind
from chainrule.core.tape import release_level
from chainrule.errors import (
    ArgnumsError,
    BatchingError,
    DTypeError,
    GraphEscapeError,
    InputTypeError,
    ShapeError,
)
from chainrule.transforms.tree import tree_flatten, tree_unflatten


def transformed(wrapper, function, transform):
    """Name a transform's wrapper after what it computes (grad_f, vmap_f) and point
    `__wrapped__` at f, so signatures, tracebacks and cr.jit's generated source read well."""
    base = getattr(function, "__name__", "f")
    wrapper.__name__ = wrapper.__qualname__ = \
        f"{transform}_{base if base.isidentifier() else 'f'}"
    wrapper.__doc__ = getattr(function, "__doc__", None)
    wrapper.__wrapped__ = function
    return wrapper


# ----- inputs ------------------------------------------------------------------------------------
def _where(position, index, count):
    return f"argument {position}" + (f" (leaf {index})" if count > 1 else "")


def _input_leaf(value, transform, where):
    """The input policy of every transform (and cr.trace): a differentiated input is numeric;
    real and complex float arrays pass, ints become float64, booleans are refused."""
    if not is_numeric(value):
        raise _not_numeric(transform, where, value)
    traced = type(value) in TRACED_TYPES
    # a Dask or CuPy array stays what it is (np.asarray would compute or copy it all)
    array = value if traced or is_foreign(value) else np.asarray(value)
    kind = dtype_of(array).kind
    if kind in "iu":
        if traced or array is value:
            return bind(REGISTRY["astype"], value, dtype=np.dtype(np.float64))
        return array.astype(np.float64)
    if kind in "fc":
        return value if traced else array
    if kind == "b":
        raise DTypeError(
            f"{transform}: {where} is boolean; only floating-point inputs can be differentiated. "
            "Pass floats (x.astype(float)), or leave it out of argnums / pass it as a keyword."
        )
    raise _not_numeric(transform, where, value)


def _not_numeric(transform, where, value):
    shown = repr(value)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return InputTypeError(
        f"{transform}: {where} is {type(value).__name__} {shown}; only numbers, NumPy arrays, "
        "Tensors and pytrees (tuples, lists, dicts) of them can be differentiated. Leave it out "
        "of argnums and pass it as a keyword argument, or close over it."
    )


def _flatten_inputs(args, transform):
    """[(treedef, leaves)] per argument, every leaf checked and promoted."""
    flat = []
    for position, arg in enumerate(args):
        leaves, treedef = tree_flatten(arg)
        checked = [
            _input_leaf(leaf, transform, _where(position, index, len(leaves)))
            for index, leaf in enumerate(leaves)
        ]
        flat.append((treedef, checked))
    return flat


def check_complex(flat, transform, holomorphic, what):
    """The complex-number policy of the transforms, in one place (JAX's). With
    holomorphic=True the values checked (inputs of grad and the Jacobians, outputs of jacrev)
    must be complex: f'(z) is a complex derivative. Without it, jacfwd's inputs and jacrev's
    outputs must be real: a real basis vector spans only the real directions of a complex
    number, so the result would be half a derivative. `flat` is [(treedef, leaves)] per
    argument; `what` is "input" or "output"."""
    for position, (_, leaves) in enumerate(flat):
        for index, leaf in enumerate(leaves):
            dtype = tangent_dtype(leaf)
            where = f"{what} {position}" + (f" (leaf {index})" if len(leaves) > 1 else "")
            if dtype.kind == "c" and not holomorphic:
                fix = (
                    "write f of real arguments, e.g. f(x + 1j * y) with real x and y"
                    if what == "input" else "differentiate cnp.real(f) and cnp.imag(f)"
                )
                raise DTypeError(
                    f"{transform} requires real {what}s; {where} is {dtype}. For a holomorphic "
                    f"function pass holomorphic=True; otherwise {fix}."
                )
            if dtype.kind != "c" and holomorphic:
                raise DTypeError(
                    f"{transform}(..., holomorphic=True) requires complex {what}s; {where} is "
                    f"real ({dtype}). Pass x.astype(complex), or drop holomorphic=True."
                )


def chunks(total, chunk_size, transform):
    """[(start, stop)] covering range(total) in pieces of `chunk_size` (None: one piece), the
    argument checked: what jacfwd, jacrev and vmap do a chunk at a time."""
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer))
        or chunk_size < 1
    ):
        raise ValueError(
            f"{transform}: chunk_size must be a positive int or None, got {chunk_size!r}"
        )
    step = chunk_size or max(total, 1)
    return [(start, min(total, start + step)) for start in range(0, total, step)]


def _argnums(argnums, n_args, transform):
    """argnums as a tuple of non-negative indices, checked against the call."""
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool)
    if not single and not (
        isinstance(argnums, (tuple, list))
        and all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in argnums)
    ):
        raise ArgnumsError(
            f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}"
        )
    indices = (int(argnums),) if single else tuple(int(i) for i in argnums)
    for index in indices:
        if not -n_args <= index < n_args:
            raise ArgnumsError(
                f"{transform}: argnums={argnums!r} is out of range for a call with {n_args} "
                f"positional argument(s); use indices from {-n_args} to {n_args - 1}. Keyword "
                "arguments are never differentiated: pass the argument positionally."
            )
    return tuple(index % n_args for index in indices)


def _partial(function, args, kwargs, indices):
    """(a function of the differentiated arguments only, those arguments)."""

    def partial(*differentiated):
        full = list(args)
        for index, value in zip(indices, differentiated, strict=True):
            full[index] = value
        return function(*full, **kwargs)

    return partial, tuple(args[i] for i in indices)


def _split_aux(result, has_aux, transform):
    if not has_aux:
        return result, None
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(
            f"{transform}(..., has_aux=True) needs f to return a pair (output, aux); it returned "
            f"{type(result).__name__}. Return `out, aux` or drop has_aux."
        )
    return result[0], result[1]


def call_at_level(function, args):
    """Call a function being transformed. NumPy reports a failed conversion of a scalar written
    into one of its arrays (`c[i] = x`) as a bare "setting an array element with a sequence";
    the conversion error that caused it, which names the fix, is raised instead."""
    try:
        return function(*args)
    except ValueError as exc:
        cause = exc.__cause__
        if type(exc) is not ValueError or not isinstance(cause, GraphEscapeError):
            raise
        fix = (
            "Build c out of place instead: c = cnp.stack([...]) of the values, or "
            "cnp.where(mask, x, c)." if isinstance(cause, BatchingError)
            else "Make c a chainrule buffer: c = cr.tensor(np.zeros(n))."
        )
        error = type(cause)(
            f"{cause} (Here NumPy was writing the value into a NumPy array: `c[i] = x` with c "
            f"from np.zeros / cnp.zeros. {fix})"
        )
        raise error.with_traceback(exc.__traceback__) from None


# ----- the level: entered by boxing the inputs, left by releasing it --------------------------
def _enter_level(trace, flat_inputs, tangents=None):
    """Box the input leaves at `trace`, a fresh level: how every transform (and cr.trace) enters
    its level. `flat_inputs` is [(treedef, leaves)] per argument; at a forward level `tangents`
    lists every leaf's tangent in that order, None for a leaf that stays a constant there.
    Returns ([(treedef, boxes)] per argument, the boxed arguments)."""
    remaining = iter(tangents) if tangents is not None else None
    boxed = []
    for treedef, leaves in flat_inputs:
        if remaining is None:
            boxes = [trace.box(leaf) for leaf in leaves]
        else:
            pairs = [(leaf, next(remaining)) for leaf in leaves]
            boxes = [leaf if t is None else trace.box(leaf, t) for leaf, t in pairs]
        boxed.append((treedef, boxes))
    return boxed, [tree_unflatten(treedef, boxes) for treedef, boxes in boxed]


def _run_at_level(trace, function, args, has_aux, transform):
    """Call `function(*args)` with `trace`'s level open and close it: (output leaves, output
    treedef, aux with this level's boxes removed). Tensors from outside that in-place operations
    moved onto the level are moved back down (outputs keep copies at the level)."""
    try:
        out = call_at_level(function, args)
    except BaseException:
        release_level(trace, [])  # tensors from outside do not stay on a dead level
        raise
    out, aux = _split_aux(out, has_aux, transform)
    out_leaves, out_def = tree_flatten(out)
    aux_leaves, aux_def = tree_flatten(aux) if has_aux else ([], None)
    released = release_level(trace, out_leaves + aux_leaves)
    out_leaves = released[:len(out_leaves)]
    for leaf in out_leaves:
        _check_output(leaf, transform)
    if has_aux:
        aux = tree_unflatten(aux_def, [unbox(leaf, trace) for leaf in released[len(out_leaves):]])
    return out_leaves, out_def, aux


# ----- outputs -----------------------------------------------------------------------------------
def to_user(value):
    """What a transform hands back: plain NumPy (0-d as a NumPy scalar) for untraced values;
    Tensors of enclosing levels stay Tensors, so outer transforms and backward() keep tracing."""
    if type(value) in TRACED_TYPES:
        if value._trace.owns(value):  # differentiated by some level: it stays a Tensor
            return value
        value = value._value
    if isinstance(value, np.ndarray):
        return value[()] if value.ndim == 0 else value
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        return np.asarray(value)[()]
    return value


def unbox(value, trace):
    """Strip `trace`'s box from a value, leaving enclosing levels in place."""
    return to_user(trace.unbox(value))


def _check_output(leaf, transform):
    if type(leaf) in TRACED_TYPES or isinstance(leaf, (np.ndarray, np.generic, numbers.Number)):
        return
    raise TypeError(
        f"{transform}: f returned {type(leaf).__name__} {leaf!r:.40} among its outputs; outputs "
        "must be numbers, arrays or pytrees of them (return extra values with has_aux=True)."
    )


def _zeros_like(value):
    return to_user(np.zeros(shape_of(value), tangent_dtype(value)))


def _seed(value, like, transform, what, of):
    """A tangent or cotangent checked against the primal/output `like`: same shape, same
    floating dtype. Python numbers and integer arrays are cast to that dtype. A complex tangent
    of a real primal is allowed (asked for: the derivative is extended linearly, J (a + ib) =
    J a + i J b) and kept at the paired complex precision; a complex cotangent of a real output
    is refused (its imaginary part would pair with nothing)."""
    shape, target = shape_of(like), tangent_dtype(like)
    if shape_of(value) != shape:
        raise ShapeError(
            f"{transform}: {what} has shape {shape_of(value)} but the {of} has shape {shape}; "
            f"pass one of shape {shape}."
        )
    if type(value) in TRACED_TYPES or is_foreign(value):
        return value
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind == "c" and target.kind == "f":
        if what.startswith("the tangent"):
            return array.astype(complex_pair(target))
        raise DTypeError(
            f"{transform}: {what} is complex ({array.dtype}) but the {of} is real ({target}); "
            "pass a real one (its imaginary part would pair with nothing)."
        )
    if kind in "iu" or isinstance(value, numbers.Number):
        return array.astype(target)
    if kind not in "fc":
        raise DTypeError(f"{transform}: {what} has dtype {array.dtype}; pass {target} values.")
    if kind == "f" and target.kind == "c":
        return array.astype(target)  # a real tangent or cotangent of a complex value
    if array.dtype != target:
        raise DTypeError(
            f"{transform}: {what} has dtype {array.dtype} but the {of} has dtype {target}; "
            f"cast it with .astype(np.{target})."
        )
    return array
