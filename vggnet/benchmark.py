"""VGG-16 forward / forward-backward timing benchmark (TensorFlow实战, chapter 6.2).

VGG-16 (13 3x3 convolutions in 5 blocks, then fc6/fc7 with dropout and fc8)
is built with the book's conv_op / fc_op / mpool_op helpers on a batch of
random 224x224 images held in a tf.Variable.  ``time_tensorflow_run`` times
the forward pass (the predictions, keep_prob 1.0) and the forward-backward
pass (the gradients of an l2 loss on fc8 with respect to all 138 million
parameters, keep_prob 0.5): 10 warm-up + --num_batches steps each.

    python vggnet/benchmark.py                       # batch 32, 100 batches, GPU if there is one
    python vggnet/benchmark.py --device cpu --num_batches 10 --json results/benchmarks/vgg16_cpu_b32.json
"""
import argparse
import math
import os
import platform
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tfcourse import cli  # noqa: E402
from tfcourse.compat import tf, gpu_names, session_config  # noqa: E402

MODEL = 'VGG-16'
IMAGE_SIZE = 224


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


def count_parameters(variables):
    """Number of scalars in a list of variables."""
    total = 0
    for v in variables:
        n = 1
        for d in v.get_shape().as_list():
            n *= d
        total += n
    return total


def count_flops(graph, batch_size):
    """FLOPs of one forward pass per image: 2 x the multiply-adds of every Conv2D and MatMul.

    Call it right after building the model, before tf.gradients adds the backward ops.
    """
    flops = 0
    for op in graph.get_operations():
        if op.type == 'Conv2D':
            kh, kw, n_in, _ = op.inputs[1].get_shape().as_list()
            n = 1
            for d in op.outputs[0].get_shape().as_list():
                n *= d
            flops += 2 * n * kh * kw * n_in
        elif op.type == 'MatMul':
            a = op.inputs[0].get_shape().as_list()
            m, k = (a[1], a[0]) if op.get_attr('transpose_a') else (a[0], a[1])
            n_out = op.outputs[0].get_shape().as_list()[1]
            flops += 2 * m * k * n_out
    return flops // batch_size


def add_benchmark_flags(parser):
    """The flags every benchmark script has."""
    parser.add_argument('--batch_size', type=int, default=32,
                        help='images per batch (per tower with --num_gpus) (default 32)')
    parser.add_argument('--num_batches', type=int, default=100,
                        help='timed batches per pass (default 100)')
    parser.add_argument('--num_warmup', type=int, default=10,
                        help='untimed warm-up batches before each timing (default 10)')
    parser.add_argument('--device', choices=['cpu', 'gpu'], default=None,
                        help='where to run (default: gpu if TensorFlow sees one, else cpu)')
    parser.add_argument('--data_format', choices=['NHWC', 'NCHW'], default='NHWC',
                        help='NHWC (channels last, default) or NCHW (channels first, for GPUs)')
    parser.add_argument('--forward_only', action='store_true',
                        help='time only the forward pass')
    parser.add_argument('--xla', action='store_true', help='compile the graph with XLA')
    parser.add_argument('--fp16', action='store_true', help='images and weights in float16')
    parser.add_argument('--num_gpus', type=int, default=0,
                        help='build one tower per device (data parallel), gradients '
                             'averaged on the CPU; 0 (default) builds the single graph '
                             'of the book; with --device cpu the towers all go on the CPU')
    parser.add_argument('--seed', type=int, default=1, help='graph-level random seed')
    parser.add_argument('--json', default=None, metavar='PATH',
                        help='also write the result as JSON to PATH')


def check_benchmark_flags(args):
    """Validate the flags (cli.UserError names the fix); fills in args.device and args.devices."""
    for name in ('batch_size', 'num_batches'):
        if getattr(args, name) <= 0:
            raise cli.UserError('--%s must be a positive integer, got %d'
                                % (name, getattr(args, name)))
    if args.num_warmup < 0:
        raise cli.UserError('--num_warmup must be 0 or more, got %d' % args.num_warmup)
    if args.num_gpus < 0:
        raise cli.UserError('--num_gpus must be 0 or more, got %d' % args.num_gpus)
    gpus = gpu_names()
    if args.device is None:
        args.device = 'gpu' if gpus else 'cpu'
    if args.device == 'gpu' and not gpus:
        raise cli.UserError('--device gpu but TensorFlow sees no GPU (is the CUDA build of '
                            'tensorflow installed?); run with --device cpu')
    if args.device == 'gpu' and args.num_gpus > len(gpus):
        raise cli.UserError('--num_gpus %d but this machine has only %d GPU(s); use '
                            '--num_gpus %d or fewer' % (args.num_gpus, len(gpus), len(gpus)))
    towers = max(args.num_gpus, 1)
    if args.device == 'gpu':
        args.devices = ['/gpu:%d' % i for i in range(towers)]
    else:
        args.devices = ['/cpu:0'] * towers
    return args


