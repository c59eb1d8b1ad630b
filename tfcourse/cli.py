"""Command-line plumbing shared by every script: clear errors, progress, safe output files.

* :class:`UserError` and :func:`run` turn bad input (missing data, wrong path,
  bad flag, corrupt file, out-of-memory batch) into one line on stderr that
  names the fix, and exit status 2, instead of a bare stack trace.
* :class:`Progress` prints step, rate and ETA for long runs.
* :func:`write_json`, :func:`write_text` and :func:`save_figure` write to a
  temporary file and rename it into place, so no result is ever written half.
* The one command-line vocabulary of every script: :func:`add_data_dir`,
  :func:`add_checkpoint_flags`, :func:`add_output_flags` define ``--data_dir``,
  ``--checkpoint_dir``/``--restore``, ``--json`` and ``--plot`` once;
  ``''`` skips an output; defaults live under ``runs/<name>/`` at the repository
  root (:func:`run_dir`), never in the committed ``results/`` and ``images/``;
  :func:`wrote` prints the one finish message, ``wrote PATH``.
  :func:`finite_float` is the argparse type of every float flag.
"""
import argparse
import contextlib
import datetime
import json
import os
import sys
import tempfile
import time


class UserError(Exception):
    """A problem the user can fix; the message says how (one line)."""


def _tf_error_types(*names):
    """TensorFlow's error classes of these ``names``, if the script has imported TensorFlow
    at all (none otherwise: an ``except ()`` catches nothing)."""
    if "tensorflow" not in sys.modules:
        return ()
    from tensorflow import errors

    return tuple(getattr(errors, name) for name in names)


#: what rewrites the input files of the graph's pipeline (--input queue|dataset), and the
#: error that stopped its queue runners: cli.run names them when the pipeline fails
_INPUT = {"fix": None, "failure": None}


def input_fix(command):
    """Remember the command that writes the input pipeline's files again (make_tfrecords)."""
    _INPUT["fix"] = command


def input_failure(message):
    """Remember why the input pipeline's threads stopped (the main thread then sees its
    queue closed); returns it as a :class:`UserError` that names the fix."""
    error = UserError("%s; write the TFRecords again: %s"
                      % (message, _INPUT["fix"] or "python setup/make_tfrecords.py DATASET"))
    _INPUT["failure"] = error
    return error


