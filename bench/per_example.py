"""Issue #12's case: per-example gradients of a 64-128-10 MLP over 256 digits examples.

chainrule's `cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))` is timed against a Python loop of
`cr.grad(loss)` over the same examples (the "chainrule loop" column; target: vmap at most 0.1x
the loop's time, i.e. at least 10x faster), against `torch.func.vmap(torch.func.grad(...))`
(target: at most 1.5x its time) and against JAX's `jax.vmap(jax.grad(...))`, eager and jitted.

The per-example loss is softmax cross-entropy, `-log_softmax(tanh(x W1 + b1) W2 + b2)[y]`, of
one flattened 8x8 image `x` (float32, as bench/training.py's digits) and its integer label `y`.
The model is a plain function of a params dict, so no column depends on a module system.
Every column's gradients are checked once, before timing, against a closed-form NumPy
float64 computation (an AssertionError stops the case if one disagrees).
"""

import functools

import numpy as np

from bench.harness import Case
from bench.peers import load
from bench.training import digits_arrays

__all__ = ["CASES", "problem", "reference_gradients", "KEYS"]

EXAMPLES = 256
SIZES = (64, 128, 10)
KEYS = ("W1", "b1", "W2", "b2")  # the order the gradients are compared and returned in
RTOL, ATOL = 1e-4, 1e-6  # float32 gradients against the float64 reference


@functools.cache
def problem():
    """(params dict of float32 arrays, X (256, 64) float32, y (256,) int64, data note)."""
    images, labels, note = digits_arrays()
    inputs = images[:EXAMPLES].reshape(EXAMPLES, -1).astype(np.float32)
    targets = labels[:EXAMPLES].astype(np.int64)
    rng = np.random.default_rng(0)
    n_in, n_hidden, n_out = SIZES
    params = {
        "W1": (rng.standard_normal((n_in, n_hidden)) / np.sqrt(n_in)).astype(np.float32),
        "b1": (0.1 * rng.standard_normal(n_hidden)).astype(np.float32),
        "W2": (rng.standard_normal((n_hidden, n_out)) / np.sqrt(n_hidden)).astype(np.float32),
        "b2": (0.1 * rng.standard_normal(n_out)).astype(np.float32),
    }
    return params, inputs, targets, note


@functools.cache
def reference_gradients():
    """Per-example gradients in closed form, float64: {key: (256, *shape)}."""
    params, inputs, targets, _ = problem()
    p = {key: value.astype(np.float64) for key, value in params.items()}
    x = inputs.astype(np.float64)
    hidden = np.tanh(x @ p["W1"] + p["b1"])
    logits = hidden @ p["W2"] + p["b2"]
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    d_logits = shifted / shifted.sum(axis=1, keepdims=True)
    d_logits[np.arange(len(targets)), targets] -= 1.0
    d_pre = (d_logits @ p["W2"].T) * (1.0 - hidden**2)
    return {
        "W1": x[:, :, None] * d_pre[:, None, :],
        "b1": d_pre,
        "W2": hidden[:, :, None] * d_logits[:, None, :],
        "b2": d_logits,
    }


class _Grads:
    """What a step returns: the per-example gradients, flattened only when the harness compares
    them (np.asarray), so the timed calls do no concatenation."""

    __slots__ = ("stacked",)

    def __init__(self, stacked):
        self.stacked = stacked  # () -> {key: (256, *shape) array}

    def __array__(self, dtype=None, copy=None):
        grads = self.stacked()
        flat = np.concatenate([np.asarray(grads[key], np.float64).ravel() for key in KEYS])
        return flat if dtype is None else flat.astype(dtype)


def _assert_close(label, grads):
    reference = reference_gradients()
    for key in KEYS:
        got = np.asarray(grads[key], np.float64)
        want = reference[key]
        if got.shape != want.shape:
            raise AssertionError(
                f"{label}: gradient {key} has shape {got.shape}, want {want.shape}"
            )
        if not np.allclose(got, want, rtol=RTOL, atol=ATOL):
            worst = np.abs(got - want).max()
            raise AssertionError(
                f"{label}: per-example gradient {key} differs from the float64 reference by up "
                f"to {worst:.3g} (rtol={RTOL}, atol={ATOL})"
            )


