"""Inception-V3 forward / forward-backward timing benchmark (report §2.5, after the book, ch. 6).

The whole Inception-V3 network (with the auxiliary classifier) is written out
below with tf_slim, as in the book: the stem convolutions, the three groups
of Inception modules (35x35, 17x17, 8x8), the AuxLogits head on Mixed_6e and
the Logits head, on a batch of random 299x299 images held in a tf.Variable.
``time_tensorflow_run`` times the forward pass (logits, batch norm in
inference mode) and the forward-backward pass (the gradients of an l2 loss on
logits and aux logits with respect to every trainable parameter, batch norm
in training mode): 10 warm-up + --num_batches steps each.  --model
inception_v1 times GoogLeNet as blog part 4 builds it (224x224 images, LRN,
no batch norm, no auxiliary classifiers) and --model inception_resnet_v2
Inception-ResNet-v2 as blog part 7's tflearn code has it after tf-slim's
(299x299 images, no auxiliary classifier).

    python googlenet/benchmark.py               # batch 32, 100 batches, GPU if there is one
    python googlenet/benchmark.py --model inception_v1
    python googlenet/benchmark.py --model inception_resnet_v2
    python googlenet/benchmark.py --help        # every flag (tfcourse/benchmark.py)
"""
import math
import time
from datetime import datetime

from tfcourse.compat import tf, slim
from tfcourse import benchmark, cli


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


def trunc_normal(stddev):
    return tf.truncated_normal_initializer(0.0, stddev)


def inception_v3_arg_scope(weight_decay=0.00004, stddev=0.1,
                           batch_norm_var_collection='moving_vars'):
    """Default arguments of every layer: L2 weight decay, ReLU, batch norm after each conv."""
    batch_norm_params = {
        'decay': 0.9997,
        'epsilon': 0.001,
        'updates_collections': tf.GraphKeys.UPDATE_OPS,
        'variables_collections': {
            'beta': None,
            'gamma': None,
            'moving_mean': [batch_norm_var_collection],
            'moving_variance': [batch_norm_var_collection],
        }
    }
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d],
                            weights_initializer=trunc_normal(stddev),
                            activation_fn=tf.nn.relu,
                            normalizer_fn=slim.batch_norm,
                            normalizer_params=batch_norm_params) as sc:
            return sc


