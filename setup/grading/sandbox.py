"""The sandbox a submission's commands run in, and the limits that end them.

A :class:`Sandbox` is one folder per submission::

    ROOT/tree/      the submission's code (its working directory, first on PYTHONPATH)
    ROOT/outputs/   what its commands write (JSON, checkpoints, exports, captured graphs)
    ROOT/home/      its HOME;  ROOT/tmp/ its TMPDIR
    ROOT/outside/   what it wrote to /tmp, /var/tmp or /dev/shm (its private copies of them)
    ROOT/logs/      one log per command (capped at the output limit)

:meth:`Sandbox.run` starts a command through ``launch.py`` (own session and
process group, network and mount namespaces, resource limits, an
unprivileged user of its own when the grader is root) and watches it: wall
time, the resident memory of every process of that user (or session), the
memory control group's out-of-memory kills where the machine has one, and
the log's size.  On a limit the whole group is killed (every process of the
user, also those that left the group) and the run's verdict is ``timeout``,
``out of memory`` or ``crashed`` with the log's last lines; exit 0 is ``ok``.

Memory: ``RLIMIT_AS`` cannot be used, TensorFlow reserves tens of GB of
address space it never touches; ``RLIMIT_DATA`` at twice the limit is a
backstop, the limit itself is the sum of the group's resident memory (a
cgroup ``memory.max`` / ``memory.limit_in_bytes`` besides, where
``/sys/fs/cgroup`` is writable).
"""
import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCH = os.path.join(HERE, "launch.py")

Limits = collections.namedtuple("Limits", [
    "wall",      # seconds of wall time per command
    "memory",    # bytes of resident memory of all its processes together
    "threads",   # processes and threads of its user (RLIMIT_NPROC) / its pids cgroup
    "output",    # bytes of output (its log) before it is stopped
    "file_size",  # bytes of the largest file it may write (RLIMIT_FSIZE)
])
DEFAULT_LIMITS = Limits(wall=1800, memory=4 << 30, threads=512, output=64 << 20,
                        file_size=2 << 30)

#: first uid/gid of the submissions' users when the grader is root (one per submission);
#: a uid another grading run holds is skipped in steps of UID_STEP
UID_BASE, UID_STEP, UID_TRIES = 61000, 1000, 4
#: shared folders every user may write; inside the sandbox they are its own
MASKED = ("/tmp", "/var/tmp", "/dev/shm")
OOM_WORDS = ("MemoryError", "std::bad_alloc", "Cannot allocate memory", "out of memory",
             "ResourceExhaustedError", "OOM when allocating")
TAIL_LINES = 15


def parse_size(text):
    """'4G', '512M', '300k' or a number of bytes -> bytes."""
    if isinstance(text, (int, float)):
        return int(text)
    match = re.fullmatch(r"\s*([\d.]+)\s*([kKmMgGtT]?)i?[bB]?\s*", str(text))
    if not match:
        raise ValueError("not a size: %r (write 4G, 512M, ...)" % text)
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    return int(float(match.group(1)) * scale[match.group(2).lower()])


def is_root():
    return os.geteuid() == 0


# ---------------------------------------------------------------- processes

