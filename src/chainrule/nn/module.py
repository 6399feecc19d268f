"""`Module`: the base class of layers and models; the containers `Sequential`, `ModuleList`
and `ModuleDict`; and the input checks every layer shares (`check_input_shape`,
`check_input_dtype`).

Assigning a `Parameter` or a `Module` to an attribute registers it, so `parameters()`,
`state_dict()` and `train(mode)` find everything without bookkeeping in user code.
Buffers (running statistics) are plain NumPy arrays registered with `register_buffer`; they
stay buffers when reassigned.
Every Module is also a pytree whose leaves are its parameters, so functional transforms can
take a model as an argument (`cr.grad(loss)(model, x, y)`, see `Module.parameters_dict`).
"""

import itertools
from collections import OrderedDict, namedtuple
from types import MappingProxyType

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.dtypes import dtype_of
from chainrule.core.inplace import note_leaf_overwrite
from chainrule.core.primitive import TRACED_TYPES
from chainrule.core.tensor import _check_device
from chainrule.errors import ChainruleError, DTypeError, ShapeError
from chainrule.nn.parameter import Parameter
from chainrule.transforms.tree import register_pytree_node

__all__ = [
    "Module", "Sequential", "ModuleList", "ModuleDict", "StateDictError", "RemovableHandle",
]


