"""Anomaly detection: backward stops at the first operation whose gradient turns NaN or infinite
and names the user's line that created it. Off by default; while off, the recorder and the
backward pass pay one attribute read per node (`switch.enabled`).
"""

import linecache
import os
import sys
import threading

import numpy as np

from chainrule.core.trace import raw_value
from chainrule.errors import AnomalyError

__all__ = [
    "detect_anomaly", "is_anomaly_enabled", "user_source", "describe_source", "switch",
    "annotate", "check",
]

# The package's folder: frames below it are chainrule's own, not the user's.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


# ----- where did the user write this? ------------------------------------------------------------
def user_source(skip: int = 1):
    """(filename, line number) of the innermost frame outside the chainrule package, or None."""
    frame = sys._getframe(skip)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return None
    return (frame.f_code.co_filename, frame.f_lineno)


def describe_source(source) -> str:
    """'file.py:12: y = cnp.log(x)' for a (filename, line) pair."""
    if source is None:
        return "an unknown line"
    filename, lineno = source
    code = linecache.getline(filename, lineno).strip()
    return f"{filename}:{lineno}" + (f": {code}" if code else "")


def _node_source(node):
    return getattr(node, "source", None)


def _where_created(node) -> str:
    source = _node_source(node)
    if source is None:
        return "(run the forward pass inside `with cr.detect_anomaly():` to see its source line)"
    return f"created at {describe_source(source)}"


# ----- anomaly detection -------------------------------------------------------------------------
class _Switch:
    """Whether detect_anomaly() is on (process-wide); read by core/tape.py and core/backward.py."""

    enabled = False


switch = _Switch()
_anomaly_lock = threading.Lock()
_anomaly_depth = 0


def is_anomaly_enabled() -> bool:
    return switch.enabled


def annotate(node):
    """At record time, under detect_anomaly(): note the user's line that created `node`."""
    node.source = user_source(2)


def _not_finite(value) -> bool:
    value = raw_value(value)
    if type(value) is np.float64 or type(value) is float:
        return not (value - value == 0.0)  # NaN - NaN and inf - inf are NaN
    return not np.isfinite(value).all()


def check(node, input_cotangents):
    """In backward, under detect_anomaly(): raise at the first non-finite cotangent."""
    for parent, cotangent in input_cotangents:
        if cotangent is not None and _not_finite(cotangent):
            raise _anomaly_error(node, parent, cotangent)


def _describe_inputs(node) -> str:
    parts = []
    for aval in node.input_avals:
        parts.append("constant" if aval is None else f"{np.dtype(aval[1]).name}{list(aval[0])}")
    return ", ".join(parts)


def _anomaly_error(node, parent, cotangent):
    index = next(i for i, p in enumerate(node.parents) if p is parent)
    value = np.asarray(raw_value(cotangent))
    nans = int(np.count_nonzero(np.isnan(value)))
    infs = int(np.count_nonzero(np.isinf(value)))
    return AnomalyError(
        f"detect_anomaly: the gradient became non-finite in the backward pass of "
        f"`{node.primitive.name}` (inputs: {_describe_inputs(node)}), "
        f"{_where_created(node)}. The cotangent it sends to input {index} has {nans} NaN and "
        f"{infs} infinite entries out of {value.size}. Look at the values reaching this "
        "operation: log or sqrt of 0, a division by 0, or an overflowing exp are the usual "
        "causes; clamp the input (cnp.clip, cnp.where on the input) or add a small epsilon."
    )


class detect_anomaly:
    """`with cr.detect_anomaly():` backward raises AnomalyError at the first primitive whose
    gradient becomes NaN or infinite, naming it, its input shapes and the line of your code that
    created it. Cheap enough to leave on while debugging (see the Guarantees section for the
    measured overhead). Wrap both the forward and the backward pass. The switch is process-wide.
    Also usable as a decorator: `@cr.detect_anomaly()`.

    Returns:
        A context manager (the `with` target is itself); applied to a function, the function
        wrapped so that each call runs with detection on. Blocks may nest (detection stays on
        until the outermost one exits).

    Raises:
        AnomalyError: inside the block, from the backward pass (`.backward()`, grad, vjp...):
            the first primitive whose cotangent for an input holds a NaN or an infinity.

    Example:
        >>> x = cr.tensor(0.0, requires_grad=True)
        >>> with cr.detect_anomaly():
        ...     cnp.sqrt(x).backward()           # AnomalyError: ... backward pass of `sqrt` ...
    """

    def __enter__(self):
        global _anomaly_depth
        with _anomaly_lock:
            _anomaly_depth += 1
            switch.enabled = True
        return self

    def __exit__(self, *exc_info):
        global _anomaly_depth
        with _anomaly_lock:
            _anomaly_depth -= 1
            switch.enabled = _anomaly_depth > 0
        return False

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return function(*args, **kwargs)

        return wrapper
