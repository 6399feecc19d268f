"""The `Optimizer` base class: parameter groups, `zero_grad`, `step` and a flat `state_dict`.

As in PyTorch, an optimiser takes an iterable of Tensors or of dicts ("parameter groups"), each
dict holding `"params"` and any per-group options; the constructor's arguments are the defaults
of options a group leaves out:

    optim.SGD([{"params": model.body.parameters()},
               {"params": model.head.parameters(), "lr": 1e-3}], lr=1e-2, momentum=0.9)

`optimizer.param_groups` is that list of dicts, every option filled in; editing it (as the
learning-rate schedulers do with `group["lr"]`) changes the next `step()`, and
`add_param_group` appends one (to train a layer unfrozen mid-run, say). `optimizer.state`
maps each parameter to its buffers (momentum, moments, the step count), as PyTorch's does.

Updates run under `cr.no_grad()` and change each Parameter in place (`p -= update`), so models
and other references keep pointing at the same tensors. Per-parameter state is kept as plain
NumPy arrays; the state dict is a flat {name: array}, ready for `cr.save` or `chainrule.io`:

    step_count                   number of step() calls
    param_groups.<g>.params      indices of the group's parameters (counted over all groups)
    param_groups.<g>.<option>    every option of group g (lr, betas, weight_decay, ...)
    state.<i>.<buffer>           buffer of parameter i (exp_avg, momentum_buffer, step, ...)

`load_state_dict` accepts this layout and the one of earlier chainrule versions (a single
`lr` and the hyperparameters at the top level).

A complex parameter is updated as pairs of real numbers, as PyTorch does with torch.view_as_real:
`_update` sees value and gradient of shape (..., 2) (real part, imaginary part), so Adam's and
RMSprop's second moments are per part, never g * g of a complex g. Its `.grad` is PyTorch's
(conjugate Wirtinger), whose real view is the gradient with respect to the pairs: every update
rule descends unchanged. The state dict stores such a parameter's buffers as complex arrays of
its shape (real view's pairs as real and imaginary parts), as PyTorch's does.
"""

from collections import defaultdict

import numpy as np

import chainrule as cr
from chainrule.errors import ShapeError

__all__ = ["Optimizer"]


