"""`chainrule explain EXPRESSION --at x=3 y=2`: the chain rule, step by step, for your function.

Prints the evaluation trace, the forward-mode pass (one seed direction per input, or the one
given with --direction), the reverse-mode pass and the gradient; optionally draws the graph.
A bad expression or a wrong --at gives a one-line error and exit status 2.
"""

import ast
import json
import sys
import warnings

import numpy as np

from chainrule.cli.expression import FUNCTIONS, ExpressionError, parse_expression
from chainrule.errors import ChainruleError
from chainrule.viz import trace

__all__ = ["add_parser", "run", "explain_graph", "parse_assignments"]

USAGE_ERROR = 2
FAILURE = 1

_EPILOG = (
    "Expressions use numbers (complex too: 1+2j), variables, + - * / ** (and unary -), "
    f"parentheses, pi, and the functions {', '.join(sorted(FUNCTIONS))}. Values may be numbers "
    "(z=1+2j too) or lists (x=[1,2,3], z=[1+2j,3]). "
    "Example: chainrule explain \"(x + y) * (x - y)\" --at x=3 y=2"
)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "explain",
        help="show the evaluation trace, forward and reverse passes of an expression",
        description="Show how automatic differentiation computes the derivatives of an "
        "expression: its evaluation trace, the forward-mode tangents, the reverse-mode "
        "adjoints (each chain-rule step) and the gradient.",
        epilog=_EPILOG,
    )
    add_explain_arguments(parser)
    parser.set_defaults(handler=run)
    return parser


def add_explain_arguments(parser):
    parser.add_argument("expression", help='the function, e.g. "(x + y) * (x - y)"')
    parser.add_argument("--at", nargs="+", default=[], metavar="NAME=VALUE",
                        help="the point: one value per variable, e.g. --at x=3 y=2")
    parser.add_argument("--mode", choices=("forward", "reverse", "both"), default="both",
                        help="which passes to show (default: both)")
    parser.add_argument("--format", choices=("text", "markdown", "html", "json"),
                        default="text", help="output format (default: text)")
    parser.add_argument("--direction", "--seed-direction", nargs="+", default=None,
                        metavar="NAME=VALUE", dest="direction",
                        help="forward-mode seed direction, e.g. --direction x=1 y=1 "
                        "(default: each variable in turn)")
    parser.add_argument("--svg", metavar="FILE", help="draw the graph to an SVG file")
    parser.add_argument("--png", metavar="FILE", help="draw the graph to a PNG file")
    parser.add_argument("--dot", metavar="FILE", help="write the graph in Graphviz's DOT language")
    parser.add_argument("--expand", action="store_true",
                        help="draw every operation of a large graph (default: group them)")
    parser.add_argument("--code", action="store_true",
                        help="print the gradient program that cr.jit generates for the "
                        "expression (NumPy source: the forward pass, then each VJP)")


def _error(message) -> int:
    print(f"chainrule explain: error: {message}", file=sys.stderr)
    return USAGE_ERROR


def _parse_value(name, text):
    value = _parse_list(text) if text.strip().startswith("[") else _parse_number(text)
    if value is None:
        raise ExpressionError(f"--at {name}={text}: '{text}' is not a number or a list "
                              "of numbers", token=text)
    return value


def _parse_number(text):
    """A float (3, -1.5e-3, nan), else a complex number as Python writes it (1+2j, 2j, 1-2J)."""
    try:
        return np.float64(float(text))
    except ValueError:
        pass
    try:
        return np.complex128(complex("".join(text.split())))
    except ValueError:
        return None


def _parse_list(text):
    """A JSON list of numbers, or one with complex entries ([1+2j, 3]), read by
    ast.literal_eval (literals only, never evaluated) and kept if all its entries are numbers."""
    try:
        return np.asarray(json.loads(text), dtype=float)
    except (ValueError, TypeError):
        pass
    try:
        value = np.asarray(ast.literal_eval(text))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if value.dtype.kind not in "iufc":
        return None
    return value.astype(complex if value.dtype.kind == "c" else float)


