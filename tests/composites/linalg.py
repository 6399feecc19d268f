"""Composite cases: chainrule.numpy.linalg's functions built from the linalg rows (lstsq through
pinv, cond through svdvals or inv and the matrix norms, tensorsolve through solve...) and the
products of chainrule.numpy (cross, vecdot, matvec, vecmat).

Functions returning a tuple are checked through the part that carries a derivative (a lambda
picking it). Edge points: ill-conditioned but invertible matrices, nearly collinear columns for
lstsq, a zero entry in a p-norm; each is still differentiable there."""

import numpy as np

import chainrule.numpy as cnp
from composites import Case

RNG = np.random.default_rng(14)


def _uniform(*shape):
    return RNG.uniform(-1.0, 1.0, shape)


def _complex(*shape):
    return _uniform(*shape) + 1j * _uniform(*shape)


def _well_conditioned(*shape, complex_=False):
    """Random entries plus n on the diagonal: far from singular."""
    noise = _complex(*shape) if complex_ else _uniform(*shape)
    return noise + shape[-1] * np.eye(shape[-1])


def _with_singular_values(rows, columns, values):
    """U diag(values) V^T with random orthogonal U and V: a matrix of known conditioning."""
    u, _ = np.linalg.qr(_uniform(rows, rows))
    v, _ = np.linalg.qr(_uniform(columns, columns))
    count = len(values)
    return (u[:, :count] * np.asarray(values, dtype=float)) @ v[:, :count].T


A = _well_conditioned(3, 3)
CA = _well_conditioned(3, 3, complex_=True)
BATCH = _well_conditioned(2, 3, 3)
TALL, WIDE = _uniform(5, 3), _uniform(2, 4)
CTALL = _complex(5, 3)
ILL = _with_singular_values(3, 3, [1.0, 0.2, 0.01])  # condition number 100
COLLINEAR = _uniform(6, 3)
COLLINEAR[:, 2] = COLLINEAR[:, 0] + 0.02 * _uniform(6)  # full rank, condition ~100
SYMMETRIC = _with_singular_values(3, 3, [3.0, 2.0, 1.0])
SYMMETRIC = SYMMETRIC @ SYMMETRIC.T + np.triu(_uniform(3, 3), 1)  # noise eigh never reads
_Q, _ = np.linalg.qr(_uniform(3, 3))
INDEFINITE = (_Q * [3.0, -2.0, 0.5]) @ _Q.T + np.triu(_uniform(3, 3), 1)  # mixed signs


def _picking(function, index):
    """function(...)[index]: the part of a tuple result that is checked."""
    return lambda *args: function(*args)[index]


# ----- least squares -----------------------------------------------------------------------------
def _lstsq_cases():
    ours, numpys = cnp.linalg.lstsq, np.linalg.lstsq
    name = "numpy.linalg.lstsq"
    parts = {"x": 0, "residuals": 1, "s": 3}
    problems = [
        ("tall, vector b", (TALL, _uniform(5)), False),
        ("tall, matrix b", (TALL, _uniform(5, 2)), False),
        ("wide (minimum norm)", (WIDE, _uniform(2)), False),
        ("square", (A, _uniform(3, 2)), False),
        ("complex tall", (CTALL, _complex(5)), False),
        ("nearly collinear columns", (COLLINEAR, _uniform(6)), True),
    ]
    cases = []
    for label, args, at_edge in problems:
        for part, index in parts.items():
            if part == "residuals" and args[0].shape[0] <= args[0].shape[1]:
                continue  # NumPy gives none: a constant empty array
            cases.append(Case(name, _picking(ours, index), args, _picking(numpys, index),
                              label=f"{part}, {label}", edge=at_edge))
    return cases


