"""chainrule.scipy: SciPy's names, differentiable (an optional extra: `pip install
chainrule[scipy]`). Submodules mirror SciPy's: special, stats, linalg, signal, integrate. They
are imported on first use; without SciPy installed, the ones that call it raise
MissingExtraError naming the `pip install` that fixes it.
"""

import importlib

__all__ = ["special", "stats", "linalg", "signal", "integrate"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"chainrule.scipy.{name}")
    raise AttributeError(f"module 'chainrule.scipy' has no attribute {name!r}")
