"""Static GPU check: every graph the project builds, placed on the GPU, has GPU kernels.

No machine here runs TensorFlow on a GPU, but TensorFlow's kernel registry
lists every GPU kernel and its dtypes on a CPU-only machine
(tfcourse/gpu_check.py).  An op without one would be moved to the CPU by soft
placement on a real GPU, silently, and the run would time host copies.

* The four benchmarks are built in-process on /gpu:0 for NHWC/NCHW x float32/
  float16/bfloat16, and with 2 towers (part of that cross product under -m slow).
* Every other script of the reproduce table (setup/scripts_table.py) is run under
  ``python -m tfcourse.gpu_check --report FILE SCRIPT ARGS``: it sees a pretend GPU,
  builds its graph for it, and its first Session.run writes the check's verdict and
  ends the process before anything runs.
* The SSDLite frozen graph is imported under /gpu:0.

Allowed: the ops of gpu_check.HOST_OPS and HOST_DTYPES, which TensorFlow runs
on the host on purpose (checkpoint I/O, summaries, int32 bookkeeping).
"""
import contextlib
import io
import json
import os
import socket
import sys

import pytest
import script_forks

from tfcourse import REPO_ROOT, benchmark, default_data_dir, gpu_check
from scripts_table import SCRIPTS

BENCHMARKS = [('alexnet/benchmark.py', []), ('vggnet/benchmark.py', []),
              ('googlenet/benchmark.py', []),
              # depth 50 has the op types of 152 (same bottleneck units, fewer of them)
              ('resnet/benchmark.py', ['--depth', '50'])]
# Every dtype in NCHW (the GPU layout), NHWC once, and 2 towers once run by default.  The
# kernel registry constrains dtypes, not layouts, so the rest of the cross product (marked
# slow, `pytest tests -m slow`) adds only the layout's transposes: a double check.
LAYOUTS = [('NCHW', dtype, 0) for dtype in ('float32', 'float16', 'bfloat16')]
LAYOUTS += [('NHWC', 'float32', 0), ('NCHW', 'float16', 2)]
LAYOUTS += [pytest.param(fmt, dtype, towers, marks=pytest.mark.slow)
            for fmt, dtype, towers in [('NHWC', 'float16', 0), ('NHWC', 'bfloat16', 0),
                                       ('NHWC', 'float32', 2)]]


# The blog's and the notes' networks: their own op types (LRN in GoogLeNet and A-LRN, the
# scaled residual sums of Inception-ResNet-v2, DenseNet's concatenations) in NCHW float16.
# Inception-ResNet-v2 (about a minute a layout here) and the other layouts under -m slow.
NETS = [('googlenet/benchmark.py', ['--model', 'inception_v1']),
        pytest.param('googlenet/benchmark.py', ['--model', 'inception_resnet_v2'],
                     marks=pytest.mark.slow),
        ('vggnet/benchmark.py', ['--depth', '11', '--lrn']),
        ('resnet/benchmark_densenet.py', [])]
NET_LAYOUTS = [('NCHW', 'float16', 0)]
NET_LAYOUTS += [pytest.param(fmt, dtype, towers, marks=pytest.mark.slow)
                for fmt, dtype, towers in [('NCHW', 'bfloat16', 0), ('NCHW', 'float32', 0),
                                           ('NHWC', 'float32', 0), ('NCHW', 'float16', 2)]]


def _values(param):
    """The values of a parametrize entry, plain or pytest.param."""
    return getattr(param, 'values', None) or param


def _ids(layouts):
    return ['%s-%s-%dtowers' % _values(layout) for layout in layouts]


@pytest.fixture(scope='module')
def benchmark_modules(load_script):
    paths = sorted({_values(entry)[0] for entry in BENCHMARKS + NETS})
    return {path: load_script(path, 'gpu_' + path.replace('/', '_')[:-3]) for path in paths}


@pytest.mark.parametrize('path, extra', BENCHMARKS, ids=[p.split('/')[0] for p, _ in BENCHMARKS])
@pytest.mark.parametrize('data_format, dtype, towers', LAYOUTS, ids=_ids(LAYOUTS))
def test_benchmark_graph_has_gpu_kernels(benchmark_modules, monkeypatch, path, extra,
                                         data_format, dtype, towers):
    check_benchmark_graph(benchmark_modules[path], monkeypatch, extra, data_format, dtype,
                          towers)


@pytest.mark.parametrize('path, extra', NETS, ids=[' '.join(_values(e)[1])
                                                   or _values(e)[0].split('/')[1][:-3]
                                                   for e in NETS])
