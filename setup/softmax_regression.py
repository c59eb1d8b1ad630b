"""Softmax (logistic) regression on MNIST, in two recipes of the blog series.

    python setup/softmax_regression.py                      # blog part 11 (the book, ch. 3)
    python setup/softmax_regression.py --epochs 25 --learning_rate 0.01   # blog part 1
    python setup/softmax_regression.py --data_dir data/mnist5k

y = softmax(x W + b) with W and b initialised to zero, the mean over the batch
of the cross-entropy -sum(y_ * log(y)) and GradientDescentOptimizer, on the
55000 training images (the first 5000 of the training file are the validation
set, as input_data.read_data_sets keeps them).  By default GradientDescentOptimizer(0.5),
1000 steps of 100 images: the recipe of blog part 11's Trainmodel.py (and of
the book, ch. 3); blog part 11 gives no accuracy.  ``--epochs 25
--learning_rate 0.01`` (batch 100) is blog part 1's logistic regression
("training_epochs = 25", "learning_rate = 0.01", "batch_size = 100"), which
printed "Accuracy 0.9206": each epoch is int(55000 / 100) = 550 steps, as its
total_batch.  Writes --json (default runs/softmax_regression/softmax_regression.json;
to record: --json results/softmax_regression.json).
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
    parser.add_argument("--steps", type=int, default=1000,
                        help="training steps (ignored when --epochs is given)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="train this many passes over the training images instead of "
                             "--steps: int(training images / batch_size) steps each, as blog "
                             "part 1 counts its total_batch (its recipe: 25)")
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--learning_rate", type=cli.finite_float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    cli.add_output_flags(parser, NAME, plot=False)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size", "learning_rate"):
        cli.check_positive("--" + name, getattr(args, name))
    if args.epochs is not None:
        cli.check_positive("--epochs", args.epochs)
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
    steps_per_epoch = mnist.train.num_examples // args.batch_size
    steps = args.steps if args.epochs is None else args.epochs * steps_per_epoch

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
    progress = cli.Progress(total=steps)
    avg_cost = 0.
    for i in range(steps):
        batch_xs, batch_ys = mnist.train.next_batch(args.batch_size)
        _, loss = sess.run([train_step, cross_entropy], feed_dict={x: batch_xs, y_: batch_ys})
        checkpoints.check_finite(loss, i, "lower --learning_rate (now %g)" % args.learning_rate)
        avg_cost += loss / steps_per_epoch
        if args.epochs is not None and (i + 1) % steps_per_epoch == 0:
            # blog part 1's log line: the epoch's mean batch cost
            print("Epoch: %04d cost= %.9f" % ((i + 1) // steps_per_epoch, avg_cost))
            avg_cost = 0.
        if (i + 1) % max(steps // 10, 1) == 0:
            progress.update(i + 1, loss=float(loss))

    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    test_accuracy = float(accuracy.eval({x: mnist.test.images, y_: mnist.test.labels}))
    sess.close()
    print("test accuracy %g" % test_accuracy)
    if args.json:
        cli.write_json(args.json, {"model": "softmax_regression", "test_accuracy": test_accuracy,
                                   "steps": steps, "epochs": args.epochs,
                                   "batch_size": args.batch_size,
                                   "learning_rate": args.learning_rate, "seed": args.seed,
                                   "train_examples": mnist.train.num_examples,
                                   "data_dir": os.path.abspath(args.data_dir)})
        cli.wrote(args.json)
    return 0


if __name__ == "__main__":
    cli.run(main)
