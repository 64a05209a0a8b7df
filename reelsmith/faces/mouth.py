"""The mouth: how open it is, and its interior drawn where a warp opens it wider than the
picture shows.

A warp that opens a mouth stretches whatever was between the lips (often a line of lip) over
the new gap. Where the mouth is open wider than in the picture, a mouth interior is painted
inside the inner lips instead: a dark throat, upper teeth under the upper lip and a hint of
tongue rising from the lower lip, with a soft edge. Character Swap's animate mode and
Video Translation's lip-sync both use it.
"""

from __future__ import annotations

import cv2
import numpy as np

from reelsmith.faces.blending import composite
from reelsmith.faces.landmarks import INNER_LIPS, LOWER_LIP_INNER, UPPER_LIP_INNER

# A mouth opening narrower than this share of the eye distance beyond the picture's own needs
# no drawn interior (the stretched picture is then thin enough to pass for the lips' shadow).
OPEN_MOUTH = 0.04
THROAT = (52, 18, 24)
TONGUE = (150, 60, 70)
TEETH = (226, 222, 212)


def mouth_opening(face: np.ndarray) -> float:
    """The inner lips' gap over the eye distance, of face landmarks (478 x 2+, pixels)."""
    eyes = float(np.linalg.norm(face[33, :2] - face[263, :2]))
    return float(np.linalg.norm(face[LOWER_LIP_INNER, :2] - face[UPPER_LIP_INNER, :2])) / max(eyes, 1e-6)


def interior_colours(skin: np.ndarray) -> tuple[tuple[int, int, int], ...]:
    """Throat, teeth and tongue colours for a face whose skin around the mouth is ``skin``
    (mean RGB): the teeth a little darker than the skin's brightness (they are inside the
    mouth's shade), the throat dark and the tongue a muted red, both tinted by the skin, so
    the drawn interior has the picture's light and white balance."""
    skin = np.asarray(skin, dtype=np.float64)
    luma = float(skin @ np.array([0.299, 0.587, 0.114]))
    teeth = np.clip(0.9 * luma * (0.55 + 0.45 * skin / max(luma, 1.0)), 0, 235)
    throat = np.clip(0.22 * skin * np.array([1.0, 0.6, 0.65]), 0, 255)
    tongue = np.clip(0.7 * skin * np.array([1.0, 0.55, 0.55]), 0, 255)
    return tuple(tuple(int(round(value)) for value in colour) for colour in (throat, teeth, tongue))


def draw_mouth(frame: np.ndarray, face: np.ndarray, at_rest: float, skin: np.ndarray | None = None) -> None:
    """Paint a mouth interior inside the inner lips of ``face`` (478 x 2, frame pixels) on
    ``frame`` (in place) when they are open wider than ``at_rest`` (a share of the eye
    distance: the opening the picture itself shows) by :data:`OPEN_MOUTH`. With ``skin`` (the
    mean RGB around the mouth) the colours follow the picture (:func:`interior_colours`);
    without, they are fixed (a character picture, evenly lit)."""
    face = face[:, :2]
    upper, lower = face[UPPER_LIP_INNER], face[LOWER_LIP_INNER]
    opening = float(np.linalg.norm(lower - upper))
    if mouth_opening(face) < at_rest + OPEN_MOUTH:
        return
    lips = np.round(face[list(INNER_LIPS)]).astype(np.int32)
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
    teeth = np.round(np.vstack([face[list(INNER_LIPS[:11])], face[list(INNER_LIPS[10::-1])] + [0, 0.3 * opening]]))
    cv2.fillPoly(interior, [(teeth - shift).astype(np.int32)], teeth_colour)
    centre = tuple(int(v) for v in np.round(lower - shift - [0, 0.1 * opening]))
    axes = (max(1, int(0.3 * width)), max(1, int(0.25 * opening)))
    cv2.ellipse(interior, centre, axes, 0, 180, 360, tongue, -1)
    mask = np.zeros((height, width), np.uint8)
    cv2.fillPoly(mask, [lips - shift], 255)
    alpha = cv2.GaussianBlur(mask, (0, 0), max(0.8, 0.05 * opening)).astype(np.float32) / 255.0
    composite(frame, interior, alpha, (left, top))