class StateDictError(ChainruleError, KeyError):
    """`load_state_dict` or `functional_call` got names that do not match the module's
    parameters and buffers: the message lists them all."""

    def __str__(self):  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class Module:
    """Subclass it, assign layers and Parameters in `__init__`, compute in `forward`.

    For functional transforms, either pass `module.parameters_dict()` and call the module
    through `nn.functional_call`, or pass the module itself: it is a pytree whose leaves are
    its parameters (buffers, hyperparameters and the mode are static), and transforms rebuild
    it as a shallow copy holding their values, so `cr.grad(lambda m: loss(m(x), y))(model)`
    returns a copy of the model whose parameters are the gradients. Such copies hold arrays,
    not Parameters: call them and flatten them, but train the original.

    The bookkeeping follows PyTorch's `nn.Module`: parameters, buffers and submodules keep
    their registration when reassigned (`self.running_mean = new` stays a buffer, assigning
    anything but a Parameter or None to a parameter's name is an error), `state_dict()` keys
    are dotted names in PyTorch's order, and `to(dtype)`, `apply`, `requires_grad_`,
    `named_modules`, `named_children`, `add_module`, `get_submodule` and forward hooks behave
    as there.

    Returns:
        Calling a module runs its hooks and `forward(*args, **kwargs)` and returns what
        `forward` returns.

    Raises:
        StateDictError: from `load_state_dict` for missing, unexpected or mis-shaped keys
            (strict mode).
    """

    # No hooks until one is registered (read-only, so registering makes the module its own).
    _forward_hooks = MappingProxyType({})
    _forward_pre_hooks = MappingProxyType({})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The pytree registry looks types up exactly, so every subclass registers itself.
        register_pytree_node(cls, _flatten_module, _unflatten_module)

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        # name -> persistent (in state_dict()); the value itself is the attribute.
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration --------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran; call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )
        parameters, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            modules.pop(name, None)
            buffers.pop(name, None)
            parameters[name] = value
        elif isinstance(value, Module):
            parameters.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to {name!r}, a parameter of "
                    f"{type(self).__name__} (an nn.Parameter or None expected). To change its "
                    f"values and keep the Parameter (optimisers hold it), write them in place: "
                    f"`with cr.no_grad(): module.{name}[...] = value` or load_state_dict(); to "
                    f"replace it, assign nn.Parameter(value)."
                )
            del parameters[name]
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to {name!r}, a submodule of "
                    f"{type(self).__name__} (a Module or None expected)"
                )
            del modules[name]
        # A buffer stays a buffer whatever it is given (`self.running_mean = new`; None keeps
        # the name registered but out of state_dict(), as in PyTorch).
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def _check_new_name(self, name, kind, registry):
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f"{kind} name can't be empty or contain \".\", got {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute {name!r} already exists in {type(self).__name__}")

    def register_buffer(self, name: str, value, persistent: bool = True) -> None:
        """Keep a non-learned array (e.g. running statistics) with the module: `persistent`
        buffers are in `state_dict()`. Reassigning the attribute keeps it a buffer; None
        keeps the name registered but out of `state_dict()`."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot register a buffer before Module.__init__() ran")
        self._check_new_name(name, "buffer", self._buffers)
        if isinstance(value, (Parameter, Module)):
            raise TypeError(f"buffer {name!r} must be an array or None, got "
                            f"{type(value).__name__}")
        if value is not None:
            value = _plain_array(value)
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        self._buffers[name] = bool(persistent)
        object.__setattr__(self, name, value)

    def register_parameter(self, name: str, param) -> None:
        """`module.name = param` with PyTorch's checks (a Parameter, or None to unset it)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot register a parameter before Module.__init__() ran")
        self._check_new_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot register a {type(param).__name__} as parameter {name!r} "
                            "(an nn.Parameter or None expected)")
        setattr(self, name, param)

    def add_module(self, name: str, module) -> None:
        """Register `module` as the child `name` (`self.name = module`, with PyTorch's checks:
        the name must be a string without dots that is not already a plain attribute)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        self._check_new_name(name, "module", self._modules)
        setattr(self, name, module)

    register_module = add_module

    def _buffer_items(self):
        """(name, value) of the buffers that hold a value."""
        items = []
        for name in self._buffers:
            value = self.__dict__.get(name)
            if value is not None:
                items.append((name, value))
        return items

    # ----- traversal -----------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module and every submodule, depth first (this module
        first, with name `prefix`). A module reachable twice appears once, under its first
        name, unless `remove_duplicate=False` (PyTorch's semantics). Iterative, so depth is
        not limited by recursion."""
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in memo:
                    continue
                memo.add(module)
            yield name, module
            for child_name, child in reversed(module._modules.items()):
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self):
        """Every module of the tree once, this one first (a list)."""
        return [module for _, module in self.named_modules()]

    def named_children(self):
        """(name, module) of the direct submodules, each module once."""
        seen = set()
        for name, child in self._modules.items():
            if id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        """The direct submodules, each once (a list)."""
        return [child for _, child in self.named_children()]

    def get_submodule(self, target: str) -> "Module":
        """The submodule at dotted path `target` ("" is this module): `get_submodule("0.fc")`."""
        if target == "":
            return self
        module = self
        walked = []
        for item in target.split("."):
            child = module._modules.get(item)
            if child is None:
                path = ".".join(walked) or "the root module"
                raise AttributeError(
                    f"{type(module).__name__} ({path}) has no submodule {item!r}; it has: "
                    f"{', '.join(module._modules) or 'none'}"
                )
            walked.append(item)
            module = child
        return module

    def get_parameter(self, target: str):
        """The parameter at dotted path `target` (`get_parameter("0.weight")`)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r}")
        return getattr(module, name)

    def get_buffer(self, target: str):
        """The buffer at dotted path `target` (`get_buffer("1.running_mean")`)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._buffers:
            raise AttributeError(f"{type(module).__name__} has no buffer {name!r}")
        return getattr(module, name)

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """(dotted name, Parameter) pairs; a Parameter shared by two layers appears once."""
        seen = set()
        owners = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                  if recurse else [(prefix, self)])
        for owner_prefix, module in owners:
            for name, parameter in module._parameters.items():
                if parameter is None:
                    continue
                if remove_duplicate:
                    if id(parameter) in seen:
                        continue
                    seen.add(id(parameter))
                yield (f"{owner_prefix}.{name}" if owner_prefix else name), parameter

    def parameters(self, recurse: bool = True):
        return [parameter for _, parameter in self.named_parameters(recurse=recurse)]

    def parameters_dict(self) -> "dict[str, np.ndarray]":
        """{dotted name: value} of every parameter, in `named_parameters()` order: a pytree to
        differentiate, to vmap over, or to pass to `nn.functional_call`.

        The values are read-only NumPy views of the parameters' data (no copy, no graph):
        `cr.grad` of a function of them returns plain arrays under the same names, and updating
        the model stays explicit (`load_state_dict`, or an optimiser on `parameters()`). A
        shared (tied) parameter appears once, under its first name. (PyTorch spells this
        `dict(model.named_parameters())`; here that dict holds the Parameters themselves,
        Tensor-API tensors that transforms would also record on the tape.)

        Example:
            >>> grads = cr.grad(loss)(model.parameters_dict(), x, y)  # {"0.weight": ..., ...}
        """
        # A plain dict: the pytree registry knows dict (an OrderedDict would be one opaque leaf).
        return {name: _leaf_value(value) for name, value in self.named_parameters()}

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        """(dotted name, array) of every buffer that holds a value; each array once."""
        seen = set()
        owners = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                  if recurse else [(prefix, self)])
        for owner_prefix, module in owners:
            for name, value in module._buffer_items():
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{owner_prefix}.{name}" if owner_prefix else name), value

    def buffers(self, recurse: bool = True):
        return [value for _, value in self.named_buffers(recurse=recurse)]

    # ----- modes, gradients and dtypes -----------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active, batch norm uses batch statistics) for every submodule."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """PyTorch's name for `train(False)`: evaluation mode (dropout off, norms use their
        running statistics). A mode switch only: no text is evaluated. Returns self."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (None, or zeros with `set_to_none=False`)."""
        for parameter in self.parameters():
            if set_to_none or parameter.grad is None:
                parameter.grad = None
            else:
                parameter.grad = np.zeros_like(parameter.grad)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set `requires_grad` of every parameter (False freezes the module); returns self."""
        for parameter in self.parameters():
            parameter.requires_grad_(bool(requires_grad))
        return self

    def apply(self, fn) -> "Module":
        """Call `fn(module)` on every submodule and then on this module (children first, as
        PyTorch), e.g. to initialise weights; returns self."""
        stack = [(self, False)]
        while stack:
            module, expanded = stack.pop()
            if expanded:
                fn(module)
                continue
            stack.append((module, True))
            for child in reversed(module.children()):
                stack.append((child, False))
        return self

    def to(self, *args, **kwargs) -> "Module":
        """`to(dtype)` casts the floating-point parameters and buffers in place (integer
        buffers such as BatchNorm's `num_batches_tracked` stay as they are; complex ones take
        the complex dtype of the same precision); `to("cpu")` is a no-op (chainrule computes
        with NumPy on the CPU). The Parameter objects stay the same, so an optimiser made
        before keeps working. Also `to(device, dtype)`, `to(dtype=..., device=...)` and
        `to(tensor)` (its dtype). Returns self."""
        device, dtype = _parse_to_arguments(args, kwargs)
        _check_device(device, f"Module.to({device!r})")
        if dtype is not None:
            self._cast_floating(dtype, complex_too=True)
        return self

    def float(self) -> "Module":
        """Cast floating-point parameters and buffers to float32 (in place); returns self."""
        self._cast_floating(np.dtype(np.float32), complex_too=False)
        return self

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64 (in place); returns self."""
        self._cast_floating(np.dtype(np.float64), complex_too=False)
        return self

    def half(self) -> "Module":
        """Cast floating-point parameters and buffers to float16 (in place); returns self."""
        self._cast_floating(np.dtype(np.float16), complex_too=False)
        return self

    def cpu(self) -> "Module":
        """A no-op: chainrule computes with NumPy on the CPU."""
        return self

    def cuda(self, device=None) -> "Module":
        """Refused, with the fix: chainrule computes with NumPy on the CPU (for a GPU, give
        the model CuPy arrays). Raises ValueError."""
        _check_device("cuda" if device is None else device, "Module.cuda()")
        return self  # (cuda("cpu"): accepted, as to("cpu") is)

    def _cast_floating(self, dtype, complex_too):
        if dtype.kind not in "fc":
            raise DTypeError(
                f"Module.to only accepts floating-point or complex dtypes, got {dtype}"
            )
        done = set()
        for module in self.modules():
            for name, parameter in list(module._parameters.items()):
                if parameter is None or id(parameter) in done:
                    continue
                done.add(id(parameter))
                target = _cast_target(dtype_of(parameter), dtype, complex_too)
                if target is not None:
                    _cast_parameter_in_place(module, name, parameter, target)
            for name, value in module._buffer_items():
                target = _cast_target(dtype_of(value), dtype, complex_too)
                if target is not None:
                    object.__setattr__(module, name, np.asarray(value).astype(target))

    # ----- state ---------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and persistent buffer as NumPy arrays, keyed by dotted
        name in PyTorch's order (each module's parameters, then its buffers, then its
        children's). A module or parameter reachable under two names appears under both.
        `keep_vars=True` gives the Parameters and buffers themselves, not copies."""
        state = OrderedDict() if destination is None else destination
        for owner_prefix, module in self.named_modules(remove_duplicate=False):
            dot = prefix + (f"{owner_prefix}." if owner_prefix else "")
            for name, parameter in module._parameters.items():
                if parameter is not None:
                    state[dot + name] = (parameter if keep_vars else
                                         np.array(_leaf_value(parameter), copy=True))
            for name, value in module._buffer_items():
                if module._buffers[name]:
                    state[dot + name] = value if keep_vars else np.array(value, copy=True)
        return state

    def load_state_dict(self, state, strict: bool = True):
        """Copy arrays into the parameters and buffers in place (optimisers keep working).

        Values are cast to each parameter's and buffer's dtype. Raises `StateDictError`
        listing missing, unexpected and mis-shaped keys together. Returns (missing_keys,
        unexpected_keys), a named tuple, as PyTorch.
        """
        expected = {name: np.shape(value) for name, value in self.state_dict().items()}
        missing = [name for name in expected if name not in state]
        unexpected = [name for name in state if name not in expected]
        misshaped = [
            f"{name}: expected {expected[name]}, got {np.shape(state[name])}"
            for name in expected
            if name in state and np.shape(state[name]) != expected[name]
        ]
        if misshaped or (strict and (missing or unexpected)):
            raise StateDictError(_state_mismatch_message(type(self).__name__, missing,
                                                         unexpected, misshaped))
        for prefix, module in self.named_modules(remove_duplicate=False):
            module._load_own_state(state, f"{prefix}." if prefix else "")
        return IncompatibleKeys(missing, unexpected)

    def _load_own_state(self, state, dot):
        with cr.no_grad():
            for name, parameter in self._parameters.items():
                if parameter is not None and dot + name in state:
                    parameter[...] = np.asarray(_plain_array(state[dot + name]),
                                                dtype=parameter.dtype)
        for name, value in self._buffer_items():
            if self._buffers[name] and dot + name in state:
                loaded = np.array(_plain_array(state[dot + name]), dtype=dtype_of(value))
                object.__setattr__(self, name, loaded)

    # ----- calling, hooks and printing -----------------------------------------------------------
    def forward(self, *args, **kwargs):  # pragma: no cover - subclasses define it
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook, with_kwargs, _ in list(self._forward_pre_hooks.values()):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "a forward pre-hook registered with with_kwargs=True must return "
                            f"None or a tuple (args, kwargs), got {result!r}"
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        hooks = list(self._forward_hooks.values())
        try:
            output = self.forward(*args, **kwargs)
        except BaseException:
            for hook, with_kwargs, always_call in hooks:
                if always_call:
                    try:
                        hook(self, args, kwargs, None) if with_kwargs else hook(self, args, None)
                    except Exception:  # noqa: S110 - the forward pass's error is the one to see
                        pass
            raise
        for hook, with_kwargs, _ in hooks:
            result = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> "RemovableHandle":
        """Call `hook(module, args)` before each forward pass; a value it returns other than
        None replaces the positional arguments (a non-tuple becomes a 1-tuple). With
        `with_kwargs=True`: `hook(module, args, kwargs)` returning None or (args, kwargs).
        Returns a handle whose `remove()` unregisters the hook."""
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs, False)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> "RemovableHandle":
        """Call `hook(module, args, output)` after each forward pass; a value it returns other
        than None replaces the output. With `with_kwargs=True`: `hook(module, args, kwargs,
        output)`. `always_call=True` also calls it (with output None) when forward raises.
        Returns a handle whose `remove()` unregisters the hook."""
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs, always_call)

    def _add_hook(self, attribute, hook, prepend, with_kwargs, always_call):
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.get(attribute)
        if hooks is None:
            hooks = OrderedDict()
            object.__setattr__(self, attribute, hooks)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (hook, bool(with_kwargs), bool(always_call))
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The arguments shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + _indent(repr(child)) for name, child in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        head = self.extra_repr()
        body = "\n".join("  " + line for line in ([head] if head else []) + lines)
        return f"{type(self).__name__}(\n{body}\n)"


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class RemovableHandle:
    """Returned by `register_forward_hook` and `register_forward_pre_hook`: `remove()` (or
    leaving a `with` block over it) unregisters the hook.

    Returns:
        `remove()` returns None; removing twice does nothing.
    """

    _next_id = itertools.count()

    def __init__(self, hooks):
        self.id = next(RemovableHandle._next_id)
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()


def _plain_array(value):
    """A buffer's or state entry's value as a NumPy array (a concrete Tensor by its data)."""
    if type(value) in TRACED_TYPES and value._trace.concrete:
        return value.numpy()
    return value if type(value) in TRACED_TYPES else np.asarray(value)


def _cast_target(current, dtype, complex_too):
    """The dtype a parameter or buffer of dtype `current` takes under `to(dtype)`, or None."""
    if current.kind == "f":
        return None if current == dtype else dtype
    if current.kind == "c" and (complex_too or dtype.kind == "c"):
        target = dtype if dtype.kind == "c" else np.result_type(dtype, np.complex64)
        return None if current == target else target
    return None


def _cast_parameter_in_place(module, name, parameter, dtype):
    if isinstance(parameter, Parameter) and parameter._trace.concrete:
        old_value, old_version = parameter._value, parameter._version
        parameter._value = np.asarray(old_value).astype(dtype)
        parameter._version += 1
        # Backward through a graph recorded before the cast refuses, as after any overwrite.
        note_leaf_overwrite(parameter, old_value, old_version, "to(dtype)")
        if parameter.grad is not None:
            parameter.grad = np.asarray(parameter.grad).astype(dtype)
    elif isinstance(parameter, np.ndarray):  # a pytree copy holding plain arrays
        cast = parameter.astype(dtype)
        module._parameters[name] = cast
        object.__setattr__(module, name, cast)


_DEVICE_NAMES = ("cpu", "cuda", "mps", "xpu", "meta", "xla", "hip", "ipu", "npu", "vulkan")


def _is_device(value) -> bool:
    if isinstance(value, str):
        return value.split(":")[0] in _DEVICE_NAMES
    return type(value).__name__ == "device"  # a torch.device


def _as_dtype(value):
    text = str(value)
    if text.startswith("torch."):  # torch.float32 and the like, by name
        text = text[len("torch."):]
        value = {"float": "float32", "double": "float64", "half": "float16"}.get(text, text)
    try:
        return np.dtype(value)
    except TypeError:
        raise TypeError(f"Module.to: {value!r} is neither a dtype nor a device") from None


def _parse_to_arguments(args, kwargs):
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"Module.to got unexpected keyword arguments {sorted(unknown)}")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    positional = list(args)
    if len(positional) > 3:
        raise TypeError(f"Module.to takes at most (device, dtype, non_blocking), got {args!r}")
    for value in positional:
        if isinstance(value, bool):  # non_blocking
            continue
        if _is_device(value):
            device = value
        elif isinstance(value, (type, np.dtype, str)) or not hasattr(value, "shape"):
            dtype = value
        else:  # to(tensor): its dtype
            dtype = dtype_of(value)
    return device, (None if dtype is None else _as_dtype(dtype))


# ----- Modules as pytrees --------------------------------------------------------------------
# flatten: the parameter values in `named_parameters()` order (a concrete Parameter as a
# read-only NumPy view, anything else as it is); aux: the architecture, holding the module as a
# template. unflatten: a shallow copy of the template holding the new values, so that inside
# `cr.grad(lambda m: ...)(model)` the copy computes with traced values, and the gradient comes
# back as a model-shaped tree of arrays. Buffers, hyperparameters and the mode are static.
def _leaf_value(value):
    """A parameter's value as a transform should see it: a concrete Tensor (a Parameter) as a
    read-only NumPy view of its data, so transforms do not also record on the tape."""
    if type(value) in TRACED_TYPES and value._trace.concrete:
        return value.numpy()
    return value


class _Architecture:
    """A Module's pytree aux: equal for modules of the same types, names, modes and tied
    parameters (so a model and its gradient tree match in `tree_map`); keeps one of them as the
    template that unflattening copies."""

    __slots__ = ("template", "key")

    def __init__(self, module):
        self.template = module
        self.key = (
            tuple((prefix, type(m), m.training, tuple(m._parameters))
                  for prefix, m in module.named_modules(remove_duplicate=False)),
            tuple(name for name, _ in module.named_parameters()),
        )

    def __eq__(self, other):
        return isinstance(other, _Architecture) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"<architecture of {type(self.template).__name__}>"


def _flatten_module(module):
    return [_leaf_value(value) for _, value in module.named_parameters()], _Architecture(module)


def _unflatten_module(architecture, leaves):
    template = architecture.template
    replacement, used = {}, set()
    for (_, parameter), value in zip(template.named_parameters(), leaves, strict=True):
        if id(value) in used:  # one object for two untied parameters would tie them in the copy
            value = _distinct(value)
        used.add(id(value))
        replacement[id(parameter)] = value
    return _copy_holding(template, replacement)


def _distinct(value):
    """An equal value that is a different object (no data copied for arrays)."""
    if isinstance(value, np.ndarray):
        return value.view()
    if type(value) in TRACED_TYPES:
        return value + 0  # a new node; x + 0 == x
    return np.array(value)


def _copy_holding(root, replacement):
    """A shallow copy of `root` and its submodules, parameter `p` replaced by
    `replacement[id(p)]`. Shared submodules and tied parameters stay shared."""
    copies = {}
    for _, module in root.named_modules():
        if id(module) in copies:
            continue
        clone = object.__new__(type(module))
        clone.__dict__.update(module.__dict__)
        object.__setattr__(clone, "_parameters", OrderedDict())
        object.__setattr__(clone, "_modules", OrderedDict(module._modules))
        object.__setattr__(clone, "_buffers", OrderedDict(module._buffers))
        for hooks in ("_forward_hooks", "_forward_pre_hooks"):  # the copy's own registries
            if hooks in module.__dict__:
                object.__setattr__(clone, hooks, OrderedDict(module.__dict__[hooks]))
        for name, parameter in module._parameters.items():
            clone._parameters[name] = replacement[id(parameter)]
            object.__setattr__(clone, name, replacement[id(parameter)])
        copies[id(module)] = clone
    for clone in copies.values():
        for name, child in clone._modules.items():
            clone._modules[name] = copies[id(child)]
            object.__setattr__(clone, name, copies[id(child)])
    return copies[id(root)]


register_pytree_node(Module, _flatten_module, _unflatten_module)


def _indent(text):
    return text.replace("\n", "\n  ")


def _state_mismatch_message(owner, missing, unexpected, misshaped):
    parts = [f"load_state_dict for {owner} found keys that do not match:"]
    if missing:
        parts.append(f"  missing keys: {', '.join(missing)}")
    if unexpected:
        parts.append(f"  unexpected keys: {', '.join(unexpected)}")
    if misshaped:
        parts.append("  mis-shaped keys: " + "; ".join(misshaped))
    parts.append(
        "Load a state dict saved from the same architecture, or pass strict=False to skip "
        "missing and unexpected keys (shapes must still match)."
    )
    return "\n".join(parts)



# ----- containers ----------------------------------------------------------------------------
class Sequential(Module):
    """Layers applied one after the other: `Sequential(Linear(4, 8), ReLU(), Linear(8, 1))`,
    or named: `Sequential(OrderedDict([("fc", Linear(4, 8)), ("act", ReLU())]))`.

    Returns:
        `model(x)` gives the last layer's output, each layer fed the previous one's.
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            for name, layer in layers[0].items():
                self.add_module(name, _checked_module(layer, "Sequential", name))
            return
        for index, layer in enumerate(layers):
            setattr(self, str(index), _checked_module(layer, "Sequential", index))

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_checked_index(index, len(self), "Sequential")]

    def __setitem__(self, index, layer):
        name = list(self._modules)[_checked_index(index, len(self), "Sequential")]
        setattr(self, name, _checked_module(layer, "Sequential", index))

    def __delitem__(self, index):
        layers = list(self._modules.values())
        if isinstance(index, slice):
            del layers[index]
        else:
            del layers[_checked_index(index, len(self), "Sequential")]
        _renumber(self, layers)  # as PyTorch: the remaining layers are named 0, 1, ...

    def pop(self, index: int = -1):
        layer = self[index]
        del self[index]
        return layer

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, layer) -> "Sequential":
        self.add_module(str(len(self)), _checked_module(layer, "Sequential", len(self)))
        return self

    def extend(self, layers) -> "Sequential":
        for layer in layers:
            self.append(layer)
        return self

    def insert(self, index: int, layer) -> "Sequential":
        layers = list(self._modules.values())
        layers.insert(index, _checked_module(layer, "Sequential", index))
        _renumber(self, layers)
        return self

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x


