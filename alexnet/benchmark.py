"""AlexNet forward / forward-backward timing benchmark (report §2.3, after the book, ch. 6).

The convolutional part of AlexNet (conv1 .. pool5, with LRN) is built on a
batch of random 224x224 images held in a tf.Variable, so no input pipeline is
timed.  ``time_tensorflow_run`` runs the forward pass (pool5) and then the
forward-backward pass (the gradients of an l2 loss on pool5 with respect to
every parameter) 10 warm-up + --num_batches times and prints the classic
``Forward across 100 steps, X +/- Y sec / batch`` lines (report §2.3.3: 0.016 s
forward, 0.044 s forward-backward).

    python alexnet/benchmark.py                       # batch 32, 100 batches, GPU if there is one
    python alexnet/benchmark.py --dtype bfloat16      # float32 variables, bfloat16 compute
    python alexnet/benchmark.py --help                # every flag (tfcourse/benchmark.py)

Under --dtype float16/bfloat16 the LRN layers are computed in float32 (their
GPU kernel is float32 only; the output says so).
"""
import math
import time
from datetime import datetime

from tfcourse.compat import tf
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


def inference(images, data_format='NHWC'):
    """AlexNet conv1 .. pool5 as report §2.3.2 writes it (after the book); returns (pool5,
    parameters)."""
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
        # Its GPU kernel is float32 only, so float16/bfloat16 go through float32.
        with tf.name_scope(name):
            if data_format == 'NCHW':
                x = tf.transpose(x, [0, 2, 3, 1])
            x = tf.nn.lrn(tf.cast(x, tf.float32), 4, bias=1.0, alpha=0.001 / 9, beta=0.75)
            if data_format == 'NCHW':
                x = tf.transpose(x, [0, 3, 1, 2])
            return tf.cast(x, dtype)

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


def run_benchmark(argv=None):
    """Time AlexNet's forward and forward-backward passes on random images, as the book does;
    tfcourse/benchmark.py supplies the flags, the towers (--num_gpus), the compute dtype
    (--dtype), the efficiency figures and the JSON record."""
    bench = benchmark.Benchmark(__doc__, 'AlexNet', 224, argv, float32_ops=('LRN',))
    args = bench.args
    with tf.Graph().as_default():
        towers = []
        for images in bench.tower_images():  # a batch of random 224x224 images per device
            pool5, _ = inference(images, args.data_format)
            # Add a simple objective so we can calculate the backward pass.
            objective = tf.nn.l2_loss(tf.cast(pool5, tf.float32))
            # Compute the gradient with respect to all the parameters.
            parameters = tf.trainable_variables()
            grad = tf.gradients(objective, parameters)
            towers.append((pool5, objective, list(zip(grad, parameters))))
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
