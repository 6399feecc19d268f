"""Saving and loading arrays safely: atomic writes (temp file + rename), never unpickling."""

import os
import tempfile
import zipfile

import numpy as np

__all__ = ["save_arrays", "load_arrays", "atomic_write"]


class atomic_write:
    """`with atomic_write(path) as tmp_path:` write to tmp_path; on success it replaces `path`
    in one rename, so a crash mid-write never leaves a half-written file behind."""

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
    """Write a dict of arrays to an .npz file atomically."""
    plain = {name: np.asarray(value) for name, value in arrays.items()}
    with atomic_write(path, suffix=".npz") as tmp_path:
        with open(tmp_path, "wb") as handle:
            np.savez(handle, **plain)


def load_arrays(path) -> dict:
    """Read an .npz written by `save_arrays`; a corrupt or truncated file gives a clear error."""
    try:
        with np.load(os.fspath(path), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(
            f"cannot read {path}: the file is corrupt or truncated ({exc}). "
            "Delete it and save again, or load an earlier checkpoint."
        ) from exc
