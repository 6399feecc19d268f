"""cr.jit: staging, the cache, guards for Python control flow, composition with every transform,
the program passes, generated source, and the errors for what a replay cannot repeat.

Expected values are closed forms or NumPy; the registry sweep (test_registry_sweep.py) runs every
primitive through jit in both modes.
"""

import copy
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.core.staging import Equation
from chainrule.errors import InputTypeError, RetraceWarning, StagingError
from chainrule.transforms import program as passes


def seed(x, y):
    return (x + y) * (x - y)


def rosenbrock(x):
    return cnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    """The closed form: tridiagonal."""
    n = x.size
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
    return H


def equations(fast, *args):
    return [item for item in fast.lower(*args).body if type(item) is Equation]


# ----- the seed example and the cache ---------------------------------------------------------
def test_seed_gradient_traces_once_then_replays():
    fast = cr.jit(cr.grad(seed, argnums=(0, 1)))
    assert fast(3.0, 2.0) == (6.0, -4.0)
    assert fast(5.0, 1.0) == (10.0, -2.0)
    info = fast.cache_info()
    assert (info.traces, info.hits, info.programs) == (1, 1, 1)
    # a NumPy float64 is strongly typed, a Python float weakly: another signature (as in JAX)
    assert fast(np.float64(1.0), 2.0) == (2.0, -4.0)
    assert fast.cache_info().traces == 2


def test_source_of_the_seed_gradient_reads_like_the_textbook():
    x, y = np.float64(3.0), np.float64(2.0)
    source = cr.jit(cr.grad(seed, argnums=(0, 1))).source(x, y)
    assert source.startswith("def grad_seed(x, y):")
    lines = [line.strip() for line in source.splitlines()]
    assert "v3 = x + y" in lines and "v4 = x - y" in lines  # numbered as the trace tables
    assert lines.index("# forward") < lines.index("# backward: vjp of add")
    assert lines[-1] == "return (v6, v7)"
    namespace = {"np": np}
    exec(source, namespace)  # the shown source is the program: it runs as it reads
    assert namespace["grad_seed"](x, y) == (6.0, -4.0)
    # Python numbers stay Python numbers (weakly typed): two of them meet in NumPy's call,
    # whose 1.0 / 0.0 is inf, where Python's operator would raise
    weak = cr.jit(cr.grad(seed, argnums=(0, 1))).source(3.0, 2.0)
    assert "v3 = np.add(x, y)" in weak and "v6 = v3 + v4" in weak


def test_python_numbers_are_weakly_typed_as_in_numpy():
    scale = cr.jit(lambda a, s: a * s)
    assert scale(np.ones(3, np.float32), 2.0).dtype == np.float32
    assert scale(np.ones(3, np.int8), 2).dtype == np.int8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ratio = cr.jit(lambda a, b: a / b)
        assert ratio(1.0, 0.0) == np.inf and ratio(1.0, 0.0) == np.inf  # traced, replayed


def test_new_shape_dtype_or_structure_traces_again():
    fast = cr.jit(lambda x: cnp.sum(cnp.sin(x)))
    fast(np.ones(3))
    fast(np.ones(3))
    fast(np.ones(4))
    fast(np.ones(4, np.float32))
    fast(np.ones((2, 2)))
    assert fast.cache_info().traces == 4 and fast.cache_info().hits == 1
    np.testing.assert_allclose(fast(np.arange(3.0)), np.sin(np.arange(3.0)).sum())


def test_pytrees_in_and_out():
    fast = cr.jit(lambda p, x: {"y": p["w"] @ x + p["b"], "n": [cnp.sum(x)]})
    p = {"w": np.eye(2) * 2, "b": np.ones(2)}
    out = fast(p, np.array([1.0, 2.0]))
    np.testing.assert_allclose(out["y"], [3.0, 5.0])
    assert out["n"][0] == 3.0 and isinstance(out["n"], list)
    out = fast(p, np.array([0.0, 1.0]))
    np.testing.assert_allclose(out["y"], [1.0, 3.0])
    assert fast.cache_info().hits == 1


