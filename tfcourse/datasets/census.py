"""UCI Adult ("census income"), the data of TensorFlow's Wide & Deep tutorial.

Files written, as on the UCI repository: ``adult.data`` (32561 rows) and
``adult.test`` (16281 rows), comma-separated, 15 columns (:data:`COLUMNS`),
the last one the income bracket ``<=50K`` or ``>50K``.

Only the UCI repository has them (no package on PyPI or Debian ships the
files), so without its mirror ``fetch`` fails with a message saying where to
put them by hand.  :func:`read` copes with the files' quirks: the first line
of ``adult.test`` (``|1x3 Cross validator``), the trailing period of its
labels (``<=50K.``), blanks after the commas, empty lines at the end, and
``?`` for a missing value (kept as the category ``?``; NaN in a numeric
column).  A row it cannot read is one :class:`UserError` naming the file and
the line.
"""
import os

import numpy as np

from tfcourse.datasets import _common

NAME = "census"
ONLINE_ONLY = True  # no package ships it: "get_data.py all" skips it; name it to fetch
ORDER = 99  # last: "get_data.py all" fetches every other set before this online-only one
DESCRIPTION = ("UCI Adult census income (adult.data 32561 / adult.test 16281 rows, 5.7 MB); "
               "from the UCI repository only, no offline copy")

MIRROR = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
FILES = ("adult.data", "adult.test")
COLUMNS = ("age", "workclass", "fnlwgt", "education", "education_num", "marital_status",
           "occupation", "relationship", "race", "gender", "capital_gain", "capital_loss",
           "hours_per_week", "native_country", "income_bracket")
NUMERIC = ("age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week")
LABELS = ("<=50K", ">50K")
#: rows of the standard files (the loader accepts any number: tests use small ones)
STANDARD_ROWS = {"adult.data": 32561, "adult.test": 16281}


def _fix_hint(path):
    directory = os.path.dirname(os.path.abspath(path))
    return ("delete %s and run python setup/get_data.py census --data-dir %s"
            % (path, os.path.dirname(directory)))


def read(path, source=None, fix=None):
    """The rows of one census file: ``{column: values}`` plus ``label`` (1 for >50K).

    Numeric columns are float64 arrays (NaN where the file has ``?``), the
    others lists of str, the label an int64 array.  ``source`` names the file
    in messages (default ``path``), ``fix`` what to do (default: fetch it again).
    """
    source = source or path
    fix = fix or _fix_hint(path)
    if not os.path.exists(path):
        raise _common.UserError("%s is missing; run python setup/get_data.py census" % path)
    columns = {name: [] for name in COLUMNS}
    try:
        with open(path, encoding="utf-8", errors="strict") as f:
            lines = list(f)
    except (OSError, UnicodeDecodeError) as exc:
        raise _common.UserError("cannot read %s (%s); %s" % (source, exc, fix))
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("|"):   # blank lines; "|1x3 Cross validator"
            continue
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != len(COLUMNS):
            raise _common.UserError("%s line %d: expected %d comma-separated fields, got %d; %s"
                                    % (source, number, len(COLUMNS), len(fields),
                                       fix))
        fields[-1] = fields[-1].rstrip(".")     # adult.test writes "<=50K."
        if fields[-1] not in LABELS:
            raise _common.UserError("%s line %d: income bracket %r is neither <=50K nor >50K; %s"
                                    % (source, number, fields[-1], fix))
        for name, field in zip(COLUMNS, fields):
            if name in NUMERIC:
                try:
                    field = float("nan") if field == "?" else float(field)
                except ValueError:
                    raise _common.UserError("%s line %d: %s %r is not a number; %s"
                                            % (source, number, name, field, fix))
            columns[name].append(field)
    if not columns["age"]:
        raise _common.UserError("%s holds no rows; %s" % (source, fix))
    for name in NUMERIC:
        columns[name] = np.array(columns[name], dtype=np.float64)
    columns["label"] = np.array([LABELS.index(v) for v in columns.pop("income_bracket")],
                                dtype=np.int64)
    return columns


def load(directory):
    """``(train, test)``: :func:`read` of ``adult.data`` and ``adult.test`` in ``directory``."""
    if not os.path.isdir(directory):
        raise _common.UserError("census data directory %s does not exist; run python "
                                "setup/get_data.py census" % directory)
    return tuple(read(os.path.join(directory, name)) for name in FILES)


def is_present(target_dir):
    try:
        load(target_dir)
        return True
    except _common.UserError:
        return False


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "census data already in %s" % target_dir
    by_hand = ("download %s and %s into %s by hand"
               % (MIRROR + FILES[0], MIRROR + FILES[1], target_dir))
    if offline:
        raise _common.UserError("the census data is only on the UCI repository (no offline "
                                "copy); run without --offline, or " + by_hand)
    with _common.staging_dir(target_dir) as staging:
        rows = []
        for name in FILES:
            path = os.path.join(staging, name)
            if not _common.download_url(MIRROR + name, path, log=log):
                raise _common.UserError("the UCI repository did not answer; check your network "
                                        "and retry, or " + by_hand)
            rows.append(len(read(path, source=MIRROR + name,
                                 fix="nothing was installed; retry later, or " + by_hand)["label"]))
        _common.install_files(staging, target_dir, FILES)
    return "census: %s (%d rows), %s (%d rows) from %s into %s" % (
        FILES[0], rows[0], FILES[1], rows[1], MIRROR, target_dir)
