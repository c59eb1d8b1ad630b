"""Time a train script's input modes against its compute bound: how much of a step is input.

    python setup/input_overhead.py mnist_cnn/train.py --data_dir data/mnist --steps 1000
    python setup/input_overhead.py resnet/train.py --dataset fashion_mnist --width 0.5 \\
        --augment flip --steps 300 --batch_size 64
    python setup/input_overhead.py mnist_cnn/lenet5.py --dataset mnist5k --steps 300 --repeats 3

One after another, in one run on one machine, the script trains --steps steps
of --batch_size with each --input mode: constant (one batch held in the
graph: the same network's forward-backward step and update with no input at
all, the compute bound), feed (the book's feed_dict), queue (blog part 8's
queue runners) and dataset (tf.data), the last two over the set's TFRecords
(written first when missing, as python setup/make_tfrecords.py does).
No evaluation and no checkpoint falls inside the timed steps; a mode's rate
is taken from its history after the first --num_warmup steps (default a tenth:
graph optimisation, queues filling).  With --repeats N each mode runs N times
(in turns) and its fastest run counts.  The record gives each mode's steps/s
and images/s and its overhead over the compute bound in per cent: the time a
step takes beyond the bound's, 100 * (bound's images/s / mode's images/s - 1);
the best mode is the one with the least.  The JSON (--json) and a bar chart
(--plot) go under runs/input_overhead/ by default.
"""
import argparse
import os

from tfcourse import cli, default_data_dir, throughput, tfrecords

import make_tfrecords

