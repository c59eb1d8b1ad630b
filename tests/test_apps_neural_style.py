"""apps/neural_style and apps/fast_neural_style, tfcourse.style and their data sets.

Real offline data: the SSDLite graph's MobileNet-V2 and OpenCV's sample images.
VGG-19 exists only online (510 MB): its reader and network run on a small
.mat file in MatConvNet's layout that the tests write with scipy.io.savemat;
the VGG-19 and COCO fetchers are tested on small files served from 127.0.0.1.
"""
import functools
import hashlib
import http.server
import json
import os
import threading
import zipfile

import cv2
import numpy as np
import pytest
import scipy.io

from tfcourse import style
from tfcourse.cli import UserError
from tfcourse.compat import tf, session_config

GATYS = "apps/neural_style/stylize.py"
TRAIN = "apps/fast_neural_style/train.py"
FAST = "apps/fast_neural_style/stylize.py"


def write_vgg_mat(path, channels=4, names=style.VGG19_LAYERS, seed=0):
    """A small .mat in MatConvNet's VGG-19 layout (beta17+: meta.normalization)."""
    rng = np.random.RandomState(seed)
    layers = np.empty((1, len(names)), dtype=object)
    inputs = 3
    for i, name in enumerate(names):
        layer = {"name": name, "type": name.rstrip("0123456789_")}
        if name.startswith("conv"):
            weights = np.empty((1, 2), dtype=object)
            # MatConvNet order: [width, height, in, out]; a non-square kernel shows the transpose
            weights[0, 0] = rng.normal(0, 0.3, (3, 2, inputs, channels)).astype(np.float32)
            weights[0, 1] = rng.normal(0, 0.1, (1, channels)).astype(np.float32)
            layer["weights"] = weights
            inputs = channels
        layers[0, i] = layer
    meta = {"normalization": {"averageImage": np.array([[123.68, 116.779, 103.939]])}}
    scipy.io.savemat(str(path), {"layers": layers, "meta": meta})
    return path


@pytest.fixture(scope="module")
def samples(fetch):
    return fetch("opencv_samples")


@pytest.fixture(scope="module")
def ssdlite_graph(fetch):
    return os.path.join(fetch("ssdlite"), "frozen_inference_graph.pb")


@pytest.fixture
def tiny_vgg(tmp_path):
    return str(write_vgg_mat(tmp_path / "tiny-vgg19.mat"))


def one_line_error(proc, message):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr.strip().splitlines()[-1]


# --------------------------------------------------------------------------- tfcourse.style

def test_vgg19_reader_on_a_small_matconvnet_file(tiny_vgg):
    layers, mean_pixel = style.load_vgg19(tiny_vgg)
    assert [layer[0] for layer in layers] == list(style.VGG19_LAYERS[:style.VGG19_LAYERS.index(
        "relu5_1") + 1])
    np.testing.assert_allclose(mean_pixel, [123.68, 116.779, 103.939], rtol=1e-6)
    raw = scipy.io.loadmat(tiny_vgg)["layers"][0, 0][0, 0]["weights"][0, 0]
    name, kind, kernel, bias = layers[0]
    assert (name, kind) == ("conv1_1", "conv")
    assert kernel.shape == (2, 3, 3, 4) and bias.shape == (4,)  # [height, width, in, out]
    np.testing.assert_array_equal(kernel, np.transpose(raw, (1, 0, 2, 3)))
    assert layers[1][2] is None  # relu1_1 has no weights


def test_vgg19_network_runs_and_style_loss_is_zero_for_the_style_image(tiny_vgg, samples):
    net = style.VGG19(tiny_vgg)
    image = style.load_image(os.path.join(samples, "starry_night.jpg"), 48)
    with tf.Graph().as_default():
        inp = tf.placeholder(tf.float32, [1, None, None, 3])
        features = net(inp)
        grams = {layer: style.gram_matrix(features[layer])[0] for layer in net.style_layers}
        with tf.Session(config=session_config()) as sess:
            targets = sess.run(grams, {inp: image[None]})
            loss = style.style_loss(features, [targets], net.style_layers)
            same = sess.run(loss, {inp: image[None]})
            other = sess.run(loss, {inp: np.full_like(image, 128.0)[None]})
            shape = sess.run(features["relu5_1"], {inp: image[None]}).shape
    assert shape == (1, 3, 3, 4)  # 48x38 px after four 2x2 poolings ('SAME')
    assert abs(same) < 1e-6 * max(other, 1e-12) and other > 0


