"""User expressions for `chainrule explain`: parsed with `ast`, checked against a whitelist,
turned into a function by walking the tree. Nothing is ever passed to eval, exec or compile.

Allowed: numbers (complex ones too: `1+2j` is the sum of the literals 1 and 2j, as in Python),
variables, `+ - * / **`, unary `-`/`+`, parentheses, the constant `pi`, and calls of the
functions in `FUNCTIONS` (each maps to `chainrule.numpy`). Anything else raises an
`ExpressionError` naming the offending token and its column.
"""

import ast
import inspect
import math
import re

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.primitive import REGISTRY
from chainrule.errors import ChainruleError
from chainrule.viz import scope

__all__ = [
    "ExpressionError", "Expression", "parse_expression", "FUNCTIONS", "CONSTANTS",
    "MAX_EXPONENT", "MAX_LENGTH", "MAX_DEPTH",
]

MAX_LENGTH = 1000  # characters
MAX_DEPTH = 60  # nesting of operations and calls
_ALLOWED = "expressions may use numbers, variables, + - * / **, pi and the listed functions"
MAX_EXPONENT = 100  # |literal exponent|: x ** 1e6 is a typo or an attempt to stall, never a need


class ExpressionError(ChainruleError, ValueError):
    """An expression outside the whitelist; the message names the token and its column."""

    def __init__(self, message, column=None, token=None):
        super().__init__(message)
        self.column = column
        self.token = token


class _Function:
    __slots__ = ("implementation", "arity", "composite")

    def __init__(self, implementation, arity=1, composite=False):
        self.implementation = implementation
        self.arity = arity
        self.composite = composite  # built from several primitives: drawn as one group


# Every registry row that says `expression=True` (unary elementwise rows do by default), under
# its NumPy name; then the names of Python's `math` module for some of them, and two composites.
# Two-argument max/min are elementwise (NumPy's maximum/minimum).
_MATH_NAMES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
               "pow": "power", "max": "maximum", "min": "minimum"}
_COMPOSITES = ("relu", "softplus")


def _functions():
    callable_rows = {name: p for name, p in REGISTRY.items() if p.expression}
    functions = {name: _Function(getattr(cnp, name), len(p.vjps))
                 for name, p in callable_rows.items()}
    for math_name, name in _MATH_NAMES.items():
        functions[math_name] = _Function(getattr(cnp, name), len(REGISTRY[name].vjps))
    for name in _COMPOSITES:
        functions[name] = _Function(getattr(cnp, name), composite=True)
    return functions


FUNCTIONS = _functions()  # the documented list
CONSTANTS = {"pi": math.pi}

_BINARY = {
    ast.Add: cnp.add, ast.Sub: cnp.subtract, ast.Mult: cnp.multiply, ast.Div: cnp.divide,
    ast.Pow: cnp.power,
}
_UNARY = {ast.USub: cnp.negative, ast.UAdd: lambda value: value}
_OPERATOR_TOKENS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
                    ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
                    ast.Invert: "~", ast.Not: "not"}
_FORBIDDEN = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension",
    ast.DictComp: "comprehension", ast.GeneratorExp: "comprehension",
    ast.Compare: "comparison", ast.BoolOp: "boolean operator",
    ast.IfExp: "conditional expression", ast.NamedExpr: "assignment expression",
    ast.List: "list", ast.Tuple: "tuple", ast.Set: "set", ast.Dict: "dict",
    ast.JoinedStr: "f-string", ast.Starred: "starred argument", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slice",
}


class Expression:
    """A checked expression: its variables (in order of appearance) and a function of them."""

    def __init__(self, source, variables, program):
        self.source = source
        self.variables = variables
        self._program = program
        parameters = [
            inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in variables
        ]
        self.function = self._make_function(inspect.Signature(parameters))

    def _make_function(self, signature):
        program = self._program

        def expression_function(*args, **named):
            values = signature.bind(*args, **named).arguments
            return _run(program, values)

        expression_function.__signature__ = signature
        expression_function.__name__ = "f"
        return expression_function

    def __call__(self, *args, **named):
        return self.function(*args, **named)

    def __repr__(self):
        return f"<Expression {self.source!r} of {', '.join(self.variables) or 'no variables'}>"


