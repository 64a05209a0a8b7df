"""What Wan2.2-Animate is shown, made from our own tracking (MediaPipe face mesh, pose and
selfie segmentation, ``reelsmith/faces``) in the formats of Wan-Animate's own preprocessing
(``wan/modules/animate/preprocess`` in Wan2.2's repository, which uses DWPose and SAM2):

- **the pose video**: each frame a skeleton on black, drawn as Wan-Animate draws them
  (``draw_aapose_by_meta_new``): OpenPose's 18 body points plus the two toes, limbs as
  ellipses in OpenPose's colours at 60 %, joints as dots in the full colour, stick width
  ``max(short side / 200 - 1, 1)``; hands as three strokes from each wrist (to the thumb, the
  index and the little finger: what MediaPipe pose gives of a hand) in the colours of those
  fingers' first bones. In ``animate`` mode the driver's skeleton is retargeted onto the
  character (:class:`Retarget`); in ``replace`` mode it is the driver's own, where it is;
- **the face video**: the driver's face cropped as Wan-Animate crops it (``get_face_bboxes``:
  the landmarks' box grown to 1.3 times its area, three quarters of the extra height above),
  scaled to the model's square (512 px for the real model);
- **replace mode's background and mask videos**: the person's box (MediaPipe's selfie mask,
  the face and the body's joints, grown as Wan-Animate's 7 px dilation x 3 grows it at 720p)
  blacked out of the frame, and that box in white on black (255: made by the model; 0: kept).
  Wan-Animate's recommended settings (``--w_len 1 --h_len 1``) also reduce the mask to the
  person's box, which leaves room for a character shaped unlike the person.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field

import cv2
import numpy as np

from reelsmith.faces.landmarks import LEFT_EYE, NOSE_TIP, RIGHT_EYE
from reelsmith.faces.pose import Body

# OpenPose's body points as Wan-Animate draws them, then the hands' strokes' ends.
NOSE, NECK, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST = range(8)
R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, R_EYE, L_EYE, R_EAR, L_EAR, L_TOE, R_TOE = range(8, 20)
R_THUMB, R_INDEX, R_PINKY, L_THUMB, L_INDEX, L_PINKY = range(20, 26)
BODY_POINTS = 20
POINTS = 26

# MediaPipe pose's landmark for each point (the neck is the shoulders' midpoint).
_MEDIAPIPE = {
    NOSE: 0, R_SHOULDER: 12, R_ELBOW: 14, R_WRIST: 16, L_SHOULDER: 11, L_ELBOW: 13, L_WRIST: 15,
    R_HIP: 24, R_KNEE: 26, R_ANKLE: 28, L_HIP: 23, L_KNEE: 25, L_ANKLE: 27, R_EYE: 5, L_EYE: 2,
    R_EAR: 8, L_EAR: 7, L_TOE: 31, R_TOE: 32, R_THUMB: 22, R_INDEX: 20, R_PINKY: 18, L_THUMB: 21,
    L_INDEX: 19, L_PINKY: 17,
}  # fmt: skip
# The face mesh's points for the head (ears: the face outline at the eyes' height).
_MESH_EAR = {R_EAR: 234, L_EAR: 454}
HEAD = (NOSE, R_EYE, L_EYE, R_EAR, L_EAR)

# Wan-Animate's limbs and colours (RGB), in its drawing order.
LIMBS = (
    (NECK, R_SHOULDER), (NECK, L_SHOULDER), (R_SHOULDER, R_ELBOW), (R_ELBOW, R_WRIST),
    (L_SHOULDER, L_ELBOW), (L_ELBOW, L_WRIST), (NECK, R_HIP), (R_HIP, R_KNEE), (R_KNEE, R_ANKLE),
    (NECK, L_HIP), (L_HIP, L_KNEE), (L_KNEE, L_ANKLE), (NECK, NOSE), (NOSE, R_EYE), (R_EYE, R_EAR),
    (NOSE, L_EYE), (L_EYE, L_EAR), (L_ANKLE, L_TOE), (R_ANKLE, R_TOE),
)  # fmt: skip
COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85), (200, 200, 0), (100, 100, 0),
)  # fmt: skip
# A hand's strokes (wrist to finger) and the index of that finger's first bone among OpenPose's
# 20 hand bones, whose hue Wan-Animate draws it in (bone i of 20: hue i / 20).
_HAND_STROKES = (
    (R_WRIST, R_THUMB, 0), (R_WRIST, R_INDEX, 4), (R_WRIST, R_PINKY, 16),
    (L_WRIST, L_THUMB, 0), (L_WRIST, L_INDEX, 4), (L_WRIST, L_PINKY, 16),
)  # fmt: skip
_HAND_JOINT_COLOUR = (0, 0, 255)

# Each point hangs from this one (the neck is the root): retargeting walks the tree from it.
PARENT = {
    NOSE: NECK, R_SHOULDER: NECK, L_SHOULDER: NECK, R_HIP: NECK, L_HIP: NECK,
    R_ELBOW: R_SHOULDER, R_WRIST: R_ELBOW, L_ELBOW: L_SHOULDER, L_WRIST: L_ELBOW,
    R_KNEE: R_HIP, R_ANKLE: R_KNEE, R_TOE: R_ANKLE, L_KNEE: L_HIP, L_ANKLE: L_KNEE, L_TOE: L_ANKLE,
    R_EYE: NOSE, L_EYE: NOSE, R_EAR: R_EYE, L_EAR: L_EYE,
    R_THUMB: R_WRIST, R_INDEX: R_WRIST, R_PINKY: R_WRIST, L_THUMB: L_WRIST, L_INDEX: L_WRIST, L_PINKY: L_WRIST,
}  # fmt: skip
_TREE_ORDER = (
    NOSE, R_SHOULDER, L_SHOULDER, R_HIP, L_HIP, R_EYE, L_EYE, R_EAR, L_EAR, R_ELBOW, L_ELBOW,
    R_WRIST, L_WRIST, R_KNEE, L_KNEE, R_ANKLE, L_ANKLE, R_TOE, L_TOE,
    R_THUMB, R_INDEX, R_PINKY, L_THUMB, L_INDEX, L_PINKY,
)  # fmt: skip

# Wan-Animate's face crop: the box grown to this many times its area.
FACE_AREA_GROWTH = 1.3
# Its mask's dilation (a 7 px kernel, 3 times, at 720p: 9 px) as a share of the short side.
MASK_GROWTH = 9 / 720
# Selfie-mask blobs smaller than this share of the frame are noise.
_MIN_BLOB = 0.002


@dataclass(frozen=True)
class Skeleton:
    """Points (26 x 2, pixels of the frame they were found on) and which are there."""

    points: np.ndarray
    seen: np.ndarray

    @staticmethod
    def empty() -> Skeleton:
        return Skeleton(np.zeros((POINTS, 2)), np.zeros(POINTS, dtype=bool))

    @property
    def any(self) -> bool:
        return bool(self.seen.any())

    def has(self, *points: int) -> bool:
        return bool(self.seen[list(points)].all())

    def distance(self, a: int, b: int) -> float:
        return float(np.linalg.norm(self.points[a] - self.points[b]))

    def scaled(self, sx: float, sy: float) -> Skeleton:
        return Skeleton(self.points * (sx, sy), self.seen.copy())


def skeleton_of(body: Body | None, face: np.ndarray | None) -> Skeleton:
    """The OpenPose points of one person: from MediaPipe pose's ``body`` where it is seen, the
    head from the face mesh's landmarks (478 x 2+, ``face``) where the body gives none."""
    points, seen = np.zeros((POINTS, 2)), np.zeros(POINTS, dtype=bool)
    if body is not None:
        for point, landmark in _MEDIAPIPE.items():
            points[point], seen[point] = body.points[landmark], bool(body.seen[landmark])
        if seen[R_SHOULDER] and seen[L_SHOULDER]:
            points[NECK], seen[NECK] = (points[R_SHOULDER] + points[L_SHOULDER]) / 2, True
    if face is not None and not seen[NOSE]:
        mesh = face[:, :2].astype(np.float64)
        points[NOSE] = mesh[NOSE_TIP]
        points[R_EYE] = mesh[list(RIGHT_EYE)].mean(axis=0)
        points[L_EYE] = mesh[list(LEFT_EYE)].mean(axis=0)
        seen[[NOSE, R_EYE, L_EYE]] = True
        for ear, eye in ((R_EAR, R_EYE), (L_EAR, L_EYE)):
            points[ear] = mesh[_MESH_EAR[ear]]
            # An ear turns away once the nose passes the eye on its side (a face near profile).
            seen[ear] = (points[NOSE, 0] - points[eye, 0]) * (points[ear, 0] - points[eye, 0]) <= 0
    return Skeleton(points, seen)


