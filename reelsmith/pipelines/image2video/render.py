"""Frames from a picture and a motion plan, and the MP4 they make.

Geometry. The picture is mapped onto the frame so that it covers it (the *rest* view: what the
first frame shows when nothing moves); positions in a plan, as fractions of the frame, are
positions in the picture. Every move becomes, per frame, a 2 x 3 affine matrix (or, for melt,
wobble, inflate and deflate, an affine matrix and a smooth warp), and each layer is drawn with a
single ``cv2.warpAffine`` (``cv2.remap`` for the warps) straight at the output size.

Layers. A plan with only whole-picture camera moves draws one layer. A plan that moves the
subject (or dollies or orbits, which move it against the background) draws the background
plate and composites the subject over it with its feathered mask. Dolly and orbit move the two
layers by different amounts (2.5D parallax). Without separated layers, subject moves act on the
whole picture, over a blurred, darkened copy of it.

Cost. Warping costs OpenCV about 3.5 ns a pixel, blending about 1.5: on two cores shared with
x264 every pixel counts. So the subject is drawn in pieces (:meth:`_SubjectSource.layout`):
each band of its region is cut into the run it covers completely (warped straight into the
frame, no blending, and the plate not warped beneath it), the runs at its edges (blended over
the plate) and the ends where it is clear (not drawn at all). Which is which is read from where
each cell's pixels come from in the subject layer, counting every pixel bilinear interpolation
may read, so the frames are those of blending the whole region. A frame whose subject is drawn
exactly as in the one before (the subject of a dolly zoom) reuses its warped pieces; a still
plate is warped once and copied. Pictures are warped as RGBA, which OpenCV does faster than RGB.

Room for camera moves. Pans, shakes, rolls and zoom-outs would show the picture's edge. Before
the first frame, the renderer finds the smallest single zoom (about the frame's centre, the same
for every frame, so motion keeps its measured size) that keeps every frame's view inside the
picture; plans that stay inside need none. The subject layer is padded with its own edge pixels,
fading out, so a subject cut by the picture's border (a bust) keeps a body when it is lifted or
shrunk.

Oscillating moves (shake, wobble, jiggle, pulse, sway, and the hops of bounce and bob of float)
swing ``frequency`` times over the clip (a per-second default when 0). Their easing shapes the
swing's strength over the move: ``ease_out``, ``overshoot``, ``elastic`` and ``bounce`` start
strong and die away (an impact), ``ease_in`` and ``anticipate`` build up, the others hold steady;
all fade in and out so nothing pops.

Sign conventions: pan + moves the view right (the picture slides left), tilt + moves the view
down, roll + turns the camera counter-clockwise (the picture turns clockwise), spin + turns the
subject counter-clockwise, sway + and wobble + lean the subject's top to the right.

Encoding (reelsmith.media.encode) streams raw RGB frames into ffmpeg through a pipe from a writer thread, so
the next frame is rendered while the last one is written and encoded; the clip is never held in
memory. Audio joins in a second pass that copies the video, cut to the video's exact length.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from reelsmith.media.encode import EncodeError, encode_frames, put_audio
from reelsmith.pipelines.image2video.canvas import backdrop
from reelsmith.pipelines.image2video.easing import ease
from reelsmith.pipelines.image2video.layers import SubjectLayers, with_alpha
from reelsmith.pipelines.image2video.plan import SUBJECT_MOVES, MotionPlan, Move

Role = Literal["whole", "plate", "subject"]

# Swings per second for oscillating moves whose plan gives no frequency.
_DEFAULT_RATE = {
    "shake": 6.0,
    "wobble": 2.5,
    "jiggle": 5.0,
    "pulse": 1.2,
    "sway": 0.5,
    "bounce": 1.2,
    "float": 0.4,
}
_DECAYING = frozenset({"ease_out", "overshoot", "elastic", "bounce"})
_BUILDING = frozenset({"ease_in", "anticipate"})
_SWING_FADE = 0.1
_IMPACT_ATTACK = 0.03

# Parallax. A dolly scales the plate by this power of the subject's scale; an orbit slides each
# layer by this many frame widths times the sine of the angle (the background against the
# subject).
_PLATE_DOLLY = 0.4
_ORBIT_SLIDE: dict[Role, float] = {"whole": -0.3, "plate": -0.35, "subject": 0.08}
_SHAKE_ROLL = 25.0  # degrees of roll per unit of shake amount: a hand-held camera also twists
_MAX_COVER_ZOOM = 3.0

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

__all__ = ["EncodeError", "encode", "render_frames"]

# --- frames ---------------------------------------------------------------------------------


def render_frames(
    picture: np.ndarray,
    plan: MotionPlan,
    size: tuple[int, int],
    fps: int,
    seconds: int,
    layers: SubjectLayers | None,
) -> Iterator[np.ndarray]:
    """Yield the clip's ``fps * seconds`` frames, each (height, width, 3) uint8 RGB of ``size``.

    ``picture`` is the fitted picture (``canvas.fit_picture``), any size of the frame's aspect;
    ``layers`` its subject separation (``layers.separate_subject``), used by plans that move the
    subject. Frames are computed one at a time, as they are asked for.
    """
    if fps <= 0 or seconds <= 0 or min(size) <= 0:
        raise ValueError(f"a clip needs a size, fps and seconds, got {size}, {fps}, {seconds}")
    count = fps * seconds
    times = np.linspace(0.0, 1.0, count) if count > 1 else np.zeros(1)
    stage = _Stage.build(picture, size, seconds, plan.seed)
    if not _layered(plan):
        return _single_layer_frames(picture, plan, stage, times)
    return _layered_frames(picture, plan, stage, times, layers)


def _layered(plan: MotionPlan) -> bool:
    return any(move.kind in SUBJECT_MOVES or move.kind in ("dolly", "orbit") for move in plan.moves)


@dataclass(frozen=True)
class _Stage:
    """Sizes, the rest view and the clip's length: what every move needs to become a matrix."""

    frame: tuple[int, int]
    picture: tuple[int, int]
    rest: np.ndarray  # 3 x 3, picture pixels to frame pixels
    seconds: int
    seed: int

    @classmethod
    def build(cls, picture: np.ndarray, size: tuple[int, int], seconds: int, seed: int) -> _Stage:
        height, width = picture.shape[:2]
        scale = max(size[0] / width, size[1] / height)
        rest = np.array(
            [[scale, 0.0, (size[0] - scale * width) / 2], [0.0, scale, (size[1] - scale * height) / 2], [0, 0, 1]]
        )
        return cls(frame=size, picture=(width, height), rest=rest, seconds=seconds, seed=seed)

    def frame_point(self, target: tuple[float, float] | None) -> tuple[float, float]:
        x, y = target if target is not None else (0.5, 0.5)
        return x * self.frame[0], y * self.frame[1]


