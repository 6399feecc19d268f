"""chainrule.scipy.linalg: SciPy's scipy.linalg names, differentiable."""

__all__: list = []
