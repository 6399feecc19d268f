"""`DataLoader`: mini-batches of a Dataset as chainrule Tensors, optionally shuffled.

Shuffling is seeded per epoch from (seed, epoch), so the order of epoch k does not depend on
how many epochs ran before it in this process: a resumed run sees the same batches.
"""

import math

import numpy as np

import chainrule as cr

__all__ = ["DataLoader"]


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`: each batch is a tuple of Tensors.

    `shuffle=True` draws a fresh permutation each epoch from `seed`; `drop_last=True` skips a
    final batch smaller than `batch_size`. Set `loader.epoch` to resume a run's order.

    Returns:
        Iterating yields one tuple of Tensors per batch, each with the batch as its
        first axis; `len(loader)` is the number of batches.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int = 0):
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.seed = int(seed)
        self.epoch = 0

    def __len__(self):
        count = len(self.dataset) / self.batch_size
        return math.floor(count) if self.drop_last else math.ceil(count)

    def order(self, epoch: int) -> np.ndarray:
        """The sample order of `epoch` (identity when not shuffling)."""
        if not self.shuffle:
            return np.arange(len(self.dataset))
        return np.random.default_rng((self.seed, epoch)).permutation(len(self.dataset))

    def __iter__(self):
        order = self.order(self.epoch)
        self.epoch += 1
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            indices = order[start:start + self.batch_size]
            yield tuple(cr.as_tensor(part) for part in self.dataset.get_batch(indices))
