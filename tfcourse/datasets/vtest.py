"""``vtest.avi``: OpenCV's sample street video (795 frames, 768x576, 10 fps, people walking).

First the file in the OpenCV samples on GitHub; otherwise the Debian package
``opencv-doc`` (``apt-get download`` into a temporary folder, no root needed,
but the apt package lists must exist: ``apt-get update`` as root once), whose
``usr/share/doc/opencv-doc/examples/data/vtest.avi`` is the same file.  The
video is checked by MD5.
"""
import os
import shutil
import subprocess
import tempfile

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
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise _common.UserError("no standard mirror and no apt-get/dpkg-deb here; download %s "
                                "by hand into the data folder vtest/" % MIRROR)
    with tempfile.TemporaryDirectory(prefix="tfcourse-deb-") as tmp:
        proc = subprocess.run(["apt-get", "download", DEB_PACKAGE], cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=900)
        debs = [n for n in os.listdir(tmp) if n.endswith(".deb")]
        if not debs:
            last = (proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise _common.UserError("apt-get download %s failed (%s); run `apt-get update` as "
                                    "root first, then retry" % (DEB_PACKAGE, last[0]))
        deb = os.path.join(tmp, debs[0])
        root = os.path.join(tmp, "root")
        subprocess.run(["dpkg-deb", "-x", deb, root], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        member = os.path.join(root, DEB_MEMBER)
        if not os.path.exists(member):
            raise _common.UserError("%s has no %s; the package changed, please report it"
                                    % (debs[0], DEB_MEMBER))
        shutil.copyfile(member, os.path.join(staging, FILE))
        return "Debian package %s (%s)" % (DEB_PACKAGE, debs[0])


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
