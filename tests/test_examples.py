"""Each script in examples/ runs (in its quick form) and reaches what it claims."""

import numpy as np
from sklearn.linear_model import LogisticRegression  # the `train` extra

from example_loader import load_example as _load


def test_scipy_minimize_finds_the_rosenbrock_minimum_in_100_dimensions(capsys):
    result = _load("scipy_minimize").main(["--dim", "100"])
    assert result["success"]
    assert result["fun"] < 1e-16
    assert result["distance"] < 1e-7  # the minimum is x = (1, ..., 1)
    assert "100 dimensions" in capsys.readouterr().out


def test_hessian_vector_product_matches_finite_differences_of_the_gradient():
    example = _load("scipy_minimize")
    rng = np.random.default_rng(0)
    x, direction = rng.standard_normal(10), rng.standard_normal(10)
    gradient = example.cr.grad(example.rosenbrock)
    eps = 1e-6
    numeric = (gradient(x + eps * direction) - gradient(x - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(example.hessian_vector_product(x, direction), numeric, rtol=1e-6)


def test_logistic_regression_matches_scikit_learn():
    result = _load("logistic_regression").main(["--quick"])
    assert result["gradient_norm"] < 1e-10
    # C = 1e12 makes scikit-learn's L2 penalty negligible: plain maximum likelihood.
    reference = LogisticRegression(C=1e12, tol=1e-12, max_iter=10_000)
    reference.fit(result["features"], result["labels"])
    np.testing.assert_allclose(result["params"][:-1], reference.coef_[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(result["params"][-1], reference.intercept_[0], atol=1e-5)
    assert result["accuracy"] > 0.75


def test_regression_mlp_fits_the_sine():
    result = _load("regression_mlp").main(["--quick"])
    assert result["test_mse"] < 0.05  # the target's variance is 0.5; the noise's 0.01


def test_per_example_gradients_match_a_loop_and_dp_sgd_learns_the_digits():
    example = _load("per_example_gradients")
    result = example.main(["--quick"])
    assert result["test_accuracy"] > 0.8  # noisy, clipped steps still learn (chance is 0.1)
    model, params = result["model"], result["params"]
    images, labels = result["images"][:5], result["labels"][:5]
    batched = example.per_example_gradients(model, params, images, labels)

    def loss(params, image, label):  # one example, differentiated on its own
        logits = example.nn.functional_call(model, params, (image[None],))
        return example.F.cross_entropy(logits, label[None])

    for index in range(5):
        single = example.cr.grad(loss)(params, images[index], labels[index])
        for name in params:
            np.testing.assert_allclose(batched[name][index], single[name], rtol=1e-5,
                                       atol=1e-7)
    norms = example.gradient_norms(batched)
    flat = [np.concatenate([batched[name][i].ravel() for name in params]) for i in range(5)]
    np.testing.assert_allclose(norms, [np.linalg.norm(f) for f in flat], rtol=1e-5)


def test_rlc_impedance_recovers_the_circuit_through_complex_numbers(capsys):
    example = _load("rlc_impedance")
    result = example.main([])
    assert result["success"] and result["gradient_dtype"] == np.float64
    for name, truth in result["truth"].items():
        fitted, error = result["fitted"][name], result["errors"][name]
        assert abs(fitted - truth) < 4 * error and abs(fitted / truth - 1) < 0.01, name
    dof = result["degrees_of_freedom"]
    assert abs(result["chi_square"] - dof) < 5 * np.sqrt(2 * dof)  # errors sized right
    assert "resonance 1591" in capsys.readouterr().out

    # The gradient against its closed form: with r = (Z - M) / sigma, d chi^2 / d theta =
    # 2 Re sum conj(r) dZ/d theta / sigma, where dZ/d log R = R, dZ/d log L = i w L and
    # dZ/d log C = i / (w C); and the Tensor API (a real leaf's .grad) gives the same numbers.
    omega, measured, sigma = result["omega"], result["measured"], result["sigma"]
    theta = np.log([20.0, 3e-3, 2e-6])
    resistance, inductance, capacitance = np.exp(theta)
    model = resistance + 1j * (omega * inductance - 1 / (omega * capacitance))
    weighted = np.conj((model - measured) / sigma) / sigma
    partials = [resistance, 1j * omega * inductance, 1j / (omega * capacitance)]
    expected = [2 * np.real(np.sum(weighted * partial)) for partial in partials]
    gradient = example.cr.grad(example.chi_square)(theta, omega, measured, sigma)
    np.testing.assert_allclose(gradient, expected, rtol=1e-10)
    leaf = example.cr.tensor(theta, requires_grad=True)
    example.chi_square(leaf, omega, measured, sigma).backward()
    np.testing.assert_allclose(leaf.grad.numpy(), expected, rtol=1e-10)
    # the Hessian behind the standard errors, second order through complex steps: real and
    # equal to central differences of the gradient
    hessian = example.cr.hessian(example.chi_square)(theta, omega, measured, sigma)
    gradient_at = example.cr.grad(example.chi_square)
    differences = np.stack([
        (gradient_at(theta + 1e-6 * e, omega, measured, sigma)
         - gradient_at(theta - 1e-6 * e, omega, measured, sigma)) / 2e-6 for e in np.eye(3)
    ])
    assert hessian.dtype == np.float64
    np.testing.assert_allclose(hessian, differences, rtol=1e-6, atol=1e-6 * np.abs(hessian).max())


def test_out_of_core_logistic_regression_on_a_local_cluster(capsys):
    result = _load("out_of_core_logistic_regression").main(
        ["--rows", "100000", "--chunk-rows", "25000"])
    assert result["result"].success
    assert np.abs(result["result"].x[:-1] - result["w_true"]).max() < 0.05
    assert result["accuracy"] > 0.8
    assert "4 chunks" in capsys.readouterr().out


def test_char_lm_learns_and_samples(capsys):
    result = _load("char_lm").main(["--quick"])
    losses = result["losses"]
    assert np.mean(losses[-20:]) < 0.6 * losses[0]  # from about ln 103 = 4.6 nats per character
    assert result["model_bpc"] < 4.0 < np.log2(103)  # well below a uniform guess
    assert 2.0 < result["baseline_bpc"] < 3.0
    assert result["sample"].startswith("The ") and len(result["sample"]) == 204
    assert "held-out bits per character: GRU" in capsys.readouterr().out
