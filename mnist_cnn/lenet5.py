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
from tfcourse import cli, image_data, training
from tfcourse.compat import tf, slim, session_config

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
    """Placeholders, the network, loss, accuracy, learning-rate schedule and Adam step."""
    images = tf.placeholder(tf.uint8, [None] + list(image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    x = tf.cast(images, tf.float32) / 255.0
    logits = inference(x, num_classes, is_training, args.width, args.weight_decay,
                       args.activation)

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
