"""What every Image to Video engine does around its frames, the same way: the sound (designed for
the clip's motion plan, or the user's audio fitted to the clip, or none), put on the silent
video, the poster frame, the task's result; and updateVideoAudio's new sound on a finished video.

The classical renderer (``pipeline.py``) and the diffusion engines (``diffusion.py``) both end
here, so a clip sounds and is finished alike whichever engine made its frames.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from reelsmith.media.encode import EncodeError, poster_frame, put_audio
from reelsmith.media.probe import probe
from reelsmith.media.sound import write_wav
from reelsmith.pipelines.base import Job, PipelineError, PipelineResult
from reelsmith.pipelines.image2video.audio import (
    SAMPLE_RATE,
    AudioError,
    design_soundtrack,
    prepare_given_audio,
    replace_audio,
)
from reelsmith.pipelines.image2video.plan import MotionPlan
from reelsmith.products.image2video import Image2VideoParams


def make_sound(
    job: Job[Image2VideoParams], plan: MotionPlan, seconds: float, bed: Future[np.ndarray] | None = None
) -> Path | None:
    """The clip's sound as a WAV in the job's folder, or None for ``audio_type`` 3: designed for
    ``plan`` (1), or the user's audio cut or padded to ``seconds`` and normalised (2). ``bed`` is
    the ambience made ahead for the task's seed (``soundtrack_bed``), where a caller made it."""
    audio_type = job.params.audio_type
    if audio_type == 3:
        return None
    target = job.work_dir / "sound.wav"
    if audio_type == 1:
        # The bed was made for the task's seed, which is the plan's.
        ambience = bed.result() if bed is not None and plan.seed == job.params.seed else None
        write_wav(design_soundtrack(plan, seconds, SAMPLE_RATE, ambience), SAMPLE_RATE, target)
        return target
    try:
        prepare_given_audio(job.inputs["audio"], seconds, target)
    except AudioError as exc:
        raise PipelineError(f"audio_url could not be used: {exc}") from exc
    return target


def finish(
    job: Job[Image2VideoParams], silent: Path, audio: Path | None, seconds: float, fields: dict[str, Any]
) -> PipelineResult:
    """The task's result from its silent video: ``audio`` put on it (the sound is ours and the
    video's length, ``seconds``, is known: one ffmpeg pass, no probing), its poster frame, its
    measured duration and ``fields``."""
    output = job.work_dir / "video.mp4"
    if audio is None:
        silent.rename(output)
    else:
        try:
            put_audio(silent, audio, seconds, output)
        except EncodeError as exc:
            raise PipelineError(f"the sound could not be put on the video: {exc}") from exc
    return PipelineResult(
        files={"video": output, "cover": cover(output)},
        fields={"video_duration": probe(output).duration, **fields},
    )


def add_audio(job: Job[Image2VideoParams]) -> PipelineResult:
    """updateVideoAudio: the finished video with new sound (designed for the motion plan it was
    made with, or the user's), its frames untouched."""
    video = job.inputs["video"]
    seconds = probe(video).duration
    audio = job.work_dir / "sound.wav"
    if job.params.audio_type == 1:
        plan = MotionPlan.from_json(job.params.motion_plan) if job.params.motion_plan else None
        write_wav(design_soundtrack(plan or still_plan(), seconds, SAMPLE_RATE), SAMPLE_RATE, audio)
    else:
        try:
            prepare_given_audio(job.inputs["audio"], seconds, audio)
        except AudioError as exc:
            raise PipelineError(f"audio_url could not be used: {exc}") from exc
    output = job.work_dir / "video.mp4"
    try:
        replace_audio(video, audio, output)
    except AudioError as exc:
        raise PipelineError(f"the sound could not be put on the video: {exc}") from exc
    return PipelineResult(
        files={"video": output, "cover": cover(output)}, fields={"video_duration": probe(output).duration}
    )


def cover(video: Path) -> Path:
    """The result's poster frame (``cover_url``): its first frame as a JPEG, beside it."""
    path = video.with_name("cover.jpg")
    try:
        poster_frame(video, path)
    except EncodeError as exc:
        raise PipelineError(f"the poster frame could not be made: {exc}") from exc
    return path


def still_plan(seed: int = 0, description: str = "No motion known: an ambient bed only.") -> MotionPlan:
    """A plan without moves: its soundtrack is the ambience bed alone."""
    return MotionPlan(moves=(), source="default", description=description, seed=seed)
