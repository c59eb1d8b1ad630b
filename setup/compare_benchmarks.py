"""Time the four benchmark scripts' networks against tf-slim's builds of the same networks.

One run, one process, the same machine, batch and Session settings: each network of
``alexnet/``, ``vggnet/``, ``googlenet/`` and ``resnet/benchmark.py`` (its graph as the
script's ``run_benchmark()`` builds it) and the tf-slim build of the same network on the
same random images, their forward and forward-backward passes timed in turn (ABBA over
``--rounds``, so that a drift of the machine's speed falls on both), with the book's
``time_tensorflow_run``.  The peers:

* AlexNet (the book's conv1-pool5 with LRN, which ``tf_slim.nets.alexnet`` is not: its
  alexnet_v2 has no LRN and other widths): the same layers written with ``slim.conv2d``;
* VGG-16: ``tf_slim.nets.vgg.vgg_16`` (fc6-fc8 as convolutions, dropout 0.5 when training);
* Inception-V3: ``tf_slim.nets.inception_v3`` (with its aux head);
* ResNet-V2-152: ``tf_slim.nets.resnet_v2.resnet_v2_152``.

Forward in inference mode (batch norm's moving averages, no dropout), forward-backward in
training mode, both networks alike.  A script's network is in step when its time is within
5 % of the faster of the two, on both passes.

    python setup/compare_benchmarks.py                       # batch 32, the four networks
    python setup/compare_benchmarks.py --nets alexnet --batch_size 8 --num_batches 3
    python setup/compare_benchmarks.py --min_seconds 10   # 10 s a timing: more batches for AlexNet
"""
import argparse
import contextlib
import importlib.util
import io
import math
import os
import sys
import time
from datetime import datetime

from tfcourse import REPO_ROOT, benchmark, cli
from tfcourse.compat import session_config, slim, tf
from tfcourse.machine import cpu_info

NETS = {  # name: (script, extra flags of the script, image size)
    'alexnet': ('alexnet/benchmark.py', [], 224),
    'vgg16': ('vggnet/benchmark.py', [], 224),
    'inception_v3': ('googlenet/benchmark.py', [], 299),
    'resnet_v2_152': ('resnet/benchmark.py', ['--depth', '152'], 224),
}
#: within this factor of the faster of the two
TOLERANCE = 1.05