@pytest.mark.parametrize('data_format, dtype, towers', NET_LAYOUTS, ids=_ids(NET_LAYOUTS))
def test_network_variants_have_gpu_kernels(benchmark_modules, monkeypatch, path, extra,
                                           data_format, dtype, towers):
    check_benchmark_graph(benchmark_modules[path], monkeypatch, extra, data_format, dtype,
                          towers)


def check_benchmark_graph(module, monkeypatch, extra, data_format, dtype, towers):
    """The script's benchmark graph built for a pretend GPU has a GPU kernel for every op."""
    monkeypatch.setattr(benchmark, 'gpu_names', lambda: [gpu_check.PRETEND_GPU] * 2)
    with contextlib.redirect_stdout(io.StringIO()):
        net = benchmark.build_only(module.run_benchmark, [
            '--device', 'gpu', '--batch_size', '1', '--data_format', data_format, '--dtype',
            dtype, '--num_gpus', str(towers), '--json', ''] + extra)
    graph = net.loss.graph
    on_gpu = [op for op in graph.get_operations() if 'GPU' in op.device.upper()]
    assert len(on_gpu) > 50  # the model itself is on the GPU; the variables of towers on the CPU
    missing = gpu_check.ops_without_gpu_kernel(graph, skip_pinned_to_cpu=True)
    assert not missing, 'no GPU kernel: ' + gpu_check.describe(missing)


def check_script(path, *args, report, timeout=600):
    """``python -m tfcourse.gpu_check --report REPORT path args`` from the repository root;
    returns (the CompletedProcess, the first verdict in REPORT or None)."""
    cmd = [sys.executable, '-m', 'tfcourse.gpu_check', '--report', str(report),
           os.path.join(REPO_ROOT, path)] + [str(a) for a in args]
    proc = script_forks.run_or_spawn(cmd, REPO_ROOT, dict(os.environ, PYTHONUNBUFFERED='1',
                                                          MPLBACKEND='Agg'), timeout)
    first = (json.loads(report.read_text().splitlines()[0]) if os.path.exists(str(report))
             else None)
    return proc, first


def _graph_scripts():
    found = []
    for script in SCRIPTS:
        if script.gpu_check is not None and script.gpu_check != []:
            found.append((script.name, script.path, script.gpu_check, script.data['quick']))
    for config in ('medium', 'large', 'test'):  # the PTB configs beside the table's small one
        found.append(('ptb_' + config, 'lstm_ptb/train.py',
                      ['--data_dir', '{data}/ptb', '--model', config], ['ptb']))
    found.append(('ptb_medium_block', 'lstm_ptb/train.py',
                  ['--data_dir', '{data}/ptb', '--model', 'medium', '--rnn_mode', 'block'],
                  ['ptb']))
    for mode, dtype in (('basic', 'bfloat16'), ('block', 'float16')):  # --dtype
        found.append(('ptb_small_%s_%s' % (mode, dtype), 'lstm_ptb/train.py',
                      ['--data_dir', '{data}/ptb', '--model', 'small', '--rnn_mode', mode,
                       '--dtype', dtype], ['ptb']))
    return found


GRAPH_SCRIPTS = _graph_scripts()


@pytest.mark.parametrize('name, path, args, data', GRAPH_SCRIPTS,
                         ids=[g[0] for g in GRAPH_SCRIPTS])
def test_script_graph_has_gpu_kernels(fetch, tmp_path, name, path, args, data):
    for dataset in data:
        fetch(dataset)
    report = tmp_path / 'gpu_check.jsonl'
    argv = [a.format(data=default_data_dir(), run=str(tmp_path), device='gpu') for a in args]
    proc, first = check_script(path, *argv, '--json', tmp_path / 'r.json', report=report)
    assert first is not None, '%s opened no tf.Session: %s %s' % (path, proc.stdout[-1000:],
                                                                 proc.stderr[-2000:])
    assert first['nodes'] > 10
    assert not first['missing'], '%s: no GPU kernel: %s' % (path, first['describe'])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not (tmp_path / 'r.json').exists()  # nothing ran


