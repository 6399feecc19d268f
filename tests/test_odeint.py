"""chainrule.scipy.integrate: odeint's adjoint gradients against closed-form solutions (decay,
the harmonic oscillator) and central differences in y0, t and args, in every transform (grad,
jacrev, forward mode, vmap both ways, second order), with pytrees, backward and repeated times,
and its errors; then the quadrature rules against SciPy.

Finite differences of an ODE solution carry the solver's error divided by the step, so the
checks solve tightly (rtol = atol = 1e-10) and step 1e-4. Forward mode transposes the adjoint
(an adjoint of the adjoint system, per tangent), so it is checked on the smallest problems."""

import numpy as np
import pytest
import scipy.integrate as si

import chainrule as cr
import chainrule.numpy as cnp
from chainrule.errors import ArgumentError, DTypeError, GraphEscapeError, ShapeError
from chainrule.scipy.integrate import (
    IntegrationError,
    cumulative_trapezoid,
    odeint,
    simpson,
    trapezoid,
)

TIGHT = {"rtol": 1e-10, "atol": 1e-10}
TIMES = np.array([0.2, 0.9, 1.6])


def decay(y, t, k):
    return -k * y


def oscillator(y, t, omega):
    return cnp.stack([y[1], -omega**2 * y[0]])


def forced(y, t, omega, damping):  # non-autonomous: dy/dt depends on t itself
    return cnp.stack([y[1], -omega**2 * y[0] - damping * y[1] + cnp.sin(2.0 * t)])


def oscillator_closed_form(y0, t, omega):
    """x = x0 cos(w (t - t0)) + v0 / w sin(w (t - t0)), v = dx/dt, written with cnp so that
    chainrule differentiates it too."""
    elapsed = omega * (t - t[0])
    x = y0[0] * cnp.cos(elapsed) + y0[1] / omega * cnp.sin(elapsed)
    v = -y0[0] * omega * cnp.sin(elapsed) + y0[1] * cnp.cos(elapsed)
    return cnp.stack([x, v], axis=1)


# ----- closed forms ------------------------------------------------------------------------------
def test_decay_values_and_gradients_match_the_closed_form():
    y0, k = np.array([1.0, -2.0]), np.array(0.8)

    def loss(y0, t, k):
        return cnp.sum(odeint(decay, y0, t, k, **TIGHT) ** 2)

    ys = odeint(decay, y0, TIMES, k, **TIGHT)
    np.testing.assert_allclose(ys, y0 * np.exp(-k * (TIMES - TIMES[0]))[:, None], rtol=1e-9)
    # L = |y0|^2 sum_i exp(-2k (t_i - t_0))
    weights = np.exp(-2 * k * (TIMES - TIMES[0]))
    squared = np.sum(y0**2)
    t_gradient = -2 * k * weights * squared
    t_gradient[0] = -t_gradient[1:].sum()
    gradients = cr.grad(loss, argnums=(0, 1, 2))(y0, TIMES, k)
    np.testing.assert_allclose(gradients[0], 2 * y0 * weights.sum(), rtol=1e-8)
    np.testing.assert_allclose(gradients[1], t_gradient, rtol=1e-8)
    np.testing.assert_allclose(gradients[2], -np.sum(2 * (TIMES - TIMES[0]) * weights) * squared,
                               rtol=1e-8)


def test_oscillator_jacobians_match_the_closed_form_in_both_modes():
    y0, omega = np.array([1.0, 0.5]), np.array(1.7)
    np.testing.assert_allclose(odeint(oscillator, y0, TIMES, omega, **TIGHT),
                               oscillator_closed_form(y0, TIMES, omega), rtol=1e-9, atol=1e-10)
    argnums = (0, 1, 2)
    expected = cr.jacrev(oscillator_closed_form, argnums=argnums)(y0, TIMES, omega)
    solved = lambda y0, t, omega: odeint(oscillator, y0, t, omega, **TIGHT)  # noqa: E731
    for found, want in zip(cr.jacrev(solved, argnums=argnums)(y0, TIMES, omega), expected,
                           strict=True):
        np.testing.assert_allclose(found, want, rtol=1e-8, atol=1e-9)
    # Forward mode (the adjoint transposed) along omega.
    _, tangent = cr.jvp(lambda omega: solved(y0, TIMES, omega), (omega,), (1.0,))
    np.testing.assert_allclose(tangent, expected[2], rtol=1e-8, atol=1e-9)


