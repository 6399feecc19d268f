"""nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.TransformerEncoder and
scaled_dot_product_attention: PyTorch's answers (tests/fixtures/torch_seq.npz), finite
differences, mask semantics (fully masked rows included) and error messages."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.numpy as cnp
from chainrule.errors import DTypeError, ShapeError
from chainrule.nn.attention import scaled_dot_product_attention as sdpa
from test_nn_recurrent import fixture_cases, run_fixture_case

ATTENTION = ("MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
             "scaled_dot_product_attention")


@pytest.mark.parametrize("name", fixture_cases(ATTENTION))
def test_outputs_and_gradients_match_pytorch(name):
    if "gelu" in name:
        pytest.importorskip("scipy")  # the exact GELU's erf
    run_fixture_case(name)


def test_state_dict_names_are_pytorchs():
    assert list(nn.MultiheadAttention(4, 2).state_dict()) == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert list(nn.MultiheadAttention(4, 2, kdim=3, vdim=5, bias=False).state_dict()) == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"]
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8)
    assert [name for name, _ in layer.named_modules()][1:] == [
        "self_attn", "self_attn.out_proj", "linear1", "dropout", "linear2", "norm1", "norm2",
        "dropout1", "dropout2"]
    encoder = nn.TransformerEncoder(layer, 2)
    assert "layers.1.self_attn.in_proj_weight" in encoder.state_dict()
    assert encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight


def _mha(**kwargs):
    return nn.MultiheadAttention(4, 2, dtype=np.float64, rng=0, **kwargs)


# ----- finite differences ---------------------------------------------------------------------
def test_multihead_attention_gradients_match_finite_differences():
    mha = _mha(batch_first=True)
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 4)), \
        rng.standard_normal((2, 4, 4))
    padding = np.array([[False, False, True, False], [False, True, True, False]])
    names = list(mha.parameters_dict())

    def loss(q, k, v, *values):
        out, weights = nn.functional_call(mha, dict(zip(names, values, strict=True)), (q, k, v),
                                          {"key_padding_mask": padding})
        return (out ** 2).sum() + (weights ** 2).sum()

    assert cr.gradcheck(loss, q, k, v, *mha.parameters_dict().values())


def test_self_attention_with_a_causal_mask_matches_finite_differences_through_backward():
    mha = _mha()
    x = np.random.default_rng(1).standard_normal((5, 2, 4))
    direction = np.random.default_rng(2).standard_normal(x.shape)

    def loss(x):
        out, _ = mha(x, x, x, is_causal=True, need_weights=False)
        return (cnp.tanh(out) ** 2).sum()

    xt = cr.tensor(x, requires_grad=True)
    loss(xt).backward()
    eps = 1e-6
    numeric = (loss(x + eps * direction) - loss(x - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(np.sum(xt.grad.numpy() * direction), numeric.numpy(), rtol=1e-6)


def test_sdpa_gradients_match_finite_differences_with_a_float_mask():
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), \
        rng.standard_normal((2, 5, 2))
    bias = rng.standard_normal((3, 5))
    assert cr.gradcheck(lambda q, k, v, b: sdpa(q, k, v, attn_mask=b), q, k, v, bias)
    assert cr.gradgradcheck(lambda q, k: sdpa(q, k, v[:, :3], is_causal=True), q, k[:, :3])


def test_encoder_per_example_gradients_under_vmap_equal_a_loop():
    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, dtype=np.float64,
                                   rng=0), 2)
    params = encoder.parameters_dict()
    xs = np.random.default_rng(4).standard_normal((3, 5, 4))  # three unbatched (S, E) inputs

    def loss(params, x):
        return (nn.functional_call(encoder, params, (x,), {"is_causal": True}) ** 2).sum()

    batched = cr.vmap(cr.grad(loss), in_axes=(None, 0))(params, xs)
    for k in range(len(xs)):
        single = cr.grad(loss)(params, xs[k])
        for key in params:
            np.testing.assert_allclose(batched[key][k], single[key], rtol=1e-9, atol=1e-12)


# ----- masks ------------------------------------------------------------------------------------
def test_boolean_and_float_masks_mean_what_they_mean_in_pytorch():
    mha = _mha(batch_first=True)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4, 4))
    padding = np.array([[False, True, False, False], [False, False, False, True]])
    forbidden = np.triu(np.ones((4, 4), bool), 1)  # MHA: True = may NOT attend
    by_bool = mha(x, x, x, key_padding_mask=padding, attn_mask=forbidden)
    by_float = mha(x, x, x, key_padding_mask=np.where(padding, -np.inf, 0.0),
                   attn_mask=np.where(forbidden, -np.inf, 0.0))
    causal = mha(x, x, x, key_padding_mask=padding, is_causal=True)
    for other in (by_float, causal):
        for a, b in zip(by_bool, other, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    weights = by_bool[1].numpy()
    np.testing.assert_array_equal(weights[0, :, 1], 0.0)  # the padded key
    np.testing.assert_array_equal(weights[:, 0, 1:], 0.0)  # query 0 sees key 0 only
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    # scaled_dot_product_attention's boolean mask is the other way round: True = MAY attend.
    q, k, v = (rng.standard_normal((2, 4, 4)) for _ in range(3))
    allowed = ~forbidden
    np.testing.assert_allclose(sdpa(q, k, v, attn_mask=allowed), sdpa(q, k, v, is_causal=True))
    np.testing.assert_allclose(sdpa(q, k, v, attn_mask=np.where(allowed, 0.0, -np.inf)),
                               sdpa(q, k, v, is_causal=True))


def test_fully_masked_rows_give_zeros_and_finite_gradients():
    mha = _mha(batch_first=True)
    x = cr.tensor(np.random.default_rng(6).standard_normal((2, 3, 4)), requires_grad=True)
    padding = np.array([[True, True, True], [False, True, False]])  # example 0: all padding
    out, weights = mha(x, x, x, key_padding_mask=padding)
    np.testing.assert_array_equal(weights.numpy()[0], 0.0)
    np.testing.assert_allclose(out.numpy()[0], np.broadcast_to(mha.out_proj.bias.numpy(),
                                                               (3, 4)))
    (out ** 2).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert all(np.isfinite(p.grad.numpy()).all() for p in mha.parameters())
    # The same through sdpa, with a row that allows nothing, and through finite differences.
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((3, 2)), rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    allowed = np.array([[True, False, True, True], [False] * 4, [True] * 4])
    np.testing.assert_array_equal(sdpa(q, k, v, attn_mask=allowed)[1], 0.0)
    assert cr.gradcheck(lambda q, k, v: sdpa(q, k, v, attn_mask=allowed), q, k, v)


def test_need_weights_and_average_attn_weights_shape_the_second_output():
    mha = _mha()
    x = np.random.default_rng(8).standard_normal((5, 3, 4))
    out, weights = mha(x, x, x)
    assert out.shape == (5, 3, 4) and weights.shape == (3, 5, 5)
    _, per_head = mha(x, x, x, average_attn_weights=False)
    assert per_head.shape == (3, 2, 5, 5)
    np.testing.assert_allclose(per_head.numpy().mean(axis=1), weights.numpy())
    assert mha(x, x, x, need_weights=False)[1] is None
    out, weights = mha(x[:, 0], x[:, 0], x[:, 0])  # unbatched
    assert out.shape == (5, 4) and weights.shape == (5, 5)
    np.testing.assert_allclose(out.numpy(), mha(x, x, x)[0].numpy()[:, 0], rtol=1e-12)


def test_dropout_acts_only_in_training_and_encoder_copies_draw_their_own_masks():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.5, rng=0,
                                       dtype=np.float64)
    encoder = nn.TransformerEncoder(layer, 2)
    x = np.random.default_rng(9).standard_normal((3, 2, 4))
    assert not np.allclose(encoder(x).numpy(), encoder(x).numpy())
    encoder.eval()
    np.testing.assert_array_equal(encoder(x).numpy(), encoder(x).numpy())
    first, second = encoder.layers[0].dropout.rng, encoder.layers[1].dropout.rng
    assert first is not second and first.random() != second.random()
    mha = _mha(dropout=0.5)
    _, weights = mha(x, x, x)
    assert not np.allclose(weights.numpy().sum(-1), 1.0)  # dropped and rescaled
    mha.eval()
    np.testing.assert_allclose(mha(x, x, x)[1].numpy().sum(-1), 1.0)


# ----- errors ------------------------------------------------------------------------------------
def test_wrong_shapes_name_the_layer_the_expected_and_the_actual_shapes():
    mha = nn.MultiheadAttention(4, 2)
    x = np.ones((5, 3, 4), np.float32)
    with pytest.raises(ShapeError, match=r"MultiheadAttention\(embed_dim=4, num_heads=2\) "
                                         r"expects query \(L, N, 4\), key \(S, N, 4\) and value "
                                         r"\(S, N, 4\).*got query \(5, 3, 6\)"):
        mha(np.ones((5, 3, 6), np.float32), x, x)
    with pytest.raises(ShapeError, match=r"got query \(5, 3, 4\), key \(5, 2, 4\)"):
        mha(x, np.ones((5, 2, 4), np.float32), np.ones((5, 2, 4), np.float32))
    with pytest.raises(ShapeError, match=r"key_padding_mask must have shape \(N, S\) = \(3, 5\)"):
        mha(x, x, x, key_padding_mask=np.zeros((5, 3), bool))
    with pytest.raises(ShapeError, match=r"attn_mask must have shape \(L, S\) = \(5, 5\) or "
                                         r"\(N \* num_heads, L, S\) = \(6, 5, 5\), got \(3, 5\)"):
        mha(x, x, x, attn_mask=np.zeros((3, 5), bool))
    with pytest.raises(ShapeError, match=r"TransformerEncoderLayer|LayerNorm|expects"):
        nn.TransformerEncoderLayer(4, 2)(np.ones((5, 3, 6), np.float32))
    with pytest.raises(ShapeError, match=r"query and key must share the last axis"):
        sdpa(np.ones((3, 4)), np.ones((5, 2)), np.ones((5, 2)))


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"embed_dim \(6\) must be a positive multiple of "
                                         r"num_heads \(4\)"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="activation must be 'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(4, 2, activation="swish")
    with pytest.raises(ValueError, match="attn_mask or is_causal=True, not both"):
        sdpa(np.ones((3, 2)), np.ones((3, 2)), np.ones((3, 2)), attn_mask=np.ones((3, 3), bool),
             is_causal=True)
    with pytest.raises(DTypeError, match="float32"):
        nn.MultiheadAttention(4, 2)(np.ones((5, 3, 4)), np.ones((5, 3, 4)), np.ones((5, 3, 4)))
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(4, 2, add_bias_kv=True)
