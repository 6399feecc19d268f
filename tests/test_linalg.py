"""chainrule.numpy.linalg and einsum: NumPy's values, NumPy dispatch, gradients of the
composites against finite differences and closed forms, and the errors users see."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.tensor import raw_value
from chainrule.errors import NonDifferentiableError, ShapeError

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


# ----- complex matrices ---------------------------------------------------------------------------
# Conventions: the functional transforms pair a cotangent W with a tangent T as Re(sum(W * T))
# (JAX's); cr.gradcheck perturbs real and imaginary parts separately, so it needs no holomorphy.
# Complex eigenvectors (eigh, svd) have chainrule's phase convention, eig's are LAPACK's: unit
# 2-norm, largest-modulus entry real. Expected values come from NumPy, SciPy, closed forms or
# finite differences.
def complex_normal(*shape):
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


def hermitian_pd(*shape):
    a = complex_normal(*shape)
    return a @ np.conj(np.swapaxes(a, -1, -2)) + shape[-1] * np.eye(shape[-1])


def hermitian(n):
    """Hermitian with eigenvalues near 1, 3, 5, ... (distinct)."""
    q, _ = np.linalg.qr(complex_normal(n, n))
    return (q * (1.0 + 2.0 * np.arange(n))) @ q.conj().T


def H(a):
    return np.conj(np.swapaxes(a, -1, -2))


CA = complex_normal(3, 3) + 3 * np.eye(3)
CBATCH = complex_normal(2, 3, 3) + 3 * np.eye(3)
CTALL = complex_normal(4, 3)
CWIDE = complex_normal(2, 4)
CVECTOR = complex_normal(4)


def _phase_insensitive(vectors):
    """Each column times the conjugate phase of its largest-modulus entry: equal for two sets
    of eigenvectors that differ by a phase per column."""
    pivot = np.argmax(np.abs(vectors), axis=-2)[..., None, :]
    entry = np.take_along_axis(vectors, pivot, axis=-2)
    return vectors * np.conj(entry) / np.abs(entry)


COMPLEX_VALUE_CASES = [
    ("inv", (CBATCH,), {}),
    ("det", (CBATCH,), {}),
    ("slogdet", (CA,), {}),
    ("slogdet", (CBATCH,), {}),
    ("solve", (CA, CVECTOR[:3]), {}),
    ("solve", (CBATCH, complex_normal(3, 2)), {}),
    ("cholesky", (hermitian_pd(2, 3, 3),), {}),
    ("eigvalsh", (hermitian(3),), {}),
    ("eigvalsh", (complex_normal(3, 3),), {"UPLO": "U"}),
    ("eigvals", (CBATCH,), {}),
    ("eig", (CA,), {}),
    ("qr", (CTALL,), {}),
    ("qr", (CWIDE,), {}),
    ("svd", (CTALL,), {"compute_uv": False}),
    ("svdvals", (CBATCH,), {}),
    ("pinv", (CTALL,), {}),
    ("matrix_power", (CA, -2), {}),
    ("trace", (CBATCH,), {}),
    ("vecdot", (CA, CA.T), {}),
    ("outer", (CVECTOR, CVECTOR[:3]), {}),
    ("tensordot", (CBATCH, CA), {"axes": 1}),
    ("multi_dot", ([CTALL, CA, CVECTOR[:3]],), {}),
    ("matrix_norm", (CBATCH,), {"ord": "nuc"}),
    ("vector_norm", (CBATCH,), {"axis": (0, 2), "ord": 3}),
]


@pytest.mark.parametrize(
    "name, args, kwargs", COMPLEX_VALUE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(COMPLEX_VALUE_CASES)],
)
def test_complex_linalg_values_equal_numpys(name, args, kwargs):
    ours = getattr(cnp.linalg, name)(*args, **kwargs)
    theirs = getattr(np.linalg, name)(*args, **kwargs)
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    for mine, numpys in zip(ours, theirs, strict=True):
        assert raw_value(mine).dtype == numpys.dtype
        np.testing.assert_allclose(raw_value(mine), numpys, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("function", [cnp.vdot, cnp.inner, cnp.outer, cnp.dot, cnp.linalg.vecdot])
def test_complex_products_follow_numpy_vdot_conjugates_the_first(function):
    a, b = complex_normal(3), complex_normal(3)
    expected = getattr(np, function.__name__, None) or np.linalg.vecdot
    np.testing.assert_allclose(function(a, b), expected(a, b), rtol=1e-12)
    assert cr.gradcheck(function, a, b)
    assert cr.gradcheck(function, a.real, b)


def test_vdot_conjugates_its_first_argument():
    a, b = np.array([1j, 2.0]), np.array([1.0, 1j])
    assert cnp.vdot(a, b) == np.vdot(a, b) == -1j + 2j
    # d/da of Re(vdot(a, b)) = Re(sum(conj(a) b)): the gradient is conj(b) conjugated back, b.
    np.testing.assert_allclose(cr.grad(lambda a: cnp.real(cnp.vdot(a, b)))(a), np.conj(b))


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk->ik", [(2, 3), (3, 2)]), ("ii->i", [(3, 3)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,i", [(3,), (3,)]),
])
def test_complex_einsum_and_tensordot_do_not_conjugate(subscripts, shapes):
    operands = [complex_normal(*shape) for shape in shapes]
    np.testing.assert_allclose(cnp.einsum(subscripts, *operands), np.einsum(subscripts, *operands),
                               rtol=1e-12)
    assert cr.gradcheck(lambda *ops: cnp.einsum(subscripts, *ops), *operands)
    assert cr.gradgradcheck(lambda *ops: cnp.einsum(subscripts, *ops), *operands)


@pytest.mark.parametrize("function, matrix", [
    (cnp.linalg.inv, CA),
    (cnp.linalg.det, CBATCH),
    (lambda m: cnp.linalg.slogdet(m)[1], CBATCH),
    (lambda m: cnp.linalg.matrix_power(m / 3, 3), CA),
    (lambda m: cnp.linalg.solve(m, np.arange(3.0)), CA),
    (lambda m: cnp.linalg.cholesky(m, upper=True), hermitian_pd(3, 3)),
    (lambda m: cnp.linalg.qr(m)[0], CWIDE),
    (lambda m: cnp.linalg.qr(m)[1], CWIDE),
    (lambda m: cnp.linalg.svd(m, full_matrices=False)[0], CWIDE),
    (lambda m: cnp.linalg.svd(m, full_matrices=False)[2], CTALL),
    (lambda m: cnp.linalg.eigh(m, UPLO="U")[1], hermitian(3)),
    (cnp.linalg.pinv, CWIDE),
    (lambda m: cnp.linalg.eig(m)[1], CA),
    (cnp.linalg.eigvals, CBATCH),
], ids=["inv", "det", "logabsdet", "matrix_power", "solve", "cholesky upper", "qr wide Q",
        "qr wide R", "svd U", "svd Vh", "eigh upper", "pinv", "eig vectors", "eigvals"])
def test_complex_composites_match_finite_differences_to_second_order(function, matrix):
    assert cr.gradcheck(function, matrix)
    assert cr.gradgradcheck(function, matrix)


@pytest.mark.parametrize("x, ord, axis, keepdims", [
    (CVECTOR, None, None, False), (CVECTOR, 1, None, False), (CVECTOR, np.inf, None, False),
    (CVECTOR, 3, None, True), (CVECTOR, 0.5, None, False), (CA, None, None, True),
    (CA, "nuc", None, False), (CA, 1, None, False), (CA, 2, None, False), (CA, -2, None, False),
    (CA, -np.inf, None, False), (CBATCH, None, 1, False), (CBATCH, 1, (2, 0), True),
])
def test_complex_norms_equal_numpys_and_match_finite_differences(x, ord, axis, keepdims):  # noqa: A002
    expected = np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    found = cnp.linalg.norm(x, ord, axis, keepdims)
    assert raw_value(found).dtype == np.float64
    np.testing.assert_allclose(found, expected, rtol=1e-12)
    assert cr.gradcheck(lambda v: cnp.linalg.norm(v, ord, axis, keepdims), x)


def test_complex_norm_gradient_is_the_unit_vector_in_jax_convention():
    # |z| for z = (3 + 4i, 0): d|z|/dx - i d|z|/dy = conj(z) / |z|.
    z = np.array([3.0 + 4.0j, 0.0])
    np.testing.assert_allclose(cr.grad(cnp.linalg.norm)(z), [0.6 - 0.8j, 0.0])


# ----- complex determinants: logabsdet and a differentiable sign --------------------------------
def test_complex_logabsdet_gradient_is_the_inverse_transpose():
    # log|det A| = Re log det A, holomorphic derivative A^{-T}; its gradient (JAX convention) is
    # that derivative itself.
    gradient = cr.grad(lambda m: cnp.linalg.slogdet(m)[1])(CA)
    np.testing.assert_allclose(gradient, np.linalg.inv(CA).T, rtol=1e-12)


def test_complex_slogdet_sign_is_differentiable():
    sign, logabsdet = cnp.linalg.slogdet(CA)
    expected_sign, expected_log = np.linalg.slogdet(CA)
    np.testing.assert_allclose(sign, expected_sign, rtol=1e-12)
    # d sign = i sign Im tr(A^{-1} dA): the JVP along a direction against the closed form.
    direction = complex_normal(3, 3)
    _, tangent = cr.jvp(lambda m: cnp.linalg.slogdet(m)[0], (CA,), (direction,))
    closed_form = 1j * expected_sign * np.imag(np.trace(np.linalg.solve(CA, direction)))
    np.testing.assert_allclose(tangent, closed_form, rtol=1e-10)
    assert cr.gradcheck(lambda m: cnp.linalg.slogdet(m)[0], CBATCH)
    assert cr.gradgradcheck(lambda m: cnp.linalg.slogdet(m)[0], CA)


def test_complex_slogdet_sign_survives_a_determinant_that_overflows():
    matrix = 1e3 * (complex_normal(120, 120) + 10 * np.eye(120))  # det ~ 1e400
    assert np.linalg.slogdet(matrix)[1] > np.log(np.finfo(float).max)
    sign, _ = cnp.linalg.slogdet(matrix)
    np.testing.assert_allclose(sign, np.linalg.slogdet(matrix)[0], rtol=1e-9)
    gradient = cr.grad(lambda m: cnp.real(cnp.linalg.slogdet(m)[0]))(matrix)
    assert np.all(np.isfinite(gradient))


def test_complex_slogdet_of_a_singular_matrix_has_sign_zero():
    singular = np.outer([1.0, 2.0j], [1.0 - 1.0j, 0.5])
    sign, logabsdet = cnp.linalg.slogdet(singular)
    assert sign == 0 and logabsdet == -np.inf


def test_complex_det_gradient_is_the_cofactor_matrix_at_a_singular_matrix():
    # det of a 2x2: a d - b c, so its gradient (holomorphic) is [[d, -c], [-b, a]].
    singular = np.outer([1.0, 2.0j], [1.0 - 1.0j, 0.5])
    (a, b), (c, d) = singular
    gradient = cr.grad(lambda m: cnp.linalg.det(m), holomorphic=True)(singular)
    np.testing.assert_allclose(gradient, [[d, -c], [-b, a]], atol=1e-12)
    rank_two = complex_normal(3, 2) @ complex_normal(2, 3)
    assert cr.gradcheck(cnp.linalg.det, rank_two)
    assert cr.gradgradcheck(cnp.linalg.det, rank_two)


# ----- cholesky and eigh read one triangle and the real part of the diagonal ------------------
def test_cholesky_reads_the_triangle_numpy_reads_for_upper_and_lower():
    for matrix in (spd(3, 3), hermitian_pd(3, 3)):
        noisy_lower = matrix + np.tril(complex_normal(3, 3) if np.iscomplexobj(matrix)
                                       else RNG.uniform(size=(3, 3)), -1)
        np.testing.assert_allclose(cnp.linalg.cholesky(noisy_lower, upper=True),
                                   np.linalg.cholesky(noisy_lower, upper=True), rtol=1e-12)
        gradient = cr.grad(lambda m: cnp.sum(cnp.abs(cnp.linalg.cholesky(m, upper=True))))(
            noisy_lower)
        assert np.all(np.tril(gradient, -1) == 0)


def test_complex_cholesky_gradient_lands_on_the_lower_triangle_and_real_diagonal():
    matrix = hermitian_pd(3, 3) + np.triu(complex_normal(3, 3), 1) + 0.5j * np.eye(3)
    gradient = cr.grad(lambda m: cnp.sum(cnp.abs(cnp.linalg.cholesky(m)) ** 3))(matrix)
    assert np.all(np.triu(gradient, 1) == 0)
    assert np.all(np.imag(np.diag(gradient)) == 0)
    assert cr.gradcheck(cnp.linalg.cholesky, matrix)


def test_complex_eigh_gradient_of_the_largest_eigenvalue_is_its_projector():
    # w_max of the Hermitian matrix read from M's lower triangle; through (M + M^H) / 2 it is a
    # function of all of M, with gradient conj(v v^H) in JAX's convention (d w = Re v^H dM v).
    matrix = hermitian(3)
    gradient = cr.grad(lambda m: cnp.linalg.eigvalsh((m + cnp.conj(m.T)) / 2)[-1])(matrix)
    vector = np.linalg.eigh(matrix)[1][:, -1]
    np.testing.assert_allclose(gradient, np.conj(np.outer(vector, vector.conj())), atol=1e-10)


def test_complex_eigh_vectors_have_the_documented_phase_and_numpys_values_up_to_it():
    matrix = hermitian(4) + np.triu(complex_normal(4, 4), 1)
    values, vectors = cnp.linalg.eigh(matrix)
    numpy_values, numpy_vectors = np.linalg.eigh(matrix)
    np.testing.assert_allclose(values, numpy_values, rtol=1e-12)
    np.testing.assert_allclose(vectors, _phase_insensitive(numpy_vectors), atol=1e-12)
    pivots = np.argmax(np.abs(vectors), axis=0)
    largest = vectors[pivots, np.arange(4)]
    assert np.all(np.imag(largest) == 0) and np.all(np.real(largest) > 0)


def _gauge_invariant_eigh_loss(m, weights):
    # sum_i w_i |v_i^H B v_i|: each term is unchanged by v_i -> e^{i phi} v_i.
    vectors = cnp.linalg.eigh(m)[1]
    quadratic = cnp.sum(cnp.conj(vectors) * (weights @ vectors), axis=0)
    return cnp.sum(cnp.abs(quadratic) * np.arange(1.0, 4.0))


def test_complex_eigh_gauge_invariant_loss_against_finite_differences():
    weights = complex_normal(3, 3)
    matrix = hermitian(3) + np.triu(complex_normal(3, 3), 1)
    assert cr.gradcheck(lambda m: _gauge_invariant_eigh_loss(m, weights), matrix)
    assert cr.gradgradcheck(lambda m: _gauge_invariant_eigh_loss(m, weights), matrix)


def test_complex_eigh_reconstruction_has_the_gradient_of_the_hermitian_it_reads():
    # V diag(w) V^H rebuilds the Hermitian matrix read from the lower triangle, whatever the
    # phases: the gradient of Re sum(C * rebuilt) is that of Re sum(C * from_lower(M)).
    weights = complex_normal(3, 3)
    matrix = hermitian(3)

    def rebuilt(m):
        values, vectors = cnp.linalg.eigh(m)
        return cnp.sum(cnp.real(((vectors * values) @ cnp.conj(vectors.T)) * weights))

    lower = np.tril(weights, -1) + np.conj(np.triu(weights, 1).T)  # (C + C^H) on the lower
    expected = lower + np.diag(np.real(np.diag(weights)))
    np.testing.assert_allclose(cr.grad(rebuilt)(matrix), expected, atol=1e-10)


# ----- complex svd -----------------------------------------------------------------------------
@pytest.mark.parametrize("matrix", [CTALL, CWIDE], ids=["tall", "wide"])
def test_complex_svd_reconstruction_gradient_is_the_weights(matrix):
    weights = complex_normal(*matrix.shape)

    def rebuilt(m):
        u, s, vh = cnp.linalg.svd(m, full_matrices=False)
        return cnp.sum(cnp.real(((u * s) @ vh) * weights))

    # Re sum(C * A) has gradient C (JAX convention), however U and Vh's phases are chosen.
    np.testing.assert_allclose(cr.grad(rebuilt)(matrix), weights, atol=1e-10)


def test_complex_svd_values_and_phase_convention():
    u, s, vh = cnp.linalg.svd(CTALL, full_matrices=False)
    numpy_u, numpy_s, numpy_vh = np.linalg.svd(CTALL, full_matrices=False)
    np.testing.assert_allclose(s, numpy_s, rtol=1e-12)
    np.testing.assert_allclose(u, _phase_insensitive(numpy_u), atol=1e-12)
    np.testing.assert_allclose((u * s) @ vh, CTALL, atol=1e-12)
    largest = u[np.argmax(np.abs(u), axis=0), np.arange(3)]
    assert np.all(np.imag(largest) == 0) and np.all(np.real(largest) > 0)


def test_complex_svd_gauge_invariant_loss_against_finite_differences():
    # |U_ij|^2 and |Vh_ij|^2 do not see the phases; U diag(s) U^H neither.
    def loss(m):
        u, s, vh = cnp.linalg.svd(m, full_matrices=False)
        projector = (u * s) @ cnp.conj(u.T)
        return (cnp.sum(cnp.abs(u) ** 3) + cnp.sum(cnp.abs(vh[:2]) ** 4)
                + cnp.sum(cnp.real(projector * CA)))

    assert cr.gradcheck(loss, CA)
    assert cr.gradgradcheck(loss, CA)


def test_nuclear_norm_gradient_of_a_complex_matrix_is_the_polar_factor():
    # ||A||_* = sum s_i, d = Re tr(V U^H dA): the gradient (JAX convention) is conj(U V^H).
    u, _, vh = np.linalg.svd(CTALL, full_matrices=False)
    gradient = cr.grad(lambda m: cnp.linalg.norm(m, "nuc"))(CTALL)
    np.testing.assert_allclose(gradient, np.conj(u @ vh), atol=1e-10)


# ----- eig: general matrices -------------------------------------------------------------------
ROTATING = np.array([[1.0, -2.0, 0.5], [2.0, 1.0, 0.0], [0.3, 0.2, -1.5]])  # a complex pair


REAL_EIGENVALUES = np.diag([3.0, -1.0, 0.5]) + np.triu(np.ones((3, 3)), 1)


@pytest.mark.parametrize("matrix", [ROTATING, REAL_EIGENVALUES, ROTATING.astype(np.float32), CA],
                         ids=["real, complex pair", "real eigenvalues", "float32", "complex"])
def test_eig_outputs_are_always_complex_and_equal_numpys(matrix):
    values, vectors = cnp.linalg.eig(cr.tensor(matrix, requires_grad=True))
    numpy_values, numpy_vectors = np.linalg.eig(matrix)
    dtype = np.complex64 if matrix.dtype == np.float32 else np.complex128
    assert raw_value(values).dtype == raw_value(vectors).dtype == dtype
    assert cnp.linalg.eigvals(matrix).dtype == dtype
    assert cnp.linalg.eig(matrix).eigenvalues.dtype == dtype  # plain arrays too
    tolerance = 1e-5 if dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(raw_value(values), numpy_values, rtol=tolerance)
    np.testing.assert_allclose(raw_value(vectors), numpy_vectors, atol=tolerance)
    np.testing.assert_allclose(cnp.linalg.eigvals(matrix), numpy_values, rtol=tolerance)


def _eigenvalue_derivative(matrix, k):
    """d w_k / dA = conj(u_k) v_k^T / (u_k^H v_k), u_k the left eigenvector (SciPy's), for
    NumPy's k-th eigenvalue: holomorphic, so it is the gradient of Re w_k of a complex A."""
    from scipy.linalg import eig as scipy_eig

    values, left, right = scipy_eig(matrix, left=True, right=True)
    position = int(np.argmin(np.abs(values - np.linalg.eigvals(matrix)[k])))
    u, v = left[:, position], right[:, position]
    return np.conj(u)[:, None] * v[None, :] / (u.conj() @ v)


@pytest.mark.parametrize("k", [0, 1, 2])
def test_eig_eigenvalue_gradient_is_the_left_and_right_eigenvector_product(k):
    gradient = cr.grad(lambda m: cnp.real(cnp.linalg.eigvals(m)[k]))(ROTATING)
    np.testing.assert_allclose(gradient, np.real(_eigenvalue_derivative(ROTATING, k)), atol=1e-10)
    # Im w = Re(-i w): the gradient is -i times the holomorphic derivative.
    gradient = cr.grad(lambda m: cnp.imag(cnp.linalg.eigvals(m)[k]))(CA)
    np.testing.assert_allclose(gradient, -1j * _eigenvalue_derivative(CA, k), atol=1e-10)
    derivative = cr.grad(lambda m: cnp.linalg.eigvals(m)[k], holomorphic=True)(CA)
    np.testing.assert_allclose(derivative, _eigenvalue_derivative(CA, k), atol=1e-10)


def test_symmetric_functions_of_eigenvalues_have_the_trace_and_determinant_gradients():
    np.testing.assert_allclose(
        cr.grad(lambda m: cnp.real(cnp.sum(cnp.linalg.eigvals(m))))(ROTATING), np.eye(3),
        atol=1e-12,
    )
    product = cr.grad(lambda m: cnp.real(cnp.prod(cnp.linalg.eigvals(m))))(ROTATING)
    np.testing.assert_allclose(product, np.linalg.det(ROTATING) * np.linalg.inv(ROTATING).T,
                               atol=1e-10)
    # at a repeated eigenvalue of a diagonalisable matrix (the identity) too
    identity = cr.grad(lambda m: cnp.real(cnp.sum(cnp.linalg.eigvals(m))))(np.eye(3))
    np.testing.assert_allclose(identity, np.eye(3), atol=1e-12)


def test_eig_vectors_have_lapacks_normalisation():
    for matrix in (ROTATING, CA):
        vectors = np.asarray(raw_value(cnp.linalg.eig(cr.tensor(matrix)).eigenvectors))
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=0), 1.0, rtol=1e-12)
        largest = vectors[np.argmax(np.abs(vectors), axis=0), np.arange(3)]
        assert np.all(np.imag(largest) == 0)


