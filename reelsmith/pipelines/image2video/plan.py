"""The motion plan: what happens to the picture over the clip, as data.

Effects (``effects.py``) and the prompt parser (``prompt.py``) produce a plan of moves, each of
a kind declared in ``kinds.py``; the renderer (``render.py``) turns a plan into frames and the
sound designer (``audio.py``) into a soundtrack timed to it. The plan that was used is stored on
the task and shown to the user, so it is plain, JSON-friendly data.

Times are fractions of the clip (0 = first frame, 1 = last frame). Positions are fractions of
the frame (0,0 top-left, 1,1 bottom-right).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from reelsmith.pipelines.image2video.easing import Easing
from reelsmith.pipelines.image2video.kinds import MoveKind, kind_of


@dataclass(frozen=True)
class Move:
    """One motion over a span of the clip.

    ``amount`` is the move's strength in its kind's unit (``kinds.py`` lists what it measures
    for each kind: the final scale of a zoom, a pan's travel in frame widths, degrees of roll...).
    ``target`` is the point the move centres on (a face, the subject), when it has one.
    ``frequency`` is in cycles per clip for oscillating moves (shake, wobble, pulse, sway...).
    """

    kind: MoveKind
    start: float = 0.0
    end: float = 1.0
    amount: float = 1.0
    target: tuple[float, float] | None = None
    easing: Easing = "ease_in_out"
    frequency: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.start < self.end <= 1.0:
            raise ValueError(f"a move must have 0 <= start < end <= 1, got {self.start}..{self.end}")


@dataclass(frozen=True)
class MotionPlan:
    """Every move of a clip, where it came from, and a sentence a person can read."""

    moves: tuple[Move, ...]
    source: str  # "effect:<code>", "prompt", "default"
    description: str
    seed: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)  # e.g. words of the prompt that were not understood

    @property
    def uses_subject(self) -> bool:
        """Whether any move needs the subject apart from the background (``kinds.py``)."""
        return any(kind_of(move.kind).needs_subject_layer for move in self.moves)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "description": self.description,
            "seed": self.seed,
            "notes": list(self.notes),
            "moves": [asdict(move) for move in self.moves],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> MotionPlan:
        """The plan back from ``to_json`` (stored on a task)."""
        moves = tuple(
            Move(**{**move, "target": tuple(move["target"]) if move.get("target") else None})
            for move in value.get("moves", ())
        )
        return cls(
            moves=moves,
            source=str(value.get("source", "")),
            description=str(value.get("description", "")),
            seed=int(value.get("seed", 0)),
            notes=tuple(value.get("notes", ())),
        )


@dataclass(frozen=True)
class Face:
    """A face found in the picture, in frame fractions."""

    center: tuple[float, float]
    width: float
    height: float


@dataclass(frozen=True)
class Scene:
    """What planning knows about the picture (after it was fitted to the output frame)."""

    width: int
    height: int
    faces: tuple[Face, ...] = ()
    has_subject: bool = False
    subject_center: tuple[float, float] = (0.5, 0.5)
    subject_size: tuple[float, float] = (0.0, 0.0)  # fraction of the frame's width, height

    @property
    def main_face(self) -> Face | None:
        return max(self.faces, key=lambda face: face.width * face.height, default=None)


def vary(plan: MotionPlan, seed: int) -> MotionPlan:
    """One of several variations of ``plan`` (batch requests with ``count`` > 1): each move's
    strength, timing and target are nudged by the seed (strength +-15%, timing +-5% of the
    clip, target +-3% of the frame), so the videos differ while each stays the motion asked for."""
    rng = random.Random(seed)
    moves = []
    for move in plan.moves:
        factor = rng.uniform(0.85, 1.15)
        amount = 1 + (move.amount - 1) * factor if kind_of(move.kind).unit == "scale" else move.amount * factor
        shift = rng.uniform(-0.05, 0.05)
        start = min(max(move.start + shift, 0.0), move.end - 0.05)
        end = max(min(move.end + shift, 1.0), start + 0.05)
        target = move.target
        if target is not None:
            target = (
                min(max(target[0] + rng.uniform(-0.03, 0.03), 0.0), 1.0),
                min(max(target[1] + rng.uniform(-0.03, 0.03), 0.0), 1.0),
            )
        moves.append(replace(move, amount=amount, start=max(start, 0.0), end=min(end, 1.0), target=target))
    return replace(plan, moves=tuple(moves), seed=seed, notes=(*plan.notes, f"variation {seed}"))