NAME = "input_overhead"
MODES = ("constant", "feed", "queue", "dataset")
#: a mode this much faster than the compute bound (a fraction of its step time) tells of a
#: disturbed timing: on a loaded machine (load 15 on 2 cores) LeNet-5's constant batch ran
#: at 26-48 ms a step and tf.data's at 15 ms, on 14 and 20 ms of CPU: waiting for the CPU,
#: not computing, made the difference
IMPLAUSIBLE = 0.05
#: the book's MNIST CNN has its own flags: no --dataset, --width, --augment, --eval_every or
#: --weights (the five image train scripts of tfcourse/training.py have them all)
BOOK_CNN = "mnist_cnn/train.py"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[1:6]))
    parser.add_argument("script", help="a train script with --input: %s or one of the five "
                                       "image train scripts (mnist_cnn/lenet5.py, ...)"
                                       % BOOK_CNN)
    parser.add_argument("--dataset", default=None,
                        help="its data set (default: the --data_dir folder's name)")
    parser.add_argument("--data_dir", default=None,
                        help="the data set's folder (default: the data folder's <dataset>/)")
    parser.add_argument("--steps", type=int, default=500,
                        help="training steps of each run (default: %(default)s)")
    parser.add_argument("--num_warmup", type=int, default=None,
                        help="steps left out of the timing (default: a tenth of --steps)")
    parser.add_argument("--batch_size", type=int, default=None,
                        help="(default: the script's)")
    parser.add_argument("--width", type=cli.finite_float, default=None,
                        help="the five image train scripts: --width (default: the script's)")
    parser.add_argument("--augment", default=None,
                        help="the five image train scripts: --augment (default: the script's)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="the --input modes to time, constant first: the others are "
                             "compared with it (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each mode, in turns; the fastest counts (default 1)")
    cli.add_output_flags(parser, NAME)
    args = parser.parse_args(argv)
    for flag in ("steps", "repeats"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if args.batch_size is not None:
        cli.check_positive("--batch_size", args.batch_size)
    args.modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not args.modes or args.modes[0] != "constant" or set(args.modes) - set(MODES):
        raise cli.UserError("--modes %s: give constant first, then any of %s"
                            % (",".join(args.modes), ", ".join(MODES[1:])))
    args.script = os.path.relpath(os.path.abspath(args.script), _repo())
    if not os.path.isfile(os.path.join(_repo(), args.script)):
        raise cli.UserError("no script %s; give a train script with --input, e.g. %s"
                            % (args.script, BOOK_CNN))
    if args.script == BOOK_CNN and (args.width is not None or args.augment is not None):
        raise cli.UserError("%s has no --width or --augment" % BOOK_CNN)
    if args.data_dir is None and args.dataset is None:
        raise cli.UserError("name the data: --data_dir DIR (and --dataset NAME when the "
                            "folder is not named after it)")
    args.dataset = args.dataset or os.path.basename(os.path.normpath(args.data_dir))
    args.data_dir = args.data_dir or default_data_dir(args.dataset)
    args.num_warmup = args.steps // 10 if args.num_warmup is None else args.num_warmup
    if not 0 <= args.num_warmup < args.steps:
        raise cli.UserError("--num_warmup must be at least 0 and below --steps %d" % args.steps)
    cli.check_outputs(args, "--json", "--plot")
    return args


def _repo():
    from tfcourse import REPO_ROOT

    return REPO_ROOT


def script_args(args, mode):
    """The train script's arguments for one timed run of ``mode``: logged ten times, no
    evaluation or checkpoint inside the run, nothing kept."""
    argv = ["--data_dir", args.data_dir, "--steps", args.steps, "--input", mode,
            "--log_every", max(1, args.steps // 10), "--save_every", args.steps,
            "--checkpoint_dir", "", "--plot", ""]
    if args.batch_size:
        argv += ["--batch_size", args.batch_size]
    if args.script != BOOK_CNN:
        argv += ["--dataset", args.dataset, "--eval_every", args.steps, "--weights", ""]
        for flag in ("width", "augment"):
            if getattr(args, flag) is not None:
                argv += ["--" + flag, getattr(args, flag)]
    return argv


def measure(args, log=print):
    """Run every mode (--repeats times, in turns) and return the record."""
    before = throughput.machine()
    runs = {mode: [] for mode in args.modes}
    for turn in range(args.repeats):
        for mode in args.modes:
            log("%s: %s, run %d of %d" % (NAME, mode, turn + 1, args.repeats))
            record, command = throughput.run_record(args.script, script_args(args, mode), log)
            rate = throughput.steady_steps_per_second(record, args.num_warmup)
            if rate is None:
                raise cli.UserError("%s logged too few steps after --num_warmup %d to time; give "
                                    "more --steps" % (command, args.num_warmup))
            runs[mode].append({"steps_per_second": rate, "command": command,
                               "test_accuracy": record.get("test_accuracy"),
                               "batch_size": record["batch_size"]})
    return summarize(args, runs, before, throughput.machine(), record)


def summarize(args, runs, before, after, last):
    """The record: per mode its fastest run's steps/s and images/s and, beside the compute
    bound (constant), the overhead as a fraction of the bound's step time; ``before`` and
    ``after``: the machine (throughput.machine) before and after the runs; ``last``: the
    last run's record."""
    modes = {}
    for mode, done in runs.items():
        best = max(done, key=lambda r: r["steps_per_second"])
        modes[mode] = dict(best, images_per_second=best["steps_per_second"] * best["batch_size"],
                           all_steps_per_second=[r["steps_per_second"] for r in done])
    bound = modes["constant"]["images_per_second"]
    overhead = {mode: bound / m["images_per_second"] - 1.0 for mode, m in modes.items()
                if mode != "constant"}
    for mode, value in overhead.items():
        modes[mode]["overhead"] = value
    best = min(overhead, key=overhead.get) if overhead else None
    noisy = []
    if before["load_average"][0] > before["cores"] or after["load_average"][0] > after["cores"] + 1:
        noisy.append("load average %.1f before, %.1f after the runs, on %d cores"
                     % (before["load_average"][0], after["load_average"][0], before["cores"]))
    faster = [mode for mode, value in overhead.items() if value < -IMPLAUSIBLE]
    if faster:  # input work added to the same step cannot make it faster
        noisy.append("%s ran faster than the compute bound: the machine disturbed the timing"
                     % " and ".join(faster))
    return {
        "script": args.script, "model": last.get("model"), "dataset": args.dataset,
        "data_dir": cli.shown(args.data_dir), "batch_size": last["batch_size"],
        "steps": args.steps, "warmup_steps": args.num_warmup, "repeats": args.repeats,
        "width": last.get("width"), "dtype": last.get("dtype"), "device": last.get("device"),
        "tf_version": last.get("tf_version"),
        "modes": modes, "compute_bound_images_per_second": bound,
        "overhead": overhead, "best_mode": best,
        "best_overhead": overhead[best] if best else None,
        "cpu": before["cpu"], "cores": before["cores"], "vector_units": before.get("vector_units"),
        "load_average_before": before["load_average"],
        "load_average_after": after["load_average"], "noisy": noisy,
    }


def plot(record, path):
    """Images/s of each mode as bars, the compute bound as a line, overheads written on."""
    plt = cli.pyplot()
    modes = list(record["modes"])
    rates = [record["modes"][m]["images_per_second"] for m in modes]
    fig, ax = plt.subplots(figsize=(7, 4))
    bars = ax.bar(modes, rates, color=["C7"] + ["C0"] * (len(modes) - 1))
    ax.axhline(record["compute_bound_images_per_second"], color="gray", ls="--", lw=0.8,
               label="compute bound (constant batch in the graph)")
    for bar, mode in zip(bars, modes):
        text = ("%.0f" % bar.get_height() if mode == "constant" else
                "%.0f\n%+.0f %%" % (bar.get_height(), 100 * record["modes"][mode]["overhead"]))
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("training images/s")
    ax.set_ylim(0, 1.25 * max(rates))
    ax.set_title("%s on %s, batch %d: --input modes (%s)" % (
        record["model"], record["dataset"], record["batch_size"], record["cpu"]), fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return cli.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    if set(args.modes) & {"queue", "dataset"}:  # the TFRecords the two modes read
        if args.dataset not in tfrecords.DATASETS:
            raise cli.UserError("--dataset %s: no TFRecords are made for it; use one of %s"
                                % (args.dataset, ", ".join(tfrecords.DATASETS)))
        print(make_tfrecords.make(args.dataset, args.data_dir,
                                  make_tfrecords.parse_args([args.dataset]), any_options=True),
              flush=True)
    record = measure(args, log=lambda line: print(line, flush=True))
    bound = record["compute_bound_images_per_second"]
    print("%s: compute bound %.0f images/s; %s" % (NAME, bound, "; ".join(
        "%s %.0f images/s (%+.1f %%)" % (mode, record["modes"][mode]["images_per_second"],
                                        100 * value)
        for mode, value in record["overhead"].items())))
    if record["noisy"]:
        print("%s: warning: noisy (%s); time again on a quiet machine"
              % (NAME, "; ".join(record["noisy"])))
    if args.json:
        cli.wrote(cli.write_json(args.json, record))
    if args.plot:
        cli.wrote(plot(record, args.plot))
    return 0


if __name__ == "__main__":
    cli.run(main)
