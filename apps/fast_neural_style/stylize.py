"""Fast neural style: one forward pass of a trained transform network per image or video frame.

    python apps/fast_neural_style/stylize.py building.jpg messi5.jpg      # OpenCV samples
    python apps/fast_neural_style/stylize.py photos/ --size 512 1024      # a folder, two sizes
    python apps/fast_neural_style/stylize.py /work/data/vtest/vtest.avi --max_frames 100
    python apps/fast_neural_style/stylize.py building.jpg --measure       # + perceptual losses

Restores the transform network (transform_net.py) from the latest checkpoint
that train.py wrote in --checkpoint_dir and writes each input, its longer
side scaled to --size, as OUTPUT_DIR/NAME_stylized[_SIZE].png, or a video as
NAME_stylized.mp4 (mp4v), every file atomically.  The time of each forward
pass is measured after one warm-up pass per size.  --measure also scores
each result with the loss network and style image of the training run
(config.json beside the checkpoint): the unweighted content and style losses
that apps/neural_style/stylize.py reports, for a like-for-like comparison.
"""
import argparse
import json
import os
import time

import cv2
import numpy as np

from tfcourse.compat import tf, slim, session_config
from tfcourse import cli, default_data_dir, style

from transform_net import transform_net

NAME = "fast_neural_style"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mov", ".mkv", ".m4v", ".mpg")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("inputs", nargs="*", default=["building.jpg"],
                   help="images, folders of images or videos (bare names: the OpenCV samples)")
    p.add_argument("--checkpoint_dir", default=cli.run_dir(NAME),
                   help="where train.py saved the network (default: %(default)s)")
    p.add_argument("--size", type=int, nargs="+", default=[512],
                   help="longer side(s) of the output, pixels (0: as the input)")
    p.add_argument("--output_dir", default=cli.run_dir(NAME, "stylized"),
                   help="stylised files go here (default: %(default)s)")
    p.add_argument("--max_frames", type=int, default=0, help="videos: stop after N frames")
    p.add_argument("--save_frames", default="",
                   help="videos: also save these frame numbers as PNG, e.g. 50,150")
    p.add_argument("--measure", action="store_true",
                   help="score each result with the training run's loss network and style")
    p.add_argument("--iterative_json", default="",
                   help="a result of apps/neural_style/stylize.py: time its method side by side "
                        "with the transform network on its content image and size (implies "
                        "--measure)")
    p.add_argument("--repeats", type=int, default=5,
                   help="--iterative_json: timed rounds, each a forward pass and one loss-"
                        "network evaluation per size of the iterative schedule")
    p.add_argument("--samples_dir", default=default_data_dir("opencv_samples"),
                   help="where bare input names are looked up (default: %(default)s)")
    cli.add_output_flags(p, NAME + "_stylize")
    args = p.parse_args(argv)
    if min(args.size) < 0 or args.max_frames < 0:
        raise cli.UserError("--size and --max_frames must not be negative")
    cli.check_positive("--repeats", args.repeats)
    args.iterative = None
    if args.iterative_json:
        args.iterative = read_iterative(args.iterative_json)
        args.measure = True
    try:
        args.save_frames = sorted({int(t) for t in args.save_frames.split(",") if t.strip()})
    except ValueError:
        raise cli.UserError("--save_frames must be comma-separated frame numbers, e.g. 50,150")
    args.items = expand_inputs(args.inputs, args.samples_dir)
    cli.check_outputs(args, "--json", "--plot", folders=("--output_dir",))  # before any work
    return args


def expand_inputs(inputs, samples_dir):
    """[(kind, path)]: kind "image" or "video"; folders give their images, sorted."""
    items = []
    for name in inputs:
        path = name
        if not os.path.exists(path) and not os.path.dirname(path):
            path = os.path.join(samples_dir, name)
        if os.path.isdir(path):
            found = sorted(os.path.join(path, n) for n in os.listdir(path)
                           if n.lower().endswith(IMAGE_EXTENSIONS))
            if not found:
                raise cli.UserError("folder %s holds no images (%s)"
                                    % (path, ", ".join(IMAGE_EXTENSIONS)))
            items.extend(("image", f) for f in found)
        elif not os.path.exists(path):
            raise cli.UserError("input %s not found; pass images, a folder or a video (OpenCV "
                                "samples: python setup/get_data.py opencv_samples)" % name)
        elif path.lower().endswith(VIDEO_EXTENSIONS):
            items.append(("video", path))
        else:
            items.append(("image", path))
    return items


