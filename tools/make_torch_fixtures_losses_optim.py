"""Write tests/fixtures/torch_losses_optim.npz: PyTorch's answers for the losses, LBFGS, the
learning-rate schedules and optimisers with two parameter groups, for tests/test_losses.py and
tests/test_optim_more.py to compare against (float64 throughout).

    .venv-bench/bin/python tools/make_torch_fixtures_losses_optim.py

Layout (flat names in one .npz, no pickles):
    meta                     UTF-8 JSON: for each loss case its function (the name in
                             torch.nn.functional and nn.functional), the names of its input
                             and target arrays and its keyword arguments (an argument written
                             {"array": name} is that array); LBFGS and schedule options
    data.<k>                 input arrays, each stored once
    loss.<case>.value, .grad_input (and .grad_target where PyTorch has it)
    lbfgs.<case>.*           the iterate and returned loss after each step()
    sched.<case>.*           metrics, the lr of every group after construction and each step
    groups.<case>.*          the parameters after each step of an optimiser with two groups
"""

import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "torch_losses_optim.npz")
torch.set_default_dtype(torch.float64)
RNG = np.random.default_rng(20240616)
arrays = {}
meta = {"losses": {}, "lbfgs": {}, "sched": {}}
_shared = {}


def put(name, value):
    arrays[name] = np.asarray(value)


