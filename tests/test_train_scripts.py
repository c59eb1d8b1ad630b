"""The train scripts, each trained a few steps on the real 5000-digit MNIST subset.

Per script: the loss falls and the accuracy beats chance; checkpoints, JSON,
curves; --restore resumes at the saved step; the TensorBoard event file has
the scalars, histograms, images and the graph; the weights export equals the
checkpoint; the graph has a GPU kernel for every op; bad input is one line
with exit status 2.
"""
import json
import os
import re
import shutil
import sys

import numpy as np
import pytest
import script_forks

from tfcourse import REPO_ROOT

#: script -> (run name, width used here: small, so that a step is quick)
SCRIPTS = {
    "mnist_cnn/lenet5.py": ("lenet5", 1.0),
    "alexnet/train.py": ("alexnet8", 0.25),
    "vggnet/train.py": ("vgg16", 0.125),
    "googlenet/train.py": ("inception10", 0.5),
    "resnet/train.py": ("resnet18", 0.125),
    "googlenet/train_nin.py": ("nin", 0.25),
    "googlenet/train_inception_v1.py": ("inception_v1", 0.25),
    "resnet/train_cifar.py": ("resnet32", 0.5),
    "resnet/train_densenet.py": ("densenet_bc", 0.5),
}
#: the learning rate where a script's optimizer is not Adam (Momentum, as its document's)
LEARNING_RATES = {"resnet/train_cifar.py": 0.1, "resnet/train_densenet.py": 0.1}
#: flags that pick a small form of the network here
MODEL_ARGS = {"resnet/train_densenet.py": ["--depth", 16]}
#: the layer that gives the class scores, where it is not logits/
CLASSIFIER = {"googlenet/train_nin.py": "mlpconv3/cccp2/weights"}
STEPS = 40
#: LeNet-5 is quick and runs the shared loop; the bigger nets are marked slow
PARAMS = [name if name == "mnist_cnn/lenet5.py" else pytest.param(name, marks=pytest.mark.slow)
          for name in sorted(SCRIPTS)]


def base_args(data_dir, width, tmp, steps=STEPS, script=None):
    return ["--dataset", "mnist5k", "--data_dir", data_dir, "--steps", steps, "--width", width,
            "--batch_size", 32, "--learning_rate", LEARNING_RATES.get(script, 3e-3),
            "--log_every", 10, "--save_every", 20, "--eval_every", 20,
            "--checkpoint_dir", tmp / "ckpt", "--json", tmp / "result.json",
            "--plot", tmp / "curves.png"] + MODEL_ARGS.get(script, [])


@pytest.fixture(scope="module", params=PARAMS)
def short_run(request, run_script, fetch, tmp_path_factory):
    """STEPS steps of batch 32 on the 4000 real training digits."""
    script = request.param
    name, width = SCRIPTS[script]
    tmp = tmp_path_factory.mktemp(name)
    proc = run_script(script, *base_args(fetch("mnist5k"), width, tmp, script=script))
    return script, tmp, proc, json.loads((tmp / "result.json").read_text())


def test_short_run_learns_real_digits(short_run):
    script, tmp, proc, result = short_run
    train = result["history"]["train"]
    assert result["model"] == SCRIPTS[script][0] and result["dataset"] == "mnist5k"
    assert result["train_examples"] == 4000 and result["test_examples"] == 1000
    assert result["steps"] == STEPS and result["steps_this_run"] == STEPS
    assert result["epochs"] == round(STEPS * 32 / 4000, 2)
    assert [h["step"] for h in train] == [1, 10, 20, 30, 40]
    # the loss falls (test loss at the end well under the first batch's) and accuracy beats chance
    assert result["test_loss"] < 0.8 * train[0]["loss"]
    assert result["test_accuracy"] > 0.3
    # the learning rate falls tenfold after a third and after two thirds of the steps
    rate = LEARNING_RATES.get(script, 3e-3)
    assert [h["learning_rate"] for h in train][::2] == pytest.approx([rate, rate / 10,
                                                                      rate / 100])
    assert "steps/s" in proc.stdout and "ETA" in proc.stdout
    assert "test accuracy" in proc.stdout and "wrote %s" % (tmp / "result.json") in proc.stdout
    assert (tmp / "curves.png").stat().st_size > 10000
    ckpt = os.listdir(str(tmp / "ckpt"))
    assert "checkpoint" in ckpt and any(n.startswith("model.ckpt-%d." % STEPS) for n in ckpt)


