"""ResNet-32 (He et al.'s CIFAR-10 form) trained on small images: MNIST, Fashion-MNIST, CIFAR-10.

Blog part 5's tflearn residual network for CIFAR-10 ("32 layers: n=5"): a 3x3
convolution with 16 filters, then three stages of n = 5 pre-activation residual
units (batch norm and ReLU before each of two 3x3 convolutions, the input
added back) with 16, 32 and 64 filters, the first unit of stages 2 and 3
halving the size with stride 2; where it does, the shortcut keeps every second
pixel (tflearn's 1x1 average pooling with stride 2) and is zero-padded to the
new number of channels (half the new channels on each side), so that the
shortcuts hold no parameters. A last batch norm and ReLU, global average
pooling and a softmax layer: 0.46 M parameters on CIFAR-10. As in the blog's
recipe: the images zero-centred per channel (the training set's mean), L2
weight decay 1e-4, Momentum 0.9 from a learning rate of 0.1, batch 128, and
on CIFAR-10 random crops (4-pixel zero padding) and flips (--augment). The
learning rate falls tenfold after a third and two thirds of the steps here
(--lr_drops to move them); the blog's falls once, after 32000 steps of its
200 epochs. Written with tf_slim; the ``is_training`` placeholder switches
batch norm between batch statistics and its moving averages.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python resnet/train_cifar.py --dataset mnist5k --steps 300        # a quick look
    python resnet/train_cifar.py --dataset fashion_mnist --epochs 15 --augment flip
    python resnet/train_cifar.py --dataset cifar10 --epochs 200 --restore  # the blog's run
    tensorboard --logdir runs/resnet32

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export
(.npz and .txt) and the trained model as a TF Serving SavedModel (export/<step>/,
--export_dir) go to --checkpoint_dir (default runs/resnet32/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'resnet32'
#: this project's target for the test accuracy (blog part 5 gives no accuracy)
TARGETS = {'fashion_mnist': 0.93}
#: units per stage; blog part 5: "32 layers: n=5, 56 layers: n=9, 110 layers: n=18"
UNITS = 5


def residual_unit(inputs, depth, stride, scope):
    """Pre-activation unit: BN-ReLU-conv 3x3 (stride), BN-ReLU-conv 3x3, + the shortcut
    (subsampled and zero-padded to ``depth`` channels where the shape changes)."""
    with tf.variable_scope(scope):
        depth_in = inputs.get_shape().as_list()[3]
        net = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
        net = slim.conv2d(net, depth, [3, 3], stride=stride, scope='conv1')
        net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='bn2')
        net = slim.conv2d(net, depth, [3, 3], scope='conv2')
        shortcut = inputs
        if stride > 1:
            shortcut = slim.avg_pool2d(shortcut, [1, 1], stride=stride, scope='subsample')
        if depth != depth_in:
            pad = (depth - depth_in) // 2
            shortcut = tf.pad(shortcut, [[0, 0], [0, 0], [0, 0], [pad, depth - depth_in - pad]])
        return net + shortcut


def inference(images, num_classes, is_training, width=1.0, weight_decay=1e-4):
    """ResNet-32 for small images; returns the logits."""
    batch_norm_params = {'is_training': is_training, 'decay': 0.9, 'epsilon': 1e-5,
                         'scale': True, 'updates_collections': tf.GraphKeys.UPDATE_OPS}
    with slim.arg_scope([slim.conv2d], padding='SAME', activation_fn=None,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)), \
            slim.arg_scope([slim.batch_norm], **batch_norm_params):
        net = slim.conv2d(images, training.scaled(16, width), [3, 3], scope='conv1')
        for stage, depth in enumerate((16, 32, 64), 1):
            with tf.variable_scope('stage%d' % stage):
                for unit in range(1, UNITS + 1):
                    stride = 2 if stage > 1 and unit == 1 else 1
                    net = residual_unit(net, training.scaled(depth, width), stride,
                                        'unit%d' % unit)
        net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')
        net = tf.reduce_mean(net, [1, 2], name='global_pool')
        return slim.fully_connected(net, num_classes, activation_fn=None,
                                    weights_regularizer=slim.l2_regularizer(weight_decay),
                                    scope='logits')


def main(argv=None):
    parser = training.parser(__doc__, NAME, dataset='fashion_mnist', batch_size=128,
                             learning_rate=0.1)
    args = training.parse_args(parser, argv, NAME)
    data = training.load_data(args)

    tf.set_random_seed(args.seed)
    images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    # zero-centred per channel with the training set's mean (tflearn's featurewise_zero_center)
    channel_mean = tf.constant(data.train_images.mean(axis=(0, 1, 2)) / 255.0, tf.float32,
                               name='channel_mean')
    with training.compute_dtype(args.dtype):  # --dtype: float32 weights, 16-bit layers
        unit_images = training.to_unit(images, args.dtype)
        centred = unit_images - tf.cast(channel_mean, unit_images.dtype)
        logits = inference(centred, data.num_classes, is_training, args.width,
                           args.weight_decay)
    logits = tf.cast(logits, tf.float32)

    cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    # weight decay is summed in the layers' dtype (--dtype), the loss in float32
    loss = cross_entropy + tf.cast(tf.losses.get_regularization_loss(), tf.float32)
    correct_prediction = tf.equal(tf.argmax(logits, 1), labels)
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    global_step = tf.train.get_or_create_global_step()
    # Momentum 0.9 as in blog part 5; the learning rate falls tenfold at --lr_drops
    # (default: a third, two thirds)
    learning_rate = training.step_schedule(global_step, args.learning_rate, args.steps,
                                           args.lr_drops)
    optimizer = training.optimizer(tf.train.MomentumOptimizer(learning_rate, 0.9), args)
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
