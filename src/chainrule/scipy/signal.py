"""chainrule.scipy.signal: SciPy's scipy.signal convolutions, differentiable in both inputs.

N-dimensional convolution and correlation as composites of chainrule's primitives, with SciPy's
modes ('full', 'same', 'valid') and methods: 'direct' gathers every output's window of the
larger input with one indexing and contracts it with the smaller one (a matrix product);
'fft' multiplies the spectra (chainrule.numpy.fft), as fftconvolve. 'auto' takes the direct
method for small problems and the FFT for large ones; the two agree to rounding. Integer inputs
(nothing to differentiate) go to SciPy itself, which keeps their dtype.
"""

import numpy as _np

from chainrule.core.dtypes import dtype_of as _dtype_of
from chainrule.core.dtypes import shape_of as _shape_of
from chainrule.core.tensor import Tensor as _Tensor
from chainrule.errors import ArgumentError, ShapeError
from chainrule.errors import require_extra as _require_extra
from chainrule.numpy import fft as _fft
from chainrule.numpy import shapes as _shapes
from chainrule.numpy._common import plain as _plain
from chainrule.numpy._explain import wrap_public as _wrap_public
from chainrule.ops import elementwise as _elementwise
from chainrule.ops._rules import prim as _prim

__all__ = ["convolve", "correlate", "fftconvolve"]

_MODES = ("full", "same", "valid")
_METHODS = ("auto", "direct", "fft")
# 'auto' convolves directly while the gathered windows (outputs x kernel entries) stay below
# this many numbers: there a matrix product beats three FFTs, and it needs no padding to size.
_DIRECT_UP_TO = 2**16


def _scipy_signal():
    return _require_extra("scipy.signal", "scipy")


def convolve(in1, in2, mode="full", method="auto"):
    """The N-dimensional convolution of in1 and in2 (same number of dimensions), as
    scipy.signal.convolve: mode 'full' (every overlap), 'same' (in1's shape, centred) or
    'valid' (full overlaps only; one input must be at least as large as the other in every
    dimension). method 'direct', 'fft' or 'auto'. Differentiable in both inputs."""
    _check(mode, method)
    in1, in2 = _arrays(in1, in2)
    if not _differentiable(in1, in2):
        return _plain(_scipy_signal().convolve)(in1, in2, mode=mode, method=method)
    if _is_scalar_pair(in1, in2):
        return in1 * in2
    in1, in2 = _ordered(in1, in2, mode)
    return _convolve(in1, in2, mode, method)


def correlate(in1, in2, mode="full", method="auto"):
    """The N-dimensional cross-correlation, as scipy.signal.correlate:
    z[k] = sum_l in1[l] conj(in2[l - k]), which is convolve(in1, in2 reversed and conjugated)
    with the same modes and methods. Differentiable in both inputs."""
    _check(mode, method)
    in1, in2 = _arrays(in1, in2)
    if not _differentiable(in1, in2):
        return _plain(_scipy_signal().correlate)(in1, in2, mode=mode, method=method)
    if _is_scalar_pair(in1, in2):
        return in1 * _conj(in2)
    _same_rank(in1, in2)
    in2 = _conj(_shapes.flip(in2))
    in1, in2 = _ordered(in1, in2, mode)
    return _convolve(in1, in2, mode, method)


def fftconvolve(in1, in2, mode="full", axes=None):
    """Convolution by FFT, as scipy.signal.fftconvolve: over `axes` (default all); along the
    other axes the inputs broadcast (sizes equal, or 1). Differentiable in both inputs."""
    _check(mode, "fft")
    in1, in2 = _arrays(in1, in2)
    if not _differentiable(in1, in2):
        return _plain(_scipy_signal().fftconvolve)(in1, in2, mode=mode, axes=axes)
    if _is_scalar_pair(in1, in2):
        return in1 * in2
    _same_rank(in1, in2)
    if _size(in1) == 0 or _size(in2) == 0:
        return _np.asarray([])
    shape1, shape2 = _shape(in1), _shape(in2)
    axes = _fft_axes(shape1, shape2, axes)
    if not all(shape1[a] == shape2[a] or 1 in (shape1[a], shape2[a])
               for a in range(len(shape1)) if a not in axes):
        raise ShapeError(f"fftconvolve: incompatible shapes for in1 and in2: {shape1} and "
                         f"{shape2} (outside `axes` they must be equal or 1)")
    if _swap_needed(mode, shape1, shape2, axes, "fftconvolve"):
        in1, in2 = in2, in1
    return _by_fft(in1, in2, mode, axes)


# ----- the two methods ---------------------------------------------------------------------------
def _convolve(in1, in2, mode, method):
    shape1, shape2 = _shape(in1), _shape(in2)
    start, size = _window(shape1, shape2, mode, range(len(shape1)))
    if method == "auto":
        smaller = min(_size(in1), _size(in2))
        method = "direct" if _np.prod(size) * smaller <= _DIRECT_UP_TO else "fft"
    if method == "fft":
        return _by_fft(in1, in2, mode, list(range(len(shape1))))
    # Commutative: gather windows of the larger input, contract with the smaller one.
    signal, kernel = (in1, in2) if _size(in1) >= _size(in2) else (in2, in1)
    return _direct(signal, kernel, start, size)


