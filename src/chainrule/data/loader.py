"""`DataLoader`: mini-batches of a dataset as chainrule Tensors, optionally shuffled.

Shuffling is seeded per epoch from (seed, epoch), so the order of epoch k does not depend on
how many epochs ran before it in this process: a resumed run sees the same batches.

Any map-style dataset works, as in PyTorch: an object with `__len__` and `__getitem__` (a
NumPy array, a list of (x, y) pairs, your own class). A dataset whose class defines
`get_batch(indices)` (`TensorDataset`) is sliced a whole batch at a time; any other is indexed
sample by sample and the samples are collated by `default_collate`.
"""

import math
import numbers
from collections.abc import Mapping

import numpy as np

import chainrule as cr
from chainrule.errors import ShapeError

__all__ = ["DataLoader", "default_collate"]

# PyTorch's DataLoader options that only concern worker processes: accepted at their defaults.
_WORKER_DEFAULTS = {"timeout": 0, "worker_init_fn": None, "multiprocessing_context": None,
                    "prefetch_factor": None, "persistent_workers": False}
_SAMPLER_OPTIONS = ("sampler", "batch_sampler")


def default_collate(samples):
    """Collate a list of samples into a batch, as PyTorch's `default_collate`.

    Tuples are collated field by field (so `(x, y)` samples give the tuple `(xs, ys)`; a
    namedtuple keeps its type), lists likewise into a list, mappings key by key into a dict,
    strings into a list; arrays, numbers and Tensors (by value) are stacked along a new first
    axis.

    Returns:
        A Tensor of the stacked samples, or a tuple (list, dict) of such batches, one per field.

    Raises:
        TypeError: samples that are not numbers (bytes, None, objects): return arrays of numbers
            from `__getitem__`, or pass `DataLoader(..., collate_fn=...)`.
        ShapeError: samples (or fields) of different shapes, which cannot be stacked.

    Example:
        >>> default_collate([(np.ones(2), 0), (np.zeros(2), 1)])   # (Tensor (2, 2), Tensor (2,))
    """
    first = samples[0]
    if isinstance(first, tuple):
        fields = [default_collate([s[k] for s in samples]) for k in range(len(first))]
        return type(first)(*fields) if hasattr(first, "_fields") else tuple(fields)
    if isinstance(first, list):
        return [default_collate([s[k] for s in samples]) for k in range(len(first))]
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, str):
        return list(samples)
    values = [_value(s) for s in samples]
    if any(value.dtype.kind not in "biufc" for value in values):
        raise TypeError(
            f"default_collate: cannot batch samples of type {type(first).__name__} (dtype "
            f"{values[0].dtype}): a batch holds numbers. Return arrays or numbers (or tuples, "
            "lists or dicts of them) from __getitem__, or pass DataLoader(..., collate_fn=...)."
        )
    if len({value.shape for value in values}) != 1:
        raise ShapeError(
            f"default_collate: samples of different shapes "
            f"{sorted({value.shape for value in values})} cannot be stacked into one batch; "
            "pad them to one shape, or pass DataLoader(..., collate_fn=...)."
        )
    return cr.as_tensor(np.stack(values))


def _value(sample):
    return sample.numpy() if isinstance(sample, cr.Tensor) else np.asarray(sample)


def _fast_path(dataset) -> bool:
    """True when whole batches can be sliced at once (a class that defines its own get_batch)."""
    return callable(getattr(type(dataset), "get_batch", None))


