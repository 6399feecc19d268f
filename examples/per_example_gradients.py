"""Per-example gradients of an MLP with cr.vmap(cr.grad(...)), and DP-SGD built on them.

`nn.functional_call` runs the model as a function of a dict of parameters, so the loss of one
example is a plain function `loss(params, image, label)`; `cr.vmap(cr.grad(loss),
in_axes=(None, 0, 0))` returns every example's gradient in one vectorised call. DP-SGD (Abadi
et al., 2016) clips each example's gradient to norm C, sums, adds Gaussian noise of standard
deviation sigma * C and divides by the batch size, so no single example moves the model much.
Run: python examples/per_example_gradients.py  (the digits need `pip install 'chainrule[train]'`)
"""

import argparse

import numpy as np

import chainrule as cr
import chainrule.nn as nn
from chainrule.data import load_digits
from chainrule.nn import functional as F


def per_example_gradients(model, params, images, labels):
    """{name: array (batch, *parameter shape)}: the gradient of each example's loss."""

    def loss(params, image, label):  # one example: give it a batch axis of 1 for the model
        logits = nn.functional_call(model, params, (image[None],))
        return F.cross_entropy(logits, label[None])

    return cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, images, labels)


def gradient_norms(grads):
    """Each example's gradient norm over all parameters together, shape (batch,)."""
    squares = [np.sum(g.reshape(len(g), -1) ** 2, axis=1) for g in grads.values()]
    return np.sqrt(np.sum(squares, axis=0))


def dp_sgd_step(params, grads, clip, noise_multiplier, lr, rng):
    """Clip each example's gradient to norm `clip`, average, add noise, take a step."""
    norms = gradient_norms(grads)
    scale = np.minimum(1.0, clip / np.maximum(norms, 1e-12))  # per-example clipping factor
    updated = {}
    for name, g in grads.items():
        clipped_sum = np.tensordot(scale, g, axes=1)  # sum over examples of scale_i * g_i
        noise = noise_multiplier * clip * rng.standard_normal(g.shape[1:])
        step = (clipped_sum + noise) / len(norms)
        updated[name] = (params[name] - lr * step).astype(g.dtype)
    return updated, norms


def accuracy(model, params, images, labels):
    logits = nn.functional_call(model, params, (images,))
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--quick", action="store_true", help="fewer steps (tests)")
    args = parser.parse_args(argv)
    steps = 150 if args.quick else args.steps
    clip, noise_multiplier, lr, batch_size = 1.0, 1.0, 0.5, 64

    train, test = load_digits()
    images, labels = train.arrays[0].reshape(-1, 64), train.arrays[1]
    test_images, test_labels = test.arrays[0].reshape(-1, 64), test.arrays[1]
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(64, 32, rng=rng), nn.ReLU(), nn.Linear(32, 10, rng=rng))
    params = model.parameters_dict()  # {"0.weight": (32, 64), "0.bias": (32,), ...}

    first = rng.choice(len(labels), batch_size, replace=False)
    grads = per_example_gradients(model, params, images[first], labels[first])
    norms = gradient_norms(grads)
    print(f"per-example gradients: {', '.join(f'{k} {v.shape}' for k, v in grads.items())}")
    print(f"their norms at initialisation: min {norms.min():.3f}, median "
          f"{np.median(norms):.3f}, max {norms.max():.3f}; {np.mean(norms > clip):.0%} are "
          f"clipped at C = {clip}")

    for _ in range(steps):
        batch = rng.choice(len(labels), batch_size, replace=False)
        grads = per_example_gradients(model, params, images[batch], labels[batch])
        params, norms = dp_sgd_step(params, grads, clip, noise_multiplier, lr, rng)
    model.load_state_dict(params)  # the trained values back into the module's Parameters
    with cr.no_grad():
        test_accuracy = float(np.mean(np.argmax(model(test_images).numpy(), axis=1)
                                      == test_labels))
    print(f"DP-SGD, {steps} steps of {batch_size} (C = {clip}, sigma = {noise_multiplier}): "
          f"test accuracy {test_accuracy:.3f}; median gradient norm now {np.median(norms):.3f}")
    return {"model": model, "params": params, "test_accuracy": test_accuracy,
            "images": test_images, "labels": test_labels}


if __name__ == "__main__":
    main()
