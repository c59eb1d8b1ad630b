"""apps/wide_deep: the census fetcher and reader on census-format files served from 127.0.0.1,
and the wide, deep and wide_deep models learning from them.

The UCI files cannot be fetched here (no internet), so the tests write rows in
their exact format, quirks included (adult.test's first line, labels with a
trailing period, ``?`` for missing values, blanks after the commas), with an
income that depends on education, age, hours and marriage as in the real data.
"""
import json
import os
import re

import numpy as np
import pytest

from tfcourse.cli import UserError
from tfcourse.datasets import census

TRAIN = "apps/wide_deep/train.py"

EDUCATION = ["Bachelors", "HS-grad", "11th", "Masters", "9th", "Some-college", "Assoc-acdm",
             "Doctorate", "Prof-school", "10th"]
HIGH_EDUCATION = {"Bachelors", "Masters", "Doctorate", "Prof-school"}
WORKCLASS = ["Private", "Self-emp-not-inc", "State-gov", "Local-gov", "?"]
MARITAL = ["Married-civ-spouse", "Never-married", "Divorced", "Widowed"]
OCCUPATION = ["Exec-managerial", "Prof-specialty", "Craft-repair", "Sales", "Adm-clerical",
              "Other-service", "?"]
RELATIONSHIP = ["Husband", "Wife", "Not-in-family", "Own-child", "Unmarried"]
RACE = ["White", "Black", "Asian-Pac-Islander"]
COUNTRY = ["United-States", "Mexico", "India", "Germany", "?"]


def census_lines(n, seed, test_file=False):
    """``n`` rows in the UCI Adult format (``adult.test`` style when ``test_file``)."""
    rng = np.random.RandomState(seed)
    lines = ["|1x3 Cross validator"] if test_file else []
    for _ in range(n):
        age = int(rng.randint(17, 80))
        education = EDUCATION[rng.randint(len(EDUCATION))]
        marital = MARITAL[rng.randint(len(MARITAL))]
        occupation = OCCUPATION[rng.randint(len(OCCUPATION))]
        hours = int(rng.randint(10, 70))
        gain = int(rng.choice([0, 0, 0, 0, 5178, 15024]))
        score = (2.0 * (education in HIGH_EDUCATION) + 1.5 * (marital == "Married-civ-spouse")
                 + 1.0 * (35 <= age <= 60) + 0.04 * (hours - 40) + 1.5 * (gain > 0)
                 + 0.8 * (occupation in ("Exec-managerial", "Prof-specialty")) - 2.5)
        label = ">50K" if rng.rand() < 1 / (1 + np.exp(-2 * score)) else "<=50K"
        fields = [age, WORKCLASS[rng.randint(len(WORKCLASS))], int(rng.randint(20000, 400000)),
                  education, EDUCATION.index(education) + 5, marital, occupation,
                  RELATIONSHIP[rng.randint(len(RELATIONSHIP))], RACE[rng.randint(len(RACE))],
                  ["Male", "Female"][rng.randint(2)], gain, 0, hours,
                  COUNTRY[rng.randint(len(COUNTRY))], label + ("." if test_file else "")]
        lines.append(", ".join(str(f) for f in fields))
    return "\n".join(lines) + "\n\n"   # the UCI files end with an empty line


@pytest.fixture
def served(tmp_path):
    """An HTTP server on 127.0.0.1 serving adult.data and adult.test, like the UCI folder."""
    import functools
    import http.server
    import threading

    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "adult.data").write_text(census_lines(400, seed=1))
    (folder / "adult.test").write_text(census_lines(300, seed=2, test_file=True))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, "http://127.0.0.1:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def census_dir(served, tmp_path, monkeypatch):
    """The served rows, fetched by the real fetcher into tmp_path/data/census."""
    _, url = served
    monkeypatch.setattr(census, "MIRROR", url)
    target = str(tmp_path / "data" / "census")
    message = census.fetch(target)
    assert "400 rows" in message and "300 rows" in message and url in message
    return target


def test_fetcher_reads_the_quirks(census_dir):
    train, test = census.load(census_dir)
    assert len(train["label"]) == 400 and len(test["label"]) == 300  # "|1x3" line skipped
    assert set(test["label"]) == {0, 1}                               # "<=50K." understood
    assert "?" in train["occupation"] and "?" in test["native_country"]
    assert train["education"][0] in EDUCATION                         # blanks stripped
    assert census.fetch(census_dir).startswith("census data already")


def test_question_mark_in_a_numeric_column_is_missing(tmp_path):
    path = tmp_path / "adult.data"
    row = census_lines(1, seed=3).strip().split(", ")
    row[12] = "?"                                                     # hours_per_week
    path.write_text(", ".join(row) + "\n")
    assert np.isnan(census.read(str(path))["hours_per_week"][0])


def _break_line_3(path, line):
    lines = open(path).read().splitlines()
    lines[2] = line
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


