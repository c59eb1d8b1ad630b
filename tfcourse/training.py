"""The plumbing of the training loops: functions the train scripts call, not their main.

``mnist_cnn/lenet5.py``, ``alexnet/train.py``, ``vggnet/train.py``,
``googlenet/train.py`` and ``resnet/train.py`` each write out, in their own
``main()``, what the book shows: the placeholders, ``inference()``, the loss,
the learning-rate schedule and the optimizer, ``tf.Session`` and the training
loop with its ``sess.run(train_op, feed_dict=...)``, the evaluation.  What is
not the book's and is the same in all five lives here, as functions they call:

* the flags (:func:`parser`, :func:`parse_args`): ``--dataset``
  mnist|mnist5k|fashion_mnist|cifar10|flowers17 through
  :mod:`tfcourse.image_data`, ``--steps``/``--epochs``, ``--width``,
  ``--input`` feed|queue|dataset|constant, ``--checkpoint_dir``/``--restore``,
  ``--json``/``--plot``, ``--weights`` ...; :func:`load_data` loads the set and turns
  ``--epochs`` into steps;
* :func:`input_tensors`: with ``--input queue|dataset|constant``, the batch made in the
  graph (:mod:`tfcourse.pipeline`: queue runners or tf.data over the set's TFRecords, or
  one constant batch) in place of the placeholders the book feeds;
* the graph's helpers: :func:`to_unit` (uint8 images to [0, 1]),
  :func:`compute_dtype` (``--dtype`` float16/bfloat16 with float32 master weights),
  :func:`step_schedule` (tenfold learning-rate drops), :func:`optimizer` (float16 loss
  scaling), :func:`add_summaries` (TensorBoard scalars, weight histograms, input images),
  :func:`evaluate` (a whole set in batches);
* :class:`Loop`, the bookkeeping of every training loop here, and :class:`Run`, the train
  scripts' on top of it: restore or initialise (checkpoint and curves, through
  :func:`tfcourse.checkpoints.restore_with_history`), the batches (or, with --input queue,
  the queue runners, started and stopped), when to log, test and
  save, progress lines, TensorBoard events, the NaN stop, and at the end the last
  checkpoint, the weights export (.npz and a text summary, like the course's
  ``weights.txt`` of the PKU lecture), the JSON record and the accuracy/loss curves;
* :func:`fit`: the apps' loop (apps/captcha, apps/chinese_characters), which is not the
  book's, on the same :class:`Loop`.
"""
import argparse
import contextlib
import math
import os
import sys

import numpy as np

from tfcourse import (checkpoints, cli, default_data_dir, image_data, pipeline, precision,
                      serving)
from tfcourse.compat import tf, gpu_names

__all__ = ["parser", "add_flags", "parse_args", "lr_drops", "lr_drop_steps", "step_schedule",
           "set_steps", "scaled", "add_summaries", "load_data", "as_input_data",
           "input_tensors", "to_unit",
           "compute_dtype", "optimizer", "evaluate", "Loop", "Run", "fit", "shuffled_batches",
           "export_weights", "plot_curves"]


def parser(doc, name, fixed=(), **defaults):
    """An ArgumentParser with every train script's flags (:func:`add_flags`; ``defaults`` are
    the script's), described by the first paragraph of the script's docstring ``doc``.

    ``fixed``: the flags (dest names, e.g. ``"width"``, ``"dtype"``) a script's recipe has
    no use for, such as a document's network written with its own ``tf.Variable`` weights:
    they are left out of ``--help``, and :func:`parse_args` stops (one line, exit 2) when one
    is given another value than its default."""
    result = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_flags(result, name, **defaults)
    for action in result._actions:
        if action.dest in fixed:
            action.help = argparse.SUPPRESS
    result.fixed = {dest: result.get_default(dest) for dest in fixed}
    return result