class ModuleList(Module):
    """A list of modules whose parameters the owner sees (`self.blocks = ModuleList([...])`):
    indexing, slicing, iteration, `append`, `extend`, `insert`, `pop`, `del`, as PyTorch's.
    State names are the positions: `blocks.0.weight`. It has no forward pass of its own.

    Raises:
        TypeError: when an item is not a Module. A ModuleList has no `forward`: iterate
            over it in the owner's `forward`.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules.values()))

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_checked_index(index, len(self), "ModuleList"))]

    def __setitem__(self, index, module):
        position = _checked_index(index, len(self), "ModuleList")
        setattr(self, str(position), _checked_module(module, "ModuleList", index))

    def __delitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[_checked_index(index, len(self), "ModuleList")]
        _renumber(self, modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return type(self)(list(self) + list(other))

    def append(self, module) -> "ModuleList":
        self.add_module(str(len(self)), _checked_module(module, "ModuleList", len(self)))
        return self

    def extend(self, modules) -> "ModuleList":
        if isinstance(modules, Module) and not isinstance(modules, (ModuleList, Sequential)):
            raise TypeError("ModuleList.extend takes an iterable of modules, got the module "
                            f"{type(modules).__name__}; use append for one module")
        for module in list(modules):
            self.append(module)
        return self

    def insert(self, index: int, module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, _checked_module(module, "ModuleList", index))
        _renumber(self, modules)

    def pop(self, index: int = -1):
        module = self[index]
        del self[index]
        return module

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleList has no forward pass: iterate over it in the owner's forward "
            "(`for layer in self.layers: x = layer(x)`), or use Sequential"
        )


class ModuleDict(Module):
    """A dict of modules whose parameters the owner sees (`self.heads = ModuleDict({...})`):
    `[key]`, `in`, `keys()`, `items()`, `values()`, `update`, `pop`, `del`, insertion order, as
    PyTorch's. State names use the keys: `heads.cls.weight`. It has no forward pass.

    Raises:
        TypeError: when a value is not a Module.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str):
        return self._modules[key]

    def __setitem__(self, key: str, module):
        self.add_module(key, _checked_module(module, "ModuleDict", key))

    def __delitem__(self, key: str):
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(list(self._modules))

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self) -> None:
        for key in list(self._modules):
            delattr(self, key)

    def pop(self, key: str):
        module = self[key]
        del self[key]
        return module

    def update(self, modules) -> None:
        pairs = modules.items() if hasattr(modules, "items") else modules
        for index, pair in enumerate(pairs):
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"ModuleDict.update: element {index} should be a (key, module) "
                                f"pair, got {type(pair).__name__}")
            self[pair[0]] = pair[1]

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleDict has no forward pass: pick modules by key in the owner's forward"
        )


