"""chainrule.nn: module bookkeeping, layers against NumPy references, losses, initialisers."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.errors import DTypeError, ShapeError
from chainrule.nn import functional as F
from chainrule.nn import init


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4, rng=0)
        self.out = nn.Linear(4, 2, rng=1)
        self.scale = nn.Parameter(np.ones(2))

    def forward(self, x):
        return self.out(F.relu(self.hidden(x))) * self.scale


def _values(tensor):
    return np.asarray(tensor.numpy())


# ----- Module ------------------------------------------------------------------------------------
def test_module_registers_parameters_and_submodules_by_attribute():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert len(model.parameters()) == 5
    assert model.children() == [model.hidden, model.out]


def test_reassigning_an_attribute_unregisters_the_old_entry():
    model = TwoLayer()
    model.scale = None
    assert "scale" not in dict(model.named_parameters())
    model.out = nn.Identity()
    assert [n for n, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias"]


def test_shared_parameter_is_listed_once():
    layer = nn.Linear(2, 2, rng=0)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(model.parameters()) == 2


def test_assigning_before_init_explains_the_fix():
    class Forgetful(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter(np.ones(2))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgetful()


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    model.eval()
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_clears_every_gradient():
    model = TwoLayer()
    model(cr.tensor(np.ones((5, 3), np.float32))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_state_dict_round_trip_keeps_parameter_objects():
    source, target = TwoLayer(), TwoLayer()
    with cr.no_grad():
        source.scale[...] = np.array([2.0, 3.0])
    weight_before = target.hidden.weight
    target.load_state_dict(source.state_dict())
    assert target.hidden.weight is weight_before  # loaded in place: optimisers keep working
    loaded = target.state_dict()
    for name, value in source.state_dict().items():
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)
    x = cr.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    np.testing.assert_array_equal(_values(source(x)), _values(target(x)))


def test_state_dict_holds_copies():
    model = TwoLayer()
    state = model.state_dict()
    state["scale"][...] = 7.0
    np.testing.assert_array_equal(_values(model.scale), [1.0, 1.0])


def test_load_state_dict_lists_missing_unexpected_and_misshaped_keys():
    model = TwoLayer()
    state = model.state_dict()
    del state["out.bias"]
    state["extra.weight"] = np.zeros(3)
    state["hidden.weight"] = np.zeros((5, 3))
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "missing keys: out.bias" in message
    assert "unexpected keys: extra.weight" in message
    assert "hidden.weight: expected (4, 3), got (5, 3)" in message


def test_load_state_dict_non_strict_skips_missing_keys():
    model = TwoLayer()
    model.load_state_dict({"scale": np.array([4.0, 5.0])}, strict=False)
    np.testing.assert_array_equal(_values(model.scale), [4.0, 5.0])


def test_buffers_are_in_the_state_dict():
    model = nn.Sequential(nn.BatchNorm1d(3))
    assert set(model.state_dict()) == {
        "0.weight", "0.bias", "0.running_mean", "0.running_var", "0.num_batches_tracked",
    }


def test_repr_shows_the_tree_and_layer_settings():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(256, 10))
    text = repr(model)
    assert text.splitlines()[0] == "Sequential("
    assert "(0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))" in text
    assert "(3): Linear(in_features=256, out_features=10, bias=True)" in text


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="position 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)


# ----- Linear and shape errors -------------------------------------------------------------------
def test_linear_matches_numpy_and_its_gradient_is_right():
    layer = nn.Linear(3, 2, rng=0, dtype=np.float64)
    x = np.random.default_rng(1).standard_normal((4, 3))
    expected = x @ _values(layer.weight).T + _values(layer.bias)
    out = layer(cr.tensor(x))
    np.testing.assert_allclose(_values(out), expected)
    out.sum().backward()
    np.testing.assert_allclose(_values(layer.weight.grad), np.ones((4, 2)).T @ x)
    np.testing.assert_allclose(_values(layer.bias.grad), [4.0, 4.0])


def test_wrong_input_shape_names_layer_expected_and_got():
    with pytest.raises(ShapeError, match=r"Linear\(in_features=3.*expects input of shape "
                                         r"\(\.\.\., 3\), got \(4, 5\)"):
        nn.Linear(3, 2)(cr.tensor(np.ones((4, 5))))
    with pytest.raises(ShapeError, match=r"Conv2d\(1, 2.*\(N, 1, H, W\), got \(2, 3, 8, 8\)"):
        nn.Conv2d(1, 2, 3)(cr.tensor(np.ones((2, 3, 8, 8))))
    with pytest.raises(ShapeError, match=r"BatchNorm2d\(4.*\(N, 4, H, W\), got \(2, 4\)"):
        nn.BatchNorm2d(4)(cr.tensor(np.ones((2, 4))))


# ----- convolution and pooling -------------------------------------------------------------------
def _conv_reference(x, weight, bias, stride, padding):
    """out[n, o, i, j] = sum over c, a, b of x_pad[n, c, s i + a, s j + b] w[o, c, a, b]."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, height, width = x.shape
    out_channels, _, kh, kw = weight.shape
    oh, ow = (height - kh) // stride + 1, (width - kw) // stride + 1
    out = np.zeros((n, out_channels, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("ncab,ocab->no", window, weight) + bias
    return out


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 1), (2, 0)])
def test_conv2d_matches_the_direct_definition(stride, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 6))
    weight, bias = rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out = F.conv2d(cr.tensor(x), cr.tensor(weight), cr.tensor(bias), stride, padding)
    np.testing.assert_allclose(_values(out), _conv_reference(x, weight, bias, stride, padding),
                               rtol=1e-10, atol=1e-12)


