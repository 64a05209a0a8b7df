"""Affine matrices for Image to Video: 3 x 3 homogeneous matrices, one per frame, in pixels.

Every move becomes, per frame, a matrix (``motion.py``), and the compositor places each layer by
the product of its matrices (``compositing.py``). These helpers build stacks of them: an array
``(frames, 3, 3)`` whose last row is ``0 0 1``.

Image rows grow downwards, so a positive rotation angle turns counter-clockwise as seen.
"""

from __future__ import annotations

import numpy as np

Point = tuple[float, float]
Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels; right and bottom exclusive


def identity(count: int) -> np.ndarray:
    """``count`` identity matrices."""
    return np.tile(np.eye(3), (count, 1, 1))


def translate(dx: np.ndarray | float, dy: np.ndarray | float, count: int) -> np.ndarray:
    """``count`` translations by ``dx``, ``dy`` (one value for every frame, or one per frame)."""
    matrices = identity(count)
    matrices[:, 0, 2] = dx
    matrices[:, 1, 2] = dy
    return matrices


def about(point: Point, linear: np.ndarray) -> np.ndarray:
    """Per-frame 2 x 2 ``linear`` maps, applied about ``point`` (which stays where it is)."""
    count = len(linear)
    matrices = identity(count)
    matrices[:, :2, :2] = linear
    offset = np.asarray(point) - linear @ np.asarray(point)
    matrices[:, :2, 2] = offset
    return matrices


def scaling(sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """Per-frame 2 x 2 scalings by ``sx`` across and ``sy`` down."""
    linear = np.zeros((len(sx), 2, 2))
    linear[:, 0, 0] = sx
    linear[:, 1, 1] = sy
    return linear


def rotation(degrees: np.ndarray) -> np.ndarray:
    """Per-frame 2 x 2 rotations; positive angles turn counter-clockwise as seen."""
    radians = np.radians(degrees)
    cos, sin = np.cos(radians), np.sin(radians)
    return np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)


def shearing(lean: np.ndarray) -> np.ndarray:
    """Per-frame 2 x 2 shears: x moves right by ``lean`` per pixel *above* the anchor."""
    linear = scaling(np.ones_like(lean), np.ones_like(lean))
    linear[:, 0, 1] = -lean
    return linear


def affine_inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse of one 3 x 3 affine matrix, worked out directly: NumPy's LAPACK call costs
    up to a millisecond a frame when its threads compete with the encoder's."""
    (a, b, c), (d, e, f) = matrix[0], matrix[1]
    det = a * e - b * d
    return np.array(
        [[e / det, -b / det, (b * f - c * e) / det], [-d / det, a / det, (c * d - a * f) / det], [0.0, 0.0, 1.0]]
    )
