"""chainrule.scipy.signal: SciPy's scipy.signal names, differentiable."""

__all__: list = []
