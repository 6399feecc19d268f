"""The tape: reverse-mode levels and the recorder, the Tensor API's level 0, leaf constructors.

`ReverseTrace.process` computes a primitive's value one level down and, when an input is
differentiated at its level, records a `Node` (core/backward.py) holding only the residuals its
VJP rules need. `TAPE` is the level every Tensor made by `cr.tensor` lives on; `.backward()` on
one of its tensors runs the backward pass and accumulates `.grad`.
"""

import operator

import numpy as np

from chainrule.core.anomaly import annotate
from chainrule.core.anomaly import switch as _anomaly
from chainrule.core.backward import Node, _input_cotangents, backward_pass
from chainrule.core.dtypes import as_array, aval, check_differentiable, dtype_of
from chainrule.core.explain import NUMPY_ERRORS, explain_failure, is_numeric_dtype
from chainrule.core.namespace import NATIVE_TYPES, is_foreign, like, namespace_of, numpy_dtype
from chainrule.core.primitive import REGISTRY, TRACED_TYPES, apply_impl, bind
from chainrule.core.tensor import (
    HANDLED_FUNCTIONS,
    RETAINED,
    Tensor,
    _check_device,
    _take_fields,
    retained_tensor,
)
from chainrule.core.trace import Trace, _grad_mode, raw_value
from chainrule.errors import InputTypeError, NonScalarOutputError, ShapeError

__all__ = [
    "ReverseTrace", "TapeTrace", "TAPE", "tensor", "as_tensor", "release_level",
    "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like", "arange", "rand",
    "randn", "cat", "stack",
]

_NO_PARAMS: dict = {}

# While cr.jit stages a function, the dicts its staging levels keep of the Tensor-API tensors
# the function reads ({id: (tensor, version, id of its array)}): a replay checks that none of
# them changed since (an optimiser's step, load_state_dict), and traces again if one did,
# since whatever was computed from them at trace time is part of the program. Empty otherwise.
tape_watchers: list = []


def watch_tensor(tensor):
    for seen in tape_watchers:
        if id(tensor) not in seen:
            seen[id(tensor)] = (tensor, tensor._version, id(tensor._value))


class ReverseTrace(Trace):
    """A reverse-mode level: records nodes. Level 0 (`TAPE`) is the Tensor API's tape."""

    __slots__ = ()

    def owns(self, value) -> bool:
        # At the tape only tensors that require grad (and what is computed from them) are
        # differentiated; at a transform's level every box requires grad.
        return type(value) in TRACED_TYPES and value._trace is self and value.requires_grad

    def box(self, value):
        return Tensor(value, self, None, True)

    def process(self, primitive, args, params):
        """Apply `primitive` one level down and, when an argument is differentiated here,
        record a Node. Every Tensor-API operation comes through here, so `owns` is spelled
        inline, and the tape (nothing below it) calls the NumPy implementation itself."""
        # At the tape every traced argument is on the tape (bind chose the innermost level, and
        # none is below it) and holds a plain array: neither needs asking per argument.
        on_tape = not self.level
        values = []
        parents = []
        avals = []
        record = False
        foreign = False
        for arg in args:
            if type(arg) in TRACED_TYPES and (on_tape or arg._trace is self):
                value = arg._value
                if type(value) not in NATIVE_TYPES and on_tape:
                    foreign = foreign or is_foreign(value)  # a Dask or CuPy array on the tape
                values.append(value)
                if arg.requires_grad:
                    node = arg._node
                    parents.append(node if node is not None else arg)
                    avals.append((value.shape, value.dtype) if on_tape and not foreign
                                 else aval(value))
                    record = True
                    continue
            else:
                operand = _as_operand(arg)
                if on_tape and type(operand) not in NATIVE_TYPES:
                    foreign = foreign or is_foreign(operand)
                values.append(operand)
            parents.append(None)
            avals.append(None)
        if on_tape:  # its results stay Tensors, and under no_grad() it records nothing
            if tape_watchers:
                for arg in args:
                    if type(arg) in TRACED_TYPES:
                        watch_tensor(arg)
            if foreign:
                out = apply_impl(primitive, values, params, True)
            else:  # NumPy's values: the implementation itself, no extra call on the hot path
                try:
                    out = primitive.impl(*values, **params)
                except NUMPY_ERRORS as exc:
                    raise explain_failure(primitive.name, values, exc)  # noqa: B904 (cause set)
            if primitive.nondiff or not (record and _grad_mode.enabled):
                return Tensor(out, self)
        else:
            out = bind(primitive, *values, **params)
            if primitive.nondiff or not record:
                return out
        node = Node(primitive, params or _NO_PARAMS, tuple(parents), primitive.pick(values, out),
                    tuple(avals))
        if _anomaly.enabled:
            annotate(node)
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
        if value._trace.concrete and not value.requires_grad:
            if tape_watchers:
                watch_tensor(value)
            return value._value
        if value._node is not None or value._tangent is not None:
            return Tensor(value._value, value._trace, value._node, value.requires_grad,
                          value._tangent)
    return value


