"""Pytrees: nested containers (tuple, list, dict, named tuple, registered classes) of arrays.

Transforms flatten their inputs and outputs into a list of leaves plus a `TreeDef` that says how
to rebuild them, differentiate the leaves, and rebuild results in the caller's structure.
Dict keys are sorted (as in JAX), so two dicts with the same keys flatten alike. `None` is an
empty container: it has no leaves.
"""

import collections

from chainrule.errors import TreeStructureError

__all__ = [
    "TreeDef", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_map", "tree_structure",
    "register_pytree_node",
]

# type -> (flatten(node) -> (children, static data), unflatten(static data, children) -> node)
_NODE_TYPES: dict = {}


def register_pytree_node(cls, flatten, unflatten):
    """Let transforms see inside instances of `cls`.

    `flatten(obj)` returns `(children, aux)`: an iterable of child values and anything hashable
    that is not differentiated (names, sizes); `unflatten(aux, children)` rebuilds an object.

    Returns:
        None. From then on every transform flattens instances of exactly `cls` (not its
        subclasses) into their children; registering a class again replaces its functions.

    Raises:
        TypeError: flatten or unflatten is not callable.

    Example:
        >>> cr.register_pytree_node(Point, lambda p: ((p.x, p.y), None),
        ...                         lambda aux, children: Point(*children))
        >>> cr.grad(lambda p: p.x * p.y)(Point(3.0, 2.0))      # Point(x=2.0, y=3.0)
    """
    if not (callable(flatten) and callable(unflatten)):
        raise TypeError(
            "register_pytree_node(cls, flatten, unflatten): flatten and unflatten must be "
            "callables, flatten(obj) -> (children, aux) and unflatten(aux, children) -> obj"
        )
    _NODE_TYPES[cls] = (flatten, unflatten)


def _flatten_dict(node):
    keys = sorted(node)
    return [node[key] for key in keys], tuple(keys)


def _unflatten_dict(keys, children):
    return dict(zip(keys, children, strict=True))


register_pytree_node(tuple, lambda node: (list(node), None), lambda _, children: tuple(children))
register_pytree_node(list, lambda node: (list(node), None), lambda _, children: list(children))
register_pytree_node(dict, _flatten_dict, _unflatten_dict)
# An OrderedDict keeps its order (as in JAX); state_dict() returns one.
register_pytree_node(
    collections.OrderedDict,
    lambda node: (list(node.values()), tuple(node)),
    lambda keys, children: collections.OrderedDict(zip(keys, children, strict=True)),
)
register_pytree_node(type(None), lambda node: ([], None), lambda _, children: None)


def _is_namedtuple(node) -> bool:
    return isinstance(node, tuple) and hasattr(type(node), "_fields")


def tree_node_handler(node):
    """(flatten, unflatten) of `node`'s container type, or None for a leaf."""
    return _handler(node)


def _handler(node):
    handler = _NODE_TYPES.get(type(node))
    if handler is None and _is_namedtuple(node):
        return (lambda n: (list(n), None), lambda _, children: type(node)(*children))
    return handler


class TreeDef:
    """The shape of a pytree without its leaves. Equal TreeDefs rebuild the same structure.

    Every walk below uses an explicit stack, as flattening does: a tree nested deeper than
    Python's recursion limit compares, hashes, prints and rebuilds like a shallow one.
    """

    __slots__ = ("kind", "aux", "children", "num_leaves")

    def __init__(self, kind, aux, children):
        self.kind = kind  # None for a leaf, else the container's type
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def __eq__(self, other):
        if not isinstance(other, TreeDef):
            return False
        pairs = [(self, other)]
        while pairs:
            mine, theirs = pairs.pop()
            if mine is theirs:
                continue
            if not _same_node(mine, theirs):
                return False
            pairs.extend(reversed(list(zip(mine.children, theirs.children, strict=True))))
        return True

    def __hash__(self):
        return _fold(self, lambda node, hashes: hash((node.kind, node.aux, tuple(hashes))))

    def __repr__(self):
        parts = []
        stack = [self]  # TreeDefs still to print, and the punctuation between them
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                parts.append(item)
            elif item.kind is None:
                parts.append("*")
            else:
                parts.append(f"{item.kind.__name__}(")
                stack.append(")")
                for position, child in enumerate(reversed(item.children)):
                    if position:
                        stack.append(", ")
                    stack.append(child)
        return "".join(parts)


