"""cr.vmap as a JAX / torch.func user probes it: axes and pytrees, chunking, composition with
every other transform in every order, the Tensor API, escapes that must fail clearly, in-place
updates, randomness, and a sweep of chainrule.numpy functions under vmap.

Expected values come from closed forms, NumPy loops over the examples, or finite differences;
never from chainrule's own batched path.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
import chainrule.numpy as cnp
from chainrule.errors import (
    BatchingError,
    ConcretizationError,
    InputTypeError,
    ShapeError,
)

RNG = np.random.default_rng(12)
X = RNG.normal(size=(4, 3))
W = RNG.normal(size=3)


def close(got, want, rtol=1e-10, atol=1e-12):
    got = got.numpy() if isinstance(got, cr.Tensor) else got
    np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=atol)


def loop(function, *args, axis=0):
    """The reference: `function` (NumPy) on each example, results stacked along `axis`."""
    n = np.shape(args[0])[0]
    return np.stack([function(*[a[i] for a in args]) for i in range(n)], axis=axis)


def fd_grad(function, x, eps=1e-6):
    """Central differences of a scalar NumPy function."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (function(up) - function(down)) / (2 * eps)
    return grad


# ===== in_axes / out_axes / axis_size / chunk_size ================================================
def test_basic_matches_loop():
    f = lambda x: (cnp.sin(x) * x[::-1]).sum()  # noqa: E731
    close(cr.vmap(f)(X), loop(lambda x: (np.sin(x) * x[::-1]).sum(), X))


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_in_axes_int_and_negative(axis):
    A = RNG.normal(size=(2, 5))
    got = cr.vmap(lambda a: cnp.cumsum(a) * a[0], in_axes=axis)(A)
    moved = np.moveaxis(A, axis, 0)
    close(got, loop(lambda a: np.cumsum(a) * a[0], moved))


def test_in_axes_tuple_per_argument_with_none():
    A = RNG.normal(size=(3, 5))  # batched along axis 1: 5 examples of shape (3,)
    b = RNG.normal(size=3)
    got = cr.vmap(lambda a, b, c: a * b + c, in_axes=(1, None, 0))(A, b, np.arange(5.0))
    close(got, loop(lambda a, c: a * b + c, A.T, np.arange(5.0)))


def test_in_axes_list_accepted_like_tuple():
    close(cr.vmap(lambda a, b: a - b, in_axes=[0, 1])(X, X.T), np.zeros_like(X))


def test_in_axes_dict_prefix_per_leaf():
    params = {"w": W, "b": RNG.normal(size=4), "scale": 2.0}
    f = lambda p, x: p["scale"] * cnp.tanh(p["w"] @ x + p["b"])  # noqa: E731
    spec = ({"w": None, "b": 0, "scale": None}, 0)
    got = cr.vmap(f, in_axes=spec)(params, X)
    close(got, np.stack([2.0 * np.tanh(W @ X[i] + params["b"][i]) for i in range(4)]))


def test_in_axes_nested_dict_prefix_and_full_tree():
    tree = {"a": {"b": X.T, "c": 2 * X.T}, "d": 3.0}
    f = lambda p: p["a"]["b"] * p["a"]["c"] + p["d"]  # noqa: E731
    want = 2 * X * X + 3.0
    prefix = ({"a": 1, "d": None},)  # one axis for the whole "a" subtree
    close(cr.vmap(f, in_axes=prefix)(tree), want)
    full = ({"a": {"b": 1, "c": 1}, "d": None},)
    close(cr.vmap(f, in_axes=full)(tree), want)
    mixed = {"a": {"b": X.T, "c": np.arange(3.0)}, "d": 3.0}  # c unbatched
    close(cr.vmap(f, in_axes=({"a": {"b": 1, "c": None}, "d": None},))(mixed),
          X * np.arange(3.0) + 3.0)


def test_in_axes_list_and_tuple_arguments():
    close(cr.vmap(lambda l: l[0] + l[1], in_axes=([0, 1],))([X, X.T]), 2 * X)
    pair = (X, np.arange(3.0))
    close(cr.vmap(lambda p: p[0] * p[1], in_axes=((0, None),))(pair), X * np.arange(3.0))


def test_namedtuple_prefix():
    from collections import namedtuple

    P = namedtuple("P", "w b")
    got = cr.vmap(lambda p: p.w * p.b, in_axes=(P(0, None),))(P(X, np.arange(3.0)))
    close(got, X * np.arange(3.0))


def test_numpy_integer_axis():
    close(cr.vmap(lambda a: a * 2, in_axes=np.int64(1))(X), 2 * X.T)


@pytest.mark.parametrize("out_axis", [0, 1, -1, -2])
def test_out_axes_int_and_negative(out_axis):
    got = cr.vmap(lambda x: cnp.outer(x, x[:2]), out_axes=out_axis)(X)
    want = loop(lambda x: np.outer(x, x[:2]), X, axis=out_axis % 3)
    close(got, want)


def test_out_axes_pytree_and_prefix():
    got = cr.vmap(
        lambda x: {"s": x.sum(), "pair": (x, x[0])},
        out_axes={"s": 0, "pair": (1, 0)},
    )(X)
    close(got["s"], X.sum(1))
    close(got["pair"][0], X.T)
    close(got["pair"][1], X[:, 0])
    # a prefix: 1 for every leaf of the list
    s, (a, b) = cr.vmap(lambda x: (x.sum(), [x, 2 * x]), out_axes=(0, 1))(X)
    close(s, X.sum(1))
    close(a, X.T)
    close(b, 2 * X.T)


def test_out_axes_none_for_unbatched_output():
    w = np.arange(3.0)
    out, same = cr.vmap(lambda x, w: (x * w, w * 2), in_axes=(0, None), out_axes=(0, None))(X, w)
    close(out, X * w)
    close(same, 2 * w)
    assert np.shape(same) == (3,)


def test_axis_size_with_all_none():
    got = cr.vmap(lambda w: w * 2, in_axes=None, axis_size=5)(np.arange(3.0))
    close(got, np.tile(2 * np.arange(3.0), (5, 1)))
    close(cr.vmap(lambda: np.float64(1.5), axis_size=3)(), np.full(3, 1.5))
    assert cr.vmap(lambda: 1.0, axis_size=0)().shape == (0,)


