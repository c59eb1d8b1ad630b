"""apps/chinese_characters: GB2312 classes, the .gnt reader and fetcher, training, predict.py."""
import json
import os
import struct
import zipfile

import numpy as np
import pytest

from tfcourse import cjk
from tfcourse.cli import UserError
from tfcourse.datasets import cjk_fonts, hwdb

APP = "apps/chinese_characters"
GENERATE = APP + "/generate.py"
TRAIN = APP + "/train.py"
PREDICT = APP + "/predict.py"


@pytest.fixture
def char_data(monkeypatch):
    from tfcourse import REPO_ROOT

    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, APP))
    import char_data

    return char_data


def test_level1_is_the_3755_gb2312_level1_characters():
    chars = cjk.level1()
    assert len(chars) == len(set(chars)) == 3755
    assert chars[:4] == ["啊", "阿", "埃", "挨"] and chars[-1] == "座"
    assert all(0xB0 <= c.encode("gb2312")[0] <= 0xD7 for c in chars)


def _gnt_record(char, bitmap):
    """One GNT sample written straight from the format description, not with write_gnt."""
    height, width = bitmap.shape
    return (struct.pack("<I", 10 + width * height) + char.encode("gb2312").ljust(2, b"\0")
            + struct.pack("<HH", width, height) + bitmap.astype(np.uint8).tobytes())


def test_read_gnt(char_data, tmp_path):
    rng = np.random.RandomState(0)
    samples = [("啊", rng.randint(0, 256, (7, 5))), ("座", rng.randint(0, 256, (3, 9))),
               ("A", np.full((2, 2), 255))]
    path = tmp_path / "1001-c.gnt"
    path.write_bytes(b"".join(_gnt_record(c, b) for c, b in samples))
    read = list(char_data.read_gnt(str(path)))
    assert [c for c, _ in read] == ["啊", "座", "A"]
    for (_, want), (_, got) in zip(samples, read):
        assert got.shape == want.shape and np.array_equal(got, want)
    # write_gnt writes the same bytes
    char_data.write_gnt(str(tmp_path / "again.gnt"), samples)
    assert (tmp_path / "again.gnt").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("damage, message", [("truncate", "truncated"),
                                             ("size", "not a GNT file")])
def test_read_gnt_rejects_damaged_files(char_data, tmp_path, damage, message):
    data = _gnt_record("啊", np.zeros((4, 4))) * 2
    if damage == "truncate":
        data = data[:-3]
    else:
        data = struct.pack("<I", 999) + data[4:]
    path = tmp_path / "bad.gnt"
    path.write_bytes(data)
    with pytest.raises(UserError, match=message):
        list(char_data.read_gnt(str(path)))


def _write_hwdb_like(char_data, directory, chars, writers, font_dir, seed):
    """Small .gnt files in HWDB's layout: one file per writer, each character once."""
    rng = np.random.RandomState(seed)
    keys = ["wqy-zenhei", "uming", "gbsn00lp", "ukai"]
    os.makedirs(directory, exist_ok=True)
    for w in range(writers):
        glyphs = cjk.Glyphs(font_dir, keys[w % len(keys)])
        samples = []
        for ch in chars + ["A"]:                       # a symbol, as HWDB has, is skipped
            ink = cjk.distort(glyphs.get(ch, 40, 56), rng, elastic_alpha=2.0)
            ys, xs = np.nonzero(ink > 0.1)
            box = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
            samples.append((ch, cjk.to_paper(box)))    # tight box, 255 = paper, like HWDB
        char_data.write_gnt(os.path.join(directory, "%04d-c.gnt" % (1001 + w)), samples)


@pytest.fixture
def hwdb_server(char_data, fetch, tmp_path):
    """CASIA's two archives, made small, served from 127.0.0.1."""
    import functools
    import http.server
    import threading

    fonts = fetch("cjk_fonts")
    chars = cjk.level1()[:6]
    served = tmp_path / "served"
    for split, name in hwdb.ARCHIVES.items():
        gnt_dir = tmp_path / ("gnt-" + split)
        _write_hwdb_like(char_data, str(gnt_dir), chars, 4 if split == "train" else 1,
                         fonts, seed=len(split))
        served.mkdir(exist_ok=True)
        with zipfile.ZipFile(str(served / name), "w") as zf:
            for gnt in sorted(gnt_dir.iterdir()):
                zf.write(str(gnt), name[:-4] + "/" + gnt.name)
            zf.writestr(name[:-4] + "/readme.txt", "not a gnt")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()


