"""A module's state survives everything a user does to it: training-mode forward passes,
attribute reassignment, state_dict/load_state_dict round trips, copy.deepcopy and pickle. The
first test walks every Module class exported by chainrule.nn (a new one must be added to
TABLE below, or the walk fails). Then the Module API that PyTorch users call:
named_modules and friends, apply, requires_grad_, hooks, add_module, get_submodule."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.optim as optim
from chainrule.errors import DTypeError

_RNG = np.random.default_rng(0)


def _f32(*shape, low=None):
    values = _RNG.standard_normal(shape)
    if low is not None:
        values = _RNG.uniform(low, 1.0 - low, shape)
    return values.astype(np.float32)


def _labels(n, classes):
    return _RNG.integers(0, classes, n)


def _encoder_layer():
    return nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0)


# name -> (constructor with small arguments, inputs of one forward pass or None for a module
# without one). Entries for modules not (yet) exported are ignored.
TABLE = {
    "Module": (lambda: nn.Module(), None),
    "Sequential": (lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU()),
                   lambda: (_f32(5, 3),)),
    "ModuleList": (lambda: nn.ModuleList([nn.Linear(3, 3), nn.BatchNorm1d(3)]), None),
    "ModuleDict": (lambda: nn.ModuleDict({"fc": nn.Linear(3, 3), "bn": nn.BatchNorm1d(3)}),
                   None),
    "Linear": (lambda: nn.Linear(3, 2), lambda: (_f32(4, 3),)),
    "Conv1d": (lambda: nn.Conv1d(2, 3, 3, padding=1), lambda: (_f32(2, 2, 6),)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3), lambda: (_f32(2, 2, 5, 5),)),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(2, 3, 3, stride=2),
                        lambda: (_f32(2, 2, 3, 3),)),
    "MaxPool1d": (lambda: nn.MaxPool1d(2), lambda: (_f32(2, 2, 6),)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), lambda: (_f32(2, 2, 4, 4),)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), lambda: (_f32(2, 2, 4, 4),)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: (_f32(2, 2, 5, 7),)),
    "Flatten": (lambda: nn.Flatten(), lambda: (_f32(2, 2, 3),)),
    "Dropout": (lambda: nn.Dropout(0.3, rng=0), lambda: (_f32(4, 5),)),
    "Dropout2d": (lambda: nn.Dropout2d(0.3, rng=0), lambda: (_f32(2, 3, 2, 2),)),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(3), lambda: (_f32(5, 3),)),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(2), lambda: (_f32(3, 2, 2, 2),)),
    "LayerNorm": (lambda: nn.LayerNorm(4), lambda: (_f32(3, 4),)),
    "GroupNorm": (lambda: nn.GroupNorm(2, 4), lambda: (_f32(3, 4, 2),)),
    "Embedding": (lambda: nn.Embedding(5, 3), lambda: (_labels(4, 5),)),
    "Identity": (lambda: nn.Identity(), lambda: (_f32(2, 3),)),
    "ReLU": (lambda: nn.ReLU(), lambda: (_f32(2, 3),)),
    "Tanh": (lambda: nn.Tanh(), lambda: (_f32(2, 3),)),
    "Sigmoid": (lambda: nn.Sigmoid(), lambda: (_f32(2, 3),)),
    "GELU": (lambda: nn.GELU(), lambda: (_f32(2, 3),)),
    "Softmax": (lambda: nn.Softmax(dim=1), lambda: (_f32(2, 3),)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), lambda: (_f32(2, 3),)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.1), lambda: (_f32(2, 3),)),
    "ELU": (lambda: nn.ELU(), lambda: (_f32(2, 3),)),
    "SiLU": (lambda: nn.SiLU(), lambda: (_f32(2, 3),)),
    "Softplus": (lambda: nn.Softplus(beta=2.0), lambda: (_f32(2, 3),)),
    "Mish": (lambda: nn.Mish(), lambda: (_f32(2, 3),)),
    "Hardtanh": (lambda: nn.Hardtanh(), lambda: (_f32(2, 3),)),
    # losses (another part of the package; the bookkeeping is the same)
    "MSELoss": (lambda: nn.MSELoss(), lambda: (_f32(4, 2), _f32(4, 2))),
    "L1Loss": (lambda: nn.L1Loss(), lambda: (_f32(4, 2), _f32(4, 2))),
    "SmoothL1Loss": (lambda: nn.SmoothL1Loss(), lambda: (_f32(4, 2), _f32(4, 2))),
    "HuberLoss": (lambda: nn.HuberLoss(), lambda: (_f32(4, 2), _f32(4, 2))),
    "NLLLoss": (lambda: nn.NLLLoss(weight=np.ones(3, np.float32)),
                lambda: (_f32(4, 3), _labels(4, 3))),
    "CrossEntropyLoss": (lambda: nn.CrossEntropyLoss(weight=np.ones(3, np.float32)),
                         lambda: (_f32(4, 3), _labels(4, 3))),
    "BCELoss": (lambda: nn.BCELoss(), lambda: (_f32(4, 2, low=0.1), _f32(4, 2, low=0.1))),
    "BCEWithLogitsLoss": (lambda: nn.BCEWithLogitsLoss(pos_weight=np.ones(2, np.float32)),
                          lambda: (_f32(4, 2), _f32(4, 2, low=0.1))),
    "KLDivLoss": (lambda: nn.KLDivLoss(reduction="batchmean"),
                  lambda: (_f32(4, 3), _f32(4, 3, low=0.1))),
    # sequences and attention (another part of the package)
    "RNN": (lambda: nn.RNN(3, 4), lambda: (_f32(5, 2, 3),)),
    "LSTM": (lambda: nn.LSTM(3, 4, num_layers=2), lambda: (_f32(5, 2, 3),)),
    "GRU": (lambda: nn.GRU(3, 4, bidirectional=True), lambda: (_f32(5, 2, 3),)),
    "RNNCell": (lambda: nn.RNNCell(3, 4), lambda: (_f32(2, 3),)),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), lambda: (_f32(2, 3),)),
    "GRUCell": (lambda: nn.GRUCell(3, 4), lambda: (_f32(2, 3),)),
    "MultiheadAttention": (lambda: nn.MultiheadAttention(4, 2),
                           lambda: (_f32(3, 2, 4), _f32(3, 2, 4), _f32(3, 2, 4))),
    "TransformerEncoderLayer": (_encoder_layer, lambda: (_f32(3, 2, 4),)),
    "TransformerEncoder": (lambda: nn.TransformerEncoder(_encoder_layer(), num_layers=2),
                           lambda: (_f32(3, 2, 4),)),
}

EXPORTED_MODULES = sorted(
    name for name in nn.__all__
    if isinstance(getattr(nn, name), type) and issubclass(getattr(nn, name), nn.Module)
)


def _arrays(output):
    """Every array in a forward pass's output (a Tensor, or tuples and lists of them)."""
    if isinstance(output, (tuple, list)):
        return [a for item in output for a in _arrays(item)]
    if output is None:
        return []
    return [np.asarray(output.numpy() if isinstance(output, cr.Tensor) else output)]