def _single_layer_frames(
    picture: np.ndarray, plan: MotionPlan, stage: _Stage, times: np.ndarray
) -> Iterator[np.ndarray]:
    cameras = _camera_matrices(plan, times, stage, "whole")
    matrices = _with_room(cameras @ stage.rest, stage)
    source = cv2.cvtColor(picture, cv2.COLOR_RGB2RGBA)
    scratch = np.empty((stage.frame[1], stage.frame[0], 4), np.uint8)
    frame = picture
    for index, matrix in enumerate(matrices):
        frame = frame.copy() if _held(index, matrices) else _warp(source, matrix, stage.frame, scratch)
        yield frame


def _layered_frames(
    picture: np.ndarray, plan: MotionPlan, stage: _Stage, times: np.ndarray, layers: SubjectLayers | None
) -> Iterator[np.ndarray]:
    layers = layers if layers is not None else _picture_as_subject(picture)
    subject = _SubjectSource.build(layers)
    plate_cameras = _camera_matrices(plan, times, stage, "plate")
    plate_matrices = _with_room(plate_cameras @ stage.rest, stage)
    # The plate's room zoom applies to the subject too, or the two would drift apart.
    room = plate_matrices @ np.linalg.inv(plate_cameras @ stage.rest)
    poses = _subject_poses(plan, times, stage, subject)
    subject_matrices = room @ _camera_matrices(plan, times, stage, "subject") @ stage.rest @ poses.matrices
    scratch = _Scratch(stage.frame)
    plate = _Plate(layers.plate, plate_matrices, stage.frame, scratch.layer)
    warps = poses.warps
    # Frames whose subject is drawn exactly like the one before (a dolly zoom: the background
    # moves, the subject holds) reuse its warped pieces.
    still = _subject_still(subject_matrices, warps)
    kept_layout: _Layout | None = None
    kept_pieces: list[np.ndarray] | None = None
    frame = picture
    for index in range(len(times)):
        if _held(index, plate_matrices, subject_matrices, warps.bend, warps.melt, warps.bulge):
            frame = frame.copy()
        else:
            reuse = still[index] and kept_layout is not None
            if reuse:
                layout = kept_layout
            else:
                layout = subject.layout(stage.frame, subject_matrices[index], poses.warp(index), plate.moves(index))
            frame = plate.frame(index, layout.holes if layout is not None else ())
            keep = index + 1 < len(times) and still[index + 1]
            pieces = None
            if layout is not None:
                pieces = subject.draw(frame, layout, scratch, kept_pieces if reuse else None, keep)
            kept_layout, kept_pieces = (layout, pieces) if keep else (None, None)
        yield frame


