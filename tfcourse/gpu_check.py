"""Static GPU placement check: which ops of a graph have no GPU kernel for their dtypes.

No machine of this project can run TensorFlow on a GPU, but TensorFlow's
kernel registry lists every kernel it was built with, GPU ones included, with
their dtype constraints, even on a CPU-only machine.  A graph built under
``tf.device('/gpu:0')`` can therefore be checked op by op without a GPU: an
op with no GPU (or ``DEFAULT``) kernel that accepts its dtypes would be moved
to the CPU by ``allow_soft_placement`` on a real GPU, silently, and the run
would time host copies.

    from tfcourse.gpu_check import ops_without_gpu_kernel
    with tf.Graph().as_default() as g, tf.device('/gpu:0'):
        build_the_model()
    assert ops_without_gpu_kernel(g) == []

A whole script is checked by running it under this module::

    python -m tfcourse.gpu_check [--report FILE] SCRIPT [ARGS ...]

which makes the script see one pretend GPU (``compat.gpu_names``), so that it
builds its graph for the GPU, and makes the first ``Session.run`` check that
graph and end the process before anything runs: the verdict of
:func:`check_report` is printed (or appended to FILE) as one JSON line, and
the exit status is 0 when every op has a GPU kernel, 1 when some have none.
``tests/test_gpu_kernels.py`` runs every script of the reproduce table so.
"""
import collections
import json
import os
import sys

from tfcourse.compat import tf

# An input pipeline (--input queue|dataset|constant of the train scripts: readers, queues,
# tf.data, parsing) runs on the host by design and is built under tf.device('/cpu:0'): ops
# pinned to a CPU, and the functions only they call, are not checked (skip_pinned_to_cpu).
# Unpinned, they would be reported like any other op without a GPU kernel.
#
# Ops TensorFlow runs on the host on purpose: checkpoint I/O, summaries,
# string handling and other bookkeeping that is never on a timed path.  They
# have no GPU kernel by design; placing them on the CPU costs nothing.
HOST_OPS = frozenset([
    'SaveV2', 'RestoreV2', 'MergeV2Checkpoints', 'ShardedFilename', 'StringJoin',  # Saver
    'ScalarSummary', 'HistogramSummary', 'ImageSummary', 'MergeSummary',  # tf.summary
    'TensorSummaryV2', 'Assert', 'Print', 'PrintV2', 'StringFormat',  # messages
])

# Strings never live on a GPU (assert messages, the names of uninitialised variables that
# MonitoredTrainingSession's ready_op concatenates), and int32 TensorArrays (shapes and
# counts in the SSDLite detector's pre- and post-processing maps) have no GPU kernel:
# TensorFlow keeps both on the host by design.  (op type prefix, dtype of 'dtype'/'T').
HOST_DTYPES = frozenset([('', 'string'), ('TensorArray', 'int32')])

Missing = collections.namedtuple('Missing', ['name', 'type', 'dtypes'])
Missing.__doc__ = 'An op with no GPU kernel: its name, its type and its dtype attributes.'

_KERNELS = {}


def _gpu_kernels(op_type):
    """The KernelDefs of ``op_type`` that can run on a GPU (GPU and DEFAULT)."""
    if op_type not in _KERNELS:
        from tensorflow.python.framework import kernels

        _KERNELS[op_type] = [k for k in kernels.get_registered_kernels_for_op(op_type).kernel
                             if k.device_type in ('GPU', 'DEFAULT')]
    return _KERNELS[op_type]


def _attr_types(attr):
    if attr.HasField('type'):
        return [attr.type]
    if attr.HasField('list'):
        return list(attr.list.type)
    return []


def _fits(kernel, node_def):
    for constraint in kernel.constraint:
        allowed = set(constraint.allowed_values.list.type)
        if not allowed or constraint.name not in node_def.attr:
            continue
        if any(t not in allowed for t in _attr_types(node_def.attr[constraint.name])):
            return False
    return True


def _dtype_names(node_def):
    names = {}
    for key, attr in node_def.attr.items():
        types = _attr_types(attr)
        if types:
            names[key] = ','.join(tf.as_dtype(t).name for t in types)
    return names


def _host_on_purpose(node, allow):
    if node.op in allow:
        return True
    types = _dtype_names(node)
    dtype = types.get('dtype') or types.get('T')
    return any(node.op.startswith(prefix) and dtype == host for prefix, host in HOST_DTYPES)


def _pinned_to_cpu(node):
    return 'CPU' in node.device.upper()


def _called(nodes, library):
    """Names of the library functions ``nodes`` call through their attributes (the map and
    filter functions of a tf.data pipeline, for one), and those these call, and so on."""
    found, stack = set(), list(nodes)
    while stack:
        node = stack.pop()
        for attr in node.attr.values():
            names = [attr.func.name] if attr.HasField('func') else (
                [f.name for f in attr.list.func] if attr.HasField('list') else [])
            for name in names:
                if name in library and name not in found:
                    found.add(name)
                    stack.extend(library[name].node_def)
    return found


