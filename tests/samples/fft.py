"""Samples for the FFT rows (src/chainrule/ops/fft.py): fftn, ifftn on complex and real input,
rfftn on real input, irfftn on half-spectra (complex, and real as NumPy allows) of even and odd
lengths; one axis, several, in a given order, and every norm. The rows transform their input as
it is (chainrule.numpy.fft crops and pads), so `axes` are distinct and non-negative."""

from samples import Sample, complex_uniform, uniform


def _transform(args, axes, norm="backward", label="", **params):
    return Sample(args, {"axes": axes, "norm": norm, **params}, label=label)


SAMPLES = {
    "fftn": [
        _transform((uniform((2, 5)),), (1,), label="real, last axis"),
        _transform((complex_uniform((2, 5)),), (1,), label="complex, last axis"),
        _transform((complex_uniform((3, 4)),), (0, 1), "ortho", label="complex 2-d, ortho"),
        _transform((complex_uniform((2, 3, 4)),), (2, 0), "forward", label="axes (2, 0), forward"),
        _transform((uniform((4, 3)),), (0,), label="real, first axis"),
    ],
    "ifftn": [
        _transform((uniform((2, 5)),), (1,), "ortho", label="real, ortho"),
        _transform((complex_uniform((2, 5)),), (1,), label="complex, last axis"),
        _transform((complex_uniform((3, 4)),), (1, 0), "forward", label="axes (1, 0), forward"),
        _transform((complex_uniform((2, 3, 2)),), (0, 1, 2), label="3-d"),
    ],
    "rfftn": [
        _transform((uniform((2, 6)),), (1,), label="even length"),
        _transform((uniform((2, 5)),), (1,), "ortho", label="odd length, ortho"),
        _transform((uniform((3, 4)),), (0, 1), "forward", label="2-d, forward"),
        _transform((uniform((3, 4, 2)),), (2, 0), label="halved axis 0, axes (2, 0)"),
        _transform((uniform((5, 2)),), (0,), label="first axis"),
        _transform((uniform((1,)),), (0,), label="one point"),
    ],
    "irfftn": [
        _transform((uniform((2, 4)),), (1,), n=7, label="real half-spectrum"),
        _transform((complex_uniform((2, 4)),), (1,), n=6, label="n=6 (even) from 4 bins"),
        _transform((complex_uniform((2, 3)),), (1,), n=5, norm="ortho", label="n=5 (odd), ortho"),
        _transform((complex_uniform((3, 3)),), (0, 1), n=4, norm="forward", label="2-d, forward"),
        _transform((complex_uniform((3, 4, 2)),), (2, 0), n=4, label="halved axis 0, axes (2, 0)"),
        _transform((complex_uniform((1,)),), (0,), n=1, label="one point"),
    ],
}
