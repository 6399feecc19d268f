"""Issue #17's case: the gradient of a logistic loss over 10^7 x 20 lazily generated Dask rows on a
LocalCluster of two worker processes, by chainrule (cr.grad of the loss written with
chainrule.numpy) against the same gradient written out by hand in dask.array (X^T (sigmoid(X w)
- y) / n), each computed with one `.compute()` on the same cluster. Rows: 10^7, or the
CHAINRULE_BENCH_DASK_ROWS environment variable.
"""

import os

import numpy as np

from bench.harness import Case, Unavailable

__all__ = ["CASES"]

ROWS = int(os.environ.get("CHAINRULE_BENCH_DASK_ROWS", 10_000_000))
CHUNK_ROWS = 250_000
_CLUSTER = {}


def _client():
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise Unavailable("dask.distributed is not installed (pip install 'chainrule[dask]')") \
            from exc
    if "client" not in _CLUSTER:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        _CLUSTER["client"] = Client(cluster)
    return _CLUSTER["client"]


def _data():
    import dask.array as da

    rng = da.random.default_rng(0)
    X = rng.standard_normal((ROWS, 20), chunks=(CHUNK_ROWS, 20))
    y = (X @ np.linspace(-1, 1, 20) + rng.logistic(size=ROWS, chunks=CHUNK_ROWS) > 0)
    return X, y.astype(np.float64), np.linspace(0.5, -0.5, 20)


def _chainrule():
    import chainrule as cr
    import chainrule.numpy as cnp

    client = _client()
    X, y, w = _data()

    def loss(w):
        z = X @ w
        return cnp.mean(cnp.logaddexp(0.0, z) - y * z)

    def step():
        return client.compute(cr.grad(loss)(w), sync=True)

    from chainrule.core.backward import topological_order

    recorded = len(topological_order([loss(cr.tensor(w, requires_grad=True))._node]))
    step.note = (f"{ROWS:,} rows in {X.numblocks[0]} chunks; chainrule's recorded graph: "
                 f"{recorded} nodes (the same for any number of chunks)")
    return step


def _by_hand():
    client = _client()
    X, y, w = _data()

    def step():
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        return client.compute(X.T @ (p - y) / X.shape[0], sync=True)

    return step


CASES = [
    Case(
        key="dask-logistic",
        title="gradient of a logistic loss, 10^7 x 20 Dask rows on a LocalCluster (2 processes)",
        builders={"chainrule": _chainrule, "dask-by-hand": _by_hand},
        targets={"dask-by-hand": 1.5},
        unit="gradient",
        rounds=3,
        rtol=1e-9,
        note="target: at most 1.5x the gradient written by hand in dask.array, same cluster",
    ),
]
