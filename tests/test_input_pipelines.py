"""TFRecords and the --input modes: setup/make_tfrecords.py, tfcourse/pipeline.py,
the timing rows.

* make_tfrecords writes every record of a set, in order, counted back; it is atomic (a
  failure leaves the earlier records as they were), leaves up-to-date records alone and
  rewrites stale ones; a damaged file is one line naming the command; the online sets
  (CIFAR-10, HWDB) and the apps' generated sets are written from small local files;
* LeNet-5 learns the real digits alike with --input feed, queue and dataset (seed noise);
  the four bigger train scripts train and evaluate with queue and dataset; the pipeline
  leaves out the records it is told to (mnist_cnn/train.py's validation digits);
* a corrupt record stops --input queue and dataset with one line (exit 2), and Ctrl-C stops
  the queue runners with exit 130;
* setup/input_overhead.py and setup/bfloat16_speedup.py build their records (tiny runs;
  their timings are recorded on a quiet machine, not here) and reproduce grades them.
"""
import glob
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tfcourse import REPO_ROOT, cli, image_data, tfrecords

import make_tfrecords

LENET = "mnist_cnn/lenet5.py"


def lenet_args(data_dir, tmp, mode, steps=300, seed=0):
    return ["--dataset", "mnist5k", "--data_dir", str(data_dir), "--steps", str(steps),
            "--batch_size", "32", "--learning_rate", "3e-3", "--log_every", "100",
            "--eval_every", str(steps), "--save_every", str(steps), "--checkpoint_dir", "",
            "--json", str(tmp / ("%s.json" % mode)), "--plot", "", "--weights", "",
            "--input", mode, "--seed", str(seed)]


# ---------------------------------------------------------------- make_tfrecords
def test_records_hold_every_image_in_order(mnist5k_records):
    data = image_data.load("mnist5k", str(mnist5k_records))
    manifest = tfrecords.load_manifest(tfrecords.folder(str(mnist5k_records)), "mnist5k")
    assert manifest["image_shape"] == [28, 28, 1] and manifest["classes"][:2] == ["0", "1"]
    for split, images, labels in (("train", data.train_images, data.train_labels),
                                  ("test", data.test_images, data.test_labels)):
        files = tfrecords.split_files(manifest, split)
        assert [os.path.basename(f) for f in files] == [
            "%s-0000%d-of-00002.tfrecord" % (split, i) for i in range(2)]
        read = list(tfrecords.read(files, (28, 28, 1)))
        assert manifest["splits"][split]["count"] == len(read) == len(images)
        assert [index for _, _, index in read] == list(range(len(images)))
        assert np.array_equal(np.stack([image for image, _, _ in read]), images)
        assert np.array_equal(np.array([label for _, label, _ in read]), labels)


def test_up_to_date_records_are_left_alone_and_stale_ones_rewritten(fetch, tmp_path):
    folder = tmp_path / "mnist5k"
    shutil.copytree(fetch("mnist5k"), str(folder), ignore=shutil.ignore_patterns("tfrecords"))
    args = make_tfrecords.parse_args(["mnist5k", "--source_dir", str(folder)])
    first = make_tfrecords.make("mnist5k", str(folder), args, log=lambda line: None)
    assert "train 4000 records in 1 file, test 1000 records in 1 file, counted back" in first
    again = make_tfrecords.make("mnist5k", str(folder), args, log=lambda line: None)
    assert "up to date" in again
    os.utime(str(folder / "t10k-labels-idx1-ubyte.gz"), (1, 1))      # the source changed
    assert "counted back" in make_tfrecords.make("mnist5k", str(folder), args, log=print)
    args.shards = 3                                                 # other options
    assert "3 files" in make_tfrecords.make("mnist5k", str(folder), args, log=print)
    assert not [p for p in os.listdir(str(tmp_path)) if p.startswith(".staging")]