def _subject_still(matrices: np.ndarray, warps: _Warps) -> list[bool]:
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

    def frame(self, index: int, holes: Sequence[_Box] = ()) -> np.ndarray:
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


_Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in frame pixels, right and bottom exclusive


def _around(holes: Sequence[_Box], width: int, height: int) -> Iterator[_Box]:
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


def _warp_into(image: np.ndarray, matrix: np.ndarray, frame: np.ndarray, box: _Box, scratch: np.ndarray) -> None:
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


def _picture_as_subject(picture: np.ndarray) -> SubjectLayers:
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


# --- timing ---------------------------------------------------------------------------------


def _progress(move: Move, times: np.ndarray) -> np.ndarray:
    return np.clip((times - move.start) / (move.end - move.start), 0.0, 1.0)


def _eased(move: Move, times: np.ndarray) -> np.ndarray:
    """The move's eased level per frame: 0 before it starts, 1 after it ends (more or less between)."""
    return ease(move.easing, _progress(move, times))


def _cycles(move: Move, times: np.ndarray, seconds: int) -> np.ndarray:
    """How many swings the move has made by each frame."""
    per_clip = move.frequency if move.frequency > 0 else _DEFAULT_RATE.get(move.kind, 1.0) * seconds
    return per_clip * np.clip(times - move.start, 0.0, move.end - move.start)


def _envelope(move: Move, times: np.ndarray) -> np.ndarray:
    """The strength of an oscillating move per frame, 0 outside it (see the module docstring)."""
    progress = _progress(move, times)
    inside = (times >= move.start) & (times <= move.end)
    attack = _IMPACT_ATTACK if move.easing in _DECAYING else _SWING_FADE
    fade = _smoothstep(progress / attack) * _smoothstep((1.0 - progress) / _SWING_FADE)
    if move.easing in _DECAYING:
        shape = (1.0 - progress) ** 2
    elif move.easing in _BUILDING:
        shape = progress**2
    else:
        shape = np.ones_like(progress)
    return np.where(inside, fade * shape, 0.0)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _smooth_noise(rng: np.random.Generator, positions: np.ndarray) -> np.ndarray:
    """Value noise in [-1, 1]: random values at whole positions, smoothly joined."""
    knots = rng.uniform(-1.0, 1.0, int(np.max(positions, initial=0.0)) + 2)
    whole = np.floor(positions).astype(int)
    blend = _smoothstep(positions - whole)
    return knots[whole] * (1.0 - blend) + knots[whole + 1] * blend


# --- matrices -------------------------------------------------------------------------------


def _identity(count: int) -> np.ndarray:
    return np.tile(np.eye(3), (count, 1, 1))


def _translate(dx: np.ndarray | float, dy: np.ndarray | float, count: int) -> np.ndarray:
    matrices = _identity(count)
    matrices[:, 0, 2] = dx
    matrices[:, 1, 2] = dy
    return matrices


def _about(point: tuple[float, float], linear: np.ndarray) -> np.ndarray:
    """Per-frame 2 x 2 ``linear`` maps, applied about ``point`` (which stays where it is)."""
    count = len(linear)
    matrices = _identity(count)
    matrices[:, :2, :2] = linear
    offset = np.asarray(point) - linear @ np.asarray(point)
    matrices[:, :2, 2] = offset
    return matrices


