"""Compositing for Image to Video: layers drawn into frames where motion puts them.

Each layer is drawn with a single ``cv2.warpAffine`` (``cv2.remap`` for the smooth warps) straight
at the output size. A plan with only whole-picture camera moves draws one layer. A plan that
moves the subject (or dollies or orbits, which move it against the background) draws the
background plate and composites the subject over it with its feathered mask. Without separated
layers, subject moves act on the whole picture, over a blurred, darkened copy of it
(:func:`picture_as_subject`).

Cost. Warping costs OpenCV about 3.5 ns a pixel, blending about 1.5: on two cores shared with
x264 every pixel counts. So the subject is drawn in pieces (:meth:`_SubjectSource.layout`):
each band of its region is cut into the run it covers completely (warped straight into the
frame, no blending, and the plate not warped beneath it), the runs at its edges (blended over
the plate) and the ends where it is clear (not drawn at all). Which is which is read from where
each cell's pixels come from in the subject layer, counting every pixel bilinear interpolation
may read, so the frames are those of blending the whole region. A frame whose subject is drawn
exactly as in the one before (the subject of a dolly zoom) reuses its warped pieces; a still
plate is warped once and copied. Pictures are warped as RGBA, which OpenCV does faster than RGB.

The subject layer is padded with its own edge pixels, fading out, so a subject cut by the
picture's border (a bust) keeps a body when it is lifted or shrunk.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from reelsmith.pipelines.image2video.canvas import backdrop
from reelsmith.pipelines.image2video.easing import smoothstep
from reelsmith.pipelines.image2video.geometry import Box, affine_inverse, translate
from reelsmith.pipelines.image2video.layers import SubjectLayers, with_alpha
from reelsmith.pipelines.image2video.motion import Poses, Warps

# The subject layer's padding, a fraction of the picture's short side.
_PAD = 0.3
# Smooth warps are computed on a grid this many pixels apart and interpolated: they vary over
# tens of pixels, and this is 64 times less work than computing every pixel.
_WARP_STEP = 8
# Drawing the subject: a frame is cut into about this many bands; cells of a band are this many
# grid steps wide.
_BANDS_PER_FRAME = 30
_CELL_COLUMNS = 1
# The costs _pieces weighs, in pixels warped: blending a pixel, and one OpenCV call on a box.
_BLEND_COST = 0.5
_BLEND_CALLS = 6
_CALL_COST = 600


def single_layer_frames(picture: np.ndarray, matrices: np.ndarray, size: tuple[int, int]) -> Iterator[np.ndarray]:
    """Frames of ``size`` showing ``picture`` (RGB) placed by each of ``matrices`` (picture to frame)."""
    source = cv2.cvtColor(picture, cv2.COLOR_RGB2RGBA)
    scratch = np.empty((size[1], size[0], 4), np.uint8)
    frame = picture
    for index, matrix in enumerate(matrices):
        frame = frame.copy() if _held(index, matrices) else _warp(source, matrix, size, scratch)
        yield frame


def layered_frames(
    picture: np.ndarray,
    layers: SubjectLayers,
    plate_matrices: np.ndarray,
    subject_matrices: np.ndarray,
    poses: Poses,
    size: tuple[int, int],
) -> Iterator[np.ndarray]:
    """Frames of ``size``: the plate of ``layers`` placed by each of ``plate_matrices``, the
    subject over it placed by each of ``subject_matrices`` and warped by ``poses``' warps
    (matrices from picture pixels to frame pixels, one per frame)."""
    subject = _SubjectSource.build(layers)
    scratch = _Scratch(size)
    plate = _Plate(layers.plate, plate_matrices, size, scratch.layer)
    warps = poses.warps
    # Frames whose subject is drawn exactly like the one before (a dolly zoom: the background
    # moves, the subject holds) reuse its warped pieces.
    still = _subject_still(subject_matrices, warps)
    kept_layout: _Layout | None = None
    kept_pieces: list[np.ndarray] | None = None
    frame = picture
    count = len(plate_matrices)
    for index in range(count):
        if _held(index, plate_matrices, subject_matrices, warps.bend, warps.melt, warps.bulge):
            frame = frame.copy()
        else:
            reuse = still[index] and kept_layout is not None
            if reuse:
                layout = kept_layout
            else:
                layout = subject.layout(size, subject_matrices[index], poses.warp(index), plate.moves(index))
            frame = plate.frame(index, layout.holes if layout is not None else ())
            keep = index + 1 < count and still[index + 1]
            pieces = None
            if layout is not None:
                pieces = subject.draw(frame, layout, scratch, kept_pieces if reuse else None, keep)
            kept_layout, kept_pieces = (layout, pieces) if keep else (None, None)
        yield frame


def _subject_still(matrices: np.ndarray, warps: Warps) -> list[bool]:
    """Per frame, whether the subject is placed as in the frame before: the same warp, and a
    matrix equal to a billionth of a pixel (a dolly and an opposite zoom cancel only so far)."""
    return [
        _held(index, warps.bend, warps.melt, warps.bulge)
        and np.allclose(matrices[index], matrices[index - 1], rtol=0.0, atol=1e-9)
        for index in range(len(matrices))
    ]


class _Plate:
    """The background plate placed for each frame; a still plate is warped once and copied."""

    def __init__(self, image: np.ndarray, matrices: np.ndarray, size: tuple[int, int], scratch: np.ndarray) -> None:
        self._image = cv2.cvtColor(image, cv2.COLOR_RGB2RGBA)  # see _warp
        self._matrices = matrices
        self._size = size
        self._scratch = scratch
        self._kept: np.ndarray | None = None

    def moves(self, index: int) -> bool:
        """Whether frame ``index`` warps the plate (else it copies the one before)."""
        return self._kept is None or not _held(index, self._matrices)

    def frame(self, index: int, holes: Sequence[Box] = ()) -> np.ndarray:
        """A new frame holding the plate as frame ``index`` sees it, except perhaps inside
        ``holes`` (boxes the caller covers completely, sorted top to bottom, not overlapping)."""
        if self._kept is not None and _held(index, self._matrices):
            return self._kept.copy()
        # Keep a clean copy only when the next frame can use it.
        still_next = index + 1 < len(self._matrices) and _held(index + 1, self._matrices)
        if still_next or not holes:
            frame = _warp(self._image, self._matrices[index], self._size, self._scratch)
            self._kept = frame.copy() if still_next else None
            return frame
        self._kept = None
        # Warping costs about 4 ns a pixel: the plate is not drawn where the subject hides it.
        width, height = self._size
        frame = np.empty((height, width, 3), np.uint8)
        for box in _around(holes, width, height):
            _warp_into(self._image, self._matrices[index], frame, box, self._scratch)
        return frame


def _around(holes: Sequence[Box], width: int, height: int) -> Iterator[Box]:
    """Boxes covering the frame except ``holes`` (sorted top to bottom, not sharing rows)."""
    top = 0
    for x0, y0, x1, y1 in holes:
        if y0 > top:
            yield 0, top, width, y0
        if x0 > 0:
            yield 0, y0, x0, y1
        if x1 < width:
            yield x1, y0, width, y1
        top = y1
    if top < height:
        yield 0, top, width, height


def _warp_into(image: np.ndarray, matrix: np.ndarray, frame: np.ndarray, box: Box, scratch: np.ndarray) -> None:
    """``frame[box]`` (RGB) = ``image`` (RGBA, see :func:`_warp`) placed by ``matrix`` (image to
    frame), through ``scratch`` (at least the box's size, RGBA)."""
    x0, y0, x1, y1 = box
    shifted = matrix[:2].copy()
    shifted[0, 2] -= x0
    shifted[1, 2] -= y0
    layer = scratch[: y1 - y0, : x1 - x0]
    cv2.warpAffine(image, shifted, (x1 - x0, y1 - y0), dst=layer, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    cv2.cvtColor(layer, cv2.COLOR_RGBA2RGB, dst=frame[y0:y1, x0:x1])


def _held(index: int, *per_frame: np.ndarray) -> bool:
    """Whether frame ``index`` is placed exactly like the one before it (so it looks the same)."""
    return index > 0 and all(np.array_equal(values[index], values[index - 1]) for values in per_frame)


def _warp(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int], scratch: np.ndarray) -> np.ndarray:
    """A new RGB frame of ``size``: ``image`` (RGBA) placed by ``matrix`` (image to frame).

    OpenCV warps four channels about 15% faster than three, more than the conversion back to
    RGB costs, so pictures are kept as RGBA to be warped.
    """
    width, height = size
    layer = scratch[:height, :width]
    # Reflection is only a safety net: the room zoom keeps every view inside the picture.
    cv2.warpAffine(image, matrix[:2], size, dst=layer, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return cv2.cvtColor(layer, cv2.COLOR_RGBA2RGB)


def picture_as_subject(picture: np.ndarray) -> SubjectLayers:
    """The whole picture as the subject, over a blurred, darkened copy of itself."""
    height, width = picture.shape[:2]
    edge = max(1.0, 0.004 * min(height, width))
    ramp_x = np.clip((np.minimum(np.arange(width), width - 1 - np.arange(width))) / edge, 0.0, 1.0)
    ramp_y = np.clip((np.minimum(np.arange(height), height - 1 - np.arange(height))) / edge, 0.0, 1.0)
    mask = np.minimum(ramp_y[:, None], ramp_x[None, :]).astype(np.float32)
    return SubjectLayers(
        mask=mask,
        subject_rgba=with_alpha(picture, np.round(mask * 255).astype(np.uint8)),
        plate=backdrop(picture, (width, height)),
        bbox=(0, 0, width, height),
        center=(0.5, 0.5),
        area=1.0,
    )


@dataclass(frozen=True)
class _SubjectSource:
    """The subject, premultiplied by its mask and padded, ready to be warped onto frames."""

    rgba: np.ndarray  # premultiplied, padded by ``pad`` on every side
    pad: int
    footprint: np.ndarray  # 3 x 4 corners (picture pixels) of where the subject may be drawn
    coverage: _Coverage

    @classmethod
    def build(cls, layers: SubjectLayers) -> _SubjectSource:
        height, width = layers.mask.shape
        pad = max(2, round(_PAD * min(height, width)))
        # Beyond the picture's border a subject cut by it (a bust) continues as its mirror image,
        # fading out over the padding, instead of ending in a hard line when it is lifted or
        # shrunk. Only where the subject reaches the border: the edge pixels' alpha (replicated)
        # keeps a head near the top from being mirrored above itself.
        # All in uint8: at 4K the padded layer has 18 million pixels.
        padded = cv2.copyMakeBorder(layers.subject_rgba, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        alpha = np.ascontiguousarray(layers.subject_rgba[..., 3])
        edge_alpha = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        fade = np.minimum(_fade(height, pad)[:, None], _fade(width, pad)[None, :])
        alpha = cv2.multiply(cv2.min(cv2.extractChannel(padded, 3), edge_alpha), fade, scale=1.0 / 255.0)
        colour = cv2.multiply(
            cv2.cvtColor(padded, cv2.COLOR_RGBA2RGB), cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB), scale=1.0 / 255.0
        )
        return cls(
            rgba=with_alpha(colour, alpha),
            pad=pad,
            footprint=_footprint(layers.bbox, width, height, pad),
            coverage=_Coverage.build(alpha),
        )

    def layout(
        self, size: tuple[int, int], matrix: np.ndarray, warp: tuple[Warps, int] | None, plate_moves: bool
    ) -> _Layout | None:
        """Where and how frame ``size`` shows the subject placed by ``matrix`` (picture to frame)
        and warped; None when it is out of the frame. ``plate_moves``: whether the plate is warped
        for this frame (else copied), so that leaving it out where covered saves work.

        The subject's region is cut into bands, and each band into the run the subject covers
        completely (drawn straight, no compositing, the plate left out beneath it), the runs at
        its edges that need blending over the plate, and the rest, where the subject is
        transparent (not drawn at all). Cells of the band are told apart by where their pixels
        come from in the subject layer (:class:`_Coverage`); a cell counts as covered only when
        every source pixel its interpolation reads is opaque, so the frames are the same as if
        the whole region were composited.
        """
        roi = self._region((size[1], size[0]), matrix, warp)
        if roi is None:
            return None
        x0, y0, x1, y1 = roi
        placed = matrix @ translate(-self.pad, -self.pad, 1)[0]  # padded-source pixels to frame pixels
        columns = math.ceil((x1 - x0) / _WARP_STEP)
        rows = math.ceil((y1 - y0) / _WARP_STEP)
        offset = (_WARP_STEP - 1) / 2
        maps = None
        if warp is None:
            # The source positions of a grid of points one _WARP_STEP apart, one more on every
            # side so that the grid's hull holds every pixel of the region.
            grid_x = x0 + offset + _WARP_STEP * np.arange(-1, columns + 1)
            grid_y = y0 + offset + _WARP_STEP * np.arange(-1, rows + 1)
            inverse = affine_inverse(placed)
            source_x = inverse[0, 0] * grid_x[None, :] + inverse[0, 1] * grid_y[:, None] + inverse[0, 2]
            source_y = inverse[1, 0] * grid_x[None, :] + inverse[1, 1] * grid_y[:, None] + inverse[1, 2]
        else:
            coarse_x, coarse_y = self._warp_grid(matrix, roi, warp)
            full = (columns * _WARP_STEP, rows * _WARP_STEP)
            map_x = cv2.resize(coarse_x, full, interpolation=cv2.INTER_LINEAR)
            map_y = cv2.resize(coarse_y, full, interpolation=cv2.INTER_LINEAR)
            maps = (map_x[: y1 - y0, : x1 - x0], map_y[: y1 - y0, : x1 - x0])
            # The resized maps hold their edge values beyond the outermost points.
            source_x = cv2.copyMakeBorder(coarse_x, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
            source_y = cv2.copyMakeBorder(coarse_y, 1, 1, 1, 1, cv2.BORDER_REPLICATE)
        band_rows = _band_rows(size[1])
        kinds = self.coverage.kinds(*_cell_bounds(source_x, source_y, band_rows, _CELL_COLUMNS))
        pieces, holes = _pieces(kinds, roi, band_rows * _WARP_STEP, _CELL_COLUMNS * _WARP_STEP, plate_moves)
        return _Layout(placed=placed[:2], maps=maps, origin=(x0, y0), pieces=pieces, holes=holes)

    def draw(
        self,
        frame: np.ndarray,
        layout: _Layout,
        scratch: _Scratch,
        pieces: list[np.ndarray] | None = None,
        keep: bool = False,
    ) -> list[np.ndarray] | None:
        """Draw the subject into ``frame`` (holding the plate, except in ``layout.holes``).

        ``pieces``: the warped pieces of a frame drawn with the same layout, to use instead of
        warping again. With ``keep``, the pieces warped are returned for the next frame.
        """
        kept: list[np.ndarray] | None = [] if keep else None
        for number, (x0, y0, x1, y1, covered) in enumerate(layout.pieces):
            width, height = x1 - x0, y1 - y0
            if pieces is not None:
                layer = pieces[number]
            else:
                layer = np.empty((height, width, 4), np.uint8) if keep else scratch.layer[:height, :width]
                self._warp_piece(layer, layout, x0, y0)
            if kept is not None:
                kept.append(layer)
            region = frame[y0:y1, x0:x1]
            if covered:
                # Opaque throughout: the premultiplied colour is the colour, nothing to blend.
                cv2.cvtColor(layer, cv2.COLOR_RGBA2RGB, dst=region)
            else:
                scratch.composite(region, layer)
        return kept

    def _warp_piece(self, layer: np.ndarray, layout: _Layout, x0: int, y0: int) -> None:
        """``layer`` = the subject as placed in the frame's box at (x0, y0) of ``layer``'s size."""
        height, width = layer.shape[:2]
        if layout.maps is None:
            placed = layout.placed.copy()
            placed[0, 2] -= x0
            placed[1, 2] -= y0
            cv2.warpAffine(
                self.rgba, placed, (width, height), dst=layer, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
            )
        else:
            left, top = x0 - layout.origin[0], y0 - layout.origin[1]
            map_x = layout.maps[0][top : top + height, left : left + width]
            map_y = layout.maps[1][top : top + height, left : left + width]
            cv2.remap(self.rgba, map_x, map_y, cv2.INTER_LINEAR, dst=layer, borderMode=cv2.BORDER_CONSTANT)

    def _region(self, shape: tuple[int, ...], matrix: np.ndarray, warp: tuple[Warps, int] | None) -> Box | None:
        """The frame rectangle the subject may cover, or None when it is out of the frame."""
        corners = (matrix @ self.footprint)[:2]
        low, high = corners.min(axis=1), corners.max(axis=1)
        if warp is not None:
            warps, index = warp
            determinant = matrix[0, 0] * matrix[1, 1] - matrix[0, 1] * matrix[1, 0]
            room = warps.reach(index) * math.sqrt(abs(determinant))
            low, high = low - room, high + room
        x0, y0 = max(0, math.floor(low[0])), max(0, math.floor(low[1]))
        x1, y1 = min(shape[1], math.ceil(high[0]) + 1), min(shape[0], math.ceil(high[1]) + 1)
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def _warp_grid(self, matrix: np.ndarray, roi: Box, warp: tuple[Warps, int]) -> tuple[np.ndarray, np.ndarray]:
        """The warp's source positions (padded-source pixels, float32) on a coarse grid over ``roi``."""
        x0, y0, x1, y1 = roi
        warps, index = warp
        # A coarse grid, one point per _WARP_STEP x _WARP_STEP cell, at the cell's centre: where
        # cv2.resize puts a source pixel when it enlarges by _WARP_STEP, so resizing the coarse
        # maps interpolates them exactly onto every pixel.
        columns = math.ceil((x1 - x0) / _WARP_STEP)
        rows = math.ceil((y1 - y0) / _WARP_STEP)
        offset = (_WARP_STEP - 1) / 2
        grid_x, grid_y = np.meshgrid(
            x0 + offset + _WARP_STEP * np.arange(columns), y0 + offset + _WARP_STEP * np.arange(rows)
        )
        inverse = affine_inverse(matrix)
        picture_x = inverse[0, 0] * grid_x + inverse[0, 1] * grid_y + inverse[0, 2]
        picture_y = inverse[1, 0] * grid_x + inverse[1, 1] * grid_y + inverse[1, 2]
        source_x, source_y = warps.inverse(index, picture_x, picture_y)
        return (source_x + self.pad).astype(np.float32), (source_y + self.pad).astype(np.float32)


@dataclass(frozen=True)
class _Layout:
    """How one frame draws the subject (:meth:`_SubjectSource.layout`)."""

    placed: np.ndarray  # 2 x 3, padded-source pixels to frame pixels (no warp)
    maps: tuple[np.ndarray, np.ndarray] | None  # per pixel of the region, where a warp reads from
    origin: tuple[int, int]  # the region's top left corner, where the maps start
    pieces: list[tuple[int, int, int, int, bool]]  # x0, y0, x1, y1 and whether fully covered
    holes: list[Box]  # the fully covered pieces, where the plate need not be drawn


def _band_rows(height: int) -> int:
    """Grid rows (of _WARP_STEP pixels) per band: 32 px at 720p, more in taller frames, so a
    frame has about the same number of bands (each costs a few OpenCV calls) at any size."""
    return max(4, round(height / (_BANDS_PER_FRAME * _WARP_STEP)))


def _cell_bounds(
    source_x: np.ndarray, source_y: np.ndarray, band_rows: int, cell_columns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per cell (``band_rows`` x ``cell_columns`` grid steps), the box in source pixels that
    holds every position its pixels read from.

    ``source_x`` and ``source_y`` hold the positions on the grid of the region's points (one
    _WARP_STEP apart, starting half a step in), with one more point on every side. A pixel's
    position lies between its four nearest points (exactly, for an affine placement; by the
    bilinear resize, for a warp), so cell (j, k) is bounded by the points one step around it.
    """
    rows, columns = source_x.shape[0] - 2, source_x.shape[1] - 2
    bands, cells = -(-rows // band_rows), -(-columns // cell_columns)
    # Pad with the last row and column so every cell has a full window.
    extra_rows, extra_columns = bands * band_rows - rows, cells * cell_columns - columns
    # A minimum (erosion) and maximum (dilation) filter over each cell's window, anchored at its
    # top left corner, read at every cell's first point.
    window = np.ones((band_rows + 2, cell_columns + 2), np.uint8)
    bounds = []
    for values in (source_x, source_y):
        padded = cv2.copyMakeBorder(values.astype(np.float32), 0, extra_rows, 0, extra_columns, cv2.BORDER_REPLICATE)
        low = cv2.erode(padded, window, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
        high = cv2.dilate(padded, window, anchor=(0, 0), borderType=cv2.BORDER_REPLICATE)
        bounds.append(
            (
                low[: bands * band_rows : band_rows, : cells * cell_columns : cell_columns],
                high[: bands * band_rows : band_rows, : cells * cell_columns : cell_columns],
            )
        )
    (left, right), (top, bottom) = bounds
    return left, top, right, bottom


def _pieces(
    kinds: np.ndarray, roi: Box, band_height: int, cell_width: int, plate_moves: bool
) -> tuple[list[tuple[int, int, int, int, bool]], list[Box]]:
    """Turn per-cell kinds (0 clear, 1 partly covered, 2 covered) into boxes to draw.

    Each band is drawn as at most three runs: partly covered, covered (its longest run of covered
    cells), partly covered; clear cells at its ends are left out. Neighbouring bands are drawn
    together (spanning both, covered only where both are) when that costs less than the OpenCV
    calls it saves (:func:`_work`).
    """
    x0, y0, x1, y1 = roi
    seen = kinds > 0
    any_seen = seen.any(axis=1)
    first = np.argmax(seen, axis=1)
    last = kinds.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
    # The longest run of covered cells per band: at each cell, how many covered cells end there.
    covered = kinds == 2
    index = np.arange(kinds.shape[1])
    breaks = np.maximum.accumulate(np.where(covered, -1, index), axis=1)
    run = np.where(covered, index - breaks, 0)
    run_end = np.argmax(run, axis=1)
    run_length = run[np.arange(len(run)), run_end]
    cuts: list[tuple[int, int, int, int, int, int]] = []  # y0, y1, seen from/to, covered from/to (pixels)
    for band in np.flatnonzero(any_seen).tolist():
        top = y0 + band * band_height
        bottom = min(y1, top + band_height)
        seen_from = x0 + int(first[band]) * cell_width
        seen_to = min(x1, x0 + (int(last[band]) + 1) * cell_width)
        length = int(run_length[band])
        covered_to = min(x1, x0 + (int(run_end[band]) + 1) * cell_width)
        covered_from = covered_to - length * cell_width if length else covered_to
        cut = (top, bottom, seen_from, seen_to, covered_from, covered_to)
        if cuts and cuts[-1][1] == top:
            joined = _joined(cuts[-1], cut)
            if _work(joined, plate_moves) <= _work(cuts[-1], plate_moves) + _work(cut, plate_moves):
                cuts[-1] = joined
                continue
        cuts.append(cut)
    pieces: list[tuple[int, int, int, int, bool]] = []
    holes: list[Box] = []
    for top, bottom, seen_from, seen_to, covered_from, covered_to in cuts:
        if covered_to <= covered_from:
            pieces.append((seen_from, top, seen_to, bottom, False))
            continue
        if covered_from > seen_from:
            pieces.append((seen_from, top, covered_from, bottom, False))
        pieces.append((covered_from, top, covered_to, bottom, True))
        holes.append((covered_from, top, covered_to, bottom))
        if seen_to > covered_to:
            pieces.append((covered_to, top, seen_to, bottom, False))
    return pieces, holes


def _joined(
    upper: tuple[int, int, int, int, int, int], lower: tuple[int, int, int, int, int, int]
) -> tuple[int, int, int, int, int, int]:
    """Two bands' cuts as one: seen wherever either is, covered only where both are."""
    covered_from, covered_to = max(upper[4], lower[4]), min(upper[5], lower[5])
    if covered_to <= covered_from:
        covered_from = covered_to = max(upper[3], lower[3])
    return upper[0], lower[1], min(upper[2], lower[2]), max(upper[3], lower[3]), covered_from, covered_to


def _work(cut: tuple[int, int, int, int, int, int], plate_moves: bool) -> float:
    """What drawing one band's cut costs, in pixels warped: the subject where it is seen, the
    blend where it is not covered, the plate (when it moves) where it is not covered, and each
    OpenCV call (a box of a few thousand pixels costs as much)."""
    top, bottom, seen_from, seen_to, covered_from, covered_to = cut
    seen, covered = seen_to - seen_from, covered_to - covered_from
    # The plate is warped everywhere but where the subject covers it: only that part depends on
    # how the bands are cut.
    pixels = (bottom - top) * (seen + _BLEND_COST * (seen - covered) - plate_moves * covered)
    if covered > 0:
        calls = 2 + 2 * (1 + _BLEND_CALLS) + (2 if plate_moves else 0)
    else:
        calls = 1 + _BLEND_CALLS
    return pixels + calls * _CALL_COST


@dataclass(frozen=True)
class _Coverage:
    """How opaque the padded subject layer is, by blocks, to tell quickly for any box of it
    whether it is clear (alpha 0 throughout), covered (255 throughout) or partly covered."""

    block: int
    size: tuple[int, int]  # the layer's width and height in pixels
    seen: np.ndarray  # summed-area table of the blocks holding any alpha above 0
    unsure: np.ndarray  # summed-area table of the blocks holding any alpha below 255

    @classmethod
    def build(cls, alpha: np.ndarray, block: int = 4) -> _Coverage:
        height, width = alpha.shape
        rows, columns = -(-height // block), -(-width // block)
        # Beyond the layer is clear (the warps' border), as the padding here is.
        blocks = np.zeros((rows * block, columns * block), np.uint8)
        blocks[:height, :width] = alpha
        blocks = blocks.reshape(rows, block, columns, block)
        seen = (blocks.max(axis=(1, 3)) > 0).astype(np.uint8)
        unsure = (blocks.min(axis=(1, 3)) < 255).astype(np.uint8)
        return cls(block=block, size=(width, height), seen=cv2.integral(seen), unsure=cv2.integral(unsure))

    def kinds(self, left: np.ndarray, top: np.ndarray, right: np.ndarray, bottom: np.ndarray) -> np.ndarray:
        """Per box (source pixel positions, any shape of arrays): 0 when every pixel that
        bilinear interpolation inside it reads is clear, 2 when every one is opaque, else 1."""
        width, height = self.size
        # Interpolation reads the pixel at or before a position and the next one; a pixel more on
        # each side covers the rounding of OpenCV's fixed-point positions.
        x0 = np.floor(left).astype(np.int64) - 1
        y0 = np.floor(top).astype(np.int64) - 1
        x1 = np.floor(right).astype(np.int64) + 2
        y1 = np.floor(bottom).astype(np.int64) + 2
        inside = (x0 >= 0) & (y0 >= 0) & (x1 < width) & (y1 < height)
        columns, rows = self.seen.shape[1] - 1, self.seen.shape[0] - 1
        bx0 = np.clip(x0 // self.block, 0, columns)
        by0 = np.clip(y0 // self.block, 0, rows)
        bx1 = np.clip(x1 // self.block + 1, 0, columns)
        by1 = np.clip(y1 // self.block + 1, 0, rows)
        kinds = np.ones(left.shape, np.uint8)
        kinds[_box_sum(self.seen, bx0, by0, bx1, by1) == 0] = 0
        kinds[inside & (_box_sum(self.unsure, bx0, by0, bx1, by1) == 0)] = 2
        return kinds


def _box_sum(table: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Sums over blocks [x0, x1) x [y0, y1) from a summed-area table (empty boxes sum to 0)."""
    x1, y1 = np.maximum(x1, x0), np.maximum(y1, y0)
    return table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]


def _fade(length: int, pad: int) -> np.ndarray:
    """255 inside ``length``, falling smoothly to 0 across ``pad`` on either side (uint8)."""
    positions = np.arange(length + 2 * pad, dtype=np.float32)
    outside = np.maximum(pad - positions, positions - (pad + length - 1))
    return np.round(255.0 * smoothstep(1.0 - np.clip(outside, 0.0, None) / pad)).astype(np.uint8)


def _footprint(bbox: Box, width: int, height: int, pad: int) -> np.ndarray:
    """The subject's box grown by a little feathering, and by the padding where it meets the border."""
    left, top, right, bottom = bbox
    grow = 0.02 * max(width, height)
    x0 = left - (pad if left <= 0 else grow)
    y0 = top - (pad if top <= 0 else grow)
    x1 = right + (pad if right >= width else grow)
    y1 = bottom + (pad if bottom >= height else grow)
    return np.array([[x0, x1, x0, x1], [y0, y0, y1, y1], [1.0, 1.0, 1.0, 1.0]])


class _Scratch:
    """Frame-sized working buffers for compositing, reused from frame to frame.

    Fresh multi-megabyte arrays every frame cost page faults; these are written in place.
    """

    def __init__(self, size: tuple[int, int]) -> None:
        width, height = size
        self.layer = np.empty((height, width, 4), np.uint8)
        self._clear = np.empty((height, width), np.uint8)
        self._clear_rgb = np.empty((height, width, 3), np.uint8)
        self._colour = np.empty((height, width, 3), np.uint8)

    def composite(self, region: np.ndarray, layer: np.ndarray) -> None:
        """``region`` (a view into the frame) = the premultiplied ``layer`` over it, in place."""
        height, width = region.shape[:2]
        clear = cv2.extractChannel(layer, 3, dst=self._clear[:height, :width])
        cv2.bitwise_not(clear, dst=clear)
        clear_rgb = cv2.cvtColor(clear, cv2.COLOR_GRAY2RGB, dst=self._clear_rgb[:height, :width])
        cv2.multiply(region, clear_rgb, dst=region, scale=1.0 / 255.0)
        colour = cv2.cvtColor(layer, cv2.COLOR_RGBA2RGB, dst=self._colour[:height, :width])
        cv2.add(region, colour, dst=region)
