"""The recorded graph and the backward pass (reverse mode).

Forward: `ReverseTrace.process` computes a primitive's value and, when an input is being
differentiated at that level, records a `Node`: the primitive, its parents (nodes, or leaf
tensors), its static params and only the residuals its VJP rules need.
Backward: seed the output's cotangent, walk the nodes in reverse topological order with an
explicit stack (a 10^6-node chain is fine), call each VJP rule, un-broadcast and sum cotangents
per input, and release residuals once used unless `retain_graph=True`.
"""

import numpy as np

from chainrule.core.primitive import (
    OUT,
    REGISTRY,
    TRACED_TYPES,
    ZERO,
    InputShape,
    _explain_failure,
    bind,
)
from chainrule.core.tensor import Tensor, raw_value
from chainrule.core.trace import Trace, _grad_mode
from chainrule.errors import GraphFreedError, NonScalarOutputError, ShapeError

__all__ = ["Node", "ReverseTrace", "TAPE", "backward_pass", "backward_from_tensor"]

_NO_PARAMS: dict = {}


class Node:
    """One recorded primitive application: what `grad_fn` points to.

    `residuals` becomes None once a backward pass has released it (unless retain_graph).
    """

    # `source` (the user's line, recorded by detect_anomaly) and `inplace` (in-place bookkeeping,
    # see core/inplace.py) stay unset unless those features touch the node.
    __slots__ = (
        "primitive", "params", "parents", "residuals", "input_avals", "source", "inplace",
        "epoch",
    )

    def __init__(self, primitive, params, parents, residuals, input_avals):
        self.primitive = primitive
        self.params = params
        self.parents = parents
        self.residuals = residuals
        self.input_avals = input_avals
        # In-place updates seen before this node was recorded cannot affect what it saved.
        self.epoch = _inplace.epoch

    @property
    def name(self) -> str:
        return self.primitive.name

    def __repr__(self):
        return f"<Node {self.primitive.name}>"


def _aval(value):
    """(shape, dtype) of a value at any level, for un-broadcasting and casting cotangents."""
    value = raw_value(value)
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return (np.shape(value), np.result_type(value))
    return (value.shape, dtype)


class ReverseTrace(Trace):
    """A reverse-mode level: records nodes. Level 0 (TAPE) is the Tensor API's tape."""

    __slots__ = ()

    def process(self, primitive, args, params):
        if self.level == 0:
            return _record_on_tape(primitive, args, params)
        values = []
        parents = []
        record = False
        for arg in args:
            if type(arg) in TRACED_TYPES and arg._trace is self:
                values.append(arg._value)
                parents.append(arg._node if arg._node is not None else arg)
                record = True
            else:
                values.append(_as_operand(arg))
                parents.append(None)
        out = bind(primitive, *values, **params)
        if primitive.nondiff:
            return out
        if not record:
            return Tensor(out, self)
        avals = tuple(None if p is None else _aval(v) for p, v in zip(parents, values))
        residuals = primitive.pick(values, out)
        node = Node(primitive, params or _NO_PARAMS, tuple(parents), residuals, avals)
        if _anomaly.enabled:
            _anomaly.annotate(node, out)
        return Tensor(out, self, node, True)


def _as_operand(value):
    # A list operand may be saved for the backward pass, where rules need an array.
    if type(value) is list or type(value) is tuple:
        return np.asarray(value)
    # A tensor of a lower level may be updated in place after this node saved it (`total *= x`
    # inside a transform, or `t *= 5` on a Tensor-API value): save what it holds now. A constant
    # of the Tensor API is saved as its plain value; a computed value as a copy of its box.
    # (A lower level's own inputs keep their identity: their gradients are found by it.)
    if type(value) in TRACED_TYPES:
        if value._trace is TAPE and not value.requires_grad:
            return value._value
        if value._node is not None or value._tangent is not None:
            return Tensor(value._value, value._trace, value._node, value.requires_grad,
                          value._tangent)
    return value


