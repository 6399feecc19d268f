"""Composite cases: array manipulation and creation (diff, kron, rot90, append, insert, delete,
r_/c_, block, stacking and splitting, linspace/logspace/geomspace with array endpoints,
select/piecewise/choose, put_along_axis, ...).

The sweep passes every argument through float64 (gradcheck promotes them), so integer and
boolean arguments (indices, conditions, shapes) are fixed inside the function, and the
arguments are the differentiable arrays only. Functions that return several arrays (split,
unstack, gradient along several axes) are checked through one array made of them, each piece
weighted differently so a piece put in the wrong place shows.
"""

import numpy as np

import chainrule.numpy as cnp
from composites import Case

RNG = np.random.default_rng(14)
V = RNG.uniform(-2.0, 2.0, 5)
W = RNG.uniform(-2.0, 2.0, 3)
M = RNG.uniform(-2.0, 2.0, (3, 4))
N = RNG.uniform(-2.0, 2.0, (2, 3))
T = RNG.uniform(-2.0, 2.0, (2, 3, 4))
SQUARE = RNG.uniform(-2.0, 2.0, (3, 3))
POS = RNG.uniform(0.5, 2.0, 4)
Z = RNG.uniform(-1.0, 1.0, 4) + 1j * RNG.uniform(-1.0, 1.0, 4)
TIES = np.array([1.0, 1.0, 0.0, 0.0, 2.0])
TRIM_MASK = np.array([0.0, 1.0, 0.0, 1.0, 0.0])
ZERO_D = np.array(0.7)
ONE = np.array([0.3])
COORDS = np.array([0.0, 0.4, 1.0, 1.7, 3.0])


def _joined(module, pieces):
    """One array from several: each piece scaled by its position, then joined flat."""
    return module.concatenate([module.ravel(p) * (i + 1.0) for i, p in enumerate(pieces)])


def _pieces(name, cnp_call, np_call, *args, label=""):
    """A case for a function returning several arrays (split, unstack, gradient...)."""
    return Case(
        name, lambda *a: _joined(cnp, cnp_call(*a)), args,
        reference=lambda *a: _joined(np, np_call(*a)), label=label,
    )


def _same(name, call, *args, label="", edge=False, **options):
    """A case whose reference is NumPy's function of the same name and call."""
    attribute = name.split(".", 1)[1]
    return Case(
        name, lambda *a: call(cnp, getattr(cnp, attribute), *a), args,
        reference=lambda *a: call(np, getattr(np, attribute), *a), label=label, edge=edge,
        **options,
    )


def _put_along_axis(arr, indices, values, axis):
    out = np.array(arr, copy=True)
    np.put_along_axis(out, indices, values, axis)
    return out


def _written(numpy_function, a, *args):
    out = np.array(a, copy=True)
    numpy_function(out, *args)
    return out


ORDER = np.array([[0, 2, 1, 1], [3, 0, 0, 2], [1, 1, 3, 0]])
PUT_ORDER = np.array([[0, 2], [3, 1], [1, 0]])
CHOICE = np.array([[0, 1, 2, 1], [2, 2, 0, 0], [1, 0, 1, 2]])
MASK = np.array([True, False, True, True, False])

