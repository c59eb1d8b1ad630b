"""Moving-object detection in video: background subtraction, morphology, contours, boxes.

    python apps/motion_detection/detect.py                          # data/vtest/vtest.avi, MOG2
    python apps/motion_detection/detect.py --method knn --csv boxes.csv
    python apps/motion_detection/detect.py --input 0                # camera 0, shows a window

Each frame: foreground mask (MOG2 or KNN background model, or the difference
to the previous frame) -> threshold (drops MOG2/KNN shadows) -> opening to
remove speckle, closing + dilation to join the parts of one object ->
external contours -> bounding boxes of contours larger than --min_area.
Boxes and a frame counter are drawn; the annotated video goes to --output,
a few frames to PNGs (--save_frames), the boxes per frame to --csv.
A window is shown only when a display exists and --no-display is not given.

The functions (open_video, BackgroundSubtractor, find_boxes, draw_boxes, ...)
are imported by apps/motion_recognition/recognize.py.
"""
import argparse
import csv
import os
import sys

import cv2
import numpy as np

from tfcourse import cli, default_data_dir, IMAGES_DIR, REPO_ROOT, RESULTS_DIR

METHODS = ("mog2", "knn", "diff")
#: (writer fourcc, extension): mp4v in .mp4 and MJPG in .avi work in the
#: opencv-python(-headless) wheels (H.264 'avc1' does not)
FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}


# ---------------------------------------------------------------------------
# video in / out
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
                                "fetch the demo video: python setup/get_data.py vtest" % source)
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
    n = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    return n if n > 0 else 0


def video_writer(path, fps, size):
    """A VideoWriter for ``path`` (.mp4 -> mp4v, .avi -> MJPG); UserError if it cannot open."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FOURCC:
        raise cli.UserError("--output must end in .mp4 or .avi (got %s)" % path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*FOURCC[ext]), fps, size)
    if not writer.isOpened():
        raise cli.UserError("OpenCV cannot write %s; try an .avi output (MJPG)" % path)
    return writer


def can_show_window():
    """True when a window can be opened: a display and an OpenCV build with a GUI backend."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        return False
    gui = [line for line in cv2.getBuildInformation().splitlines()
           if line.strip().startswith("GUI:")]
    return not (gui and "NONE" in gui[0].upper())


# ---------------------------------------------------------------------------
# motion mask and boxes
# ---------------------------------------------------------------------------

class FrameDifference:
    """Foreground = pixels that changed by more than ``threshold`` since the previous frame."""

    def __init__(self, threshold=25):
        self.threshold = threshold
        self.previous = None

    def apply(self, frame):
        gray = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        if self.previous is None:
            self.previous = gray
            return np.zeros_like(gray)
        diff = cv2.absdiff(gray, self.previous)
        self.previous = gray
        return cv2.threshold(diff, self.threshold, 255, cv2.THRESH_BINARY)[1]


class BackgroundSubtractor:
    """``apply(frame) -> mask`` (uint8, 255 = moving) for method mog2, knn or diff."""

    def __init__(self, method="mog2", history=500, threshold=None):
        if method == "mog2":
            self.model = cv2.createBackgroundSubtractorMOG2(
                history=history, varThreshold=16 if threshold is None else threshold,
                detectShadows=True)
        elif method == "knn":
            self.model = cv2.createBackgroundSubtractorKNN(
                history=history, dist2Threshold=400 if threshold is None else threshold,
                detectShadows=True)
        elif method == "diff":
            self.model = FrameDifference(25 if threshold is None else threshold)
        else:
            raise cli.UserError("--method must be one of %s" % ", ".join(METHODS))
        self.method = method

    def apply(self, frame):
        mask = self.model.apply(frame)
        # MOG2/KNN mark shadows 127: keep only real foreground (255)
        return cv2.threshold(mask, 200, 255, cv2.THRESH_BINARY)[1]


