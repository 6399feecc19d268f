"""chainrule.optim beyond the single-group basics: parameter groups, zero_grad(set_to_none),
state dicts with groups and per-parameter state, LBFGS and the schedules, compared with
PyTorch's answers in tests/fixtures/torch_losses_optim.npz (tools/make_torch_fixtures_losses_
optim.py) where PyTorch has them."""

import json
import math
import os

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.optim as optim
from chainrule.errors import ShapeError
from chainrule.optim import lr_scheduler

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "torch_losses_optim.npz")
with np.load(FIXTURE, allow_pickle=False) as _archive:
    ARRAYS = {name: _archive[name] for name in _archive.files}
META = json.loads(bytes(ARRAYS["meta"]).decode("utf-8"))


# ----- LBFGS against PyTorch ---------------------------------------------------------------------
def _rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _least_squares():
    spec = META["lbfgs_least_squares"]
    a, b = ARRAYS[spec["a"]], ARRAYS[spec["b"]]
    return lambda w, bias: (((cr.tensor(a) @ w + bias - b) ** 2)).mean()


@pytest.mark.parametrize("case", sorted(META["lbfgs"]))
def test_lbfgs_iterates_match_pytorch(case):
    spec = META["lbfgs"][case]
    params = [cr.tensor(ARRAYS[name], requires_grad=True) for name in spec["start"]]
    loss_fn = _rosenbrock if case.startswith("rosenbrock") else _least_squares()
    optimizer = optim.LBFGS(params, **spec["options"])

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(*params)
        loss.backward()
        return loss

    iterates, losses = [], []
    for _ in range(len(ARRAYS[f"lbfgs.{case}.losses"])):
        losses.append(float(optimizer.step(closure).detach()))
        iterates.append(np.concatenate([p.numpy().ravel() for p in params]))
    np.testing.assert_allclose(iterates, ARRAYS[f"lbfgs.{case}.iterates"], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(losses, ARRAYS[f"lbfgs.{case}.losses"], rtol=1e-7, atol=1e-12)
    state = optimizer.state[params[0]]
    assert (state["func_evals"], state["n_iter"]) == (spec["func_evals"], spec["n_iter"])


def test_lbfgs_minimises_rosenbrock_with_the_line_search():
    x = cr.tensor(np.array([-1.5, 2.0]), requires_grad=True)
    optimizer = optim.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100,
                            tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure():
        optimizer.zero_grad()
        loss = _rosenbrock(x)
        loss.backward()
        return loss

    optimizer.step(closure)
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-8)


def test_lbfgs_needs_a_closure_and_one_group():
    p = nn.Parameter(np.ones(2))
    optimizer = optim.LBFGS([p])
    with pytest.raises(TypeError, match="needs a closure"):
        optimizer.step()
    with pytest.raises(ValueError, match="per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [nn.Parameter(np.ones(1))]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([p], line_search_fn="backtracking")


def test_lbfgs_state_dict_resumes_exactly():
    def make(start):
        x = cr.tensor(start, requires_grad=True)
        optimizer = optim.LBFGS([x], max_iter=3, history_size=2, line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            loss = _rosenbrock(x)
            loss.backward()
            return loss

        return x, optimizer, closure

    x, optimizer, closure = make(np.array([-1.2, 1.0]))
    for _ in range(4):
        optimizer.step(closure)
    straight = x.numpy().copy()
    x, optimizer, closure = make(np.array([-1.2, 1.0]))
    for _ in range(2):
        optimizer.step(closure)
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"lbfgs-{os.getpid()}.npz")
    cr.save({"x": x.numpy(), "optim": optimizer.state_dict()}, path)
    saved = cr.load(path)
    os.unlink(path)
    y, resumed, closure = make(saved["x"])
    resumed.load_state_dict(saved["optim"])
    for _ in range(2):
        resumed.step(closure)
    np.testing.assert_array_equal(y.numpy(), straight)


def test_lbfgs_steps_complex_parameters_as_real_pairs():
    z = cr.tensor(np.array([1.0 + 2.0j, -0.5j]), requires_grad=True)
    target = np.array([0.3 - 0.1j, 2.0 + 1.0j])
    optimizer = optim.LBFGS([z], line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        difference = z - target
        loss = (cr.numpy.real(difference) ** 2 + cr.numpy.imag(difference) ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    np.testing.assert_allclose(z.numpy(), target, atol=1e-8)


# ----- schedules against PyTorch -----------------------------------------------------------------
def _sgd_with_groups(lrs):
    params = [nn.Parameter(np.zeros(1)) for _ in lrs]
    return optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])


def _run_schedule(optimizer, scheduler, steps, metrics=None):
    lrs = [[group["lr"] for group in optimizer.param_groups]]
    for step in range(steps):
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[step])
        lrs.append([group["lr"] for group in optimizer.param_groups])
        assert scheduler.get_last_lr() == lrs[-1]
    return np.array(lrs)


