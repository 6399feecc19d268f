"""The primitive tables, one module per family. Importing this package fills the registry."""

from chainrule.ops import elementwise, fft, linalg, nn, reduce, shape  # noqa: F401
