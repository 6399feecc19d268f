"""The fused rows of ops/nn.py as nn uses them: F.linear / nn.Linear, F.relu, F.cross_entropy's
common path. Each row is checked against finite differences by the registry sweep; here, that
the layers reach them, and agree with NumPy formulas written out by hand."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule import nn
from chainrule.nn import functional as F


def _log_softmax(scores):
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _recorded(output):
    """Names of the primitives recorded on the way to `output`."""
    names, pending, seen = [], [output.grad_fn], set()
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen or not hasattr(node, "parents"):
            continue
        seen.add(id(node))
        names.append(node.primitive.name)
        pending.extend(node.parents)
    return names


def test_linear_layer_is_one_recorded_row_with_numpy_gradients():
    rng = np.random.default_rng(0)
    layer = nn.Linear(3, 2, rng=rng, dtype=np.float64)
    x = rng.standard_normal((4, 3))
    out = layer(cr.tensor(x))
    assert _recorded(out) == ["linear"]
    weight, bias = layer.weight.numpy(), layer.bias.numpy()
    np.testing.assert_allclose(out.numpy(), x @ weight.T + bias, rtol=1e-12)
    cotangent = rng.standard_normal((4, 2))
    out.backward(cotangent)
    np.testing.assert_allclose(layer.weight.grad.numpy(), cotangent.T @ x, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), cotangent.sum(axis=0), rtol=1e-12)


def test_linear_without_bias_or_with_odd_shapes_stays_composite():
    x, weight = np.ones((2, 3)), np.full((4, 3), 0.5)
    np.testing.assert_allclose(F.linear(x, weight), np.full((2, 4), 1.5))
    with pytest.raises(ValueError, match="linear"):
        F.linear(cr.tensor(np.ones((2, 5))), cr.tensor(weight), cr.tensor(np.zeros(4)))


def test_relu_gradient_is_zero_at_zero_and_passes_nan_through():
    x = cr.tensor(np.array([-1.0, 0.0, 2.0, np.nan]), requires_grad=True)
    y = F.relu(x)
    assert _recorded(y) == ["relu"]
    (y * np.array([1.0, 1.0, 1.0, 1.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(y.numpy()[:3], [0.0, 0.0, 2.0])
    assert np.isnan(y.numpy()[3])


def test_relu_gradient_of_an_infinite_cotangent_is_zero_where_blocked():
    x = cr.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    F.relu(x).backward(np.array([np.inf, 3.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 3.0])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_cross_entropy_fused_path_matches_numpy(reduction, weighted, ignore_index):
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((5, 4))
    labels = np.array([0, 1, 3, 1, 2])
    class_weights = rng.uniform(0.5, 2.0, 4) if weighted else np.ones(4)
    counted = labels != ignore_index
    per_row = -_log_softmax(scores)[np.arange(5), labels] * class_weights[labels] * counted
    total = class_weights[labels][counted].sum() if reduction == "mean" else 1.0
    expected = per_row.sum() / total
    probabilities = np.exp(_log_softmax(scores))
    one_hot = np.eye(4)[labels]
    row_weights = (class_weights[labels] * counted / total)[:, None]
    expected_grad = (probabilities - one_hot) * row_weights

    x = cr.tensor(scores, requires_grad=True)
    loss = F.cross_entropy(x, labels, weight=class_weights if weighted else None,
                           ignore_index=ignore_index, reduction=reduction)
    assert "softmax_cross_entropy" in _recorded(loss)
    assert "log_softmax" not in _recorded(loss)
    np.testing.assert_allclose(float(loss.detach()), expected, rtol=1e-12)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), expected_grad, rtol=1e-10, atol=1e-15)


def test_cross_entropy_other_options_keep_the_composite_path():
    scores = cr.tensor(np.random.default_rng(2).standard_normal((3, 4)), requires_grad=True)
    labels = np.array([0, 3, 1])
    for options in ({"reduction": "none"}, {"label_smoothing": 0.1}):
        assert "log_softmax" in _recorded(cnp.sum(F.cross_entropy(scores, labels, **options)))
    assert "log_softmax" in _recorded(F.cross_entropy(scores, np.full((3, 4), 0.25)))


def test_cross_entropy_fused_path_differentiates_twice_and_under_vmap():
    scores = np.random.default_rng(3).standard_normal((3, 4))
    labels = np.array([2, 0, 1])

    def loss(x):
        return F.cross_entropy(x, labels)

    assert cr.gradgradcheck(loss, scores)
    batched = cr.vmap(cr.grad(loss))(np.stack([scores, 2.0 * scores]))
    np.testing.assert_allclose(batched[1], cr.grad(loss)(2.0 * scores), rtol=1e-12)
