"""Benchmark harness shared by the four CNN timing scripts: plumbing, not the model.

``alexnet/benchmark.py``, ``vggnet/benchmark.py``, ``googlenet/benchmark.py``
and ``resnet/benchmark.py`` each write out their model, the book's small
helpers (print_activations, time_tensorflow_run, and for VGG conv_op, fc_op,
mpool_op) and their tower function themselves, so that the model reads top to
bottom as in the book.  What is the same in all four and is not part of the
book's model lives here, once:

* the command-line flags and their checks (add_benchmark_flags,
  check_benchmark_flags),
* parameter and FLOP counting (count_parameters, count_flops),
* the data-parallel towers with variables on the CPU and averaged gradients
  (build_towers, variables_on_cpu, average_gradients) and the gradient-fetch
  scalar (first_elements_sum),
* running the timings (run_benchmark, given the script's time_tensorflow_run)
  and the JSON record (benchmark_record).

``tests/test_benchmarks_helpers_in_sync.py`` fails if a script defines one of
these functions again.
"""
import os
import platform
import sys
from datetime import datetime

from tfcourse import cli
from tfcourse.compat import tf, gpu_names, session_config

__all__ = ['count_parameters', 'count_flops', 'add_benchmark_flags', 'check_benchmark_flags',
           'first_elements_sum', 'average_gradients', 'variables_on_cpu', 'build_towers',
           'run_benchmark', 'benchmark_record']


def count_parameters(variables):
    """Number of scalars in a list of variables."""
    total = 0
    for v in variables:
        n = 1
        for d in v.get_shape().as_list():
            n *= d
        total += n
    return total


def count_flops(graph, batch_size):
    """FLOPs of one forward pass per image: 2 x the multiply-adds of every Conv2D and MatMul.

    Call it right after building the model, before tf.gradients adds the backward ops.
    """
    flops = 0
    for op in graph.get_operations():
        if op.type == 'Conv2D':
            kh, kw, n_in, _ = op.inputs[1].get_shape().as_list()
            n = 1
            for d in op.outputs[0].get_shape().as_list():
                n *= d
            flops += 2 * n * kh * kw * n_in
        elif op.type == 'MatMul':
            a = op.inputs[0].get_shape().as_list()
            m, k = (a[1], a[0]) if op.get_attr('transpose_a') else (a[0], a[1])
            n_out = op.outputs[0].get_shape().as_list()[1]
            flops += 2 * m * k * n_out
    return flops // batch_size


def add_benchmark_flags(parser):
    """The flags every benchmark script has."""
    parser.add_argument('--batch_size', type=int, default=32,
                        help='images per batch (per tower with --num_gpus) (default 32)')
    parser.add_argument('--num_batches', type=int, default=100,
                        help='timed batches per pass (default 100)')
    parser.add_argument('--num_warmup', type=int, default=10,
                        help='untimed warm-up batches before each timing (default 10)')
    parser.add_argument('--device', choices=['cpu', 'gpu'], default=None,
                        help='where to run (default: gpu if TensorFlow sees one, else cpu)')
    parser.add_argument('--data_format', choices=['NHWC', 'NCHW'], default='NHWC',
                        help='NHWC (channels last, default) or NCHW (channels first, for GPUs)')
    parser.add_argument('--forward_only', action='store_true',
                        help='time only the forward pass')
    parser.add_argument('--xla', action='store_true', help='compile the graph with XLA')
    parser.add_argument('--fp16', action='store_true', help='images and weights in float16')
    parser.add_argument('--num_gpus', type=int, default=0,
                        help='build one tower per device (data parallel), gradients '
                             'averaged on the CPU; 0 (default) builds the single graph '
                             'of the book; with --device cpu the towers all go on the CPU')
    parser.add_argument('--seed', type=int, default=1, help='graph-level random seed')
    parser.add_argument('--json', default=None, metavar='PATH',
                        help='also write the result as JSON to PATH')


