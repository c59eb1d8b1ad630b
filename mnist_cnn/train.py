"""MNIST convolutional network, as in report §2.2 (after the book "TensorFlow实战", ch. 5).

Two 5x5 convolution + 2x2 max-pool layers (32 and 64 feature maps), a
1024-unit fully connected layer with dropout, a softmax output; Adam with
learning rate 1e-4, batches of 50, 20000 steps (report §2.2.2).  The report
reaches 99.27 % test accuracy (§2.2.3).

    python setup/get_data.py mnist                 # once
    python mnist_cnn/train.py                      # full run (20000 steps)
    python mnist_cnn/train.py --steps 500 --data_dir data/mnist5k   # a quick look
    python mnist_cnn/train.py --restore --steps 30000                # continue a run

Every --log_every steps it prints the training accuracy of the current batch
with rate and ETA and writes TensorBoard summaries (loss, accuracy, learning
rate, weight histograms, a few input digits, the graph); at the end the test
accuracy.  Checkpoints and summaries go to --checkpoint_dir (every
--save_every steps and at the end; tensorboard --logdir runs/mnist_cnn), the
training curve to --plot, the result to --json and the trained model, as a
TF Serving SavedModel (tfcourse/serving.py), to --export_dir, by default all
under runs/mnist_cnn/.  To record the report's run:
--json results/mnist_cnn.json --plot images/mnist_cnn_training.png.
A loss that goes NaN/inf stops the run (exit 2) before the weights are saved.
"""
import argparse
import os

from tfcourse.compat import tf, announce_device, session_config
from tfcourse import checkpoints, cli, input_data, precision, serving

NAME = "mnist_cnn"
REPORT_TEST_ACCURACY = 0.9927  # report §2.2.3: "准确率达到了 99.27%"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cli.add_data_dir(parser, "mnist", help="directory with the four MNIST IDX files")
    parser.add_argument("--steps", type=int, default=20000, help="total training steps")
    parser.add_argument("--batch_size", type=int, default=50)
    parser.add_argument("--learning_rate", type=cli.finite_float, default=1e-4)
    parser.add_argument("--keep_prob", type=cli.finite_float, default=0.5,
                        help="dropout keep probability")
    parser.add_argument("--seed", type=int, default=0)
    precision.add_dtype_flag(parser)
    parser.add_argument("--log_every", type=int, default=100)
    parser.add_argument("--save_every", type=int, default=1000)
    cli.add_checkpoint_flags(parser, NAME)
    checkpoints.add_restore_from_flag(parser)
    cli.add_output_flags(parser, NAME)
    serving.add_export_flag(parser)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "learning_rate", "log_every", "save_every"):
        cli.check_positive("--" + name, getattr(args, name))
    if not 0.0 < args.keep_prob <= 1.0:
        raise cli.UserError("--keep_prob must be in (0, 1], got %g" % args.keep_prob)
    cli.check_outputs(args, "--json", "--plot", folders=("--checkpoint_dir",))
    serving.check_export_dir(args)
    return args


# ---------------------------------------------------------------- the model
def weight_variable(shape, dtype=tf.float32):
    initial = tf.truncated_normal(shape, stddev=0.1)
    # float32 master weights, read in the compute dtype (--dtype; tfcourse/precision.py)
    return precision.master_weight(tf.Variable(initial, name="weights"), dtype)


def bias_variable(shape, dtype=tf.float32):
    initial = tf.constant(0.1, shape=shape)
    return precision.master_weight(tf.Variable(initial, name="biases"), dtype)


