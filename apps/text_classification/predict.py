"""Classify sentences with a TextCNN checkpoint written by train.py.

    python apps/text_classification/predict.py "a gripping , beautifully acted film"
    echo "这本书写得太好了" | python apps/text_classification/predict.py --dataset chnsenti
    python apps/text_classification/predict.py --checkpoint_dir DIR --json out.json < sentences.txt

Prints one line per sentence: label, P(label), P(positive), the sentence.
The graph comes back from the checkpoint's .meta file (tf.train.import_meta_graph),
the vocabulary and tokenizer settings from vocab.json beside it.
"""
import argparse
import os
import sys

import numpy as np

from tfcourse.compat import tf, session_config
from tfcourse import cli

import text_data


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("sentences", nargs="*",
                   help="sentences to classify (none: read one per line from stdin)")
    p.add_argument("--dataset", default="mr", choices=("mr", "chnsenti"),
                   help="picks the default --checkpoint_dir runs/textcnn_DATASET")
    p.add_argument("--checkpoint_dir", default=None,
                   help="folder train.py wrote (default runs/textcnn_DATASET)")
    p.add_argument("--json", default="", metavar="PATH",
                   help="also write the predictions to this JSON file (default: '', none)")
    args = p.parse_args(argv)
    args.checkpoint_dir = args.checkpoint_dir or cli.run_dir("textcnn_" + args.dataset)
    cli.check_outputs(args, "--json")
    return args


def load_model(sess, checkpoint_dir):
    """Restore graph and weights; returns (input_x, probabilities) tensors."""
    checkpoint = None
    if os.path.isdir(checkpoint_dir):
        checkpoint = tf.train.latest_checkpoint(checkpoint_dir)
    if checkpoint is None:
        raise cli.UserError("no checkpoint in %s; train first (python "
                            "apps/text_classification/train.py) or pass --checkpoint_dir"
                            % checkpoint_dir)
    try:
        saver = tf.train.import_meta_graph(checkpoint + ".meta")
        saver.restore(sess, checkpoint)
    except (OSError, tf.errors.OpError, ValueError) as exc:
        raise cli.UserError("cannot restore %s (%s); train again"
                            % (checkpoint, str(exc).splitlines()[0][:120]))
    graph = sess.graph
    return (graph.get_tensor_by_name("input_x:0"),
            graph.get_tensor_by_name("output/probabilities:0"))


def main(argv=None):
    args = parse_args(argv)
    sentences = args.sentences or [line.strip() for line in sys.stdin if line.strip()]
    if not sentences:
        raise cli.UserError("no sentences: pass them as arguments or one per line on stdin")
    meta = text_data.load_meta(args.checkpoint_dir)
    tokens = [text_data.tokenize(s, meta["tokens"]) for s in sentences]
    x = text_data.encode(tokens, meta["vocab"], meta["max_len"])

    with tf.Session(graph=tf.Graph(), config=session_config()) as sess:
        input_x, probabilities = load_model(sess, args.checkpoint_dir)
        probs = sess.run(probabilities, {input_x: x})   # dropout_keep_prob defaults to 1.0

    labels = meta["labels"]
    predictions = []
    for sentence, p in zip(sentences, probs):
        k = int(np.argmax(p))
        predictions.append({"sentence": sentence, "label": labels[k],
                            "probability": float(p[k]),
                            "probabilities": {labels[i]: float(v) for i, v in enumerate(p)}})
        print("%-8s %.3f  P(positive)=%.3f  %s" % (labels[k], p[k], p[labels.index("positive")],
                                                  sentence))
    if args.json:
        cli.write_json(args.json, {"checkpoint_dir": args.checkpoint_dir,
                                   "predictions": predictions})
        cli.wrote(args.json)
    return 0


if __name__ == "__main__":
    cli.run(main)
