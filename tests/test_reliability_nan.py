"""NaN-safe gradients by default: an untaken branch, a zero cotangent or a kink at 0 never turns a
gradient into NaN; `cr.config(strict_nan=True)` raises instead of masking."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import AnomalyError

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's 1/0 inside rules


def sqrt_where_positive(x):
    return cnp.where(x > 0, cnp.sqrt(x), 0.0)


def test_untaken_branch_of_where_does_not_poison_the_gradient():
    # JAX, PyTorch and HIPS autograd give NaN here: 0 (cotangent) * inf (sqrt'(0)).
    assert cr.grad(sqrt_where_positive)(0.0) == 0.0
    assert cr.grad(sqrt_where_positive)(4.0) == pytest.approx(0.25)
    gradient = cr.grad(lambda x: cnp.sum(sqrt_where_positive(x)))(np.array([-1.0, 0.0, 4.0]))
    np.testing.assert_array_equal(gradient, [0.0, 0.0, 0.25])


def test_untaken_branch_is_also_safe_in_the_tensor_api_and_forward_mode():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    cnp.sum(sqrt_where_positive(x)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5])
    _, tangent = cr.jvp(sqrt_where_positive, (0.0,), (1.0,))
    assert tangent == 0.0


def test_zero_cotangent_times_infinite_derivative_is_zero():
    for function in (cnp.log, cnp.sqrt, cnp.arcsin, cnp.reciprocal):
        point = 1.0 if function is cnp.arcsin else 0.0
        assert cr.grad(lambda x, f=function: 0.0 * f(x))(point) == 0.0


def test_abs_and_norm_at_zero_use_the_subgradient_zero():
    assert cr.grad(cnp.abs)(0.0) == 0.0
    zeros = np.zeros(3)
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.linalg.norm(x) ** 2)(zeros), zeros)
    np.testing.assert_array_equal(cr.grad(cnp.linalg.norm)(zeros), zeros)
    np.testing.assert_array_equal(cr.grad(lambda x: cnp.sum(cnp.abs(x)))(zeros), zeros)


def test_eigenvalue_and_singular_value_gradients_are_finite_at_degenerate_points():
    identity = np.eye(3)  # every eigenvalue and singular value repeated
    # d/dA sum(eigenvalues) = d trace(A) = I; the same for singular values at the identity.
    eigenvalue_sum = cr.grad(lambda a: cnp.sum(cnp.linalg.eigvalsh(a)))(identity)
    singular_value_sum = cr.grad(lambda a: cnp.sum(cnp.linalg.svdvals(a)))(identity)
    np.testing.assert_allclose(eigenvalue_sum, identity)
    np.testing.assert_allclose(singular_value_sum, identity)
    # The largest eigenvalue of a matrix with a repeated smaller one: still well defined.
    matrix = np.diag([1.0, 1.0, 3.0])
    gradient = cr.grad(lambda a: cnp.linalg.eigvalsh(a)[-1])(matrix)
    np.testing.assert_allclose(gradient, np.diag([0.0, 0.0, 1.0]), atol=1e-12)


def test_strict_nan_raises_instead_of_masking():
    with cr.config(strict_nan=True):
        assert cr.config().strict_nan
        with pytest.raises(AnomalyError, match=r"strict_nan.*`?sqrt"):
            cr.grad(sqrt_where_positive)(0.0)
        assert cr.grad(sqrt_where_positive)(4.0) == pytest.approx(0.25)  # nothing masked
    assert not cr.config().strict_nan
    assert cr.grad(sqrt_where_positive)(0.0) == 0.0


def test_config_as_a_plain_call_switches_until_switched_back():
    try:
        cr.config(strict_nan=True)
        with pytest.raises(AnomalyError):
            cr.grad(lambda x: 0.0 * cnp.log(x))(0.0)
    finally:
        cr.config(strict_nan=False)
    assert cr.grad(lambda x: 0.0 * cnp.log(x))(0.0) == 0.0
