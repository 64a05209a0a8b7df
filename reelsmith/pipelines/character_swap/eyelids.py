"""Blinks: the driver's eyes closing, drawn on the character as its upper lids coming down.

**Measuring.** Eye openness is the upper-to-lower lid distance over the eye's width, both eyes
averaged (a wink is not carried). It is read from the driver's raw landmarks: a blink lasts a
few frames, and the tracker's One-Euro filter, which steadies the face, would flatten it to a
twitch. Openness differs between people and with gaze, so the driver's is compared with its
own usual value (the median of the last two seconds, which blinks do not move) and turned into
a closure from 0 (open) to 1 (shut), with a dead zone so that landmark jitter is not a blink.

**Drawing.** Warping the lid landmarks down would squash the eye (iris and white pressed into
a strip) and, once shut, fold the eye's triangles flat, leaving a hole. So the warp keeps the
character's own eye opening, and the lid is drawn instead: the band of lid skin above each
upper lid is stretched down over the eye to the closed line, lash line leading, as a real lid
unfolds. It is one ``cv2.remap`` of each eye's box of the finished frame, so the lid has that
frame's lighting and the character's own skin and lashes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import cv2
import numpy as np

# (upper, lower) lid landmarks facing each other, from the outer corner in; then the corners
# (outer, inner). The person's right eye (left in the picture), then the left eye.
RIGHT_LIDS = ((246, 7), (161, 163), (160, 144), (159, 145), (158, 153), (157, 154), (173, 155))
LEFT_LIDS = ((466, 249), (388, 390), (387, 373), (386, 374), (385, 380), (384, 381), (398, 382))
RIGHT_CORNERS, LEFT_CORNERS = (33, 133), (263, 362)
EYES = ((RIGHT_LIDS, RIGHT_CORNERS), (LEFT_LIDS, LEFT_CORNERS))
# Openness at or above this share of the usual is open; at or below this share, shut.
_OPEN_SHARE = 0.8
_SHUT_SHARE = 0.3
_USUAL_SECONDS = 2.0
# The skin band stretched over the eye is this many times the eye's largest opening high.
_LID_BAND = 1.2
_MIN_CLOSURE = 0.05


def eye_openness(points: np.ndarray) -> float:
    """Upper-to-lower lid distance over eye width, the mean of both eyes, of face landmarks
    (478 x 2+)."""
    shares = []
    for lids, (outer, inner) in EYES:
        upper, lower = lids[3]
        width = float(np.linalg.norm(points[outer, :2] - points[inner, :2]))
        shares.append(float(np.linalg.norm(points[upper, :2] - points[lower, :2])) / max(width, 1e-6))
    return float(np.mean(shares))


class BlinkFollower:
    """The driver's eye closure frame by frame, against its own usual openness."""

    def __init__(self, fps: float) -> None:
        self._recent: deque[float] = deque(maxlen=max(3, round(_USUAL_SECONDS * (fps if fps > 0 else 30.0))))

    def closure(self, raw: np.ndarray) -> float:
        """How shut the driver's eyes are on this frame (0 open, 1 shut), from its raw
        landmarks (478 x 2+)."""
        openness = eye_openness(raw)
        self._recent.append(openness)
        usual = float(np.median(self._recent))
        if usual <= 0:
            return 0.0
        share = openness / usual
        return float(np.clip((_OPEN_SHARE - share) / (_OPEN_SHARE - _SHUT_SHARE), 0.0, 1.0))


def keep_opening(targets: np.ndarray, face: np.ndarray, linear: np.ndarray) -> np.ndarray:
    """``targets`` (the character's retargeted landmarks) with each lid pair set to the
    character's own opening (``face``, its landmarks at rest, carried by the head's ``linear``
    2 x 2 map) around the pair's retargeted middle, so the warp never squashes an eye."""
    kept = targets.copy()
    for lids, _ in EYES:
        upper, lower = (list(side) for side in zip(*lids, strict=True))
        middle = (targets[upper] + targets[lower]) / 2.0
        half = (face[upper] - face[lower]) / 2.0 @ linear.T
        kept[upper] = middle + half
        kept[lower] = middle - half
    return kept


