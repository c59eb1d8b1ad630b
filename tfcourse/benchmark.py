"""Benchmark harness of the CNN timing scripts: plumbing, not the model.

A benchmark script (``alexnet/benchmark.py``, ``vggnet/``, ``googlenet/``,
``resnet/``) holds the book's small helpers, its model and, last, the book's
``run_benchmark()``: a ``tf.Graph`` with the random images, ``inference()``, a
simple l2 objective and ``tf.gradients``, a ``tf.Session`` and the two
``time_tensorflow_run`` calls, Forward and Forward-backward, then the record.
What that function needs and is not the book's model lives here, in a
:class:`Benchmark` it makes and calls:

* the flags (defined once, :func:`add_benchmark_flags`) and their checks;
* :meth:`Benchmark.tower_images`: the random images of each tower (one, or one a
  device with ``--num_gpus``: variables on the CPU, shared), in the compute dtype
  (float32 variables cast to float16/bfloat16 by a custom getter, as
  ``tf_cnn_benchmarks`` does), with Conv2D's gradient in float32 where a 16-bit
  one would be slow;
* :meth:`Benchmark.assemble`: the fetches (one scalar that needs every gradient,
  averaged over towers), FLOP counting, a memory estimate before anything is
  allocated;
* :meth:`Benchmark.session`: the Session, the check that no op meant for the GPU
  landed on the CPU, kernel errors turned into one line;
* :meth:`Benchmark.record`: GFLOP/s and % of peak, scaling over towers, the noise
  warning and the JSON record.

``tests/test_benchmarks_helpers_in_sync.py`` keeps the book's helpers in the
scripts identical to their canonical text and fails if a script defines one of
this module's functions again.
"""
import argparse
import collections
import contextlib
import os
import re
import sys
from datetime import datetime

from tfcourse import cli
from tfcourse.compat import tf, gpu_names, session_config
from tfcourse import gpu_check
from tfcourse import precision
from tfcourse.machine import cpu_info, vector_units
from tfcourse.precision import DTYPES, compute_dtype_getter

__all__ = ['Benchmark', 'Net', 'build_only', 'add_benchmark_flags', 'check_benchmark_flags',
           'count_parameters', 'forward_ops', 'count_flops', 'first_elements_sum',
           'average_gradients',
           'variables_on_cpu', 'estimate_memory', 'check_placement',
           'efficiency', 'benchmark_record', 'cpu_info', 'GPU_PEAK_TFLOPS']


# Dense peak TFLOP/s (boost clock, no sparsity) by GPU name and dtype: float32 on the CUDA
# cores; float16/bfloat16 on the tensor cores with float32 accumulation, as mixed precision
# uses them.  None: the GPU has no such units (bfloat16 before Ampere).  From NVIDIA's
# architecture white papers and data sheets (Turing, Ampere GA102/GA104, Ada, T4, V100,
# A100, L4, H100).  A name is matched as a substring of the device name TensorFlow reports.
GPU_PEAK_TFLOPS = collections.OrderedDict([
    ('RTX 2060', {'float32': 6.5, 'float16': 25.8, 'bfloat16': None}),
    ('RTX 2070', {'float32': 7.5, 'float16': 29.9, 'bfloat16': None}),  # the report's GPU
    ('RTX 2080 Ti', {'float32': 13.4, 'float16': 53.8, 'bfloat16': None}),
    ('RTX 2080', {'float32': 10.1, 'float16': 40.3, 'bfloat16': None}),
    ('RTX 3060', {'float32': 12.7, 'float16': 25.4, 'bfloat16': 25.4}),
    ('RTX 3070', {'float32': 20.3, 'float16': 40.6, 'bfloat16': 40.6}),
    ('RTX 3080', {'float32': 29.8, 'float16': 59.5, 'bfloat16': 59.5}),
    ('RTX 3090', {'float32': 35.6, 'float16': 71.0, 'bfloat16': 71.0}),
    ('RTX 4070', {'float32': 29.1, 'float16': 58.3, 'bfloat16': 58.3}),
    ('RTX 4080', {'float32': 48.7, 'float16': 97.5, 'bfloat16': 97.5}),
    ('RTX 4090', {'float32': 82.6, 'float16': 165.2, 'bfloat16': 165.2}),
    ('T4', {'float32': 8.1, 'float16': 65.0, 'bfloat16': None}),
    ('V100', {'float32': 15.7, 'float16': 125.0, 'bfloat16': None}),
    ('A100', {'float32': 19.5, 'float16': 312.0, 'bfloat16': 312.0}),
    ('L4', {'float32': 30.3, 'float16': 121.0, 'bfloat16': 121.0}),
    ('H100', {'float32': 67.0, 'float16': 989.4, 'bfloat16': 989.4}),
])

