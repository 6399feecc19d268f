"""`chainrule.numpy.fft`: NumPy's discrete Fourier transforms, differentiable and batchable.

Each function reads its arguments as NumPy does (`n`/`s`, `axis`/`axes`, `norm`), crops or
zero-pads its input to the requested sizes (getitem, pad) and calls one row of
`chainrule.ops.fft` (fftn, ifftn, rfftn, irfftn); hfft and ihfft are irfft and rfft of the
conjugate, as in NumPy; fftshift and ifftshift are rolls. `chainrule.numpy` registers them for
NumPy dispatch, so `np.fft.fft(tensor)` records.
"""

import operator
import warnings

import numpy as _np

from chainrule.core.dtypes import shape_of
from chainrule.core.tensor import Tensor
from chainrule.errors import ArgumentError, DTypeError, ShapeError
from chainrule.numpy._common import array_dtype, reject
from chainrule.numpy._explain import wrap_public
from chainrule.ops import elementwise as _elementwise
from chainrule.ops import fft as _ops
from chainrule.ops import shape as _shape_ops

__all__ = [
    "fft", "ifft", "rfft", "irfft", "hfft", "ihfft", "fft2", "ifft2", "rfft2", "irfft2",
    "fftn", "ifftn", "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
]

_NORMS = ("backward", "ortho", "forward")
_SWAP = _ops.SWAPPED_NORM  # hfft and ihfft: the inverse transform's scale, and the other way


# ----- reading the arguments ---------------------------------------------------------------------
def _shape(a):
    return tuple(shape_of(a)) if isinstance(a, Tensor) else _np.shape(a)


def _norm(norm, what):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ArgumentError(
            f"{what}: norm={norm!r} is not one of \"backward\" (the default), \"ortho\" or "
            "\"forward\"."
        )
    return norm


def _axis(axis, ndim, what):
    """`axis` as a non-negative int, checked against `ndim`."""
    try:
        axis = operator.index(axis)
    except TypeError:
        raise ArgumentError(f"{what}: an axis must be an integer, got {axis!r}") from None
    if ndim == 0:
        raise ShapeError(f"{what}: a 0-d array has no axis to transform; pass at least 1-d")
    if not -ndim <= axis < ndim:
        raise ShapeError(
            f"{what}: axis {axis} is out of range for an array with {ndim} dimensions "
            f"(valid axes: {-ndim} to {ndim - 1})"
        )
    return axis % ndim


def _size(n, what, name="n"):
    """A number of points: a positive int."""
    try:
        n = operator.index(n)
    except TypeError:
        raise ArgumentError(f"{what}: {name} must be an integer, got {n!r}") from None
    if n < 1:
        raise ShapeError(
            f"{what}: {name}={n} is not a valid number of data points; it must be at least 1"
        )
    return n


def _one_axis(a, n, axis, what):
    """(sizes, axes) of a 1-d transform; n=None is the transform's default (see _resolved)."""
    axis = _axis(axis, len(_shape(a)), what)
    return [None if n is None else _size(n, what)], [axis]


def _nd_args(a, s, axes, what, inverse_real=False):
    """(sizes, axes) of an n-d transform, as NumPy's _cook_nd_args reads them: axes in the
    given order (repeats allowed: the transform is applied again); without `s`, the input's
    sizes (irfftn's last: 2 (m - 1)); -1 in `s` is the input's size, None the 1-d default."""
    shape = _shape(a)
    ndim = len(shape)
    if axes is None:
        if s is not None:
            warnings.warn(
                f"{what}: `axes` should not be None when `s` is given (deprecated in NumPy "
                "2.0); the last len(s) axes are transformed. Pass axes explicitly.",
                DeprecationWarning, stacklevel=4,
            )
            axes = range(-len(_as_list(s, "s", what)), 0)
        else:
            axes = range(ndim)
    axes = [_axis(axis, ndim, what) for axis in _as_list(axes, "axes", what)]
    if s is None:
        sizes = [shape[axis] for axis in axes]
        if inverse_real and axes:
            sizes[-1] = 2 * (shape[axes[-1]] - 1)
    else:
        s = _as_list(s, "s", what)
        if len(s) != len(axes):
            raise ShapeError(
                f"{what}: s has {len(s)} entries and axes has {len(axes)}; give one size per "
                "transformed axis"
            )
        sizes = [shape[axis] if size is not None and size == -1 else size
                 for size, axis in zip(s, axes)]
    return [None if size is None else _size(size, what, "s") for size in sizes], axes


def _resolved(a, sizes, axes, what, inverse_real=False):
    """`sizes` with None replaced as NumPy's 1-d transforms do, from `a`'s shape as it is now:
    the input's size, or for the last axis of an inverse real transform 2 (m - 1)."""
    shape = _shape(a)
    resolved = [shape[axis] if size is None else size for size, axis in zip(sizes, axes)]
    if inverse_real and sizes[-1] is None:
        resolved[-1] = _size(2 * (shape[axes[-1]] - 1), what)
    return resolved


