"""Example / benchmark for building a PTB LSTM model (after TensorFlow's classic ptb_word_lm).

Trains the regularized LSTM language model of Zaremba et al., 2014
("Recurrent Neural Network Regularization", http://arxiv.org/abs/1409.2329)
on the Penn Treebank, as in report §2.7 (after the book "TensorFlow实战", ch. 7).
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
    python lstm_ptb/train.py --model small --epochs 2            # a short run
    python lstm_ptb/train.py --model small --restore --epochs 4  # continue it

Prints "%.3f perplexity: %.3f speed: %.0f wps" about ten times an epoch, the
learning rate and the train / valid perplexity of every epoch and finally the
test perplexity (batch 1, one step at a time, as the classic script).
Checkpoints and TensorBoard summaries (loss, learning rate, perplexities,
weight histograms, the graph) go to --checkpoint_dir after every epoch;
--restore continues from the latest one at the right epoch.  The test model
(batch 1, one step, the LSTM state in and out) is exported for TF Serving to
--export_dir (default CHECKPOINT_DIR/export; tfcourse/serving.py).  The per-epoch
curve goes to --plot and the result to --json, by default all under
runs/ptb_<model>/; to record the report's run:
--json results/ptb_small.json --plot images/ptb_small_perplexity.png.
A cost that goes NaN/inf stops the run (exit 2) before the weights are saved.
--dtype bfloat16|float16 computes the LSTM and the softmax in that dtype with
float32 weights, loss and gradients (float16 with loss scaling, --loss_scale).
"""
import argparse
import os
import time

import numpy as np

from tfcourse.compat import tf, announce_device, sequence_loss_by_example, session_config
from tfcourse import checkpoints, cli, precision, serving
from tfcourse.datasets import fetch_hint, source_label

import reader  # lstm_ptb/reader.py, next to this script

#: the classic table (real PTB) and the report's small run (§2.7.3, RTX 2070: 41.29, 120.362,
#: 114.323, "30000单词每秒")
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
    rnn_mode = "basic"
    dtype = "float32"


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
    rnn_mode = "basic"
    dtype = "float32"


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
    rnn_mode = "basic"
    dtype = "float32"


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
    rnn_mode = "basic"
    dtype = "float32"


CONFIGS = {"small": SmallConfig, "medium": MediumConfig, "large": LargeConfig,
           "test": TestConfig}


def get_config(name):
    config = CONFIGS[name]()
    return config


def get_configs(args):
    """The training config (with the flags' overrides) and the test one (batch 1, 1 step)."""
    config = get_config(args.model)
    if args.epochs is not None:
        config.max_max_epoch = args.epochs
    if args.learning_rate is not None:
        config.learning_rate = args.learning_rate
    eval_config = get_config(args.model)
    for cfg in (config, eval_config):
        cfg.rnn_mode = args.rnn_mode
        cfg.dtype, cfg.loss_scale = args.dtype, args.loss_scale
    eval_config.batch_size = 1
    eval_config.num_steps = 1
    return config, eval_config