# Memory a batch may take: at most this fraction of what the device has free.
MEMORY_FRACTION = 0.8


def add_benchmark_flags(parser):
    """The flags every benchmark script has, each defined here once."""
    parser.add_argument('--batch_size', type=int, default=32,
                        help='images per batch (per tower with --num_gpus) (default 32)')
    parser.add_argument('--num_batches', type=int, default=100,
                        help='timed batches per pass (default 100)')
    parser.add_argument('--num_warmup', type=int, default=10,
                        help='untimed warm-up batches before each timing (default 10)')
    parser.add_argument('--device', choices=['cpu', 'gpu'], default=None,
                        help='where to run (default: gpu if TensorFlow sees one, else cpu)')
    parser.add_argument('--allow_cpu_fallback', action='store_true',
                        help='with --device gpu, time even if some ops landed on the CPU '
                             '(default: stop and name them)')
    parser.add_argument('--data_format', choices=['NHWC', 'NCHW'], default='NHWC',
                        help='NHWC (channels last, default) or NCHW (channels first, for GPUs)')
    precision.add_dtype_flag(parser, loss_scale=False)  # nothing is trained: no loss scale
    parser.add_argument('--fp16', dest='dtype', action='store_const', const='float16',
                        help='the same as --dtype float16 (the old flag)')
    parser.add_argument('--forward_only', action='store_true',
                        help='time only the forward pass')
    parser.add_argument('--xla', action='store_true', help='compile the graph with XLA')
    parser.add_argument('--num_gpus', type=int, default=0,
                        help='build one tower per device (data parallel), gradients '
                             'averaged on the CPU; 0 (default) builds the single graph '
                             'of the book; with --device cpu the towers all go on the CPU')
    parser.add_argument('--seed', type=int, default=1, help='graph-level random seed')
    parser.add_argument('--json', default=None, metavar='PATH',
                        help="write the result as JSON to PATH ('' to skip) (default: "
                             "runs/benchmarks/<model>_<device>_<dtype>_b<batch>.json)")


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


def count_parameters(variables):
    """Number of scalars in a list of variables."""
    total = 0
    for v in variables:
        n = 1
        for d in v.get_shape().as_list():
            n *= d
        total += n
    return total


def forward_ops(fetches):
    """The ops that computing ``fetches`` (a tensor or a list of them) runs: the forward pass's
    own subgraph (not a second copy of the model in training mode, not the gradients)."""
    fetches = fetches if isinstance(fetches, (list, tuple)) else [fetches]
    seen, stack = set(), [t.op for t in fetches]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        stack.extend(t.op for t in op.inputs)
        stack.extend(op.control_inputs)
    return seen


def count_flops(ops, images):
    """FLOPs of one forward pass per image: 2 x the multiply-adds of every Conv2D and MatMul
    among ``ops`` (:func:`forward_ops`), divided by ``images`` (the batch times the towers)."""
    flops = 0
    for op in ops:
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
    return flops // images


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


Net = collections.namedtuple('Net', [
    'forward',             # what the forward pass fetches (one tensor, or one per tower)
    'backward',            # a float32 scalar that needs every (averaged) gradient
    'forward_one_tower',   # with several towers: tower 0 alone (the scaling baseline), else None
    'backward_one_tower',
    'loss',                # the float32 objective (mean over towers)
    'grads_and_vars',      # float32 (gradient, variable) pairs (averaged over towers)
    'parameters',          # the trainable variables (float32)
    'flops',               # forward FLOPs per image
    'forward_feed',        # feed_dicts of the two passes
    'backward_feed',
    'images_per_batch',    # --batch_size times the towers
])
Net.__doc__ = 'The benchmark graph, as Benchmark.assemble() returns it.'


def _tensor_bytes(tensor):
    shape = tensor.get_shape()
    if shape.ndims is None or not shape.is_fully_defined():
        return 0
    n = 1
    for d in shape.as_list():
        n *= d
    try:
        return n * tensor.dtype.size
    except (TypeError, ValueError):  # resource handles, strings
        return 0