def inception_v3_base(inputs, scope=None, data_format='NHWC'):
    """The convolutional part, from the 299x299x3 input up to Mixed_7c (8x8x2048).

    Returns (net, end_points): end_points maps every layer name to its output.
    """
    end_points = {}
    concat_axis = 3 if data_format == 'NHWC' else 1

    with tf.variable_scope(scope, 'InceptionV3', [inputs]):
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
                            stride=1, padding='VALID'):
            # 299 x 299 x 3
            end_point = 'Conv2d_1a_3x3'
            net = slim.conv2d(inputs, 32, [3, 3], stride=2, scope=end_point)
            end_points[end_point] = net
            # 149 x 149 x 32
            end_point = 'Conv2d_2a_3x3'
            net = slim.conv2d(net, 32, [3, 3], scope=end_point)
            end_points[end_point] = net
            # 147 x 147 x 32
            end_point = 'Conv2d_2b_3x3'
            net = slim.conv2d(net, 64, [3, 3], padding='SAME', scope=end_point)
            end_points[end_point] = net
            # 147 x 147 x 64
            end_point = 'MaxPool_3a_3x3'
            net = slim.max_pool2d(net, [3, 3], stride=2, scope=end_point)
            end_points[end_point] = net
            # 73 x 73 x 64
            end_point = 'Conv2d_3b_1x1'
            net = slim.conv2d(net, 80, [1, 1], scope=end_point)
            end_points[end_point] = net
            # 73 x 73 x 80.
            end_point = 'Conv2d_4a_3x3'
            net = slim.conv2d(net, 192, [3, 3], scope=end_point)
            end_points[end_point] = net
            # 71 x 71 x 192.
            end_point = 'MaxPool_5a_3x3'
            net = slim.max_pool2d(net, [3, 3], stride=2, scope=end_point)
            end_points[end_point] = net
            # 35 x 35 x 192.

        # Inception blocks
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
                            stride=1, padding='SAME'):
            # mixed: 35 x 35 x 256.
            end_point = 'Mixed_5b'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 48, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = slim.conv2d(branch_1, 64, [5, 5], scope='Conv2d_0b_5x5')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 96, [3, 3], scope='Conv2d_0b_3x3')
                    branch_2 = slim.conv2d(branch_2, 96, [3, 3], scope='Conv2d_0c_3x3')
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 32, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net

            # mixed_1: 35 x 35 x 288.
            end_point = 'Mixed_5c'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 48, [1, 1], scope='Conv2d_0b_1x1')
                    branch_1 = slim.conv2d(branch_1, 64, [5, 5], scope='Conv_1_0c_5x5')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 96, [3, 3], scope='Conv2d_0b_3x3')
                    branch_2 = slim.conv2d(branch_2, 96, [3, 3], scope='Conv2d_0c_3x3')
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 64, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net

            # mixed_2: 35 x 35 x 288.
            end_point = 'Mixed_5d'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 48, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = slim.conv2d(branch_1, 64, [5, 5], scope='Conv2d_0b_5x5')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 96, [3, 3], scope='Conv2d_0b_3x3')
                    branch_2 = slim.conv2d(branch_2, 96, [3, 3], scope='Conv2d_0c_3x3')
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 64, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net

            # mixed_3: 17 x 17 x 768.
            end_point = 'Mixed_6a'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 384, [3, 3], stride=2, padding='VALID',
                                           scope='Conv2d_1a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 64, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = slim.conv2d(branch_1, 96, [3, 3], scope='Conv2d_0b_3x3')
                    branch_1 = slim.conv2d(branch_1, 96, [3, 3], stride=2, padding='VALID',
                                           scope='Conv2d_1a_1x1')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.max_pool2d(net, [3, 3], stride=2, padding='VALID',
                                               scope='MaxPool_1a_3x3')
                net = tf.concat([branch_0, branch_1, branch_2], concat_axis)
            end_points[end_point] = net

            # mixed4: 17 x 17 x 768.
            end_point = 'Mixed_6b'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 192, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 128, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = slim.conv2d(branch_1, 128, [1, 7], scope='Conv2d_0b_1x7')
                    branch_1 = slim.conv2d(branch_1, 192, [7, 1], scope='Conv2d_0c_7x1')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 128, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 128, [7, 1], scope='Conv2d_0b_7x1')
                    branch_2 = slim.conv2d(branch_2, 128, [1, 7], scope='Conv2d_0c_1x7')
                    branch_2 = slim.conv2d(branch_2, 128, [7, 1], scope='Conv2d_0d_7x1')
                    branch_2 = slim.conv2d(branch_2, 192, [1, 7], scope='Conv2d_0e_1x7')
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 192, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net

            # mixed_5: 17 x 17 x 768.
            end_point = 'Mixed_6c'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 192, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 160, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = slim.conv2d(branch_1, 160, [1, 7], scope='Conv2d_0b_1x7')
                    branch_1 = slim.conv2d(branch_1, 192, [7, 1], scope='Conv2d_0c_7x1')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 160, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 160, [7, 1], scope='Conv2d_0b_7x1')
                    branch_2 = slim.conv2d(branch_2, 160, [1, 7], scope='Conv2d_0c_1x7')
                    branch_2 = slim.conv2d(branch_2, 160, [7, 1], scope='Conv2d_0d_7x1')
                    branch_2 = slim.conv2d(branch_2, 192, [1, 7], scope='Conv2d_0e_1x7')
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 192, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net
            # mixed_6: 17 x 17 x 768.
            end_point = 'Mixed_6d'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 192, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 160, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = slim.conv2d(branch_1, 160, [1, 7], scope='Conv2d_0b_1x7')
                    branch_1 = slim.conv2d(branch_1, 192, [7, 1], scope='Conv2d_0c_7x1')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 160, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 160, [7, 1], scope='Conv2d_0b_7x1')
                    branch_2 = slim.conv2d(branch_2, 160, [1, 7], scope='Conv2d_0c_1x7')
                    branch_2 = slim.conv2d(branch_2, 160, [7, 1], scope='Conv2d_0d_7x1')
                    branch_2 = slim.conv2d(branch_2, 192, [1, 7], scope='Conv2d_0e_1x7')
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 192, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net

            # mixed_7: 17 x 17 x 768.
            end_point = 'Mixed_6e'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 192, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 192, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = slim.conv2d(branch_1, 192, [1, 7], scope='Conv2d_0b_1x7')
                    branch_1 = slim.conv2d(branch_1, 192, [7, 1], scope='Conv2d_0c_7x1')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 192, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 192, [7, 1], scope='Conv2d_0b_7x1')
                    branch_2 = slim.conv2d(branch_2, 192, [1, 7], scope='Conv2d_0c_1x7')
                    branch_2 = slim.conv2d(branch_2, 192, [7, 1], scope='Conv2d_0d_7x1')
                    branch_2 = slim.conv2d(branch_2, 192, [1, 7], scope='Conv2d_0e_1x7')
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 192, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net

            # mixed_8: 8 x 8 x 1280.
            end_point = 'Mixed_7a'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 192, [1, 1], scope='Conv2d_0a_1x1')
                    branch_0 = slim.conv2d(branch_0, 320, [3, 3], stride=2, padding='VALID',
                                           scope='Conv2d_1a_3x3')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 192, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = slim.conv2d(branch_1, 192, [1, 7], scope='Conv2d_0b_1x7')
                    branch_1 = slim.conv2d(branch_1, 192, [7, 1], scope='Conv2d_0c_7x1')
                    branch_1 = slim.conv2d(branch_1, 192, [3, 3], stride=2, padding='VALID',
                                           scope='Conv2d_1a_3x3')
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.max_pool2d(net, [3, 3], stride=2, padding='VALID',
                                               scope='MaxPool_1a_3x3')
                net = tf.concat([branch_0, branch_1, branch_2], concat_axis)
            end_points[end_point] = net
            # mixed_9: 8 x 8 x 2048.
            end_point = 'Mixed_7b'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 320, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 384, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = tf.concat([
                        slim.conv2d(branch_1, 384, [1, 3], scope='Conv2d_0b_1x3'),
                        slim.conv2d(branch_1, 384, [3, 1], scope='Conv2d_0b_3x1')], concat_axis)
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 448, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 384, [3, 3], scope='Conv2d_0b_3x3')
                    branch_2 = tf.concat([
                        slim.conv2d(branch_2, 384, [1, 3], scope='Conv2d_0c_1x3'),
                        slim.conv2d(branch_2, 384, [3, 1], scope='Conv2d_0d_3x1')], concat_axis)
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 192, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net

            # mixed_10: 8 x 8 x 2048.
            end_point = 'Mixed_7c'
            with tf.variable_scope(end_point):
                with tf.variable_scope('Branch_0'):
                    branch_0 = slim.conv2d(net, 320, [1, 1], scope='Conv2d_0a_1x1')
                with tf.variable_scope('Branch_1'):
                    branch_1 = slim.conv2d(net, 384, [1, 1], scope='Conv2d_0a_1x1')
                    branch_1 = tf.concat([
                        slim.conv2d(branch_1, 384, [1, 3], scope='Conv2d_0b_1x3'),
                        slim.conv2d(branch_1, 384, [3, 1], scope='Conv2d_0c_3x1')], concat_axis)
                with tf.variable_scope('Branch_2'):
                    branch_2 = slim.conv2d(net, 448, [1, 1], scope='Conv2d_0a_1x1')
                    branch_2 = slim.conv2d(branch_2, 384, [3, 3], scope='Conv2d_0b_3x3')
                    branch_2 = tf.concat([
                        slim.conv2d(branch_2, 384, [1, 3], scope='Conv2d_0c_1x3'),
                        slim.conv2d(branch_2, 384, [3, 1], scope='Conv2d_0d_3x1')], concat_axis)
                with tf.variable_scope('Branch_3'):
                    branch_3 = slim.avg_pool2d(net, [3, 3], scope='AvgPool_0a_3x3')
                    branch_3 = slim.conv2d(branch_3, 192, [1, 1], scope='Conv2d_0b_1x1')
                net = tf.concat([branch_0, branch_1, branch_2, branch_3], concat_axis)
            end_points[end_point] = net
    return net, end_points


