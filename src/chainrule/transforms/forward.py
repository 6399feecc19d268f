"""Forward mode as functional transforms: jvp, linearize, hvp, and stop_gradient."""

from chainrule.core.dtypes import dtype_of
from chainrule.core.forward import ForwardTrace
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, bind
from chainrule.core.trace import new_level, strip_derivatives
from chainrule.errors import (
    TreeStructureError,
)
from chainrule.transforms._levels import (
    _enter_level,
    _flatten_inputs,
    _run_at_level,
    _seed,
    _where,
    _zeros_like,
    to_user,
    unbox,
)
from chainrule.transforms.reverse import grad
from chainrule.transforms.tree import tree_flatten, tree_map, tree_unflatten


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
    """(function(*primals), its directional derivative along tangents), in one forward pass.

    A complex tangent of a real primal (asked for) gives the derivative extended linearly,
    J (a + ib) = J a + i J b: two passes, one for the real and one for the imaginary parts of
    the tangents, so every function (fft, conj, abs of complex intermediates...) obeys it.

    Returns:
        `(out, tangent_out)`, both in function's output structure: out = function(*primals)
        and tangent_out its derivative applied to the tangents, each leaf with its output's
        shape (NumPy arrays, 0-d as NumPy scalars; complex where a tangent was complex).

    Raises:
        TypeError: primals or tangents not a tuple (or list) with one entry per argument.
        TreeStructureError: a different number of tangents than primals, or a tangent whose
            pytree structure differs from its primal's.
        ShapeError: a tangent whose shape differs from its primal's.
        DTypeError: a tangent whose floating dtype differs from its primal's (float32 for a
            float64 primal), or a boolean primal.
        InputTypeError: a primal that is not numeric (a string, None).

    Example:
        >>> cr.jvp(cnp.sin, (0.0,), (2.0,))                # (0.0, 2.0): sin(0), cos(0) * 2
    """
    paired = _paired_leaves(primals, tangents, "jvp")
    if any(
        dtype_of(t).kind == "c" and dtype_of(p).kind != "c"
        for _, leaves, tangent_leaves in paired for p, t in zip(leaves, tangent_leaves)
    ):
        return _extended_jvp(function, paired)
    return _one_pass(function, paired)


def _extended_jvp(function, paired):
    """J (a + ib) = J a + i J b, for complex tangents of real primals."""
    parts = []
    for part in ("real", "imag"):
        split = [
            (treedef, leaves, [
                bind(REGISTRY[part], t) if dtype_of(p).kind != "c"
                else (t if part == "real" else 0 * t)  # a complex primal's own tangent: once
                for p, t in zip(leaves, tangent_leaves, strict=True)
            ])
            for treedef, leaves, tangent_leaves in paired
        ]
        parts.append(_one_pass(function, split))
    (out, real_part), (_, imag_part) = parts
    combined = tree_map(lambda a, b: to_user(a + 1j * b), real_part, imag_part)
    return out, combined


def _one_pass(function, paired):
    trace = ForwardTrace(new_level())
    _, boxed_args = _enter_level(
        trace, [(treedef, leaves) for treedef, leaves, _ in paired],
        [t for _, _, tangent_leaves in paired for t in tangent_leaves],
    )
    out_leaves, out_def, _ = _run_at_level(trace, function, boxed_args, False, "jvp")
    values = [unbox(leaf, trace) for leaf in out_leaves]
    tangents_out = [trace.tangent(leaf) for leaf in out_leaves]
    tangents_out = [
        _zeros_like(leaf) if tangent is None else to_user(tangent)
        for leaf, tangent in zip(out_leaves, tangents_out, strict=True)
    ]
    return tree_unflatten(out_def, values), tree_unflatten(out_def, tangents_out)


def linearize(function, *primals):
    """(function(*primals), jvp_fn): jvp_fn(*tangents) is the derivative at primals applied to
    tangents. Each call of jvp_fn runs one forward-mode pass of function.

    Returns:
        `(out, jvp_fn)`: out = function(*primals) in its output structure (NumPy arrays, 0-d as
        NumPy scalars); `jvp_fn(*tangents)`, one tangent per primal with its shape, returns
        the tangent of the output in the same structure (as `jvp(function, primals,
        tangents)[1]`).

    Raises:
        InputTypeError: a primal that is not numeric (a string, None).
        DTypeError: a boolean primal; from jvp_fn, a tangent whose dtype differs from its
            primal's.
        ShapeError, TreeStructureError: from jvp_fn, tangents that do not match the primals,
            as in `jvp`.

    Example:
        >>> out, jvp_fn = cr.linearize(cnp.sin, np.array([0.0, 1.0]))
        >>> jvp_fn(np.ones(2))                             # array([1., 0.54030231]): cos(x)
    """
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
    grad): one pass, never forming the Hessian.

    Returns:
        H(x) @ v as an array of x's shape and floating dtype (a NumPy scalar for a scalar x).

    Raises:
        NonScalarOutputError: when function does not return a single number.
        ShapeError: v's shape differs from x's.
        DTypeError: a non-floating output, or v's dtype differs from x's.

    Example:
        >>> cr.hvp(lambda x: cnp.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 0.0]))
        array([6., 0.])
    """
    return jvp(grad(function), (x,), (v,))[1]


def stop_gradient(x):
    """x as a constant: no derivative flows through it at any level (pytrees welcome).

    Returns:
        x's value in x's structure, shapes and dtypes, cut from every transform's graph (a
        Tensor that requires grad comes back detached). Values no transform traces, NumPy
        arrays and numbers, are returned as they are (so are leaves it does not know: it
        raises nothing of its own).

    Example:
        >>> cr.grad(lambda x: x * cr.stop_gradient(x))(3.0)  # 3.0: the second x is a constant
    """

    def constant(leaf):
        if type(leaf) not in TRACED_TYPES:
            return leaf
        return leaf.detach() if leaf._trace.concrete else strip_derivatives(leaf)

    return tree_map(constant, x)
