"""MNIST reader with the interface of the old ``tensorflow.examples.tutorials.mnist.input_data``.

    from tfcourse import input_data
    mnist = input_data.read_data_sets("data/mnist", one_hot=True)
    batch_xs, batch_ys = mnist.train.next_batch(100)

Reads the four standard IDX files (``train-images-idx3-ubyte[.gz]`` ...) from
a directory, gzipped or raw.  It never downloads: a missing or corrupt file
raises :class:`tfcourse.cli.UserError` naming the command that fetches it
(``python setup/get_data.py mnist``).  Images are float32 in [0, 1], flattened
to 784 values (or [28, 28, 1] with ``reshape=False``).
"""
import collections
import gzip
import os

import numpy as np

from tfcourse.cli import UserError
from tfcourse.datasets import fetch_hint

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _fetch_hint(directory):
    name = os.path.basename(os.path.normpath(directory))
    return fetch_hint(name if name in ("mnist", "mnist5k", "fashion_mnist") else "mnist",
                      directory)


def _open(directory, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path, (gzip.open(path, "rb") if candidate.endswith(".gz") else open(path, "rb"))
    if not os.path.isdir(directory):
        raise UserError("MNIST data directory %s does not exist; fetch it with: %s"
                        % (directory, _fetch_hint(directory)))
    raise UserError("%s[.gz] is missing in %s; fetch MNIST with: %s"
                    % (name, directory, _fetch_hint(directory)))


def read_idx(directory, name):
    """The array stored in IDX file ``name`` (``.gz`` or raw) of ``directory``."""
    path, f = _open(directory, name)
    try:
        with f:
            header = f.read(4)
            if len(header) != 4 or header[0] != 0 or header[1] != 0 or header[2] not in _DTYPES:
                raise ValueError("bad magic number %r" % header)
            ndim = header[3]
            dims = np.frombuffer(f.read(4 * ndim), dtype=">u4").astype(np.int64)
            dtype = np.dtype(_DTYPES[header[2]])
            count = int(np.prod(dims))
            data = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
            if data.size != count:
                raise ValueError("truncated: %d of %d values" % (data.size, count))
            return data.reshape(dims)
    except (ValueError, OSError, EOFError) as exc:
        raise UserError("%s is not a valid IDX file (%s); delete it and run: %s"
                        % (path, exc, _fetch_hint(directory))) from exc


def write_idx(path, array):
    """Write ``array`` (uint8) as an IDX file, gzipped when ``path`` ends in ``.gz``."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header)
        f.write(array.tobytes())


def dense_to_one_hot(labels, num_classes=10):
    one_hot = np.zeros((labels.shape[0], num_classes), dtype=np.float32)
    one_hot[np.arange(labels.shape[0]), labels.astype(np.int64)] = 1.0
    return one_hot


class DataSet:
    """Images and labels with ``next_batch`` that reshuffles at every epoch."""

    def __init__(self, images, labels, seed=None):
        if images.shape[0] != labels.shape[0]:
            raise UserError("images and labels differ in number: %d vs %d; the data files "
                            "do not belong together" % (images.shape[0], labels.shape[0]))
        self._images = images
        self._labels = labels
        self._num_examples = images.shape[0]
        self._epochs_completed = 0
        self._index_in_epoch = 0
        self._rng = np.random.RandomState(seed)

    images = property(lambda self: self._images)
    labels = property(lambda self: self._labels)
    num_examples = property(lambda self: self._num_examples)
    epochs_completed = property(lambda self: self._epochs_completed)

    def next_batch(self, batch_size, shuffle=True):
        """The next ``batch_size`` examples; shuffled anew at each epoch like the original."""
        if batch_size <= 0:
            raise UserError("batch size must be positive, got %d" % batch_size)
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size > self._num_examples:
            # take the rest of this epoch, reshuffle, and fill up from the next
            self._epochs_completed += 1
            rest = self._num_examples - start
            images_rest = self._images[start:]
            labels_rest = self._labels[start:]
            if shuffle:
                self._shuffle()
            self._index_in_epoch = batch_size - rest
            end = self._index_in_epoch
            return (np.concatenate((images_rest, self._images[:end]), axis=0),
                    np.concatenate((labels_rest, self._labels[:end]), axis=0))
        self._index_in_epoch += batch_size
        return self._images[start:start + batch_size], self._labels[start:start + batch_size]

    def _shuffle(self):
        perm = self._rng.permutation(self._num_examples)
        self._images = self._images[perm]
        self._labels = self._labels[perm]


def read_data_sets(train_dir, one_hot=False, reshape=True, validation_size=5000, seed=None,
                   dtype=np.float32):
    """Train / validation / test :class:`DataSet` from the IDX files in ``train_dir``.

    ``validation_size`` images are taken from the front of the training file
    (5000 as in the original; it is reduced to a tenth when the training file
    is smaller, as for the 5000-digit subset).
    """
    train_images = read_idx(train_dir, TRAIN_IMAGES)
    train_labels = read_idx(train_dir, TRAIN_LABELS)
    test_images = read_idx(train_dir, TEST_IMAGES)
    test_labels = read_idx(train_dir, TEST_LABELS)
    for name, arr in ((TRAIN_IMAGES, train_images), (TEST_IMAGES, test_images)):
        if arr.ndim != 3:
            raise UserError("%s in %s holds %d-d data, not images; fetch MNIST again with: %s"
                            % (name, train_dir, arr.ndim, _fetch_hint(train_dir)))
    if validation_size >= train_images.shape[0]:
        validation_size = train_images.shape[0] // 10

    def prepare(images, labels):
        images = images.astype(dtype) / 255.0 if dtype == np.float32 else images
        images = images.reshape(images.shape[0], -1) if reshape else images[..., np.newaxis]
        labels = dense_to_one_hot(labels) if one_hot else labels.astype(np.int64)
        return images, labels

    vi, vl = prepare(train_images[:validation_size], train_labels[:validation_size])
    ti, tl = prepare(train_images[validation_size:], train_labels[validation_size:])
    si, sl = prepare(test_images, test_labels)
    return Datasets(train=DataSet(ti, tl, seed=seed), validation=DataSet(vi, vl, seed=seed),
                    test=DataSet(si, sl, seed=seed))
