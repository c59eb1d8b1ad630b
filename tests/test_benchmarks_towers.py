"""--num_gpus N on the CNN benchmarks: data-parallel towers, variables shared on the CPU.

On this CPU-only CI the towers are built on the CPU (--device cpu --num_gpus N),
which checks the graph (variable sharing, gradient averaging) without a GPU.
"""
import json
import re

import numpy as np
import pytest

from tfcourse import benchmark

QUICK = ['--device', 'cpu', '--num_batches', '2', '--num_warmup', '1']


def parse(module, *argv):
    """The checked flags of a benchmark script."""
    return benchmark.Benchmark('test', 'test', 8, list(argv) + ['--json', ''],
                               add_flags=getattr(module, 'add_depth_flag', None)).args


def build_and_evaluate(module, argv, values=None, feed_key='forward_feed'):
    """Build the script's benchmark graph; load ``values`` (by variable name, tower prefix
    stripped, every tower's images get the same batch); return (values, loss, gradients)."""
    from tfcourse.compat import tf, session_config

    net = benchmark.build_only(module.run_benchmark, list(argv) + ['--json', ''])
    with net.loss.graph.as_default():
        with tf.Session(config=session_config()) as sess:
            sess.run(tf.global_variables_initializer())
            variables = tf.global_variables()
            names = [re.sub(r'^tower_\d+/', '', v.op.name) for v in variables]
            if values is None:
                values = dict(zip(names, sess.run(variables)))
            else:  # one run that re-initialises every variable from the given values
                assert set(names) == set(values)
                sess.run([v.initializer for v in variables],
                         feed_dict={v.initializer.inputs[1]: values[name]
                                    for v, name in zip(variables, names)})
            loss, grads = sess.run([net.loss, [g for g, _ in net.grads_and_vars]],
                                   feed_dict=getattr(net, feed_key))
    return values, loss, grads


def check_same(single, towers):
    _, loss_a, grads_a = single
    _, loss_b, grads_b = towers
    assert len(grads_a) == len(grads_b)
    np.testing.assert_allclose(loss_b, loss_a, rtol=1e-5)
    for ga, gb in zip(grads_a, grads_b):
        np.testing.assert_allclose(gb, ga, rtol=1e-4, atol=1e-6 * max(1.0, np.abs(ga).max()))


def test_alexnet_one_and_two_towers_match_the_single_graph(load_script, capsys):
    """Same seed, same weights and images: --num_gpus 1 (one tower on the CPU) gives the
    loss and gradients of the book's single graph; with 2 towers on the same images the
    averaged gradients are the same too (the towers share one set of variables)."""
    alexnet = load_script('alexnet/benchmark.py', 'alexnet_towers')
    single = build_and_evaluate(alexnet, ['--device', 'cpu', '--batch_size', '2'])
    assert 'images' in single[0]
    for num_gpus in ('1', '2'):
        argv = ['--device', 'cpu', '--batch_size', '2', '--num_gpus', num_gpus]
        assert parse(alexnet, *argv).devices == ['/cpu:0'] * int(num_gpus)
        check_same(single, build_and_evaluate(alexnet, argv, values=single[0]))


def test_inception_one_tower_matches_the_single_graph(load_script, capsys):
    """The same with tf_slim layers (the custom getter and reuse go through slim.conv2d)."""
    googlenet = load_script('googlenet/benchmark.py', 'googlenet_towers')
    single = build_and_evaluate(googlenet, ['--device', 'cpu', '--batch_size', '1'])
    argv = ['--device', 'cpu', '--batch_size', '1', '--num_gpus', '1']
    check_same(single, build_and_evaluate(googlenet, argv, values=single[0]))


def test_two_towers_share_variables_kept_on_the_cpu(load_script, capsys):
    from tfcourse.compat import tf

    vgg = load_script('vggnet/benchmark.py', 'vgg_towers')
    net = benchmark.build_only(vgg.run_benchmark, ['--device', 'cpu', '--batch_size', '1',
                                                   '--num_gpus', '2', '--json', ''])
    with net.loss.graph.as_default():
        assert len(net.forward) == 2
        assert benchmark.count_parameters(tf.trainable_variables()) == 138357544
        assert {v.op.name for v in tf.global_variables() if 'images' in v.op.name} == \
            {'tower_0/images', 'tower_1/images'}
        for v in tf.trainable_variables():
            assert v.device.upper().endswith('CPU:0'), (v.op.name, v.device)


def test_two_towers_on_cpu_report_scaling(run_script, tmp_path):
    out = tmp_path / 'towers.json'
    proc = run_script('alexnet/benchmark.py', *QUICK, '--batch_size', '1', '--num_gpus', '2',
                      '--json', out)
    assert 'Forward-backward across 2 steps' in proc.stdout
    assert 'Forward (tower 0 alone) across 2 steps' in proc.stdout
    assert re.search(r'forward_backward: 2 towers, [\d.]+ images/sec in total, [\d.]+ per '
                     r'device, scaling efficiency \d+%', proc.stdout)
    record = json.loads(out.read_text())
    assert record['num_towers'] == 2 and record['num_gpus'] == 2
    fb = record['forward_backward']
    assert fb['images_per_sec'] == pytest.approx(2 * 1 / fb['mean_sec_per_batch'])
    assert fb['images_per_sec_per_device'] == pytest.approx(fb['images_per_sec'] / 2)
    assert fb['scaling_efficiency'] == pytest.approx(
        fb['images_per_sec'] / (2 / fb['one_tower_mean_sec_per_batch']))


def test_more_towers_than_gpus_is_a_clear_error(load_script, monkeypatch):
    from tfcourse import cli

    resnet = load_script('resnet/benchmark.py', 'resnet_towers')
    monkeypatch.setattr(benchmark, 'gpu_names', lambda: ['one GPU'])  # the check only
    with pytest.raises(cli.UserError, match='--num_gpus 3 but this machine has only 1 GPU'):
        parse(resnet, '--device', 'gpu', '--num_gpus', '3')
    assert parse(resnet, '--device', 'gpu', '--num_gpus', '1').devices == ['/gpu:0']


def _gpus():
    from tfcourse.compat import gpu_names

    return gpu_names()


@pytest.mark.skipif(len(_gpus()) < 1, reason='needs a GPU')
def test_towers_on_gpus(run_script, tmp_path):
    n = str(min(len(_gpus()), 2))
    out = tmp_path / 'gpu.json'
    run_script('alexnet/benchmark.py', '--device', 'gpu', '--num_gpus', n, '--batch_size', '8',
               '--num_batches', '2', '--num_warmup', '1', '--json', out)
    assert json.loads(out.read_text())['num_towers'] == int(n)
