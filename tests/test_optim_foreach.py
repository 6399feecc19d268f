"""Adam's whole-group update on flat arrays (the "foreach" path) against Adam written out in NumPy,
parameter by parameter: the same numbers, the same state_dict, and a fall back to the
parameter-by-parameter path where the flat one does not apply."""

import numpy as np

import chainrule as cr
from chainrule import optim


def _adam_by_hand(values, grads_per_step, lr, betas, eps):
    b1, b2 = betas
    m = [np.zeros_like(v) for v in values]
    v2 = [np.zeros_like(v) for v in values]
    values = [v.copy() for v in values]
    for t, grads in enumerate(grads_per_step, 1):
        for i, g in enumerate(grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v2[i] = b2 * v2[i] + (1 - b2) * g * g
            values[i] = values[i] - lr * (m[i] / (1 - b1**t)) / (np.sqrt(v2[i] / (1 - b2**t)) + eps)
    return values, m, v2


def _params(rng):
    return [cr.tensor(rng.standard_normal(shape), requires_grad=True)
            for shape in ((3, 4), (4,), (2, 2, 2))]


def test_the_flat_update_matches_adam_by_hand_and_keeps_per_parameter_state():
    rng = np.random.default_rng(0)
    params = _params(rng)
    start = [p.numpy().copy() for p in params]
    grads_per_step = [[rng.standard_normal(p.shape) for p in params] for _ in range(4)]
    adam = optim.Adam(params, lr=0.05, betas=(0.8, 0.95), eps=1e-6)
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            p.grad = cr.tensor(g)
        adam.step()
    assert "_flat_moments" in adam.__dict__  # the flat path ran
    expected, m, v = _adam_by_hand(start, grads_per_step, 0.05, (0.8, 0.95), 1e-6)
    for i, p in enumerate(params):
        np.testing.assert_allclose(p.numpy(), expected[i], rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(adam.state[p]["exp_avg"], m[i], rtol=1e-14)
        np.testing.assert_allclose(adam.state[p]["exp_avg_sq"], v[i], rtol=1e-14)
        assert adam.state[p]["step"] == 4


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(1)
    params = _params(rng)
    twins = [cr.tensor(p.numpy(), requires_grad=True) for p in params]
    first = optim.Adam(params, lr=0.01)
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(6)]
    for g in grads[:3]:
        for p, gi in zip(params, g):
            p.grad = cr.tensor(gi)
        first.step()
    saved = first.state_dict()
    for p, t in zip(params, twins):
        with cr.no_grad():
            t[...] = p.numpy()
    second = optim.Adam(twins, lr=0.01)
    second.load_state_dict(saved)
    for g in grads[3:]:
        for opt, ps in ((first, params), (second, twins)):
            for p, gi in zip(ps, g):
                p.grad = cr.tensor(gi)
            opt.step()
    for p, t in zip(params, twins):
        np.testing.assert_array_equal(p.numpy(), t.numpy())
    # the saved arrays were copies: later steps did not change them
    again = first.state_dict()
    assert not np.array_equal(saved["state.0.exp_avg"], again["state.0.exp_avg"])


def test_a_parameter_without_a_gradient_falls_back_to_one_by_one():
    rng = np.random.default_rng(2)
    params = _params(rng)
    start = [p.numpy().copy() for p in params]
    adam = optim.Adam(params, lr=0.1)
    g = rng.standard_normal(params[0].shape)
    params[0].grad = cr.tensor(g)  # the others have none: they must not move
    adam.step()
    for p, s in zip(params[1:], start[1:]):
        np.testing.assert_array_equal(p.numpy(), s)
    expected, _, _ = _adam_by_hand([start[0]], [[g]], 0.1, (0.9, 0.999), 1e-8)
    np.testing.assert_allclose(params[0].numpy(), expected[0], rtol=1e-14)


def test_step_counts_that_diverged_keep_their_own_bias_corrections():
    rng = np.random.default_rng(3)
    params = _params(rng)
    start = [p.numpy().copy() for p in params]
    adam = optim.Adam(params, lr=0.1)
    steps = [[rng.standard_normal(p.shape) for p in params] for _ in range(3)]
    history = [[], [], []]
    for number, grads in enumerate(steps):
        for i, (p, g) in enumerate(zip(params, grads)):
            if number == 1 and i == 2:
                p.grad = None  # parameter 2 skips the second step
            else:
                p.grad = cr.tensor(g)
                history[i].append(g)
        adam.step()
    for i, p in enumerate(params):
        expected, _, _ = _adam_by_hand([start[i]], [[g] for g in history[i]], 0.1, (0.9, 0.999),
                                       1e-8)
        np.testing.assert_allclose(p.numpy(), expected[0], rtol=1e-13, err_msg=f"param {i}")
