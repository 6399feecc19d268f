"""chainrule.optim: each optimiser against its published equations, two steps worked by hand.

The problem is loss(p) = p^2 from p = 1, so the gradient is g = 2p; every expected number below
is written out from the update equations quoted in the comments.
"""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.optim as optim

EPS = 1e-8


def _two_steps(make_optimizer):
    """Values of p after the first and the second step on loss = p^2."""
    p = nn.Parameter(np.array([1.0]))
    optimizer = make_optimizer([p])
    values = []
    for _ in range(2):
        optimizer.zero_grad()
        (p * p).sum().backward()
        optimizer.step()
        values.append(float(p.numpy()[0]))
    return values


def test_sgd_plain():
    # p <- p - lr g: 1 - 0.1*2 = 0.8; 0.8 - 0.1*1.6 = 0.64
    assert _two_steps(lambda ps: optim.SGD(ps, lr=0.1)) == pytest.approx([0.8, 0.64], rel=1e-12)


def test_sgd_momentum():
    # b1 = g1 = 2, p1 = 0.8; b2 = 0.9*2 + 1.6 = 3.4, p2 = 0.8 - 0.34 = 0.46
    values = _two_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9))
    assert values == pytest.approx([0.8, 0.46], rel=1e-12)


def test_sgd_nesterov():
    # b1 = 2, d1 = 2 + 0.9*2 = 3.8, p1 = 1 - 0.38 = 0.62
    # g2 = 1.24, b2 = 0.9*2 + 1.24 = 3.04, d2 = 1.24 + 0.9*3.04 = 3.976, p2 = 0.62 - 0.3976
    values = _two_steps(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
    assert values == pytest.approx([0.62, 0.2224], rel=1e-12)


def test_sgd_weight_decay():
    # g1 = 2 + 0.5*1 = 2.5, p1 = 0.75; g2 = 1.5 + 0.5*0.75 = 1.875, p2 = 0.75 - 0.1875
    values = _two_steps(lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.5))
    assert values == pytest.approx([0.75, 0.5625], rel=1e-12)


def test_adam():
    # t=1: g=2, m=0.1*2=0.2, v=0.001*4=0.004, m_hat=0.2/0.1=2, v_hat=0.004/0.001=4
    p1 = 1 - 0.1 * 2 / (2 + EPS)
    # t=2: g=2 p1, m=0.9*0.2 + 0.1 g, v=0.999*0.004 + 0.001 g^2, bias corrections 1-0.9^2, 1-0.999^2
    g = 2 * p1
    m, v = 0.9 * 0.2 + 0.1 * g, 0.999 * 0.004 + 0.001 * g * g
    p2 = p1 - 0.1 * (m / 0.19) / (math.sqrt(v / 0.001999) + EPS)
    values = _two_steps(lambda ps: optim.Adam(ps, lr=0.1, betas=(0.9, 0.999), eps=EPS))
    assert values == pytest.approx([p1, p2], rel=1e-12)
    assert values[1] == pytest.approx(0.8004123, abs=1e-7)  # 0.9 - 0.1 * 1.894737 / 1.902580


def test_adamw_decouples_weight_decay():
    # p <- p - lr wd p - lr m_hat / (sqrt(v_hat) + eps); g is not decayed
    p1 = 1 - 0.1 * 0.1 * 1 - 0.1 * 2 / (2 + EPS)
    g = 2 * p1
    m, v = 0.9 * 0.2 + 0.1 * g, 0.999 * 0.004 + 0.001 * g * g
    p2 = p1 - 0.1 * 0.1 * p1 - 0.1 * (m / 0.19) / (math.sqrt(v / 0.001999) + EPS)
    values = _two_steps(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.1, eps=EPS))
    assert values == pytest.approx([p1, p2], rel=1e-12)


def test_adam_weight_decay_is_added_to_the_gradient():
    # g1 = 2 + 1*1 = 3: m=0.3, v=0.009 -> m_hat=3, v_hat=9 -> step 0.1*3/(3+eps)
    values = _two_steps(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=1.0, eps=EPS))
    assert values[0] == pytest.approx(1 - 0.1 * 3 / (3 + EPS), rel=1e-12)


