"""Data of the character recogniser: the class list, CASIA's .gnt files streamed, images.

The GNT format and its reader live in ``tfcourse/datasets/hwdb.py`` (the fetcher's
module).  HWDB1.1 is 2.4 GB of bitmaps: blog part 8 warns never to read all of it into
memory at once, so :func:`hwdb_split` gives a :class:`Stream` that reads the samples as
they are needed, from the .gnt files or, faster, from their TFRecords
(``python setup/make_tfrecords.py hwdb``: the images already scaled and centred).
"""
import os

import numpy as np

from tfcourse import cjk, cli, tfrecords
from tfcourse.datasets import hwdb
from tfcourse.datasets.hwdb import HEADER, read_gnt, write_gnt  # noqa: F401 (the format)

#: samples the training stream draws its batches from at random (tf.data's shuffle buffer)
SHUFFLE_BUFFER = 10000


def classes(num_classes):
    """The first ``num_classes`` GB2312 level-1 characters (all 3755 for 0)."""
    chars = cjk.level1()
    if not 0 <= num_classes <= len(chars):
        raise cli.UserError("--num_classes must be between 1 and %d (0 = all)" % len(chars))
    return chars[:num_classes or len(chars)]


def prepare(image, image_size):
    """Any greyscale character image (dark ink on light paper) -> the network's uint8 input
    (its ink box scaled and centred)."""
    return cjk.prepare(image, image_size)


class Stream:
    """Samples read in order as they are needed, never all at once.

    ``samples()`` starts a new pass (an iterator of ``(image, label)``); ``count`` is how
    many a pass yields; ``skip`` leaves out the first ones (held back for validation).
    """

    def __init__(self, samples, count, image_size, source, skip=0):
        self._samples, self.count, self.image_size = samples, count - skip, image_size
        self.source, self.skip = source, skip

    def __len__(self):
        return self.count

    def samples(self):
        passed = self._samples()
        for _ in range(self.skip):
            next(passed)
        return passed

    def hold_out(self, n):
        """``(images, labels)`` of the first ``n`` samples, and the stream of the rest."""
        first = [sample for _, sample in zip(range(n), self.samples())]
        rest = Stream(self._samples, self.count + self.skip, self.image_size, self.source,
                      self.skip + n)
        return stack(first, self.image_size), rest

    def in_batches(self, batch_size):
        """``(images, labels)`` batches of one pass, in order (the last one smaller)."""
        batch = []
        for sample in self.samples():
            batch.append(sample)
            if len(batch) == batch_size:
                yield stack(batch, self.image_size)
                batch = []
        if batch:
            yield stack(batch, self.image_size)

    def batches(self, batch_size, rng, buffer=SHUFFLE_BUFFER):
        """Training batches for ever: every pass drawn at random from a buffer of ``buffer``
        samples, as tf.data's shuffle does."""
        batch = []
        while True:
            for sample in shuffled(self.samples(), min(buffer, self.count), rng):
                batch.append(sample)
                if len(batch) == batch_size:
                    yield stack(batch, self.image_size)
                    batch = []


def shuffled(samples, size, rng):
    """The ``samples`` in a random order, each drawn from a buffer of the next ``size``."""
    buffer = []
    for sample in samples:
        if len(buffer) < size:
            buffer.append(sample)
            continue
        i = rng.randint(size)
        yield buffer[i]
        buffer[i] = sample
    rng.shuffle(buffer)
    yield from buffer


def stack(samples, image_size):
    """uint8 images [N, S, S] and int32 labels [N] of ``(image, label)`` pairs."""
    if not samples:
        return np.zeros((0, image_size, image_size), np.uint8), np.zeros(0, np.int32)
    images, labels = zip(*samples)
    return np.stack(images), np.array(labels, np.int32)


def hwdb_split(data_dir, split, chars, image_size, fix):
    """A :class:`Stream` of HWDB1.1's ``split`` ('train' or 'test') for the classes
    ``chars``: from the TFRecords in DATA_DIR/tfrecords when there are any (written at
    this ``image_size``), else from the .gnt files in DATA_DIR/split."""
    index = {c: i for i, c in enumerate(chars)}
    records = tfrecords.folder(data_dir)
    if os.path.exists(os.path.join(records, tfrecords.MANIFEST)):
        manifest = tfrecords.load_manifest(records, "hwdb", data_dir)
        if manifest["image_shape"] != [image_size, image_size]:
            raise cli.UserError("the TFRecords in %s hold %dx%d images; pass --image_size %d, "
                                "or write them again: %s --image_size %d"
                                % (records, manifest["image_shape"][0],
                                   manifest["image_shape"][1], manifest["image_shape"][0],
                                   manifest["fix"], image_size))
        files = tfrecords.split_files(manifest, split)
        # the records' labels index all 3755 level-1 classes, so the first N are kept
        n = sum(manifest["splits"][split]["class_counts"][:len(chars)])

        def samples():
            for image, label, _ in tfrecords.read(files, (image_size, image_size)):
                if label < len(chars):
                    yield image, int(label)

        source = "TFRecords in %s" % records
    else:
        files = hwdb.gnt_files(os.path.join(data_dir, split))
        if not files:
            raise cli.UserError("no .gnt files in %s; run %s"
                                % (os.path.join(data_dir, split), fix))
        n = sum(hwdb.class_counts(files, index))

        def samples():
            return hwdb.samples(files, index, image_size)

        source = ".gnt files in %s" % os.path.join(data_dir, split)
    if not n:
        raise cli.UserError("the %s of %s hold none of the %d classes" % (source, split,
                                                                          len(chars)))
    return Stream(samples, n, image_size, source)
