"""Safety nets that cost nothing until used: anomaly detection, NaN policy, in-place checks.

`detect_anomaly()` makes backward stop at the first operation whose gradient turns NaN or
infinite and name the user's line that created it; `config(strict_nan=True)` turns chainrule's
NaN-safe masking (a zero cotangent times an infinite derivative is zero) into an error. The
in-place bookkeeping here lets backward refuse to differentiate through a value that was changed
after an operation saved it (PyTorch's version-counter check), naming both operations.
"""

import collections
import linecache
import os
import sys
import threading
import weakref

import numpy as np

from chainrule.core import graph as _graph
from chainrule.core.graph import Node
from chainrule.core.tensor import raw_value
from chainrule.errors import AllocationError, AnomalyError, InplaceError

__all__ = ["detect_anomaly", "config", "is_anomaly_enabled", "check_allocation", "user_source"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


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
    bad = np.logical_not(np.isfinite(raw_value(derivative)))
    count = int(np.count_nonzero(np.logical_and(raw_value(cotangent) == 0, bad)))
    return AnomalyError(
        f"strict_nan: in the derivative of {what}, {count} entries multiply a zero cotangent by "
        "an infinite or NaN local derivative (e.g. sqrt at 0 in the untaken branch of where). "
        "chainrule counts these as 0 by default; strict_nan=True makes it an error. Keep the "
        "input away from the singular point (cnp.where on the input, not only on the output), "
        "or leave strict_nan off."
    )


# ----- anomaly detection -------------------------------------------------------------------------
_anomaly_lock = threading.Lock()
_anomaly_depth = 0


def is_anomaly_enabled() -> bool:
    return _graph._anomaly.enabled


def _annotate(node, out):
    # Called at record time: _annotate <- _record_on_tape/process <- bind <- ... <- user code.
    node.source = user_source(2)


def _not_finite(value) -> bool:
    value = raw_value(value)
    if type(value) is np.float64 or type(value) is float:
        return not (value - value == 0.0)  # NaN - NaN and inf - inf are NaN
    return not np.isfinite(value).all()


def _check(node, input_cotangents):
    for parent, cotangent in input_cotangents:
        if _not_finite(cotangent):
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
    """

    def __enter__(self):
        global _anomaly_depth
        with _anomaly_lock:
            _anomaly_depth += 1
            _graph._anomaly.enabled = True
        return self

    def __exit__(self, *exc_info):
        global _anomaly_depth
        with _anomaly_lock:
            _anomaly_depth -= 1
            _graph._anomaly.enabled = _anomaly_depth > 0
        return False

    def __call__(self, function):
        import functools

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return function(*args, **kwargs)

        return wrapper


_graph._anomaly.annotate = _annotate
_graph._anomaly.check = _check


# ----- in-place bookkeeping ----------------------------------------------------------------------
class _InplaceMark:
    """On a node: `overwritten` describes the in-place update that replaced its output in the
    tensor holding it; `base` is the node (or leaf) an in-place node itself replaced."""

    __slots__ = ("overwritten", "base")

    def __init__(self):
        self.overwritten = None
        self.base = None


def _mark(node) -> _InplaceMark:
    mark = getattr(node, "inplace", None)
    if mark is None:
        mark = node.inplace = _InplaceMark()
    return mark


# id(leaf tensor) -> (weak reference to it, recent (id of a replaced buffer, its version,
# operation, source line)). A node that saved a replaced buffer keeps it alive, so that id is
# unique while the node can be checked. Keyed by id because Tensor's == is elementwise.
_leaf_history = {}
_HISTORY_LENGTH = 16


def _forget_leaf(key):
    return lambda reference: _leaf_history.pop(key, None)


def _history_of(leaf):
    entry = _leaf_history.get(id(leaf))
    return () if entry is None or entry[0]() is not leaf else entry[1]


def note_leaf_overwrite(target, old_value, old_version, operation):
    """Called when a leaf's buffer is replaced (in-place op under no_grad, x[i] = v)."""
    key = id(target)
    entry = _leaf_history.get(key)
    if entry is None or entry[0]() is not target:
        entry = (weakref.ref(target, _forget_leaf(key)), collections.deque(maxlen=_HISTORY_LENGTH))
        _leaf_history[key] = entry
    entry[1].append((id(old_value), old_version, operation, user_source(2)))
    _note_inplace()


def note_rebind(target, old_node, new_node, old_version, operation):
    """Called when an in-place op points `target` at a new node (the op was recorded)."""
    info = (operation, target.shape, old_version, target._version, user_source(2))
    if old_node is not None:
        _mark(old_node).overwritten = info
    if new_node is not None:
        _mark(new_node).base = old_node if old_node is not None else target
    _note_inplace()


def _note_inplace():
    # Nodes recorded from now on cannot have saved what was just replaced: only older ones
    # (node.epoch below the new epoch) are checked in backward.
    _graph._inplace.active = True
    _graph._inplace.epoch += 1


def check_saved_inputs(node):
    """Raise InplaceError if an input `node` saved for its VJP was changed in place since."""
    residuals = node.residuals
    parents = node.parents
    mark = getattr(node, "inplace", None)
    base = None if mark is None else mark.base
    count = len(parents)
    for position, spec in enumerate(node.primitive.saves):
        if type(spec) is not int or spec >= count:  # OUT, InputShape, or a variadic's spare slot
            continue
        parent = parents[spec]
        if parent is None or parent is base:
            continue
        if type(parent) is Node:
            parent_mark = getattr(parent, "inplace", None)
            if parent_mark is not None and parent_mark.overwritten is not None:
                raise _rebound_error(node, spec, parent_mark.overwritten)
        elif residuals[position] is not parent._value:
            raise _leaf_error(node, spec, parent, residuals[position])


def _fix_text(node) -> str:
    return (
        f"Use an out-of-place operation (y = y + 1 rather than y += 1), or call backward before "
        f"changing the tensor, or save a copy for `{node.primitive.name}` to use."
    )


def _rebound_error(node, index, info):
    operation, shape, old_version, new_version, source = info
    return InplaceError(
        f"backward through `{node.primitive.name}` {_where_created(node)}: its input {index} "
        f"(shape {shape}) was saved at version {old_version} and has since been modified in "
        f"place by `{operation}` at {describe_source(source)} (now version {new_version}), so "
        f"the gradient would not match the tensor you have now. {_fix_text(node)}"
    )


def _leaf_error(node, index, leaf, saved):
    saved_version, operation, source = "an earlier version", "an in-place update", None
    for buffer_id, version, op, where in reversed(_history_of(leaf)):
        if buffer_id == id(saved):
            saved_version, operation, source = f"version {version}", f"`{op}`", where
            break
    where_changed = f" at {describe_source(source)}" if source is not None else ""
    return InplaceError(
        f"backward through `{node.primitive.name}` {_where_created(node)}: its input {index}, "
        f"a leaf tensor of shape {leaf.shape}, was saved at {saved_version} and has since been "
        f"modified in place by {operation}{where_changed} (now version {leaf._version}); the "
        "gradient would be taken at the old value. Run the forward pass again after updating "
        f"parameters (e.g. after an optimiser step). {_fix_text(node)}"
    )


_graph._inplace.check = check_saved_inputs


# ----- allocation limits -------------------------------------------------------------------------
def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return 1 << 62


_MEMORY_LIMIT = _physical_memory()


def check_allocation(shape, dtype, what: str) -> None:
    """Raise AllocationError, before allocating, if an array of `shape` and `dtype` could not fit
    in this machine's memory (NumPy would fail, or succeed lazily and be killed later)."""
    count = 1
    for size in shape:
        count *= int(size)
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes > _MEMORY_LIMIT:
        raise AllocationError(
            f"{what}: an array of shape {tuple(shape)} and dtype {np.dtype(dtype)} needs "
            f"{_human(nbytes)}, more than this machine's {_human(_MEMORY_LIMIT)} of memory. "
            "Use a smaller shape, work in chunks (batches), or a float32 dtype."
        )


def _human(nbytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{nbytes} B"
        nbytes /= 1024
    return f"{nbytes} B"  # pragma: no cover
