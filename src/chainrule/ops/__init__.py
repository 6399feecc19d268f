"""The primitive tables, one module per family. Importing this package fills the registry."""

from chainrule.ops import elementwise, linalg, reduce, shape  # noqa: F401