def host_functions(graph_def):
    """The functions of ``graph_def``'s library that only ops pinned to a CPU call (the
    parsing and augmentation of a tf.data input pipeline built on /cpu:0): they run on the
    host with their caller, however their own ops are placed."""
    library = {f.signature.name: f for f in graph_def.library.function}
    pinned = [n for n in graph_def.node if _pinned_to_cpu(n)]
    placed = [n for n in graph_def.node if not _pinned_to_cpu(n)]
    return _called(pinned, library) - _called(placed, library)


def ops_without_gpu_kernel(graph, allow=HOST_OPS, skip_pinned_to_cpu=False):
    """Every op of ``graph`` (a tf.Graph or GraphDef, function bodies included) that has
    no GPU kernel for its dtypes, except the op types in ``allow`` (and HOST_DTYPES);
    with ``skip_pinned_to_cpu``, also except ops the graph places on a CPU itself and the
    bodies of the functions only those call (:func:`host_functions`).  A list of Missing."""
    graph_def = graph.as_graph_def() if hasattr(graph, 'as_graph_def') else graph
    nodes = list(graph_def.node)
    on_host = host_functions(graph_def) if skip_pinned_to_cpu else set()
    for function in graph_def.library.function:
        if function.signature.name not in on_host:
            nodes.extend(function.node_def)
    missing = []
    for node in nodes:
        if _host_on_purpose(node, allow) or (skip_pinned_to_cpu and _pinned_to_cpu(node)):
            continue
        if not any(_fits(k, node) for k in _gpu_kernels(node.op)):
            missing.append(Missing(node.name, node.op, _dtype_names(node)))
    return missing


def describe(missing, limit=8):
    """One line naming the ops (grouped by type and dtypes) that have no GPU kernel."""
    groups = collections.OrderedDict()
    for m in missing:
        key = '%s(%s)' % (m.type, ', '.join('%s=%s' % kv for kv in sorted(m.dtypes.items())))
        groups.setdefault(key, []).append(m.name)
    parts = ['%s: %s%s' % (key, ', '.join(names[:2]), ' and %d more' % (len(names) - 2)
                           if len(names) > 2 else '')
             for key, names in list(groups.items())[:limit]]
    return '; '.join(parts)


PRETEND_GPU = 'static GPU check (no GPU is used)'


def check_report(graph, script=None):
    """The static check's verdict on ``graph`` as a JSON-ready dict."""
    graph_def = graph.as_graph_def()
    missing = ops_without_gpu_kernel(graph_def, skip_pinned_to_cpu=True)
    pinned = collections.Counter(n.op for n in graph_def.node if _pinned_to_cpu(n))
    return {'script': script, 'nodes': len(graph_def.node), 'pinned_to_cpu': dict(pinned),
            'host_functions': sorted(host_functions(graph_def)),
            'missing': [m._asdict() for m in missing], 'describe': describe(missing)}


def _install(report_path, script):
    """Pretend one GPU, and make the first ``Session.run`` write the check's verdict and end
    the process (os._exit: the worker threads of a distributed script would keep it alive).

    The check waits for the first run, not the session's creation, because course code
    often opens ``tf.InteractiveSession()`` before it builds the graph."""
    from tensorflow.python.client import session as session_lib

    from tfcourse import compat

    compat.gpu_names = lambda: [PRETEND_GPU]

    def checking_run(self, *args, **kwargs):
        report = check_report(self.graph, script)
        line = json.dumps(report) + '\n'
        if report_path:
            with open(report_path, 'a', encoding='utf-8') as f:
                f.write(line)
        else:
            sys.__stdout__.write(line)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1 if report['missing'] else 0)

    session_lib.BaseSession.run = checking_run


def main(argv=None):
    """``python -m tfcourse.gpu_check [--report FILE] SCRIPT [ARGS ...]``."""
    import argparse
    import runpy

    parser = argparse.ArgumentParser(
        prog='python -m tfcourse.gpu_check',
        description='Build a script\'s graph for a pretend GPU and check that every op has a '
                    'GPU kernel (nothing runs).')
    parser.add_argument('--report', default=None, metavar='FILE',
                        help='append the verdict (one JSON line) to FILE (default: stdout)')
    parser.add_argument('script')
    parser.add_argument('args', nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    path = os.path.abspath(opts.script)
    if not os.path.isfile(path):
        parser.exit(2, 'python -m tfcourse.gpu_check: no script %s\n' % opts.script)
    _install(opts.report, os.path.relpath(path))
    sys.argv = [path] + opts.args
    sys.path[0] = os.path.dirname(path)  # as `python SCRIPT` does: the script's folder first
    runpy.run_path(path, run_name='__main__')
    return 0  # the script ended without a Session.run: nothing was checked


if __name__ == '__main__':
    sys.exit(main())
