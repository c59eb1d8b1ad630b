"""Style-transfer plumbing shared by apps/neural_style and apps/fast_neural_style.

* The two pretrained loss networks, each a :class:`LossNetwork` that maps RGB
  images in [0, 255] to a dict of named feature maps:

  - ``vgg19``: VGG-19 from MatConvNet's ``imagenet-vgg-verydeep-19.mat``
    (:func:`load_vgg19` reads it with ``scipy.io.loadmat``, the mean pixel is
    subtracted), the network of Gatys et al. and of the classic TensorFlow
    implementation: content ``relu4_2``, style ``relu1_1`` ... ``relu5_1``.
  - ``mobilenet_v2`` (offline default): the COCO-trained MobileNet-V2 feature
    extractor inside the SSDLite person detector's frozen graph
    (``FeatureExtractor/MobilenetV2/...``), imported with ``input_map`` onto
    the images (its input ``Preprocessor/sub:0`` takes images scaled to
    [-1, 1]); gradients flow through its frozen convolutions and batch norms.
    Content ``expanded_conv_6/expand/Relu6`` (stride 8, 192 channels); style
    ``expanded_conv_1|3|6|13/expand/Relu6`` (strides 2 to 16).  Not the first
    convolution ``Conv/Relu6`` (3x3, stride 2): matching its Gram matrices drew
    blocks and a 2-pixel pattern (fruits.jpg as Starry Night at 256 px: 36.6x the
    content's checkerboard energy with it, 10.1x without; 3.3x without it and with
    the weights of :data:`DEFAULT_WEIGHTS`).

* The perceptual losses: :func:`gram_matrix`, :func:`content_loss`,
  :func:`style_loss`, :func:`total_variation_loss`.
* Images: :func:`load_image` (one clear error for a missing or unreadable
  file), :func:`save_image` (atomic), :func:`preserve_colors`,
  :func:`side_by_side` (the content | style | result figure).
"""
import os

import numpy as np

from tfcourse import cli, default_data_dir
from tfcourse.compat import tf

NETWORKS = ("mobilenet_v2", "vgg19")

VGG19_LAYERS = (
    "conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1",
    "conv2_1", "relu2_1", "conv2_2", "relu2_2", "pool2",
    "conv3_1", "relu3_1", "conv3_2", "relu3_2", "conv3_3", "relu3_3", "conv3_4", "relu3_4",
    "pool3",
    "conv4_1", "relu4_1", "conv4_2", "relu4_2", "conv4_3", "relu4_3", "conv4_4", "relu4_4",
    "pool4",
    "conv5_1", "relu5_1", "conv5_2", "relu5_2", "conv5_3", "relu5_3", "conv5_4", "relu5_4",
)
VGG19_CONTENT_LAYERS = ("relu4_2",)
VGG19_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

#: per loss network: the content, style and total-variation weights of the perceptual loss
#: (the losses are means, see below).  vgg19: the classic TensorFlow implementation's values;
#: mobilenet_v2: tried here on building.jpg and fruits.jpg as Starry Night at 256 px.  Without
#: ``Conv/Relu6`` among the style layers (below) the TV weight went from 1e-3 to 3e-3 and the
#: content weight from 5 to 25: the first keeps the 2-pixel pattern down, the second the
#: building's windows sharp (at 5 they blurred).
DEFAULT_WEIGHTS = {
    "vgg19": (5.0, 500.0, 100.0),
    "mobilenet_v2": (25.0, 1e7, 3e-3),
}

MOBILENET_SCOPE = "FeatureExtractor/MobilenetV2/"
MOBILENET_INPUT = "Preprocessor/sub"
MOBILENET_CONTENT_LAYERS = ("expanded_conv_6/expand/Relu6",)
MOBILENET_STYLE_LAYERS = ("expanded_conv_1/expand/Relu6",
                          "expanded_conv_3/expand/Relu6", "expanded_conv_6/expand/Relu6",
                          "expanded_conv_13/expand/Relu6")


