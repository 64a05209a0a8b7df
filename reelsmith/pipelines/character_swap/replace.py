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

from reelsmith.faces.blending import ColourMatch, face_size, outline_mask, paste_face
from reelsmith.faces.landmarks import INNER_LIPS, LEFT_EYE, RIGHT_EYE, mesh_triangles
from reelsmith.faces.mesh_warp import warp_mesh
from reelsmith.faces.tracking import TrackedFace
from reelsmith.pipelines.character_swap.character import Character

# How far the kept eyes and mouth opening are grown beyond their contours, as a fraction of the
# face's size (so no sliver of the character's eyeball or teeth shows at their rims).
_HOLE_GROWTH = 0.012


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
        size = face_size(target)
        mask = outline_mask(target, (box.left, box.top), (box.height, box.width))
        mask &= patch.covered.astype(np.uint8)
        holes = np.zeros_like(mask)
        cv2.fillPoly(holes, [_ring(target, ring, origin) for ring in (INNER_LIPS, RIGHT_EYE, LEFT_EYE)], 1)
        grow = max(1, int(round(_HOLE_GROWTH * size)))
        holes = cv2.dilate(holes, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
        solid = (mask > 0) & (holes == 0)
        paste_face(output, patch.pixels, solid, (box.left, box.top), size, self._colour)
        return output


def _ring(points: np.ndarray, ring: tuple[int, ...], origin: np.ndarray) -> np.ndarray:
    return np.round(points[list(ring), :2] - origin).astype(np.int32)
