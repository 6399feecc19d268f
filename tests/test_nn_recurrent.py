"""nn.RNN, nn.LSTM, nn.GRU and their cells: PyTorch's answers (tests/fixtures/torch_seq.npz,
written by tools/make_torch_fixtures_seq.py), finite differences through `.backward()` and
through transforms, padding semantics and error messages.

The fixture helpers here (`fixture_cases`, `run_fixture_case`) serve test_nn_attention.py too.
"""

import copy
import functools
import json
import pathlib
import pickle

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
from chainrule.errors import DTypeError, ShapeError
from chainrule.nn import recurrent

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "torch_seq.npz"


# ----- PyTorch fixtures --------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _fixture():
    with np.load(FIXTURE) as data:
        meta = json.loads(bytes(data["meta"]).decode())
        buffers = {kind: data[kind] for kind in ("float64", "int64", "bool")}
    arrays = {}
    for name, (kind, offset, shape) in meta["index"].items():
        size = int(np.prod(shape, dtype=np.int64))
        arrays[name] = buffers[kind][offset:offset + size].reshape(shape)
    return meta["cases"], arrays


def fixture_cases(kinds):
    return sorted(name for name, case in _fixture()[0].items() if case["kind"] in kinds)


def _build(kind, init):
    if kind == "scaled_dot_product_attention":
        return None
    init = dict(init)
    if kind == "TransformerEncoder":
        layer = nn.TransformerEncoderLayer(**init["layer"], dtype=np.float64)
        norm = nn.LayerNorm(init["norm"], dtype=np.float64) if init.get("norm") else None
        return nn.TransformerEncoder(layer, init["num_layers"], norm=norm)
    return getattr(nn, kind)(**init, dtype=np.float64)


def _flatten(result):
    if result is None:
        return []
    if isinstance(result, (tuple, list)):
        return [leaf for part in result for leaf in _flatten(part)]
    return [result]


def run_fixture_case(name, *, check_grads=True, rtol=1e-6, atol=1e-10):
    """Build the case's layer, load PyTorch's weights, run the same call and compare outputs
    and (through `.backward()` of the fixture's loss) the gradients of inputs and parameters."""
    cases, arrays = _fixture()
    case = cases[name]
    module = _build(case["kind"], case["init"])
    if module is not None:
        state = {key.split(".state.", 1)[1]: value for key, value in arrays.items()
                 if key.startswith(name + ".state.")}
        module.load_state_dict(state)
    inputs = {}

    def resolve(spec):
        if isinstance(spec, dict) and "array" in spec:
            key = spec["array"]
            if key not in inputs:
                value = arrays[f"{name}.in.{key}"]
                inputs[key] = cr.tensor(value, requires_grad=True) \
                    if value.dtype.kind == "f" else value
            return inputs[key]
        if isinstance(spec, dict) and "tuple" in spec:
            return tuple(resolve(part) for part in spec["tuple"])
        return spec

    args = [resolve(spec) for spec in case["args"]]
    kwargs = {key: resolve(spec) for key, spec in case["kwargs"].items()}
    call = module if module is not None else nn.attention.scaled_dot_product_attention
    outputs = _flatten(call(*args, **kwargs))
    assert len(outputs) == case["outputs"]
    for k, out in enumerate(outputs):
        np.testing.assert_allclose(out.numpy(), arrays[f"{name}.out.{k}"], rtol=rtol, atol=atol,
                                   err_msg=f"{name}: output {k}")
    if not check_grads:
        return module, outputs
    loss = outputs[0].sum() + sum((o ** 2).sum() for o in outputs[1:])
    loss.backward()
    parameters = dict(module.named_parameters()) if module is not None else {}
    for grad_name in case["grads"]:
        where, key = grad_name.split(".", 1)
        leaf = inputs[key] if where == "input" else parameters[key]
        np.testing.assert_allclose(leaf.grad.numpy(), arrays[f"{name}.grad.{grad_name}"],
                                   rtol=rtol, atol=atol, err_msg=f"{name}: gradient {grad_name}")
    return module, outputs


RECURRENT = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")


@pytest.mark.parametrize("name", fixture_cases(RECURRENT))
def test_outputs_and_gradients_match_pytorch(name):
    run_fixture_case(name)


