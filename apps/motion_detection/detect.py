"""Moving-object detection in video: background subtraction, morphology, contours, boxes.

    python apps/motion_detection/detect.py                          # data/vtest/vtest.avi, MOG2
    python apps/motion_detection/detect.py --method knn --csv boxes.csv
    python apps/motion_detection/detect.py --input 0                # camera 0, shows a window

The demo task "运动目标检测" of report §1.3, which names the task only.

Each frame: foreground mask (MOG2 or KNN background model, or the difference
to the previous frame) -> threshold (drops MOG2/KNN shadows) -> opening to
remove speckle, closing + dilation to join the parts of one object ->
external contours -> bounding boxes of contours larger than --min_area
(tfcourse/motion.py, shared with apps/motion_recognition).  Boxes and a frame
counter are drawn; the annotated video goes to --output, a few frames to PNGs
in --images_dir (--save_frames), the boxes per frame to --csv and a summary to
--json, all under runs/motion_detection/ unless given ('' skips one).  Every
file is written under a temporary name and renamed at the end, so an
interrupted run leaves the previous results whole.  A window is shown only
when a display exists and --no_display is not given.
"""
import argparse
import contextlib
import os

import cv2
import numpy as np

from tfcourse import cli, default_data_dir, motion, video

NAME = "motion_detection"


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--input", default=default_data_dir("vtest", "vtest.avi"),
                   help="video file, or a camera index such as 0 (default: %(default)s)")
    p.add_argument("--method", default="mog2", choices=motion.METHODS,
                   help="mog2 / knn background subtraction, or diff (frame differencing)")
    p.add_argument("--min_area", type=int, default=300, help="smallest contour area in pixels")
    p.add_argument("--history", type=int, default=500, help="frames in the background model")
    p.add_argument("--threshold", type=cli.finite_float, default=None,
                   help="MOG2 varThreshold (16) / KNN dist2Threshold (400) / diff level (25)")
    p.add_argument("--kernel", type=int, default=3, help="morphology kernel size")
    p.add_argument("--num_warmup", type=int, default=10,
                   help="frames to learn the background before reporting boxes")
    p.add_argument("--max_frames", type=int, default=0, help="stop after N frames (0 = all)")
    p.add_argument("--output", default=cli.run_dir(NAME, NAME + ".mp4"),
                   help="annotated video, .mp4 (mp4v) or .avi (MJPG); '' to skip "
                        "(default: %(default)s)")
    p.add_argument("--csv", default=cli.run_dir(NAME, NAME + ".csv"),
                   help="frame,x1,y1,x2,y2 per box; '' to skip (default: %(default)s)")
    p.add_argument("--images_dir", default=cli.run_dir(NAME),
                   help="folder for the PNG frames of --save_frames (default: %(default)s)")
    p.add_argument("--prefix", default="apps_motion_detection", help="PNG file-name prefix")
    p.add_argument("--save_frames", default="150,400",
                   help="frame numbers saved as PNG (annotated frame next to its mask)")
    cli.add_output_flags(p, NAME, plot=False)
    p.add_argument("--no_display", action="store_true",
                   help="never open a window (also automatic when there is no display)")
    cli.add_alias(p, "--warmup", "--num_warmup")  # the flag's first name
    args = p.parse_args(argv)
    for flag in ("min_area", "history", "kernel"):
        cli.check_positive("--" + flag, getattr(args, flag))
    args.save_frames = video.parse_frame_list(args.save_frames)
    cli.check_outputs(args, "--output", "--csv", "--json", folders=("--images_dir",))
    return args


def main(argv=None):
    args = parse_args(argv)
    capture, first = video.open_video(args.input)
    height, width = first.shape[:2]
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    announced = video.frame_count(capture)
    show = not args.no_display and video.can_show_window()
    if not args.no_display and not show:
        print("no display (or no GUI in this OpenCV build): running headless")

    detector = motion.MotionDetector(args.method, args.min_area, args.history, args.threshold,
                                     args.kernel, args.num_warmup)
    progress = cli.Progress(min(announced, args.max_frames or announced) or 1, unit="frames")
    saved, boxes_per_frame, n, quit_early = [], [], 0, False
    with contextlib.ExitStack() as outputs:  # video and CSV are renamed into place at the end
        outputs.callback(capture.release)
        writer = video.video_output(outputs, args.output, fps, (width, height))
        rows = video.csv_output(outputs, args.csv, ["frame", "x1", "y1", "x2", "y2"])
        if show:
            outputs.callback(cv2.destroyAllWindows)
        for n, frame in video.frames(capture, first, args.max_frames):
            boxes, mask = detector.detect(frame)
            boxes_per_frame.append(len(boxes))
            annotated = video.draw_boxes(frame.copy(), boxes)
            video.draw_counter(annotated, "frame %d  %s  moving: %d" % (n, args.method, len(boxes)))
            if writer:
                writer.write(annotated)
            if rows:
                rows.writerows([n] + list(b) for b in boxes)
            if n in args.save_frames:
                png = os.path.join(args.images_dir, "%s_%s_frame%d.png"
                                   % (args.prefix, args.method, n))
                saved.append(video.save_png(png, video.side_by_side(annotated, mask)))
            if show:
                cv2.imshow("motion detection (q quits)", annotated)
                if cv2.waitKey(1) & 0xFF == ord("q"):
                    quit_early = True
                    break
            if n % 100 == 0:
                progress.update(n, boxes=len(boxes))
    truncated = video.truncation(n, announced, args.max_frames, quit_early)
    if truncated:
        print("warning: " + truncated, flush=True)
    summary = summarize(args, n, announced, truncated, boxes_per_frame, (width, height), fps,
                        progress, saved)
    print("%d frames, motion in %d, %.2f boxes per frame on average, %.1f frames/s"
          % (n, summary["frames_with_motion"], summary["mean_boxes_per_frame"],
             summary["frames_per_second"]))
    if args.json:
        cli.write_json(args.json, summary)
    for path in [args.output, args.csv, args.json] + saved:
        if path:
            cli.wrote(path)
    return 0


def summarize(args, n, announced, truncated, boxes_per_frame, size, fps, progress, saved):
    """The JSON record of a run."""
    counts = np.array(boxes_per_frame)
    return {
        "script": "apps/motion_detection/detect.py", "input": cli.shown(args.input),
        "method": args.method, "frames": n, "size": list(size), "fps": fps,
        "frames_announced": announced, "truncated": bool(truncated), "warning": truncated,
        "frames_with_motion": int((counts > 0).sum()),
        "mean_boxes_per_frame": float(counts.mean()) if n else 0.0,
        "max_boxes_in_a_frame": int(counts.max()) if n else 0,
        "seconds": round(progress.elapsed(), 1),
        "frames_per_second": round(n / max(progress.elapsed(), 1e-9), 1),
        "output": cli.shown(args.output), "pngs": [cli.shown(p) for p in saved],
        "csv": cli.shown(args.csv),
    }


if __name__ == "__main__":
    cli.run(main)