# ----- positions ----------------------------------------------------------------------------------
def _column(source, lineno, byte_offset):
    """1-based character column (ast counts UTF-8 bytes) and a ' on line N' part if needed."""
    line = source.splitlines()[lineno - 1] if source.splitlines() else ""
    column = len(line.encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1
    return column, (f" on line {lineno}" if lineno > 1 else "")


def _fail(source, node, message, token, hint=None, byte_offset=None):
    """Raise '<message> at column N[; hint]' for `node` (or a byte offset on its line)."""
    offset = node.col_offset if byte_offset is None else byte_offset
    column, where = _column(source, node.lineno, offset)
    text = f"{message} at column {column}{where}" + (f"; {hint}" if hint else "")
    raise ExpressionError(text, column=column, token=token)


def _segment(source, node, limit=30):
    text = ast.get_source_segment(source, node) or type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ----- parsing ------------------------------------------------------------------------------------
def parse_expression(source: str) -> Expression:
    """Check `source` against the whitelist and return an `Expression`; else ExpressionError."""
    if not isinstance(source, str):
        raise ExpressionError(f"the expression must be text, not {type(source).__name__}")
    if not source.strip():
        raise ExpressionError("the expression is empty; try something like \"x * sin(y)\"")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(source)} characters long; the limit is {MAX_LENGTH}"
        )
    tree = _parse(source)
    program, variables = _compile(source, tree.body)
    return Expression(source, variables, program)


def _parse(source):
    try:
        return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise _syntax_error(source, exc) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        # null bytes, over-long integer literals, absurd nesting
        message = str(exc).split("\n")[0] or type(exc).__name__
        raise ExpressionError(f"cannot read the expression: {message}") from None


_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z_0-9]*|\d[\d.eE+-]*[jJ]?|\*\*|//|\S)")


def _syntax_error(source, exc):
    lines = source.splitlines() or [""]
    lineno = min(max(exc.lineno or 1, 1), len(lines))
    column = max(exc.offset or 1, 1)
    line = lines[lineno - 1]
    match = _TOKEN.match(line, min(column - 1, len(line)))
    token = match.group(1) if match else None
    near = f" near '{token}'" if token else " at the end of the expression"
    where = f" on line {lineno}" if lineno > 1 else ""
    reason = (exc.msg or "invalid syntax").split("\n")[0]
    return ExpressionError(
        f"syntax error at column {column}{where}{near}: {reason}", column=column, token=token
    )


def _children(node):
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _compile(source, root):
    """The tree as a postfix program (iterative post-order walk), checking every node."""
    program = []
    variables = []
    stack = [(root, False, 1)]
    while stack:
        node, children_done, depth = stack.pop()
        if children_done:
            program.append(_instruction(source, node, variables))
            continue
        if depth > MAX_DEPTH:
            _fail(source, node, f"the expression nests more than {MAX_DEPTH} levels deep",
                  _segment(source, node))
        _check(source, node)
        stack.append((node, True, depth))
        stack.extend((child, False, depth + 1) for child in reversed(_children(node)))
    return program, variables


def _check(source, node):
    kind = type(node)
    if kind is ast.Attribute:
        _fail_attribute(source, node)
    if kind in _FORBIDDEN:
        token = _segment(source, node)
        _fail(source, node, f"{_FORBIDDEN[kind]} '{token}' is not allowed", token, _ALLOWED)
    if kind is ast.BinOp:
        if type(node.op) not in _BINARY:
            token = _OPERATOR_TOKENS.get(type(node.op), type(node.op).__name__)
            _fail(source, node, f"operator '{token}' is not allowed", token, "use + - * / **",
                  byte_offset=_operator_offset(source, node, token))
        if isinstance(node.op, ast.Pow):
            _check_exponent(source, node.right)
    elif kind is ast.UnaryOp:
        if type(node.op) not in _UNARY:
            token = _OPERATOR_TOKENS.get(type(node.op), type(node.op).__name__)
            _fail(source, node, f"operator '{token}' is not allowed", token, "use + - * / **")
    elif kind is ast.Call:
        _check_call(source, node)
    elif kind is ast.Constant:
        _check_number(source, node)
    elif kind is ast.Name:
        _check_name(source, node)
    else:
        token = _segment(source, node)
        _fail(source, node, f"'{token}' is not allowed", token, _ALLOWED)


