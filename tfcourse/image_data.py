"""The image data sets of the train scripts, as numpy arrays, and their batches.

    from tfcourse import image_data
    data = image_data.load("cifar10")                 # or mnist, mnist5k, fashion_mnist, flowers17
    data.train_images.shape, data.train_images.dtype  # (50000, 32, 32, 3) uint8, NHWC
    batches = image_data.Batches(data, batch_size=128, augment=True, seed=0)
    images, labels = batches.next()                   # random crop (zero padding) + flip

Every set comes from ``python setup/get_data.py NAME`` (``tfcourse.datasets``)
and is read here without any download: a missing or corrupt folder raises
:class:`tfcourse.cli.UserError` naming the fetch command.  Images stay uint8
(the graph scales them); labels are int64 class indices.  MNIST and
Fashion-MNIST are the IDX files the MNIST reader reads; CIFAR-10 the pickled
python batches; 17 Flowers the jpgs, resized (shorter side) and centre
cropped to ``image_size`` squares, split by the official ``datasplits.mat``
(split 1: train / validation / test) when it is there, otherwise by a seeded
80/10/10 split of each class.
"""
import collections
import os
import pickle

import numpy as np

from tfcourse import cli, default_data_dir, input_data

#: --dataset choices; mnist5k is the real 5000-digit MNIST subset
DATASETS = ("mnist", "mnist5k", "fashion_mnist", "cifar10", "flowers17")
#: horizontal flips are label-preserving for these (not for digits)
FLIP = {"mnist": False, "mnist5k": False, "fashion_mnist": True, "cifar10": True,
        "flowers17": True}
#: augment (random crop and flip) by default: this project's choice for the photo sets (the PKU
#: lecture's CIFAR-10 code shows none)
AUGMENT = {"mnist": False, "mnist5k": False, "fashion_mnist": False, "cifar10": True,
           "flowers17": True}

ImageData = collections.namedtuple("ImageData", [
    "name", "train_images", "train_labels", "test_images", "test_labels", "class_names",
    "validation_images", "validation_labels", "data_dir"])
ImageData.image_shape = property(lambda d: tuple(d.train_images.shape[1:]))
ImageData.num_classes = property(lambda d: len(d.class_names))


def _hint(name, data_dir):
    """The get_data command that fetches data set ``name`` into ``data_dir``."""
    folder = os.path.normpath(data_dir)
    if name == "mnist" and os.path.basename(folder) == "mnist5k":
        name = "mnist5k"
    return "python setup/get_data.py %s --data-dir %s" % (name, os.path.dirname(folder) or ".")


def _missing(name, data_dir, what):
    return cli.UserError("%s %s in %s; fetch it with: %s" % (name, what, data_dir,
                                                             _hint(name, data_dir)))


def _load_idx(name, data_dir, class_names):
    for stem in (input_data.TRAIN_IMAGES, input_data.TRAIN_LABELS, input_data.TEST_IMAGES,
                 input_data.TEST_LABELS):
        if not any(os.path.exists(os.path.join(data_dir, stem + ext)) for ext in (".gz", "")):
            raise _missing(name, data_dir, "file %s[.gz] is missing" % stem)
    arrays = [input_data.read_idx(data_dir, stem) for stem in (
        input_data.TRAIN_IMAGES, input_data.TRAIN_LABELS, input_data.TEST_IMAGES,
        input_data.TEST_LABELS)]
    if arrays[0].ndim != 3 or arrays[0].shape[0] != arrays[1].shape[0] \
            or arrays[2].shape[0] != arrays[3].shape[0]:
        raise _missing(name, data_dir, "files do not fit together (shapes %s)"
                       % [a.shape for a in arrays])
    return (arrays[0][..., np.newaxis], arrays[1].astype(np.int64),
            arrays[2][..., np.newaxis], arrays[3].astype(np.int64), class_names)


def _unpickle(path):
    with open(path, "rb") as f:
        return pickle.load(f, encoding="bytes")