@pytest.mark.parametrize("name", ["gru_deep_lengths_seq_first", "lstm_proj_lengths",
                                  "rnn_relu_lengths"])
def test_parameter_gradients_through_functional_call_match_pytorch(name):
    cases, arrays = _fixture()
    case = cases[name]
    module = _build(case["kind"], case["init"])
    module.load_state_dict({key.split(".state.", 1)[1]: value for key, value in arrays.items()
                            if key.startswith(name + ".state.")})

    def plain(spec):  # the stored arrays as they are
        if "tuple" in spec:
            return tuple(plain(part) for part in spec["tuple"])
        return arrays[f"{name}.in.{spec['array']}"]

    x = plain(case["args"][0])
    kwargs = {key: plain(spec) for key, spec in case["kwargs"].items()}

    def loss(params):
        outputs = _flatten(nn.functional_call(module, params, (x,), kwargs))
        return outputs[0].sum() + sum((o ** 2).sum() for o in outputs[1:])

    grads = cr.grad(loss)(module.parameters_dict())
    for key, value in grads.items():
        np.testing.assert_allclose(value, arrays[f"{name}.grad.param.{key}"], rtol=1e-6,
                                   atol=1e-10, err_msg=key)


def test_state_dict_names_and_shapes_are_pytorchs():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    shapes = {key: value.shape for key, value in lstm.state_dict().items()}
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                "weight_hr_l0"]
    assert shapes["weight_ih_l0"] == (16, 3)
    assert shapes["weight_hh_l0"] == (16, 2)
    assert shapes["weight_ih_l1_reverse"] == (16, 4)  # both directions' projected outputs
    assert shapes["weight_hr_l1_reverse"] == (2, 4)
    gru = nn.GRU(3, 4, bias=False)
    assert list(gru.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert [len(weights) for weights in lstm.all_weights] == [5, 5, 5, 5]
    gru.flatten_parameters()  # PyTorch code calls it; a no-op here
    assert list(nn.GRUCell(3, 4).state_dict()) == ["weight_ih", "weight_hh", "bias_ih",
                                                  "bias_hh"]


def test_initialisation_is_uniform_within_one_over_sqrt_hidden_and_seeded():
    gru = nn.GRU(10, 16, num_layers=2, rng=0)
    values = np.concatenate([p.numpy().ravel() for p in gru.parameters()])
    assert np.abs(values).max() <= 0.25
    assert np.abs(values).max() > 0.24 and abs(values.mean()) < 0.01
    assert values.dtype == np.float32
    again = nn.GRU(10, 16, num_layers=2, rng=0)
    for a, b in zip(gru.parameters(), again.parameters(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_float32_layers_compute_in_float32():
    gru = nn.GRU(3, 4, batch_first=True, rng=0)
    x = cr.tensor(np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32),
                  requires_grad=True)
    out, h = gru(x)
    assert out.dtype == np.float32 and h.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32 and gru.weight_hh_l0.grad.dtype == np.float32


# ----- finite differences ------------------------------------------------------------------------
LAYERS = [
    pytest.param(lambda: nn.GRU(2, 3, num_layers=2, bidirectional=True, dtype=np.float64, rng=0),
                 id="gru"),
    pytest.param(lambda: nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2,
                                 dtype=np.float64, rng=0), id="lstm-proj"),
    pytest.param(lambda: nn.LSTM(2, 3, batch_first=True, dtype=np.float64, rng=0), id="lstm"),
    pytest.param(lambda: nn.RNN(2, 3, num_layers=2, bidirectional=True, dtype=np.float64,
                                rng=0), id="rnn-tanh"),
    pytest.param(lambda: nn.RNN(2, 3, nonlinearity="relu", dtype=np.float64, rng=1),
                 id="rnn-relu"),
]


def _loss_of_parameters(layer, x, lengths):
    names = list(layer.parameters_dict())

    def loss(x, *values):
        outputs = _flatten(nn.functional_call(layer, dict(zip(names, values, strict=True)),
                                              (x,), {"lengths": lengths}))
        return (outputs[0] ** 2).sum() + sum((o ** 3).sum() for o in outputs[1:])

    return loss, list(layer.parameters_dict().values())


@pytest.mark.parametrize("make", LAYERS)
def test_gradients_match_finite_differences_through_transforms(make):
    layer = make()
    x = np.random.default_rng(3).standard_normal((3, 2, 2))  # (T, B) or (B, T): both 3 x 2
    lengths = np.array([2, 1, 2]) if layer.batch_first else np.array([3, 1])
    loss, values = _loss_of_parameters(layer, x, lengths)
    assert cr.gradcheck(loss, x, *values)  # reverse mode (NumPy kernels) and forward mode


@pytest.mark.parametrize("make", LAYERS)
def test_gradients_match_finite_differences_through_backward(make):
    layer = make()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2, 2))
    lengths = np.array([2, 1, 2]) if layer.batch_first else np.array([3, 1])
    loss, values = _loss_of_parameters(layer, x, lengths)
    xt = cr.tensor(x, requires_grad=True)
    outputs = _flatten(layer(xt, lengths=lengths))
    total = (outputs[0] ** 2).sum() + sum((o ** 3).sum() for o in outputs[1:])
    total.backward()
    direction = [rng.standard_normal(np.shape(v)) for v in [x, *values]]
    eps = 1e-6
    plus = loss(*(v + eps * d for v, d in zip([x, *values], direction, strict=True)))
    minus = loss(*(v - eps * d for v, d in zip([x, *values], direction, strict=True)))
    numeric = (plus - minus) / (2 * eps)
    grads = [xt.grad] + [p.grad for p in layer.parameters()]
    analytic = sum(float(np.sum(g.numpy() * d)) for g, d in zip(grads, direction, strict=True))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6)


