"""Samples for shape and indexing primitives."""

import numpy as np

from samples import Sample, uniform

_X = uniform((2, 3))

SAMPLES = {
    "reshape": [
        Sample((_X,), {"shape": (3, 2)}),
        Sample((_X,), {"shape": (6,)}, label="flatten"),
        Sample((np.array(0.7),), {"shape": (1, 1)}, label="0-d to (1, 1)"),
    ],
    "transpose": [
        Sample((_X,), {"axes": (1, 0)}),
        Sample((uniform((2, 1, 3)),), {"axes": (2, 0, 1)}, label="3-d"),
    ],
    "broadcast_to": [
        Sample((uniform((3,)),), {"shape": (2, 3)}),
        Sample((uniform((2, 1)),), {"shape": (2, 4)}, label="size-1 dim"),
        Sample((np.array(0.5),), {"shape": (2, 2)}, label="0-d"),
    ],
    "flip": [Sample((_X,), {"axis": (1,)}), Sample((_X,), {"axis": (0, 1)}, label="both")],
    "roll": [Sample((_X,), {"shift": 1, "axis": 1}), Sample((_X,), {"shift": (1, 2), "axis": (0, 1)})],
    "triu": [Sample((uniform((3, 3)),), {"k": 0}), Sample((uniform((2, 3, 4)),), {"k": 1}, label="batched")],
    "tril": [Sample((uniform((3, 3)),), {"k": 0}), Sample((uniform((3, 4)),), {"k": -1})],
    "concatenate": [
        Sample((_X, uniform((2, 2), seed=1)), {"axis": 1, "sizes": (3, 2)}),
        Sample((uniform((1, 3)), _X, uniform((1, 3), seed=2)), {"axis": 0, "sizes": (1, 2, 1)},
               label="three inputs"),
    ],
    "pad": [
        Sample((_X,), {"pad_width": ((1, 0), (2, 1)), "constant_values": 0.0}),
        Sample((uniform((3,)),), {"pad_width": ((2, 2),), "constant_values": 1.5}, label="constant 1.5"),
    ],
    "getitem": [
        Sample((_X,), {"index": (slice(None), 1)}, label="basic"),
        Sample((_X,), {"index": (np.array([0, 1, 1]), slice(None))}, label="advanced, repeated"),
        Sample((_X,), {"index": np.array([[True, False, True], [False, True, False]])}, label="boolean"),
        Sample((uniform((3,)),), {"index": (None, Ellipsis)}, label="newaxis"),
    ],
    "scatter_add": [
        Sample((uniform((2,)),), {"index": (np.array([0, 0]), np.array([1, 1])), "shape": (2, 3)},
               label="repeated index"),
        Sample((uniform((3,)),), {"index": (1, slice(None)), "shape": (2, 3)}, label="basic"),
    ],
    "setitem": [
        Sample((_X, uniform((3,), seed=3)), {"index": 0}),
        Sample((_X, np.array(0.5)), {"index": (slice(None), 2)}, label="broadcast value"),
    ],
}