def draw_lids(frame: np.ndarray, points: np.ndarray, closure: float, eyes: Sequence[bool] = (True, True)) -> None:
    """Bring the upper lids of the face at ``points`` (478 x 2, frame pixels) down over its
    eyes by ``closure`` (0-1), in place; only over the eyes that ``eyes`` (right, left) says
    the picture shows (the far eye of a face in profile is behind the nose)."""
    if closure < _MIN_CLOSURE:
        return
    for (lids, corners), shown in zip(EYES, eyes, strict=True):
        if not shown:
            continue
        _close_eye(frame, points, lids, corners, closure)


def _close_eye(
    frame: np.ndarray, points: np.ndarray, lids: tuple[tuple[int, int], ...], corners: tuple[int, int], closure: float
) -> None:
    outer, inner = points[corners[0]], points[corners[1]]
    length = float(np.linalg.norm(inner - outer))
    if length < 2.0:
        return
    along = (inner - outer) / length
    across = np.array([-along[1], along[0]])
    upper = points[[pair[0] for pair in lids]] - outer
    lower = points[[pair[1] for pair in lids]] - outer
    if float(np.mean((lower - upper) @ across)) < 0:
        across = -across  # ``across`` points from the upper lid to the lower one
    # The lids as heights over the corner-to-corner line, at positions along it.
    spots = np.concatenate([[0.0], ((upper + lower) / 2.0) @ along, [length]])
    order = np.argsort(spots)
    spots = spots[order]
    top = np.concatenate([[0.0], upper @ across, [0.0]])[order]
    bottom = np.concatenate([[0.0], lower @ across, [0.0]])[order]
    edge = top + closure * (bottom - top)
    band = _LID_BAND * float(np.max(bottom - top))
    if band < 1.0:
        return
    eye = np.vstack([outer, inner, outer + upper, outer + lower])
    extent = np.vstack([eye, eye - band * across])  # the eye and the skin band above it
    left, top_y = np.floor(extent.min(axis=0)).astype(int) - 2
    right, bottom_y = np.ceil(extent.max(axis=0)).astype(int) + 3
    height, width = frame.shape[:2]
    left, top_y, right, bottom_y = max(0, left), max(0, top_y), min(width, right), min(height, bottom_y)
    if right - left < 2 or bottom_y - top_y < 2:
        return
    xs, ys = np.meshgrid(np.arange(left, right, dtype=np.float64), np.arange(top_y, bottom_y, dtype=np.float64))
    offset = np.stack([xs - outer[0], ys - outer[1]], axis=2)
    position, height_at = offset @ along, offset @ across
    lid_top = np.interp(position, spots, top) - band
    lid_edge = np.interp(position, spots, edge)
    inside = (position > 0) & (position < length) & (height_at >= lid_top) & (height_at <= lid_edge)
    # The skin band [lid_top, lid_top + band] (up to the upper lid's line) is stretched over
    # [lid_top, lid_edge]: not evenly, but keeping the lid's margin (lashes) its own thickness
    # and stretching the skin above it: g(u) = (r - 1) u^2 + (2 - r) u has slope 1 at the edge
    # (r is the overall stretch, at most 2 as the band is wider than the eye's opening).
    reach = np.maximum(lid_edge - lid_top, 1e-6)
    stretch = reach / band
    share = (height_at - lid_top) / reach
    stretched = lid_top + ((stretch - 1.0) * share**2 + (2.0 - stretch) * share) * band
    read_height = np.where(inside, stretched, height_at)
    read = outer + position[..., None] * along + read_height[..., None] * across
    box = frame[top_y:bottom_y, left:right]
    read_x = (read[..., 0] - left).astype(np.float32)
    read_y = (read[..., 1] - top_y).astype(np.float32)
    box[...] = cv2.remap(np.ascontiguousarray(box), read_x, read_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
