"""The train loop shared by the image-classification train scripts: plumbing, not the model.

``mnist_cnn/lenet5.py``, ``alexnet/train.py``, ``vggnet/train.py``,
``googlenet/train.py`` and ``resnet/train.py`` each write out their network
(``inference(images, num_classes, is_training, width)`` with slim and
``arg_scope``), its loss, learning-rate schedule and optimizer, and build the
graph in their ``main`` as in the book.  What is the same in all of them
lives here, once:

* the flags (:func:`add_flags`, :func:`parse_args`): ``--dataset``
  mnist|mnist5k|fashion_mnist|cifar10|flowers17 through
  :mod:`tfcourse.image_data`, ``--steps``/``--epochs``, ``--width``,
  ``--checkpoint_dir``/``--restore``, ``--json``/``--plot``, ``--weights`` ...;
* the TensorBoard summaries (:func:`add_summaries`): scalars for loss,
  accuracy and learning rate, a histogram of every weight, a few input images;
  the graph goes in with the ``FileWriter``;
* :func:`fit`: restore or initialise, train with progress lines (a NaN/inf loss
  stops with exit 2 and is not checkpointed), checkpoints, evaluation on the test
  set, the weights export (.npz and a text summary of the shapes, like the
  course's ``weights.txt``), the JSON record and the accuracy/loss curves.

The ``net`` dictionary :func:`fit` takes holds the graph's tensors: ``images``,
``labels``, ``is_training`` (placeholders), ``loss`` (the cross-entropy),
``accuracy``, ``learning_rate``, ``global_step``, ``train_op`` and ``summary``.
"""
import argparse
import json
import math
import os
import sys

import numpy as np

from tfcourse import checkpoints, cli, default_data_dir, image_data, precision
from tfcourse.compat import tf, gpu_names, session_config

__all__ = ["add_flags", "parse_args", "lr_drops", "lr_drop_steps", "step_schedule", "set_steps",
           "scaled", "build_parser", "add_summaries",
           "fit", "evaluate", "export_weights", "plot_curves"]


