"""AlexNet-8 trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The course's AlexNet-8 for 32x32 images (the book's AlexNet shrunk: 3x3
kernels, no stride-4 first layer): conv 96 and conv 256 (3x3, valid, batch
norm, ReLU, 3x3 max pooling with stride 2), conv 384, 384 and 256 (3x3, same,
ReLU) and a last 3x3/2 max pooling, then two fully connected layers of 2048
units with dropout 0.5 and a softmax layer.  Written with tf_slim:
``arg_scope`` sets padding, initializer and L2 weight decay; the
``is_training`` placeholder switches batch norm (batch statistics or moving
averages) and dropout (on or off).  Adam, the learning rate divided by 10
after a third and after two thirds of the steps.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python alexnet/train.py --dataset mnist5k --steps 300 --width 0.25   # a quick look
    python alexnet/train.py --dataset mnist --epochs 3 --width 0.5
    python alexnet/train.py --dataset cifar10 --epochs 40 --restore       # continue a run
    tensorboard --logdir runs/alexnet8

Checkpoints, TensorBoard events, history, JSON result, curves and the weights
export (.npz and .txt) go to --checkpoint_dir (default runs/alexnet8/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim

NAME = 'alexnet8'
#: the test accuracies this script is meant to reach (issue 11)
TARGETS = {'mnist': 0.993, 'fashion_mnist': 0.91}


def parse_args(argv=None):
    parser = training.build_parser(__doc__)
    training.add_flags(parser, NAME, dataset='mnist', steps=3000, batch_size=64,
                       learning_rate=1e-3, weight_decay=1e-4)
    return training.parse_args(parser, argv, NAME)


# ---------------------------------------------------------------- the model
def inference(images, num_classes, is_training, width=1.0, weight_decay=1e-4):
    """AlexNet-8 for small images; returns the logits."""
    batch_norm_params = {'is_training': is_training, 'decay': 0.9,
                         'updates_collections': tf.GraphKeys.UPDATE_OPS}
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], padding='SAME'):
            net = slim.conv2d(images, training.scaled(96, width), [3, 3], padding='VALID',
                              normalizer_fn=slim.batch_norm,
                              normalizer_params=batch_norm_params, scope='conv1')
            net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
            net = slim.conv2d(net, training.scaled(256, width), [3, 3], padding='VALID',
                              normalizer_fn=slim.batch_norm,
                              normalizer_params=batch_norm_params, scope='conv2')
            net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool2')
            net = slim.conv2d(net, training.scaled(384, width), [3, 3], scope='conv3')
            net = slim.conv2d(net, training.scaled(384, width), [3, 3], scope='conv4')
            net = slim.conv2d(net, training.scaled(256, width), [3, 3], scope='conv5')
            net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool5')
        net = slim.flatten(net, scope='flatten')
        net = slim.fully_connected(net, training.scaled(2048, width), scope='fc6')
        net = slim.dropout(net, 0.5, is_training=is_training, scope='dropout6')
        net = slim.fully_connected(net, training.scaled(2048, width), scope='fc7')
        net = slim.dropout(net, 0.5, is_training=is_training, scope='dropout7')
        return slim.fully_connected(net, num_classes, activation_fn=None, scope='logits')


def build_model(image_shape, num_classes, args):
    """inference() in the training graph every model folder shares (tfcourse/training.py:
    uint8 image placeholders scaled to [0, 1], cross-entropy, Adam, a stepped schedule)."""
    def network(x, is_training):
        return inference(x, num_classes, is_training, args.width, args.weight_decay)

    return training.build_model(network, image_shape, args)


if __name__ == '__main__':
    cli.run(lambda argv: training.main(NAME, parse_args, build_model, TARGETS, argv))
