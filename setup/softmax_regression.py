"""Softmax regression on MNIST, the report's first classifier (about 92 % test accuracy).

    python setup/softmax_regression.py
    python setup/softmax_regression.py --data_dir data/mnist5k

y = softmax(x W + b) with W and b initialised to zero, cross-entropy loss and
GradientDescentOptimizer(0.5), 1000 steps of 100 images, as in the book.
Writes --json (default runs/softmax_regression/softmax_regression.json; to
record: --json results/softmax_regression.json).
"""
import argparse
import os

from tfcourse.compat import tf, session_config
from tfcourse import checkpoints, cli, input_data

NAME = "softmax_regression"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cli.add_data_dir(parser, "mnist")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--learning_rate", type=cli.finite_float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    cli.add_output_flags(parser, NAME, plot=False)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "learning_rate"):
        cli.check_positive("--" + name, getattr(args, name))
    cli.check_outputs(args, "--json")
    return args


def main(argv=None):
    args = parse_args(argv)
    mnist = input_data.read_data_sets(args.data_dir, one_hot=True, seed=args.seed)
    print(mnist.train.images.shape, mnist.train.labels.shape)
    print(mnist.test.images.shape, mnist.test.labels.shape)
    print(mnist.validation.images.shape, mnist.validation.labels.shape)
    if args.batch_size > mnist.train.num_examples:
        raise cli.UserError("--batch_size %d is larger than the %d training images in %s"
                            % (args.batch_size, mnist.train.num_examples, args.data_dir))

    sess = tf.InteractiveSession(config=session_config())
    x = tf.placeholder(tf.float32, [None, 784])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)

    y_ = tf.placeholder(tf.float32, [None, 10])
    # -sum(y_ * log(y)), clipped so that log(0) cannot produce NaN
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(tf.clip_by_value(y, 1e-10, 1.0)),
                                                  reduction_indices=[1]))
    train_step = tf.train.GradientDescentOptimizer(args.learning_rate).minimize(cross_entropy)

    tf.global_variables_initializer().run()
    progress = cli.Progress(total=args.steps)
    for i in range(args.steps):
        batch_xs, batch_ys = mnist.train.next_batch(args.batch_size)
        _, loss = sess.run([train_step, cross_entropy], feed_dict={x: batch_xs, y_: batch_ys})
        checkpoints.check_finite(loss, i, "lower --learning_rate (now %g)" % args.learning_rate)
        if (i + 1) % max(args.steps // 10, 1) == 0:
            progress.update(i + 1, loss=float(loss))

    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    test_accuracy = float(accuracy.eval({x: mnist.test.images, y_: mnist.test.labels}))
    sess.close()
    print("test accuracy %g" % test_accuracy)
    if args.json:
        cli.write_json(args.json, {"model": "softmax_regression", "test_accuracy": test_accuracy,
                                   "steps": args.steps, "batch_size": args.batch_size,
                                   "data_dir": os.path.abspath(args.data_dir),
                                   "report_test_accuracy_about": 0.92})
        cli.wrote(args.json)
    return 0


if __name__ == "__main__":
    cli.run(main)
