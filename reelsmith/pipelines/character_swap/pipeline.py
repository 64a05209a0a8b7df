"""Character Swap on a CPU, both modes: ``replace`` (the person in the video takes the
character's face) and ``animate`` (the character's picture moves like the person's face).

Stages, top to bottom:
  1. character - the face in the user's picture: landmarks and texture (replace), or landmarks,
                 person mask and background plate (animate);
  2. swap      - the video decoded and scaled by ffmpeg, each frame's face tracked (MediaPipe
                 face mesh, One-Euro filtered; in animate mode also the body, MediaPipe pose,
                 when the character shows one), and the frame made (``replace.py`` or
                 ``animate.py``), streamed into the encoder: decoding, work and encoding
                 overlap and the video is never in memory;
  3. sound     - the source's sound put back on, cut to the output's exact length.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from reelsmith.faces.pose import BodyTrack
from reelsmith.faces.tracking import FaceTrack, TrackedFace
from reelsmith.media.decode import read_frames
from reelsmith.media.encode import encode_frames, put_audio
from reelsmith.media.picture import load_picture
from reelsmith.media.probe import MediaInfo, probe
from reelsmith.pipelines.base import Job, Pipeline, PipelineError, PipelineResult, Stage, StageProgress
from reelsmith.pipelines.character_swap.animate import Animator
from reelsmith.pipelines.character_swap.character import Character
from reelsmith.pipelines.character_swap.eyelids import BlinkFollower
from reelsmith.pipelines.character_swap.replace import FaceReplacer
from reelsmith.products.catalog import Catalog, ModelEntry
from reelsmith.products.character_swap import MODEL_NAME, MODES, CharacterSwapParams
from reelsmith.settings import Settings

SHORT_SIDE = {"480p": 480, "720p": 720, "1080p": 1080}
STAGES = [Stage("character", 0.3), Stage("swap", 10), Stage("sound", 0.3)]
# Progress is reported (and cancellation checked) once per this many frames.
_PROGRESS_EVERY = 10
# The driver is tracked at this size (the face mesh model sees a 192 px crop whatever the size).
_DRIVER_RESOLUTION = "480p"
_DRIVER_LOOK_SECONDS = 3.0


class CharacterSwapPipeline:
    engine = "character-swap"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def catalog(self) -> Catalog:
        model = ModelEntry(
            value=MODEL_NAME,
            label="reelsmith character v1",
            description="Landmark-driven face replacement and character animation on the CPU.",
            product="character_swap",
            modes=MODES,
        )
        return Catalog(models=(model,))

    def run(self, job: Job[CharacterSwapParams]) -> PipelineResult:
        params = job.params
        progress = StageProgress(job, STAGES)
        source, info, seconds = source_video(job)
        picture = load_picture(job.inputs["image"])
        report = SwapReport()
        if params.mode == "replace":
            size = output_size(info.display_width, info.height, params.resolution)
            character = Character.from_picture(picture)
            progress.update("character", 1.0)
            replacer = FaceReplacer(character, size)
            frames = swap_frames(read_frames(source, size, seconds), replacer, info.fps, report)
        else:
            # The character is what is shown: the output has the picture's aspect.
            size = output_size(picture.shape[1], picture.shape[0], params.resolution)
            animator = Animator(cv2.resize(picture, size, interpolation=cv2.INTER_AREA))
            progress.update("character", 1.0)
            driver_size = output_size(info.display_width, info.height, _DRIVER_RESOLUTION)
            frames = animate_frames(read_frames(source, driver_size, seconds), animator, info.fps, report)
        return finish_video(job, frames, size, info, seconds, progress, report)


def source_video(job: Job[CharacterSwapParams]) -> tuple[Path, MediaInfo, float]:
    """The task's video, what it holds and the seconds of it to use (its ``duration`` at most);
    PipelineError where it has no picture. Every Character Swap engine starts here."""
    source = job.inputs["video"]
    info = probe(source)
    if not info.has_video or info.fps <= 0:
        raise PipelineError("the video has no readable picture")
    return source, info, min(job.params.duration, info.duration)


def finish_video(
    job: Job[CharacterSwapParams],
    frames: Iterator[np.ndarray],
    size: tuple[int, int],
    info: MediaInfo,
    seconds: float,
    progress: StageProgress,
    report: SwapReport,
    every: int = _PROGRESS_EVERY,
) -> PipelineResult:
    """``frames`` (``size``, the source's rate) encoded as they come, with the source's sound put
    back cut to their length: the task's result. The "swap" stage's progress is reported (and
    cancellation checked) every ``every`` frames, the "sound" stage's at the end."""
    expected = max(1, round(seconds * info.fps))

    def on_frame(done: int) -> None:
        if done % every == 0 or done == expected:
            progress.update("swap", done / expected)

    output, _ = encode_with_sound(job, frames, size, info, on_frame)
    progress.update("sound", 1.0)
    return PipelineResult(
        files={"video": output},
        fields={"video_duration": round(probe(output).duration, 3), "swap_report": report.as_dict()},
    )


def encode_with_sound(
    job: Job[CharacterSwapParams],
    frames: Iterator[np.ndarray],
    size: tuple[int, int],
    info: MediaInfo,
    on_frame: Callable[[int], None] | None = None,
) -> tuple[Path, int]:
    """``frames`` (``size``, at the source's rate) encoded as they come into the job's
    ``video.mp4``, the source's sound put back cut to their length; the file and its frame
    count."""
    fps = Fraction(info.fps).limit_denominator(1001)
    silent = job.work_dir / "frames.mp4"
    count = encode_frames(frames, size, fps, silent, on_frame=on_frame)
    output = job.work_dir / "video.mp4"
    if info.has_audio:
        put_audio(silent, job.inputs["video"], count / float(fps), output)
    else:
        silent.rename(output)
    return output, count


class SwapReport:
    """What the swap did, for the task record: frames seen and frames with a face swapped."""

    def __init__(self) -> None:
        self.frames = 0
        self.swapped = 0

    def as_dict(self) -> dict[str, int]:
        return {"frames": self.frames, "frames_with_face": self.swapped}


class FacePainter(Protocol):
    """What puts the character's face on a video's tracked faces, one frame at a time."""

    def apply(self, frame: np.ndarray, face: TrackedFace) -> np.ndarray:
        """``frame`` (H x W x 3 uint8 RGB) with the character's face on ``face``; a new array."""
        ...

    def forget(self) -> None:
        """A frame without a face: what is carried from frame to frame starts afresh."""
        ...


def swap_frames(
    frames: Iterator[np.ndarray], replacer: FacePainter, fps: float, report: SwapReport
) -> Iterator[np.ndarray]:
    """``frames`` with the largest face (followed through the video) replaced by ``replacer``;
    frames without a face pass through untouched."""
    with FaceTrack(fps) as track:
        for frame in frames:
            report.frames += 1
            face = track.next(frame)
            if face is None:
                replacer.forget()
                yield frame
                continue
            report.swapped += 1
            yield replacer.apply(frame, face)


def animate_frames(
    frames: Iterator[np.ndarray], animator: Animator, fps: float, report: SwapReport
) -> Iterator[np.ndarray]:
    """The character moving like the face (and, where both show one, the body) followed
    through ``frames`` (the driver); at rest where the driver shows no face. PipelineError when
    no face shows in the first seconds."""
    blinks = BlinkFollower(fps)
    with FaceTrack(fps) as track, ExitStack() as stack:
        # The body is looked for only when the character has one to move.
        bodies = stack.enter_context(BodyTrack(fps)) if animator.has_body else None
        for frame in frames:
            report.frames += 1
            face = track.next(frame)
            body = bodies.next(frame) if bodies is not None else None
            if face is None:
                if report.swapped == 0 and report.frames >= _DRIVER_LOOK_SECONDS * fps:
                    raise _no_driving_face()
                yield animator.frame(None, body=body)
                continue
            report.swapped += 1
            yield animator.frame(face.points, closure=blinks.closure(face.raw), body=body)
    if report.swapped == 0:  # a video shorter than the time looked at
        raise _no_driving_face()


def _no_driving_face() -> PipelineError:
    return PipelineError(
        f"no face was found in the first {_DRIVER_LOOK_SECONDS:g} seconds of the video; "
        "animate mode needs a driving face"
    )


def output_size(width: float, height: float, resolution: str) -> tuple[int, int]:
    """The output's (width, height) in square pixels: the source's shown aspect (``width`` is
    its display width) with the short side of ``resolution``, both sides even (H.264 in
    yuv420p needs them so)."""
    short = SHORT_SIDE[resolution]
    scale = short / min(width, height)
    new_width, new_height = width * scale, height * scale
    return max(2, int(round(new_width / 2)) * 2), max(2, int(round(new_height / 2)) * 2)


def swap_file(
    image: Path,
    video: Path,
    out: Path,
    resolution: str = "720p",
    seconds: float | None = None,
    mode: str = "replace",
    pipeline: Pipeline | None = None,
    on_stage: Callable[[str, int], None] | None = None,
) -> MediaInfo:
    """Character Swap outside the server (the command line and the benchmarks): ``mode`` run on
    ``image`` and ``video`` by ``pipeline`` (default: this engine), written to ``out``; returns
    what ``out`` holds. ``on_stage`` is told the stage at work and the 0-99 progress."""
    info = probe(video)
    with tempfile.TemporaryDirectory(prefix="reelsmith-swap-") as work:
        job = Job(
            task_id="local",
            product="character_swap",
            params=CharacterSwapParams(
                image_url="", video_url="", duration=seconds or info.duration, resolution=resolution, mode=mode
            ),
            inputs={"image": image, "video": video},
            work_dir=Path(work),
            report_progress=lambda _: None,
            check_cancelled=lambda: None,
            report_stage=on_stage,
        )
        result = (pipeline or CharacterSwapPipeline(Settings())).run(job)
        shutil.move(result.files["video"], out)
    return probe(out)


def compare_swap_file(
    image: Path, video: Path, out: Path, resolution: str = "480p", seconds: float | None = None, mode: str = "replace"
) -> Path:
    """A side-by-side clip (source | character | output) of ``mode`` on ``image`` and ``video``,
    with the output's sound; written to ``out``."""
    from reelsmith.media.compose import side_by_side

    with tempfile.TemporaryDirectory(prefix="reelsmith-compare-") as work:
        swapped = Path(work) / "swapped.mp4"
        info = swap_file(image, video, swapped, resolution, seconds, mode)
        return side_by_side([video, image, swapped], out, info.duration, height=info.height)
