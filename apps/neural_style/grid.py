"""A grid of neural-style results: every content photo in the style of every painting.

    python apps/neural_style/grid.py            # 3 photos x 3 paintings, 256 px
    python apps/neural_style/grid.py --contents building.jpg --styles starry_night.jpg \\
        Elephants.jpg --size 128 --iterations 50

Runs apps/neural_style/stylize.py (its defaults: L-BFGS, the image-size
schedule, the MobileNet-V2 loss network) once per content photo and painting,
each result into --output_dir, and draws the grid: a row per content photo,
the photo first, then a column per painting (the painting above its
column).  The JSON holds each result's losses and measures (colour transfer
in CIELAB, checkerboard energy) and the mean of each measure.  Default
images: building.jpg and fruits.jpg (OpenCV samples), picosdeeuropa (a
mountain path, CC-BY-4.0) from the Debian wallpapers; Van Gogh's
starry_night.jpg (OpenCV samples), Elephants.jpg (a painting by Wyng
Stancikaite, GPL-2+) and string.jpg (painted ribbons, CC-BY-SA-3.0) from the
wallpapers (python setup/get_data.py opencv_samples wallpapers ssdlite).
"""
import argparse
import json
import os

import numpy as np

from tfcourse import cli, default_data_dir, style

import stylize

NAME = "neural_style_grid"
CONTENTS = ["building.jpg", "fruits.jpg", "picosdeeuropa_by_Aitzol_Berasategi.jpg"]
STYLES = ["starry_night.jpg", "Elephants.jpg", "string.jpg"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument("--contents", nargs="+", default=CONTENTS,
                   help="content photos (bare names: the OpenCV samples or the wallpapers)")
    p.add_argument("--styles", nargs="+", default=STYLES, help="paintings, one per column")
    p.add_argument("--size", type=int, default=256, help="longer side of each result, pixels")
    p.add_argument("--iterations", type=int, default=stylize.ITERATIONS,
                   help="iterations at each size of the schedule (default %(default)s)")
    p.add_argument("--samples_dir", default=default_data_dir("opencv_samples"),
                   help="bare names are looked up here first (default: %(default)s)")
    p.add_argument("--wallpapers_dir", default=default_data_dir("wallpapers"),
                   help="and then here (default: %(default)s)")
    p.add_argument("--output_dir", default=cli.run_dir(NAME),
                   help="the results and each run's JSON (default: %(default)s)")
    cli.add_output_flags(p, NAME)
    args = p.parse_args(argv)
    cli.check_positive("--size", args.size)
    cli.check_positive("--iterations", args.iterations)
    args.contents = [find(n, args) for n in args.contents]
    args.styles = [find(n, args) for n in args.styles]
    cli.check_outputs(args, "--json", "--plot", folders=("--output_dir",))
    return args


def find(name, args):
    """A path as given, or a bare name found in the samples or the wallpapers folder."""
    if os.path.exists(name) or os.path.dirname(name):
        return name
    for folder in (args.samples_dir, args.wallpapers_dir):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise cli.UserError("image %s is in neither %s nor %s; run python setup/get_data.py "
                        "opencv_samples wallpapers, or pass a path"
                        % (name, args.samples_dir, args.wallpapers_dir))


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def main(argv=None):
    args = parse_args(argv)
    cells = []
    for content in args.contents:
        for painting in args.styles:
            base = os.path.join(args.output_dir, "%s_%s" % (stem(content), stem(painting)))
            print("%s in the style of %s" % (os.path.basename(content),
                                             os.path.basename(painting)), flush=True)
            stylize.main(["--content", content, "--styles", painting, "--size", str(args.size),
                          "--iterations", str(args.iterations), "--output", base + ".png",
                          "--json", base + ".json", "--plot", "",
                          "--checkpoint_dir", base + "_checkpoints", "--log_every", "100"])
            with open(base + ".json", encoding="utf-8") as f:
                record = json.load(f)
            cells.append({key: record[key] for key in (
                "content", "styles", "height", "width", "sizes", "iterations", "evaluations",
                "losses_unweighted", "measures", "seconds", "output")})
    towards = [c["measures"]["colour"]["towards_style"] for c in cells]
    checker = [c["measures"]["checkerboard"]["ratio"] for c in cells]
    print("colour towards the style: mean %.2f (%.2f..%.2f); checkerboard ratio: mean %.2f, "
          "max %.2f" % (np.mean(towards), min(towards), max(towards), np.mean(checker),
                        max(checker)))
    if args.plot:
        cli.wrote(draw(args, cells))
    if args.json:
        cli.write_json(args.json, {
            "script": "apps/neural_style/grid.py",
            "method": "Gatys et al. 2015 (apps/neural_style/stylize.py defaults)",
            "contents": [os.path.basename(c) for c in args.contents],
            "styles": [os.path.basename(s) for s in args.styles],
            "size": args.size, "iterations": args.iterations,
            "cells": cells,
            "towards_style_mean": round(float(np.mean(towards)), 4),
            "towards_style_min": round(float(min(towards)), 4),
            "checkerboard_ratio_mean": round(float(np.mean(checker)), 3),
            "checkerboard_ratio_max": round(float(max(checker)), 3),
            "seconds": round(sum(c["seconds"] for c in cells), 1),
            "machine": "shared 2-core CPU, no GPU",
        })
        cli.wrote(args.json)
    return 0


def draw(args, cells):
    """Rows: content photos; columns: the photo, then one result per painting."""
    plt = cli.pyplot()
    rows, cols = len(args.contents), len(args.styles) + 1
    fig, axes = plt.subplots(rows + 1, cols, figsize=(3.2 * cols, 2.6 * (rows + 1)),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for j, painting in enumerate(args.styles):
        axes[0, j + 1].imshow(style.to_uint8(style.load_image(painting, args.size)))
        axes[0, j + 1].set_title("style: %s" % os.path.basename(painting), fontsize=8)
    for i, content in enumerate(args.contents):
        axes[i + 1, 0].imshow(style.to_uint8(style.load_image(content, args.size)))
        axes[i + 1, 0].set_title("content: %s" % os.path.basename(content)[:28], fontsize=8)
        for j in range(len(args.styles)):
            cell = cells[i * len(args.styles) + j]
            path = os.path.join(args.output_dir, "%s_%s.png" % (stem(content),
                                                                stem(args.styles[j])))
            axes[i + 1, j + 1].imshow(style.to_uint8(style.load_image(path)))
            axes[i + 1, j + 1].set_title(
                "colour %.2f towards style, checkerboard %.2fx"
                % (cell["measures"]["colour"]["towards_style"],
                   cell["measures"]["checkerboard"]["ratio"]), fontsize=7)
    fig.suptitle("neural style (Gatys; L-BFGS, %s px, MobileNet-V2 loss network)"
                 % "/".join(str(s) for s in cells[0]["sizes"]), fontsize=10)
    return cli.save_figure(fig, args.plot)


if __name__ == "__main__":
    cli.run(main)
