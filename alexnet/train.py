"""AlexNet-8 trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The PKU lecture's AlexNet8 (p34_cifar10_alexnet8.py) for 32x32 images: the
paper's AlexNet shrunk to 3x3 kernels, no stride-4 first layer, batch norm in
place of LRN ("本课程使用BN替代"): conv 96 and conv 256 (3x3, valid, batch norm,
ReLU, 3x3 max pooling with stride 2), conv 384, 384 and 256 (3x3, same, ReLU)
and a last 3x3/2 max pooling, then two fully connected layers of 2048 units
with dropout 0.5 and a softmax layer. Written with tf_slim: ``arg_scope`` sets
padding, initializer and L2 weight decay; the ``is_training`` placeholder
switches batch norm (batch statistics or moving averages) and dropout (on or
off). Adam as in the lecture; the learning rate divided by 10 after a third
and after two thirds of the steps is this project's schedule.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python alexnet/train.py --dataset mnist5k --steps 300 --width 0.25   # a quick look
    python alexnet/train.py --dataset mnist --epochs 3 --width 0.5
    python alexnet/train.py --dataset cifar10 --epochs 40 --restore       # continue a run
    tensorboard --logdir runs/alexnet8

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export
(.npz and .txt) and the trained model as a TF Serving SavedModel (export/<step>/,
--export_dir) go to --checkpoint_dir (default runs/alexnet8/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'alexnet8'
#: this project's targets for the test accuracy (the PKU lecture states none)
TARGETS = {'mnist': 0.993, 'fashion_mnist': 0.91}


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


def main(argv=None):
    args = training.parse_args(training.parser(__doc__, NAME), argv, NAME)
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
