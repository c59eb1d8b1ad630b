"""Canonical text of the book's small helpers copied into the CNN benchmark scripts.

``alexnet/benchmark.py``, ``vggnet/benchmark.py``, ``googlenet/benchmark.py``
and ``resnet/benchmark.py`` each carry their own copy of print_activations
and time_tensorflow_run (VGG also conv_op, fc_op and mpool_op) on purpose: a
reader opens one script and sees the whole model, top to bottom, as in the
book.  The scripts do **not** import this module.  (The harness plumbing that
is not the model -- flags, FLOP counting, towers, JSON record -- is shared
instead, in ``tfcourse/benchmark.py``.)

This file is the reference those copies must match character for character;
``tests/test_benchmarks_helpers_in_sync.py`` finds every top-level ``def``
with one of these names anywhere in the repository and fails if its source
differs from the text here.  To change a helper: edit it here, then paste
the new text into every script that has a copy.
"""
import math
import time
from datetime import datetime

from tfcourse.compat import tf


def print_activations(t):
    """Print a layer's name and output shape, e.g. ``conv1 [32, 56, 56, 64]``."""
    print(t.op.name, ' ', t.get_shape().as_list())


def time_tensorflow_run(session, target, info_string, num_batches, batch_size,
                        feed_dict=None, num_steps_burn_in=10):
    """Run ``target`` num_steps_burn_in + num_batches times; time the last num_batches.

    Prints a line every 10 timed steps, then the mean +/- sd seconds per batch
    and the images/sec; returns (mean, sd) in seconds per batch.
    """
    total_duration = 0.0
    total_duration_squared = 0.0
    for i in range(num_batches + num_steps_burn_in):
        start_time = time.time()
        session.run(target, feed_dict=feed_dict)
        duration = time.time() - start_time
        if i >= num_steps_burn_in:
            if not (i - num_steps_burn_in) % 10:
                print('%s: step %d, duration = %.3f' %
                      (datetime.now(), i - num_steps_burn_in, duration))
            total_duration += duration
            total_duration_squared += duration * duration
    mn = total_duration / num_batches
    vr = max(total_duration_squared / num_batches - mn * mn, 0.0)
    sd = math.sqrt(vr)
    print('%s: %s across %d steps, %.3f +/- %.3f sec / batch' %
          (datetime.now(), info_string, num_batches, mn, sd))
    print('%s: %s: %.1f images/sec' % (datetime.now(), info_string, batch_size / mn))
    return mn, sd


def conv_op(input_op, name, kh, kw, n_out, dh, dw, p, data_format='NHWC'):
    """kh x kw convolution with n_out filters, stride dh x dw, SAME padding, bias and ReLU.

    Appends the kernel and biases to the parameter list ``p``.
    """
    channel_axis = 3 if data_format == 'NHWC' else 1
    n_in = input_op.get_shape().as_list()[channel_axis]
    strides = [1, dh, dw, 1] if data_format == 'NHWC' else [1, 1, dh, dw]
    with tf.variable_scope(name):
        kernel = tf.get_variable('w', shape=[kh, kw, n_in, n_out], dtype=input_op.dtype,
                                 initializer=tf.glorot_uniform_initializer())
        conv = tf.nn.conv2d(input_op, kernel, strides, padding='SAME',
                            data_format=data_format)
        biases = tf.get_variable('b', shape=[n_out], dtype=input_op.dtype,
                                 initializer=tf.zeros_initializer())
        z = tf.nn.bias_add(conv, biases, data_format=data_format)
        activation = tf.nn.relu(z, name='relu')
        p += [kernel, biases]
        return activation


def fc_op(input_op, name, n_out, p):
    """Fully connected layer with n_out units, bias and ReLU; appends its parameters to ``p``."""
    n_in = input_op.get_shape().as_list()[-1]
    with tf.variable_scope(name):
        kernel = tf.get_variable('w', shape=[n_in, n_out], dtype=input_op.dtype,
                                 initializer=tf.glorot_uniform_initializer())
        biases = tf.get_variable('b', shape=[n_out], dtype=input_op.dtype,
                                 initializer=tf.constant_initializer(0.1))
        activation = tf.nn.relu_layer(input_op, kernel, biases, name='relu')
        p += [kernel, biases]
        return activation


def mpool_op(input_op, name, kh, kw, dh, dw, data_format='NHWC'):
    """kh x kw max pooling with stride dh x dw, SAME padding."""
    if data_format == 'NHWC':
        ksize, strides = [1, kh, kw, 1], [1, dh, dw, 1]
    else:
        ksize, strides = [1, 1, kh, kw], [1, 1, dh, dw]
    return tf.nn.max_pool(input_op, ksize=ksize, strides=strides, padding='SAME',
                          data_format=data_format, name=name)
