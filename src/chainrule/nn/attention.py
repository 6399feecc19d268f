"""Attention: `scaled_dot_product_attention`, `MultiheadAttention`, `TransformerEncoderLayer`
and `TransformerEncoder`, with PyTorch's arguments, defaults, outputs and parameter names
(`in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`, or `q_proj_weight`,
`k_proj_weight`, `v_proj_weight` when `kdim`/`vdim` differ from `embed_dim`; the encoder
layer's `self_attn`, `linear1`, `dropout`, `linear2`, `norm1`, `norm2`, `dropout1`,
`dropout2`; the encoder's `layers.0...`), so PyTorch state dicts converted to NumPy arrays load
with `load_state_dict` and give PyTorch's outputs.

Masks mean what they mean in PyTorch:
- `MultiheadAttention`'s `attn_mask` ((L, S) or (N * num_heads, L, S)) and `key_padding_mask`
  ((N, S)): a boolean True marks a position that may NOT be attended to; a float mask is added
  to the attention scores (use -inf to forbid).
- `scaled_dot_product_attention`'s `attn_mask`: a boolean True marks a position that MAY be
  attended to (PyTorch's convention there is the opposite of MultiheadAttention's); a float
  mask is added. `is_causal=True` lets query i see keys 0..i.

Fully masked rows: a query whose keys are all forbidden gets attention weights of zero, so its
attention output is zero (in MultiheadAttention: `out_proj.bias`) and no gradient flows through
its scores; nothing becomes NaN, in the values or in the gradients. PyTorch's
`scaled_dot_product_attention` and its `need_weights=False` path give the same zeros; its
`need_weights=True` path gives NaN there.
"""

import copy
import math

import numpy as np

import chainrule.numpy as cnp
from chainrule.core.dtypes import dtype_of
from chainrule.core.primitive import TRACED_TYPES
from chainrule.errors import ShapeError
from chainrule.nn import functional as F
from chainrule.nn import init
from chainrule.nn.layers import Dropout, Linear
from chainrule.nn.module import Module, ModuleList, _check_device, check_input_dtype
from chainrule.nn.norm import LayerNorm
from chainrule.nn.parameter import Parameter
from chainrule.transforms import stop_gradient

__all__ = [
    "scaled_dot_product_attention", "MultiheadAttention", "TransformerEncoderLayer",
    "TransformerEncoder",
]


# ----- the attention itself --------------------------------------------------------------------
def _masked_softmax(scores, allowed=None):
    """softmax over the last axis of `scores` (which may hold -inf) where `allowed` (a boolean
    array broadcasting against it, or None) is True. A row with nothing allowed (or all -inf)
    gives zeros, not NaN, and its gradient is zero."""
    if allowed is not None:
        scores = cnp.where(allowed, scores, -np.inf)
    # Softmax does not change when every score of a row shifts by the same amount, so the shift
    # is a constant to differentiation; a row of -inf shifts by 0.
    peak = stop_gradient(cnp.max(scores, axis=-1, keepdims=True))
    peak = cnp.where(cnp.isfinite(peak), peak, 0.0)
    exponentials = cnp.exp(scores - peak)
    total = cnp.sum(exponentials, axis=-1, keepdims=True)
    return exponentials / cnp.where(total > 0, total, 1.0)


def _as_mask(mask):
    """A mask as an array: traced values (a learned float mask) as they are, anything else
    (lists included) through np.asarray."""
    return mask if mask is None or type(mask) in TRACED_TYPES else np.asarray(mask)


def _is_bool(mask) -> bool:
    return dtype_of(mask) == np.bool_


def _causal(queries, keys):
    """True where query i may see key j: j <= i (PyTorch's top-left aligned causal mask)."""
    return np.tril(np.ones((queries, keys), dtype=bool))