_REAL_SCALARS = {np.float64, np.float32, np.float16}


def _seed_cotangent(output, gradient):
    """The cotangent backward() starts from. A complex output's `gradient` is PyTorch's
    (conjugate Wirtinger) one; the backward pass works in JAX's convention, its conjugate."""
    value = raw_value(output)
    if gradient is None and type(value) in _REAL_SCALARS:
        return value.dtype.type(1)  # a real loss: the common case, without the checks below
    shape = output.shape
    if np.iscomplexobj(value):
        if gradient is None:
            raise NonScalarOutputError(
                f"backward() on a complex tensor (shape {shape}, dtype {value.dtype}) needs a "
                "`gradient` argument, as in PyTorch: a gradient is implicitly 1 only for a real "
                "output. Differentiate a real function of it (cnp.abs(z) ** 2, z.real) or pass "
                "gradient=..."
            )
        if np.shape(raw_value(gradient)) == shape:
            return bind(REGISTRY["conj"], gradient)
    if gradient is None and is_foreign(value):
        return like(np.ones(shape, dtype_of(value)), value)  # seeded in the output's library
    if gradient is None:
        if shape != () and int(np.prod(shape, dtype=np.int64)) != 1:
            raise NonScalarOutputError(
                f"backward() on a tensor of shape {shape} needs a `gradient` argument of that "
                "shape (the vector in the vector-Jacobian product); or reduce it to a scalar "
                "first, e.g. y.sum().backward()."
            )
        one = dtype_of(value).type(1)
        return one if shape == () else np.ones(shape, type(one))  # one element: as PyTorch
    gradient_shape = np.shape(raw_value(gradient))
    if gradient_shape != shape:
        raise ShapeError(
            f"backward(gradient=...) got a gradient of shape {gradient_shape} for an output of "
            f"shape {shape}; they must match."
        )
    return gradient


class TapeTrace(ReverseTrace):
    """Level 0, the Tensor API's tape: its values are numbers (they convert to NumPy and Python
    freely), nothing lies below it, it records only while grad mode is on, and `.backward()`
    walks its graph from a tensor."""

    __slots__ = ()
    concrete = True

    def unbox(self, value):
        return value  # nothing below the tape: its tensors stay, and it keeps recording

    def recording(self) -> bool:
        return _grad_mode.enabled

    def adopt(self, tensor):
        pass  # nothing to move back down to

    def backward(self, output, gradient, retain_graph, create_graph):
        """Tensor.backward(): accumulate into `.grad` of every leaf that requires grad."""
        if not output.requires_grad:
            why = (
                " Gradients are off in this thread right now (inside no_grad(), or after "
                "cr.set_grad_enabled(False) called as a function, which stays in force): "
                "cr.set_grad_enabled(True) turns them back on, before computing the loss."
                if not _grad_mode.enabled else ""
            )
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input it was computed from "
                "has requires_grad=True (or it was computed under no_grad()). Create inputs with "
                "cr.tensor(..., requires_grad=True)." + why
            )
        seed = _seed_cotangent(output, gradient)
        if not create_graph:
            seed = raw_value(seed)
        vertex = output._node if output._node is not None else output
        previous_mode = _grad_mode.enabled
        _grad_mode.enabled = bool(create_graph)  # record the backward pass only for create_graph
        try:
            leaves = backward_pass(
                [(vertex, seed)], retain_graph=retain_graph or create_graph,
                record_on=self if create_graph else None,
                node_vjp=_retaining_vjp if RETAINED else None,
            )
            for leaf, cotangent in leaves.values():
                if not leaf.requires_grad:
                    continue
                if cotangent is None:  # reached through zero derivatives only
                    cotangent = np.zeros(leaf.shape, leaf.dtype)
                value = leaf._value
                native = type(value) is np.ndarray
                if (value.dtype.kind == "c") if native else np.iscomplexobj(value):
                    # PyTorch's convention for .grad (conjugate Wirtinger): the conjugate of
                    # the pass's cotangent, so that z -= lr * z.grad descends.
                    cotangent = bind(REGISTRY["conj"], cotangent)
                if type(cotangent) not in TRACED_TYPES:
                    cotangent = Tensor(cotangent if native else like(cotangent, value), self)
                previous = leaf._grad  # (a leaf's .grad: the property's checks are for non-leaves)
                leaf._grad = cotangent if previous is None else previous + cotangent
        finally:
            _grad_mode.enabled = previous_mode