def _same_node(mine, theirs) -> bool:
    """Same container, static data and number of children; the children are compared apart."""
    return (
        mine.kind == theirs.kind
        and (mine.aux is theirs.aux or mine.aux == theirs.aux)
        and len(mine.children) == len(theirs.children)
    )


def _fold(treedef, combine):
    """`combine(node, a list of its children's results)` at each node, children first."""
    # Parent first and right child first, read backwards: every node after its children, and
    # the leaves left to right (the order tree_flatten lists them in).
    order, stack = [], [treedef]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.children)
    results = []
    for node in reversed(order):
        split = len(results) - len(node.children)
        results[split:] = [combine(node, results[split:])]
    return results[0]


_LEAF = TreeDef(None, None, ())


def tree_flatten(tree):
    """(leaves, treedef): the leaves in a fixed order (depth first) and the structure.

    Returns:
        `(leaves, treedef)`: a list of the leaves (dict values in sorted key order; None
        contributes none) and the `TreeDef` that `tree_unflatten` rebuilds them with. A value
        that is not a container is one leaf.

    Example:
        >>> cr.tree_flatten({"b": 1.0, "a": (2.0, 3.0), "c": None})
        ([2.0, 3.0, 1.0], dict(tuple(*, *), *, NoneType()))
    """
    if _handler(tree) is None:
        return [tree], _LEAF  # a single leaf, the common case of a transform's argument
    leaves = []
    return leaves, _flatten_into(tree, leaves)


def _flatten_into(tree, leaves):
    # Explicit stack, as the engine's graph walks: a deeply nested list must not hit
    # Python's recursion limit.
    root_slot = []
    stack = [(tree, root_slot)]
    pending = []  # (kind, aux, child slots, parent slot), built children-last
    while stack:
        node, slot = stack.pop()
        handler = _handler(node)
        if handler is None:
            leaves.append(node)
            slot.append(_LEAF)
            continue
        children, aux = handler[0](node)
        children = list(children)
        child_slots = [[] for _ in children]
        pending.append((type(node), aux, child_slots, slot))
        for child, child_slot in reversed(list(zip(children, child_slots, strict=True))):
            stack.append((child, child_slot))
    for kind, aux, child_slots, slot in reversed(pending):
        slot.append(TreeDef(kind, aux, tuple(s[0] for s in child_slots)))
    return root_slot[0]


def tree_unflatten(treedef: TreeDef, leaves):
    """Rebuild the structure `treedef` with `leaves` in flattening order.

    Returns:
        A new pytree of treedef's containers holding `leaves` (for a single-leaf treedef, the
        leaf itself).

    Raises:
        TreeStructureError: (a ValueError) the number of leaves differs from treedef's.

    Example:
        >>> leaves, treedef = cr.tree_flatten({"w": 1.0, "b": [2.0]})
        >>> cr.tree_unflatten(treedef, [10.0, 20.0])           # {'b': [10.0], 'w': 20.0}
    """
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise TreeStructureError(
            f"tree_unflatten: the structure {treedef!r} has {treedef.num_leaves} leaves but "
            f"{len(leaves)} were given"
        )
    if treedef.kind is None:
        return leaves[0]  # a single leaf, the common case of a transform's argument
    iterator = iter(leaves)
    return _fold(treedef, lambda node, children: _rebuild(node, children, iterator))


def _rebuild(node, children, iterator):
    if node.kind is None:
        return next(iterator)
    handler = _NODE_TYPES.get(node.kind)
    if handler is None:  # a named tuple
        return node.kind(*children)
    return handler[1](node.aux, children)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_structure(tree) -> TreeDef:
    return tree_flatten(tree)[1]


def tree_map(function, tree, *rest):
    """`function` applied leaf by leaf; `rest` are trees of the same structure.

    Returns:
        A pytree of `tree`'s structure whose leaves are function(leaf, *matching leaves of
        rest).

    Raises:
        TreeStructureError: (a ValueError) a tree in `rest` whose structure differs from tree's.

    Example:
        >>> cr.tree_map(lambda w, g: w - 0.1 * g, {"w": 1.0, "b": [2.0]}, {"w": 1.0, "b": [1.0]})
        {'b': [1.9], 'w': 0.9}
    """
    leaves, treedef = tree_flatten(tree)
    others = []
    for other in rest:
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise TreeStructureError(
                f"tree_map: structures differ: {treedef!r} and {other_def!r}; pass trees with "
                "the same containers and keys"
            )
        others.append(other_leaves)
    results = [function(*parts) for parts in zip(leaves, *others, strict=True)]
    return tree_unflatten(treedef, results)
