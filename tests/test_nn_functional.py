"""Modules inside functional transforms: nn.functional_call, parameters_dict, Modules as
pytrees, and the layers that behave differently under cr.vmap (Dropout, BatchNorm)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.numpy as cnp
from chainrule.errors import BatchingError, ShapeError
from chainrule.nn import functional as F


def _mlp(seed=0, sizes=(5, 7, 3)):
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out, rng=rng, dtype=np.float64), nn.Tanh()]
    return nn.Sequential(*layers[:-1])


def _data(n=6, features=5, classes=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)), rng.integers(0, classes, n)


def _central_differences(function, x, eps=1e-6):
    """d function(x) / dx by central differences; function returns an array of any shape."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        plus, minus = np.asarray(function(x + step)), np.asarray(function(x - step))
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(np.shape(columns[0]) + x.shape)


def _loss(model):
    def loss(params, x, y):
        return F.cross_entropy(nn.functional_call(model, params, (x,)), y)

    return loss


# ----- functional_call ---------------------------------------------------------------------------
def test_functional_call_with_the_modules_own_parameters_equals_calling_it():
    model = _mlp()
    x, _ = _data()
    with cr.no_grad():
        expected = model(x).numpy()
    np.testing.assert_array_equal(nn.functional_call(model, model.parameters_dict(), (x,)),
                                  expected)


def test_functional_call_with_other_values_equals_a_model_holding_them():
    model, other = _mlp(seed=0), _mlp(seed=5)
    x, _ = _data()
    out = nn.functional_call(model, other.parameters_dict(), x)  # a non-tuple: one argument
    with cr.no_grad():
        np.testing.assert_allclose(out, other(x).numpy(), rtol=1e-12)
        assert not np.allclose(out, model(x).numpy())  # the module itself is unchanged


def test_functional_call_passes_keyword_arguments_and_takes_a_tuple_of_dicts():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 2, rng=0, dtype=np.float64)
            self.register_buffer("offset", np.zeros(2))

        def forward(self, x, scale=1.0):
            return scale * self.linear(x) + self.offset

    model = Scaled()
    params, buffers = model.parameters_dict(), {"offset": np.array([1.0, -1.0])}
    x = np.ones((1, 2))
    out = nn.functional_call(model, (params, buffers), (x,), {"scale": 2.0})
    with cr.no_grad():
        expected = 2.0 * model.linear(x).numpy() + np.array([1.0, -1.0])
    np.testing.assert_allclose(out, expected)
    np.testing.assert_array_equal(model.offset, np.zeros(2))  # the buffer is back


def test_gradient_through_functional_call_equals_backward_of_the_tensor_api():
    model = _mlp()
    x, y = _data()
    grads = cr.grad(_loss(model))(model.parameters_dict(), x, y)
    F.cross_entropy(model(x), y).backward()
    assert list(grads) == sorted(name for name, _ in model.named_parameters())
    for name, parameter in model.named_parameters():
        np.testing.assert_allclose(grads[name], parameter.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_linear_layer_gradient_matches_its_closed_form():
    # L = sum((x W^T + b - t)^2): dL/dW = 2 r^T x and dL/db = 2 sum_rows(r), r = x W^T + b - t.
    layer = nn.Linear(4, 3, rng=0, dtype=np.float64)
    rng = np.random.default_rng(2)
    x, target = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))

    def loss(params):
        return cnp.sum((nn.functional_call(layer, params, (x,)) - target) ** 2)

    params = layer.parameters_dict()
    grads = cr.grad(loss)(params)
    residual = x @ params["weight"].T + params["bias"] - target
    np.testing.assert_allclose(grads["weight"], 2 * residual.T @ x, rtol=1e-12)
    np.testing.assert_allclose(grads["bias"], 2 * residual.sum(axis=0), rtol=1e-12)


def test_conv_layer_gradient_matches_central_differences():
    layer = nn.Conv2d(2, 3, kernel_size=2, padding=1, rng=0, dtype=np.float64)
    x = np.random.default_rng(3).standard_normal((2, 2, 4, 4))
    params = layer.parameters_dict()

    def loss(weight):
        return cnp.sum(cnp.tanh(nn.functional_call(layer, {**params, "weight": weight}, (x,))))

    np.testing.assert_allclose(cr.grad(loss)(params["weight"]),
                               _central_differences(loss, params["weight"]), rtol=1e-6, atol=1e-9)


