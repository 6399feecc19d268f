"""How a recorded step is written down: values, operations, and local derivatives.

The numbers in the tables come from chainrule's own derivative rules; this module only decides
how to *write* them: `v3 = v1 + v2`, the partial `∂v5/∂v3 = v4`, an adjoint `v̄5 · v4`.
The local derivatives' text comes from each primitive's `formula` in the registry; primitives
without one are written generically (`∂v5/∂v3`).
"""

import re
import unicodedata

import numpy as np

from chainrule.core.primitive import REGISTRY, PerInput

__all__ = [
    "format_value", "format_number", "format_operand", "parenthesized", "format_params",
    "primal_expression", "term_templates", "dot_name", "bar_name", "display_width", "is_scalar",
]

DOT = "\u0307"  # combining dot above: v̇ (a tangent)
BAR = "\u0304"  # combining macron: v̄ (an adjoint)
MAX_INLINE = 6  # arrays with at most this many entries are written out in full


def _marked(name: str, mark: str, fallback: str) -> str:
    # A mark fits one letter (v3 -> v̇3, x -> ẋ); a longer name gets d(name) or ∂f/∂(name).
    if re.fullmatch(r"[A-Za-z][0-9_]*", name):
        # NFC: x + dot becomes the single character ẋ where Unicode has one (so text searches
        # for ẋ find it); v + dot has no precomposed form and stays two code points.
        return unicodedata.normalize("NFC", name[0] + mark + name[1:])
    return fallback.format(name)


def dot_name(name: str) -> str:
    """`v3` -> `v̇3` (a tangent); `scale` -> `d(scale)`."""
    return _marked(name, DOT, "d({})")


