"""TFRecord files of ``tf.train.Example``s: written by ``setup/make_tfrecords.py``, read by
the ``--input queue|dataset`` pipelines (:mod:`tfcourse.pipeline`) and the HWDB stream.

Blog part 10 lists ``tf.Example`` records first among the ways TensorFlow reads data
("从快到慢": tf.Example, then the CSV/JSON ops, then feeding from Python).  A data set's
records live in one folder, by default ``DATA_DIR/<dataset>/tfrecords/``::

    train-00000-of-00003.tfrecord ...  one tf.train.Example per image, in the source order:
        image  bytes  the uint8 pixels, row-major (H x W, or H x W x C)
        label  int64  the class index (the captcha: its ten 0/1 labels)
        index  int64  the image's position in its split of the source files
    test-00000-of-00001.tfrecord
    manifest.json      what was written: image and label shapes, the classes, and per split
                       the files with their bytes and record counts; the source files' sizes
                       and times (a changed source makes the records stale)

:func:`write` writes every split into a staging folder beside the target, reads each file
back to verify its record count, and only then moves the folder into place, so a reader
never sees half a set.  :func:`load_manifest` checks that every file is there with the
size it was written with, and names the command that writes the records again.
"""
import datetime
import json
import math
import os

import numpy as np

from tfcourse import cli
from tfcourse.compat import tf

#: the data sets setup/make_tfrecords.py writes, by their names (and folders' names)
DATASETS = ("mnist", "mnist5k", "fashion_mnist", "cifar10", "flowers17", "captcha",
            "chinese_characters", "hwdb")
MANIFEST = "manifest.json"
FOLDER = "tfrecords"
#: images a shard holds by default: about this many bytes of pixels
SHARD_BYTES = 16 << 20
FORMAT = ("tf.train.Example: image (uint8 bytes, row-major), label (int64), "
          "index (int64, the position in the split)")


def folder(data_dir):
    """The TFRecord folder of a data set's folder ``data_dir``."""
    return os.path.join(data_dir, FOLDER)


def make_command(name, data_dir):
    """The command that writes the TFRecords of data set ``name`` whose folder is
    ``data_dir`` (``make_tfrecords.py NAME --data_dir ROOT`` reads and fills ROOT/NAME)."""
    from tfcourse import default_data_dir

    data_dir = os.path.abspath(os.path.normpath(data_dir))
    if data_dir == os.path.abspath(default_data_dir(name)):
        return "python setup/make_tfrecords.py %s" % name
    if os.path.basename(data_dir) == name:
        return "python setup/make_tfrecords.py %s --data_dir %s" % (name,
                                                                   os.path.dirname(data_dir))
    return ("python setup/make_tfrecords.py %s --source_dir %s" % (name, data_dir))


# ---------------------------------------------------------------- one record
def encode(image, label, index):
    """One tf.train.Example (serialized) of a uint8 image, its int label(s) and its index."""
    label = np.asarray(label, np.int64).reshape(-1)
    feature = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(
            value=[np.ascontiguousarray(image, np.uint8).tobytes()])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=label.tolist())),
        "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(index)])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def decode(record, image_shape, label_shape=()):
    """``(image uint8, label int64, index)`` of one serialized record, in Python."""
    feature = tf.train.Example.FromString(record).features.feature
    image = np.frombuffer(feature["image"].bytes_list.value[0], np.uint8).reshape(image_shape)
    label = np.array(feature["label"].int64_list.value, np.int64).reshape(label_shape)
    return image, label, int(feature["index"].int64_list.value[0])


def parse(serialized, image_shape, label_shape=()):
    """``(image uint8 [image_shape], label int64 [label_shape], index int64)`` of one
    serialized record, in the graph (``tf.parse_single_example`` and ``tf.decode_raw``)."""
    features = tf.parse_single_example(serialized, {
        "image": tf.FixedLenFeature([], tf.string),
        "label": tf.FixedLenFeature(list(label_shape), tf.int64),
        "index": tf.FixedLenFeature([], tf.int64)})
    image = tf.reshape(tf.decode_raw(features["image"], tf.uint8), list(image_shape))
    return image, features["label"], features["index"]


# ---------------------------------------------------------------- writing
def shard_count(count, image_shape, shards=None):
    """How many files a split of ``count`` images gets: ``shards``, or one per SHARD_BYTES
    of pixels (at least one, at most one per image)."""
    if shards:
        return max(1, min(int(shards), count))
    pixels = count * int(np.prod(image_shape))
    return max(1, min(count, int(math.ceil(pixels / float(SHARD_BYTES)))))


def _write_split(staging, split, count, samples, image_shape, label_shape, shards, log):
    """Write ``count`` (image, label) pairs of ``samples`` into ``shards`` files in order;
    returns the split's manifest entry.  Each file is read back and its records counted."""
    per_file = int(math.ceil(count / float(shards)))
    files, written = [], 0
    samples = iter(samples)
    for shard in range(shards):
        name = "%s-%05d-of-%05d.tfrecord" % (split, shard, shards)
        path = os.path.join(staging, name)
        n = min(per_file, count - written)
        with tf.python_io.TFRecordWriter(path) as writer:
            for _ in range(n):
                try:
                    image, label = next(samples)
                except StopIteration:
                    raise cli.UserError("the %s split gave %d images, not the %d counted; the "
                                        "source changed while it was read: run again"
                                        % (split, written, count))
                image = np.asarray(image)
                if image.shape != tuple(image_shape) or np.shape(label) != tuple(label_shape):
                    raise cli.UserError("image %d of the %s split is %s with label shape %s, "
                                        "not %s and %s; the source files do not fit together"
                                        % (written, split, image.shape, np.shape(label),
                                           tuple(image_shape), tuple(label_shape)))
                writer.write(encode(image, label, written))
                written += 1
        found = count_records(path)
        if found != n:
            raise cli.UserError("%s holds %d records after writing %d; the disk may be full"
                                % (path, found, n))
        files.append({"name": name, "count": n, "bytes": os.path.getsize(path)})
        log("  %s: %d records, %.1f MB" % (name, n, files[-1]["bytes"] / 1e6))
    if next(samples, None) is not None:
        raise cli.UserError("the %s split holds more than the %d images counted; the source "
                            "changed while it was read: run again" % (split, count))
    return {"count": count, "files": files}


