"""ResNet-V2 forward / forward-backward timing benchmark (report §2.6, after the book, ch. 6).

ResNet-V2 (pre-activation bottleneck units: batch norm and ReLU before each
convolution) is written out below with tf_slim, as in the book: the Block
namedtuple, subsample, conv2d_same, stack_blocks_dense, bottleneck and
resnet_v2, and the 50/101/152/200-layer variants (152 by default, --depth to
choose) on a batch of random 224x224 images held in a tf.Variable.
``time_tensorflow_run`` times the forward pass (logits, batch norm in
inference mode) and the forward-backward pass (the gradients of an l2 loss on
the logits with respect to every trainable parameter, batch norm in training
mode): 10 warm-up + --num_batches steps each.

    python resnet/benchmark.py                  # ResNet-V2-152, batch 32, 100 batches
    python resnet/benchmark.py --depth 50       # or 101, 200
    python resnet/benchmark.py --help           # every flag (tfcourse/benchmark.py)
"""
import collections
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


# Units per block (the last unit of blocks 1-3 has stride 2) for each depth:
# depth = 3 layers x (number of units) + 2 (the root conv1 and the logits).
UNITS_PER_BLOCK = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3)}


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
    """A ResNet block: its scope name, the unit function (bottleneck) and one
    (depth, depth_bottleneck, stride) tuple per unit."""


def subsample(inputs, factor, scope=None):
    """Keep every factor-th pixel (a 1x1 max pool with stride factor)."""
    if factor == 1:
        return inputs
    return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


@slim.add_arg_scope
def conv2d_same(inputs, num_outputs, kernel_size, stride, scope=None, data_format='NHWC'):
    """Strided 2-D convolution with explicit 'SAME' padding, independent of the input size."""
    if stride == 1:
        return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, padding='SAME',
                           scope=scope)
    pad_total = kernel_size - 1
    pad_beg = pad_total // 2
    pad_end = pad_total - pad_beg
    if data_format == 'NHWC':
        paddings = [[0, 0], [pad_beg, pad_end], [pad_beg, pad_end], [0, 0]]
    else:
        paddings = [[0, 0], [0, 0], [pad_beg, pad_end], [pad_beg, pad_end]]
    inputs = tf.pad(inputs, paddings)
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=stride, padding='VALID',
                       scope=scope)


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, outputs_collections=None, print_layers=True):
    """Stack the units of every block; prints each unit's output (``print_layers``)."""
    for block in blocks:
        with tf.variable_scope(block.scope, 'block', [net]) as sc:
            for i, unit in enumerate(block.args):
                with tf.variable_scope('unit_%d' % (i + 1), values=[net]):
                    unit_depth, unit_depth_bottleneck, unit_stride = unit
                    net = block.unit_fn(net, depth=unit_depth,
                                        depth_bottleneck=unit_depth_bottleneck,
                                        stride=unit_stride)
                    if print_layers:
                        print_activations(net)
            net = slim.utils.collect_named_outputs(outputs_collections, sc.name, net)
    return net


def resnet_arg_scope(is_training=True, weight_decay=0.0001, batch_norm_decay=0.997,
                     batch_norm_epsilon=1e-5, batch_norm_scale=True):
    """Default arguments of every layer: L2 weight decay, He init, batch norm, ReLU.

    is_training may be a Python bool or a tf.bool tensor.
    """
    batch_norm_params = {
        'is_training': is_training,
        'decay': batch_norm_decay,
        'epsilon': batch_norm_epsilon,
        'scale': batch_norm_scale,
        'updates_collections': tf.GraphKeys.UPDATE_OPS,
    }
    with slim.arg_scope([slim.conv2d],
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        weights_initializer=slim.variance_scaling_initializer(),
                        activation_fn=tf.nn.relu,
                        normalizer_fn=slim.batch_norm,
                        normalizer_params=batch_norm_params):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.max_pool2d], padding='SAME') as arg_sc:
                return arg_sc


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, outputs_collections=None, scope=None,
               data_format='NHWC'):
    """Pre-activation bottleneck: BN-ReLU, 1x1 conv, 3x3 conv (stride), 1x1 conv, + shortcut."""
    with tf.variable_scope(scope, 'bottleneck_v2', [inputs]) as sc:
        depth_in = inputs.get_shape().as_list()[3 if data_format == 'NHWC' else 1]
        preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
        if depth == depth_in:
            shortcut = subsample(inputs, stride, 'shortcut')
        else:
            shortcut = slim.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None,
                                   activation_fn=None, scope='shortcut')
        residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope='conv1')
        residual = conv2d_same(residual, depth_bottleneck, 3, stride, scope='conv2')
        residual = slim.conv2d(residual, depth, [1, 1], stride=1, normalizer_fn=None,
                               activation_fn=None, scope='conv3')
        output = shortcut + residual
        return slim.utils.collect_named_outputs(outputs_collections, sc.name, output)