def test_gram_matrix_against_a_hand_computed_one():
    # one image, 2x2 positions, 2 channels: F = [[1, 2], [3, 4], [5, 6], [7, 8]] (rows = positions)
    features = np.arange(1, 9, dtype=np.float32).reshape(1, 2, 2, 2)
    by_hand = np.array([[1 + 9 + 25 + 49, 2 + 12 + 30 + 56],
                        [2 + 12 + 30 + 56, 4 + 16 + 36 + 64]]) / (2 * 2 * 2.0)  # / (H*W*C)
    with tf.Graph().as_default(), tf.Session(config=session_config()) as sess:
        gram = sess.run(style.gram_matrix(tf.constant(features)))
    np.testing.assert_allclose(gram[0], by_hand, rtol=1e-6)
    np.testing.assert_allclose(style.gram_numpy(features), by_hand, rtol=1e-12)


def test_mobilenet_style_loss_is_zero_for_the_style_image(ssdlite_graph, samples):
    net = style.MobileNetV2(ssdlite_graph)
    image = style.load_image(os.path.join(samples, "starry_night.jpg"), 64)
    content = style.load_image(os.path.join(samples, "building.jpg"), 64)
    with tf.Graph().as_default() as graph:
        inp = tf.placeholder(tf.float32, [1, None, None, 3])
        features = net(inp)
        grams = {layer: style.gram_matrix(features[layer])[0] for layer in net.style_layers}
        assert not [op for op in graph.get_operations() if op.type in (
            "NonMaxSuppressionV3", "TensorArrayV3")]  # only the feature extractor is imported
        with tf.Session(config=session_config()) as sess:
            targets = sess.run(grams, {inp: image[None]})
            loss = style.style_loss(features, [targets], net.style_layers)
            gradient = tf.gradients(loss, inp)[0]
            same = sess.run(loss, {inp: image[None]})
            other, grad = sess.run([loss, gradient], {inp: content[None]})
    assert same < 1e-6 * other and other > 0
    assert np.abs(grad).max() > 0  # gradients flow through the frozen convolutions


# --------------------------------------------------------------------------- image measures

@pytest.fixture(scope="module")
def photo(samples):
    return style.load_image(os.path.join(samples, "fruits.jpg"), 128)