def default_network_path(network):
    """Where ``python setup/get_data.py vgg19|ssdlite`` puts the loss network's file."""
    if network == "vgg19":
        return default_data_dir("vgg19", "imagenet-vgg-verydeep-19.mat")
    return default_data_dir("ssdlite", "frozen_inference_graph.pb")


def check_network(name):
    if name not in NETWORKS:
        raise cli.UserError("unknown --network %r; choose %s" % (name, " or ".join(NETWORKS)))
    return name


# ---------------------------------------------------------------------------
# VGG-19 (MatConvNet .mat)
# ---------------------------------------------------------------------------

def _field(record, name):
    """Field ``name`` of a MATLAB struct as scipy.io.loadmat returns it."""
    value = record[name]
    while isinstance(value, np.ndarray) and value.dtype == object and value.size == 1:
        value = value.flat[0]
    return value


def _text(value):
    return str(np.asarray(value).ravel()[0]) if np.size(value) else ""


def load_vgg19(path, upto="relu5_1"):
    """``(layers, mean_pixel)`` of MatConvNet's VGG-19 up to layer ``upto``.

    ``layers``: [(name, kind, kernel [h, w, in, out] or None, bias [out] or None)]
    in the order of :data:`VGG19_LAYERS`; ``mean_pixel``: the RGB mean to
    subtract.  Both MatConvNet layouts (beta16 ``normalization``, beta17+
    ``meta.normalization``) are read.  UserError for anything that is not it.
    """
    import scipy.io

    hint = ("pass --network_path imagenet-vgg-verydeep-19.mat (python setup/get_data.py vgg19), "
            "or use --network mobilenet_v2")
    if not os.path.isfile(path):
        raise cli.UserError("VGG-19 file %s not found; %s" % (path, hint))
    try:
        data = scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises ValueError, MatReadError, TypeError, ...
        raise cli.UserError("%s is not a MATLAB .mat file (%s); %s"
                            % (path, type(exc).__name__, hint))
    try:
        if "meta" in data:
            normalization = _field(_field(data["meta"], "normalization"), "averageImage")
        else:
            normalization = _field(data["normalization"], "averageImage")
        mean_pixel = np.asarray(normalization, np.float32).reshape(-1, 3).mean(axis=0)
        cells = data["layers"].ravel()
        names = [_text(_field(cell, "name")) for cell in cells]
    except (KeyError, ValueError, IndexError, TypeError):
        raise cli.UserError("%s is not a MatConvNet network (no layers / normalization); %s"
                            % (path, hint))
    wanted = VGG19_LAYERS[:VGG19_LAYERS.index(upto) + 1]
    if tuple(names[:len(wanted)]) != wanted:
        raise cli.UserError("%s is not VGG-19 (its layers are %s ...); %s"
                            % (path, ", ".join(names[:5]), hint))
    layers, channels = [], 3
    for name, cell in zip(wanted, cells):
        kernel = bias = None
        if name.startswith("conv"):
            weights = _field(cell, "weights").ravel()
            kernel = np.asarray(weights[0], np.float32)
            bias = np.asarray(weights[1], np.float32).reshape(-1)
            if kernel.ndim != 4 or kernel.shape[2] != channels or kernel.shape[3] != bias.size:
                raise cli.UserError("%s: layer %s has kernel %s after %d channels; not VGG-19; %s"
                                    % (path, name, kernel.shape, channels, hint))
            # MatConvNet stores [width, height, in, out]; TensorFlow wants [height, width, ...]
            kernel = np.transpose(kernel, (1, 0, 2, 3))
            channels = kernel.shape[3]
        layers.append((name, name[:4], kernel, bias))
    return layers, mean_pixel


