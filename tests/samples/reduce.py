"""Samples for reductions: axis as a tuple (as chainrule.numpy passes it), keepdims both ways."""

import numpy as np

from samples import Sample, uniform

_X = uniform((2, 3, 4))


def _axis_variants(array):
    return [
        Sample((array,), {"axis": (0, 1, 2), "keepdims": False}, label="all axes"),
        Sample((array,), {"axis": (1,), "keepdims": False}, label="axis 1"),
        Sample((array,), {"axis": (0, 2), "keepdims": True}, label="axes (0, 2) keepdims"),
        Sample((uniform((1, 3), seed=3),), {"axis": (0,), "keepdims": False}, label="size-1 axis"),
        Sample((np.array(1.3),), {"axis": (), "keepdims": False}, label="0-d"),
    ]


SAMPLES = {
    "sum": _axis_variants(_X),
    "amax": _axis_variants(_X),
    "amin": _axis_variants(_X),
    "prod": _axis_variants(uniform((2, 3, 4), 0.5, 1.5))
    + [Sample((np.array([[1.2, 0.0, 0.7], [0.5, 0.9, 1.1]]),), {"axis": (1,), "keepdims": False},
              label="with a zero")],
    "logsumexp": _axis_variants(_X)
    + [Sample((np.array([[1e4, 1e4 - 1.0], [-3.0, 2.0]]),), {"axis": (1,), "keepdims": False},
              label="magnitude 1e4")],
    "cumsum": [
        Sample((_X,), {"axis": 1}),
        Sample((uniform((5,)),), {"axis": 0}, label="1-d"),
    ],
    "cumprod": [
        Sample((uniform((2, 3), 0.5, 1.5),), {"axis": 1}),
        Sample((uniform((4,), 0.5, 1.5),), {"axis": 0}, label="1-d"),
    ],
    "argmax": [Sample((_X,), {"axis": 1, "keepdims": False})],
    "argmin": [Sample((_X,), {"axis": None, "keepdims": False})],
    "argsort": [Sample((_X,), {"axis": -1, "stable": True})],
}