def draw_pose(skeleton: Skeleton, size: tuple[int, int]) -> np.ndarray:
    """``skeleton`` drawn on black as Wan-Animate draws its pose videos: H x W x 3 uint8 RGB of
    ``size`` (width, height), points in its pixels."""
    width, height = size
    canvas = np.zeros((height, width, 3), np.uint8)
    stick = max(int(min(width, height) / 200) - 1, 1)
    points, seen = skeleton.points, skeleton.seen
    for (a, b), colour in zip(LIMBS, COLOURS, strict=False):
        if not (seen[a] and seen[b]):
            continue
        (x0, y0), (x1, y1) = points[a], points[b]
        length = float(np.hypot(x1 - x0, y1 - y0))
        angle = float(np.degrees(np.arctan2(y0 - y1, x0 - x1)))
        centre = (int((x0 + x1) / 2), int((y0 + y1) / 2))
        polygon = cv2.ellipse2Poly(centre, (int(length / 2), stick), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, [int(c * 0.6) for c in colour])
    for point in range(BODY_POINTS):
        if seen[point]:
            cv2.circle(canvas, _pixel(points[point]), stick, COLOURS[point], thickness=-1)
    # Wan-Animate draws hands 4 px wide at 720p.
    hand = max(1, round(min(width, height) / 180))
    for wrist, finger, bone in _HAND_STROKES:
        if seen[wrist] and seen[finger]:
            red, green, blue = colorsys.hsv_to_rgb(bone / 20, 1.0, 1.0)
            colour = (int(red * 255), int(green * 255), int(blue * 255))
            cv2.line(canvas, _pixel(points[wrist]), _pixel(points[finger]), colour, thickness=hand)
    for point in range(BODY_POINTS, POINTS):
        if seen[point]:
            cv2.circle(canvas, _pixel(points[point]), hand, _HAND_JOINT_COLOUR, thickness=-1)
    return canvas


