"""Datasets: anything with `__len__` and `__getitem__`; `TensorDataset` wraps arrays."""

import numpy as np

import chainrule as cr
from chainrule.errors import ShapeError

__all__ = ["Dataset", "TensorDataset"]


class Dataset:
    """Subclass with `__len__` and `__getitem__(i)` returning a sample: an array or number, or a
    tuple, list or dict of them. `DataLoader` collates samples as PyTorch's `default_collate`
    does (a tuple of arrays per batch for tuple samples, one array for array samples). Define
    `get_batch(indices)`, returning a tuple of arrays, when whole batches can be sliced at once
    (as `TensorDataset` does).

    Returns:
        `dataset[i]` gives the sample your `__getitem__` returns.
    """

    def __len__(self):  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def __getitem__(self, index):  # pragma: no cover - subclasses define it
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are the rows of each array: `TensorDataset(images, labels)[i] == (images[i],
    labels[i])`. Tensors are stored by value (no graph).

    Returns:
        `dataset[i]` gives the tuple (array0[i], array1[i], ...).

    Raises:
        ShapeError: when the arrays differ in their first dimension.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(
            np.asarray(a.numpy() if isinstance(a, cr.Tensor) else a) for a in arrays
        )
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) != 1:
            raise ShapeError(
                f"TensorDataset: arrays must have the same first dimension, got lengths {lengths}"
            )

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices) -> tuple:
        return tuple(a[indices] for a in self.arrays)