def shared(value):
    """Store an input array once, however many cases use it; returns its name."""
    value = np.array(value, order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
    key = (value.dtype.str, value.shape, value.tobytes())
    if key not in _shared:
        _shared[key] = f"data.{len(_shared)}"
        put(_shared[key], value)
    return _shared[key]


# ----- losses ------------------------------------------------------------------------------------
def loss_case(case, function, x, target, target_grad=False, **kwargs):
    """Evaluate torch.nn.functional.<function>(x, target, **kwargs); arrays among kwargs are
    stored beside the case and named in its JSON."""
    prefix = f"loss.{case}."
    named = {}
    torch_kwargs = {}
    for key, value in kwargs.items():
        if isinstance(value, np.ndarray):
            named[key] = {"array": shared(value)}
            torch_kwargs[key] = torch.tensor(value)
        else:
            named[key] = value
            torch_kwargs[key] = value
    meta["losses"][case] = {"function": function, "input": shared(x), "target": shared(target),
                            "kwargs": named}
    xt = torch.tensor(x, requires_grad=True)
    tt = torch.tensor(target)
    if target_grad:
        tt.requires_grad_(True)
    value = getattr(F, function)(xt, tt, **torch_kwargs)
    put(prefix + "value", value.detach().numpy())
    value.sum().backward()
    put(prefix + "grad_input", xt.grad.numpy())
    if target_grad:
        put(prefix + "grad_target", tt.grad.numpy())


def losses():
    n, c = 6, 4
    logits = RNG.normal(size=(n, c)) * 2
    labels = RNG.integers(0, c, size=n)
    weight = RNG.uniform(0.2, 2.0, size=c)
    with_ignored = labels.copy()
    with_ignored[[1, 4]] = -100
    with_class_1_ignored = labels.copy()
    with_class_1_ignored[[0, 2]] = 1
    probabilities = RNG.dirichlet(np.ones(c), size=n)
    for reduction in ("mean", "sum", "none"):
        loss_case(f"ce_{reduction}", "cross_entropy", logits, labels, reduction=reduction)
        loss_case(f"ce_weight_{reduction}", "cross_entropy", logits, labels, weight=weight,
                  reduction=reduction)
        loss_case(f"ce_ignore_weight_smooth_{reduction}", "cross_entropy", logits, with_ignored,
                  weight=weight, label_smoothing=0.2, reduction=reduction)
        loss_case(f"ce_prob_weight_smooth_{reduction}", "cross_entropy", logits, probabilities,
                  target_grad=True, weight=weight, label_smoothing=0.15, reduction=reduction)
        loss_case(f"nll_weight_ignore_{reduction}", "nll_loss",
                  np.log(probabilities), with_ignored, weight=weight, reduction=reduction)
    loss_case("ce_ignore", "cross_entropy", logits, with_ignored)
    loss_case("ce_ignore_index_1", "cross_entropy", logits, with_class_1_ignored, ignore_index=1)
    loss_case("ce_ignore_index_1_weight", "cross_entropy", logits, with_class_1_ignored,
              ignore_index=1, weight=weight)
    loss_case("ce_smooth", "cross_entropy", logits, labels, label_smoothing=0.1)
    loss_case("ce_smooth_weight", "cross_entropy", logits, labels, weight=weight,
              label_smoothing=0.3)
    loss_case("ce_prob", "cross_entropy", logits, probabilities, target_grad=True)
    loss_case("ce_prob_smooth", "cross_entropy", logits, probabilities, label_smoothing=0.1)
    loss_case("ce_huge_logits", "cross_entropy", np.array([[1000.0, 0.0, -1000.0]]),
              np.array([1]))
    # K-dimensional: (N, C, d1, d2) scores, (N, d1, d2) targets.
    scores = RNG.normal(size=(2, 3, 4, 2))
    spatial = RNG.integers(0, 3, size=(2, 4, 2))
    spatial[0, 1, 1] = -100
    spatial_probabilities = RNG.dirichlet(np.ones(3), size=(2, 4, 2)).transpose(0, 3, 1, 2)
    for reduction in ("mean", "none"):
        loss_case(f"ce_kdim_{reduction}", "cross_entropy", scores, spatial,
                  weight=np.array([0.5, 1.0, 2.0]), label_smoothing=0.1, reduction=reduction)
        loss_case(f"ce_kdim_prob_{reduction}", "cross_entropy", scores,
                  spatial_probabilities, reduction=reduction)
        loss_case(f"nll_kdim_{reduction}", "nll_loss", scores, spatial, reduction=reduction)
    loss_case("ce_unbatched", "cross_entropy", logits[0], np.array(2))
    loss_case("ce_unbatched_prob", "cross_entropy", logits[0], probabilities[0])
    loss_case("nll_plain", "nll_loss", np.log(probabilities), labels)

    p = RNG.uniform(0.05, 0.95, size=(5, 3))
    t = RNG.uniform(0, 1, size=(5, 3))
    w = RNG.uniform(0.5, 1.5, size=(5, 3))
    for reduction in ("mean", "sum", "none"):
        loss_case(f"bce_{reduction}", "binary_cross_entropy", p, t, target_grad=True,
                  reduction=reduction)
    loss_case("bce_weight", "binary_cross_entropy", p, t, weight=w)
    loss_case("bce_weight_row", "binary_cross_entropy", p, t, weight=w[0])
    z = RNG.normal(size=(5, 3)) * 3
    pos_weight = np.array([0.5, 2.0, 3.0])
    for reduction in ("mean", "sum", "none"):
        loss_case(f"bcel_{reduction}", "binary_cross_entropy_with_logits", z, t,
                  target_grad=True, reduction=reduction)
        loss_case(f"bcel_pos_weight_{reduction}", "binary_cross_entropy_with_logits", z, t,
                  target_grad=True, pos_weight=pos_weight, weight=w, reduction=reduction)
    loss_case("bcel_huge", "binary_cross_entropy_with_logits", np.array([-800.0, 0.0, 800.0]),
              np.array([1.0, 0.5, 0.0]), pos_weight=np.array([2.0]))

    a, b = RNG.normal(size=(4, 5)), RNG.normal(size=(4, 5))
    b[0, 0] = a[0, 0]  # a zero difference: the L1 gradient there is 0
    for reduction in ("mean", "sum", "none"):
        loss_case(f"mse_{reduction}", "mse_loss", a, b, target_grad=True, reduction=reduction)
        loss_case(f"l1_{reduction}", "l1_loss", a, b, target_grad=True, reduction=reduction)
        loss_case(f"smooth_l1_{reduction}", "smooth_l1_loss", a, b, target_grad=True,
                  reduction=reduction)
        loss_case(f"huber_{reduction}", "huber_loss", a, b, target_grad=True,
                  reduction=reduction)
    for beta in (0.5, 2.0, 0.0):
        loss_case(f"smooth_l1_beta_{beta}", "smooth_l1_loss", a, b, beta=beta)
    for delta in (0.3, 2.5):
        loss_case(f"huber_delta_{delta}", "huber_loss", a, b, delta=delta)

    log_q = np.log(RNG.dirichlet(np.ones(4), size=3))
    target_p = RNG.dirichlet(np.ones(4), size=3)
    target_p[0, 1] = 0.0  # 0 log 0 = 0
    target_p[0] /= target_p[0].sum()
    for reduction in ("mean", "batchmean", "sum", "none"):
        loss_case(f"kl_{reduction}", "kl_div", log_q, target_p, target_grad=True,
                  reduction=reduction)
        loss_case(f"kl_log_target_{reduction}", "kl_div", log_q,
                  np.log(RNG.dirichlet(np.ones(4), size=3)), target_grad=True,
                  reduction=reduction, log_target=True)


# ----- LBFGS -------------------------------------------------------------------------------------
def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def lbfgs_case(case, start, loss_fn, steps, **options):
    """Run torch.optim.LBFGS; record the parameters and the returned loss after each step."""
    prefix = f"lbfgs.{case}."
    params = [torch.tensor(value, requires_grad=True) for value in start]
    optimizer = torch.optim.LBFGS(params, **options)

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(*params)
        loss.backward()
        return loss

    iterates, losses_ = [], []
    for _ in range(steps):
        losses_.append(float(optimizer.step(closure).detach()))
        iterates.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    state = optimizer.state[params[0]]
    meta["lbfgs"][case] = {"options": options, "start": [shared(value) for value in start],
                           "func_evals": state["func_evals"], "n_iter": state["n_iter"]}
    put(prefix + "iterates", np.array(iterates))
    put(prefix + "losses", np.array(losses_))


def lbfgs():
    start = np.array([-1.5, 2.0])
    for search in ("strong_wolfe", None):
        name = search or "none"
        lbfgs_case(f"rosenbrock_{name}", [start], rosenbrock, steps=8, lr=1, max_iter=5,
                   line_search_fn=search)
    lbfgs_case("rosenbrock_wolfe_long", [start], rosenbrock, steps=2, lr=1, max_iter=40,
               line_search_fn="strong_wolfe")
    a = RNG.normal(size=(20, 4))
    b = RNG.normal(size=20)
    meta["lbfgs_least_squares"] = {"a": shared(a), "b": shared(b)}
    at, bt = torch.tensor(a), torch.tensor(b)

    def least_squares(w, bias):
        return ((at @ w + bias - bt) ** 2).mean()

    for search in ("strong_wolfe", None):
        name = search or "none"
        lbfgs_case(f"least_squares_{name}", [np.zeros(4), np.zeros(1)], least_squares,
                   steps=4, lr=0.5 if search is None else 1, max_iter=3, history_size=2,
                   line_search_fn=search)


# ----- schedules ---------------------------------------------------------------------------------
def optimizer_with_groups(lrs):
    params = [torch.zeros(1, requires_grad=True) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=lrs[0])


def record(case, scheduler, optimizer, steps, metrics=None, options=None):
    lrs = [[group["lr"] for group in optimizer.param_groups]]
    for step in range(steps):
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[step])
        lrs.append([group["lr"] for group in optimizer.param_groups])
    put(f"sched.{case}.lrs", np.array(lrs))
    meta["sched"][case] = {"options": options or {}, "metrics": metrics}