def _operator_offset(source, node, token):
    """Byte offset of a binary operator: the first `token` after the left operand."""
    if node.left.end_lineno != node.lineno:
        return None
    line = source.splitlines()[node.lineno - 1].encode("utf-8")
    found = line.find(token.encode("utf-8"), node.left.end_col_offset)
    return found if found >= 0 else None


def _check_exponent(source, exponent):
    value = exponent
    while isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
        value = value.operand
    if isinstance(value, ast.Constant) and isinstance(value.value, (int, float, complex)):
        if not isinstance(value.value, bool) and abs(value.value) > MAX_EXPONENT:
            token = _segment(source, exponent)
            _fail(source, exponent, f"exponent {token} is too large", token,
                  f"the limit is ±{MAX_EXPONENT}")


def _check_call(source, node):
    if isinstance(node.func, ast.Attribute):
        _fail_attribute(source, node.func)
    if not isinstance(node.func, ast.Name):
        token = _segment(source, node.func)
        _fail(source, node.func, f"call of '{token}' is not allowed", token,
              "only the listed functions can be called")
    name = node.func.id
    _check_underscore(source, node.func)
    function = FUNCTIONS.get(name)
    if function is None:
        _fail(source, node.func, f"unknown function '{name}'", name,
              f"known functions: {', '.join(sorted(FUNCTIONS))}")
    if node.keywords:
        keyword = node.keywords[0]
        token = f"{keyword.arg}=" if keyword.arg else "**"
        _fail(source, keyword, f"keyword argument '{token}' is not allowed", token,
              f"call {name}() with positional arguments")
    for argument in node.args:
        if isinstance(argument, ast.Starred):
            _fail(source, argument, "starred argument '*' is not allowed", "*")
    if len(node.args) != function.arity:
        plural = "s" if function.arity > 1 else ""
        _fail(source, node, f"{name}() takes {function.arity} argument{plural}, "
              f"got {len(node.args)}", name)
    if name == "pow":
        _check_exponent(source, node.args[1])


def _check_number(source, node):
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float, complex)):
        token = _segment(source, node)
        _fail(source, node, f"constant {token} is not allowed", token, "only numbers are")
    try:
        number = abs(complex(value))  # an imaginary literal (2j) is a complex constant
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        token = _segment(source, node)
        _fail(source, node, f"number {token} is too large", token, "the limit is about 1e308")


def _check_name(source, node):
    name = node.id
    _check_underscore(source, node)
    if name in FUNCTIONS:
        _fail(source, node, f"function '{name}' used as a value", name,
              f"call it, as in {name}(x)")


def _check_underscore(source, node):
    if node.id.startswith("_"):
        _fail(source, node, f"name '{node.id}' is not allowed", node.id,
              "names starting with '_' are reserved")


def _fail_attribute(source, node):
    # Point at the dot: the attribute name ends the node, the dot comes just before it.
    dot = max(node.end_col_offset - len(node.attr.encode("utf-8")) - 1, 0)
    if node.end_lineno != node.lineno:
        dot = None
    token = f".{node.attr}"
    _fail(source, node, f"attribute access '{token}' is not allowed", token, _ALLOWED,
          byte_offset=dot)


def _instruction(source, node, variables):
    """One postfix instruction: (kind, payload)."""
    if isinstance(node, ast.Constant):
        number_type = np.complex128 if isinstance(node.value, complex) else np.float64
        return ("constant", number_type(node.value))
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return ("constant", np.float64(CONSTANTS[node.id]))
        if node.id not in variables:
            variables.append(node.id)
        return ("variable", node.id)
    if isinstance(node, ast.BinOp):
        return ("apply", (_BINARY[type(node.op)], 2, None))
    if isinstance(node, ast.UnaryOp):
        return ("apply", (_UNARY[type(node.op)], 1, None))
    function = FUNCTIONS[node.func.id]
    group = node.func.id if function.composite else None
    return ("apply", (function.implementation, function.arity, group))


def _run(program, values):
    """Evaluate a postfix program on a stack."""
    stack = []
    for kind, payload in program:
        if kind == "constant":
            stack.append(payload)
        elif kind == "variable":
            stack.append(values[payload])
        else:
            implementation, arity, group = payload
            arguments = stack[len(stack) - arity:]
            del stack[len(stack) - arity:]
            if group is None:
                stack.append(implementation(*arguments))
            else:
                with scope(group):
                    stack.append(implementation(*arguments))
    return stack[0]