def _pixel(point: np.ndarray) -> tuple[int, int]:
    return int(point[0]), int(point[1])


@dataclass
class Retarget:
    """The driver's skeleton carried onto the character's (animate mode), as Wan-Animate's
    ``get_retarget_pose`` does in spirit: the pose is the driver's (each bone keeps its
    direction on every frame), the build is the character's (each bone its length on the
    character's picture, where the picture shows it), and the body stands where the
    character stands, moving across the picture as far as the driver moves, at the
    character's scale.

    ``reference`` is the driver on its first frame showing a neck (both shoulders), else a
    nose; ``character`` the character's skeleton, both in their own pixels."""

    character: Skeleton
    reference: Skeleton
    fallback_scale: float  # character pixels per driver pixel where no body part says
    fallback_anchor: tuple[float, float]  # where the root stands where the picture does not say
    scale: float = field(init=False)
    root: int = field(init=False)
    _anchor: np.ndarray = field(init=False)
    _ratios: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        character, reference = self.character, self.reference
        if character.has(R_SHOULDER, L_SHOULDER) and reference.has(R_SHOULDER, L_SHOULDER):
            self.scale = character.distance(R_SHOULDER, L_SHOULDER) / max(
                reference.distance(R_SHOULDER, L_SHOULDER), 1.0
            )
        elif character.has(R_EYE, L_EYE) and reference.has(R_EYE, L_EYE):
            self.scale = character.distance(R_EYE, L_EYE) / max(reference.distance(R_EYE, L_EYE), 1.0)
        else:
            self.scale = self.fallback_scale
        self.root = NECK if reference.seen[NECK] else NOSE
        if character.seen[self.root]:
            self._anchor = character.points[self.root].copy()
        elif character.seen[NOSE] and reference.has(NOSE, self.root):
            # A head without shoulders: the neck hangs below the character's nose as below the driver's.
            self._anchor = character.points[NOSE] + self.scale * (reference.points[self.root] - reference.points[NOSE])
        else:
            self._anchor = np.asarray(self.fallback_anchor, dtype=np.float64)
        ratios = np.full(POINTS, self.scale)
        for point, parent in PARENT.items():
            if character.has(point, parent) and reference.has(point, parent):
                bone = reference.distance(point, parent)
                if bone > 1.0:
                    ratio = character.distance(point, parent) / bone
                    # A bone foreshortened on one picture must not stretch the other's tenfold.
                    ratios[point] = float(np.clip(ratio, 0.5 * self.scale, 2.0 * self.scale))
        self._ratios = ratios

    def __call__(self, driver: Skeleton) -> Skeleton:
        """``driver`` (a frame's skeleton, driver pixels) as the character's, character pixels."""
        points, seen = np.zeros((POINTS, 2)), np.zeros(POINTS, dtype=bool)
        reference, root = self.reference, self.root

        def carried(point: np.ndarray) -> np.ndarray:
            return self._anchor + self.scale * (point - reference.points[root])

        if driver.seen[root]:
            points[root], seen[root] = carried(driver.points[root]), True
        elif root == NECK and driver.seen[NOSE] and reference.seen[NOSE]:
            # Shoulders lost for a frame: the head moves as the driver's nose moves.
            offset = reference.points[NOSE] - reference.points[NECK]
            points[NOSE] = carried(driver.points[NOSE] - offset) + self._ratios[NOSE] * offset
            seen[NOSE] = True
        if root == NOSE and driver.seen[NECK]:
            # A driver first seen as a head only, now showing its shoulders.
            points[NECK], seen[NECK] = carried(driver.points[NECK]), True
        for point in _TREE_ORDER:
            if seen[point] or not driver.seen[point]:
                continue
            parent = PARENT[point]
            if seen[parent] and driver.seen[parent]:
                bone = driver.points[point] - driver.points[parent]
                points[point] = points[parent] + self._ratios[point] * bone
            else:
                points[point] = carried(driver.points[point])
            seen[point] = True
        return Skeleton(points, seen)


