"""CNN timing benchmarks (alexnet/, vggnet/, googlenet/, resnet/ benchmark.py) on the CPU.

Each script is run once as a user would (batch 1-2, 2 timed batches, 1 warm-up)
and its printed layer shapes, parameter count, FLOPs, timing lines and JSON
are checked against the known architecture.  No timing targets.
"""
import json
import os
import re
import types

import pytest

from tfcourse import REPO_ROOT, benchmark
from tfcourse.machine import record_machine

STEP_RE = re.compile(r'^\S+ \S+: step (\d+), duration = (\d+\.\d{3})$', re.M)
ACROSS_RE = re.compile(r'^\S+ \S+: (Forward|Forward-backward) across (\d+) steps, '
                       r'(\d+\.\d{3}) \+/- (\d+\.\d{3}) sec / batch$', re.M)
RATE_RE = re.compile(r'^\S+ \S+: (Forward|Forward-backward): (\d+\.\d) images/sec$', re.M)
SHAPE_RE = re.compile(r'^(\S+)\s+\[([\d, ]+)\]$', re.M)

QUICK = ['--device', 'cpu', '--num_batches', '2', '--num_warmup', '1']


def shapes(stdout):
    """{layer op name: shape} from the print_activations lines."""
    return {m.group(1): [int(d) for d in m.group(2).split(',')]
            for m in SHAPE_RE.finditer(stdout)}


def shape_of(stdout, suffix):
    found = [s for name, s in shapes(stdout).items() if name.endswith(suffix)]
    assert len(found) == 1, (suffix, found)
    return found[0]


def check_timing(stdout, num_batches, passes=('Forward', 'Forward-backward')):
    across = ACROSS_RE.findall(stdout)
    assert [a[0] for a in across] == list(passes), stdout[-2000:]
    for info, steps, mean, sd in across:
        assert int(steps) == num_batches
    assert [r[0] for r in RATE_RE.findall(stdout)] == list(passes)
    # one 'step 0' line per pass (a line every 10 timed steps)
    assert [int(s) for s, _ in STEP_RE.findall(stdout)] == [0] * len(passes)


def check_record(record, model, batch_size, parameters, forward_only=False):
    for key in ('model', 'batch_size', 'device', 'tf_version', 'parameters', 'flops_per_image',
                'forward', 'forward_backward', 'num_batches', 'data_format', 'num_towers'):
        assert key in record, key
    assert record['model'] == model
    assert record['batch_size'] == batch_size
    assert record['device'] == 'cpu'
    assert record['parameters'] == parameters
    passes = ['forward'] if forward_only else ['forward', 'forward_backward']
    for key in passes:
        timing = record[key]
        assert timing['mean_sec_per_batch'] > 0 and timing['sd_sec_per_batch'] >= 0
        assert timing['images_per_sec'] == pytest.approx(batch_size / timing['mean_sec_per_batch'])
        # the efficiency line: forward FLOPs x images/s (x3 for forward-backward)
        factor = 3 if key == 'forward_backward' else 1
        assert timing['gflops_per_sec'] == pytest.approx(
            factor * record['flops_per_image'] * timing['images_per_sec'] / 1e9)
        assert timing['percent_of_peak'] is None  # no peak is known for a CPU
    if forward_only:
        assert record['forward_backward'] is None
    else:
        assert record['backward_forward_ratio'] > 0
    assert record['cpu_model'] and record['cpu_count'] >= 1
    assert isinstance(record['vector_units'], list)  # AVX2 or AVX-512 VMs share a model name
    assert len(record['load_average_before']) == 3 and len(record['load_average_after']) == 3
    assert record['dtype'] == 'float32' and record['memory_estimate_bytes'] > 0


def run_benchmark_script(run_script, tmp_path_factory, relpath, *args):
    out = tmp_path_factory.mktemp('bench') / 'result.json'
    proc = run_script(relpath, *(QUICK + list(args) + ['--json', str(out)]))
    with open(out) as f:
        record = json.load(f)
    return types.SimpleNamespace(stdout=proc.stdout, record=record)


@pytest.fixture(scope='module')
def alexnet_run(run_script, tmp_path_factory):
    return run_benchmark_script(run_script, tmp_path_factory, 'alexnet/benchmark.py',
                                '--batch_size', '2')


