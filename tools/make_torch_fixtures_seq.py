"""Write tests/fixtures/torch_seq.npz: PyTorch's answers for the sequence layers (RNN, LSTM,
GRU and their cells, MultiheadAttention, TransformerEncoderLayer / TransformerEncoder and
F.scaled_dot_product_attention), for tests/test_nn_recurrent.py and tests/test_nn_attention.py
to compare against (float64 throughout, small sizes, fixed seeds).

    .venv-bench/bin/python tools/make_torch_fixtures_seq.py

Layout (one .npz, no pickles; the arrays are packed into three flat buffers, as ~1000 small
.npy entries would cost more in headers than in data):
    meta                      UTF-8 JSON: "cases": for each case the chainrule.nn class (or
                              function), its constructor keyword arguments, the forward call's
                              positional and keyword arguments (an argument written
                              {"array": name} is the array `<case>.in.<name>`, {"tuple": [...]}
                              a tuple of them), the number of flattened outputs and the names
                              of the gradients stored; "index": for each array name below its
                              buffer, offset and shape
    float64, int64, bool      the buffers
Array names:
    <case>.state.<key>        the module's state_dict() as NumPy arrays
    <case>.in.<name>          input arrays (integer lengths, boolean masks, float data)
    <case>.out.<k>            the flattened outputs, in the order meta names them
    <case>.grad.<name>        gradients of the loss below with respect to the float inputs
                              (`input.<name>`) and to every parameter (`param.<key>`)

The loss is outputs[0].sum() + sum((o ** 2).sum() for o in outputs[1:]), so the final states
(h_n, c_n) and attention weights are checked too. Padded batches run PyTorch's packed path:
pack_padded_sequence(enforce_sorted=False), then pad_packed_sequence(total_length=T), which
chainrule's `lengths=` reproduces. Modules run in training mode with dropout 0, so PyTorch
takes its reference (non-fused) paths.
"""

import json
import os
import warnings

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "torch_seq.npz")
torch.set_default_dtype(torch.float64)
# PyTorch prefers a float key_padding_mask beside a float attn_mask; mixing is the point here.
warnings.filterwarnings("ignore", message="Support for mismatched")
torch.manual_seed(20240617)
RNG = np.random.default_rng(20240617)
arrays = {}
meta = {}


def put(name, value):
    arrays[name] = np.ascontiguousarray(np.asarray(value))


def flatten(result):
    if isinstance(result, torch.Tensor):
        return [result]
    out = []
    for part in result:
        out.extend(flatten(part) if part is not None else [])
    return out


def record(case, kind, module, init, args, kwargs, run):
    """Store the case: `args`/`kwargs` hold numpy arrays (stored as inputs) or plain values;
    `run(*torch_args, **torch_kwargs)` computes PyTorch's result."""
    prefix = f"{case}."
    for key, value in (module.state_dict().items() if module is not None else ()):
        put(prefix + "state." + key, value.detach().numpy())

    seen = {}  # one array passed twice (self-attention) is one input, one tensor

    def convert(name, value):
        if isinstance(value, np.ndarray):
            if id(value) in seen:
                return seen[id(value)]
            put(prefix + "in." + name, value)
            tensor = torch.tensor(value)
            if value.dtype.kind == "f":
                tensor.requires_grad_(True)
            seen[id(value)] = {"array": name}, tensor
            return seen[id(value)]
        if isinstance(value, tuple):  # an LSTM state (h_0, c_0)
            pairs = [convert(f"{name}{k}", v) for k, v in enumerate(value)]
            return {"tuple": [p[0] for p in pairs]}, tuple(p[1] for p in pairs)
        return value, value

    names = [f"arg{k}" for k in range(len(args))]
    converted_args = [convert(n, a) for n, a in zip(names, args)]
    converted_kwargs = {k: convert(k, v) for k, v in kwargs.items()}
    torch_args = [c[1] for c in converted_args]
    torch_kwargs = {k: c[1] for k, c in converted_kwargs.items()}
    outputs = flatten(run(*torch_args, **torch_kwargs))
    loss = outputs[0].sum() + sum((o ** 2).sum() for o in outputs[1:])
    loss.backward()
    for k, o in enumerate(outputs):
        put(prefix + f"out.{k}", o.detach().numpy())
    grads = []

    def leaves(name, tensor):
        if isinstance(tensor, tuple):
            for k, t in enumerate(tensor):
                yield from leaves(f"{name}{k}", t)
        elif isinstance(tensor, torch.Tensor) and tensor.requires_grad:
            yield name, tensor

    done = set()
    for name, tensor in [*zip(names, torch_args), *torch_kwargs.items()]:
        for leaf_name, leaf in leaves(name, tensor):
            if id(leaf) in done:
                continue
            done.add(id(leaf))
            put(prefix + f"grad.input.{leaf_name}", leaf.grad.numpy())
            grads.append(f"input.{leaf_name}")
    if module is not None:
        for key, parameter in module.named_parameters():
            put(prefix + f"grad.param.{key}", parameter.grad.numpy())
            grads.append(f"param.{key}")
    meta[case] = {
        "kind": kind, "init": init,
        "args": [c[0] for c in converted_args],
        "kwargs": {k: c[0] for k, c in converted_kwargs.items()},
        "outputs": len(outputs), "grads": grads,
    }


