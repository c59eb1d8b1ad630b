"""Video in and out for the motion apps: open a file or camera, write results atomically.

* :func:`open_video` proves a source works by reading its first frame (a
  missing, corrupt or empty file is one clear line naming the fix);
  :func:`frames` yields the frames; :func:`frame_count` is what the container
  announces, so :func:`truncation` can tell a stream that ended early.
* :func:`video_output` and :func:`csv_output` write into a temporary file next
  to the target and rename it when the run ends well: an interrupted run
  leaves the previous video / CSV whole, and players never meet a half file.
* Drawing (:func:`draw_boxes`, :func:`draw_counter`, :func:`side_by_side`),
  :func:`save_png` and
  :func:`can_show_window`.
"""
import csv
import os
import sys

import cv2
import numpy as np

from tfcourse import cli
from tfcourse.datasets import fetch_hint

#: (writer fourcc, extension): mp4v in .mp4 and MJPG in .avi work in the
#: opencv-python(-headless) wheels (H.264 'avc1' does not)
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


# ---------------------------------------------------------------------------
# video in
# ---------------------------------------------------------------------------

def open_video(source):
    """``cv2.VideoCapture`` for a file path or a camera index ("0", "1", ...).

    Raises UserError when the file is missing, cannot be decoded or is empty.
    Returns (capture, first_frame) -- the first frame is read to prove it works.
    """
    if str(source).isdigit():
        capture = cv2.VideoCapture(int(source))
        what = "camera %s" % source
    else:
        if not os.path.isfile(source):
            raise cli.UserError("video %s not found; pass --input PATH (or a camera index), or "
                                "fetch the demo video: %s"
                                % (source, fetch_hint("vtest", os.path.dirname(source) or ".")))
        capture = cv2.VideoCapture(source)
        what = source
    ok, frame = capture.read() if capture.isOpened() else (False, None)
    if not ok or frame is None or frame.size == 0:
        capture.release()
        raise cli.UserError("cannot read a frame from %s (unsupported codec, corrupt or empty "
                            "video); convert it, e.g. ffmpeg -i IN -c:v mjpeg OUT.avi" % what)
    return capture, frame


def frames(capture, first_frame, max_frames=0):
    """Yield (index, frame) from 1, starting with ``first_frame``; stops at --max_frames."""
    index, frame = 1, first_frame
    while frame is not None:
        yield index, frame
        if max_frames and index >= max_frames:
            return
        ok, frame = capture.read()
        frame = frame if ok else None
        index += 1


def frame_count(capture):
    """The number of frames the container announces (0 when unknown, e.g. a camera)."""
    n = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    return n if n > 0 else 0


def truncation(frames_read, announced, max_frames=0, stopped=False):
    """A warning (str) when the stream ended before the container's frame count, else None."""
    expected = min(announced, max_frames) if max_frames and announced else announced
    if stopped or not expected or frames_read >= expected:
        return None
    return ("the video ended after %d of the %d frames its container announces (truncated or "
            "damaged file?); the results cover only those frames" % (frames_read, expected))


def can_show_window():
    """True when a window can be opened: a display and an OpenCV build with a GUI backend."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return False
    gui = [line for line in cv2.getBuildInformation().splitlines()
           if line.strip().startswith("GUI:")]
    return not (gui and "NONE" in gui[0].upper())


# ---------------------------------------------------------------------------
# results out: temporary file, renamed when the run ends well
# ---------------------------------------------------------------------------

def video_output(stack, path, fps, size, flag="--output"):
    """A VideoWriter into a temporary file that becomes ``path`` when ``stack`` closes.

    ``stack``: a ``contextlib.ExitStack``; ``path`` '' gives None (no video).
    .mp4 -> mp4v, .avi -> MJPG; UserError when the path cannot be written.
    """
    if not path:
        return None
    ext = os.path.splitext(path)[1].lower()
    if ext not in FOURCC:
        raise cli.UserError("%s must end in .mp4 or .avi (got %s)" % (flag, path))
    tmp = stack.enter_context(cli.atomic_path(path))
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*FOURCC[ext]), fps, size)
    if not writer.isOpened():
        raise cli.UserError("OpenCV cannot write %s; try an .avi %s (MJPG)" % (path, flag))
    stack.callback(writer.release)  # runs before the rename (the stack unwinds last-in first)
    return writer


def csv_output(stack, path, header):
    """A ``csv.writer`` into a temporary file that becomes ``path`` when ``stack`` closes."""
    if not path:
        return None
    tmp = stack.enter_context(cli.atomic_path(path))
    f = stack.enter_context(open(tmp, "w", newline=""))
    rows = csv.writer(f)
    rows.writerow(header)
    return rows


def save_png(path, image, max_width=1024):
    """Write ``image`` as PNG (atomically), scaled down to at most ``max_width`` pixels."""
    if max_width and image.shape[1] > max_width:
        scale = max_width / image.shape[1]
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    with cli.atomic_path(path) as tmp:
        if not cv2.imwrite(tmp, image, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise cli.UserError("cannot write %s" % path)
    return path


def parse_frame_list(text):
    try:
        return sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise cli.UserError("--save_frames must be comma-separated frame numbers, e.g. 100,400")


# ---------------------------------------------------------------------------
# drawing
# ---------------------------------------------------------------------------

def draw_boxes(frame, boxes, color=(0, 255, 0), labels=None):
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        cv2.rectangle(frame, (int(x1), int(y1)), (int(x2), int(y2)), color, 2)
        if labels:  # dark text on a box-coloured label above the box
            (w, h), _ = cv2.getTextSize(labels[i], cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
            top = max(int(y1) - h - 6, 0)
            cv2.rectangle(frame, (int(x1), top), (int(x1) + w + 4, top + h + 6), color, -1)
            cv2.putText(frame, labels[i], (int(x1) + 2, top + h + 2), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return frame


def draw_counter(frame, text):
    cv2.rectangle(frame, (0, 0), (12 + 9 * len(text), 26), (0, 0, 0), -1)
    cv2.putText(frame, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1,
                cv2.LINE_AA)
    return frame


def side_by_side(annotated, mask):
    """The annotated frame next to its motion mask."""
    return np.hstack([annotated, cv2.cvtColor(mask, cv2.COLOR_GRAY2BGR)])