def _proc_ids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _owner_and_rss(pid):
    """(uid, session id, resident bytes) of a process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        fields = stat[stat.rindex(")") + 2:].split()
        session, rss_pages = int(fields[3]), int(fields[21])
        uid = os.stat("/proc/%d" % pid).st_uid
    except (OSError, ValueError, IndexError):
        return None
    return uid, session, rss_pages * os.sysconf("SC_PAGE_SIZE")


def members(uid=None, session=None):
    """{pid: rss} of the processes of ``uid`` (or of ``session``)."""
    found = {}
    for pid in _proc_ids():
        info = _owner_and_rss(pid)
        if info is None:
            continue
        if (uid is not None and info[0] == uid) or (uid is None and info[1] == session):
            found[pid] = info[2]
    return found


def kill_all(pgid, uid=None, session=None):
    """SIGKILL the group and every process of the user (or session), until none is left."""
    for _ in range(50):
        if pgid > 0:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        left = [pid for pid in members(uid, session) if pid != os.getpid()]
        if not left:
            return
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)


# ---------------------------------------------------------------- control groups

class ControlGroups:
    """A memory and a pids control group for one command, where the grader may make them
    (cgroup v2 ``memory.max``/``pids.max``, or v1 ``memory.limit_in_bytes``/``pids.max``)."""

    def __init__(self, name, memory, threads):
        self.folders, self.kind = [], None
        if not is_root():
            return
        base = "/sys/fs/cgroup"
        try:
            with open(os.path.join(base, "cgroup.controllers")) as f:
                v2 = "memory" in f.read().split()
        except OSError:
            v2 = False
        try:
            if v2:
                folder = os.path.join(base, name)
                os.makedirs(folder)
                self.folders = [folder]
                self._write(folder, "memory.max", memory)
                self._write(folder, "memory.swap.max", 0, quiet=True)
                self._write(folder, "pids.max", threads, quiet=True)
                self.kind = "cgroup v2"
            elif os.path.isdir(os.path.join(base, "memory")):
                mem = os.path.join(base, "memory", name)
                os.makedirs(mem)
                self.folders = [mem]
                self._write(mem, "memory.limit_in_bytes", memory)
                pids = os.path.join(base, "pids", name)
                if os.path.isdir(os.path.join(base, "pids")):
                    os.makedirs(pids)
                    self.folders.append(pids)
                    self._write(pids, "pids.max", threads)
                self.kind = "cgroup v1"
        except OSError:
            self.remove()
            self.folders, self.kind = [], None

    @staticmethod
    def _write(folder, name, value, quiet=False):
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write(str(value))
        except OSError:
            if not quiet:
                raise

    def oom_kills(self):
        """How many processes the memory limit killed."""
        for folder in self.folders:
            for name in ("memory.events", "memory.oom_control"):
                try:
                    with open(os.path.join(folder, name)) as f:
                        for line in f:
                            key, _, value = line.partition(" ")
                            if key == "oom_kill":
                                return int(value)
                except (OSError, ValueError):
                    continue
        return 0

    def remove(self):
        for folder in self.folders:
            for _ in range(40):
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


# ---------------------------------------------------------------- the sandbox

class Sandbox:
    """The folder of one submission and the way its commands are run (see the module doc)."""

    def __init__(self, root, index=0, data_dirs=(), grader_root=None, isolate_network=True):
        self.root = os.path.abspath(root)
        self.tree = os.path.join(self.root, "tree")
        self.outputs = os.path.join(self.root, "outputs")
        self.logs = os.path.join(self.root, "logs")
        self.home = os.path.join(self.root, "home")
        self.tmp = os.path.join(self.root, "tmp")
        self.outside = os.path.join(self.root, "outside")
        self.index = index
        self.uid = None
        self._claim = None
        self.data_dirs = [os.path.abspath(d) for d in data_dirs if d]
        self.grader_root = grader_root
        self.isolate_network = isolate_network
        self.isolation = {}

    def claim_user(self):
        """A uid of its own (root only): UID_BASE + index, or the next free one in steps of
        UID_STEP when another grading run on this machine holds it (a lock file each)."""
        if not is_root() or self._claim is not None:
            return self.uid
        import fcntl
        import tempfile

        for k in range(UID_TRIES):
            uid = UID_BASE + self.index + k * UID_STEP
            path = os.path.join(tempfile.gettempdir(), ".tfgrade-uid-%d.lock" % uid)
            handle = open(path, "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            kill_all(-1, uid=uid)  # what an earlier, killed grading run left of this user
            self.uid, self._claim = uid, handle
            return uid
        raise RuntimeError("no free submission user between %d and %d"
                           % (UID_BASE, UID_BASE + UID_TRIES * UID_STEP))

    def release(self):
        if self._claim is not None:
            self._claim.close()
            self._claim = None

    def make_folders(self):
        self.claim_user()
        for folder in (self.root, self.outputs, self.logs, self.home, self.tmp, self.outside):
            os.makedirs(folder, exist_ok=True)
        for name in MASKED:
            folder = os.path.join(self.outside, name.strip("/").replace("/", "_"))
            os.makedirs(folder, exist_ok=True)
            os.chmod(folder, 0o1777)
        self.give_away()

    def give_away(self):
        """Everything in the sandbox belongs to its user; nobody else may look in."""
        if self.uid is None:
            return
        for folder, dirs, files in os.walk(self.root):
            for name in dirs + files:
                try:
                    os.lchown(os.path.join(folder, name), self.uid, self.uid)
                except OSError:
                    pass
        os.chown(self.root, self.uid, self.uid)
        os.chmod(self.root, 0o700)

    def keep_visible(self):
        """Paths a command must still see where /tmp etc. are replaced: the sandbox, the
        interpreter, the grader's own code and data."""
        paths = [self.root, sys.prefix, sys.base_prefix, os.path.dirname(sys.executable),
                 os.path.realpath(sys.executable), HERE]
        if self.grader_root:
            paths.append(self.grader_root)
        paths += self.data_dirs
        for path in list(sys.path):
            if path and os.path.isdir(path) and "site-packages" in path:
                paths.append(path)
        paths = sorted(set(os.path.realpath(p) for p in paths if p))
        if self.uid is None:
            return paths
        # a needed folder closed to others (a virtualenv made by ``mktemp -d``, mode 700):
        # :meth:`masks` covers it with an open, empty folder, its entries are bound back
        kept = []
        for path in paths:
            if path != self.root and os.path.isdir(path) and _closed(path):
                kept += [os.path.join(path, name) for name in os.listdir(path)]
            else:
                kept.append(path)
        return sorted(set(kept))

    def masks(self):
        """(shared folder, the sandbox's folder bound over it): the writable shared folders,
        and the closed folders (no search bit for others, such as /root) above a path the
        command needs (an interpreter under /root/.pyenv): an empty folder of the sandbox
        covers them, the path itself is bound back."""
        masks = [(m, os.path.join(self.outside, m.strip("/").replace("/", "_")))
                 for m in MASKED]
        if self.uid is None:
            return masks
        closed = set()
        for path in self.keep_visible():
            parts = path.strip("/").split("/")
            for i in range(1, len(parts)):
                folder = "/" + "/".join(parts[:i])
                if _closed(folder):
                    closed.add(folder)
                    break
        for folder in sorted(closed):
            cover = os.path.join(self.root, "covers", folder.strip("/").replace("/", "_"))
            os.makedirs(cover, exist_ok=True)
            os.chmod(cover, 0o755)  # root's, empty: nothing to read, nothing to write
            masks.append((folder, cover))
        return masks

    def environment(self, pythonpath, extra=None):
        env = {"PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
               "HOME": self.home, "TMPDIR": self.tmp, "LANG": "C.UTF-8",
               "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1", "MPLBACKEND": "Agg",
               "PYTHONDONTWRITEBYTECODE": "1", "TF_CPP_MIN_LOG_LEVEL": "1",
               "MPLCONFIGDIR": os.path.join(self.home, ".matplotlib"),
               "TFCOURSE_RUNS_DIR": os.path.join(self.outputs, "runs")}
        if self.data_dirs:
            env["TFCOURSE_DATA_DIR"] = self.data_dirs[0]
        env.update(extra or {})
        return env

    def run(self, name, argv, limits, pythonpath, cwd=None, env=None):
        """Run ``argv`` in the sandbox under ``limits``; returns the run's record (verdict,
        exit status, seconds, peak memory, log path and last lines, why it was stopped)."""
        log_path = os.path.join(self.logs, name + ".log")
        spec_path = os.path.join(self.root, ".launch-%s.json" % name)
        status_path = os.path.join(self.root, ".launch-%s.status.json" % name)
        groups = ControlGroups("tfgrade-%d-%d-%s" % (os.getpid(), self.uid or 0, name),
                               limits.memory, limits.threads)
        spec = {
            "argv": list(argv), "cwd": cwd or self.tree,
            "env": self.environment(pythonpath, env), "status": status_path,
            "uid": self.uid, "gid": self.uid, "cgroups": groups.folders,
            "isolate_network": self.isolate_network,
            "masks": self.masks(),
            "keep": self.keep_visible(), "read_only": self.data_dirs,
            "rlimits": {"fsize": limits.file_size, "core": 0, "nofile": 4096,
                        "data": 2 * limits.memory,
                        **({"nproc": limits.threads} if self.uid is not None else {})},
        }
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        start = time.time()
        stopped, peak = None, 0
        with open(log_path, "wb") as log:
            log.write(("$ %s\n" % " ".join(argv)).encode())
            log.flush()
            proc = subprocess.Popen([sys.executable, LAUNCH, spec_path], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            written = {"bytes": 0, "over": False}
            reader = threading.Thread(target=_copy, args=(proc.stdout, log, limits.output,
                                                          written), daemon=True)
            reader.start()
            who = {"uid": self.uid} if self.uid is not None else {"session": proc.pid}
            while True:
                try:
                    proc.wait(timeout=0.25)
                    break
                except subprocess.TimeoutExpired:
                    pass
                elapsed = time.time() - start
                rss = sum(members(**who).values())
                peak = max(peak, rss)
                if elapsed > limits.wall:
                    stopped = ("timeout", "still running after %s (the limit)"
                               % _duration(limits.wall))
                elif rss > limits.memory:
                    stopped = ("out of memory", "%.1f GB resident, above the limit of %.1f GB"
                               % (rss / 1e9, limits.memory / 1e9))
                elif written["over"]:
                    stopped = ("crashed", "printed more than %d MB (the output limit)"
                               % (limits.output >> 20))
                if stopped:
                    kill_all(proc.pid, **who)
                    proc.wait()
                    break
            kill_all(proc.pid, **who)  # what it left behind (daemons, children)
            reader.join(timeout=10)
            seconds = time.time() - start
            if stopped:
                log.write(("\n[grader] stopped: %s: %s\n" % stopped).encode())
        oom_kills = groups.oom_kills()
        groups.remove()
        status = proc.returncode
        tail = _tail(log_path)
        if stopped:
            verdict, reason = stopped
        elif status == 0:
            verdict, reason = "ok", ""
        elif oom_kills or (status == -signal.SIGKILL and peak > 0.9 * limits.memory) \
                or any(word in "\n".join(tail) for word in OOM_WORDS):
            verdict, reason = "out of memory", ("killed by the memory limit of %.1f GB"
                                                % (limits.memory / 1e9))
        else:
            verdict, reason = "crashed", "exit status %s" % status
        try:
            with open(status_path) as f:
                self.isolation = json.load(f)
        except (OSError, ValueError):
            pass
        return {"name": name, "command": " ".join(argv), "verdict": verdict, "reason": reason,
                "status": status, "seconds": round(seconds, 1), "peak_memory": peak,
                "log": log_path, "tail": tail, "memory_limit_by": groups.kind or "RSS watchdog"}

    def leaks(self):
        """Files and folders a command wrote to /tmp, /var/tmp or /dev/shm (kept in the
        sandbox's own copies of them), as the paths it meant to write."""
        found = []
        kept = self.keep_visible()
        for shared in MASKED:
            base = os.path.join(self.outside, shared.strip("/").replace("/", "_"))
            for folder, dirs, files in os.walk(base):
                for name in files + dirs:
                    path = os.path.join(folder, name)
                    meant = shared + path[len(base):]
                    if os.path.isdir(path) and any(k == meant or k.startswith(meant + "/")
                                                   for k in kept):
                        continue  # a mount point the launcher made for a visible path
                    found.append(meant)
        return sorted(found)


def _closed(folder):
    """No search bit for others (``/root``, a ``mktemp -d`` folder): a submission's user
    cannot pass through it."""
    try:
        return not os.stat(folder).st_mode & 0o001
    except OSError:
        return False


def _copy(stream, log, cap, written):
    """Copy the command's output into the log until ``cap`` bytes; past it, drain and flag."""
    for chunk in iter(lambda: stream.read1(65536), b""):
        if written["bytes"] < cap:
            log.write(chunk[:cap - written["bytes"]])
            log.flush()
        written["bytes"] += len(chunk)
        if written["bytes"] > cap:
            written["over"] = True


def _tail(path, lines=TAIL_LINES):
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]


def _duration(seconds):
    seconds = int(round(seconds))
    return "%d min %02d s" % divmod(seconds, 60) if seconds >= 60 else "%d s" % seconds