@pytest.mark.parametrize("mode", ["GRU", "LSTM", "RNN"])
def test_second_derivatives_match_finite_differences(mode):
    layer = getattr(nn, mode)(2, 2, bidirectional=True, dtype=np.float64, rng=2)
    x = np.random.default_rng(5).standard_normal((3, 2, 2))
    h_size = (2, 2, 2)

    def loss(x, h0):
        hx = (h0, 0.5 * h0) if mode == "LSTM" else h0
        out, _ = layer(x, hx, lengths=np.array([3, 2]))
        return (cr.numpy.tanh(out) ** 2).sum()

    assert cr.gradgradcheck(loss, x, np.random.default_rng(6).standard_normal(h_size))


def test_create_graph_gives_exact_second_derivatives():
    """The hand-written backward pass is first order only; a backward with create_graph=True
    must fall back to a differentiable one, not freeze the gates as constants."""
    layer = nn.GRU(2, 3, dtype=np.float64, rng=0)
    x = np.random.default_rng(7).standard_normal((4, 2, 2))
    v = np.random.default_rng(8).standard_normal(x.shape)

    def first(x):
        out, h = layer(x)
        return (out ** 2).sum() + (h ** 2).sum()

    xt = cr.tensor(x, requires_grad=True)
    first(xt).backward(create_graph=True)
    (xt.grad * v).sum().backward()  # accumulates the Hessian-vector product onto the gradient
    gradient = cr.grad(first)(x).numpy()  # Tensors: they depend on the layer's Parameters
    hessian_v = cr.grad(lambda x: (cr.grad(first)(x) * v).sum())(x).numpy()
    np.testing.assert_allclose(xt.grad.numpy(), gradient + hessian_v, rtol=1e-8)


def test_per_example_gradients_under_vmap_equal_a_loop():
    layer = nn.LSTM(2, 3, batch_first=True, dtype=np.float64, rng=0)
    params = layer.parameters_dict()
    xs = np.random.default_rng(9).standard_normal((4, 5, 2))

    def loss(params, x):  # one unbatched (T, features) sequence
        out, (h, c) = nn.functional_call(layer, params, (x,))
        return (out ** 2).sum() + c.sum()

    batched = cr.vmap(cr.grad(loss), in_axes=(None, 0))(params, xs)
    for k in range(len(xs)):
        single = cr.grad(loss)(params, xs[k])
        for key in params:
            np.testing.assert_allclose(batched[key][k], single[key], rtol=1e-10, atol=1e-12)