@pytest.fixture(scope='module')
def vgg_run(run_script, tmp_path_factory):
    return run_benchmark_script(run_script, tmp_path_factory, 'vggnet/benchmark.py',
                                '--batch_size', '1')


@pytest.fixture(scope='module')
def inception_run(run_script, tmp_path_factory):
    return run_benchmark_script(run_script, tmp_path_factory, 'googlenet/benchmark.py',
                                '--batch_size', '1')


@pytest.fixture(scope='module')
def resnet_run(run_script, tmp_path_factory):
    return run_benchmark_script(run_script, tmp_path_factory, 'resnet/benchmark.py',
                                '--depth', '50', '--batch_size', '1', '--forward_only')


# ---------------------------------------------------------------- AlexNet

def test_alexnet_layer_shapes(alexnet_run):
    out = alexnet_run.stdout
    assert shape_of(out, 'conv1') == [2, 56, 56, 64]
    assert shape_of(out, 'pool1') == [2, 27, 27, 64]
    assert shape_of(out, 'pool2') == [2, 13, 13, 192]
    assert shape_of(out, 'conv5') == [2, 13, 13, 256]
    assert shape_of(out, 'pool5') == [2, 6, 6, 256]


def test_alexnet_timing_and_json(alexnet_run):
    check_timing(alexnet_run.stdout, 2)
    # conv1..conv5 of the book: 11x11x3x64, 5x5x64x192, 3x3x192x384, 3x3x384x256, 3x3x256x256
    check_record(alexnet_run.record, 'AlexNet', 2, 2469696)
    # multiply-adds: conv1 56*56*64*363, conv2 27*27*192*1600, conv3 13*13*384*1728,
    # conv4 13*13*256*3456, conv5 13*13*256*2304
    macs = (56 * 56 * 64 * 363 + 27 * 27 * 192 * 1600 + 13 * 13 * 384 * 1728
            + 13 * 13 * 256 * 3456 + 13 * 13 * 256 * 2304)
    assert alexnet_run.record['flops_per_image'] == 2 * macs


def test_alexnet_nchw_builds_the_same_network(run_script):
    """NCHW gives channels-first shapes; on a CPU without NCHW kernels it is a clear error."""
    proc = run_script('alexnet/benchmark.py', '--device', 'cpu', '--batch_size', '1',
                      '--num_batches', '1', '--num_warmup', '0', '--forward_only',
                      '--data_format', 'NCHW', check=False)
    assert shape_of(proc.stdout, 'pool5') == [1, 256, 6, 6]
    if proc.returncode != 0:  # TensorFlow builds without oneDNN have no NCHW pooling on CPU
        assert proc.returncode == 2
        assert 'use --data_format NHWC' in proc.stderr
        assert 'Traceback' not in proc.stderr


# ---------------------------------------------------------------- VGG-16

def test_vgg_layer_shapes(vgg_run):
    out = vgg_run.stdout
    assert shape_of(out, 'conv1_1/relu') == [1, 224, 224, 64]
    assert shape_of(out, 'pool1') == [1, 112, 112, 64]
    assert shape_of(out, 'pool3') == [1, 28, 28, 256]
    assert shape_of(out, 'pool5') == [1, 7, 7, 512]
    assert shape_of(out, 'fc6/relu') == [1, 4096]
    assert shape_of(out, 'fc8/relu') == [1, 1000]
    convs = [n for n in shapes(out) if re.match(r'conv\d_\d/relu$', n)]
    assert len(convs) == 13


def test_vgg_timing_and_json(vgg_run):
    check_timing(vgg_run.stdout, 2)
    check_record(vgg_run.record, 'VGG-16', 1, 138357544)
    assert vgg_run.record['flops_per_image'] == pytest.approx(30.94e9, rel=0.002)


# ---------------------------------------------------------------- Inception-V3

def test_inception_layer_shapes(inception_run):
    out = inception_run.stdout
    assert shape_of(out, 'Conv2d_1a_3x3/Relu') == [1, 149, 149, 32]
    assert shape_of(out, 'MaxPool_5a_3x3/MaxPool') == [1, 35, 35, 192]
    assert shape_of(out, 'Mixed_5b/concat') == [1, 35, 35, 256]
    assert shape_of(out, 'Mixed_6e/concat') == [1, 17, 17, 768]
    assert shape_of(out, 'Mixed_7c/concat') == [1, 8, 8, 2048]
    assert shape_of(out, 'AuxLogits/SpatialSqueeze') == [1, 1000]
    assert shape_of(out, 'InceptionV3/Logits/SpatialSqueeze') == [1, 1000]


