"""Fast neural style (Johnson, Alahi & Fei-Fei 2016): train a transform network for one style.

    python apps/fast_neural_style/train.py                 # Starry Night, offline images, 256 px
    python apps/fast_neural_style/train.py --dataset coco --steps 40000   # the paper's setting
    python apps/fast_neural_style/train.py --restore --steps 4000          # continue a run

Blog part 6 explains the method and trains OlavHN/fast-neural-style on COCO
with the VGG-19 loss network; it gives no figure.

The transform network (transform_net.py) turns a batch of random square
crops into stylised images; the frozen loss network (tfcourse/style.py:
``mobilenet_v2`` from the SSDLite graph offline, or MatConvNet's ``vgg19``)
scores them with the perceptual loss of the iterative method
(apps/neural_style): content loss against the crop itself, style loss
against the Gram matrices of the style image (computed once), total
variation.  Adam; checkpoints, TensorBoard summaries (losses, weight
histograms, input and output images) and the graph go to --checkpoint_dir,
with config.json for stylize.py.  Training images: COCO train2014
(``--dataset coco``, python setup/get_data.py coco) or, offline, the OpenCV
sample photos, frames of its clips and Debian's photographic wallpapers
(python setup/get_data.py opencv_samples vtest wallpapers).
"""
import argparse
import os

import numpy as np

from tfcourse.compat import tf, slim, session_config
from tfcourse import cli, default_data_dir, style

import training_images
from transform_net import transform_net