def count_records(path):
    """The number of records in one TFRecord file (reading it through checks every CRC)."""
    try:
        return sum(1 for _ in tf.python_io.tf_record_iterator(path))
    except tf.errors.DataLossError as exc:
        raise cli.UserError("%s is corrupt (%s)" % (path, cli.tf_error_line(exc)))


def source_stamps(paths):
    """{file name: [bytes, mtime in ns]} of the source files (to see that they changed)."""
    stamps = {}
    for path in paths:
        st = os.stat(path)
        stamps[os.path.basename(path)] = [st.st_size, st.st_mtime_ns]
    return stamps


def write(target, dataset, splits, image_shape, label_shape=(), classes=None, sources=(),
          meta=None, split_meta=None, shards=None, log=print):
    """Write the TFRecords of ``splits`` ({name: (count, iterable of (image, label))}) into
    the folder ``target``, atomically: a staging folder beside it, every file counted back,
    then the folder moved into place.  ``sources``: the files read (their stamps go into the
    manifest); ``meta``: more manifest entries, ``split_meta``: more entries of each split's
    ({split: {...}}).  Returns the manifest."""
    parent = os.path.dirname(os.path.abspath(target))
    manifest = {"dataset": dataset, "format": FORMAT, "image_shape": list(image_shape),
                "label_shape": list(label_shape), "classes": classes,
                "sources": source_stamps(sources), "splits": {},
                "written": datetime.datetime.now().isoformat(timespec="seconds")}
    manifest.update(meta or {})
    from tfcourse.datasets import _common

    with _common.staging_dir(target) as staging:
        out = os.path.join(staging, FOLDER)
        os.makedirs(out)
        for split, (count, samples) in splits.items():
            if not count:
                raise cli.UserError("the %s split of %s is empty; nothing to write"
                                    % (split, dataset))
            manifest["splits"][split] = _write_split(
                out, split, count, samples, image_shape, label_shape,
                shard_count(count, image_shape, shards), log)
            manifest["splits"][split].update((split_meta or {}).get(split, {}))
        cli.write_json(os.path.join(out, MANIFEST), manifest)
        old = os.path.join(staging, "old")
        if os.path.exists(target):
            os.replace(target, old)
        os.makedirs(parent, exist_ok=True)
        os.replace(out, target)
    return manifest


# ---------------------------------------------------------------- reading
def load_manifest(directory, name, data_dir=None):
    """The manifest of the TFRecord folder ``directory``, every file checked to be there
    with the size it was written with; a UserError naming the command that writes them
    (for data set ``name`` in ``data_dir``) otherwise."""
    fix = make_command(name, data_dir or os.path.dirname(os.path.abspath(directory)))
    path = os.path.join(directory, MANIFEST)
    if not os.path.exists(path):
        raise cli.UserError("no TFRecords in %s; write them with: %s" % (directory, fix))
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
        splits = manifest["splits"]
        for entry in splits.values():
            for item in entry["files"]:
                item["path"] = os.path.join(directory, item["name"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise cli.UserError("%s is unreadable (%s); write the TFRecords again: %s"
                            % (path, exc, fix))
    for entry in splits.values():
        for item in entry["files"]:
            size = os.path.getsize(item["path"]) if os.path.exists(item["path"]) else None
            if size != item["bytes"]:
                raise cli.UserError("%s is %s (the manifest says %d bytes); write the TFRecords "
                                    "again: %s" % (item["path"], "missing" if size is None else
                                                   "%d bytes" % size, item["bytes"], fix))
    manifest["fix"] = fix
    return manifest


def split_files(manifest, split):
    """The paths of a split's files, in order; a UserError when the split was not written."""
    if split not in manifest["splits"]:
        raise cli.UserError("the TFRecords of %s have no %s split (only %s); write them "
                            "again: %s" % (manifest["dataset"], split,
                                           ", ".join(manifest["splits"]), manifest["fix"]))
    return [item["path"] for item in manifest["splits"][split]["files"]]


def stale(directory, sources):
    """Why the TFRecords in ``directory`` do not stand for the files ``sources`` (missing,
    damaged, or written from other files), or None when they do."""
    try:
        manifest = load_manifest(directory, "?")
    except cli.UserError as exc:
        return str(exc).split(";")[0]
    if manifest.get("sources") != source_stamps(sources):
        return "the source files changed since %s" % manifest.get("written")
    return None


def read(paths, image_shape, label_shape=()):
    """Yield ``(image, label, index)`` of every record of ``paths`` in order, in Python."""
    for path in paths:
        try:
            for record in tf.python_io.tf_record_iterator(path):
                yield decode(record, image_shape, label_shape)
        except tf.errors.DataLossError as exc:
            raise cli.UserError("%s is corrupt (%s)" % (path, cli.tf_error_line(exc)))


__all__ = ["DATASETS", "MANIFEST", "FOLDER", "folder", "make_command", "encode", "decode", "parse",
           "shard_count", "count_records", "write", "load_manifest", "split_files", "stale",
           "read", "source_stamps"]
