"""Recognise Chinese characters in images with a checkpoint of train.py: top-k with probabilities.

    python apps/chinese_characters/predict.py data/chinese_characters/samples/test_000.png
    python apps/chinese_characters/predict.py photo.jpg --top_k 5 --json runs/pred.json
    python apps/chinese_characters/predict.py data/chinese_characters/samples/*.png \\
        --output runs/chars_pred.png

One character per image, dark on a light background.  The image is turned
grey, its ink box scaled and centred as in training (char_data.prepare), and
the network's softmax gives the top-k characters.  Prints one line per image:
``image  char P  char P ...``.  --output draws each input beside its top
three (the label font is the held-out test font of cjk_fonts).
"""
import argparse
import os

import numpy as np

from tfcourse.compat import tf, session_config
from tfcourse import cjk, cli
from tfcourse.datasets import cjk_fonts

import char_data
import train as char_train


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("images", nargs="+", help="image files, one character each")
    p.add_argument("--checkpoint_dir", default=cli.run_dir(char_train.NAME),
                   help="folder train.py wrote (default: %(default)s)")
    p.add_argument("--top_k", type=int, default=3)
    p.add_argument("--output", default="", metavar="PATH",
                   help="draw the images with their top-3 into this PNG")
    p.add_argument("--font_dir", default=cjk.FONT_DIR, help="font for the labels of --output")
    p.add_argument("--json", default="", metavar="PATH", help="also write the predictions here")
    args = p.parse_args(argv)
    cli.check_positive("--top_k", args.top_k)
    cli.check_outputs(args, "--json", "--output", folders=())  # before any work
    return args


def load_model(sess, checkpoint_dir):
    """Restore graph and weights; returns (images placeholder, probabilities)."""
    checkpoint = tf.train.latest_checkpoint(checkpoint_dir) if os.path.isdir(checkpoint_dir) \
        else None
    if checkpoint is None:
        raise cli.UserError("no checkpoint in %s; train first (python "
                            "apps/chinese_characters/train.py) or pass --checkpoint_dir"
                            % checkpoint_dir)
    try:
        saver = tf.train.import_meta_graph(checkpoint + ".meta")
        saver.restore(sess, checkpoint)
        graph = sess.graph
        return (graph.get_tensor_by_name("images:0"),
                graph.get_tensor_by_name("output/probabilities:0"))
    except (OSError, tf.errors.OpError, ValueError, KeyError) as exc:
        raise cli.UserError("cannot restore %s (%s); train again"
                            % (checkpoint, str(exc).splitlines()[0][:120]))


def draw(images, predictions, font_dir, path):
    """Each network input (scaled x2) with its top three characters and probabilities."""
    from PIL import Image, ImageDraw

    font = cjk.load_font(font_dir, cjk_fonts.TEST_FONT, 22)
    small = cjk.load_font(font_dir, cjk_fonts.TEST_FONT, 13)
    size = images.shape[1] * 2
    cell_w, cell_h, cols = size + 150, size + 8, 4
    rows = (len(images) + cols - 1) // cols
    canvas = Image.new("RGB", (cols * cell_w, rows * cell_h), "white")
    pen = ImageDraw.Draw(canvas)
    for i, (image, pred) in enumerate(zip(images, predictions)):
        left, top = (i % cols) * cell_w, (i // cols) * cell_h
        canvas.paste(Image.fromarray(image).resize((size, size)).convert("RGB"),
                     (left + 4, top + 4))
        for rank, (char, prob) in enumerate(pred["top_k"][:3]):
            y = top + 6 + rank * (size // 3)
            pen.text((left + size + 12, y), char, fill=(0, 0, 0) if rank else (200, 0, 0),
                     font=font)
            pen.text((left + size + 42, y + 6), "%.3f" % prob, fill=(80, 80, 80), font=small)
    with cli.atomic_path(path) as tmp:
        canvas.save(tmp, format="PNG")
    return path


def main(argv=None):
    args = parse_args(argv)
    chars, image_size = char_train.load_classes(args.checkpoint_dir)
    images = np.stack([char_data.prepare(cjk.read_image(p), image_size) for p in args.images])
    with tf.Session(graph=tf.Graph(), config=session_config()) as sess:
        images_in, probabilities = load_model(sess, args.checkpoint_dir)
        probs = sess.run(probabilities, {images_in: images})   # keep_prob 1, batch-norm averages
    if probs.shape[1] != len(chars):
        raise cli.UserError("the checkpoint has %d classes but classes.json %d; train again"
                            % (probs.shape[1], len(chars)))
    predictions = []
    for path, p in zip(args.images, probs):
        best = np.argsort(-p)[:args.top_k]
        top = [(chars[i], round(float(p[i]), 4)) for i in best]
        predictions.append({"image": path, "top_k": top})
        print("%s  %s" % (path, "  ".join("%s %.3f" % cp for cp in top)))
    if args.json:
        cli.wrote(cli.write_json(args.json, {"checkpoint_dir": args.checkpoint_dir,
                                             "predictions": predictions}))
    if args.output:
        cli.wrote(draw(images, predictions, args.font_dir, args.output))
    return 0


if __name__ == "__main__":
    cli.run(main)
