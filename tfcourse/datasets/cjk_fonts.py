"""CJK fonts from Debian's font packages, for the captcha and character apps.

Fourteen faces that each cover all 3755 GB2312 level-1 characters: Hei,
Ming/Song, Mincho, oblique sans and Kai, some in light and bold.  The apps
train on six of them by default (``TRAIN_FONTS``); the 3755-class character
set trains on all thirteen that are not held out (``ALL_TRAIN_FONTS``, with
Noto Sans/Serif CJK SC regular and bold, Hanazono Mincho A and WenKai light
and bold: at 6000 steps they raised the held-out top-1 from 48 to 61 %).
``fonts-droid-fallback`` is not used: WQY Micro Hei is drawn from it (their
glyphs correlate 1.0).  They come out of the Debian packages by ``apt-get
download`` into a temporary folder and ``dpkg-deb -x`` (no root needed, but the
apt package lists must exist: ``apt-get update`` as root once); the font files are copied
under their own names, with ``FONTS.json`` naming the package file of each.
Every font is checked by rendering a character of each end of the level-1
range with PIL (``.ttc`` collections at the face ``index`` given below).

The test font, ``ukai`` (AR PL UKai CN, the Kai brush style, the one closest
to handwriting), is held out.  One training font is a Kai of its own design:
LXGW WenKai, drawn from Fontworks' Japanese textbook font Klee One (a Kai /
FangSong blend), not from UKai.  Drawn as the apps draw them (25 px, ink box
centred; every 75th level-1 character), its glyphs correlate with UKai's 0.43
on average: more than the other training fonts do (0.24-0.34), as a Kai
should, but less than with WQY Micro Hei (0.58) and far from the 0.69 of UMing
with SungtiL GB, which UMing was extended from (tests/test_apps_chinese_characters.py).
``fonts-arphic-gkai00mp`` (AR PL KaitiM GB) is deliberately *not* used: UKai
was extended from it, so training on it would show the model the test glyphs.
"""
import collections
import json
import os
import shutil
import subprocess
import tempfile

from tfcourse.datasets import _common

NAME = "cjk_fonts"
ORDER = 80
DESCRIPTION = ("fourteen CJK faces (Hei, Ming/Song, Mincho, oblique sans, Kai) from Debian "
               "fonts-wqy-*, fonts-arphic-*, fonts-smiley-sans, fonts-lxgw-wenkai, "
               "fonts-noto-cjk, fonts-hanazono, 231 MB")

Font = collections.namedtuple("Font", "key package file index family style")
#: the apps' default training fonts (the 500-class set and the captcha)
DEFAULT_FONTS = (
    Font("wqy-zenhei", "fonts-wqy-zenhei", "wqy-zenhei.ttc", 0, "WenQuanYi Zen Hei", "hei"),
    Font("wqy-microhei", "fonts-wqy-microhei", "wqy-microhei.ttc", 0, "WenQuanYi Micro Hei",
         "hei"),
    Font("uming", "fonts-arphic-uming", "uming.ttc", 0, "AR PL UMing CN", "ming"),
    Font("gbsn00lp", "fonts-arphic-gbsn00lp", "gbsn00lp.ttf", 0, "AR PL SungtiL GB", "song"),
    Font("smiley-sans", "fonts-smiley-sans", "SmileySans-Oblique.ttf", 0, "Smiley Sans Oblique",
         "condensed oblique sans"),
    Font("lxgw-wenkai", "fonts-lxgw-wenkai", "LXGWWenKai-Regular.ttf", 0, "LXGW WenKai",
         "textbook Kai (from Klee One)"),
)
#: more faces of other designs, for the 3755-class set (generate.py --train_fonts all)
MORE_FONTS = (
    Font("noto-sans-sc", "fonts-noto-cjk", "NotoSansCJK-Regular.ttc", 2, "Noto Sans CJK SC",
         "hei (Source Han Sans)"),
    Font("noto-sans-sc-bold", "fonts-noto-cjk", "NotoSansCJK-Bold.ttc", 2,
         "Noto Sans CJK SC Bold", "bold hei"),
    Font("noto-serif-sc", "fonts-noto-cjk", "NotoSerifCJK-Regular.ttc", 2, "Noto Serif CJK SC",
         "song (Source Han Serif)"),
    Font("noto-serif-sc-bold", "fonts-noto-cjk", "NotoSerifCJK-Bold.ttc", 2,
         "Noto Serif CJK SC Bold", "bold song"),
    Font("hanamin", "fonts-hanazono", "HanaMinA.ttf", 0, "Hanazono Mincho A",
         "Japanese mincho"),
    Font("lxgw-wenkai-light", "fonts-lxgw-wenkai", "LXGWWenKai-Light.ttf", 0,
         "LXGW WenKai Light", "light textbook Kai"),
    Font("lxgw-wenkai-bold", "fonts-lxgw-wenkai", "LXGWWenKai-Bold.ttf", 0, "LXGW WenKai Bold",
         "bold textbook Kai"),
)
TEST = Font("ukai", "fonts-arphic-ukai", "ukai.ttc", 0, "AR PL UKai CN", "kai")
#: every font used, in order; the last one is the held-out test font
FONTS = DEFAULT_FONTS + MORE_FONTS + (TEST,)
BY_KEY = {f.key: f for f in FONTS}
TEST_FONT = TEST.key
TRAIN_FONTS = tuple(f.key for f in DEFAULT_FONTS)
#: every font but the held-out one: ``--train_fonts all``
ALL_TRAIN_FONTS = TRAIN_FONTS + tuple(f.key for f in MORE_FONTS)
INDEX_FILE = "FONTS.json"
CHECK_CHARS = "啊座"  # the first and the last GB2312 level-1 character