@pytest.mark.parametrize('app, generate_args', [
    ('captcha', ['--train_size', '64', '--test_size', '8', '--samples', '0']),
    ('chinese_characters', ['--num_classes', '10', '--per_font', '2', '--test_per_class', '1',
                            '--samples', '0']),
])
def test_font_apps_graphs_have_gpu_kernels(run_script, fetch, tmp_path, app, generate_args):
    """The two font apps train on sets they generate: a tiny set first, then the check."""
    fetch('cjk_fonts')
    data = tmp_path / 'data'
    run_script('apps/%s/generate.py' % app, *generate_args, '--data_dir', data)
    report = tmp_path / 'gpu_check.jsonl'
    proc, first = check_script('apps/%s/train.py' % app, '--data_dir', data, '--validation', '8',
                               '--steps', '1', '--batch_size', '8',
                               '--checkpoint_dir', tmp_path / 'ck', '--json', '', '--plot', '',
                               report=report)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert first['nodes'] > 10
    assert not first['missing'], 'no GPU kernel: ' + first['describe']


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.parametrize('mode', [[], ['--sync']], ids=['async', 'sync'])
def test_distributed_worker_graph_has_gpu_kernels(run_script, fetch, tmp_path, mode):
    """The chief worker of mnist_cnn/train_distributed.py, async and sync (the rows
    mnist_distributed and mnist_distributed_sync); a listening socket stands in for the ps
    (the worker only checks that it answers before it builds the graph)."""
    report = tmp_path / 'gpu_check.jsonl'
    with socket.socket() as ps:
        ps.bind(('127.0.0.1', 0))
        ps.listen(4)
        proc, first = check_script(
            'mnist_cnn/train_distributed.py', '--job_name', 'worker', '--task_index', '0',
            '--ps_hosts', '127.0.0.1:%d' % ps.getsockname()[1],
            '--worker_hosts', '127.0.0.1:%d' % _free_port(), '--data_dir', fetch('mnist5k'),
            '--steps', '1', '--checkpoint_dir', tmp_path / 'ckpt', '--json', tmp_path / 'r.json',
            '--max_wait_secs', '20', *mode, report=report, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert first['nodes'] > 10
    assert not first['missing'], 'no GPU kernel: ' + first['describe']


def test_ssdlite_frozen_graph_imported_on_the_gpu(fetch):
    from tfcourse.compat import tf

    graph_def = tf.GraphDef()
    with open(os.path.join(fetch('ssdlite'), 'frozen_inference_graph.pb'), 'rb') as f:
        graph_def.ParseFromString(f.read())
    with tf.Graph().as_default() as graph, tf.device('/gpu:0'):
        tf.import_graph_def(graph_def, name='')
    assert len(graph.get_operations()) > 1000
    missing = gpu_check.ops_without_gpu_kernel(graph)
    assert not missing, 'no GPU kernel: ' + gpu_check.describe(missing)


def test_the_check_finds_float16_lrn_and_int32_variables():
    """What the check exists for: LRN's GPU kernel is float32 only; an int32 variable has
    no GPU kernel; the same graph in float32 passes."""
    from tfcourse.compat import tf

    with tf.Graph().as_default() as graph, tf.device('/gpu:0'):
        x = tf.zeros([1, 8, 8, 4], tf.float16)
        y = tf.nn.lrn(x, name='lrn16')
        tf.gradients(tf.reduce_sum(y), x)
        tf.Variable(0, name='step_int32')
        with tf.device('/cpu:0'):
            tf.Variable(0, name='step_on_cpu_on_purpose')
    missing = gpu_check.ops_without_gpu_kernel(graph, skip_pinned_to_cpu=True)
    types = {(m.type, m.dtypes.get('T') or m.dtypes.get('dtype')) for m in missing}
    assert {('LRN', 'float16'), ('LRNGrad', 'float16'), ('VariableV2', 'int32')} <= types
    assert not [m for m in missing if 'on_purpose' in m.name]
    line = gpu_check.describe(missing)
    assert 'LRN(T=float16): lrn16' in line and '\n' not in line

    with tf.Graph().as_default() as graph, tf.device('/gpu:0'):
        x = tf.zeros([1, 8, 8, 4], tf.float32)
        tf.gradients(tf.reduce_sum(tf.nn.lrn(x)), x)
    assert gpu_check.ops_without_gpu_kernel(graph) == []


def test_gpu_check_runner_names_ops_without_a_gpu_kernel(tmp_path):
    """``python -m tfcourse.gpu_check`` exits 1 and names the op when the script's graph has
    one with no GPU kernel (tf.random_shuffle has none), 0 on a clean graph; nothing runs."""
    script = tmp_path / 'course.py'
    script.write_text(
        "import sys\n"
        "from tfcourse.compat import tf, gpu_names\n"
        "x = tf.placeholder(tf.float32, [None, 3], name='x')\n"
        "with tf.device('/gpu:0' if gpu_names() else '/cpu:0'):\n"
        "    y = tf.matmul(x, tf.ones([3, 2]))\n"
        "    if sys.argv[1:] == ['shuffle']:\n"
        "        y = tf.random_shuffle(y, name='shuffled')\n"
        "with tf.Session() as sess:\n"
        "    sess.run(y, feed_dict={x: [[1.0, 2.0, 3.0]]})\n"
        "open(sys.argv[0] + '.ran', 'w').close()\n")
    proc, first = check_script(str(script), 'shuffle', report=tmp_path / 'bad.jsonl')
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert [m['name'] for m in first['missing']] == ['shuffled']
    assert 'RandomShuffle' in first['describe']
    proc, first = check_script(str(script), report=tmp_path / 'good.jsonl')
    assert proc.returncode == 0 and first['missing'] == [] and first['nodes'] >= 3
    assert not os.path.exists(str(script) + '.ran')  # the first Session.run ended the process


# ---------------------------------------------------------------- input pipelines
def _pipeline(mode, pinned):
    """The train scripts' --input queue or dataset batch, built on /cpu:0 as they build it
    (``pinned``) or, as a script must not, with no device; and an op of the model on it."""
    from tfcourse import pipeline, tfrecords
    from tfcourse.compat import tf

    manifest = {'image_shape': [4, 4, 1], 'label_shape': [], 'dataset': 'mnist5k', 'fix': '',
                'splits': {'train': {'count': 8, 'files': [{'path': '/nowhere/a.tfrecord'}]}}}
    with tf.Graph().as_default() as graph:
        if pinned:
            images, _ = pipeline.batch_tensors(mode, manifest, 2, 0,
                                               augment=pipeline.augmentation((4, 4, 1), 1, True))
        else:
            make = {'queue': pipeline._queue_batch, 'dataset': pipeline._dataset_batch}[mode]
            images, _ = make(['/nowhere/a.tfrecord'],
                             lambda s: tfrecords.parse(s, (4, 4, 1)), 2, 8, 0, None)
        tf.reduce_sum(tf.cast(images, tf.float32), name='model')
    return graph


@pytest.mark.parametrize('mode, host_ops', [
    ('queue', {'RandomShuffleQueueV2', 'ReaderReadV2', 'ParseExampleV2', 'DecodeRaw'}),
    # the parsing runs in the map function's body, the file reading in the interleave's
    ('dataset', {'TFRecordDataset', 'ParseExampleV2', 'DecodeRaw', 'OneShotIterator'}),
])
def test_the_check_accepts_input_ops_only_on_the_cpu(mode, host_ops):
    """Readers, queues, tf.data and the parsing in a dataset's functions have no GPU kernels:
    built on /cpu:0 (as tfcourse/pipeline.py builds them) the check skips them, and the
    bodies of the functions only they call; built anywhere else it names them."""
    graph = _pipeline(mode, pinned=True)
    assert gpu_check.ops_without_gpu_kernel(graph, skip_pinned_to_cpu=True) == []
    graph_def = graph.as_graph_def()
    assert [n.name for n in graph_def.node if 'CPU' not in n.device and n.op != 'Const'] == [
        'Cast', 'model']  # only the model's ops are left for the GPU
    if mode == 'dataset':
        assert gpu_check.host_functions(graph_def) == {
            f.signature.name for f in graph_def.library.function}
    missing = gpu_check.ops_without_gpu_kernel(_pipeline(mode, pinned=False),
                                               skip_pinned_to_cpu=True)
    assert host_ops <= {m.type for m in missing}, gpu_check.describe(missing)


@pytest.mark.parametrize('script, args', [
    ('mnist_cnn/lenet5.py', ['--dataset', 'mnist5k', '--input', 'queue', '--augment', 'on']),
    ('mnist_cnn/train.py', ['--input', 'dataset']),
], ids=['lenet5-queue', 'mnist_cnn-dataset'])
def test_input_pipelines_of_the_train_scripts_on_the_cpu(mnist5k_records, tmp_path, script,
                                                        args):
    """A train script's whole graph with --input queue or dataset, built for a GPU: the
    input ops pinned to the CPU, every other op with a GPU kernel."""
    report = tmp_path / 'gpu_check.jsonl'
    proc, first = check_script(script, '--data_dir', mnist5k_records, '--steps', 1,
                               '--checkpoint_dir', tmp_path / 'c', '--json', tmp_path / 'r.json',
                               *args, report=report)
    assert first is not None and proc.returncode == 0, proc.stderr[-2000:]
    assert not first['missing'], first['describe']
    pinned = set(first['pinned_to_cpu'])
    if 'queue' in args:  # lenet5: images and labels are the pipeline's, on the CPU too
        assert {'RandomShuffleQueueV2', 'QueueDequeueManyV2', 'ReaderReadV2',
                'PlaceholderWithDefault'} <= pinned
    else:  # mnist_cnn/train.py: x and y_ are its own placeholders with defaults
        assert 'IteratorGetNext' in pinned and first['host_functions']
    assert not (tmp_path / 'r.json').exists()
