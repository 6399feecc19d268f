"""`cr.jit`'s staged programs: the passes that simplify them and the NumPy source they become.

A program (core/staging.py) is a flat list of primitive applications on `Var`s, with guards
and comments in execution order. Each pass below is small and keeps the program's meaning:

- `fold_constants`: an equation whose inputs are all literals is computed once, now; x * 1
  and x + 0 (the backward pass's seed) are x.
- `cancel_shapes`: reshape of a reshape is one reshape; a transpose of a transpose is one
  transpose; either is dropped when it leaves its input as it was.
- `eliminate_common`: the same primitive on the same inputs with the same params is computed
  once (a forward value that the backward pass needs again, say).
- `eliminate_dead`: equations no output and no guard depends on are dropped.

`generate` then writes the program as one Python function over NumPy, one line per equation,
and marks where an elementwise ufunc may write into a dead input's buffer (`out=`).
"""

import builtins
import keyword
import operator

import numpy as np

from chainrule.core.staging import Captured, Equation, Guard, Note, Var, is_literal

__all__ = [
    "simplify", "fold_constants", "cancel_shapes", "eliminate_common", "eliminate_dead",
    "generate", "GuardFailed", "Generated",
]


class GuardFailed(Exception):  # noqa: N818 - a signal between a replay and cr.jit
    """A replay reached a guard whose value differs from the one recorded: this call takes
    another branch, and the function must be traced again for it."""

    def __init__(self, index):
        super().__init__(index)
        self.index = index


# ----- helpers: rewriting references ------------------------------------------------------------
def _resolve(ref, replaced):
    while type(ref) is Var and ref in replaced:
        ref = replaced[ref]
    return ref


def _index_refs(equation):
    """The Vars inside an indexed primitive's `index` param."""
    if not equation.primitive.indexed:
        return []
    index = equation.params.get("index")
    parts = index if type(index) is tuple else (index,)
    return [part for part in parts if type(part) is Var]


def _rewrite(program, replaced):
    """Point every use of a replaced Var at its replacement."""
    if not replaced:
        return
    for item in program.body:
        if type(item) is Equation:
            item.inputs = [_resolve(ref, replaced) for ref in item.inputs]
            if item.primitive.indexed:
                index = item.params["index"]
                if type(index) is tuple:
                    index = tuple(_resolve(part, replaced) for part in index)
                else:
                    index = _resolve(index, replaced)
                item.params = {**item.params, "index": index}
        elif type(item) is Guard:
            item.var = _resolve(item.var, replaced)
    program.outputs = [_resolve(ref, replaced) for ref in program.outputs]


# ----- passes ------------------------------------------------------------------------------------
def fold_constants(program) -> int:
    """Compute now every equation whose inputs are literals (numbers, dtypes, tuples), and use
    its value in their place. Captured arrays are never folded: a replay reads them again.
    Returns the number of equations folded."""
    replaced = {}
    body = []
    folded = 0
    for item in program.body:
        if type(item) is Equation:
            item.inputs = [_resolve(ref, replaced) for ref in item.inputs]
            if not _index_refs(item) and all(
                type(ref) is not Var and is_literal(ref) for ref in item.inputs
            ):
                value = item.primitive.impl(*item.inputs, **item.params)
                if isinstance(value, np.ndarray) and value.ndim == 0:
                    value = value[()]
                if is_literal(value):
                    replaced[item.out] = value
                    folded += 1
                    continue
            same = _identity_operand(item)
            if same is not None:
                replaced[item.out] = same
                folded += 1
                continue
        body.append(item)
    program.body = body
    _rewrite(program, replaced)
    return folded


def _identity_operand(equation):
    """x for x * 1, 1 * x, x + 0, 0 + x, x - 0, x / 1 and x ** 1 when x already has the
    result's shape and dtype (so dropping the operation changes nothing), else None."""
    name = equation.primitive.name
    if name not in ("multiply", "add", "subtract", "divide", "power") or \
            len(equation.inputs) != 2:
        return None
    unit = 1 if name in ("multiply", "divide", "power") else 0
    positions = (0, 1) if name in ("multiply", "add") else (1,)
    for position in positions:
        literal, other = equation.inputs[position], equation.inputs[1 - position]
        if (
            type(other) is Var and type(literal) is not Var and type(literal) is not bool
            and isinstance(literal, (int, float, np.integer, np.floating))
            and literal == unit and other.shape == equation.out.shape
            and other.dtype == equation.out.dtype
        ):
            return other
    return None


