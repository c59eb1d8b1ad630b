"""setup/grade.py: a small class graded in sandboxes, on what the grader measures itself.

The class is built from copies of this repository: a clean copy, the MNIST CNN
with zeroed logits, a train.py that only writes a flattering JSON, one that
never ends, one that eats memory, one that reaches for the network and writes
outside its folder, and two near-identical cheats.  The MNIST CNN trains 40
steps on the 5000-digit subset (a test assignment with small settings and
limits); the report-tier assignments are the README's recorded run.
"""
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
import zipfile

import pytest

from tfcourse import REPO_ROOT

sys.path.insert(0, os.path.join(REPO_ROOT, "setup", "grading"))

import assignments  # noqa: E402
import grader  # noqa: E402
import similarity  # noqa: E402
import slurm  # noqa: E402

GRADE = "setup/grade.py"
WALL = 60  # seconds per script in the test assignment: 40 steps took 7-9 s at load 3 on
#            the AVX-512 AMD VM, 52 s at load 11 on the AVX2 one (the hang waits all of it)

TEST_ASSIGNMENT = """
title = "MNIST CNN, 40 steps (test)"
files = ["mnist_cnn/train.py"]
tier = "quick"

[limits]
memory = "2G"
threads = 512
output = "8M"

[[scripts]]
row = "mnist_cnn"
args = { quick = ["--data_dir", "{data}/mnist5k", "--steps", "40", "--log_every", "20"] }
outputs = ["json", "checkpoint_dir"]
wall = { quick = %d }

[[items]]
label = "test accuracy"
measure = "classifier"
points = 10
target = 0.5
floor = 0.2

[[items]]
label = "accuracy it wrote"
measure = "self_reported"
key = "test_accuracy"
""" % WALL

FLATTERING = '''"""Writes what the grader wants to read, trains nothing."""
import argparse, json, os
p = argparse.ArgumentParser()
p.add_argument("--json"); p.add_argument("--checkpoint_dir")
a, _ = p.parse_known_args()
os.makedirs(a.checkpoint_dir, exist_ok=True)
json.dump({"test_accuracy": 0.995, "steps": 20000}, open(a.json, "w"))
print("test accuracy 0.995")
'''

HANG = '''import os, sys, time
print("training ...", flush=True)
if os.fork() == 0:      # a child that leaves the process group
    os.setsid()
    time.sleep(10000)
while True:
    time.sleep(1)
'''

HOG = '''import time
chunks = []
while True:
    chunks.append(bytearray(64 << 20))    # touched: resident
    for i in range(0, len(chunks[-1]), 4096):
        chunks[-1][i] = 1
'''

LEAKY = '''import argparse, json, os, socket
p = argparse.ArgumentParser()
p.add_argument("--json"); p.add_argument("--checkpoint_dir")
a, _ = p.parse_known_args()
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5).sendall(b"leaked")
    print("CONNECTED")
except OSError as e:
    print("no connection:", e)
for path in ({outside!r}, {tmpfile!r}, os.path.expanduser("~root/leak")):
    try:
        open(path, "w").write("leaked")
        print("WROTE", path)
    except OSError as e:
        print("cannot write", path, e.strerror)
json.dump({{"test_accuracy": 0.99}}, open(a.json, "w"))
'''

TWIN_A = '''"""Nearest class mean on raw pixels (no TensorFlow)."""
import argparse
import gzip
import json
import os

import numpy as np


def read_images(path):
    with gzip.open(path) as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16)
    return data.reshape(-1, 784).astype(np.float32) / 255.0


def read_labels(path):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8)


def class_means(images, labels):
    means = np.zeros((10, 784), np.float32)
    for digit in range(10):
        means[digit] = images[labels == digit].mean(axis=0)
    return means


def predict(means, images):
    distances = ((images[:, None, :] - means[None, :, :]) ** 2).sum(axis=2)
    return distances.argmin(axis=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir")
    parser.add_argument("--json")
    parser.add_argument("--checkpoint_dir")
    args, _ = parser.parse_known_args()
    train_x = read_images(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz"))
    train_y = read_labels(os.path.join(args.data_dir, "train-labels-idx1-ubyte.gz"))
    test_x = read_images(os.path.join(args.data_dir, "t10k-images-idx3-ubyte.gz"))
    test_y = read_labels(os.path.join(args.data_dir, "t10k-labels-idx1-ubyte.gz"))
    means = class_means(train_x, train_y)
    accuracy = float((predict(means, test_x) == test_y).mean())
    print("test accuracy %.4f" % accuracy)
    with open(args.json, "w") as f:
        json.dump({"test_accuracy": accuracy, "method": "class means"}, f)


if __name__ == "__main__":
    main()
'''


