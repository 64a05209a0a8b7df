"""Piecewise-affine warping of a face mesh: each triangle of the source picture is carried by
its own affine map onto the same triangle at its target position.

The warp is one ``cv2.remap`` over the target's bounding box. Which triangle covers each target
pixel is found by drawing the triangles' indices into a label image; each label then picks its
triangle's affine map (target pixel to source pixel). The labels and maps are worked out on a
grid ``step`` pixels apart and scaled up bilinearly, which reproduces each affine piece exactly
inside its triangle and blends neighbours along shared edges: a quarter of the work at step 2.

Triangles are drawn far to near, so where a turned head folds the mesh over itself the near
side wins, and triangles seen from behind (their corners in the opposite turning order to the
source's) are not drawn at all: the far side of a turned face disappears instead of smearing
across the cheek.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Sub-pixel precision of the rasterized triangles (bits), and the doubled area under which a
# triangle is taken for flat (its affine map would be wild).
_SHIFT = 4
_FLAT = 1e-3


@dataclass(frozen=True)
class Box:
    """A pixel rectangle, right and bottom exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)

    @classmethod
    def around(cls, points: np.ndarray, size: tuple[int, int], margin: float = 0.0) -> Box | None:
        """The box around ``points`` (N x 2), grown by ``margin`` pixels, inside a frame of
        ``size`` (width, height); None when nothing of it is inside."""
        width, height = size
        left = max(0, int(np.floor(points[:, 0].min() - margin)))
        top = max(0, int(np.floor(points[:, 1].min() - margin)))
        right = min(width, int(np.ceil(points[:, 0].max() + margin)) + 1)
        bottom = min(height, int(np.ceil(points[:, 1].max() + margin)) + 1)
        if right - left < 2 or bottom - top < 2:
            return None
        return cls(left, top, right, bottom)


@dataclass(frozen=True)
class WarpedPatch:
    """A warp's result inside ``box`` of the target frame: the pixels and which of them the
    mesh covered."""

    box: Box
    pixels: np.ndarray  # box.height x box.width x C, the source's dtype
    covered: np.ndarray  # box.height x box.width bool


