"""Samples for linear-algebra primitives: well-conditioned matrices (random + n I, SPD as
A A^T + n I), batched stacks, and eigen/singular values kept apart so the rules' distinctness
assumptions hold. eigh and cholesky read the lower triangle, so unsymmetric inputs are fine;
some samples symmetrise first with `prepare`."""

import numpy as np

from chainrule.errors import NonDifferentiableError
from samples import Sample, edge, uniform


def well_conditioned(shape, seed=0):
    """Random entries plus n on the diagonal: far from singular."""
    n = shape[-1]
    return uniform(shape, -1.0, 1.0, seed=seed) + n * np.eye(n)


def spd(shape, seed=0):
    """A A^T + n I: symmetric positive definite."""
    a = uniform(shape, -1.0, 1.0, seed=seed)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def separated_symmetric(shape, seed=0):
    """A symmetric matrix with eigenvalues about 1, 3, 5, ... (distinct, well apart)."""
    n = shape[-1]
    q, _ = np.linalg.qr(uniform(shape, seed=seed))
    values = 1.0 + 2.0 * np.arange(n) + uniform(shape[:-1], -0.3, 0.3, seed=seed + 1)
    return (q * values[..., None, :]) @ np.swapaxes(q, -1, -2)


def with_upper_noise(a, seed=0):
    """a plus noise in its strict upper triangle, which eigh and cholesky never read."""
    return a + np.triu(uniform(a.shape, seed=seed), 1)


def symmetrised(a):
    return ((a + np.swapaxes(a, -1, -2)) * 0.5,)


def column(a, b):
    """solve's 1-d right-hand side as NumPy 2 reads it: a column."""
    return a, b[:, None]


def _einsum(subscripts, *shapes, label=""):
    arrays = tuple(uniform(shape, seed=i) for i, shape in enumerate(shapes))
    return Sample(arrays, {"subscripts": subscripts}, label=label or subscripts)


def _singular_5x5():
    """Rank 4: its last column is a combination of the first two."""
    a = well_conditioned((5, 5), seed=5)
    a[:, 4] = a[:, 0] - 2.0 * a[:, 1]
    return a


def _singular_samples():
    """Edge points of det and the cofactor matrix (polynomials, smooth everywhere)."""
    rank_two = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    return [
        edge((np.array([[1.0, 2.0], [2.0, 4.0]]),), label="singular 2x2"),
        edge((np.zeros((1, 1)),), label="zero 1x1"),
        edge((rank_two,), label="rank 2 of 3"),
        edge((np.outer([1.0, -2.0, 0.5], [0.3, 1.0, 2.0]),), label="rank 1 of 3"),
        edge((np.zeros((3, 3)),), label="zero 3x3"),
        edge((np.stack([[[1.0, 2.0], [2.0, 4.0]], np.eye(2)]),),
             label="batch with a singular matrix"),
        edge((_singular_5x5(),), label="singular 5x5"),
    ]


