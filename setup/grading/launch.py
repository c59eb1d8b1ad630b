"""Start one command of a submission inside its sandbox, then become that command (exec).

    python setup/grading/launch.py SPEC.json

``SPEC.json`` (written by :mod:`sandbox`) says what to run and how to fence it in.
In this order, before the command runs:

1. a session and process group of its own (``setsid``), so that the grader
   kills the whole group at once;
2. joins the control groups the grader made for it (memory and pids limits);
3. a network namespace with nothing but its own loopback (``unshare -n``; as
   root, else inside a user namespace where the kernel allows one);
4. a private mount namespace (root only) where ``/tmp``, ``/var/tmp`` and
   ``/dev/shm`` are folders of the sandbox (what is written there stays in the
   sandbox, where the grader finds and reports it), the paths the command must
   still see are bound back, and the grader's data is read-only;
5. resource limits: file size, core dumps, open files, processes and threads
   (per user), data segment;
6. as root: drops to the submission's own unprivileged user and group (no
   supplementary groups), so it can write nothing outside its folder;
7. ``execve`` of the command with the sandbox's environment (HOME and TMPDIR
   inside the sandbox).

What was and was not achieved (the kernel may refuse a namespace) goes to
``SPEC['status']`` as JSON before the exec; the grader puts it in the report.
Standard library only: it runs before anything of the submission.
"""
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import resource
import socket
import struct
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT = 1, 2, 4, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def unshare(flags):
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source, target, fstype, flags, data=None):
    def enc(text):
        return text.encode() if text is not None else None

    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags),
                       enc(data)), "mount %s" % target)


def loopback_up():
    """Bring ``lo`` up in the new network namespace (SIOCGIFFLAGS / SIOCSIFFLAGS)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifreq = struct.pack("16sH14s", b"lo", 0, b"\0" * 14)
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, 0x8913, ifreq))[1]
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH14s", b"lo", flags | 1, b"\0" * 14))
    finally:
        sock.close()


def isolate_network(as_root, status):
    try:
        if as_root:
            unshare(CLONE_NEWNET)
        else:  # an unprivileged user namespace that maps only ourselves
            uid, gid = os.getuid(), os.getgid()
            unshare(CLONE_NEWUSER | CLONE_NEWNET)
            for name, text in (("setgroups", "deny"), ("uid_map", "%d %d 1" % (uid, uid)),
                               ("gid_map", "%d %d 1" % (gid, gid))):
                with open("/proc/self/" + name, "w") as f:
                    f.write(text)
        status["network"] = "isolated (a network namespace of its own: loopback only)"
    except OSError as exc:
        status["network"] = "NOT isolated (the kernel refused a network namespace: %s)" % (
            exc.strerror or exc)
        return
    try:
        loopback_up()
    except OSError:
        pass


def _under(path, folder):
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def private_folders(spec, status):
    """Bind the sandbox's own folders over the shared writable ones, bind back what must stay
    visible under them, make the read-only paths read-only."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    keep = [os.path.realpath(p) for p in spec.get("keep", []) if os.path.exists(p)]
    masks = sorted((os.path.realpath(target), source) for target, source in spec.get("masks", [])
                   if os.path.isdir(target))  # a folder before the folders inside it
    # open what must stay visible (and the folders that cover) before anything is covered
    held = []
    for path in sorted(set(keep)):
        if any(_under(path, other) for other, _ in held):
            continue  # bound back with the folder above it
        if any(_under(path, target) for target, _ in masks):
            held.append((path, os.open(path, os.O_PATH)))
    covers = [(target, os.open(source, os.O_PATH)) for target, source in masks]
    for target, fd in covers:
        os.makedirs(target, exist_ok=True)  # under a folder covered just before
        mount("/proc/self/fd/%d" % fd, target, None, MS_BIND)
        os.close(fd)
    for path, fd in held:
        if os.path.isdir("/proc/self/fd/%d" % fd):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        mount("/proc/self/fd/%d" % fd, path, None, MS_BIND | MS_REC)
        os.close(fd)
    for path in spec.get("read_only", []):
        path = os.path.realpath(path)
        if os.path.exists(path):
            mount(path, path, None, MS_BIND | MS_REC)
            mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    status["folders"] = ("/tmp, /var/tmp and /dev/shm are folders of the sandbox; read-only: %s"
                         % (", ".join(spec.get("read_only", [])) or "nothing"))


def set_limits(limits):
    for name, value in limits.items():
        which = getattr(resource, "RLIMIT_" + name.upper())
        soft, hard = resource.getrlimit(which)
        value = int(value)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def main(spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    status = {}
    as_root = os.geteuid() == 0
    try:
        os.setsid()
    except OSError:  # already a group leader (started with start_new_session)
        pass
    for folder in spec.get("cgroups", []):
        with open(os.path.join(folder, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
    if spec.get("isolate_network", True):
        isolate_network(as_root, status)
    else:
        status["network"] = "not isolated (the assignment allows the network)"
    if as_root and spec.get("masks"):
        try:
            private_folders(spec, status)
        except OSError as exc:  # half a namespace is no sandbox: run nothing
            print("launch: cannot make the sandbox's folders private (%s)" % exc,
                  file=sys.stderr)
            return 126
    else:
        status["folders"] = "shared (not root: /tmp is the machine's)"
    set_limits(spec.get("rlimits", {}))
    uid = spec.get("uid")
    drop = as_root and uid is not None
    status["user"] = ("uid %d, gid %d, no supplementary groups" % (uid, spec["gid"]) if drop
                      else "the grader's own (uid %d): not root, no user to drop to"
                      % os.getuid())
    with open(spec["status"], "w") as f:
        json.dump(status, f)
    if drop:
        os.setgroups([])
        os.setgid(spec["gid"])
        os.setuid(uid)
    os.chdir(spec["cwd"])
    try:
        os.execve(spec["argv"][0], spec["argv"], spec["env"])
    except OSError as exc:
        print("launch: cannot run %s (%s)" % (spec["argv"][0], exc.strerror), file=sys.stderr)
        return 127 if exc.errno == errno.ENOENT else 126


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
