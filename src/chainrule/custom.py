"""Custom derivative rules and checkpointing: custom_vjp, custom_jvp, checkpoint.

A call of a decorated function at a reverse level records one graph node whose VJP calls the
user's rule: a one-off primitive that never enters the global registry. The rule runs on the
values one level down, so enclosing transforms differentiate the rule itself and nesting works.
At a forward level, `custom_jvp` calls its JVP rule; `custom_vjp` has no JVP rule, so it
forward-differentiates its `fwd` function; `custom_jvp` gets reverse mode by transposing its JVP
rule: the rule is linear in the tangents, so reverse mode through it gives the transpose.
"""

import functools
import threading

import numpy as np

from chainrule.batching import BatchedForwardTrace, fit_batched
from chainrule.core.forward import ForwardTrace, _fit_tangent
from chainrule.core.graph import TAPE, Node, ReverseTrace
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, Primitive, bind
from chainrule.core.tensor import Tensor, raw_value
from chainrule.core.trace import is_grad_enabled, new_level, no_grad
from chainrule.errors import CustomRuleError
from chainrule.tree import tree_flatten, tree_unflatten

__all__ = ["custom_vjp", "custom_jvp", "checkpoint"]


# ----- levels ------------------------------------------------------------------------------------
def _innermost(flat_args):
    top = None
    for leaves, _ in flat_args:
        for leaf in leaves:
            if type(leaf) in TRACED_TYPES and (top is None or leaf._trace.level > top.level):
                top = leaf._trace
    return top


def _lower(leaf, top):
    """The value one level below `top`. The tape has nothing below it: its tensors stay, so
    the tape keeps recording (and create_graph sees through the rules)."""
    if top is not TAPE and type(leaf) in TRACED_TYPES and leaf._trace is top:
        return leaf._value
    return leaf


def _lowered_args(flat_args, top):
    return [tree_unflatten(treedef, [_lower(leaf, top) for leaf in leaves])
            for leaves, treedef in flat_args]


def _needs_node(flat_args, top):
    """Whether a call at reverse level `top` must record a node (the tape records only
    tensors that require grad, and nothing under no_grad)."""
    if top is TAPE and not is_grad_enabled():
        return False
    return any(_at(leaf, top) for leaves, _ in flat_args for leaf in leaves)


class _Reentry(threading.local):
    """(custom function, level) pairs whose rule is running at that level. A call of the custom
    function from inside its own rule at the same level (fwd computing f(x) on the tape, which
    has no level below it, or fwd being forward-differentiated) is the plain function there."""

    def __init__(self):
        self.active = set()

    def run(self, key, trace, function, *args, **kwargs):
        self.active.add((key, trace))
        try:
            return function(*args, **kwargs)
        finally:
            self.active.discard((key, trace))

    def inside(self, key, trace):
        return (key, trace) in self.active


_reentry = _Reentry()


def _at(leaf, top):
    """Whether `leaf` is differentiated at level `top`."""
    if type(leaf) not in TRACED_TYPES or leaf._trace is not top:
        return False
    return top is not TAPE or leaf.requires_grad or leaf._node is not None


def _shape(value):
    return np.shape(raw_value(value))


def _dtype(value):
    dtype = np.result_type(raw_value(value))
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


# ----- one node at a reverse level ---------------------------------------------------------------
def _reverse_call(top, flat_args, kwargs, fwd, bwd, name, key):
    """Run fwd one level down and record one node at `top` whose VJP calls bwd."""
    lowered = _lowered_args(flat_args, top)
    if top is TAPE:
        fwd = functools.partial(_reentry.run, key, TAPE, fwd)
    out, residuals = _call_fwd(fwd, lowered, kwargs, name)
    out_leaves, out_def = tree_flatten(out)
    inputs = [
        (position, index, leaf)
        for position, (leaves, _) in enumerate(flat_args)
        for index, leaf in enumerate(leaves) if _at(leaf, top)
    ]
    packed, unpack_cotangent = _pack(out_leaves, out_def)
    cotangents_for = _cotangent_cache(bwd, residuals, unpack_cotangent, flat_args, inputs, name)
    vjps = tuple(
        functools.partial(_pick_cotangent, cotangents_for, j) for j in range(len(inputs))
    )
    primitive = Primitive(name, _not_callable, vjps, (), (), "custom")
    parents = tuple(leaf._node if leaf._node is not None else leaf for _, _, leaf in inputs)
    avals = tuple((_shape(leaf), _dtype(leaf)) for _, _, leaf in inputs)
    node = Node(primitive, {}, parents, (), avals)
    value = raw_value(packed) if top is TAPE else packed
    return tree_unflatten(out_def, _unpack_outputs(Tensor(value, top, node, True), out_leaves))


