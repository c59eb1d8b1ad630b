"""Write a data set as sharded TFRecord files of tf.train.Examples, for --input queue|dataset.

    python setup/make_tfrecords.py mnist5k            # data/mnist5k -> data/mnist5k/tfrecords/
    python setup/make_tfrecords.py mnist fashion_mnist cifar10
    python setup/make_tfrecords.py captcha chinese_characters   # the sets apps/*/generate.py wrote
    python setup/make_tfrecords.py hwdb --image_size 64         # CASIA's .gnt files, streamed
    python setup/make_tfrecords.py captcha --source_dir runs/x/captcha_data

Blog part 10 puts tf.Example records first among the ways TensorFlow reads
data, and blog part 8 reads HWDB through queues rather than from memory.
Each data set is read from DATA_DIR/NAME (what ``setup/get_data.py NAME``
fetched, or what the apps' generate.py wrote; --source_dir names another
folder) and written into its ``tfrecords/`` subfolder: one
``tf.train.Example`` per image (image: the uint8 pixels; label; index: its
place in the split), the splits of the source (train and test; flowers17
also validation), each in files of about 16 MB of pixels
(``train-00000-of-00003.tfrecord`` ...), and ``manifest.json``.  The files
are written in a staging folder, every file is read back and its records
counted, and only then the folder is moved into place; records that stand
for the same source files (and options) already are left alone.

mnist, mnist5k, fashion_mnist: the IDX files (their training file whole: the
image train scripts train on all of it, mnist_cnn/train.py leaves out the
first 5000 for validation, as with --input feed); cifar10 and flowers17:
as tfcourse/image_data.py reads them (flowers17 at --image_size); captcha:
``train.npz``/``test.npz`` of apps/captcha/generate.py (28x280 images, ten
0/1 labels); chinese_characters: those of apps/chinese_characters/generate.py;
hwdb: every sample of the 3755 GB2312 level-1 classes in the .gnt files,
its ink box scaled and centred in --image_size squares (labels: the index
in the level-1 list), read file by file, never all at once.
"""
import argparse
import collections
import os

from tfcourse import cli, default_data_dir, image_data, input_data, tfrecords

NAMES = tfrecords.DATASETS
#: --image_size defaults: flowers17 as the train scripts read it, hwdb as the character app
IMAGE_SIZE = {"flowers17": 64, "hwdb": 32}

Source = collections.namedtuple("Source", [
    "splits",        # {split: (count, iterable of (image, label))}
    "image_shape", "label_shape", "classes",
    "files",         # the files read (their sizes and times go into the manifest)
    "split_meta",    # {split: {...}} more manifest entries of a split, or None
])


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.split("\n")[1:7]))
    parser.add_argument("names", nargs="+", metavar="NAME",
                        help="data sets to write: %s" % ", ".join(NAMES))
    parser.add_argument("--data_dir", default=default_data_dir(),
                        help="root data directory: NAME is read from DATA_DIR/NAME "
                             "(default: %(default)s, or $TFCOURSE_DATA_DIR)")
    parser.add_argument("--source_dir", default=None,
                        help="read this folder instead of DATA_DIR/NAME (one NAME only); "
                             "the records go into its tfrecords/")
    parser.add_argument("--shards", type=int, default=0,
                        help="files per split (default 0: one per 16 MB of pixels)")
    parser.add_argument("--image_size", type=int, default=None,
                        help="flowers17 and hwdb: side of the square images (default: %s)"
                             % ", ".join("%s %d" % kv for kv in IMAGE_SIZE.items()))
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        raise cli.UserError("unknown data set %s; choose from %s" % (", ".join(unknown),
                                                                     ", ".join(NAMES)))
    if args.source_dir and len(args.names) > 1:
        raise cli.UserError("--source_dir names the folder of one data set; give one NAME")
    if args.shards < 0:
        raise cli.UserError("--shards must be 0 (automatic) or more, got %d" % args.shards)
    if args.image_size is not None:
        cli.check_positive("--image_size", args.image_size)
    return args


def _arrays(images, labels):
    return len(images), zip(images, labels)


def _image_set(name, source_dir, image_size):
    data = image_data.load(name, source_dir, image_size=image_size or 64)
    splits = collections.OrderedDict([("train", _arrays(data.train_images, data.train_labels))])
    if data.validation_images is not None:
        splits["validation"] = _arrays(data.validation_images, data.validation_labels)
    splits["test"] = _arrays(data.test_images, data.test_labels)
    if name == "flowers17":
        names = ["jpg", "datasplits.mat"]
    elif name == "cifar10":
        from tfcourse.datasets import cifar10

        names = [folder + n for folder in ("", cifar10.FOLDER) for n in cifar10.FILES]
    else:
        names = [stem + ext for stem in (input_data.TRAIN_IMAGES, input_data.TRAIN_LABELS,
                                         input_data.TEST_IMAGES, input_data.TEST_LABELS)
                 for ext in ("", ".gz")]
    files = [os.path.join(source_dir, n) for n in names
             if os.path.exists(os.path.join(source_dir, n))]
    return Source(splits, data.image_shape, (), list(data.class_names), files, None)


