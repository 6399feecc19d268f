"""chainrule.nn.losses against PyTorch's answers (tests/fixtures/torch_losses_optim.npz, written
by tools/make_torch_fixtures_losses_optim.py), against finite differences, and their modules."""

import json
import math
import os
import warnings

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.numpy as cnp
from chainrule.errors import DTypeError, ShapeError

F = nn.functional
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "torch_losses_optim.npz")


def _fixture():
    with np.load(FIXTURE, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return arrays, json.loads(bytes(arrays["meta"]).decode("utf-8"))


ARRAYS, META = _fixture()
CASES = sorted(META["losses"])


def _kwargs(spec):
    return {key: ARRAYS[value["array"]] if isinstance(value, dict) else value
            for key, value in spec["kwargs"].items()}


def _values(t):
    return t.numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


@pytest.mark.parametrize("case", CASES)
def test_loss_matches_pytorch_value_and_gradients(case):
    spec = META["losses"][case]
    expected = {key[len(f"loss.{case}."):]: value for key, value in ARRAYS.items()
                if key.startswith(f"loss.{case}.")}
    x = cr.tensor(ARRAYS[spec["input"]], requires_grad=True)
    target = ARRAYS[spec["target"]]
    if "grad_target" in expected:
        target = cr.tensor(target, requires_grad=True)
    loss = getattr(F, spec["function"])(x, target, **_kwargs(spec))
    np.testing.assert_allclose(_values(loss), expected["value"], rtol=1e-11, atol=1e-13)
    assert np.shape(_values(loss)) == np.shape(expected["value"])
    cnp.sum(loss).backward()
    np.testing.assert_allclose(x.grad.numpy(), expected["grad_input"], rtol=1e-10, atol=1e-13)
    if "grad_target" in expected:
        got, want = target.grad.numpy(), expected["grad_target"]
        # d/dt (t log t - t x) at t = 0 is -inf; PyTorch's kl_div gives NaN there, chainrule
        # -x (its 0 log 0 = 0 branch has gradient 0): a deliberate difference, only there.
        differs = ~np.isfinite(want)
        if differs.any():
            assert spec["function"] == "kl_div" and (_values(target)[differs] == 0).all()
            scale = {"mean": want.size, "batchmean": want.shape[0]}.get(
                spec["kwargs"].get("reduction", "mean"), 1)
            np.testing.assert_allclose(got[differs], -x.numpy()[differs] / scale, rtol=1e-14)
        np.testing.assert_allclose(got[~differs], want[~differs], rtol=1e-10, atol=1e-13)


def test_the_fixture_covers_every_loss_and_option():
    functions = {spec["function"] for spec in META["losses"].values()}
    assert functions == {"cross_entropy", "nll_loss", "binary_cross_entropy",
                         "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
                         "smooth_l1_loss", "huber_loss", "kl_div"}
    options = {key for spec in META["losses"].values() for key in spec["kwargs"]}
    assert {"weight", "ignore_index", "label_smoothing", "pos_weight", "beta", "delta",
            "log_target", "reduction"} <= options
    assert os.path.getsize(FIXTURE) < 200_000


# ----- finite differences ------------------------------------------------------------------------
RNG = np.random.default_rng(5)
LOGITS = RNG.normal(size=(4, 3))
LABELS = np.array([0, 2, -100, 1])
PROBS = RNG.dirichlet(np.ones(3), size=4)
W3 = np.array([0.3, 1.0, 2.0])
A, B = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
P01 = RNG.uniform(0.1, 0.9, size=(3, 4))
T01 = RNG.uniform(0, 1, size=(3, 4))

GRADCHECKS = {
    "cross_entropy": (lambda z: F.cross_entropy(z, LABELS, weight=W3, label_smoothing=0.2),
                      LOGITS),
    "cross_entropy probabilities": (
        lambda z: F.cross_entropy(z, PROBS, weight=W3, label_smoothing=0.1), LOGITS),
    "cross_entropy probability targets' gradient": (
        lambda t: F.cross_entropy(LOGITS, t, reduction="sum"), PROBS),
    "cross_entropy (N, C, d)": (
        lambda z: F.cross_entropy(z, np.array([[0, 1], [2, -100]]), label_smoothing=0.1),
        RNG.normal(size=(2, 3, 2))),
    "nll_loss": (lambda z: F.nll_loss(z, LABELS, weight=W3, reduction="sum"), LOGITS),
    "binary_cross_entropy": (lambda p: F.binary_cross_entropy(p, T01, weight=T01), P01),
    "binary_cross_entropy target": (lambda t: F.binary_cross_entropy(P01, t), T01),
    "binary_cross_entropy_with_logits": (
        lambda z: F.binary_cross_entropy_with_logits(z, T01, pos_weight=np.arange(1.0, 5.0),
                                                     weight=T01), A),
    "mse_loss": (lambda a: F.mse_loss(a, B), A),
    "l1_loss": (lambda a: F.l1_loss(a, B, reduction="sum"), A),
    "smooth_l1_loss": (lambda a: F.smooth_l1_loss(a, B, beta=0.7), A),
    "huber_loss": (lambda a: F.huber_loss(a, B, delta=0.6), A),
    "kl_div": (lambda q: F.kl_div(q, PROBS, reduction="batchmean"), np.log(PROBS[::-1])),
    "kl_div target": (lambda p: F.kl_div(np.log(PROBS[::-1]), p, reduction="sum"), PROBS),
    "kl_div log_target": (lambda q: F.kl_div(q, np.log(PROBS), log_target=True), LOGITS),
}


@pytest.mark.parametrize("name", sorted(GRADCHECKS))
def test_loss_gradients_match_finite_differences(name):
    function, point = GRADCHECKS[name]
    assert cr.gradcheck(function, point)


@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy probabilities",
                                  "binary_cross_entropy_with_logits", "huber_loss", "kl_div"])