def _record_on_tape(primitive, args, params):
    """The Tensor API's hot path: every traced argument is on the tape, every value is plain."""
    values = []
    parents = []
    avals = []
    record = False
    for arg in args:
        if type(arg) in TRACED_TYPES:
            value = arg._value
            values.append(value)
            if arg.requires_grad:
                node = arg._node
                parents.append(node if node is not None else arg)
                avals.append((value.shape, value.dtype))
                record = True
                continue
        else:
            values.append(_as_operand(arg))
        parents.append(None)
        avals.append(None)
    try:
        out = primitive.impl(*values, **params)
    except (TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as exc:
        raise _explain_failure(primitive, values, params, exc) from exc
    if primitive.nondiff or not (record and _grad_mode.enabled):
        return Tensor(out, TAPE)
    node = Node(primitive, params or _NO_PARAMS, tuple(parents), primitive.pick(values, out),
                tuple(avals))
    if _anomaly.enabled:
        _anomaly.annotate(node, out)
    return Tensor(out, TAPE, node, True)


TAPE = ReverseTrace(0)


class _AnomalyHooks:
    """Filled in by core/anomaly.py's detect_anomaly(); off by default (zero cost)."""

    enabled = False

    @staticmethod
    def annotate(node, out):  # pragma: no cover - replaced when enabled
        pass

    @staticmethod
    def check(node, cotangents):  # pragma: no cover - replaced when enabled
        pass


_anomaly = _AnomalyHooks()


class _InplaceHooks:
    """Switched on by core/inplace.py at the first in-place update of a tensor that a
    recorded operation may have saved; until then backward pays nothing for the check."""

    active = False
    epoch = 0  # how many in-place updates of saved tensors have happened so far

    @staticmethod
    def check(node):  # pragma: no cover - replaced by core/inplace.py
        pass


_inplace = _InplaceHooks()


# ----- the backward pass -------------------------------------------------------------------------
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


def _count_children(roots):
    """For every node reachable from `roots`: how many reachable nodes use it as a parent.
    A node is ready for its VJP once all of them have sent their cotangents."""
    pending = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        node = stack.pop()
        for parent in node.parents:
            if type(parent) is Node:
                if parent in seen:
                    pending[parent] += 1
                else:
                    pending[parent] = 1
                    seen.add(parent)
                    stack.append(parent)
    return pending


def add_cotangents(first, second):
    if first is None:
        return second
    if second is None:
        return first
    if type(first) in TRACED_TYPES or type(second) in TRACED_TYPES:
        return bind(REGISTRY["add"], first, second)
    return first + second


def fit_cotangent(cotangent, aval, node, index):
    """Sum a cotangent down to its input's shape (un-broadcast) and cast it to its dtype."""
    shape, dtype = aval
    value = raw_value(cotangent)
    cotangent_shape = np.shape(value)
    if cotangent_shape != shape:
        extra = len(cotangent_shape) - len(shape)
        if extra < 0 or any(
            s != c and s != 1 for s, c in zip(shape, cotangent_shape[extra:])
        ):
            raise ShapeError(
                f"internal error: the VJP of {node.primitive.name} returned a cotangent of shape "
                f"{cotangent_shape} for input {index} of shape {shape}; please report this."
            )
        axes = tuple(range(extra)) + tuple(
            extra + i
            for i, size in enumerate(shape)
            if size == 1 and cotangent_shape[extra + i] != 1
        )
        cotangent = bind(REGISTRY["sum"], cotangent, axis=axes, keepdims=True)
        if extra:
            cotangent = bind(REGISTRY["reshape"], cotangent, shape=shape)
        value = raw_value(cotangent)
    if getattr(value, "dtype", None) != dtype and dtype.kind == "f":
        cotangent = bind(REGISTRY["astype"], cotangent, dtype=dtype)
    return cotangent


def _rewrapped_residuals(node):
    """Residuals as level-0 Tensors connected to the graph, so the backward pass records
    (create_graph=True). Rebuilt on demand, so nodes never hold a reference to their output."""
    rewrapped = []
    for index, value in zip(node.primitive.saves, node.residuals):
        if type(index) is InputShape:
            rewrapped.append(value)
            continue
        source = node if index is OUT else node.parents[index]
        if source is None:
            rewrapped.append(value)
        elif type(source) is Node:
            rewrapped.append(Tensor(value, TAPE, source, True))
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
        _inplace.check(node)
    return residuals


def _input_cotangents(node, cotangent, create_graph):
    """Call the node's VJP rules: (parent, cotangent) for each input that needs one."""
    primitive = node.primitive
    residuals = live_residuals(node)
    if create_graph and residuals:
        residuals = _rewrapped_residuals(node)
    params = node.params
    avals = node.input_avals
    results = []
    for index, parent in enumerate(node.parents):
        if parent is None:
            continue
        rule = primitive.vjps[index]
        if rule is ZERO:
            shape, dtype = avals[index]
            results.append((parent, np.zeros(shape, dtype)))
            continue
        parent_cotangent = rule(cotangent, *residuals, **params)
        if parent_cotangent is None:
            continue
        shape, dtype = avals[index]
        if getattr(parent_cotangent, "shape", None) != shape or parent_cotangent.dtype != dtype:
            parent_cotangent = fit_cotangent(parent_cotangent, avals[index], node, index)
        results.append((parent, parent_cotangent))
    return results


def backward_pass(roots, *, retain_graph=False, create_graph=False, node_vjp=None):
    """Run reverse mode from `roots`, a list of (node or leaf tensor, cotangent) pairs.

    Returns {id(leaf): (leaf, cotangent)} for every leaf tensor reached. `node_vjp(node,
    cotangent, create_graph)` replaces the ordinary VJP call of each node (batched jacrev).
    """
    node_vjp = _input_cotangents if node_vjp is None else node_vjp
    cotangents = {}
    leaves = {}
    ready = []
    for vertex, cotangent in roots:
        if type(vertex) is Node:
            if vertex not in cotangents:
                ready.append(vertex)
            cotangents[vertex] = add_cotangents(cotangents.get(vertex), cotangent)
        else:
            _accumulate_leaf(leaves, vertex, cotangent)
    pending = _count_children(ready)
    ready = [node for node in ready if node not in pending]
    while ready:
        node = ready.pop()
        cotangent = cotangents.pop(node, None)
        if cotangent is not None:
            input_cotangents = node_vjp(node, cotangent, create_graph)
            if _anomaly.enabled:
                _anomaly.check(node, input_cotangents)
            for parent, parent_cotangent in input_cotangents:
                if type(parent) is Node:
                    previous = cotangents.get(parent)
                    cotangents[parent] = (
                        parent_cotangent if previous is None
                        else add_cotangents(previous, parent_cotangent)
                    )
                else:
                    _accumulate_leaf(leaves, parent, parent_cotangent)
            if not retain_graph:
                node.residuals = None
        for parent in node.parents:
            if type(parent) is Node:
                remaining = pending[parent] - 1
                pending[parent] = remaining
                if remaining == 0:
                    ready.append(parent)
    return leaves


def _accumulate_leaf(leaves, leaf, cotangent):
    key = id(leaf)
    if key in leaves:
        leaves[key] = (leaf, add_cotangents(leaves[key][1], cotangent))
    else:
        leaves[key] = (leaf, cotangent)


def _seed_cotangent(output, gradient):
    value = raw_value(output)
    shape = output.shape
    if gradient is None:
        if shape != () and int(np.prod(shape, dtype=np.int64)) != 1:
            raise NonScalarOutputError(
                f"backward() on a tensor of shape {shape} needs a `gradient` argument of that "
                "shape (the vector in the vector-Jacobian product); or reduce it to a scalar "
                "first, e.g. y.sum().backward()."
            )
        dtype = getattr(value, "dtype", None)
        one = (dtype if dtype is not None else np.result_type(value)).type(1)
        return one if shape == () else np.ones(shape, type(one))  # one element: as PyTorch
    gradient_shape = np.shape(raw_value(gradient))
    if gradient_shape != shape:
        raise ShapeError(
            f"backward(gradient=...) got a gradient of shape {gradient_shape} for an output of "
            f"shape {shape}; they must match."
        )
    return gradient


def backward_from_tensor(output: Tensor, gradient, retain_graph, create_graph):
    """Tensor.backward(): accumulate into `.grad` of every leaf that requires grad."""
    if output._trace is not TAPE:
        raise RuntimeError(
            "backward() on a value traced inside a functional transform; inside cr.grad/cr.vjp "
            "return the value instead and let the transform differentiate it."
        )
    if not output.requires_grad:
        raise RuntimeError(
            "backward() on a tensor that does not require grad: no input it was computed from "
            "has requires_grad=True (or it was computed under no_grad()). Create inputs with "
            "cr.tensor(..., requires_grad=True)."
        )
    seed = _seed_cotangent(output, gradient)
    if not create_graph:
        seed = raw_value(seed)
    vertex = output._node if output._node is not None else output
    previous_mode = _grad_mode.enabled
    _grad_mode.enabled = bool(create_graph)  # record the backward pass only for create_graph
    try:
        leaves = backward_pass(
            [(vertex, seed)], retain_graph=retain_graph or create_graph, create_graph=create_graph
        )
        for leaf, cotangent in leaves.values():
            if not leaf.requires_grad:
                continue
            if type(cotangent) not in TRACED_TYPES:
                cotangent = Tensor(cotangent, TAPE)
            leaf.grad = cotangent if leaf.grad is None else leaf.grad + cotangent
    finally:
        _grad_mode.enabled = previous_mode