def _is_gradient_op(op):
    return op.name.startswith('gradients') or '/gradients' in op.name


def estimate_memory(graph, forward_only):
    """Bytes a run of the graph holds at its peak, estimated from the graph alone.

    Counted: every variable (the weights and the random images), and for the
    forward-backward pass their gradients too; the forward activations the
    backward pass reads (each tensor once: they stay alive from the forward
    pass until their gradient is computed); and room for the largest tensors
    in flight (three forward-sized ones, an op's inputs and output, or two
    gradient-sized ones).  Intermediate tensors that only the forward pass reads
    are freed as it goes and are not counted.  On the known nets this is within
    a factor of about two of TensorFlow's real peak, which is all a refusal
    needs: a batch many times too large is refused, one that fits is not.
    """
    weights = sum(_tensor_bytes(v) for v in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES))
    ops = graph.get_operations()
    forward_largest = max([_tensor_bytes(t) for op in ops if not _is_gradient_op(op)
                           for t in op.outputs] or [0])
    if forward_only:
        return weights + 3 * forward_largest
    saved, gradient_largest = {}, 0
    for op in ops:
        if not _is_gradient_op(op):
            continue
        for t in op.inputs:
            if not _is_gradient_op(t.op) and t.op.type not in ('VarHandleOp', 'VariableV2',
                                                               'ReadVariableOp', 'Const'):
                saved[t.name] = _tensor_bytes(t)
        gradient_largest = max([gradient_largest] + [_tensor_bytes(t) for t in op.outputs])
    return 2 * weights + sum(saved.values()) + 2 * max(gradient_largest, forward_largest)


def _free_memory(args):
    """(bytes free on the device, its description), or (None, None) when unknown."""
    if args.device == 'gpu':
        try:
            from tensorflow.python.client import device_lib

            limits = [d.memory_limit for d in device_lib.list_local_devices()
                      if d.device_type == 'GPU']
            return min(limits), 'GPU memory'
        except Exception:  # noqa: BLE001 -- an estimate only; TensorFlow reports real OOMs
            return None, None
    try:
        with open('/proc/meminfo') as f:
            info = dict(line.split(':', 1) for line in f)
        return int(info['MemAvailable'].split()[0]) * 1024, 'free RAM'
    except (OSError, KeyError, ValueError):
        return None, None


def _check_memory(args, graph):
    """The estimate of :func:`estimate_memory`; refuses (one line, naming a batch size that
    fits) a batch that needs more than MEMORY_FRACTION of the free RAM or GPU memory."""
    need = estimate_memory(graph, args.forward_only)
    per_device = need / len(args.devices) if args.device == 'gpu' else need
    free, what = _free_memory(args)
    if free is None or per_device <= MEMORY_FRACTION * free:
        return need
    fits = int(args.batch_size * MEMORY_FRACTION * free / per_device)
    raise cli.UserError('--batch_size %d needs about %.1f GB but only %.1f GB of %s is '
                        'available; use --batch_size %d or less'
                        % (args.batch_size, per_device / 1e9, free / 1e9, what, max(fits, 1)))


def check_placement(sess, graph, fetches, feed_dict, allow_cpu_fallback):
    """Run ``fetches`` once and compare where each op landed (after Grappler) with where
    the graph asked for it: an op asked for on a GPU that ran on the CPU is a silent
    fallback; stop with one line naming them unless ``allow_cpu_fallback``.
    Returns the list of fallen-back op names."""
    options = tf.RunOptions(output_partition_graphs=True)
    metadata = tf.RunMetadata()
    sess.run(fetches, feed_dict=feed_dict, options=options, run_metadata=metadata)
    wanted = {op.name: op.device for op in graph.get_operations()}
    fallen = collections.OrderedDict()
    for partition in metadata.partition_graphs:
        for node in partition.node:
            requested = wanted.get(node.name, '')
            if 'GPU' in requested.upper() and 'CPU' in node.device.upper() \
                    and node.op not in gpu_check.HOST_OPS:
                fallen[node.name] = node.op
    if fallen and not allow_cpu_fallback:
        types = collections.Counter(fallen.values())
        raise cli.UserError('%d ops meant for the GPU ran on the CPU (%s); the timing would '
                            'measure host copies: use another --dtype/--data_format, or pass '
                            '--allow_cpu_fallback to time it anyway'
                            % (len(fallen), ', '.join('%s x%d' % kv for kv in types.items())))
    return list(fallen)


