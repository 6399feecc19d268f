"""Recover a series RLC circuit's R, L and C from its noisy measured impedance, with SciPy's BFGS
fed the exact gradient of a real loss computed through complex numbers.

The model is Z(w) = R + i (w L - 1/(w C)), a complex number per angular frequency w. The loss is
real: the squared distance |Z_model - Z_measured|^2 summed over the frequencies, each weighted by
its noise level. Its parameters are real too (the logarithms of R, L and C, which span eight
orders of magnitude), so `cr.grad` gives a real gradient although every step in between is
complex; `cr.hessian` at the optimum gives the parameters' standard errors.

Run: python examples/rlc_impedance.py [--noise 0.01] [--points 60] [--seed 0] [--quick]
"""

import argparse

import numpy as np
from scipy.optimize import minimize

import chainrule as cr
import chainrule.numpy as cnp

TRUTH = {"R": 50.0, "L": 10e-3, "C": 1e-6}  # ohm, henry, farad: resonance at 1591.5 Hz
START = {"R": 10.0, "L": 1e-3, "C": 10e-6}  # a factor of 5 to 10 off in every parameter
UNITS = {"R": ("ohm", 1.0), "L": ("mH", 1e-3), "C": ("uF", 1e-6)}


def impedance(log_params, omega):
    """Z(w) = R + i (w L - 1/(w C)) of the series circuit, complex, one per frequency."""
    resistance, inductance, capacitance = cnp.exp(log_params)
    return resistance + 1j * (omega * inductance - 1.0 / (omega * capacitance))


def measure(omega, noise, rng):
    """The true impedance with complex Gaussian noise of relative size `noise` in each part."""
    true = impedance(np.log([TRUTH["R"], TRUTH["L"], TRUTH["C"]]), omega)
    scale = noise * np.abs(true)
    return true + scale * (rng.standard_normal(omega.size) + 1j * rng.standard_normal(omega.size))


def chi_square(log_params, omega, measured, sigma):
    """sum_k |Z(w_k) - Z_k|^2 / sigma_k^2: real, although the residuals are complex."""
    residual = (impedance(log_params, omega) - measured) / sigma
    return cnp.sum(cnp.abs(residual) ** 2)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, default=0.01, help="relative noise (0.01 = 1%%)")
    parser.add_argument("--points", type=int, default=60, help="frequencies, 100 Hz to 100 kHz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="30 frequencies (a smaller problem)")
    args = parser.parse_args(argv)
    if args.quick:
        args.points = 30

    rng = np.random.default_rng(args.seed)
    omega = 2 * np.pi * np.logspace(2, 5, args.points)
    measured = measure(omega, args.noise, rng)
    sigma = args.noise * np.abs(measured)

    def loss(log_params):
        return chi_square(log_params, omega, measured, sigma)

    value_and_gradient = cr.value_and_grad(loss)
    start = np.log([START["R"], START["L"], START["C"]])
    gradient_dtype = value_and_gradient(start)[1].dtype  # float64: real, through complex steps
    result = minimize(value_and_gradient, start, jac=True, method="BFGS",
                      options={"gtol": 1e-6})

    # chi^2 is a sum of 2 N squared unit-variance residuals (real and imaginary parts), so near
    # the optimum chi^2 ~ r^T r and its Hessian ~ 2 J^T J: the covariance of the log-parameters
    # is 2 H^-1, and a log-parameter's standard error is its parameter's relative error.
    hessian = cr.hessian(loss)(result.x)
    log_errors = np.sqrt(np.diag(2 * np.linalg.inv(hessian)))
    fitted = dict(zip("RLC", np.exp(result.x), strict=True))
    errors = {name: fitted[name] * error for name, error in zip("RLC", log_errors, strict=True)}

    print(f"Series RLC from {args.points} impedance measurements, 100 Hz to 100 kHz, "
          f"{args.noise:.0%} noise")
    print(f"  {'':8}{'truth':>10}{'start':>10}{'fit':>22}")
    for name, (unit, scale) in UNITS.items():
        label = f"{name} [{unit}]"
        fit = f"{fitted[name] / scale:.5g} ± {errors[name] / scale:.2g}"
        print(f"  {label:8}{TRUTH[name] / scale:>10.5g}{START[name] / scale:>10.5g}{fit:>22}")
    resonance = 1 / (2 * np.pi * np.sqrt(fitted["L"] * fitted["C"]))
    true_resonance = 1 / (2 * np.pi * np.sqrt(TRUTH["L"] * TRUTH["C"]))
    print(f"  resonance {resonance:.1f} Hz (truth {true_resonance:.1f} Hz); "
          f"chi^2 = {result.fun:.1f} for {2 * args.points - 3} degrees of freedom")
    print(f"  BFGS: {result.nit} iterations, {result.nfev} evaluations of chi^2 and its gradient "
          f"({gradient_dtype}: real, through complex impedances)")
    return {"fitted": fitted, "errors": errors, "truth": dict(TRUTH), "success": result.success,
            "chi_square": float(result.fun), "degrees_of_freedom": 2 * args.points - 3,
            "gradient_dtype": gradient_dtype, "omega": omega, "measured": measured,
            "sigma": sigma, "log_params": result.x}


if __name__ == "__main__":
    main()