@pytest.mark.parametrize("matrix", [ROTATING, CA, CBATCH], ids=["real", "complex", "batch"])
def test_eig_vectors_and_gauge_invariant_losses_match_finite_differences(matrix):
    weights = complex_normal(3, 3)

    def gauge_invariant(m):
        # |v_i^H B v_i| and |v_i|-weighted entries: unchanged by v_i -> e^{i phi} v_i
        vectors = cnp.linalg.eig(m)[1]
        quadratic = cnp.sum(cnp.conj(vectors) * (weights @ vectors), axis=-2)
        return cnp.sum(cnp.abs(quadratic)) + cnp.sum(cnp.abs(vectors[..., 0, :]) ** 3)

    assert cr.gradcheck(gauge_invariant, matrix)
    assert cr.gradgradcheck(gauge_invariant, matrix)
    assert cr.gradcheck(lambda m: cnp.linalg.eig(m)[1], matrix)  # LAPACK's phase: smooth


def test_eig_vectors_of_a_real_matrix_take_complex_tangents_linearly():
    real_direction, imaginary_direction = RNG.standard_normal((2, 3, 3))
    function = lambda m: cnp.linalg.eig(m)[1]  # noqa: E731
    _, both = cr.jvp(function, (ROTATING,), (real_direction + 1j * imaginary_direction,))
    _, real_part = cr.jvp(function, (ROTATING,), (real_direction,))
    _, imaginary_part = cr.jvp(function, (ROTATING,), (imaginary_direction,))
    np.testing.assert_allclose(both, real_part + 1j * imaginary_part, atol=1e-12)


