"""No leaks: training loops keep memory flat, and graphs are freed by reference counting alone
(no reference cycles between nodes and tensors), so they go the moment nothing uses them."""

import gc
import tracemalloc
import weakref

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp


def make_mlp(seed=0):
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(32, 4))
    targets = np.sin(inputs.sum(axis=1, keepdims=True))
    params = [
        cr.tensor(rng.normal(size=(4, 16)) * 0.5, requires_grad=True),
        cr.tensor(np.zeros(16), requires_grad=True),
        cr.tensor(rng.normal(size=(16, 1)) * 0.5, requires_grad=True),
        cr.tensor(np.zeros(1), requires_grad=True),
    ]
    return inputs, targets, params


def mlp_loss(inputs, targets, params):
    w1, b1, w2, b2 = params
    hidden = cnp.tanh(inputs @ w1 + b1)
    prediction = hidden @ w2 + b2
    return cnp.mean((prediction - targets) ** 2)


def train_step(inputs, targets, params, learning_rate=0.05):
    loss = mlp_loss(inputs, targets, params)
    loss.backward()
    with cr.no_grad():
        for param in params:
            param -= learning_rate * param.grad
            param.grad = None
    return float(loss)


def test_a_thousand_training_steps_keep_memory_flat():
    inputs, targets, params = make_mlp()
    first_loss = train_step(inputs, targets, params)
    for _ in range(300):  # warm up: NumPy's small-block cache and Python's free lists fill
        train_step(inputs, targets, params)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            last_loss = train_step(inputs, targets, params)
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert last_loss < 0.5 * first_loss  # it really trained
    # One step's graph holds ~11 KiB, so leaking every graph would add 11 MiB; the bound is
    # 256 B a step. What does grow (about 100 KiB, then stops) is NumPy's cache of small blocks.
    assert growth < 256 * 1024


def test_graphs_have_no_reference_cycles():
    inputs, targets, params = make_mlp()
    gc.collect()
    gc.disable()
    try:
        loss = mlp_loss(inputs, targets, params)
        hidden_value = weakref.ref(loss.grad_fn.parents[0].parents[0].residuals[0])
        output = weakref.ref(loss)
        loss.backward(retain_graph=True)
        del loss
        # Reference counting alone freed the output, the graph and its saved arrays...
        assert output() is None and hidden_value() is None
        # ...and left nothing for the cycle collector.
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_functional_transforms_leave_no_cycles():
    def loss_of(weights):
        return cnp.sum(cnp.tanh(np.ones((8, 3)) @ weights) ** 2)

    weights = np.full((3, 2), 0.1)
    cr.grad(loss_of)(weights)  # warm caches before counting
    gc.collect()
    gc.disable()
    try:
        gradient = cr.grad(loss_of)(weights)
        value, tangent = cr.jvp(loss_of, (weights,), (np.ones((3, 2)),))
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert gradient.shape == (3, 2) and np.isfinite(tangent)


def test_anomaly_mode_and_in_place_bookkeeping_leave_no_cycles():
    inputs, targets, params = make_mlp()
    gc.collect()
    gc.disable()
    try:
        with cr.detect_anomaly():
            for _ in range(3):
                train_step(inputs, targets, params)
            hidden = inputs @ params[0]
            hidden += params[1]  # in-place on a recorded tensor marks its old node
            hidden *= 2.0
            output = weakref.ref(hidden)
            cnp.sum(hidden).backward()
            del hidden
        assert output() is None
        assert gc.collect() == 0
    finally:
        gc.enable()