def _scaling(sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    linear = np.zeros((len(sx), 2, 2))
    linear[:, 0, 0] = sx
    linear[:, 1, 1] = sy
    return linear


def _affine_inverse(matrix: np.ndarray) -> np.ndarray:
    """The inverse of one 3 x 3 affine matrix, worked out directly: NumPy's LAPACK call costs
    up to a millisecond a frame when its threads compete with the encoder's."""
    (a, b, c), (d, e, f) = matrix[0], matrix[1]
    det = a * e - b * d
    return np.array(
        [[e / det, -b / det, (b * f - c * e) / det], [-d / det, a / det, (c * d - a * f) / det], [0.0, 0.0, 1.0]]
    )


def _rotation(degrees: np.ndarray) -> np.ndarray:
    # Image rows grow downwards, so this turns counter-clockwise as seen for positive angles.
    radians = np.radians(degrees)
    cos, sin = np.cos(radians), np.sin(radians)
    return np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)


def _shearing(lean: np.ndarray) -> np.ndarray:
    """x moves right by ``lean`` per pixel *above* the anchor."""
    linear = _scaling(np.ones_like(lean), np.ones_like(lean))
    linear[:, 0, 1] = -lean
    return linear


# --- camera ---------------------------------------------------------------------------------


def _camera_matrices(plan: MotionPlan, times: np.ndarray, stage: _Stage, role: Role) -> np.ndarray:
    """Per-frame camera transforms of one layer, in frame pixels (applied after the rest view)."""
    matrices = _identity(len(times))
    for index, move in enumerate(plan.moves):
        step = _camera_step(move, index, times, stage, role)
        if step is not None:
            matrices = step @ matrices
    return matrices


def _camera_step(move: Move, index: int, times: np.ndarray, stage: _Stage, role: Role) -> np.ndarray | None:
    width, height = stage.frame
    count = len(times)
    centre = (width / 2, height / 2)
    kind = move.kind
    if kind in ("zoom", "dolly"):
        power = _PLATE_DOLLY if kind == "dolly" and role == "plate" else 1.0
        scale = max(move.amount, 1e-3) ** (_eased(move, times) * power)
        return _about(stage.frame_point(move.target), _scaling(scale, scale))
    if kind == "pan":
        return _translate(-move.amount * (_eased(move, times) - 0.5) * width, 0.0, count)
    if kind == "tilt":
        return _translate(0.0, -move.amount * (_eased(move, times) - 0.5) * height, count)
    if kind == "roll":
        return _about(centre, _rotation(-move.amount * _eased(move, times)))
    if kind == "orbit":
        angle = np.radians(move.amount * (_eased(move, times) - 0.5))
        return _translate(_ORBIT_SLIDE[role] * np.sin(angle) * width, 0.0, count)
    if kind == "shake":
        return _shake(move, index, times, stage)
    return None


def _shake(move: Move, index: int, times: np.ndarray, stage: _Stage) -> np.ndarray:
    # The plan's seed and the move's place in it pick the noise: the same plan shakes the same.
    rng = np.random.default_rng([stage.seed, index])
    positions = 2.0 * _cycles(move, times, stage.seconds)
    strength = move.amount * _envelope(move, times)
    reach = strength * min(stage.frame)
    dx, dy, turn = (_smooth_noise(rng, positions) for _ in range(3))
    centre = (stage.frame[0] / 2, stage.frame[1] / 2)
    return _translate(reach * dx, reach * dy, len(times)) @ _about(centre, _rotation(_SHAKE_ROLL * strength * turn))


def _with_room(matrices: np.ndarray, stage: _Stage) -> np.ndarray:
    """``matrices`` (picture to frame), zoomed just enough that no frame sees past the picture."""
    zoom = _room_zoom(matrices, stage)
    if zoom == 1.0:
        return matrices
    centre = (stage.frame[0] / 2, stage.frame[1] / 2)
    room = _about(centre, _scaling(np.array([zoom]), np.array([zoom])))
    return room @ matrices