def config_dict(config):
    return {k: getattr(config, k) for k in dir(config) if not k.startswith("_")}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cli.add_data_dir(parser, "ptb", help="directory with ptb.train.txt, ptb.valid.txt, "
                                         "ptb.test.txt (default: %(default)s)")
    parser.add_argument("--model", default="small", choices=sorted(CONFIGS),
                        help="model configuration (default: %(default)s)")
    parser.add_argument("--rnn_mode", default="basic", choices=["basic", "block"],
                        help="basic: BasicLSTMCell step by step; block: the fused BlockLSTM op "
                             "over the whole sequence (same weights and results, fewer ops) "
                             "(default: %(default)s)")
    precision.add_dtype_flag(parser)
    parser.add_argument("--checkpoint_dir", default=None,
                        help="checkpoints and TensorBoard summaries (default runs/ptb_MODEL; "
                             "'' = none)")
    parser.add_argument("--restore", action="store_true",
                        help="continue from the latest checkpoint in --checkpoint_dir")
    checkpoints.add_restore_from_flag(parser)
    parser.add_argument("--epochs", type=int, default=None,
                        help="total epochs, the config's max_max_epoch (default: 13 for small)")
    parser.add_argument("--learning_rate", type=cli.finite_float, default=None,
                        help="initial learning rate (default: the config's, 1.0)")
    parser.add_argument("--max_steps_per_epoch", type=int, default=None,
                        help="cap on training steps per epoch, for quick runs "
                             "(valid and test are always evaluated in full)")
    parser.add_argument("--seed", type=int, default=0,
                        help="graph-level random seed (default: %(default)s)")
    parser.add_argument("--json", default=None, metavar="PATH",
                        help="result file (default runs/ptb_MODEL/ptb_MODEL.json; '' to skip)")
    parser.add_argument("--plot", default=None, metavar="PATH",
                        help="perplexity curve (default runs/ptb_MODEL/ptb_MODEL_perplexity.png; "
                             "'' to skip)")
    serving.add_export_flag(parser)
    cli.add_alias(parser, "--max_max_epoch", "--epochs")  # the flag's first name
    args = parser.parse_args(argv)
    for flag in ("epochs", "max_steps_per_epoch", "learning_rate"):
        if getattr(args, flag) is not None:
            cli.check_positive("--" + flag, getattr(args, flag))
    name = "ptb_" + args.model
    if args.checkpoint_dir is None:
        args.checkpoint_dir = cli.run_dir(name)
    if args.json is None:
        args.json = cli.run_dir(name, name + ".json")
    if args.plot is None:
        args.plot = cli.run_dir(name, name + "_perplexity.png")
    if (args.restore or args.restore_from) and not args.checkpoint_dir:
        raise cli.UserError("--restore needs a --checkpoint_dir to restore from")
    cli.check_outputs(args, "--json", "--plot", folders=("--checkpoint_dir",),
                      skip_empty_folders=True)  # '' here: no checkpoints, no summaries
    serving.check_export_dir(args)
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

        # --dtype: the LSTM and the softmax compute in this dtype; the variables stay
        # float32 (the custom getter of build_graph casts them), the loss is float32
        self._dtype = dtype = precision.DTYPES[config.dtype]

        with tf.device("/cpu:0"):
            embedding = tf.get_variable("embedding", [vocab_size, size], dtype=tf.float32)
            inputs = tf.nn.embedding_lookup(embedding, input_.input_data)
        inputs = tf.cast(inputs, dtype)

        if is_training and config.keep_prob < 1:
            inputs = tf.nn.dropout(inputs, config.keep_prob)

        if config.rnn_mode == "block":
            outputs, state = self._build_rnn_graph_block(inputs, config, is_training)
        else:
            outputs, state = self._build_rnn_graph_lstm(inputs, config, is_training)

        output = tf.reshape(outputs, [-1, size])
        softmax_w = tf.get_variable("softmax_w", [size, vocab_size], dtype=dtype)
        softmax_b = tf.get_variable("softmax_b", [vocab_size], dtype=dtype)
        self._logits = logits = tf.cast(tf.matmul(output, softmax_w) + softmax_b, tf.float32)
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
        # float16: the loss-scale optimizer scales the loss, unscales the gradients and
        # skips a step whose gradients overflowed (the other dtypes: the optimizer itself)
        optimizer = precision.loss_scaled(tf.train.GradientDescentOptimizer(self._lr), config)
        grads, _ = tf.clip_by_global_norm(
            [g for g, _ in optimizer.compute_gradients(cost, tvars)], config.max_grad_norm)
        self._train_op = optimizer.apply_gradients(
            zip(grads, tvars), global_step=tf.train.get_or_create_global_step())

        self._new_lr = tf.placeholder(tf.float32, shape=[], name="new_learning_rate")
        self._lr_update = tf.assign(self._lr, self._new_lr)
        with tf.name_scope(None):  # top-level tags: train/loss, weights/Model/...
            self._summaries = tf.summary.merge(
                [tf.summary.scalar("train/loss", cost),
                 tf.summary.scalar("train/learning_rate", self._lr)]
                + [tf.summary.histogram("weights/" + v.op.name, v) for v in tvars])

    def _build_rnn_graph_lstm(self, inputs, config, is_training):
        """--rnn_mode basic: BasicLSTMCells stacked in a MultiRNNCell, unrolled step by step."""
        size = config.hidden_size

        # Slightly better results can be obtained with forget gate biases
        # initialized to 1 but the hyperparameters of the model would need to be
        # different than reported in the paper.
        def lstm_cell():
            return tf.nn.rnn_cell.BasicLSTMCell(size, forget_bias=0.0, state_is_tuple=True)

        make_cell = lstm_cell
        if is_training and config.keep_prob < 1:
            def make_cell():
                return tf.nn.rnn_cell.DropoutWrapper(lstm_cell(),
                                                     output_keep_prob=config.keep_prob)
        cell = tf.nn.rnn_cell.MultiRNNCell([make_cell() for _ in range(config.num_layers)],
                                           state_is_tuple=True)

        self._initial_state = cell.zero_state(self._input.batch_size, inputs.dtype)

        # Simplified version of tf.nn.static_rnn: the loop unrolls the LSTM over
        # num_steps time steps, sharing the weights between them.
        outputs = []
        state = self._initial_state
        with tf.variable_scope("RNN"):
            for time_step in range(self._input.num_steps):
                if time_step > 0:
                    tf.get_variable_scope().reuse_variables()
                (cell_output, state) = cell(inputs[:, time_step, :], state)
                outputs.append(cell_output)
        return tf.concat(outputs, 1), state

    def _build_rnn_graph_block(self, inputs, config, is_training):
        """--rnn_mode block: one fused BlockLSTM op per layer runs all num_steps time steps
        (the role of the classic code's LSTMBlockCell; TensorFlow registers the gradient of
        this whole-sequence op).  Same weights, gate order (i, j, f, o) and state as basic."""
        size, batch_size = config.hidden_size, self._input.batch_size
        # BlockLSTM has float32 and float16 kernels only: under --dtype bfloat16 it
        # computes in float32 between casts (main() says so)
        dtype = tf.float32 if inputs.dtype == tf.bfloat16 else inputs.dtype
        self._initial_state = tuple(
            tf.nn.rnn_cell.LSTMStateTuple(tf.zeros([batch_size, size], dtype),
                                          tf.zeros([batch_size, size], dtype))
            for _ in range(config.num_layers))
        x = tf.transpose(tf.cast(inputs, dtype), [1, 0, 2])  # time-major [num_steps, batch, size]
        no_peephole = tf.zeros([size], dtype)
        state = []
        with tf.variable_scope("RNN"):
            for layer, (c, h) in enumerate(self._initial_state):
                with tf.variable_scope("block_lstm_%d" % layer):
                    kernel = tf.get_variable("kernel", [2 * size, 4 * size], dtype=dtype)
                    bias = tf.get_variable("bias", [4 * size], dtype=dtype,
                                           initializer=tf.zeros_initializer())
                    _, cs, _, _, _, _, x = tf.raw_ops.BlockLSTM(
                        seq_len_max=tf.constant(self._input.num_steps, tf.int64), x=x,
                        cs_prev=c, h_prev=h, w=kernel, wci=no_peephole, wcf=no_peephole,
                        wco=no_peephole, b=bias, forget_bias=0.0, cell_clip=-1.0,
                        use_peephole=False)
                state.append(tf.nn.rnn_cell.LSTMStateTuple(cs[-1], x[-1]))
                if is_training and config.keep_prob < 1:
                    x = tf.nn.dropout(x, config.keep_prob)  # as DropoutWrapper's outputs
        return tf.cast(tf.transpose(x, [1, 0, 2]), inputs.dtype), tuple(state)

    def assign_lr(self, session, lr_value):
        session.run(self._lr_update, feed_dict={self._new_lr: lr_value})

    @property
    def input(self):
        return self._input

    @property
    def initial_state(self):
        return self._initial_state

    @property
    def logits(self):
        return self._logits

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

    @property
    def summaries(self):
        return self._summaries


