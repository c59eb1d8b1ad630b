"""Checkpoints that are safe to resume from: restore or initialize, verify, never save NaN.

Every training script restores and saves through here::

    saver = tf.train.Saver(max_to_keep=3)
    finite = checkpoints.weights_finite()            # one op over every float variable
    with tf.Session(config=session_config()) as sess:
        restored = checkpoints.restore_or_init(saver, sess, args.checkpoint_dir, args.restore,
                                               args.restore_from)
        ...
        checkpoints.check_finite(loss, step, "lower --learning_rate (now %g)" % lr)
        checkpoints.save(saver, sess, args.checkpoint_dir, step, finite, hint)

* a missing checkpoint names the folder searched;
* a corrupt one (truncated or garbled ``.index`` or ``.data`` file) names the
  file and the newest older checkpoint that is still intact, which
  ``--restore_from PATH`` restores instead;
* an intact checkpoint of another model says that it does not fit;
* a loss or weights that went NaN/inf stop training with exit 2 naming the
  step and the flag to change, and are never written as a checkpoint.
"""
import glob
import json
import math
import os

from tfcourse.cli import UserError, write_json
from tfcourse.compat import tf


def add_restore_from_flag(parser):
    """``--restore_from PATH``: restore this checkpoint (e.g. an older, intact one)."""
    parser.add_argument("--restore_from", default="", metavar="PATH",
                        help="restore this checkpoint prefix (e.g. DIR/model.ckpt-300, an older "
                             "one named by an error) instead of the latest")


def _first_line(exc):
    text = str(getattr(exc, "message", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:160]


def corruption(prefix):
    """``None`` when checkpoint ``prefix`` reads back whole; else (file, reason).

    Opens the ``.index`` table and reads every tensor from the ``.data``
    shards, so a truncated file of either kind is found before a restore.
    """
    index = prefix + ".index"
    if not os.path.exists(index):
        return index, "missing"
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception as exc:  # DataLossError, OpError: not an sstable
        return index, _first_line(exc)
    data = sorted(glob.glob(prefix + ".data-*")) or [prefix + ".data-*"]
    try:
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception as exc:  # IndexError "Read less bytes than requested", DataLossError
        return data[0] if len(data) == 1 else ", ".join(data), _first_line(exc)
    return None


def checkpoint_paths(checkpoint_dir):
    """The checkpoints listed in ``checkpoint_dir``'s state file, newest first."""
    state = tf.train.get_checkpoint_state(checkpoint_dir) if os.path.isdir(checkpoint_dir) else None
    if state is None:
        return []
    paths = list(state.all_model_checkpoint_paths) or [state.model_checkpoint_path]
    if state.model_checkpoint_path and state.model_checkpoint_path not in paths:
        paths.append(state.model_checkpoint_path)
    paths = [p if os.path.isabs(p) else os.path.join(checkpoint_dir, p) for p in paths]
    return list(reversed(paths))


def latest_intact(checkpoint_dir, restore_from=""):
    """The checkpoint to restore: ``restore_from`` or the latest; a UserError if none is usable."""
    if restore_from:
        latest, older = restore_from, []
        if not os.path.exists(latest + ".index"):
            raise UserError("--restore_from %s: no such checkpoint (%s.index is missing); pass a "
                            "prefix such as DIR/model.ckpt-300" % (latest, latest))
    else:
        listed = checkpoint_paths(checkpoint_dir)
        latest = tf.train.latest_checkpoint(checkpoint_dir) if listed else None
        if latest is None:
            raise UserError("no checkpoint in %s; train without --restore first, or pass the "
                            "right --checkpoint_dir" % checkpoint_dir)
        older = [p for p in listed if os.path.normpath(p) != os.path.normpath(latest)]
    bad = corruption(latest)
    if bad is None:
        return latest
    intact = next((p for p in older if corruption(p) is None), None)
    fix = ("the previous checkpoint %s is intact: rerun with --restore_from %s" % (intact, intact)
           if intact else "no older intact checkpoint is left: train without --restore")
    raise UserError("checkpoint %s is corrupt (%s: %s); %s" % (latest, bad[0], bad[1], fix))


def restore_or_init(saver, sess, checkpoint_dir, restore, restore_from="", what="this model"):
    """Restore the latest (or ``restore_from``) checkpoint, or initialize; returns its path."""
    if not (restore or restore_from):
        sess.run(tf.global_variables_initializer())
        return None
    path = latest_intact(checkpoint_dir, restore_from)
    try:
        saver.restore(sess, path)
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError) as exc:
        raise UserError("checkpoint %s is intact but does not fit %s (%s); pass the flags it "
                        "was trained with or another --checkpoint_dir"
                        % (path, what, _first_line(exc)))
    return path


def check_finite(value, step, fix):
    """Stop (exit 2) when a loss is NaN or infinite; ``fix`` names the flag to change."""
    if not math.isfinite(float(value)):
        raise UserError("the loss is %s at step %d: training diverged and nothing after the last "
                        "checkpoint was saved; %s" % (float(value), step, fix))


