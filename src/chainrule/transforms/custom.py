"""Custom derivative rules and checkpointing: custom_vjp, custom_jvp, checkpoint.

A call of a decorated function at a reverse level records one graph node whose VJP calls the
user's rule: a one-off primitive that never enters the global registry. The rule runs on the
values one level down, so enclosing transforms differentiate the rule itself and nesting works.
At a forward level, `custom_jvp` calls its JVP rule. Each mode gets the other's rule by
transposition, so both modes always agree: `custom_jvp`'s rule is linear in the tangents, so
reverse mode through it gives J^T; `custom_vjp`'s `bwd` is linear in the cotangent, so reverse
mode through it with respect to the cotangent gives J (JAX cannot do the latter: its bwd rules
are opaque Python, ours are written in chainrule's ops).
"""

import functools
import threading
import weakref

import numpy as np

from chainrule.core.backward import Node, backward_pass, fit
from chainrule.core.batching import is_differentiated
from chainrule.core.dtypes import aval, shape_of, tangent_dtype
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, Primitive, bind
from chainrule.core.tape import ReverseTrace
from chainrule.core.tensor import Tensor, raw_value
from chainrule.core.trace import no_grad, physical_value
from chainrule.errors import (
    CustomRuleError,
    GraphEscapeError,
    GraphFreedError,
    UnsupportedFunctionError,
)
from chainrule.transforms.reverse import _Recording, vjp
from chainrule.transforms.tree import tree_flatten, tree_unflatten
from chainrule.transforms.vmap import vmap

__all__ = ["custom_vjp", "custom_jvp", "checkpoint"]


# ----- levels ------------------------------------------------------------------------------------
def _innermost(flat_args):
    top = None
    for leaves, _ in flat_args:
        for leaf in leaves:
            if type(leaf) in TRACED_TYPES and (top is None or leaf._trace.level > top.level):
                top = leaf._trace
    return top


def _lowered_args(flat_args, top):
    """The arguments one level below `top`. The tape has nothing below it: its tensors stay, so
    the tape keeps recording (and create_graph sees through the rules)."""
    return [tree_unflatten(treedef, [top.unbox(leaf) for leaf in leaves])
            for leaves, treedef in flat_args]


def _any_traced(args):
    return any(type(leaf) in TRACED_TYPES for arg in args for leaf in tree_flatten(arg)[0])


def _needs_node(flat_args, top):
    """Whether a call at reverse level `top` must record a node (the tape records only
    tensors that require grad, and nothing under no_grad)."""
    return top.recording() and any(top.owns(leaf) for leaves, _ in flat_args for leaf in leaves)


class _Reentry(threading.local):
    """(custom function, level) pairs whose rule is running at that level. A call of the custom
    function from inside its own rule at the same level (fwd computing f(x) on the tape, which
    has no level below it) is the plain function there."""

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


# ----- one node at a reverse level ---------------------------------------------------------------
def _reverse_call(top, flat_args, kwargs, fwd, bwd, name, key):
    """Run fwd one level down and record one node at `top` whose VJP calls bwd."""
    lowered = _lowered_args(flat_args, top)
    if top.concrete:  # the tape: fwd runs on the tape itself, where f must be the plain f
        fwd = functools.partial(_reentry.run, key, top, fwd)
    out, residuals = _call_fwd(fwd, lowered, kwargs, name)
    out_leaves, out_def = tree_flatten(out)
    inputs = _inputs_at(flat_args, top)
    packed, unpack_cotangent = _pack(out_leaves, out_def)
    # The node owns the residuals, so a backward pass without retain_graph releases them like
    # any node's; the rule only holds a weak reference, and a dead one means "already freed".
    saved = _Saved(residuals)
    cotangents_for = _cotangent_cache(
        bwd, weakref.ref(saved), unpack_cotangent, flat_args, inputs, name
    )
    vjps = tuple(
        functools.partial(_pick_cotangent, cotangents_for, j) for j in range(len(inputs))
    )
    primitive = Primitive(name, _not_callable, vjps, (), (), "custom")
    parents = tuple(leaf._node if leaf._node is not None else leaf for _, _, leaf in inputs)
    avals = tuple((shape_of(leaf), tangent_dtype(leaf)) for _, _, leaf in inputs)
    node = Node(primitive, {}, parents, (saved,), avals)
    value = raw_value(packed) if top.concrete else packed  # the tape holds plain arrays
    return tree_unflatten(out_def, _unpack_outputs(Tensor(value, top, node, True), out_leaves))


