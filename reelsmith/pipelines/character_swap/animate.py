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
upper teeth and a hint of tongue (``reelsmith.faces.mouth``, shared with lip-sync). The eyes
keep the picture's opening in the warp, and blinks
are drawn as the upper lids coming down (``eyelids.py``).

The body. When the picture shows shoulders and the driver does too, the driver's joints
(MediaPipe pose) move the character's (``body.py``), and the person is bent by a rigid
moving-least-squares deformation (``reelsmith.faces.mls``) whose controls are the joints,
points down the trunk (carried by the shoulders) and a ring around the head moving with the
head. That ring is pulled in under the chin, so the neck bends between head and shoulders.
Inside the ring the face mesh warp takes over, blended into the body's over a band just inside
the ring, so head and body are one picture, sampled once. The head is also shifted so that,
when the driver's whole upper body moves, head and shoulders move together at the body's
scale. Until the driver shows a body, and for a picture without one, the rendering is the
whole-picture mesh warp above.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reelsmith.faces.blending import composite
from reelsmith.faces.landmarks import CHIN, FACE_OVAL, find_face
from reelsmith.faces.mesh_warp import delaunay, mesh_map, warp_mesh
from reelsmith.faces.mls import mls_map
from reelsmith.faces.mouth import draw_mouth, mouth_opening
from reelsmith.faces.pose import SHOULDERS, Body, find_body
from reelsmith.faces.segmentation import person_mask
from reelsmith.faces.similarity import Similarity
from reelsmith.pipelines.base import PipelineError
from reelsmith.pipelines.character_swap.body import BodyMotion
from reelsmith.pipelines.character_swap.eyelids import draw_lids, keep_opening

# Landmarks that move with the skull, not with expressions: they fix the head's motion.
_RIGID = (*FACE_OVAL, 1, 4, 5, 6, 168, 197, 195, 33, 133, 362, 263)
# The head's ring: this many points, this many face radii from the face's centre.
_RING_POINTS = 20
_RING_RADIUS = 1.7
_BORDER_STEPS = 4
# With a body, the ring's distance below the face's centre, in centre-to-chin distances.
_NECK_RING = 1.3
# A character's joint this close to the head (in ring radii) is the head's, not the body's.
_JOINT_CLEARANCE = 1.1
# The face mesh warp fades into the body's between these shares of the ring's radius (inside
# the ring, where the mesh moves rigidly with the head).
_HEAD_FULL, _HEAD_NONE = 0.8, 0.97
_MLS_STEP = 8
_WEIGHT_STEP = 4
# Picture and plate are worked out at most this size on the long side for inpainting.
_INPAINT_SIDE = 512
_WARP_STEP = 4


