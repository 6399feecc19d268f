"""SGD (momentum, Nesterov, weight decay), Adam (AMSGrad), AdamW and RMSprop (centred).

Each `_update` returns the step to subtract, following the published equations written in its
docstring (g: gradient, t: the parameter's own step count starting at 1, as PyTorch's). Every
option is per parameter group (`optimizer.param_groups[i]`); the constructor's arguments are
the defaults.
"""

import math

import numpy as np

from chainrule.optim.optimizer import Optimizer, gradient_array

__all__ = ["SGD", "Adam", "AdamW", "RMSprop"]


def _check_non_negative(optimizer, group, *names):
    for name in names:
        if not group[name] >= 0:
            raise ValueError(f"{type(optimizer).__name__}: {name} must be >= 0, got {group[name]}")


class SGD(Optimizer):
    """g <- g + wd p;  b <- mu b + (1 - dampening) g (b = g at the first step);
    d = g + mu b (Nesterov) or b;  p <- p - lr d.  With momentum 0: p <- p - lr g.

    Returns:
        `step(closure=None)` gives the closure's loss when one is given, else None;
        parameters are updated in place.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        defaults = dict(lr=float(lr), momentum=float(momentum), dampening=float(dampening),
                        weight_decay=float(weight_decay), nesterov=bool(nesterov))
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_non_negative(self, group, "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, state, value, grad, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * value
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.copy()
            else:
                state["momentum_buffer"] = momentum * state["momentum_buffer"] \
                    + (1 - group["dampening"]) * grad
            buffer = state["momentum_buffer"]
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        return group["lr"] * grad


class Adam(Optimizer):
    """g <- g + wd p;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  (Kingma and Ba, 2015).
    With amsgrad=True v is replaced by the running maximum of v (Reddi et al., 2018).

    Returns:
        `step(closure=None)` gives the closure's loss when one is given, else None;
        parameters are updated in place.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        defaults = dict(lr=float(lr), betas=(float(betas[0]), float(betas[1])), eps=float(eps),
                        weight_decay=float(weight_decay), amsgrad=bool(amsgrad))
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        beta1, beta2 = group["betas"]
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1), got "
                             f"{group['betas']}")
        _check_non_negative(self, group, "eps", "weight_decay")

    def _step_group_at_once(self, group) -> bool:
        """Adam on one flat array for the whole group: for many small parameters the per-call
        cost of NumPy dominates (a digits MLP's step spent a fifth of its time here). The
        moments live in flat buffers and each parameter's state holds views of them, so
        state_dict and per-parameter access are unchanged. Only the plain case: every parameter
        real, of one dtype, with a gradient, the same step count, no weight decay, no AMSGrad;
        anything else goes parameter by parameter (same numbers)."""
        params = group["params"]
        if group["weight_decay"] or group["amsgrad"] or len(params) < 2:
            return False
        dtype = params[0].dtype
        if dtype.kind != "f" or any(p.grad is None or p.dtype != dtype for p in params):
            return False
        states = [self.state[p] for p in params]
        if len({s.get("step", 0) for s in states}) != 1:
            return False  # some stepped alone (a missing gradient once): bias corrections differ
        flats = self.__dict__.setdefault("_flat_moments", {})  # not a group option: not saved
        flat = flats.get(id(group))
        if flat is None or any(
            s.get("exp_avg") is None or s["exp_avg"].base is not flat[0]
            or s["exp_avg_sq"].base is not flat[1] for s in states
        ):
            flat = flats[id(group)] = self._pack(params, states)
        m, v = flat
        grad = np.concatenate([gradient_array(p, dtype).reshape(-1) for p in params])
        update = self._adam_step(states[0], grad, group, m, v)
        for state in states[1:]:
            state["step"] = states[0]["step"]
        offset = 0
        for param in params:
            shape = param.shape
            size = math.prod(shape)
            param -= update[offset:offset + size].reshape(shape)
            offset += size
        return True

    @staticmethod
    def _pack(params, states):
        """Flat moment buffers for the group, with each parameter's state pointed at its views
        (existing moments, from earlier steps or load_state_dict, copied in)."""
        total = sum(math.prod(p.shape) for p in params)
        dtype = params[0].dtype
        m, v = np.zeros(total, dtype), np.zeros(total, dtype)
        offset = 0
        for param, state in zip(params, states, strict=True):
            size = math.prod(param.shape)
            for name, buffer in (("exp_avg", m), ("exp_avg_sq", v)):
                view = buffer[offset:offset + size].reshape(param.shape)
                if name in state:
                    view[...] = state[name]
                state[name] = view
            offset += size
        return m, v

    def _adam_step(self, state, grad, group, m=None, v=None):
        beta1, beta2 = group["betas"]
        # The moments are updated in place: the buffers are the optimiser's own (made here or
        # copied by load_state_dict; state_dict exports copies). Each operation is the one the
        # textbook form evaluates, in its order, so the numbers are the same to the last bit,
        # with four temporaries instead of eleven (the digits epoch: 10% faster).
        if m is None:
            m = self._buffer(state, "exp_avg", grad)
            v = self._buffer(state, "exp_avg_sq", grad)
        m *= beta1
        m += (1 - beta1) * grad  # m = beta1 m + (1 - beta1) g
        square = (1 - beta2) * grad
        square *= grad
        v *= beta2
        v += square  # v = beta2 v + (1 - beta2) g g
        t = state.get("step", 0) + 1
        state["step"] = t
        if group["amsgrad"]:
            largest = self._buffer(state, "max_exp_avg_sq", grad)
            np.maximum(largest, v, out=largest)
            v = largest
        update = m / (1 - beta1**t)  # m_hat
        update *= group["lr"]
        denominator = v / (1 - beta2**t)  # v_hat
        np.sqrt(denominator, out=denominator)
        denominator += group["eps"]
        update /= denominator  # lr m_hat / (sqrt(v_hat) + eps)
        return update

    def _update(self, state, value, grad, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * value
        return self._adam_step(state, grad, group)

    def _after_load(self, state):
        # Earlier versions counted Adam's steps once for all parameters (step_count).
        for buffers in self.state.values():
            if "exp_avg" in buffers and "step" not in buffers:
                buffers["step"] = self.step_count


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019):
    p <- p - lr wd p - lr m_hat / (sqrt(v_hat) + eps); the gradient itself is not decayed.

    Returns:
        `step(closure=None)` gives the closure's loss when one is given, else None;
        parameters are updated in place.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)

    def _update(self, state, value, grad, group):
        return group["lr"] * group["weight_decay"] * value + self._adam_step(state, grad, group)


