"""The evaluation trace, forward and reverse passes as tables: text, Markdown, HTML or JSON.

Each pass becomes a `Section` (a title, rows of cells, and JSON-ready records); one renderer
per format lays sections out. Text reads like a textbook derivation: `v̄3 = v̄5 · v4 = 1 · 1 = 1`.
"""

import html
import json
import textwrap

import numpy as np

from chainrule.errors import ChainruleError
from chainrule.viz.notation import (
    bar_name,
    display_width,
    dot_name,
    format_operand,
    format_value,
    is_scalar,
    parenthesized,
    primal_expression,
)
from chainrule.viz.passes import is_complex, join_terms

__all__ = [
    "Section", "evaluation_section", "forward_section", "backward_section", "gradient_section",
    "render_sections", "explain", "html_document", "notebook_html", "require_values", "FORMATS",
]

FORMATS = ("text", "markdown", "html", "json")


class Section:
    """One table. The first `equations` cells of a row are joined by ' = ' in text output;
    `notes` follow it; `result` keeps a pass's outcome as a number (a forward derivative)."""

    def __init__(self, key, title, columns, rows, data, equations=None, notes=(), result=None):
        self.key = key
        self.result = result
        self.title = title
        self.columns = columns
        self.rows = rows
        self.data = data
        self.equations = equations if equations is not None else len(columns)
        self.notes = list(notes)


def require_values(graph, what):
    if not graph.recorded:
        raise ChainruleError(
            f"{what} needs the value of every step, and a graph drawn from a Tensor "
            "(cr.draw) keeps only the operations. Use cr.trace(f, *inputs) to record the values."
        )


# ----- JSON values --------------------------------------------------------------------------------
def jsonable(value):
    """Numbers and nested lists; NaN and infinities as strings (JSON has no literal for them);
    complex numbers as text at full precision, which Python's complex() reads back: "1+2j"."""
    array = np.asarray(value)
    if array.dtype.kind == "b":
        return array.tolist()
    if array.dtype.kind == "c":
        return _complex_text(array.tolist())
    listed = array.astype(float).tolist()
    return _finite_or_text(listed)


def _finite_or_text(item):
    if isinstance(item, list):
        return [_finite_or_text(x) for x in item]
    return item if np.isfinite(item) else str(item)


def _complex_text(item):
    if isinstance(item, list):
        return [_complex_text(x) for x in item]
    number = complex(item)
    number = complex(number.real + 0.0, number.imag + 0.0)  # -0.0 + 0.0: "-1j", not "-0-1j"
    return repr(number).strip("()")


# ----- sections -----------------------------------------------------------------------------------
def _operand_text(graph, operand):
    if isinstance(operand, int):
        return graph.vertices[operand].name
    return format_operand(operand.value)


def _expression(graph, vertex):
    if vertex.kind == "input":
        return vertex.label
    operands = [_operand_text(graph, o) for o in vertex.operands]
    return primal_expression(vertex.primitive.name, operands, vertex.params)


def _shape_text(vertex):
    return f"{vertex.dtype}{list(vertex.shape)}" if vertex.shape else ""


def evaluation_section(graph):
    require_values(graph, "the evaluation trace")
    show_shapes = any(v.shape for v in graph.vertices)
    show_groups = any(v.group for v in graph.vertices)
    columns = ["v", "expression", "value"] + ["shape"] * show_shapes + ["group"] * show_groups
    rows, data = [], []
    for vertex in graph.vertices:
        expression = _expression(graph, vertex)
        row = [vertex.name, expression, format_value(vertex.value)]
        row += [_shape_text(vertex)] * show_shapes + ["/".join(vertex.group)] * show_groups
        rows.append(row)
        data.append({
            "name": vertex.name, "kind": vertex.kind, "operation": vertex.label,
            "expression": expression,
            "operands": [_operand_text(graph, o) for o in vertex.operands],
            "value": jsonable(vertex.value), "shape": list(vertex.shape),
            "group": list(vertex.group),
        })
    output_name = _output_name(graph)
    rows.append(["f", output_name, format_value(graph.value)] + [""] * (len(columns) - 3))
    return Section(
        "evaluation", "Evaluation trace: each primitive once, in order", columns, rows,
        {"steps": data, "output": output_name, "value": jsonable(graph.value)}, equations=3,
    )


def _output_name(graph):
    vertex = graph.output_vertex
    return vertex.name if vertex is not None else format_value(graph.value)


