"""apps/captcha: generated sets, the ten-head CNN learns, predict.py round-trips, clear errors."""
import json
import os
import shutil

import numpy as np
import pytest

from tfcourse import cjk

GENERATE = "apps/captcha/generate.py"
TRAIN = "apps/captcha/train.py"
PREDICT = "apps/captcha/predict.py"


@pytest.fixture(scope="module")
def captcha_sets(fetch, run_script, tmp_path_factory):
    """600 training captchas (training fonts) and 100 test captchas (held-out Kai font)."""
    out = tmp_path_factory.mktemp("captcha")
    run_script(GENERATE, "--data_dir", out / "data", "--font_dir", fetch("cjk_fonts"),
               "--train_size", 600, "--test_size", 100, "--samples", 4, "--seed", 1)
    return out


@pytest.fixture(scope="module")
def captcha_run(captcha_sets, run_script):
    """120 steps of 32 (~1 min on 2 cores)."""
    out = captcha_sets
    proc = run_script(TRAIN, "--data_dir", out / "data", "--checkpoint_dir", out / "ckpt",
                      "--json", out / "result.json", "--plot", out / "curve.png",
                      "--steps", 120, "--batch_size", 32, "--validation", 100,
                      "--log_every", 20, "--eval_every", 60, "--save_every", 60)
    # the restore test trains on in out/ckpt and exports step 140 there: keep step 120's export
    shutil.copytree(str(out / "ckpt" / "export"), str(out / "export_of_the_run"))
    return out, proc


def test_generated_sets(captcha_sets):
    meta, train = cjk.load_set(str(captcha_sets / "data" / "train.npz"), "generate")
    test_meta, test = cjk.load_set(str(captcha_sets / "data" / "test.npz"), "generate")
    assert train["images"].shape == (600, 28, 280) and train["images"].dtype == np.uint8
    assert test["labels"].shape == (100, 10)
    inverted = train["labels"].sum(1)
    assert inverted.min() >= 3 and inverted.max() <= 6
    assert set(np.unique(inverted)) == {3, 4, 5, 6}
    assert "ukai" not in meta["font_keys"] and test_meta["font_keys"] == ["ukai"]
    level1 = set(cjk.level1())
    assert all(len(t) == 10 and set(t) <= level1 for t in train["chars"])
    # ink where the characters are, paper around them
    assert train["images"].mean() > 150 and train["images"].min() < 60
    labels = json.loads((captcha_sets / "data" / "samples" / "labels.json").read_text())
    assert sorted(labels) == ["test_%03d.png" % i for i in range(4)]
    first = labels["test_000.png"]["inverted"]
    assert first == [int(i) + 1 for i in np.flatnonzero(test["labels"][0])]


def test_generate_all_training_fonts(run_script, fetch, tmp_path):
    """``--train_fonts all``: the thirteen fonts but the held-out one, as for the characters."""
    from tfcourse.datasets import cjk_fonts

    run_script(GENERATE, "--data_dir", tmp_path, "--font_dir", fetch("cjk_fonts"),
               "--train_size", 26, "--test_size", 2, "--samples", 0, "--train_fonts", "all")
    meta, _ = cjk.load_set(str(tmp_path / "train.npz"), "generate")
    assert meta["font_keys"] == list(cjk_fonts.ALL_TRAIN_FONTS) and len(meta["font_keys"]) == 13


def test_generation_is_seeded(captcha_sets, run_script, fetch, tmp_path):
    run_script(GENERATE, "--data_dir", tmp_path, "--font_dir", fetch("cjk_fonts"),
               "--train_size", 600, "--test_size", 100, "--samples", 0, "--seed", 1)
    _, again = cjk.load_set(str(tmp_path / "test.npz"), "generate")
    _, first = cjk.load_set(str(captcha_sets / "data" / "test.npz"), "generate")
    assert np.array_equal(again["images"], first["images"])


