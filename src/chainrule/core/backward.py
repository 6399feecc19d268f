"""The recorded graph and the backward pass over it (reverse mode).

A `Node` is one recorded primitive application (core/tape.py records them): the primitive, its
parents (nodes, or leaf tensors), its static params and only the residuals its VJP rules need.
`backward_pass` seeds cotangents, walks the nodes from the last recorded to the first with a
heap (iterative: a 10^6-node chain is fine), calls each VJP rule, fits (un-broadcasts, casts)
and sums cotangents per input, and releases residuals once used unless `retain_graph=True`.
Recording order is a topological order (a node's parents exist before it), so a node's turn
comes after every node that sends it a cotangent, with no pass to count them first (PyTorch
orders its engine by the same sequence numbers).

A cotangent of None is a symbolic zero (a `ZERO` rule's): it reaches the inputs without any
arithmetic, and only whoever hands a result to the user makes it an array of zeros.
"""


import heapq
import itertools

import numpy as np

from chainrule.core.anomaly import check as anomaly_check
from chainrule.core.anomaly import switch as _anomaly
from chainrule.core.dtypes import complex_pair, dtype_of, shape_of
from chainrule.core.inplace import check_saved_inputs
from chainrule.core.inplace import state as _inplace
from chainrule.core.namespace import numpy_dtype
from chainrule.core.primitive import OUT, REGISTRY, TRACED_TYPES, ZERO, InputShape, bind
from chainrule.core.tensor import Tensor
from chainrule.core.trace import physical_value
from chainrule.errors import GraphFreedError, ShapeError

__all__ = [
    "Node", "backward_pass", "topological_order", "add_cotangents", "fit",
    "live_residuals",
]


_SEQUENCE = itertools.count()


class Node:
    """One recorded primitive application: what `grad_fn` points to.

    `residuals` becomes None once a backward pass has released it (unless retain_graph).
    """

    # `source` (the user's line, recorded by detect_anomaly) and `inplace` (in-place bookkeeping,
    # see core/inplace.py) stay unset unless those features touch the node.
    __slots__ = (
        "primitive", "params", "parents", "residuals", "input_avals", "source", "inplace",
        "epoch", "sequence",
    )

    def __init__(self, primitive, params, parents, residuals, input_avals):
        self.primitive = primitive
        self.params = params
        self.parents = parents
        self.residuals = residuals
        self.input_avals = input_avals
        # In-place updates seen before this node was recorded cannot affect what it saved.
        self.epoch = _inplace.epoch
        # Recording order: a node's parents were recorded before it, so walking nodes from the
        # highest number down visits each after every node that sends it a cotangent.
        self.sequence = next(_SEQUENCE)

    @property
    def name(self) -> str:
        return self.primitive.name

    def __repr__(self):
        return f"<Node {self.primitive.name}>"


