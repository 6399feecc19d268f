"""Samples for the FFT rows (src/chainrule/ops/fft.py): filled in with the rows."""

SAMPLES: dict = {}