def glyph_has_ink(path, index, text=CHECK_CHARS):
    """True when PIL can open face ``index`` of ``path`` and every char of ``text`` has ink."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        font = ImageFont.truetype(path, 32, index=index)
    except OSError:
        return False
    for ch in text:
        image = Image.new("L", (48, 48), 0)
        ImageDraw.Draw(image).text((4, 4), ch, fill=255, font=font)
        if image.getbbox() is None:
            return False
    return True


def is_present(target_dir):
    if not os.path.exists(os.path.join(target_dir, INDEX_FILE)):
        return False
    return all(os.path.exists(os.path.join(target_dir, f.file)) for f in FONTS)


def _find(root, name):
    for directory, _, files in os.walk(root):
        if name in files:
            return os.path.join(directory, name)
    return None


def fetch(target_dir, offline=False, log=print):
    """``offline`` changes nothing: the fonts only come from Debian's packages."""
    if is_present(target_dir):
        return "CJK fonts already in %s" % target_dir
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise _common.UserError("the CJK fonts come from Debian packages and this machine has no "
                                "apt-get/dpkg-deb; copy %s into %s by hand"
                                % (", ".join(f.file for f in FONTS), target_dir))
    packages = sorted(set(f.package for f in FONTS))
    index = {}
    with _common.staging_dir(target_dir) as staging, \
            tempfile.TemporaryDirectory(prefix="tfcourse-deb-") as tmp:
        proc = subprocess.run(["apt-get", "download"] + packages, cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=1800)
        debs = sorted(n for n in os.listdir(tmp) if n.endswith(".deb"))
        missing = [p for p in packages if not any(d.startswith(p + "_") for d in debs)]
        if missing:
            last = (proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise _common.UserError("apt-get download %s failed (%s); run `apt-get update` as "
                                    "root first, then retry" % (" ".join(missing), last[0]))
        root = os.path.join(tmp, "root")
        for deb in debs:
            subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, deb), root], check=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for font in FONTS:
            deb = [d for d in debs if d.startswith(font.package + "_")][0]
            found = _find(root, font.file)
            if found is None:
                raise _common.UserError("%s has no %s; the package changed, please report it"
                                        % (deb, font.file))
            shutil.copyfile(found, os.path.join(staging, font.file))
            if not glyph_has_ink(os.path.join(staging, font.file), font.index):
                raise _common.UserError("%s from %s does not render %s; the package changed, "
                                        "please report it" % (font.file, deb, CHECK_CHARS))
            index[font.key] = dict(font._asdict(), deb=deb,
                                   member=os.path.relpath(found, root))
        with open(os.path.join(staging, INDEX_FILE), "w", encoding="utf-8") as f:
            json.dump({"fonts": index, "test_font": TEST_FONT}, f, indent=2, ensure_ascii=False)
        _common.install_files(staging, target_dir, [f.file for f in FONTS] + [INDEX_FILE])
    return "CJK fonts: %d fonts from Debian %s into %s" % (len(FONTS), ", ".join(packages),
                                                          target_dir)
