"""Point at the upside-down characters of captcha images, with a checkpoint of train.py.

    python apps/captcha/predict.py data/captcha/samples/test_000.png
    python apps/captcha/predict.py data/captcha/samples/*.png --output runs/captcha_pred.png

Prints one line per image: the inverted positions (1-10, left to right) and
P(inverted) of each position, the mean over the views of --views (as train.py
reads the test captchas: also turned by 180 degrees and with the cells shifted
to every position; none: the image as it is).  --output draws the images one
under the other with a red box around every position read as inverted (green: upright);
--json saves the predictions.  An image that is not 280x28 is converted to
grey and resized to 280x28 first.  The graph comes back from the checkpoint's
.meta file (tf.train.import_meta_graph).
"""
import argparse
import os

import numpy as np

from tfcourse.compat import tf, session_config
from tfcourse import cjk, cli

import train as captcha_train

NAME = "apps_captcha"
WIDTH, HEIGHT, POSITIONS = 280, 28, 10


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("images", nargs="+", help="captcha image files (PNG, JPEG, ...)")
    p.add_argument("--checkpoint_dir", default=cli.run_dir(NAME),
                   help="folder train.py wrote (default: %(default)s)")
    p.add_argument("--output", default="", metavar="PATH",
                   help="draw the predictions on the images into this PNG")
    p.add_argument("--json", default="", metavar="PATH", help="also write the predictions here")
    p.add_argument("--views", type=captcha_train.view_ops, default="rotate,roll", metavar="OPS",
                   help="views averaged: rotate, roll (as train.py --test_views), or none")
    args = p.parse_args(argv)
    cli.check_outputs(args, "--json", "--output")  # before any work
    return args


def load_captcha(path):
    from PIL import Image

    image = cjk.read_image(path)
    if image.shape != (HEIGHT, WIDTH):
        image = np.asarray(Image.fromarray(image).resize((WIDTH, HEIGHT), Image.BILINEAR))
    return image


def load_model(sess, checkpoint_dir):
    """Restore graph and weights; returns (images placeholder, probabilities [N, 10, 2])."""
    checkpoint = tf.train.latest_checkpoint(checkpoint_dir) if os.path.isdir(checkpoint_dir) \
        else None
    if checkpoint is None:
        raise cli.UserError("no checkpoint in %s; train first (python apps/captcha/train.py) "
                            "or pass --checkpoint_dir" % checkpoint_dir)
    try:
        saver = tf.train.import_meta_graph(checkpoint + ".meta")
        saver.restore(sess, checkpoint)
        graph = sess.graph
        return (graph.get_tensor_by_name("images:0"),
                graph.get_tensor_by_name("heads/probabilities:0"))
    except (OSError, tf.errors.OpError, ValueError, KeyError) as exc:
        raise cli.UserError("cannot restore %s (%s); train again"
                            % (checkpoint, str(exc).splitlines()[0][:120]))


def draw(images, inverted, path):
    """The captchas one under another, scaled x3, a box around each position."""
    from PIL import Image, ImageDraw

    scale, gap = 3, 6
    canvas = Image.new("RGB", (WIDTH * scale, len(images) * (HEIGHT * scale + gap)), "white")
    pen = ImageDraw.Draw(canvas)
    for row, (image, flags) in enumerate(zip(images, inverted)):
        top = row * (HEIGHT * scale + gap)
        big = Image.fromarray(image).resize((WIDTH * scale, HEIGHT * scale), Image.NEAREST)
        canvas.paste(big.convert("RGB"), (0, top))
        for pos in range(POSITIONS):
            box = [pos * 28 * scale + 1, top + 1, (pos + 1) * 28 * scale - 2,
                   top + HEIGHT * scale - 2]
            pen.rectangle(box, outline=(220, 0, 0) if flags[pos] else (0, 160, 0),
                          width=3 if flags[pos] else 1)
    with cli.atomic_path(path) as tmp:
        canvas.save(tmp, format="PNG")
    return path


def main(argv=None):
    args = parse_args(argv)
    images = np.stack([load_captcha(p) for p in args.images])
    with tf.Session(graph=tf.Graph(), config=session_config()) as sess:
        images_in, probabilities = load_model(sess, args.checkpoint_dir)
        # keep_prob defaults to 1, is_training to False
        p_inverted = captcha_train.p_inverted(sess, images_in, probabilities, images, args.views)
    inverted = p_inverted > 0.5
    predictions = []
    for path, flags, p in zip(args.images, inverted, p_inverted):
        positions = [int(i) + 1 for i in np.flatnonzero(flags)]
        predictions.append({"image": path, "inverted": positions,
                            "p_inverted": [round(float(v), 4) for v in p]})
        print("%s: inverted %s  P(inverted) %s" % (path, ",".join(map(str, positions)) or "none",
                                                   " ".join("%.2f" % v for v in p)))
    if args.json:
        cli.wrote(cli.write_json(args.json, {"checkpoint_dir": args.checkpoint_dir,
                                             "views": args.views,
                                             "predictions": predictions}))
    if args.output:
        cli.wrote(draw(images, inverted, args.output))
    return 0


if __name__ == "__main__":
    cli.run(main)
