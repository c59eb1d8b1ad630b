"""ResNet-18 trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The course's ResNet-18 for 32x32 images: a 3x3 convolution with 64 filters,
then four blocks of two basic residual units (two 3x3 convolutions with batch
norm, the input added back; a 1x1 convolution with stride 2 on the shortcut
where the size halves), 64/128/256/512 filters, global average pooling and a
softmax layer.  Written with tf_slim: ``arg_scope`` gives every convolution
batch norm, ReLU and L2 weight decay, and the ``is_training`` placeholder
switches batch norm between batch statistics (training) and its moving
averages (test).  Adam, the learning rate divided by 10 after a third and
after two thirds of the steps.

    python setup/get_data.py mnist5k                         # once (or mnist, fashion_mnist)
    python resnet/train.py --dataset mnist5k --steps 300 --width 0.25      # a quick look
    python resnet/train.py --dataset fashion_mnist --epochs 10 --width 0.5
    python resnet/train.py --dataset cifar10 --epochs 60 --restore         # continue a run
    tensorboard --logdir runs/resnet18

Checkpoints, TensorBoard events, history, JSON result, curves and the weights
export (.npz and .txt) go to --checkpoint_dir (default runs/resnet18/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim

NAME = 'resnet18'
#: the test accuracies this script is meant to reach (issue 11)
TARGETS = {'mnist': 0.995, 'fashion_mnist': 0.93}


def parse_args(argv=None):
    parser = training.build_parser(__doc__)
    training.add_flags(parser, NAME, dataset='mnist', steps=3000, batch_size=64,
                       learning_rate=1e-3, weight_decay=1e-4)
    return training.parse_args(parser, argv, NAME)


# ---------------------------------------------------------------- the model
def residual_unit(inputs, depth, stride, scope):
    """Two 3x3 convolutions (batch norm, ReLU) with the input added back."""
    with tf.variable_scope(scope):
        if stride == 1 and inputs.get_shape()[-1] == depth:
            shortcut = inputs
        else:
            shortcut = slim.conv2d(inputs, depth, [1, 1], stride=stride, activation_fn=None,
                                   scope='shortcut')
        net = slim.conv2d(inputs, depth, [3, 3], stride=stride, scope='conv1')
        net = slim.conv2d(net, depth, [3, 3], activation_fn=None, scope='conv2')
        return tf.nn.relu(net + shortcut)


def inference(images, num_classes, is_training, width=1.0, weight_decay=1e-4):
    """ResNet-18 for small images; returns the logits."""
    batch_norm_params = {'is_training': is_training, 'decay': 0.9, 'epsilon': 1e-5,
                         'updates_collections': tf.GraphKeys.UPDATE_OPS}
    with slim.arg_scope([slim.conv2d], padding='SAME', activation_fn=tf.nn.relu,
                        normalizer_fn=slim.batch_norm, normalizer_params=batch_norm_params,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        net = slim.conv2d(images, training.scaled(64, width), [3, 3], scope='conv1')
        for block, depth in enumerate((64, 128, 256, 512)):
            with tf.variable_scope('block%d' % (block + 1)):
                stride = 1 if block == 0 else 2
                net = residual_unit(net, training.scaled(depth, width), stride, 'unit1')
                net = residual_unit(net, training.scaled(depth, width), 1, 'unit2')
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
