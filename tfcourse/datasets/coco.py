"""COCO train2014 images (82783 JPEGs, 13 GB zip), online only: fast neural style's training set.

Files written: ``train2014/*.jpg``, from ``train2014.zip`` of
images.cocodataset.org, checked by MD5 before it is unpacked.  Johnson et
al. trained their transform networks on these images (resized and cropped
to 256x256).  No package ships them: offline, apps/fast_neural_style trains
on frames of the OpenCV sample videos and photos (``opencv_samples``).
"""
import os
import zipfile

from tfcourse.datasets import _common

NAME = "coco"
ONLINE_ONLY = True  # no package ships it: "get_data.py all" skips it; name it to fetch
ORDER = 81
DESCRIPTION = "COCO train2014 images (82783 JPEGs, 13 GB zip; online only)"

URL = "http://images.cocodataset.org/zips/train2014.zip"
ARCHIVE = "train2014.zip"
MD5 = "0da8c0bd3d6becc4dcb32757491aca88"
FOLDER = "train2014"
IMAGES = 82783
TIMEOUT = 60


def image_paths(target_dir):
    """Sorted paths of the JPEGs in ``target_dir/train2014`` (empty list when absent)."""
    folder = os.path.join(target_dir, FOLDER)
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                  if n.lower().endswith((".jpg", ".jpeg")))


def is_present(target_dir):
    return len(image_paths(target_dir)) == IMAGES


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "COCO train2014 already in %s (%d images)" % (target_dir, IMAGES)
    if offline:
        raise _common.UserError("COCO exists only online (%s); offline, train on the OpenCV "
                                "samples (python setup/get_data.py opencv_samples)" % URL)
    with _common.staging_dir(target_dir) as staging:
        archive = os.path.join(staging, ARCHIVE)
        log("  downloading %s (13 GB) ..." % URL)
        if not _common.download_url(URL, archive, timeout=TIMEOUT, log=log):
            raise _common.UserError("could not download %s; check your network, or train on the "
                                    "OpenCV samples (--dataset opencv_samples)" % URL)
        if _common.md5(archive) != MD5:
            raise _common.UserError("%s failed its checksum; retry" % ARCHIVE)
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist()
                       if m.startswith(FOLDER + "/") and m.lower().endswith(".jpg")]
            for member in members:
                zf.extract(member, staging)
        os.remove(archive)
        if len(image_paths(staging)) != IMAGES:
            raise _common.UserError("%s holds %d images, not %d; delete %s and retry"
                                    % (ARCHIVE, len(image_paths(staging)), IMAGES, target_dir))
        _common.install_files(staging, target_dir, [FOLDER])
    return "COCO %s: %d images from %s into %s" % (FOLDER, IMAGES, URL, target_dir)
