"""chainrule.numpy.linalg and einsum: NumPy's values, NumPy dispatch, gradients of the
composites against finite differences and closed forms, and the errors users see."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.tensor import raw_value
from chainrule.errors import ShapeError

RNG = np.random.default_rng(7)


def well_conditioned(*shape):
    return RNG.uniform(-1, 1, size=shape) + shape[-1] * np.eye(shape[-1])


def spd(*shape):
    a = RNG.uniform(-1, 1, size=shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def symmetric(n):
    """Symmetric with eigenvalues near 1, 3, 5, ... (distinct)."""
    q, _ = np.linalg.qr(RNG.uniform(-1, 1, size=(n, n)))
    return (q * (1.0 + 2.0 * np.arange(n))) @ q.T


A = well_conditioned(3, 3)
BATCH = well_conditioned(2, 3, 3)
TALL = RNG.uniform(-1, 1, size=(4, 3))
WIDE = RNG.uniform(-1, 1, size=(2, 4))
VECTOR = RNG.uniform(-1, 1, size=4)


# ----- values equal NumPy's on plain arrays ------------------------------------------------------
VALUE_CASES = [
    ("inv", (BATCH,), {}),
    ("det", (BATCH,), {}),
    ("slogdet", (np.array([[0.5, 2.0], [1.5, -0.3]]),), {}),
    ("solve", (A, VECTOR[:3]), {}),
    ("solve", (BATCH, RNG.uniform(size=(3, 2))), {}),
    ("solve", (BATCH, VECTOR[:3]), {}),
    ("cholesky", (spd(2, 3, 3),), {}),
    ("cholesky", (spd(3, 3),), {"upper": True}),
    ("eigh", (symmetric(3),), {}),
    ("eigvalsh", (RNG.uniform(size=(3, 3)),), {"UPLO": "U"}),
    ("qr", (TALL,), {}),
    ("qr", (WIDE,), {}),
    ("qr", (WIDE,), {"mode": "r"}),
    ("svd", (TALL,), {"full_matrices": False}),
    ("svd", (TALL,), {"compute_uv": False}),
    ("svd", (TALL,), {}),  # full_matrices=True on plain arrays: NumPy's own answer
    ("svdvals", (BATCH,), {}),
    ("pinv", (TALL,), {}),
    ("matrix_power", (A, 3), {}),
    ("matrix_power", (A, -2), {}),
    ("matrix_power", (A, 0), {}),
    ("trace", (BATCH,), {}),
    ("trace", (BATCH,), {"offset": 1}),
    ("diagonal", (BATCH,), {}),
    ("matrix_transpose", (BATCH,), {}),
    ("multi_dot", ([TALL, A, VECTOR[:3]],), {}),
    ("vecdot", (A, A), {}),
    ("outer", (VECTOR, VECTOR[:3]), {}),
    ("tensordot", (BATCH, A), {"axes": 1}),
    ("matrix_norm", (BATCH,), {"ord": "nuc"}),
    ("vector_norm", (BATCH,), {"axis": (0, 2), "ord": 3}),
]


@pytest.mark.parametrize(
    "name, args, kwargs", VALUE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(VALUE_CASES)]
)
def test_linalg_values_equal_numpys(name, args, kwargs):
    ours = getattr(cnp.linalg, name)(*args, **kwargs)
    theirs = getattr(np.linalg, name)(*args, **kwargs)
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for mine, numpys in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(raw_value(mine), numpys, rtol=1e-10, atol=1e-12)


NORM_CASES = [
    (VECTOR, None, None, False), (VECTOR, 1, None, False), (VECTOR, np.inf, None, False),
    (VECTOR, -np.inf, None, False), (VECTOR, 0, None, False), (VECTOR, 3, None, True),
    (VECTOR, 0.5, None, False), (A, None, None, True), (A, "fro", None, False),
    (A, "nuc", None, False), (A, 1, None, False), (A, -1, None, False), (A, 2, None, False),
    (A, -2, None, False), (A, np.inf, None, True), (A, -np.inf, None, False),
    (BATCH, None, 1, False), (BATCH, 1, (2, 0), True), (BATCH, "nuc", (0, 2), True),
    (BATCH, -np.inf, (2, 1), False), (BATCH, 2, -1, True), (BATCH, None, None, False),
]


@pytest.mark.parametrize("x, ord, axis, keepdims", NORM_CASES)
def test_norm_values_equal_numpys(x, ord, axis, keepdims):  # noqa: A002
    expected = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(cnp.linalg.norm(x, ord, axis, keepdims), expected, rtol=1e-12)


EINSUM_CASES = [
    ("ij,jk", (A, TALL.T)),
    ("ij,jk->ki", (A, TALL.T)),
    ("...ij,...jk->...ik", (BATCH, A)),
    ("...ij,jk", (BATCH, TALL.T)),
    ("ii", (A,)),
    ("ii->i", (A,)),
    ("bii->b", (BATCH,)),
    ("i,i", (VECTOR, VECTOR)),
    ("i,j", (VECTOR, VECTOR[:2])),
    ("ij->", (A,)),
    ("bA,Cb", (WIDE.T, TALL.T)),  # implicit output: letters in ASCII order, capitals first
    ("ij, jk, kl -> il", (A, A, TALL.T)),
    ("i,ij,jk,k", (VECTOR[:3], A, TALL.T, VECTOR)),
    ("...i,...j,ij->...", (BATCH, BATCH, A)),
]


@pytest.mark.parametrize("subscripts, operands", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_values_equal_numpys(subscripts, operands):
    expected = np.einsum(subscripts, *operands)
    np.testing.assert_allclose(cnp.einsum(subscripts, *operands), expected, rtol=1e-12)


def test_einsum_sublist_form():
    expected = np.einsum(BATCH, [0, Ellipsis, 2], A, [2, 3], [0, Ellipsis, 3])
    ours = cnp.einsum(BATCH, [0, Ellipsis, 2], A, [2, 3], [0, Ellipsis, 3])
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


# ----- NumPy dispatch records ---------------------------------------------------------------------
@pytest.mark.parametrize("call, primitive", [
    (lambda t: np.linalg.inv(t), "inv"),
    (lambda t: np.linalg.det(t), "det"),
    (lambda t: np.linalg.slogdet(t)[1], "logabsdet"),
    (lambda t: np.linalg.solve(t, np.ones(3)), "getitem"),
    (lambda t: np.linalg.norm(t), "norm"),
    (lambda t: np.linalg.eigh(t + t.T)[0], "eigh_values"),
    (lambda t: np.linalg.svd(t, compute_uv=False), "svd_s"),
    (lambda t: np.linalg.qr(t)[1], "qr_r"),
    (lambda t: np.linalg.pinv(t), "pinv"),
    (lambda t: np.einsum("ij,jk->ik", t, t), "einsum"),
    (lambda t: np.linalg.trace(t), "einsum"),
])
def test_numpy_linalg_functions_record_on_tensors(call, primitive):
    t = cr.tensor(A, requires_grad=True)
    out = call(t)
    assert out.grad_fn is not None and out.grad_fn.name == primitive
    out.sum().backward()
    assert t.grad.shape == A.shape and np.all(np.isfinite(raw_value(t.grad)))


def test_inv_keeps_float32():
    t = cr.tensor(A.astype(np.float32), requires_grad=True)
    out = np.linalg.inv(t)
    assert out.dtype == np.float32
    out.sum().backward()
    assert t.grad.dtype == np.float32


# ----- gradients of the composites (finite differences, both modes) ------------------------------
@pytest.mark.parametrize("x, ord, axis, keepdims", NORM_CASES)
def test_norm_gradients_match_finite_differences(x, ord, axis, keepdims):  # noqa: A002
    if ord == 0:
        assert cr.grad(lambda v: cnp.sum(cnp.linalg.norm(v, 0)))(x).sum() == 0.0
        return
    assert cr.gradcheck(lambda v: cnp.linalg.norm(v, ord, axis, keepdims), x)


@pytest.mark.parametrize("ord", [None, 2, 1, 3, 0.5, np.inf, -np.inf])
def test_vector_norm_gradient_at_zero_is_zero(ord):  # noqa: A002
    gradient = cr.grad(lambda v: cnp.linalg.norm(v, ord))(np.zeros(3))
    np.testing.assert_array_equal(gradient, np.zeros(3))


def test_frobenius_norm_gradient_at_zero_is_zero_in_both_modes():
    zero = np.zeros((2, 2))
    np.testing.assert_array_equal(cr.grad(lambda m: cnp.linalg.norm(m))(zero), zero)
    _, tangent = cr.jvp(lambda m: cnp.linalg.norm(m, "fro"), (zero,), (np.ones((2, 2)),))
    assert tangent == 0.0


def test_norm_gradient_is_unit_vector():
    gradient = cr.grad(lambda v: cnp.linalg.norm(v))(np.array([3.0, 4.0]))
    np.testing.assert_allclose(gradient, [0.6, 0.8])


def test_logabsdet_gradient_is_inverse_transpose():
    gradient = cr.grad(lambda m: cnp.linalg.slogdet(m)[1])(A)
    np.testing.assert_allclose(gradient, np.linalg.inv(A).T, rtol=1e-12)


def test_slogdet_sign_and_logabsdet():
    negative = np.array([[0.5, 2.0], [1.5, -0.3]])
    sign, logabsdet = cnp.linalg.slogdet(cr.tensor(negative, requires_grad=True))
    assert sign == -1.0
    assert cr.gradcheck(lambda m: cnp.linalg.slogdet(m)[1], negative)
    assert cr.gradgradcheck(lambda m: cnp.linalg.slogdet(m)[1], negative)


def test_det_gradient_batched():
    assert cr.gradcheck(lambda m: cnp.linalg.det(m), BATCH)


def test_sum_of_eigenvalues_is_trace_so_its_gradient_is_identity():
    gradient = cr.grad(lambda m: cnp.sum(cnp.linalg.eigh(m)[0]))(symmetric(3))
    np.testing.assert_allclose(gradient, np.eye(3), atol=1e-12)


def test_eigenvalue_gradient_of_symmetrised_matrix_is_outer_product():
    # w_max((M + M^T)/2) has gradient v v^T (v its unit eigenvector), a closed form.
    matrix = symmetric(3)
    gradient = cr.grad(lambda m: cnp.linalg.eigvalsh((m + m.T) / 2)[-1])(matrix)
    vector = np.linalg.eigh(matrix)[1][:, -1]
    np.testing.assert_allclose(gradient, np.outer(vector, vector), atol=1e-10)


def test_eigh_reads_and_differentiates_the_lower_triangle_only():
    matrix = symmetric(3) + np.triu(RNG.uniform(size=(3, 3)), 1)
    gradient = cr.grad(lambda m: cnp.sum(cnp.linalg.eigh(m)[1] ** 3))(matrix)
    assert np.all(np.triu(gradient, 1) == 0)
    assert cr.gradcheck(lambda m: cnp.linalg.eigh(m)[1], matrix)
    assert cr.gradcheck(lambda m: cnp.linalg.eigh(m, UPLO="U")[0], matrix.T)


def test_eigh_gradient_through_a_symmetric_function():
    # f(M) = sum_k w_k^2 = ||S||_F^2 for S = (M + M^T)/2: gradient 2 S.
    matrix = RNG.uniform(-1, 1, size=(3, 3))
    gradient = cr.grad(lambda m: cnp.sum(cnp.linalg.eigvalsh((m + m.T) / 2) ** 2))(matrix)
    np.testing.assert_allclose(gradient, matrix + matrix.T, atol=1e-10)
    assert cr.gradcheck(lambda m: cnp.linalg.eigh((m + m.T) / 2)[1], symmetric(3))


@pytest.mark.parametrize("b", [VECTOR[:3], RNG.uniform(size=(3, 2)), RNG.uniform(size=(2, 3, 1))])
def test_solve_gradients(b):
    assert cr.gradcheck(lambda a, rhs: cnp.linalg.solve(a, rhs), A, b)
    assert cr.gradcheck(lambda a, rhs: cnp.linalg.solve(a, rhs), BATCH, b)


def test_cholesky_upper_and_second_order():
    assert cr.gradcheck(lambda m: cnp.linalg.cholesky(m, upper=True), spd(3, 3))
    assert cr.gradgradcheck(lambda m: cnp.linalg.cholesky(m), spd(2, 2))


@pytest.mark.parametrize(
    "matrix", [TALL, WIDE, well_conditioned(2, 2, 2)], ids=["tall", "wide", "batch"]
)
def test_qr_gradients(matrix):
    assert cr.gradcheck(lambda m: cnp.linalg.qr(m)[0], matrix)
    assert cr.gradcheck(lambda m: cnp.linalg.qr(m)[1], matrix)


@pytest.mark.parametrize("matrix", [TALL, WIDE], ids=["tall", "wide"])
def test_svd_gradients_and_reconstruction(matrix):
    # U S Vh rebuilds A, so the gradient of sum(U S Vh * C) is C whatever the factors' rules.
    weights = RNG.uniform(size=matrix.shape)

    def rebuilt(m):
        u, s, vh = cnp.linalg.svd(m, full_matrices=False)
        return cnp.sum(((u * s) @ vh) * weights)

    np.testing.assert_allclose(cr.grad(rebuilt)(matrix), weights, atol=1e-10)
    assert cr.gradcheck(lambda m: cnp.linalg.svd(m, full_matrices=False)[0], matrix)


def test_svd_full_matrices_on_a_tensor_asks_for_reduced():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        cnp.linalg.svd(cr.tensor(TALL, requires_grad=True))


def test_pinv_and_matrix_power_gradients():
    assert cr.gradcheck(lambda m: cnp.linalg.pinv(m), TALL)
    assert cr.gradcheck(lambda m: cnp.linalg.pinv(m), np.eye(3))
    assert cr.gradcheck(lambda m: cnp.linalg.matrix_power(m, 5), A / 3)
    assert cr.gradcheck(lambda m: cnp.linalg.matrix_power(m, -2), A)


def test_batched_trace_gradient_is_identity():
    gradient = cr.grad(lambda m: cnp.sum(cnp.linalg.trace(m)))(BATCH)
    np.testing.assert_array_equal(gradient, np.broadcast_to(np.eye(3), BATCH.shape))


@pytest.mark.parametrize("subscripts, operands", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_gradients(subscripts, operands):
    assert cr.gradcheck(lambda *ops: cnp.einsum(subscripts, *ops), *operands)


def test_einsum_diagonal_cotangent_lands_on_the_diagonal():
    g = np.array([1.0, 2.0, 3.0])
    _, pullback = cr.vjp(lambda m: cnp.einsum("ii->i", m), A)
    np.testing.assert_array_equal(pullback(g)[0], np.diag(g))


def test_einsum_second_order():
    assert cr.gradgradcheck(lambda a, b: cnp.einsum("ij,jk->", a * a, b), A, TALL.T)


# ----- errors ------------------------------------------------------------------------------------
def test_matmul_shape_mismatch_names_the_shapes():
    with pytest.raises(ShapeError, match=r"matmul.*\[2, 3\].*\[4, 2\]"):
        cr.tensor(np.ones((2, 3)), requires_grad=True) @ np.ones((4, 2))


def test_solve_shape_mismatch_names_the_shapes():
    with pytest.raises(ShapeError, match=r"solve.*\(3, 3\).*\(4,\)"):
        cnp.linalg.solve(cr.tensor(A), np.ones(4))
    with pytest.raises(ShapeError, match=r"solve.*\(2, 3, 3\).*\(4, 3, 1\)"):
        cnp.linalg.solve(BATCH, np.ones((4, 3, 1)))


@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh"])
def test_non_square_matrix_is_a_shape_error(name):
    with pytest.raises(ShapeError, match=rf"{name}.*square.*\(2, 4\)"):
        getattr(cnp.linalg, name)(cr.tensor(WIDE, requires_grad=True))


def test_einsum_errors_name_subscripts_and_shapes():
    with pytest.raises(ShapeError, match=r"'j'.*3.*4"):
        cnp.einsum("ij,jk->ik", A, np.ones((4, 2)))
    with pytest.raises(ShapeError, match="names 2 axes"):
        cnp.einsum("ij->i", VECTOR)
    with pytest.raises(ValueError, match="2 operand"):
        cnp.einsum("ij,jk->ik", A)