def _owner_and_attribute(module, dotted):
    prefix, _, attribute = dotted.rpartition(".")
    return module.get_submodule(prefix), attribute


def _assert_same_state(a, b):
    state_a, state_b = a.state_dict(), b.state_dict()
    assert list(state_a) == list(state_b)
    for name in state_a:
        assert state_a[name].dtype == state_b[name].dtype, name
        np.testing.assert_array_equal(state_a[name], state_b[name], err_msg=name)


def _assert_same_output(a, b, inputs):
    if inputs is None:
        return
    a.eval()
    b.eval()
    arguments = inputs()
    for x, y in zip(_arrays(a(*arguments)), _arrays(b(*arguments)), strict=True):
        np.testing.assert_array_equal(x, y)


def _registered(module):
    return (list(module.state_dict()), [n for n, _ in module.named_buffers()],
            [n for n, _ in module.named_parameters()])


def test_the_table_names_every_exported_module():
    missing = [name for name in EXPORTED_MODULES if name not in TABLE]
    assert not missing, (f"add these modules of chainrule.nn to TABLE in {__file__} (small "
                         f"constructor arguments and one forward pass's inputs): {missing}")


@pytest.mark.parametrize("name", EXPORTED_MODULES)
def test_every_module_keeps_its_state(name):
    assert name in TABLE, f"add {name} to TABLE in tests/test_nn_state.py"
    make, inputs = TABLE[name]
    module = make()
    registered = _registered(module)

    # Training-mode forward passes (BatchNorm reassigns its running statistics).
    module.train()
    if inputs is not None:
        module(*inputs())
        module(*inputs())
    assert _registered(module) == registered

    # Reassigning every parameter and buffer keeps it registered.
    for dotted, parameter in list(module.named_parameters()):
        owner, attribute = _owner_and_attribute(module, dotted)
        setattr(owner, attribute, nn.Parameter(parameter.numpy()))
        with pytest.raises(TypeError, match="nn.Parameter or None expected"):
            setattr(owner, attribute, parameter.numpy())
    for dotted, value in list(module.named_buffers()):
        owner, attribute = _owner_and_attribute(module, dotted)
        setattr(owner, attribute, np.array(value, copy=True))
    assert _registered(module) == registered

    # state_dict -> load_state_dict into a fresh instance: the same state, the same function.
    state = module.state_dict()
    for key, value in state.items():
        if value.dtype.kind == "f":
            state[key] = (value + _RNG.uniform(0.1, 0.5, value.shape)).astype(value.dtype)
    module.load_state_dict(state)
    fresh = make()
    result = fresh.load_state_dict(module.state_dict())
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    _assert_same_state(module, fresh)
    _assert_same_output(module, fresh, inputs)

    # deepcopy and pickle: equal, independent, Parameters still Parameters, buffers buffers.
    for clone in (copy.deepcopy(module), pickle.loads(pickle.dumps(module))):
        assert _registered(clone) == registered
        _assert_same_state(module, clone)
        _assert_same_output(module, clone, inputs)
        for (_, original), (_, copied) in zip(module.named_parameters(),
                                              clone.named_parameters(), strict=True):
            assert type(copied) is nn.Parameter and copied is not original
        for dotted, _ in clone.named_buffers():
            owner, attribute = _owner_and_attribute(clone, dotted)
            assert getattr(owner, attribute) is not getattr(*_owner_and_attribute(module, dotted))
        clone.train()
        if inputs is not None:
            clone(*inputs())
        assert _registered(clone) == registered

    # A layer with parameters refuses input of another floating dtype, naming the fix...
    parameters = module.parameters()
    floating_input = inputs is not None and inputs()[0].dtype.kind == "f"
    if parameters and floating_input:
        arguments = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in inputs()]
        with pytest.raises(DTypeError, match=r"float32.*float64.*astype\(np.float32\)"):
            module(*arguments)
    # ... and after .double() computes in float64, with the same Parameter objects.
    module.double()
    assert all(a is b for a, b in zip(module.parameters(), parameters, strict=True))
    assert all(p.dtype == np.float64 for p in parameters if p.dtype.kind == "f")
    assert all(v.dtype == np.float64 for _, v in module.named_buffers() if v.dtype.kind == "f")
    if floating_input:
        arguments = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in inputs()]
        outputs = _arrays(module(*arguments))
        assert all(o.dtype == np.float64 for o in outputs if o.dtype.kind == "f")
    assert _registered(module) == registered