def test_inception_timing_and_json(inception_run):
    check_timing(inception_run.stdout, 2)
    check_record(inception_run.record, 'Inception-V3', 1, 27143152)
    assert inception_run.record['flops_per_image'] == pytest.approx(11.44e9, rel=0.01)


# ---------------------------------------------------------------- ResNet-V2

def units_per_block(stdout, depth):
    units = {}
    for name in shapes(stdout):
        m = re.search(r'resnet_v2_%d/block(\d)/unit_(\d+)/bottleneck_v2/add$' % depth, name)
        if m:
            units[int(m.group(1))] = max(units.get(int(m.group(1)), 0), int(m.group(2)))
    return units


def test_resnet152_units_shapes_parameters_flops(load_script, capsys):
    """Build-only (no session: a 152-layer graph is slow to initialise on 2 cores)."""
    from tfcourse.compat import tf

    resnet = load_script('resnet/benchmark.py', 'resnet_benchmark_152')
    with tf.Graph().as_default():
        logits = resnet.inference(tf.zeros([1, 224, 224, 3]), False, depth=152)
        assert logits.get_shape().as_list() == [1, 1000]
        assert benchmark.count_parameters(tf.trainable_variables()) == 60236904
        flops = benchmark.count_flops(benchmark.forward_ops(logits), 1)
        assert flops == pytest.approx(21.81e9, rel=0.01)
    out = capsys.readouterr().out
    assert units_per_block(out, 152) == {1: 3, 2: 8, 3: 36, 4: 3}
    assert shape_of(out, 'resnet_v2_152/conv1/BiasAdd') == [1, 112, 112, 64]
    assert shape_of(out, 'block1/unit_3/bottleneck_v2/add') == [1, 28, 28, 256]
    assert shape_of(out, 'block3/unit_36/bottleneck_v2/add') == [1, 7, 7, 1024]
    assert shape_of(out, 'block4/unit_3/bottleneck_v2/add') == [1, 7, 7, 2048]
    assert shape_of(out, 'resnet_v2_152/logits/BiasAdd') == [1, 1, 1, 1000]


def test_resnet50_script_units_timing_and_json(resnet_run):
    assert units_per_block(resnet_run.stdout, 50) == {1: 3, 2: 4, 3: 6, 4: 3}
    check_timing(resnet_run.stdout, 2, passes=('Forward',))
    check_record(resnet_run.record, 'ResNet-V2-50', 1, 25568360, forward_only=True)


def _trainable_shapes(build):
    from tfcourse.compat import tf

    with tf.Graph().as_default():
        build()
        return sorted((v.op.name.split('/', 1)[1], tuple(v.get_shape().as_list()))
                      for v in tf.trainable_variables())


def test_written_out_models_match_tf_slim_nets(load_script, capsys):
    """The Inception-V3 and ResNet-V2-50 written in the scripts have exactly
    the variables (names and shapes) of tf_slim's reference nets."""
    from tfcourse.compat import tf, slim
    from tf_slim.nets import inception_v3, resnet_v2

    googlenet = load_script('googlenet/benchmark.py', 'googlenet_benchmark')
    resnet = load_script('resnet/benchmark.py', 'resnet_benchmark')

    def ours_inception():
        googlenet.inference(tf.zeros([1, 299, 299, 3]), False)

    def slim_inception():
        with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
            inception_v3.inception_v3(tf.zeros([1, 299, 299, 3]), num_classes=1000,
                                      is_training=False)

    assert _trainable_shapes(ours_inception) == _trainable_shapes(slim_inception)

    def ours_resnet():
        resnet.inference(tf.zeros([1, 224, 224, 3]), False, depth=50)

    def slim_resnet():
        with slim.arg_scope(resnet_v2.resnet_arg_scope()):
            resnet_v2.resnet_v2_50(tf.zeros([1, 224, 224, 3]), num_classes=1000,
                                   is_training=False)

    assert _trainable_shapes(ours_resnet) == _trainable_shapes(slim_resnet)


