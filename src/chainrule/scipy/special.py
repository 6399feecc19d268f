"""chainrule.scipy.special: SciPy's scipy.special names, differentiable."""

__all__: list = []
