"""TensorBoard step by step: the TensorFlow Dev Summit 2017 talk, on a small MNIST CNN.

The talk ("Hands-on TensorBoard", summed up in blog part 10 as "Hands On
TensorBoard") builds one small convolutional network and
shows, one step at a time, what TensorBoard makes visible.  --stage N runs
step N into its own folder under --checkpoint_dir; --stage all runs them all:

  1  the graph, built flat: every op at the top level (1_graph/)
  2  the same graph with tf.name_scope per layer: conv1, conv2, fc1, fc2,
     xent, train, accuracy fold into boxes (2_name_scopes/)
  3  scalars (cross entropy, accuracy) and three input images, written
     through tf.summary.merge_all() every --summary_every steps (3_scalars_images/)
  4  histograms of the weights, biases and activations of every layer (4_histograms/)
  5  a hyperparameter search: learning rate 1e-3 / 1e-4 / 1e-5 x one or two
     conv layers x one or two fc layers, 12 runs, each in a folder named
     after its settings (5_hparam/lr_1E-04,conv=2,fc=2/ ...) so that
     TensorBoard overlays them; --plot draws their accuracy curves from the
     event files
  6  the embedding projector: the last hidden layer for 1024 test digits
     (all of them when there are fewer) in a checkpointed variable, with a
     sprite image and a labels file (6_projector/)

    python setup/get_data.py mnist5k                 # 5000 real digits (or: mnist)
    python mnist_cnn/tensorboard_demo.py --stage all --data_dir data/mnist5k --steps 200
    tensorboard --logdir runs/tensorboard_demo

Model (as in the talk): 5x5 convolutions with 32 and 64 maps (one conv layer:
64 maps, pooled twice), 2x2 max pooling, a 1024-unit ReLU layer, softmax;
Adam, batches of 100.
"""
import argparse
import contextlib
import glob
import math
import os
import shutil

import numpy as np

from tfcourse.compat import tf, session_config
from tfcourse import cli, checkpoints, input_data

NAME = "tensorboard_demo"
STAGE_DIRS = {1: "1_graph", 2: "2_name_scopes", 3: "3_scalars_images", 4: "4_histograms",
              5: "5_hparam", 6: "6_projector"}
EMBEDDING_DIGITS = 1024
SPRITE = "sprite.png"
LABELS = "labels.tsv"
ACCURACY_TAG = "accuracy/accuracy"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--stage", default="all", choices=[str(s) for s in STAGE_DIRS] + ["all"],
                        help="which step of the lesson to run")
    cli.add_data_dir(parser, "mnist")
    parser.add_argument("--steps", type=int, default=2000,
                        help="training steps of every run (each of the 12 sweep runs too)")
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--learning_rate", type=cli.finite_float, default=1e-4,
                        help="Adam learning rate of stages 1-4 and 6")
    parser.add_argument("--learning_rates", default="1e-3,1e-4,1e-5",
                        help="the learning rates of the stage-5 sweep, comma-separated")
    parser.add_argument("--summary_every", type=int, default=5,
                        help="write the merged summaries every N steps")
    parser.add_argument("--log_every", type=int, default=100, help="print progress every N steps")
    parser.add_argument("--seed", type=int, default=0)
    cli.add_checkpoint_flags(parser, NAME)
    cli.add_output_flags(parser, NAME)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "learning_rate", "summary_every", "log_every"):
        cli.check_positive("--" + name, getattr(args, name))
    try:
        args.learning_rates = [cli.finite_float(s) for s in args.learning_rates.split(",")]
    except argparse.ArgumentTypeError as exc:
        raise cli.UserError("--learning_rates must be comma-separated numbers (%s)" % exc)
    for rate in args.learning_rates:
        cli.check_positive("--learning_rates", rate)
    args.stages = list(STAGE_DIRS) if args.stage == "all" else [int(args.stage)]
    cli.check_outputs(args, "--json", "--plot", folders=("--checkpoint_dir",))  # before any work
    return args


class Lesson:
    """What a stage adds: name scopes (2+), scalars and images (3+), histograms (4+)."""

    def __init__(self, stage):
        self.name_scopes = stage >= 2
        self.scalars = stage >= 3
        self.histograms = stage >= 4
        self.projector = stage == 6

    def scope(self, name):
        return tf.name_scope(name) if self.name_scopes else contextlib.nullcontext()