def test_default_tolerances_give_gradients_to_about_seven_digits():
    y0, omega = np.array([1.0, 0.5]), np.array(1.7)

    def first_position(solution):
        return lambda y0, omega: cnp.sum(solution(y0, omega)[:, 0])

    found = cr.grad(first_position(lambda y0, w: odeint(oscillator, y0, TIMES, w)),
                    argnums=(0, 1))(y0, omega)
    expected = cr.grad(first_position(lambda y0, w: oscillator_closed_form(y0, TIMES, w)),
                       argnums=(0, 1))(y0, omega)
    for found_part, expected_part in zip(found, expected, strict=True):
        np.testing.assert_allclose(found_part, expected_part, rtol=1e-6)


def test_second_derivative_of_decay_matches_the_closed_form():
    y0, t = np.array([1.5]), np.array([0.0, 1.0])
    # L(k) = y(1)^2 = 2.25 exp(-2k): L'' = 9 exp(-2k)
    second = cr.hessian(lambda k: odeint(decay, y0, t, k, **TIGHT)[1, 0] ** 2)(0.4)
    np.testing.assert_allclose(second, 9 * np.exp(-0.8), rtol=1e-7)


# ----- central differences, every transform -------------------------------------------------------
def _forced(y0, t, omega, damping):
    return odeint(forced, y0, t, omega, damping, **TIGHT)


FORCED_ARGS = (np.array([1.0, -0.5]), TIMES, np.array(1.3), np.array(0.2))


def test_gradients_in_y0_t_and_args_match_central_differences_in_both_modes():
    assert cr.gradcheck(_forced, *FORCED_ARGS, eps=1e-4, rtol=1e-6, atol=1e-8,
                        modes=("reverse",))
    assert cr.gradcheck(_forced, *FORCED_ARGS, eps=1e-4, rtol=1e-6, atol=1e-8,
                        modes=("forward",), wrt=(1, 3))


def test_second_order_in_a_parameter_matches_differences_of_the_gradient():
    y0, t, omega, damping = FORCED_ARGS

    def last_position(omega):
        return _forced(y0, t[:2], omega, damping)[-1, 0]

    second = cr.jacrev(cr.grad(last_position))(omega)
    step = 1e-4
    expected = (cr.grad(last_position)(omega + step) - cr.grad(last_position)(omega - step)) / (
        2 * step)
    np.testing.assert_allclose(second, expected, rtol=1e-6)


def _loss(y0, t, omega, damping):
    return cnp.sum(_forced(y0, t, omega, damping) ** 2)


def test_vmap_of_grad_and_grad_of_vmap_match_a_loop():
    y0, t, omega, damping = FORCED_ARGS
    starts, omegas = np.stack([y0, 0.5 * y0, -y0]), np.array([1.3, 1.0, 0.7])
    gradient = cr.grad(_loss, argnums=(0, 2))
    loop = [gradient(starts[i], t, omegas[i], damping) for i in range(3)]
    per_example = cr.vmap(gradient, in_axes=(0, None, 0, None))(starts, t, omegas, damping)
    summed = cr.grad(
        lambda s, w: cnp.sum(cr.vmap(_loss, in_axes=(0, None, 0, None))(s, t, w, damping)),
        argnums=(0, 1),
    )(starts, omegas)
    for position in range(2):
        expected = np.stack([g[position] for g in loop])
        np.testing.assert_allclose(per_example[position], expected, rtol=1e-12)
        np.testing.assert_allclose(summed[position], expected, rtol=1e-12)
    values = cr.vmap(_forced, in_axes=(0, None, 0, None))(starts, t, omegas, damping)
    np.testing.assert_allclose(values, [_forced(starts[i], t, omegas[i], damping)
                                        for i in range(3)], rtol=1e-12)


def test_tensor_api_backward_gives_the_functional_gradient():
    y0, t, omega, damping = FORCED_ARGS
    start, frequency = cr.tensor(y0, requires_grad=True), cr.tensor(omega, requires_grad=True)
    _loss(start, t, frequency, damping).backward()
    expected = cr.grad(_loss, argnums=(0, 2))(y0, t, omega, damping)
    np.testing.assert_allclose(start.grad, expected[0], rtol=1e-12)
    np.testing.assert_allclose(frequency.grad, expected[1], rtol=1e-12)


