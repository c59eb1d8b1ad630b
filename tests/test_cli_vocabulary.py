"""One command-line vocabulary in every script of the repository (also the next one).

Every ``*/*.py`` and ``apps/*/*.py`` with ``if __name__ == '__main__'`` is run
once, in one subprocess, up to its ``parse_args``: the argparse parser is
captured there (nothing trains).  Then:

* no banned flag names (``--data_path``, ``--save_path``, ``--result``,
  ``--figure``, ``--out``, ``--summary_dir``) and no dashed spellings such as
  ``--data-dir`` (except the aliases listed in ALIASES);
* every float flag is ``cli.finite_float``: ``nan`` is rejected with exit 2
  and one ``error:`` line;
* output flags default under ``runs/`` (or to nothing), never in the committed
  ``results/`` or ``images/``; every path default is absolute (anchored at the
  repository root, not the working directory).
"""
import glob
import json
import os
import subprocess
import sys

import pytest

from tfcourse import REPO_ROOT

BANNED = {"--data_path", "--save_path", "--result", "--figure", "--out", "--summary_dir"}
#: one name for each idea: the old names, accepted only as hidden aliases (not in --help) where
#: a recorded command used them (cli.add_alias)
OLD_NAMES = {"--print_every": "--log_every", "--checkpoint_every": "--save_every",
             "--num_epochs": "--epochs", "--max_max_epoch": "--epochs",
             "--dropout_keep_prob": "--keep_prob", "--evaluate_every": "--eval_every",
             "--warmup": "--num_warmup", "--max_steps": "--steps", "--resume": "--restore"}
#: --resume RUN_DIR of the batch commands (reproduce, grade) goes on with a run folder where
#: an earlier sitting stopped; a script's checkpoint is always continued with --restore
BATCH_RESUME = {"setup/reproduce.py", "setup/grade.py"}
#: dashed or old spellings kept as aliases, and why
ALIASES = {
    ("setup/get_data.py", "--data-dir"): "the documented spelling before --data_dir",
}
#: flags whose value is a file or folder the script writes
OUTPUT_FLAGS = {"--json", "--plot", "--output", "--csv", "--images_dir", "--checkpoint_dir",
                "--log_dir", "--export_dir", "--out_dir"}


def scripts():
    found = []
    for path in sorted(glob.glob(os.path.join(REPO_ROOT, "*", "*.py"))
                       + glob.glob(os.path.join(REPO_ROOT, "apps", "*", "*.py"))):
        rel = os.path.relpath(path, REPO_ROOT)
        if rel.split(os.sep)[0] in ("tests", "tfcourse", "runs", "data"):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if "if __name__ == '__main__'" in text or 'if __name__ == "__main__"' in text:
            found.append(rel)
    return found


# Runs every script up to its parse_args in this one process and prints, per script, its
# flags (option strings, type, default, help) and what `FLAG nan` does to each float flag.
PROBE = r'''
import argparse, contextlib, io, json, os, runpy, sys
from tfcourse import cli

class Captured(Exception):
    pass

original = argparse.ArgumentParser.parse_known_args
report = {}

def capture(self, args=None, namespace=None):
    raise Captured(self)

argparse.ArgumentParser.parse_known_args = capture
for rel in json.loads(sys.argv[1]):
    path = os.path.join(os.getcwd(), rel)
    folder = os.path.dirname(path)
    sys.path[0] = folder  # as `python SCRIPT` does: the script's folder first
    before = set(sys.modules)
    sys.argv = [path]
    entry = report[rel] = {"flags": [], "nan": {}}
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(path, run_name="__main__")
        entry["error"] = "parse_args was never called"
    except Captured as exc:
        parser = exc.args[0]
    except BaseException as exc:
        entry["error"] = "%s: %s" % (type(exc).__name__, exc)
        continue
    finally:
        for name in set(sys.modules) - before:  # train.py of one folder is not the other's
            if getattr(sys.modules[name], "__file__", "") and \
                    os.path.dirname(os.path.abspath(sys.modules[name].__file__)) == folder:
                del sys.modules[name]
    if "error" in entry:
        continue
    for action in parser._actions:
        if not action.option_strings:
            continue
        default = action.default
        entry["flags"].append({
            "options": action.option_strings, "dest": action.dest,
            "float": action.type is float or isinstance(default, float),
            "finite_float": action.type is cli.finite_float,
            "default": (default if isinstance(default, (str, int, float, type(None)))
                        else repr(default)),
            "help": action.help or ""})
        if action.type is cli.finite_float or action.type is float:
            err = io.StringIO()
            try:
                with contextlib.redirect_stderr(err):
                    original(parser, [action.option_strings[0], "nan"])
                code = 0
            except SystemExit as stop:
                code = stop.code
            entry["nan"][action.option_strings[0]] = [code, err.getvalue()]
print("REPORT " + json.dumps(report))
'''


