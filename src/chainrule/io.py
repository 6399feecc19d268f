"""Saving and loading arrays safely: atomic writes (temp file + rename), never unpickling."""

import os
import tempfile
import zipfile
import zlib

import numpy as np

from chainrule.errors import FileFormatError

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
    """Read an .npz written by `save_arrays`. Never unpickles; a corrupt, truncated or foreign
    file gives a FileFormatError (a ValueError) that says so."""
    try:
        archive = np.load(os.fspath(path), allow_pickle=False)
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
