"""The forward (tangent) and reverse (adjoint) passes over a recorded graph, step by step.

Every number here comes from chainrule itself: each step's tangent is computed by `cr.jvp`
(the ForwardTrace and the primitive's JVP rules) and each edge's adjoint contribution by
`cr.vjp` (the primitive's VJP rules, with the engine's un-broadcasting). What this module adds
is bookkeeping: which chain-rule term came from which edge, so the tables can show it.
"""

import numpy as np

from chainrule.core.dtypes import complex_pair
from chainrule.core.primitive import bind
from chainrule.transforms import jvp, vjp
from chainrule.viz.notation import (
    LinearMap,
    bar_name,
    dot_name,
    format_number,
    format_operand,
    is_scalar,
    parenthesized,
    term_templates,
)

__all__ = ["TangentPass", "AdjointPass", "Term", "default_directions", "is_complex"]


class Term:
    """One chain-rule term on one edge: its formula, the formula with numbers, its value."""

    __slots__ = ("source", "symbolic", "numeric", "value")

    def __init__(self, source, symbolic, numeric, value):
        self.source = source  # the edge's other end: the operand (forward), the consumer (reverse)
        self.symbolic = symbolic
        self.numeric = numeric  # None where numbers would not help (arrays, generic partials)
        self.value = value


def join_terms(terms) -> str:
    """'a', '-b', 'c' -> 'a - b + c'."""
    text = terms[0]
    for term in terms[1:]:
        text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return text


def _wrapped_number(value) -> str:
    return parenthesized(format_number(np.reshape(value, ())))


def _operand_label(graph, operand) -> str:
    if isinstance(operand, int):
        return graph.vertices[operand].name
    return format_operand(operand.value)


def _operand_value(graph, operand):
    return graph.vertices[operand].value if isinstance(operand, int) else operand.value


def _operand_number(graph, operand):
    value = _operand_value(graph, operand)
    return _wrapped_number(value) if is_scalar(value) else None


def _scaled(incoming: str, partial: str, template: str) -> str:
    """incoming · partial, written `incoming` or `-incoming` when the template is 1 or -1."""
    if template == "1":
        return incoming
    if template == "-1":
        return "-" + incoming
    if " " in partial or partial.startswith("-"):
        partial = f"({partial})"  # v̄ · (1 - v4^2), not v̄ · 1 - v4^2
    return f"{incoming} · {partial}"


def _term_text(graph, vertex, position, incoming, incoming_value, direction):
    """(symbolic, numeric) for the chain-rule term of `vertex`'s operand `position`.
    `direction` is "reverse" (incoming = v̄ of vertex) or "forward" (incoming = v̇ of operand)."""
    complex_operands = any(np.iscomplexobj(_operand_value(graph, o)) for o in vertex.operands)
    template = term_templates(vertex.primitive.name, len(vertex.operands), complex_operands)
    template = template[position]
    labels = [_operand_label(graph, operand) for operand in vertex.operands]
    if isinstance(template, LinearMap):
        text = template.reverse if direction == "reverse" else template.forward
        key = "g" if direction == "reverse" else "t"
        return text.format(*labels, out=vertex.name, **{key: incoming}), None
    partial = template.partial.format(*labels, out=vertex.name)
    symbolic = _scaled(incoming, partial, template.partial)
    numbers = [_operand_number(graph, operand) for operand in vertex.operands]
    generic = template.partial.startswith("∂")
    if generic or None in numbers or not is_scalar(vertex.value) or not is_scalar(incoming_value):
        return symbolic, None
    partial = template.partial.format(*numbers, out=_wrapped_number(vertex.value))
    return symbolic, _scaled(_wrapped_number(incoming_value), partial, template.partial)


def _local_function(graph, vertex):
    """The vertex's primitive as a function of its traced operands (constants fixed), and the
    traced operands' values."""
    traced = [p for p, operand in enumerate(vertex.operands) if isinstance(operand, int)]
    fixed = [None if isinstance(o, int) else o.value for o in vertex.operands]

    def local(*values):
        arguments = list(fixed)
        for position, value in zip(traced, values, strict=True):
            arguments[position] = value
        return bind(vertex.primitive, *arguments, **vertex.params)

    primals = [graph.vertices[vertex.operands[p]].value for p in traced]
    return traced, local, primals


def is_complex(vertex) -> bool:
    return vertex.dtype is not None and np.dtype(vertex.dtype).kind == "c"


def default_directions(graph):
    """Each input in turn: tangent 1 on it (all ones for an array), 0 on the others. A complex
    input z twice, along 1 and along 1j: the derivatives along Re z and Im z, since a function
    that is not holomorphic (|z|^2, conj(z)) has no single derivative f'(z)."""
    directions = []
    for vertex in graph.inputs:
        for unit in (1, 1j) if is_complex(vertex) else (1,):
            directions.append({vertex.label: np.full(vertex.shape, unit)})
    return directions


