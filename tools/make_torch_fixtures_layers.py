"""Write tests/fixtures/torch_layers.npz: PyTorch's answers for the nn layers, for
tests/test_nn_layers_more.py to compare chainrule's against (float64 throughout).

    .venv-bench/bin/python tools/make_torch_fixtures_layers.py

Each case builds one torch.nn layer with a fixed seed, draws its parameters (and BatchNorm's
running statistics) at random so that no identity initialisation hides a layout mistake, and
runs one input through it in the case's mode. The test builds chainrule's layer of the same
name with the same arguments, loads the saved state_dict with load_state_dict (so names,
shapes and layouts must be PyTorch's) and compares outputs and gradients.

Layout (flat names in one .npz, no pickles):
    meta                    UTF-8 JSON: {case: {"layer": class name in torch.nn and nn,
                            "args": [...], "kwargs": {...}, "train": bool, "state": [state_dict
                            keys in order], "grads": [parameter names with gradients]}}; a
                            JSON list stands for a tuple argument
    <case>.input            the input (float64, or int64 for Embedding)
    <case>.output           layer(input)
    <case>.grad_input       d output.sum() / d input (floating inputs only)
    <case>.state.<key>      the state_dict before the call
    <case>.grad.<name>      d output.sum() / d parameter
    <case>.after.<key>      the state_dict after the call (layers with buffers, training mode)
"""

import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "torch_layers.npz")
torch.set_default_dtype(torch.float64)

# (case, layer, args, kwargs, input shape, training mode)
CASES = [
    ("conv1d", "Conv1d", [3, 4, 3], {}, (2, 3, 9), False),
    ("conv1d_strided_grouped", "Conv1d", [4, 6, 3],
     {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}, (2, 4, 11), False),
    ("conv1d_same_reflect", "Conv1d", [2, 3, 4],
     {"padding": "same", "padding_mode": "reflect", "bias": False}, (2, 2, 8), False),
    ("conv2d", "Conv2d", [2, 3, 3], {"padding": 1}, (2, 2, 5, 4), False),
    ("conv2d_grouped_dilated", "Conv2d", [4, 6, [3, 2]],
     {"stride": [2, 1], "padding": [2, 1], "dilation": [2, 1], "groups": 2}, (2, 4, 7, 6),
     False),
    ("conv2d_circular", "Conv2d", [2, 2, 3], {"padding": 1, "padding_mode": "circular"},
     (1, 2, 4, 5), False),
    ("conv_transpose2d", "ConvTranspose2d", [3, 2, 3],
     {"stride": 2, "padding": 1, "output_padding": 1}, (2, 3, 4, 5), False),
    ("conv_transpose2d_grouped", "ConvTranspose2d", [4, 6, [3, 2]],
     {"stride": [2, 3], "padding": [0, 1], "output_padding": [1, 2], "groups": 2,
      "dilation": [1, 2]}, (2, 4, 3, 4), False),
    ("conv_transpose2d_wide_padding", "ConvTranspose2d", [2, 2, 3],
     {"stride": 2, "padding": 3, "bias": False}, (1, 2, 6, 6), False),
    ("max_pool1d", "MaxPool1d", [3], {"stride": 2, "padding": 1}, (2, 3, 10), False),
    ("max_pool1d_dilated_ceil", "MaxPool1d", [3], {"stride": 2, "dilation": 2,
                                                   "ceil_mode": True}, (2, 3, 10), False),
    ("max_pool2d_ceil", "MaxPool2d", [3], {"stride": 2, "padding": 1, "ceil_mode": True},
     (1, 2, 6, 7), False),
    ("adaptive_avg_pool2d", "AdaptiveAvgPool2d", [[3, 2]], {}, (2, 3, 7, 5), False),
    ("adaptive_avg_pool2d_keep", "AdaptiveAvgPool2d", [[None, 3]], {}, (1, 2, 5, 8), False),
    ("adaptive_avg_pool2d_global", "AdaptiveAvgPool2d", [1], {}, (2, 2, 3, 3), False),
    ("group_norm", "GroupNorm", [2, 4], {}, (3, 4, 5, 2), False),
    ("group_norm_seq", "GroupNorm", [3, 6], {"eps": 1e-3}, (2, 6, 5), False),
    ("dropout2d_eval", "Dropout2d", [0.5], {}, (2, 3, 2, 2), False),
    ("leaky_relu", "LeakyReLU", [0.2], {}, (4, 5), False),
    ("elu", "ELU", [0.7], {}, (4, 5), False),
    ("silu", "SiLU", [], {}, (4, 5), False),
    ("softplus", "Softplus", [], {"beta": 2.0, "threshold": 5.0}, (4, 5), False),
    ("softplus_default", "Softplus", [], {}, (4, 5), False),
    ("mish", "Mish", [], {}, (4, 5), False),
    ("hardtanh", "Hardtanh", [-0.5, 0.8], {}, (4, 5), False),
    # Layers that existed before: their state_dict layout must be PyTorch's too.
    ("linear", "Linear", [5, 3], {}, (4, 5), False),
    ("batch_norm1d_train", "BatchNorm1d", [4], {}, (6, 4), True),
    ("batch_norm2d_eval", "BatchNorm2d", [3], {}, (2, 3, 4, 4), False),
    ("layer_norm", "LayerNorm", [[3, 4]], {}, (2, 3, 4), False),
    ("embedding", "Embedding", [6, 3], {}, (2, 4), False),
]

