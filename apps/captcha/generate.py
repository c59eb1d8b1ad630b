"""Inverted-character captchas: ten Chinese characters in a row, 3-6 of them upside down.

    python setup/get_data.py cjk_fonts           # once: the fonts (Debian packages)
    python apps/captcha/generate.py              # -> data/captcha/{train,test}.npz + samples/
    python apps/captcha/generate.py --train_size 2000 --test_size 200 --data_dir /tmp/cap

As in blog part 9: a 280x28 image of ten random GB2312 level-1 characters
drawn with PIL at font size 25, black on white, upright or rotated by 180
degrees, 3-6 positions inverted, chosen at random ("num_flip =
random.randint(3,6)").  Here each character has a cell of 28x28 (the blog
places them every 26 pixels) and its font size is jittered by -2..+1; the
jitter and noise below are this project's (the blog adds none: "没有在生成的字
加一些噪声").  Light jitter: each glyph is centred on its ink box (so
its height in the cell gives nothing away), then shifted by up to 2 pixels
and turned by up to 5 degrees; ink darkness varies per captcha; two faint
random lines and Gaussian pixel noise are added.  The training captchas
alone are also augmented, so that no training font's strokes are special:
stroke width jittered by up to --stroke pixels (a blend of the glyph and its
grey dilation or erosion) and a small elastic distortion (--elastic pixels,
Simard et al.); the test captchas get the light jitter only.

The training set uses the --train_fonts (Hei, Ming, Song, an oblique sans,
the textbook Kai LXGW WenKai; ``all``: the thirteen fonts of the data set
that are not held out); the test set only the held-out --test_font
(AR PL UKai, the Kai brush style, never drawn in training), so the test
figures measure generalisation to an unseen font, not memory.  Files:
``train.npz`` / ``test.npz`` with ``images`` (uint8 [N, 28, 280]), ``labels``
(uint8 [N, 10], 1 = inverted), ``chars`` (the ten characters of each
captcha), ``fonts`` (font index) and ``meta``;
``samples/test_NNN.png`` with ``samples/labels.json`` (the first test captchas
as PNG files, for predict.py).
"""
import argparse
import os

import numpy as np

from tfcourse import cjk, cli
from tfcourse.datasets import cjk_fonts

