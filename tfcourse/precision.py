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