class LossNetwork:
    """A frozen pretrained network: ``net(images)`` -> {layer name: feature tensor}.

    ``images``: float32 [batch, height, width, 3], RGB in [0, 255].  Calling it
    again in the same graph builds another tower on the same weights.
    """

    name = None
    content_layers = ()
    style_layers = ()
    description = ""

    def __call__(self, images):
        raise NotImplementedError


class VGG19(LossNetwork):
    name = "vgg19"
    content_layers = VGG19_CONTENT_LAYERS
    style_layers = VGG19_STYLE_LAYERS

    def __init__(self, path, pooling="max"):
        self.layers, self.mean_pixel = load_vgg19(path)
        self.pooling = pooling
        self.description = ("VGG-19, MatConvNet %s (ImageNet), content %s, style %s, %s pooling"
                            % (os.path.basename(path), ",".join(self.content_layers),
                               ",".join(self.style_layers), pooling))
        self._weights = {}  # graph -> {layer: (kernel, bias)} constants, made once per graph

    def _constants(self):
        graph = tf.get_default_graph()
        if graph not in self._weights:
            with tf.name_scope("vgg19_weights"):
                self._weights[graph] = {
                    name: (tf.constant(kernel, name=name + "_kernel"),
                           tf.constant(bias, name=name + "_bias"))
                    for name, kind, kernel, bias in self.layers if kind == "conv"}
        return self._weights[graph]

    def __call__(self, images):
        weights = self._constants()
        net = {}
        with tf.name_scope("vgg19"):
            current = images - self.mean_pixel
            for name, kind, _, _ in self.layers:
                if kind == "conv":
                    kernel, bias = weights[name]
                    current = tf.nn.bias_add(tf.nn.conv2d(current, kernel, strides=(1, 1, 1, 1),
                                                          padding="SAME"), bias, name=name)
                elif kind == "relu":
                    current = tf.nn.relu(current, name=name)
                else:
                    pool = tf.nn.max_pool if self.pooling == "max" else tf.nn.avg_pool
                    current = pool(current, ksize=(1, 2, 2, 1), strides=(1, 2, 2, 1),
                                   padding="SAME", name=name)
                net[name] = current
        return net


# ---------------------------------------------------------------------------
# MobileNet-V2 (the feature extractor of the SSDLite frozen graph)
# ---------------------------------------------------------------------------

def load_mobilenet_v2(path, layers):
    """The GraphDef of the SSDLite MobileNet-V2 feature extractor, up to ``layers``.

    Only the nodes between ``Preprocessor/sub`` and the requested layers are
    kept (no preprocessing loop, no box decoding), and ``Preprocessor/sub``
    becomes a placeholder to ``input_map`` the images onto.
    """
    hint = "fetch it with python setup/get_data.py ssdlite, or pass --network_path"
    if not os.path.isfile(path):
        raise cli.UserError("SSDLite graph %s not found; %s" % (path, hint))
    graph_def = tf.GraphDef()
    try:
        with open(path, "rb") as f:
            graph_def.ParseFromString(f.read())
    except Exception as exc:  # protobuf DecodeError and friends
        raise cli.UserError("%s is not a frozen TensorFlow graph (%s); %s"
                            % (path, type(exc).__name__, hint))
    nodes = {node.name: node for node in graph_def.node}
    outputs = [MOBILENET_SCOPE + layer for layer in layers]
    missing = [n for n in outputs + [MOBILENET_INPUT] if n not in nodes]
    if missing:
        raise cli.UserError("%s has no %s; pass the SSDLite MobileNet-V2 frozen graph (%s)"
                            % (path, missing[0], hint))
    keep, todo = set(), list(outputs)
    while todo:  # walk back from the outputs, stopping at the preprocessor's output
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        if name == MOBILENET_INPUT:
            continue
        for inp in nodes[name].input:
            todo.append(inp.lstrip("^").split(":")[0])
    sub = tf.GraphDef()
    for node in graph_def.node:  # keep the original (topological) order
        if node.name not in keep:
            continue
        if node.name == MOBILENET_INPUT:
            placeholder = sub.node.add()
            placeholder.name, placeholder.op = MOBILENET_INPUT, "Placeholder"
            placeholder.attr["dtype"].type = tf.float32.as_datatype_enum
        else:
            sub.node.add().CopyFrom(node)
    return sub


