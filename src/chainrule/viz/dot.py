"""Pictures of a Graph: DOT text (no dependency) and SVG/PNG through Graphviz.

Inputs are blue ellipses, intermediate values grey boxes, the output a gold box; each node
shows its operation and value, and after a reverse pass its adjoint v̄ (red), with each
edge labelled by the chain-rule term that flows back along it. Graphs larger than `max_nodes`
operations collapse each group (a `cr.viz.scope`, or else a layer starting at each matmul)
into one box; `expand=True` draws everything.
"""

import html
import os

import numpy as np

from chainrule.errors import ChainruleError, MissingExtraError, require_extra
from chainrule.viz.notation import (
    bar_name,
    format_operand,
    format_value,
    is_scalar,
    primal_expression,
)

__all__ = ["to_dot", "pipe", "render", "write_file", "NO_DOT_MESSAGE"]

NO_DOT_MESSAGE = (
    "drawing needs Graphviz's `dot` program, which was not found on PATH. Install it with "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) or "
    "`conda install graphviz`; Graph.to_dot() and the tables work without it."
)

_INPUT = 'shape=ellipse, fillcolor="#dbeafe", color="#1d4ed8"'
_OPERATION = 'shape=box, style="rounded,filled", fillcolor="#f3f4f6", color="#6b7280"'
_OUTPUT = 'shape=box, style="rounded,filled", fillcolor="#fef3c7", color="#b45309", penwidth=2'
_GROUP = 'shape=box3d, fillcolor="#ede9fe", color="#6d28d9"'
_ADJOINT_COLOR = "#b91c1c"
_MAX_INLINE = 4  # array entries written out in a box; larger arrays show dtype[shape]
_LEGEND = (
    "blue: inputs · grey: intermediate values · gold: output"
    " · red: adjoints v̄ = ∂f/∂v, flowing back along the edges (reverse mode)"
)

_TENSOR_LEGEND = "blue: leaves · grey: operations · gold: output · red: .grad of the leaves"


def _escape(text) -> str:
    return html.escape(str(text), quote=False)


def _adjoint_line(text):
    return f'<font color="{_ADJOINT_COLOR}">{_escape(text)}</font>'


def _html_label(lines) -> str:
    return "<" + "<br/>".join(lines) + ">"


# ----- what goes in the boxes ---------------------------------------------------------------------
def _operand_text(graph, operand):
    if isinstance(operand, int):
        return graph.vertices[operand].name
    return format_operand(operand.value)


def _shape_text(vertex):
    if vertex.dtype is None:
        return ""
    return f"{vertex.dtype}{list(vertex.shape)}" if vertex.shape else f"{vertex.dtype} scalar"


def _value_text(vertex):
    if vertex.value is None:
        return _shape_text(vertex)
    text = format_value(vertex.value, _MAX_INLINE)
    if vertex.shape and not text.startswith(str(vertex.dtype)):
        text += f"   ({_shape_text(vertex)})"
    return text


def _vertex_lines(graph, vertex, adjoint_pass):
    is_output = vertex.index == graph.output
    if vertex.kind == "input":
        value = _escape(f"{vertex.name} = {_value_text(vertex)}")
        lines = [f"<b>{_escape(vertex.label)}</b>", value]
    elif graph.recorded:
        operands = [_operand_text(graph, o) for o in vertex.operands]
        expression = primal_expression(vertex.label, operands, vertex.params)
        head = f"f = {vertex.name}" if is_output else vertex.name
        lines = [f"<b>{_escape(vertex.label)}</b>", _escape(f"{head} = {expression}"),
                 _escape(f"= {_value_text(vertex)}")]
    else:
        head = "<b>output</b><br/>" if is_output else ""
        lines = [f"{head}<b>{_escape(vertex.label)}</b>", _escape(_value_text(vertex))]
    lines += _adjoint_lines(graph, vertex, adjoint_pass, is_output)
    return lines


