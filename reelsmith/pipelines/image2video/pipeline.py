"""Image to Video on a CPU: one picture, an effect or a prompt, and a clip with sound.

Stages, top to bottom:
  1. look   - load the picture, fit it to the output frame, find faces and the subject;
  2. plan   - the effect's motion plan, or the prompt's;
  3. render - frames rendered from the plan and streamed into the encoder, while
  4. sound  - a soundtrack is designed for the plan (or the user's audio prepared), then put
              on the video.

A task made by updateVideoAudio (``only_add_audio``) skips all that and puts new sound on the
finished video it was given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from reelsmith.media.picture import load_picture
from reelsmith.pipelines.base import Job, PipelineError, PipelineResult, Stage, StageProgress
from reelsmith.pipelines.image2video.audio import SAMPLE_RATE, soundtrack_bed
from reelsmith.pipelines.image2video.canvas import fit_picture, output_size
from reelsmith.pipelines.image2video.effects import EFFECTS, effect_by_code
from reelsmith.pipelines.image2video.finishing import add_audio, finish, make_sound
from reelsmith.pipelines.image2video.layers import (
    SubjectLayers,
    SubjectOutline,
    build_scene,
    cut_out,
    outline_subject,
    scene_faces,
    trimmed,
)
from reelsmith.pipelines.image2video.plan import Face, MotionPlan, Scene, vary
from reelsmith.pipelines.image2video.prompt import plan_from_prompt
from reelsmith.pipelines.image2video.render import encode, render_frames
from reelsmith.pipelines.image2video.transition import has_face_pair, transition_frames
from reelsmith.products.catalog import Catalog, EffectEntry, ModelEntry, ResolutionOption
from reelsmith.products.image2video import LENGTHS, MAX_COUNT, PRICE_5S, RESOLUTIONS, SHORT_SIDE, Image2VideoParams
from reelsmith.settings import Settings

MODEL_NAME = "reelsmith-motion-v1"
STAGES = [Stage("look", 1), Stage("plan", 0.2), Stage("render", 8), Stage("sound", 0.5)]


def frame_rate(resolution: str) -> int:
    """30 fps up to 1080p; 24 fps at 4K, where each frame costs four times as much."""
    return 24 if resolution == "4k" else 30


class Image2VideoPipeline:
    engine = "image2video"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    # --- catalog -------------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        effects = tuple(EffectEntry(e.code, e.name, e.category, e.description) for e in EFFECTS)
        return Catalog(effects=effects, models=(MODEL,))

    def render_preview(self, code: str, folder: Path) -> tuple[Path, Path]:
        """An effect's preview clip and thumbnail (see :func:`render_preview`)."""
        return render_preview(code, folder)

    # --- run -----------------------------------------------------------------------------------

    def run(self, job: Job[Image2VideoParams]) -> PipelineResult:
        if job.params.only_add_audio:
            return add_audio(job)
        params = job.params
        progress = StageProgress(job, STAGES)
        seconds = params.video_length
        fps = frame_rate(params.resolution)

        total = fps * seconds
        silent = job.work_dir / "frames.mp4"
        seed = params.seed
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The sound is only needed at the end: it is made on the core the renderer leaves
            # free, its bed (which needs only the seed) while the picture is looked at, the rest
            # while the subject is cut out and the frames render.
            bed = pool.submit(soundtrack_bed, seed, seconds, SAMPLE_RATE) if params.audio_type == 1 else None
            picture = load_picture(job.inputs["image"])
            size = output_size(params.resolution, picture.shape[1], picture.shape[0])
            look = look_at(picture, size)
            progress.update("look", 1.0)
            last = job.inputs.get("last_image")
            if last is not None:
                ending = look_at(load_picture(last), size).framed
                plan = _transition_plan(look.framed, ending, seed)
                sound = pool.submit(make_sound, job, plan, seconds, bed)
                frames = transition_frames(look.framed, ending, size, fps, seconds, seed)
            else:
                plan = planned(look, plan_for(params, look.scene), lambda scene: plan_for(params, scene))
                sound = pool.submit(make_sound, job, plan, seconds, bed)
                frames = _frames(look, plan, size, fps, seconds)
            progress.update("plan", 1.0)
            encode(
                frames,
                size,
                fps,
                silent,
                on_frame=lambda done: progress.update("render", done / total),
            )
            audio = sound.result()
        result = finish(job, silent, audio, total / fps, {"motion_plan": plan.to_json()})
        progress.update("sound", 1.0)
        return result


class Look:
    """The picture fitted to the frame, its faces and subject, each found when first asked for.

    Outlining the subject is cheap. Trimming its outline by colour (pictures without a face) and
    cutting it out over a filled background plate cost up to half a second together, and only
    plans that move the subject need them.
    """

    def __init__(self, framed: np.ndarray, faces: tuple[Face, ...]) -> None:
        self.framed = framed
        self.faces = faces

    @functools.cached_property
    def outline(self) -> SubjectOutline | None:
        return outline_subject(self.framed, self.faces)

    @functools.cached_property
    def scene(self) -> Scene:
        """What planning needs to know, from the subject's outline."""
        return build_scene(self.framed, self.outline, self.faces)

    @functools.cached_property
    def trimmed(self) -> SubjectOutline | None:
        """The outline as the cut-out subject has it."""
        return None if self.outline is None else trimmed(self.framed, self.outline)

    @functools.cached_property
    def layers(self) -> SubjectLayers | None:
        return None if self.trimmed is None else cut_out(self.framed, self.trimmed)