def _basis(graph, direction):
    """What a direction differentiates by, when it seeds exactly one scalar input with 1 (so
    v̇ = ∂v/∂input): that input's name; for a complex input z, `(Re z)` for the seed 1 and
    `(Im z)` for the seed 1j. None for any other direction."""
    nonzero = [name for name, value in direction.items() if np.any(value != 0)]
    if len(nonzero) != 1 or not is_scalar(direction[nonzero[0]]):
        return None
    name = nonzero[0]
    unit = complex(np.reshape(direction[name], ()))
    if is_complex(next(v for v in graph.inputs if v.label == name)):
        return {1: f"(Re {name})", 1j: f"(Im {name})"}.get(unit)
    return name if unit == 1 else None


def _direction_text(direction):
    parts = []
    for name, value in direction.items():
        if not is_scalar(value) and np.all(value == 1):
            text = "ones"
        elif not is_scalar(value) and np.all(value == 0):
            text = "0"
        else:
            text = format_value(value)
        parts.append(f"{dot_name(name)} = {text}")
    return ", ".join(parts)


def _step_row(name, terms, value, fallback):
    if not terms:
        return [name, fallback, "", format_value(value)]
    symbolic = join_terms([t.symbolic for t in terms])
    numbers = [t.numeric for t in terms]
    numeric = join_terms(numbers) if None not in numbers else ""
    if numeric in (symbolic, format_value(value), parenthesized(format_value(value))):
        numeric = ""
    return [name, symbolic, numeric, format_value(value)]


def _step_record(row, terms, value):
    return {
        "name": row[0], "expression": row[1], "substituted": row[2] or None,
        "value": jsonable(value),
        "terms": [
            {"expression": t.symbolic, "substituted": t.numeric, "value": jsonable(t.value)}
            for t in terms
        ],
    }


def forward_section(graph, direction):
    tangent_pass = graph.tangents(direction)
    direction = tangent_pass.direction
    basis = _basis(graph, direction)
    meaning = f"v̇ = ∂v/∂{basis}" if basis else "v̇ = directional derivatives"
    rows, data = [], []
    for vertex in graph.vertices:
        value = tangent_pass.tangents[vertex.index]
        terms = tangent_pass.terms.get(vertex.index, [])
        row = _step_row(dot_name(vertex.name), terms, value, dot_name(vertex.label))
        rows.append(row)
        data.append(_step_record(row, terms, value))
    derivative = tangent_pass.output_tangent()
    result_name = f"∂f/∂{basis}" if basis else "ḟ"
    rows.append([result_name, dot_name(_output_name(graph)), "", format_value(derivative)])
    return Section(
        "forward", f"Forward mode, seed {_direction_text(direction)}: tangents {meaning}",
        ["tangent", "chain rule", "with numbers", "value"], rows,
        {"direction": {k: jsonable(v) for k, v in direction.items()}, "steps": data,
         "derivative": jsonable(derivative)},
        result=derivative,
    )


def backward_section(graph, seed=None):
    adjoint_pass = graph.adjoints(seed)
    output = graph.output_vertex
    if output is None:
        return Section("reverse", "Reverse mode: f depends on no input", [], [], {"steps": []})
    seed_text = format_value(adjoint_pass.seed)
    if not is_scalar(adjoint_pass.seed) and np.all(adjoint_pass.seed == 1):
        seed_text = "ones (this differentiates sum(f))"
    rows, data = [], []
    for vertex in reversed(graph.vertices):
        value = adjoint_pass.adjoint(vertex)
        terms = adjoint_pass.terms[vertex.index]
        fallback = "seed" if vertex is output else "0 (does not reach f)"
        row = _step_row(bar_name(vertex.name), terms, value, fallback)
        rows.append(row)
        data.append(_step_record(row, terms, value))
    return Section(
        "reverse",
        f"Reverse mode, seed {bar_name(output.name)} = {seed_text}: adjoints v̄ = ∂f/∂v",
        ["adjoint", "chain rule", "with numbers", "value"], rows,
        {"seed": jsonable(adjoint_pass.seed), "steps": data},
        notes=_real_part_notes(graph, adjoint_pass),
    )


def _real_part_notes(graph, adjoint_pass):
    """Real values used by complex steps: their adjoints are the real parts of the products."""
    names = [
        vertex.name for vertex in graph.vertices
        if not is_complex(vertex)
        and any(is_complex(graph.vertices[t.source]) for t in adjoint_pass.terms[vertex.index])
    ]
    if not names:
        return []
    return [f"{', '.join(names)} real: each adjoint is the real part of its chain-rule sum "
            "(a real value's gradient is real)."]


