"""GoogLeNet (Inception v1) trained on small images: MNIST, Fashion-MNIST, CIFAR-10 or 17 Flowers.

Blog part 4's GoogLeNet (Szegedy et al., "Going deeper with convolutions"; the
blog's tflearn code for 17 Flowers) in a small-image form: the paper's nine
Inception modules with its filter counts (3a-3b, then 4a-4e, then 5a-5b,
each four branches concatenated: 1x1; 1x1 reduce then 3x3; 1x1 reduce then
5x5; 3x3 max pooling then a 1x1 projection), 3x3 max pooling with stride 2
between the groups, global average pooling, dropout (40 % dropped, as in the
paper) and a softmax layer. On 224x224 images the stem (7x7/2 convolution,
max pooling, 1x1 and 3x3 convolutions, max pooling) brings the size to 28x28
before module 3a; small images are 28x28 or 32x32 already, so the stem keeps
its convolutions (3x3 with 64 filters in place of 7x7/2, then 1x1/64 and
3x3/192) and drops its two stride-2 poolings: the modules see the grids of
the paper, 28, 14 and 7 pixels a side on MNIST. No LRN and no auxiliary
classifiers; batch norm after every convolution instead (as tf-slim's
inception_v1 has it), L2 weight decay, written with tf_slim and the
``is_training`` placeholder. --width scales every layer's filters (0.25: a
sixteenth of the compute, for CPU runs). Adam; the learning rate divided by 10
after a third and two thirds of the steps is this project's schedule.

    python setup/get_data.py mnist5k                          # once (or mnist, fashion_mnist)
    python googlenet/train_inception_v1.py --dataset mnist5k --steps 300 --width 0.25
    python googlenet/train_inception_v1.py --dataset fashion_mnist --epochs 8 --width 0.25
    python googlenet/train_inception_v1.py --dataset flowers17 --epochs 100  # the blog's data
    tensorboard --logdir runs/inception_v1

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export
(.npz and .txt) and the trained model as a TF Serving SavedModel (export/<step>/,
--export_dir) go to --checkpoint_dir (default runs/inception_v1/DATASET/).
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'inception_v1'
#: this project's target for the test accuracy (blog part 4 gives no accuracy)
TARGETS = {'fashion_mnist': 0.92}

#: filters of each module (the paper's Table 1): #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
#: pool proj
MODULES = [
    ('Mixed_3b', (64, 96, 128, 16, 32, 32)), ('Mixed_3c', (128, 128, 192, 32, 96, 64)),
    'MaxPool_4a_3x3',
    ('Mixed_4b', (192, 96, 208, 16, 48, 64)), ('Mixed_4c', (160, 112, 224, 24, 64, 64)),
    ('Mixed_4d', (128, 128, 256, 24, 64, 64)), ('Mixed_4e', (112, 144, 288, 32, 64, 64)),
    ('Mixed_4f', (256, 160, 320, 32, 128, 128)),
    'MaxPool_5a_3x3',
    ('Mixed_5b', (256, 160, 320, 32, 128, 128)), ('Mixed_5c', (384, 192, 384, 48, 128, 128)),
]


def inception_module(inputs, depths, scope):
    """Four branches (1x1; 1x1-3x3; 1x1-5x5; 3x3 max pool-1x1) concatenated."""
    d_1x1, d_3x3_reduce, d_3x3, d_5x5_reduce, d_5x5, d_pool_proj = depths
    with tf.variable_scope(scope):
        with tf.variable_scope('Branch_0'):
            branch_0 = slim.conv2d(inputs, d_1x1, [1, 1], scope='Conv2d_0a_1x1')
        with tf.variable_scope('Branch_1'):
            branch_1 = slim.conv2d(inputs, d_3x3_reduce, [1, 1], scope='Conv2d_0a_1x1')
            branch_1 = slim.conv2d(branch_1, d_3x3, [3, 3], scope='Conv2d_0b_3x3')
        with tf.variable_scope('Branch_2'):
            branch_2 = slim.conv2d(inputs, d_5x5_reduce, [1, 1], scope='Conv2d_0a_1x1')
            branch_2 = slim.conv2d(branch_2, d_5x5, [5, 5], scope='Conv2d_0b_5x5')
        with tf.variable_scope('Branch_3'):
            branch_3 = slim.max_pool2d(inputs, [3, 3], stride=1, scope='MaxPool_0a_3x3')
            branch_3 = slim.conv2d(branch_3, d_pool_proj, [1, 1], scope='Conv2d_0b_1x1')
        return tf.concat([branch_0, branch_1, branch_2, branch_3], axis=3)


def inference(images, num_classes, is_training, width=1.0, weight_decay=1e-4):
    """GoogLeNet for small images; returns the logits."""
    batch_norm_params = {'is_training': is_training, 'decay': 0.9,
                         'updates_collections': tf.GraphKeys.UPDATE_OPS}
    with slim.arg_scope([slim.conv2d], padding='SAME', activation_fn=tf.nn.relu,
                        normalizer_fn=slim.batch_norm, normalizer_params=batch_norm_params,
                        weights_initializer=slim.variance_scaling_initializer(),
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.max_pool2d], padding='SAME'):
            # the stem without its two stride-2 poolings (and 3x3 in place of 7x7/2)
            net = slim.conv2d(images, training.scaled(64, width), [3, 3], scope='Conv2d_1a_3x3')
            net = slim.conv2d(net, training.scaled(64, width), [1, 1], scope='Conv2d_2b_1x1')
            net = slim.conv2d(net, training.scaled(192, width), [3, 3], scope='Conv2d_2c_3x3')
            for module in MODULES:
                if isinstance(module, str):  # between the groups: 3x3 max pooling, stride 2
                    net = slim.max_pool2d(net, [3, 3], stride=2, scope=module)
                else:
                    scope, depths = module
                    net = inception_module(net, [training.scaled(d, width) for d in depths],
                                           scope)
    net = tf.reduce_mean(net, [1, 2], name='global_pool')
    net = slim.dropout(net, 0.6, is_training=is_training, scope='Dropout_0b')
    return slim.fully_connected(net, num_classes, activation_fn=None,
                                weights_initializer=slim.variance_scaling_initializer(),
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