def test_resnet_depths_have_the_known_parameter_counts(load_script):
    """Build-only check of --depth 101 and of NCHW (depth 50) without running a session."""
    from tfcourse.compat import tf

    resnet = load_script('resnet/benchmark.py', 'resnet_benchmark_depths')
    expected = {50: 25568360, 101: 44577896}  # 200: 64726120; 50 is run by the script test
    with tf.Graph().as_default():
        resnet.inference(tf.zeros([1, 224, 224, 3]), False, depth=101)
        assert benchmark.count_parameters(tf.trainable_variables()) == expected[101]
    with tf.Graph().as_default():
        logits = resnet.inference(tf.zeros([1, 3, 224, 224]), False, depth=50,
                                  data_format='NCHW')
        assert logits.get_shape().as_list() == [1, 1000]
        assert benchmark.count_parameters(tf.trainable_variables()) == expected[50]


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize('args, message', [
    (['--batch_size', '0'], '--batch_size must be a positive integer'),
    (['--num_batches', '-3'], '--num_batches must be a positive integer'),
    (['--num_warmup', '-1'], '--num_warmup must be 0 or more'),
    (['--num_gpus', '-1'], '--num_gpus must be 0 or more'),
])
def test_bad_flags_give_one_line_errors(run_script, args, message):
    proc = run_script('alexnet/benchmark.py', '--device', 'cpu', *args, check=False)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert 'Traceback' not in proc.stderr


def _has_gpu():
    from tfcourse.compat import gpu_names

    return bool(gpu_names())


@pytest.mark.skipif(_has_gpu(), reason='this machine has a GPU')
@pytest.mark.parametrize('script', ['alexnet/benchmark.py'])
def test_gpu_without_gpu_is_a_clear_error(run_script, script):
    proc = run_script(script, '--device', 'gpu', check=False)
    assert proc.returncode == 2
    assert 'TensorFlow sees no GPU' in proc.stderr and '--device cpu' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_unknown_resnet_depth_is_rejected(run_script):
    proc = run_script('resnet/benchmark.py', '--depth', '34', check=False)
    assert proc.returncode == 2
    assert 'invalid choice' in proc.stderr


def _net(forward):
    return benchmark.Net(forward, forward, None, None, forward, [], [], 1, None, None, 1)


def test_kernel_errors_with_nchw_become_user_errors(tmp_path):
    """A missing kernel under --data_format NCHW (CPU builds without oneDNN) is a UserError."""
    from tfcourse import cli
    from tfcourse.compat import tf

    for data_format, error in (('NCHW', cli.UserError),
                               ('NHWC', tf.errors.InvalidArgumentError)):  # a real bug: traceback
        bench = benchmark.Benchmark('test', 'test', 8, [
            '--device', 'cpu', '--forward_only', '--json', '', '--data_format', data_format])
        with tf.Graph().as_default():
            failing = tf.debugging.check_numerics(tf.constant(float('nan')), 'no kernel')
            with pytest.raises(error) as info:
                with bench.session(_net(failing)) as sess:
                    sess.run(failing)
        if error is cli.UserError:
            assert 'use --data_format NHWC' in str(info.value)


def test_out_of_memory_names_the_fix(load_script, capsys, monkeypatch):
    """ResourceExhaustedError during the timing (GPU memory) -> one line, exit 2, naming the fix.

    It is handled in one place, tfcourse.cli.run, for every script."""
    from tfcourse import cli
    from tfcourse.compat import tf

    alexnet = load_script('alexnet/benchmark.py', 'alexnet_benchmark_oom')

    def out_of_memory(*args, **kwargs):
        raise tf.errors.ResourceExhaustedError(None, None, 'OOM when allocating tensor with '
                                               'shape[512,64,112,112]\nmore detail')

    monkeypatch.setattr(alexnet, 'time_tensorflow_run', out_of_memory)
    with pytest.raises(SystemExit) as info:
        cli.run(alexnet.run_benchmark, ['--device', 'cpu', '--batch_size', '1', '--forward_only',
                                        '--json', ''])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert 'out of memory (OOM when allocating' in err and 'try a smaller --batch_size' in err
    assert '\n' not in err


# ---------------------------------------------------------------- recorded results and chart

