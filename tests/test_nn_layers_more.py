"""The layers PyTorch users reach for beyond the basics: Conv1d, ConvTranspose2d, MaxPool1d,
AdaptiveAvgPool2d, GroupNorm, Dropout2d, LeakyReLU, ELU, SiLU, Softplus, Mish, Hardtanh,
ModuleList and ModuleDict.

Their outputs and gradients are checked against PyTorch's (tests/fixtures/torch_layers.npz,
written by tools/make_torch_fixtures_layers.py): each fixture's state_dict loads into
chainrule's layer of the same name and arguments, so names, shapes and layouts are PyTorch's.
Derivatives are also checked against finite differences, in both modes, and a layer with
parameters refuses input of another dtype."""

import json
import pathlib
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.errors import DTypeError, ShapeError
from chainrule.nn import functional as F

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "torch_layers.npz"
DATA = np.load(FIXTURE)
META = json.loads(bytes(DATA["meta"]).decode("utf-8"))


def _tuples(value):
    """JSON lists back to the tuples the fixture writer passed."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _layer(case):
    spec = META[case]
    return getattr(nn, spec["layer"])(*_tuples(spec["args"]), **_tuples(spec["kwargs"]))


def _np(value):
    return np.asarray(value.numpy() if isinstance(value, cr.Tensor) else value)


# ----- against PyTorch ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(META))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_layer_matches_pytorch(case, dtype):
    spec = META[case]
    layer = _layer(case).to(dtype)
    assert list(layer.state_dict()) == spec["state"]  # PyTorch's names, in PyTorch's order
    result = layer.load_state_dict({key: DATA[f"{case}.state.{key}"] for key in spec["state"]})
    assert result.missing_keys == [] and result.unexpected_keys == []
    layer.train(spec["train"])
    x = DATA[f"{case}.input"]
    floating = x.dtype.kind == "f"
    x = cr.tensor(x.astype(dtype) if floating else x, requires_grad=floating)
    out = layer(x)
    assert out.dtype == dtype
    tolerance = dict(rtol=1e-5, atol=1e-9) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(out), DATA[f"{case}.output"], **tolerance)
    out.sum().backward()
    if floating:
        np.testing.assert_allclose(_np(x.grad), DATA[f"{case}.grad_input"], **tolerance)
    for name in spec["grads"]:
        np.testing.assert_allclose(_np(layer.get_parameter(name).grad),
                                   DATA[f"{case}.grad.{name}"], err_msg=name, **tolerance)
    after = [key for key in DATA.files if key.startswith(f"{case}.after.")]
    for key in after:  # BatchNorm's running statistics after a training step
        name = key[len(f"{case}.after."):]
        np.testing.assert_allclose(layer.state_dict()[name], DATA[key], err_msg=name,
                                   **tolerance)


def test_the_fixture_is_small_and_covers_every_new_layer():
    assert FIXTURE.stat().st_size < 200_000
    covered = {spec["layer"] for spec in META.values()}
    for name in ["Conv1d", "ConvTranspose2d", "MaxPool1d", "AdaptiveAvgPool2d", "GroupNorm",
                 "Dropout2d", "LeakyReLU", "ELU", "SiLU", "Softplus", "Mish", "Hardtanh"]:
        assert name in covered


# ----- derivatives against finite differences ----------------------------------------------------
_R = np.random.default_rng(3)
_W1 = _R.standard_normal((4, 2, 3))
_W2 = _R.standard_normal((4, 3, 3, 2))
_WT = _R.standard_normal((4, 3, 3, 2))

FUNCTIONS = {
    "conv1d": (lambda x: F.conv1d(x, _W1, stride=2, padding=1, dilation=2, groups=2),
               (2, 4, 9)),
    "conv1d_same": (lambda x: F.conv1d(x, _W1[:, :1], padding="same"), (1, 1, 6)),
    "conv2d_grouped": (lambda x: F.conv2d(x, _W2, stride=(2, 1), padding=1, groups=2),
                       (1, 6, 5, 4)),
    "conv_transpose2d": (lambda x: F.conv_transpose2d(x, _WT, stride=2, padding=1,
                                                      output_padding=1), (1, 4, 3, 2)),
    "conv_transpose2d_grouped": (lambda x: F.conv_transpose2d(x, _WT, stride=(1, 2),
                                                              groups=2, dilation=2),
                                 (1, 4, 2, 3)),
    "max_pool1d": (lambda x: F.max_pool1d(x, 3, stride=2, padding=1, ceil_mode=True),
                   (2, 2, 8)),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), (1, 2, 5, 4)),
    "group_norm": (lambda x: F.group_norm(x, 2, np.arange(1.0, 5.0), np.ones(4)),
                   (2, 4, 3)),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), (3, 4)),
    "elu": (lambda x: F.elu(x, 0.5), (3, 4)),
    "silu": (F.silu, (3, 4)),
    "softplus": (lambda x: F.softplus(x * 3, beta=2.0, threshold=4.0), (3, 4)),
    "mish": (F.mish, (3, 4)),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 0.5), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_derivatives_match_finite_differences(name):
    function, shape = FUNCTIONS[name]
    x = np.random.default_rng(len(name)).standard_normal(shape)
    x[np.abs(x) < 0.05] += 0.1  # away from kinks
    x[np.abs(np.abs(x) - 0.5) < 0.05] += 0.1
    assert cr.gradcheck(function, x)


@pytest.mark.parametrize("name", ["conv1d", "conv_transpose2d", "elu", "mish",
                                  "group_norm"])
def test_second_derivatives_match_finite_differences(name):
    function, shape = FUNCTIONS[name]
    x = np.random.default_rng(1).standard_normal(shape)
    assert cr.gradcheck(lambda x: cr.grad(lambda y: (function(y) ** 2).sum())(x), x)


def test_layers_work_under_vmap_and_functional_call():
    layer = nn.Conv1d(2, 3, 3, dtype=np.float64, rng=0)
    x = np.random.default_rng(0).standard_normal((4, 2, 7))
    per_example = cr.vmap(lambda xi: layer(xi[None])[0])(x)
    np.testing.assert_allclose(_np(per_example), _np(layer(x)), rtol=1e-12)
    grads = cr.grad(lambda p: nn.functional_call(layer, p, (x,)).sum())(layer.parameters_dict())
    assert sorted(grads) == ["bias", "weight"] and grads["weight"].shape == (3, 2, 3)


# ----- activations at the edges ------------------------------------------------------------------
def test_activation_gradients_at_their_kinks_are_pytorchs():
    zero = np.zeros(1)
    assert float(cr.grad(lambda x: F.leaky_relu(x, 0.3).sum())(zero)[0]) == pytest.approx(0.3)
    assert float(cr.grad(lambda x: F.elu(x, 0.5).sum())(zero)[0]) == pytest.approx(0.5)
    ends = np.array([-1.0, 1.0])
    np.testing.assert_array_equal(cr.grad(lambda x: F.hardtanh(x).sum())(ends), [0.0, 0.0])
    np.testing.assert_array_equal(cr.grad(lambda x: F.hardtanh(x).sum())(ends * 0.5),
                                  [1.0, 1.0])


def test_activations_stay_finite_for_huge_inputs():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    for function in (F.elu, F.silu, F.mish, F.softplus, F.leaky_relu):
        value = function(x)
        gradient = cr.grad(lambda v, f=function: f(v).sum())(x)
        assert np.all(np.isfinite(_np(value))) and np.all(np.isfinite(gradient)), function
    # softplus is x itself above the threshold, its gradient exactly 1
    np.testing.assert_array_equal(_np(F.softplus(x[3:])), x[3:])
    np.testing.assert_array_equal(cr.grad(lambda v: F.softplus(v).sum())(x[3:]), 1.0)


def test_activations_keep_float32():
    x = np.linspace(-3, 3, 7, dtype=np.float32)
    for module in (nn.LeakyReLU(), nn.ELU(), nn.SiLU(), nn.Softplus(beta=2.0), nn.Mish(),
                   nn.Hardtanh()):
        assert _np(module(cr.tensor(x))).dtype == np.float32, module


def test_activation_modules_take_pytorchs_arguments():
    assert nn.LeakyReLU(0.2, inplace=True).negative_slope == 0.2
    assert nn.Hardtanh(min_value=-2.0, max_value=3.0).max_val == 3.0
    assert repr(nn.Softplus(beta=2)) == "Softplus(beta=2.0, threshold=20.0)"
    with pytest.raises(ValueError, match="greater"):
        nn.Hardtanh(1.0, -1.0)


# ----- Dropout2d ---------------------------------------------------------------------------------
def test_dropout2d_zeros_whole_channels_and_scales_the_rest():
    x = np.ones((20, 30, 4, 4), np.float32)
    out = _np(nn.Dropout2d(0.25, rng=0)(x))
    per_channel = out.reshape(20, 30, -1)
    assert np.all(per_channel.min(axis=2) == per_channel.max(axis=2))  # all or nothing
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.15 < np.mean(out == 0) < 0.35
    np.testing.assert_array_equal(_np(nn.Dropout2d(0.25, rng=0)(x)), out)  # seeded
    np.testing.assert_array_equal(_np(nn.Dropout2d(0.25).eval()(x)), x)
    assert out.dtype == np.float32


def test_dropout2d_gives_each_example_its_own_mask_under_vmap():
    x = np.ones((8, 6, 2, 2))
    out = _np(cr.vmap(lambda xi: F.dropout2d(xi, 0.5, rng=0))(x))
    assert out.shape == x.shape
    masks = out[:, :, 0, 0]
    assert len({tuple(row) for row in masks}) > 1


# ----- shapes, arguments and messages ------------------------------------------------------------
def test_conv_transpose2d_output_size_picks_output_padding():
    layer = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, dtype=np.float64)
    x = np.zeros((1, 2, 4, 4))
    assert layer(x).shape == (1, 3, 7, 7)
    assert layer(x, output_size=(8, 8)).shape == (1, 3, 8, 8)
    with pytest.raises(ValueError, match="out of reach"):
        layer(x, output_size=(10, 10))
    with pytest.raises(ValueError, match="smaller than the stride"):
        nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=2)


def test_layers_check_their_arguments_and_inputs():
    with pytest.raises(ValueError, match="groups=3 must divide"):
        nn.Conv1d(4, 6, 3, groups=3)
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv2d(2, 2, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="num_groups=3 must divide"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="at most half"):
        nn.MaxPool1d(2, padding=2)(np.zeros((1, 1, 6)))
    with pytest.raises(ValueError, match="return_indices"):
        nn.MaxPool1d(2, return_indices=True)
    with pytest.raises(ShapeError, match=r"Conv1d\(2, 3.*\(N, 2, L\), got \(1, 3, 5\)"):
        nn.Conv1d(2, 3, 3)(np.zeros((1, 3, 5), np.float32))
    with pytest.raises(ShapeError, match=r"GroupNorm.*\(N, 4, \.\.\.\)"):
        nn.GroupNorm(2, 4)(np.zeros((2, 3), np.float32))
    with pytest.raises(ShapeError, match="does not fit"):
        F.conv1d(np.zeros((1, 1, 2)), np.zeros((1, 1, 3)))


def test_reprs_follow_pytorch():
    assert repr(nn.Conv1d(2, 3, 3)) == "Conv1d(2, 3, kernel_size=(3,), stride=(1,))"
    assert repr(nn.ConvTranspose2d(2, 3, 3, stride=2, output_padding=1, bias=False)) == (
        "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1), "
        "bias=False)")
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True)"
    assert repr(nn.AdaptiveAvgPool2d((2, 2))) == "AdaptiveAvgPool2d(output_size=(2, 2))"


def test_state_dict_shapes_are_pytorchs():
    shapes = {name: value.shape for name, value in nn.ConvTranspose2d(
        4, 6, (3, 2), groups=2).state_dict().items()}
    assert shapes == {"weight": (4, 3, 3, 2), "bias": (6,)}
    shapes = {name: value.shape for name, value in nn.Conv1d(4, 6, 5, groups=2).state_dict()
              .items()}
    assert shapes == {"weight": (6, 2, 5), "bias": (6,)}
    assert list(nn.GroupNorm(2, 4, affine=False).state_dict()) == []


# ----- dtypes ------------------------------------------------------------------------------------
LAYERS_WITH_PARAMETERS = [
    (lambda: nn.Linear(3, 2), (4, 3)),
    (lambda: nn.Conv1d(2, 3, 3), (1, 2, 5)),
    (lambda: nn.Conv2d(2, 3, 3), (1, 2, 5, 5)),
    (lambda: nn.ConvTranspose2d(2, 3, 3), (1, 2, 3, 3)),
    (lambda: nn.BatchNorm1d(3), (4, 3)),
    (lambda: nn.BatchNorm2d(2), (2, 2, 3, 3)),
    (lambda: nn.LayerNorm(3), (4, 3)),
    (lambda: nn.GroupNorm(1, 2), (2, 2, 3)),
]


@pytest.mark.parametrize("index", range(len(LAYERS_WITH_PARAMETERS)))
def test_a_float32_layer_refuses_float64_and_integer_input_with_the_fix(index):
    make, shape = LAYERS_WITH_PARAMETERS[index]
    layer = make()
    name = type(layer).__name__
    with pytest.raises(DTypeError, match=rf"{name}\(.*float32 parameters but got float64 "
                                         r"input.*x.astype\(np.float32\).*model.to\("
                                         r"np.float64\).*model.double\(\)"):
        layer(np.zeros(shape))
    with pytest.raises(DTypeError, match=rf"{name}\(.*expects floating-point input "
                                         r"\(float32.*got int64.*x.astype\(np.float32\)"):
        layer(np.zeros(shape, np.int64))
    with pytest.raises(DTypeError, match="float64"):  # traced inputs are checked too
        cr.grad(lambda x: layer(x).sum())(np.zeros(shape))
    assert layer(np.zeros(shape, np.float32)).dtype == np.float32
    assert layer.double()(np.zeros(shape)).dtype == np.float64


def test_a_model_names_its_first_layer_when_it_gets_the_wrong_dtype():
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(DTypeError, match=r"Linear\(in_features=4"):
        model(np.zeros((3, 2, 2)))


# ----- containers --------------------------------------------------------------------------------
def test_module_list_registers_indexes_and_renumbers():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    owner = nn.Module()
    owner.layers = layers
    assert list(owner.state_dict())[:2] == ["layers.0.weight", "layers.0.bias"]
    assert len(layers) == 3 and layers[-1] is layers[2]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 2
    third = layers[2]
    del layers[0]
    assert [n for n, _ in layers.named_children()] == ["0", "1"] and layers[1] is third
    layers.insert(0, nn.ReLU())
    assert isinstance(layers[0], nn.ReLU) and layers[2] is third
    layers.append(nn.Tanh()).extend([nn.Sigmoid()])
    assert [type(m).__name__ for m in layers] == ["ReLU", "Linear", "Linear", "Tanh",
                                                  "Sigmoid"]
    assert layers.pop().__class__ is nn.Sigmoid and len(layers) == 4
    layers[0] = nn.GELU()
    assert isinstance(layers.get_submodule("0"), nn.GELU)
    layers += [nn.Identity()]
    assert len(layers) == 5 and len(layers + nn.ModuleList([nn.ReLU()])) == 6
    with pytest.raises(IndexError):
        layers[5]
    with pytest.raises(TypeError, match="position 0"):
        nn.ModuleList([lambda x: x])
    with pytest.raises(NotImplementedError, match="iterate"):
        layers(np.zeros(2))


def test_module_dict_keeps_insertion_order_and_registers():
    heads = nn.ModuleDict({"cls": nn.Linear(2, 3), "reg": nn.Linear(2, 1)})
    assert list(heads) == ["cls", "reg"] and "cls" in heads and len(heads) == 2
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "reg.weight", "reg.bias"]
    heads["aux"] = nn.ReLU()
    heads.update([("reg", nn.Linear(2, 2))])
    assert list(heads.keys()) == ["cls", "reg", "aux"] and heads["reg"].out_features == 2
    assert heads.pop("aux").__class__ is nn.ReLU and "aux" not in heads
    del heads["cls"]
    assert [k for k, _ in heads.items()] == ["reg"]
    with pytest.raises(KeyError, match="already exists"):
        heads["train"] = nn.ReLU()
    with pytest.raises(TypeError, match="key 'x'"):
        heads["x"] = np.zeros(2)
    heads.clear()
    assert len(heads) == 0 and list(heads.state_dict()) == []


def test_sequential_takes_an_ordered_dict_slices_and_appends():
    model = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert list(model.state_dict()) == ["fc.weight", "fc.bias"]
    head = model[:1]
    assert isinstance(head, nn.Sequential) and list(head.state_dict()) == ["fc.weight",
                                                                          "fc.bias"]
    model.append(nn.Linear(3, 1))
    assert model(np.ones((4, 2), np.float32)).shape == (4, 1)
    del model[1]  # as PyTorch, the layers left are renumbered
    assert [type(m).__name__ for m in model] == ["Linear", "Linear"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert isinstance(model.pop(), nn.Linear) and len(model) == 1