def topological_order(roots):
    """Nodes reachable from `roots`, every node after all its parents. Iterative DFS."""
    order = []
    visited = set()
    stack = [(root, False) for root in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in node.parents:
            if type(parent) is Node and parent not in visited:
                stack.append((parent, False))
    return order


def add_cotangents(first, second):
    if first is None:
        return second
    if second is None:
        return first
    if type(first) in TRACED_TYPES or type(second) in TRACED_TYPES:
        return bind(REGISTRY["add"], first, second)
    return first + second


def fit(value, aval, rule, *, cotangent=False, index=None):
    """`value`, a tangent or cotangent, made to fit a value of `aval` (shape, dtype): cast to
    the dtype when that is floating (see `_fit_dtype` for complex values). A cotangent is summed
    down to the shape (un-broadcast: its input was broadcast in the forward pass); a tangent is
    broadcast up to it (a rule may leave that to the engine). Any other mismatch is a bug in the
    rule named `rule` (input `index` of a cotangent). Under vmap, shapes are one example's."""
    shape, dtype = aval
    if cotangent and type(value) is np.ndarray:
        value_shape = value.shape
        extra = len(value_shape) - len(shape)
        if extra > 0 and value_shape[extra:] == shape and value.dtype == dtype:
            # The common case (a bias broadcast over rows, x @ W + b) on a NumPy cotangent:
            # `sum`'s implementation itself, without dispatch (nothing to record).
            return np.add.reduce(value, axis=tuple(range(extra)))
    value_shape = shape_of(value)
    if value_shape != shape:
        fitted = (_summed_down if cotangent else _broadcast_up)(value, value_shape, shape)
        if fitted is None:
            raise _fit_error(value_shape, aval, rule, cotangent, index)
        value = fitted
    if dtype.kind in "fc":
        stored = physical_value(value)
        value_dtype = getattr(stored, "dtype", None)
        if value_dtype is None:  # a Python number (NumPy compares a dtype equal to None)
            value_dtype = np.result_type(stored)
        elif not isinstance(value_dtype, np.dtype):
            value_dtype = numpy_dtype(value_dtype)  # array-api-strict's dtype objects
        if value_dtype != dtype:
            value = _fit_dtype(value, value_dtype, dtype, cotangent)
    return value


def _fit_dtype(value, value_dtype, dtype, cotangent):
    """A tangent or cotangent cast to its value's dtype. A complex cotangent of a real value
    keeps its real part: with the pairing <w, t> = Re(w t), a real direction t sees only Re(w),
    so a real input's gradient is real even where the function went through complex numbers.
    A complex tangent of a real value (jvp with a complex tangent, asked for) stays complex,
    at the paired precision."""
    if value_dtype.kind == "c" and dtype.kind == "f":
        if cotangent:
            value = bind(REGISTRY["real"], value)
            value_dtype = dtype_of(value)
        else:
            dtype = complex_pair(dtype)
    if value_dtype != dtype:
        value = bind(REGISTRY["astype"], value, dtype=dtype)
    return value


def _summed_down(value, inner, shape):
    """`value` (of shape `inner`) summed over the axes that broadcasting added to `shape`, or
    None if `shape` does not broadcast to `inner`."""
    extra = len(inner) - len(shape)
    if extra < 0 or any(s != c and s != 1 for s, c in zip(shape, inner[extra:])):
        return None
    axes = tuple(range(extra)) + tuple(
        extra + i for i, size in enumerate(shape) if size == 1 and inner[extra + i] != 1
    )
    if extra and len(axes) == extra:
        # Only leading axes were added (a bias broadcast over rows): one sum gives the shape,
        # one primitive call instead of a sum and a reshape (3.4 -> 2.1 us per bias per step).
        return bind(REGISTRY["sum"], value, axis=axes, keepdims=False)
    if axes:
        value = bind(REGISTRY["sum"], value, axis=axes, keepdims=True)
    if extra:
        value = bind(REGISTRY["reshape"], value, shape=shape)
    return value


def _broadcast_up(value, inner, shape):
    """`value` (of shape `inner`) broadcast to `shape`, or None if `inner` does not broadcast
    to it."""
    missing = len(shape) - len(inner)
    if missing < 0 or any(c != s and c != 1 for c, s in zip(inner, shape[missing:])):
        return None
    return bind(REGISTRY["broadcast_to"], value, shape=shape)


def _fit_error(value_shape, aval, rule, cotangent, index):
    kind, of = ("cotangent", f"input {index}") if cotangent else ("tangent", "an output")
    return ShapeError(
        f"internal error: the {'VJP' if cotangent else 'JVP'} of {rule} gave a {kind} of shape "
        f"{value_shape} for {of} of shape {aval[0]}; please report this."
    )


def _rewrapped_residuals(node, trace):
    """Residuals as Tensors of `trace` (the tape) connected to the graph, so the backward pass
    records (create_graph=True). Rebuilt on demand, so nodes never hold a reference to their
    output."""
    rewrapped = []
    for index, value in zip(node.primitive.saves, node.residuals):
        if isinstance(index, InputShape):  # (InputAval too): not a value, nothing to rewrap
            rewrapped.append(value)
            continue
        source = node if index is OUT else node.parents[index]
        if source is None:
            rewrapped.append(value)
        elif type(source) is Node:
            rewrapped.append(Tensor(value, trace, source, True))
        else:
            rewrapped.append(source)  # a leaf tensor
    return tuple(rewrapped)


def _freed_error(node):
    source = getattr(node, "source", None)  # recorded under detect_anomaly()
    where = f" (created at {source[0]}:{source[1]})" if source is not None else ""
    return GraphFreedError(
        f"backward through {node.primitive.name}{where} a second time: its saved values were "
        "released after the first backward. Pass retain_graph=True to the first "
        ".backward() (or cr.vjp's function) if you need to go back through the graph again."
    )


def live_residuals(node):
    """The node's residuals for a backward pass: a clear error if a previous pass released
    them, and the in-place check if anything was changed in place since the node was recorded."""
    residuals = node.residuals
    if residuals is None:
        if node.primitive.saves:
            raise _freed_error(node)
        return ()
    if _inplace.active and node.epoch != _inplace.epoch:
        check_saved_inputs(node)
    return residuals


def _input_cotangents(node, cotangent, record_on):
    """Call the node's VJP rules: (parent, cotangent) for each input that needs one."""
    primitive = node.primitive
    residuals = node.residuals
    if residuals is None or (_inplace.active and node.epoch != _inplace.epoch):
        residuals = live_residuals(node)  # (released, or something changed in place since)
    if record_on is not None and residuals:
        residuals = _rewrapped_residuals(node, record_on)
    params = node.params
    avals = node.input_avals
    results = []
    for index, parent in enumerate(node.parents):
        if parent is None:
            continue
        rule = primitive.vjps[index]
        if rule is ZERO:
            results.append((parent, None))  # a symbolic zero: the input is reached, with zero
            continue
        parent_cotangent = rule(cotangent, *residuals, **params)
        if parent_cotangent is None:
            continue
        shape, dtype = avals[index]
        if getattr(parent_cotangent, "shape", None) != shape or parent_cotangent.dtype != dtype:
            parent_cotangent = fit(
                parent_cotangent, avals[index], primitive.name, cotangent=True, index=index
            )
        results.append((parent, parent_cotangent))
    return results


# Functions called with each node as a backward pass reaches it, and with None when the pass
# ends: how cr.jit's generated source says which VJP a line comes from. Empty unless staging.
pass_hooks: list = []


def backward_pass(roots, *, retain_graph=False, record_on=None, node_vjp=None):
    """Run reverse mode from `roots`, a list of (node or leaf tensor, cotangent) pairs.

    Returns {id(leaf): (leaf, cotangent)} for every leaf tensor reached; the cotangent is None
    (a symbolic zero) for a leaf reached through zero derivatives only. `record_on` is the
    trace (the tape) that records the backward pass itself, for create_graph=True; None records
    nothing. `node_vjp(node, cotangent, record_on)` replaces the ordinary VJP call of each node
    (batched jacrev).
    """
    node_vjp = _input_cotangents if node_vjp is None else node_vjp
    cotangents = {}
    leaves = {}
    ready = []  # a heap of (-sequence, node): the latest recorded node first
    for vertex, cotangent in roots:
        if type(vertex) is Node:
            if vertex not in cotangents:
                heapq.heappush(ready, (-vertex.sequence, vertex))
                cotangents[vertex] = cotangent
            else:
                cotangents[vertex] = add_cotangents(cotangents[vertex], cotangent)
        else:
            _accumulate_leaf(leaves, vertex, cotangent)
    pop, push = heapq.heappop, heapq.heappush
    while ready:
        node = pop(ready)[1]
        cotangent = cotangents.pop(node)
        if cotangent is None:  # a symbolic zero passes to the inputs as it is
            input_cotangents = [(parent, None) for parent in node.parents if parent is not None]
        else:
            if pass_hooks:
                for hook in pass_hooks:
                    hook(node)
            input_cotangents = node_vjp(node, cotangent, record_on)
            if _anomaly.enabled:
                anomaly_check(node, input_cotangents)
        for parent, parent_cotangent in input_cotangents:
            if type(parent) is Node:
                if parent in cotangents:
                    previous = cotangents[parent]
                    if previous is not None:
                        parent_cotangent = add_cotangents(previous, parent_cotangent)
                else:
                    push(ready, (-parent.sequence, parent))
                cotangents[parent] = parent_cotangent
            else:
                _accumulate_leaf(leaves, parent, parent_cotangent)
        if not retain_graph:
            node.residuals = None
    if pass_hooks:
        for hook in pass_hooks:
            hook(None)
    return leaves



def _accumulate_leaf(leaves, leaf, cotangent):
    key = id(leaf)
    if key in leaves:
        leaves[key] = (leaf, add_cotangents(leaves[key][1], cotangent))
    else:
        leaves[key] = (leaf, cotangent)