class MobileNetV2(LossNetwork):
    name = "mobilenet_v2"
    content_layers = MOBILENET_CONTENT_LAYERS
    style_layers = MOBILENET_STYLE_LAYERS

    def __init__(self, path):
        self.layers = tuple(dict.fromkeys(self.content_layers + self.style_layers))
        self.graph_def = load_mobilenet_v2(path, self.layers)
        self.description = ("MobileNet-V2 (COCO), feature extractor of the SSDLite frozen graph "
                            "%s, content %s, style %s"
                            % (os.path.basename(path), ",".join(self.content_layers),
                               ",".join(self.style_layers)))

    def __call__(self, images):
        with tf.name_scope("mobilenet_v2_input"):
            scaled = images / 127.5 - 1.0  # the preprocessor's [-1, 1]
        tensors = tf.import_graph_def(
            self.graph_def, input_map={MOBILENET_INPUT + ":0": scaled},
            return_elements=[MOBILENET_SCOPE + layer + ":0" for layer in self.layers],
            name="mobilenet_v2")
        return dict(zip(self.layers, tensors))


def loss_network(name, path=None, pooling="max"):
    """The :class:`LossNetwork` ``name`` (vgg19 or mobilenet_v2) read from ``path``."""
    check_network(name)
    path = path or default_network_path(name)
    return VGG19(path, pooling) if name == "vgg19" else MobileNetV2(path)


# ---------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------

def gram_matrix(features):
    """[batch, C, C] Gram matrices of [batch, H, W, C] features, divided by H*W*C."""
    with tf.name_scope("gram"):
        shape = tf.shape(features)
        channels = features.shape[-1]
        flat = tf.reshape(features, tf.stack([shape[0], -1, channels]))
        size = tf.cast(shape[1] * shape[2] * channels, features.dtype)
        return tf.matmul(flat, flat, transpose_a=True) / size


def gram_numpy(features):
    """The same Gram matrix of one [H, W, C] (or [1, H, W, C]) array, in NumPy."""
    features = np.asarray(features, np.float64).reshape(-1, np.shape(features)[-1])
    return features.T.dot(features) / features.size


def content_loss(features, targets, layers):
    """Mean over ``layers`` of the mean squared difference of the feature maps."""
    with tf.name_scope("content_loss"):
        return tf.add_n([tf.reduce_mean(tf.square(features[layer] - targets[layer]))
                         for layer in layers]) / len(layers)


def style_loss(features, target_grams, layers, blend=None, layer_weights=None):
    """Weighted mean over ``layers`` of the mean squared Gram difference; ``target_grams``: one
    dict {layer: [C, C] array} per style image, weighted by ``blend`` (summing to 1);
    ``layer_weights``: {layer: weight} summing to 1 (default: equal)."""
    blend = blend or [1.0 / len(target_grams)] * len(target_grams)
    layer_weights = layer_weights or {layer: 1.0 / len(layers) for layer in layers}
    with tf.name_scope("style_loss"):
        terms = []
        for layer in layers:
            gram = gram_matrix(features[layer])
            for weight, grams in zip(blend, target_grams):
                terms.append(weight * layer_weights[layer]
                             * tf.reduce_mean(tf.square(gram - grams[layer])))
        return tf.add_n(terms)


def total_variation_loss(images):
    """Mean squared difference of neighbouring pixels, down and across."""
    with tf.name_scope("tv_loss"):
        dy = images[:, 1:, :, :] - images[:, :-1, :, :]
        dx = images[:, :, 1:, :] - images[:, :, :-1, :]
        return tf.reduce_mean(tf.square(dy)) + tf.reduce_mean(tf.square(dx))


