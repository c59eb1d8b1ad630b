"""Export a trained graph as a SavedModel that TensorFlow Serving loads (blog part 10, Serving).

Every train script ends with one call, after training::

    serving.export_saved_model(sess, serving.export_dir(args),
                               inputs={"images": x}, outputs={"logits": logits,
                                                              "classes": classes},
                               version=int(sess.run(global_step)))

which writes the TF Serving layout ``EXPORT_DIR/<version>/saved_model.pb`` and
``EXPORT_DIR/<version>/variables/``, tag ``serve``, one signature
``serving_default`` (a predict signature of the named tensors).  The version
folder is the global step, an integer, as TF Serving expects (it serves the
highest).  The folder is built next to its final place and renamed into it,
so a run killed half-way leaves no half export.  ``--export_dir`` (defined by
:func:`add_export_flag`, the same in every train script) chooses the folder:
default ``CHECKPOINT_DIR/export``, ``''`` skips the export.

Serving it
----------
On its own, with the ``saved_model_cli`` that TensorFlow installs::

    saved_model_cli show --dir runs/mnist_cnn/export/20000 --all
    python -c "import numpy as np; np.save('digit.npy', np.zeros((1, 784), np.float32))"
    saved_model_cli run --dir runs/mnist_cnn/export/20000 --tag_set serve \\
        --signature_def serving_default --inputs images=digit.npy

With TensorFlow Serving's docker image (REST on port 8501; the model folder
is the export folder, whose numbered versions it watches)::

    docker run -p 8501:8501 -v "$PWD/runs/mnist_cnn/export:/models/mnist_cnn" \\
        -e MODEL_NAME=mnist_cnn tensorflow/serving
    curl -d '{"instances": [[0.0, ...784 values...]]}' \\
        http://localhost:8501/v1/models/mnist_cnn:predict

Signature conventions (what ``setup/grade.py`` feeds and reads)
---------------------------------------------------------------
* Image classifiers: input ``images``, exactly what the script's own
  placeholder takes: uint8 ``[N, H, W, C]`` for the model-folder train scripts
  (``mnist_cnn/lenet5.py``, ``alexnet/``, ``vggnet/``, ``googlenet/``,
  ``resnet/``), float ``[N, 784]`` in [0, 1] for ``mnist_cnn/train.py`` (its
  ``x``); outputs ``logits`` ``[N, classes]``, ``classes`` (int64 argmax) and
  ``probabilities``.  Dropout and batch norm are in inference mode when only
  ``images`` is fed (keep probabilities and ``is_training`` default to it).
* The Chinese characters app: the same, with uint8 ``images`` ``[N, S, S]``;
  the class list (``classes.json``, index -> character) is in
  ``assets.extra/``.
* The captcha app: uint8 ``images`` ``[N, 28, 280]`` (ten cells of 28x28);
  outputs ``logits`` ``[N, 10, 2]``, ``probabilities`` and ``classes``
  ``[N, 10]`` (1 = the cell's character is inverted).
* TextCNN: int32 ``tokens`` ``[N, max_len]``, token ids padded with 0 as
  ``text_data.encode`` makes them; ``assets.extra/meta.json`` holds the
  vocabulary, token level and ``max_len`` that turn a sentence into ids;
  outputs ``logits`` ``[N, 2]``, ``classes``, ``probabilities``.
* The PTB language model (the test model: batch 1, one step): int32
  ``word_ids`` ``[1, 1]`` and the LSTM state, one input per layer and part,
  ``c0``, ``h0``, ``c1``, ``h1`` ... (float ``[1, hidden]``); outputs
  ``logits`` ``[1, vocabulary]`` (of the next word) and the new state under the
  same names ``c0``, ``h0`` ...  A reader starts from zeros, feeds every output
  state back as the input of the same name, and so carries the state over the
  whole test text: the perplexity is ``exp`` of the mean cross-entropy of
  ``logits`` against each next word.
"""
import os
import shutil
import tempfile

from tfcourse import cli

SIGNATURE = "serving_default"
TAG = "serve"
EXTRA = "assets.extra"  # TF Serving's folder of files that are not part of the graph


