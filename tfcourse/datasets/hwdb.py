"""CASIA HWDB1.1 offline handwritten Chinese characters, the .gnt files (online only).

Files written: ``train/*.gnt`` (HWDB1.1trn, 240 writers) and ``test/*.gnt``
(HWDB1.1tst, 60 other writers), 3755 GB2312 level-1 classes plus 171
symbols, and ``SOURCE.txt``.  They come from CASIA's published archives
``HWDB1.1trn_gnt.zip`` (1.9 GB) and ``HWDB1.1tst_gnt.zip`` (0.5 GB); a
member packed as ALZip (``.alz``, as in the training archive) is unpacked
with ``unalz`` (Debian package ``unalz``).  No package ships HWDB: offline,
train on the rendered fonts instead (``apps/chinese_characters/generate.py``).
"""
import glob
import os
import shutil
import subprocess
import zipfile

from tfcourse.datasets import _common

NAME = "hwdb"
ORDER = 81
ONLINE_ONLY = True  # 2.4 GB, no package ships it: "get_data.py all" skips it; name it to fetch
DESCRIPTION = ("CASIA HWDB1.1 handwritten Chinese characters, .gnt (2.4 GB download from "
               "CASIA; online only)")

BASE_URL = "http://www.nlpr.ia.ac.cn/databases/download/feature_data/"
ARCHIVES = {"train": "HWDB1.1trn_gnt.zip", "test": "HWDB1.1tst_gnt.zip"}
SOURCE_FILE = "SOURCE.txt"
TIMEOUT = 60.0
OFFLINE_FIX = ("CASIA HWDB1.1 is online only; train on the rendered fonts instead "
               "(python apps/chinese_characters/generate.py)")


def gnt_files(directory):
    return sorted(glob.glob(os.path.join(directory, "*.gnt")))


def is_present(target_dir):
    return (os.path.exists(os.path.join(target_dir, SOURCE_FILE))
            and all(gnt_files(os.path.join(target_dir, split)) for split in ARCHIVES))


def _unalz(archive, out_dir):
    if shutil.which("unalz") is None:
        raise _common.UserError("%s holds an ALZip archive and unalz is missing; run "
                                "`apt-get install unalz` as root, then retry"
                                % os.path.basename(archive))
    proc = subprocess.run(["unalz", "-d", out_dir, archive], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, timeout=3600)
    if proc.returncode != 0:
        raise _common.UserError("unalz could not unpack %s (%s); delete it and retry"
                                % (archive, (proc.stdout.strip().splitlines() or ["?"])[-1]))


def _unpack(archive, out_dir, work_dir):
    """Every .gnt of ``archive`` (directly or inside an .alz member) into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.infolist():
                base = os.path.basename(member.filename)
                if not base.lower().endswith((".gnt", ".alz")):
                    continue
                dest = os.path.join(out_dir if base.lower().endswith(".gnt") else work_dir,
                                    base)
                with zf.open(member) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
    except zipfile.BadZipFile as exc:
        raise _common.UserError("%s is not a valid zip (%s); delete it and retry"
                                % (os.path.basename(archive), exc))
    for alz in glob.glob(os.path.join(work_dir, "*.alz")):
        unpacked = os.path.join(work_dir, "alz")
        _unalz(alz, unpacked)
        for path in glob.glob(os.path.join(unpacked, "**", "*.gnt"), recursive=True):
            os.replace(path, os.path.join(out_dir, os.path.basename(path)))
        shutil.rmtree(unpacked, ignore_errors=True)
        os.remove(alz)


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "HWDB1.1 already in %s" % target_dir
    if offline:
        raise _common.UserError(OFFLINE_FIX)
    counts = {}
    with _common.staging_dir(target_dir) as staging:
        for split, name in ARCHIVES.items():
            archive = os.path.join(staging, name)
            log("  downloading %s%s ..." % (BASE_URL, name))
            if not _common.download_url(BASE_URL + name, archive, timeout=TIMEOUT, log=log):
                raise _common.UserError("%s%s not reachable; %s" % (BASE_URL, name, OFFLINE_FIX))
            work = os.path.join(staging, "work-" + split)
            os.makedirs(work)
            _unpack(archive, os.path.join(staging, split), work)
            os.remove(archive)
            shutil.rmtree(work, ignore_errors=True)
            counts[split] = len(gnt_files(os.path.join(staging, split)))
            if not counts[split]:
                raise _common.UserError("%s holds no .gnt file; the archive changed, please "
                                        "report it" % name)
        with open(os.path.join(staging, SOURCE_FILE), "w", encoding="utf-8") as f:
            f.write("CASIA HWDB1.1 from %s: %s\n" % (BASE_URL, ", ".join(
                "%s %d .gnt files (%s)" % (s, counts[s], ARCHIVES[s]) for s in ARCHIVES)))
        os.makedirs(target_dir, exist_ok=True)
        for split in ARCHIVES:
            shutil.rmtree(os.path.join(target_dir, split), ignore_errors=True)
        _common.install_files(staging, target_dir, list(ARCHIVES) + [SOURCE_FILE])
    return "HWDB1.1: %d train / %d test .gnt files from %s into %s" % (
        counts["train"], counts["test"], BASE_URL, target_dir)
