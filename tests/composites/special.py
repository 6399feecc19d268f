"""Composite cases: chainrule.scipy.special's functions built from rows (logsumexp, softmax,
log_softmax, expit, logit, multigammaln, zeta through its public signature). The special
functions that are rows themselves are in the registry sweep (tests/samples/special.py).

Edge points: one entry dominating a logsumexp, a -inf entry, a zero weight b, negative weights
(return_sign); expit far in both tails; logit near 0 and 1; multigammaln close to its pole at
a = (d - 1) / 2. Riemann's zeta(x) has no differentiable argument: its values only.
"""

import numpy as np
import scipy.special as scipy_special

from chainrule.scipy import special
from composites import Case

RNG = np.random.default_rng(14)
A = RNG.uniform(-2.0, 2.0, (3, 4))
B = RNG.uniform(0.2, 2.0, (3, 1))
SIGNED_B = np.array([[1.0], [-0.6], [0.3]])
DOMINANT = np.array([[0.0, 40.0, -3.0], [1.0, 2.0, 3.0]])
WITH_MINUS_INF = np.array([[-np.inf, 0.5, 1.0], [2.0, -1.0, 0.0]])
ZERO_WEIGHT = np.array([1.0, 0.5, 0.0])


def _same(name, call, *args, label="", edge=False, **options):
    """A case whose reference is SciPy's function of the same name, called the same way."""
    attribute = name.rsplit(".", 1)[1]
    return Case(
        name, lambda *a: call(getattr(special, attribute), *a), args,
        reference=lambda *a: call(getattr(scipy_special, attribute), *a), label=label,
        edge=edge, **options,
    )


def _plain(f, *a):
    return f(*a)


CASES = [
    # ----- logsumexp, softmax, log_softmax (SciPy's default: every axis) --------------------------
    _same("scipy.special.logsumexp", _plain, A, label="all axes"),
    _same("scipy.special.logsumexp", lambda f, a: f(a, axis=1, keepdims=True), A,
          label="axis=1, keepdims"),
    _same("scipy.special.logsumexp", lambda f, a, b: f(a, axis=0, b=b), A, B, label="b"),
    _same("scipy.special.logsumexp", lambda f, a, b: f(a, axis=0, b=b, return_sign=True)[0],
          A, SIGNED_B, label="negative b, return_sign"),
    _same("scipy.special.logsumexp", lambda f, a: f(a, axis=1), DOMINANT,
          label="one entry dominates", edge=True),
    _same("scipy.special.logsumexp", lambda f, a, b: f(a, axis=-1, b=b), DOMINANT, ZERO_WEIGHT,
          label="a zero weight", edge=True),
    _same("scipy.special.logsumexp", lambda f, a: f(a, axis=1), WITH_MINUS_INF,
          label="a -inf entry", edge=True),
    _same("scipy.special.softmax", _plain, A, label="all axes"),
    _same("scipy.special.softmax", lambda f, a: f(a, axis=0), A, label="axis=0"),
    _same("scipy.special.softmax", lambda f, a: f(a, axis=1), DOMINANT,
          label="one entry dominates", edge=True),
    _same("scipy.special.log_softmax", _plain, A, label="all axes"),
    _same("scipy.special.log_softmax", lambda f, a: f(a, axis=-1), DOMINANT,
          label="one entry dominates", edge=True),
    # ----- expit, logit ---------------------------------------------------------------------------
    _same("scipy.special.expit", _plain, A),
    _same("scipy.special.expit", _plain, np.array([-40.0, -12.0, 0.0, 12.0, 40.0]),
          label="tails", edge=True),
    _same("scipy.special.logit", _plain, RNG.uniform(0.05, 0.95, (2, 3))),
    _same("scipy.special.logit", _plain, np.array([3e-3, 0.5, 1.0 - 3e-3]),
          label="near 0 and 1", edge=True),
    # ----- multigammaln ---------------------------------------------------------------------------
    _same("scipy.special.multigammaln", lambda f, a: f(a, 3), np.array([1.7, 2.5, 6.0]),
          label="d = 3"),
    _same("scipy.special.multigammaln", lambda f, a: f(a, 1), np.array(0.8), label="d = 1, 0-d"),
    _same("scipy.special.multigammaln", lambda f, a: f(a, 4), np.array([1.55, 1.6]),
          label="close to the pole at 1.5", edge=True, batch=False),  # (vmap's examples cross it)
    # ----- zeta: Hurwitz's in q, Riemann's values -------------------------------------------------
    _same("scipy.special.zeta", lambda f, q: f(3.0, q), np.array([0.3, 1.0, 2.5]),
          label="Hurwitz, in q"),
    _same("scipy.special.zeta", lambda f, q: f(np.array([[1.5], [4.0]]), q),
          np.array([0.5, 2.0]), label="Hurwitz, broadcast"),
    _same("scipy.special.zeta", _plain, np.array([-3.5, -1.0, 0.0, 0.5, 2.0, 6.0]),
          label="Riemann (values only)", wrt=()),
]
