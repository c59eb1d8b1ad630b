"""Time the four CNN benchmarks and the MNIST CNN in float32 and in bfloat16, in one sequence.

    python setup/bfloat16_speedup.py              # the four nets, batch 32; the MNIST CNN
    python setup/bfloat16_speedup.py --nets alexnet,vgg16 --num_batches 10
    lscpu | grep -o 'avx512_bf16\\|amx_bf16'        # the units that make bfloat16 fast

bfloat16 is fast on a CPU only where the CPU has bfloat16 units (AVX512_BF16
or AMX, lscpu's avx512_bf16 and amx_bf16 flags: Intel Xeons since Cooper
Lake and Sapphire Rapids).  Elsewhere, as on this project's AMD EPYC VMs
(AVX2 only), TensorFlow emulates it and it is no faster than float32: the
record names the CPU and its units, and its speed-ups then say nothing about
the goal (this project's: bfloat16 forward at least 1.6x float32 on AlexNet
and 1.9x on VGG-16, as fast as Keras' mixed_bfloat16 and tf_cnn_benchmarks'
float32-storage getter were on such a CPU).

For each of --nets, NET/benchmark.py --device cpu runs with --dtype float32
and then --dtype bfloat16 (float32 master weights), back to back, --batch_size
images a batch, --num_batches timed after --num_warmup; then
mnist_cnn/train.py trains --mnist_steps steps in each dtype on --mnist_data_dir
(its steps/s after the first tenth).  The record (--json, default
runs/bfloat16_speedup/) gives every time and the speed-ups, float32's time over
bfloat16's.
"""
import argparse
import collections

from tfcourse import cli, default_data_dir, throughput

NAME = "bfloat16_speedup"
#: --nets: the benchmark script of each
NETS = collections.OrderedDict([("alexnet", "alexnet/benchmark.py"),
                                ("vgg16", "vggnet/benchmark.py"),
                                ("inception_v3", "googlenet/benchmark.py"),
                                ("resnet_v2_152", "resnet/benchmark.py")])
