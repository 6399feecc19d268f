"""chainrule.optim on complex parameters, as PyTorch: a complex parameter is a pair of real
numbers per entry (torch.view_as_real), so each optimiser's step on it equals the same optimiser
run on its real view, a float array of shape (..., 2).

The references below are the published update equations written in NumPy on that real view, with
the gradient of the loss worked out in real arithmetic; nothing in them is complex.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
import chainrule.optim as optim

RNG = np.random.default_rng(13)
A = RNG.normal(size=(4, 2)) + 1j * RNG.normal(size=(4, 2))
B = RNG.normal(size=(4, 3)) + 1j * RNG.normal(size=(4, 3))
Z0 = RNG.normal(size=(2, 3)) + 1j * RNG.normal(size=(2, 3))


def as_pairs(z):
    return np.stack([z.real, z.imag], axis=-1)


def complex_loss(z):
    """sum |A z - B|^2 of a complex (2, 3) parameter."""
    return cnp.sum(cnp.abs(A @ z - B) ** 2)


def pairs_gradient(pairs):
    """The gradient of the same loss with respect to the real view (x, y) = (Re z, Im z), in real
    arithmetic: A z - B = (Ar x - Ai y - Br) + i (Ai x + Ar y - Bi) =: r1 + i r2."""
    x, y = pairs[..., 0], pairs[..., 1]
    r1 = A.real @ x - A.imag @ y - B.real
    r2 = A.imag @ x + A.real @ y - B.imag
    return np.stack([2 * (A.real.T @ r1 + A.imag.T @ r2), 2 * (A.real.T @ r2 - A.imag.T @ r1)], -1)


def pairs_loss(pairs):
    """The same loss of a float (2, 3, 2) parameter, recorded by chainrule in real numbers."""
    x, y = pairs[..., 0], pairs[..., 1]
    r1 = A.real @ x - A.imag @ y - B.real
    r2 = A.imag @ x + A.real @ y - B.imag
    return cnp.sum(r1 * r1 + r2 * r2)


# ----- the references: each returns update(t, x, g) -> new x, on real arrays ---------------------
def sgd_reference(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    buffer = None

    def update(t, x, g):
        nonlocal buffer
        g = g + weight_decay * x
        if momentum:
            buffer = g.copy() if buffer is None else momentum * buffer + (1 - dampening) * g
            g = g + momentum * buffer if nesterov else buffer
        return x - lr * g

    return update


def adam_reference(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    m = v = 0.0

    def update(t, x, g):
        nonlocal m, v
        if not decoupled:
            g = g + weight_decay * x
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g  # per real and imaginary part
        step = lr * (m / (1 - betas[0] ** t)) / (np.sqrt(v / (1 - betas[1] ** t)) + eps)
        return x - lr * weight_decay * x - step if decoupled else x - step

    return update


def rmsprop_reference(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0):
    v = buffer = 0.0

    def update(t, x, g):
        nonlocal v, buffer
        g = g + weight_decay * x
        v = alpha * v + (1 - alpha) * g * g
        buffer = momentum * buffer + g / (np.sqrt(v) + eps)
        return x - lr * buffer

    return update


CASES = {
    "SGD": (optim.SGD, sgd_reference, dict(lr=0.05)),
    "SGD momentum": (optim.SGD, sgd_reference, dict(lr=0.05, momentum=0.9)),
    "SGD Nesterov": (optim.SGD, sgd_reference, dict(lr=0.05, momentum=0.9, nesterov=True)),
    "SGD dampening, weight decay": (
        optim.SGD, sgd_reference, dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.3)
    ),
    "Adam": (optim.Adam, adam_reference, dict(lr=0.1)),
    "Adam weight decay": (optim.Adam, adam_reference, dict(lr=0.1, betas=(0.8, 0.9),
                                                           weight_decay=0.2)),
    "AdamW": (optim.AdamW, lambda **hp: adam_reference(decoupled=True, **hp),
              dict(lr=0.1, weight_decay=0.2)),
    "RMSprop": (optim.RMSprop, rmsprop_reference, dict(lr=0.01)),
    "RMSprop momentum, weight decay": (
        optim.RMSprop, rmsprop_reference, dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)
    ),
}
STEPS = 4


def run_complex(make, steps=STEPS, z0=Z0):
    z = cr.tensor(z0.copy(), requires_grad=True)
    optimizer = make([z])
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        complex_loss(z).backward()
        optimizer.step()
        history.append(z.numpy().copy())
    return history, optimizer


@pytest.mark.parametrize("case", CASES)
def test_each_optimiser_steps_a_complex_parameter_as_its_real_view_by_hand(case):
    make, reference, hyperparameters = CASES[case]
    history, _ = run_complex(lambda ps: make(ps, **hyperparameters))
    update, pairs = reference(**hyperparameters), as_pairs(Z0)
    for t, z in enumerate(history, start=1):
        pairs = update(t, pairs, pairs_gradient(pairs))
        np.testing.assert_allclose(as_pairs(z), pairs, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("case", CASES)
def test_each_optimiser_steps_a_complex_parameter_as_on_a_float_parameter_of_pairs(case):
    make, _, hyperparameters = CASES[case]
    history, _ = run_complex(lambda ps: make(ps, **hyperparameters))
    pairs = cr.tensor(as_pairs(Z0), requires_grad=True)
    optimizer = make([pairs], **hyperparameters)
    for z in history:
        optimizer.zero_grad()
        pairs_loss(pairs).backward()
        optimizer.step()
        np.testing.assert_allclose(as_pairs(z), pairs.numpy(), rtol=1e-11, atol=1e-13)


def test_the_complex_gradient_is_pytorchs_and_its_real_view_is_the_pairs_gradient():
    z = cr.tensor(Z0.copy(), requires_grad=True)
    complex_loss(z).backward()
    np.testing.assert_allclose(as_pairs(z.grad.numpy()), pairs_gradient(as_pairs(Z0)), rtol=1e-12)


def test_adam_and_rmsprop_normalise_the_real_and_imaginary_parts_separately():
    # loss = Re(conj(c) z) = 3 Re z + 4 Im z: PyTorch's gradient is c = 3+4j. Adam's first step
    # is lr * m_hat / sqrt(v_hat) per part = lr (1 + 1j); with |g|^2 it would be lr g / |g|.
    c = 3 + 4j
    for make in (lambda ps: optim.Adam(ps, lr=0.1, eps=0.0),
                 lambda ps: optim.RMSprop(ps, lr=0.01, eps=0.0)):  # 0.01 g / sqrt(0.01 g^2)
        z = cr.tensor(np.array([0.5 - 1j]), requires_grad=True)
        optimizer = make([z])
        cnp.sum(cnp.real(np.conj(c) * z)).backward()
        np.testing.assert_allclose(z.grad.numpy(), [c])
        optimizer.step()
        np.testing.assert_allclose(z.numpy(), [0.5 - 1j - 0.1 * (1 + 1j)], rtol=1e-14)


def test_complex64_parameters_stay_complex64_and_their_state_is_complex():
    z = cr.tensor(Z0.astype(np.complex64), requires_grad=True)
    optimizer = optim.Adam([z], lr=0.1)
    complex_loss(z).backward()
    optimizer.step()
    assert z.dtype == np.complex64
    state = optimizer.state_dict()
    assert state["state.0.exp_avg_sq"].dtype == np.complex64
    assert state["state.0.exp_avg_sq"].shape == z.shape


RESUMED = ["SGD Nesterov", "Adam", "AdamW", "RMSprop momentum, weight decay"]


@pytest.mark.parametrize("case", RESUMED)
def test_state_dict_of_a_complex_parameter_is_complex_and_resumes_exactly(case):
    make, _, hyperparameters = CASES[case]
    straight, _ = run_complex(lambda ps: make(ps, **hyperparameters), steps=4)
    first, first_optimizer = run_complex(lambda ps: make(ps, **hyperparameters), steps=2)
    state = first_optimizer.state_dict()
    for key, buffer in state.items():
        if key.startswith("state.") and not key.endswith(".step"):  # step: Adam's count
            assert buffer.dtype == np.complex128 and buffer.shape == Z0.shape, key
    if "state.0.exp_avg_sq" in state:  # PyTorch's layout: per part second moments, both >= 0
        squares = state["state.0.exp_avg_sq"]
        assert (squares.real > 0).all() and (squares.imag > 0).all()
    resumed, _ = run_complex(
        lambda ps: _loaded(make(ps, **hyperparameters), state), steps=2, z0=first[-1]
    )
    np.testing.assert_array_equal(resumed[-1], straight[-1])


def _loaded(optimizer, state):
    optimizer.load_state_dict(state)
    return optimizer


def test_clip_grad_norm_measures_complex_gradients_by_their_modulus():
    a = cr.tensor(np.array([0.0j]), requires_grad=True)
    b = cr.tensor(np.array([0.0]), requires_grad=True)
    # gradients 3+4j (|.| = 5) and 12: joint norm 13, as PyTorch's (never sqrt(sum g^2) = sqrt(137))
    (cnp.sum(cnp.real(np.conj(3 + 4j) * a)) + cnp.sum(12 * b)).backward()
    assert optim.clip_grad_norm_([a, b], max_norm=1.0) == pytest.approx(13.0)
    np.testing.assert_allclose(a.grad.numpy(), [(3 + 4j) / 13], rtol=1e-6)
    np.testing.assert_allclose(b.grad.numpy(), [12 / 13], rtol=1e-6)
    assert a.grad.dtype == np.complex128


def test_schedules_set_the_learning_rate_of_a_complex_step():
    z = cr.tensor(np.array([1 + 1j]), requires_grad=True)
    optimizer = optim.SGD([z], lr=1.0)
    scheduler = optim.StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        cnp.sum(cnp.real(np.conj(2j) * z)).backward()  # gradient 2j
        optimizer.step()
        scheduler.step()
    # lr 1, 0.5, 0.25: z = 1+1j - 2j (1 + 0.5 + 0.25)
    np.testing.assert_allclose(z.numpy(), [1 + 1j - 3.5j], rtol=1e-14)


def test_a_complex_least_squares_fit_converges_to_the_normal_equations_solution():
    rng = np.random.default_rng(0)
    design = rng.normal(size=(40, 3)) + 1j * rng.normal(size=(40, 3))
    truth = np.array([1 - 2j, 0.5j, -1.5 + 0.25j])
    noise = 0.05 * (rng.normal(size=40) + 1j * rng.normal(size=40))
    measured = design @ truth + noise
    best = np.linalg.lstsq(design, measured, rcond=None)[0]
    for make, steps, tolerance in ((lambda ps: optim.SGD(ps, lr=2e-3, momentum=0.9), 600, 1e-9),
                                   (lambda ps: optim.Adam(ps, lr=0.05), 1500, 1e-4)):
        z = cr.tensor(np.zeros(3, complex), requires_grad=True)
        optimizer = make([z])
        for _ in range(steps):
            optimizer.zero_grad()
            cnp.sum(cnp.abs(design @ z - measured) ** 2).backward()
            optimizer.step()
        np.testing.assert_allclose(z.numpy(), best, atol=tolerance)
        assert np.abs(z.numpy() - truth).max() < 0.05