def test_training_loss_falls_and_writes_everything(captcha_run):
    out, proc = captcha_run
    result = json.loads((out / "result.json").read_text())
    losses = [h["loss"] for h in result["history"]]
    assert losses[-1] < 0.8 * losses[0], losses            # starts at ln 2 = 0.69 per head
    assert result["sizes"] == {"train": 500, "validation": 100, "test": 100}
    assert len(result["accuracy_by_position"]) == 10
    assert 0.0 <= result["whole_captcha_accuracy"] <= result["per_position_accuracy"] <= 1.0
    # chance is 50 % per position; 120 small steps already beat it on the unseen font
    assert result["per_position_accuracy"] > 0.6, result["accuracy_by_position"]
    assert result["test_font"] == ["ukai"]
    # the headline reads every test captcha in 20 views; the captcha as it is, beside it
    assert result["test_views"] == ["rotate", "roll"]
    single = result["single_view"]
    assert 0.0 <= single["whole_captcha_accuracy"] <= single["per_position_accuracy"] <= 1.0
    # the misjudged characters add up to the errors: 100 captchas of 10 positions
    errors = result["test_errors"]
    most = errors["most_missed"]
    assert most and all(1 <= n <= shown for _, n, shown in most)
    assert [n for _, n, _ in most] == sorted((n for _, n, _ in most), reverse=True)
    if errors["distinct_characters_wrong"] <= 20:
        assert sum(n for _, n, _ in most) == round(1000 * (1 - result["per_position_accuracy"]))
    assert 0 <= errors["upright_error_rate"] <= 1 and 0 <= errors["inverted_error_rate"] <= 1
    assert (out / "curve.png").stat().st_size > 10000
    names = os.listdir(str(out / "ckpt"))
    assert any(n.startswith("events.out.tfevents") for n in names)
    assert "model.ckpt-120.index" in names and "history.json" in names
    assert "ETA" in proc.stdout and "wrote" in proc.stdout


def test_learning_rate_falls_tenfold_after_half_and_three_quarters(captcha_run, read_events):
    out, _ = captcha_run
    assert json.loads((out / "result.json").read_text())["lr_drop_steps"] == [60, 90]
    rates = {step: rate for step, rate in
             read_events(out / "ckpt").scalars["learning_rate"].items() if step <= 120}
    assert sorted(rates) == [1, 20, 40, 60, 80, 100, 120]  # --log_every 20 and the first step
    # the summary of step 60 runs with its training step, before the global step reaches 60
    assert np.allclose([rates[s] for s in sorted(rates)],
                       [1e-3, 1e-3, 1e-3, 1e-3, 1e-4, 1e-5, 1e-5], rtol=1e-5)


def test_restore_continues_at_the_saved_step(captcha_run, run_script):
    out, _ = captcha_run
    proc = run_script(TRAIN, "--data_dir", out / "data", "--checkpoint_dir", out / "ckpt",
                      "--json", out / "more.json", "--plot", "", "--restore",
                      "--steps", 140, "--batch_size", 32, "--validation", 100,
                      "--log_every", 20, "--eval_every", 20)
    assert "restored" in proc.stdout and "(step 120)" in proc.stdout
    result = json.loads((out / "more.json").read_text())
    assert result["steps_this_run"] == 20 and result["history"][-1]["step"] == 140


def test_predict_round_trips(captcha_run, run_script):
    out, _ = captcha_run
    samples = sorted((out / "data" / "samples").glob("test_*.png"))
    proc = run_script(PREDICT, *samples, "--checkpoint_dir", out / "ckpt",
                      "--json", out / "pred.json", "--output", out / "pred.png")
    written = json.loads((out / "pred.json").read_text())
    assert written["views"] == ["rotate", "roll"]
    pred = written["predictions"]
    assert [p["image"] for p in pred] == [str(s) for s in samples]
    for p in pred:
        assert len(p["p_inverted"]) == 10 and all(0 <= v <= 1 for v in p["p_inverted"])
        assert p["inverted"] == [i + 1 for i, v in enumerate(p["p_inverted"]) if v > 0.5]
    assert len(proc.stdout.strip().splitlines()) == len(samples) + 2   # + two "wrote" lines
    from PIL import Image

    with Image.open(str(out / "pred.png")) as image:
        assert image.size == (840, len(samples) * 90)


