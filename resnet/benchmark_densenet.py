"""DenseNet-121 forward / forward-backward timing benchmark (the weekly notes' DenseNet).

The weekly notes draw DenseNet (Huang et al., "Densely connected convolutional
networks") and its dense block; this is the paper's ImageNet DenseNet-121
(--depth 169, 201 or 264 for the deeper ones) written out with tf_slim, timed
the way the book times the report's networks (report §2.6 for ResNet-V2): a
7x7/2 convolution with 64 filters and 3x3/2 max pooling, then four dense
blocks of 6, 12, 24 and 16 layers joined by transitions.  In a dense block
each layer sees the concatenation of every earlier layer's maps and adds
k = 32 new ones (batch norm, ReLU, 1x1 convolution to 4k maps, batch norm,
ReLU, 3x3 convolution to k maps); a transition halves the maps (batch norm,
ReLU, 1x1 convolution) and the size (2x2 average pooling).  Then batch norm,
ReLU, global average pooling and 1000 logits, on a batch of random 224x224
images held in a tf.Variable.  ``time_tensorflow_run`` times the forward pass
(logits, batch norm in inference mode) and the forward-backward pass (the
gradients of an l2 loss on the logits with respect to every trainable
parameter, batch norm in training mode): 10 warm-up + --num_batches steps each.

    python resnet/benchmark_densenet.py                 # DenseNet-121, batch 32, 100 batches
    python resnet/benchmark_densenet.py --depth 169     # or 201, 264
    python resnet/benchmark_densenet.py --help          # every flag (tfcourse/benchmark.py)
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


#: layers of the four dense blocks, by depth: depth = 2 x (the layers) + 5 (conv1, the three
#: transitions and the logits)
BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32),
          264: (6, 12, 64, 48)}
GROWTH_RATE = 32   # k: the maps each layer adds
COMPRESSION = 0.5  # the share of maps a transition keeps


def densenet_arg_scope(is_training=True, weight_decay=0.0001, batch_norm_decay=0.99,
                       batch_norm_epsilon=1.001e-5, data_format='NHWC'):
    """Default arguments of every layer: convolutions without bias (batch norm follows), He
    init, L2 weight decay; batch norm with scale.  is_training: a Python bool."""
    with slim.arg_scope([slim.conv2d], activation_fn=None, biases_initializer=None,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)), \
            slim.arg_scope([slim.batch_norm], is_training=is_training, decay=batch_norm_decay,
                           epsilon=batch_norm_epsilon, scale=True,
                           updates_collections=tf.GraphKeys.UPDATE_OPS), \
            slim.arg_scope([slim.conv2d, slim.batch_norm, slim.max_pool2d, slim.avg_pool2d],
                           data_format=data_format) as arg_sc:
        return arg_sc


def bn_relu_conv(net, depth, kernel_size, scope):
    """Batch norm, ReLU, then a convolution: DenseNet's composite function."""
    with tf.variable_scope(scope):
        net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='bn')
        return slim.conv2d(net, depth, kernel_size, scope='conv')


def dense_block(net, layers, scope, concat_axis):
    """``layers`` bottleneck layers, each adding GROWTH_RATE maps to the concatenation."""
    with tf.variable_scope(scope):
        for i in range(1, layers + 1):
            with tf.variable_scope('conv_block%d' % i):
                new = bn_relu_conv(net, 4 * GROWTH_RATE, [1, 1], 'x1')
                new = bn_relu_conv(new, GROWTH_RATE, [3, 3], 'x2')
            net = tf.concat([net, new], concat_axis)
    return net


def transition(net, scope, concat_axis):
    """Batch norm, ReLU, a 1x1 convolution to COMPRESSION of the maps, 2x2 average pooling."""
    with tf.variable_scope(scope):
        depth = int(net.get_shape().as_list()[concat_axis] * COMPRESSION)
        net = bn_relu_conv(net, depth, [1, 1], 'blk')
        return slim.avg_pool2d(net, [2, 2], stride=2, scope='pool')


def densenet(inputs, blocks, num_classes=1000, data_format='NHWC', scope='densenet',
             print_layers=True):
    """DenseNet with ``blocks`` layers in its four dense blocks; returns the logits [N, 1000]
    and prints every block's output (``print_layers``)."""
    concat_axis = 3 if data_format == 'NHWC' else 1
    spatial_axes = [1, 2] if data_format == 'NHWC' else [2, 3]
    layers = []
    with tf.variable_scope(scope, 'densenet', [inputs]):
        # 224 x 224 x 3
        net = slim.conv2d(inputs, 2 * GROWTH_RATE, [7, 7], stride=2, scope='conv1')
        net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='conv1_bn')
        layers.append(net)
        # 112 x 112 x 64
        net = slim.max_pool2d(net, [3, 3], stride=2, padding='SAME', scope='pool1')
        layers.append(net)
        # 56 x 56: block 1; 28 x 28: block 2; 14 x 14: block 3; 7 x 7: block 4
        for i, n in enumerate(blocks, 1):
            net = dense_block(net, n, 'block%d' % i, concat_axis)
            layers.append(net)
            if i < len(blocks):
                net = transition(net, 'transition%d' % i, concat_axis)
                layers.append(net)
        net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='bn')
        net = tf.reduce_mean(net, spatial_axes, name='avg_pool')
        logits = slim.fully_connected(net, num_classes, activation_fn=None,
                                      biases_initializer=tf.zeros_initializer(), scope='fc1000')
        layers += [net, logits]
    if print_layers:
        for layer in layers:
            print_activations(layer)
    return logits


def inference(images, is_training, depth=121, data_format='NHWC'):
    """DenseNet-``depth``, 1000 classes, in its arg_scope; returns the logits [N, 1000].

    ``is_training`` (a Python bool) switches batch norm; the layers are printed in inference
    mode only (the benchmark builds the network twice)."""
    with slim.arg_scope(densenet_arg_scope(is_training=is_training, data_format=data_format)):
        return densenet(images, BLOCKS[depth], 1000, data_format,
                        scope='densenet%d' % depth, print_layers=not is_training)


def add_depth_flag(parser):
    parser.add_argument('--depth', type=int, default=121, choices=sorted(BLOCKS),
                        help='DenseNet depth (default 121)')


def run_benchmark(argv=None):
    """Time DenseNet's forward pass (batch norm in inference mode, as the book times the
    report's networks) and forward-backward pass (in training mode) on random images;
    tfcourse/benchmark.py supplies the flags, the towers (--num_gpus), the compute dtype
    (--dtype), the efficiency figures and the JSON record."""
    bench = benchmark.Benchmark(__doc__, 'DenseNet-{depth}', 224, argv,
                                add_flags=add_depth_flag)
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