def inception_v3(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8,
                 prediction_fn=slim.softmax, spatial_squeeze=True, reuse=None,
                 scope='InceptionV3', data_format='NHWC'):
    """Inception-V3 with the auxiliary classifier; returns (logits, end_points).

    is_training (a Python bool or a tf.bool tensor) switches batch norm and dropout.
    """
    spatial_axes = [1, 2] if data_format == 'NHWC' else [2, 3]
    with tf.variable_scope(scope, 'InceptionV3', [inputs, num_classes], reuse=reuse) as scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v3_base(inputs, scope=scope, data_format=data_format)

            # Auxiliary classifier on Mixed_6e (17 x 17 x 768)
            with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d],
                                stride=1, padding='SAME'):
                aux_logits = end_points['Mixed_6e']
                with tf.variable_scope('AuxLogits'):
                    aux_logits = slim.avg_pool2d(aux_logits, [5, 5], stride=3, padding='VALID',
                                                 scope='AvgPool_1a_5x5')
                    aux_logits = slim.conv2d(aux_logits, 128, [1, 1], scope='Conv2d_1b_1x1')
                    aux_logits = slim.conv2d(aux_logits, 768, [5, 5],
                                             weights_initializer=trunc_normal(0.01),
                                             padding='VALID', scope='Conv2d_2a_5x5')
                    aux_logits = slim.conv2d(aux_logits, num_classes, [1, 1], activation_fn=None,
                                             normalizer_fn=None,
                                             weights_initializer=trunc_normal(0.001),
                                             scope='Conv2d_2b_1x1')
                    if spatial_squeeze:
                        aux_logits = tf.squeeze(aux_logits, spatial_axes, name='SpatialSqueeze')
                    end_points['AuxLogits'] = aux_logits

            # Final classifier: 8x8 average pool, dropout, 1x1 conv to num_classes
            with tf.variable_scope('Logits'):
                net = slim.avg_pool2d(net, [8, 8], padding='VALID', scope='AvgPool_1a_8x8')
                net = slim.dropout(net, keep_prob=dropout_keep_prob, scope='Dropout_1b')
                end_points['PreLogits'] = net
                logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                     normalizer_fn=None, scope='Conv2d_1c_1x1')
                if spatial_squeeze:
                    logits = tf.squeeze(logits, spatial_axes, name='SpatialSqueeze')
            end_points['Logits'] = logits
            end_points['Predictions'] = prediction_fn(logits, scope='Predictions')
    return logits, end_points