def schedules():
    sched = torch.optim.lr_scheduler
    metrics = [1.0, 0.9, 0.95, 0.95, 0.9, 0.89995, 0.91, 0.92, 0.8, 0.85, 0.85, 0.85, 0.85,
               0.85, 0.85, 0.85, 0.85, 0.85, 0.85, 0.85]
    plateau_options = [
        dict(mode="min", factor=0.5, patience=2, threshold=1e-4, threshold_mode="rel",
             cooldown=1, min_lr=[0.02, 0.001]),
        dict(mode="min", factor=0.1, patience=0, threshold=0.05, threshold_mode="abs",
             cooldown=0, min_lr=0.0),
        dict(mode="max", factor=0.3, patience=1, threshold=0.01, threshold_mode="rel",
             cooldown=2, min_lr=1e-3),
        dict(mode="max", factor=0.5, patience=3, threshold=0.02, threshold_mode="abs",
             cooldown=0, min_lr=0.0),
    ]
    for number, options in enumerate(plateau_options):
        optimizer = optimizer_with_groups([0.1, 0.05])
        scheduler = sched.ReduceLROnPlateau(optimizer, **options)
        record(f"plateau_{number}", scheduler, optimizer, len(metrics), metrics, options)

    optimizer = optimizer_with_groups([0.1, 0.03])
    options = dict(start_factor=0.25, end_factor=1.0, total_iters=4)
    record("linear", sched.LinearLR(optimizer, **options), optimizer, 8, options=options)

    optimizer = optimizer_with_groups([0.2])
    options = dict(start_factor=1.0, end_factor=0.1, total_iters=5)
    record("linear_down", sched.LinearLR(optimizer, **options), optimizer, 8, options=options)

    optimizer = optimizer_with_groups([0.1, 0.03])
    options = dict(T_max=5, eta_min=0.01)
    record("cosine", sched.CosineAnnealingLR(optimizer, **options), optimizer, 14,
           options=options)

    optimizer = optimizer_with_groups([0.1, 0.03])
    scheduler = sched.LambdaLR(optimizer, [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)])
    record("lambda", scheduler, optimizer, 6)

    optimizer = optimizer_with_groups([0.1, 0.03])
    options = dict(warmup=3, start_factor=0.1, T_max=7, eta_min=0.001)
    scheduler = sched.SequentialLR(optimizer, [
        sched.LinearLR(optimizer, start_factor=0.1, end_factor=1.0, total_iters=3),
        sched.CosineAnnealingLR(optimizer, T_max=7, eta_min=0.001),
    ], milestones=[3])
    record("warmup_cosine", scheduler, optimizer, 12, options=options)

    optimizer = optimizer_with_groups([0.1])
    scheduler = sched.SequentialLR(optimizer, [
        sched.LinearLR(optimizer, start_factor=0.5, total_iters=2),
        sched.StepLR(optimizer, step_size=2, gamma=0.5),
        sched.CosineAnnealingLR(optimizer, T_max=3),
    ], milestones=[2, 6])
    record("sequential_three", scheduler, optimizer, 10)


