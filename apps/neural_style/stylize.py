"""Neural style (Gatys, Ecker & Bethge 2015): optimise an image's pixels against a pretrained CNN.

    python apps/neural_style/stylize.py                    # building.jpg as Starry Night, 256 px
    python apps/neural_style/stylize.py --content messi5.jpg --styles starry_night.jpg graf1.png \\
        --style_blend_weights 0.7 0.3 --size 512 --preserve_colors
    python apps/neural_style/stylize.py --network vgg19    # the paper's VGG-19 (get_data.py vgg19)

Blog part 2 explains the method and walks through an open-source TensorFlow
version on the pretrained VGG-19; it gives no figure.

The loss network is frozen; the only variable is the image, initialised from
the content image as in anishathalye/neural-style.  Its loss:
content_weight * content loss (mean squared feature difference at the
content layer) + style_weight * style loss (mean squared difference of the
Gram matrices at the style layers, weighted by --style_layer_weights and
blended over several style images) + tv_weight * total variation.  Loss
networks (tfcourse/style.py): ``mobilenet_v2`` (offline default: the COCO
MobileNet-V2 inside the SSDLite detector, python setup/get_data.py ssdlite)
or ``vgg19`` (MatConvNet's imagenet-vgg-verydeep-19.mat, content relu4_2,
style relu1_1 ... relu5_1).  L-BFGS (SciPy, pixels bounded to [0, 255];
default) or Adam, --iterations at each size of the schedule: with --octaves
N the image is optimised at --size / 2^(N-1), ..., --size, each result
upscaled to start the next.  Every --save_every iterations the current image
goes to --checkpoint_dir, with the TensorBoard scalars; --restore continues
from the latest one.  The JSON holds the losses and the measures of
tfcourse/style.py (colour movement in CIELAB, checkerboard energy).
Relative image names are looked up in the OpenCV samples
(python setup/get_data.py opencv_samples).
"""
import argparse
import glob
import os
import re
import time

import cv2
import numpy as np

from tfcourse.compat import tf, session_config
from tfcourse import cli, default_data_dir, style