class Optimizer:
    """Subclasses call `super().__init__(params, defaults)` with a dict of their options (`lr`
    among them) and define `_update(state, value, grad, group)`, which returns the step to
    subtract and sees real arrays only (a complex parameter's real pairs). Buffers shaped like
    the parameter are listed in `param_shaped_state` (their shapes are checked on loading).

    Returns:
        `step()` returns None (LBFGS returns the loss), and `state_dict()` a flat
        {name: array} dict.

    Raises:
        ValueError: for an empty parameter list or a parameter given twice.
    """

    param_shaped_state: tuple = (
        "momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg",
    )

    def __init__(self, params, defaults: dict):
        if not isinstance(defaults, dict):  # earlier versions: Optimizer(params, lr)
            defaults = {"lr": float(defaults)}
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        self.step_count = 0
        if isinstance(params, cr.Tensor):
            params = [params]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{type(self).__name__}: parameters must be an ordered collection "
                            "(a list), not a set, so that the state dict's order is reproducible")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----- parameter groups ----------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Append a group: a dict with "params" (a Tensor or a list of them) and any options;
        options left out take the constructor's values (`optimizer.defaults`)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{type(self).__name__}: a parameter group must be a dict with a "
                            f"'params' entry, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{type(self).__name__}: a parameter group needs a 'params' entry")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, cr.Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{type(self).__name__}: a group's parameters must be a list, "
                            "not a set")
        params = list(params)
        first_index = sum(len(g["params"]) for g in self.param_groups)
        for offset, param in enumerate(params):
            if not isinstance(param, cr.Tensor) or not param.requires_grad or not param.is_leaf:
                raise TypeError(
                    f"{type(self).__name__}: parameter {first_index + offset} is not a leaf "
                    "Tensor with requires_grad=True; pass model.parameters()"
                )
        unknown = sorted(set(group) - set(self.defaults) - {"params", "initial_lr"})
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown option(s) {unknown} in a parameter group; "
                f"the options are {sorted(self.defaults)}"
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError(f"{type(self).__name__}: some parameters appear more than once "
                             "(in one group or in two groups)")
        group["params"] = params
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        """Validate a group's options (subclasses add theirs)."""
        if not group["lr"] > 0:
            raise ValueError(
                f"{type(self).__name__}: learning rate must be positive, got {group['lr']}"
            )

    @property
    def lr(self) -> float:
        """The learning rate shared by every group (setting it sets every group's)."""
        return self._shared("lr")

    @lr.setter
    def lr(self, value):
        for group in self.param_groups:
            group["lr"] = float(value)

    def _shared(self, name):
        values = [group[name] for group in self.param_groups]
        if any(value != values[0] for value in values[1:]):
            raise AttributeError(
                f"the parameter groups of this {type(self).__name__} have different values of "
                f"{name!r} ({values}); read optimizer.param_groups[i][{name!r}]"
            )
        return values[0]

    def __getattr__(self, name):
        # Earlier versions kept the options as attributes (optimizer.momentum); still readable.
        defaults = self.__dict__.get("defaults", {})
        if name in defaults and self.__dict__.get("param_groups"):
            return self._shared(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _parameters(self):
        return [param for group in self.param_groups for param in group["params"]]

    # ----- the update ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: `.grad = None` (the default, as PyTorch's), or with
        set_to_none=False fill the existing `.grad` tensors with zeros in place (a gradient
        recorded with create_graph=True is detached from its graph first)."""
        for param in self._parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                with cr.no_grad():
                    param.grad[...] = 0

    def step(self, closure=None):
        """Apply one update to every parameter that has a gradient. `closure`, if given,
        re-evaluates the model (zero_grad, loss, backward) and returns the loss, which
        `step` returns."""
        loss = None
        if closure is not None:
            with cr.enable_grad():
                loss = closure()
        self.step_count += 1
        with cr.no_grad():
            for group in self.param_groups:
                if self._step_group_at_once(group):
                    continue
                for param in group["params"]:
                    if param.grad is None:
                        continue
                    grad = gradient_array(param, param.dtype)
                    value = param.numpy()
                    state = self.state[param]
                    if value.dtype.kind == "c":
                        update = _from_real_pairs(
                            self._update(state, _real_pairs(value), _real_pairs(grad), group),
                            value.dtype,
                        )
                    else:
                        update = self._update(state, value, grad, group)
                    del value  # (a view of the parameter: the update may now be written in place)
                    param -= update
        return loss

    def _update(self, state, value, grad, group):  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def _step_group_at_once(self, group) -> bool:
        """Update a whole group with a few operations on flat arrays (PyTorch's "foreach"),
        if the optimiser can; False to update parameter by parameter."""
        return False

    @staticmethod
    def _buffer(state, name, like):
        if name not in state:
            state[name] = np.zeros_like(like)
        return state[name]

    # ----- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """The step count, every group's options and every state buffer, as a flat
        {name: np.ndarray} (see the module docstring for the names)."""
        state = {"step_count": np.asarray(self.step_count)}
        index = 0
        for number, group in enumerate(self.param_groups):
            count = len(group["params"])
            state[f"param_groups.{number}.params"] = np.arange(index, index + count)
            for name, value in group.items():
                if name != "params" and value is not None:
                    state[f"param_groups.{number}.{name}"] = np.asarray(value)
            for param in group["params"]:
                for name, value in self._export_state(param, self.state.get(param, {})).items():
                    state[f"state.{index}.{name}"] = value
                index += 1
        return state

    def _export_state(self, param, buffers) -> dict:
        """A parameter's buffers as arrays (complex ones back in the parameter's shape)."""
        dtype = np.dtype(param.dtype)
        exported = {}
        for name, value in buffers.items():
            if dtype.kind == "c" and name in self.param_shaped_state:
                value = _from_real_pairs(value, dtype)
            exported[name] = np.array(value, copy=True)
        return exported

    def load_state_dict(self, state: dict) -> None:
        """Restore what `state_dict` returned (of an optimiser of the same class built on the
        same parameters): options of every group, the step count and the buffers."""
        params = self._parameters()
        self.step_count = int(state.get("step_count", 0))
        if any(key.startswith("param_groups.") for key in state):
            self._load_groups(state)
        else:
            self._load_legacy_options(state)
        buffers = defaultdict(dict)
        for key, value in state.items():
            if key.startswith("state."):
                _, index, name = key.split(".", 2)
                buffers[int(index)][name] = value
        self.state = defaultdict(dict)
        for index, named in sorted(buffers.items()):
            if index >= len(params):
                name = next(iter(named))
                raise ShapeError(
                    f"{type(self).__name__}.load_state_dict: state.{index}.{name} belongs to "
                    f"parameter {index}, but this optimiser has {len(params)} parameters; was "
                    "the state saved for a different model?"
                )
            self.state[params[index]] = self._import_state(index, params[index], named)
        self._after_load(state)

    def _load_groups(self, state):
        numbers = sorted({int(key.split(".")[1]) for key in state
                          if key.startswith("param_groups.")})
        if len(numbers) != len(self.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: the state has {len(numbers)} parameter "
                f"group(s), this optimiser {len(self.param_groups)}"
            )
        for number, group in enumerate(self.param_groups):
            prefix = f"param_groups.{number}."
            saved = state.get(prefix + "params")
            if saved is not None and len(np.ravel(saved)) != len(group["params"]):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: parameter group {number} of the "
                    f"state has {len(np.ravel(saved))} parameters, this optimiser's has "
                    f"{len(group['params'])}"
                )
            for key, value in state.items():
                if key.startswith(prefix) and key != prefix + "params":
                    group[key[len(prefix):]] = _option(value)

    def _load_legacy_options(self, state):
        """The flat layout of earlier versions: `lr` and each hyperparameter at the top."""
        legacy = {key: _option(value) for key, value in state.items()
                  if not key.startswith("state.") and key != "step_count"}
        if "beta1" in legacy and "betas" in self.defaults:
            legacy["betas"] = (legacy.pop("beta1"), legacy.pop("beta2", self.defaults["betas"][1]))
        for group in self.param_groups:
            for name, value in legacy.items():
                if name in self.defaults:
                    group[name] = type(self.defaults[name])(value) \
                        if self.defaults[name] is not None else value

    def _after_load(self, state):
        """Hook: fill in what the layout of earlier versions did not save (Adam's step)."""

    def _import_state(self, index, param, named) -> dict:
        imported = {}
        for name, value in named.items():
            value = np.asarray(value)
            if name in self.param_shaped_state:
                if value.shape != param.shape:
                    raise ShapeError(
                        f"{type(self).__name__}.load_state_dict: state.{index}.{name} has shape "
                        f"{value.shape}, the parameter expects {param.shape}; was the state "
                        "saved for a different model?"
                    )
                value = np.array(value, dtype=param.dtype)
                imported[name] = _real_pairs(value) if value.dtype.kind == "c" else value
            elif value.ndim == 0:  # a count or a scalar (Adam's step, LBFGS's step size)
                imported[name] = value.item()
            else:
                imported[name] = np.array(value, copy=True)
        return imported

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            for name in sorted(key for key in group if key != "params"):
                lines.append(f"    {name}: {group[name]}")
        lines.append(")")
        return "\n".join(lines)


def _as_float(value) -> float:
    """A loss or metric (a Tensor, an array or a number) as a Python float, read as a constant."""
    if isinstance(value, cr.Tensor):
        return float(value.item())
    return float(np.asarray(value).item()) if isinstance(value, np.ndarray) else float(value)


def _option(value):
    """A saved option back as a Python value: a number, bool or string, or a tuple (betas)."""
    array = np.asarray(value)
    if array.ndim == 0:
        return array.item()
    return tuple(array.tolist())


def gradient_array(param, dtype):
    """`param.grad` as a NumPy array of `dtype` (its own buffer, read-only, when it has that
    dtype already): a gradient tensor's value without np.asarray's conversion protocol, which
    costs more than the update of a small parameter. A gradient that is itself on a graph
    (create_graph=True) goes through np.asarray, which refuses it as before."""
    grad = param.grad
    if isinstance(grad, cr.Tensor) and not grad.requires_grad:
        value = grad._value
        if type(value) is np.ndarray:
            if value.dtype != dtype:
                return value.astype(dtype)
            value = value.view()
            value.flags.writeable = False  # the optimiser reads the gradient, never writes it
            return value
    return np.asarray(grad, dtype=dtype)


def _real_pairs(array):
    """A complex array as real numbers, shape (..., 2): real and imaginary parts (NumPy's
    counterpart of torch.view_as_real, as a copy)."""
    return np.stack([array.real, array.imag], axis=-1)


def _from_real_pairs(pairs, dtype):
    """The complex array of `dtype` whose real and imaginary parts are pairs[..., 0], [..., 1]."""
    result = np.empty(pairs.shape[:-1], dtype)
    result.real, result.imag = pairs[..., 0], pairs[..., 1]
    return result