def test_axis_size_agreeing_with_arguments_is_accepted():
    close(cr.vmap(lambda x: x * 2, axis_size=4)(X), 2 * X)


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3"])
def test_axis_size_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="axis_size"):
        cr.vmap(lambda: 1.0, axis_size=bad)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 100])
def test_chunk_size_equals_unchunked(chunk):
    A = RNG.normal(size=(7, 3))
    f = lambda x, w: ((cnp.tanh(x * w)).sum(), x[::-1] * 2, w)  # noqa: E731
    want = cr.vmap(f, in_axes=(0, None), out_axes=(0, 1, None))(A, W)
    got = cr.vmap(f, in_axes=(0, None), out_axes=(0, 1, None), chunk_size=chunk)(A, W)
    for g, w in zip(got, want):
        close(g, w)
    close(got[0], np.tanh(A * W).sum(1))


def test_chunk_size_with_grad_inside_and_outside():
    A = RNG.normal(size=(5, 3))
    f = lambda w, x: cnp.tanh(w @ x)  # noqa: E731
    per_example = (1 - np.tanh(A @ W) ** 2)[:, None] * A
    close(cr.vmap(cr.grad(f), in_axes=(None, 0), chunk_size=2)(W, A), per_example)
    total = cr.grad(lambda w: cr.vmap(f, in_axes=(None, 0), chunk_size=2)(w, A).sum())(W)
    close(total, per_example.sum(0))
    g = cr.grad(lambda a: (cr.vmap(lambda x: (x**3).sum(), chunk_size=3)(a) ** 2).sum())(A)
    close(g, 2 * (A**3).sum(1, keepdims=True) * 3 * A**2)


def test_chunk_size_validated():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="chunk_size"):
            cr.vmap(lambda x: x, chunk_size=bad)


def test_chunk_size_on_axis_and_broadcast_outputs():
    close(cr.vmap(lambda x: x * 2, in_axes=1, chunk_size=2)(X), 2 * X.T)
    close(cr.vmap(lambda x: np.ones(2), chunk_size=3)(X), np.ones((4, 2)))
    close(cr.vmap(lambda: 2.0, axis_size=5, chunk_size=2)(), np.full(5, 2.0))


def test_kwargs_are_unbatched():
    scale = np.arange(3.0)
    close(cr.vmap(lambda x, scale=1.0: x * scale)(X, scale=scale), X * scale)
    # even one with a leading axis of the batch's length: it goes to every example whole
    got = cr.vmap(lambda x, *, other: x * other)(X, other=X)
    assert got.shape == (4, 4, 3)
    close(got, X[:, None, :] * X[None, :, :])


def test_zero_dimensional_outputs_and_integer_outputs():
    got = cr.vmap(lambda x: x[1])(X)
    assert got.shape == (4,)
    close(got, X[:, 1])
    labels = cr.vmap(lambda x: cnp.argmax(x))(X)
    assert labels.dtype.kind == "i"
    np.testing.assert_array_equal(labels, X.argmax(1))
    np.testing.assert_array_equal(cr.vmap(lambda y: y + 1)(np.arange(4)), np.arange(1, 5))


def test_outputs_that_do_not_depend_on_the_batch_are_broadcast():
    got = cr.vmap(lambda x: (np.ones(2), 3.0, x.sum()))(X)
    close(got[0], np.ones((4, 2)))
    close(got[1], np.full(4, 3.0))
    assert got[1].shape == (4,)
    close(cr.vmap(lambda x, w: w, in_axes=(0, None))(X, np.arange(2.0)), np.tile(np.arange(2.0),
                                                                                (4, 1)))
    close(cr.vmap(lambda x: np.ones(2), out_axes=1)(X), np.ones((2, 4)))


def test_multiple_outputs():
    mean, centred, norm = cr.vmap(lambda x: (x.mean(), x - x.mean(), cnp.linalg.norm(x)))(X)
    close(mean, X.mean(1))
    close(centred, X - X.mean(1, keepdims=True))
    close(norm, np.linalg.norm(X, axis=1))


def test_identity_and_empty_batch():
    close(cr.vmap(lambda x: x)(X), X)
    close(cr.vmap(lambda x: x, in_axes=1, out_axes=1)(X), X)
    assert cr.vmap(lambda x: x * 2)(np.ones((0, 3))).shape == (0, 3)
    assert cr.vmap(lambda x: x.sum(), chunk_size=2)(np.ones((0, 3))).shape == (0,)


def test_float32_is_kept():
    got = cr.vmap(lambda x: cnp.sin(x) * 2)(X.astype(np.float32))
    assert got.dtype == np.float32
    close(got, 2 * np.sin(X.astype(np.float32)), rtol=1e-6, atol=1e-6)


def test_numpy_functions_dispatch_on_batched_values():
    # np.sin / np.sum on a batched value dispatch to chainrule (NEP 13/18) per example
    close(cr.vmap(lambda x: np.sum(np.sin(x)))(X), np.sin(X).sum(1))


def test_shape_and_iteration_see_one_example():
    seen = []

    def f(x):
        seen.append((x.shape, cnp.shape(x), x.ndim, len(x), x.size))
        return cnp.stack([2 * row for row in x])

    assert cr.vmap(f)(RNG.normal(size=(4, 2, 3))).shape == (4, 2, 3)
    assert seen == [((2, 3), (2, 3), 2, 2, 6)]


def test_an_error_inside_propagates_and_leaves_nothing_behind():
    with pytest.raises(ZeroDivisionError):
        cr.vmap(lambda x: 1 / 0)(X)
    close(cr.vmap(lambda x: x * 2)(X), 2 * X)
    close(cr.vmap(cr.grad(f_scalar))(X), df_scalar(X))


def test_name():
    assert cr.vmap(np.sin).__name__ == "vmap_sin"  # an identifier: cr.jit names its source so
    assert cr.grad(np.sin).__name__ == "grad_sin" and cr.hessian(np.sin).__name__ == "hessian_sin"


# ===== composition in every order =================================================================
def f_scalar(x):
    return (cnp.sin(x) * x).sum()


def df_scalar(x):
    return np.cos(x) * x + np.sin(x)


def test_vmap_of_grad():
    close(cr.vmap(cr.grad(f_scalar))(X), df_scalar(X))