def _not_callable(*args, **params):
    raise TypeError("a custom rule's node cannot be applied as a primitive")


def _pick_cotangent(cotangents_for, j, cotangent):
    return cotangents_for(cotangent)[j]


def _call_fwd(fwd, lowered, kwargs, name):
    result = fwd(*lowered, **kwargs)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise CustomRuleError(
            f"{name}: fwd must return a pair (output, residuals); it returned "
            f"{type(result).__name__}. End fwd with `return out, residuals`."
        )
    return result


def _cotangent_cache(bwd, residuals, unpack_cotangent, flat_args, inputs, name):
    """cotangent -> input cotangents, calling bwd once per cotangent: the engine asks the node
    for one input's cotangent at a time, always with the same cotangent object in a row."""
    last = [None, None]

    def cotangents_for(cotangent):
        if last[0] is not cotangent:
            result = bwd(residuals, unpack_cotangent(cotangent))
            last[0], last[1] = cotangent, _check_bwd(result, flat_args, inputs, name)
        return last[1]

    return cotangents_for


def _check_bwd(result, flat_args, inputs, name):
    n_args = len(flat_args)
    if not isinstance(result, (tuple, list)) or len(result) != n_args:
        is_sequence = isinstance(result, (tuple, list))
        got = f"{len(result)} values" if is_sequence else type(result).__name__
        raise CustomRuleError(
            f"{name}: bwd must return a tuple with one cotangent per positional argument "
            f"({n_args}); it returned {got}. Use None for an argument with no cotangent."
        )
    per_arg = []
    for position, (cotangent, (leaves, treedef)) in enumerate(zip(result, flat_args, strict=True)):
        if cotangent is None:
            per_arg.append([None] * len(leaves))
            continue
        cotangent_leaves, cotangent_def = tree_flatten(cotangent)
        if cotangent_def != treedef:
            raise CustomRuleError(
                f"{name}: bwd returned a cotangent of structure {cotangent_def!r} for argument "
                f"{position} of structure {treedef!r}; match the argument's structure."
            )
        per_arg.append(cotangent_leaves)
    picked = []
    for position, index, leaf in inputs:
        cotangent = per_arg[position][index]
        if cotangent is not None and _shape(cotangent) != _shape(leaf):
            raise CustomRuleError(
                f"{name}: bwd returned a cotangent of shape {_shape(cotangent)} for argument "
                f"{position} of shape {_shape(leaf)}; each cotangent must have its argument's "
                "shape."
            )
        picked.append(cotangent)
    return picked


# Several outputs travel through the one node as a flat vector, split again afterwards: the
# engine's nodes have one output, and the rule needs every output's cotangent at once.
def _pack(out_leaves, out_def):
    if len(out_leaves) == 1:
        return out_leaves[0], lambda cotangent: tree_unflatten(out_def, [cotangent])
    shapes = [_shape(leaf) for leaf in out_leaves]
    sizes = [int(np.prod(shape, dtype=np.int64)) for shape in shapes]
    flat = [
        bind(REGISTRY["reshape"], leaf, shape=(size,))
        for leaf, size in zip(out_leaves, sizes, strict=True)
    ]
    packed = bind(REGISTRY["concatenate"], *flat, axis=0, sizes=tuple(sizes))
    offsets = np.cumsum([0] + sizes).tolist()

    def unpack_cotangent(cotangent):
        pieces = [
            bind(REGISTRY["getitem"], cotangent, index=slice(start, start + size))
            for start, size in zip(offsets, sizes, strict=False)
        ]
        return tree_unflatten(out_def, [
            bind(REGISTRY["reshape"], piece, shape=shape)
            for piece, shape in zip(pieces, shapes, strict=True)
        ])

    return packed, unpack_cotangent


def _unpack_outputs(packed, out_leaves):
    if len(out_leaves) == 1:
        return [packed]
    outputs, start = [], 0
    for leaf in out_leaves:
        shape = _shape(leaf)
        size = int(np.prod(shape, dtype=np.int64))
        piece = bind(REGISTRY["reshape"], packed[start:start + size], shape=shape)
        if _dtype(piece) != _dtype(leaf):
            piece = bind(REGISTRY["astype"], piece, dtype=_dtype(leaf))
        outputs.append(piece)
        start += size
    return outputs


# ----- forward levels ----------------------------------------------------------------------------
def _input_tangents(flat_args, top):
    """The tangent of every input leaf at `top` (zeros for leaves from other levels)."""
    batch = (top.batch_size,) if isinstance(top, BatchedForwardTrace) else ()
    return [
        tree_unflatten(treedef, [
            leaf._tangent if type(leaf) in TRACED_TYPES and leaf._trace is top
            else np.zeros(batch + _shape(leaf), _dtype(leaf))
            for leaf in leaves
        ])
        for leaves, treedef in flat_args
    ]


