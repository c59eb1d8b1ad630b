"""VGG-16 with batch norm trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The PKU lecture's VGG16 (p36_cifar10_vgg16.py) for 32x32 images: five groups
of 3x3 convolutions (2 x 64, 2 x 128, 3 x 256, 3 x 512, 3 x 512 filters; each
with batch norm and ReLU), each group ending in 2x2 max pooling (same padding,
so 28x28 works too), then two fully connected layers of 512 units with dropout
0.2 and a softmax layer. --depth 11, 13 or 19 gives the other configurations
of the VGG paper that blog part 5 shows (A, B and E: 1, 1, 2, 2, 2 / 2, 2, 2,
2, 2 / 2, 2, 4, 4, 4 convolutions a group) with the same layers around them.
The lecture also drops 20 % ("D (0.2)") after each group; before the next
batch norm that stalls training at reduced width (digit subset, --width 0.25:
16 % test accuracy after 300 steps with it, 95 % after 150 without), so it is
off unless --group_dropout 0.2. Written with tf_slim:
``arg_scope`` gives every convolution batch norm, ReLU and L2 weight decay,
and the ``is_training`` placeholder switches batch norm (batch statistics or
moving averages) and dropout (on or off). Adam as in the lecture; the learning
rate divided by 10 after a third and after two thirds of the steps is this
project's schedule.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python vggnet/train.py --dataset mnist5k --steps 300 --width 0.25    # a quick look
    python vggnet/train.py --dataset fashion_mnist --epochs 5 --width 0.25
    python vggnet/train.py --dataset cifar10 --epochs 60 --restore        # continue a run
    python vggnet/train.py --dataset fashion_mnist --epochs 9 --width 0.25 --depth 11
    tensorboard --logdir runs/vgg16

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export
(.npz and .txt) and the trained model as a TF Serving SavedModel (export/<step>/,
--export_dir) go to --checkpoint_dir (default runs/vgg16/DATASET/, runs/vgg11/... with
--depth 11).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'vgg{depth}'  # vgg16, or vgg11/vgg13/vgg19 with --depth
#: this project's targets for the test accuracy (the PKU lecture states none)
TARGETS = {'fashion_mnist': 0.925}


#: filters of the convolutions of each group
FILTERS = (64, 128, 256, 512, 512)
#: convolutions a group, by depth (the VGG paper's configurations A, B, D and E; 16 is the PKU
#: lecture's VGG16)
CONVS = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


def inference(images, num_classes, is_training, width=1.0, weight_decay=1e-4, group_dropout=0.0,
              depth=16):
    """VGG-``depth`` with batch norm for small images; returns the logits."""
    batch_norm_params = {'is_training': is_training, 'decay': 0.9,
                         'updates_collections': tf.GraphKeys.UPDATE_OPS}
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], padding='SAME', normalizer_fn=slim.batch_norm,
                            normalizer_params=batch_norm_params):
            net = images
            for group, (filters, convs) in enumerate(zip(FILTERS, CONVS[depth]), 1):
                for layer in range(1, convs + 1):
                    net = slim.conv2d(net, training.scaled(filters, width), [3, 3],
                                      scope='conv%d_%d' % (group, layer))
                net = slim.max_pool2d(net, [2, 2], stride=2, padding='SAME',
                                      scope='pool%d' % group)
                if group_dropout:
                    net = slim.dropout(net, 1.0 - group_dropout, is_training=is_training,
                                       scope='dropout%d' % group)
        net = slim.flatten(net, scope='flatten')
        net = slim.fully_connected(net, training.scaled(512, width), scope='fc6')
        net = slim.dropout(net, 0.8, is_training=is_training, scope='dropout6')
        net = slim.fully_connected(net, training.scaled(512, width), scope='fc7')
        net = slim.dropout(net, 0.8, is_training=is_training, scope='dropout7')
        return slim.fully_connected(net, num_classes, activation_fn=None, scope='logits')


def main(argv=None):
    parser = training.parser(__doc__, NAME, dataset='fashion_mnist')
    parser.add_argument('--group_dropout', type=cli.finite_float, default=0.0,
                        help='drop rate after each convolution group (the PKU lecture: 0.2) '
                             '(default: %(default)s)')
    parser.add_argument('--depth', type=int, choices=sorted(CONVS), default=16,
                        help='weight layers: 11, 13, 16 or 19 (the VGG paper\'s A, B, D, E) '
                             '(default: %(default)s)')
    args = training.parse_args(parser, argv, lambda a: NAME.format(depth=a.depth))
    if not 0.0 <= args.group_dropout < 1.0:
        raise cli.UserError('--group_dropout must be in [0, 1), got %g' % args.group_dropout)
    data = training.load_data(args)

    tf.set_random_seed(args.seed)
    if args.input == 'feed':  # the book's placeholders, fed a batch at every step
        images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
        labels = tf.placeholder(tf.int64, [None], name='labels')
    else:  # --input queue|dataset|constant: a batch made in the graph, on the CPU
        images, labels = training.input_tensors(args, data)
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    with training.compute_dtype(args.dtype):  # --dtype: float32 weights, 16-bit layers
        logits = inference(training.to_unit(images, args.dtype), data.num_classes, is_training,
                           args.width, args.weight_decay, args.group_dropout, args.depth)
    logits = tf.cast(logits, tf.float32)

    cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    # weight decay is summed in the layers' dtype (--dtype), the loss in float32
    loss = cross_entropy + tf.cast(tf.losses.get_regularization_loss(), tf.float32)
    correct_prediction = tf.equal(tf.argmax(logits, 1), labels)
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    global_step = tf.train.get_or_create_global_step()
    # Adam; the learning rate falls tenfold at --lr_drops (default: a third, two thirds)
    learning_rate = training.step_schedule(global_step, args.learning_rate, args.steps,
                                           args.lr_drops)
    optimizer = training.optimizer(tf.train.AdamOptimizer(learning_rate), args)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):  # batch norm
        train_op = optimizer.minimize(loss, global_step=global_step)
    summary = training.add_summaries(images, cross_entropy, accuracy, learning_rate)

    def test():
        return training.evaluate(sess, [cross_entropy, accuracy],
                                 {images: data.test_images, labels: data.test_labels})

    with tf.Session(config=session_config()) as sess:
        run = training.Run(sess, args, NAME.format(depth=args.depth), data,
                           TARGETS.get(args.dataset))
        for step, (batch_images, batch_labels) in run.steps():
            if args.input == 'feed':  # the book's feed_dict
                feed = {images: batch_images, labels: batch_labels, is_training: True}
            else:  # --input queue|dataset|constant: the graph reads its own batch
                feed = {is_training: True}
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