def test_restore_resumes_at_the_saved_step(short_run, run_script, fetch, tmp_path):
    script, tmp, _, first = short_run
    shutil.copytree(str(tmp / "ckpt"), str(tmp_path / "ckpt"))
    name, width = SCRIPTS[script]
    args = base_args(fetch("mnist5k"), width, tmp_path, steps=STEPS + 10,
                     script=script) + ["--restore"]
    proc = run_script(script, *args)
    resumed = json.loads((tmp_path / "result.json").read_text())
    assert "(step %d)" % STEPS in proc.stdout and "restored" in proc.stdout
    assert "step %d/%d" % (STEPS + 1, STEPS + 10) in proc.stdout
    assert "step 1/" not in proc.stdout
    assert resumed["steps"] == STEPS + 10 and resumed["steps_this_run"] == 10
    steps = [h["step"] for h in resumed["history"]["train"]]
    assert steps == [1, 10, 20, 30, 40, 41, 50]
    assert any(n.startswith("model.ckpt-%d." % (STEPS + 10)) for n in os.listdir(
        str(tmp_path / "ckpt")))


def test_event_file_holds_scalars_histograms_images_and_graph(short_run, read_events):
    _, tmp, _, _ = short_run
    events = read_events(tmp / "ckpt")
    assert events.files == 1
    tags, steps = events.tags, events.steps
    assert events.graph_nodes
    for tag in ("summaries/loss", "summaries/accuracy", "summaries/learning_rate",
                "test/accuracy", "test/loss"):
        assert tag in tags
    assert steps["summaries/loss"] == [1, 10, 20, 30, 40] and steps["test/accuracy"] == [20, 40]
    histograms = [t for t in tags if t.startswith("summaries/") and t.endswith("/weights")]
    assert len(histograms) >= 4
    assert {"summaries/input/image/0", "summaries/input/image/2"} <= tags


def test_weights_export_round_trips(short_run):
    from tfcourse.compat import tf

    script, tmp, _, result = short_run
    classifier = CLASSIFIER.get(script, "logits/weights")
    weights = np.load(str(tmp / "ckpt" / "weights.npz"))
    reader = tf.train.load_checkpoint(str(tmp / "ckpt" / ("model.ckpt-%d" % STEPS)))
    for name in weights.files:
        np.testing.assert_array_equal(weights[name], reader.get_tensor(name))
    assert classifier in weights.files and weights[classifier].shape[-1] == 10
    assert not any("Adam" in n or n == "global_step" for n in weights.files)
    trainable = sum(weights[n].size for n in weights.files if "moving_" not in n)
    assert trainable == result["parameters"]
    summary = (tmp / "ckpt" / "weights.txt").read_text().splitlines()
    assert summary[-1] == "%d arrays, %d trainable parameters" % (len(weights.files), trainable)
    assert any(line.split()[0] == classifier and line.split()[1] == "x".join(
        map(str, weights[classifier].shape)) for line in summary)


@pytest.mark.parametrize("script, kwargs, parameters", [
    ("resnet/train_cifar.py", {}, 465290),             # He et al.: 0.46 M (ResNet-32, CIFAR-10)
    ("resnet/train_densenet.py", {"depth": 100}, 769162),  # Huang et al.: 0.8 M (BC, k = 12)
    ("resnet/train_densenet.py", {"depth": 40}, 176122),
    ("googlenet/train_nin.py", {}, 966986),            # Lin et al.'s CIFAR-10 NIN: 0.97 M
    ("googlenet/train_inception_v1.py", {}, 5976122),  # GoogLeNet's modules, 10 classes
    ("vggnet/train.py", {"depth": 11}, 9750922),
    ("vggnet/train.py", {"depth": 19}, 20554826),
])
def test_small_image_nets_have_their_papers_parameter_counts(load_script, script, kwargs,
                                                             parameters):
    """On CIFAR-10's 32x32x3 images, 10 classes, at width 1 (batch-norm moving averages not
    counted; batch norm's beta takes the place of a bias)."""
    from tfcourse import benchmark
    from tfcourse.compat import tf

    module = load_script(script, "params_" + script.replace("/", "_")[:-3])
    with tf.Graph().as_default():
        logits = module.inference(tf.zeros([2, 32, 32, 3]), 10, False, **kwargs)
        assert logits.get_shape().as_list() == [2, 10]
        assert benchmark.count_parameters(tf.trainable_variables()) == parameters


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_every_op_has_a_gpu_kernel(fetch, tmp_path, script):
    """The script's whole training graph (placeholders, model, loss, Adam, schedule, the
    summaries and the checkpoint ops), built for a GPU by ``python -m tfcourse.gpu_check``."""
    report = tmp_path / "gpu_check.jsonl"
    args = base_args(fetch("mnist5k"), SCRIPTS[script][1], tmp_path, steps=10, script=script)
    proc = script_forks.run_or_spawn([sys.executable, "-m", "tfcourse.gpu_check", "--report",
                                      str(report), os.path.join(REPO_ROOT, script)]
                                     + [str(a) for a in args], REPO_ROOT, dict(os.environ), 300)
    verdict = json.loads(report.read_text().splitlines()[0])
    assert verdict["nodes"] > 100
    assert not verdict["missing"], verdict["describe"]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (tmp_path / "result.json").exists()  # nothing ran


