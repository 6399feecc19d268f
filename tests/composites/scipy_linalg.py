"""Composite cases: chainrule.scipy.linalg's functions built from rows (the factorisations and
the solves through them, expm_frechet, generalised eigh, NumPy's under SciPy's names), and the
public functions over the rows of ops/scipy_linalg.py (their argument handling; the rows
themselves are in the registry sweep).
Differentiating cho_solve(cho_factor(a), b) and lu_solve(lu_factor(a), b) with respect to a
goes through the factor: the gradient must be solve's. Edge points: a matrix that needs
pivoting, a permutation matrix, a zero right-hand side, a zero direction for expm_frechet."""

import numpy as np
import scipy.linalg as sl

import chainrule.scipy.linalg as csl
from composites import Case

RNG = np.random.default_rng(7)


def _matrix(n, seed):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, n)) + n * np.eye(n)


def _spd(n, seed):
    a = np.random.default_rng(seed).uniform(-1.0, 1.0, (n, n))
    return a @ a.T + n * np.eye(n)


A, S = _matrix(3, 1), _spd(3, 2)
B, V = RNG.uniform(-1.0, 1.0, (3, 2)), RNG.uniform(-1.0, 1.0, 3)
PIVOTING = np.array([[0.0, 2.0, 1.0], [1.0, 0.5, 2.0], [3.0, 1.0, 0.3]])
PERMUTATION = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
COMPLEX = A + 1j * RNG.uniform(-0.5, 0.5, (3, 3))
HERMITIAN = COMPLEX @ COMPLEX.conj().T + 3 * np.eye(3)


# LAPACK's band storage of 4x4 matrices (unused corners hold junk, as they may).
BAND_1_1 = RNG.uniform(-1.0, 1.0, (3, 4)) + np.array([[0.0], [4.0], [0.0]])
BAND_2_0 = RNG.uniform(-1.0, 1.0, (3, 4)) + np.array([[4.0], [0.0], [0.0]])
V4 = RNG.uniform(-1.0, 1.0, 4)


def _banded_case(l_and_u, ab, b, label, edge=False):
    return Case("scipy.linalg.solve_banded", lambda ab, b: csl.solve_banded(l_and_u, ab, b),
                (ab, b), lambda ab, b: sl.solve_banded(l_and_u, ab, b), label=label, edge=edge)


def _lu_solve(a, b, trans, linalg=csl):
    return linalg.lu_solve(linalg.lu_factor(a), b, trans=trans)


def _lu_solve_case(args, trans, label="", edge=False):
    return Case("scipy.linalg.lu_solve", lambda a, b: _lu_solve(a, b, trans), args,
                lambda a, b: _lu_solve(a, b, trans, sl), label=label, edge=edge)


def _cho_solve(a, b, lower, linalg=csl):
    return linalg.cho_solve(linalg.cho_factor(a, lower=lower), b)


def _cho_solve_case(args, lower=False, label="", edge=False):
    return Case("scipy.linalg.cho_solve", lambda a, b: _cho_solve(a, b, lower), args,
                lambda a, b: _cho_solve(a, b, lower, sl), label=label, edge=edge)