def _zeros_like(vertex):
    return np.zeros(vertex.shape, vertex.dtype if vertex.dtype is not None else float)


class TangentPass:
    """Forward mode: the tangent v̇ of every vertex for one seed direction, with its terms."""

    def __init__(self, graph, direction):
        self.graph = graph
        self.direction = self._seed(graph, direction)
        self.tangents = {}
        self.terms = {}
        for vertex in graph.vertices:
            if vertex.kind == "input":
                self.tangents[vertex.index] = self.direction[vertex.label]
            else:
                self._push(vertex)

    @staticmethod
    def _seed(graph, direction):
        names = [v.label for v in graph.inputs]
        if not isinstance(direction, dict):
            direction = list(direction)
            if len(direction) != len(names):
                raise ValueError(
                    f"a forward-mode direction needs one tangent per input of {graph.title} "
                    f"({', '.join(names)}); got {len(direction)}. Or pass a dict by name."
                )
            direction = dict(zip(names, direction, strict=True))
        unknown = sorted(set(direction) - set(names))
        if unknown:
            raise ValueError(
                f"forward-mode direction names {unknown}, which are not inputs of "
                f"{graph.title}; its inputs are {names}"
            )
        seed = {}
        for vertex in graph.inputs:
            value = np.asarray(direction.get(vertex.label, 0.0))
            dtype = vertex.dtype
            if value.dtype.kind == "c":  # a complex tangent of a real input stays complex (jvp)
                dtype = complex_pair(dtype)
            value = value if dtype is None else value.astype(dtype)
            seed[vertex.label] = np.broadcast_to(value, vertex.shape)
        return seed

    def _push(self, vertex):
        traced, local, primals = _local_function(self.graph, vertex)
        operand_tangents = [self.tangents[vertex.operands[p]] for p in traced]
        _, total = jvp(local, primals, operand_tangents)
        self.tangents[vertex.index] = np.asarray(total)
        terms = []
        for slot, position in enumerate(traced):
            source = vertex.operands[position]
            only_this = [
                t if i == slot else np.zeros_like(t) for i, t in enumerate(operand_tangents)
            ]
            _, contribution = jvp(local, primals, only_this)
            incoming = dot_name(self.graph.vertices[source].name)
            symbolic, numeric = _term_text(
                self.graph, vertex, position, incoming, self.tangents[source], "forward"
            )
            terms.append(Term(source, symbolic, numeric, np.asarray(contribution)))
        self.terms[vertex.index] = terms

    def output_tangent(self):
        output = self.graph.output
        if isinstance(output, int):
            return self.tangents[output]
        return np.zeros(np.shape(output.value))


class AdjointPass:
    """Reverse mode: the adjoint v̄ = ∂f/∂v of every vertex, with the term from each consumer."""

    def __init__(self, graph, seed=None):
        self.graph = graph
        self.adjoints = {}
        self.terms = {v.index: [] for v in graph.vertices}
        output = graph.output
        if not isinstance(output, int):
            return
        out_vertex = graph.vertices[output]
        if seed is None:
            seed = np.ones(out_vertex.shape, out_vertex.dtype)
        seed = np.asarray(seed, dtype=out_vertex.dtype)
        if seed.shape != out_vertex.shape:
            raise ValueError(
                f"reverse-mode seed of shape {seed.shape} for an output of shape "
                f"{out_vertex.shape}; pass one of the output's shape."
            )
        self.seed = seed
        self.adjoints[output] = seed
        for vertex in reversed(graph.vertices):
            if vertex.kind == "op" and vertex.index in self.adjoints:
                self._pull(vertex)
        for terms in self.terms.values():
            terms.reverse()  # consumers in evaluation order read naturally: v̄1 = v̄3 + v̄4

    def _pull(self, vertex):
        traced, local, primals = _local_function(self.graph, vertex)
        adjoint = self.adjoints[vertex.index]
        _, pullback = vjp(local, *primals)
        cotangents = pullback(adjoint)
        for position, cotangent in reversed(list(zip(traced, cotangents, strict=True))):
            source = vertex.operands[position]
            cotangent = np.asarray(cotangent)
            previous = self.adjoints.get(source)
            self.adjoints[source] = cotangent if previous is None else previous + cotangent
            symbolic, numeric = _term_text(
                self.graph, vertex, position, bar_name(vertex.name), adjoint, "reverse"
            )
            self.terms[source].append(Term(vertex.index, symbolic, numeric, cotangent))

    def adjoint(self, vertex):
        value = self.adjoints.get(vertex.index)
        return _zeros_like(vertex) if value is None else value

    def gradient(self) -> dict:
        """{input name: adjoint}: NumPy scalars for scalar inputs, arrays for arrays."""
        return {v.label: np.asarray(self.adjoint(v))[()] for v in self.graph.inputs}