@dataclass(frozen=True)
class HeadRing:
    """A closed curve around the head in the character picture: ``far`` from ``centre``
    away from the chin (hair), narrowing to ``near`` towards it (the neck)."""

    centre: np.ndarray
    chin_angle: float
    far: float
    near: float

    def radius(self, angles: np.ndarray) -> np.ndarray:
        """The ring's distance from the centre in the directions ``angles`` (radians)."""
        towards_chin = ((1.0 + np.cos(angles - self.chin_angle)) / 2.0) ** 2
        return self.far + (self.near - self.far) * towards_chin

    def points(self, count: int) -> np.ndarray:
        """``count`` points along the ring (count x 2)."""
        angles = np.linspace(0.0, 2.0 * np.pi, count, endpoint=False)
        return self.centre + self.radius(angles)[:, None] * np.stack([np.cos(angles), np.sin(angles)], axis=1)

    def share(self, points: np.ndarray) -> np.ndarray:
        """How far out ``points`` (N x 2) are: 1 on the ring, less inside."""
        offset = points - self.centre
        angles = np.arctan2(offset[:, 1], offset[:, 0])
        return np.linalg.norm(offset, axis=1) / self.radius(angles)


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
        self.alpha = alpha.astype(np.float32)
        self.mouth_at_rest = mouth_opening(self.face)
        self.plate = _painted_out(picture, alpha)
        # With a body, the ring is pulled in towards the chin so that the neck (and a collar)
        # bends with the body rather than turning with the head.
        chin = self.face[CHIN] - centre
        self.head_ring = HeadRing(
            centre=centre,
            chin_angle=float(np.arctan2(chin[1], chin[0])),
            far=_RING_RADIUS * radius,
            near=_NECK_RING * float(np.linalg.norm(chin)),
        )
        body = _body_clear_of_head(find_body(picture), self.head_ring)
        self.body = BodyMotion(body) if body is not None else None
        # The head alone (face and ring), warped by its mesh inside the body's deformation.
        ring_points = np.clip(self.head_ring.points(_RING_POINTS), 1.0, (self.size[0] - 2.0, self.size[1] - 2.0))
        self.head_sources = np.vstack([self.face, ring_points])
        self.head_triangles = delaunay(self.head_sources, self.size) if self.body is not None else None
        self._reference: np.ndarray | None = None
        self._driver_to_character: Similarity | None = None

    @property
    def has_body(self) -> bool:
        """Whether the picture shows a body that the driver's body can move."""
        return self.body is not None

    def frame(self, driver: np.ndarray | None, closure: float = 0.0, body: Body | None = None) -> np.ndarray:
        """The character for one driver frame: its face landmarks (478 x 2+, driver pixels),
        how shut its eyes are (0-1) and its body (driver pixels) where one is seen; at rest
        when there is no face."""
        if self.body is not None:
            self.body.follow(body)
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
        moving_body = self.body is not None and self.body.started
        if moving_body:
            assert self.body is not None
            # What the head shares of the shoulders' shift (the whole upper body moving) is
            # carried at the body's scale, so head and shoulders stay together.
            head_move = driver[list(_RIGID)].mean(axis=0) - self._reference[list(_RIGID)].mean(axis=0)
            shared = _shared_move(head_move, self.body.driver_centre_move)
            shift = self.body.scale * shared - to_character.linear @ shared
            head = head.then(Similarity(np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]], [0.0, 0.0, 1.0]])))
        face = keep_opening(head.apply(rest), self.face, head.linear)
        if moving_body:
            output = self._render_body(face, head)
        else:
            output = self._render(np.vstack([face, head.apply(self.ring), self.border]))
        draw_mouth(output, face, self.mouth_at_rest)
        draw_lids(output, face, closure)
        return output

    def _render(self, targets: np.ndarray) -> np.ndarray:
        patch = warp_mesh(self.layer, self.sources, targets, self.triangles, self.size, step=_WARP_STEP)
        output = self.plate.copy()
        if patch is None:
            return output
        alpha = patch.pixels[..., 3].astype(np.float32) / 255.0 * patch.covered
        composite(output, patch.pixels[..., :3], alpha, (patch.box.left, patch.box.top))
        return output

    def _render_body(self, face: np.ndarray, head: Similarity) -> np.ndarray:
        assert self.body is not None and self.head_triangles is not None
        ring_sources = self.head_sources[len(self.face) :]
        ring = head.apply(ring_sources)
        joints = self.body.controls()
        read = mls_map(
            np.vstack([ring_sources, joints.sources]), np.vstack([ring, joints.targets]), self.size, step=_MLS_STEP
        )
        mapped = mesh_map(self.head_sources, np.vstack([face, ring]), self.head_triangles, self.size, step=_WARP_STEP)
        if mapped is not None:
            box = mapped.box
            # How far out in the ring each pixel is, measured where the head came from; on a
            # coarse grid, as the share changes slowly.
            grid = (-(-box.width // _WEIGHT_STEP), -(-box.height // _WEIGHT_STEP))
            xs, ys = np.meshgrid(
                box.left + (np.arange(grid[0]) + 0.5) * _WEIGHT_STEP - 0.5,
                box.top + (np.arange(grid[1]) + 0.5) * _WEIGHT_STEP - 0.5,
            )
            at_rest = head.inverse().apply(np.stack([xs.ravel(), ys.ravel()], axis=1))
            share = self.head_ring.share(at_rest).reshape(xs.shape).astype(np.float32)
            fine = (grid[0] * _WEIGHT_STEP, grid[1] * _WEIGHT_STEP)
            share = cv2.resize(share, fine, interpolation=cv2.INTER_LINEAR)[: box.height, : box.width]
            weight = np.clip((_HEAD_NONE - share) / (_HEAD_NONE - _HEAD_FULL), 0.0, 1.0) * mapped.covered
            region = read[box.slices]
            region += weight[..., None] * (mapped.read - region)
        pixels = cv2.remap(self.picture, read, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.remap(self.alpha, read, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        output = self.plate.copy()
        composite(output, pixels, alpha, (0, 0))
        return output


def _shared_move(head: np.ndarray, shoulders: np.ndarray) -> np.ndarray:
    """The part of the shoulders' shift that the head made too (both 2-vectors): the
    shoulders' shift times how far along it the head went, between none and all of it."""
    length = float(shoulders @ shoulders)
    if length <= 1e-9:
        return np.zeros(2)
    return shoulders * float(np.clip(head @ shoulders / length, 0.0, 1.0))


def _body_clear_of_head(body: Body | None, ring: HeadRing) -> Body | None:
    """``body`` without the joints that the head's ``ring`` covers (the head's warp moves
    those); None when a shoulder is among them."""
    if body is None:
        return None
    clear = ring.share(body.points) > _JOINT_CLEARANCE
    seen = body.seen & clear
    if not seen[list(SHOULDERS)].all():
        return None
    return Body(points=body.points, seen=seen)


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