def run_epoch(session, model, eval_op=None, verbose=False, max_steps=None, writer=None,
              first_step=0, fix=""):
    """Runs the model on the given data; returns (perplexity, words per second).

    A cost that is NaN/inf stops the run (exit 2, naming ``fix``); with a
    ``writer`` the training summaries are written about ten times an epoch.
    """
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

        report = (step + 1) % report_every == 0
        if writer is not None and report:
            fetches["summaries"] = model.summaries
        vals = session.run(fetches, feed_dict)
        fetches.pop("summaries", None)
        cost = vals["cost"]
        state = vals["final_state"]
        checkpoints.check_finite(cost, first_step + step, fix)
        if "summaries" in vals:
            writer.add_summary(vals["summaries"], first_step + step)

        costs += cost
        iters += model.input.num_steps

        if verbose and report:
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


def load_data(args, config, eval_config):
    """The word ids of the three files, checked against the configs; and the corpus label."""
    train_data, valid_data, test_data, vocabulary = reader.ptb_raw_data(args.data_dir)
    corpus = (source_label(args.data_dir)
              or "ptb.*.txt in %s (no SOURCE.txt label)" % args.data_dir)
    print("data: %s, %d train / %d valid / %d test words, vocabulary %d (%s)"
          % (args.data_dir, len(train_data), len(valid_data), len(test_data), vocabulary, corpus))
    if "sample" in corpus.lower():
        print("NOTE: %s is a small WSJ SAMPLE, not the Mikolov PTB benchmark corpus; its "
              "perplexities are not comparable with published PTB figures" % args.data_dir)
    if vocabulary > config.vocab_size:
        raise cli.UserError("%s has %d distinct words, more than the model's vocab_size %d; "
                            "use PTB-format files with a 10k vocabulary (%s)"
                            % (args.data_dir, vocabulary, config.vocab_size,
                               fetch_hint("ptb", args.data_dir)))
    for name, data, cfg in (("train", train_data, config), ("valid", valid_data, config),
                            ("test", test_data, eval_config)):
        if reader.epoch_size(len(data), cfg.batch_size, cfg.num_steps) <= 0:
            raise cli.UserError("ptb.%s.txt in %s is too short (%d words) for batches of %d x %d; "
                                "fetch the full files with: %s"
                                % (name, args.data_dir, len(data), cfg.batch_size,
                                   cfg.num_steps, fetch_hint("ptb", args.data_dir)))
    return (train_data, valid_data, test_data), vocabulary, corpus


