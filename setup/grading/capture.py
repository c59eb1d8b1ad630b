"""Run a submission's benchmark script and keep the graphs it runs, not the times it prints.

    python setup/grading/capture.py --out DIR SCRIPT [ARGS ...]

Runs ``SCRIPT`` (the submission's, by path, with its own code first on the
import path) as ``python SCRIPT ARGS`` would, with ``Session.run`` replaced:
the first run of each distinct fetch (the same tensors with the same feeds)
really runs and its value is kept; every later run of it returns that value
at once, so the script's timing loop costs nothing and its timings mean
nothing.  After each new fetch, ``DIR`` gets:

* ``graph-<n>.meta``: the MetaGraphDef of the session's graph (variables,
  their initializers, every op; devices cleared);
* ``feeds-<k>.npz``: the values the fetch was fed (keep probabilities, ...);
* ``fetches.json``: every distinct fetch, its graph, its tensor and op names,
  its feeds and how many times the script ran it.

``measure.py timing`` then times these graphs in a separate process that runs
none of the submission's Python.  Nothing here depends on how the script is
organised: any script that times its graphs with ``Session.run`` is captured.
"""
import json
import os
import runpy
import sys


def main(argv):
    if len(argv) < 3 or argv[0] != "--out":
        print("usage: python setup/grading/capture.py --out DIR SCRIPT [ARGS ...]",
              file=sys.stderr)
        return 2
    out, script, args = os.path.abspath(argv[1]), os.path.abspath(argv[2]), argv[3:]
    os.makedirs(out, exist_ok=True)
    install(out)
    sys.argv = [script] + args
    sys.path[0] = os.path.dirname(script)  # as `python SCRIPT` does: the script's folder first
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    return 0


def install(out):
    import numpy as np
    from tensorflow.python.client import session as session_lib
    from tensorflow.python.util import nest

    original = session_lib.BaseSession.run
    graphs, fetches, cache = [], [], {}

    def element_name(graph, item):
        element = graph.as_graph_element(item, allow_tensor=True, allow_operation=True)
        return element.name

    def graph_index(graph):
        for i, known in enumerate(graphs):
            if known is graph:
                return i
        graphs.append(graph)
        return len(graphs) - 1

    def capturing_run(self, fetch, feed_dict=None, options=None, run_metadata=None):
        graph = self.graph
        try:
            names = [element_name(graph, item) for item in nest.flatten(fetch)]
            feed_names = sorted(element_name(graph, key) for key in (feed_dict or {}))
        except (TypeError, ValueError, KeyError):  # something we cannot name: just run it
            return original(self, fetch, feed_dict, options, run_metadata)
        index = graph_index(graph)
        key = (index, tuple(names), tuple(feed_names))
        if key in cache:
            entry, value = cache[key]
            entry["runs"] += 1
            if entry["runs"] % 10 == 0:
                save(out, fetches)
            return value
        value = original(self, fetch, feed_dict, options, run_metadata)
        entry = {"graph": index, "fetches": names, "feeds": feed_names, "runs": 1,
                 "order": len(fetches)}
        if feed_dict:
            feed_file = "feeds-%d.npz" % len(fetches)
            arrays = {}
            for k, v in feed_dict.items():
                arrays[element_name(graph, k)] = np.asarray(v)
            np.savez(os.path.join(out, feed_file), **arrays)
            entry["feed_file"] = feed_file
        fetches.append(entry)
        cache[key] = (entry, value)
        export_graph(out, graph, index)
        save(out, fetches)
        return value

    session_lib.BaseSession.run = capturing_run

    import atexit

    atexit.register(save, out, fetches)


def export_graph(out, graph, index):
    """The graph as it is now (it may have grown since the last fetch)."""
    import tensorflow.compat.v1 as tf

    path = os.path.join(out, "graph-%d.meta" % index)
    tmp = path + ".tmp"
    tf.train.export_meta_graph(filename=tmp, graph=graph, clear_devices=True)
    os.replace(tmp, path)


def save(out, fetches):
    tmp = os.path.join(out, "fetches.json.tmp")
    with open(tmp, "w") as f:
        json.dump(fetches, f, indent=1)
    os.replace(tmp, os.path.join(out, "fetches.json"))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
