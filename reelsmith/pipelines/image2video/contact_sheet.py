"""A contact sheet: one row per effect, frames sampled across its clip, so a person can see
every effect at a glance (``reelsmith effects contact-sheet sheet.png``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from reelsmith.media.picture import load_picture
from reelsmith.pipelines.image2video.effects import EFFECTS, Effect
from reelsmith.pipelines.image2video.pipeline import SAMPLE_PICTURE, look_at, planned
from reelsmith.pipelines.image2video.plan import MotionPlan, Scene
from reelsmith.pipelines.image2video.render import render_frames

CELL = (192, 192)
LABEL_WIDTH = 170
FPS = 12
SECONDS = 2


def make_contact_sheet(
    out_path: Path,
    picture_path: Path | None = None,
    columns: int = 6,
    on_stage: Callable[[str, int], None] | None = None,
) -> Path:
    """Render every effect on ``picture_path`` (default: the bundled sample) and write a PNG
    grid of ``columns`` frames per effect, labelled with the effect's code and name.
    ``on_stage`` is told the stage at work (``look``, ``effect <code>``, ``write``) and the
    0-99 progress."""
    report = on_stage or (lambda stage, percent: None)
    report("look", 0)
    look = look_at(load_picture(picture_path or SAMPLE_PICTURE), CELL)
    rows = []
    for number, effect in enumerate(EFFECTS):
        report(f"effect {effect.code}", 1 + 97 * number // len(EFFECTS))
        plan = planned(look, effect.plan(look.scene, 0, SECONDS), functools.partial(_plan_of, effect))
        layers = look.layers if plan.uses_subject else None
        frames = list(render_frames(look.framed, plan, CELL, FPS, SECONDS, layers))
        picks = np.linspace(0, len(frames) - 1, columns).round().astype(int)
        label = np.full((CELL[1], LABEL_WIDTH, 3), 24, np.uint8)
        cv2.putText(label, effect.code, (8, 80), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.putText(label, effect.name, (8, 110), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (170, 200, 255), 1, cv2.LINE_AA)
        cv2.putText(label, effect.category, (8, 140), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (150, 150, 150), 1, cv2.LINE_AA)
        rows.append(np.hstack([label, *(frames[i] for i in picks)]))
    report("write", 98)
    sheet = np.vstack(rows)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return out_path


def _plan_of(effect: Effect, scene: Scene) -> MotionPlan:
    return effect.plan(scene, 0, SECONDS)
