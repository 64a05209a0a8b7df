"""The character: the face in the user's picture, ready to be warped onto video frames."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reelsmith.faces.landmarks import find_face
from reelsmith.pipelines.base import PipelineError

# Around the face, this share of its size is kept; the face's longer side is brought to at most
# this many pixels (enough for 1080p output, where a face rarely exceeds 600 px).
_MARGIN = 0.25
_MAX_FACE_SIDE = 640


@dataclass(frozen=True)
class Character:
    """A crop of the picture around the face, and the face's 478 landmarks in it (pixels)."""

    texture: np.ndarray  # H x W x 3 uint8 RGB
    points: np.ndarray  # 478 x 3 float32

    @classmethod
    def from_picture(cls, picture: np.ndarray) -> Character:
        """The largest face of ``picture`` (H x W x 3 uint8 RGB); PipelineError when none."""
        face = find_face(picture)
        if face is None:
            raise PipelineError("no face was found in the character image")
        points = face.points.copy()
        left, top, right, bottom = face.box
        side = max(right - left, bottom - top)
        margin = _MARGIN * side
        height, width = picture.shape[:2]
        x0, y0 = max(0, int(left - margin)), max(0, int(top - margin))
        x1, y1 = min(width, int(right + margin) + 1), min(height, int(bottom + margin) + 1)
        texture = picture[y0:y1, x0:x1]
        points[:, :2] -= (x0, y0)
        scale = min(1.0, _MAX_FACE_SIDE / side)
        if scale < 1.0:
            texture = cv2.resize(texture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            points *= scale
        return cls(texture=np.ascontiguousarray(texture), points=points)