def twin_b(text):
    """TWIN_A with its names, strings and layout changed, as a student who copied would."""
    for old, new in (("read_images", "load_pixels"), ("read_labels", "load_digits"),
                     ("class_means", "centroids"), ("means", "cents"), ("train_x", "xs"),
                     ("test_y", "truth"), ("distances", "dist"), ("accuracy", "acc"),
                     ("Nearest class mean on raw pixels (no TensorFlow).",
                      "My own classifier."), ("test accuracy %.4f", "acc = %.4f"),
                     ("    ", "  ")):
        text = text.replace(old, new)
    return text.replace("def main():", "# the entry point\ndef main():\n\n")


@pytest.fixture(scope="module")
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    got, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                got.append(server.accept())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], got
    stop.set()
    server.close()


def _files_only(folder, name, text):
    os.makedirs(folder)
    with open(os.path.join(folder, name), "w") as f:
        f.write(text)
    return folder


@pytest.fixture(scope="module")
def klass(tmp_path_factory, fetch, listener, run_script):
    """The class, graded once at 2 jobs: (out folder, proc, seconds, leak paths)."""
    fetch("mnist5k")
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    subs.mkdir()
    grader.reference_copy(str(subs / "clean"))                        # a whole copy
    train = open(os.path.join(REPO_ROOT, "mnist_cnn", "train.py")).read()
    zeroed = train.replace("logits = tf.cast(", "logits = 0.0 * tf.cast(")
    assert zeroed != train
    with zipfile.ZipFile(subs / "zeroed.zip", "w") as z:               # files only, zipped
        z.writestr("zeroed/mnist_cnn/train.py", zeroed)
    _files_only(str(root / "flat"), "train.py", FLATTERING)
    with tarfile.open(subs / "flattering.tar.gz", "w:gz") as t:
        t.add(str(root / "flat"), arcname="flattering")
    _files_only(str(subs / "hang"), "train.py", HANG)
    _files_only(str(subs / "hog"), "train.py", HOG)
    outside = str(root / "outside-marker")            # the grader's own folder: root's
    tmpfile = "/tmp/tfgrade-leak-%d" % os.getpid()
    _files_only(str(subs / "leaky"), "train.py", LEAKY.format(
        port=listener[0], outside=outside, tmpfile=tmpfile))
    _files_only(str(subs / "twin_a" / "mnist_cnn"), "train.py", TWIN_A)
    _files_only(str(subs / "twin_b"), "train.py", twin_b(TWIN_A))
    assignment = root / "test.toml"
    assignment.write_text(TEST_ASSIGNMENT)
    out = root / "graded"
    start = time.time()
    proc = run_script(GRADE, *sorted(str(p) for p in subs.iterdir()), "--assignment",
                      assignment, "--out_dir", out, "--jobs", 2, timeout=1500)
    return out, proc, time.time() - start, (outside, tmpfile)


def _book(out):
    with open(os.path.join(str(out), "gradebook.csv"), newline="") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def _result(out, sid):
    with open(os.path.join(str(out), "submissions", sid, "result.json")) as f:
        return json.load(f)


def test_each_submission_gets_its_verdict_and_points(klass):
    out, proc, _, _ = klass
    book = _book(out)
    assert set(book) == {"clean", "zeroed", "flattering", "hang", "hog", "leaky", "twin_a",
                         "twin_b"}, proc.stdout[-3000:]
    expect = {  # submission: (verdict, test accuracy verdict, points)
        "clean": ("graded", "match", "10"),
        "zeroed": ("graded", "below", "0"),
        "flattering": ("graded", "missing", "0"),
        "hang": ("timeout", "timeout", "0"),
        "hog": ("out of memory", "out of memory", "0"),
        "leaky": ("graded", "missing", "0"),
        "twin_a": ("graded", "missing", "0"),
        "twin_b": ("graded", "missing", "0"),
    }
    got = {sid: (row["verdict"], row["test accuracy: verdict"], row["total"])
           for sid, row in book.items()}
    assert got == expect, proc.stdout[-3000:]
    assert book["clean"]["mnist_cnn: run"] == "ok" and book["clean"]["max"] == "10"
    # the grader's figure, not the student's: the zeroed net is at chance whatever it wrote;
    # the flattering JSON's 99.5 % is shown as self-reported and earns nothing
    zeroed = _result(out, "zeroed")["items"][0]
    assert zeroed["value"] < 0.2 and zeroed["what"].startswith("accuracy on 1000 test images")
    assert book["flattering"]["accuracy it wrote: figure"] == "0.995"
    assert book["flattering"]["accuracy it wrote: verdict"] == "self-reported"
    assert book["flattering"]["accuracy it wrote: points"] == "0"
    assert "no SavedModel" in _result(out, "flattering")["items"][0]["reason"]


