"""Errors a user meets: each is a specific chainrule class (and the matching built-in), and its
message names the operation, the shapes or dtypes, and the fix. User arrays are never mutated."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import (
    ChainruleError,
    DTypeError,
    GraphFreedError,
    InputTypeError,
    NonScalarOutputError,
    ShapeError,
    UnsupportedFunctionError,
)


def leaf(values):
    return cr.tensor(np.array(values, dtype=float), requires_grad=True)


def test_error_classes_subclass_the_builtins_users_already_catch():
    assert issubclass(ShapeError, ValueError)
    assert issubclass(DTypeError, TypeError)
    assert issubclass(InputTypeError, TypeError)
    assert issubclass(GraphFreedError, RuntimeError)
    assert issubclass(UnsupportedFunctionError, TypeError)
    assert issubclass(NonScalarOutputError, TypeError)
    for error in (ShapeError, DTypeError, InputTypeError, GraphFreedError, NonScalarOutputError):
        assert issubclass(error, ChainruleError)


# ----- shapes ------------------------------------------------------------------------------------
def test_broadcasting_mismatch_names_the_operation_and_both_shapes():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(ShapeError) as error:
        x + np.ones((4,))
    message = str(error.value)
    assert "add" in message and "[2, 3]" in message and "[4]" in message
    assert "reshape" in message  # the fix
    with pytest.raises(ShapeError, match=r"multiply.*\[2, 3\].*\[3, 2\]"):
        x * leaf(np.ones((3, 2)))


def test_matmul_mismatch_names_the_operation_and_both_shapes():
    a, b = leaf(np.ones((2, 3))), leaf(np.ones((2, 3)))
    with pytest.raises(ShapeError, match=r"matmul.*\[2, 3\].*\[2, 3\]"):
        a @ b
    with pytest.raises(ShapeError, match=r"matmul.*\[2, 3\].*\[4\]"):
        np.matmul(a, np.ones(4))
    with pytest.raises(ShapeError, match="matmul"):
        a @ 2.0  # matmul needs arrays, not scalars


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda x: x.reshape(4, 2), r"reshape.*\(2, 3\).*\(4, 2\)"),
        (lambda x: x.sum(axis=2), r"sum: axis 2 is out of range.*2 dimensions"),
        (lambda x: np.mean(x, axis=-3), r"mean: axis -3"),
        (lambda x: np.concatenate([x, np.ones((3, 3))], axis=1),
         r"concatenate.*\(2, 3\).*\(3, 3\)"),
        (lambda x: np.stack([x, np.ones((3, 3))]), r"stack.*\(2, 3\).*\(3, 3\)"),
        (lambda x: np.squeeze(x, axis=0), r"squeeze: axis 0 has size 2"),
        (lambda x: np.split(x, 2, axis=1), r"split.*array_split"),
        (lambda x: cnp.softmax(x, axis=3), r"softmax: axis 3"),
        (lambda x: np.tensordot(x, x, axes=([0], [1])), r"tensordot.*\[2, 3\]"),
        (lambda x: x.transpose(0, 0), r"transpose.*permutation"),
        (lambda x: np.broadcast_to(x, (3, 3)), r"broadcast_to"),
    ],
    ids=["reshape", "sum axis", "mean axis", "concatenate", "stack", "squeeze", "split",
         "softmax axis", "tensordot", "transpose", "broadcast_to"],
)
def test_shape_errors_in_shape_functions(call, pattern):
    with pytest.raises(ShapeError, match=pattern):
        call(leaf(np.ones((2, 3))))


# ----- backward ----------------------------------------------------------------------------------
def test_backward_on_a_non_scalar_asks_for_gradient():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(NonScalarOutputError) as error:
        y.backward()
    message = str(error.value)
    assert "(2,)" in message and "gradient" in message and ".sum().backward()" in message


def test_backward_gradient_of_the_wrong_shape():
    y = leaf(np.ones((2, 3))) * 2
    wrong = r"gradient of shape \(3,\) for an output of shape \(2, 3\)"
    with pytest.raises(ShapeError, match=wrong):
        y.backward(gradient=np.ones(3))
    with pytest.raises(ShapeError, match=r"shape \(\)"):
        y.backward(gradient=1.0)
    with pytest.raises(InputTypeError, match="backward"):
        y.backward(gradient="ones")


def test_backward_through_a_freed_graph():
    x = leaf(2.0)
    y = np.exp(x) * x
    y.backward()
    with pytest.raises(GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_backward_on_something_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        cr.tensor([1.0, 2.0]).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.tensor([1, 2]).sum().backward()


# ----- dtypes and inputs -------------------------------------------------------------------------
def test_requires_grad_on_an_integer_tensor_says_how_to_fix_it():
    with pytest.raises(DTypeError) as error:
        cr.tensor([1, 2, 3], requires_grad=True)
    message = str(error.value)
    assert "int64" in message and "float" in message


BAD_DATA = {
    "string": "1.5",
    "bytes": b"12",
    "None": None,
    "object array": np.array([1.0, None], dtype=object),
    "ragged list": [[1.0, 2.0], [3.0]],
    "list holding None": [1.0, None],
    "list holding a string": [1.0, "a"],
    "dict": {"a": 1.0},
}


@pytest.mark.parametrize("data", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_non_numeric_data_is_refused_by_tensor(data):
    with pytest.raises(InputTypeError) as error:
        cr.tensor(data)
    message = str(error.value)
    assert "tensor()" in message
    assert "number" in message or "numeric" in message


@pytest.mark.parametrize("data", BAD_DATA.values(), ids=BAD_DATA.keys())
def test_non_numeric_operands_are_refused_by_operations(data):
    x = leaf([1.0, 2.0])
    with pytest.raises(InputTypeError) as error:
        x * data
    assert "multiply" in str(error.value)
    with pytest.raises(InputTypeError):
        data - x
    with pytest.raises(TypeError):
        np.maximum(x, data)


def test_non_numeric_inputs_to_chainrule_numpy_functions():
    with pytest.raises(InputTypeError, match="sin"):
        cnp.sin("a")
    with pytest.raises(InputTypeError, match="exp"):
        cnp.exp(np.array(["a", "b"]))
    with pytest.raises(InputTypeError, match="add"):
        cnp.add(leaf([1.0]), None)


def test_ragged_list_in_an_operation_says_ragged():
    with pytest.raises(InputTypeError, match="ragged"):
        leaf([1.0, 2.0, 3.0]) + [[1.0, 2.0], [3.0]]


def test_ordering_complex_numbers_is_refused_with_the_fix():
    z = cr.tensor(np.array([1.0 + 1.0j, 2.0]), requires_grad=True)
    for call in (lambda: cnp.maximum(z, 0.5), lambda: cnp.sort(z), lambda: z < 1.0,
                 lambda: cnp.max(z), lambda: cnp.clip(z, 0, 1), lambda: cnp.sign(z)):
        with pytest.raises(DTypeError, match=r"complex.*cnp\.real\(z\)"):
            call()


def test_a_bad_index_names_getitem():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(IndexError, match="getitem.*out of bounds"):
        x[:, 5]
    with pytest.raises(IndexError, match="getitem"):
        x[cr.tensor([0.5])]


def test_out_of_place_shape_change_refused_in_place():
    y = leaf(np.ones((2, 3))) * 1.0
    with pytest.raises(ShapeError, match=r"in-place.*\(2, 3\).*\(4, 2, 3\)"):
        y += np.ones((4, 2, 3))


# ----- user arrays are never mutated -------------------------------------------------------------
def _read_only(values):
    array = np.array(values, dtype=float)
    array.flags.writeable = False
    return array


def test_read_only_arrays_survive_forward_and_backward():
    data = _read_only([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    weights = _read_only([[1.0], [2.0], [-1.0]])
    snapshot, weight_snapshot = data.copy(), weights.copy()
    for make in (cr.tensor, cr.as_tensor):
        x = make(data, requires_grad=True)
        hidden = np.tanh(x @ weights) + data.sum(axis=0, keepdims=True).T.T[:, :1]
        loss = (cnp.softmax(hidden * data, axis=1) * data).sum() + np.maximum(x, data).mean()
        loss = loss + cnp.logsumexp(x - data) + np.sort(x, axis=1).sum() + x[data > 0].sum()
        loss.backward(retain_graph=True)
        loss.backward()
        assert x.grad.shape == data.shape
    np.testing.assert_array_equal(data, snapshot)
    np.testing.assert_array_equal(weights, weight_snapshot)


def test_read_only_gradient_argument_is_not_mutated():
    seed = _read_only([1.0, 2.0])
    x = leaf([3.0, 4.0])
    (x * x).backward(gradient=seed)
    (x * 3.0).backward(gradient=seed)
    np.testing.assert_array_equal(seed, [1.0, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), [9.0, 22.0])


def test_in_place_updates_never_write_into_the_users_array():
    data = _read_only([1.0, 2.0, 3.0])
    shared = cr.as_tensor(data, requires_grad=True)
    with cr.no_grad():
        shared += 1.0  # the optimiser-style update replaces the buffer
        shared *= 2.0
        shared[0] = 10.0
    np.testing.assert_array_equal(shared.numpy(), [10.0, 6.0, 8.0])
    intermediate = cr.as_tensor(data) * 1.0
    intermediate += data
    intermediate[1] = -1.0
    np.testing.assert_array_equal(intermediate.numpy(), [2.0, -1.0, 6.0])
    constant = cr.as_tensor(data)
    constant -= 1.0
    constant[2] = 0.0
    np.testing.assert_array_equal(constant.numpy(), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(data, [1.0, 2.0, 3.0])


def test_writable_user_arrays_are_not_changed_either():
    data = np.array([[0.5, -1.0], [2.0, 0.25]])
    snapshot = data.copy()
    x = cr.as_tensor(data, requires_grad=True)
    y = x * 1.0
    y[0, 0] = 5.0
    y += data
    (y * data).sum().backward()
    with cr.no_grad():
        x -= 0.1 * x.grad
    np.testing.assert_array_equal(data, snapshot)


def test_numpy_view_of_a_tensor_cannot_be_written():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError):
        x.numpy()[0] = 3.0
    with pytest.raises(ValueError):
        np.asarray(x.detach())[0] = 3.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
