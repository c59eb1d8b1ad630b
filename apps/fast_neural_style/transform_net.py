"""Johnson et al.'s image transform network (2016), TF1 / slim, shared by train.py and stylize.py.

    9x9 conv 32 -> 3x3 conv 64 /2 -> 3x3 conv 128 /2 -> 5 residual blocks (128)
    -> resize x2 + 3x3 conv 64 -> resize x2 + 3x3 conv 32 -> 9x9 conv 3 -> 127.5 (tanh + 1)

(``width`` scales the channels: 0.5 gives 16, 32, 64 and a quarter of the work.)

Every convolution is followed by instance normalisation (Ulyanov et al.
2016; epsilon 1e-3, so that a flat crop cannot blow its gradient up) and
ReLU, except the last.  Upsampling is nearest-neighbour resizing
followed by a convolution ("resize-convolution", Odena et al. 2016) instead
of the paper's fractionally strided convolutions, which leave checkerboard
artefacts.  Padding is by reflection, and each upsampling resizes to the
exact size of the matching downsampled map, so any input size (odd ones
included) comes out at its own size.  Input and output: RGB in [0, 255].
"""
from tfcourse.compat import tf, slim


def reflect_conv(net, num_outputs, kernel_size, stride=1, scope=None, **kwargs):
    """A convolution padded by reflection (no dark borders) instead of with zeros."""
    pad = kernel_size // 2
    net = tf.pad(net, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
    return slim.conv2d(net, num_outputs, kernel_size, stride=stride, padding="VALID",
                       scope=scope, **kwargs)


def residual_block(net, scope):
    channels = int(net.shape[-1])
    with tf.variable_scope(scope):
        shortcut = net
        net = reflect_conv(net, channels, 3, scope="conv1")
        net = reflect_conv(net, channels, 3, scope="conv2", activation_fn=None)
        return net + shortcut


def upsample_conv(net, like, num_outputs, scope):
    """Resize to the height and width of ``like``, then a 3x3 convolution."""
    with tf.variable_scope(scope):
        net = tf.image.resize_nearest_neighbor(net, tf.shape(like)[1:3])
        return reflect_conv(net, num_outputs, 3, scope="conv")


def transform_net(images, reuse=None, width=1.0):
    """The stylised images for ``images`` ([batch, H, W, 3] floats in [0, 255]); ``width``
    scales every layer's channels (1: the paper's 32, 64, 128)."""
    c = [max(1, int(round(n * width))) for n in (32, 64, 128)]
    with tf.variable_scope("transform_net", reuse=reuse):
        with slim.arg_scope([slim.conv2d], activation_fn=tf.nn.relu,
                            normalizer_fn=slim.instance_norm,
                            normalizer_params={"epsilon": 1e-3}):
            net = images / 127.5 - 1.0
            conv1 = reflect_conv(net, c[0], 9, scope="conv1")
            conv2 = reflect_conv(conv1, c[1], 3, stride=2, scope="conv2")
            net = reflect_conv(conv2, c[2], 3, stride=2, scope="conv3")
            for i in range(5):
                net = residual_block(net, "residual%d" % (i + 1))
            net = upsample_conv(net, conv2, c[1], "upsample1")
            net = upsample_conv(net, conv1, c[0], "upsample2")
            net = reflect_conv(net, 3, 9, scope="output", activation_fn=None,
                               normalizer_fn=None)
        return tf.identity(127.5 * (tf.tanh(net) + 1.0), name="stylized")
