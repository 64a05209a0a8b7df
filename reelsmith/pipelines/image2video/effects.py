"""The effect library: named, ready-made motion plans.

An effect turns what is known about the picture (a :class:`Scene`), a seed and the clip's length
into a :class:`MotionPlan`. Codes are stable (clients store them); names are what people read.

Three kinds: ``camera`` effects move the whole picture; ``2.5d`` effects move the subject and the
background by different amounts (parallax); ``physical`` effects deform the subject as if it were
made of something: they wind up (anticipation), go past the mark (overshoot) and settle. Effects
aim at the main face, else the subject, else the frame's centre. Swinging moves are given in
swings per second and turned into swings per clip, so a 10 s clip swings as fast as a 5 s one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reelsmith.pipelines.image2video.plan import MotionPlan, Move, Scene

Category = Literal["camera", "2.5d", "physical"]
Point = tuple[float, float]
MovesBuilder = Callable[[Point | None, Scene, int], tuple[Move, ...]]


@dataclass(frozen=True)
class Effect:
    """A named effect: ``plan(scene, seed, seconds)`` gives its motion for one picture."""

    code: str
    name: str
    category: Category
    description: str
    moves: MovesBuilder

    def plan(self, scene: Scene, seed: int, seconds: int) -> MotionPlan:
        """The effect's motion plan for ``scene`` over a clip of ``seconds``."""
        return MotionPlan(
            moves=self.moves(focus_of(scene), scene, seconds),
            source=f"effect:{self.code}",
            description=self.description,
            seed=seed,
        )


def focus_of(scene: Scene) -> Point | None:
    """What an effect aims at: the main face, else the subject, else None (the frame's centre)."""
    face = scene.main_face
    if face is not None:
        return face.center
    if scene.has_subject:
        return scene.subject_center
    return None


def _per_clip(per_second: float, seconds: int) -> float:
    return per_second * seconds


def _zoom_in(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("zoom", amount=1.3, target=focus, easing="ease_in_out"),)


def _zoom_out(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("zoom", amount=1 / 1.3, target=focus, easing="ease_in_out"),)


