"""Check the installation: versions, devices, a tiny matmul on each device, hello world.

    python setup/check_install.py

Prints the TensorFlow / tf_slim / tf-keras versions, every device TensorFlow
sees (the GPU's name, or clearly "no GPU, running on CPU"), runs a small
matrix product on each device and checks it against NumPy (the installation
test of report §2.1.4, "能够调用gpu"), then the hello-world examples of blog
part 1: a constant string and placeholder sums in a ``tf.Session``.  Exits 0
when everything works, 1 when a check fails.
"""
import argparse
import platform

import numpy as np

from tfcourse.compat import tf, LEGACY_LAYERS_ALIASED, NEEDS_TF_KERAS, session_config
from tfcourse import cli


def _dist_version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:  # pragma: no cover - not installed through pip
        return "installed"


def versions():
    lines = ["Python %s" % platform.python_version(),
             "TensorFlow %s (graph mode through tensorflow.compat.v1)" % tf.__version__,
             "tf_slim %s" % _dist_version("tf-slim")]
    if NEEDS_TF_KERAS:
        import tf_keras

        path = "patched" if LEGACY_LAYERS_ALIASED else "native"
        lines.append("tf-keras %s (legacy Keras 2 for tf.nn.rnn_cell / tf.layers; "
                     "slim.batch_norm path %s)" % (tf_keras.__version__, path))
    return lines


def list_devices():
    from tensorflow.python.client import device_lib

    return [(d.name, d.device_type, d.physical_device_desc)
            for d in device_lib.list_local_devices() if d.device_type in ("CPU", "GPU")]


def matmul_on(device, n=64):
    """Multiply two random n x n matrices on ``device``; return the max error vs NumPy."""
    rng = np.random.RandomState(0)
    a = rng.rand(n, n).astype(np.float32)
    b = rng.rand(n, n).astype(np.float32)
    graph = tf.Graph()
    with graph.as_default(), tf.device(device):
        product = tf.matmul(tf.constant(a), tf.constant(b))
    config = session_config()
    config.allow_soft_placement = False  # the product must run on ``device`` itself
    with tf.Session(graph=graph, config=config) as sess:
        got = sess.run(product)
    return float(np.max(np.abs(got - a.dot(b))))


def hello_world():
    """Blog part 1's first programs (Hello World): a constant string, then placeholder sums."""
    graph = tf.Graph()
    with graph.as_default():
        hello = tf.constant("Hello, TensorFlow!")
        a = tf.placeholder(tf.int16)
        b = tf.placeholder(tf.int16)
        add = tf.add(a, b)
        mul = tf.multiply(a, b)
        x = tf.placeholder(tf.float32, shape=[None])
        total = tf.reduce_sum(x)
    with tf.Session(graph=graph, config=session_config()) as sess:
        greeting = sess.run(hello).decode()
        s, m = sess.run([add, mul], feed_dict={a: 2, b: 3})
        t = sess.run(total, feed_dict={x: [1.0, 2.0, 3.0, 4.0]})
    return greeting, int(s), int(m), float(t)


def main(argv=None):
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    ok = True
    for line in versions():
        print(line)

    devices = list_devices()
    gpus = [d for d in devices if d[1] == "GPU"]
    print("devices:")
    for name, kind, desc in devices:
        print("  %s (%s)%s" % (name, kind, " -- " + desc if desc else ""))
    if gpus:
        print("GPU: %s" % "; ".join(d[2] or d[0] for d in gpus))
    else:
        print("no GPU, running on the CPU")

    for name, _, _ in devices:
        try:
            err = matmul_on(name)
        except tf.errors.OpError as exc:
            print("matmul on %s: FAILED (%s)" % (name, exc.message.splitlines()[0]))
            ok = False
            continue
        good = err < 1e-3
        ok &= good
        print("matmul 64x64 on %s: %s (max error %.2g)" % (name, "ok" if good else "WRONG", err))

    greeting, s, m, t = hello_world()
    print(greeting)
    print("a + b = %d, a * b = %d (a=2, b=3 fed through placeholders)" % (s, m))
    print("reduce_sum([1, 2, 3, 4]) = %g" % t)
    ok &= (greeting, s, m, t) == ("Hello, TensorFlow!", 5, 6, 10.0)
    print("installation OK" if ok else "installation has problems (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    cli.run(main)
