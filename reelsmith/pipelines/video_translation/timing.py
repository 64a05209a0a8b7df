"""Fitting each translated line's speech into the time its original took.

A line's slot is the time the original line was spoken. Speech that is longer is, in order:
1. sped up, by at most :data:`MAX_STRETCH` (above about 1.3x it sounds hurried);
2. let run on into the silence after the slot, up to :data:`GAP_SECONDS` before the next line;
3. with ``dynamic_duration``, given the time it still needs by holding the picture at that
   point (the frame stays, the sound of the source pauses);
4. without it, sped up further until it fits, which the report shows as a stretch over 1.3.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

MAX_STRETCH = 1.3
GAP_SECONDS = 0.1


@dataclass(frozen=True)
class Placement:
    """Where one line's speech goes, in the source's time."""

    start: float
    slot: float
    speech: float  # seconds, as synthesised
    stretch: float  # tempo factor, 1 = as synthesised
    borrowed: float  # seconds of the following silence used
    held: float  # seconds the picture is held at ``start + slot + borrowed``

    @property
    def spoken(self) -> float:
        return self.speech / self.stretch

    @property
    def hold_at(self) -> float:
        return self.start + self.slot + self.borrowed

    def report(self, index: int, timeline: Timeline) -> dict[str, float | int]:
        """The line's entry in the task's timing report (seconds, rounded to milliseconds)."""
        start = timeline.output_time(self.start)
        return {
            "line": index,
            "start": round(self.start, 3),
            "slot_seconds": round(self.slot, 3),
            "speech_seconds": round(self.speech, 3),
            "stretch": round(self.stretch, 3),
            "borrowed_seconds": round(self.borrowed, 3),
            "held_seconds": round(self.held, 3),
            "output_start": round(start, 3),
            "output_end": round(start + self.spoken, 3),
        }


def fit_lines(
    slots: Sequence[tuple[float, float]], speech: Sequence[float], total: float, dynamic_duration: bool
) -> list[Placement]:
    """A placement per line; ``slots`` are (start, end) in time order, ``speech`` the
    synthesised seconds of each line, ``total`` the source's length."""
    placements = []
    for index, ((start, end), natural) in enumerate(zip(slots, speech, strict=True)):
        slot = max(end - start, 0.05)
        following = slots[index + 1][0] - GAP_SECONDS if index + 1 < len(slots) else total
        room = max(following - start, slot)
        stretch = min(max(natural / slot, 1.0), MAX_STRETCH)
        spoken = natural / stretch
        borrowed = held = 0.0
        if spoken > slot:
            borrowed = min(spoken, room) - slot
            if spoken > room:
                if dynamic_duration:
                    held = spoken - room
                else:
                    stretch = natural / room
        placements.append(Placement(start, slot, natural, stretch, borrowed, held))
    return placements


@dataclass(frozen=True)
class Timeline:
    """Source time to output time, given where the picture is held and for how long."""

    holds: tuple[tuple[float, float], ...] = ()  # (source time, seconds), in time order

    @classmethod
    def of(cls, placements: Sequence[Placement]) -> Timeline:
        return cls(tuple((p.hold_at, p.held) for p in placements if p.held > 0))

    @property
    def added(self) -> float:
        return sum(seconds for _, seconds in self.holds)

    def output_time(self, source_time: float) -> float:
        """When what happens at ``source_time`` happens in the output. A hold at ``t`` delays
        everything from ``t`` on, ``t`` included: the held frame is the one just before it, and
        a line that starts right where the previous one's hold is waits for the hold to end."""
        passed = bisect_right([at for at, _ in self.holds], source_time + 1e-9)
        return source_time + sum(seconds for _, seconds in self.holds[:passed])
