"""Checkpoint plumbing of the training scripts: start fresh or resume, stop on a NaN loss.

    latest = checkpoints.restore_or_initialize(sess, saver, checkpoint_dir, args.restore)
    ...
    checkpoints.check_finite(loss, step, "--learning_rate")   # before any save

:func:`restore_or_initialize` turns a missing or unfitting checkpoint into a
one-line :class:`tfcourse.cli.UserError`; :func:`check_finite` stops training
with exit status 2 naming the step and the flag to change, before the NaN
weights can be saved.
"""
import math

from tfcourse.compat import tf
from tfcourse.cli import UserError


def restore_or_initialize(sess, saver, checkpoint_dir, restore, missing_ok=False):
    """Restore the latest checkpoint of ``checkpoint_dir`` (``restore``) or initialize.

    Returns the restored checkpoint's path, or None when the variables were
    initialized.  With ``missing_ok`` a folder without a checkpoint starts
    fresh instead of being an error (a sweep resumed before all runs began).
    """
    latest = tf.train.latest_checkpoint(checkpoint_dir) if restore else None
    if latest is None:
        if restore and not missing_ok:
            raise UserError("no checkpoint in %s; train without --restore first, or pass "
                            "the right --checkpoint_dir" % checkpoint_dir)
        sess.run(tf.global_variables_initializer())
        return None
    try:
        saver.restore(sess, latest)
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError,
            tf.errors.DataLossError) as exc:
        raise UserError("checkpoint %s does not fit this model (%s); use another "
                        "--checkpoint_dir" % (latest, exc.message.splitlines()[0])) from exc
    return latest


def check_finite(value, step, flag):
    """Raise a UserError when the loss ``value`` at ``step`` is NaN or infinite."""
    value = float(value)
    if not math.isfinite(value):
        raise UserError("the loss became %s at step %d; training stopped and nothing was "
                        "saved; try a smaller %s" % (value, step, flag))
    return value