def check_benchmark_flags(args):
    """Validate the flags (cli.UserError names the fix); fills in args.device and args.devices."""
    for name in ('batch_size', 'num_batches'):
        if getattr(args, name) <= 0:
            raise cli.UserError('--%s must be a positive integer, got %d'
                                % (name, getattr(args, name)))
    if args.num_warmup < 0:
        raise cli.UserError('--num_warmup must be 0 or more, got %d' % args.num_warmup)
    if args.num_gpus < 0:
        raise cli.UserError('--num_gpus must be 0 or more, got %d' % args.num_gpus)
    gpus = gpu_names()
    if args.device is None:
        args.device = 'gpu' if gpus else 'cpu'
    if args.device == 'gpu' and not gpus:
        raise cli.UserError('--device gpu but TensorFlow sees no GPU (is the CUDA build of '
                            'tensorflow installed?); run with --device cpu')
    if args.device == 'gpu' and args.num_gpus > len(gpus):
        raise cli.UserError('--num_gpus %d but this machine has only %d GPU(s); use '
                            '--num_gpus %d or fewer' % (args.num_gpus, len(gpus), len(gpus)))
    towers = max(args.num_gpus, 1)
    if args.device == 'gpu':
        args.devices = ['/gpu:%d' % i for i in range(towers)]
    else:
        args.devices = ['/cpu:0'] * towers
    return args


def first_elements_sum(tensors):
    """A float32 scalar that needs every tensor in ``tensors`` (the sum of their first elements).

    Fetching it makes TensorFlow compute every gradient while copying 4 bytes
    to the host.  (Fetching the gradient list copies all of them; a bare
    tf.group of them is pruned by Grappler's dependency optimizer on TF 2.x,
    so nothing would be timed.)
    """
    return tf.add_n([tf.cast(tf.reshape(t, [-1])[0], tf.float32) for t in tensors])


def average_gradients(tower_grads):
    """Average, variable by variable, the (gradient, variable) lists of all towers."""
    average_grads = []
    for grad_and_vars in zip(*tower_grads):
        grads = [tf.expand_dims(g, 0) for g, _ in grad_and_vars]
        grad = tf.reduce_mean(tf.concat(grads, 0), 0)
        average_grads.append((grad, grad_and_vars[0][1]))
    return average_grads


def variables_on_cpu(getter, *args, **kwargs):
    """Custom getter for the towers' variable scope: every variable lives on the CPU."""
    with tf.device('/cpu:0'):
        return getter(*args, **kwargs)


def build_towers(args, tower_fn):
    """The book's single graph (--num_gpus 0), or one tower per device (data parallel).

    ``tower_fn()`` builds random images, the model, its l2 loss and the
    gradients on the current device and returns (output, loss, grads,
    parameters, flops).  Towers share their variables (kept on the CPU,
    variable scope reuse), each has its own batch, and their gradients are
    averaged on the CPU.  Returns what run_benchmark fetches: the output(s)
    for the forward pass and a scalar that needs every (averaged) gradient.
    """
    if args.num_gpus == 0:
        with tf.device(args.devices[0]):
            output, loss, grads, parameters, flops = tower_fn()
        return {'forward': output, 'backward': first_elements_sum(grads), 'loss': loss,
                'grads_and_vars': list(zip(grads, parameters)), 'parameters': parameters,
                'flops': flops}
    outputs, losses, tower_grads = [], [], []
    for i, device in enumerate(args.devices):
        with tf.device(device), tf.name_scope('tower_%d' % i), \
                tf.variable_scope(tf.get_variable_scope(), reuse=i > 0,
                                  custom_getter=variables_on_cpu):
            output, loss, grads, parameters, tower_flops = tower_fn()
        if i == 0:
            flops = tower_flops
        outputs.append(output)
        losses.append(loss)
        tower_grads.append(list(zip(grads, parameters)))
    with tf.device('/cpu:0'):
        grads_and_vars = average_gradients(tower_grads)
        loss = tf.add_n(losses) / len(losses)
    return {'forward': outputs, 'backward': first_elements_sum([g for g, _ in grads_and_vars]),
            'loss': loss, 'grads_and_vars': grads_and_vars, 'parameters': parameters,
            'flops': flops, 'forward_one_tower': outputs[0],
            'backward_one_tower': first_elements_sum([g for g, _ in tower_grads[0]])}


