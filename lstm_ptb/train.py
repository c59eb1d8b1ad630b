"""Example / benchmark for building a PTB LSTM model (after TensorFlow's classic ptb_word_lm).

Trains the regularized LSTM language model of Zaremba et al., 2014
("Recurrent Neural Network Regularization", http://arxiv.org/abs/1409.2329)
on the Penn Treebank, as in the report (after "TensorFlow实战", chapter 7.2).
There are 3 supported model configurations (and a tiny one for tests):

===========================================================================
| config | epochs | train | valid  | test  | hidden | steps | keep_prob   |
===========================================================================
| small  | 13     | 37.99 | 121.39 | 115.91| 200    | 20    | 1.0         |
| medium | 39     | 48.45 |  86.16 |  82.07| 650    | 35    | 0.5         |
| large  | 55     | 37.87 |  82.62 |  78.29| 1500   | 35    | 0.35        |
===========================================================================
(perplexities of the classic script on the real PTB; the report's small
run: train 41.29, valid 120.36, test 114.32, ~30000 wps on an RTX 2070)

    python setup/get_data.py ptb                              # once
    python lstm_ptb/train.py --model small                    # 13 epochs
    python lstm_ptb/train.py --model small --max_max_epoch 2  # a short run
    python lstm_ptb/train.py --model small --restore --max_max_epoch 4   # continue it

Prints "%.3f perplexity: %.3f speed: %.0f wps" about ten times an epoch, the
learning rate and the train / valid perplexity of every epoch and finally the
test perplexity (batch 1, one step at a time, as the classic script).
Checkpoints go to --save_path after every epoch; --restore continues from the
latest one at the right epoch.  The per-epoch curve goes to
images/ptb_<model>_perplexity.png and the result to results/ptb_<model>.json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from tfcourse.compat import tf, gpu_names, sequence_loss_by_example, session_config
from tfcourse import cli, default_data_dir, IMAGES_DIR, RESULTS_DIR

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reader  # noqa: E402  (lstm_ptb/reader.py, next to this script)

#: the classic table (real PTB) and the report's small run (RTX 2070)
REFERENCE = {
    "classic_small": {"train": 37.99, "valid": 121.39, "test": 115.91},
    "classic_medium": {"train": 48.45, "valid": 86.16, "test": 82.07},
    "classic_large": {"train": 37.87, "valid": 82.62, "test": 78.29},
    "report_small": {"train": 41.29, "valid": 120.36, "test": 114.32, "wps": 30000,
                     "device": "GeForce RTX 2070"},
}


# ---------------------------------------------------------------- configs
class SmallConfig(object):
    """Small config."""
    init_scale = 0.1
    learning_rate = 1.0
    max_grad_norm = 5
    num_layers = 2
    num_steps = 20
    hidden_size = 200
    max_epoch = 4
    max_max_epoch = 13
    keep_prob = 1.0
    lr_decay = 0.5
    batch_size = 20
    vocab_size = 10000


class MediumConfig(object):
    """Medium config."""
    init_scale = 0.05
    learning_rate = 1.0
    max_grad_norm = 5
    num_layers = 2
    num_steps = 35
    hidden_size = 650
    max_epoch = 6
    max_max_epoch = 39
    keep_prob = 0.5
    lr_decay = 0.8
    batch_size = 20
    vocab_size = 10000


class LargeConfig(object):
    """Large config."""
    init_scale = 0.04
    learning_rate = 1.0
    max_grad_norm = 10
    num_layers = 2
    num_steps = 35
    hidden_size = 1500
    max_epoch = 14
    max_max_epoch = 55
    keep_prob = 0.35
    lr_decay = 1 / 1.15
    batch_size = 20
    vocab_size = 10000


class TestConfig(object):
    """Tiny config, for testing."""
    init_scale = 0.1
    learning_rate = 1.0
    max_grad_norm = 1
    num_layers = 1
    num_steps = 2
    hidden_size = 2
    max_epoch = 1
    max_max_epoch = 1
    keep_prob = 1.0
    lr_decay = 0.5
    batch_size = 20
    vocab_size = 10000


CONFIGS = {"small": SmallConfig, "medium": MediumConfig, "large": LargeConfig,
           "test": TestConfig}


def get_config(name):
    config = CONFIGS[name]()
    return config


def config_dict(config):
    return {k: getattr(config, k) for k in dir(config) if not k.startswith("_")}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_path", default=default_data_dir("ptb"),
                        help="directory with ptb.train.txt, ptb.valid.txt, ptb.test.txt "
                             "(default: %(default)s)")
    parser.add_argument("--model", default="small", choices=sorted(CONFIGS),
                        help="model configuration (default: %(default)s)")
    parser.add_argument("--save_path", default=None,
                        help="checkpoint directory (default checkpoints/ptb_<model>; '' = none)")
    parser.add_argument("--restore", action="store_true",
                        help="continue from the latest checkpoint in --save_path")
    parser.add_argument("--max_max_epoch", type=int, default=None,
                        help="total epochs (default: the config's, 13 for small)")
    parser.add_argument("--max_steps_per_epoch", type=int, default=None,
                        help="cap on training steps per epoch, for quick runs "
                             "(valid and test are always evaluated in full)")
    parser.add_argument("--seed", type=int, default=0, help="graph-level random seed (default: %(default)s)")
    parser.add_argument("--json", default=None,
                        help="result file (default results/ptb_<model>.json; '' to skip)")
    parser.add_argument("--plot", default=None,
                        help="perplexity curve (default images/ptb_<model>_perplexity.png; "
                             "'' to skip)")
    args = parser.parse_args(argv)
    if args.max_max_epoch is not None:
        cli.check_positive("--max_max_epoch", args.max_max_epoch)
    if args.max_steps_per_epoch is not None:
        cli.check_positive("--max_steps_per_epoch", args.max_steps_per_epoch)
    if args.save_path is None:
        args.save_path = os.path.join("checkpoints", "ptb_" + args.model)
    if args.json is None:
        args.json = os.path.join(RESULTS_DIR, "ptb_%s.json" % args.model)
    if args.plot is None:
        args.plot = os.path.join(IMAGES_DIR, "ptb_%s_perplexity.png" % args.model)
    if args.restore and not args.save_path:
        raise cli.UserError("--restore needs a --save_path to restore from")
    return args


# ---------------------------------------------------------------- the model
class PTBInput(object):
    """The input data: placeholders for one [batch_size, num_steps] batch and its batches."""

    def __init__(self, config, data, name=None):
        self.batch_size = batch_size = config.batch_size
        self.num_steps = num_steps = config.num_steps
        self.epoch_size = reader.epoch_size(len(data), batch_size, num_steps)
        self.data = data
        with tf.name_scope(name, "PTBInput"):
            self.input_data = tf.placeholder(tf.int32, [batch_size, num_steps], name="input_data")
            self.targets = tf.placeholder(tf.int32, [batch_size, num_steps], name="targets")

    def batches(self):
        return reader.ptb_iterator(self.data, self.batch_size, self.num_steps)


class PTBModel(object):
    """The PTB model."""

    def __init__(self, is_training, config, input_):
        self._input = input_

        batch_size = input_.batch_size
        num_steps = input_.num_steps
        size = config.hidden_size
        vocab_size = config.vocab_size

        # Slightly better results can be obtained with forget gate biases
        # initialized to 1 but the hyperparameters of the model would need to be
        # different than reported in the paper.
        def lstm_cell():
            return tf.nn.rnn_cell.BasicLSTMCell(size, forget_bias=0.0, state_is_tuple=True)

        attn_cell = lstm_cell
        if is_training and config.keep_prob < 1:
            def attn_cell():
                return tf.nn.rnn_cell.DropoutWrapper(lstm_cell(),
                                                     output_keep_prob=config.keep_prob)
        cell = tf.nn.rnn_cell.MultiRNNCell([attn_cell() for _ in range(config.num_layers)],
                                           state_is_tuple=True)

        self._initial_state = cell.zero_state(batch_size, tf.float32)

        with tf.device("/cpu:0"):
            embedding = tf.get_variable("embedding", [vocab_size, size], dtype=tf.float32)
            inputs = tf.nn.embedding_lookup(embedding, input_.input_data)

        if is_training and config.keep_prob < 1:
            inputs = tf.nn.dropout(inputs, config.keep_prob)

        # Simplified version of tf.nn.static_rnn: the loop unrolls the LSTM over
        # num_steps time steps, sharing the weights between them.
        outputs = []
        state = self._initial_state
        with tf.variable_scope("RNN"):
            for time_step in range(num_steps):
                if time_step > 0:
                    tf.get_variable_scope().reuse_variables()
                (cell_output, state) = cell(inputs[:, time_step, :], state)
                outputs.append(cell_output)

        output = tf.reshape(tf.concat(outputs, 1), [-1, size])
        softmax_w = tf.get_variable("softmax_w", [size, vocab_size], dtype=tf.float32)
        softmax_b = tf.get_variable("softmax_b", [vocab_size], dtype=tf.float32)
        logits = tf.matmul(output, softmax_w) + softmax_b
        loss = sequence_loss_by_example(
            [logits],
            [tf.reshape(input_.targets, [-1])],
            [tf.ones([batch_size * num_steps], dtype=tf.float32)])
        self._cost = cost = tf.reduce_sum(loss) / batch_size
        self._final_state = state

        if not is_training:
            return

        self._lr = tf.Variable(0.0, trainable=False, name="learning_rate")
        tvars = tf.trainable_variables()
        grads, _ = tf.clip_by_global_norm(tf.gradients(cost, tvars), config.max_grad_norm)
        optimizer = tf.train.GradientDescentOptimizer(self._lr)
        self._train_op = optimizer.apply_gradients(
            zip(grads, tvars), global_step=tf.train.get_or_create_global_step())

        self._new_lr = tf.placeholder(tf.float32, shape=[], name="new_learning_rate")
        self._lr_update = tf.assign(self._lr, self._new_lr)

    def assign_lr(self, session, lr_value):
        session.run(self._lr_update, feed_dict={self._new_lr: lr_value})

    @property
    def input(self):
        return self._input

    @property
    def initial_state(self):
        return self._initial_state

    @property
    def cost(self):
        return self._cost

    @property
    def final_state(self):
        return self._final_state

    @property
    def lr(self):
        return self._lr

    @property
    def train_op(self):
        return self._train_op


def run_epoch(session, model, eval_op=None, verbose=False, max_steps=None):
    """Runs the model on the given data; returns (perplexity, words per second)."""
    start_time = time.time()
    costs = 0.0
    iters = 0
    state = session.run(model.initial_state)

    fetches = {"cost": model.cost, "final_state": model.final_state}
    if eval_op is not None:
        fetches["eval_op"] = eval_op

    epoch_size = model.input.epoch_size
    if max_steps is not None:
        epoch_size = min(epoch_size, max_steps)
    report_every = max(epoch_size // 10, 1)
    for step, (x, y) in enumerate(model.input.batches()):
        if step >= epoch_size:
            break
        feed_dict = {model.input.input_data: x, model.input.targets: y}
        for i, (c, h) in enumerate(model.initial_state):
            feed_dict[c] = state[i].c
            feed_dict[h] = state[i].h

        vals = session.run(fetches, feed_dict)
        cost = vals["cost"]
        state = vals["final_state"]

        costs += cost
        iters += model.input.num_steps

        if verbose and (step + 1) % report_every == 0:
            print("%.3f perplexity: %.3f speed: %.0f wps" %
                  ((step + 1) * 1.0 / epoch_size, np.exp(costs / iters),
                   iters * model.input.batch_size / (time.time() - start_time)), flush=True)

    wps = iters * model.input.batch_size / max(time.time() - start_time, 1e-9)
    return float(np.exp(costs / iters)), float(wps)


# ---------------------------------------------------------------- results
def plot_history(history, test_perplexity, model_name, corpus, path):
    plt = cli.pyplot()
    epochs = [h["epoch"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.semilogy(epochs, [h["train_perplexity"] for h in history], "o-", label="train")
    ax.semilogy(epochs, [h["valid_perplexity"] for h in history], "s-", label="valid")
    if test_perplexity is not None:
        ax.semilogy([epochs[-1]], [test_perplexity], "r*", ms=12,
                    label="test %.2f" % test_perplexity)
    ref = REFERENCE.get("report_" + model_name)
    if ref:
        ax.axhline(ref["test"], color="gray", ls="--", lw=0.8,
                   label="report test %.2f (real PTB)" % ref["test"])
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_title("PTB LSTM, %s config, %s" % (model_name, corpus), fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    cli.save_figure(fig, path)


def _load_history(path, epochs):
    try:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
        return [h for h in saved.get("history", []) if h["epoch"] <= epochs]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []


def main(argv=None):
    args = parse_args(argv)
    config = get_config(args.model)
    if args.max_max_epoch is not None:
        config.max_max_epoch = args.max_max_epoch
    eval_config = get_config(args.model)
    eval_config.batch_size = 1
    eval_config.num_steps = 1

    train_data, valid_data, test_data, vocabulary = reader.ptb_raw_data(args.data_path)
    corpus = reader.corpus_label(args.data_path)
    print("data: %s, %d train / %d valid / %d test words, vocabulary %d (%s)"
          % (args.data_path, len(train_data), len(valid_data), len(test_data), vocabulary, corpus))
    if "sample" in corpus.lower():
        print("NOTE: %s is a small WSJ SAMPLE, not the Mikolov PTB benchmark corpus; its "
              "perplexities are not comparable with published PTB figures" % args.data_path)
    if vocabulary > config.vocab_size:
        raise cli.UserError("%s has %d distinct words, more than the model's vocab_size %d; "
                            "use PTB-format files with a 10k vocabulary (python setup/get_data.py "
                            "ptb)" % (args.data_path, vocabulary, config.vocab_size))
    for name, data, cfg in (("train", train_data, config), ("valid", valid_data, config),
                            ("test", test_data, eval_config)):
        if reader.epoch_size(len(data), cfg.batch_size, cfg.num_steps) <= 0:
            raise cli.UserError("ptb.%s.txt in %s is too short (%d words) for batches of %d x %d; "
                                "fetch the full files with: python setup/get_data.py ptb"
                                % (name, args.data_path, len(data), cfg.batch_size,
                                   cfg.num_steps))

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    initializer = tf.random_uniform_initializer(-config.init_scale, config.init_scale)

    with tf.name_scope("Train"):
        train_input = PTBInput(config=config, data=train_data, name="TrainInput")
        with tf.variable_scope("Model", reuse=None, initializer=initializer):
            m = PTBModel(is_training=True, config=config, input_=train_input)

    with tf.name_scope("Valid"):
        valid_input = PTBInput(config=config, data=valid_data, name="ValidInput")
        with tf.variable_scope("Model", reuse=True, initializer=initializer):
            mvalid = PTBModel(is_training=False, config=config, input_=valid_input)

    with tf.name_scope("Test"):
        test_input = PTBInput(config=eval_config, data=test_data, name="TestInput")
        with tf.variable_scope("Model", reuse=True, initializer=initializer):
            mtest = PTBModel(is_training=False, config=eval_config, input_=test_input)

    # epochs finished, saved with the weights so --restore continues at the right epoch
    epochs_done = tf.Variable(0, trainable=False, name="epochs_done")
    new_epochs_done = tf.placeholder(tf.int32, shape=[], name="new_epochs_done")
    set_epochs_done = tf.assign(epochs_done, new_epochs_done)
    saver = tf.train.Saver(max_to_keep=2)
    history_path = os.path.join(args.save_path, "history.json") if args.save_path else None
    history = []
    restored_valid = None

    with tf.Session(config=session_config()) as session:
        if args.restore:
            latest = tf.train.latest_checkpoint(args.save_path)
            if latest is None:
                raise cli.UserError("no checkpoint in %s; train without --restore first, or pass "
                                    "the right --save_path" % args.save_path)
            try:
                saver.restore(session, latest)
            except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError,
                    tf.errors.DataLossError) as exc:
                raise cli.UserError("checkpoint %s does not fit the %s model (%s); pass the "
                                    "--model it was trained with or another --save_path"
                                    % (latest, args.model, exc.message.splitlines()[0]))
            start_epoch = int(session.run(epochs_done))
            history = _load_history(history_path, start_epoch)
            restored_valid, _ = run_epoch(session, mvalid)
            print("Restored %s (epoch %d) Valid Perplexity: %.3f"
                  % (latest, start_epoch, restored_valid))
        else:
            session.run(tf.global_variables_initializer())
            start_epoch = 0
            if args.save_path and tf.train.latest_checkpoint(args.save_path):
                print("starting from scratch; the checkpoints in %s will be replaced "
                      "(pass --restore to continue them)" % args.save_path)

        steps_per_epoch = (train_input.epoch_size if args.max_steps_per_epoch is None
                           else min(train_input.epoch_size, args.max_steps_per_epoch))
        epochs_this_run = max(config.max_max_epoch - start_epoch, 0)
        progress = cli.Progress(total=epochs_this_run * steps_per_epoch, unit="steps")
        train_seconds = 0.0
        train_words = 0

        for i in range(start_epoch, config.max_max_epoch):
            lr_decay = config.lr_decay ** max(i + 1 - config.max_epoch, 0.0)
            m.assign_lr(session, config.learning_rate * lr_decay)

            print("Epoch: %d Learning rate: %.3f" % (i + 1, session.run(m.lr)))
            t0 = time.time()
            train_perplexity, wps = run_epoch(session, m, eval_op=m.train_op, verbose=True,
                                              max_steps=args.max_steps_per_epoch)
            train_seconds += time.time() - t0
            train_words += steps_per_epoch * config.batch_size * config.num_steps
            print("Epoch: %d Train Perplexity: %.3f" % (i + 1, train_perplexity))
            valid_perplexity, _ = run_epoch(session, mvalid)
            print("Epoch: %d Valid Perplexity: %.3f" % (i + 1, valid_perplexity))
            history.append({"epoch": i + 1, "learning_rate": config.learning_rate * lr_decay,
                            "train_perplexity": train_perplexity,
                            "valid_perplexity": valid_perplexity, "train_wps": round(wps, 1)})
            if args.save_path:
                session.run(set_epochs_done, feed_dict={new_epochs_done: i + 1})
                os.makedirs(args.save_path, exist_ok=True)
                saver.save(session, os.path.join(args.save_path, "model.ckpt"),
                           global_step=i + 1)
                cli.write_json(history_path, {"model": args.model, "history": history})
            print(progress.line((i + 1 - start_epoch) * steps_per_epoch), flush=True)

        test_perplexity, _ = run_epoch(session, mtest)
        print("Test Perplexity: %.3f" % test_perplexity)

    if args.save_path and epochs_this_run:
        print("Model saved in %s" % args.save_path)
    last = history[-1] if history else {}
    result = {
        "model": "ptb_" + args.model,
        "config": config_dict(config),
        "corpus": corpus,
        "data_path": os.path.abspath(args.data_path),
        "words": {"train": len(train_data), "valid": len(valid_data), "test": len(test_data)},
        "vocabulary": vocabulary,
        "epochs": config.max_max_epoch,
        "epochs_this_run": epochs_this_run,
        "steps_per_epoch": steps_per_epoch,
        "max_steps_per_epoch": args.max_steps_per_epoch,
        "seed": args.seed,
        "train_perplexity": last.get("train_perplexity"),
        "valid_perplexity": last.get("valid_perplexity"),
        "test_perplexity": test_perplexity,
        "restored_valid_perplexity": restored_valid,
        "wps": round(train_words / train_seconds, 1) if train_seconds else None,
        "train_seconds_this_run": round(train_seconds, 1),
        "device": (gpu_names() or ["CPU"])[0],
        "tf_version": tf.__version__,
        "reference": REFERENCE,
        "history": history,
    }
    if args.json:
        cli.write_json(args.json, result)
        print("result written to %s" % args.json)
    if args.plot and history:
        plot_history(history, test_perplexity, args.model, corpus, args.plot)
        print("perplexity curve drawn in %s" % args.plot)
    return 0


if __name__ == "__main__":
    cli.run(main)
