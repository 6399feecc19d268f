"""`Module`: the base class of layers and models, and `Sequential`.

Assigning a `Parameter` or a `Module` to an attribute registers it, so `parameters()`,
`state_dict()` and `train()/eval()` find everything without bookkeeping in user code.
Buffers (running statistics) are plain NumPy arrays registered with `register_buffer`.
Every Module is also a pytree whose leaves are its parameters, so functional transforms can
take a model as an argument (`cr.grad(loss)(model, x, y)`, see `Module.parameters_dict`).
"""

from collections import OrderedDict

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.primitive import TRACED_TYPES
from chainrule.errors import ChainruleError, ShapeError
from chainrule.nn.parameter import Parameter
from chainrule.transforms.tree import register_pytree_node

__all__ = ["Module", "Sequential", "StateDictError"]


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
    not Parameters: call them and flatten them, but train the original."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The pytree registry looks types up exactly, so every subclass registers itself.
        register_pytree_node(cls, _flatten_module, _unflatten_module)

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----- registration --------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() ran; call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )
        is_buffer = name in self._buffers
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif is_buffer and value is not None:  # `self.running_mean = new` stays a buffer
            self._buffers[name] = True
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value) -> None:
        """Keep a non-learned array (e.g. running statistics) in `state_dict()`."""
        setattr(self, name, np.asarray(value))
        self._buffers[name] = True

    def _buffer_items(self):
        return [(name, getattr(self, name)) for name in self._buffers]

    # ----- traversal -----------------------------------------------------------------------------
    def named_modules(self, prefix: str = ""):
        """(dotted name, module) for this module and every submodule, depth first, iteratively."""
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            yield name, module
            children = list(module._modules.items())
            for child_name, child in reversed(children):
                stack.append((f"{name}.{child_name}" if name else child_name, child))

    def modules(self):
        return [module for _, module in self.named_modules()]

    def children(self):
        return list(self._modules.values())

    def named_parameters(self):
        """(dotted name, Parameter) pairs; a Parameter shared by two layers appears once."""
        seen = set()
        for prefix, module in self.named_modules():
            for name, parameter in module._parameters.items():
                if id(parameter) not in seen:
                    seen.add(id(parameter))
                    yield (f"{prefix}.{name}" if prefix else name), parameter

    def parameters(self):
        return [parameter for _, parameter in self.named_parameters()]

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

    def named_buffers(self):
        for prefix, module in self.named_modules():
            for name, value in module._buffer_items():
                yield (f"{prefix}.{name}" if prefix else name), value

    # ----- modes and gradients -------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (dropout active, batch norm uses batch statistics) for every submodule."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad = None

    # ----- state ---------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and buffer as NumPy arrays, keyed by dotted name."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            dot = f"{prefix}." if prefix else ""
            for name, parameter in module._parameters.items():
                state[dot + name] = np.array(_leaf_value(parameter), copy=True)
            for name, value in module._buffer_items():
                state[dot + name] = np.array(value, copy=True)
        return state

    def load_state_dict(self, state, strict: bool = True) -> None:
        """Copy arrays into the parameters and buffers in place (optimisers keep working).

        Raises `StateDictError` listing missing, unexpected and mis-shaped keys together.
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
        for prefix, module in self.named_modules():
            module._load_own_state(state, f"{prefix}." if prefix else "")

    def _load_own_state(self, state, dot):
        with cr.no_grad():
            for name, parameter in self._parameters.items():
                if dot + name in state:
                    parameter[...] = np.asarray(state[dot + name], dtype=parameter.dtype)
        for name in self._buffers:
            if dot + name in state:
                current = getattr(self, name)
                object.__setattr__(self, name, np.array(state[dot + name], dtype=current.dtype))

    # ----- calling and printing ------------------------------------------------------------------
    def forward(self, *args, **kwargs):  # pragma: no cover - subclasses define it
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

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
                  for prefix, m in module.named_modules()),
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


class Sequential(Module):
    """Layers applied one after the other: `Sequential(Linear(4, 8), ReLU(), Linear(8, 1))`."""

    def __init__(self, *layers):
        super().__init__()
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential got {type(layer).__name__} at position {index}; every entry "
                    "must be a Module (wrap functions in a Module subclass)."
                )
            setattr(self, str(index), layer)

    def __len__(self):
        return len(self._modules)

    def __getitem__(self, index):
        return list(self._modules.values())[index]

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x


def check_input_shape(layer, x, ok, expected: str):
    """Raise a ShapeError naming `layer`, the expected and the received shape unless `ok`."""
    if not ok:
        raise ShapeError(
            f"{layer!r} expects input of shape {expected}, got {tuple(cnp.shape(x))}"
        )