# ----- the bug of issue 16 ---------------------------------------------------------------------
def test_batchnorm_running_statistics_stay_in_the_state_dict_after_training():
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    model.train()
    x = _f32(8, 3)
    model(x)
    model(x)
    expected = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                "1.num_batches_tracked"]
    assert list(model.state_dict()) == expected
    assert [n for n, _ in model.named_buffers()] == expected[4:]
    assert int(model.state_dict()["1.num_batches_tracked"]) == 2
    assert model.state_dict()["1.num_batches_tracked"].dtype == np.int64
    # A saved model reloads strictly and evaluates identically.
    copy_ = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    copy_.load_state_dict(model.state_dict())
    model.eval()
    copy_.eval()
    np.testing.assert_array_equal(model(x).numpy(), copy_(x).numpy())


def test_batchnorm_momentum_none_is_a_cumulative_average():
    layer = nn.BatchNorm1d(2, momentum=None)
    batches = [_f32(6, 2) for _ in range(3)]
    for batch in batches:
        layer(batch)
    expected = np.mean([b.mean(axis=0) for b in batches], axis=0)
    np.testing.assert_allclose(layer.running_mean, expected, rtol=1e-5)


def test_batchnorm_without_running_statistics_has_no_buffers():
    layer = nn.BatchNorm1d(3, track_running_stats=False, affine=False)
    assert list(layer.state_dict()) == []
    x = _f32(5, 3)
    out = np.asarray(layer.eval()(x))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)  # batch statistics in eval


# ----- registration semantics ------------------------------------------------------------------
def test_a_buffer_set_to_none_stays_registered_but_leaves_the_state_dict():
    layer = nn.BatchNorm1d(2)
    layer.running_mean = None
    assert "running_mean" not in layer.state_dict()
    layer.running_mean = np.zeros(2, np.float32)
    assert list(layer.state_dict())[2] == "running_mean"