def test_hwdb_fetch_and_train_on_gnt(hwdb_server, monkeypatch, run_script, tmp_path):
    monkeypatch.setattr(hwdb, "BASE_URL", hwdb_server)
    target = tmp_path / "data" / "hwdb"
    message = hwdb.fetch(str(target), log=lambda *a: None)
    assert "4 train / 1 test .gnt files" in message and hwdb.is_present(str(target))
    assert sorted(os.listdir(str(target / "train"))) == ["%04d-c.gnt" % i
                                                         for i in range(1001, 1005)]
    assert [p for p in os.listdir(str(tmp_path / "data")) if p.startswith(".staging")] == []
    proc = run_script(TRAIN, "--dataset", "hwdb", "--data_dir", target, "--num_classes", 6,
                      "--image_size", 32, "--steps", 4, "--batch_size", 4, "--validation", 4,
                      "--log_every", 2, "--eval_every", 2, "--checkpoint_dir", tmp_path / "c",
                      "--json", tmp_path / "r.json", "--plot", "")
    assert "6 classes, 32x32; 20 train, 4 validation, 6 test images" in proc.stdout
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["dataset"] == "hwdb" and "CASIA HWDB1.1" in result["data"]


def test_hwdb_streams_from_gnt_and_from_tfrecords(char_data, fetch, load_script, tmp_path):
    """The HWDB reader never holds the set: it streams the .gnt files, or the TFRecords
    make_tfrecords.py wrote from them (the same samples in the same order, the ink boxes
    already scaled), holds the first samples back and draws batches from a buffer."""
    import make_tfrecords
    from tfcourse import tfrecords

    fonts = fetch("cjk_fonts")
    chars = cjk.level1()[:6]
    data = tmp_path / "hwdb"
    _write_hwdb_like(char_data, str(data / "train"), chars, 3, fonts, seed=1)
    _write_hwdb_like(char_data, str(data / "test"), chars, 1, fonts, seed=2)
    gnt = char_data.hwdb_split(str(data), "train", chars[:4], 16, "fix")
    assert len(gnt) == 12 and gnt.source.startswith(".gnt files")
    make_tfrecords.main(["hwdb", "--source_dir", str(data), "--image_size", "16",
                         "--shards", "2"])
    manifest = tfrecords.load_manifest(tfrecords.folder(str(data)), "hwdb")
    assert manifest["splits"]["train"]["class_counts"] == [3] * 6 + [0] * 3749
    assert manifest["splits"]["train"]["count"] == 18 and len(manifest["classes"]) == 3755
    records = char_data.hwdb_split(str(data), "train", chars[:4], 16, "fix")
    assert len(records) == 12 and records.source.startswith("TFRecords")
    pairs = list(zip(gnt.samples(), records.samples()))
    assert len(pairs) == 12
    for (image, label), (image2, label2) in pairs:
        assert label == label2 and np.array_equal(image, image2) and image.shape == (16, 16)
    (x_val, y_val), rest = records.hold_out(5)
    assert list(y_val) == [0, 1, 2, 3, 0] and x_val.shape == (5, 16, 16) and len(rest) == 7
    batches = rest.batches(4, np.random.RandomState(0))
    labels = np.concatenate([next(batches)[1] for _ in range(7)])   # 4 passes of 7
    assert sorted(labels) == sorted([1, 2, 3, 0, 1, 2, 3] * 4)
    with pytest.raises(UserError, match="hold 16x16 images; pass --image_size 16"):
        char_data.hwdb_split(str(data), "train", chars, 32, "fix")
    train = load_script(TRAIN, "char_train_records")
    train.main(["--dataset", "hwdb", "--data_dir", str(data), "--num_classes", "4",
                "--image_size", "16", "--steps", "3", "--batch_size", "4", "--validation", "4",
                "--log_every", "3", "--eval_every", "3", "--checkpoint_dir", str(tmp_path / "c"),
                "--json", str(tmp_path / "r.json"), "--plot", ""])
    result = json.loads((tmp_path / "r.json").read_text())
    assert "streamed from its TFRecords" in result["data"]
    assert result["sizes"] == {"train": 8, "validation": 4, "test": 4}


def test_hwdb_unreachable_names_the_offline_way(monkeypatch, tmp_path):
    monkeypatch.setattr(hwdb, "BASE_URL", "http://127.0.0.1:9/")
    with pytest.raises(UserError, match="apps/chinese_characters/generate.py"):
        hwdb.fetch(str(tmp_path / "hwdb"), log=lambda *a: None)
    assert not (tmp_path / "hwdb").exists()


