"""Saving and loading arrays safely: atomic writes (temp file + rename), never unpickling.

`cr.save(obj, path)` / `cr.load(path)` keep a state dict or any nesting of dicts, lists and
tuples holding arrays, Tensors, Python numbers, strings, booleans and None (a model's and an
optimiser's state together, say). The file is an ordinary .npz archive: one .npy entry per
array, and one entry, `__chainrule_structure__`, a UTF-8 JSON text describing the nesting, in
which the numbers, strings, booleans and None are written. Nothing is pickled, so loading a
file can never run code. `save_arrays` / `load_arrays` are the flat {name: array} form.
"""

import json
import os
import tempfile
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from chainrule.errors import FileFormatError, InputTypeError

__all__ = ["save", "load", "save_arrays", "load_arrays", "atomic_write"]


class atomic_write:
    """`with atomic_write(path) as tmp_path:` write to tmp_path; on success it replaces `path`
    in one rename, so a crash mid-write never leaves a half-written file behind.

    Yields:
        The temporary path to write to, in the same folder as `path`.

    Raises:
        Exception: whatever the body of the `with` block raises; the temporary file is
            removed and `path` is left as it was.
    """

    def __init__(self, path, suffix=""):
        self.path = os.fspath(path)
        self.suffix = suffix

    def __enter__(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        handle, self.tmp_path = tempfile.mkstemp(
            dir=directory, prefix=".tmp-", suffix=self.suffix or os.path.splitext(self.path)[1]
        )
        os.close(handle)
        return self.tmp_path

    def __exit__(self, exc_type, exc, traceback):
        if exc_type is None:
            # mkstemp creates 0600 files; give the result the usual permissions (umask applies).
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp_path, 0o666 & ~umask)
            os.replace(self.tmp_path, self.path)
        elif os.path.exists(self.tmp_path):
            os.unlink(self.tmp_path)
        return False


def save_arrays(path, arrays: dict) -> None:
    """Write a dict of arrays to an .npz file atomically.

    Returns:
        None; the file is replaced in one rename.
    """
    plain = {name: np.asarray(value) for name, value in arrays.items()}
    with atomic_write(path, suffix=".npz") as tmp_path:
        with open(tmp_path, "wb") as handle:
            np.savez(handle, **plain)


def load_arrays(path) -> dict:
    """Read an .npz written by `save_arrays`. Never unpickles; a corrupt, truncated or foreign
    file gives a FileFormatError (a ValueError) that says so.

    Returns:
        A dict of NumPy arrays, by the names they were saved under.

    Raises:
        FileFormatError: for a corrupt, truncated, pickled or foreign file (a ValueError).
    """
    try:
        source = path if hasattr(path, "read") else os.fspath(path)
        archive = np.load(source, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise FileFormatError(
                f"cannot read {path}: it holds a single .npy array, not an .npz archive of named "
                "arrays; load it with numpy.load, or save with chainrule.io.save_arrays."
            )
        with archive:
            return {name: archive[name] for name in archive.files}
    except (FileNotFoundError, FileFormatError):
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zlib.error) as exc:
        if "Object arrays" in str(exc):
            reason = "it holds object arrays (pickled Python objects), which chainrule never loads"
        elif "pickled" in str(exc):  # NumPy's guess for any file that is not .npy or .npz
            reason = (
                "it is not an .npz archive: it is corrupt, or holds pickled Python objects, "
                "which chainrule never loads"
            )
        else:
            reason = f"the file is corrupt or truncated ({exc})"
        raise FileFormatError(
            f"cannot read {path}: {reason}. Delete it and save again, or load an earlier "
            "checkpoint."
        ) from exc


# ----- cr.save / cr.load -------------------------------------------------------------------------
STRUCTURE_KEY = "__chainrule_structure__"
_FORMAT = "chainrule.save"
_VERSION = 1


