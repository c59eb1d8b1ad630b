"""The PKU lecture's CBAPD baseline: one convolution, batch norm, activation, pooling, dropout.

The lecture's "卷积神经网络搭建示例" (its Baseline class, trained on CIFAR-10): C (6 kernels
of 5x5, stride 1, 'same'), B (batch norm), A (ReLU), P (2x2 max pooling, stride 2, 'same'),
D (dropout 0.2), then Flatten, Dense 128 with ReLU and dropout 0.2, Dense 10 with softmax;
``model.compile(optimizer='adam', loss=SparseCategoricalCrossentropy(from_logits=False))``,
``model.fit(x_train, y_train, batch_size=32, epochs=5, validation_data=(x_test, y_test),
validation_freq=1, callbacks=[cp_callback])`` on ``x_train / 255.0``.  Written here as a
graph (tf_slim layers, an ``is_training`` placeholder for batch norm and dropout), a
``tf.Session`` and a loop.  As the lecture's listing, the run keeps a checkpoint of the best
test loss (``ModelCheckpoint(save_weights_only=True, save_best_only=True)``: CHECKPOINT_DIR/
best/Baseline.ckpt), restores the last one with --restore ("-----load the model-----"),
writes every trainable variable's name, shape and values to weights.txt and draws the
accuracy and loss curves of the training batches and the test set.

Where the lecture leaves it open, and what this script does:

* 128 or 120 units: the slide and its class say ``Dense(128)`` ("Dense (神经元: 128, 激活:
  relu, Dropout: 0.2)"), the numbered listing ``Dense(120, activation='relu')``; 128 here,
  ``--fc 120`` for the listing's.
* Keras's defaults where the lecture names none (Keras's API, not the lecture): Adam with
  learning rate 0.001 and epsilon 1e-7; Glorot-uniform kernels and zero biases; batch norm
  with momentum 0.99, epsilon 0.001, a learned scale and offset; the convolution keeps its
  bias before batch norm; ``save_best_only`` watches the validation loss.
* The lecture validates on the test set (``validation_data=(x_test, y_test)``) after every
  epoch; so does this script, and its figure is the test accuracy after the last epoch.
* An epoch: every training image once, in ceil(images / 32) batches (1563 on CIFAR-10,
  1875 on MNIST and Fashion-MNIST).
* The data: CIFAR-10 is the lecture's (``--dataset cifar10``, online only: ``python
  setup/get_data.py cifar10``).  MNIST and Fashion-MNIST (28x28x1: 14x14x6 = 1176 features
  into the dense layer) are offline and are not the lecture's data; the lecture states no
  accuracy on any.

    python setup/get_data.py fashion_mnist                 # once (or mnist; cifar10 online)
    python mnist_cnn/baseline.py --dataset fashion_mnist --epochs 5
    python mnist_cnn/baseline.py --dataset cifar10 --epochs 5   # the lecture's run
    python mnist_cnn/baseline.py --dataset mnist5k --steps 200   # a quick look

Checkpoints, TensorBoard events, history, JSON result, curves, weights.npz, weights.txt and
the trained model as a TF Serving SavedModel (export/<step>/, --export_dir) go to
--checkpoint_dir (default runs/baseline/DATASET/).
"""
import os

from tfcourse import cli, training
from tfcourse.compat import tf, slim, session_config

NAME = 'baseline'
#: the train scripts' flags this recipe has no use for (hidden, refused in one line); the
#: lecture augments nothing (--augment off)
FIXED = ('width', 'dtype', 'loss_scale', 'lr_drops', 'weight_decay', 'augment')