NAME = "fast_neural_style"
DATASETS = ("opencv_samples", "coco")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--style", default="starry_night.jpg",
                   help="style image (a bare name is looked up in the OpenCV samples)")
    p.add_argument("--style_size", type=int, default=0,
                   help="longer side of the style image, pixels (default: --image_size)")
    p.add_argument("--dataset", default="opencv_samples", choices=DATASETS,
                   help="training images (default %(default)s: offline photos + video frames)")
    p.add_argument("--data_dir", default=None,
                   help="folder of the training images (default: data/DATASET)")
    p.add_argument("--vtest_dir", default=default_data_dir("vtest"),
                   help="opencv_samples: also take frames of vtest.avi from here, if present")
    p.add_argument("--wallpapers_dir", default=default_data_dir("wallpapers"),
                   help="opencv_samples: also the photos of the Debian wallpaper packages from "
                        "here, if present (python setup/get_data.py wallpapers)")
    p.add_argument("--frame_step", type=int, default=10,
                   help="opencv_samples: every N-th frame of the clips")
    p.add_argument("--samples_dir", default=default_data_dir("opencv_samples"),
                   help="where a bare --style name is looked up (default: %(default)s)")
    p.add_argument("--network", default="mobilenet_v2", choices=style.NETWORKS,
                   help="loss network (default %(default)s: offline, from the SSDLite graph)")
    p.add_argument("--network_path", default=None,
                   help="its file (default: data/ssdlite/frozen_inference_graph.pb or "
                        "data/vgg19/imagenet-vgg-verydeep-19.mat)")
    p.add_argument("--image_size", type=int, default=256, help="training crops, pixels")
    p.add_argument("--width", type=cli.finite_float, default=1.0,
                   help="transform network channels x this (1: the paper's 32/64/128)")
    p.add_argument("--batch_size", type=int, default=4)
    p.add_argument("--steps", type=int, default=2000, help="train until this global step")
    p.add_argument("--max_seconds", type=cli.finite_float, default=0,
                   help="also stop (with a checkpoint) after this many seconds (0: no limit)")
    p.add_argument("--learning_rate", type=cli.finite_float, default=1e-3)
    for i, flag in enumerate(("content_weight", "style_weight", "tv_weight")):
        p.add_argument("--" + flag, type=cli.finite_float, default=None,
                       help="default: %s" % ", ".join("%g (%s)" % (w[i], n)
                                                      for n, w in style.DEFAULT_WEIGHTS.items()))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log_every", type=int, default=20, help="progress every N steps")
    p.add_argument("--summary_every", type=int, default=20, help="TensorBoard every N steps")
    p.add_argument("--save_every", type=int, default=200, help="checkpoint every N steps")
    # the names of the first recorded commands, kept working
    p.add_argument("--print_every", dest="log_every", type=int, help=argparse.SUPPRESS)
    p.add_argument("--checkpoint_every", dest="save_every", type=int, help=argparse.SUPPRESS)
    cli.add_checkpoint_flags(p, NAME)
    cli.add_output_flags(p, NAME)
    args = p.parse_args(argv)
    for i, flag in enumerate(("content_weight", "style_weight", "tv_weight")):
        if getattr(args, flag) is None:
            setattr(args, flag, style.DEFAULT_WEIGHTS[args.network][i])
        if getattr(args, flag) < 0:
            raise cli.UserError("--%s must not be negative" % flag)
    for flag in ("image_size", "batch_size", "steps", "learning_rate", "frame_step", "width",
                 "log_every", "summary_every", "save_every"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if args.image_size < 16:
        raise cli.UserError("--image_size must be at least 16 pixels")
    args.style_size = args.style_size or args.image_size
    args.data_dir = args.data_dir or default_data_dir(args.dataset)
    if not os.path.exists(args.style) and not os.path.dirname(args.style):
        args.style = os.path.join(args.samples_dir, args.style)
    cli.check_outputs(args, "--json", "--plot", folders=("--checkpoint_dir",))  # before any work
    return args


def style_grams(net, style_image):
    """{style layer: [C, C] Gram matrix} of the style image, in a graph of its own."""
    with tf.Graph().as_default():
        image = tf.placeholder(tf.float32, [1, None, None, 3], name="style_image")
        features = net(image)
        grams = {layer: style.gram_matrix(features[layer])[0] for layer in net.style_layers}
        with tf.Session(config=session_config()) as sess:
            return sess.run(grams, {image: style_image[None]})


def main(argv=None):
    args = parse_args(argv)
    style_image = style.load_image(args.style, args.style_size, "style image")
    net = style.loss_network(args.network, args.network_path)
    frames = []
    if args.dataset == "coco":
        images, data_description = training_images.coco_images(args.data_dir)
    else:
        images, frames, data_description = training_images.opencv_sample_images(
            args.data_dir, args.vtest_dir, args.frame_step, args.wallpapers_dir,
            max_side=2 * args.image_size)
    print("loss network: %s" % net.description)
    print("training images: %s; crops %dx%d, batch %d; style %s at %dx%d"
          % (data_description, args.image_size, args.image_size, args.batch_size, args.style,
             style_image.shape[1], style_image.shape[0]))
    grams = style_grams(net, style_image)

    # ---------------------------------------------------------------- graph
    tf.reset_default_graph()
    tf.set_random_seed(args.seed)
    size, batch = args.image_size, args.batch_size
    content_images = tf.placeholder(tf.float32, [batch, size, size, 3], name="content_images")
    stylized = transform_net(content_images, width=args.width)
    # one pass of the loss network over the crops and their stylised versions
    features = net(tf.concat([content_images, stylized], 0))
    content_features = {layer: tf.stop_gradient(features[layer][:batch])
                        for layer in net.content_layers}
    stylized_features = {layer: features[layer][batch:] for layer in features}
    with tf.name_scope("loss"):
        style_targets = [{layer: tf.constant(grams[layer], name="gram_" + layer.replace("/", "_"))
                          for layer in net.style_layers}]
        c_loss = style.content_loss(stylized_features, content_features, net.content_layers)
        s_loss = style.style_loss(stylized_features, style_targets, net.style_layers)
        tv_loss = style.total_variation_loss(stylized)
        loss = args.content_weight * c_loss + args.style_weight * s_loss + args.tv_weight * tv_loss
    global_step = tf.train.get_or_create_global_step()
    train_op = tf.train.AdamOptimizer(args.learning_rate).minimize(loss, global_step=global_step)

    tf.summary.scalar("loss/total", loss)
    tf.summary.scalar("loss/content", c_loss)
    tf.summary.scalar("loss/style", s_loss)
    tf.summary.scalar("loss/tv", tv_loss)
    tf.summary.scalar("learning_rate", tf.constant(args.learning_rate))
    for variable in slim.get_model_variables("transform_net"):
        tf.summary.histogram(variable.op.name, variable)
    tf.summary.image("input", tf.cast(content_images, tf.uint8), max_outputs=2)
    tf.summary.image("stylized", tf.cast(tf.clip_by_value(stylized, 0, 255), tf.uint8),
                     max_outputs=2)
    summary_op = tf.summary.merge_all()
    saver = tf.train.Saver(var_list=tf.global_variables(), max_to_keep=2)

    # ---------------------------------------------------------------- train
    os.makedirs(args.checkpoint_dir, exist_ok=True)
    prefix = os.path.join(args.checkpoint_dir, "model.ckpt")
    cli.write_json(os.path.join(args.checkpoint_dir, "config.json"), {
        "network": args.network, "network_path": args.network_path, "style": args.style,
        "style_size": args.style_size, "image_size": size, "width": args.width,
        "weights": [args.content_weight, args.style_weight, args.tv_weight]})
    rng = np.random.RandomState(args.seed)
    crops = training_images.batches(images, batch, size, rng, frames=frames)
    curve = {"step": [], "total": [], "content": [], "style": [], "tv": []}
    with tf.Session(config=session_config()) as sess:
        sess.run(tf.global_variables_initializer())
        start = 0
        if args.restore:
            latest = tf.train.latest_checkpoint(args.checkpoint_dir)
            if latest is None:
                raise cli.UserError("--restore: no checkpoint in %s; run without --restore"
                                    % args.checkpoint_dir)
            try:
                saver.restore(sess, latest)
            except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError,
                    tf.errors.DataLossError) as exc:
                raise cli.UserError("--restore: %s does not fit this network (%s); use another "
                                    "--checkpoint_dir" % (latest, exc.message.splitlines()[0]))
            start = int(sess.run(global_step))
            print("restored %s at step %d" % (latest, start))
        if start >= args.steps:
            raise cli.UserError("--restore: the checkpoint is at step %d already; raise --steps "
                                "beyond it" % start)
        writer = tf.summary.FileWriter(args.checkpoint_dir, sess.graph)
        progress = cli.Progress(args.steps, unit="steps", initial=start)
        step, window = start, []
        while step < args.steps:
            feed = {content_images: next(crops)}
            fetches = [train_op, global_step, loss, c_loss, s_loss, tv_loss]
            want_summary = (step + 1) % args.summary_every == 0
            if want_summary:
                fetches.append(summary_op)
            values = sess.run(fetches, feed)
            step = int(values[1])
            if not np.isfinite(values[2]):
                raise cli.UserError("the loss became %s at step %d (not checkpointed); lower "
                                    "--learning_rate or --style_weight" % (values[2], step))
            if want_summary:
                writer.add_summary(values[-1], step)
            window.append(values[2:6])
            out_of_time = args.max_seconds and progress.elapsed() >= args.max_seconds
            if step % args.log_every == 0 or step == args.steps or out_of_time:
                mean = np.mean(window, axis=0)
                window = []
                for key, value in zip(("total", "content", "style", "tv"), mean):
                    curve[key].append(float(value))
                curve["step"].append(step)
                progress.update(step, loss=float(mean[0]),
                                content=float(mean[1] * args.content_weight),
                                style=float(mean[2] * args.style_weight),
                                tv=float(mean[3] * args.tv_weight))
            if step % args.save_every == 0 or step == args.steps or out_of_time:
                saver.save(sess, prefix, global_step=step)
            if out_of_time:
                print("--max_seconds %g reached at step %d" % (args.max_seconds, step))
                break
        writer.close()
    seconds = progress.elapsed()
    print("trained steps %d..%d in %.0f s (%.2f s/step), checkpoint %s-%d"
          % (start, step, seconds, seconds / max(step - start, 1), prefix, step))
    if args.plot and curve["step"]:
        plot(args, curve)
        cli.wrote(args.plot)
    if args.json:
        cli.write_json(args.json, {
            "script": "apps/fast_neural_style/train.py",
            "method": "Johnson et al. 2016 transform network (resize-convolution, instance norm)",
            "network": args.network, "network_description": net.description,
            "style": os.path.basename(args.style), "style_size": args.style_size,
            "dataset": args.dataset, "data": data_description,
            "image_size": size, "batch_size": batch, "learning_rate": args.learning_rate,
            "width": args.width,
            "weights": {"content": args.content_weight, "style": args.style_weight,
                        "tv": args.tv_weight},
            "start_step": start, "steps": step, "seconds": round(seconds, 1),
            "seconds_per_step": round(seconds / max(step - start, 1), 3),
            "machine": "shared 2-core CPU, no GPU",
            "losses_unweighted": {k: {"first": curve[k][0], "last": curve[k][-1]}
                                  for k in ("total", "content", "style", "tv")}
            if curve["step"] else {},
            "curve": curve, "checkpoint_dir": cli.shown(cli.kept_folder(args.checkpoint_dir)),
        })
        cli.wrote(args.json)
    return 0


def plot(args, curve):
    plt = cli.pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.plot(curve["step"], curve["total"], label="total")
    for key, weight in (("content", args.content_weight), ("style", args.style_weight),
                        ("tv", args.tv_weight)):
        ax.plot(curve["step"], [v * weight for v in curve[key]], label="%s x %g" % (key, weight))
    ax.set_yscale("log")
    ax.set_xlabel("step (batch %d, %d px)" % (args.batch_size, args.image_size))
    ax.set_ylabel("perceptual loss (%s)" % args.network)
    ax.legend()
    ax.set_title("fast neural style: %s" % os.path.basename(args.style))
    cli.save_figure(fig, args.plot)


if __name__ == "__main__":
    cli.run(main)
