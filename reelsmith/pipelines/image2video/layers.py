"""What is in the picture: the subject cut out from its background, and the faces.

The subject is found with MediaPipe's selfie segmentation (the landscape model, which also
separates most single foreground objects: a cup, a cat's head). In a picture without a face the
mask is then trimmed by colour with OpenCV's GrabCut, started from it: on things that are not
people the model also claims patches of background around them. When the model finds less than
2% of the frame, GrabCut started from a rectangle around the centre looks for a generic
foreground object instead. A mask that covers almost the whole frame is no separation at all and
is refused the same way; so is a GrabCut that keeps its whole starting rectangle.

The background plate is the picture with the subject removed: the hole (the mask, grown a
little so no fringe of the subject stays behind) is filled with Telea inpainting on a small copy,
softened so long inpainting streaks read as out-of-focus background, scaled back up and blended in
with a feathered edge.

Finding the subject is split in steps a task takes only as far as its plan needs: the outline
(:func:`outline_subject`, the model's mask: enough to aim a camera move), the outline trimmed by
colour (:func:`trimmed`, GrabCut) and the cut-out layers (:func:`cut_out`, the plate).

MediaPipe graphs are built once per process and shared under a lock (a graph is not safe to call
from two threads at once).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from reelsmith.faces.detection import find_faces as detect_faces
from reelsmith.faces.segmentation import person_mask
from reelsmith.pipelines.image2video.plan import Face, Scene

MIN_AREA = 0.02
MAX_AREA = 0.85
# Components of the mask smaller than this share of the largest one are specks, not the subject.
_MIN_PART = 0.2
# Sizes as fractions of the picture's short side.
_FEATHER = 0.004
_HOLE_GROWTH = 0.015
_HOLE_FEATHER = 0.01
# Inpainting runs on a copy whose long side is this many pixels, GrabCut on one of this many.
# Both run before the first frame, so their time is the task's. The fill is blurred anyway: at
# 240 px (softened as much, in frame pixels, as it was at 320) it looks the same in half the time.
# GrabCut at 240 px with 2 rounds costs 0.55-0.65 of what 288 px with 3 did (0.15 s instead of
# 0.26 on coffee at 720p) and keeps the same subject: intersection over union 0.98-0.99 on
# skimage's coffee, chelsea, cat, logo, colorwheel and immunohistochemistry.
_WORK_SIDE = 240
_GRABCUT_SIDE = 240
_INPAINT_RADIUS = 4
_FILL_SOFTNESS = 1.9
# Deep inside the hole (this fraction of the short side from its edge) the fill is fully blurred.
_FILL_DEPTH = 0.06
_GRABCUT_INSET = (0.12, 0.08)
_GRABCUT_ROUNDS = 2
# GrabCut starts its colour models with k-means, seeded from OpenCV's per-thread generator: seeded
# here, the same picture is always cut the same way, whatever ran before it in the process.
_GRABCUT_SEED = 0x5EED
# A cut that keeps nearly all of its starting rectangle separated nothing (a flat picture).
_MAX_RECT_SHARE = 0.9
# Refining the model's mask: below this confidence a pixel is surely background, and a refinement
# must keep at least this share of the mask to be believed.
_SURE_BACKGROUND = 0.05
_MIN_KEPT = 0.4
_GAP_CLOSING = 0.02


@dataclass(frozen=True)
class SubjectLayers:
    """The picture split into a subject and the background behind it.

    ``mask``: float32 H x W in [0, 1], feathered at the edge. ``subject_rgba``: uint8 H x W x 4,
    the picture's colours with the mask as alpha. ``plate``: uint8 H x W x 3, the background with
    the subject removed and the hole filled. ``bbox``: the subject's box in pixels,
    ``(left, top, right, bottom)``, right and bottom exclusive. ``center``: the subject's centroid
    as fractions of the picture. ``area``: the share of the picture the subject covers.
    """

    mask: np.ndarray
    subject_rgba: np.ndarray
    plate: np.ndarray
    bbox: tuple[int, int, int, int]
    center: tuple[float, float]
    area: float

    @property
    def size(self) -> tuple[float, float]:
        """The subject box's width and height as fractions of the picture's."""
        return _box_size(self.bbox, self.mask.shape)


def separate_subject(picture: np.ndarray, faces: tuple[Face, ...] | None = None) -> SubjectLayers | None:
    """Cut the person or main object out of ``picture`` (H x W x 3 uint8 RGB); None if none is found.

    ``faces`` are the picture's faces when the caller has already looked (:func:`scene_faces`);
    with a face the model's mask is used as it is, without one it is trimmed by colour.
    """
    outline = outline_subject(picture, faces)
    return None if outline is None else cut_out(picture, outline)


@dataclass(frozen=True)
class SubjectOutline:
    """Where the subject is, before it is cut out (:func:`outline_subject`).

    ``soft``: float32 H x W, the model's confidence (or GrabCut's cut). ``solid``: bool H x W, the
    parts kept. ``trim``: whether :func:`cut_out` still trims the mask by colour (no face was
    found). ``bbox`` and ``center`` as in :class:`SubjectLayers`, of ``solid`` before trimming.
    """

    soft: np.ndarray
    solid: np.ndarray
    trim: bool
    bbox: tuple[int, int, int, int]
    center: tuple[float, float]

    @property
    def size(self) -> tuple[float, float]:
        """The subject box's width and height as fractions of the picture's."""
        return _box_size(self.bbox, self.solid.shape)


def outline_subject(picture: np.ndarray, faces: tuple[Face, ...] | None = None) -> SubjectOutline | None:
    """Find the subject in ``picture`` without cutting it out; None if there is none.

    Cheap (the model's mask) unless the model finds nothing: then GrabCut, started from a
    rectangle, decides whether there is a subject at all. The trimming by colour, the costly part
    for pictures without a face, is left to :func:`cut_out`, which only plans that move the
    subject need.
    """
    picture = np.ascontiguousarray(picture)
    soft = person_mask(picture)
    solid = _main_parts(soft > 0.5)
    if MIN_AREA <= solid.mean() <= MAX_AREA:
        trim = not (faces if faces is not None else scene_faces(picture))
        return SubjectOutline(soft, solid, trim, *_box(solid))
    solid = _main_parts(_grabcut_from_rect(picture))
    if MIN_AREA <= solid.mean() <= _MAX_RECT_SHARE * _rect_area():
        return SubjectOutline(solid.astype(np.float32), solid, False, *_box(solid))
    return None


def trimmed(picture: np.ndarray, outline: SubjectOutline) -> SubjectOutline:
    """``outline`` trimmed by colour when it still needs to be (GrabCut, the costly step)."""
    if not outline.trim:
        return outline
    solid = _refined(np.ascontiguousarray(picture), outline.soft, outline.solid)
    return SubjectOutline(outline.soft, solid, False, *_box(solid))


def cut_out(picture: np.ndarray, outline: SubjectOutline) -> SubjectLayers:
    """The subject of ``outline`` cut out of ``picture``, over the background plate."""
    outline = trimmed(picture, outline)
    return _layers(np.ascontiguousarray(picture), outline.soft * outline.solid, outline.solid)


def scene_faces(picture: np.ndarray) -> tuple[Face, ...]:
    """The faces in ``picture`` (H x W x 3 uint8 RGB), largest first, in fractions of the picture."""
    return tuple(Face(center=box.center, width=box.width, height=box.height) for box in detect_faces(picture))


class _Placed(Protocol):
    @property
    def center(self) -> tuple[float, float]: ...

    @property
    def size(self) -> tuple[float, float]: ...


def build_scene(picture: np.ndarray, subject: _Placed | None, faces: tuple[Face, ...]) -> Scene:
    """What effects and prompts may target in ``picture``: its size, faces and subject
    (its :class:`SubjectLayers` or, before it is cut out, its :class:`SubjectOutline`)."""
    height, width = picture.shape[:2]
    if subject is None:
        return Scene(width=width, height=height, faces=faces)
    return Scene(
        width=width,
        height=height,
        faces=faces,
        has_subject=True,
        subject_center=subject.center,
        subject_size=subject.size,
    )


def _main_parts(binary: np.ndarray) -> np.ndarray:
    """The largest connected part of ``binary`` and any part at least a fifth of its size."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros(binary.shape, dtype=bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= _MIN_PART * areas.max()) + 1
    return np.isin(labels, keep)


def _refined(picture: np.ndarray, soft: np.ndarray, solid: np.ndarray) -> np.ndarray:
    """``solid`` with what does not look like the subject's colours taken out (GrabCut).

    The selfie model knows people; on other pictures it also claims broad patches of background
    around the object. GrabCut, started from the model's mask (its inside "probably subject",
    the rest "probably background", the clearly empty part "background"), trims those by colour;
    small gaps it cuts into the subject are closed again. When it trims away most of the subject
    instead, the model's mask is kept.
    """
    labels = np.full(soft.shape, cv2.GC_PR_BGD, np.uint8)
    labels[solid] = cv2.GC_PR_FGD
    labels[soft < _SURE_BACKGROUND] = cv2.GC_BGD
    # Kept parts and closed gaps are worked out on GrabCut's small copy (the cut has no finer
    # detail than that), then scaled up once.
    small = _grabcut_small(picture, labels)
    trimmed = _main_parts(small)
    if trimmed.mean() < _MIN_KEPT * solid.mean() or trimmed.mean() < MIN_AREA:
        return solid
    gap = _disc(max(1, round(_GAP_CLOSING * min(small.shape))))
    closed = cv2.morphologyEx(trimmed.astype(np.uint8), cv2.MORPH_CLOSE, gap)
    return _full_size(closed, solid.shape) & solid


def _rect_area() -> float:
    return (1.0 - 2.0 * _GRABCUT_INSET[0]) * (1.0 - 2.0 * _GRABCUT_INSET[1])


def _grabcut_from_rect(picture: np.ndarray) -> np.ndarray:
    """A generic foreground object inside a rectangle around the centre."""
    height, width = picture.shape[:2]
    inset_x, inset_y = round(_GRABCUT_INSET[0] * width), round(_GRABCUT_INSET[1] * height)
    labels = np.full((height, width), cv2.GC_BGD, np.uint8)
    labels[inset_y : height - inset_y, inset_x : width - inset_x] = cv2.GC_PR_FGD
    return _grabcut(picture, labels)


def _grabcut(picture: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """GrabCut from ``labels`` (cv2.GC_* per pixel), run on a small copy; the foreground, full size."""
    return _full_size(_grabcut_small(picture, labels).astype(np.uint8), picture.shape[:2])


def _full_size(small: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A small 0/1 uint8 mask scaled up to ``shape`` (height, width), as bool."""
    height, width = shape[:2]
    return cv2.resize(small.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR) > 0.5


def _grabcut_small(picture: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """GrabCut from ``labels`` (cv2.GC_* per pixel) on a small copy; the foreground at that size (bool)."""
    height, width = picture.shape[:2]
    scale = min(1.0, _GRABCUT_SIDE / max(height, width))
    small_size = (max(8, round(width * scale)), max(8, round(height * scale)))
    small = cv2.resize(picture, small_size, interpolation=cv2.INTER_AREA)
    small_labels = cv2.resize(labels, small_size, interpolation=cv2.INTER_NEAREST)
    background, foreground = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(_GRABCUT_SEED)
    # GrabCut models colours in BGR or RGB alike; it only needs three channels.
    cv2.grabCut(small, small_labels, None, background, foreground, _GRABCUT_ROUNDS, cv2.GC_INIT_WITH_MASK)
    return (small_labels == cv2.GC_FGD) | (small_labels == cv2.GC_PR_FGD)


def _layers(picture: np.ndarray, soft: np.ndarray, solid: np.ndarray) -> SubjectLayers:
    short = min(solid.shape)
    # The model's soft edge, limited to the parts kept, then feathered a little more.
    grown = cv2.dilate(solid.astype(np.uint8), _disc(max(1, round(_FEATHER * short))))
    mask = cv2.GaussianBlur(soft * grown, (0, 0), sigmaX=max(0.8, _FEATHER * short))
    mask = np.clip(mask, 0.0, 1.0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The plate (inpainting, mostly in OpenCV, which lets go of the GIL) is made on the other
        # core while the subject's layer is.
        plate = pool.submit(_plate, picture, solid)
        subject_rgba = with_alpha(picture, np.round(mask * 255.0).astype(np.uint8))
        bbox, center = _box(solid)
        plate_image = plate.result()
    return SubjectLayers(
        mask=mask,
        subject_rgba=subject_rgba,
        plate=plate_image,
        bbox=bbox,
        center=center,
        area=float(mask.mean()),
    )


def with_alpha(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb`` (H x W x 3 uint8) with ``alpha`` (H x W uint8) as a fourth channel (a new array)."""
    return cv2.merge([*cv2.split(rgb), alpha])


def _box(solid: np.ndarray) -> tuple[tuple[int, int, int, int], tuple[float, float]]:
    """The bounding box (pixels, right and bottom exclusive) and centroid (fractions) of ``solid``."""
    height, width = solid.shape
    rows, cols = np.nonzero(solid)
    bbox = (int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1)
    return bbox, (float(cols.mean() + 0.5) / width, float(rows.mean() + 0.5) / height)


def _box_size(bbox: tuple[int, int, int, int], shape: tuple[int, ...]) -> tuple[float, float]:
    height, width = shape[:2]
    left, top, right, bottom = bbox
    return (right - left) / width, (bottom - top) / height


def _plate(picture: np.ndarray, solid: np.ndarray) -> np.ndarray:
    height, width = solid.shape
    short = min(height, width)
    hole = cv2.dilate(solid.astype(np.uint8), _disc(max(1, round(_HOLE_GROWTH * short))))
    scale = min(1.0, _WORK_SIDE / max(height, width))
    small_size = (max(8, round(width * scale)), max(8, round(height * scale)))
    small = cv2.resize(picture, small_size, interpolation=cv2.INTER_AREA)
    small_hole = (cv2.resize(hole.astype(np.float32), small_size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    fill = cv2.resize(_inpaint(small, small_hole), (width, height), interpolation=cv2.INTER_LINEAR)
    # The fill covers the whole hole and fades out just beyond it; further out the plate is the
    # picture itself, sharp.
    weight = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), sigmaX=max(1.0, _HOLE_FEATHER * short))
    weight = np.maximum(weight, hole.astype(np.float32))
    return cv2.blendLinear(fill, picture, weight, 1.0 - weight)


def _inpaint(small: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Fill ``hole`` in ``small``: Telea, then blurred more the deeper into the hole.

    Telea continues the edges around a hole well but draws long streaks across a large one;
    deep inside, a heavy blur turns them into a plausible out-of-focus background.
    """
    filled = cv2.inpaint(small, hole, _INPAINT_RADIUS, cv2.INPAINT_TELEA)
    short = min(small.shape[:2])
    light = cv2.GaussianBlur(filled, (0, 0), sigmaX=_FILL_SOFTNESS)
    heavy = cv2.GaussianBlur(filled, (0, 0), sigmaX=_FILL_DEPTH * short)
    depth = cv2.distanceTransform(hole, cv2.DIST_L2, 3)
    weight = np.clip(depth / (_FILL_DEPTH * short), 0.0, 1.0).astype(np.float32)
    blurred = cv2.blendLinear(heavy, light, weight, 1.0 - weight)
    return np.where(hole[..., None] > 0, blurred, small)


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