def add_flags(parser, name, dataset="mnist", steps=3000, batch_size=64, learning_rate=1e-3,
              weight_decay=1e-4, width=1.0, image_size=64, augment="auto"):
    """The flags of every train script; ``name`` is the run folder under runs/.

    The keyword arguments are the script's defaults.
    """
    parser.add_argument("--dataset", choices=image_data.DATASETS, default=dataset,
                        help="data set (python setup/get_data.py NAME) (default: %(default)s)")
    parser.add_argument("--data_dir", default=None,
                        help="folder of the data set (default: the data folder's <dataset>/)")
    parser.add_argument("--steps", type=int, default=steps,
                        help="total training steps (default: %(default)s)")
    parser.add_argument("--epochs", type=cli.finite_float, default=None,
                        help="train this many passes over the training set instead of --steps")
    parser.add_argument("--batch_size", type=int, default=batch_size,
                        help="(default: %(default)s)")
    parser.add_argument("--learning_rate", type=cli.finite_float, default=learning_rate,
                        help="initial learning rate (default: %(default)s)")
    parser.add_argument("--lr_drops", type=lr_drops, default=None, metavar="F1,F2",
                        help="fractions of the steps after which the learning rate falls "
                             "tenfold, e.g. 0.5,0.75 (default: after a third and two thirds)")
    parser.add_argument("--weight_decay", type=cli.finite_float, default=weight_decay,
                        help="L2 weight decay (default: %(default)s)")
    parser.add_argument("--width", type=cli.finite_float, default=width,
                        help="multiply every layer's channels by this (0.5: a quarter of the "
                             "compute, for CPU runs) (default: %(default)s)")
    parser.add_argument("--augment", choices=["auto", "on", "flip", "off"], default=augment,
                        help="on: random crop and flip; flip: flips only; auto: on for "
                             "cifar10 and flowers17, off for the rest")
    parser.add_argument("--image_size", type=int, default=image_size,
                        help="flowers17 only: side of the square the jpgs are resized to "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    precision.add_dtype_flag(parser)
    pipeline.add_input_flag(parser)
    parser.add_argument("--log_every", type=int, default=100,
                        help="print a line and write summaries every N steps")
    parser.add_argument("--eval_every", type=int, default=0,
                        help="evaluate on the test set every N steps (default: 10 times a run; "
                             "the documents' recipes that test after every epoch do only that)")
    parser.add_argument("--save_every", type=int, default=1000, help="checkpoint every N steps")
    cli.add_checkpoint_flags(parser, name)
    checkpoints.add_restore_from_flag(parser)
    cli.add_output_flags(parser, name)
    serving.add_export_flag(parser)
    parser.add_argument("--weights", default=None, metavar="PATH",
                        help="export the weights as .npz (and a .txt summary of their shapes) "
                             "('' to skip) (default: CHECKPOINT_DIR/weights.npz)")
    # defaults that depend on --dataset: runs/<name>/<dataset>/...
    parser.set_defaults(checkpoint_dir=None, json=None, plot=None)


def lr_drops(text):
    """``--lr_drops``: increasing fractions in (0, 1), comma-separated."""
    try:
        fractions = [float(f) for f in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a comma-separated list of numbers" % text)
    if not all(0.0 < f < 1.0 for f in fractions) or fractions != sorted(set(fractions)):
        raise argparse.ArgumentTypeError("%r: give increasing fractions between 0 and 1, "
                                         "e.g. 0.5,0.75" % text)
    return fractions


def lr_drop_steps(steps, fractions=None):
    """The steps at which the learning rate falls tenfold: after a third and two thirds of
    ``steps`` (a third rounded up, so that it falls twice, not three times), or after the
    given ``fractions`` of them."""
    if fractions is None:
        third = (steps + 2) // 3
        return [third, 2 * third]
    return [max(1, int(round(f * steps))) for f in fractions]


def step_schedule(global_step, learning_rate, steps, fractions=None, drop_steps=None):
    """The learning rate as a tensor: ``learning_rate``, falling tenfold at each of
    ``lr_drop_steps(steps, fractions)``, or at each of ``drop_steps`` where they are given.
    The steps are compared as float32, so the schedule has GPU kernels."""
    if drop_steps is None:
        drop_steps = lr_drop_steps(steps, fractions)
    with tf.name_scope('learning_rate_schedule'):
        drops = tf.constant(drop_steps, tf.float32, shape=[len(drop_steps)], name='drops')
        passed = tf.reduce_sum(tf.cast(tf.cast(global_step, tf.float32) >= drops, tf.float32))
        return tf.multiply(learning_rate, tf.pow(0.1, passed), name='value')


def parse_args(parser, argv, name):
    """Parse, check (one-line errors, exit 2) and fill in the defaults that depend on --dataset.

    ``name`` (the run folder under runs/ and the JSON's name) may be a function of the parsed
    flags, e.g. ``lambda args: 'vgg%d' % args.depth``."""
    args = parser.parse_args(argv)
    if callable(name):
        name = name(args)
    for dest, default in getattr(parser, "fixed", {}).items():
        if getattr(args, dest) != default:
            raise cli.UserError("--%s is not a setting of this script (its network and recipe "
                                "are the document's); leave it out" % dest)
    for flag in ("batch_size", "learning_rate", "width", "log_every", "save_every",
                 "image_size"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if args.epochs is None:
        cli.check_positive("--steps", args.steps)
    else:
        cli.check_positive("--epochs", args.epochs)
    if args.weight_decay < 0 or args.eval_every < 0:
        raise cli.UserError("--weight_decay and --eval_every must not be negative")
    check_width(args.width, "the PKU lecture's")
    args.data_dir = args.data_dir or default_data_dir(args.dataset)
    out_dir = args.checkpoint_dir or cli.run_dir(name, args.dataset)  # '' keeps no checkpoints
    if args.checkpoint_dir is None:
        args.checkpoint_dir = out_dir
    if args.json is None:
        args.json = os.path.join(out_dir, name + ".json")
    if args.plot is None:
        args.plot = os.path.join(out_dir, name + ".png")
    if args.weights is None:
        args.weights = os.path.join(out_dir, "weights.npz")
    if args.augment == "flip" and not image_data.FLIP[args.dataset]:
        raise cli.UserError("--augment flip: a mirrored %s image changes its label; use "
                            "--augment on (crops only) or off" % args.dataset)
    args.crop_pad = 0 if args.augment == "flip" else None  # None: Batches' default
    args.augment = (image_data.AUGMENT[args.dataset] if args.augment == "auto"
                    else args.augment in ("on", "flip"))
    cli.check_outputs(args, "--json", "--plot", "--weights", folders=("--checkpoint_dir",))
    serving.check_export_dir(args)
    return args


def set_steps(args, data):
    """Total training steps: --steps, or --epochs passes over the training images."""
    if args.epochs is not None:
        args.steps = max(1, int(math.ceil(args.epochs * len(data.train_images) / args.batch_size)))
    return args.steps


def check_width(width, whose):
    """--width at most 4 (one line, exit 2); ``whose``: whose width 1 is."""
    if width > 4:
        raise cli.UserError("--width %g is too wide; use at most 4 (1 is %s width)"
                            % (width, whose))


def scaled(channels, width):
    """``channels`` times ``--width``, at least 1."""
    return max(1, int(round(channels * width)))


def add_summaries(images, loss, accuracy, learning_rate, max_images=3):
    """TensorBoard summaries: loss, accuracy, learning rate, weight histograms, input images."""
    with tf.name_scope("summaries"):
        tf.summary.scalar("loss", loss)
        tf.summary.scalar("accuracy", accuracy)
        tf.summary.scalar("learning_rate", learning_rate)
        for var in tf.trainable_variables():
            tf.summary.histogram(var.op.name, var)
        tf.summary.image("input", images, max_outputs=max_images)
    return tf.summary.merge_all()


# ---------------------------------------------------------------- the graph's plumbing
def load_data(args, validation_size=0):
    """The --dataset (``tfcourse.image_data``), with --epochs turned into --steps; prints what
    it loaded.  ``validation_size``: images held out of the training set as
    ``input_data.read_data_sets`` holds them out (5000: MNIST's 55000 training digits)."""
    data = image_data.load(args.dataset, args.data_dir, image_size=args.image_size,
                           validation_size=validation_size)
    set_steps(args, data)
    print('data: %d train, %d test images %s from %s; %d steps of %d (%.1f epochs)'
          % (len(data.train_images), len(data.test_images), data.image_shape, data.data_dir,
             args.steps, args.batch_size, args.steps * args.batch_size / len(data.train_images)))
    return data


def as_input_data(images, labels, n_input, n_classes):
    """uint8 images and int labels as ``input_data.read_data_sets(one_hot=True)`` gives them,
    for the documents' ``[None, n_input]`` and ``[None, n_classes]`` float placeholders:
    float32 rows of ``n_input`` values in [0, 1] and one-hot rows.  A set of another image
    size is one line (exit 2)."""
    if int(np.prod(images.shape[1:])) != n_input:
        raise cli.UserError("this network takes images of %d values (28x28 digits); %s images "
                            "hold %d: use --dataset mnist, mnist5k or fashion_mnist"
                            % (n_input, "x".join(map(str, images.shape[1:])),
                               int(np.prod(images.shape[1:]))))
    x = images.reshape(len(images), n_input).astype(np.float32) / 255.0
    y = np.zeros((len(labels), n_classes), np.float32)
    y[np.arange(len(labels)), labels] = 1.0
    return x, y


def input_tensors(args, data):
    """``(images, labels)`` of ``--input`` queue, dataset or constant: a training batch made
    in the graph, on the CPU (:mod:`tfcourse.pipeline`), in placeholders with defaults, so
    that the evaluation still feeds them the test set.  queue and dataset read the TFRecords
    of the training images (DATA_DIR/tfrecords: python setup/make_tfrecords.py DATASET),
    shuffled, augmented as --augment says, in the graph; constant is the first batch
    ``image_data.Batches`` gives, unaugmented, at every step."""
    if args.input == "constant":
        batch = image_data.Batches(data, args.batch_size, seed=args.seed).next()
        return pipeline.feedable(*pipeline.constant_tensors(*batch))
    manifest = pipeline.records(data.data_dir, data.name, data.image_shape,
                                len(data.train_images))
    augment = None
    if args.augment:
        pad = data.image_shape[0] // 8 if args.crop_pad is None else args.crop_pad
        augment = pipeline.augmentation(data.image_shape, pad, image_data.FLIP[data.name])
    return pipeline.feedable(*pipeline.batch_tensors(args.input, manifest, args.batch_size,
                                                     args.seed, augment))


def to_unit(images, dtype_name):
    """uint8 images scaled to [0, 1], in the compute dtype (--dtype)."""
    return tf.cast(tf.cast(images, tf.float32) / 255.0, precision.DTYPES[dtype_name])


@contextlib.contextmanager
def compute_dtype(dtype_name):
    """--dtype float16/bfloat16 for the layers built inside: float32 master weights read
    through a cast (``tfcourse/precision.py``), and Conv2D's gradient in float32 where a
    16-bit one would be slow.  float32: nothing changes."""
    with tf.variable_scope(tf.get_variable_scope(), custom_getter=precision.compute_dtype_getter(
            precision.DTYPES[dtype_name])), precision.train_backward(dtype_name):
        yield


def optimizer(opt, args):
    """``opt`` with float16 loss scaling (--dtype float16 --loss_scale), else ``opt`` itself."""
    return precision.loss_scaled(opt, args)


def evaluate(sess, fetches, feeds, batch_size=500):
    """The mean of each scalar in ``fetches`` over a whole set, fed in batches.

    ``feeds``: {placeholder: whole array, or a value fed with every batch, such as a
    ``keep_prob`` of 1.0}; the placeholders left out keep their defaults (``is_training`` is
    False: batch norm's moving averages, no dropout)."""
    total = next(len(v) for v in feeds.values() if np.ndim(v))
    sums = np.zeros(len(fetches))
    for start in range(0, total, batch_size):
        feed = {ph: values[start:start + batch_size] if np.ndim(values) else values
                for ph, values in feeds.items()}
        n = min(batch_size, total - start)
        sums += np.array(sess.run(fetches, feed_dict=feed), dtype=np.float64) * n
    return list(sums / total)


# ---------------------------------------------------------------- the run's plumbing
class Loop:
    """The bookkeeping of one training loop, the same in every loop that uses it: the train
    scripts' own loops (through :class:`Run`) and the apps' (:func:`fit`).

    Restores the checkpoint and the curves (``--restore``, ``--restore_from``, through
    :func:`tfcourse.checkpoints.restore_with_history`) or initialises the variables; opens the
    TensorBoard writer and the progress line; says when to log (every ``--log_every`` steps,
    the run's first and the last), test (every ``--eval_every``; default a tenth of the run)
    and save (every ``--save_every``); stops on a NaN/inf loss before anything is saved, and
    saves no weight or optimizer slot that is not finite.
    """

    def __init__(self, sess, args, history, counter=None, what="this model"):
        """``history``: the new run's empty history (a list or a dict of lists), replaced by
        the restored one; ``counter``: the global step (default
        ``tf.train.get_global_step()``); ``what``: the model a checkpoint must belong to, in
        the error when it does not.  Checkpoints keep the last 3 (a Saver of every variable)."""
        self.sess, self.args = sess, args
        self.saver = tf.train.Saver(max_to_keep=3)
        self.finite = checkpoints.weights_finite()
        self.fix = "lower --learning_rate (now %g) and train again" % args.learning_rate
        self.start, restored = checkpoints.restore_with_history(
            self.saver, sess, args.checkpoint_dir, args.restore,
            getattr(args, "restore_from", ""),
            counter=tf.train.get_global_step() if counter is None else counter, what=what)
        self.history = restored or history
        self.writer = tf.summary.FileWriter(args.checkpoint_dir, sess.graph)
        self.eval_every = args.eval_every or max(1, args.steps // 10)
        self.progress = cli.Progress(total=args.steps, unit="steps", initial=self.start)

    def steps(self):
        """The step numbers still to run, counted from 1."""
        return range(self.start + 1, self.args.steps + 1)

    def logging(self, step):
        """Whether to fetch the summaries and log this step (every --log_every, first, last)."""
        return (step % self.args.log_every == 0 or step == self.start + 1
                or step == self.args.steps)

    def check_finite(self, step, loss):
        """Stop (exit 2) on a NaN or infinite loss; nothing of it is saved."""
        if not np.isfinite(loss):
            self.writer.close()
            checkpoints.check_finite(loss, step, self.fix)

    def testing(self, step):
        """Whether to evaluate after this step (every --eval_every; not the last step, which
        the loop's end evaluates)."""
        return step % self.eval_every == 0 and step != self.args.steps

    def save(self, step, force=False):
        """A checkpoint (history.json first) every --save_every steps, or now (``force``)."""
        if force or (step % self.args.save_every == 0 and step != self.args.steps):
            checkpoints.save_with_history(self.saver, self.sess, self.args.checkpoint_dir,
                                          step, self.history, self.finite, self.fix)


class Run(Loop):
    """What a train script's loop needs besides ``sess.run(train_op)``: :class:`Loop`'s
    bookkeeping, the training batches, the test evaluations in the history, and
    :meth:`finish`: the last checkpoint, the weights export, the JSON record and the curves.
    """

    def __init__(self, sess, args, name, data, target=None, weights_values=False):
        """``target``: the test accuracy the curves mark; ``weights_values``: the weights
        export's .txt also holds every value, as the PKU lecture's weights.txt."""
        super().__init__(sess, args, {"train": [], "test": []},
                         what="this model (use the same --width and --dataset)")
        self.name, self.data, self.target = name, data, target
        self.weights_values = weights_values
        self.batches = image_data.Batches(data, args.batch_size, augment=args.augment,
                                          seed=args.seed + self.start, pad=args.crop_pad)

    def steps(self):
        """``(step, (images, labels))`` for every step still to run, counted from 1.  With
        --input queue, dataset or constant the graph makes the batch and (None, None) is
        yielded; the queue runners of --input queue run while the loop does, and stop when
        it ends, fails or is interrupted (``pipeline.running``)."""
        with pipeline.running(self.sess):
            for step in super().steps():
                yield step, (self.batches.next() if self.args.input == "feed"
                             else (None, None))

    def log(self, step, summary, **values):
        """Write the step's summaries, its values (loss, accuracy, learning rate) and the
        seconds since this run started to the history, and a progress line."""
        self.writer.add_summary(summary, step)
        values = {k: float(v) for k, v in values.items()}
        self.history["train"].append(dict(step=step, seconds=round(self.progress.elapsed(), 3),
                                          **values))
        self.progress.update(step, **{"lr" if k == "learning_rate" else k: v
                                      for k, v in values.items()})

    def test(self, step, loss, accuracy):
        """Record a test-set evaluation: history, TensorBoard (test/loss, test/accuracy)."""
        self.history["test"].append({"step": step, "loss": loss, "accuracy": accuracy})
        self.writer.add_summary(tf.Summary(value=[
            tf.Summary.Value(tag="test/loss", simple_value=float(loss)),
            tf.Summary.Value(tag="test/accuracy", simple_value=float(accuracy))]), step)
        print("step %d: test accuracy %.4f, test loss %.4f" % (step, accuracy, loss),
              flush=True)

    def finish(self, test, extra=None):
        """After the loop: the last test (``test()`` -> (loss, accuracy)) unless the last step
        was tested, the last checkpoint, the weights export, the JSON record (with ``extra``,
        a dict of the script's own figures) and the curves; returns the record."""
        args = self.args
        train_seconds = self.progress.elapsed()
        last = max(self.start, args.steps)
        steps_done = max(0, args.steps - self.start)
        if not self.history["test"] or self.history["test"][-1]["step"] != last:
            self.test(last, *test())
        if steps_done:
            self.save(args.steps, force=True)
        self.writer.close()
        if args.weights:
            cli.wrote(export_weights(self.sess, args.weights, self.weights_values))
        record = dict(self.record(last, steps_done, train_seconds), **(extra or {}))
        if args.json:
            cli.wrote(cli.write_json(args.json, record))
        if args.plot:
            cli.wrote(plot_curves(record, args.plot))
        print("test accuracy %.4f" % record["test_accuracy"])
        return record

    def export(self, images, logits):
        """The trained model as a TF Serving SavedModel (tfcourse/serving.py): uint8
        ``images`` in; ``logits``, ``classes`` and ``probabilities`` out (batch norm and
        dropout in inference mode: ``is_training`` defaults to False); version = the step."""
        version = serving.export_saved_model(
            self.sess, serving.export_dir(self.args), inputs={"images": images},
            outputs={"logits": logits, "classes": tf.argmax(logits, 1),
                     "probabilities": tf.nn.softmax(logits)},
            version=self.sess.run(tf.train.get_global_step()))
        if version:
            cli.wrote(version)
        return version

    def record(self, last, steps_done, train_seconds):
        """The JSON record of the run."""
        args, data = self.args, self.data
        final = self.history["test"][-1]
        return {
            "model": self.name, "dataset": data.name, "data_dir": data.data_dir,
            "image_shape": list(data.image_shape), "train_examples": len(data.train_images),
            "test_examples": len(data.test_images), "width": args.width,
            "steps": last, "steps_this_run": steps_done,
            "epochs": round(last * args.batch_size / len(data.train_images), 2),
            "batch_size": args.batch_size, "learning_rate": args.learning_rate,
            "lr_drop_steps": lr_drop_steps(args.steps, args.lr_drops),
            "weight_decay": args.weight_decay, "augment": args.augment,
            "crop_pad": self.batches.pad if args.augment else 0, "seed": args.seed,
            "parameters": int(sum(np.prod(v.get_shape().as_list())
                                  for v in tf.trainable_variables())),
            "test_accuracy": final["accuracy"], "test_loss": final["loss"],
            "target_test_accuracy": self.target,
            "train_seconds_this_run": round(train_seconds, 1),
            "steps_per_second": round(steps_done / train_seconds, 2) if steps_done else None,
            "device": (gpu_names() or ["CPU"])[0], "tf_version": tf.__version__,
            "dtype": args.dtype, "input": args.input,
            "float32_ops": precision.slow_backward_ops(args.dtype, bool(gpu_names())),
            "loss_scale": args.loss_scale if args.dtype == "float16" else None,
            "command": " ".join(["python"] + sys.argv),
            "checkpoint_dir": cli.kept_folder(args.checkpoint_dir),
            "history": self.history,
        }


def fit(sess, model, x_train, y_train, args, validate, augment=None):
    """The apps' feed-dict loop (the captcha, the Chinese characters), on :class:`Loop`.

    Shuffled batches (reshuffled each epoch, seeded by ``--seed``) of the arrays
    ``x_train``, ``y_train``, or, with ``y_train`` None, of the stream ``x_train`` (an
    object with ``len()`` and ``batches(batch_size, rng)``, such as the HWDB reader of
    apps/chinese_characters, which never holds the whole set); ``model`` has images,
    labels, keep_prob, is_training, train_op, loss, summary and global_step.  When
    :class:`Loop` logs, the mean loss since the last entry and, when it tests and at the
    last step, ``validate(sess)`` -> [(history key, summary tag, value), ...] go into the
    history (a list of entries), TensorBoard and the progress line.  ``augment(images,
    labels, rng)``, when given, returns each batch changed (on its own random stream, so
    the batches drawn are those of a run without it).  Returns ``(history, steps done,
    training seconds)``; the last step is checkpointed.
    """
    loop = Loop(sess, args, [], counter=model["global_step"])
    rng = np.random.RandomState(args.seed)
    augment_rng = np.random.RandomState([args.seed, 1])
    batches = (x_train.batches(args.batch_size, rng) if y_train is None
               else shuffled_batches(x_train, y_train, args.batch_size, rng))
    window = []
    for step in loop.steps():
        images, labels = next(batches)
        if augment is not None:
            images, labels = augment(images, labels, augment_rng)
        feed = {model["images"]: images, model["labels"]: labels,
                model["keep_prob"]: args.keep_prob, model["is_training"]: True}
        logging = loop.logging(step)
        if logging:
            _, loss, summary = sess.run([model["train_op"], model["loss"], model["summary"]],
                                        feed)
            loop.writer.add_summary(summary, step)
        else:
            _, loss = sess.run([model["train_op"], model["loss"]], feed)
        loop.check_finite(step, loss)
        window.append(float(loss))
        if logging:
            entry = {"step": step, "loss": float(np.mean(window)),
                     "epoch": round(step * args.batch_size / len(x_train), 2)}
            window = []
            if loop.testing(step) or step == args.steps:
                metrics = validate(sess)
                entry.update((key, value) for key, _, value in metrics)
                loop.writer.add_summary(tf.Summary(value=[
                    tf.Summary.Value(tag=tag, simple_value=value)
                    for _, tag, value in metrics]), step)
            loop.history.append(entry)
            loop.progress.update(step, **{k: v for k, v in entry.items() if k != "step"})
        loop.save(step, force=step == args.steps)
    loop.writer.close()
    return loop.history, max(0, args.steps - loop.start), loop.progress.elapsed()


def shuffled_batches(x, y, batch_size, rng):
    """Batches of the arrays ``x``, ``y`` for ever, in an order ``rng`` draws anew at every
    epoch (the last batch of an epoch that would be short is left out)."""
    order, cursor = rng.permutation(len(x)), 0
    while True:
        if cursor + batch_size > len(order):
            order, cursor = rng.permutation(len(x)), 0
        idx = order[cursor:cursor + batch_size]
        cursor += batch_size
        yield x[idx], y[idx]


# ---------------------------------------------------------------- outputs
def export_weights(sess, path, with_values=False):
    """The model's weights (trainable, and the batch-norm moving averages) as .npz at ``path``,
    and their names and shapes in the .txt beside it (like the PKU lecture's weights.txt;
    ``with_values``: with every value too, as that file holds them)."""
    variables = [v for v in tf.global_variables()
                 if v in tf.trainable_variables() or "moving_" in v.op.name]
    values = sess.run(variables)
    with cli.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{v.op.name: value for v, value in zip(variables, values)})
    lines = []
    for v, value in zip(variables, values):
        lines.append("%-60s %-20s %10d" % (v.op.name, "x".join(map(str, value.shape))
                                           or "scalar", value.size))
        if with_values:
            lines.append(np.array2string(value, threshold=value.size + 1))
    trainable = sum(value.size for v, value in zip(variables, values)
                    if v in tf.trainable_variables())
    lines.append("%d arrays, %d trainable parameters" % (len(values), trainable))
    cli.write_text(os.path.splitext(path)[0] + ".txt", "\n".join(lines) + "\n")
    return path


def plot_curves(record, path):
    """Accuracy and loss against the step: training batches and the test set; the target and
    the document's figure (``record["document_figure"]``) where the record has them."""
    plt = cli.pyplot()
    train, test = record["history"]["train"], record["history"]["test"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    ax1.plot([h["step"] for h in train], [h["accuracy"] for h in train], lw=0.8,
             label="training batch")
    ax1.plot([h["step"] for h in test], [h["accuracy"] for h in test], "o-", color="C3",
             label="test set (%.2f%% at the end)" % (100 * record["test_accuracy"]))
    if record.get("target_test_accuracy"):
        ax1.axhline(record["target_test_accuracy"], color="gray", ls="--", lw=0.8,
                    label="target %.1f%%" % (100 * record["target_test_accuracy"]))
    document = record.get("document_figure")  # {"value", "source", "of"}: a document's figure
    if document:
        ax1.axhline(document["value"], color="C2", ls=":", lw=1.2,
                    label="%s: %.2f%% (%s)" % (document["source"], 100 * document["value"],
                                               document["of"]))
    ax1.set_ylabel("accuracy")
    # below the axes: a rising curve and a document's line leave no free corner inside
    ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="small")
    ax2.semilogy([h["step"] for h in train], [h["loss"] for h in train], lw=0.8,
                 label="training batch")
    ax2.semilogy([h["step"] for h in test], [h["loss"] for h in test], "o-", color="C3",
                 label="test set")
    ax2.set_ylabel("cross-entropy")
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize="small")
    for ax in (ax1, ax2):
        ax.set_xlabel("step")
    fig.suptitle("%s on %s (width %g, %d steps, %.1f epochs)" % (
        record["model"], record["dataset"], record["width"], record["steps"], record["epochs"]))
    fig.tight_layout()
    return cli.save_figure(fig, path)