# ---------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------

def resize_to(image, size):
    """``image`` with its longer side scaled to ``size`` pixels (0 keeps it)."""
    import cv2

    if not size:
        return image
    height, width = image.shape[:2]
    scale = float(size) / max(height, width)
    shape = (max(1, int(round(width * scale))), max(1, int(round(height * scale))))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, shape, interpolation=interpolation)


def load_image(path, size=0, what="image"):
    """float32 RGB [H, W, 3] in [0, 255], the longer side scaled to ``size`` (0: as it is)."""
    import cv2

    if not os.path.isfile(path):
        raise cli.UserError("%s %s not found; pass an image path (OpenCV's samples: python "
                            "setup/get_data.py opencv_samples)" % (what, path))
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise cli.UserError("%s %s is not a readable image (JPEG, PNG, ...); pass another file"
                            % (what, path))
    return resize_to(bgr[:, :, ::-1], size).astype(np.float32)


def to_uint8(image):
    return np.clip(np.asarray(image), 0, 255).round().astype(np.uint8)


def save_image(path, image):
    """Write an RGB image (float or uint8) atomically; the extension picks the format."""
    import cv2

    with cli.atomic_path(path) as tmp:
        if not cv2.imwrite(tmp, to_uint8(image)[:, :, ::-1]):
            raise cli.UserError("cannot write image %s; use a .png or .jpg name" % path)
    return path


def preserve_colors(content, stylized):
    """The luminance of ``stylized`` with the colours (chroma) of ``content`` (YCrCb)."""
    import cv2

    content = cv2.resize(to_uint8(content), (stylized.shape[1], stylized.shape[0]))
    styled_ycc = cv2.cvtColor(to_uint8(stylized), cv2.COLOR_RGB2YCrCb)
    content_ycc = cv2.cvtColor(content, cv2.COLOR_RGB2YCrCb)
    styled_ycc[:, :, 1:] = content_ycc[:, :, 1:]
    return cv2.cvtColor(styled_ycc, cv2.COLOR_YCrCb2RGB).astype(np.float32)


def side_by_side(path, images, titles, suptitle=None):
    """Save a row of RGB images with titles (e.g. content | style | result) as a figure."""
    plt = cli.pyplot()
    fig, axes = plt.subplots(1, len(images), figsize=(4.2 * len(images), 4.0))
    for ax, image, title in zip(np.atleast_1d(axes), images, titles):
        ax.imshow(to_uint8(image))
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return cli.save_figure(fig, path)


# ---------------------------------------------------------------------------
# measures of a stylised image (NumPy)
# ---------------------------------------------------------------------------

def rgb_to_lab(image):
    """CIELAB (D65; L in 0..100, a and b about -128..127) of an RGB image in [0, 255]."""
    import cv2

    rgb = np.clip(np.asarray(image, np.float32), 0, 255) / 255.0
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)


def colour_statistics(image):
    """(mean [3], covariance [3, 3]) of the image's pixels in CIELAB."""
    pixels = rgb_to_lab(image).reshape(-1, 3).astype(np.float64)
    return pixels.mean(axis=0), np.cov(pixels, rowvar=False)


def _sqrtm_psd(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))).dot(vectors.T)


def colour_distance(stats_a, stats_b):
    """The 2-Wasserstein distance between two Gaussians (mean, covariance), CIELAB units:
    sqrt(|m_a - m_b|^2 + tr(C_a + C_b - 2 (C_b^1/2 C_a C_b^1/2)^1/2))."""
    (mean_a, cov_a), (mean_b, cov_b) = stats_a, stats_b
    root_b = _sqrtm_psd(cov_b)
    cross = _sqrtm_psd(root_b.dot(cov_a).dot(root_b))
    squared = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * cross)
    return float(np.sqrt(max(squared, 0.0)))


