"""The libraries chainrule is compared with, imported lazily so a missing one only drops a column.

`load(name)` returns the imported module (or a small namespace) or None, and records why in
`NOTES`, which the report prints once.
"""

import importlib.metadata
import os

__all__ = ["PEERS", "NOTES", "load", "available", "describe_threads", "version_of",
           "set_torch_threads"]

# The order of the columns and of the interleaved rounds.
PEERS = ("torch", "autograd", "jax", "jax-jit")

NOTES: dict = {}
_LOADED: dict = {}


def _import_torch():
    import torch

    return torch


def _import_autograd():
    import autograd
    import autograd.numpy

    return autograd


def _import_jax():
    # CPU only, 64-bit floats available (the float64 cases need them; float32 inputs stay float32).
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax


_IMPORTERS = {
    "torch": _import_torch,
    "autograd": _import_autograd,
    "jax": _import_jax,
    "jax-jit": _import_jax,
}


def load(name):
    """The peer's module, or None (with a note) when it cannot be imported."""
    if name not in _LOADED:
        try:
            _LOADED[name] = _IMPORTERS[name]()
        except Exception as exc:  # noqa: BLE001 - any import failure just drops the column
            _LOADED[name] = None
            NOTES[name] = f"{name} not available ({type(exc).__name__}: {exc}); column skipped"
    return _LOADED[name]


def set_torch_threads(count):
    torch = load("torch")
    if torch is not None:
        torch.set_num_threads(count)


def available(name) -> bool:
    return load(name) is not None


def describe_threads() -> str:
    """Which BLAS kernel and how many threads NumPy and PyTorch use (for the report header)."""
    parts = []
    try:
        import threadpoolctl

        for pool in threadpoolctl.threadpool_info():
            if "numpy" in pool.get("filepath", "") or "scipy_openblas" in pool.get("prefix", ""):
                parts.append(
                    f"numpy BLAS: {pool.get('internal_api')} {pool.get('version')} "
                    f"kernel={pool.get('architecture')} threads={pool.get('num_threads')}"
                )
                break
    except ImportError:
        parts.append("numpy BLAS: (install threadpoolctl to show the kernel)")
    torch = load("torch")
    if torch is not None:
        parts.append(f"torch {torch.__version__} threads={torch.get_num_threads()}")
    for variable in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS"):
        if variable in os.environ:
            parts.append(f"{variable}={os.environ[variable]}")
    return "; ".join(parts)


def version_of(name) -> str:
    module = load(name)
    if module is None:
        return "missing"
    if name == "autograd":
        try:
            return importlib.metadata.version("autograd")
        except Exception:  # noqa: BLE001
            return "?"
    return getattr(module, "__version__", "?")