def test_eig_vectors_at_a_repeated_eigenvalue_raise():
    with pytest.raises(NonDifferentiableError, match="repeated eigenvalue"):
        cr.grad(lambda m: cnp.sum(cnp.abs(cnp.linalg.eig(m)[1])))(np.eye(3))
    with pytest.raises(NonDifferentiableError, match="repeated eigenvalue"):
        cr.jvp(lambda m: cnp.linalg.eig(m)[1], (np.eye(2),), (np.ones((2, 2)),))


def test_eig_batches_under_vmap_like_a_loop():
    stack = np.stack([ROTATING, ROTATING.T + np.eye(3), np.diag([1.0, 2.0, 3.0]) + 0.1])

    def loss(m):
        values, vectors = cnp.linalg.eig(m)
        return cnp.sum(cnp.abs(values) ** 2) + cnp.sum(cnp.abs(vectors) ** 4)

    expected = np.stack([cr.grad(loss)(m) for m in stack])
    np.testing.assert_allclose(cr.vmap(cr.grad(loss))(stack), expected, atol=1e-12)
    values = cr.vmap(cnp.linalg.eigvals)(stack)
    np.testing.assert_allclose(values, np.linalg.eigvals(stack), rtol=1e-12)


def test_numpy_eig_dispatches_on_tensors():
    t = cr.tensor(ROTATING, requires_grad=True)
    values, vectors = np.linalg.eig(t)
    assert values.grad_fn.name == "eig_values" and vectors.grad_fn.name == "eig_vectors"
    cnp.sum(cnp.abs(values)).backward()
    assert t.grad.dtype == np.float64 and np.all(np.isfinite(raw_value(t.grad)))