def _direct(signal, kernel, start, size):
    """out[o] = sum_k signal[o + start - k] kernel[k] (zero outside signal), for o in the
    window `size`: one gather of the padded signal, one matrix-vector product."""
    kernel_shape = _shape(kernel)
    rank = len(kernel_shape)
    padded = _shapes.pad(signal, [(k - 1, k - 1) for k in kernel_shape])
    index = []
    for axis, (first, count, taps) in enumerate(zip(start, size, kernel_shape, strict=True)):
        along = _np.arange(count)[:, None] + first - _np.arange(taps)[None, :] + taps - 1
        shape = [1] * (2 * rank)
        shape[axis], shape[rank + axis] = count, taps
        index.append(along.reshape(shape))
    windows = _prim("getitem")(padded, index=tuple(index))  # (*size, *kernel_shape)
    outputs, taps = int(_np.prod(size)), int(_np.prod(kernel_shape))
    flat = _prim("reshape")(windows, shape=(outputs, taps))
    product = _prim("matmul")(flat, _prim("reshape")(kernel, shape=(taps,)))
    return _prim("reshape")(product, shape=tuple(size))


def _by_fft(in1, in2, mode, axes):
    """The full convolution over `axes` by FFT (broadcasting the other axes), then the mode's
    window."""
    shape1, shape2 = _shape(in1), _shape(in2)
    full = [shape1[a] + shape2[a] - 1 for a in axes]
    if not axes:
        product = in1 * in2
    elif _dtype_of(in1).kind == "c" or _dtype_of(in2).kind == "c":
        spectrum = _fft.fftn(in1, s=full, axes=axes) * _fft.fftn(in2, s=full, axes=axes)
        product = _fft.ifftn(spectrum, s=full, axes=axes)
    else:
        spectrum = _fft.rfftn(in1, s=full, axes=axes) * _fft.rfftn(in2, s=full, axes=axes)
        product = _fft.irfftn(spectrum, s=full, axes=axes)
    start, size = _window(shape1, shape2, mode, axes, _shape(product))
    index = tuple(slice(first, first + count) for first, count in zip(start, size, strict=True))
    return product[index]


def _window(shape1, shape2, mode, axes, full=None):
    """(start, size) per axis of the mode's output within the full convolution (SciPy's
    `_centered` of the full result: in1's shape for 'same', s1 - s2 + 1 along `axes` for
    'valid')."""
    if full is None:
        full = tuple(a + b - 1 for a, b in zip(shape1, shape2, strict=True))
    if mode == "full":
        wanted = full
    elif mode == "same":
        wanted = shape1
    else:
        wanted = tuple(shape1[a] - shape2[a] + 1 if a in axes else full[a]
                       for a in range(len(full)))
    start = tuple((f - w) // 2 for f, w in zip(full, wanted, strict=True))
    return start, tuple(wanted)


# ----- arguments ---------------------------------------------------------------------------------
def _check(mode, method):
    if mode not in _MODES:
        raise ArgumentError(f"mode must be 'full', 'same' or 'valid'; got {mode!r}")
    if method not in _METHODS:
        raise ArgumentError(f"method must be 'auto', 'direct' or 'fft'; got {method!r}")


def _arrays(in1, in2):
    return tuple(a if isinstance(a, _Tensor) else _np.asarray(a) for a in (in1, in2))


def _shape(a):
    return tuple(_shape_of(a))


def _size(a):
    return int(_np.prod(_shape(a), dtype=_np.int64))


def _differentiable(in1, in2):
    """Whether either input is floating (else SciPy computes it, keeping integer dtypes)."""
    return _dtype_of(in1).kind in "fc" or _dtype_of(in2).kind in "fc"


def _is_scalar_pair(in1, in2):
    return not _shape(in1) and not _shape(in2)


def _conj(a):
    return _elementwise.conj(a) if _dtype_of(a).kind == "c" else a


def _same_rank(in1, in2):
    if len(_shape(in1)) != len(_shape(in2)):
        raise ShapeError(
            f"in1 and in2 should have the same dimensionality; got shapes {_shape(in1)} and "
            f"{_shape(in2)}. Add axes of length 1 (x[None, :]) to the one with fewer."
        )


def _ordered(in1, in2, mode):
    """(in1, in2), swapped where 'valid' needs the larger first (convolution commutes)."""
    _same_rank(in1, in2)
    if _size(in1) == 0 or _size(in2) == 0:
        raise ShapeError(f"cannot convolve an empty array (shapes {_shape(in1)} and "
                         f"{_shape(in2)})")
    shape1, shape2 = _shape(in1), _shape(in2)
    if _swap_needed(mode, shape1, shape2, range(len(shape1)), "convolve"):
        return in2, in1
    return in1, in2


def _swap_needed(mode, shape1, shape2, axes, what):
    if mode != "valid" or not shape1:
        return False
    first_larger = all(shape1[a] >= shape2[a] for a in axes)
    second_larger = all(shape2[a] >= shape1[a] for a in axes)
    if not (first_larger or second_larger):
        raise ShapeError(
            f"{what}: for 'valid' mode, one input must be at least as large as the other in "
            f"every dimension; got shapes {shape1} and {shape2}"
        )
    return not first_larger


def _fft_axes(shape1, shape2, axes):
    """The axes to transform: normalised, without those of length 1 in an input (there the
    product broadcasts), as SciPy's."""
    rank = len(shape1)
    if axes is None:
        axes = range(rank)
    elif _np.ndim(axes) == 0:
        axes = [axes]
    axes = list(axes)
    if not axes:
        raise ArgumentError("fftconvolve: when provided, axes cannot be empty")
    normalised = []
    for axis in axes:
        if not -rank <= int(axis) < rank:
            raise ShapeError(f"fftconvolve: axis {axis} is out of range for {rank} dimensions")
        normalised.append(int(axis) % rank)
    if len(set(normalised)) != len(normalised):
        raise ArgumentError(f"fftconvolve: axes must be unique; got {axes}")
    return [a for a in normalised if shape1[a] != 1 and shape2[a] != 1]


_wrap_public(globals(), __all__)