def test_rmsprop():
    # v1 = 0.01*4 = 0.04, p1 = 1 - 0.01*2/sqrt(0.04) (= 0.9 up to eps)
    # v2 = 0.99*0.04 + 0.01 g2^2 (= 0.072 for g2 = 1.8), p2 = p1 - 0.01 g2/sqrt(v2)
    p1 = 1 - 0.01 * 2 / (0.2 + EPS)
    g2 = 2 * p1
    p2 = p1 - 0.01 * g2 / (math.sqrt(0.99 * 0.04 + 0.01 * g2 * g2) + EPS)
    values = _two_steps(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.99, eps=EPS))
    assert values == pytest.approx([p1, p2], rel=1e-12)
    assert values[1] == pytest.approx(0.9 - 0.01 * 1.8 / math.sqrt(0.072), abs=1e-7)


def test_rmsprop_momentum():
    # b1 = 2/0.2 = 10, p1 = 0.9; b2 = 0.5*10 + 1.8/sqrt(0.072), p2 = 0.9 - 0.01 b2
    values = _two_steps(lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, eps=0.0))
    assert values == pytest.approx([0.9, 0.9 - 0.01 * (5 + 1.8 / math.sqrt(0.072))], rel=1e-12)


def test_step_updates_parameters_in_place_and_skips_missing_gradients():
    used, unused = nn.Parameter(np.array([1.0, 2.0])), nn.Parameter(np.array([5.0]))
    optimizer = optim.SGD([used, unused], lr=0.5)
    (used * used).sum().backward()
    optimizer.step()
    np.testing.assert_allclose(used.numpy(), [0.0, 0.0])
    np.testing.assert_allclose(unused.numpy(), [5.0])
    assert isinstance(used, nn.Parameter) and used.is_leaf


def test_float32_parameters_stay_float32():
    p = nn.Parameter(np.ones(3, np.float32))
    optimizer = optim.Adam([p])
    (p * p).sum().backward()
    optimizer.step()
    assert p.dtype == np.float32


def test_optimizer_rejects_non_leaves_and_bad_learning_rates():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(TypeError, match="parameter 0 is not a leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="learning rate must be positive"):
        optim.Adam([p], lr=0.0)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)


@pytest.mark.parametrize("make", [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.1),
    lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.3),
])
def test_state_dict_resumes_exactly(make):
    def run(steps, p, optimizer):
        for _ in range(steps):
            optimizer.zero_grad()
            (p * p * p).sum().backward()
            optimizer.step()

    straight = nn.Parameter(np.array([0.7, -0.4]))
    run(4, straight, make([straight]))
    first = nn.Parameter(np.array([0.7, -0.4]))
    first_optimizer = make([first])
    run(2, first, first_optimizer)
    state = first_optimizer.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    resumed = nn.Parameter(first.numpy().copy())
    resumed_optimizer = make([resumed])
    resumed_optimizer.load_state_dict(state)
    run(2, resumed, resumed_optimizer)
    np.testing.assert_array_equal(resumed.numpy(), straight.numpy())


def test_load_state_dict_checks_buffer_shapes():
    optimizer = optim.Adam([nn.Parameter(np.ones(3))])
    state = optim.Adam([nn.Parameter(np.ones(2))]).state_dict()
    state["state.0.exp_avg"] = np.zeros(2)
    with pytest.raises(ValueError, match=r"state.0.exp_avg has shape \(2,\).*expects \(3,\)"):
        optimizer.load_state_dict(state)


def test_step_lr_by_hand():
    optimizer = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    scheduler = optim.StepLR(optimizer, step_size=2, gamma=0.5)
    rates = []
    for _ in range(5):
        scheduler.step()
        rates.append(optimizer.lr)
    assert rates == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_annealing_by_hand():
    optimizer = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=4, eta_min=0.2)
    rates = []
    for _ in range(4):
        scheduler.step()
        rates.append(optimizer.lr)
    # eta_min + 0.8 (1 + cos(pi t / 4)) / 2 for t = 1..4
    expected = [0.2 + 0.4 * (1 + math.cos(math.pi * t / 4)) for t in range(1, 5)]
    assert rates == pytest.approx(expected, rel=1e-12)
    assert rates[-1] == pytest.approx(0.2)
    restored = optim.CosineAnnealingLR(optim.SGD([nn.Parameter(np.ones(1))], lr=1.0), T_max=4,
                                       eta_min=0.2)
    restored.load_state_dict(scheduler.state_dict())
    assert restored.optimizer.lr == pytest.approx(0.2)


