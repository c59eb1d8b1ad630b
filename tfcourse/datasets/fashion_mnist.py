"""Fashion-MNIST (Zalando): 60000 training and 10000 test 28x28 clothing images, IDX files.

The same four file names and format as MNIST, so the MNIST reader reads them.
Online: the standard mirror.  Offline: the Debian package
``dataset-fashion-mnist`` (``apt-get download``, no root needed once the apt
lists exist), whose ``usr/share/datasets/fashion-mnist/`` holds the same
files, gzipped anew.  Either way the files are checked against the standard
MD5 sums of their uncompressed content.
"""
import os

from tfcourse.datasets import _common

NAME = "fashion_mnist"
ORDER = 12
DESCRIPTION = ("Fashion-MNIST clothing images (60000 train / 10000 test IDX files, 30 MB; "
               "Debian dataset-fashion-mnist)")

MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
DEB_PACKAGE = "dataset-fashion-mnist"
DEB_DIR = "usr/share/datasets/fashion-mnist/"
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")

#: standard file name (without .gz) -> MD5 of the uncompressed file
FILES = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}


def verify(directory):
    """Names of the files in ``directory`` that are missing or do not match their MD5."""
    return _common.verify_gz(directory, FILES)


def is_present(target_dir):
    return not verify(target_dir)


def _from_mirrors(staging, log):
    return _common.gz_from_mirrors(MIRRORS, FILES, staging, log)


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "Fashion-MNIST already complete in %s (checksums verified)" % target_dir
    with _common.staging_dir(target_dir) as staging:
        source = None if offline else _from_mirrors(staging, log)
        if source is None:
            for leftover in os.listdir(staging):
                os.remove(os.path.join(staging, leftover))
            deb = _common.deb_members(DEB_PACKAGE, [DEB_DIR + n + ".gz" for n in FILES], staging,
                                      log=log)
            source = "Debian package %s (%s)" % (DEB_PACKAGE, deb)
        bad = verify(staging)
        if bad:
            raise _common.UserError("Fashion-MNIST from %s failed its checksum (%s); delete %s "
                                    "and retry" % (source, ", ".join(bad), target_dir))
        _common.install_files(staging, target_dir, [n + ".gz" for n in FILES])
    return "Fashion-MNIST: 4 IDX files from %s into %s (checksums verified)" % (source, target_dir)