def _checked_module(module, container, where):
    if not isinstance(module, Module):
        place = f"position {where}" if isinstance(where, int) else f"key {where!r}"
        raise TypeError(
            f"{container} got {type(module).__name__} at {place}; every entry must be a "
            "Module (wrap functions in a Module subclass)."
        )
    return module


def _checked_index(index, length, container):
    index = int(index)
    if not -length <= index < length:
        raise IndexError(f"{container} index {index} is out of range for length {length}")
    return index % length if length else index


def _renumber(container, modules):
    """Re-register `modules` under the names "0", "1", ... (after an insert or a delete)."""
    for name in list(container._modules):
        delattr(container, name)
    for index, module in enumerate(modules):
        setattr(container, str(index), module)


# ----- input checks shared by the layers -----------------------------------------------------
def check_input_shape(layer, x, ok, expected: str):
    """Raise a ShapeError naming `layer`, the expected and the received shape unless `ok`."""
    if not ok:
        raise ShapeError(
            f"{layer!r} expects input of shape {expected}, got {tuple(cnp.shape(x))}"
        )


def _input_dtype(x) -> np.dtype:
    if type(x) in TRACED_TYPES or hasattr(x, "dtype"):
        return dtype_of(x)
    return np.asarray(x).dtype


def layer_dtype(layer):
    """The dtype a layer computes in: that of its first parameter (as its attribute holds it
    now, so `functional_call` and transforms' copies count), else of its first floating-point
    buffer; None for a layer with neither."""
    attributes = layer.__dict__
    for name in layer._parameters:
        value = attributes.get(name)
        if value is not None:
            return dtype_of(value)
    for name in layer._buffers:
        value = attributes.get(name)
        if value is not None and dtype_of(value).kind in "fc":
            return dtype_of(value)
    return None


