"""SGD (momentum, Nesterov, weight decay), Adam, AdamW and RMSprop.

Each `_update` returns the step to subtract, following the published equations written in its
docstring (g: gradient, t: step count starting at 1).
"""

import numpy as np

from chainrule.optim.optimizer import Optimizer

__all__ = ["SGD", "Adam", "AdamW", "RMSprop"]


class SGD(Optimizer):
    """g <- g + wd p;  b <- mu b + (1 - dampening) g (b = g at the first step);
    d = g + mu b (Nesterov) or b;  p <- p - lr d.  With momentum 0: p <- p - lr g."""

    defaults = ("momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), bool(nesterov)

    def _update(self, index, value, grad):
        if self.weight_decay:
            grad = grad + self.weight_decay * value
        if self.momentum:
            state = self.state[index]
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.copy()
            else:
                buffer = state["momentum_buffer"]
                state["momentum_buffer"] = self.momentum * buffer + (1 - self.dampening) * grad
            buffer = state["momentum_buffer"]
            grad = grad + self.momentum * buffer if self.nesterov else buffer
        return self.lr * grad


class Adam(Optimizer):
    """g <- g + wd p;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  (Kingma and Ba, 2015)."""

    defaults = ("beta1", "beta2", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1), got {betas}")
        self.eps, self.weight_decay = float(eps), float(weight_decay)

    def _decayed_gradient(self, value, grad):
        return grad + self.weight_decay * value if self.weight_decay else grad

    def _adam_step(self, index, grad):
        m = self._buffer(index, "exp_avg", grad)
        v = self._buffer(index, "exp_avg_sq", grad)
        m = self.beta1 * m + (1 - self.beta1) * grad
        v = self.beta2 * v + (1 - self.beta2) * grad * grad
        self.state[index]["exp_avg"], self.state[index]["exp_avg_sq"] = m, v
        t = self.step_count
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def _update(self, index, value, grad):
        return self._adam_step(index, self._decayed_gradient(value, grad))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019):
    p <- p - lr wd p - lr m_hat / (sqrt(v_hat) + eps); the gradient itself is not decayed."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(self, index, value, grad):
        return self.lr * self.weight_decay * value + self._adam_step(index, grad)


class RMSprop(Optimizer):
    """g <- g + wd p;  v <- alpha v + (1 - alpha) g^2;  b <- mu b + g / (sqrt(v) + eps);
    p <- p - lr b  (with momentum 0: p <- p - lr g / (sqrt(v) + eps))  (Hinton's lecture 6e)."""

    defaults = ("alpha", "eps", "weight_decay", "momentum")

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0):
        super().__init__(params, lr)
        self.alpha, self.eps = float(alpha), float(eps)
        self.weight_decay, self.momentum = float(weight_decay), float(momentum)

    def _update(self, index, value, grad):
        if self.weight_decay:
            grad = grad + self.weight_decay * value
        square_avg = self.alpha * self._buffer(index, "square_avg", grad) \
            + (1 - self.alpha) * grad * grad
        self.state[index]["square_avg"] = square_avg
        step = grad / (np.sqrt(square_avg) + self.eps)
        if self.momentum:
            step = self.momentum * self._buffer(index, "momentum_buffer", grad) + step
            self.state[index]["momentum_buffer"] = step
        return self.lr * step
