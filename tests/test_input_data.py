"""The MNIST IDX reader on real digits, and its errors."""
import gzip
import os
import shutil

import numpy as np
import pytest

from tfcourse import input_data
from tfcourse.cli import UserError


def test_subset_reads_as_standard_mnist(fetch):
    data = input_data.read_data_sets(fetch("mnist5k"), one_hot=True, seed=0)
    assert data.train.images.shape == (3600, 784)
    assert data.validation.images.shape == (400, 784)
    assert data.test.images.shape == (1000, 784)
    assert data.train.labels.shape == (3600, 10)
    assert data.train.images.dtype == np.float32
    assert 0.0 == data.train.images.min() and data.train.images.max() == 1.0
    np.testing.assert_array_equal(data.test.labels.sum(1), 1.0)
    # stratified subset: 100 test digits of each class
    np.testing.assert_array_equal(data.test.labels.sum(0), 100)
    # real digits: the mean image has ink in the centre, none in the corners
    mean = data.train.images.mean(0).reshape(28, 28)
    assert mean[10:18, 10:18].mean() > 0.2 and mean[:3, :3].max() == 0.0


def test_full_mnist_shapes_and_checksums(fetch):
    directory = fetch("mnist")
    from tfcourse.datasets import mnist

    assert mnist.verify(directory) == []
    data = input_data.read_data_sets(directory, one_hot=False, reshape=False)
    assert data.train.images.shape == (55000, 28, 28, 1)
    assert data.validation.num_examples == 5000
    assert data.test.num_examples == 10000
    assert sorted(np.bincount(data.test.labels)) [0] > 800


def test_next_batch_covers_an_epoch_then_reshuffles():
    images = np.arange(10, dtype=np.float32).reshape(10, 1)
    labels = np.arange(10)
    ds = input_data.DataSet(images, labels, seed=3)
    seen = np.concatenate([ds.next_batch(5)[1], ds.next_batch(5)[1]])
    assert sorted(seen) == list(range(10)) and ds.epochs_completed == 0
    x, y = ds.next_batch(4)
    assert ds.epochs_completed == 1 and x.shape == (4, 1)
    np.testing.assert_array_equal(x[:, 0], y)  # images and labels stay paired
    x, y = ds.next_batch(8)  # crosses the epoch boundary
    assert x.shape == (8, 1) and ds.epochs_completed == 2
    np.testing.assert_array_equal(x[:, 0], y)


def test_idx_round_trip(tmp_path):
    arr = np.random.RandomState(0).randint(0, 256, size=(7, 28, 28)).astype(np.uint8)
    for name in ("a-idx3-ubyte.gz", "b-idx3-ubyte"):
        input_data.write_idx(str(tmp_path / name), arr)
        np.testing.assert_array_equal(input_data.read_idx(str(tmp_path), name.replace(".gz", "")),
                                      arr)


def test_missing_directory_names_the_fetch_command(tmp_path):
    with pytest.raises(UserError, match=r"does not exist.*get_data\.py mnist"):
        input_data.read_data_sets(str(tmp_path / "nowhere" / "mnist"))


def test_corrupt_file_is_reported(tmp_path, fetch):
    target = tmp_path / "mnist5k"
    shutil.copytree(fetch("mnist5k"), str(target))
    with gzip.open(str(target / "t10k-images-idx3-ubyte.gz"), "wb") as f:
        f.write(b"\x00\x00\x08\x03\x00\x00\x03\xe8")  # header only: truncated
    with pytest.raises(UserError, match=r"not a valid IDX file.*truncated.*get_data\.py mnist5k"):
        input_data.read_data_sets(str(target))
    os.remove(str(target / "train-labels-idx1-ubyte.gz"))
    with pytest.raises(UserError, match="train-labels-idx1-ubyte.*missing"):
        input_data.read_data_sets(str(target))
