"""Jacobians and Hessians: jacfwd is vmap of a JVP over basis tangents (one forward pass with a
batch of tangents), jacrev is vmap of a VJP over basis cotangents (f recorded once, one backward
pass with a batch of cotangents), hessian = jacfwd(jacrev). The batch of tangents (cotangents)
lives on a batching level opened below the forward level (around the backward pass), the same
level `cr.vmap` opens: every primitive's batching rule applies, nothing here is special."""


import numpy as np

import chainrule.numpy as cnp
from chainrule.core.backward import backward_pass
from chainrule.core.batching import BatchTrace
from chainrule.core.dtypes import shape_of, tangent_dtype
from chainrule.core.forward import ForwardTrace
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, bind
from chainrule.core.tape import release_level
from chainrule.core.trace import new_level
from chainrule.transforms._levels import (
    _argnums,
    _enter_level,
    _flatten_inputs,
    _partial,
    _run_at_level,
    _split_aux,
    check_complex,
    chunks,
    to_user,
    transformed,
    unbox,
)
from chainrule.transforms.reverse import (
    _Recording,
)
from chainrule.transforms.tree import tree_flatten, tree_unflatten


class _HeapReuse:
    """Batch-sized temporaries (a 400x400 Hessian's are 0.6-1.3 MB each) are above glibc's
    initial mmap threshold (128 KiB): each one is mapped, faulted in page by page and unmapped
    again, and that, not the arithmetic, was most of a Jacobian's time (4x on the n = 400
    Rosenbrock Hessian). glibc raises the threshold by itself to the size of any mmapped block
    that is freed (and keeps twice that much free memory at the top of its heap); freeing one
    untouched 16 MiB array once brings that state about at the cost of one map/unmap, instead of
    waiting for the program to happen to free a large array. Elsewhere this does nothing."""

    done = False

    @classmethod
    def prefer_heap(cls):
        if not cls.done:
            cls.done = True
            np.empty(_HEAP_BLOCK_BYTES // 8)  # never touched: no page is faulted in


_HEAP_BLOCK_BYTES = 16 * 1024 * 1024  # below glibc's ceiling for the threshold (32 MiB)
prefer_heap = _HeapReuse.prefer_heap


# ----- Jacobians ---------------------------------------------------------------------------------
class _Layout:
    """Where each input leaf sits in the flat vector of all differentiated entries."""

    def __init__(self, flat_inputs):
        self.flat_inputs = flat_inputs
        self.leaves = [leaf for _, leaves in flat_inputs for leaf in leaves]
        self.sizes = [int(np.prod(shape_of(leaf), dtype=np.int64)) for leaf in self.leaves]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.total = self.offsets[-1]

    def blocks(self, full, out_shape, single_arg):
        """Split rows (total, *out_shape) into per-input blocks of shape out_shape + in_shape,
        rebuilt in the structure of the differentiated arguments."""
        blocks = []
        for leaf, start, size in zip(self.leaves, self.offsets, self.sizes, strict=False):
            block = full[start:start + size]
            block = cnp.moveaxis(block, 0, -1) if len(out_shape) else block
            blocks.append(to_user(cnp.reshape(block, out_shape + shape_of(leaf))))
        return self.rebuild(blocks, single_arg)

    def rebuild(self, blocks, single_arg):
        """One block per input leaf, rebuilt in the structure of the differentiated arguments
        (just the one argument's when argnums is an int)."""
        per_arg, position = [], 0
        for treedef, leaves in self.flat_inputs:
            per_arg.append(tree_unflatten(treedef, blocks[position:position + len(leaves)]))
            position += len(leaves)
        return per_arg[0] if single_arg else tuple(per_arg)


def _concat_rows(pieces):
    if len(pieces) == 1:
        return pieces[0]
    if any(type(p) in TRACED_TYPES for p in pieces):
        return cnp.concatenate(pieces, axis=0)
    return np.concatenate(pieces, axis=0)


def jacfwd(function, argnums=0, has_aux=False, chunk_size=None, holomorphic=False):
    """The Jacobian by forward mode: basis tangents pushed in batches of `chunk_size` (default:
    all at once) through one batched forward pass per batch. Entry [i..., j...] of the result is
    d out[i...] / d x[j...]: shape out.shape + x.shape, in the output's (and inputs') structure.

    Inputs must be real (the basis tangents are real directions) unless `holomorphic=True`,
    which takes complex inputs and gives the complex derivative (as JAX).

    Returns:
        A function taking f's arguments. For one output leaf `out` and an int argnums naming
        `x`, it returns an array of shape out.shape + x.shape in the floating dtype of x and the
        output (integer inputs count as float64); several output leaves give that pytree of
        blocks, a tuple argnums a tuple per output leaf (one block per argument), a pytree
        argument its structure of blocks; with has_aux=True, (jacobian, aux).

    Raises:
        ArgnumsError: argnums not an int or tuple of ints, or out of range for the call.
        ValueError: chunk_size not a positive int or None.
        InputTypeError: a differentiated argument that is not numeric (a string, None).
        DTypeError: a boolean input; a complex input without holomorphic=True, or a real
            one with it.
        TypeError: with has_aux=True, f does not return a pair (output, aux).

    Example:
        >>> cr.jacfwd(lambda x: cnp.sin(x) * 2)(np.array([0.0, 1.0]))
        array([[2.        , 0.        ],
               [0.        , 1.08060461]])
    """
    return _jacfwd(function, argnums, has_aux, chunk_size, holomorphic, "jacfwd")


def _jacfwd(function, argnums, has_aux, chunk_size, holomorphic, name):
    def jacobian_function(*args, **kwargs):
        prefer_heap()
        indices = _argnums(argnums, len(args), name)
        partial, differentiated = _partial(function, args, kwargs, indices)
        flat_inputs = _flatten_inputs(differentiated, name)
        check_complex(flat_inputs, name, holomorphic, "input")
        layout = _Layout(flat_inputs)
        pieces, out = None, None
        for start, stop in chunks(layout.total, chunk_size, name):
            out, out_tangents = _push_basis(partial, layout, start, stop, has_aux)
            pieces = [[t] for t in out_tangents] if pieces is None else [
                rows + [t] for rows, t in zip(pieces, out_tangents, strict=True)
            ]
        if out is None:  # no entries to differentiate: run f once for its structure
            out, pieces = _empty_jacobian(partial, layout, has_aux)
        out_value, aux, out_def, out_leaves = out
        single = isinstance(argnums, (int, np.integer))
        jacobian = tree_unflatten(out_def, [
            layout.blocks(_concat_rows(rows), shape_of(leaf), single)
            for rows, leaf in zip(pieces, out_leaves, strict=True)
        ])
        return (jacobian, aux) if has_aux else jacobian

    return transformed(jacobian_function, function, name)


def _push_basis(partial, layout, start, stop, has_aux):
    """One batched forward pass with the basis tangents e_start .. e_(stop-1)."""
    batch = stop - start
    batching = BatchTrace(new_level(), batch, "jacfwd")  # below the forward level: opened first
    trace = ForwardTrace(new_level())
    tangents = []
    for leaf, offset, size in zip(layout.leaves, layout.offsets, layout.sizes, strict=False):
        first, last = max(start, offset), min(stop, offset + size)
        if first >= last:
            tangents.append(None)  # no basis direction in this chunk: a constant here
            continue
        basis = np.zeros((batch, size), tangent_dtype(leaf))
        rows = np.arange(first - start, last - start)
        basis[rows, rows + start - offset] = 1.0
        tangents.append(batching.box(basis.reshape((batch,) + shape_of(leaf))))
    _, args = _enter_level(trace, layout.flat_inputs, tangents)
    try:
        out_leaves, out_def, aux = _run_at_level(trace, partial, args, has_aux, "jacfwd")
    finally:
        release_level(batching, [])
    tangents = [_rows(trace.tangent(leaf), batching, leaf) for leaf in out_leaves]
    values = [unbox(leaf, trace) for leaf in out_leaves]
    return (tree_unflatten(out_def, values), aux, out_def, values), tangents


def _rows(value, batching, like):
    """A tangent or cotangent of the batching level as rows (batch, *shape of `like`): its value
    one level down; zeros for a symbolic zero; a value the same for every row, broadcast."""
    shape = shape_of(like)
    if value is None:
        return np.zeros((batching.size,) + shape, tangent_dtype(like))
    if type(value) in TRACED_TYPES and value._trace is batching:
        return value._value
    return bind(REGISTRY["broadcast_to"], value, shape=(batching.size,) + shape)


def _empty_jacobian(partial, layout, has_aux):
    args = [tree_unflatten(treedef, leaves) for treedef, leaves in layout.flat_inputs]
    out, aux = _split_aux(partial(*args), has_aux, "jacfwd")
    leaves, out_def = tree_flatten(out)
    values = [to_user(leaf) for leaf in leaves]
    pieces = [[np.zeros((0,) + shape_of(leaf), tangent_dtype(leaf))] for leaf in leaves]
    return (tree_unflatten(out_def, values), aux, out_def, values), pieces


def jacrev(function, argnums=0, has_aux=False, chunk_size=None, holomorphic=False):
    """The Jacobian by reverse mode: f is recorded once, then basis cotangents are pulled back
    through that graph in batches of `chunk_size` output entries (default: all entries of an
    output at once), one batched backward pass per batch. Same layout as jacfwd:
    out.shape + x.shape.

    Outputs must be real (the basis cotangents are real) unless `holomorphic=True`, which
    takes complex inputs and outputs and gives the complex derivative (as JAX). A real output
    of complex inputs gives, per entry, the gradient in `grad`'s convention.

    Returns:
        A function taking f's arguments and returning the Jacobian laid out as jacfwd's:
        out.shape + x.shape per output leaf and differentiated argument, in the output's
        structure (a tuple per output leaf for a tuple argnums); with has_aux=True,
        (jacobian, aux).

    Raises:
        ArgnumsError: argnums not an int or tuple of ints, or out of range for the call.
        ValueError: chunk_size not a positive int or None.
        InputTypeError: a differentiated argument that is not numeric (a string, None).
        DTypeError: a boolean input; a complex output without holomorphic=True, or real
            inputs or outputs with it.
        TypeError: with has_aux=True, f does not return a pair (output, aux).

    Example:
        >>> cr.jacrev(lambda x, y: x * y, argnums=(0, 1))(np.ones(2), 3.0)
        (array([[3., 0.], [0., 3.]]), array([1., 1.]))
    """
    return _jacrev(function, argnums, has_aux, chunk_size, holomorphic, "jacrev")


def _jacrev(function, argnums, has_aux, chunk_size, holomorphic, name):
    def jacobian_function(*args, **kwargs):
        prefer_heap()
        indices = _argnums(argnums, len(args), name)
        partial, differentiated = _partial(function, args, kwargs, indices)
        recording = _Recording(partial, differentiated, name, has_aux)
        if holomorphic:
            check_complex(recording.inputs, name, holomorphic, "input")
        check_complex([(None, recording.out_leaves)], name, holomorphic, "output")
        chunks(1, chunk_size, name)  # validates the argument even for empty outputs
        layout = _Layout([(t, list(boxes)) for t, boxes in recording.inputs])  # shapes only
        single = isinstance(argnums, (int, np.integer))
        blocks = [
            _reverse_blocks(_pull_rows(recording, leaf, chunk_size), leaf, layout, single)
            for leaf in recording.out_leaves
        ]
        jacobian = tree_unflatten(recording.out_def, blocks)
        return (jacobian, recording.aux) if has_aux else jacobian

    return transformed(jacobian_function, function, name)


def _pull_rows(recording, leaf, chunk_size):
    """Cotangents of every input box for every entry of output `leaf`: per box, an array of
    shape (leaf.size, *box.shape), built chunk by chunk."""
    boxes = [box for _, boxes in recording.inputs for box in boxes]
    size = int(np.prod(shape_of(leaf), dtype=np.int64))
    pieces = [[] for _ in boxes]
    for start, stop in chunks(size, chunk_size, "jacrev"):
        found = _pull_chunk(recording, leaf, start, stop)
        for box, rows in zip(boxes, pieces, strict=True):
            cotangent = found[id(box)][1] if id(box) in found else None
            if cotangent is None:  # not reached, or a symbolic zero: the rows are zeros
                cotangent = np.zeros((stop - start,) + shape_of(box), tangent_dtype(box))
            rows.append(cotangent)
    return [
        _concat_rows(rows) if rows else np.zeros((0,) + shape_of(box), tangent_dtype(box))
        for box, rows in zip(boxes, pieces, strict=True)
    ]


def _pull_chunk(recording, leaf, start, stop):
    """One backward pass with the basis cotangents e_start .. e_(stop-1) of output `leaf`:
    {id(box): (box, cotangents of shape (stop - start, *box.shape))}."""
    if not recording.trace.owns(leaf):
        return {}  # an output that does not depend on the inputs here
    vertex = leaf._node if leaf._node is not None else leaf
    shape, dtype = shape_of(leaf), tangent_dtype(leaf)
    batch = stop - start
    seeds = np.zeros((batch, int(np.prod(shape, dtype=np.int64))), dtype)
    seeds[np.arange(batch), np.arange(start, stop)] = 1.0
    if batch > 1:
        batching = BatchTrace(new_level(), batch, "jacrev")
        try:
            found = backward_pass(
                [(vertex, batching.box(seeds.reshape((batch,) + shape)))], retain_graph=True
            )
        finally:
            release_level(batching, [])
        return {
            key: (box, None if cotangent is None else _rows(cotangent, batching, box))
            for key, (box, cotangent) in found.items()
        }
    # One row: the ordinary backward pass, without the batch bookkeeping (Hessians come here).
    found = backward_pass([(vertex, seeds.reshape(shape))], retain_graph=True)
    reshape = REGISTRY["reshape"]
    rows = {}
    for key, (box, cotangent) in found.items():
        if cotangent is not None:  # a symbolic zero stays None
            cotangent = bind(reshape, cotangent, shape=(1,) + shape_of(box))
        rows[key] = (box, cotangent)
    return rows


def _reverse_blocks(per_box, out_leaf, layout, single):
    """Rows (out.size, *in_shape) per input leaf -> blocks out.shape + in_shape, rebuilt in the
    structure of the differentiated arguments."""
    out_shape = shape_of(out_leaf)
    blocks = []
    for rows, in_leaf in zip(per_box, layout.leaves, strict=True):
        block = bind(REGISTRY["reshape"], rows, shape=out_shape + shape_of(in_leaf))
        if isinstance(block, np.ndarray) and not block.flags.writeable:
            block = block.copy()  # a broadcast view (the VJP of sum): hand back a real array
        blocks.append(to_user(block))
    return layout.rebuild(blocks, single)


def hessian(function, argnums=0, holomorphic=False):
    """The Hessian of a scalar function, forward-over-reverse: jacfwd(jacrev(f)). The forward
    pass pushes all basis tangents at once through the reverse pass. `holomorphic` as in
    jacfwd and jacrev.

    Returns:
        A function taking f's arguments. For a scalar f and an int argnums naming x, an array of
        shape x.shape + x.shape in x's floating dtype; a tuple argnums gives the nested tuple of
        blocks H[i][j] = d2f / dx_i dx_j. A non-scalar f is not refused: it gives
        out.shape + x.shape + x.shape, one Hessian per output entry.

    Raises:
        ArgnumsError: argnums not an int or tuple of ints, or out of range for the call.
        InputTypeError: a differentiated argument that is not numeric (a string, None).
        DTypeError: a boolean input; a complex input or output without holomorphic=True.

    Example:
        >>> cr.hessian(lambda x: cnp.sum(x ** 3))(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    inner = _jacrev(function, argnums, False, None, holomorphic, "hessian")
    outer = _jacfwd(inner, argnums, False, None, holomorphic, "hessian")
    return transformed(outer, function, "hessian")
