"""A feed_dict training loop's checkpoints with their history (not the book's code).

The apps' train scripts keep, beside each checkpoint, ``history.json``: the
logged steps, so that ``--restore`` continues the curves too.  The checkpoint
work itself is :mod:`tfcourse.checkpoints` (corrupt or unfitting checkpoints,
``--restore_from``, NaN stops, weights and optimizer slots checked finite
before every save); this module only adds the history:

* :func:`restore_or_initialize` -- ``(start_step, history)``: from the latest
  intact checkpoint when ``restore``, else fresh;
* :func:`check_loss` -- a NaN or infinite loss stops training with the step and
  the flag to change;
* :func:`save` -- ``history.json`` first, then the checkpoint (a kill between the
  two loses nothing), never weights that are not finite;
* :func:`fit` -- the apps' feed-dict loop itself, with all of the above.
"""
import json
import os

import numpy as np

from tfcourse import checkpoints, cli
from tfcourse.compat import tf

HISTORY = "history.json"


def all_finite_op():
    """One boolean op: every float variable (weights and optimizer slots) is finite."""
    return checkpoints.weights_finite(name="all_finite")


def restore_or_initialize(sess, saver, checkpoint_dir, restore, global_step, restore_from=""):
    """``(start_step, history)``: from the latest checkpoint when ``restore``, else fresh."""
    latest = checkpoints.restore_or_init(saver, sess, checkpoint_dir, restore, restore_from)
    if latest is None:
        return 0, []
    history = []
    path = os.path.join(checkpoint_dir, HISTORY)
    if os.path.exists(path):
        with open(path) as f:
            history = json.load(f)
    step = int(sess.run(global_step))
    print("restored %s (step %d)" % (latest, step), flush=True)
    return step, [h for h in history if h["step"] <= step]


def check_loss(loss, step, flag="--learning_rate"):
    checkpoints.check_finite(loss, step, "lower %s and train again (the non-finite weights "
                                         "were not saved)" % flag)


def save(sess, saver, checkpoint_dir, step, history, finite_op):
    """``history.json``, then checkpoint ``model.ckpt-STEP``, unless a weight is NaN/inf."""
    if not sess.run(finite_op):
        raise cli.UserError("weights became non-finite by step %d; lower --learning_rate and "
                            "train again (they were not saved)" % step)
    os.makedirs(checkpoint_dir, exist_ok=True)
    cli.write_json(os.path.join(checkpoint_dir, HISTORY), history)
    checkpoints.save(saver, sess, checkpoint_dir, step, finite_op, "lower --learning_rate")


def fit(sess, saver, model, x_train, y_train, args, validate, finite_op, augment=None):
    """The feed-dict training loop of the apps, shared by the captcha and the characters.

    Shuffled batches (reshuffled each epoch, seeded by ``--seed``); ``model`` has
    images, labels, keep_prob, is_training, train_op, loss, summary and global_step.
    Every ``--log_every`` steps the mean loss and, every ``--eval_every`` steps,
    ``validate(sess)`` -> [(history key, summary tag, value), ...] go into the
    history, TensorBoard and the progress line; a NaN loss stops; checkpoints every
    ``--save_every`` steps and at the end.  ``augment(images, labels, rng)``, when
    given, returns each batch changed (on its own random stream, so the batches
    drawn are those of a run without it).  Returns ``(history, steps done,
    training seconds)``.
    """
    rng = np.random.RandomState(args.seed)
    augment_rng = np.random.RandomState([args.seed, 1])
    start, history = restore_or_initialize(sess, saver, args.checkpoint_dir, args.restore,
                                           model["global_step"])
    writer = tf.summary.FileWriter(args.checkpoint_dir, sess.graph)
    progress = cli.Progress(args.steps, unit="steps", initial=start)
    order, cursor, window = rng.permutation(len(x_train)), 0, []
    for step in range(start + 1, args.steps + 1):
        if cursor + args.batch_size > len(order):
            order, cursor = rng.permutation(len(x_train)), 0
        idx = order[cursor:cursor + args.batch_size]
        cursor += args.batch_size
        images, labels = x_train[idx], y_train[idx]
        if augment is not None:
            images, labels = augment(images, labels, augment_rng)
        feed = {model["images"]: images, model["labels"]: labels,
                model["keep_prob"]: args.keep_prob, model["is_training"]: True}
        if step % args.log_every == 0:
            _, loss, summary = sess.run([model["train_op"], model["loss"], model["summary"]],
                                        feed)
            writer.add_summary(summary, step)
        else:
            _, loss = sess.run([model["train_op"], model["loss"]], feed)
        check_loss(float(loss), step)
        window.append(float(loss))
        if step % args.log_every == 0 or step == args.steps:
            entry = {"step": step, "loss": float(np.mean(window)),
                     "epoch": round(step * args.batch_size / len(x_train), 2)}
            window = []
            if step % args.eval_every == 0 or step == args.steps:
                metrics = validate(sess)
                entry.update((key, value) for key, _, value in metrics)
                writer.add_summary(tf.Summary(value=[
                    tf.Summary.Value(tag=tag, simple_value=value)
                    for _, tag, value in metrics]), step)
            history.append(entry)
            progress.update(step, **{k: v for k, v in entry.items() if k != "step"})
        if step % args.save_every == 0 or step == args.steps:
            save(sess, saver, args.checkpoint_dir, step, history, finite_op)
    writer.close()
    return history, max(0, args.steps - start), progress.elapsed()


__all__ = ["restore_or_initialize", "check_loss", "save", "all_finite_op", "fit"]