def test_grad_of_sum_of_vmap():
    close(cr.grad(lambda a: cr.vmap(f_scalar)(a).sum())(X), df_scalar(X))
    weights = np.arange(1.0, 5.0)
    close(cr.grad(lambda a: (cr.vmap(f_scalar, in_axes=1)(a.T) * weights).sum())(X),
          df_scalar(X) * weights[:, None])


def test_grad_of_vmap_wrt_unbatched_argument_sums_over_examples():
    f = lambda w, x: cnp.tanh(w @ x)  # noqa: E731
    got = cr.grad(lambda w: cr.vmap(f, in_axes=(None, 0))(w, X).sum())(W)
    close(got, ((1 - np.tanh(X @ W) ** 2)[:, None] * X).sum(0))


def test_vmap_of_grad_closing_over_the_batched_value():
    got = cr.vmap(lambda x: cr.grad(lambda w: (w * x).sum() ** 2)(W))(X)
    close(got, 2 * (W * X).sum(1, keepdims=True) * X)


def test_vmap_of_jvp_and_jvp_of_vmap():
    V = RNG.normal(size=X.shape)
    want = (df_scalar(X) * V).sum(1)
    close(cr.vmap(lambda x, v: cr.jvp(f_scalar, (x,), (v,))[1])(X, V), want)
    primal, tangent = cr.jvp(cr.vmap(f_scalar), (X,), (V,))
    close(primal, (np.sin(X) * X).sum(1))
    close(tangent, want)
    # an unbatched tangent
    got = cr.vmap(lambda x, v: cr.jvp(cnp.sin, (x,), (v,))[1], in_axes=(0, None))(X, W)
    close(got, np.cos(X) * W)


def test_vmap_of_vjp_and_vjp_of_vmap():
    cot = np.arange(1.0, 5.0)
    got = cr.vmap(lambda x, c: cr.vjp(f_scalar, x)[1](c)[0])(X, cot)
    close(got, df_scalar(X) * cot[:, None])
    out, pullback = cr.vjp(cr.vmap(f_scalar), X)
    close(out, (np.sin(X) * X).sum(1))
    close(pullback(cot)[0], df_scalar(X) * cot[:, None])


def g_vector(x):
    return cnp.sin(x) * x[::-1]


def jac_g(x):
    return np.diag(np.cos(x) * x[::-1]) + np.diag(np.sin(x))[:, ::-1]


def test_vmap_of_jacfwd():
    close(cr.vmap(cr.jacfwd(g_vector))(X), loop(jac_g, X))
    close(cr.vmap(cr.jacfwd(g_vector, chunk_size=2))(X), loop(jac_g, X))
    close(cr.vmap(cr.jacfwd(g_vector), chunk_size=3)(X), loop(jac_g, X))




def test_vmap_of_jacrev():
    close(cr.vmap(cr.jacrev(g_vector))(X), loop(jac_g, X))


def test_jacrev_and_jacfwd_of_vmap_are_block_diagonal():
    want = np.zeros((4, 3, 4, 3))
    for i in range(4):
        want[i, :, i, :] = jac_g(X[i])
    close(cr.jacrev(cr.vmap(g_vector))(X), want)
    close(cr.jacfwd(cr.vmap(g_vector))(X), want)
    # batch along axis 1 of the input: d out[j] / d X[:, j] = 2 X[:, j]
    got = cr.jacrev(cr.vmap(lambda x: (x**2).sum(), in_axes=1))(X)
    want = np.zeros((3, 4, 3))
    for j in range(3):
        want[j, :, j] = 2 * X[:, j]
    close(got, want)


def test_vmap_of_hessian():
    h = lambda x: (x**3).sum() * x[0]  # noqa: E731

    def hess(x):
        H = np.diag(6 * x * x[0])
        H[0, :] += 3 * x**2
        H[:, 0] += 3 * x**2
        return H

    close(cr.vmap(cr.hessian(h))(X), loop(hess, X))


def test_hessian_of_a_function_using_vmap():
    # f(x) = sum_k x0 * x_k^2 over k = 1, 2 (vmap over the tail, x0 unbatched)
    f = lambda x: cr.vmap(lambda a, b: a * b * b, in_axes=(None, 0))(x[0], x[1:]).sum()  # noqa
    x = np.array([1.0, 2.0, 3.0])
    want = np.array([[0.0, 4.0, 6.0], [4.0, 2.0, 0.0], [6.0, 0.0, 2.0]])
    close(cr.hessian(f)(x), want)


def test_vmap_of_grad_of_grad_scalar_second_derivatives():
    x = X[:, 0]
    got = cr.vmap(cr.grad(cr.grad(lambda t: cnp.sin(t) * t**2)))(x)
    close(got, -np.sin(x) * x**2 + 4 * x * np.cos(x) + 2 * np.sin(x))


def test_grad_of_grad_of_vmap():
    a0 = 0.7
    got = cr.grad(cr.grad(lambda a: cr.vmap(lambda x: cnp.sin(a * x))(X[:, 0]).sum()))(a0)
    close(got, (-(X[:, 0] ** 2) * np.sin(a0 * X[:, 0])).sum())


def test_vmap_of_vmap_with_different_axes():
    A = RNG.normal(size=(2, 3, 5))
    B = RNG.normal(size=(3, 2))
    inner = cr.vmap(lambda a, b: a * b, in_axes=(1, None), out_axes=1)  # over A's axis 2
    got = cr.vmap(inner, in_axes=(0, 1))(A, B)  # outer over A's axis 0, B's axis 1
    assert got.shape == (2, 3, 5)
    want = np.empty((2, 3, 5))
    for i in range(2):
        for k in range(5):
            want[i, :, k] = A[i, :, k] * B[:, i]
    close(got, want)


def test_nested_vmap_outer_product_and_level_separation():
    a, b = np.arange(1.0, 4.0), np.arange(1.0, 6.0)
    close(cr.vmap(lambda x: cr.vmap(lambda y: x * y)(b))(a), np.outer(a, b))
    # the inner vmap maps over the outer example itself: result[i, j] = X[i] + X[i, j]
    got = cr.vmap(lambda x: cr.vmap(lambda y: x + y)(x))(X)
    close(got, X[:, None, :] + X[:, :, None])
    # an inner output that depends only on the outer example is broadcast along the inner axis
    got = cr.vmap(lambda x: cr.vmap(lambda y: x)(np.ones((2, 5))))(X)
    close(got, np.broadcast_to(X[:, None, :], (4, 2, 3)))


