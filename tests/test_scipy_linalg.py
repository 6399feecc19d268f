"""chainrule.scipy.linalg beyond the sweeps: closed forms of the matrix functions' derivatives
(to third order for expm, whose rule calls expm on ever larger block matrices), derivatives
through the factorisations equal to solve's, the triangles a solve reads, generalised eigh,
the Tensor API, and the errors: shapes, arguments, and the missing `scipy` extra (also for
chainrule.scipy.signal and .integrate, which share it)."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg as sl

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.scipy.integrate as cint
import chainrule.scipy.linalg as csl
import chainrule.scipy.signal as csig
from chainrule.core.primitive import REGISTRY
from chainrule.errors import ArgumentError, MissingExtraError, ShapeError

RNG = np.random.default_rng(0)
A = RNG.uniform(-1.0, 1.0, (3, 3)) + 3 * np.eye(3)
SPD = A @ A.T
B = RNG.uniform(-1.0, 1.0, (3, 2))
ROTATION = np.array([[0.0, -1.0], [1.0, 0.0]])  # expm(theta K) turns by theta


def test_importing_chainrule_scipy_linalg_registers_its_rows():
    rows = {"expm", "logm", "sqrtm", "sylvester", "solve_triangular", "lu_factor"}
    assert rows <= set(REGISTRY)
    assert all(REGISTRY[name].batch is not None for name in rows)


def test_scipy_is_imported_only_when_a_function_runs():
    code = ("import sys, chainrule, chainrule.scipy.linalg, chainrule.scipy.signal, "
            "chainrule.scipy.integrate; print('scipy' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "False"


# ----- matrix functions --------------------------------------------------------------------------
def test_expm_of_a_rotation_generator_turns_and_its_derivatives_to_third_order_are_closed_form():
    def turned(theta):
        return csl.expm(theta * ROTATION)

    theta = 0.7
    np.testing.assert_allclose(turned(theta), [[np.cos(theta), -np.sin(theta)],
                                               [np.sin(theta), np.cos(theta)]], atol=1e-14)
    # d^k/dtheta^k expm(theta K) = K^k expm(theta K): reverse, forward, and nested to order 3.
    first = cr.jacrev(turned)(theta)
    second = cr.jacfwd(cr.jacrev(turned))(theta)
    third = cr.jacrev(cr.jacfwd(cr.jacrev(turned)))(theta)
    for order, found in enumerate((first, second, third), start=1):
        expected = np.linalg.matrix_power(ROTATION, order) @ sl.expm(theta * ROTATION)
        np.testing.assert_allclose(found, expected, atol=1e-12, err_msg=f"order {order}")


def test_expm_rules_are_scipys_frechet_derivative_and_its_adjoint():
    direction, weights = RNG.standard_normal((3, 3)), RNG.standard_normal((3, 3))
    _, tangent = cr.jvp(csl.expm, (A / 3,), (direction,))
    np.testing.assert_allclose(tangent, sl.expm_frechet(A / 3, direction, compute_expm=False),
                               rtol=1e-12, atol=1e-12)
    _, pullback = cr.vjp(csl.expm, A / 3)
    (cotangent,) = pullback(weights)
    np.testing.assert_allclose(cotangent, sl.expm_frechet(A.T / 3, weights, compute_expm=False),
                               rtol=1e-12, atol=1e-12)


def test_logm_inverts_expm_and_so_do_their_jacobians():
    x = A / 4
    np.testing.assert_allclose(csl.logm(csl.expm(x)), x, atol=1e-12)
    roundtrip = cr.jacfwd(lambda x: csl.logm(csl.expm(x)))(x)
    np.testing.assert_allclose(roundtrip.reshape(9, 9), np.eye(9), atol=1e-10)


def test_gradient_of_the_trace_of_sqrtm_is_half_its_inverse_transposed():
    # d tr(S) = tr(X) with S X + X S = dA, i.e. tr(X) = tr(S^{-1} dA) / 2.
    gradient = cr.grad(lambda a: cnp.trace(csl.sqrtm(a)))(SPD)
    np.testing.assert_allclose(gradient, 0.5 * np.linalg.inv(sl.sqrtm(SPD)).T, rtol=1e-10)
    np.testing.assert_allclose(csl.sqrtm(SPD) @ csl.sqrtm(SPD), SPD, rtol=1e-12)


def test_matrix_functions_keep_single_precision():
    for function in (csl.expm, csl.logm, csl.sqrtm):
        assert function(A.astype(np.float32)).dtype == np.float32, function.__name__
        assert function(A.astype(np.complex64)).dtype == np.complex64, function.__name__


def test_solve_sylvester_with_real_coefficients_and_a_complex_right_hand_side():
    # SciPy itself gets this one wrong when a has complex eigenvalues; the row makes all complex.
    a = np.array([[1.0, -2.0], [2.0, 1.0]]) + 3 * np.eye(2)  # eigenvalues 4 +- 2i
    q = RNG.standard_normal((2, 2)) + 1j * RNG.standard_normal((2, 2))
    x = csl.solve_sylvester(a, a.T, q)
    np.testing.assert_allclose(a @ x + x @ a.T, q, atol=1e-12)


def test_tensor_api_backward_through_expm():
    x = cr.tensor(A / 3, requires_grad=True)
    cnp.sum(csl.expm(x)).backward()
    np.testing.assert_allclose(x.grad, sl.expm_frechet(A.T / 3, np.ones((3, 3)))[1], rtol=1e-12)


# ----- solves ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lower", [True, False])
def test_solve_triangular_reads_one_triangle_and_unit_diagonal_ignores_the_diagonal(lower):
    def solved(a):
        return cnp.sum(csl.solve_triangular(a, B, lower=lower, unit_diagonal=True) ** 2)

    gradient = cr.grad(solved)(A)
    unread = np.triu(np.ones((3, 3)), 0) if lower else np.tril(np.ones((3, 3)), 0)
    assert np.all(gradient[unread == 1] == 0)
    assert np.all(gradient[unread == 0] != 0)


@pytest.mark.parametrize("how", ["cho_solve", "lu_solve", "lu_solve trans=1"])
def test_derivatives_through_a_factorisation_are_solves(how):
    """d/da of a solve through a factor of a, in both modes, equals cnp.linalg.solve's (for a
    symmetric a, from the triangle cho_factor reads)."""
    def through_factor(a):
        if how == "cho_solve":
            return csl.cho_solve(csl.cho_factor(a), B)
        if how == "lu_solve":
            return csl.lu_solve(csl.lu_factor(a), B)
        return csl.lu_solve(csl.lu_factor(a), B, trans=1)

    def direct(a):
        if how == "cho_solve":  # cho_factor reads the upper triangle
            a = cnp.triu(a) + cnp.triu(a, 1).T
        return cnp.linalg.solve(a.T if how.endswith("1") else a, B)

    for jacobian in (cr.jacrev, cr.jacfwd):
        np.testing.assert_allclose(jacobian(through_factor)(SPD), jacobian(direct)(SPD),
                                   rtol=1e-9, atol=1e-12)


def test_lu_solve_under_vmap_uses_each_examples_pivots():
    matrices = np.stack([A, np.array([[0.0, 2.0, 1.0], [1.0, 0.5, 2.0], [3.0, 1.0, 0.3]])])
    found = cr.vmap(lambda a: csl.lu_solve(csl.lu_factor(a), B))(matrices)
    expected = [sl.lu_solve(sl.lu_factor(m), B) for m in matrices]
    np.testing.assert_allclose(found, expected, rtol=1e-12)
    pivots = cr.vmap(lambda a: csl.lu_factor(a)[1])(matrices)
    np.testing.assert_array_equal(pivots, [sl.lu_factor(m)[1] for m in matrices])


def test_generalised_eigh_vectors_are_b_orthonormal_and_differentiable():
    b = SPD + np.eye(3)
    symmetric = (A + A.T) / 2
    values, vectors = csl.eigh(symmetric, b)
    np.testing.assert_allclose(values, sl.eigh(symmetric, b, eigvals_only=True), rtol=1e-12)
    np.testing.assert_allclose(vectors.T @ b @ vectors, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(symmetric @ vectors, b @ vectors * values, atol=1e-12)

    def gauge_free(a, b):  # |v_i|^2 per vector: no sign convention involved
        _, vectors = csl.eigh((a + a.T) / 2, (b + b.T) / 2)
        return cnp.sum(vectors**2, axis=0)

    assert cr.gradcheck(gauge_free, A, b)


# ----- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("function", [csl.expm, csl.logm, csl.sqrtm, csl.lu_factor,
                                      csl.cho_factor, csl.cholesky, csl.eigh])
def test_a_matrix_function_of_a_non_square_matrix_names_the_shape(function):
    with pytest.raises(ShapeError, match=r"square matrix.*\(2, 3\)"):
        function(np.ones((2, 3)))


def test_argument_errors_say_what_is_accepted():
    with pytest.raises(ArgumentError, match="trans must be 0, 1, 2 or 'N', 'T', 'C'"):
        csl.solve_triangular(A, B, trans="X")
    with pytest.raises(ShapeError, match="b needs 3 rows"):
        csl.solve_triangular(A, np.ones((4, 2)))
    with pytest.raises(ArgumentError, match=r"pair \(c, lower\) that cho_factor returned"):
        csl.cho_solve(csl.cho_factor(SPD)[0], B)
    with pytest.raises(ArgumentError, match=r"pair \(lu, piv\) that lu_factor returned"):
        csl.lu_solve(csl.lu_factor(A)[0], B)
    with pytest.raises(ArgumentError, match="only type=1"):
        csl.eigh(SPD, SPD, type=2)
    with pytest.raises(ShapeError, match="q must be 3x2"):
        csl.solve_sylvester(A, np.eye(2), np.ones((3, 3)))
    with pytest.raises(ShapeError, match="E must have A's shape"):
        csl.expm_frechet(A, np.ones((2, 2)))
    with pytest.raises(ShapeError, match=r"ab must have l \+ u \+ 1 = 3 rows"):
        csl.solve_banded((1, 1), np.ones((2, 4)), np.ones(4))


def test_signal_argument_errors():
    with pytest.raises(ArgumentError, match="mode must be 'full', 'same' or 'valid'"):
        csig.convolve(np.ones(3), np.ones(2), mode="middle")
    with pytest.raises(ArgumentError, match="method must be 'auto', 'direct' or 'fft'"):
        csig.correlate(np.ones(3), np.ones(2), method="fast")
    with pytest.raises(ShapeError, match="same dimensionality"):
        csig.convolve(np.ones(3), np.ones((2, 2)))
    with pytest.raises(ShapeError, match="at least as large as the other in every dimension"):
        csig.convolve(np.ones((3, 1)), np.ones((1, 3)), mode="valid")
    with pytest.raises(ShapeError, match="incompatible shapes"):
        csig.fftconvolve(np.ones((3, 4)), np.ones((2, 4)), axes=1)


@pytest.mark.parametrize("call", [
    lambda: csl.expm(A),
    lambda: csl.solve_triangular(A, B),
    lambda: csl.lu_factor(A),
    lambda: csig.convolve(np.arange(3), np.arange(2)),
    lambda: cint.odeint(lambda y, t: -y, np.ones(2), np.linspace(0.0, 1.0, 3)),
], ids=["expm", "solve_triangular", "lu_factor", "convolve (integers)", "odeint"])
def test_without_scipy_a_call_says_which_pip_install_fixes_it(call, monkeypatch):
    for module in ("scipy", "scipy.linalg", "scipy.signal", "scipy.integrate"):
        monkeypatch.setitem(sys.modules, module, None)  # `import scipy...` now fails
    with pytest.raises(MissingExtraError, match=r"pip install 'chainrule\[scipy\]'"):
        call()