# ---------------------------------------------------------------- Inception v1 (GoogLeNet)

#: the nine Inception modules of GoogLeNet with the paper's filter counts (its Table 1, which
#: blog part 4's code follows): #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.  The
#: names are tf-slim's (Mixed_3b is the paper's 3a); a name alone is the 3x3 max pooling with
#: stride 2 between two groups of modules.
INCEPTION_V1_MODULES = [
    ('Mixed_3b', (64, 96, 128, 16, 32, 32)), ('Mixed_3c', (128, 128, 192, 32, 96, 64)),
    'MaxPool_4a_3x3',
    ('Mixed_4b', (192, 96, 208, 16, 48, 64)), ('Mixed_4c', (160, 112, 224, 24, 64, 64)),
    ('Mixed_4d', (128, 128, 256, 24, 64, 64)), ('Mixed_4e', (112, 144, 288, 32, 64, 64)),
    ('Mixed_4f', (256, 160, 320, 32, 128, 128)),
    'MaxPool_5a_3x3',
    ('Mixed_5b', (256, 160, 320, 32, 128, 128)), ('Mixed_5c', (384, 192, 384, 48, 128, 128)),
]


def local_response_norm(inputs, scope, data_format='NHWC'):
    """LRN as blog part 4's GoogLeNet has it (caffe's lrn(2, 2e-05, 0.75)).

    tf.nn.lrn normalises across the last axis only, and its GPU kernel is float32 only:
    NCHW goes through NHWC, float16/bfloat16 through float32."""
    with tf.name_scope(scope):
        x = tf.transpose(inputs, [0, 2, 3, 1]) if data_format == 'NCHW' else inputs
        x = tf.nn.lrn(tf.cast(x, tf.float32), depth_radius=2, bias=1.0, alpha=2e-05, beta=0.75)
        x = tf.transpose(x, [0, 3, 1, 2]) if data_format == 'NCHW' else x
        return tf.cast(x, inputs.dtype)


def inception_v1_module(net, depths, scope, data_format='NHWC'):
    """Four branches concatenated: 1x1; 1x1 reduce, 3x3; 1x1 reduce, 5x5; 3x3 max pool, 1x1."""
    d_1x1, d_3x3_reduce, d_3x3, d_5x5_reduce, d_5x5, d_pool_proj = depths
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(net, d_1x1, [1, 1], scope='Conv2d_0a_1x1')
        with tf.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(net, d_3x3_reduce, [1, 1], scope='Conv2d_0a_1x1')
            branch_1 = slim.conv2d(branch_1, d_3x3, [3, 3], scope='Conv2d_0b_3x3')
        with tf.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(net, d_5x5_reduce, [1, 1], scope='Conv2d_0a_1x1')
            branch_2 = slim.conv2d(branch_2, d_5x5, [5, 5], scope='Conv2d_0b_5x5')
        with tf.variable_scope('Branch_3'):
            branch_3 = slim.max_pool2d(net, [3, 3], scope='MaxPool_0a_3x3')
            branch_3 = slim.conv2d(branch_3, d_pool_proj, [1, 1], scope='Conv2d_0b_1x1')
        return tf.concat([branch_0, branch_1, branch_2, branch_3],
                         3 if data_format == 'NHWC' else 1)