def _load_cifar10(data_dir):
    from tfcourse.datasets import cifar10

    if os.path.isdir(os.path.join(data_dir, cifar10.FOLDER)):   # the archive's own layout
        data_dir = os.path.join(data_dir, cifar10.FOLDER)
    for name in cifar10.TRAIN_FILES + (cifar10.TEST_FILE,):
        if not os.path.exists(os.path.join(data_dir, name)):
            raise _missing("cifar10", data_dir, "file %s is missing" % name)

    def read(names):
        images, labels = [], []
        for name in names:
            try:
                batch = _unpickle(os.path.join(data_dir, name))
                data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
                labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
            except (pickle.UnpicklingError, EOFError, KeyError, ValueError, TypeError) as exc:
                raise _missing("cifar10", data_dir, "batch %s is corrupt (%s)"
                               % (name, exc)) from exc
            images.append(data.transpose(0, 2, 3, 1))            # NCHW rows -> NHWC
        return np.concatenate(images), np.concatenate(labels)

    train_images, train_labels = read(cifar10.TRAIN_FILES)
    test_images, test_labels = read([cifar10.TEST_FILE])
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
             "truck"]
    meta = os.path.join(data_dir, "batches.meta")
    if os.path.exists(meta):
        names = [n.decode() for n in _unpickle(meta)[b"label_names"]]
    return train_images, train_labels, test_images, test_labels, names


def _read_jpg(path, size):
    from PIL import Image

    with Image.open(path) as img:
        img.draft("RGB", (size, size))          # decode JPEGs at reduced scale: much faster
        img = img.convert("RGB")
        scale = size / min(img.size)
        w, h = max(size, round(img.size[0] * scale)), max(size, round(img.size[1] * scale))
        img = img.resize((w, h), Image.BILINEAR)
        left, top = (w - size) // 2, (h - size) // 2
        return np.asarray(img.crop((left, top, left + size, top + size)), dtype=np.uint8)


def flowers17_splits(data_dir, seed=0):
    """(train, validation, test) index arrays (0-based) and where they came from."""
    from tfcourse.datasets import flowers17

    path = os.path.join(data_dir, flowers17.SPLITS)
    if os.path.exists(path):
        try:
            import scipy.io
        except ImportError:
            raise cli.UserError("%s needs scipy to read; pip install scipy, or delete the file to "
                                "use the seeded 80/10/10 split" % path)
        try:
            mat = scipy.io.loadmat(path)
            parts = [np.asarray(mat[k], dtype=np.int64).ravel() - 1 for k in
                     ("trn1", "val1", "tst1")]
        except (ValueError, KeyError, OSError) as exc:
            raise cli.UserError("%s is not the official datasplits.mat (%s); delete it and run: "
                                "%s" % (path, exc, _hint("flowers17", data_dir))) from exc
        return parts, "official datasplits.mat split 1"
    rng = np.random.RandomState(seed)
    parts = ([], [], [])
    per = flowers17.PER_CLASS
    for c in range(flowers17.NUM_CLASSES):
        idx = c * per + rng.permutation(per)
        n_train, n_val = int(round(0.8 * per)), int(round(0.1 * per))
        parts[0].extend(idx[:n_train])
        parts[1].extend(idx[n_train:n_train + n_val])
        parts[2].extend(idx[n_train + n_val:])
    return [np.array(p, dtype=np.int64) for p in parts], "seeded 80/10/10 split (seed %d)" % seed


