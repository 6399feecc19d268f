"""Dask arrays through chainrule: every transform keeps them lazy (a scheduler that refuses to run
proves nothing is computed behind the user's back), the results are Dask arrays equal to the
NumPy results, and a real `dask.distributed` LocalCluster with two worker processes computes
them. Expected values are NumPy's (the same functions on the same data in memory) and closed
forms for the logistic loss.
"""

import dask
import dask.array as da
import distributed
import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.errors import UnsupportedFunctionError

RNG = np.random.default_rng(0)
X_NP = RNG.standard_normal((400, 5))
Y_NP = (X_NP @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + 0.3 * RNG.standard_normal(400) > 0)
Y_NP = Y_NP.astype(float)
W = np.array([0.1, -0.2, 0.3, 0.0, 0.05])
V = np.arange(5.0) - 2.0


def _refuse_to_compute(*args, **kwargs):
    raise AssertionError("a Dask graph was computed behind the user's back")


@pytest.fixture
def lazy():
    """Inside this block any computation of a Dask graph fails the test."""
    with dask.config.set(scheduler=_refuse_to_compute):
        yield


def chunked(array, rows=100):
    return da.from_array(array, chunks=(rows,) + array.shape[1:])


def logistic_loss(w, X, y):
    z = X @ w
    return cnp.mean(cnp.logaddexp(0.0, z) - y * z)


def logistic_gradient_by_hand(w, X, y):
    """The closed form: X^T (sigmoid(X w) - y) / n."""
    p = 1 / (1 + np.exp(-(X @ w)))
    return X.T @ (p - y) / len(y)


def logistic_hvp_by_hand(w, X, v):
    p = 1 / (1 + np.exp(-(X @ w)))
    return X.T @ (p * (1 - p) * (X @ v)) / len(X)


def compute(value):
    return dask.compute(value, scheduler="threads")[0]


TRANSFORMS = {
    "grad": lambda X, y: cr.grad(logistic_loss)(W, X, y),
    "value_and_grad": lambda X, y: cr.value_and_grad(logistic_loss)(W, X, y)[1],
    "vjp": lambda X, y: cr.vjp(lambda w: X @ w, W)[1](y)[0],
    "jvp": lambda X, y: cr.jvp(lambda w: logistic_loss(w, X, y), (W,), (V,))[1],
    "hvp": lambda X, y: cr.hvp(lambda w: logistic_loss(w, X, y), W, V),
    "jacrev": lambda X, y: cr.jacrev(lambda w: cnp.sum(cnp.tanh(X @ w[:, None] * w), axis=0))(W),
    "jacfwd": lambda X, y: cr.jacfwd(lambda w: cnp.sum(cnp.tanh(X @ w[:, None] * w), axis=0))(W),
    "hessian": lambda X, y: cr.hessian(lambda w: logistic_loss(w, X, y))(W),
    "grad wrt data": lambda X, y: cr.grad(lambda X: cnp.sum(cnp.sin(X) * y[:, None]))(X),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transforms_stay_lazy_and_match_numpy(name, lazy):
    transform = TRANSFORMS[name]
    result = transform(chunked(X_NP), chunked(Y_NP))
    assert isinstance(result, da.Array), f"{name} returned {type(result).__name__}"
    with dask.config.set(scheduler="threads"):
        expected = transform(X_NP, Y_NP)
        np.testing.assert_allclose(compute(result), expected, rtol=1e-12, atol=1e-14)


def test_the_gradient_is_the_closed_form(lazy):
    g = cr.grad(logistic_loss)(W, chunked(X_NP), chunked(Y_NP))
    h = cr.hvp(lambda w: logistic_loss(w, chunked(X_NP), chunked(Y_NP)), W, V)
    with dask.config.set(scheduler="threads"):
        np.testing.assert_allclose(g.compute(), logistic_gradient_by_hand(W, X_NP, Y_NP),
                                   rtol=1e-12)
        np.testing.assert_allclose(h.compute(), logistic_hvp_by_hand(W, X_NP, V), rtol=1e-12)


def test_the_recorded_graph_does_not_grow_with_the_chunks(lazy):
    from chainrule.core.backward import topological_order

    sizes = []
    for rows in (200, 50, 10):  # 2, 8 and 40 chunks
        w = cr.tensor(W, requires_grad=True)
        loss = logistic_loss(w, chunked(X_NP, rows), chunked(Y_NP, rows))
        sizes.append(len(topological_order([loss._node])))
    assert sizes[0] == sizes[1] == sizes[2] < 10, sizes


def test_the_tensor_api(lazy):
    x = cr.tensor(chunked(X_NP), requires_grad=True)
    assert isinstance(x._value, da.Array)  # held lazily, not copied into memory
    assert "dask.array" in repr(x)  # printing computes nothing
    loss = cnp.sum(cnp.sin(x) ** 2)
    loss.backward()
    assert isinstance(x.grad._value, da.Array)
    with dask.config.set(scheduler="threads"):
        np.testing.assert_allclose(x.grad._value.compute(), 2 * np.sin(X_NP) * np.cos(X_NP),
                                   rtol=1e-13)


def test_a_model_with_numpy_parameters_on_dask_data(lazy):
    model = nn.Sequential(nn.Linear(5, 8, dtype=np.float64, rng=0), nn.Tanh(),
                          nn.Linear(8, 3, dtype=np.float64, rng=1))
    labels = (X_NP[:, 0] > 0).astype(np.int64) + (X_NP[:, 1] > 0)
    params = model.parameters_dict()

    def loss(p, X, labels):
        return nn.functional.cross_entropy(nn.functional_call(model, p, (X,)), labels)

    lazy_grads = cr.grad(loss)(params, chunked(X_NP), chunked(labels))
    assert all(isinstance(g, da.Array) for g in lazy_grads.values())
    with dask.config.set(scheduler="threads"):
        expected = cr.grad(loss)(params, X_NP, labels)
        for name, g in lazy_grads.items():
            np.testing.assert_allclose(g.compute(), expected[name], rtol=1e-12, err_msg=name)


def test_out_of_range_dask_labels_make_the_loss_nan_not_a_silent_zero(lazy):
    scores = cr.tensor(chunked(X_NP[:, :3]))
    labels = chunked(np.full(400, 7))
    loss = nn.functional.cross_entropy(scores, labels)
    with dask.config.set(scheduler="threads"):
        assert np.isnan(loss._value.compute())


def test_a_primitive_dask_lacks_names_map_blocks(lazy):
    with pytest.raises(UnsupportedFunctionError, match=r"det.*dask.*map_blocks"):
        cnp.linalg.det(cr.tensor(da.ones((3, 3), chunks=1)))


def test_python_control_flow_on_a_dask_value_is_where_it_computes():
    x = cr.tensor(chunked(X_NP))
    with dask.config.set(scheduler=_refuse_to_compute):
        with pytest.raises(AssertionError, match="behind the user's back"):
            bool(cnp.sum(x) > 0)  # documented: control flow, float(), .item() compute


@pytest.fixture(scope="module")
def cluster():
    """A real dask.distributed cluster: two worker processes on this machine."""
    local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None, silence_logs=50)
    client = distributed.Client(local)
    try:
        yield client
    finally:
        client.close()
        local.close()


