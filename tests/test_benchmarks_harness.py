"""tfcourse/benchmark.py: compute dtypes, the memory estimate, the placement check, efficiency.

Build-only or batch-1 runs on the CPU; no timing targets.
"""
import argparse
import json

import numpy as np
import pytest

from tfcourse import benchmark, cli


def parse(module, *argv):
    """The checked flags of a benchmark script."""
    return benchmark.Benchmark('test', 'test', 8, list(argv) + ['--json', ''],
                               add_flags=getattr(module, 'add_depth_flag', None)).args


def build(module, *argv):
    """The Net a benchmark script's run_benchmark() builds (nothing runs); its graph is
    net.loss.graph."""
    return benchmark.build_only(module.run_benchmark, list(argv) + ['--json', ''])


@pytest.fixture(scope='module')
def alexnet(load_script):
    return load_script('alexnet/benchmark.py', 'alexnet_harness')


# ---------------------------------------------------------------- mixed precision

def test_custom_getter_keeps_float32_variables_and_gradients(alexnet, capsys):
    from tfcourse.compat import tf

    for dtype in ('float16', 'bfloat16'):
        net = build(alexnet, '--device', 'cpu', '--batch_size', '1', '--dtype', dtype)
        with net.loss.graph.as_default():
            assert len(net.parameters) == 10
            assert {v.dtype.base_dtype for v in net.parameters} == {tf.float32}
            assert {g.dtype.base_dtype for g, _ in net.grads_and_vars} == {tf.float32}
            assert net.loss.dtype == tf.float32
            convs = [op for op in tf.get_default_graph().get_operations() if op.type == 'Conv2D']
            assert convs and {op.outputs[0].dtype for op in convs} == {tf.as_dtype(dtype)}
            # LRN has no fast kernel in 16 bits: it runs in float32 between casts
            lrns = [op for op in tf.get_default_graph().get_operations() if op.type == 'LRN']
            assert len(lrns) == 2 and {op.outputs[0].dtype for op in lrns} == {tf.float32}


def _forward_outputs(module, dtype, values=None):
    """pool5 of a batch-2 run in ``dtype``; the weights and images of ``values`` if given."""
    from tfcourse.compat import tf, session_config

    net = build(module, '--device', 'cpu', '--batch_size', '2', '--dtype', dtype, '--seed', '3')
    with net.loss.graph.as_default():
        variables = tf.global_variables()
        with tf.Session(config=session_config()) as sess:
            sess.run(tf.global_variables_initializer())
            if values is None:
                values = {v.op.name: sess.run(v) for v in variables}
            else:
                for v in variables:
                    v.load(values[v.op.name].astype(v.dtype.base_dtype.as_numpy_dtype), sess)
            out = sess.run(tf.cast(net.forward, tf.float32))
    return values, out


def test_bfloat16_forward_agrees_with_float32(alexnet, capsys):
    values, reference = _forward_outputs(alexnet, 'float32')
    _, bf16 = _forward_outputs(alexnet, 'bfloat16', values)
    assert bf16.shape == reference.shape == (2, 6, 6, 256)
    # bfloat16 keeps 8 bits of mantissa: about 2-3 significant digits after 5 conv layers
    scale = np.abs(reference).max()
    assert np.abs(bf16 - reference).max() <= 0.05 * scale
    assert np.corrcoef(bf16.ravel(), reference.ravel())[0, 1] > 0.999


def test_unknown_dtype_and_the_fp16_alias(run_script, alexnet):
    proc = run_script('alexnet/benchmark.py', '--dtype', 'int8', check=False)
    assert proc.returncode == 2 and "invalid choice: 'int8'" in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert parse(alexnet, '--device', 'cpu', '--fp16').dtype == 'float16'