TAPE = TapeTrace(0)


def _retaining_vjp(node, cotangent, record_on):
    """The ordinary VJP call, which first hands the cotangent reaching `node` to the tensor
    that `retain_grad()` asked for it (accumulated into its `.grad` as a leaf's is)."""
    retained = retained_tensor(node)
    if retained is not None:
        grad = cotangent
        if np.iscomplexobj(raw_value(grad)):
            grad = bind(REGISTRY["conj"], grad)  # PyTorch's convention, as for leaves
        if type(grad) not in TRACED_TYPES:
            grad = Tensor(np.asarray(grad), TAPE)
        previous = retained._grad
        retained._grad = grad if previous is None else previous + grad
    return _input_cotangents(node, cotangent, record_on)


# ----- leaf constructors --------------------------------------------------------------------------
def tensor(data, requires_grad=False, dtype=None, device=None) -> Tensor:
    """Make a Tensor from a number, (nested) list or NumPy array. The data is copied, so later
    changes to your array do not reach the tensor (use `cr.as_tensor` to share memory).

    Returns:
        A leaf Tensor of data's shape; its dtype is `dtype` if given, else NumPy's for the data
        (a Python float gives float64, an int int64, a bool bool; arrays keep theirs). A
        Tensor as data gives a new leaf with a copy of its value.

    Raises:
        InputTypeError: data that is not numeric: a string, None, an object array, a ragged
            list.
        DTypeError: requires_grad=True with a dtype that is not floating (real or complex).
        ConcretizationError: data being differentiated inside a functional transform (a
            Tensor that requires grad gives a GraphBreakWarning: the new leaf is a constant).
        ValueError: a `device` other than the CPU (None and "cpu" are accepted, for code
            written for PyTorch).

    Example:
        >>> x = cr.tensor([1.0, 2.0], requires_grad=True)   # float64, shape (2,)
        >>> (x * x).sum().backward(); x.grad                # tensor([2., 4.])
    """
    if device is not None:
        _check_device(device, "cr.tensor(..., device=)")
    if type(data) is float and dtype is None:  # the common scalar case, kept cheap
        return Tensor(np.array(data), TAPE, None, bool(requires_grad))
    return _make_tensor(data, requires_grad, dtype, copy=True)


def as_tensor(data, requires_grad=False, dtype=None, device=None) -> Tensor:
    """Like `tensor`, but shares memory with a NumPy array when it can. chainrule never writes
    into it; changing it yourself afterwards changes the tensor too.

    Returns:
        A leaf Tensor as `tensor` gives, sharing memory with `data` when it is a NumPy array
        of the requested dtype (otherwise converted, as np.asarray would).

    Raises:
        InputTypeError, DTypeError, ConcretizationError, ValueError: as `tensor`.

    Example:
        >>> a = np.zeros(3); t = cr.as_tensor(a)
        >>> a[0] = 5.0; t                                   # tensor([5., 0., 0.])
    """
    if device is not None:
        _check_device(device, "cr.as_tensor(..., device=)")
    return _make_tensor(data, requires_grad, dtype, copy=False)


def _make_tensor(data, requires_grad, dtype, copy):
    if isinstance(data, Tensor):
        # A new leaf from a tensor's value (torch.tensor(t) likewise): refused for a value being
        # differentiated, a warning for one that requires grad (use .detach() to say so).
        data = data._concrete("cr.tensor(x)", "a new leaf tensor", warn=True, stacklevel=4)
    array = as_array(data, dtype=dtype)
    foreign = is_foreign(array)
    if copy and not foreign:
        array = array.copy()
    elif copy and type(array).__module__.split(".")[0] != "dask":  # Dask arrays never change
        array = namespace_of(array).asarray(array, copy=True)
    if requires_grad:
        check_differentiable(numpy_dtype(array.dtype) if foreign else array.dtype)
    return Tensor(array, TAPE, None, bool(requires_grad))


