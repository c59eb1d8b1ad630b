"""Oxford's 17 Category Flower Dataset: 1360 jpgs, 80 per class, in consecutive blocks of 80.

From its standard URLs only: ``17flowers.tgz`` (folder ``jpg/`` with
``image_0001.jpg`` .. ``image_1360.jpg``) and, when it answers, the official
splits ``datasplits.mat`` (three train/validation/test splits of 40/20/20
images per class).  No published checksum of the archive is known for
certain here, so the archive is checked by its structure (all 1360
``image_XXXX.jpg`` files) and its size is reported.  Without internet access,
put ``17flowers.tgz`` (and ``datasplits.mat``) into the data folder by hand
and run the fetch again.
"""
import os
import re
import shutil
import tarfile

from tfcourse.datasets import _common

NAME = "flowers17"
ORDER = 14
DESCRIPTION = "Oxford 17 Category Flowers (1360 jpgs, 80 per class; online)"

URL = "https://www.robots.ox.ac.uk/~vgg/data/flowers/17/17flowers.tgz"
SPLITS_URL = "https://www.robots.ox.ac.uk/~vgg/data/flowers/17/datasplits.mat"
ARCHIVE = "17flowers.tgz"
SPLITS = "datasplits.mat"
FOLDER = "jpg"
NUM_CLASSES = 17
PER_CLASS = 80
CLASS_NAMES = ("daffodil", "snowdrop", "lily valley", "bluebell", "crocus", "iris", "tigerlily",
               "tulip", "fritillary", "sunflower", "daisy", "colts' foot", "dandelion", "cowslip",
               "buttercup", "windflower", "pansy")
_IMAGE = re.compile(r"(?:^|/)jpg/(image_(\d{4})\.jpg)$")


#: seconds before a large download gives up
DOWNLOAD_TIMEOUT = max(60.0, _common.MIRROR_TIMEOUT)


def num_images():
    return NUM_CLASSES * PER_CLASS


def image_names():
    return ["image_%04d.jpg" % i for i in range(1, num_images() + 1)]


def is_present(target_dir):
    folder = os.path.join(target_dir, FOLDER)
    return os.path.isdir(folder) and all(os.path.exists(os.path.join(folder, n))
                                         for n in image_names())


def _extract(archive, staging):
    """Extract jpg/image_XXXX.jpg (nothing else) into staging/jpg; check all are there."""
    wanted = set(image_names())
    os.makedirs(os.path.join(staging, FOLDER))
    found = set()
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                match = _IMAGE.search(member.name)
                if not (member.isfile() and match and match.group(1) in wanted):
                    continue
                with open(os.path.join(staging, FOLDER, match.group(1)), "wb") as out:
                    out.write(tar.extractfile(member).read())
                found.add(match.group(1))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _common.UserError("%s is not a readable tar.gz archive (%s); delete it and retry"
                                % (archive, exc)) from exc
    missing = sorted(wanted - found)
    if missing:
        raise _common.UserError("%s lacks %d of the %d images (%s ...); it is not 17flowers.tgz: "
                                "delete it and retry" % (archive, len(missing), len(wanted),
                                                         missing[0]))


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "17 Flowers already complete in %s (%d images)" % (target_dir, num_images())
    by_hand = os.path.join(target_dir, ARCHIVE)
    with _common.staging_dir(target_dir) as staging:
        archive = os.path.join(staging, ARCHIVE)
        if os.path.exists(by_hand):
            archive, source = by_hand, by_hand
        elif offline or not _common.download_url(URL, archive, timeout=DOWNLOAD_TIMEOUT, log=log):
            raise _common.UserError("17 Flowers needs the internet: download %s (and %s) into "
                                    "%s by hand and run the fetch again"
                                    % (URL, SPLITS_URL, target_dir))
        else:
            source = URL
        size = os.path.getsize(archive)
        log("  %s: %d bytes" % (ARCHIVE, size))
        _extract(archive, staging)
        names = [FOLDER]
        splits = os.path.join(staging, SPLITS)
        if os.path.exists(os.path.join(target_dir, SPLITS)):
            log("  official splits %s already in %s" % (SPLITS, target_dir))
        elif not offline and _common.download_url(SPLITS_URL, splits, log=log):
            names.append(SPLITS)
        else:
            log("  no official splits: the loader uses a seeded 80/10/10 split")
        if os.path.isdir(os.path.join(target_dir, FOLDER)):
            shutil.rmtree(os.path.join(target_dir, FOLDER))  # an incomplete earlier copy
        _common.install_files(staging, target_dir, names)
    if archive == by_hand:
        os.remove(by_hand)
    return ("17 Flowers: %d images from %s (%d bytes, structure verified)%s into %s"
            % (num_images(), source, size, " and official splits" if SPLITS in names else "",
               target_dir))
