"""docs/coverage.md, generated from the code: which of NumPy's and SciPy's functions chainrule
has, and how far each is checked.

Two references give the names (tools/reference_names.json, so that regenerating needs neither
JAX nor autograd): jax.numpy's NumPy-named functions (its namespace, `linalg` and `fft`), each
with whether JAX differentiates it on a probe input (tools/probes.py), and the functions HIPS
autograd differentiates in `numpy` and `scipy`. Each name, and each public function chainrule
adds, is then looked up in chainrule.numpy / chainrule.scipy and its columns are decided, in
this order of evidence:

1. a registry row (cnp.sin is the row itself): the registry sweep checks every row's samples in
   both modes to second order and under vmap (tests/test_registry_sweep.py); complex numbers
   are checked where the row has complex samples;
2. a composite with cases in tests/composites/ (the composite sweep: values, both modes, second
   order, vmap against a loop, complex where a case is complex);
3. otherwise this script's own probe, on one input: values, cr.gradcheck in reverse and in
   forward mode, vmap of a two-example batch against a loop, and the complex version of the
   input. A probe is first order and one point; the table says "probe" wherever that is all.

Pass-through names (chainrule.numpy's `_PASSED_THROUGH`) and refused ones (numpy/_refused.py)
are read from their tables, whose behaviour tests/test_numpy_passthrough.py checks.

    .venv/bin/python -m tools.coverage                   write docs/coverage.md (and README's
                                                         coverage paragraph)
    .venv/bin/python -m tools.coverage --check           exit 1 if either is stale
    .venv-bench/bin/python -m tools.coverage --refresh   re-read jax.numpy's and autograd's names
"""

import argparse
import contextlib
import importlib
import inspect
import json
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tools.probes import COMPLEX, REAL, probe_builder

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tools" / "reference_names.json"
OUTPUT = ROOT / "docs" / "coverage.md"
TARGET_PRESENT = 0.95  # of jax.numpy's NumPy-named functions (issue 14)

# Never called by a probe: they write files or change NumPy's global state.
_NOT_PROBED = {
    "save", "savez", "savez_compressed", "load", "set_printoptions", "printoptions",
    "get_printoptions", "fromfile", "frombuffer", "fromstring", "fromiter", "from_dlpack",
}
_SCIPY_MODULES = ("special", "stats", "linalg", "signal", "integrate")


# ----- the references (jax.numpy, autograd), read once with --refresh ---------------------------
def _numpy_named(module, numpy_module, prefix=""):
    """The functions of `module` (jax.numpy, or one of its submodules) that NumPy's
    `numpy_module` also has: callables, not classes (dtypes) or modules."""
    names = []
    for name in dir(module):
        value = getattr(module, name)
        if name.startswith("_") or inspect.ismodule(value) or isinstance(value, type):
            continue
        if callable(value) and hasattr(numpy_module, name):
            names.append(prefix + name)
    return names


def _reference_function(name):
    """NumPy's or SciPy's own function for a table name ("linalg.solve", "scipy.special.erf")."""
    parts = name.split(".")
    if parts[0] == "scipy":
        module, parts = importlib.import_module(f"scipy.{parts[1]}"), parts[2:]
    else:
        module = np
    for part in parts:
        module = getattr(module, part, None)
    return module


def _jax_differentiates(name, jax_function):
    """Whether jax.grad of the probe loss of `jax_function` runs; None when not probed."""
    import jax
    import jax.numpy as jnp

    probe = _probe_call(name, _reference_function(name))
    if probe is None:
        return None
    args, kwargs, wrt = probe(REAL)
    if not wrt:  # nothing to differentiate: zeros(shape), tri(n)
        return None
    try:
        if not _inexact_leaves(jax_function(*args, **kwargs)):
            return False
    except Exception:  # JAX refuses the input NumPy took: not probed
        return None

    def loss(*differentiated):
        return _loss(jnp, jax_function(*_with(args, wrt, differentiated), **kwargs))

    try:
        jax.grad(loss, argnums=tuple(range(len(wrt))))(*(args[i] for i in wrt))
    except Exception:  # JAX refuses to differentiate it (an integer output, a custom refusal)
        return False
    return True


