"""Batched reverse mode: jacrev pulls a whole batch of basis cotangents through one backward
pass. Every answer is compared with row-by-row vector-Jacobian products from cr.vjp, whose
rules the registry sweep checks against finite differences."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.dtypes import dtype_of
from chainrule.core.primitive import REGISTRY
from samples import all_samples

SAMPLES = all_samples()


def jacobian_by_rows(function, args, position):
    """Row i of d out / d args[position]: the VJP of basis cotangent e_i, one pass each."""
    out, vjp_fn = cr.vjp(function, *args)
    out = np.asarray(out)
    rows = []
    for seed in np.eye(out.size, dtype=out.dtype if out.dtype.kind == "f" else np.float64):
        rows.append(np.asarray(vjp_fn(seed.reshape(out.shape))[position]))
    x = np.asarray(args[position])
    if not rows:
        return np.zeros(out.shape + x.shape)
    return np.stack(rows).reshape(out.shape + x.shape)


def _real_valued(function):
    """A complex output as its real and imaginary parts, stacked: jacrev's basis cotangents are
    real (a complex input's entries are then gradients in cr.grad's convention)."""

    def real_valued(*args):
        out = function(*args)
        if dtype_of(out).kind != "c":
            return out
        return cnp.stack([cnp.real(out), cnp.imag(out)])

    return real_valued


BATCHED_CASES = [
    pytest.param(name, i, id=f"{name}[{sample.label or i}]")
    for name in sorted(REGISTRY)
    if not REGISTRY[name].nondiff
    for i, sample in enumerate(SAMPLES.get(name, []))
]


@pytest.mark.parametrize("name, index", BATCHED_CASES)
def test_batched_jacrev_matches_row_by_row_vjp(name, index):
    """One batched backward pass (batch rules, or the per-row fallback) for every registry
    sample, against one plain backward pass per output entry."""
    sample = SAMPLES[name][index]
    function = _real_valued(sample.function(REGISTRY[name]))
    args = [np.asarray(a).astype(np.complex128 if np.iscomplexobj(a) else np.float64)
            for a in sample.args]
    wrt = tuple(sample.wrt) if sample.wrt is not None else tuple(range(len(args)))
    jacobians = cr.jacrev(function, argnums=wrt)(*args)
    for position, jacobian in zip(wrt, jacobians, strict=True):
        expected = jacobian_by_rows(function, args, position)
        np.testing.assert_allclose(jacobian, expected, rtol=1e-10, atol=1e-12)


def test_dot_product_inside_a_vector_output_is_not_broadcast_against_the_batch():
    # f(x) = (x . x) x: the dot node receives a batch of n scalars' cotangents, and n equals
    # the length of x, so a rule that broadcast them against x would silently go wrong.
    # d f_i / d x_j = 2 x_j x_i + (x . x) delta_ij.
    x = np.array([0.5, -1.0, 2.0])
    jacobian = cr.jacrev(lambda x: (x @ x) * x)(x)
    np.testing.assert_allclose(jacobian, 2 * np.outer(x, x) + (x @ x) * np.eye(3))


def test_matrix_vector_products_in_both_operands():
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal((4, 3)), rng.standard_normal(3)
    # d (a v) / d v = a; d (v a^T) / d v = a (a 1-d first operand against a matrix).
    np.testing.assert_allclose(cr.jacrev(lambda v: a @ v)(v), a)
    np.testing.assert_allclose(cr.jacrev(lambda v: v @ a.T)(v), a)
    # d (m v) / d m [i, j, k] = delta_ij v_k.
    expected = np.einsum("ij,k->ijk", np.eye(4), v)
    np.testing.assert_allclose(cr.jacrev(lambda m: m @ v)(a), expected)


def test_custom_vjp_rules_run_once_on_the_batch_and_stay_correct():
    calls = []

    @cr.custom_vjp
    def scaled(x):
        return 3.0 * x

    def forward(x):
        return scaled(x), None

    def backward(residuals, cotangent):
        calls.append(np.shape(cotangent))
        return (3.0 * cotangent,)

    scaled.defvjp(forward, backward)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    jacobian = cr.jacrev(lambda x: cnp.sin(scaled(x)))(x)
    np.testing.assert_allclose(jacobian, np.diag(3.0 * np.cos(3.0 * x)))
    # jacrev is vmap of the VJP: bwd runs once, on the batch of 4 basis cotangents (it sees one
    # example's shape; its operations batch).
    assert calls == [(4,)]


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 6, 50])
def test_chunks_of_a_matrix_output_give_the_same_jacobian(chunk_size):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 2))

    def f(x):
        return cnp.tanh(a * x[:2]) @ cnp.reshape(x, (2, 2))  # (3, 2) output

    x = rng.standard_normal(4)
    expected = jacobian_by_rows(f, [x], 0)
    np.testing.assert_allclose(cr.jacrev(f, chunk_size=chunk_size)(x), expected, rtol=1e-12)


def test_jacobian_of_a_sum_is_a_writable_array():
    # out_k = sum_i x_ik^2 at x = 1: d out_k / d x_ij = 2 delta_jk. The VJP of sum is a
    # broadcast view; the Jacobian handed back must be an ordinary array.
    jacobian = cr.jacrev(lambda x: cnp.sum(x * x, axis=0))(np.ones((2, 3)))
    assert jacobian.flags.writeable
    expected = np.zeros((3, 2, 3))
    for k in range(3):
        expected[k, :, k] = 2.0
    np.testing.assert_allclose(jacobian, expected)


def test_jacrev_nested_in_jacfwd_and_in_itself_gives_second_derivatives():
    # f(x) = sin(x) * x[0]: d^2 f_i / dx_j dx_k by hand.
    x = np.array([0.3, -0.7, 1.1])

    def f(x):
        return cnp.sin(x) * x[0]

    expected = np.zeros((3, 3, 3))
    for i in range(3):
        expected[i, i, i] += -np.sin(x[i]) * x[0]
        expected[i, i, 0] += np.cos(x[i])
        expected[i, 0, i] += np.cos(x[i])
    np.testing.assert_allclose(cr.jacfwd(cr.jacrev(f))(x), expected, atol=1e-12)
    np.testing.assert_allclose(cr.jacrev(cr.jacrev(f))(x), expected, atol=1e-12)
    np.testing.assert_allclose(cr.jacrev(cr.jacfwd(f))(x), expected, atol=1e-12)