def test_the_numpy_kernels_and_the_composed_loop_agree():
    rng = np.random.default_rng(10)
    for mode, gates in (("GRU", 3), ("LSTM", 4), ("RNN_TANH", 1), ("RNN_RELU", 1)):
        xp = rng.standard_normal((5, 2, gates * 3))
        h0 = rng.standard_normal((2, 3))
        c0 = rng.standard_normal((2, 3)) if mode == "LSTM" else None
        w_hh, b_hh = rng.standard_normal((gates * 3, 3)), rng.standard_normal(gates * 3)
        valid = np.array([[1, 1], [1, 0], [0, 1], [1, 1], [1, 0]], bool)[:, :, None]
        for reverse in (False, True):
            options = {"mode": mode, "reverse": reverse, "valid": valid}
            args = (xp, h0, c0, w_hh, b_hh, None)
            fast = recurrent._scan_function(*args, **options)
            composed = recurrent._scan_composed(*args, **options)
            for a, b in zip(_flatten(fast), _flatten(composed), strict=True):
                np.testing.assert_allclose(a, np.asarray(b), rtol=1e-12, atol=1e-14)


# ----- padding: lengths and masks ----------------------------------------------------------------
def _tensor(x):
    return cr.tensor(x, requires_grad=True)


@pytest.mark.parametrize("kind", ["GRU", "LSTM", "RNN"])
def test_padded_steps_output_zeros_and_h_n_is_each_sequences_own(kind):
    layer = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True, batch_first=True,
                              dtype=np.float64, rng=0)
    x = np.random.default_rng(11).standard_normal((3, 5, 2))
    lengths = np.array([5, 2, 4])
    out, state = layer(x, lengths=lengths)
    state = _flatten(state)
    for b, length in enumerate(lengths):
        np.testing.assert_array_equal(out.numpy()[b, length:], 0.0)
        alone_out, alone_state = layer(x[b:b + 1, :length])  # the sequence without padding
        np.testing.assert_allclose(out.numpy()[b, :length], alone_out.numpy()[0], rtol=1e-12)
        for s, alone in zip(state, _flatten(alone_state), strict=True):
            np.testing.assert_allclose(s.numpy()[:, b], alone.numpy()[:, 0], rtol=1e-12)