# ----- real matrices keep their rules -------------------------------------------------------------
@pytest.mark.parametrize("function, matrix", [
    (lambda m: cnp.linalg.eigh(m)[1], symmetric(3)),
    (lambda m: cnp.linalg.svd(m, full_matrices=False)[0], TALL),
    (lambda m: cnp.linalg.svd(m, full_matrices=False)[2], TALL),
    (lambda m: cnp.linalg.qr(m)[0], TALL),
    (cnp.linalg.cholesky, spd(3, 3)),
    (cnp.linalg.norm, TALL),
    (cnp.linalg.pinv, TALL),
    (lambda m: cnp.linalg.slogdet(m)[1], A),
], ids=["eigh", "svd U", "svd Vh", "qr", "cholesky", "norm", "pinv", "logabsdet"])
def test_real_rules_compute_no_conjugates_or_parts(function, matrix, monkeypatch):
    # Real matrices keep their rules (and speed): no conj, real or imag anywhere in either mode.
    calls = []
    for name in ("conj", "real", "imag"):
        row = cr.REGISTRY[name]
        monkeypatch.setattr(row, "impl", _counted(row.impl, name, calls))
    cr.grad(lambda m: cnp.sum(function(m) * np.cos(np.arange(np.size(function(m)))).reshape(
        np.shape(function(m)))))(matrix)
    cr.jvp(function, (matrix,), (np.ones_like(matrix),))
    assert calls == []


