"""Grade one submission: lay out its tree, run its scripts in its sandbox, measure, score.

:func:`grade_submission` is the whole of it for one submission; ``setup/grade.py``
calls it for each (one after another, ``--jobs N`` at once, or one per Slurm
task) and :mod:`report` turns the results into the gradebook.  The measured
figures come from :mod:`measure` (grader code, in the submission's sandbox
but with the grader's tree on the import path); ``setup/reproduce.py``
measures its rows' exports through :func:`measure_command` and
:func:`read_result` too, so a copy's own ``--check`` grades what the grader
would.
"""
import datetime
import json
import os
import re
import secrets
import shutil
import stat
import sys
import tarfile
import time
import zipfile

from assignments import partial
from sandbox import DEFAULT_LIMITS, Limits, Sandbox, parse_size

HERE = os.path.dirname(os.path.abspath(__file__))
GRADER_ROOT = os.path.dirname(os.path.dirname(HERE))
MEASURE = os.path.join(HERE, "measure.py")
CAPTURE = os.path.join(HERE, "capture.py")
#: not part of a copy of the tree: git, data, outputs, environments, caches
SKIP = {".git", "data", "runs", "checkpoints", "__pycache__", ".pytest_cache", ".whl", ".gl",
        ".ci"}
MAX_UNPACKED = 512 << 20  # bytes an archive may unpack to
MEASURE_WALL = 900        # seconds a measurement may take
RESULT = "result.json"


# ---------------------------------------------------------------- trees

def _skip(folder, names):
    return [n for n in names if n in SKIP or n.startswith(".venv") or n.endswith(".egg-info")
            or n.endswith(".pyc")]


def reference_copy(dest, root=GRADER_ROOT):
    """A clean copy of the reference tree (no .git, data, runs, virtualenvs)."""
    shutil.copytree(root, dest, ignore=_skip, symlinks=False)
    return dest


def submission_id(path, taken=()):
    base = os.path.basename(os.path.normpath(path))
    for ext in (".tar.gz", ".tgz", ".zip"):
        if base.endswith(ext):
            base = base[:-len(ext)]
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("._") or "submission"
    name, n = base, 2
    while name in taken:
        name, n = "%s-%d" % (base, n), n + 1
    return name


def _safe_members(names, dest):
    for name in names:
        target = os.path.realpath(os.path.join(dest, name))
        if not (target == os.path.realpath(dest) or target.startswith(
                os.path.realpath(dest) + os.sep)):
            raise ValueError("the archive writes outside its folder (%s)" % name)


def unpack(path, dest):
    """Unpack a .zip / .tar.gz into ``dest`` (no absolute paths, no ``..``, no links, at most
    MAX_UNPACKED bytes); returns the folder holding the tree (its single top folder)."""
    os.makedirs(dest)
    if path.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            _safe_members([i.filename for i in infos], dest)
            if sum(i.file_size for i in infos) > MAX_UNPACKED:
                raise ValueError("the archive unpacks to more than %d MB" % (MAX_UNPACKED >> 20))
            for info in infos:
                if stat.S_ISLNK(info.external_attr >> 16):
                    continue  # links are not unpacked
                z.extract(info, dest)
    else:
        with tarfile.open(path) as t:
            members = [m for m in t.getmembers() if m.isfile() or m.isdir()]
            _safe_members([m.name for m in members], dest)
            if sum(m.size for m in members) > MAX_UNPACKED:
                raise ValueError("the archive unpacks to more than %d MB" % (MAX_UNPACKED >> 20))
            for m in members:
                m.mode = (m.mode | 0o600) & 0o777
                t.extract(m, dest, set_attrs=False)
    entries = [e for e in os.listdir(dest) if not e.startswith(".") and e != "__MACOSX"]
    if len(entries) == 1 and os.path.isdir(os.path.join(dest, entries[0])):
        return os.path.join(dest, entries[0])
    return dest


