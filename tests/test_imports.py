"""Every module that a script or a test imports is installed by requirements.txt alone.

CI runs the suite in a fresh virtualenv made from requirements.txt (``.ci/run``), so a
dependency that only the developer's machine has fails here, in seconds, by name, instead of
at the collection of some later test.  Two checks:

* each third-party module imported anywhere in the checkout (scripts, ``tfcourse``, tests;
  imports inside functions included) imports in a fresh interpreter;
* the distribution that provides it is named in ``requirements.txt`` (so that it is there
  on purpose, not as somebody else's dependency).
"""
import ast
import json
import os
import re
import subprocess
import sys

import pytest

from tfcourse import REPO_ROOT

SKIP_DIRS = {".git", "data", "runs", "checkpoints", "__pycache__", ".pytest_cache"}


def _is_venv(path):
    return os.path.exists(os.path.join(path, "pyvenv.cfg"))


def project_files():
    """The checkout's .py files, outside any virtualenv (a .venv inside it is supported)."""
    for root, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".venv")
                         and not _is_venv(os.path.join(root, d)))
        for name in sorted(files):
            if name.endswith(".py"):
                yield os.path.join(root, name)


def third_party_imports():
    """{top-level module: [files importing it]} of what is neither stdlib nor the project's."""
    files = list(project_files())
    local = {"tfcourse"} | {os.path.splitext(os.path.basename(p))[0] for p in files}
    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
    found = {}
    for path in files:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in local and top not in stdlib:
                    found.setdefault(top, []).append(os.path.relpath(path, REPO_ROOT))
    return found


def fallback_imports():
    """Modules imported only in an ``except ImportError`` handler: the fallbacks of older
    Pythons (``tomli`` where ``tomllib`` is missing), required with a python_version marker
    and not importable on a newer interpreter."""
    found = set()
    for path in project_files():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if not isinstance(node, ast.ExceptHandler):
                continue
            caught = getattr(node.type, "id", None)
            if caught not in ("ImportError", "ModuleNotFoundError"):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in inner.names}
    return found


def required_distributions():
    """Normalised distribution names in requirements.txt (markers and pins stripped)."""
    names = set()
    with open(os.path.join(REPO_ROOT, "requirements.txt")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line or line.startswith("-"):
                continue
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
            names.add(re.sub(r"[-_.]+", "-", match.group(0)).lower())
    return names


@pytest.fixture(scope="module")
def imports():
    found = third_party_imports()
    assert {"tensorflow", "numpy", "scipy", "cv2", "pytest"} <= set(found), sorted(found)
    return found


def test_every_imported_module_imports_in_a_fresh_interpreter(imports):
    code = ("import importlib, json, sys\n"
            "failed = {}\n"
            "for name in sys.argv[1:]:\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except Exception as exc:\n"
            "        failed[name] = '%s: %s' % (type(exc).__name__, exc)\n"
            "print(json.dumps(failed))\n")
    # tfcourse.compat first, as every script does (TF_USE_LEGACY_KERAS before TensorFlow)
    names = ["tfcourse.compat"] + sorted(set(imports) - fallback_imports())
    proc = subprocess.run([sys.executable, "-c", code] + names, cwd=REPO_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not failed, "\n".join("%s (imported by %s): %s; add it to requirements.txt"
                                 % (n, ", ".join(imports[n][:3]), e)
                                 for n, e in failed.items())


@pytest.mark.skipif(sys.version_info < (3, 10), reason="packages_distributions needs 3.10")
def test_every_imported_distribution_is_in_requirements(imports):
    from importlib.metadata import packages_distributions

    provided = packages_distributions()
    required = required_distributions()
    missing = {}
    for name, files in sorted(imports.items()):
        dists = [re.sub(r"[-_.]+", "-", d).lower() for d in provided.get(name, [])]
        if not dists and name in fallback_imports():
            dists = [name]  # not installed on this Python: its requirement has a marker
        if not dists or not set(dists) & required:
            missing[name] = (dists or ["not installed"], files[:3])
    assert not missing, "\n".join("%s from %s, imported by %s: not in requirements.txt"
                                  % (n, "/".join(d), ", ".join(f))
                                  for n, (d, f) in missing.items())