NAME = "neural_style"
ITERATIONS, OCTAVES = 200, 2
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
    p.add_argument("--style_layer_weights", nargs="+", type=cli.finite_float, default=None,
                   help="one weight per style layer (normalised to sum 1; default equal)")
    p.add_argument("--iterations", type=int, default=ITERATIONS,
                   help="iterations at each size of the schedule (default %(default)s)")
    p.add_argument("--octaves", type=int, default=OCTAVES,
                   help="image-size schedule: optimise at --size / 2^(N-1), ..., --size / 2, "
                        "--size, each result upscaled to start the next (default %(default)s)")
    p.add_argument("--optimizer", default="lbfgs", choices=["adam", "lbfgs"],
                   help="L-BFGS (SciPy, pixels bounded to [0, 255]; default) or Adam")
    p.add_argument("--learning_rate", type=cli.finite_float, default=None,
                   help="Adam step size in pixel units (0..255); default: %s"
                   % ", ".join("%g (%s)" % (w[3], n) for n, w in DEFAULT_WEIGHTS.items()))
    p.add_argument("--init", default="content", choices=["content", "noise"],
                   help="start from the content image or from uniform noise")
    p.add_argument("--seed", type=int, default=0, help="noise seed")
    p.add_argument("--preserve_colors", action="store_true",
                   help="keep the content image's colours (luminance transfer, YCrCb)")
    p.add_argument("--log_every", type=int, default=25, help="progress every N iterations")
    p.add_argument("--save_every", type=int, default=100,
                   help="save the current image (and an image summary) every N iterations")
    # the names of the first recorded commands, kept working
    p.add_argument("--print_every", dest="log_every", type=int, help=argparse.SUPPRESS)
    p.add_argument("--checkpoint_every", dest="save_every", type=int, help=argparse.SUPPRESS)
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
    for flag in ("iterations", "octaves", "learning_rate", "log_every", "save_every",
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


def stage_sizes(size, octaves):
    """The longer side of each stage of the image-size schedule: size / 2^(octaves-1) ... size."""
    return [max(16, int(round(size / 2.0 ** k))) for k in range(octaves - 1, -1, -1)]


def main(argv=None):
    args = parse_args(argv)
    full = style.load_image(args.content, args.size, "content image")
    sizes = stage_sizes(max(full.shape[:2]), args.octaves)
    net = style.loss_network(args.network, args.network_path, args.pooling)
    layer_weights = style_layer_weights(args, net)
    print("loss network: %s" % net.description)
    print("content %s %dx%d, styles %s (blend %s), %s, %d iterations at each of %s px"
          % (args.content, full.shape[1], full.shape[0], ", ".join(args.styles),
             ", ".join("%.2f" % w for w in args.style_blend_weights), args.optimizer,
             args.iterations, "/".join(str(s) for s in sizes)))
    total = args.iterations * len(sizes)

    start_iteration, start_image = 0, None
    if args.restore:
        start_iteration, path = latest_checkpoint_image(args.checkpoint_dir)
        if path is None:
            raise cli.UserError("--restore: no iter_N.png in %s; run without --restore"
                                % args.checkpoint_dir)
        start_image = style.load_image(path, 0, "checkpoint image")
        stage = min(start_iteration // args.iterations, len(sizes) - 1)
        fits = {sizes[stage]} | ({sizes[stage - 1]} if stage and not start_iteration
                                 % args.iterations else set())  # at a stage's end
        if max(start_image.shape[:2]) not in fits and start_iteration < total:
            raise cli.UserError("--restore: %s is %dx%d, not the %d px of stage %d; use the same "
                                "--size and --octaves or another --checkpoint_dir"
                                % (path, start_image.shape[1], start_image.shape[0],
                                   sizes[stage], stage + 1))
        print("restored iteration %d from %s (the optimiser's state starts afresh)"
              % (start_iteration, path))
    if start_iteration >= total:
        raise cli.UserError("--restore: %s already holds iteration %d of %d; raise --iterations"
                            % (args.checkpoint_dir, start_iteration, total))

    curve = {"iteration": [], "total": [], "content": [], "style": [], "tv": [], "size": []}
    os.makedirs(args.checkpoint_dir, exist_ok=True)
    progress = cli.Progress(total, unit="it", initial=start_iteration)
    image, stages = start_image, []
    for k, size in enumerate(sizes):
        first, last = k * args.iterations, (k + 1) * args.iterations
        if start_iteration >= last:
            continue
        content = style.resize_to(full, size) if size != max(full.shape[:2]) else full
        styles = [style.load_image(s, int(round(max(content.shape[:2]) * args.style_scale)),
                                   "style image") for s in args.styles]
        if image is None:
            image = (content if args.init == "content" else
                     np.random.RandomState(args.seed).uniform(0, 255, content.shape))
        elif image.shape != content.shape:  # the previous stage's result, upscaled
            image = cv2.resize(image, (content.shape[1], content.shape[0]),
                               interpolation=cv2.INTER_CUBIC)
        image, info = optimise(args, net, layer_weights, content, styles, image,
                               max(first, start_iteration), last, curve, progress)
        stages.append(dict(info, size=size, height=int(content.shape[0]),
                           width=int(content.shape[1])))
    seconds = progress.elapsed()
    result, content = image, full
    values = stages[-1]["end"]

    if args.preserve_colors:
        result = style.preserve_colors(content, result)
    cli.wrote(style.save_image(args.output, result))
    styles = [style.load_image(s, int(round(max(content.shape[:2]) * args.style_scale)),
                               "style image") for s in args.styles]
    measures = style.image_measures(content, result, styles[0])
    evaluations = sum(s["evaluations"] for s in stages)
    done = sum(s["iterations"] for s in stages)
    print("loss %.4g -> %.4g (content %.4g -> %.4g, style %.4g -> %.4g, tv %.4g -> %.4g, "
          "unweighted, at %d px); %d iterations, %d evaluations in %.1f s, network %s; colour "
          "towards the style %.2f, checkerboard %.2fx the content's"
          % (curve["total"][0], values["total"], curve["content"][0], values["content"],
             curve["style"][0], values["style"], curve["tv"][0], values["tv"], sizes[-1], done,
             evaluations, seconds, args.network, measures["colour"]["towards_style"],
             measures["checkerboard"]["ratio"]))
    if args.plot:
        titles = ["content: %s" % os.path.basename(args.content)]
        titles += ["style: %s" % os.path.basename(s) for s in args.styles]
        titles.append("result: %s, %d iterations at %s px (%s)"
                      % (args.optimizer, args.iterations, "/".join(str(s) for s in sizes),
                         args.network))
        cli.wrote(style.side_by_side(args.plot, [content] + styles + [result], titles))
    if args.json:
        start = {k: curve[k][0] for k in ("total", "content", "style", "tv")}
        cli.write_json(args.json, {
            "script": "apps/neural_style/stylize.py",
            "method": "Gatys et al. 2015, iterative (pixels optimised)",
            "network": args.network, "network_description": net.description,
            "content_layers": list(net.content_layers), "style_layers": list(net.style_layers),
            "style_layer_weights": [layer_weights[layer] for layer in net.style_layers],
            "content": os.path.basename(args.content),
            "styles": [os.path.basename(s) for s in args.styles],
            "style_blend_weights": args.style_blend_weights,
            "size": args.size, "height": int(content.shape[0]), "width": int(content.shape[1]),
            "sizes": sizes, "octaves": args.octaves,
            "weights": {"content": args.content_weight, "style": args.style_weight,
                        "tv": args.tv_weight},
            "optimizer": args.optimizer, "learning_rate": args.learning_rate,
            "init": "restored" if args.restore else args.init,
            "preserve_colors": args.preserve_colors,
            "iterations": int(curve["iteration"][-1]), "start_iteration": start_iteration,
            "evaluations": evaluations, "stages": stages,
            "losses_unweighted": {"start": start, "end": values},
            "measures": measures,
            "seconds": round(seconds, 2),
            "seconds_per_image": round(seconds, 2) if not start_iteration else None,
            "seconds_per_iteration": round(seconds / max(done, 1), 4),
            "machine": "shared 2-core CPU, no GPU",
            "curve": curve, "output": cli.shown(args.output),
        })
        cli.wrote(args.json)
    return 0


def style_layer_weights(args, net):
    """{style layer: weight}, normalised to sum 1 (default: equal, as Gatys et al.)."""
    weights = args.style_layer_weights or [1.0] * len(net.style_layers)
    if len(weights) != len(net.style_layers) or min(weights) < 0 or sum(weights) <= 0:
        raise cli.UserError("--style_layer_weights needs %d non-negative weights, not all 0, "
                            "for %s" % (len(net.style_layers), ", ".join(net.style_layers)))
    return {layer: w / sum(weights) for layer, w in zip(net.style_layers, weights)}


def optimise(args, net, layer_weights, content, styles, initial, first, last, curve, progress):
    """Optimise ``initial`` from global iteration ``first`` to ``last`` at the content's size.

    Returns (image, {"iterations", "evaluations", "seconds", "end": unweighted losses}).
    """
    tf.reset_default_graph()
    with tf.name_scope("targets"):  # features of the content and style images, computed once
        target_input = tf.placeholder(tf.float32, [1, None, None, 3], name="target_input")
        target_features = net(target_input)
        target_grams = {layer: style.gram_matrix(target_features[layer])[0]
                        for layer in net.style_layers}
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
        s_loss = style.style_loss(features, grams_in, net.style_layers, args.style_blend_weights,
                                  layer_weights)
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

    total = progress.total
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
        parts = [loss, c_loss, s_loss, tv_loss]
        state = {"iteration": first, "evaluations": 0}
        started = time.time()

        def record(iteration, values, summary):
            if not all(np.isfinite(values)):
                raise cli.UserError("the loss became %s at iteration %d; lower --learning_rate "
                                    "or --style_weight" % (values[0], iteration))
            for key, value in zip(("total", "content", "style", "tv"), values):
                curve[key].append(float(value))
            curve["iteration"].append(iteration)
            curve["size"].append(int(max(content.shape[:2])))
            writer.add_summary(summary, iteration)

        def report(iteration):
            if iteration % args.log_every == 0 or iteration == last:
                progress.update(iteration, loss=curve["total"][-1],
                                content=curve["content"][-1] * args.content_weight,
                                style=curve["style"][-1] * args.style_weight,
                                tv=curve["tv"][-1] * args.tv_weight)
            if iteration % args.save_every == 0 or iteration in (last, total):
                pixels = sess.run(image)[0]
                style.save_image(os.path.join(args.checkpoint_dir, "iter_%d.png" % iteration),
                                 pixels)
                writer.add_summary(sess.run(image_summary), iteration)

        record(first, *sess.run([parts, summaries], feed))
        if args.optimizer == "adam":
            for iteration in range(first + 1, last + 1):
                _, values, summary = sess.run([train_op, parts, summaries], feed)
                # the losses are those of the image before this step's update
                record(iteration, values, summary)
                report(iteration)
            state["evaluations"] = last - first
        else:
            import scipy.optimize

            def loss_and_gradient(x):
                state["evaluations"] += 1
                sess.run(assign, {pixels_in: x.reshape(image.shape).astype(np.float32)})
                grad, values, summary = sess.run([gradient, parts, summaries], feed)
                state["last"] = (x.copy(), values, summary)
                return float(values[0]), grad.ravel().astype(np.float64)

            def callback(x):
                state["iteration"] += 1
                seen, values, summary = state["last"]
                if not np.array_equal(seen, x):  # not the point evaluated last: evaluate it
                    sess.run(assign, {pixels_in: x.reshape(image.shape).astype(np.float32)})
                    values, summary = sess.run([parts, summaries], feed)
                record(state["iteration"], values, summary)
                report(state["iteration"])

            x0 = sess.run(image).ravel().astype(np.float64)
            # run the full --iterations (no tolerance stop): the losses are small numbers
            result = scipy.optimize.minimize(
                loss_and_gradient, x0, jac=True, method="L-BFGS-B", callback=callback,
                bounds=[(0.0, 255.0)] * x0.size,
                options={"maxiter": last - first, "maxfun": 2 * (last - first), "maxcor": 10,
                         "ftol": 0.0, "gtol": 0.0})
            sess.run(assign, {pixels_in: result.x.reshape(image.shape).astype(np.float32)})
        seconds = time.time() - started
        values = sess.run(parts, feed)
        pixels = sess.run(image)[0]
        writer.close()
    end = {k: float(v) for k, v in zip(("total", "content", "style", "tv"), values)}
    return pixels, {"iterations": int(curve["iteration"][-1] - first),
                    "evaluations": int(state["evaluations"]), "seconds": round(seconds, 2),
                    "end": end}


if __name__ == "__main__":
    cli.run(main)
