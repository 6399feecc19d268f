"""Numerics: float32 gradients agree with float64 within the documented tolerance, and the
exp/log composites stay finite (values and gradients) for inputs of magnitude 1e4."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
import chainrule.numpy as cnp

FLOAT32_TOLERANCE = 1e-5  # max |g32 - g64| / max |g64|, documented in the Guarantees section

rng = np.random.default_rng(0)
INPUTS = rng.normal(size=(16, 8))
LABELS = rng.integers(0, 5, size=16)

FUNCTIONS = {
    "tanh layer": lambda w: cnp.mean(cnp.tanh(INPUTS.astype(w.dtype) @ w) ** 2),
    "logsumexp": lambda w: cnp.sum(cnp.logsumexp(3.0 * w, axis=1)),
    "cross_entropy": lambda w: F.cross_entropy(INPUTS.astype(w.dtype) @ w, LABELS),
    "trigonometry": lambda w: cnp.sum(cnp.sin(w) * cnp.exp(-w * w) + cnp.sqrt(w * w + 1.0)),
    "softplus and sigmoid": lambda w: cnp.sum(cnp.softplus(w) * cnp.sigmoid(2.0 * w)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_float32_gradients_match_float64(name):
    function = FUNCTIONS[name]
    weights = rng.normal(size=(8, 5))
    gradient64 = cr.grad(function)(weights)
    gradient32 = cr.grad(function)(weights.astype(np.float32))
    assert gradient32.dtype == np.float32
    error = np.max(np.abs(gradient32 - gradient64)) / np.max(np.abs(gradient64))
    assert error < FLOAT32_TOLERANCE


LARGE = [1e4, -1e4, 0.0, 5e3]


def softmax_reference(values):
    shifted = np.exp(np.asarray(values, dtype=np.float64) - np.max(values))
    return shifted / shifted.sum()


@pytest.mark.filterwarnings("error")  # no overflow warnings either
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
class TestLargeInputs:
    def check(self, function, dtype, expected_value, expected_gradient):
        x = np.array(LARGE, dtype=dtype)
        value = function(x)
        gradient = cr.grad(function)(x)
        assert np.isfinite(value) and np.all(np.isfinite(gradient))
        assert gradient.dtype == dtype
        np.testing.assert_allclose(value, expected_value, rtol=1e-6)
        np.testing.assert_allclose(gradient, expected_gradient, atol=1e-6)

    def test_logsumexp(self, dtype):
        # logsumexp = 1e4 + log(1 + e^-5000 + ...) = 1e4; its gradient is softmax(x).
        self.check(cnp.logsumexp, dtype, 1e4, softmax_reference(LARGE))

    def test_softmax(self, dtype):
        # softmax(x)_0 = 1 and every partial derivative p0 (delta_0j - pj) is 0 here.
        self.check(lambda x: cnp.softmax(x)[0], dtype, 1.0, np.zeros(4))

    def test_log_softmax(self, dtype):
        # log_softmax(x)_1 = -1e4 - 1e4; d/dx_j = delta_1j - softmax_j.
        self.check(lambda x: cnp.log_softmax(x)[1], dtype, -2e4, [-1.0, 1.0, 0.0, 0.0])

    def test_sigmoid(self, dtype):
        # sigmoid = 1, 0, 1/2, 1; sigma' = sigma (1 - sigma) = 0, 0, 1/4, 0.
        self.check(lambda x: cnp.sum(cnp.sigmoid(x)), dtype, 2.5, [0.0, 0.0, 0.25, 0.0])

    def test_softplus(self, dtype):
        # softplus = 1e4, 0, log 2, 5e3; its derivative is the sigmoid.
        expected = 1.5e4 + np.log(2.0)
        self.check(lambda x: cnp.sum(cnp.softplus(x)), dtype, expected, [1.0, 0.0, 0.5, 1.0])

    def test_cross_entropy_composite(self, dtype):
        # -log softmax(x)_1 = 2e4; gradient softmax(x) - onehot(1).
        self.check(lambda x: -cnp.log_softmax(x)[1], dtype, 2e4, [1.0, -1.0, 0.0, 0.0])

    def test_nn_cross_entropy(self, dtype):
        self.check(
            lambda x: F.cross_entropy(cnp.reshape(x, (1, 4)), np.array([1])),
            dtype, 2e4, [1.0, -1.0, 0.0, 0.0],
        )

    def test_binary_cross_entropy_with_logits(self, dtype):
        # targets 1: loss softplus(-x); mean over 4 = (0 + 1e4 + log 2 + 0) / 4.
        expected = (1e4 + np.log(2.0)) / 4
        self.check(
            lambda x: F.binary_cross_entropy_with_logits(x, np.ones(4, dtype=dtype)),
            dtype, expected, [0.0, -0.25, -0.125, 0.0],
        )
