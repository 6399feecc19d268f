"""Samples for reductions: axis as a tuple (as chainrule.numpy passes it), keepdims both ways."""

import numpy as np

from samples import Sample, complex_uniform, complexified, edge, uniform

_X = uniform((2, 3, 4))


def _axis_variants(array):
    return [
        Sample((array,), {"axis": (0, 1, 2), "keepdims": False}, label="all axes"),
        Sample((array,), {"axis": (1,), "keepdims": False}, label="axis 1"),
        Sample((array,), {"axis": (0, 2), "keepdims": True}, label="axes (0, 2) keepdims"),
        Sample((uniform((1, 3), seed=3),), {"axis": (0,), "keepdims": False}, label="size-1 axis"),
        Sample((np.array(1.3),), {"axis": (), "keepdims": False}, label="0-d"),
    ]


def _softmax_samples():
    return [
        Sample((_X,), {"axis": (2,)}, label="last axis"),
        Sample((_X,), {"axis": (0, 2)}, label="axes (0, 2)"),
        Sample((uniform((4,), seed=1),), {"axis": (0,)}, label="1-d"),
        Sample((np.array(0.4),), {"axis": ()}, label="0-d"),
        edge((np.array([[0.0, 40.0, -3.0], [35.0, 0.5, 1.0]]),), {"axis": (1,)},
             label="one entry dominates"),
        edge((np.array([[1.0, 1.0, 0.2], [2.0, -1.0, 2.0]]),), {"axis": (1,)}, label="ties"),
    ]


SAMPLES = {
    "sum": _axis_variants(_X),
    "prod": _axis_variants(uniform((2, 3, 4), 0.5, 1.5))
    + [
        edge((np.array([[1.2, 0.0, 0.7], [0.5, 0.9, 1.1]]),), {"axis": (1,), "keepdims": False},
             label="a zero"),
        edge((np.array([[2.0, 0.0, 3.0, 0.0], [0.0, 1.5, -0.5, 2.0]]),),
             {"axis": (1,), "keepdims": False}, label="two zeros in a group"),
        edge((np.array([[0.0, 1.3], [-0.8, 0.6]]),), {"axis": (0, 1), "keepdims": True},
             label="a zero, all axes"),
    ],
    "logsumexp": _axis_variants(_X)
    + [
        Sample((np.array([[1e4, 1e4 - 1.0], [-3.0, 2.0]]),), {"axis": (1,), "keepdims": False},
               label="magnitude 1e4"),
        edge((np.array([[0.0, 40.0], [-3.0, 37.0]]),), {"axis": (1,), "keepdims": False},
             label="one entry dominates"),
        edge((np.array([[1.0, 1.0, 1.0], [2.0, 2.0, -1.0]]),), {"axis": (1,), "keepdims": False},
             label="ties"),
    ],
    "cumsum": [
        Sample((_X,), {"axis": 1}),
        Sample((uniform((5,)),), {"axis": 0}, label="1-d"),
    ],
    "cumprod": [
        Sample((uniform((2, 3), 0.5, 1.5),), {"axis": 1}),
        Sample((uniform((4,), 0.5, 1.5),), {"axis": 0}, label="1-d"),
        edge((np.array([2.0, 0.0, 3.0, 4.0]),), {"axis": 0}, label="a zero"),
        edge((np.array([[1.5, 0.0, 2.0, -0.5, 0.0], [0.0, 0.0, 3.0, 1.1, -2.0]]),), {"axis": 1},
             label="several zeros"),
        edge((np.array([[0.5, 2.0], [0.0, 3.0], [1.2, 0.0]]),), {"axis": 0}, label="axis 0"),
    ],
    # A tie for the largest entry is a kink: the cotangent is split evenly between the ties.
    "amax": _axis_variants(_X)
    + [edge((np.array([1.0, 3.0, 3.0, 2.0]),), {"axis": (0,), "keepdims": False},
            label="a tie", convention=np.array([0.0, 0.5, 0.5, 0.0]))],
    "amin": _axis_variants(_X)
    + [edge((np.array([[2.0, 1.0, 1.0], [0.5, 4.0, 3.0]]),), {"axis": (1,), "keepdims": False},
            label="a tie", convention=np.array([[[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]],
                                                [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]]))],
    "softmax": _softmax_samples(),
    "log_softmax": _softmax_samples(),
    "argmax": [Sample((_X,), {"axis": 1, "keepdims": False})],
    "argmin": [
        Sample((_X,), {"axis": None, "keepdims": False}),
        Sample((_X,), {"axis": None, "keepdims": True}, label="flattened, keepdims"),
    ],
    "argsort": [Sample((_X,), {"axis": -1, "stable": True})],
}

# ----- complex numbers (see samples/__init__.py) -------------------------------------------------
# The ordering reductions (amax, amin, argmax, argmin, argsort) and the softmax family refuse
# complex numbers (the sweep's REFUSES_COMPLEX); the sums and products take them.
_Z = complex_uniform((2, 3, 4), seed=40)
SAMPLES["sum"] += [
    Sample((_Z,), {"axis": (1,), "keepdims": False}, label="complex, axis 1"),
    Sample((_Z,), {"axis": (0, 2), "keepdims": True}, label="complex, axes (0, 2) keepdims"),
]
SAMPLES["prod"] += [
    Sample((complex_uniform((2, 3, 4), 0.5, 1.2, seed=41, imag=0.5),),
           {"axis": (2,), "keepdims": False}, label="complex"),
    edge((complexified(np.array([[1.2, 0.0, 0.7], [0.5, 0.9, 1.1]]), seed=42)
          * np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]),),
         {"axis": (1,), "keepdims": False}, label="complex, a zero"),
]
SAMPLES["cumsum"].append(Sample((_Z,), {"axis": 2}, label="complex"))
SAMPLES["cumprod"] += [
    Sample((complex_uniform((2, 4), 0.5, 1.5, seed=43, imag=0.5),), {"axis": 1},
           label="complex"),
    edge((complexified(np.array([2.0, 0.0, 3.0, 0.5]), seed=44) * np.array([1, 0, 1, 1]),),
         {"axis": 0}, label="complex, a zero"),
]
