"""Face landmarks from MediaPipe 0.10.21's bundled face mesh: 478 points per face.

A landmark array is N x 3 float32: x and y in pixels of the picture it was found on, z in the
same pixel scale (smaller is nearer the camera; MediaPipe gives z relative to the face's centre).
The mesh's triangles come from MediaPipe's own tesselation, so a warp follows the face's
surface rather than an arbitrary triangulation.

MediaPipe graphs are not safe to run from two threads at once, and a video-mode graph keeps
state between frames: each :class:`FaceMesh` owns one graph and is used by one thread.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

POINTS = 478

# Rings of landmark indices, in order around each contour (MediaPipe's canonical face mesh).
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
INNER_LIPS = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
OUTER_LIPS = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
# The person's right eye (left in the picture) and left eye.
RIGHT_EYE = (33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7)
LEFT_EYE = (263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249)
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14
MOUTH_CORNERS = (78, 308)
RIGHT_EYE_CORNERS, LEFT_EYE_CORNERS = (33, 133), (362, 263)
NOSE_TIP = 1
CHIN = 152
FOREHEAD = 10


@dataclass(frozen=True)
class FoundFace:
    """One face found by the mesh model: its landmarks and its box (left, top, right, bottom)."""

    points: np.ndarray  # 478 x 3 float32, pixels

    @property
    def box(self) -> tuple[float, float, float, float]:
        xs, ys = self.points[:, 0], self.points[:, 1]
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())

    @property
    def area(self) -> float:
        left, top, right, bottom = self.box
        return max(0.0, right - left) * max(0.0, bottom - top)


class FaceMesh:
    """One MediaPipe face-mesh graph. ``video=True`` tracks between calls (cheaper, steadier);
    ``video=False`` looks at every picture afresh."""

    def __init__(self, video: bool, max_faces: int = 1, min_confidence: float = 0.5) -> None:
        # Imported here: loading MediaPipe takes a second and only face work needs it.
        import mediapipe as mp

        self._graph = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=not video,
            max_num_faces=max_faces,
            refine_landmarks=True,
            min_detection_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        self._lock = threading.Lock()

    def find(self, picture: np.ndarray) -> list[FoundFace]:
        """The faces in ``picture`` (H x W x 3 uint8 RGB), largest first."""
        height, width = picture.shape[:2]
        with self._lock:
            result = self._graph.process(np.ascontiguousarray(picture))
        faces = [FoundFace(_to_pixels(found.landmark, width, height)) for found in result.multi_face_landmarks or ()]
        return sorted(faces, key=lambda face: face.area, reverse=True)

    def close(self) -> None:
        with self._lock:
            self._graph.close()

    def __enter__(self) -> FaceMesh:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# A face the mesh's own detector misses (it looks for faces near the camera) is looked for again
# in a crop this many times the full-range detector's box, scaled to this many pixels.
_CROP_GROWTH = 2.2
_CROP_SIDE = 384


def find_face(picture: np.ndarray) -> FoundFace | None:
    """The largest face of a still ``picture`` (H x W x 3 uint8 RGB), small ones included."""
    from reelsmith.faces.detection import find_faces

    with FaceMesh(video=False) as mesh:
        faces = mesh.find(picture)
        if faces:
            return faces[0]
        boxes = find_faces(picture)
        if not boxes:
            return None
        height, width = picture.shape[:2]
        box = boxes[0]
        side = _CROP_GROWTH * max(box.width * width, box.height * height)
        left = int(max(0, box.center[0] * width - side / 2))
        top = int(max(0, box.center[1] * height - side / 2))
        right = int(min(width, box.center[0] * width + side / 2))
        bottom = int(min(height, box.center[1] * height + side / 2))
        scale = _CROP_SIDE / max(right - left, bottom - top)
        crop = cv2.resize(picture[top:bottom, left:right], None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
        found = mesh.find(crop)
    if not found:
        return None
    points = found[0].points / scale
    points[:, 0] += left
    points[:, 1] += top
    return FoundFace(points.astype(np.float32))


def _to_pixels(landmarks: Any, width: int, height: int) -> np.ndarray:
    points = np.array([(mark.x, mark.y, mark.z) for mark in landmarks], dtype=np.float32)
    # MediaPipe's z is in the scale of x (a fraction of the width).
    points *= np.array([width, height, width], dtype=np.float32)
    return points


@functools.cache
def mesh_triangles() -> np.ndarray:
    """The face mesh's triangles, T x 3 landmark indices, from MediaPipe's tesselation edges.

    MediaPipe publishes the mesh as edges; its triangles are the edge triples that close.
    """
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    neighbours: dict[int, set[int]] = {}
    for a, b in FACEMESH_TESSELATION:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    triangles = {
        tuple(sorted((a, b, c)))
        for a, near in neighbours.items()
        for b in near
        if b > a
        for c in near & neighbours[b]
        if c > b
    }
    return np.array(sorted(triangles), dtype=np.int32)
