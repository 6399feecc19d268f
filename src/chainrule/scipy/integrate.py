"""chainrule.scipy.integrate: SciPy's scipy.integrate names, differentiable."""

__all__: list = []