def test_get_data_all_leaves_hwdb_out(monkeypatch):
    from tfcourse.datasets import registry

    assert "hwdb" in registry() and hwdb.ONLINE_ONLY is True


@pytest.fixture(scope="module")
def char_run(fetch, run_script, tmp_path_factory):
    """20 classes x 6 training fonts x 6 distorted renders; 150 steps of 32 (~1 min)."""
    out = tmp_path_factory.mktemp("chars")
    run_script(GENERATE, "--data_dir", out / "data", "--font_dir", fetch("cjk_fonts"),
               "--num_classes", 20, "--per_font", 6, "--test_per_class", 2, "--samples", 6)
    proc = run_script(TRAIN, "--data_dir", out / "data", "--checkpoint_dir", out / "ckpt",
                      "--json", out / "result.json", "--plot", out / "curve.png",
                      "--steps", 150, "--batch_size", 32, "--validation", 100,
                      "--log_every", 25, "--eval_every", 75)
    return out, proc


def test_generated_set(char_run):
    out, _ = char_run
    meta, train = cjk.load_set(str(out / "data" / "train.npz"), "generate")
    test_meta, test = cjk.load_set(str(out / "data" / "test.npz"), "generate")
    assert meta["classes"] == "".join(cjk.level1()[:20])
    fonts = len(cjk_fonts.TRAIN_FONTS)
    assert fonts == 6 and "lxgw-wenkai" in meta["font_keys"]
    assert train["images"].shape == (20 * fonts * 6, 32, 32) and test["images"].shape[0] == 40
    assert np.bincount(train["labels"]).tolist() == [fonts * 6] * 20
    assert test_meta["font_keys"] == ["ukai"] and "ukai" not in meta["font_keys"]


def test_generate_all_training_fonts(fetch, run_script, tmp_path):
    """``--train_fonts all``: the 3755-class set's thirteen fonts, never the held-out one."""
    run_script(GENERATE, "--data_dir", tmp_path, "--font_dir", fetch("cjk_fonts"),
               "--num_classes", 3, "--train_fonts", "all", "--per_font", 1,
               "--test_per_class", 1, "--samples", 0)
    meta, train = cjk.load_set(str(tmp_path / "train.npz"), "generate")
    assert meta["font_keys"] == list(cjk_fonts.ALL_TRAIN_FONTS)
    assert train["images"].shape == (3 * 13, 32, 32)
    assert sorted(set(train["fonts"].tolist())) == list(range(13))


def test_training_loss_falls(char_run):
    out, proc = char_run
    result = json.loads((out / "result.json").read_text())
    losses = [h["loss"] for h in result["history"]]
    assert losses[-1] < 0.5 * np.log(20), losses          # ln 20 = 3.0 is chance
    assert result["num_classes"] == 20 and result["sizes"]["validation"] == 100
    # chance is 5 % top-1, 15 % top-3 on the unseen Kai font
    assert result["test_top3_accuracy"] >= result["test_top1_accuracy"] > 0.15
    assert (out / "curve.png").stat().st_size > 10000
    names = os.listdir(str(out / "ckpt"))
    assert "classes.json" in names and any(n.startswith("events.out") for n in names)
    assert "ETA" in proc.stdout


def test_predict_round_trips(char_run, run_script):
    out, _ = char_run
    samples = sorted((out / "data" / "samples").glob("test_*.png"))
    proc = run_script(PREDICT, *samples, "--checkpoint_dir", out / "ckpt", "--top_k", 3,
                      "--json", out / "pred.json", "--output", out / "pred.png")
    pred = json.loads((out / "pred.json").read_text())["predictions"]
    classes = set(cjk.level1()[:20])
    assert [p["image"] for p in pred] == [str(s) for s in samples]
    for p in pred:
        probs = [v for _, v in p["top_k"]]
        assert len(p["top_k"]) == 3 and probs == sorted(probs, reverse=True)
        assert sum(probs) <= 1.0001 and {c for c, _ in p["top_k"]} <= classes
    assert proc.stdout.splitlines()[0].startswith(str(samples[0]) + "  ")
    assert (out / "pred.png").stat().st_size > 2000


def test_predict_any_image_size(char_run, run_script, tmp_path):
    """A big RGB photo-like image goes through the same normalisation."""
    from PIL import Image

    out, _ = char_run
    with Image.open(str(out / "data" / "samples" / "test_000.png")) as image:
        image.resize((150, 120)).convert("RGB").save(str(tmp_path / "photo.jpg"))
    proc = run_script(PREDICT, tmp_path / "photo.jpg", "--checkpoint_dir", out / "ckpt")
    assert len(proc.stdout.split()) == 1 + 2 * 3