# ----- powers, chains, tensor equations ----------------------------------------------------------
_POWERS = [
    Case("numpy.linalg.matrix_power", lambda a: cnp.linalg.matrix_power(a, 3), (A,),
         lambda a: np.linalg.matrix_power(a, 3), label="3"),
    Case("numpy.linalg.matrix_power", lambda a: cnp.linalg.matrix_power(a * 0.4, 6), (BATCH,),
         lambda a: np.linalg.matrix_power(a * 0.4, 6), label="6, batched"),
    Case("numpy.linalg.matrix_power", lambda a: cnp.linalg.matrix_power(a, -2), (A,),
         lambda a: np.linalg.matrix_power(a, -2), label="-2 (through inv)"),
    Case("numpy.linalg.matrix_power", lambda a: cnp.linalg.matrix_power(a, 5), (CA / 3,),
         lambda a: np.linalg.matrix_power(a, 5), label="complex 5"),
    Case("numpy.linalg.matrix_power", lambda a: cnp.linalg.matrix_power(a, -1), (ILL,),
         lambda a: np.linalg.matrix_power(a, -1), label="-1, condition 100", edge=True),
    Case("numpy.linalg.multi_dot", lambda *arrays: cnp.linalg.multi_dot(arrays),
         (_uniform(4), _uniform(4, 6), _uniform(6, 2), _uniform(2, 5), _uniform(5)),
         lambda *arrays: np.linalg.multi_dot(arrays), label="vector, matrices, vector"),
    Case("numpy.linalg.multi_dot", lambda *arrays: cnp.linalg.multi_dot(arrays),
         (_uniform(10, 2), _uniform(2, 8), _complex(8, 3)),
         lambda *arrays: np.linalg.multi_dot(arrays), label="three matrices, complex"),
    Case("numpy.linalg.tensorsolve", cnp.linalg.tensorsolve,
         (_well_conditioned(6, 6).reshape(6, 2, 3), _uniform(6)), np.linalg.tensorsolve),
    Case("numpy.linalg.tensorsolve", lambda a, b: cnp.linalg.tensorsolve(a, b, axes=(0,)),
         (_well_conditioned(6, 6).T.reshape(6, 2, 3), _uniform(2, 3)),
         lambda a, b: np.linalg.tensorsolve(a, b, axes=(0,)), label="axes=(0,)"),
    Case("numpy.linalg.tensorinv", lambda a: cnp.linalg.tensorinv(a, ind=1),
         (_well_conditioned(6, 6).reshape(6, 2, 3),), lambda a: np.linalg.tensorinv(a, ind=1),
         label="ind=1"),
    Case("numpy.linalg.tensorinv", cnp.linalg.tensorinv,
         (_well_conditioned(6, 6, complex_=True).reshape(2, 3, 6),), np.linalg.tensorinv,
         label="ind=2, complex"),
]


# ----- condition numbers and norms ---------------------------------------------------------------
def _with_ord(function, reference, ord_):  # noqa: A002
    return (lambda x: function(x, ord_)), (lambda x: reference(x, ord_))


_ORDS = [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf]


def _cond_cases():
    cases = []
    for ord_ in _ORDS:
        ours, numpys = _with_ord(cnp.linalg.cond, np.linalg.cond, ord_)
        cases.append(Case("numpy.linalg.cond", ours, (A,), numpys, label=f"p={ord_}"))
    cases += [
        Case("numpy.linalg.cond", cnp.linalg.cond, (BATCH,), np.linalg.cond, label="batched"),
        Case("numpy.linalg.cond", cnp.linalg.cond, (TALL,), np.linalg.cond, label="tall"),
        Case("numpy.linalg.cond", cnp.linalg.cond, (CA,), np.linalg.cond, label="complex"),
        Case("numpy.linalg.cond", lambda x: cnp.linalg.cond(x, 1), (CA,),
             lambda x: np.linalg.cond(x, 1), label="complex, p=1"),
        Case("numpy.linalg.cond", cnp.linalg.cond, (ILL,), np.linalg.cond,
             label="condition 100", edge=True),
    ]
    return cases