def test_non_persistent_buffers_are_buffers_but_not_state():
    module = nn.Module()
    module.register_buffer("mask", np.tril(np.ones((3, 3))), persistent=False)
    module.register_buffer("scale", np.ones(2))
    assert [n for n, _ in module.named_buffers()] == ["mask", "scale"]
    assert list(module.state_dict()) == ["scale"]
    module.to(np.float32)
    assert module.mask.dtype == np.float32


def test_assigning_the_wrong_kind_to_a_registered_name_is_refused():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"weight.*nn.Parameter or None expected.*no_grad"):
        layer.weight = np.zeros((2, 2))
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="a Module or None expected"):
        model.__setattr__("0", np.zeros(2))
    layer.bias = None  # None unsets a parameter
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_register_buffer_and_add_module_check_names():
    module = nn.Module()
    module.plain = 3
    with pytest.raises(KeyError, match="already exists"):
        module.register_buffer("plain", np.zeros(2))
    with pytest.raises(KeyError, match="contain"):
        module.add_module("a.b", nn.ReLU())
    with pytest.raises(TypeError, match="not a Module"):
        module.add_module("x", np.zeros(2))
    with pytest.raises(KeyError, match="already exists"):
        module.add_module("train", nn.ReLU())
    module.add_module("act", nn.ReLU())
    assert module.act is module.get_submodule("act")
    module.register_parameter("w", nn.Parameter(np.ones(2)))
    assert [n for n, _ in module.named_parameters()] == ["w"]
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        module.register_parameter("v", np.ones(2))


def test_state_dict_lists_a_shared_module_under_each_name_as_pytorch():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    model.load_state_dict(model.state_dict())
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in model.named_modules(remove_duplicate=False)] == ["", "0", "1", "2"]


def test_keep_vars_and_prefix():
    layer = nn.Linear(2, 2)
    state = layer.state_dict(prefix="enc.", keep_vars=True)
    assert list(state) == ["enc.weight", "enc.bias"] and state["enc.weight"] is layer.weight


def test_load_state_dict_reports_missing_and_unexpected_keys_when_not_strict():
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    state = model.state_dict()
    del state["1.running_var"]
    state["2.weight"] = np.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["1.running_var"]
    assert result.unexpected_keys == ["2.weight"]


# ----- traversal ---------------------------------------------------------------------------------
class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x))


def _model():
    return nn.Sequential(OrderedDict([("block", Block()), ("head", nn.Linear(2, 1))]))


def test_named_modules_prefix_order_and_memo_are_pytorchs():
    model = _model()
    assert [n for n, _ in model.named_modules()] == ["", "block", "block.fc", "block.act",
                                                     "head"]
    assert [n for n, _ in model.named_modules(prefix="m")] == ["m", "m.block", "m.block.fc",
                                                               "m.block.act", "m.head"]
    memo = {model.block}
    assert [n for n, _ in model.named_modules(memo)] == ["", "head"]
    assert [n for n, _ in model.named_children()] == ["block", "head"]
    assert model.children() == [model.block, model.head]
    assert [n for n, _ in model.named_parameters(prefix="m", recurse=True)][:1] == \
        ["m.block.fc.weight"]
    assert model.parameters(recurse=False) == []


def test_get_submodule_parameter_and_buffer():
    model = nn.Sequential(_model(), nn.BatchNorm1d(1))
    assert model.get_submodule("0.block.fc") is model[0].block.fc
    assert model.get_submodule("") is model
    assert model.get_parameter("0.head.bias") is model[0].head.bias
    assert model.get_buffer("1.running_mean") is model[1].running_mean
    with pytest.raises(AttributeError, match="no submodule 'nope'.*block, head"):
        model.get_submodule("0.nope")
    with pytest.raises(AttributeError, match="no parameter"):
        model.get_parameter("0.head.nope")


def test_apply_visits_children_before_parents():
    model = _model()
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Block", "Linear", "Sequential"]

    def init_weights(module):
        if isinstance(module, nn.Linear):
            with cr.no_grad():
                module.weight[...] = 0.5

    model.apply(init_weights)
    assert all(np.all(m.weight.numpy() == 0.5) for m in model.modules()
               if isinstance(m, nn.Linear))


def test_requires_grad_freezes_and_unfreezes():
    model = _model()
    assert model.block.requires_grad_(False) is model.block
    assert [p.requires_grad for p in model.parameters()] == [False, False, True, True]
    loss = model(_f32(3, 2)).sum()
    loss.backward()
    assert model.block.fc.weight.grad is None and model.head.weight.grad is not None
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


