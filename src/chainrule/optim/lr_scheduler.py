"""Learning-rate schedules: call `scheduler.step()` once per epoch (or per batch), after
`optimizer.step()`; `ReduceLROnPlateau.step(metric)` takes the validation metric.

Each scheduler sets `group["lr"]` of every parameter group of its optimiser from the group's
starting rate (`group["initial_lr"]`, recorded by the first scheduler built on it) and the
number of completed steps (`scheduler.last_epoch`), by the closed-form expressions in the
docstrings; they equal PyTorch's schedules (whose recursive forms differ only by rounding).
Building a scheduler applies epoch 0 (LinearLR starts at start_factor * lr). Two schedulers
stepping one optimiser at once do not compose (each sets the rate): chain them in time with
`SequentialLR`, or multiply factors in one `LambdaLR`.

The usual warm-up recipe, a linear ramp then a cosine decay, is `warmup_cosine`:

    scheduler = lr_scheduler.SequentialLR(optimizer, [
        lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
        lr_scheduler.CosineAnnealingLR(optimizer, T_max=total - warmup),
    ], milestones=[warmup])

`state_dict()` is a flat {name: array} like the optimisers'.
"""

import bisect
import math

import numpy as np

from chainrule.optim.optimizer import _as_float

__all__ = [
    "LRScheduler", "StepLR", "CosineAnnealingLR", "LinearLR", "LambdaLR", "SequentialLR",
    "ReduceLROnPlateau", "warmup_cosine",
]


class LRScheduler:
    """Sets every group's `lr` to `lr_at(last_epoch)` on each `step()`; `last_epoch` counts
    completed steps (0 after construction, as in PyTorch). Subclasses define
    `_rate(index, base_lr, epoch)` for group `index`."""

    def __init__(self, optimizer, last_epoch: int = -1):
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: last_epoch={last_epoch} resumes a schedule, "
                        f"but parameter group {number} has no 'initial_lr'; load the "
                        "optimizer's state dict first, or leave last_epoch at -1"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        self.step()

    @property
    def base_lr(self) -> float:
        """The starting rate of the first group (earlier versions had a single one)."""
        return self.base_lrs[0]

    def _rate(self, index, base_lr, epoch):  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def lr_at(self, epoch: int) -> list:
        """The learning rate of every group after `epoch` steps."""
        return [self._rate(index, base, epoch) for index, base in enumerate(self.base_lrs)]

    def _apply(self, epoch):
        self.last_epoch = epoch
        for group, lr in zip(self.optimizer.param_groups, self.lr_at(epoch)):
            group["lr"] = float(lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self) -> None:
        self._apply(self.last_epoch + 1)

    def get_last_lr(self) -> list:
        """The rates the last `step()` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {"base_lrs": np.asarray(self.base_lrs, dtype=np.float64),
                "last_epoch": np.asarray(self.last_epoch)}

    def load_state_dict(self, state: dict) -> None:
        if "base_lrs" in state:
            self.base_lrs = [float(v) for v in np.ravel(state["base_lrs"])]
        else:  # earlier versions: one base_lr
            self.base_lrs = [float(state["base_lr"])] * len(self.optimizer.param_groups)
        self._apply(int(state["last_epoch"]))

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


class StepLR(LRScheduler):
    """lr = base_lr * gamma^(epoch // step_size).

    Returns:
        `step()` returns None and sets each group's "lr"; `get_last_lr()` lists them.
    """

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def _rate(self, index, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2: from base_lr at
    epoch 0 down to eta_min at epoch T_max; past T_max the cosine goes on (back up to base_lr
    at 2 T_max), as PyTorch's does. (Without restarts: see SGDR for those.)

    Returns:
        `step()` returns None and sets each group's "lr"; `get_last_lr()` lists them.
    """

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0,  # noqa: N803 - PyTorch's
                 last_epoch: int = -1):
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer, last_epoch)

    def _rate(self, index, base_lr, epoch):
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (base_lr - self.eta_min) * cosine


class LinearLR(LRScheduler):
    """lr = base_lr (s + (e - s) min(epoch, total_iters) / total_iters): a linear ramp of the
    factor from start_factor s to end_factor e over total_iters steps, then constant.

    Returns:
        `step()` returns None and sets each group's "lr"; `get_last_lr()` lists them.
    """

    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must lie in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must lie in [0, 1], got {end_factor}")
        if total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be >= 1, got {total_iters}")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def _rate(self, index, base_lr, epoch):
        progress = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); `lr_lambda` is one function, or one per group.

    Returns:
        `step()` returns None and sets each group's "lr"; `get_last_lr()` lists them.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(f"LambdaLR: expected {groups} lr_lambda functions (one per "
                                 f"parameter group), got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        super().__init__(optimizer, last_epoch)

    def _rate(self, index, base_lr, epoch):
        return base_lr * self.lr_lambdas[index](epoch)


