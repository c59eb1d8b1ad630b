"""Run project scripts in forks of a process that has TensorFlow loaded already.

Loading TensorFlow costs ~6 CPU seconds on the 2-core AMD VM, and the suite runs a few
hundred scripts: most of its time went into that import.  ``run(cmd, cwd, env, timeout)``
asks a server process (one per pytest process, started on first use) to fork; the fork
sets argv, the working folder, the environment and ``sys.path[0]`` as ``python SCRIPT`` (or
``python -m MODULE``) does, runs the script as ``__main__`` with stdin from /dev/null and
stdout/stderr into files, and exits with the status Python would give (``SystemExit``'s
code, 1 after a traceback, minus the signal's number when killed).  The server has
imported only ``tfcourse.compat`` (that is, TensorFlow, tf_slim, tf_keras), numpy and
matplotlib, nothing of the scripts' own folders, and has run no TensorFlow op, so no thread
pool is forked.

Whatever TensorFlow reads once when it loads cannot change per run: a run whose environment
differs from the server's in such a variable, or whose interpreter is not the server's, goes
to a plain subprocess.  ``TFCOURSE_TEST_FORKS=0`` turns the forks off.
"""
import atexit
import json
import os
import socket
import subprocess
import sys
import tempfile

#: variables read when Python or TensorFlow start: a run that sets them differently gets a
#: fresh interpreter
STARTUP_VARIABLES = ("PYTHONPATH", "PYTHONHASHSEED", "PYTHONHOME", "LD_LIBRARY_PATH",
                     "CUDA_VISIBLE_DEVICES", "MPLBACKEND", "OMP_NUM_THREADS")
STARTUP_PREFIXES = ("TF_",)

SERVER = r'''
import json, os, socket, sys
path = sys.argv[1]
import numpy  # noqa: F401
import matplotlib.pyplot  # noqa: F401  (MPLBACKEND=Agg)
import tfcourse.compat  # noqa: F401  (TensorFlow, tf_slim, tf_keras)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path + ".tmp")
os.rename(path + ".tmp", path)
server.listen(1)
server.settimeout(2)
parent = os.getppid()


def child(request):
    import atexit, runpy, threading, traceback
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            out = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, fd)
            os.close(out)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        try:
            if request["argv"][0] == "-m":  # python -m MODULE ARGS
                sys.argv = ["-m"] + list(request["argv"][2:])
                sys.path[0] = os.getcwd()
                runpy.run_module(request["argv"][1], run_name="__main__", alter_sys=True)
            else:
                script = request["argv"][0]
                sys.argv = list(request["argv"])
                sys.path[0] = os.path.dirname(os.path.abspath(script))
                runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as e:
            if e.code is None:
                code = 0
            elif isinstance(e.code, int):
                code = e.code
            else:
                print(e.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = 1
        threading._shutdown()
        atexit._run_exitfuncs()
    except BaseException:
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code & 0xFF)


while True:
    try:
        conn, _ = server.accept()
    except socket.timeout:
        if os.getppid() != parent:  # pytest's process is gone (killed): so is the server
            break
        continue
    conn.settimeout(None)
    with conn, conn.makefile("rw") as f:
        line = f.readline()
        if not line:
            continue
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            server.close()
            conn.close()
            child(request)
        f.write(json.dumps({"pid": pid}) + "\n")
        f.flush()
        _, status = os.waitpid(pid, 0)
        returncode = (-os.WTERMSIG(status) if os.WIFSIGNALED(status)
                      else os.WEXITSTATUS(status))
        f.write(json.dumps({"returncode": returncode}) + "\n")
        f.flush()
'''

_server = {}


def _start():
    folder = tempfile.mkdtemp(prefix="tfcourse-forks-")
    path = os.path.join(folder, "socket")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    log = open(os.path.join(folder, "server.log"), "w")
    proc = subprocess.Popen([sys.executable, "-c", SERVER, path], env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    atexit.register(_stop, proc, folder)
    _server.update(proc=proc, path=path, env=env, folder=folder)


def _stop(proc, folder):
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)


def _same_start(env):
    server = _server["env"]
    names = set(env) | set(server)
    return all(env.get(n) == server.get(n) for n in names
               if n in STARTUP_VARIABLES or n.startswith(STARTUP_PREFIXES))


def run_or_spawn(cmd, cwd, env, timeout):
    """``subprocess.run`` of ``cmd`` (stdout and stderr captured as text), in a fork where
    :func:`usable` allows it."""
    if usable(cmd, env):
        return run(cmd, cwd, env, timeout)
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, env=env)


def usable(cmd, env):
    """Whether ``cmd`` (``[sys.executable, script, ...]`` or ``[sys.executable, '-m',
    module, ...]``) with ``env`` can run in a fork."""
    if os.environ.get("TFCOURSE_TEST_FORKS", "1") == "0" or cmd[0] != sys.executable:
        return False
    if not _server:
        _start()
    return _server["proc"].poll() is None and _same_start(env)


def run(cmd, cwd, env, timeout):
    """``subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, stdout=PIPE, stderr=PIPE,
    universal_newlines=True)`` in a fork of the server; the caller checks :func:`usable`."""
    import time
    deadline = time.time() + timeout
    while not os.path.exists(_server["path"]):   # the server is still loading TensorFlow
        if _server["proc"].poll() is not None or time.time() > deadline:
            raise RuntimeError("the fork server did not start: see %s"
                               % os.path.join(_server["folder"], "server.log"))
        time.sleep(0.05)
    with tempfile.TemporaryDirectory(prefix="tfcourse-run-") as tmp:
        request = {"argv": [str(a) for a in cmd[1:]], "cwd": str(cwd), "env": dict(env),
                   "stdout": os.path.join(tmp, "stdout"), "stderr": os.path.join(tmp, "stderr")}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(_server["path"])
            conn.sendall((json.dumps(request) + "\n").encode())
            lines = _Lines(conn)
            pid = lines.next()["pid"]
            conn.settimeout(max(deadline - time.time(), 0.1))
            try:
                returncode = lines.next()["returncode"]
            except socket.timeout:
                os.kill(pid, 9)
                conn.settimeout(None)
                lines.next()
                raise subprocess.TimeoutExpired(cmd, timeout, _read(request["stdout"]),
                                                _read(request["stderr"]))
        return subprocess.CompletedProcess(cmd, returncode, _read(request["stdout"]),
                                           _read(request["stderr"]))


class _Lines:
    """JSON lines read from a socket (kept whole across a timeout)."""

    def __init__(self, conn):
        self.conn, self.buffer = conn, b""

    def next(self):
        while b"\n" not in self.buffer:
            chunk = self.conn.recv(4096)
            if not chunk:
                raise RuntimeError("the fork server closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)


def _read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()