def _counted(impl, name, calls):
    def counting(*args, **params):
        calls.append(name)
        return impl(*args, **params)

    return counting


# ----- the rest of NumPy 2's linalg namespace (issue 14) -----------------------------------------
def _as_tensor(value):
    return cr.tensor(value) if isinstance(value, np.ndarray) and value.dtype.kind in "fc" else value


def _assert_same_arrays(ours, numpys):
    """Values, dtype and shape of each part equal NumPy's (a scalar's type too)."""
    ours, numpys = (ours, numpys) if isinstance(numpys, tuple) else ((ours,), (numpys,))
    assert len(ours) == len(numpys)
    for mine, theirs in zip(ours, numpys, strict=True):
        mine = raw_value(mine)
        assert np.asarray(mine).dtype == np.asarray(theirs).dtype
        assert np.shape(mine) == np.shape(theirs)
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


RANK_ONE = np.outer([1.0, -2.0, 0.5, 3.0], [0.3, 1.0, 2.0])
COMPOSITE_CASES = [
    ("lstsq", (TALL, VECTOR), {}),
    ("lstsq", (TALL, RNG.uniform(size=(4, 2))), {}),
    ("lstsq", (WIDE, VECTOR[:2]), {}),
    ("lstsq", (RANK_ONE, VECTOR), {}),  # rank 1: no residuals, NumPy's minimum-norm x
    ("lstsq", (TALL.astype(np.float32), VECTOR.astype(np.float32)), {}),
    ("lstsq", (TALL + 1j * TALL[::-1], VECTOR + 0.5j), {"rcond": 1e-3}),
    ("lstsq", (np.arange(12).reshape(4, 3) % 5, VECTOR), {}),
    ("cond", (A,), {}),
    ("cond", (BATCH, -2), {}),
    ("cond", (TALL,), {}),
    ("cond", (A.astype(np.float32), "fro"), {}),
    ("cond", (A + 0.5j, np.inf), {}),
    ("cond", (BATCH, "nuc"), {}),
    ("cond", (BATCH, -1), {}),
    ("tensorsolve", (well_conditioned(6, 6).reshape(2, 3, 6), RNG.uniform(size=(2, 3))), {}),
    ("tensorsolve", (well_conditioned(6, 6).reshape(6, 3, 2), VECTOR[:1].repeat(6)),
     {"axes": (2,)}),
    ("tensorinv", (well_conditioned(6, 6).reshape(2, 3, 6),), {}),
    ("tensorinv", (well_conditioned(6, 6).reshape(6, 2, 3),), {"ind": 1}),
    ("cross", (RNG.uniform(size=(2, 3)), RNG.uniform(size=(3,))), {}),
    ("cross", (RNG.uniform(size=(3, 2)), RNG.uniform(size=(3, 1))), {"axis": 0}),
    ("pinv", (symmetric(3) + np.triu(RNG.uniform(size=(3, 3)), 1),), {"hermitian": True}),
    ("pinv", (RANK_ONE,), {}),  # NumPy's default rcond (1e-15) drops the zero singular values
    ("pinv", (BATCH,), {"rcond": np.array([0.1, 0.5])}),
    ("pinv", (TALL,), {"rtol": None}),
    ("matrix_power", (A.astype(np.float32), 0), {}),
    ("matrix_power", (A + 1j, 0), {}),
    ("matrix_power", (A, 7), {}),
    ("multi_dot", ([RNG.uniform(size=(10, 2)), RNG.uniform(size=(2, 8)),
                    RNG.uniform(size=(8, 3))],), {}),
    ("norm", (np.arange(6).reshape(2, 3), 1), {}),
    ("norm", (np.array([0.0, 1.0, 2.0]), -1), {}),
    ("norm", (np.zeros((0, 3)), 2), {}),
    ("matrix_norm", (np.zeros((2, 0, 0)),), {"ord": 1}),
    ("matrix_norm", (np.zeros((0, 3)),), {"ord": 2}),
    ("matrix_norm", (np.arange(9).reshape(3, 3),), {"ord": np.inf}),
    ("matrix_norm", (A.astype(np.float32),), {"ord": "f"}),
    ("vector_norm", (np.zeros((0, 2)),), {"ord": -1}),
    ("vector_norm", (np.array([0.0, 1.0, 2.0], dtype=np.float32),), {"ord": 0}),
    ("vector_norm", (np.array([0.0, 1.5, -2.0]),), {"ord": -2}),
    ("vector_norm", (BATCH,), {"axis": (2, 0), "ord": 1, "keepdims": True}),
    ("trace", (np.arange(12, dtype=np.int32).reshape(3, 4),), {}),
    ("trace", (RNG.uniform(size=(2, 3, 4)),), {}),
    ("eigvalsh", (RNG.uniform(size=(3, 3)),), {"UPLO": "u"}),
    ("qr", (TALL,), {"mode": "complete"}),
    ("tensordot", (np.zeros((0, 0)), np.zeros((0, 0))), {"axes": 1}),
]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # NumPy's 0 ** -1 (ord < 0)
@pytest.mark.parametrize(
    "name, args, kwargs", COMPOSITE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(COMPOSITE_CASES)],
)
def test_values_dtypes_and_shapes_equal_numpys_on_arrays_and_on_tensors(name, args, kwargs):
    expected = getattr(np.linalg, name)(*args, **kwargs)
    _assert_same_arrays(getattr(cnp.linalg, name)(*args, **kwargs), expected)
    if name == "multi_dot":
        tensors = ([_as_tensor(a) for a in args[0]],)
    else:
        tensors = tuple(_as_tensor(a) for a in args)
    if name == "qr":
        return  # mode='complete' of a tall matrix: NumPy's answer on plain arrays only
    _assert_same_arrays(getattr(cnp.linalg, name)(*tensors, **kwargs), expected)


