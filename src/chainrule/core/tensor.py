"""Tensor: the user-facing array that records the operations applied to it.

A Tensor holds a value (a NumPy array, or inside nested transforms a Tensor of a lower trace
level), the `Trace` it belongs to, and either the graph `Node` that produced it (reverse mode)
or its tangent (forward mode). Operators and NumPy's dispatch protocols (NEP-13 ufuncs,
NEP-18 functions) route everything through the primitive registry; what depends on the level
(may the value become a number, can backward start here) is asked of the trace it carries.
"""

import collections
import sys
import warnings
import weakref

import numpy as np

from chainrule.core.dtypes import as_array, check_differentiable, dtype_of, shape_of
from chainrule.core.inplace import note_leaf_overwrite, note_rebind
from chainrule.core.namespace import is_foreign
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, bind, holds_tensor, stack_values
from chainrule.core.trace import (
    batch_traces,
    is_grad_enabled,
    physical_value,
    raw_value,
    strip_derivatives,
)
from chainrule.errors import (
    BatchingError,
    ConcretizationError,
    DTypeError,
    GraphBreakWarning,
    GraphEscapeError,
    InplaceError,
    NonLeafGradWarning,
    ShapeError,
    UnsupportedFunctionError,
)

__all__ = [
    "Tensor", "HANDLED_FUNCTIONS", "HANDLED_UFUNCS", "raw_value", "holds_tensor", "stack_values",
    "cast", "Size", "ValuesIndices", "NonLeafGradWarning", "retained_tensor",
]

# Filled by `chainrule.numpy` at import: NumPy function/ufunc -> chainrule implementation.
HANDLED_FUNCTIONS: dict = {}
HANDLED_UFUNCS: dict = {}


# A list operand (`x * [1, 2]`) becomes an array once, here: derivative rules may keep it as a
# residual and compute with it (`1 / y`), which a Python list cannot do. (A Python complex
# stays a number: NumPy then keeps float32 * 1j in complex64.)
_CONVERTED_OPERANDS = {list, tuple}


def _operand(other, name):
    if holds_tensor(other):
        return stack_values(other)  # x * [y, 1.0]: the list records, so y gets its derivative
    return as_array(other, what=f"{name}()")


def _primitive_method(name):
    def method(self, other):
        if type(other) in _CONVERTED_OPERANDS:
            other = _operand(other, name)
        return bind(REGISTRY[name], self, other)

    method.__name__ = f"__{name}__"
    return method


def _reflected_method(name):
    def method(self, other):
        if type(other) in _CONVERTED_OPERANDS:
            other = _operand(other, name)
        return bind(REGISTRY[name], other, self)

    method.__name__ = f"__r{name}__"
    return method


def _comparison_method(name):
    def method(self, other):
        return bind(REGISTRY[name], self, other)

    return method