def _adjoint_lines(graph, vertex, adjoint_pass, is_output):
    if adjoint_pass is not None:
        adjoint = adjoint_pass.adjoint(vertex)
        text = format_value(adjoint, _MAX_INLINE)
        if text.startswith(str(vertex.dtype)):  # a large array: its norm says more than its shape
            norm = format_value(np.linalg.norm(np.ravel(adjoint)))
            return [_adjoint_line(f"‖{bar_name(vertex.name)}‖ = {norm}")]
        suffix = " (seed)" if is_output else ""
        return [_adjoint_line(f"{bar_name(vertex.name)} = {text}{suffix}")]
    if vertex.grad is not None:  # a drawn Tensor graph after .backward()
        return [_adjoint_line(f"grad = {format_value(vertex.grad)}")]
    return []


def _edge_labels(adjoint_pass, vertex):
    """{(operand, consumer): [term text, ...]}: the reverse-pass labels of the edges into
    `vertex`'s consumers."""
    labels = {}
    for term in adjoint_pass.terms[vertex.index]:
        text = term.symbolic
        if is_scalar(term.value):
            text += f" = {format_value(term.value)}"
        labels.setdefault((vertex.index, term.source), []).append(text)
    return labels


# ----- grouping -----------------------------------------------------------------------------------
def _groups(graph):
    """{operation index: group name}: from cr.viz.scope, or else one layer per matmul."""
    scoped = {v.index: "/".join(v.group) for v in graph.operations if v.group}
    if scoped:
        return scoped
    layers = {}
    layer = 0
    for vertex in graph.operations:
        if vertex.label == "matmul":
            layer += 1
        if layer:
            layers[vertex.index] = f"layer {layer}"
    return layers if layer >= 2 else {}


def _display_ids(graph, groups, collapse):
    """Which DOT node draws each vertex: its own, or its collapsed group's."""
    ids = {v.index: v.name for v in graph.vertices}
    if not collapse:
        return ids, {}
    names = {}
    for index, group in groups.items():
        if index == graph.output:
            continue  # the output always stays visible
        names.setdefault(group, f"group{len(names) + 1}")
        ids[index] = names[group]
    return ids, names


def _group_node(graph, group, node_id, members):
    operations = [graph.vertices[i].label for i in members]
    shown = ", ".join(dict.fromkeys(operations))
    last = graph.vertices[members[-1]]
    lines = [f"<b>{_escape(group)}</b>", _escape(f"{len(members)} operations: {shown}"),
             _escape(f"→ {_value_text(last)}")]
    return f"  {node_id} [label={_html_label(lines)}, {_GROUP}];"


# ----- the DOT text -------------------------------------------------------------------------------
def to_dot(graph, *, adjoints=None, expand=None, max_nodes=10) -> str:
    operations = graph.operations
    large = len(operations) > max_nodes
    groups = _groups(graph)
    collapse = bool(groups) and (expand is False or (expand is None and large))
    show_adjoints = graph.recorded and graph.output_vertex is not None and (
        adjoints if adjoints is not None else True
    )
    adjoint_pass = graph.adjoints() if show_adjoints else None
    ids, group_ids = _display_ids(graph, groups, collapse)
    with_adjoints = adjoint_pass is not None or any(v.grad is not None for v in graph.inputs)
    lines = _header(graph, "TB" if large and not collapse else "LR", with_adjoints)
    lines += _node_lines(graph, ids, groups, collapse, adjoint_pass)
    for group, node_id in group_ids.items():
        members = [i for i, g in groups.items() if g == group and ids[i] == node_id]
        lines.append(_group_node(graph, group, node_id, members))
    edge_labels = {}
    if adjoint_pass is not None and not collapse and not large:
        for vertex in graph.vertices:
            edge_labels.update(_edge_labels(adjoint_pass, vertex))
    lines += _edge_lines(graph, ids, edge_labels)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _header(graph, rankdir, with_adjoints):
    title = _escape(graph.signature())
    legend = _LEGEND if graph.recorded else _TENSOR_LEGEND
    legend = _escape(legend if with_adjoints else legend.split(" · red:")[0])
    return [
        "digraph chainrule {",
        f'  graph [rankdir={rankdir}, fontname="Helvetica", fontsize=11, nodesep=0.3, '
        f'ranksep=0.45, labelloc=b, label=<<b>{title}</b><br/>'
        f'<font point-size="9">{legend}</font>>];',
        '  node [fontname="Helvetica", fontsize=11, style=filled, margin="0.12,0.05"];',
        '  edge [fontname="Helvetica", fontsize=9, color="#4b5563", arrowsize=0.7, '
        f'fontcolor="{_ADJOINT_COLOR}"];',
    ]


