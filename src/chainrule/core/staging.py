"""The staging level behind `cr.jit`: primitive applications recorded as a flat program.

`cr.jit` boxes a function's inputs at a `StagingTrace`. Every primitive that reaches the level
(directly, or from the rules of the transforms opened above it: a `grad` inside `jit` binds its
VJP rules on staged values too) is computed as usual, so the first call has its answer, and is
appended to a `Program` as an `Equation` on `Var`s, abstract values that know their shape and
dtype. transforms/jit.py simplifies the program and replays it as generated NumPy code.

Staging is concrete (each value is computed while it is recorded), which is what lets Python
control flow work: when user code or the engine reads a staged value's number (`if x > 0:`,
`float(x)`, a boolean mask), the level records a `Guard` holding the value seen. A replay checks
every guard where it stands in the program; if one fails, the recorded branch is not the one
this call would take, and the function is traced again for it (transforms/jit.py). So a branch
is never baked in silently. What a replay cannot repeat at all is refused with StagingError:
NumPy functions without a rule (np.asarray of a staged value), printing or writing one,
mutating an input in place, and staged values used after their function returned.
"""

import numbers

import numpy as np

from chainrule.core import backward as _backward
from chainrule.core import tape as _tape
from chainrule.core.anomaly import describe_source, user_source
from chainrule.core.explain import NUMPY_ERRORS, explain_failure
from chainrule.core.primitive import TRACED_TYPES
from chainrule.core.tensor import Tensor
from chainrule.core.trace import Trace, is_grad_enabled
from chainrule.errors import StagingError

__all__ = [
    "StagingTrace", "Program", "Var", "Equation", "Guard", "Note", "Captured", "MustInline",
    "is_literal",
]


class Var:
    """One value of a staged program: its shape and dtype (an abstract value) and its name in
    the generated source. `role` is "input", "captured" or None (computed)."""

    __slots__ = ("id", "shape", "dtype", "role", "name", "inplace", "epoch", "array0d", "weak")

    def __init__(self, ident, shape, dtype, role=None, array0d=False, weak=False):
        self.id = ident
        self.shape = tuple(shape)
        self.dtype = dtype
        self.array0d = array0d  # a 0-d ndarray when traced (not a NumPy scalar)
        # A Python number (an argument passed as 2.0): weakly typed as in NumPy 2, so float32
        # arrays times it stay float32. The generated code keeps it a Python number.
        self.weak = weak
        self.role = role
        self.name = f"v{ident}"
        self.inplace = None  # in-place bookkeeping reads these slots (core/inplace.py)
        self.epoch = 0

    def __repr__(self):
        return f"{self.name}:{self.dtype}{list(self.shape)}"


class Equation:
    """out = primitive(*inputs, **params). An input is a Var, a literal (a Python or NumPy
    number, None, ...) or a `Captured` array; an indexed primitive's `index` param may hold
    Vars. `note` says where it came from (the VJP of which primitive), for the source."""

    __slots__ = ("primitive", "inputs", "params", "out", "note")

    def __init__(self, primitive, inputs, params, out, note=None):
        self.primitive = primitive
        self.inputs = inputs
        self.params = params
        self.out = out
        self.note = note

    def __repr__(self):
        return f"{self.out} = {self.primitive.name}{tuple(self.inputs)}"


class Guard:
    """A value the traced Python code read (a branch taken, a number, a mask): a replay must
    see the same value here, else the function is traced again. `source` is the user's line."""

    __slots__ = ("var", "expected", "source", "what")

    def __init__(self, var, expected, source, what):
        self.var = var
        self.expected = expected
        self.source = source
        self.what = what

    def describe(self) -> str:
        return f"{self.what} at {describe_source(self.source)}"


class Note:
    """A comment in the generated source (where a backward pass begins)."""

    __slots__ = ("text",)

    def __init__(self, text):
        self.text = text


class Captured:
    """An array the function read from outside rather than from its arguments: a NumPy array
    it closes over, or a Tensor-API tensor that does not require grad (a model's parameter in
    eval code). A replay reads it again, so later changes to it (an optimiser's step) are seen,
    as they would be without jit."""

    __slots__ = ("value", "tensor", "var")

    def __init__(self, value, tensor, var):
        self.value = value  # the array (for a tensor: read from tensor._value at each call)
        self.tensor = tensor
        self.var = var

    def current(self):
        return self.value if self.tensor is None else self.tensor._value