def _norm_cases():
    matrices = _uniform(2, 3, 4)
    cases = []
    for ord_ in _ORDS[1:]:
        cases.append(Case(
            "numpy.linalg.matrix_norm", lambda x, o=ord_: cnp.linalg.matrix_norm(x, ord=o),
            (matrices,), lambda x, o=ord_: np.linalg.matrix_norm(x, ord=o), label=f"ord={ord_}",
        ))
    cases.append(Case(
        "numpy.linalg.matrix_norm",
        lambda x: cnp.linalg.matrix_norm(x, ord=np.inf, keepdims=True), (_complex(3, 3),),
        lambda x: np.linalg.matrix_norm(x, ord=np.inf, keepdims=True), label="complex, keepdims",
    ))
    vectors = _uniform(2, 3, 2)
    with_a_zero = np.array([0.0, -1.2, 0.7, 2.0])
    for ord_, axis, x, label, at_edge in [
        (2, None, vectors, "2, all axes", False),
        (1, (0, 2), vectors, "1, axes (0, 2)", False),
        (3, -1, vectors, "3", False),
        (0.5, 1, vectors, "0.5", False),
        (-1.5, None, vectors, "-1.5", False),
        (np.inf, 0, vectors, "inf", False),
        (-np.inf, 0, vectors, "-inf", False),
        (2, -1, _complex(3, 4), "2, complex", False),
        (3, None, with_a_zero, "3, a zero entry", True),
    ]:
        cases.append(Case(
            "numpy.linalg.vector_norm",
            lambda v, o=ord_, a=axis: cnp.linalg.vector_norm(v, ord=o, axis=a), (x,),
            lambda v, o=ord_, a=axis: np.linalg.vector_norm(v, ord=o, axis=a),
            label=f"ord={label}", edge=at_edge,
        ))
    cases += [
        Case("numpy.linalg.norm", lambda x: cnp.linalg.norm(x, "nuc"), (A,),
             lambda x: np.linalg.norm(x, "nuc"), label="nuc"),
        Case("numpy.linalg.norm", lambda x: cnp.linalg.norm(x, 3, axis=0, keepdims=True),
             (TALL,), lambda x: np.linalg.norm(x, 3, axis=0, keepdims=True),
             label="3, axis 0, keepdims"),
        Case("numpy.linalg.norm", lambda x: cnp.linalg.norm(x, -1, axis=(2, 0)), (matrices,),
             lambda x: np.linalg.norm(x, -1, axis=(2, 0)), label="-1, axes (2, 0)"),
    ]
    return cases


