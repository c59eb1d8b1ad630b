"""Sentences, tokens and the vocabulary, shared by ``train.py`` and ``predict.py``.

Corpora are two files of one sentence a line: ``rt-polarity.pos`` /
``rt-polarity.neg`` (English, Kim 2014) or ``pos.txt`` / ``neg.txt``
(Chinese).  English is split into words with Kim's ``clean_str``; Chinese
into characters (no segmenter needed).
"""
import json
import os
import re

import numpy as np

from tfcourse import cli
from tfcourse.datasets import fetch_hint

LABELS = ["negative", "positive"]
#: (positive file, negative file) names that a data folder may hold
FILE_PAIRS = (("rt-polarity.pos", "rt-polarity.neg"), ("pos.txt", "neg.txt"))
PAD, UNK = "<pad>", "<unk>"


def clean_str(string):
    """Kim's tokenizer for English (github.com/yoonkim/CNN_sentence)."""
    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\'s", " \'s", string)
    string = re.sub(r"\'ve", " \'ve", string)
    string = re.sub(r"n\'t", " n\'t", string)
    string = re.sub(r"\'re", " \'re", string)
    string = re.sub(r"\'d", " \'d", string)
    string = re.sub(r"\'ll", " \'ll", string)
    string = re.sub(r",", " , ", string)
    string = re.sub(r"!", " ! ", string)
    string = re.sub(r"\(", " ( ", string)
    string = re.sub(r"\)", " ) ", string)
    string = re.sub(r"\?", " ? ", string)
    string = re.sub(r"\s{2,}", " ", string)
    return string.strip().lower()


def tokenize(sentence, level):
    """``level`` "word": Kim's clean_str split on spaces; "char": every non-space character."""
    if level == "word":
        return clean_str(sentence).split()
    return [ch for ch in sentence.strip().lower() if not ch.isspace()]


def load_corpus(data_dir, dataset="mr"):
    """(sentences, labels) with label 1 = positive, 0 = negative."""
    for pos_name, neg_name in FILE_PAIRS:
        pos, neg = os.path.join(data_dir, pos_name), os.path.join(data_dir, neg_name)
        if os.path.exists(pos) and os.path.exists(neg):
            break
    else:
        raise cli.UserError("no rt-polarity.pos/.neg or pos.txt/neg.txt in %s; fetch the data "
                            "with: %s" % (data_dir, fetch_hint(dataset, data_dir)))
    sentences, labels = [], []
    for path, label in ((pos, 1), (neg, 0)):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.strip():
                    sentences.append(line.strip())
                    labels.append(label)
    return sentences, np.array(labels, dtype=np.int64)


def deduplicate(sentences, labels):
    """Each sentence once, in its first place: ``(sentences, labels, dropped)``.

    The Chinese review corpus repeats about half of its lines (35123 lines, 17410
    distinct); split at random, a repeated review lands in train and test alike and the
    test accuracy measures memory, not generalisation.  A sentence given both labels is
    dropped altogether.  ``dropped`` counts the repeated lines and the contradictory
    sentences."""
    label_sets = {}
    for sentence, label in zip(sentences, labels):
        label_sets.setdefault(sentence, set()).add(int(label))
    kept, kept_labels, seen = [], [], set()
    for sentence, label in zip(sentences, labels):
        if sentence in seen or len(label_sets[sentence]) > 1:
            continue
        seen.add(sentence)
        kept.append(sentence)
        kept_labels.append(label)
    contradictory = sum(1 for v in label_sets.values() if len(v) > 1)
    dropped = {"repeated_lines": len(sentences) - len(label_sets),
               "sentences_with_both_labels": contradictory}
    return kept, np.array(kept_labels, dtype=np.int64), dropped


def build_vocab(token_lists, min_count=1):
    counts = {}
    for tokens in token_lists:
        for t in tokens:
            counts[t] = counts.get(t, 0) + 1
    words = sorted((w for w, c in counts.items() if c >= min_count),
                   key=lambda w: (-counts[w], w))
    return [PAD, UNK] + words


def encode(token_lists, vocab, max_len):
    """[n, max_len] int32 ids, padded with 0 and cut at ``max_len``; unknown -> 1."""
    index = {w: i for i, w in enumerate(vocab)}
    ids = np.zeros((len(token_lists), max_len), dtype=np.int32)
    for row, tokens in enumerate(token_lists):
        seq = [index.get(t, 1) for t in tokens[:max_len]]
        ids[row, :len(seq)] = seq
    return ids


def save_meta(checkpoint_dir, meta):
    """``vocab.json``: vocabulary plus everything predict.py needs to encode a sentence."""
    return cli.write_json(os.path.join(checkpoint_dir, "vocab.json"), meta)


def load_meta(checkpoint_dir):
    path = os.path.join(checkpoint_dir, "vocab.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError:
        raise cli.UserError("no vocab.json in %s; train first (python "
                            "apps/text_classification/train.py) or pass the --checkpoint_dir "
                            "train.py wrote" % checkpoint_dir)
    except ValueError:
        raise cli.UserError("%s is corrupt; train again" % path)
