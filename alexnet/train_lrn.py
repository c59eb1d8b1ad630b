"""AlexNet with LRN on MNIST, as blog part 3 writes it and as report 003 trains it.

The network is blog part 3's (机器学习进阶笔记之三, "AlexNet On Tensorflow", the second
program, "<【机器学习】AlexNet 的tensorflow 实现>"): three 3x3 convolutions with ReLU
(64, 128 and 256 maps), each followed by 2x2 max pooling, LRN (lsize 4, alpha 0.001 / 9,
beta 0.75) and dropout; two fully connected layers of 1024 ReLU units and 10 logits.
Every weight and bias is ``tf.Variable(tf.random_normal(...))`` (stddev 1); the digits
come in flat (``[None, 784]``) with one-hot labels.  ``conv2d``, ``max_pool``, ``norm``
and ``alex_net`` are the blog's, as it writes them.  Two recipes train it:

* blog part 3 (the default): ``AdamOptimizer(learning_rate=0.001)``, ``batch_size = 64``,
  ``while step * batch_size < training_iters`` with ``training_iters = 200000`` and
  ``step = 1`` at the start: 3124 steps; ``dropout = 0.8`` fed as ``keep_prob`` in
  training, 1.0 at test.  The blog prints no figure for it.
* report 003, "(1) AlexNet" (``--optimizer adadelta --learning_rate 0.02 --batch_size 100
  --epochs 10``, and a run of 5): ``tf.train.AdadeltaOptimizer(learning_rate)`` with
  ``learning_rate = 0.02``, ``batch_size = 100``, ``epochs = 10``, ``dropout = 0.8``; its
  "命中率" is 0.21875 after 5 epochs and 0.58203125 after 10 ("3.运行结果").

Where the documents leave it open, and what this script does:

* Report 003's network.  It calls ``alexnet(x, weights, bias, keep_prob)`` but does not
  show it; the network it prints under "构建AlexNet模型" is a PyTorch class (3 input
  channels, ``num_classes=2``, an 11x11 stride-4 first layer) that cannot take a 28x28
  digit.  Its three TF helpers (``Convolution``, ``Pool``, ``Normalize``), its placeholders
  and its ``dropout = 0.8`` are blog part 3's ``conv2d``, ``max_pool``, ``norm`` number for
  number: blog part 3's network is trained with report 003's recipe.
* What "命中率" counts.  Both of report 003's figures are multiples of 1/256 (56/256 and
  149/256), as blog part 3's ``mnist.test.images[:256]`` test gives: the accuracy on the
  first 256 test digits is the documents' figure here (``test_accuracy_first256``); the
  whole 10000-digit test set is recorded beside it (``test_accuracy``).  256 digits give
  a binomial spread of about 3 points at 58 %.
* An epoch: one pass over input_data's 55000 training digits (the first 5000 of the
  training file are its validation set), 550 batches of 100.
* "第 N 轮的熵损失": printed after each epoch as the mean of its batch costs, as blog part 1
  prints its ``avg_cost``: with stddev-1 weights this network's logits are in the
  thousands, its first batch costs about 660000, and report 003's 226463 for the first
  epoch is of that size (a sum over 550 batches would be 412 a batch, which this network
  does not reach in its first epoch).  The sum is recorded too.
* Adadelta's ``rho`` and ``epsilon``: TensorFlow's defaults (0.95, 1e-8); report 003 names
  only the learning rate.
* Blog part 3's old spellings (``tf.types.float32``, ``softmax_cross_entropy_with_logits(
  pred, y)`` with the logits first, ``tf.initialize_all_variables``) are today's names of
  the same ops.

    python setup/get_data.py mnist                    # once
    python alexnet/train_lrn.py                       # blog part 3: 3124 steps of 64, Adam
    python alexnet/train_lrn.py --optimizer adadelta --learning_rate 0.02 --batch_size 100 \\
        --epochs 10                                   # report 003
    python alexnet/train_lrn.py --dataset mnist5k --steps 100       # a quick look

Checkpoints, TensorBoard events, history, JSON result, curves, the weights export and the
trained model as a TF Serving SavedModel (export/<step>/, --export_dir) go to
--checkpoint_dir (default runs/alexnet_lrn/DATASET/); --restore continues a run.
"""
from tfcourse import cli, training
from tfcourse.compat import tf, session_config

