"""Chinese characters rendered from fonts: the GB2312 level-1 list, glyphs, distortions, sets.

Shared by ``apps/captcha`` and ``apps/chinese_characters`` (not the book's code):

* :func:`level1` -- the 3755 GB2312 level-1 characters (rows 16-55, in GB2312
  order, i.e. by pinyin: 啊 阿 埃 ... 座), taken from Python's ``gb2312`` codec;
* :func:`add_font_flags` / :func:`check_font_flags` -- generate.py's --train_fonts
  ('all' or keys) and held-out --test_font;
* :func:`load_font` -- a PIL font of the ``cjk_fonts`` data set by key
  (``.ttc`` faces through ``index=``), with a one-line error naming the fix;
* :class:`Glyphs` -- a cache of ink masks (float32 in [0, 1], 1 = ink), each
  centred on its ink box, so a glyph's place in the em square (where upright
  and upside-down differ) tells nothing;
* :func:`normalize_ink` / :func:`prepare` -- any character image's ink box scaled and
  centred, as the character CNN sees it (rendered glyphs, HWDB bitmaps, user images);
* :func:`distort` -- rotation, scale, shift, stroke-width and elastic distortion;
* :func:`save_set` / :func:`load_set` -- ``.npz`` sets written atomically and
  read back with a clear error.
"""
import json
import os

import numpy as np

from tfcourse import cli, default_data_dir
from tfcourse.datasets import cjk_fonts

FONT_DIR = default_data_dir(cjk_fonts.NAME)
GET_FONTS = "python setup/get_data.py %s" % cjk_fonts.NAME


def level1():
    """The 3755 GB2312 level-1 characters, in code order."""
    chars = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            if row == 0xD7 and cell > 0xF9:  # row 55 ends at 0xD7F9
                break
            chars.append(bytes([row, cell]).decode("gb2312"))
    return chars


def font_keys(text, allowed=None):
    """``'a,b'`` -> ``['a', 'b']``, each a font of the data set (and of ``allowed``)."""
    keys = [k.strip() for k in text.split(",") if k.strip()]
    allowed = list(allowed or cjk_fonts.BY_KEY)
    bad = [k for k in keys if k not in allowed]
    if bad or not keys:
        raise cli.UserError("unknown font %s; choose from %s"
                            % (", ".join(bad) or "(none)", ", ".join(allowed)))
    return keys


def add_font_flags(parser):
    """--train_fonts and --test_font, the flags of both apps' generate.py."""
    parser.add_argument("--train_fonts", default=",".join(cjk_fonts.TRAIN_FONTS),
                        help="comma-separated font keys, or 'all': every font of the data set "
                             "but the test font (%d)" % len(cjk_fonts.ALL_TRAIN_FONTS))
    parser.add_argument("--test_font", default=cjk_fonts.TEST_FONT)


def check_font_flags(args):
    """``args.train_fonts`` and ``args.test_font`` as font keys (a list and one key; 'all' is
    ``cjk_fonts.ALL_TRAIN_FONTS``), the test font never among the training fonts."""
    args.train_fonts = (list(cjk_fonts.ALL_TRAIN_FONTS) if args.train_fonts.strip() == "all"
                        else font_keys(args.train_fonts))
    args.test_font = font_keys(args.test_font)[0]
    if args.test_font in args.train_fonts:
        raise cli.UserError("--test_font %s is also a training font; hold it out"
                            % args.test_font)


def font_path(font_dir, key):
    font = cjk_fonts.BY_KEY[key]
    path = os.path.join(font_dir, font.file)
    if not os.path.exists(path):
        raise cli.UserError("font %s (%s) not found in %s; run %s" % (key, font.file, font_dir,
                                                                      GET_FONTS))
    return path


def load_font(font_dir, key, size):
    """The PIL font ``key`` of ``cjk_fonts`` at ``size`` pixels."""
    from PIL import ImageFont

    path = font_path(font_dir, key)
    try:
        return ImageFont.truetype(path, size, index=cjk_fonts.BY_KEY[key].index)
    except OSError as exc:
        raise cli.UserError("cannot read font %s (%s); delete %s and run %s"
                            % (path, exc, font_dir, GET_FONTS))


