"""mnist_cnn/train_distributed.py on a local cluster (1 ps + 2 workers on 127.0.0.1).

* the launcher trains async to a stated accuracy on the real 4000-digit subset,
  and runs sync mode;
* a worker and then the chief are SIGKILLed mid-run and restarted with the
  same command: the worker rejoins at the ps's global step, the chief restores
  the latest checkpoint, the run reaches --steps;
* a worker that fails (bad --data_dir) or is SIGKILLed under the launcher
  stops the whole cluster with one line saying which and why;
* bad flags and a port in use give one clear line and exit status 2.

Every process gets a timeout and is killed in teardown: ps servers never exit
on their own.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from tfcourse import REPO_ROOT, cli

SCRIPT = os.path.join(REPO_ROOT, "mnist_cnn", "train_distributed.py")
LAUNCHER = "mnist_cnn/launch_local_cluster.py"
STEP_LINE = re.compile(r"global step (\d+)/\d+")


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) counts as gone
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def started_pids(stdout):
    return [int(p) for p in re.findall(r"\] started \(pid (\d+)\)", stdout)]


@pytest.fixture(scope="module")
def train_module():
    with pytest.MonkeyPatch.context() as mp:  # train_distributed imports train from its folder
        mp.syspath_prepend(os.path.dirname(SCRIPT))
        import train_distributed

        yield train_distributed


# ------------------------------------------------------------ the launcher
@pytest.fixture(scope="module")
def async_run(run_script, fetch, tmp_path_factory):
    """200 global steps of batch 50, async, 2 workers, via the launcher as a user runs it."""
    tmp = tmp_path_factory.mktemp("dist_async")
    proc = run_script(LAUNCHER, "--data_dir", fetch("mnist5k"), "--steps", 200,
                      "--log_every", 25, "--save_every", 60, "--checkpoint_dir", tmp / "ckpt",
                      "--json", tmp / "result.json", "--log_dir", tmp / "logs",
                      "--timeout", 280, timeout=300)
    return tmp, proc, json.loads((tmp / "result.json").read_text())


def test_local_cluster_learns_real_digits(async_run):
    tmp, proc, result = async_run
    # 200 async global steps reach ~0.87 here (a single process: ~0.90 after 250 steps)
    assert result["test_accuracy"] >= 0.8
    assert result["mode"] == "async" and result["test_examples"] == 1000
    assert result["final_global_step"] >= 200
    assert len(result["worker_hosts"]) == 2 and len(result["ps_hosts"]) == 1
    assert all(h.startswith("127.0.0.1:") for h in result["ps_hosts"] + result["worker_hosts"])
    # both workers trained and reported progress with rate and ETA
    for worker in (0, 1):
        assert re.search(r"\[worker%d\] worker %d: global step \d+/200 .*global steps/s.*ETA"
                         % (worker, worker), proc.stdout)
        assert "[worker%d] worker %d: done" % (worker, worker) in proc.stdout
    # the chief ran only part of the 200 steps: the other worker did the rest
    assert result["chief_local_steps"] < 170
    assert "cluster: 2 workers finished" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_launcher_keeps_logs_and_stops_the_ps(async_run):
    tmp, proc, _ = async_run
    assert sorted(os.listdir(str(tmp / "logs"))) == ["ps0.log", "worker0.log", "worker1.log"]
    assert "test accuracy" in (tmp / "logs" / "worker0.log").read_text()
    pids = started_pids(proc.stdout)
    assert len(pids) == 3
    assert not any(pid_alive(pid) for pid in pids)
    # the chief saved every ~60 global steps (async steps jump) and at the end
    saved = sorted(int(m) for m in re.findall(r"model\.ckpt-(\d+)\.index",
                                               " ".join(os.listdir(str(tmp / "ckpt")))))
    assert len(saved) >= 3
    assert checkpoint_step(tmp / "ckpt") == saved[-1] >= 200


def test_chief_writes_summaries(async_run, read_events):
    tmp, _, _ = async_run
    events = read_events(tmp / "ckpt")
    assert events.graph_nodes
    assert {"train/loss", "train/accuracy", "train/learning_rate", "weights/conv1/weights",
            "input/image/0"} <= events.tags


def test_sync_mode_runs(run_script, fetch, tmp_path):
    proc = run_script(LAUNCHER, "--sync", "--data_dir", fetch("mnist5k"), "--steps", 60,
                      "--log_every", 20, "--checkpoint_dir", tmp_path / "ckpt",
                      "--json", tmp_path / "sync.json", "--log_dir", tmp_path / "logs",
                      "--timeout", 200, timeout=220)
    result = json.loads((tmp_path / "sync.json").read_text())
    assert result["mode"] == "sync"
    assert result["final_global_step"] == 60  # synchronous: no overshoot
    assert result["images_per_global_step"] == 100  # one batch of 50 from each worker
    # 60 averaged steps of 2 x 50 images: far above chance (0.10); ~0.8 here
    assert result["test_accuracy"] >= 0.5
    assert "worker 1: sync training" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not any(pid_alive(pid) for pid in started_pids(proc.stdout))


def test_a_failing_worker_stops_the_cluster(run_script, tmp_path):
    proc = run_script(LAUNCHER, "--data_dir", tmp_path / "no_mnist", "--steps", 10,
                      "--checkpoint_dir", tmp_path / "ckpt", "--json", tmp_path / "r.json",
                      "--log_dir", tmp_path / "logs", "--timeout", 100, timeout=120, check=False)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert re.match(r"launch_local_cluster\.py: error: worker\d exited with status 2 "
                    r"\(.*get_data\.py mnist.*\); full log: .*; stopped the cluster", last), last
    assert not any(pid_alive(pid) for pid in started_pids(proc.stdout))
    assert not (tmp_path / "r.json").exists()


def test_a_killed_worker_stops_the_cluster(fetch, tmp_path):
    out, err = tmp_path / "launcher.out", tmp_path / "launcher.err"
    cmd = [sys.executable, os.path.join(REPO_ROOT, LAUNCHER), "--data_dir", fetch("mnist5k"),
           "--steps", 5000, "--log_every", 5, "--checkpoint_dir", tmp_path / "ckpt",
           "--json", tmp_path / "r.json", "--log_dir", tmp_path / "logs", "--timeout", 150]
    with open(str(out), "w") as o, open(str(err), "w") as e:
        launcher = subprocess.Popen([str(a) for a in cmd], stdout=o, stderr=e,
                                    env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        deadline = time.time() + 120
        while "[worker1] worker 1: global step" not in out.read_text():
            assert time.time() < deadline and launcher.poll() is None, out.read_text()[-3000:]
            time.sleep(0.2)
        pids = started_pids(out.read_text())
        os.kill(pids[2], signal.SIGKILL)  # ps0, worker0, worker1
        assert launcher.wait(60) == 1
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    last = err.read_text().strip().splitlines()[-1]
    assert re.match(r"launch_local_cluster\.py: error: worker1 was killed by SIGKILL .*; "
                    r"stopped the cluster", last), last
    time.sleep(1)
    assert not any(pid_alive(pid) for pid in pids)
    assert not (tmp_path / "r.json").exists()


# ------------------------------------------------- kill and restart workers
class Cluster:
    """ps + workers of train_distributed.py started by hand, one command each, as on real hosts."""

    def __init__(self, tmp, args):
        ports = free_ports(3)
        self.tmp = tmp
        self.common = ["--ps_hosts", "127.0.0.1:%d" % ports[0],
                       "--worker_hosts", "127.0.0.1:%d,127.0.0.1:%d" % (ports[1], ports[2])]
        self.common += [str(a) for a in args]
        self.procs = []
        self.runs = 0

    def start(self, job, index):
        self.runs += 1
        log = self.tmp / ("%s%d-run%d.log" % (job, index, self.runs))
        cmd = [sys.executable, SCRIPT] + self.common + ["--job_name", job,
                                                        "--task_index", str(index)]
        with open(str(log), "w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    env=dict(os.environ, PYTHONUNBUFFERED="1"))
        proc.log = log
        self.procs.append(proc)
        return proc

    @staticmethod
    def output(proc):
        return proc.log.read_text()

    def wait_for(self, proc, predicate, what, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.output(proc)
            if predicate(text):
                return text
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError("waited for %s in vain; log of %s:\n%s"
                             % (what, proc.args[-3:], self.output(proc)[-3000:]))

    def kill_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def logged_steps(text):
    return [int(s) for s in STEP_LINE.findall(text)]


def checkpoint_step(ckpt_dir):
    path = os.path.join(str(ckpt_dir), "checkpoint")
    if not os.path.exists(path):
        return -1
    with open(path) as f:
        match = re.search(r'^model_checkpoint_path: ".*model\.ckpt-(\d+)"', f.read(), re.M)
    return int(match.group(1)) if match else -1


@pytest.fixture
def cluster(fetch, tmp_path):
    c = Cluster(tmp_path, ["--data_dir", fetch("mnist5k"), "--steps", 240, "--log_every", 5,
                           "--save_every", 40, "--checkpoint_dir", tmp_path / "ckpt",
                           "--json", tmp_path / "result.json", "--max_wait_secs", 120])
    yield c
    c.kill_all()


def test_killed_workers_resume_without_losing_the_global_step(cluster, tmp_path):
    ps = cluster.start("ps", 0)
    chief = cluster.start("worker", 0)
    worker = cluster.start("worker", 1)

    # 1. SIGKILL the non-chief mid-run; restarted, it rejoins at the ps's global step
    cluster.wait_for(worker, lambda t: "starting at global step" in t, "worker 1 to start")
    cluster.wait_for(chief, lambda t: max(logged_steps(t) or [0]) >= 40, "global step 40")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    seen_before = max(logged_steps(cluster.output(chief)))  # the ps was at least there
    worker = cluster.start("worker", 1)
    text = cluster.wait_for(worker, lambda t: "starting at global step" in t, "worker 1 to rejoin")
    rejoined_at = int(re.search(r"starting at global step (\d+)", text).group(1))
    assert rejoined_at >= seen_before >= 40

    # 2. SIGKILL the chief after a checkpoint; restarted, it restores that checkpoint
    cluster.wait_for(chief, lambda t: checkpoint_step(tmp_path / "ckpt") >= 120,
                     "a checkpoint at step 120")
    chief.send_signal(signal.SIGKILL)
    chief.wait(10)
    saved = checkpoint_step(tmp_path / "ckpt")
    assert saved >= 120
    chief = cluster.start("worker", 0)
    text = cluster.wait_for(chief, lambda t: "starting at global step" in t, "the chief to restore")
    assert re.search(r"restoring .*model\.ckpt-(\d+)", text)
    restored_at = int(re.search(r"starting at global step (\d+)", text).group(1))
    assert restored_at >= saved  # the latest checkpoint, never back to 0

    # 3. both finish the run; the chief's global steps never went below the restored one
    for proc in (chief, worker):
        proc.wait(240)
        assert proc.returncode == 0, cluster.output(proc)[-3000:]
    steps = logged_steps(cluster.output(chief))
    assert steps and min(steps) >= restored_at
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["start_global_step"] == restored_at
    assert result["final_global_step"] >= 240
    assert result["test_accuracy"] >= 0.8
    assert ps.poll() is None  # the ps serves until it is stopped


# ------------------------------------------------------------ bad flags
HOSTS = ["--ps_hosts", "127.0.0.1:2222", "--worker_hosts", "127.0.0.1:2223,127.0.0.1:2224"]


@pytest.mark.parametrize("args, message", [
    (["--worker_hosts", "127.0.0.1:2223", "--job_name", "worker"], "--ps_hosts is required"),
    (["--ps_hosts", "127.0.0.1:2222", "--job_name", "worker"], "--worker_hosts is required"),
    (HOSTS, "--job_name must be ps or worker"),
    (HOSTS + ["--job_name", "chief"], "--job_name must be ps or worker"),
    (HOSTS + ["--job_name", "worker", "--task_index", "2"],
     "--task_index 2 is out of range: --worker_hosts lists 2 workers (task indices 0..1)"),
    (HOSTS + ["--job_name", "ps", "--task_index", "1"], "--task_index 1 is out of range"),
    (["--ps_hosts", "127.0.0.1", "--worker_hosts", "127.0.0.1:2223", "--job_name", "ps"],
     "--ps_hosts: '127.0.0.1' is not host:port"),
    (["--ps_hosts", "a:2222", "--worker_hosts", "b:99999", "--job_name", "ps"],
     "--worker_hosts: 'b:99999' is not host:port"),
    (["--ps_hosts", "a:2222", "--worker_hosts", "a:2222", "--job_name", "ps"],
     "a:2222 is listed twice"),
    (HOSTS + ["--job_name", "worker", "--steps", "0"], "--steps must be a positive number"),
])
def test_bad_flags_are_one_clear_error(train_module, args, message):
    with pytest.raises(cli.UserError) as info:
        train_module.parse_args(args)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_flag_exits_2_from_the_command_line(run_script, tmp_path):
    proc = run_script("mnist_cnn/train_distributed.py", *(HOSTS + ["--job_name", "worker",
                                                                    "--task_index", "5"]),
                      "--json", tmp_path / "r.json", check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "train_distributed.py: error: --task_index 5 is out of range: --worker_hosts lists 2 "
        "workers (task indices 0..1)")
    assert not (tmp_path / "r.json").exists()


def test_port_in_use_is_one_clear_error(run_script):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        proc = run_script("mnist_cnn/train_distributed.py", "--ps_hosts", "127.0.0.1:%d" % port,
                          "--worker_hosts", "127.0.0.1:%d" % free_ports(1)[0], "--job_name", "ps",
                          check=False, timeout=120)
    finally:
        blocker.close()
    assert proc.returncode == 2
    assert re.search(r"train_distributed.py: error: cannot start the ps 0 server on "
                     r"127\.0\.0\.1:%d .*port in use" % port, proc.stderr), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_launcher_rejects_flags_it_sets_itself(run_script):
    proc = run_script(LAUNCHER, "--job_name", "ps", check=False, timeout=60)
    assert proc.returncode == 2
    assert "--job_name is set by the launcher" in proc.stderr