def clean_mask(mask, kernel_size=3, dilate=2):
    """Opening removes speckle; closing and dilation join the pieces of one object."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel_size, kernel_size))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2)
    return cv2.dilate(mask, kernel, iterations=dilate)


def find_boxes(mask, min_area=300):
    """Bounding boxes (x1, y1, x2, y2) of the external contours of ``mask`` above ``min_area``."""
    contours = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[-2]
    boxes = []
    for contour in contours:
        if cv2.contourArea(contour) < min_area:
            continue
        x, y, w, h = cv2.boundingRect(contour)
        boxes.append((x, y, x + w, y + h))
    return sorted(boxes)


class MotionDetector:
    """Background model + morphology + contours: ``detect(frame) -> (boxes, mask)``."""

    def __init__(self, method="mog2", min_area=300, history=500, threshold=None,
                 kernel_size=3, warmup=0):
        self.subtractor = BackgroundSubtractor(method, history, threshold)
        self.min_area = min_area
        self.kernel_size = kernel_size
        self.warmup = warmup
        self.seen = 0

    def detect(self, frame):
        mask = clean_mask(self.subtractor.apply(frame), self.kernel_size)
        self.seen += 1
        if self.seen <= self.warmup:  # background model still learning
            return [], mask
        return find_boxes(mask, self.min_area), mask


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


def shown(path):
    """``path`` as recorded in the JSON: relative to the repository or the data folder."""
    if not path or str(path).isdigit():
        return path
    path = os.path.abspath(path)
    for root, prefix in ((default_data_dir(), "data"), (REPO_ROOT, "")):
        if path.startswith(os.path.abspath(root) + os.sep):
            return os.path.join(prefix, os.path.relpath(path, root))
    return path


def save_png(path, image, max_width=1024):
    """Write ``image`` as PNG, scaled down to at most ``max_width`` pixels (keeps files small)."""
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
# command line
# ---------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--input", default=default_data_dir("vtest", "vtest.avi"),
                   help="video file, or a camera index such as 0 (default: %(default)s)")
    p.add_argument("--method", default="mog2", choices=METHODS,
                   help="mog2 / knn background subtraction, or diff (frame differencing)")
    p.add_argument("--min_area", type=int, default=300, help="smallest contour area in pixels")
    p.add_argument("--history", type=int, default=500, help="frames in the background model")
    p.add_argument("--threshold", type=float, default=None,
                   help="MOG2 varThreshold (16) / KNN dist2Threshold (400) / diff level (25)")
    p.add_argument("--kernel", type=int, default=3, help="morphology kernel size")
    p.add_argument("--warmup", type=int, default=10,
                   help="frames to learn the background before reporting boxes")
    p.add_argument("--max_frames", type=int, default=0, help="stop after N frames (0 = all)")
    p.add_argument("--output", default=os.path.join(REPO_ROOT, "runs", "motion_detection.mp4"),
                   help="annotated video, .mp4 (mp4v) or .avi (MJPG); '' for none")
    p.add_argument("--images_dir", default=IMAGES_DIR, help="folder for the PNG frames")
    p.add_argument("--prefix", default="apps_motion_detection", help="PNG file-name prefix")
    p.add_argument("--save_frames", default="150,400",
                   help="frame numbers saved as PNG (annotated frame next to its mask)")
    p.add_argument("--csv", default=None, help="write frame,x1,y1,x2,y2 per box to this CSV")
    p.add_argument("--result", default=os.path.join(RESULTS_DIR, "apps_motion_detection.json"),
                   help="JSON summary ('' for none)")
    p.add_argument("--no-display", "--no_display", dest="no_display", action="store_true",
                   help="never open a window (also automatic when there is no display)")
    args = p.parse_args(argv)
    for flag in ("min_area", "history", "kernel"):
        cli.check_positive("--" + flag, getattr(args, flag))
    args.save_frames = parse_frame_list(args.save_frames)
    return args


def main(argv=None):
    args = parse_args(argv)
    capture, first = open_video(args.input)
    height, width = first.shape[:2]
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    total = frame_count(capture)
    if args.max_frames:
        total = min(total, args.max_frames) if total else args.max_frames
    show = not args.no_display and can_show_window()
    if not args.no_display and not show:
        print("no display (or no GUI in this OpenCV build): running headless")

    detector = MotionDetector(args.method, args.min_area, args.history, args.threshold,
                              args.kernel, args.warmup)
    writer = video_writer(args.output, fps, (width, height)) if args.output else None
    csv_file = open(args.csv, "w", newline="") if args.csv else None
    rows = csv.writer(csv_file) if csv_file else None
    if rows:
        rows.writerow(["frame", "x1", "y1", "x2", "y2"])
    progress = cli.Progress(total or 1, unit="frames")
    saved, boxes_per_frame, n = [], [], 0
    try:
        for n, frame in frames(capture, first, args.max_frames):
            boxes, mask = detector.detect(frame)
            boxes_per_frame.append(len(boxes))
            annotated = draw_boxes(frame.copy(), boxes)
            draw_counter(annotated, "frame %d  %s  moving: %d" % (n, args.method, len(boxes)))
            if writer:
                writer.write(annotated)
            if rows:
                rows.writerows([n] + list(b) for b in boxes)
            if n in args.save_frames:
                side = side_by_side(annotated, mask)
                saved.append(save_png(os.path.join(args.images_dir, "%s_%s_frame%d.png"
                                                   % (args.prefix, args.method, n)), side))
            if show:
                cv2.imshow("motion detection (q quits)", annotated)
                if cv2.waitKey(1) & 0xFF == ord("q"):
                    break
            if n % 100 == 0:
                progress.update(n, boxes=len(boxes))
    finally:
        capture.release()
        if writer:
            writer.release()
        if csv_file:
            csv_file.close()
        if show:
            cv2.destroyAllWindows()
    counts = np.array(boxes_per_frame)
    summary = {
        "script": "apps/motion_detection/detect.py", "input": shown(args.input),
        "method": args.method, "frames": n, "size": [width, height], "fps": fps,
        "frames_with_motion": int((counts > 0).sum()),
        "mean_boxes_per_frame": float(counts.mean()) if n else 0.0,
        "max_boxes_in_a_frame": int(counts.max()) if n else 0,
        "seconds": round(progress.elapsed(), 1),
        "frames_per_second": round(n / max(progress.elapsed(), 1e-9), 1),
        "output": shown(args.output), "pngs": [shown(p) for p in saved],
        "csv": shown(args.csv),
    }
    print("%d frames, motion in %d, %.2f boxes per frame on average, %.1f frames/s"
          % (n, summary["frames_with_motion"], summary["mean_boxes_per_frame"],
             summary["frames_per_second"]))
    if args.result:
        cli.write_json(args.result, summary)
    for path in [args.output, args.csv, args.result] + saved:
        if path:
            print("wrote", path)
    return 0


if __name__ == "__main__":
    cli.run(main)