def test_vmap_grad_vmap():
    ys = np.arange(3.0)
    got = cr.vmap(cr.grad(lambda x: cr.vmap(lambda y: cnp.sin(x * y))(ys).sum()))(X[:, 0])
    close(got, (ys * np.cos(X[:, :1] * ys)).sum(1))


def test_value_and_grad_with_aux_inside_vmap():
    (value, aux), g = cr.vmap(
        cr.value_and_grad(lambda x: ((x**2).sum(), x.max()), has_aux=True)
    )(X)
    close(value, (X**2).sum(1))
    close(aux, X.max(1))
    close(g, 2 * X)


def test_hvp_and_linearize_inside_vmap():
    V = RNG.normal(size=X.shape)
    close(cr.vmap(lambda x, v: cr.hvp(lambda y: (y**3).sum(), x, v))(X, V), 6 * X * V)
    close(cr.vmap(lambda x, v: cr.linearize(cnp.sin, x)[1](v))(X, V), np.cos(X) * V)


def test_per_example_gradients_of_a_pytree_model():
    params = {"W": RNG.normal(size=(2, 3)), "b": RNG.normal(size=2)}
    Y = RNG.normal(size=(4, 2))

    def loss(p, x, y):
        return ((cnp.tanh(p["W"] @ x + p["b"]) - y) ** 2).sum()

    h = np.tanh(X @ params["W"].T + params["b"])
    d = 2 * (h - Y) * (1 - h**2)
    for chunk in (None, 3):
        g = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0), chunk_size=chunk)(params, X, Y)
        close(g["W"], d[:, :, None] * X[:, None, :])
        close(g["b"], d)


# ----- perturbation confusion ---------------------------------------------------------------------
def test_perturbation_confusion_with_vmap():
    # d/dx [x * d/dy (x + y)] = 1, per example
    got = cr.vmap(cr.grad(lambda x: x * cr.grad(lambda y: x + y)(x)))(X[:, 0])
    close(got, np.ones(4))
    # the inner derivative under a vmap: d/dx [x * sum_i d/dy (x + y)|y=ys_i] = len(ys)
    ys = np.arange(5.0)
    got = cr.grad(lambda x: x * cr.vmap(cr.grad(lambda y: x + y))(ys).sum())(2.0)
    close(got, 5.0)
    # d/dx [x * sum_k d/dy (x y)|y=k] = d/dx [3 x^2] = 6x, per example
    got = cr.vmap(cr.grad(lambda x: x * cr.vmap(cr.grad(lambda y: x * y))(np.arange(3.0)).sum()))(
        X[:, 0]
    )
    close(got, 6 * X[:, 0])
    # forward over forward: d/dx [x * d/dy (x + y)] with jvp at both levels
    def outer(x):
        inner = cr.jvp(lambda y: x + y, (x,), (1.0,))[1]
        return x * inner

    got = cr.vmap(lambda x: cr.jvp(outer, (x,), (1.0,))[1])(X[:, 0])
    close(got, np.ones(4))


# ----- custom rules and checkpoint ----------------------------------------------------------------
@cr.custom_vjp
def st_round(x):
    """round(x) whose derivative is the identity (straight-through): documented, deliberately
    not round's own derivative (which is 0)."""
    return cnp.round(x)


st_round.defvjp(lambda x: (cnp.round(x), None), lambda residuals, g: (g,))


@cr.custom_jvp
def round_times3(x):
    """round(x) with the JVP rule t -> 3 t (deliberately not round's own derivative)."""
    return cnp.round(x)


@round_times3.defjvp
def _round_times3_jvp(primals, tangents):
    return cnp.round(primals[0]), 3.0 * tangents[0]


@cr.custom_vjp
def scaled_mul(w, x):
    """w * x whose w-cotangent is doubled (a deliberately different, documented rule)."""
    return w * x


scaled_mul.defvjp(lambda w, x: (w * x, (w, x)), lambda r, g: (2.0 * g * r[1], g * r[0]))


@cr.custom_vjp
def stable_softplus(x):
    return cnp.logaddexp(0.0, x)


stable_softplus.defvjp(
    lambda x: (cnp.logaddexp(0.0, x), cnp.exp(-cnp.logaddexp(0.0, -x))),  # residual: sigmoid
    lambda sig, g: (g * sig,),
)


def test_custom_vjp_rule_is_used_under_vmap():
    A = 2.5 * X
    close(cr.vmap(st_round)(A), np.round(A))
    # d/dx sum(st_round(x) * x) = round(x) + x  (the rule's identity, not round's zero)
    close(cr.vmap(cr.grad(lambda x: (st_round(x) * x).sum()))(A), np.round(A) + A)
    close(cr.grad(lambda a: cr.vmap(lambda x: (st_round(x) * x).sum())(a).sum())(A),
          np.round(A) + A)
    # forward mode derives the JVP from bwd: identity
    close(cr.jvp(cr.vmap(st_round), (A,), (np.ones_like(A),))[1], np.ones_like(A))


def test_custom_vjp_residuals_are_per_example():
    A = 30 * X  # large |x|: the stable rule matters
    sig = 1 / (1 + np.exp(-A))
    close(cr.vmap(cr.grad(lambda x: stable_softplus(x).sum()))(A), sig)
    close(cr.grad(lambda a: cr.vmap(lambda x: stable_softplus(x).sum())(a).sum())(A), sig)


def test_custom_vjp_cotangent_of_unbatched_argument_is_summed_over_examples():
    f = cr.vmap(lambda w, x: scaled_mul(w, x).sum(), in_axes=(None, 0))
    gw, gx = cr.grad(lambda w, a: f(w, a).sum(), argnums=(0, 1))(W, X)
    close(gw, 2.0 * X.sum(0))  # the rule's doubled cotangent, summed over the examples
    close(gx, np.tile(W, (4, 1)))
    per_example = cr.vmap(cr.grad(lambda w, x: scaled_mul(w, x).sum()), in_axes=(None, 0))(W, X)
    close(per_example, 2.0 * X)


def test_custom_jvp_rule_is_used_under_vmap():
    A = 2.5 * X
    ones = np.ones_like(A)
    close(cr.vmap(lambda x: cr.jvp(round_times3, (x,), (cnp.ones_like(x),))[1])(A), 3 * ones)
    close(cr.vmap(cr.grad(lambda x: round_times3(x).sum()))(A), 3 * ones)
    close(cr.grad(lambda a: cr.vmap(lambda x: round_times3(x).sum())(a).sum())(A), 3 * ones)
    close(cr.jvp(cr.vmap(round_times3), (A,), (ones,))[1], 3 * ones)


