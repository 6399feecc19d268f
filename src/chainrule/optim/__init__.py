"""`chainrule.optim`: optimisers, learning-rate schedules and gradient clipping.

    opt = optim.Adam(model.parameters(), lr=1e-3)
    opt.zero_grad(); loss.backward(); opt.step()
"""

from chainrule.optim import lr_scheduler
from chainrule.optim.algorithms import SGD, Adam, AdamW, RMSprop
from chainrule.optim.clip import clip_grad_norm_
from chainrule.optim.lr_scheduler import CosineAnnealingLR, StepLR
from chainrule.optim.optimizer import Optimizer

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "StepLR", "CosineAnnealingLR",
    "clip_grad_norm_", "lr_scheduler",
]