def test_predict_resizes_other_sizes(captcha_run, run_script, tmp_path):
    from PIL import Image

    out, _ = captcha_run
    sample = out / "data" / "samples" / "test_000.png"
    with Image.open(str(sample)) as image:
        image.resize((560, 56)).convert("RGB").save(str(tmp_path / "big.jpg"))
    proc = run_script(PREDICT, tmp_path / "big.jpg", "--checkpoint_dir", out / "ckpt")
    assert proc.stdout.startswith(str(tmp_path / "big.jpg") + ": inverted")


@pytest.mark.parametrize("make", ["missing", "garbage"])
def test_predict_unreadable_image(captcha_run, run_script, tmp_path, make):
    out, _ = captcha_run
    path = tmp_path / "captcha.png"
    if make == "garbage":
        path.write_bytes(b"not a picture")
    proc = run_script(PREDICT, path, "--checkpoint_dir", out / "ckpt", check=False)
    assert proc.returncode == 2
    assert "pass a PNG or JPEG file" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_only_the_training_captchas_are_augmented(captcha_sets, run_script, fetch, tmp_path):
    run_script(GENERATE, "--data_dir", tmp_path, "--font_dir", fetch("cjk_fonts"),
               "--train_size", 50, "--test_size", 100, "--samples", 0, "--seed", 1,
               "--stroke", 0, "--elastic", 0)
    meta, plain = cjk.load_set(str(tmp_path / "train.npz"), "generate")
    _, test = cjk.load_set(str(tmp_path / "test.npz"), "generate")
    augmented, _ = cjk.load_set(str(captcha_sets / "data" / "train.npz"), "generate")
    _, first = cjk.load_set(str(captcha_sets / "data" / "test.npz"), "generate")
    assert meta["train_augment"]["stroke_px"] == 0 and meta["train_augment"]["elastic_px"] == 0
    assert np.array_equal(test["images"], first["images"])        # the test set is the same
    assert augmented["train_augment"] == {"stroke_px": 0.5, "elastic_px": 1.0,
                                          "elastic_sigma_px": 3.0}         # the defaults
    assert plain["images"].shape == (50, 28, 280)


@pytest.mark.parametrize("flag, value", [("--stroke", "2"), ("--elastic", "-1")])
def test_generate_refuses_bad_augmentation(run_script, tmp_path, flag, value):
    proc = run_script(GENERATE, "--data_dir", tmp_path, flag, value, check=False)
    assert proc.returncode == 2 and flag in proc.stderr and "Traceback" not in proc.stderr


def test_generate_missing_font(run_script, tmp_path):
    proc = run_script(GENERATE, "--data_dir", tmp_path / "out", "--font_dir", tmp_path,
                      "--train_size", 10, "--test_size", 10, check=False)
    assert proc.returncode == 2
    assert "not found in" in proc.stderr and "setup/get_data.py cjk_fonts" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_generate_refuses_test_font_in_training(run_script, tmp_path):
    proc = run_script(GENERATE, "--data_dir", tmp_path, "--train_fonts", "ukai,uming",
                      check=False)
    assert proc.returncode == 2 and "hold it out" in proc.stderr


def test_train_missing_data(run_script, tmp_path):
    proc = run_script(TRAIN, "--data_dir", tmp_path, "--checkpoint_dir", tmp_path / "c",
                      "--json", "", "--plot", "", check=False)
    assert proc.returncode == 2
    assert "apps/captcha/generate.py" in proc.stderr and "Traceback" not in proc.stderr


def test_train_refuses_decreasing_lr_drops(run_script, tmp_path):
    proc = run_script(TRAIN, "--data_dir", tmp_path, "--lr_drops", "0.75,0.5", check=False)
    assert proc.returncode == 2 and "--lr_drops" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "increasing fractions" in proc.stderr.strip().splitlines()[-1]