def test_checkerboard_energy_sees_a_2_and_a_4_pixel_pattern(photo):
    rows, cols = np.mgrid[:photo.shape[0], :photo.shape[1]]
    assert style.checkerboard_ratio(photo, photo) == pytest.approx(1.0)
    two = photo + 12.0 * ((rows + cols) % 2 * 2 - 1)[..., None]       # 2-pixel checkerboard
    four = photo + 12.0 * ((rows // 2 + cols // 2) % 2 * 2 - 1)[..., None]  # 4-pixel one
    assert style.checkerboard_ratio(two, photo) > 10
    assert style.checkerboard_ratio(four, photo) > 10
    # a smooth change of the same amplitude (a 32-pixel wave) adds nothing at those periods
    wave = photo + 12.0 * np.sin(2 * np.pi * cols / 32.0)[..., None]
    assert style.checkerboard_ratio(wave, photo) < 1.2
    measured = style.image_measures(photo, two, photo)["checkerboard"]
    assert measured["ratio"] > 10 and measured["content"] > 0


def test_colour_transfer_measures_a_known_shift(photo):
    lab = style.rgb_to_lab(photo)
    assert lab[..., 0].max() <= 100.5 and abs(lab[..., 1:]).max() < 130
    bluer = photo.copy()
    bluer[..., 2] = np.clip(bluer[..., 2] + 60, 0, 255)
    half = (photo + bluer) / 2
    measured = style.colour_transfer(photo, half, bluer)
    assert measured["content_to_style"] > 10
    assert 0.35 < measured["towards_style"] < 0.65  # halfway in colour, about halfway in Lab
    assert style.colour_transfer(photo, bluer, bluer)["towards_style"] == pytest.approx(1.0)
    assert style.colour_transfer(photo, photo, bluer)["towards_style"] == pytest.approx(0.0)
    # the distance between Gaussians: a pure mean shift is its length
    stats = style.colour_statistics(photo)
    shifted = (stats[0] + [3.0, 4.0, 0.0], stats[1])
    assert style.colour_distance(stats, shifted) == pytest.approx(5.0, rel=1e-3)


# --------------------------------------------------------------------------- neural style

def test_a_few_adam_iterations_lower_the_total_loss(run_script, samples, tmp_path):
    out = tmp_path / "result.png"
    proc = run_script(GATYS, "--size", 64, "--iterations", 12, "--optimizer", "adam",
                      "--octaves", 1, "--log_every", 4, "--save_every", 6,
                      "--checkpoint_dir", tmp_path / "ckpt", "--output", out,
                      "--json", tmp_path / "r.json", "--plot", tmp_path / "f.png")
    assert "loss network: MobileNet-V2" in proc.stdout and "network mobilenet_v2" in proc.stdout
    result = json.loads((tmp_path / "r.json").read_text())
    losses = result["losses_unweighted"]
    start = sum(result["weights"][k] * losses["start"][k] for k in ("content", "style", "tv"))
    assert losses["start"]["content"] == 0.0  # it starts from the content image itself
    assert abs(start - losses["start"]["total"]) < 1e-4 * start
    assert losses["end"]["total"] < 0.8 * losses["start"]["total"]
    assert result["network"] == "mobilenet_v2" and result["iterations"] == 12
    assert result["sizes"] == [64] and result["evaluations"] == 12
    measures = result["measures"]
    assert measures["checkerboard"]["ratio"] > 0 and measures["colour"]["space"].startswith("CIE")
    assert cv2.imread(str(out)).shape == (44, 64, 3)  # building.jpg is 868x600
    assert sorted(os.listdir(str(tmp_path / "ckpt")))[-2:] == ["iter_12.png", "iter_6.png"]
    assert any(n.startswith("events.out.tfevents") for n in os.listdir(str(tmp_path / "ckpt")))
    # --restore continues from the newest checkpoint image (the flags' first names still work)
    proc = run_script(GATYS, "--size", 64, "--iterations", 15, "--optimizer", "adam",
                      "--octaves", 1, "--print_every", 5, "--checkpoint_every", 5,
                      "--checkpoint_dir", tmp_path / "ckpt", "--restore", "--output", out,
                      "--json", tmp_path / "r2.json", "--plot", "")
    assert "restored iteration 12" in proc.stdout
    assert json.loads((tmp_path / "r2.json").read_text())["start_iteration"] == 12


def test_lbfgs_size_schedule_lowers_the_loss_at_each_size(run_script, samples, tmp_path):
    proc = run_script(GATYS, "--size", 48, "--iterations", 6, "--octaves", 2,
                      "--style_layer_weights", 1, 1, 2, 4, "--checkpoint_dir",
                      tmp_path / "ckpt", "--output", tmp_path / "o.png", "--json",
                      tmp_path / "r.json", "--plot", "")
    assert "lbfgs, 6 iterations at each of 24/48 px" in proc.stdout
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["optimizer"] == "lbfgs" and result["sizes"] == [24, 48]
    assert result["style_layer_weights"] == [0.125, 0.125, 0.25, 0.5]
    assert [s["iterations"] for s in result["stages"]] == [6, 6]
    assert all(s["evaluations"] >= s["iterations"] for s in result["stages"])
    curve = result["curve"]
    for size in (24, 48):  # L-BFGS lowers the loss within each stage of the schedule
        totals = [t for t, s in zip(curve["total"], curve["size"]) if s == size]
        assert totals[-1] < 0.9 * totals[0]
    assert cv2.imread(str(tmp_path / "ckpt" / "iter_6.png")).shape[1] == 24
    assert cv2.imread(str(tmp_path / "ckpt" / "iter_12.png")).shape[1] == 48


def test_lbfgs_on_vgg19_with_two_blended_styles(run_script, samples, tiny_vgg, tmp_path):
    proc = run_script(GATYS, "--network", "vgg19", "--network_path", tiny_vgg, "--size", 40,
                      "--styles", "starry_night.jpg", "baboon.jpg", "--style_blend_weights",
                      3, 1, "--optimizer", "lbfgs", "--iterations", 5, "--init", "noise",
                      "--preserve_colors", "--checkpoint_dir", tmp_path / "ckpt",
                      "--output", tmp_path / "o.png", "--json", tmp_path / "r.json",
                      "--plot", "")
    assert "loss network: VGG-19" in proc.stdout and "network vgg19" in proc.stdout
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["style_blend_weights"] == [0.75, 0.25]
    assert result["losses_unweighted"]["end"]["total"] < result["losses_unweighted"]["start"][
        "total"]


def test_grid_runs_every_content_with_every_style(run_script, samples, tmp_path):
    proc = run_script("apps/neural_style/grid.py", "--size", 32, "--iterations", 2,
                      "--contents", "building.jpg", "--styles", "starry_night.jpg",
                      "baboon.jpg", "--output_dir", tmp_path / "grid", "--json",
                      tmp_path / "g.json", "--plot", tmp_path / "g.png")
    assert "building.jpg in the style of baboon.jpg" in proc.stdout
    result = json.loads((tmp_path / "g.json").read_text())
    assert [c["styles"] for c in result["cells"]] == [["starry_night.jpg"], ["baboon.jpg"]]
    assert result["checkerboard_ratio_max"] == max(
        c["measures"]["checkerboard"]["ratio"] for c in result["cells"])
    assert (tmp_path / "grid" / "building_baboon.png").exists() and (tmp_path / "g.png").exists()


def load_script(relpath, monkeypatch):
    """A script as a module (both apps have a stylize.py: each gets a name of its own)."""
    import importlib.util

    from tfcourse import REPO_ROOT

    path = os.path.join(REPO_ROOT, relpath)
    monkeypatch.syspath_prepend(os.path.dirname(path))
    spec = importlib.util.spec_from_file_location(relpath.replace("/", "_")[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BAD_INPUT = [
    (["--content", "no-such-photo.jpg"], "not found"),
    (["--styles", "UNREADABLE"], "is not a readable image"),
    (["--network", "resnet"], "invalid choice: 'resnet'"),
    (["--style_weight", "nan"], "is not a finite number"),
    (["--tv_weight", "inf"], "is not a finite number"),
    (["--style_blend_weights", "1", "2"], "needs 1 non-negative weights"),
    (["--network", "vgg19", "--network_path", "NOTVGG"], "is not VGG-19"),
    (["--network", "vgg19", "--network_path", "UNREADABLE"], "is not a MATLAB .mat file"),
    (["--network", "vgg19", "--network_path", "no-such.mat"], "get_data.py vgg19"),
]


def bad_input_args(args, tmp_path):
    unreadable = tmp_path / "broken.jpg"
    unreadable.write_text("not an image")
    not_vgg = write_vgg_mat(tmp_path / "alexnet.mat", names=("conv1", "relu1", "norm1"))
    args = [str(unreadable) if a == "UNREADABLE" else str(not_vgg) if a == "NOTVGG" else a
            for a in args]
    return args + ["--iterations", "1", "--size", "32", "--checkpoint_dir", str(tmp_path / "c"),
                   "--json", "", "--plot", "", "--output", str(tmp_path / "o.png")]


@pytest.mark.parametrize("args, message", BAD_INPUT)
def test_bad_input_is_a_clear_error(monkeypatch, capsys, samples, tmp_path, args, message):
    stylize = load_script(GATYS, monkeypatch)
    with pytest.raises((UserError, SystemExit)) as info:
        stylize.main(bad_input_args(args, tmp_path))
    if info.type is SystemExit:  # argparse: usage, then one error line
        assert info.value.code == 2
        assert message in capsys.readouterr().err.strip().splitlines()[-1]
    else:
        assert message in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "o.png").exists()


def test_bad_input_exits_2_with_one_line(run_script, samples, tmp_path):
    args, message = BAD_INPUT[6]  # a .mat that is not VGG-19
    proc = run_script(GATYS, *bad_input_args(args, tmp_path), check=False)
    one_line_error(proc, message)


# --------------------------------------------------------------------------- fast neural style

def test_transform_net_keeps_the_image_size(monkeypatch):
    from tfcourse import REPO_ROOT

    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "apps", "fast_neural_style"))
    from transform_net import transform_net

    with tf.Graph().as_default() as graph:
        images = tf.placeholder(tf.float32, [1, None, None, 3])
        out = transform_net(images)
        names = {v.op.name for v in tf.trainable_variables()}
        ops = graph.get_operations()
        with tf.Session(config=session_config()) as sess:
            sess.run(tf.global_variables_initializer())
            for height, width in ((32, 32), (17, 23), (31, 45), (9, 10)):
                pixels = np.random.RandomState(0).uniform(0, 255, (1, height, width, 3))
                result = sess.run(out, {images: pixels})
                assert result.shape == (1, height, width, 3)
                assert 0 <= result.min() and result.max() <= 255
    convs = [op for op in ops if op.type == "Conv2D"]
    assert len(convs) == 16  # 3 down, 5 residual blocks of 2, 2 upsampling, 1 out
    assert not [op for op in ops if op.type == "Conv2DBackpropInput"]  # no transposed conv
    assert len([op for op in ops if op.type == "ResizeNearestNeighbor"]) == 2
    # every convolution reads a reflection-padded input ("VALID" after tf.pad REFLECT)
    assert all(op.inputs[0].op.type == "MirrorPad" for op in convs)
    assert all(op.inputs[0].op.get_attr("mode") == b"REFLECT" for op in convs)
    # instance norm after every convolution but the output one
    norms = {n.split("/InstanceNorm")[0] for n in names if "/InstanceNorm/" in n}
    assert len(norms) == 15 and "transform_net/output" not in norms
    assert "transform_net/residual5/conv2/weights" in names
    assert "transform_net/upsample1/conv/InstanceNorm/beta" in names


def test_transform_net_width_scales_the_channels(monkeypatch):
    from tfcourse import REPO_ROOT

    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "apps", "fast_neural_style"))
    from transform_net import transform_net

    counts = {}
    for width in (1.0, 0.5):
        with tf.Graph().as_default():
            transform_net(tf.placeholder(tf.float32, [1, 16, 16, 3]), width=width)
            shapes = {v.op.name: v.shape.as_list() for v in tf.trainable_variables()}
            counts[width] = sum(int(np.prod(s)) for s in shapes.values())
            assert shapes["transform_net/conv3/weights"] == [3, 3, 64 * width, 128 * width]
    assert 0.2 < counts[0.5] / counts[1.0] < 0.3  # a quarter of the weights (and the work)