def test_bfloat16_run_names_its_scheme(run_script, tmp_path):
    out = tmp_path / 'bf16.json'
    proc = run_script('alexnet/benchmark.py', '--device', 'cpu', '--batch_size', '1',
                      '--num_batches', '1', '--num_warmup', '0', '--dtype', 'bfloat16',
                      '--json', out)
    assert 'bfloat16 compute, float32 variables, loss and gradient reduction' in proc.stdout
    assert 'computed in float32 (no fast bfloat16 kernel): LRN' in proc.stdout
    flags = benchmark.cpu_info()['flags']
    record = json.loads(out.read_text())
    if not flags & {'avx512_bf16', 'amx_bf16'}:
        assert 'bfloat16 is emulated, no faster than float32' in proc.stdout
        assert 'Conv2DBackpropInput, Conv2DBackpropFilter' in proc.stdout
        assert record['float32_ops'] == ['LRN', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']
    else:
        assert record['float32_ops'] == ['LRN']
    assert record['dtype'] == 'bfloat16'


# ---------------------------------------------------------------- memory

def test_memory_estimate_grows_with_the_batch(alexnet, capsys):
    estimates = {}
    for batch in (1, 64):
        graph = build(alexnet, '--device', 'cpu', '--batch_size', str(batch)).loss.graph
        estimates[batch] = (benchmark.estimate_memory(graph, True),
                            benchmark.estimate_memory(graph, False))
    weights = 2469696 * 4
    for forward, backward in estimates.values():
        assert weights < forward < backward
    # conv1's output alone is 56*56*64 floats an image; the backward pass keeps it
    assert estimates[64][1] - estimates[1][1] > 63 * 56 * 56 * 64 * 4
    assert estimates[64][1] < 64 * 20e6  # under 20 MB an image for AlexNet's conv part


def test_oversized_batch_is_refused_before_allocating(run_script):
    proc = run_script('alexnet/benchmark.py', '--device', 'cpu', '--batch_size', '1000000',
                      '--json', '', check=False)
    assert proc.returncode == 2, proc.stderr
    assert '--batch_size 1000000 needs about' in proc.stderr
    assert 'free RAM is available; use --batch_size' in proc.stderr
    assert 'Traceback' not in proc.stderr and 'across' not in proc.stdout
    suggested = int(proc.stderr.split('use --batch_size ')[1].split()[0])
    assert 1 <= suggested < 1000000


def test_kernel_size_limits_become_one_line(alexnet):
    from tfcourse.compat import tf

    bench = benchmark.Benchmark('test', 'AlexNet', 224, [
        '--device', 'cpu', '--batch_size', '1', '--forward_only', '--num_batches', '1',
        '--num_warmup', '0', '--json', ''])
    with tf.Graph().as_default():
        failing = tf.raw_ops.Assert(condition=False, data=['argument to LRN too large'])
        with tf.control_dependencies([failing]):
            forward = tf.constant(1.0)
        net = benchmark.Net(forward, forward, None, None, forward, [], [], 1, None, None, 1)
        with pytest.raises(cli.UserError, match='too large for TensorFlow .*smaller --batch_size'):
            with bench.session(net) as sess:
                alexnet.time_tensorflow_run(sess, net.forward, 'Forward', 1, 1)


# ---------------------------------------------------------------- placement

def test_ops_meant_for_the_gpu_that_run_on_the_cpu_are_named():
    """On this CPU-only machine soft placement moves every op asked for on /gpu:0 to the
    CPU: exactly the silent fallback the check exists to catch."""
    from tfcourse.compat import tf, session_config

    with tf.Graph().as_default() as graph:
        with tf.device('/gpu:0'):
            x = tf.Variable(tf.ones([4, 4]), name='x')
            y = tf.matmul(x, x, name='product')
        with tf.device('/cpu:0'):
            z = tf.reduce_sum(y, name='on_host_on_purpose')
        with tf.Session(config=session_config()) as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(cli.UserError) as info:
                benchmark.check_placement(sess, graph, [z], None, allow_cpu_fallback=False)
            fallen = benchmark.check_placement(sess, graph, [z], None, allow_cpu_fallback=True)
    message = str(info.value)
    assert 'meant for the GPU ran on the CPU' in message and 'MatMul x1' in message
    assert '--allow_cpu_fallback' in message and '\n' not in message
    assert 'product' in fallen and 'on_host_on_purpose' not in fallen


def test_allow_cpu_fallback_flag(alexnet):
    assert parse(alexnet, '--device', 'cpu').allow_cpu_fallback is False
    assert parse(alexnet, '--device', 'cpu', '--allow_cpu_fallback').allow_cpu_fallback


# ---------------------------------------------------------------- efficiency and noise

@pytest.mark.parametrize('device, dtype, peak', [
    ('NVIDIA GeForce RTX 2070', 'float32', 7.5),
    ('device: 0, name: NVIDIA GeForce RTX 2080 Ti, pci bus id: 0000:01:00.0', 'float16', 53.8),
    ('NVIDIA GeForce RTX 2080', 'float32', 10.1),
    ('Tesla T4', 'bfloat16', None),  # Turing has no bfloat16 units
    ('NVIDIA A100-SXM4-40GB', 'bfloat16', 312.0),
    ('NVIDIA L40S', 'float32', None),  # not in the table: no % of peak, not a wrong one
    ('AMD EPYC', 'float32', None),
])
def test_gpu_peaks(device, dtype, peak):
    assert benchmark.gpu_peak_tflops(device, dtype) == peak


def test_efficiency_counts_three_times_the_forward_flops_for_forward_backward():
    gflops, percent = benchmark.efficiency(2e9, 100.0, False, None)
    assert gflops == pytest.approx(200.0) and percent is None
    gflops, percent = benchmark.efficiency(2e9, 100.0, True, 7.5)
    assert gflops == pytest.approx(600.0) and percent == pytest.approx(8.0)


def _record(timings, load, after=None):
    args = argparse.Namespace(devices=['/cpu:0'], device='cpu', dtype='float32', batch_size=32,
                              num_batches=10, num_warmup=1, num_gpus=0, data_format='NHWC',
                              xla=False)
    net = benchmark.Net(None, None, None, None, None, [], [], 1e9, None, None, 32)
    return benchmark.benchmark_record(args, 'Test', net, dict(timings, one_tower=None),
                                      {'load_average_before': load,
                                       'load_average_after': after or load})


def test_noisy_figures_are_flagged(capsys):
    cores = benchmark.cpu_info()['cores']
    quiet = _record({'forward': (1.0, 0.05), 'forward_backward': (3.0, 0.1)}, [0.1, 0.1, 0.1])
    assert quiet['noisy'] == [] and 'noisy' not in capsys.readouterr().out
    assert quiet['backward_forward_ratio'] == pytest.approx(3.0)
    assert quiet['forward']['gflops_per_sec'] == pytest.approx(32.0)
    loaded = _record({'forward': (1.0, 0.2), 'forward_backward': None},
                     [cores + 1.0, 1.0, 1.0])
    out = capsys.readouterr().out
    assert len(loaded['noisy']) == 2 and 'warning: this figure is noisy' in out
    assert 'load average' in loaded['noisy'][0] and 'sd/mean 20%' in loaded['noisy'][1]
    # the run's own threads lift the load after it to about the core count: not noise
    own = _record({'forward': (1.0, 0.05), 'forward_backward': None}, [0.2, 0.1, 0.1],
                  after=[cores + 0.5, 1.0, 0.5])
    assert own['noisy'] == []
