"""Character Swap on Wan2.2-Animate-14B (``model_name`` ``wan2.2-animate-14b``), both modes:
``animate`` (the character's picture moves like the video's person) and ``replace`` (the person
in the video becomes the character, the scene kept). The model runs where the operator has its
weights (``REELSMITH_WAN_ANIMATE_DIR``, diffusers' layout; ``reelsmith/models/wan_animate.py``);
what it is shown is made here from our own tracking (``wan_conditioning.py``).

Stages, top to bottom:
  1. load     - the weights, on the first task of a worker process (kept afterwards);
  2. track    - the source at the model's rate (at most 30 fps, Wan-Animate's), short side at
                least 480 px: on each frame the face (MediaPipe face mesh, followed and One-Euro
                filtered), the body (MediaPipe pose) and, for replace, the person's box (selfie
                mask). A clip without a face (animate) or a person (replace) in its first 3 s
                ends here;
  3. generate - segments of 77 frames, each continuing from the last frame of the one before
                (the model's own continuation), each given its pose, face, and for replace
                background and mask frames; each segment's frames are scaled to the asked size,
                set back to the source's frame rate and streamed into the encoder before the
                next segment starts;
  4. sound    - the source's sound put back, cut to the output's exact length.

Frame size: the shown aspect of the source (replace) or the picture (animate), the short side
of the resolution asked (480, 720, 1080 rounded down to a multiple of 16: 1072), both sides
multiples of 16. The model generates at most its own frame area (1280 x 720, or
``REELSMITH_MODEL_MAX_PIXELS``) in that shape; a larger output (1080p) is upscaled.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections import deque
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from reelsmith.faces.landmarks import find_face
from reelsmith.faces.pose import BodyTrack, find_body
from reelsmith.faces.segmentation import person_mask
from reelsmith.faces.tracking import FaceTrack
from reelsmith.media.decode import read_frames
from reelsmith.media.picture import load_picture
from reelsmith.media.probe import MediaInfo, probe
from reelsmith.models.wan_animate import (
    CONDITIONING_FRAMES,
    FPS,
    NATIVE_AREA,
    SEGMENT_FRAMES,
    AnimateRun,
    Conditioning,
    OutOfMemory,
    Placement,
    WanAnimateModel,
    WeightsError,
    check_layout,
    models_extra_missing,
    write_tiny,
)
from reelsmith.pipelines.base import EngineUnavailable, Job, PipelineError, PipelineResult, Stage, StageProgress
from reelsmith.pipelines.character_swap.pipeline import SHORT_SIDE, encode_with_sound, source_video
from reelsmith.pipelines.character_swap.wan_conditioning import (
    NECK,
    NOSE,
    Retarget,
    Skeleton,
    centre_box,
    crop_face,
    draw_pose,
    face_crop_box,
    mask_and_background,
    person_box,
    skeleton_of,
)
from reelsmith.products.catalog import Catalog, ModelEntry
from reelsmith.products.character_swap import MODES, CharacterSwapParams
from reelsmith.settings import Settings

log = logging.getLogger("reelsmith.engines")

ENGINE = "character-swap-wan-animate"
MODEL_NAME = "wan2.2-animate-14b"
TITLE = "Wan2.2-Animate-14B"
STAGES = [Stage("load", 0.5), Stage("track", 2), Stage("generate", 12), Stage("sound", 0.3)]
# The driver is tracked with its short side at least this (the face mesh sees a 192 px crop).
_TRACK_SIDE = 480
_LOOK_SECONDS = 3.0
_PROGRESS_EVERY = 10  # frames between progress reports while tracking
# The character picture is looked at (face mesh, pose) with its long side at most this.
_LOOK_SIDE = 1024


def make_tiny(folder: Path) -> dict[str, str]:
    """Tiny random weights in Wan2.2-Animate's diffusers layout, written into ``folder`` (about
    0.5 MB, seconds); the settings that point at them. The videos are noise: what runs is
    everything around the model."""
    write_tiny(folder)
    return {"REELSMITH_WAN_ANIMATE_DIR": str(folder)}


class WanAnimatePipeline:
    engine = ENGINE
    # Wan-Animate's own segment: 77 frames, continuing from the last 1 of the segment before.
    segment_frames = SEGMENT_FRAMES
    conditioning_frames = CONDITIONING_FRAMES

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model: WanAnimateModel | None = None
        self._lock = threading.Lock()
        self._said_problem: str | None = None

    # --- what it offers ---

    def layout_problem(self) -> str | None:
        """Why the weights cannot be listed (not configured, the models extra missing, a broken
        layout), or None; reads a few small files, loads nothing."""
        folder = self.settings.wan_animate_dir
        if folder is None:
            return "REELSMITH_WAN_ANIMATE_DIR is not set"
        problem = models_extra_missing()
        if problem:
            return problem
        try:
            check_layout(folder)
        except WeightsError as exc:
            return str(exc)
        return None

    def catalog(self) -> Catalog:
        problem = self.layout_problem()
        if problem is not None:
            if problem != self._said_problem:
                log.warning("%s is not listed: %s (%s)", TITLE, problem, self.settings.wan_animate_dir)
                self._said_problem = problem
            return Catalog()
        model = ModelEntry(
            value=MODEL_NAME,
            label=TITLE,
            description="Wan2.2-Animate (Wan-AI), on this server's GPU: the character animated like the video's "
            "person (animate), or put in the video in place of the person, scene kept (replace).",
            provider="Wan-AI",
            sort=2,
            product="character_swap",
            modes=MODES,
        )
        return Catalog(models=(model,))

    def load_check(self) -> str:
        """Load the weights (as the first task does) and say where: "cuda:0, bfloat16"; raises
        EngineUnavailable with the reason they do not load."""
        try:
            return self._model_of().load()
        except (WeightsError, OutOfMemory) as exc:
            raise EngineUnavailable(f"the {TITLE} model could not be loaded: {exc}") from exc

    def _model_of(self) -> WanAnimateModel:
        folder = self.settings.wan_animate_dir
        if folder is None:
            raise WeightsError("REELSMITH_WAN_ANIMATE_DIR is not set")
        with self._lock:
            if self._model is None or self._model.folder != folder:
                settings = self.settings
                placement = Placement(
                    device=settings.model_device,
                    dtype=settings.model_dtype,
                    cpu_offload=settings.model_cpu_offload,
                    vae_tiling=settings.model_vae_tiling,
                )
                self._model = WanAnimateModel(folder, placement)
            return self._model

    # --- a task ---

    def run(self, job: Job[CharacterSwapParams]) -> PipelineResult:
        params = job.params
        progress = StageProgress(job, STAGES)
        model = self._load()
        progress.update("load", 1.0)
        source, info, seconds = source_video(job)
        picture = load_picture(job.inputs["image"])
        replace = params.mode == "replace"
        if replace:
            out_size = frame_size(info.display_width, info.height, params.resolution)
        else:
            out_size = frame_size(picture.shape[1], picture.shape[0], params.resolution)
        work = work_size(out_size, self._max_pixels(), model.side_multiple)
        timeline = Timeline.of(seconds, info.fps, self.conditioning_frames)
        track_size = tracking_size(info, work)

        tracks = track_driver(source, track_size, timeline, replace, progress)
        if replace:
            character = letterbox(picture, work)
            poses = [track.skeleton.scaled(*_ratio(track_size, work)) for track in tracks]
        else:
            character = cv2.resize(picture, work, interpolation=cv2.INTER_AREA)
            poses = retargeted_poses(picture, tracks, track_size, work)

        run = self._start(model, character, params, job.task_id)
        report = WanReport(timeline, work, tracks)
        try:
            generated = generate(run, source, timeline, track_size, work, tracks, poses, replace, progress, report)
            output, count = encode_with_sound(job, output_frames(generated, timeline, out_size), out_size, info)
        finally:
            run.close()
        progress.update("sound", 1.0)
        return PipelineResult(
            files={"video": output},
            fields={"video_duration": round(probe(output).duration, 3), "swap_report": report.as_dict(count)},
        )

    def _load(self) -> WanAnimateModel:
        try:
            model = self._model_of()
            model.load()
        except WeightsError as exc:
            raise PipelineError(f"the {TITLE} model could not be loaded: {exc}") from exc
        except OutOfMemory as exc:
            raise PipelineError(f"the {TITLE} model did not fit: {exc}; {_MEMORY_ADVICE}") from exc
        return model

    def _max_pixels(self) -> int:
        limit = self.settings.model_max_pixels
        return min(NATIVE_AREA, limit) if limit else NATIVE_AREA

    def _start(
        self, model: WanAnimateModel, image: np.ndarray, params: CharacterSwapParams, task_id: str
    ) -> AnimateRun:
        seed = int(hashlib.sha256(task_id.encode()).hexdigest()[:8], 16)  # a task run again makes the same video
        try:
            return model.start(
                image,
                params.mode,
                prompt=params.prompt,
                steps=self.settings.model_steps,
                seed=seed,
                segment_frames=self.segment_frames,
                conditioning_frames=self.conditioning_frames,
            )
        except OutOfMemory as exc:
            raise PipelineError(f"{exc}; {_MEMORY_ADVICE}") from exc


_MEMORY_ADVICE = (
    "to fit, the server's operator can set REELSMITH_MODEL_CPU_OFFLOAD=true and REELSMITH_MODEL_VAE_TILING=true "
    "or lower REELSMITH_MODEL_MAX_PIXELS, or ask for a lower resolution; the credits were refunded"
)


# --- sizes and times -----------------------------------------------------------------------------


def frame_size(width: float, height: float, resolution: str) -> tuple[int, int]:
    """The output's (width, height): the aspect of ``width`` x ``height`` with the short side of
    ``resolution`` rounded down to a multiple of 16 (480, 720, 1072), the long side rounded to
    the nearest multiple of 16."""
    short = SHORT_SIDE[resolution] // 16 * 16
    long = max(short, round(short * max(width, height) / min(width, height) / 16) * 16)
    return (long, short) if width >= height else (short, long)


def work_size(size: tuple[int, int], max_pixels: int, multiple: int = 16) -> tuple[int, int]:
    """The frame the model generates for an output of ``size``: ``size`` itself where it has at
    most ``max_pixels``, else the same shape scaled down to fit, sides multiples of ``multiple``."""
    width, height = size
    if width * height <= max_pixels and width % multiple == 0 and height % multiple == 0:
        return size
    scale = min(1.0, math.sqrt(max_pixels / (width * height)))
    new_width = max(multiple, int(width * scale) // multiple * multiple)
    new_height = max(multiple, int(height * scale) // multiple * multiple)
    return new_width, new_height


def tracking_size(info: MediaInfo, work: tuple[int, int]) -> tuple[int, int]:
    """The size the driver is decoded at (its shown aspect, even sides): short side the larger
    of 480 and the generated frame's, so the face crops and the background lose nothing."""
    width, height = info.display_width, info.height
    short = max(_TRACK_SIDE, min(work))
    scale = short / min(width, height)
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def letterbox(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``picture`` scaled to fit ``size`` whole, centred on black (as Wan-Animate pads its
    reference picture for replace mode)."""
    width, height = size
    scale = min(width / picture.shape[1], height / picture.shape[0])
    inner = (max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
    scaled = cv2.resize(picture, inner, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    canvas = np.zeros((height, width, 3), np.uint8)
    x0, y0 = (width - inner[0]) // 2, (height - inner[1]) // 2
    canvas[y0 : y0 + inner[1], x0 : x0 + inner[0]] = scaled
    return canvas


def _ratio(source: tuple[int, int], target: tuple[int, int]) -> tuple[float, float]:
    return target[0] / source[0], target[1] / source[1]


@dataclass(frozen=True)
class Timeline:
    """The clip's frames at the source's rate (the output) and at the model's (at most 30 fps:
    the source's own rate below that). Model frame ``k`` is the source frame nearest its time;
    output frame ``j`` shows the model frame it falls in."""

    source_fps: float
    model_fps: float
    model_count: int
    output_count: int

    @classmethod
    def of(cls, seconds: float, fps: float, conditioning: int = CONDITIONING_FRAMES) -> Timeline:
        model_fps = min(fps, float(FPS))
        model_count = max(conditioning + 1, round(seconds * model_fps))
        return cls(fps, model_fps, model_count, max(1, round(seconds * fps)))

    def source_index(self, k: int) -> int:
        return round(k * self.source_fps / self.model_fps)

    def model_index(self, j: int) -> int:
        return min(self.model_count - 1, int(j * self.model_fps / self.source_fps + 1e-6))


def model_frames(frames: Iterator[np.ndarray], timeline: Timeline) -> Iterator[np.ndarray]:
    """The source's ``frames`` at the model's rate, ``timeline.model_count`` of them (the last
    frame held if the source ends early)."""
    k, last = 0, None
    try:
        for index, frame in enumerate(frames):
            last = frame
            while k < timeline.model_count and timeline.source_index(k) <= index:
                yield frame
                k += 1
            if k >= timeline.model_count:
                return
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()  # stops ffmpeg when the clip is longer than what is used
    if last is None:
        raise PipelineError("the video has no readable picture")
    while k < timeline.model_count:
        yield last
        k += 1


def segment_starts(count: int, length: int, conditioning: int) -> list[int]:
    """Where each segment starts (model frames), as diffusers' WanAnimatePipeline cuts a clip:
    ``length`` frames each, each after the first starting ``conditioning`` frames before the
    end of the one before; the last one padded past the clip's end."""
    step = length - conditioning
    segments = 1 if count <= length else math.ceil((count - conditioning) / step)
    return [index * step for index in range(segments)]


def bounced(index: int, count: int) -> int:
    """Frame ``index`` of a clip of ``count`` frames played back and forth (diffusers pads the
    last segment so: ..., n-2, n-1, n-2, ...)."""
    if count <= 1:
        return 0
    period = 2 * (count - 1)
    phase = index % period
    return phase if phase < count else period - phase


# --- tracking the driver -----------------------------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    """The driver on one model frame, in the tracking size's pixels."""

    skeleton: Skeleton
    face_box: tuple[int, int, int, int] | None  # the face crop, where a face was found
    person: tuple[float, float, float, float] | None = None  # replace: the box made anew


def track_driver(
    source: Path, size: tuple[int, int], timeline: Timeline, replace: bool, progress: StageProgress
) -> list[Tracked]:
    """Every model frame's :class:`Tracked`; PipelineError when no face (animate) or no person
    (replace) shows in the first 3 seconds."""
    width, height = size
    tracks: list[Tracked] = []
    look = max(1, round(_LOOK_SECONDS * timeline.model_fps))
    found = False
    with FaceTrack(timeline.model_fps) as faces, BodyTrack(timeline.model_fps) as bodies:
        for frame in model_frames(read_frames(source, size), timeline):
            face = faces.next(frame)
            body = bodies.next(frame)
            landmarks = face.points if face is not None else None
            skeleton = skeleton_of(body, landmarks)
            box = face_crop_box(landmarks, width, height) if landmarks is not None else None
            person = person_box(person_mask(frame), landmarks, skeleton) if replace else None
            tracks.append(Tracked(skeleton, box, person))
            found = found or (box is not None if not replace else (box is not None or skeleton.any))
            if not found and len(tracks) >= look:
                raise _nobody(replace)
            if len(tracks) % _PROGRESS_EVERY == 0:
                progress.update("track", len(tracks) / timeline.model_count)
    if not found:
        raise _nobody(replace)
    progress.update("track", 1.0)
    return tracks


def _nobody(replace: bool) -> PipelineError:
    if replace:
        return PipelineError(
            f"no person was found in the first {_LOOK_SECONDS:g} seconds of the video; "
            "replace mode needs a person to replace"
        )
    return PipelineError(
        f"no face was found in the first {_LOOK_SECONDS:g} seconds of the video; animate mode needs a driving face"
    )


def face_boxes(tracks: list[Tracked], size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Each frame's face crop: its own, else the last one before (the first one after, before
    the first face; the middle of the frame in a clip without any)."""
    boxes = [track.face_box for track in tracks]
    first = next((box for box in boxes if box is not None), None) or centre_box(*size)
    filled, last = [], first
    for box in boxes:
        last = box if box is not None else last
        filled.append(last)
    return filled


def retargeted_poses(
    picture: np.ndarray, tracks: list[Tracked], track_size: tuple[int, int], work: tuple[int, int]
) -> list[Skeleton]:
    """Animate mode's skeletons: the driver's on each frame carried onto the character's picture
    (``work``'s pixels); frames where the driver shows nothing hold the pose before (the first
    one, before the driver first shows)."""
    scale = min(1.0, _LOOK_SIDE / max(picture.shape[:2]))
    looked = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else picture
    face = find_face(looked)
    character = skeleton_of(find_body(looked), face.points if face is not None else None)
    sx, sy = work[0] / looked.shape[1], work[1] / looked.shape[0]
    character = character.scaled(sx, sy)
    with_neck = [track.skeleton for track in tracks if track.skeleton.seen[NECK]]
    with_nose = [track.skeleton for track in tracks if track.skeleton.seen[NOSE]]
    reference = (with_neck or with_nose or [Skeleton.empty()])[0]
    if face is not None:
        left, top, right, bottom = face.box
        anchor = ((left + right) / 2 * sx, (bottom + (bottom - top) * 0.6) * sy)  # below the chin
    else:
        anchor = (work[0] / 2, work[1] * 0.75)
    retarget = Retarget(character, reference, work[1] / track_size[1], anchor)
    poses: list[Skeleton | None] = [retarget(track.skeleton) if track.skeleton.any else None for track in tracks]
    first = next((pose for pose in poses if pose is not None), Skeleton.empty())
    held, last = [], first
    for pose in poses:
        last = pose if pose is not None else last
        held.append(last)
    return held


# --- generating ----------------------------------------------------------------------------------


class WanReport:
    """What the task did, for its record (``swap_report``)."""

    def __init__(self, timeline: Timeline, work: tuple[int, int], tracks: list[Tracked]) -> None:
        self.timeline = timeline
        self.work = work
        self.with_face = [track.face_box is not None for track in tracks]
        self.segments = 0

    def as_dict(self, frames: int) -> dict[str, object]:
        faces = sum(self.with_face[self.timeline.model_index(j)] for j in range(frames))
        return {
            "frames": frames,
            "frames_with_face": faces,
            "segments": self.segments,
            "model_size": f"{self.work[0]}x{self.work[1]}",
            "model_fps": round(self.timeline.model_fps, 3),
        }


def generate(
    run: AnimateRun,
    source: Path,
    timeline: Timeline,
    track_size: tuple[int, int],
    work: tuple[int, int],
    tracks: list[Tracked],
    poses: list[Skeleton],
    replace: bool,
    progress: StageProgress,
    report: WanReport,
) -> Iterator[np.ndarray]:
    """The model's frames (``work`` size, the model's rate), segment by segment. Each
    segment's conditioning is made from the source decoded again (only the last segment's
    worth of frames is held, for the padding at the clip's end)."""
    count, length, kept = timeline.model_count, run.segment_frames, run.conditioning_frames
    starts = segment_starts(count, length, kept)
    boxes = face_boxes(tracks, track_size)
    sx, sy = _ratio(track_size, work)
    side = run.face_size

    def prepared() -> Generator[tuple[np.ndarray, ...]]:
        for index, frame in enumerate(model_frames(read_frames(source, track_size), timeline)):
            pose = draw_pose(poses[index], work)
            face = crop_face(frame, boxes[index], side)
            if not replace:
                yield pose, face
                continue
            box = tracks[index].person
            scaled = None if box is None else (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy)
            small = cv2.resize(frame, work, interpolation=cv2.INTER_AREA) if work != track_size else frame
            mask, background = mask_and_background(small, scaled)
            yield pose, face, background, mask

    items = prepared()
    held: deque[tuple[np.ndarray, ...]] = deque(maxlen=length)
    made = 0  # items prepared so far (model frame indices 0..made-1)
    emitted = 0
    with closing(items):
        for number, start in enumerate(starts):
            indices = [bounced(start + offset, count) for offset in range(length)]
            while made <= min(start + length - 1, count - 1):
                held.append(next(items))
                made += 1
            first_held = made - len(held)
            chosen = [held[index - first_held] for index in indices]
            inputs = Conditioning(
                pose=np.stack([item[0] for item in chosen]),
                face=np.stack([item[1] for item in chosen]),
                background=np.stack([item[2] for item in chosen]) if replace else None,
                mask=np.stack([item[3] for item in chosen]) if replace else None,
            )
            del chosen

            def on_step(done: int, total: int, number: int = number) -> None:
                progress.update("generate", (number + done / total) / len(starts))

            try:
                frames = run.segment(inputs, on_step)
            except OutOfMemory as exc:
                raise PipelineError(f"{exc}; {_MEMORY_ADVICE}") from exc
            del inputs
            report.segments += 1
            for frame in frames:
                if emitted < count:
                    yield frame
                    emitted += 1


def output_frames(frames: Iterator[np.ndarray], timeline: Timeline, size: tuple[int, int]) -> Iterator[np.ndarray]:
    """The model's frames at the output's ``size`` and the source's rate: each shown for as many
    output frames as fall in it, ``timeline.output_count`` in all."""
    produced, last = 0, None
    for index, frame in enumerate(frames):
        scaled = None
        while produced < timeline.output_count and timeline.model_index(produced) == index:
            if scaled is None:
                scaled = _scaled(frame, size)
            yield scaled
            produced += 1
        last = scaled if scaled is not None else last
    while last is not None and produced < timeline.output_count:
        yield last
        produced += 1


def _scaled(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    shrinking = frame.shape[1] > size[0]
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)
