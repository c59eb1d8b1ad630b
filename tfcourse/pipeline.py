"""The TF1 ways of getting a train script's batches into its graph (``--input``): plumbing.

* ``feed`` (the default; the book's): placeholders, and every step's NumPy batch passed in
  ``sess.run(..., feed_dict=...)``;
* ``queue`` (blog part 8): the TFRecords (``python setup/make_tfrecords.py NAME``) read by
  queue runners: ``tf.train.string_input_producer`` over the files, a ``TFRecordReader``,
  ``tf.train.shuffle_batch`` and its threads, under a ``tf.train.Coordinator`` that
  :func:`running` starts with the loop and stops at its end, on an error and on Ctrl-C;
* ``dataset``: ``tf.data`` over the same files: ``TFRecordDataset``, shuffle, repeat,
  parsing in parallel (``map(num_parallel_calls=AUTOTUNE)``), batch, prefetch;
* ``constant``: one training batch held in the graph, the same at every step.  No input
  cost at all: the compute bound that ``setup/input_overhead.py`` times the other three
  against (it learns that one batch by heart; its accuracy means nothing).

The batch of ``queue``, ``dataset`` and ``constant`` is made on the CPU
(``tf.device('/cpu:0')``; the static GPU check accepts input ops there and only there) and
handed on through ``tf.placeholder_with_default``: the script's ``images`` and ``labels``
are still placeholders, so its evaluation feeds the test set as in ``feed`` mode, and its
training steps fetch without a ``feed_dict`` of images.
"""
import contextlib
import os

from tfcourse import cli, tfrecords
from tfcourse.compat import tf

MODES = ("feed", "queue", "dataset", "constant")
#: examples the shuffling holds at most: blog part 8's shuffle_batch(min_after_dequeue=10000)
SHUFFLE = 10000
#: threads of shuffle_batch (--input queue)
QUEUE_THREADS = 2


def add_input_flag(parser):
    """``--input feed|queue|dataset|constant``."""
    parser.add_argument("--input", choices=MODES, default="feed",
                        help="how batches reach the graph: feed (feed_dict, the book's), "
                             "queue (queue runners over the TFRecords, blog part 8), dataset "
                             "(tf.data over the TFRecords), constant (one batch in the graph: "
                             "the compute bound, for timing only); queue and dataset read "
                             "DATA_DIR/tfrecords (python setup/make_tfrecords.py DATASET) "
                             "(default: %(default)s)")


def records(data_dir, name, image_shape, count=None):
    """The manifest of the TFRecords in ``data_dir``/tfrecords, checked to hold ``image_shape``
    images of data set ``name`` (None: any) and ``count`` training images (None: any), as
    the data --input feed reads; a UserError naming the command that writes them otherwise."""
    name = name or os.path.basename(os.path.normpath(data_dir))
    manifest = tfrecords.load_manifest(tfrecords.folder(data_dir), name, data_dir)
    if tuple(manifest["image_shape"]) != tuple(image_shape) or (
            name in tfrecords.DATASETS and manifest.get("dataset") != name):
        raise cli.UserError("the TFRecords in %s hold %s images %s, not %s ones %s; write them "
                            "again: %s" % (tfrecords.folder(data_dir), manifest.get("dataset"),
                                           tuple(manifest["image_shape"]), name,
                                           tuple(image_shape), manifest["fix"]))
    found = manifest["splits"].get("train", {}).get("count")
    if count is not None and found != count:
        raise cli.UserError("the TFRecords in %s hold %s training images, the data %d; write "
                            "them again: %s" % (tfrecords.folder(data_dir), found, count,
                                                manifest["fix"]))
    cli.input_fix(manifest["fix"])
    return manifest


def augmentation(image_shape, pad, flip):
    """The per-image augmentation of ``tfcourse.image_data.augment`` in the graph: a random
    crop of the image padded with ``pad`` zero pixels, and a random left-right flip."""
    height, width, channels = image_shape

    def augment(image):
        if pad:
            image = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]])
            image = tf.random_crop(image, [height, width, channels])
        if flip:
            image = tf.image.random_flip_left_right(image)
        return image

    return augment


