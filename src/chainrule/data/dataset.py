"""Datasets: anything with `__len__` and `__getitem__`; `TensorDataset` wraps arrays."""

import numpy as np

import chainrule as cr
from chainrule.errors import ShapeError

__all__ = ["Dataset", "TensorDataset"]


class Dataset:
    """Subclass with `__len__` and `__getitem__(i)` returning a tuple of arrays or numbers.
    `get_batch(indices)` stacks samples; override it when whole batches can be sliced at once.

    Returns:
        `dataset[i]` gives a tuple of arrays or numbers; `get_batch(indices)` gives a tuple of
        stacked arrays, one per field.
    """

    def __len__(self):  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def __getitem__(self, index):  # pragma: no cover - subclasses define it
        raise NotImplementedError

    def get_batch(self, indices) -> tuple:
        samples = [self[int(i)] for i in indices]
        if not isinstance(samples[0], tuple):
            return (np.stack([np.asarray(s) for s in samples]),)
        return tuple(np.stack([np.asarray(s[k]) for s in samples]) for k in range(len(samples[0])))


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
