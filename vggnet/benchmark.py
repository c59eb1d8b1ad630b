"""VGG-16 forward / forward-backward timing benchmark (report §2.4, after the book, ch. 6).

VGG-16 (13 3x3 convolutions in 5 blocks, then fc6/fc7 with dropout and fc8)
is built with the book's conv_op / fc_op / mpool_op helpers on a batch of
random 224x224 images held in a tf.Variable.  ``time_tensorflow_run`` times
the forward pass (the logits fc8, keep_prob 1.0; the book fetches their
argmax) and the forward-backward pass (the gradients of an l2 loss on fc8
with respect to all 138 million parameters, keep_prob 0.5): 10 warm-up +
--num_batches steps each.  --depth 11, 13 or 19 builds the VGG paper's other
configurations (A, B, E; blog part 5 shows their table), --depth 11 --lrn
its A-LRN and --conv1x1 its C (1x1 convolutions in groups 3-5 of VGG-16).

    python vggnet/benchmark.py                  # batch 32, 100 batches, GPU if there is one
    python vggnet/benchmark.py --depth 19       # VGG-19 (configuration E)
    python vggnet/benchmark.py --depth 11 --lrn # A-LRN
    python vggnet/benchmark.py --help           # every flag (tfcourse/benchmark.py)
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


#: the VGG paper's configurations (its Table 1), by depth: the filters of each convolution,
#: group by group (A: 11 weight layers, B: 13, D: 16, E: 19; three fc layers follow)
CONFIGS = {
    11: ((64,), (128,), (256, 256), (512, 512), (512, 512)),
    13: ((64, 64), (128, 128), (256, 256), (512, 512), (512, 512)),
    16: ((64, 64), (128, 128), (256, 256, 256), (512, 512, 512), (512, 512, 512)),
    19: ((64, 64), (128, 128), (256, 256, 256, 256), (512, 512, 512, 512),
         (512, 512, 512, 512)),
}


def lrn_op(input_op, name, data_format='NHWC'):
    """The paper's A-LRN normalisation (Krizhevsky's: size 5, k 2, alpha 1e-4, beta 0.75).

    tf.nn.lrn normalises across the last axis only, and its GPU kernel is float32 only:
    NCHW goes through NHWC, float16/bfloat16 through float32."""
    with tf.name_scope(name):
        x = tf.transpose(input_op, [0, 2, 3, 1]) if data_format == 'NCHW' else input_op
        x = tf.nn.lrn(tf.cast(x, tf.float32), depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)
        x = tf.transpose(x, [0, 3, 1, 2]) if data_format == 'NCHW' else x
        return tf.cast(x, input_op.dtype)


def inference_op(input_op, keep_prob, data_format='NHWC', depth=16, lrn=False, conv1x1=False):
    """VGG-``depth`` (configuration A, B, D or E); ``lrn``: A-LRN (LRN after conv1_1);
    ``conv1x1``: configuration C (the last convolution of groups 3-5 is 1x1). Returns
    (predictions, softmax, fc8, parameters)."""
    p = []
    df = data_format
    net = input_op
    # five groups of convolutions (3x3, stride 1, SAME), each ending in 2x2 max pooling:
    # 224 -> 112 -> 56 -> 28 -> 14 -> 7
    for group, filters in enumerate(CONFIGS[depth], 1):
        for layer, n_out in enumerate(filters, 1):
            k = 1 if conv1x1 and group >= 3 and layer == len(filters) else 3
            net = conv_op(net, name="conv%d_%d" % (group, layer), kh=k, kw=k, n_out=n_out,
                          dh=1, dw=1, p=p, data_format=df)
            print_activations(net)
            if lrn and group == 1 and layer == 1:
                net = lrn_op(net, name="lrn1", data_format=df)
        net = mpool_op(net, name="pool%d" % group, kh=2, kw=2, dh=2, dw=2, data_format=df)
        print_activations(net)
    pool5 = net

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


def add_config_flags(parser):
    parser.add_argument('--depth', type=int, default=16, choices=sorted(CONFIGS),
                        help='weight layers: 11, 13, 16 or 19, the VGG paper\'s configurations '
                             'A, B, D and E (default 16)')
    parser.add_argument('--lrn', action='store_true',
                        help='with --depth 11: configuration A-LRN (LRN after the first '
                             'convolution)')
    parser.add_argument('--conv1x1', action='store_true',
                        help='with --depth 16: configuration C (the last convolution of groups '
                             '3-5 is 1x1)')


def model_name(args):
    """VGG-16, VGG-11-LRN (A-LRN), VGG-16-C (configuration C)."""
    return 'VGG-%d%s%s' % (args.depth, '-LRN' if args.lrn else '', '-C' if args.conv1x1 else '')


def run_benchmark(argv=None):
    """Time VGG-16's (--depth, --lrn, --conv1x1: the other configurations) forward and
    forward-backward passes on random images, as the book does;
    tfcourse/benchmark.py supplies the flags, the towers (--num_gpus), the compute dtype
    (--dtype), the efficiency figures and the JSON record."""
    bench = benchmark.Benchmark(__doc__, model_name, 224, argv,
                                float32_ops=lambda args: ('LRN',) if args.lrn else (),
                                add_flags=add_config_flags)
    args = bench.args
    if args.lrn and args.depth != 11 or args.conv1x1 and args.depth != 16:
        raise cli.UserError('--lrn goes with --depth 11 (A-LRN), --conv1x1 with --depth 16 '
                            '(configuration C)')
    with tf.Graph().as_default():
        keep_prob = tf.placeholder(tf.float32, name='keep_prob')
        towers = []
        for images in bench.tower_images():  # a batch of random 224x224 images per device
            predictions, softmax, fc8, p = inference_op(images, tf.cast(keep_prob, images.dtype),
                                                        args.data_format, args.depth, args.lrn,
                                                        args.conv1x1)
            # Add a simple objective so we can calculate the backward pass.
            objective = tf.nn.l2_loss(tf.cast(fc8, tf.float32))
            # Compute the gradient with respect to all the parameters.
            parameters = tf.trainable_variables()
            grad = tf.gradients(objective, parameters)
            towers.append((fc8, objective, list(zip(grad, parameters))))
        # dropout keeps every unit in the forward pass and half of them in the backward pass
        net = bench.assemble(towers, {keep_prob: 1.0}, {keep_prob: 0.5})

        with bench.session(net) as sess:
            # Run the forward benchmark.
            forward = time_tensorflow_run(sess, net.forward, 'Forward', args.num_batches,
                                          net.images_per_batch, {keep_prob: 1.0},
                                          args.num_warmup)
            backward = None
            if not args.forward_only:
                # Run the backward benchmark.
                backward = time_tensorflow_run(sess, net.backward, 'Forward-backward',
                                               args.num_batches, net.images_per_batch,
                                               {keep_prob: 0.5}, args.num_warmup)
            one_tower = bench.one_tower(sess, net, time_tensorflow_run)
    bench.record(net, forward, backward, one_tower)
    return 0


if __name__ == '__main__':
    cli.run(run_benchmark)