def _room_zoom(matrices: np.ndarray, stage: _Stage) -> float:
    width, height = stage.frame
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], dtype=float).T
    centre = np.array([width / 2, height / 2])
    inverse = np.linalg.inv(matrices)

    def fits(zoom: float) -> bool:
        # Zooming about the frame's centre pulls every corner towards it by 1 / zoom.
        pulled = corners.copy()
        pulled[:2] = centre[:, None] + (corners[:2] - centre[:, None]) / zoom
        seen = inverse @ pulled
        tolerance = 0.5
        return bool(
            (seen[:, 0] >= -tolerance).all()
            and (seen[:, 1] >= -tolerance).all()
            and (seen[:, 0] <= stage.picture[0] + tolerance).all()
            and (seen[:, 1] <= stage.picture[1] + tolerance).all()
        )

    if fits(1.0):
        return 1.0
    if not fits(_MAX_COVER_ZOOM):
        return _MAX_COVER_ZOOM
    low, high = 1.0, _MAX_COVER_ZOOM
    for _ in range(30):
        middle = (low + high) / 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


# --- subject --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Warps:
    """Per-frame strengths of the smooth (non-affine) subject warps, in picture pixels."""

    base: tuple[float, float]
    centre: tuple[float, float]
    subject_size: tuple[float, float]
    bend: np.ndarray  # the top's sideways offset, in pixels (wobble)
    melt: np.ndarray  # share of the height that has sagged (melt)
    bulge: np.ndarray  # magnification at the centre, minus 1 (inflate; negative pinches for deflate)
    drips: np.ndarray  # per-column extra sag, 0 to 1, on a fixed grid across the subject

    def active(self, index: int) -> bool:
        return bool(self.bend[index] or self.melt[index] or self.bulge[index])

    def inverse(self, index: int, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where in the unwarped subject each warped point ``(xs, ys)`` comes from."""
        base_x, base_y = self.base
        width, height = self.subject_size
        if self.bulge[index]:
            xs, ys = self._unbulge(self.bulge[index], xs, ys)
        if self.melt[index]:
            above = np.clip((base_y - ys) / height, 0.0, None)
            spread = 1.0 + 0.6 * self.melt[index] * np.clip(1.0 - above, 0.0, 1.0) ** 2
            xs = base_x + (xs - base_x) / spread
            columns = np.clip((xs - (base_x - width / 2)) / width, 0.0, 1.0) * (len(self.drips) - 1)
            drip = np.interp(columns, np.arange(len(self.drips)), self.drips)
            sag = np.clip(1.0 - self.melt[index] * (0.7 + 0.3 * drip), 0.12, 1.0)
            ys = base_y - (base_y - ys) / sag
        if self.bend[index]:
            above = np.clip((base_y - ys) / height, 0.0, None)
            xs = xs - self.bend[index] * above**1.5
        return xs, ys

    def reach(self, index: int) -> float:
        """How far (picture pixels) the warps may move any point of the subject outwards."""
        bend = abs(self.bend[index])
        spread = 0.3 * self.melt[index] * self.subject_size[0]
        bulge = 0.1 * max(self.bulge[index], 0.0) * max(self.subject_size)
        return float(max(bend, spread, bulge)) + 2.0

    def _unbulge(self, strength: float, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        centre_x, centre_y = self.centre
        radius = 0.6 * max(self.subject_size)
        dx, dy = xs - centre_x, ys - centre_y
        falloff = np.clip(1.0 - (dx * dx + dy * dy) / (radius * radius), 0.0, 1.0) ** 2
        shrink = 1.0 / (1.0 + strength * falloff)
        return centre_x + dx * shrink, centre_y + dy * shrink


@dataclass(frozen=True)
class _Poses:
    matrices: np.ndarray  # per frame, 3 x 3, in picture pixels (applied before the rest view)
    warps: _Warps

    def warp(self, index: int) -> tuple[_Warps, int] | None:
        return (self.warps, index) if self.warps.active(index) else None


def _subject_poses(plan: MotionPlan, times: np.ndarray, stage: _Stage, subject: _SubjectSource) -> _Poses:
    count = len(times)
    matrices = _identity(count)
    bend, melt, bulge = np.zeros(count), np.zeros(count), np.zeros(count)
    for move in plan.moves:
        if move.kind not in SUBJECT_MOVES:
            continue
        anchors = subject.anchors(move.target, stage)
        step, extra = _subject_step(move, times, stage, anchors)
        matrices = step @ matrices
        bend += extra.get("bend", 0.0)
        melt += extra.get("melt", 0.0)
        bulge += extra.get("bulge", 0.0)
    left, top, right, bottom = subject.bbox
    base_anchor = subject.anchors(None, stage)
    rng = np.random.default_rng([stage.seed, 7])
    warps = _Warps(
        base=base_anchor.base,
        centre=base_anchor.centre,
        subject_size=(float(right - left), float(bottom - top)),
        bend=bend,
        melt=np.clip(melt, 0.0, 1.0),
        bulge=np.clip(bulge, -0.6, 2.0),
        drips=_smooth_noise(rng, np.linspace(0.0, 7.0, 64)) * 0.5 + 0.5,
    )
    return _Poses(matrices=matrices, warps=warps)


@dataclass(frozen=True)
class _Anchors:
    centre: tuple[float, float]  # picture pixels
    base: tuple[float, float]  # the subject's feet: where squashing and leaning pivot
    size: tuple[float, float]
    picture_height: float


def _subject_step(
    move: Move, times: np.ndarray, stage: _Stage, anchors: _Anchors
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One subject move's per-frame matrices (picture pixels) and smooth-warp strengths."""
    count = len(times)
    kind, amount = move.kind, move.amount
    if kind == "spin":
        return _about(anchors.centre, _rotation(360.0 * amount * _eased(move, times))), {}
    if kind in ("squish", "inflate", "deflate", "melt"):
        level = amount * _eased(move, times)
        if kind == "squish":
            squash = np.clip(1.0 - level, 0.15, None)
            return _about(anchors.base, _scaling(1.0 + 0.6 * level, squash)), {}
        if kind == "inflate":
            grow = np.clip(1.0 + level, 0.2, None)
            return _about(anchors.centre, _scaling(grow, grow)), {"bulge": 0.6 * level}
        if kind == "deflate":
            shrink = np.clip(1.0 - level, 0.15, None)
            return _about(anchors.base, _scaling(1.0 - 0.5 * level, shrink)), {"bulge": -0.4 * level}
        return _identity(count), {"melt": level}
    cycles = _cycles(move, times, stage.seconds)
    envelope = _envelope(move, times)
    swing = np.sin(2.0 * np.pi * cycles)
    if kind == "pulse":
        beat = (0.5 - 0.5 * np.cos(2.0 * np.pi * cycles)) ** 2
        grow = 1.0 + amount * envelope * beat
        return _about(anchors.centre, _scaling(grow, grow)), {}
    if kind == "wobble":
        stretch = 1.0 + 0.35 * amount * envelope * np.cos(2.0 * np.pi * cycles)
        matrices = _about(anchors.base, _scaling(1.0 / np.sqrt(stretch), stretch))
        return matrices, {"bend": amount * envelope * swing * anchors.size[1]}
    if kind == "jiggle":
        stretch = 1.0 + amount * envelope * swing
        return _about(anchors.base, _scaling(1.0 - 0.6 * (stretch - 1.0), stretch)), {}
    if kind == "sway":
        return _about(anchors.base, _shearing(amount * envelope * swing)), {}
    if kind == "bounce":
        return _bounce(amount, envelope, cycles, anchors), {}
    if kind == "float":
        level = _eased(move, times)
        bob = 0.5 - 0.5 * np.cos(2.0 * np.pi * cycles)
        lift = amount * anchors.picture_height * level * (1.0 - 0.2 * bob)
        tilt = _rotation(2.0 * level * np.sin(np.pi * cycles))
        return _translate(0.0, -lift, count) @ _about(anchors.centre, tilt), {}
    return _identity(count), {}


def _bounce(amount: float, envelope: np.ndarray, cycles: np.ndarray, anchors: _Anchors) -> np.ndarray:
    """Hops: parabolic flight, squashed on landing, stretched by speed."""
    phase = cycles - np.floor(cycles)
    lift = amount * anchors.picture_height * envelope * 4.0 * phase * (1.0 - phase)
    contact = np.clip(1.0 - np.minimum(phase, 1.0 - phase) / 0.12, 0.0, 1.0)
    speed = np.abs(1.0 - 2.0 * phase) * (1.0 - contact)
    stretch = 1.0 + envelope * (0.08 * speed - 0.22 * contact)
    shape = _about(anchors.base, _scaling(1.0 - 0.7 * (stretch - 1.0), stretch))
    return _translate(0.0, -lift, len(cycles)) @ shape


@dataclass(frozen=True)
class _SubjectSource:
    """The subject, premultiplied by its mask and padded, ready to be warped onto frames."""

    rgba: np.ndarray  # premultiplied, padded by ``pad`` on every side
    pad: int
    bbox: tuple[int, int, int, int]
    center: tuple[float, float]  # fractions of the picture
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
            bbox=layers.bbox,
            center=layers.center,
            footprint=_footprint(layers.bbox, width, height, pad),
            coverage=_Coverage.build(alpha),
        )

    def anchors(self, target: tuple[float, float] | None, stage: _Stage) -> _Anchors:
        left, top, right, bottom = self.bbox
        width, height = stage.picture
        centre = target if target is not None else self.center
        centre_px = (centre[0] * width, centre[1] * height)
        return _Anchors(
            centre=centre_px,
            base=(centre_px[0], float(bottom)),
            size=(float(right - left), float(bottom - top)),
            picture_height=float(height),
        )

    def layout(
        self, size: tuple[int, int], matrix: np.ndarray, warp: tuple[_Warps, int] | None, plate_moves: bool
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
        placed = matrix @ _translate(-self.pad, -self.pad, 1)[0]  # padded-source pixels to frame pixels
        columns = math.ceil((x1 - x0) / _WARP_STEP)
        rows = math.ceil((y1 - y0) / _WARP_STEP)
        offset = (_WARP_STEP - 1) / 2
        maps = None
        if warp is None:
            # The source positions of a grid of points one _WARP_STEP apart, one more on every
            # side so that the grid's hull holds every pixel of the region.
            grid_x = x0 + offset + _WARP_STEP * np.arange(-1, columns + 1)
            grid_y = y0 + offset + _WARP_STEP * np.arange(-1, rows + 1)
            inverse = _affine_inverse(placed)
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
        kept = [] if keep else None
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

    def _region(
        self, shape: tuple[int, ...], matrix: np.ndarray, warp: tuple[_Warps, int] | None
    ) -> tuple[int, int, int, int] | None:
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

    def _warp_grid(
        self, matrix: np.ndarray, roi: tuple[int, int, int, int], warp: tuple[_Warps, int]
    ) -> tuple[np.ndarray, np.ndarray]:
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
        inverse = _affine_inverse(matrix)
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
    holes: list[_Box]  # the fully covered pieces, where the plate need not be drawn


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
    kinds: np.ndarray, roi: tuple[int, int, int, int], band_height: int, cell_width: int, plate_moves: bool
) -> tuple[list[tuple[int, int, int, int, bool]], list[_Box]]:
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
    holes: list[_Box] = []
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
    return np.round(255.0 * _smoothstep(1.0 - np.clip(outside, 0.0, None) / pad)).astype(np.uint8)


