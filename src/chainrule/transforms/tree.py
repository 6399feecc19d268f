"""Pytrees: nested containers (tuple, list, dict, named tuple, registered classes) of arrays.

Transforms flatten their inputs and outputs into a list of leaves plus a `TreeDef` that says how
to rebuild them, differentiate the leaves, and rebuild results in the caller's structure.
Dict keys are sorted (as in JAX), so two dicts with the same keys flatten alike. `None` is an
empty container: it has no leaves.
"""

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
register_pytree_node(type(None), lambda node: ([], None), lambda _, children: None)


def _is_namedtuple(node) -> bool:
    return isinstance(node, tuple) and hasattr(type(node), "_fields")


def _handler(node):
    handler = _NODE_TYPES.get(type(node))
    if handler is None and _is_namedtuple(node):
        return (lambda n: (list(n), None), lambda _, children: type(node)(*children))
    return handler


class TreeDef:
    """The shape of a pytree without its leaves. Equal TreeDefs rebuild the same structure."""

    __slots__ = ("kind", "aux", "children", "num_leaves")

    def __init__(self, kind, aux, children):
        self.kind = kind  # None for a leaf, else the container's type
        self.aux = aux
        self.children = children
        self.num_leaves = 1 if kind is None else sum(c.num_leaves for c in children)

    def _key(self):
        return (self.kind, self.aux, tuple(c._key() for c in self.children))

    def __eq__(self, other):
        return isinstance(other, TreeDef) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        if self.kind is None:
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        return f"{self.kind.__name__}({inner})"


_LEAF = TreeDef(None, None, ())


def tree_flatten(tree):
    """(leaves, treedef): the leaves in a fixed order (depth first) and the structure."""
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
    """Rebuild the structure `treedef` with `leaves` in flattening order."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: the structure {treedef!r} has {treedef.num_leaves} leaves but "
            f"{len(leaves)} were given"
        )
    iterator = iter(leaves)
    return _build(treedef, iterator)


def _build(treedef, iterator):
    # Trees are as deep as the user's literal nesting; recursion is fine here because
    # flattening the same tree (iteratively) already succeeded.
    if treedef.kind is None:
        return next(iterator)
    children = [_build(child, iterator) for child in treedef.children]
    handler = _NODE_TYPES.get(treedef.kind)
    if handler is None:  # a named tuple
        return treedef.kind(*children)
    return handler[1](treedef.aux, children)


def tree_leaves(tree) -> list:
    return tree_flatten(tree)[0]


def tree_structure(tree) -> TreeDef:
    return tree_flatten(tree)[1]


def tree_map(function, tree, *rest):
    """`function` applied leaf by leaf; `rest` are trees of the same structure."""
    leaves, treedef = tree_flatten(tree)
    others = []
    for other in rest:
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(
                f"tree_map: structures differ: {treedef!r} and {other_def!r}; pass trees with "
                "the same containers and keys"
            )
        others.append(other_leaves)
    results = [function(*parts) for parts in zip(leaves, *others, strict=True)]
    return tree_unflatten(treedef, results)

