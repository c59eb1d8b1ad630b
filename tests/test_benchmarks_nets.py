"""The blog's and the weekly notes' networks in the benchmark scripts: GoogLeNet (Inception v1)
and Inception-ResNet-v2 (``googlenet/benchmark.py --model``), the VGG configurations
(``vggnet/benchmark.py --depth/--lrn/--conv1x1``) and DenseNet-121
(``resnet/benchmark_densenet.py``).

Each network is built (no Session; the graphs are large) and its trainable parameters are
checked against the published count (the papers', tf_slim.nets', Keras applications') and its
forward FLOPs against the multiply-adds computed here by hand, layer by layer, from the
papers' tables.  One script is run as a user would; the other runs are marked slow.
"""
import contextlib
import io
import json

import pytest

from tfcourse import benchmark

from test_benchmarks import QUICK, check_record, check_timing, shape_of, shapes


def build(module, fn):
    """(trainable parameters, forward FLOPs per image, printed layer shapes) of the logits
    ``fn(module, tf)`` builds in a new graph (batch 1)."""
    from tfcourse.compat import tf

    out = io.StringIO()
    with tf.Graph().as_default() as graph, contextlib.redirect_stdout(out):
        logits = fn(module, tf)
        assert logits.get_shape().as_list() == [1, 1000]
        build.op_types = {op.type for op in graph.get_operations()}
        return (benchmark.count_parameters(tf.trainable_variables()),
                benchmark.count_flops(benchmark.forward_ops(logits), 1), shapes(out.getvalue()))


# ---------------------------------------------------------------- hand-computed multiply-adds

def conv(size, kernel, depth_in, depth_out):
    """Multiply-adds of a convolution whose output is size x size x depth_out."""
    return size * size * kernel * kernel * depth_in * depth_out


#: the paper's Table 1 (GoogLeNet): output side, then each module's #1x1, #3x3 reduce, #3x3,
#: #5x5 reduce, #5x5, pool proj
GOOGLENET = [(28, [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64)]),
             (14, [(192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64),
                   (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64),
                   (256, 160, 320, 32, 128, 128)]),
             (7, [(256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)])]


def googlenet_macs():
    macs = conv(112, 7, 3, 64) + conv(56, 1, 64, 64) + conv(56, 3, 64, 192)
    depth = 192
    for size, modules in GOOGLENET:
        for n1, r3, n3, r5, n5, proj in modules:
            macs += (conv(size, 1, depth, n1 + r3 + r5 + proj) + conv(size, 3, r3, n3)
                     + conv(size, 5, r5, n5))
            depth = n1 + n3 + n5 + proj
    return macs + depth * 1000


def inception_resnet_v2_macs():
    """The stem, 10 x block35, Mixed_6a, 20 x block17, Mixed_7a, 10 x block8, Conv2d_7b, fc."""
    stem = (conv(149, 3, 3, 32) + conv(147, 3, 32, 32) + conv(147, 3, 32, 64)
            + conv(73, 1, 64, 80) + conv(71, 3, 80, 192))
    mixed_5b = (conv(35, 1, 192, 96 + 48 + 64 + 64) + conv(35, 5, 48, 64) + conv(35, 3, 64, 96)
                + conv(35, 3, 96, 96))
    block35 = (conv(35, 1, 320, 3 * 32) + conv(35, 3, 32, 32) + conv(35, 3, 32, 48)
               + conv(35, 3, 48, 64) + conv(35, 1, 128, 320))
    mixed_6a = (conv(17, 3, 320, 384) + conv(35, 1, 320, 256) + conv(35, 3, 256, 256)
                + conv(17, 3, 256, 384))
    block17 = (conv(17, 1, 1088, 192 + 128) + 17 * 17 * 7 * (128 * 160 + 160 * 192)
               + conv(17, 1, 384, 1088))
    mixed_7a = (conv(17, 1, 1088, 3 * 256) + conv(8, 3, 256, 384) + conv(8, 3, 256, 288)
                + conv(17, 3, 256, 288) + conv(8, 3, 288, 320))
    block8 = (conv(8, 1, 2080, 192 + 192) + 8 * 8 * 3 * (192 * 224 + 224 * 256)
              + conv(8, 1, 448, 2080))
    return (stem + mixed_5b + 10 * block35 + mixed_6a + 20 * block17 + mixed_7a + 10 * block8
            + conv(8, 1, 2080, 1536) + 1536 * 1000)