# ----- the other linalg functions ----------------------------------------------------------------
_OTHERS = [
    Case("numpy.linalg.cross", cnp.linalg.cross, (_uniform(2, 3), _uniform(3)),
         np.linalg.cross, label="broadcast"),
    Case("numpy.linalg.cross", lambda a, b: cnp.linalg.cross(a, b, axis=0),
         (_complex(3, 2), _uniform(3, 2)), lambda a, b: np.linalg.cross(a, b, axis=0),
         label="axis 0, complex"),
    Case("numpy.linalg.outer", cnp.linalg.outer, (_uniform(3), _complex(2)), np.linalg.outer),
    Case("numpy.linalg.diagonal", lambda x: cnp.linalg.diagonal(x, offset=1), (_uniform(2, 3, 4),),
         lambda x: np.linalg.diagonal(x, offset=1), label="offset 1"),
    Case("numpy.linalg.trace", cnp.linalg.trace, (BATCH,), np.linalg.trace),
    Case("numpy.linalg.trace", lambda x: cnp.linalg.trace(x, offset=-1), (_complex(2, 4, 3),),
         lambda x: np.linalg.trace(x, offset=-1), label="offset -1, complex, not square"),
    Case("numpy.linalg.vecdot", cnp.linalg.vecdot, (_complex(2, 3), _complex(3)),
         np.linalg.vecdot, label="complex (conjugates x1)"),
    Case("numpy.linalg.vecdot", lambda a, b: cnp.linalg.vecdot(a, b, axis=0),
         (_uniform(3, 2), _uniform(3, 1)), lambda a, b: np.linalg.vecdot(a, b, axis=0),
         label="axis 0"),
    Case("numpy.linalg.svdvals", cnp.linalg.svdvals, (TALL,), np.linalg.svdvals),
    Case("numpy.linalg.svdvals", cnp.linalg.svdvals, (CTALL,), np.linalg.svdvals,
         label="complex"),
    Case("numpy.linalg.matrix_transpose", cnp.linalg.matrix_transpose, (_uniform(2, 3, 4),),
         np.linalg.matrix_transpose),
    Case("numpy.linalg.tensordot", lambda a, b: cnp.linalg.tensordot(a, b, axes=1),
         (_uniform(2, 3), _complex(3, 4)), lambda a, b: np.linalg.tensordot(a, b, axes=1)),
    Case("numpy.linalg.slogdet", _picking(cnp.linalg.slogdet, 1), (BATCH,),
         _picking(np.linalg.slogdet, 1), label="logabsdet"),
    Case("numpy.linalg.slogdet", _picking(cnp.linalg.slogdet, 0), (CA,),
         _picking(np.linalg.slogdet, 0), label="complex sign"),
    Case("numpy.linalg.slogdet", _picking(cnp.linalg.slogdet, 1), (ILL,),
         _picking(np.linalg.slogdet, 1), label="logabsdet, condition 100", edge=True),
    Case("numpy.linalg.pinv", lambda a: cnp.linalg.pinv(a, hermitian=True), (SYMMETRIC,),
         lambda a: np.linalg.pinv(a, hermitian=True), label="hermitian (reads the lower triangle)"),
    Case("numpy.linalg.pinv", lambda a: cnp.linalg.pinv(a, hermitian=True),
         (CA @ CA.conj().T + np.triu(_complex(3, 3), 1),),
         lambda a: np.linalg.pinv(a, hermitian=True), label="hermitian, complex"),
    Case("numpy.linalg.pinv", lambda a: cnp.linalg.pinv(a, rtol=None), (TALL,),
         lambda a: np.linalg.pinv(a, rtol=None), label="rtol=None (array API default)"),
    *[Case("numpy.linalg.svd", _picking(lambda a: cnp.linalg.svd(a, hermitian=True), index),
           (INDEFINITE,), _picking(lambda a: np.linalg.svd(a, hermitian=True), index),
           label=f"hermitian, {part}")
      for index, part in enumerate(["U", "S", "Vh"])],
    Case("numpy.linalg.svd", lambda a: cnp.linalg.svd(a, hermitian=True)[2],
         (_complex(3, 3) + 3 * np.diag([1.0, -2.0, 3.0]),), None,
         label="hermitian, complex Vh (eigh's phases)"),
    Case("numpy.linalg.eigvalsh", lambda a: cnp.linalg.eigvalsh(a, UPLO="U"), (SYMMETRIC.T,),
         lambda a: np.linalg.eigvalsh(a, UPLO="U"), label="UPLO='U'"),
]