def _not_callable(*args, **params):
    raise TypeError("a custom rule's node cannot be applied as a primitive")


class _Saved:
    """fwd's residuals, held by the node alone (the rule keeps a weak reference)."""

    __slots__ = ("residuals", "__weakref__")

    def __init__(self, residuals):
        self.residuals = residuals


def _pick_cotangent(cotangents_for, j, cotangent, *_node_residuals):
    # The engine passes the node's residuals (or none under create_graph, as the custom node
    # declares no `saves`); the rule reads them through its weak reference instead.
    return cotangents_for(cotangent)[j]


def _call_fwd(fwd, lowered, kwargs, name):
    result = fwd(*lowered, **kwargs)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise CustomRuleError(
            f"{name}: fwd must return a pair (output, residuals); it returned "
            f"{type(result).__name__}. End fwd with `return out, residuals`."
        )
    return result


def _cotangent_cache(bwd, saved_ref, unpack_cotangent, flat_args, inputs, name):
    """cotangent -> input cotangents, calling bwd once per cotangent: the engine asks the node
    for one input's cotangent at a time, always with the same cotangent object in a row."""
    last = [None, None]

    def cotangents_for(cotangent):
        saved = saved_ref()
        if saved is None:  # checked first: a second pass may bring the same cotangent object
            raise GraphFreedError(
                f"backward through {name} a second time: fwd's residuals were released after "
                "the first backward. Pass retain_graph=True to the first .backward() (or "
                "cr.vjp's function) if you need to go back through the graph again."
            )
        if last[0] is not cotangent:
            result = bwd(saved.residuals, unpack_cotangent(cotangent))
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
        if cotangent is not None and shape_of(cotangent) != shape_of(leaf):
            raise CustomRuleError(
                f"{name}: bwd returned a cotangent of shape {shape_of(cotangent)} for argument "
                f"{position} of shape {shape_of(leaf)}; each cotangent must have its argument's "
                "shape."
            )
        picked.append(cotangent)
    return picked


# Several outputs travel through the one node as a flat vector, split again afterwards: the
# engine's nodes have one output, and the rule needs every output's cotangent at once.
def _pack(out_leaves, out_def):
    if len(out_leaves) == 1:
        return out_leaves[0], lambda cotangent: tree_unflatten(out_def, [cotangent])
    shapes = [shape_of(leaf) for leaf in out_leaves]
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
        shape = shape_of(leaf)
        size = int(np.prod(shape, dtype=np.int64))
        piece = bind(REGISTRY["reshape"], packed[start:start + size], shape=shape)
        if tangent_dtype(piece) != tangent_dtype(leaf):
            piece = bind(REGISTRY["astype"], piece, dtype=tangent_dtype(leaf))
        outputs.append(piece)
        start += size
    return outputs


# ----- forward levels ----------------------------------------------------------------------------
def _input_tangents(flat_args, top):
    """The tangent of every input leaf at `top`, for the user's rule: zeros for a leaf that is a
    constant there."""
    def tangent(leaf):
        tangent = top.tangent(leaf)
        return np.zeros(shape_of(leaf), tangent_dtype(leaf)) if tangent is None else tangent

    return [tree_unflatten(treedef, [tangent(leaf) for leaf in leaves])
            for leaves, treedef in flat_args]