def _expected_lrs(case):
    return ARRAYS[f"sched.{case}.lrs"]


@pytest.mark.parametrize("case", [c for c in sorted(META["sched"]) if c.startswith("plateau")])
def test_reduce_lr_on_plateau_matches_pytorch(case):
    spec = META["sched"][case]
    expected = _expected_lrs(case)
    optimizer = _sgd_with_groups(list(expected[0]))
    scheduler = optim.ReduceLROnPlateau(optimizer, **spec["options"])
    got = _run_schedule(optimizer, scheduler, len(spec["metrics"]), spec["metrics"])
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert len(np.unique(got[:, 0])) > 2  # the sequence does reduce, more than once


SCHEDULES = {
    "linear": lambda o: optim.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4),
    "linear_down": lambda o: optim.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=5),
    "cosine": lambda o: optim.CosineAnnealingLR(o, T_max=5, eta_min=0.01),
    "lambda": lambda o: optim.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)]),
    "warmup_cosine": lambda o: lr_scheduler.warmup_cosine(o, warmup_steps=3, total_steps=10,
                                                          start_factor=0.1, eta_min=0.001),
    "sequential_three": lambda o: optim.SequentialLR(o, [
        optim.LinearLR(o, start_factor=0.5, total_iters=2),
        optim.StepLR(o, step_size=2, gamma=0.5),
        optim.CosineAnnealingLR(o, T_max=3),
    ], milestones=[2, 6]),
}


BASE_LRS = {"linear": [0.1, 0.03], "linear_down": [0.2], "cosine": [0.1, 0.03],
            "lambda": [0.1, 0.03], "warmup_cosine": [0.1, 0.03], "sequential_three": [0.1]}


@pytest.mark.parametrize("case", sorted(SCHEDULES))
def test_schedules_match_pytorch(case):
    expected = _expected_lrs(case)
    optimizer = _sgd_with_groups(BASE_LRS[case])
    scheduler = SCHEDULES[case](optimizer)
    got = _run_schedule(optimizer, scheduler, len(expected) - 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_warmup_recipe_spelled_out_equals_warmup_cosine():
    a, b = _sgd_with_groups([0.1]), _sgd_with_groups([0.1])
    spelled = optim.SequentialLR(a, [
        optim.LinearLR(a, start_factor=0.01, total_iters=5),
        optim.CosineAnnealingLR(a, T_max=15, eta_min=1e-4),
    ], milestones=[5])
    helper = lr_scheduler.warmup_cosine(b, warmup_steps=5, total_steps=20, eta_min=1e-4)
    np.testing.assert_array_equal(_run_schedule(a, spelled, 25), _run_schedule(b, helper, 25))


def test_cosine_annealing_reaches_eta_min_at_t_max_and_continues_as_pytorch():
    optimizer = _sgd_with_groups([1.0])
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=4, eta_min=0.2)
    lrs = _run_schedule(optimizer, scheduler, 8)[:, 0]
    assert lrs[4] == pytest.approx(0.2) and lrs[8] == pytest.approx(1.0)


def test_schedulers_state_dicts_resume():
    def make():
        optimizer = _sgd_with_groups([0.1, 0.05])
        return optimizer, lr_scheduler.warmup_cosine(optimizer, 3, 12)

    optimizer, scheduler = make()
    _run_schedule(optimizer, scheduler, 5)
    state = {"optim": optimizer.state_dict(), "sched": scheduler.state_dict()}
    straight = _run_schedule(optimizer, scheduler, 5)
    fresh_optimizer, fresh = make()
    fresh_optimizer.load_state_dict(state["optim"])
    fresh.load_state_dict(state["sched"])
    np.testing.assert_array_equal(_run_schedule(fresh_optimizer, fresh, 5), straight)

    optimizer = _sgd_with_groups([0.1])
    plateau = optim.ReduceLROnPlateau(optimizer, patience=1, cooldown=1)
    for metric in (1.0, 1.0, 1.0, 0.5):
        plateau.step(metric)
    restored = optim.ReduceLROnPlateau(_sgd_with_groups([0.1]), patience=1, cooldown=1)
    restored.load_state_dict(plateau.state_dict())
    assert (restored.best, restored.num_bad_epochs, restored.cooldown_counter,
            restored.last_epoch) == (0.5, 0, 0, 4)