def colour_transfer(content, output, style_image):
    """How far the output's CIELAB colour statistics moved from the content's towards the
    style's: the three pairwise distances (:func:`colour_distance`) and ``towards_style`` =
    1 - d(output, style) / d(content, style) (0: the content's colours; 1: the style's)."""
    stats = {name: colour_statistics(image) for name, image in
             (("content", content), ("output", output), ("style", style_image))}
    d_cs = colour_distance(stats["content"], stats["style"])
    d_co = colour_distance(stats["content"], stats["output"])
    d_os = colour_distance(stats["output"], stats["style"])
    rounded = lambda a: np.round(a, 2).tolist()  # noqa: E731
    return {
        "space": "CIELAB (D65)", "distance": "2-Wasserstein between Gaussians",
        "mean": {k: rounded(v[0]) for k, v in stats.items()},
        "covariance": {k: rounded(v[1]) for k, v in stats.items()},
        "content_to_style": round(d_cs, 3), "content_to_output": round(d_co, 3),
        "output_to_style": round(d_os, 3),
        "towards_style": round(1.0 - d_os / d_cs, 4) if d_cs > 0 else None,
    }


#: the frequencies (cycles per pixel) whose power :func:`checkerboard_energy` measures: the
#: 2- and 4-pixel periods of stride-2 and stride-4 upsampling artefacts, across and down
CHECKERBOARD_FREQUENCIES = tuple((u, v) for u in (0.0, 0.25, 0.5) for v in (0.0, 0.25, 0.5)
                                 if (u, v) != (0.0, 0.0))


def checkerboard_energy(image):
    """The luminance spectrum's power at the 2- and 4-pixel periods, per pixel.

    The image's luminance (mean removed, Hann-windowed) is Fourier transformed;
    the power of the 3x3 bins around each frequency of
    :data:`CHECKERBOARD_FREQUENCIES` is summed over the 8 frequencies and divided
    by the number of pixels.  Compare an output with its content image
    (:func:`checkerboard_ratio`): periodic upsampling or optimisation artefacts
    raise it, painted strokes wider than 4 pixels hardly do.
    """
    image = np.asarray(image, np.float64)
    luminance = image.dot([0.299, 0.587, 0.114]) if image.ndim == 3 else image
    height, width = luminance.shape
    window = np.outer(np.hanning(height), np.hanning(width))
    power = np.abs(np.fft.fft2((luminance - luminance.mean()) * window)) ** 2
    total = 0.0
    for u, v in CHECKERBOARD_FREQUENCIES:
        row, col = int(round(v * height)) % height, int(round(u * width)) % width
        rows = np.arange(row - 1, row + 2) % height
        cols = np.arange(col - 1, col + 2) % width
        total += power[np.ix_(rows, cols)].sum()
    return float(total / (height * width))


def checkerboard_ratio(output, content):
    """:func:`checkerboard_energy` of the output over that of its content image (resized to
    the output's size): 1 adds no periodic pattern; the target is at most 1.5."""
    import cv2

    content = cv2.resize(np.asarray(content, np.float32), (output.shape[1], output.shape[0]),
                         interpolation=cv2.INTER_AREA)
    return checkerboard_energy(output) / checkerboard_energy(content)


def image_measures(content, output, style_image):
    """The measures the style-transfer apps record for one result: colour transfer (CIELAB)
    and checkerboard energy (output, content and their ratio)."""
    import cv2

    content = cv2.resize(np.asarray(content, np.float32), (output.shape[1], output.shape[0]),
                         interpolation=cv2.INTER_AREA)
    out_energy, content_energy = checkerboard_energy(output), checkerboard_energy(content)
    return {"colour": colour_transfer(content, output, style_image),
            "checkerboard": {"output": round(out_energy, 3), "content": round(content_energy, 3),
                             "ratio": round(out_energy / content_energy, 3)}}
