"""`cr.jit(..., backend=...)`: how a staged program runs.

- "numpy" (the default, nothing beyond NumPy): the generated source of transforms/program.py,
  one NumPy call per primitive, dead buffers reused with out=.
- "numexpr" (`pip install numexpr`, the `chainrule[numexpr]` extra): chains of elementwise
  operations on arrays are fused into one `numexpr.evaluate` each, which computes them in one
  pass over memory, in blocks, without the temporaries NumPy makes. Pays off for large arrays.
- "numba" (`pip install numba`, the `chainrule[numba]` extra): the whole program is compiled to
  machine code by `numba.njit`. Pays off for many small operations (a scalar chain, an
  optimiser's callback); compiling takes seconds.

A backend that cannot take a program (an operation it lacks, a guard, a compile error) or whose
result on the traced call differs from NumPy's is not used: the call runs on the NumPy backend,
with a BackendWarning that says why. So a backend is never a wrong answer.
"""

import warnings

import numpy as np

from chainrule.core.staging import Equation, Guard, Var, is_literal
from chainrule.errors import BackendWarning, require_extra
from chainrule.transforms import program as _program

__all__ = ["BACKENDS", "compile_program"]

BACKENDS = ("numpy", "numexpr", "numba")


class _Unsupported(Exception):  # noqa: N818 - why a backend declined a program
    pass


def compile_program(program, name, out_def, backend, check=None):
    """A `Generated` for `program` on `backend`, falling back to NumPy with a warning.
    `check` is (inputs, expected outputs) of the traced call: a backend must reproduce them."""
    if backend == "numpy":
        return _program.generate(program, name, out_def=out_def)
    try:
        if backend == "numexpr":
            generated = _numexpr(program, name, out_def)
        else:
            generated = _numba(program, name, out_def)
        if check is not None:
            _verify(generated, out_def, *check)
        return generated
    except ImportError:
        raise  # the missing extra: MissingExtraError names the pip install
    except Exception as exc:  # noqa: BLE001 - any failure of a backend means: use NumPy
        warnings.warn(
            f"cr.jit({name}, backend={backend!r}): {exc}; running on the NumPy backend instead "
            "(same results).",
            BackendWarning,
            stacklevel=5,
        )
        return _program.generate(program, name, out_def=out_def)


def _verify(generated, out_def, inputs, expected):
    from chainrule.transforms.tree import tree_flatten

    found = generated.function(*inputs)
    if not generated.structured:
        from chainrule.transforms.tree import tree_unflatten

        found = tree_unflatten(out_def, found)
    found_leaves, _ = tree_flatten(found)
    for index, (mine, theirs) in enumerate(zip(found_leaves, expected, strict=True)):
        mine, theirs = np.asarray(mine), np.asarray(theirs)
        if mine.shape != theirs.shape or mine.dtype != theirs.dtype or not np.allclose(
            mine, theirs, rtol=1e-9, atol=1e-12, equal_nan=True
        ):
            raise _Unsupported(
                f"its output {index} on the traced call differs from NumPy's "
                f"({mine.dtype}{list(mine.shape)} against {theirs.dtype}{list(theirs.shape)})"
            )


# ----- numexpr -----------------------------------------------------------------------------------
_NUMEXPR_FUNCTIONS = {
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "log", "log10", "log1p", "exp", "expm1", "sqrt", "abs",
}
_NUMEXPR_BINARY = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**"}
# Below this many entries numexpr's per-call cost outweighs what fusing saves.
_NUMEXPR_FROM = 4096