def face_crop_box(points: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """Wan-Animate's face crop (``get_face_bboxes``) around landmarks (N x 2+, pixels): their
    box grown to 1.3 times its area, half the extra width each side, three quarters of the
    extra height above; clipped to the frame. (x0, y0, x1, y1)."""
    xs, ys = points[:, 0], points[:, 1]
    left, top, right, bottom = float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
    box_width, box_height = max(right - left, 1.0), max(bottom - top, 1.0)
    area = box_width * box_height * FACE_AREA_GROWTH
    grown_width = np.sqrt(area * box_width / box_height)
    grown_height = np.sqrt(area * box_height / box_width)
    dx, dy = (grown_width - box_width) / 2, (grown_height - box_height) / 4
    x0, x1 = int(max(left - dx, 0)), int(min(right + dx, width))
    y0, y1 = int(max(top - 3 * dy, 0)), int(min(bottom + dy, height))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def crop_face(frame: np.ndarray, box: tuple[int, int, int, int], side: int) -> np.ndarray:
    """The box of ``frame`` scaled to ``side`` x ``side`` (as Wan-Animate: not keeping its aspect)."""
    x0, y0, x1, y1 = box
    crop = frame[y0:y1, x0:x1]
    shrinking = crop.shape[0] > side or crop.shape[1] > side
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def centre_box(width: int, height: int) -> tuple[int, int, int, int]:
    """A square of half the short side in the middle: the face crop of a clip without a face."""
    side = min(width, height) // 2
    x0, y0 = (width - side) // 2, (height - side) // 2
    return x0, y0, x0 + side, y0 + side


def person_box(
    person: np.ndarray, face: np.ndarray | None, skeleton: Skeleton
) -> tuple[float, float, float, float] | None:
    """The box the character is made in (replace mode), frame pixels: the selfie mask's blobs
    that hold the tracked face or a joint (all sizeable blobs where neither is seen), with the
    face's landmarks and the seen joints, grown as Wan-Animate's dilation grows its mask; None
    where there is no person."""
    height, width = person.shape[:2]
    anchors = [skeleton.points[skeleton.seen]]
    if face is not None:
        anchors.append(face[:, :2].astype(np.float64))
    known = np.concatenate(anchors) if anchors else np.zeros((0, 2))
    count, labels, stats, _ = cv2.connectedComponentsWithStats((person > 0.5).astype(np.uint8), connectivity=8)
    kept: list[tuple[float, float, float, float]] = []
    inside = np.clip(np.round(known).astype(int), 0, [width - 1, height - 1]) if len(known) else known
    held = set(labels[inside[:, 1], inside[:, 0]].tolist()) if len(known) else set()
    for label in range(1, count):
        x, y, w, h, area = (int(value) for value in stats[label])
        if area < _MIN_BLOB * width * height:
            continue
        if held and label not in held:
            continue
        kept.append((x, y, x + w, y + h))
    if len(known):
        kept.append((*known.min(axis=0), *(known.max(axis=0) + 1)))
    if not kept:
        return None
    boxes = np.array(kept, dtype=np.float64)
    grow = MASK_GROWTH * min(width, height)
    x0, y0 = boxes[:, 0].min() - grow, boxes[:, 1].min() - grow
    x1, y1 = boxes[:, 2].max() + grow, boxes[:, 3].max() + grow
    return max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1)


def mask_and_background(
    frame: np.ndarray, box: tuple[float, float, float, float] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Replace mode's mask (H x W uint8: 255 in ``box``, made by the model) and background
    (``frame`` with the box black), ``box`` in ``frame``'s pixels."""
    height, width = frame.shape[:2]
    mask = np.zeros((height, width), np.uint8)
    background = frame.copy()
    if box is not None:
        x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
        x1, y1 = int(np.ceil(box[2])), int(np.ceil(box[3]))
        mask[y0:y1, x0:x1] = 255
        background[y0:y1, x0:x1] = 0
    return mask, background
