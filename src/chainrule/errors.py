"""One exception hierarchy for chainrule.

Each class also subclasses the matching built-in, so `except ValueError` keeps working.
Messages name the operation, the shapes/dtypes involved and the fix.
"""

__all__ = [
    "ChainruleError",
    "ShapeError",
    "DTypeError",
    "InputTypeError",
    "GraphFreedError",
    "InplaceError",
    "StagingError",
    "RetraceWarning",
    "BackendWarning",
    "GradcheckError",
    "UnsupportedFunctionError",
    "NonScalarOutputError",
    "AnomalyError",
    "AllocationError",
    "FileFormatError",
    "MissingExtraError",
    "BatchingError",
    "TreeStructureError",
    "ArgnumsError",
    "CustomRuleError",
    "ArgumentError",
    "IndexOutOfRangeError",
    "GraphEscapeError",
    "ConcretizationError",
    "GraphBreakWarning",
    "NonLeafGradWarning",
    "NonDifferentiableError",
]


class ChainruleError(Exception):
    """Base of every exception chainrule raises on purpose."""


class ShapeError(ChainruleError, ValueError):
    """Shapes that do not broadcast, multiply or match."""


class DTypeError(ChainruleError, TypeError):
    """A dtype that cannot take part in differentiation (ints, bools, complex...)."""


class InputTypeError(ChainruleError, TypeError):
    """An input that is not numeric: a string, None, an object array, a ragged list."""


class GraphFreedError(ChainruleError, RuntimeError):
    """A backward pass through a graph whose saved values were already released."""


class InplaceError(ChainruleError, RuntimeError):
    """An in-place change that would make a recorded derivative wrong."""


class UnsupportedFunctionError(ChainruleError, TypeError):
    """A NumPy function that chainrule cannot differentiate."""


class NonScalarOutputError(ChainruleError, TypeError):
    """`grad` or `backward()` asked of an output that is not a scalar."""


class AnomalyError(ChainruleError, RuntimeError):
    """A NaN or infinity found by `detect_anomaly()` (or masked NaN under strict_nan)."""


class AllocationError(ChainruleError, MemoryError):
    """An array that could not fit in this machine's memory, refused before allocating it."""


class FileFormatError(ChainruleError, ValueError):
    """A saved file that is corrupt, truncated, or holds something chainrule will not load."""


class TreeStructureError(ChainruleError, ValueError):
    """Two pytrees (primals and tangents, outputs and cotangents) whose structures differ."""


class ArgnumsError(ChainruleError, ValueError):
    """`argnums` that names no positional argument of the call."""


class CustomRuleError(ChainruleError, ValueError):
    """A custom_vjp / custom_jvp rule that returned the wrong number or shapes of values."""


class ArgumentError(ChainruleError, ValueError):
    """An argument value a function does not accept: an unknown mode or ord, a bad option."""


class IndexOutOfRangeError(ChainruleError, IndexError):
    """An index outside the array it selects from."""


class GraphEscapeError(ChainruleError, TypeError):
    """A value on a graph was about to become a plain NumPy array or Python number, which would
    silently cut it from the graph (its derivative would read as zero). PyTorch and JAX refuse
    these conversions too; the message names the conversion and the recording alternative."""


class ConcretizationError(GraphEscapeError):
    """A value being differentiated by a functional transform (grad, jvp, jacrev, ...) was asked
    for its number (`float(x)`, `x.item()`, `np.asarray(x)`): inside the transform it stands
    for a variable, so it has no single number to give (JAX's ConcretizationTypeError)."""


class BatchingError(ConcretizationError):
    """Under `cr.vmap`, an operation needed one number or one array where each example has its
    own: Python control flow on a batched value (`if x > 0:`), a batched value used as a shape,
    or a NumPy function applied to its plain value. Use the chainrule.numpy spelling
    (`cnp.where` for a branch) or move the operation out of the vmapped function."""


class StagingError(ConcretizationError):
    """Inside `cr.jit`, something that a staged program cannot repeat: turning a staged value
    into a NumPy array for a NumPy function without a rule, printing or writing it (that would
    happen once, at trace time), mutating an input in place, or a staged value used after its
    function returned. The message names the line and the fix (chainrule.numpy, static_argnums,
    returning the value)."""


class RetraceWarning(UserWarning):
    """`cr.jit` traced one function many times: an argument keeps changing shape, dtype or
    static value, or Python control flow on a staged value keeps taking a new branch."""


class GradcheckError(ChainruleError, AssertionError):
    """`cr.gradcheck` / `cr.gradgradcheck`: a derivative disagrees with central finite
    differences (the message names the argument, the entry and both values)."""


class BackendWarning(UserWarning):
    """`cr.jit(..., backend="numexpr" or "numba")` could not use that backend for a program (an
    operation it lacks, a compile error, a result that differs from NumPy's): the program runs on
    the NumPy backend instead, with the same results."""


class NonLeafGradWarning(UserWarning):
    """`.grad` read on a tensor computed from others, which backward never fills (PyTorch warns
    the same way). Usually `w = w - lr * w.grad` outside no_grad made `w` a computed tensor."""


class GraphBreakWarning(UserWarning):
    """`float(t)` / `int(t)` of a Tensor-API tensor that requires grad: the number is right, but
    anything computed from it is cut from the graph (PyTorch 2 warns the same way)."""


class NonDifferentiableError(ChainruleError, ValueError):
    """A derivative asked for at a point where it does not exist and no convention can stand in
    for it without giving some composite a wrong value (norm's second derivative at 0)."""


class MissingExtraError(ChainruleError, ImportError):
    """An optional dependency is not installed; the message says which `pip install` fixes it."""


def require_extra(module: str, extra: str, package: str = None):
    """Import an optional dependency, or say exactly how to install it.

    `package` is the name pip knows it by when that differs from the module (scikit-learn).
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = package or module.split(".")[0]
        raise MissingExtraError(
            f"this feature needs the optional package '{package}'. "
            f"Install it with: pip install 'chainrule[{extra}]'  (or: pip install {package})"
        ) from exc