def _attend(query, key, value, allowed, bias, dropout_p, rng, scale):
    """(softmax(q k^T * scale + bias, masked to `allowed`) with dropout) @ v, and the weights."""
    scores = cnp.matmul(query, cnp.swapaxes(key, -1, -2)) * scale
    if bias is not None:
        scores = scores + bias
    if allowed is None and bias is None:
        weights = F.softmax(scores, axis=-1)
    else:
        weights = _masked_softmax(scores, allowed)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, True, rng)
    return cnp.matmul(weights, value), weights


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, *, rng=None):
    """softmax(query @ key^T * scale + mask) @ value over the last two axes, PyTorch's
    `F.scaled_dot_product_attention`: query (..., L, E), key (..., S, E), value (..., S, Ev).

    `attn_mask` broadcasts to (..., L, S): boolean True where a query MAY attend to a key, or a
    float added to the scores. `is_causal=True` allows key j for query i only when j <= i (and
    cannot be combined with attn_mask, as in PyTorch). `scale` defaults to 1/sqrt(E).
    `dropout_p` drops attention weights (always, as PyTorch's function does; pass 0 in
    evaluation) with masks drawn from `rng`. A query row with no allowed key outputs zeros.
    """
    q_shape, k_shape, v_shape = (tuple(cnp.shape(a)) for a in (query, key, value))
    if len(q_shape) < 2 or len(k_shape) < 2 or len(v_shape) < 2:
        raise ShapeError(
            "scaled_dot_product_attention needs query (..., L, E), key (..., S, E) and value "
            f"(..., S, Ev), got shapes {q_shape}, {k_shape} and {v_shape}"
        )
    if q_shape[-1] != k_shape[-1] or k_shape[-2] != v_shape[-2]:
        raise ShapeError(
            "scaled_dot_product_attention: query and key must share the last axis and key and "
            f"value the second to last: got query {q_shape}, key {k_shape}, value {v_shape}"
        )
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1), got "
                         f"{dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(
            "scaled_dot_product_attention: pass attn_mask or is_causal=True, not both (PyTorch "
            "refuses the pair too); fold the causal mask into attn_mask instead"
        )
    scale = 1.0 / math.sqrt(q_shape[-1]) if scale is None else float(scale)
    attn_mask = _as_mask(attn_mask)
    allowed = bias = None
    if is_causal:
        allowed = _causal(q_shape[-2], k_shape[-2])
    elif attn_mask is not None:
        if _is_bool(attn_mask):
            allowed = attn_mask
        else:
            bias = attn_mask
    out, _ = _attend(query, key, value, allowed, bias, float(dropout_p), rng, scale)
    return out