def cancel_shapes(program) -> int:
    """reshape(reshape(x)) -> reshape(x); transpose(transpose(x)) -> one transpose; a reshape to
    x's own shape or an identity transpose -> x. Returns the number of equations removed or
    merged (the inner ones die when nothing else reads them: see eliminate_dead)."""
    producers = {}
    replaced = {}
    changed = 0
    for item in program.body:
        if type(item) is not Equation:
            continue
        item.inputs = [_resolve(ref, replaced) for ref in item.inputs]
        name = item.primitive.name
        source = item.inputs[0] if item.inputs else None
        if name in ("reshape", "transpose") and type(source) is Var:
            inner = producers.get(source)
            if inner is not None and inner.primitive is item.primitive:
                if name == "transpose":
                    outer_axes = _axes(item.params["axes"], len(item.out.shape))
                    inner_axes = _axes(inner.params["axes"], len(source.shape))
                    item.params = {**item.params,
                                   "axes": tuple(inner_axes[a] for a in outer_axes)}
                item.inputs = [inner.inputs[0]] + item.inputs[1:]
                source = item.inputs[0]
                changed += 1
            same = (
                type(source) is Var and source.shape == item.out.shape
                and source.dtype == item.out.dtype
                and (name == "reshape" or _axes(item.params["axes"], len(source.shape))
                     == tuple(range(len(source.shape))))
            )
            if same:
                replaced[item.out] = source
                changed += 1
                continue
        producers[item.out] = item
    _rewrite(program, replaced)
    return changed


def _axes(axes, ndim):
    return tuple(range(ndim))[::-1] if axes is None else tuple(int(a) % ndim for a in axes)


