"""Neural style (Gatys, Ecker & Bethge 2015): optimise an image's pixels against a pretrained CNN.

    python apps/neural_style/stylize.py                    # building.jpg as Starry Night, 256 px
    python apps/neural_style/stylize.py --content messi5.jpg --styles starry_night.jpg graf1.png \\
        --style_blend_weights 0.7 0.3 --size 512 --optimizer lbfgs --preserve_colors
    python apps/neural_style/stylize.py --network vgg19    # the paper's VGG-19 (get_data.py vgg19)

Blog part 2 explains the method and walks through an open-source TensorFlow
version on the pretrained VGG-19; it gives no figure.

The loss network is frozen; the only variable is the image.  Its loss:
content_weight * content loss (mean squared feature difference at the
content layer) + style_weight * style loss (mean squared difference of the
Gram matrices at the style layers, blended over several style images) +
tv_weight * total variation.  Loss networks (tfcourse/style.py):
``mobilenet_v2`` (offline default: the COCO MobileNet-V2 inside the SSDLite
detector, python setup/get_data.py ssdlite) or ``vgg19`` (MatConvNet's
imagenet-vgg-verydeep-19.mat, content relu4_2, style relu1_1 ... relu5_1).
Adam (default) or L-BFGS (SciPy, pixels bounded to [0, 255]).  Every
--checkpoint_every iterations the current image goes to --checkpoint_dir,
with the TensorBoard scalars; --restore continues from the latest one.
Relative image names are looked up in the OpenCV samples
(python setup/get_data.py opencv_samples).
"""
import argparse
import glob
import os
import re

import numpy as np

from tfcourse.compat import tf, session_config
from tfcourse import cli, default_data_dir, style

NAME = "neural_style"
#: per loss network: content, style and TV weights (tfcourse.style) and the Adam step size
#: in pixel units (vgg19: the classic implementation's 10; mobilenet_v2: tried here)
DEFAULT_WEIGHTS = {network: weights + ({"vgg19": 10.0, "mobilenet_v2": 5.0}[network],)
                   for network, weights in style.DEFAULT_WEIGHTS.items()}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--content", default="building.jpg",
                   help="content image (a bare name is looked up in the OpenCV samples)")
    p.add_argument("--styles", nargs="+", default=["starry_night.jpg"],
                   help="one or more style images")
    p.add_argument("--style_blend_weights", nargs="+", type=cli.finite_float, default=None,
                   help="one weight per style image (normalised to sum 1; default equal)")
    p.add_argument("--network", default="mobilenet_v2", choices=style.NETWORKS,
                   help="loss network (default %(default)s: offline, from the SSDLite graph)")
    p.add_argument("--network_path", default=None,
                   help="its file (default: data/ssdlite/frozen_inference_graph.pb or "
                        "data/vgg19/imagenet-vgg-verydeep-19.mat)")
    p.add_argument("--pooling", default="max", choices=["max", "avg"], help="VGG-19 pooling")
    p.add_argument("--size", type=int, default=256,
                   help="longer side of the content image and result, pixels (0: as it is)")
    p.add_argument("--style_scale", type=cli.finite_float, default=1.0,
                   help="style images are scaled to --size times this")
    p.add_argument("--content_weight", type=cli.finite_float, default=None,
                   help="default: %s" % ", ".join("%g (%s)" % (w[0], n)
                                                  for n, w in DEFAULT_WEIGHTS.items()))
    p.add_argument("--style_weight", type=cli.finite_float, default=None,
                   help="default: %s" % ", ".join("%g (%s)" % (w[1], n)
                                                  for n, w in DEFAULT_WEIGHTS.items()))
    p.add_argument("--tv_weight", type=cli.finite_float, default=None,
                   help="default: %s" % ", ".join("%g (%s)" % (w[2], n)
                                                  for n, w in DEFAULT_WEIGHTS.items()))
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--optimizer", default="adam", choices=["adam", "lbfgs"])
    p.add_argument("--learning_rate", type=cli.finite_float, default=None,
                   help="Adam step size in pixel units (0..255); default: %s"
                   % ", ".join("%g (%s)" % (w[3], n) for n, w in DEFAULT_WEIGHTS.items()))
    p.add_argument("--init", default="content", choices=["content", "noise"],
                   help="start from the content image or from uniform noise")
    p.add_argument("--seed", type=int, default=0, help="noise seed")
    p.add_argument("--preserve_colors", action="store_true",
                   help="keep the content image's colours (luminance transfer, YCrCb)")
    p.add_argument("--print_every", type=int, default=25, help="progress every N iterations")
    p.add_argument("--checkpoint_every", type=int, default=100,
                   help="save the current image (and an image summary) every N iterations")
    p.add_argument("--output", default=cli.run_dir(NAME, "result.png"),
                   help="the stylised image (default: %(default)s)")
    p.add_argument("--samples_dir", default=default_data_dir("opencv_samples"),
                   help="where bare image names are looked up (default: %(default)s)")
    cli.add_checkpoint_flags(p, NAME)
    cli.add_output_flags(p, NAME)
    args = p.parse_args(argv)
    defaults = DEFAULT_WEIGHTS[args.network]
    for i, flag in enumerate(("content_weight", "style_weight", "tv_weight", "learning_rate")):
        if getattr(args, flag) is None:
            setattr(args, flag, defaults[i])
        if getattr(args, flag) < 0:
            raise cli.UserError("--%s must not be negative" % flag)
    for flag in ("iterations", "learning_rate", "print_every", "checkpoint_every",
                 "style_scale"):
        cli.check_positive("--" + flag, getattr(args, flag))
    if args.size < 0:
        raise cli.UserError("--size must not be negative")
    blend = args.style_blend_weights or [1.0] * len(args.styles)
    if len(blend) != len(args.styles) or min(blend) < 0 or sum(blend) <= 0:
        raise cli.UserError("--style_blend_weights needs %d non-negative weights, not all 0"
                            % len(args.styles))
    args.style_blend_weights = [w / sum(blend) for w in blend]
    args.content = image_path(args.content, args.samples_dir)
    args.styles = [image_path(s, args.samples_dir) for s in args.styles]
    cli.check_outputs(args, "--json", "--plot", "--output", folders=("--checkpoint_dir",))
    return args


