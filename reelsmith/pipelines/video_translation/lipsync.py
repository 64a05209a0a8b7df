"""Lip-sync: the speaker's mouth moved to the new speech on the source's own frames.

**Tracking** (first pass). The video is decoded at most 480 pixels on the short side (the face
mesh model looks at a 192-pixel crop of the face whatever the size) and the face followed
through it (``reelsmith.faces.tracking``: MediaPipe face mesh); its raw landmarks, scaled to the
output size, are used.

**The speaker's own mouth** (:class:`MouthModel`). Each frame's landmarks are brought into the
first face frame's place by the similarity that fits the upper face (forehead, eye corners,
nose: points that speech does not move), so head motion is taken out. In that frame, the
neutral mouth is the median shape over the frames where the lips are closest (the lowest fifth
of the inner lips' gap): the speaker's own closed, relaxed mouth. How wide the speaker opens
(the 95th percentile of the gap over the neutral's) sets the scale of the visemes' opening,
within bounds, so a mumbler is not made to shout.

**Moving the mouth** (per frame). The viseme targets (``visemes.py``: opening, width,
rounding) say what the mouth should be; the frame's own landmarks say what it is. The
difference moves the lower-face mesh points, each by displacement fields worked out once on
the neutral mouth in the mouth's own axes:
- opening: the lower lip and the jaw drop (the chin by about 0.6 of the lips' gap, fading
  towards the jaw's hinges), the upper lip lifts a little, both less towards the corners so the
  opening is an oval; each pair of inner-lip points is set to exactly its wanted gap, so lips
  that are apart in the picture do meet where the new speech closes them;
- width: the lips spread or narrow, fading into the cheeks;
- rounding: the lips narrow further and thicken (pushed forward).
The upper face and every point above the nose stay where they are filmed, as does a ring of
points around the jaw in the neck: only the lower face between them is warped
(piecewise-affine over the face mesh's own triangles, the mouth's gap triangulated too), inside
its box of the frame. Its edge is the unmoved ring and upper face, so it joins the frame with no
seam and nothing else of the frame changes. Where the new mouth is open wider than the
picture's, a mouth interior is drawn (``reelsmith.faces.mouth``), shaded to the face's light.

Frames without a face are passed on untouched. Output frames follow the output's timeline: where
the picture is held (``dynamic_duration``), the held frame is repeated and its mouth goes on
speaking.

Limits: one face is moved (the largest, followed through the video), whoever speaks; a face
turned far to the side is warped as seen, with no knowledge of the profile; teeth and tongue
are drawn, not the speaker's own.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reelsmith.faces.landmarks import (
    FACE_OVAL,
    INNER_LIPS,
    LOWER_LIP_INNER,
    OUTER_LIPS,
    UPPER_LIP_INNER,
    mesh_triangles,
)
from reelsmith.faces.mesh_warp import mesh_map
from reelsmith.faces.mouth import draw_mouth, mouth_opening, skin_around_mouth
from reelsmith.faces.similarity import Similarity
from reelsmith.faces.tracking import FaceTrack
from reelsmith.media.decode import read_frames
from reelsmith.media.probe import probe
from reelsmith.pipelines.video_translation.assemble import rendered_picture
from reelsmith.pipelines.video_translation.timing import Timeline
from reelsmith.pipelines.video_translation.visemes import MouthTrack

ENGINE = "reelsmith-visemes"
# Faces are tracked on frames at most this size on the short side.
TRACK_SHORT_SIDE = 480
# Points that speech does not move: forehead and temples on the face's outline, eye corners,
# the nose's ridge and tip.
_UPPER_RIGID = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 234, 127, 162, 21, 54, 103, 67, 109,
    33, 133, 362, 263, 1, 4, 5, 6, 168, 197, 195,
)  # fmt: skip
_NOSE_BOTTOM = 2
_UPPER_LIP_TOP = 0
_CHIN = 152
_CORNERS_OUTER = (61, 291)
_CORNERS_INNER = (78, 308)
_EYES = (33, 263)
# Inner lips as (upper, lower) pairs facing each other, corner to corner.
_UPPER_INNER = INNER_LIPS[1:10]
_LOWER_INNER = tuple(reversed(INNER_LIPS[11:]))[:9]
_UPPER_OUTER = OUTER_LIPS[1:10]
_LOWER_OUTER = tuple(reversed(OUTER_LIPS[11:]))[:9]
# The lowest share of frames by lip gap that makes the neutral mouth.
_CLOSED_SHARE = 0.2
# The viseme opening 1 is this many eye distances of inner-lip gap, the speaker's own range
# bounded to these values.
_OPEN_MIN, _OPEN_MAX = 0.14, 0.28
# Share of a gap change taken by the upper lip (the rest by the lower lip and jaw), and the
# chin's share.
_UPPER_SHARE = 0.15
_CHIN_SHARE = 0.6
# Mouth width change per unit of viseme width, and rounding's extra narrowing, as shares of
# the neutral width; rounding's thickening of the lips, in eye distances.
_SPREAD = 0.12
_ROUND_NARROW = 0.15
_ROUND_THICKEN = 0.03
# A point whose largest move is under this many eye distances is not moved at all.
_STILL = 0.006
# Closing lips are moved this share further than the measured gap.
_CLOSE_OVERSHOOT = 0.25
# The ring around the jaw: this share of the centre-to-outline distance beyond the outline.
_RING_OUT = 0.5
_WARP_STEP = 2
_PROGRESS_EVERY = 10


@dataclass(frozen=True)
class LipsyncReport:
    """What the lip-sync did, for the task's report."""

    frames: int
    frames_with_face: int
    source: str

    def as_dict(self) -> dict[str, object]:
        return {
            "engine": ENGINE,
            "frames_with_face": self.frames_with_face,
            "frames": self.frames,
            "source": self.source,
        }