def build_graph(config, eval_config, data):
    """The train, valid and test models, sharing one set of weights (variable scope Model)."""
    initializer = tf.random_uniform_initializer(-config.init_scale, config.init_scale)
    models = []
    for name, cfg, words, training in (("Train", config, data[0], True),
                                       ("Valid", config, data[1], False),
                                       ("Test", eval_config, data[2], False)):
        with tf.name_scope(name):
            input_ = PTBInput(config=cfg, data=words, name=name + "Input")
            with tf.variable_scope("Model", reuse=not training, initializer=initializer,
                                   custom_getter=precision.compute_dtype_getter(
                                       precision.DTYPES[cfg.dtype])):
                models.append(PTBModel(is_training=training, config=cfg, input_=input_))
    return models


def main(argv=None):
    args = parse_args(argv)
    config, eval_config = get_configs(args)
    data, vocabulary, corpus = load_data(args, config, eval_config)
    device = announce_device()
    if args.dtype != "float32":
        print("dtype: %s compute, float32 weights, loss and gradients%s"
              % (args.dtype, "; BlockLSTM has no bfloat16 kernel and computes in float32"
                 if args.rnn_mode == "block" and args.dtype == "bfloat16" else ""))

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    m, mvalid, mtest = build_graph(config, eval_config, data)
    # epochs finished, saved with the weights so --restore continues at the right epoch
    # (an int32 counter, set once an epoch: it lives on the host, as TensorFlow keeps int32)
    with tf.device("/cpu:0"):
        epochs_done = tf.Variable(0, trainable=False, name="epochs_done")
        new_epochs_done = tf.placeholder(tf.int32, shape=[], name="new_epochs_done")
        set_epochs_done = tf.assign(epochs_done, new_epochs_done)
    saver = tf.train.Saver(max_to_keep=2)
    finite = checkpoints.weights_finite()
    fix = "lower --learning_rate (now %g)" % config.learning_rate
    run = {"restored_valid": None, "train_seconds": 0.0, "train_words": 0}

    with tf.Session(config=session_config()) as session:
        start_epoch, history = restore_or_start(session, saver, args, epochs_done, mvalid, run,
                                                fix)
        writer = (tf.summary.FileWriter(args.checkpoint_dir, session.graph)
                  if args.checkpoint_dir else None)
        steps_per_epoch = (m.input.epoch_size if args.max_steps_per_epoch is None
                           else min(m.input.epoch_size, args.max_steps_per_epoch))
        progress = cli.Progress(total=max(config.max_max_epoch - start_epoch, 0) * steps_per_epoch,
                                unit="steps")

        for i in range(start_epoch, config.max_max_epoch):
            lr_decay = config.lr_decay ** max(i + 1 - config.max_epoch, 0.0)
            m.assign_lr(session, config.learning_rate * lr_decay)

            print("Epoch: %d Learning rate: %.3f" % (i + 1, session.run(m.lr)))
            t0 = time.time()
            train_perplexity, wps = run_epoch(session, m, eval_op=m.train_op, verbose=True,
                                              max_steps=args.max_steps_per_epoch, writer=writer,
                                              first_step=i * steps_per_epoch, fix=fix)
            run["train_seconds"] += time.time() - t0
            run["train_words"] += steps_per_epoch * config.batch_size * config.num_steps
            print("Epoch: %d Train Perplexity: %.3f" % (i + 1, train_perplexity))
            valid_perplexity, _ = run_epoch(session, mvalid, fix=fix)
            print("Epoch: %d Valid Perplexity: %.3f" % (i + 1, valid_perplexity))
            history.append({"epoch": i + 1, "learning_rate": config.learning_rate * lr_decay,
                            "train_perplexity": train_perplexity,
                            "valid_perplexity": valid_perplexity, "train_wps": round(wps, 1)})
            if args.checkpoint_dir:
                writer.add_summary(epoch_summary(history[-1]), i + 1)
                session.run(set_epochs_done, feed_dict={new_epochs_done: i + 1})
                checkpoints.save_with_history(saver, session, args.checkpoint_dir, i + 1,
                                              {"model": args.model, "history": history},
                                              finite, fix)
            print(progress.line((i + 1 - start_epoch) * steps_per_epoch), flush=True)
        if writer:
            writer.close()
        test_perplexity, _ = run_epoch(session, mtest, fix=fix)
        print("Test Perplexity: %.3f" % test_perplexity)
        # the test model for TF Serving (and the grader): a word id and the LSTM state in,
        # the next word's logits and the new state out, layer by layer (c0, h0, c1, h1 ...)
        state_in, state_out = {}, {}
        for i, ((c, h), (c_out, h_out)) in enumerate(zip(mtest.initial_state,
                                                         mtest.final_state)):
            state_in.update({"c%d" % i: c, "h%d" % i: h})
            state_out.update({"c%d" % i: c_out, "h%d" % i: h_out})
        export = serving.export_saved_model(
            session, serving.export_dir(args),
            inputs=dict(word_ids=mtest.input.input_data, **state_in),
            outputs=dict(logits=mtest.logits, **state_out),
            version=session.run(tf.train.get_global_step()))

    if args.checkpoint_dir and config.max_max_epoch > start_epoch:
        print("Model saved in %s" % args.checkpoint_dir)
    if export:
        cli.wrote(export)
    if args.json:
        cli.write_json(args.json, dict(result_record(
            args, config, data, vocabulary, corpus, start_epoch, steps_per_epoch, history,
            test_perplexity, run, device), export=export and cli.shown(export)))
        cli.wrote(args.json)
    if args.plot and history:
        plot_history(history, test_perplexity, args.model, corpus, args.plot)
        cli.wrote(args.plot)
    return 0


