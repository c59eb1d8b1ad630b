"""Assignments: which scripts a submission runs, at which settings, and what earns points.

An assignment is a TOML file under ``setup/assignments/`` (``--assignment
NAME`` finds ``setup/assignments/NAME.toml``; a path works too)::

    title = "MNIST CNN (report §2.2)"
    files = ["mnist_cnn/train.py"]   # what a files-only submission hands in; laid over a
                                     # clean copy of the reference tree
    tier = "quick"                   # default of --tier: quick or report

    [limits]                         # per command (defaults: setup/grading/sandbox.py)
    memory = "4G"                    # resident memory of all its processes together
    threads = 512                    # processes and threads of its user
    output = "64M"                   # what it may print (its log)
    file_size = "2G"                 # the largest file it may write
    network = false                  # true lets it reach the network

    [[scripts]]
    row = "mnist_cnn"                # a row of setup/scripts_table.py: its script, and its
                                     # arguments at the tier
    wall = { quick = 900, report = 14400 }   # seconds per tier
    # path = "mnist_cnn/train.py"    # instead of row: a script ...
    # args = { quick = [...], report = [...] }   # ... and its arguments ({data}, {run})
    # name = "..."                   # how items name it (default: the row)
    # extra_args = [...]             # appended at every tier
    # capture = true                 # a benchmark: the grader keeps the graphs it runs

    [[items]]
    label = "MNIST CNN test accuracy"
    script = "mnist_cnn"
    measure = "classifier"           # see MEASURES
    points = 60
    floor = { quick = 0.5, report = 0.95 }   # no points at or past it, all at the
                                     # target, linear in between (a number: every tier)
    # target = 0.99                  # default: the table's tolerance of the row's figure
                                     # at the tier (scripts_table.TOLERANCES, QUICK)

MEASURES (what the grader measures itself, never read from the submission):

* ``classifier``: accuracy of the script's SavedModel on the grader's test
  images (``dataset`` and ``data_dir``: default the script's ``--dataset`` /
  ``--data_dir``; ``mnist`` when it names none); higher is better.
* ``perplexity``: the PTB export's test perplexity on the grader's
  ``ptb.test.txt``; lower is better.
* ``timing``: ``pass = "forward"`` or ``"forward_backward"``: seconds per
  batch of the submission's captured graph over the reference tree's, timed
  together by the grader; lower is better (target default: the report's
  same-GPU tolerance, 1.25).
* ``network``: parameters and forward FLOPs of the captured graph equal the
  reference tree's (within ``rel``, default 1 %); all points or none.
* ``ratio``: forward-backward over forward time of the captured graph in the
  table's range (TOLERANCES['ratio']); all points or none.
* ``self_reported``: ``key`` of the script's own JSON.  Shown as
  ``self-reported``, 0 points unless the item says ``trust = true``.
"""
import collections
import os
import sys

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.dirname(HERE) not in sys.path:  # setup/, where the table lives
    sys.path.insert(0, os.path.dirname(HERE))

from scripts_table import QUICK, TOLERANCES, by_name  # noqa: E402
FOLDER = os.path.join(os.path.dirname(HERE), "assignments")
MEASURES = ("classifier", "perplexity", "timing", "network", "ratio", "self_reported")
TIERS = ("quick", "report")

Assignment = collections.namedtuple("Assignment", [
    "name", "path", "title", "files", "tier", "limits", "network", "scripts", "items"])
ScriptSpec = collections.namedtuple("ScriptSpec", [
    "name", "path", "args", "outputs", "wall", "capture", "row", "extra_args"])
Item = collections.namedtuple("Item", [
    "label", "script", "measure", "points", "floor", "target", "better", "key", "trust",
    "dataset", "data_dir", "pass_", "rel", "limit"])


class AssignmentError(ValueError):
    """An assignment file that cannot be used; the message names the file and the key."""


def find(name):
    """The path of assignment ``name`` (a name under setup/assignments/ or a path)."""
    if os.path.isfile(name):
        return os.path.abspath(name)
    path = os.path.join(FOLDER, name + ".toml")
    if os.path.isfile(path):
        return path
    raise AssignmentError("no assignment %s; choose from %s, or give a .toml path"
                          % (name, ", ".join(available()) or "none"))


def available():
    try:
        return sorted(n[:-5] for n in os.listdir(FOLDER) if n.endswith(".toml"))
    except OSError:
        return []


def load(name, tier=None):
    """The Assignment ``name`` at ``tier`` (default: the file's own tier)."""
    path = find(name)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AssignmentError("%s: %s" % (path, exc))
    where = os.path.relpath(path)
    tier = tier or data.get("tier", "quick")
    if tier not in TIERS:
        raise AssignmentError("%s: tier %r; use quick or report" % (where, tier))
    rows = by_name()
    scripts = collections.OrderedDict()
    for i, raw in enumerate(data.get("scripts", [])):
        spec = _script(raw, rows, tier, "%s: scripts[%d]" % (where, i))
        if spec.name in scripts:
            raise AssignmentError("%s: two scripts named %s" % (where, spec.name))
        scripts[spec.name] = spec
    if not scripts:
        raise AssignmentError("%s: no [[scripts]]" % where)
    items = [_item(raw, scripts, tier, "%s: items[%d]" % (where, i))
             for i, raw in enumerate(data.get("items", []))]
    if not items:
        raise AssignmentError("%s: no [[items]]" % where)
    limits = dict(data.get("limits", {}))
    network = bool(limits.pop("network", False))
    return Assignment(os.path.splitext(os.path.basename(path))[0], path,
                      data.get("title", os.path.basename(path)), list(data.get("files", [])),
                      tier, limits, network, list(scripts.values()), items)