def test_checkpoint_inside_vmap_and_vmap_inside_checkpoint():
    segment = cr.checkpoint(lambda x: cnp.sin(x) * x)
    close(cr.vmap(cr.grad(lambda x: segment(x).sum()))(X), df_scalar(X))
    close(cr.grad(lambda a: cr.vmap(lambda x: segment(x).sum())(a).sum())(X), df_scalar(X))
    wrapped = cr.checkpoint(cr.vmap(lambda x: (cnp.sin(x) * x).sum()))
    close(cr.grad(lambda a: wrapped(a).sum())(X), df_scalar(X))
    close(cr.vmap(segment)(X), np.sin(X) * X)


# ----- the Tensor API -----------------------------------------------------------------------------
def test_backward_through_a_vmap_result():
    T = cr.tensor(X, requires_grad=True)
    out = cr.vmap(f_scalar)(T)
    assert isinstance(out, cr.Tensor) and out.shape == (4,)
    out.sum().backward()
    close(T.grad, df_scalar(X))


def test_backward_through_vmap_with_axes_and_closed_over_parameters():
    T = cr.tensor(X, requires_grad=True)
    cr.vmap(lambda x: x.sum(), in_axes=1)(T).backward(np.arange(3.0))
    close(T.grad, np.tile(np.arange(3.0), (4, 1)))

    Wt = cr.tensor(W, requires_grad=True)
    out = cr.vmap(lambda x, w: (x * w).sum(), in_axes=(0, None))(X, Wt)
    (out**2).sum().backward()
    close(Wt.grad, (2 * (X @ W)[:, None] * X).sum(0))

    Wt2 = cr.tensor(W, requires_grad=True)
    cr.vmap(lambda x: (x * Wt2).sum())(X).sum().backward()  # closed over, not an argument
    close(Wt2.grad, X.sum(0))

    Wt3 = cr.tensor(W, requires_grad=True)  # an output that ignores the batch: broadcast
    cr.vmap(lambda x: Wt3 * 1.0)(X).sum().backward()
    close(Wt3.grad, np.full(3, 4.0))


def test_backward_through_vmap_of_grad_and_chunks():
    T = cr.tensor(X, requires_grad=True)
    cr.vmap(cr.grad(lambda x: (x**3).sum()))(T).sum().backward()
    close(T.grad, 6 * X)
    T2 = cr.tensor(X, requires_grad=True)
    cr.vmap(lambda x: (x**2).sum(), chunk_size=3)(T2).sum().backward()
    close(T2.grad, 2 * X)


def test_vmap_of_a_module():
    layer = nn.Linear(3, 2, rng=0, dtype=np.float64)
    weight, bias = layer.weight.numpy(), layer.bias.numpy()
    close(cr.vmap(layer)(X), X @ weight.T + bias)


# ===== escapes that must fail clearly =============================================================
def test_python_control_flow_on_a_batched_value():
    with pytest.raises(BatchingError, match="cnp.where") as info:
        cr.vmap(lambda x: x if x.sum() > 0 else -x)(X)
    assert "vmap" in str(info.value)
    for function in (lambda x: bool(x[0]), lambda x: (x[0] > 0) and (x[1] > 0)):
        with pytest.raises(BatchingError, match="vmap"):
            cr.vmap(function)(X)
    with pytest.raises(BatchingError, match="vmap"):
        cr.vmap(lambda x: range(cnp.argmax(x)))(X)


