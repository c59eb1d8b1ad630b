"""Inverted-character captcha: a slim CNN with ten 2-way softmax heads, TF1 graph mode.

    python apps/captcha/generate.py              # once: data/captcha/{train,test}.npz
    python apps/captcha/train.py                 # 4000 steps of 64
    python apps/captcha/train.py --restore --steps 5000     # continue a run
    tensorboard --logdir runs/apps_captcha

Model (this project's; blog part 9's is 5x5, 5x5 and 3x3 convolutions of 32
maps each with 2x2 average pooling of stride 1, a linear 512-unit layer and ten
2-way heads, the summed cross-entropies under Adam 1e-4): the 28x280 captcha
-> three stages of 3x3 convolution + batch normalisation + ReLU + 2x2 average
pooling (16, 32, 64 maps: 14x140, 7x70, 4x35) -> a 512-unit fully connected
layer (dropout optional; --width scales the maps and units) -> ten heads,
one per position, each a 2-way softmax (upright / upside down).  The loss is
the mean of the ten cross-entropies; Adam, its rate falling tenfold
after half and after three quarters of the steps.  A captcha counts as
read only when all ten heads are right.  The last --validation captchas of
the training set (training fonts) are held back for the curve; at the end
the test set, all in the held-out font, gives the per-position and
whole-captcha accuracy, each captcha read in 20 views (--test_views: as it
is and turned by 180 degrees, each with its cells shifted to every position;
each cell's P(inverted) averaged) and also read once.
"""
import argparse
import collections
import os
import time

import numpy as np

from tfcourse.compat import tf, slim, gpu_names, session_config
from tfcourse import cjk, cli, serving, training

