"""LeNet-5 trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

The PKU lecture's LeNet5 (P31_cifar10_lenet5.py): a 5x5 convolution with 6
filters and 2x2 max pooling, a 5x5 convolution with 16 filters and 2x2 max
pooling, fully connected layers of 120 and 84 units and a softmax layer (valid
padding, so a 28x28 digit leaves 4x4x16 features and a 32x32 CIFAR image
5x5x16). The lecture uses sigmoid units; ``--activation relu`` (this project's
default) trains faster and further. The original LeNet of the weekly notes
(average pooling, sigmoid, a Gaussian output layer) is another net. LeNet-5
has neither batch norm nor dropout, so unlike the other train scripts it needs
no ``is_training`` placeholder. Adam as in the lecture; the learning rate
divided by 10 after a third and after two thirds of the steps is this
project's schedule.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python mnist_cnn/lenet5.py --dataset mnist5k --steps 300          # a quick look
    python mnist_cnn/lenet5.py --dataset mnist --epochs 10
    python mnist_cnn/lenet5.py --dataset cifar10 --epochs 30 --restore  # continue a run
    tensorboard --logdir runs/lenet5

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export
(.npz and .txt) and the trained model as a TF Serving SavedModel (export/<step>/,
--export_dir) go to --checkpoint_dir (default runs/lenet5/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'lenet5'
#: this project's targets for the test accuracy (the PKU lecture states none)
TARGETS = {'mnist': 0.990, 'fashion_mnist': 0.89}


ACTIVATIONS = {'relu': tf.nn.relu, 'sigmoid': tf.nn.sigmoid}


def inference(images, num_classes, width=1.0, weight_decay=0.0, activation='relu'):
    """LeNet-5; returns the logits."""
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


def main(argv=None):
    parser = training.parser(__doc__, NAME, weight_decay=0.0)
    parser.add_argument('--activation', choices=['relu', 'sigmoid'], default='relu',
                        help='hidden units: relu, or sigmoid as in the PKU lecture (default relu)')
    args = training.parse_args(parser, argv, NAME)
    data = training.load_data(args)

    tf.set_random_seed(args.seed)
    images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    with training.compute_dtype(args.dtype):  # --dtype: float32 weights, 16-bit layers
        logits = inference(training.to_unit(images, args.dtype), data.num_classes, args.width,
                           args.weight_decay, args.activation)
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
    train_op = optimizer.minimize(loss, global_step=global_step)
    summary = training.add_summaries(images, cross_entropy, accuracy, learning_rate)

    def test():
        return training.evaluate(sess, [cross_entropy, accuracy],
                                 {images: data.test_images, labels: data.test_labels})

    with tf.Session(config=session_config()) as sess:
        run = training.Run(sess, args, NAME, data, TARGETS.get(args.dataset))
        for step, (batch_images, batch_labels) in run.steps():
            feed = {images: batch_images, labels: batch_labels}
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
