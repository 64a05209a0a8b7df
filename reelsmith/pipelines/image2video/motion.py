"""Motion for Image to Video: every move of a plan as per-frame matrices.

A move's *step* gives, for every frame time, where its layer goes: a camera step a 3 x 3 matrix
in frame pixels (applied after the rest view), a subject step a :class:`Deformation` in picture
pixels (applied before it: an affine matrix, and for melt, wobble, inflate and deflate the
strengths of a smooth warp). Each kind in ``kinds.py`` names its step; ``render.py`` folds a
plan's steps together and ``compositing.py`` draws the layers where they say.

Oscillating moves (shake, wobble, jiggle, pulse, sway, and the hops of bounce and bob of float)
swing ``frequency`` times over the clip (``render.py`` gives a move without one its kind's
rate). Their easing shapes the swing's strength over the move: ``ease_out``, ``overshoot``,
``elastic`` and ``bounce`` start strong and die away (an impact), ``ease_in`` and ``anticipate``
build up, the others hold steady; all fade in and out so nothing pops.

Sign conventions: pan + moves the view right (the picture slides left), tilt + moves the view
down, roll + turns the camera counter-clockwise (the picture turns clockwise), spin + turns the
subject counter-clockwise, sway + and wobble + lean the subject's top to the right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from reelsmith.pipelines.image2video.easing import ease, smoothstep
from reelsmith.pipelines.image2video.geometry import (
    Box,
    Point,
    about,
    identity,
    rotation,
    scaling,
    shearing,
    translate,
)

if TYPE_CHECKING:
    # plan.py reads the kind table, which names the steps below: a Move is only annotated here.
    from reelsmith.pipelines.image2video.plan import Move

# The layer a camera step places: the whole picture (nothing separated), or the background
# plate and the subject of a layered plan, which parallax moves by different amounts.
Role = Literal["whole", "plate", "subject"]

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


@dataclass(frozen=True)
class Stage:
    """Sizes, the rest view and the clip's length: what every move needs to become a matrix."""

    frame: tuple[int, int]
    picture: tuple[int, int]
    rest: np.ndarray  # 3 x 3, picture pixels to frame pixels
    seconds: int
    seed: int

    @classmethod
    def build(cls, picture: np.ndarray, size: tuple[int, int], seconds: int, seed: int) -> Stage:
        """The stage of ``picture`` shown at ``size``: the rest view covers the frame, centred."""
        height, width = picture.shape[:2]
        scale = max(size[0] / width, size[1] / height)
        rest = np.array(
            [[scale, 0.0, (size[0] - scale * width) / 2], [0.0, scale, (size[1] - scale * height) / 2], [0, 0, 1]]
        )
        return cls(frame=size, picture=(width, height), rest=rest, seconds=seconds, seed=seed)

    def frame_point(self, target: Point | None) -> Point:
        """``target`` (frame fractions; None for the centre) in frame pixels."""
        x, y = target if target is not None else (0.5, 0.5)
        return x * self.frame[0], y * self.frame[1]

    @property
    def centre(self) -> Point:
        """The frame's centre in frame pixels."""
        return self.frame[0] / 2, self.frame[1] / 2


# --- timing ---------------------------------------------------------------------------------


def progress(move: Move, times: np.ndarray) -> np.ndarray:
    """How far through the move each frame is, 0 before it starts, 1 after it ends."""
    return np.clip((times - move.start) / (move.end - move.start), 0.0, 1.0)


def eased(move: Move, times: np.ndarray) -> np.ndarray:
    """The move's eased level per frame: 0 before it starts, 1 after it ends (more or less between)."""
    return ease(move.easing, progress(move, times))


def cycles(move: Move, times: np.ndarray) -> np.ndarray:
    """How many swings the move has made by each frame (``frequency`` is swings per clip)."""
    return move.frequency * np.clip(times - move.start, 0.0, move.end - move.start)