# Inputs spread so that every regime shows: both sides of 0, past softplus's threshold,
# beyond hardtanh's ends.
SCALE = {"softplus": 4.0, "softplus_default": 12.0, "hardtanh": 1.5, "elu": 2.0}


def tuples(value):
    if isinstance(value, list):
        return tuple(tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: tuples(v) for k, v in value.items()}
    return value


def main():
    rng = np.random.default_rng(20240616)
    arrays, meta = {}, {}
    for case, layer_name, args, kwargs, shape, train in CASES:
        torch.manual_seed(len(meta))
        layer = getattr(torch.nn, layer_name)(*tuples(args), **tuples(kwargs)).double()
        with torch.no_grad():
            for parameter in layer.parameters():
                parameter.copy_(torch.tensor(rng.standard_normal(parameter.shape) * 0.7))
            if layer_name.startswith("BatchNorm"):
                layer.running_mean.copy_(torch.tensor(rng.standard_normal(layer.num_features)))
                layer.running_var.copy_(torch.tensor(rng.uniform(0.5, 2.0, layer.num_features)))
                layer.num_batches_tracked.fill_(3)
        layer.train(train)
        state = {k: v.detach().numpy().copy() for k, v in layer.state_dict().items()}
        if layer_name == "Embedding":
            x = torch.tensor(rng.integers(0, args[0], shape))
        else:
            x = torch.tensor(rng.standard_normal(shape) * SCALE.get(case, 1.0),
                             requires_grad=True)
        out = layer(x)
        out.sum().backward()
        arrays[f"{case}.input"] = x.detach().numpy()
        arrays[f"{case}.output"] = out.detach().numpy()
        if x.grad is not None:
            arrays[f"{case}.grad_input"] = x.grad.numpy()
        for key, value in state.items():
            arrays[f"{case}.state.{key}"] = value
        grads = []
        for name, parameter in layer.named_parameters():
            if parameter.grad is not None:
                grads.append(name)
                arrays[f"{case}.grad.{name}"] = parameter.grad.numpy()
        if train and list(layer.buffers()):
            for key, value in layer.state_dict().items():
                arrays[f"{case}.after.{key}"] = value.detach().numpy().copy()
        meta[case] = {"layer": layer_name, "args": args, "kwargs": kwargs, "train": train,
                      "state": list(state), "grads": grads}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {os.path.normpath(OUT)}: {len(meta)} cases, {os.path.getsize(OUT)} bytes "
          f"(torch {torch.__version__})")


if __name__ == "__main__":
    main()