class Glyphs:
    """Ink masks of characters of one font, rendered once per (character, size).

    ``get(ch, size, box)`` -> ``box x box`` float32 array, the glyph drawn at
    ``size`` pixels with its ink box centred; a glyph larger than ``box`` is cut.
    """

    def __init__(self, font_dir, key):
        self.font_dir, self.key = font_dir, key
        self._fonts, self._cache = {}, {}

    def get(self, ch, size, box):
        if (ch, size, box) not in self._cache:
            from PIL import Image, ImageDraw

            if size not in self._fonts:
                self._fonts[size] = load_font(self.font_dir, self.key, size)
            canvas = Image.new("L", (2 * size, 2 * size), 0)
            ImageDraw.Draw(canvas).text((size // 2, size // 2), ch, fill=255,
                                        font=self._fonts[size])
            ink = np.asarray(canvas, np.float32) / 255.0
            tile = np.zeros((box, box), np.float32)
            bbox = canvas.getbbox()
            if bbox is not None:
                x0, y0, x1, y1 = bbox
                glyph = ink[y0:y1, x0:x1][:box, :box]
                h, w = glyph.shape
                top, left = (box - h) // 2, (box - w) // 2
                tile[top:top + h, left:left + w] = glyph
            self._cache[(ch, size, box)] = tile
        return self._cache[(ch, size, box)]


def normalize_ink(ink, size, fill=0.8, threshold=0.2):
    """Ink mask -> ``size x size``: the ink box (pixels above ``threshold``) scaled, aspect
    kept, so its longer side is ``fill * size``, and centred.  The same for rendered glyphs,
    HWDB bitmaps and user images, so all three look alike to the network."""
    import cv2

    ink = np.asarray(ink, np.float32)
    out = np.zeros((size, size), np.float32)
    ys, xs = np.nonzero(ink > threshold)
    if len(ys) == 0:
        return out
    box = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = box.shape
    factor = fill * size / max(h, w)
    nh, nw = max(1, int(round(h * factor))), max(1, int(round(w * factor)))
    box = cv2.resize(box, (nw, nh), interpolation=cv2.INTER_AREA if factor < 1
                     else cv2.INTER_LINEAR)
    top, left = (size - nh) // 2, (size - nw) // 2
    out[top:top + nh, left:left + nw] = box
    return np.clip(out, 0.0, 1.0)


def prepare(image, image_size):
    """Any greyscale character image (dark ink on light paper, uint8) -> the character CNN's
    uint8 input: its ink box scaled and centred in an ``image_size`` square (normalize_ink)."""
    ink = 1.0 - np.asarray(image, np.float32) / 255.0
    return to_paper(normalize_ink(ink, image_size))


def distort(tile, rng, rotate=10.0, scale=(0.85, 1.05), shift_px=2.0, stroke=1,
            elastic_alpha=0.0, elastic_sigma=4.0):
    """A randomly distorted copy of an ink mask (values stay in [0, 1]).

    ``rotate``: degrees, uniform in +-rotate; ``scale``: uniform range;
    ``shift_px``: uniform shift in +-pixels; ``stroke``: strokes thinned or
    thickened by up to this many pixels (grey erosion / dilation);
    ``elastic_alpha`` / ``elastic_sigma``: Simard et al.'s elastic distortion
    (a random displacement field smoothed by a Gaussian of ``elastic_sigma``
    pixels, scaled to ``elastic_alpha`` pixels); 0 turns it off.
    """
    import cv2

    h, w = tile.shape
    out = tile
    if stroke:
        k = int(rng.randint(-stroke, stroke + 1))
        if k:
            kernel = np.ones((abs(k) + 1, abs(k) + 1), np.uint8)
            out = cv2.dilate(out, kernel) if k > 0 else cv2.erode(out, kernel)
    angle = rng.uniform(-rotate, rotate) if rotate else 0.0
    factor = rng.uniform(*scale) if scale else 1.0
    matrix = cv2.getRotationMatrix2D((w / 2.0 - 0.5, h / 2.0 - 0.5), angle, factor)
    if shift_px:
        matrix[:, 2] += rng.uniform(-shift_px, shift_px, size=2)
    out = cv2.warpAffine(out, matrix, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if elastic_alpha:
        size = int(4 * elastic_sigma) | 1
        dx = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (size, size),
                              elastic_sigma)
        dy = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (size, size),
                              elastic_sigma)
        norm = elastic_alpha / max(float(np.abs(np.stack([dx, dy])).max()), 1e-6)
        grid_y, grid_x = np.mgrid[0:h, 0:w].astype(np.float32)
        out = cv2.remap(out, grid_x + norm * dx, grid_y + norm * dy, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.clip(out, 0.0, 1.0)


def to_paper(ink, rng=None, noise=0.0):
    """Ink mask -> uint8 image, black ink on white paper, plus Gaussian noise of ``noise``."""
    image = 255.0 * (1.0 - ink)
    if noise and rng is not None:
        image = image + rng.normal(0.0, noise, image.shape)
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def save_set(path, meta, **arrays):
    """Write ``arrays`` and the JSON ``meta`` into one ``.npz``, atomically."""
    with cli.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
    return path


def load_set(path, fix):
    """``(meta, {name: array})`` of a set :func:`save_set` wrote; ``fix`` names the command."""
    if not os.path.exists(path):
        raise cli.UserError("%s not found; run %s" % (path, fix))
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise cli.UserError("%s is not a readable set (%s); run %s again"
                            % (path, str(exc).splitlines()[0][:100], fix))
    return meta, arrays


def read_image(path):
    """A greyscale image file as a uint8 array, or a one-line error."""
    from PIL import Image, UnidentifiedImageError

    if not os.path.isfile(path):
        raise cli.UserError("image %s not found; pass a PNG or JPEG file" % path)
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise cli.UserError("cannot read image %s (%s); pass a PNG or JPEG file"
                            % (path, str(exc).splitlines()[0][:100]))