def _numexpr(program, name, out_def):
    numexpr = require_extra("numexpr", "numexpr")
    _program.number_values(program)  # the names the fused expressions use
    uses = _use_counts(program)
    fused = {}  # var -> expression text (inlined into its single reader)
    operands = {}  # var -> the Vars its fused expression reads
    groups = {}
    for equation in program.equations:
        text, reads = _numexpr_text(equation, fused, operands)
        if text is None:
            continue
        single = uses.get(equation.out, 0) == 1
        fused[equation.out] = text
        operands[equation.out] = reads
        groups[equation.out] = (equation, single)
    # An equation is emitted (as one numexpr call) unless its only reader inlines it.
    inlined = set()
    for equation, _ in groups.values():
        for ref in equation.inputs:
            if type(ref) is Var and ref in groups and groups[ref][1]:
                inlined.add(ref)
    replaced = {}
    for var, (equation, _) in groups.items():
        if var in inlined:
            continue
        reads = sorted(operands[var], key=lambda v: v.id)
        if fused[var].count("(") < 2 or int(np.prod(var.shape)) < _NUMEXPR_FROM:
            continue  # one operation, or small arrays: NumPy's call serves
        replaced[equation] = (fused[var], reads)
    if not replaced:
        raise _Unsupported("no chain of elementwise operations on large arrays to fuse")
    return _program.generate(program, name, out_def=out_def, reuse_buffers=False,
                             fuse=(replaced, inlined, numexpr.evaluate))


def _numexpr_text(equation, fused, operands):
    """(numexpr text of the equation with single-use inputs inlined, Vars read) or (None, _)."""
    primitive = equation.primitive
    out = equation.out
    if out.dtype.kind != "f" or out.shape == () or equation.params:
        return None, None
    impl = primitive.impl
    texts, reads = [], set()
    for ref in equation.inputs:
        if type(ref) is Var:
            if ref.dtype != out.dtype:
                return None, None
            if ref in fused:
                texts.append(fused[ref])
                reads |= operands[ref]
            else:
                texts.append(ref.name)
                reads.add(ref)
        elif isinstance(ref, (float, int, np.floating, np.integer)) and not isinstance(ref, bool):
            texts.append(repr(float(ref)))
        else:
            return None, None
    if primitive.name in _NUMEXPR_BINARY and len(texts) == 2:
        return f"({texts[0]} {_NUMEXPR_BINARY[primitive.name]} {texts[1]})", reads
    ufunc = getattr(impl, "ufunc", impl)
    if isinstance(ufunc, np.ufunc) and ufunc.__name__ in _NUMEXPR_FUNCTIONS and len(texts) == 1:
        return f"({ufunc.__name__}({texts[0]}))", reads
    if primitive.name == "negative" and len(texts) == 1:
        return f"(-{texts[0]})", reads
    return None, None


def _use_counts(program):
    counts = {}
    for item in program.body:
        refs = item.inputs if type(item) is Equation else [item.var] if type(item) is Guard else []
        for ref in refs:
            if type(ref) is Var:
                counts[ref] = counts.get(ref, 0) + 1
        if type(item) is Equation:
            for ref in _program._index_refs(item):
                counts[ref] = counts.get(ref, 0) + 2
    for ref in program.outputs:
        if type(ref) is Var:
            counts[ref] = counts.get(ref, 0) + 2  # an output is never inlined away
    return counts


# ----- numba -------------------------------------------------------------------------------------
_NUMBA_UFUNCS = {
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
    "arccosh", "arctanh", "log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "sqrt",
    "absolute", "negative", "square", "reciprocal", "sign", "floor", "ceil", "equal",
    "not_equal", "less", "less_equal", "greater", "greater_equal", "maximum", "minimum",
    "arctan2", "hypot", "logaddexp", "isfinite", "isnan", "cbrt", "positive",
}
_BINARY = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "power": "**",
           "matmul": "@"}


