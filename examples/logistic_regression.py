"""Logistic regression fitted by Newton's method, in chainrule's functional style.

The loss is ordinary NumPy-style code; `cr.grad` and `cr.hessian` differentiate it, and a few
Newton steps p <- p - H^{-1} g reach the maximum-likelihood weights (the loss is convex).
Run: python examples/logistic_regression.py
"""

import argparse

import numpy as np

import chainrule as cr
import chainrule.numpy as cnp


def make_data(n_samples, n_features, seed=0):
    """Features ~ N(0, I); labels drawn from a logistic model with known weights."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((n_samples, n_features))
    true_weights = rng.standard_normal(n_features)
    logits = features @ true_weights + 0.5
    labels = (rng.random(n_samples) < 1 / (1 + np.exp(-logits))).astype(np.float64)
    return features, labels


def loss(params, features, labels):
    """Mean negative log-likelihood: mean(log(1 + e^z) - y z), z = X w + b."""
    logits = features @ params[:-1] + params[-1]
    return cnp.mean(cnp.logaddexp(0.0, logits) - labels * logits)


def fit(features, labels, steps=10):
    params = np.zeros(features.shape[1] + 1)
    gradient, hessian = cr.grad(loss), cr.hessian(loss)
    for _ in range(steps):
        params = params - np.linalg.solve(hessian(params, features, labels),
                                          gradient(params, features, labels))
    return params


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller data set (tests)")
    args = parser.parse_args(argv)
    features, labels = make_data(300 if args.quick else 2000, 5)
    params = fit(features, labels)
    predictions = (features @ params[:-1] + params[-1]) > 0
    accuracy = float(np.mean(predictions == labels.astype(bool)))
    gradient_norm = float(np.linalg.norm(cr.grad(loss)(params, features, labels)))
    final_loss = float(loss(params, features, labels))
    print(f"logistic regression on {len(labels)} samples: loss {final_loss:.4f}, "
          f"training accuracy {accuracy:.3f}, |gradient| {gradient_norm:.1e}")
    return {"params": params, "features": features, "labels": labels, "accuracy": accuracy,
            "gradient_norm": gradient_norm}


if __name__ == "__main__":
    main()