NAME = "apps_captcha"
POSITIONS = 10
TARGET = {"per_position_accuracy": 0.99, "whole_captcha_accuracy": 0.95}
GENERATE = "python apps/captcha/generate.py"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cli.add_data_dir(p, "captcha", help="train.npz and test.npz (python apps/captcha/generate.py)")
    cli.add_checkpoint_flags(p, NAME)
    cli.add_output_flags(p, NAME)
    p.add_argument("--steps", type=int, default=4000, help="total training steps")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--learning_rate", type=cli.finite_float, default=1e-3,
                   help="Adam's initial learning rate")
    p.add_argument("--lr_drops", type=training.lr_drops, default=[0.5, 0.75], metavar="F1,F2",
                   help="fractions of --steps after which the learning rate falls tenfold "
                        "(at a constant rate the validation accuracy levelled off at 98.3 %%)")
    p.add_argument("--width", type=cli.finite_float, default=1.0,
                   help="multiply every layer's maps and units by this (1: "
                        "16/32/64 maps and 512 units)")
    p.add_argument("--keep_prob", type=cli.finite_float, default=1.0,
                   help="dropout keep probability of the 512-unit layer (1 = no dropout: "
                        "here it slowed learning more than it helped)")
    p.add_argument("--augment", type=augment_ops, default="rotate,shuffle", metavar="OPS",
                   help="batch augmentation, a comma list of: rotate (half the captchas "
                        "turned by 180 degrees: positions reversed, labels flipped), shuffle "
                        "(each captcha's ten cells in a random order); none for neither "
                        "(8000 steps on 60000 captchas: 98.77 %% / 88.55 %% on the held-out "
                        "font with both, 98.67 %% / 87.8 %% without)")
    p.add_argument("--test_views", type=view_ops, default="rotate,roll", metavar="OPS",
                   help="read each test captcha in several views and average each cell's "
                        "P(inverted), a comma list of: rotate (also the captcha turned by "
                        "180 degrees), roll (its cells shifted cyclically to each of the ten "
                        "positions); none for the captcha as it is (the JSON gives both)")
    p.add_argument("--validation", type=int, default=1000,
                   help="training captchas held back for the validation curve")
    p.add_argument("--eval_every", type=int, default=250, help="validation every N steps")
    p.add_argument("--log_every", type=int, default=50)
    p.add_argument("--save_every", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    serving.add_export_flag(p)
    args = p.parse_args(argv)
    for flag in ("steps", "batch_size", "learning_rate", "width", "validation", "eval_every",
                 "log_every", "save_every"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if not 0.0 < args.keep_prob <= 1.0:
        raise cli.UserError("--keep_prob must be in (0, 1], got %g" % args.keep_prob)
    training.check_width(args.width, "this script's")
    if args.batch_size > 4096:
        raise cli.UserError("--batch_size %d is too large; use at most 4096" % args.batch_size)
    cli.check_outputs(args, "--json", "--plot", folders=("--checkpoint_dir",))  # before any work
    serving.check_export_dir(args)
    return args


AUGMENT_OPS = ("rotate", "shuffle")
VIEW_OPS = ("rotate", "roll")


def op_list(text, choices):
    """'rotate,shuffle' -> ['rotate', 'shuffle'] if all are ``choices``; 'none' or '' -> []."""
    ops = [op.strip() for op in text.split(",") if op.strip() and op.strip() != "none"]
    unknown = sorted(set(ops) - set(choices))
    if unknown:
        raise argparse.ArgumentTypeError("unknown %s; choose from %s, or none"
                                         % (", ".join(unknown), ", ".join(choices)))
    return ops


def augment_ops(text):
    """``--augment``: a list of AUGMENT_OPS."""
    return op_list(text, AUGMENT_OPS)


def view_ops(text):
    """``--test_views`` (and predict.py's ``--views``): a list of VIEW_OPS."""
    return op_list(text, VIEW_OPS)


def augment_batch(images, labels, rng, ops):
    """A new view of each captcha of the batch, under ``ops`` (the --augment list).

    rotate: half the captchas turned by 180 degrees -- still a captcha, its cells in the
    reverse order and each upright character now upside down and the other way round;
    shuffle: the ten 28x28 cells of each captcha put in a random order, their labels with
    them, so no head can learn a whole training captcha by heart."""
    images, labels = images.copy(), labels.copy()
    n = len(images)
    if "rotate" in ops:
        turn = rng.rand(n) < 0.5
        images[turn] = images[turn, ::-1, ::-1]
        labels[turn] = 1 - labels[turn, ::-1]
    if "shuffle" in ops:
        order = np.argsort(rng.rand(n, POSITIONS), axis=1)             # [N, 10]
        cells = images.reshape(n, 28, POSITIONS, 28)
        images = np.take_along_axis(cells, order[:, None, :, None], axis=2).reshape(n, 28, -1)
        labels = np.take_along_axis(labels, order, axis=1)
    return images, labels


# ---------------------------------------------------------------- the model
def layer_sizes(width):
    """The maps of the three conv stages and the units of fc4: 16, 32, 64 and 512 times
    --width."""
    return [training.scaled(n, width) for n in (16, 32, 64, 512)]


def captcha_cnn(images, keep_prob, is_training, width=1.0):
    """uint8 captchas [N, 28, 280] -> logits [N, 10, 2] (ten 2-way heads)."""
    maps = layer_sizes(width)
    with tf.name_scope("preprocess"):
        x = 1.0 - tf.cast(images, tf.float32) / 255.0               # ink = 1, paper = 0
        x = tf.expand_dims(x, -1)                                   # [N, 28, 280, 1]
    with slim.arg_scope([slim.conv2d], kernel_size=[3, 3], padding="SAME",
                        activation_fn=tf.nn.relu, normalizer_fn=slim.batch_norm,
                        normalizer_params={"is_training": is_training, "decay": 0.95}),\
            slim.arg_scope([slim.avg_pool2d], kernel_size=[2, 2], stride=2, padding="SAME"):
        net = slim.conv2d(x, maps[0], scope="conv1")
        net = slim.avg_pool2d(net, scope="pool1")                   # [N, 14, 140, 16]
        net = slim.conv2d(net, maps[1], scope="conv2")
        net = slim.avg_pool2d(net, scope="pool2")                   # [N, 7, 70, 32]
        net = slim.conv2d(net, maps[2], scope="conv3")
        net = slim.avg_pool2d(net, scope="pool3")                   # [N, 4, 35, 64]
    net = slim.flatten(net, scope="flatten")
    net = slim.fully_connected(net, maps[3], scope="fc4")
    net = tf.nn.dropout(net, keep_prob=keep_prob, name="dropout")
    heads = []
    with tf.variable_scope("heads"):
        for position in range(POSITIONS):
            heads.append(slim.fully_connected(net, 2, activation_fn=None,
                                              scope="position%d" % (position + 1)))
        logits = tf.stack(heads, axis=1, name="logits")             # [N, 10, 2]
        probabilities = tf.nn.softmax(logits, name="probabilities")
    return logits, probabilities


def build_model(args):
    images = tf.placeholder(tf.uint8, [None, 28, 28 * POSITIONS], name="images")
    labels = tf.placeholder(tf.int64, [None, POSITIONS], name="labels")    # 1 = inverted
    keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")
    is_training = tf.placeholder_with_default(False, [], name="is_training")
    logits, probabilities = captcha_cnn(images, keep_prob, is_training, args.width)
    with tf.name_scope("loss"):
        # one 2-way cross-entropy per head: [N * 10] labels against [N * 10, 2] logits
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=tf.reshape(labels, [-1]), logits=tf.reshape(logits, [-1, 2])))
    with tf.name_scope("accuracy"):
        predictions = tf.argmax(logits, 2, name="predictions")             # [N, 10]
        correct = tf.equal(predictions, labels)
        per_position = tf.reduce_mean(tf.cast(correct, tf.float32), name="per_position")
        whole = tf.reduce_mean(tf.cast(tf.reduce_all(correct, 1), tf.float32), name="whole")
    global_step = tf.train.get_or_create_global_step()              # int64: has a GPU kernel
    learning_rate = training.step_schedule(global_step, args.learning_rate, args.steps,
                                           args.lr_drops)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)        # batch-norm statistics
    with tf.control_dependencies(update_ops):
        train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss, global_step=global_step)

    tf.summary.scalar("loss", loss)
    tf.summary.scalar("per_position_accuracy", per_position)
    tf.summary.scalar("whole_captcha_accuracy", whole)
    tf.summary.scalar("learning_rate", learning_rate)
    tf.summary.image("captchas", tf.expand_dims(images, -1), max_outputs=3)
    for var in tf.trainable_variables():
        tf.summary.histogram(var.op.name, var)
    return dict(images=images, labels=labels, keep_prob=keep_prob, is_training=is_training,
                loss=loss, logits=logits, probabilities=probabilities,
                predictions=predictions, per_position=per_position, whole=whole,
                global_step=global_step, train_op=train_op, summary=tf.summary.merge_all())