def test_loss_second_derivatives_match_finite_differences(name):
    function, point = GRADCHECKS[name]
    assert cr.gradgradcheck(function, point)


# ----- semantics by hand -------------------------------------------------------------------------
def test_weighted_mean_divides_by_the_sum_of_the_target_weights():
    logits = np.zeros((3, 2))  # every log-probability is log(1/2)
    labels = np.array([0, 1, 1])
    weight = np.array([1.0, 3.0])
    loss = F.cross_entropy(logits, labels, weight=weight)
    # sum_n w[y_n] log 2 / sum_n w[y_n] = log 2, whatever the weights
    assert float(loss) == pytest.approx(math.log(2))
    assert float(F.cross_entropy(logits, labels, weight=weight, reduction="sum")) == \
        pytest.approx(7 * math.log(2))


def test_ignored_targets_count_for_nothing_and_all_ignored_is_nan():
    logits = RNG.normal(size=(3, 4))
    kept = F.cross_entropy(logits[[0, 2]], np.array([1, 3]))
    assert float(F.cross_entropy(logits, np.array([1, -100, 3]))) == pytest.approx(float(kept))
    assert float(F.cross_entropy(logits, np.array([1, 0, 3]), ignore_index=0)) == \
        pytest.approx(float(kept))
    none = F.cross_entropy(logits, np.array([1, -100, 3]), reduction="none")
    assert _values(none)[1] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(float(F.cross_entropy(logits, np.full(3, -100))))


def test_label_smoothing_by_hand():
    logits = np.array([[2.0, 0.0, -1.0]])
    log_p = logits - np.log(np.exp(logits).sum())
    e = 0.3
    expected = (1 - e) * -log_p[0, 0] + e / 3 * -log_p.sum()
    assert float(F.cross_entropy(logits, np.array([0]), label_smoothing=e)) == \
        pytest.approx(expected, rel=1e-14)
    # the same as probability targets (1 - e) onehot + e / C
    soft = (1 - e) * np.eye(3)[[0]] + e / 3
    assert float(F.cross_entropy(logits, soft)) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_of_hard_probabilities_equals_class_targets():
    logits = RNG.normal(size=(5, 4))
    labels = np.array([3, 0, 1, 1, 2])
    np.testing.assert_allclose(_values(F.cross_entropy(logits, np.eye(4)[labels])),
                               _values(F.cross_entropy(logits, labels)), rtol=1e-14)


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    p = cr.tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    t = np.array([1.0, 0.0, 0.0, 1.0])
    losses = F.binary_cross_entropy(p, t, reduction="none")
    np.testing.assert_array_equal(_values(losses), [100.0, 100.0, 0.0, 0.0])
    cnp.sum(losses).backward()
    assert np.isfinite(p.grad.numpy()).all()
    with pytest.raises(ValueError, match=r"probability in \[0, 1\]"):
        F.binary_cross_entropy(np.array([1.5]), np.array([1.0]))


def test_losses_keep_float32():
    x = cr.tensor(RNG.normal(size=(4, 3)).astype(np.float32), requires_grad=True)
    labels = np.array([0, 1, 2, 1])
    for loss in (F.cross_entropy(x, labels, weight=np.array([1.0, 2.0, 3.0]),
                                 label_smoothing=0.1),
                 F.nll_loss(x, labels, weight=W3),
                 F.binary_cross_entropy_with_logits(x, np.ones((4, 3)), pos_weight=W3,
                                                    weight=np.ones(3)),
                 F.huber_loss(x, np.zeros((4, 3), np.float32)),
                 F.kl_div(x, np.full((4, 3), 1 / 3, np.float32), reduction="batchmean")):
        assert loss.dtype == np.float32
        loss.backward()
        assert x.grad.dtype == np.float32
        x.grad = None


def test_labels_may_be_integer_tensors_and_lists():
    logits = RNG.normal(size=(3, 4))
    expected = float(F.cross_entropy(logits, np.array([1, 0, 3])))
    assert float(F.cross_entropy(logits, cr.tensor(np.array([1, 0, 3])))) == expected
    assert float(F.cross_entropy(cr.tensor(logits), [1, 0, 3])) == expected


