"""Frames that carry the first picture into the last one: the ``last_image_url`` transition.

Timing. The first picture is held for the first 10% of the clip and the last one for the last
10%; in between the change follows ``ease_in_out``, so it leaves and lands at rest. The first and
the last frames are the two pictures themselves, exactly.

Morph, when both pictures show a face. MediaPipe's face mesh gives 468 matched landmarks on each
face; the frame's corners and edge midpoints are added to both sets so the background is carried
along and the border stays put. The average of the two sets is triangulated once (Delaunay, with
OpenCV's ``Subdiv2D``). For each frame the points move from the first set towards the last, both
pictures are warped triangle by triangle onto them (a piecewise affine warp) and cross-dissolved,
so the features travel instead of one face fading over the other.

The warp is a dense map computed on a coarse grid (about 180 rows) and scaled up: a piecewise
affine map is continuous across triangle edges, so bilinear scaling is close to exact, and it
is a fraction of the work of every pixel. Each picture is then drawn with one ``cv2.remap``.

Dissolve, otherwise. The first picture pushes in by 8% as it fades out while the last one arrives
8% in and settles back to rest; the two are at the same scale when they are equally mixed. The
seed moves the point they zoom about a little, so variations differ; the morph has no random
choices.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from reelsmith.faces.mesh_warp import affine_maps, delaunay, signed_areas
from reelsmith.pipelines.image2video.easing import ease

HOLD = 0.1
PUSH_IN = 0.08
LANDMARKS = 468
# The push-in's centre lies up to this fraction of the frame away from its middle, by seed.
_CENTRE_SPREAD = 0.1
# Rows of the grid the warp map is computed on, for the frame's short side.
_GRID_ROWS = 180
# fillConvexPoly takes fixed-point corners with this many fractional bits: sub-pixel triangles.
_SHIFT = 4
# A triangle with no more (doubled) area than this is a line; its neighbours cover it.
_FLAT = 1e-9

_mesh_lock = threading.Lock()


def has_face_pair(first: np.ndarray, last: np.ndarray) -> bool:
    """Whether both pictures (H x W x 3 uint8 RGB) show a face, so the transition morphs.

    Runs the face mesh on them, as :func:`transition_frames` does again (tens of milliseconds).
    """
    return _face_pair(first, last) is not None


def face_landmarks(picture: np.ndarray) -> np.ndarray | None:
    """The face mesh of the main face in ``picture`` (H x W x 3 uint8 RGB), None without a face.

    Returns 468 (x, y) points in pixels, float64, in MediaPipe's fixed order (point 1 is the tip
    of the nose), so the points of two faces correspond one to one.
    """
    with _mesh_lock:
        result = _face_mesh().process(np.ascontiguousarray(picture))
    if not result.multi_face_landmarks:
        return None
    height, width = picture.shape[:2]
    landmarks = result.multi_face_landmarks[0].landmark
    points = np.array([(point.x, point.y) for point in landmarks[:LANDMARKS]], dtype=np.float64)
    return points * (width, height)


def transition_frames(
    first: np.ndarray, last: np.ndarray, size: tuple[int, int], fps: int, seconds: int, seed: int = 0
) -> Iterator[np.ndarray]:
    """Yield ``fps * seconds`` frames going from ``first`` to ``last``, each (height, width, 3) uint8 RGB.

    ``first`` and ``last`` are RGB uint8 pictures already fitted to ``size`` = (width, height)
    (``canvas.fit_picture``). The faces are looked for now; frames are computed as they are
    asked for. Raises ``ValueError`` for pictures of another size or a clip with no frames.
    """
    for name, picture in (("first", first), ("last", last)):
        if picture.shape != (size[1], size[0], 3) or picture.dtype != np.uint8:
            raise ValueError(f"the {name} picture must be {size[1]} x {size[0]} x 3 uint8, got {picture.shape}")
    if fps <= 0 or seconds <= 0 or min(size) < 2:
        raise ValueError(f"a clip needs a size of at least 2 x 2, fps and seconds, got {size}, {fps}, {seconds}")
    levels = _levels(fps * seconds)
    pair = _face_pair(first, last)
    if pair is not None:
        morph = _Morph.build(*pair, size)
        return _frames(first, last, levels, functools.partial(morph.frame, first, last))
    centre = _push_centre(size, seed)
    return _frames(first, last, levels, functools.partial(_dissolve, first, last, centre))


def _levels(count: int) -> np.ndarray:
    """How far each frame is from the first picture (0) to the last (1): held, then eased."""
    times = np.linspace(0.0, 1.0, count) if count > 1 else np.zeros(1)
    return ease("ease_in_out", (times - HOLD) / (1.0 - 2.0 * HOLD))


def _frames(
    first: np.ndarray, last: np.ndarray, levels: np.ndarray, between: Callable[[float], np.ndarray]
) -> Iterator[np.ndarray]:
    for level in levels:
        if level <= 0.0:
            yield first.copy()
        elif level >= 1.0:
            yield last.copy()
        else:
            yield between(float(level))


def _face_pair(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    start = face_landmarks(first)
    if start is None:
        return None
    end = face_landmarks(last)
    return None if end is None else (start, end)


@functools.cache
def _face_mesh() -> Any:
    # Imported here: loading MediaPipe takes a second, and a transition is rarely asked for.
    # Built and used under ``_mesh_lock``: a graph must not run in two threads at once.
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=False, max_num_faces=1)


# --- dissolve -------------------------------------------------------------------------------


def _push_centre(size: tuple[int, int], seed: int) -> tuple[float, float]:
    offset = np.random.default_rng(seed).uniform(-_CENTRE_SPREAD, _CENTRE_SPREAD, 2)
    return (0.5 + offset[0]) * size[0], (0.5 + offset[1]) * size[1]


def _dissolve(first: np.ndarray, last: np.ndarray, centre: tuple[float, float], level: float) -> np.ndarray:
    leaving = _zoomed(first, 1.0 + PUSH_IN * level, centre)
    arriving = _zoomed(last, 1.0 + PUSH_IN * (1.0 - level), centre)
    return cv2.addWeighted(leaving, 1.0 - level, arriving, level, 0.0)


def _zoomed(picture: np.ndarray, scale: float, centre: tuple[float, float]) -> np.ndarray:
    # Scaling up about a point inside the frame never shows the picture's edge.
    matrix = np.array([[scale, 0.0, centre[0] * (1.0 - scale)], [0.0, scale, centre[1] * (1.0 - scale)]])
    height, width = picture.shape[:2]
    return cv2.warpAffine(picture, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# --- morph ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Morph:
    """Matched points on both pictures, their triangles, and the grid the warp is computed on."""

    start: np.ndarray  # N x 2, pixels of the first picture
    end: np.ndarray  # N x 2, the same points on the last picture
    triangles: np.ndarray  # T x 3 point indices
    grid: np.ndarray  # h x w x 2 float32: where each grid point lies in the frame, in pixels
    to_grid: np.ndarray  # 2 x 3: frame pixels to grid points (the grid's corners on the frame's)
    size: tuple[int, int]

    @classmethod
    def build(cls, start: np.ndarray, end: np.ndarray, size: tuple[int, int]) -> _Morph:
        """The morph from the landmarks ``start`` (first picture) to ``end`` (last picture)."""
        width, height = size
        anchors = _border_anchors(width, height)
        start = np.vstack([_inside(start, width, height), anchors])
        end = np.vstack([_inside(end, width, height), anchors])
        scale = min(1.0, _GRID_ROWS / min(width, height))
        columns, rows = max(2, round(width * scale)), max(2, round(height * scale))
        grid_x, grid_y = np.meshgrid(np.linspace(0.0, width - 1.0, columns), np.linspace(0.0, height - 1.0, rows))
        to_grid = np.array([[(columns - 1) / (width - 1), 0.0, 0.0], [0.0, (rows - 1) / (height - 1), 0.0]])
        return cls(
            start=start,
            end=end,
            triangles=delaunay((start + end) / 2.0, (width, height)),
            grid=np.dstack([grid_x, grid_y]).astype(np.float32),
            to_grid=to_grid,
            size=size,
        )

    def frame(self, first: np.ndarray, last: np.ndarray, level: float) -> np.ndarray:
        """The frame ``level`` of the way (0 to 1) from ``first`` to ``last``."""
        to_first, to_last = self._maps((1.0 - level) * self.start + level * self.end)
        # The border anchors keep every map inside the picture; replicate only catches rounding.
        flags, border = cv2.INTER_LINEAR, cv2.BORDER_REPLICATE
        warped_first = cv2.remap(first, to_first, None, flags, borderMode=border)
        warped_last = cv2.remap(last, to_last, None, flags, borderMode=border)
        return cv2.addWeighted(warped_first, 1.0 - level, warped_last, level, 0.0)

    def _maps(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each frame pixel, where to read the first and the last picture (two H x W x 2 maps)."""
        corners = points[self.triangles]
        sources = np.concatenate([self.start[self.triangles], self.end[self.triangles]], axis=2)
        coefficients = affine_maps(corners, sources, flat=_FLAT)
        picked = coefficients.astype(np.float32)[self._labels(corners)]
        x, y = self.grid[..., :1], self.grid[..., 1:]
        read = picked[..., 0, :] * x + picked[..., 1, :] * y + picked[..., 2, :]
        return self._scaled_up(read[..., :2]), self._scaled_up(read[..., 2:])

    def _scaled_up(self, coarse: np.ndarray) -> np.ndarray:
        # Corner to corner, so bilinear scaling reproduces the affine pieces exactly up to the
        # frame's edge (cv2.resize's half-pixel grid would clamp a band along it).
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        return cv2.warpAffine(np.ascontiguousarray(coarse), self.to_grid, self.size, flags=flags)

    def _labels(self, corners: np.ndarray) -> np.ndarray:
        """Which triangle holds each grid point (T, the identity map, where none was drawn)."""
        on_grid = corners * np.diag(self.to_grid)
        labels = np.full(self.grid.shape[:2], len(corners), np.int32)
        fixed = np.round(on_grid * (1 << _SHIFT)).astype(np.int32)
        # Rasterizing also claims points just beside a triangle's edges, where its affine map is
        # extrapolated: harmless for a large triangle, wild for a sliver. Drawn smallest first,
        # such points go to the larger neighbour, drawn over them.
        areas = np.abs(signed_areas(on_grid))
        for index in np.argsort(areas):
            if areas[index] > _FLAT:
                cv2.fillConvexPoly(labels, fixed[index], int(index), lineType=cv2.LINE_8, shift=_SHIFT)
        return labels


def _border_anchors(width: int, height: int) -> np.ndarray:
    right, bottom = width - 1.0, height - 1.0
    xs = (0.0, right / 2.0, right)
    ys = (0.0, bottom / 2.0, bottom)
    return np.array([(x, y) for y in ys for x in xs if (x, y) != (xs[1], ys[1])])


def _inside(points: np.ndarray, width: int, height: int) -> np.ndarray:
    # A mesh point can fall just outside the picture (a chin at the bottom edge); keeping it a
    # pixel inside keeps it apart from the border anchors and the triangulation valid.
    return np.clip(points, 1.0, (width - 2.0, height - 2.0))