def _pan(direction: float) -> MovesBuilder:
    def moves(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
        return (Move("pan", amount=0.14 * direction, easing="ease_in_out"),)

    return moves


def _tilt(direction: float) -> MovesBuilder:
    def moves(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
        return (Move("tilt", amount=0.14 * direction, easing="ease_in_out"),)

    return moves


def _ken_burns(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    # Drift towards the focus while closing in: pan and tilt by a share of its offset.
    x, y = focus or (0.6, 0.45)
    return (
        Move("zoom", amount=1.22, target=focus, easing="linear"),
        Move("pan", amount=0.25 * (x - 0.5) + 0.04, easing="ease_in_out"),
        Move("tilt", amount=0.25 * (y - 0.5), easing="ease_in_out"),
    )


def _crash_zoom(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (
        Move("zoom", start=0.2, end=0.45, amount=1.6, target=focus, easing="overshoot"),
        Move("shake", start=0.36, end=0.75, amount=0.02, easing="ease_out", frequency=_per_clip(7.0, seconds)),
    )


def _shake(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (
        Move("zoom", amount=1.06, target=focus, easing="linear"),
        Move("shake", amount=0.015, easing="ease_in_out", frequency=_per_clip(3.0, seconds)),
    )


def _dutch_roll(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (
        Move("roll", amount=7.0, easing="ease_in_out"),
        Move("zoom", amount=1.12, target=focus, easing="ease_in_out"),
    )


def _dolly_in(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("dolly", amount=1.3, target=focus, easing="ease_in_out"),)


def _dolly_out(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    # The reverse of dolly_in: the subject recedes slower than the background it is set against.
    return (Move("dolly", amount=1 / 1.3, target=focus, easing="ease_in_out"),)


def _dolly_zoom(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    # The subject keeps its size while the background falls away behind it (the "vertigo" shot).
    return (
        Move("dolly", amount=1.4, target=focus, easing="ease_in_out"),
        Move("zoom", amount=1 / 1.4, target=focus, easing="ease_in_out"),
    )


def _orbit(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (
        Move("orbit", amount=26.0, target=focus, easing="ease_in_out"),
        Move("dolly", amount=1.1, target=focus, easing="ease_in_out"),
    )


def _parallax_float(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (
        Move("orbit", amount=12.0, target=focus, easing="ease_in_out"),
        Move("dolly", amount=1.12, target=focus, easing="ease_out"),
        Move("float", amount=0.025, easing="ease_in_out", frequency=_per_clip(0.35, seconds)),
    )


def _squish(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    # Pressed down with a little stretch first, held, then let go: it springs back past its
    # shape and rings until it settles.
    return (
        Move("squish", start=0.08, end=0.4, amount=0.35, easing="anticipate"),
        Move("squish", start=0.5, end=1.0, amount=-0.35, easing="elastic"),
    )


def _inflate(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("inflate", start=0.08, end=0.85, amount=0.3, target=focus, easing="elastic"),)


def _deflate(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    # A last breath in (anticipation), then the air goes out and the skin wobbles.
    return (
        Move("deflate", start=0.1, end=0.75, amount=0.45, easing="anticipate"),
        Move("wobble", start=0.6, end=1.0, amount=0.06, easing="ease_out", frequency=_per_clip(3.0, seconds)),
    )


def _wobble(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    # Poked: a quick squash, then the jelly swings and dies away.
    return (
        Move("squish", start=0.05, end=0.15, amount=0.12, easing="ease_in"),
        Move("squish", start=0.15, end=0.35, amount=-0.12, easing="elastic"),
        Move("wobble", start=0.12, end=1.0, amount=0.14, easing="ease_out", frequency=_per_clip(2.5, seconds)),
    )


def _jiggle(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("jiggle", amount=0.07, easing="ease_in_out", frequency=_per_clip(4.0, seconds)),)


def _spin(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("spin", start=0.1, end=0.85, amount=1.0, target=focus, easing="overshoot"),)


def _pulse(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("pulse", amount=0.09, target=focus, easing="ease_in_out", frequency=_per_clip(1.2, seconds)),)


def _melt(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (
        Move("melt", start=0.12, end=1.0, amount=0.55, easing="ease_in"),
        Move("wobble", start=0.12, end=1.0, amount=0.03, easing="ease_in", frequency=_per_clip(1.5, seconds)),
    )


def _bounce(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    # Hops that lose height, like a dropped ball, with a squash on every landing.
    return (Move("bounce", amount=0.14, easing="ease_out", frequency=_per_clip(1.4, seconds)),)


def _sway(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("sway", amount=0.07, easing="ease_in_out", frequency=_per_clip(0.5, seconds)),)


def _float(focus: Point | None, scene: Scene, seconds: int) -> tuple[Move, ...]:
    return (Move("float", amount=0.06, easing="ease_in_out", frequency=_per_clip(0.5, seconds)),)


EFFECTS: tuple[Effect, ...] = (
    Effect("zoom_in", "Zoom In", "camera", "The camera slowly closes in on the subject.", _zoom_in),
    Effect("zoom_out", "Zoom Out", "camera", "The camera pulls back to reveal the whole picture.", _zoom_out),
    Effect("pan_left", "Pan Left", "camera", "The camera glides to the left.", _pan(-1.0)),
    Effect("pan_right", "Pan Right", "camera", "The camera glides to the right.", _pan(1.0)),
    Effect("tilt_up", "Tilt Up", "camera", "The camera tilts upwards.", _tilt(-1.0)),
    Effect("tilt_down", "Tilt Down", "camera", "The camera tilts downwards.", _tilt(1.0)),
    Effect("ken_burns", "Ken Burns", "camera", "A slow zoom that drifts towards the subject.", _ken_burns),
    Effect("crash_zoom", "Crash Zoom", "camera", "A sudden zoom that overshoots and lands with a jolt.", _crash_zoom),
    Effect("shake", "Camera Shake", "camera", "A hand-held camera, slightly unsteady.", _shake),
    Effect("dutch_roll", "Dutch Roll", "camera", "The camera rolls into a tilted, uneasy angle.", _dutch_roll),
    Effect("dolly_in", "Dolly In", "2.5d", "The camera moves in; the subject nears faster than the rest.", _dolly_in),
    Effect("dolly_out", "Dolly Out", "2.5d", "The camera backs away; the background recedes faster.", _dolly_out),
    Effect("dolly_zoom", "Dolly Zoom", "2.5d", "The subject holds its size as the background falls away.", _dolly_zoom),
    Effect("orbit", "Orbit", "2.5d", "The camera circles the subject; the background slides behind it.", _orbit),
    Effect("parallax_float", "Parallax Float", "2.5d", "The subject drifts before its background.", _parallax_float),
    Effect("squish", "Squish", "physical", "The subject is pressed flat, then springs back and settles.", _squish),
    Effect("inflate", "Inflate", "physical", "The subject puffs up like a balloon.", _inflate),
    Effect("deflate", "Deflate", "physical", "The air goes out of the subject and it sags.", _deflate),
    Effect("wobble", "Jelly Wobble", "physical", "Poked like jelly, the subject wobbles and settles.", _wobble),
    Effect("jiggle", "Jiggle", "physical", "The subject jiggles with quick little bounces.", _jiggle),
    Effect("spin", "Spin", "physical", "The subject spins around once and settles.", _spin),
    Effect("pulse", "Pulse", "physical", "The subject swells and shrinks like a heartbeat.", _pulse),
    Effect("melt", "Melt", "physical", "The subject melts and drips down.", _melt),
    Effect("bounce", "Bounce", "physical", "The subject hops like a dropped ball, squashing as it lands.", _bounce),
    Effect("sway", "Sway", "physical", "The subject sways from side to side like a plant in the wind.", _sway),
    Effect("float", "Float", "physical", "The subject lifts off and hovers.", _float),
)

_BY_CODE = {effect.code: effect for effect in EFFECTS}


def effect_by_code(code: str) -> Effect | None:
    """The effect with this code (case and surrounding spaces ignored); None if there is none."""
    return _BY_CODE.get(code.strip().lower())
