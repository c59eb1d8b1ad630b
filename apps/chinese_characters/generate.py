"""Chinese characters rendered from fonts and distorted: the offline stand-in for CASIA HWDB.

    python setup/get_data.py cjk_fonts              # once: the fonts (Debian packages)
    python apps/chinese_characters/generate.py      # 500 classes -> data/chinese_characters/
    python apps/chinese_characters/generate.py --num_classes 0 --train_fonts all \\
        --per_font 4 --test_per_class 2             # all 3755, from all 13 training fonts

Every class is a GB2312 level-1 character (the first --num_classes in code
order, i.e. by pinyin: 啊 阿 埃 ...; 0 = all 3755, the HWDB1.1 classes).  Each
sample: the glyph rendered with PIL at 64 px, its ink box scaled to 80 % of
the --image_size square and centred (what predict.py and the .gnt reader do
to any input), then distorted: stroke width -1..+1 px of the 64-px render
(grey erosion / dilation, before the scaling), rotation +-12 degrees, scale
0.8-1.05, shift +-6 % of the side and an elastic distortion (Simard et al.
2003: a random displacement field smoothed by a Gaussian of 10 % of the
side, at most 5 % of the side).
--per_font samples per class from each training font (by default six: Hei,
Ming, Song, oblique sans, the textbook Kai LXGW WenKai; ``--train_fonts all``
adds Noto Sans/Serif CJK SC regular and bold, Hanazono Mincho and WenKai light
and bold, which the 3755 classes need) go into ``train.npz``;
--test_per_class samples per class of the held-out --test_font (AR PL UKai,
the Kai brush style, never drawn in training) into ``test.npz``: ``images`` (uint8 [N, S, S],
black on white), ``labels`` (class index), ``fonts`` and ``meta`` (with the
class list).  ``samples/`` gets a few test images as PNG, for predict.py.
"""
import argparse
import os

import numpy as np

from tfcourse import cjk, cli
from tfcourse.datasets import cjk_fonts

import char_data

RENDER_SIZE = 64


def distortion(image_size):
    """The distortion parameters, in pixels of an ``image_size`` square."""
    return dict(rotate=12.0, scale=(0.8, 1.05), shift_px=0.06 * image_size, stroke=0,
                elastic_alpha=0.05 * image_size, elastic_sigma=0.1 * image_size)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    cli.add_data_dir(p, "chinese_characters", help="where the sets are written")
    p.add_argument("--font_dir", default=cjk.FONT_DIR,
                   help="the fonts (python setup/get_data.py cjk_fonts)")
    p.add_argument("--num_classes", type=int, default=500,
                   help="the first N GB2312 level-1 characters (0 = all 3755)")
    p.add_argument("--image_size", type=int, default=32,
                   help="side of the square images (the blog: 64; 32 fits a CPU)")
    p.add_argument("--per_font", type=int, default=12,
                   help="training samples per class and training font")
    p.add_argument("--test_per_class", type=int, default=4,
                   help="test samples per class, in the held-out font")
    cjk.add_font_flags(p)
    p.add_argument("--samples", type=int, default=8, help="test images also saved as PNG")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for flag in ("image_size", "per_font", "test_per_class"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if not 16 <= args.image_size <= 128:
        raise cli.UserError("--image_size must be between 16 and 128")
    if args.samples < 0:
        raise cli.UserError("--samples must not be negative")
    cjk.check_font_flags(args)
    return args


def render_set(chars, font_keys, per_class, args, rng, progress, done):
    """Distorted renders: images uint8 [N, S, S], labels [N], font index [N]."""
    n = len(chars) * len(font_keys) * per_class
    images = np.empty((n, args.image_size, args.image_size), np.uint8)
    labels = np.empty(n, np.int32)
    fonts = np.empty(n, np.uint8)
    i, params = 0, distortion(args.image_size)
    for f, key in enumerate(font_keys):
        glyphs = cjk.Glyphs(args.font_dir, key)
        for label, ch in enumerate(chars):
            glyph = glyphs.get(ch, RENDER_SIZE, 2 * RENDER_SIZE)
            for _ in range(per_class):
                # stroke width first, at the 64-px render (1 px there = 1/2 px at 32)
                inked = cjk.distort(glyph, rng, rotate=0, scale=None, shift_px=0, stroke=1)
                clean = cjk.normalize_ink(inked, args.image_size)
                images[i] = cjk.to_paper(cjk.distort(clean, rng, **params))
                labels[i], fonts[i] = label, f
                i += 1
            done[0] += per_class
            if done[0] % 5000 < per_class:
                progress.update(done[0], font=key)
    order = rng.permutation(n)
    return images[order], labels[order], fonts[order]


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.RandomState(args.seed)
    chars = char_data.classes(args.num_classes)
    for key in args.train_fonts + [args.test_font]:             # missing fonts fail first
        cjk.load_font(args.font_dir, key, RENDER_SIZE)
    total = len(chars) * (len(args.train_fonts) * args.per_font + args.test_per_class)
    progress, done = cli.Progress(total, unit="images"), [0]
    meta = {"script": "apps/chinese_characters/generate.py", "classes": "".join(chars),
            "image_size": args.image_size, "render_size": RENDER_SIZE,
            "distortion": dict({k: list(v) if isinstance(v, tuple) else v
                                for k, v in distortion(args.image_size).items()},
                               stroke_at_render_size=1),
            "seed": args.seed,
            "characters": "the first %d GB2312 level-1 characters" % len(chars),
            "fonts": {k: cjk_fonts.BY_KEY[k].family
                      for k in args.train_fonts + [args.test_font]}}
    for name, font_keys, per_class in (("train", args.train_fonts, args.per_font),
                                       ("test", [args.test_font], args.test_per_class)):
        images, labels, fonts = render_set(chars, font_keys, per_class, args, rng, progress,
                                           done)
        path = os.path.join(args.data_dir, name + ".npz")
        cjk.save_set(path, dict(meta, split=name, font_keys=font_keys, per_class=per_class),
                     images=images, labels=labels, fonts=fonts)
        cli.wrote(path)

    from PIL import Image

    samples = os.path.join(args.data_dir, "samples")
    truth = {}
    for i in range(min(args.samples, len(images))):
        name = "test_%03d.png" % i
        with cli.atomic_path(os.path.join(samples, name)) as tmp:
            Image.fromarray(images[i]).save(tmp, format="PNG")
        truth[name] = chars[labels[i]]
    if truth:
        cli.write_json(os.path.join(samples, "labels.json"), truth)
        cli.wrote(samples)
    return 0


if __name__ == "__main__":
    cli.run(main)
