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
from tfcourse import cli, training
from tfcourse.compat import tf, slim

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
    """inference() in the training graph every model folder shares (tfcourse/training.py:
    uint8 image placeholders scaled to [0, 1], cross-entropy, Adam, a stepped schedule)."""
    def network(x, is_training):
        return inference(x, num_classes, is_training, args.width, args.weight_decay)

    return training.build_model(network, image_shape, args)


if __name__ == '__main__':
    cli.run(lambda argv: training.main(NAME, parse_args, build_model, TARGETS, argv))
