"""The `Graph` a user gets from `cr.trace(f, ...)` or `cr.draw(tensor)`.

A Graph is a list of vertices in evaluation order: the inputs v1..vk, then one vertex per
primitive application, each naming its operands. From it come the evaluation trace, the
forward-mode (tangent) and reverse-mode (adjoint) tables, and pictures of the graph.
"""

from chainrule.viz import dot as _dot
from chainrule.viz import report as _report
from chainrule.viz.passes import AdjointPass, TangentPass, default_directions

__all__ = ["Graph", "Vertex", "Constant"]


class Constant:
    """An operand that is not differentiated: a literal, or a value that depends on no input."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Vertex:
    """One value in the graph: an input (`kind == "input"`) or a primitive's result (`"op"`)."""

    __slots__ = (
        "index", "name", "kind", "label", "value", "shape", "dtype", "operands", "params",
        "primitive", "group", "grad",
    )

    def __init__(self, index, kind, label, *, value=None, shape=(), dtype=None, operands=(),
                 params=None, primitive=None, group=(), grad=None):
        self.index = index
        self.name = f"v{index + 1}"
        self.kind = kind
        self.label = label
        self.value = value
        self.shape = tuple(shape)
        self.dtype = dtype
        self.operands = tuple(operands)
        self.params = params or {}
        self.primitive = primitive
        self.group = tuple(group)
        self.grad = grad  # a leaf tensor's .grad, for graphs drawn from a Tensor

    def __repr__(self):
        return f"<Vertex {self.name} {self.label}>"


class Graph:
    """A recorded computation. Print it, tabulate it, or draw it.

    `forward_table()`, `backward_table()` and `evaluation_table()` give the passes in text,
    Markdown, HTML or JSON (`format=`); `to_dot()`, `svg()` and `render(path)` give pictures;
    in Jupyter a Graph displays itself as its picture.
    """

    def __init__(self, vertices, output, *, title="f", expression=None, recorded=True):
        self.vertices = list(vertices)
        self.output = output  # a vertex index, or a Constant when f ignores its inputs
        self.title = title
        self.expression = expression
        self.recorded = recorded  # values known for every vertex (cr.trace), or not (cr.draw)
        self._adjoints = None

    # ----- structure ---------------------------------------------------------------------------
    @property
    def inputs(self):
        return [v for v in self.vertices if v.kind == "input"]

    @property
    def operations(self):
        return [v for v in self.vertices if v.kind == "op"]

    @property
    def output_vertex(self):
        return None if isinstance(self.output, Constant) else self.vertices[self.output]

    @property
    def value(self):
        """The traced function's output value."""
        if isinstance(self.output, Constant):
            return self.output.value
        return self.vertices[self.output].value

    def __len__(self):
        return len(self.vertices)

    def __repr__(self):
        return (
            f"<Graph {self.title}: {len(self.inputs)} input(s), "
            f"{len(self.operations)} operation(s)>"
        )

    def signature(self) -> str:
        """`f(x, y)`, or `f(x, y) = (x + y) * (x - y)` when the expression is known."""
        head = f"{self.title}({', '.join(v.label for v in self.inputs)})"
        return f"{head} = {self.expression}" if self.expression else head

    # ----- the passes --------------------------------------------------------------------------
    def tangents(self, direction) -> TangentPass:
        """Forward mode along `direction` ({input name: tangent}), by chainrule's JVP rules."""
        _report.require_values(self, "the forward-mode pass")
        return TangentPass(self, direction)

    def adjoints(self, seed=None) -> AdjointPass:
        """Reverse mode from the output cotangent `seed` (default 1, or ones for an array)."""
        _report.require_values(self, "the reverse-mode pass")
        if seed is not None:
            return AdjointPass(self, seed)
        if self._adjoints is None:  # the default pass is shared by the tables and pictures
            self._adjoints = AdjointPass(self)
        return self._adjoints

    def gradient(self) -> dict:
        """{input name: ∂f/∂input} from the reverse pass (of sum(f) for an array output)."""
        return self.adjoints().gradient()

    def directions(self, direction=None):
        """The forward-mode seeds used by default: each input in turn (all ones for arrays)."""
        return [direction] if direction is not None else default_directions(self)

    # ----- tables ------------------------------------------------------------------------------
    def evaluation_table(self, format="text") -> str:  # noqa: A002 - the natural name
        """The evaluation trace: v1 = x = 3, ..., v5 = v3 · v4 = 5."""
        return _report.render_sections([_report.evaluation_section(self)], format)

    def forward_table(self, format="text", direction=None) -> str:  # noqa: A002
        """Forward mode: tangents v̇ with each chain-rule term, one table per seed direction
        (default: each input in turn)."""
        sections = [_report.forward_section(self, d) for d in self.directions(direction)]
        return _report.render_sections(sections, format)

    def backward_table(self, format="text", seed=None) -> str:  # noqa: A002
        """Reverse mode: adjoints v̄ with each chain-rule step, then the gradient."""
        sections = [_report.backward_section(self, seed), _report.gradient_section(self, seed)]
        return _report.render_sections(sections, format)

    def explain(self, mode="both", format="text", direction=None) -> str:  # noqa: A002
        """Everything `chainrule explain` prints: the evaluation trace, the forward and/or
        reverse pass and the gradient. HTML output is a complete document."""
        return _report.explain(self, mode=mode, format=format, direction=direction)

    # ----- pictures ----------------------------------------------------------------------------
    def to_dot(self, *, adjoints=None, expand=None, max_nodes=10) -> str:
        """The graph in Graphviz's DOT language (needs nothing installed).

        `adjoints`: show the reverse pass on nodes and edges (default: when values are known).
        `expand`: None draws small graphs in full and collapses each group (a layer, or a
        `cr.viz.scope`) of larger ones (over `max_nodes` operations) into one box; True always
        draws every operation; False always collapses.
        """
        return _dot.to_dot(self, adjoints=adjoints, expand=expand, max_nodes=max_nodes)

    def svg(self, **options) -> str:
        """The picture as SVG text (needs Graphviz: see `render`)."""
        return _dot.pipe(self.to_dot(**options), "svg").decode("utf-8")

    def render(self, path, format=None, **options):  # noqa: A002
        """Write the picture to `path`; the format (svg, png, pdf) comes from its suffix.

        Needs the `graphviz` Python package (`pip install 'chainrule[viz]'`) and Graphviz's
        `dot` program (`apt-get install graphviz`); the error says which one is missing.
        """
        return _dot.render(self.to_dot(**options), path, format)

    def _repr_svg_(self):
        try:
            return self.svg()
        except ImportError:  # no Graphviz: Jupyter falls back to _repr_html_
            return None

    def _repr_html_(self):
        return _report.notebook_html(self)