# ----- the functions over single rows, through their public shape handling ---------------------
_SPD = A @ A.T + np.tril(_uniform(3, 3), -1)  # noise cholesky(upper=True) never reads
_ROTATING = np.array([[1.0, -2.0, 0.3], [2.0, 0.5, -0.4], [0.1, 0.2, 3.0]])  # 0.75 +- 2i, 3ish
_ROWS = [
    Case("numpy.linalg.inv", cnp.linalg.inv, (BATCH,), np.linalg.inv, label="batched"),
    Case("numpy.linalg.inv", cnp.linalg.inv, (CA,), np.linalg.inv, label="complex"),
    Case("numpy.linalg.det", cnp.linalg.det, (BATCH,), np.linalg.det, label="batched"),
    Case("numpy.linalg.det", cnp.linalg.det, (CA,), np.linalg.det, label="complex"),
    Case("numpy.linalg.det", cnp.linalg.det, (np.array([[1.0, 2.0], [2.0, 4.0]]),),
         np.linalg.det, label="singular (gradient: the cofactor matrix)", edge=True),
    Case("numpy.linalg.solve", cnp.linalg.solve, (A, _uniform(3)), np.linalg.solve,
         label="1-d b"),
    Case("numpy.linalg.solve", cnp.linalg.solve, (BATCH, _complex(3, 2)), np.linalg.solve,
         label="batched a, complex b"),
    Case("numpy.linalg.cholesky", lambda a: cnp.linalg.cholesky(a, upper=True), (_SPD,),
         lambda a: np.linalg.cholesky(a, upper=True), label="upper"),
    Case("numpy.linalg.cholesky", cnp.linalg.cholesky, (CA @ CA.conj().T,), np.linalg.cholesky,
         label="complex"),
    Case("numpy.linalg.qr", _picking(cnp.linalg.qr, 0), (WIDE,), _picking(np.linalg.qr, 0),
         label="Q, wide"),
    Case("numpy.linalg.qr", _picking(cnp.linalg.qr, 1), (WIDE,), _picking(np.linalg.qr, 1),
         label="R, wide"),
    Case("numpy.linalg.qr", _picking(cnp.linalg.qr, 1), (CTALL,), None, label="R, complex"),
    Case("numpy.linalg.eigh", _picking(lambda a: cnp.linalg.eigh(a, UPLO="U"), 1),
         (SYMMETRIC.T,), _picking(lambda a: np.linalg.eigh(a, UPLO="U"), 1),
         label="vectors, UPLO='U'"),
    Case("numpy.linalg.eigh", _picking(cnp.linalg.eigh, 0), (CA @ CA.conj().T,),
         _picking(np.linalg.eigh, 0), label="values, complex"),
    Case("numpy.linalg.eigvals", cnp.linalg.eigvals, (_ROTATING,), np.linalg.eigvals,
         label="a complex pair"),
    Case("numpy.linalg.eig", _picking(cnp.linalg.eig, 1), (_ROTATING,),
         _picking(np.linalg.eig, 1), label="vectors (LAPACK's normalisation)"),
    Case("numpy.linalg.eigvalsh", lambda a: cnp.linalg.eigvalsh(a, UPLO="U"),
         (CA @ CA.conj().T,), lambda a: np.linalg.eigvalsh(a, UPLO="U"), label="complex"),
    Case("numpy.linalg.diagonal", cnp.linalg.diagonal, (_complex(2, 3, 3),),
         np.linalg.diagonal, label="complex"),
    Case("numpy.linalg.matrix_transpose", cnp.linalg.matrix_transpose, (_complex(3, 2),),
         np.linalg.matrix_transpose, label="complex"),
    Case("numpy.linalg.tensorsolve", cnp.linalg.tensorsolve,
         (_well_conditioned(4, 4, complex_=True).reshape(4, 2, 2), _complex(4)),
         np.linalg.tensorsolve, label="complex"),
    Case("numpy.linalg.norm", cnp.linalg.norm, (_complex(2, 3),), np.linalg.norm,
         label="complex"),
]


# ----- chainrule.numpy's products ----------------------------------------------------------------
_PRODUCTS = [
    Case("numpy.cross", cnp.cross, (_uniform(4, 3), _uniform(4, 3)), np.cross),
    Case("numpy.cross", lambda a, b: cnp.cross(a, b, axisa=0, axisb=1, axisc=0),
         (_complex(3, 2), _uniform(2, 3)), lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0),
         label="axisa, axisb, axisc"),
    Case("numpy.vecdot", cnp.vecdot, (_complex(2, 3), _complex(2, 3)), np.vecdot,
         label="complex"),
    Case("numpy.matvec", cnp.matvec, (_uniform(2, 3, 4), _complex(4)), np.matvec),
    Case("numpy.vecmat", cnp.vecmat, (_complex(3), _uniform(2, 3, 4)), np.vecmat),
]


CASES = (
    _lstsq_cases() + _POWERS + _cond_cases() + _norm_cases() + _OTHERS + _ROWS + _PRODUCTS
)