CASES = [
    Case("scipy.linalg.expm", csl.expm, (A / 3,), sl.expm),
    Case("scipy.linalg.logm", csl.logm, (S / 3,), sl.logm),
    Case("scipy.linalg.sqrtm", csl.sqrtm, (COMPLEX,), sl.sqrtm, label="complex"),
    Case("scipy.linalg.solve_sylvester", csl.solve_sylvester, (A, S[:2, :2], B),
         sl.solve_sylvester),
    Case("scipy.linalg.solve_triangular", lambda a, b: csl.solve_triangular(a, b, lower=True),
         (A, B), lambda a, b: sl.solve_triangular(a, b, lower=True), label="lower"),
    Case("scipy.linalg.expm_frechet", lambda a, e: csl.expm_frechet(a, e, compute_expm=False),
         (A / 3, B @ B.T), lambda a, e: sl.expm_frechet(a, e, compute_expm=False)),
    Case("scipy.linalg.expm_frechet", lambda a, e: csl.expm_frechet(a, e)[0], (A / 3, B @ B.T),
         lambda a, e: sl.expm_frechet(a, e)[0], label="expm"),
    Case("scipy.linalg.expm_frechet", lambda a, e: csl.expm_frechet(a, e, compute_expm=False),
         (A / 3, np.zeros((3, 3))), lambda a, e: sl.expm_frechet(a, e, compute_expm=False),
         label="zero direction", edge=True),
    Case("scipy.linalg.solve_triangular",
         lambda a, b: csl.solve_triangular(a, b, trans="C", lower=True), (COMPLEX, V + 0.5j),
         lambda a, b: sl.solve_triangular(a, b, trans="C", lower=True),
         label="complex, trans='C', vector"),
    Case("scipy.linalg.solve_triangular", lambda a, b: csl.solve_triangular(a, b, trans="T"),
         (A, V), lambda a, b: sl.solve_triangular(a, b, trans="T"), label="upper, 'T', vector"),
    _banded_case((1, 1), BAND_1_1, V4, label="tridiagonal"),
    _banded_case((2, 0), BAND_2_0, RNG.uniform(-1.0, 1.0, (4, 2)), label="lower, matrix b"),
    _banded_case((0, 1), BAND_1_1[:2] + 0.5j, V4, label="complex, upper"),
    _banded_case((0, 0), BAND_1_1[1:2], V4, label="diagonal", edge=True),
    Case("scipy.linalg.cholesky", csl.cholesky, (S,), sl.cholesky),
    Case("scipy.linalg.cholesky", lambda a: csl.cholesky(a, lower=True), (HERMITIAN,),
         lambda a: sl.cholesky(a, lower=True), label="complex, lower"),
    Case("scipy.linalg.cho_factor", lambda a: csl.cho_factor(a)[0], (S,),
         lambda a: sl.cho_factor(a)[0]),
    Case("scipy.linalg.cho_factor", lambda a: csl.cho_factor(a, lower=True)[0], (HERMITIAN,),
         lambda a: sl.cho_factor(a, lower=True)[0], label="complex, lower"),
    _cho_solve_case((S, B)),
    _cho_solve_case((S, V), lower=True, label="lower, vector"),
    _cho_solve_case((HERMITIAN, B + 0.5j), label="complex"),
    _cho_solve_case((S, np.zeros((3, 2))), label="zero right-hand side", edge=True),
    Case("scipy.linalg.lu_factor", lambda a: csl.lu_factor(a)[0], (PIVOTING,),
         lambda a: sl.lu_factor(a)[0], label="pivoting", edge=True),
    Case("scipy.linalg.lu_factor", lambda a: csl.lu_factor(a)[0], (COMPLEX,),
         lambda a: sl.lu_factor(a)[0], label="complex"),
    _lu_solve_case((A, B), 0),
    _lu_solve_case((PIVOTING, V), 1, label="pivoting, trans=1, vector", edge=True),
    _lu_solve_case((COMPLEX, B), 2, label="complex, trans=2"),
    _lu_solve_case((PERMUTATION, B), 0, label="permutation matrix", edge=True),
    Case("scipy.linalg.lu", lambda a: csl.lu(a)[1], (PIVOTING,), lambda a: sl.lu(a)[1],
         label="l"),
    Case("scipy.linalg.lu", lambda a: csl.lu(a)[2], (PIVOTING,), lambda a: sl.lu(a)[2],
         label="u"),
    Case("scipy.linalg.lu", lambda a: csl.lu(a, permute_l=True)[0], (PIVOTING,),
         lambda a: sl.lu(a, permute_l=True)[0], label="permute_l"),
    Case("scipy.linalg.eigh", lambda a, b: csl.eigh(a, b, eigvals_only=True), (S, _spd(3, 3)),
         lambda a, b: sl.eigh(a, b, eigvals_only=True), label="generalised, values"),
    Case("scipy.linalg.eigh", lambda a: csl.eigh(a, lower=False, subset_by_index=(1, 2))[0],
         (S,), lambda a: sl.eigh(a, lower=False, subset_by_index=(1, 2))[0],
         label="upper, subset_by_index"),
    Case("scipy.linalg.eigvalsh", csl.eigvalsh, (HERMITIAN,), sl.eigvalsh, label="complex"),
    Case("scipy.linalg.inv", csl.inv, (A,), sl.inv),
    Case("scipy.linalg.det", csl.det, (A,), sl.det),
    Case("scipy.linalg.solve", lambda a, b: csl.solve(a, b, transposed=True), (A, B),
         lambda a, b: sl.solve(a, b, transposed=True), label="transposed"),
]
