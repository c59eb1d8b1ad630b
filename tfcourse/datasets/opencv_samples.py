"""OpenCV's sample photos and short videos (``samples/data``; Debian ``opencv-doc``).

Files written: the photos in :data:`PHOTOS` (``building.jpg``, ``fruits.jpg``,
``messi5.jpg``, ``home.jpg``, ``baboon.jpg``, ...), the painting
``starry_night.jpg`` (Van Gogh, the default style image of the style-transfer
apps) and the clips in :data:`VIDEOS` (``Megamind.avi``, ``tree.avi``; the
street video ``vtest.avi`` is its own data set, ``vtest``).  First the OpenCV
samples on GitHub; otherwise the Debian package ``opencv-doc``
(``apt-get download`` into a temporary folder, no root needed, but the apt
package lists must exist: ``apt-get update`` as root once), whose
``usr/share/doc/opencv-doc/examples/data/`` holds the same files.  Every file
is checked by MD5 (the values of opencv-doc 4.6.0).
"""
import os

from tfcourse.datasets import _common

NAME = "opencv_samples"
ORDER = 72
DESCRIPTION = ("OpenCV sample photos (building, fruits, messi5, ...), Van Gogh's starry_night.jpg "
               "and two short clips (Debian opencv-doc, 9 MB)")

MIRROR = "https://raw.githubusercontent.com/opencv/opencv/4.x/samples/data/"
DEB_PACKAGE = "opencv-doc"
DEB_DIR = "usr/share/doc/opencv-doc/examples/data/"

STYLE = "starry_night.jpg"
#: photos (content images and offline training images for fast neural style): name -> MD5
PHOTOS = {
    "building.jpg": "0b4ff3491cdcb526e0c652047483dd08",
    "fruits.jpg": "6fea5aca5c69aac4e76ab4fe82617795",
    "messi5.jpg": "dc330e92d7e0058777afcd2535cc0831",
    "home.jpg": "95ce25ad4b37d6e3f010bf4fd01e1ded",
    "baboon.jpg": "9a7171af1d6c6f0901d36d04e1bd68ad",
    "aero1.jpg": "26e90ff4370e91ac44f2c12da1891ece",
    "aero3.jpg": "2e874a9fdb43e88119f865a7603784aa",
    "apple.jpg": "e05e64a4716c2ff3b1082bd5780869ff",
    "orange.jpg": "8c902274553bb6f1f5860b9f5776c3dc",
    "butterfly.jpg": "43ca363f2d92f5ded66c789a322b834a",
    "leuvenA.jpg": "6b19b09565b9cf4a13f543b118d78243",
    "leuvenB.jpg": "85930dd7b8aaa9e3e96dc46a1038439b",
    "squirrel_cls.jpg": "d15d003bdaf4bd66daf841e3717df42e",
    "board.jpg": "98025fadfb2e3685bf6ac5ea628d5fb9",
    "graf1.png": "e5617419fe13a257ade735f1f44c1fa0",
    "HappyFish.jpg": "1a773272163762bf58e0c2146cde9288",
}
#: paintings usable as style images: name -> MD5
PAINTINGS = {STYLE: "000a4e8c2fb200b80fa7a045065c85cb"}
#: short clips (offline training frames for fast neural style): name -> MD5
VIDEOS = {
    "Megamind.avi": "4fe94c02f0d225c98f82c2975eeb3b6a",
    "tree.avi": "eb0e0d094c36432b474226925b94de6e",
}
FILES = dict(PHOTOS, **PAINTINGS, **VIDEOS)


def _good(path, name):
    return os.path.exists(path) and _common.md5(path) == FILES[name]


def is_present(target_dir):
    return all(_good(os.path.join(target_dir, name), name) for name in FILES)


def path(data_dir, name):
    """The path of sample ``name`` in ``data_dir``; UserError naming the fetch when missing."""
    full = os.path.join(data_dir, name)
    if not os.path.isfile(full):
        raise _common.UserError("%s not found; run python setup/get_data.py %s (or pass an image "
                                "path)" % (full, NAME))
    return full


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "OpenCV samples already in %s (checksums verified)" % target_dir
    with _common.staging_dir(target_dir) as staging:
        wanted = [n for n in FILES if not _good(os.path.join(target_dir, n), n)]
        sources = []
        if not offline:
            from_mirror = []
            for name in wanted:
                dest = os.path.join(staging, name)
                if not _common.download_url(MIRROR + name, dest, log=log):
                    break  # mirror unreachable: do not wait for every file
                if _good(dest, name):
                    from_mirror.append(name)
                else:
                    os.remove(dest)
            if from_mirror:
                sources.append("%d files from %s" % (len(from_mirror), MIRROR))
            wanted = [n for n in wanted if n not in from_mirror]
        if wanted:
            deb = _common.deb_members(DEB_PACKAGE, [DEB_DIR + n for n in wanted], staging, log=log)
            sources.append("%d files from Debian package %s (%s)" % (len(wanted), DEB_PACKAGE, deb))
        bad = [n for n in FILES if not _good(os.path.join(staging, n), n)
               and not _good(os.path.join(target_dir, n), n)]
        if bad:
            raise _common.UserError("%s failed their checksums; delete %s and retry"
                                    % (", ".join(bad), target_dir))
        _common.install_files(staging, target_dir,
                              [n for n in FILES if os.path.exists(os.path.join(staging, n))])
    return "OpenCV samples: %s into %s (checksums verified)" % ("; ".join(sources), target_dir)