def inception_v1(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.6,
                 scope='InceptionV1', data_format='NHWC'):
    """GoogLeNet as blog part 4 builds it (its caffe model and tflearn code): convolutions with
    biases and ReLU, LRN after the first pooling and after Conv2d_2c_3x3, no batch norm, no
    auxiliary classifiers; dropout drops 40 % (the paper's).  Returns (logits, end_points)."""
    end_points = {}
    spatial_axes = [1, 2] if data_format == 'NHWC' else [2, 3]
    with tf.variable_scope(scope, 'InceptionV1', [inputs]):
        with slim.arg_scope([slim.conv2d], activation_fn=tf.nn.relu, normalizer_fn=None,
                            weights_initializer=slim.xavier_initializer(),
                            weights_regularizer=slim.l2_regularizer(0.0002)), \
                slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                               padding='SAME', data_format=data_format):
            # 224 x 224 x 3
            net = slim.conv2d(inputs, 64, [7, 7], stride=2, scope='Conv2d_1a_7x7')
            end_points['Conv2d_1a_7x7'] = net
            # 112 x 112 x 64
            net = slim.max_pool2d(net, [3, 3], stride=2, scope='MaxPool_2a_3x3')
            net = local_response_norm(net, 'LRN_2a', data_format)
            end_points['MaxPool_2a_3x3'] = net
            # 56 x 56 x 64
            net = slim.conv2d(net, 64, [1, 1], scope='Conv2d_2b_1x1')
            end_points['Conv2d_2b_1x1'] = net
            net = slim.conv2d(net, 192, [3, 3], scope='Conv2d_2c_3x3')
            net = local_response_norm(net, 'LRN_2c', data_format)
            end_points['Conv2d_2c_3x3'] = net
            net = slim.max_pool2d(net, [3, 3], stride=2, scope='MaxPool_3a_3x3')
            end_points['MaxPool_3a_3x3'] = net
            # 28 x 28 x 192: modules 3a-3b; 14 x 14: 4a-4e; 7 x 7: 5a-5b
            for module in INCEPTION_V1_MODULES:
                if isinstance(module, str):
                    net = slim.max_pool2d(net, [3, 3], stride=2, scope=module)
                    end_points[module] = net
                else:
                    end_point, depths = module
                    net = inception_v1_module(net, depths, end_point, data_format)
                    end_points[end_point] = net
            # 7 x 7 x 1024
            with tf.variable_scope('Logits'):
                net = slim.avg_pool2d(net, [7, 7], padding='VALID', scope='AvgPool_0a_7x7')
                net = slim.dropout(net, dropout_keep_prob, is_training=is_training,
                                   scope='Dropout_0b')
                logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                     weights_regularizer=None, scope='Conv2d_0c_1x1')
                logits = tf.squeeze(logits, spatial_axes, name='SpatialSqueeze')
            end_points['Logits'] = logits
    return logits, end_points


# ---------------------------------------------------------------- Inception-ResNet-v2

def residual_sum(net, branches, scale, activation_fn, concat_axis):
    """The end of every residual Inception block: the branches concatenated, a linear 1x1
    convolution back to the input's depth, scaled, added to the input, then ReLU (or not)."""
    mixed = tf.concat(branches, concat_axis)
    up = slim.conv2d(mixed, net.get_shape()[concat_axis], 1, normalizer_fn=None,
                     activation_fn=None, scope='Conv2d_1x1')
    net += scale * up
    if activation_fn:
        net = activation_fn(net)
    return net


@slim.add_arg_scope
def block35(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, data_format='NHWC'):
    """The 35x35 residual Inception block (Inception-ResNet-A): three towers, concatenated,
    a linear 1x1 convolution back to the input's depth, scaled and added to the input."""
    concat_axis = 3 if data_format == 'NHWC' else 1
    with tf.variable_scope(scope, 'Block35', [net]):
        with tf.variable_scope('Branch_0'):
            tower_conv = slim.conv2d(net, 32, 1, scope='Conv2d_1x1')
        with tf.variable_scope('Branch_1'):
            tower_conv1_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
            tower_conv1_1 = slim.conv2d(tower_conv1_0, 32, 3, scope='Conv2d_0b_3x3')
        with tf.variable_scope('Branch_2'):
            tower_conv2_0 = slim.conv2d(net, 32, 1, scope='Conv2d_0a_1x1')
            tower_conv2_1 = slim.conv2d(tower_conv2_0, 48, 3, scope='Conv2d_0b_3x3')
            tower_conv2_2 = slim.conv2d(tower_conv2_1, 64, 3, scope='Conv2d_0c_3x3')
        return residual_sum(net, [tower_conv, tower_conv1_1, tower_conv2_2], scale,
                            activation_fn, concat_axis)