def add_flags(parser, name, dataset="mnist", steps=2000, batch_size=64, learning_rate=0.01,
              weight_decay=5e-4, width=1.0, image_size=64):
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
    parser.add_argument("--augment", choices=["auto", "on", "flip", "off"], default="auto",
                        help="on: random crop and flip; flip: flips only; auto: on for "
                             "cifar10 and flowers17, off for the rest")
    parser.add_argument("--image_size", type=int, default=image_size,
                        help="flowers17 only: side of the square the jpgs are resized to "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    precision.add_dtype_flag(parser)
    parser.add_argument("--log_every", type=int, default=100,
                        help="print a line and write summaries every N steps")
    parser.add_argument("--eval_every", type=int, default=0,
                        help="evaluate on the test set every N steps (default: 10 times a run)")
    parser.add_argument("--save_every", type=int, default=1000, help="checkpoint every N steps")
    cli.add_checkpoint_flags(parser, name)
    checkpoints.add_restore_from_flag(parser)
    cli.add_output_flags(parser, name)
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


def step_schedule(global_step, learning_rate, steps, fractions=None):
    """The learning rate as a tensor: ``learning_rate``, falling tenfold at each of
    ``lr_drop_steps(steps, fractions)``.  The steps are compared as float32, so the
    schedule has GPU kernels."""
    with tf.name_scope('learning_rate_schedule'):
        drops = tf.constant(lr_drop_steps(steps, fractions), tf.float32, name='drops')
        passed = tf.reduce_sum(tf.cast(tf.cast(global_step, tf.float32) >= drops, tf.float32))
        return tf.multiply(learning_rate, tf.pow(0.1, passed), name='value')


def parse_args(parser, argv, name):
    """Parse, check (one-line errors, exit 2) and fill in the defaults that depend on --dataset."""
    args = parser.parse_args(argv)
    for flag in ("batch_size", "learning_rate", "width", "log_every", "save_every",
                 "image_size"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if args.epochs is None:
        cli.check_positive("--steps", args.steps)
    else:
        cli.check_positive("--epochs", args.epochs)
    if args.weight_decay < 0 or args.eval_every < 0:
        raise cli.UserError("--weight_decay and --eval_every must not be negative")
    check_width(args.width, "the course's")
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


# ---------------------------------------------------------------- training
def _restore_or_initialize(sess, saver, args, history_path):
    """Global step and history to continue from: 0 and empty unless --restore (the
    checkpoint itself through tfcourse.checkpoints: corrupt files, --restore_from)."""
    latest = checkpoints.restore_or_init(
        saver, sess, args.checkpoint_dir, args.restore, getattr(args, "restore_from", ""),
        what="this model (use the same --width and --dataset)")
    if latest is None:
        return 0, {"train": [], "test": []}
    start = int(sess.run(tf.train.get_global_step()))
    history = {"train": [], "test": []}
    if os.path.exists(history_path):
        with open(history_path) as f:
            history = json.load(f)
    for key in history:  # drop what was logged after the checkpoint
        history[key] = [h for h in history[key] if h["step"] <= start]
    print("restored %s (step %d)" % (latest, start), flush=True)
    return start, history


def evaluate(sess, net, images, labels, batch_size=500):
    """(mean cross-entropy, accuracy) over a whole set, batch norm and dropout in test mode."""
    total_loss = correct = 0.0
    for start in range(0, len(images), batch_size):
        feed = {net["images"]: images[start:start + batch_size],
                net["labels"]: labels[start:start + batch_size], net["is_training"]: False}
        loss, acc = sess.run([net["loss"], net["accuracy"]], feed_dict=feed)
        n = len(feed[net["labels"]])
        total_loss += loss * n
        correct += acc * n
    return total_loss / len(images), correct / len(images)


def _add_scalars(writer, step, **values):
    writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag=k.replace("_", "/", 1),
                                                          simple_value=float(v))
                                         for k, v in values.items()]), step)