def test_predict_missing_checkpoint(run_script, tmp_path):
    from PIL import Image

    Image.new("L", (280, 28), 255).save(str(tmp_path / "x.png"))
    proc = run_script(PREDICT, tmp_path / "x.png", "--checkpoint_dir", tmp_path, check=False)
    assert proc.returncode == 2 and "train first" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_diverging_loss_stops_with_exit_2(captcha_sets, run_script, tmp_path):
    from tfcourse.compat import tf

    proc = run_script(TRAIN, "--data_dir", captcha_sets / "data", "--checkpoint_dir", tmp_path,
                      "--json", "", "--plot", "", "--steps", 40, "--batch_size", 16,
                      "--validation", 100, "--learning_rate", 1e30, "--log_every", 10,
                      "--save_every", 1, check=False)
    assert proc.returncode == 2, proc.stdout[-2000:]
    assert "lower --learning_rate" in proc.stderr and "not saved" in proc.stderr
    assert "Traceback" not in proc.stderr
    latest = tf.train.latest_checkpoint(str(tmp_path))
    if latest:                                    # what was saved before it diverged is finite
        reader = tf.train.load_checkpoint(latest)
        for name in reader.get_variable_to_shape_map():
            assert np.all(np.isfinite(reader.get_tensor(name))), name


def test_width_scales_every_layer(captcha_sets, run_script, tmp_path):
    """--width 0.5: half the maps and units, in the graph and in the JSON."""
    from tfcourse.compat import tf

    proc = run_script(TRAIN, "--data_dir", captcha_sets / "data", "--checkpoint_dir", tmp_path,
                      "--json", tmp_path / "r.json", "--plot", "", "--steps", 2,
                      "--batch_size", 8, "--validation", 100, "--width", 0.5)
    assert proc.returncode == 0
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["width"] == 0.5 and "8/16/32, fc 256" in result["model"]
    shapes = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path)))\
        .get_variable_to_shape_map()
    assert shapes["conv1/weights"] == [3, 3, 1, 8] and shapes["conv3/weights"] == [3, 3, 16, 32]
    assert shapes["fc4/weights"] == [4 * 35 * 32, 256]


@pytest.mark.parametrize("value", ["0", "5", "nan"])
def test_train_refuses_bad_width(run_script, tmp_path, value):
    proc = run_script(TRAIN, "--data_dir", tmp_path, "--width", value, check=False)
    assert proc.returncode == 2 and "--width" in proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr


def test_augment_keeps_every_cell_with_its_label(load_script):
    """--augment rotate,shuffle: every cell of the new view is a cell of the same captcha,
    as it was (same label) or turned by 180 degrees (label flipped); the inverted count of
    a turned captcha is ten minus the old one."""
    train = load_script(TRAIN, "captcha_train")
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(16, 28, 280)).astype(np.uint8)
    labels = (rng.rand(16, 10) < 0.4).astype(np.uint8)
    turned_some = shuffled_some = False
    for ops in (["rotate"], ["shuffle"], ["rotate", "shuffle"]):
        new_images, new_labels = train.augment_batch(images, labels, np.random.RandomState(1),
                                                     ops)
        assert new_images.shape == images.shape and new_labels.shape == labels.shape
        for i in range(len(images)):
            cells = [images[i, :, 28 * q:28 * (q + 1)] for q in range(10)]
            turned = new_labels[i].sum() == 10 - labels[i].sum() != labels[i].sum()
            for p in range(10):
                cell = new_images[i, :, 28 * p:28 * (p + 1)]
                same = [q for q in range(10) if np.array_equal(cell, cells[q])]
                flipped = [q for q in range(10) if np.array_equal(cell, cells[q][::-1, ::-1])]
                if "rotate" not in ops:
                    assert same and new_labels[i, p] == labels[i, same[0]]
                else:
                    assert (same and new_labels[i, p] == labels[i, same[0]]) or \
                        (flipped and new_labels[i, p] == 1 - labels[i, flipped[0]])
                shuffled_some |= bool(same) and same[0] != p
            turned_some |= bool(turned)
    assert turned_some and shuffled_some
    assert np.array_equal(train.augment_batch(images, labels, rng, [])[0], images)