def gpu_peak_tflops(device_name, dtype):
    """Dense peak TFLOP/s of a GPU in ``dtype`` from GPU_PEAK_TFLOPS, or None."""
    for name, peaks in GPU_PEAK_TFLOPS.items():
        if re.search(r'\b%s\b' % re.escape(name), device_name or ''):
            return peaks.get(dtype)
    return None


def efficiency(flops_per_image, images_per_sec, backward, peak_tflops):
    """(GFLOP/s, % of peak or None): forward-backward counts about 3x the forward FLOPs."""
    gflops = flops_per_image * (3 if backward else 1) * images_per_sec / 1e9
    percent = 100.0 * gflops / (1e3 * peak_tflops) if peak_tflops else None
    return gflops, percent


def _load():
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def benchmark_record(args, name, net, timings, extra):
    """The machine-readable result (what --json writes); prints efficiency and scaling."""
    towers = len(args.devices)
    cpu = cpu_info()
    device_names = gpu_names() if args.device == 'gpu' else [cpu['model']]
    peak = gpu_peak_tflops(device_names[0], args.dtype) if args.device == 'gpu' else None
    record = {
        'model': name, 'batch_size': args.batch_size, 'num_batches': args.num_batches,
        'num_warmup': args.num_warmup, 'device': args.device, 'num_towers': towers,
        'num_gpus': args.num_gpus, 'device_names': device_names, 'cpu_model': cpu['model'],
        'vector_units': vector_units(cpu), 'cpu_count': cpu['cores'],
        'data_format': args.data_format, 'dtype': args.dtype,
        'xla': args.xla, 'tf_version': tf.__version__,
        'parameters': count_parameters(net.parameters), 'flops_per_image': net.flops,
        'peak_tflops': peak, 'date': datetime.now().isoformat(timespec='seconds'),
        'command': ' '.join(['python', os.path.relpath(sys.argv[0])] + sys.argv[1:]),
    }
    record.update(extra)
    noisy = []
    # Other jobs: the 1-minute load before the run above the cores, or after it above the
    # cores plus one (the run's own threads lift it towards the core count by themselves).
    before = (record.get('load_average_before') or [0.0])[0]
    after = (record.get('load_average_after') or [0.0])[0]
    if before > cpu['cores'] or after > cpu['cores'] + 1:
        noisy.append('load average %.1f before, %.1f after the run, on %d cores'
                     % (before, after, cpu['cores']))
    for key in ('forward', 'forward_backward'):
        if timings[key] is None:
            record[key] = None
            continue
        mean, sd = timings[key]
        images_per_sec = args.batch_size * towers / mean
        gflops, percent = efficiency(net.flops, images_per_sec, key == 'forward_backward', peak)
        record[key] = {'mean_sec_per_batch': mean, 'sd_sec_per_batch': sd,
                       'images_per_sec': images_per_sec,
                       'images_per_sec_per_device': images_per_sec / towers,
                       'gflops_per_sec': gflops, 'percent_of_peak': percent}
        label = 'Forward' if key == 'forward' else 'Forward-backward'
        print('%s: %s: %.1f GFLOP/s%s' % (datetime.now(), label, gflops,
                                          ', %.0f%% of the %s %s peak' % (
                                              percent, device_names[0], args.dtype)
                                          if percent is not None else ''))
        if mean > 0 and sd / mean > 0.10:
            noisy.append('%s sd/mean %.0f%%' % (key, 100 * sd / mean))
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
    record['noisy'] = noisy
    if noisy:
        print('%s: warning: this figure is noisy (%s); time again on a quiet machine'
              % (datetime.now(), '; '.join(noisy)))
    return record


def _dtype_notes(float32_ops, args):
    """The lines that say what the compute dtype means here (printed and recorded)."""
    notes = []
    if args.dtype != 'float32':
        notes.append('%s compute, float32 variables, loss and gradient reduction'
                     % args.dtype)
        if float32_ops:
            notes.append('computed in float32 (no fast %s kernel): %s'
                         % (args.dtype, ', '.join(float32_ops)))
    if args.device == 'cpu' and args.dtype == 'bfloat16':
        flags = cpu_info()['flags']
        native = sorted(flags & {'avx512_bf16', 'amx_bf16'})
        if native:
            notes.append('this CPU has %s for bfloat16' % ', '.join(native))
        else:
            notes.append('this CPU has neither AVX512_BF16 nor AMX: bfloat16 is emulated, '
                         'no faster than float32')
    return notes


