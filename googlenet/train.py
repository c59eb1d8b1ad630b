"""Inception-10 trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The course's Inception-10, a small GoogLeNet for 32x32 images: a 3x3
convolution with 16 filters, then two blocks of two Inception modules (the
first with stride 2), 16 and then 32 filters per branch, global average
pooling and a softmax layer.  An Inception module has four branches
concatenated on the channel axis: 1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max
pooling then 1x1.  Written with tf_slim: ``arg_scope`` gives every
convolution batch norm, ReLU and L2 weight decay, and the ``is_training``
placeholder switches batch norm between batch statistics and its moving
averages.  Adam, the learning rate divided by 10 after a third and after two
thirds of the steps.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python googlenet/train.py --dataset mnist5k --steps 300           # a quick look
    python googlenet/train.py --dataset fashion_mnist --epochs 10 --width 2
    python googlenet/train.py --dataset cifar10 --epochs 60 --restore  # continue a run
    tensorboard --logdir runs/inception10

Checkpoints, TensorBoard events, history, JSON result, curves and the weights
export (.npz and .txt) go to --checkpoint_dir (default runs/inception10/DATASET/).
"""
from tfcourse import cli, image_data, training
from tfcourse.compat import tf, slim, session_config

NAME = 'inception10'
#: the test accuracies this script is meant to reach (issue 11)
TARGETS = {'fashion_mnist': 0.91}


def parse_args(argv=None):
    parser = training.build_parser(__doc__)
    training.add_flags(parser, NAME, dataset='fashion_mnist', steps=3000, batch_size=64,
                       learning_rate=1e-3, weight_decay=1e-4)
    return training.parse_args(parser, argv, NAME)


# ---------------------------------------------------------------- the model
def inception_module(inputs, depth, stride, scope):
    """Four branches (1x1; 1x1-3x3; 1x1-5x5; 3x3 max pool-1x1) concatenated."""
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(inputs, depth, [1, 1], stride=stride, scope='Conv2d_1x1')
        with tf.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(inputs, depth, [1, 1], stride=stride, scope='Conv2d_1x1')
            branch_1 = slim.conv2d(branch_1, depth, [3, 3], scope='Conv2d_3x3')
        with tf.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(inputs, depth, [1, 1], stride=stride, scope='Conv2d_1x1')
            branch_2 = slim.conv2d(branch_2, depth, [5, 5], scope='Conv2d_5x5')
        with tf.variable_scope('Branch_3'):
            branch_3 = slim.max_pool2d(inputs, [3, 3], stride=1, scope='MaxPool_3x3')
            branch_3 = slim.conv2d(branch_3, depth, [1, 1], stride=stride, scope='Conv2d_1x1')
        return tf.concat([branch_0, branch_1, branch_2, branch_3], axis=3)


def inference(images, num_classes, is_training, width=1.0, weight_decay=1e-4):
    """Inception-10 for small images; returns the logits."""
    batch_norm_params = {'is_training': is_training, 'decay': 0.9,
                         'updates_collections': tf.GraphKeys.UPDATE_OPS}
    with slim.arg_scope([slim.conv2d], padding='SAME', activation_fn=tf.nn.relu,
                        normalizer_fn=slim.batch_norm, normalizer_params=batch_norm_params,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.max_pool2d], padding='SAME'):
            net = slim.conv2d(images, training.scaled(16, width), [3, 3], scope='Conv2d_1')
            depth = 16
            for block in (1, 2):
                net = inception_module(net, training.scaled(depth, width), 2,
                                       'Mixed_%da' % block)
                net = inception_module(net, training.scaled(depth, width), 1,
                                       'Mixed_%db' % block)
                depth *= 2
        net = tf.reduce_mean(net, [1, 2], name='global_pool')
        return slim.fully_connected(net, num_classes, activation_fn=None,
                                    weights_regularizer=slim.l2_regularizer(weight_decay),
                                    scope='logits')


def build_model(image_shape, num_classes, args):
    """Placeholders, the network, loss, accuracy, learning-rate schedule and Adam step."""
    images = tf.placeholder(tf.uint8, [None] + list(image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    x = tf.cast(images, tf.float32) / 255.0
    logits = inference(x, num_classes, is_training, args.width, args.weight_decay)

    with tf.name_scope('loss'):
        cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
        loss = cross_entropy + tf.losses.get_regularization_loss()
    with tf.name_scope('accuracy'):
        correct_prediction = tf.equal(tf.argmax(logits, 1), labels)
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    global_step = tf.train.get_or_create_global_step()
    # the learning rate falls tenfold after a third and after two thirds of the steps
    # (a third rounded up, so that it falls twice, not three times)
    learning_rate = tf.train.exponential_decay(args.learning_rate, global_step,
                                               (args.steps + 2) // 3, 0.1, staircase=True)
    optimizer = tf.train.AdamOptimizer(learning_rate)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):  # batch norm
        train_op = optimizer.minimize(loss, global_step=global_step)
    summary = training.add_summaries(images, cross_entropy, accuracy, learning_rate)
    return dict(images=images, labels=labels, is_training=is_training, logits=logits,
                loss=cross_entropy, accuracy=accuracy, learning_rate=learning_rate,
                global_step=global_step, train_op=train_op, summary=summary)


def main(argv=None):
    args = parse_args(argv)
    data = image_data.load(args.dataset, args.data_dir, image_size=args.image_size)
    training.set_steps(args, data)
    print('data: %d train, %d test images %s from %s; %d steps of %d (%.1f epochs)'
          % (len(data.train_images), len(data.test_images), data.image_shape, data.data_dir,
             args.steps, args.batch_size, args.steps * args.batch_size / len(data.train_images)))

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    net = build_model(data.image_shape, data.num_classes, args)
    with tf.Session(config=session_config()) as sess:
        result = training.fit(sess, net, data, args, NAME, target=TARGETS.get(args.dataset))
    print('test accuracy %.4f' % result['test_accuracy'])
    return 0


if __name__ == '__main__':
    cli.run(main)