def _tangents_from_bwd(bwd, residuals, out, flat_args, top, name):
    """The output tangent leaves J t at forward level `top`, derived from bwd alone.

    bwd(residuals, c) computes J^T c and is linear in c, so reverse mode through it with respect
    to c, seeded with the input tangents t, gives (J^T)^T t = J t. Tangents batched by vmap
    (jacfwd = vmap(jvp)) make it one batched backward pass. The recording is taken
    at c = 0: any point serves a linear rule, and a rule that is not quite linear (gradient
    clipping) is linearized where small cotangents live."""
    inputs = _inputs_at(flat_args, top)
    kept = []  # the inputs whose bwd cotangent is not None, in the recording's output order

    def input_cotangents(cotangent):
        picked = _bwd_for_forward_mode(bwd, residuals, cotangent, flat_args, inputs, name)
        kept[:] = [k for k, value in enumerate(picked) if value is not None]
        return [picked[k] for k in kept]

    recording = _Recording(input_cotangents, (_filled_like(out, 0.0),), name, False)
    roots, constant = [], []
    for k, cotangent in zip(kept, recording.out_leaves, strict=True):
        if recording.trace.owns(cotangent):
            vertex = cotangent._node if cotangent._node is not None else cotangent
            roots.append((vertex, top.tangent(inputs[k][2])))
        else:
            constant.append((k, cotangent))
    if constant:
        _require_zero(constant, bwd, residuals, out, flat_args, inputs, name)
    found = backward_pass(roots) if roots else {}
    boxes = recording.inputs[0][1]
    return [found[id(box)][1] if id(box) in found else None for box in boxes]


def _inputs_at(flat_args, top):
    """(position, index, leaf) of every input leaf differentiated at level `top`."""
    return [
        (position, index, leaf)
        for position, (leaves, _) in enumerate(flat_args)
        for index, leaf in enumerate(leaves) if top.owns(leaf)
    ]


def _filled_like(tree, fill):
    leaves, treedef = tree_flatten(tree)
    filled = [np.full(shape_of(leaf), fill, tangent_dtype(leaf)) for leaf in leaves]
    return tree_unflatten(treedef, filled)


def _bwd_for_forward_mode(bwd, residuals, cotangent, flat_args, inputs, name):
    try:
        result = bwd(residuals, cotangent)
    except (GraphEscapeError, UnsupportedFunctionError) as exc:
        raise CustomRuleError(
            f"{name}: forward mode (jvp, jacfwd, hessian) derives the JVP from bwd by "
            "differentiating bwd with respect to its cotangent, but bwd could not run on a "
            f"traced cotangent ({type(exc).__name__} above). {_BWD_FIX}"
        ) from exc
    return _check_bwd(result, flat_args, inputs, name)


_BWD_FIX = (
    "Write bwd with chainrule.numpy (cnp) operations on the cotangent (its result must be "
    "linear in it), or give the function a forward rule with cr.custom_jvp instead."
)


def _require_zero(constant, bwd, residuals, out, flat_args, inputs, name):
    """bwd's cotangents that did not record any dependence on the cotangent must be zero: a
    function linear in c and constant in c is 0. Anything else was computed off the record
    (NumPy on the cotangent's values), and reading it as zero would be a silent wrong JVP, so
    bwd is tried once more at c = 1 to tell a true zero from that."""
    at_one = _check_bwd(bwd(residuals, _filled_like(out, 1.0)), flat_args, inputs, name)
    for k, at_zero in constant:
        if np.any(physical_value(at_zero)) or np.any(physical_value(at_one[k])):
            position = inputs[k][0]
            raise CustomRuleError(
                f"{name}: forward mode (jvp, jacfwd, hessian) derives the JVP from bwd by "
                f"differentiating bwd with respect to its cotangent, but bwd's cotangent for "
                f"argument {position} was not computed from the cotangent with chainrule "
                f"operations (NumPy on its values, or a nonzero constant). {_BWD_FIX}"
            )


def _with_tangents(top, out, tangents, name):
    """Box the output leaves at forward level `top` with their tangents."""
    out_leaves, out_def = tree_flatten(out)
    if len(tangents) != len(out_leaves):
        raise CustomRuleError(
            f"{name}: the tangent output has {len(tangents)} leaves but the output has "
            f"{len(out_leaves)}; return a tangent shaped like the output."
        )
    boxed = [
        leaf if tangent is None  # a symbolic zero: a constant at this level
        else top.box(leaf, fit(tangent, aval(leaf), name))
        for leaf, tangent in zip(out_leaves, tangents, strict=True)
    ]
    return tree_unflatten(out_def, boxed)


