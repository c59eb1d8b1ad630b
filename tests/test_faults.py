"""Fault injection: what a kill, a corrupt file, a diverging run or a bad path does to a script.

* SIGKILL during training, then --restore: no step lost beyond the last checkpoint;
* SIGKILL during a run that writes results: the previous CSV, video and JSON stay whole;
* a truncated .index and .data file: one line naming the file and the intact previous
  checkpoint, which --restore_from then restores;
* a non-finite or diverging learning rate: exit 2 naming the step and the flag, no NaN
  checkpoint, no JSON; JSON never holds NaN;
* an unreachable ps: exit 2 naming the address within --max_wait_secs;
* unwritable outputs, for every output flag of every script: exit 2, one line;
* a truncated input video: a warning and "truncated": true in the JSON.
"""
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from tfcourse import REPO_ROOT, cli
from tfcourse.datasets import fetch_hint

MNIST = "mnist_cnn/train.py"


def start(relpath, *args, log):
    cmd = [sys.executable, os.path.join(REPO_ROOT, relpath)] + [str(a) for a in args]
    with open(str(log), "w") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
                                env=dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg"))


def wait_until(proc, predicate, what, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        assert proc.poll() is None, "the process ended before %s" % what
        time.sleep(0.2)
    raise AssertionError("waited in vain for " + what)


def checkpoint_step(directory):
    path = os.path.join(str(directory), "checkpoint")
    if not os.path.exists(path):
        return -1
    with open(path) as f:
        match = re.search(r'^model_checkpoint_path: ".*-(\d+)"', f.read(), re.M)
    return int(match.group(1)) if match else -1


def copy_checkpoints(src, dst):
    """A copy of a checkpoint folder whose state file names the copies (TF writes abs. paths)."""
    shutil.copytree(str(src), str(dst))
    state = dst / "checkpoint"
    state.write_text(state.read_text().replace(str(src), str(dst)))
    return dst


def one_error_line(proc):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


# ------------------------------------------------------------ SIGKILL in training
@pytest.fixture(scope="module")
def killed_mnist(fetch, tmp_path_factory):
    """mnist_cnn/train.py SIGKILLed after its third checkpoint (every 20 steps)."""
    tmp = tmp_path_factory.mktemp("killed_mnist")
    ckpt = tmp / "ckpt"
    proc = start(MNIST, "--data_dir", fetch("mnist5k"), "--steps", 5000, "--save_every", 20,
                 "--log_every", 10, "--checkpoint_dir", ckpt, "--json", tmp / "r.json",
                 "--plot", "", log=tmp / "log")
    try:
        wait_until(proc, lambda: checkpoint_step(ckpt) >= 60, "a checkpoint at step 60")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    return fetch("mnist5k"), ckpt, checkpoint_step(ckpt)


def test_sigkill_then_restore_loses_no_saved_step(killed_mnist, run_script, tmp_path):
    data, ckpt, saved = killed_mnist
    assert saved >= 60 and not (ckpt.parent / "r.json").exists()
    copy = copy_checkpoints(ckpt, tmp_path / "ckpt")
    proc = run_script(MNIST, "--data_dir", data, "--restore", "--steps", saved + 10,
                      "--log_every", 10, "--checkpoint_dir", copy, "--json", tmp_path / "r.json",
                      "--plot", "")
    assert "(step %d)" % saved in proc.stdout
    assert "step %d, training accuracy" % saved in proc.stdout  # continues at the saved step
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["steps_this_run"] == 10
    assert [h["step"] for h in result["history"]] == list(range(0, saved + 10, 10))


@pytest.mark.parametrize("kind", ["data", "index"])
def test_truncated_checkpoint_names_file_and_intact_previous(kind, killed_mnist, run_script,
                                                             tmp_path):
    data, ckpt, saved = killed_mnist
    copy = copy_checkpoints(ckpt, tmp_path / "ckpt")
    victim = glob.glob(str(copy / ("model.ckpt-%d.%s*" % (saved, kind))))[0]
    with open(victim, "r+b") as f:
        f.truncate(os.path.getsize(victim) // 2)
    common = ["--data_dir", data, "--steps", saved, "--checkpoint_dir", copy, "--json", "",
              "--plot", ""]
    line = one_error_line(run_script(MNIST, "--restore", *common, check=False))
    previous = str(copy / ("model.ckpt-%d" % (saved - 20)))
    assert "checkpoint %s is corrupt (%s" % (str(copy / ("model.ckpt-%d" % saved)), victim) in line
    assert "does not fit" not in line
    assert "the previous checkpoint %s is intact: rerun with --restore_from %s" % (
        previous, previous) in line
    proc = run_script(MNIST, "--restore_from", previous, *common)
    assert "restored %s (step %d)" % (previous, saved - 20) in proc.stdout


def test_checkpoint_of_another_model_does_not_fit(run_script, fetch, tmp_path):
    run_script("lstm_ptb/train.py", "--model", "test", "--data_dir", fetch("ptb"),
               "--epochs", 1, "--max_steps_per_epoch", 2, "--checkpoint_dir",
               tmp_path, "--json", "", "--plot", "")
    line = one_error_line(run_script(MNIST, "--data_dir", fetch("mnist5k"), "--restore",
                                     "--checkpoint_dir", tmp_path, "--json", "", "--plot", "",
                                     check=False))
    assert "is intact but does not fit this model" in line


# ------------------------------------------------------------ SIGKILL in a result write
def test_sigkill_mid_run_leaves_previous_results_whole(fetch, run_script, tmp_path):
    outputs = ["--output", tmp_path / "v.avi", "--csv", tmp_path / "b.csv",
               "--json", tmp_path / "r.json", "--images_dir", tmp_path, "--save_frames", ""]
    video = os.path.join(fetch("vtest"), "vtest.avi")
    run_script("apps/motion_detection/detect.py", "--input", video, "--max_frames", 20,
               "--no_display", *outputs)
    before = {name: (tmp_path / name).read_bytes() for name in ("v.avi", "b.csv", "r.json")}
    proc = start("apps/motion_detection/detect.py", "--input", video, "--no_display", *outputs,
                 log=tmp_path / "log")
    try:
        wait_until(proc, lambda: "step 100/" in (tmp_path / "log").read_text(), "frame 100")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    for name, content in before.items():
        assert (tmp_path / name).read_bytes() == content, name
    import cv2

    capture = cv2.VideoCapture(str(tmp_path / "v.avi"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 20 and capture.read()[0]
    assert json.loads(before["r.json"].decode())["frames"] == 20


def test_interrupted_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "result.json"
    cli.write_json(str(target), {"run": 1})
    with pytest.raises(KeyboardInterrupt):
        with cli.atomic_path(str(target)) as tmp:
            with open(tmp, "w") as f:
                f.write('{"run": 2, "half')
            raise KeyboardInterrupt
    assert json.loads(target.read_text()) == {"run": 1}
    assert os.listdir(str(tmp_path)) == ["result.json"]  # no temporary file left


def test_truncated_video_is_reported_in_output_and_json(fetch, run_script, tmp_path):
    import cv2

    capture = cv2.VideoCapture(os.path.join(fetch("vtest"), "vtest.avi"))
    writer = cv2.VideoWriter(str(tmp_path / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10,
                             (768, 576))
    for _ in range(40):
        writer.write(capture.read()[1])
    writer.release()
    whole = (tmp_path / "clip.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(whole[:len(whole) // 2])  # the header still says 40
    common = ["--no_display", "--output", "", "--csv", "", "--save_frames", ""]
    proc = run_script("apps/motion_detection/detect.py", "--input", tmp_path / "cut.avi",
                      "--json", tmp_path / "cut.json", *common)
    cut = json.loads((tmp_path / "cut.json").read_text())
    assert cut["truncated"] and cut["frames_announced"] == 40 and 0 < cut["frames"] < 40
    assert "warning: the video ended after %d of the 40 frames" % cut["frames"] in proc.stdout
    run_script("apps/motion_detection/detect.py", "--input", tmp_path / "clip.avi",
               "--json", tmp_path / "whole.json", *common)
    whole = json.loads((tmp_path / "whole.json").read_text())
    assert whole["frames"] == 40 and not whole["truncated"] and whole["warning"] is None


# ------------------------------------------------------------ non-finite values
def test_json_never_holds_nan(tmp_path):
    path = str(tmp_path / "r.json")
    cli.write_json(path, {"loss": float("nan"), "rate": np.float32("inf"), "ok": 1.5,
                          "curve": [1.0, float("-inf")], "arr": np.array([np.nan, 2.0])})
    text = open(path).read()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"loss": None, "rate": None, "ok": 1.5, "curve": [1.0, None],
                                "arr": [None, 2.0]}


def test_nan_learning_rate_is_rejected(run_script, tmp_path):
    proc = run_script(MNIST, "--learning_rate", "nan", "--json", tmp_path / "r.json",
                      check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "argument --learning_rate: 'nan' is not a finite number")


# 1e38: at 1e30 oneDNN's kernels (AVX-512 Xeons) keep the PTB loss finite (~1e30, the model
# ruined but nothing NaN), so the run never diverges there; at 1e38 it does everywhere
@pytest.mark.parametrize("script, args", [
    (MNIST, ["--learning_rate", "1e6", "--steps", 50, "--save_every", 1, "--plot", ""]),
    ("lstm_ptb/train.py", ["--model", "test", "--learning_rate", "1e38", "--plot", ""]),
])
def test_diverging_run_stops_and_saves_no_nan(script, args, run_script, fetch, tmp_path):
    data = fetch("mnist5k" if script == MNIST else "ptb")
    proc = run_script(script, "--data_dir", data, "--checkpoint_dir", tmp_path / "ckpt",
                      "--json", tmp_path / "r.json", *args, check=False)
    line = one_error_line(proc)
    assert re.search(r"(loss is (nan|inf)|hold NaN or inf) at step \d+", line), line
    assert "lower --learning_rate" in line
    assert not (tmp_path / "r.json").exists()
    from tfcourse.compat import tf

    for index in glob.glob(str(tmp_path / "ckpt" / "*.index")):
        reader = tf.train.load_checkpoint(index[:-len(".index")])
        for name in reader.get_variable_to_shape_map():
            assert np.all(np.isfinite(reader.get_tensor(name))), (index, name)


def test_nan_weight_histogram_is_one_line(capsys):
    """A histogram summary of NaN weights (they diverged before the loss did) ends with one
    line naming the flag, exit 2; any other InvalidArgumentError keeps its traceback."""
    from tfcourse.compat import tf

    def nan_histogram(argv):
        raise tf.errors.InvalidArgumentError(None, None, "Nan in summary histogram for: w")

    with pytest.raises(SystemExit) as stop:
        cli.run(nan_histogram)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "training diverged" in err[0] and "--learning_rate" in err[0]
    assert "Nan in summary histogram for: w" in err[0]

    def other(argv):
        raise tf.errors.InvalidArgumentError(None, None, "Incompatible shapes")

    with pytest.raises(tf.errors.InvalidArgumentError):
        cli.run(other)


# ------------------------------------------------------------ distributed
def test_unreachable_ps_exits_2_naming_it(run_script, fetch):
    sockets = [socket.socket() for _ in range(3)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ps, w0, w1 = ["127.0.0.1:%d" % s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()  # free ports: nothing listens on the ps port
    proc = run_script("mnist_cnn/train_distributed.py", "--ps_hosts", ps, "--worker_hosts",
                      "%s,%s" % (w0, w1), "--job_name", "worker", "--task_index", 1,
                      "--data_dir", fetch("mnist5k"), "--max_wait_secs", 3, check=False,
                      timeout=120)
    line = one_error_line(proc)
    assert "the ps at %s is unreachable" % ps in line and "--max_wait_secs 3" in line


# ------------------------------------------------------------ unwritable outputs
PNG = os.path.join(REPO_ROOT, "images", "linear_regression.png")  # any image the repo has
OUTPUTS = [
    ("setup/linear_regression.py", [], ["--json", "--plot"]),
    ("setup/softmax_regression.py", [], ["--json"]),
    (MNIST, [], ["--json", "--plot", "--checkpoint_dir",
                 "--export_dir"]),
    ("mnist_cnn/train_distributed.py", ["--ps_hosts", "127.0.0.1:1", "--worker_hosts",
                                        "127.0.0.1:2", "--job_name", "worker"],
     ["--json", "--checkpoint_dir"]),
    ("lstm_ptb/train.py", [], ["--json", "--plot", "--checkpoint_dir",
                               "--export_dir"]),
    ("apps/text_classification/train.py", [], ["--json", "--plot", "--checkpoint_dir",
                                               "--export_dir"]),
    ("apps/text_classification/predict.py", ["a sentence"], ["--json"]),
    ("apps/motion_detection/detect.py", [], ["--output", "--csv", "--json", "--images_dir"]),
    ("apps/motion_recognition/recognize.py", [], ["--output", "--csv", "--json",
                                                  "--images_dir"]),
    ("images/plot_benchmarks.py", [], ["--plot"]),
    ("alexnet/benchmark.py", ["--device", "cpu"], ["--json"]),
    ("mnist_cnn/lenet5.py", [], ["--json", "--plot", "--weights", "--checkpoint_dir",
                                 "--export_dir"]),
    ("resnet/train.py", [], ["--json", "--plot", "--weights", "--checkpoint_dir",
                             "--export_dir"]),
    ("mnist_cnn/tensorboard_demo.py", [], ["--json", "--plot", "--checkpoint_dir"]),
    ("apps/wide_deep/train.py", [], ["--json", "--plot", "--checkpoint_dir"]),
    ("apps/neural_style/stylize.py", [], ["--json", "--plot", "--output", "--checkpoint_dir"]),
    ("apps/fast_neural_style/train.py", [], ["--json", "--plot", "--checkpoint_dir"]),
    ("apps/fast_neural_style/stylize.py", [PNG], ["--json", "--plot", "--output_dir"]),
    ("apps/captcha/train.py", [], ["--json", "--plot", "--checkpoint_dir",
                                   "--export_dir"]),
    ("apps/captcha/predict.py", [PNG], ["--json", "--output"]),
    ("apps/chinese_characters/train.py", [], ["--json", "--plot", "--checkpoint_dir",
                                              "--export_dir"]),
    ("apps/chinese_characters/predict.py", [PNG], ["--json", "--output"]),
]

# Runs each (script, flag) up to the end of its argument checks in one process.
PROBE = r'''
import contextlib, io, json, os, runpy, sys
cases = json.loads(sys.argv[1])
# the folders of the scripts probed: their modules are the project's own (train.py, reader.py)
folders = {os.path.dirname(os.path.join(os.getcwd(), rel)) for rel, _ in cases}
out = []
for rel, argv in cases:
    # a fresh `python SCRIPT` has none of the other scripts' folder modules (mnist_cnn's
    # train.py is not apps/captcha's): forget the modules imported from the script folders,
    # and nothing else (numpy and TensorFlow may live in a .venv inside the checkout, and
    # load only once per process)
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None) or ""
        if where and os.path.dirname(os.path.abspath(where)) in folders:
            del sys.modules[name]
    path = os.path.join(os.getcwd(), rel)
    sys.path[0] = os.path.dirname(path)  # as `python SCRIPT` does: the script's folder first
    sys.argv = [path] + argv
    err = io.StringIO()
    code = None
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(path, run_name="__main__")
    except SystemExit as stop:
        code = stop.code
    except BaseException as exc:
        code = "%s: %s" % (type(exc).__name__, exc)
    out.append([rel, argv, code, err.getvalue()])
print("RESULT " + json.dumps(out))
'''


def test_unwritable_output_flags_are_one_clear_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    cases = []
    for rel, base, flags in OUTPUTS:
        for flag in flags:
            ext = {"--output": "x.avi", "--csv": "x.csv", "--plot": "x.png"}.get(flag, "x.json")
            bad = str(blocker / "sub" / ext) if not flag.endswith("_dir") else str(blocker / "d")
            cases.append([rel, base + [flag, bad]])
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(cases)], cwd=REPO_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, proc.stderr[-3000:]
    results = json.loads(lines[-1][len("RESULT "):])
    assert len(results) == len(cases) >= 20
    for rel, argv, code, stderr in results:
        flag = argv[-2]
        assert code == 2, (rel, flag, code, stderr)
        assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
        assert "cannot write %s %s" % (flag, argv[-1]) in stderr, (rel, stderr)


def test_atomic_write_into_an_impossible_place_is_a_user_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(cli.UserError, match="cannot create directory"):
        cli.write_json(str(blocker / "r.json"), {})
    with pytest.raises(cli.UserError, match="is a directory"):
        cli.write_json(str(tmp_path), {})


# ------------------------------------------------------------ fetch hints
def test_fetch_hint_fills_exactly_the_folder_given(tmp_path, monkeypatch):
    monkeypatch.setenv("TFCOURSE_DATA_DIR", str(tmp_path / "data"))
    assert fetch_hint("ptb", str(tmp_path / "data" / "ptb")) == "python setup/get_data.py ptb"
    assert fetch_hint("ptb", str(tmp_path / "x" / "ptb")) == (
        "python setup/get_data.py ptb --data_dir %s" % (tmp_path / "x"))
    hint = fetch_hint("ptb", str(tmp_path / "corpus"))
    assert hint == ("python setup/get_data.py ptb (it fills %s), then pass --data_dir %s"
                    % ((tmp_path / "data" / "ptb",) * 2))