# ----- MultiheadAttention ----------------------------------------------------------------------
class MultiheadAttention(Module):
    """Multi-head attention, PyTorch's `nn.MultiheadAttention`:
    out_proj(concat_h(attention(q W_q^h, k W_k^h, v W_v^h))).

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None), with query
    (L, N, E) (`batch_first=True`: (N, L, E); unbatched: (L, E)), key (S, N, kdim), value
    (S, N, vdim). The weights are (N, L, S) averaged over heads, or (N, num_heads, L, S);
    they are those after dropout, as PyTorch returns them. See the module docstring for the
    masks. `is_causal=True` without an attn_mask applies the causal mask (PyTorch asks for the
    mask as well); with one, attn_mask is used as given (PyTorch's "hint").

    Initialisation as PyTorch: Xavier-uniform projections, zero in_proj_bias and out_proj.bias,
    out_proj.weight U(-1/sqrt(E), 1/sqrt(E)).

    Returns:
        `layer(query, key, value)` gives (output, weights), output shaped like query with
        embed_dim features; weights (N, L, S) averaged over heads, per head with
        average_attn_weights=False, or None with need_weights=False.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, *, rng=None,
                 dtype=np.float32, device=None):
        super().__init__()
        _check_device(device)
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                "MultiheadAttention: add_bias_kv and add_zero_attn are not supported; append "
                "the extra key/value rows to key and value yourself"
            )
        embed_dim, num_heads = int(embed_dim), int(num_heads)
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple of "
                f"num_heads ({num_heads})"
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout}")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else int(kdim)
        self.vdim = embed_dim if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout = float(dropout)
        self.batch_first = bool(batch_first)
        self._rng = np.random.default_rng(rng)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(
                init.xavier_uniform((3 * embed_dim, embed_dim), self._rng, dtype=dtype))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight = Parameter(
                init.xavier_uniform((embed_dim, embed_dim), self._rng, dtype=dtype))
            self.k_proj_weight = Parameter(
                init.xavier_uniform((embed_dim, self.kdim), self._rng, dtype=dtype))
            self.v_proj_weight = Parameter(
                init.xavier_uniform((embed_dim, self.vdim), self._rng, dtype=dtype))
            self.in_proj_weight = None
        self.in_proj_bias = Parameter(init.zeros(3 * embed_dim, dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, rng=self._rng, dtype=dtype)
        bound = 1.0 / math.sqrt(embed_dim)
        self.out_proj.weight = Parameter(
            init.uniform((embed_dim, embed_dim), bound, self._rng, dtype))

    def _projections(self, query, key, value, same):
        e = self.embed_dim
        b = self.in_proj_bias
        b_q, b_k, b_v = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if same:  # self-attention: one product for q, k and v
                qkv = F.linear(query, w, b)
                return qkv[..., :e], qkv[..., e:2 * e], qkv[..., 2 * e:]
            w_q, w_k, w_v = w[:e], w[e:2 * e], w[2 * e:]
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        batched = self._check_inputs(query, key, value)
        same = query is key and key is value
        key_padding_mask, attn_mask = _as_mask(key_padding_mask), _as_mask(attn_mask)
        if not batched:
            query, key, value = (cnp.expand_dims(a, 1) for a in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = cnp.expand_dims(key_padding_mask, 0)
        elif self.batch_first:  # work sequence-first as PyTorch does; swap back at the end
            query, key, value = (cnp.swapaxes(a, 0, 1) for a in (query, key, value))
        targets, batch, _ = cnp.shape(query)
        sources = cnp.shape(key)[0]
        allowed, bias = self._masks(key_padding_mask, attn_mask, is_causal, batch, targets,
                                    sources)
        q, k, v = self._projections(query, key, value, same)
        heads, head_dim = self.num_heads, self.head_dim

        def split_heads(x, length):  # (length, N, E) -> (N, heads, length, head_dim)
            return cnp.transpose(cnp.reshape(x, (length, batch, heads, head_dim)), (1, 2, 0, 3))

        dropout_p = self.dropout if self.training else 0.0
        out, weights = _attend(split_heads(q, targets), split_heads(k, sources),
                               split_heads(v, sources), allowed, bias, dropout_p, self._rng,
                               1.0 / math.sqrt(head_dim))
        out = cnp.reshape(cnp.transpose(out, (2, 0, 1, 3)), (targets, batch, self.embed_dim))
        out = self.out_proj(out)
        if not batched:
            out = out[:, 0]
        elif self.batch_first:
            out = cnp.swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = cnp.mean(weights, axis=1)
        return out, (weights if batched else weights[0])

    def _check_inputs(self, query, key, value):
        shapes = [tuple(cnp.shape(a)) for a in (query, key, value)]
        ranks = {len(shape) for shape in shapes}
        e, kd, vd = self.embed_dim, self.kdim, self.vdim
        if self.batch_first:
            layout = f"query (N, L, {e}), key (N, S, {kd}) and value (N, S, {vd})"
        else:
            layout = f"query (L, N, {e}), key (S, N, {kd}) and value (S, N, {vd})"
        batched = ranks == {3}
        sequence_axis = 1 if batched and self.batch_first else 0
        ok = (
            ranks in ({2}, {3})
            and (shapes[0][-1], shapes[1][-1], shapes[2][-1]) == (e, kd, vd)
            and shapes[1][sequence_axis] == shapes[2][sequence_axis]
            and (not batched or len({s[1 - sequence_axis] for s in shapes}) == 1)
        )
        if not ok:
            raise ShapeError(
                f"{type(self).__name__}({self.extra_repr()}) expects {layout} (or, unbatched, "
                f"(L, {e}), (S, {kd}) and "
                f"(S, {vd})), got query {shapes[0]}, key {shapes[1]} and value {shapes[2]}"
            )
        check_input_dtype(self, query)
        return batched

    def _masks(self, key_padding_mask, attn_mask, is_causal, batch, targets, sources):
        """The masks as (allowed, bias), both broadcasting to (N, heads, L, S) or None."""
        name = type(self).__name__
        allowed = bias = None

        def combine(mask, shape):
            nonlocal allowed, bias
            if _is_bool(mask):
                keep = ~mask.reshape(shape)  # True = masked out, in PyTorch's MHA
                allowed = keep if allowed is None else allowed & keep
            else:
                mask = cnp.reshape(mask, shape)
                bias = mask if bias is None else bias + mask

        if key_padding_mask is not None:
            got = tuple(cnp.shape(key_padding_mask))
            if got != (batch, sources):
                raise ShapeError(
                    f"{name}: key_padding_mask must have shape (N, S) = {(batch, sources)} "
                    f"(unbatched: ({sources},)), got {got}"
                )
            combine(key_padding_mask, (batch, 1, 1, sources))
        if attn_mask is not None:
            got = tuple(cnp.shape(attn_mask))
            if got == (targets, sources):
                combine(attn_mask, (1, 1, targets, sources))
            elif got == (batch * self.num_heads, targets, sources):
                combine(attn_mask, (batch, self.num_heads, targets, sources))
            else:
                raise ShapeError(
                    f"{name}: attn_mask must have shape (L, S) = {(targets, sources)} or "
                    f"(N * num_heads, L, S) = {(batch * self.num_heads, targets, sources)}, "
                    f"got {got}"
                )
        elif is_causal:
            causal = _causal(targets, sources)
            allowed = causal if allowed is None else allowed & causal
        return allowed, bias

    def extra_repr(self):
        parts = [f"embed_dim={self.embed_dim}", f"num_heads={self.num_heads}"]
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if not self._qkv_same_embed_dim:
            parts.append(f"kdim={self.kdim}, vdim={self.vdim}")
        if self.batch_first:
            parts.append("batch_first=True")
        return ", ".join(parts)


# ----- the Transformer encoder ------------------------------------------------------------------
def _gelu(x):
    """The exact GELU, x/2 (1 + erf(x / sqrt(2))), PyTorch's default `F.gelu`."""
    from chainrule.scipy import special  # erf is a SciPy-backed row

    return 0.5 * x * (1.0 + special.erf(x * (1.0 / math.sqrt(2.0))))