def plan_for(params: Image2VideoParams, scene: Scene) -> MotionPlan:
    """The motion plan a task asks for: its effect's, or its prompt's (read with rules); a batch's
    tasks each get their own variation of it."""
    seed = params.seed
    seconds = params.video_length
    if params.effect_code:
        effect = effect_by_code(params.effect_code)
        if effect is None:
            raise PipelineError(f"the effect {params.effect_code!r} is no longer installed")
        plan = effect.plan(scene, seed, seconds)
    else:
        plan = plan_from_prompt(
            params.prompt,
            params.negative_prompt,
            params.extend_prompt,
            scene,
            seed,
            seconds,
        )
    # A batch asks for `count` distinct videos: each gets its own variation of the plan.
    return vary(plan, seed) if params.batch_count > 1 else plan


def _frames(look: Look, plan: MotionPlan, size: tuple[int, int], fps: int, seconds: int) -> Iterator[np.ndarray]:
    """The clip's frames; the subject is cut out (when the plan moves it) only when the first
    frame is asked for, so the encoder starts up meanwhile."""
    layers = look.layers if plan.uses_subject else None
    yield from render_frames(look.framed, plan, size, fps, seconds, layers)


def look_at(picture: np.ndarray, size: tuple[int, int]) -> Look:
    """The picture fitted to the frame, centred on the main face when cropping."""
    faces = scene_faces(picture)
    center = max(faces, key=lambda face: face.width * face.height).center if faces else None
    framed = fit_picture(picture, size, center)
    # A picture already of the frame's size comes back unchanged: its faces are known.
    unchanged = framed.shape == picture.shape and np.array_equal(framed, picture)
    return Look(framed, faces if unchanged else scene_faces(framed))


def planned(look: Look, plan: MotionPlan, plan_for: Callable[[Scene], MotionPlan]) -> MotionPlan:
    """The final plan, from ``plan`` (``plan_for(look.scene)``).

    A plan that moves the subject is made again when trimming the outline moved the subject's
    centre (on pictures without a face): it is then the plan the cut-out subject gives. Other
    plans aim at the outline's centre and need no trimming.
    """
    if not plan.uses_subject:
        return plan
    exact = build_scene(look.framed, look.trimmed, look.faces)
    return plan if exact == look.scene else plan_for(exact)


def _transition_plan(first: np.ndarray, last: np.ndarray, seed: int) -> MotionPlan:
    """What a clip to a last frame does, for the task record and the sound designer."""
    if has_face_pair(first, last):
        description = "A morph from the first picture's face to the last one's, matched point by point."
    else:
        description = "A cross-dissolve from the first picture to the last, with a gentle push-in."
    notes = ("with last_image_url the clip is a transition; the prompt and effect do not apply",)
    return MotionPlan(moves=(), source="transition", description=description, seed=seed, notes=notes)


MODEL = ModelEntry(
    value=MODEL_NAME,
    label="reelsmith motion v1",
    description="Effects and prompt-driven camera and subject motion rendered on the CPU, with sound.",
    generate_audio=True,
    resolutions=tuple(
        ResolutionOption(name, SHORT_SIDE[name] * 16 // 9, SHORT_SIDE[name], PRICE_5S[name]) for name in RESOLUTIONS
    ),
    durations=LENGTHS,
    max_count=MAX_COUNT,
    supports_last_frame=True,
)


SAMPLE_PICTURE = Path(__file__).with_name("sample.jpg")
PREVIEW_SIZE = (360, 360)
PREVIEW_FPS = 24
PREVIEW_SECONDS = 3


def render_preview(code: str, folder: Path) -> tuple[Path, Path]:
    """The preview clip and thumbnail of one effect on the bundled sample picture (a NASA
    portrait, public domain), rendered once and kept in ``folder``."""
    effect = effect_by_code(code)
    if effect is None:
        raise KeyError(code)
    clip, thumbnail = folder / f"{code}.mp4", folder / f"{code}.jpg"
    if clip.exists() and thumbnail.exists():
        return clip, thumbnail
    folder.mkdir(parents=True, exist_ok=True)
    look = look_at(load_picture(SAMPLE_PICTURE), PREVIEW_SIZE)
    plan = planned(
        look, effect.plan(look.scene, 0, PREVIEW_SECONDS), lambda scene: effect.plan(scene, 0, PREVIEW_SECONDS)
    )
    layers = look.layers if plan.uses_subject else None
    frames = list(render_frames(look.framed, plan, PREVIEW_SIZE, PREVIEW_FPS, PREVIEW_SECONDS, layers))
    partial = clip.with_suffix(".part.mp4")
    encode(iter(frames), PREVIEW_SIZE, PREVIEW_FPS, partial)
    partial.replace(clip)
    middle = cv2.cvtColor(frames[len(frames) // 2], cv2.COLOR_RGB2BGR)
    thumbnail.write_bytes(cv2.imencode(".jpg", middle, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    return clip, thumbnail
