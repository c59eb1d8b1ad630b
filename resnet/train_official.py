"""ResNet on MNIST through the official run loop's recipe, as report 003 trains it.

Report 003, "(2) Resnet", trains tensorflow/models' official ResNet on MNIST and tests it
after 1, 3 and 6 epochs: "测试精度 : 0.8677", "0.9347", "0.9541" ("运行结果").  What it
shows of the code is the model's ``__call__`` in words ("为了加速GPU运算，将输入由NHWC转换成
NCHW。/ 首次卷积运算。/ 根据ResNet版本判断是否要做batch norm。/ 首次pooling。/ 堆叠block。/
最终的pooling（代码中用表现更好的reduce_mean替代）。/ 最终的全连接层。"), the loss of
``resnet_model_fn`` (``tf.losses.sparse_softmax_cross_entropy``, plus ``weight_decay *``
the l2 of the trainable variables that ``loss_filter_fn`` passes: ``loss = cross_entropy +
l2_loss``) and that the Cifar10 example calls ``resnet_main`` with its model function.
This script writes that model and loss as a graph with placeholders and a ``tf.Session``
loop (``tf.estimator`` is gone from current TensorFlow).

Everything else is left open by report 003 and taken here from the Cifar10 example the
report quotes (``official/resnet/cifar10_main.py`` of tensorflow/models, 2018), not from
the report:

* the network: ``Cifar10Model`` with ``resnet_size`` 56 (6n + 2: three stages of n = 9
  pre-activation (v2, the default version) building blocks of 16, 32 and 64 filters, strides
  1, 2, 2), a 3x3 first convolution of stride 1, no first pooling, batch norm with decay
  0.997 and epsilon 1e-5, weights by ``variance_scaling_initializer``, no biases in the
  convolutions; ``--resnet_size 20`` (n = 3) is the same code, smaller;
* the recipe: batches of 128, momentum 0.9, learning rate ``0.1 * batch_size / 128``,
  divided by 10 at epochs 91, 136 and 182 (so constant within 6 epochs), weight decay 2e-4
  on every trainable variable (``loss_filter_fn`` returns True);
* the data: MNIST as report 003 reads it (``input_data``: 55000 training digits, the
  first 5000 of the file held out, pixels in [0, 1]), 28x28x1 fed as is (the net is
  convolutional up to its global mean); the example's CIFAR-10 preprocessing is not
  MNIST's: no crops or flips for digits (``--dataset cifar10`` gets the example's crops and
  flips, ``--augment auto``), no per-image standardisation;
* an epoch: one pass over the 55000 digits, ceil(55000 / 128) = 430 steps; the test set:
  the 10000 test digits, after every epoch (report 003 ran 1, 3 and 6 epochs from scratch;
  with the same seed and a constant learning rate, the test after epoch 1 or 3 of one run
  is the test of a run that stops there).

    python setup/get_data.py mnist                            # once
    python resnet/train_official.py --epochs 6                # report 003's longest run
    python resnet/train_official.py --resnet_size 20 --epochs 1
    python resnet/train_official.py --dataset mnist5k --resnet_size 8 --steps 50   # a quick look

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export and the
trained model as a TF Serving SavedModel (export/<step>/, --export_dir) go to
--checkpoint_dir (default runs/resnet_official/DATASET/); --restore continues a run.
"""
import math

from tfcourse import cli, training
from tfcourse.compat import tf, gpu_names, session_config

NAME = 'resnet_official'
#: the train scripts' flags this recipe has no use for (hidden, refused in one line);
#: --augment auto crops and flips CIFAR-10 as the Cifar10 example does, not digits
FIXED = ('width', 'dtype', 'loss_scale', 'lr_drops')
#: report 003's "测试精度" after 1, 3 and 6 epochs ("运行结果")
REPORT_003 = {1: 0.8677, 3: 0.9347, 6: 0.9541}
_BATCH_NORM_DECAY = 0.997
_BATCH_NORM_EPSILON = 1e-5


def batch_norm(inputs, training, data_format):
    """Batch norm with the official model's decay and epsilon."""
    return tf.layers.batch_normalization(
        inputs=inputs, axis=1 if data_format == 'channels_first' else 3,
        momentum=_BATCH_NORM_DECAY, epsilon=_BATCH_NORM_EPSILON, center=True, scale=True,
        training=training, fused=True)


