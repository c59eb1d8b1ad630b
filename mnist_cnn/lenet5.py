"""LeNet-5 trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The course's LeNet-5: a 5x5 convolution with 6 filters and 2x2 max pooling, a
5x5 convolution with 16 filters and 2x2 max pooling, fully connected layers
of 120 and 84 units and a softmax layer (valid padding, so a 28x28 digit
leaves 4x4x16 features and a 32x32 CIFAR image 5x5x16).  The course uses
sigmoid units; ``--activation relu`` (the default here) trains faster and
further.  LeNet-5 has neither batch norm nor dropout: the ``is_training``
placeholder of the other train scripts is there but switches nothing.  Adam,
the learning rate divided by 10 after a third and after two thirds of the steps.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python mnist_cnn/lenet5.py --dataset mnist5k --steps 300          # a quick look
    python mnist_cnn/lenet5.py --dataset mnist --epochs 10
    python mnist_cnn/lenet5.py --dataset cifar10 --epochs 30 --restore  # continue a run
    tensorboard --logdir runs/lenet5

Checkpoints, TensorBoard events, history, JSON result, curves and the weights
export (.npz and .txt) go to --checkpoint_dir (default runs/lenet5/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim

NAME = 'lenet5'
#: the test accuracies this script is meant to reach (issue 11)
TARGETS = {'mnist': 0.990, 'fashion_mnist': 0.89}


def parse_args(argv=None):
    parser = training.build_parser(__doc__)
    training.add_flags(parser, NAME, dataset='mnist', steps=3000, batch_size=64,
                       learning_rate=1e-3, weight_decay=0.0)
    parser.add_argument('--activation', choices=['relu', 'sigmoid'], default='relu',
                        help='hidden units: relu, or sigmoid as in the course (default relu)')
    return training.parse_args(parser, argv, NAME)


# ---------------------------------------------------------------- the model
ACTIVATIONS = {'relu': tf.nn.relu, 'sigmoid': tf.nn.sigmoid}


def inference(images, num_classes, is_training, width=1.0, weight_decay=0.0, activation='relu'):
    """LeNet-5; returns the logits.  ``is_training`` is unused (no batch norm, no dropout)."""
    regularizer = slim.l2_regularizer(weight_decay) if weight_decay else None
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=ACTIVATIONS[activation],
                        weights_initializer=slim.xavier_initializer(),
                        weights_regularizer=regularizer):
        with slim.arg_scope([slim.conv2d], padding='VALID'):
            net = slim.conv2d(images, training.scaled(6, width), [5, 5], scope='conv1')
            net = slim.max_pool2d(net, [2, 2], stride=2, scope='pool1')
            net = slim.conv2d(net, training.scaled(16, width), [5, 5], scope='conv2')
            net = slim.max_pool2d(net, [2, 2], stride=2, scope='pool2')
        net = slim.flatten(net, scope='flatten')
        net = slim.fully_connected(net, training.scaled(120, width), scope='fc3')
        net = slim.fully_connected(net, training.scaled(84, width), scope='fc4')
        return slim.fully_connected(net, num_classes, activation_fn=None, scope='logits')


def build_model(image_shape, num_classes, args):
    """inference() in the training graph every model folder shares (tfcourse/training.py:
    uint8 image placeholders scaled to [0, 1], cross-entropy, Adam, a stepped schedule)."""
    def network(x, is_training):
        return inference(x, num_classes, is_training, args.width, args.weight_decay,
                         args.activation)

    return training.build_model(network, image_shape, args)


if __name__ == '__main__':
    cli.run(lambda argv: training.main(NAME, parse_args, build_model, TARGETS, argv))