def _files(root):
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not _skip(folder, [d])]
        for name in files:
            if not _skip(folder, [name]) and not os.path.islink(os.path.join(folder, name)):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(found)


def prepare_tree(source, tree, assignment, scratch):
    """Lay the submission ``source`` (folder or archive) out as a full tree in ``tree``.
    Returns (kind, notes, files handed in): kind 'copy' (a whole copy of the layout) or
    'files' (only the assignment's files, laid over a clean reference copy)."""
    notes = []
    if os.path.isdir(source):
        given = source
    elif source.endswith((".zip", ".tar.gz", ".tgz")):
        given = unpack(source, scratch)
    elif os.path.isfile(source):  # a single file handed in
        os.makedirs(scratch)
        shutil.copyfile(source, os.path.join(scratch, os.path.basename(source)))
        given = scratch
    else:
        raise ValueError("%s is neither a folder nor a .zip/.tar.gz" % source)
    if os.path.isfile(os.path.join(given, "tfcourse", "__init__.py")):
        # links stay links: read in the sandbox, with the submission's user's rights only
        shutil.copytree(given, tree, ignore=_skip, symlinks=True)
        return "copy", notes, [f for f in _files(tree)]
    reference_copy(tree)
    wanted = list(assignment.files)
    by_base = {}
    for path in wanted:
        by_base.setdefault(os.path.basename(path), []).append(path)
    handed = []
    for rel in _files(given):
        target = rel if rel in wanted else None
        if target is None and len(by_base.get(os.path.basename(rel), [])) == 1:
            target = by_base[os.path.basename(rel)][0]
        if target is None:
            notes.append("ignored %s (not a file of the assignment: %s)"
                         % (rel, ", ".join(wanted)))
            continue
        shutil.copyfile(os.path.join(given, rel), os.path.join(tree, target))
        handed.append(target)
    for path in wanted:
        if path not in handed:
            notes.append("%s not handed in: the reference's is used" % path)
    return "files", notes, handed


# ---------------------------------------------------------------- commands

def fill(args, data_root, run_dir):
    return [str(a).format(data=data_root, run=run_dir, device="cpu") for a in args]


def flag_value(argv, flag):
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else None


def script_command(spec, tree, outputs, data_root):
    """The command line of one script of the assignment inside the sandbox."""
    argv = fill(spec.args, data_root, outputs) + fill(spec.extra_args, data_root, outputs)
    if "json" in spec.outputs:
        argv += ["--json", os.path.join(outputs, spec.name + ".json")]
    if "checkpoint_dir" in spec.outputs:
        argv += ["--checkpoint_dir", os.path.join(outputs, "checkpoints", spec.name)]
    if "plot" in spec.outputs:
        argv += ["--plot", ""]
    script = os.path.join(tree, spec.path)
    if spec.capture:
        return [sys.executable, CAPTURE, "--out", os.path.join(outputs, "capture", spec.name),
                script] + argv
    return [sys.executable, script] + argv


def export_folder(spec, outputs, argv):
    """Where the script's SavedModel is: --export_dir, else CHECKPOINT_DIR/export."""
    named = flag_value(argv, "--export_dir")
    if named:
        return named
    return os.path.join(outputs, "checkpoints", spec.name, "export")


def measure_command(kind, export, data_dir, dataset=None, limit=0):
    """The grader's measurement of an export (classifier accuracy or PTB perplexity)."""
    argv = [sys.executable, MEASURE, kind, "--export", export, "--data_dir", data_dir]
    if kind == "classifier":
        argv += ["--dataset", dataset]
    if limit:
        argv += ["--limit", str(limit)]
    return argv


def classifier_data(item, argv, data_root):
    """(data set, folder) a classifier is evaluated on: the item's, else the script's."""
    from tfcourse import image_data

    data_dir = item.data_dir and fill([item.data_dir], data_root, "")[0]
    data_dir = data_dir or flag_value(argv, "--data_dir")
    dataset = item.dataset or flag_value(argv, "--dataset")
    if not dataset and data_dir and os.path.basename(os.path.normpath(data_dir)) \
            in image_data.DATASETS:
        dataset = os.path.basename(os.path.normpath(data_dir))
    dataset = dataset or "mnist"
    return dataset, data_dir or os.path.join(data_root, dataset)