@pytest.mark.parametrize("drops, expected", [
    ([], [0.01] * 4 + [0.001] * 4 + [0.0001] * 2),         # default: after 1/3 and 2/3
    (["--lr_drops", "0.5,0.8"], [0.01] * 5 + [0.001] * 3 + [0.0001] * 2),
])
def test_learning_rate_falls_tenfold_at_the_drops(tmp_path, drops, expected):
    from tfcourse import training
    from tfcourse.compat import tf

    args = training.parse_args(training.parser("LeNet-5", "lenet5"),
                               ["--steps", "10", "--learning_rate", "0.01",
                                "--checkpoint_dir", str(tmp_path)] + drops, "lenet5")
    assert training.lr_drop_steps(10, args.lr_drops) == ([4, 8] if not drops else [5, 8])
    with tf.Graph().as_default():
        global_step = tf.train.get_or_create_global_step()
        learning_rate = training.step_schedule(global_step, args.learning_rate, args.steps,
                                               args.lr_drops)
        with tf.Session() as sess:
            rates = []
            for step in range(10):                  # the rate the step-th train step uses
                sess.run(tf.assign(global_step, step))
                rates.append(float(sess.run(learning_rate)))
    assert rates == pytest.approx(expected, rel=1e-6)


def test_nan_loss_stops_with_exit_2_and_no_checkpoint(run_script, fetch, tmp_path):
    args = base_args(fetch("mnist5k"), 1.0, tmp_path)
    args[args.index("--learning_rate") + 1] = 1e12
    proc = run_script("mnist_cnn/lenet5.py", *args, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # where oneDNN runs (AVX-512 Xeons) the weights turn NaN while the loss is still finite,
    # and the step's weight histogram is where it shows
    assert re.search(r"the loss is (nan|inf) at step|diverged: the weights are no longer "
                     r"finite \(Nan in summary histogram", proc.stderr), proc.stderr
    assert "lower --learning_rate" in proc.stderr
    assert not any(n.startswith("model.ckpt") for n in os.listdir(str(tmp_path / "ckpt")))
    assert not (tmp_path / "result.json").exists()


@pytest.mark.parametrize("script, args, message", [
    ("mnist_cnn/lenet5.py", ["--dataset", "mnist", "--data_dir", "/nonexistent/mnist"],
     "get_data.py mnist --data-dir /nonexistent"),
    ("resnet/train.py", ["--dataset", "fashion_mnist", "--data_dir", "/nonexistent/fm"],
     "get_data.py fashion_mnist --data-dir /nonexistent"),
    ("alexnet/train.py", ["--dataset", "cifar10", "--data_dir", "/nonexistent/c"],
     "get_data.py cifar10"),
    ("googlenet/train.py", ["--dataset", "flowers17", "--data_dir", "/nonexistent/f"],
     "get_data.py flowers17"),
    ("vggnet/train.py", ["--restore"], "no checkpoint in"),
    ("mnist_cnn/lenet5.py", ["--batch_size", "5000"], "larger than the 4000 training images"),
    ("mnist_cnn/lenet5.py", ["--width", "0"], "--width must be a positive number"),
    ("mnist_cnn/lenet5.py", ["--learning_rate", "nan"], "is not a finite number"),
    ("mnist_cnn/lenet5.py", ["--lr_drops", "0.75,0.5"], "give increasing fractions"),
    ("resnet/train.py", ["--augment", "flip"], "a mirrored mnist5k image changes its label"),
])
def test_bad_input_gives_one_clear_line(run_script, fetch, tmp_path, script, args, message):
    full = base_args(fetch("mnist5k"), 1.0, tmp_path, steps=1)
    for flag in args[::2]:                 # the test's flags replace the defaults above
        if flag in full:
            del full[full.index(flag):full.index(flag) + 2]
    proc = run_script(script, *(full + args), check=False)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "result.json").exists()


def test_restore_with_another_width_is_a_clear_error(run_script, fetch, tmp_path):
    run_script("mnist_cnn/lenet5.py", *base_args(fetch("mnist5k"), 1.0, tmp_path, steps=2))
    args = base_args(fetch("mnist5k"), 0.5, tmp_path, steps=4) + ["--restore"]
    proc = run_script("mnist_cnn/lenet5.py", *args, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "does not fit this model" in proc.stderr and "--width" in proc.stderr


@pytest.mark.parametrize("mode, augment, crop_pad", [
    ("flip", True, 0), ("on", True, None), ("off", False, None), ("auto", False, None)])
def test_augment_flip_mirrors_without_cropping(tmp_path, mode, augment, crop_pad):
    from tfcourse import training
    parser = training.parser("ResNet-18", "resnet18", dataset="fashion_mnist")
    args = training.parse_args(parser, ["--augment", mode, "--checkpoint_dir", str(tmp_path)],
                               "resnet18")
    assert (args.augment, args.crop_pad) == (augment, crop_pad)