def _queue_batch(files, read, batch_size, shuffle, seed, keep):
    """Blog part 8's queues: file names -> reader -> one example -> shuffle_batch."""
    filenames = tf.train.string_input_producer(files, shuffle=True, seed=seed)
    _, serialized = tf.TFRecordReader().read(filenames)
    image, label, index = read(serialized)
    kwargs = dict(batch_size=batch_size, capacity=shuffle + 3 * batch_size,
                  min_after_dequeue=shuffle, num_threads=QUEUE_THREADS, seed=seed)
    if keep is None:
        return tf.train.shuffle_batch([image, label], **kwargs)
    return tf.train.maybe_shuffle_batch([image, label], keep_input=keep(index), **kwargs)


def _dataset_batch(files, read, batch_size, shuffle, seed, keep):
    """tf.data: records -> shuffle -> repeat -> parse in parallel -> batch -> prefetch."""
    autotune = tf.data.experimental.AUTOTUNE
    dataset = tf.data.TFRecordDataset(files, num_parallel_reads=min(len(files), 4))
    dataset = dataset.shuffle(shuffle, seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.map(read, num_parallel_calls=autotune)
    if keep is not None:
        dataset = dataset.filter(lambda image, label, index: keep(index))
    dataset = dataset.map(lambda image, label, index: (image, label))
    dataset = dataset.batch(batch_size, drop_remainder=True).prefetch(autotune)
    return tf.data.make_one_shot_iterator(dataset).get_next()


def batch_tensors(mode, manifest, batch_size, seed, augment=None, keep=None, kept=None):
    """``(images, labels)``: one training batch of the TFRecords' train split, made in the
    graph on the CPU by ``mode`` (queue or dataset).  ``manifest``: of the TFRecords
    (:func:`records`); ``augment(image)``: the per-image augmentation; ``keep(index)``: a
    bool tensor, False for the records to leave out (by their index in the split), and
    ``kept`` how many it keeps (the shuffling holds at most that many)."""
    image_shape, label_shape = tuple(manifest["image_shape"]), tuple(manifest["label_shape"])
    files = tfrecords.split_files(manifest, "train")
    shuffle = min(SHUFFLE, manifest["splits"]["train"]["count"] if kept is None else kept)

    def read(serialized):
        image, label, index = tfrecords.parse(serialized, image_shape, label_shape)
        return (augment(image) if augment else image), label, index

    make = {"queue": _queue_batch, "dataset": _dataset_batch}[mode]
    with tf.device("/cpu:0"), tf.name_scope("input_" + mode):
        return make(files, read, batch_size, shuffle, seed, keep)


def constant_tensors(images, labels):
    """``(images, labels)``: the arrays of one batch as constants of the graph, on the CPU
    (--input constant: the same batch at every step)."""
    with tf.device("/cpu:0"), tf.name_scope("input_constant"):
        return tf.constant(images), tf.constant(labels)


def feedable(images, labels):
    """``images`` and ``labels`` through ``tf.placeholder_with_default`` named like the feed
    mode's placeholders (on the CPU): a feed still replaces them (the evaluation)."""
    with tf.device("/cpu:0"):
        return (tf.placeholder_with_default(images, [None] + images.shape.as_list()[1:],
                                            name="images"),
                tf.placeholder_with_default(labels, [None] + labels.shape.as_list()[1:],
                                            name="labels"))


def _stop(coord, threads, quiet):
    """Ask the queue runners to stop and wait for them; the error that stopped one of them
    becomes a UserError (raised, or with ``quiet`` kept for ``cli.run`` to print)."""
    coord.request_stop()
    try:
        coord.join(threads, stop_grace_period_secs=10, ignore_live_threads=True)
    except Exception as exc:  # noqa: BLE001 -- whatever stopped a runner thread
        reason = cli.tf_error_line(exc) if isinstance(exc, tf.errors.OpError) else str(exc)
        failure = cli.input_failure("the input queue stopped: %s" % reason)
        if not quiet:
            raise failure


@contextlib.contextmanager
def running(sess):
    """The graph's queue runners (--input queue) running under a Coordinator while the
    block runs; stopped, and joined, when it ends: at the end of the loop, on an error, on
    Ctrl-C.  Nothing to do for the other modes (tf.data runs its own threads)."""
    if not tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS):
        yield None
        return
    coord = tf.train.Coordinator()
    threads = tf.train.start_queue_runners(sess=sess, coord=coord)
    try:
        yield coord
    except BaseException:
        _stop(coord, threads, quiet=True)
        raise
    _stop(coord, threads, quiet=False)


__all__ = ["MODES", "add_input_flag", "records", "augmentation", "batch_tensors",
           "constant_tensors", "feedable", "running"]