def _autograd_names():
    """The NumPy- and SciPy-named functions HIPS autograd differentiates: those with a VJP
    (autograd's primitives), and autograd's own Python functions built from them (concatenate,
    stack, mean, ...). Zero-gradient functions (floor, sign: autograd's nograd list) are not
    differentiated, and not counted."""
    import autograd.numpy as anp
    import autograd.scipy.stats as astats
    import scipy.stats
    from autograd.core import primitive_vjps

    modules = [(anp, np, ""), (anp.linalg, np.linalg, "linalg."), (anp.fft, np.fft, "fft.")]
    for name in _SCIPY_MODULES:
        if name != "stats":
            modules.append((importlib.import_module(f"autograd.scipy.{name}"),
                            importlib.import_module(f"scipy.{name}"), f"scipy.{name}."))
    for name in dir(astats):
        distribution = getattr(astats, name)
        if inspect.ismodule(distribution) and hasattr(scipy.stats, name):
            modules.append((distribution, getattr(scipy.stats, name), f"scipy.stats.{name}."))

    def differentiated(value):
        if value in primitive_vjps:
            return True
        module = getattr(value, "__module__", "") or ""
        own = module.startswith("autograd") and module != "autograd.tracer"
        return own and inspect.isfunction(value)

    names = set()
    for module, reference, prefix in modules:
        for name in dir(module):
            value = getattr(module, name)
            if name.startswith("_") or not callable(value) or isinstance(value, type):
                continue
            if hasattr(reference, name) and differentiated(value):
                names.add(prefix + name)
    return sorted(names)


def refresh():
    """Re-read the references into tools/reference_names.json (run in .venv-bench)."""
    import autograd
    import jax
    import scipy

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    names = (_numpy_named(jnp, np) + _numpy_named(jnp.linalg, np.linalg, "linalg.")
             + _numpy_named(jnp.fft, np.fft, "fft."))
    with _quiet():
        differentiates = {
            name: None if name.split(".")[-1] in _NOT_PROBED
            else _jax_differentiates(name, _lookup(jnp, name))
            for name in sorted(names)
        }
    reference = {
        "about": "Generated by `.venv-bench/bin/python -m tools.coverage --refresh`: jax.numpy's "
                 "NumPy-named functions (namespace, linalg, fft) -> whether jax.grad "
                 "differentiates each on its probe input (tools/probes.py; null: not probed), "
                 "and the NumPy- and SciPy-named functions HIPS autograd differentiates.",
        "versions": {"jax": jax.__version__, "autograd": _version(autograd, "autograd"),
                     "numpy": np.__version__, "scipy": scipy.__version__},
        "jax.numpy": differentiates,
        "autograd": _autograd_names(),
    }
    REFERENCE.write_text(json.dumps(reference, indent=1, sort_keys=False) + "\n")


def _version(module, distribution):
    from importlib.metadata import version

    return getattr(module, "__version__", None) or version(distribution)


def _lookup(root, name):
    """root.a.b for name "a.b", or None (no error, no chainrule.numpy advice built)."""
    value = root
    for part in name.split("."):
        try:
            value = getattr(value, part)
        except Exception:  # AttributeError, or a module that cannot import (no SciPy)
            return None
    return value


# ----- probes -------------------------------------------------------------------------------------
def _probe_call(name, reference):
    """The probe of `name`: constants (REAL or COMPLEX) -> (args, kwargs, wrt), wrt being the
    positions differentiated (the floating ones unless the probe names them); None when no
    input fits."""
    if name.split(".")[-1] in _NOT_PROBED or reference is None:
        return None
    build = probe_builder(name, reference)
    if build is None:
        return None

    def call(constants):
        found = build(constants)
        args, kwargs = found[0], found[1]
        wrt = found[2] if len(found) > 2 else _floating_positions(build(REAL)[0])
        return list(args), kwargs, tuple(wrt)

    return call


def _floating_positions(args):
    """The arguments a probe differentiates: floating arrays and numbers, and lists of floating
    arrays (multi_dot's)."""
    return tuple(i for i, a in enumerate(args) if _floating(a))


def _floating(value):
    if isinstance(value, (list, tuple)):
        return bool(value) and all(isinstance(v, np.ndarray) and _floating(v) for v in value)
    floating = isinstance(value, (float, np.floating, np.ndarray))
    return floating and np.asarray(value).dtype.kind == "f"