class Tensor:
    """An array that remembers how it was computed. Make one with `cr.tensor(...)`.

    `shape` (a tuple), `dtype` (a NumPy dtype) and `ndim` are the value's; `requires_grad`,
    `is_leaf`, `grad_fn` (the graph node, None for a leaf) and `.grad` (filled for leaves by
    `backward()`) say where it sits in the graph. Operators and NumPy functions applied to a
    Tensor return Tensors, recorded when an input requires grad and grad mode is on.

    Returns:
        `backward(gradient=None)` returns None and accumulates into `.grad` of each leaf that
        requires grad a Tensor of that leaf's shape and dtype; `.numpy()` returns the value as
        a read-only NumPy array; `.item()` a Python number.

    Raises:
        NonScalarOutputError: backward() without `gradient` on a tensor of more than one
            element.
        ShapeError: operands whose shapes do not broadcast or multiply; a `gradient` whose
            shape differs from the tensor's; `.item()` of more than one element.
        GraphFreedError: a second backward through the same graph without retain_graph=True.
        InplaceError: an in-place operation on a leaf that requires grad, or a backward
            through a value that an in-place operation changed after it was saved.
        GraphEscapeError: np.asarray(t) of a tensor that requires grad (`float(t)` only warns,
            GraphBreakWarning; `.detach()` or `.numpy()` ask for the constant explicitly).
        IndexOutOfRangeError: an index outside the tensor.
        RuntimeError: backward() on a tensor that does not require grad.

    Example:
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum(); y.backward()
        >>> x.grad                                          # tensor([2., 4.])
    """

    __slots__ = (
        "_value",
        "_trace",
        "_node",
        "_tangent",
        "requires_grad",
        "_grad",
        "_version",
        "name",
        "__weakref__",
    )
    __array_priority__ = 1000.0  # NumPy defers binary operators to Tensor

    def __init__(self, value, trace, node=None, requires_grad=False, tangent=None):
        self._value = value
        self._trace = trace
        self._node = node
        self._tangent = tangent
        self.requires_grad = requires_grad
        self._grad = None
        self._version = 0
        self.name = None

    __hash__ = object.__hash__

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        TRACED_TYPES.add(cls)

    # ----- array facts -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return shape_of(self)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> "Size":
        """NumPy's element count, which PyTorch's `t.size()` / `t.size(dim)` can call for the
        shape / one dimension's length (see `Size`). `t.numel()` is the count as a plain int."""
        return Size(self.shape)

    @property
    def dtype(self):
        return dtype_of(self)

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self):
        """The graph node that produced this tensor (None for leaves and constants)."""
        return self._node

    @property
    def T(self):
        return self.transpose()

    @property
    def mT(self):
        return bind(REGISTRY["transpose"], self, axes=_swap_last_two(self.ndim))

    # The parts of a complex number (PyTorch's spellings): recorded, so they differentiate.
    @property
    def real(self):
        return bind(REGISTRY["real"], self)

    @property
    def imag(self):
        return bind(REGISTRY["imag"], self)

    def conj(self):
        return bind(REGISTRY["conj"], self)

    def angle(self):
        return bind(REGISTRY["arctan2"], self.imag, self.real)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor; use .item() to read its value")
        return self.shape[0]

    def __iter__(self):
        length = len(self)  # raises now, not at the first next(), for a 0-d tensor
        return (self[index] for index in range(length))

    # ----- conversion ----------------------------------------------------------------------------
    # A value on a graph that turns into a plain NumPy array or Python number loses its
    # derivative without a trace: whatever is computed from the number reads as a constant, and
    # the gradient comes out as a silent zero. So (as in PyTorch and JAX) implicit conversions of
    # such values raise; see `_check_conversion` for the exact policy.
    def numpy(self) -> np.ndarray:
        """The value as a read-only NumPy array (no copy); `.numpy().copy()` is writable.

        An explicit request, so it works on Tensor-API tensors that require grad (the result is
        a constant, as with `.detach().numpy()`). Raises ConcretizationError on a value being
        differentiated inside a functional transform."""
        if not self._trace.concrete:
            raise _concretization_error(self, "x.numpy()", "a NumPy array")
        array = np.asarray(raw_value(self)).view()
        array.flags.writeable = False
        return array

    def __array__(self, dtype=None, copy=None):
        # NumPy's conversion protocol: np.asarray(t), np.array([t, u]), a[i:j] = t, and plain
        # numpy functions given a Tensor inside a list all come through here.
        _check_conversion(self, "np.asarray(x)", "a NumPy array")
        array = np.asarray(raw_value(self)).view()
        array.flags.writeable = False
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def item(self):
        """The value of a one-element tensor as a Python number (a constant: it is not on the
        graph). Raises ShapeError for more elements, ConcretizationError inside a transform."""
        array = self._concrete("x.item()", "a Python number")
        if array.size != 1:
            raise ShapeError(
                f".item() on a tensor of shape {array.shape} ({array.size} elements); only a "
                "one-element tensor converts to a Python number. Use .tolist() or .numpy()."
            )
        return array.item()

    def __float__(self):
        return float(self._concrete("float(x)", "a Python float", warn=True))

    def __complex__(self):
        return complex(self._concrete("complex(x)", "a Python complex", warn=True))

    def __int__(self):
        return int(self._concrete("int(x)", "a Python int", warn=True))

    def __index__(self):
        if self._trace.batched:
            raise self._trace.refuse(
                self, "using it as an index or a size (x.__index__(); to index a NumPy array "
                "a with one index per example, write cnp.take(a, i) or cr.tensor(a)[i])"
            )
        return np.asarray(raw_value(self)).__index__()

    def __bool__(self):
        # `if x > 0:` compares first (comparisons are constants); `if x:` on a value is allowed
        # too: control flow picks a branch, and each branch is differentiated as recorded.
        # Under vmap each example would pick its own branch, which Python cannot do.
        if self._trace.batched:
            raise self._trace.refuse(self, "bool(x) (Python control flow such as `if x > 0:`)")
        return bool(raw_value(self))

    def tolist(self):
        """The value as nested Python lists (constants, not on the graph); ConcretizationError
        inside a transform."""
        return self._concrete("x.tolist()", "Python numbers").tolist()

    def _concrete(self, what, into, warn=False, stacklevel=3):
        """The plain value for an explicit conversion: refused inside a transform; under the
        Tensor API `float()`/`int()` warn (their result silently leaves the graph)."""
        if not self._trace.concrete:
            if self._trace.staged:  # cr.jit: the number read becomes a guard of the program
                return np.asarray(self._trace.read(self, what))
            raise _concretization_error(self, what, into)
        if warn and self.requires_grad and is_grad_enabled():
            warnings.warn(
                f"{what} of a tensor that requires grad (shape {self.shape}): the number is "
                "right, but anything computed from it is cut from the graph and gets no "
                "gradient. Use x.detach() (or x.item()) to say you want a constant, or keep "
                "computing with the tensor.",
                GraphBreakWarning,
                stacklevel=stacklevel,
            )
        return np.asarray(raw_value(self))

    def __format__(self, spec):
        # f"{loss:.4f}" formats the number of a one-element tensor; other specs need a number.
        # Printing is not a conversion: it works inside transforms too (under vmap, where each
        # example has its own number, it prints them all, as repr does).
        if self._trace.staged:
            raise self._trace.refuse(self, "formatting (f-string, print)")
        if spec and _batch_trace_in(self) is not None:
            return repr(self)
        if spec and self.size == 1:
            return format(np.asarray(raw_value(self)).item(), spec)
        return format(repr(self), spec)

    def __round__(self, ndigits=None):
        return bind(REGISTRY["round"], self, decimals=ndigits or 0)

    def __reduce__(self):
        """Pickling and copy.deepcopy keep the value, requires_grad and .grad, not the graph
        (a computed tensor comes back as a leaf, as torch.save does)."""
        if not self._trace.concrete:
            raise TypeError(
                "cannot pickle or copy a value traced inside a functional transform; "
                "return it from the transform first."
            )
        return (_rebuild_tensor, (raw_value(self), self.requires_grad, self._grad, self.name))

    def detach(self) -> "Tensor":
        """The same value, cut from the graph (never requires grad). It shares memory with this
        tensor until either is updated in place: chainrule never writes into a buffer two
        tensors share, so `w -= ...` then gives `w` a new array and the detached tensor keeps
        the values it had (PyTorch's detach would see the update)."""
        if self._trace.concrete:
            return Tensor(raw_value(self), self._trace)
        value = strip_derivatives(self)  # inside vmap or jit it stays batched or staged
        return value if type(value) in TRACED_TYPES else Tensor(value, _tape())

    def __str__(self):
        if self._trace.staged:
            raise self._trace.refuse(self, "printing")
        return self.__repr__()

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if requires_grad:
            check_differentiable(self.dtype, "requires_grad_()")
        if self._node is not None and not requires_grad:
            raise InplaceError(
                "requires_grad_(False) on a tensor computed from others; use .detach() instead"
            )
        self.requires_grad = requires_grad
        return self

    def __repr__(self):
        if type(physical_value(self)) in TRACED_TYPES:  # inside cr.jit: no number to show
            var = physical_value(self)._node
            return f"tensor(<staged by cr.jit: {var.name}, shape {self.shape}, {self.dtype}>)"
        value = physical_value(self)  # under vmap: every example, along the leading axes
        if is_foreign(value):  # a Dask array shows its own repr: printing computes nothing
            text = f"tensor({value!r})"
        else:
            text = np.array_repr(np.asarray(value)).replace("\n", "\n ")
            text = "tensor" + text[len("array") :]
        extras = []
        if self._trace.batched:
            extras.append(f"batched by vmap at level {self._trace.level}, shape {self.shape}")
        elif not self._trace.concrete:
            extras.append(f"traced at level {self._trace.level}")
        elif self._node is not None:
            extras.append(f"grad_fn=<{self._node.primitive.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if extras:
            text = text[:-1] + ", " + ", ".join(extras) + ")"
        return text

    # ----- reverse mode ------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad.

        `gradient` is the cotangent to start from; it may be left out for a scalar.
        `retain_graph=True` keeps saved values for another backward; `create_graph=True`
        records the backward pass so that `.grad` can itself be differentiated.
        """
        if gradient is not None and not isinstance(gradient, Tensor):
            gradient = _gradient_array(gradient, self.dtype)
        self._trace.backward(self, gradient, retain_graph, create_graph)

    def zero_grad_(self):
        self.grad = None
        return self

    # ----- operators ---------------------------------------------------------------------------
    __add__ = _primitive_method("add")
    __radd__ = _reflected_method("add")
    __sub__ = _primitive_method("subtract")
    __rsub__ = _reflected_method("subtract")
    __mul__ = _primitive_method("multiply")
    __rmul__ = _reflected_method("multiply")
    __truediv__ = _primitive_method("divide")
    __rtruediv__ = _reflected_method("divide")
    __floordiv__ = _primitive_method("floor_divide")
    __rfloordiv__ = _reflected_method("floor_divide")
    __mod__ = _primitive_method("mod")
    __rmod__ = _reflected_method("mod")
    __pow__ = _primitive_method("power")
    __rpow__ = _reflected_method("power")
    __matmul__ = _primitive_method("matmul")
    __rmatmul__ = _reflected_method("matmul")
    __lt__ = _comparison_method("less")
    __le__ = _comparison_method("less_equal")
    __gt__ = _comparison_method("greater")
    __ge__ = _comparison_method("greater_equal")
    __eq__ = _comparison_method("equal")
    __ne__ = _comparison_method("not_equal")

    def __divmod__(self, other):
        return self // other, self % other

    def __rdivmod__(self, other):
        return other // self, other % self

    def __neg__(self):
        return bind(REGISTRY["negative"], self)

    def __pos__(self):
        return self

    def __abs__(self):
        return bind(REGISTRY["abs"], self)

    def __invert__(self):
        return bind(REGISTRY["logical_not"], self)

    def __and__(self, other):
        return bind(REGISTRY["logical_and"], self, other)

    def __or__(self, other):
        return bind(REGISTRY["logical_or"], self, other)

    def __getitem__(self, key):
        return bind(REGISTRY["getitem"], self, index=raw_index(key))

    # In-place operators keep the graph right by recording an ordinary operation and pointing
    # this tensor at its result; only leaves under no_grad (optimiser steps) change their buffer.
    def _inplace(self, name, other):
        return inplace_update(self, REGISTRY[name], other)

    def __iadd__(self, other):
        return self._inplace("add", other)

    def __isub__(self, other):
        return self._inplace("subtract", other)

    def __imul__(self, other):
        return self._inplace("multiply", other)

    def __itruediv__(self, other):
        return self._inplace("divide", other)

    def __setitem__(self, key, value):
        inplace_setitem(self, raw_index(key), value)

    # ----- NumPy dispatch ----------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        handler = HANDLED_UFUNCS.get(ufunc) if method == "__call__" else None
        if handler is None or kwargs.get("out") is not None:
            if kwargs.get("out") is None and _all_constant((inputs, kwargs)):
                # Detached tensors: NumPy computes on the plain values, as for any array.
                return getattr(ufunc, method)(*_plain_tree(inputs), **_plain_tree(kwargs))
            how = f"{ufunc.__name__}.{method}" if method != "__call__" else ufunc.__name__
            raise UnsupportedFunctionError(_unsupported_message(f"numpy.{how}", kwargs))
        kwargs.pop("out", None)
        if any(type(x) in _CONVERTED_OPERANDS for x in inputs):
            inputs = [_operand(x, ufunc.__name__) if type(x) in _CONVERTED_OPERANDS else x
                      for x in inputs]
        if kwargs:
            return _ufunc_with_options(ufunc, handler, inputs, kwargs)
        return handler(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        handler = HANDLED_FUNCTIONS.get(func)
        if handler is None:
            if _all_constant((args, kwargs)):
                return func(*_plain_tree(args), **_plain_tree(kwargs))
            name = getattr(func, "__module__", "numpy") + "." + func.__name__
            raise UnsupportedFunctionError(_unsupported_message(name.replace("._core", ""), {}))
        return handler(*args, **kwargs)

    # ----- methods mirroring ndarray's (they dispatch like np.<name>) --------------------------
    # Each reduction also takes PyTorch's spellings `dim=` and `keepdim=`. The `dim=` spelling
    # brings PyTorch's meaning where it differs from NumPy's: max/min return (values, indices)
    # and var/std are unbiased (see `_torch_reduction`); positional axes keep NumPy's.
    def sum(self, axis=None, keepdims=False, dtype=None, *, dim=None, keepdim=None):
        axis, keepdims = _reduction_axes("sum", axis, keepdims, dim, keepdim)
        return HANDLED_FUNCTIONS[np.sum](self, axis=axis, keepdims=keepdims, dtype=dtype)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _reduction_axes("mean", axis, keepdims, dim, keepdim)
        return HANDLED_FUNCTIONS[np.mean](self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, ddof=0, keepdims=False, *, dim=None, keepdim=None, unbiased=None,
            correction=None):
        ddof = _ddof("var", ddof, dim, unbiased, correction)
        axis, keepdims = _reduction_axes("var", axis, keepdims, dim, keepdim)
        return HANDLED_FUNCTIONS[np.var](self, axis=axis, ddof=ddof, keepdims=keepdims)

    def std(self, axis=None, ddof=0, keepdims=False, *, dim=None, keepdim=None, unbiased=None,
            correction=None):
        ddof = _ddof("std", ddof, dim, unbiased, correction)
        axis, keepdims = _reduction_axes("std", axis, keepdims, dim, keepdim)
        return HANDLED_FUNCTIONS[np.std](self, axis=axis, ddof=ddof, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _reduction_axes("prod", axis, keepdims, dim, keepdim)
        return HANDLED_FUNCTIONS[np.prod](self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _extremum(self, "max", axis, keepdims, dim, keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _extremum(self, "min", axis, keepdims, dim, keepdim)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _reduction_axes("argmax", axis, keepdims, dim, keepdim)
        return HANDLED_FUNCTIONS[np.argmax](self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        axis, keepdims = _reduction_axes("argmin", axis, keepdims, dim, keepdim)
        return HANDLED_FUNCTIONS[np.argmin](self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None, *, dim=None):
        axis, _ = _reduction_axes("cumsum", axis, False, dim, None)
        return HANDLED_FUNCTIONS[np.cumsum](self, axis=axis)

    def reshape(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        return HANDLED_FUNCTIONS[np.reshape](self, shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """All axes from `start_dim` to `end_dim` (PyTorch's arguments) as one; all by default."""
        if start_dim == 0 and end_dim == -1:
            return self.reshape(-1)
        return self.reshape(_flattened_shape(self.shape, start_dim, end_dim))

    def ravel(self):
        return self.reshape(-1)

    def squeeze(self, axis=None, *, dim=None):
        if dim is not None:  # PyTorch's: a dimension whose length is not 1 stays
            axes = dim if isinstance(dim, (tuple, list)) else (dim,)
            axis = tuple(a for a in axes if self.shape[_dim_index(a, self.ndim)] == 1)
            if not axis:
                return self
        return HANDLED_FUNCTIONS[np.squeeze](self, axis=axis)

    def transpose(self, *axes):
        if len(axes) == 1 and axes[0] is not None and not isinstance(axes[0], int):
            axes = tuple(axes[0])
        return HANDLED_FUNCTIONS[np.transpose](self, axes or None)

    def swapaxes(self, axis1, axis2):
        return HANDLED_FUNCTIONS[np.swapaxes](self, axis1, axis2)

    def astype(self, dtype):
        return cast(self, dtype)

    def clip(self, min=None, max=None):  # noqa: A002 - NumPy's argument names
        return HANDLED_FUNCTIONS[np.clip](self, min, max)

    def dot(self, other):
        return HANDLED_FUNCTIONS[np.dot](self, other)

    def exp(self):
        return bind(REGISTRY["exp"], self)

    def log(self):
        return bind(REGISTRY["log"], self)

    def tanh(self):
        return bind(REGISTRY["tanh"], self)

    def sqrt(self):
        return bind(REGISTRY["sqrt"], self)

    def abs(self):
        return bind(REGISTRY["abs"], self)

    # ----- PyTorch's idioms ------------------------------------------------------------------
    # What PyTorch users type, with PyTorch's meaning; the registry's one-input rows become
    # methods on first use (`t.sin()`, `t.sigmoid()`, `t.sin_()`: see `__getattr__`).
    @property
    def grad(self):
        """The gradient accumulated by `.backward()` (None before). Read on a non-leaf tensor
        that does not `retain_grad()`, it warns, as PyTorch does: it is never filled."""
        grad = self._grad
        if grad is None and self._node is not None and self._trace.concrete:
            if not self.retains_grad:
                warnings.warn(_NON_LEAF_GRAD, NonLeafGradWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value):
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        node = self._node
        if node is None:
            return False
        reference = RETAINED.get(id(node))
        return reference is not None and reference() is self

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in `.grad` after backward (a leaf keeps its
        own anyway), accumulating like a leaf's."""
        if not self._trace.concrete:
            raise RuntimeError(
                "retain_grad() on a value traced inside a functional transform; return the "
                "value from the transform and differentiate with respect to it instead."
            )
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is None:
            return
        key = id(self._node)
        RETAINED[key] = weakref.ref(self, lambda reference: _forget_retained(key, reference))

    @property
    def data(self) -> "Tensor":
        """The value, detached (shares memory, never requires grad). In-place updates of it
        (`t.data.zero_()`, `t.data -= lr * g`, `t.data[0] = 1`) reach `t` unrecorded, and
        `t.data = array` replaces the value (any shape), as in PyTorch."""
        if not self._trace.concrete:
            return self.detach()
        return _DataView(self)

    @data.setter
    def data(self, value):
        if not self._trace.concrete:
            raise InplaceError(
                "assigning .data of a value traced inside a functional transform; compute a "
                "new value and return it instead."
            )
        if isinstance(value, Tensor):
            value = value._concrete("x.data = value", "the tensor's stored value")
        array = as_array(value, what=".data = value")
        if self.requires_grad:
            check_differentiable(array.dtype, ".data = value on a tensor that requires grad")
        self._value = array

    @property
    def device(self) -> str:
        """Always "cpu": chainrule computes with NumPy."""
        return "cpu"

    def numel(self) -> int:
        """The number of elements (an int; also `t.size` as a number, NumPy's spelling)."""
        return int(np.prod(self.shape, dtype=np.int64))

    def dim(self) -> int:
        """The number of dimensions (`t.ndim`)."""
        return len(self.shape)

    def clone(self) -> "Tensor":
        """A copy, recorded (gradients flow back to this tensor), as PyTorch's clone()."""
        return bind(REGISTRY["astype"], self, dtype=self.dtype, copy=True)

    def contiguous(self) -> "Tensor":
        return self  # NumPy handles any layout; nothing to do

    def view(self, *shape):
        """`reshape` (PyTorch's `view(*shape)` or `view(shape)`, -1 allowed). The result is a new
        tensor: in-place updates of it do not reach this one (chainrule never writes into a
        shared buffer), so a view is never needed for that."""
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
            raise TypeError(
                f"view({shape[0]!r}): reinterpreting the bytes as another dtype is not "
                "supported; cast with t.to(dtype) or t.astype(dtype)."
            )
        return self.reshape(*shape)

    def unsqueeze(self, dim):
        """A new axis of length 1 at `dim` (in range [-ndim-1, ndim], as PyTorch's)."""
        ndim = self.ndim
        if not -ndim - 1 <= dim <= ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim - 1}, {ndim}], but "
                f"got {dim})"
            )
        position = dim % (ndim + 1)
        return self.reshape(self.shape[:position] + (1,) + self.shape[position:])

    def permute(self, *dims):
        """The axes reordered: `t.permute(2, 0, 1)` or `t.permute((2, 0, 1))`."""
        if len(dims) == 1 and not isinstance(dims[0], int):
            dims = tuple(dims[0])
        if len(dims) != self.ndim:
            raise ShapeError(
                f"permute{dims}: the number of dims ({len(dims)}) must equal the tensor's "
                f"number of dimensions ({self.ndim})"
            )
        return self.transpose(dims)

    def t(self):
        """PyTorch's t(): the transpose of a tensor of at most 2 dimensions."""
        if self.ndim > 2:
            raise ShapeError(
                f"t() expects a tensor with <= 2 dimensions, but got {self.ndim}; use "
                "t.mT (the last two axes) or t.permute(...)."
            )
        return self.transpose()

    # Casts are recorded (to a floating dtype), as PyTorch's; a cast to the tensor's own dtype
    # returns the tensor itself, as PyTorch's `.to` and `.float()` do.
    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """`t.to(dtype)`, `t.to("cpu")`, `t.to(other_tensor)`, `t.to(device, dtype)`."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif _is_device(arg):
                device = arg
            else:
                dtype = arg
        if device is not None:
            _check_device(device, "t.to(...)")
        if dtype is None:
            return self.clone() if copy else self
        return _cast_method(self, dtype, copy)

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        _check_device("cuda", "t.cuda()")

    def float(self):  # noqa: A003 - PyTorch's method name
        return _cast_method(self, np.float32)

    def double(self):
        return _cast_method(self, np.float64)

    def half(self):
        return _cast_method(self, np.float16)

    def long(self):
        return _cast_method(self, np.int64)

    def int(self):  # noqa: A003 - PyTorch's method name
        return _cast_method(self, np.int32)

    def bool(self):  # noqa: A003 - PyTorch's method name
        return _cast_method(self, np.bool_)

    # ----- math methods PyTorch has beside the registry's rows -------------------------------
    def add(self, other, *, alpha=1):
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def pow(self, exponent):
        return self**exponent

    def neg(self):
        return -self

    def matmul(self, other):
        return self @ other

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return self.clip(min, max)

    # The rows and NumPy functions below are those chainrule.numpy's composites use (core may
    # not import that layer): cnp.relu, cnp.softmax, cnp.log_softmax, cnp.logsumexp.
    def relu(self):
        # Gradient 0 at 0, as PyTorch's; NaN stays NaN (the fused row of ops/nn.py).
        return bind(REGISTRY["relu"], self)

    def softmax(self, dim=None, *, axis=None):
        axes = _axes_tuple(_one_axis("softmax", axis, dim), self.ndim)
        return bind(REGISTRY["softmax"], self, axis=axes)

    def log_softmax(self, dim=None, *, axis=None):
        axes = _axes_tuple(_one_axis("log_softmax", axis, dim), self.ndim)
        return bind(REGISTRY["log_softmax"], self, axis=axes)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        axis, keepdims = _reduction_axes("logsumexp", axis, keepdims, dim, keepdim)
        if self.numel() == 0:  # log 0 = -inf, as cnp.logsumexp; the fused row needs a max
            with np.errstate(divide="ignore"):
                return self.exp().sum(axis=axis, keepdims=keepdims).log()
        axes = _axes_tuple(axis, self.ndim)
        return bind(REGISTRY["logsumexp"], self, axis=axes, keepdims=keepdims)

    def norm(self, p="fro", dim=None, keepdim=False, *, axis=None, keepdims=False):
        """PyTorch's norm: the p-norm of the elements over `dim` (all of them by default, a
        matrix too: 2 / "fro" is then the Frobenius norm); p="nuc" over two dims."""
        axis, keepdims = _reduction_axes("norm", axis, keepdims, dim, keepdim)
        norm = HANDLED_FUNCTIONS[np.linalg.norm]
        if p == "nuc":
            return norm(self, "nuc", axis=axis if axis is not None else (-2, -1),
                        keepdims=keepdims)
        order = 2 if p == "fro" or p is None else p
        if self.ndim == 0:
            return norm(self.reshape(1), order, axis=0)
        axes = _axes_tuple(axis, self.ndim)
        if len(axes) == 1:
            return norm(self, order, axis=axes[0], keepdims=keepdims)
        # Several dims: the vector norm of all the elements they hold, as PyTorch's.
        kept = tuple(a for a in range(self.ndim) if a not in axes)
        merged = self.transpose(kept + axes).reshape(
            tuple(self.shape[a] for a in kept) + (-1,)
        )
        result = norm(merged, order, axis=-1)
        if keepdims:
            result = result.reshape(tuple(1 if a in axes else n for a, n in enumerate(self.shape)))
        return result

    def round(self, decimals=0):  # noqa: A003 - NumPy's and PyTorch's method name
        return bind(REGISTRY["round"], self, decimals=decimals)

    # ----- in-place updates (PyTorch's trailing underscore) ----------------------------------
    # Under the rules of `t += u`: recorded on a computed tensor; on a leaf that requires grad
    # only under `cr.no_grad()` (an optimiser step, an initialisation).
    def zero_(self):
        return self._update_(lambda tensor: _filled(tensor, 0), "zero_")

    def fill_(self, value):
        return self._update_(lambda tensor: _filled(tensor, value), "fill_")

    def copy_(self, source):
        """This tensor's values replaced by `source`'s (broadcast, cast to this dtype); the
        gradient flows to `source`, as PyTorch's copy_."""
        return self._update_(lambda tensor: _filled(tensor, source), "copy_")

    def _update_(self, compute, operation):
        if self._trace.concrete and self._node is None and self.requires_grad:
            if is_grad_enabled():
                raise InplaceError(
                    f"{operation}() on a leaf tensor of shape {self.shape} that requires grad "
                    "would lose its gradient history (PyTorch: 'a leaf Variable that requires "
                    "grad is being used in an in-place operation'); wrap it in `with "
                    "cr.no_grad():` (as optimisers and initialisers do), or call it on .data."
                )
            return _overwrite_leaf(self, raw_value(compute(self)), operation)
        result = compute(self)
        if dtype_of(result) != self.dtype:
            result = cast(result, self.dtype)
        _rebind(self, result, operation)
        return self

    def __getattr__(self, name):
        # Only names not found the ordinary way come here: the registry's rows as methods,
        # installed on the class at first use, and the in-place form of any of them.
        method = _generated_method(name)
        if method is None:
            raise AttributeError(_missing_attribute_message(name))
        return method.__get__(self, type(self))

    def __dir__(self):
        _install_row_methods()
        return super().__dir__()