def test_schedulers_reject_bad_settings():
    optimizer = _sgd_with_groups([0.1])
    with pytest.raises(ValueError, match="factor must be < 1"):
        optim.ReduceLROnPlateau(optimizer, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        optim.ReduceLROnPlateau(optimizer, mode="lowest")
    with pytest.raises(ValueError, match="start_factor"):
        optim.LinearLR(optimizer, start_factor=0.0)
    with pytest.raises(ValueError, match="milestones"):
        optim.SequentialLR(optimizer, [optim.LinearLR(optimizer), optim.StepLR(optimizer, 2)],
                           milestones=[])
    with pytest.raises(KeyError, match="initial_lr"):
        optim.StepLR(_sgd_with_groups([0.1]), 2, last_epoch=3)


# ----- parameter groups against PyTorch ----------------------------------------------------------
def _groups_problem():
    spec = META["groups_problem"]
    return ARRAYS[spec["a0"]], ARRAYS[spec["b0"]], ARRAYS[spec["c"]]


GROUPS = {
    "sgd": lambda a, b: optim.SGD(
        [{"params": [a], "lr": 0.05, "momentum": 0.9, "nesterov": True},
         {"params": [b], "weight_decay": 0.1, "momentum": 0.5, "dampening": 0.1}], lr=0.02),
    "adam": lambda a, b: optim.Adam(
        [{"params": [a]},
         {"params": [b], "lr": 0.1, "betas": (0.8, 0.99), "weight_decay": 0.01,
          "amsgrad": True}], lr=0.01),
    "adamw": lambda a, b: optim.AdamW(
        [{"params": [a], "weight_decay": 0.0}, {"params": [b], "lr": 0.05}], lr=0.02,
        weight_decay=0.1),
    "rmsprop": lambda a, b: optim.RMSprop(
        [{"params": [a], "centered": True},
         {"params": [b], "lr": 0.003, "momentum": 0.8, "weight_decay": 0.05}], lr=0.01),
}


def _trajectory(make, steps=6, scheduler=None):
    a0, b0, c = _groups_problem()
    a, b = nn.Parameter(a0), nn.Parameter(b0)
    optimizer = make(a, b)
    schedule = scheduler(optimizer) if scheduler else None
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((b @ a - c) ** 2).sum() + (a ** 4).sum() * 0.1
        loss.backward()
        optimizer.step()
        if schedule:
            schedule.step()
        trajectory.append(np.concatenate([a.numpy(), b.numpy().ravel()]))
    return np.array(trajectory)


@pytest.mark.parametrize("case", sorted(GROUPS))
def test_two_parameter_groups_match_pytorch(case):
    np.testing.assert_allclose(_trajectory(GROUPS[case]), ARRAYS[f"groups.{case}.trajectory"],
                               rtol=1e-11, atol=1e-13)


def test_a_schedule_drives_every_group_as_pytorch():
    def make(a, b):
        return optim.SGD([{"params": [a], "lr": 0.05}, {"params": [b]}], lr=0.01, momentum=0.9)

    got = _trajectory(make, scheduler=lambda o: optim.StepLR(o, step_size=2, gamma=0.5))
    np.testing.assert_allclose(got, ARRAYS["groups.sgd_step_lr.trajectory"], rtol=1e-11,
                               atol=1e-13)


def test_param_groups_are_editable_and_add_param_group_appends():
    a, b = nn.Parameter(np.array([1.0])), nn.Parameter(np.array([1.0]))
    optimizer = optim.SGD([a], lr=0.1, momentum=0.0)
    assert optimizer.param_groups[0]["lr"] == 0.1 and optimizer.defaults["lr"] == 0.1
    optimizer.param_groups[0]["lr"] = 0.5
    (a * a).sum().backward()
    optimizer.step()
    assert a.numpy()[0] == pytest.approx(0.0)  # 1 - 0.5 * 2
    optimizer.add_param_group({"params": b, "lr": 0.25})
    assert optimizer.param_groups[1]["momentum"] == 0.0  # the default filled in
    optimizer.zero_grad()
    (b * b).sum().backward()
    optimizer.step()
    assert b.numpy()[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="more than once"):
        optimizer.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="unknown option"):
        optimizer.add_param_group({"params": [nn.Parameter(np.ones(1))], "betas": (0.9, 0.9)})
    with pytest.raises(AttributeError, match="different values of 'lr'"):
        _ = optimizer.lr
    optimizer.lr = 0.01  # sets every group
    assert [g["lr"] for g in optimizer.param_groups] == [0.01, 0.01]
    assert "Parameter Group 1" in repr(optimizer)


def test_zero_grad_to_none_or_to_zeros_in_place():
    p = nn.Parameter(np.array([1.0, 2.0]))
    optimizer = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    optimizer.zero_grad()
    assert p.grad is None
    (p * p).sum().backward()
    grad = p.grad
    optimizer.zero_grad(set_to_none=False)
    assert p.grad is grad and np.array_equal(grad.numpy(), [0.0, 0.0])
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, 4.0])
    # A gradient recorded with create_graph=True leaves its graph when zeroed.
    (p * p * p).sum().backward(create_graph=True)
    optimizer.zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None and not p.grad.numpy().any()


