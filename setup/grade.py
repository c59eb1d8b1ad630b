"""Grade a class: every submission run in its own sandbox, its figures measured by the grader.

    python setup/grade.py submissions/* --assignment mnist_cnn
    python setup/grade.py alice.zip bob.tar.gz carol/ --assignment alexnet_timing --jobs 2
    python setup/grade.py submissions/* --assignment mnist_cnn --resume runs/grade-mnist_cnn-<stamp>
    python setup/grade.py submissions/* --assignment ptb_small --slurm     # a job array
    python setup/grade.py --merge runs/grade-ptb_small-<stamp>             # its gradebook

A submission is a folder, ``.zip`` or ``.tar.gz`` holding a copy of this
layout, or only the files the assignment asks for (they are laid over a
clean copy of this tree).  The assignment (``setup/assignments/NAME.toml``,
described in ``setup/grading/assignments.py``) names the scripts to run,
their settings per tier and the items that earn points.  Each submission
runs its own code only, in its own folder, as a user of its own, without
network, under limits of time, memory, threads and output
(``setup/grading/sandbox.py``); a figure is what the grader measured (the
exported SavedModel evaluated on the grader's test data, the captured graph
timed by the grader), never what the submission's files say.

Writes into ``--out_dir`` (default ``runs/grade-<assignment>-<timestamp>/``):
``gradebook.csv``, ``overview.md`` / ``overview.html`` / ``scores.png``,
``similar.json`` and ``submissions/<id>/REPORT.md`` with the logs.  The batch
always goes on past a submission that hangs, crashes or runs out of memory;
``--resume OUT`` skips the submissions already graded there.
"""
import argparse
import concurrent.futures
import datetime
import fcntl
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for path in (os.path.join(HERE, "grading"), HERE, ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

from tfcourse import cli, default_data_dir  # noqa: E402  (after the path set-up)
import assignments  # noqa: E402
import grader  # noqa: E402
import report  # noqa: E402
import similarity  # noqa: E402
import slurm  # noqa: E402

PLAN = "plan.json"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[2:8]))
    parser.add_argument("submissions", nargs="*", metavar="SUBMISSION",
                        help="folders, .zip or .tar.gz files, one per student")
    parser.add_argument("--assignment", help="a name under setup/assignments/ (%s) or a "
                        ".toml path" % ", ".join(assignments.available()))
    parser.add_argument("--tier", choices=assignments.TIERS, default=None,
                        help="quick or report settings (default: the assignment's)")
    parser.add_argument("--out_dir", default=None, metavar="DIR",
                        help="where the gradebook and reports go (default: "
                             "runs/grade-<assignment>-<timestamp>)")
    parser.add_argument("--data_dir", default=default_data_dir(),
                        help="the grader's data (read-only to submissions) (default: "
                             "%(default)s)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="submissions graded at once on this machine (default 1)")
    parser.add_argument("--resume", metavar="DIR", default=None,
                        help="go on with the grading in DIR: graded submissions are skipped")
    parser.add_argument("--similarity", type=cli.finite_float, default=similarity.THRESHOLD,
                        help="share of shared fingerprints from which a pair is listed "
                             "(default %(default)s)")
    parser.add_argument("--num_batches", type=int, default=10,
                        help="batches the grader times of each captured graph (default 10)")
    parser.add_argument("--num_warmup", type=int, default=2,
                        help="untimed batches before (default 2)")
    parser.add_argument("--slurm", action="store_true",
                        help="write a Slurm job array (one task per submission) and its merge "
                             "job into --out_dir instead of grading here")
    parser.add_argument("--task", type=int, default=None, metavar="I",
                        help="grade submission I of the plan in --out_dir (a Slurm task)")
    parser.add_argument("--merge", metavar="DIR", default=None,
                        help="build the gradebook of DIR from its graded submissions")
    args = parser.parse_args(argv)
    for flag in ("jobs", "num_batches"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if args.num_warmup < 0:
        raise cli.UserError("--num_warmup must be 0 or more, got %d" % args.num_warmup)
    return args


def _assignment(name, tier):
    if not name:
        raise cli.UserError("--assignment is required (one of %s)"
                            % ", ".join(assignments.available()))
    try:
        return assignments.load(name, tier)
    except assignments.AssignmentError as exc:
        raise cli.UserError(str(exc))


def make_plan(args):
    """A new grading folder and its plan (the submissions, their ids, the settings)."""
    assignment = _assignment(args.assignment, args.tier)
    if not args.submissions:
        raise cli.UserError("no SUBMISSION given; pass folders, .zip or .tar.gz files")
    missing = [s for s in args.submissions if not os.path.exists(s)]
    if missing:
        raise cli.UserError("no such submission: %s" % ", ".join(missing))
    out = args.out_dir or os.path.join(ROOT, "runs", "grade-%s-%s" % (
        assignment.name, datetime.datetime.now().strftime("%Y%m%d-%H%M%S")))
    out = os.path.abspath(out)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise cli.UserError("cannot create %s (%s); pass another --out_dir"
                            % (out, exc.strerror))
    ids = []
    subs = []
    for i, source in enumerate(args.submissions):
        sid = grader.submission_id(source, ids)
        ids.append(sid)
        subs.append({"id": sid, "source": os.path.abspath(source), "index": i + 1})
    plan = {"assignment": assignment.path, "tier": assignment.tier,
            "data_dir": os.path.abspath(args.data_dir), "submissions": subs,
            "similarity": args.similarity, "num_batches": args.num_batches,
            "num_warmup": args.num_warmup, "created": datetime.datetime.now().isoformat(
                timespec="seconds")}
    cli.write_json(os.path.join(out, PLAN), plan)
    return out, plan


def load_plan(out):
    try:
        with open(os.path.join(out, PLAN), encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise cli.UserError("%s has no %s: it is not a folder of setup/grade.py" % (out, PLAN))
    except ValueError as exc:
        raise cli.UserError("%s/%s is unreadable (%s)" % (out, PLAN, exc))


def options_of(out, plan):
    assignment = _assignment(plan["assignment"], plan["tier"])
    return grader.Options(assignment, out, plan["data_dir"], num_batches=plan["num_batches"],
                          num_warmup=plan["num_warmup"])


def fetch_data(assignment, data_dir):
    """The data sets the assignment's rows read, fetched as reproduce fetches them."""
    import reproduce
    from scripts_table import by_name

    rows = [by_name()[s.row] for s in assignment.scripts if s.row]
    unavailable = reproduce.fetch_data(rows, assignment.tier, data_dir)
    if unavailable:
        raise cli.UserError("the grader's data cannot be fetched: %s" % "; ".join(
            "%s (%s)" % kv for kv in unavailable.items()))


def reference_graphs(options):
    """The reference tree's captured graphs (once per folder; a lock for Slurm tasks)."""
    if not any(s.capture for s in options.assignment.scripts):
        return None
    with open(os.path.join(options.out_dir, ".reference.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return grader.capture_reference(options)
        except RuntimeError as exc:
            raise cli.UserError(str(exc))


def grade_all(out, plan, jobs, resume):
    options = options_of(out, plan)
    fetch_data(options.assignment, options.data_root)
    try:
        grader.check_sandbox(options)
    except RuntimeError as exc:
        raise cli.UserError("%s; every folder on the way to the grader's Python and data must "
                            "be open to other users (chmod o+x), or run the grader as a user "
                            "that is not root" % exc)
    options.reference = reference_graphs(options)
    todo = []
    for sub in plan["submissions"]:
        done = grader.load_result(out, sub["id"]) if resume else None
        if done and done.get("finished"):
            print("grade: %s graded in an earlier sitting (%g / %g)"
                  % (sub["id"], done["total"], done["max_total"]), flush=True)
            continue
        todo.append(sub)
    progress = cli.Progress(total=len(todo), unit="submissions")

    def one(sub):
        print("grade: %s (%s)" % (sub["id"], sub["source"]), flush=True)
        try:
            res = grader.grade_submission(sub["source"], sub["id"], sub["index"], options)
        except Exception as exc:  # noqa: BLE001 -- one broken submission never ends the batch
            print("grade: %s: the grader failed on it (%s: %s)" % (
                sub["id"], type(exc).__name__, exc), file=sys.stderr, flush=True)
            return None
        print("grade: %s: %s, %g / %g points, %s" % (
            sub["id"], res["verdict"], res["total"], res["max_total"],
            report._duration(res["seconds"])), flush=True)
        return res

    finished = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for _ in pool.map(one, todo):
            finished += 1
            print("grade: %d/%d done, %s" % (finished, len(todo), progress.summary(finished)),
                  flush=True)
    return options


def merge(out, plan, options=None, wall_seconds=None):
    """gradebook.csv, REPORT.md of each submission, the similar pairs and the overview."""
    options = options or options_of(out, plan)
    assignment = options.assignment
    machine = report.machine()
    results, missing = [], []
    for sub in plan["submissions"]:
        res = grader.load_result(out, sub["id"])
        if res is None:
            missing.append(sub["id"])
            continue
        results.append(res)
        cli.write_text(os.path.join(out, "submissions", sub["id"], "REPORT.md"),
                       report.submission_report(res, assignment, machine))
    book = report.write_gradebook(os.path.join(out, "gradebook.csv"), results, assignment)
    files = sorted(set(assignment.files) | {s.path for s in assignment.scripts})
    ref = similarity.reference_prints(grader.GRADER_ROOT, files)
    prints = {r["id"]: similarity.submission_prints(
        os.path.join(out, "submissions", r["id"], "sandbox", "tree"), files, ref)
        for r in results}
    similar = similarity.similar_pairs(prints, plan.get("similarity", similarity.THRESHOLD))
    cli.write_json(os.path.join(out, "similar.json"), similar)
    if wall_seconds is None:
        wall_seconds = sum(r.get("seconds", 0) for r in results)
    limits = options.limits
    md = report.overview(out, results, assignment, machine, similar, wall_seconds,
                         "limits per command: memory %.1f GiB, %d threads, output %d MB; "
                         "wall time per script: %s" % (
                             limits.memory / 2 ** 30, limits.threads, limits.output >> 20,
                             ", ".join("%s %d s" % (s.name, s.wall)
                                       for s in assignment.scripts)))
    if missing:
        print("grade: not graded (yet): %s" % ", ".join(missing), file=sys.stderr)
    cli.wrote(book)
    cli.wrote(md)
    return results


def main(argv=None):
    args = parse_args(argv)
    if args.merge:
        out = os.path.abspath(args.merge)
        merge(out, load_plan(out))
        return 0
    if args.task is not None:
        if not args.out_dir:
            raise cli.UserError("--task needs --out_dir DIR (the folder --slurm wrote)")
        out = os.path.abspath(args.out_dir)
        plan = load_plan(out)
        if not 0 <= args.task < len(plan["submissions"]):
            raise cli.UserError("--task %d: the plan has submissions 0 to %d"
                                % (args.task, len(plan["submissions"]) - 1))
        one = dict(plan, submissions=[plan["submissions"][args.task]])
        grade_all(out, one, 1, resume=True)
        return 0
    if args.resume:
        out = os.path.abspath(args.resume)
        plan = load_plan(out)
    else:
        out, plan = make_plan(args)
    if args.slurm:
        for path in slurm.write_scripts(out, plan, python=sys.executable,
                                        grade=os.path.abspath(__file__)):
            cli.wrote(path)
        return 0
    start = time.time()
    print("grade: %d submissions into %s" % (len(plan["submissions"]), out), flush=True)
    options = grade_all(out, plan, args.jobs, resume=bool(args.resume))
    merge(out, plan, options, wall_seconds=time.time() - start)
    return 0


if __name__ == "__main__":
    cli.run(main)