def _node_lines(graph, ids, groups, collapse, adjoint_pass):
    lines = []
    clusters = {}
    for vertex in graph.vertices:
        if ids[vertex.index] != vertex.name:
            continue  # drawn as part of a collapsed group
        style = _INPUT if vertex.kind == "input" else _OPERATION
        if vertex.index == graph.output:
            style = _OUTPUT
        label = _html_label(_vertex_lines(graph, vertex, adjoint_pass))
        line = f"  {vertex.name} [label={label}, {style}];"
        group = groups.get(vertex.index)
        if group is not None and not collapse and vertex.index != graph.output:
            clusters.setdefault(group, []).append(line)
        else:
            lines.append(line)
    for number, (group, members) in enumerate(clusters.items()):
        lines.append(f"  subgraph cluster_{number} {{")
        lines.append(f'    label=<<b>{_escape(group)}</b>>; style="rounded,dashed"; '
                     'color="#6d28d9"; fontcolor="#6d28d9";')
        lines.extend("  " + line for line in members)
        lines.append("  }")
    return lines


def _edge_lines(graph, ids, edge_labels):
    lines = []
    seen = set()
    for vertex in graph.operations:
        target = ids[vertex.index]
        for operand in vertex.operands:
            if not isinstance(operand, int):
                continue
            source = ids[operand]
            if source == target:
                continue
            labels = edge_labels.get((operand, vertex.index))
            if labels:
                text = labels.pop(0)  # x * x: one term per edge
                lines.append(f"  {source} -> {target} [label=<{_escape(text)}>];")
            elif (source, target) not in seen:
                lines.append(f"  {source} -> {target};")
            seen.add((source, target))
    return lines


# ----- rendering ----------------------------------------------------------------------------------
def pipe(source: str, format: str) -> bytes:  # noqa: A002 - Graphviz's name
    """Run Graphviz on DOT text; clear errors when the package or `dot` is missing."""
    graphviz = require_extra("graphviz", "viz")
    try:
        return graphviz.Source(source).pipe(format=format)
    except graphviz.ExecutableNotFound as exc:
        raise MissingExtraError(NO_DOT_MESSAGE) from exc
    except graphviz.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip()
        raise ChainruleError(f"Graphviz failed to draw the graph as {format}: {detail}") from exc


_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def render(source: str, path, format=None):  # noqa: A002
    """Write the picture to `path` (format from the suffix unless given); returns the path."""
    path = os.fspath(path)
    if format is None:
        suffix = os.path.splitext(path)[1].lower()
        if suffix not in _FORMATS:
            raise ValueError(
                f"cannot tell the picture format from {path!r}; use a .svg, .png, .pdf or .dot "
                "file name, or pass format='svg'"
            )
        format = _FORMATS[suffix]
    data = source.encode("utf-8") if format == "dot" else pipe(source, format)
    return write_file(path, data)


def write_file(path, data: bytes):
    """Write atomically, readable like any file the user creates (mkstemp makes it 0600)."""
    from chainrule.io import atomic_write  # tempfile and zipfile: only when writing

    with atomic_write(path) as tmp_path:
        with open(tmp_path, "wb") as handle:
            handle.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
    return path
