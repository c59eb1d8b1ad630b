"""mnist_cnn/train.py trained briefly on real digits, restored, and fed bad input."""
import json
import os
import shutil
import sys

import pytest


@pytest.fixture(scope="module")
def short_run(run_script, fetch, tmp_path_factory):
    """250 steps of batch 50 on the 4000-digit real subset."""
    tmp = tmp_path_factory.mktemp("mnist_cnn")
    proc = run_script("mnist_cnn/train.py", "--data_dir", fetch("mnist5k"), "--steps", 250,
                      "--log_every", 50, "--save_every", 100,
                      "--checkpoint_dir", tmp / "ckpt", "--json", tmp / "result.json",
                      "--plot", tmp / "curve.png")
    return tmp, proc, json.loads((tmp / "result.json").read_text())


def test_short_run_learns_real_digits(short_run):
    tmp, proc, result = short_run
    # 250 steps already give ~90 %; chance is 10 %
    assert result["test_accuracy"] >= 0.85
    assert result["test_examples"] == 1000 and result["steps"] == 250
    losses = [h["loss"] for h in result["history"]]
    assert losses[-1] < losses[0] / 3
    assert "step 50, training accuracy" in proc.stdout
    assert "steps/s" in proc.stdout and "ETA" in proc.stdout
    assert "test accuracy" in proc.stdout


def test_checkpoint_plot_and_json_written(short_run):
    tmp, _, result = short_run
    ckpt = os.listdir(str(tmp / "ckpt"))
    assert "checkpoint" in ckpt and any(n.startswith("model.ckpt-250") for n in ckpt)
    assert (tmp / "curve.png").stat().st_size > 10000
    assert result["tf_version"] and result["device"]


def _copy_checkpoint(tmp, dest):
    """Each restore test works on its own copy of the step-250 checkpoint."""
    shutil.copytree(str(tmp / "ckpt"), str(dest))
    return dest


def test_restore_continues_from_the_saved_step(short_run, run_script, fetch, tmp_path):
    tmp, _, first = short_run
    ckpt = _copy_checkpoint(tmp, tmp_path / "ckpt")
    proc = run_script("mnist_cnn/train.py", "--data_dir", fetch("mnist5k"), "--steps", 300,
                      "--log_every", 50, "--restore", "--checkpoint_dir", ckpt,
                      "--json", tmp / "resumed.json", "--plot", "")
    resumed = json.loads((tmp / "resumed.json").read_text())
    assert "restored" in proc.stdout and "(step 250)" in proc.stdout
    assert "step 250, training accuracy" in proc.stdout
    assert "step 200, training accuracy" not in proc.stdout
    assert resumed["steps_this_run"] == 50
    assert [h["step"] for h in resumed["history"]][:5] == [0, 50, 100, 150, 200]
    assert resumed["test_accuracy"] >= first["test_accuracy"] - 0.03


def test_restore_of_finished_run_only_evaluates(short_run, run_script, fetch, tmp_path):
    tmp, _, first = short_run
    ckpt = _copy_checkpoint(tmp, tmp_path / "ckpt")
    run_script("mnist_cnn/train.py", "--data_dir", fetch("mnist5k"), "--steps", 250, "--restore",
               "--checkpoint_dir", ckpt, "--json", tmp / "eval.json", "--plot", "")
    again = json.loads((tmp / "eval.json").read_text())
    assert again["steps_this_run"] == 0
    assert again["test_accuracy"] == pytest.approx(first["test_accuracy"])


@pytest.mark.parametrize("args, message", [
    (["--data_dir", "/nonexistent/mnist"], "get_data.py mnist"),
    (["--restore", "--checkpoint_dir", "/nonexistent/ckpt"], "no checkpoint in /nonexistent/ckpt"),
    (["--batch_size", "0"], "--batch_size must be a positive number"),
    (["--keep_prob", "1.5"], "--keep_prob must be in (0, 1]"),
])
def test_bad_input_gives_one_clear_line(run_script, fetch, args, message, tmp_path):
    base = ["--data_dir", fetch("mnist5k"), "--steps", 1, "--json", tmp_path / "r.json",
            "--plot", ""]
    proc = run_script("mnist_cnn/train.py", *(base + args), check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "r.json").exists()


def test_summaries_hold_scalars_histograms_images_and_graph(short_run, read_events):
    tmp, _, _ = short_run
    events = read_events(tmp / "ckpt")
    tags = events.tags
    assert events.graph_nodes
    assert {"train/loss", "train/accuracy", "train/learning_rate"} <= tags
    assert {"weights/conv1/weights", "weights/conv2/weights", "weights/fc1/weights",
            "weights/fc2/weights"} <= tags
    assert {"input/image/0", "input/image/1", "input/image/2"} <= tags


def test_export_serves_the_test_accuracy(short_run, fetch):
    """The SavedModel (TF Serving layout, version = the global step) gives the script's own
    test accuracy back, with dropout off by default; saved_model_cli runs it too."""
    import subprocess

    import numpy as np

    from serving_helpers import serve
    from tfcourse import input_data

    tmp, _, result = short_run
    test = input_data.read_data_sets(fetch("mnist5k"), one_hot=False).test
    got, version = serve(tmp / "ckpt" / "export", images=test.images)
    assert os.path.basename(version) == "250" and result["export"].endswith("export/250")
    assert abs(float(np.mean(got["classes"] == test.labels)) - result["test_accuracy"]) < 1e-6
    assert got["logits"].shape == (len(test.labels), 10)
    cli_tool = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    np.save(str(tmp / "two.npy"), test.images[:2])
    proc = subprocess.run([cli_tool, "run", "--dir", version, "--tag_set", "serve",
                           "--signature_def", "serving_default",
                           "--inputs", "images=%s" % (tmp / "two.npy")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "classes" in proc.stdout and "logits" in proc.stdout
