"""L-BFGS with an optional strong-Wolfe line search, used as PyTorch's `optim.LBFGS`.

    optimizer = optim.LBFGS(model.parameters(), lr=1, line_search_fn="strong_wolfe")
    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss
    optimizer.step(closure)          # up to max_iter iterations; returns the first loss

The algorithm (Nocedal and Wright, Numerical Optimization, 2nd ed., 2006):

* The search direction d = -H g comes from the two-loop recursion (Algorithm 7.4) over the last
  `history_size` pairs s = x_{k+1} - x_k, y = g_{k+1} - g_k, with the initial matrix
  H0 = (s'y / y'y) I of equation (7.20). A pair is kept only when s'y > 1e-10 (the curvature
  condition; otherwise H would not stay positive definite).
* The first iteration steps along -g with t = lr min(1, 1 / |g|_1), later ones with t = lr.
* line_search_fn=None takes that step as it is; "strong_wolfe" searches for a t satisfying the
  strong Wolfe conditions f(x + t d) <= f(x) + c1 t g'd and |g(x + t d)'d| <= c2 |g'd|
  (c1 = 1e-4, c2 = 0.9): Algorithm 3.5 brackets an interval, extrapolating with the minimiser
  of the cubic interpolating f and f' at the last two points (equation 3.59) kept within
  [t + 0.01 (t - t_prev), 10 t]; Algorithm 3.6 ("zoom") then shrinks the bracket, each trial
  point the cubic's minimiser, moved to 0.1 of the bracket's width from its ends when it
  falls too close to one of them twice in a row. At most 25 function evaluations per search.
* Each `step(closure)` runs at most `max_iter` iterations and `max_eval` evaluations (default
  max_iter * 5 / 4), stopping early when the largest gradient entry is <= tolerance_grad, or
  the step (max |t d|) or the change of the loss is below tolerance_change.

These are also the constants and safeguards of PyTorch's LBFGS (itself a port of Mark Schmidt's
minFunc), so the iterates agree with PyTorch's to rounding; the tests compare them on
Rosenbrock's function and a least-squares problem. Only one parameter group is supported, as in
PyTorch. The memory (directions, differences, step) is kept in `optimizer.state` of the first
parameter and saved by `state_dict()`, so a resumed run continues exactly.
"""

import math

import numpy as np

import chainrule as cr
from chainrule.errors import ShapeError
from chainrule.optim.optimizer import (
    Optimizer,
    _as_float,
    _from_real_pairs,
    _real_pairs,
    gradient_array,
)

__all__ = ["LBFGS"]

_LISTS = ("old_dirs", "old_stps", "ro")