def test_a_failed_write_leaves_the_earlier_records(fetch, tmp_path, monkeypatch):
    folder = tmp_path / "mnist5k"
    shutil.copytree(fetch("mnist5k"), str(folder), ignore=shutil.ignore_patterns("tfrecords"))
    args = make_tfrecords.parse_args(["mnist5k", "--source_dir", str(folder)])
    make_tfrecords.make("mnist5k", str(folder), args, log=lambda line: None)
    before = sorted(os.listdir(tfrecords.folder(str(folder))))
    encode, written = tfrecords.encode, []

    def failing(*a):
        written.append(1)
        if len(written) > 2500:
            raise OSError(28, "No space left on device")
        return encode(*a)

    monkeypatch.setattr(tfrecords, "encode", failing)
    args.shards = 2
    with pytest.raises(OSError):
        make_tfrecords.make("mnist5k", str(folder), args, log=lambda line: None)
    assert sorted(os.listdir(tfrecords.folder(str(folder)))) == before
    assert tfrecords.load_manifest(tfrecords.folder(str(folder)), "mnist5k")
    assert not [p for p in os.listdir(str(tmp_path)) if p.startswith(".staging")]


def test_damaged_records_name_the_command(mnist5k_records, tmp_path):
    copy = tmp_path / "mnist5k"
    shutil.copytree(str(mnist5k_records), str(copy))
    path = sorted(glob.glob(str(copy / "tfrecords" / "test-*")))[0]
    with open(path, "r+b") as f:
        f.truncate(1000)
    with pytest.raises(cli.UserError, match="is 1000 bytes .*write the TFRecords again: python "
                                            "setup/make_tfrecords.py mnist5k --data_dir "):
        tfrecords.load_manifest(tfrecords.folder(str(copy)), "mnist5k")
    shutil.rmtree(str(copy / "tfrecords"))
    with pytest.raises(cli.UserError, match="no TFRecords in .*make_tfrecords.py mnist5k"):
        tfrecords.load_manifest(tfrecords.folder(str(copy)), "mnist5k")


def test_input_modes_without_records_name_the_command(lenet, fetch, tmp_path, capsys,
                                                      fresh_input_state):
    from tfcourse.compat import tf

    copy = tmp_path / "mnist5k"
    shutil.copytree(fetch("mnist5k"), str(copy), ignore=shutil.ignore_patterns("tfrecords"))
    with tf.Graph().as_default(), pytest.raises(SystemExit) as stop:
        cli.run(lenet.main, lenet_args(copy, tmp_path, "dataset", steps=1))
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1, err
    assert "no TFRecords in %s; write them with: python setup/make_tfrecords.py mnist5k " \
           "--data_dir %s" % (copy / "tfrecords", tmp_path) in err[0]