def _with(args, positions, values):
    """`args` with `values` at `positions`; where `args` held a list of arrays, the value (the
    list stacked, as cr.gradcheck and cr.vmap pass it) is split back into a list."""
    full = list(args)
    for position, value in zip(positions, values):
        original = args[position]
        if isinstance(original, (list, tuple)):
            value = [value[i] for i in range(len(original))]
        full[position] = value
    return full


def _leaves(value):
    if isinstance(value, (tuple, list)):
        for part in value:
            yield from _leaves(part)
    elif value is not None and not isinstance(value, (str, bytes)):
        yield value


def _inexact_leaves(value):
    leaves = []
    for leaf in _leaves(value):
        dtype = getattr(leaf, "dtype", None)
        dtype = np.asarray(leaf).dtype if dtype is None else np.dtype(dtype)
        if dtype.kind in "fc":
            leaves.append(leaf)
    return leaves


def _loss(xp, output):
    """A real number from every floating output, weighted entry by entry (so a wrong entry, or
    an entry in the wrong place, shows): the probe differentiates this."""
    total = 0.0
    for leaf in _inexact_leaves(output):
        shape = tuple(xp.shape(leaf))
        positions = np.arange(int(np.prod(shape, dtype=int)), dtype=float)
        real_weights = np.cos(1.3 * positions + 0.2).reshape(shape)
        total = total + xp.sum(xp.real(leaf) * real_weights)
        if np.dtype(leaf.dtype if hasattr(leaf, "dtype") else type(leaf)).kind == "c":
            imag_weights = np.sin(0.7 * positions + 0.5).reshape(shape)
            total = total + xp.sum(xp.imag(leaf) * imag_weights)
    return total


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# ----- chainrule's side ---------------------------------------------------------------------------
@dataclass
class Entry:
    """One row of the table."""

    name: str
    jax: str = ""  # "diff", "no diff", "unprobed", or "" (not in jax.numpy)
    autograd: bool = False
    kind: str = "missing"
    reverse: str = "—"
    forward: str = "—"
    batching: str = "—"
    complex: str = "—"


