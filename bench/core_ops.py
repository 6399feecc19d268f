"""Issue #3's timing cases: per-op overhead on a scalar chain, two MLP training steps, and the
seed example (x + y)(x - y) from fresh tensors.

Every builder returns `step()`, which does one unit of work and returns numbers the harness
compares across libraries. Peers are written the way their users write them (PyTorch's
`F.cross_entropy`, autograd's and JAX's `value_and_grad`), so each column is idiomatic code.

(b) and (c) keep chainrule.numpy's spelling (`hidden @ W + b`, cnp.relu, log_softmax times
one-hot labels: matmul, add, relu, log_softmax, multiply and sum rows). (b-nn) and (c-nn) are
the same networks as nn users write them on both sides (nn.Linear, nn.ReLU, F.cross_entropy on
integer labels), which reach chainrule's fused linear, relu and softmax cross-entropy rows.
"""

import numpy as np

from bench.harness import Case
from bench.peers import load

__all__ = ["CASES", "chain_step_chainrule", "mlp_data"]

CHAIN_CYCLES = 400  # five ops per cycle: 2,000 ops
CHAIN_START = 0.5
LEARNING_RATE = 0.01


# ----- (a) a chain of scalar ops: tanh, exp, mul, sin, add (values stay in (0.1, 1.5)) ----------
def _chain(x, tanh, exp, sin, cycles):
    value = x
    for _ in range(cycles):
        value = tanh(value)
        value = exp(value)
        value = value * x
        value = sin(value)
        value = value + x
    return value


def chain_step_chainrule(cycles=CHAIN_CYCLES):
    import chainrule as cr
    import chainrule.numpy as cnp

    def step():
        x = cr.tensor(CHAIN_START, requires_grad=True)
        out = _chain(x, cnp.tanh, cnp.exp, cnp.sin, cycles)
        out.backward()
        return out.item(), x.grad.item()

    return step


def _chain_torch(cycles=CHAIN_CYCLES):
    torch = load("torch")

    def step():
        x = torch.tensor(CHAIN_START, dtype=torch.float64, requires_grad=True)
        out = _chain(x, torch.tanh, torch.exp, torch.sin, cycles)
        out.backward()
        return out.item(), x.grad.item()

    return step


def _chain_autograd(cycles=CHAIN_CYCLES):
    autograd = load("autograd")
    anp = autograd.numpy
    chain = lambda x: _chain(x, anp.tanh, anp.exp, anp.sin, cycles)
    value_and_grad = autograd.value_and_grad(chain)
    return lambda: value_and_grad(CHAIN_START)


def _chain_jax(cycles=CHAIN_CYCLES):
    jax = load("jax")
    jnp = jax.numpy
    value_and_grad = jax.value_and_grad(lambda x: _chain(x, jnp.tanh, jnp.exp, jnp.sin, cycles))

    def step():
        value, derivative = value_and_grad(CHAIN_START)
        return float(value), float(derivative)

    return step


# ----- (b), (c) MLP training steps ----------------------------------------------------------------
def mlp_data(sizes, batch, seed=0):
    """Inputs, integer labels, one-hot labels and He-initialised float32 parameters."""
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], batch)
    one_hot = np.eye(sizes[-1], dtype=np.float32)[labels]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        scale = np.sqrt(2.0 / fan_in)
        params.append((rng.standard_normal((fan_in, fan_out)) * scale).astype(np.float32))
        params.append(np.zeros(fan_out, dtype=np.float32))
    return inputs, labels, one_hot, params


def _forward_layers(inputs, params, relu):
    hidden = inputs
    last = len(params) // 2 - 1
    for layer in range(last + 1):
        hidden = hidden @ params[2 * layer] + params[2 * layer + 1]
        if layer < last:
            hidden = relu(hidden)
    return hidden


def _mlp_chainrule(sizes, batch):
    import chainrule as cr
    import chainrule.numpy as cnp

    inputs, _, one_hot, arrays = mlp_data(sizes, batch)
    inputs, one_hot = cr.tensor(inputs), cr.tensor(one_hot)
    params = [cr.tensor(a, requires_grad=True) for a in arrays]

    def step():
        logits = _forward_layers(inputs, params, cnp.relu)
        loss = -cnp.sum(cnp.log_softmax(logits, axis=1) * one_hot) / batch
        loss.backward()
        with cr.no_grad():
            for param in params:
                param -= LEARNING_RATE * param.grad
                param.grad = None
        return loss.item()

    return step