# PyTorch's constructors. Floating point defaults to float64 (PyTorch's default is float32):
# chainrule follows NumPy, where float64 is every array's default, so a tensor made here mixes
# with NumPy arrays and Python floats without promotion or loss, and finite-difference checks
# have the precision they need. Pass dtype=np.float32 for PyTorch's.
def zeros(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    """`cr.zeros(2, 3)` or `cr.zeros((2, 3))`: a leaf of zeros (float64 unless `dtype`).

    Returns:
        A leaf Tensor of shape `size`, dtype `dtype` or float64.

    Raises:
        DTypeError: requires_grad=True with a dtype that is not floating (real or complex).
        InputTypeError: a dtype (or fill value) that is not numeric: a string, bytes, object.
        ValueError: a device other than "cpu", or a negative length.
        TypeError: a size that is not ints (or one sequence of ints).

    Example:
        >>> cr.zeros(2, 3, requires_grad=True).shape        # (2, 3)
    """
    return _leaf("zeros", np.zeros(_shape(size), dtype or np.float64), requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    """`cr.ones(2, 3)` or `cr.ones((2, 3))`: a leaf of ones (float64 unless `dtype`).

    Returns:
        A leaf Tensor of shape `size`, dtype `dtype` or float64.

    Raises:
        DTypeError: requires_grad=True with a dtype that is not floating (real or complex).
        InputTypeError: a dtype (or fill value) that is not numeric: a string, bytes, object.
        ValueError: a device other than "cpu", or a negative length.
        TypeError: a size that is not ints (or one sequence of ints).

    Example:
        >>> cr.ones((2, 3), dtype=np.float32).dtype         # dtype('float32')
    """
    return _leaf("ones", np.ones(_shape(size), dtype or np.float64), requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A leaf whose values are whatever memory held (as PyTorch's and NumPy's empty).

    Returns:
        A leaf Tensor of shape `size` (`cr.empty(2, 3)` or `cr.empty((2, 3))`), dtype `dtype`
        or float64, its values unset.

    Raises:
        DTypeError: requires_grad=True with a dtype that is not floating (real or complex).
        InputTypeError: a dtype (or fill value) that is not numeric: a string, bytes, object.
        ValueError: a device other than "cpu", or a negative length.
        TypeError: a size that is not ints (or one sequence of ints).

    Example:
        >>> buffer = cr.empty(4, 3)                         # fill it before reading it
    """
    return _leaf("empty", np.empty(_shape(size), dtype or np.float64), requires_grad, device)


def full(size, fill_value, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A leaf of `fill_value`; its dtype follows the value (bool, int64, float64) unless given.

    Returns:
        A leaf Tensor of shape `size` (an int or a tuple of ints) filled with fill_value.

    Raises:
        DTypeError: requires_grad=True with a dtype that is not floating (real or complex).
        InputTypeError: a dtype (or fill value) that is not numeric: a string, bytes, object.
        ValueError: a device other than "cpu", or a negative length.
        TypeError: a size that is not an int or a sequence of ints.

    Example:
        >>> cr.full((2, 2), 0.5, requires_grad=True)        # float64; cr.full(3, 7) is int64
    """
    return _leaf("full", np.full(_shape((size,)), fill_value, dtype), requires_grad, device)


def zeros_like(input, *, dtype=None, requires_grad=False, device=None) -> Tensor:  # noqa: A002
    """A leaf of zeros shaped like `input` (a Tensor, array or number).

    Returns:
        A new leaf Tensor of input's shape and dtype (or `dtype`); it never requires grad
        unless requires_grad=True, whatever input does.

    Raises:
        DTypeError: requires_grad=True with a dtype that is not floating (real or complex).
        InputTypeError: a dtype (or fill value) that is not numeric: a string, bytes, object.
        ValueError: a device other than "cpu".

    Example:
        >>> cr.zeros_like(np.ones((2, 3), np.float32)).dtype  # dtype('float32')
    """
    shape, like = _aval_of(input)
    return _leaf("zeros_like", np.zeros(shape, dtype or like), requires_grad, device)


def ones_like(input, *, dtype=None, requires_grad=False, device=None) -> Tensor:  # noqa: A002
    """A leaf of ones shaped like `input` (a Tensor, array or number).

    Returns:
        A new leaf Tensor of input's shape and dtype (or `dtype`); an integer input gives
        integer ones.

    Raises:
        DTypeError: requires_grad=True with a dtype that is not floating (real or complex).
        InputTypeError: a dtype (or fill value) that is not numeric: a string, bytes, object.
        ValueError: a device other than "cpu".

    Example:
        >>> cr.ones_like(cr.tensor([1.0, 2.0]))             # tensor([1., 1.])
    """
    shape, like = _aval_of(input)
    return _leaf("ones_like", np.ones(shape, dtype or like), requires_grad, device)


def full_like(input, fill_value, *, dtype=None, requires_grad=False, device=None) -> Tensor:  # noqa: A002
    """A leaf of `fill_value` shaped like `input` (a Tensor, array or number).

    Returns:
        A new leaf Tensor of input's shape and dtype (or `dtype`): fill_value is cast to it,
        so 2.5 in an integer input's dtype is 2.

    Raises:
        DTypeError: requires_grad=True with a dtype that is not floating (real or complex).
        InputTypeError: a dtype (or fill value) that is not numeric: a string, bytes, object.
        ValueError: a device other than "cpu".

    Example:
        >>> cr.full_like(np.zeros(3), 0.5)                  # tensor([0.5, 0.5, 0.5])
    """
    shape, like = _aval_of(input)
    return _leaf("full_like", np.full(shape, fill_value, dtype or like), requires_grad, device)


def arange(start, end=None, step=1, *, dtype=None, requires_grad=False, device=None) -> Tensor:
    """`cr.arange(5)`, `cr.arange(1, 2, 0.25)`: integers for integer arguments (int64, as
    PyTorch and NumPy), else float64, unless `dtype`.

    Returns:
        A 1-d leaf Tensor of the values start, start + step, ... before end (NumPy's arange),
        int64 for integer arguments, float64 otherwise, unless `dtype`.

    Raises:
        DTypeError: requires_grad=True with integer values (pass float arguments or a dtype).
        ValueError: a device other than "cpu".

    Example:
        >>> cr.arange(1, 2, 0.25)                           # tensor([1.  , 1.25, 1.5 , 1.75])
    """
    if end is None:
        start, end = 0, start
    return _leaf("arange", np.arange(start, end, step, dtype=dtype), requires_grad, device)


def rand(*size, rng=None, dtype=None, requires_grad=False, device=None, generator=None) -> Tensor:
    """Uniform on [0, 1). `rng`: a seed (int) or a `numpy.random.Generator`; None draws fresh.

    Returns:
        A leaf Tensor of shape `size` (`cr.rand(2, 3)` or `cr.rand((2, 3))`), dtype `dtype` or
        float64, drawn with NumPy's `Generator.random`.

    Raises:
        TypeError: generator= (PyTorch's; pass rng= instead), or a size that is not ints.
        DTypeError: requires_grad=True with a dtype that is not floating.
        InputTypeError: a dtype that is not numeric.
        ValueError: a device other than "cpu".

    Example:
        >>> cr.rand(2, 3, rng=0)                            # the same values for seed 0
    """
    values = _random_generator(rng, generator, "rand").random(_shape(size))
    return _leaf("rand", values.astype(dtype or np.float64, copy=False), requires_grad, device)


def randn(*size, rng=None, dtype=None, requires_grad=False, device=None, generator=None) -> Tensor:
    """Standard normal. `rng`: a seed (int) or a `numpy.random.Generator`; None draws fresh.

    Returns:
        A leaf Tensor of shape `size` (`cr.randn(2, 3)` or `cr.randn((2, 3))`), dtype `dtype`
        or float64, drawn with NumPy's `Generator.standard_normal`.

    Raises:
        TypeError: generator= (PyTorch's; pass rng= instead), or a size that is not ints.
        DTypeError: requires_grad=True with a dtype that is not floating.
        InputTypeError: a dtype that is not numeric.
        ValueError: a device other than "cpu".

    Example:
        >>> w = cr.randn(784, 10, rng=np.random.default_rng(0), requires_grad=True)
    """
    values = _random_generator(rng, generator, "randn").standard_normal(_shape(size))
    return _leaf("randn", values.astype(dtype or np.float64, copy=False), requires_grad, device)


def cat(tensors, dim=0, *, axis=None) -> Tensor:
    """PyTorch's cat: `cnp.concatenate(tensors, axis=dim)`, recorded.

    Returns:
        The inputs joined along the existing axis `dim` (`axis` is accepted as its NumPy
        name): a Tensor when any input is one (a NumPy array for NumPy inputs), in their
        promoted dtype.

    Raises:
        ShapeError: no inputs, shapes that differ outside `dim`, or `dim` out of range.
        TypeError: both dim and axis given.

    Example:
        >>> cr.cat([cr.ones(1, 2), cr.zeros(1, 2)], dim=1).shape   # (1, 4)
    """
    return HANDLED_FUNCTIONS[np.concatenate](list(tensors), axis=_dim_or_axis(dim, axis))


def stack(tensors, dim=0, *, axis=None) -> Tensor:
    """PyTorch's stack: `cnp.stack(tensors, axis=dim)`, recorded.

    Returns:
        The inputs joined along a new axis `dim` (`axis` is accepted as its NumPy name):
        shape (..., len(tensors), ...), a Tensor when any input is one (a NumPy array for
        NumPy inputs), in their promoted dtype.

    Raises:
        ShapeError: no inputs, inputs of different shapes, or `dim` out of range.
        TypeError: both dim and axis given.

    Example:
        >>> cr.stack([cr.ones(2), cr.zeros(2)]).shape        # (2, 2)
    """
    return HANDLED_FUNCTIONS[np.stack](list(tensors), axis=_dim_or_axis(dim, axis))


def _shape(size):
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        size = tuple(size[0])  # cr.zeros((2, 3)), cr.zeros([2, 3]), cr.zeros(t.size())
    return tuple(operator.index(length) for length in size)


def _aval_of(value):
    if isinstance(value, Tensor):
        return value.shape, value.dtype
    array = np.asarray(value)
    return array.shape, array.dtype


def _leaf(what, array, requires_grad, device):
    if device is not None:
        _check_device(device, f"cr.{what}(..., device=)")
    if not is_numeric_dtype(array.dtype):  # cr.zeros(3, dtype="U3"): not a tensor of numbers
        raise InputTypeError(
            f"cr.{what}() would make an array of dtype {array.dtype}: a Tensor holds numbers "
            "(bool, integer, floating or complex). Pass a numeric dtype (np.float32) or "
            "numeric fill values."
        )
    if requires_grad:
        check_differentiable(array.dtype)
    return Tensor(array, TAPE, None, bool(requires_grad))


def _random_generator(rng, generator, what):
    if generator is not None:
        raise TypeError(
            f"cr.{what}(..., generator=...): chainrule draws with NumPy; pass rng= (a seed or a "
            "numpy.random.Generator) instead."
        )
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _dim_or_axis(dim, axis):
    if axis is not None and dim != 0:
        raise TypeError("got both dim= and axis=: they are one argument; pass one of them.")
    return dim if axis is None else axis


def release_level(trace, outputs):
    """End of a transform's level: every tensor from outside that an in-place operation moved
    onto `trace` is moved back to the value one level down (a constant at the Tensor-API level,
    or a value of the enclosing transform, which adopts it in turn). `outputs` (a list of the
    transform's output leaves) is returned with such tensors replaced by copies that keep this
    level, so the transform can still read their derivatives."""
    adopted = trace.adopted
    if not adopted:
        return outputs
    trace.adopted = None
    moved = {id(tensor) for tensor in adopted}
    outputs = [_snapshot(leaf) if id(leaf) in moved else leaf for leaf in outputs]
    for tensor in adopted:
        if tensor._trace is not trace:
            continue
        inner = tensor._value
        if type(inner) in TRACED_TYPES:
            _take_fields(tensor, inner)
            inner._trace.adopt(tensor)
        else:
            tensor._trace, tensor._node, tensor._tangent = TAPE, None, None
            tensor.requires_grad = False
        tensor._version += 1
    return outputs


def _snapshot(tensor):
    copy = Tensor(tensor._value, tensor._trace, tensor._node, tensor.requires_grad,
                  tensor._tangent)
    copy.name = tensor.name
    return copy
