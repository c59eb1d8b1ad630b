"""Chinese character recognition: a CNN over GB2312 level-1 classes, TF1 graph mode.

    python apps/chinese_characters/generate.py      # once: fonts, distorted, 500 classes
    python apps/chinese_characters/train.py         # 2000 steps of 64
    python apps/chinese_characters/train.py --learning_rate 3e-4 --steps 16000 \\
        --eval_every 1000                           # all 3755 (generate.py --num_classes 0)
    python apps/chinese_characters/train.py --dataset hwdb --num_classes 0 --image_size 64 \\
        --steps 100000                              # CASIA HWDB1.1 (.gnt), all 3755 classes
    tensorboard --logdir runs/apps_chinese_characters

Model (this project's; blog part 8's HWDB network is two 3x3 convolutions of
32 and 64 maps, each with 2x2 max pooling, and one fully connected layer over
the 3755 classes, Adam 1e-4 at 64x64): four stages of 3x3 convolution + batch
normalisation + ReLU + 2x2 max pooling (32, 64, 128, 256 maps) -> a 512-unit
fully connected layer (dropout optional) -> softmax over the classes; Adam,
the learning rate falling tenfold after half and three quarters of the steps
(--lr_drops).  Data: ``--dataset fonts`` (default) reads the train.npz /
test.npz of generate.py (training fonts / the held-out Kai font);
``--dataset hwdb`` streams CASIA's HWDB1.1 (python setup/get_data.py hwdb),
keeping the first --num_classes level-1 characters: from its TFRecords in
DATA_DIR/tfrecords when python setup/make_tfrecords.py hwdb wrote them,
otherwise from the .gnt files in DATA_DIR/train and DATA_DIR/test, sample by
sample, never the whole 2.4 GB at once (blog part 8's warning); the training
batches are drawn from a shuffle buffer of 10000 samples.  The last
--validation training images (hwdb: the first ones, one writer's) are held
back for the curve; at the end the test set gives top-1 and top-k accuracy.
The class list is saved beside the checkpoints (classes.json) for predict.py.
"""
import argparse
import json
import os
import time

import numpy as np

from tfcourse.compat import tf, slim, gpu_names, session_config
from tfcourse import cjk, cli, default_data_dir, serving, training

import char_data