def run_benchmark(args, net):
    """Initialise the variables and time the forward (and forward-backward) pass of ``net``.

    With several towers, also times tower 0 alone in the same graph, the
    one-device baseline of the scaling efficiency.  Returns {'forward': (mean,
    sd), 'forward_backward': (mean, sd) or None, 'one_tower': the same or None}.
    """
    passes = [(net['forward'], net['backward'], len(args.devices), '')]
    if len(args.devices) > 1:
        passes.append((net['forward_one_tower'], net['backward_one_tower'], 1,
                       ' (tower 0 alone)'))
    results = []
    with tf.Session(config=session_config(xla=args.xla)) as sess:
        try:
            sess.run(tf.global_variables_initializer())
            for forward, backward, towers, suffix in passes:
                timings = {'forward': None, 'forward_backward': None}
                timings['forward'] = time_tensorflow_run(
                    sess, forward, 'Forward' + suffix, args.num_batches,
                    args.batch_size * towers, net['forward_feed'], args.num_warmup)
                if not args.forward_only:
                    timings['forward_backward'] = time_tensorflow_run(
                        sess, backward, 'Forward-backward' + suffix, args.num_batches,
                        args.batch_size * towers, net['backward_feed'], args.num_warmup)
                results.append(timings)
        except tf.errors.ResourceExhaustedError as exc:
            raise cli.UserError('out of memory at --batch_size %d (%s); try a smaller '
                                '--batch_size'
                                % (args.batch_size, exc.message.splitlines()[0][:150]))
        except (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError) as exc:
            if args.data_format != 'NCHW' and not args.fp16:
                raise
            raise cli.UserError('TensorFlow has no %s kernel for this model with%s%s (%s); '
                                'use --data_format NHWC without --fp16 on the CPU'
                                % (args.device.upper(),
                                   ' --data_format NCHW' if args.data_format == 'NCHW' else '',
                                   ' --fp16' if args.fp16 else '',
                                   exc.message.splitlines()[0][:150]))
    timings = results[0]
    timings['one_tower'] = results[1] if len(results) > 1 else None
    return timings


def benchmark_record(args, model, net, timings):
    """The machine-readable result (what --json writes); prints the multi-tower summary."""
    towers = len(args.devices)
    record = {
        'model': model, 'batch_size': args.batch_size, 'num_batches': args.num_batches,
        'num_warmup': args.num_warmup, 'device': args.device, 'num_towers': towers,
        'num_gpus': args.num_gpus,
        'device_names': gpu_names() if args.device == 'gpu' else [platform.processor() or
                                                                   platform.machine()],
        'cpu_count': os.cpu_count(), 'data_format': args.data_format, 'fp16': args.fp16,
        'xla': args.xla, 'tf_version': tf.__version__,
        'parameters': count_parameters(net['parameters']), 'flops_per_image': net['flops'],
        'date': datetime.now().isoformat(timespec='seconds'), 'command': ' '.join(sys.argv),
    }
    for key in ('forward', 'forward_backward'):
        if timings[key] is None:
            record[key] = None
            continue
        mean, sd = timings[key]
        images_per_sec = args.batch_size * towers / mean
        record[key] = {'mean_sec_per_batch': mean, 'sd_sec_per_batch': sd,
                       'images_per_sec': images_per_sec,
                       'images_per_sec_per_device': images_per_sec / towers}
        if timings['one_tower']:
            one_mean = timings['one_tower'][key][0]
            record[key]['one_tower_mean_sec_per_batch'] = one_mean
            record[key]['scaling_efficiency'] = (images_per_sec /
                                                 (towers * args.batch_size / one_mean))
            print('%s: %s: %d towers, %.1f images/sec in total, %.1f per device, '
                  'scaling efficiency %.0f%%' % (datetime.now(), key, towers, images_per_sec,
                                                 images_per_sec / towers,
                                                 100 * record[key]['scaling_efficiency']))
    if timings['forward'] and timings['forward_backward']:
        record['backward_forward_ratio'] = (timings['forward_backward'][0] /
                                            timings['forward'][0])
    return record