def _mlp_torch(sizes, batch):
    torch = load("torch")
    functional = torch.nn.functional
    inputs, labels, _, arrays = mlp_data(sizes, batch)
    inputs, labels = torch.from_numpy(inputs), torch.from_numpy(labels)
    params = [torch.tensor(a, requires_grad=True) for a in arrays]

    def step():
        logits = _forward_layers(inputs, params, torch.relu)
        loss = functional.cross_entropy(logits, labels)
        loss.backward()
        with torch.no_grad():
            for param in params:
                param -= LEARNING_RATE * param.grad
                param.grad = None
        return loss.item()

    return step


def _nn_mlp_chainrule(sizes, batch):
    """The same network as chainrule.nn users write it: nn.Linear layers in an nn.Sequential,
    F.cross_entropy on integer labels (the fused linear, relu and cross-entropy rows)."""
    import chainrule as cr
    from chainrule import nn
    from chainrule.nn import functional

    inputs, labels, _, arrays = mlp_data(sizes, batch)
    inputs = cr.tensor(inputs)
    model = nn.Sequential(*_layers(nn, sizes))
    linears = [layer for layer in model if type(layer).__name__ == "Linear"]
    for layer, weight, bias in zip(linears, arrays[::2], arrays[1::2], strict=True):
        layer.weight = nn.Parameter(weight.T.copy())
        layer.bias = nn.Parameter(bias.copy())
    params = list(model.parameters())

    def step():
        loss = functional.cross_entropy(model(inputs), labels)
        loss.backward()
        with cr.no_grad():
            for param in params:
                param -= LEARNING_RATE * param.grad
                param.grad = None
        return loss.item()

    return step


def _nn_mlp_torch(sizes, batch):
    torch = load("torch")
    inputs, labels, _, arrays = mlp_data(sizes, batch)
    inputs, labels = torch.from_numpy(inputs), torch.from_numpy(labels)
    model = torch.nn.Sequential(*_layers(torch.nn, sizes))
    linears = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
    with torch.no_grad():
        for layer, weight, bias in zip(linears, arrays[::2], arrays[1::2], strict=True):
            layer.weight.copy_(torch.from_numpy(weight.T.copy()))
            layer.bias.copy_(torch.from_numpy(bias))
    params = list(model.parameters())

    def step():
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        with torch.no_grad():
            for param in params:
                param -= LEARNING_RATE * param.grad
                param.grad = None
        return loss.item()

    return step


def _layers(nn, sizes):
    """Linear, ReLU, ..., Linear for `sizes` (either library's nn module)."""
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return layers[:-1]


def _mlp_loss(params, inputs, one_hot, relu, log_softmax, total):
    logits = _forward_layers(inputs, params, relu)
    return -total(log_softmax(logits) * one_hot) / inputs.shape[0]


def _mlp_autograd(sizes, batch):
    autograd = load("autograd")
    import autograd.scipy.special as special

    anp = autograd.numpy
    inputs, _, one_hot, params = mlp_data(sizes, batch)
    relu = lambda h: anp.maximum(h, 0.0)
    log_softmax = lambda z: z - special.logsumexp(z, axis=1, keepdims=True)
    value_and_grad = autograd.value_and_grad(
        lambda p: _mlp_loss(p, inputs, one_hot, relu, log_softmax, anp.sum)
    )

    def step():
        loss, grads = value_and_grad(params)
        params[:] = [p - np.float32(LEARNING_RATE) * g for p, g in zip(params, grads, strict=True)]
        return float(loss)

    return step


def _mlp_jax_parts(sizes, batch):
    jax = load("jax")
    jnp = jax.numpy
    inputs, _, one_hot, arrays = mlp_data(sizes, batch)
    inputs, one_hot = jnp.asarray(inputs), jnp.asarray(one_hot)

    def train_step(params):
        loss, grads = jax.value_and_grad(
            lambda p: _mlp_loss(
                p, inputs, one_hot, jax.nn.relu, jax.nn.log_softmax, jnp.sum
            )
        )(params)
        return loss, [p - LEARNING_RATE * g for p, g in zip(params, grads, strict=True)]

    return jax, train_step, [jnp.asarray(a) for a in arrays]


def _mlp_jax(sizes, batch, jit=False):
    jax, train_step, params = _mlp_jax_parts(sizes, batch)
    if jit:
        train_step = jax.jit(train_step)
    state = {"params": params}

    def step():
        loss, state["params"] = train_step(state["params"])
        return float(loss)

    return step


# ----- (d) the seed example: (x + y)(x - y) at (3, 2), value and both partials ------------------
def _seed(x, y):
    return (x + y) * (x - y)


