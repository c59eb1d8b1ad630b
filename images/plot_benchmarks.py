"""Bar chart of the CNN benchmark timings (seconds per batch) next to the report's figures.

Reads every JSON written by ``<model>/benchmark.py --json`` in --results_dir
and draws, per model, the forward and forward-backward seconds per batch of
each run next to the report's RTX 2070 figures (report §2.3.3, §2.4.3, §2.5.3, §2.6.3, which
give them as screenshots and numbers; the chart is this project's).  Log scale: a 2-core CPU is
one to two orders of magnitude slower than the GPU.

    python images/plot_benchmarks.py        # results/benchmarks/*.json -> runs/plot_benchmarks/
    python images/plot_benchmarks.py --plot images/cnn_benchmarks.png     # record the figure
    python images/plot_benchmarks.py --results_dir /tmp/runs --plot /tmp/bench.png
"""
import argparse
import glob
import json
import os

from tfcourse import RESULTS_DIR, cli
from tfcourse.machine import record_machine

NAME = "plot_benchmarks"

#: the report's four first, then the blog's and the notes' networks by family
MODELS = ['AlexNet', 'VGG-16', 'Inception-V3', 'ResNet-V2-152',
          'VGG-11', 'VGG-11-LRN', 'VGG-13', 'VGG-16-C', 'VGG-19',
          'Inception-V1', 'Inception-ResNet-V2', 'DenseNet-121']

# The report's figures: seconds per batch on an RTX 2070 (None: not reported); its "Backward" is
# the forward-backward pass.  §2.5.1 and §2.6.1 give the batch, 32; §2.3 and §2.4 do not.
REPORT_RTX2070 = {
    'AlexNet': (0.016, 0.044),
    'VGG-16': (0.181, 0.816),
    'Inception-V3': (0.127, None),
    'ResNet-V2-152': (0.214, None),
}


def load_results(results_dir):
    """The benchmark records in results_dir, in MODELS order (other models after them)."""
    paths = sorted(glob.glob(os.path.join(results_dir, '*.json')))
    if not paths:
        raise cli.UserError('no benchmark JSON files in %s; run e.g. python alexnet/benchmark.py '
                            '--json %s/alexnet.json first, or pass --results_dir'
                            % (results_dir, results_dir))
    records = []
    for path in paths:
        try:
            with open(path) as f:
                record = json.load(f)
            record['forward']['mean_sec_per_batch']
            record['model']
        except (ValueError, KeyError, TypeError) as exc:
            raise cli.UserError('%s is not a benchmark result (%s); remove it or rerun the '
                                'benchmark with --json' % (path, exc))
        records.append(record)

    def order(r):
        return (MODELS.index(r['model']) if r['model'] in MODELS else len(MODELS), r['model'])
    return sorted(records, key=order)


def mean_of(record, key):
    return record[key]['mean_sec_per_batch'] if record.get(key) else None


def plot(records, out):
    plt = cli.pyplot()
    models = []
    for r in records:
        if r['model'] not in models:
            models.append(r['model'])
    fig, ax = plt.subplots(figsize=(1.5 * len(models) + 2.5, 5.5))
    width = 0.15  # six bars a model at most: three runs' forward and forward-backward
    colors = {'forward': '#4c72b0', 'forward_backward': '#dd8452'}
    labelled = set()
    not_reported = []
    values = []
    machines = sorted(set(record_machine(r) for r in records))

    def bar(x, value, key, hatch, label):
        if value is None:
            not_reported.append(x)
            return
        values.append(value)
        first = label not in labelled
        labelled.add(label)
        ax.bar(x, value, width, color=colors[key], hatch=hatch, edgecolor='black',
               linewidth=0.5, label=label if first else None)
        ax.text(x, value * 1.08, '%.3g' % value, ha='center', va='bottom', fontsize=7,
                rotation=90)

    for i, model in enumerate(models):
        runs = sorted((r for r in records if r['model'] == model),
                      key=lambda r: r.get('dtype', 'float32') != 'float32')  # float32 first
        bars = []
        for r in runs:
            dtype = r.get('dtype', 'float32')
            tag = '%s %s, batch %d' % (r['device'].upper(), dtype, r['batch_size'])
            if len(machines) > 1:  # say which machine each bar comes from
                tag += ', ' + record_machine(r)
            hatch = '' if dtype == 'float32' else '..'
            bars.append((mean_of(r, 'forward'), 'forward', hatch, 'forward (%s)' % tag))
            bars.append((mean_of(r, 'forward_backward'), 'forward_backward', hatch,
                         'forward-backward (%s)' % tag))
        if model in REPORT_RTX2070:
            fwd, bwd = REPORT_RTX2070[model]
            bars.append((fwd, 'forward', '//', 'forward (report §2.3-2.6, RTX 2070)'))
            bars.append((bwd, 'forward_backward', '//',
                         'forward-backward (report §2.3-2.4, RTX 2070)'))
        offsets = [(j - (len(bars) - 1) / 2.0) * width for j in range(len(bars))]
        for offset, (value, key, hatch, label) in zip(offsets, bars):
            bar(i + offset, value, key, hatch, label)

    ax.set_yscale('log')
    bottom = min(values) / 3
    ax.set_ylim(bottom, max(values) * 40)  # room for the legend above the bars
    for x in not_reported:
        ax.text(x, bottom * 1.15, 'not reported', ha='center', va='bottom', fontsize=7, rotation=90)
    ax.set_xticks(range(len(models)))
    ax.set_xticklabels(models, rotation=20 if len(models) > 6 else 0,
                       ha='right' if len(models) > 6 else 'center')
    ax.set_ylabel('seconds per batch (log scale)')
    ax.set_title('CNN benchmarks: forward and forward-backward time per batch'
                 + (' (%s)' % machines[0] if len(machines) == 1 else ''))
    ax.legend(fontsize=8, loc='upper center', ncol=3)
    ax.grid(axis='y', which='both', alpha=0.3)
    return cli.save_figure(fig, out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--results_dir', default=os.path.join(RESULTS_DIR, 'benchmarks'),
                        help='folder of benchmark JSON files (default results/benchmarks)')
    parser.add_argument('--plot', default=cli.run_dir(NAME, 'cnn_benchmarks.png'), metavar='PATH',
                        help='PNG to write (default: %(default)s)')
    args = parser.parse_args(argv)
    cli.check_outputs(args, "--plot")
    if not os.path.isdir(args.results_dir):
        raise cli.UserError('--results_dir %s is not a folder' % args.results_dir)
    records = load_results(args.results_dir)
    for r in records:
        print('%-14s %-4s batch %-3d forward %8.3f s/batch  forward-backward %s'
              % (r['model'], r['device'], r['batch_size'], mean_of(r, 'forward'),
                 '%8.3f s/batch' % mean_of(r, 'forward_backward')
                 if r.get('forward_backward') else 'not reported'))
    if args.plot:
        cli.wrote(plot(records, args.plot))
    return 0


if __name__ == '__main__':
    cli.run(main)