def test_each_submission_ran_its_own_code(klass):
    out, _, _, _ = klass
    for sid in ("clean", "zeroed"):
        res = _result(out, sid)
        tree = os.path.join(str(out), "submissions", sid, "sandbox", "tree")
        assert res["tfcourse_from"] == os.path.join(tree, "tfcourse", "__init__.py")
        assert res["scripts"]["mnist_cnn"]["command"].split()[1] == os.path.join(
            tree, "mnist_cnn", "train.py")
    assert _result(out, "clean")["kind"] == "copy"
    zeroed = _result(out, "zeroed")
    assert zeroed["kind"] == "files" and zeroed["handed_in"] == ["mnist_cnn/train.py"]


def test_the_batch_ends_within_its_limits(klass):
    out, _, seconds, _ = klass
    hang = _result(out, "hang")["scripts"]["mnist_cnn"]
    assert WALL <= hang["seconds"] <= WALL + 30 and "still running after" in hang["reason"]
    hog = _result(out, "hog")["scripts"]["mnist_cnn"]
    assert hog["seconds"] < 60 and hog["verdict"] == "out of memory"
    assert seconds < 900
    left = subprocess.run(["ps", "-eo", "uid="], capture_output=True, text=True).stdout.split()
    assert not [u for u in left if int(u) >= 61000 and int(u) < 62000]  # nothing left running
    report = open(os.path.join(str(out), "submissions", "hang", "REPORT.md")).read()
    assert "| timeout |" in report and "training ..." in report  # the log's last lines


@pytest.mark.skipif(os.geteuid() != 0, reason="private folders and a user of its own need root")
def test_no_connection_and_no_write_outside(klass, listener):
    out, _, _, (outside, tmpfile) = klass
    _, accepted = listener
    assert accepted == []
    assert not os.path.exists(outside) and not os.path.exists(tmpfile)
    res = _result(out, "leaky")
    assert res["leaks"] == [tmpfile]                  # kept in its sandbox, and reported
    log = open(res["scripts"]["mnist_cnn"]["log"]).read()
    assert "no connection" in log and "CONNECTED" not in log
    assert "cannot write %s Permission denied" % outside in log
    report = open(os.path.join(str(out), "submissions", "leaky", "REPORT.md")).read()
    assert tmpfile in report and "network: isolated" in report


def test_similar_pair_is_listed_and_clean_copies_are_not(klass):
    out, _, _, _ = klass
    pairs = json.load(open(os.path.join(str(out), "similar.json")))
    assert [(p["a"], p["b"]) for p in pairs] == [("twin_a", "twin_b")]
    assert pairs[0]["similarity"] > 0.8 and pairs[0]["regions"][0]["a_file"] == \
        "mnist_cnn/train.py"
    overview = open(os.path.join(str(out), "overview.md")).read()
    assert "twin_a ~ twin_b" in overview and "![score distribution](scores.png)" in overview
    assert os.path.getsize(os.path.join(str(out), "scores.png")) > 5000
    assert "<table>" in open(os.path.join(str(out), "overview.html")).read()


def test_resume_and_merge_rebuild_the_same_gradebook(klass, run_script):
    out, _, _, _ = klass
    before = open(os.path.join(str(out), "gradebook.csv")).read()
    os.remove(os.path.join(str(out), "gradebook.csv"))
    run_script(GRADE, "--merge", out)
    assert open(os.path.join(str(out), "gradebook.csv")).read() == before
    start = time.time()
    proc = run_script(GRADE, "--resume", out)
    assert proc.stdout.count("graded in an earlier sitting") == 8
    assert time.time() - start < 120
    assert open(os.path.join(str(out), "gradebook.csv")).read() == before