def save(obj, path) -> None:
    """Write `obj` to `path` atomically (a crash mid-write leaves any earlier file intact).

    `obj` is a state dict or any nesting of dict (keys: str, int, float, bool, None or tuples
    of them), list and tuple holding NumPy arrays (any dtype but object) and scalars, Tensors
    (and Parameters), Python numbers, strings, booleans and None. Anything else is refused with
    an InputTypeError naming where it sits (a Module: save `model.state_dict()`; an optimiser or
    scheduler: its `state_dict()`). Nothing is pickled. `path` may also be a binary file object
    (then written directly, not atomically). As `torch.save(obj, path)`.

    Returns:
        None.

    Raises:
        InputTypeError: for a value it cannot store (an object, a function), naming where
            it sits in `obj`.
    """
    arrays = {}
    structure = {"format": _FORMAT, "version": _VERSION,
                 "root": _encode(obj, arrays, "obj", set())}
    text = json.dumps(structure, allow_nan=True, separators=(",", ":"))
    arrays[STRUCTURE_KEY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **arrays)
        return
    with atomic_write(path, suffix=".npz") as tmp_path:
        with open(tmp_path, "wb") as handle:
            np.savez(handle, **arrays)


def load(path, map_location=None, weights_only=True):
    """Read what `save` wrote, rebuilt with the same nesting and types: dicts (OrderedDicts
    stay ordered dicts), lists, tuples, arrays with their dtypes, NumPy scalars, Python numbers,
    strings, booleans, None. A Tensor comes back as a Tensor with the same value, dtype and
    `requires_grad` (a leaf: neither its graph nor its `.grad` is saved), a Parameter as an
    `nn.Parameter`. An .npz of named arrays that `save` did not write (`save_arrays`,
    `np.savez`) loads as a dict {name: array}.

    Never unpickles: a corrupt, truncated or foreign file raises FileFormatError.
    `map_location` (None or "cpu") and `weights_only` are accepted for PyTorch's spelling; every
    load is weights-only.

    Returns:
        The saved structure (dicts, lists, tuples, NumPy arrays and scalars, Python
        numbers); a saved Tensor comes back as a Tensor.

    Raises:
        FileFormatError: for a corrupt, truncated, pickled or foreign file (a ValueError).
    """
    if map_location not in (None, "cpu"):
        raise ValueError(f"cr.load: map_location must be None or 'cpu' (chainrule runs on the "
                         f"CPU), got {map_location!r}")
    arrays = load_arrays(path)
    if STRUCTURE_KEY not in arrays:
        return arrays
    name = getattr(path, "name", path)
    try:
        structure = json.loads(bytes(np.asarray(arrays.pop(STRUCTURE_KEY), np.uint8)).decode())
        if not isinstance(structure, dict) or structure.get("format") != _FORMAT:
            raise ValueError("the structure entry is not chainrule's")
        if structure.get("version") != _VERSION:
            raise ValueError(f"format version {structure.get('version')!r} is not "
                             f"{_VERSION}; it was written by another chainrule version")
        used = set()
        obj = _decode(structure["root"], arrays, used)
        if used != set(arrays):
            raise ValueError(f"arrays {sorted(set(arrays) - used)} are not in its structure")
        return obj
    except FileFormatError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError,
            RecursionError) as exc:
        raise FileFormatError(
            f"cannot read {name}: its structure entry is corrupt ({exc}). Delete it and save "
            "again, or load an earlier file."
        ) from exc


def _encode(obj, arrays, where, active):
    """The JSON node of `obj`; its arrays go into `arrays` under fresh names."""
    from chainrule.core.tensor import Tensor

    if obj is None:
        return {"t": "none"}
    if isinstance(obj, np.generic):  # NumPy scalars keep their dtype (np.float32(1) too)
        return _encode_array(np.asarray(obj), arrays, where, scalar=True)
    if isinstance(obj, bool):
        return {"t": "bool", "v": obj}
    if isinstance(obj, int):
        return {"t": "int", "v": int(obj)}
    if isinstance(obj, float):
        return {"t": "float", "v": float(obj)}
    if isinstance(obj, complex):
        return {"t": "complex", "v": [obj.real, obj.imag]}
    if isinstance(obj, str):
        return {"t": "str", "v": str(obj)}
    if isinstance(obj, np.ndarray):
        return _encode_array(obj, arrays, where)
    if isinstance(obj, Tensor):
        node = _encode_array(np.asarray(obj.detach().numpy()), arrays, where)
        from chainrule.nn.parameter import Parameter

        node.update(t="parameter" if isinstance(obj, Parameter) else "tensor",
                    requires_grad=bool(obj.requires_grad))
        return node
    if isinstance(obj, (dict, list, tuple)):
        if id(obj) in active:
            raise ValueError(f"cr.save: {where} contains itself; a nesting with cycles cannot "
                             "be saved")
        if type(obj) not in (dict, OrderedDict, list, tuple):
            raise InputTypeError(
                f"cr.save: {where} is a {type(obj).__name__} (a subclass of "
                f"{type(obj).__mro__[1].__name__}); convert it to a plain dict, list or tuple"
            )
        active.add(id(obj))
        try:
            if isinstance(obj, dict):
                items = [[_encode_key(key, where), _encode(value, arrays, f"{where}[{key!r}]",
                                                           active)]
                         for key, value in obj.items()]
                return {"t": "odict" if type(obj) is OrderedDict else "dict", "items": items}
            kind = "list" if isinstance(obj, list) else "tuple"
            return {"t": kind, "items": [_encode(value, arrays, f"{where}[{index}]", active)
                                         for index, value in enumerate(obj)]}
        finally:
            active.discard(id(obj))
    raise InputTypeError(f"cr.save: {where} is {_refusal(obj)}")


