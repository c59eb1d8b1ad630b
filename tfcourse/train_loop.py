"""Checkpoint plumbing of a feed_dict training loop (not the book's code; used by the apps).

* :func:`restore_or_initialize` -- ``--restore`` resumes at the checkpoint's
  global step (with the saved history), otherwise the variables are
  initialised; a missing or unfitting checkpoint is one line, exit 2;
* :func:`check_loss` -- a NaN or infinite loss stops training with the step
  and the flag to change;
* :func:`save` -- a checkpoint and its history, but never weights that are
  not finite.
"""
import json
import math
import os

from tfcourse import cli
from tfcourse.compat import tf

HISTORY = "history.json"


def all_finite_op():
    """One boolean op: every trainable variable is finite."""
    with tf.name_scope("all_finite"):
        return tf.reduce_all(tf.stack([tf.reduce_all(tf.is_finite(v))
                                       for v in tf.trainable_variables()]))


def restore_or_initialize(sess, saver, checkpoint_dir, restore, global_step):
    """``(start_step, history)``: from the latest checkpoint when ``restore``, else fresh."""
    if not restore:
        sess.run(tf.global_variables_initializer())
        return 0, []
    latest = tf.train.latest_checkpoint(checkpoint_dir) if os.path.isdir(checkpoint_dir) else None
    if latest is None:
        raise cli.UserError("no checkpoint in %s; train without --restore first, or pass the "
                            "right --checkpoint_dir" % checkpoint_dir)
    try:
        saver.restore(sess, latest)
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError,
            tf.errors.DataLossError) as exc:
        raise cli.UserError("checkpoint %s does not fit this model (%s); use another "
                            "--checkpoint_dir" % (latest, exc.message.splitlines()[0][:120]))
    history = []
    path = os.path.join(checkpoint_dir, HISTORY)
    if os.path.exists(path):
        with open(path) as f:
            history = json.load(f)
    step = int(sess.run(global_step))
    print("restored %s (step %d)" % (latest, step), flush=True)
    return step, [h for h in history if h["step"] <= step]


def check_loss(loss, step, flag="--learning_rate"):
    if not math.isfinite(loss):
        raise cli.UserError("the loss became %s at step %d; lower %s and train again (the "
                            "non-finite weights were not saved)" % (loss, step, flag))


def save(sess, saver, checkpoint_dir, step, history, finite_op):
    """Checkpoint ``model.ckpt-STEP`` and ``history.json``, unless a weight is NaN/inf."""
    if not sess.run(finite_op):
        raise cli.UserError("weights became non-finite by step %d; lower --learning_rate and "
                            "train again (they were not saved)" % step)
    os.makedirs(checkpoint_dir, exist_ok=True)
    saver.save(sess, os.path.join(checkpoint_dir, "model.ckpt"), global_step=step)
    cli.write_json(os.path.join(checkpoint_dir, HISTORY), history)
