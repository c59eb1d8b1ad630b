"""mnist_cnn/tensorboard_demo.py: every stage of the lesson on the real 4000-digit subset,
read back from its event files, checkpoints and projector files."""
import json
import math
import os
import re
import shutil

import pytest

SCRIPT = "mnist_cnn/tensorboard_demo.py"
SCALARS = {"xent/xent", "accuracy/accuracy", "input/image/0", "input/image/1", "input/image/2"}


def histograms(*layers):
    tags = {"%s/%s" % (layer, kind) for layer in layers
            for kind in ("weights", "biases", "activations")}
    return tags | ({"fc1/relu"} if "fc1" in layers else set())


@pytest.fixture(scope="module")
def lesson(run_script, fetch, tmp_path_factory):
    """--stage all, 6 steps per run (summaries at steps 0 and 3), a 4-run sweep (one rate)."""
    out = tmp_path_factory.mktemp("tensorboard_demo")
    proc = run_script(SCRIPT, "--stage", "all", "--data_dir", fetch("mnist5k"), "--steps", 6,
                      "--summary_every", 3, "--batch_size", 20, "--log_every", 3,
                      "--learning_rates", "1e-4", "--checkpoint_dir", out / "logs",
                      "--json", out / "result.json", "--plot", out / "sweep.png")
    return out, proc, json.loads((out / "result.json").read_text())


def all_steps(events):
    """Every step a summary was written at, whatever its tag."""
    return set().union(*events.steps.values())


def test_stages_1_and_2_write_the_graph_flat_then_scoped(lesson, read_events):
    out, _, _ = lesson
    events = read_events(out / "logs" / "1_graph")
    flat = events.graph_nodes
    assert events.tags == set() and "Conv2D" in flat and "W" in flat
    assert not any(n.startswith(("conv1/", "fc1/", "xent/")) for n in flat)
    events = read_events(out / "logs" / "2_name_scopes")
    scoped = events.graph_nodes
    assert events.tags == set()
    for scope in ("conv1", "conv2", "fc1", "fc2", "xent", "train", "accuracy"):
        assert any(n.startswith(scope + "/") for n in scoped), scope
    assert "conv1/W" in scoped and "Conv2D" not in scoped


def test_stages_3_and_4_add_scalars_images_then_histograms(lesson, read_events):
    out, _, _ = lesson
    events = read_events(out / "logs" / "3_scalars_images")
    assert events.tags == SCALARS and all_steps(events) == {0, 3}
    events = read_events(out / "logs" / "4_histograms")
    assert events.tags == SCALARS | histograms("conv1", "conv2", "fc1", "fc2")
    assert all_steps(events) == {0, 3}


def test_stage_5_runs_one_folder_per_setting(lesson, read_events):
    out, proc, result = lesson
    names = sorted(os.listdir(str(out / "logs" / "5_hparam")))
    assert names == ["lr_1E-04,conv=1,fc=1", "lr_1E-04,conv=1,fc=2",
                     "lr_1E-04,conv=2,fc=1", "lr_1E-04,conv=2,fc=2"]
    assert sorted(result["hparam_runs"]) == names
    sweep = out / "logs" / "5_hparam"
    assert read_events(sweep / "lr_1E-04,conv=1,fc=1").tags == SCALARS | histograms("conv", "fc")
    assert (read_events(sweep / "lr_1E-04,conv=2,fc=1").tags
            == SCALARS | histograms("conv1", "conv2", "fc"))
    assert result["best_hparam_run"] in names
    assert (out / "sweep.png").stat().st_size > 20000
    assert "wrote %s" % (out / "sweep.png") in proc.stdout and "ETA" in proc.stdout


def test_the_sweep_covers_12_settings(monkeypatch):
    from tfcourse import REPO_ROOT

    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "mnist_cnn"))
    import tensorboard_demo

    args = tensorboard_demo.parse_args(["--stage", "5"])
    names = {tensorboard_demo.make_hparam_string(lr, conv, fc) for lr in args.learning_rates
             for conv in (True, False) for fc in (True, False)}
    assert len(names) == 12 and "lr_1E-04,conv=2,fc=2" in names and "lr_1E-05,conv=1,fc=1" in names


