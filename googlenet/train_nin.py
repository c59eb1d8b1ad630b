"""Network in Network trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

Blog part 4's Network in Network (Lin et al.), whose 1x1 convolutions ("cccp",
cross channel pooling) GoogLeNet borrowed, in the paper's CIFAR-10 form:
three mlpconv layers, each a spatial convolution followed by two 1x1
convolutions (5x5/192, 1x1/160, 1x1/96; 5x5/192, 1x1/192, 1x1/192; 3x3/192,
1x1/192, 1x1/num_classes), the first two each ending in 3x3 pooling with
stride 2 (max, then average) and dropout 0.5, the last in global average
pooling in place of fully connected layers: the class scores are the means of
the last 1x1 convolution's maps (blog part 4's ImageNet net ends the same way,
cccp8 then a 6x6 average pool). Every convolution has batch norm and ReLU
(this project's addition: the paper trained without batch norm), with L2
weight decay; written with tf_slim, the ``is_training`` placeholder switching
batch norm and dropout. Adam; the learning rate divided by 10 after a third
and two thirds of the steps is this project's schedule.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python googlenet/train_nin.py --dataset mnist5k --steps 300 --width 0.25   # a quick look
    python googlenet/train_nin.py --dataset fashion_mnist --epochs 10 --width 0.5
    python googlenet/train_nin.py --dataset cifar10 --epochs 60 --restore      # continue a run
    tensorboard --logdir runs/nin

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export
(.npz and .txt) and the trained model as a TF Serving SavedModel (export/<step>/,
--export_dir) go to --checkpoint_dir (default runs/nin/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'nin'
#: this project's target for the test accuracy (blog part 4 gives no accuracy)
TARGETS = {'fashion_mnist': 0.91}


def mlpconv(inputs, depths, kernel_size, scope, last_activation=tf.nn.relu):
    """A kernel_size convolution with depths[0] filters, then 1x1 convolutions with the rest."""
    with tf.variable_scope(scope):
        net = slim.conv2d(inputs, depths[0], kernel_size, scope='conv')
        net = slim.conv2d(net, depths[1], [1, 1], scope='cccp1')
        return slim.conv2d(net, depths[2], [1, 1], activation_fn=last_activation,
                           scope='cccp2')


def inference(images, num_classes, is_training, width=1.0, weight_decay=1e-4):
    """Network in Network for small images; returns the logits."""
    batch_norm_params = {'is_training': is_training, 'decay': 0.9,
                         'updates_collections': tf.GraphKeys.UPDATE_OPS}
    w = lambda depth: training.scaled(depth, width)  # noqa: E731 -- --width
    with slim.arg_scope([slim.conv2d], padding='SAME', activation_fn=tf.nn.relu,
                        normalizer_fn=slim.batch_norm, normalizer_params=batch_norm_params,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        net = mlpconv(images, (w(192), w(160), w(96)), [5, 5], 'mlpconv1')
        net = slim.max_pool2d(net, [3, 3], stride=2, padding='SAME', scope='pool1')
        net = slim.dropout(net, 0.5, is_training=is_training, scope='dropout1')
        net = mlpconv(net, (w(192), w(192), w(192)), [5, 5], 'mlpconv2')
        net = slim.avg_pool2d(net, [3, 3], stride=2, padding='SAME', scope='pool2')
        net = slim.dropout(net, 0.5, is_training=is_training, scope='dropout2')
        # the last 1x1 convolution gives one map per class (batch norm, no ReLU)
        net = mlpconv(net, (w(192), w(192), num_classes), [3, 3], 'mlpconv3',
                      last_activation=None)
    return tf.reduce_mean(net, [1, 2], name='global_pool')


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