@slim.add_arg_scope
def block17(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, data_format='NHWC'):
    """The 17x17 residual Inception block (Inception-ResNet-B), with 1x7 and 7x1 convolutions."""
    concat_axis = 3 if data_format == 'NHWC' else 1
    with tf.variable_scope(scope, 'Block17', [net]):
        with tf.variable_scope('Branch_0'):
            tower_conv = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
        with tf.variable_scope('Branch_1'):
            tower_conv1_0 = slim.conv2d(net, 128, 1, scope='Conv2d_0a_1x1')
            tower_conv1_1 = slim.conv2d(tower_conv1_0, 160, [1, 7], scope='Conv2d_0b_1x7')
            tower_conv1_2 = slim.conv2d(tower_conv1_1, 192, [7, 1], scope='Conv2d_0c_7x1')
        return residual_sum(net, [tower_conv, tower_conv1_2], scale, activation_fn, concat_axis)


@slim.add_arg_scope
def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, data_format='NHWC'):
    """The 8x8 residual Inception block (Inception-ResNet-C), with 1x3 and 3x1 convolutions."""
    concat_axis = 3 if data_format == 'NHWC' else 1
    with tf.variable_scope(scope, 'Block8', [net]):
        with tf.variable_scope('Branch_0'):
            tower_conv = slim.conv2d(net, 192, 1, scope='Conv2d_1x1')
        with tf.variable_scope('Branch_1'):
            tower_conv1_0 = slim.conv2d(net, 192, 1, scope='Conv2d_0a_1x1')
            tower_conv1_1 = slim.conv2d(tower_conv1_0, 224, [1, 3], scope='Conv2d_0b_1x3')
            tower_conv1_2 = slim.conv2d(tower_conv1_1, 256, [3, 1], scope='Conv2d_0c_3x1')
        return residual_sum(net, [tower_conv, tower_conv1_2], scale, activation_fn, concat_axis)