def _push_forward(function, primals, tangents, like, key):
    """Output tangents of function at primals along tangents, on a new level of like's kind."""
    if isinstance(like, BatchedForwardTrace):
        trace = BatchedForwardTrace(new_level(), like.batch_size)
    else:
        trace = ForwardTrace(new_level())
    boxed = []
    for primal, tangent in zip(primals, tangents, strict=True):
        leaves, treedef = tree_flatten(primal)
        boxed.append(tree_unflatten(treedef, [
            Tensor(p, trace, tangent=t)
            for p, t in zip(leaves, tree_flatten(tangent)[0], strict=True)
        ]))
    out_leaves = tree_flatten(_reentry.run(key, trace, function, *boxed))[0]
    return [
        leaf._tangent if type(leaf) in TRACED_TYPES and leaf._trace is trace else None
        for leaf in out_leaves
    ]


def _with_tangents(top, out, tangents, name):
    """Box the output leaves at forward level `top` with their tangents."""
    out_leaves, out_def = tree_flatten(out)
    if len(tangents) != len(out_leaves):
        raise CustomRuleError(
            f"{name}: the tangent output has {len(tangents)} leaves but the output has "
            f"{len(out_leaves)}; return a tangent shaped like the output."
        )
    boxed = []
    for leaf, tangent in zip(out_leaves, tangents, strict=True):
        if isinstance(top, BatchedForwardTrace):
            tangent = fit_batched(tangent, leaf, top.batch_size)
        elif tangent is None:
            tangent = np.zeros(_shape(leaf), _dtype(leaf))
        else:
            tangent = _fit_tangent(tangent, leaf, _Named(name))
        boxed.append(Tensor(leaf, top, tangent=tangent))
    return tree_unflatten(out_def, boxed)


class _Named:
    """Stands in for a primitive in the engine's messages about a custom rule."""

    def __init__(self, name):
        self.name = name


# ----- the decorators ----------------------------------------------------------------------------
class _CustomRule:
    """What custom_vjp and custom_jvp share: dispatch on the innermost trace among the inputs.
    Subclasses give `_missing_rule()`, `_reverse_rules()` -> (fwd, bwd) and `_forward(...)`."""

    def __call__(self, *args, **kwargs):
        problem = self._missing_rule()
        if problem is not None:
            raise CustomRuleError(problem)
        flat_args = [tree_flatten(arg) for arg in args]
        top = _innermost(flat_args)
        if top is None or _reentry.inside(id(self), top):
            return self.function(*args, **kwargs)
        if isinstance(top, ReverseTrace):
            if not _needs_node(flat_args, top):
                return self.function(*args, **kwargs)
            fwd, bwd = self._reverse_rules()
            return _reverse_call(top, flat_args, kwargs, fwd, bwd, self.name, id(self))
        return self._forward(flat_args, top, kwargs)


class custom_vjp(_CustomRule):
    """A function with a hand-written reverse-mode rule.

        @cr.custom_vjp
        def f(x): ...
        def f_fwd(x): return f(x), residuals      # output and what bwd needs
        def f_bwd(residuals, g): return (g_x,)     # one cotangent per positional argument
        f.defvjp(f_fwd, f_bwd)

    Keyword arguments are passed to f and fwd and never differentiated. Forward mode (jvp,
    jacfwd) differentiates fwd's output, since no JVP rule is given.
    """

    def __init__(self, function):
        functools.update_wrapper(self, function)
        self.function = function
        self.fwd = None
        self.bwd = None
        self.name = f"custom_vjp({getattr(function, '__name__', 'f')})"

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd
        return self

    def _missing_rule(self):
        if self.fwd is None:
            return f"{self.name} has no rule yet: call {self.__name__}.defvjp(fwd, bwd) first"
        return None

    def _reverse_rules(self):
        return self.fwd, self.bwd

    def _forward(self, flat_args, top, kwargs):
        lowered = _lowered_args(flat_args, top)
        out = self(*lowered, **kwargs)
        tangents = _push_forward(
            lambda *xs: self.fwd(*xs, **kwargs)[0], lowered, _input_tangents(flat_args, top), top,
            id(self),
        )
        return _with_tangents(top, out, tangents, self.name)