SAMPLES = {
    "matmul": [
        Sample((uniform((2, 3)), uniform((3, 4), seed=1)), label="matrix @ matrix"),
        Sample((uniform((3,)), uniform((3,), seed=1)), label="vector @ vector"),
        Sample((uniform((3,)), uniform((3, 2), seed=1)), label="vector @ matrix"),
        Sample((uniform((2, 3)), uniform((3,), seed=1)), label="matrix @ vector"),
        Sample((uniform((2, 2, 3)), uniform((3, 4), seed=1)), label="batched @ matrix"),
        Sample((uniform((1, 2, 3)), uniform((4, 3, 2), seed=1)), label="broadcast batches"),
    ],
    "einsum": [
        _einsum("ij,jk->ik", (2, 3), (3, 4)),
        _einsum("ii,->i", (3, 3), (), label="diagonal"),
        _einsum("ii,->", (3, 3), (), label="trace"),
        _einsum("ij,->i", (2, 3), (), label="letter only in the operand"),
        _einsum("ij,->ji", (2, 3), (), label="transpose"),
        _einsum("i,i->", (3,), (3,), label="dot"),
        _einsum("i,j->ij", (2,), (3,), label="outer"),
        _einsum("aij,ajk->aik", (2, 2, 3), (2, 3, 2), label="batched"),
        _einsum("ij,ij->ij", (1, 3), (2, 3), label="size-1 broadcast"),
        _einsum("iij,k->ikj", (2, 2, 3), (2,), label="diagonal and outer"),
        _einsum("ij,jk->", (2, 3), (3, 2), label="full contraction"),
        _einsum("ij,kj->j", (2, 3), (2, 3), label="letters only in each operand"),
    ],
    "inv": [
        Sample((well_conditioned((3, 3)),)),
        Sample((well_conditioned((2, 2, 2), seed=1),), label="batched"),
        Sample((well_conditioned((1, 1), seed=2),), label="1x1"),
    ],
    "det": [
        Sample((well_conditioned((3, 3)),)),
        Sample((well_conditioned((2, 3, 3), seed=1),), label="batched"),
        Sample((uniform((2, 2), seed=2) - 3 * np.eye(2),), label="negative determinant"),
        Sample((well_conditioned((5, 5), seed=4),), label="5x5"),
    ] + _singular_samples(),
    "cofactor": [
        Sample((well_conditioned((3, 3)),)),
        Sample((well_conditioned((2, 3, 3), seed=1),), label="batched"),
        Sample((well_conditioned((1, 1), seed=2),), label="1x1"),
        Sample((uniform((2, 2), seed=3) - 3 * np.eye(2),), label="negative determinant"),
        Sample((well_conditioned((5, 5), seed=4),), label="5x5 (rules through the inverse)"),
    ] + _singular_samples(),
    "logabsdet": [
        Sample((well_conditioned((3, 3)),)),
        Sample((well_conditioned((2, 2, 2), seed=1),), label="batched"),
        Sample((np.array([[0.5, 2.0], [1.5, -0.3]]),), label="negative determinant"),
    ],
    "solve": [
        Sample((well_conditioned((3, 3)), uniform((3, 2), seed=1))),
        Sample((well_conditioned((3, 3)), uniform((3,), seed=1)), prepare=column, label="1-d b"),
        Sample((well_conditioned((2, 3, 3)), uniform((3, 2), seed=1)), label="batched a"),
        Sample((well_conditioned((3, 3)), uniform((2, 3, 1), seed=1)), label="batched b"),
    ],
    "cholesky": [
        Sample((spd((3, 3)),)),
        Sample((spd((2, 3, 3), seed=1),), label="batched"),
        Sample((with_upper_noise(spd((3, 3), seed=2)),), label="upper triangle ignored"),
        Sample((spd((3, 3), seed=3),), prepare=symmetrised, label="symmetrised"),
    ],
    "eigh_values": [
        Sample((separated_symmetric((3, 3)),)),
        Sample((separated_symmetric((2, 3, 3), seed=1),), label="batched"),
        Sample((with_upper_noise(separated_symmetric((3, 3), seed=2)),), label="upper ignored"),
        Sample((uniform((3, 3), seed=3),), prepare=symmetrised, label="symmetrised"),
    ],
    "eigh_vectors": [
        Sample((separated_symmetric((3, 3)),)),
        Sample((separated_symmetric((2, 3, 3), seed=1),), label="batched"),
        Sample((with_upper_noise(separated_symmetric((3, 3), seed=2)),), label="upper ignored"),
        Sample((separated_symmetric((3, 3), seed=3),), prepare=symmetrised, label="symmetrised"),
    ],
    "qr_q": [
        Sample((uniform((4, 3)),), label="tall"),
        Sample((well_conditioned((3, 3), seed=1),), label="square"),
        Sample((uniform((2, 3, 2), seed=2),), label="batched"),
    ],
    "qr_r": [
        Sample((uniform((4, 3)),), label="tall"),
        Sample((well_conditioned((3, 3), seed=1),), label="square"),
        Sample((uniform((2, 3, 2), seed=2),), label="batched"),
    ],
}

_SVD_INPUTS = [
    Sample((uniform((4, 3)),), label="tall"),
    Sample((uniform((2, 3), seed=1),), label="wide"),
    Sample((uniform((3, 3), seed=2),), label="square"),
    Sample((uniform((2, 3, 2), seed=3),), label="batched"),
]
for _name in ("svd_u", "svd_s", "svd_vt"):
    SAMPLES[_name] = list(_SVD_INPUTS)

_V = uniform((2, 3), seed=4)
SAMPLES["norm"] = [
    Sample((_V,), {"axis": (0, 1), "keepdims": False}, label="Frobenius"),
    Sample((_V,), {"axis": (1,), "keepdims": False}, label="rows"),
    Sample((_V,), {"axis": (0,), "keepdims": True}, label="columns keepdims"),
    Sample((uniform((4,), seed=5),), {"axis": (0,), "keepdims": False}, label="vector"),
    Sample((np.array(-0.7),), {"axis": (), "keepdims": False}, label="0-d"),
    # The zero vector is the tip of a cone, a kink: the gradient there is the subgradient 0;
    # a second derivative there raises (see ops/linalg.py: no convention serves norm(x) ** 2).
    edge((np.zeros((2, 2)),), {"axis": (1,), "keepdims": False}, label="zero rows",
         convention=np.zeros((2, 2, 2)), second_order=NonDifferentiableError),
]
SAMPLES["pinv"] = [
    Sample((uniform((4, 3)),), {"rcond": 1e-12}, label="tall"),
    Sample((uniform((2, 3), seed=1),), {"rcond": 1e-12}, label="wide"),
    Sample((np.eye(3),), {"rcond": 1e-12}, label="identity (equal singular values)"),
    Sample((uniform((2, 3, 2), seed=2),), {"rcond": 1e-12}, label="batched"),
    Sample((uniform((2, 3, 2), seed=3),), {"rcond": np.array([1e-12, 1e-10])},
           label="batched, one rcond per matrix"),
]