def load_config(checkpoint_dir):
    path = os.path.join(checkpoint_dir, "config.json")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        raise cli.UserError("no readable %s; train first: python apps/fast_neural_style/train.py "
                            "--checkpoint_dir %s" % (path, checkpoint_dir))


class Scorer:
    """Unweighted content and style losses of a result, as apps/neural_style computes them
    (its default equal style-layer weights), and the image measures of tfcourse/style.py."""

    def __init__(self, config):
        self.net = style.loss_network(config["network"], config.get("network_path"))
        self.image = tf.placeholder(tf.float32, [1, None, None, 3], name="measure_input")
        features = self.net(self.image)
        self.fetch = {"content": {layer: features[layer] for layer in self.net.content_layers},
                      "grams": {layer: style.gram_matrix(features[layer])[0]
                                for layer in self.net.style_layers}}
        # one evaluation of the iterative method: the loss network forward and backward
        self.evaluation = tf.gradients(
            tf.add_n([tf.reduce_sum(g) for g in self.fetch["grams"].values()]
                     + [tf.reduce_mean(f) for f in self.fetch["content"].values()]),
            self.image)[0]
        self.style_path = config["style"]
        self.style_size = config["style_size"]
        self.style_grams = None

    def score(self, sess, content, result):
        if self.style_grams is None:
            style_image = style.load_image(self.style_path, self.style_size, "style image")
            self.style_grams = sess.run(self.fetch, {self.image: style_image[None]})["grams"]
        target = sess.run(self.fetch, {self.image: content[None]})["content"]
        out = sess.run(self.fetch, {self.image: result[None]})
        c = np.mean([np.mean((out["content"][layer] - target[layer]) ** 2) for layer in target])
        s = np.mean([np.mean((out["grams"][layer] - self.style_grams[layer]) ** 2)
                     for layer in self.style_grams])
        return {"content": float(c), "style": float(s)}

    def measures(self, content, result):
        """Colour transfer and checkerboard energy against the style image at the result's
        size (as apps/neural_style measures its result)."""
        style_image = style.load_image(self.style_path, max(result.shape[:2]), "style image")
        return style.image_measures(content, result, style_image)


def read_iterative(path):
    """The record of apps/neural_style/stylize.py that --iterative_json names."""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        stages = [(int(st["size"]), int(st["evaluations"])) for st in record["stages"]]
        return dict(record, stages_sizes=stages)
    except (OSError, ValueError, KeyError, TypeError):
        raise cli.UserError("--iterative_json %s is not a result of apps/neural_style/stylize.py "
                            "(with stages); run it with --json first" % path)


def compare_speed(sess, run, scorer, record, samples_dir, repeats):
    """Seconds per image of both methods on the iterative record's content and size, timed
    side by side in this process: ``repeats`` rounds of one forward pass of the transform
    network and one loss-network evaluation (forward and backward) at each size of the
    iterative schedule.  The iterative method's time per image is its evaluations at each
    size times their median time (its optimiser's own work left out, so the ratio errs low).
    """
    path = record["content"]
    if not os.path.dirname(path):
        path = os.path.join(samples_dir, path)
    content = style.load_image(path, record["size"], "content image of --iterative_json")
    images = {size: style.resize_to(content, size) for size, _ in record["stages_sizes"]}
    forward, evaluation = [], {size: [] for size in images}
    for size, pixels in images.items():  # warm-up
        sess.run(scorer.evaluation, {scorer.image: pixels[None]})
    for _ in range(repeats):
        forward.append(run(content)[1])
        for size, pixels in images.items():
            start = time.time()
            sess.run(scorer.evaluation, {scorer.image: pixels[None]})
            evaluation[size].append(time.time() - start)
    fast = float(np.median(forward))
    per_size = {size: float(np.median(t)) for size, t in evaluation.items()}
    iterative = sum(n * per_size[size] for size, n in record["stages_sizes"])
    recorded = record.get("seconds_per_image")
    result = {
        "content": os.path.basename(path), "size": record["size"],
        "height": int(content.shape[0]), "width": int(content.shape[1]),
        "repeats": repeats, "fast_seconds_per_image": round(fast, 4),
        "evaluation_seconds": {str(k): round(v, 4) for k, v in per_size.items()},
        "iterative_evaluations": {str(k): n for k, n in record["stages_sizes"]},
        "iterative_seconds_per_image": round(iterative, 2),
        "ratio": round(iterative / fast, 1),
        "iterative_recorded_seconds_per_image": recorded,
        "ratio_to_recorded": round(recorded / fast, 1) if recorded else None,
        "forward_per_evaluation": round(fast / per_size[record["size"]], 2),
    }
    print("side by side at %dx%d: transform network %.3f s per image; iterative %d "
          "evaluations x %s s = %.1f s per image (its own run: %s s): %.0fx faster"
          % (content.shape[1], content.shape[0], fast, sum(n for _, n in record["stages_sizes"]),
             "/".join("%.3f" % v for v in per_size.values()), iterative, recorded,
             result["ratio"]))
    return result