def signed_areas(corners: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle (T x 3 x 2): the sign gives its turning order."""
    edge_1 = corners[:, 1] - corners[:, 0]
    edge_2 = corners[:, 2] - corners[:, 0]
    return edge_1[:, 0] * edge_2[:, 1] - edge_2[:, 0] * edge_1[:, 1]


def affine_maps(corners: np.ndarray, sources: np.ndarray, flat: float = _FLAT) -> np.ndarray:
    """Per triangle, the affine map from its ``corners`` (T x 3 x 2) to ``sources`` (T x 3 x C).

    Returns (T + 1) x 3 x C coefficients, rows ``a_x``, ``a_y``, ``c`` with
    ``source = a_x * x + a_y * y + c``; the extra last one is the identity (for C = 2, or for
    C = 4 as two stacked identities). Triangles with a doubled area up to ``flat`` get some
    finite map: they are never drawn.
    """
    edge_1 = corners[:, 1] - corners[:, 0]
    edge_2 = corners[:, 2] - corners[:, 0]
    determinant = signed_areas(corners)
    safe = np.where(np.abs(determinant) <= flat, 1.0, determinant)[:, None]
    change_1 = sources[:, 1] - sources[:, 0]
    change_2 = sources[:, 2] - sources[:, 0]
    a_x = (edge_2[:, 1:2] * change_1 - edge_1[:, 1:2] * change_2) / safe
    a_y = (edge_1[:, 0:1] * change_2 - edge_2[:, 0:1] * change_1) / safe
    c = sources[:, 0] - a_x * corners[:, 0, 0:1] - a_y * corners[:, 0, 1:2]
    identity = np.zeros((1, 3, sources.shape[2]))
    identity[0, 0, 0::2] = 1.0
    identity[0, 1, 1::2] = 1.0
    return np.concatenate([np.stack([a_x, a_y, c], axis=1), identity])


@dataclass(frozen=True)
class MeshMap:
    """A mesh warp's backward map inside ``box`` of the target frame: for each pixel, where it
    reads in the source (``cv2.remap``'s map), and which pixels the mesh covers."""

    box: Box
    read: np.ndarray  # box.height x box.width x 2 float32, source pixels
    covered: np.ndarray  # box.height x box.width bool


def warp_mesh(
    source: np.ndarray,
    source_points: np.ndarray,
    target_points: np.ndarray,
    triangles: np.ndarray,
    frame_size: tuple[int, int],
    depth: np.ndarray | None = None,
    step: int = 2,
) -> WarpedPatch | None:
    """Warp ``source`` so its mesh (``source_points``, N x 2 pixels) lands on ``target_points``.

    ``triangles`` is T x 3 indices; ``frame_size`` the target frame's (width, height);
    ``depth`` (N, smaller is nearer) orders overlapping triangles. Returns None when the mesh
    is outside the frame or seen entirely from behind.
    """
    mapped = mesh_map(source_points, target_points, triangles, frame_size, depth, step)
    if mapped is None:
        return None
    read = mapped.read
    # Uncovered pixels read the identity map (into the source's corner); they are masked out.
    pixels = cv2.remap(source, read[..., 0], read[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return WarpedPatch(box=mapped.box, pixels=pixels, covered=mapped.covered)


def mesh_map(
    source_points: np.ndarray,
    target_points: np.ndarray,
    triangles: np.ndarray,
    frame_size: tuple[int, int],
    depth: np.ndarray | None = None,
    step: int = 2,
    in_place: bool = False,
) -> MeshMap | None:
    """The backward map of :func:`warp_mesh` (same arguments, without the picture), for a
    caller that combines it with another deformation before sampling once. With ``in_place``
    (a frame warped within itself) uncovered pixels read their own place in the frame, so the
    map is the identity outside the mesh and joins it smoothly along the mesh's edge."""
    target = target_points[:, :2].astype(np.float64)
    box = Box.around(target[np.unique(triangles)], frame_size)
    if box is None:
        return None
    corners = target[triangles] - (box.left, box.top)
    areas = signed_areas(corners)
    facing = np.sign(areas) == np.sign(signed_areas(source_points[triangles].astype(np.float64)))
    drawable = facing & (np.abs(areas) > _FLAT)
    if not drawable.any():
        return None
    order = np.flatnonzero(drawable)
    if depth is not None:
        order = order[np.argsort(-depth[triangles[order]].mean(axis=1), kind="stable")]
    # Grid point (i, j) sits where cv2.resize puts it: at ((j + 0.5) * step - 0.5, ...).
    grid = (-(-box.width // step), -(-box.height // step))
    labels = np.full((grid[1], grid[0]), len(triangles), np.int32)
    fixed = np.round(((corners + 0.5) / step - 0.5) * (1 << _SHIFT)).astype(np.int32)
    for index in order:
        cv2.fillConvexPoly(labels, fixed[index], int(index), lineType=cv2.LINE_8, shift=_SHIFT)
    coefficients = affine_maps(corners, source_points[triangles][:, :, :2].astype(np.float64)).astype(np.float32)
    if in_place:
        coefficients[-1, 2] += (box.left, box.top)
    picked = coefficients[labels]
    xs = ((np.arange(grid[0], dtype=np.float32) + 0.5) * step - 0.5)[None, :, None]
    ys = ((np.arange(grid[1], dtype=np.float32) + 0.5) * step - 0.5)[:, None, None]
    read = picked[:, :, 0, :] * xs + picked[:, :, 1, :] * ys + picked[:, :, 2, :]
    covered = labels < len(triangles)
    if step > 1:
        # Scaled by exactly ``step`` (then cut to the box), so grid points land where assumed.
        fine = (grid[0] * step, grid[1] * step)
        read = cv2.resize(read, fine, interpolation=cv2.INTER_LINEAR)[: box.height, : box.width]
        covered = cv2.resize(covered.astype(np.uint8), fine, interpolation=cv2.INTER_NEAREST)[: box.height, : box.width]
        covered = covered > 0
    return MeshMap(box=box, read=read, covered=covered)


def delaunay(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Delaunay triangles of ``points`` (N x 2, inside a frame of ``size``) as T x 3 indices."""
    width, height = size
    inside = np.clip(points, 0.0, (width - 1.0, height - 1.0))
    subdivision = cv2.Subdiv2D((0, 0, width, height))
    subdivision.insert([(float(x), float(y)) for x, y in inside])
    corners = np.asarray(subdivision.getTriangleList()).reshape(-1, 3, 2).astype(np.float64)
    # Subdiv2D gives corners, not indices; each is a copy of an inserted point (float32).
    distances = np.linalg.norm(corners[:, :, None, :] - inside[None, None, :, :], axis=3)
    indices = np.argmin(distances, axis=2)
    matched = np.all(np.min(distances, axis=2) < 0.01, axis=1)
    distinct = (indices[:, 0] != indices[:, 1]) & (indices[:, 1] != indices[:, 2]) & (indices[:, 0] != indices[:, 2])
    return indices[matched & distinct].astype(np.int32)