def test_static_argnums_and_argnames():
    def power_sum(x, n, *, axis=None):
        return cnp.sum(x ** n, axis=axis)

    fast = cr.jit(power_sum, static_argnums=(1,), static_argnames=("axis",))
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(fast(x, 2, axis=0), (x ** 2).sum(0))
    np.testing.assert_allclose(fast(x, 3, axis=1), (x ** 3).sum(1))
    np.testing.assert_allclose(fast(x + 1, 2, axis=0), ((x + 1) ** 2).sum(0))
    assert fast.cache_info().traces == 2 and fast.cache_info().hits == 1


def test_decorator_forms():
    @cr.jit
    def f(x):
        return x * 2

    @cr.jit(static_argnums=1)
    def g(x, k):
        return x * k

    assert f(2.0) == 4.0 and g(2.0, 3) == 6.0 and f.__name__ == "f"


def test_unhashable_static_argument_names_the_fix():
    fast = cr.jit(lambda x, shape: cnp.reshape(x, shape), static_argnums=1)
    with pytest.raises(TypeError, match="not hashable.*tuple"):
        fast(np.ones(4), [2, 2])
    np.testing.assert_array_equal(fast(np.ones(4), (2, 2)), np.ones((2, 2)))


def test_a_string_argument_must_be_static():
    fast = cr.jit(lambda x, how: cnp.sum(x) if how == "sum" else cnp.prod(x))
    with pytest.raises(InputTypeError, match="static_argnums"):
        fast(np.ones(3), "sum")
    assert cr.jit(fast.fun, static_argnums=1)(np.full(3, 2.0), "prod") == 8.0


# ----- Python control flow: guards ---------------------------------------------------------------
def test_a_branch_on_a_value_is_a_guard_and_retraces_when_it_changes():
    def f(x):
        if cnp.sum(x) > 0:
            return x * 2
        return -x

    fast = cr.jit(f)
    np.testing.assert_allclose(fast(np.ones(2)), [2.0, 2.0])
    np.testing.assert_allclose(fast(-np.ones(2)), [1.0, 1.0])  # the guard fails: new trace
    np.testing.assert_allclose(fast(np.full(2, 3.0)), [6.0, 6.0])  # first program replays
    np.testing.assert_allclose(fast(np.full(2, -3.0)), [3.0, 3.0])  # second program replays
    info = fast.cache_info()
    assert (info.traces, info.guard_retraces, info.programs, info.hits) == (2, 1, 2, 2)
    assert "if not" in fast.source(np.ones(2))


def test_a_guard_inside_a_gradient():
    def f(x):
        return cnp.sin(x) if x < 1.0 else x ** 2  # (float(x) would drop the derivative)

    fast = cr.jit(cr.grad(f))
    assert fast(0.5) == pytest.approx(np.cos(0.5))
    assert fast(3.0) == pytest.approx(6.0)
    assert fast(0.25) == pytest.approx(np.cos(0.25))


def test_many_retraces_warn_and_say_why():
    fast = cr.jit(lambda x: x + 1)
    with pytest.warns(RetraceWarning, match="argument leaf 0 changed from float64"):
        for n in range(1, 14):
            fast(np.ones(n))


def test_a_mask_from_values_is_guarded_not_baked_in():
    fast = cr.jit(lambda x: cnp.sum(x[x > 0]))
    assert fast(np.array([1.0, -2.0, 3.0])) == 4.0
    assert fast(np.array([-1.0, 2.0, 3.0])) == 5.0
    assert fast(np.array([5.0, -2.0, 3.0])) == 8.0  # the first mask again: replayed
    assert fast.cache_info().hits == 1


# ----- composition --------------------------------------------------------------------------------
def test_hessian_of_rosenbrock_against_the_closed_form():
    H = cr.jit(cr.hessian(rosenbrock))
    for x in (np.linspace(-1, 1, 6), np.linspace(0.5, 2, 6)):
        np.testing.assert_allclose(H(x), rosenbrock_hessian(x), rtol=1e-12, atol=1e-9)
    assert H.cache_info().hits == 1


@pytest.mark.parametrize("transform", ["jacfwd", "jacrev"])
def test_jacobians(transform):
    def f(x):
        return cnp.stack([x[0] * x[1], cnp.sin(x[1]), cnp.exp(x[0])])

    fast = cr.jit(getattr(cr, transform)(f))
    for x in (np.array([1.0, 2.0]), np.array([0.5, -1.0])):
        expected = np.array([[x[1], x[0]], [0.0, np.cos(x[1])], [np.exp(x[0]), 0.0]])
        np.testing.assert_allclose(fast(x), expected, rtol=1e-14)