# ---------------------------------------------------------------- the model
def conv_layer(input, size_in, size_out, name, lesson):
    with lesson.scope(name):
        w = tf.Variable(tf.truncated_normal([5, 5, size_in, size_out], stddev=0.1), name="W")
        b = tf.Variable(tf.constant(0.1, shape=[size_out]), name="B")
        conv = tf.nn.conv2d(input, w, strides=[1, 1, 1, 1], padding="SAME")
        act = tf.nn.relu(conv + b)
        if lesson.histograms:
            tf.summary.histogram("weights", w)
            tf.summary.histogram("biases", b)
            tf.summary.histogram("activations", act)
        return tf.nn.max_pool(act, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def fc_layer(input, size_in, size_out, name, lesson):
    with lesson.scope(name):
        w = tf.Variable(tf.truncated_normal([size_in, size_out], stddev=0.1), name="W")
        b = tf.Variable(tf.constant(0.1, shape=[size_out]), name="B")
        act = tf.matmul(input, w) + b
        if lesson.histograms:
            tf.summary.histogram("weights", w)
            tf.summary.histogram("biases", b)
            tf.summary.histogram("activations", act)
        return act


def mnist_model(lesson, learning_rate, use_two_conv, use_two_fc, embedding_digits):
    """The talk's network; returns its tensors.  ``embedding_digits``: rows of the projector
    variable (stage 6)."""
    x = tf.placeholder(tf.float32, shape=[None, 784], name="x")
    x_image = tf.reshape(x, [-1, 28, 28, 1])
    if lesson.scalars:
        tf.summary.image("input", x_image, 3)
    y = tf.placeholder(tf.float32, shape=[None, 10], name="labels")

    if use_two_conv:
        conv1 = conv_layer(x_image, 1, 32, "conv1", lesson)
        conv_out = conv_layer(conv1, 32, 64, "conv2", lesson)
    else:
        conv1 = conv_layer(x_image, 1, 64, "conv", lesson)
        conv_out = tf.nn.max_pool(conv1, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1],
                                  padding="SAME")
    flattened = tf.reshape(conv_out, [-1, 7 * 7 * 64])

    if use_two_fc:
        fc1 = fc_layer(flattened, 7 * 7 * 64, 1024, "fc1", lesson)
        relu = tf.nn.relu(fc1)
        if lesson.histograms:
            tf.summary.histogram("fc1/relu", relu)
        embedding_input, embedding_size = relu, 1024
        logits = fc_layer(relu, 1024, 10, "fc2", lesson)
    else:
        embedding_input, embedding_size = flattened, 7 * 7 * 64
        logits = fc_layer(flattened, 7 * 7 * 64, 10, "fc", lesson)

    with lesson.scope("xent"):
        xent = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(logits=logits, labels=y))
        if lesson.scalars:
            tf.summary.scalar("xent", xent)

    with lesson.scope("train"):
        global_step = tf.Variable(0, trainable=False, name="global_step", dtype=tf.int64)
        train_step = tf.train.AdamOptimizer(learning_rate).minimize(xent, global_step=global_step)

    with lesson.scope("accuracy"):
        correct_prediction = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        if lesson.scalars:
            tf.summary.scalar("accuracy", accuracy)

    summ = tf.summary.merge_all()  # None in stages 1 and 2: they write the graph only

    model = dict(x=x, y=y, xent=xent, accuracy=accuracy, train_step=train_step,
                 global_step=global_step, summ=summ)
    if lesson.projector:
        embedding = tf.Variable(tf.zeros([embedding_digits, embedding_size]), trainable=False,
                                name="test_embedding")
        model["embedding"] = embedding
        model["assignment"] = embedding.assign(embedding_input)
    return model


def make_hparam_string(learning_rate, use_two_conv, use_two_fc):
    return "lr_%.0E,conv=%d,fc=%d" % (learning_rate, 2 if use_two_conv else 1,
                                      2 if use_two_fc else 1)


# ------------------------------------------------------- the projector files
def write_sprite(images, path):
    """All ``images`` (N x 784) in one square grid of 28x28 thumbnails, black on white."""
    side = int(math.ceil(math.sqrt(len(images))))
    sprite = np.ones((side * 28, side * 28), dtype=np.float32)
    for i, image in enumerate(images):
        row, col = divmod(i, side)
        sprite[row * 28:(row + 1) * 28, col * 28:(col + 1) * 28] = 1.0 - image.reshape(28, 28)
    plt = cli.pyplot()
    with cli.atomic_path(path) as tmp:
        plt.imsave(tmp, sprite, cmap="gray", vmin=0.0, vmax=1.0, format="png")
    return path