@pytest.mark.parametrize("make", ["missing", "garbage"])
def test_predict_unreadable_image(char_run, run_script, tmp_path, make):
    out, _ = char_run
    path = tmp_path / "char.png"
    if make == "garbage":
        path.write_bytes(b"\x89PNG but not really")
    proc = run_script(PREDICT, path, "--checkpoint_dir", out / "ckpt", check=False)
    assert proc.returncode == 2 and "pass a PNG or JPEG file" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_generate_missing_font(run_script, tmp_path):
    proc = run_script(GENERATE, "--data_dir", tmp_path / "out", "--font_dir", tmp_path,
                      check=False)
    assert proc.returncode == 2 and "setup/get_data.py cjk_fonts" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "out").exists()


def test_train_missing_data(run_script, tmp_path):
    proc = run_script(TRAIN, "--data_dir", tmp_path, "--json", "", "--plot", "",
                      "--checkpoint_dir", tmp_path / "c", check=False)
    assert proc.returncode == 2 and "apps/chinese_characters/generate.py" in proc.stderr
    proc = run_script(TRAIN, "--dataset", "hwdb", "--data_dir", tmp_path, "--json", "",
                      "--plot", "", "--checkpoint_dir", tmp_path / "c", check=False)
    assert proc.returncode == 2 and "setup/get_data.py hwdb" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_predict_missing_checkpoint(run_script, tmp_path):
    proc = run_script(PREDICT, tmp_path / "x.png", "--checkpoint_dir", tmp_path, check=False)
    assert proc.returncode == 2 and "train first" in proc.stderr


def test_cjk_fonts_data_set(fetch):
    directory = fetch("cjk_fonts")
    assert cjk_fonts.is_present(directory)
    index = json.load(open(os.path.join(directory, cjk_fonts.INDEX_FILE), encoding="utf-8"))
    assert index["test_font"] == "ukai" and set(index["fonts"]) == set(cjk_fonts.BY_KEY)
    for font in cjk_fonts.FONTS:
        assert cjk_fonts.glyph_has_ink(os.path.join(directory, font.file), font.index)
    # the held-out Kai looks unlike every training font: its glyphs differ
    ukai = cjk.Glyphs(directory, "ukai").get("永", 40, 48)
    for key in cjk_fonts.ALL_TRAIN_FONTS:
        other = cjk.Glyphs(directory, key).get("永", 40, 48)
        assert np.abs(ukai - other).mean() > 0.03, key


def _glyph_correlation(directory, key_a, key_b, chars):
    """Mean Pearson correlation of two fonts' glyphs, drawn as the apps draw them."""
    a, b = (np.stack([glyphs.get(c, 25, 28).ravel() for c in chars])
            for glyphs in (cjk.Glyphs(directory, key_a), cjk.Glyphs(directory, key_b)))
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    return float(np.mean((a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1))))


def test_held_out_font_shares_no_design(fetch):
    """No training font is UKai's relative: each correlates with it less than UMing does with
    SungtiL GB, the font UMing was extended from (51 characters: 0.69; WenKai, the other Kai,
    0.43, its bold 0.43 and light 0.37; the rest 0.23-0.34)."""
    directory = fetch("cjk_fonts")
    chars = cjk.level1()[::75]
    relatives = _glyph_correlation(directory, "uming", "gbsn00lp", chars)
    assert relatives > 0.6
    assert set(cjk_fonts.TRAIN_FONTS) < set(cjk_fonts.ALL_TRAIN_FONTS)
    assert len(cjk_fonts.ALL_TRAIN_FONTS) == 13 and "ukai" not in cjk_fonts.ALL_TRAIN_FONTS
    for key in cjk_fonts.ALL_TRAIN_FONTS:
        assert _glyph_correlation(directory, "ukai", key, chars) < min(0.5, relatives - 0.15), key


def test_export_gives_the_test_top1_back(char_run):
    """The SavedModel takes the uint8 character images; its classes give the script's own
    top-1 accuracy; the class list travels with it (assets.extra/classes.json)."""
    from serving_helpers import serve

    out, _ = char_run
    result = json.loads((out / "result.json").read_text())
    _, test = cjk.load_set(str(out / "data" / "test.npz"), "generate")
    got, version = serve(out / "ckpt" / "export", images=test["images"])
    assert abs(float(np.mean(got["classes"] == test["labels"]))
               - result["test_top1_accuracy"]) < 1e-6
    classes = json.loads(open(os.path.join(version, "assets.extra", "classes.json")).read())
    assert len(classes["classes"]) == result["num_classes"]