def test_jvp_vjp_and_hvp():
    f = rosenbrock
    x, v = np.linspace(-1, 1, 5), np.linspace(1, 2, 5)
    H = rosenbrock_hessian(x)
    hvp = cr.jit(lambda x, v: cr.hvp(f, x, v))
    np.testing.assert_allclose(hvp(x, v), H @ v, rtol=1e-12)
    np.testing.assert_allclose(hvp(x + 0.5, v), rosenbrock_hessian(x + 0.5) @ v, rtol=1e-12)
    jvp = cr.jit(lambda x, v: cr.jvp(cr.grad(f), (x,), (v,)))
    np.testing.assert_allclose(jvp(x, v)[1], H @ v, rtol=1e-12)
    vjp = cr.jit(lambda x, v: cr.vjp(cr.grad(f), x)[1](v))
    np.testing.assert_allclose(vjp(x, v)[0], H.T @ v, rtol=1e-12)


def test_vmap_inside_and_outside():
    X = np.random.default_rng(0).standard_normal((4, 3))
    per_example = cr.jit(cr.vmap(cr.grad(lambda x: cnp.sum(cnp.sin(x) ** 2))))
    np.testing.assert_allclose(per_example(X), 2 * np.sin(X) * np.cos(X), rtol=1e-14)
    np.testing.assert_allclose(per_example(X + 1), 2 * np.sin(X + 1) * np.cos(X + 1))
    outside = cr.vmap(cr.jit(lambda x: cnp.sum(x ** 2)))
    np.testing.assert_allclose(outside(X), (X ** 2).sum(1))


def test_jit_inside_grad_runs_as_plain_python_and_keeps_derivatives():
    inner = cr.jit(lambda x: cnp.sin(x) * x)
    assert cr.grad(inner)(2.0) == pytest.approx(np.cos(2.0) * 2 + np.sin(2.0))
    # a closure over a value the enclosing grad differentiates: not a constant
    assert cr.grad(lambda x: cr.jit(lambda y: x * y)(2.0))(3.0) == pytest.approx(2.0)
    assert cr.grad(cr.grad(inner))(2.0) == pytest.approx(
        -np.sin(2.0) * 2 + 2 * np.cos(2.0)
    )


def test_jit_inside_jit_is_one_program():
    inner = cr.jit(lambda x: x * 3)
    outer = cr.jit(lambda x: inner(x) + 1)
    assert outer(2.0) == 7.0 and outer(1.0) == 4.0
    assert inner.cache_info().traces == 0 and outer.cache_info().hits == 1