class _Oracle:
    """A stand-in session: reads each 28x28 cell of the fed captchas as upright when its top
    left pixel is darker than its bottom right, and answers P(inverted) = q (or 1 - q when it
    reads the cell as inverted), q = the cell's id (its two centre pixels) / 1000."""
    calls = 0

    def run(self, fetch, feed):
        self.calls += 1
        cells = next(iter(feed.values())).reshape(-1, 28, 10, 28).transpose(0, 2, 1, 3)
        q = cells[:, :, 13, 13] / 1000.0
        inverted = cells[:, :, 0, 0] > cells[:, :, 27, 27]
        p = np.where(inverted, 1.0 - q, q)
        return np.stack([1.0 - p, p], axis=-1)


@pytest.mark.parametrize("ops", [[], ["rotate"], ["roll"], ["rotate", "roll"]])
def test_test_views_map_every_view_back_to_its_cell(load_script, ops):
    """--test_views: each view (turned, cells shifted) is read and its answers put back on
    the cells they belong to, so a reader that sees every cell alike gives the same P in
    every view; 1 + rotate + 9 rolls of each: 20 views."""
    train = load_script(TRAIN, "captcha_train")
    rng = np.random.RandomState(0)
    n = 7
    ids = rng.permutation(np.arange(1, 256))[:n * 10].reshape(n, 10)
    inverted = rng.rand(n, 10) < 0.4
    images = np.full((n, 28, 280), 128, np.uint8)
    for i in range(n):
        for c in range(10):
            cell = images[i, :, 28 * c:28 * (c + 1)]
            cell[13, 13] = cell[14, 14] = ids[i, c]              # kept by a 180-degree turn
            cell[0, 0], cell[27, 27] = (250, 5) if inverted[i, c] else (5, 250)
    oracle = _Oracle()
    p = train.p_inverted(oracle, "images", "probabilities", images, ops, batch_size=4)
    assert np.allclose(p, np.where(inverted, 1.0 - ids / 1000.0, ids / 1000.0))
    views = (2 if "rotate" in ops else 1) * (10 if "roll" in ops else 1)
    assert oracle.calls == views * 2                              # 7 captchas in batches of 4
    by_view = train.p_inverted_by_view(_Oracle(), "images", "probabilities", images, ops)
    assert by_view.shape == (views, n, 10) and np.allclose(by_view, p[None])  # every view


def test_train_refuses_unknown_test_views(run_script, tmp_path):
    proc = run_script(TRAIN, "--data_dir", tmp_path, "--test_views", "rotate,flip", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "--test_views" in last and "flip" in last and "rotate, roll" in last


def test_augmented_training_records_it(captcha_sets, run_script, tmp_path):
    proc = run_script(TRAIN, "--data_dir", captcha_sets / "data", "--checkpoint_dir", tmp_path,
                      "--json", tmp_path / "r.json", "--plot", "", "--steps", 4,
                      "--batch_size", 8, "--validation", 100, "--augment", "rotate,shuffle")
    assert proc.returncode == 0
    assert json.loads((tmp_path / "r.json").read_text())["augment"] == ["rotate", "shuffle"]


def test_train_refuses_unknown_augment(run_script, tmp_path):
    proc = run_script(TRAIN, "--data_dir", tmp_path, "--augment", "rotate,flip", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "--augment" in last and "flip" in last and "rotate, shuffle" in last


def test_export_reads_the_held_out_captchas(captcha_run):
    """The SavedModel takes the uint8 captchas and gives each cell's class: its single-view
    accuracy on the held-out font is the script's own."""
    from serving_helpers import serve

    out, _ = captcha_run
    result = json.loads((out / "result.json").read_text())
    _, test = cjk.load_set(str(out / "data" / "test.npz"), "generate")
    got, version = serve(out / "export_of_the_run", images=test["images"])
    assert got["classes"].shape == test["labels"].shape and got["logits"].shape[-1] == 2
    single = result["single_view"]["per_position_accuracy"]
    assert abs(float(np.mean(got["classes"] == test["labels"])) - single) < 1e-6
    assert os.path.basename(version) == "120"