# --------------------------------------------------------------- training
def p_inverted_by_view(sess, images_in, probabilities, images, ops, batch_size=500):
    """P(inverted) of each cell in each view of ``ops`` (--test_views), put back on the
    cells: [views, N, 10], the captcha as it is first.  The views: the captcha itself; with
    roll, also its cells shifted cyclically by 1..9 positions (a cell read at every
    position, beside other neighbours); with rotate, each of those also turned by 180
    degrees (cells in reverse order, a cell upright there is inverted here).  Training saw
    both kinds of view (--augment rotate,shuffle)."""
    n = len(images)
    cells = images.reshape(n, 28, POSITIONS, 28)
    shifts = range(POSITIONS) if "roll" in ops else [0]
    turns = (False, True) if "rotate" in ops else (False,)
    views = []
    for turn in turns:
        for k in shifts:
            view = np.roll(cells, k, axis=2).reshape(n, 28, -1)     # cell i at (i + k) % 10
            if turn:
                view = view[:, ::-1, ::-1]                          # position j <- 9 - j
            p = np.concatenate([sess.run(probabilities, {images_in: view[i:i + batch_size]})
                                for i in range(0, n, batch_size)])[:, :, 1]
            if turn:
                p = 1.0 - p[:, ::-1]
            views.append(np.roll(p, -k, axis=1))
    return np.stack(views)


def p_inverted(sess, images_in, probabilities, images, ops, batch_size=500):
    """P(inverted) of each cell [N, 10]: the mean over the views of ``ops``."""
    return p_inverted_by_view(sess, images_in, probabilities, images, ops, batch_size).mean(0)


