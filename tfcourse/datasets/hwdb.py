"""CASIA HWDB1.1 offline handwritten Chinese characters, the .gnt files (online only).

Files written: ``train/*.gnt`` (HWDB1.1trn, 240 writers) and ``test/*.gnt``
(HWDB1.1tst, 60 other writers), 3755 GB2312 level-1 classes plus 171
symbols, and ``SOURCE.txt``.  They come from CASIA's published archives
``HWDB1.1trn_gnt.zip`` (1.9 GB) and ``HWDB1.1tst_gnt.zip`` (0.5 GB); a
member packed as ALZip (``.alz``, as in the training archive) is unpacked
with ``unalz`` (Debian package ``unalz``).  No package ships HWDB: offline,
train on the rendered fonts instead (``apps/chinese_characters/generate.py``).

GNT (CASIA HWDB1.x, little-endian), one record per sample::

    uint32  sample size in bytes (10 + width * height)
    2 bytes tag code: the character in GB2312 (e.g. b'\\xb0\\xa1' = 啊; an ASCII
            symbol is its byte and 0)
    uint16  width
    uint16  height
    uint8   bitmap[height][width]  (255 = paper, darker = ink)

The set is never held in memory (blog part 8: with all of it, 32 GB of RAM were not
enough): :func:`read_gnt` yields one sample at a time, :func:`class_counts` reads only the
headers, :func:`samples` yields the network's inputs of the classes kept, file by file.
"""
import glob
import os
import shutil
import struct
import subprocess
import zipfile

import numpy as np

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


HEADER = struct.Struct("<I2sHH")


def gnt_files(directory):
    return sorted(glob.glob(os.path.join(directory, "*.gnt")))


def _headers(path, read_bitmaps):
    """Yield ``(character, bitmap bytes or None)`` of every sample of a .gnt file; without
    ``read_bitmaps`` the bitmaps are skipped (only the headers are read)."""
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise _common.UserError("cannot open %s (%s)" % (path, exc.strerror))
    with f:
        end = os.fstat(f.fileno()).st_size
        offset = 0
        while True:
            header = f.read(HEADER.size)
            if not header:
                return
            if len(header) < HEADER.size:
                raise _common.UserError("%s is truncated at byte %d; fetch it again"
                                        % (path, offset))
            size, tag, width, height = HEADER.unpack(header)
            if size != HEADER.size + width * height:
                raise _common.UserError("%s is not a GNT file (sample at byte %d says %d bytes "
                                        "for %dx%d); fetch it again"
                                        % (path, offset, size, width, height))
            if read_bitmaps:
                bitmap = f.read(width * height)
                if len(bitmap) < width * height:
                    raise _common.UserError("%s is truncated at byte %d; fetch it again"
                                            % (path, offset))
            else:
                bitmap = None
                if offset + size > end:
                    raise _common.UserError("%s is truncated at byte %d; fetch it again"
                                            % (path, offset))
                f.seek(width * height, os.SEEK_CUR)
            tag = tag.rstrip(b"\x00")                  # an ASCII symbol: one byte, then 0
            try:
                char = tag.decode("gb2312")
            except UnicodeDecodeError:
                char = tag.decode("gbk", errors="replace")
            yield char, (bitmap, height, width)
            offset += size


def read_gnt(path):
    """Yield ``(character, bitmap uint8 [height, width])`` for every sample of a .gnt file."""
    for char, (bitmap, height, width) in _headers(path, True):
        yield char, np.frombuffer(bitmap, np.uint8).reshape(height, width)


def write_gnt(path, samples):
    """Write ``(character, bitmap)`` pairs as a .gnt file (for tests and small exports)."""
    from tfcourse import cli

    with cli.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            for char, bitmap in samples:
                bitmap = np.asarray(bitmap, np.uint8)
                height, width = bitmap.shape
                f.write(HEADER.pack(HEADER.size + width * height,
                                    char.encode("gb2312").ljust(2, b"\x00"), width, height))
                f.write(bitmap.tobytes())
    return path


def class_counts(files, index):
    """How many samples of each label of ``index`` ({character: label 0..n-1}) ``files``
    hold, as a list by label: only the headers are read."""
    counts = [0] * len(index)
    for path in files:
        for char, _ in _headers(path, False):
            if char in index:
                counts[index[char]] += 1
    return counts


def samples(files, index, image_size):
    """Yield ``(image uint8 [image_size, image_size], label)`` for every sample of ``files``
    (in order) whose character is in ``index`` ({character: label}), its ink box scaled
    and centred as the character CNN sees it (``tfcourse.cjk.prepare``)."""
    from tfcourse import cjk

    for path in files:
        for char, bitmap in read_gnt(path):
            if char in index:
                yield cjk.prepare(bitmap, image_size), index[char]


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