def envelope(move: Move, times: np.ndarray) -> np.ndarray:
    """The strength of an oscillating move per frame, 0 outside it (see the module docstring)."""
    share = progress(move, times)
    inside = (times >= move.start) & (times <= move.end)
    attack = _IMPACT_ATTACK if move.easing in _DECAYING else _SWING_FADE
    fade = smoothstep(share / attack) * smoothstep((1.0 - share) / _SWING_FADE)
    shape: np.ndarray
    if move.easing in _DECAYING:
        shape = (1.0 - share) ** 2
    elif move.easing in _BUILDING:
        shape = share**2
    else:
        shape = np.ones_like(share)
    return np.where(inside, fade * shape, 0.0)


def smooth_noise(rng: np.random.Generator, positions: np.ndarray) -> np.ndarray:
    """Value noise in [-1, 1]: random values at whole positions, smoothly joined."""
    knots = rng.uniform(-1.0, 1.0, int(np.max(positions, initial=0.0)) + 2)
    whole = np.floor(positions).astype(int)
    blend = smoothstep(positions - whole)
    return knots[whole] * (1.0 - blend) + knots[whole + 1] * blend


# --- camera ---------------------------------------------------------------------------------


class CameraStep(Protocol):
    """A camera kind's motion: per frame, a 3 x 3 matrix in frame pixels for the layer ``role``.

    ``index`` is the move's place in its plan (with the plan's seed, it picks random motion).
    """

    def __call__(self, move: Move, index: int, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray: ...


def zoom(move: Move, index: int, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray:
    """Scales every layer alike by ``amount`` about the target."""
    return _scale_about_target(move, times, stage, 1.0)


def dolly(move: Move, index: int, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray:
    """Like a zoom, but the plate scales less than the subject: it is further away."""
    return _scale_about_target(move, times, stage, _PLATE_DOLLY if role == "plate" else 1.0)


def _scale_about_target(move: Move, times: np.ndarray, stage: Stage, power: float) -> np.ndarray:
    scale = max(move.amount, 1e-3) ** (eased(move, times) * power)
    return about(stage.frame_point(move.target), scaling(scale, scale))


def pan(move: Move, index: int, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray:
    """Travels the view across by ``amount`` frame widths, centred on the rest view."""
    return translate(-move.amount * (eased(move, times) - 0.5) * stage.frame[0], 0.0, len(times))


def tilt(move: Move, index: int, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray:
    """Travels the view down by ``amount`` frame heights, centred on the rest view."""
    return translate(0.0, -move.amount * (eased(move, times) - 0.5) * stage.frame[1], len(times))


def roll(move: Move, index: int, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray:
    """Turns the camera by ``amount`` degrees about the frame's centre."""
    return about(stage.centre, rotation(-move.amount * eased(move, times)))


def orbit(move: Move, index: int, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray:
    """Circles the subject by ``amount`` degrees: the plate slides against the subject."""
    angle = np.radians(move.amount * (eased(move, times) - 0.5))
    return translate(_ORBIT_SLIDE[role] * np.sin(angle) * stage.frame[0], 0.0, len(times))


def shake(move: Move, index: int, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray:
    """A hand-held camera: smooth random drift and twist, ``amount`` of the short side at most."""
    # The plan's seed and the move's place in it pick the noise: the same plan shakes the same.
    rng = np.random.default_rng([stage.seed, index])
    positions = 2.0 * cycles(move, times)
    strength = move.amount * envelope(move, times)
    reach = strength * min(stage.frame)
    dx, dy, turn = (smooth_noise(rng, positions) for _ in range(3))
    return translate(reach * dx, reach * dy, len(times)) @ about(stage.centre, rotation(_SHAKE_ROLL * strength * turn))


def with_room(matrices: np.ndarray, stage: Stage) -> np.ndarray:
    """``matrices`` (picture to frame), zoomed just enough that no frame sees past the picture.

    Pans, shakes, rolls and zoom-outs would show the picture's edge. The zoom is one for the
    whole clip, about the frame's centre, so motion keeps its measured size; plans that stay
    inside the picture get none.
    """
    zoom = _room_zoom(matrices, stage)
    if zoom == 1.0:
        return matrices
    room = about(stage.centre, scaling(np.array([zoom]), np.array([zoom])))
    return room @ matrices


def _room_zoom(matrices: np.ndarray, stage: Stage) -> float:
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
class Anchors:
    """The points a subject move pivots on, in picture pixels."""

    centre: Point
    base: Point  # the subject's feet: where squashing and leaning pivot
    size: tuple[float, float]
    picture_height: float

    @classmethod
    def of(cls, bbox: Box, centre: Point, target: Point | None, stage: Stage) -> Anchors:
        """The anchors of a subject in ``bbox`` (picture pixels) whose centre is ``centre``
        (picture fractions), for a move aimed at ``target`` (picture fractions; None: its centre)."""
        left, top, right, bottom = bbox
        width, height = stage.picture
        aim = target if target is not None else centre
        aim_px = (aim[0] * width, aim[1] * height)
        return cls(
            centre=aim_px,
            base=(aim_px[0], float(bottom)),
            size=(float(right - left), float(bottom - top)),
            picture_height=float(height),
        )


@dataclass(frozen=True)
class Deformation:
    """One subject move per frame: matrices in picture pixels, and the strengths it adds to the
    smooth warps (see :class:`Warps`; 0 where it adds none)."""

    matrices: np.ndarray
    bend: np.ndarray | float = 0.0
    melt: np.ndarray | float = 0.0
    bulge: np.ndarray | float = 0.0


class SubjectStep(Protocol):
    """A subject kind's motion: per frame, how the subject layer is placed and warped."""

    def __call__(self, move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation: ...


def spin(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Turns the subject ``amount`` times about its centre."""
    return Deformation(about(anchors.centre, rotation(360.0 * move.amount * eased(move, times))))


def squish(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Presses the subject down onto its feet by ``amount``, bulging it sideways."""
    level = move.amount * eased(move, times)
    squash = np.clip(1.0 - level, 0.15, None)
    return Deformation(about(anchors.base, scaling(1.0 + 0.6 * level, squash)))


def inflate(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Grows the subject by ``amount`` about its centre, bulging in the middle like a balloon."""
    level = move.amount * eased(move, times)
    grow = np.clip(1.0 + level, 0.2, None)
    return Deformation(about(anchors.centre, scaling(grow, grow)), bulge=0.6 * level)


def deflate(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Lets the subject sag onto its feet by ``amount``, pinched in the middle."""
    level = move.amount * eased(move, times)
    shrink = np.clip(1.0 - level, 0.15, None)
    return Deformation(about(anchors.base, scaling(1.0 - 0.5 * level, shrink)), bulge=-0.4 * level)


def melt(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Sags ``amount`` of the subject's height down onto its feet in drips (a warp only)."""
    return Deformation(identity(len(times)), melt=move.amount * eased(move, times))


def pulse(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Swells the subject by ``amount`` on every beat, like a heart."""
    beat = (0.5 - 0.5 * np.cos(2.0 * np.pi * cycles(move, times))) ** 2
    grow = 1.0 + move.amount * envelope(move, times) * beat
    return Deformation(about(anchors.centre, scaling(grow, grow)))


def wobble(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Jelly: the subject's top swings ``amount`` of its height side to side as it stretches."""
    swings, strength = cycles(move, times), envelope(move, times)
    stretch = 1.0 + 0.35 * move.amount * strength * np.cos(2.0 * np.pi * swings)
    matrices = about(anchors.base, scaling(1.0 / np.sqrt(stretch), stretch))
    return Deformation(matrices, bend=move.amount * strength * np.sin(2.0 * np.pi * swings) * anchors.size[1])


def jiggle(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Quick stretches of ``amount`` up and down from the feet, thinning as it stretches."""
    stretch = 1.0 + move.amount * envelope(move, times) * np.sin(2.0 * np.pi * cycles(move, times))
    return Deformation(about(anchors.base, scaling(1.0 - 0.6 * (stretch - 1.0), stretch)))


def sway(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Leans the subject's top ``amount`` of its height side to side, like a plant in the wind."""
    lean = move.amount * envelope(move, times) * np.sin(2.0 * np.pi * cycles(move, times))
    return Deformation(about(anchors.base, shearing(lean)))


def bounce(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Hops of ``amount`` of the picture's height: parabolic flight, squashed on landing,
    stretched by speed."""
    hops = cycles(move, times)
    strength = envelope(move, times)
    phase = hops - np.floor(hops)
    lift = move.amount * anchors.picture_height * strength * 4.0 * phase * (1.0 - phase)
    contact = np.clip(1.0 - np.minimum(phase, 1.0 - phase) / 0.12, 0.0, 1.0)
    speed = np.abs(1.0 - 2.0 * phase) * (1.0 - contact)
    stretch = 1.0 + strength * (0.08 * speed - 0.22 * contact)
    shape = about(anchors.base, scaling(1.0 - 0.7 * (stretch - 1.0), stretch))
    return Deformation(translate(0.0, -lift, len(times)) @ shape)


def float_(move: Move, times: np.ndarray, stage: Stage, anchors: Anchors) -> Deformation:
    """Lifts the subject by ``amount`` of the picture's height, bobbing and rocking gently."""
    level = eased(move, times)
    bobs = cycles(move, times)
    bob = 0.5 - 0.5 * np.cos(2.0 * np.pi * bobs)
    lift = move.amount * anchors.picture_height * level * (1.0 - 0.2 * bob)
    rock = rotation(2.0 * level * np.sin(np.pi * bobs))
    return Deformation(translate(0.0, -lift, len(times)) @ about(anchors.centre, rock))


@dataclass(frozen=True)
class Warps:
    """Per-frame strengths of the smooth (non-affine) subject warps, in picture pixels."""

    base: Point
    centre: Point
    subject_size: tuple[float, float]
    bend: np.ndarray  # the top's sideways offset, in pixels (wobble)
    melt: np.ndarray  # share of the height that has sagged (melt)
    bulge: np.ndarray  # magnification at the centre, minus 1 (inflate; negative pinches for deflate)
    drips: np.ndarray  # per-column extra sag, 0 to 1, on a fixed grid across the subject

    @classmethod
    def build(
        cls, bend: np.ndarray, melt: np.ndarray, bulge: np.ndarray, bbox: Box, centre: Point, stage: Stage
    ) -> Warps:
        """The warps of a subject in ``bbox`` whose centre is ``centre`` (picture fractions), from
        the summed strengths of its moves, kept to what the warps can show."""
        left, top, right, bottom = bbox
        anchors = Anchors.of(bbox, centre, None, stage)
        rng = np.random.default_rng([stage.seed, 7])
        return cls(
            base=anchors.base,
            centre=anchors.centre,
            subject_size=(float(right - left), float(bottom - top)),
            bend=bend,
            melt=np.clip(melt, 0.0, 1.0),
            bulge=np.clip(bulge, -0.6, 2.0),
            drips=smooth_noise(rng, np.linspace(0.0, 7.0, 64)) * 0.5 + 0.5,
        )

    def active(self, index: int) -> bool:
        """Whether frame ``index`` warps the subject at all."""
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
class Poses:
    """Where the subject goes in every frame: matrices (picture pixels, applied before the rest
    view) and its smooth warps."""

    matrices: np.ndarray
    warps: Warps

    def warp(self, index: int) -> tuple[Warps, int] | None:
        """The warps and frame ``index``, when that frame warps the subject; else None."""
        return (self.warps, index) if self.warps.active(index) else None