class RMSprop(Optimizer):
    """g <- g + wd p;  v <- alpha v + (1 - alpha) g^2;  b <- mu b + g / (sqrt(v) + eps);
    p <- p - lr b  (with momentum 0: p <- p - lr g / (sqrt(v) + eps))  (Hinton's lecture 6e).
    centered=True divides by sqrt(v - a^2) + eps instead, a <- alpha a + (1 - alpha) g the
    running mean of g (Graves, 2013).

    Returns:
        `step(closure=None)` gives the closure's loss when one is given, else None;
        parameters are updated in place.
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False):
        defaults = dict(lr=float(lr), alpha=float(alpha), eps=float(eps),
                        weight_decay=float(weight_decay), momentum=float(momentum),
                        centered=bool(centered))
        super().__init__(params, defaults)

    def _check_group(self, group):
        super()._check_group(group)
        _check_non_negative(self, group, "alpha", "eps", "weight_decay", "momentum")

    def _update(self, state, value, grad, group):
        alpha = group["alpha"]
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * value
        square_avg = alpha * self._buffer(state, "square_avg", grad) + (1 - alpha) * grad * grad
        state["square_avg"] = square_avg
        if group["centered"]:
            grad_avg = alpha * self._buffer(state, "grad_avg", grad) + (1 - alpha) * grad
            state["grad_avg"] = grad_avg
            step = grad / (np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"])
        else:
            step = grad / (np.sqrt(square_avg) + group["eps"])
        if group["momentum"]:
            step = group["momentum"] * self._buffer(state, "momentum_buffer", grad) + step
            state["momentum_buffer"] = step
        return group["lr"] * step