def _refusal(obj):
    kind = type(obj).__name__
    names = {cls.__name__ for cls in type(obj).__mro__}
    modules = {cls.__module__ for cls in type(obj).__mro__}
    if "Module" in names and "chainrule.nn.module" in modules:
        return (f"a Module ({kind}); cr.save keeps data, not code: save model.state_dict() and "
                "restore it with model.load_state_dict(cr.load(path)) on a model built the "
                "same way")
    if {"Optimizer", "LRScheduler", "ReduceLROnPlateau"} & names and \
            any(module.startswith("chainrule.optim") for module in modules):
        return (f"an optimiser or scheduler ({kind}); save its state_dict() and restore it with "
                "load_state_dict(cr.load(path))")
    return (f"a {kind}; cr.save keeps dicts, lists and tuples of arrays, Tensors, numbers, "
            "strings, booleans and None (it never pickles other objects)")


def _encode_key(key, where):
    if key is None or isinstance(key, (bool, int, float, str)) and not isinstance(key, np.generic):
        return _encode(key, {}, where, set())
    if isinstance(key, tuple):
        return {"t": "tuple", "items": [_encode_key(part, where) for part in key]}
    raise InputTypeError(f"cr.save: {where} has a key {key!r} of type {type(key).__name__}; "
                         "keys must be strings, numbers, booleans, None or tuples of them")


def _encode_array(array, arrays, where, scalar=False):
    if array.dtype.hasobject:
        raise InputTypeError(f"cr.save: {where} is an array of Python objects (dtype object), "
                             "which would need pickling; convert it to a numeric dtype")
    key = f"a{len(arrays)}"
    arrays[key] = array
    node = {"t": "array", "k": key}
    if scalar:
        node["scalar"] = True
    return node


def _decode(node, arrays, used):
    kind = node["t"]
    if kind == "none":
        return None
    if kind in ("bool", "int", "float", "str"):
        value = node["v"]
        expected = {"bool": bool, "int": int, "float": (int, float), "str": str}[kind]
        if not isinstance(value, expected) or kind == "int" and isinstance(value, bool):
            raise ValueError(f"a {kind} node holds {value!r}")
        return float(value) if kind == "float" else value
    if kind == "complex":
        real, imag = node["v"]
        return complex(float(real), float(imag))
    if kind in ("array", "tensor", "parameter"):
        key = node["k"]
        if key in used:
            raise ValueError(f"array {key!r} is used twice")
        used.add(key)
        array = arrays[key]
        if kind == "array":
            return array[()] if node.get("scalar") else array
        if kind == "parameter":
            from chainrule.nn.parameter import Parameter

            return Parameter(array, requires_grad=bool(node.get("requires_grad", True)))
        from chainrule.core import tensor

        return tensor(array, requires_grad=bool(node.get("requires_grad", False)))
    if kind in ("dict", "odict"):
        pairs = [(_decode_key(key), _decode(value, arrays, used)) for key, value in node["items"]]
        return OrderedDict(pairs) if kind == "odict" else dict(pairs)
    if kind == "list":
        return [_decode(item, arrays, used) for item in node["items"]]
    if kind == "tuple":
        return tuple(_decode(item, arrays, used) for item in node["items"])
    raise ValueError(f"unknown node type {kind!r}")


def _decode_key(node):
    if node["t"] == "tuple":
        return tuple(_decode_key(part) for part in node["items"])
    if node["t"] not in ("none", "bool", "int", "float", "str"):
        raise ValueError(f"a dict key of type {node['t']!r}")
    return _decode(node, {}, set())