def test_jacrev_through_functional_call_matches_central_differences():
    model = _mlp(sizes=(2, 3, 2))
    x = np.array([[0.3, -0.7], [1.1, 0.4]])
    params = model.parameters_dict()
    jacobian = cr.jacrev(lambda p: nn.functional_call(model, p, (x,)))(params)
    for name, value in params.items():
        numeric = _central_differences(
            lambda v, name=name: nn.functional_call(model, {**params, name: v}, (x,)), value)
        assert jacobian[name].shape == (2, 2) + value.shape
        np.testing.assert_allclose(jacobian[name], numeric, rtol=1e-6, atol=1e-9)


def test_hessian_through_functional_call_matches_differences_of_the_gradient():
    model = _mlp(sizes=(2, 3, 1))
    x = np.array([[0.3, -0.7], [1.1, 0.4], [-0.2, 0.9]])
    params = model.parameters_dict()

    def loss(weight):
        out = nn.functional_call(model, {**params, "0.weight": weight}, (x,))
        return cnp.sum(out ** 2)

    weight = params["0.weight"]
    hessian = cr.hessian(loss)(weight)
    numeric = _central_differences(cr.grad(loss), weight)
    assert hessian.shape == weight.shape * 2
    np.testing.assert_allclose(hessian, numeric, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hessian, np.swapaxes(np.swapaxes(hessian, 0, 2), 1, 3),
                               atol=1e-12)  # symmetric


def test_parameters_are_restored_when_the_forward_pass_raises():
    class Failing(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 2, rng=0)

        def forward(self, x):
            self.linear(x)
            raise RuntimeError("boom")

    model = Failing()
    weight, values = model.linear.weight, model.linear.weight.numpy().copy()
    with pytest.raises(RuntimeError, match="boom"):
        nn.functional_call(model, {"linear.weight": np.zeros((2, 2), np.float32),
                                   "linear.bias": np.zeros(2, np.float32)},
                           (np.ones((1, 2), np.float32),))
    assert model.linear.weight is weight and model.linear._parameters["weight"] is weight
    np.testing.assert_array_equal(weight.numpy(), values)


def test_functional_call_modifies_neither_the_values_nor_the_stored_parameters():
    model = _mlp()
    x, y = _data()
    params = {name: value.copy() for name, value in model.parameters_dict().items()}
    snapshot = {name: value.copy() for name, value in params.items()}
    stored = model.state_dict()
    cr.grad(_loss(model))(params, x, y)
    cr.vmap(cr.grad(_loss(model)), in_axes=(None, 0, 0))(params, x[:, None], y[:, None])
    for name in params:
        np.testing.assert_array_equal(params[name], snapshot[name])
        np.testing.assert_array_equal(model.state_dict()[name], stored[name])
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())


def test_unknown_and_missing_names_are_listed_together():
    model = _mlp()
    params = model.parameters_dict()
    del params["2.bias"]
    params["2.bais"] = np.zeros(3)
    with pytest.raises(nn.StateDictError) as error:
        nn.functional_call(model, params, (np.ones((1, 5)),))
    message = str(error.value)
    assert "missing parameters: 2.bias" in message and "unknown names: 2.bais" in message
    assert "strict=False" in message


def test_strict_false_allows_a_subset_but_not_unknown_names():
    model = _mlp()
    x, _ = _data()
    zero_bias = {"2.bias": np.zeros(3)}
    with cr.no_grad():  # the other parameters are the module's own Parameters
        expected = model(x).numpy() - model[2].bias.numpy()
        out = nn.functional_call(model, zero_bias, (x,), strict=False).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    with pytest.raises(nn.StateDictError, match="unknown names: bias"):
        nn.functional_call(model, {"bias": np.zeros(3)}, (x,), strict=False)


def test_a_value_of_the_wrong_shape_is_named():
    model = _mlp()
    params = {**model.parameters_dict(), "0.bias": np.zeros(5)}
    with pytest.raises(ShapeError, match=r"0.bias: expected \(7,\), got \(5,\)"):
        nn.functional_call(model, params, (np.ones((1, 5)),))


def test_a_tied_parameter_is_replaced_everywhere_under_either_name():
    shared = nn.Linear(3, 3, rng=0, dtype=np.float64)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert list(model.parameters_dict()) == ["0.weight", "0.bias"]
    x = np.ones((1, 3))
    new = {"weight": np.eye(3) * 0.5, "bias": np.zeros(3)}
    expected = np.tanh(x @ new["weight"].T) @ new["weight"].T
    for prefix in ("0.", "2."):
        params = {prefix + key: value for key, value in new.items()}
        np.testing.assert_allclose(nn.functional_call(model, params, (x,)), expected)
    with pytest.raises(ValueError, match="tied"):
        nn.functional_call(model, {"0.weight": new["weight"], "2.weight": np.eye(3),
                                   "0.bias": new["bias"]}, (x,))