def first_elements_sum(tensors):
    """A float32 scalar that needs every tensor in ``tensors`` (the sum of their first elements).

    Fetching it makes TensorFlow compute every gradient while copying 4 bytes
    to the host.  (Fetching the gradient list copies all of them; a bare
    tf.group of them is pruned by Grappler's dependency optimizer on TF 2.x,
    so nothing would be timed.)
    """
    return tf.add_n([tf.cast(tf.reshape(t, [-1])[0], tf.float32) for t in tensors])


def inference_op(input_op, keep_prob, data_format='NHWC'):
    """VGG-16; returns (predictions, softmax, fc8, parameters)."""
    p = []
    df = data_format
    # block 1: 2 x conv 3x3/64, max pool 2x2 -> 112x112
    conv1_1 = conv_op(input_op, name="conv1_1", kh=3, kw=3, n_out=64, dh=1, dw=1, p=p, data_format=df)
    conv1_2 = conv_op(conv1_1, name="conv1_2", kh=3, kw=3, n_out=64, dh=1, dw=1, p=p, data_format=df)
    pool1 = mpool_op(conv1_2, name="pool1", kh=2, kw=2, dh=2, dw=2, data_format=df)
    # block 2: 2 x conv 3x3/128, max pool -> 56x56
    conv2_1 = conv_op(pool1, name="conv2_1", kh=3, kw=3, n_out=128, dh=1, dw=1, p=p, data_format=df)
    conv2_2 = conv_op(conv2_1, name="conv2_2", kh=3, kw=3, n_out=128, dh=1, dw=1, p=p, data_format=df)
    pool2 = mpool_op(conv2_2, name="pool2", kh=2, kw=2, dh=2, dw=2, data_format=df)
    # block 3: 3 x conv 3x3/256, max pool -> 28x28
    conv3_1 = conv_op(pool2, name="conv3_1", kh=3, kw=3, n_out=256, dh=1, dw=1, p=p, data_format=df)
    conv3_2 = conv_op(conv3_1, name="conv3_2", kh=3, kw=3, n_out=256, dh=1, dw=1, p=p, data_format=df)
    conv3_3 = conv_op(conv3_2, name="conv3_3", kh=3, kw=3, n_out=256, dh=1, dw=1, p=p, data_format=df)
    pool3 = mpool_op(conv3_3, name="pool3", kh=2, kw=2, dh=2, dw=2, data_format=df)
    # block 4: 3 x conv 3x3/512, max pool -> 14x14
    conv4_1 = conv_op(pool3, name="conv4_1", kh=3, kw=3, n_out=512, dh=1, dw=1, p=p, data_format=df)
    conv4_2 = conv_op(conv4_1, name="conv4_2", kh=3, kw=3, n_out=512, dh=1, dw=1, p=p, data_format=df)
    conv4_3 = conv_op(conv4_2, name="conv4_3", kh=3, kw=3, n_out=512, dh=1, dw=1, p=p, data_format=df)
    pool4 = mpool_op(conv4_3, name="pool4", kh=2, kw=2, dh=2, dw=2, data_format=df)
    # block 5: 3 x conv 3x3/512, max pool -> 7x7
    conv5_1 = conv_op(pool4, name="conv5_1", kh=3, kw=3, n_out=512, dh=1, dw=1, p=p, data_format=df)
    conv5_2 = conv_op(conv5_1, name="conv5_2", kh=3, kw=3, n_out=512, dh=1, dw=1, p=p, data_format=df)
    conv5_3 = conv_op(conv5_2, name="conv5_3", kh=3, kw=3, n_out=512, dh=1, dw=1, p=p, data_format=df)
    pool5 = mpool_op(conv5_3, name="pool5", kh=2, kw=2, dh=2, dw=2, data_format=df)
    for layer in (conv1_1, conv1_2, pool1, conv2_1, conv2_2, pool2, conv3_1, conv3_2, conv3_3,
                  pool3, conv4_1, conv4_2, conv4_3, pool4, conv5_1, conv5_2, conv5_3, pool5):
        print_activations(layer)

    # flatten 7x7x512 (channels last, so that fc6 sees the same order in NCHW)
    if data_format == 'NCHW':
        pool5 = tf.transpose(pool5, [0, 2, 3, 1])
    shp = pool5.get_shape().as_list()
    flattened_shape = shp[1] * shp[2] * shp[3]
    resh1 = tf.reshape(pool5, [-1, flattened_shape], name="resh1")

    fc6 = fc_op(resh1, name="fc6", n_out=4096, p=p)
    fc6_drop = tf.nn.dropout(fc6, keep_prob, name="fc6_drop")
    fc7 = fc_op(fc6_drop, name="fc7", n_out=4096, p=p)
    fc7_drop = tf.nn.dropout(fc7, keep_prob, name="fc7_drop")
    fc8 = fc_op(fc7_drop, name="fc8", n_out=1000, p=p)
    for layer in (resh1, fc6, fc7, fc8):
        print_activations(layer)
    softmax = tf.nn.softmax(fc8)
    predictions = tf.argmax(softmax, 1)
    return predictions, softmax, fc8, p


