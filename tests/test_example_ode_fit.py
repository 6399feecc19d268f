"""examples/ode_fit.py runs in its quick form, recovers the Lotka-Volterra rates, and the
gradient it optimises with (odeint's adjoint) matches central differences of the loss."""

import numpy as np

from example_loader import load_example


def _load():
    return load_example("ode_fit")


def test_ode_fit_recovers_the_rates_with_exact_gradients(capsys):
    example = _load()
    result = example.main(["--quick"])
    assert result["success"]
    for name, truth in example.TRUTH.items():  # 8 observations with 5% noise: within 15%
        assert abs(result["found"][name] / truth - 1.0) < 0.15, name
    printed = capsys.readouterr().out
    assert "recovered" in printed and "Lotka-Volterra" in printed

    # The gradient L-BFGS-B used, against central differences of the loss (solved tightly).
    times, observed = result["times"], result["observed"]
    point = result["params"] + np.array([0.1, -0.1, 0.05, 0.0, 0.02, -0.02])
    gradient = example.cr.grad(example.loss)(point, times, observed, 1e-10)
    step = 1e-4
    numeric = [
        (example.loss(point + step * e, times, observed, 1e-10)
         - example.loss(point - step * e, times, observed, 1e-10)) / (2 * step)
        for e in np.eye(point.size)
    ]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-7)
