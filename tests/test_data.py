"""chainrule.data: datasets, the seeded DataLoader and the bundled digits."""

import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader, Dataset, TensorDataset, load_digits
from chainrule.errors import MissingExtraError, ShapeError


def test_tensor_dataset_rows_and_length_check():
    features, labels = np.arange(12.0).reshape(6, 2), np.arange(6)
    dataset = TensorDataset(features, cr.tensor(labels))
    assert len(dataset) == 6
    x, y = dataset[4]
    np.testing.assert_array_equal(x, [8.0, 9.0])
    assert y == 4
    with pytest.raises(ShapeError, match=r"lengths \[6, 5\]"):
        TensorDataset(features, labels[:5])


def test_loader_batches_in_order_with_a_short_last_batch():
    dataset = TensorDataset(np.arange(10))
    batches = [batch[0] for batch in DataLoader(dataset, batch_size=4)]
    assert all(isinstance(b, cr.Tensor) for b in batches)
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(DataLoader(dataset, batch_size=4)) == 3


def test_drop_last_skips_the_short_batch():
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=4, drop_last=True)
    assert len(loader) == 2
    assert [b[0].tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_is_seeded_covers_everything_and_changes_per_epoch():
    dataset = TensorDataset(np.arange(20))

    def epochs(seed):
        loader = DataLoader(dataset, batch_size=6, shuffle=True, seed=seed)
        return [np.concatenate([b[0].numpy() for b in loader]) for _ in range(2)]

    first, again, other = epochs(3), epochs(3), epochs(4)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert sorted(first[0]) == list(range(20))
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])


def test_setting_the_epoch_reproduces_that_epochs_order():
    dataset = TensorDataset(np.arange(20))
    loader = DataLoader(dataset, batch_size=20, shuffle=True, seed=1)
    next(iter(loader))
    second = next(iter(loader))[0].numpy()
    resumed = DataLoader(dataset, batch_size=20, shuffle=True, seed=1)
    resumed.epoch = 1
    np.testing.assert_array_equal(next(iter(resumed))[0].numpy(), second)


def test_custom_dataset_samples_are_stacked():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, index):
            return np.array([index, index * index]), index % 2

    x, parity = next(iter(DataLoader(Squares(), batch_size=3)))
    np.testing.assert_array_equal(x.numpy(), [[0, 0], [1, 1], [2, 4]])
    np.testing.assert_array_equal(parity.numpy(), [0, 1, 0])


def test_loader_rejects_bad_batch_sizes():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(TensorDataset(np.arange(3)), batch_size=0)


def test_load_digits_split_is_80_20_seeded_and_disjoint():
    train, test = load_digits(seed=0)
    assert (len(train), len(test)) == (1437, 360)
    images, labels = train.arrays
    assert images.shape == (1437, 1, 8, 8) and images.dtype == np.float32
    assert labels.dtype == np.int64 and set(labels) == set(range(10))
    assert 0.0 <= images.min() and images.max() <= 1.0
    again, _ = load_digits(seed=0)
    np.testing.assert_array_equal(again.arrays[0], images)
    other, _ = load_digits(seed=1)
    assert not np.array_equal(other.arrays[1], labels)
    # no test image appears in training (the digits contain no exact duplicates across the split)
    train_rows = {row.tobytes() for row in images.reshape(len(images), -1)}
    assert not any(row.tobytes() in train_rows for row in test.arrays[0].reshape(360, -1))


def test_load_digits_without_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # makes the import fail
    with pytest.raises(MissingExtraError, match=r"pip install 'chainrule\[train\]'.*scikit-learn"):
        load_digits()
