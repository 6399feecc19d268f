"""`cr.draw(tensor)`: a picture of the operations that produced a Tensor (its grad_fn graph).

Like torchviz's make_dot: leaves (parameters, inputs) and the primitives applied to them,
walked back from `tensor.grad_fn` iteratively. Only operations and shapes are known here, plus
each leaf's `.grad` after `.backward()`; use `cr.trace(f, ...)` for values and tables.
"""

import numpy as np

from chainrule.core.backward import Node, topological_order
from chainrule.core.tensor import Tensor, raw_value
from chainrule.viz.graph import Constant, Graph, Vertex

__all__ = ["draw"]


def draw(output, params=None, *, title="output") -> Graph:
    """The graph that computed `output` (a Tensor), ready for `.render(path)` or Jupyter.

    `params` ({name: tensor}, e.g. dict(model.named_parameters())) names the leaves; a leaf's
    own `.name` is used otherwise.

    Returns:
        A `chainrule.viz.Graph` of the leaves (with their values and, after `.backward()`,
        their `.grad`) and the primitives applied to them (with output shapes and dtypes),
        titled `title`. A Graph passed in is returned as it is.

    Raises:
        TypeError: output is neither a Tensor nor a Graph (a NumPy array, a number).

    Example:
        >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
        >>> cr.draw((w * 2).sum(), {"w": w}).render("graph.svg")   # needs Graphviz
    """
    if isinstance(output, Graph):
        return output
    if not isinstance(output, Tensor):
        raise TypeError(
            f"draw() takes a chainrule Tensor (the result of operations on tensors with "
            f"requires_grad=True); got {type(output).__name__}. For a function use "
            "cr.trace(f, *inputs)."
        )
    names = {id(t): name for name, t in (params or {}).items()}
    nodes = topological_order([output._node]) if output._node is not None else []
    vertices, index_of = _leaf_vertices(output, nodes, names)
    shapes = _output_avals(nodes, output)
    for node in nodes:
        operands = [
            index_of[_key(p)] if p is not None else Constant(None) for p in node.parents
        ]
        shape, dtype = shapes[node]
        index_of[node] = len(vertices)
        vertices.append(Vertex(len(vertices), "op", node.primitive.name, shape=shape,
                               dtype=dtype, operands=operands, params=dict(node.params),
                               primitive=node.primitive))
    key = _key(output._node if output._node is not None else output)
    output_index = index_of.get(key, Constant(raw_value(output)))
    if isinstance(output_index, int):
        vertices[output_index].value = raw_value(output)
    return Graph(vertices, output_index, title=title, recorded=False)


def _key(parent):
    return parent if type(parent) is Node else id(parent)


def _leaf_vertices(output, nodes, names):
    leaves = [p for node in nodes for p in node.parents if p is not None and type(p) is not Node]
    if output._node is None:
        leaves = [output]
    vertices, index_of = [], {}
    for leaf in leaves:
        if id(leaf) in index_of:
            continue
        value = raw_value(leaf)
        label = names.get(id(leaf)) or getattr(leaf, "name", None) or "leaf"
        grad = raw_value(leaf.grad) if getattr(leaf, "grad", None) is not None else None
        index_of[id(leaf)] = len(vertices)
        vertices.append(Vertex(len(vertices), "input", label, value=value, shape=np.shape(value),
                               dtype=np.asarray(value).dtype, grad=grad))
    return vertices, index_of


def _output_avals(nodes, output):
    """(shape, dtype) of each node's output: recorded by its consumers as their input avals."""
    avals = {}
    for node in nodes:
        for parent, aval in zip(node.parents, node.input_avals, strict=True):
            if type(parent) is Node and aval is not None:
                avals[parent] = aval
    if output._node is not None:
        value = np.asarray(raw_value(output))
        avals[output._node] = (value.shape, value.dtype)
    return avals