@pytest.mark.slow
def test_train_restore_and_stylize_images_folder_and_video(run_script, samples, fetch,
                                                            tmp_path):
    ckpt = tmp_path / "ckpt"
    common = ["--image_size", 32, "--batch_size", 1, "--frame_step", 200, "--log_every", 1,
              "--save_every", 2, "--checkpoint_dir", ckpt, "--vtest_dir", fetch("vtest"),
              "--width", 0.25]
    proc = run_script(TRAIN, "--steps", 2, "--json", tmp_path / "t.json", "--plot",
                      tmp_path / "t.png", *common)
    assert "loss network: MobileNet-V2" in proc.stdout
    assert "vtest.avi" in proc.stdout  # offline data: photos and clip frames
    proc = run_script(TRAIN, "--steps", 3, "--restore", "--json", tmp_path / "t2.json",
                      "--plot", "", *common)
    assert "at step 2" in proc.stdout
    result = json.loads((tmp_path / "t2.json").read_text())
    assert (result["start_step"], result["steps"]) == (2, 3)
    assert (tmp_path / "t.png").exists()

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("home.jpg", "fruits.jpg"):
        cv2.imwrite(str(folder / name), cv2.imread(os.path.join(samples, name)))
    capture = cv2.VideoCapture(os.path.join(fetch("vtest"), "vtest.avi"))
    clip = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*"MJPG"), 10, (96, 72))
    for _ in range(4):
        writer.write(cv2.resize(capture.read()[1], (96, 72)))
    writer.release()
    out = tmp_path / "out"
    run_script(GATYS, "--size", 33, "--iterations", 2, "--octaves", 2, "--checkpoint_dir",
               tmp_path / "gatys", "--output", tmp_path / "gatys.png", "--json",
               tmp_path / "gatys.json", "--plot", "")
    proc = run_script(FAST, "building.jpg", folder, clip, "--size", 33, 0, "--checkpoint_dir",
                      ckpt, "--output_dir", out, "--iterative_json", tmp_path / "gatys.json",
                      "--repeats", 2, "--save_frames", "2",
                      "--json", tmp_path / "s.json", "--plot", tmp_path / "s.png")
    assert "step 3" in proc.stdout and "side by side at 33x23" in proc.stdout
    result = json.loads((tmp_path / "s.json").read_text())
    against = result["against_iterative"]
    assert against["ratio"] > 0 and against["iterative_evaluations"].keys() == {"16", "33"}
    assert against["style_loss"]["ratio"] > 0 and result["width"] == 0.25
    shapes = {(r["input"], r["size"]): (r["height"], r["width"]) for r in result["results"]}
    assert shapes[("building.jpg", 33)] == (23, 33) and shapes[("home.jpg", 0)] == (384, 512)
    assert cv2.imread(str(out / "fruits_stylized_33.png")).shape == (31, 33, 3)
    assert all(r["losses_unweighted"]["style"] > 0 for r in result["results"] if "size" in r
               and "frames" not in r)
    video = cv2.VideoCapture(str(out / "clip_stylized.mp4"))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    assert (out / "clip_frame2.png").exists()
    assert [n for n in os.listdir(str(out)) if n.startswith(".tmp")] == []


