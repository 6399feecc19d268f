"""The NumPy names chainrule refuses, each with its reason, and what a missing name's message
says about it. One table, read by `chainrule.numpy`'s attribute lookup (`cnp.put`), by NumPy
dispatch's message (`np.put(t, ...)`, core/tensor.py) and by tools/coverage.py.

chainrule.numpy's scope is NumPy's main namespace, `linalg` and `fft`, as far as jax.numpy
reaches (issue 14): a name there that is neither present nor refused is *planned*.
"""

import difflib
import importlib

import numpy as np

__all__ = ["REFUSED", "SCIPY_MODULES", "status_of", "dispatch_status", "scipy_home", "closest"]

_IN_PLACE = "it writes into its argument in place, behind the graph's back; "

# name (as NumPy spells it, "linalg.x" for numpy.linalg.x) -> why, and what to do instead. A
# name may also be chainrule.numpy's own, in the form that returns the new array (as in
# jax.numpy: cnp.put(a, ind, v, inplace=False)): NumPy's in-place form is what is refused.
REFUSED = {
    "copyto": _IN_PLACE + "use the new value itself, e.g. cnp.where(mask, src, dst)",
    "place": _IN_PLACE + "use cnp.place(arr, mask, vals, inplace=False), as in jax.numpy",
    "put": _IN_PLACE + "use cnp.put(a, ind, v, inplace=False), as in jax.numpy, or "
           "t[ind] = v on a Tensor (recorded)",
    "putmask": _IN_PLACE + "use cnp.where(mask, values, a)",
    "fill_diagonal": _IN_PLACE + "use cnp.fill_diagonal(a, val, inplace=False), as in jax.numpy",
    "frompyfunc": "its ufuncs compute on object arrays of Python objects, which carry no "
                  "derivative; use cnp.vectorize(pyfunc), which records each call",
    "busday_count": "it counts calendar days; dates carry no derivative (use NumPy directly)",
    "busday_offset": "it shifts calendar dates; dates carry no derivative (use NumPy directly)",
    "is_busday": "it reads calendar dates; dates carry no derivative (use NumPy directly)",
}

SCIPY_MODULES = ("special", "stats", "linalg", "signal", "integrate")


def scipy_home(name):
    """Where chainrule.scipy has a function called `name` ("chainrule.scipy.special.i0"), or
    None. chainrule.scipy sits a layer above: it is looked up by name, only to write a message
    (its modules are imported then; a missing SciPy means no home)."""
    short = name.rsplit(".", 1)[-1]
    for module_name in SCIPY_MODULES:
        try:
            module = importlib.import_module(f"chainrule.scipy.{module_name}")
        except Exception:  # SciPy not installed, or a module that fails to import: no home
            continue
        if short in getattr(module, "__all__", ()):
            return f"chainrule.scipy.{module_name}.{short}"
    return None


def _numpy_object(name):
    """NumPy's object called `name` ("linalg.lstsq", "convolve", "char"), or None."""
    found = np
    for part in name.split("."):
        found = getattr(found, part, None)
        if found is None:
            return None
    return found


def status_of(name):
    """A sentence or two on a NumPy name chainrule.numpy lacks: refused and why, planned (a
    function of NumPy's main namespace, linalg or fft) or out of scope, and where
    chainrule.scipy has a function of that name."""
    if name in REFUSED:
        return f"chainrule refuses numpy.{name}: {REFUSED[name]}."
    if name.endswith(" (vectorized)"):  # a ufunc made by np.frompyfunc, named after pyfunc
        return f"It is a ufunc made by numpy.frompyfunc: {status_of('frompyfunc')}"
    if _is_ufunc_method(name):
        return (
            "NumPy's ufunc methods (accumulate, reduce, reduceat, outer, at) have no derivative "
            "rules; write them with chainrule.numpy (cnp.cumsum, cnp.sum, cnp.outer, ...)."
        )
    found = _numpy_object(name)
    if found is None:
        status = "NumPy has no function of that name either."
    elif callable(found) and not isinstance(found, type):
        status = (
            f"numpy.{name} is planned for chainrule.numpy (issue 14: NumPy's namespace as far "
            "as jax.numpy reaches) but not written yet."
        )
    else:
        status = (
            f"numpy.{name} is outside chainrule.numpy's scope (NumPy's main namespace, "
            "linalg and fft)."
        )
    home = scipy_home(name)
    if home is None:
        return status
    if found is None:
        return f"It is available as {home}."
    return f"{status} {home} is available."


def _is_ufunc_method(name):
    owner, _, method = name.rpartition(".")
    return bool(method) and isinstance(_numpy_object(owner), np.ufunc)


def dispatch_status(name):
    """What NumPy dispatch says of numpy.<name> reached with a Tensor that carries derivatives
    and no rule (core/tensor.py calls it through `_unsupported_message.status_of`)."""
    import chainrule.numpy as cnp

    found = cnp
    for part in name.split("."):
        found = vars(found).get(part) if isinstance(found, type(cnp)) else None
    if found is None or name in REFUSED:
        return status_of(name)
    if name in cnp._PASSED_THROUGH:
        return f"Call chainrule.numpy.{name}, which computes it on the plain values."
    return f"Call chainrule.numpy.{name}, which records it."


def closest(name, names):
    """The names among `names` closest to `name` (difflib), best first, at most three."""
    return difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