def run(main, argv=None):
    """Call ``main(argv)`` and exit; known failures become a one-line message.

    Exit status: whatever ``main`` returns (0 for None), 2 for a
    :class:`UserError`, out-of-memory, a weight histogram of NaN (the weights
    diverged before the loss did, as oneDNN's kernels on AVX-512 CPUs allow) or
    a damaged input file of a graph's pipeline (``--input queue|dataset``: a
    corrupt TFRecord, the queue closed by the error in its thread), 130 on
    Ctrl-C.  Programming errors keep their traceback (those are bugs to report,
    not input to fix).
    """
    prog = os.path.basename(sys.argv[0] or "script")
    try:
        status = main(argv)
    except UserError as exc:
        print("%s: error: %s" % (prog, exc), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("%s: interrupted" % prog, file=sys.stderr)
        sys.exit(130)
    except _tf_error_types("ResourceExhaustedError") as exc:
        first = tf_error_line(exc)
        print("%s: error: out of memory (%s); try a smaller --batch_size" % (prog, first),
              file=sys.stderr)
        sys.exit(2)
    except _tf_error_types("OutOfRangeError", "DataLossError") as exc:  # the input pipeline
        if _INPUT["failure"] is None and _INPUT["fix"] is None:
            raise
        error = _INPUT["failure"] or input_failure("the input pipeline failed: %s"
                                                   % tf_error_line(exc))
        print("%s: error: %s" % (prog, error), file=sys.stderr)
        sys.exit(2)
    except _tf_error_types("InvalidArgumentError") as exc:   # NaN weight histogram
        first = tf_error_line(exc)
        if not first.startswith("Nan in summary histogram"):
            raise
        print("%s: error: training diverged: the weights are no longer finite (%s); lower "
              "--learning_rate and train again (the non-finite weights were not saved)"
              % (prog, first), file=sys.stderr)
        sys.exit(2)
    sys.exit(status or 0)


def tf_error_line(exc, limit=200):
    """The line of a TensorFlow error that says what went wrong.

    TF 2.x prefixes a kernel's message with ``Graph execution error:`` and the
    Python stack of the failing node; the kernel's own text follows the
    ``Node: 'name'`` line.  Older releases start with the kernel's text.
    """
    lines = [line.strip() for line in str(getattr(exc, "message", exc)).splitlines()
             if line.strip()]
    if not lines:
        return type(exc).__name__
    if lines[0].startswith("Graph execution error"):
        after = [i + 1 for i, line in enumerate(lines) if line.startswith("Node:")]
        if after and after[0] < len(lines):
            return lines[after[0]][:limit]
    return lines[0][:limit]


def _fmt_duration(seconds):
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "?"
    return str(datetime.timedelta(seconds=int(round(seconds))))


class Progress:
    """Step, rate and ETA for long runs.

    >>> p = Progress(total=1000, unit="steps")      # initial=N when resuming at step N
    >>> p.update(100, loss=0.3)   # "step 100/1000 (10.0%), 52.1 steps/s, ..., ETA ..., loss 0.3"
    >>> p.summary(100)            # just "52.1 steps/s, elapsed 0:00:02, ETA 0:00:17"
    """

    def __init__(self, total, unit="steps", stream=None, prefix="", initial=0):
        self.total = total
        self.unit = unit
        self.stream = stream or sys.stdout
        self.prefix = prefix
        self.initial = initial
        self.start = time.time()

    def rate(self, step):
        elapsed = time.time() - self.start
        return (step - self.initial) / elapsed if elapsed > 0 else float("inf")

    def eta(self, step):
        rate = self.rate(step)
        if rate <= 0 or rate == float("inf"):
            return None
        return (self.total - step) / rate

    def summary(self, step):
        if step <= self.initial:
            return "starting"
        return "%.1f %s/s, elapsed %s, ETA %s" % (self.rate(step), self.unit,
                                                  _fmt_duration(self.elapsed()),
                                                  _fmt_duration(self.eta(step)))

    def line(self, step, **metrics):
        parts = ["%sstep %d/%d (%.1f%%)" % (self.prefix, step, self.total,
                                            100.0 * step / max(self.total, 1)),
                 self.summary(step)]
        for key, value in metrics.items():
            parts.append(("%s %.4g" if isinstance(value, float) else "%s %s") % (key, value))
        return ", ".join(parts)

    def update(self, step, **metrics):
        print(self.line(step, **metrics), file=self.stream, flush=True)

    def elapsed(self):
        return time.time() - self.start


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; rename it into place on success."""
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise UserError("cannot create directory %s (%s); choose another output path"
                        % (directory, exc.strerror)) from exc
    suffix = os.path.splitext(path)[1]
    if os.path.isdir(path):
        raise UserError("cannot write %s: it is a directory; choose another output path" % path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    except OSError as exc:
        raise UserError("cannot write in %s (%s); choose another output path"
                        % (directory, exc.strerror)) from exc
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are for everyone to read
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text):
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
    return path


def write_json(path, obj):
    """Write ``obj`` as indented JSON, atomically; returns ``path``.

    JSON has no NaN or Infinity: a non-finite float anywhere in ``obj``
    (a measurement that failed) is written as ``null``, and the file is
    strict JSON (``allow_nan=False``) that every reader accepts.
    """
    text = json.dumps(finite_or_none(obj), indent=2, sort_keys=True, allow_nan=False,
                      default=_json_default)
    return write_text(path, text + "\n")


def finite_or_none(obj):
    """``obj`` with every NaN / infinite float (also numpy's) replaced by ``None``."""
    import math

    obj = _plain(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: finite_or_none(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_or_none(value) for value in obj]
    return obj


def _plain(value):
    """numpy scalars and arrays as Python numbers and lists; anything else unchanged."""
    try:
        return _json_default(value)
    except TypeError:
        return value


def _json_default(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:  # pragma: no cover
        pass
    raise TypeError("not JSON serializable: %r" % (value,))


def save_figure(fig, path, dpi=120):
    """Save a matplotlib figure atomically and close it; returns ``path``."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (works headless)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def check_positive(name, value):
    if value is None or value <= 0:
        raise UserError("%s must be a positive number, got %r" % (name, value))
    return value


def finite_float(text):
    """argparse type: a float that is not NaN or infinite."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number" % text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError("%r is not a finite number" % text)
    return value


def run_dir(name, *parts):
    """``<repo>/runs/<name>/...``: where a script writes by default (git ignores runs/).

    ``$TFCOURSE_RUNS_DIR`` replaces ``<repo>/runs``: setup/reproduce.py points it into its
    run folder, so that a row's default outputs stay there.
    """
    from tfcourse import REPO_ROOT

    base = os.environ.get("TFCOURSE_RUNS_DIR") or os.path.join(REPO_ROOT, "runs")
    return os.path.join(base, name, *parts)


def add_data_dir(parser, dataset, help=None):
    """``--data_dir``, default ``data/<dataset>`` (or ``$TFCOURSE_DATA_DIR/<dataset>``)."""
    from tfcourse import default_data_dir

    parser.add_argument("--data_dir", default=default_data_dir(dataset),
                        help=help or "directory of the %s data set (python setup/get_data.py %s)"
                        % (dataset, dataset))


def add_alias(parser, old, new):
    """``old``, a former name of the flag ``new``, still accepted (recorded commands use it)
    but not shown in --help: the vocabulary has one name for each idea."""
    action = next(a for a in parser._actions if new in a.option_strings)
    kwargs = {"dest": action.dest, "default": argparse.SUPPRESS, "help": argparse.SUPPRESS}
    if action.nargs == 0:  # store_true / store_const
        kwargs.update(action="store_const", const=action.const)
    else:
        kwargs.update(type=action.type, choices=action.choices, nargs=action.nargs)
    parser.add_argument(old, **kwargs)


def add_checkpoint_flags(parser, name):
    """``--checkpoint_dir`` (checkpoints and TensorBoard events) and ``--restore``."""
    parser.add_argument("--checkpoint_dir", default=run_dir(name),
                        help="checkpoints and TensorBoard summaries "
                             "(tensorboard --logdir DIR) (default: %(default)s)")
    parser.add_argument("--restore", action="store_true",
                        help="continue from the latest checkpoint in --checkpoint_dir")


def add_output_flags(parser, name, json=True, plot=True):
    """``--json`` and ``--plot``, defaults ``runs/<name>/<name>.json`` / ``.png``; '' skips."""
    if json:
        parser.add_argument("--json", default=run_dir(name, name + ".json"), metavar="PATH",
                            help="write the result as JSON to PATH ('' to skip) "
                                 "(default: %(default)s)")
    if plot:
        parser.add_argument("--plot", default=run_dir(name, name + ".png"), metavar="PATH",
                            help="draw the figure into PATH ('' to skip) (default: %(default)s)")


def check_outputs(args, *flags, folders=(), skip_empty_folders=False):
    """Fail early, before any work, when an output flag names a place that cannot be written.

    ``flags``: file flags (``"--json"``, ``"--plot"`` ...); ``folders``: flags
    naming a folder (``"--checkpoint_dir"``).  '' / None skip a flag: a folder
    given as '' becomes a temporary one, removed at exit, so that nothing is
    kept (unless the script skips it itself, ``skip_empty_folders``; with
    ``--restore`` it is an error).  The files themselves are still written
    atomically at the end.
    """
    for flag in folders:
        attr = flag.lstrip("-")
        if getattr(args, attr) == "" and not skip_empty_folders:
            if getattr(args, "restore", False) or getattr(args, "restore_from", None):
                raise UserError("--restore needs a %s to restore from; '' keeps none" % flag)
            setattr(args, attr, _temporary_folder(attr))
    for flag in list(folders) + list(flags):  # folders first: default files live in them
        path = getattr(args, flag.lstrip("-"))
        if not path:
            continue
        is_folder = flag in folders
        if not is_folder and os.path.isdir(path):
            raise UserError("%s %s is a directory; pass a file name" % (flag, path))
        directory = os.path.abspath(path) if is_folder else os.path.dirname(os.path.abspath(path))
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as exc:
            raise UserError("cannot write %s %s (%s: %s); pass another path"
                            % (flag, path, exc.strerror, exc.filename or directory)) from exc
        if not os.access(directory, os.W_OK):
            raise UserError("cannot write %s %s (%s is not writable); pass another path"
                            % (flag, path, directory))


_TEMPORARY_FOLDERS = set()


def _temporary_folder(name):
    """A fresh temporary folder, removed when the process exits."""
    import atexit
    import shutil

    path = tempfile.mkdtemp(prefix="tfcourse-%s-" % name)
    atexit.register(shutil.rmtree, path, True)
    _TEMPORARY_FOLDERS.add(path)
    return path


def kept_folder(path):
    """``path`` for a record, or None for the temporary folder of a '' flag (gone at exit)."""
    return None if path in _TEMPORARY_FOLDERS else path


def shown(path):
    """``path`` as a JSON record gives it: relative to the repository, or ``data/...`` inside
    the data folder, so records read the same on every machine; other paths, empty ones and
    camera indices ("0") unchanged."""
    from tfcourse import REPO_ROOT, default_data_dir

    if not path or str(path).isdigit():
        return path
    path = os.path.abspath(path)
    for root, prefix in ((default_data_dir(), "data"), (REPO_ROOT, "")):
        if path.startswith(os.path.abspath(root) + os.sep):
            return os.path.join(prefix, os.path.relpath(path, root))
    return path


def wrote(path):
    """The finish message of every script that writes a file."""
    print("wrote %s" % path, flush=True)
    return path
