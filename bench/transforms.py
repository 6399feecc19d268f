"""Issue #4's cases: Hessians of the extended Rosenbrock function and a 256x256 Jacobian by
forward and by reverse mode, against torch.func, JAX (eager and jit) and HIPS autograd.

The extended Rosenbrock function pairs the coordinates:
f(x) = sum_i 100 (x[2i+1] - x[2i]^2)^2 + (1 - x[2i])^2, from the classic start (-1.2, 1, ...).
"""

import numpy as np

from bench.harness import Case, Unavailable
from bench.peers import load

__all__ = ["CASES", "rosenbrock", "jacobian_problem"]

JACOBIAN_SIZE = 256


def rosenbrock(x, xp):
    odd, even = x[0::2], x[1::2]
    return xp.sum(100.0 * (even - odd**2) ** 2 + (1.0 - odd) ** 2)


def rosenbrock_start(n):
    start = np.ones(n)
    start[0::2] = -1.2
    return start


def jacobian_problem(seed=0, size=JACOBIAN_SIZE):
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal((size, size)) / np.sqrt(size)
    point = rng.standard_normal(size)
    return weights, point


def _chainrule_transform(name):
    import chainrule as cr

    transform = getattr(cr, name, None)
    if transform is None:
        raise Unavailable(f"cr.{name} does not exist yet")
    return cr, transform


# ----- Hessian of the extended Rosenbrock function ----------------------------------------------
def _hessian_chainrule(n):
    cr, hessian = _chainrule_transform("hessian")
    import chainrule.numpy as cnp

    start = rosenbrock_start(n)
    hess = hessian(lambda x: rosenbrock(x, cnp))
    return lambda: np.asarray(hess(start))


def _hessian_torch(n):
    torch = load("torch")
    start = torch.from_numpy(rosenbrock_start(n))
    hess = torch.func.hessian(lambda x: rosenbrock(x, torch))
    return lambda: hess(start).numpy()


def _hessian_autograd(n):
    autograd = load("autograd")
    start = rosenbrock_start(n)
    hess = autograd.hessian(lambda x: rosenbrock(x, autograd.numpy))
    return lambda: hess(start)


def _hessian_jax(n, jit=False):
    jax = load("jax")
    start = jax.numpy.asarray(rosenbrock_start(n))
    hess = jax.hessian(lambda x: rosenbrock(x, jax.numpy))
    if jit:
        hess = jax.jit(hess)
    return lambda: np.asarray(hess(start))


# ----- Jacobian of y = tanh(W x) * x ------------------------------------------------------------
def _jacobian_chainrule(mode):
    cr, transform = _chainrule_transform(mode)
    import chainrule.numpy as cnp

    weights, point = jacobian_problem()
    jacobian = transform(lambda x: cnp.tanh(weights @ x) * x)
    return lambda: np.asarray(jacobian(point))


def _jacobian_torch(mode):
    torch = load("torch")
    weights, point = (torch.from_numpy(a) for a in jacobian_problem())
    jacobian = getattr(torch.func, mode)(lambda x: torch.tanh(weights @ x) * x)
    return lambda: jacobian(point).numpy()


def _jacobian_autograd(mode):
    autograd = load("autograd")
    weights, point = jacobian_problem()
    # autograd builds Jacobians in reverse mode only: the same function serves both cases.
    jacobian = autograd.jacobian(lambda x: autograd.numpy.tanh(weights @ x) * x)
    return lambda: jacobian(point)


def _jacobian_jax(mode, jit=False):
    jax = load("jax")
    weights, point = (jax.numpy.asarray(a) for a in jacobian_problem())
    jacobian = getattr(jax, mode)(lambda x: jax.numpy.tanh(weights @ x) * x)
    if jit:
        jacobian = jax.jit(jacobian)
    return lambda: np.asarray(jacobian(point))


def _hessian_case(n):
    return Case(
        key=f"hessian-{n}",
        title=f"Hessian of the extended Rosenbrock function, n = {n}, float64",
        builders={
            "chainrule": lambda: _hessian_chainrule(n),
            "torch": lambda: _hessian_torch(n),
            "autograd": lambda: _hessian_autograd(n),
            "jax": lambda: _hessian_jax(n),
            "jax-jit": lambda: _hessian_jax(n, jit=True),
        },
        target=1.0,
        unit="Hessian",
        rtol=1e-10,
        note="cr.hessian vs torch.func.hessian, jax.hessian (eager, jit), autograd.hessian",
    )


def _jacobian_case(mode):
    return Case(
        key=mode,
        title=f"{JACOBIAN_SIZE}x{JACOBIAN_SIZE} Jacobian of y = tanh(W x) * x by {mode}, float64",
        builders={
            "chainrule": lambda: _jacobian_chainrule(mode),
            "torch": lambda: _jacobian_torch(mode),
            "autograd": lambda: _jacobian_autograd(mode),
            "jax": lambda: _jacobian_jax(mode),
            "jax-jit": lambda: _jacobian_jax(mode, jit=True),
        },
        target=1.0,
        unit="Jacobian",
        rtol=1e-10,
        note=f"cr.{mode} vs torch.func.{mode}, jax.{mode} (eager, jit); "
        "autograd.jacobian (reverse mode) in both cases",
    )


CASES = [_hessian_case(100), _hessian_case(400), _jacobian_case("jacfwd"), _jacobian_case("jacrev")]
