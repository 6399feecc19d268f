"""`cr.jit`: stage a function once into a flat program of primitives, then replay it as
generated NumPy code with no Tensors and no dispatch.

The first call with a new input signature (pytree structure, shapes, dtypes, static arguments)
runs the function at a staging level (core/staging.py), which records every primitive it binds,
including those that the rules of `grad`, `jvp`, `vmap`, ... bind inside it, so
`jit(grad(f))` stages the whole derivative program. The program is simplified
(transforms/program.py) and compiled to a Python function over NumPy; later calls with the same
signature run that function. `source()` shows it.

Python control flow on staged values is recorded, not refused: each number the code read
becomes a guard that the replay checks, and a call whose branch differs is traced again (and
cached beside the first). Values the function cannot stage (NumPy functions without a rule,
printing, in-place changes to inputs) raise StagingError naming the line and the fix.
"""

import functools
import inspect
import re
import threading
import warnings
from typing import NamedTuple

import numpy as np

from chainrule.core.namespace import is_foreign
from chainrule.core.primitive import TRACED_TYPES
from chainrule.core.staging import Captured, MustInline, StagingTrace, Var, is_literal
from chainrule.core.trace import is_grad_enabled, new_level
from chainrule.errors import ArgnumsError, InputTypeError, RetraceWarning
from chainrule.transforms.backends import BACKENDS, compile_program
from chainrule.transforms.program import GuardFailed, simplify
from chainrule.transforms.tree import tree_flatten, tree_unflatten

__all__ = ["jit", "Jitted", "JitCacheInfo"]

# Programs kept per input signature (one per branch pattern seen), and how many traces of one
# function pass before a RetraceWarning says why it keeps tracing.
_PROGRAMS_PER_SIGNATURE = 8
_WARN_AFTER_TRACES = 10


class JitCacheInfo(NamedTuple):
    """`fast.cache_info()`: calls that replayed a program (`hits`), traces (`traces`, the first
    call of each signature and every retrace), retraces caused by a guard (`guard_retraces`),
    and the programs held (`programs`)."""

    hits: int
    traces: int
    guard_retraces: int
    programs: int


class _Staging(threading.local):
    depth = 0  # > 0 while this thread stages a function: a jit inside it is inlined


_staging = _Staging()


def jit(fun=None, *, static_argnums=(), static_argnames=(), backend="numpy"):
    """Stage `fun` once per input signature and replay it as generated NumPy code.

    Use as `cr.jit(f)`, `@cr.jit` or `@cr.jit(static_argnums=(1,))`. The jitted function takes
    the arguments `fun` takes: NumPy arrays, numbers, Tensors that do not require grad, and
    pytrees of them; `static_argnums`/`static_argnames` name the arguments that are not arrays
    (sizes, flags, strings): they must be hashable, and each new value is traced anew.
    Results are NumPy arrays (0-d as NumPy scalars), in `fun`'s output structure.

    Composes with every transform: `cr.jit(cr.grad(f))`, `cr.jit(cr.hessian(f))` and
    `cr.jit(cr.vmap(f))` stage the derivative or batched program itself. Called on values that
    an enclosing transform differentiates (`cr.grad(cr.jit(f))`), or on tensors that require
    grad, it runs `fun` as plain Python, so their derivatives are kept.

    Python control flow on values works: each value the traced code read (`if x > 0:`,
    `float(x)`, a boolean mask) is a guard that later calls check, tracing again when it
    differs. Random numbers drawn with NumPy inside `fun` are drawn once, at trace time: pass
    them in as arguments.

    Returns:
        A `Jitted` function (or, called with only keyword arguments, a decorator making one)
        with `.source(*args)` (the generated code), `.lower(*args)` (the program),
        `.cache_info()` and `.clear_cache()`. Its calls return NumPy arrays (0-d as NumPy
        scalars) in `fun`'s output structure, with the shapes and dtypes `fun` gives.

    Raises:
        StagingError: (a TypeError) from a call, for what a replay could not repeat:
            np.asarray or a NumPy function without a rule on a staged value, printing it,
            mutating an input in place, a staged value kept after the call.
        TypeError: from a call, an unhashable static argument.
        ArgnumsError: from a call, static_argnums out of range for the call.
        ValueError: a backend that is not "numpy", "numexpr" or "numba".

    Example:
        >>> fast = cr.jit(cr.grad(lambda x, y: (x + y) * (x - y), argnums=(0, 1)))
        >>> fast(3.0, 2.0)                  # (6.0, -4.0); later calls replay the program
        >>> print(fast.source(3.0, 2.0))    # the derivative program as NumPy code
    """
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums,
                                 static_argnames=static_argnames, backend=backend)
    if isinstance(fun, Jitted):
        return fun
    return Jitted(fun, static_argnums, static_argnames, backend)


