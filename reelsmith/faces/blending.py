"""Putting a warped face onto a frame so that the seam does not show.

Two steps. **Colour** (Reinhard et al., 2001): the warped face's mean and spread of each Lab
channel are moved to those of the face it covers, so it takes the frame's lighting, white
balance and exposure while keeping its own features. The statistics are smoothed over frames
(:class:`ColourMatch`), or the face would flicker with every blink. **Edges**: the face enters
through a mask that is eroded, then blurred, so it fades into the frame over a band a few
percent of the face's size wide. **Where**: the face's outline from the mesh, pulled in at the
hairline and the jaw (:func:`outline_mask`), so the character's hair and background stay out.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reelsmith.faces.landmarks import FACE_OVAL, NOSE_TIP

# How much of each new frame's colour statistics enters the running ones (0-1).
_STATS_FOLLOW = 0.35
_MIN_SPREAD = 1.0
# The feathered band at the mask's edge, as a fraction of the face's size.
FEATHER = 0.06
# The mesh's outline runs along the hairline and the jaw's edge, where the character's hair and
# background would show; the mask's outline is pulled towards the nose, more at the forehead.
_OUTLINE_PULL = 0.06
_FOREHEAD_PULL = 0.22
_FOREHEAD = frozenset({10, 338, 297, 332, 284, 251, 21, 54, 103, 67, 109})


@dataclass(frozen=True)
class LabStats:
    mean: np.ndarray  # 3, Lab
    spread: np.ndarray  # 3, standard deviations


def lab_stats(pixels: np.ndarray, mask: np.ndarray) -> LabStats | None:
    """Mean and spread of ``pixels`` (H x W x 3 uint8 RGB) in Lab where ``mask`` holds; None if
    the mask is (nearly) empty."""
    # Every other pixel each way: the statistics hardly change and cost a quarter.
    pixels, mask = pixels[::2, ::2], mask[::2, ::2]
    if int(np.count_nonzero(mask)) < 16:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2LAB)
    mean, spread = cv2.meanStdDev(lab, mask=mask.astype(np.uint8))
    spread = np.maximum(spread.ravel(), _MIN_SPREAD)
    return LabStats(mean=mean.ravel().astype(np.float32), spread=spread.astype(np.float32))


def transfer_colour(pixels: np.ndarray, own: LabStats, wanted: LabStats) -> np.ndarray:
    """``pixels`` (uint8 RGB) with their Lab statistics moved from ``own`` to ``wanted``."""
    gain = wanted.spread / own.spread
    # One per-channel affine map in 8-bit Lab, saturated to 0-255 by cv2.transform.
    matrix = np.hstack([np.diag(gain), (wanted.mean - gain * own.mean)[:, None]]).astype(np.float32)
    lab = cv2.transform(cv2.cvtColor(pixels, cv2.COLOR_RGB2LAB), matrix)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


class ColourMatch:
    """Running colour statistics of the face in the frame and of the warped face, per video."""

    def __init__(self) -> None:
        self._frame: LabStats | None = None
        self._face: LabStats | None = None

    def reset(self) -> None:
        self._frame = self._face = None

    def apply(self, face: np.ndarray, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """``face`` recoloured to match ``frame`` (same size, uint8 RGB) inside ``mask``."""
        frame_now, face_now = lab_stats(frame, mask), lab_stats(face, mask)
        if frame_now is None or face_now is None:
            return face
        self._frame = _follow(self._frame, frame_now)
        self._face = _follow(self._face, face_now)
        return transfer_colour(face, self._face, self._frame)


def _follow(running: LabStats | None, now: LabStats) -> LabStats:
    if running is None:
        return now
    return LabStats(
        mean=running.mean + _STATS_FOLLOW * (now.mean - running.mean),
        spread=running.spread + _STATS_FOLLOW * (now.spread - running.spread),
    )


def feathered(mask: np.ndarray, width: float) -> np.ndarray:
    """``mask`` (bool) as float32 alpha that fades to 0 over about ``width`` pixels inside its
    edge, so the edge itself is fully the frame."""
    radius = max(1, int(round(width / 2)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    inner = cv2.erode(mask.astype(np.uint8), kernel)
    sigma = max(0.5, width / 3.0)
    return cv2.GaussianBlur(inner.astype(np.float32), (0, 0), sigma)


def composite(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, top_left: tuple[int, int]) -> None:
    """Blend ``patch`` into ``frame`` (in place) at ``top_left`` (x, y) with ``alpha`` (0-1)."""
    x, y = top_left
    height, width = alpha.shape
    region = frame[y : y + height, x : x + width]
    weight = np.ascontiguousarray(alpha, dtype=np.float32)
    region[...] = cv2.blendLinear(np.ascontiguousarray(patch), np.ascontiguousarray(region), weight, 1.0 - weight)


def face_size(points: np.ndarray) -> float:
    """A face mesh's size in pixels: the mean of its width and height."""
    return float(np.ptp(points[:, 0]) + np.ptp(points[:, 1])) / 2.0


def face_outline(points: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """The face mesh's outline pulled in at the hairline and the jaw, as an int32 polygon in
    pixels from ``origin`` (x, y)."""
    ring = points[list(FACE_OVAL), :2]
    pull = np.array([_FOREHEAD_PULL if index in _FOREHEAD else _OUTLINE_PULL for index in FACE_OVAL])
    pulled = ring + pull[:, None] * (points[NOSE_TIP, :2] - ring)
    return np.round(pulled - origin).astype(np.int32)


def outline_mask(points: np.ndarray, top_left: tuple[int, int], shape: tuple[int, int]) -> np.ndarray:
    """A uint8 mask (``shape``: height, width; 1 inside) of :func:`face_outline` over the
    region whose top-left pixel in the frame is ``top_left`` (x, y)."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [face_outline(points, np.array(top_left, dtype=np.float32))], 1)
    return mask


def paste_face(
    frame: np.ndarray,
    face: np.ndarray,
    solid: np.ndarray,
    top_left: tuple[int, int],
    size: float,
    colour: ColourMatch,
) -> None:
    """Put ``face`` (a region's pixels, uint8 RGB) into ``frame`` (in place) at ``top_left``:
    recoloured to the frame's lighting over ``solid`` (bool, where the face is the face's own),
    entering through ``solid`` feathered over :data:`FEATHER` of the face's ``size``."""
    x, y = top_left
    height, width = solid.shape
    recoloured = colour.apply(face, frame[y : y + height, x : x + width], solid)
    composite(frame, recoloured, feathered(solid, FEATHER * size), top_left)
