"""`chainrule.optim`: optimisers, learning-rate schedules and gradient clipping (also under
PyTorch's name for it, `chainrule.nn.utils`).

    opt = optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()

Every optimiser takes parameter groups (a list of dicts with "params" and per-group options)
as PyTorch's do; `LBFGS` needs `step(closure)`. Schedules live in `optim.lr_scheduler`.
"""

from chainrule.optim import lr_scheduler
from chainrule.optim.algorithms import SGD, Adam, AdamW, RMSprop
from chainrule.optim.clip import clip_grad_norm_, clip_grad_value_
from chainrule.optim.lbfgs import LBFGS
from chainrule.optim.lr_scheduler import (
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from chainrule.optim.optimizer import Optimizer

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "LBFGS", "StepLR", "CosineAnnealingLR",
    "LinearLR", "LambdaLR", "SequentialLR", "ReduceLROnPlateau", "clip_grad_norm_",
    "clip_grad_value_", "lr_scheduler",
]