class _Compiled:
    """A traced program and its generated function: `run(plain)` returns the outputs in their
    structure (or raises GuardFailed)."""

    __slots__ = ("program", "generated", "out_def", "passes", "run")

    def __init__(self, program, generated, out_def, passes):
        self.program = program
        self.generated = generated
        self.out_def = out_def
        self.passes = passes
        function = generated.function
        if generated.structured:
            self.run = lambda plain: function(*plain)
        else:
            self.run = lambda plain: tree_unflatten(out_def, function(*plain))


def _to_user(value):
    if type(value) is np.ndarray:
        return value[()] if value.ndim == 0 else value
    return value


class Jitted:
    """A staged function (see `jit`). Calling it replays the program for the arguments'
    signature, tracing first when there is none."""

    def __init__(self, fun, static_argnums, static_argnames, backend):
        if backend not in BACKENDS:
            raise ValueError(
                f"cr.jit: backend={backend!r} is not one of {BACKENDS}; 'numpy' needs nothing "
                "beyond NumPy, 'numexpr' and 'numba' their packages (pip install numexpr / "
                "numba, or the chainrule[numexpr] / chainrule[numba] extras)."
            )
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.backend = backend
        if isinstance(static_argnums, int):
            static_argnums = (static_argnums,)
        if isinstance(static_argnames, str):
            static_argnames = (static_argnames,)
        self.static_argnums = tuple(int(i) for i in static_argnums)
        self.static_argnames = tuple(static_argnames)
        self._cache = {}
        # The same program lists, keyed by the signature alone, for calls with positional
        # float and array arguments only (no pytrees, no static arguments): see __call__.
        self._flat = {}
        self._simple = not self.static_argnums and not self.static_argnames
        self._hits = 0
        self._traces = 0
        self._guard_retraces = 0
        self._warned_retrace = False
        self._warned_inline = False
        self._last_signature = None
        try:
            self._parameters = [
                name for name, parameter in inspect.signature(fun).parameters.items()
                if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            self._parameters = []

    def __repr__(self):
        return f"<cr.jit of {getattr(self.fun, '__name__', self.fun)!r}>"

    def __get__(self, instance, owner):  # a jitted method binds like a function
        return self if instance is None else functools.partial(self, instance)

    # ----- calling ---------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not kwargs and self._simple:
            # The common call, kept short: positional floats and arrays, a program for them.
            plain = []
            signature = []
            for arg in args:
                kind = type(arg)
                if kind is float:
                    plain.append(arg)  # weakly typed, as NumPy reads a Python number
                    signature.append(float)
                elif kind is np.ndarray:
                    plain.append(arg)
                    signature.append((arg.shape, arg.dtype))
                else:
                    break
            else:
                programs = self._flat.get(tuple(signature))
                if programs is not None and not _staging.depth:
                    for compiled in programs:
                        try:
                            outputs = compiled.run(plain)
                        except GuardFailed:
                            break
                        self._hits += 1
                        return outputs
        if _staging.depth:  # inside another jitted function: its staging records everything
            return self.fun(*args, **kwargs)
        prepared = self._prepare(args, kwargs)
        if prepared is None:
            return self._inline(args, kwargs, None)
        key, plain, dynamic_def, statics = prepared
        programs = self._cache.get(key)
        failed = None
        if programs is not None:
            for compiled in programs:
                try:
                    outputs = compiled.run(plain)
                except GuardFailed as exc:
                    failed = (compiled, exc.index)
                    continue
                self._hits += 1
                return outputs
        return self._trace(key, plain, dynamic_def, statics, args, kwargs, failed)

    def _prepare(self, args, kwargs):
        """(cache key, plain leaves, structure, static values), or None when the call must run
        as plain Python (an argument is differentiated by an enclosing transform)."""
        statics = ()
        if self.static_argnums or self.static_argnames or kwargs:
            args, kwargs, statics = self._split_static(args, kwargs)
            dynamic = (args, kwargs)
        else:
            dynamic = args
        leaves, dynamic_def = tree_flatten(dynamic)
        plain = []
        signature = []
        for position, leaf in enumerate(leaves):
            kind = type(leaf)
            if kind is np.ndarray:
                plain.append(leaf)
                signature.append((leaf.shape, leaf.dtype))
            elif kind is float or kind is int or kind is bool or kind is complex:
                # A Python number stays one (weakly typed, as NumPy 2 reads it: a float32 array
                # times 2.0 is float32), and keys the cache by its type.
                plain.append(leaf)
                signature.append(kind)
            elif isinstance(leaf, np.generic):
                plain.append(leaf)
                signature.append(((), leaf.dtype))
            elif kind in TRACED_TYPES:
                trace = leaf._trace
                if not trace.concrete or (leaf.requires_grad and is_grad_enabled()):
                    return None
                value = leaf._value
                plain.append(value)
                signature.append((np.shape(value), value.dtype))
            elif is_foreign(leaf):
                return None  # a Dask or CuPy array: run as plain Python (staging is NumPy's)
            else:
                raise InputTypeError(
                    f"cr.jit({self.__name__}): {self._where(position, dynamic_def)} is "
                    f"{kind.__name__} {leaf!r:.40}; a jitted function's arguments are arrays, "
                    "numbers and pytrees of them. Mark an argument that is a setting (a string, "
                    "a size, a flag) as static: cr.jit(f, static_argnums=(i,)) or "
                    "static_argnames=('name',)."
                )
        key = (dynamic_def, statics, tuple(signature))
        return key, plain, dynamic_def, statics

    def _split_static(self, args, kwargs):
        n = len(args)
        indices = set()
        for index in self.static_argnums:
            if not -n <= index < n:
                raise ArgnumsError(
                    f"cr.jit({self.__name__}): static_argnums has {index}, but the call has {n} "
                    "positional argument(s)."
                )
            indices.add(index % n)
        statics = []
        for index in sorted(indices):
            statics.append(("arg", index, _hashable(args[index], f"argument {index}",
                                                     self.__name__)))
        dynamic_kwargs = {}
        for name in sorted(kwargs):
            if name in self.static_argnames:
                statics.append(("kw", name, _hashable(kwargs[name], f"argument {name!r}",
                                                      self.__name__)))
            else:
                dynamic_kwargs[name] = kwargs[name]
        dynamic_args = tuple(a for i, a in enumerate(args) if i not in indices)
        return dynamic_args, dynamic_kwargs, tuple(statics)

    def _where(self, position, dynamic_def):
        return f"argument leaf {position}"

    # ----- tracing ---------------------------------------------------------------------------
    def _trace(self, key, plain, dynamic_def, statics, args, kwargs, failed):
        name = _function_name(self.fun)
        trace = StagingTrace(new_level(), name)
        boxed = [trace.box(value) for value in plain]
        self._name_inputs(trace.program.inputs, dynamic_def, statics)
        dynamic = tree_unflatten(dynamic_def, boxed)
        call_args, call_kwargs = self._merge(dynamic, statics, args, kwargs)
        _staging.depth += 1
        try:
            with trace:
                out = self.fun(*call_args, **call_kwargs)
        except MustInline as reason:
            inline = str(reason)
        else:
            inline = None
        finally:
            _staging.depth -= 1
        if inline is not None:
            return self._inline(args, kwargs, inline)
        out_leaves, out_def = tree_flatten(out)
        program = trace.program
        results = []
        values = []
        for leaf in out_leaves:
            ref, value = _output(trace, leaf)
            program.outputs.append(ref)
            values.append(value)
            results.append(_to_user(value))
        passes = simplify(program)
        generated = compile_program(program, name, out_def, self.backend,
                                    check=(plain, [_to_user(v) for v in values]))
        compiled = _Compiled(program, generated, out_def, passes)
        programs = self._cache.setdefault(key, [])
        if not statics and dynamic_def.kind is tuple and dynamic_def.num_leaves == len(
            dynamic_def.children
        ) and all(child.kind is None for child in dynamic_def.children):
            self._flat[key[2]] = programs
        programs.insert(0, compiled)
        del programs[_PROGRAMS_PER_SIGNATURE:]
        self._traces += 1
        self._note_retrace(key, failed)
        return tree_unflatten(out_def, results)

    def _merge(self, dynamic, statics, args, kwargs):
        if not statics and not kwargs and not self.static_argnums and not self.static_argnames:
            return dynamic, {}
        dynamic_args, dynamic_kwargs = dynamic
        call_args = list(dynamic_args)
        for kind, where, _ in statics:
            if kind == "arg":
                call_args.insert(where, args[where])
        call_kwargs = dict(dynamic_kwargs)
        for kind, where, _ in statics:
            if kind == "kw":
                call_kwargs[where] = kwargs[where]
        return tuple(call_args), call_kwargs

    def _name_inputs(self, inputs, dynamic_def, statics):
        """Name the program's inputs after fun's parameters where each is one array."""
        names = [p for i, p in enumerate(self._parameters)
                 if i not in {w for k, w, _ in statics if k == "arg"}]
        top = dynamic_def
        reserved = ("np", "same", "GuardFailed", "ne_evaluate")
        if top.kind is tuple and len(names) >= len(top.children) and all(
            name.isidentifier() and name not in reserved
            and not re.fullmatch(r"(v|c|t|k|x|seen)\d+(_tensor)?", name)  # generated names
            for name in names
        ):
            # x for an array argument; params_0, params_1, ... for the leaves of a pytree one
            position = 0
            for child, name in zip(top.children, names):
                count = child.num_leaves
                for k in range(count):
                    inputs[position + k].name = name if child.kind is None else f"{name}_{k}"
                position += count
            return
        for index, var in enumerate(inputs):
            var.name = f"x{index}"

    def _inline(self, args, kwargs, reason):
        if reason == "a tensor that requires grad" and not self._warned_inline:
            self._warned_inline = True
            warnings.warn(
                f"cr.jit({self.__name__}) reads a tensor that requires grad (a model's "
                "parameter, say), so it runs as plain Python to keep its gradient: nothing is "
                "staged. To stage a training step, pass the parameters as arguments and "
                "differentiate inside: cr.jit(cr.value_and_grad(loss))(params, x, y) with "
                "params = model.parameters_dict() and nn.functional_call (see README, jit).",
                RetraceWarning,
                stacklevel=3,
            )
        return self.fun(*args, **kwargs)

    def _note_retrace(self, key, failed):
        previous = self._last_signature
        self._last_signature = key
        if failed is not None:
            self._guard_retraces += 1
            compiled, index = failed
            if index >= 0:
                reason = f"{compiled.program.body[index].describe()} read another value"
            else:
                reason = ("a tensor it reads from outside (a model's parameter, say) changed "
                          "since; pass such tensors as arguments")
        elif previous is None:
            return
        else:
            reason = _signature_change(previous, key)
        if self._traces > _WARN_AFTER_TRACES and not self._warned_retrace:
            self._warned_retrace = True
            warnings.warn(
                f"cr.jit({self.__name__}) has traced {self._traces} times; the last time "
                f"because {reason}. Each trace runs the function as Python again. Keep shapes "
                "and dtypes fixed, mark settings as static_argnums, and write value-dependent "
                "branches with cnp.where, so one program serves every call.",
                RetraceWarning,
                stacklevel=4,
            )

    # ----- looking at it -----------------------------------------------------------------------
    def lower(self, *args, **kwargs):
        """The staged (and simplified) program for these arguments, tracing if needed."""
        prepared = self._prepare(args, kwargs)
        if prepared is None:
            raise InputTypeError(
                f"cr.jit({self.__name__}).lower: an argument is being differentiated by an "
                "enclosing transform or requires grad; pass plain arrays to see the program."
            )
        key = prepared[0]
        if key not in self._cache:
            self(*args, **kwargs)
            if key not in self._cache:
                raise InputTypeError(
                    f"cr.jit({self.__name__}) ran as plain Python for these arguments (it "
                    "reads a tensor that requires grad or a value traced outside it), so there "
                    "is no program to show."
                )
        for compiled in self._cache[key]:
            try:
                compiled.run(prepared[1])
            except GuardFailed:
                continue
            return compiled.program
        self._cache.pop(key)
        self(*args, **kwargs)
        return self._cache[key][0].program

    def source(self, *args, **kwargs) -> str:
        """The generated NumPy source of the program for these arguments: one line per
        primitive, the forward pass first, each backward line under the VJP it comes from."""
        program = self.lower(*args, **kwargs)
        for compiled in self._cache[self._prepare(args, kwargs)[0]]:
            if compiled.program is program:
                return compiled.generated.source
        raise AssertionError("unreachable")  # pragma: no cover

    def cache_info(self) -> JitCacheInfo:
        """Replays (hits), traces, retraces caused by a guard, programs held."""
        programs = sum(len(entry) for entry in self._cache.values())
        return JitCacheInfo(self._hits, self._traces, self._guard_retraces, programs)

    def clear_cache(self) -> None:
        self._cache.clear()
        self._flat.clear()





def _hashable(value, where, name):
    try:
        hash(value)
    except TypeError:
        raise TypeError(  # noqa: B904 - the message says everything
            f"cr.jit({name}): static {where} is {type(value).__name__} {value!r:.40}, which is "
            "not hashable; static arguments key the cache. Pass a tuple instead of a list (a "
            "frozenset for a set, a tuple of pairs for a dict), or make it a dynamic argument."
        ) from None
    return value


def _function_name(fun):
    name = getattr(fun, "__name__", "f")
    return name if name.isidentifier() else "f"


def _output(trace, leaf):
    """(program reference, this call's value) of one output leaf."""
    if type(leaf) in TRACED_TYPES:
        if leaf._trace is trace:
            return leaf._node, leaf._value
        if leaf._trace.concrete and not (leaf.requires_grad and is_grad_enabled()):
            return trace._capture(leaf._value, leaf), leaf._value
        raise MustInline("an output traced outside")  # pragma: no cover - defensive
    if isinstance(leaf, np.ndarray):
        copy = np.array(leaf, copy=True)
        var = Var(-1, copy.shape, copy.dtype, "captured")
        trace.program.captured.append(Captured(copy, None, var))
        return var, leaf
    if is_literal(leaf):
        return leaf, leaf
    raise InputTypeError(
        f"cr.jit({trace.program.name}): the function returned {type(leaf).__name__} "
        f"{leaf!r:.40}; outputs must be arrays, numbers and pytrees of them."
    )


def _signature_change(previous, key):
    old_def, old_static, old_sig = previous
    new_def, new_static, new_sig = key
    if old_def != new_def:
        return "the arguments' structure changed"
    if old_static != new_static:
        return f"static arguments changed from {old_static!r:.60} to {new_static!r:.60}"
    for index, (old, new) in enumerate(zip(old_sig, new_sig)):
        if old != new:
            return f"argument leaf {index} changed from {_describe(old)} to {_describe(new)}"
    return "its signature changed"


def _describe(signature):
    if isinstance(signature, type):
        return f"a Python {signature.__name__}"
    shape, dtype = signature
    return f"{dtype}{list(shape)}"