def _seed_chainrule():
    import chainrule as cr

    def step():
        x = cr.tensor(3.0, requires_grad=True)
        y = cr.tensor(2.0, requires_grad=True)
        f = _seed(x, y)
        f.backward()
        return f.item(), x.grad.item(), y.grad.item()

    return step


def _seed_chainrule_functional():
    import chainrule as cr

    value_and_grad = cr.value_and_grad(_seed, argnums=(0, 1))

    def step():
        value, (dx, dy) = value_and_grad(3.0, 2.0)
        return float(value), float(dx), float(dy)

    return step


def _seed_torch():
    torch = load("torch")

    def step():
        x = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
        y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
        f = _seed(x, y)
        f.backward()
        return f.item(), x.grad.item(), y.grad.item()

    return step


def _seed_autograd():
    value_and_grad = load("autograd").value_and_grad(_seed, argnum=(0, 1))

    def step():
        value, (dx, dy) = value_and_grad(3.0, 2.0)
        return float(value), float(dx), float(dy)

    return step


def _seed_jax():
    value_and_grad = load("jax").value_and_grad(_seed, argnums=(0, 1))

    def step():
        value, (dx, dy) = value_and_grad(3.0, 2.0)
        return float(value), float(dx), float(dy)

    return step


def _mlp_case(key, sizes, batch, target):
    name = "-".join(map(str, sizes))
    return Case(
        key=key,
        title=f"MLP {name}, batch {batch}, float32: forward + backward + SGD step",
        builders={
            "chainrule": lambda: _mlp_chainrule(sizes, batch),
            "torch": lambda: _mlp_torch(sizes, batch),
            "autograd": lambda: _mlp_autograd(sizes, batch),
            "jax": lambda: _mlp_jax(sizes, batch),
            "jax-jit": lambda: _mlp_jax(sizes, batch, jit=True),
        },
        target=target,
        rtol=1e-4,
        atol=1e-5,
        note="chainrule: matmul, + bias, cnp.relu, cnp.log_softmax x one-hot; "
        "PyTorch: the same with F.cross_entropy; SGD by hand under no_grad",
    )


def _nn_mlp_case(key, sizes, batch, target):
    name = "-".join(map(str, sizes))
    return Case(
        key=key,
        title=f"MLP {name}, batch {batch}, float32, as nn users write it: forward + backward + SGD",
        builders={
            "chainrule": lambda: _nn_mlp_chainrule(sizes, batch),
            "torch": lambda: _nn_mlp_torch(sizes, batch),
        },
        target=target,
        rtol=1e-4,
        atol=1e-5,
        note="nn.Sequential of nn.Linear and nn.ReLU, F.cross_entropy on integer labels, on "
        "both sides (chainrule's fused linear, relu and cross-entropy rows); SGD by hand",
    )


CASES = [
    Case(
        key="a",
        title="chain of 2,000 scalar ops (tanh, exp, mul, sin, add), forward + backward",
        builders={
            "chainrule": chain_step_chainrule,
            "torch": _chain_torch,
            "autograd": _chain_autograd,
            "jax": _chain_jax,
        },
        target=1.0,
        per=5 * CHAIN_CYCLES,
        unit="op",
        note="float64 0-d values; time per op = (forward + backward) / 2,000",
    ),
    _mlp_case("b", (784, 512, 512, 10), 128, 1.0),
    # Issue 16's target for the small MLP, 1.0x (issue 3 had asked 0.5x, with no fused rows).
    _mlp_case("c", (64, 32, 10), 32, 1.0),
    _nn_mlp_case("b-nn", (784, 512, 512, 10), 128, 1.0),
    _nn_mlp_case("c-nn", (64, 32, 10), 32, 1.0),
    Case(
        key="d",
        title="seed example (x + y)(x - y) from fresh tensors: value and both partials",
        builders={
            "chainrule": _seed_chainrule,
            "torch": _seed_torch,
            "autograd": _seed_autograd,
            "jax": _seed_jax,
        },
        target=0.3,
        unit="call",
        note="Tensor API (cr.tensor, .backward(), .item()); autograd/JAX: value_and_grad",
    ),
    Case(
        key="d-functional",
        title="seed example through cr.value_and_grad(f, argnums=(0, 1))(3.0, 2.0)",
        builders={
            "chainrule": _seed_chainrule_functional,
            "torch": _seed_torch,
            "autograd": _seed_autograd,
            "jax": _seed_jax,
        },
        unit="call",
        note="informative: chainrule's functional route against the same peer columns as (d)",
    ),
]