def fit(sess, net, data, args, name, target=None):
    """Train ``net`` on ``data`` for args.steps steps, evaluate, export; returns the record."""
    saver = tf.train.Saver(max_to_keep=3)
    finite = checkpoints.weights_finite()
    fix = "lower --learning_rate (now %g) and train again" % args.learning_rate
    history_path = os.path.join(args.checkpoint_dir, "history.json")
    start, history = _restore_or_initialize(sess, saver, args, history_path)
    writer = tf.summary.FileWriter(args.checkpoint_dir, sess.graph)
    batches = image_data.Batches(data, args.batch_size, augment=args.augment,
                                 seed=args.seed + start, pad=args.crop_pad)
    eval_every = args.eval_every or max(1, args.steps // 10)
    progress = cli.Progress(total=args.steps, unit="steps", initial=start)
    fetches = [net["train_op"], net["loss"], net["accuracy"], net["learning_rate"]]

    def save(step):  # the history first: a kill between the two loses no logged step
        os.makedirs(args.checkpoint_dir, exist_ok=True)
        cli.write_json(history_path, history)
        checkpoints.save(saver, sess, args.checkpoint_dir, step, finite, fix)

    def test(step):
        test_loss, test_accuracy = evaluate(sess, net, data.test_images, data.test_labels)
        history["test"].append({"step": step, "loss": test_loss, "accuracy": test_accuracy})
        _add_scalars(writer, step, test_loss=test_loss, test_accuracy=test_accuracy)
        print("step %d: test accuracy %.4f, test loss %.4f" % (step, test_accuracy, test_loss),
              flush=True)

    for step in range(start + 1, args.steps + 1):
        batch_images, batch_labels = batches.next()
        feed = {net["images"]: batch_images, net["labels"]: batch_labels,
                net["is_training"]: True}
        logging = step % args.log_every == 0 or step == start + 1 or step == args.steps
        if logging:
            _, loss, acc, lr, summary = sess.run(fetches + [net["summary"]], feed_dict=feed)
        else:
            _, loss, acc, lr = sess.run(fetches, feed_dict=feed)
        if not np.isfinite(loss):
            writer.close()
            checkpoints.check_finite(loss, step, fix)
        if logging:
            writer.add_summary(summary, step)
            history["train"].append({"step": step, "loss": float(loss), "accuracy": float(acc),
                                     "learning_rate": float(lr)})
            progress.update(step, loss=float(loss), accuracy=float(acc), lr=float(lr))
        if step % eval_every == 0 and step != args.steps:
            test(step)
        if step % args.save_every == 0 and step != args.steps:
            save(step)
    train_seconds = progress.elapsed()
    steps_done = max(0, args.steps - start)
    if not history["test"] or history["test"][-1]["step"] != max(start, args.steps):
        test(max(start, args.steps))
    if steps_done:
        save(args.steps)
    writer.close()
    if args.weights:
        cli.wrote(export_weights(sess, args.weights))
    final = history["test"][-1]
    record = {
        "model": name, "dataset": data.name, "data_dir": data.data_dir,
        "image_shape": list(data.image_shape), "train_examples": len(data.train_images),
        "test_examples": len(data.test_images), "width": args.width,
        "steps": max(start, args.steps), "steps_this_run": steps_done,
        "epochs": round(max(start, args.steps) * args.batch_size / len(data.train_images), 2),
        "batch_size": args.batch_size, "learning_rate": args.learning_rate,
        "lr_drop_steps": lr_drop_steps(args.steps, args.lr_drops),
        "weight_decay": args.weight_decay, "augment": args.augment,
        "crop_pad": batches.pad if args.augment else 0, "seed": args.seed,
        "parameters": int(sum(np.prod(v.get_shape().as_list()) for v in tf.trainable_variables())),
        "test_accuracy": final["accuracy"], "test_loss": final["loss"],
        "target_test_accuracy": target,
        "train_seconds_this_run": round(train_seconds, 1),
        "steps_per_second": round(steps_done / train_seconds, 2) if steps_done else None,
        "device": (gpu_names() or ["CPU"])[0], "tf_version": tf.__version__,
        "dtype": args.dtype,
        "float32_ops": precision.slow_backward_ops(args.dtype, bool(gpu_names())),
        "loss_scale": args.loss_scale if args.dtype == "float16" else None,
        "command": " ".join(["python"] + sys.argv),
        "checkpoint_dir": cli.kept_folder(args.checkpoint_dir),
        "history": history,
    }
    if args.json:
        cli.wrote(cli.write_json(args.json, record))
    if args.plot:
        cli.wrote(plot_curves(record, args.plot))
    return record


# ---------------------------------------------------------------- outputs
def export_weights(sess, path):
    """The model's weights (trainable, and the batch-norm moving averages) as .npz at ``path``,
    and their names and shapes in the .txt beside it (like the course's weights.txt)."""
    variables = [v for v in tf.global_variables()
                 if v in tf.trainable_variables() or "moving_" in v.op.name]
    values = sess.run(variables)
    with cli.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{v.op.name: value for v, value in zip(variables, values)})
    lines = ["%-60s %-20s %10d" % (v.op.name, "x".join(map(str, value.shape)) or "scalar",
                                   value.size) for v, value in zip(variables, values)]
    trainable = sum(value.size for v, value in zip(variables, values)
                    if v in tf.trainable_variables())
    lines.append("%d arrays, %d trainable parameters" % (len(values), trainable))
    cli.write_text(os.path.splitext(path)[0] + ".txt", "\n".join(lines) + "\n")
    return path


