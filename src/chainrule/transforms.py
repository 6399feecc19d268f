"""Functional transforms (JAX style): grad, value_and_grad, vjp, jvp, linearize, jacfwd, jacrev,
hessian, hvp, stop_gradient.

Each call opens a fresh trace level, boxes the leaves of its inputs (pytrees) there, runs the
function, and reads derivatives off that level only, so transforms nest without confusing their
perturbations. Results come back in the structure of the inputs and outputs: NumPy arrays (0-d
as NumPy scalars), or Tensors of an enclosing level when called inside another transform.
"""

import numbers

import numpy as np

import chainrule.numpy as cnp
from chainrule.batched_backward import batched_backward
from chainrule.batching import BatchedForwardTrace, prefer_heap
from chainrule.core.forward import ForwardTrace
from chainrule.core.graph import TAPE, ReverseTrace, backward_pass
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, bind
from chainrule.core.tensor import Tensor, call_at_level, raw_value, release_level
from chainrule.core.trace import new_level
from chainrule.errors import (
    ArgnumsError,
    DTypeError,
    InputTypeError,
    NonScalarOutputError,
    ShapeError,
    TreeStructureError,
)
from chainrule.tree import tree_flatten, tree_map, tree_unflatten

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "hessian", "hvp",
    "stop_gradient",
]


# ----- inputs ------------------------------------------------------------------------------------
def _where(position, index, count):
    return f"argument {position}" + (f" (leaf {index})" if count > 1 else "")