NAME = 'alexnet_lrn'
#: the train scripts' flags this recipe has no use for (hidden, refused in one line)
FIXED = ('width', 'dtype', 'loss_scale', 'lr_drops', 'weight_decay', 'augment', 'image_size')
#: report 003's "命中率" after 5 and 10 epochs of Adadelta ("3.运行结果")
REPORT_003 = {5: 0.21875, 10: 0.58203125}
OPTIMIZERS = {
    'adam': tf.train.AdamOptimizer,           # blog part 3
    'adadelta': tf.train.AdadeltaOptimizer,   # report 003
}


# 卷积操作
def conv2d(name, l_input, w, b):
    return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(l_input, w, strides=[1, 1, 1, 1],
                                                  padding='SAME'), b), name=name)


# 最大下采样操作
def max_pool(name, l_input, k):
    return tf.nn.max_pool(l_input, ksize=[1, k, k, 1], strides=[1, k, k, 1], padding='SAME',
                          name=name)


# 归一化操作
def norm(name, l_input, lsize=4):
    return tf.nn.lrn(l_input, lsize, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name=name)


# 定义整个网络
def alex_net(_X, _weights, _biases, _dropout):
    # 向量转为矩阵
    _X = tf.reshape(_X, shape=[-1, 28, 28, 1])

    # 卷积层
    conv1 = conv2d('conv1', _X, _weights['wc1'], _biases['bc1'])
    # 下采样层
    pool1 = max_pool('pool1', conv1, k=2)
    # 归一化层
    norm1 = norm('norm1', pool1, lsize=4)
    # Dropout
    norm1 = tf.nn.dropout(norm1, _dropout)

    # 卷积
    conv2 = conv2d('conv2', norm1, _weights['wc2'], _biases['bc2'])
    # 下采样
    pool2 = max_pool('pool2', conv2, k=2)
    # 归一化
    norm2 = norm('norm2', pool2, lsize=4)
    # Dropout
    norm2 = tf.nn.dropout(norm2, _dropout)

    # 卷积
    conv3 = conv2d('conv3', norm2, _weights['wc3'], _biases['bc3'])
    # 下采样
    pool3 = max_pool('pool3', conv3, k=2)
    # 归一化
    norm3 = norm('norm3', pool3, lsize=4)
    # Dropout
    norm3 = tf.nn.dropout(norm3, _dropout)

    # 全连接层，先把特征图转为向量
    dense1 = tf.reshape(norm3, [-1, _weights['wd1'].get_shape().as_list()[0]])
    dense1 = tf.nn.relu(tf.matmul(dense1, _weights['wd1']) + _biases['bd1'], name='fc1')
    # 全连接层
    dense2 = tf.nn.relu(tf.matmul(dense1, _weights['wd2']) + _biases['bd2'], name='fc2')

    # 网络输出层
    out = tf.matmul(dense2, _weights['out']) + _biases['out']
    return out


