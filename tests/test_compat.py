"""The compatibility module: TF1 graph mode, slim.batch_norm, rnn_cell, tf.layers, contrib
replacements, quiet start-up and the device line."""
import os
import subprocess
import sys

import numpy as np
import pytest

from tfcourse import compat
from tfcourse.compat import tf, slim


def test_graph_mode_and_legacy_keras_env():
    assert os.environ["TF_USE_LEGACY_KERAS"] == "1"
    assert not tf.executing_eagerly()
    # it is the v1 API: placeholders exist and build symbolic tensors
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        assert x.shape.as_list() == [None, 3]


def test_slim_batch_norm_trains_and_updates_moving_stats():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [4, 8, 8, 3])
        is_training = tf.placeholder(tf.bool, [])
        net = slim.conv2d(x, 6, [3, 3], normalizer_fn=slim.batch_norm,
                          normalizer_params={"is_training": is_training, "decay": 0.5})
        update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert update_ops, "batch_norm registered no moving-average updates"
        moving_mean = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            data = np.random.RandomState(0).rand(4, 8, 8, 3).astype(np.float32) + 5.0
            out, _ = sess.run([net, update_ops], {x: data, is_training: True})
            assert out.shape == (4, 8, 8, 6)
            assert np.any(sess.run(moving_mean) != 0.0)


def test_tf_layers_batch_normalization_and_dense():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [2, 5])
        y = tf.layers.dense(tf.layers.batch_normalization(x, training=True), 3)
        assert y.shape.as_list() == [2, 3]


def test_rnn_cell_multilayer_lstm_with_dropout():
    with tf.Graph().as_default():
        cells = [tf.nn.rnn_cell.DropoutWrapper(tf.nn.rnn_cell.BasicLSTMCell(8, forget_bias=0.0),
                                               output_keep_prob=0.5) for _ in range(2)]
        cell = tf.nn.rnn_cell.MultiRNNCell(cells, state_is_tuple=True)
        state = cell.zero_state(3, tf.float32)
        inputs = tf.ones([3, 4])
        with tf.variable_scope("RNN"):
            out, state = cell(inputs, state)
            tf.get_variable_scope().reuse_variables()
            out2, _ = cell(inputs, state)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(out2).shape == (3, 8)


def test_sequence_loss_by_example_matches_manual_cross_entropy():
    rng = np.random.RandomState(1)
    logits_np = rng.randn(3, 2, 5).astype(np.float32)  # steps, batch, vocab
    targets_np = rng.randint(0, 5, size=(3, 2))
    with tf.Graph().as_default():
        logits = [tf.constant(step) for step in logits_np]
        targets = [tf.constant(t, dtype=tf.int32) for t in targets_np]
        weights = [tf.ones([2]) for _ in range(3)]
        loss = compat.sequence_loss_by_example(logits, targets, weights)
        with tf.Session() as sess:
            got = sess.run(loss)
    log_softmax = logits_np - np.log(np.exp(logits_np).sum(-1, keepdims=True))
    manual = -np.take_along_axis(log_softmax, targets_np[..., None], -1)[..., 0].mean(0)
    np.testing.assert_allclose(got, manual, rtol=1e-5)
    with pytest.raises(ValueError):
        compat.sequence_loss_by_example(logits[:2], targets, weights)


def test_xavier_initializer_and_session_config():
    with tf.Graph().as_default():
        v = tf.get_variable("w", [100, 100], initializer=compat.xavier_initializer())
        with tf.Session(config=compat.session_config()) as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run(v)
    limit = np.sqrt(6.0 / 200)
    assert values.max() <= limit and values.min() >= -limit and values.std() > limit / 4


def test_legacy_layers_alias_is_importable():
    if not compat.NEEDS_TF_KERAS:
        pytest.skip("TensorFlow < 2.16 needs no tf-keras alias")
    import importlib

    module = importlib.import_module("tf_keras.legacy_tf_layers.normalization")
    assert hasattr(module, "BatchNormalization")


def test_announce_device_prints_one_line_once(monkeypatch, capsys):
    monkeypatch.setattr(compat, "_ANNOUNCED", [])
    monkeypatch.setattr(compat, "gpu_names", lambda: [])
    assert compat.announce_device() == "CPU"
    assert compat.announce_device() == "CPU"
    assert capsys.readouterr().out == "no GPU, running on the CPU\n"
    monkeypatch.setattr(compat, "_ANNOUNCED", [])
    monkeypatch.setattr(compat, "gpu_names", lambda: ["NVIDIA GeForce RTX 2070"])
    assert compat.announce_device() == "NVIDIA GeForce RTX 2070"
    assert capsys.readouterr().out == "GPU: NVIDIA GeForce RTX 2070\n"


def test_start_up_is_silent_on_stderr():
    """No absl / cpu_feature_guard / cuInit lines: a session run prints nothing to stderr."""
    code = ("from tfcourse.compat import tf\n"
            "with tf.Session() as s: print(s.run(tf.constant(41) + 1))\n")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=env, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "42"
    assert proc.stderr == "", proc.stderr


def test_native_start_up_filter_passes_on_other_lines():
    """The filter around TensorFlow's import drops only the known chatter, at file-descriptor
    level (where C++ writes), and keeps every other line."""
    code = ("import os\n"
            "from tfcourse import compat\n"
            "with compat._filtered_native_stderr():\n"
            "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called"
            " are written to STDERR\\n')\n"
            "    os.write(2, b'I0000 port.cc:153] oneDNN custom operations are on.\\n')\n"
            "    os.write(2, b'E0000 something real\\n')\n")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=env, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "E0000 something real\n", proc.stderr
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"                       # asked for everything: no filter
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=env, timeout=300)
    assert proc.stderr.endswith("STDERR\nI0000 port.cc:153] oneDNN custom operations are on."
                                "\nE0000 something real\n"), proc.stderr