def read_result(log_path, token):
    """The measurement's RESULT line (the last one with the grader's token), or None."""
    found = None
    try:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("RESULT %s " % token):
                    try:
                        found = json.loads(line[len("RESULT %s " % token):])
                    except ValueError:
                        pass
    except OSError:
        return None
    return found


# ---------------------------------------------------------------- one submission

class Options:
    """What every submission of one grading run shares."""

    def __init__(self, assignment, out_dir, data_root, limits=None, reference=None,
                 isolate_network=None, num_batches=10, num_warmup=2):
        self.assignment = assignment
        self.out_dir = os.path.abspath(out_dir)
        self.data_root = os.path.abspath(data_root)
        self.limits = limits or limits_of(assignment)
        self.reference = reference  # {script name: capture folder} of the reference tree
        self.isolate_network = (not assignment.network if isolate_network is None
                                else isolate_network)
        self.num_batches, self.num_warmup = num_batches, num_warmup


def limits_of(assignment):
    raw = assignment.limits
    return DEFAULT_LIMITS._replace(
        memory=parse_size(raw.get("memory", DEFAULT_LIMITS.memory)),
        threads=int(raw.get("threads", DEFAULT_LIMITS.threads)),
        output=parse_size(raw.get("output", DEFAULT_LIMITS.output)),
        file_size=parse_size(raw.get("file_size", DEFAULT_LIMITS.file_size)))


def check_sandbox(options, index=0):
    """Run the grader's own Python once in a sandbox before any submission: a machine where
    the sandbox cannot start it (a folder the submissions' user cannot enter) must stop the
    grading with that reason, not give every submission a crash."""
    box = Sandbox(os.path.join(options.out_dir, "sandbox-check-%d" % os.getpid()),
                  index=index,
                  data_dirs=[options.data_root], grader_root=GRADER_ROOT,
                  isolate_network=options.isolate_network)
    box.make_folders()
    try:
        run = box.run("python", [sys.executable, "-c", "import numpy, tfcourse"],
                      options.limits._replace(wall=120), pythonpath=GRADER_ROOT, cwd=box.home)
    finally:
        box.release()
    if run["verdict"] != "ok":
        last = next((line for line in reversed(run["tail"]) if line.strip()), run["reason"])
        raise RuntimeError("the sandbox cannot run %s (%s: %s); see %s" % (
            sys.executable, run["verdict"], last.strip(), run["log"]))
    shutil.rmtree(box.root, ignore_errors=True)


def capture_reference(options, index=0):
    """Run the reference tree's benchmark scripts through capture.py (once per grading run,
    in a sandbox of their own); returns {script name: capture folder}."""
    found = {}
    specs = [s for s in options.assignment.scripts if s.capture]
    if not specs:
        return found
    root = os.path.join(options.out_dir, "reference")
    box = Sandbox(root, index=index, data_dirs=[options.data_root], grader_root=GRADER_ROOT,
                  isolate_network=True)
    if not os.path.isdir(box.tree):
        os.makedirs(root, exist_ok=True)
        reference_copy(box.tree + ".tmp")
        os.rename(box.tree + ".tmp", box.tree)
    box.make_folders()
    for spec in specs:
        folder = os.path.join(box.outputs, "capture", spec.name)
        if not os.path.exists(os.path.join(folder, "fetches.json")):
            run = box.run("reference-" + spec.name,
                          script_command(spec, box.tree, box.outputs, options.data_root),
                          options.limits._replace(wall=spec.wall), pythonpath=box.tree)
            if run["verdict"] != "ok":
                raise RuntimeError("the reference tree's %s did not run (%s: %s); see %s"
                                   % (spec.path, run["verdict"], run["reason"], run["log"]))
        found[spec.name] = folder
    box.release()
    return found