def data(*shape):
    return RNG.normal(size=shape)


def lengths_for(batch, steps):
    values = RNG.integers(1, steps + 1, size=batch)
    values[0] = steps  # pad_packed_sequence pads to the longest: keep one full sequence
    return values.astype(np.int64)


# ----- recurrent layers --------------------------------------------------------------------------
def recurrent_case(case, kind, init, batch_first, steps=4, batch=3, with_lengths=False,
                   with_state=False, unbatched=False):
    """Sequences of `steps` steps, `batch` of them (input_size features)."""
    torch_class = getattr(nn, kind)
    module = torch_class(batch_first=batch_first, **init)
    size = init["input_size"]
    if unbatched:
        x = data(steps, size)
    else:
        x = data(batch, steps, size) if batch_first else data(steps, batch, size)
    kwargs = {}
    directions = 2 if init.get("bidirectional") else 1
    layers = init.get("num_layers", 1)
    out_size = init.get("proj_size") or init["hidden_size"]
    if with_state:
        lead = (layers * directions,) if unbatched else (layers * directions, batch)
        h0 = data(*lead, out_size)
        kwargs["hx"] = (h0, data(*lead, init["hidden_size"])) if kind == "LSTM" else h0
    lengths = lengths_for(batch, steps) if with_lengths else None
    if with_lengths:
        kwargs["lengths"] = lengths

    def run(x, hx=None, lengths=None):
        if lengths is None:
            return module(x, hx)
        packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        out, state = module(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=steps)
        return out, state

    record(case, kind, module, dict(init, batch_first=batch_first), [x], kwargs, run)


def recurrent():
    small = {"input_size": 3, "hidden_size": 4}
    deep = dict(small, num_layers=2, bidirectional=True)
    for kind in ("GRU", "LSTM"):
        low = kind.lower()
        recurrent_case(f"{low}_deep_seq_first", kind, deep, False, with_state=True)
        recurrent_case(f"{low}_deep_batch_first", kind, deep, True)
        recurrent_case(f"{low}_deep_lengths_seq_first", kind, deep, False, with_lengths=True,
                       with_state=True)
        recurrent_case(f"{low}_deep_lengths_batch_first", kind, deep, True, with_lengths=True)
        recurrent_case(f"{low}_unbatched", kind, dict(small, num_layers=2), False,
                       with_state=True, unbatched=True)
        recurrent_case(f"{low}_no_bias", kind, dict(small, bias=False), True)
    recurrent_case("lstm_proj_lengths", "LSTM", dict(deep, proj_size=2), True, with_lengths=True,
                   with_state=True)
    for nonlinearity in ("tanh", "relu"):
        recurrent_case(f"rnn_{nonlinearity}_deep", "RNN", dict(deep, nonlinearity=nonlinearity),
                       False, with_state=True)
        recurrent_case(f"rnn_{nonlinearity}_lengths", "RNN",
                       dict(deep, nonlinearity=nonlinearity), True, with_lengths=True)
    for kind, init in (("RNNCell", {"nonlinearity": "tanh"}), ("RNNCell", {"nonlinearity": "relu"}),
                       ("LSTMCell", {}), ("GRUCell", {})):
        module = getattr(nn, kind)(3, 4, **init)
        init = dict(init, input_size=3, hidden_size=4)
        name = f"{kind.lower()}_{init.get('nonlinearity', '')}".rstrip("_")
        state = (data(2, 4), data(2, 4)) if kind == "LSTMCell" else data(2, 4)
        record(name, kind, module, init, [data(2, 3), state], {}, module)
        module.zero_grad()
        unbatched_state = (data(4), data(4)) if kind == "LSTMCell" else data(4)
        record(name + "_unbatched", kind, module, init, [data(3), unbatched_state], {}, module)


# ----- attention ---------------------------------------------------------------------------------
def padding_mask(batch, sources):
    mask = RNG.random((batch, sources)) < 0.4
    mask[:, 0] = False  # no query sees only padding (PyTorch's weights would be NaN)
    return mask