@pytest.mark.parametrize("script, args, message", [
    (FAST, ["nothing-here.png"], "not found"),
    (FAST, ["PHOTO", "--checkpoint_dir", "EMPTY"], "train first"),
    (TRAIN, ["--network", "alexnet"], "invalid choice: 'alexnet'"),
    (TRAIN, ["--content_weight=-inf"], "is not a finite number"),
    (TRAIN, ["--style", "nothing-here.jpg"], "not found"),
])
def test_fast_neural_style_bad_input(monkeypatch, capsys, tmp_path, script, args, message):
    (tmp_path / "photo.png").write_bytes(b"")
    args = [str(tmp_path / "photo.png") if a == "PHOTO" else str(tmp_path) if a == "EMPTY"
            else a for a in args]
    module = load_script(script, monkeypatch)
    with pytest.raises((UserError, SystemExit)) as info:
        module.main(args + ["--json", "", "--plot", ""])
    if info.type is SystemExit:
        assert info.value.code == 2
        assert message in capsys.readouterr().err.strip().splitlines()[-1]
    else:
        assert message in str(info.value) and "\n" not in str(info.value)


# --------------------------------------------------------------------------- data sets

@pytest.fixture
def local_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield served, "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


def md5_of(path):
    return hashlib.md5(open(str(path), "rb").read()).hexdigest()


