"""lstm_ptb/train.py --rnn_mode basic|block: the same model, two implementations.

From the same weights and the same batch, the fused BlockLSTM graph gives the
loss, the final state and the gradients of the step-by-step BasicLSTMCell one.
"""
import json
import os

import numpy as np
import pytest

from tfcourse import REPO_ROOT


@pytest.fixture(scope='module')
def ptb(load_script):
    mp = pytest.MonkeyPatch()
    mp.syspath_prepend(os.path.join(REPO_ROOT, 'lstm_ptb'))  # train.py imports reader
    yield load_script('lstm_ptb/train.py', 'ptb_train_rnn_mode')
    mp.undo()


def _config(ptb, mode):
    config = ptb.get_config('test')
    config.num_layers, config.hidden_size, config.num_steps = 2, 8, 5
    config.batch_size, config.vocab_size, config.rnn_mode = 3, 50, mode
    return config


def _block_name(name):
    """Model/RNN/multi_rnn_cell/cell_1/basic_lstm_cell/kernel -> Model/RNN/block_lstm_1/kernel"""
    if '/multi_rnn_cell/' not in name:
        return name
    layer = name.split('/cell_')[1].split('/')[0]
    return 'Model/RNN/block_lstm_%s/%s' % (layer, name.rsplit('/', 1)[1])


def _evaluate(ptb, mode, words, values=None):
    from tfcourse.compat import tf, session_config

    config = _config(ptb, mode)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        initializer = tf.random_uniform_initializer(-0.5, 0.5)  # large: non-trivial gates
        input_ = ptb.PTBInput(config=config, data=words)
        with tf.variable_scope('Model', initializer=initializer):
            model = ptb.PTBModel(is_training=True, config=config, input_=input_)
        tvars = tf.trainable_variables()
        grads = tf.gradients(model.cost, tvars)
        x = np.array(words[:config.batch_size * config.num_steps]).reshape(
            config.batch_size, config.num_steps)
        y = np.array(words[1:config.batch_size * config.num_steps + 1]).reshape(x.shape)
        with tf.Session(config=session_config()) as sess:
            sess.run(tf.global_variables_initializer())
            names = [v.op.name for v in tvars]
            if values is None:
                values = dict(zip(names, sess.run(tvars)))
            else:
                for v in tvars:
                    basic = [n for n in values if _block_name(n) == v.op.name]
                    assert len(basic) == 1, v.op.name
                    v.load(values[basic[0]], sess)
            cost, final, gvals = sess.run(
                [model.cost, model.final_state, grads],
                {input_.input_data: x, input_.targets: y})
    by_name = {(_block_name(n) if mode == 'block' else n): g for n, g in zip(names, gvals)}
    return values, cost, final, by_name


def test_block_mode_matches_basic_from_the_same_weights(ptb):
    words = list(np.random.RandomState(0).randint(0, 50, size=40))
    values, cost_a, final_a, grads_a = _evaluate(ptb, 'basic', words)
    _, cost_b, final_b, grads_b = _evaluate(ptb, 'block', words, values)
    assert len(grads_a) == len(grads_b) == 2 * 2 + 3  # 2 layers x (kernel, bias) + embedding,
    np.testing.assert_allclose(cost_b, cost_a, rtol=1e-5)  # softmax_w, softmax_b
    for (c_a, h_a), (c_b, h_b) in zip(final_a, final_b):
        np.testing.assert_allclose(c_b, c_a, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h_b, h_a, rtol=1e-5, atol=1e-6)
    for name, g in grads_a.items():
        g_a = g.values if hasattr(g, 'values') else g
        g_b = grads_b[_block_name(name)]
        g_b = g_b.values if hasattr(g_b, 'values') else g_b
        np.testing.assert_allclose(np.asarray(g_b), np.asarray(g_a), rtol=1e-4,
                                   atol=1e-6 * max(1.0, np.abs(g_a).max()), err_msg=name)
    assert np.abs(grads_a['Model/RNN/multi_rnn_cell/cell_0/basic_lstm_cell/kernel']).max() > 1e-4


