"""Threads: grad mode is per thread, and separate graphs built and differentiated at the same
time in several threads give exactly the results of running them one after another."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp


def test_no_grad_in_one_thread_does_not_switch_off_recording_in_another():
    inside_no_grad = threading.Event()
    other_thread_done = threading.Event()
    seen = {}

    def evaluator():
        with cr.no_grad():
            inside_no_grad.set()
            other_thread_done.wait(timeout=10)
            seen["evaluator"] = cr.is_grad_enabled()

    def trainer():
        inside_no_grad.wait(timeout=10)
        x = cr.tensor(2.0, requires_grad=True)
        y = x * x
        seen["trainer"] = (cr.is_grad_enabled(), y.requires_grad)
        other_thread_done.set()

    threads = [threading.Thread(target=evaluator), threading.Thread(target=trainer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"evaluator": False, "trainer": (True, True)}
    assert cr.is_grad_enabled()


def tensor_api_gradients(seed):
    rng = np.random.default_rng(seed)
    weights = cr.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    inputs = rng.normal(size=(64, 5))
    for _ in range(20):  # many small ops, so the two threads interleave
        loss = cnp.sum(cnp.tanh(inputs @ weights) ** 2)
        loss.backward()
    return weights.grad.numpy().copy()


def functional_gradients(seed):
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(5, 3))
    inputs = rng.normal(size=(64, 5))

    def loss_of(w):
        return cnp.sum(cnp.sin(inputs @ w) * cnp.exp(-(w**2).sum()))

    gradient = cr.grad(loss_of)(weights)
    _, hessian_vector = cr.jvp(cr.grad(loss_of), (weights,), (np.ones_like(weights),))
    return np.concatenate([gradient.ravel(), hessian_vector.ravel()])


def test_concurrent_graphs_match_sequential_results():
    seeds = [0, 1, 2, 3]
    sequential = [(tensor_api_gradients(s), functional_gradients(s)) for s in seeds]
    with ThreadPoolExecutor(max_workers=4) as pool:
        tensor_results = list(pool.map(tensor_api_gradients, seeds))
        functional_results = list(pool.map(functional_gradients, seeds))
    for (expected_tensor, expected_functional), got_tensor, got_functional in zip(
        sequential, tensor_results, functional_results, strict=True
    ):
        np.testing.assert_array_equal(got_tensor, expected_tensor)
        np.testing.assert_array_equal(got_functional, expected_functional)