_CONVERSION_FIXES = (
    "Compute with chainrule.numpy (import chainrule.numpy as cnp) instead of numpy or math; "
    "build arrays from values with cnp.stack([...]) (lists of tensors given to cnp functions "
    "are stacked for you), or write into a chainrule buffer (B = cr.tensor(np.zeros(n)); "
    "B[i] = x) rather than a NumPy array"
)


def _concretization_error(value, what, into):
    batching = _batch_trace_in(value)
    if batching is not None:  # vmap's reason comes first: no single value exists at all
        return batching.refuse(value, what)
    if value._trace.staged:
        return value._trace.refuse(value, what)
    return ConcretizationError(
        f"{what} on a value being differentiated (shape {value.shape}, dtype {value.dtype}, "
        f"traced at level {value._trace.level}): inside a functional transform (cr.grad, "
        f"cr.jvp, cr.jacrev, ...) it stands for a variable, so it has no single number, and "
        f"turning it into {into} would drop its derivative (a silently wrong gradient). "
        f"{_CONVERSION_FIXES}. If you mean a constant, say so with cr.stop_gradient(x). "
        "Comparisons work as they are: `if x > 0:` is fine."
    )


def _batch_trace_in(value):
    """The innermost vmap level among `value`'s levels, or None."""
    traces = batch_traces(value)
    return traces[0] if traces else None


