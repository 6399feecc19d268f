"""Primitives, the registry, and `bind`.

A primitive is a NumPy implementation plus its derivative rules, declared side by side:
`vjp` (reverse mode) and `jvp` (forward mode), one rule per input, both written with chainrule's
own ops so that differentiating a derivative needs no extra code. Everything else in chainrule
(the Tensor API, transforms, nesting, pictures) goes through `bind`.

Rule signatures: `vjp_rule(cotangent, *residuals, **params)` returns the cotangent of one input;
`jvp_rule(tangent, *residuals, **params)` returns that input's contribution to the output tangent;
`batch_rule(values, batched, size, **params)` applies the primitive to every example of a
`cr.vmap` level at once (core/batching.py).
`saves` names the residuals both kinds of rule receive: input indices and/or `OUT`.
The engine, not the rules, un-broadcasts cotangents, casts dtypes and sums fan-out.
"""

import numpy as np

from chainrule.core.explain import NUMPY_ERRORS, explain_failure
from chainrule.core.namespace import NATIVE_TYPES, foreign_call, is_foreign, numpy_dtype
from chainrule.errors import InputTypeError

__all__ = [
    "Primitive", "REGISTRY", "TRACED_TYPES", "defprimitive", "bind", "residuals_of",
    "OUT", "ZERO", "LINEAR", "NONDIFF", "InputShape", "InputAval", "PerInput", "PerPrimitive",
    "holds_tensor", "stack_values",
]


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


OUT = _Marker("OUT")  # in `saves`: the primitive's output is a residual
ZERO = _Marker("ZERO")  # as a rule: the derivative is identically zero (floor, sign, ...)
LINEAR = _Marker("LINEAR")  # as `jvp`: the tangent map is the primitive itself (reshape, sum, ...)
NONDIFF = _Marker("NONDIFF")  # as `vjp`: the output is not differentiable at all (argmax, ==)



class InputShape:
    """In `saves`: the shape of input `index` (a static tuple; the value itself is not kept)."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index

    def __repr__(self):
        return f"{type(self).__name__}({self.index})"


class InputAval(InputShape):
    """In `saves`: the (shape, dtype) of input `index`, for a rule that must know whether its
    input was real or complex without keeping it."""

    __slots__ = ()


class PerInput:
    """Rules of a variadic primitive (concatenate): one rule serves every input; it receives
    `input_index` as a keyword."""

    __slots__ = ("rule",)

    def __init__(self, rule):
        self.rule = rule

    def __getitem__(self, index):
        rule = self.rule
        return lambda cotangent, *residuals, **params: rule(
            cotangent, *residuals, input_index=index, **params
        )


class PerPrimitive:
    """A rule built for each primitive that uses it (`build(primitive) -> rule`): the batching
    rule every elementwise row shares applies that row's own primitive."""

    __slots__ = ("build",)

    def __init__(self, build):
        self.build = build


REGISTRY: dict = {}

# The classes whose instances carry a trace (Tensor and its subclasses register themselves).
# A set lookup on type() is the cheapest "is this traced?" test on the per-op hot path.
TRACED_TYPES: set = set()


class Primitive:
    """One registry entry. Call it like the NumPy function it wraps.

    Besides its rules, a row says how the rest of chainrule meets it, so that nothing else lists
    it by hand: `ufunc` (the NumPy ufunc it answers to, for NEP-13 dispatch), `names` (its names
    in `chainrule.numpy`), `formula` (its local derivatives as text, for the trace tables),
    `expression` (whether `chainrule explain` expressions may call it) and `pointwise` (whether
    elementwise, so its batching rule is broadcasting; a label for readers and tests). `batch` is
    its batching rule, or None for the row-by-row fallback.
    """

    __slots__ = ("name", "impl", "vjps", "jvps", "saves", "family", "nondiff", "linear", "pick",
                 "ufunc", "names", "formula", "expression", "pointwise", "batch", "indexed",
                 "code", "xp")

    def __init__(self, name, impl, vjps, jvps, saves, family, *, ufunc=None, names=(),
                 formula=None, expression=False, pointwise=False, batch=None, indexed=False,
                 code=None, xp=None):
        self.name = name
        self.impl = impl
        self.nondiff = vjps is NONDIFF
        self.linear = jvps is LINEAR
        self.vjps = () if self.nondiff else vjps if isinstance(vjps, PerInput) else tuple(vjps)
        keep_as_is = self.linear or self.nondiff or isinstance(jvps, PerInput)
        self.jvps = jvps if keep_as_is else tuple(jvps)
        self.saves = tuple(saves)
        self.family = family
        self.pick = _residual_picker(self.saves)
        self.ufunc = ufunc
        self.names = tuple(names)
        self.formula = None if formula is None else tuple(formula)
        self.expression = expression
        self.pointwise = pointwise
        self.batch = batch.build(self) if isinstance(batch, PerPrimitive) else batch
        self.indexed = indexed
        self.code = code
        self.xp = xp

    def __repr__(self):
        return f"<primitive {self.name}>"


