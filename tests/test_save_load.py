"""cr.save / cr.load: nested containers of arrays, Tensors and plain values, atomic, never
pickled; refusals and corrupt files; a whole model + optimiser + schedule round trip."""

import io
import json
import math
import os
import pickle
import zipfile
from collections import OrderedDict, defaultdict

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.optim as optim
from chainrule.errors import FileFormatError, InputTypeError
from chainrule.io import STRUCTURE_KEY, save_arrays


def _same(a, b):
    """Equal values of equal types, recursively (arrays: dtype, shape and bits)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, cr.Tensor):
        assert a.dtype == b.dtype and a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b)
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


NESTED = {
    "weights": OrderedDict([("layer.weight", np.arange(6, dtype=np.float32).reshape(2, 3)),
                            ("layer.bias", np.zeros(2, np.float16))]),
    "numbers": [0, -7, 2**80, 1.5, -0.0, float("inf"), float("nan"), 1e-300, 2 + 3j],
    "flags": (True, False, None),
    "text": ["", "ünïcödé ✓", "with \"quotes\" and\nnewlines"],
    "arrays": [np.array(3.25), np.array([True, False]), np.array(["ab", "c"]),
               np.arange(4, dtype=np.uint8), np.zeros((0, 3)), np.array([1 + 2j], np.complex64),
               np.datetime64("2024-06-16")],
    "scalars": [np.float32(1.5), np.int64(-3), np.bool_(True), np.complex128(1j)],
    3: "an int key",
    (1, "a"): "a tuple key",
    None: "a None key",
    2.5: [[], {}, ()],
}


def test_nested_containers_round_trip_exactly(tmp_path):
    path = tmp_path / "nested.crt"
    cr.save(NESTED, path)
    _same(NESTED, cr.load(path))


def test_tensors_come_back_as_tensors_and_parameters_as_parameters(tmp_path):
    x = cr.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = (x * 3).sum()  # a computed tensor: saved as its value, back as a leaf
    p = nn.Parameter(np.ones((2, 2)))
    constant = cr.tensor(np.array([4, 5]))
    cr.save({"x": x, "y": y, "p": p, "c": constant}, tmp_path / "t.crt")
    loaded = cr.load(tmp_path / "t.crt")
    assert isinstance(loaded["x"], cr.Tensor) and loaded["x"].requires_grad
    assert loaded["x"].dtype == np.float32 and loaded["x"].is_leaf
    assert loaded["y"].is_leaf and float(loaded["y"].detach()) == 9.0
    assert isinstance(loaded["p"], nn.Parameter) and loaded["p"].requires_grad
    assert not loaded["c"].requires_grad and loaded["c"].dtype == constant.dtype
    assert loaded["x"] is not x


def test_file_objects_and_plain_npz_files(tmp_path):
    buffer = io.BytesIO()
    cr.save({"a": [1, 2]}, buffer)
    buffer.seek(0)
    assert cr.load(buffer) == {"a": [1, 2]}
    save_arrays(tmp_path / "plain.npz", {"w": np.ones(2)})
    loaded = cr.load(tmp_path / "plain.npz")
    assert list(loaded) == ["w"] and loaded["w"].tolist() == [1.0, 1.0]
    assert cr.load(tmp_path / "plain.npz", map_location="cpu", weights_only=True)
    with pytest.raises(ValueError, match="map_location"):
        cr.load(tmp_path / "plain.npz", map_location="cuda:0")


def test_the_file_is_an_npz_of_plain_arrays_and_a_json_structure(tmp_path):
    path = tmp_path / "f.crt"
    cr.save({"w": np.ones(2), "name": "mlp"}, path)
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    with np.load(path, allow_pickle=False) as archive:  # nothing needs unpickling
        entries = {name: archive[name] for name in archive.files}
    structure = json.loads(bytes(entries[STRUCTURE_KEY]).decode("utf-8"))
    assert structure["format"] == "chainrule.save"
    assert "mlp" in json.dumps(structure)  # strings live in the JSON, not in arrays


# ----- refusals ----------------------------------------------------------------------------------
class _Thing:
    pass


@pytest.mark.parametrize("obj, message", [
    (nn.Linear(2, 2), r"Module \(Linear\).*model.state_dict\(\)"),
    ({"model": nn.Sequential(nn.ReLU())}, r"obj\['model'\] is a Module"),
    (optim.SGD([nn.Parameter(np.ones(1))], lr=0.1), r"optimiser.*state_dict\(\)"),
    ([1, _Thing()], r"obj\[1\] is a _Thing.*never pickles"),
    ({1, 2}, "a set"),
    (np.array([object()]), "dtype object"),
    (defaultdict(list), "defaultdict.*plain dict"),
    ({object(): 1}, "has a key"),
    (lambda: 0, "function"),
])
def test_other_objects_are_refused_with_a_clear_error(tmp_path, obj, message):
    path = tmp_path / "refused.crt"
    with pytest.raises(InputTypeError, match=message):
        cr.save(obj, path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_a_container_holding_itself_is_refused(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        cr.save(loop, tmp_path / "loop.crt")
    shared = [1]
    cr.save([shared, shared], tmp_path / "shared.crt")  # the same object twice is fine
    assert cr.load(tmp_path / "shared.crt") == [[1], [1]]


def test_a_failed_save_keeps_the_earlier_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.crt"
    cr.save({"epoch": 1}, path)

    def broken(handle, **arrays):
        handle.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        cr.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert cr.load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.crt"]  # no temporary file left behind


# ----- corrupt files -----------------------------------------------------------------------------
def _rewrite(path, change):
    with np.load(path, allow_pickle=False) as archive:
        entries = {name: archive[name] for name in archive.files}
    change(entries)
    with open(path, "wb") as handle:
        np.savez(handle, **entries)


def _structure(entries):
    return json.loads(bytes(entries[STRUCTURE_KEY]).decode("utf-8"))


def _set_structure(entries, structure):
    entries[STRUCTURE_KEY] = np.frombuffer(json.dumps(structure).encode(), np.uint8)


def _drop_array(entries):
    del entries["a0"]


def _extra_array(entries):
    entries["a9"] = np.ones(1)


def _bad_json(entries):
    entries[STRUCTURE_KEY] = np.frombuffer(b"{not json", np.uint8)


def _unknown_node(entries):
    structure = _structure(entries)
    structure["root"] = {"t": "pickle", "v": "cos\nsystem"}
    _set_structure(entries, structure)


def _other_version(entries):
    structure = _structure(entries)
    structure["version"] = 99
    _set_structure(entries, structure)


def _wrong_value_type(entries):
    structure = _structure(entries)
    structure["root"]["items"][1][1] = {"t": "int", "v": "seven"}
    _set_structure(entries, structure)


@pytest.mark.parametrize("change", [_drop_array, _extra_array, _bad_json, _unknown_node,
                                    _other_version, _wrong_value_type])
def test_a_corrupt_structure_raises_file_format_error(tmp_path, change):
    path = tmp_path / "f.crt"
    cr.save({"w": np.ones(3), "n": 7}, path)
    _rewrite(path, change)
    with pytest.raises(FileFormatError, match="cannot read"):
        cr.load(path)


def test_truncated_garbage_and_pickled_files_raise_file_format_error(tmp_path):
    path = tmp_path / "f.crt"
    cr.save({"w": np.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError):
        cr.load(path)
    path.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(FileFormatError):
        cr.load(path)
    path.write_bytes(pickle.dumps({"w": np.ones(2)}))
    with pytest.raises(FileFormatError, match="pickled"):
        cr.load(path)
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF  # one flipped bit inside an array: the CRC catches it
    path.write_bytes(bytes(flipped))
    with pytest.raises(FileFormatError):
        cr.load(path)
    with pytest.raises(FileNotFoundError):
        cr.load(tmp_path / "missing.crt")


# ----- a whole training state --------------------------------------------------------------------
def _model(seed):
    return nn.Sequential(nn.Linear(4, 8, rng=seed), nn.BatchNorm1d(8), nn.Tanh(),
                         nn.Linear(8, 3, rng=seed + 1))


def _optimizer(model):
    body = [p for name, p in model.named_parameters() if not name.startswith("3.")]
    return optim.AdamW([{"params": body}, {"params": model[3].parameters(), "lr": 3e-3}],
                       lr=1e-2, amsgrad=True)


def _step(model, optimizer, scheduler, x, y):
    optimizer.zero_grad()
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)(model(cr.tensor(x)), y)
    loss.backward()
    optimizer.step()
    scheduler.step()
    return float(loss.detach())


def test_model_optimizer_and_schedule_round_trip_gives_identical_next_steps(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(16, 4)).astype(np.float32), rng.integers(0, 3, size=16)
    model = _model(0)
    optimizer = _optimizer(model)
    scheduler = optim.lr_scheduler.warmup_cosine(optimizer, warmup_steps=2, total_steps=10)
    model.train()
    for _ in range(3):
        _step(model, optimizer, scheduler, x, y)
    path = tmp_path / "checkpoint.crt"
    cr.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": 3, "note": "after warm-up"}, path)

    fresh = _model(7)  # other initial weights: everything must come from the file
    fresh_optimizer = _optimizer(fresh)
    fresh_scheduler = optim.lr_scheduler.warmup_cosine(fresh_optimizer, 2, 10)
    checkpoint = cr.load(path)
    fresh.load_state_dict(checkpoint["model"])
    fresh_optimizer.load_state_dict(checkpoint["optimizer"])
    fresh_scheduler.load_state_dict(checkpoint["scheduler"])
    assert checkpoint["epoch"] == 3 and checkpoint["note"] == "after warm-up"
    assert "1.running_mean" in checkpoint["model"]

    for _ in range(3):
        assert _step(model, optimizer, scheduler, x, y) == \
            _step(fresh, fresh_optimizer, fresh_scheduler, x, y)
    for (name, value), (_, other) in zip(model.state_dict().items(),
                                         fresh.state_dict().items()):
        np.testing.assert_array_equal(value, other, err_msg=name)
    assert optimizer.param_groups[1]["lr"] == fresh_optimizer.param_groups[1]["lr"]
    model.eval()
    fresh.eval()
    np.testing.assert_array_equal(model(cr.tensor(x)).numpy(), fresh(cr.tensor(x)).numpy())