def load(path):
    spec = importlib.util.spec_from_file_location(
        'compared_' + path.split('/')[0], os.path.join(REPO_ROOT, path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def slim_alexnet(images, is_training):
    """The book's AlexNet conv1-pool5 (LRN after conv1 and conv2) in tf-slim layers."""
    del is_training  # no batch norm, no dropout
    with slim.arg_scope([slim.conv2d], padding='SAME',
                        weights_initializer=tf.truncated_normal_initializer(stddev=1e-1)):
        net = slim.conv2d(images, 64, [11, 11], stride=4, scope='conv1')
        net = tf.nn.lrn(net, 4, bias=1.0, alpha=0.001 / 9, beta=0.75, name='lrn1')
        net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
        net = slim.conv2d(net, 192, [5, 5], scope='conv2')
        net = tf.nn.lrn(net, 4, bias=1.0, alpha=0.001 / 9, beta=0.75, name='lrn2')
        net = slim.max_pool2d(net, [3, 3], stride=2, scope='pool2')
        net = slim.conv2d(net, 384, [3, 3], scope='conv3')
        net = slim.conv2d(net, 256, [3, 3], scope='conv4')
        net = slim.conv2d(net, 256, [3, 3], scope='conv5')
        return [slim.max_pool2d(net, [3, 3], stride=2, scope='pool5')]


def slim_vgg16(images, is_training):
    from tf_slim.nets import vgg

    with slim.arg_scope(vgg.vgg_arg_scope()):
        return [vgg.vgg_16(images, is_training=is_training)[0]]


def slim_inception_v3(images, is_training):
    from tf_slim.nets import inception_v3

    with slim.arg_scope(inception_v3.inception_v3_arg_scope()):
        logits, end_points = inception_v3.inception_v3(images, is_training=is_training)
    return [logits, end_points['AuxLogits']] if is_training else [logits]


def slim_resnet_v2_152(images, is_training):
    from tf_slim.nets import resnet_v2

    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
        return [resnet_v2.resnet_v2_152(images, 1000, is_training=is_training)[0]]


PEERS = {'alexnet': slim_alexnet, 'vgg16': slim_vgg16, 'inception_v3': slim_inception_v3,
         'resnet_v2_152': slim_resnet_v2_152}


def build_peer(name, batch_size, size, seed):
    """The tf-slim network: (graph, forward fetch, forward-backward fetch, parameters)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        images = tf.Variable(tf.random_normal([batch_size, size, size, 3], stddev=1e-1),
                             trainable=False, name='images')
        with tf.variable_scope('peer'):
            forward = PEERS[name](images, False)[0]
        with tf.variable_scope('peer', reuse=True):
            outputs = PEERS[name](images, True)
        objective = tf.add_n([tf.nn.l2_loss(o) for o in outputs])
        parameters = tf.trainable_variables()
        backward = benchmark.first_elements_sum(tf.gradients(objective, parameters))
    return graph, forward, backward, benchmark.count_parameters(parameters)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--nets', nargs='+', choices=sorted(NETS), default=list(NETS),
                        help='networks to compare (default: all four)')
    parser.add_argument('--batch_size', type=int, default=32, help='(default: %(default)s)')
    parser.add_argument('--num_batches', type=int, default=5,
                        help='timed batches of each pass, each round (default: %(default)s)')
    parser.add_argument('--num_warmup', type=int, default=1,
                        help='untimed batches before each timing (default: %(default)s)')
    parser.add_argument('--min_seconds', type=cli.finite_float, default=0.0,
                        help='time more than --num_batches batches where a pass is fast, so '
                             'that each timing lasts about this long; both builds time the '
                             'same number (default: %(default)s, --num_batches alone)')
    parser.add_argument('--rounds', type=int, default=2,
                        help='rounds of ABBA timings; the mean over them is compared '
                             '(default: %(default)s)')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--json', default=cli.run_dir('benchmarks', 'peers.json'),
                        metavar='PATH', help="write the result as JSON to PATH ('' to skip) "
                                             "(default: %(default)s)")
    args = parser.parse_args(argv)
    for flag in ('batch_size', 'num_batches', 'rounds'):
        cli.check_positive('--' + flag, getattr(args, flag))
    if args.num_warmup < 0:
        raise cli.UserError('--num_warmup must be 0 or more, got %d' % args.num_warmup)
    if args.min_seconds < 0:
        raise cli.UserError('--min_seconds must be 0 or more, got %g' % args.min_seconds)
    cli.check_outputs(args, '--json')
    return args


def pass_of(side, key):
    """(session, fetch, feed_dict) of one build's forward or forward-backward pass."""
    sess, forward, backward, forward_feed, backward_feed = side
    return ((sess, forward, forward_feed) if key == 'forward'
            else (sess, backward, backward_feed))


def batches_to_time(sides, key, args):
    """--num_batches, or with --min_seconds as many as last that long at the slower build's
    speed, measured by one untimed batch of each after a warm-up one."""
    if not args.min_seconds:
        return args.num_batches
    slowest = 0.0
    for side in sides.values():
        sess, target, feed = pass_of(side, key)
        sess.run(target, feed_dict=feed)
        start = time.time()
        sess.run(target, feed_dict=feed)
        slowest = max(slowest, time.time() - start)
    return max(args.num_batches, int(math.ceil(args.min_seconds / slowest)))


def compare(name, args):
    """Both networks of ``name``, timed in turn; returns the record of the pair."""
    path, extra, size = NETS[name]
    module = load(path)
    with contextlib.redirect_stdout(io.StringIO()):  # the layer lines of both builds
        ours = benchmark.build_only(module.run_benchmark, [
            '--device', 'cpu', '--batch_size', str(args.batch_size), '--seed', str(args.seed),
            '--json', ''] + extra)
        peer_graph, peer_forward, peer_backward, peer_parameters = build_peer(
            name, args.batch_size, size, args.seed)
    sides = {
        'ours': (tf.Session(graph=ours.loss.graph, config=session_config()),
                 ours.forward, ours.backward, ours.forward_feed, ours.backward_feed),
        'tf_slim': (tf.Session(graph=peer_graph, config=session_config()),
                    peer_forward, peer_backward, None, None)}
    for sess, *_ in sides.values():
        with sess.graph.as_default():
            sess.run(tf.global_variables_initializer())
    batches = {key: batches_to_time(sides, key, args) for key in ('forward', 'forward_backward')}
    times = {side: {'forward': [], 'forward_backward': []} for side in sides}
    for r in range(args.rounds):
        order = ['ours', 'tf_slim'] if r % 2 == 0 else ['tf_slim', 'ours']
        for key in ('forward', 'forward_backward'):
            for side in order + order[::-1]:  # ABBA
                sess, target, feed = pass_of(sides[side], key)
                label = '%s %s (%s)' % (name, key.replace('_', '-'), side)
                mean, _ = module.time_tensorflow_run(sess, target, label, batches[key],
                                                     args.batch_size, feed, args.num_warmup)
                times[side][key].append(mean)
    for sess, *_ in sides.values():
        sess.close()
    record = {'network': name, 'script': path, 'batches_per_timing': batches,
              'parameters': {'ours': benchmark.count_parameters(ours.parameters),
                             'tf_slim': peer_parameters}}
    for key in ('forward', 'forward_backward'):
        mean = {side: sum(times[side][key]) / len(times[side][key]) for side in sides}
        faster = min(mean.values())
        record[key] = {'ours_sec_per_batch': mean['ours'],
                       'tf_slim_sec_per_batch': mean['tf_slim'],
                       'ours_over_tf_slim': mean['ours'] / mean['tf_slim'],
                       'ours_over_faster': mean['ours'] / faster,
                       'in_step': mean['ours'] <= TOLERANCE * faster,
                       'each': {side: times[side][key] for side in sides}}
        print('%s: %s: %s %.3f s, tf-slim %.3f s per batch: ours / faster %.3f (%s)'
              % (datetime.now(), name, key, mean['ours'], mean['tf_slim'],
                 mean['ours'] / faster, 'in step' if record[key]['in_step'] else
                 'more than %d %% slower' % round(100 * (TOLERANCE - 1))), flush=True)
    return record


def main(argv=None):
    args = parse_args(argv)
    load_before = list(os.getloadavg())
    pairs = [compare(name, args) for name in args.nets]
    cpu = cpu_info()
    record = {
        'batch_size': args.batch_size, 'num_batches': args.num_batches * args.rounds,
        'min_seconds': args.min_seconds,
        'num_warmup': args.num_warmup, 'rounds': args.rounds, 'device': 'cpu',
        'cpu_model': cpu['model'], 'cpu_count': cpu['cores'], 'tf_version': tf.__version__,
        'tolerance': TOLERANCE, 'load_average_before': load_before,
        'load_average_after': list(os.getloadavg()),
        'date': datetime.now().isoformat(timespec='seconds'),
        'command': ' '.join(['python', os.path.relpath(sys.argv[0])] + sys.argv[1:]),
        'nets': {pair['network']: pair for pair in pairs},
    }
    if args.json:
        cli.wrote(cli.write_json(args.json, record))
    return 0


if __name__ == '__main__':
    cli.run(main)