DTYPES = ("float32", "bfloat16")
MNIST_CNN = "mnist_cnn/train.py"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.split("\n")[1:5]))
    parser.add_argument("--nets", default=",".join(NETS),
                        help="benchmarks to time, of %s (default: all)" % ", ".join(NETS))
    parser.add_argument("--batch_size", type=int, default=32, help="(default: %(default)s)")
    parser.add_argument("--num_batches", type=int, default=20,
                        help="timed batches of each pass (default: %(default)s)")
    parser.add_argument("--num_warmup", type=int, default=2,
                        help="untimed batches before each timing (default: %(default)s)")
    parser.add_argument("--mnist_data_dir", default=default_data_dir("mnist"),
                        help="the MNIST CNN's data (default: %(default)s)")
    parser.add_argument("--mnist_steps", type=int, default=2000,
                        help="the MNIST CNN's steps in each dtype; 0 leaves it out "
                             "(default: %(default)s)")
    cli.add_output_flags(parser, NAME, plot=False)
    args = parser.parse_args(argv)
    for flag in ("batch_size", "num_batches"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if args.num_warmup < 0 or args.mnist_steps < 0:
        raise cli.UserError("--num_warmup and --mnist_steps must not be negative")
    args.nets = [n.strip() for n in args.nets.split(",") if n.strip()]
    unknown = sorted(set(args.nets) - set(NETS))
    if unknown or not args.nets:
        raise cli.UserError("--nets %s: choose from %s" % (",".join(unknown) or "''",
                                                           ", ".join(NETS)))
    cli.check_outputs(args, "--json")
    return args


def speedup(float32, bfloat16):
    """float32's time over bfloat16's (above 1: bfloat16 is faster), or None."""
    return float32 / bfloat16 if float32 and bfloat16 else None


def time_net(net, args, log):
    """One net's benchmark in both dtypes: the seconds a batch of each pass, the speed-ups."""
    entry = {}
    for dtype in DTYPES:
        record, command = throughput.run_record(NETS[net], [
            "--device", "cpu", "--dtype", dtype, "--batch_size", args.batch_size,
            "--num_batches", args.num_batches, "--num_warmup", args.num_warmup], log)
        entry[dtype] = {"forward": record["forward"]["mean_sec_per_batch"],
                        "forward_backward": (record.get("forward_backward") or {}).get(
                            "mean_sec_per_batch"),
                        "dtype_notes": record.get("dtype_notes"), "noisy": record.get("noisy"),
                        "command": command}
    for which in ("forward", "forward_backward"):
        entry[which + "_speedup"] = speedup(entry["float32"][which], entry["bfloat16"][which])
    return entry


def time_mnist_cnn(args, log):
    """The MNIST CNN's training steps/s in both dtypes (after the first tenth)."""
    entry = {"steps": args.mnist_steps, "data_dir": cli.shown(args.mnist_data_dir)}
    for dtype in DTYPES:
        record, command = throughput.run_record(MNIST_CNN, [
            "--data_dir", args.mnist_data_dir, "--steps", args.mnist_steps, "--dtype", dtype,
            "--log_every", max(1, args.mnist_steps // 10), "--save_every", args.mnist_steps,
            "--checkpoint_dir", "", "--plot", ""], log)
        entry[dtype] = {"steps_per_second": throughput.steady_steps_per_second(
                            record, args.mnist_steps // 10),
                        "test_accuracy": record.get("test_accuracy"), "command": command}
    rates = [entry[dtype]["steps_per_second"] for dtype in DTYPES]
    entry["speedup"] = rates[1] / rates[0] if all(rates) else None  # bfloat16's over float32's
    return entry


def main(argv=None):
    args = parse_args(argv)

    def log(line):
        print(line, flush=True)

    before = throughput.machine()
    record = {"cpu": before["cpu"], "cores": before["cores"],
              "vector_units": before["vector_units"],
              "bfloat16_units": before["bfloat16_units"],
              "note": ("this CPU has %s for bfloat16" % ", ".join(before["bfloat16_units"])
                       if before["bfloat16_units"] else
                       "this CPU has neither AVX512_BF16 nor AMX: bfloat16 is emulated, no "
                       "faster than float32; the goal waits for a CPU with bfloat16 units"),
              "batch_size": args.batch_size, "num_batches": args.num_batches,
              "num_warmup": args.num_warmup, "device": "cpu",
              "load_average_before": before["load_average"], "benchmarks": {}}
    print("%s: %s" % (NAME, record["note"]), flush=True)
    for net in args.nets:
        record["benchmarks"][net] = entry = time_net(net, args, log)
        print("%s: %s forward %.2fx, forward-backward %s" % (
            NAME, net, entry["forward_speedup"], "%.2fx" % entry["forward_backward_speedup"]
            if entry["forward_backward_speedup"] else "not timed"), flush=True)
    for net in NETS:  # the figures of these are not graded (setup/reproduce.py)
        record["benchmarks"].setdefault(net, {"left_out": "not in --nets (%s)"
                                                          % ",".join(args.nets)})
    record["mnist_cnn"] = {"left_out": "--mnist_steps 0"}
    if args.mnist_steps:
        record["mnist_cnn"] = time_mnist_cnn(args, log)
        print("%s: MNIST CNN steps/s float32 %.2f, bfloat16 %.2f" % (
            NAME, record["mnist_cnn"]["float32"]["steps_per_second"] or 0,
            record["mnist_cnn"]["bfloat16"]["steps_per_second"] or 0), flush=True)
    record["load_average_after"] = throughput.machine()["load_average"]
    if args.json:
        cli.wrote(cli.write_json(args.json, record))
    return 0


if __name__ == "__main__":
    cli.run(main)
