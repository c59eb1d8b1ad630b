"""Training images for the transform network: random square crops, fed through a placeholder.

* COCO train2014 (online, ``python setup/get_data.py coco``): Johnson et
  al.'s training set; each image is read when drawn.
* Offline: the OpenCV sample photos, every ``frame_step``-th frame of the
  sample clips (``python setup/get_data.py opencv_samples``; ``vtest.avi`` too
  when ``python setup/get_data.py vtest`` has run) and the photographic
  wallpapers of Debian packages (``python setup/get_data.py wallpapers``,
  when present), held in memory, each scaled down to a shorter side of at
  most ``max_side`` pixels first.  The crops are drawn so that every source
  photo is as likely as the frames of all clips together (49 photos, one
  clip-frame "photo").
"""
import os

import cv2
import numpy as np

from tfcourse import cli
from tfcourse.datasets import coco, opencv_samples, vtest, wallpapers


def video_frames(path, step):
    """Every ``step``-th frame of a video as RGB uint8 arrays."""
    capture = cv2.VideoCapture(path)
    frames, n = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if n % step == 0:
            frames.append(frame[:, :, ::-1])
        n += 1
    capture.release()
    return frames


def shrink(image, max_side):
    """``image`` with its shorter side scaled down to ``max_side`` pixels (never up)."""
    scale = float(max_side) / min(image.shape[:2])
    if scale >= 1:
        return image
    size = (int(round(image.shape[1] * scale)), int(round(image.shape[0] * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def read_rgb(path, max_side):
    image = cv2.imread(path)
    if image is None:
        raise cli.UserError("%s is not a readable image; delete it and fetch the data again"
                            % path)
    return shrink(image[:, :, ::-1], max_side)


def opencv_sample_images(samples_dir, vtest_dir=None, frame_step=10, wallpapers_dir=None,
                         max_side=512):
    """(photos, frames, description): lists of RGB uint8 arrays, the photos of the OpenCV
    samples and the wallpapers, and every ``frame_step``-th frame of the clips."""
    if not opencv_samples.is_present(samples_dir):
        raise cli.UserError("OpenCV samples not found in %s; run python setup/get_data.py "
                            "opencv_samples" % samples_dir)
    photos = [read_rgb(os.path.join(samples_dir, name), max_side)
              for name in sorted(opencv_samples.PHOTOS)]
    n_opencv = len(photos)
    if wallpapers_dir:
        photos.extend(read_rgb(path, max_side) for path in wallpapers.photo_paths(wallpapers_dir))
    videos = [os.path.join(samples_dir, n) for n in sorted(opencv_samples.VIDEOS)]
    if vtest_dir and vtest.is_present(vtest_dir):
        videos.append(os.path.join(vtest_dir, vtest.FILE))
    frames = []
    for video in videos:
        frames.extend(shrink(f, max_side) for f in video_frames(video, frame_step))
    return photos, frames, (
        "%d photos (OpenCV samples %d, Debian wallpapers %d) + %d frames (every %dth) of %s"
        % (len(photos), n_opencv, len(photos) - n_opencv, len(frames), frame_step,
           ", ".join(os.path.basename(v) for v in videos)))


def coco_images(data_dir):
    """(list of paths, description) of COCO train2014."""
    paths = coco.image_paths(data_dir)
    if not paths:
        raise cli.UserError("no COCO images in %s/%s; run python setup/get_data.py coco, or "
                            "train offline with --dataset opencv_samples" % (data_dir, coco.FOLDER))
    return paths, "COCO train2014: %d images" % len(paths)


def random_crop(image, size, rng, max_zoom=1.5):
    """A random ``size`` x ``size`` crop, after scaling the shorter side to size..size*max_zoom,
    flipped left-right half the time; float32."""
    if isinstance(image, str):
        image = cv2.imread(image)
        if image is None:
            return None
        image = image[:, :, ::-1]
    height, width = image.shape[:2]
    short = rng.uniform(size, size * max_zoom)
    scale = short / min(height, width)
    image = cv2.resize(image, (max(size, int(round(width * scale))),
                               max(size, int(round(height * scale)))),
                       interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    y = rng.randint(0, image.shape[0] - size + 1)
    x = rng.randint(0, image.shape[1] - size + 1)
    crop = image[y:y + size, x:x + size]
    if rng.rand() < 0.5:
        crop = crop[:, ::-1]
    return crop.astype(np.float32)


def batches(images, batch_size, size, rng, min_std=4.0, frames=()):
    """Endless [batch, size, size, 3] float32 batches of random crops; unreadable files and
    flat crops (pixel standard deviation below ``min_std``: black video frames) are skipped.
    With ``frames``, a crop comes from a random frame as often as from any one image."""
    pools = list(images) + ([list(frames)] if len(frames) else [])
    while True:
        batch = []
        while len(batch) < batch_size:
            item = pools[rng.randint(len(pools))]
            if isinstance(item, list):
                item = item[rng.randint(len(item))]
            crop = random_crop(item, size, rng)
            if crop is not None and crop.std() >= min_std:
                batch.append(crop)
        yield np.stack(batch)