# ----- parameter groups --------------------------------------------------------------------------
def groups_problem():
    a0 = RNG.normal(size=3)
    b0 = RNG.normal(size=(2, 3))
    c = RNG.normal(size=2)
    meta["groups_problem"] = {"a0": shared(a0), "b0": shared(b0), "c": shared(c)}
    return a0, b0, c


def run_groups(case, make, a0, b0, c, steps=6):
    a = torch.tensor(a0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    optimizer = make(a, b)
    trajectory = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = ((b @ a - torch.tensor(c)) ** 2).sum() + (a ** 4).sum() * 0.1
        loss.backward()
        optimizer.step()
        trajectory.append(np.concatenate([a.detach().numpy(), b.detach().numpy().ravel()]))
    put(f"groups.{case}.trajectory", np.array(trajectory))


def groups():
    a0, b0, c = groups_problem()
    run_groups("sgd", lambda a, b: torch.optim.SGD(
        [{"params": [a], "lr": 0.05, "momentum": 0.9, "nesterov": True},
         {"params": [b], "weight_decay": 0.1, "momentum": 0.5, "dampening": 0.1}], lr=0.02),
        a0, b0, c)
    run_groups("adam", lambda a, b: torch.optim.Adam(
        [{"params": [a]},
         {"params": [b], "lr": 0.1, "betas": (0.8, 0.99), "weight_decay": 0.01,
          "amsgrad": True}], lr=0.01), a0, b0, c)
    run_groups("adamw", lambda a, b: torch.optim.AdamW(
        [{"params": [a], "weight_decay": 0.0},
         {"params": [b], "lr": 0.05}], lr=0.02, weight_decay=0.1), a0, b0, c)
    run_groups("rmsprop", lambda a, b: torch.optim.RMSprop(
        [{"params": [a], "centered": True},
         {"params": [b], "lr": 0.003, "momentum": 0.8, "weight_decay": 0.05}], lr=0.01),
        a0, b0, c)

    # Scheduled groups: StepLR halves both groups' rates every 2 steps.
    def scheduled(a, b):
        optimizer = torch.optim.SGD([{"params": [a], "lr": 0.05}, {"params": [b]}], lr=0.01,
                                    momentum=0.9)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        original = optimizer.step

        def step():
            original()
            scheduler.step()

        optimizer.step = step
        return optimizer

    run_groups("sgd_step_lr", scheduled, a0, b0, c)


def main():
    warnings.filterwarnings("ignore", message=".*divides the total loss by both")
    warnings.filterwarnings("ignore", message=".*optimizer.step.* has been overridden")
    losses()
    lbfgs()
    schedules()
    groups()
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {os.path.normpath(OUT)}: {len(arrays)} arrays, "
          f"{os.path.getsize(OUT) / 1024:.1f} KB (torch {torch.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()
