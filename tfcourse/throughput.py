"""Timed runs of the project's scripts: plumbing of ``setup/input_overhead.py`` and
``setup/bfloat16_speedup.py``, which run train and benchmark scripts one after another, as
a user would, and compare what their JSON records say.

* :func:`run_record` runs a script (``python SCRIPT ARGS``, from the repository root) with
  ``--json`` into a temporary file and returns its record;
* :func:`steady_steps_per_second` is a train run's rate after its warm-up, from the
  ``seconds`` its history notes at every logged step (the first steps build and optimise
  the graph and fill the input queues: they are not what a long run costs a step);
* :func:`machine` says what the timings ran on.
"""
import os
import subprocess
import sys
import tempfile

from tfcourse import REPO_ROOT, cli
from tfcourse.machine import cpu_info, vector_units


def run_record(script, args, log=print):
    """Run ``python script args --json TMP`` from the repository root, its output passed on
    to ``log`` line by line; returns ``(its JSON record, the command)``.  A run that fails
    is a UserError with the script's last line of output."""
    with tempfile.TemporaryDirectory(prefix="tfcourse-timed-") as tmp:
        path = os.path.join(tmp, "record.json")
        argv = [sys.executable, os.path.join(REPO_ROOT, script)] + [str(a) for a in args]
        argv += ["--json", path]
        shown = " ".join(["python", script] + [str(a) for a in args])
        log("$ %s" % shown)
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, universal_newlines=True,
                                env=dict(os.environ, PYTHONUNBUFFERED="1"))
        last = ""
        for line in proc.stdout:
            last = line.strip() or last
            log("  " + line.rstrip())
        if proc.wait() != 0 or not os.path.exists(path):
            raise cli.UserError("%s failed (exit %d: %s)" % (shown, proc.returncode, last))
        import json

        with open(path, encoding="utf-8") as f:
            return json.load(f), shown


def steady_steps_per_second(record, warmup):
    """Steps per second of a train run's record between its first logged step at or after
    ``warmup`` and its last logged step (its history's ``seconds``); None when fewer than
    two such steps were logged."""
    history = record.get("history")
    entries = history["train"] if isinstance(history, dict) else history or []
    timed = [h for h in entries if "seconds" in h and h["step"] >= warmup]
    if len(timed) < 2 or timed[-1]["seconds"] <= timed[0]["seconds"]:
        return None
    return (timed[-1]["step"] - timed[0]["step"]) / (timed[-1]["seconds"] - timed[0]["seconds"])


def machine():
    """The CPU, its cores, its bfloat16 units and the load: what a timing ran on."""
    info = cpu_info()
    return {"cpu": info["model"], "cores": info["cores"], "vector_units": vector_units(info),
            "bfloat16_units": sorted(info["flags"] & {"avx512_bf16", "amx_bf16"}),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


__all__ = ["run_record", "steady_steps_per_second", "machine"]