NAME = "apps_chinese_characters"
GENERATE = "python apps/chinese_characters/generate.py"
GET_HWDB = "python setup/get_data.py hwdb"
CLASSES_FILE = "classes.json"
BLOG = {"top1": 0.437, "top3": 0.603,
        "note": "blog part 8's CNN, trained on CASIA HWDB1.1 (3755 classes), after 200000 "
                "steps, on the HWDB1.1 test set (223872 characters): not comparable with "
                "rendered fonts"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", choices=["fonts", "hwdb"], default="fonts",
                   help="fonts: the sets of generate.py; hwdb: CASIA HWDB1.1 .gnt files")
    p.add_argument("--data_dir", default=None,
                   help="default data/chinese_characters (fonts) or data/hwdb (hwdb)")
    cli.add_checkpoint_flags(p, NAME)
    cli.add_output_flags(p, NAME)
    p.add_argument("--num_classes", type=int, default=500,
                   help="hwdb only: the first N GB2312 level-1 characters (0 = all 3755)")
    p.add_argument("--image_size", type=int, default=32, help="hwdb only: input size")
    p.add_argument("--steps", type=int, default=2000, help="total training steps")
    p.add_argument("--batch_size", type=int, default=64)
    p.add_argument("--learning_rate", type=cli.finite_float, default=1e-3,
                   help="Adam's rate; all 3755 classes need 3e-4 (1e-3 stays at chance)")
    p.add_argument("--lr_drops", type=training.lr_drops, default=[0.5, 0.75], metavar="F1,F2",
                   help="the learning rate falls tenfold after these fractions of --steps")
    p.add_argument("--keep_prob", type=cli.finite_float, default=1.0,
                   help="dropout keep probability of the 512-unit layer (1 = no dropout: "
                        "here it slowed learning more than it helped)")
    p.add_argument("--top_k", type=int, default=3)
    p.add_argument("--validation", type=int, default=2000,
                   help="training images held back for the validation curve")
    p.add_argument("--eval_every", type=int, default=500)
    p.add_argument("--log_every", type=int, default=50)
    p.add_argument("--save_every", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    serving.add_export_flag(p)
    args = p.parse_args(argv)
    for flag in ("steps", "batch_size", "learning_rate", "top_k", "validation", "eval_every",
                 "log_every", "save_every", "image_size"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if not 0.0 < args.keep_prob <= 1.0:
        raise cli.UserError("--keep_prob must be in (0, 1], got %g" % args.keep_prob)
    if args.batch_size > 4096:
        raise cli.UserError("--batch_size %d is too large; use at most 4096" % args.batch_size)
    args.data_dir = args.data_dir or default_data_dir(
        "chinese_characters" if args.dataset == "fonts" else "hwdb")
    cli.check_outputs(args, "--json", "--plot", folders=("--checkpoint_dir",))  # before any work
    serving.check_export_dir(args)
    return args


def load_data(args):
    """(classes, source, train images, train labels, test images, test labels); for hwdb
    the images are char_data.Streams, read as they are needed, and the labels None."""
    if args.dataset == "hwdb":
        chars = char_data.classes(args.num_classes)
        train, test = (char_data.hwdb_split(args.data_dir, split, chars, args.image_size,
                                            GET_HWDB) for split in ("train", "test"))
        source = {"data": "CASIA HWDB1.1 in %s, streamed from its %s" % (
                      args.data_dir, train.source.split(" in ")[0]),
                  "train": "HWDB1.1trn", "test": "HWDB1.1tst (other writers)"}
        return chars, source, train, None, test, None
    train_meta, train = cjk.load_set(os.path.join(args.data_dir, "train.npz"), GENERATE)
    test_meta, test = cjk.load_set(os.path.join(args.data_dir, "test.npz"), GENERATE)
    if train_meta.get("classes") != test_meta.get("classes") or "images" not in train:
        raise cli.UserError("train.npz and test.npz in %s do not belong together; run %s again"
                            % (args.data_dir, GENERATE))
    source = {"data": "characters rendered from Debian CJK fonts by "
                      "apps/chinese_characters/generate.py, distorted",
              "train_fonts": train_meta["font_keys"], "test_font": test_meta["font_keys"],
              "font_families": train_meta.get("fonts", {}),
              "characters": train_meta.get("characters"),
              "distortion": train_meta.get("distortion"),
              "per_class": {"train_per_font": train_meta.get("per_class"),
                            "test": test_meta.get("per_class")}}
    return (list(train_meta["classes"]), source, train["images"], train["labels"],
            test["images"], test["labels"])


# ---------------------------------------------------------------- the model
def character_cnn(images, num_classes, keep_prob, is_training):
    """uint8 images [N, S, S] -> logits [N, num_classes]."""
    with tf.name_scope("preprocess"):
        x = tf.expand_dims(1.0 - tf.cast(images, tf.float32) / 255.0, -1)   # ink = 1
    with slim.arg_scope([slim.conv2d], kernel_size=[3, 3], padding="SAME",
                        normalizer_fn=slim.batch_norm,
                        normalizer_params={"is_training": is_training, "decay": 0.95}),\
            slim.arg_scope([slim.max_pool2d], kernel_size=[2, 2], stride=2, padding="SAME"):
        net = x
        for i, depth in enumerate((32, 64, 128, 256), 1):
            net = slim.conv2d(net, depth, scope="conv%d" % i)
            net = slim.max_pool2d(net, scope="pool%d" % i)
    net = slim.flatten(net, scope="flatten")
    net = slim.fully_connected(net, 512, scope="fc5")
    net = tf.nn.dropout(net, keep_prob=keep_prob, name="dropout")
    logits = slim.fully_connected(net, num_classes, activation_fn=None, scope="logits")
    return logits


def build_model(image_size, num_classes, learning_rate, top_k, steps, lr_drops):
    images = tf.placeholder(tf.uint8, [None, image_size, image_size], name="images")
    labels = tf.placeholder(tf.int32, [None], name="labels")
    keep_prob = tf.placeholder_with_default(1.0, [], name="keep_prob")
    is_training = tf.placeholder_with_default(False, [], name="is_training")
    logits = character_cnn(images, num_classes, keep_prob, is_training)
    with tf.name_scope("output"):
        probabilities = tf.nn.softmax(logits, name="probabilities")
        tf.nn.top_k(probabilities, k=min(top_k, num_classes), name="top_k")
    with tf.name_scope("loss"):
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    with tf.name_scope("accuracy"):
        top1 = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, 1), tf.float32))
        topk = tf.reduce_mean(tf.cast(tf.nn.in_top_k(logits, labels, min(top_k, num_classes)),
                                      tf.float32))
        hits = tf.stack([tf.nn.in_top_k(logits, labels, 1),
                         tf.nn.in_top_k(logits, labels, min(top_k, num_classes))], 1,
                        name="hits")
    global_step = tf.train.get_or_create_global_step()              # int64: has a GPU kernel
    learning_rate = training.step_schedule(global_step, learning_rate, steps, lr_drops)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)        # batch-norm statistics
    with tf.control_dependencies(update_ops):
        train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss, global_step=global_step)

    tf.summary.scalar("loss", loss)
    tf.summary.scalar("top1_accuracy", top1)
    tf.summary.scalar("top%d_accuracy" % top_k, topk)
    tf.summary.scalar("learning_rate", learning_rate)
    tf.summary.image("characters", tf.expand_dims(images, -1), max_outputs=4)
    for var in tf.trainable_variables():
        tf.summary.histogram(var.op.name, var)
    return dict(images=images, labels=labels, keep_prob=keep_prob, is_training=is_training,
                logits=logits, probabilities=probabilities,
                classes=tf.argmax(logits, 1, name="classes"), loss=loss, hits=hits,
                global_step=global_step, train_op=train_op,
                summary=tf.summary.merge_all())