def bar_name(name: str) -> str:
    """`v3` -> `v̄3` (an adjoint); `scale` -> `∂f/∂(scale)`."""
    return _marked(name, BAR, "∂f/∂({})")


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: combining marks (the dot and bar) take none."""
    return sum(0 if unicodedata.combining(char) else 1 for char in text)


def is_scalar(value) -> bool:
    return value is not None and np.size(value) == 1


def format_number(number) -> str:
    """6 significant digits, no trailing zeros: 5.0 -> '5', 0.1 + 0.2 -> '0.3'. A complex
    number as Python writes it, without the parentheses (1+2j, 0.5-1j, 2j), and without a zero
    imaginary part: 5+0j -> '5', as in `1 · (1-2j) + 1 · (1+2j) = 2`."""
    if np.iscomplexobj(number):
        return _format_complex(complex(number))
    number = float(number)
    if number == 0:
        return "0"  # also turns -0.0 into 0
    return format(number, ".6g")


def _format_complex(number: complex) -> str:
    if number.imag == 0:
        return format_number(number.real)
    imaginary = format_number(number.imag) + "j"
    if number.real == 0:
        return imaginary  # 2j, -1j: Python's way (a NaN real part is written: nan+1j)
    sign = "" if imaginary.startswith("-") else "+"
    return f"{format_number(number.real)}{sign}{imaginary}"


# A sign inside a number, not the exponent's: the + of 1+2j, the - of 1e-05-2j.
_INNER_SIGN = re.compile(r"(?<!^)(?<![eE])[+-]")


def parenthesized(text: str) -> str:
    """A number ready to stand in a product: (-2), (1+2j); 3, 2j and [1, 2] as they are."""
    if text.startswith("-") or (not text.startswith("[") and _INNER_SIGN.search(text)):
        return f"({text})"
    return text


def format_operand(value) -> str:
    """A constant operand in an expression: `v1 · (-2)`, `v1 + (1+2j)`."""
    return parenthesized(format_value(value))


def format_value(value, max_inline: int = MAX_INLINE) -> str:
    """A scalar as a number, a small array in full, a large one as dtype[shape]."""
    if value is None:
        return "?"
    array = np.asarray(value)
    if array.dtype.kind == "b":
        return str(array.tolist()) if array.size <= max_inline else f"bool{list(array.shape)}"
    if array.dtype.kind not in "iufc":
        return f"{array.dtype}{list(array.shape)}"
    if array.size == 1:
        return format_number(array.reshape(()))
    if array.size <= max_inline:
        return _nested(array)
    return f"{array.dtype}{list(array.shape)}"


def _nested(array) -> str:
    if array.ndim == 0:
        return format_number(array)
    if array.ndim == 1:
        return "[" + ", ".join(format_number(x) for x in array) + "]"
    return "[" + ", ".join(_nested(row) for row in array) + "]"


def format_params(params: dict) -> str:
    """Static parameters (axis, shape, index...) for an expression: `axis=(0,), keepdims=True`."""
    parts = []
    for key, value in params.items():
        if isinstance(value, np.ndarray):
            text = format_value(value)
        elif isinstance(value, np.dtype) or isinstance(value, type):
            text = np.dtype(value).name
        else:
            text = repr(value)
            if len(text) > 24:
                text = text[:21] + "..."
        parts.append(f"{key}={text}")
    return ", ".join(parts)


# ----- the primal expression of a step ------------------------------------------------------------
_INFIX = {
    "add": "{0} + {1}", "subtract": "{0} - {1}", "multiply": "{0} · {1}", "divide": "{0} / {1}",
    "power": "{0}^{1}", "float_power": "{0}^{1}", "matmul": "{0} @ {1}", "negative": "-{0}",
}


def primal_expression(name: str, operands, params: dict) -> str:
    """`v1 + v2` for infix operations, `sin(v1)` or `sum(v3, axis=(0,))` for the rest."""
    template = _INFIX.get(name)
    if template is not None and len(operands) == template.count("{"):
        return template.format(*operands)
    arguments = list(operands)
    if params:
        arguments.append(format_params(params))
    return f"{name}({', '.join(arguments)})"


# ----- local derivatives --------------------------------------------------------------------------
class Scale:
    """A local partial derivative written as a factor: the chain-rule term is v̄ · partial
    (reverse) or v̇ · partial (forward). Exact for scalars, elementwise for arrays."""

    __slots__ = ("partial",)

    def __init__(self, partial):
        self.partial = partial


class LinearMap:
    """A term written as a map applied to the incoming derivative ({g}: the adjoint in reverse
    mode, {t}: the tangent in forward mode). For matmul and shape operations."""

    __slots__ = ("reverse", "forward")

    def __init__(self, reverse, forward):
        self.reverse = reverse
        self.forward = forward


# Formulas for complex operands where a row's formula holds for real ones only. |z| is not
# holomorphic: its derivative is no factor sign(z) but a linear map, d|z| = Re(conj(z) dz)/|z|,
# with VJP g conj(z)/|z| (ops/elementwise.py's _abs_vjp and _abs_jvp).
_COMPLEX_FORMULAS = {"abs": (("{g} · conj({0})/{out}", "real(conj({0}) · {t})/{out}"),)}


def term_templates(name: str, arity: int, complex_operands: bool = False):
    """One Scale or LinearMap per input of primitive `name`, from the `formula` of its registry
    row (a text is a factor, a pair a linear map); generic partials where it has none. Complex
    operands of a row whose formula holds for real ones only (abs) get its complex formula."""
    primitive = REGISTRY.get(name)
    formula = None if primitive is None else primitive.formula
    if complex_operands and name in _COMPLEX_FORMULAS:
        formula = _COMPLEX_FORMULAS[name]
    if formula is not None and isinstance(primitive.vjps, PerInput):
        formula = formula * arity  # variadic (concatenate): one template serves every input
    if formula is not None and len(formula) == arity:
        return tuple(Scale(entry) if isinstance(entry, str) else LinearMap(*entry)
                     for entry in formula)
    return tuple(Scale(f"∂{{out}}/∂{{{index}}}") for index in range(arity))