def densenet_macs(blocks, growth=32):
    macs = conv(112, 7, 3, 2 * growth)
    depth, size = 2 * growth, 56
    for i, layers in enumerate(blocks):
        for _ in range(layers):
            macs += conv(size, 1, depth, 4 * growth) + conv(size, 3, 4 * growth, growth)
            depth += growth
        if i < len(blocks) - 1:  # the transition's 1x1 convolution, before its pooling
            macs += conv(size, 1, depth, depth // 2)
            depth, size = depth // 2, size // 2
    return macs + depth * 1000


def vgg_parameters_and_macs(groups, conv1x1=False):
    """``groups``: the filters of each convolution, group by group (224x224 input, 2x2
    pooling after each group, then fc 7x7x512-4096-4096-1000)."""
    params = macs = 0
    depth, size = 3, 224
    for g, filters in enumerate(groups):
        for i, n in enumerate(filters):
            k = 1 if conv1x1 and g >= 2 and i == len(filters) - 1 else 3
            params += k * k * depth * n + n
            macs += conv(size, k, depth, n)
            depth = n
        size //= 2
    for n_in, n_out in ((7 * 7 * 512, 4096), (4096, 4096), (4096, 1000)):
        params += n_in * n_out + n_out
        macs += n_in * n_out
    return params, macs


# ---------------------------------------------------------------- GoogLeNet (Inception v1)

@pytest.fixture(scope='module')
def googlenet(load_script):
    return load_script('googlenet/benchmark.py', 'googlenet_benchmark_nets')


def test_googlenet_parameters_flops_and_shapes(googlenet):
    params, flops, layers = build(googlenet, lambda m, tf: m.inference(
        tf.zeros([1, 224, 224, 3]), False, model='inception_v1')[0])
    # the paper's Table 1: 6.8 M weights (its 5x5 convolutions); here with the biases
    assert params == 6998552 and 6.6e6 < params < 7.0e6
    assert flops == 2 * googlenet_macs() == 3165343744  # the paper: "1.5 billion multiply-adds"
    assert layers['InceptionV1/Mixed_3c/concat'] == [1, 28, 28, 480]
    assert layers['InceptionV1/Mixed_4f/concat'] == [1, 14, 14, 832]
    assert layers['InceptionV1/Mixed_5c/concat'] == [1, 7, 7, 1024]


def test_googlenet_has_tf_slims_convolutions_with_the_papers_5x5(googlenet):
    """tf_slim.nets.inception_v1 has the same convolutions but batch norm in place of the
    biases and 3x3 in place of the paper's (and the blog's) 5x5 in every module's Branch_2."""
    from tfcourse.compat import tf, slim
    from tf_slim.nets import inception_v1

    def kernels(build_net):
        with tf.Graph().as_default():
            build_net()
            return sorted(tuple(v.get_shape().as_list()) for v in tf.trainable_variables()
                          if v.op.name.endswith('weights'))

    def ours():
        with contextlib.redirect_stdout(io.StringIO()):
            googlenet.inference(tf.zeros([1, 224, 224, 3]), False, model='inception_v1')

    def slims():
        with slim.arg_scope(inception_v1.inception_v1_arg_scope()):
            inception_v1.inception_v1(tf.zeros([1, 224, 224, 3]), is_training=False)

    five_by_five = [(r5, n5) for _, modules in GOOGLENET for _, _, _, r5, n5, _ in modules]
    as_slim = sorted(((3, 3) + k[2:]) if k[:2] == (5, 5) else k for k in kernels(ours))
    assert as_slim == kernels(slims)
    assert sum(1 for k in kernels(ours) if k[:2] == (5, 5)) == len(five_by_five) == 9


# ---------------------------------------------------------------- Inception-ResNet-v2

def test_inception_resnet_v2_parameters_flops_and_shapes(googlenet):
    params, flops, layers = build(googlenet, lambda m, tf: m.inference(
        tf.zeros([1, 299, 299, 3]), False, model='inception_resnet_v2')[0])
    # 55.8 M: the paper's net without the auxiliary classifier (tf-slim's and Keras'
    # InceptionResNetV2 have 55,813,192 trainable parameters; see the slow test below)
    assert params == 55813192
    assert flops == 2 * inception_resnet_v2_macs()
    assert layers['InceptionResnetV2/Mixed_5b/concat'] == [1, 35, 35, 320]
    assert layers['InceptionResnetV2/Mixed_6a/concat'] == [1, 17, 17, 1088]
    assert layers['InceptionResnetV2/Mixed_7a/concat'] == [1, 8, 8, 2080]
    assert layers['InceptionResnetV2/Conv2d_7b_1x1/Relu'] == [1, 8, 8, 1536]


# ---------------------------------------------------------------- VGG A-E

@pytest.fixture(scope='module')
def vgg(load_script):
    return load_script('vggnet/benchmark.py', 'vgg_benchmark_nets')


@pytest.mark.parametrize('depth, conv1x1, expected', [
    (11, False, 132863336),   # the paper's Table 2: A 133 M
    (13, False, 133047848),   # B 133 M
    (16, True, 133638952),    # C 134 M
    (19, False, 143667240),   # E 144 M
])
def test_vgg_configurations_parameters_and_flops(vgg, depth, conv1x1, expected):
    params, flops, layers = build(vgg, lambda m, tf: m.inference_op(
        tf.zeros([1, 224, 224, 3]), 1.0, depth=depth, conv1x1=conv1x1)[2])
    assert (params, flops) == (expected, 2 * vgg_parameters_and_macs(
        vgg.CONFIGS[depth], conv1x1)[1])
    assert vgg_parameters_and_macs(vgg.CONFIGS[depth], conv1x1)[0] == expected
    assert layers['pool5'] == [1, 7, 7, 512]
    assert len([n for n in layers if n.startswith('conv')]) == depth - 3


def test_vgg_a_lrn_and_e_match_tf_slims_vgg_a_and_vgg_19(vgg):
    """A-LRN has A's parameters (LRN has none); tf_slim's vgg_a and vgg_19 (their fc layers as
    convolutions) hold as many."""
    from tfcourse.compat import tf
    from tf_slim.nets import vgg as slim_vgg

    params, _, layers = build(vgg, lambda m, tf: m.inference_op(
        tf.zeros([1, 224, 224, 3]), 1.0, depth=11, lrn=True)[2])
    assert params == 132863336 and 'LRN' in build.op_types
    assert layers['conv1_1/relu'] == [1, 224, 224, 64]
    for net, expected in ((slim_vgg.vgg_a, 132863336), (slim_vgg.vgg_19, 143667240)):
        with tf.Graph().as_default():
            net(tf.zeros([1, 224, 224, 3]), num_classes=1000, is_training=False)
            assert benchmark.count_parameters(tf.trainable_variables()) == expected


# ---------------------------------------------------------------- DenseNet-121

@pytest.fixture(scope='module')
def densenet(load_script):
    return load_script('resnet/benchmark_densenet.py', 'densenet_benchmark_nets')


def test_densenet121_parameters_flops_and_shapes(densenet):
    params, flops, layers = build(densenet, lambda m, tf: m.inference(
        tf.zeros([1, 224, 224, 3]), False, depth=121))
    assert params == 7978856  # the paper's 8.0 M; Keras' DenseNet121: 7,978,856 trainable
    assert flops == 2 * densenet_macs((6, 12, 24, 16))
    assert layers['densenet121/block1/concat_5'] == [1, 56, 56, 256]
    assert layers['densenet121/transition3/pool/AvgPool'] == [1, 7, 7, 512]
    assert layers['densenet121/block4/concat_15'] == [1, 7, 7, 1024]


@pytest.mark.slow
def test_keras_applications_hold_as_many_parameters(densenet):
    """The counts above against the Keras applications of the same networks (tf_keras)."""
    import tf_keras

    for model, expected in ((tf_keras.applications.InceptionResNetV2, 55813192),
                            (tf_keras.applications.DenseNet121, 7978856)):
        net = model(weights=None)
        assert sum(int(w.shape.num_elements()) for w in net.trainable_weights) == expected
        tf_keras.backend.clear_session()


# ---------------------------------------------------------------- the scripts as a user runs them

def test_googlenet_script_times_inception_v1(run_script, tmp_path):
    out = tmp_path / 'v1.json'
    proc = run_script('googlenet/benchmark.py', *QUICK, '--model', 'inception_v1',
                      '--batch_size', '1', '--json', out)
    check_timing(proc.stdout, 2)
    check_record(json.loads(out.read_text()), 'Inception-V1', 1, 6998552)
    assert shape_of(proc.stdout, 'InceptionV1/Logits/SpatialSqueeze') == [1, 1000]


@pytest.mark.slow
@pytest.mark.parametrize('script, args, model, parameters', [
    ('googlenet/benchmark.py', ['--model', 'inception_resnet_v2'], 'Inception-ResNet-V2',
     55813192),
    ('vggnet/benchmark.py', ['--depth', '11', '--lrn'], 'VGG-11-LRN', 132863336),
    ('resnet/benchmark_densenet.py', [], 'DenseNet-121', 7978856),
])
def test_other_scripts_time_their_networks(run_script, tmp_path, script, args, model,
                                           parameters):
    out = tmp_path / 'r.json'
    proc = run_script(script, *QUICK, *args, '--batch_size', '1', '--json', out)
    check_timing(proc.stdout, 2)
    check_record(json.loads(out.read_text()), model, 1, parameters)


@pytest.mark.parametrize('args, message', [
    (['--depth', '16', '--lrn'], '--lrn goes with --depth 11'),
    (['--depth', '19', '--conv1x1'], '--conv1x1 with --depth 16'),
    (['--depth', '12'], 'invalid choice'),
])
def test_vgg_flags_that_name_no_configuration_are_refused(run_script, args, message):
    proc = run_script('vggnet/benchmark.py', '--device', 'cpu', *args, check=False)
    assert proc.returncode == 2 and message in proc.stderr
    assert 'Traceback' not in proc.stderr
