"""`chainrule.tree` (also `cr.tree`): pytree utilities. They live in
`chainrule.transforms.tree`; this module keeps the public import path."""

from chainrule.transforms.tree import (  # noqa: F401
    TreeDef,
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)

__all__ = [
    "TreeDef", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_map", "tree_structure",
    "register_pytree_node",
]