@pytest.mark.parametrize("line, message", [
    ("39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
     "Male, 2174, 0, 40, United-States, maybe", "line 3: income bracket 'maybe'"),
    ("old, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
     "Male, 2174, 0, 40, United-States, <=50K", "line 3: age 'old' is not a number"),
])
def test_bad_values_name_file_and_line(census_dir, line, message):
    path = os.path.join(census_dir, "adult.data")
    _break_line_3(path, line)
    with pytest.raises(UserError, match="^" + re.escape(path + " " + message)):
        census.load(census_dir)


def test_bad_row_is_one_line_naming_file_and_line(census_dir, run_script, tmp_path):
    path = os.path.join(census_dir, "adult.test")
    _break_line_3(path, "39, State-gov, 77516")
    proc = run_script(TRAIN, "--data_dir", census_dir, "--epochs", 1, "--checkpoint_dir",
                      tmp_path / "ckpt", "--json", "", "--plot", "", check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert path + " line 3: expected 15 comma-separated fields, got 3" in proc.stderr
    assert "python setup/get_data.py census" in proc.stderr


def test_corrupt_mirror_file_is_not_installed(served, tmp_path, monkeypatch):
    folder, url = served
    (folder / "adult.test").write_text("|1x3 Cross validator\n<html>Not Found</html>\n")
    monkeypatch.setattr(census, "MIRROR", url)
    target = tmp_path / "out" / "census"
    with pytest.raises(UserError, match=r"adult.test line 2: expected 15 .*nothing was installed"):
        census.fetch(str(target))
    assert not target.exists()


def test_unreachable_mirror_and_offline_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(census, "MIRROR", "http://127.0.0.1:9/adult/")
    target = tmp_path / "census"
    with pytest.raises(UserError, match="did not answer.*into .* by hand"):
        census.fetch(str(target), log=lambda msg: None)
    with pytest.raises(UserError, match="only on the UCI repository"):
        census.fetch(str(target), offline=True)
    assert not target.exists()


def test_missing_data_names_the_fetch_command(run_script, tmp_path):
    proc = run_script(TRAIN, "--data_dir", tmp_path / "nothing", "--json", "", "--plot", "",
                      check=False)
    assert proc.returncode == 2 and "python setup/get_data.py census" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_crossed_features_hash_the_same_in_every_process():
    import importlib.util
    import subprocess
    import sys

    from tfcourse import REPO_ROOT

    folder = os.path.join(REPO_ROOT, "apps", "wide_deep")
    code = ("import train; print(train.stable_hash_bucket('Bachelors\\x1fExec-managerial', "
            "10000), train.stable_hash_bucket('Mexico', 1000))")
    # another process, with another seed of Python's salted hash(), than this one
    other = subprocess.run([sys.executable, "-c", code], cwd=folder, check=True,
                           env=dict(os.environ, PYTHONHASHSEED="12345"),
                           stdout=subprocess.PIPE, universal_newlines=True).stdout
    spec = importlib.util.spec_from_file_location("wide_deep_train",
                                                  os.path.join(folder, "train.py"))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    here = "%d %d\n" % (train.stable_hash_bucket("Bachelors\x1fExec-managerial", 10000),
                        train.stable_hash_bucket("Mexico", 1000))
    # the same in both, and as when the crosses were first hashed: checkpoints stay valid
    assert other == here == "3139 992\n"


def test_each_model_learns(census_dir, run_script, tmp_path):
    """wide, deep and wide_deep on 400 rows, 10 epochs each: the test loss falls."""
    out = tmp_path / "out"
    proc = run_script(TRAIN, "--model", "all", "--data_dir", census_dir, "--epochs", 10,
                      "--epochs_between_evals", 5, "--log_every", 50, "--summary_every", 20,
                      "--checkpoint_dir", out / "ckpt", "--json", out / "r.json",
                      "--plot", out / "r.png")
    result = json.loads((out / "r.json").read_text())
    assert result["standard_uci_files"] is False and result["train_examples"] == 400
    for name in ("wide", "deep", "wide_deep"):
        r = result["models"][name]
        assert r["steps"] == 100 and [h["epoch"] for h in r["history"]] == [0, 5, 10]
        assert r["test_loss"] < 0.9 * r["initial_test_loss"], (name, r["history"])
        assert r["test_accuracy"] > result["accuracy_baseline"] - 0.02, (name, r)
        assert os.listdir(str(out / "ckpt" / name / "train"))
        assert any(f.startswith("model.ckpt-100") for f in os.listdir(str(out / "ckpt" / name)))
    assert "ETA" in proc.stdout and (out / "r.png").stat().st_size > 10000
    assert "wrote %s" % (out / "r.json") in proc.stdout

    # --restore continues the wide model from its step-100 checkpoint to 12 epochs
    proc = run_script(TRAIN, "--model", "wide", "--restore", "--data_dir", census_dir,
                      "--epochs", 12, "--epochs_between_evals", 5, "--checkpoint_dir",
                      out / "ckpt", "--json", out / "resumed.json", "--plot", "")
    resumed = json.loads((out / "resumed.json").read_text())["models"]["wide"]
    assert "restored" in proc.stdout and "(step 100)" in proc.stdout
    assert [h["epoch"] for h in resumed["history"]] == [0, 5, 10, 12]
    assert resumed["history"][-1]["step"] == 120
