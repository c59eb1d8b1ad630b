"""Shared test fixtures.

* ``fetch(name)`` -> the data directory of data set ``name`` (fetched once with
  the same code as ``python setup/get_data.py NAME``, into ``data/`` or
  ``$TFCOURSE_DATA_DIR``).  A data set that cannot be fetched fails the test.
  The suite runs in two processes (pytest-xdist, ``-n 2`` in pyproject.toml): a
  lock file per data set lets one of them fetch while the other waits.
* ``load_script(path, name)`` -> a script imported as a module, for build-only tests.
* ``run_script(path, *args)`` -> runs a project script as a user would
  (``python path args...`` from the repository root) and returns the
  CompletedProcess; ``check=False`` for runs that are expected to fail.
* ``mnist5k_records`` -> a copy of the 5000-digit MNIST subset's folder with its TFRecords
  (``setup/make_tfrecords.py``, in two shards a split), once a session, for ``--input
  queue|dataset``.
* ``read_events(directory)`` -> what the TensorBoard event files in ``directory``
  hold (``Events``: tags, steps and scalar values by tag, the graph's node names),
  read with ``tf.train.summary_iterator``.
"""
import collections
import fcntl
import glob
import importlib.util
import os
import sys

import pytest
import script_forks

from tfcourse import REPO_ROOT, default_data_dir

# the reproduce command's table (setup/scripts_table.py) is imported as `scripts_table`, as
# setup/reproduce.py itself does
sys.path.insert(0, os.path.join(REPO_ROOT, 'setup'))


def _run_script(relpath, *args, timeout=1200, check=True, env=None, cwd=None):
    cmd = [sys.executable, os.path.join(REPO_ROOT, relpath)] + [str(a) for a in args]
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg")
    full_env.update(env or {})
    # in a fork of a process with TensorFlow loaded where it can (tests/script_forks.py)
    proc = script_forks.run_or_spawn(cmd, cwd or REPO_ROOT, full_env, timeout)
    if check and proc.returncode != 0:
        raise AssertionError("%s exited %d\n--- stdout ---\n%s\n--- stderr ---\n%s"
                             % (" ".join(cmd), proc.returncode, proc.stdout[-4000:],
                                proc.stderr[-4000:]))
    return proc


@pytest.fixture(scope="session")
def run_script():
    return _run_script


Events = collections.namedtuple("Events", [
    "files",        # how many event files
    "tags",         # every summary tag
    "steps",        # {tag: [step, ...]} in the order written
    "scalars",      # {tag: {step: value}} of the scalar summaries
    "graph_nodes",  # node names of the graph written, empty when none was
])


def _read_events(directory):
    from tfcourse.compat import tf

    paths = sorted(glob.glob(os.path.join(str(directory), "events.out.tfevents.*")))
    steps, scalars, nodes = {}, {}, set()
    for path in paths:
        for event in tf.train.summary_iterator(path):
            if event.graph_def:
                graph = tf.GraphDef()
                graph.ParseFromString(event.graph_def)
                nodes |= {node.name for node in graph.node}
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
                if value.HasField("simple_value"):
                    scalars.setdefault(value.tag, {})[event.step] = value.simple_value
    return Events(len(paths), set(steps), steps, scalars, nodes)


@pytest.fixture(scope="session")
def read_events():
    return _read_events


@pytest.fixture(scope="session")
def load_script():
    """``load_script(relpath, name)`` -> a project script imported as a module (its
    ``if __name__ == '__main__'`` part does not run)."""
    def _load(relpath, name):
        spec = importlib.util.spec_from_file_location(name, os.path.join(REPO_ROOT, relpath))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return _load


@pytest.fixture(scope="session")
def mnist5k_records(fetch, tmp_path_factory):
    import shutil

    import make_tfrecords

    folder = tmp_path_factory.mktemp("records") / "mnist5k"
    shutil.copytree(fetch("mnist5k"), str(folder),
                    ignore=shutil.ignore_patterns("tfrecords", ".*"))
    make_tfrecords.main(["mnist5k", "--source_dir", str(folder), "--shards", "2"])
    return folder


@pytest.fixture(scope="session")
def fetch():
    from tfcourse.datasets import registry

    modules = registry()

    def _fetch(name):
        target = default_data_dir(name)
        if modules[name].is_present(target):
            return target
        os.makedirs(default_data_dir(), exist_ok=True)
        with open(default_data_dir(".fetch-%s.lock" % name), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)            # the other worker may be fetching it
            if not modules[name].is_present(target):
                print(modules[name].fetch(target))
        return target

    return _fetch