def test_lstsq_returns_numpys_types_and_a_differentiable_solution():
    x, residuals, rank, values = cnp.linalg.lstsq(cr.tensor(TALL, requires_grad=True), VECTOR)
    assert type(rank) is np.int32 and rank == 3
    assert residuals.shape == (1,)  # NumPy's shape for a 1-d b
    # Full column rank: x = (A^T A)^{-1} A^T b, so d sum(x) / db = A (A^T A)^{-1} 1.
    gradient = cr.grad(lambda b: cnp.sum(cnp.linalg.lstsq(TALL, b)[0]))(VECTOR)
    np.testing.assert_allclose(gradient, TALL @ np.linalg.solve(TALL.T @ TALL, np.ones(3)),
                               rtol=1e-12)
    # The residual's gradient in b is 2 (b - A x) per column.
    gradient = cr.grad(lambda b: cnp.sum(cnp.linalg.lstsq(TALL, b)[1]))(VECTOR)
    np.testing.assert_allclose(gradient, 2 * (VECTOR - TALL @ raw_value(x)), rtol=1e-10)


def test_lstsq_batches_under_vmap_like_a_loop():
    matrices, rhs = RNG.uniform(size=(3, 4, 3)), RNG.uniform(size=(3, 4))
    x, residuals, rank, values = cr.vmap(cnp.linalg.lstsq)(matrices, rhs)
    for k in range(3):
        _assert_same_arrays((x[k], residuals[k], rank[k], values[k]),
                            np.linalg.lstsq(matrices[k], rhs[k]))