def test_block_mode_trains_and_is_recorded(run_script, fetch, tmp_path):
    out = tmp_path / 'block.json'
    run_script('lstm_ptb/train.py', '--data_dir', fetch('ptb'), '--model', 'test',
               '--rnn_mode', 'block', '--epochs', '1', '--checkpoint_dir', tmp_path / 'c',
               '--json', out, '--plot', '')
    record = json.loads(out.read_text())
    assert record['config']['rnn_mode'] == 'block'
    assert record['test_perplexity'] > 1 and record['wps'] > 0


def test_unknown_rnn_mode_is_one_line(run_script):
    proc = run_script('lstm_ptb/train.py', '--rnn_mode', 'cudnn', check=False)
    assert proc.returncode == 2 and "invalid choice: 'cudnn'" in proc.stderr
    assert 'Traceback' not in proc.stderr


# ---------------------------------------------------------------- --dtype
def _cost_and_grads(ptb, mode, dtype, words, values=None):
    """The cost, the dtypes of the variables and of their gradients, and the compute
    dtypes of the MatMuls, from the same weights (``values``) in ``dtype``."""
    from tfcourse import precision
    from tfcourse.compat import tf, session_config

    config = _config(ptb, mode)
    config.dtype = dtype
    with tf.Graph().as_default() as graph:
        tf.set_random_seed(0)
        input_ = ptb.PTBInput(config=config, data=words)
        with tf.variable_scope('Model', initializer=tf.random_uniform_initializer(-0.5, 0.5),
                               custom_getter=precision.compute_dtype_getter(
                                   precision.DTYPES[dtype])):
            model = ptb.PTBModel(is_training=True, config=config, input_=input_)
        tvars = tf.global_variables()
        grads = tf.gradients(model.cost, tf.trainable_variables())
        x = np.array(words[:15]).reshape(3, 5)
        y = np.array(words[1:16]).reshape(3, 5)
        with tf.Session(config=session_config()) as sess:
            sess.run(tf.global_variables_initializer())
            if values is None:
                values = {v.op.name: sess.run(v) for v in tvars}
            for v in tvars:
                v.load(values[v.op.name], sess)
            cost = sess.run(model.cost, {input_.input_data: x, input_.targets: y})
        matmuls = {op.get_attr('T') for op in graph.get_operations() if op.type == 'MatMul'}
    return (values, cost, {v.dtype.base_dtype for v in tvars},
            {g.dtype.base_dtype for g in grads}, matmuls, model.cost.dtype)


@pytest.mark.parametrize('mode', ['basic', 'block'])
def test_bfloat16_keeps_float32_weights_and_agrees_with_float32(ptb, mode):
    from tfcourse.compat import tf

    words = list(np.random.RandomState(1).randint(0, 50, size=40))
    values, cost32, _, _, _, _ = _cost_and_grads(ptb, mode, 'float32', words)
    _, cost16, var_dtypes, grad_dtypes, matmuls, cost_dtype = _cost_and_grads(
        ptb, mode, 'bfloat16', words, values)
    assert var_dtypes == {tf.float32, tf.int64}  # float32 master weights, the int64 step
    assert grad_dtypes == {tf.float32} and cost_dtype == tf.float32
    assert tf.bfloat16 in matmuls  # the softmax (and the basic LSTM) compute in bfloat16
    # bfloat16 keeps 8 bits of mantissa: about 0.4 % a product, a few per cent on the loss
    np.testing.assert_allclose(cost16, cost32, rtol=0.03)


def test_float16_trains_with_loss_scaling_and_is_recorded(run_script, fetch, tmp_path):
    out = tmp_path / 'fp16.json'
    run_script('lstm_ptb/train.py', '--data_dir', fetch('ptb'), '--model', 'test',
               '--rnn_mode', 'block', '--dtype', 'float16', '--loss_scale', '128',
               '--epochs', '1', '--checkpoint_dir', '', '--json', out, '--plot', '')
    record = json.loads(out.read_text())
    assert record['dtype'] == 'float16' and record['config']['dtype'] == 'float16'
    assert 1 < record['test_perplexity'] < record['vocabulary'] * 2  # finite, learning


def test_unknown_dtype_is_one_line(run_script):
    proc = run_script('lstm_ptb/train.py', '--dtype', 'int8', check=False)
    assert proc.returncode == 2 and "invalid choice: 'int8'" in proc.stderr
    assert 'Traceback' not in proc.stderr
