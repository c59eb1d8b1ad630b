"""Motion in video: background subtraction, morphology, contours, boxes.

The detector of ``apps/motion_detection/detect.py``, also the motion filter
of ``apps/motion_recognition/recognize.py`` (one home for both apps)::

    detector = MotionDetector("mog2", min_area=300, warmup=10)
    boxes, mask = detector.detect(frame)     # [(x1, y1, x2, y2)], uint8 mask (255 = moving)

Each frame: foreground mask (MOG2 or KNN background model, or the difference
to the previous frame) -> threshold (drops MOG2/KNN shadows) -> opening to
remove speckle, closing + dilation to join the parts of one object ->
external contours -> bounding boxes of contours larger than ``min_area``.
"""
import cv2
import numpy as np

from tfcourse import cli

METHODS = ("mog2", "knn", "diff")


class FrameDifference:
    """Foreground = pixels that changed by more than ``threshold`` since the previous frame."""

    def __init__(self, threshold=25):
        self.threshold = threshold
        self.previous = None

    def apply(self, frame):
        gray = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (5, 5), 0)
        if self.previous is None:
            self.previous = gray
            return np.zeros_like(gray)
        diff = cv2.absdiff(gray, self.previous)
        self.previous = gray
        return cv2.threshold(diff, self.threshold, 255, cv2.THRESH_BINARY)[1]


class BackgroundSubtractor:
    """``apply(frame) -> mask`` (uint8, 255 = moving) for method mog2, knn or diff."""

    def __init__(self, method="mog2", history=500, threshold=None):
        if method == "mog2":
            self.model = cv2.createBackgroundSubtractorMOG2(
                history=history, varThreshold=16 if threshold is None else threshold,
                detectShadows=True)
        elif method == "knn":
            self.model = cv2.createBackgroundSubtractorKNN(
                history=history, dist2Threshold=400 if threshold is None else threshold,
                detectShadows=True)
        elif method == "diff":
            self.model = FrameDifference(25 if threshold is None else threshold)
        else:
            raise cli.UserError("--method must be one of %s" % ", ".join(METHODS))
        self.method = method

    def apply(self, frame):
        mask = self.model.apply(frame)
        # MOG2/KNN mark shadows 127: keep only real foreground (255)
        return cv2.threshold(mask, 200, 255, cv2.THRESH_BINARY)[1]


def clean_mask(mask, kernel_size=3, dilate=2):
    """Opening removes speckle; closing and dilation join the pieces of one object."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel_size, kernel_size))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel, iterations=2)
    return cv2.dilate(mask, kernel, iterations=dilate)


def find_boxes(mask, min_area=300):
    """Bounding boxes (x1, y1, x2, y2) of the external contours of ``mask`` above ``min_area``."""
    contours = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[-2]
    boxes = []
    for contour in contours:
        if cv2.contourArea(contour) < min_area:
            continue
        x, y, w, h = cv2.boundingRect(contour)
        boxes.append((x, y, x + w, y + h))
    return sorted(boxes)


class MotionDetector:
    """Background model + morphology + contours: ``detect(frame) -> (boxes, mask)``."""

    def __init__(self, method="mog2", min_area=300, history=500, threshold=None,
                 kernel_size=3, warmup=0):
        self.subtractor = BackgroundSubtractor(method, history, threshold)
        self.min_area = min_area
        self.kernel_size = kernel_size
        self.warmup = warmup
        self.seen = 0

    def detect(self, frame):
        mask = clean_mask(self.subtractor.apply(frame), self.kernel_size)
        self.seen += 1
        if self.seen <= self.warmup:  # background model still learning
            return [], mask
        return find_boxes(mask, self.min_area), mask

