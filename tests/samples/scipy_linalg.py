"""Samples for the rows of chainrule/ops/scipy_linalg.py (expm, logm, sqrtm, sylvester,
solve_triangular, lu_factor). Importing chainrule.scipy.linalg registers them, so the sweep
finds them here. Matrices stay where each function is differentiable: logm and sqrtm away from
the negative real axis and from zero eigenvalues, LU away from ties between pivot candidates.
Edge points: zero, identity and defective (Jordan block) matrices, a matrix exp needs many
squarings for, pivoting, a zero diagonal that unit_diagonal ignores, a zero right-hand side."""

import numpy as np

import chainrule.scipy.linalg  # noqa: F401 - registers the rows
from samples import Sample, complex_uniform, edge, uniform
from samples.linalg import spd, well_conditioned

JORDAN = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]])  # defective


def _complex_well_conditioned(shape, seed=0):
    n = shape[-1]
    return complex_uniform(shape, -1.0, 1.0, seed=seed, imag=0.5) + n * np.eye(n)


def _triangular(lower, trans, unit_diagonal=False, seed=0, shape=(3, 3), rhs=(3, 2)):
    a = well_conditioned(shape, seed=seed)
    b = uniform(rhs, seed=seed + 1)
    params = {"trans": trans, "lower": lower, "unit_diagonal": unit_diagonal}
    kind = ("lower" if lower else "upper") + (" transposed" if trans else "")
    return Sample((a, b), params, label=kind + (", unit diagonal" if unit_diagonal else ""))


def _pivoting():
    """Partial pivoting swaps rows (a zero at [0, 0]); no two pivot candidates tie."""
    return np.array([[0.0, 2.0, 1.0], [1.0, 0.5, 2.0], [3.0, 1.0, 0.3]])


JORDAN_2 = np.array([[2.0, 1.0], [0.0, 2.0]])


SAMPLES = {
    "expm": [
        Sample((uniform((3, 3), -1.0, 1.0),), label="3x3"),
        Sample((uniform((2, 2, 2), -1.0, 1.0, seed=1),), label="stack"),
        Sample((complex_uniform((2, 2), -1.0, 1.0, seed=2),), label="complex"),
        edge((np.zeros((2, 2)),), label="zero matrix"),
        edge((np.array([[0.0, 1.0], [0.0, 0.0]]),), label="nilpotent"),
        edge((JORDAN,), label="Jordan block"),
        edge((4.0 * uniform((2, 2), -1.0, 1.0, seed=3),), label="large norm, many squarings"),
    ],
    # SciPy's logm takes milliseconds even for 2x2 (inverse scaling and squaring in Python):
    # small samples keep the sweep quick.
    "logm": [
        Sample((well_conditioned((2, 2)),), label="2x2"),
        Sample((spd((2, 2, 2), seed=1),), label="stack of SPD"),
        Sample((_complex_well_conditioned((2, 2), seed=2),), label="complex"),
        edge((np.eye(2),), label="identity"),
        edge((JORDAN_2,), label="Jordan block"),
    ],
    "sqrtm": [
        Sample((well_conditioned((3, 3)),), label="3x3"),
        Sample((spd((2, 2, 2), seed=1),), label="stack of SPD"),
        Sample((_complex_well_conditioned((2, 2), seed=2),), label="complex"),
        edge((np.eye(2),), label="identity"),
        edge((JORDAN,), label="Jordan block"),
        edge((np.diag([4.0, 4.0, 1.0]),), label="repeated eigenvalue"),
    ],
    "sylvester": [
        Sample((well_conditioned((3, 3)), well_conditioned((2, 2), seed=1),
                uniform((3, 2), seed=2)), label="3x3, 2x2"),
        Sample((well_conditioned((2, 2, 2), seed=3), well_conditioned((2, 2), seed=4),
                uniform((2, 2), seed=5)), label="stack"),
        Sample((_complex_well_conditioned((2, 2), seed=6), _complex_well_conditioned((2, 2), 7),
                complex_uniform((2, 2), seed=8)), label="complex"),
        edge((well_conditioned((2, 2)), well_conditioned((2, 2), seed=1), np.zeros((2, 2))),
             label="zero right-hand side"),
        edge((np.eye(2), np.eye(2), uniform((2, 2), seed=9)), label="identities"),
    ],
    "solve_triangular": [
        _triangular(True, 0),
        _triangular(False, 1, unit_diagonal=True, seed=1),
        Sample((well_conditioned((2, 3, 3), seed=4), uniform((3, 1), seed=5)),
               {"trans": 0, "lower": False, "unit_diagonal": False}, label="stack of a"),
        Sample((_complex_well_conditioned((3, 3), seed=6), complex_uniform((3, 2), seed=7)),
               {"trans": 1, "lower": True, "unit_diagonal": False}, label="complex"),
        edge((np.tril(uniform((3, 3), seed=8), -1), uniform((3, 2), seed=9)),
             {"trans": 0, "lower": True, "unit_diagonal": True},
             label="zero diagonal, read as ones"),
        edge((well_conditioned((3, 3), seed=10), np.zeros((3, 2))),
             {"trans": 1, "lower": False, "unit_diagonal": False}, label="zero right-hand side"),
    ],
    "lu_factor": [
        Sample((well_conditioned((3, 3)),), label="3x3"),
        Sample((well_conditioned((2, 2, 2), seed=1),), label="stack"),
        Sample((_complex_well_conditioned((3, 3), seed=2),), label="complex"),
        edge((_pivoting(),), label="pivoting"),
        edge((np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]),),
             label="permutation matrix"),
    ],
}
