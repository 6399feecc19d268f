"""Where the safety nets used to live; kept so that existing imports keep working.

Anomaly detection is in `chainrule.core.anomaly`, the NaN policy in `chainrule.core.config`,
the in-place version checks in `chainrule.core.inplace`, the allocation check in
`chainrule.numpy._explain`.
"""

from chainrule.core.anomaly import (  # noqa: F401
    describe_source,
    detect_anomaly,
    is_anomaly_enabled,
    user_source,
)
from chainrule.core.config import config, settings, strict_nan_error  # noqa: F401
from chainrule.core.inplace import (  # noqa: F401
    check_saved_inputs,
    note_leaf_overwrite,
    note_rebind,
)
from chainrule.numpy._explain import check_allocation  # noqa: F401

__all__ = ["detect_anomaly", "config", "is_anomaly_enabled", "check_allocation", "user_source"]