def _input_leaf(value, transform, where):
    """A differentiated input: float arrays pass, ints become float64, the rest is refused."""
    if type(value) in TRACED_TYPES:
        kind = value.dtype.kind
        if kind in "iu":
            return bind(REGISTRY["astype"], value, dtype=np.dtype(np.float64))
        array = raw_value(value)
    else:
        if value is None or isinstance(value, (str, bytes)):
            raise _not_numeric(transform, where, value)
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise _not_numeric(transform, where, value) from exc
        kind = array.dtype.kind
        if kind in "iu":
            return array.astype(np.float64)
    if kind == "f":
        return value if type(value) in TRACED_TYPES else array
    if kind == "b":
        raise DTypeError(
            f"{transform}: {where} is boolean; only floating-point inputs can be differentiated. "
            "Pass floats (x.astype(float)), or leave it out of argnums / pass it as a keyword."
        )
    if kind == "c":
        raise DTypeError(
            f"{transform}: {where} is complex ({array.dtype}); chainrule differentiates real "
            "numbers. Split it into real and imaginary parts."
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
        if value._trace is not TAPE or value._node is not None or value.requires_grad:
            return value
        value = value._value
    if isinstance(value, np.ndarray):
        return value[()] if value.ndim == 0 else value
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        return np.asarray(value)[()]
    return value


def unbox(value, trace):
    """Strip `trace`'s box from a value, leaving enclosing levels in place."""
    if type(value) in TRACED_TYPES and value._trace is trace:
        value = value._value
    return to_user(value)


def _check_output(leaf, transform):
    if type(leaf) in TRACED_TYPES or isinstance(leaf, (np.ndarray, np.generic, numbers.Number)):
        return
    raise TypeError(
        f"{transform}: f returned {type(leaf).__name__} {leaf!r:.40} among its outputs; outputs "
        "must be numbers, arrays or pytrees of them (return extra values with has_aux=True)."
    )


def _zeros_like(value):
    value = raw_value(value)
    return to_user(np.zeros(np.shape(value), _float_dtype(value)))


def _float_dtype(value):
    dtype = np.result_type(raw_value(value))
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _shape(value):
    return np.shape(raw_value(value))


# ----- reverse mode ------------------------------------------------------------------------------
class _Recording:
    """f run once on a fresh reverse level: its outputs and the graph behind them."""

    def __init__(self, function, args, transform, has_aux):
        self.transform = transform
        self.trace = ReverseTrace(new_level())
        self.inputs = []  # (treedef, boxes) per argument
        boxed_args = []
        for treedef, leaves in _flatten_inputs(args, transform):
            boxes = [Tensor(leaf, self.trace, None, True) for leaf in leaves]
            self.inputs.append((treedef, boxes))
            boxed_args.append(tree_unflatten(treedef, boxes))
        self.out_leaves, self.out_def, self.aux = _run_at_level(
            self.trace, function, boxed_args, has_aux, transform
        )

    def output(self):
        return tree_unflatten(self.out_def, [unbox(leaf, self.trace) for leaf in self.out_leaves])

    def pullback(self, cotangents, retain_graph):
        """One cotangent per output leaf (None: zero) -> one pytree of cotangents per input."""
        roots = []
        for leaf, cotangent in zip(self.out_leaves, cotangents, strict=True):
            if cotangent is not None and type(leaf) in TRACED_TYPES and leaf._trace is self.trace:
                roots.append((leaf._node if leaf._node is not None else leaf, cotangent))
        found = backward_pass(roots, retain_graph=retain_graph) if roots else {}
        return [
            tree_unflatten(treedef, [
                to_user(found[id(box)][1]) if id(box) in found else _zeros_like(box)
                for box in boxes
            ])
            for treedef, boxes in self.inputs
        ]


def _cotangent_leaves(cotangent, recording):
    leaves, treedef = tree_flatten(cotangent)
    if treedef != recording.out_def:
        raise TreeStructureError(
            f"vjp: the cotangent has structure {treedef!r} but f's output has structure "
            f"{recording.out_def!r}; pass a cotangent shaped like the output."
        )
    return [
        _seed(leaf, out, "vjp", "the cotangent", "output")
        for leaf, out in zip(leaves, recording.out_leaves, strict=True)
    ]


def _seed(value, like, transform, what, of):
    """A tangent or cotangent checked against the primal/output `like`: same shape, same
    floating dtype. Python numbers and integer arrays are cast to that dtype."""
    shape, target = _shape(like), _float_dtype(like)
    if _shape(value) != shape:
        raise ShapeError(
            f"{transform}: {what} has shape {_shape(value)} but the {of} has shape {shape}; "
            f"pass one of shape {shape}."
        )
    if type(value) in TRACED_TYPES:
        return value
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind in "iu" or isinstance(value, numbers.Number):
        return array.astype(target)
    if kind != "f":
        raise DTypeError(f"{transform}: {what} has dtype {array.dtype}; pass {target} values.")
    if array.dtype != target:
        raise DTypeError(
            f"{transform}: {what} has dtype {array.dtype} but the {of} has dtype {target}; "
            f"cast it with .astype(np.{target})."
        )
    return array


def vjp(function, *primals, has_aux=False):
    """(out, vjp_fn[, aux]): out = function(*primals); vjp_fn(cotangent) returns a tuple with
    one cotangent per primal. vjp_fn may be called many times (the graph is kept)."""
    recording = _Recording(function, primals, "vjp", has_aux)

    def vjp_fn(cotangent):
        cotangents = _cotangent_leaves(cotangent, recording)
        return tuple(recording.pullback(cotangents, retain_graph=True))

    if has_aux:
        return recording.output(), vjp_fn, recording.aux
    return recording.output(), vjp_fn


def value_and_grad(function, argnums=0, has_aux=False):
    """A function returning (f(*args), gradient w.r.t. the arguments named by argnums);
    with has_aux=True, ((f's output, aux), gradient)."""
    return _value_and_grad(function, argnums, has_aux, "value_and_grad")


def _value_and_grad(function, argnums, has_aux, transform):
    def value_and_grad_function(*args, **kwargs):
        indices = _argnums(argnums, len(args), transform)
        partial, differentiated = _partial(function, args, kwargs, indices)
        recording = _Recording(partial, differentiated, transform, has_aux)
        _check_scalar(recording, transform)
        out_leaf = recording.out_leaves[0]
        seed = np.ones(_shape(out_leaf), _float_dtype(out_leaf))
        grads = recording.pullback([seed], retain_graph=False)
        grads = grads[0] if isinstance(argnums, (int, np.integer)) else tuple(grads)
        value = recording.output()
        return ((value, recording.aux) if has_aux else value), grads

    return value_and_grad_function


def _check_scalar(recording, transform):
    """grad's output must be one floating-point number: shape () or any shape with exactly one
    element ((1,), (1, 1), keepdims=True), as HIPS autograd and PyTorch accept."""
    leaves = recording.out_leaves
    value = raw_value(leaves[0]) if len(leaves) == 1 else None
    if len(leaves) != 1 or getattr(value, "size", 1) != 1:
        got = (
            f"shape {_shape(leaves[0])}" if len(leaves) == 1
            else f"a {recording.out_def!r} pytree with {len(leaves)} leaves"
        )
        raise NonScalarOutputError(
            f"{transform}(f) requires f to return a scalar; it returned {got}. Use jacrev(f) "
            "for a Jacobian or vjp(f, x) for a vector-Jacobian product (or reduce the output, "
            "e.g. with cnp.sum)."
        )
    dtype = getattr(value, "dtype", None)
    dtype = dtype if dtype is not None else np.result_type(value)
    if dtype.kind != "f":
        raise DTypeError(
            f"{transform}(f) requires f to return a floating-point scalar; it returned dtype "
            f"{dtype} (from a comparison, np.allclose, argmax, a count...). Such an output is "
            "piecewise constant, so it carries no derivative to read. Return the floating-point "
            "quantity you want to differentiate (e.g. the loss itself, not a test on it), and "
            "pass other results out with has_aux=True."
        )


def grad(function, argnums=0, has_aux=False):
    """The gradient of a scalar-valued function w.r.t. the arguments named by argnums (an int
    gives one gradient, a tuple a tuple of them); with has_aux=True, (gradient, aux)."""
    value_and_grad_function = _value_and_grad(function, argnums, has_aux, "grad")

    def grad_function(*args, **kwargs):
        value, grads = value_and_grad_function(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return grad_function


# ----- forward mode ------------------------------------------------------------------------------
def _paired_leaves(primals, tangents, transform):
    """[(treedef, primal leaves, tangent leaves)] per argument, structures and shapes checked."""
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(
                f"{transform}(f, primals, tangents): {name} must be a tuple with one entry per "
                f"argument of f, e.g. {transform}(f, (x,), (v,)); got {type(value).__name__}."
            )
    if len(primals) != len(tangents):
        raise TreeStructureError(
            f"{transform}: {len(primals)} primals but {len(tangents)} tangents; pass one tangent "
            "per primal."
        )
    paired = []
    for position, ((treedef, leaves), tangent) in enumerate(
        zip(_flatten_inputs(primals, transform), tangents, strict=True)
    ):
        tangent_leaves, tangent_def = tree_flatten(tangent)
        if tangent_def != treedef:
            raise TreeStructureError(
                f"{transform}: the tangent of argument {position} has structure {tangent_def!r} "
                f"but the primal has structure {treedef!r}; pass a tangent shaped like the primal."
            )
        checked = [
            _seed(t, p, transform, f"the tangent of {_where(position, i, len(leaves))}", "primal")
            for i, (t, p) in enumerate(zip(tangent_leaves, leaves, strict=True))
        ]
        paired.append((treedef, leaves, checked))
    return paired


def jvp(function, primals, tangents):
    """(function(*primals), its directional derivative along tangents), in one forward pass."""
    trace = ForwardTrace(new_level())
    boxed_args = [
        tree_unflatten(treedef, [
            Tensor(p, trace, tangent=t) for p, t in zip(leaves, tangent_leaves, strict=True)
        ])
        for treedef, leaves, tangent_leaves in _paired_leaves(primals, tangents, "jvp")
    ]
    out_leaves, out_def, _ = _run_at_level(trace, function, boxed_args, False, "jvp")
    values = [unbox(leaf, trace) for leaf in out_leaves]
    tangents_out = [
        to_user(leaf._tangent) if type(leaf) in TRACED_TYPES and leaf._trace is trace
        else _zeros_like(leaf)
        for leaf in out_leaves
    ]
    return tree_unflatten(out_def, values), tree_unflatten(out_def, tangents_out)


def linearize(function, *primals):
    """(function(*primals), jvp_fn): jvp_fn(*tangents) is the derivative at primals applied to
    tangents. Each call of jvp_fn runs one forward-mode pass of function."""
    primals = tuple(primals)
    out = _evaluate(function, primals)

    def jvp_fn(*tangents):
        return jvp(function, primals, tangents)[1]

    return out, jvp_fn


def _evaluate(function, primals):
    inputs = [
        tree_unflatten(treedef, leaves) for treedef, leaves in _flatten_inputs(primals, "linearize")
    ]
    return tree_map(to_user, function(*inputs))


def hvp(function, x, v):
    """The Hessian of scalar `function` at x applied to v, by forward-over-reverse (jvp of
    grad): one pass, never forming the Hessian."""
    return jvp(grad(function), (x,), (v,))[1]


def stop_gradient(x):
    """x as a constant: no derivative flows through it at any level (pytrees welcome)."""

    def constant(leaf):
        if type(leaf) not in TRACED_TYPES:
            return leaf
        return leaf.detach() if leaf._trace is TAPE else raw_value(leaf)

    return tree_map(constant, x)


# ----- Jacobians ---------------------------------------------------------------------------------
class _Layout:
    """Where each input leaf sits in the flat vector of all differentiated entries."""

    def __init__(self, flat_inputs):
        self.flat_inputs = flat_inputs
        self.leaves = [leaf for _, leaves in flat_inputs for leaf in leaves]
        self.sizes = [int(np.prod(_shape(leaf), dtype=np.int64)) for leaf in self.leaves]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.total = self.offsets[-1]

    def blocks(self, full, out_shape, single_arg):
        """Split rows (total, *out_shape) into per-input blocks of shape out_shape + in_shape,
        rebuilt in the structure of the differentiated arguments."""
        blocks = []
        for leaf, start, size in zip(self.leaves, self.offsets, self.sizes, strict=False):
            block = full[start:start + size]
            block = cnp.moveaxis(block, 0, -1) if len(out_shape) else block
            blocks.append(to_user(cnp.reshape(block, out_shape + _shape(leaf))))
        per_arg, position = [], 0
        for treedef, leaves in self.flat_inputs:
            per_arg.append(tree_unflatten(treedef, blocks[position:position + len(leaves)]))
            position += len(leaves)
        return per_arg[0] if single_arg else tuple(per_arg)


def _chunks(total, chunk_size, transform):
    if chunk_size is None:
        chunk_size = max(total, 1)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or (
        chunk_size < 1
    ):
        raise ValueError(
            f"{transform}: chunk_size must be a positive int or None, got {chunk_size!r}"
        )
    return [(start, min(total, start + chunk_size)) for start in range(0, total, chunk_size)]


def _concat_rows(pieces):
    if len(pieces) == 1:
        return pieces[0]
    if any(type(p) in TRACED_TYPES for p in pieces):
        return cnp.concatenate(pieces, axis=0)
    return np.concatenate(pieces, axis=0)


def jacfwd(function, argnums=0, has_aux=False, chunk_size=None):
    """The Jacobian by forward mode: basis tangents pushed in batches of `chunk_size` (default:
    all at once) through one batched forward pass per batch. Entry [i..., j...] of the result is
    d out[i...] / d x[j...]: shape out.shape + x.shape, in the output's (and inputs') structure."""

    def jacobian_function(*args, **kwargs):
        prefer_heap()
        indices = _argnums(argnums, len(args), "jacfwd")
        partial, differentiated = _partial(function, args, kwargs, indices)
        layout = _Layout(_flatten_inputs(differentiated, "jacfwd"))
        pieces, out = None, None
        for start, stop in _chunks(layout.total, chunk_size, "jacfwd"):
            out, out_tangents = _push_basis(partial, layout, start, stop, has_aux)
            pieces = [[t] for t in out_tangents] if pieces is None else [
                rows + [t] for rows, t in zip(pieces, out_tangents, strict=True)
            ]
        if out is None:  # no entries to differentiate: run f once for its structure
            out, pieces = _empty_jacobian(partial, layout, has_aux)
        out_value, aux, out_def, out_leaves = out
        single = isinstance(argnums, (int, np.integer))
        jacobian = tree_unflatten(out_def, [
            layout.blocks(_concat_rows(rows), _shape(leaf), single)
            for rows, leaf in zip(pieces, out_leaves, strict=True)
        ])
        return (jacobian, aux) if has_aux else jacobian

    return jacobian_function


def _push_basis(partial, layout, start, stop, has_aux):
    """One batched forward pass with the basis tangents e_start .. e_(stop-1)."""
    batch = stop - start
    trace = BatchedForwardTrace(new_level(), batch)
    boxed = []
    for leaf, offset, size in zip(layout.leaves, layout.offsets, layout.sizes, strict=False):
        first, last = max(start, offset), min(stop, offset + size)
        if first >= last:
            boxed.append(leaf)  # no basis direction in this chunk: a constant here
            continue
        basis = np.zeros((batch, size), _float_dtype(leaf))
        rows = np.arange(first - start, last - start)
        basis[rows, rows + start - offset] = 1.0
        boxed.append(Tensor(leaf, trace, tangent=basis.reshape((batch,) + _shape(leaf))))
    args, position = [], 0
    for treedef, leaves in layout.flat_inputs:
        args.append(tree_unflatten(treedef, boxed[position:position + len(leaves)]))
        position += len(leaves)
    out_leaves, out_def, aux = _run_at_level(trace, partial, args, has_aux, "jacfwd")
    tangents = []
    for leaf in out_leaves:
        if type(leaf) in TRACED_TYPES and leaf._trace is trace:
            tangents.append(leaf._tangent)
        else:
            tangents.append(np.zeros((batch,) + _shape(leaf), _float_dtype(leaf)))
    values = [unbox(leaf, trace) for leaf in out_leaves]
    return (tree_unflatten(out_def, values), aux, out_def, values), tangents


def _empty_jacobian(partial, layout, has_aux):
    args = [tree_unflatten(treedef, leaves) for treedef, leaves in layout.flat_inputs]
    out, aux = _split_aux(partial(*args), has_aux, "jacfwd")
    leaves, out_def = tree_flatten(out)
    values = [to_user(leaf) for leaf in leaves]
    pieces = [[np.zeros((0,) + _shape(leaf), _float_dtype(leaf))] for leaf in leaves]
    return (tree_unflatten(out_def, values), aux, out_def, values), pieces


def jacrev(function, argnums=0, has_aux=False, chunk_size=None):
    """The Jacobian by reverse mode: f is recorded once, then basis cotangents are pulled back
    through that graph in batches of `chunk_size` output entries (default: all entries of an
    output at once), one batched backward pass per batch. Same layout as jacfwd:
    out.shape + x.shape."""

    def jacobian_function(*args, **kwargs):
        prefer_heap()
        indices = _argnums(argnums, len(args), "jacrev")
        partial, differentiated = _partial(function, args, kwargs, indices)
        recording = _Recording(partial, differentiated, "jacrev", has_aux)
        _chunks(1, chunk_size, "jacrev")  # validates the argument even for empty outputs
        layout = _Layout([(t, [raw_value(b) for b in boxes]) for t, boxes in recording.inputs])
        single = isinstance(argnums, (int, np.integer))
        blocks = [
            _reverse_blocks(_pull_rows(recording, leaf, chunk_size), leaf, layout, single)
            for leaf in recording.out_leaves
        ]
        jacobian = tree_unflatten(recording.out_def, blocks)
        return (jacobian, recording.aux) if has_aux else jacobian

    return jacobian_function


def _pull_rows(recording, leaf, chunk_size):
    """Cotangents of every input box for every entry of output `leaf`: per box, an array of
    shape (leaf.size, *box.shape), built chunk by chunk."""
    boxes = [box for _, boxes in recording.inputs for box in boxes]
    size = int(np.prod(_shape(leaf), dtype=np.int64))
    pieces = [[] for _ in boxes]
    for start, stop in _chunks(size, chunk_size, "jacrev"):
        found = _pull_chunk(recording, leaf, start, stop)
        for box, rows in zip(boxes, pieces, strict=True):
            if id(box) in found:
                rows.append(found[id(box)][1])
            else:
                rows.append(np.zeros((stop - start,) + _shape(box), _float_dtype(box)))
    return [
        _concat_rows(rows) if rows else np.zeros((0,) + _shape(box), _float_dtype(box))
        for box, rows in zip(boxes, pieces, strict=True)
    ]


def _pull_chunk(recording, leaf, start, stop):
    """One backward pass with the basis cotangents e_start .. e_(stop-1) of output `leaf`:
    {id(box): (box, cotangents of shape (stop - start, *box.shape))}."""
    if type(leaf) not in TRACED_TYPES or leaf._trace is not recording.trace:
        return {}  # an output that does not depend on the inputs here
    vertex = leaf._node if leaf._node is not None else leaf
    shape, dtype = _shape(leaf), _float_dtype(leaf)
    batch = stop - start
    seeds = np.zeros((batch, int(np.prod(shape, dtype=np.int64))), dtype)
    seeds[np.arange(batch), np.arange(start, stop)] = 1.0
    if batch > 1:
        return batched_backward([(vertex, seeds.reshape((batch,) + shape))], batch)
    # One row: the ordinary backward pass, without the batch bookkeeping (Hessians come here).
    found = backward_pass([(vertex, seeds.reshape(shape))], retain_graph=True)
    reshape = REGISTRY["reshape"]
    return {
        key: (box, bind(reshape, cotangent, shape=(1,) + _shape(box)))
        for key, (box, cotangent) in found.items()
    }


def _reverse_blocks(per_box, out_leaf, layout, single):
    """Rows (out.size, *in_shape) per input leaf -> blocks out.shape + in_shape, rebuilt in the
    structure of the differentiated arguments."""
    out_shape = _shape(out_leaf)
    blocks = []
    for rows, in_leaf in zip(per_box, layout.leaves, strict=True):
        block = bind(REGISTRY["reshape"], rows, shape=out_shape + _shape(in_leaf))
        if isinstance(block, np.ndarray) and not block.flags.writeable:
            block = block.copy()  # a broadcast view (the VJP of sum): hand back a real array
        blocks.append(to_user(block))
    per_arg, position = [], 0
    for treedef, leaves in layout.flat_inputs:
        per_arg.append(tree_unflatten(treedef, blocks[position:position + len(leaves)]))
        position += len(leaves)
    return per_arg[0] if single else tuple(per_arg)


def hessian(function, argnums=0):
    """The Hessian of a scalar function, forward-over-reverse: jacfwd(jacrev(f)). The forward
    pass pushes all basis tangents at once through the reverse pass."""
    return jacfwd(jacrev(function, argnums), argnums)