def test_slurm_array_and_merge_scripts(klass, run_script, tmp_path):
    out, _, _, _ = klass
    plan = json.load(open(os.path.join(str(out), "plan.json")))
    subs = [s["source"] for s in plan["submissions"]]
    run_script(GRADE, *subs, "--assignment", plan["assignment"], "--out_dir", tmp_path / "s",
               "--slurm")
    folder = tmp_path / "s" / "slurm"
    for name in ("grade.sbatch", "merge.sbatch", "submit.sh"):
        assert subprocess.run(["bash", "-n", str(folder / name)]).returncode == 0
    array = slurm.directives(str(folder / "grade.sbatch"))
    assert array["--array"] == "0-7" and array["--cpus-per-task"] == "2"
    text = (folder / "grade.sbatch").read_text()
    assert '--task "$SLURM_ARRAY_TASK_ID"' in text and "--out_dir %s" % (tmp_path / "s") in text
    assert "--dependency=afterany:" in (folder / "submit.sh").read_text()
    assert "--merge %s" % (tmp_path / "s") in (folder / "merge.sbatch").read_text()
    # a task's result (a real one, copied) and the merge step build that submission's row
    shutil.copytree(os.path.join(str(out), "submissions", "clean"),
                    str(tmp_path / "s" / "submissions" / "clean"))
    proc = run_script(GRADE, "--merge", tmp_path / "s")
    assert "not graded (yet): " in proc.stderr and "hang" in proc.stderr
    book = _book(tmp_path / "s")
    assert list(book) == ["clean"] and book["clean"]["total"] == "10"


# ---------------------------------------------------------------- pieces

def test_partial_credit_is_linear_between_floor_and_target():
    assert assignments.partial(0.9, 0.5, 0.9, "higher") == 1.0
    assert assignments.partial(0.7, 0.5, 0.9, "higher") == pytest.approx(0.5)
    assert assignments.partial(0.4, 0.5, 0.9, "higher") == 0.0
    assert assignments.partial(2.0, 3.0, 1.25, "lower") == pytest.approx(1 / 1.75)
    assert assignments.partial(None, 0.5, 0.9, "higher") == 0.0


def test_shipped_assignments_take_the_tables_tolerances():
    from scripts_table import TOLERANCES

    names = assignments.available()
    assert {"mnist_cnn", "alexnet_timing", "vgg16_timing", "ptb_small",
            "train_scripts"} <= set(names)
    for name in names:
        for tier in assignments.TIERS:
            assignments.load(name, tier)
    quick = {i.measure: i for i in assignments.load("mnist_cnn", "quick").items}
    report = {i.measure: i for i in assignments.load("mnist_cnn", "report").items}
    assert quick["classifier"].target == TOLERANCES["mnist_cnn_quick"][0]
    assert report["classifier"].target == TOLERANCES["mnist_cnn"][0]
    assert quick["self_reported"].points == 0
    timing = {(i.measure, i.pass_): i for i in assignments.load("alexnet_timing").items}
    assert timing[("timing", "forward")].target == 1 + TOLERANCES["timing_same_gpu"][0]
    assert timing[("ratio", "forward")].target == tuple(TOLERANCES["ratio"][0])
    ptb = assignments.load("ptb_small", "report").items[0]
    assert ptb.target == pytest.approx(114.32 * (1 + TOLERANCES["ptb_perplexity"][0]))