def test_a_mask_equals_the_lengths_it_describes_and_may_have_holes():
    layer = nn.GRU(2, 3, bidirectional=True, batch_first=True, dtype=np.float64, rng=0)
    x = np.random.default_rng(12).standard_normal((2, 5, 2))
    lengths = np.array([5, 3])
    mask = np.arange(5)[None, :] < lengths[:, None]
    by_lengths, by_mask = layer(x, lengths=lengths), layer(x, mask=mask)
    for a, b in zip(_flatten(by_lengths), _flatten(by_mask), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # A hole: the state skips the step, in both directions, as if it were not there.
    holes = np.array([[True, False, True, True, False], [True, True, True, True, True]])
    out, h = layer(x, mask=holes)
    compact, compact_h = layer(x[:1, holes[0]])
    np.testing.assert_allclose(out.numpy()[0, holes[0]], compact.numpy()[0], rtol=1e-12)
    np.testing.assert_array_equal(out.numpy()[0, ~holes[0]], 0.0)
    np.testing.assert_allclose(h.numpy()[:, 0], compact_h.numpy()[:, 0], rtol=1e-12)


def test_padded_inputs_get_zero_gradient_and_length_zero_keeps_the_initial_state():
    layer = nn.LSTM(2, 3, dtype=np.float64, rng=0)
    x = _tensor(np.random.default_rng(13).standard_normal((4, 3, 2)))
    h0 = np.random.default_rng(14).standard_normal((1, 3, 3))
    c0 = np.random.default_rng(15).standard_normal((1, 3, 3))
    out, (h, c) = layer(x, (h0, c0), lengths=np.array([4, 2, 0]))
    (out.sum() + h.sum() + c.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy()[2:, 1], 0.0)
    np.testing.assert_array_equal(x.grad.numpy()[:, 2], 0.0)
    np.testing.assert_array_equal(out.numpy()[:, 2], 0.0)
    np.testing.assert_array_equal(h.numpy()[0, 2], h0[0, 2])
    np.testing.assert_array_equal(c.numpy()[0, 2], c0[0, 2])


def test_unbatched_input_takes_a_scalar_length_and_a_1d_mask():
    layer = nn.GRU(2, 3, dtype=np.float64, rng=0)
    x = np.random.default_rng(16).standard_normal((5, 2))
    out, h = layer(x, lengths=3)
    assert out.shape == (5, 3) and h.shape == (1, 3)
    ref_out, ref_h = layer(x[:3])
    np.testing.assert_allclose(h.numpy(), ref_h.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(layer(x, mask=np.arange(5) < 3)[1].numpy(), h.numpy())


# ----- modes, state, copies ----------------------------------------------------------------------
def test_dropout_between_layers_only_while_training():
    layer = nn.GRU(2, 4, num_layers=3, dropout=0.5, dtype=np.float64, rng=0)
    x = np.random.default_rng(17).standard_normal((3, 2, 2))
    first, second = layer(x)[0].numpy(), layer(x)[0].numpy()
    assert not np.allclose(first, second)
    layer.eval()
    np.testing.assert_array_equal(layer(x)[0].numpy(), layer(x)[0].numpy())
    no_dropout = nn.GRU(2, 4, num_layers=3, dtype=np.float64, rng=0)
    np.testing.assert_allclose(layer(x)[0].numpy(), no_dropout(x)[0].numpy())


def test_no_grad_and_plain_arrays_give_values_without_a_graph():
    layer = nn.LSTM(2, 3, rng=0)
    x = np.ones((4, 1, 2), np.float32)
    with cr.no_grad():
        out, (h, c) = layer(x)
    assert not out.requires_grad and not h.requires_grad
    np.testing.assert_allclose(out.numpy(), layer(x)[0].numpy())


def test_cells_default_to_a_zero_state_and_match_one_layer_step():
    for kind, cell_kind in (("GRU", "GRUCell"), ("LSTM", "LSTMCell"), ("RNN", "RNNCell")):
        layer = getattr(nn, kind)(2, 3, dtype=np.float64, rng=0)
        cell = getattr(nn, cell_kind)(2, 3, dtype=np.float64)
        cell.load_state_dict({key[:-3]: value for key, value in layer.state_dict().items()})
        x = np.random.default_rng(18).standard_normal((4, 2))
        out, _ = layer(x[None])
        np.testing.assert_allclose(_flatten(cell(x))[0].numpy(), out.numpy()[0], rtol=1e-12)


def test_copies_and_pickles_keep_the_parameters():
    layer = nn.LSTM(2, 3, num_layers=2, bidirectional=True, rng=0)
    x = np.ones((2, 1, 2), np.float32)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert list(clone.state_dict()) == list(layer.state_dict())
        assert all(type(p) is nn.Parameter for p in clone.parameters())
        np.testing.assert_array_equal(clone(x)[0].numpy(), layer(x)[0].numpy())


def test_repr_follows_pytorch():
    assert repr(nn.GRU(3, 4)) == "GRU(3, 4)"
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)) == \
        "LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)"
    assert repr(nn.RNN(3, 4, nonlinearity="relu", bias=False)) == \
        "RNN(3, 4, nonlinearity='relu', bias=False)"
    assert repr(nn.GRUCell(3, 4)) == "GRUCell(3, 4)"


# ----- errors ------------------------------------------------------------------------------------
def test_wrong_input_shapes_name_the_layer_the_expected_and_the_actual_shape():
    gru = nn.GRU(3, 4, batch_first=True)
    with pytest.raises(ShapeError, match=r"GRU\(3, 4, batch_first=True\) expects input of shape "
                                         r"\(B, T, 3\) or, unbatched, \(T, 3\), got \(2, 5, 7\)"):
        gru(np.ones((2, 5, 7), np.float32))
    with pytest.raises(ShapeError, match=r"LSTM\(3, 4\) expects input of shape \(T, B, 3\).*"
                                         r"got \(3,\)"):
        nn.LSTM(3, 4)(np.ones(3, np.float32))
    with pytest.raises(ShapeError, match=r"GRU\(3, 4, num_layers=2\) expects h_0 of shape "
                                         r"\(2, 5, 4\).*got \(1, 5, 4\)"):
        nn.GRU(3, 4, num_layers=2)(np.ones((6, 5, 3), np.float32), np.zeros((1, 5, 4), np.float32))
    with pytest.raises(ShapeError, match=r"GRU\(3, 4, batch_first=True\) needs at least one "
                                         r"time step, got input of shape \(2, 0, 3\)"):
        gru(np.ones((2, 0, 3), np.float32))
    with pytest.raises(ValueError, match=r"LSTM: the initial state must be a pair \(h_0, c_0\)"):
        nn.LSTM(3, 4)(np.ones((6, 5, 3), np.float32), np.zeros((1, 5, 4), np.float32))
    with pytest.raises(ShapeError, match=r"GRUCell\(3, 4\) expects input of shape \(B, 3\) or, "
                                         r"unbatched, \(3,\), got \(2, 5\)"):
        nn.GRUCell(3, 4)(np.ones((2, 5), np.float32))
    with pytest.raises(ShapeError, match=r"LSTMCell\(3, 4\) expects a state of shape \(2, 4\)"):
        nn.LSTMCell(3, 4)(np.ones((2, 3), np.float32), (np.zeros((2, 4), np.float32),
                                                       np.zeros((3, 4), np.float32)))


