"""Inception-10 trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The PKU lecture's Inception10 (p40_cifar10_inception10.py), a small GoogLeNet
for 32x32 images: a 3x3 convolution with 16 filters, then two blocks of two
Inception modules (the first with stride 2), 16 and then 32 filters per
branch, global average pooling and a softmax layer. An Inception module has
four branches concatenated on the channel axis: 1x1; 1x1 then 3x3; 1x1 then
5x5; 3x3 max pooling then 1x1. Written with tf_slim: ``arg_scope`` gives every
convolution batch norm, ReLU and L2 weight decay, and the ``is_training``
placeholder switches batch norm between batch statistics and its moving
averages. Adam as in the lecture; the learning rate divided by 10 after a
third and after two thirds of the steps is this project's schedule.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python googlenet/train.py --dataset mnist5k --steps 300           # a quick look
    python googlenet/train.py --dataset fashion_mnist --epochs 10 --width 2
    python googlenet/train.py --dataset cifar10 --epochs 60 --restore  # continue a run
    tensorboard --logdir runs/inception10

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export
(.npz and .txt) and the trained model as a TF Serving SavedModel (export/<step>/,
--export_dir) go to --checkpoint_dir (default runs/inception10/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'inception10'
#: this project's targets for the test accuracy (the PKU lecture states none)
TARGETS = {'fashion_mnist': 0.91}


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


def main(argv=None):
    args = training.parse_args(training.parser(__doc__, NAME, dataset='fashion_mnist'), argv,
                               NAME)
    data = training.load_data(args)

    tf.set_random_seed(args.seed)
    images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    with training.compute_dtype(args.dtype):  # --dtype: float32 weights, 16-bit layers
        logits = inference(training.to_unit(images, args.dtype), data.num_classes, is_training,
                           args.width, args.weight_decay)
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