def test_gradient_and_hvp_on_a_local_cluster(cluster):
    X, y = chunked(X_NP), chunked(Y_NP)
    g = cr.grad(logistic_loss)(W, X, y)
    h = cr.hvp(lambda w: logistic_loss(w, X, y), W, V)
    g, h = cluster.compute([g, h], sync=True)
    np.testing.assert_allclose(g, logistic_gradient_by_hand(W, X_NP, Y_NP), rtol=1e-12)
    np.testing.assert_allclose(h, logistic_hvp_by_hand(W, X_NP, V), rtol=1e-12)
    assert len(cluster.scheduler_info()["workers"]) == 2


def test_jit_of_a_function_of_dask_arrays_runs_it_as_plain_python(lazy):
    fast = cr.jit(cr.grad(logistic_loss))
    g = fast(W, chunked(X_NP), chunked(Y_NP))  # stays lazy: nothing staged, nothing computed
    assert isinstance(g, da.Array) and fast.cache_info().traces == 0
    with dask.config.set(scheduler="threads"):
        np.testing.assert_allclose(g.compute(), logistic_gradient_by_hand(W, X_NP, Y_NP),
                                   rtol=1e-12)


def test_vmap_refuses_dask_arrays_rather_than_computing_them(lazy):
    with pytest.raises(UnsupportedFunctionError, match="vmap.*dask.*map_blocks"):
        cr.vmap(lambda x: cnp.sum(x ** 2))(chunked(X_NP))


def test_nan_reductions_stay_lazy(lazy):
    data = X_NP.copy()
    data[3, 1] = np.nan
    x = cr.tensor(chunked(data))
    means = [cnp.nanmean(x, axis=0), cnp.nanvar(x, axis=0), cnp.nanmax(x, axis=0)]
    with dask.config.set(scheduler="threads"):
        for found, expected in zip(means, (np.nanmean(data, 0), np.nanvar(data, 0),
                                           np.nanmax(data, 0))):
            np.testing.assert_allclose(found._value.compute(), expected, rtol=1e-12)


def test_a_boolean_mask_index_of_a_dask_array_names_where(lazy):
    x = cr.tensor(chunked(X_NP))
    with pytest.raises(UnsupportedFunctionError, match=r"cnp.where\(mask, x, 0\)"):
        cr.grad(lambda x: cnp.sum(x[x > 0] ** 2))(chunked(X_NP))
    assert x is not None


def test_a_weighted_average_stays_lazy_and_a_value_decision_is_refused(lazy):
    weights = np.abs(X_NP)
    found = cr.grad(lambda x: cnp.sum(cnp.average(x, axis=0, weights=chunked(weights)) ** 2))(
        chunked(X_NP))
    with dask.config.set(scheduler="threads"):
        expected = cr.grad(lambda x: cnp.sum(cnp.average(x, axis=0, weights=weights) ** 2))(
            X_NP)
        np.testing.assert_allclose(found.compute(), expected, rtol=1e-12)
    from chainrule.numpy.statistics import _any

    with pytest.raises(UnsupportedFunctionError, match=r"compute the input first"):
        _any(chunked(X_NP) > 0)