CONVERSIONS = {
    "np.asarray": lambda x: np.asarray(x),
    "np.array of a list": lambda x: np.array([x[0], x[1]]),
    "float": lambda x: float(x[0]),
    "int": lambda x: int(x[0]),
    "item": lambda x: x[0].item(),
    "tolist": lambda x: x.tolist(),
    "numpy": lambda x: x.numpy(),
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_converting_a_batched_value_raises(name):
    with pytest.raises(ConcretizationError):
        cr.vmap(CONVERSIONS[name])(X)


@pytest.mark.parametrize("name", ["np.asarray", "float"])
def test_converting_a_batched_value_raises_batching_error_naming_vmap(name):
    with pytest.raises(BatchingError, match="vmap"):
        cr.vmap(CONVERSIONS[name])(X)


def test_mismatched_batch_sizes_name_each_argument_and_size():
    with pytest.raises(ShapeError) as info:
        cr.vmap(lambda a, b: a + b)(X, np.ones((5, 3)))
    message = str(info.value)
    assert "argument 0 has 4" in message and "argument 1 has 5" in message
    with pytest.raises(ShapeError, match="argument 1 has 3"):
        cr.vmap(lambda a, b: a + b, in_axes=(0, 1))(X, np.ones((3, 3)))
    with pytest.raises(ShapeError, match="leaf"):
        cr.vmap(lambda p: p["a"] + p["b"])({"a": X, "b": np.ones((2, 3))})
    with pytest.raises(ShapeError, match="axis_size=3"):
        cr.vmap(lambda a: a, axis_size=3)(X)


def test_in_axes_out_of_range_and_zero_dimensional_leaves():
    for axis in (2, -3):
        with pytest.raises(ShapeError, match=f"in_axes={axis}.*argument 0"):
            cr.vmap(lambda a: a, in_axes=axis)(X)
    with pytest.raises(ShapeError, match=r"shape \(\)"):
        cr.vmap(lambda a: a)(np.float64(3.0))


def test_in_axes_wrong_length_and_bad_entries():
    with pytest.raises(ValueError, match="in_axes has 1 entries.*2 positional"):
        cr.vmap(lambda a, b: a, in_axes=(0,))(X, X)
    for bad in ("0", 0.0, True):
        with pytest.raises(ValueError, match="ints or None"):
            cr.vmap(lambda a: a, in_axes=bad)(X)
    with pytest.raises(ValueError, match="argument's structure"):
        cr.vmap(lambda p: p["a"], in_axes=({"a": 0},))({"a": X, "b": X})


def test_out_axes_errors():
    with pytest.raises(BatchingError, match="out_axes=None"):
        cr.vmap(lambda x: x * 2, out_axes=None)(X)
    with pytest.raises(ValueError, match="output's structure"):
        cr.vmap(lambda x: (x.sum(), x), out_axes=(0, 1, 2))(X)
    for axis in (2, -3):
        with pytest.raises(ShapeError, match=f"out_axes={axis}"):
            cr.vmap(lambda x: x, out_axes=axis)(X)


def test_no_batched_argument_needs_axis_size():
    with pytest.raises(ValueError, match="axis_size"):
        cr.vmap(lambda x: x * 2, in_axes=None)(X)


def test_non_array_leaf_with_an_int_axis():
    with pytest.raises(InputTypeError, match="argument 1.*str"):
        cr.vmap(lambda a, s: a, in_axes=(0, 0))(X, "hello")
    # with None it is passed through
    close(cr.vmap(lambda a, s: a * len(s), in_axes=(0, None))(X, "hello"), 5 * X)


# ----- where, indexing ----------------------------------------------------------------------------
def test_where_with_a_batched_condition_is_per_example():
    close(cr.vmap(lambda x: cnp.where(x > 0, x, -2 * x))(X), np.where(X > 0, X, -2 * X))
    got = cr.vmap(lambda x: cnp.where(x.sum() > 0, x, -x))(X)
    close(got, np.where(X.sum(1, keepdims=True) > 0, X, -X))
    mask = X > 0  # a boolean argument, batched
    close(cr.vmap(lambda m, x: cnp.where(m, x, 0.0))(mask, X), np.where(mask, X, 0.0))
    grads = cr.vmap(cr.grad(lambda x: cnp.where(x > 0, x**2, 3 * x).sum()))(X)
    close(grads, np.where(X > 0, 2 * X, 3.0))


def test_batched_integer_label_index_per_example_cross_entropy():
    logits = RNG.normal(size=(4, 3))
    y = np.array([0, 2, 1, 2])
    ce = lambda z, label: cnp.logsumexp(z) - z[label]  # noqa: E731
    want = np.log(np.exp(logits).sum(1)) - logits[np.arange(4), y]
    close(cr.vmap(ce)(logits, y), want)
    soft = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    close(cr.vmap(cr.grad(ce))(logits, y), soft - np.eye(3)[y])
    # an index array per example
    idx = np.array([[0, 1], [1, 2], [2, 0], [0, 0]])
    close(cr.vmap(lambda x, i: x[i])(X, idx), np.take_along_axis(X, idx, 1))
    close(cr.vmap(lambda x: x[1:, None])(X), X[:, 1:, None])


def test_batched_integer_label_in_cross_entropy_loss():
    logits = RNG.normal(size=(4, 3))
    y = np.array([0, 2, 1, 2])
    want = np.log(np.exp(logits).sum(1)) - logits[np.arange(4), y]
    got = cr.vmap(lambda z, label: F.cross_entropy(z[None], label[None]))(logits, y)
    close(got, want)


def test_batched_boolean_mask_index_raises():
    with pytest.raises(BatchingError, match="cnp.where"):
        cr.vmap(lambda x: x[x > 0].sum())(X)


# ----- in-place updates ---------------------------------------------------------------------------
def test_in_place_on_a_tensor_derived_inside_the_vmapped_function():
    def f(x):
        t = x * 1.0
        t[0] = x[1] ** 2
        t += x
        t *= 2.0
        return t

    def reference(x):
        t = x.copy()
        t[0] = x[1] ** 2
        return 2 * (t + x)

    close(cr.vmap(f)(X), loop(reference, X))

    def g(x):
        t = x * 1.0
        t[0] = x[1] ** 2
        return (t * x).sum()

    grads = cr.vmap(cr.grad(g))(X)
    x0, x1, x2 = X.T
    close(grads, np.stack([x1**2, 2 * x1 * x0 + 2 * x1, 2 * x2], axis=1))


def test_in_place_on_a_plain_tensor_made_inside_raises_clearly():
    # cr.tensor(np.zeros(n)) is unbatched: each example would write its own value into it
    def f(x):
        t = cr.tensor(np.zeros(3))
        t[1] = x[0]
        return t

    def g(x):
        t = cr.tensor(np.zeros(3))
        t += x
        return t

    for function in (f, g):
        with pytest.raises(BatchingError, match="out of place"):
            cr.vmap(function)(X)


def test_in_place_into_zeros_like_works_or_raises_batching_error():
    def f(x):
        b = cnp.zeros_like(x)
        b[1] = x[0]
        return b

    try:
        got = cr.vmap(f)(X)
    except BatchingError:
        return
    want = np.zeros_like(X)
    want[:, 1] = X[:, 0]
    close(got, want)


@pytest.mark.parametrize("requires_grad", [False, True])
def test_in_place_update_of_an_outside_tensor_with_a_batched_value(requires_grad):
    outside = cr.tensor(np.zeros(3), requires_grad=requires_grad)

    def setitem(x):
        outside[0] = x[0]
        return x

    def iadd(x):
        nonlocal outside
        outside += x
        return x

    for function in (setitem, iadd):
        # a leaf that requires grad refuses any in-place update (InplaceError) first
        with pytest.raises((BatchingError, cr.errors.InplaceError)):
            cr.vmap(function)(X)
        with pytest.raises((BatchingError, cr.errors.InplaceError)):
            cr.grad(lambda a, f=function: cr.vmap(f)(a).sum())(X)
    # the tensor is untouched, back on the tape, and usable
    close(outside.detach(), np.zeros(3))
    close((outside + 1).detach(), np.ones(3))
    assert outside._trace.concrete


def test_in_place_update_of_an_outside_tensor_error_names_vmap():
    outside = cr.tensor(np.zeros(3))

    def iadd(x):
        nonlocal outside
        outside += x
        return x

    with pytest.raises(BatchingError, match=r"cr\.vmap \(4 examples\)"):
        cr.vmap(iadd)(X)


# ----- randomness ---------------------------------------------------------------------------------
def test_dropout_under_vmap_is_per_example_or_refused():
    ones = np.ones((6, 64))
    for function in (lambda x: F.dropout(x, 0.5, rng=0), nn.Dropout(0.5, rng=0)):
        try:
            out = np.asarray(cr.vmap(function)(ones))
        except BatchingError:
            continue
        assert set(np.unique(out)) <= {0.0, 2.0}
        assert len({row.tobytes() for row in out}) == 6, "every example got the same mask"


def test_dropout_in_eval_mode_and_noise_passed_batched():
    layer = nn.Dropout(0.5, rng=0)
    layer.eval()
    close(cr.vmap(layer)(X), X)
    noise = RNG.normal(size=X.shape)
    close(cr.vmap(lambda x, n: x + 0.1 * n)(X, noise), X + 0.1 * noise)


# ===== chainrule.numpy under vmap against a NumPy loop ============================================
def _spd():
    a = RNG.normal(size=(3, 3))
    return a @ a.T + 3 * np.eye(3)


def _lse(x, axis=-1):
    m = x.max(axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis, keepdims=True))).squeeze(axis)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _sym(a):
    return (a + a.swapaxes(-1, -2)) / 2