def image_path(name, samples_dir):
    """A path as given, or a bare file name found in the OpenCV samples folder."""
    if os.path.exists(name) or os.path.dirname(name):
        return name
    return os.path.join(samples_dir, name)


def latest_checkpoint_image(directory):
    """(iteration, path) of the newest iter_N.png in ``directory``, or (0, None)."""
    found = []
    for path in glob.glob(os.path.join(directory, "iter_*.png")):
        match = re.match(r"iter_(\d+)\.png$", os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return max(found) if found else (0, None)


def main(argv=None):
    args = parse_args(argv)
    content = style.load_image(args.content, args.size, "content image")
    styles = [style.load_image(s, int(round(max(content.shape[:2]) * args.style_scale)),
                               "style image") for s in args.styles]
    net = style.loss_network(args.network, args.network_path, args.pooling)
    print("loss network: %s" % net.description)
    print("content %s %dx%d, styles %s (blend %s), %s, %d iterations"
          % (args.content, content.shape[1], content.shape[0], ", ".join(args.styles),
             ", ".join("%.2f" % w for w in args.style_blend_weights), args.optimizer,
             args.iterations))

    start_iteration, start_image = 0, None
    if args.restore:
        start_iteration, path = latest_checkpoint_image(args.checkpoint_dir)
        if path is None:
            raise cli.UserError("--restore: no iter_N.png in %s; run without --restore"
                                % args.checkpoint_dir)
        start_image = style.load_image(path, 0, "checkpoint image")
        if start_image.shape != content.shape:
            raise cli.UserError("--restore: %s is %dx%d, the content is %dx%d; use the same "
                                "--size or another --checkpoint_dir"
                                % (path, start_image.shape[1], start_image.shape[0],
                                   content.shape[1], content.shape[0]))
        print("restored iteration %d from %s (the optimiser's state starts afresh)"
              % (start_iteration, path))
    if start_iteration >= args.iterations:
        raise cli.UserError("--restore: %s already holds iteration %d of %d; raise --iterations"
                            % (args.checkpoint_dir, start_iteration, args.iterations))

    # ---------------------------------------------------------------- graph
    tf.reset_default_graph()
    with tf.name_scope("targets"):  # features of the content and style images, computed once
        target_input = tf.placeholder(tf.float32, [1, None, None, 3], name="target_input")
        target_features = net(target_input)
        target_grams = {layer: style.gram_matrix(target_features[layer])[0]
                        for layer in net.style_layers}

    if start_image is not None:
        initial = start_image
    elif args.init == "noise":
        initial = np.random.RandomState(args.seed).uniform(0, 255, content.shape)
    else:
        initial = content
    image = tf.Variable(initial[None].astype(np.float32), name="image")
    features = net(image)
    content_in = {layer: tf.placeholder(tf.float32, features[layer].shape,
                                        name="content_" + layer.replace("/", "_"))
                  for layer in net.content_layers}
    grams_in = [{layer: tf.placeholder(tf.float32, [features[layer].shape[-1]] * 2,
                                   name="gram%d_%s" % (i, layer.replace("/", "_")))
                 for layer in net.style_layers} for i in range(len(styles))]
    with tf.name_scope("loss"):
        c_loss = style.content_loss(features, content_in, net.content_layers)
        s_loss = style.style_loss(features, grams_in, net.style_layers, args.style_blend_weights)
        tv_loss = style.total_variation_loss(image)
        loss = args.content_weight * c_loss + args.style_weight * s_loss + args.tv_weight * tv_loss
    summaries = tf.summary.merge([tf.summary.scalar("loss/total", loss),
                                  tf.summary.scalar("loss/content", c_loss),
                                  tf.summary.scalar("loss/style", s_loss),
                                  tf.summary.scalar("loss/tv", tv_loss)])
    image_summary = tf.summary.image("image", tf.cast(tf.clip_by_value(image, 0, 255), tf.uint8))
    if args.optimizer == "adam":
        train_op = tf.train.AdamOptimizer(args.learning_rate).minimize(loss, var_list=[image])
    else:
        gradient = tf.gradients(loss, image)[0]
        pixels_in = tf.placeholder(tf.float32, image.shape, name="pixels")
        assign = image.assign(pixels_in)

    # ---------------------------------------------------------------- optimise
    curve = {"iteration": [], "total": [], "content": [], "style": [], "tv": []}
    os.makedirs(args.checkpoint_dir, exist_ok=True)
    with tf.Session(config=session_config()) as sess:
        sess.run(tf.global_variables_initializer())
        feed = {}
        targets = sess.run(target_features, {target_input: content[None]})
        for layer in net.content_layers:
            feed[content_in[layer]] = targets[layer]
        for grams, style_image in zip(grams_in, styles):
            values = sess.run(target_grams, {target_input: style_image[None]})
            feed.update({grams[layer]: values[layer] for layer in net.style_layers})
        writer = tf.summary.FileWriter(args.checkpoint_dir, sess.graph)
        progress = cli.Progress(args.iterations, unit="it", initial=start_iteration)
        parts = [loss, c_loss, s_loss, tv_loss]

        def record(iteration, values, summary):
            if not all(np.isfinite(values)):
                raise cli.UserError("the loss became %s at iteration %d; lower --learning_rate "
                                    "or --style_weight" % (values[0], iteration))
            for key, value in zip(("total", "content", "style", "tv"), values):
                curve[key].append(float(value))
            curve["iteration"].append(iteration)
            writer.add_summary(summary, iteration)

        def report(iteration):
            if iteration % args.print_every == 0 or iteration == args.iterations:
                progress.update(iteration, loss=curve["total"][-1],
                                content=curve["content"][-1] * args.content_weight,
                                style=curve["style"][-1] * args.style_weight,
                                tv=curve["tv"][-1] * args.tv_weight)
            if iteration % args.checkpoint_every == 0 or iteration == args.iterations:
                pixels = sess.run(image)[0]
                style.save_image(os.path.join(args.checkpoint_dir, "iter_%d.png" % iteration),
                                 pixels)
                writer.add_summary(sess.run(image_summary), iteration)

        record(start_iteration, *sess.run([parts, summaries], feed))
        if args.optimizer == "adam":
            for iteration in range(start_iteration + 1, args.iterations + 1):
                _, values, summary = sess.run([train_op, parts, summaries], feed)
                # the losses are those of the image before this step's update
                record(iteration, values, summary)
                report(iteration)
            values, summary = sess.run([parts, summaries], feed)
        else:
            import scipy.optimize

            state = {"iteration": start_iteration}

            def loss_and_gradient(x):
                sess.run(assign, {pixels_in: x.reshape(image.shape).astype(np.float32)})
                value, grad = sess.run([loss, gradient], feed)
                return float(value), grad.ravel().astype(np.float64)

            def callback(x):
                state["iteration"] += 1
                sess.run(assign, {pixels_in: x.reshape(image.shape).astype(np.float32)})
                record(state["iteration"], *sess.run([parts, summaries], feed))
                report(state["iteration"])

            x0 = sess.run(image).ravel().astype(np.float64)
            scipy.optimize.minimize(
                loss_and_gradient, x0, jac=True, method="L-BFGS-B", callback=callback,
                bounds=[(0.0, 255.0)] * x0.size,
                options={"maxiter": args.iterations - start_iteration, "maxcor": 10})
            values, summary = sess.run([parts, summaries], feed)
        result = sess.run(image)[0]
        writer.close()
    seconds = progress.elapsed()
    done = curve["iteration"][-1] - start_iteration

    if args.preserve_colors:
        result = style.preserve_colors(content, result)
    cli.wrote(style.save_image(args.output, result))
    losses = lambda i: {"total": curve["total"][i], "content": curve["content"][i],  # noqa: E731
                        "style": curve["style"][i], "tv": curve["tv"][i]}
    print("loss %.4g -> %.4g (content %.4g -> %.4g, style %.4g -> %.4g, tv %.4g -> %.4g, "
          "unweighted), %.3f s/iteration, network %s"
          % (curve["total"][0], values[0], curve["content"][0], values[1], curve["style"][0],
             values[2], curve["tv"][0], values[3], seconds / max(done, 1), args.network))
    if args.plot:
        titles = ["content: %s" % os.path.basename(args.content)]
        titles += ["style: %s" % os.path.basename(s) for s in args.styles]
        titles.append("result: %d %s iterations (%s)" % (curve["iteration"][-1], args.optimizer,
                                                        args.network))
        cli.wrote(style.side_by_side(args.plot, [content] + styles + [result], titles))
    if args.json:
        end = {"total": float(values[0]), "content": float(values[1]),
               "style": float(values[2]), "tv": float(values[3])}
        cli.write_json(args.json, {
            "script": "apps/neural_style/stylize.py",
            "method": "Gatys et al. 2015, iterative (pixels optimised)",
            "network": args.network, "network_description": net.description,
            "content_layers": list(net.content_layers), "style_layers": list(net.style_layers),
            "content": os.path.basename(args.content),
            "styles": [os.path.basename(s) for s in args.styles],
            "style_blend_weights": args.style_blend_weights,
            "size": args.size, "height": int(content.shape[0]), "width": int(content.shape[1]),
            "weights": {"content": args.content_weight, "style": args.style_weight,
                        "tv": args.tv_weight},
            "optimizer": args.optimizer, "learning_rate": args.learning_rate,
            "init": "restored" if args.restore else args.init,
            "preserve_colors": args.preserve_colors,
            "iterations": int(curve["iteration"][-1]), "start_iteration": start_iteration,
            "losses_unweighted": {"start": losses(0), "end": end},
            "seconds": round(seconds, 2),
            "seconds_per_iteration": round(seconds / max(done, 1), 4),
            "machine": "shared 2-core CPU, no GPU",
            "curve": curve, "output": cli.shown(args.output),
        })
        cli.wrote(args.json)
    return 0


if __name__ == "__main__":
    cli.run(main)
