"""Replace mode, one frame at a time: the character's face warped onto the tracked face.

Per frame: the character's mesh is warped piecewise-affinely onto the tracked landmarks (far
side hidden on a turned head), recoloured to the frame's lighting, and blended in through a
feathered mask of the face's outline. The mask leaves out the frame's own eyes and mouth
opening, so the person's real blinks, gaze, teeth and tongue stay: the character's eyelids and
lips close around them.
"""

from __future__ import annotations

import cv2
import numpy as np

from reelsmith.faces.blending import ColourMatch, composite, feathered
from reelsmith.faces.landmarks import FACE_OVAL, INNER_LIPS, LEFT_EYE, NOSE_TIP, RIGHT_EYE, mesh_triangles
from reelsmith.faces.mesh_warp import warp_mesh
from reelsmith.faces.tracking import TrackedFace
from reelsmith.pipelines.character_swap.character import Character

# Fractions of the face's size: the feathered band at the outline, and how far the kept eyes
# and mouth opening are grown beyond their contours (so no sliver of the character's eyeball
# or teeth shows at their rims).
_FEATHER = 0.06
_HOLE_GROWTH = 0.012
# The mesh's outline runs along the hairline and the jaw's edge, where the character's hair and
# background would show; the mask's outline is pulled towards the nose, more at the forehead.
_OUTLINE_PULL = 0.06
_FOREHEAD_PULL = 0.22
_FOREHEAD = frozenset({10, 338, 297, 332, 284, 251, 21, 54, 103, 67, 109})


class FaceReplacer:
    """Puts one character's face on the faces of one video's frames."""

    def __init__(self, character: Character, frame_size: tuple[int, int]) -> None:
        self.character = character
        self.frame_size = frame_size
        self._triangles = mesh_triangles()
        self._colour = ColourMatch()

    def forget(self) -> None:
        """A frame without a face: the next face starts fresh colour statistics."""
        self._colour.reset()

    def apply(self, frame: np.ndarray, face: TrackedFace) -> np.ndarray:
        """``frame`` (H x W x 3 uint8 RGB) with the character's face on ``face``; a new array."""
        output = frame.copy()
        target = face.points
        patch = warp_mesh(
            self.character.texture,
            self.character.points[:, :2],
            target[:, :2],
            self._triangles,
            self.frame_size,
            depth=target[:, 2],
        )
        if patch is None:
            return output
        box = patch.box
        origin = np.array([box.left, box.top], dtype=np.float32)
        size = _face_size(target)
        mask = np.zeros((box.height, box.width), np.uint8)
        cv2.fillPoly(mask, [_outline(target, origin)], 1)
        mask &= patch.covered.astype(np.uint8)
        holes = np.zeros_like(mask)
        cv2.fillPoly(holes, [_ring(target, ring, origin) for ring in (INNER_LIPS, RIGHT_EYE, LEFT_EYE)], 1)
        grow = max(1, int(round(_HOLE_GROWTH * size)))
        holes = cv2.dilate(holes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
        region = output[box.slices]
        solid = (mask > 0) & (holes == 0)
        recoloured = self._colour.apply(patch.pixels, region, solid)
        composite(output, recoloured, feathered(solid, _FEATHER * size), (box.left, box.top))
        return output


def _outline(points: np.ndarray, origin: np.ndarray) -> np.ndarray:
    ring = points[list(FACE_OVAL), :2]
    pull = np.array([_FOREHEAD_PULL if index in _FOREHEAD else _OUTLINE_PULL for index in FACE_OVAL])
    pulled = ring + pull[:, None] * (points[NOSE_TIP, :2] - ring)
    return np.round(pulled - origin).astype(np.int32)


def _ring(points: np.ndarray, ring: tuple[int, ...], origin: np.ndarray) -> np.ndarray:
    return np.round(points[list(ring), :2] - origin).astype(np.int32)


def _face_size(points: np.ndarray) -> float:
    return float(np.ptp(points[:, 0]) + np.ptp(points[:, 1])) / 2.0