# ----- complex samples (complex128): every row, Hermitian / HPD inputs where the row needs them ---
# cholesky and eigh read the lower triangle and the real part of the diagonal, so any complex
# matrix is a valid input; the noise samples put values where they are never read.
def complex_uniform(shape, low=-2.0, high=2.0, seed=0):
    return uniform(shape, low, high, seed=seed) + 1j * uniform(shape, low, high, seed=seed + 100)


def complex_well_conditioned(shape, seed=0):
    n = shape[-1]
    return complex_uniform(shape, -1.0, 1.0, seed=seed) + n * np.eye(n)


def hpd(shape, seed=0):
    """A A^H + n I: Hermitian positive definite."""
    a = complex_uniform(shape, -1.0, 1.0, seed=seed)
    return a @ np.conj(np.swapaxes(a, -1, -2)) + shape[-1] * np.eye(shape[-1])


def separated_hermitian(shape, seed=0):
    """A Hermitian matrix with eigenvalues about 1, 3, 5, ... (distinct, well apart)."""
    n = shape[-1]
    q, _ = np.linalg.qr(complex_uniform(shape, seed=seed))
    values = 1.0 + 2.0 * np.arange(n) + uniform(shape[:-1], -0.3, 0.3, seed=seed + 1)
    return (q * values[..., None, :]) @ np.conj(np.swapaxes(q, -1, -2))


def with_unread_noise(a, seed=0):
    """a plus what eigh and cholesky never read: its strict upper triangle and the imaginary
    part of its diagonal."""
    noise = complex_uniform(a.shape, seed=seed)
    return a + np.triu(noise, 1) + 1j * (noise.real * np.eye(a.shape[-1]))


def hermitised(a):
    return ((a + np.conj(np.swapaxes(a, -1, -2))) * 0.5,)


def _complex_einsum(subscripts, *shapes, label=""):
    arrays = tuple(complex_uniform(shape, seed=i) for i, shape in enumerate(shapes))
    return Sample(arrays, {"subscripts": subscripts}, label=f"complex {label or subscripts}")


def _complex_singular_samples():
    """Complex edge points of det and the cofactor matrix (polynomials, smooth everywhere)."""
    u, v = complex_uniform((3, 2), seed=7), complex_uniform((2, 3), seed=8)
    return [
        edge((u @ v,), label="complex rank 2 of 3"),
        edge((np.outer([1.0, 2.0j], [1.0 - 1.0j, 0.5]),), label="complex singular 2x2"),
    ]


SAMPLES["matmul"] += [
    Sample((complex_uniform((2, 3)), complex_uniform((3, 4), seed=1)), label="complex"),
    Sample((complex_uniform((2, 2, 3)), uniform((3,), seed=1)), label="complex @ real vector"),
]
SAMPLES["einsum"] += [
    _complex_einsum("ij,jk->ik", (2, 3), (3, 4)),
    _complex_einsum("ii,->i", (3, 3), (), label="diagonal"),
    _complex_einsum("aij,ajk->aik", (2, 2, 3), (2, 3, 2), label="batched"),
]
SAMPLES["inv"] += [
    Sample((complex_well_conditioned((3, 3)),), label="complex"),
    Sample((complex_well_conditioned((2, 2, 2), seed=1),), label="complex batched"),
]
SAMPLES["det"] += [
    Sample((complex_well_conditioned((3, 3)),), label="complex"),
    Sample((complex_well_conditioned((2, 3, 3), seed=1),), label="complex batched"),
    Sample((complex_well_conditioned((5, 5), seed=4),), label="complex 5x5"),
] + _complex_singular_samples()
SAMPLES["cofactor"] += [
    Sample((complex_well_conditioned((3, 3)),), label="complex"),
    Sample((complex_well_conditioned((2, 3, 3), seed=1),), label="complex batched"),
    Sample((complex_well_conditioned((5, 5), seed=4),), label="complex 5x5 (through the inverse)"),
] + _complex_singular_samples()
SAMPLES["logabsdet"] += [
    Sample((complex_well_conditioned((3, 3)),), label="complex"),
    Sample((complex_well_conditioned((2, 2, 2), seed=1),), label="complex batched"),
]
SAMPLES["solve"] += [
    Sample((complex_well_conditioned((3, 3)), complex_uniform((3, 2), seed=1)), label="complex"),
    Sample((complex_well_conditioned((3, 3)), complex_uniform((3,), seed=1)), prepare=column,
           label="complex 1-d b"),
    Sample((complex_well_conditioned((2, 3, 3)), uniform((3, 2), seed=1)),
           label="complex batched a, real b"),
]
SAMPLES["cholesky"] += [
    Sample((hpd((3, 3)),), label="complex"),
    Sample((hpd((2, 3, 3), seed=1),), label="complex batched"),
    Sample((with_unread_noise(hpd((3, 3), seed=2)),), label="complex, unread parts ignored"),
    Sample((hpd((3, 3), seed=3),), prepare=hermitised, label="complex hermitised"),
]
for _name in ("eigh_values", "eigh_vectors"):
    SAMPLES[_name] += [
        Sample((separated_hermitian((3, 3)),), label="complex"),
        Sample((separated_hermitian((2, 3, 3), seed=1),), label="complex batched"),
        Sample((with_unread_noise(separated_hermitian((3, 3), seed=2)),),
               label="complex, unread parts ignored"),
        Sample((separated_hermitian((3, 3), seed=3),), prepare=hermitised,
               label="complex hermitised"),
    ]