def run_benchmark(args, net, time_tensorflow_run):
    """Initialise the variables and time the forward (and forward-backward) pass of ``net``.

    ``time_tensorflow_run`` is the calling script's own copy of the book's
    timing loop (it prints the ``Forward across ...`` lines).

    With several towers, also times tower 0 alone in the same graph, the
    one-device baseline of the scaling efficiency.  Returns {'forward': (mean,
    sd), 'forward_backward': (mean, sd) or None, 'one_tower': the same or None}.
    """
    passes = [(net['forward'], net['backward'], len(args.devices), '')]
    if len(args.devices) > 1:
        passes.append((net['forward_one_tower'], net['backward_one_tower'], 1,
                       ' (tower 0 alone)'))
    results = []
    with tf.Session(config=session_config(xla=args.xla)) as sess:
        try:
            sess.run(tf.global_variables_initializer())
            for forward, backward, towers, suffix in passes:
                timings = {'forward': None, 'forward_backward': None}
                timings['forward'] = time_tensorflow_run(
                    sess, forward, 'Forward' + suffix, args.num_batches,
                    args.batch_size * towers, net['forward_feed'], args.num_warmup)
                if not args.forward_only:
                    timings['forward_backward'] = time_tensorflow_run(
                        sess, backward, 'Forward-backward' + suffix, args.num_batches,
                        args.batch_size * towers, net['backward_feed'], args.num_warmup)
                results.append(timings)
        except tf.errors.ResourceExhaustedError as exc:
            raise cli.UserError('out of memory at --batch_size %d (%s); try a smaller '
                                '--batch_size'
                                % (args.batch_size, exc.message.splitlines()[0][:150]))
        except (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError) as exc:
            if args.data_format != 'NCHW' and not args.fp16:
                raise
            raise cli.UserError('TensorFlow has no %s kernel for this model with%s%s (%s); '
                                'use --data_format NHWC without --fp16 on the CPU'
                                % (args.device.upper(),
                                   ' --data_format NCHW' if args.data_format == 'NCHW' else '',
                                   ' --fp16' if args.fp16 else '',
                                   exc.message.splitlines()[0][:150]))
    timings = results[0]
    timings['one_tower'] = results[1] if len(results) > 1 else None
    return timings


def benchmark_record(args, model, net, timings):
    """The machine-readable result (what --json writes); prints the multi-tower summary."""
    towers = len(args.devices)
    record = {
        'model': model, 'batch_size': args.batch_size, 'num_batches': args.num_batches,
        'num_warmup': args.num_warmup, 'device': args.device, 'num_towers': towers,
        'num_gpus': args.num_gpus,
        'device_names': gpu_names() if args.device == 'gpu' else [platform.processor() or
                                                                   platform.machine()],
        'cpu_count': os.cpu_count(), 'data_format': args.data_format, 'fp16': args.fp16,
        'xla': args.xla, 'tf_version': tf.__version__,
        'parameters': count_parameters(net['parameters']), 'flops_per_image': net['flops'],
        'date': datetime.now().isoformat(timespec='seconds'), 'command': ' '.join(sys.argv),
    }
    for key in ('forward', 'forward_backward'):
        if timings[key] is None:
            record[key] = None
            continue
        mean, sd = timings[key]
        images_per_sec = args.batch_size * towers / mean
        record[key] = {'mean_sec_per_batch': mean, 'sd_sec_per_batch': sd,
                       'images_per_sec': images_per_sec,
                       'images_per_sec_per_device': images_per_sec / towers}
        if timings['one_tower']:
            one_mean = timings['one_tower'][key][0]
            record[key]['one_tower_mean_sec_per_batch'] = one_mean
            record[key]['scaling_efficiency'] = (images_per_sec /
                                                 (towers * args.batch_size / one_mean))
            print('%s: %s: %d towers, %.1f images/sec in total, %.1f per device, '
                  'scaling efficiency %.0f%%' % (datetime.now(), key, towers, images_per_sec,
                                                 images_per_sec / towers,
                                                 100 * record[key]['scaling_efficiency']))
    if timings['forward'] and timings['forward_backward']:
        record['backward_forward_ratio'] = (timings['forward_backward'][0] /
                                            timings['forward'][0])
    return record
