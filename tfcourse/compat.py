"""Run the course's TensorFlow-1 graph-mode code on current TensorFlow.

Every script starts with::

    from tfcourse.compat import tf, slim

after which ``tf`` is ``tensorflow.compat.v1`` with v2 behaviour disabled
(placeholders, ``tf.Session``, ``tf.name_scope`` ... exactly as in TF 1.x) and
``slim`` is ``tf_slim``.  On current TensorFlow (2.16 and newer, Keras 3 by
default) this module also

* sets ``TF_USE_LEGACY_KERAS=1`` *before* TensorFlow is imported, so that
  ``tf.nn.rnn_cell.*`` and ``tf.layers.*`` are served by the ``tf-keras``
  package (Keras 2) instead of failing under Keras 3;
* makes ``slim.batch_norm`` / ``tf.layers.batch_normalization`` work: TF looks
  for ``tf_keras.legacy_tf_layers`` while tf-keras ships it as
  ``tf_keras.src.legacy_tf_layers``; the module is aliased, nothing else;
* provides the few ``tf.contrib`` functions the course code used
  (:func:`sequence_loss_by_example`, :func:`xavier_initializer`).

Every patch is guarded: on genuine TF 1.15 none of them applies and the module
only imports ``tensorflow.compat.v1`` and ``tf_slim``.
"""
import contextlib
import importlib
import os
import sys
import tempfile
import warnings

# Must happen before the first ``import tensorflow`` anywhere in the process.
os.environ["TF_USE_LEGACY_KERAS"] = "1"
# TensorFlow's C++ start-up chatter ("All log messages before absl::InitializeLog()",
# cpu_feature_guard, and "E0000 ... failed call to cuInit" on a CUDA build without a GPU,
# which reads like a crash) goes to stderr before any Python code can filter it.  Level 3
# keeps only FATAL; a user's own TF_CPP_MIN_LOG_LEVEL wins.  The scripts print one plain
# device line instead (announce_device).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

if "tensorflow" in sys.modules and "tf_keras" not in sys.modules:
    warnings.warn(
        "tensorflow was imported before tfcourse.compat; import tfcourse.compat "
        "first so that TF_USE_LEGACY_KERAS=1 takes effect for tf.nn.rnn_cell / tf.layers",
        RuntimeWarning,
        stacklevel=2,
    )

#: start-up lines that TF_CPP_MIN_LOG_LEVEL does not reach: absl writes whatever is logged
#: before its logging is initialised straight to stderr, as TensorFlow 2.21 does with its
#: oneDNN notice (twice) on CPUs where it turns oneDNN on by default (AVX-512 Xeons)
_START_UP_CHATTER = ("All log messages before absl::InitializeLog() is called",
                     "oneDNN custom operations are on")


@contextlib.contextmanager
def _filtered_native_stderr():
    """While TensorFlow loads, catch what its C++ code writes to file descriptor 2 and pass
    on every line but :data:`_START_UP_CHATTER` (all of it when TF_CPP_MIN_LOG_LEVEL=0)."""
    try:
        quiet = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0") != "0"
        saved = os.dup(2) if quiet else None
    except OSError:  # pragma: no cover - no file descriptor 2
        saved = None
    if saved is None:
        yield
        return
    with tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode("utf-8", "replace").splitlines(True)
            sys.stderr.write("".join(line for line in lines
                                     if not any(c in line for c in _START_UP_CHATTER)))
            sys.stderr.flush()


try:
    with _filtered_native_stderr():
        import tensorflow.compat.v1 as tf
except ImportError as exc:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "TensorFlow is not installed (%s); run: pip install -r requirements.txt" % exc
    ) from exc


def _quiet_deprecations():
    """The compat.v1 API prints a deprecation warning for nearly every call."""
    tf.logging.set_verbosity(tf.logging.ERROR)
    try:
        from tensorflow.python.util import deprecation

        deprecation._PRINT_DEPRECATION_WARNINGS = False
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    # Keras-2 layers used under tf.layers / tf_slim warn on every call.
    warnings.filterwarnings("ignore", message=r"`layer\.apply` is deprecated")
    warnings.filterwarnings("ignore", message=r"`tf\.layers\.\w+` is deprecated")
    warnings.filterwarnings("ignore", message=r"`tf\.nn\.rnn_cell\.\w+` is deprecated")


_quiet_deprecations()
tf.disable_v2_behavior()

TF_VERSION = tuple(int(p) for p in tf.__version__.split(".")[:2] if p.isdigit())
#: True on TensorFlow >= 2.16, where Keras 3 is the default and tf-keras is needed.
NEEDS_TF_KERAS = TF_VERSION >= (2, 16)