def _footprint(bbox: tuple[int, int, int, int], width: int, height: int, pad: int) -> np.ndarray:
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


# --- encoding -------------------------------------------------------------------------------


def encode(
    frames: Iterable[np.ndarray],
    size: tuple[int, int],
    fps: int,
    out_path: Path,
    audio_path: Path | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> None:
    """Encode ``frames`` (uint8 RGB of ``size``) as an H.264 MP4 at ``out_path``, every frame kept.

    With ``audio_path``, its first audio stream is encoded as AAC, cut (or padded with silence)
    to exactly the video's length. ``on_frame(n)`` is called after the n-th frame was handed to
    the encoder; an exception from it (a cancellation) stops ffmpeg and removes the partial file.
    Raises :class:`EncodeError` when ffmpeg fails.
    """
    out_path = Path(out_path)
    if audio_path is None:
        encode_frames(frames, size, fps, out_path, on_frame)
        return
    # The video's length is known only once the last frame is in: the audio joins in a second,
    # copying pass (see reelsmith.media.encode).
    silent = out_path.with_name(f".{out_path.stem}.video{out_path.suffix}")
    try:
        count = encode_frames(frames, size, fps, silent, on_frame)
        put_audio(silent, Path(audio_path), count / fps, out_path)
    finally:
        silent.unlink(missing_ok=True)
