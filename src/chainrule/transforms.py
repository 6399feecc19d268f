"""Functional transforms (JAX style): grad, value_and_grad, vjp, jvp.

Each call opens a fresh trace level, boxes its inputs there, runs the function, and reads the
derivative off that level only, so transforms nest without confusing their perturbations.
"""

import numbers

import numpy as np

from chainrule.core.dtypes import promote_for_transform
from chainrule.core.forward import ForwardTrace
from chainrule.core.graph import ReverseTrace, backward_pass
from chainrule.core.tensor import Tensor
from chainrule.core.trace import new_level
from chainrule.errors import NonScalarOutputError, ShapeError

__all__ = ["grad", "value_and_grad", "vjp", "jvp"]


def _as_input(value, what):
    """A transform input: Tensors (of any level) pass as they are; the rest become float arrays."""
    if isinstance(value, Tensor):
        return value
    return promote_for_transform(value, what)


def _output_value(out, trace):
    """Strip this trace's box; return plain NumPy for anything untraced below."""
    if isinstance(out, Tensor) and out._trace is trace:
        out = out._value
    return _plain(out)


def _plain(value):
    if isinstance(value, Tensor) and value._node is None and not value.requires_grad and value._tangent is None:
        if value._trace.level == 0:
            return np.asarray(value._value)[()] if np.ndim(value._value) == 0 else value._value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        return np.float64(value)
    return value


def _argnums_tuple(argnums, n_args, what):
    indices = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in indices:
        if not -n_args <= i < n_args:
            raise ValueError(
                f"{what}: argnums={argnums} is out of range for a call with {n_args} positional "
                "argument(s)"
            )
    return tuple(i % n_args for i in indices)


def vjp(function, *primals, has_aux=False):
    """(out, vjp_fn): out = function(*primals), vjp_fn(cotangent) -> one cotangent per primal."""
    trace = ReverseTrace(new_level())
    boxed = [Tensor(_as_input(p, "vjp()"), trace, None, True) for p in primals]
    result = function(*boxed)
    out, aux = result if has_aux else (result, None)
    out_value = _output_value(out, trace)
    out_shape = np.shape(getattr(out_value, "_value", out_value)) if not isinstance(out_value, Tensor) else out_value.shape

    def vjp_fn(cotangent):
        if np.shape(cotangent if not isinstance(cotangent, Tensor) else cotangent._value) != out_shape:
            raise ShapeError(
                f"vjp: the cotangent has shape {np.shape(cotangent)} but the output has shape "
                f"{out_shape}; pass one of the output's shape."
            )
        if not (isinstance(out, Tensor) and out._trace is trace):
            return tuple(_plain(np.zeros_like(np.asarray(_raw(b)))) for b in boxed)
        vertex = out._node if out._node is not None else out
        leaves = backward_pass([(vertex, cotangent)], retain_graph=True)
        return tuple(
            _plain(leaves[id(b)][1]) if id(b) in leaves else _plain(np.zeros_like(_raw(b)))
            for b in boxed
        )

    if has_aux:
        return out_value, vjp_fn, _plain_tree(aux, trace)
    return out_value, vjp_fn


def _raw(value):
    while isinstance(value, Tensor):
        value = value._value
    return value


def _plain_tree(value, trace):
    if isinstance(value, (list, tuple)):
        return type(value)(_plain_tree(v, trace) for v in value)
    if isinstance(value, dict):
        return {k: _plain_tree(v, trace) for k, v in value.items()}
    return _output_value(value, trace)


def value_and_grad(function, argnums=0, has_aux=False):
    """A function returning (function(*args), gradient w.r.t. the args named by argnums)."""

    def value_and_grad_function(*args, **kwargs):
        indices = _argnums_tuple(argnums, len(args), "grad")
        differentiated = [args[i] for i in indices]

        def partial(*inputs):
            full = list(args)
            for i, value in zip(indices, inputs):
                full[i] = value
            return function(*full, **kwargs)

        result = vjp(partial, *differentiated, has_aux=has_aux)
        out, vjp_fn = result[0], result[1]
        shape = np.shape(_raw(out))
        if shape != ():
            raise NonScalarOutputError(
                f"grad(f) requires f to return a scalar; it returned shape {shape}. Use "
                "jacrev(f) for a Jacobian or vjp(f, x) for a vector-Jacobian product."
            )
        grads = vjp_fn(np.ones((), dtype=np.result_type(_raw(out))))
        grads = grads[0] if isinstance(argnums, int) else grads
        if has_aux:
            return (out, result[2]), grads
        return out, grads

    return value_and_grad_function


def grad(function, argnums=0, has_aux=False):
    """The gradient of a scalar-valued function with respect to the arguments named by argnums."""
    value_and_grad_function = value_and_grad(function, argnums, has_aux)

    def grad_function(*args, **kwargs):
        value, grads = value_and_grad_function(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return grad_function


def jvp(function, primals, tangents):
    """(function(*primals), the directional derivative along tangents), in one forward pass."""
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    trace = ForwardTrace(new_level())
    boxed = []
    for primal, tangent in zip(primals, tangents):
        primal = _as_input(primal, "jvp()")
        tangent = _as_input(tangent, "jvp() tangent")
        if np.shape(_raw(tangent)) != np.shape(_raw(primal)):
            raise ShapeError(
                f"jvp: tangent shape {np.shape(_raw(tangent))} does not match primal shape "
                f"{np.shape(_raw(primal))}"
            )
        boxed.append(Tensor(primal, trace, tangent=tangent))
    out = function(*boxed)
    if isinstance(out, Tensor) and out._trace is trace:
        return _plain(out._value), _plain(out._tangent)
    out = _plain(out)
    return out, _plain(np.zeros_like(np.asarray(_raw(out))))