class DataLoader:
    """Iterate over `dataset` in batches of `batch_size`.

    `dataset` is anything with `__len__` and `__getitem__` (PyTorch's map-style dataset): a
    `TensorDataset`, a `Dataset` subclass, a NumPy array, a list of (x, y) pairs. With a
    `TensorDataset` each batch is a tuple of Tensors (one per array), sliced at once; other
    datasets are indexed sample by sample and collated as PyTorch's `default_collate` does:
    tuple samples give a tuple of Tensors, array or number samples one Tensor.

    `shuffle=True` draws a fresh permutation each epoch from `seed` (an int); `drop_last=True`
    skips a final batch smaller than `batch_size`. Set `loader.epoch` to resume a run's order.
    `collate_fn(samples)` replaces the collation: it gets the list of a batch's samples and
    its result is yielded as it is.

    PyTorch's other options are accepted where they mean something here: `num_workers=0`
    and `pin_memory=False` (chainrule loads in the main process, into host memory), and the
    worker options (`timeout`, `worker_init_fn`, `prefetch_factor`, `persistent_workers`,
    `multiprocessing_context`) at their defaults.

    Returns:
        Iterating yields one batch per step, each with the batch as its first axis;
        `len(loader)` is the number of batches.

    Raises:
        TypeError: a dataset without `__len__` and `__getitem__`, `generator=` (pass `seed=`,
            an int), `sampler=` or `batch_sampler=`, or a `collate_fn` that is not callable.
        ValueError: a batch size that is not a positive integer, `num_workers` > 0,
            `pin_memory=True`, or a worker option other than its default.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int = 0, *, collate_fn=None,
                 num_workers: int = 0, pin_memory: bool = False, generator=None,
                 **torch_options):
        if batch_size is None:
            raise ValueError(
                "DataLoader: batch_size=None (PyTorch's unbatched loading) is not supported; "
                "iterate over the dataset itself, or use batch_size=1"
            )
        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size}")
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: a {type(dataset).__name__} is not a dataset: it needs __len__ and "
                "__getitem__ (a map-style dataset, as in PyTorch). Wrap arrays in "
                "chainrule.data.TensorDataset(inputs, targets), or pass a NumPy array, a list "
                "of samples or a Dataset subclass."
            )
        _check_torch_options(num_workers, pin_memory, generator, torch_options)
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {collate_fn!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.seed = int(seed)
        self.collate_fn = collate_fn
        self.num_workers, self.pin_memory = 0, False
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
            yield self._batch(order[start:start + self.batch_size])

    def _batch(self, indices):
        dataset = self.dataset
        if self.collate_fn is not None:
            return self.collate_fn([dataset[int(i)] for i in indices])
        if _fast_path(dataset):
            return tuple(cr.as_tensor(part) for part in dataset.get_batch(indices))
        if isinstance(dataset, np.ndarray):  # the rows at once: the same as stacking them
            return cr.as_tensor(dataset[indices])
        return default_collate([dataset[int(i)] for i in indices])


def _check_torch_options(num_workers, pin_memory, generator, torch_options):
    if generator is not None:
        raise TypeError(
            "DataLoader(..., generator=...): chainrule shuffles from seed= (an int): each "
            "epoch's order is drawn from (seed, epoch), so a resumed run sees the same batches. "
            "Pass seed= instead."
        )
    if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
        raise ValueError(f"DataLoader: num_workers must be a non-negative integer, got "
                         f"{num_workers!r}")
    if num_workers > 0:
        raise ValueError(
            f"DataLoader(..., num_workers={num_workers}): chainrule loads in the main process "
            "(batches are NumPy slices, cheap to make); use num_workers=0."
        )
    if pin_memory:
        raise ValueError(
            "DataLoader(..., pin_memory=True): chainrule computes with NumPy on the CPU, so there "
            "is no GPU memory to pin for; leave pin_memory=False."
        )
    for name, value in torch_options.items():
        if name in _SAMPLER_OPTIONS:
            if value is None:
                continue
            raise TypeError(
                f"DataLoader(..., {name}=...): chainrule's loader orders the samples itself "
                "(shuffle=, seed=, drop_last=); to load a subset, index it first (a NumPy "
                "array of the rows, or a TensorDataset of them)."
            )
        if name not in _WORKER_DEFAULTS:
            raise TypeError(f"DataLoader.__init__() got an unexpected keyword argument {name!r}")
        if value != _WORKER_DEFAULTS[name]:
            raise ValueError(
                f"DataLoader(..., {name}={value!r}): an option of worker processes; chainrule "
                "loads in the main process (num_workers=0), so leave it at "
                f"{_WORKER_DEFAULTS[name]!r}."
            )