def inference(images, num_classes, is_training, fc=128):
    """The Baseline model (CBAPD, Flatten, Dense, Dropout, Dense); returns the logits (the
    softmax is the loss's)."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_initializer=slim.xavier_initializer(),
                        biases_initializer=tf.zeros_initializer()):
        net = slim.conv2d(images, 6, [5, 5], stride=1, padding='SAME', activation_fn=None,
                          scope='c1')                                           # 卷积层
        net = slim.batch_norm(net, decay=0.99, epsilon=0.001, scale=True,
                              is_training=is_training, scope='b1')
        net = tf.nn.relu(net, name='a1')
        net = slim.max_pool2d(net, [2, 2], stride=2, padding='SAME', scope='p1')  # 池化层
        net = slim.dropout(net, keep_prob=0.8, is_training=is_training, scope='d1')
        net = slim.flatten(net, scope='flatten')
        net = slim.fully_connected(net, fc, activation_fn=tf.nn.relu, scope='f1')
        net = slim.dropout(net, keep_prob=0.8, is_training=is_training, scope='d2')
        return slim.fully_connected(net, num_classes, activation_fn=None, scope='f2')


def main(argv=None):
    parser = training.parser(__doc__, NAME, fixed=FIXED, augment='off',
                             dataset='cifar10', steps=7815, batch_size=32, learning_rate=0.001,
                             weight_decay=0.0)
    parser.add_argument('--fc', type=int, choices=[128, 120], default=128,
                        help='units of the dense layer: 128 (the slide) or 120 (the listing)')
    args = training.parse_args(parser, argv, NAME)
    data = training.load_data(args)
    steps_per_epoch = -(-len(data.train_images) // args.batch_size)  # as Keras's fit counts
    if args.epochs is not None:
        args.steps = int(round(args.epochs * steps_per_epoch))

    tf.set_random_seed(args.seed)
    images = tf.placeholder(tf.uint8, [None] + list(data.image_shape), name='images')
    labels = tf.placeholder(tf.int64, [None], name='labels')
    is_training = tf.placeholder_with_default(False, [], name='is_training')
    logits = inference(training.to_unit(images, 'float32'), data.num_classes, is_training,
                       args.fc)

    # SparseCategoricalCrossentropy of the softmax output: the fused op is the same
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    correct_prediction = tf.equal(tf.argmax(logits, 1), labels)
    # metrics=["sparse_categorical_accuracy"]
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    global_step = tf.train.get_or_create_global_step()
    optimizer = tf.train.AdamOptimizer(args.learning_rate, epsilon=1e-7)  # Keras's 'adam'
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):  # batch norm
        train_op = optimizer.minimize(loss, global_step=global_step)
    summary = training.add_summaries(images, loss, accuracy, tf.constant(args.learning_rate))
    best_saver = tf.train.Saver(max_to_keep=1)  # ModelCheckpoint(save_best_only=True)

    def test():
        return training.evaluate(sess, [loss, accuracy],
                                 {images: data.test_images, labels: data.test_labels})

    with tf.Session(config=session_config()) as sess:
        run = training.Run(sess, args, NAME, data, weights_values=True)  # no target: none given
        best = min([h['loss'] for h in run.history['test'] if h['step'] % steps_per_epoch == 0]
                   or [float('inf')])
        for step, (batch_images, batch_labels) in run.steps():
            feed = {images: batch_images, labels: batch_labels, is_training: True}
            if run.logging(step):
                _, batch_loss, batch_accuracy, summaries = sess.run(
                    [train_op, loss, accuracy, summary], feed_dict=feed)
                run.log(step, summaries, loss=batch_loss, accuracy=batch_accuracy,
                        learning_rate=args.learning_rate)
            else:
                _, batch_loss = sess.run([train_op, loss], feed_dict=feed)
            run.check_finite(step, batch_loss)
            if step % steps_per_epoch == 0 or (args.eval_every and run.testing(step)):
                run.test(step, *test())                     # validation_freq=1
            if step % steps_per_epoch == 0 and run.history['test'][-1]['loss'] < best:
                best = run.history['test'][-1]['loss']
                if args.checkpoint_dir:
                    best_saver.save(sess, os.path.join(args.checkpoint_dir, 'best',
                                                       'Baseline.ckpt'))
            run.save(step)
        epochs = [h for h in run.history['test'] if h['step'] % steps_per_epoch == 0]
        run.finish(test, extra={'fc': args.fc, 'lr_drop_steps': [],
                                'best_test_loss': None if best == float('inf') else best,
                                'by_epoch': {str(h['step'] // steps_per_epoch): {
                                    'step': h['step'], 'test_accuracy': h['accuracy'],
                                    'test_loss': h['loss']} for h in epochs}})
        run.export(images, logits)  # a SavedModel for TF Serving (--export_dir)
    return 0


if __name__ == '__main__':
    cli.run(main)