def _generated_set(name, source_dir):
    from tfcourse import cjk

    fix = "python apps/%s/generate.py" % name
    paths = [os.path.join(source_dir, split + ".npz") for split in ("train", "test")]
    (train_meta, train), (_, test) = (cjk.load_set(p, fix) for p in paths)
    for split, arrays in (("train", train), ("test", test)):
        if "images" not in arrays or "labels" not in arrays:
            raise cli.UserError("%s.npz in %s is not a set of %s; run %s again"
                                % (split, source_dir, fix, fix))
    splits = collections.OrderedDict((split, _arrays(arrays["images"], arrays["labels"]))
                                     for split, arrays in (("train", train), ("test", test)))
    classes = train_meta.get("classes")
    return Source(splits, train["images"].shape[1:], train["labels"].shape[1:],
                  list(classes) if classes else None, paths, None)


def _hwdb(source_dir, image_size):
    from tfcourse import cjk
    from tfcourse.datasets import hwdb

    chars = cjk.level1()
    index = {c: i for i, c in enumerate(chars)}
    splits, files, meta = collections.OrderedDict(), [], {}
    for split in hwdb.ARCHIVES:
        found = hwdb.gnt_files(os.path.join(source_dir, split))
        if not found:
            raise cli.UserError("no .gnt files in %s; fetch them with: python setup/get_data.py "
                                "hwdb" % os.path.join(source_dir, split))
        counts = hwdb.class_counts(found, index)
        splits[split] = (sum(counts), hwdb.samples(found, index, image_size))
        meta[split] = {"class_counts": counts}
        files += found
    return Source(splits, (image_size, image_size), (), chars, files, meta)


def read_source(name, source_dir, image_size):
    """The :class:`Source` of data set ``name`` in its folder ``source_dir``."""
    if not os.path.isdir(source_dir):
        hint = ("python apps/%s/generate.py" % name if name in ("captcha", "chinese_characters")
                else "python setup/get_data.py %s" % name)
        raise cli.UserError("%s: no folder %s; make it first: %s" % (name, source_dir, hint))
    if name in ("captcha", "chinese_characters"):
        return _generated_set(name, source_dir)
    if name == "hwdb":
        return _hwdb(source_dir, image_size or IMAGE_SIZE["hwdb"])
    return _image_set(name, source_dir, image_size)


def options(name, args):
    """The options the records depend on, beside the source files."""
    return {"shards": args.shards or "auto",
            "image_size": (args.image_size or IMAGE_SIZE[name]) if name in IMAGE_SIZE else None}


def make(name, source_dir, args, log=print, any_options=False):
    """Write the TFRecords of ``name`` from ``source_dir`` into its tfrecords/ (unless they
    stand for the same files, and options unless ``any_options``, already); one line
    saying what was done."""
    target = tfrecords.folder(source_dir)
    if os.path.isdir(source_dir) and not os.access(source_dir, os.W_OK):
        raise cli.UserError("cannot write %s (%s is not writable); copy the data set and pass "
                            "--source_dir" % (target, source_dir))
    source = read_source(name, source_dir, args.image_size)
    wanted = options(name, args)
    if not tfrecords.stale(target, source.files):
        manifest = tfrecords.load_manifest(target, name, source_dir)
        if any_options or manifest.get("options") == wanted:
            return "%s: TFRecords in %s are up to date (%s)" % (name, target, _counts(manifest))
    log("%s: writing TFRecords into %s ..." % (name, target))
    manifest = tfrecords.write(target, name, source.splits, source.image_shape,
                               source.label_shape, source.classes, source.files,
                               meta={"options": wanted, "source_dir": cli.shown(source_dir)},
                               split_meta=source.split_meta, shards=args.shards, log=log)
    return "%s: %s, counted back, in %s" % (name, _counts(manifest), target)


def _counts(manifest):
    return ", ".join("%s %d records in %d file%s" % (split, entry["count"], len(entry["files"]),
                                                       "s" if len(entry["files"]) > 1 else "")
                     for split, entry in manifest["splits"].items())


def main(argv=None):
    args = parse_args(argv)
    for name in args.names:
        source_dir = args.source_dir or os.path.join(args.data_dir, name)
        print(make(name, source_dir, args, log=lambda line: print(line, flush=True)),
              flush=True)
    return 0


if __name__ == "__main__":
    cli.run(main)