def grade_submission(source, sid, index, options):
    """Grade one submission; writes and returns its result (also on a crash of any part)."""
    assignment = options.assignment
    folder = os.path.join(options.out_dir, "submissions", sid)
    if os.path.exists(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    started = time.time()
    box = Sandbox(os.path.join(folder, "sandbox"), index=index, data_dirs=[options.data_root],
                  grader_root=GRADER_ROOT, isolate_network=options.isolate_network)
    res = {"id": sid, "source": os.path.abspath(source), "assignment": assignment.name,
           "tier": assignment.tier, "started": _now(), "scripts": {}, "items": [],
           "notes": [], "limits": dict(options.limits._asdict()), "index": index}
    try:
        os.makedirs(box.root)
        kind, notes, handed = prepare_tree(source, box.tree, assignment,
                                           os.path.join(folder, "unpacked"))
        res.update(kind=kind, handed_in=handed)
        res["notes"] += notes
    except (OSError, ValueError, zipfile.BadZipFile, tarfile.TarError) as exc:
        res.update(kind="unreadable", handed_in=[])
        res["notes"].append("the submission cannot be read: %s" % exc)
        res.update(_score(res, assignment))
        return _finish(res, folder, started)
    box.make_folders()
    probe = box.run("import-check", [sys.executable, "-c",
                                     "import tfcourse; print(tfcourse.__file__)"],
                    options.limits._replace(wall=120), pythonpath=box.tree)
    res["tfcourse_from"] = (probe["tail"][-1] if probe["verdict"] == "ok" and probe["tail"]
                            else "not importable (%s)" % probe["reason"])
    res["isolation"] = dict(box.isolation)
    commands = {}
    for spec in assignment.scripts:
        argv = script_command(spec, box.tree, box.outputs, options.data_root)
        commands[spec.name] = argv
        run = box.run(spec.name, argv, options.limits._replace(wall=spec.wall),
                      pythonpath=box.tree)
        run["what"] = spec.path
        res["scripts"][spec.name] = run
    res["isolation"] = dict(box.isolation) or res.get("isolation", {})
    for name, graphs in (options.reference or {}).items():
        # the reference's graphs, copied where the submission's measurements can read them
        shutil.copytree(graphs, os.path.join(box.outputs, "reference", name))
    box.give_away()
    measured = {}
    for item in assignment.items:
        res["items"].append(_item(item, res["scripts"][item.script], commands[item.script],
                                  box, options, measured))
    res["leaks"] = box.leaks()
    box.release()
    res.update(_score(res, assignment))
    return _finish(res, folder, started)


def _finish(res, folder, started):
    res["seconds"] = round(time.time() - started, 1)
    res["finished"] = _now()
    from tfcourse import cli

    cli.write_json(os.path.join(folder, RESULT), res)
    return res


def _now():
    return datetime.datetime.now().isoformat(timespec="seconds")


def _measure(box, options, name, argv, measured):
    """Run one of the grader's measurements in the sandbox (once per name)."""
    if name in measured:
        return measured[name]
    token = secrets.token_hex(8)
    run = box.run("measure-" + name, argv, options.limits._replace(wall=MEASURE_WALL),
                  pythonpath=GRADER_ROOT, cwd=box.outputs, env={"GRADE_TOKEN": token})
    value = read_result(run["log"], token) if run["verdict"] == "ok" else None
    measured[name] = (value, run)
    return measured[name]


def _why(run):
    last = [line for line in run["tail"] if not line.startswith("$ ")]
    return last[-1][:300] if last else run["reason"]


def _item(item, script_run, argv, box, options, measured):
    row = {"label": item.label, "measure": item.measure, "script": item.script,
           "max_points": item.points, "points": 0.0, "value": None, "shown": "—",
           "target": item.target, "floor": item.floor}
    if item.measure == "self_reported":
        record = _own_json(argv)
        value = _lookup(record, item.key) if record else None
        row.update(value=value, shown=_show(value), verdict="self-reported",
                   reason="the script's own %s; %s" % (
                       item.key, "trusted by the assignment" if item.trust
                       else "not measured by the grader, no points"))
        if item.trust and value is not None and item.target is not None:
            row["points"] = round(item.points * partial(value, item.floor, item.target,
                                                        item.better), 2)
        return row
    if script_run["verdict"] != "ok":
        row.update(verdict=script_run["verdict"], reason="%s: %s" % (
            script_run["reason"], _why(script_run)))
        return row
    spec = next(s for s in options.assignment.scripts if s.name == item.script)
    if item.measure in ("classifier", "perplexity"):
        export = export_folder(spec, box.outputs, argv)
        if item.measure == "classifier":
            dataset, data_dir = classifier_data(item, argv, options.data_root)
        else:
            dataset, data_dir = None, (fill([item.data_dir], options.data_root, "")[0]
                                       if item.data_dir else flag_value(argv, "--data_dir"))
        if not _has_saved_model(export):
            row.update(verdict="missing", reason="no SavedModel: the script exported none "
                       "under %s (it must, tfcourse/serving.py)" % os.path.relpath(
                           export, box.root))
            return row
        value, run = _measure(box, options, "%s-%s" % (item.script, item.measure),
                              measure_command(item.measure, export, data_dir, dataset,
                                              item.limit), measured)
        if value is None:
            row.update(verdict="missing" if run["verdict"] == "crashed" else run["verdict"],
                       reason="the grader's evaluation of the SavedModel failed: %s"
                       % _why(run))
            return row
        row.update(value=value["value"], what=value["what"])
        self_said = _lookup(_own_json(argv) or {}, item.key)
        if self_said is not None:
            row["self_reported"] = self_said
        return _points(row, item)
    # the captured graphs: timing, network, ratio
    if not options.reference or item.script not in options.reference:
        row.update(verdict="missing", reason="no reference graph to compare with")
        return row
    value, run = _measure(box, options, "%s-timing" % item.script,
                          [sys.executable, MEASURE, "timing", "--graph",
                           os.path.join(box.outputs, "capture", item.script), "--reference",
                           os.path.join(box.outputs, "reference", item.script), "--num_batches",
                           str(options.num_batches), "--num_warmup", str(options.num_warmup)],
                          measured)
    if value is None:
        row.update(verdict="missing" if run["verdict"] == "crashed" else run["verdict"],
                   reason="the grader could not time the captured graph: %s" % _why(run))
        return row
    sub, ref = value["submission"], value["reference"]
    if not sub:
        row.update(verdict="missing", reason="the script ran no graph with a convolution or a "
                   "matrix product: nothing to time")
        return row
    checks = network_differences(sub, ref, item.rel)
    if checks and item.measure != "network":
        row.update(verdict="below", reason="not the expected network (%s): its times "
                   "count for nothing" % "; ".join(checks))
        return row
    if item.measure == "network":
        ok = not checks
        row.update(value=sub.get("forward", {}).get("parameters"),
                   shown="%s parameters, %s FLOPs a forward batch" % (
                       _count(sub.get("forward", {}).get("parameters")),
                       _count(sub.get("forward", {}).get("flops"))),
                   verdict="match" if ok else "below", points=item.points if ok else 0.0,
                   reason="the expected network (the reference's, within %g %%)"
                   % (100 * item.rel) if ok else "; ".join(checks))
        return row
    if item.measure == "ratio":
        if "forward" not in sub or "forward_backward" not in sub:
            row.update(verdict="missing", reason="the script did not run both passes")
            return row
        ratio = sub["forward_backward"]["mean_sec_per_batch"] / sub["forward"][
            "mean_sec_per_batch"]
        lo, hi = item.target
        ok = lo <= ratio <= hi
        row.update(value=ratio, shown="%.2f" % ratio, verdict="match" if ok else "below",
                   points=item.points if ok else 0.0,
                   reason="forward-backward / forward in [%g, %g], timed by the grader"
                   % (lo, hi))
        return row
    # timing: the submission's seconds per batch over the reference's, timed together
    if item.pass_ not in sub or item.pass_ not in ref:
        row.update(verdict="missing", reason="the script did not run a %s pass"
                   % item.pass_.replace("_", "-"))
        return row
    mine, theirs = sub[item.pass_]["mean_sec_per_batch"], ref[item.pass_]["mean_sec_per_batch"]
    row.update(value=mine / theirs, what="%.4f s a batch against the reference's %.4f s "
               "(%d batches each, interleaved, timed by the grader)" % (
                   mine, theirs, value["num_batches"]))
    return _points(row, item)


def network_differences(sub, ref, rel):
    """How the submission's captured passes differ from the reference's in parameters and
    FLOPs (beyond ``rel``); [] when they are the same network."""
    checks = []
    for kind in ("forward", "forward_backward"):
        if kind not in ref:
            continue
        if kind not in sub:
            checks.append("no %s pass was run" % kind.replace("_", "-"))
            continue
        for what in ("parameters", "flops"):
            a, b = sub[kind][what], ref[kind][what]
            if a is None or b is None or abs(a - b) > rel * b:
                checks.append("%s %s: %s, the reference's %s" % (
                    kind.replace("_", "-"), what, _count(a), _count(b)))
    return checks


def _points(row, item):
    share = partial(row["value"], item.floor, item.target, item.better)
    row["points"] = round(item.points * share, 2)
    row["shown"] = _show(row["value"], item.measure)
    row["verdict"] = "match" if share >= 1 else "partial" if share > 0 else "below"
    sign = ">=" if item.better == "higher" else "<="
    row["reason"] = "full points %s %s, none %s %s%s" % (
        sign, _show(item.target, item.measure), "<=" if item.better == "higher" else ">=",
        _show(item.floor, item.measure), "; measured by the grader" if row.get("what") is None
        else "; " + row["what"])
    return row


def _has_saved_model(export):
    try:
        return any(name.isdigit() and os.path.isfile(os.path.join(export, name,
                                                                  "saved_model.pb"))
                   for name in os.listdir(export))
    except OSError:
        return False


def read_untrusted(path, limit=16 << 20):
    """The text of a file a submission wrote, read only if it is a regular file (no link, no
    pipe, no device) of at most ``limit`` bytes; None otherwise."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as f:
            return f.read(limit).decode("utf-8", "replace")
    except (OSError, TypeError):
        return None


def _own_json(argv):
    text = read_untrusted(flag_value(argv, "--json"))
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _lookup(record, key):
    value = record
    for part in (key or "").split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, (int, float)) else None


def _count(n):
    if n is None:
        return "?"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return "%.3g%s" % (n / size, unit)
    return str(n)


def _show(value, measure=None):
    if value is None:
        return "—"
    if measure == "classifier":
        return "%.2f %%" % (100 * value)
    if measure == "timing":
        return "%.2fx the reference" % value
    if isinstance(value, float):
        return "%.4g" % value
    return str(value)


def _score(res, assignment):
    total = round(sum(i["points"] for i in res["items"]), 2)
    possible = sum(i.points for i in assignment.items)
    bad = [r["verdict"] for r in res["scripts"].values() if r["verdict"] != "ok"]
    if res.get("kind") == "unreadable":
        verdict = "unreadable"
    else:
        verdict = bad[0] if bad else "graded"
    return {"total": total, "max_total": possible, "verdict": verdict}


def load_result(out_dir, sid):
    try:
        with open(os.path.join(out_dir, "submissions", sid, RESULT), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


__all__ = ["Limits", "Options", "grade_submission", "capture_reference", "load_result",
           "measure_command", "read_result", "reference_copy", "submission_id"]