def test_bad_lengths_and_masks_are_explained():
    gru = nn.GRU(2, 3, batch_first=True)
    x = np.ones((2, 4, 2), np.float32)
    with pytest.raises(ShapeError, match=r"lengths must have shape \(2,\)"):
        gru(x, lengths=np.array([4, 4, 4]))
    with pytest.raises(TypeError, match="lengths must be integers"):
        gru(x, lengths=np.array([4.0, 2.0]))
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 4\]"):
        gru(x, lengths=np.array([5, 2]))
    with pytest.raises(ShapeError, match=r"mask must have shape \(2, 4\)"):
        gru(x, mask=np.ones((4, 2), bool))
    with pytest.raises(TypeError, match="mask must be a boolean array"):
        gru(x, mask=np.ones((2, 4)))
    with pytest.raises(ValueError, match="lengths= or mask=, not both"):
        gru(x, lengths=np.array([4, 2]), mask=np.ones((2, 4), bool))


def test_dtype_mismatch_and_bad_arguments_are_refused():
    with pytest.raises(DTypeError, match="float32"):
        nn.GRU(2, 3)(np.ones((4, 1, 2)))  # float64 input, float32 layer
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout must be a probability"):
        nn.LSTM(2, 3, dropout=1.5)
    with pytest.raises(ValueError, match="proj_size must be 0"):
        nn.LSTM(2, 3, proj_size=3)
    with pytest.raises(ValueError, match="must be positive"):
        nn.GRU(2, 0)


def test_backward_and_grad_use_the_numpy_kernels(monkeypatch):
    """The fast path is taken where it applies (a performance guard: the composed loop gives
    the same numbers, so only a count can tell)."""
    calls = []
    kernel = recurrent._numpy_backward
    monkeypatch.setattr(recurrent, "_numpy_backward",
                        lambda *args: calls.append(1) or kernel(*args))
    layer = nn.GRU(2, 3, bidirectional=True, dtype=np.float64, rng=0)
    x = cr.tensor(np.ones((4, 1, 2)), requires_grad=True)
    layer(x)[0].sum().backward()
    assert len(calls) == 2  # one per direction
    cr.grad(lambda p: nn.functional_call(layer, p, (np.ones((4, 1, 2)),))[0].sum())(
        layer.parameters_dict())
    assert len(calls) == 4


def test_a_gradient_penalty_trains_the_parameters_exactly():
    """cr.grad of a model that holds its own Parameters: the input gradient depends on them
    through the tape, so `.backward()` of a penalty on it must reach every weight (the NumPy
    kernels would return that gradient as a constant)."""
    layer = nn.GRU(2, 3, dtype=np.float64, rng=0)
    x = np.random.default_rng(19).standard_normal((4, 2, 2))

    def score(layer_call, x):  # linear in the outputs: a plain cotangent reaches the layer
        out, h = layer_call(x)
        return out.sum() + 2.0 * h.sum()

    penalty = (cr.grad(lambda x: score(layer, x))(x) ** 2).sum()
    penalty.backward()
    names = list(layer.parameters_dict())

    def functional_penalty(*values):
        params = dict(zip(names, values, strict=True))
        call = functools.partial(nn.functional_call, layer, params)
        return (cr.grad(lambda x: score(lambda x: call((x,)), x))(x) ** 2).sum()

    expected = cr.grad(functional_penalty, argnums=tuple(range(len(names))))(
        *layer.parameters_dict().values())
    for (name, parameter), want in zip(layer.named_parameters(), expected, strict=True):
        np.testing.assert_allclose(parameter.grad.numpy(), want, rtol=1e-8, err_msg=name)
