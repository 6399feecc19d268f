"""A small Sphinx extension for chainrule's docstrings.

chainrule's docstrings are written to be read in a terminal (`help(cr.grad)`): `code` in single
backticks, `*args`, |x| for absolute values, examples indented under a sentence. This reads them
as such when Sphinx renders them, without changing the source: single backticks become literals,
stray `*` and `|` are escaped, an indented block after a paragraph becomes a code block. It also
resolves references to a private module path (`chainrule.viz.graph.Graph`) to the public name
documented in the API reference (`chainrule.viz.Graph`).
"""

import importlib
import re

_PUBLIC_MODULES = (
    "chainrule", "chainrule.nn", "chainrule.nn.functional", "chainrule.nn.init",
    "chainrule.optim", "chainrule.optim.lr_scheduler", "chainrule.nn.utils", "chainrule.data",
    "chainrule.io", "chainrule.errors", "chainrule.tree", "chainrule.viz",
    "chainrule.scipy.special", "chainrule.scipy.stats", "chainrule.scipy.linalg",
    "chainrule.scipy.signal", "chainrule.scipy.integrate",
)

_LITERAL = re.compile(r"(``.+?``|:[\w:]+:`[^`]+`)")
_SINGLE_BACKTICKS = re.compile(r"(?<![`\w])`([^`]+)`(?![`\w])")
_STAR = re.compile(r"(?<![\w*\\])(\*\*?)(?=[A-Za-z_(])")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[\s.,;:!?)\]'\"-]|$)")  # `copy_` is a reference


def _escape_prose(text):
    text = _SINGLE_BACKTICKS.sub(r"``\1``", text)
    pieces = _LITERAL.split(text)
    for index in range(0, len(pieces), 2):  # even pieces are prose, odd ones literals
        prose = _STAR.sub(lambda match: "\\" + "\\".join(match.group(1)), pieces[index])
        prose = _TRAILING_UNDERSCORE.sub(r"\\_", prose)
        pieces[index] = prose.replace("|", "\\|")
    return "".join(pieces)


def _indent(line):
    return len(line) - len(line.lstrip())


def _markdownish_to_rst(app, what, name, obj, options, lines):
    out = []
    in_literal = False
    literal_indent = 0
    for line in lines:
        stripped = line.strip()
        if in_literal:
            if stripped and _indent(line) <= literal_indent:
                in_literal = False
            else:
                out.append(line)
                continue
        previous = next((item for item in reversed(out) if item.strip()), "")
        starts_block = (
            stripped and out and not out[-1].strip() and _indent(line) > _indent(previous)
        )
        if starts_block and not previous.rstrip().endswith("::"):
            if not previous.lstrip().startswith((":", "..")):
                out.extend(["::", ""])
                starts_block = True
            else:
                starts_block = False
        if starts_block or stripped.startswith(">>>"):
            in_literal = True
            literal_indent = _indent(previous) if starts_block else _indent(line) - 1
            out.append(line)
            continue
        if stripped.startswith(("..", ":param", ":returns", ":raises", ":rtype", ":type")):
            head, _, rest = line.partition(": ") if stripped.startswith(":") else (line, "", "")
            out.append(head + (": " + _escape_prose(rest) if rest else ""))
            continue
        out.append(_escape_prose(line) if not line.rstrip().endswith("::") or stripped != "::"
                   else line)
    lines[:] = out


_ALIASES = {}


def _public_names():
    if not _ALIASES:
        for module_name in _PUBLIC_MODULES:
            module = importlib.import_module(module_name)
            for name in getattr(module, "__all__", ()):
                value = getattr(module, name, None)
                _ALIASES.setdefault(id(value), f"{module_name}.{name}")
    return _ALIASES


def _resolve_private_path(app, env, node, contnode):
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("chainrule."):
        return None
    module_name, _, attribute = target.rpartition(".")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError):
        return None
    public = _public_names().get(id(value))
    if public is None or public == target:
        return None
    domain = env.domains["py"]
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], public, node, contnode
    )


def setup(app):
    app.connect("autodoc-process-docstring", _markdownish_to_rst, priority=600)
    app.connect("missing-reference", _resolve_private_path)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