# ----- hooks -------------------------------------------------------------------------------------
def test_forward_hooks_see_and_replace_inputs_and_outputs():
    layer = nn.Linear(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(("post", out.shape)))
    x = _f32(3, 2)
    layer(x)
    assert calls == [("pre", (3, 2)), ("post", (3, 2))]
    pre.remove()
    post.remove()
    layer(x)
    assert len(calls) == 2

    doubled = layer.register_forward_pre_hook(lambda m, args: args[0] * 2)  # a bare value
    zeroed = layer.register_forward_hook(lambda m, args, out: out * 0)
    np.testing.assert_array_equal(layer(x).numpy(), 0.0)
    zeroed.remove()
    np.testing.assert_allclose(layer(x).numpy(), nn.functional.linear(2 * x, layer.weight,
                                                                      layer.bias).numpy())
    doubled.remove()
    assert not layer._forward_hooks and not layer._forward_pre_hooks


def test_hooks_with_kwargs_prepend_and_context_manager():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    module = Scale()
    order = []
    module.register_forward_hook(lambda m, a, out: order.append("second"))
    module.register_forward_hook(lambda m, a, out: order.append("first"), prepend=True)

    def set_factor(m, args, kwargs):
        return args, {**kwargs, "factor": 3.0}

    with module.register_forward_pre_hook(set_factor, with_kwargs=True):
        assert float(module(np.float32(2.0))) == 6.0
    assert float(module(np.float32(2.0))) == 2.0
    assert order == ["first", "second"] * 2
    seen = []
    module.register_forward_hook(lambda m, a, k, out: seen.append(k), with_kwargs=True)
    module(np.float32(1.0), factor=2.0)
    assert seen == [{"factor": 2.0}]


def test_always_call_hooks_run_when_forward_raises():
    class Failing(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    module = Failing()
    seen = []
    module.register_forward_hook(lambda m, a, out: seen.append(out), always_call=True)
    module.register_forward_hook(lambda m, a, out: seen.append("not called"))
    with pytest.raises(RuntimeError, match="boom"):
        module(1.0)
    assert seen == [None]


def test_hooks_on_submodules_record_activations():
    model = _model()
    activations = {}
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            module.register_forward_hook(
                lambda m, a, out, name=name: activations.__setitem__(name, out.shape))
    model(_f32(4, 2))
    assert activations == {"block.fc": (4, 2), "head": (4, 1)}


# ----- dtypes ------------------------------------------------------------------------------------
def test_to_double_keeps_parameter_identity_and_optimisers_work():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    before = model.parameters()
    x = _f32(6, 3)
    model(x).sum().backward()
    assert model.double() is model
    assert all(a is b for a, b in zip(before, model.parameters(), strict=True))
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in before)
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64  # integer buffers stay
    weight = model[0].weight.numpy().copy()
    optimizer.step()
    assert not np.array_equal(model[0].weight.numpy(), weight)
    optimizer.zero_grad()
    out = model(x.astype(np.float64))
    assert out.dtype == np.float64
    out.sum().backward()
    optimizer.step()
    assert model.float() is model and model[0].weight.dtype == np.float32
    assert model.half()[0].weight.dtype == np.float16
    assert model.to(np.float64)[2].bias.dtype == np.float64


def test_to_accepts_pytorch_spellings():
    layer = nn.Linear(2, 2)
    assert layer.to("cpu") is layer and layer.weight.dtype == np.float32
    assert layer.cpu() is layer
    layer.to("cpu", np.float64)
    assert layer.weight.dtype == np.float64
    layer.to(dtype="float32")
    assert layer.weight.dtype == np.float32
    layer.to(np.zeros(1, np.float64))  # a tensor's dtype
    assert layer.weight.dtype == np.float64
    layer.to(device="cpu", dtype=np.float32)
    assert layer.weight.dtype == np.float32
    with pytest.raises(ValueError, match="CPU"):
        layer.to("cuda")
    with pytest.raises(DTypeError, match="floating-point or complex"):
        layer.to(np.int32)


def test_to_complex_and_back_keeps_complex_parameters_complex():
    module = nn.Module()
    module.z = nn.Parameter(np.array([1 + 2j], np.complex128))
    module.r = nn.Parameter(np.array([1.0], np.float64))
    module.to(np.float32)
    assert module.z.dtype == np.complex64 and module.r.dtype == np.float32
    module.double()  # .double() casts floating parameters only, as PyTorch
    assert module.z.dtype == np.complex64 and module.r.dtype == np.float64
    module.to(np.complex128)
    assert module.z.dtype == np.complex128 and module.r.dtype == np.complex128
