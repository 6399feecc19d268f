"""Process-wide settings read by the derivative rules: `cr.config(strict_nan=True)` turns
chainrule's NaN-safe masking (a zero cotangent times an infinite derivative counts as zero) into
an error.
"""

import numpy as np

from chainrule.core.trace import physical_value
from chainrule.errors import AnomalyError

__all__ = ["config", "settings", "strict_nan_error"]


# ----- settings ----------------------------------------------------------------------------------
class _Settings:
    """Process-wide switches read by the rules (see `config`)."""

    strict_nan = False


settings = _Settings()


class config:
    """`cr.config(strict_nan=True)` switches chainrule's settings for the whole process.

    Used as a context manager (`with cr.config(strict_nan=True): ...`) the previous settings come
    back on exit. strict_nan: raise an AnomalyError where a zero cotangent meets an infinite or
    NaN local derivative, instead of counting that product as zero (the NaN-safe default).

    Returns:
        A config object: its `strict_nan` property reads the current setting, and as a context
        manager it restores on exit the settings from before it was made. `cr.config()`
        changes nothing.

    Raises:
        AnomalyError: under strict_nan, from a backward or forward pass that meets such a
            product (sqrt at 0 in the untaken branch of `cnp.where`, for instance).

    Example:
        >>> with cr.config(strict_nan=True):
        ...     cr.grad(lambda x: cnp.where(x > 0, cnp.sqrt(x), 0.0))(0.0)  # AnomalyError
    """

    def __init__(self, *, strict_nan=None):
        self._previous = {"strict_nan": settings.strict_nan}
        if strict_nan is not None:
            settings.strict_nan = bool(strict_nan)

    @property
    def strict_nan(self) -> bool:
        return settings.strict_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        settings.strict_nan = self._previous["strict_nan"]
        return False

    def __repr__(self):
        return f"config(strict_nan={settings.strict_nan})"


def strict_nan_error(what, cotangent, derivative):
    """The error `safe_times` raises under strict_nan (it would otherwise mask the product)."""
    bad = np.logical_not(np.isfinite(physical_value(derivative)))
    count = int(np.count_nonzero(np.logical_and(physical_value(cotangent) == 0, bad)))
    return AnomalyError(
        f"strict_nan: in the derivative of {what}, {count} entries multiply a zero cotangent by "
        "an infinite or NaN local derivative (e.g. sqrt at 0 in the untaken branch of where). "
        "chainrule counts these as 0 by default; strict_nan=True makes it an error. Keep the "
        "input away from the singular point (cnp.where on the input, not only on the output), "
        "or leave strict_nan off."
    )