def inception_resnet_v2(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8,
                        scope='InceptionResnetV2', data_format='NHWC'):
    """Inception-ResNet-v2 as blog part 7 writes it (tflearn, after tf-slim's): the stem
    and Mixed_5b, 10 x block35 (scale 0.17), Mixed_6a (reduction to 17x17), 20 x block17
    (0.10), Mixed_7a (reduction to 8x8), 9 x block8 (0.20) and a last one without ReLU,
    Conv2d_7b_1x1, average pooling, dropout and the logits; no auxiliary classifier (the
    blog's has none).  Returns (logits, end_points)."""
    end_points = {}
    concat_axis = 3 if data_format == 'NHWC' else 1
    with tf.variable_scope(scope, 'InceptionResnetV2', [inputs]):
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training), \
                slim.arg_scope([block35, block17, block8], data_format=data_format), \
                slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                               padding='SAME'):
            # 299 x 299 x 3
            net = slim.conv2d(inputs, 32, 3, stride=2, padding='VALID', scope='Conv2d_1a_3x3')
            end_points['Conv2d_1a_3x3'] = net
            # 149 x 149 x 32
            net = slim.conv2d(net, 32, 3, padding='VALID', scope='Conv2d_2a_3x3')
            end_points['Conv2d_2a_3x3'] = net
            # 147 x 147 x 32
            net = slim.conv2d(net, 64, 3, scope='Conv2d_2b_3x3')
            end_points['Conv2d_2b_3x3'] = net
            # 147 x 147 x 64
            net = slim.max_pool2d(net, 3, stride=2, padding='VALID', scope='MaxPool_3a_3x3')
            end_points['MaxPool_3a_3x3'] = net
            # 73 x 73 x 64
            net = slim.conv2d(net, 80, 1, padding='VALID', scope='Conv2d_3b_1x1')
            end_points['Conv2d_3b_1x1'] = net
            # 73 x 73 x 80
            net = slim.conv2d(net, 192, 3, padding='VALID', scope='Conv2d_4a_3x3')
            end_points['Conv2d_4a_3x3'] = net
            # 71 x 71 x 192
            net = slim.max_pool2d(net, 3, stride=2, padding='VALID', scope='MaxPool_5a_3x3')
            end_points['MaxPool_5a_3x3'] = net

            # 35 x 35 x 320
            with tf.variable_scope('Mixed_5b'):
                with tf.variable_scope('Branch_0'):
                    tower_conv = slim.conv2d(net, 96, 1, scope='Conv2d_1x1')
                with tf.variable_scope('Branch_1'):
                    tower_conv1_0 = slim.conv2d(net, 48, 1, scope='Conv2d_0a_1x1')
                    tower_conv1_1 = slim.conv2d(tower_conv1_0, 64, 5, scope='Conv2d_0b_5x5')
                with tf.variable_scope('Branch_2'):
                    tower_conv2_0 = slim.conv2d(net, 64, 1, scope='Conv2d_0a_1x1')
                    tower_conv2_1 = slim.conv2d(tower_conv2_0, 96, 3, scope='Conv2d_0b_3x3')
                    tower_conv2_2 = slim.conv2d(tower_conv2_1, 96, 3, scope='Conv2d_0c_3x3')
                with tf.variable_scope('Branch_3'):
                    tower_pool = slim.avg_pool2d(net, 3, scope='AvgPool_0a_3x3')
                    tower_pool_1 = slim.conv2d(tower_pool, 64, 1, scope='Conv2d_0b_1x1')
                net = tf.concat([tower_conv, tower_conv1_1, tower_conv2_2, tower_pool_1],
                                concat_axis)
            end_points['Mixed_5b'] = net
            net = slim.repeat(net, 10, block35, scale=0.17)
            end_points['Repeat_block35'] = net

            # 17 x 17 x 1088
            with tf.variable_scope('Mixed_6a'):
                with tf.variable_scope('Branch_0'):
                    tower_conv = slim.conv2d(net, 384, 3, stride=2, padding='VALID',
                                             scope='Conv2d_1a_3x3')
                with tf.variable_scope('Branch_1'):
                    tower_conv1_0 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
                    tower_conv1_1 = slim.conv2d(tower_conv1_0, 256, 3, scope='Conv2d_0b_3x3')
                    tower_conv1_2 = slim.conv2d(tower_conv1_1, 384, 3, stride=2,
                                                padding='VALID', scope='Conv2d_1a_3x3')
                with tf.variable_scope('Branch_2'):
                    tower_pool = slim.max_pool2d(net, 3, stride=2, padding='VALID',
                                                 scope='MaxPool_1a_3x3')
                net = tf.concat([tower_conv, tower_conv1_2, tower_pool], concat_axis)
            end_points['Mixed_6a'] = net
            net = slim.repeat(net, 20, block17, scale=0.10)
            end_points['Repeat_1_block17'] = net

            # 8 x 8 x 2080
            with tf.variable_scope('Mixed_7a'):
                with tf.variable_scope('Branch_0'):
                    tower_conv = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
                    tower_conv_1 = slim.conv2d(tower_conv, 384, 3, stride=2, padding='VALID',
                                               scope='Conv2d_1a_3x3')
                with tf.variable_scope('Branch_1'):
                    tower_conv1 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
                    tower_conv1_1 = slim.conv2d(tower_conv1, 288, 3, stride=2, padding='VALID',
                                                scope='Conv2d_1a_3x3')
                with tf.variable_scope('Branch_2'):
                    tower_conv2 = slim.conv2d(net, 256, 1, scope='Conv2d_0a_1x1')
                    tower_conv2_1 = slim.conv2d(tower_conv2, 288, 3, scope='Conv2d_0b_3x3')
                    tower_conv2_2 = slim.conv2d(tower_conv2_1, 320, 3, stride=2,
                                                padding='VALID', scope='Conv2d_1a_3x3')
                with tf.variable_scope('Branch_3'):
                    tower_pool = slim.max_pool2d(net, 3, stride=2, padding='VALID',
                                                 scope='MaxPool_1a_3x3')
                net = tf.concat([tower_conv_1, tower_conv1_1, tower_conv2_2, tower_pool],
                                concat_axis)
            end_points['Mixed_7a'] = net
            net = slim.repeat(net, 9, block8, scale=0.20)
            net = block8(net, activation_fn=None)
            end_points['Block8'] = net

            # 8 x 8 x 1536
            net = slim.conv2d(net, 1536, 1, scope='Conv2d_7b_1x1')
            end_points['Conv2d_7b_1x1'] = net
            with tf.variable_scope('Logits'):
                net = slim.avg_pool2d(net, 8, padding='VALID', scope='AvgPool_1a_8x8')
                net = slim.flatten(net)
                net = slim.dropout(net, dropout_keep_prob, scope='Dropout')
                end_points['PreLogitsFlatten'] = net
                logits = slim.fully_connected(net, num_classes, activation_fn=None,
                                              scope='Logits')
            end_points['Logits'] = logits
    return logits, end_points