def main(argv=None):
    parser = training.parser(__doc__, NAME, fixed=FIXED,
                             steps=3124, batch_size=64, learning_rate=0.001, weight_decay=0.0)
    parser.add_argument('--optimizer', choices=sorted(OPTIMIZERS), default='adam',
                        help='adam (blog part 3) or adadelta (report 003) (default: adam)')
    parser.add_argument('--keep_prob', type=cli.finite_float, default=0.8,
                        help='dropout keep probability in training, "dropout = 0.8" of both '
                             'documents (default: 0.8)')
    args = training.parse_args(parser, argv, NAME)
    if not 0.0 < args.keep_prob <= 1.0:
        raise cli.UserError('--keep_prob must be in (0, 1], got %g' % args.keep_prob)
    # input_data's split: 55000 training digits, the first 5000 of the file held out
    data = training.load_data(args, validation_size=5000)
    # 定义网络参数
    n_input = 784  # 输入的维度
    n_classes = 10  # 标签的维度
    test_x, test_y = training.as_input_data(data.test_images, data.test_labels, n_input,
                                            n_classes)

    tf.set_random_seed(args.seed)
    # 占位符输入
    x = tf.placeholder(tf.float32, [None, n_input], name='x')
    y = tf.placeholder(tf.float32, [None, n_classes], name='y')
    keep_prob = tf.placeholder(tf.float32, name='keep_prob')

    # 存储所有的网络参数
    weights = {
        'wc1': tf.Variable(tf.random_normal([3, 3, 1, 64]), name='wc1'),
        'wc2': tf.Variable(tf.random_normal([3, 3, 64, 128]), name='wc2'),
        'wc3': tf.Variable(tf.random_normal([3, 3, 128, 256]), name='wc3'),
        'wd1': tf.Variable(tf.random_normal([4 * 4 * 256, 1024]), name='wd1'),
        'wd2': tf.Variable(tf.random_normal([1024, 1024]), name='wd2'),
        'out': tf.Variable(tf.random_normal([1024, 10]), name='out_weights'),
    }
    biases = {
        'bc1': tf.Variable(tf.random_normal([64]), name='bc1'),
        'bc2': tf.Variable(tf.random_normal([128]), name='bc2'),
        'bc3': tf.Variable(tf.random_normal([256]), name='bc3'),
        'bd1': tf.Variable(tf.random_normal([1024]), name='bd1'),
        'bd2': tf.Variable(tf.random_normal([1024]), name='bd2'),
        'out': tf.Variable(tf.random_normal([n_classes]), name='out_biases'),
    }

    # 构建模型
    pred = alex_net(x, weights, biases, keep_prob)

    # 定义损失函数和学习步骤
    cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=pred))
    global_step = tf.train.get_or_create_global_step()
    optimizer = OPTIMIZERS[args.optimizer](learning_rate=args.learning_rate).minimize(
        cost, global_step=global_step)

    # 测试网络
    correct_pred = tf.equal(tf.argmax(pred, 1), tf.argmax(y, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_pred, tf.float32))
    summary = training.add_summaries(tf.reshape(x, [-1, 28, 28, 1]), cost, accuracy,
                                     tf.constant(args.learning_rate))

    def test():
        return training.evaluate(sess, [cost, accuracy], {x: test_x, y: test_y, keep_prob: 1.})

    def test_first256():  # 计算测试精度, as blog part 3: mnist.test.images[:256]
        return float(sess.run(accuracy, feed_dict={x: test_x[:256], y: test_y[:256],
                                                   keep_prob: 1.}))

    # the SavedModel's input (--export_dir): uint8 digits, as the other train scripts export
    # them, through the same weights without dropout
    images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
    logits = alex_net(tf.cast(tf.reshape(images, [-1, n_input]), tf.float32) / 255.0, weights,
                      biases, 1.0)

    # an epoch: every training digit once (550 batches of 100 in report 003's recipe)
    steps_per_epoch = len(data.train_images) // args.batch_size
    epoch_cost = 0.0
    with tf.Session(config=session_config()) as sess:
        run = training.Run(sess, args, NAME, data)
        for step, (batch_images, batch_labels) in run.steps():
            batch_xs, batch_ys = training.as_input_data(batch_images, batch_labels, n_input,
                                                        n_classes)
            feed = {x: batch_xs, y: batch_ys, keep_prob: args.keep_prob}
            if run.logging(step):
                _, loss, acc, summaries = sess.run([optimizer, cost, accuracy, summary],
                                                   feed_dict=feed)
                run.log(step, summaries, loss=loss, accuracy=acc,
                        learning_rate=args.learning_rate)
            else:
                _, loss = sess.run([optimizer, cost], feed_dict=feed)
            run.check_finite(step, loss)
            epoch_cost += loss
            if step % steps_per_epoch == 0:  # the epoch's line, and its 256-digit test
                epoch = step // steps_per_epoch
                print('第 %d 轮的熵损失:%f' % (epoch - 1, epoch_cost / steps_per_epoch), flush=True)
                run.history.setdefault('epochs', []).append({
                    'step': step, 'epoch': epoch, 'cost_mean': epoch_cost / steps_per_epoch,
                    'cost_sum': epoch_cost, 'test_accuracy_first256': test_first256()})
                epoch_cost = 0.0
            if run.testing(step):
                run.test(step, *test())
            run.save(step)
        first256 = test_first256()
        print('命中率: %g' % first256)
        # the documents' figure: report 003's for the epochs it ran, on the first 256 digits
        document = {epoch: REPORT_003[epoch] for epoch in REPORT_003
                    if args.optimizer == 'adadelta' and epoch * steps_per_epoch <= args.steps}
        run.finish(test, extra={
            'optimizer': args.optimizer, 'keep_prob': args.keep_prob, 'lr_drop_steps': [],
            'validation_examples': len(data.validation_images),
            'test_accuracy_first256': first256,
            'by_epoch': {str(h['epoch']): h for h in run.history.get('epochs', [])},
            'document_figure': document and {
                'value': document[max(document)], 'source': 'report 003 after %d epochs'
                % max(document), 'of': 'first 256 test digits'}})
        run.export(images, logits)  # a SavedModel for TF Serving (--export_dir)
    return 0


if __name__ == '__main__':
    cli.run(main)