@pytest.fixture(scope="module")
def report():
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(scripts())], cwd=REPO_ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, env=env, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("REPORT "):])


def test_every_script_is_found_and_parses(report):
    assert {"mnist_cnn/train.py", "lstm_ptb/train.py", "apps/text_classification/train.py",
            "apps/motion_detection/detect.py", "setup/get_data.py"} <= set(report)
    assert "lstm_ptb/reader.py" not in report  # helper modules have no __main__
    errors = {rel: entry["error"] for rel, entry in report.items() if "error" in entry}
    assert errors == {}


def test_no_banned_or_dashed_flag_names(report):
    bad = []
    for rel, entry in report.items():
        for flag in entry["flags"]:
            for option in flag["options"]:
                if option in ("-h", "--help") or (rel, option) in ALIASES:
                    continue
                if option in BANNED or "-" in option[2:] or not option.startswith("--"):
                    bad.append("%s %s" % (rel, option))
    assert bad == []


def test_one_name_for_each_idea(report):
    """The old names of a flag are hidden aliases (SUPPRESSed in --help) of the one name."""
    shown, hidden = [], []
    for rel, entry in report.items():
        options = {o for flag in entry["flags"] for o in flag["options"]}
        for flag in entry["flags"]:
            for option in flag["options"]:
                if option not in OLD_NAMES or (option == "--resume" and rel in BATCH_RESUME):
                    continue
                if flag["help"] != "==SUPPRESS==":
                    shown.append("%s %s (call it %s)" % (rel, option, OLD_NAMES[option]))
                else:
                    hidden.append(rel)
                    assert OLD_NAMES[option] in options, (rel, option)
    assert shown == []
    assert len(hidden) >= 4  # text classification, PTB and the motion apps keep theirs
    for rel in BATCH_RESUME & set(report):
        options = {o for flag in report[rel]["flags"] for o in flag["options"]}
        assert "--checkpoint_dir" not in options, rel


def test_float_flags_reject_nan_with_one_line_and_exit_2(report):
    checked = 0
    for rel, entry in report.items():
        for flag in entry["flags"]:
            if flag["float"]:
                assert flag["finite_float"], "%s %s is not cli.finite_float" % (rel,
                                                                               flag["options"])
        for option, (code, stderr) in entry["nan"].items():
            checked += 1
            errors = [line for line in stderr.splitlines() if "error:" in line]
            assert code == 2 and len(errors) == 1, (rel, option, stderr)
            assert "'nan' is not a finite number" in errors[0], (rel, option, stderr)
    assert checked >= 10  # learning rates, keep probabilities, thresholds ...


def test_output_defaults_are_under_runs(report):
    runs = os.path.join(REPO_ROOT, "runs") + os.sep
    committed = [os.path.join(REPO_ROOT, d) + os.sep for d in ("results", "images")]
    for rel, entry in report.items():
        for flag in entry["flags"]:
            default = flag["default"]
            if isinstance(default, str) and os.sep in default:
                assert os.path.isabs(default), (rel, flag["options"], default)
            if set(flag["options"]) & OUTPUT_FLAGS:
                if default in (None, ""):
                    continue  # written only when asked, or computed after parsing (runs/NAME_X/)
                assert default.startswith(runs), (rel, flag["options"], default)
                assert not any(default.startswith(c) for c in committed), (rel, default)