@pytest.mark.parametrize("args, message", [
    (["mnist9"], "unknown data set mnist9"),
    (["mnist", "cifar10", "--source_dir", "/tmp"], "--source_dir names the folder of one"),
    (["cifar10", "--data_dir", "/nonexistent"], "get_data.py cifar10"),
    (["captcha", "--data_dir", "/nonexistent"], "apps/captcha/generate.py"),
])
def test_bad_input_one_line(capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        cli.run(make_tfrecords.main, args)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and message in err[0], err


def _cifar_batches(folder, per_batch):
    """CIFAR-10's python batches, small: ``per_batch`` random images in each."""
    from tfcourse.datasets import cifar10

    rng = np.random.RandomState(0)
    os.makedirs(folder)
    for name in cifar10.TRAIN_FILES + (cifar10.TEST_FILE,):
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({b"data": rng.randint(0, 256, (per_batch, 3072)).astype(np.uint8),
                         b"labels": list(rng.randint(0, 10, per_batch))}, f)


def test_cifar10_from_local_batches(tmp_path):
    folder = str(tmp_path / "cifar10")
    _cifar_batches(folder, 6)
    args = make_tfrecords.parse_args(["cifar10", "--source_dir", folder])
    assert "train 30 records in 1 file, test 6 records" in make_tfrecords.make(
        "cifar10", folder, args, log=lambda line: None)
    data = image_data.load("cifar10", folder)
    manifest = tfrecords.load_manifest(tfrecords.folder(folder), "cifar10")
    images = [image for image, _, _ in tfrecords.read(tfrecords.split_files(manifest, "train"),
                                                     (32, 32, 3))]
    assert np.array_equal(np.stack(images), data.train_images)


def test_generated_sets_keep_their_label_shapes(tmp_path):
    from tfcourse import cjk

    rng = np.random.RandomState(0)
    for name, shape, labels in (("captcha", (28, 280), lambda n: rng.randint(0, 2, (n, 10))),
                                ("chinese_characters", (16, 16), lambda n: rng.randint(0, 5, n))):
        folder = str(tmp_path / name)
        for split, n in (("train", 12), ("test", 4)):
            cjk.save_set(os.path.join(folder, split + ".npz"), {"classes": list("啊阿埃挨哎")},
                         images=rng.randint(0, 256, (n,) + shape).astype(np.uint8),
                         labels=labels(n))
        args = make_tfrecords.parse_args([name, "--source_dir", folder])
        make_tfrecords.make(name, folder, args, log=lambda line: None)
        manifest = tfrecords.load_manifest(tfrecords.folder(folder), name)
        assert manifest["image_shape"] == list(shape) and manifest["splits"]["train"][
            "count"] == 12
        label_shape = (10,) if name == "captcha" else ()
        assert manifest["label_shape"] == list(label_shape)
        _, label, _ = next(tfrecords.read(tfrecords.split_files(manifest, "test"), shape,
                                          label_shape))
        assert label.shape == label_shape


# ---------------------------------------------------------------- the three input modes
@pytest.fixture(scope="module")
def lenet(load_script):
    return load_script(LENET, "lenet5_inputs")


@pytest.fixture(scope="module")
def three_modes(lenet, mnist5k_records, tmp_path_factory):
    """LeNet-5, 300 steps of 32 on the 4000 real training digits, in each mode (in this
    process: one TensorFlow import for the three)."""
    from tfcourse.compat import tf

    tmp = tmp_path_factory.mktemp("modes")
    records = {}
    for mode in ("feed", "queue", "dataset"):
        with tf.Graph().as_default():
            lenet.main(lenet_args(mnist5k_records, tmp, mode)
                       + ["--export_dir", str(tmp / ("export_" + mode))])
        records[mode] = json.loads((tmp / ("%s.json" % mode)).read_text())
        records[mode]["export_dir"] = str(tmp / ("export_" + mode))
    return records


def test_three_modes_learn_alike(three_modes):
    """Seeds 0-2 gave 94.1-95.0 % (feed), 93.9-95.0 % (queue), 93.5-95.1 % (dataset): the
    modes agree within that seed noise, and all learn."""
    accuracy = {mode: r["test_accuracy"] for mode, r in three_modes.items()}
    assert min(accuracy.values()) > 0.92, accuracy
    assert max(accuracy.values()) - min(accuracy.values()) < 0.03, accuracy
    for mode, record in three_modes.items():
        assert record["input"] == mode and record["steps_this_run"] == 300
        assert [h["step"] for h in record["history"]["train"]] == [1, 100, 200, 300]
        assert all(h["seconds"] > 0 for h in record["history"]["train"])


@pytest.mark.parametrize("script, width, mode", [
    ("alexnet/train.py", "0.25", "queue"),
    ("vggnet/train.py", "0.125", "dataset"),
    ("googlenet/train.py", "0.5", "queue"),
    ("resnet/train.py", "0.125", "dataset"),
])
def test_the_other_train_scripts_read_their_batches_in_the_graph(load_script, mnist5k_records,
                                                                 tmp_path, script, width, mode):
    """The four bigger train scripts take --input queue and dataset as LeNet-5 does: a few
    steps (with --augment on: the crops and flips run in the graph), then the evaluation
    feeds the test set through the same placeholders."""
    from tfcourse.compat import tf

    train = load_script(script, "inputs_" + script.split("/")[0])
    args = lenet_args(mnist5k_records, tmp_path, mode, steps=3)
    args[args.index("--log_every") + 1] = "1"
    with tf.Graph().as_default():
        train.main(args + ["--width", width, "--batch_size", "8", "--augment", "on"])
    record = json.loads((tmp_path / ("%s.json" % mode)).read_text())
    assert record["input"] == mode and record["steps_this_run"] == 3
    assert [h["step"] for h in record["history"]["train"]] == [1, 2, 3]
    assert 0.0 <= record["test_accuracy"] <= 1.0
    assert all(np.isfinite(h["loss"]) for h in record["history"]["train"])


@pytest.mark.parametrize("mode", ["queue", "dataset"])
def test_the_export_of_a_pipeline_run_serves_fed_images(three_modes, mnist5k_records, mode):
    """The SavedModel of a --input queue or dataset run takes the images it is given (the
    placeholder's feed replaces the pipeline's batch): its classes of the test digits score
    what the run's own evaluation scored."""
    from tfcourse import serving
    from tfcourse.compat import tf

    data = image_data.load("mnist5k", str(mnist5k_records))
    with tf.Graph().as_default(), tf.Session() as sess:
        inputs, outputs = serving.load(sess, serving.latest_version(
            three_modes[mode]["export_dir"]))
        classes = sess.run(outputs["classes"], {inputs["images"]: data.test_images})
    assert np.mean(classes == data.test_labels) == pytest.approx(
        three_modes[mode]["test_accuracy"], abs=2e-3)


def test_the_pipeline_leaves_out_what_it_is_told(mnist5k_records):
    """mnist_cnn/train.py's queue and dataset modes leave out the training file's first
    digits (input_data's validation set) by their index."""
    from tfcourse import pipeline
    from tfcourse.compat import tf

    data = image_data.load("mnist5k", str(mnist5k_records))
    manifest = pipeline.records(str(mnist5k_records), "mnist5k", (28, 28, 1), 4000)
    for mode in ("queue", "dataset"):
        with tf.Graph().as_default():
            images, labels = pipeline.batch_tensors(mode, manifest, 50, 0, kept=40,
                                                    keep=lambda index: index >= 3960)
            with tf.Session() as sess, pipeline.running(sess):
                batches = [sess.run([images, labels]) for _ in range(4)]
        kept = {data.train_images[i].tobytes(): data.train_labels[i] for i in range(3960, 4000)}
        seen = set()
        for batch_images, batch_labels in batches:
            assert [kept[image.tobytes()] for image in batch_images] == list(batch_labels)
            seen |= {image.tobytes() for image in batch_images}
        assert len(seen) > 30  # shuffled over every kept record


def test_constant_batch_is_the_first_feed_batch(lenet, mnist5k_records, tmp_path):
    """--input constant: the first batch of the feed mode's Batches, at every step; the
    loss falls to nothing on it (it is learnt by heart)."""
    from tfcourse.compat import tf

    with tf.Graph().as_default():
        lenet.main(lenet_args(mnist5k_records, tmp_path, "constant", steps=100))
    record = json.loads((tmp_path / "constant.json").read_text())
    assert record["input"] == "constant" and record["history"]["train"][-1]["loss"] < 0.05


@pytest.fixture
def fresh_input_state(monkeypatch):
    monkeypatch.setattr(cli, "_INPUT", {"fix": None, "failure": None})


@pytest.mark.parametrize("mode, message", [("queue", "the input queue stopped: corrupted "
                                                     "record"),
                                           ("dataset", "the input pipeline failed: corrupted "
                                                       "record")])
def test_corrupt_record_stops_with_one_line(lenet, mnist5k_records, tmp_path, capsys,
                                            fresh_input_state, mode, message):
    """A record damaged in the middle of a file (its size unchanged, so only its CRC tells)
    stops training: the queue runners' error closes the queue, the main thread's step ends,
    the Coordinator joins the threads; exit 2 and one line naming make_tfrecords."""
    from tfcourse.compat import tf

    copy = tmp_path / "mnist5k"
    shutil.copytree(str(mnist5k_records), str(copy))
    path = sorted(glob.glob(str(copy / "tfrecords" / "train-*")))[1]
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        f.write(b"\xff" * 64)
    with tf.Graph().as_default(), pytest.raises(SystemExit) as stop:
        cli.run(lenet.main, lenet_args(copy, tmp_path, mode, steps=400))
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert "write the TFRecords again: python setup/make_tfrecords.py mnist5k" in err[0]
    assert not (tmp_path / ("%s.json" % mode)).exists()


@pytest.mark.xfail(strict=False, reason=(
    "open bug: in 3 of 4 full-suite runs on the 2-core AMD VM (load 3-5) a training step's "
    "sess.run with --input queue never returned (main thread in sess.run, the queue runners "
    "in their enqueue runs, no Ctrl-C taken); alone or 4 at a time beside 2 CPU hogs it passes"))
def test_ctrl_c_stops_the_queue_runners(mnist5k_records, tmp_path):
    cmd = [sys.executable, os.path.join(REPO_ROOT, LENET)] + lenet_args(
        mnist5k_records, tmp_path, "queue", steps=100000)
    cmd[cmd.index("--log_every") + 1] = "5"
    log = tmp_path / "out.txt"
    with open(str(log), "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.PIPE,
                                universal_newlines=True,
                                env=dict(os.environ, PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1"))
    try:
        deadline = time.time() + 300
        while "step 10/" not in log.read_text():
            assert proc.poll() is None and time.time() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # a hang: SIGABRT makes faulthandler show the threads
            proc.send_signal(signal.SIGABRT)
            _, err = proc.communicate(timeout=30)
            raise AssertionError("still running 60 s after Ctrl-C; its threads:\n" + err[-8000:])
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["lenet5.py: interrupted"]


# ---------------------------------------------------------------- the timing rows
@pytest.mark.slow
def test_input_overhead_record_at_a_tiny_size(mnist5k_records, tmp_path, capsys):
    """Two modes, 20 steps each (the train runs in their own processes, as timed runs must
    be): the record's fields and figure; no timing is judged."""
    import input_overhead

    out = tmp_path / "overhead.json"
    input_overhead.main([LENET, "--data_dir", str(mnist5k_records), "--steps", "20",
                         "--batch_size", "16", "--modes", "constant,dataset",
                         "--json", str(out), "--plot", str(tmp_path / "overhead.png")])
    stdout = capsys.readouterr().out
    assert "up to date" in stdout and "--input dataset" in stdout
    record = json.loads(out.read_text())
    assert record["script"] == LENET and record["model"] == "lenet5"
    assert record["batch_size"] == 16 and record["steps"] == 20 and record["warmup_steps"] == 2
    assert set(record["modes"]) == {"constant", "dataset"}
    dataset = record["modes"]["dataset"]
    assert dataset["images_per_second"] == pytest.approx(16 * dataset["steps_per_second"])
    assert record["overhead"]["dataset"] == pytest.approx(
        record["compute_bound_images_per_second"] / dataset["images_per_second"] - 1)
    assert record["best_mode"] == "dataset" and "--input dataset" in dataset["command"]
    assert (tmp_path / "overhead.png").stat().st_size > 10000


def test_overhead_summary_and_its_grade():
    import argparse

    import input_overhead
    import reproduce
    from scripts_table import by_name

    runs = {mode: [{"steps_per_second": rate, "batch_size": 50, "command": mode,
                    "test_accuracy": 0.9} for rate in rates]
            for mode, rates in (("constant", [10.0, 11.0]), ("feed", [8.0, 8.8]),
                                ("queue", [10.5, 10.0]), ("dataset", [9.0, 10.0]))}
    machine = {"cpu": "AMD EPYC", "cores": 2, "load_average": [0.5, 0.5, 0.5],
               "bfloat16_units": []}
    args = argparse.Namespace(script="mnist_cnn/train.py", dataset="mnist", data_dir="/d",
                              steps=1000, num_warmup=100, repeats=2)
    record = input_overhead.summarize(args, runs, machine, machine, {"batch_size": 50,
                                                                     "model": "mnist_cnn"})
    assert record["compute_bound_images_per_second"] == 550.0
    assert record["overhead"]["feed"] == pytest.approx(0.25)
    assert record["best_mode"] == "queue" and record["best_overhead"] == pytest.approx(1 / 21)
    assert record["modes"]["dataset"]["all_steps_per_second"] == [9.0, 10.0]
    assert record["noisy"] == []
    runs["dataset"] = [dict(runs["dataset"][0], steps_per_second=12.0)]
    faster = input_overhead.summarize(args, runs, machine, machine, {"batch_size": 50})
    assert faster["noisy"] == ["dataset ran faster than the compute bound: the machine "
                               "disturbed the timing"]
    row = by_name()["input_overhead_mnist_cnn"]
    best = [f for f in row.figures if f.kind == "overhead"][0]
    assert reproduce.grade(row, best, record, {"tier": "report"}) == ("match", "at most 10.00 %")
    assert reproduce.grade(row, best, dict(record, best_overhead=0.2),
                           {"tier": "report"})[0] == "below"
    assert reproduce.grade(row, best, record, {"tier": "quick"})[0] == "not comparable"


def test_bfloat16_rows_wait_for_bfloat16_units(monkeypatch):
    import reproduce
    from scripts_table import by_name

    row = by_name()["bfloat16_speedup"]
    alexnet = [f for f in row.figures if f.kind == "speedup"][0]
    record = {"cpu": "AMD EPYC", "bfloat16_units": [],
              "benchmarks": {"alexnet": {"forward_speedup": 0.95}}}
    verdict, reason = reproduce.grade(row, alexnet, record, {"tier": "report"})
    assert verdict == "not comparable" and "AMD EPYC has neither AVX512_BF16 nor AMX" in reason
    amx = dict(record, cpu="Intel Xeon", bfloat16_units=["amx_bf16", "avx512_bf16"])
    assert reproduce.grade(row, alexnet, amx, {"tier": "report"})[0] == "below"
    amx["benchmarks"]["alexnet"]["forward_speedup"] = 1.7
    assert reproduce.grade(row, alexnet, amx, {"tier": "report"}) == ("match", "at least 1.60")
    records = reproduce.recorded()
    records.pop("bfloat16_speedup", None)  # until a CPU with bfloat16 units recorded it
    monkeypatch.setattr(reproduce, "recorded", lambda: records)
    assert "waits for a CPU with bfloat16 units" in reproduce.readme_table()
    vgg = [f for f in row.figures if f.key == "benchmarks.vgg16.forward_backward_speedup"][0]
    amx["benchmarks"]["vgg16"] = {"left_out": "not in --nets (alexnet)"}  # the quick tier
    assert reproduce.grade(row, vgg, amx, {"tier": "quick"}) == ("not comparable",
                                                                 "not in --nets (alexnet)")


@pytest.mark.slow
def test_bfloat16_speedup_record_at_a_tiny_size(run_script, mnist5k_records, tmp_path):
    out = tmp_path / "bf16.json"
    run_script("setup/bfloat16_speedup.py", "--nets", "alexnet", "--batch_size", 2,
               "--num_batches", 1, "--num_warmup", 0, "--mnist_data_dir", mnist5k_records,
               "--mnist_steps", 20, "--json", out)
    record = json.loads(out.read_text())
    alexnet = record["benchmarks"]["alexnet"]
    assert alexnet["forward_speedup"] == pytest.approx(
        alexnet["float32"]["forward"] / alexnet["bfloat16"]["forward"])
    assert record["mnist_cnn"]["speedup"] == pytest.approx(
        record["mnist_cnn"]["bfloat16"]["steps_per_second"]
        / record["mnist_cnn"]["float32"]["steps_per_second"])
    assert ("neither AVX512_BF16 nor AMX" in record["note"]) == (not record["bfloat16_units"])
