"""Animate mode, one frame at a time: the character's picture moves like the driver's face.

Retargeting. The driver's landmarks on each frame are compared with its own reference frame
(the first frame with a face): a similarity transform (turn in the picture plane, scale, shift)
is the head's motion, and what remains after undoing it (the mouth opening, blinks, brows, and
the foreshortening of a head turning left or right) is the expression. The expression is scaled
to the character's face size and added to the character's own landmarks, so the character
keeps its face's shape; the head's motion is carried over in the character's frame.

Rendering. One piecewise-affine warp of the whole picture: the face mesh points go where the
retargeted landmarks say, a ring of points around the head moves rigidly with the head (hair
and skull), and points along the picture's border stay put, so the neck and shoulders bend
smoothly between them. The person, warped with its mask, is laid over a plate of the picture
with the person painted out (OpenCV inpainting), so the background does not move with the head.
Where the mouth opens wider than the picture's, a mouth interior is drawn: dark throat,
upper teeth and a hint of tongue.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reelsmith.faces.blending import composite
from reelsmith.faces.landmarks import FACE_OVAL, INNER_LIPS, LOWER_LIP_INNER, UPPER_LIP_INNER, find_face
from reelsmith.faces.mesh_warp import delaunay, warp_mesh
from reelsmith.faces.segmentation import person_mask
from reelsmith.pipelines.base import PipelineError

# Landmarks that move with the skull, not with expressions: they fix the head's motion.
_RIGID = (*FACE_OVAL, 1, 4, 5, 6, 168, 197, 195, 33, 133, 362, 263)
# The head's ring: this many points, this many face radii from the face's centre.
_RING_POINTS = 20
_RING_RADIUS = 1.7
_BORDER_STEPS = 4
# Picture and plate are worked out at most this size on the long side for inpainting.
_INPAINT_SIDE = 512
_WARP_STEP = 4
# A mouth opening narrower than this share of the eye distance needs no drawn interior.
_OPEN_MOUTH = 0.04
_THROAT = (52, 18, 24)
_TONGUE = (150, 60, 70)
_TEETH = (226, 222, 212)


@dataclass(frozen=True)
class Similarity:
    """x -> scale * R(angle) x + shift, as a 3 x 3 matrix."""

    matrix: np.ndarray

    @classmethod
    def fit(cls, source: np.ndarray, target: np.ndarray) -> Similarity:
        """The least-squares similarity taking ``source`` points (N x 2) onto ``target``."""
        matrix, _ = cv2.estimateAffinePartial2D(source.astype(np.float32), target.astype(np.float32), method=cv2.LMEDS)
        if matrix is None:
            matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        return cls(np.vstack([matrix, [0.0, 0.0, 1.0]]))

    def apply(self, points: np.ndarray) -> np.ndarray:
        return points @ self.matrix[:2, :2].T + self.matrix[:2, 2]

    def inverse(self) -> Similarity:
        return Similarity(np.linalg.inv(self.matrix))

    def then(self, other: Similarity) -> Similarity:
        """This transform followed by ``other``."""
        return Similarity(other.matrix @ self.matrix)

    @property
    def linear(self) -> np.ndarray:
        return self.matrix[:2, :2]


class Animator:
    """The character picture, ready to move; :meth:`frame` renders it for one driver frame."""

    def __init__(self, picture: np.ndarray) -> None:
        face = find_face(picture)
        if face is None:
            raise PipelineError("no face was found in the character image")
        self.picture = picture
        self.size = (picture.shape[1], picture.shape[0])
        self.face = face.points[:, :2].astype(np.float64)
        centre = self.face.mean(axis=0)
        radius = float(np.linalg.norm(self.face - centre, axis=1).max())
        angles = np.linspace(0.0, 2.0 * np.pi, _RING_POINTS, endpoint=False)
        ring = centre + _RING_RADIUS * radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        self.ring = np.clip(ring, 1.0, (self.size[0] - 2.0, self.size[1] - 2.0))
        self.border = _border_points(*self.size)
        self.sources = np.vstack([self.face, self.ring, self.border])
        self.triangles = delaunay(self.sources, self.size)
        person = person_mask(picture)
        head = np.zeros(person.shape, np.uint8)
        cv2.fillPoly(head, [np.round(self.ring).astype(np.int32)], 1)
        # The person as the segmenter sees it, and at least the head (a drawn character).
        alpha = np.maximum(person, cv2.GaussianBlur(head.astype(np.float32), (0, 0), radius * 0.1))
        self.layer = np.dstack([picture, np.round(alpha * 255).astype(np.uint8)])
        self.plate = _painted_out(picture, alpha)
        self._reference: np.ndarray | None = None
        self._driver_to_character: Similarity | None = None

    def frame(self, driver: np.ndarray | None) -> np.ndarray:
        """The character for one driver frame's landmarks (478 x 2+, driver pixels); at rest
        when there is no face."""
        if driver is None:
            return self.picture.copy()
        driver = driver[:, :2].astype(np.float64)
        if self._reference is None:
            self._reference = driver
            self._driver_to_character = Similarity.fit(driver[list(_RIGID)], self.face[list(_RIGID)])
        assert self._driver_to_character is not None
        motion = Similarity.fit(self._reference[list(_RIGID)], driver[list(_RIGID)])
        expression = motion.inverse().apply(driver) - self._reference
        to_character = self._driver_to_character
        rest = self.face + expression @ to_character.linear.T
        head = to_character.inverse().then(motion).then(to_character)
        targets = np.vstack([head.apply(rest), head.apply(self.ring), self.border])
        return self._render(targets)

    def _render(self, targets: np.ndarray) -> np.ndarray:
        patch = warp_mesh(self.layer, self.sources, targets, self.triangles, self.size, step=_WARP_STEP)
        output = self.plate.copy()
        if patch is None:
            return output
        alpha = patch.pixels[..., 3].astype(np.float32) / 255.0 * patch.covered
        composite(output, patch.pixels[..., :3], alpha, (patch.box.left, patch.box.top))
        _draw_mouth(output, targets[: len(self.face)])
        return output


def _border_points(width: int, height: int) -> np.ndarray:
    xs = np.linspace(0.0, width - 1.0, _BORDER_STEPS + 1)
    ys = np.linspace(0.0, height - 1.0, _BORDER_STEPS + 1)
    top = [(x, 0.0) for x in xs]
    bottom = [(x, height - 1.0) for x in xs]
    sides = [(x, y) for y in ys[1:-1] for x in (0.0, width - 1.0)]
    return np.array(top + bottom + sides)


def _painted_out(picture: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The picture with the person painted out, to show where the person moved away."""
    height, width = picture.shape[:2]
    scale = min(1.0, _INPAINT_SIDE / max(height, width))
    small = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    hole = cv2.resize((alpha > 0.2).astype(np.uint8), (small.shape[1], small.shape[0]))
    hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    filled = cv2.inpaint(small, hole, 5, cv2.INPAINT_TELEA)
    plate = cv2.resize(filled, (width, height), interpolation=cv2.INTER_CUBIC)
    keep = (alpha <= 0.2)[..., None]
    return np.where(keep & (cv2.resize(hole, (width, height)) == 0)[..., None], picture, plate)


