"""Fashion-MNIST, CIFAR-10 and 17 Flowers: fetchers and loaders on small files made here.

Each fetcher downloads from an HTTP server on 127.0.0.1 that serves small
archives with the real layout (the URL constants are monkeypatched, as in the
MNIST mirror test), checks them and installs them; tfcourse.image_data then
reads them.  Plus the batches and their augmentation.
"""
import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import tarfile
import threading

import numpy as np
import pytest

from tfcourse import image_data, input_data
from tfcourse.cli import UserError
from tfcourse.datasets import _common, cifar10, fashion_mnist, flowers17, registry


@pytest.fixture
def server(tmp_path):
    """(folder, url): an HTTP server on 127.0.0.1 serving ``folder``."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, "http://127.0.0.1:%d/" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def md5_bytes(data):
    return hashlib.md5(data).hexdigest()


def test_the_new_sets_are_registered():
    names = registry()
    for name in ("fashion_mnist", "cifar10", "flowers17"):
        assert name in names and names[name].DESCRIPTION


# ---------------------------------------------------------------- Fashion-MNIST
def make_idx_set(folder, n_train=30, n_test=12, seed=0):
    """Four small gzipped IDX files; returns the arrays and the MD5s of the raw files."""
    rng = np.random.RandomState(seed)
    arrays = {"train-images-idx3-ubyte": rng.randint(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": np.arange(n_train) % 10,
              "t10k-images-idx3-ubyte": rng.randint(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": np.arange(n_test) % 10}
    digests = {}
    for name, array in arrays.items():
        path = os.path.join(str(folder), name + ".gz")
        input_data.write_idx(path, array)
        with gzip.open(path, "rb") as f:
            digests[name] = md5_bytes(f.read())
    return arrays, digests


def test_fashion_mnist_from_the_mirror(server, tmp_path, monkeypatch):
    served, url = server
    arrays, digests = make_idx_set(served)
    monkeypatch.setattr(fashion_mnist, "FILES", digests)
    monkeypatch.setattr(fashion_mnist, "MIRRORS", ("http://127.0.0.1:9/unreachable/", url))
    monkeypatch.setattr(_common, "deb_members", lambda *a, **k: pytest.fail("went to Debian"))
    target = str(tmp_path / "data" / "fashion_mnist")
    message = fashion_mnist.fetch(target)
    assert url in message and "checksums verified" in message
    assert fashion_mnist.is_present(target)

    data = image_data.load("fashion_mnist", target)
    assert data.train_images.shape == (30, 28, 28, 1) and data.train_images.dtype == np.uint8
    assert data.test_images.shape == (12, 28, 28, 1)
    np.testing.assert_array_equal(data.train_images[..., 0], arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.test_labels, arrays["t10k-labels-idx1-ubyte"])
    assert data.class_names[0] == "T-shirt/top" and data.num_classes == 10


def test_fashion_mnist_falls_back_to_the_debian_package(server, tmp_path, monkeypatch):
    served, url = server
    _, digests = make_idx_set(served)
    (served / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip")   # the mirror is broken
    monkeypatch.setattr(fashion_mnist, "FILES", digests)
    monkeypatch.setattr(fashion_mnist, "MIRRORS", (url,))
    good = tmp_path / "deb"
    good.mkdir()
    make_idx_set(good)
    asked = []

    def fake_deb(package, members, dest_dir, log=print):
        asked.append((package, members))
        for member in members:
            os.replace(str(good / os.path.basename(member)),
                       os.path.join(dest_dir, os.path.basename(member)))
        return "dataset-fashion-mnist_test_all.deb"

    monkeypatch.setattr(_common, "deb_members", fake_deb)
    logged = []
    message = fashion_mnist.fetch(str(tmp_path / "fm"), log=logged.append)
    assert "Debian package dataset-fashion-mnist" in message
    assert any("failed their checksums" in line for line in logged)
    assert asked[0][0] == "dataset-fashion-mnist"
    assert all(m.startswith("usr/share/datasets/fashion-mnist/") for m in asked[0][1])
    assert fashion_mnist.is_present(str(tmp_path / "fm"))


def test_missing_fashion_mnist_names_the_fetch_command(tmp_path):
    with pytest.raises(UserError, match="get_data.py fashion_mnist"):
        image_data.load("fashion_mnist", str(tmp_path / "fashion_mnist"))
    (tmp_path / "fashion_mnist").mkdir()
    with pytest.raises(UserError, match="train-images-idx3-ubyte.*get_data.py fashion_mnist"):
        image_data.load("fashion_mnist", str(tmp_path / "fashion_mnist"))


# ---------------------------------------------------------------- CIFAR-10
def make_cifar_archive(path, per_batch=4, n_test=3, seed=0):
    """A small cifar-10-python.tar.gz with the real layout; returns (rows, labels, md5s)."""
    rng = np.random.RandomState(seed)
    members, rows, labels = {}, {}, {}
    for name in cifar10.TRAIN_FILES + (cifar10.TEST_FILE,):
        n = n_test if name == cifar10.TEST_FILE else per_batch
        rows[name] = rng.randint(0, 256, (n, 3072)).astype(np.uint8)
        labels[name] = list(rng.randint(0, 10, n))
        members[name] = pickle.dumps({b"batch_label": name.encode(), b"data": rows[name],
                                      b"labels": labels[name]}, protocol=2)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse",
             b"ship", b"truck"]
    members["batches.meta"] = pickle.dumps({b"label_names": names, b"num_vis": 3072}, protocol=2)
    with tarfile.open(str(path), "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(cifar10.FOLDER + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return rows, labels, {name: md5_bytes(data) for name, data in members.items()}


def test_cifar10_download_checksum_and_loader(server, tmp_path, monkeypatch):
    served, url = server
    rows, labels, digests = make_cifar_archive(served / cifar10.ARCHIVE)
    monkeypatch.setattr(cifar10, "URL", url + cifar10.ARCHIVE)
    monkeypatch.setattr(cifar10, "ARCHIVE_MD5", _common.md5(str(served / cifar10.ARCHIVE)))
    monkeypatch.setattr(cifar10, "FILES", digests)
    target = str(tmp_path / "data" / "cifar10")
    assert "checksums verified" in cifar10.fetch(target)
    assert sorted(os.listdir(target)) == sorted(digests)
    assert "already complete" in cifar10.fetch(target)

    data = image_data.load("cifar10", target)
    assert data.train_images.shape == (20, 32, 32, 3) and data.test_images.shape == (3, 32, 32, 3)
    assert data.class_names[9] == "truck"
    # a row is 1024 red, then 1024 green, then 1024 blue values, each 32x32 row-major
    row = rows["data_batch_2"][1]
    image = data.train_images[4 + 1]
    for y, x, c in ((0, 0, 0), (5, 7, 1), (31, 30, 2)):
        assert image[y, x, c] == row[c * 1024 + y * 32 + x]
    np.testing.assert_array_equal(data.test_labels, labels["test_batch"])


def test_cifar10_with_the_wrong_checksum_installs_nothing(server, tmp_path, monkeypatch):
    served, url = server
    make_cifar_archive(served / cifar10.ARCHIVE)
    monkeypatch.setattr(cifar10, "URL", url + cifar10.ARCHIVE)   # the real MD5 stays
    target = tmp_path / "cifar10"
    with pytest.raises(UserError, match="has MD5 .* not c58f30108f718f92721af3b95e74349a"):
        cifar10.fetch(str(target))
    assert not target.exists() and os.listdir(str(tmp_path)) == ["served"]


def test_cifar10_offline_names_the_url(tmp_path):
    with pytest.raises(UserError, match="cifar-10-python.tar.gz into .* by hand"):
        cifar10.fetch(str(tmp_path / "cifar10"), offline=True)
    with pytest.raises(UserError, match="get_data.py cifar10"):
        image_data.load("cifar10", str(tmp_path / "cifar10"))


def test_cifar10_corrupt_batch_is_one_clear_error(tmp_path):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    for name in cifar10.TRAIN_FILES + (cifar10.TEST_FILE,):
        (folder / name).write_bytes(b"garbage")
    with pytest.raises(UserError, match="corrupt.*get_data.py cifar10"):
        image_data.load("cifar10", str(folder))


# ---------------------------------------------------------------- 17 Flowers
def make_flowers_archive(path, per_class, skip=None):
    """A 17flowers.tgz with the real layout: jpg/image_0001.jpg ..., one colour per class."""
    from PIL import Image

    with tarfile.open(str(path), "w:gz") as tar:
        for i in range(1, 17 * per_class + 1):
            if i == skip:
                continue
            label = (i - 1) // per_class
            img = Image.new("RGB", (24, 18), (15 * label, 255 - 15 * label, 128))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=95)
            info = tarfile.TarInfo("jpg/image_%04d.jpg" % i)
            info.size = buf.tell()
            buf.seek(0)
            tar.addfile(info, buf)
        readme = b"not an image"
        info = tarfile.TarInfo("jpg/files.txt")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))


@pytest.fixture
def small_flowers(server, monkeypatch):
    served, url = server
    monkeypatch.setattr(flowers17, "PER_CLASS", 10)
    monkeypatch.setattr(flowers17, "URL", url + flowers17.ARCHIVE)
    monkeypatch.setattr(flowers17, "SPLITS_URL", url + flowers17.SPLITS)
    return served


def test_flowers17_with_official_splits(small_flowers, tmp_path):
    scipy_io = pytest.importorskip("scipy.io")   # reads datasplits.mat

    make_flowers_archive(small_flowers / flowers17.ARCHIVE, per_class=10)
    ids = np.arange(1, 171).reshape(17, 10)            # 1-based, as in datasplits.mat
    scipy_io.savemat(str(small_flowers / flowers17.SPLITS),
                     {"trn1": ids[:, :6].reshape(1, -1), "val1": ids[:, 6:8].reshape(1, -1),
                      "tst1": ids[:, 8:].reshape(1, -1)})
    target = str(tmp_path / "flowers17")
    message = flowers17.fetch(target)
    assert "170 images" in message and "official splits" in message and "bytes" in message
    assert sorted(os.listdir(target)) == ["datasplits.mat", "jpg"]
    assert len(os.listdir(os.path.join(target, "jpg"))) == 170     # files.txt left out

    data = image_data.load("flowers17", target, image_size=16)
    assert data.train_images.shape == (102, 16, 16, 3)
    assert data.validation_images.shape == (34, 16, 16, 3) and data.test_images.shape == (34, 16,
                                                                                            16, 3)
    # labels are consecutive blocks: image_0001..0010 are class 0, the 8th and 9th are test
    np.testing.assert_array_equal(data.test_labels, np.repeat(np.arange(17), 2))
    assert data.num_classes == 17 and data.class_names[0] == "daffodil"
    # the colour of a class survives the resize: red channel 15 * label
    reds = data.train_images[:, 8, 8, 0].astype(int)
    assert np.all(np.abs(reds - 15 * data.train_labels) <= 6)


def test_flowers17_without_splits_uses_a_seeded_80_10_10_split(small_flowers, tmp_path):
    make_flowers_archive(small_flowers / flowers17.ARCHIVE, per_class=10)
    logged = []
    target = str(tmp_path / "flowers17")
    flowers17.fetch(target, log=logged.append)
    assert any("seeded 80/10/10" in line for line in logged)
    (train, val, test), source = image_data.flowers17_splits(target, seed=0)
    assert "seeded" in source and (len(train), len(val), len(test)) == (136, 17, 17)
    assert sorted(np.concatenate([train, val, test])) == list(range(170))
    assert np.bincount(test // 10).tolist() == [1] * 17          # one test image per class
    again, _ = image_data.flowers17_splits(target, seed=0)
    np.testing.assert_array_equal(again[2], test)


def test_flowers17_archive_with_a_missing_image_is_refused(small_flowers, tmp_path):
    make_flowers_archive(small_flowers / flowers17.ARCHIVE, per_class=10, skip=57)
    target = tmp_path / "flowers17"
    with pytest.raises(UserError, match="lacks 1 of the 170 images .*image_0057.jpg"):
        flowers17.fetch(str(target))
    assert not target.exists()


# ---------------------------------------------------------------- batches
def test_batches_reshuffle_and_augment():
    images = np.zeros((10, 8, 8, 1), np.uint8)
    images[:, 3:5, 3:5] = 255                           # a bright square in the middle
    data = image_data.ImageData("cifar10", images, np.arange(10), images[:2], np.arange(2),
                                list("abcdefghij"), None, None, "/nowhere")
    batches = image_data.Batches(data, 4, augment=True, seed=1)
    assert batches.pad == 1 and batches.flip
    seen = []
    for _ in range(5):
        batch, labels = batches.next()
        assert batch.shape == (4, 8, 8, 1) and batch.dtype == np.uint8
        seen.extend(labels)
        assert (batch == 255).sum(axis=(1, 2, 3)).tolist() == [4, 4, 4, 4]   # moved, not cut
    assert set(seen) == set(range(10))
    moved = [np.argwhere(b[..., 0] == 255).min(axis=0).tolist() for b in batch]
    assert any(m != [3, 3] for m in moved)
    with pytest.raises(UserError, match="--batch_size 11 is larger than the 10"):
        image_data.Batches(data, 11)


def test_flip_only_where_it_keeps_the_label():
    images = np.zeros((50, 4, 4, 1), np.uint8)
    images[:, :, 0] = 255                               # left column bright
    rng = np.random.RandomState(0)
    flipped = image_data.augment(images, rng, pad=0, flip=True)
    assert 0 < (flipped[:, 0, 3, 0] == 255).sum() < 50
    assert not image_data.FLIP["mnist"] and image_data.FLIP["cifar10"]
    assert (image_data.augment(images, rng, pad=0, flip=False) == images).all()
