"""VGG-16 forward / forward-backward timing benchmark (report §2.4, after the book, ch. 6).

VGG-16 (13 3x3 convolutions in 5 blocks, then fc6/fc7 with dropout and fc8)
is built with the book's conv_op / fc_op / mpool_op helpers on a batch of
random 224x224 images held in a tf.Variable.  ``time_tensorflow_run`` times
the forward pass (the logits fc8, keep_prob 1.0; the book fetches their
argmax) and the forward-backward pass (the gradients of an l2 loss on fc8
with respect to all 138 million parameters, keep_prob 0.5): 10 warm-up +
--num_batches steps each.

    python vggnet/benchmark.py                  # batch 32, 100 batches, GPU if there is one
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


def run_benchmark(argv=None):
    """Time VGG-16's forward and forward-backward passes on random images, as the book does;
    tfcourse/benchmark.py supplies the flags, the towers (--num_gpus), the compute dtype
    (--dtype), the efficiency figures and the JSON record."""
    bench = benchmark.Benchmark(__doc__, 'VGG-16', 224, argv)
    args = bench.args
    with tf.Graph().as_default():
        keep_prob = tf.placeholder(tf.float32, name='keep_prob')
        towers = []
        for images in bench.tower_images():  # a batch of random 224x224 images per device
            predictions, softmax, fc8, p = inference_op(images, tf.cast(keep_prob, images.dtype),
                                                        args.data_format)
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
