"""Runtime plumbing of the TensorFlow-1 course scripts: functions the scripts call.

The models themselves live, whole and readable, in the top-level folders
(``mnist_cnn/``, ``alexnet/``, ...): each script writes out its placeholders,
its network, its ``tf.Session`` and its training loop or timing calls.  This
package holds only what is not the book's and would otherwise be written again
in every script:

* :mod:`tfcourse.compat` -- ``tensorflow.compat.v1`` and ``tf_slim`` on current
  TensorFlow (tf-keras for ``tf.nn.rnn_cell``/``tf.layers``, ``tf.contrib``'s few
  functions), the device line, the Session config;
* :mod:`tfcourse.cli` -- the flag vocabulary, one-line errors (exit 2), atomic
  writes, progress lines, figures;
* :mod:`tfcourse.checkpoints` -- restore or initialise with the run's history,
  corrupt checkpoints named, no NaN ever saved;
* :mod:`tfcourse.training` -- the image train scripts' flags, data, dtype,
  schedule, summaries, evaluation, the bookkeeping every training loop shares
  (:class:`~tfcourse.training.Loop`: restore, when to log, test and save, the NaN stop),
  :class:`~tfcourse.training.Run` on it for the train scripts' own loops, and
  :func:`~tfcourse.training.fit`, the apps' feed-dict loop;
* :mod:`tfcourse.benchmark` -- the timing scripts' flags, towers, dtype policy,
  FLOPs, memory estimate, placement check and record;
* :mod:`tfcourse.precision` -- float16/bfloat16 compute with float32 master weights;
* :mod:`tfcourse.gpu_check` -- the static GPU-kernel check
  (``python -m tfcourse.gpu_check SCRIPT ARGS``);
* :mod:`tfcourse.input_data`, :mod:`tfcourse.image_data` and
  :mod:`tfcourse.datasets` -- the data readers and fetchers (``setup/get_data.py``);
* :mod:`tfcourse.machine` -- the CPU a figure was measured on;
* the apps' helpers: :mod:`tfcourse.video`, :mod:`tfcourse.motion`,
  :mod:`tfcourse.style`, :mod:`tfcourse.cjk`.

The reproduce and grading commands and their tables live in ``setup/``.
"""
import os

__version__ = "1.0.0"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(REPO_ROOT, "results")


def default_data_dir(*parts):
    """``$TFCOURSE_DATA_DIR`` or ``<repo>/data``, joined with ``parts``."""
    base = os.environ.get("TFCOURSE_DATA_DIR") or os.path.join(REPO_ROOT, "data")
    return os.path.join(base, *parts)
