"""A Slurm job array for a class: one task per submission, then one merge job.

``setup/grade.py ... --slurm`` writes, into the grading folder:

* ``slurm/grade.sbatch``: the array (``--array=0-<N-1>``); task I runs
  ``setup/grade.py --out_dir DIR --task I``, the same sandbox and measurements as
  a run on one machine, its result in ``submissions/<id>/result.json``;
* ``slurm/merge.sbatch``: ``setup/grade.py --merge DIR`` builds the gradebook,
  the reports and the overview from the tasks' results;
* ``slurm/submit.sh``: submits the array, then the merge with
  ``--dependency=afterany`` on it (the merge runs also when tasks failed:
  those submissions are listed as not graded).

The grading folder must be on a file system every node sees.  Each task
grades as root where ``sbatch`` runs it so (``--uid``), else with what an
ordinary user can have (see the reports' isolation lines).
"""
import os
import shlex

from tfcourse import cli


def _header(name, out, extra):
    return ["#!/bin/bash",
            "#SBATCH --job-name=%s" % name,
            "#SBATCH --output=%s" % os.path.join(out, "slurm", "%s-%%A_%%a.log" % name)] + [
        "#SBATCH %s" % line for line in extra] + ["set -euo pipefail"]


def write_scripts(out, plan, python, grade, cpus=2, memory_gb=8, hours=4):
    """Write the three files; returns their paths."""
    folder = os.path.join(out, "slurm")
    os.makedirs(folder, exist_ok=True)
    n = len(plan["submissions"])
    q = shlex.quote
    array = _header("grade", out, ["--array=0-%d" % (n - 1), "--cpus-per-task=%d" % cpus,
                                   "--mem=%dG" % memory_gb, "--time=%d:00:00" % hours])
    array += ["cd %s" % q(os.path.dirname(os.path.dirname(grade))),
              "%s %s --out_dir %s --task \"$SLURM_ARRAY_TASK_ID\""
              % (q(python), q(grade), q(out))]
    merge = _header("grade-merge", out, ["--cpus-per-task=1", "--mem=2G", "--time=0:30:00"])
    merge += ["cd %s" % q(os.path.dirname(os.path.dirname(grade))),
              "%s %s --merge %s" % (q(python), q(grade), q(out))]
    submit = ["#!/bin/bash", "# submits the array, then the merge once every task has ended",
              "set -euo pipefail",
              "jobid=$(sbatch --parsable %s)" % q(os.path.join(folder, "grade.sbatch")),
              "sbatch --dependency=afterany:\"${jobid%%;*}\" %s"
              % q(os.path.join(folder, "merge.sbatch")),
              "echo \"submitted the array $jobid and its merge\""]
    paths = []
    for name, lines in (("grade.sbatch", array), ("merge.sbatch", merge),
                        ("submit.sh", submit)):
        path = cli.write_text(os.path.join(folder, name), "\n".join(lines) + "\n")
        os.chmod(path, 0o755)
        paths.append(path)
    return paths


def directives(path):
    """{option: value} of the #SBATCH lines of a batch script (what sbatch reads)."""
    found = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#SBATCH "):
                if line.strip() and not line.startswith("#"):
                    break  # sbatch stops reading directives at the first command
                continue
            option = line[len("#SBATCH "):].strip()
            key, _, value = option.partition("=")
            found[key] = value
    return found
