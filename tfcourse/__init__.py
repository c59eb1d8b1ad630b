"""Shared plumbing for the TensorFlow-1 course scripts.

The models themselves live, whole and readable, in the top-level folders
(``mnist_cnn/``, ``alexnet/``, ...).  This package only holds what every
script needs and what no reader of a model wants to see: the compatibility
shim for current TensorFlow (:mod:`tfcourse.compat`), the MNIST reader
(:mod:`tfcourse.input_data`), the data fetchers (:mod:`tfcourse.datasets`),
small command-line helpers (:mod:`tfcourse.cli`), safe checkpoints
(:mod:`tfcourse.checkpoints`) and the video I/O and motion detector of the two
motion apps (:mod:`tfcourse.video`, :mod:`tfcourse.motion`).
"""
import os

__version__ = "1.0.0"

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(REPO_ROOT, "results")


def default_data_dir(*parts):
    """``$TFCOURSE_DATA_DIR`` or ``<repo>/data``, joined with ``parts``."""
    base = os.environ.get("TFCOURSE_DATA_DIR") or os.path.join(REPO_ROOT, "data")
    return os.path.join(base, *parts)