def _numba(program, name, out_def):
    numba = require_extra("numba", "numba")
    if program.guards:
        raise _Unsupported("the program has guards (Python control flow on values)")
    if program.tensors_read:
        raise _Unsupported("the program reads tensors from outside")
    names = [var.name for var in program.inputs]
    _program.number_values(program)
    for captured in program.captured:
        if not isinstance(captured.value, np.ndarray):
            raise _Unsupported(f"it captures a {type(captured.value).__name__}")
    lines = [f"def {name}_compiled({', '.join(names + [c.var.name for c in program.captured])}):"]
    for equation in program.equations:
        if equation.primitive.name == "scatter_add" and _program._basic_index(
            equation.params["index"]
        ) and type(equation.inputs[0]) is Var:
            # basic indices never repeat: the scatter is an assignment into zeros
            out = equation.out
            lines.append(f"    {out.name} = np.zeros({tuple(out.shape)!r}, np.{out.dtype.name})")
            index = _program._index_text(equation.params["index"], _program._Writer())
            lines.append(f"    {out.name}[{index}] = {equation.inputs[0].name}")
            continue
        lines.append(f"    {equation.out.name} = {_numba_expression(equation)}")
    outputs = []
    for position, ref in enumerate(program.outputs):
        if type(ref) is Var:  # a copy where simplify made an alias (see program.simplify)
            outputs.append(ref.name + (".copy()" if position in program.copied else ""))
        elif is_literal(ref) and isinstance(ref, (int, float, np.number)):
            outputs.append(repr(float(ref)) if isinstance(ref, float) else repr(ref))
        else:
            raise _Unsupported(f"an output is a {type(ref).__name__}")
    lines.append(f"    return ({', '.join(outputs)}{',' if len(outputs) == 1 else ''})")
    source = "\n".join(lines) + "\n"
    namespace = {"np": np}
    exec(compile(source, f"<cr.jit {name} numba>", "exec"), namespace)  # our own text
    compiled = numba.njit(namespace[f"{name}_compiled"], error_model="numpy", cache=False)
    captured = [c.value for c in program.captured]
    kinds = [(ref.shape, ref.dtype) if type(ref) is Var else None for ref in program.outputs]

    def run(*inputs):
        outputs = compiled(*inputs, *captured)
        # numba returns Python numbers for 0-d results: NumPy scalars, as the NumPy backend
        return tuple(
            value if kind is None or kind[0] != () else kind[1].type(value)
            for value, kind in zip(outputs, kinds, strict=True)
        )

    from chainrule.transforms.tree import tree_unflatten

    def function(*inputs):
        return tree_unflatten(out_def, run(*inputs))

    wrapper_source = (f"# compiled by numba.njit from:\n{source}")
    return _program.Generated(wrapper_source, function, namespace, 0, True)


def _numba_expression(equation):
    primitive = equation.primitive
    args = []
    for ref in equation.inputs:
        if type(ref) is Var:
            args.append(ref.name)
        elif isinstance(ref, (bool, np.bool_)):
            args.append(repr(bool(ref)))
        elif isinstance(ref, (int, float, np.integer, np.floating)):
            number = float(ref) if isinstance(ref, (float, np.floating)) else int(ref)
            args.append(repr(number))
        else:
            raise _Unsupported(f"{primitive.name} has a {type(ref).__name__} operand")
    params = equation.params
    name = primitive.name
    if name in _BINARY and len(args) == 2 and not params:
        return f"{args[0]} {_BINARY[name]} {args[1]}"
    ufunc = getattr(primitive.impl, "ufunc", primitive.impl)
    if isinstance(ufunc, np.ufunc) and ufunc.__name__ in _NUMBA_UFUNCS and not params:
        return f"np.{ufunc.__name__}({', '.join(args)})"
    if name == "where" and len(args) == 3:
        return f"np.where({', '.join(args)})"
    if name == "getitem" and _program._basic_index(params["index"]):
        return f"{args[0]}[{_program._index_text(params['index'], _program._Writer())}]"
    if name == "sum" and not params.get("keepdims") and type(equation.inputs[0]) is Var:
        axis, ndim = params.get("axis"), len(equation.inputs[0].shape)
        if axis is None or sorted(int(a) % max(ndim, 1) for a in axis) == list(range(ndim)):
            return f"np.sum({args[0]})"  # every axis
    if name == "reshape":
        return f"np.reshape(np.ascontiguousarray({args[0]}), {tuple(params['shape'])!r})"
    if name == "transpose" and params.get("axes") is not None:
        return f"np.ascontiguousarray(np.transpose({args[0]}, {tuple(params['axes'])!r}))"
    raise _Unsupported(f"numba has no spelling here for {name}{_describe(params)}")


def _describe(params):
    return f" with {', '.join(params)}" if params else ""
