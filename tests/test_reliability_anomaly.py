"""detect_anomaly(): backward stops at the first primitive whose gradient is NaN or infinite and
names it, its input shapes and the user's line that created it."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import AnomalyError, GraphFreedError
from chainrule.reliability import is_anomaly_enabled

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) in the forward pass


def test_backward_names_the_primitive_shapes_and_user_line():
    x = cr.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with cr.detect_anomaly():
        scaled = x * 3.0
        logged = cnp.log(scaled)  # the line the error names
        total = cnp.sum(logged * 2.0)
        with pytest.raises(AnomalyError) as caught:
            total.backward()
    message = str(caught.value)
    assert "`log`" in message and "float64[3]" in message
    assert "test_reliability_anomaly.py:" in message
    assert "logged = cnp.log(scaled)" in message
    assert "1 infinite" in message and "epsilon" in message  # says what to do
    assert isinstance(caught.value, RuntimeError)


def test_without_anomaly_mode_the_gradient_is_just_infinite():
    x = cr.tensor([1.0, 0.0], requires_grad=True)
    cnp.sum(cnp.log(x)).backward()
    assert np.isinf(x.grad.numpy()[1])


def test_functional_transforms_are_checked_too():
    def loss(x):
        return cnp.sum(cnp.sqrt(x))  # sqrt'(0) is infinite

    with cr.detect_anomaly():
        with pytest.raises(AnomalyError, match=r"`sqrt`.*return cnp.sum\(cnp.sqrt\(x\)\)"):
            cr.grad(loss)(np.array([0.0, 1.0]))


def test_nan_safe_masking_is_not_an_anomaly():
    with cr.detect_anomaly():
        gradient = cr.grad(lambda x: cnp.where(x > 0, cnp.sqrt(x), 0.0))(0.0)
    assert gradient == 0.0


def test_anomaly_mode_nests_and_switches_off_afterwards():
    assert not is_anomaly_enabled()
    with cr.detect_anomaly():
        with cr.detect_anomaly():
            assert is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()

    @cr.detect_anomaly()
    def checked():
        return is_anomaly_enabled()

    assert checked() and not is_anomaly_enabled()


def test_backward_twice_names_the_operation_and_line_under_anomaly_mode():
    x = cr.tensor(2.0, requires_grad=True)
    with cr.detect_anomaly():
        y = cnp.exp(x)  # the line named
    y.backward()
    with pytest.raises(GraphFreedError) as caught:
        y.backward()
    message = str(caught.value)
    assert "exp" in message and "test_reliability_anomaly.py:" in message
    assert "retain_graph=True" in message  # says what to do


def test_results_are_unchanged_by_anomaly_mode():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(4, 3))

    def loss(w):
        return cnp.sum(cnp.tanh(np.ones((5, 4)) @ w) ** 2)

    plain = cr.grad(loss)(weights)
    with cr.detect_anomaly():
        checked = cr.grad(loss)(weights)
    np.testing.assert_array_equal(plain, checked)
