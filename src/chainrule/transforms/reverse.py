"""Reverse mode as functional transforms: vjp, grad, value_and_grad. f is recorded once on a
fresh reverse level, then cotangents are pulled back through that graph.
"""


import numpy as np

from chainrule.core.backward import backward_pass
from chainrule.core.dtypes import dtype_of, shape_of, tangent_dtype
from chainrule.core.namespace import is_foreign, like
from chainrule.core.tape import ReverseTrace
from chainrule.core.trace import new_level, physical_value
from chainrule.errors import (
    DTypeError,
    NonScalarOutputError,
    TreeStructureError,
)
from chainrule.transforms._levels import (
    _argnums,
    _enter_level,
    _flatten_inputs,
    _partial,
    _run_at_level,
    _seed,
    _zeros_like,
    check_complex,
    to_user,
    transformed,
    unbox,
)
from chainrule.transforms.tree import tree_flatten, tree_unflatten


# ----- reverse mode ------------------------------------------------------------------------------
class _Recording:
    """f run once on a fresh reverse level: its outputs and the graph behind them."""

    def __init__(self, function, args, transform, has_aux):
        self.transform = transform
        self.trace = ReverseTrace(new_level())
        # (treedef, boxes) per argument
        self.inputs, boxed_args = _enter_level(self.trace, _flatten_inputs(args, transform))
        self.out_leaves, self.out_def, self.aux = _run_at_level(
            self.trace, function, boxed_args, has_aux, transform
        )

    def output(self):
        return tree_unflatten(self.out_def, [unbox(leaf, self.trace) for leaf in self.out_leaves])

    def pullback(self, cotangents, retain_graph):
        """One cotangent per output leaf (None: zero) -> one pytree of cotangents per input."""
        roots = []
        for leaf, cotangent in zip(self.out_leaves, cotangents, strict=True):
            if cotangent is not None and self.trace.owns(leaf):
                roots.append((leaf._node if leaf._node is not None else leaf, cotangent))
        found = backward_pass(roots, retain_graph=retain_graph) if roots else {}
        return [
            tree_unflatten(treedef, [_cotangent_for_user(found, box) for box in boxes])
            for treedef, boxes in self.inputs
        ]


def _cotangent_for_user(found, box):
    """The cotangent the backward pass found for an input box; zeros if it found none or a
    symbolic zero."""
    cotangent = found[id(box)][1] if id(box) in found else None
    cotangent = _zeros_like(box) if cotangent is None else to_user(cotangent)
    return like(cotangent, physical_value(box))  # a Dask input gets a Dask gradient


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


def vjp(function, *primals, has_aux=False):
    """(out, vjp_fn[, aux]): out = function(*primals); vjp_fn(cotangent) returns a tuple with
    one cotangent per primal. vjp_fn may be called many times (the graph is kept).

    Returns:
        `(out, vjp_fn)`, or `(out, vjp_fn, aux)` with has_aux=True. `out` has function's output
        structure (NumPy arrays, 0-d as NumPy scalars). `vjp_fn(cotangent)` takes a cotangent of
        out's structure, shapes and dtypes and returns a tuple with one cotangent per primal, in
        that primal's structure, shapes and floating dtype (integer primals count as float64).

    Raises:
        InputTypeError: a primal leaf that is not numeric (a string, None, an object).
        DTypeError: a boolean primal; from vjp_fn, a cotangent whose dtype differs from the
            output's (or a complex cotangent of a real output).
        ShapeError: from vjp_fn, a cotangent whose shape differs from the output's.
        TreeStructureError: from vjp_fn, a cotangent whose pytree structure differs from the
            output's.
        TypeError: with has_aux=True, a function that does not return a pair (out, aux).

    Example:
        >>> out, vjp_fn = cr.vjp(lambda x, y: x * y, np.array([1.0, 2.0]), 3.0)
        >>> vjp_fn(np.ones(2))              # (array([3., 3.]), 3.0)
    """
    recording = _Recording(function, primals, "vjp", has_aux)

    def vjp_fn(cotangent):
        cotangents = _cotangent_leaves(cotangent, recording)
        return tuple(recording.pullback(cotangents, retain_graph=True))

    if has_aux:
        return recording.output(), vjp_fn, recording.aux
    return recording.output(), vjp_fn


def value_and_grad(function, argnums=0, has_aux=False, holomorphic=False):
    """A function returning (f(*args), gradient w.r.t. the arguments named by argnums);
    with has_aux=True, ((f's output, aux), gradient). `holomorphic` as in `grad`.

    Returns:
        A function of f's arguments returning `(value, gradient)`: value is f's output (one
        number; shape () gives a NumPy scalar), gradient as `grad` gives it (each gradient
        has its argument's structure, shape and floating dtype).

    Raises:
        NonScalarOutputError, DTypeError, ArgnumsError, InputTypeError: when called, as `grad`.

    Example:
        >>> cr.value_and_grad(lambda x: x ** 2)(3.0)                        # (9.0, 6.0)
    """
    return _value_and_grad(function, argnums, has_aux, "value_and_grad", holomorphic)


