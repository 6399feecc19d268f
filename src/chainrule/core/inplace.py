"""In-place bookkeeping: backward refuses to differentiate through a value that was changed
after an operation saved it (PyTorch's version-counter check), naming both operations. Nothing
is checked until the first in-place update of a tensor that a recorded operation may have saved
(`state.active`, read by the backward pass).
"""

import collections
import weakref

from chainrule.core.anomaly import _where_created, describe_source, user_source
from chainrule.core.primitive import TRACED_TYPES
from chainrule.errors import InplaceError

__all__ = ["note_leaf_overwrite", "note_rebind", "check_saved_inputs", "state"]


class _State:
    """`active` turns on at the first in-place update of a tensor that a recorded operation may
    have saved; until then backward pays nothing for the check. `epoch` counts such updates:
    a node records the epoch it was made in (see core/backward.py's Node)."""

    active = False
    epoch = 0


state = _State()


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
    state.active = True
    state.epoch += 1


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
        if type(parent) in TRACED_TYPES:  # a leaf tensor; otherwise a node
            if residuals[position] is not parent._value:
                raise _leaf_error(node, spec, parent, residuals[position])
            continue
        parent_mark = getattr(parent, "inplace", None)
        if parent_mark is not None and parent_mark.overwritten is not None:
            raise _rebound_error(node, spec, parent_mark.overwritten)


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