def defprimitive(name, impl, *, vjp, jvp=None, saves=(), family="misc", ufunc=None, names=None,
                 formula=None, expression=False, pointwise=False, batch=None, indexed=False,
                 code=None, xp=None):
    """Declare a primitive: its NumPy `impl`, per-input `vjp` rules, per-input `jvp` rules.

    `vjp=NONDIFF` declares an output that is never differentiated (comparisons, argmax).
    `jvp=LINEAR` declares a linear primitive whose tangent map is itself.
    `ufunc` defaults to NumPy's ufunc of the same name, if there is one; `names` defaults to the
    row's own name when it answers to a ufunc (else it is not published in chainrule.numpy).
    `formula` has one entry per input: a factor such as "cos({0})" ({0}, {1}: the operands,
    {out}: the output), or a pair (reverse, forward) for a linear map of {g} or {t}.
    `batch` is the batching rule (a function, or a `PerPrimitive` builder); without one, `cr.vmap`
    applies the primitive example by example. `indexed=True` says its `index` param may hold
    values batched by `cr.vmap` (x[labels] with a label per example): `bind` counts their level.
    `code` is how `cr.jit`'s generated source spells the implementation, when the NumPy call
    it makes is not the impl's own name: "np.reshape({0}, {shape})" ({0}: the operands, {name}:
    a param as a literal). It must compute exactly what `impl` computes.
    `xp` is the implementation for arrays of other libraries (Dask, CuPy, the array API):
    `xp(namespace, *operands, **params)`; without it a row answering to a ufunc uses the
    namespace's function of that name (core/namespace.py), and any other row refuses them.
    """
    if name in REGISTRY:
        raise ValueError(f"primitive {name!r} is already registered")
    if ufunc is None:
        ufunc = _numpy_ufunc(name)
    if names is None:
        names = (name,) if ufunc is not None else ()
    primitive = Primitive(
        name, impl, vjp, jvp if jvp is not None else (), saves, family, ufunc=ufunc, names=names,
        formula=formula, expression=expression, pointwise=pointwise, batch=batch,
        indexed=indexed, code=code, xp=xp,
    )
    REGISTRY[name] = primitive
    return primitive


def _numpy_ufunc(name):
    """NumPy's ufunc called `name`, or None."""
    candidate = getattr(np, name, None)
    return candidate if isinstance(candidate, np.ufunc) else None


_SEQUENCES = {list, tuple}


def bind(primitive, *args, **params):
    """Apply `primitive` at the innermost trace level present among `args`.

    With no traced argument this is just the NumPy implementation.
    """
    top = None
    foreign = False
    for arg in args:
        if type(arg) in TRACED_TYPES:
            trace = arg._trace
            if top is None or trace.level > top.level:
                top = trace
        elif type(arg) in _SEQUENCES:
            if holds_tensor(arg):
                # cnp.sin([x, y]): NumPy would read the values and drop their derivatives.
                stacked = [stack_values(a) if type(a) in _SEQUENCES and holds_tensor(a) else a
                           for a in args]
                return bind(primitive, *stacked, **params)
        elif type(arg) not in NATIVE_TYPES:
            foreign = foreign or is_foreign(arg)
    if primitive.indexed:
        top = _index_level(params["index"], top)
    if top is None:
        if foreign:
            return apply_impl(primitive, args, params, True)
        try:
            return primitive.impl(*args, **params)
        except NUMPY_ERRORS as exc:
            raise explain_failure(primitive.name, args, exc)  # noqa: B904 (it sets the cause)
    return top.process(primitive, args, params)


