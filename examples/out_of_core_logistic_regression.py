"""Logistic regression on more rows than fit in memory: Dask arrays through chainrule.

The data (10^7 x 20 float64, 1.6 GB) is generated lazily, chunk by chunk, and never lives in one
process: each evaluation of the loss and its gradient is one Dask computation on a
`dask.distributed` cluster (a LocalCluster of two worker processes here; pass --scheduler
tcp://host:8786 for a remote one). chainrule records the small graph of primitives (a dozen
nodes, whatever the number of chunks); Dask holds the large graph of chunks. SciPy's L-BFGS
drives the fit with the exact gradient.

    python examples/out_of_core_logistic_regression.py            # 10^7 rows, about minutes
    python examples/out_of_core_logistic_regression.py --rows 200000 --chunk-rows 50000
"""

import argparse
import resource
import time

import dask
import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster
from scipy.optimize import minimize

import chainrule as cr
import chainrule.numpy as cnp

FEATURES = 20


def logistic_loss(w, X, y):
    """Mean negative log-likelihood of labels y in {0, 1} under P(y = 1) = sigmoid(X w[:-1] + b)."""
    z = X @ w[:-1] + w[-1]
    return cnp.mean(cnp.logaddexp(0.0, z) - y * z)


def make_data(rows, chunk_rows, seed=0):
    """Lazily generated features and labels: nothing is computed until a value is needed."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((rows, FEATURES), chunks=(chunk_rows, FEATURES))
    w_true = np.linspace(-1.0, 1.0, FEATURES)
    noise = rng.logistic(size=rows, chunks=chunk_rows)
    y = (X @ w_true + 0.5 + noise > 0).astype(np.float64)
    return X, y, w_true


def peak_memory_mb():
    """This (client) process's peak resident memory in MB (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--scheduler", help="address of a running scheduler (default: start a "
                        "LocalCluster of two worker processes)")
    parser.add_argument("--max-iter", type=int, default=50)
    args = parser.parse_args(argv)

    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    try:
        X, y, w_true = make_data(args.rows, args.chunk_rows)
        print(f"{args.rows:,} rows x {FEATURES} features ({X.nbytes / 1e9:.2f} GB, "
              f"{X.numblocks[0]} chunks), on {len(client.scheduler_info()['workers'])} workers")
        value_and_grad = cr.value_and_grad(logistic_loss)
        evaluations = []
        start = time.perf_counter()

        def objective(w):
            # one Dask computation for the loss and its gradient: the lazy results of chainrule
            value, gradient = value_and_grad(w, X, y)
            value, gradient = dask.compute(value, gradient)
            evaluations.append(float(value))
            print(f"  evaluation {len(evaluations):3d}: loss {float(value):.6f}, "
                  f"|grad| {np.linalg.norm(gradient):.2e}, {time.perf_counter() - start:.1f} s",
                  flush=True)
            return float(value), np.asarray(gradient, dtype=np.float64)

        result = minimize(objective, np.zeros(FEATURES + 1), jac=True, method="L-BFGS-B",
                          options={"maxiter": args.max_iter, "gtol": 1e-6})
        wall = time.perf_counter() - start
        w = result.x
        accuracy = float(((X @ w[:-1] + w[-1] > 0) == (y > 0.5)).mean().compute())
        print(f"done: {result.nit} iterations, {len(evaluations)} evaluations, loss "
              f"{result.fun:.6f}, accuracy {accuracy:.4f}, wall time {wall:.1f} s, client peak "
              f"memory {peak_memory_mb():.0f} MB")
        print(f"weights recovered within {np.abs(w[:-1] - w_true).max():.3f} of the true ones "
              f"(intercept {w[-1]:.3f}, true 0.5)")
        return {"result": result, "accuracy": accuracy, "wall": wall, "w_true": w_true,
                "peak_mb": peak_memory_mb(), "evaluations": evaluations}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