def _per_tier(value, tier, default=None):
    if isinstance(value, dict):
        return value.get(tier, default)
    return default if value is None else value


def _script(raw, rows, tier, where):
    row = rows.get(raw.get("row")) if raw.get("row") else None
    if raw.get("row") and row is None:
        raise AssignmentError("%s: no row %r in setup/scripts_table.py" % (where, raw["row"]))
    path = raw.get("path") or (row.path if row else None)
    if not path:
        raise AssignmentError("%s: give row or path" % where)
    if "args" in raw:
        args = _per_tier(raw["args"], tier, [])
        outputs = tuple(raw.get("outputs", ("json", "checkpoint_dir")))
    else:
        if row is None:
            raise AssignmentError("%s: a path needs args" % where)
        args = row.quick if tier == "quick" or row.report is None else row.report
        outputs = tuple(o for o in row.outputs if o != "plot")
    wall = _per_tier(raw.get("wall"), tier)
    if not wall:
        raise AssignmentError("%s: wall (seconds, per tier) is required" % where)
    return ScriptSpec(raw.get("name") or (row.name if row else
                                          os.path.splitext(os.path.basename(path))[0]),
                      path, list(args), outputs, float(wall), bool(raw.get("capture", False)),
                      row.name if row else None, list(raw.get("extra_args", [])))


def _figure(row_name, key):
    row = by_name().get(row_name)
    for figure in (row.figures if row else []):
        if figure.key == key:
            return figure
    return None


KEYS = {"classifier": "test_accuracy", "perplexity": "test_perplexity"}


def default_target(measure, row_name, key, tier):
    """The table's bound for a measured figure at ``tier``, or None."""
    if measure == "timing":
        return 1.0 + TOLERANCES["timing_same_gpu"][0]
    if measure == "ratio":
        return tuple(TOLERANCES["ratio"][0])
    if tier == "quick":
        name = QUICK.get((row_name, key))
        return TOLERANCES[name][0] if name else None
    figure = _figure(row_name, key)
    if figure is None or figure.tolerance is None:
        return None
    if figure.kind == "perplexity":
        return figure.report * (1 + figure.tolerance)
    return figure.tolerance


def _item(raw, scripts, tier, where):
    measure = raw.get("measure")
    if measure not in MEASURES:
        raise AssignmentError("%s: measure %r; choose from %s" % (where, measure,
                                                                  ", ".join(MEASURES)))
    script = raw.get("script") or next(iter(scripts))
    if script not in scripts:
        raise AssignmentError("%s: no script %r among %s" % (where, script,
                                                           ", ".join(scripts)))
    spec = scripts[script]
    key = raw.get("key", KEYS.get(measure))
    better = "lower" if measure in ("perplexity", "timing") else "higher"
    target = _per_tier(raw.get("target"), tier)
    if target is None and measure not in ("network", "self_reported"):
        target = default_target(measure, spec.row, key, tier)
        if target is None:
            raise AssignmentError("%s: no target, and the table has none for %s %s at the "
                                  "%s tier" % (where, spec.row, key, tier))
    floor = _per_tier(raw.get("floor"), tier)
    if floor is None and measure in ("classifier", "perplexity", "timing"):
        raise AssignmentError("%s: floor (where the points start) is required" % where)
    if measure in ("timing", "network", "ratio") and not spec.capture:
        raise AssignmentError("%s: %s needs a script with capture = true" % (where, measure))
    pass_ = raw.get("pass", "forward")
    if pass_ not in ("forward", "forward_backward"):
        raise AssignmentError("%s: pass must be forward or forward_backward" % where)
    if measure == "self_reported" and not key:
        raise AssignmentError("%s: self_reported needs key" % where)
    return Item(raw.get("label") or "%s %s" % (script, measure), script, measure,
                float(raw.get("points", 0 if measure == "self_reported" else 10)),
                floor, target, better, key, bool(raw.get("trust", False)),
                raw.get("dataset"), raw.get("data_dir"), pass_, float(raw.get("rel", 0.01)),
                int(raw.get("limit", 0)))


def partial(value, floor, target, better):
    """The share of the points ``value`` earns: 0 at or past ``floor``, 1 at or past
    ``target``, linear in between."""
    if value is None or (isinstance(value, float) and value != value):
        return 0.0
    if better == "lower":
        value, floor, target = -value, -floor, -target
    if value >= target:
        return 1.0
    if value <= floor:
        return 0.0
    return (value - floor) / float(target - floor)


if __name__ == "__main__":  # list the assignments
    for name in available():
        a = load(name)
        print("%-24s %s (%d scripts, %d items)" % (name, a.title, len(a.scripts), len(a.items)),
              file=sys.stdout)
