"""Files: checkpoints are written atomically (a crash mid-write leaves the old file intact),
loading never unpickles, and a corrupt or truncated file gives a clear FileFormatError."""

import io
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from chainrule.errors import FileFormatError
from chainrule.io import atomic_write, load_arrays, save_arrays


def saved_checkpoint(tmp_path):
    path = tmp_path / "model.npz"
    arrays = {"weights": np.arange(12.0).reshape(3, 4), "bias": np.ones(4, dtype=np.float32)}
    save_arrays(path, arrays)
    return path, arrays


def assert_same(loaded, arrays):
    assert set(loaded) == set(arrays)
    for name, value in arrays.items():
        np.testing.assert_array_equal(loaded[name], value)
        assert loaded[name].dtype == value.dtype


def test_save_and_load_round_trip(tmp_path):
    path, arrays = saved_checkpoint(tmp_path)
    assert_same(load_arrays(path), arrays)


def test_an_exception_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path, arrays = saved_checkpoint(tmp_path)

    def crashing_savez(handle, **named):
        handle.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt  # the user pressed Ctrl-C mid-write

    monkeypatch.setattr(np, "savez", crashing_savez)
    with pytest.raises(KeyboardInterrupt):
        save_arrays(path, {"weights": np.zeros(3)})
    monkeypatch.undo()
    assert_same(load_arrays(path), arrays)
    assert os.listdir(tmp_path) == ["model.npz"]


def test_a_killed_process_mid_write_leaves_the_old_file_intact(tmp_path):
    path, arrays = saved_checkpoint(tmp_path)
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        from chainrule.io import save_arrays

        def dying_savez(handle, **named):
            handle.write(b"PK\\x03\\x04 half a zip")
            handle.flush()
            os._exit(9)  # no cleanup at all, as with a power cut or kill -9

        np.savez = dying_savez
        save_arrays({str(path)!r}, {{"weights": np.zeros(3)}})
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == 9
    assert_same(load_arrays(path), arrays)  # the rename never happened


def test_atomic_write_replaces_the_file_only_on_success(tmp_path):
    path = tmp_path / "graph.svg"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(path) as temporary:
            with open(temporary, "w") as handle:
                handle.write("new but incomplete")
            raise RuntimeError("renderer failed")
    assert path.read_text() == "old"
    with atomic_write(path) as temporary:
        with open(temporary, "w") as handle:
            handle.write("new")
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["graph.svg"]


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.5, 0.99])
def test_truncated_files_give_a_clear_error(tmp_path, fraction):
    path, _ = saved_checkpoint(tmp_path)
    content = path.read_bytes()
    path.write_bytes(content[: int(len(content) * fraction)])
    with pytest.raises(FileFormatError, match="corrupt or truncated.*save again"):
        load_arrays(path)


def test_corrupted_bytes_give_a_clear_error(tmp_path):
    path, _ = saved_checkpoint(tmp_path)
    content = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for position in rng.integers(0, len(content), size=40):
        content[position] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(FileFormatError, match="corrupt"):
        load_arrays(path)


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(FileFormatError, match="not an .npz archive.*pickled Python objects"):
        load_arrays(path)
    buffer = io.BytesIO()
    np.savez(buffer, weights=np.array([Exploit()], dtype=object))
    path.write_bytes(buffer.getvalue())
    with pytest.raises(FileFormatError, match="object arrays"):
        load_arrays(path)
    assert not (tmp_path / "pwned.txt").exists() and not os.path.exists("pwned.txt")


def test_a_plain_npy_file_is_named_as_such(tmp_path):
    path = tmp_path / "array.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.arange(3))
    with pytest.raises(FileFormatError, match="single .npy array"):
        load_arrays(path)
    assert issubclass(FileFormatError, ValueError)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_arrays(tmp_path / "missing.npz")