for _name in ("qr_q", "qr_r"):
    SAMPLES[_name] += [
        Sample((complex_uniform((4, 3)),), label="complex tall"),
        Sample((complex_well_conditioned((3, 3), seed=1),), label="complex square"),
        Sample((complex_uniform((2, 3, 2), seed=2),), label="complex batched"),
    ]
for _name in ("svd_u", "svd_s", "svd_vt"):
    SAMPLES[_name] += [
        Sample((complex_uniform((4, 3)),), label="complex tall"),
        Sample((complex_uniform((2, 3), seed=1),), label="complex wide"),
        Sample((complex_uniform((3, 3), seed=2),), label="complex square"),
        Sample((complex_uniform((2, 3, 2), seed=3),), label="complex batched"),
    ]
_Z = complex_uniform((2, 3), seed=4)
SAMPLES["norm"] += [
    Sample((_Z,), {"axis": (0, 1), "keepdims": False}, label="complex Frobenius"),
    Sample((_Z,), {"axis": (1,), "keepdims": False}, label="complex rows"),
    Sample((complex_uniform((4,), seed=5),), {"axis": (0,), "keepdims": True},
           label="complex vector keepdims"),
]
SAMPLES["pinv"] += [
    Sample((complex_uniform((4, 3)),), {"rcond": 1e-12}, label="complex tall"),
    Sample((complex_uniform((2, 3), seed=1),), {"rcond": 1e-12}, label="complex wide"),
    Sample((complex_uniform((2, 3, 2), seed=2),), {"rcond": 1e-12}, label="complex batched"),
]


# ----- eig: general square matrices with distinct eigenvalues -------------------------------------
def with_eigenvalues(values, seed=0, complex_vectors=False):
    """V diag(values) V^{-1} for a random well-conditioned V: a matrix with those eigenvalues.
    A real block [[a, b], [-b, a]] stands for the conjugate pair a +- ib of a real matrix."""
    values = np.asarray(values)
    shape = values.shape[:-1] + (values.shape[-1],) * 2
    make = complex_well_conditioned if complex_vectors else well_conditioned
    v = make(shape, seed=seed)
    if values.dtype.kind == "c" and not complex_vectors:  # a real matrix: pairs as 2x2 blocks
        diagonal = np.zeros(shape)
        for i, value in enumerate(values):
            if value.imag > 0:
                diagonal[i:i + 2, i:i + 2] = [[value.real, value.imag], [-value.imag, value.real]]
            elif value.imag == 0:
                diagonal[i, i] = value.real
    else:
        diagonal = values[..., None, :] * np.eye(shape[-1])
    return v @ diagonal @ np.linalg.inv(v)


_EIG_INPUTS = [
    Sample((with_eigenvalues([1.0 + 2.0j, 1.0 - 2.0j, -1.5]),),
           label="real, a complex pair"),
    Sample((with_eigenvalues([3.0, -1.0, 0.5], seed=1),), label="real, real eigenvalues"),
    Sample((np.stack([with_eigenvalues([2.0, -1.0, 0.5j + 1, 1 - 0.5j], seed=2),
                      with_eigenvalues([0.5, 3.0, 1.0, -2.0], seed=3)]),),
           label="real batched"),
    Sample((with_eigenvalues([1.0 + 1.0j, -2.0 + 0.5j, 0.5 - 1.5j], seed=4,
                             complex_vectors=True),), label="complex"),
    Sample((complex_well_conditioned((2, 3, 3), seed=5),), label="complex batched"),
]
for _name in ("eig_values", "eig_vectors"):
    SAMPLES[_name] = list(_EIG_INPUTS)
