"""Forward mode: a level whose values carry (primal, tangent) pairs.

`ForwardTrace.process` computes the primal at the levels below and pushes tangents through each
primitive's JVP rules in the same pass. A value with no tangent at this level is a constant
here (a symbolic zero, None), so untouched inputs cost nothing; a zero-derivative primitive
(floor, sign) makes a constant too. Zeros are made only where a user sees a tangent.
"""

import numpy as np

from chainrule.core.backward import fit
from chainrule.core.dtypes import aval, dtype_of, shape_of
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, ZERO, bind, residuals_of
from chainrule.core.tensor import Tensor
from chainrule.core.trace import Trace, physical_value

__all__ = ["ForwardTrace"]


class ForwardTrace(Trace):
    __slots__ = ()

    def box(self, value, tangent):
        return Tensor(value, self, tangent=tangent)

    def tangent(self, value):
        """The tangent of `value` at this level: None (a symbolic zero) for a constant here."""
        return value._tangent if self.owns(value) else None

    def split(self, args):
        """(primals, tangents) of `args` at this level; None marks a constant (no tangent)."""
        primals = []
        tangents = []
        for arg in args:
            if type(arg) in TRACED_TYPES and arg._trace is self:  # self.owns(arg): per-op path
                primals.append(arg._value)
                tangents.append(arg._tangent)
            else:
                primals.append(arg)
                tangents.append(None)
        return primals, tangents

    def process(self, primitive, args, params):
        primals, tangents = self.split(args)
        out = bind(primitive, *primals, **params)
        if primitive.nondiff:
            return out
        if primitive.linear:
            tangent = self._linear_tangent(primitive, primals, tangents, params)
        else:
            tangent = self._tangent(primitive, primals, tangents, out, params)
        if tangent is None:
            return out
        return Tensor(out, self, tangent=fit(tangent, aval(out), primitive.name))

    @staticmethod
    def _linear_tangent(primitive, primals, tangents, params):
        if all(t is None for t in tangents):
            return None
        # A constant operand's tangent is zero: for an elementwise primitive the number 0.0
        # serves (it broadcasts), elsewhere an array of its shape.
        filled = [
            t if t is not None
            else 0.0 if primitive.pointwise else np.zeros(shape_of(p), dtype_of(p))
            for p, t in zip(primals, tangents)
        ]
        return bind(primitive, *filled, **params)

    @staticmethod
    def _tangent(primitive, primals, tangents, out, params):
        residuals = None
        total = None
        for index, tangent in enumerate(tangents):
            if tangent is None:
                continue
            rule = primitive.jvps[index]
            if rule is ZERO:
                continue
            if residuals is None:
                residuals = residuals_of(primitive, primals, out)
            contribution = rule(tangent, *residuals, **params)
            if contribution is None:
                continue
            if total is None:
                total = contribution
            elif not _added_in_place(total, contribution, tangents):
                total = bind(REGISTRY["add"], total, contribution)
        return total




# Below this many entries an in-place sum saves less than its checks cost.
_IN_PLACE_FROM = 4096


def _added_in_place(total, contribution, tangents) -> bool:
    """The product rule's sum d(x y) = dx y + x dy added into the first term's array, when that
    array is a temporary only this sum can see: a batch of tangents under jacfwd/hessian (vmap
    of a JVP) whose arrays hold one value per basis direction, where the sum's own array would
    be one more batch-sized allocation (each 1.3 MB for a 400x400 Hessian). Only plain arrays
    one level down (nothing below records them), of the result's shape and dtype, sharing no
    memory with the input tangents (a rule may hand back its tangent itself, or a view of it)."""
    if type(total) not in TRACED_TYPES or type(contribution) not in TRACED_TYPES:
        return False
    trace = total._trace
    if not trace.batched or contribution._trace is not trace:
        return False
    first, second = total._value, contribution._value
    if type(first) is not np.ndarray or type(second) is not np.ndarray or (
        first.size < _IN_PLACE_FROM or first.base is not None or not first.flags.writeable
    ):
        return False
    if first.shape != second.shape or first.dtype != second.dtype:
        return False  # (the common case; broadcasting ones are left to `add`)
    for tangent in tangents:
        if type(tangent) in TRACED_TYPES and np.may_share_memory(first, physical_value(tangent)):
            return False
    np.add(first, second, out=first)
    return True