def test_coco_fetch_and_loader_on_a_small_archive(local_server, tmp_path, monkeypatch, samples):
    from tfcourse.datasets import coco

    served, url = local_server
    archive = served / "train2014.zip"
    with zipfile.ZipFile(str(archive), "w") as zf:
        for i, name in enumerate(("home.jpg", "fruits.jpg", "messi5.jpg")):
            zf.write(os.path.join(samples, name), "train2014/COCO_train2014_%012d.jpg" % i)
    monkeypatch.setattr(coco, "URL", url + "train2014.zip")
    monkeypatch.setattr(coco, "IMAGES", 3)
    monkeypatch.setattr(coco, "MD5", "0" * 32)
    target = str(tmp_path / "data" / "coco")
    with pytest.raises(UserError, match="checksum"):
        coco.fetch(target, log=lambda m: None)
    assert not os.path.exists(target)
    monkeypatch.setattr(coco, "MD5", md5_of(archive))
    assert "3 images" in coco.fetch(target, log=lambda m: None)
    assert coco.is_present(target) and "already" in coco.fetch(target)
    paths = coco.image_paths(target)
    assert [os.path.basename(p) for p in paths][0] == "COCO_train2014_000000000000.jpg"
    assert not os.path.exists(os.path.join(target, "train2014.zip"))

    from tfcourse import REPO_ROOT

    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "apps", "fast_neural_style"))
    import training_images

    images, description = training_images.coco_images(target)
    batch = next(training_images.batches(images, 2, 24, np.random.RandomState(0)))
    assert description == "COCO train2014: 3 images" and batch.shape == (2, 24, 24, 3)
    with pytest.raises(UserError, match="get_data.py coco"):
        training_images.coco_images(str(tmp_path / "empty"))