def _alias_legacy_tf_layers():
    """Alias ``tf_keras.legacy_tf_layers`` -> ``tf_keras.src.legacy_tf_layers``.

    ``tensorflow/python/layers/normalization.py`` lazily imports
    ``tf_keras.legacy_tf_layers.normalization``, which tf-keras >= 2.16 no
    longer exposes at that path; ``slim.batch_norm`` goes through it.
    Returns True when the alias was installed.
    """
    try:
        importlib.import_module("tf_keras.legacy_tf_layers.normalization")
        return False  # already importable: nothing to do
    except ImportError:
        pass
    try:
        src = importlib.import_module("tf_keras.src.legacy_tf_layers")
    except ImportError:
        return False
    sys.modules["tf_keras.legacy_tf_layers"] = src
    for name in ("base", "convolutional", "core", "normalization", "pooling"):
        try:
            sys.modules["tf_keras.legacy_tf_layers." + name] = importlib.import_module(
                "tf_keras.src.legacy_tf_layers." + name
            )
        except ImportError:  # pragma: no cover - depends on the tf-keras release
            pass
    return True


if NEEDS_TF_KERAS:
    try:
        import tf_keras  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "TensorFlow %s needs the tf-keras package for tf.nn.rnn_cell, tf.layers and "
            "slim.batch_norm; run: pip install --no-deps tf-keras==%d.%d.*"
            % (tf.__version__, TF_VERSION[0], TF_VERSION[1])
        ) from exc
    LEGACY_LAYERS_ALIASED = _alias_legacy_tf_layers()
else:  # pragma: no cover - TF 1.15 .. 2.15
    LEGACY_LAYERS_ALIASED = False

try:
    import tf_slim as slim
except ImportError as exc:  # pragma: no cover
    raise ImportError("tf_slim is not installed; run: pip install tf-slim==1.1.0") from exc


# --------------------------------------------------------------------------
# Replacements for the tf.contrib functions used by the course code.
# --------------------------------------------------------------------------

#: ``tf.contrib.layers.xavier_initializer`` (Glorot uniform).
xavier_initializer = tf.glorot_uniform_initializer


def sequence_loss_by_example(logits, targets, weights, average_across_timesteps=True,
                             softmax_loss_function=None, name=None):
    """``tf.contrib.legacy_seq2seq.sequence_loss_by_example``.

    ``logits``: list of [batch, vocab] tensors; ``targets`` and ``weights``:
    lists of [batch] tensors, one per time step.  Returns the [batch]
    weighted log-perplexity of each sequence.
    """
    if len(targets) != len(logits) or len(weights) != len(logits):
        raise ValueError(
            "lengths of logits, weights and targets must match: %d %d %d"
            % (len(logits), len(weights), len(targets))
        )
    with tf.name_scope(name, "sequence_loss_by_example", logits + targets + weights):
        log_perp_list = []
        for logit, target, weight in zip(logits, targets, weights):
            if softmax_loss_function is None:
                target = tf.reshape(target, [-1])
                crossent = tf.nn.sparse_softmax_cross_entropy_with_logits(
                    labels=target, logits=logit)
            else:
                crossent = softmax_loss_function(labels=target, logits=logit)
            log_perp_list.append(crossent * weight)
        log_perps = tf.add_n(log_perp_list)
        if average_across_timesteps:
            total_size = tf.add_n(weights) + 1e-12  # avoid division by 0 for all-0 weights
            log_perps /= total_size
    return log_perps


def gpu_names():
    """Names of the GPUs TensorFlow can use (empty list on a CPU-only machine).

    ``python -m tfcourse.gpu_check SCRIPT`` replaces it with one that names a pretend GPU,
    so that the script builds its graph for the GPU.
    """
    from tensorflow.python.client import device_lib

    return [d.physical_device_desc or d.name for d in device_lib.list_local_devices()
            if d.device_type == "GPU"]


_ANNOUNCED = []


def announce_device():
    """Print, once per process, the GPU that runs the graph or "no GPU, running on the CPU"."""
    names = gpu_names()
    if not _ANNOUNCED:
        _ANNOUNCED.append(True)
        print("GPU: %s" % "; ".join(names) if names else "no GPU, running on the CPU",
              flush=True)
    return names[0] if names else "CPU"


def session_config(allow_growth=True, log_device_placement=False, xla=False):
    """A ``tf.ConfigProto`` that grows GPU memory on demand instead of taking it all."""
    config = tf.ConfigProto(log_device_placement=log_device_placement,
                            allow_soft_placement=True)
    config.gpu_options.allow_growth = allow_growth
    if xla:
        config.graph_options.optimizer_options.global_jit_level = tf.OptimizerOptions.ON_1
    return config


__all__ = ["tf", "slim", "TF_VERSION", "NEEDS_TF_KERAS", "xavier_initializer",
           "sequence_loss_by_example", "gpu_names", "announce_device", "session_config"]
