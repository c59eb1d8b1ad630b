"""DenseNet-BC trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The weekly notes' DenseNet (Huang et al., "Densely connected convolutional
networks": the network and the dense block drawn in week 1) in the paper's
CIFAR form with its bottleneck (B) and compression (C): a 3x3 convolution with
2k filters, then three dense blocks joined by transitions. In a dense block
each layer sees the concatenation of every earlier layer's maps and adds k
new ones (the growth rate, 12 here): batch norm, ReLU, a 1x1 convolution to
4k maps (the bottleneck), batch norm, ReLU, a 3x3 convolution to k maps. A
transition halves the maps (compression 0.5: batch norm, ReLU, 1x1
convolution) and the size (2x2 average pooling). A last batch norm and ReLU,
global average pooling and a softmax layer. --depth L gives (L - 4) / 6
layers a block: 100 (16 a block, 0.8 M parameters on CIFAR-10, the paper's
DenseNet-BC k = 12), or shallower for CPU runs, e.g. 40 (6 a block). The
paper's recipe: SGD with Nesterov momentum 0.9 from a learning rate of 0.1,
divided by 10 at half and three quarters of the training (--lr_drops
0.5,0.75; the project's default is a third and two thirds), batch 64, L2
weight decay 1e-4, no bias in the convolutions. Written with tf_slim; the
``is_training`` placeholder switches batch norm between batch statistics and
its moving averages.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python resnet/train_densenet.py --dataset mnist5k --steps 300 --depth 40   # a quick look
    python resnet/train_densenet.py --dataset fashion_mnist --epochs 10 --depth 40
    python resnet/train_densenet.py --dataset cifar10 --epochs 300 --lr_drops 0.5,0.75
    tensorboard --logdir runs/densenet_bc

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export
(.npz and .txt) and the trained model as a TF Serving SavedModel (export/<step>/,
--export_dir) go to --checkpoint_dir (default runs/densenet_bc/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'densenet_bc'
#: this project's target for the test accuracy (the weekly notes give no accuracy)
TARGETS = {'fashion_mnist': 0.93}
GROWTH_RATE = 12   # k: the maps each layer adds
COMPRESSION = 0.5  # theta: the share of maps a transition keeps


def bn_relu_conv(inputs, depth, kernel_size, scope):
    """Batch norm, ReLU, then a convolution (no bias): the composite function of DenseNet."""
    with tf.variable_scope(scope):
        net = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='bn')
        return slim.conv2d(net, depth, kernel_size, scope='conv')


def dense_block(net, layers, growth_rate, scope):
    """``layers`` bottleneck layers, each adding growth_rate maps to the concatenation."""
    with tf.variable_scope(scope):
        for i in range(1, layers + 1):
            with tf.variable_scope('layer%d' % i):
                new = bn_relu_conv(net, 4 * growth_rate, [1, 1], 'bottleneck')
                new = bn_relu_conv(new, growth_rate, [3, 3], 'conv3x3')
            net = tf.concat([net, new], axis=3)
    return net


def transition(net, scope):
    """Compression (batch norm, ReLU, 1x1 convolution to COMPRESSION of the maps) and 2x2
    average pooling."""
    with tf.variable_scope(scope):
        depth = int(net.get_shape().as_list()[3] * COMPRESSION)
        net = bn_relu_conv(net, depth, [1, 1], 'compress')
        return slim.avg_pool2d(net, [2, 2], stride=2, padding='SAME', scope='pool')


def inference(images, num_classes, is_training, depth=100, width=1.0, weight_decay=1e-4):
    """DenseNet-BC-``depth`` (k = GROWTH_RATE times --width) for small images; returns the
    logits."""
    layers = (depth - 4) // 6
    growth_rate = training.scaled(GROWTH_RATE, width)
    batch_norm_params = {'is_training': is_training, 'decay': 0.9, 'epsilon': 1e-5,
                         'scale': True, 'updates_collections': tf.GraphKeys.UPDATE_OPS}
    with slim.arg_scope([slim.conv2d], padding='SAME', activation_fn=None,
                        biases_initializer=None,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)), \
            slim.arg_scope([slim.batch_norm], **batch_norm_params):
        net = slim.conv2d(images, 2 * growth_rate, [3, 3], scope='conv1')
        net = dense_block(net, layers, growth_rate, 'block1')
        net = transition(net, 'transition1')
        net = dense_block(net, layers, growth_rate, 'block2')
        net = transition(net, 'transition2')
        net = dense_block(net, layers, growth_rate, 'block3')
        net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')
    net = tf.reduce_mean(net, [1, 2], name='global_pool')
    return slim.fully_connected(net, num_classes, activation_fn=None,
                                weights_regularizer=slim.l2_regularizer(weight_decay),
                                scope='logits')


def check_depth(depth):
    """--depth: 4 + 6 x the layers of a block (two convolutions a layer, three blocks)."""
    if depth < 10 or (depth - 4) % 6:
        raise cli.UserError('--depth %d: DenseNet-BC has depth 4 + 6n (40, 64, 100, ...); '
                            'use one of those' % depth)
    return depth


def main(argv=None):
    parser = training.parser(__doc__, NAME, dataset='fashion_mnist', learning_rate=0.1)
    parser.add_argument('--depth', type=int, default=100,
                        help='layers: 4 + 6 x the layers of a dense block (default '
                             '%(default)s: DenseNet-BC-100)')
    args = training.parse_args(parser, argv, NAME)
    check_depth(args.depth)
    data = training.load_data(args)

    tf.set_random_seed(args.seed)
    images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    with training.compute_dtype(args.dtype):  # --dtype: float32 weights, 16-bit layers
        logits = inference(training.to_unit(images, args.dtype), data.num_classes, is_training,
                           args.depth, args.width, args.weight_decay)
    logits = tf.cast(logits, tf.float32)

    cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    # weight decay is summed in the layers' dtype (--dtype), the loss in float32
    loss = cross_entropy + tf.cast(tf.losses.get_regularization_loss(), tf.float32)
    correct_prediction = tf.equal(tf.argmax(logits, 1), labels)
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    global_step = tf.train.get_or_create_global_step()
    # SGD with Nesterov momentum 0.9 (the paper's); the learning rate falls tenfold at
    # --lr_drops (default: a third, two thirds)
    learning_rate = training.step_schedule(global_step, args.learning_rate, args.steps,
                                           args.lr_drops)
    optimizer = training.optimizer(
        tf.train.MomentumOptimizer(learning_rate, 0.9, use_nesterov=True), args)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):  # batch norm
        train_op = optimizer.minimize(loss, global_step=global_step)
    summary = training.add_summaries(images, cross_entropy, accuracy, learning_rate)

    def test():
        return training.evaluate(sess, [cross_entropy, accuracy],
                                 {images: data.test_images, labels: data.test_labels})

    with tf.Session(config=session_config()) as sess:
        run = training.Run(sess, args, NAME, data, TARGETS.get(args.dataset))
        for step, (batch_images, batch_labels) in run.steps():
            feed = {images: batch_images, labels: batch_labels, is_training: True}
            if run.logging(step):
                _, batch_loss, batch_accuracy, rate, summaries = sess.run(
                    [train_op, cross_entropy, accuracy, learning_rate, summary], feed_dict=feed)
                run.log(step, summaries, loss=batch_loss, accuracy=batch_accuracy,
                        learning_rate=rate)
            else:
                _, batch_loss = sess.run([train_op, cross_entropy], feed_dict=feed)
            run.check_finite(step, batch_loss)
            if run.testing(step):
                run.test(step, *test())
            run.save(step)
        run.finish(test)
        run.export(images, logits)  # a SavedModel for TF Serving (--export_dir)
    return 0


if __name__ == '__main__':
    cli.run(main)