def test_export_flag_is_one_and_the_same(report):
    """--export_dir (tfcourse/serving.py add_export_flag): one flag, one default, one help in
    every train script that exports a SavedModel for TF Serving and the grader."""
    having = {rel: flag for rel, entry in report.items() for flag in entry["flags"]
              if "--export_dir" in flag["options"]}
    assert {"mnist_cnn/train.py", "lstm_ptb/train.py", "apps/text_classification/train.py",
            "apps/captcha/train.py", "apps/chinese_characters/train.py"} <= set(having)
    assert len({(flag["default"], flag["help"]) for flag in having.values()}) == 1


def test_every_script_is_in_the_reproduce_table():
    """A new script joins setup/reproduce.py's table (setup/scripts_table.py) the day it lands,
    and with it the static GPU check, or says there why it is not a row of its own."""
    from scripts_table import OTHER_SCRIPTS, SCRIPTS

    listed = {s.path for s in SCRIPTS} | set(OTHER_SCRIPTS)
    missing = sorted(set(scripts()) - listed)
    assert not missing, ("add these to setup/scripts_table.py (SCRIPTS, or OTHER_SCRIPTS with "
                         "the reason): %s" % ", ".join(missing))
    assert not listed - set(scripts()), "listed but not found: %s" % (listed - set(scripts()))


# ---------------------------------------------------------------- --checkpoint_dir ''
def test_empty_checkpoint_dir_keeps_nothing(tmp_path, monkeypatch):
    """'' skips an output: a folder flag given as '' becomes a temporary folder, removed
    at exit, for the scripts that need one to run; with --restore it is one line."""
    import argparse

    from tfcourse import cli

    args = argparse.Namespace(checkpoint_dir='', json='', restore=False)
    cli.check_outputs(args, '--json', folders=('--checkpoint_dir',))
    assert os.path.isdir(args.checkpoint_dir) and 'tfcourse-checkpoint_dir-' in args.checkpoint_dir
    assert cli.kept_folder(args.checkpoint_dir) is None  # a record names no folder that is gone
    assert cli.kept_folder(str(tmp_path)) == str(tmp_path)
    kept = argparse.Namespace(checkpoint_dir='', restore=False)
    cli.check_outputs(kept, folders=('--checkpoint_dir',), skip_empty_folders=True)
    assert kept.checkpoint_dir == ''
    with pytest.raises(cli.UserError, match="--restore needs a --checkpoint_dir"):
        cli.check_outputs(argparse.Namespace(checkpoint_dir='', restore=True),
                          folders=('--checkpoint_dir',))
    code = ('import argparse, sys; from tfcourse import cli\n'
            'a = argparse.Namespace(checkpoint_dir="", restore=False)\n'
            'cli.check_outputs(a, folders=("--checkpoint_dir",)); print(a.checkpoint_dir)\n'
            'open(a.checkpoint_dir + "/model.ckpt", "w").write("x")\n')
    made = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert made and not os.path.exists(made)  # removed at exit


def test_mnist_cnn_with_empty_checkpoint_dir(run_script, fetch, tmp_path):
    out = tmp_path / 'r.json'
    run_script('mnist_cnn/train.py', '--data_dir', fetch('mnist5k'), '--steps', '3',
               '--checkpoint_dir', '', '--json', out, '--plot', '')
    assert json.loads(out.read_text())['steps'] == 3
    proc = run_script('mnist_cnn/train.py', '--checkpoint_dir', '', '--restore', check=False)
    assert proc.returncode == 2 and '--restore needs a --checkpoint_dir' in proc.stderr


def test_shown_paths_read_the_same_on_every_machine(tmp_path, monkeypatch):
    from tfcourse import REPO_ROOT, cli

    monkeypatch.setenv('TFCOURSE_DATA_DIR', str(tmp_path / 'data'))
    assert cli.shown(os.path.join(REPO_ROOT, 'images', 'x.png')) == os.path.join('images', 'x.png')
    assert cli.shown(str(tmp_path / 'data' / 'vtest' / 'vtest.avi')) == os.path.join(
        'data', 'vtest', 'vtest.avi')
    assert cli.shown('/elsewhere/photo.jpg') == '/elsewhere/photo.jpg'
    assert cli.shown('0') == '0' and cli.shown('') == '' and cli.shown(None) is None
