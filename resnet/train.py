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
from tfcourse import cli, image_data, training
from tfcourse.compat import tf, slim, session_config

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