def _draw_mouth(frame: np.ndarray, face: np.ndarray) -> None:
    """Paint a mouth interior inside the inner lips when they are open."""
    upper, lower = face[UPPER_LIP_INNER], face[LOWER_LIP_INNER]
    eyes = float(np.linalg.norm(face[33] - face[263]))
    opening = float(np.linalg.norm(lower - upper))
    if eyes <= 0 or opening < _OPEN_MOUTH * eyes:
        return
    lips = np.round(face[list(INNER_LIPS)]).astype(np.int32)
    left, top = lips.min(axis=0)
    right, bottom = lips.max(axis=0) + 1
    left, top = max(0, left - 2), max(0, top - 2)
    right, bottom = min(frame.shape[1], right + 2), min(frame.shape[0], bottom + 2)
    if right - left < 2 or bottom - top < 2:
        return
    height, width = bottom - top, right - left
    interior = np.empty((height, width, 3), np.uint8)
    interior[:] = _THROAT
    shift = np.array([left, top])
    # Upper teeth: a band under the upper lip; the tongue: a soft rise from the lower lip.
    teeth = np.round(np.vstack([face[list(INNER_LIPS[:11])], face[list(INNER_LIPS[10::-1])] + [0, 0.3 * opening]]))
    cv2.fillPoly(interior, [(teeth - shift).astype(np.int32)], _TEETH)
    centre = tuple(int(v) for v in np.round(lower - shift - [0, 0.1 * opening]))
    axes = (max(1, int(0.3 * width)), max(1, int(0.25 * opening)))
    cv2.ellipse(interior, centre, axes, 0, 180, 360, _TONGUE, -1)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [lips - shift], 255)
    alpha = cv2.GaussianBlur(mask, (0, 0), max(0.8, 0.05 * opening)).astype(np.float32) / 255.0
    composite(frame, interior, alpha, (left, top))