def restore_or_start(session, saver, args, epochs_done, mvalid, run, fix):
    """Restore (--restore) and measure the valid perplexity, or initialize; (epoch, history)."""
    start_epoch, saved = checkpoints.restore_with_history(
        saver, session, args.checkpoint_dir, args.restore, args.restore_from,
        counter=epochs_done, key="epoch", what="the %s model" % args.model)
    if args.restore or args.restore_from:
        run["restored_valid"], _ = run_epoch(session, mvalid, fix=fix)
        print("Restored (epoch %d) Valid Perplexity: %.3f" % (start_epoch, run["restored_valid"]))
        return start_epoch, (saved or {}).get("history", [])
    if args.checkpoint_dir and tf.train.latest_checkpoint(args.checkpoint_dir):
        print("starting from scratch; the checkpoints in %s will be replaced "
              "(pass --restore to continue them)" % args.checkpoint_dir)
    return start_epoch, []


def epoch_summary(record):
    """TensorBoard scalars of one epoch: train and valid perplexity."""
    return tf.Summary(value=[
        tf.Summary.Value(tag="epoch/train_perplexity", simple_value=record["train_perplexity"]),
        tf.Summary.Value(tag="epoch/valid_perplexity", simple_value=record["valid_perplexity"])])


def result_record(args, config, data, vocabulary, corpus, start_epoch, steps_per_epoch, history,
                  test_perplexity, run, device):
    """The JSON record of a run."""
    last = history[-1] if history else {}
    return {
        "model": "ptb_" + args.model,
        "config": config_dict(config),
        "dtype": args.dtype,
        "rnn_mode": args.rnn_mode,
        "corpus": corpus,
        "data_dir": os.path.abspath(args.data_dir),
        "words": {"train": len(data[0]), "valid": len(data[1]), "test": len(data[2])},
        "vocabulary": vocabulary,
        "epochs": config.max_max_epoch,
        "epochs_this_run": max(config.max_max_epoch - start_epoch, 0),
        "steps_per_epoch": steps_per_epoch,
        "max_steps_per_epoch": args.max_steps_per_epoch,
        "seed": args.seed,
        "train_perplexity": last.get("train_perplexity"),
        "valid_perplexity": last.get("valid_perplexity"),
        "test_perplexity": test_perplexity,
        "restored_valid_perplexity": run["restored_valid"],
        "wps": (round(run["train_words"] / run["train_seconds"], 1) if run["train_seconds"]
                else None),
        "train_seconds_this_run": round(run["train_seconds"], 1),
        "device": device,
        "tf_version": tf.__version__,
        "reference": REFERENCE,
        "history": history,
    }


if __name__ == "__main__":
    cli.run(main)
