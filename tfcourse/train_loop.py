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
  two loses nothing), never weights that are not finite.
"""
import json
import os

from tfcourse import checkpoints, cli

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


__all__ = ["restore_or_initialize", "check_loss", "save", "all_finite_op"]
