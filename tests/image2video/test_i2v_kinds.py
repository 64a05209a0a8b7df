"""The move kinds of Image to Video: one record per kind, and every record whole."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from reelsmith.pipelines.image2video.kinds import (
    CAMERA_MOVES,
    KINDS,
    SUBJECT_MOVES,
    CameraKind,
    MoveKind,
    SubjectKind,
    kind_of,
)
from reelsmith.pipelines.image2video.plan import MotionPlan, Move


def test_every_move_kind_has_exactly_one_record() -> None:
    names = [kind.name for kind in KINDS]
    assert sorted(names) == sorted(get_args(MoveKind))
    assert len(set(names)) == len(names)
    assert set(CAMERA_MOVES) | set(SUBJECT_MOVES) == set(names)
    assert not set(CAMERA_MOVES) & set(SUBJECT_MOVES)
    with pytest.raises(KeyError):
        kind_of("travel")


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_a_record_is_consistent(kind: CameraKind | SubjectKind) -> None:
    low, high = kind.limits
    assert low < kind.neutral < high
    base = kind.neutral + kind.base
    assert low < base <= high
    if kind.default_direction is None:
        assert not kind.directions
    else:
        assert kind.default_direction in kind.directions
    assert kind.words and all(said.pattern for said in kind.words)
    for said in kind.words:
        for part in said.pattern.split():
            re.compile(part)
    if kind.prompt_hz is not None or kind.render_hz is not None:
        assert kind.repeatable


def test_the_subject_is_separated_for_subject_moves_and_parallax() -> None:
    layered = {kind.name for kind in KINDS if kind.needs_subject_layer}
    assert layered == set(SUBJECT_MOVES) | {"dolly", "orbit"}
    for name in CAMERA_MOVES:
        plan = MotionPlan(moves=(Move(name),), source="test", description="")
        assert plan.uses_subject == (name in layered)
