"""core/explain.py is the one place that turns a NumPy failure into a chainrule error: a value
that is not numbers reads the same whether `tensor()`, an operator, a primitive or a public
function refuses it, and each path blames an input, never an option."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.core.explain import describe, explain_failure, is_numeric
from chainrule.errors import IndexOutOfRangeError, InputTypeError, ShapeError

NOT_NUMBERS = {
    "None": None,
    "string": "abc",
    "dict": {"a": 1.0},
    "object array": np.array([1.0, None], dtype=object),
    "string array": np.array(["a", "b"]),
    "datetime array": np.array(["2020-01-01"], dtype="M8[D]"),
}
REFUSERS = {
    "tensor()": lambda value: cr.tensor(value),
    "multiply()": lambda value: cr.tensor([1.0, 2.0], requires_grad=True) * value,
    "sin()": lambda value: cnp.sin(value),
    "mean()": lambda value: cnp.mean(value),
    "add()": lambda value: cr.grad(lambda x: cnp.sum(cnp.add(x, value)))(np.ones(1)),
}


@pytest.mark.parametrize("value", NOT_NUMBERS.values(), ids=NOT_NUMBERS.keys())
@pytest.mark.parametrize("what", REFUSERS)
def test_every_path_refuses_a_non_numeric_value_with_one_message(what, value):
    with pytest.raises(InputTypeError) as caught:
        REFUSERS[what](value)
    message = str(caught.value)
    assert message.startswith(f"{what} got ") and "where it needs numbers" in message
    assert "np.asarray(x, dtype=float)" in message  # the fix


def test_an_option_left_out_is_not_blamed_for_a_bad_index():
    with pytest.raises(IndexOutOfRangeError, match=r"take\(\).*out of bounds") as caught:
        cnp.take(np.arange(3.0), 5, axis=None)
    assert "None" not in str(caught.value)


def test_a_bad_index_into_a_primitive_is_a_chainrule_index_error():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(IndexOutOfRangeError, match=r"getitem\(\).*float64\[2, 3\].*out of bounds"):
        x[:, 5]


def test_the_rewritten_error_is_caused_by_numpys():
    with pytest.raises(ShapeError) as caught:
        cnp.add(np.ones(2), np.ones(3))
    assert isinstance(caught.value.__cause__, ValueError)
    assert "broadcast" in str(caught.value.__cause__)


def test_an_error_already_named_by_an_inner_operation_goes_through_unchanged():
    error = np.linalg.LinAlgError("inv() failed on inputs float64[2, 2]: Singular matrix")
    assert explain_failure("inv", [np.zeros((2, 2))], error) is error
    assert error.__cause__ is None


def test_describe_shows_arrays_by_dtype_and_shape_and_numbers_as_themselves():
    assert describe(np.ones((2, 3))) == "float64[2, 3]"
    assert describe(np.float32(1.0)) == "float32[]"
    assert describe(2.5) == "2.5" and describe(None) == "NoneType"
    assert describe(np.float64) == "type"  # a dtype given as a class is an option, not an array


def test_complex_values_are_described_like_real_ones():
    assert describe(np.ones((2, 3), complex)) == "complex128[2, 3]"
    assert describe(np.complex64(1 + 2j)) == "complex64[]"
    z = cr.tensor(np.ones(2, complex), requires_grad=True)
    with pytest.raises(ShapeError, match=r"multiply\(\) cannot combine shapes complex128\[2\], "
                                         r"float64\[3\]"):
        cnp.multiply(z, np.ones(3))


def test_is_numeric_accepts_numbers_arrays_lists_and_tensors_only():
    accepted = [1, 2.5, True, 1j, np.ones(2), [1.0, 2.0], cr.tensor([1.0], requires_grad=True)]
    refused = [None, "1", b"1", {"a": 1}, {1}, [[1.0], [1.0, 2.0]], np.array(["a"]), np.float64]
    assert all(is_numeric(value) for value in accepted)
    assert not any(is_numeric(value) for value in refused)
