"""Composite cases: chainrule.scipy.signal's convolve, correlate and fftconvolve, in every mode,
both methods, 1-d and 2-d, complex, and with fftconvolve's axes. Edge points: a zero input, a
one-tap kernel, equal lengths in 'valid' mode (a single output), an even kernel centred by
'same', a kernel longer than the signal. Also scipy.integrate's quadrature of samples
(trapezoid, cumulative_trapezoid, simpson: sums of a signal's samples), with uneven points and
the even-count correction of simpson."""

import numpy as np
import scipy.integrate as si
import scipy.signal as ss

import chainrule.scipy.integrate as cint
import chainrule.scipy.signal as csig
from composites import Case

RNG = np.random.default_rng(3)
SIGNAL, KERNEL, EVEN = RNG.standard_normal(7), RNG.standard_normal(3), RNG.standard_normal(4)
IMAGE, PATCH = RNG.standard_normal((4, 5)), RNG.standard_normal((2, 3))
COMPLEX = RNG.standard_normal(5) + 1j * RNG.standard_normal(5)


def _case(name, args, label="", edge=False, **options):
    ours, theirs = getattr(csig, name), getattr(ss, name)
    return Case(f"scipy.signal.{name}", lambda a, b: ours(a, b, **options), args,
                lambda a, b: theirs(a, b, **options),
                label=label or ", ".join(f"{k}={v}" for k, v in options.items()), edge=edge)


CASES = [
    *(_case(name, (SIGNAL, KERNEL), mode=mode, method=method)
      for name in ("convolve", "correlate") for mode in ("full", "same", "valid")
      for method in ("direct", "fft")),
    _case("convolve", (KERNEL, SIGNAL), label="kernel first, valid (swapped)", mode="valid"),
    _case("correlate", (KERNEL, SIGNAL), label="kernel first, valid (swapped)", mode="valid"),
    _case("convolve", (SIGNAL, EVEN), label="even kernel, same", mode="same"),
    _case("correlate", (SIGNAL, EVEN), label="even kernel, same", mode="same"),
    _case("convolve", (IMAGE, PATCH), label="2-d, same", mode="same"),
    _case("correlate", (IMAGE, PATCH), label="2-d, valid, fft", mode="valid", method="fft"),
    _case("convolve", (COMPLEX, KERNEL), label="complex signal"),
    _case("correlate", (SIGNAL, COMPLEX), label="complex kernel, fft", method="fft"),
    _case("fftconvolve", (SIGNAL, KERNEL), label="full"),
    _case("fftconvolve", (IMAGE, PATCH), label="2-d, valid", mode="valid"),
    _case("fftconvolve", (IMAGE, PATCH[:1]), label="axes=1, broadcast rows", axes=1),
    _case("fftconvolve", (IMAGE, IMAGE[:, :2]), label="axes=-1, same", mode="same", axes=-1),
    _case("convolve", (np.zeros(5), KERNEL), label="zero signal", edge=True),
    _case("convolve", (SIGNAL, KERNEL[:1]), label="one tap", edge=True),
    _case("correlate", (SIGNAL, SIGNAL[::-1]), label="equal lengths, valid", edge=True,
          mode="valid"),
]


# ----- scipy.integrate: quadrature of samples ----------------------------------------------------
SAMPLES = RNG.standard_normal((3, 6))
POINTS = np.linspace(0.0, 3.0, 6) + RNG.uniform(-0.15, 0.15, 6)  # uneven, none close


def _quadrature(name, args, label="", edge=False, **options):
    ours, theirs = getattr(cint, name), getattr(si, name)
    return Case(f"scipy.integrate.{name}", lambda *a: ours(*a, **options), args,
                lambda *a: theirs(*a, **options), label=label, edge=edge)


CASES += [
    _quadrature("trapezoid", (SAMPLES, POINTS), label="uneven points"),
    _quadrature("trapezoid", (SAMPLES,), label="dx, axis 0", dx=0.5, axis=0),
    _quadrature("cumulative_trapezoid", (SAMPLES, POINTS), label="initial=0", initial=0),
    _quadrature("simpson", (SAMPLES, POINTS), label="even count (Cartwright's correction)"),
    _quadrature("simpson", (SAMPLES[:, :5], POINTS[:5]), label="odd count"),
    _quadrature("simpson", (SAMPLES[:, :2], POINTS[:2]), label="two samples", edge=True),
    _quadrature("simpson", (SAMPLES[:, :5],), label="dx", dx=0.25),
]