def gradient_section(graph, seed=None):
    adjoint_pass = graph.adjoints(seed)
    rows = []
    data = {}
    for vertex in graph.inputs:
        value = adjoint_pass.adjoint(vertex)
        rows.append([f"∂f/∂{vertex.label}", bar_name(vertex.name), format_value(value)])
        data[vertex.label] = jsonable(value)
    notes = _complex_notes(graph, {v.label: adjoint_pass.adjoint(v) for v in graph.inputs})
    return Section("gradient", "Gradient", ["derivative", "adjoint", "value"], rows, data,
                   notes=notes)


def forward_gradient_section(graph, sections):
    """The gradient read off the forward passes (one per scalar input), for --mode forward. A
    complex input z has two, along Re z and Im z; its gradient in cr.grad's convention is
    Re ∂f/∂(Re z) - i Re ∂f/∂(Im z) (the real part: the derivative of Re f, as in reverse mode)."""
    rows = []
    data = {}
    by_part = {}
    for section in sections:
        name, _, _, value = section.rows[-1]
        if name.startswith("∂f/∂"):
            rows.append([name, section.rows[-1][1], value])
            data[name[len("∂f/∂"):].strip("()")] = section.data["derivative"]
            by_part[name[len("∂f/∂"):]] = section.result
    gradients = {}
    for vertex in graph.inputs:
        along_real, along_imag = (by_part.get(f"({part} {vertex.label})") for part in ("Re", "Im"))
        if along_real is not None and along_imag is not None:
            gradients[vertex.label] = np.real(along_real) - 1j * np.real(along_imag)
            formula = f"∂f/∂(Re {vertex.label}) - i·∂f/∂(Im {vertex.label})"
            if np.iscomplexobj(graph.value):
                formula = f"Re ∂f/∂(Re {vertex.label}) - i·Re ∂f/∂(Im {vertex.label})"
            rows.append([f"∂f/∂{vertex.label}", formula, format_value(gradients[vertex.label])])
            data[vertex.label] = jsonable(gradients[vertex.label])
    return Section("gradient", "Gradient (from the forward passes)",
                   ["derivative", "tangent", "value"], rows, data,
                   notes=_complex_notes(graph, gradients))


def _complex_notes(graph, gradients):
    """What a gradient means where complex numbers are involved: cr.grad's (JAX's) convention,
    the conversion to PyTorch's, and that a complex f is differentiated through Re f."""
    notes = []
    complex_output = np.iscomplexobj(graph.value)
    if complex_output:
        notes.append(
            "f is complex: the seed 1 differentiates Re f, as cr.vjp does (for a loss, take a "
            "real number such as real(f) or abs(f) ** 2)."
        )
    for vertex in graph.inputs:
        if not is_complex(vertex) or vertex.label not in gradients:
            continue
        name, gradient = vertex.label, gradients[vertex.label]
        part = "Re f" if complex_output else "f"
        meaning = (f"which is f'({name}) where f is holomorphic" if complex_output
                   else "cr.grad's (JAX's) convention")
        conjugate = f" ({format_value(np.conj(gradient))})" if is_scalar(gradient) else ""
        notes.append(
            f"{name} is complex: ∂f/∂{name} = ∂{part}/∂(Re {name}) - i·∂{part}/∂(Im {name}), "
            f"{meaning}; PyTorch's {name}.grad is its conjugate{conjugate}."
        )
    return notes


# ----- renderers ----------------------------------------------------------------------------------
def _text(section):
    lines = [section.title]
    width = [0] * len(section.columns)
    for row in section.rows:
        for i, cell in enumerate(row):
            width[i] = max(width[i], display_width(cell))
    for row in section.rows:
        parts = []
        for i, cell in enumerate(row):
            pad = " " * (width[i] - display_width(cell))
            if i == 0:
                parts.append(cell + pad)
            elif i < section.equations:
                joiner = " = " if cell else "   "
                parts.append(joiner + cell + pad)
            else:
                parts.append("  " + cell + pad)
        lines.append("  " + "".join(parts).rstrip())
    lines.extend(textwrap.fill(note, 96, initial_indent="  ", subsequent_indent="  ")
                 for note in section.notes)
    return "\n".join(lines)


