"""AlexNet forward / forward-backward timing benchmark (TensorFlow实战, chapter 6.1).

The convolutional part of AlexNet (conv1 .. pool5, with LRN) is built on a
batch of random 224x224 images held in a tf.Variable, so no input pipeline is
timed.  ``time_tensorflow_run`` runs the forward pass (pool5) and then the
forward-backward pass (the gradients of an l2 loss on pool5 with respect to
every parameter) 10 warm-up + --num_batches times and prints the classic
``Forward across 100 steps, 0.016 +/- 0.001 sec / batch`` lines.

    python alexnet/benchmark.py                       # batch 32, 100 batches, GPU if there is one
    python alexnet/benchmark.py --device cpu --num_batches 10 --json results/benchmarks/alexnet_cpu_b32.json
"""
import argparse
import math
import time
from datetime import datetime

from tfcourse import cli
from tfcourse.compat import tf
from tfcourse.benchmark import (add_benchmark_flags, check_benchmark_flags, count_parameters,
                                count_flops, build_towers, run_benchmark, benchmark_record)

MODEL = 'AlexNet'
IMAGE_SIZE = 224


def print_activations(t):
    """Print a layer's name and output shape, e.g. ``conv1 [32, 56, 56, 64]``."""
    print(t.op.name, ' ', t.get_shape().as_list())


def inference(images, data_format='NHWC'):
    """AlexNet conv1 .. pool5 as in the book; returns (pool5, parameters)."""
    parameters = []
    dtype = images.dtype
    if data_format == 'NHWC':
        def stride(s):
            return [1, s, s, 1]
    else:
        def stride(s):
            return [1, 1, s, s]

    def lrn(x, name):
        # tf.nn.lrn normalises across the last axis only: NCHW goes through NHWC.
        if data_format == 'NCHW':
            x = tf.transpose(x, [0, 2, 3, 1])
            x = tf.nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9, beta=0.75)
            return tf.transpose(x, [0, 3, 1, 2], name=name)
        return tf.nn.lrn(x, 4, bias=1.0, alpha=0.001 / 9, beta=0.75, name=name)

    # conv1: 11x11, 64 filters, stride 4
    with tf.variable_scope('conv1') as scope:
        kernel = tf.get_variable('weights', [11, 11, 3, 64], dtype,
                                 tf.truncated_normal_initializer(stddev=1e-1))
        conv = tf.nn.conv2d(images, kernel, stride(4), padding='SAME', data_format=data_format)
        biases = tf.get_variable('biases', [64], dtype, tf.zeros_initializer())
        bias = tf.nn.bias_add(conv, biases, data_format=data_format)
        conv1 = tf.nn.relu(bias, name=scope.name)
        parameters += [kernel, biases]
    print_activations(conv1)

    lrn1 = lrn(conv1, 'lrn1')
    pool1 = tf.nn.max_pool(lrn1, ksize=stride(3), strides=stride(2), padding='VALID',
                           data_format=data_format, name='pool1')
    print_activations(pool1)

    # conv2: 5x5, 192 filters
    with tf.variable_scope('conv2') as scope:
        kernel = tf.get_variable('weights', [5, 5, 64, 192], dtype,
                                 tf.truncated_normal_initializer(stddev=1e-1))
        conv = tf.nn.conv2d(pool1, kernel, stride(1), padding='SAME', data_format=data_format)
        biases = tf.get_variable('biases', [192], dtype, tf.zeros_initializer())
        bias = tf.nn.bias_add(conv, biases, data_format=data_format)
        conv2 = tf.nn.relu(bias, name=scope.name)
        parameters += [kernel, biases]
    print_activations(conv2)

    lrn2 = lrn(conv2, 'lrn2')
    pool2 = tf.nn.max_pool(lrn2, ksize=stride(3), strides=stride(2), padding='VALID',
                           data_format=data_format, name='pool2')
    print_activations(pool2)

    # conv3: 3x3, 384 filters
    with tf.variable_scope('conv3') as scope:
        kernel = tf.get_variable('weights', [3, 3, 192, 384], dtype,
                                 tf.truncated_normal_initializer(stddev=1e-1))
        conv = tf.nn.conv2d(pool2, kernel, stride(1), padding='SAME', data_format=data_format)
        biases = tf.get_variable('biases', [384], dtype, tf.zeros_initializer())
        bias = tf.nn.bias_add(conv, biases, data_format=data_format)
        conv3 = tf.nn.relu(bias, name=scope.name)
        parameters += [kernel, biases]
    print_activations(conv3)

    # conv4: 3x3, 256 filters
    with tf.variable_scope('conv4') as scope:
        kernel = tf.get_variable('weights', [3, 3, 384, 256], dtype,
                                 tf.truncated_normal_initializer(stddev=1e-1))
        conv = tf.nn.conv2d(conv3, kernel, stride(1), padding='SAME', data_format=data_format)
        biases = tf.get_variable('biases', [256], dtype, tf.zeros_initializer())
        bias = tf.nn.bias_add(conv, biases, data_format=data_format)
        conv4 = tf.nn.relu(bias, name=scope.name)
        parameters += [kernel, biases]
    print_activations(conv4)

    # conv5: 3x3, 256 filters
    with tf.variable_scope('conv5') as scope:
        kernel = tf.get_variable('weights', [3, 3, 256, 256], dtype,
                                 tf.truncated_normal_initializer(stddev=1e-1))
        conv = tf.nn.conv2d(conv4, kernel, stride(1), padding='SAME', data_format=data_format)
        biases = tf.get_variable('biases', [256], dtype, tf.zeros_initializer())
        bias = tf.nn.bias_add(conv, biases, data_format=data_format)
        conv5 = tf.nn.relu(bias, name=scope.name)
        parameters += [kernel, biases]
    print_activations(conv5)

    pool5 = tf.nn.max_pool(conv5, ksize=stride(3), strides=stride(2), padding='VALID',
                           data_format=data_format, name='pool5')
    print_activations(pool5)
    return pool5, parameters