def write_projector_config(writer, logdir, embedding, count):
    """projector_config.pbtxt: the checkpointed variable, its sprite and its labels."""
    try:
        from tensorboard.plugins import projector  # ships with the tensorboard package
    except ImportError as exc:
        raise cli.UserError("stage 6 needs the tensorboard package (%s); run pip install "
                            "-r requirements.txt" % exc)

    config = projector.ProjectorConfig()
    embedding_config = config.embeddings.add()
    embedding_config.tensor_name = embedding.op.name
    embedding_config.sprite.image_path = SPRITE       # relative to logdir
    embedding_config.metadata_path = LABELS
    embedding_config.sprite.single_image_dim.extend([28, 28])
    projector.visualize_embeddings(writer, config)
    return os.path.join(logdir, "projector_config.pbtxt")


# ------------------------------------------------------------------ training
def evaluate(sess, model, dataset, batch_size=1000):
    correct = 0.0
    for start in range(0, dataset.num_examples, batch_size):
        images = dataset.images[start:start + batch_size]
        labels = dataset.labels[start:start + batch_size]
        acc = sess.run(model["accuracy"], feed_dict={model["x"]: images, model["y"]: labels})
        correct += acc * len(images)
    return correct / dataset.num_examples


def run(args, mnist, stage, logdir, learning_rate, use_two_conv=True, use_two_fc=True,
        label=""):
    """Train one model of ``stage`` for --steps steps, writing events and checkpoints to
    ``logdir``; returns its result."""
    lesson = Lesson(stage)
    if not args.restore and os.path.isdir(logdir):
        shutil.rmtree(logdir)  # a fresh run: old event files would overlay the new curves
    os.makedirs(logdir, exist_ok=True)
    count = min(EMBEDDING_DIGITS, mnist.test.num_examples)

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    model = mnist_model(lesson, learning_rate, use_two_conv, use_two_fc, count)
    saver = tf.train.Saver(max_to_keep=1)
    flag = "--learning_rates" if stage == 5 else "--learning_rate"

    with tf.Session(config=session_config()) as sess:
        # a sweep resumed before all its runs began: a run without a checkpoint starts fresh
        resume = args.restore and not (stage == 5 and tf.train.latest_checkpoint(logdir) is None)
        restored = checkpoints.restore_or_init(saver, sess, logdir, resume)
        start = int(sess.run(model["global_step"]))
        if restored:
            print("%srestored %s (step %d)" % (label, restored, start))
        writer = tf.summary.FileWriter(logdir)
        writer.add_graph(sess.graph)
        projector_config = None
        if lesson.projector:
            projector_config = write_projector_config(writer, logdir, model["embedding"], count)
            write_sprite(mnist.test.images[:count], os.path.join(logdir, SPRITE))
            cli.write_text(os.path.join(logdir, LABELS),
                           "".join("%d\n" % np.argmax(y) for y in mnist.test.labels[:count]))

        progress = cli.Progress(total=args.steps, unit="steps", initial=start, prefix=label)
        loss = None
        for i in range(start, args.steps):
            batch = mnist.train.next_batch(args.batch_size)
            feed = {model["x"]: batch[0], model["y"]: batch[1]}
            if model["summ"] is not None and i % args.summary_every == 0:
                writer.add_summary(sess.run(model["summ"], feed_dict=feed), i)
            _, loss = sess.run([model["train_step"], model["xent"]], feed_dict=feed)
            checkpoints.check_finite(loss, i, "try a smaller " + flag)
            if (i + 1) % args.log_every == 0 or i + 1 == args.steps:
                progress.update(i + 1, xent=float(loss))
        if lesson.projector:
            sess.run(model["assignment"], feed_dict={model["x"]: mnist.test.images[:count]})
        saver.save(sess, os.path.join(logdir, "model.ckpt"), global_step=args.steps)
        writer.close()
        test_accuracy = evaluate(sess, model, mnist.test)

    print("%stest accuracy %.4f (%s)" % (label, test_accuracy, logdir), flush=True)
    result = {"logdir": os.path.abspath(logdir), "learning_rate": learning_rate,
              "conv_layers": 2 if use_two_conv else 1, "fc_layers": 2 if use_two_fc else 1,
              "steps": args.steps, "test_accuracy": test_accuracy,
              "last_batch_xent": None if loss is None else float(loss)}
    if projector_config:
        result.update(projector_config=projector_config, embedding_digits=count,
                      embedding_tensor=model["embedding"].op.name)
    return result