def attention():
    embed, heads, n, tgt, src = 4, 2, 2, 3, 4
    module = nn.MultiheadAttention(embed, heads)
    x = data(tgt, n, embed)
    causal = np.triu(np.ones((tgt, tgt), dtype=bool), 1)  # True = may not attend
    record("mha_self_masks", "MultiheadAttention", module, {"embed_dim": embed, "num_heads": heads},
           [x, x, x], {"key_padding_mask": padding_mask(n, tgt), "attn_mask": causal}, module)
    module = nn.MultiheadAttention(embed, heads, batch_first=True)
    record("mha_cross_batch_first", "MultiheadAttention", module,
           {"embed_dim": embed, "num_heads": heads, "batch_first": True},
           [data(n, tgt, embed), data(n, src, embed), data(n, src, embed)],
           {"key_padding_mask": padding_mask(n, src), "average_attn_weights": False}, module)
    module = nn.MultiheadAttention(embed, heads, kdim=3, vdim=5, batch_first=True)
    float_mask = data(n * heads, tgt, src)
    record("mha_kdim_vdim_float_masks", "MultiheadAttention", module,
           {"embed_dim": embed, "num_heads": heads, "kdim": 3, "vdim": 5, "batch_first": True},
           [data(n, tgt, embed), data(n, src, 3), data(n, src, 5)],
           {"attn_mask": float_mask, "key_padding_mask": np.where(padding_mask(n, src), -1e4, 0.0)},
           module)
    module = nn.MultiheadAttention(embed, heads, bias=False)
    record("mha_unbatched_no_bias", "MultiheadAttention", module,
           {"embed_dim": embed, "num_heads": heads, "bias": False},
           [data(tgt, embed), data(src, embed), data(src, embed)],
           {"key_padding_mask": padding_mask(1, src)[0], "need_weights": False}, module)

    def encoder_layer(**kw):
        return nn.TransformerEncoderLayer(embed, heads, dim_feedforward=6, dropout=0.0, **kw)

    mask = nn.Transformer.generate_square_subsequent_mask(src).numpy()  # float, -inf above
    for case, kw in (("encoder_layer_post_relu", {}),
                     ("encoder_layer_pre_gelu", {"norm_first": True, "activation": "gelu"}),
                     ("encoder_layer_batch_first", {"batch_first": True})):
        module = encoder_layer(**kw)
        shape = (n, src, embed) if kw.get("batch_first") else (src, n, embed)
        record(case, "TransformerEncoderLayer", module,
               dict(kw, d_model=embed, nhead=heads, dim_feedforward=6, dropout=0.0),
               [data(*shape)], {"src_mask": mask, "src_key_padding_mask": padding_mask(n, src)},
               module)
    module = nn.TransformerEncoder(encoder_layer(batch_first=True), 2, norm=nn.LayerNorm(embed),
                                   enable_nested_tensor=False)
    causal = np.triu(np.ones((src, src), dtype=bool), 1)
    record("encoder_two_layers_norm", "TransformerEncoder", module,
           {"layer": {"d_model": embed, "nhead": heads, "dim_feedforward": 6, "dropout": 0.0,
                      "batch_first": True}, "num_layers": 2, "norm": embed},
           [data(n, src, embed)], {"mask": causal, "src_key_padding_mask": padding_mask(n, src)},
           module)

    q, k, v = data(2, 2, tgt, 3), data(2, 2, src, 3), data(2, 2, src, 5)
    for case, kw in (("sdpa_plain", {}), ("sdpa_causal", {"is_causal": True}),
                     ("sdpa_bool_mask", {"attn_mask": RNG.random((tgt, src)) < 0.7}),
                     ("sdpa_float_mask_scale", {"attn_mask": data(2, tgt, src), "scale": 0.3})):
        if "attn_mask" in kw and kw["attn_mask"].dtype == bool:
            kw["attn_mask"][:, 0] = True  # every query sees a key
        record(case, "scaled_dot_product_attention", None, {}, [q, k, v], kw,
               F.scaled_dot_product_attention)


def main():
    recurrent()
    attention()
    buffers = {"float64": [], "int64": [], "bool": []}
    index, sizes = {}, dict.fromkeys(buffers, 0)
    for name, value in arrays.items():
        kind = {"f": "float64", "i": "int64", "b": "bool"}[value.dtype.kind]
        index[name] = [kind, sizes[kind], list(value.shape)]
        buffers[kind].append(value.astype(kind).ravel())
        sizes[kind] += value.size
    packed = {kind: np.concatenate(parts) if parts else np.zeros(0, kind)
              for kind, parts in buffers.items()}
    text = json.dumps({"cases": meta, "index": index}, sort_keys=True)
    np.savez_compressed(OUT, meta=np.frombuffer(text.encode(), dtype=np.uint8), **packed)
    print(f"wrote {os.path.normpath(OUT)}: {len(meta)} cases, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
