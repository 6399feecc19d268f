"""`cr.trace(f, *args)`: run f once on a fresh reverse-mode level and keep what it did.

The level is an ordinary `ReverseTrace` that also notes, for every primitive it records, the
values that went in and came out (a plain Node keeps only the residuals its VJP needs). A walk
back from the output (iterative) keeps the steps that reach it, in evaluation order.
"""

import numbers
import threading

import numpy as np

from chainrule.core.dtypes import is_numeric
from chainrule.core.tape import ReverseTrace, release_level
from chainrule.core.tensor import Tensor, raw_value
from chainrule.core.trace import new_level
from chainrule.errors import ChainruleError
from chainrule.transforms._levels import _enter_level, _input_leaf, call_at_level
from chainrule.transforms.tree import tree_flatten
from chainrule.viz.graph import Constant, Graph, Vertex

__all__ = ["trace", "scope"]


class _ScopeStack(threading.local):
    names: tuple = ()


_scopes = _ScopeStack()


class scope:
    """`with cr.viz.scope("layer 1"): ...` groups the steps recorded inside, so pictures of
    large graphs can draw the group as one box. Costs nothing outside `cr.trace`."""

    def __init__(self, name: str):
        self.name = str(name)

    def __enter__(self):
        _scopes.names = _scopes.names + (self.name,)
        return self

    def __exit__(self, *exc_info):
        _scopes.names = _scopes.names[:-1]
        return False


class _Step:
    """One recorded application: the node, its operand values, its output, its scope."""

    __slots__ = ("node", "operands", "output", "group")

    def __init__(self, node, operands, output, group):
        self.node = node
        self.operands = operands
        self.output = output
        self.group = group


class _RecordingTrace(ReverseTrace):
    """A reverse level that also keeps every recorded step's values, for the tables."""

    __slots__ = ("steps",)

    def __init__(self, level):
        super().__init__(level)
        self.steps = {}

    def process(self, primitive, args, params):
        result = super().process(primitive, args, params)
        if self.owns(result) and result._node is not None:
            # Values as they are now: a tensor that an in-place operation updates later
            # (`total += ...`) must show the value this step used.
            operands = [
                arg._value if self.owns(arg) else raw_value(arg)
                for arg in args
            ]
            self.steps[result._node] = _Step(result._node, operands, result._value, _scopes.names)
        return result


def trace(f, /, *args, **named_args) -> Graph:
    """Run `f(*args, **named_args)` once and return the `Graph` of primitives it applied.

    Numbers and arrays among the arguments are the inputs, v1..vk, named after f's
    parameters; other arguments pass through unchanged. f must return one array or number.

        graph = cr.trace(lambda x, y: (x + y) * (x - y), 3.0, 2.0)
        print(graph.explain())        # evaluation trace, forward and reverse passes, gradient
        graph.render("graph.svg")     # needs Graphviz

    Returns:
        A `chainrule.viz.Graph`: the inputs (with their values), the operations the output
        depends on in evaluation order (each with its operand and output values, shapes and
        dtypes), and the output. It draws itself (`render`, `svg`, `to_dot`), explains itself
        (`explain`, `evaluation_table`, `forward_table`, `backward_table`) and gives the
        derivatives (`gradient`, `adjoints`, `tangents`).

    Raises:
        ChainruleError: f returned several outputs (a tuple, list or dict).
        DTypeError: a boolean array among the inputs.
        ConcretizationError: f asks an input for its number (`float(x)`, `np.asarray(x)`).

    Example:
        >>> cr.trace(lambda x, y: (x + y) * (x - y), 3.0, 2.0)
        <Graph f: 2 input(s), 3 operation(s)>
    """
    level_trace = _RecordingTrace(new_level())
    names = _argument_names(f, args, named_args)
    boxed_args, boxed_named, inputs = _box_inputs(level_trace, names, args, named_args)
    output = call_at_level(lambda *a: f(*a, **boxed_named), boxed_args)
    if not isinstance(output, (tuple, list, dict)):
        (output,) = release_level(level_trace, [output])
    if isinstance(output, (tuple, list, dict)):
        raise ChainruleError(
            f"trace({_function_name(f)}) records a function with one output; it returned a "
            f"{type(output).__name__}. Trace each output separately, e.g. "
            "cr.trace(lambda *a: f(*a)[0], ...)."
        )
    return _build_graph(level_trace, inputs, output, title=_function_name(f))


