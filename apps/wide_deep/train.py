"""Wide & Deep Learning (Cheng et al. 2016) on the UCI Adult census income data, TF1 graph mode.

    python setup/get_data.py census                       # adult.data, adult.test (UCI only)
    python apps/wide_deep/train.py --model all            # wide, deep and wide_deep in turn
    tensorboard --logdir runs/wide_deep

Blog part 10 sums up the talk "Wide & Deep In Google Play" (app
recommendation; offline AUC 0.726 wide, 0.722 deep, 0.728 wide & deep): not
this data, and not comparable.  Here the model predicts whether a person
earns more than $50K a year, as in TensorFlow's
census tutorial (wide_n_deep_tutorial.py), with the feature columns of
tf.contrib.layers / tf.feature_column written out by hand, since current
TensorFlow has neither tf.estimator nor feature columns:

* wide part: a linear model over one-hot categorical columns (vocabulary
  lists, or hash buckets for occupation and native country), bucketised age,
  and hashed crosses (education x occupation, age buckets x education x
  occupation, native country x occupation), trained with FTRL;
* deep part: 8-d embeddings of the categorical columns plus the standardised
  continuous columns, hidden layers 100-50 (ReLU), trained with Adagrad (or
  Adam);
* wide_deep: the sum of both logits, one sigmoid cross entropy, each part
  trained by its own optimizer (as DNNLinearCombinedClassifier does).

Feature ids are computed in Python before they are fed (vocabulary index,
or a stable BLAKE2 hash of the value modulo the bucket count, so hashing is
the same in every run and on every machine), so the graph holds only
lookups, matmuls and the optimizers.
"""
import argparse
import hashlib
import math
import os
import shutil

import numpy as np

from tfcourse.compat import tf, slim, session_config
from tfcourse import cli, checkpoints
from tfcourse.datasets import census

NAME = "wide_deep"
MODELS = ("wide", "deep", "wide_deep")
TARGET_TEST_ACCURACY = 0.85   # what the ports of TensorFlow's census tutorial report

# ------------------------------------------------------------ feature columns
# categorical columns with a known vocabulary; an unknown value gets the last id
VOCABULARIES = {
    "gender": ["Female", "Male"],
    "race": ["White", "Asian-Pac-Islander", "Amer-Indian-Eskimo", "Other", "Black"],
    "education": ["Bachelors", "HS-grad", "11th", "Masters", "9th", "Some-college",
                  "Assoc-acdm", "Assoc-voc", "7th-8th", "Doctorate", "Prof-school",
                  "5th-6th", "10th", "1st-4th", "Preschool", "12th"],
    "marital_status": ["Married-civ-spouse", "Divorced", "Married-spouse-absent",
                       "Never-married", "Separated", "Married-AF-spouse", "Widowed"],
    "relationship": ["Husband", "Not-in-family", "Wife", "Own-child", "Unmarried",
                     "Other-relative"],
    "workclass": ["Self-emp-not-inc", "Private", "State-gov", "Federal-gov", "Local-gov", "?",
                  "Self-emp-inc", "Without-pay", "Never-worked"],
}
# categorical columns hashed into buckets ("?" is one more value)
HASH_BUCKETS = {"occupation": 1000, "native_country": 1000}
AGE_BOUNDARIES = [18, 25, 30, 35, 40, 45, 50, 55, 60, 65]
CROSSES = [(("education", "occupation"), int(1e4)),
           (("age_buckets", "education", "occupation"), int(1e6)),
           (("native_country", "occupation"), int(1e4))]