def _markdown_cell(cell):
    return cell.replace("|", "\\|").replace("*", "\\*") if cell else " "


def _markdown(section):
    lines = [f"**{section.title}**", ""]
    lines.append("| " + " | ".join(section.columns) + " |")
    lines.append("|" + "|".join("---" for _ in section.columns) + "|")
    for row in section.rows:
        lines.append("| " + " | ".join(_markdown_cell(c) for c in row) + " |")
    lines.extend(["", *map(_markdown_cell, section.notes)] if section.notes else [])
    return "\n".join(lines)


def _html(section):
    head = "".join(f"<th>{html.escape(c)}</th>" for c in section.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>\n"
        for row in section.rows
    )
    notes = "".join(f"\n<p class=\"note\">{html.escape(note)}</p>" for note in section.notes)
    return (
        f'<table class="chainrule-{section.key}">\n'
        f"<caption>{html.escape(section.title)}</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>{notes}"
    )


def render_sections(sections, format):  # noqa: A002 - the natural name
    """Sections in one format; JSON gives one object keyed by section."""
    if format not in FORMATS:
        raise ValueError(f"format={format!r}: choose one of {', '.join(FORMATS)}")
    if format == "json":
        return json.dumps(_json_object(sections), indent=2, ensure_ascii=False, allow_nan=False)
    render = {"text": _text, "markdown": _markdown, "html": _html}[format]
    return "\n\n".join(render(s) for s in sections)


def _json_object(sections):
    result = {}
    for section in sections:
        if section.key == "forward":
            result.setdefault("forward", []).append(section.data)
        else:
            result[section.key] = section.data
    return result


# ----- the whole explanation ----------------------------------------------------------------------
def _explain_sections(graph, mode, direction):
    if mode not in ("forward", "reverse", "both"):
        raise ValueError(f"mode={mode!r}: choose forward, reverse or both")
    sections = [evaluation_section(graph)]
    if mode in ("forward", "both"):
        forward = [forward_section(graph, d) for d in graph.directions(direction)]
        sections += forward
    if mode in ("reverse", "both"):
        sections += [backward_section(graph), gradient_section(graph)]
    elif direction is None:
        sections.append(forward_gradient_section(graph, forward))
    return sections


def inputs_text(graph):
    return ", ".join(f"{v.label} = {format_value(v.value)}" for v in graph.inputs)


def explain(graph, mode="both", format="text", direction=None):  # noqa: A002
    sections = _explain_sections(graph, mode, direction)
    header = f"{graph.signature()}   at {inputs_text(graph)}"
    if format == "json":
        body = _json_object(sections)
        body = {"function": graph.signature(),
                "at": {v.label: jsonable(v.value) for v in graph.inputs}, **body}
        return json.dumps(body, indent=2, ensure_ascii=False, allow_nan=False)
    if format == "html":
        return html_document(graph, sections)
    if format == "markdown":
        return f"`{header}`\n\n" + render_sections(sections, format)
    return header + "\n\n" + render_sections(sections, format)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #111827; }
table { border-collapse: collapse; margin: 1em 0 2em; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.4em; }
th, td { border: 1px solid #d1d5db; padding: 0.25em 0.7em; text-align: left; }
td { font-family: ui-monospace, monospace; }
th { background: #f3f4f6; }
figure { margin: 1em 0; }
"""


def _inline_svg(graph):
    """The picture as an inline <svg> element, or a note when Graphviz is missing."""
    try:
        svg = graph.svg()
    except ImportError as exc:
        return f"<p><em>(no picture: {html.escape(str(exc))})</em></p>"
    return svg[svg.index("<svg"):]


def html_document(graph, sections):
    title = html.escape(graph.signature())
    tables = "\n".join(_html(s) for s in sections)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>chainrule: {title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{title}</h1>\n<p>at {html.escape(inputs_text(graph))}</p>\n"
        f"<figure>{_inline_svg(graph)}</figure>\n{tables}\n</body>\n</html>\n"
    )


def notebook_html(graph):
    """Jupyter's rich display: the picture, the evaluation trace and the reverse pass."""
    parts = [f"<figure>{_inline_svg(graph)}</figure>"]
    if graph.recorded:
        sections = [evaluation_section(graph), backward_section(graph), gradient_section(graph)]
        parts += [_html(s) for s in sections]
    return "<div class=\"chainrule-graph\">\n" + "\n".join(parts) + "\n</div>"