# ----- per-example gradients ----------------------------------------------------------------------
def _per_example_loss(model):
    def loss(params, x, y):  # one example: a batch of one for the model and the loss
        return F.cross_entropy(nn.functional_call(model, params, (x[None],)), y[None])

    return loss


def test_vmap_of_grad_gives_the_gradients_of_a_loop_over_examples():
    model = _mlp(sizes=(5, 8, 6, 3))
    x, y = _data(n=7)
    params = model.parameters_dict()
    loss = _per_example_loss(model)
    batched = cr.vmap(cr.grad(loss), in_axes=(None, 0, 0))(params, x, y)
    looped = [cr.grad(loss)(params, x[i], y[i]) for i in range(len(y))]
    for name, value in params.items():
        assert batched[name].shape == (7,) + value.shape
        np.testing.assert_allclose(batched[name], np.stack([g[name] for g in looped]),
                                   rtol=1e-10, atol=1e-14)
    norms = np.sqrt(sum(np.sum(g.reshape(7, -1) ** 2, axis=1) for g in batched.values()))
    loop_norms = [np.sqrt(sum(np.sum(v ** 2) for v in g.values())) for g in looped]
    np.testing.assert_allclose(norms, loop_norms, rtol=1e-10)
    # The mean of the per-example gradients is the gradient of the mean loss.
    mean_grad = cr.grad(_loss(model))(params, x, y)
    for name in params:
        np.testing.assert_allclose(batched[name].mean(axis=0), mean_grad[name], rtol=1e-10,
                                   atol=1e-14)


def test_vmap_over_stacked_parameters_runs_an_ensemble():
    model = _mlp()
    members = [_mlp(seed=s).parameters_dict() for s in range(3)]
    stacked = {name: np.stack([m[name] for m in members]) for name in members[0]}
    x, _ = _data()
    out = cr.vmap(lambda p: nn.functional_call(model, p, (x,)))(stacked)
    for index, params in enumerate(members):
        np.testing.assert_allclose(out[index], nn.functional_call(model, params, (x,)),
                                   rtol=1e-12)


def test_embedding_under_vmap_looks_up_each_examples_indices():
    layer = nn.Embedding(6, 2, rng=0, dtype=np.float64)
    indices = np.array([[0, 5], [3, 3], [1, 2]])
    out = cr.vmap(lambda i: nn.functional_call(layer, layer.parameters_dict(), (i,)))(indices)
    np.testing.assert_array_equal(out, layer.weight.numpy()[indices])
    with pytest.raises(ValueError, match=r"lie in \[0, 6\)"):
        cr.vmap(lambda i: layer(i))(np.array([[0], [6]]))


# ----- parameters_dict and Modules as pytrees -----------------------------------------------------
def test_parameters_dict_holds_read_only_views_of_the_parameters():
    model = _mlp()
    params = model.parameters_dict()
    assert type(params) is dict and list(params) == [n for n, _ in model.named_parameters()]
    for name, parameter in model.named_parameters():
        assert type(params[name]) is np.ndarray and not params[name].flags.writeable
        assert np.shares_memory(params[name], parameter.numpy())


def test_grad_of_a_function_of_the_module_returns_a_model_shaped_gradient():
    model = _mlp()
    x, y = _data()
    grads = cr.grad(lambda m: F.cross_entropy(m(x), y))(model)
    assert type(grads) is nn.Sequential and grads is not model
    expected = cr.grad(_loss(model))(model.parameters_dict(), x, y)
    for name, value in grads.parameters_dict().items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-12)
    assert all(isinstance(p, nn.Parameter) for p in model.parameters())  # model untouched


def test_tree_map_over_a_model_and_its_gradient_takes_an_sgd_step():
    model = _mlp()
    x, y = _data()

    def loss(m):
        return F.cross_entropy(m(x), y)

    grads = cr.grad(loss)(model)
    stepped = cr.tree_map(lambda p, g: p - 0.1 * g, model, grads)
    assert cr.tree.tree_structure(stepped) == cr.tree.tree_structure(model)
    assert float(loss(stepped)) < float(loss(model).detach())
    leaves, treedef = cr.tree_flatten(model)
    rebuilt = cr.tree_unflatten(treedef, leaves)
    np.testing.assert_array_equal(rebuilt(x), nn.functional_call(model, model.parameters_dict(),
                                                                 (x,)))


