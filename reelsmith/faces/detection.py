"""Finding faces quickly: MediaPipe's full-range face detector (boxes, no landmarks).

It answers in a few milliseconds, so it can run in the API process while a request waits:
Character Swap uses it to refuse a character picture without one clear face before anything is
charged.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from reelsmith.media.picture import load_picture

MIN_SCORE = 0.5
# Pictures are looked at with their long side at most this size: faces worth swapping stay
# well above the detector's smallest, and a 4K picture is not decoded at full size twice.
_LOOK_SIDE = 1024
# A second face at least this share of the largest one's area makes the character ambiguous.
_SIMILAR_AREA = 0.5

_lock = threading.Lock()


@dataclass(frozen=True)
class FaceBox:
    """A face's box in fractions of the picture: centre (x, y), width and height."""

    center: tuple[float, float]
    width: float
    height: float

    @property
    def area(self) -> float:
        return self.width * self.height


def find_faces(picture: np.ndarray) -> tuple[FaceBox, ...]:
    """The faces in ``picture`` (H x W x 3 uint8 RGB), largest first."""
    with _lock:
        result = _detector().process(np.ascontiguousarray(picture))
    faces = []
    for detection in result.detections or ():
        if detection.score and detection.score[0] < MIN_SCORE:
            continue
        box = detection.location_data.relative_bounding_box
        left, top = max(0.0, box.xmin), max(0.0, box.ymin)
        right, bottom = min(1.0, box.xmin + box.width), min(1.0, box.ymin + box.height)
        if right > left and bottom > top:
            centre = ((left + right) / 2, (top + bottom) / 2)
            faces.append(FaceBox(center=centre, width=right - left, height=bottom - top))
    return tuple(sorted(faces, key=lambda face: face.area, reverse=True))


def one_clear_face(path: Path) -> str | None:
    """Why the picture at ``path`` cannot be a character, or None when it shows one clear face."""
    picture = load_picture(path)
    scale = _LOOK_SIDE / max(picture.shape[:2])
    if scale < 1.0:
        picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    faces = find_faces(picture)
    if not faces:
        return "shows no face that could be found; use a picture in which one face is clearly visible"
    similar = [face for face in faces if face.area >= _SIMILAR_AREA * faces[0].area]
    if len(similar) > 1:
        return (
            f"shows {len(similar)} faces of similar size, so which one is the character is unclear; "
            "use a picture with one main face"
        )
    return None


@functools.cache
def _detector() -> Any:
    # Imported here: loading MediaPipe takes a second, and only face work needs it.
    import mediapipe as mp

    return mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=MIN_SCORE)