def _check_conversion(value, what, into):
    """Refuse an implicit conversion that would cut `value` from a graph: always inside a
    transform; in the Tensor API when it requires grad and grad mode is on. Constants,
    .detach()ed tensors and anything under no_grad() convert freely."""
    if not value._trace.concrete:
        raise _concretization_error(value, what, into)
    if value.requires_grad and is_grad_enabled():
        raise GraphEscapeError(
            f"{what} on a tensor that requires grad (shape {value.shape}, dtype {value.dtype}) "
            f"would turn it into {into} behind chainrule's back (NumPy's __array__ protocol: "
            "np.asarray, np.array([t, u]), writing it into a NumPy array, plain numpy "
            f"functions), and its gradient would silently be lost. {_CONVERSION_FIXES}. For "
            "the value alone, use t.detach() or t.numpy() (a constant), or convert under "
            "`with cr.no_grad():`."
        )


def _swap_last_two(ndim):
    if ndim < 2:
        raise ShapeError(f".mT needs at least 2 dimensions, got {ndim}")
    axes = list(range(ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return tuple(axes)


# Ufunc keywords whose NumPy defaults change nothing; any other value is refused.
_NEUTRAL_UFUNC_OPTIONS = {
    "casting": "same_kind", "order": "K", "subok": True, "where": True, "signature": None,
}


def _ufunc_with_options(ufunc, handler, inputs, kwargs):
    """`np.exp(t, dtype=np.float32)`: compute in `dtype` by casting the array inputs first.
    Options that would change what is computed (where=, signature=...) are refused."""
    dtype = kwargs.pop("dtype", None)
    for option, value in kwargs.items():
        neutral = _NEUTRAL_UFUNC_OPTIONS.get(option, _NO_DEFAULT)
        if not (value is neutral or (isinstance(value, (str, bool)) and value == neutral)):
            hint = " and select afterwards with np.where(mask, result, other)" * (option == "where")
            raise UnsupportedFunctionError(
                f"numpy.{ufunc.__name__}(..., {option}=...) is not supported on chainrule "
                f"Tensors; call numpy.{ufunc.__name__} without {option}={hint}."
            )
    if dtype is not None:
        dtype = np.dtype(dtype)
        inputs = [cast(x, dtype) if isinstance(x, (Tensor, np.ndarray)) else x for x in inputs]
    return handler(*inputs)


_NO_DEFAULT = object()


def _gradient_array(gradient, dtype):
    """backward(gradient=...) given as a list or array: a plain array in the output's dtype."""
    array = as_array(gradient, what="backward(gradient=...)")
    if np.dtype(dtype).kind == "f" and array.dtype != dtype:
        array = array.astype(dtype)
    return array


def cast(value, dtype):
    """`value.astype(dtype)`, recorded when the result is floating point. A cast to integers or
    booleans is piecewise constant, so its result is a constant, never differentiated."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc" or not isinstance(value, Tensor):
        return bind(REGISTRY["astype"], value, dtype=dtype)
    if dtype_of(value).kind == "c":
        raise DTypeError(
            f"astype({dtype}) of a complex tensor would drop its imaginary part; take "
            "cnp.real(z), cnp.imag(z) or cnp.abs(z) first."
        )
    if _batch_trace_in(value) is not None:  # a constant, but one per example under vmap
        return bind(REGISTRY["astype"], strip_derivatives(value), dtype=dtype)
    plain = np.asarray(raw_value(value)).astype(dtype)
    return Tensor(plain, value._trace) if value._trace.concrete else plain


def _tape():
    # The Tensor API's level. core/tape.py builds on this module, so it is looked up here, on
    # the two rare paths that make a tape constant from elsewhere.
    from chainrule.core.tape import TAPE

    return TAPE


def _rebuild_tensor(value, requires_grad, grad, name):
    rebuilt = Tensor(value, _tape(), None, requires_grad)
    rebuilt.grad = grad
    rebuilt.name = name
    return rebuilt


def _all_constant(tree) -> bool:
    """Whether every Tensor in (nested lists/tuples/dicts of) arguments is a plain constant:
    on the tape, not requiring grad, so no derivative can be asked of a NumPy result."""
    pending = [tree]
    while pending:
        item = pending.pop()
        if isinstance(item, Tensor):
            if item.requires_grad or not item._trace.concrete:
                return False
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
    return True


def _plain_tree(tree):
    """Arguments with each Tensor replaced by its value (lists, tuples and dicts rebuilt)."""
    if isinstance(tree, Tensor):
        return raw_value(tree)
    if isinstance(tree, list):
        return [_plain_tree(item) for item in tree]
    if isinstance(tree, tuple):
        return tuple(_plain_tree(item) for item in tree)
    if isinstance(tree, dict):
        return {key: _plain_tree(value) for key, value in tree.items()}
    return tree


def _unsupported_message(name, kwargs):
    if kwargs.get("out") is not None:
        return (
            f"{name}(..., out=...) would write into an array behind chainrule's back; "
            "call it without out= and use the returned Tensor."
        )
    # chainrule.numpy, a layer above, knows its names and refusals: it sets `.status_of`.
    status_of = getattr(_unsupported_message, "status_of", None)
    status = (
        "Use the function from chainrule.numpy if it exists there." if status_of is None
        else status_of(name.removeprefix("numpy."))
    )
    return (
        f"{name} is not supported on chainrule Tensors that carry derivatives (it has no "
        f"derivative rule). {status} To compute on the plain value without gradients, call "
        ".detach() first."
    )

TRACED_TYPES.add(Tensor)


def raw_index(key):
    """An index with every Tensor in it replaced by its constant value (indices are never
    differentiated): a plain array, or under `cr.vmap` a batched one (each example picks its own
    entries; `bind` then applies the indexing at that vmap level)."""
    if isinstance(key, Tensor):
        return strip_derivatives(key)
    if isinstance(key, tuple):
        return tuple(strip_derivatives(k) if isinstance(k, Tensor) else k for k in key)
    if isinstance(key, list):
        if any(isinstance(k, Tensor) for k in key):
            return strip_derivatives(stack_values(key))  # x[[i, j]] with tensors i, j
        return key
    return key


def inplace_update(target: Tensor, primitive, other) -> Tensor:
    """`target op= other`, keeping derivatives right (see `Tensor._inplace`)."""
    if target._trace.concrete and target._node is None and target.requires_grad:
        if is_grad_enabled():
            raise InplaceError(
                f"in-place {primitive.name} on a leaf tensor of shape {target.shape} that "
                "requires grad would lose its gradient history; wrap the update in "
                "`with cr.no_grad():` (as optimisers do) or use an out-of-place operation."
            )
        operand = _leaf_update_value(other, primitive.name)
        if _update_in_place(target, primitive.ufunc, operand):
            return target
        new_value = primitive.impl(target._value, operand)
        return _overwrite_leaf(target, new_value, primitive.name)
    result = bind(primitive, target, other)
    _rebind(target, result, primitive.name)
    return target


def inplace_setitem(target: Tensor, index, value) -> None:
    if target._trace.concrete and target._node is None and target.requires_grad:
        if is_grad_enabled():
            raise InplaceError(
                f"x[...] = value on a leaf tensor of shape {target.shape} that requires grad "
                "would lose its gradient history; do it under `with cr.no_grad():`, or build "
                "a new tensor with cr.numpy.where / concatenate."
            )
        updated = np.array(target._value, copy=True)
        updated[index] = _leaf_update_value(value, "setitem")
        _overwrite_leaf(target, updated, "setitem")
        return
    result = bind(REGISTRY["setitem"], target, value, index=index)
    _rebind(target, result, "setitem")


def _leaf_update_value(other, operation):
    """The plain value an update of a leaf under no_grad writes (an optimiser step). A value
    being differentiated by a transform cannot be written there: it would land as a constant."""
    if type(other) in TRACED_TYPES and not other._trace.concrete:
        raise _concretization_error(
            other, f"in-place {operation} of a leaf tensor that requires grad, under no_grad(),",
            "the leaf's stored value"
        )
    return raw_value(other)


def _references_of_a_local() -> int:
    """What sys.getrefcount reports for an object that one local variable alone holds: 2 on
    CPython 3.11 (the variable and the call's argument); an interpreter that lends the argument
    without counting it reports less. The baseline of the ownership checks below."""
    value = object()
    return sys.getrefcount(value)


_HELD_BY_A_LOCAL = _references_of_a_local()


def _geterr_may_raise() -> bool:
    handling = np.geterr().values()
    return "raise" in handling or "call" in handling or "log" in handling


try:  # NumPy 2 keeps np.errstate's state in a context variable: reading it costs 40 ns, where
    # np.geterr() costs 0.8 us (a tenth of a small parameter's update)
    from numpy._core.umath import _extobj_contextvar as _ERROR_STATE
except ImportError:  # pragma: no cover - another NumPy: np.geterr() every time
    _ERROR_STATE = None
# The state at import when it raises nowhere (NumPy's default): while the variable still holds
# that object, nothing changed it; any np.errstate or np.seterr since puts another object there.
_QUIET_STATE = (_ERROR_STATE.get() if _ERROR_STATE is not None and not _geterr_may_raise()
                else object())


def _errors_may_raise() -> bool:
    """Whether a floating-point error in NumPy may raise right now: its handling raises, calls
    or logs (np.errstate, np.seterr), or a warnings filter turns NumPy's RuntimeWarning into an
    exception (`-W error`, warnings.simplefilter("error")). Either way NumPy raises after
    writing its output."""
    if (_ERROR_STATE is None or _ERROR_STATE.get() is not _QUIET_STATE) and _geterr_may_raise():
        return True
    for action, _, category, _, _ in warnings.filters:  # a handful of entries
        if action == "error" and issubclass(RuntimeWarning, category):
            return True
    return False


def _update_in_place(target, ufunc, operand) -> bool:
    """`target op= operand` on a leaf under no_grad written into the leaf's own buffer, as
    PyTorch's optimiser steps do (no new array: on a large layer, a fresh buffer's page faults
    cost as much as the arithmetic). Only when nothing else can see that buffer: chainrule owns
    its memory (not a view of a user's array), and no reference to it exists but the tensor's,
    so no node saved it, no `.numpy()` view or detached tensor shares it (each holds a reference;
    a view holds its base). Otherwise, or when the result would not fit the buffer (broadcast to
    a larger shape, a kind of dtype that does not cast), False: a new array is made."""
    value = target._value
    # References: the tensor's slot and `value` here (and getrefcount's own, counted in the
    # baseline), nothing else.
    if ufunc is None or type(value) is not np.ndarray or (
        sys.getrefcount(value) != _HELD_BY_A_LOCAL + 1
    ):
        return False
    flags = value.flags
    if not (flags.owndata and flags.writeable):
        return False
    if _errors_may_raise():
        # Under np.errstate(...="raise"), NumPy raises after writing part of `out`: the copy
        # keeps the leaf as it was when the update fails.
        return False
    if np.shape(operand) != value.shape and np.ndim(operand) > value.ndim:
        return False
    try:
        # same_kind: float64 arithmetic rounded into a float32 leaf, as the copy's cast does
        ufunc(value, operand, out=value, casting="same_kind")
    except (TypeError, ValueError):  # nothing was written: NumPy checks before it computes
        return False
    target._version += 1
    return True


def _overwrite_leaf(target, new_value, operation):
    new_value = np.asarray(new_value, dtype=target.dtype)
    if np.shape(new_value) != target.shape:
        raise ShapeError(
            f"in-place update of a tensor of shape {target.shape} with a result of shape "
            f"{np.shape(new_value)}; in-place operations cannot change a tensor's shape."
        )
    old_value, old_version = target._value, target._version
    target._value = new_value
    target._version += 1
    # Lets backward refuse nodes that saved the old buffer (version-counter check). When
    # nothing but this frame holds the old buffer (`old_value` alone), no node saved it and
    # there is nothing to note: an optimiser step after backward() has released the graph
    # skips the bookkeeping and its stack walk (~2 us of an SGD update's 7).
    if sys.getrefcount(old_value) > _HELD_BY_A_LOCAL:
        note_leaf_overwrite(target, old_value, old_version, operation)
    return target


def _rebind(target, result, operation):
    if target._trace.staged:
        target._trace.check_inplace(target, operation)
    if not isinstance(result, Tensor) or result._trace.level < target._trace.level:
        result = Tensor(result, target._trace)
    if result._trace is not target._trace and result._trace.batched:
        # Under vmap the result holds one value per example; the tensor holds one value. (As
        # torch.func.vmap, this refuses rather than pick an example or change the shape.)
        raise BatchingError(
            f"in-place {operation} of an unbatched tensor (shape {target.shape}) with a value "
            f"batched by cr.{result._trace.name} ({result._trace.size} examples): each example "
            "would write its own value into the one tensor. Compute out of place "
            "(`total = total + x`), or start from a batched value inside the vmapped function "
            "(`total = 0.0 * x`)."
        )
    if shape_of(result) != target.shape:
        raise ShapeError(
            f"in-place update of a tensor of shape {target.shape} with a result of shape "
            f"{result.shape}; in-place operations cannot change a tensor's shape."
        )
    if result._trace is not target._trace:
        # `total += x` inside a transform, `total` made outside it: the tensor now holds a
        # value of the transform's level, as the Tensor API would record it. The level takes
        # note, so the tensor is moved back down when the transform returns.
        result._trace.adopt(target)
    old_node, old_version = target._node, target._version
    _take_fields(target, result)
    target._version += 1
    if old_node is not None or result._node is not None:
        # Lets backward refuse nodes that saved the replaced value (version-counter check).
        note_rebind(target, old_node, result._node, old_version, operation)


def _take_fields(target, source):
    """Make `target` hold what `source` holds (value, level, node or tangent)."""
    target._value = source._value
    target._trace = source._trace
    target._node = source._node
    target._tangent = source._tangent
    target.requires_grad = source.requires_grad


# ----- PyTorch's idioms: helpers ------------------------------------------------------------------

_NON_LEAF_GRAD = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during backward() (PyTorch's warning). A step written "
    "`w = w - lr * w.grad` outside no_grad makes w a new tensor computed from the old one; "
    "update the leaf in place instead: `with cr.no_grad(): w -= lr * w.grad`. If you do want "
    "this tensor's gradient, call .retain_grad() on it before backward()."
)

# id(node) -> weak reference to the non-leaf tensor whose `.retain_grad()` asked for the
# cotangent reaching that node; the tape's backward fills `.grad` from it (core/tape.py).
RETAINED: dict = {}


def _forget_retained(key, reference):
    if RETAINED.get(key) is reference:
        del RETAINED[key]


def retained_tensor(node):
    """The tensor that retains the gradient of `node`'s output, or None."""
    reference = RETAINED.get(id(node))
    tensor = reference() if reference is not None else None
    return tensor if tensor is not None and tensor._node is node else None


class Size(int):
    """`t.size`: NumPy's element count (an int: `t.size == 6`, `np.zeros(t.size)`), which PyTorch
    users can call: `t.size()` is the shape (a tuple), `t.size(dim)` one dimension's length.
    Both libraries' meanings at once, so neither kind of code breaks."""

    def __new__(cls, shape):
        count = super().__new__(cls, int(np.prod(shape, dtype=np.int64)))
        count.shape = shape
        return count

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        return self.shape[_dim_index(dim, len(self.shape))]

    def __reduce__(self):  # pickles as the number it is
        return (int, (int(self),))


def _dim_index(dim, ndim):
    """A PyTorch dimension index (negative counts from the end) as a non-negative int."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
            f"{max(ndim, 1) - 1}], but got {dim})"
        )
    return dim % max(ndim, 1)


def _reduction_axes(method, axis, keepdims, dim, keepdim):
    """`axis`/`keepdims` (NumPy's spelling) or `dim`/`keepdim` (PyTorch's): one of each."""
    if dim is not None:
        if axis is not None:
            raise TypeError(
                f"{method}() got both axis= and dim=: they are one argument (NumPy's and "
                "PyTorch's spelling); pass one of them."
            )
        axis = tuple(dim) if isinstance(dim, list) else dim
    return axis, bool(keepdims or keepdim)


def _axes_tuple(axis, ndim):
    """`axis` (None, an int, a tuple or list) as the sorted tuple of non-negative axes the
    reduction rows take (as cnp's normalize_axes); IndexError out of range."""
    if axis is None:
        return tuple(range(ndim))
    given = axis if isinstance(axis, (tuple, list)) else (axis,)
    axes = tuple(_dim_index(a, ndim) for a in given)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"repeated axis in {axis}")
    return () if ndim == 0 else tuple(sorted(axes))


def _one_axis(method, axis, dim):
    if axis is not None and dim is not None:
        raise TypeError(f"{method}() got both axis= and dim=; pass one of them.")
    axis = dim if axis is None else axis
    return -1 if axis is None else axis


def _ddof(method, ddof, dim, unbiased, correction):
    """The delta degrees of freedom of var/std: NumPy's `ddof` (0 by default), or PyTorch's
    `correction=` / `unbiased=`; with PyTorch's `dim=` spelling the default is PyTorch's, 1."""
    given = [name for name, value in (("unbiased", unbiased), ("correction", correction))
             if value is not None]
    if len(given) > 1 or (given and ddof != 0):
        raise TypeError(f"{method}(): pass one of ddof=, correction= and unbiased=")
    if correction is not None:
        return correction
    if unbiased is not None:
        return int(bool(unbiased))
    return 1 if dim is not None and ddof == 0 else ddof


def _extremum(tensor, name, axis, keepdims, dim, keepdim):
    """t.max / t.min: NumPy's reduction; (values, indices) with PyTorch's dim=; and t.max(u),
    PyTorch's elementwise maximum (minimum) of two tensors."""
    if isinstance(axis, Tensor):
        return bind(REGISTRY["maximum" if name == "max" else "minimum"], tensor, axis)
    if dim is not None:
        return _values_and_indices(tensor, name, axis, dim, keepdims, keepdim)
    reduction = np.max if name == "max" else np.min
    return HANDLED_FUNCTIONS[reduction](tensor, axis=axis, keepdims=keepdims or bool(keepdim))


def _values_and_indices(tensor, method, axis, dim, keepdims, keepdim):
    """t.max(dim=d) / t.min(dim=d): PyTorch's (values, indices) pair."""
    if axis is not None:
        raise TypeError(f"{method}() got both axis= and dim=; pass one of them.")
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(
            f"{method}(dim=...) takes one dimension (PyTorch's); for several axes use "
            f"{method}(axis=(...)), NumPy's spelling, which returns the values alone."
        )
    keep = bool(keepdims or keepdim)
    reduce, arg = (np.max, np.argmax) if method == "max" else (np.min, np.argmin)
    values = HANDLED_FUNCTIONS[reduce](tensor, axis=dim, keepdims=keep)
    indices = HANDLED_FUNCTIONS[arg](tensor, axis=dim, keepdims=keep)
    return ValuesIndices(values, indices)


ValuesIndices = collections.namedtuple("ValuesIndices", ["values", "indices"])


def _flattened_shape(shape, start_dim, end_dim):
    ndim = len(shape)
    if ndim == 0:
        return (1,)
    start, end = _dim_index(start_dim, ndim), _dim_index(end_dim, ndim)
    if start > end:
        raise ShapeError(
            f"flatten(start_dim={start_dim}, end_dim={end_dim}): start_dim cannot come after "
            "end_dim"
        )
    merged = int(np.prod(shape[start : end + 1], dtype=np.int64))
    return shape[:start] + (merged,) + shape[end + 1 :]


_DEVICES = {"cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "vulkan", "ipu", "hpu", "mtia"}


def _is_device(arg) -> bool:
    return isinstance(arg, str) and arg.split(":")[0] in _DEVICES


def _check_device(device, what="device="):
    """Refuse any device but the CPU (None, 'cpu', 'cpu:0' pass), naming `what` asked."""
    if device is None:
        return
    name = str(device) if isinstance(device, str) else str(getattr(device, "type", device))
    if name.split(":")[0] != "cpu":
        raise ValueError(
            f"{what} asked for device {str(device)!r}: chainrule computes with NumPy on the CPU "
            "only. Drop the device (or pass 'cpu'); for another dtype pass it alone, "
            "t.to(np.float32). On a GPU, chainrule's functions and Tensors run on CuPy arrays "
            "(pip install 'chainrule[cupy]')."
        )


def _cast_method(tensor, dtype, copy=False):
    dtype = np.dtype(dtype)
    if dtype == tensor.dtype:
        return tensor.clone() if copy else tensor
    return cast(tensor, dtype)


def _filled(tensor, value):
    """`value` broadcast to `tensor`'s shape and cast to its dtype, recorded so that a
    derivative of a Tensor `value` flows (zero to `tensor` itself, as PyTorch's fill_/copy_)."""
    everywhere = np.ones(tensor.shape, dtype=bool)
    if not isinstance(value, Tensor):
        value = np.asarray(value, dtype=tensor.dtype)
    return bind(REGISTRY["where"], everywhere, value, tensor)


class _DataView(Tensor):
    """`t.data`: a detached tensor holding `t`'s value, whose in-place updates also replace the
    value of `t` (unrecorded, as PyTorch's `.data` writes are)."""

    __slots__ = ("_owner",)

    def __init__(self, owner):
        super().__init__(raw_value(owner), owner._trace)
        self._owner = owner

    def _write_back(self):
        owner = self._owner
        owner._value = np.asarray(raw_value(self)).astype(owner.dtype, copy=False)
        return self

    def _inplace(self, name, other):
        super()._inplace(name, other)
        return self._write_back()

    def _update_(self, compute, operation):
        super()._update_(compute, operation)
        return self._write_back()

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self._write_back()


# Registry rows installed as methods so far (a row defined later is installed at its first use).
_installed_rows: set = set()
# PyTorch's in-place forms (`t.add_(u)`, `t.clamp_(0, 1)`, `t.sin_()`) of these methods, and of
# every row method.
_INPLACE_BASES = {"add", "sub", "mul", "div", "pow", "neg", "clamp", "clip", "relu", "round",
                  "abs", "exp", "log", "tanh", "sqrt"}


def _row_arity(primitive):
    if primitive.ufunc is not None:
        return primitive.ufunc.nin
    vjps = primitive.vjps
    return len(vjps) if isinstance(vjps, tuple) and vjps else None


def _row_method(primitive, name):
    def method(self):
        return bind(primitive, self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"`cnp.{name}(t)` as a method (the registry's row {primitive.name!r})."
    return method


def _install_row_methods():
    """Every one-input registry row, under each of its `names`, as a method (`t.sin()`,
    `t.sigmoid()`, `t.isnan()`); a name the class already has keeps its method."""
    for primitive in list(REGISTRY.values()):
        if primitive.name in _installed_rows:
            continue
        _installed_rows.add(primitive.name)
        if _row_arity(primitive) != 1:
            continue
        for name in primitive.names:
            if not hasattr(Tensor, name):
                setattr(Tensor, name, _row_method(primitive, name))
                _INPLACE_BASES.add(name)


def _inplace_method(base):
    def method(self, *args, **kwargs):
        return self._update_(lambda tensor: getattr(tensor, base)(*args, **kwargs), base + "_")

    method.__name__ = method.__qualname__ = base + "_"
    method.__doc__ = f"`t.{base}(...)` written into `t` (PyTorch's in-place form)."
    return method


def _generated_method(name):
    if name.startswith("_"):
        return None
    if len(_installed_rows) != len(REGISTRY):
        _install_row_methods()
        if name in vars(Tensor):
            return vars(Tensor)[name]
    base = name[:-1]
    if name.endswith("_") and base in _INPLACE_BASES:
        method = _inplace_method(base)
        setattr(Tensor, name, method)
        return method
    return None


# PyTorch names we spell differently: the AttributeError says ours.
_OUR_SPELLING = {
    "expand": "cnp.broadcast_to(t, shape)",
    "expand_as": "cnp.broadcast_to(t, other.shape)",
    "repeat": "cnp.tile(t, reps)",
    "masked_fill": "cnp.where(mask, value, t)",
    "type_as": "t.astype(other.dtype)",
    "index_select": "cnp.take(t, indices, axis=dim)",
    "gather": "cnp.take_along_axis(t, indices, axis=dim)",
    "new_zeros": "cr.zeros(shape, dtype=t.dtype)",
    "new_ones": "cr.ones(shape, dtype=t.dtype)",
    "new_tensor": "cr.tensor(data, dtype=t.dtype)",
    "chunk": "cnp.array_split(t, chunks, axis=dim)",
    "split": "cnp.split(t, sections, axis=dim)",
    "transpose_": "t = t.transpose(...)",
    "backward_hook": "cr.custom_vjp",
    "register_hook": "t.retain_grad() (then read .grad), or cr.custom_vjp for a custom rule",
    "is_cuda": "nothing: chainrule runs on the CPU (t.device == 'cpu')",
    "normal_": "`with cr.no_grad(): t.copy_(cr.randn(*t.shape, rng=...))`",
    "uniform_": "`with cr.no_grad(): t.copy_(cr.rand(*t.shape, rng=...))`",
    "detach_": "t = t.detach()",
}


def _missing_attribute_message(name):
    message = f"'Tensor' object has no attribute {name!r}"
    if name in _OUR_SPELLING:
        message += f"; chainrule's spelling: {_OUR_SPELLING[name]}"
    return message
