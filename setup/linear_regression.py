"""Linear regression in graph mode: y = W * x + b fitted by gradient descent.

    python setup/linear_regression.py

The classic first TensorFlow example, as blog part 1 gives it: 17 (x, y)
points, two variables, a mean-squared-error cost and
GradientDescentOptimizer(0.01), fed through placeholders one point at a time,
epoch after epoch.  The blog runs 2000 epochs and prints every 50th
("training_epochs = 2000", "display_step = 50"); here 1000 and every 100th by
default (``--epochs 2000 --display_step 50`` for the blog's).  Prints the cost every --display_step
epochs, compares the result with the closed-form least-squares fit, draws the
points and the fitted line into --plot and writes --json (by default under
runs/linear_regression/; to record: --json results/linear_regression.json
--plot images/linear_regression.png).
"""
import argparse

import numpy as np

from tfcourse.compat import tf, session_config
from tfcourse import checkpoints, cli

NAME = "linear_regression"

train_X = np.asarray([3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167,
                      7.042, 10.791, 5.313, 7.997, 5.654, 9.27, 3.1], dtype=np.float32)
train_Y = np.asarray([1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221,
                      2.827, 3.465, 1.65, 2.904, 2.42, 2.94, 1.3], dtype=np.float32)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--learning_rate", type=cli.finite_float, default=0.01)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--display_step", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    cli.add_output_flags(parser, NAME)
    args = parser.parse_args(argv)
    for name in ("learning_rate", "epochs", "display_step"):
        cli.check_positive("--" + name, getattr(args, name))
    cli.check_outputs(args, "--json", "--plot")
    return args


def main(argv=None):
    args = parse_args(argv)
    tf.set_random_seed(args.seed)
    X = tf.placeholder(tf.float32, name="X")
    Y = tf.placeholder(tf.float32, name="Y")
    W = tf.Variable(tf.random_normal([]), name="weight")
    b = tf.Variable(tf.random_normal([]), name="bias")

    with tf.name_scope("model"):
        pred = tf.add(tf.multiply(X, W), b)
    with tf.name_scope("cost"):
        n_samples = train_X.shape[0]
        cost = tf.reduce_sum(tf.pow(pred - Y, 2)) / (2 * n_samples)
    optimizer = tf.train.GradientDescentOptimizer(args.learning_rate).minimize(cost)

    with tf.Session(config=session_config()) as sess:
        sess.run(tf.global_variables_initializer())
        for epoch in range(args.epochs):
            for (x, y) in zip(train_X, train_Y):
                sess.run(optimizer, feed_dict={X: x, Y: y})
            if (epoch + 1) % args.display_step == 0:
                c = sess.run(cost, feed_dict={X: train_X, Y: train_Y})
                checkpoints.check_finite(c, epoch + 1, "lower --learning_rate (now %g)"
                                         % args.learning_rate)
                print("Epoch: %04d cost= %.9f W= %.6f b= %.6f" % (epoch + 1, c, sess.run(W),
                                                                   sess.run(b)))
        training_cost, w_fit, b_fit = sess.run([cost, W, b], feed_dict={X: train_X, Y: train_Y})
        checkpoints.check_finite(training_cost, args.epochs, "lower --learning_rate (now %g)"
                                 % args.learning_rate)

    w_ls, b_ls = np.polyfit(train_X, train_Y, 1)
    ls_cost = float(np.sum((w_ls * train_X + b_ls - train_Y) ** 2) / (2 * len(train_X)))
    print("Optimization Finished!")
    print("Training cost= %.9f W= %.6f b= %.6f" % (training_cost, w_fit, b_fit))
    print("least squares: cost= %.9f W= %.6f b= %.6f" % (ls_cost, w_ls, b_ls))

    if args.json:
        cli.write_json(args.json, {"W": float(w_fit), "b": float(b_fit),
                                   "cost": float(training_cost), "least_squares_W": float(w_ls),
                                   "least_squares_b": float(b_ls), "least_squares_cost": ls_cost,
                                   "epochs": args.epochs, "learning_rate": args.learning_rate})
        cli.wrote(args.json)
    if args.plot:
        plt = cli.pyplot()
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(train_X, train_Y, "ro", label="training data")
        xs = np.linspace(train_X.min() - 0.5, train_X.max() + 0.5, 10)
        ax.plot(xs, w_fit * xs + b_fit, label="fitted: y = %.3f x + %.3f" % (w_fit, b_fit))
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title("Linear regression by gradient descent")
        ax.legend()
        cli.save_figure(fig, args.plot)
        cli.wrote(args.plot)
    return 0


if __name__ == "__main__":
    cli.run(main)
