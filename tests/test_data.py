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


# ----- any map-style dataset, and PyTorch's keyword arguments -------------------------------------
def test_a_numpy_array_is_a_dataset_of_its_rows():
    features = np.arange(20.0).reshape(10, 2)
    batches = list(DataLoader(features, batch_size=4))
    assert all(isinstance(b, cr.Tensor) for b in batches)  # one Tensor per batch, as PyTorch
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in batches]), features)
    assert [b.shape for b in batches] == [(4, 2), (4, 2), (2, 2)]
    shuffled = np.concatenate([b.numpy() for b in DataLoader(features, 3, shuffle=True, seed=1)])
    np.testing.assert_array_equal(shuffled, features[DataLoader(features, shuffle=True,
                                                                seed=1).order(0)])


def test_a_list_of_pairs_is_collated_field_by_field():
    pairs = [(np.full(3, float(i)), i % 3) for i in range(7)]
    loader = DataLoader(pairs, batch_size=3, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 2
    x, y = batches[1]
    np.testing.assert_array_equal(x.numpy(), np.repeat([[3.0], [4.0], [5.0]], 3, axis=1))
    np.testing.assert_array_equal(y.numpy(), [0, 1, 2])
    # the same batches as a TensorDataset of the stacked fields gives
    stacked = TensorDataset(np.stack([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
    for (xa, ya), (xb, yb) in zip(DataLoader(pairs, 4, shuffle=True, seed=2),
                                  DataLoader(stacked, 4, shuffle=True, seed=2), strict=True):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())


def test_any_class_with_len_and_getitem_is_a_dataset():
    class Pairs:  # no chainrule base class, as a PyTorch map-style dataset
        def __len__(self):
            return 5

        def __getitem__(self, index):
            return {"x": cr.tensor([index, -index]), "y": np.float32(index) / 2}

    batch = next(iter(DataLoader(Pairs(), batch_size=5)))
    np.testing.assert_array_equal(batch["x"].numpy(), [[0, 0], [1, -1], [2, -2], [3, -3],
                                                       [4, -4]])
    assert batch["y"].dtype == np.float32 and batch["y"].tolist() == [0, 0.5, 1, 1.5, 2]

    class Scalars(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return index * 10

    assert next(iter(DataLoader(Scalars(), batch_size=3))).tolist() == [0, 10, 20]


def test_a_dataset_with_get_batch_is_sliced_a_batch_at_a_time():
    class Sliced(TensorDataset):
        def __getitem__(self, index):  # never used by the loader: get_batch slices
            raise AssertionError("indexed sample by sample")

    (batch,) = next(iter(DataLoader(Sliced(np.arange(6)), batch_size=4)))
    assert batch.tolist() == [0, 1, 2, 3]


def test_something_without_len_and_getitem_is_refused_naming_tensordataset():
    with pytest.raises(TypeError, match=r"int is not a dataset.*TensorDataset"):
        DataLoader(3)
    with pytest.raises(TypeError, match="TensorDataset"):
        DataLoader(x for x in range(3))


def test_collate_fn_gets_the_list_of_samples():
    seen = []

    def collate(samples):
        seen.append(samples)
        return sum(samples)

    assert list(DataLoader([1, 2, 3, 4, 5], batch_size=2, collate_fn=collate)) == [3, 7, 5]
    assert seen[0] == [1, 2]
    dataset = TensorDataset(np.arange(4), np.arange(4) * 2)  # samples, not get_batch's slices
    first = next(iter(DataLoader(dataset, batch_size=2, collate_fn=list)))
    assert [tuple(map(int, sample)) for sample in first] == [(0, 0), (1, 2)]
    with pytest.raises(TypeError, match="collate_fn must be callable"):
        DataLoader(dataset, collate_fn="stack")


def test_pytorchs_loader_options_are_accepted_where_they_mean_something():
    dataset = TensorDataset(np.arange(6))
    loader = DataLoader(dataset, batch_size=2, num_workers=0, pin_memory=False, collate_fn=None,
                        generator=None, persistent_workers=False, timeout=0, sampler=None)
    assert [b[0].tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(ValueError, match="main process.*num_workers=0"):
        DataLoader(dataset, num_workers=4)
    with pytest.raises(ValueError, match="no GPU memory"):
        DataLoader(dataset, pin_memory=True)
    with pytest.raises(ValueError, match="worker processes"):
        DataLoader(dataset, persistent_workers=True)
    with pytest.raises(TypeError, match="shuffle=, seed="):
        DataLoader(dataset, sampler=[0, 1])
    with pytest.raises(TypeError, match="unexpected keyword argument 'shufle'"):
        DataLoader(dataset, shufle=True)


@pytest.mark.parametrize("generator", [np.random.default_rng(0), 0])
def test_generator_is_refused_naming_seed_as_cr_rand_names_rng(generator):
    with pytest.raises(TypeError, match=r"generator=.*seed= \(an int\).*each epoch"):
        DataLoader(TensorDataset(np.arange(4)), shuffle=True, generator=generator)
    with pytest.raises(TypeError, match="rng="):  # the same convention as the tensor factories
        cr.rand(2, generator=generator)


def test_default_collate_keeps_pytorchs_containers_and_names_what_it_cannot_batch():
    import collections

    from chainrule.data import default_collate

    Pair = collections.namedtuple("Pair", "x y")
    batch = default_collate([Pair(np.ones(2), 0), Pair(np.zeros(2), 1)])
    assert type(batch) is Pair and batch.x.shape == (2, 2) and batch.y.shape == (2,)
    listed = default_collate([[np.ones(3), 1.0], [np.zeros(3), 2.0]])
    assert isinstance(listed, list) and listed[0].shape == (2, 3) and listed[1].shape == (2,)

    class Frozen(collections.abc.Mapping):  # a mapping that is not a dict
        def __init__(self, **items):
            self.items_ = items

        def __getitem__(self, key):
            return self.items_[key]

        def __iter__(self):
            return iter(self.items_)

        def __len__(self):
            return len(self.items_)

    mapped = default_collate([Frozen(a=1.0, b=np.ones(2)), Frozen(a=2.0, b=np.zeros(2))])
    assert set(mapped) == {"a", "b"} and mapped["b"].shape == (2, 2)
    for samples in ([b"ab", b"cd"], [None, None], [object(), object()]):
        with pytest.raises(TypeError, match="default_collate: cannot batch.*collate_fn"):
            default_collate(samples)
    with pytest.raises(ShapeError, match=r"different shapes.*\(2,\).*\(3,\)"):
        default_collate([np.ones(2), np.ones(3)])


def test_a_dataset_subclass_of_single_arrays_gives_one_tensor_a_batch():
    class Rows(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, index):
            return np.full(2, float(index))

    batch = next(iter(DataLoader(Rows(), batch_size=2)))
    assert isinstance(batch, cr.Tensor) and batch.shape == (2, 2)  # as PyTorch: no 1-tuple
