"""Start a local cluster for mnist_cnn/train_distributed.py: 1 ps + 2 workers on 127.0.0.1.

It only saves typing the one-line-per-process commands of a real cluster
(see mnist_cnn/README.md): it picks free ports on 127.0.0.1 (or takes
--ports), starts every process of train_distributed.py as a subprocess with
the right --job_name/--task_index, prints their output with a [ps0] /
[worker0] / [worker1] prefix (and keeps the full logs in --log_dir), waits
for the workers, then stops the parameter servers, which never exit on their
own.  If a process fails, everything is stopped and the failure reported.
The training itself is TensorFlow's runtime; nothing is scheduled here.

    python mnist_cnn/launch_local_cluster.py --steps 500 --data_dir data/mnist5k
    python mnist_cnn/launch_local_cluster.py --sync --steps 500 --data_dir data/mnist5k
    python mnist_cnn/launch_local_cluster.py --num_workers 3 --ports 2222,2223,2224,2225

Every flag it does not know itself (--steps, --sync, --data_dir,
--checkpoint_dir, --json, --batch_size, ...) is passed to every process.
Note that the chief resumes from the latest checkpoint in --checkpoint_dir.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from tfcourse import cli

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train_distributed.py")
HOST = "127.0.0.1"
OWN_FLAGS = ("--ps_hosts", "--worker_hosts", "--job_name", "--task_index")
# TensorFlow's C++ start-up chatter (glog INFO/WARNING lines); kept in the log files
NOISE = re.compile(r"^([IW]\d{4} \d\d:\d\d:\d\d|WARNING: All log messages before absl|"
                   r"To enable the following instructions|E\d{4} .*(cuInit|cuda_))")
# "train_distributed.py: error: ..." (a UserError) or "some.module.SomeError: ..." (a crash)
ERROR_LINE = re.compile(r"(: error: |^[\w.]*(Error|Exception)\b)")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Other flags are passed to train_distributed.py (see its --help).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--num_ps", type=int, default=1, help="number of parameter servers")
    parser.add_argument("--num_workers", type=int, default=2, help="number of workers")
    parser.add_argument("--ports", default="",
                        help="comma-separated ports, ps first then workers (default: free ports)")
    parser.add_argument("--log_dir", default=cli.run_dir("mnist_cnn_distributed", "logs"),
                        help="full log of every process (ps0.log, worker0.log, ...)")
    parser.add_argument("--timeout", type=cli.finite_float, default=0,
                        help="stop everything and fail after this many seconds (0: no limit)")
    parser.add_argument("--verbose", action="store_true",
                        help="also print TensorFlow's C++ start-up messages")
    args, passthrough = parser.parse_known_args(argv)
    cli.check_positive("--num_ps", args.num_ps)
    cli.check_positive("--num_workers", args.num_workers)
    for flag in passthrough:
        if flag.split("=")[0] in OWN_FLAGS:
            raise cli.UserError("%s is set by the launcher for each process; to place processes "
                                "yourself run train_distributed.py directly" % flag.split("=")[0])
    args.passthrough = passthrough
    total = args.num_ps + args.num_workers
    if args.ports:
        try:
            ports = [int(p) for p in args.ports.split(",")]
        except ValueError:
            raise cli.UserError("--ports must be comma-separated numbers, got %r" % args.ports)
        if len(ports) != total or len(set(ports)) != total or not all(0 < p < 65536 for p in ports):
            raise cli.UserError("--ports needs %d distinct ports in 1-65535 (%d ps + %d workers), "
                                "got %r" % (total, args.num_ps, args.num_workers, args.ports))
        busy = [p for p in ports if not port_is_free(p)]
        if busy:
            raise cli.UserError("port %d on %s is in use by another process; pick free --ports "
                                "(or leave --ports out: the launcher then picks free ones)"
                                % (busy[0], HOST))
        args.port_list = ports
    else:
        args.port_list = free_ports(total)
    return args


def port_is_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((HOST, port))
            return True
        except OSError:
            return False


def free_ports(count):
    """``count`` distinct ports that are free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _die_with_parent():
    """In the child: get SIGKILL when the launcher dies, even by SIGKILL (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


class Process:
    """One process of the cluster, its output copied to a log file and, prefixed, to stdout."""

    lock = threading.Lock()

    def __init__(self, job, index, cmd, log_dir, verbose):
        self.name = "%s%d" % (job, index)
        self.job = job
        self.log_path = os.path.join(log_dir, self.name + ".log")
        self.last_lines = []
        self.last_error = None
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.log = open(self.log_path, "w")
        self.popen = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env, universal_newlines=True,
                                      preexec_fn=_die_with_parent if os.name == "posix" else None)
        self.verbose = verbose
        self.reader = threading.Thread(target=self._copy_output, daemon=True)
        self.reader.start()
        self.say("started (pid %d)" % self.popen.pid)

    def say(self, text):
        with Process.lock:
            print("[%s] %s" % (self.name, text), flush=True)

    def _copy_output(self):
        for line in self.popen.stdout:
            line = line.rstrip("\n")
            self.log.write(line + "\n")
            self.log.flush()
            if line.strip():
                self.last_lines = (self.last_lines + [line])[-20:]
            if ERROR_LINE.search(line) and not NOISE.match(line):
                self.last_error = line
            if self.verbose or not NOISE.match(line):
                self.say(line)

    def poll(self):
        return self.popen.poll()

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after ``grace`` seconds; waits for the output to be copied."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.reader.join(5.0)
        self.log.close()

    def failure(self):
        """One line describing why this process ended badly."""
        code = self.popen.returncode
        if code < 0:
            how = "was killed by %s" % signal.Signals(-code).name
        else:
            how = "exited with status %d" % code
        detail = (self.last_error or (self.last_lines or ["no output"])[-1]).strip()
        return "%s %s (%s); full log: %s" % (self.name, how, detail, self.log_path)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    args = parse_args(argv)
    ps_hosts = ["%s:%d" % (HOST, p) for p in args.port_list[:args.num_ps]]
    worker_hosts = ["%s:%d" % (HOST, p) for p in args.port_list[args.num_ps:]]
    try:
        os.makedirs(args.log_dir, exist_ok=True)
    except OSError as exc:
        raise cli.UserError("cannot create --log_dir %s (%s)" % (args.log_dir, exc.strerror))
    base = [sys.executable, SCRIPT, "--ps_hosts", ",".join(ps_hosts),
            "--worker_hosts", ",".join(worker_hosts)] + args.passthrough
    print("cluster: ps %s, workers %s; logs in %s"
          % (",".join(ps_hosts), ",".join(worker_hosts), args.log_dir), flush=True)

    # SIGTERM (e.g. from a job runner) stops the cluster like Ctrl-C does
    signal.signal(signal.SIGTERM, _interrupt)
    processes = []
    start = time.time()
    try:
        for job, count in (("ps", args.num_ps), ("worker", args.num_workers)):
            for index in range(count):
                cmd = base + ["--job_name", job, "--task_index", str(index)]
                processes.append(Process(job, index, cmd, args.log_dir, args.verbose))
        workers = [p for p in processes if p.job == "worker"]
        while True:
            for p in processes:
                code = p.poll()
                if code is None:
                    continue
                if p.job == "ps" or code != 0:
                    for q in processes:
                        q.stop()
                    why = p.failure() if code != 0 else "%s exited early" % p.name
                    print("launch_local_cluster.py: error: %s; stopped the cluster" % why,
                          file=sys.stderr, flush=True)
                    return 2 if code == 2 else 1
            if all(w.poll() == 0 for w in workers):
                break
            if args.timeout and time.time() - start > args.timeout:
                for q in processes:
                    q.stop()
                print("launch_local_cluster.py: error: the workers did not finish within "
                      "--timeout %g s; stopped the cluster (logs in %s)"
                      % (args.timeout, args.log_dir), file=sys.stderr, flush=True)
                return 1
            time.sleep(0.2)
    finally:
        for p in processes:
            p.stop()
    print("cluster: %d workers finished in %.0f s; parameter servers stopped"
          % (args.num_workers, time.time() - start), flush=True)
    return 0


if __name__ == "__main__":
    cli.run(main)