def _function_name(f) -> str:
    name = getattr(f, "__name__", "f")
    return "f" if name == "<lambda>" else name


def _argument_names(f, args, named_args):
    """Names for the positional arguments, from f's signature where it has one."""
    import inspect  # slow to import; only needed when tracing

    try:
        signature = inspect.signature(f)
        bound = signature.bind_partial(*args, **named_args)
    except (TypeError, ValueError):
        return [f"x{i + 1}" for i in range(len(args))]
    names = []
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            names.extend(f"{name}{i + 1}" for i in range(len(value)))
        elif kind is not inspect.Parameter.VAR_KEYWORD and name not in named_args:
            names.append(name)
    return names


_INPUT_TYPES = (numbers.Number, np.ndarray, np.generic, Tensor, list)


def _is_input(value) -> bool:
    """Numbers (real or complex), arrays and lists of numbers among f's arguments are its
    inputs; flags (True/False), tuples (shapes, axes) and anything else pass through unchanged."""
    return isinstance(value, _INPUT_TYPES) and not isinstance(value, bool) and is_numeric(value)


def _box_inputs(level_trace, names, args, named_args):
    """The arguments with each number or array among them boxed at `level_trace` (entered as
    every transform enters its level), and [(name, boxed input)]."""
    entries = list(zip(names, args, strict=True)) + list(named_args.items())
    picked = [k for k, (_, value) in enumerate(entries) if _is_input(value)]
    arrays = [
        _input_leaf(raw_value(entries[k][1]), "trace()", f"argument {entries[k][0]!r}")
        for k in picked
    ]
    boxed, _ = _enter_level(level_trace, [(tree_flatten(a)[1], [a]) for a in arrays])
    values = [value for _, value in entries]
    for k, (_, boxes) in zip(picked, boxed, strict=True):
        values[k] = boxes[0]
    inputs = [(entries[k][0], values[k]) for k in picked]
    boxed_args = values[:len(args)]
    boxed_named = dict(zip(named_args, values[len(args):], strict=True))
    return boxed_args, boxed_named, inputs


def _reachable_steps(level_trace, output):
    """The recorded nodes the output depends on (iterative walk), in evaluation order."""
    if not level_trace.owns(output):
        return []
    order = {node: i for i, node in enumerate(level_trace.steps)}
    seen = set()
    stack = [output._node] if output._node is not None else []
    while stack:
        node = stack.pop()
        if node in seen or node not in order:
            continue
        seen.add(node)
        stack.extend(p for p in node.parents if p is not None and p in order and p not in seen)
    return sorted(seen, key=order.__getitem__)


def _build_graph(level_trace, inputs, output, title):
    vertices = []
    index_of = {}  # id(boxed input) or node -> vertex index
    for name, boxed in inputs:
        value = boxed._value
        index_of[id(boxed)] = len(vertices)
        vertices.append(_value_vertex(len(vertices), "input", name, value))
    for node in _reachable_steps(level_trace, output):
        step = level_trace.steps[node]
        operands = []
        for parent, value in zip(node.parents, step.operands, strict=True):
            key = id(parent) if isinstance(parent, Tensor) else parent
            operands.append(index_of[key] if key in index_of else Constant(raw_value(value)))
        index_of[node] = len(vertices)
        vertices.append(_value_vertex(
            len(vertices), "op", node.primitive.name, step.output, operands=operands,
            params=dict(node.params), primitive=node.primitive, group=step.group,
        ))
    return Graph(vertices, _output_index(output, level_trace, index_of), title=title)


def _output_index(output, level_trace, index_of):
    if level_trace.owns(output):
        key = output._node if output._node is not None else id(output)
        if key in index_of:
            return index_of[key]
        return Constant(raw_value(output))  # a value at this level that depends on no input
    return Constant(raw_value(output))


def _value_vertex(index, kind, label, value, **fields):
    value = raw_value(value)
    array = np.asarray(value)
    return Vertex(index, kind, label, value=value, shape=array.shape, dtype=array.dtype, **fields)