class _Built(Exception):
    """Raised by :meth:`Benchmark.session` under :func:`build_only`: the graph is complete."""


_BUILD_ONLY = []


def build_only(run_benchmark, argv):
    """The :class:`Net` a script's ``run_benchmark(argv)`` builds, without running anything
    (for tests): :meth:`Benchmark.session` stops it before the Session is made.  The graph
    is ``net.forward.graph`` (the first output's, with several towers)."""
    _BUILD_ONLY.append(True)
    try:
        run_benchmark(argv)
    except _Built as built:
        return built.args[0]
    finally:
        _BUILD_ONLY.pop()
    raise AssertionError('run_benchmark() made no Session')


class Benchmark:
    """One run of a benchmark script: its flags, the towers' images, the graph's fetches, the
    Session and the record.  ``name`` is printed and recorded, ``str.format()``ted with the
    flags ('ResNet-V2-{depth}'); ``image_size`` is the side of the square random images;
    ``float32_ops`` names the op types the model computes in float32 under --dtype
    float16/bfloat16 (no fast kernel in that dtype); ``add_flags(parser)`` adds the
    model's own flags (--depth, --model).  ``name``, ``image_size`` and ``float32_ops`` may
    also be functions of the parsed flags (a script whose --model picks the network)."""

    def __init__(self, doc, name, image_size, argv=None, float32_ops=(), add_flags=None):
        parser = argparse.ArgumentParser(description=(doc or str(name)).splitlines()[0])
        add_benchmark_flags(parser)
        if add_flags:
            add_flags(parser)
        args = self.args = check_benchmark_flags(parser.parse_args(argv))
        name, image_size, float32_ops = [value(args) if callable(value) else value
                                         for value in (name, image_size, float32_ops)]
        self.name = name.format(**vars(args))
        self.image_size = image_size
        if args.json is None:
            slug = re.sub(r'[^a-z0-9]+', '_', self.name.lower()).strip('_')
            args.json = cli.run_dir('benchmarks', '%s_%s_%s_b%d.json' % (
                slug, args.device, args.dtype, args.batch_size))
        cli.check_outputs(args, '--json')  # before anything is built
        self.notes = _dtype_notes(float32_ops, args)
        self.float32_ops = list(float32_ops) if args.dtype != 'float32' else []
        self.slow_backward = precision.slow_backward_ops(args.dtype, args.device == 'gpu')
        if self.slow_backward:
            self.notes.append(precision.SLOW_BACKWARD_NOTE % ', '.join(self.slow_backward))
            self.float32_ops += self.slow_backward
        for note in self.notes:
            print('%s: %s' % (self.name, note))
        self.load_before = _load()
        self.memory = None

    def tower_images(self):
        """One batch of random images (a non-trainable tf.Variable, so no input pipeline is
        timed) per tower, each yielded inside its tower's scopes: its device; with
        --num_gpus, a ``tower_i`` name scope and variables shared on the CPU; the compute
        dtype's custom getter; Conv2D's gradient in float32 where it must be."""
        args = self.args
        dtype = DTYPES[args.dtype]
        size = self.image_size
        shape = ([args.batch_size, size, size, 3] if args.data_format == 'NHWC'
                 else [args.batch_size, 3, size, size])
        tf.set_random_seed(args.seed)
        with precision.float32_backward(self.slow_backward):
            for i, device in enumerate(args.devices):
                with contextlib.ExitStack() as scopes:
                    scopes.enter_context(tf.device(device))
                    if args.num_gpus:
                        scopes.enter_context(tf.name_scope('tower_%d' % i))
                        scopes.enter_context(tf.variable_scope(
                            tf.get_variable_scope(), reuse=i > 0,
                            custom_getter=variables_on_cpu))
                    images = tf.Variable(tf.random_normal(shape, dtype=dtype, stddev=1e-1),
                                         trainable=False, name='images')
                    scopes.enter_context(tf.variable_scope(
                        tf.get_variable_scope(), custom_getter=compute_dtype_getter(dtype)))
                    yield images

    def assemble(self, towers, forward_feed=None, backward_feed=None):
        """The :class:`Net` of ``towers``, a (output, objective, [(gradient, variable), ...])
        per tower: the forward pass fetches the output (every tower's), the forward-backward
        pass one float32 scalar that needs every gradient (averaged on the CPU over
        towers).  Counts the FLOPs and refuses, before anything is allocated, a batch that
        does not fit in memory."""
        args = self.args
        graph = tf.get_default_graph()
        outputs = [output for output, _, _ in towers]
        flops = count_flops(forward_ops(outputs), args.batch_size * len(towers))
        tower_grads = [grads for _, _, grads in towers]
        parameters = [v for _, v in tower_grads[0]]
        images = args.batch_size * len(towers)
        if len(towers) == 1:
            output, loss, grads = towers[0]
            net = Net(output, first_elements_sum([g for g, _ in grads]), None, None,
                      tf.cast(loss, tf.float32), grads, parameters, flops, forward_feed,
                      backward_feed, images)
        else:
            with tf.device('/cpu:0'):
                grads_and_vars = average_gradients(tower_grads)
                loss = tf.add_n([tf.cast(t[1], tf.float32) for t in towers]) / len(towers)
            net = Net(outputs, first_elements_sum([g for g, _ in grads_and_vars]), outputs[0],
                      first_elements_sum([g for g, _ in tower_grads[0]]), loss, grads_and_vars,
                      parameters, flops, forward_feed, backward_feed, images)
        self.memory = _check_memory(args, graph)
        print('%s: %d parameters, %.2f GFLOPs per image (forward), batch %d on %s, '
              'about %.2f GB' % (self.name, count_parameters(parameters), flops / 1e9,
                                 args.batch_size, ', '.join(args.devices), self.memory / 1e9))
        return net

    @contextlib.contextmanager
    def session(self, net):
        """``tf.Session`` with the variables initialised; on a GPU first the check that no op
        meant for it runs on the CPU; a missing or size-limited kernel ends with one line."""
        if _BUILD_ONLY:
            raise _Built(net)
        args = self.args
        with tf.Session(config=session_config(xla=args.xla)) as sess:
            try:
                sess.run(tf.global_variables_initializer())
                if args.device == 'gpu':
                    fetches = [net.forward] if args.forward_only else [net.forward, net.backward]
                    check_placement(sess, sess.graph, fetches, net.backward_feed,
                                    args.allow_cpu_fallback)
                yield sess
            except (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError) as exc:
                first = cli.tf_error_line(exc, 150)
                if 'too large' in first or 'overflow' in first.lower():  # kernel size limits
                    raise cli.UserError('--batch_size %d is too large for TensorFlow (%s); use '
                                        'a smaller --batch_size' % (args.batch_size, first))
                if args.data_format != 'NCHW' and args.dtype == 'float32':
                    raise
                raise cli.UserError('TensorFlow has no %s kernel for this model with --dtype %s '
                                    '--data_format %s (%s); use --data_format NHWC --dtype '
                                    'float32 on the CPU' % (args.device.upper(), args.dtype,
                                                             args.data_format, first))

    def one_tower(self, sess, net, time_tensorflow_run):
        """With several towers: tower 0 alone in the same graph, timed by the script's own
        ``time_tensorflow_run`` (the baseline of the scaling efficiency); else None."""
        args = self.args
        if net.forward_one_tower is None:
            return None
        timings = {'forward': time_tensorflow_run(
            sess, net.forward_one_tower, 'Forward (tower 0 alone)', args.num_batches,
            args.batch_size, net.forward_feed, args.num_warmup), 'forward_backward': None}
        if not args.forward_only:
            timings['forward_backward'] = time_tensorflow_run(
                sess, net.backward_one_tower, 'Forward-backward (tower 0 alone)',
                args.num_batches, args.batch_size, net.backward_feed, args.num_warmup)
        return timings

    def record(self, net, forward, backward=None, one_tower=None):
        """Print the efficiency figures and write the JSON record (--json); returns it."""
        args = self.args
        timings = {'forward': forward, 'forward_backward': backward, 'one_tower': one_tower}
        record = benchmark_record(args, self.name, net, timings, {
            'load_average_before': self.load_before, 'load_average_after': _load(),
            'memory_estimate_bytes': self.memory, 'dtype_notes': self.notes,
            'float32_ops': self.float32_ops})
        if args.json:
            cli.wrote(cli.write_json(args.json, record))
        return record