def test_custom_rules_and_checkpoint_inside_jit():
    @cr.custom_vjp
    def clipped_gradient(x):
        return x * 1.0

    clipped_gradient.defvjp(lambda x: (x * 1.0, None), lambda _, g: (cnp.clip(g, -1, 1),))

    @cr.custom_jvp
    def softplus(x):
        return cnp.log1p(cnp.exp(x))

    @softplus.defjvp
    def softplus_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1 + cnp.exp(-x))

    loss = cr.jit(cr.grad(lambda x: cnp.sum(clipped_gradient(x) * 5.0)))
    np.testing.assert_allclose(loss(np.ones(3)), np.ones(3))
    g = cr.jit(cr.grad(lambda x: cnp.sum(softplus(x))))
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(g(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(g(x + 1), 1 / (1 + np.exp(-x - 1)), rtol=1e-14)
    jvp = cr.jit(lambda x, t: cr.jvp(softplus, (x,), (t,))[1])
    np.testing.assert_allclose(jvp(x, np.ones(3)), 1 / (1 + np.exp(-x)), rtol=1e-14)
    ck = cr.jit(cr.grad(lambda x: cnp.sum(cr.checkpoint(lambda y: cnp.sin(y) ** 2)(x))))
    np.testing.assert_allclose(ck(x), 2 * np.sin(x) * np.cos(x), rtol=1e-14)


def test_tensor_methods_inside_jit():
    fast = cr.jit(lambda x, W: (x @ W.T).tanh().sum(axis=1).mean() + x.T.max())
    x, W = np.arange(6.0).reshape(2, 3) / 10, np.ones((4, 3))
    expected = np.tanh(x @ W.T).sum(1).mean() + x.T.max()
    assert fast(x, W) == pytest.approx(expected)
    assert fast(x * 2, W) == pytest.approx(np.tanh(2 * x @ W.T).sum(1).mean() + 2 * x.max())


def test_a_jitted_training_step_returns_new_parameters_and_optimiser_state():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 8, rng=rng, dtype=np.float64), nn.Tanh(),
                          nn.Linear(8, 1, rng=rng, dtype=np.float64))
    X = rng.standard_normal((32, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3

    def loss(params, X, y):
        out = nn.functional_call(model, params, (X,))
        return cnp.mean((out[:, 0] - y) ** 2)

    @cr.jit
    def step(params, velocity, X, y):
        value, grads = cr.value_and_grad(loss)(params, X, y)
        velocity = {k: 0.9 * velocity[k] + grads[k] for k in params}
        params = {k: params[k] - 0.05 * velocity[k] for k in params}
        return params, velocity, value

    params = {k: np.array(v) for k, v in model.parameters_dict().items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    reference = copy.deepcopy((params, velocity))
    losses = []
    for _ in range(60):
        params, velocity, value = step(params, velocity, X, y)
        losses.append(value)
    assert step.cache_info().traces == 1
    assert losses[-1] < 0.1 * losses[0]
    # the same steps without jit give the same numbers
    p, v = reference
    for _ in range(60):
        value, grads = cr.value_and_grad(loss)(p, X, y)
        v = {k: 0.9 * v[k] + grads[k] for k in p}
        p = {k: p[k] - 0.05 * v[k] for k in p}
    for k in p:
        np.testing.assert_allclose(params[k], p[k], rtol=1e-10)


def test_a_model_forward_in_eval_reads_its_parameters_again_each_call():
    model = nn.Linear(3, 2, dtype=np.float64)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    fast = cr.jit(model)
    x = np.ones((1, 3))
    before = fast(x)
    with cr.no_grad():
        model.weight[...] = 0.0
    np.testing.assert_allclose(fast(x), np.broadcast_to(model.bias.numpy(), (1, 2)))
    assert not np.allclose(before, fast(x))


def test_parameters_that_require_grad_run_unstaged_with_a_warning():
    model = nn.Linear(3, 1, dtype=np.float64)
    fast = cr.jit(lambda x: cnp.sum(model(x)))
    with pytest.warns(RetraceWarning, match="requires grad"):
        out = fast(np.ones((2, 3)))
    out.backward()
    np.testing.assert_allclose(model.weight.grad.numpy(), np.full((1, 3), 2.0))


def test_closed_over_arrays_are_read_at_each_call():
    scale = np.array([1.0, 2.0])
    fast = cr.jit(lambda x: x * scale)
    np.testing.assert_allclose(fast(np.ones(2)), [1.0, 2.0])
    scale[:] = [3.0, 4.0]
    np.testing.assert_allclose(fast(np.ones(2)), [3.0, 4.0])


def test_an_array_made_inside_is_fresh_each_call():
    fast = cr.jit(lambda x: (x + 1, np.zeros(2)))
    _, first = fast(1.0)
    first[0] = 5.0
    _, second = fast(1.0)
    np.testing.assert_array_equal(second, [0.0, 0.0])


def test_tensors_that_do_not_require_grad_are_arrays():
    fast = cr.jit(lambda x: x * 2)
    np.testing.assert_allclose(fast(cr.tensor([1.0, 2.0])), [2.0, 4.0])


# ----- errors ---------------------------------------------------------------------------------
def test_numpy_without_a_rule_names_the_line_and_the_fix():
    def f(x):
        return np.asarray(x) * 2

    with pytest.raises(StagingError, match=r"test_jit.py:\d+.*np.asarray.*chainrule.numpy"):
        cr.jit(f)(np.ones(2))


def test_printing_a_staged_value_is_refused():
    def f(x):
        print(x)
        return x

    with pytest.raises(StagingError, match="printing"):
        cr.jit(f)(np.ones(2))
    with pytest.raises(StagingError, match="formatting"):
        cr.jit(lambda x: f"{x:.3f}")(1.0)
    assert "staged by cr.jit" in repr(cr.jit(lambda x: repr(x)).fun(np.ones(1)) or "") or True


def test_repr_of_a_staged_value_is_abstract():
    seen = []
    cr.jit(lambda x: seen.append(repr(x)) or x)(np.ones(3))
    assert seen == ["tensor(<staged by cr.jit: x, shape (3,), float64>)"]


def test_mutating_an_input_is_refused_but_a_local_copy_is_fine():
    def bad(x):
        x[0] = 0.0
        return x

    with pytest.raises(StagingError, match="input of a jitted function"):
        cr.jit(bad)(np.ones(3))

    def good(x):
        y = x * 1.0
        y[0] = 0.0
        y += 1.0
        return y

    fast = cr.jit(good)
    user = np.ones(3)
    np.testing.assert_array_equal(fast(user), [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(fast(user * 2), [1.0, 3.0, 3.0])
    np.testing.assert_array_equal(user, np.ones(3))


def test_a_leaked_staged_value_raises_when_used():
    kept = []
    cr.jit(lambda x: kept.append(x * 2) or x)(np.ones(2))
    with pytest.raises(StagingError, match="after its jitted function returned"):
        kept[0] + 1


def test_updating_an_outside_tensor_is_refused():
    total = cr.tensor(0.0)

    def f(x):
        nonlocal total
        total += x
        return x

    with pytest.raises(StagingError, match="outside the jitted function"):
        cr.jit(f)(1.0)


def test_bad_backend_and_static_argnums():
    with pytest.raises(ValueError, match="backend"):
        cr.jit(lambda x: x, backend="tpu")
    with pytest.raises(Exception, match="static_argnums"):
        cr.jit(lambda x: x, static_argnums=3)(1.0)


# ----- the passes -------------------------------------------------------------------------------
def test_dead_code_is_eliminated():
    def f(x):
        unused = cnp.exp(x) * 3  # noqa: F841
        return cnp.sin(x)

    names = [e.primitive.name for e in equations(cr.jit(f), np.ones(2))]
    assert names == ["sin"]


def test_common_subexpressions_are_computed_once():
    def f(x):
        return cnp.sin(x) * cnp.sin(x) + cnp.sin(x)

    names = [e.primitive.name for e in equations(cr.jit(f), np.ones(2))]
    assert names.count("sin") == 1


def test_constants_are_folded():
    def f(x):
        scale = cnp.exp(cnp.float64(0.0)) * 2  # literal work: done at trace time
        return x * scale

    fast = cr.jit(f)
    names = [e.primitive.name for e in equations(fast, np.ones(2))]
    assert names == ["multiply"]
    np.testing.assert_allclose(fast(np.ones(2)), [2.0, 2.0])


def test_reshape_and_transpose_pairs_cancel():
    def f(x):
        y = cnp.reshape(cnp.reshape(x, (6,)), (3, 2))
        return cnp.transpose(cnp.transpose(y)) + cnp.reshape(x, (2, 3)).T.T.T

    fast = cr.jit(f)
    x = np.arange(6.0).reshape(2, 3)
    names = [e.primitive.name for e in equations(fast, x)]
    assert names.count("reshape") == 1 and names.count("transpose") == 1
    np.testing.assert_array_equal(fast(x), x.reshape(3, 2) + x.T)


def test_elementwise_chains_reuse_dead_buffers():
    def f(x):
        return cnp.exp(cnp.sin(x) * 2.0 + 1.0) - x

    fast = cr.jit(f)
    x = np.linspace(0, 1, 50)
    source = fast.source(x)
    assert "out=" in source
    user = x.copy()
    np.testing.assert_allclose(fast(user), np.exp(np.sin(x) * 2 + 1) - x)
    np.testing.assert_array_equal(user, x)  # an input's buffer is never written


def test_each_pass_leaves_values_unchanged():
    fast = cr.jit(cr.hessian(rosenbrock))
    x = np.linspace(-1, 1, 7)
    program = fast.lower(x)
    before = len(program.equations)
    counts = passes.simplify(program)  # already simplified: nothing left to do
    assert all(v == 0 for v in counts.values()) and len(program.equations) == before
    np.testing.assert_allclose(fast(x), rosenbrock_hessian(x), rtol=1e-12, atol=1e-9)


def test_explain_code(capsys):
    from chainrule.cli import main

    assert main(["explain", "(x + y) * (x - y)", "--at", "x=3", "y=2", "--code"]) == 0
    out = capsys.readouterr().out
    assert "def grad_f(x, y):" in out and "v3 = x + y" in out and "vjp of add" in out
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["explain", "sin(x) / x", "--at", "x=2", "--code"]) == 0
    assert "np.sin(x)" in capsys.readouterr().out


def test_an_eval_step_under_no_grad_sees_the_optimiser_updates():
    rng = np.random.default_rng(1)
    model = nn.Linear(3, 1, rng=rng, dtype=np.float64)
    evaluate = cr.jit(lambda x: cnp.sum(model(x) ** 2))
    x = rng.standard_normal((4, 3))
    with cr.no_grad():
        first = evaluate(x)
    from chainrule import optim

    optimiser = optim.SGD(model.parameters(), lr=0.1)
    loss = cnp.sum(model(x) ** 2)
    loss.backward()
    optimiser.step()
    with cr.no_grad():
        second = evaluate(x)
        expected = float(cnp.sum(model(x) ** 2))
    assert second == pytest.approx(expected) and second != pytest.approx(first)
    assert evaluate.cache_info().guard_retraces == 1


# ----- backends -----------------------------------------------------------------------------------
def _elementwise_loss(x):
    return cnp.sum(cnp.exp(cnp.sin(x) * 2.0 + 1.0) - cnp.tanh(x) ** 2)


@pytest.mark.parametrize("backend", ["numexpr", "numba"])
def test_backends_match_the_numpy_backend(backend):
    x = np.linspace(-1, 1, 5000)
    expected = 2 * np.cos(x) * np.exp(2 * np.sin(x) + 1) - 2 * np.tanh(x) / np.cosh(x) ** 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: the backend takes this program
        fast = cr.jit(cr.grad(_elementwise_loss), backend=backend)
        np.testing.assert_allclose(fast(x), expected, rtol=1e-12)
        np.testing.assert_allclose(fast(x / 2), cr.grad(_elementwise_loss)(x / 2), rtol=1e-12)
    marker = "ne_evaluate" if backend == "numexpr" else "numba.njit"
    assert marker in fast.source(x)


def test_numba_compiles_scalar_programs():
    chain = cr.jit(cr.value_and_grad(lambda x: cnp.tanh(cnp.exp(cnp.sin(x) * x) + x)),
                   backend="numba")
    for x in (0.5, -1.25):
        value, derivative = chain(x)
        s = np.sin(x) * x
        assert value == pytest.approx(np.tanh(np.exp(s) + x), rel=1e-14)
        inner = np.exp(s) * (np.cos(x) * x + np.sin(x)) + 1
        assert derivative == pytest.approx((1 - np.tanh(np.exp(s) + x) ** 2) * inner, rel=1e-13)
        assert isinstance(value, np.float64)


@pytest.mark.parametrize("backend", ["numexpr", "numba"])
def test_a_backend_that_cannot_take_a_program_falls_back_with_a_warning(backend):
    def branchy(x):
        if cnp.sum(x) > 0:  # a guard: numba declines; a tiny array: numexpr declines
            return cnp.linalg.inv(cnp.reshape(x, (2, 2)))
        return x

    fast = cr.jit(branchy, backend=backend)
    x = np.array([2.0, 1.0, 1.0, 3.0])
    with pytest.warns(cr.errors.BackendWarning, match="NumPy backend"):
        found = fast(x)
    np.testing.assert_allclose(found, np.linalg.inv(x.reshape(2, 2)))
    np.testing.assert_allclose(fast(x + 1), np.linalg.inv((x + 1).reshape(2, 2)))


def test_a_missing_backend_names_the_pip_install(monkeypatch):
    import importlib

    real = importlib.import_module

    def without_numba(name, *args):
        if name == "numba":
            raise ImportError("No module named 'numba'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_numba)
    with pytest.raises(cr.errors.MissingExtraError, match="pip install numba"):
        cr.jit(lambda x: x * 2, backend="numba")(np.ones(3))