def tower(args):
    """Random images in a tf.Variable, AlexNet, the l2 loss on pool5 and its gradients.

    Returns (pool5, loss, gradients, parameters, forward FLOPs per image).
    """
    dtype = tf.float16 if args.fp16 else tf.float32
    if args.data_format == 'NHWC':
        image_shape = [args.batch_size, IMAGE_SIZE, IMAGE_SIZE, 3]
    else:
        image_shape = [args.batch_size, 3, IMAGE_SIZE, IMAGE_SIZE]
    images = tf.Variable(tf.random_normal(image_shape, dtype=dtype, stddev=1e-1),
                         trainable=False, name='images')
    pool5, parameters = inference(images, args.data_format)
    flops = count_flops(tf.get_default_graph(), args.batch_size)
    objective = tf.nn.l2_loss(tf.cast(pool5, tf.float32))
    grad = tf.gradients(objective, parameters)
    return pool5, objective, grad, parameters, flops


def build_benchmark(args):
    """One AlexNet (the book), or one tower per device with --num_gpus; see build_towers."""
    net = build_towers(args, lambda: tower(args))
    net['forward_feed'] = net['backward_feed'] = None
    return net


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_benchmark_flags(parser)
    args = check_benchmark_flags(parser.parse_args(argv))
    with tf.Graph().as_default():
        tf.set_random_seed(args.seed)
        net = build_benchmark(args)
        print('%s: %d parameters, %.2f GFLOPs per image (forward), batch %d on %s'
              % (MODEL, count_parameters(net['parameters']), net['flops'] / 1e9,
                 args.batch_size, ', '.join(args.devices)))
        timings = run_benchmark(args, net, time_tensorflow_run)
        record = benchmark_record(args, MODEL, net, timings)
    if args.json:
        cli.write_json(args.json, record)
        print('wrote', args.json)
    return 0


if __name__ == '__main__':
    cli.run(main)
