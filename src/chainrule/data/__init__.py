"""`chainrule.data`: datasets, a seeded mini-batch loader, and the bundled digits data set."""

from chainrule.data.dataset import Dataset, TensorDataset
from chainrule.data.digits import load_digits
from chainrule.data.loader import DataLoader

__all__ = ["Dataset", "TensorDataset", "DataLoader", "load_digits"]