def evaluate(sess, model, images, labels):
    """Accuracy of each position [10], mean per-position accuracy, whole-captcha accuracy."""
    read_once = p_inverted(sess, model["images"], model["probabilities"], images, [])
    correct = (read_once > 0.5) == labels
    return correct.mean(0), float(correct.mean()), float(correct.all(1).mean())


def errors_by_character(predictions, labels, texts, top=20):
    """Where the heads go wrong: the error rate of upright and of inverted characters, and
    the ``top`` characters misjudged most often (count, and how often they were shown)."""
    chars = np.array([list(t) for t in texts])
    wrong = predictions != labels
    shown = collections.Counter(chars.ravel().tolist())
    missed = collections.Counter(chars[wrong].tolist())
    return {"upright_error_rate": float(wrong[labels == 0].mean()),
            "inverted_error_rate": float(wrong[labels == 1].mean()),
            "distinct_characters_wrong": len(missed),
            "most_missed": [[ch, n, shown[ch]] for ch, n in missed.most_common(top)]}


def plot_history(history, test, path):
    plt = cli.pyplot()
    steps = [h["step"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.semilogy(steps, [h["loss"] for h in history], lw=0.8, color="C1")
    ax1.set_xlabel("step")
    ax1.set_ylabel("training cross-entropy")
    val = [h for h in history if "val_per_position" in h]
    ax2.plot([h["step"] for h in val], [h["val_per_position"] for h in val], marker="o",
             label="per position (validation, training fonts, read once)")
    ax2.plot([h["step"] for h in val], [h["val_whole"] for h in val], marker="o",
             label="whole captcha (validation, read once)")
    if test is not None:
        views = "%d views" % test["views"] if test.get("views", 1) > 1 else "read once"
        ax2.axhline(test["per_position_accuracy"], color="C0", ls="--", lw=0.8,
                    label="test, held-out font, %s: per position %.2f%%"
                    % (views, 100 * test["per_position_accuracy"]))
        ax2.axhline(test["whole_captcha_accuracy"], color="C1", ls="--", lw=0.8,
                    label="test, held-out font, %s: whole %.2f%%"
                    % (views, 100 * test["whole_captcha_accuracy"]))
    ax2.set_ylim(0.0, 1.005)
    ax2.set_xlabel("step")
    ax2.set_ylabel("accuracy")
    ax2.legend(loc="lower right", fontsize=8)
    fig.suptitle("Inverted-character captcha CNN")
    fig.tight_layout()
    cli.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    train_meta, train = cjk.load_set(os.path.join(args.data_dir, "train.npz"), GENERATE)
    test_meta, test = cjk.load_set(os.path.join(args.data_dir, "test.npz"), GENERATE)
    for name, arrays in (("train", train), ("test", test)):
        if set(("images", "labels")) - set(arrays) or arrays["images"].shape[1:] != (28, 280):
            raise cli.UserError("%s.npz in %s is not a captcha set; run %s again"
                                % (name, args.data_dir, GENERATE))
    if len(train["images"]) <= args.validation:
        raise cli.UserError("only %d training captchas: fewer than --validation %d; generate "
                            "more or lower --validation" % (len(train["images"]), args.validation))
    x_val, y_val = train["images"][-args.validation:], train["labels"][-args.validation:]
    x_train, y_train = train["images"][:-args.validation], train["labels"][:-args.validation]
    x_test, y_test = test["images"], test["labels"]
    print("data: %d train, %d validation captchas (%s); %d test captchas (held-out font %s)"
          % (len(x_train), len(x_val), ", ".join(train_meta["font_keys"]), len(x_test),
             ", ".join(test_meta["font_keys"])), flush=True)

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    model = build_model(args)

    def validate(sess):
        _, per_position, whole = evaluate(sess, model, x_val, y_val)
        return [("val_per_position", "validation/per_position_accuracy", per_position),
                ("val_whole", "validation/whole_captcha_accuracy", whole)]

    with tf.Session(config=session_config()) as sess:
        history, steps_done, train_seconds = training.fit(
            sess, model, x_train, y_train, args, validate,
            augment=(lambda x, y, rng: augment_batch(x, y, rng, args.augment))
            if args.augment else None)
        start_time = time.time()
        by_view = p_inverted_by_view(sess, model["images"], model["probabilities"], x_test,
                                     args.test_views)
        eval_seconds = time.time() - start_time
        # for TF Serving (and the grader): captchas in, the ten cells' verdicts out
        export = serving.export_saved_model(
            sess, serving.export_dir(args), inputs={"images": model["images"]},
            outputs={"logits": model["logits"], "probabilities": model["probabilities"],
                     "classes": model["predictions"]},
            version=sess.run(model["global_step"]))
    single_correct = (by_view[0] > 0.5) == y_test                   # the captcha as it is
    test_predictions = (by_view.mean(0) > 0.5).astype(y_test.dtype)
    correct = test_predictions == y_test
    positions, per_position, whole = correct.mean(0), float(correct.mean()), float(
        correct.all(1).mean())
    single_view = {"per_position_accuracy": float(single_correct.mean()),
                   "whole_captcha_accuracy": float(single_correct.all(1).mean())}

    test_result = {"per_position_accuracy": per_position, "whole_captcha_accuracy": whole,
                   "views": len(by_view)}
    font = ", ".join(test_meta["font_keys"])
    print("test (held-out font %s, %d captchas), the captcha as it is: per-position accuracy "
          "%.4f, whole-captcha accuracy %.4f" % (font, len(x_test),
                                                 single_view["per_position_accuracy"],
                                                 single_view["whole_captcha_accuracy"]))
    print("test (held-out font %s), views %s: per-position accuracy %.4f, whole-captcha "
          "accuracy %.4f" % (font, ",".join(args.test_views) or "none", per_position, whole))
    print("accuracy by position: %s" % " ".join("%.4f" % a for a in positions))
    result = {
        "script": "apps/captcha/train.py",
        "model": "3 x (conv 3x3 + batch norm + avg-pool 2x2) %d/%d/%d, fc %d, "
                 "10 x 2-way softmax" % tuple(layer_sizes(args.width)),
        "width": args.width,
        "data": "captchas rendered from Debian CJK fonts by apps/captcha/generate.py",
        "train_fonts": train_meta["font_keys"], "test_font": test_meta["font_keys"],
        "font_families": train_meta.get("fonts", {}),
        "generate": {k: train_meta.get(k) for k in ("font_size", "noise", "seed",
                                                     "inverted_per_captcha", "characters",
                                                     "train_augment")},
        "sizes": {"train": len(x_train), "validation": len(x_val), "test": len(x_test)},
        "steps": args.steps, "steps_this_run": steps_done, "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "lr_drop_steps": training.lr_drop_steps(args.steps, args.lr_drops),
        "keep_prob": args.keep_prob, "augment": args.augment, "seed": args.seed,
        "test_views": args.test_views,
        "per_position_accuracy": per_position,
        "whole_captcha_accuracy": whole,
        "single_view": single_view,
        "accuracy_by_position": [float(a) for a in positions],
        # [character, times misjudged, times shown] on the held-out font
        "test_errors": errors_by_character(test_predictions, y_test, test["chars"]),
        "validation_per_position_accuracy": history[-1].get("val_per_position") if history
        else None,
        "validation_whole_captcha_accuracy": history[-1].get("val_whole") if history else None,
        "target": TARGET,
        "meets_target": bool(per_position >= TARGET["per_position_accuracy"]
                             and whole >= TARGET["whole_captcha_accuracy"]),
        "train_seconds_this_run": round(train_seconds, 1),
        "test_seconds": round(eval_seconds, 1),
        "device": (gpu_names() or ["CPU"])[0],
        "tf_version": tf.__version__,
        "history": history,
        "export": export and cli.shown(export),
    }
    if export:
        cli.wrote(export)
    if args.json:
        cli.wrote(cli.write_json(args.json, result))
    if args.plot and history:
        plot_history(history, test_result, args.plot)
        cli.wrote(args.plot)
    return 0


if __name__ == "__main__":
    cli.run(main)