def plot_curves(record, path):
    """Accuracy and loss against the step: training batches and the test set."""
    plt = cli.pyplot()
    train, test = record["history"]["train"], record["history"]["test"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot([h["step"] for h in train], [h["accuracy"] for h in train], lw=0.8,
             label="training batch")
    ax1.plot([h["step"] for h in test], [h["accuracy"] for h in test], "o-", color="C3",
             label="test set (%.2f%% at the end)" % (100 * record["test_accuracy"]))
    if record.get("target_test_accuracy"):
        ax1.axhline(record["target_test_accuracy"], color="gray", ls="--", lw=0.8,
                    label="target %.1f%%" % (100 * record["target_test_accuracy"]))
    ax1.set_ylabel("accuracy")
    ax1.legend(loc="lower right")
    ax2.semilogy([h["step"] for h in train], [h["loss"] for h in train], lw=0.8,
                 label="training batch")
    ax2.semilogy([h["step"] for h in test], [h["loss"] for h in test], "o-", color="C3",
                 label="test set")
    ax2.set_ylabel("cross-entropy")
    ax2.legend(loc="upper right")
    for ax in (ax1, ax2):
        ax.set_xlabel("step")
    fig.suptitle("%s on %s (width %g, %d steps, %.1f epochs)" % (
        record["model"], record["dataset"], record["width"], record["steps"], record["epochs"]))
    fig.tight_layout()
    return cli.save_figure(fig, path)


def build_parser(doc):
    """An ArgumentParser whose description is the first paragraph of the script's docstring."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


# ---------------------------------------------------------------- the model and main
def build_model(network, image_shape, args):
    """Placeholders, ``network(x, is_training)`` -> logits on images scaled to [0, 1], the
    loss, accuracy, learning-rate schedule and Adam step of every model-folder train script."""
    images = tf.placeholder(tf.uint8, [None] + list(image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    dtype = precision.DTYPES[args.dtype]
    x = tf.cast(tf.cast(images, tf.float32) / 255.0, dtype)
    # --dtype float16/bfloat16: float32 master weights, read through a cast (tfcourse/precision)
    with tf.variable_scope(tf.get_variable_scope(),
                           custom_getter=precision.compute_dtype_getter(dtype)), \
            precision.train_backward(args.dtype):  # Conv2D's gradient in float32 where it must
        logits = tf.cast(network(x, is_training), tf.float32)

    with tf.name_scope('loss'):
        cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
        loss = cross_entropy + tf.cast(tf.losses.get_regularization_loss(), tf.float32)
    with tf.name_scope('accuracy'):
        correct_prediction = tf.equal(tf.argmax(logits, 1), labels)
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    global_step = tf.train.get_or_create_global_step()
    # the learning rate falls tenfold at each of --lr_drops (default: after a third and
    # after two thirds of the steps)
    learning_rate = step_schedule(global_step, args.learning_rate, args.steps, args.lr_drops)
    optimizer = precision.loss_scaled(tf.train.AdamOptimizer(learning_rate), args)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):  # batch norm
        train_op = optimizer.minimize(loss, global_step=global_step)
    summary = add_summaries(images, cross_entropy, accuracy, learning_rate)
    return dict(images=images, labels=labels, is_training=is_training, logits=logits,
                loss=cross_entropy, accuracy=accuracy, learning_rate=learning_rate,
                global_step=global_step, train_op=train_op, summary=summary)


def main(name, parse_args, build_model, targets, argv=None):
    """A train script's main(): load the data, build its model, fit() it, report."""
    args = parse_args(argv)
    data = image_data.load(args.dataset, args.data_dir, image_size=args.image_size)
    set_steps(args, data)
    print('data: %d train, %d test images %s from %s; %d steps of %d (%.1f epochs)'
          % (len(data.train_images), len(data.test_images), data.image_shape, data.data_dir,
             args.steps, args.batch_size, args.steps * args.batch_size / len(data.train_images)))

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    net = build_model(data.image_shape, data.num_classes, args)
    with tf.Session(config=session_config()) as sess:
        result = fit(sess, net, data, args, name, target=targets.get(args.dataset))
    print('test accuracy %.4f' % result['test_accuracy'])
    return 0
