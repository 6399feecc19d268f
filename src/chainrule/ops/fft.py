"""Discrete Fourier transforms: four linear rows, NumPy's n-d transforms over given `axes`.

`fftn`/`ifftn` take complex (or real) arrays to complex ones; `rfftn` takes a real array to the
half-spectrum of its last transformed axis (n // 2 + 1 bins); `irfftn` takes a half-spectrum
back to a real array of length `n` along that axis. A row transforms its input as it is:
chainrule.numpy.fft crops or zero-pads to NumPy's `n`/`s` first (getitem, pad), so these rules
need no sizes. `norm` is NumPy's ("backward", "ortho", "forward"); axes are distinct and
non-negative.

Rules follow the bilinear pairing <w, t> = Re(sum w t): the VJP of a C-linear map y = A x is
A^T w. With F the DFT over `axes` (F_jk = exp(-2 pi i <j, k> / N), symmetric), fftn is s F and
ifftn s conj(F) for the scale s of its norm, so each is its own transpose. rfftn and irfftn are
each other's transposes up to the weights of the half-spectrum, derived at their rows.
"""

import numpy as np

from chainrule.core.batching import shift_axis
from chainrule.core.dtypes import dtype_of, shape_of
from chainrule.core.primitive import LINEAR, InputAval, InputShape, PerPrimitive, bind, defprimitive
from chainrule.ops.elementwise import conj, imag, real

X = 0

# Under the swapped norm, an inverse transform carries the forward one's scale (1, 1/sqrt(N),
# 1/N for backward, ortho, forward) and the other way round, as in NumPy's hfft.
SWAPPED_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _over_axes(primitive):
    """The batching rule of a row with an `axes` param: the same axes, one to the right of the
    batch axis in front."""

    def rule(values, batched, size, axes, **params):
        (x,) = values
        rank = len(shape_of(x)) - 1
        return bind(primitive, x, axes=shift_axis(tuple(axes), rank), **params)

    return rule


OVER_AXES = PerPrimitive(_over_axes)


def _half_weights(n, axis, rank, dtype):
    """w_k along `axis` of the half-spectrum of a real signal of length n: 2 for the bins that
    stand for a conjugate pair (k and n - k), 1 for the zero frequency and, for even n, the
    Nyquist frequency, which stand for themselves. Shaped to broadcast against a rank-`rank`
    array."""
    weights = np.full(n // 2 + 1, 2.0, dtype=np.finfo(dtype).dtype)
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    shape = [1] * rank
    shape[axis] = weights.size
    return weights.reshape(shape)


# fmt: off
# ----- complex to complex: symmetric matrices, so each VJP is the transform itself ------------
fftn = defprimitive(
    "fftn", lambda x, axes, norm: np.fft.fftn(x, axes=axes, norm=norm),
    vjp=(lambda g, axes, norm: fftn(g, axes=axes, norm=norm),), jvp=LINEAR, family="fft",
    formula=(("fftn({g})", "fftn({t})"),), batch=OVER_AXES)

ifftn = defprimitive(
    "ifftn", lambda x, axes, norm: np.fft.ifftn(x, axes=axes, norm=norm),
    vjp=(lambda g, axes, norm: ifftn(g, axes=axes, norm=norm),), jvp=LINEAR, family="fft",
    formula=(("ifftn({g})", "ifftn({t})"),), batch=OVER_AXES)
# fmt: on


# ----- real to half-spectrum --------------------------------------------------------------------
# y = H s F x for real x, H keeping bins 0 .. n // 2 of the last axis. Write e(j, k) for F's
# entries, exp(-2 pi i sum_d j_d k_d / N_d) over the transformed axes d. On real input:
#   <g, y> = Re sum_k g_k s sum_j x_j e(j, k) = sum_j x_j s Re sum_k conj(g_k) conj(e(j, k)),
# and irfftn computes s' Re sum_k w_k a_k conj(e(j, k)) (w_k: the half-spectrum's weights, see
# below). So the VJP is irfftn(conj(g) / w) under the swapped norm, whose s' is s. It is the real
# part of the complex extension's transpose F^T H^T g, which is exactly what a real input keeps
# (<c, t> = Re(c) t for real t): real already, so the engine has nothing to drop.
def _rfftn_vjp(g, in_shape, axes, norm):
    n = in_shape[axes[-1]]
    weights = _half_weights(n, axes[-1], len(in_shape), dtype_of(g))
    return irfftn(conj(g) * (1.0 / weights), axes=axes, n=n, norm=SWAPPED_NORM[norm])


def _rfftn_jvp(t, in_shape, axes, norm):
    if dtype_of(t).kind == "c":  # a complex tangent of the real input (asked for): J a + i J b
        return rfftn(real(t), axes=axes, norm=norm) + 1j * rfftn(imag(t), axes=axes, norm=norm)
    return rfftn(t, axes=axes, norm=norm)


rfftn = defprimitive(
    "rfftn",
    lambda x, axes, norm: np.fft.rfftn(x, axes=axes, norm=norm),
    saves=(InputShape(X),),
    vjp=(_rfftn_vjp,),
    jvp=(_rfftn_jvp,),
    family="fft",
    formula=(("irfftn(conj({g}) / w)", "rfftn({t})"),),
    batch=OVER_AXES,
)


# ----- half-spectrum to real --------------------------------------------------------------------
# NumPy (pocketfft) reads the half-spectrum a as a Hermitian one: along the last axis it drops
# the imaginary parts of the bins that stand for themselves (zero frequency, and Nyquist for
# even n). Exactly, for any complex a (n-d: the inverse transforms over the other axes come
# first, then the 1-d real transform, whose Re does the dropping):
#   x_j = s Re sum_k w_k a_k conj(e(j, k)),   w_k = 1 for those bins, 2 for the others.
# So x is R-linear in a, and for real g:
#   <g, x> = Re sum_k a_k [s w_k sum_j g_j conj(e(j, k))] = Re sum_k a_k w_k conj(G_k),
# G = rfftn(g) under the swapped norm (scale s). In 1-d the cotangents of the zero-frequency
# and Nyquist bins come out real: their imaginary parts have no effect on x.
def _irfftn_vjp(g, in_aval, axes, n, norm):
    weights = _half_weights(n, axes[-1], len(shape_of(g)), dtype_of(g))
    return weights * conj(rfftn(g, axes=axes, norm=SWAPPED_NORM[norm]))


def _irfftn_jvp(t, in_aval, axes, n, norm):
    # R-linear, so the row itself is its tangent map; but for a real half-spectrum given a
    # complex tangent a + ib (asked for), the extension is J a + i J b, not the row of a + ib.
    if in_aval[1].kind != "c" and dtype_of(t).kind == "c":
        return (irfftn(real(t), axes=axes, n=n, norm=norm)
                + 1j * irfftn(imag(t), axes=axes, n=n, norm=norm))
    return irfftn(t, axes=axes, n=n, norm=norm)


def _irfftn_impl(a, axes, n, norm):
    sizes = [a.shape[axis] for axis in axes[:-1]] + [n]
    return np.fft.irfftn(a, s=sizes, axes=axes, norm=norm)


irfftn = defprimitive(
    "irfftn",
    _irfftn_impl,
    saves=(InputAval(X),),  # (its dtype only: a real input's complex tangent extends linearly)
    vjp=(_irfftn_vjp,),
    jvp=(_irfftn_jvp,),
    family="fft",
    formula=(("w · conj(rfftn({g}))", "irfftn({t})"),),
    batch=OVER_AXES,
)
