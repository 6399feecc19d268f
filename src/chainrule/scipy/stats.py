"""chainrule.scipy.stats: SciPy's scipy.stats names, differentiable."""

__all__: list = []