def conv2d_fixed_padding(inputs, filters, kernel_size, strides, data_format):
    """A convolution whose padding depends on the kernel only: explicit zero padding of
    (kernel_size - 1) / 2 around a strided input, 'SAME' padding at stride 1."""
    if strides > 1:
        pad_beg = (kernel_size - 1) // 2
        pad_end = kernel_size - 1 - pad_beg
        spatial = [[pad_beg, pad_end], [pad_beg, pad_end]]
        inputs = tf.pad(inputs, [[0, 0], [0, 0]] + spatial if data_format == 'channels_first'
                        else [[0, 0]] + spatial + [[0, 0]])
    return tf.layers.conv2d(
        inputs=inputs, filters=filters, kernel_size=kernel_size, strides=strides,
        padding='SAME' if strides == 1 else 'VALID', use_bias=False,
        kernel_initializer=tf.variance_scaling_initializer(), data_format=data_format)


def building_block_v2(inputs, filters, training, projection_shortcut, strides, data_format):
    """Pre-activation block: batch norm and ReLU before each of the two 3x3 convolutions;
    the shortcut (a strided 1x1 convolution where the shape changes) after the first."""
    shortcut = inputs
    inputs = tf.nn.relu(batch_norm(inputs, training, data_format))
    if projection_shortcut is not None:
        shortcut = projection_shortcut(inputs)
    inputs = conv2d_fixed_padding(inputs, filters, 3, strides, data_format)
    inputs = tf.nn.relu(batch_norm(inputs, training, data_format))
    inputs = conv2d_fixed_padding(inputs, filters, 3, 1, data_format)
    return inputs + shortcut


def block_layer(inputs, filters, blocks, strides, training, name, data_format):
    """``blocks`` building blocks; the first one strides and projects the shortcut."""
    def projection_shortcut(inputs):
        return conv2d_fixed_padding(inputs, filters, 1, strides, data_format)

    inputs = building_block_v2(inputs, filters, training, projection_shortcut, strides,
                               data_format)
    for _ in range(1, blocks):
        inputs = building_block_v2(inputs, filters, training, None, 1, data_format)
    return tf.identity(inputs, name)


def resnet_model(inputs, training, resnet_size, num_classes, data_format):
    """The Cifar10 example's model (``Cifar10Model``, version 2); returns the logits."""
    num_blocks = (resnet_size - 2) // 6
    # 为了加速GPU运算，将输入由NHWC转换成NCHW。
    if data_format == 'channels_first':
        inputs = tf.transpose(inputs, [0, 3, 1, 2])
    # 首次卷积运算: 16 filters, 3x3, stride 1
    inputs = conv2d_fixed_padding(inputs, 16, 3, 1, data_format)
    inputs = tf.identity(inputs, 'initial_conv')
    # 根据ResNet版本判断是否要做batch norm: version 2 leaves it to the first block
    # 首次pooling: none in the Cifar10 model (first_pool_size=None)
    # 堆叠block: three stages of num_blocks blocks, 16, 32, 64 filters, strides 1, 2, 2
    for i, strides in enumerate([1, 2, 2]):
        inputs = block_layer(inputs, 16 * 2 ** i, num_blocks, strides, training,
                             'block_layer%d' % (i + 1), data_format)
    # version 2: the last block's output is normalised here
    inputs = tf.nn.relu(batch_norm(inputs, training, data_format))
    # 最终的pooling（代码中用表现更好的reduce_mean替代）
    axes = [2, 3] if data_format == 'channels_first' else [1, 2]
    inputs = tf.reduce_mean(inputs, axes, keepdims=True)
    inputs = tf.identity(inputs, 'final_reduce_mean')
    inputs = tf.squeeze(inputs, axes)
    # 最终的全连接层
    inputs = tf.layers.dense(inputs=inputs, units=num_classes)
    return tf.identity(inputs, 'final_dense')