def test_vgg19_fetch_from_a_local_mirror(local_server, tmp_path, monkeypatch):
    from tfcourse.datasets import vgg19

    served, url = local_server
    mat = write_vgg_mat(served / vgg19.FILE)
    monkeypatch.setattr(vgg19, "URL", url + vgg19.FILE)
    monkeypatch.setattr(vgg19, "MD5", md5_of(mat))
    target = str(tmp_path / "data" / "vgg19")
    assert "checksum verified" in vgg19.fetch(target, log=lambda m: None)
    layers, _ = style.load_vgg19(os.path.join(target, vgg19.FILE))
    assert len(layers) == 30
    with pytest.raises(UserError, match="mobilenet_v2"):
        vgg19.fetch(str(tmp_path / "other"), offline=True)


def test_wallpapers_lists_its_files_and_finds_what_is_there(tmp_path):
    from tfcourse.datasets import wallpapers

    assert len(wallpapers.PHOTOS) == 33 and set(wallpapers.PAINTINGS) <= set(wallpapers.FILES)
    members = {n for entries in wallpapers._members().values() for _, n in entries}
    assert members == set(wallpapers.FILES)
    assert not wallpapers.is_present(str(tmp_path)) and wallpapers.photo_paths(str(tmp_path)) == []
    cv2.imwrite(str(tmp_path / "Dune.jpg"), np.zeros((8, 8, 3), np.uint8))
    assert wallpapers.photo_paths(str(tmp_path)) == [str(tmp_path / "Dune.jpg")]


def test_training_crops_draw_from_photos_and_frames(monkeypatch):
    from tfcourse import REPO_ROOT

    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "apps", "fast_neural_style"))
    import training_images

    rng = np.random.RandomState(0)
    photos = [np.full((40, 60, 3), 0, np.uint8) + rng.randint(0, 50, (40, 60, 3)).astype(np.uint8)]
    frames = [np.full((30, 30, 3), 200, np.uint8) + rng.randint(0, 50, (30, 30, 3)).astype(
        np.uint8) for _ in range(5)]
    batch = next(training_images.batches(photos, 64, 16, rng, frames=frames))
    assert batch.shape == (64, 16, 16, 3)
    from_frames = (batch.mean(axis=(1, 2, 3)) > 128).mean()
    assert 0.3 < from_frames < 0.7  # the frames together count as one image
    big = np.zeros((1000, 3000, 3), np.uint8)
    assert training_images.shrink(big, 256).shape == (256, 768, 3)


def test_opencv_samples_are_all_there(samples):
    from tfcourse.datasets import opencv_samples

    assert opencv_samples.is_present(samples)
    assert cv2.imread(opencv_samples.path(samples, "starry_night.jpg")).shape == (600, 752, 3)
    with pytest.raises(UserError, match="get_data.py opencv_samples"):
        opencv_samples.path(samples, "lena.jpg")
