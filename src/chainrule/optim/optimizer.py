"""The `Optimizer` base class: parameter list, `zero_grad`, `step` and a flat `state_dict`.

Updates run under `cr.no_grad()` and change each Parameter in place (`p -= update`), so models
and other references keep pointing at the same tensors. Per-parameter state (momentum, moments)
is kept as plain NumPy arrays; the state dict is a flat {name: array}, ready for `chainrule.io`.

A complex parameter is updated as pairs of real numbers, as PyTorch does with torch.view_as_real:
`_update` sees value and gradient of shape (..., 2) (real part, imaginary part), so Adam's and
RMSprop's second moments are per part, never g * g of a complex g. Its `.grad` is PyTorch's
(conjugate Wirtinger), whose real view is the gradient with respect to the pairs: every update
rule descends unchanged. The state dict stores such a parameter's buffers as complex arrays of
its shape (real view's pairs as real and imaginary parts), as PyTorch's does.
"""

import numpy as np

import chainrule as cr
from chainrule.errors import ShapeError

__all__ = ["Optimizer"]


class Optimizer:
    """Subclasses define `defaults` (hyperparameter names) and `_update(index, p, grad)`, which
    sees real arrays only (a complex parameter's real pairs)."""

    defaults: tuple = ()
    state_names: tuple = ()

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for index, param in enumerate(self.params):
            if not isinstance(param, cr.Tensor) or not param.requires_grad or not param.is_leaf:
                raise TypeError(
                    f"{type(self).__name__}: parameter {index} is not a leaf Tensor with "
                    "requires_grad=True; pass model.parameters()"
                )
        if not lr > 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be positive, got {lr}")
        self.lr = float(lr)
        self.step_count = 0
        self.state = [dict() for _ in self.params]

    def zero_grad(self) -> None:
        for param in self.params:
            param.grad = None

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        self.step_count += 1
        with cr.no_grad():
            for index, param in enumerate(self.params):
                if param.grad is None:
                    continue
                grad = np.asarray(param.grad, dtype=param.dtype)
                value = param.numpy()
                if value.dtype.kind == "c":
                    update = self._update(index, _real_pairs(value), _real_pairs(grad))
                    param -= _from_real_pairs(update, value.dtype)
                else:
                    param -= self._update(index, value, grad)

    def _update(self, index, value, grad):  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def _buffer(self, index, name, like):
        state = self.state[index]
        if name not in state:
            state[name] = np.zeros_like(like)
        return state[name]

    # ----- state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """Hyperparameters, the step count and every state buffer, as a flat {name: array}."""
        state = {"lr": np.asarray(self.lr), "step_count": np.asarray(self.step_count)}
        for name in self.defaults:
            state[name] = np.asarray(getattr(self, name))
        for index, buffers in enumerate(self.state):
            dtype = np.dtype(self.params[index].dtype)
            for name, value in buffers.items():
                if dtype.kind == "c":
                    value = _from_real_pairs(value, dtype)
                state[f"state.{index}.{name}"] = np.array(value, copy=True)
        return state

    def load_state_dict(self, state: dict) -> None:
        self.lr = float(state["lr"])
        self.step_count = int(state["step_count"])
        for name in self.defaults:
            if name in state:
                setattr(self, name, type(getattr(self, name))(state[name].item()))
        self.state = [dict() for _ in self.params]
        for key, value in state.items():
            if key.startswith("state."):
                _, index, name = key.split(".", 2)
                self._load_buffer(int(index), name, value)

    def _load_buffer(self, index, name, value):
        if index >= len(self.params) or np.shape(value) != self.params[index].shape:
            expected = self.params[index].shape if index < len(self.params) else "no parameter"
            raise ShapeError(
                f"{type(self).__name__}.load_state_dict: state.{index}.{name} has shape "
                f"{np.shape(value)}, the parameter expects {expected}; was the state saved for a "
                "different model?"
            )
        value = np.array(value, dtype=self.params[index].dtype)
        self.state[index][name] = _real_pairs(value) if value.dtype.kind == "c" else value

    def __repr__(self):
        settings = ", ".join(f"{name}={getattr(self, name)}" for name in ("lr",) + self.defaults)
        return f"{type(self).__name__}({settings})"


def _real_pairs(array):
    """A complex array as real numbers, shape (..., 2): real and imaginary parts (NumPy's
    counterpart of torch.view_as_real, as a copy)."""
    return np.stack([array.real, array.imag], axis=-1)


def _from_real_pairs(pairs, dtype):
    """The complex array of `dtype` whose real and imaginary parts are pairs[..., 0], [..., 1]."""
    result = np.empty(pairs.shape[:-1], dtype)
    result.real, result.imag = pairs[..., 0], pairs[..., 1]
    return result
