"""The 8x8 handwritten digits bundled with scikit-learn (1,797 images, no download)."""

import math

import numpy as np

from chainrule.data.dataset import TensorDataset
from chainrule.errors import require_extra

__all__ = ["load_digits"]


def load_digits(test_fraction: float = 0.2, seed: int = 0, dtype=np.float32):
    """(train, test) TensorDatasets of (images (N, 1, 8, 8) scaled to [0, 1], labels (N,) int64).

    The split is a seeded permutation: ceil(test_fraction * 1797) images are held out
    (360 for the default 20%). Needs scikit-learn (`pip install 'chainrule[train]'`).

    Returns:
        A pair (train, test) of TensorDatasets of float32 images (N, 1, 8, 8) and int64
        labels (N,).

    Raises:
        MissingExtraError: without scikit-learn (`pip install 'chainrule[train]'`).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"load_digits: test_fraction must lie in (0, 1), got {test_fraction}")
    datasets = require_extra("sklearn.datasets", "train", package="scikit-learn")
    bunch = datasets.load_digits()
    images = (bunch.images / 16.0).astype(dtype).reshape(-1, 1, 8, 8)
    labels = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = math.ceil(test_fraction * len(labels))
    test, train = order[:n_test], order[n_test:]
    return (TensorDataset(images[train], labels[train]),
            TensorDataset(images[test], labels[test]))
