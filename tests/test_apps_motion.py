"""apps/motion_detection and apps/motion_recognition on clips cut from the real vtest.avi."""
import csv
import json
import os

import cv2
import numpy as np
import pytest

from tfcourse import REPO_ROOT, motion

DETECT = "apps/motion_detection/detect.py"
RECOGNIZE = "apps/motion_recognition/recognize.py"


def write_clip(path, frames, fps=10):
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(f)
    writer.release()
    return path


@pytest.fixture(scope="module")
def vtest_frames(fetch):
    """Frames 100..139 of vtest.avi (people walking)."""
    capture = cv2.VideoCapture(os.path.join(fetch("vtest"), "vtest.avi"))
    frames = []
    for i in range(140):
        ok, frame = capture.read()
        assert ok
        if i >= 100:
            frames.append(frame)
    capture.release()
    return frames


@pytest.mark.parametrize("method", ["mog2", "knn", "diff"])
def test_motion_in_real_clip_none_in_static(method, vtest_frames, run_script, tmp_path):
    moving = write_clip(tmp_path / "moving.avi", vtest_frames[:30])
    static = write_clip(tmp_path / "static.avi", [vtest_frames[0]] * 30)
    for clip, name in ((moving, "moving"), (static, "static")):
        run_script(DETECT, "--input", clip, "--method", method, "--no_display",
                   "--output", tmp_path / (name + ".mp4"), "--images_dir", tmp_path / "img",
                   "--save_frames", "20", "--csv", tmp_path / (name + ".csv"),
                   "--json", tmp_path / (name + ".json"))
    moving_result = json.loads((tmp_path / "moving.json").read_text())
    static_result = json.loads((tmp_path / "static.json").read_text())
    assert moving_result["frames"] == 30
    # after the 10-frame warm-up every frame shows walkers (3-6 of them in this clip)
    assert moving_result["frames_with_motion"] >= 18
    assert moving_result["max_boxes_in_a_frame"] >= 2
    assert static_result["frames_with_motion"] == 0
    with open(tmp_path / "moving.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(int(r["x2"]) > int(r["x1"]) and int(r["y2"]) > int(r["y1"]) for r in rows)
    # the annotated video reads back, same size and length
    capture = cv2.VideoCapture(str(tmp_path / "moving.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 30
    assert (int(capture.get(3)), int(capture.get(4))) == (768, 576)
    assert os.path.exists(tmp_path / "img" / ("apps_motion_detection_%s_frame20.png" % method))


def test_find_boxes_unit():
    mask = np.zeros((100, 200), np.uint8)
    mask[10:40, 20:50] = 255
    mask[60:62, 150:152] = 255  # speckle, below min_area
    assert motion.find_boxes(mask, min_area=50) == [(20, 10, 50, 40)]
    assert motion.find_boxes(motion.clean_mask(np.zeros_like(mask))) == []


def test_detect_bad_inputs(run_script, tmp_path):
    proc = run_script(DETECT, "--input", tmp_path / "missing.avi", "--no_display", check=False)
    assert proc.returncode == 2 and "not found" in proc.stderr
    (tmp_path / "junk.avi").write_bytes(os.urandom(5000))
    (tmp_path / "empty.avi").write_bytes(b"")
    for name in ("junk.avi", "empty.avi"):
        proc = run_script(DETECT, "--input", tmp_path / name, "--no_display", check=False)
        assert proc.returncode == 2 and "cannot read a frame" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_recognition_finds_persons(fetch, vtest_frames, run_script, tmp_path):
    model_dir = fetch("ssdlite")
    clip = write_clip(tmp_path / "clip.avi", vtest_frames[:20])
    run_script(RECOGNIZE, "--input", clip, "--model",
               os.path.join(model_dir, "frozen_inference_graph.pb"), "--num_warmup", 5,
               "--no_display", "--output", tmp_path / "out.avi", "--images_dir",
               tmp_path / "img", "--save_frames", "15", "--csv", tmp_path / "tracks.csv",
               "--json", tmp_path / "r.json")
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["labels"] == {"1": "person"}
    with open(tmp_path / "tracks.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["class"] for r in rows} == {"person"}
    assert all(int(r["frame"]) > 5 for r in rows)  # motion filter: nothing during warm-up
    # several people walk through these frames; at least two are tracked 5+ frames
    assert result["tracks_5_frames_or_longer"] >= 2, result
    per_frame = {}
    for r in rows:
        per_frame.setdefault(r["frame"], []).append(r["track_id"])
    assert all(len(ids) == len(set(ids)) for ids in per_frame.values())
    assert os.path.exists(tmp_path / "img" / "apps_motion_recognition_frame15.png")


def test_recognition_single_real_frame_without_motion_filter(fetch, vtest_frames, run_script,
                                                             tmp_path):
    clip = write_clip(tmp_path / "one.avi", [vtest_frames[0]])
    run_script(RECOGNIZE, "--input", clip, "--no_motion_filter", "--no_display",
               "--model", os.path.join(fetch("ssdlite"), "frozen_inference_graph.pb"),
               "--output", "", "--save_frames", "", "--csv", tmp_path / "t.csv",
               "--json", tmp_path / "r.json")
    with open(tmp_path / "t.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 2 and all(float(r["score"]) >= 0.5 for r in rows)
    assert len({r["track_id"] for r in rows}) == len(rows)


def test_recognition_bad_model(fetch, vtest_frames, run_script, tmp_path):
    clip = write_clip(tmp_path / "one.avi", [vtest_frames[0]])
    (tmp_path / "bad.pb").write_bytes(b"this is not a graph" * 100)
    cases = [(tmp_path / "missing.pb", "not found"),
             (tmp_path / "bad.pb", "not a frozen TensorFlow graph")]
    for model, message in cases:
        proc = run_script(RECOGNIZE, "--input", clip, "--model", model, "--no_display",
                          "--output", "", "--json", "", "--csv", "", check=False)
        assert proc.returncode == 2 and message in proc.stderr, proc.stderr[-1000:]
        assert "Traceback" not in proc.stderr


def test_iou_tracker_unit(monkeypatch):
    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "apps", "motion_recognition"))
    import recognize

    tracker = recognize.IouTracker(min_iou=0.3, max_missed=1)
    a, b = ((0, 0, 10, 10), 0.9, 1), ((50, 50, 60, 60), 0.8, 1)
    assert [t for t, _ in tracker.update([a, b])] == [1, 2]
    moved = ((1, 1, 11, 11), 0.9, 1)
    assert [t for t, _ in tracker.update([moved])] == [1]
    tracker.update([])  # track 2 missed twice -> ends; track 1 missed once
    assert 2 not in tracker.tracks
    assert recognize.iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
