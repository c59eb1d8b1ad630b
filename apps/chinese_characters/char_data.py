"""Data of the character recogniser: the class list, CASIA's .gnt files, image normalisation.

GNT (CASIA HWDB1.x, little-endian), one record per sample::

    uint32  sample size in bytes (10 + width * height)
    2 bytes tag code: the character in GB2312 (e.g. b'\\xb0\\xa1' = 啊; an ASCII
            symbol is its byte and 0)
    uint16  width
    uint16  height
    uint8   bitmap[height][width]  (255 = paper, darker = ink)
"""
import glob
import os
import struct

import numpy as np

from tfcourse import cjk, cli

HEADER = struct.Struct("<I2sHH")


def classes(num_classes):
    """The first ``num_classes`` GB2312 level-1 characters (all 3755 for 0)."""
    chars = cjk.level1()
    if not 0 <= num_classes <= len(chars):
        raise cli.UserError("--num_classes must be between 1 and %d (0 = all)" % len(chars))
    return chars[:num_classes or len(chars)]


def read_gnt(path):
    """Yield ``(character, bitmap uint8 [height, width])`` for every sample of a .gnt file."""
    try:
        f = open(path, "rb")
    except OSError as exc:
        raise cli.UserError("cannot open %s (%s)" % (path, exc.strerror))
    with f:
        offset = 0
        while True:
            header = f.read(HEADER.size)
            if not header:
                return
            if len(header) < HEADER.size:
                raise cli.UserError("%s is truncated at byte %d; fetch it again" % (path, offset))
            size, tag, width, height = HEADER.unpack(header)
            if size != HEADER.size + width * height:
                raise cli.UserError("%s is not a GNT file (sample at byte %d says %d bytes for "
                                    "%dx%d); fetch it again" % (path, offset, size, width, height))
            bitmap = f.read(width * height)
            if len(bitmap) < width * height:
                raise cli.UserError("%s is truncated at byte %d; fetch it again" % (path, offset))
            tag = tag.rstrip(b"\x00")                  # an ASCII symbol: one byte, then 0
            try:
                char = tag.decode("gb2312")
            except UnicodeDecodeError:
                char = tag.decode("gbk", errors="replace")
            yield char, np.frombuffer(bitmap, np.uint8).reshape(height, width)
            offset += size


def write_gnt(path, samples):
    """Write ``(character, bitmap)`` pairs as a .gnt file (for tests and small exports)."""
    with cli.atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            for char, bitmap in samples:
                bitmap = np.asarray(bitmap, np.uint8)
                height, width = bitmap.shape
                f.write(HEADER.pack(HEADER.size + width * height,
                                    char.encode("gb2312").ljust(2, b"\x00"), width, height))
                f.write(bitmap.tobytes())
    return path


def paper_to_ink(image):
    """uint8 greyscale (dark ink on light paper) -> float ink mask in [0, 1]."""
    return 1.0 - np.asarray(image, np.float32) / 255.0


def prepare(image, image_size):
    """Any greyscale character image -> the network's uint8 input (centred ink box)."""
    return cjk.to_paper(cjk.normalize_ink(paper_to_ink(image), image_size))


def load_gnt_dir(directory, chars, image_size, fix):
    """Images uint8 [N, S, S] and labels (index into ``chars``) of every .gnt in ``directory``;
    samples of other characters are skipped."""
    files = sorted(glob.glob(os.path.join(directory, "*.gnt")))
    if not files:
        raise cli.UserError("no .gnt files in %s; run %s" % (directory, fix))
    index = {c: i for i, c in enumerate(chars)}
    images, labels = [], []
    for path in files:
        for char, bitmap in read_gnt(path):
            if char in index:
                images.append(prepare(bitmap, image_size))
                labels.append(index[char])
    if not images:
        raise cli.UserError("the .gnt files in %s hold none of the %d classes" % (directory,
                                                                                 len(chars)))
    return np.stack(images), np.array(labels, np.int32)
