"""Moving least squares image deformation (Schaefer, McPhail and Warren, 2006), rigid flavour.

Control points move from ``sources`` to ``targets``; every other point moves by the rotation
and shift that best carry the controls, each weighted by one over its squared distance to the
point. The result is smooth, passes exactly through the controls, and bends a picture the way
a body bends: locally rigid, never shearing or scaling a limb.

For ``cv2.remap`` the map must be backwards, from each output pixel to where it reads in the
picture, so the deformation is solved with the roles swapped (targets to sources). It is
worked out on a grid ``step`` pixels apart and scaled up bilinearly: the field is smooth between
controls, so a coarse grid loses nothing visible and costs a fraction.

In two dimensions the best rotation has a closed form: with points as complex numbers and
``p``, ``q`` the controls relative to their weighted centroids ``p*``, ``q*``, the rotation is
the phase of ``sum w conj(p) q``, and the point ``v`` goes to ``(v - p*) e^(i angle) + q*``.
Every sum is one matrix product over all grid points at once.
"""

from __future__ import annotations

import cv2
import numpy as np

# Added to squared distances so a grid point on a control gets a finite (huge) weight.
_EPSILON = 1e-6


def rigid_mls(sources: np.ndarray, targets: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Where rigid MLS with controls ``sources`` -> ``targets`` (N x 2 each) sends ``points``
    (M x 2); returns M x 2."""
    p = sources[:, 0] + 1j * sources[:, 1]
    q = targets[:, 0] + 1j * targets[:, 1]
    v = points[:, 0] + 1j * points[:, 1]
    distance = np.square(points[:, 0:1] - sources[None, :, 0]) + np.square(points[:, 1:2] - sources[None, :, 1])
    weights = 1.0 / (distance + _EPSILON)
    total = weights.sum(axis=1)
    p_star = (weights @ p) / total
    q_star = (weights @ q) / total
    # sum w conj(p - p*) (q - q*), expanded so that it is one product over all controls.
    turn = weights @ (np.conj(p) * q) - total * np.conj(p_star) * q_star
    size = np.abs(turn)
    rotation = np.where(size > 0, turn / np.where(size > 0, size, 1.0), 1.0)
    moved = (v - p_star) * rotation + q_star
    return np.stack([moved.real, moved.imag], axis=1)


def mls_map(sources: np.ndarray, targets: np.ndarray, size: tuple[int, int], step: int = 8) -> np.ndarray:
    """The backward map of the deformation that moves ``sources`` to ``targets`` (N x 2,
    pixels) in a picture of ``size`` (width, height): H x W x 2 float32, for each output pixel
    the picture pixel it shows (``cv2.remap``'s map)."""
    width, height = size
    # Grid point (i, j) sits where cv2.resize puts it: at ((j + 0.5) * step - 0.5, ...).
    grid = (-(-width // step), -(-height // step))
    xs = (np.arange(grid[0]) + 0.5) * step - 0.5
    ys = (np.arange(grid[1]) + 0.5) * step - 0.5
    points = np.stack(np.meshgrid(xs, ys), axis=2).reshape(-1, 2)
    read = rigid_mls(targets.astype(np.float64), sources.astype(np.float64), points)
    coarse = read.reshape(grid[1], grid[0], 2).astype(np.float32)
    fine = cv2.resize(coarse, (grid[0] * step, grid[1] * step), interpolation=cv2.INTER_LINEAR)
    return fine[:height, :width]
