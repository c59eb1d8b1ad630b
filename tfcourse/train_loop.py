"""The feed-dict training loop of the apps (the captcha, the Chinese characters): not the book's.

:func:`fit` draws shuffled batches, runs the train step, logs the mean loss and the
validation figures to the history, TensorBoard and progress lines, stops on a NaN loss,
and checkpoints with the history (``tfcourse.checkpoints.restore_with_history`` and
``save_with_history``: ``--restore`` continues the curves too; weights and optimizer slots
are checked finite before every save).
"""
import numpy as np

from tfcourse import checkpoints, cli
from tfcourse.compat import tf

#: what to change when the loss or the weights stop being finite
FIX = "lower --learning_rate and train again"


def all_finite_op():
    """One boolean op: every float variable (weights and optimizer slots) is finite."""
    return checkpoints.weights_finite(name="all_finite")


def fit(sess, saver, model, x_train, y_train, args, validate, finite_op, augment=None):
    """The feed-dict training loop of the apps, shared by the captcha and the characters.

    Shuffled batches (reshuffled each epoch, seeded by ``--seed``) of the arrays
    ``x_train``, ``y_train``, or, with ``y_train`` None, of the stream ``x_train`` (an
    object with ``len()`` and ``batches(batch_size, rng)``, such as the HWDB reader of
    apps/chinese_characters, which never holds the whole set); ``model`` has
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
    start, history = checkpoints.restore_with_history(
        saver, sess, args.checkpoint_dir, args.restore, getattr(args, "restore_from", ""),
        counter=model["global_step"])
    history = history or []
    writer = tf.summary.FileWriter(args.checkpoint_dir, sess.graph)
    progress = cli.Progress(args.steps, unit="steps", initial=start)
    batches = (x_train.batches(args.batch_size, rng) if y_train is None
               else shuffled_batches(x_train, y_train, args.batch_size, rng))
    window = []
    for step in range(start + 1, args.steps + 1):
        images, labels = next(batches)
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
        checkpoints.check_finite(loss, step, FIX + " (the non-finite weights were not saved)")
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
            checkpoints.save_with_history(saver, sess, args.checkpoint_dir, step, history,
                                          finite_op, FIX)
    writer.close()
    return history, max(0, args.steps - start), progress.elapsed()


def shuffled_batches(x, y, batch_size, rng):
    """Batches of the arrays ``x``, ``y`` for ever, in an order ``rng`` draws anew at every
    epoch (the last batch of an epoch that would be short is left out)."""
    order, cursor = rng.permutation(len(x)), 0
    while True:
        if cursor + batch_size > len(order):
            order, cursor = rng.permutation(len(x)), 0
        idx = order[cursor:cursor + batch_size]
        cursor += batch_size
        yield x[idx], y[idx]


__all__ = ["all_finite_op", "fit", "shuffled_batches"]