# (cnp.relu is F.relu; nothing here reads `F` at import time, so nn.functional may re-export
# scaled_dot_product_attention from this module wherever it likes.)
_ACTIVATIONS = {"relu": cnp.relu, "gelu": _gelu}


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and layer
    norm, PyTorch's `nn.TransformerEncoderLayer` (post-norm by default, `norm_first=True` for
    pre-norm):

        x = norm1(x + dropout1(self_attn(x, x, x)))     x = x + dropout1(self_attn(norm1(x)))
        x = norm2(x + dropout2(ff(x)))                  x = x + dropout2(ff(norm2(x)))
        with ff(x) = linear2(dropout(activation(linear1(x))))

    forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False); the masks are
    MultiheadAttention's attn_mask and key_padding_mask. `activation` is "relu", "gelu" (the
    exact, erf form, which needs SciPy) or a callable.

    Returns:
        `layer(src)` gives a Tensor of src's shape.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, *,
                 rng=None, dtype=np.float32, device=None):
        super().__init__()
        _check_device(device)
        rng = np.random.default_rng(rng)
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(
                    f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable, "
                    f"got {activation!r}"
                )
            activation = _ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(
                "TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable, got "
                f"{type(activation).__name__}"
            )
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, rng=rng, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, rng=rng, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, rng=rng, dtype=dtype)
        self.norm_first = bool(norm_first)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype)
        if not bias:  # PyTorch's LayerNorm(bias=False)
            self.norm1.bias = self.norm2.bias = None
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.activation = activation
        self.batch_first = bool(batch_first)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._self_attention(self.norm1(x), src_mask, src_key_padding_mask,
                                         is_causal)
            x = x + self._feed_forward(self.norm2(x))
        else:
            x = self.norm1(x + self._self_attention(x, src_mask, src_key_padding_mask,
                                                    is_causal))
            x = self.norm2(x + self._feed_forward(x))
        return x

    def _self_attention(self, x, attn_mask, key_padding_mask, is_causal):
        out, _ = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)
        return self.dropout1(out)

    def _feed_forward(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """A stack of `num_layers` copies of `encoder_layer` (deep copies, as PyTorch: each has its
    own parameters, state names `layers.0...`), then `norm` if given.

    forward(src, mask=None, src_key_padding_mask=None, is_causal=None) passes the masks to
    every layer. The copies' dropout layers draw from independent streams spawned from the
    original's generators (deep copies would otherwise repeat the same masks in every layer).

    Returns:
        `encoder(src)` gives a Tensor of src's shape.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        if not isinstance(encoder_layer, Module):
            raise TypeError(
                f"TransformerEncoder: encoder_layer must be a Module, got "
                f"{type(encoder_layer).__name__}"
            )
        if int(num_layers) <= 0:
            raise ValueError(f"TransformerEncoder: num_layers must be positive, got {num_layers}")
        self.layers = ModuleList([_fresh_copy(encoder_layer) for _ in range(int(num_layers))])
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return x if self.norm is None else self.norm(x)


def _fresh_copy(module):
    """A deep copy whose random generators are new streams spawned from the original's."""
    clone = copy.deepcopy(module)
    for original, copied in zip(module.modules(), clone.modules(), strict=True):
        for name in ("rng", "_rng"):
            generator = original.__dict__.get(name)
            if isinstance(generator, np.random.Generator):
                object.__setattr__(copied, name, generator.spawn(1)[0])
    return clone
