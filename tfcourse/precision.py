"""Mixed precision for every script: float32 master weights, float16/bfloat16 compute.

The scheme of ``tf_cnn_benchmarks``: variables are made (and updated) in
float32 and read through a cast to the compute dtype; inputs are cast to the
compute dtype; the loss, its reduction and the gradients reaching the
variables are float32.  float16 also needs loss scaling, so that small
gradients do not underflow to zero on their way back (bfloat16 has float32's
exponent range and needs none).

    from tfcourse import precision
    precision.add_dtype_flag(parser)                        # --dtype, --loss_scale
    dtype = precision.DTYPES[args.dtype]
    W = precision.master_weight(tf.Variable(...), dtype)   # book-style tf.Variable
    with tf.variable_scope(scope, custom_getter=precision.compute_dtype_getter(dtype)):
        ...                                                 # tf.get_variable / slim layers
    train_op = precision.loss_scaled(optimizer, args).minimize(loss, global_step=step)
"""
import argparse

from tfcourse import cli
from tfcourse.compat import tf

DTYPES = {'float32': tf.float32, 'float16': tf.float16, 'bfloat16': tf.bfloat16}


def loss_scale_type(text):
    """argparse type of --loss_scale: 'dynamic' or a finite number >= 1."""
    if text == 'dynamic':
        return text
    value = cli.finite_float(text)
    if value < 1:
        raise argparse.ArgumentTypeError('%r: a loss scale is 1 or more, or dynamic' % text)
    return value


def add_dtype_flag(parser, loss_scale=True):
    """``--dtype float32|float16|bfloat16`` (and ``--loss_scale`` for float16)."""
    parser.add_argument('--dtype', choices=sorted(DTYPES), default='float32',
                        help='compute dtype; variables, the loss and the gradient reduction '
                             'stay float32 (default float32)')
    if loss_scale:
        parser.add_argument('--loss_scale', type=loss_scale_type, default='dynamic',
                            help="with --dtype float16: 'dynamic' (start at 2**15, halve and "
                                 "skip the step when a gradient overflows, double after 2000 "
                                 "good steps) or a fixed number (default dynamic); bfloat16 "
                                 "and float32 need none")


def master_weight(variable, dtype):
    """A float32 variable as the compute dtype reads it (itself for float32)."""
    if dtype == tf.float32:
        return variable
    return tf.cast(variable, dtype, name=variable.op.name.split('/')[-1] + '_cast')


def compute_dtype_getter(compute_dtype):
    """Custom getter of the scheme: a variable asked for in ``compute_dtype`` is made
    float32 (the master weights) and read through a cast to ``compute_dtype``."""
    def getter(getter, *args, **kwargs):
        dtype = kwargs.get('dtype')
        if dtype is not None and dtype.base_dtype == compute_dtype != tf.float32:
            kwargs['dtype'] = tf.float32
            variable = getter(*args, **kwargs)
            return tf.cast(variable, compute_dtype, name=variable.op.name.split('/')[-1] + '_cast')
        return getter(*args, **kwargs)
    return getter


def loss_scaled(optimizer, args):
    """``optimizer`` itself, or under ``--dtype float16`` wrapped in TensorFlow's loss-scale
    optimizer (``tf.train.experimental.MixedPrecisionLossScaleOptimizer``, TF 1.14+) with
    the scale of ``--loss_scale``."""
    if getattr(args, 'dtype', 'float32') != 'float16':
        return optimizer
    return tf.train.experimental.MixedPrecisionLossScaleOptimizer(
        optimizer, loss_scale=getattr(args, 'loss_scale', 'dynamic'))


# ---------------------------------------------------------------- bfloat16 on a CPU
# A CPU without bfloat16 units (AVX512_BF16, AMX) has fast oneDNN/Eigen float32
# convolution kernels, but TensorFlow's bfloat16 Conv2DBackpropInput/Filter kernels on it
# are generic ones: on this project's 2-core AVX2 CPU an AlexNet conv stack takes 25 s a
# batch of 32 forward-backward in bfloat16 against 1.9 s in float32, while the bfloat16
# forward is as fast as float32.  Following the scheme's rule (an op without a fast kernel
# in the compute dtype is computed in float32 between casts, and the output names it),
# Conv2D's gradient is then computed in float32.
SLOW_BFLOAT16_CPU_OPS = ('Conv2DBackpropInput', 'Conv2DBackpropFilter')
SLOW_BACKWARD_NOTE = ('computed in float32 (the bfloat16 kernels of this CPU are generic and '
                      '10-20x slower): %s')
_FLOAT32_BACKWARD = 'Conv2DFloat32Backward'


@tf.RegisterGradient(_FLOAT32_BACKWARD)
def _conv2d_float32_backward(op, grad):
    """Conv2D's two gradients computed in float32 between casts (the attributes of ``op``)."""
    def text(value):
        return value.decode() if isinstance(value, bytes) else value

    attrs = {'strides': op.get_attr('strides'), 'padding': text(op.get_attr('padding')),
             'explicit_paddings': op.get_attr('explicit_paddings'),
             'data_format': text(op.get_attr('data_format')),
             'dilations': op.get_attr('dilations'),
             'use_cudnn_on_gpu': op.get_attr('use_cudnn_on_gpu')}
    x, w = op.inputs
    x32, w32, grad32 = (tf.cast(t, tf.float32) for t in (x, w, grad))
    dx = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=w32,
                                        out_backprop=grad32, **attrs)
    dw = tf.raw_ops.Conv2DBackpropFilter(input=x32, filter_sizes=tf.shape(w),
                                         out_backprop=grad32, **attrs)
    return tf.cast(dx, x.dtype), tf.cast(dw, w.dtype)


def cpu_has_bfloat16_units(flags=None):
    """Whether this CPU computes bfloat16 natively (AVX512_BF16 or AMX), from its flags."""
    if flags is None:
        from tfcourse.machine import cpu_info
        flags = cpu_info()['flags']
    return bool(set(flags) & {'avx512_bf16', 'amx_bf16'})


def slow_backward_ops(dtype, on_gpu, flags=None):
    """The op types :func:`float32_backward` computes in float32 for ``dtype`` ('bfloat16'
    ...) on this device: Conv2D's gradients under bfloat16 on a CPU without bfloat16 units,
    else none (GPUs and bfloat16 CPUs have fast bfloat16 kernels; float16 runs as it is)."""
    if dtype != 'bfloat16' or on_gpu or cpu_has_bfloat16_units(flags):
        return []
    return list(SLOW_BFLOAT16_CPU_OPS)


def float32_backward(ops):
    """Build the model inside this: with ``ops`` (from :func:`slow_backward_ops`) the
    Conv2D ops made in it get the float32 gradient; without, nothing changes."""
    import contextlib

    if not ops:
        return contextlib.nullcontext()
    return tf.get_default_graph().gradient_override_map({'Conv2D': _FLOAT32_BACKWARD})


def train_backward(dtype):
    """:func:`float32_backward` for a train script's model (on the GPU when TensorFlow sees
    one), after one line naming what it computes in float32."""
    from tfcourse.compat import gpu_names

    ops = slow_backward_ops(dtype, bool(gpu_names()))
    if ops:
        print('%s: %s' % (dtype, SLOW_BACKWARD_NOTE % ', '.join(ops)))
    return float32_backward(ops)
