"""Animate mode, one frame at a time: the character's picture moves like the driver's face.

Retargeting, in 3D. The face mesh gives every landmark a depth, so the driver's head motion
on each frame is a 3D similarity (rotation, scale, shift) fitted on the skull's landmarks
against its own reference frame (the first with a face), and what remains after undoing it
(the mouth opening, blinks, brows) is the expression. A second 3D similarity takes the driver's
reference face onto the character's: its scale (from 3D distances, which a turned face does not
shorten) brings the expression to the character's size, and its rotation turns both the
expression and the head's rotation into the character's own head axes. So a nod is a nod and a
turn a turn whichever way the character faces: a character in profile turns about its own
vertical axis rather than taking a frontal driver's foreshortening as if it were frontal. The
head's shift across the picture is the driver's, at the character's scale.

Rendering. One piecewise-affine warp of the whole picture: the face mesh points that the picture
shows go where the retargeted landmarks say (on a turned face the far side's landmarks lie under
the near side's skin; moving them would drag it about), a ring of points around the head moves
with the head (hair and skull; the plane similarity closest to the face's motion), and points
along the picture's border stay put, so the neck and shoulders bend smoothly between them.
Triangles are drawn far to near, the ring and border behind the face, so where a turn folds the
warp the face stays on top. The person, warped with its mask, is laid over a plate of the
picture with the person painted out (OpenCV inpainting), so the background does not move with
the head. The mask is the segmenter's person and the face's hull; the whole ring only when the
segmenter does not see the face (a drawn character), so that a thing held up to the face (a
camera at the eye) is not carried along with the head. What the segmenter is unsure of over a
wide region (it half claims that camera) stays in the background too, whole, instead of being
half carried and half painted out (a ghost of it wherever the head moves).
Where the mouth opens wider than the picture's, a mouth interior is drawn: dark throat,
upper teeth and a hint of tongue (``reelsmith.faces.mouth``, shared with lip-sync). The eyes
keep the picture's opening in the warp, and blinks are drawn as the upper lids coming down
(``eyelids.py``), on the eyes the picture shows.

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
from reelsmith.faces.landmarks import CHIN, find_face, mesh_triangles
from reelsmith.faces.mesh_warp import delaunay, mesh_map, warp_mesh
from reelsmith.faces.mls import mls_map
from reelsmith.faces.mouth import draw_mouth, mouth_opening, skin_around_mouth
from reelsmith.faces.pose import SHOULDERS, Body, find_body
from reelsmith.faces.segmentation import person_mask
from reelsmith.faces.similarity import Similarity
from reelsmith.pipelines.base import PipelineError
from reelsmith.pipelines.character_swap.body import BodyMotion
from reelsmith.pipelines.character_swap.eyelids import EYES, draw_lids, keep_opening

# Landmarks that move with the skull, not with expressions: they fix the head's motion. The
# face oval above the jaw (the jaw drops as the mouth opens), the nose's ridge and the eyes'
# corners.
_SKULL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 93, 234, 127, 162, 21, 54, 103, 67, 109,
    1, 4, 5, 6, 168, 197, 195, 33, 133, 362, 263,
)  # fmt: skip
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
# A landmark is behind the face when its surface is nearer by this share of the face's width.
_HIDDEN_MARGIN = 0.05
# The segmenter sees the face when its mask covers at least this share of the face's hull.
_SEGMENTED_FACE = 0.5
# An eye narrower than this share of the other is turned away (seen edge on or hidden).
_SHOWN_EYE = 0.5
# The segmenter is unsure of a pixel between these values; of a region, when such pixels fill
# a disc this share of the short side across.
_UNSURE = (0.15, 0.85)
_DOUBT_WIDTH = 0.04


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
        self.face3 = face.points[:, :3].astype(np.float64)
        self.face = self.face3[:, :2]
        centre = self.face.mean(axis=0)
        radius = float(np.linalg.norm(self.face - centre, axis=1).max())
        angles = np.linspace(0.0, 2.0 * np.pi, _RING_POINTS, endpoint=False)
        ring = centre + _RING_RADIUS * radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        self.ring = np.clip(ring, 1.0, (self.size[0] - 2.0, self.size[1] - 2.0))
        self.border = _border_points(*self.size)
        # Only the landmarks the picture shows steer the warp: on a turned face the far side's
        # landmarks lie under the near side's skin, and moving them would drag it about.
        self.shown = np.flatnonzero(~_hidden(self.face3))
        self.sources = np.vstack([self.face[self.shown], self.ring, self.border])
        # An eye is drawn blinking only where the picture shows it: not foreshortened to a
        # sliver beside the other (the far eye of a face in profile, behind the nose).
        widths = [float(np.linalg.norm(self.face[outer] - self.face[inner])) for _, (outer, inner) in EYES]
        self.eyes_shown = tuple(width >= _SHOWN_EYE * max(widths) for width in widths)
        self.triangles = delaunay(self.sources, self.size)
        person = person_mask(picture)
        skin = np.zeros(person.shape, np.uint8)
        cv2.fillConvexPoly(skin, cv2.convexHull(np.round(self.face).astype(np.int32)), 1)
        # The person as the segmenter sees it, and at least the face. Where the segmenter
        # does not see the face (a drawn character), the whole head's ring is taken; where it
        # does, what it leaves out around the head (sky, a camera held to the eye) is not the
        # person and stays in the background rather than moving with the head.
        head = skin
        if float(person[skin > 0].mean()) < _SEGMENTED_FACE:
            head = np.zeros(person.shape, np.uint8)
            cv2.fillPoly(head, [np.round(self.ring).astype(np.int32)], 1)
        alpha = np.maximum(_decided(person), cv2.GaussianBlur(head.astype(np.float32), (0, 0), radius * 0.1))
        self.layer = np.dstack([picture, np.round(alpha * 255).astype(np.uint8)])
        self.alpha = alpha.astype(np.float32)
        self.mouth_at_rest = mouth_opening(self.face)
        # The drawn mouth interior takes the picture's light (a grey picture gets a grey mouth).
        self.mouth_skin = skin_around_mouth(picture, self.face)
        self.shown_set = frozenset(self.shown.tolist())
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
        self.head_sources = np.vstack([self.face[self.shown], ring_points])
        self.head_triangles = delaunay(self.head_sources, self.size) if self.body is not None else None
        self._reference: np.ndarray | None = None
        self._driver_to_character: Pose | None = None

    @property
    def has_body(self) -> bool:
        """Whether the picture shows a body that the driver's body can move."""
        return self.body is not None

    def frame(self, driver: np.ndarray | None, closure: float = 0.0, body: Body | None = None) -> np.ndarray:
        """The character for one driver frame: its face landmarks (478 x 3, driver pixels,
        with the face mesh's depth), how shut its eyes are (0-1) and its body (driver pixels)
        where one is seen; at rest when there is no face."""
        if self.body is not None:
            self.body.follow(body)
        if driver is None:
            return self.picture.copy()
        driver = driver[:, :3].astype(np.float64)
        skull = list(_SKULL)
        if self._reference is None:
            self._reference = driver
            self._driver_to_character = Pose.fit(driver[skull], self.face3[skull])
        assert self._driver_to_character is not None
        to_character = self._driver_to_character
        # The head's motion in 3D, so that a turn is a turn whichever way the character faces:
        # what the driver's head does in its own frame, the character's does in its frame.
        motion = Pose.fit(self._reference[skull], driver[skull])
        expression = motion.undo(driver) - self._reference
        rest = self.face3 + to_character.scale * expression @ to_character.rotation.T
        turn = to_character.rotation @ motion.rotation @ to_character.rotation.T
        centre = self.face3[skull].mean(axis=0)
        moved = centre + motion.scale * (rest - centre) @ turn.T
        # The head's shift across the picture is the driver's, at the character's scale.
        moved[:, :2] += to_character.scale * (motion.destination - motion.origin)[:2]
        head = _plane_fit(self.face[skull], moved[skull, :2])
        moving_body = self.body is not None and self.body.started
        if moving_body:
            assert self.body is not None
            # What the head shares of the shoulders' shift (the whole upper body moving) is
            # carried at the body's scale, so head and shoulders stay together.
            head_move = (motion.destination - motion.origin)[:2]
            shared = _shared_move(head_move, self.body.driver_centre_move)
            shift = (self.body.scale - to_character.scale) * shared
            moved[:, :2] += shift
            head = head.then(Similarity(np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]], [0.0, 0.0, 1.0]])))
        rest = moved[:, :2]
        face = keep_opening(rest, self.face, head.linear)
        if moving_body:
            output = self._render_body(face, head, moved[self.shown, 2])
        else:
            output = self._render(
                np.vstack([face[self.shown], head.apply(self.ring), self.border]), moved[self.shown, 2]
            )
        draw_mouth(output, face, self.mouth_at_rest, self.mouth_skin, self.shown_set)
        draw_lids(output, face, closure, self.eyes_shown)
        return output

    def _render(self, targets: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """The picture warped so its control points land on ``targets``; ``depth`` is the
        face's landmarks' (smaller is nearer), the ring and border are behind them, so where a
        turning head folds the warp over itself the face is drawn over what is around it."""
        patch = warp_mesh(
            self.layer,
            self.sources,
            targets,
            self.triangles,
            self.size,
            depth=_behind(depth, len(self.sources)),
            step=_WARP_STEP,
        )
        output = self.plate.copy()
        if patch is None:
            return output
        alpha = patch.pixels[..., 3].astype(np.float32) / 255.0 * patch.covered
        composite(output, patch.pixels[..., :3], alpha, (patch.box.left, patch.box.top))
        return output

    def _render_body(self, face: np.ndarray, head: Similarity, depth: np.ndarray) -> np.ndarray:
        assert self.body is not None and self.head_triangles is not None
        ring_sources = self.head_sources[len(self.shown) :]
        ring = head.apply(ring_sources)
        joints = self.body.controls()
        read = mls_map(
            np.vstack([ring_sources, joints.sources]), np.vstack([ring, joints.targets]), self.size, step=_MLS_STEP
        )
        mapped = mesh_map(
            self.head_sources,
            np.vstack([face[self.shown], ring]),
            self.head_triangles,
            self.size,
            depth=_behind(depth, len(self.head_sources)),
            step=_WARP_STEP,
        )
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


@dataclass(frozen=True)
class Pose:
    """A 3D similarity between two sets of face landmarks (N x 3, pixels):
    x -> destination + scale * rotation (x - origin)."""

    scale: float
    rotation: np.ndarray  # 3 x 3
    origin: np.ndarray
    destination: np.ndarray

    @classmethod
    def fit(cls, source: np.ndarray, target: np.ndarray) -> Pose:
        """The least-squares similarity taking ``source`` onto ``target`` (Umeyama, 1991)."""
        origin, destination = source.mean(axis=0), target.mean(axis=0)
        centred_source, centred_target = source - origin, target - destination
        u, singular, vt = np.linalg.svd(centred_target.T @ centred_source)
        mirror = np.diag([1.0, 1.0, float(np.sign(np.linalg.det(u @ vt)) or 1.0)])
        rotation = u @ mirror @ vt
        spread = float((centred_source**2).sum())
        scale = float(np.trace(np.diag(singular) @ mirror)) / max(spread, 1e-9)
        return cls(scale=scale, rotation=rotation, origin=origin, destination=destination)

    def undo(self, points: np.ndarray) -> np.ndarray:
        """``points`` (N x 3) taken back through the inverse transform."""
        return self.origin + (points - self.destination) @ self.rotation / self.scale


def _behind(depth: np.ndarray, count: int) -> np.ndarray:
    """``depth`` (the face's landmarks') followed by depths behind all of them for the rest of
    ``count`` control points (the ring and border)."""
    far = float(depth.max()) + 1.0
    return np.concatenate([depth, np.full(count - len(depth), far)])


def _hidden(face: np.ndarray) -> np.ndarray:
    """Which of the landmarks ``face`` (478 x 3, pixels) lie behind the face's own surface:
    a triangle of the mesh that does not hold the landmark covers it nearer the camera (by
    more than a twentieth of the face's width, so that the skin's own curve does not count)."""
    triangles = mesh_triangles()
    flat, depth = face[:, :2], face[:, 2]
    corner = flat[triangles[:, 0]]
    first, second = flat[triangles[:, 1]] - corner, flat[triangles[:, 2]] - corner
    area = first[:, 0] * second[:, 1] - first[:, 1] * second[:, 0]
    usable = np.abs(area) > 1e-6
    area = np.where(usable, area, 1.0)
    offset = flat[:, None, :] - corner[None]
    u = (offset[..., 0] * second[None, :, 1] - offset[..., 1] * second[None, :, 0]) / area
    v = (first[None, :, 0] * offset[..., 1] - first[None, :, 1] * offset[..., 0]) / area
    inside = (u >= 0) & (v >= 0) & (u + v <= 1) & usable[None]
    surface = (1 - u - v) * depth[triangles[:, 0]] + u * depth[triangles[:, 1]] + v * depth[triangles[:, 2]]
    own = (triangles[None, :, :] == np.arange(len(face))[:, None, None]).any(axis=2)
    margin = _HIDDEN_MARGIN * float(np.ptp(flat[:, 0]))
    return (inside & ~own & (surface < depth[:, None] - margin)).any(axis=1)


def _plane_fit(source: np.ndarray, target: np.ndarray) -> Similarity:
    """The least-squares similarity in the picture's plane taking ``source`` (N x 2) onto
    ``target``: the head's motion as the ring around it and the eyes' opening follow it."""
    origin, destination = source.mean(axis=0), target.mean(axis=0)
    a, b = source - origin, target - destination
    spread = max(float((a**2).sum()), 1e-9)
    cos = float((a * b).sum()) / spread
    sin = float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()) / spread
    linear = np.array([[cos, -sin], [sin, cos]])
    shift = destination - linear @ origin
    return Similarity(np.array([[cos, -sin, shift[0]], [sin, cos, shift[1]], [0.0, 0.0, 1.0]]))


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


def _decided(person: np.ndarray) -> np.ndarray:
    """The segmenter's person mask with the things it is unsure of left to the background.

    A thing it half claims (the cameraman's camera, at about 0.5) would otherwise be carried
    half by the moving person and half painted out of the plate: a ghost of it wherever the
    head moves. Its soft edges, a band a few pixels wide around the person, are kept; regions
    of doubt wider than :data:`_DOUBT_WIDTH` of the picture's short side (and the fringe
    around them) count as background, so such a thing stays where it is, whole and sharp.
    """
    unsure = ((person > _UNSURE[0]) & (person < _UNSURE[1])).astype(np.uint8)
    radius = max(2, round(_DOUBT_WIDTH * min(person.shape) / 2))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    doubt = cv2.dilate(cv2.morphologyEx(unsure, cv2.MORPH_OPEN, disc), disc)
    return np.where(doubt > 0, 0.0, person).astype(np.float32)


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
