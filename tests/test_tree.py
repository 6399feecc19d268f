"""Pytrees: flattening order, rebuilding, user classes, and transforms over them."""

import sys
from collections import namedtuple

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.tree import tree_leaves, tree_structure

Pair = namedtuple("Pair", ["first", "second"])


def test_flatten_is_depth_first_with_sorted_dict_keys_and_round_trips():
    tree = {"b": [1, (2, 3)], "a": Pair(4, None), "c": 5}
    leaves, treedef = cr.tree_flatten(tree)
    assert leaves == [4, 1, 2, 3, 5]  # "a" before "b" before "c"; None has no leaves
    rebuilt = cr.tree_unflatten(treedef, leaves)
    assert rebuilt == tree and isinstance(rebuilt["a"], Pair) and isinstance(rebuilt["b"][1], tuple)


def test_structures_compare_by_containers_and_keys():
    assert tree_structure({"a": 1, "b": [2]}) == tree_structure({"b": [9], "a": 8})
    assert tree_structure({"a": 1}) != tree_structure({"b": 1})
    assert tree_structure([1, 2]) != tree_structure((1, 2))


def test_tree_map_applies_leafwise_and_checks_structure():
    assert cr.tree_map(lambda a, b: a + b, [1, {"x": 2}], [10, {"x": 20}]) == [11, {"x": 22}]
    with pytest.raises(ValueError, match="structures differ"):
        cr.tree_map(lambda a, b: a, [1, 2], [1])


def test_unflatten_checks_the_number_of_leaves():
    with pytest.raises(ValueError, match="has 2 leaves but 3 were given"):
        cr.tree_unflatten(tree_structure([0, 0]), [1, 2, 3])


def test_treedefs_print_and_hash_by_structure():
    treedef = tree_structure({"b": [1, (2, 3)], "a": None})
    assert repr(treedef) == "dict(NoneType(), list(*, tuple(*, *)))"
    assert hash(treedef) == hash(tree_structure({"a": None, "b": [7, (8, 9)]}))


def _nest(depth, innermost=list):
    """A leaf in `innermost`, then wrapped in lists, tuples and dicts in turn: `depth` levels."""
    tree = innermost([0.0])
    for level in range(1, depth):
        tree = ([tree], (tree,), {"key": tree})[level % 3]
    return tree


def test_pytrees_deeper_than_the_recursion_limit_flatten_compare_rebuild_and_map():
    depth = 10_000
    limit = sys.getrecursionlimit()
    assert depth > limit
    tree = _nest(depth)
    treedef = tree_structure(tree)
    assert tree_leaves(tree) == [0.0] and treedef.num_leaves == 1
    assert treedef == tree_structure(_nest(depth))
    assert treedef != tree_structure(_nest(depth, innermost=tuple))  # differs at the bottom only
    assert hash(treedef) == hash(tree_structure(_nest(depth)))
    assert repr(treedef).endswith("list(*)" + ")" * (depth - 1))

    rebuilt = cr.tree_unflatten(treedef, [1.0])
    assert rebuilt is not tree and cr.tree_flatten(rebuilt) == ([1.0], treedef)
    mapped = cr.tree_map(lambda a, b: a + b + 1.0, tree, rebuilt)
    assert cr.tree_flatten(mapped) == ([2.0], treedef)
    assert sys.getrecursionlimit() == limit


class Linear:
    """A user class registered as a pytree: weight and bias are children, name is static."""

    def __init__(self, weight, bias, name="layer"):
        self.weight, self.bias, self.name = weight, bias, name


cr.register_pytree_node(
    Linear,
    lambda layer: ((layer.weight, layer.bias), layer.name),
    lambda name, children: Linear(*children, name=name),
)


def test_grad_of_a_registered_class_returns_that_class():
    x = np.array([1.0, 2.0])

    def loss(layer):
        return cnp.sum((layer.weight @ x + layer.bias) ** 2)

    layer = Linear(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.5, -1.0]), name="head")
    gradient = cr.grad(loss)(layer)
    assert isinstance(gradient, Linear) and gradient.name == "head"
    residual = layer.weight @ x + layer.bias  # [1.5, 1.0]
    np.testing.assert_allclose(gradient.bias, 2 * residual)
    np.testing.assert_allclose(gradient.weight, 2 * np.outer(residual, x))


def test_register_pytree_node_needs_callables():
    with pytest.raises(TypeError, match="callables"):
        cr.register_pytree_node(Pair, None, None)