# ----- structures and times ----------------------------------------------------------------------
def test_pytree_state_and_parameters_with_an_integer_argument():
    def rates(state, t, params, power):
        return {"x": state["v"], "v": -params["stiffness"] * state["x"] ** power}

    state = {"x": np.array([1.0, 0.5]), "v": np.array([0.0, 0.2])}
    params = {"stiffness": np.array(2.0)}
    solved = odeint(rates, state, TIMES, params, 1, **TIGHT)
    assert set(solved) == {"x", "v"} and solved["x"].shape == (3, 2)

    def loss(state, params):
        out = odeint(rates, state, TIMES, params, 1, **TIGHT)
        return cnp.sum(out["x"] ** 2) + cnp.sum(out["v"])

    gradient = cr.grad(loss, argnums=(0, 1))(state, params)
    flat = lambda x, v, s: loss({"x": x, "v": v}, {"stiffness": s})  # noqa: E731
    expected = cr.grad(flat, argnums=(0, 1, 2))  # checked against differences next
    assert cr.gradcheck(flat, state["x"], state["v"], params["stiffness"], eps=1e-4, rtol=1e-6,
                        modes=("reverse",))
    want = expected(state["x"], state["v"], params["stiffness"])
    np.testing.assert_allclose(gradient[0]["x"], want[0], rtol=1e-12)
    np.testing.assert_allclose(gradient[1]["stiffness"], want[2], rtol=1e-12)


def test_decreasing_and_repeated_times():
    y0, omega = np.array([1.0, 0.5]), np.array(1.7)
    for times in (TIMES[::-1], np.array([0.2, 0.7, 0.7])):
        solved = lambda y0, t, w: odeint(oscillator, y0, t, w, **TIGHT)  # noqa: E731
        np.testing.assert_allclose(solved(y0, times, omega),
                                   oscillator_closed_form(y0, times, omega), atol=1e-9)
        found = cr.jacrev(solved, argnums=(0, 1, 2))(y0, times, omega)
        expected = cr.jacrev(oscillator_closed_form, argnums=(0, 1, 2))(y0, times, omega)
        for found_part, expected_part in zip(found, expected, strict=True):
            np.testing.assert_allclose(found_part, expected_part, rtol=1e-8, atol=1e-9)


def test_single_time_and_float32():
    y0 = np.array([1.0, 2.0], dtype=np.float32)
    assert odeint(decay, y0, np.array([0.5]), 0.3).dtype == np.float32
    gradient = cr.grad(lambda y0: cnp.sum(odeint(decay, y0, np.array([0.0]), 0.3)))(y0)
    np.testing.assert_array_equal(gradient, np.ones(2))


# ----- errors ------------------------------------------------------------------------------------
def test_errors_say_what_to_change():
    y0 = np.ones(2)
    with pytest.raises(ArgumentError, match="monotonic"):
        odeint(decay, y0, np.array([0.0, 1.0, 0.5]), 1.0)
    with pytest.raises(DTypeError, match="real systems"):
        odeint(decay, y0 + 1j, TIMES, 1.0)
    with pytest.raises(ShapeError, match="shaped like y"):
        odeint(lambda y, t: y[:1], y0, TIMES)
    with pytest.raises(ShapeError, match="1-d array of times"):
        odeint(decay, y0, 1.0, 1.0)
    with pytest.raises(IntegrationError, match="Raise mxstep"), np.errstate(over="ignore"):
        odeint(lambda y, t: y**2, np.array([1.0]), np.array([0.0, 2.0]))  # blows up at t = 1


def test_a_parameter_closed_over_instead_of_passed_is_refused():
    def loss(k):
        return cnp.sum(odeint(lambda y, t: -k * y, np.ones(2), TIMES))

    with pytest.raises(GraphEscapeError, match=r"odeint\(func, y0, t, \*args\)"):
        cr.grad(loss)(0.5)


# ----- quadrature of samples (swept with the signal composites: tests/composites/signal.py) --
def test_quadrature_edge_counts_and_arguments():
    y = np.random.default_rng(1).standard_normal((3, 1))
    np.testing.assert_array_equal(simpson(y), si.simpson(y))  # one sample: zero
    np.testing.assert_array_equal(trapezoid(y), si.trapezoid(y))
    with pytest.raises(ArgumentError, match="initial must be None or 0"):
        cumulative_trapezoid(y, initial=1.0)
    with pytest.raises(ShapeError, match="axis 2 is out of range"):
        trapezoid(y, axis=2)


def test_a_scalar_state_differentiates_in_y0_and_args():
    # Regression: the adjoint's state (y, a, (a_k,)) of a 0-d y was read as one ragged array.
    import chainrule as cr
    from chainrule.scipy import integrate

    t = np.array([0.0, 1.0, 2.0])
    final = lambda y0, k: integrate.odeint(lambda y, s, k: -k * y, y0, t, k)[-1]  # noqa: E731
    dy0, dk = cr.grad(final, argnums=(0, 1))(np.array(2.0), 0.5)
    # y(2) = y0 exp(-2k): d/dy0 = exp(-1), d/dk = -2 y0 exp(-1) at y0 = 2, k = 0.5
    np.testing.assert_allclose([dy0, dk], [np.exp(-1.0), -4.0 * np.exp(-1.0)], rtol=1e-6)