def compare_quality(results, record):
    """This run's losses and measures on the iterative record's content image and size beside
    the record's: style loss ratio (fast / iterative), checkerboard, colour transfer."""
    mine = [r for r in results if r["input"] == record["content"] and r["size"] == record["size"]
            and "measures" in r]
    if not mine:
        return {"quality": "not compared: stylize %s at --size %d too"
                % (record["content"], record["size"])}
    mine, end = mine[0], record["losses_unweighted"]["end"]
    theirs = record["measures"]
    return {
        "style_loss": {"fast": mine["losses_unweighted"]["style"], "iterative": end["style"],
                       "ratio": round(mine["losses_unweighted"]["style"] / end["style"], 3)},
        "content_loss": {"fast": mine["losses_unweighted"]["content"],
                         "iterative": end["content"]},
        "checkerboard_ratio": {"fast": mine["measures"]["checkerboard"]["ratio"],
                               "iterative": theirs["checkerboard"]["ratio"]},
        "towards_style": {"fast": mine["measures"]["colour"]["towards_style"],
                          "iterative": theirs["colour"]["towards_style"]},
    }


def video_output(path, fps, size):
    for fourcc, ext in (("mp4v", ".mp4"), ("MJPG", ".avi")):
        if path.endswith(ext):
            writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, size)
            if writer.isOpened():
                return writer
    raise cli.UserError("cannot write video %s; use a .mp4 or .avi name" % path)