def _frozen(value):
    """A hashable key for a param or a literal, or raise TypeError."""
    if type(value) is Var:
        return ("var", value.id)
    if type(value) in (tuple, list):
        return (type(value).__name__, tuple(_frozen(item) for item in value))
    if type(value) is dict:
        return ("dict", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    if isinstance(value, np.ndarray):
        raise TypeError("arrays are not compared by value")
    if isinstance(value, (float, np.floating)) and value != value:
        return ("nan", type(value).__name__)
    hash(value)
    return (type(value).__name__, value)


def eliminate_common(program) -> int:
    """The same primitive applied to the same inputs with the same params again: reuse the first
    result. Returns the number of equations removed."""
    seen = {}
    replaced = {}
    body = []
    removed = 0
    for item in program.body:
        if type(item) is Equation:
            item.inputs = [_resolve(ref, replaced) for ref in item.inputs]
            try:
                key = (item.primitive.name, _frozen(item.inputs), _frozen(item.params))
            except TypeError:
                key = None
            if key is not None:
                first = seen.get(key)
                if first is not None:
                    replaced[item.out] = first
                    removed += 1
                    continue
                seen[key] = item.out
        elif type(item) is Guard:
            item.var = _resolve(item.var, replaced)
        body.append(item)
    program.body = body
    _rewrite(program, replaced)
    return removed


def eliminate_dead(program) -> int:
    """Drop the equations that no output and no guard reads. Returns how many."""
    live = {ref for ref in program.outputs if type(ref) is Var}
    kept = []
    removed = 0
    for item in reversed(program.body):
        if type(item) is Equation:
            if item.out not in live:
                removed += 1
                continue
            live.update(ref for ref in item.inputs if type(ref) is Var)
            live.update(_index_refs(item))
        elif type(item) is Guard:
            live.add(item.var)
        kept.append(item)
    kept.reverse()
    # A comment with no equation after it (before the next comment) says nothing.
    body = []
    for position, item in enumerate(kept):
        if type(item) is Note:
            following = kept[position + 1] if position + 1 < len(kept) else None
            if following is None or type(following) is Note:
                continue
        body.append(item)
    program.body = body
    used = {ref for ref in _all_refs(program)}
    program.captured = [c for c in program.captured if c.var in used]
    return removed


def _all_refs(program):
    for item in program.body:
        if type(item) is Equation:
            yield from (ref for ref in item.inputs if type(ref) is Var)
            yield from _index_refs(item)
        elif type(item) is Guard:
            yield item.var
    yield from (ref for ref in program.outputs if type(ref) is Var)


def simplify(program) -> dict:
    """Run every pass; returns {pass name: what it changed}."""
    traced = list(program.outputs)
    changes = {
        "fold_constants": fold_constants(program),
        "cancel_shapes": cancel_shapes(program),
        "eliminate_common": eliminate_common(program),
        "eliminate_dead": eliminate_dead(program),
    }
    program.copied = _aliased_outputs(traced, program.outputs)
    return changes


def _aliased_outputs(traced, outputs):
    """Output positions that the passes made an alias the traced function did not return:
    `x * 1` folded to the input x, or two equal computations merged into one array. Returned
    as they are, updating one result in place would change the caller's array or another
    result; so the generated code returns copies there."""
    copied = set()
    for position, (before, after) in enumerate(zip(traced, outputs, strict=True)):
        if type(after) is not Var or after is before or after.shape == ():
            continue
        shared = any(
            other is after and traced[elsewhere] is not before
            for elsewhere, other in enumerate(outputs[:position])
        )
        if shared or after.role is not None:
            copied.add(position)
    return frozenset(copied)


# ----- source generation --------------------------------------------------------------------------
_BINARY_SYMBOLS = {
    operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
    operator.pow: "**", operator.matmul: "@",
}
_UNARY_SYMBOLS = {np.negative: "-"}
_RESERVED = set(dir(builtins)) | set(keyword.kwlist) | {"np", "GuardFailed", "same"}


class Generated:
    """A program as Python source and the function it defines: `function(*inputs)` returns the
    outputs or raises GuardFailed."""

    __slots__ = ("source", "function", "namespace", "reused", "structured")

    def __init__(self, source, function, namespace, reused, structured):
        self.source = source
        self.function = function
        self.namespace = namespace
        self.reused = reused
        self.structured = structured  # returns the output pytree itself (else a tuple)


def _same(value, expected):
    """A guard's test: the value this call reads equals the one recorded (NaN equals NaN)."""
    value = np.asarray(value)
    if value.shape != expected.shape or value.dtype != expected.dtype:
        return False
    return bool(np.array_equal(value, expected, equal_nan=value.dtype.kind in "fc"))


class _Writer:
    def __init__(self):
        self.namespace = {"np": np, "GuardFailed": GuardFailed, "same": _same}
        self.constants = 0

    def constant(self, value, stem="k"):
        self.constants += 1
        name = f"{stem}{self.constants}"
        self.namespace[name] = value
        return name

    def literal(self, value) -> str:
        """Source text for a literal param or operand (a name in the namespace otherwise)."""
        if type(value) is Var:
            return value.name
        if value is None or value is Ellipsis or type(value) in (bool, int, str):
            return repr(value)
        if type(value) is float and np.isfinite(value):
            return repr(value)
        if type(value) is slice:
            return f"slice({self.literal(value.start)}, {self.literal(value.stop)}, " \
                   f"{self.literal(value.step)})"
        if type(value) is tuple:
            parts = [self.literal(item) for item in value]
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        if isinstance(value, np.generic) and np.isfinite(value).all() and \
                getattr(np, type(value).__name__, None) is type(value):
            return f"np.{type(value).__name__}({value.item()!r})"
        if isinstance(value, np.dtype) and value.isbuiltin and value.names is None:
            return f"np.dtype({value.str!r})"
        if isinstance(value, type) and getattr(np, value.__name__, None) is value:
            return f"np.{value.__name__}"
        return self.constant(value)

    def callable(self, primitive) -> str:
        impl = primitive.impl
        name = getattr(impl, "__name__", "")
        if name and getattr(np, name, None) is impl:
            return f"np.{name}"
        name = "".join(c if c.isalnum() or c == "_" else "_" for c in primitive.name)
        if name in _RESERVED or not name.isidentifier():
            name = name + "_"
        self.namespace[name] = impl
        return name


def _elementwise_ufunc(equation):
    """The ufunc an equation computes when its implementation is exactly one (so the result is
    a fresh array that may be written with out=), else None."""
    impl = equation.primitive.impl
    ufunc = getattr(impl, "ufunc", impl)
    if isinstance(ufunc, np.ufunc) and not equation.params and ufunc.nout == 1:
        return ufunc
    return None


def _reusable_buffers(program):
    """Where the generated code may write into an array it no longer needs, as
    {equation position: what}: an input slot (an elementwise ufunc computes into that input's
    array with out=), or ("scatter", slot, scatter) for `add(p, scatter_add(b, index))` with a
    basic index, written `p[index] += b` (no zeros array the size of p, no second addition);
    the scatter's own line is then skipped (its position maps to "skip").

    The array written must be computed here (not an input, a captured array or an output), of
    the result's shape and dtype, made by a ufunc or a basic scatter (so no other value is a
    view of it), read by ufuncs only, and read for the last time at that equation."""
    equations = [item for item in program.body if type(item) is Equation]
    uses = {}
    for item in program.body:
        refs = item.inputs + _index_refs(item) if type(item) is Equation else (
            [item.var] if type(item) is Guard else [])
        for ref in refs:
            if type(ref) is Var:
                uses[ref] = uses.get(ref, 0) + 1
    outputs = {ref for ref in program.outputs if type(ref) is Var}
    producer = {equation.out: (position, equation) for position, equation in enumerate(equations)}
    fusions = {}
    for position, equation in enumerate(equations):
        if equation.primitive.name != "add" or _elementwise_ufunc(equation) is None:
            continue
        for slot in (0, 1):
            q = equation.inputs[1 - slot]
            scatter = producer.get(q) if type(q) is Var else None
            if scatter is None or scatter[1].primitive.name != "scatter_add":
                continue
            source = scatter[1].inputs[0]
            if (
                _basic_index(scatter[1].params["index"]) and uses.get(q) == 1
                and q not in outputs and q.shape == equation.out.shape
                and type(source) is Var and source.dtype == q.dtype == equation.out.dtype
                and source is not equation.inputs[slot]
            ):
                fusions[position] = (slot, scatter)
                break
    last_use = {}
    readers_ok = {}
    fresh = set()
    for position, equation in enumerate(equations):
        elementwise = _elementwise_ufunc(equation) is not None
        for ref in equation.inputs:
            if type(ref) is Var:
                last_use[ref] = position
                readers_ok[ref] = readers_ok.get(ref, True) and elementwise
        for ref in _index_refs(equation):
            last_use[ref] = position
            readers_ok[ref] = False
        if equation.out.shape != () and (elementwise or (
            equation.primitive.name == "scatter_add"
            and _basic_index(equation.params["index"]))):
            fresh.add(equation.out)
    for position, (_, (_, scatter)) in fusions.items():  # the scatter's operand lives on
        source = scatter.inputs[0]
        last_use[source] = max(last_use.get(source, 0), position)
    for item in program.body:
        if type(item) is Guard:
            readers_ok[item.var] = False

    def writable(ref, position, out):
        return (
            type(ref) is Var and ref in fresh and ref not in outputs
            and last_use.get(ref) == position and readers_ok.get(ref)
            and ref.shape == out.shape and ref.dtype == out.dtype
        )

    reuse = {}
    for position, equation in enumerate(equations):
        if _elementwise_ufunc(equation) is None or equation.out.shape == ():
            continue
        fusion = fusions.get(position)
        if fusion is not None:
            slot, (scatter_position, scatter) = fusion
            if writable(equation.inputs[slot], position, equation.out):
                reuse[position] = ("scatter", slot, scatter)
                reuse[scatter_position] = "skip"
                fresh.add(equation.out)
                continue
        for slot, ref in enumerate(equation.inputs):
            if writable(ref, position, equation.out) and equation.inputs.count(ref) == 1:
                reuse[position] = slot
                fresh.add(equation.out)
                break
    return reuse


def number_values(program):
    """Name the computed values in execution order and the captured ones c1, c2, ... As in the
    trace tables (`chainrule explain`), the inputs count first: with inputs x, y (v1, v2 there)
    the first computed value is v3."""
    counter = len(program.inputs)
    for item in program.body:
        if type(item) is Equation:
            counter += 1
            item.out.name = f"v{counter}"
    for index, captured in enumerate(program.captured, 1):
        captured.var.name = f"c{index}"


def generate(program, name="f", *, out_def=None, reuse_buffers=True, fuse=None) -> Generated:
    """The program as a Python function over NumPy: its source and the compiled function.

    The function takes the program's inputs and returns its outputs in the structure `out_def`
    (a TreeDef of tuples, lists, dicts and leaves; any other structure: a tuple of the leaves),
    0-d results as NumPy scalars. Captured arrays are names in its namespace; a tensor read
    from outside is read again at each call, after a check that it has not changed since the
    trace (GuardFailed(-1) if it has)."""
    writer = _Writer()
    number_values(program)
    replaced, inlined, evaluate = fuse if fuse is not None else ({}, (), None)
    if evaluate is not None:
        writer.namespace["ne_evaluate"] = evaluate
    arguments = [var.name for var in program.inputs]
    reuse = _reusable_buffers(program) if reuse_buffers else {}
    lines = [f"def {name}({', '.join(arguments)}):"]
    checks = []
    for index, (tensor, version, array) in enumerate(program.tensors_read.values(), 1):
        checks.append(f"t{index}._version != {version} or id(t{index}._value) != {array}")
        writer.namespace[f"t{index}"] = tensor
    if checks:
        lines.append("    # tensors read from outside: unchanged since the trace?")
        lines.append(f"    if {' or '.join(checks)}:")
        lines.append("        raise GuardFailed(-1)")
    for captured in program.captured:
        if captured.tensor is None:
            writer.namespace[captured.var.name] = captured.value
        else:
            writer.namespace[f"{captured.var.name}_tensor"] = captured.tensor
            lines.append(f"    {captured.var.name} = {captured.var.name}_tensor._value")
    note = None
    position = -1
    for index, item in enumerate(program.body):
        if type(item) is Note:
            lines.append(f"    # {_one_line(item.text)}")
            continue
        if type(item) is Guard:
            expected = item.expected
            if expected.shape == () and expected.dtype == np.bool_:
                test = f"{item.var.name}" if expected else f"not {item.var.name}"
                lines.append(f"    if not ({test}):  # {_one_line(item.what)}, as when traced")
            else:
                lines.append(f"    if not same({item.var.name}, "
                             f"{writer.constant(expected, 'seen')}):  # {_one_line(item.what)}")
            lines.append(f"        raise GuardFailed({index})")
            continue
        position += 1
        if item.out in inlined:
            continue  # computed inside the numexpr expression that reads it
        if item.note != note or position == 0:
            note = item.note
            lines.append(f"    # {_one_line(note or 'forward')}")
        if item in replaced:
            text, reads = replaced[item]
            local = ", ".join(f"{var.name!r}: {var.name}" for var in reads)
            lines.append(f"    {item.out.name} = ne_evaluate({text!r}, local_dict={{{local}}})")
            continue
        how = reuse.get(position)
        if how == "skip":
            continue  # a scatter added into its reader's buffer (below)
        if type(how) is tuple:
            _, slot, scatter = how
            target, source = item.inputs[slot].name, scatter.inputs[0].name
            index = _index_text(scatter.params["index"], writer)
            lines.append(f"    {target}[{index}] += {source}  # the scatter, added in place")
            lines.append(f"    {item.out.name} = {target}")
            continue
        lines.append(f"    {item.out.name} = {_expression(item, writer, how)}")
    outputs = [_output_text(ref, writer) + (".copy()" if position in program.copied else "")
               for position, ref in enumerate(program.outputs)]
    try:
        returned = _structure(out_def, outputs)
        structured = out_def is not None
    except _Unstructured:  # a named tuple, a Module...: the caller rebuilds it
        returned, structured = _structure(None, outputs), False
    lines.append(f"    return {returned}")
    source = "\n".join(lines) + "\n"
    if "\n    return " not in source:  # pragma: no cover - defensive
        raise AssertionError(source)
    if name in writer.namespace:
        # `def c1(a)` would replace the captured array c1 (or np, a constant...) it reads.
        renamed = name
        while renamed in writer.namespace:
            renamed += "_"
        source = source.replace(f"def {name}(", f"def {renamed}(", 1)
        name = renamed
    namespace = dict(writer.namespace)
    exec(compile(source, f"<cr.jit {name}>", "exec"), namespace)  # our own generated text
    return Generated(source, namespace[name], writer.namespace, len(reuse), structured)


def _one_line(text):
    """A comment for the generated source: one line, so no text can become code."""
    return " ".join(str(text).split())


def _numpy_value(ref):
    """Whether an operand is a NumPy value at replay (an operator on it is NumPy's)."""
    if type(ref) is Var:
        return not ref.weak
    return isinstance(ref, (np.ndarray, np.generic))


def _basic_index(index):
    """Whether an index is NumPy's basic indexing only (ints, slices, None, ...): x[index]."""
    parts = index if type(index) is tuple else (index,)
    return all(
        part is None or part is Ellipsis or type(part) is int
        or (type(part) is slice and all(type(v) in (int, type(None))
                                        for v in (part.start, part.stop, part.step)))
        for part in parts
    )


def _index_text(index, writer):
    def one(part):
        if type(part) is slice:
            text = ("" if part.start is None else str(part.start)) + ":" + \
                   ("" if part.stop is None else str(part.stop))
            return text + ("" if part.step is None else f":{part.step}")
        return "..." if part is Ellipsis else writer.literal(part)

    if type(index) is tuple:
        return ", ".join(one(part) for part in index) + ("," if len(index) == 1 else "")
    return one(index)


def _output_text(ref, writer):
    if type(ref) is not Var:
        return writer.literal(ref)
    if ref.id == -1:  # an array the function made without its inputs: a fresh copy each call
        return f"{ref.name}.copy()"
    return f"{ref.name}[()]" if ref.array0d else ref.name  # a 0-d array: as a NumPy scalar


def _structure(treedef, outputs):
    """Source text rebuilding `treedef` from the output texts (in flattening order)."""
    if treedef is None:
        return "(" + ", ".join(outputs) + ("," if len(outputs) == 1 else "") + ")"
    texts = iter(outputs)
    pending = [(treedef, False)]
    built = []
    while pending:  # iterative post-order, as every tree walk here
        node, expanded = pending.pop()
        if node.kind is None:
            built.append(next(texts))
        elif not expanded:
            pending.append((node, True))
            pending.extend((child, False) for child in reversed(node.children))
            continue
        else:
            count = len(node.children)
            children = built[len(built) - count:] if count else []
            del built[len(built) - count:]
            if node.kind is tuple and node.aux is None:
                built.append("(" + ", ".join(children) + ("," if count == 1 else "") + ")")
            elif node.kind is list:
                built.append("[" + ", ".join(children) + "]")
            elif node.kind is dict and all(type(key) in (str, int) for key in node.aux):
                built.append("{" + ", ".join(
                    f"{key!r}: {child}" for key, child in zip(node.aux, children, strict=True)
                ) + "}")
            elif node.kind is type(None):
                built.append("None")
            else:
                raise _Unstructured
        if node.kind is None:
            continue
    return built[0]


class _Unstructured(Exception):  # noqa: N818 - an output structure source cannot spell
    pass


def _expression(equation, writer, reuse_slot):
    primitive = equation.primitive
    arguments = [writer.literal(ref) for ref in equation.inputs]
    impl = primitive.impl
    if reuse_slot is not None:
        ufunc = _elementwise_ufunc(equation)
        return f"np.{ufunc.__name__}({', '.join(arguments)}, out={arguments[reuse_slot]})"
    symbol = _BINARY_SYMBOLS.get(getattr(impl, "operator", None))
    if symbol is not None and len(arguments) == 2 and not equation.params and all(
        type(ref) is Var or is_literal(ref) for ref in equation.inputs
    ) and any(_numpy_value(ref) for ref in equation.inputs):
        # (on two Python numbers an operator is Python's: 1.0 / 0.0 raises, NumPy gives inf)
        return f"{arguments[0]} {symbol} {arguments[1]}"
    if impl in _UNARY_SYMBOLS and len(arguments) == 1 and not equation.params and \
            _numpy_value(equation.inputs[0]):
        return f"{_UNARY_SYMBOLS[impl]}{arguments[0]}"
    if primitive.name == "getitem" and _basic_index(equation.params["index"]):
        return f"{arguments[0]}[{_index_text(equation.params['index'], writer)}]"
    if primitive.code is not None:  # the row's own spelling of its NumPy call
        return primitive.code.format(
            *arguments, **{key: writer.literal(value) for key, value in equation.params.items()}
        )
    ufunc = getattr(impl, "ufunc", None)
    if isinstance(ufunc, np.ufunc) and not equation.params:  # a checked ufunc: the ufunc
        return f"np.{ufunc.__name__}({', '.join(arguments)})"
    params = [f"{key}={writer.literal(value)}" for key, value in equation.params.items()]
    return f"{writer.callable(primitive)}({', '.join(arguments + params)})"


_ = Captured  # re-exported for readers of this module's types
