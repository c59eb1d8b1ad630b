"""``vtest.avi``: OpenCV's sample street video (795 frames, 768x576, 10 fps, people walking).

First the file in the OpenCV samples on GitHub; otherwise the Debian package
``opencv-doc`` (``apt-get download`` into a temporary folder, no root needed,
but the apt package lists must exist: ``apt-get update`` as root once), whose
``usr/share/doc/opencv-doc/examples/data/vtest.avi`` is the same file.  The
video is checked by MD5.
"""
import os

from tfcourse.datasets import _common

NAME = "vtest"
ORDER = 70
DESCRIPTION = "OpenCV sample video vtest.avi (people walking, 795 frames, 8 MB; Debian opencv-doc)"

MIRROR = "https://raw.githubusercontent.com/opencv/opencv/master/samples/data/vtest.avi"
DEB_PACKAGE = "opencv-doc"
DEB_MEMBER = "usr/share/doc/opencv-doc/examples/data/vtest.avi"
FILE = "vtest.avi"
MD5 = "d401fe2028f78dd585e2ade0a0d678c0"


def is_present(target_dir):
    path = os.path.join(target_dir, FILE)
    return os.path.exists(path) and _common.md5(path) == MD5


def _from_debian(staging, log):
    deb = _common.deb_members(DEB_PACKAGE, [DEB_MEMBER], staging, log=log)
    return "Debian package %s (%s)" % (DEB_PACKAGE, deb)


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "vtest.avi already in %s (checksum verified)" % target_dir
    with _common.staging_dir(target_dir) as staging:
        source = None
        if not offline and _common.download_url(MIRROR, os.path.join(staging, FILE), log=log):
            source = MIRROR if is_present(staging) else None
        if source is None:
            source = _from_debian(staging, log)
        if not is_present(staging):
            raise _common.UserError("vtest.avi from %s failed its checksum; delete %s and retry"
                                    % (source, target_dir))
        _common.install_files(staging, target_dir, [FILE])
    return "vtest.avi from %s into %s (checksum verified)" % (source, target_dir)