def track_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size faces are tracked at for an output of ``size``: at most
    :data:`TRACK_SHORT_SIDE` on the short side, even sides."""
    width, height = size
    scale = min(1.0, TRACK_SHORT_SIDE / min(width, height))
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def track_faces(
    frames: Iterator[np.ndarray], size: tuple[int, int], fps: float, on_frame: Callable[[int], None] | None = None
) -> list[np.ndarray | None]:
    """The followed face's landmarks on each of ``frames`` (any size), in pixels of ``size``
    (478 x 3), or None where there is none. The tracker's raw landmarks, not its smoothed
    ones: the warp must move the lips from where they are on this very frame, and smoothing
    lags a talking mouth by a frame or two (measured: the output's mouth followed the new
    speech at 0.64 with smoothed landmarks, 0.72 with raw ones)."""
    faces: list[np.ndarray | None] = []
    with FaceTrack(fps) as track:
        for frame in frames:
            found = track.next(frame)
            if found is None:
                faces.append(None)
            else:
                scale = np.array([size[0] / frame.shape[1], size[1] / frame.shape[0]], dtype=np.float32)
                points = found.raw.astype(np.float32).copy()
                points[:, :2] *= scale
                points[:, 2] *= scale[0]
                faces.append(points)
            if on_frame is not None:
                on_frame(len(faces))
    return faces


def output_frames(source_count: int, fps: float, timeline: Timeline) -> np.ndarray:
    """For each output frame, the source frame it shows: all of them in order, the frame just
    before each hold repeated for the hold's length."""
    indices: list[int] = []
    cursor = 0
    for at, seconds in timeline.holds:
        cut = min(max(math.ceil(at * fps - 1e-6), cursor), source_count)
        indices += range(cursor, cut)
        indices += [max(cut - 1, 0)] * int(round(seconds * fps))
        cursor = cut
    indices += range(cursor, source_count)
    return np.array(indices, dtype=np.int64)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True)
class _Frame:
    """One frame's face in the model's terms."""

    to_frame: Similarity  # reference coordinates to frame pixels
    points: np.ndarray  # 478 x 2, reference coordinates