def _chainrule_names():
    """chainrule's public functions as table names: chainrule.numpy's (linalg., fft.) and
    chainrule.scipy's (scipy.special.erf, scipy.stats.norm.logpdf)."""
    import chainrule.numpy as cnp

    names = set()
    for prefix, module in (("", cnp), ("linalg.", cnp.linalg), ("fft.", cnp.fft)):
        names.update(prefix + name for name in module.__all__ if _is_function(module, name))
    for module_name in _SCIPY_MODULES:
        module = _lookup(importlib.import_module("chainrule.scipy"), module_name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            prefix = f"scipy.{module_name}.{name}"
            methods = [
                method for method in dir(value)
                if method in _DISTRIBUTION_METHODS and callable(getattr(value, method))
            ]
            if methods and not isinstance(value, type):  # a distribution (callable: frozen)
                names.update(f"{prefix}.{method}" for method in methods)
            elif _is_function(module, name):
                names.add(prefix)
    return names


# What a chainrule.scipy.stats distribution offers, as SciPy spells it.
_DISTRIBUTION_METHODS = {
    "pdf", "logpdf", "cdf", "logcdf", "sf", "logsf", "ppf", "pmf", "logpmf", "entropy",
}


def _is_function(module, name):
    value = getattr(module, name)
    return callable(value) and not isinstance(value, type) and not inspect.ismodule(value)


def _chainrule_object(name):
    if name.startswith("scipy."):
        return _lookup(importlib.import_module("chainrule.scipy"), name[len("scipy."):])
    import chainrule.numpy as cnp

    return _lookup(cnp, name)


def _row_of(value):
    from chainrule.core.primitive import Primitive

    value = getattr(value, "__wrapped__", value)
    return value if isinstance(value, Primitive) else None


def _sweep_facts():
    """Which rows have complex samples, and the composite sweep's cases by table name (the
    tests' own tables: tests/samples, tests/composites)."""
    tests = str(ROOT / "tests")
    added = tests not in sys.path
    if added:
        sys.path.insert(0, tests)
    try:
        from composites import all_cases
        from samples import all_samples

        samples, cases = all_samples(), all_cases()
    finally:
        if added:
            sys.path.remove(tests)
    complex_rows = {name for name, found in samples.items() if any(s.is_complex for s in found)}
    by_name = {}
    for case in cases:
        by_name.setdefault(_table_name(case.name), []).append(case)
    return complex_rows, by_name


def _table_name(name):
    for prefix in ("chainrule.", "numpy.", "cnp.", "np."):
        name = name.removeprefix(prefix)
    return name


def _classify(entry, complex_rows, cases):
    import chainrule.numpy as cnp
    from chainrule.numpy._refused import REFUSED

    value = _chainrule_object(entry.name)
    if value is None:
        entry.kind = "refused" if entry.name in REFUSED else "missing"
        return entry
    group = cnp._PASSED_THROUGH.get(entry.name)
    if group is not None:
        entry.kind = "pass-through"
        entry.batching = {"as is": "—", "values": "per example", "aval": "same per example",
                          "once": "BatchingError"}[group]
        return entry
    row = _row_of(value)
    if row is not None:
        return _classify_row(entry, value, row, complex_rows)
    if entry.name in cases:
        return _classify_swept(entry, value, cases[entry.name])
    entry = _classify_probed(entry, value)
    if entry.name in REFUSED and entry.kind != "differentiable":
        # NumPy's in-place write, on NumPy arrays only
        return Entry(entry.name, entry.jax, entry.autograd, kind="refused")
    return entry


def _classify_row(entry, value, row, complex_rows):
    entry.batching = ("rule" if row.batch is not None else "row by row") + " (sweep)"
    if row.nondiff:
        entry.kind = "no derivative"
        return entry
    entry.kind = "differentiable"
    entry.reverse = "✓ sweep"
    entry.forward = "✓ sweep" if row.linear or row.jvps else "✗ no JVP rule"
    entry.complex = "✓ sweep" if row.name in complex_rows else _complex_only(entry.name, value)
    return entry


def _classify_swept(entry, value, cases):
    entry.kind = "differentiable"
    entry.reverse = entry.forward = "✓ sweep"
    if any(case.batch for case in cases):
        entry.batching = "composite (sweep)"
    else:
        probe = _probe_call(entry.name, _reference_function(entry.name) or value)
        entry.batching = "—" if probe is None else _batched(value, *probe(REAL))
    if any(np.iscomplexobj(a) for case in cases for a in case.args):
        entry.complex = "✓ sweep"
    else:
        entry.complex = _complex_only(entry.name, value)
    return entry


def _classify_probed(entry, value):
    probe = _probe(entry.name, value)
    entry.kind, entry.reverse, entry.forward = probe.kind, probe.reverse, probe.forward
    entry.batching, entry.complex = probe.batching, probe.complex
    return entry


def _complex_only(name, function):
    """The complex probe alone, for a function whose real derivatives a sweep checks."""
    reference = _reference_function(name)
    probe = _probe_call(name, reference if reference is not None else function)
    return "—" if probe is None else _complex(function, probe, reference)


@dataclass
class _Probed:
    kind: str = "unchecked"
    reverse: str = "—"
    forward: str = "—"
    batching: str = "—"
    complex: str = "—"


def _probe(name, function):
    """What one probe shows of chainrule's `function` (see the module docstring)."""
    reference = _reference_function(name)
    probe = _probe_call(name, reference if reference is not None else function)
    if probe is None:
        return _Probed(reverse="no probe", forward="no probe")
    args, kwargs, wrt = probe(REAL)
    try:
        output = function(*_copies(args), **kwargs)
    except Exception as exc:
        return _Probed(reverse=f"✗ {type(exc).__name__}", forward="no probe")
    if not _inexact_leaves(output) or not wrt:  # integer results, or no floating input
        return _Probed(kind="no derivative")
    found = _Probed()
    found.reverse = _gradchecked(function, args, kwargs, wrt, ("reverse",))
    found.forward = _gradchecked(function, args, kwargs, wrt, ("forward",))
    if "✓" in found.reverse or "✓" in found.forward:
        found.kind = "differentiable"
        found.batching = _batched(function, args, kwargs, wrt)
        found.complex = _complex(function, probe, reference)
    else:
        found.kind = "not differentiable"
    return found


def _copies(args):
    return [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]


def _probe_loss(function, args, kwargs, wrt):
    import chainrule.numpy as cnp

    def loss(*differentiated):
        return _loss(cnp, function(*_with(_copies(args), wrt, differentiated), **kwargs))

    return loss


def _gradchecked(function, args, kwargs, wrt, modes):
    import chainrule as cr
    from chainrule.transforms.check import GradcheckError

    loss = _probe_loss(function, args, kwargs, wrt)
    try:
        cr.gradcheck(loss, *(args[i] for i in wrt), modes=modes, rtol=1e-4, atol=1e-6)
    except GradcheckError:
        return "✗ wrong"
    except Exception as exc:
        return f"✗ {type(exc).__name__}"
    return "✓ probe"


def _batched(function, args, kwargs, wrt):
    """vmap of a two-example batch (the first differentiated argument) against a loop: by the
    rows' batching rules ("composite") or with some row going row by row."""
    import chainrule as cr
    from chainrule.core.batching import FALLBACKS

    first = wrt[0]
    examples = [np.asarray(args[first]), np.asarray(args[first]) * 0.97]
    loss = _probe_loss(function, args, kwargs, (first,))
    before = dict(FALLBACKS)
    try:
        batched = np.asarray(cr.vmap(loss)(np.stack(examples)))
    except cr.errors.BatchingError:
        return "BatchingError"
    except Exception as exc:
        return f"✗ {type(exc).__name__}"
    looped = np.array([float(np.asarray(loss(example))) for example in examples])
    if not np.allclose(batched, looped, rtol=1e-9, atol=1e-12):
        return "✗ wrong"
    return "row by row (probe)" if dict(FALLBACKS) != before else "composite (probe)"


def _complex(function, probe, reference):
    """The complex probe: both modes on the complex input, where NumPy/SciPy take it."""
    import chainrule as cr
    from chainrule.transforms.check import GradcheckError

    args, kwargs, wrt = probe(COMPLEX)
    if reference is not None:  # NumPy's own, without jax.numpy's inplace=False
        try:
            reference(*_copies(args), **{k: v for k, v in kwargs.items() if k != "inplace"})
        except Exception:
            return "real only"
    try:
        function(*_copies(args), **kwargs)
        cr.gradcheck(_probe_loss(function, args, kwargs, wrt), *(args[i] for i in wrt),
                     rtol=1e-4, atol=1e-6)
    except cr.errors.DTypeError:
        return "refused"
    except GradcheckError:
        return "✗ wrong"
    except Exception as exc:
        return f"✗ {type(exc).__name__}"
    return "✓ probe"


# ----- the table ---------------------------------------------------------------------------------
def reference():
    return json.loads(REFERENCE.read_text())


def entries():
    """Every row of the table, sorted: numpy names first, then scipy's."""
    found = reference()
    names = set(found["jax.numpy"]) | set(found["autograd"]) | _chainrule_names()
    complex_rows, cases = _sweep_facts()
    autograd = set(found["autograd"])
    rows = []
    with _quiet():
        for name in sorted(names, key=_sort_key):
            entry = Entry(name, autograd=name in autograd)
            if name in found["jax.numpy"]:
                entry.jax = {True: "diff", False: "no diff", None: "unprobed"}[
                    found["jax.numpy"][name]]
            rows.append(_classify(entry, complex_rows, cases))
    return rows


def _sort_key(name):
    return (name.startswith("scipy."), name.count("."), name)


def summary(rows):
    """The headline numbers: jax.numpy's coverage, the differentiability gaps, autograd's."""
    jax_rows = [r for r in rows if r.jax]
    present = [r for r in jax_rows if r.kind not in ("missing", "refused")]
    return {
        "jax_total": len(jax_rows),
        "jax_present": len(present),
        "jax_refused": sorted(r.name for r in jax_rows if r.kind == "refused"),
        "jax_missing": sorted(r.name for r in jax_rows if r.kind == "missing"),
        "jax_differentiates": len([r for r in jax_rows if r.jax == "diff"]),
        "differentiable_gaps": sorted(
            r.name for r in jax_rows
            if r.jax == "diff" and r.kind not in ("differentiable", "missing", "refused")
        ),
        "autograd_total": len([r for r in rows if r.autograd]),
        "autograd_missing": sorted(r.name for r in rows if r.autograd and r.kind == "missing"),
        "autograd_not_differentiable": sorted(
            r.name for r in rows
            if r.autograd and r.kind not in ("differentiable", "missing")
        ),
    }


_LEGEND = """\
## How each column is decided

- **name**: as NumPy spells it (`linalg.solve` is `numpy.linalg.solve`, `fft.fft` is
  `numpy.fft.fft`), or SciPy (`scipy.stats.norm.logpdf`); chainrule's function is the same
  path under `chainrule.numpy` or `chainrule.scipy`.
- **jax.numpy**: `diff` when `jax.grad` runs on the function's probe input (tools/probes.py),
  `no diff` when it refuses (an integer or boolean result), `unprobed` when the function has no
  probe input; blank when jax.numpy lacks the name. Read once from JAX by `--refresh`.
- **autograd**: ✓ when HIPS autograd differentiates the function: it has a VJP there, or is
  autograd's own function built from those (concatenate, stack, mean, ...). Zero-gradient
  functions (floor, sign) are not counted.
- **chainrule**: `differentiable`; `no derivative` (integer or boolean results: comparisons,
  argmax); `pass-through` (NumPy's own, on the values; tests/test_numpy_passthrough.py);
  `refused` (absent, or NumPy's in-place write on NumPy arrays only, refusing Tensors; the
  reasons are in numpy/_refused.py); `not differentiable` (a floating result
  whose derivatives the probe could not take); `unchecked` (present, but with no probe input);
  `missing`.
- **reverse**, **forward**: `✓ sweep` when a test sweep checks the derivative against central
  differences, to second order, on every sample: the registry sweep for a row, the composite
  sweep (tests/composites/) for a function with cases there. `✓ probe`: only this script's
  probe checks it, by `cr.gradcheck` in that one mode on one input (first order). `✗ error`:
  what the probe raised (`✗ wrong`: the derivative disagrees with differences).
- **batching**: `rule` (the row's batching rule) or `row by row` (the row's fallback) or
  `composite` (a composite: vmap runs its rows' rules), each as checked by a sweep or a probe
  (vmap of a two-example batch against a loop; `row by row (probe)` when some row inside fell
  back); for pass-through names, `per example` (NumPy once per example), `same per example`
  (a question about shapes or dtypes) or `BatchingError` (a string or a file).
- **complex**: `✓ sweep` (complex samples or cases in a sweep), `✓ probe` (both modes on the
  probe's complex input), `refused` (a DTypeError saying why), `real only` (NumPy or SciPy
  itself refuses the complex input), `✗ error`.
"""


def _percent(part, whole):
    return f"{100.0 * part / whole:.1f}%" if whole else "n/a"


def _names(names):
    return ", ".join(f"`{name}`" for name in names) if names else "none"


def render(rows):
    numbers = summary(rows)
    versions = reference()["versions"]
    lines = [
        "# Coverage: chainrule.numpy and chainrule.scipy against NumPy's and SciPy's names",
        "",
        "Generated from the code by `.venv/bin/python -m tools.coverage` (do not edit by hand: "
        "tests/test_coverage.py fails when this file is out of date). References: jax.numpy "
        f"{versions['jax']} and HIPS autograd {versions['autograd']}, read into "
        "tools/reference_names.json by `--refresh`.",
        "",
        "## Headline",
        "",
        f"- **jax.numpy's NumPy-named functions** (namespace, `linalg`, `fft`): "
        f"{numbers['jax_present']} of {numbers['jax_total']} present in chainrule.numpy "
        f"({_percent(numbers['jax_present'], numbers['jax_total'])}; target "
        f"{TARGET_PRESENT:.0%}); refused with a reason: {_names(numbers['jax_refused'])}.",
        f"- Missing ({len(numbers['jax_missing'])}): {_names(numbers['jax_missing'])}.",
        f"- **Differentiable where JAX differentiates**: JAX differentiates "
        f"{numbers['jax_differentiates']} of them on their probe inputs; present in chainrule "
        f"but not differentiable there ({len(numbers['differentiable_gaps'])}): "
        f"{_names(numbers['differentiable_gaps'])}.",
        f"- **HIPS autograd** differentiates {numbers['autograd_total']} NumPy- and "
        f"SciPy-named functions; missing from chainrule ({len(numbers['autograd_missing'])}): "
        f"{_names(numbers['autograd_missing'])}; present but not differentiable "
        f"({len(numbers['autograd_not_differentiable'])}): "
        f"{_names(numbers['autograd_not_differentiable'])}.",
        "",
        _LEGEND,
    ]
    for title, part in (("chainrule.numpy", False), ("chainrule.scipy", True)):
        lines += [f"## {title}", "", "| name | jax.numpy | autograd | chainrule | reverse | "
                  "forward | batching | complex |", "|---|---|---|---|---|---|---|---|"]
        lines += [
            f"| `{r.name}` | {r.jax} | {'✓' if r.autograd else ''} | {r.kind} | {r.reverse} "
            f"| {r.forward} | {r.batching} | {r.complex} |"
            for r in rows if r.name.startswith("scipy.") == part
        ]
        lines.append("")
    lines += _refusals() + _constants()
    return "\n".join(lines).rstrip() + "\n"


def _refusals():
    from chainrule.numpy._refused import REFUSED

    lines = ["## Refused by chainrule", "",
             "NumPy's forms below raise, here and through NumPy dispatch, saying why "
             "(src/chainrule/numpy/_refused.py):", ""]
    lines += [f"- `{name}`: {reason}." for name, reason in sorted(REFUSED.items())]
    return lines + [""]


def _constants():
    import chainrule.numpy as cnp

    names = sorted(n for n, group in cnp._PASSED_THROUGH.items()
                   if group == "as is" and not callable(getattr(cnp, n))
                   or isinstance(getattr(cnp, n), type))
    return ["## Constants and types passed through", "", _names(names) + ".", ""]


# ----- the README's coverage paragraph, between its markers ---------------------------------------
README = ROOT / "README.md"
_START, _END = "<!-- coverage:start -->", "<!-- coverage:end -->"


def readme_paragraph(rows):
    numbers = summary(rows)
    autograd_present = numbers["autograd_total"] - len(numbers["autograd_missing"])
    text = (
        "[docs/coverage.md](docs/coverage.md) lists NumPy's functions as far as jax.numpy "
        "mirrors them (with `linalg` and `fft`), and every NumPy and SciPy function HIPS "
        "autograd differentiates, with what chainrule does with each: differentiable (in "
        "reverse and forward mode, batched, with complex numbers, as the test sweeps or a "
        "probe check it), passed through on values, refused with a reason, or missing. "
        f"Today chainrule.numpy has {numbers['jax_present']} of jax.numpy's "
        f"{numbers['jax_total']} NumPy-named functions "
        f"({_percent(numbers['jax_present'], numbers['jax_total'])}), and chainrule has "
        f"{autograd_present} of the {numbers['autograd_total']} functions HIPS autograd "
        "differentiates. `python -m tools.coverage` writes the table (and this paragraph) from "
        "the code; tests/test_coverage.py fails when either is out of date."
    )
    return f"{_START}\n{textwrap.fill(text, width=100)}\n{_END}"


def with_readme_paragraph(text, rows):
    """`text` (the README) with its coverage paragraph regenerated between the markers."""
    start, end = text.find(_START), text.find(_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no coverage paragraph between {_START} and {_END}")
    return text[:start] + readme_paragraph(rows) + text[end + len(_END):]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refresh", action="store_true",
                        help="re-read jax.numpy's and autograd's names (needs both installed)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/coverage.md or the README's paragraph is stale")
    options = parser.parse_args(argv)
    if options.refresh:
        refresh()  # in .venv-bench; regenerate the table with .venv afterwards
        print(f"wrote {REFERENCE.relative_to(ROOT)}")
        return 0
    rows = entries()
    outputs = {OUTPUT: render(rows), README: with_readme_paragraph(README.read_text(), rows)}
    if options.check:
        stale = [path.name for path, text in outputs.items()
                 if not path.exists() or path.read_text() != text]
        print(f"out of date: {', '.join(stale)}" if stale else "up to date")
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
