"""Frames from a picture and a motion plan, and the MP4 they make.

The renderer in four modules, each with one job:

- ``render.py`` (here): a plan becomes per-frame placements (each move by its kind's step,
  looked up in ``kinds.py``) and the layers are handed to the compositor; the MP4.
- ``motion.py``: the steps, timing (easing, swings, envelopes) and the room zoom.
- ``geometry.py``: the affine matrices steps are made of.
- ``compositing.py``: the plate and the subject drawn into frames, and what that costs.

Geometry. The picture is mapped onto the frame so that it covers it (the *rest* view: what the
first frame shows when nothing moves); positions in a plan, as fractions of the frame, are
positions in the picture. Every move becomes, per frame, a 2 x 3 affine matrix (or, for melt,
wobble, inflate and deflate, an affine matrix and a smooth warp). Dolly and orbit move the
plate and the subject by different amounts (2.5D parallax).

Room for camera moves. Pans, shakes, rolls and zoom-outs would show the picture's edge. Before
the first frame, the renderer finds the smallest single zoom (about the frame's centre, the same
for every frame, so motion keeps its measured size) that keeps every frame's view inside the
picture; plans that stay inside need none. The subject gets the plate's zoom too.

Encoding (reelsmith.media.encode) streams raw RGB frames into ffmpeg through a pipe from a writer thread, so
the next frame is rendered while the last one is written and encoded; the clip is never held in
memory. Audio joins in a second pass that copies the video, cut to the video's exact length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from reelsmith.media.encode import EncodeError, encode_frames, put_audio
from reelsmith.pipelines.image2video.compositing import layered_frames, picture_as_subject, single_layer_frames
from reelsmith.pipelines.image2video.geometry import identity
from reelsmith.pipelines.image2video.kinds import CameraKind, Kind, SubjectKind, kind_of
from reelsmith.pipelines.image2video.layers import SubjectLayers
from reelsmith.pipelines.image2video.motion import Anchors, Poses, Role, Stage, Warps, with_room
from reelsmith.pipelines.image2video.plan import MotionPlan, Move

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
    stage = Stage.build(picture, size, seconds, plan.seed)
    if not plan.uses_subject:
        return _single_layer_frames(picture, plan, stage, times)
    return _layered_frames(picture, plan, stage, times, layers)


def _single_layer_frames(
    picture: np.ndarray, plan: MotionPlan, stage: Stage, times: np.ndarray
) -> Iterator[np.ndarray]:
    # A generator, like the compositor's: nothing is computed before the first frame is asked for.
    cameras = _camera_matrices(plan, times, stage, "whole")
    yield from single_layer_frames(picture, with_room(cameras @ stage.rest, stage), stage.frame)


def _layered_frames(
    picture: np.ndarray, plan: MotionPlan, stage: Stage, times: np.ndarray, layers: SubjectLayers | None
) -> Iterator[np.ndarray]:
    layers = layers if layers is not None else picture_as_subject(picture)
    plate_cameras = _camera_matrices(plan, times, stage, "plate")
    plate_matrices = with_room(plate_cameras @ stage.rest, stage)
    # The plate's room zoom applies to the subject too, or the two would drift apart.
    room = plate_matrices @ np.linalg.inv(plate_cameras @ stage.rest)
    poses = _subject_poses(plan, times, stage, layers)
    subject_matrices = room @ _camera_matrices(plan, times, stage, "subject") @ stage.rest @ poses.matrices
    yield from layered_frames(picture, layers, plate_matrices, subject_matrices, poses, stage.frame)


def _camera_matrices(plan: MotionPlan, times: np.ndarray, stage: Stage, role: Role) -> np.ndarray:
    """Per-frame camera transforms of one layer, in frame pixels (applied after the rest view)."""
    matrices = identity(len(times))
    for index, move in enumerate(plan.moves):
        kind = kind_of(move.kind)
        if isinstance(kind, CameraKind):
            matrices = kind.step(_swinging(move, kind, stage), index, times, stage, role) @ matrices
    return matrices


def _subject_poses(plan: MotionPlan, times: np.ndarray, stage: Stage, layers: SubjectLayers) -> Poses:
    """Per-frame placements of the subject (picture pixels, applied before the rest view) and
    the summed strengths of its smooth warps."""
    count = len(times)
    matrices = identity(count)
    bend, melt, bulge = np.zeros(count), np.zeros(count), np.zeros(count)
    for move in plan.moves:
        kind = kind_of(move.kind)
        if not isinstance(kind, SubjectKind):
            continue
        anchors = Anchors.of(layers.bbox, layers.center, move.target, stage)
        deformation = kind.step(_swinging(move, kind, stage), times, stage, anchors)
        matrices = deformation.matrices @ matrices
        bend += deformation.bend
        melt += deformation.melt
        bulge += deformation.bulge
    return Poses(matrices=matrices, warps=Warps.build(bend, melt, bulge, layers.bbox, layers.center, stage))


def _swinging(move: Move, kind: Kind, stage: Stage) -> Move:
    """``move``, given its kind's rate when it swings and the plan gives it no frequency."""
    if move.frequency > 0 or kind.render_hz is None:
        return move
    return replace(move, frequency=kind.render_hz * stage.seconds)


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