def test_conv2d_derivatives_match_finite_differences():
    rng = np.random.default_rng(1)
    x, weight, bias = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), \
        rng.standard_normal(3)
    assert cr.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), x, weight, bias)


def _pool_reference(x, kernel, stride, padding, reduce, fill):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=fill)
    oh = (x.shape[2] - kernel) // stride + 1
    ow = (x.shape[3] - kernel) // stride + 1
    out = np.zeros(x.shape[:2] + (oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride:i * stride + kernel, j * stride:j * stride + kernel]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


@pytest.mark.parametrize("kernel,stride,padding,size", [(2, 2, 0, 6), (3, 2, 1, 7), (3, 1, 0, 5)])
def test_pooling_matches_the_direct_definition(kernel, stride, padding, size):
    x = np.random.default_rng(2).standard_normal((2, 3, size, size))
    max_out = nn.MaxPool2d(kernel, stride, padding)(cr.tensor(x))
    avg_out = nn.AvgPool2d(kernel, stride, padding)(cr.tensor(x))
    np.testing.assert_allclose(_values(max_out),
                               _pool_reference(x, kernel, stride, padding, np.max, -np.inf))
    np.testing.assert_allclose(_values(avg_out),
                               _pool_reference(x, kernel, stride, padding, np.mean, 0.0))


@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 1)])
def test_pooling_derivatives_match_finite_differences(kernel, stride):
    x = np.random.default_rng(3).permutation(50).reshape(1, 2, 5, 5) / 10.0  # no ties
    x = x[:, :, :4, :4] if stride is None else x
    assert cr.gradcheck(lambda x: F.max_pool2d(x, kernel, stride), x)
    assert cr.gradcheck(lambda x: F.avg_pool2d(x, kernel, stride), x)


def test_max_pool_sends_the_gradient_to_the_window_maximum():
    x = cr.tensor(np.array([[[[1.0, 5.0], [3.0, 2.0]]]]), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(_values(x.grad), [[[[0, 1], [0, 0]]]])


# ----- normalisation -----------------------------------------------------------------------------
def test_batchnorm_training_normalises_and_updates_running_stats():
    x = np.random.default_rng(4).normal(3.0, 2.0, size=(16, 3)).astype(np.float32)
    layer = nn.BatchNorm1d(3, momentum=0.1)
    out = _values(layer(cr.tensor(x)))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=0), 1.0, atol=1e-3)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-5)
    assert int(layer.num_batches_tracked) == 1