class MouthModel:
    """The speaker's mouth, learned from every frame that shows the face; :meth:`render`
    moves it on one frame."""

    def __init__(self, faces: Sequence[np.ndarray | None], size: tuple[int, int]) -> None:
        seen = [face[:, :2].astype(np.float64) for face in faces if face is not None]
        if not seen:
            raise ValueError("no face to learn a mouth from")
        self.size = size
        self.reference = seen[0][list(_UPPER_RIGID)]
        normalised = np.stack([self._frame(points).points for points in seen])
        eye = float(np.median(np.linalg.norm(normalised[:, _EYES[1]] - normalised[:, _EYES[0]], axis=1)))
        self.eye = max(eye, 1e-3)
        gaps = np.linalg.norm(normalised[:, LOWER_LIP_INNER] - normalised[:, UPPER_LIP_INNER], axis=1) / self.eye
        closed = gaps <= np.quantile(gaps, _CLOSED_SHARE)
        neutral = np.median(normalised[closed], axis=0)
        self.neutral = neutral
        self.gap = float(np.median(gaps[closed]))
        self.open_scale = float(np.clip(np.quantile(gaps, 0.95) - self.gap, _OPEN_MIN, _OPEN_MAX))
        widths = np.linalg.norm(normalised[:, _CORNERS_OUTER[1]] - normalised[:, _CORNERS_OUTER[0]], axis=1) / self.eye
        self.width = float(np.median(widths[closed]))
        self._axes(neutral)
        self._fields(neutral)
        self._mesh(neutral)

    # --- set-up ----------------------------------------------------------------------------

    def _frame(self, points: np.ndarray) -> _Frame:
        to_frame = Similarity.fit(self.reference, points[list(_UPPER_RIGID)])
        return _Frame(to_frame, to_frame.inverse().apply(points))

    def _axes(self, neutral: np.ndarray) -> None:
        along = neutral[_EYES[1]] - neutral[_EYES[0]]
        along /= max(float(np.linalg.norm(along)), 1e-9)
        down = np.array([-along[1], along[0]])
        centre = (neutral[UPPER_LIP_INNER] + neutral[LOWER_LIP_INNER]) / 2.0
        if float((neutral[_CHIN] - centre) @ down) < 0:
            down = -down
        self.along, self.down, self.centre = along, down, centre
        # Every point in the mouth's axes, in eye distances: u across, v down from the lips.
        self.uv = np.stack([(neutral - centre) @ along, (neutral - centre) @ down], axis=1) / self.eye

    def _fields(self, neutral: np.ndarray) -> None:
        uv = self.uv
        u, v = uv[:, 0], uv[:, 1]
        cut = v[_NOSE_BOTTOM] + 0.02
        oval_u = np.abs(u[list(FACE_OVAL)])
        face_half = float(max(oval_u[v[list(FACE_OVAL)] > cut].max(initial=0.0), 1e-3))
        moving = np.flatnonzero((v > cut) & (np.abs(u) < face_half * 1.02))
        self.moving = moving
        half = (abs(u[_CORNERS_OUTER[0]]) + abs(u[_CORNERS_OUTER[1]])) / 2.0
        inner_half = (abs(u[_CORNERS_INNER[0]]) + abs(u[_CORNERS_INNER[1]])) / 2.0
        self.inner_half = max(inner_half, 1e-3)
        # The mouth's line: the middle of each inner-lip pair, corner to corner.
        line_points = [_CORNERS_INNER[0], *zip(_UPPER_INNER, _LOWER_INNER, strict=True), _CORNERS_INNER[1]]
        line_u, line_v = [], []
        for item in line_points:
            pair = item if isinstance(item, tuple) else (item, item)
            line_u.append(float(uv[list(pair), 0].mean()))
            line_v.append(float(uv[list(pair), 1].mean()))
        order = np.argsort(line_u)
        mu, mv = uv[moving, 0], uv[moving, 1]
        side = mv - np.interp(mu, np.array(line_u)[order], np.array(line_v)[order])
        band = 0.02 + 0.5 * np.maximum(np.abs(mu) - half, 0.0)
        lower = _smoothstep(side / (2 * band) + 0.5)
        members = {int(index): share for index, share in (
            *((i, 0.0) for i in (*_UPPER_INNER, *_UPPER_OUTER)),
            *((i, 1.0) for i in (*_LOWER_INNER, *_LOWER_OUTER)),
            *((i, 0.5) for i in (*_CORNERS_INNER, *_CORNERS_OUTER)),
        )}  # fmt: skip
        for row, index in enumerate(moving):
            if int(index) in members:
                lower[row] = members[int(index)]
        # Less opening towards the corners (an oval), a little at the corners themselves.
        oval = np.sqrt(np.clip(1.0 - (mu / max(half, 1e-3)) ** 2, 0.0, 1.0))
        profile = np.where(np.abs(mu) <= half, 0.3 + 0.7 * oval, 0.3 * np.exp(-(((np.abs(mu) - half) / 0.25) ** 2)))
        jaw_falloff = np.clip(1.0 - (mu / face_half) ** 2, 0.0, 1.0)
        chin_depth = max(float(v[_CHIN]), 0.1)
        depth = _smoothstep(np.maximum(side, 0.0) / chin_depth)
        drop = jaw_falloff * ((1.0 - _UPPER_SHARE) * profile * (1.0 - depth) + _CHIN_SHARE * depth)
        lift = _UPPER_SHARE * profile * np.clip((mv - cut) / max(float(v[_UPPER_LIP_TOP]) - cut, 1e-3), 0.0, 1.0)
        open_v = lower * drop - (1.0 - lower) * lift
        # Lips spread and narrow as a whole, fading into the cheeks.
        lips = np.round(neutral[list(OUTER_LIPS)]).astype(np.float32)
        distance = np.array([
            max(-cv2.pointPolygonTest(lips, (float(x), float(y)), True), 0.0) for x, y in neutral[moving]
        ]) / self.eye  # fmt: skip
        lipness = np.exp(-((distance / 0.2) ** 2))
        width_u = 0.5 * np.clip(mu / max(half, 1e-3), -1.0, 1.0) * lipness
        thicken_v = _ROUND_THICKEN * (2.0 * lower - 1.0) * lipness * (distance > 0) + _ROUND_THICKEN * (
            2.0 * lower - 1.0
        ) * np.isin(moving, (*_UPPER_OUTER, *_LOWER_OUTER))
        # Points that would move by a negligible amount stay put, so the warp (and the one
        # ring of triangles around what moves) keeps clear of the cheekbones and the nose.
        reach = 0.5 * np.abs(open_v) + 0.25 * np.abs(width_u) + np.abs(thicken_v)
        keep = (reach >= _STILL) | np.isin(moving, (*INNER_LIPS, *OUTER_LIPS))
        moving, open_v, width_u, thicken_v = moving[keep], open_v[keep], width_u[keep], thicken_v[keep]
        self.moving = moving
        # Fields per unit, in reference pixels.
        scale = self.eye
        self.open_field = scale * open_v[:, None] * self.down
        self.width_field = scale * width_u[:, None] * self.along
        self.round_field = scale * thicken_v[:, None] * self.down
        self.pairs = np.array(list(zip(_UPPER_INNER, _LOWER_INNER, strict=True)), dtype=np.int64)
        pair_u = (uv[self.pairs[:, 0], 0] + uv[self.pairs[:, 1], 0]) / 2.0
        self.pair_oval = np.sqrt(np.clip(1.0 - (pair_u / self.inner_half) ** 2, 0.0, 1.0))
        self.pair_gap = (uv[self.pairs[:, 1], 1] - uv[self.pairs[:, 0], 1]).clip(min=0.0)
        row_of = {int(index): position for position, index in enumerate(moving)}
        self.pair_rows = np.array([[row_of[int(a)], row_of[int(b)]] for a, b in self.pairs], dtype=np.int64)

    def _mesh(self, neutral: np.ndarray) -> None:
        moving = set(self.moving.tolist())
        triangles = [t for t in mesh_triangles().tolist() if moving.intersection(t)]
        # The mouth's gap, which the face mesh leaves open.
        upper = [_CORNERS_INNER[0], *_UPPER_INNER, _CORNERS_INNER[1]]
        lower = [_CORNERS_INNER[0], *_LOWER_INNER, _CORNERS_INNER[1]]
        for index in range(len(upper) - 1):
            a, b, c, d = upper[index], upper[index + 1], lower[index + 1], lower[index]
            triangles += [list(corner) for corner in ((a, b, c), (a, c, d)) if len(set(corner)) == 3]
        # A band from the jaw's outline to a ring outside it (unmoved), so the chin can move
        # over the neck without leaving its old place showing.
        oval = list(FACE_OVAL)
        inside = [position for position, index in enumerate(oval) if index in moving]
        arc: list[int] = []
        if inside:
            # The moving stretch of the closed outline, with one unmoved point at each end.
            start = next(p for p in inside if (p - 1) % len(oval) not in inside)
            position = (start - 1) % len(oval)
            arc.append(oval[position])
            while True:
                position = (position + 1) % len(oval)
                arc.append(oval[position])
                if oval[position] not in moving or len(arc) > len(oval):
                    break
        self.arc = np.array(arc, dtype=np.int64)
        first_ring = 478
        for index in range(len(arc) - 1):
            a, b = arc[index], arc[index + 1]
            ra, rb = first_ring + index, first_ring + index + 1
            triangles += [[a, b, ra], [b, rb, ra]]
        self.triangles = np.array(triangles, dtype=np.int32)

    # --- per frame -------------------------------------------------------------------------

    def targets(self, points: np.ndarray, mouth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the mesh is on a frame (``points`` 478 x 2+ pixels, plus the ring) and where
        it goes for the ``mouth`` targets (opening, width, rounding): two (478 + ring) x 2
        arrays in frame pixels."""
        frame = self._frame(points[:, :2].astype(np.float64))
        q = frame.points
        opening, width, rounding = (float(value) for value in mouth)
        gap_now = float((q[LOWER_LIP_INNER] - q[UPPER_LIP_INNER]) @ self.down) / self.eye
        change = self.gap + opening * self.open_scale - gap_now
        width_now = float(np.linalg.norm(q[_CORNERS_OUTER[1]] - q[_CORNERS_OUTER[0]])) / self.eye
        width_change = self.width * (1.0 + _SPREAD * width - _ROUND_NARROW * rounding) - width_now
        moved = q[self.moving] + change * self.open_field + width_change * self.width_field
        moved += rounding * self.round_field
        # Each inner-lip pair to its exact gap: an oval, rounder when the lips are rounded.
        gaps_now = ((q[self.pairs[:, 1]] - q[self.pairs[:, 0]]) @ self.down) / self.eye
        oval = self.pair_oval ** (1.0 - 0.5 * rounding)
        pair_change = self.pair_gap + opening * self.open_scale * oval - gaps_now
        # The face mesh places the inner lips short of a wide-open mouth's real edge: closing
        # by the measured gap alone would leave a band of the old opening showing.
        pair_change = np.where(pair_change < 0, pair_change * (1.0 + _CLOSE_OVERSHOOT), pair_change)
        upper_rows, lower_rows = self.pair_rows[:, 0], self.pair_rows[:, 1]
        moved[upper_rows] -= (change * self.open_field[upper_rows] @ self.down)[:, None] * self.down
        moved[lower_rows] -= (change * self.open_field[lower_rows] @ self.down)[:, None] * self.down
        moved[upper_rows] -= (_UPPER_SHARE * pair_change * self.eye)[:, None] * self.down
        moved[lower_rows] += ((1.0 - _UPPER_SHARE) * pair_change * self.eye)[:, None] * self.down
        source = points[:, :2].astype(np.float64)
        target = source.copy()
        target[self.moving] = frame.to_frame.apply(moved)
        ring = self._ring(source)
        return np.vstack([source, ring]), np.vstack([target, ring])

    def _ring(self, source: np.ndarray) -> np.ndarray:
        centre = source.mean(axis=0)
        outline = source[self.arc]
        ring = outline + _RING_OUT * (outline - centre)
        return np.clip(ring, 0.0, (self.size[0] - 1.0, self.size[1] - 1.0))

    def render(self, frame: np.ndarray, points: np.ndarray, mouth: np.ndarray) -> np.ndarray:
        """``frame`` (H x W x 3 uint8 RGB, of the model's size) with the face at ``points``
        (478 x 3 pixels) given the ``mouth`` targets; a new array, changed only in the lower
        face."""
        source, target = self.targets(points, mouth)
        depth = np.concatenate([points[:, 2], points[self.arc, 2]]) if points.shape[1] > 2 else None
        mapped = mesh_map(source, target, self.triangles, self.size, depth=depth, step=_WARP_STEP, in_place=True)
        output = frame.copy()
        if mapped is None:
            return output
        box = mapped.box
        read = mapped.read
        warped = cv2.remap(frame, read[..., 0], read[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        np.copyto(output[box.slices], warped, where=mapped.covered[..., None])
        face = target[:478]
        draw_mouth(output, face, mouth_opening(source[:478]), skin=skin_around_mouth(frame, face))
        return output


def lipsync_frames(
    frames: Iterator[np.ndarray],
    faces: Sequence[np.ndarray | None],
    shown: np.ndarray,
    mouths: np.ndarray,
    model: MouthModel | None,
) -> Iterator[np.ndarray]:
    """The output's frames: for output frame ``j``, source frame ``shown[j]`` of ``frames``
    (read in order) with its face (``faces``) given the mouth ``mouths[j]``; frames without a
    face are the source frames themselves, untouched."""
    current: np.ndarray | None = None
    index = -1
    for wanted, mouth in zip(shown, mouths, strict=True):
        while index < wanted:
            current = next(frames, None)
            if current is None:
                return
            index += 1
        assert current is not None
        face = faces[int(wanted)] if int(wanted) < len(faces) else None
        if face is None or model is None:
            yield current
        else:
            yield model.render(current, face, mouth)


def frames_with_face(faces: Sequence[np.ndarray | None], shown: np.ndarray) -> int:
    """How many output frames show a face (that the lip-sync moves)."""
    return int(sum(1 for index in shown if int(index) < len(faces) and faces[int(index)] is not None))


def render_lipsync(
    source: Path,
    size: tuple[int, int],
    fps: float,
    timeline: Timeline,
    mouth: MouthTrack,
    out_path: Path,
    on_progress: Callable[[float], None] | None = None,
) -> LipsyncReport:
    """The lip-synced picture of ``source`` (at ``size``, on the output's ``timeline``) with
    ``mouth``'s targets, encoded silent to ``out_path``. ``on_progress`` hears the share done:
    tracking is the first third, rendering and encoding the rest."""
    report = on_progress or (lambda _: None)
    info = probe(source)
    expected = max(1, info.frame_count)

    def on_tracked(done: int) -> None:
        if done % _PROGRESS_EVERY == 0:
            report(min(done / expected, 1.0) / 3)

    faces = track_faces(read_frames(source, track_size(size)), size, fps, on_tracked)
    shown = output_frames(len(faces), fps, timeline)
    model = MouthModel(faces, size) if any(face is not None for face in faces) else None
    frames = lipsync_frames(read_frames(source, size), faces, shown, mouth.at_frames(len(shown), fps), model)

    def on_frame(done: int) -> None:
        if done % _PROGRESS_EVERY == 0:
            report(1 / 3 + 2 / 3 * min(done / max(len(shown), 1), 1.0))

    # Frames are made at the stored size; the source's pixel shape goes with them.
    rendered_picture(frames, size, fps, out_path, on_frame, info.pixel_aspect)
    return LipsyncReport(frames=len(shown), frames_with_face=frames_with_face(faces, shown), source=mouth.source)
