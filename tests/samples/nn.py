"""Samples for the fused neural-network rows (ops/nn.py): relu, linear, softmax cross-entropy."""

import numpy as np

from samples import Sample, away_from_zero, complex_uniform, edge, uniform


def _one_hot_weights(labels, classes, scale=1.0):
    """The constant matrix nn.losses hands the cross-entropy row: one-hot rows, scaled."""
    weights = np.zeros((len(labels), classes))
    weights[np.arange(len(labels)), labels] = scale
    return weights


SAMPLES = {
    "relu": [
        Sample((away_from_zero((2, 3)),)),
        Sample((np.array(0.7),), label="0-d positive"),
        Sample((np.array(-0.4),), label="0-d negative"),
        # At 0 the gradient is 0, as PyTorch's (a subgradient).
        edge((np.array([0.0, 1.5, -2.0, 0.0]),), label="zeros",
             convention=np.diag([0.0, 1.0, 0.0, 0.0])),
    ],
    "linear": [
        Sample((uniform((4, 3)), uniform((2, 3), seed=1), uniform((2,), seed=2)),
               label="rows"),
        Sample((uniform((3,)), uniform((2, 3), seed=1), uniform((2,), seed=2)),
               label="one vector"),
        Sample((uniform((2, 4, 3)), uniform((5, 3), seed=1), uniform((5,), seed=2)),
               label="stacked rows"),
        Sample((uniform((4, 3)), uniform((2, 3), seed=1), np.array(0.5)),
               label="broadcast 0-d bias"),
        Sample((uniform((4, 3)), uniform((2, 3), seed=1), uniform((1,), seed=2)),
               label="broadcast bias of one"),
        Sample((complex_uniform((4, 3)), complex_uniform((2, 3), seed=1),
                complex_uniform((2,), seed=2)), label="complex"),
    ],
    "softmax_cross_entropy": [
        Sample((uniform((4, 3)), _one_hot_weights([0, 2, 1, 2], 3, scale=0.25)),
               label="one-hot, mean"),
        Sample((uniform((3, 5)), uniform((3, 5), 0.1, 1.0, seed=1)),
               label="any weights"),
        Sample((uniform((4,)), _one_hot_weights([2], 4)[0]), label="one row"),
        Sample((uniform((2, 3, 4)), uniform((2, 3, 4), 0.0, 1.0, seed=2)),
               label="stacked rows"),
        Sample((uniform((3, 4)), _one_hot_weights([1, 0, 3], 4)),
               wrt=(0,), label="one-hot, scores only"),
        Sample((np.array([[1e4, 1e4 - 1.0], [-3.0, 2.0]]), _one_hot_weights([1, 0], 2)),
               label="magnitude 1e4"),
        edge((np.array([[0.0, 40.0, -3.0], [35.0, 0.5, 1.0]]), _one_hot_weights([1, 2], 3)),
             label="one entry dominates"),
        edge((np.array([[1.0, 1.0, 0.2], [2.0, -1.0, 2.0]]), _one_hot_weights([0, 2], 3)),
             label="ties"),
    ],
}