# (name, chainrule function, NumPy function, one example's argument shapes ("spd": a symmetric
# positive definite matrix), whether to check the gradient of grad(vmap) by finite differences)
SWEEP = [
    ("mean", lambda x: cnp.mean(x, axis=0), lambda x: np.mean(x, axis=0), [(3, 4)], True),
    ("mean_all", cnp.mean, np.mean, [(3, 4)], True),
    ("var", lambda x: cnp.var(x, axis=-1), lambda x: np.var(x, axis=-1), [(3, 4)], True),
    ("std_ddof", lambda x: cnp.std(x, ddof=1), lambda x: np.std(x, ddof=1), [(3, 4)], True),
    ("max", lambda x: cnp.max(x, axis=1), lambda x: np.max(x, axis=1), [(3, 4)], True),
    ("min_keepdims", lambda x: cnp.min(x, axis=0, keepdims=True),
     lambda x: np.min(x, axis=0, keepdims=True), [(3, 4)], True),
    ("argmax", lambda x: cnp.argmax(x, axis=-1), lambda x: np.argmax(x, axis=-1), [(3, 4)],
     False),
    ("logsumexp", lambda x: cnp.logsumexp(x, axis=-1), _lse, [(3, 4)], True),
    ("softmax", lambda x: cnp.softmax(x, axis=0), lambda x: _softmax(x, 0), [(3, 4)], True),
    ("log_softmax", cnp.log_softmax, lambda x: np.log(_softmax(x)), [(3, 4)], True),
    ("sort", lambda x: cnp.sort(x, axis=-1), lambda x: np.sort(x, axis=-1), [(3, 4)], True),
    ("argsort", lambda x: cnp.argsort(x, axis=0), lambda x: np.argsort(x, axis=0), [(3, 4)],
     False),
    ("take_along_axis", lambda x: cnp.take_along_axis(x, cnp.argsort(x, axis=1), axis=1),
     lambda x: np.take_along_axis(x, np.argsort(x, axis=1), axis=1), [(3, 4)], True),
    ("concatenate", lambda x, y: cnp.concatenate([x, y], axis=0),
     lambda x, y: np.concatenate([x, y], axis=0), [(2, 4), (3, 4)], True),
    ("concatenate_last", lambda x, y: cnp.concatenate([x, y], axis=-1),
     lambda x, y: np.concatenate([x, y], axis=-1), [(3, 2), (3, 4)], True),
    ("stack", lambda x, y: cnp.stack([x, y], axis=1), lambda x, y: np.stack([x, y], axis=1),
     [(3, 4), (3, 4)], True),
    ("hstack", lambda x, y: cnp.hstack([x, y]), lambda x, y: np.hstack([x, y]), [(3,), (2,)],
     True),
    ("vstack", lambda x, y: cnp.vstack([x, y]), lambda x, y: np.vstack([x, y]),
     [(4,), (2, 4)], True),
    ("reshape", lambda x: cnp.reshape(x, (2, -1)), lambda x: np.reshape(x, (2, -1)), [(3, 4)],
     True),
    ("method_reshape", lambda x: x.reshape(4, 3), lambda x: x.reshape(4, 3), [(3, 4)], True),
    ("ravel", cnp.ravel, np.ravel, [(3, 4)], True),
    ("transpose", lambda x: cnp.transpose(x, (2, 0, 1)), lambda x: np.transpose(x, (2, 0, 1)),
     [(2, 3, 4)], True),
    ("method_T", lambda x: x.T, lambda x: x.T, [(2, 3, 4)], True),
    ("moveaxis", lambda x: cnp.moveaxis(x, 0, -1), lambda x: np.moveaxis(x, 0, -1),
     [(2, 3, 4)], True),
    ("swapaxes", lambda x: cnp.swapaxes(x, 0, 1), lambda x: np.swapaxes(x, 0, 1), [(3, 4)],
     True),
    ("expand_squeeze", lambda x: cnp.squeeze(cnp.expand_dims(x, 0), 0), lambda x: x, [(3, 4)],
     True),
    ("broadcast_to", lambda x: cnp.broadcast_to(x, (2, 4)), lambda x: np.broadcast_to(x, (2, 4)),
     [(4,)], True),
    ("matmul", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3), (3, 4)], True),
    ("matmul_vector", cnp.matmul, np.matmul, [(2, 3), (3,)], True),
    ("einsum", lambda a, b: cnp.einsum("ij,jk->ki", a, b),
     lambda a, b: np.einsum("ij,jk->ki", a, b), [(2, 3), (3, 4)], True),
    ("einsum_trace", lambda a: cnp.einsum("ii->", a), lambda a: np.einsum("ii->", a), [(3, 3)],
     True),
    ("dot", cnp.dot, np.dot, [(4,), (4,)], True),
    ("dot_matrix_vector", cnp.dot, np.dot, [(2, 4), (4,)], True),
    ("outer", cnp.outer, np.outer, [(3,), (4,)], True),
    ("tensordot", lambda a, b: cnp.tensordot(a, b, axes=1),
     lambda a, b: np.tensordot(a, b, axes=1), [(2, 3), (3, 4)], True),
    ("inv", cnp.linalg.inv, np.linalg.inv, ["spd"], True),
    ("det", cnp.linalg.det, np.linalg.det, ["spd"], True),
    ("solve", cnp.linalg.solve, np.linalg.solve, ["spd", (3,)], True),
    ("solve_matrix", cnp.linalg.solve, np.linalg.solve, ["spd", (3, 2)], True),
    ("cholesky", lambda a: cnp.linalg.cholesky(_sym(a)), lambda a: np.linalg.cholesky(_sym(a)),
     ["spd"], True),
    ("eigvalsh", lambda a: cnp.linalg.eigvalsh(_sym(a)), lambda a: np.linalg.eigvalsh(_sym(a)),
     ["spd"], True),
    ("matrix_power", lambda a: cnp.linalg.matrix_power(a, 3),
     lambda a: np.linalg.matrix_power(a, 3), [(3, 3)], True),
    ("norm", cnp.linalg.norm, np.linalg.norm, [(3, 4)], True),
    ("norm_axis", lambda a: cnp.linalg.norm(a, axis=-1), lambda a: np.linalg.norm(a, axis=-1),
     [(3, 4)], True),
    ("norm_fro", lambda a: cnp.linalg.norm(a, "fro"), lambda a: np.linalg.norm(a, "fro"),
     [(3, 4)], True),
    ("cumsum", lambda x: cnp.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1), [(3, 4)], True),
    ("cumsum_flat", cnp.cumsum, np.cumsum, [(3, 4)], True),
    ("cumprod", lambda x: cnp.cumprod(x, axis=0), lambda x: np.cumprod(x, axis=0), [(3, 4)],
     True),
    ("prod", lambda x: cnp.prod(x, axis=0), lambda x: np.prod(x, axis=0), [(3, 4)], True),
    ("sum_keepdims", lambda x: cnp.sum(x, axis=(0, 1), keepdims=True),
     lambda x: np.sum(x, axis=(0, 1), keepdims=True), [(3, 4)], True),
    ("clip", lambda x: cnp.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5), [(3, 4)], True),
    ("relu", cnp.relu, lambda x: np.maximum(x, 0), [(3, 4)], True),
    ("maximum_broadcast", cnp.maximum, np.maximum, [(3, 4), (4,)], True),
    ("where", lambda x, y: cnp.where(x > y, x, y**2), lambda x, y: np.where(x > y, x, y**2),
     [(3, 4), (3, 4)], True),
    ("pad", lambda x: cnp.pad(x, ((1, 0), (0, 2))), lambda x: np.pad(x, ((1, 0), (0, 2))),
     [(3, 4)], True),
    ("diagonal", lambda x: cnp.diagonal(x, offset=1), lambda x: np.diagonal(x, offset=1),
     [(3, 4)], True),
    ("diag", cnp.diag, np.diag, [(3,)], True),
    ("trace", cnp.trace, np.trace, [(3, 4)], True),
    ("tril", lambda x: cnp.tril(x, -1), lambda x: np.tril(x, -1), [(3, 4)], True),
    ("triu", cnp.triu, np.triu, [(3, 4)], True),
    ("flip", lambda x: cnp.flip(x, axis=1), lambda x: np.flip(x, axis=1), [(3, 4)], True),
    ("roll", lambda x: cnp.roll(x, 1, axis=0), lambda x: np.roll(x, 1, axis=0), [(3, 4)], True),
    ("tile", lambda x: cnp.tile(x, (2, 1)), lambda x: np.tile(x, (2, 1)), [(3, 4)], True),
    ("repeat", lambda x: cnp.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1), [(3, 4)],
     True),
    ("take", lambda x: cnp.take(x, np.array([3, 0, 1]), axis=1),
     lambda x: np.take(x, np.array([3, 0, 1]), axis=1), [(3, 4)], True),
    ("fancy_index", lambda x: x[np.array([2, 0]), 1:], lambda x: x[np.array([2, 0]), 1:],
     [(3, 4)], True),
    ("split", lambda x: cnp.split(x, 2, axis=1)[1], lambda x: np.split(x, 2, axis=1)[1],
     [(3, 4)], True),
    ("elementwise", lambda x: cnp.exp(cnp.tanh(x)) * cnp.log1p(x**2) / cnp.sqrt(1 + cnp.abs(x)),
     lambda x: np.exp(np.tanh(x)) * np.log1p(x**2) / np.sqrt(1 + np.abs(x)), [(3, 4)], True),
    ("power", lambda x, y: cnp.power(cnp.abs(x) + 1, y), lambda x, y: np.power(np.abs(x) + 1, y),
     [(3, 4), (3, 4)], True),
    ("logaddexp", cnp.logaddexp, np.logaddexp, [(3, 4), (3, 4)], True),
    ("sigmoid_softplus", lambda x: cnp.sigmoid(x) * cnp.softplus(x),
     lambda x: np.log1p(np.exp(x)) / (1 + np.exp(-x)), [(3, 4)], True),
    ("comparison_count", lambda x: (x > 0).sum(), lambda x: (x > 0).sum(), [(3, 4)], False),
    ("astype", lambda x: x.astype(np.float32), lambda x: x.astype(np.float32), [(3, 4)], False),
]