class Program:
    """inputs (Vars), a body of Equations, Guards and Notes in execution order, outputs (Vars
    or literals), and the arrays captured from outside."""

    __slots__ = ("inputs", "body", "outputs", "captured", "name", "tensors_read", "copied")

    def __init__(self, name="f"):
        self.tensors_read = {}  # Tensor-API tensors read: {id: (tensor, version, id(array))}
        self.copied = frozenset()  # output positions returned as copies (see simplify)
        self.inputs = []
        self.body = []
        self.outputs = []
        self.captured = []
        self.name = name

    @property
    def equations(self):
        return [item for item in self.body if type(item) is Equation]

    @property
    def guards(self):
        return [item for item in self.body if type(item) is Guard]

    def __repr__(self):
        return (f"<Program {self.name}: {len(self.inputs)} inputs, {len(self.equations)} "
                f"equations, {len(self.guards)} guards>")


class MustInline(Exception):  # noqa: N818 - a signal to cr.jit, not an error users see
    """Staging stopped because the function reads a value differentiated outside it (a
    tensor that requires grad, or a value traced by an enclosing transform it closes over):
    staging would turn it into a constant and lose its derivative, so cr.jit runs the function
    as plain Python instead."""


_PYTHON_NUMBERS = {float, int, bool, complex}

_LITERAL_TYPES = (bool, int, float, complex, str, bytes, type(None), type(Ellipsis), slice,
                  np.dtype)


def is_literal(value) -> bool:
    """Whether `value` is an immutable constant the program may hold as it is (and fold)."""
    if isinstance(value, (np.generic, *_LITERAL_TYPES)) or isinstance(value, type):
        return True
    if type(value) is tuple:
        return all(is_literal(item) for item in value)
    return False