def add_export_flag(parser):
    """``--export_dir PATH``: where the SavedModel goes (default CHECKPOINT_DIR/export)."""
    parser.add_argument("--export_dir", default=None, metavar="PATH",
                        help="write the trained model as a TF Serving SavedModel into "
                             "PATH/<global step>/ ('' to skip) (default: "
                             "CHECKPOINT_DIR/export)")


def check_export_dir(args):
    """Fail early, before any training, when ``--export_dir`` names a place that cannot be
    written (one line, exit 2; tfcourse.cli.check_outputs)."""
    if args.export_dir:
        cli.check_outputs(args, folders=("--export_dir",))


def export_dir(args):
    """The folder ``--export_dir`` names: CHECKPOINT_DIR/export by default; '' (or no
    checkpoint folder kept) skips the export."""
    if args.export_dir is not None:
        return args.export_dir
    folder = cli.kept_folder(getattr(args, "checkpoint_dir", "") or "")
    return os.path.join(folder, "export") if folder else ""


def export_saved_model(sess, export_dir, inputs, outputs, version, extra_files=None):
    """Write ``sess``'s graph and variables as ``export_dir/<version>/`` (TF Serving's layout)
    with a ``serving_default`` predict signature of ``inputs`` and ``outputs`` ({name:
    tensor}); ``extra_files`` ({name: path}) are copied into ``assets.extra/``.  Atomic: the
    version folder appears whole or not at all.  Returns the version folder, or None when
    ``export_dir`` is '' or None (skipped)."""
    from tfcourse.compat import tf

    if not export_dir:
        return None
    version = int(version)
    if version < 0:
        raise cli.UserError("a SavedModel version must be 0 or more, got %d" % version)
    export_dir = os.path.abspath(export_dir)
    try:
        os.makedirs(export_dir, exist_ok=True)
    except OSError as exc:
        raise cli.UserError("cannot create --export_dir %s (%s); pass another path"
                            % (export_dir, exc.strerror)) from exc
    final = os.path.join(export_dir, str(version))
    building = tempfile.mkdtemp(prefix=".tmp-%d-" % version, dir=export_dir)
    os.rmdir(building)  # the builder makes the folder itself and refuses an existing one
    try:
        builder = tf.saved_model.Builder(building)
        signature = tf.saved_model.signature_def_utils.predict_signature_def(
            inputs=inputs, outputs=outputs)
        builder.add_meta_graph_and_variables(
            sess, [TAG], signature_def_map={SIGNATURE: signature}, clear_devices=True,
            strip_default_attrs=True)
        builder.save()
        if extra_files:
            os.makedirs(os.path.join(building, EXTRA))
            for name, path in extra_files.items():
                shutil.copyfile(path, os.path.join(building, EXTRA, name))
        old = None
        if os.path.exists(final):  # the same step exported again: replace it
            old = tempfile.mkdtemp(prefix=".old-%d-" % version, dir=export_dir)
            os.rename(final, os.path.join(old, "v"))
        os.rename(building, final)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if os.path.exists(building):
            shutil.rmtree(building, ignore_errors=True)
    return final


def latest_version(export_dir):
    """The highest integer version folder under ``export_dir`` (as TF Serving picks it), or
    None."""
    try:
        versions = [int(name) for name in os.listdir(export_dir) if name.isdigit()
                    and os.path.exists(os.path.join(export_dir, name, "saved_model.pb"))]
    except OSError:
        return None
    return os.path.join(export_dir, str(max(versions))) if versions else None


def load(sess, version_dir):
    """Load a SavedModel into ``sess``; returns ({input name: tensor}, {output name: tensor})
    of its ``serving_default`` signature."""
    meta = tf_loader().load(sess, [TAG], version_dir)
    if SIGNATURE not in meta.signature_def:
        raise cli.UserError("%s has no %s signature (it has %s); export it with "
                            "tfcourse.serving.export_saved_model"
                            % (version_dir, SIGNATURE, ", ".join(meta.signature_def) or "none"))
    signature = meta.signature_def[SIGNATURE]
    graph = sess.graph
    inputs = {k: graph.get_tensor_by_name(v.name) for k, v in signature.inputs.items()}
    outputs = {k: graph.get_tensor_by_name(v.name) for k, v in signature.outputs.items()}
    return inputs, outputs


def tf_loader():
    from tfcourse.compat import tf

    return tf.saved_model.loader