def learning_rate_with_decay(global_step, learning_rate, batch_size, num_images,
                             boundary_epochs=(91, 136, 182)):
    """The Cifar10 example's schedule: ``learning_rate * batch_size / 128`` (0.1 there: the
    rate of a batch of 128), ten times lower after each of ``boundary_epochs``."""
    batches_per_epoch = num_images / batch_size
    return training.step_schedule(
        global_step, learning_rate * batch_size / 128, None,
        drop_steps=[int(batches_per_epoch * epoch) for epoch in boundary_epochs])


def main(argv=None):
    parser = training.parser(__doc__, NAME, fixed=FIXED,
                             steps=2579, batch_size=128, learning_rate=0.1, weight_decay=2e-4)
    parser.add_argument('--resnet_size', type=int, default=56,
                        help='layers, 6n + 2 (default: 56, the Cifar10 example\'s)')
    args = training.parse_args(parser, argv, NAME)
    if args.resnet_size % 6 != 2 or args.resnet_size < 8:
        raise cli.UserError('--resnet_size must be 6n + 2 (8, 14, 20, ... 56), got %d'
                            % args.resnet_size)
    data = training.load_data(args, validation_size=5000)
    # 为了加速GPU运算 ... NCHW: on a GPU, as the official model chooses; NHWC on a CPU
    data_format = 'channels_first' if gpu_names() else 'channels_last'

    tf.set_random_seed(args.seed)
    images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    features = training.to_unit(images, 'float32')
    logits = resnet_model(features, is_training, args.resnet_size, data.num_classes,
                          data_format)

    # resnet_model_fn: the cross-entropy, and the l2 of every variable loss_filter_fn passes
    cross_entropy = tf.losses.sparse_softmax_cross_entropy(logits=logits, labels=labels)

    def loss_filter_fn(_):
        return True  # the Cifar10 example regularises every variable, batch norm's too

    l2_loss = args.weight_decay * tf.add_n(
        [tf.nn.l2_loss(tf.cast(v, tf.float32)) for v in tf.trainable_variables()
         if loss_filter_fn(v.name)])
    loss = cross_entropy + l2_loss
    correct_prediction = tf.equal(tf.argmax(logits, 1), labels)
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    global_step = tf.train.get_or_create_global_step()
    learning_rate = learning_rate_with_decay(global_step, args.learning_rate, args.batch_size,
                                             len(data.train_images))
    optimizer = tf.train.MomentumOptimizer(learning_rate=learning_rate, momentum=0.9)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):  # batch norm
        train_op = optimizer.minimize(loss, global_step=global_step)
    summary = training.add_summaries(images, cross_entropy, accuracy, learning_rate)

    def test():
        return training.evaluate(sess, [cross_entropy, accuracy],
                                 {images: data.test_images, labels: data.test_labels})

    # test after every epoch (report 003 gives its figures by epochs), and every --eval_every
    # steps when it is given
    epoch_ends = [int(math.ceil(k * len(data.train_images) / args.batch_size))
                  for k in range(1, int(args.steps * args.batch_size / len(data.train_images))
                                 + 1)]
    with tf.Session(config=session_config()) as sess:
        run = training.Run(sess, args, NAME, data)
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
            if step in epoch_ends or (args.eval_every and run.testing(step)):
                run.test(step, *test())
            if step in epoch_ends:
                print('%depoch 测试精度 : %.4f' % (epoch_ends.index(step) + 1,
                                                 run.history['test'][-1]['accuracy']), flush=True)
            run.save(step)
        by_epoch = {str(epoch_ends.index(h['step']) + 1): {
            'step': h['step'], 'test_accuracy': h['accuracy'], 'test_loss': h['loss']}
            for h in run.history['test'] if h['step'] in epoch_ends}
        run.finish(test, extra={
            'resnet_size': args.resnet_size, 'resnet_version': 2, 'data_format': data_format,
            'optimizer': 'momentum 0.9', 'validation_examples': len(data.validation_images),
            'lr_drop_steps': [int(len(data.train_images) / args.batch_size * e)
                              for e in (91, 136, 182)],
            'by_epoch': by_epoch})
        run.export(images, logits)  # a SavedModel for TF Serving (--export_dir)
    return 0


if __name__ == '__main__':
    cli.run(main)