def _load_flowers17(data_dir, image_size):
    from tfcourse.datasets import flowers17

    if not flowers17.is_present(data_dir):
        raise _missing("flowers17", data_dir, "images (jpg/image_0001.jpg .. image_%04d.jpg) are "
                       "incomplete" % flowers17.num_images())
    images = []
    for name in flowers17.image_names():
        path = os.path.join(data_dir, flowers17.FOLDER, name)
        try:
            images.append(_read_jpg(path, image_size))
        except OSError as exc:
            raise _missing("flowers17", data_dir, "image %s is unreadable (%s)"
                           % (name, exc)) from exc
    images = np.stack(images)
    labels = np.arange(len(images), dtype=np.int64) // flowers17.PER_CLASS   # blocks of 80
    (train, val, test), _ = flowers17_splits(data_dir)
    return (images[train], labels[train], images[test], labels[test],
            list(flowers17.CLASS_NAMES), images[val], labels[val])


def load(name, data_dir=None, image_size=64, validation_size=0):
    """The :class:`ImageData` of data set ``name`` from ``data_dir`` (default: the data folder).

    ``validation_size``: hold out that many images from the front of the training images as
    the validation set, as ``input_data.read_data_sets`` does (5000 there: 55000 MNIST digits
    remain to train on; a tenth where the set holds fewer); 17 Flowers keeps its own split.
    """
    if name not in DATASETS:
        raise cli.UserError("unknown data set %r; choose from %s" % (name, ", ".join(DATASETS)))
    data_dir = data_dir or default_data_dir(name)
    if not os.path.isdir(data_dir):
        raise _missing(name, data_dir, "folder does not exist:")
    validation = (None, None)
    if name in ("mnist", "mnist5k"):
        parts = _load_idx(name, data_dir, [str(d) for d in range(10)])
    elif name == "fashion_mnist":
        from tfcourse.datasets import fashion_mnist

        parts = _load_idx(name, data_dir, list(fashion_mnist.CLASS_NAMES))
    elif name == "cifar10":
        parts = _load_cifar10(data_dir)
    else:
        loaded = _load_flowers17(data_dir, image_size)
        parts, validation = loaded[:5], loaded[5:]
    if validation_size and name != "flowers17":
        train_images, train_labels = parts[:2]
        if validation_size >= len(train_images):
            validation_size = len(train_images) // 10
        validation = (train_images[:validation_size], train_labels[:validation_size])
        parts = (train_images[validation_size:], train_labels[validation_size:]) + tuple(parts[2:])
    return ImageData(name, *parts, *validation, data_dir=os.path.abspath(data_dir))


def augment(images, rng, pad, flip):
    """Random crop of each image from a zero-padded copy (``pad`` pixels), and random flips."""
    n, h, w = images.shape[:3]
    out = np.empty_like(images)
    if pad:
        padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant")
        dy = rng.randint(0, 2 * pad + 1, size=n)
        dx = rng.randint(0, 2 * pad + 1, size=n)
        for i in range(n):
            out[i] = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    else:
        out[...] = images
    if flip:
        mirrored = rng.rand(n) < 0.5
        out[mirrored] = out[mirrored, :, ::-1]
    return out


class Batches:
    """Shuffled training batches, reshuffled every epoch, optionally augmented.

    ``pad`` defaults to an eighth of the image side (4 pixels for 32x32, as for
    CIFAR-10); flips only where they keep the label (:data:`FLIP`).
    """

    def __init__(self, data, batch_size, augment=False, seed=0, pad=None):
        if batch_size > len(data.train_images):
            raise cli.UserError("--batch_size %d is larger than the %d training images; choose a "
                                "smaller one" % (batch_size, len(data.train_images)))
        self.images, self.labels = data.train_images, data.train_labels
        self.batch_size = batch_size
        self.augment = augment
        self.pad = data.image_shape[0] // 8 if pad is None else pad
        self.flip = FLIP[data.name]
        self.rng = np.random.RandomState(seed)
        self.order = self.rng.permutation(len(self.images))
        self.position = 0

    def next(self):
        if self.position + self.batch_size > len(self.order):
            self.order = self.rng.permutation(len(self.images))
            self.position = 0
        idx = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        images = self.images[idx]
        if self.augment:
            images = augment(images, self.rng, self.pad, self.flip)
        return images, self.labels[idx]