POSITIONS = 10
CELL = 28
INVERTED = (3, 6)  # inclusive range of inverted characters per captcha


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cli.add_data_dir(p, "captcha", help="where the sets are written")
    p.add_argument("--font_dir", default=cjk.FONT_DIR,
                   help="the fonts (python setup/get_data.py cjk_fonts)")
    p.add_argument("--train_size", type=int, default=240000,
                   help="training captchas (60000 gave 98.67 %% / 87.8 %% on the held-out font "
                        "after 8000 steps, 240000 98.85 %% / 89.3 %%)")
    p.add_argument("--test_size", type=int, default=2000, help="test captchas (held-out font)")
    cjk.add_font_flags(p)
    p.add_argument("--font_size", type=int, default=25)
    p.add_argument("--noise", type=cli.finite_float, default=8.0,
                   help="standard deviation of the pixel noise, in grey levels")
    p.add_argument("--stroke", type=cli.finite_float, default=0.5,
                   help="training captchas: stroke width jittered by up to this many pixels")
    p.add_argument("--elastic", type=cli.finite_float, default=1.0,
                   help="training captchas: elastic distortion of this many pixels (0: none)")
    p.add_argument("--samples", type=int, default=8, help="test captchas also saved as PNG")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for flag in ("train_size", "test_size", "font_size"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if not 12 <= args.font_size <= CELL:
        raise cli.UserError("--font_size must be between 12 and %d (the cell)" % CELL)
    if min(args.noise, args.samples, args.stroke, args.elastic) < 0:
        raise cli.UserError("--noise, --samples, --stroke and --elastic must not be negative")
    if args.stroke > 1 or args.elastic > 4:
        raise cli.UserError("--stroke at most 1 and --elastic at most 4 pixels: more would "
                            "deform a 28-pixel character beyond reading")
    cjk.check_font_flags(args)
    return args


def stroke_jitter(tile, rng, amount):
    """Strokes thickened or thinned by up to ``amount`` pixels (<= 1): the glyph blended with
    its grey dilation or erosion by a 2x2 kernel, by a uniform random weight."""
    import cv2

    weight = rng.uniform(-amount, amount)
    kernel = np.ones((2, 2), np.uint8)
    morphed = cv2.dilate(tile, kernel) if weight > 0 else cv2.erode(tile, kernel)
    return (1.0 - abs(weight)) * tile + abs(weight) * morphed


def make_captchas(n, font_keys, glyphs, chars, args, rng, augment=False):
    """``n`` captchas: images uint8 [n, 28, 280], labels [n, 10], chars [n], font index [n].

    ``augment``: the training captchas' stroke-width jitter and elastic distortion."""
    import cv2

    images = np.empty((n, CELL, CELL * POSITIONS), np.uint8)
    labels = np.zeros((n, POSITIONS), np.uint8)
    texts, fonts = [], rng.randint(len(font_keys), size=n)
    for i in range(n):
        key = font_keys[fonts[i]]
        text = [chars[j] for j in rng.randint(len(chars), size=POSITIONS)]
        inverted = rng.choice(POSITIONS, rng.randint(INVERTED[0], INVERTED[1] + 1),
                              replace=False)
        labels[i, inverted] = 1
        ink = np.zeros((CELL, CELL * POSITIONS), np.float32)
        for pos, ch in enumerate(text):
            tile = glyphs[key].get(ch, args.font_size + int(rng.randint(-2, 2)), CELL)
            if labels[i, pos]:
                tile = tile[::-1, ::-1]                         # rotated by 180 degrees
            if augment and args.stroke:
                tile = stroke_jitter(tile, rng, args.stroke)
            tile = cjk.distort(tile, rng, rotate=5.0, scale=None, shift_px=2.0, stroke=0,
                               elastic_alpha=args.elastic if augment else 0.0,
                               elastic_sigma=3.0)
            ink[:, pos * CELL:(pos + 1) * CELL] = tile
        ink *= rng.uniform(0.7, 1.0)
        for _ in range(2):                                      # two faint lines
            y0, y1 = rng.randint(CELL, size=2)
            cv2.line(ink, (0, int(y0)), (CELL * POSITIONS - 1, int(y1)),
                     float(rng.uniform(0.15, 0.35)), 1)
        images[i] = cjk.to_paper(ink, rng, args.noise)
        texts.append("".join(text))
    return images, labels, np.array(texts), fonts.astype(np.uint8)


def main(argv=None):
    args = parse_args(argv)
    chars = cjk.level1()
    keys = args.train_fonts + [args.test_font]
    glyphs = {k: cjk.Glyphs(args.font_dir, k) for k in keys}
    for k in keys:                                              # missing fonts fail first
        cjk.load_font(args.font_dir, k, args.font_size)

    meta = {"script": "apps/captcha/generate.py", "positions": POSITIONS, "cell": CELL,
            "font_size": args.font_size, "inverted_per_captcha": list(INVERTED),
            "noise": args.noise, "seed": args.seed, "characters": "GB2312 level 1 (3755)",
            "train_augment": {"stroke_px": args.stroke, "elastic_px": args.elastic,
                              "elastic_sigma_px": 3.0},
            "fonts": {k: cjk_fonts.BY_KEY[k].family for k in keys}}
    progress = cli.Progress(2, unit="sets")
    for step, (name, n, font_keys) in enumerate((("train", args.train_size, args.train_fonts),
                                                 ("test", args.test_size, [args.test_font])), 1):
        # each set its own random stream: the test set depends on neither the training
        # set's size nor its augmentation
        rng = np.random.RandomState([args.seed, step])
        images, labels, texts, fonts = make_captchas(n, font_keys, glyphs, chars, args, rng,
                                                     augment=name == "train")
        path = os.path.join(args.data_dir, name + ".npz")
        cjk.save_set(path, dict(meta, split=name, font_keys=font_keys), images=images,
                     labels=labels, chars=texts, fonts=fonts)
        progress.update(step, set=name, captchas=n, fonts=",".join(font_keys))
        cli.wrote(path)

    from PIL import Image

    samples = os.path.join(args.data_dir, "samples")
    truth = {}
    for i in range(min(args.samples, args.test_size)):
        name = "test_%03d.png" % i
        with cli.atomic_path(os.path.join(samples, name)) as tmp:
            Image.fromarray(images[i]).save(tmp, format="PNG")
        truth[name] = {"chars": str(texts[i]),
                       "inverted": [int(p) + 1 for p in np.flatnonzero(labels[i])]}
    if truth:
        cli.write_json(os.path.join(samples, "labels.json"), truth)
        cli.wrote(samples)
    return 0


if __name__ == "__main__":
    cli.run(main)
