"""Utilities for parsing PTB text files (after TensorFlow's classic ``models/rnn/ptb/reader.py``).

    train_data, valid_data, test_data, vocabulary = ptb_raw_data("data/ptb")
    for x, y in ptb_iterator(train_data, batch_size=20, num_steps=20):
        ...   # x, y: int32 [batch_size, num_steps], y is x shifted by one word

The classic ``ptb_producer`` fed the graph through queue runners; here
``ptb_iterator`` is a plain numpy generator of the same batches, fed to the
graph through placeholders, with the same epoch size
``((len(data) // batch_size) - 1) // num_steps``.

Newlines become ``<eos>``; the vocabulary is every training word, ordered by
(-count, word).  A missing or malformed data folder raises
:class:`tfcourse.cli.UserError` naming ``python setup/get_data.py ptb``.
"""
import collections
import os

import numpy as np

from tfcourse.cli import UserError
from tfcourse.datasets import fetch_hint

FILES = ("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt")


def _fetch_hint(data_path):
    return fetch_hint("ptb", data_path)


def _read_words(filename):
    try:
        with open(filename, "rb") as f:
            text = f.read().decode("utf-8")
    except FileNotFoundError:
        directory = os.path.dirname(filename)
        if not os.path.isdir(directory):
            raise UserError("PTB data directory %s does not exist; fetch it with: %s"
                            % (directory, _fetch_hint(directory))) from None
        raise UserError("%s is missing; fetch PTB with: %s"
                        % (filename, _fetch_hint(directory))) from None
    except UnicodeDecodeError as exc:
        raise UserError("%s is not UTF-8 text (%s); delete it and run: %s"
                        % (filename, exc.reason, _fetch_hint(os.path.dirname(filename)))) from exc
    except OSError as exc:
        raise UserError("cannot read %s (%s); fix the path or run: %s"
                        % (filename, exc.strerror, _fetch_hint(os.path.dirname(filename)))) from exc
    if "\x00" in text:
        raise UserError("%s is binary, not PTB text; delete it and run: %s"
                        % (filename, _fetch_hint(os.path.dirname(filename))))
    return text.replace("\n", "<eos>").split()


def build_vocab(filename):
    """The ``{word: id}`` vocabulary of a training file, ids by (-count, word)."""
    data = _read_words(filename)
    counter = collections.Counter(data)
    count_pairs = sorted(counter.items(), key=lambda x: (-x[1], x[0]))
    words, _ = list(zip(*count_pairs)) if count_pairs else ((), ())
    word_to_id = dict(zip(words, range(len(words))))
    return word_to_id


def _file_to_word_ids(filename, word_to_id):
    data = _read_words(filename)
    return [word_to_id[word] for word in data if word in word_to_id]


def ptb_raw_data(data_path=None):
    """Load PTB raw data from ``data_path``.

    Returns ``(train_data, valid_data, test_data, vocabulary)``: three lists
    of word ids and the vocabulary size.
    """
    data_path = data_path or "data/ptb"
    train_path, valid_path, test_path = (os.path.join(data_path, name) for name in FILES)
    word_to_id = build_vocab(train_path)
    train_data = _file_to_word_ids(train_path, word_to_id)
    valid_data = _file_to_word_ids(valid_path, word_to_id)
    test_data = _file_to_word_ids(test_path, word_to_id)
    for path, data in zip((train_path, valid_path, test_path), (train_data, valid_data, test_data)):
        if len(data) < 2:
            raise UserError("%s holds no PTB text (%d known words); delete it and run: %s"
                            % (path, len(data), _fetch_hint(data_path)))
    vocabulary = len(word_to_id)
    return train_data, valid_data, test_data, vocabulary


def epoch_size(data_len, batch_size, num_steps):
    """Batches per epoch, the classic formula ``((len(data) // batch_size) - 1) // num_steps``."""
    return ((data_len // batch_size) - 1) // num_steps


def ptb_iterator(raw_data, batch_size, num_steps):
    """Iterate on the raw PTB data.

    Chunks ``raw_data`` into ``batch_size`` rows and yields ``(x, y)`` pairs of
    int32 arrays of shape ``[batch_size, num_steps]``, where ``y`` is ``x``
    shifted one word to the right.  Raises ValueError when the data is too
    short for a single batch.
    """
    raw_data = np.array(raw_data, dtype=np.int32)
    data_len = len(raw_data)
    batch_len = data_len // batch_size
    data = raw_data[:batch_size * batch_len].reshape([batch_size, batch_len])
    n = epoch_size(data_len, batch_size, num_steps)
    if n <= 0:
        raise ValueError("epoch_size == 0, decrease batch_size or num_steps")
    for i in range(n):
        x = data[:, i * num_steps:(i + 1) * num_steps]
        y = data[:, i * num_steps + 1:(i + 1) * num_steps + 1]
        yield (x, y)