def weights_finite(variables=None, name="weights_finite"):
    """A boolean op: every value of ``variables`` is finite.

    Default: every floating-point global variable, the optimizer's slots too
    (Adam's second moment can overflow to inf while the weights are still finite).
    """
    if variables is None:
        variables = [v for v in tf.global_variables() if v.dtype.base_dtype.is_floating]
    with tf.name_scope(name):
        return tf.reduce_all(tf.stack([tf.reduce_all(tf.is_finite(v)) for v in variables]))


def _check_weights_finite(sess, finite_op, step, fix):
    if not sess.run(finite_op):
        raise UserError("the weights or optimizer state hold NaN or inf at step %d: training "
                        "diverged; they are not saved; %s" % (step, fix))


def save(saver, sess, checkpoint_dir, step, finite_op, fix, prefix="model.ckpt"):
    """Save a checkpoint of ``step`` unless a weight is NaN/inf (then stop, exit 2)."""
    _check_weights_finite(sess, finite_op, step, fix)
    _make_folder(checkpoint_dir)
    return _write(saver, sess, checkpoint_dir, step, prefix)


def _make_folder(checkpoint_dir):
    try:
        os.makedirs(checkpoint_dir, exist_ok=True)
    except OSError as exc:
        raise UserError("cannot create --checkpoint_dir %s (%s); pass another one"
                        % (checkpoint_dir, exc.strerror)) from exc


def _write(saver, sess, checkpoint_dir, step, prefix):
    try:
        return saver.save(sess, os.path.join(checkpoint_dir, prefix), global_step=step)
    except (tf.errors.PermissionDeniedError, tf.errors.NotFoundError,
            tf.errors.FailedPreconditionError, tf.errors.UnknownError) as exc:
        raise UserError("cannot write a checkpoint in %s (%s); pass another --checkpoint_dir"
                        % (checkpoint_dir, _first_line(exc)))


#: beside the checkpoints: what the run logged (its curves), so that --restore continues them
HISTORY = "history.json"


def _trim(history, key, upto, inclusive):
    """``history`` (a list of dict entries, or a dict of such lists) without the entries logged
    after ``upto``; other values unchanged."""
    if isinstance(history, list):
        return [h for h in history if not isinstance(h, dict) or key not in h
                or (h[key] <= upto if inclusive else h[key] < upto)]
    if isinstance(history, dict):
        return {k: _trim(v, key, upto, inclusive) for k, v in history.items()}
    return history


def restore_with_history(saver, sess, checkpoint_dir, restore, restore_from="", counter=None,
                         key="step", inclusive=True, what="this model"):
    """Restore (``restore``/``restore_from``) or initialise, and read the history of the run.

    Returns ``(done, history)``: ``done`` is ``sess.run(counter)`` after the restore (the
    global step, or the epochs done), 0 for a fresh start; ``history`` is what
    ``history.json`` beside the checkpoints holds, without the entries logged after the
    restored point (entries whose ``key`` is above ``done``; with ``inclusive=False`` also
    the entry at ``done``, for loops that log before the step runs and so log it again),
    or None for a fresh start or when the file is missing.  The one routine every script
    that resumes uses, so that the curves of a resumed run continue exactly where its
    checkpoint stopped (an older checkpoint, ``--restore_from``, drops the later entries).
    """
    latest = restore_or_init(saver, sess, checkpoint_dir, restore, restore_from, what)
    if latest is None:
        return 0, None
    done = int(sess.run(counter)) if counter is not None else 0
    history = None
    path = os.path.join(checkpoint_dir, HISTORY)
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                history = _trim(json.load(f), key, done, inclusive)
        except ValueError as exc:
            raise UserError("%s is corrupt (%s); delete it to resume without the earlier "
                            "curves" % (path, exc))
    print("restored %s (%s %d)" % (latest, key, done), flush=True)
    return done, history


def save_with_history(saver, sess, checkpoint_dir, step, history, finite_op, fix,
                      prefix="model.ckpt"):
    """``history.json`` first, then the checkpoint of ``step`` (a kill between the two loses
    no logged entry: the restore drops what came after its checkpoint); never weights that
    are not finite (exit 2 with ``fix``)."""
    _check_weights_finite(sess, finite_op, step, fix)
    _make_folder(checkpoint_dir)
    write_json(os.path.join(checkpoint_dir, HISTORY), history)
    return _write(saver, sess, checkpoint_dir, step, prefix)


class FiniteWeightsListener(tf.train.CheckpointSaverListener):
    """For ``CheckpointSaverHook``: refuse to save NaN/inf weights (stops the run, exit 2)."""

    def __init__(self, finite_op, fix):
        self.finite_op = finite_op
        self.fix = fix

    def before_save(self, session, global_step_value):
        if not session.run(self.finite_op):
            raise UserError("the weights or optimizer state hold NaN or inf at global step %d: "
                            "training diverged; they are not saved; %s"
                            % (global_step_value, self.fix))