def main(argv=None):
    args = parse_args(argv)
    config = load_config(args.checkpoint_dir)
    latest = tf.train.latest_checkpoint(args.checkpoint_dir)
    if latest is None:
        raise cli.UserError("no checkpoint in %s; train first: python "
                            "apps/fast_neural_style/train.py" % args.checkpoint_dir)

    tf.reset_default_graph()
    image = tf.placeholder(tf.float32, [1, None, None, 3], name="image")
    stylized = transform_net(image, width=config.get("width", 1.0))
    scorer = Scorer(config) if args.measure else None
    comparison = None
    saver = tf.train.Saver(var_list=slim.get_variables("transform_net"))
    results, saved, timings = [], [], {}
    figure_rows = []
    with tf.Session(config=session_config()) as sess:
        try:
            saver.restore(sess, latest)
        except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError,
                tf.errors.DataLossError) as exc:
            raise cli.UserError("%s is not a transform-network checkpoint (%s); train with "
                                "apps/fast_neural_style/train.py"
                                % (latest, exc.message.splitlines()[0]))
        step = latest.rsplit("-", 1)[-1]
        print("transform network from %s (step %s, style %s, loss network %s)"
              % (latest, step, os.path.basename(config["style"]), config["network"]))
        warm = set()

        def run(pixels):
            """The stylised image and the seconds of the forward pass (warm-up excluded)."""
            shape = pixels.shape[:2]
            if shape not in warm:
                sess.run(stylized, {image: pixels[None]})
                warm.add(shape)
            start = time.time()
            out = sess.run(stylized, {image: pixels[None]})[0]
            return out, time.time() - start

        for kind, path in args.items:
            base = os.path.splitext(os.path.basename(path))[0]
            if kind == "image":
                for size in args.size:
                    content = style.load_image(path, size, "input image")
                    out, seconds = run(content)
                    suffix = "_%d" % size if len(args.size) > 1 else ""
                    target = os.path.join(args.output_dir, "%s_stylized%s.png" % (base, suffix))
                    cli.wrote(style.save_image(target, out))
                    entry = {"input": os.path.basename(path), "size": size,
                             "height": int(out.shape[0]), "width": int(out.shape[1]),
                             "seconds": round(seconds, 4), "output": cli.shown(target)}
                    if scorer:
                        entry["losses_unweighted"] = scorer.score(sess, content, out)
                        entry["measures"] = scorer.measures(content, out)
                    timings.setdefault(size, []).append(seconds)
                    results.append(entry)
                    print("%s at %dx%d: %.3f s%s" % (
                        os.path.basename(path), out.shape[1], out.shape[0], seconds,
                        "" if not scorer else ", style loss %.4g, content loss %.4g"
                        % (entry["losses_unweighted"]["style"],
                           entry["losses_unweighted"]["content"])))
                    if len(figure_rows) < 3 and size == args.size[0]:
                        figure_rows.append((content, out, os.path.basename(path)))
            else:
                capture = cv2.VideoCapture(path)
                ok, frame = capture.read()
                if not ok:
                    raise cli.UserError("cannot read video %s; pass another file" % path)
                fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
                size = args.size[0]
                first = style.resize_to(frame[:, :, ::-1], size)
                target = os.path.join(args.output_dir, "%s_stylized.mp4" % base)
                total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 1
                if args.max_frames:
                    total = min(total, args.max_frames)
                progress = cli.Progress(total, unit="frames")
                n, seconds = 0, []
                with cli.atomic_path(target) as tmp:
                    writer = video_output(tmp, fps, (first.shape[1], first.shape[0]))
                    try:
                        while ok and (not args.max_frames or n < args.max_frames):
                            content = style.resize_to(frame[:, :, ::-1], size).astype(np.float32)
                            out, sec = run(content)
                            seconds.append(sec)
                            writer.write(style.to_uint8(out)[:, :, ::-1])
                            if n in args.save_frames:
                                png = os.path.join(args.output_dir,
                                                   "%s_frame%d.png" % (base, n))
                                saved.append(cli.wrote(style.save_image(png, out)))
                                if len(figure_rows) < 3:
                                    figure_rows.append((content, out, "%s frame %d" % (base, n)))
                            n += 1
                            if n % 25 == 0:
                                progress.update(n)
                            ok, frame = capture.read()
                    finally:
                        writer.release()
                        capture.release()
                cli.wrote(target)
                timings.setdefault(size, []).extend(seconds)
                results.append({"input": os.path.basename(path), "size": size, "frames": n,
                                "height": int(first.shape[0]), "width": int(first.shape[1]),
                                "seconds_per_frame": round(float(np.mean(seconds)), 4),
                                "output": cli.shown(target),
                                "pngs": [cli.shown(p) for p in saved]})

        if args.iterative:
            comparison = compare_speed(sess, run, scorer, args.iterative, args.samples_dir,
                                       args.repeats)
            comparison.update(compare_quality(results, args.iterative))
    per_size = {str(size): {"images": len(v), "mean_seconds": round(float(np.mean(v)), 4)}
                for size, v in sorted(timings.items())}
    for size, entry in per_size.items():
        print("size %s: %.3f s per image or frame (%d), forward pass only"
              % (size, entry["mean_seconds"], entry["images"]))
    if args.plot and figure_rows:
        images = [row[0] for row in figure_rows] + [row[1] for row in figure_rows]
        titles = (["input: %s" % row[2] for row in figure_rows]
                  + ["stylised (%s, step %s)" % (os.path.basename(config["style"]), step)
                     for row in figure_rows])
        if len(figure_rows) == 1 and os.path.exists(config["style"]):
            style_image = style.load_image(config["style"], max(figure_rows[0][0].shape[:2]))
            images = [figure_rows[0][0], style_image, figure_rows[0][1]]
            titles = [titles[0], "style: %s" % os.path.basename(config["style"]), titles[1]]
        cli.wrote(style_grid(args.plot, images, titles, rows=1 if len(images) == 3 else 2))
    if args.json:
        cli.write_json(args.json, {
            "script": "apps/fast_neural_style/stylize.py",
            "checkpoint": cli.shown(latest), "step": int(step) if step.isdigit() else step,
            "network": config["network"], "style": os.path.basename(config["style"]),
            "machine": "shared 2-core CPU, no GPU",
            "width": config.get("width", 1.0), "image_size": config.get("image_size"),
            "seconds_per_image": per_size, "results": results,
            "against_iterative": comparison,
        })
        cli.wrote(args.json)
    return 0


def style_grid(path, images, titles, rows):
    if rows == 1:
        return style.side_by_side(path, images, titles)
    plt = cli.pyplot()
    cols = (len(images) + 1) // 2
    fig, axes = plt.subplots(2, cols, figsize=(4.2 * cols, 6.4), squeeze=False)
    for ax, img, title in zip(axes.ravel(), images, titles):
        ax.imshow(style.to_uint8(img))
        ax.set_title(title, fontsize=9)
    for ax in axes.ravel():
        ax.axis("off")
    return cli.save_figure(fig, path)


if __name__ == "__main__":
    cli.run(main)