def tower(args, keep_prob):
    """Random images in a tf.Variable, VGG-16, the l2 loss on fc8 and its gradients.

    Returns (predictions, loss, gradients, parameters, forward FLOPs per image).
    """
    dtype = tf.float16 if args.fp16 else tf.float32
    if args.data_format == 'NHWC':
        image_shape = [args.batch_size, IMAGE_SIZE, IMAGE_SIZE, 3]
    else:
        image_shape = [args.batch_size, 3, IMAGE_SIZE, IMAGE_SIZE]
    images = tf.Variable(tf.random_normal(image_shape, dtype=dtype, stddev=1e-1),
                         trainable=False, name='images')
    predictions, softmax, fc8, p = inference_op(images, keep_prob, args.data_format)
    flops = count_flops(tf.get_default_graph(), args.batch_size)
    objective = tf.nn.l2_loss(tf.cast(fc8, tf.float32))
    grad = tf.gradients(objective, p)
    return predictions, objective, grad, p, flops


def build_benchmark(args):
    """One VGG-16 (the book), or one tower per device with --num_gpus; see build_towers.

    Dropout keeps every unit in the forward pass (keep_prob 1.0) and half of
    them in the forward-backward pass (keep_prob 0.5), as in the book.
    """
    keep_prob = tf.placeholder(tf.float16 if args.fp16 else tf.float32, name='keep_prob')
    net = build_towers(args, lambda: tower(args, keep_prob))
    net['forward_feed'] = {keep_prob: 1.0}
    net['backward_feed'] = {keep_prob: 0.5}
    return net


def average_gradients(tower_grads):
    """Average, variable by variable, the (gradient, variable) lists of all towers."""
    average_grads = []
    for grad_and_vars in zip(*tower_grads):
        grads = [tf.expand_dims(g, 0) for g, _ in grad_and_vars]
        grad = tf.reduce_mean(tf.concat(grads, 0), 0)
        average_grads.append((grad, grad_and_vars[0][1]))
    return average_grads


def variables_on_cpu(getter, *args, **kwargs):
    """Custom getter for the towers' variable scope: every variable lives on the CPU."""
    with tf.device('/cpu:0'):
        return getter(*args, **kwargs)


def build_towers(args, tower_fn):
    """The book's single graph (--num_gpus 0), or one tower per device (data parallel).

    ``tower_fn()`` builds random images, the model, its l2 loss and the
    gradients on the current device and returns (output, loss, grads,
    parameters, flops).  Towers share their variables (kept on the CPU,
    variable scope reuse), each has its own batch, and their gradients are
    averaged on the CPU.  Returns what run_benchmark fetches: the output(s)
    for the forward pass and a scalar that needs every (averaged) gradient.
    """
    if args.num_gpus == 0:
        with tf.device(args.devices[0]):
            output, loss, grads, parameters, flops = tower_fn()
        return {'forward': output, 'backward': first_elements_sum(grads), 'loss': loss,
                'grads_and_vars': list(zip(grads, parameters)), 'parameters': parameters,
                'flops': flops}
    outputs, losses, tower_grads = [], [], []
    for i, device in enumerate(args.devices):
        with tf.device(device), tf.name_scope('tower_%d' % i), \
                tf.variable_scope(tf.get_variable_scope(), reuse=i > 0,
                                  custom_getter=variables_on_cpu):
            output, loss, grads, parameters, tower_flops = tower_fn()
        if i == 0:
            flops = tower_flops
        outputs.append(output)
        losses.append(loss)
        tower_grads.append(list(zip(grads, parameters)))
    with tf.device('/cpu:0'):
        grads_and_vars = average_gradients(tower_grads)
        loss = tf.add_n(losses) / len(losses)
    return {'forward': outputs, 'backward': first_elements_sum([g for g, _ in grads_and_vars]),
            'loss': loss, 'grads_and_vars': grads_and_vars, 'parameters': parameters,
            'flops': flops, 'forward_one_tower': outputs[0],
            'backward_one_tower': first_elements_sum([g for g, _ in tower_grads[0]])}


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
        timings = run_benchmark(args, net)
        record = benchmark_record(args, MODEL, net, timings)
    if args.json:
        cli.write_json(args.json, record)
        print('wrote', args.json)
    return 0


if __name__ == '__main__':
    cli.run(main)