def inception_resnet_v2_arg_scope(weight_decay=0.00004, batch_norm_decay=0.9997,
                                  batch_norm_epsilon=0.001, data_format='NHWC'):
    """Default arguments of every layer: L2 weight decay, ReLU, batch norm (no scale) after
    each convolution but the blocks' linear 1x1 ones."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        biases_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], activation_fn=tf.nn.relu,
                            normalizer_fn=slim.batch_norm,
                            normalizer_params={'decay': batch_norm_decay,
                                               'epsilon': batch_norm_epsilon,
                                               'fused': None}), \
                slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d,
                                slim.batch_norm], data_format=data_format) as scope:
            return scope


# ---------------------------------------------------------------- the model to time

#: --model: (the name printed and recorded, the side of the random images)
MODELS = {'inception_v1': ('Inception-V1', 224), 'inception_v3': ('Inception-V3', 299),
          'inception_resnet_v2': ('Inception-ResNet-V2', 299)}


def inference(images, is_training, data_format='NHWC', model='inception_v3'):
    """The --model network in its arg_scope; returns (logits, aux_logits or None).

    ``is_training`` (a Python bool) switches batch norm and dropout; in inference mode it
    prints every layer."""
    if model == 'inception_v3':
        with slim.arg_scope(inception_v3_arg_scope()):
            with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d,
                                 slim.batch_norm], data_format=data_format):
                logits, end_points = inception_v3(images, is_training=is_training,
                                                  data_format=data_format)
        aux_logits = end_points['AuxLogits']
    elif model == 'inception_v1':
        logits, end_points = inception_v1(images, is_training=is_training,
                                          data_format=data_format)
        aux_logits = None
    else:
        with slim.arg_scope(inception_resnet_v2_arg_scope(data_format=data_format)):
            logits, end_points = inception_resnet_v2(images, is_training=is_training,
                                                     data_format=data_format)
        aux_logits = None
    if not is_training:
        for name in end_points:
            print_activations(end_points[name])
    return logits, aux_logits


def add_model_flag(parser):
    """--model: which network to time."""
    parser.add_argument('--model', choices=sorted(MODELS), default='inception_v3',
                        help='inception_v3 (default, the report\'s), inception_v1 (GoogLeNet, '
                             'blog part 4) or inception_resnet_v2 (blog part 7)')


def run_benchmark(argv=None):
    """Time the --model network's forward pass (batch norm and dropout in inference mode, as
    the book times Inception-V3) and forward-backward pass (in training mode) on random
    images; tfcourse/benchmark.py supplies the flags, the towers (--num_gpus), the compute
    dtype (--dtype), the efficiency figures and the JSON record."""
    bench = benchmark.Benchmark(__doc__, lambda args: MODELS[args.model][0],
                                lambda args: MODELS[args.model][1], argv,
                                float32_ops=lambda args: (('LRN',) if args.model == 'inception_v1'
                                                          else ()),
                                add_flags=add_model_flag)
    args = bench.args
    with tf.Graph().as_default():
        towers = []
        for images in bench.tower_images():  # a batch of random images per device
            logits, _ = inference(images, False, args.data_format, args.model)
            # the same network (its variables reused) in training mode, for the backward pass
            with tf.variable_scope(tf.get_variable_scope(), reuse=True):
                train_logits, aux_logits = inference(images, True, args.data_format,
                                                     args.model)
            # Add a simple objective so we can calculate the backward pass.
            objective = tf.nn.l2_loss(tf.cast(train_logits, tf.float32))
            if aux_logits is not None:  # Inception-V3's auxiliary classifier
                objective += tf.nn.l2_loss(tf.cast(aux_logits, tf.float32))
            # Compute the gradient with respect to all the parameters.
            parameters = tf.trainable_variables()
            grad = tf.gradients(objective, parameters)
            towers.append((logits, objective, list(zip(grad, parameters))))
        net = bench.assemble(towers)

        with bench.session(net) as sess:
            # Run the forward benchmark.
            forward = time_tensorflow_run(sess, net.forward, 'Forward', args.num_batches,
                                          net.images_per_batch, None, args.num_warmup)
            backward = None
            if not args.forward_only:
                # Run the backward benchmark.
                backward = time_tensorflow_run(sess, net.backward, 'Forward-backward',
                                               args.num_batches, net.images_per_batch, None,
                                               args.num_warmup)
            one_tower = bench.one_tower(sess, net, time_tensorflow_run)
    bench.record(net, forward, backward, one_tower)
    return 0


if __name__ == '__main__':
    cli.run(run_benchmark)
