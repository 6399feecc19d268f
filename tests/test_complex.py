"""Complex numbers (issue 13), as a user meets them: the two conventions with their reference
values (JAX's and HIPS autograd's in the functional transforms, PyTorch's in `.grad`), what
holomorphic=True is for, real inputs through complex values, complex tangents, the dtype
pairing, the Jacobian transforms and vmap, cr.gradcheck on complex functions, and what stays
refused. Every primitive's rules are swept with complex samples in test_registry_sweep.py."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import DTypeError, NonScalarOutputError
from chainrule.transforms.check import GradcheckError

Z = 1 + 2j


# ----- the conventions, with the reference values of JAX, HIPS autograd and PyTorch ---------------
def test_grad_of_a_real_function_is_the_conjugate_of_the_ascent_direction():
    # d|z|^2 = 2 Re(conj(z) dz): JAX and autograd give df/dx - i df/dy = 2x - 2iy.
    assert cr.grad(lambda z: abs(z) ** 2)(Z) == 2 - 4j
    assert cr.grad(lambda z: cnp.abs(z) ** 2)(Z) == 2 - 4j


def test_holomorphic_grad_is_the_complex_derivative():
    assert cr.grad(lambda z: z**3, holomorphic=True)(Z) == pytest.approx(3 * Z**2)
    assert 3 * Z**2 == -9 + 12j
    value, gradient = cr.value_and_grad(cnp.exp, holomorphic=True)(Z)
    assert value == pytest.approx(np.exp(Z)) and gradient == pytest.approx(np.exp(Z))


def test_tensor_grad_is_pytorchs_conjugate_wirtinger_gradient():
    z = cr.tensor(Z, requires_grad=True)
    (abs(z) ** 2).backward()
    assert z.grad.item() == 2 + 4j
    # One line between the two: .grad is the conjugate of cr.grad.
    assert z.grad.item() == np.conj(cr.grad(lambda z: abs(z) ** 2)(Z))


def test_tensor_backward_of_a_holomorphic_output_takes_a_gradient_as_pytorch():
    z = cr.tensor(Z, requires_grad=True)
    with pytest.raises(NonScalarOutputError, match="gradient"):
        (z**3).backward()
    (z**3).backward(gradient=1.0 + 0j)  # PyTorch: grad_output * conj(f'(z))
    assert z.grad.item() == pytest.approx(np.conj(3 * Z**2))


def test_descending_with_the_tensor_grad_reaches_the_minimum():
    target = np.array([0.5 - 1j, -2 + 0.25j])
    z = cr.tensor(np.zeros(2, dtype=complex), requires_grad=True)
    for _ in range(60):
        loss = cnp.sum(cnp.abs(z - target) ** 2)
        loss.backward()
        with cr.no_grad():
            z -= 0.1 * z.grad
        z.grad = None
    np.testing.assert_allclose(z.numpy(), target, atol=1e-5)


def test_descending_with_the_conjugate_of_grad_reaches_the_minimum():
    target = np.array([0.5 - 1j, -2 + 0.25j])
    gradient = cr.grad(lambda z: cnp.sum(cnp.abs(z - target) ** 2))
    z = np.zeros(2, dtype=complex)
    for _ in range(60):
        z = z - 0.1 * np.conj(gradient(z))
    np.testing.assert_allclose(z, target, atol=1e-5)


def test_grad_of_a_complex_output_names_holomorphic_and_jacrev():
    with pytest.raises(DTypeError, match=r"holomorphic=True.*jacrev"):
        cr.grad(lambda z: z**2)(Z)
    with pytest.raises(DTypeError, match="holomorphic=True"):
        cr.grad(lambda x: x * 1j)(2.0)  # a complex output of a real input too


def test_holomorphic_needs_complex_inputs_and_outputs():
    with pytest.raises(DTypeError, match="real"):
        cr.grad(lambda x: x**2 + 0j, holomorphic=True)(2.0)
    with pytest.raises(DTypeError, match="complex number"):
        cr.grad(lambda z: cnp.abs(z), holomorphic=True)(Z)


def test_abs_at_complex_zero_has_the_subgradient_zero():
    gradient = cr.grad(lambda z: cnp.sum(cnp.abs(z)))(np.array([0j, 3 + 4j]))
    np.testing.assert_allclose(gradient, [0, (3 - 4j) / 5])


# ----- real inputs through complex values ---------------------------------------------------------
def test_a_real_inputs_gradient_is_real_through_complex_values():
    x = 0.3
    gradient = cr.grad(lambda x: cnp.real(cnp.exp(1j * x)))(x)
    assert np.asarray(gradient).dtype == np.float64
    assert gradient == pytest.approx(-np.sin(x))
    gradient = cr.grad(lambda x: cnp.sum(cnp.abs(cnp.exp(1j * x) + x) ** 2))(np.array([0.3, -1.0]))
    assert gradient.dtype == np.float64


def test_a_real_tensors_grad_is_real_through_complex_values():
    x = cr.tensor(0.3, requires_grad=True)
    cnp.imag(cnp.exp(1j * x)).backward()
    assert x.grad.dtype == np.float64 and x.grad.item() == pytest.approx(np.cos(0.3))


# ----- jvp with complex tangents ------------------------------------------------------------------
def test_jvp_pushes_complex_tangents_of_complex_primals():
    z, t = np.array([Z, -0.5j]), np.array([1 - 1j, 2.0 + 0j])
    value, tangent = cr.jvp(lambda z: z**3, (z,), (t,))
    np.testing.assert_allclose(tangent, 3 * z**2 * t)
    # Not holomorphic: d|z|^2 = 2 Re(conj(z) dz).
    _, tangent = cr.jvp(lambda z: cnp.abs(z) ** 2, (z,), (t,))
    np.testing.assert_allclose(tangent, 2 * np.real(np.conj(z) * t))


def test_jvp_of_a_real_primal_with_a_complex_tangent_extends_linearly():
    # Asked for: J (a + ib) = J a + i J b, at the paired precision.
    _, tangent = cr.jvp(lambda x: x**2, (0.3,), (1 + 1j,))
    assert tangent == pytest.approx(0.6 + 0.6j)
    x = np.array([0.3, 2.0], dtype=np.float32)
    _, tangent = cr.jvp(cnp.sin, (x,), (np.array([1j, 1.0], dtype=np.complex64),))
    assert tangent.dtype == np.complex64
    np.testing.assert_allclose(tangent, np.cos(x) * [1j, 1.0], rtol=1e-6)
    # real, conj and casts are identities on real numbers; imag is zero there.
    for function, expected in ((cnp.real, 2 + 3j), (cnp.conj, 2 + 3j), (cnp.imag, 0),
                               (lambda x: cnp.astype(x, np.float32), 2 + 3j)):
        _, tangent = cr.jvp(function, (np.array(0.3),), (np.array(2 + 3j),))
        assert tangent == expected


# ----- dtypes: float32 with complex64, float64 with complex128 ------------------------------------
def test_float32_pairs_with_complex64():
    x = np.array([0.5, -1.5], dtype=np.float32)
    z = x + 1j * x[::-1]
    assert z.dtype == np.complex64
    assert cr.grad(lambda z: cnp.sum(cnp.abs(z) ** 2))(z).dtype == np.complex64
    assert cr.grad(lambda x: cnp.sum(cnp.real(cnp.exp(1j * x))))(x).dtype == np.float32
    assert cr.jacfwd(lambda z: z * z, holomorphic=True)(z).dtype == np.complex64
    leaf = cr.tensor(x, requires_grad=True)
    cnp.sum(cnp.abs(leaf * 1j + 1) ** 2).backward()
    assert (leaf * 1j).dtype == np.complex64 and leaf.grad.dtype == np.float32


# ----- Jacobians and vmap -------------------------------------------------------------------------
def test_jacobians_of_a_holomorphic_function():
    z = np.array([Z, 0.5 - 1j])
    expected = np.diag(3 * z**2) + 1j  # d/dz_j (z_i^3 + i sum(z)) = 3 z_i^2 delta_ij + i
    for jacobian in (cr.jacrev, cr.jacfwd):
        found = jacobian(lambda z: z**3 + 1j * cnp.sum(z), holomorphic=True)(z)
        np.testing.assert_allclose(found, expected)
    hessian = cr.hessian(lambda z: cnp.sum(z**3), holomorphic=True)(z)
    np.testing.assert_allclose(hessian, np.diag(6 * z))


def test_jacfwd_without_holomorphic_refuses_complex_inputs():
    with pytest.raises(DTypeError, match="holomorphic=True"):
        cr.jacfwd(lambda z: cnp.abs(z))(np.array([Z]))


def test_jacrev_of_a_real_output_gives_grads_convention_per_entry():
    z = np.array([Z, 3 - 1j])
    found = cr.jacrev(lambda z: cnp.abs(z) ** 2)(z)
    np.testing.assert_allclose(found, np.diag(2 * np.conj(z)))


def test_vmap_of_complex_functions_and_of_their_gradients():
    z = np.array([Z, 0.5 - 1j, -2j])
    np.testing.assert_allclose(cr.vmap(lambda z: z * cnp.conj(z))(z), np.abs(z) ** 2)
    np.testing.assert_allclose(cr.vmap(cr.grad(lambda z: cnp.abs(z) ** 2))(z), 2 * np.conj(z))
    derivative = cr.vmap(cr.grad(lambda z: cnp.sin(z), holomorphic=True))(z)
    np.testing.assert_allclose(derivative, np.cos(z))
    rows = np.stack([z, z[::-1]])
    np.testing.assert_allclose(
        cr.vmap(lambda r: cnp.sum(r * r))(rows), np.sum(rows * rows, axis=1)
    )


# ----- cr.gradcheck on complex functions ----------------------------------------------------------
def test_gradcheck_checks_complex_functions_holomorphic_or_not():
    z = np.array([Z, -0.5 + 0.3j, 2 - 1j])
    assert cr.gradcheck(lambda z: cnp.exp(z) * cnp.conj(z), z)
    assert cr.gradcheck(lambda z, x: cnp.abs(z) * x + cnp.imag(z * x), z, np.array([1.0, 2.0, 3.0]))
    assert cr.gradgradcheck(lambda z: cnp.abs(z) ** 3, z)


def test_gradcheck_catches_a_rule_that_forgets_a_conjugate():
    @cr.custom_vjp
    def conjugate(z):
        return cnp.conj(z)

    conjugate.defvjp(lambda z: (conjugate(z), None), lambda _, g: (g,))  # should be conj(g)
    with pytest.raises(GradcheckError, match="reverse"):
        cr.gradcheck(conjugate, np.array([Z, 1j]), modes=("reverse",))


# ----- what stays refused -------------------------------------------------------------------------
ORDERING = {
    "maximum": lambda z: cnp.maximum(z, 0.5),
    "minimum": lambda z: cnp.minimum(z, 0.5),
    "fmax": lambda z: cnp.fmax(z, 0.5),
    "fmin": lambda z: cnp.fmin(z, 0.5),
    "clip": lambda z: cnp.clip(z, 0.0, 1.0),
    "sign": cnp.sign,
    "rint": cnp.rint,
    "round": cnp.round,
    "less": lambda z: z < 1.0,
    "less_equal": lambda z: z <= 1.0,
    "greater": lambda z: z > 1.0,
    "greater_equal": lambda z: z >= 1.0,
    "max": cnp.max,
    "min": cnp.min,
    "argmax": cnp.argmax,
    "argmin": cnp.argmin,
    "sort": cnp.sort,
    "argsort": cnp.argsort,
    "logsumexp": cnp.logsumexp,
    "softmax": cnp.softmax,
    "log_softmax": cnp.log_softmax,
    "sigmoid": cnp.sigmoid,
}


@pytest.mark.parametrize("name", sorted(ORDERING))
def test_ordering_a_complex_number_is_refused_naming_its_parts(name):
    z = cr.tensor(np.array([Z, 0.5 - 1j]), requires_grad=True)
    with pytest.raises(DTypeError, match=r"complex.*cnp\.real\(z\), cnp\.imag\(z\), cnp\.abs\(z\)"):
        ORDERING[name](z)


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "cbrt", "deg2rad", "rad2deg"])
def test_numpys_real_only_functions_refuse_complex(name):
    with pytest.raises(DTypeError, match="complex"):
        getattr(cnp, name)(cr.tensor(np.array([Z])))


@pytest.mark.parametrize("name", ["arctan2", "hypot", "mod", "floor_divide", "logaddexp"])
def test_numpys_real_only_binary_functions_refuse_complex(name):
    with pytest.raises(DTypeError, match="complex"):
        getattr(cnp, name)(np.array([Z]), 1.0)


def test_casting_complex_to_real_is_refused_naming_the_parts():
    with pytest.raises(DTypeError, match=r"imaginary.*cnp\.real\(z\)"):
        cr.grad(lambda z: cnp.sum(cnp.astype(z, np.float64)))(np.array([Z]))
    assert cnp.astype(np.array([Z]), np.complex64).dtype == np.complex64
    assert cr.grad(lambda x: cnp.real(cnp.sum(cnp.astype(x, complex) * 1j)))(2.0) == 0.0


def test_writing_a_complex_value_into_a_real_tensor_is_refused():
    x = cr.tensor(np.zeros(3), requires_grad=True) * 1.0
    with pytest.raises(DTypeError, match=r"complex.*cnp\.real\(value\)"):
        x[0] = 1j
    z = cr.tensor(np.zeros(3, dtype=complex), requires_grad=True) * 1.0
    z[0] = 2.0  # a real value into a complex tensor: fine
    assert z.numpy()[0] == 2.0
