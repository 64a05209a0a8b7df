"""The mouth: how open it is, and its interior drawn where a warp opens it wider than the
picture shows.

A warp that opens a mouth stretches whatever was between the lips (often a line of lip) over
the new gap. Where the mouth is open wider than in the picture, a mouth interior is painted
inside the inner lips instead: a dark throat, upper teeth under the upper lip and a hint of
tongue rising from the lower lip, with a soft edge. Character Swap's animate mode and
Video Translation's lip-sync both use it.

On a face turned away (a character in three-quarter view or profile) the far half of the lips
lies behind the near side's skin: its landmarks, moved with the rest, land beside the face, on
the background. The interior is then drawn only inside the lips' landmarks the picture shows.
"""

from __future__ import annotations

from collections.abc import Collection

import cv2
import numpy as np

from reelsmith.faces.blending import composite
from reelsmith.faces.landmarks import INNER_LIPS, LOWER_LIP_INNER, OUTER_LIPS, UPPER_LIP_INNER

# A mouth opening narrower than this share of the eye distance beyond the picture's own needs
# no drawn interior (the stretched picture is then thin enough to pass for the lips' shadow).
OPEN_MOUTH = 0.04
THROAT = (52, 18, 24)
TONGUE = (150, 60, 70)
TEETH = (226, 222, 212)
# Skin this saturated (HSV) or more gets the interior's full colour; greyer skin, a greyer mouth.
_SKIN_SATURATION = 0.15


def mouth_opening(face: np.ndarray) -> float:
    """The inner lips' gap over the eye distance, of face landmarks (478 x 2+, pixels)."""
    eyes = float(np.linalg.norm(face[33, :2] - face[263, :2]))
    return float(np.linalg.norm(face[LOWER_LIP_INNER, :2] - face[UPPER_LIP_INNER, :2])) / max(eyes, 1e-6)


def interior_colours(skin: np.ndarray) -> tuple[tuple[int, int, int], ...]:
    """Throat, teeth and tongue colours for a face whose skin around the mouth is ``skin``
    (mean RGB): the teeth a little darker than the skin's brightness (they are inside the
    mouth's shade), the throat dark and the tongue a muted red, both tinted by the skin, so
    the drawn interior has the picture's light and white balance. Their colour fades with the
    skin's: a black-and-white picture gets a grey mouth."""
    skin = np.asarray(skin, dtype=np.float64)
    luma_weights = np.array([0.299, 0.587, 0.114])
    luma = float(skin @ luma_weights)
    teeth = 0.9 * luma * (0.55 + 0.45 * skin / max(luma, 1.0))
    throat = 0.22 * skin * np.array([1.0, 0.6, 0.65])
    tongue = 0.7 * skin * np.array([1.0, 0.55, 0.55])
    saturation = float(np.ptp(skin)) / max(float(skin.max()), 1.0)
    colourful = min(1.0, saturation / _SKIN_SATURATION)
    colours = []
    # Teeth at most 235: they are inside the mouth's shade, never as bright as lit skin.
    for colour, brightest in ((throat, 255), (teeth, 235), (tongue, 255)):
        grey = float(colour @ luma_weights)
        colour = np.clip(grey + colourful * (colour - grey), 0, brightest)
        red, green, blue = (int(round(value)) for value in colour)
        colours.append((red, green, blue))
    return tuple(colours)


def skin_around_mouth(picture: np.ndarray, face: np.ndarray) -> np.ndarray | None:
    """The mean RGB of ``picture`` around the mouth of ``face`` (478 x 2+, pixels): the lips and
    the skin about them, which a drawn mouth interior takes its light from."""
    lips = face[list(OUTER_LIPS), :2]
    left, top = np.floor(lips.min(axis=0)).astype(int)
    right, bottom = np.ceil(lips.max(axis=0)).astype(int)
    height, width = picture.shape[:2]
    pad = max(2, (right - left) // 3)
    patch = picture[max(0, top - pad) : min(height, bottom + pad), max(0, left - pad) : min(width, right + pad)]
    if patch.size == 0:
        return None
    return np.array(cv2.mean(np.ascontiguousarray(patch))[:3])


def draw_mouth(
    frame: np.ndarray,
    face: np.ndarray,
    at_rest: float,
    skin: np.ndarray | None = None,
    shown: Collection[int] | None = None,
) -> None:
    """Paint a mouth interior inside the inner lips of ``face`` (478 x 2, frame pixels) on
    ``frame`` (in place) when they are open wider than ``at_rest`` (a share of the eye
    distance: the opening the picture itself shows) by :data:`OPEN_MOUTH`. With ``skin`` (the
    mean RGB around the mouth, :func:`skin_around_mouth`) the colours follow the picture
    (:func:`interior_colours`); without, they are fixed. ``shown``: the landmarks the picture
    shows (all when None); the interior stays inside those of the inner lips."""
    face = face[:, :2]
    upper, lower = face[UPPER_LIP_INNER], face[LOWER_LIP_INNER]
    opening = float(np.linalg.norm(lower - upper))
    if mouth_opening(face) < at_rest + OPEN_MOUTH:
        return
    inner = [index for index in INNER_LIPS if shown is None or index in shown]
    upper_inner = [index for index in INNER_LIPS[:11] if shown is None or index in shown]
    if len(inner) < 3:
        return
    lips = np.round(face[inner]).astype(np.int32)
    left, top = lips.min(axis=0)
    right, bottom = lips.max(axis=0) + 1
    left, top = max(0, left - 2), max(0, top - 2)
    right, bottom = min(frame.shape[1], right + 2), min(frame.shape[0], bottom + 2)
    if right - left < 2 or bottom - top < 2:
        return
    height, width = bottom - top, right - left
    throat, teeth_colour, tongue = interior_colours(skin) if skin is not None else (THROAT, TEETH, TONGUE)
    interior = np.empty((height, width, 3), np.uint8)
    interior[:] = throat
    shift = np.array([left, top])
    # Upper teeth: a band under the upper lip; the tongue: a soft rise from the lower lip.
    if upper_inner:  # the upper lip may be hidden whole (a face turned up and away)
        teeth = np.round(np.vstack([face[upper_inner], face[upper_inner[::-1]] + [0, 0.3 * opening]]))
        cv2.fillPoly(interior, [(teeth - shift).astype(np.int32)], teeth_colour)
    centre = tuple(int(v) for v in np.round(lower - shift - [0, 0.1 * opening]))
    axes = (max(1, int(0.3 * width)), max(1, int(0.25 * opening)))
    cv2.ellipse(interior, centre, axes, 0, 180, 360, tongue, -1)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [lips - shift], 255)
    alpha = cv2.GaussianBlur(mask, (0, 0), max(0.8, 0.05 * opening)).astype(np.float32) / 255.0
    composite(frame, interior, alpha, (left, top))