class LBFGS(Optimizer):
    """L-BFGS (see the module docstring). `step(closure)` needs a closure that clears the
    gradients, computes the loss, calls backward and returns the loss.

    Returns:
        `step(closure)` gives the loss the closure returned at the start of the step.

    Raises:
        TypeError: when `step` is called without a closure.
    """

    def __init__(self, params, lr: float = 1.0, max_iter: int = 20, max_eval=None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_iter < 1 or history_size < 1:
            raise ValueError("LBFGS: max_iter and history_size must be >= 1")
        defaults = dict(lr=float(lr), max_iter=int(max_iter), max_eval=int(max_eval),
                        tolerance_grad=float(tolerance_grad),
                        tolerance_change=float(tolerance_change),
                        history_size=int(history_size), line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): "
                             "pass all the parameters in one list")
        super().add_param_group(param_group)

    # ----- flat views of the parameters ----------------------------------------------------------
    @property
    def _params(self):
        return self.param_groups[0]["params"]

    def _flat_grad(self):
        pieces = []
        for param in self._params:
            if param.grad is None:
                grad = np.zeros(param.shape, param.dtype)
            else:
                grad = gradient_array(param, param.dtype)
            pieces.append((_real_pairs(grad) if grad.dtype.kind == "c" else grad).ravel())
        return np.concatenate(pieces)

    def _flat_values(self):
        pieces = []
        for param in self._params:
            value = param.numpy()
            pieces.append((_real_pairs(value) if value.dtype.kind == "c" else value).ravel())
        return np.concatenate(pieces)

    def _chunks(self, flat):
        """The flat vector `flat` cut into arrays shaped (and typed) as the parameters."""
        offset = 0
        for param in self._params:
            dtype = np.dtype(param.dtype)
            size = int(np.prod(param.shape, dtype=np.int64))
            if dtype.kind == "c":
                pairs = flat[offset:offset + 2 * size].reshape(param.shape + (2,))
                yield param, _from_real_pairs(pairs, dtype)
                offset += 2 * size
            else:
                yield param, flat[offset:offset + size].reshape(param.shape)
                offset += size

    def _add(self, step):
        """Add the flat vector `step` to the parameters, in place."""
        with cr.no_grad():
            for param, chunk in self._chunks(step):
                param += chunk

    def _set(self, flat):
        """Overwrite the parameters' values with the flat vector `flat`, in place."""
        with cr.no_grad():
            for param, chunk in self._chunks(flat):
                param[...] = chunk

    def _evaluate(self, closure):
        with cr.enable_grad():
            loss = closure()
        return loss, self._flat_grad()

    # ----- the iteration -------------------------------------------------------------------------
    def step(self, closure=None):  # noqa: C901 - one algorithm, kept in one piece
        """Run up to max_iter L-BFGS iterations; returns the loss the closure gave first."""
        if closure is None:
            raise TypeError("LBFGS.step needs a closure that re-evaluates the model: "
                            "optimizer.step(closure), the closure clearing the gradients, "
                            "computing the loss, calling backward and returning the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]
        self.step_count += 1
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss, grad = self._evaluate(closure)
        loss = _as_float(first_loss)
        evaluations = 1
        state["func_evals"] += 1
        if np.abs(grad).max() <= tolerance_grad:
            return first_loss

        direction, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        h_diag, prev_grad = state.get("H_diag"), state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")

        iteration = 0
        while iteration < max_iter:
            iteration += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                direction = -grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1.0
            else:
                y = grad - prev_grad
                s = direction * t
                ys = float(y @ s)
                if ys > 1e-10:  # the curvature condition: keep the pair
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                direction = _two_loop(grad, old_dirs, old_stps, ro, h_diag)
            prev_grad = grad.copy()
            prev_loss = loss

            t = min(1.0, 1.0 / float(np.abs(grad).sum())) * lr if state["n_iter"] == 1 else lr
            slope = float(grad @ direction)
            if slope > -tolerance_change:  # not a descent direction (any more)
                break

            used = 0
            if line_search == "strong_wolfe":
                start = self._flat_values()

                def along(step_size, start=start, direction=direction):
                    self._set(start + step_size * direction)
                    value, gradient = self._evaluate(closure)
                    return _as_float(value), gradient

                loss, grad, t, used = _strong_wolfe(along, t, direction, loss, grad, slope)
                self._set(start)
                self._add(t * direction)
                converged = np.abs(grad).max() <= tolerance_grad
            else:
                self._add(t * direction)
                converged = False
                if iteration != max_iter:
                    value, grad = self._evaluate(closure)
                    loss = _as_float(value)
                    converged = np.abs(grad).max() <= tolerance_grad
                    used = 1
            evaluations += used
            state["func_evals"] += used

            if iteration == max_iter or evaluations >= max_eval or converged:
                break
            if np.abs(direction * t).max() <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=direction, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro,
                     H_diag=h_diag, prev_flat_grad=prev_grad, prev_loss=prev_loss)
        return first_loss

    # ----- state ---------------------------------------------------------------------------------
    def _export_state(self, param, buffers):
        exported = {}
        size = self._flat_values().size
        for name, value in buffers.items():
            if value is None:
                continue
            if name in ("old_dirs", "old_stps"):
                value = np.array(value).reshape(len(value), size)
            exported[name] = np.array(value, copy=True)
        return exported

    def _import_state(self, index, param, named):
        imported = {}
        size = self._flat_values().size
        for name, value in named.items():
            value = np.asarray(value)
            if name in ("d", "prev_flat_grad") and value.shape != (size,) or \
                    name in ("old_dirs", "old_stps") and value.shape[1:] != (size,):
                raise ShapeError(
                    f"LBFGS.load_state_dict: state.{index}.{name} has shape {value.shape} for "
                    f"{size} parameter entries; was the state saved for a different model?"
                )
            if name in ("old_dirs", "old_stps"):
                imported[name] = [row.copy() for row in value]
            elif name == "ro":
                imported[name] = [float(v) for v in value]
            elif value.ndim == 0:
                imported[name] = value.item()
            else:
                imported[name] = value.copy()
        return imported


