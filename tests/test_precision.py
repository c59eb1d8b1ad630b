"""tfcourse/precision.py and --dtype in training: float32 master weights, loss scaling."""
import argparse
import json

import numpy as np
import pytest

from tfcourse import precision


def _small_gradient(loss_scale):
    """d loss / d w = 1e-8, computed through float16 ops: below float16's smallest value."""
    from tfcourse.compat import tf, session_config

    with tf.Graph().as_default():
        w = tf.Variable([1.0], name='w')
        # fed, not constants: Grappler would fold 1e-4 * 1e-4 into a float16 zero
        c = tf.placeholder(tf.float16, [], name='c')
        t = precision.master_weight(w, tf.float16) * c
        loss = tf.reduce_sum(tf.cast(t * c, tf.float32))
        args = argparse.Namespace(dtype='float16' if loss_scale else 'float32',
                                  loss_scale=loss_scale)
        optimizer = precision.loss_scaled(tf.train.GradientDescentOptimizer(1.0), args)
        (grad, var), = optimizer.compute_gradients(loss, [w])
        assert var is w and grad.dtype == tf.float32
        with tf.Session(config=session_config()) as sess:
            sess.run(tf.global_variables_initializer())
            return float(sess.run(grad, {c: 1e-4})[0])


def test_loss_scaling_keeps_gradients_that_float16_would_lose():
    assert _small_gradient(None) == 0.0  # underflows to zero without a scale
    assert _small_gradient(32768.0) == pytest.approx(1e-8, rel=0.01)
    assert _small_gradient('dynamic') == pytest.approx(1e-8, rel=0.01)


def test_loss_scale_flag():
    parser = argparse.ArgumentParser()
    precision.add_dtype_flag(parser)
    assert parser.parse_args([]).loss_scale == 'dynamic'
    assert parser.parse_args(['--loss_scale', '128']).loss_scale == 128.0
    for bad in ('0.5', 'nan', 'large'):
        with pytest.raises(SystemExit):
            parser.parse_args(['--loss_scale', bad])


@pytest.mark.parametrize('dtype, extra', [('bfloat16', []), ('float16', ['--loss_scale', '128'])])
def test_mnist_trains_in_16_bits_with_float32_master_weights(run_script, fetch, tmp_path, dtype,
                                                             extra):
    from tfcourse.compat import tf

    out = tmp_path / 'r.json'
    run_script('mnist_cnn/train.py', '--data_dir', fetch('mnist5k'), '--steps', 60,
               '--log_every', 20, '--learning_rate', 1e-3, '--dtype', dtype, *extra,
               '--checkpoint_dir', tmp_path / 'ckpt', '--json', out, '--plot', '')
    record = json.loads(out.read_text())
    assert record['dtype'] == dtype
    assert record['loss_scale'] == (128.0 if dtype == 'float16' else None)
    losses = [h['loss'] for h in record['history']]
    assert np.isfinite(losses).all() and losses[-1] < losses[0] / 2
    assert record['test_accuracy'] > 0.5  # 60 steps of real digits; chance is 10 %
    reader = tf.train.NewCheckpointReader(tf.train.latest_checkpoint(str(tmp_path / 'ckpt')))
    dtypes = {name: d for name, d in reader.get_variable_to_dtype_map().items()
              if name.endswith(('weights', 'biases'))}
    assert len(dtypes) == 8 and set(dtypes.values()) == {tf.float32}


def test_unknown_dtype_is_one_line(run_script, fetch):
    proc = run_script('mnist_cnn/train.py', '--data_dir', fetch('mnist5k'), '--dtype', 'int8',
                      check=False)
    assert proc.returncode == 2 and "invalid choice: 'int8'" in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_model_folder_train_script_in_bfloat16(run_script, fetch, tmp_path):
    """ResNet-18 (slim layers and batch norm, through the custom getter) in bfloat16."""
    from tfcourse.compat import tf

    out = tmp_path / 'r.json'
    run_script('resnet/train.py', '--dataset', 'mnist5k', '--data_dir', fetch('mnist5k'),
               '--steps', 40, '--width', 0.125, '--batch_size', 32, '--learning_rate', 3e-3,
               '--dtype', 'bfloat16', '--checkpoint_dir', tmp_path / 'ckpt', '--json', out,
               '--plot', '', '--weights', '')
    record = json.loads(out.read_text())
    assert record['dtype'] == 'bfloat16' and record['test_accuracy'] > 0.4  # chance: 10 %
    reader = tf.train.NewCheckpointReader(tf.train.latest_checkpoint(str(tmp_path / 'ckpt')))
    weights = {n: d for n, d in reader.get_variable_to_dtype_map().items()
               if n.endswith('weights') and 'Adam' not in n}
    assert len(weights) > 10 and set(weights.values()) == {tf.float32}


# ---------------------------------------------------------------- Conv2D's float32 gradient
def test_float32_backward_gives_conv2d_gradients_in_float32():
    """Under bfloat16 on a CPU without bfloat16 units the Conv2D gradient runs in float32
    between casts: the same gradients as the built-in bfloat16 ones, within bfloat16
    rounding, from float32 backprop kernels."""
    from tfcourse.compat import tf

    rng = np.random.RandomState(0)
    x0 = rng.uniform(-1, 1, (2, 9, 9, 3)).astype(np.float32)
    w0 = rng.normal(0, 0.3, (3, 3, 3, 4)).astype(np.float32)

    def gradients(ops):
        with tf.Graph().as_default() as graph:
            x = tf.cast(tf.constant(x0), tf.bfloat16)
            w = tf.cast(tf.constant(w0), tf.bfloat16)
            with precision.float32_backward(ops):
                y = tf.nn.conv2d(x, w, [1, 2, 2, 1], 'SAME')
            loss = tf.reduce_sum(tf.cast(y, tf.float32) ** 2)
            dx, dw = tf.gradients(loss, [x, w])
            backprop = {op.type: op.get_attr('T') for op in graph.get_operations()
                        if op.type.startswith('Conv2DBackprop')}
            with tf.Session() as sess:
                return sess.run([tf.cast(dx, tf.float32), tf.cast(dw, tf.float32)]), backprop

    (dx_ref, dw_ref), built_in = gradients([])
    (dx, dw), ours = gradients(precision.SLOW_BFLOAT16_CPU_OPS)
    assert set(built_in.values()) == {tf.bfloat16}
    assert ours == {'Conv2DBackpropInput': tf.float32, 'Conv2DBackpropFilter': tf.float32}
    np.testing.assert_allclose(dx, dx_ref, rtol=0.03, atol=0.03 * np.abs(dx_ref).max())
    np.testing.assert_allclose(dw, dw_ref, rtol=0.03, atol=0.03 * np.abs(dw_ref).max())


def test_slow_backward_ops_only_for_bfloat16_on_a_cpu_without_units():
    assert precision.slow_backward_ops('bfloat16', False, flags={'avx2', 'fma'}) == [
        'Conv2DBackpropInput', 'Conv2DBackpropFilter']
    assert precision.slow_backward_ops('bfloat16', False, flags={'avx512_bf16'}) == []
    assert precision.slow_backward_ops('bfloat16', True, flags={'avx2'}) == []  # a GPU
    assert precision.slow_backward_ops('float16', False, flags={'avx2'}) == []
    assert precision.slow_backward_ops('float32', False, flags={'avx2'}) == []