def hparam_sweep(args, mnist):
    """Stage 5: 3 learning rates x 1-2 conv layers x 1-2 fc layers, one folder each."""
    runs = {}
    settings = [(lr, conv, fc) for lr in args.learning_rates
                for conv in (True, False) for fc in (True, False)]
    for n, (learning_rate, use_two_conv, use_two_fc) in enumerate(settings, 1):
        hparam = make_hparam_string(learning_rate, use_two_conv, use_two_fc)
        print("stage 5, run %d/%d: %s" % (n, len(settings), hparam), flush=True)
        runs[hparam] = run(args, mnist, 5, os.path.join(args.checkpoint_dir, STAGE_DIRS[5], hparam),
                           learning_rate, use_two_conv, use_two_fc, label=hparam + ": ")
    return runs


# ---------------------------------------------------------------- the figure
def read_scalars(logdir, tag):
    """(steps, values) of scalar ``tag`` in the event files of ``logdir``, by step."""
    points = {}
    for path in sorted(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))):
        for event in tf.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    points[event.step] = value.simple_value
    steps = sorted(points)
    return np.array(steps), np.array([points[s] for s in steps])


def smooth(values, weight=0.6):
    """TensorBoard's smoothing: a debiased exponential moving average (its default 0.6)."""
    out, last = [], 0.0
    for n, v in enumerate(values, 1):
        last = weight * last + (1 - weight) * v
        out.append(last / (1 - weight ** n))
    return np.array(out)


def plot_sweep(runs, data_name, path):
    plt = cli.pyplot()
    rates = sorted({r["learning_rate"] for r in runs.values()}, reverse=True)
    fig, axes = plt.subplots(1, len(rates), figsize=(4.2 * len(rates), 3.8), sharey=True,
                             squeeze=False)
    for ax, rate in zip(axes[0], rates):
        for n, (hparam, r) in enumerate(sorted(runs.items())):
            if r["learning_rate"] != rate:
                continue
            steps, values = read_scalars(r["logdir"], ACCURACY_TAG)
            if not len(steps):
                continue
            line, = ax.plot(steps, smooth(values), lw=1.2,
                            label="conv=%d, fc=%d: test %.1f%%" % (
                                r["conv_layers"], r["fc_layers"], 100 * r["test_accuracy"]))
            ax.plot(steps, values, lw=0.5, alpha=0.3, color=line.get_color())
        ax.set_title("learning rate %.0E" % rate)
        ax.set_xlabel("step")
        ax.set_ylim(0.0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    axes[0][0].set_ylabel("training batch accuracy (%s, smoothed 0.6)" % ACCURACY_TAG)
    fig.suptitle("TensorBoard hyperparameter search on %s: accuracy curves from the event files"
                 % data_name)
    fig.tight_layout()
    cli.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    mnist = input_data.read_data_sets(args.data_dir, one_hot=True, seed=args.seed)
    data_name = os.path.basename(os.path.normpath(args.data_dir))
    print("data: %d train, %d test digits from %s" % (mnist.train.num_examples,
                                                     mnist.test.num_examples, args.data_dir))
    result = {"data_dir": os.path.abspath(args.data_dir), "data": data_name,
              "train_examples": mnist.train.num_examples,
              "test_examples": mnist.test.num_examples, "steps": args.steps,
              "batch_size": args.batch_size, "learning_rate": args.learning_rate,
              "seed": args.seed, "tf_version": tf.__version__, "stages": {}}
    for stage in args.stages:
        if stage == 5:
            runs = hparam_sweep(args, mnist)
            best = max(runs, key=lambda h: runs[h]["test_accuracy"])
            result["hparam_runs"] = runs
            result["best_hparam_run"] = best
            result["best_test_accuracy"] = runs[best]["test_accuracy"]
            result["stages"]["5"] = {"logdir": os.path.join(os.path.abspath(args.checkpoint_dir),
                                                            STAGE_DIRS[5]), "runs": len(runs)}
            if args.plot:
                plot_sweep(runs, data_name, args.plot)
                cli.wrote(args.plot)
        else:
            print("stage %d: %s" % (stage, STAGE_DIRS[stage]), flush=True)
            result["stages"][str(stage)] = run(
                args, mnist, stage, os.path.join(args.checkpoint_dir, STAGE_DIRS[stage]),
                args.learning_rate, label="stage %d: " % stage)
    if args.json:
        cli.write_json(args.json, result)
        cli.wrote(args.json)
    print("look at them: tensorboard --logdir %s" % args.checkpoint_dir)
    return 0


if __name__ == "__main__":
    cli.run(main)