def parse_assignments(items, variables, option="--at", require_all=True):
    """{name: value} from NAME=VALUE items; names the missing and the unknown variables."""
    values = {}
    for item in items:
        name, equals, text = item.partition("=")
        name = name.strip()
        if not equals or not name:
            raise ExpressionError(f"{option} {item}: write NAME=VALUE, e.g. x=3", token=item)
        if name in values:
            raise ExpressionError(f"{option} gives {name} twice", token=name)
        values[name] = _parse_value(name, text.strip())
    problems = []
    missing = [name for name in variables if name not in values] if require_all else []
    if missing:
        example = " ".join(f"{name}=..." for name in missing)
        plural = "s" if len(missing) > 1 else ""
        problems.append(f"no value for variable{plural} {', '.join(missing)} "
                        f"(add {option} {example})")
    extra = [name for name in values if name not in variables]
    if extra:
        problems.append(f"{option} gives {', '.join(extra)}, which the expression does not use "
                        f"(its variables: {', '.join(variables) or 'none'})")
    if problems:
        raise ExpressionError("; ".join(problems), token=(missing + extra)[0])
    return values


def explain_graph(source, assignments):
    """Parse, check and trace an expression at a point: the Graph `explain` prints."""
    expression = parse_expression(source)
    if not expression.variables:
        raise ExpressionError(
            f"'{source}' has no variables, so there is nothing to differentiate; "
            "use a variable such as x and give its value with --at x=..."
        )
    values = parse_assignments(assignments, expression.variables)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        graph = trace(expression.function, **values)
    graph.expression = " ".join(source.split())
    return graph


def generated_code(source, assignments) -> str:
    """The NumPy source of cr.jit(cr.grad(f, argnums=every variable)) at the point: the
    program `chainrule explain --code` prints."""
    import inspect

    import chainrule as cr

    expression = parse_expression(source)
    names = list(expression.variables)
    if not names:
        raise ExpressionError(f"'{source}' has no variables, so there is nothing to differentiate")
    values = parse_assignments(assignments, names)
    if any(np.iscomplexobj(value) for value in values.values()):
        raise ExpressionError("--code shows the gradient of real variables; give real values")

    def f(*args):
        return cnp_sum(expression.function(**dict(zip(names, args, strict=True))))

    f.__signature__ = inspect.Signature(
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names]
    )
    program = cr.jit(cr.grad(f, argnums=tuple(range(len(names)))))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        text = program.source(*(values[name] for name in names))
    header = (f"# d/d({', '.join(names)}) of {' '.join(source.split())}, as cr.jit stages it: "
              "one NumPy call per primitive,\n# the forward pass first, then the backward "
              "pass, each line under the VJP it applies.\n")
    return header + text


def cnp_sum(value):
    """sum() of the expression's value (a list value gives an array; the gradient needs a
    scalar), or the value itself when it is one."""
    import chainrule.numpy as cnp

    return cnp.sum(value)


def run(args) -> int:
    if getattr(args, "code", False):
        try:
            print(generated_code(args.expression, args.at), end="")
        except ChainruleError as exc:
            return _error(exc)
        return 0
    try:
        graph = explain_graph(args.expression, args.at)
        direction = None
        if args.direction is not None:
            direction = parse_assignments(args.direction, [v.label for v in graph.inputs],
                                          option="--direction", require_all=False)
    except ChainruleError as exc:  # the expression, the --at values, or shapes that clash
        return _error(exc)
    try:
        with np.errstate(all="ignore"):
            print(graph.explain(mode=args.mode, format=args.format, direction=direction))
    except ChainruleError as exc:
        print(f"chainrule explain: {exc}", file=sys.stderr)
        return FAILURE
    return write_pictures(graph, args)


def write_pictures(graph, args) -> int:
    """--svg/--png/--dot; a missing Graphviz is reported with how to install it."""
    status = 0
    for path, format_name in ((args.dot, "dot"), (args.svg, "svg"), (args.png, "png")):
        if not path:
            continue
        try:
            graph.render(path, format_name, expand=True if args.expand else None)
        except (ChainruleError, ImportError, OSError, ValueError) as exc:
            print(f"chainrule explain: cannot write {path}: {exc}", file=sys.stderr)
            status = FAILURE
            continue
        print(f"wrote {path}", file=sys.stderr)
    return status