class SequentialLR(LRScheduler):
    """`schedulers[i]` runs from milestone i-1 (0 for the first) to milestone i, each counting
    its own epochs from 0 at its start, as PyTorch's SequentialLR. All of them must be built
    on `optimizer`.

    Returns:
        `step()` returns None and sets each group's "lr"; `get_last_lr()` lists them.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        schedulers, milestones = list(schedulers), [int(m) for m in milestones]
        if not schedulers:
            raise ValueError("SequentialLR: needs at least one scheduler")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: {len(schedulers)} schedulers need {len(schedulers) - 1} "
                f"milestones, got {len(milestones)}"
            )
        if any(b <= a for a, b in zip(milestones, milestones[1:])) or \
                (milestones and milestones[0] < 1):
            raise ValueError(f"SequentialLR: milestones must increase from >= 1, got "
                             f"{milestones}")
        for number, scheduler in enumerate(schedulers):
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {number} is built on another "
                                 "optimizer")
            if isinstance(scheduler, (SequentialLR, ReduceLROnPlateau)):
                raise TypeError(f"SequentialLR: scheduler {number} must be a plain schedule, "
                                f"not {type(scheduler).__name__}")
        self._schedulers, self._milestones = schedulers, milestones
        super().__init__(optimizer, last_epoch)

    def _current(self, epoch):
        index = bisect.bisect_right(self._milestones, epoch)
        start = self._milestones[index - 1] if index else 0
        return self._schedulers[index], epoch - start

    def lr_at(self, epoch):
        scheduler, local = self._current(epoch)
        return scheduler.lr_at(local)

    def _apply(self, epoch):
        scheduler, local = self._current(epoch)
        scheduler.last_epoch = local
        super()._apply(epoch)
        scheduler._last_lr = list(self._last_lr)

    def state_dict(self):
        state = super().state_dict()
        for number, scheduler in enumerate(self._schedulers):
            for key, value in scheduler.state_dict().items():
                state[f"schedulers.{number}.{key}"] = value
        return state

    def load_state_dict(self, state):
        for number, scheduler in enumerate(self._schedulers):
            prefix = f"schedulers.{number}."
            inner = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            if inner:
                scheduler.base_lrs = [float(v) for v in np.ravel(inner["base_lrs"])]
                scheduler.last_epoch = int(inner["last_epoch"])
        super().load_state_dict(state)


def warmup_cosine(optimizer, warmup_steps: int, total_steps: int, start_factor: float = 0.01,
                  eta_min: float = 0.0) -> SequentialLR:
    """Linear warm-up from start_factor * lr to lr over `warmup_steps`, then a cosine decay to
    `eta_min` reached at `total_steps`: SequentialLR of LinearLR and CosineAnnealingLR."""
    if not 1 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_cosine: needs 1 <= warmup_steps < total_steps, got "
                         f"{warmup_steps} and {total_steps}")
    return SequentialLR(optimizer, [
        LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps),
        CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=eta_min),
    ], milestones=[warmup_steps])


class ReduceLROnPlateau:
    """Multiply every group's lr by `factor` once the metric passed to `step(metric)` has not
    improved for more than `patience` steps, as PyTorch's ReduceLROnPlateau:

    * improvement (mode "min"): metric < best (1 - threshold) ("rel") or metric < best -
      threshold ("abs"); mode "max" mirrors it (best (1 + threshold), best + threshold);
    * a reduction sets lr = max(lr factor, min_lr) (min_lr: a number, or one per group), skipped
      when it would change lr by less than `eps`; then `cooldown` steps pass during which bad
      steps are not counted.

    Returns:
        `step(metric)` returns None and lowers each group's "lr" after `patience`
        epochs without improvement.
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr=0.0, eps: float = 1e-8):
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        if not factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        self.optimizer = optimizer
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(f"ReduceLROnPlateau: expected {groups} min_lr values (one per "
                                 f"parameter group), got {len(min_lr)}")
            self.min_lrs = [float(v) for v in min_lr]
        else:
            self.min_lrs = [float(min_lr)] * groups
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.eps = int(cooldown), float(eps)
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, value: float, best: float) -> bool:
        if self.mode == "min":
            bound = best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else best - self.threshold
            return value < bound
        bound = best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else best + self.threshold
        return value > bound

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics) -> None:
        current = _as_float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        return list(self._last_lr)

    _STATE = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")

    def state_dict(self) -> dict:
        state = {name: np.asarray(getattr(self, name)) for name in self._STATE}
        state["last_lr"] = np.asarray(self._last_lr, dtype=np.float64)
        return state

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])
        self.num_bad_epochs = int(state["num_bad_epochs"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self.last_epoch = int(state["last_epoch"])
        if "last_lr" in state:
            self._last_lr = [float(v) for v in np.ravel(state["last_lr"])]

    def __repr__(self):
        return (f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, "
                f"patience={self.patience}, best={self.best}, lr={self._last_lr})")