def resnet_v2(inputs, blocks, num_classes=None, global_pool=True, include_root_block=True,
              reuse=None, scope=None, data_format='NHWC', print_layers=True):
    """The ResNet-V2 network from ``blocks``; returns (net, end_points); prints every layer's
    output (``print_layers``)."""
    with tf.variable_scope(scope, 'resnet_v2', [inputs], reuse=reuse) as sc:
        end_points_collection = sc.original_name_scope + '_end_points'
        with slim.arg_scope([slim.conv2d, bottleneck, stack_blocks_dense],
                            outputs_collections=end_points_collection), \
                slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.batch_norm],
                               data_format=data_format), \
                slim.arg_scope([conv2d_same, bottleneck], data_format=data_format):
            net = inputs
            if include_root_block:
                # conv1 is not pre-activated: the first unit's preact does it
                with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None):
                    net = conv2d_same(net, 64, 7, stride=2, scope='conv1')
                if print_layers:
                    print_activations(net)
                net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
                if print_layers:
                    print_activations(net)
            net = stack_blocks_dense(net, blocks, print_layers=print_layers)
            net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')
            if global_pool:
                spatial_axes = [1, 2] if data_format == 'NHWC' else [2, 3]
                net = tf.reduce_mean(net, spatial_axes, name='pool5', keepdims=True)
                if print_layers:
                    print_activations(net)
            if num_classes is not None:
                net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                                  normalizer_fn=None, scope='logits')
                if print_layers:
                    print_activations(net)
            end_points = slim.utils.convert_collection_to_dict(end_points_collection)
            if num_classes is not None:
                end_points['predictions'] = slim.softmax(net, scope='predictions')
            return net, end_points


def resnet_v2_blocks(depth):
    """The four blocks of ResNet-V2-``depth``: widths 256/512/1024/2048, stride 2 at the
    end of blocks 1-3."""
    n1, n2, n3, n4 = UNITS_PER_BLOCK[depth]
    return [
        Block('block1', bottleneck, [(256, 64, 1)] * (n1 - 1) + [(256, 64, 2)]),
        Block('block2', bottleneck, [(512, 128, 1)] * (n2 - 1) + [(512, 128, 2)]),
        Block('block3', bottleneck, [(1024, 256, 1)] * (n3 - 1) + [(1024, 256, 2)]),
        Block('block4', bottleneck, [(2048, 512, 1)] * n4)]


def inference(images, is_training, depth=152, data_format='NHWC'):
    """ResNet-V2-``depth``, 1000 classes, in the book's arg_scope; returns the logits [N, 1000].

    ``is_training`` (a Python bool) switches batch norm; the layers are printed in inference
    mode only (the benchmark builds the network twice)."""
    with slim.arg_scope(resnet_arg_scope(is_training=is_training)):
        net, end_points = resnet_v2(images, resnet_v2_blocks(depth), 1000,
                                    scope='resnet_v2_%d' % depth, data_format=data_format,
                                    print_layers=not is_training)
    spatial_axes = [1, 2] if data_format == 'NHWC' else [2, 3]
    return tf.squeeze(net, spatial_axes, name='logits')


def add_depth_flag(parser):
    parser.add_argument('--depth', type=int, default=152, choices=sorted(UNITS_PER_BLOCK),
                        help='ResNet-V2 depth (default 152)')


def run_benchmark(argv=None):
    """Time ResNet-V2's forward pass (batch norm and dropout in inference mode, as the book
    times it) and forward-backward pass (in training mode) on random images;
    tfcourse/benchmark.py supplies the flags, the towers (--num_gpus), the compute dtype
    (--dtype), the efficiency figures and the JSON record."""
    bench = benchmark.Benchmark(__doc__, 'ResNet-V2-{depth}', 224, argv, add_flags=add_depth_flag)
    args = bench.args
    with tf.Graph().as_default():
        towers = []
        for images in bench.tower_images():  # a batch of random 224x224 images per device
            logits = inference(images, False, args.depth, args.data_format)
            # the same network (its variables reused) in training mode, for the backward pass
            with tf.variable_scope(tf.get_variable_scope(), reuse=True):
                train_logits = inference(images, True, args.depth, args.data_format)
            # Add a simple objective so we can calculate the backward pass.
            objective = tf.nn.l2_loss(tf.cast(train_logits, tf.float32))
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
