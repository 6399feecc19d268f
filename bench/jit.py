"""Issue #15's cases: `cr.jit` against PyTorch, JAX eager and JAX jit, and against chainrule's own
eager transforms (the "chainrule eager" column).

Each chainrule builder traces and compiles once (the first call) before the rounds and says
how long that took in the case's notes: the compile time is reported, not timed.
"""

import time

import numpy as np

from bench import core_ops, transforms
from bench.harness import Case, Unavailable
from bench.peers import load

__all__ = ["CASES"]


def _jit():
    import chainrule as cr

    if not hasattr(cr, "jit"):
        raise Unavailable("cr.jit does not exist yet")
    return cr


def _warmed(step, what):
    """`step` with its first call (trace + compile) done and timed as a note."""
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    step.note = f"chainrule: first call ({what}: trace + compile) {seconds:.3g} s"
    return step


def _wrapped(step):
    def call():
        return step()

    return call


# ----- Hessian of the extended Rosenbrock function ----------------------------------------------
def _hessian_jit(n):
    cr = _jit()
    import chainrule.numpy as cnp

    start = transforms.rosenbrock_start(n)
    hessian = cr.jit(cr.hessian(lambda x: transforms.rosenbrock(x, cnp)))
    return _warmed(_wrapped(lambda: hessian(start)), "cr.jit(cr.hessian(f))")


def _hessian_case(n):
    return Case(
        key=f"jit-hessian-{n}",
        title=f"cr.jit(cr.hessian(f)), extended Rosenbrock, n = {n}, float64",
        builders={
            "chainrule": lambda: _hessian_jit(n),
            "chainrule-eager": lambda: transforms._hessian_chainrule(n),
            "torch": lambda: transforms._hessian_torch(n),
            "jax": lambda: transforms._hessian_jax(n),
            "jax-jit": lambda: transforms._hessian_jax(n, jit=True),
        },
        targets={"jax-jit": 3.0},
        unit="Hessian",
        rtol=1e-10,
        note="target: within 3x of JAX jit",
    )


# ----- (a) 2,000 scalar ops, forward + backward ---------------------------------------------------
def _chain_jit(backend="numpy"):
    cr = _jit()
    import chainrule.numpy as cnp

    value_and_grad = cr.jit(cr.value_and_grad(
        lambda x: core_ops._chain(x, cnp.tanh, cnp.exp, cnp.sin, core_ops.CHAIN_CYCLES)
    ), backend=backend)

    def step():
        value, derivative = value_and_grad(core_ops.CHAIN_START)
        return float(value), float(derivative)

    return _warmed(step, f"cr.jit(cr.value_and_grad(chain), backend={backend!r})")


def _chain_jax_jit():
    jax = load("jax")
    jnp = jax.numpy
    value_and_grad = jax.jit(jax.value_and_grad(
        lambda x: core_ops._chain(x, jnp.tanh, jnp.exp, jnp.sin, core_ops.CHAIN_CYCLES)
    ))

    def step():
        value, derivative = value_and_grad(core_ops.CHAIN_START)
        return float(value), float(derivative)

    return step


# ----- (c) MLP 64-32-10 training step ------------------------------------------------------------
def _mlp_jit(sizes, batch):
    cr = _jit()
    import chainrule.numpy as cnp

    inputs, _, one_hot, arrays = core_ops.mlp_data(sizes, batch)

    def loss(params):
        logits = core_ops._forward_layers(inputs, params, cnp.relu)
        return -cnp.sum(cnp.log_softmax(logits, axis=1) * one_hot) / batch

    @cr.jit
    def train_step(params):
        value, grads = cr.value_and_grad(loss)(params)
        return value, [p - core_ops.LEARNING_RATE * g for p, g in zip(params, grads, strict=True)]

    start = time.perf_counter()
    train_step([a.copy() for a in arrays])  # the first call traces and compiles
    compile_time = time.perf_counter() - start
    state = {"params": [a.copy() for a in arrays]}

    def step():
        value, state["params"] = train_step(state["params"])
        return float(value)

    step.note = f"chainrule: first call (cr.jit(train_step): trace + compile) {compile_time:.3g} s"
    return step


def _mlp_case(sizes, batch):
    return Case(
        key="jit-c",
        title=f"MLP {'-'.join(map(str, sizes))}, batch {batch}, float32: jitted training step",
        builders={
            "chainrule": lambda: _mlp_jit(sizes, batch),
            "chainrule-eager": lambda: core_ops._mlp_chainrule(sizes, batch),
            "torch": lambda: core_ops._mlp_torch(sizes, batch),
            "jax": lambda: core_ops._mlp_jax(sizes, batch),
            "jax-jit": lambda: core_ops._mlp_jax(sizes, batch, jit=True),
        },
        target=0.5,
        targets={"jax-jit": 2.0},
        rtol=1e-3,
        atol=1e-4,
        rounds=11,
        note="cr.jit of value_and_grad + SGD returning new parameters; targets: at most 0.5x "
        "PyTorch, within 2x of JAX jit",
    )