def test_batchnorm_eval_uses_running_stats():
    layer = nn.BatchNorm2d(2).eval()
    layer.running_mean = np.array([1.0, -1.0], np.float32)
    layer.running_var = np.array([4.0, 9.0], np.float32)
    x = np.ones((1, 2, 2, 2), np.float32)
    out = _values(layer(cr.tensor(x)))
    np.testing.assert_allclose(out[0, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(out[0, 1], 2.0 / math.sqrt(9.0 + 1e-5), rtol=1e-6)


def test_batchnorm_derivatives_match_finite_differences():
    x = np.random.default_rng(5).standard_normal((4, 2, 2, 2))
    layer = nn.BatchNorm2d(2)

    def normalise(x):
        axes = (0, 2, 3)
        mean = cr.numpy.mean(x, axis=axes)
        var = cr.numpy.var(x, axis=axes)
        return F.batch_norm(x, mean, var, layer.weight, layer.bias)

    assert cr.gradcheck(normalise, x, rtol=1e-4, atol=1e-6)


def test_layernorm_matches_numpy_and_finite_differences():
    x = np.random.default_rng(6).standard_normal((3, 5))
    out = _values(nn.LayerNorm(5, dtype=np.float64)(cr.tensor(x)))
    expected = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(out, expected, rtol=1e-10)
    assert cr.gradcheck(lambda x: F.layer_norm(x, (5,)), x, rtol=1e-4, atol=1e-6)


# ----- other layers ------------------------------------------------------------------------------
def test_embedding_picks_rows_and_accumulates_repeated_indices():
    layer = nn.Embedding(4, 2, rng=0)
    indices = np.array([[1, 3], [1, 1]])
    out = layer(indices)
    np.testing.assert_array_equal(_values(out), _values(layer.weight)[indices])
    out.sum().backward()
    np.testing.assert_array_equal(_values(layer.weight.grad), [[0, 0], [3, 3], [0, 0], [1, 1]])
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        layer(np.array([4]))


def test_dropout_is_seeded_scaled_and_off_in_eval():
    x = cr.tensor(np.ones((200, 50)))
    first = _values(nn.Dropout(0.25, rng=7)(x))
    second = _values(nn.Dropout(0.25, rng=7)(x))
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) == {0.0, 1.0 / 0.75}
    assert abs((first == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(_values(nn.Dropout(0.25).eval()(x)), np.ones((200, 50)))


def test_flatten_keeps_the_batch_axis():
    assert nn.Flatten()(cr.tensor(np.zeros((2, 3, 4, 5)))).shape == (2, 60)


def test_activations_match_their_formulas():
    x = np.linspace(-4, 4, 17)
    t = cr.tensor(x)
    np.testing.assert_allclose(_values(nn.ReLU()(t)), np.maximum(x, 0))
    np.testing.assert_allclose(_values(nn.Tanh()(t)), np.tanh(x))
    np.testing.assert_allclose(_values(nn.Sigmoid()(t)), 1 / (1 + np.exp(-x)), rtol=1e-12)
    exact_gelu = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(_values(nn.GELU()(t)), exact_gelu, atol=1e-3)
    scores = np.array([[1.0, 2.0, 3.0]])
    softmax = np.exp(scores) / np.exp(scores).sum()
    np.testing.assert_allclose(_values(nn.Softmax()(cr.tensor(scores))), softmax)
    np.testing.assert_allclose(_values(nn.LogSoftmax()(cr.tensor(scores))), np.log(softmax))


# ----- losses ------------------------------------------------------------------------------------
def test_cross_entropy_value_and_gradient_by_hand():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    targets = np.array([0, 2])
    # sample 0: -log(e^2 / (e^2 + e + 1)); sample 1: -log(1/3)
    expected = (-(2 - math.log(math.e**2 + math.e + 1)) + math.log(3)) / 2
    x = cr.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, targets)
    assert float(loss) == pytest.approx(expected, rel=1e-12)
    loss.backward()
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(_values(x.grad), (probabilities - np.eye(3)[targets]) / 2)


def test_cross_entropy_is_stable_for_huge_logits():
    loss = F.cross_entropy(cr.tensor(np.array([[1000.0, 0.0]])), np.array([1]))
    assert float(loss) == pytest.approx(1000.0)


def test_cross_entropy_rejects_float_targets_and_bad_classes():
    logits = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(DTypeError, match="integer class indices"):
        F.cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        F.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ShapeError, match=r"targets of shape \(2,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]))


def test_nll_and_mse_losses_by_hand():
    log_probs = np.log(np.array([[0.5, 0.5], [0.25, 0.75]]))
    nll = F.nll_loss(cr.tensor(log_probs), np.array([1, 0]), reduction="sum")
    assert float(nll) == pytest.approx(math.log(2) + math.log(4))
    mse = F.mse_loss(cr.tensor(np.array([1.0, 2.0])), np.array([0.0, 4.0]))
    assert float(mse) == pytest.approx((1 + 4) / 2)
    with pytest.raises(ShapeError, match="mse_loss"):
        F.mse_loss(cr.tensor(np.ones((3, 1))), np.ones(3))


def test_binary_cross_entropy_with_logits_by_hand_and_stable():
    logits, targets = np.array([0.0, 2.0, -1000.0]), np.array([1.0, 0.0, 0.0])
    losses = F.binary_cross_entropy_with_logits(cr.tensor(logits), targets, reduction="none")
    expected = [math.log(2), -math.log(1 - 1 / (1 + math.exp(-2))), 0.0]
    np.testing.assert_allclose(_values(losses), expected, atol=1e-12)
    assert cr.gradcheck(lambda z: F.binary_cross_entropy_with_logits(z, targets),
                        np.array([0.3, -1.2, 2.0]))


# ----- initialisers ------------------------------------------------------------------------------
def test_initialisers_are_seeded_and_have_the_published_scale():
    shape = (200, 100, 3, 3)
    fan_in, fan_out = 900, 1800
    np.testing.assert_array_equal(init.kaiming_uniform(shape, rng=3),
                                  init.kaiming_uniform(shape, rng=3))
    uniform = init.kaiming_uniform(shape, rng=0)
    assert np.abs(uniform).max() <= math.sqrt(2) * math.sqrt(3 / fan_in)
    assert uniform.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
    assert init.kaiming_normal(shape, rng=0).std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
    xavier_std = math.sqrt(2 / (fan_in + fan_out))
    assert init.xavier_uniform(shape, rng=0).std() == pytest.approx(xavier_std, rel=0.02)
    assert init.xavier_normal(shape, rng=0).std() == pytest.approx(xavier_std, rel=0.02)


def test_layers_built_with_the_same_generator_seed_are_identical():
    a = nn.Linear(5, 3, rng=np.random.default_rng(11))
    b = nn.Linear(5, 3, rng=np.random.default_rng(11))
    np.testing.assert_array_equal(_values(a.weight), _values(b.weight))


def test_conv_and_cross_entropy_differentiate_twice():
    rng = np.random.default_rng(8)
    x, weight = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 2, 3, 3))
    assert cr.gradgradcheck(lambda x, w: F.conv2d(F.tanh(x), w, padding=1), x, weight)
    assert cr.gradgradcheck(lambda z: F.cross_entropy(z, np.array([1, 0])),
                            rng.standard_normal((2, 3)))


def test_a_model_differentiates_inside_functional_transforms():
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, rng=0, dtype=np.float64), nn.Tanh(),
                          nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8, 1, rng=1, dtype=np.float64))
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    assert cr.gradcheck(lambda x: model(x).sum(), x)


def test_deepcopy_and_pickle_keep_parameters_as_parameters():
    import copy
    import pickle

    model = TwoLayer()
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert all(type(p) is nn.Parameter for p in clone.parameters())
        assert clone.hidden.weight is not model.hidden.weight
        np.testing.assert_array_equal(clone.state_dict()["out.weight"],
                                      model.state_dict()["out.weight"])
        clone.hidden.weight = nn.Parameter(np.zeros((4, 3)))  # still registers on assignment
        assert "hidden.weight" in dict(clone.named_parameters())
