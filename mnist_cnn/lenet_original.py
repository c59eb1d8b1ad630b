"""The original LeNet of the weekly notes: average pooling and sigmoid, on MNIST.

The weekly notes ("常见网络结构了解", "LeNet") list it layer by layer: "Input Layer：
1*32*32图像", "Conv1 Layer：包含6个卷积核，kernal size：5*5", "Subsampling Layer：average
pooling，size：2*2, Activation Function：sigmoid", "Conv3 Layer：包含16个卷积核，kernal size：
5*5", "Subsampling Layer：average pooling，size：2*2", "Conv5 Layer：包含120个卷积核，kernal
size：5*5", "Fully Connected Layer：Activation Function：sigmoid", "Output Layer：Gaussian
connection".  So here: the 28x28 digit padded with zeros to 32x32, conv1 6@5x5 (valid:
28x28), 2x2 average pooling and a sigmoid (14x14), conv3 16@5x5 (10x10), 2x2 average
pooling and a sigmoid (5x5), conv5 120@5x5 (1x1), a fully connected sigmoid layer and 10
outputs.  Unlike ``mnist_cnn/lenet5.py`` (the PKU lecture's LeNet5: max pooling, no
conv5) it pools by averaging and squashes after pooling.

Where the notes leave it open, and what this script does:

* Where the sigmoid goes: the notes give it after the first subsampling and after the fully
  connected layer; here also after the second subsampling (the list leaves that line
  without an activation), and the convolutions are linear.  ``--activation tanh`` is this
  project's option, not the notes'.
* The fully connected layer's size: not given; 84 units, the PKU lecture's LeNet5 ("Dense
  (神经元: 84, 激活: sigmoid)").
* The "Gaussian connection" output: not specified further; 10 logits and a softmax, as the
  PKU lecture's LeNet5 ("Dense (神经元: 10, 激活: softmax)").
* Full connections between conv1's and conv3's maps, plain (untrained) averaging: the notes
  give no connection table and no pooling coefficients.
* The recipe: the notes give none, only the task "完成TensorFlow官方MINIST识别教程" (the
  tutorial they link is not quoted); here report §2.2's, the one written out in a document:
  ``AdamOptimizer(1e-4)``, batches of 50 (``next_batch(50)``), 20000 steps ("循环20000次").
  Weights Glorot-uniform (tf_slim's default), biases zero.
* The notes state no accuracy.

    python setup/get_data.py mnist                        # once
    python mnist_cnn/lenet_original.py                    # 20000 steps of 50, Adam 1e-4
    python mnist_cnn/lenet_original.py --dataset mnist5k --steps 500   # a quick look

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export and the
trained model as a TF Serving SavedModel (export/<step>/, --export_dir) go to
--checkpoint_dir (default runs/lenet_original/DATASET/); --restore continues a run.
"""
from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'lenet_original'
#: the train scripts' flags this recipe has no use for (hidden, refused in one line)
FIXED = ('width', 'dtype', 'loss_scale', 'lr_drops', 'weight_decay', 'augment', 'image_size')
ACTIVATIONS = {'sigmoid': tf.nn.sigmoid, 'tanh': tf.nn.tanh}


def inference(images, num_classes, activation='sigmoid'):
    """The notes' LeNet on 28x28 images padded to 32x32; returns the logits."""
    squash = ACTIVATIONS[activation]
    net = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], name='input_32x32')  # 1*32*32
    with slim.arg_scope([slim.conv2d], padding='VALID', activation_fn=None):
        net = slim.conv2d(net, 6, [5, 5], scope='conv1')                   # 28x28x6
        net = squash(slim.avg_pool2d(net, [2, 2], stride=2, scope='subsampling2'))  # 14x14x6
        net = slim.conv2d(net, 16, [5, 5], scope='conv3')                  # 10x10x16
        net = squash(slim.avg_pool2d(net, [2, 2], stride=2, scope='subsampling4'))  # 5x5x16
        net = slim.conv2d(net, 120, [5, 5], scope='conv5')                 # 1x1x120
    net = slim.flatten(net, scope='flatten')
    net = slim.fully_connected(net, 84, activation_fn=squash, scope='fc6')
    return slim.fully_connected(net, num_classes, activation_fn=None, scope='output')


def main(argv=None):
    parser = training.parser(__doc__, NAME, fixed=FIXED,
                             steps=20000, batch_size=50, learning_rate=1e-4, weight_decay=0.0)
    parser.add_argument('--activation', choices=sorted(ACTIVATIONS), default='sigmoid',
                        help='sigmoid, as the weekly notes; tanh is this project\'s option '
                             '(default: sigmoid)')
    args = training.parse_args(parser, argv, NAME)
    # report §2.2 reads MNIST with input_data: 55000 training digits, 5000 held out
    data = training.load_data(args, validation_size=5000)
    if data.image_shape[:2] != (28, 28):
        raise cli.UserError('this LeNet pads 28x28 images to 32x32; %s images are %dx%d: use '
                            '--dataset mnist, mnist5k or fashion_mnist'
                            % (args.dataset, data.image_shape[0], data.image_shape[1]))

    tf.set_random_seed(args.seed)
    images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    logits = inference(training.to_unit(images, 'float32'), data.num_classes, args.activation)

    cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    correct_prediction = tf.equal(tf.argmax(logits, 1), labels)
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    global_step = tf.train.get_or_create_global_step()
    # report §2.2: tf.train.AdamOptimizer(1e-4).minimize(cross_entropy)
    train_op = tf.train.AdamOptimizer(args.learning_rate).minimize(cross_entropy,
                                                                   global_step=global_step)
    summary = training.add_summaries(images, cross_entropy, accuracy,
                                     tf.constant(args.learning_rate))

    def test():
        return training.evaluate(sess, [cross_entropy, accuracy],
                                 {images: data.test_images, labels: data.test_labels})

    with tf.Session(config=session_config()) as sess:
        run = training.Run(sess, args, NAME, data)  # no target: the notes state no accuracy
        for step, (batch_images, batch_labels) in run.steps():
            feed = {images: batch_images, labels: batch_labels}
            if run.logging(step):
                _, batch_loss, batch_accuracy, summaries = sess.run(
                    [train_op, cross_entropy, accuracy, summary], feed_dict=feed)
                run.log(step, summaries, loss=batch_loss, accuracy=batch_accuracy,
                        learning_rate=args.learning_rate)
            else:
                _, batch_loss = sess.run([train_op, cross_entropy], feed_dict=feed)
            run.check_finite(step, batch_loss)
            if run.testing(step):
                run.test(step, *test())
            run.save(step)
        run.finish(test, extra={'activation': args.activation, 'lr_drop_steps': []})
        run.export(images, logits)  # a SavedModel for TF Serving (--export_dir)
    return 0


if __name__ == '__main__':
    cli.run(main)