# --------------------------------------------------------------- training
def evaluate(sess, model, images, labels, batch_size=500):
    """(top-1 accuracy, top-k accuracy) over a whole set, in batches; ``images`` may be a
    char_data.Stream (``labels`` None), read batch by batch."""
    batches = (images.in_batches(batch_size) if labels is None else
               ((images[i:i + batch_size], labels[i:i + batch_size])
                for i in range(0, len(images), batch_size)))
    hits = np.concatenate([sess.run(model["hits"], {model["images"]: x, model["labels"]: y})
                           for x, y in batches])
    return float(hits[:, 0].mean()), float(hits[:, 1].mean())


def plot_history(history, test, top_k, path):
    plt = cli.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax1.semilogy([h["step"] for h in history], [h["loss"] for h in history], lw=0.8,
                 color="C1")
    ax1.set_xlabel("step")
    ax1.set_ylabel("training cross-entropy")
    val = [h for h in history if "val_top1" in h]
    ax2.plot([h["step"] for h in val], [h["val_top1"] for h in val], marker="o",
             label="top-1 (validation, training fonts)")
    ax2.plot([h["step"] for h in val], [h["val_topk"] for h in val], marker="o",
             label="top-%d (validation)" % top_k)
    ax2.axhline(test["top1"], color="C0", ls="--", lw=0.8,
                label="test, held-out: top-1 %.1f%%" % (100 * test["top1"]))
    ax2.axhline(test["topk"], color="C1", ls="--", lw=0.8,
                label="test, held-out: top-%d %.1f%%" % (top_k, 100 * test["topk"]))
    ax2.set_ylim(0.0, 1.005)
    ax2.set_xlabel("step")
    ax2.set_ylabel("accuracy")
    ax2.legend(loc="lower right", fontsize=8)
    fig.suptitle("Chinese character CNN")
    fig.tight_layout()
    cli.save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    chars, source, x_all, y_all, x_test, y_test = load_data(args)
    if len(x_all) <= args.validation:
        raise cli.UserError("only %d training images: fewer than --validation %d; generate more "
                            "or lower --validation" % (len(x_all), args.validation))
    if y_all is None:  # hwdb: a stream; the first --validation samples are held back
        image_size = args.image_size
        (x_val, y_val), x_train = x_all.hold_out(args.validation)
        y_train = None
    else:
        image_size = int(x_all.shape[1])
        x_val, y_val = x_all[-args.validation:], y_all[-args.validation:]
        x_train, y_train = x_all[:-args.validation], y_all[:-args.validation]
    print("data: %d classes, %dx%d; %d train, %d validation, %d test images"
          % (len(chars), image_size, image_size, len(x_train), len(x_val), len(x_test)),
          flush=True)

    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    model = build_model(image_size, len(chars), args.learning_rate, args.top_k, args.steps,
                        args.lr_drops)
    os.makedirs(args.checkpoint_dir, exist_ok=True)
    cli.write_json(os.path.join(args.checkpoint_dir, CLASSES_FILE),
                   {"classes": "".join(chars), "image_size": image_size,
                    "dataset": args.dataset})

    def validate(sess):
        top1, topk = evaluate(sess, model, x_val, y_val)
        return [("val_top1", "validation/top1_accuracy", top1),
                ("val_topk", "validation/top%d_accuracy" % args.top_k, topk)]

    with tf.Session(config=session_config()) as sess:
        history, steps_done, train_seconds = training.fit(sess, model, x_train, y_train, args,
                                                          validate)
        start_time = time.time()
        top1, topk = evaluate(sess, model, x_test, y_test)
        eval_seconds = time.time() - start_time
        # for TF Serving (and the grader): images in, classes out; the characters they stand
        # for in assets.extra/classes.json
        export = serving.export_saved_model(
            sess, serving.export_dir(args), inputs={"images": model["images"]},
            outputs={"logits": model["logits"], "probabilities": model["probabilities"],
                     "classes": model["classes"]},
            version=sess.run(model["global_step"]),
            extra_files={CLASSES_FILE: os.path.join(args.checkpoint_dir, CLASSES_FILE)})

    print("test (%d images): top-1 accuracy %.4f, top-%d accuracy %.4f"
          % (len(x_test), top1, args.top_k, topk))
    result = dict(source, **{
        "script": "apps/chinese_characters/train.py",
        "model": "4 x (conv 3x3 + batch norm + max-pool 2x2) 32/64/128/256, fc 512, softmax",
        "dataset": args.dataset, "num_classes": len(chars), "image_size": image_size,
        "sizes": {"train": len(x_train), "validation": len(x_val), "test": len(x_test)},
        "steps": args.steps, "steps_this_run": steps_done, "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "lr_drop_steps": training.lr_drop_steps(args.steps, args.lr_drops),
        "keep_prob": args.keep_prob, "seed": args.seed,
        "top_k": args.top_k,
        "test_top1_accuracy": top1, "test_top%d_accuracy" % args.top_k: topk,
        "validation_top1_accuracy": history[-1].get("val_top1") if history else None,
        "blog_reference": BLOG,
        "train_seconds_this_run": round(train_seconds, 1),
        "test_seconds": round(eval_seconds, 1),
        "device": (gpu_names() or ["CPU"])[0],
        "tf_version": tf.__version__,
        "history": history,
        "export": export and cli.shown(export),
    })
    if export:
        cli.wrote(export)
    if args.json:
        cli.wrote(cli.write_json(args.json, result))
    if args.plot and history:
        plot_history(history, {"top1": top1, "topk": topk}, args.top_k, args.plot)
        cli.wrote(args.plot)
    return 0


def load_classes(checkpoint_dir):
    """The class list and image size train.py saved beside its checkpoints."""
    path = os.path.join(checkpoint_dir, CLASSES_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
        return list(meta["classes"]), int(meta["image_size"])
    except (OSError, ValueError, KeyError) as exc:
        raise cli.UserError("no readable %s in %s (%s); train first (python "
                            "apps/chinese_characters/train.py) or pass --checkpoint_dir"
                            % (CLASSES_FILE, checkpoint_dir, exc.__class__.__name__))


if __name__ == "__main__":
    cli.run(main)
