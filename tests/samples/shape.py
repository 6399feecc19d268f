"""Samples for shape and indexing primitives."""

import numpy as np

from samples import Sample, complex_uniform, uniform

_X = uniform((2, 3))
_X3 = uniform((2, 3, 4), seed=6)

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
    "roll": [
        Sample((_X,), {"shift": 1, "axis": 1}),
        Sample((_X,), {"shift": (1, 2), "axis": (0, 1)}),
        Sample((_X,), {"shift": 2, "axis": None}, label="flattened"),
    ],
    "triu": [
        Sample((uniform((3, 3)),), {"k": 0}),
        Sample((uniform((2, 3, 4)),), {"k": 1}, label="batched"),
        Sample((uniform((3,)),), {"k": 0}, label="vector: a matrix of its copies"),
    ],
    "tril": [
        Sample((uniform((3, 3)),), {"k": 0}),
        Sample((uniform((3, 4)),), {"k": -1}),
        Sample((uniform((4,)),), {"k": 1}, label="vector: a matrix of its copies"),
    ],
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
        Sample((_X3,), {"index": (np.array([0, 1, 1]), slice(None), np.array([3, 0, 3]))},
               label="advanced indices apart"),
        Sample((_X3,), {"index": (1, slice(None), np.array([[2, 0], [1, 1]]))},
               label="an int and an array apart"),
        Sample((_X3,), {"index": (slice(None), np.array([True, False, True]), slice(1, None, 2))},
               label="a mask between slices"),
        Sample((uniform((2, 3, 2, 2), seed=7),),
               {"index": (slice(None), np.array([0, 2]), slice(None), np.array([1, 0]))},
               label="advanced indices apart, after a slice"),
        Sample((_X3,), {"index": (np.array([1, 0]), None, np.array([2, 2]))},
               label="advanced indices apart, a new axis between"),
    ],
    "scatter_add": [
        Sample((uniform((2,)),), {"index": (np.array([0, 0]), np.array([1, 1])), "shape": (2, 3)},
               label="repeated index"),
        Sample((uniform((3,)),), {"index": (1, slice(None)), "shape": (2, 3)}, label="basic"),
        Sample((uniform((2, 3)),), {"index": (np.array([0, 1]), slice(None), np.array([3, 3])),
                                    "shape": (2, 3, 4)}, label="advanced indices apart"),
        Sample((uniform((1,)),), {"index": (slice(None), 2), "shape": (3, 4)},
               label="broadcast updates"),
    ],
    "setitem": [
        Sample((_X, uniform((3,), seed=3)), {"index": 0}),
        Sample((_X, np.array(0.5)), {"index": (slice(None), 2)}, label="broadcast value"),
        Sample((_X3, uniform((2, 3), seed=4)),
               {"index": (np.array([1, 0]), slice(None), np.array([2, 3]))},
               label="advanced indices apart"),
        Sample((_X3, uniform((3,), seed=5)), {"index": (0, slice(None), np.array([1, 3]))},
               label="an int and an array apart, broadcast value"),
    ],
}

# ----- complex numbers (see samples/__init__.py): every shape and indexing row moves them ----------
_Z = complex_uniform((2, 3), seed=50)
_Z3 = complex_uniform((2, 3, 4), seed=51)
SAMPLES["reshape"].append(Sample((_Z,), {"shape": (3, 2)}, label="complex"))
SAMPLES["transpose"].append(Sample((_Z3,), {"axes": (2, 0, 1)}, label="complex"))
SAMPLES["broadcast_to"].append(Sample((complex_uniform((3,)),), {"shape": (2, 3)}, label="complex"))
SAMPLES["flip"].append(Sample((_Z,), {"axis": (0, 1)}, label="complex"))
SAMPLES["roll"].append(Sample((_Z,), {"shift": 1, "axis": 1}, label="complex"))
SAMPLES["triu"].append(Sample((complex_uniform((3, 3)),), {"k": 0}, label="complex"))
SAMPLES["tril"].append(Sample((complex_uniform((3, 4)),), {"k": -1}, label="complex"))
SAMPLES["concatenate"] += [
    Sample((_Z, complex_uniform((2, 2), seed=1)), {"axis": 1, "sizes": (3, 2)}, label="complex"),
    Sample((_Z, uniform((2, 2), seed=1)), {"axis": 1, "sizes": (3, 2)},
           label="complex and real"),
]
SAMPLES["pad"].append(
    Sample((_Z,), {"pad_width": ((1, 0), (2, 1)), "constant_values": 0.5 - 1j}, label="complex")
)
SAMPLES["getitem"] += [
    Sample((_Z,), {"index": (slice(None), 1)}, label="complex, basic"),
    Sample((_Z3,), {"index": (np.array([0, 1, 1]), slice(None), np.array([3, 0, 3]))},
           label="complex, advanced indices apart"),
]
SAMPLES["scatter_add"].append(
    Sample((complex_uniform((2,)),), {"index": (np.array([0, 0]), np.array([1, 1])),
                                      "shape": (2, 3)}, label="complex, repeated index")
)
SAMPLES["setitem"] += [
    Sample((_Z, complex_uniform((3,), seed=3)), {"index": 0}, label="complex"),
    # A real value written into a complex array: its cotangent is the real part.
    Sample((_Z3, uniform((3,), seed=5)), {"index": (0, slice(None), np.array([1, 3]))},
           label="complex array, real value"),
]