def test_stage_6_projector_files_fit_the_checkpoint(lesson, fetch, read_events):
    from google.protobuf import text_format
    from PIL import Image
    from tensorboard.plugins import projector

    from tfcourse import input_data
    from tfcourse.compat import tf

    out, _, result = lesson
    logdir = out / "logs" / "6_projector"
    assert read_events(logdir).tags == SCALARS | histograms("conv1", "conv2", "fc1", "fc2")
    config = text_format.Parse((logdir / "projector_config.pbtxt").read_text(),
                               projector.ProjectorConfig())
    (embedding,) = config.embeddings
    shapes = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(logdir))
                                      ).get_variable_to_shape_map()
    digits = 1000                      # the whole test split of mnist5k (fewer than 1024)
    assert shapes[embedding.tensor_name] == [digits, 1024]   # the last hidden layer
    assert result["stages"]["6"]["embedding_digits"] == digits
    side = int(math.ceil(math.sqrt(digits))) * 28
    assert list(embedding.sprite.single_image_dim) == [28, 28]
    assert Image.open(str(logdir / embedding.sprite.image_path)).size == (side, side)
    labels = (logdir / embedding.metadata_path).read_text().split()
    test = input_data.read_data_sets(fetch("mnist5k")).test
    assert labels == [str(label) for label in test.labels[:digits]]


def test_restore_continues_a_stage(lesson, run_script, fetch, tmp_path, read_events):
    out, _, _ = lesson
    logs = tmp_path / "logs"
    shutil.copytree(str(out / "logs" / "3_scalars_images"), str(logs / "3_scalars_images"))
    proc = run_script(SCRIPT, "--stage", 3, "--restore", "--data_dir", fetch("mnist5k"),
                      "--steps", 9, "--summary_every", 3, "--batch_size", 20,
                      "--checkpoint_dir", logs, "--json", "", "--plot", "")
    assert "restored" in proc.stdout and "(step 6)" in proc.stdout
    assert all_steps(read_events(logs / "3_scalars_images")) == {0, 3, 6}


def test_nan_loss_stops_with_exit_2_and_saves_nothing(run_script, fetch, tmp_path):
    # 1e38: at 1e30 oneDNN's kernels (AVX-512 Xeons) keep the loss finite (~1e30) for all 30
    # steps; at 1e38 it overflows at once, to inf there and NaN or inf elsewhere
    proc = run_script(SCRIPT, "--stage", 1, "--data_dir", fetch("mnist5k"), "--steps", 30,
                      "--learning_rate", "1e38", "--checkpoint_dir", tmp_path,
                      "--json", "", "--plot", "", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert re.search(r"the loss is (nan|inf) at step", proc.stderr), proc.stderr
    assert "--learning_rate" in proc.stderr
    assert tf_checkpoint(tmp_path / "1_graph") is None


def tf_checkpoint(logdir):
    from tfcourse.compat import tf

    return tf.train.latest_checkpoint(str(logdir))


def test_missing_data_is_one_line_exit_2(run_script, tmp_path):
    proc = run_script(SCRIPT, "--stage", 1, "--checkpoint_dir", tmp_path, "--data_dir",
                      tmp_path / "mnist", check=False)
    assert proc.returncode == 2 and "python setup/get_data.py mnist" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_learning_rates_are_a_user_error(monkeypatch):
    from tfcourse import REPO_ROOT
    from tfcourse.cli import UserError

    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "mnist_cnn"))
    import tensorboard_demo

    with pytest.raises(UserError, match="--learning_rates must be comma-separated numbers"):
        tensorboard_demo.parse_args(["--learning_rates", "1e-3,fast"])
    with pytest.raises(UserError, match="--learning_rates must be a positive number"):
        tensorboard_demo.parse_args(["--learning_rates", "1e-3,0"])


@pytest.mark.slow
def test_the_talks_network_learns_real_digits(run_script, fetch, tmp_path):
    """Stage 6 with Adam 1e-3 for 150 steps of 50 (the sweep reached 95 % in 150 of 100)."""
    run_script(SCRIPT, "--stage", 6, "--data_dir", fetch("mnist5k"), "--steps", 150,
               "--batch_size", 50, "--learning_rate", "1e-3", "--summary_every", 50,
               "--checkpoint_dir", tmp_path, "--json", tmp_path / "r.json", "--plot", "")
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["stages"]["6"]["test_accuracy"] >= 0.85   # chance: 10 %