SWEEP_BATCH = 3


def _sweep_args(shapes):
    return [
        np.stack([_spd() for _ in range(SWEEP_BATCH)]) if shape == "spd"
        else RNG.normal(size=(SWEEP_BATCH,) + shape)
        for shape in shapes
    ]


@pytest.mark.parametrize("case", SWEEP, ids=[case[0] for case in SWEEP])
def test_numpy_function_under_vmap_matches_a_numpy_loop(case):
    name, function, reference, shapes, check_grad = case
    args = _sweep_args(shapes)
    got = np.asarray(cr.vmap(function)(*args))
    want = loop(reference, *args)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    if not check_grad:
        return
    # grad(sum(vmap(f) * weights)) against finite differences of the NumPy loop
    weights = RNG.normal(size=want.shape)
    argnums = tuple(range(len(args)))
    grads = cr.grad(
        lambda *a: (cr.vmap(function)(*a) * weights).sum(), argnums=argnums
    )(*args)
    for position, (arg, g) in enumerate(zip(args, grads)):
        def scalar(value, position=position):
            full = list(args)
            full[position] = value
            return (loop(reference, *full) * weights).sum()

        np.testing.assert_allclose(g, fd_grad(scalar, arg), rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name}: gradient of argument {position}")




def test_slogdet_under_vmap():
    A = np.stack([_spd() for _ in range(3)])
    close(cr.vmap(lambda a: cnp.linalg.slogdet(a)[1])(A), np.linalg.slogdet(A)[1])




@pytest.mark.parametrize("name", ["any", "all", "count_nonzero"])
def test_boolean_reductions_under_vmap(name):
    got = cr.vmap(lambda x: getattr(cnp, name)(x > 0))(X)
    np.testing.assert_array_equal(got, loop(lambda x: getattr(np, name)(x > 0), X))