def _as_list(value, name, what):
    if isinstance(value, (int, _np.integer)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise ArgumentError(
            f"{what}: {name} must be a sequence of integers, got {value!r}"
        ) from None


def _repeated(axes):
    return len(set(axes)) != len(axes)


# ----- cropping and zero-padding to the requested sizes -----------------------------------------
def _fit(a, axes, sizes):
    """`a` cropped or zero-padded at the end of each axis to its size, as NumPy's transforms
    read their input: their transposes (pad, crop) come from getitem's and pad's rules."""
    shape = _shape(a)
    crop = [slice(None)] * len(shape)
    pad = [(0, 0)] * len(shape)
    for axis, size in zip(axes, sizes):
        if size < shape[axis]:
            crop[axis] = slice(0, size)
        elif size > shape[axis]:
            pad[axis] = (0, size - shape[axis])
    if any(part != slice(None) for part in crop):
        a = _shape_ops.getitem(a, index=tuple(crop))
    if any(widths != (0, 0) for widths in pad):
        a = _shape_ops.pad(a, pad_width=tuple(pad), constant_values=0)
    return a


# ----- the three kinds of transform -------------------------------------------------------------
def _complex(a, sizes, axes, norm, inverse, what):
    if not axes:
        return a if isinstance(a, Tensor) else _np.asarray(a)  # as NumPy: nothing to do
    if _repeated(axes):  # NumPy applies the 1-d transform axis after axis, last first
        for size, axis in reversed(list(zip(sizes, axes))):
            a = _complex(a, [size], [axis], norm, inverse, what)
        return a
    row = _ops.ifftn if inverse else _ops.fftn
    sizes = _resolved(a, sizes, axes, what)
    return row(_fit(a, axes, sizes), axes=tuple(axes), norm=norm)


def _real_input(a, what):
    if array_dtype(a).kind == "c":
        raise DTypeError(
            f"{what} transforms real input; got {array_dtype(a)}. Use fft/fftn for complex "
            "input, or transform cnp.real(a)."
        )


def _forward_real(a, sizes, axes, norm, what):
    if not axes:
        raise ShapeError(f"{what}: needs at least one axis to transform")
    if _repeated(axes):  # as NumPy: rfft along the last axis, then fft along the others
        a = _forward_real(a, sizes[-1:], axes[-1:], norm, what)
        return _complex(a, sizes[:-1], axes[:-1], norm, False, what)
    sizes = _resolved(a, sizes, axes, what)
    return _ops.rfftn(_fit(a, axes, sizes), axes=tuple(axes), norm=norm)


def _inverse_real(a, sizes, axes, norm, what):
    if not axes:
        raise ShapeError(f"{what}: needs at least one axis to transform")
    if _repeated(axes):  # as NumPy: ifft along all but the last axis, then irfft along it
        for size, axis in zip(sizes[:-1], axes[:-1]):
            a = _complex(a, [size], [axis], norm, True, what)
        return _inverse_real(a, sizes[-1:], axes[-1:], norm, what)
    sizes = _resolved(a, sizes, axes, what, inverse_real=True)
    bins = sizes[:-1] + [sizes[-1] // 2 + 1]
    return _ops.irfftn(_fit(a, axes, bins), axes=tuple(axes), n=sizes[-1], norm=norm)


# ----- one axis ----------------------------------------------------------------------------------
def fft(a, n=None, axis=-1, norm=None, out=None):
    """The 1-d discrete Fourier transform along `axis`, of `n` points (cropped or zero-padded)."""
    reject("fft", out)
    sizes, axes = _one_axis(a, n, axis, "fft")
    return _complex(a, sizes, axes, _norm(norm, "fft"), False, "fft")


def ifft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of fft: 1/n sum_k a_k exp(2 pi i j k / n) for norm="backward"."""
    reject("ifft", out)
    sizes, axes = _one_axis(a, n, axis, "ifft")
    return _complex(a, sizes, axes, _norm(norm, "ifft"), True, "ifft")


def rfft(a, n=None, axis=-1, norm=None, out=None):
    """fft of real input, keeping the n // 2 + 1 non-negative frequencies. Real input only;
    its gradient is real."""
    reject("rfft", out)
    _real_input(a, "rfft")
    sizes, axes = _one_axis(a, n, axis, "rfft")
    return _forward_real(a, sizes, axes, _norm(norm, "rfft"), "rfft")


def irfft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of rfft: n real points (default 2 (m - 1)) from m half-spectrum bins, read
    as a Hermitian spectrum (the imaginary parts of the zero and Nyquist bins are ignored, and
    get a zero gradient)."""
    reject("irfft", out)
    sizes, axes = _one_axis(a, n, axis, "irfft")
    return _inverse_real(a, sizes, axes, _norm(norm, "irfft"), "irfft")


def hfft(a, n=None, axis=-1, norm=None, out=None):
    """The fft of a signal with Hermitian symmetry given by its first half: real output,
    irfft(conj(a)) with the norm swapped, as NumPy computes it."""
    reject("hfft", out)
    norm = _SWAP[_norm(norm, "hfft")]
    sizes, axes = _one_axis(a, n, axis, "hfft")
    return _inverse_real(_elementwise.conj(a), sizes, axes, norm, "hfft")


def ihfft(a, n=None, axis=-1, norm=None, out=None):
    """The inverse of hfft: conj(rfft(a)) with the norm swapped. Real input only."""
    reject("ihfft", out)
    _real_input(a, "ihfft")
    norm = _SWAP[_norm(norm, "ihfft")]
    sizes, axes = _one_axis(a, n, axis, "ihfft")
    return _elementwise.conj(_forward_real(a, sizes, axes, norm, "ihfft"))


# ----- several axes ------------------------------------------------------------------------------
def fftn(a, s=None, axes=None, norm=None, out=None):
    """The n-d discrete Fourier transform over `axes` (default: all), of sizes `s`."""
    reject("fftn", out)
    sizes, axes = _nd_args(a, s, axes, "fftn")
    return _complex(a, sizes, axes, _norm(norm, "fftn"), False, "fftn")


def ifftn(a, s=None, axes=None, norm=None, out=None):
    """The inverse of fftn."""
    reject("ifftn", out)
    sizes, axes = _nd_args(a, s, axes, "ifftn")
    return _complex(a, sizes, axes, _norm(norm, "ifftn"), True, "ifftn")


def rfftn(a, s=None, axes=None, norm=None, out=None):
    """fftn of real input, keeping half of the last axis's frequencies. Real input only."""
    reject("rfftn", out)
    _real_input(a, "rfftn")
    sizes, axes = _nd_args(a, s, axes, "rfftn")
    return _forward_real(a, sizes, axes, _norm(norm, "rfftn"), "rfftn")


def irfftn(a, s=None, axes=None, norm=None, out=None):
    """The inverse of rfftn: a real array of sizes `s` (the last default 2 (m - 1))."""
    reject("irfftn", out)
    sizes, axes = _nd_args(a, s, axes, "irfftn", inverse_real=True)
    return _inverse_real(a, sizes, axes, _norm(norm, "irfftn"), "irfftn")


def fft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """fftn over the last two axes."""
    reject("fft2", out)
    sizes, axes = _nd_args(a, s, axes, "fft2")
    return _complex(a, sizes, axes, _norm(norm, "fft2"), False, "fft2")


def ifft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """ifftn over the last two axes."""
    reject("ifft2", out)
    sizes, axes = _nd_args(a, s, axes, "ifft2")
    return _complex(a, sizes, axes, _norm(norm, "ifft2"), True, "ifft2")


def rfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """rfftn over the last two axes."""
    reject("rfft2", out)
    _real_input(a, "rfft2")
    sizes, axes = _nd_args(a, s, axes, "rfft2")
    return _forward_real(a, sizes, axes, _norm(norm, "rfft2"), "rfft2")


def irfft2(a, s=None, axes=(-2, -1), norm=None, out=None):
    """irfftn over the last two axes."""
    reject("irfft2", out)
    sizes, axes = _nd_args(a, s, axes, "irfft2", inverse_real=True)
    return _inverse_real(a, sizes, axes, _norm(norm, "irfft2"), "irfft2")


# ----- shifts and frequencies --------------------------------------------------------------------
def _shifts(x, axes, sign, what):
    shape = _shape(x)
    if axes is None:
        axes = range(len(shape))
    axes = tuple(_axis(axis, len(shape), what) for axis in _as_list(axes, "axes", what))
    if not axes:
        return x  # a 0-d array (NumPy's roll fails on no axes)
    shifts = tuple(sign * (shape[axis] // 2) for axis in axes)
    return _shape_ops.roll(x, shift=shifts, axis=axes)


def fftshift(x, axes=None):
    """The zero frequency moved to the centre: a roll by n // 2 along each of `axes`."""
    return _shifts(x, axes, 1, "fftshift")


def ifftshift(x, axes=None):
    """The inverse of fftshift: a roll by -(n // 2)."""
    return _shifts(x, axes, -1, "ifftshift")


def fftfreq(n, d=1.0, device=None):
    """The sample frequencies of fft's bins for sample spacing `d` (a plain array; for a Tensor
    `d`, differentiable in it)."""
    if isinstance(d, Tensor):
        return _np.fft.fftfreq(n, 1.0, device=device) * (1.0 / d)
    return _np.fft.fftfreq(n, d, device=device)


def rfftfreq(n, d=1.0, device=None):
    """The sample frequencies of rfft's bins (see fftfreq)."""
    if isinstance(d, Tensor):
        return _np.fft.rfftfreq(n, 1.0, device=device) * (1.0 / d)
    return _np.fft.rfftfreq(n, d, device=device)


wrap_public(globals(), __all__, not_array_first={"fftfreq", "rfftfreq"})