def test_recorded_results_are_complete():
    folder = os.path.join(REPO_ROOT, 'results', 'benchmarks')
    models, machines = set(), set()
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as f:
            record = json.load(f)
        assert record['batch_size'] == 32 and record['device'] == 'cpu'
        for key in ('forward', 'forward_backward'):
            assert record[key]['mean_sec_per_batch'] > 0
        models.add(record['model'])
        machines.add(record_machine(record))
    # the report's four and the blog's and the notes' eight: every net the chart orders
    assert models == {'AlexNet', 'VGG-16', 'Inception-V3', 'ResNet-V2-152', 'VGG-11',
                      'VGG-11-LRN', 'VGG-13', 'VGG-16-C', 'VGG-19', 'Inception-V1',
                      'Inception-ResNet-V2', 'DenseNet-121'}
    assert len(machines) == 1, machines  # one chart, one GFLOP/s comparison: one machine


def test_plot_script_draws_the_chart(run_script, alexnet_run, tmp_path):
    results = tmp_path / 'results'
    results.mkdir()
    (results / 'alexnet.json').write_text(json.dumps(alexnet_run.record))
    forward_only = dict(alexnet_run.record, model='Inception-V3', forward_backward=None)
    (results / 'inception.json').write_text(json.dumps(forward_only))
    out = tmp_path / 'chart.png'
    proc = run_script('images/plot_benchmarks.py', '--results_dir', results, '--plot', out)
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert re.search(r'AlexNet\s+cpu\s+batch 2\s+forward\s+[\d.]+ s/batch', proc.stdout)
    assert 'Inception-V3' in proc.stdout and 'forward-backward not reported' in proc.stdout

    empty = tmp_path / 'empty'
    empty.mkdir()
    proc = run_script('images/plot_benchmarks.py', '--results_dir', empty, '--plot', out,
                      check=False)
    assert proc.returncode == 2 and 'no benchmark JSON files' in proc.stderr


# ---------------------------------------------------------------- side by side with tf-slim

def test_compare_times_a_script_against_tf_slim(run_script, tmp_path):
    """setup/compare_benchmarks.py: the script's network and tf-slim's, each pass timed in
    turn (ABBA), the same parameter count, the ratios in the record and graded by the table."""
    import reproduce
    from scripts_table import by_name

    out = tmp_path / 'peers.json'
    proc = run_script('setup/compare_benchmarks.py', '--nets', 'alexnet', '--batch_size', '1',
                      '--num_batches', '1', '--num_warmup', '1', '--rounds', '1', '--json', out)
    for side in ('ours', 'tf_slim'):
        assert proc.stdout.count('alexnet forward (%s) across 1 steps' % side) == 2
        assert proc.stdout.count('alexnet forward-backward (%s) across 1 steps' % side) == 2
    record = json.loads(out.read_text())
    pair = record['nets']['alexnet']
    assert pair['parameters'] == {'ours': 2469696, 'tf_slim': 2469696}
    for key in ('forward', 'forward_backward'):
        assert len(pair[key]['each']['ours']) == len(pair[key]['each']['tf_slim']) == 2
        assert pair[key]['ours_over_faster'] >= 1.0
        assert pair[key]['in_step'] == (pair[key]['ours_over_faster'] <= 1.05)
    row = by_name()['benchmark_peers']
    alexnet_forward = row.figures[0]
    # one timed batch is too few to grade; ten are graded against the 5 % bound
    assert reproduce.grade(row, alexnet_forward, record, {})[0] == 'recorded'
    for ratio, verdict in ((1.04, 'match'), (1.08, 'below')):
        record['num_batches'] = 10
        pair['forward']['ours_over_faster'] = ratio
        assert reproduce.grade(row, alexnet_forward, record, {})[0] == verdict


def test_compare_times_enough_batches_of_a_fast_pass():
    """--min_seconds: a pass of 0.02 s gets enough batches for 0.2 s at the slower build's
    speed, the same number on both sides; a slow pass keeps --num_batches."""
    import argparse
    import time

    import compare_benchmarks

    class Sleeper:
        def __init__(self, seconds):
            self.seconds = seconds

        def run(self, target, feed_dict=None):
            time.sleep(self.seconds)

    sides = {'ours': (Sleeper(0.01), 'f', 'b', None, None),
             'tf_slim': (Sleeper(0.02), 'f', 'b', None, None)}
    args = argparse.Namespace(num_batches=3, min_seconds=0.2)
    assert 7 <= compare_benchmarks.batches_to_time(sides, 'forward', args) <= 10
    args.min_seconds = 0.0
    assert compare_benchmarks.batches_to_time(sides, 'forward', args) == 3
    args.min_seconds = 0.01
    assert compare_benchmarks.batches_to_time(sides, 'forward_backward', args) == 3