def _value_and_grad(function, argnums, has_aux, transform, holomorphic=False):
    def value_and_grad_function(*args, **kwargs):
        indices = _argnums(argnums, len(args), transform)
        partial, differentiated = _partial(function, args, kwargs, indices)
        recording = _Recording(partial, differentiated, transform, has_aux)
        if holomorphic:
            check_complex(recording.inputs, transform, holomorphic, "input")
        _check_scalar(recording, transform, holomorphic)
        out_leaf = recording.out_leaves[0]
        shape, dtype = shape_of(out_leaf), tangent_dtype(out_leaf)
        # A scalar output's seed is a NumPy number: immutable, so cr.jit's staged program may
        # hold it as a literal (and drop the products by 1 it starts the backward pass with).
        seed = dtype.type(1) if shape == () else np.ones(shape, dtype)
        # an output in another array library (Dask, the array API) seeds in that library, so
        # cotangents never mix NumPy arrays into it
        if is_foreign(physical_value(out_leaf)):
            seed = like(np.asarray(seed), physical_value(out_leaf))
        grads = recording.pullback([seed], retain_graph=False)
        grads = grads[0] if isinstance(argnums, (int, np.integer)) else tuple(grads)
        value = recording.output()
        return ((value, recording.aux) if has_aux else value), grads

    return transformed(value_and_grad_function, function, "value_and_grad")


def _check_scalar(recording, transform, holomorphic=False):
    """grad's output must be one floating-point number: shape () or any shape with exactly one
    element ((1,), (1, 1), keepdims=True), as HIPS autograd and PyTorch accept; real, unless
    the function is declared holomorphic (then complex)."""
    leaves = recording.out_leaves
    if len(leaves) != 1 or int(np.prod(shape_of(leaves[0]), dtype=np.int64)) != 1:
        got = (
            f"shape {shape_of(leaves[0])}" if len(leaves) == 1
            else f"a {recording.out_def!r} pytree with {len(leaves)} leaves"
        )
        raise NonScalarOutputError(
            f"{transform}(f) requires f to return a scalar; it returned {got}. Use jacrev(f) "
            "for a Jacobian or vjp(f, x) for a vector-Jacobian product (or reduce the output, "
            "e.g. with cnp.sum)."
        )
    dtype = dtype_of(leaves[0])
    if dtype.kind == "c" and not holomorphic:
        raise DTypeError(
            f"{transform}(f) requires a real-valued f; it returned complex ({dtype}). A gradient "
            "is the derivative of a real quantity. For a holomorphic f (z ** 3, exp(z)), pass "
            "holomorphic=True to get f'(z) (cr.jacrev(f, holomorphic=True) for a Jacobian); "
            "otherwise differentiate cnp.real(f) and cnp.imag(f) separately, and for a loss "
            "return a real number such as cnp.abs(f) ** 2."
        )
    if holomorphic and dtype.kind != "c":
        raise DTypeError(
            f"{transform}(f, holomorphic=True) requires f to return a complex number; it "
            f"returned {dtype}. Drop holomorphic=True for a real-valued f."
        )
    if dtype.kind not in "fc":
        raise DTypeError(
            f"{transform}(f) requires f to return a floating-point scalar; it returned dtype "
            f"{dtype} (from a comparison, np.allclose, argmax, a count...). Such an output is "
            "piecewise constant, so it carries no derivative to read. Return the floating-point "
            "quantity you want to differentiate (e.g. the loss itself, not a test on it), and "
            "pass other results out with has_aux=True."
        )


def grad(function, argnums=0, has_aux=False, holomorphic=False):
    """The gradient of a scalar-valued function w.r.t. the arguments named by argnums (an int
    gives one gradient, a tuple a tuple of them); with has_aux=True, (gradient, aux).

    Complex inputs follow JAX and HIPS autograd: for a real-valued f of z = x + iy the result
    is df/dx - i df/dy (the conjugate of the steepest-ascent direction; PyTorch's `.grad` is
    its conjugate). `holomorphic=True` is for a complex-valued holomorphic f of complex inputs
    and gives f'(z); a complex output without it raises DTypeError.

    Returns:
        A function taking f's arguments. With an int argnums it returns one gradient with the
        structure, shape and floating dtype of that argument (integer inputs give float64; a
        0-d result is a NumPy scalar); with a tuple, a tuple of such gradients; with
        has_aux=True, (gradient, aux). Keyword arguments are passed to f, never differentiated.

    Raises:
        NonScalarOutputError: when f returns more than one number (a shape with more than one
            element, or a pytree of several outputs).
        DTypeError: a non-floating output (a comparison, a count), a complex output without
            holomorphic=True (or a real one with it), or a boolean input.
        ArgnumsError: argnums not an int or tuple of ints, or out of range for the call.
        InputTypeError: a differentiated argument that is not numeric (a string, None).
        ConcretizationError: f asks a differentiated value for its number (`float(x)`,
            `np.asarray(x)`).
        TypeError: with has_aux=True, f does not return a pair (output, aux).

    Example:
        >>> cr.grad(lambda x, y: (x + y) * (x - y), argnums=(0, 1))(3.0, 2.0)  # (6.0, -4.0)
        >>> cr.grad(lambda p: cnp.sum(p["w"] ** 2))({"w": np.array([1.0, 2.0])})
        {'w': array([2., 4.])}
    """
    value_and_grad_function = _value_and_grad(function, argnums, has_aux, "grad", holomorphic)

    def grad_function(*args, **kwargs):
        value, grads = value_and_grad_function(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return transformed(grad_function, function, "grad")