class custom_jvp(_CustomRule):
    """A function with a hand-written forward-mode rule.

        @cr.custom_jvp
        def f(x): ...
        @f.defjvp
        def f_jvp(primals, tangents): (x,), (t,) = primals, tangents; return f(x), t * ...

    Reverse mode transposes the rule: it runs the rule's tangent computation under reverse
    mode (it is linear in the tangents), so grad, vjp and jacrev work and nest.
    """

    def __init__(self, function):
        functools.update_wrapper(self, function)
        self.function = function
        self.rule = None
        self.name = f"custom_jvp({getattr(function, '__name__', 'f')})"

    def defjvp(self, rule):
        self.rule = rule
        return rule

    def _missing_rule(self):
        if self.rule is None:
            return f"{self.name} has no rule yet: decorate the rule with @{self.__name__}.defjvp"
        return None

    def _reverse_rules(self):
        return self._fwd, self._transposed_rule

    def _forward(self, flat_args, top, kwargs):
        lowered = _lowered_args(flat_args, top)
        tangents = _input_tangents(flat_args, top)
        out, tangent_leaves = self._apply_rule(lowered, tangents, top, kwargs)
        return _with_tangents(top, out, tangent_leaves, self.name)

    def _fwd(self, *lowered, **kwargs):
        return self(*lowered, **kwargs), (lowered, kwargs)

    def _transposed_rule(self, residuals, cotangent):
        from chainrule.transforms import vjp

        primals, kwargs = residuals
        zeros = [
            tree_unflatten(treedef, [np.zeros(_shape(leaf), _dtype(leaf)) for leaf in leaves])
            for leaves, treedef in (tree_flatten(p) for p in primals)
        ]
        _, pullback = vjp(lambda *ts: self._checked_rule(primals, ts, kwargs)[1], *zeros)
        return pullback(cotangent)

    def _checked_rule(self, primals, tangents, kwargs):
        result = self.rule(tuple(primals), tuple(tangents), **kwargs)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise CustomRuleError(
                f"{self.name}: the JVP rule must return a pair (primal_out, tangent_out); it "
                f"returned {type(result).__name__}."
            )
        out_leaves, out_def = tree_flatten(result[0])
        tangent_leaves, tangent_def = tree_flatten(result[1])
        if out_def != tangent_def or any(
            _shape(t) != _shape(o) for o, t in zip(out_leaves, tangent_leaves, strict=True)
        ):
            raise CustomRuleError(
                f"{self.name}: the JVP rule's tangent_out ({tangent_def!r}, shapes "
                f"{[_shape(t) for t in tangent_leaves]}) must match primal_out ({out_def!r}, "
                f"shapes {[_shape(o) for o in out_leaves]})."
            )
        return result

    def _apply_rule(self, lowered, tangents, top, kwargs):
        """(primal output, output tangent leaves); a batched level calls the rule row by row."""
        nested = any(type(leaf) in TRACED_TYPES for arg in lowered for leaf in tree_flatten(arg)[0])
        if not isinstance(top, BatchedForwardTrace):
            out, tangent_out = self._checked_rule(lowered, tangents, kwargs)
            # One level down the custom rule must apply too, so the primal goes through self.
            return (self(*lowered, **kwargs) if nested else out), tree_flatten(tangent_out)[0]
        rows = []
        for row in range(top.batch_size):
            row_tangents = [
                tree_unflatten(d, [bind(REGISTRY["getitem"], t, index=row) for t in leaves])
                for leaves, d in (tree_flatten(t) for t in tangents)
            ]
            out, tangent_out = self._checked_rule(lowered, row_tangents, kwargs)
            rows.append(tree_flatten(tangent_out)[0])
        stacked = [_stack_rows([row[k] for row in rows]) for k in range(len(rows[0]))]
        return (self(*lowered, **kwargs) if nested else out), stacked


def _stack_rows(rows):
    shape = _shape(rows[0])
    return bind(REGISTRY["concatenate"], *[
        bind(REGISTRY["reshape"], row, shape=(1,) + shape) for row in rows
    ], axis=0, sizes=(1,) * len(rows))


def checkpoint(function):
    """function, but a reverse pass recomputes its forward instead of keeping its residuals:
    memory for speed. Wrap segments of a long chain; the segment's inputs are all that is kept.
    Under forward mode it is function itself (forward mode keeps no residuals)."""
    name = f"checkpoint({getattr(function, '__name__', 'f')})"

    @functools.wraps(function)
    def checkpointed(*args, **kwargs):
        flat_args = [tree_flatten(arg) for arg in args]
        top = _innermost(flat_args)
        if not isinstance(top, ReverseTrace) or not _needs_node(flat_args, top):
            return function(*args, **kwargs)

        def fwd(*lowered, **kw):
            if top is TAPE:  # the tape's inputs are kept as they are; record nothing now
                with no_grad():
                    return function(*lowered, **kw), (lowered, kw)
            return function(*lowered, **kw), (lowered, kw)

        def recompute(residuals, cotangent):
            from chainrule.transforms import vjp

            lowered, kw = residuals
            return vjp(lambda *xs: function(*xs, **kw), *lowered)[1](cotangent)

        return _reverse_call(top, flat_args, kwargs, fwd, recompute, name, id(function))

    return checkpointed