def test_clip_grad_norm_scales_to_the_limit_and_returns_the_old_norm():
    a, b = nn.Parameter(np.array([1.0])), nn.Parameter(np.array([1.0]))
    (3 * a + 4 * b).sum().backward()  # gradients 3 and 4: norm 5
    norm = optim.clip_grad_norm_([a, b], max_norm=1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose([a.grad.item(), b.grad.item()], [0.6, 0.8], rtol=1e-6)
    assert optim.clip_grad_norm_([a, b], max_norm=10.0) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose([a.grad.item(), b.grad.item()], [0.6, 0.8], rtol=1e-6)


def test_clip_grad_value_clamps_each_gradient_in_place_as_numpy_clip():
    rng = np.random.default_rng(0)
    a = nn.Parameter(rng.normal(size=(3, 4)).astype(np.float32))
    b = nn.Parameter(rng.normal(size=5))
    unused = nn.Parameter(np.ones(2))
    weights_a, weights_b = rng.normal(size=(3, 4)) * 3, rng.normal(size=5) * 3
    ((a * weights_a.astype(np.float32)).sum() + (b * weights_b).sum()).backward()
    grad_a = a.grad
    expected_a = np.clip(a.grad.numpy(), -0.5, 0.5)
    assert optim.clip_grad_value_([a, b, unused], clip_value=0.5) is None
    np.testing.assert_array_equal(a.grad.numpy(), expected_a)
    np.testing.assert_array_equal(b.grad.numpy(), np.clip(weights_b, -0.5, 0.5))
    assert a.grad is grad_a and a.grad.dtype == np.float32  # in place, dtype kept
    assert unused.grad is None
    assert np.abs(weights_b).max() > 0.5  # something was clipped
    optim.clip_grad_value_(b, 10.0)  # a single tensor; within the limit: unchanged
    np.testing.assert_array_equal(b.grad.numpy(), np.clip(weights_b, -0.5, 0.5))
    with pytest.raises(ValueError, match="non-negative"):
        optim.clip_grad_value_([a], -1.0)


def test_clip_grad_value_clamps_complex_parts_separately():
    z = cr.tensor(np.array([0.0j, 0.0j]), requires_grad=True)
    (cr.numpy.real(np.conj(np.array([3 - 0.25j, 0.5 + 4j])) * z)).sum().backward()
    optim.clip_grad_value_([z], 1.0)
    np.testing.assert_allclose(z.grad.numpy(), [1 - 0.25j, 0.5 + 1j])


def test_nn_utils_is_pytorchs_home_of_the_clipping_functions():
    assert nn.utils.clip_grad_norm_ is optim.clip_grad_norm_
    assert nn.utils.clip_grad_value_ is optim.clip_grad_value_
    from chainrule.nn.utils import clip_grad_norm_  # PyTorch's import spelling

    assert clip_grad_norm_ is optim.clip_grad_norm_


def test_parameters_to_vector_and_back():
    layer = nn.Linear(3, 2, rng=0)
    vector = nn.utils.parameters_to_vector(layer.parameters())
    assert vector.shape == (8,) and vector.dtype == np.float32
    np.testing.assert_array_equal(
        vector.numpy(), np.concatenate([layer.weight.numpy().ravel(), layer.bias.numpy()]))
    (vector * vector).sum().backward()  # recorded: the gradient reaches the parameters
    np.testing.assert_allclose(layer.weight.grad.numpy(), 2 * layer.weight.numpy())
    nn.utils.vector_to_parameters(np.arange(8.0), layer.parameters())
    np.testing.assert_array_equal(layer.weight.numpy(), [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(layer.bias.numpy(), [6, 7])
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    with pytest.raises(cr.errors.ShapeError, match="length 8"):
        nn.utils.vector_to_parameters(np.arange(7.0), layer.parameters())


def test_updates_happen_without_recording():
    p = nn.Parameter(np.array([2.0]))
    optimizer = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.step()
    assert p.grad_fn is None and cr.is_grad_enabled()


def test_clipping_reads_a_grad_set_to_an_array_and_replaces_it_never_writes_it():
    import chainrule as cr
    from chainrule import nn

    for clip in (lambda ps: nn.utils.clip_grad_value_(ps, 1.0),
                 lambda ps: nn.utils.clip_grad_norm_(ps, 1.0)):
        param = cr.tensor(np.zeros(2), requires_grad=True)
        user = np.array([5.0, 5.0])
        param.grad = user
        clip([param])
        assert np.all(np.abs(param.grad.numpy()) <= 1.0 + 1e-12)
        np.testing.assert_array_equal(user, [5.0, 5.0])
