"""In-place safety: a version counter per tensor, and backward refusing to differentiate through
a value that was changed in place after an operation saved it (as PyTorch does)."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import InplaceError, ShapeError


def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad():
    weights = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(InplaceError, match=r"leaf tensor of shape \(2,\).*no_grad"):
        weights += 1.0
    with pytest.raises(InplaceError, match="no_grad"):
        weights[0] = 5.0
    np.testing.assert_array_equal(weights.numpy(), [1.0, 2.0])
    assert isinstance(InplaceError("x"), RuntimeError)


def test_in_place_updates_bump_the_version():
    weights = cr.tensor([1.0, 2.0], requires_grad=True)
    assert weights._version == 0
    with cr.no_grad():
        weights -= 0.5
        weights *= 2.0
        weights[1] = 7.0
    assert weights._version == 3
    np.testing.assert_array_equal(weights.numpy(), [1.0, 7.0])


def test_backward_after_an_optimiser_step_on_a_saved_leaf_raises():
    weights = cr.tensor([1.0, 2.0], requires_grad=True)
    loss = cnp.sum(weights * weights)
    with cr.no_grad():
        weights -= 0.1  # the line the error names
    with pytest.raises(InplaceError) as caught:
        loss.backward()
    message = str(caught.value)
    assert "`multiply`" in message and "shape (2,)" in message
    assert "version 0" in message and "now version 1" in message
    assert "`subtract`" in message and "test_reliability_inplace.py" in message
    assert "weights -= 0.1" in message
    assert "forward pass again" in message  # says what to do


def test_setitem_on_a_saved_leaf_under_no_grad_raises_on_backward():
    weights = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = cnp.sum(cnp.exp(weights) * weights)
    with cr.no_grad():
        weights[0] = 0.0
    with pytest.raises(InplaceError, match=r"`setitem`.*now version 1"):
        loss.backward()


def test_in_place_on_a_saved_intermediate_raises_on_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2.0
    square = hidden * hidden  # saves hidden
    hidden += 1.0
    with pytest.raises(InplaceError) as caught:
        cnp.sum(square).backward()
    message = str(caught.value)
    assert "`multiply`" in message and "(shape (2,))" in message
    assert "saved at version 0" in message and "now version 1" in message
    assert "hidden += 1.0" in message and "out-of-place" in message


def test_in_place_results_differentiate_correctly_when_nothing_saved_them():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2.0
    hidden *= 3.0  # the in-place op's own node saved the old value: fine
    hidden += x
    hidden[0] = hidden[1]
    cnp.sum(hidden * hidden).backward()
    # hidden = [7 x1, 7 x1] -> sum of squares = 2 * 49 x1^2; d/dx1 = 196 x1, d/dx0 = 0
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 196.0 * 2.0])


def test_a_leaf_updated_after_backward_trains_normally():
    weights = cr.tensor([1.0, -1.0], requires_grad=True)
    for _ in range(3):
        loss = cnp.sum(weights * weights)
        loss.backward()
        with cr.no_grad():
            weights -= 0.25 * weights.grad
            weights.grad = None
    np.testing.assert_allclose(weights.numpy(), [0.125, -0.125])


def test_mutating_a_tensor_no_saved_value_depends_on_is_allowed():
    weights = cr.tensor([1.0, 2.0], requires_grad=True)
    total = cnp.sum(weights + 1.0)  # add saves nothing
    with cr.no_grad():
        weights *= 10.0
    total.backward()
    np.testing.assert_array_equal(weights.grad.numpy(), [1.0, 1.0])


def test_anomaly_mode_adds_the_line_that_created_the_operation():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly():
        hidden = x * 2.0
        square = cnp.sin(hidden)  # creation line named in the error
        hidden -= 1.0
        with pytest.raises(InplaceError, match=r"created at .*square = cnp.sin\(hidden\)"):
            cnp.sum(square).backward()


# ----- optimiser steps write into the leaf's own buffer only when nothing else can see it --------
def _buffer_address(tensor):
    return tensor._value.__array_interface__["data"][0]


def test_an_update_nothing_else_sees_is_written_into_the_leafs_buffer():
    weights = cr.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    address = _buffer_address(weights)
    with cr.no_grad():
        weights -= 0.25
        weights *= np.float64(2.0)  # float64 arithmetic rounded into the float32 buffer
        weights += np.ones(2)  # broadcast over rows
        weights /= 3
    assert _buffer_address(weights) == address and weights._version == 4
    expected = ((np.ones((3, 2)) - 0.25) * 2.0 + 1.0) / 3
    np.testing.assert_array_equal(weights.numpy(), expected.astype(np.float32))
    assert weights.dtype == np.float32


@pytest.mark.parametrize("holder", ["numpy view", "detached", "data", "user array", "saved"])
def test_an_update_others_can_see_makes_a_new_buffer(holder):
    user = np.ones(3)
    weights = (cr.as_tensor(user, requires_grad=True) if holder == "user array"
               else cr.tensor(np.ones(3), requires_grad=True))
    kept = {
        "numpy view": lambda: weights.numpy(),
        "detached": lambda: weights.detach(),
        "data": lambda: weights.data,
        "user array": lambda: None,
        "saved": lambda: cnp.sum(weights * weights),
    }[holder]()
    address = _buffer_address(weights)
    with cr.no_grad():
        weights -= 0.5
    np.testing.assert_array_equal(weights.numpy(), [0.5, 0.5, 0.5])
    assert _buffer_address(weights) != address  # a new buffer; the old one keeps its values
    if holder == "saved":
        with pytest.raises(InplaceError):  # and backward still sees the change
            kept.backward()
    elif holder == "user array":
        np.testing.assert_array_equal(user, np.ones(3))
    else:
        old = kept.numpy() if isinstance(kept, cr.Tensor) else kept
        np.testing.assert_array_equal(old, np.ones(3))


def test_an_update_of_a_view_of_a_users_array_never_writes_into_it():
    user = np.ones((4, 2))
    weights = cr.as_tensor(user[1:3], requires_grad=True)
    with cr.no_grad():
        weights -= 1.0
    np.testing.assert_array_equal(user, np.ones((4, 2)))
    np.testing.assert_array_equal(weights.numpy(), np.zeros((2, 2)))


def test_an_update_that_would_change_the_shape_still_raises():
    weights = cr.tensor(np.ones((3, 2)), requires_grad=True)
    with cr.no_grad(), pytest.raises(ShapeError, match=r"shape \(3, 2\).*\(2, 3, 2\)"):
        weights -= np.ones((2, 3, 2))
    np.testing.assert_array_equal(weights.numpy(), np.ones((3, 2)))


def test_an_update_that_raises_under_errstate_leaves_the_leaf_as_it_was():
    weights = cr.tensor([1.0, 1.0, 1.0], requires_grad=True)
    with cr.no_grad(), np.errstate(all="raise"), pytest.raises(FloatingPointError):
        weights /= 0.0
    np.testing.assert_array_equal(weights.numpy(), [1.0, 1.0, 1.0])
    assert weights._version == 0
    previous = np.seterr(over="raise")  # set for the whole thread, not in a with block
    try:
        with cr.no_grad(), pytest.raises(FloatingPointError):
            weights *= 1e308
            weights *= 1e308
    finally:
        np.seterr(**previous)
    np.testing.assert_array_equal(weights.numpy(), [1e308, 1e308, 1e308])
    with cr.no_grad():  # and with the default handling back, updates go in place again
        address = _buffer_address(weights)
        weights /= 1e308
    assert _buffer_address(weights) == address
    np.testing.assert_array_equal(weights.numpy(), [1.0, 1.0, 1.0])


def test_an_update_under_warnings_turned_into_errors_leaves_the_leaf_as_it_was():
    import warnings

    weights = cr.tensor([1e308, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as `python -W error` or `pytest -W error`
        with cr.no_grad(), pytest.raises(RuntimeWarning):
            weights *= 10.0
    np.testing.assert_array_equal(weights.numpy(), [1e308, 1.0])
    assert weights._version == 0