def apply_impl(primitive, values, params, foreign=False):
    """The primitive's implementation on plain values (NumPy's, or a foreign array's namespace
    when `foreign`), NumPy's failures explained."""
    try:
        if foreign:
            return foreign_call(primitive, values, params)
        return primitive.impl(*values, **params)
    except NUMPY_ERRORS as exc:
        raise explain_failure(primitive.name, values, exc)  # noqa: B904 (it sets the cause)


Primitive.__call__ = bind  # calling a primitive binds it (no extra frame on the hot path)


def _index_level(index, top):
    """The innermost level among `top` and the values batched by vmap inside `index`."""
    for part in index if type(index) is tuple else (index,):
        if type(part) in TRACED_TYPES:
            trace = part._trace
            if top is None or trace.level > top.level:
                top = trace
    return top


def holds_tensor(items) -> bool:
    """Whether a (nested) list or tuple holds a Tensor anywhere."""
    pending = [items]
    while pending:
        for item in pending.pop():
            if type(item) in TRACED_TYPES:
                return True
            if type(item) is list or type(item) is tuple:
                pending.append(item)
    return False


def stack_values(items):
    """A (nested) list or tuple holding Tensors, as one recorded array with NumPy's nesting
    rules (`np.array([x, y])`): the entries are stacked along new leading axes, so each of them
    keeps its derivative. Entries must have one shape; numbers and arrays join as constants."""
    entries = [
        stack_values(item) if type(item) is list or type(item) is tuple else item
        for item in items
    ]
    if not entries:
        return np.asarray(items, dtype=float)
    shapes = {shape_of(entry) for entry in entries}
    if len(shapes) != 1:
        raise InputTypeError(
            f"a list of arrays and tensors with different shapes {sorted(shapes)} cannot become "
            "one array: lists must be rectangular (not ragged). Give every entry one shape."
        )
    (shape,) = shapes
    reshape, concatenate = REGISTRY["reshape"], REGISTRY["concatenate"]
    rows = [bind(reshape, entry, shape=(1,) + shape) for entry in entries]
    return bind(concatenate, *rows, axis=0, sizes=(1,) * len(rows))


def residuals_of(primitive, values, out):
    """The residuals `primitive.saves` asks for, picked from its inputs and output."""
    return primitive.pick(values, out)


def _residual_picker(saves):
    """A function (values, out) -> residuals for one `saves` spec, built once per primitive."""
    if not saves:
        return lambda values, out: ()
    if saves == (OUT,):
        return lambda values, out: (out,)
    if saves == (0,):
        return lambda values, out: (values[0],)
    if saves == (0, 1):
        return lambda values, out: (values[0], values[1])

    def pick(values, out):
        picked = []
        for spec in saves:
            if spec is OUT:
                picked.append(out)
            elif type(spec) is InputShape:
                picked.append(shape_of(values[spec.index]))
            elif type(spec) is InputAval:
                value = values[spec.index]
                picked.append((shape_of(value), dtype_of(value)))
            else:
                picked.append(values[spec])
        return tuple(picked)

    return pick


def dtype_of(value) -> np.dtype:
    """The dtype of a value at any level (of a Python number: NumPy's, e.g. float64).
    (Defined here, below core/dtypes.py which publishes it, because residuals need it.)"""
    while type(value) in TRACED_TYPES:
        value = value._value
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return np.result_type(value)
    return dtype if isinstance(dtype, np.dtype) else numpy_dtype(dtype)


def shape_of(value) -> tuple:
    """The shape of a value at any level (of a Python number: ()): one example's shape under
    `cr.vmap`, whose levels keep their batch axes in front of it."""
    batch_axes = 0
    while type(value) in TRACED_TYPES:
        batch_axes += value._trace.batched
        value = value._value
    shape = getattr(value, "shape", None)
    if shape is None:
        shape = np.shape(value)
    return shape[batch_axes:] if batch_axes else shape