# ----- (d) the seed example ----------------------------------------------------------------------
def _seed_jit():
    cr = _jit()
    value_and_grad = cr.jit(cr.value_and_grad(core_ops._seed, argnums=(0, 1)))

    def step():
        value, (dx, dy) = value_and_grad(3.0, 2.0)
        return float(value), float(dx), float(dy)

    return _warmed(step, "cr.jit(cr.value_and_grad(seed))")


# ----- scipy.optimize with jac=cr.jit(cr.grad(f)) ------------------------------------------------
SCIPY_N = 100


def _scipy_problem():
    import chainrule.numpy as cnp

    start = transforms.rosenbrock_start(SCIPY_N)
    return (lambda x: transforms.rosenbrock(x, cnp)), start


def _scipy_run(jitted, backend="numpy"):
    cr = _jit()
    try:
        from scipy.optimize import minimize
    except ImportError as exc:  # pragma: no cover - the bench venv has SciPy
        raise Unavailable("SciPy is not installed") from exc
    f, start = _scipy_problem()
    value = cr.jit(f, backend=backend) if jitted else f
    gradient = cr.jit(cr.grad(f), backend=backend) if jitted else cr.grad(f)

    def step():
        result = minimize(value, start, jac=gradient, method="L-BFGS-B",
                          options={"maxiter": 200})
        return result.x

    return _warmed(step, f"minimize with cr.jit, backend={backend!r}") if jitted else step


CASES = [
    _hessian_case(100),
    _hessian_case(400),
    Case(
        key="jit-a",
        title="chain of 2,000 scalar ops, forward + backward, through cr.jit",
        builders={
            "chainrule": _chain_jit,
            "chainrule-eager": core_ops.chain_step_chainrule,
            "torch": core_ops._chain_torch,
            "jax": core_ops._chain_jax,
            "jax-jit": _chain_jax_jit,
        },
        target=0.2,
        per=5 * core_ops.CHAIN_CYCLES,
        unit="op",
        note="target: at most 0.2x PyTorch with the NumPy backend",
    ),
    Case(
        key="jit-a-numba",
        title="chain of 2,000 scalar ops, forward + backward, cr.jit(..., backend='numba')",
        builders={
            "chainrule": lambda: _chain_jit("numba"),
            "chainrule-eager": core_ops.chain_step_chainrule,
            "torch": core_ops._chain_torch,
            "jax-jit": _chain_jax_jit,
        },
        target=0.02,
        per=5 * core_ops.CHAIN_CYCLES,
        unit="op",
        note="target: at most 0.02x PyTorch with numba (compile time in the notes)",
    ),
    _mlp_case((64, 32, 10), 32),
    Case(
        key="jit-d",
        title="seed example through cr.jit(cr.value_and_grad(f, argnums=(0, 1)))",
        builders={
            "chainrule": _seed_jit,
            "chainrule-eager": core_ops._seed_chainrule_functional,
            "torch": core_ops._seed_torch,
            "jax": core_ops._seed_jax,
        },
        target=0.15,
        unit="call",
        note="target: at most 0.15x PyTorch",
    ),
    Case(
        key="jit-scipy",
        title=f"scipy.optimize.minimize (L-BFGS-B), extended Rosenbrock n = {SCIPY_N}, "
        "fun and jac through cr.jit",
        builders={
            "chainrule": lambda: _scipy_run(True),
            "chainrule-eager": lambda: _scipy_run(False),
        },
        targets={"chainrule-eager": 0.2},
        unit="solve",
        rounds=7,
        note="target: at least 5x faster end to end than with cr.grad(f) (ratio <= 0.2)",
    ),
    Case(
        key="jit-scipy-numba",
        title=f"scipy.optimize.minimize (L-BFGS-B), extended Rosenbrock n = {SCIPY_N}, "
        "fun and jac through cr.jit(..., backend='numba')",
        builders={
            "chainrule": lambda: _scipy_run(True, "numba"),
            "chainrule-eager": lambda: _scipy_run(False),
        },
        targets={"chainrule-eager": 0.2},
        unit="solve",
        rounds=7,
        note="target: at least 5x faster end to end than with cr.grad(f) (ratio <= 0.2)",
    ),
]

_ = np  # (NumPy arrays flow through the steps)