def conv2d(x, W):
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x):
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def build_network(dtype=tf.float32):
    """Placeholders, the network, its loss and accuracy (train_distributed.py uses it too).

    ``dtype`` is the compute dtype: the weights stay float32 variables, the
    images and every layer are ``dtype``, the logits and the loss float32.
    """
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y_ = tf.placeholder(tf.float32, [None, 10], name="y_")
    # 1.0 unless fed: evaluation and the exported model run without dropout
    keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")
    x_image = tf.reshape(x, [-1, 28, 28, 1])
    x_compute = tf.cast(x_image, dtype) if dtype != tf.float32 else x_image

    with tf.name_scope("conv1"):
        W_conv1 = weight_variable([5, 5, 1, 32], dtype)
        b_conv1 = bias_variable([32], dtype)
        h_conv1 = tf.nn.relu(conv2d(x_compute, W_conv1) + b_conv1)
        h_pool1 = max_pool_2x2(h_conv1)                                 # [N, 14, 14, 32]

    with tf.name_scope("conv2"):
        W_conv2 = weight_variable([5, 5, 32, 64], dtype)
        b_conv2 = bias_variable([64], dtype)
        h_conv2 = tf.nn.relu(conv2d(h_pool1, W_conv2) + b_conv2)
        h_pool2 = max_pool_2x2(h_conv2)                                 # [N, 7, 7, 64]

    with tf.name_scope("fc1"):
        W_fc1 = weight_variable([7 * 7 * 64, 1024], dtype)
        b_fc1 = bias_variable([1024], dtype)
        h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
        h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, W_fc1) + b_fc1)
        h_fc1_drop = tf.nn.dropout(h_fc1, tf.cast(keep_prob, dtype))

    with tf.name_scope("fc2"):
        W_fc2 = weight_variable([1024, 10], dtype)
        b_fc2 = bias_variable([10], dtype)
        logits = tf.cast(tf.matmul(h_fc1_drop, W_fc2) + b_fc2, tf.float32)
        y_conv = tf.nn.softmax(logits)

    with tf.name_scope("loss"):
        # the book writes -sum(y_ * log(y_conv)); the fused op is the same
        # cross-entropy without the log(0) = -inf that can turn it into NaN
        cross_entropy = tf.reduce_mean(
            tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))

    with tf.name_scope("accuracy"):
        correct_prediction = tf.equal(tf.argmax(y_conv, 1), tf.argmax(y_, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    tf.summary.image("input", x_image, max_outputs=3)
    for weights in tf.trainable_variables():
        if weights.op.name.endswith("weights"):
            tf.summary.histogram("weights/" + weights.op.name, weights)
    return dict(x=x, y_=y_, keep_prob=keep_prob, y_conv=y_conv, logits=logits,
                classes=tf.argmax(logits, 1, name="classes"), loss=cross_entropy,
                accuracy=accuracy)


def build_model(args):
    """The network, the Adam training step and the summaries of a training run."""
    with precision.train_backward(args.dtype):  # Conv2D's gradient in float32 where it must
        model = build_network(precision.DTYPES[args.dtype])
    global_step = tf.train.get_or_create_global_step()  # int64: has GPU kernels, int32 has none
    learning_rate = args.learning_rate
    optimizer = precision.loss_scaled(tf.train.AdamOptimizer(learning_rate), args)
    model["train_step"] = optimizer.minimize(model["loss"], global_step=global_step)
    model["global_step"] = global_step
    tf.summary.scalar("train/loss", model["loss"])
    tf.summary.scalar("train/accuracy", model["accuracy"])
    tf.summary.scalar("train/learning_rate", tf.constant(learning_rate))
    model["summaries"] = tf.summary.merge_all()
    model["weights_finite"] = checkpoints.weights_finite()
    return model





# --------------------------------------------------------------- training
def evaluate(sess, model, dataset, batch_size=1000):
    """Accuracy over a whole data set, in batches (keeps memory small)."""
    correct = 0.0
    for start in range(0, dataset.num_examples, batch_size):
        images = dataset.images[start:start + batch_size]
        labels = dataset.labels[start:start + batch_size]
        acc = sess.run(model["accuracy"], feed_dict={model["x"]: images, model["y_"]: labels,
                                                     model["keep_prob"]: 1.0})
        correct += acc * len(images)
    return correct / dataset.num_examples


def plot_history(history, test_accuracy, path):
    plt = cli.pyplot()
    steps = [h["step"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.plot(steps, [h["train_accuracy"] for h in history], lw=0.8, label="batch accuracy")
    ax1.axhline(REPORT_TEST_ACCURACY, color="gray", ls="--", lw=0.8,
                label="report test accuracy %.2f%%" % (100 * REPORT_TEST_ACCURACY))
    if test_accuracy is not None:
        ax1.axhline(test_accuracy, color="C3", lw=1.0,
                    label="test accuracy here %.2f%%" % (100 * test_accuracy))
    later = [h["train_accuracy"] for h in history[len(history) // 10:]] or [0.0]
    ax1.set_ylim(max(0.0, min(later) - 0.02), 1.003)  # zoom past the first tenth of the run
    ax1.set_xlabel("step")
    ax1.set_ylabel("accuracy")
    ax1.legend(loc="lower right")
    ax2.semilogy(steps, [h["loss"] for h in history], lw=0.8, color="C1")
    ax2.set_xlabel("step")
    ax2.set_ylabel("cross-entropy (batch)")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(plt.MaxNLocator(5))
    fig.suptitle("MNIST CNN training")
    fig.tight_layout()
    cli.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    mnist = input_data.read_data_sets(args.data_dir, one_hot=True, seed=args.seed)
    if args.batch_size > mnist.train.num_examples:
        raise cli.UserError("--batch_size %d is larger than the %d training images in %s"
                            % (args.batch_size, mnist.train.num_examples, args.data_dir))
    print("data: %d train, %d validation, %d test images from %s"
          % (mnist.train.num_examples, mnist.validation.num_examples, mnist.test.num_examples,
             args.data_dir))
    device = announce_device()

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    model = build_model(args)
    saver = tf.train.Saver(max_to_keep=3)
    fix = "lower --learning_rate (now %g)" % args.learning_rate

    with tf.Session(config=session_config()) as sess:
        # the step i's line is logged before step i runs, so a resumed run logs it again
        start_step, history = checkpoints.restore_with_history(
            saver, sess, args.checkpoint_dir, args.restore, args.restore_from,
            counter=model["global_step"], inclusive=False)
        history = history or []
        progress = cli.Progress(total=args.steps, unit="steps", initial=start_step)
        writer = tf.summary.FileWriter(args.checkpoint_dir, sess.graph)

        def save(step):
            checkpoints.save_with_history(saver, sess, args.checkpoint_dir, step, history,
                                          model["weights_finite"], fix)

        for i in range(start_step, args.steps):
            batch = mnist.train.next_batch(args.batch_size)
            if i % args.log_every == 0:
                train_accuracy, loss, summary = sess.run(
                    [model["accuracy"], model["loss"], model["summaries"]],
                    feed_dict={model["x"]: batch[0], model["y_"]: batch[1],
                               model["keep_prob"]: 1.0})
                writer.add_summary(summary, i)
                history.append({"step": i, "train_accuracy": float(train_accuracy),
                                "loss": float(loss)})
                print("step %d, training accuracy %g | loss %.4f, %s"
                      % (i, train_accuracy, loss, progress.summary(i)), flush=True)
            _, loss = sess.run([model["train_step"], model["loss"]],
                               feed_dict={model["x"]: batch[0], model["y_"]: batch[1],
                                          model["keep_prob"]: args.keep_prob})
            checkpoints.check_finite(loss, i, fix)
            if (i + 1) % args.save_every == 0:
                save(i + 1)
        writer.close()
        train_seconds = progress.elapsed()
        steps_done = max(0, args.steps - start_step)
        if steps_done > 0:
            save(args.steps)

        validation_accuracy = evaluate(sess, model, mnist.validation)
        test_accuracy = evaluate(sess, model, mnist.test)
        # the trained model for TF Serving (and for the grader): images in, logits out
        export = serving.export_saved_model(
            sess, serving.export_dir(args), inputs={"images": model["x"]},
            outputs={"logits": model["logits"], "classes": model["classes"],
                     "probabilities": model["y_conv"]},
            version=sess.run(model["global_step"]))

    print("validation accuracy %g" % validation_accuracy)
    print("test accuracy %g" % test_accuracy)
    if export:
        cli.wrote(export)
    if args.json:
        cli.write_json(args.json, dict(result_record(
            args, mnist, steps_done, train_seconds, validation_accuracy, test_accuracy,
            device, history), export=export and cli.shown(export)))
        cli.wrote(args.json)
    if args.plot and history:
        plot_history(history, test_accuracy, args.plot)
        cli.wrote(args.plot)
    return 0


def result_record(args, mnist, steps_done, train_seconds, validation_accuracy, test_accuracy,
                  device, history):
    """The JSON record of a run."""
    return {
        "model": NAME,
        "data_dir": os.path.abspath(args.data_dir),
        "train_examples": mnist.train.num_examples,
        "test_examples": mnist.test.num_examples,
        "steps": args.steps,
        "steps_this_run": steps_done,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "dtype": args.dtype,
        "float32_ops": precision.slow_backward_ops(args.dtype, device != "CPU"),
        "loss_scale": args.loss_scale if args.dtype == "float16" else None,
        "test_accuracy": test_accuracy,
        "validation_accuracy": validation_accuracy,
        "report_test_accuracy": REPORT_TEST_ACCURACY,
        "train_seconds_this_run": round(train_seconds, 1),
        "steps_per_second": round(steps_done / train_seconds, 2) if steps_done else None,
        "device": device,
        "tf_version": tf.__version__,
        "history": history,
    }


if __name__ == "__main__":
    cli.run(main)