def test_step_with_a_closure_returns_its_loss():
    p = nn.Parameter(np.array([3.0]))
    optimizer = optim.Adam([p], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert float(optimizer.step(closure).detach()) == 9.0
    assert p.numpy()[0] < 3.0


# ----- state dicts -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(GROUPS))
def test_state_dict_with_groups_resumes_exactly_through_cr_save(case, tmp_path):
    a0, b0, c = _groups_problem()

    def run(a, b, optimizer, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            (((b @ a - c) ** 2).sum() + (a ** 4).sum() * 0.1).backward()
            optimizer.step()

    a, b = nn.Parameter(a0), nn.Parameter(b0)
    straight = GROUPS[case](a, b)
    run(a, b, straight, 5)
    first_a, first_b = nn.Parameter(a0), nn.Parameter(b0)
    first = GROUPS[case](first_a, first_b)
    run(first_a, first_b, first, 2)
    first.param_groups[1]["lr"] *= 1.0  # the groups' options are saved, edited or not
    cr.save({"a": first_a, "b": first_b, "optim": first.state_dict()}, tmp_path / "ckpt.crt")
    saved = cr.load(tmp_path / "ckpt.crt")
    resumed_a, resumed_b = nn.Parameter(saved["a"].numpy()), nn.Parameter(saved["b"].numpy())
    resumed = GROUPS[case](nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros((2, 3))))
    resumed = type(resumed)([{"params": [resumed_a]}, {"params": [resumed_b]}],
                            **{"lr": 1.0})  # options come from the state dict
    resumed.load_state_dict(saved["optim"])
    assert [{k: v for k, v in g.items() if k != "params"} for g in resumed.param_groups] == \
        [{k: v for k, v in g.items() if k != "params"} for g in first.param_groups]
    run(resumed_a, resumed_b, resumed, 3)
    np.testing.assert_array_equal(resumed_a.numpy(), a.numpy())
    np.testing.assert_array_equal(resumed_b.numpy(), b.numpy())


def test_state_dict_layout():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    optimizer = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a.sum() + b.sum()).backward()
    optimizer.step()
    state = optimizer.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    np.testing.assert_array_equal(state["param_groups.1.params"], [1])
    assert float(state["param_groups.1.lr"]) == 0.5
    np.testing.assert_array_equal(state["param_groups.0.betas"], [0.9, 0.999])
    assert int(state["state.1.step"]) == 1 and state["state.1.exp_avg"].shape == (3,)
    with pytest.raises(ValueError, match="2 parameter group"):
        optim.Adam([a, b]).load_state_dict(state)
    with pytest.raises(ValueError, match="has 1 parameters"):
        optim.Adam([{"params": [a, b]}, {"params": [nn.Parameter(np.ones(1))]}]) \
            .load_state_dict(state)
    with pytest.raises(ShapeError, match=r"state.1.exp_avg has shape \(3,\)"):
        optim.Adam([{"params": [a]}, {"params": [nn.Parameter(np.ones(4))]}]) \
            .load_state_dict(state)


def test_state_dicts_of_earlier_versions_still_load():
    # The flat layout before parameter groups: one lr, the hyperparameters, a global count.
    p = nn.Parameter(np.array([1.0, -2.0]))
    legacy = {"lr": np.asarray(0.1), "step_count": np.asarray(3), "beta1": np.asarray(0.8),
              "beta2": np.asarray(0.99), "eps": np.asarray(1e-8),
              "weight_decay": np.asarray(0.0), "state.0.exp_avg": np.array([0.1, 0.2]),
              "state.0.exp_avg_sq": np.array([0.01, 0.02])}
    optimizer = optim.Adam([p], lr=1.0)
    optimizer.load_state_dict(legacy)
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.1 and group["betas"] == (0.8, 0.99)
    assert optimizer.state[p]["step"] == 3 and optimizer.step_count == 3


def test_attributes_of_earlier_versions_still_read():
    optimizer = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1, momentum=0.9)
    assert optimizer.lr == 0.1 and optimizer.momentum == 0.9
    with pytest.raises(AttributeError):
        _ = optimizer.no_such_thing


def test_complex_parameters_in_groups_keep_complex_state():
    z = cr.tensor(np.array([1.0 + 1.0j]), requires_grad=True)
    r = nn.Parameter(np.array([2.0]))
    optimizer = optim.Adam([{"params": [z]}, {"params": [r], "lr": 0.01}], lr=0.1)
    (cr.numpy.real(z * np.conj(z)).sum() + (r * r).sum()).backward()
    optimizer.step()
    state = optimizer.state_dict()
    assert state["state.0.exp_avg"].dtype == np.complex128
    assert state["state.1.exp_avg"].dtype == np.float64
    assert math.isclose(r.numpy()[0], 2.0 - 0.01, rel_tol=1e-6)