# ----- the decorators ----------------------------------------------------------------------------
class _CustomRule:
    """What custom_vjp and custom_jvp share: dispatch on the innermost trace among the inputs.
    Subclasses give `_missing_rule()`, `_reverse_rules(top)` -> (fwd, bwd) and `_forward(...)`."""

    def __call__(self, *args, **kwargs):
        problem = self._missing_rule()
        if problem is not None:
            raise CustomRuleError(problem)
        flat_args = [tree_flatten(arg) for arg in args]
        top = _innermost(flat_args)
        if top is None or top.staged or _reentry.inside(id(self), top):
            # (cr.jit's staging level differentiates nothing: the function itself is staged)
            return self.function(*args, **kwargs)
        if top.batched:
            return _batched_call(self, flat_args, top, kwargs)
        if isinstance(top, ReverseTrace):
            if not _needs_node(flat_args, top):
                return self.function(*args, **kwargs)
            fwd, bwd = self._reverse_rules(top)
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
    jacfwd, hessian) derives the JVP from bwd, so both modes agree: bwd is linear in the
    cotangent, and reverse mode through it with respect to the cotangent gives J t. bwd must
    therefore compute with chainrule.numpy on the cotangent; if it does not, forward mode raises
    CustomRuleError rather than return a wrong tangent.

    Returns:
        `custom_vjp(f)` is a callable with f's signature and name: calling it returns what f
        returns (fwd's output where a transform records it), and every transform uses
        `bwd` for its derivative. `defvjp(fwd, bwd)` returns the same object.

    Raises:
        CustomRuleError: a call before `defvjp`; fwd not returning a pair (output,
            residuals); bwd not returning a tuple with one cotangent per positional argument,
            or a cotangent whose structure or shape differs from its argument's; in forward
            mode, a bwd that did not compute with chainrule operations on the cotangent.
        GraphFreedError: a second backward pass through it without retain_graph=True.

    Example:
        >>> @cr.custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> clip_gradient.defvjp(lambda x: (x, None),
        ...                      lambda residuals, g: (cnp.clip(g, -1.0, 1.0),))
        >>> cr.grad(lambda x: cnp.sum(clip_gradient(x) * 5.0))(np.ones(2))  # array([1., 1.])
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

    def _reverse_rules(self, top):
        return functools.partial(self._fwd, top), self.bwd

    def _fwd(self, top, *lowered, **kwargs):
        """fwd one level below `top`. If enclosing levels trace the inputs, the output comes from
        self instead, so that they apply this rule too rather than differentiate fwd's ops (a
        straight-through fwd computes round(x), whose own derivative is zero)."""
        out, residuals = _call_fwd(self.fwd, lowered, kwargs, self.name)
        if not top.concrete and _any_traced(lowered):  # levels below the tape trace them
            out = self(*lowered, **kwargs)
        return out, residuals

    def _lifted(self, in_axes, size):
        """This rule for stacked examples: function, fwd and bwd under vmap (see
        `_batched_call`); an argument shared by the examples gets their summed cotangent."""
        lifted = custom_vjp(vmap(self.function, in_axes=in_axes, axis_size=size))
        lifted.name = f"vmap({self.name})"

        def fwd(*args, **kwargs):
            return vmap(lambda *a: _call_fwd(self.fwd, a, kwargs, self.name), in_axes=in_axes,
                        axis_size=size)(*args)

        def bwd(residuals, cotangent):
            per_example = vmap(self.bwd, axis_size=size)(residuals, cotangent)
            return _summed_over_examples(per_example, in_axes)

        return lifted.defvjp(fwd, bwd)

    def _forward(self, flat_args, top, kwargs):
        lowered = _lowered_args(flat_args, top)
        out, residuals = self._fwd(top, *lowered, **kwargs)
        tangents = _tangents_from_bwd(self.bwd, residuals, out, flat_args, top, self.name)
        return _with_tangents(top, out, tangents, self.name)


class custom_jvp(_CustomRule):
    """A function with a hand-written forward-mode rule.

        @cr.custom_jvp
        def f(x): ...
        @f.defjvp
        def f_jvp(primals, tangents): (x,), (t,) = primals, tangents; return f(x), t * ...

    Reverse mode transposes the rule: it runs the rule's tangent computation under reverse
    mode (it is linear in the tangents), so grad, vjp and jacrev work and nest.

    Returns:
        `custom_jvp(f)` is a callable with f's signature and name: calling it returns what f
        returns, and every transform (forward and reverse) uses the rule for its derivative.
        `defjvp(rule)` returns the rule, so it works as a decorator. The rule takes
        (primals, tangents), two tuples, and returns (primal_out, tangent_out).

    Raises:
        CustomRuleError: a call before `defjvp`; a rule that does not return a pair, or whose
            tangent_out differs from primal_out in structure or shapes.

    Example:
        >>> @cr.custom_jvp
        ... def f(x):
        ...     return cnp.sin(x)
        >>> @f.defjvp
        ... def f_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return f(x), cnp.cos(x) * t
        >>> cr.jvp(f, (0.0,), (2.0,)), cr.grad(f)(0.0)     # ((0.0, 2.0), 1.0)
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

    def _reverse_rules(self, top):
        return self._fwd, self._transposed_rule

    def _forward(self, flat_args, top, kwargs):
        lowered = _lowered_args(flat_args, top)
        tangents = _input_tangents(flat_args, top)
        out, tangent_leaves = self._apply_rule(lowered, tangents, top, kwargs)
        return _with_tangents(top, out, tangent_leaves, self.name)

    def _fwd(self, *lowered, **kwargs):
        return self(*lowered, **kwargs), (lowered, kwargs)

    def _lifted(self, in_axes, size):
        """This rule for stacked examples: the function and the JVP rule under vmap (see
        `_batched_call`); a tangent is batched where its primal is."""
        lifted = custom_jvp(vmap(self.function, in_axes=in_axes, axis_size=size))
        lifted.name = f"vmap({self.name})"

        @lifted.defjvp
        def rule(primals, tangents):
            return vmap(lambda p, t: self._checked_rule(p, t, {}), in_axes=(in_axes, in_axes),
                        axis_size=size)(tuple(primals), tuple(tangents))

        return lifted

    def _transposed_rule(self, residuals, cotangent):
        primals, kwargs = residuals
        zeros = [
            tree_unflatten(treedef, [
                np.zeros(shape_of(leaf), tangent_dtype(leaf)) for leaf in leaves
            ])
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
            shape_of(t) != shape_of(o) for o, t in zip(out_leaves, tangent_leaves, strict=True)
        ):
            raise CustomRuleError(
                f"{self.name}: the JVP rule's tangent_out ({tangent_def!r}, shapes "
                f"{[shape_of(t) for t in tangent_leaves]}) must match primal_out ({out_def!r}, "
                f"shapes {[shape_of(o) for o in out_leaves]})."
            )
        return result

    def _apply_rule(self, lowered, tangents, top, kwargs):
        """(primal output, output tangent leaves). Tangents batched by vmap (jacfwd) go through
        the user's rule as they are: its operations batch."""
        nested = _any_traced(lowered)
        out, tangent_out = self._checked_rule(lowered, tangents, kwargs)
        # One level down the custom rule must apply too, so the primal goes through self.
        return (self(*lowered, **kwargs) if nested else out), tree_flatten(tangent_out)[0]


def _batched_call(rule, flat_args, top, kwargs):
    """A custom rule called on values batched by vmap at level `top`. With no differentiation
    level below, the rule has nothing to do there: the function runs batched. Otherwise the
    levels below must apply the rule, to all examples at once: as JAX does, the rule is lifted
    to the stacked values one level down (its function, fwd and bwd, or its JVP rule, under
    vmap over the batch axis) and called there; its outputs are this level's values."""
    leaves = [leaf for leaves, _ in flat_args for leaf in leaves]
    if not any(is_differentiated(top.unbox(leaf)) for leaf in leaves):
        args = [tree_unflatten(treedef, leaves) for leaves, treedef in flat_args]
        return rule.function(*args, **kwargs)
    return _lifted_call(rule._lifted, flat_args, top, kwargs)


def _lifted_call(lift, flat_args, top, kwargs):
    """`lift(in_axes, size)` applied to the values one level below vmap level `top` (batch
    axis in front where batched, in_axes 0, else None); its outputs boxed at `top`."""
    in_axes = tuple(
        tree_unflatten(treedef, [0 if top.owns(leaf) else None for leaf in leaves])
        for leaves, treedef in flat_args
    )
    lowered = [
        tree_unflatten(treedef, [leaf._value if top.owns(leaf) else leaf for leaf in leaves])
        for leaves, treedef in flat_args
    ]
    out = lift(in_axes, top.size)(*lowered, **kwargs)
    out_leaves, out_def = tree_flatten(out)
    return tree_unflatten(out_def, [top.box(leaf) for leaf in out_leaves])


def _summed_over_examples(cotangents, in_axes):
    """Per-example cotangents (batch axis in front) of the arguments: summed over the examples
    for an argument the examples share (in_axes None), as its cotangent is their total."""
    summed = []
    for cotangent, axes in zip(cotangents, in_axes, strict=True):
        if cotangent is None:
            summed.append(None)
            continue
        leaves, treedef = tree_flatten(cotangent)
        axis_leaves = tree_flatten(axes)[0] if axes is not None else [None] * len(leaves)
        if len(axis_leaves) != len(leaves):  # None stands for a whole argument
            axis_leaves = [None] * len(leaves)
        summed.append(tree_unflatten(treedef, [
            leaf if axis == 0 else bind(REGISTRY["sum"], leaf, axis=(0,), keepdims=False)
            for leaf, axis in zip(leaves, axis_leaves, strict=True)
        ]))
    return tuple(summed)


def checkpoint(function):
    """function, but a reverse pass recomputes its forward instead of keeping its residuals:
    memory for speed. Wrap segments of a long chain; the segment's inputs are all that is kept.
    Under forward mode it is function itself (forward mode keeps no residuals).

    Returns:
        A function with function's signature and name returning what function returns; its
        derivatives are function's, computed by running function again in the backward pass.

    Raises:
        GraphFreedError: a second backward pass through it without retain_graph=True.
            function's own errors pass through, from the call or from the recomputation.

    Example:
        >>> block = cr.checkpoint(lambda x: cnp.tanh(x @ w))
        >>> cr.grad(lambda x: cnp.sum(block(block(x))))(x)   # block's activations not kept
    """
    name = f"checkpoint({getattr(function, '__name__', 'f')})"

    @functools.wraps(function)
    def checkpointed(*args, **kwargs):
        flat_args = [tree_flatten(arg) for arg in args]
        top = _innermost(flat_args)
        if top is not None and top.batched and any(
            is_differentiated(top.unbox(leaf)) for leaves, _ in flat_args for leaf in leaves
        ):
            # grad(vmap(checkpoint(f))): the levels below recompute the batched function.
            return _lifted_call(
                lambda in_axes, size: checkpoint(vmap(function, in_axes=in_axes, axis_size=size)),
                flat_args, top, kwargs,
            )
        if not isinstance(top, ReverseTrace) or not _needs_node(flat_args, top):
            return function(*args, **kwargs)

        def fwd(*lowered, **kw):
            if top.concrete:  # the tape's inputs are kept as they are; record nothing now
                with no_grad():
                    return function(*lowered, **kw), (lowered, kw)
            return function(*lowered, **kw), (lowered, kw)

        def recompute(residuals, cotangent):
            lowered, kw = residuals
            return vjp(lambda *xs: function(*xs, **kw), *lowered)[1](cotangent)

        return _reverse_call(top, flat_args, kwargs, fwd, recompute, name, id(function))

    return checkpointed