def test_similarity_ignores_layout_names_and_the_reference(tmp_path):
    prints_a = similarity.fingerprints(TWIN_A)
    assert set(prints_a) == set(similarity.fingerprints(twin_b(TWIN_A)))  # renamed, reflowed
    for name, text in (("a", TWIN_A), ("b", twin_b(TWIN_A)), ("ref", TWIN_A)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.py").write_text(text)
    subs = {n: similarity.submission_prints(str(tmp_path / n), ["train.py"]) for n in "ab"}
    (pair,) = similarity.similar_pairs(subs)
    assert (pair["a"], pair["b"], pair["similarity"]) == ("a", "b", 1.0)
    assert pair["regions"][0]["a_file"] == "train.py"
    # what the reference tree has too is no evidence: two clean copies are not a pair
    reference = similarity.reference_prints(str(tmp_path / "ref"), ["train.py"])
    subs = {n: similarity.submission_prints(str(tmp_path / n), ["train.py"], reference)
            for n in "ab"}
    assert subs == {"a": {}, "b": {}} and similarity.similar_pairs(subs) == []


def test_a_closed_folder_the_commands_need_is_covered_and_its_entries_bound_back(tmp_path):
    """A virtualenv made by ``mktemp -d`` (mode 700, as .ci/run makes it) stays usable by the
    submissions' user: the folder is covered by an open one, its entries are bound back."""
    from sandbox import Sandbox

    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    venv.chmod(0o700)
    box = Sandbox(str(tmp_path / "box"), grader_root=str(venv))
    box.uid = 61999  # as when the grader is root
    keep = box.keep_visible()
    assert str(venv) not in keep
    assert {str(venv / "bin"), str(venv / "pyvenv.cfg")} <= set(keep)
    covered = [target for target, _ in box.masks()]
    for path in (venv / "bin", venv / "pyvenv.cfg"):
        assert any(str(path).startswith(t + "/") for t in covered if t not in
                   ("/tmp", "/var/tmp", "/dev/shm")), (path, covered)
    box.uid = None  # not root: nothing is dropped, nothing to cover
    assert str(venv) in box.keep_visible()


@pytest.mark.parametrize("args, message", [
    (["x", "--assignment", "nosuch"], "no assignment nosuch; choose from"),
    (["--assignment", "mnist_cnn"], "no SUBMISSION given"),
    (["/no/such/submission", "--assignment", "mnist_cnn"], "no such submission"),
    (["--merge", "/tmp"], "is not a folder of setup/grade.py"),
    (["--task", "0"], "--task needs --out_dir"),
])
def test_bad_input_one_line(run_script, args, message):
    proc = run_script(GRADE, *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


TIMING_ASSIGNMENT = """
title = "AlexNet timing (test)"
files = ["alexnet/benchmark.py"]
[limits]
memory = "4G"
[[scripts]]
row = "alexnet"
capture = true
args = { quick = ["--device", "cpu", "--batch_size", "2", "--num_batches", "3",
                  "--num_warmup", "1"] }
outputs = ["json"]
wall = { quick = 600 }
[[items]]
label = "network"
measure = "network"
points = 30
[[items]]
label = "forward"
measure = "timing"
pass = "forward"
points = 30
floor = 3.0
[[items]]
label = "ratio"
measure = "ratio"
points = 10
"""

PRINTS_TIMES = '''print("Forward across 100 steps, 0.001 +/- 0.000 sec / batch")
print("Forward-backward across 100 steps, 0.002 +/- 0.000 sec / batch")
'''


@pytest.mark.slow
def test_timing_is_the_graders_and_a_smaller_net_cannot_pass(tmp_path, run_script):
    """The benchmark's graphs are captured and timed by the grader against the reference's;
    a net with half the filters is caught by its parameters and FLOPs, printed times earn
    nothing."""
    subs = tmp_path / "subs"
    subs.mkdir()
    grader.reference_copy(str(subs / "clean"))
    bench = open(os.path.join(REPO_ROOT, "alexnet", "benchmark.py")).read()
    smaller = bench.replace("[11, 11, 3, 64]", "[11, 11, 3, 32]").replace(
        "[5, 5, 64, 192]", "[5, 5, 32, 192]").replace("[64], dtype", "[32], dtype")
    assert smaller.count("32]") >= 2
    _files_only(str(subs / "smaller"), "benchmark.py", smaller)
    _files_only(str(subs / "printer"), "benchmark.py", PRINTS_TIMES)
    (tmp_path / "t.toml").write_text(TIMING_ASSIGNMENT)
    out = tmp_path / "out"
    run_script(GRADE, *sorted(str(p) for p in subs.iterdir()), "--assignment",
               tmp_path / "t.toml", "--out_dir", out, "--num_batches", 3, "--num_warmup", 1,
               timeout=1800)
    book = _book(out)
    assert book["clean"]["network: verdict"] == "match"
    assert book["clean"]["forward: verdict"] in ("match", "partial")
    assert book["smaller"]["network: verdict"] == "below" and book["smaller"]["total"] == "0"
    assert "parameters" in _result(out, "smaller")["items"][0]["reason"]
    assert "not the expected network" in _result(out, "smaller")["items"][1]["reason"]
    assert book["printer"]["total"] == "0" and book["printer"]["forward: verdict"] == "missing"


def test_readmes_show_the_shipped_mnist_assignment():
    """The assignment file in both READMEs is setup/assignments/mnist_cnn.toml (its comments
    aside)."""
    import re

    shipped = assignments.tomllib.load(open(assignments.find("mnist_cnn"), "rb"))
    for name in ("README.md", "README.zh-CN.md"):
        text = open(os.path.join(REPO_ROOT, name), encoding="utf-8").read()
        blocks = re.findall(r"^```toml\n(.*?)^```", text, flags=re.S | re.M)
        assert len(blocks) == 1 and assignments.tomllib.loads(blocks[0]) == shipped, name


def test_quick_bounds_name_real_figures():
    from scripts_table import MEASURED, QUICK, TOLERANCES, by_name

    rows = by_name()
    for (row, key), bound in QUICK.items():
        assert key in [f.key for f in rows[row].figures], (row, key)
        assert bound in TOLERANCES and TOLERANCES[bound][1], bound
    # every figure the grader measures has a quick-tier bound too, but for two variants of
    # rows that have one (bfloat16, the block LSTM): their quick-tier figures go ungraded
    assert sorted(name for name, (_, key) in MEASURED.items() if (name, key) not in QUICK) \
        == ['mnist_cnn_bf16', 'ptb_small_block']