def _two_loop(grad, old_dirs, old_stps, ro, h_diag):
    """-H g by the two-loop recursion (Nocedal and Wright, Algorithm 7.4): y = old_dirs,
    s = old_stps, ro = 1 / y's, H0 = h_diag I."""
    q = -grad
    alphas = [0.0] * len(old_dirs)
    for i in range(len(old_dirs) - 1, -1, -1):
        alphas[i] = float(old_stps[i] @ q) * ro[i]
        q = q - alphas[i] * old_dirs[i]
    r = q * h_diag
    for i in range(len(old_dirs)):
        beta = float(old_dirs[i] @ r) * ro[i]
        r = r + (alphas[i] - beta) * old_stps[i]
    return r


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2 (Nocedal and
    Wright, equation 3.59), clipped to `bounds` (default: the interval between the points); the
    interval's middle when the cubic has no minimum."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    square = d1 * d1 - g1 * g2
    if square < 0:
        return (low + high) / 2.0
    d2 = math.sqrt(square)
    if x1 <= x2:
        point = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        point = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(point, low), high)


def _strong_wolfe(along, t, direction, f0, g0, slope0, c1=1e-4, c2=0.9,
                  tolerance_change=1e-9, max_evaluations=25):
    """A step t along `direction` satisfying the strong Wolfe conditions (Nocedal and Wright,
    Algorithms 3.5 and 3.6 with cubic interpolation). `along(t)` evaluates the loss and the flat
    gradient at x + t direction. Returns (loss, gradient, t, evaluations)."""
    scale = float(np.abs(direction).max())
    f, g = along(t)
    evaluations = 1
    slope = float(g @ direction)

    # Bracketing (Algorithm 3.5): grow t until an interval must hold an acceptable step.
    t_prev, f_prev, g_prev, slope_prev = 0.0, f0, g0, slope0
    bracket = None
    done = False
    tries = 0
    while tries < max_evaluations:
        if f > f0 + c1 * t * slope0 or (tries > 1 and f >= f_prev):
            bracket = [[t_prev, f_prev, g_prev, slope_prev], [t, f, g, slope]]
            break
        if abs(slope) <= -c2 * slope0:  # both conditions hold: done
            bracket, done = [[t, f, g, slope]], True
            break
        if slope >= 0:
            bracket = [[t_prev, f_prev, g_prev, slope_prev], [t, f, g, slope]]
            break
        extrapolated = _cubic_minimum(t_prev, f_prev, slope_prev, t, f, slope,
                                      bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, slope_prev = t, f, g, slope
        t = extrapolated
        f, g = along(t)
        evaluations += 1
        slope = float(g @ direction)
        tries += 1
    if tries == max_evaluations:  # out of evaluations: the last step against the start
        bracket = [[0.0, f0, g0, slope0], [t, f, g, slope]]

    # Zoom (Algorithm 3.6): shrink the bracket [low, high] around an acceptable step.
    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient = False
    while not done and tries < max_evaluations:
        (a, f_a, _, slope_a), (b, f_b, _, slope_b) = bracket
        if abs(b - a) * scale < tolerance_change:
            break
        t = _cubic_minimum(a, f_a, slope_a, b, f_b, slope_b)
        left, right = min(a, b), max(a, b)
        margin = 0.1 * (right - left)
        if min(right - t, t - left) < margin:  # too close to an end of the bracket
            if insufficient or t >= right or t <= left:
                t = right - margin if abs(t - right) < abs(t - left) else left + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f, g = along(t)
        evaluations += 1
        slope = float(g @ direction)
        tries += 1
        if f > f0 + c1 * t * slope0 or f >= bracket[low][1]:
            bracket[high] = [t, f, g, slope]
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(slope) <= -c2 * slope0:
                done = True
            elif slope * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = [t, f, g, slope]
    t, f, g, _ = bracket[low]
    return f, g, t, evaluations