CASES = [
    # ----- differences ---------------------------------------------------------------------
    _same("numpy.diff", lambda m, f, x: f(x), V),
    _same("numpy.diff", lambda m, f, x: f(x, n=2, axis=0), M, label="n=2 axis=0"),
    _same("numpy.diff", lambda m, f, x: f(x, n=3), M, label="n=3"),
    _same("numpy.diff", lambda m, f, x, p, a: f(x, prepend=p, append=a), V, W, W,
          label="prepend append arrays"),
    _same("numpy.diff", lambda m, f, x, p: f(x, axis=0, prepend=p), M, ZERO_D,
          label="0-d prepend"),
    _same("numpy.diff", lambda m, f, x: f(x), TIES, label="ties", edge=True),
    _same("numpy.diff", lambda m, f, x: f(x), Z, label="complex"),
    _same("numpy.diff", lambda m, f, x: f(x), ONE, label="size 1", edge=True),
    _same("numpy.ediff1d", lambda m, f, x, e: f(x, to_end=e), ONE, W, label="size 1",
          edge=True),
    _same("numpy.ediff1d", lambda m, f, x: f(x), M),
    _same("numpy.ediff1d", lambda m, f, x, b, e: f(x, to_end=e, to_begin=b), V, W, ZERO_D,
          label="to_begin to_end"),
    _same("numpy.gradient", lambda m, f, x: f(x), V),
    _same("numpy.gradient", lambda m, f, x: f(x, 0.5, edge_order=2), V, label="edge_order=2"),
    _same("numpy.gradient", lambda m, f, x, d: f(x, d), V, ZERO_D, label="spacing"),
    _same("numpy.gradient", lambda m, f, x, c: f(x, c), V, COORDS, label="coordinates"),
    _same("numpy.gradient", lambda m, f, x, c: f(x, c, edge_order=2), V, COORDS,
          label="coordinates edge_order=2"),
    _same("numpy.gradient", lambda m, f, x: f(x, axis=1), M, label="axis=1"),
    _same("numpy.gradient", lambda m, f, x: f(x[:2]), V, label="two points", edge=True),
    _pieces("numpy.gradient", lambda x: cnp.gradient(x, 2.0, [0.0, 1.0, 3.0, 3.5]),
            lambda x: np.gradient(x, 2.0, [0.0, 1.0, 3.0, 3.5]), M, label="2-d"),
    # ----- products and rotations ------------------------------------------------------------
    _same("numpy.kron", lambda m, f, a, b: f(a, b), N, SQUARE),
    _same("numpy.kron", lambda m, f, a, b: f(a, b), W, N, label="1-d with 2-d"),
    _same("numpy.kron", lambda m, f, a, b: f(a, b), ZERO_D, N, label="0-d", edge=True),
    _same("numpy.kron", lambda m, f, a, b: f(a, b), Z, Z[:2], label="complex"),
    _same("numpy.rot90", lambda m, f, x: f(x), M),
    _same("numpy.rot90", lambda m, f, x: f(x, 2), M, label="k=2"),
    _same("numpy.rot90", lambda m, f, x: f(x, -1, axes=(2, 0)), T, label="k=-1 axes=(2, 0)"),
    _same("numpy.rot90", lambda m, f, x: f(x, 4), M, label="k=4"),
    # ----- joining ---------------------------------------------------------------------------
    _same("numpy.append", lambda m, f, x, y: f(x, y), M, W),
    _same("numpy.append", lambda m, f, x, y: f(x, y, axis=0), M, M[:1], label="axis=0"),
    _same("numpy.insert", lambda m, f, x, v: f(x, 2, v), V, ZERO_D),
    _same("numpy.insert", lambda m, f, x, v: f(x, [1, 3, 3], v), V, W, label="indices"),
    _same("numpy.insert", lambda m, f, x, v: f(x, 1, v, axis=1), M, W, label="axis=1"),
    _same("numpy.insert", lambda m, f, x, v: f(x, [0, 4], v, axis=1), M, W[:, None],
          label="columns"),
    _same("numpy.insert", lambda m, f, x, v: f(x, slice(1, 4), v), V, W, label="slice"),
    _same("numpy.insert", lambda m, f, x, v: f(x, 4, v), Z, W[:2], label="at the end, complex",
          edge=True),
    _same("numpy.insert", lambda m, f, x, v: f(x, 0, v), ZERO_D, W, label="0-d", edge=True),
    _same("numpy.delete", lambda m, f, x: f(x, 1), V),
    _same("numpy.delete", lambda m, f, x: f(x, 0), ONE, label="everything", edge=True),
    _same("numpy.delete", lambda m, f, x: f(x, [0, 2], axis=1), M, label="axis=1"),
    _same("numpy.delete", lambda m, f, x: f(x, MASK), V, label="mask"),
    _same("numpy.delete", lambda m, f, x: f(x, slice(None, None, 2), axis=None), M,
          label="slice flattened"),
    Case("numpy.r_", lambda x, y: cnp.r_[x, 0.5, y, 1:3], (V, W),
         reference=lambda x, y: np.r_[x, 0.5, y, 1:3]),
    Case("numpy.r_", lambda x, y: cnp.r_["0,2,0", x, y], (V, V), label="directive",
         reference=lambda x, y: np.r_["0,2,0", x, y]),
    Case("numpy.r_", lambda x, y: cnp.r_["1", x, y], (M, N.T), label="axis directive",
         reference=lambda x, y: np.r_["1", x, y]),
    Case("numpy.c_", lambda x, y: cnp.c_[x, y, x], (W, W),
         reference=lambda x, y: np.c_[x, y, x]),
    Case("numpy.c_", lambda x, y: cnp.c_[x, y], (M, M), label="2-d",
         reference=lambda x, y: np.c_[x, y]),
    _same("numpy.block", lambda m, f, a, b, c, d: f([[a, b], [c, d]]), N, SQUARE[:2],
          M[:, :3], SQUARE),
    _same("numpy.block", lambda m, f, a, b: f([a, 2.0, b]), V, W, label="1-d and scalar"),
    _same("numpy.block", lambda m, f, a, b: f([[a], [b]]), W, V[:3], label="rows of 1-d"),
    _same("numpy.block", lambda m, f, a, b: f([[a, b]]), Z[:2], ZERO_D, label="complex, 0-d",
          edge=True),
    _same("numpy.dstack", lambda m, f, a, b: f([a, b]), N, N),
    _same("numpy.dstack", lambda m, f, a, b: f((a, b)), W, W, label="1-d"),
    _same("numpy.column_stack", lambda m, f, a, b, c: f([a, b, c]), W, M[:, :2], W),
    _same("numpy.hstack", lambda m, f, a, b: f([a, b]), ZERO_D, V, label="0-d"),
    _same("numpy.hstack", lambda m, f, a, b: f([a, b]), M, M[:, :1]),
    _same("numpy.vstack", lambda m, f, a, b: f([a, b]), M, M[0]),
    _same("numpy.stack", lambda m, f, a, b: f([a, b], axis=-1), M, M),
    _same("numpy.concat", lambda m, f, a, b: f([a, b], axis=1), M, M[:, :2]),
    _same("numpy.concat", lambda m, f, a, b: f([a, b], axis=None), M, V, label="axis=None"),
    # ----- ranges with array endpoints ---------------------------------------------------------
    _same("numpy.linspace", lambda m, f, a, b: f(a, b, 6), ZERO_D, np.array(2.5)),
    _same("numpy.linspace", lambda m, f, a, b: f(a, b, 4, axis=1), W, W + 1.0,
          label="array endpoints axis=1"),
    _same("numpy.linspace", lambda m, f, a, b: f(a, b, 5, endpoint=False), W, POS[:3],
          label="endpoint=False"),
    _same("numpy.linspace", lambda m, f, a, b: m.append(*f(a, b, 3, retstep=True)),
          ZERO_D, np.array(-1.0), label="retstep"),
    _same("numpy.linspace", lambda m, f, a, b: f(a, b, 1), W, POS[:3], label="one sample",
          edge=True),
    _same("numpy.linspace", lambda m, f, a, b: f(a, b, 4), ZERO_D, ZERO_D,
          label="start == stop", edge=True),
    _same("numpy.linspace", lambda m, f, a, b: f(a, b, 5), Z[:2], Z[2:], label="complex"),
    _same("numpy.geomspace", lambda m, f, a, b: f(a, b, 4), Z[:2], Z[2:] * 3.0,
          label="complex"),
    _same("numpy.logspace", lambda m, f, a, b: f(a, b, 5), ZERO_D, np.array(1.5)),
    _same("numpy.logspace", lambda m, f, a, b, c: f(a, b, 4, base=c, axis=-1), W, W + 0.5,
          POS[:3] + 1.0, label="array base"),
    _same("numpy.geomspace", lambda m, f, a, b: f(a, b, 5), np.array(0.5), np.array(8.0)),
    _same("numpy.geomspace", lambda m, f, a, b: f(a, b, 4, axis=1), -POS[:2], -POS[2:],
          label="negative endpoints axis=1"),
    _same("numpy.geomspace", lambda m, f, a, b: f(a, b, 4, endpoint=False), np.array(1.5),
          np.array(0.2), label="endpoint=False"),
    _same("numpy.meshgrid", lambda m, f, a, b: m.stack(f(a, b)), W, V),
    _same("numpy.meshgrid", lambda m, f, a, b: m.stack(f(a, b, indexing="ij")), W, V,
          label="ij"),
    _same("numpy.meshgrid", lambda m, f, a, b, c: m.stack(f(a, b, c)), W, V, POS,
          label="3 axes"),
    _same("numpy.vander", lambda m, f, x: f(x), V),
    _same("numpy.vander", lambda m, f, x: f(x, 3, increasing=True), np.r_[V, 0.0],
          label="N=3 increasing with 0", edge=True),
    _same("numpy.vander", lambda m, f, x: f(x), Z, label="complex"),
    # ----- shapes ----------------------------------------------------------------------------
    _same("numpy.atleast_1d", lambda m, f, x: f(x), ZERO_D, label="0-d", edge=True),
    _same("numpy.atleast_2d", lambda m, f, x: f(x), V),
    _same("numpy.atleast_3d", lambda m, f, x: f(x), V, label="1-d"),
    _same("numpy.atleast_3d", lambda m, f, x: f(x), M, label="2-d"),
    _same("numpy.atleast_3d", lambda m, f, x: f(x), ZERO_D, label="0-d", edge=True),
    _same("numpy.rollaxis", lambda m, f, x: f(x, 2), T),
    _same("numpy.rollaxis", lambda m, f, x: f(x, 0, 3), T, label="to the end"),
    _same("numpy.moveaxis", lambda m, f, x: f(x, [0, 1], [-1, 0]), T),
    _same("numpy.swapaxes", lambda m, f, x: f(x, 0, -1), T),
    _same("numpy.permute_dims", lambda m, f, x: f(x, (1, 2, 0)), T),
    _same("numpy.matrix_transpose", lambda m, f, x: f(x), T),
    _same("numpy.expand_dims", lambda m, f, x: f(x, (0, -1)), M),
    _same("numpy.squeeze", lambda m, f, x: f(x, axis=1), M[:, :1]),
    _same("numpy.broadcast_to", lambda m, f, x: f(x, (3, 2, 5)), V),
    _same("numpy.broadcast_arrays", lambda m, f, x, y: m.stack(f(x, y)), W[:, None], V),
    _same("numpy.tile", lambda m, f, x: f(x, (2, 1, 2)), N),
    _same("numpy.repeat", lambda m, f, x: f(x, [1, 0, 3], axis=0), M),
    _same("numpy.repeat", lambda m, f, x: f(x, 2), N, label="flattened"),
    _same("numpy.resize", lambda m, f, x: f(x, (3, 4)), V),
    _same("numpy.resize", lambda m, f, x: f(x, 3), M, label="smaller"),
    # The zeros are made inside (x times a fixed mask), so finite differences keep them zeros;
    # under vmap the result's shape would depend on each example's values (refused).
    _same("numpy.trim_zeros", lambda m, f, x: f(x * TRIM_MASK), V, batch=False),
    _same("numpy.trim_zeros", lambda m, f, x: f(x * TRIM_MASK, "b"), V, label="back",
          batch=False),
    _same("numpy.trim_zeros", lambda m, f, x: f(x * (M > 0.5)), M, label="2-d", batch=False),
    _same("numpy.trim_zeros", lambda m, f, x: f(0.0 * x), V, label="all zeros", edge=True,
          batch=False),
    _same("numpy.flipud", lambda m, f, x: f(x), M),
    _same("numpy.fliplr", lambda m, f, x: f(x), T),
    _same("numpy.pad", lambda m, f, x: f(x, ((1, 2), (3, 0)), mode="edge"), N),
    _same("numpy.pad", lambda m, f, x: f(x, 2, mode="reflect"), W, label="reflect"),
    _same("numpy.pad", lambda m, f, x: f(x, (4, 1), mode="symmetric"), W, label="symmetric"),
    _same("numpy.pad", lambda m, f, x: f(x, 3, mode="wrap"), N, label="wrap"),
    _same("numpy.pad", lambda m, f, x: f(x, ((1, 2), (2, 1)), mode="mean", stat_length=2), M,
          label="mean"),
    _same("numpy.pad", lambda m, f, x: f(x, 2, mode="maximum"), N, label="maximum"),
    _same("numpy.pad", lambda m, f, x: f(x, (1, 2), mode="minimum", stat_length=(1, 3)), M,
          label="minimum"),
    _same("numpy.pad", lambda m, f, x: f(x, 2, mode="median"), W, label="median"),
    _same("numpy.pad", lambda m, f, x, e: f(x, ((2, 1), (1, 3)), mode="linear_ramp",
                                            end_values=e), N, ZERO_D, label="linear_ramp"),
    _pieces("numpy.split", lambda x: cnp.split(x, [1, 3], axis=1),
            lambda x: np.split(x, [1, 3], axis=1), M),
    _pieces("numpy.split", lambda x: cnp.split(x, 3), lambda x: np.split(x, 3), M,
            label="sections"),
    _pieces("numpy.array_split", lambda x: cnp.array_split(x, 3), lambda x: np.array_split(x, 3),
            V),
    _pieces("numpy.array_split", lambda x: cnp.array_split(x, [-2, 1, 7]),
            lambda x: np.array_split(x, [-2, 1, 7]), V, label="unordered indices"),
    _pieces("numpy.hsplit", lambda x: cnp.hsplit(x, 2), lambda x: np.hsplit(x, 2), M),
    _pieces("numpy.vsplit", lambda x: cnp.vsplit(x, [1]), lambda x: np.vsplit(x, [1]), M),
    _pieces("numpy.dsplit", lambda x: cnp.dsplit(x, 2), lambda x: np.dsplit(x, 2), T),
    _pieces("numpy.unstack", lambda x: cnp.unstack(x, axis=1), lambda x: np.unstack(x, axis=1),
            T),
    # ----- picking and writing entries ---------------------------------------------------------
    _same("numpy.select", lambda m, f, x, y: f([x > 0.5, x < -0.5], [x, y], default=-x), V,
          V[::-1]),
    _same("numpy.select", lambda m, f, x: f([x > 0, x > 1], [x ** 2, 3.0]), M,
          label="scalar choice and default"),
    _same("numpy.select", lambda m, f, x, y: f([x > 0, y > 0], [x, y]), TIES - 0.5,
          TIES[::-1] - 0.5, label="overlapping conditions"),
    Case("numpy.piecewise",
         lambda x: cnp.piecewise(x, [x < 0, x >= 0], [lambda v: v ** 2, lambda v: 3.0 * v]),
         (V,), reference=lambda x: np.piecewise(x, [x < 0, x >= 0],
                                                [lambda v: v ** 2, lambda v: 3.0 * v])),
    Case("numpy.piecewise",
         lambda x: cnp.piecewise(x, [x < -1, x > 1], [lambda v: -v, 0.5, cnp.sin]),
         (M,), label="otherwise and constant",
         reference=lambda x: np.piecewise(x, [x < -1, x > 1], [lambda v: -v, 0.5, np.sin])),
    Case("numpy.piecewise",
         lambda x: cnp.piecewise(x, [MASK], [cnp.exp, cnp.cos]), (V,), label="fixed mask",
         reference=lambda x: np.piecewise(x, [MASK], [np.exp, np.cos])),
    Case("numpy.piecewise",
         lambda x, s: cnp.piecewise(x, x > 0, [lambda v, k: k * v, lambda v, k: v], s),
         (V, ZERO_D), label="extra arguments",
         reference=lambda x, s: np.piecewise(x, x > 0, [lambda v, k: k * v, lambda v, k: v],
                                             s)),
    _same("numpy.choose", lambda m, f, a, b, c: f(CHOICE, [a, b, c]), M, M[::-1], W[:, None]),
    _same("numpy.choose", lambda m, f, a, b: f(CHOICE + 1, [a, b], mode="clip"), M, V[:4],
          label="clip"),
    _same("numpy.choose", lambda m, f, a, b: f(CHOICE, [a, b], mode="wrap"), M, M[:, ::-1],
          label="wrap"),
    _same("numpy.compress", lambda m, f, x: f([True, False, True], x, axis=0), M),
    _same("numpy.compress", lambda m, f, x: f(MASK[:3], x), M, label="flattened"),
    _same("numpy.extract", lambda m, f, x: f(M > 0, x), M),
    _same("numpy.take", lambda m, f, x: f(x, [[0, 2], [1, 1]], axis=1), M),
    _same("numpy.take", lambda m, f, x: f(x, [-1, 7, 3], mode="wrap"), M, label="wrap"),
    _same("numpy.take", lambda m, f, x: f(x, [-1, 7, 3], mode="clip"), V, label="clip"),
    _same("numpy.take_along_axis", lambda m, f, x: f(x, ORDER, axis=1), M),
    _same("numpy.take_along_axis", lambda m, f, x: f(x, ORDER[:, :1]), M, label="axis=-1"),
    Case("numpy.put_along_axis",
         lambda x, v: cnp.put_along_axis(x, PUT_ORDER, v, 1, inplace=False), (M, N.T),
         reference=lambda x, v: _put_along_axis(x, PUT_ORDER, v, 1)),
    Case("numpy.put_along_axis",
         lambda x, v: cnp.put_along_axis(x, ORDER[:, :2], v, 1, inplace=False), (M, ZERO_D),
         label="repeated index, scalar value", edge=True,
         reference=lambda x, v: _put_along_axis(x, ORDER[:, :2], v, 1)),
    Case("numpy.put_along_axis",
         lambda x, v: cnp.put_along_axis(x, np.array([0, 5, 11]), v, None, inplace=False),
         (M, W), label="axis=None",
         reference=lambda x, v: _written(np.put, x, [0, 5, 11], v)),
    Case("numpy.put", lambda x, v: cnp.put(x, [0, 5, -1, 5], v, inplace=False), (M, W[:2]),
         reference=lambda x, v: _written(np.put, x, [0, 5, -1, 5], v)),
    Case("numpy.put", lambda x, v: cnp.put(x, [2, 9], v, mode="clip", inplace=False), (V, W),
         label="clip", reference=lambda x, v: _written(np.put, x, [2, 9], v, "clip")),
    Case("numpy.place", lambda x, v: cnp.place(x, MASK, v, inplace=False), (V, W[:2]),
         reference=lambda x, v: _written(np.place, x, MASK, v)),
    Case("numpy.fill_diagonal", lambda x, v: cnp.fill_diagonal(x, v, inplace=False),
         (M, W[:2]), reference=lambda x, v: _written(np.fill_diagonal, x, v)),
    Case("numpy.fill_diagonal", lambda x, v: cnp.fill_diagonal(x, v, wrap=True, inplace=False),
         (np.vstack([M, M]).T, ZERO_D), label="tall, wrap",
         reference=lambda x, v: _written(np.fill_diagonal, x, v, True)),
    # ----- sorting and sets ------------------------------------------------------------------
    _same("numpy.sort_complex", lambda m, f, z: f(z), Z),
    _same("numpy.sort_complex", lambda m, f, x: f(x), M, label="real"),
    _same("numpy.sort_complex", lambda m, f, z: f(z), np.stack([Z, Z[::-1]]), label="2-d"),
    # Repeated values are made inside, so finite differences keep them equal; the results'
    # lengths depend on the values (refused under vmap).
    _same("numpy.union1d", lambda m, f, a, b: f(m.concatenate([a, a[:2]]), b), V, W,
          batch=False),
    _same("numpy.intersect1d", lambda m, f, a, b: f(a, m.concatenate([b, a[[1, 3]]])), V, W,
          batch=False),
    _same("numpy.setdiff1d", lambda m, f, a, b: f(m.concatenate([a, a[:2]]), a[[0, 4]]), V, W,
          batch=False),
    _same("numpy.setxor1d", lambda m, f, a, b: f(a, m.concatenate([b, a[:2]])), V, W,
          batch=False),
    # ----- applying functions ------------------------------------------------------------------
    _same("numpy.apply_along_axis", lambda m, f, x: f(lambda v: m.cumsum(v) * v[0], 1, x), T),
    _same("numpy.apply_along_axis", lambda m, f, x: f(lambda v: m.outer(v, v[:2]), 0, x), M,
          label="2-d results"),
    _same("numpy.apply_over_axes", lambda m, f, x: f(m.sum, x, [0, 2]), T),
    # A Python branch on each entry, as NumPy's vectorize allows (under vmap it would need one
    # number per example: refused, as for any Python branch).
    _same("numpy.vectorize", lambda m, f, x, y: f(lambda a, b: a * b if a > 0 else a - b)(x, y),
          M, V[:4], batch=False),
    _same("numpy.vectorize", lambda m, f, x: f(lambda a: m.exp(a) * a)(x), W, label="vmapped"),
    _same("numpy.vectorize",
          lambda m, f, x, y: f(lambda a, b: a @ b, signature="(m,n),(n)->(m)")(x, y), T, V[:4],
          label="signature"),
    _same("numpy.vectorize", lambda m, f, x: m.stack(f(lambda a: (a, m.sin(a)))(x)), W,
          label="two outputs"),
]
