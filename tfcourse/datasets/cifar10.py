"""CIFAR-10, the python version: 50000 training and 10000 test 32x32 colour images, 10 classes.

From its standard URL only (no package ships it): ``cifar-10-python.tar.gz``
(163 MB), MD5-checked, then the seven pickled batch files of its
``cifar-10-batches-py/`` folder are extracted into the data folder and
checked by their own MD5 sums.  Without internet access, put the archive
into the data folder by hand (``DIR/cifar10/cifar-10-python.tar.gz``) and run
the fetch again: it is used, checked and removed.
"""
import os
import tarfile

from tfcourse.datasets import _common

NAME = "cifar10"
ORDER = 13
DESCRIPTION = "CIFAR-10 colour images, python version (50000 train / 10000 test, 163 MB; online)"

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-python.tar.gz"
ARCHIVE_MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py/"
#: file in the archive's folder -> its MD5
FILES = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
TRAIN_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")
TEST_FILE = "test_batch"


def verify(directory):
    """Names of the batch files in ``directory`` that are missing or do not match their MD5."""
    return [name for name, digest in FILES.items()
            if not (os.path.exists(os.path.join(directory, name))
                    and _common.md5(os.path.join(directory, name)) == digest)]


#: seconds before a large download gives up
DOWNLOAD_TIMEOUT = max(60.0, _common.MIRROR_TIMEOUT)


def is_present(target_dir):
    return not verify(target_dir)


def _extract(archive, staging):
    try:
        with tarfile.open(archive) as tar:
            for name in FILES:
                member = tar.extractfile(FOLDER + name)
                with open(os.path.join(staging, name), "wb") as out:
                    out.write(member.read())
    except (tarfile.TarError, KeyError, OSError, EOFError) as exc:
        raise _common.UserError("%s is not the CIFAR-10 python archive (%s); delete it and retry"
                                % (archive, exc)) from exc


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "CIFAR-10 already complete in %s (checksums verified)" % target_dir
    by_hand = os.path.join(target_dir, ARCHIVE)
    with _common.staging_dir(target_dir) as staging:
        archive = os.path.join(staging, ARCHIVE)
        if os.path.exists(by_hand):
            archive, source = by_hand, by_hand
        elif offline or not _common.download_url(URL, archive, timeout=DOWNLOAD_TIMEOUT, log=log):
            raise _common.UserError("CIFAR-10 needs the internet: download %s into %s by hand "
                                    "and run the fetch again" % (URL, target_dir))
        else:
            source = URL
        digest = _common.md5(archive)
        if digest != ARCHIVE_MD5:
            raise _common.UserError("%s from %s has MD5 %s, not %s; delete it and retry"
                                    % (ARCHIVE, source, digest, ARCHIVE_MD5))
        _extract(archive, staging)
        bad = [n for n in verify(staging) if n in FILES]
        if bad:
            raise _common.UserError("CIFAR-10 files %s failed their checksums; delete %s and retry"
                                    % (", ".join(bad), target_dir))
        _common.install_files(staging, target_dir, list(FILES))
    if archive == by_hand:
        os.remove(by_hand)
    return "CIFAR-10: 7 batch files from %s into %s (checksums verified)" % (source, target_dir)