_CAST_METHODS = {"float64": ".double()", "float32": ".float()", "float16": ".half()"}


def check_input_dtype(layer, x, expected=None) -> None:
    """Raise a DTypeError naming `layer`, its dtype, the input's and the fix, unless `x` has
    the dtype the layer's parameters have (or, for a layer without any, any floating dtype).

    Every layer with parameters calls it first: as in PyTorch, a float32 layer does not
    silently compute in float64 because the input was float64 (NumPy's default), and an
    integer input is refused rather than promoted."""
    got = _input_dtype(x)
    if expected is None:
        expected = layer_dtype(layer)
    if got == expected:
        return
    name = repr(layer) if not layer._modules else type(layer).__name__
    if got.kind not in "fc":
        want = expected if expected is not None else np.dtype(np.float32)
        raise DTypeError(
            f"{name} expects floating-point input ({want}"
            f"{', the dtype of its parameters' if expected is not None else ''}), got {got}; "
            f"convert it with x.astype(np.{want.name})"
        )
    if expected is None:
        return
    method = _CAST_METHODS.get(got.name, "")
    raise DTypeError(
        f"{name} has {expected} parameters but got {got} input (chainrule does not promote "
        f"silently, as PyTorch). Cast the input, x.astype(np.{expected.name}), or the model, "
        f"model.to(np.{got.name})" + (f" (or model{method})" if method else "")
    )