CONTINUOUS = ["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]

CATEGORICAL = list(VOCABULARIES) + list(HASH_BUCKETS)
#: (name, number of ids) of every wide column, in the order of the wide_ids columns
WIDE_COLUMNS = ([(c, len(VOCABULARIES[c]) + 1) for c in VOCABULARIES]
                + [(c, n) for c, n in HASH_BUCKETS.items()]
                + [("age_buckets", len(AGE_BOUNDARIES) + 1)]
                + [("_x_".join(cols), n) for cols, n in CROSSES])
#: (name, number of ids) of every embedded column, in the order of the deep_ids columns
DEEP_COLUMNS = WIDE_COLUMNS[:len(CATEGORICAL)]


def stable_hash_bucket(text, buckets):
    """The bucket of ``text``: BLAKE2b (8 bytes) modulo ``buckets``; the same everywhere
    (unlike Python's salted hash())."""
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % buckets


def category_ids(name, values):
    if name in VOCABULARIES:
        index = {v: i for i, v in enumerate(VOCABULARIES[name])}
        oov = len(VOCABULARIES[name])
        return np.array([index.get(v, oov) for v in values], dtype=np.int64)
    return np.array([stable_hash_bucket(v, HASH_BUCKETS[name]) for v in values], dtype=np.int64)


def encode(rows, continuous_mean, continuous_std):
    """Feature ids and values of census ``rows`` (from census.read): a dict of arrays."""
    ids = {name: category_ids(name, rows[name]) for name in CATEGORICAL}
    age = np.nan_to_num(rows["age"], nan=continuous_mean[0])
    ids["age_buckets"] = np.searchsorted(AGE_BOUNDARIES, age, side="right").astype(np.int64)
    strings = dict((name, rows[name]) for name in CATEGORICAL)
    strings["age_buckets"] = [str(b) for b in ids["age_buckets"]]
    for cols, buckets in CROSSES:
        keys = ["\x1f".join(parts) for parts in zip(*(strings[c] for c in cols))]
        ids["_x_".join(cols)] = np.array([stable_hash_bucket(k, buckets) for k in keys],
                                         dtype=np.int64)
    values = np.stack([rows[c] for c in CONTINUOUS], axis=1)
    values = np.where(np.isnan(values), continuous_mean, values)   # "?" -> the training mean
    return {"wide_ids": np.stack([ids[name] for name, _ in WIDE_COLUMNS], axis=1),
            "deep_ids": np.stack([ids[name] for name, _ in DEEP_COLUMNS], axis=1),
            "continuous": ((values - continuous_mean) / continuous_std).astype(np.float32),
            "labels": rows["label"].astype(np.float32)}


# ------------------------------------------------------------------- the model
def wide_part(wide_ids):
    """Linear model: one weight per id of every wide column, summed, plus a bias."""
    with tf.variable_scope("linear"):
        terms = []
        for i, (name, size) in enumerate(WIDE_COLUMNS):
            with tf.variable_scope(name):
                weights = tf.get_variable("weights", [size, 1],
                                          initializer=tf.zeros_initializer())
                terms.append(tf.nn.embedding_lookup(weights, wide_ids[:, i]))
        bias = tf.get_variable("bias", [1], initializer=tf.zeros_initializer())
        return tf.add_n(terms) + bias


def deep_part(deep_ids, continuous, embedding_dim, hidden_units, keep_prob):
    """Embeddings of the categorical columns + continuous columns -> ReLU layers -> 1 logit."""
    with tf.variable_scope("dnn"):
        pieces = []
        with tf.variable_scope("input_from_feature_columns"):
            for i, (name, size) in enumerate(DEEP_COLUMNS):
                table = tf.get_variable(
                    name + "_embedding", [size, embedding_dim],
                    initializer=tf.truncated_normal_initializer(stddev=1 / math.sqrt(
                        embedding_dim)))
                pieces.append(tf.nn.embedding_lookup(table, deep_ids[:, i]))
        net = tf.concat(pieces + [continuous], 1)
        with slim.arg_scope([slim.fully_connected], activation_fn=tf.nn.relu):
            for n, units in enumerate(hidden_units):
                net = slim.fully_connected(net, units, scope="hiddenlayer_%d" % n)
                net = tf.nn.dropout(net, keep_prob)
            return slim.fully_connected(net, 1, activation_fn=None, scope="logits")


def build_model(model, args):
    """Placeholders, logits, loss and the training op of ``model`` (wide, deep or wide_deep)."""
    wide_ids = tf.placeholder(tf.int64, [None, len(WIDE_COLUMNS)], name="wide_ids")
    deep_ids = tf.placeholder(tf.int64, [None, len(DEEP_COLUMNS)], name="deep_ids")
    continuous = tf.placeholder(tf.float32, [None, len(CONTINUOUS)], name="continuous")
    labels = tf.placeholder(tf.float32, [None], name="labels")
    keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")

    logits = 0.0
    if model in ("wide", "wide_deep"):
        logits += wide_part(wide_ids)
    if model in ("deep", "wide_deep"):
        logits += deep_part(deep_ids, continuous, args.embedding_dim, args.hidden_units,
                            keep_prob)
    logits = tf.reshape(logits, [-1])
    probabilities = tf.sigmoid(logits, name="probabilities")

    with tf.name_scope("loss"):
        losses = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        loss = tf.reduce_mean(losses)
    with tf.name_scope("accuracy"):
        predictions = tf.cast(probabilities > 0.5, tf.float32)
        accuracy = tf.reduce_mean(tf.cast(tf.equal(predictions, labels), tf.float32))

    global_step = tf.Variable(0, trainable=False, name="global_step", dtype=tf.int64)
    with tf.name_scope("train"):
        train_ops = []
        if model in ("wide", "wide_deep"):
            ftrl = tf.train.FtrlOptimizer(args.wide_learning_rate)
            train_ops.append(ftrl.minimize(loss, var_list=tf.trainable_variables("linear")))
            tf.summary.scalar("wide_learning_rate", args.wide_learning_rate)
        if model in ("deep", "wide_deep"):
            if args.deep_optimizer == "adam":
                deep_opt = tf.train.AdamOptimizer(args.deep_learning_rate)
            else:
                deep_opt = tf.train.AdagradOptimizer(args.deep_learning_rate)
            train_ops.append(deep_opt.minimize(loss, var_list=tf.trainable_variables("dnn")))
            tf.summary.scalar("deep_learning_rate", args.deep_learning_rate)
        with tf.control_dependencies(train_ops):
            train_op = tf.assign_add(global_step, 1)

    tf.summary.scalar("loss", loss)
    tf.summary.scalar("accuracy", accuracy)
    for var in tf.trainable_variables():
        if var.shape.num_elements() <= 100000:  # not the 1e6-bucket cross: too costly to bin
            tf.summary.histogram(var.op.name, var)
    summaries = tf.summary.merge_all()
    return dict(wide_ids=wide_ids, deep_ids=deep_ids, continuous=continuous, labels=labels,
                keep_prob=keep_prob, losses=losses, loss=loss, probabilities=probabilities,
                train_op=train_op, global_step=global_step, summaries=summaries)


# ------------------------------------------------------------------ training
def feed(model, data, index=None):
    pick = (lambda a: a) if index is None else (lambda a: a[index])
    return {model[key]: pick(data[key]) for key in ("wide_ids", "deep_ids", "continuous",
                                                    "labels")}


def auc(labels, scores):
    """Area under the ROC curve (the Mann-Whitney U statistic, ties counted half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks of tied scores
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for start, count in zip(first, counts):
        ranks[order[start:start + count]] = start + (count + 1) / 2.0
    positives = labels == 1
    n_pos, n_neg = positives.sum(), (~positives).sum()
    if n_pos == 0 or n_neg == 0:
        return None
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def evaluate(sess, model, data, batch_size=5000):
    losses, probs = [], []
    for start in range(0, len(data["labels"]), batch_size):
        index = slice(start, start + batch_size)
        batch_losses, batch_probs = sess.run([model["losses"], model["probabilities"]],
                                             feed(model, data, index))
        losses.append(batch_losses)
        probs.append(batch_probs)
    losses, probs = np.concatenate(losses), np.concatenate(probs)
    labels = data["labels"]
    return {"loss": float(losses.mean()),
            "accuracy": float(((probs > 0.5) == (labels == 1)).mean()),
            "auc": auc(labels, probs)}


def train_one(name, args, train, test):
    """Train ``name`` for --epochs; checkpoints and events in --checkpoint_dir/NAME."""
    logdir = os.path.join(args.checkpoint_dir, name)
    if not args.restore and os.path.isdir(logdir):
        shutil.rmtree(logdir)  # a fresh run: old event files would overlay the new curves
    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    model = build_model(name, args)
    saver = tf.train.Saver(max_to_keep=2)
    n = len(train["labels"])
    steps_per_epoch = int(math.ceil(n / args.batch_size))
    total = steps_per_epoch * args.epochs
    flag = {"wide": "--wide_learning_rate", "deep": "--deep_learning_rate",
            "wide_deep": "--wide_learning_rate or --deep_learning_rate"}[name]
    finite = checkpoints.weights_finite()
    rng = np.random.RandomState(args.seed)

    with tf.Session(config=session_config()) as sess:
        step, history = checkpoints.restore_with_history(saver, sess, logdir, args.restore,
                                                         counter=model["global_step"])
        history = history or []
        os.makedirs(logdir, exist_ok=True)
        writer = tf.summary.FileWriter(os.path.join(logdir, "train"), sess.graph)
        test_writer = tf.summary.FileWriter(os.path.join(logdir, "test"))

        def record(epoch, train_loss):
            metrics = evaluate(sess, model, test)
            history.append(dict(epoch=epoch, step=step, train_loss=train_loss,
                                test_loss=metrics["loss"], test_accuracy=metrics["accuracy"],
                                test_auc=metrics["auc"]))
            test_writer.add_summary(tf.Summary(value=[
                tf.Summary.Value(tag="loss", simple_value=metrics["loss"]),
                tf.Summary.Value(tag="accuracy", simple_value=metrics["accuracy"])]), step)
            print("%s: epoch %d, step %d, train loss %s, test loss %.4f, test accuracy %.4f, "
                  "AUC %s" % (name, epoch, step, "-" if train_loss is None else
                              "%.4f" % train_loss, metrics["loss"], metrics["accuracy"],
                              "-" if metrics["auc"] is None else "%.4f" % metrics["auc"]),
                  flush=True)

        if not history:
            record(0, None)      # before training: where the loss starts
        progress = cli.Progress(total=total, unit="steps", initial=step, prefix=name + ": ")
        epoch_losses = []
        while step < total:
            epoch = step // steps_per_epoch
            order = rng.permutation(n)
            first = step - epoch * steps_per_epoch  # resumed mid-epoch: the rest of it
            for b in range(first, steps_per_epoch):
                # always a full batch: the last one of an epoch wraps round to its start (a
                # one-row batch would be one large, noisy step that can undo the epoch)
                index = order[np.arange(b * args.batch_size, (b + 1) * args.batch_size) % n]
                fetches = [model["train_op"], model["loss"]]
                if step % args.summary_every == 0:
                    fetches.append(model["summaries"])
                out = sess.run(fetches, feed(model, train, index))
                checkpoints.check_finite(out[1], step, "try a smaller " + flag)
                if len(out) == 3:
                    writer.add_summary(out[2], step)
                epoch_losses.append(float(out[1]))
                step += 1
                if step % args.log_every == 0:
                    progress.update(step, loss=float(np.mean(epoch_losses[-args.log_every:])))
            if (epoch + 1) % args.epochs_between_evals == 0 or step == total:
                record(epoch + 1, float(np.mean(epoch_losses)))
                epoch_losses = []
                checkpoints.save_with_history(saver, sess, logdir, step, history, finite,
                                              "try a smaller " + flag)
        writer.close()
        test_writer.close()
        final = evaluate(sess, model, test)

    return {"test_accuracy": final["accuracy"], "test_auc": final["auc"],
            "test_loss": final["loss"], "initial_test_loss": history[0]["test_loss"],
            "steps": total, "checkpoint_dir": os.path.abspath(logdir), "history": history}


def plot(results, data_name, standard, path):
    plt = cli.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for name, r in results.items():
        epochs = [h["epoch"] for h in r["history"]]
        ax1.plot(epochs, [h["test_accuracy"] for h in r["history"]], marker=".",
                 label="%s: %.2f%%" % (name, 100 * r["test_accuracy"]))
        ax2.plot(epochs, [h["test_loss"] for h in r["history"]], marker=".", label=name)
    if standard:  # the figure belongs to the UCI files only
        ax1.axhline(TARGET_TEST_ACCURACY, color="gray", ls="--", lw=0.8,
                    label="tutorial ports: %.0f%%" % (100 * TARGET_TEST_ACCURACY))
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("test accuracy")
    ax1.legend(loc="lower right")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("test cross entropy")
    ax2.legend()
    fig.suptitle("Wide & Deep on %s" % data_name)
    fig.tight_layout()
    cli.save_figure(fig, path)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default="wide_deep", choices=list(MODELS) + ["all"],
                        help="wide (linear), deep (DNN), wide_deep (both), or all three")
    cli.add_data_dir(parser, "census")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--epochs_between_evals", type=int, default=2)
    parser.add_argument("--batch_size", type=int, default=40)
    parser.add_argument("--wide_learning_rate", type=cli.finite_float, default=0.2,
                        help="FTRL learning rate of the linear part")
    parser.add_argument("--deep_learning_rate", type=cli.finite_float, default=0.05,
                        help="learning rate of the DNN part")
    parser.add_argument("--deep_optimizer", choices=["adagrad", "adam"], default="adagrad")
    parser.add_argument("--hidden_units", default="100,50", help="DNN layer sizes")
    parser.add_argument("--embedding_dim", type=int, default=8)
    parser.add_argument("--keep_prob", type=cli.finite_float, default=1.0,
                        help="dropout keep probability of the DNN layers")
    parser.add_argument("--summary_every", type=int, default=100)
    parser.add_argument("--log_every", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    cli.add_checkpoint_flags(parser, NAME)
    cli.add_output_flags(parser, NAME)
    args = parser.parse_args(argv)
    for name in ("epochs", "epochs_between_evals", "batch_size", "wide_learning_rate",
                 "deep_learning_rate", "embedding_dim", "summary_every", "log_every"):
        cli.check_positive("--" + name, getattr(args, name))
    if not 0.0 < args.keep_prob <= 1.0:
        raise cli.UserError("--keep_prob must be in (0, 1], got %g" % args.keep_prob)
    try:
        args.hidden_units = [int(u) for u in args.hidden_units.split(",")]
    except ValueError:
        raise cli.UserError("--hidden_units must be comma-separated integers, e.g. 100,50")
    if min(args.hidden_units) < 1:
        raise cli.UserError("--hidden_units must be positive")
    cli.check_outputs(args, "--json", "--plot", folders=("--checkpoint_dir",))  # before any work
    return args


def main(argv=None):
    args = parse_args(argv)
    train_rows, test_rows = census.load(args.data_dir)
    mean = np.array([np.nanmean(train_rows[c]) for c in CONTINUOUS])
    std = np.array([np.nanstd(train_rows[c]) for c in CONTINUOUS])
    std[~(std > 0)] = 1.0
    train, test = encode(train_rows, mean, std), encode(test_rows, mean, std)
    standard = all(len(rows["label"]) == census.STANDARD_ROWS[name]
                   for rows, name in ((train_rows, "adult.data"), (test_rows, "adult.test")))
    data_name = "UCI Adult" if standard else "census-format rows (not the UCI files)"
    print("data: %d training, %d test rows from %s (%s); %.1f%% of the test rows earn >50K"
          % (len(train["labels"]), len(test["labels"]), args.data_dir, data_name,
             100 * test["labels"].mean()))

    names = list(MODELS) if args.model == "all" else [args.model]
    results = {name: train_one(name, args, train, test) for name in names}
    for name, r in results.items():
        print("%s: test accuracy %.4f, AUC %s" % (name, r["test_accuracy"], r["test_auc"]))
    result = {"data_dir": os.path.abspath(args.data_dir), "data": data_name,
              "standard_uci_files": standard, "train_examples": len(train["labels"]),
              "test_examples": len(test["labels"]),
              "accuracy_baseline": float(max(test["labels"].mean(), 1 - test["labels"].mean())),
              "target_test_accuracy": TARGET_TEST_ACCURACY, "epochs": args.epochs,
              "batch_size": args.batch_size, "wide_learning_rate": args.wide_learning_rate,
              "deep_learning_rate": args.deep_learning_rate,
              "deep_optimizer": args.deep_optimizer, "hidden_units": args.hidden_units,
              "embedding_dim": args.embedding_dim, "seed": args.seed,
              "tf_version": tf.__version__, "models": results}
    if args.json:
        cli.write_json(args.json, result)
        cli.wrote(args.json)
    if args.plot:
        plot(results, data_name, standard, args.plot)
        cli.wrote(args.plot)
    return 0


if __name__ == "__main__":
    cli.run(main)