def test_lstsq_under_vmap_with_mixed_ranks_says_why_the_residuals_do_not_stack():
    matrices = np.stack([TALL, np.outer(VECTOR, [1.0, 2.0, 3.0])])
    with pytest.raises(cr.errors.BatchingError, match="residuals"):
        cr.vmap(cnp.linalg.lstsq)(matrices, np.stack([VECTOR, VECTOR]))


def test_lstsq_takes_one_matrix_as_numpy_does():
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        cnp.linalg.lstsq(cr.tensor(BATCH), np.ones((2, 3)))
    with pytest.raises(np.linalg.LinAlgError, match="Incompatible dimensions"):
        cnp.linalg.lstsq(cr.tensor(TALL), np.ones(3))


def test_matrix_rank_is_an_integer_per_example_and_has_no_derivative():
    stack = np.stack([A, RANK_ONE[:3], np.zeros((3, 3))])
    np.testing.assert_array_equal(cnp.linalg.matrix_rank(cr.tensor(stack)), [3, 1, 0])
    np.testing.assert_array_equal(cr.vmap(cnp.linalg.matrix_rank)(stack), [3, 1, 0])
    assert cnp.linalg.matrix_rank(np.ones(3)) == 1
    assert cnp.linalg.matrix_rank(A, tol=10.0) == np.linalg.matrix_rank(A, tol=10.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's 1 / 0 on the way to inf
def test_cond_of_a_singular_plain_matrix_is_inf_as_numpys():
    singular = np.array([[1.0, 0.0], [0.0, 0.0]])
    for p in (None, -2, 1, "fro"):
        assert cnp.linalg.cond(singular, p) == np.linalg.cond(singular, p)


def test_cond_gradient_is_that_of_the_singular_value_ratio():
    # cond = s_max / s_min: d cond = (u1^T dA v1) / s_min - s_max (un^T dA vn) / s_min^2.
    u, s, vt = np.linalg.svd(A)
    expected = np.outer(u[:, 0], vt[0]) / s[-1] - s[0] * np.outer(u[:, -1], vt[-1]) / s[-1] ** 2
    np.testing.assert_allclose(cr.grad(cnp.linalg.cond)(A), expected, rtol=1e-10)


def test_cross_gradient_is_a_cross_product():
    a, b, w = RNG.uniform(size=3), RNG.uniform(size=3), RNG.uniform(size=3)
    # w . (a x b) = a . (b x w)
    gradient = cr.grad(lambda a: cnp.sum(w * cnp.linalg.cross(a, b)))(a)
    np.testing.assert_allclose(gradient, np.cross(b, w), rtol=1e-12)


def test_linalg_cross_takes_3_vectors_only():
    with pytest.raises(ShapeError, match="3-vectors"):
        cnp.linalg.cross(np.ones(2), np.ones(3))


def test_numpy_cross_of_2_vectors_warns_as_numpy_2_does_and_agrees():
    a, b = RNG.uniform(size=(4, 2)), RNG.uniform(size=(4, 3))
    for first, second in ((a, a[::-1]), (a, b), (b, a)):
        with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
            ours = cnp.cross(first, second)
        with pytest.warns(DeprecationWarning):
            np.testing.assert_allclose(ours, np.cross(first, second), rtol=1e-12)


def test_pinv_hermitian_reads_and_differentiates_the_lower_triangle():
    matrix = symmetric(3) + np.triu(RNG.uniform(size=(3, 3)), 1)
    gradient = cr.grad(lambda m: cnp.sum(cnp.linalg.pinv(m, hermitian=True) ** 2))(matrix)
    assert np.all(np.triu(gradient, 1) == 0)
    with pytest.raises(cr.errors.ArgumentError, match="rcond or rtol"):
        cnp.linalg.pinv(A, rcond=0.1, rtol=0.1)


def test_matrix_power_takes_integer_exponents_and_inverts_for_negative_ones():
    with pytest.raises(TypeError, match="integer"):
        cnp.linalg.matrix_power(A, 1.5)
    with pytest.raises(np.linalg.LinAlgError):
        cnp.linalg.matrix_power(cr.tensor(np.zeros((2, 2))), -1)
    assert cr.gradcheck(lambda m: cnp.linalg.matrix_power(m, -3), BATCH)


def test_multi_dot_multiplies_in_numpys_order_and_checks_ranks():
    arrays = [RNG.uniform(size=(10, 100)), RNG.uniform(size=(100, 5)), RNG.uniform(size=(5, 50)),
              RNG.uniform(size=(50, 1))]
    np.testing.assert_array_equal(cnp.linalg.multi_dot(arrays), np.linalg.multi_dot(arrays))
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        cnp.linalg.multi_dot([A, BATCH, A])


def test_tensor_equations_check_their_shapes_as_numpy():
    with pytest.raises(np.linalg.LinAlgError, match="prod"):
        cnp.linalg.tensorsolve(cr.tensor(np.ones((2, 3, 4))), np.ones(2))
    with pytest.raises(np.linalg.LinAlgError, match="must be square"):
        cnp.linalg.tensorinv(cr.tensor(np.ones((2, 3, 4))), ind=1)
    with pytest.raises(ValueError, match="ind"):
        cnp.linalg.tensorinv(np.eye(4).reshape(2, 2, 2, 2), ind=0)


def test_tensorinv_solves_with_tensordot():
    a = well_conditioned(6, 6).reshape(6, 2, 3)
    b = RNG.uniform(size=6)
    np.testing.assert_allclose(
        raw_value(cnp.tensordot(cnp.linalg.tensorinv(cr.tensor(a), ind=1), b, 1)),
        np.linalg.tensorsolve(a, b), rtol=1e-12,
    )


def test_outer_takes_vectors_only_as_numpy_2():
    with pytest.raises(ShapeError, match="one-dimensional"):
        cnp.linalg.outer(A, A)


def test_negative_p_norms_with_a_zero_entry_are_zero_with_gradient_zero():
    x = np.array([0.0, 1.5, -2.0])
    assert cnp.linalg.vector_norm(cr.tensor(x), ord=-1) == 0.0
    np.testing.assert_array_equal(
        cr.grad(lambda v: cnp.linalg.vector_norm(v, ord=-1))(x), np.zeros(3)
    )


def test_eigenvalues_of_an_integer_matrix_are_complex128():
    integers = np.array([[2, 1], [0, 3]], dtype=np.int32)
    assert cnp.linalg.eigvals(integers).dtype == np.complex128
    assert cnp.linalg.eig(integers).eigenvalues.dtype == np.complex128


@pytest.mark.parametrize("call, primitive", [
    (lambda t: np.linalg.lstsq(t, np.ones(3))[0], "astype"),
    (lambda t: np.linalg.cond(t), "divide"),
    (lambda t: np.linalg.tensorinv(t, ind=1), "reshape"),
    (lambda t: np.linalg.cross(t, t), "transpose"),
    (lambda t: np.cross(t, t[::-1]), "transpose"),
    (lambda t: np.linalg.multi_dot([t, t, t]), "matmul"),
])
def test_the_new_linalg_functions_record_through_numpy_dispatch(call, primitive):
    t = cr.tensor(A, requires_grad=True)
    out = call(t)
    assert out.grad_fn is not None and out.grad_fn.name == primitive
    cnp.sum(cnp.abs(out)).backward()
    assert t.grad.shape == A.shape and np.all(np.isfinite(raw_value(t.grad)))


def test_the_namespace_has_every_name_of_numpy_linalg():
    public = {name for name in dir(np.linalg) if not name.startswith("_")} - {"test"}
    assert public <= set(cnp.linalg.__all__)
    assert cnp.linalg.LinAlgError is np.linalg.LinAlgError


def test_hermitian_svd_is_numpys_for_real_matrices_and_differentiable():
    matrix = symmetric(3) - 3.5 * np.eye(3) + np.triu(RNG.uniform(size=(3, 3)), 1)
    for ours, numpys in zip(cnp.linalg.svd(matrix, hermitian=True),
                            np.linalg.svd(matrix, hermitian=True), strict=True):
        np.testing.assert_allclose(ours, numpys, rtol=1e-12, atol=1e-14)
    u, s, vh = cnp.linalg.svd(cr.tensor(matrix + 0j), hermitian=True)
    lower = np.tril(matrix) + np.tril(matrix, -1).T
    np.testing.assert_allclose(raw_value((u * s[None, :]) @ vh), lower, atol=1e-12)
    # S = |w|: d sum(S) = sum sign(w_i) v_i v_i^T, landing on the lower triangle.
    values, vectors = np.linalg.eigh(lower)
    projector = (vectors * np.sign(values)) @ vectors.T
    expected = np.tril(projector) + np.tril(projector.T, -1)
    gradient = cr.grad(lambda m: cnp.sum(cnp.linalg.svd(m, hermitian=True, compute_uv=False)))
    np.testing.assert_allclose(gradient(matrix), expected, rtol=1e-10, atol=1e-12)