# ----- chainrule ---------------------------------------------------------------------------------
def _chainrule_loss():
    import chainrule as cr
    import chainrule.numpy as cnp

    def loss(params, x, y):
        hidden = cnp.tanh(x @ params["W1"] + params["b1"])
        logits = hidden @ params["W2"] + params["b2"]
        return -cnp.log_softmax(logits)[y]

    return cr, loss


def _vmap_chainrule():
    cr, loss = _chainrule_loss()
    params, inputs, targets, note = problem()
    per_example = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))
    _assert_close("chainrule vmap(grad)", per_example(params, inputs, targets))

    def step():
        grads = per_example(params, inputs, targets)
        return _Grads(lambda: grads)

    step.note = note
    return step


def _loop_chainrule():
    cr, loss = _chainrule_loss()
    params, inputs, targets, _ = problem()
    gradient = cr.grad(loss)

    def stack(results):
        return {key: np.stack([np.asarray(r[key]) for r in results]) for key in KEYS}

    _assert_close(
        "chainrule loop of grad",
        stack([gradient(params, inputs[i], targets[i]) for i in range(EXAMPLES)]),
    )

    def step():
        results = [gradient(params, inputs[i], targets[i]) for i in range(EXAMPLES)]
        return _Grads(lambda: stack(results))

    return step


# ----- peers -------------------------------------------------------------------------------------
def _vmap_torch():
    torch = load("torch")
    params, inputs, targets, _ = problem()
    params = {key: torch.from_numpy(value) for key, value in params.items()}
    inputs, targets = torch.from_numpy(inputs), torch.from_numpy(targets)

    def loss(params, x, y):
        hidden = torch.tanh(x @ params["W1"] + params["b1"])
        logits = hidden @ params["W2"] + params["b2"]
        # `[y]` with a tensor label calls .item(), which torch.func.vmap refuses: gather instead
        # (the same entry; faster under vmap than F.cross_entropy on a batch of one).
        return -torch.log_softmax(logits, -1).gather(0, y[None])[0]

    per_example = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))
    _assert_close(
        "torch.func vmap(grad)",
        {key: value.numpy() for key, value in per_example(params, inputs, targets).items()},
    )

    def step():
        grads = per_example(params, inputs, targets)
        return _Grads(lambda: {key: value.numpy() for key, value in grads.items()})

    return step


def _vmap_jax(jit=False):
    jax = load("jax")
    params, inputs, targets, _ = problem()
    params = {key: jax.numpy.asarray(value) for key, value in params.items()}
    inputs, targets = jax.numpy.asarray(inputs), jax.numpy.asarray(targets)

    def loss(params, x, y):
        hidden = jax.numpy.tanh(x @ params["W1"] + params["b1"])
        logits = hidden @ params["W2"] + params["b2"]
        return -jax.nn.log_softmax(logits)[y]

    per_example = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))
    if jit:
        per_example = jax.jit(per_example)
    label = "jax.jit(jax.vmap(jax.grad))" if jit else "jax.vmap(jax.grad)"
    _assert_close(label, per_example(params, inputs, targets))  # compiles the jitted one

    def step():
        grads = jax.block_until_ready(per_example(params, inputs, targets))
        return _Grads(lambda: grads)

    return step


CASES = [
    Case(
        key="per-example",
        title=f"per-example gradients, MLP {'-'.join(map(str, SIZES))} (tanh, softmax "
        f"cross-entropy), {EXAMPLES} digits examples, float32",
        builders={
            "chainrule": _vmap_chainrule,
            "chainrule-loop": _loop_chainrule,
            "torch": _vmap_torch,
            "jax": _vmap_jax,
            "jax-jit": lambda: _vmap_jax(jit=True),
        },
        target=1.5,
        targets={"chainrule-loop": 0.1},
        unit="batch",
        rtol=RTOL,
        atol=ATOL,
        note="chainrule column: cr.vmap(cr.grad(loss), in_axes=(None, 0, 0)); chainrule loop: "
        f"cr.grad(loss) over the {EXAMPLES} examples in Python; torch.func.vmap(torch.func.grad)"
        "; jax.vmap(jax.grad) eager and jitted. Ratios are chainrule vmap / column",
    ),
]