def test_per_example_losses_under_vmap_with_ignored_labels():
    logits = RNG.normal(size=(4, 3))
    labels = np.array([0, 2, 1, 1])

    def per_example(z, label):
        return F.cross_entropy(z[None], label[None], ignore_index=1, weight=W3)

    got = cr.vmap(per_example)(logits, labels)
    for row in range(4):
        if labels[row] == 1:
            assert math.isnan(_values(got)[row])
        else:
            assert _values(got)[row] == pytest.approx(
                float(F.cross_entropy(logits[row:row + 1], labels[row:row + 1])))
    grads = cr.vmap(cr.grad(lambda z, label: F.cross_entropy(z[None], label[None],
                                                             label_smoothing=0.1)))(logits, labels)
    for row in range(4):
        expected = cr.grad(lambda z, y: F.cross_entropy(z[None], y, label_smoothing=0.1))(
            logits[row], labels[row:row + 1])
        np.testing.assert_allclose(_values(grads)[row], _values(expected), rtol=1e-12)


def test_loss_errors_name_the_problem():
    logits = np.zeros((2, 3))
    with pytest.raises(DTypeError, match="integer class indices, or class probabilities"):
        F.cross_entropy(logits, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\[0, 3\) \(or equal ignore_index=-100\)"):
        F.cross_entropy(logits, np.array([0, 3]))
    with pytest.raises(ShapeError, match=r"need targets of shape \(2,\), got \(3,\)"):
        F.cross_entropy(logits, np.array([0, 1, 2]))
    with pytest.raises(ShapeError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(logits, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.cross_entropy(logits, np.array([0, 1]), reduction="average")
    with pytest.raises(ValueError, match="batchmean"):
        F.mse_loss(np.ones(2), np.ones(2), reduction="batchmean")
    with pytest.raises(ShapeError, match="huber_loss"):
        F.huber_loss(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(logits, np.full((2, 3), 1 / 3), ignore_index=0)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        F.smooth_l1_loss(np.ones(2), np.ones(2), beta=-1)


# ----- modules -----------------------------------------------------------------------------------
MODULES = [
    (nn.MSELoss(), F.mse_loss, {}, A, B),
    (nn.L1Loss(reduction="sum"), F.l1_loss, {"reduction": "sum"}, A, B),
    (nn.SmoothL1Loss(beta=0.5), F.smooth_l1_loss, {"beta": 0.5}, A, B),
    (nn.HuberLoss(delta=0.5, reduction="none"), F.huber_loss,
     {"delta": 0.5, "reduction": "none"}, A, B),
    (nn.KLDivLoss(reduction="batchmean", log_target=True), F.kl_div,
     {"reduction": "batchmean", "log_target": True}, np.log(PROBS), np.log(PROBS[::-1])),
    (nn.CrossEntropyLoss(weight=W3, ignore_index=2, label_smoothing=0.1), F.cross_entropy,
     {"weight": W3, "ignore_index": 2, "label_smoothing": 0.1}, LOGITS, np.array([0, 2, 1, 1])),
    (nn.NLLLoss(weight=W3), F.nll_loss, {"weight": W3}, LOGITS, np.array([0, 2, 1, 1])),
    (nn.BCELoss(weight=T01), F.binary_cross_entropy, {"weight": T01}, P01, T01),
    (nn.BCEWithLogitsLoss(pos_weight=np.arange(1.0, 5.0)), F.binary_cross_entropy_with_logits,
     {"pos_weight": np.arange(1.0, 5.0)}, A, T01),
]


@pytest.mark.parametrize("index", range(len(MODULES)), ids=[type(m[0]).__name__ for m in MODULES])
def test_loss_modules_call_their_functions(index):
    module, function, kwargs, x, target = MODULES[index]
    assert isinstance(module, nn.Module)
    np.testing.assert_array_equal(_values(module(x, target)),
                                  _values(function(x, target, **kwargs)))
    assert type(module).__name__ in repr(module)


def test_loss_modules_keep_weights_as_buffers_as_pytorch():
    assert list(nn.CrossEntropyLoss(weight=W3).state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(weight=np.ones(3), pos_weight=np.ones(3)).state_dict()) \
        == ["weight", "pos_weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert nn.CrossEntropyLoss().weight is None
    assert list(nn.MSELoss().parameters()) == []


def test_loss_modules_accept_pytorch_s_legacy_arguments():
    with pytest.warns(DeprecationWarning, match="reduction='sum'"):
        module = nn.MSELoss(size_average=False)
    assert module.reduction == "sum"
    with pytest.warns(DeprecationWarning):
        assert nn.L1Loss(reduce=False).reduction == "none"
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="batchmean")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"


def test_cross_entropy_loss_module_trains_a_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(5, 2, rng=1))
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)
    import chainrule.optim as optim

    optimizer = optim.SGD(model.parameters(), lr=0.5)
    first = None
    for _ in range(30):
        optimizer.zero_grad()
        loss = criterion(model(cr.tensor(x)), y)
        loss.backward()
        optimizer.step()
        first = float(loss.detach()) if first is None else first
    assert float(loss.detach()) < 0.5 * first