def test_per_example_gradients_with_the_module_as_the_argument():
    model = _mlp()
    x, y = _data()
    per_example = cr.vmap(cr.grad(lambda m, e, t: F.cross_entropy(m(e[None]), t[None])),
                          in_axes=(None, 0, 0))(model, x, y)
    expected = cr.vmap(cr.grad(_per_example_loss(model)), in_axes=(None, 0, 0))(
        model.parameters_dict(), x, y)
    for name, value in per_example.parameters_dict().items():
        np.testing.assert_allclose(value, expected[name], rtol=1e-12)


def test_a_module_is_a_pytree_under_vmap_and_keeps_its_ties():
    shared = nn.Linear(3, 3, rng=0, dtype=np.float64)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    leaves, _ = cr.tree_flatten(model)
    assert len(leaves) == 2
    xs = np.random.default_rng(0).standard_normal((4, 3))
    out = cr.vmap(lambda m, x: m(x), in_axes=(None, 0))(model, xs)
    with cr.no_grad():
        np.testing.assert_allclose(out, model(xs).numpy(), rtol=1e-12)


# ----- layers under vmap --------------------------------------------------------------------------
def test_dropout_under_vmap_draws_a_mask_per_example():
    layer = nn.Dropout(0.5, rng=0)
    masks = cr.vmap(layer)(np.ones((8, 20)))
    assert masks.shape == (8, 20)
    assert set(np.unique(masks)) <= {0.0, 2.0}
    assert len({row.tobytes() for row in masks}) == 8  # every example its own mask
    assert 0.3 < np.mean(masks == 0) < 0.7
    nested = cr.vmap(cr.vmap(nn.Dropout(0.5, rng=1)))(np.ones((3, 4, 16)))
    assert len({row.tobytes() for row in nested.reshape(12, 16)}) == 12


def test_dropout_per_example_gradients_use_each_examples_mask():
    model = nn.Sequential(nn.Linear(4, 16, rng=0, dtype=np.float64), nn.Dropout(0.5, rng=3),
                          nn.Linear(16, 1, rng=1, dtype=np.float64))
    params = model.parameters_dict()
    x = np.ones((5, 4))  # identical examples: only the masks tell them apart

    def loss(p, example):
        return cnp.sum(nn.functional_call(model, p, (example[None],)))

    grads = cr.vmap(cr.grad(loss), in_axes=(None, 0))(params, x)["2.weight"]
    assert len({row.tobytes() for row in grads}) == 5
    model.eval()
    grads = cr.vmap(cr.grad(loss), in_axes=(None, 0))(params, x)["2.weight"]
    np.testing.assert_array_equal(grads, np.broadcast_to(grads[0], grads.shape))


def test_batch_norm_in_training_mode_under_vmap_names_the_fix():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4))
    params = model.parameters_dict()
    x = np.ones((5, 3), np.float32)
    call = cr.vmap(lambda p, e: nn.functional_call(model, p, (e[None],)), in_axes=(None, 0))
    with pytest.raises(BatchingError, match=r"training mode under cr.vmap.*model.eval\(\)"):
        call(params, x)
    np.testing.assert_array_equal(model[1].running_mean, np.zeros(4))  # nothing was updated
    model.eval()
    with cr.no_grad():
        expected = model(x).numpy()
    np.testing.assert_allclose(call(params, x)[:, 0], expected, rtol=1e-6)


def test_batch_norm_buffers_given_to_functional_call_are_used_and_put_back():
    layer = nn.BatchNorm1d(2).eval()
    buffers = {"running_mean": np.array([1.0, 2.0], np.float32),
               "running_var": np.array([4.0, 1.0], np.float32)}
    x = np.array([[3.0, 3.0]], np.float32)
    out = nn.functional_call(layer, (layer.parameters_dict(), buffers), (x,))
    np.testing.assert_allclose(out, [[1.0, 1.0]], rtol=1e-4)
    np.testing.assert_array_equal(layer.running_mean, np.zeros(2))
    assert "running_mean" in layer.state_dict()


def test_batch_norm_training_keeps_its_buffers_registered():
    layer = nn.BatchNorm1d(3)
    layer(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    assert {"running_mean", "running_var", "num_batches_tracked"} <= set(layer.state_dict())
    assert int(layer.state_dict()["num_batches_tracked"]) == 1