class StagingTrace(Trace):
    """`cr.jit`'s level. Its values are Tensors whose `_value` is this call's array and whose
    `_node` is their `Var`."""

    __slots__ = ("program", "_count", "_captured_ids", "closed", "_note")

    staged = True
    intercepts = True

    def __init__(self, level, name="f"):
        super().__init__(level)
        self.program = Program(name)
        self._count = 0
        self._captured_ids = {}
        self.closed = False
        self._note = None

    # ----- values ----------------------------------------------------------------------------
    def _new_var(self, value, role=None):
        self._count += 1
        dtype = getattr(value, "dtype", None)
        if dtype is None:
            dtype = np.result_type(value)
        array0d = type(value) is np.ndarray and value.ndim == 0
        weak = type(value) in _PYTHON_NUMBERS
        return Var(self._count, np.shape(value), dtype, role, array0d, weak)

    def box(self, value):
        """An input of the jitted function (a NumPy array or number)."""
        var = self._new_var(value, "input")
        self.program.inputs.append(var)
        return Tensor(value, self, var)

    def _operand(self, arg):
        """(value for the implementation, its reference in the program) of one argument."""
        if type(arg) in TRACED_TYPES:
            trace = arg._trace
            if trace is self:
                return arg._value, arg._node
            if trace.staged:
                raise _leaked(arg)
            if not trace.concrete:
                # A value of a transform enclosing the jitted call, read from a closure: as a
                # constant its derivative would be lost.
                raise MustInline("a value traced by an enclosing transform")
            if arg.requires_grad and is_grad_enabled():
                raise MustInline("a tensor that requires grad")
            _tape.watch_tensor(arg)
            return arg._value, self._capture(arg._value, arg)
        if type(arg) is np.ndarray:
            if arg.ndim == 0 and not arg.flags.writeable:
                # A read-only number (the engine's broadcast of a seed): a literal that passes
                # may fold. A writable array may change before the next call: read it then.
                return arg, arg[()]
            return arg, self._capture(arg, None)
        if is_literal(arg):
            return arg, arg
        return arg, self._capture(arg, None)  # a list or another container: held as it is

    def _capture(self, value, tensor):
        key = id(tensor if tensor is not None else value)
        known = self._captured_ids.get(key)
        if known is not None:
            return known.var
        var = self._new_var(value, "captured")
        captured = Captured(value, tensor, var)
        self._captured_ids[key] = captured
        self.program.captured.append(captured)
        return var

    def process(self, primitive, args, params):
        if self.closed:
            raise _leaked(next(a for a in args if type(a) in TRACED_TYPES and a._trace is self))
        values = []
        inputs = []
        for arg in args:
            value, ref = self._operand(arg)
            values.append(value)
            inputs.append(ref)
        recorded = params
        if primitive.indexed:
            params, recorded = self._index_params(params)
        try:
            out = primitive.impl(*values, **params)
        except NUMPY_ERRORS as exc:
            raise explain_failure(primitive.name, values, exc)  # noqa: B904 (it sets the cause)
        var = self._new_var(out)
        self.program.body.append(Equation(primitive, inputs, recorded, var, self._note))
        return Tensor(out, self, var)

    def _index_params(self, params):
        """An index holding staged arrays (x[i] with i computed in the function): the
        implementation gets their values, the program their Vars."""
        index = params["index"]
        parts = index if type(index) is tuple else (index,)
        values, refs = [], []
        for part in parts:
            if type(part) in TRACED_TYPES and part._trace is self and part.dtype == np.bool_:
                # x[mask]: the result's shape is the mask's count, and later code may read
                # that shape as a number. So the mask is read (a guard), and held as is.
                value = self.read(part, "a boolean mask used as an index")
                ref = self._capture(value, None)
            elif type(part) in TRACED_TYPES:
                value, ref = self._operand(part)
            else:
                value = ref = part
            values.append(value)
            refs.append(ref)
        if type(index) is tuple:
            return {**params, "index": tuple(values)}, {**params, "index": tuple(refs)}
        return {**params, "index": values[0]}, {**params, "index": refs[0]}

    # ----- reading a value: a guard ----------------------------------------------------------
    def read(self, value, what="its value read by Python"):
        """`raw_value` of a staged value (a branch, a number, a mask): recorded as a guard."""
        if self.closed:
            raise _leaked(value)
        concrete = value._value
        expected = np.array(concrete, copy=True)
        self.program.body.append(Guard(value._node, expected, user_source(), what))
        return concrete

    # ----- what a replay cannot repeat ---------------------------------------------------------
    def refuse(self, value, what):
        """The error for a conversion that would leave the program (np.asarray, printing)."""
        return StagingError(
            f"{what} of a value staged by cr.jit (shape {value.shape}, dtype {value.dtype}) at "
            f"{describe_source(user_source())}: the jitted function runs once as Python, to "
            "record its operations, and later calls replay only those operations, so a plain "
            "NumPy array or a printout made from it would be this call's and never updated. "
            "Compute with chainrule.numpy (import chainrule.numpy as cnp) or Tensor methods, "
            "which are staged; return values to print or save them outside the jitted "
            "function; for an argument that decides shapes or Python branches, mark it static: "
            "cr.jit(f, static_argnums=...)."
        )

    def check_inplace(self, target, operation):
        """`x[i] = v` or `x += v` on a staged value: refused for the function's inputs (the
        caller's array would not change, as it would without jit); fine for its own values."""
        var = target._node
        if type(var) is Var and var.role is not None:
            raise StagingError(
                f"in-place {operation} of an input of a jitted function (shape {target.shape}, "
                f"dtype {target.dtype}) at {describe_source(user_source())}: cr.jit never "
                "writes into its arguments (without jit this would change your array). Work "
                "on a copy (x = x.copy(), or cnp.copy(x)) or out of place (x = x + v; "
                "x = cnp.where(mask, v, x)), and return the result."
            )

    def adopt(self, tensor):
        raise StagingError(
            f"in-place update of a tensor created outside the jitted function (shape "
            f"{tensor.shape}) with a staged value, at {describe_source(user_source())}: a "
            "replay cannot repeat a change to the world outside the function. Return the new "
            "value instead (and assign it outside: w = step(w, ...))."
        )

    # ----- where the backward pass begins (for the source) -------------------------------------
    def __enter__(self):
        _backward.pass_hooks.append(self._vjp_hook)
        _tape.tape_watchers.append(self.program.tensors_read)
        return self

    def __exit__(self, *exc_info):
        _backward.pass_hooks.remove(self._vjp_hook)
        _tape.tape_watchers.remove(self.program.tensors_read)
        self.closed = True
        return False

    def _vjp_hook(self, node):
        if node is not None:
            self._note = f"backward: vjp of {node.primitive.name}"
        elif self._note is not None:
            self._note = "after the backward pass"


def _leaked(value):
    return StagingError(
        f"a value staged by cr.jit (shape {value.shape}, dtype {value.dtype}) was used after "
        "its jitted function returned (it was kept in a global, a closure, an attribute or "
        "a list, or written into .grad of an outside tensor): it stands for the values of a "
        "call that has finished. Return it from the jitted function instead."
    )


def describe_literal(value) -> str:
    if isinstance(value, numbers.Number):
        return repr(value)
    return type(value).__name__
