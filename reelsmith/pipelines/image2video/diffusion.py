"""Image to Video on diffusion models an operator has the weights of: Wan2.2 TI2V-5B, Wan2.2
I2V-A14B and LTX-Video (``reelsmith/models/video_diffusion.py`` runs them on diffusers).

Each engine (``model_engines.py``) is installed where its directory is configured and looks
like a checkpoint of its model (``model_index.json`` and the component folders parse); the
weights load on the first task, or with ``reelsmith models check``. A task:

  1. look    - the picture is fitted to the output frame as the classical engine fits it (the
               resolution's class, the nearest of 16:9, 9:16 and 1:1, cropped around the main
               face or shown whole over a blurred copy); its faces and subject are found for
               the sound designer;
  2. load    - the weights, on the first task of the process;
  3. denoise - the model makes ``k * m + 1`` frames at its own frame rate and size (about
               1280x720 of area, each side a multiple it needs; less with
               REELSMITH_MODEL_MAX_PIXELS), progress per step, cancellable between steps;
  4. decode  - the VAE turns the latents into frames;
  5. encode  - exactly ``video_length`` x fps frames, scaled to the output frame, into H.264;
  6. sound   - meanwhile, our sound design for the motion the prompt (or effect) asks for, or
               the user's audio, put on the video with a poster frame (``finishing.py``).

Akool's fields: ``prompt`` and ``negative_prompt`` go to the model (the model's own negative
prompt when none is given); ``extend_prompt`` adds the motion our prompt reader plans and a line
on quality; ``seed`` seeds the noise; ``effect_code`` picks an effect LoRA from
REELSMITH_EFFECT_LORAS_FILE (its trigger words lead the prompt); ``last_image_url`` is the frame
to end on where the model takes one (Wan2.2 I2V-A14B).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from reelsmith.media.picture import load_picture
from reelsmith.models.diffusers_loading import OutOfMemory, Placement, WeightsError, models_extra_missing
from reelsmith.models.video_diffusion import (
    LTX_I2V,
    WAN_I2V,
    WAN_TI2V,
    Architecture,
    EffectLora,
    Frames,
    Generation,
    LoraError,
    VideoDiffusion,
    check_layout,
    write_tiny,
)
from reelsmith.pipelines.base import EngineUnavailable, Job, PipelineError, PipelineResult, Stage, StageProgress
from reelsmith.pipelines.image2video.audio import SAMPLE_RATE, soundtrack_bed
from reelsmith.pipelines.image2video.canvas import output_size
from reelsmith.pipelines.image2video.effects import effect_by_code
from reelsmith.pipelines.image2video.finishing import add_audio, finish, make_sound
from reelsmith.pipelines.image2video.pipeline import MODEL, Look, look_at, plan_for
from reelsmith.pipelines.image2video.plan import MotionPlan
from reelsmith.pipelines.image2video.render import encode
from reelsmith.pipelines.model_engines import ModelEngine, model_engine
from reelsmith.products.catalog import Catalog, EffectEntry, ModelEntry
from reelsmith.products.image2video import LENGTHS, MAX_COUNT, Image2VideoParams
from reelsmith.settings import Settings

log = logging.getLogger("reelsmith.engines")

STAGES = [
    Stage("look", 1),
    Stage("load", 2),
    Stage("denoise", 20),
    Stage("decode", 2),
    Stage("encode", 3),
    Stage("sound", 0.5),
]
# What extend_prompt adds after the motion our prompt reader plans.
EXTENSION = "Natural, fluid motion; the subject keeps its look from the picture; cinematic lighting, sharp detail."


# --- effect LoRAs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoraEffect:
    """One row of REELSMITH_EFFECT_LORAS_FILE: an effect made by a LoRA on some models."""

    code: str
    name: str
    trigger: str  # words that call the effect up, put before the prompt
    lora: Path
    models: tuple[str, ...]  # the model names (model_name) it is made for
    lora_2: Path | None = None  # a file of its own for a two-expert model's low-noise transformer
    scale: float = 1.0
    category: str = "lora"
    description: str = ""

    def adapter(self) -> EffectLora:
        return EffectLora(self.code, self.lora, self.lora_2, self.scale)


def effect_loras(table: Path | None) -> dict[str, LoraEffect]:
    """The effects of the LoRA table (JSON: effect code -> {"lora": path, "trigger": words, "name":
    ..., "models": [model names], and optionally "lora_2", "scale", "category", "description"}).
    Paths are relative to the table's folder. A table that does not parse gives no effects and a
    row that is incomplete, or whose file is missing, is left out; the log says why."""
    if table is None:
        return {}
    try:
        rows = json.loads(table.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("REELSMITH_EFFECT_LORAS_FILE could not be read (%s): no effect LoRAs", exc)
        return {}
    if not isinstance(rows, dict):
        log.warning("REELSMITH_EFFECT_LORAS_FILE is not a JSON object of effect codes: no effect LoRAs")
        return {}
    effects = {}
    for code, row in rows.items():
        try:
            effects[code] = _lora_effect(code, row, table.parent)
        except (TypeError, ValueError) as exc:
            log.warning("effect LoRA %r left out: %s", code, exc)
    return effects


def _lora_effect(code: str, row: object, folder: Path) -> LoraEffect:
    if not isinstance(row, dict):
        raise ValueError("its row is not a JSON object")
    if not code.strip():
        raise ValueError("an effect code must not be empty")
    models = row.get("models")
    if not (isinstance(models, list) and models and all(isinstance(model, str) for model in models)):
        raise ValueError('"models" must list the model names it is made for')
    scale = float(row.get("scale", 1.0))
    if not math.isfinite(scale):
        raise ValueError('"scale" must be a number')
    return LoraEffect(
        code=code,
        name=_text(row, "name", default=code),
        trigger=_text(row, "trigger"),
        lora=_file(row.get("lora"), folder, "lora"),
        models=tuple(models),
        lora_2=_file(row["lora_2"], folder, "lora_2") if row.get("lora_2") else None,
        scale=scale,
        category=_text(row, "category", default="lora"),
        description=_text(row, "description"),
    )


def _text(row: dict[str, Any], key: str, default: str = "") -> str:
    value = row.get(key, default)
    if not isinstance(value, str):
        raise ValueError(f'"{key}" must be a string')
    return value.strip() or default


def _file(value: object, folder: Path, key: str) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f'"{key}" must name a LoRA file')
    path = Path(value).expanduser()
    path = path if path.is_absolute() else folder / path
    if not path.is_file():
        raise ValueError(f'its "{key}" file does not exist')
    return path


# --- the engines ----------------------------------------------------------------------------------


class DiffusionImage2Video:
    """Image to Video on one diffusion model; the subclasses name the engine and its model."""

    engine: ClassVar[str]
    architecture: ClassVar[Architecture]
    provider: ClassVar[str]
    sort: ClassVar[int]
    summary: ClassVar[str]

    def __init__(self, settings: Settings) -> None:
        spec = model_engine(self.engine)
        if spec is None:  # model_engines.py declares every engine of this module
            raise EngineUnavailable(f"no model engine named {self.engine!r} is declared")
        self.spec: ModelEngine = spec
        self.settings = settings
        folder = spec.weights(settings)
        if folder is None:
            raise EngineUnavailable(f"the {spec.title} engine has no weights: {spec.setting} is not set")
        missing = models_extra_missing()
        if missing:
            raise EngineUnavailable(f"the {spec.title} engine cannot run here: {missing}")
        try:
            check_layout(folder, self.architecture)
        except WeightsError as exc:
            raise EngineUnavailable(
                f"the {spec.title} weights ({spec.setting}) are not usable: {exc}; the credits were refunded"
            ) from exc
        placement = Placement(
            device=settings.model_device,
            dtype=settings.model_dtype,
            cpu_offload=settings.model_cpu_offload,
            vae_tiling=settings.model_vae_tiling,
        )
        self.model = VideoDiffusion(folder, self.architecture, placement)
        self.effects = {
            code: effect
            for code, effect in effect_loras(settings.effect_loras_file).items()
            if spec.model in effect.models
        }

    # --- catalog -------------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        effects = tuple(
            EffectEntry(effect.code, effect.name, effect.category, effect.description, previews=False)
            for effect in self.effects.values()
        )
        return Catalog(effects=effects, models=(self.model_entry(),))

    def model_entry(self) -> ModelEntry:
        area = min(self.architecture.native_area, self.settings.model_max_pixels or self.architecture.native_area)
        made = f"{round(math.sqrt(area * 16 / 9))}x{round(math.sqrt(area * 9 / 16))}"
        return ModelEntry(
            value=self.spec.model,
            label=self.spec.title,
            description=(
                f"{self.summary} Made at about {made} ({self.architecture.fps} fps) and scaled to the "
                "resolution asked for. Sound designed by reelsmith."
            ),
            provider=self.provider,
            sort=self.sort,
            generate_audio=True,
            resolutions=MODEL.resolutions,
            durations=LENGTHS,
            max_count=MAX_COUNT,
            supports_last_frame=self.architecture.last_image,
        )

    def load_check(self) -> str:
        """Load the weights as a task would; where they run ("cuda:0, bfloat16")."""
        try:
            return self.model.load()
        except (WeightsError, OutOfMemory) as exc:
            raise EngineUnavailable(str(exc)) from exc

    # --- run -----------------------------------------------------------------------------------

    def run(self, job: Job[Image2VideoParams]) -> PipelineResult:
        params = job.params
        if params.only_add_audio:
            return add_audio(job)
        progress = StageProgress(job, STAGES)
        effect = self._effect(params.effect_code)
        seconds = params.video_length
        fps = self.architecture.fps
        needed = fps * seconds
        silent = job.work_dir / "frames.mp4"
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The sound is made on the CPU while the model runs: its bed first (it needs only
            # the seed), the rest as soon as the plan is known.
            bed = pool.submit(soundtrack_bed, params.seed, seconds, SAMPLE_RATE) if params.audio_type == 1 else None
            picture = load_picture(job.inputs["image"])
            frame = output_size(params.resolution, picture.shape[1], picture.shape[0])
            look = look_at(picture, frame)
            ending = self._ending(job, frame)
            reading = _reading(params, look, effect)
            plan = self._sound_plan(params, reading)
            sound = pool.submit(make_sound, job, plan, seconds, bed)
            progress.update("look", 1.0)
            self._load()
            progress.update("load", 1.0)
            size = self.model.size_for(frame[0] / frame[1], self.settings.model_max_pixels)
            request = Generation(
                image=_resized(look.framed, size),
                prompt=model_prompt(params, effect, reading),
                negative_prompt=params.negative_prompt,
                frames=self.model.frame_count(needed),
                seed=params.seed,
                steps=self.settings.model_steps,
                last_image=None if ending is None else _resized(ending, size),
                lora=None if effect is None else effect.adapter(),
            )
            frames = self._generate(request, progress)
            if len(frames) < needed:
                raise PipelineError(f"{self.spec.model} made {len(frames)} frames where {needed} were needed")
            progress.update("decode", 1.0)
            encode(
                _scaled(frames[:needed], frame),
                frame,
                fps,
                silent,
                on_frame=lambda done: progress.update("encode", done / needed),
            )
            audio = sound.result()
        generation = {
            "model": self.spec.model,
            "size": f"{size[0]}x{size[1]}",
            "frames": request.frames,
            "fps": fps,
            "steps": request.steps,
            "prompt": request.prompt,
            # each stage's wall time so far (the sound's is what finishing takes after)
            "seconds": {stage: round(spent, 3) for stage, spent in progress.seconds.items() if stage != "sound"},
        }
        result = finish(job, silent, audio, needed / fps, {"motion_plan": plan.to_json(), "generation": generation})
        progress.update("sound", 1.0)
        return result

    def _effect(self, code: str) -> LoraEffect | None:
        if not code:
            return None
        effect = self.effects.get(code)
        if effect is None:
            raise PipelineError(f"the effect {code!r} is not installed for {self.spec.model}")
        return effect

    def _ending(self, job: Job[Image2VideoParams], frame: tuple[int, int]) -> np.ndarray | None:
        last = job.inputs.get("last_image")
        if last is None:
            return None
        if not self.architecture.last_image:
            raise PipelineError(f"last_image_url is not supported by {self.spec.model}")
        return look_at(load_picture(last), frame).framed

    def _sound_plan(self, params: Image2VideoParams, reading: MotionPlan) -> MotionPlan:
        """What the task's sound is designed for and its record shows: the motion our prompt
        reader (or the effect) plans, where the request names any; else an ambience bed."""
        asked = reading.source != "default" or params.extend_prompt
        said = f"Generated by {self.spec.title} from the picture and the prompt"
        if asked and reading.moves:
            description = f"{said}; the sound follows the motion asked for: {reading.description}"
            moves = reading.moves
        else:
            description = f"{said}; the sound is an ambience bed (the prompt names no motion the designer knows)."
            moves = ()
        return MotionPlan(moves=moves, source=f"model:{self.spec.model}", description=description, seed=reading.seed)

    def _load(self) -> None:
        try:
            self.model.load()
        except WeightsError as exc:
            raise PipelineError(f"the {self.spec.model} model could not be loaded: {exc}") from exc
        except OutOfMemory as exc:
            raise PipelineError(_out_of_memory(str(exc))) from exc

    def _generate(self, request: Generation, progress: StageProgress) -> Frames:
        try:
            return self.model.generate(request, lambda done, total: progress.update("denoise", done / total))
        except OutOfMemory as exc:
            raise PipelineError(_out_of_memory(str(exc))) from exc
        except LoraError as exc:
            raise PipelineError(
                f"the effect's LoRA could not be loaded into {self.spec.model} ({exc}); the effect table "
                "may name a LoRA made for another model"
            ) from exc


class WanTI2VPipeline(DiffusionImage2Video):
    engine = "image2video-wan-ti2v"
    architecture = WAN_TI2V
    provider = "Wan-AI"
    sort = 2
    summary = "Wan2.2 TI2V-5B: real motion from one picture and a prompt, on a single GPU."


class WanI2VPipeline(DiffusionImage2Video):
    engine = "image2video-wan-i2v"
    architecture = WAN_I2V
    provider = "Wan-AI"
    sort = 3
    summary = "Wan2.2 I2V-A14B: two 14B experts (high and low noise); can end on a last frame."


class LTXPipeline(DiffusionImage2Video):
    engine = "image2video-ltx"
    architecture = LTX_I2V
    provider = "Lightricks"
    sort = 4
    summary = "LTX-Video image-to-video: fast motion from one picture and a prompt."


# --- the pieces -----------------------------------------------------------------------------------


def _reading(params: Image2VideoParams, look: Look, effect: LoraEffect | None) -> MotionPlan:
    """The plan our prompt reader makes of the request: the classical effect of the same code,
    where there is one, else the prompt's motion (the effect's name standing in for an empty
    prompt)."""
    if effect is not None and effect_by_code(effect.code) is None:
        params = dataclasses.replace(params, effect_code="", prompt=params.prompt or effect.name)
    return plan_for(params, look.scene)


def model_prompt(params: Image2VideoParams, effect: LoraEffect | None, reading: MotionPlan) -> str:
    """The prompt the model gets: the effect's trigger words first, then the request's prompt
    (the effect's description or name when it has none); with ``extend_prompt``, the motion our
    reader plans and a line on quality after it."""
    text = params.prompt.strip()
    if effect is not None:
        text = ", ".join(part for part in (effect.trigger, text or effect.description or effect.name) if part)
    if params.extend_prompt:
        parts = (text.rstrip(". ") + "." if text else "", reading.description.strip(), EXTENSION)
        text = " ".join(part for part in parts if part)
    return text


def _out_of_memory(what: str) -> str:
    return (
        f"{what}: the server's GPU is too small for this video as configured; try 5 seconds, or the "
        "operator can set REELSMITH_MODEL_CPU_OFFLOAD=true, REELSMITH_MODEL_VAE_TILING=true or a lower "
        "REELSMITH_MODEL_MAX_PIXELS"
    )


def _resized(picture: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``picture`` at ``size`` (width, height): area averaging down, cubic up."""
    if (picture.shape[1], picture.shape[0]) == size:
        return picture
    shrinking = size[0] * size[1] < picture.shape[0] * picture.shape[1]
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC)


def _scaled(frames: Iterable[np.ndarray], size: tuple[int, int]) -> Iterator[np.ndarray]:
    """The model's frames at the output frame's size, one at a time. The generated shape is the
    frame's within the rounding of its sides, so each axis is scaled on its own: the picture's
    geometry comes back exactly as it was fitted."""
    for frame in frames:
        yield np.ascontiguousarray(_resized(frame, size))


# --- tiny weights for tests -------------------------------------------------------------------


def make_tiny(folder: Path) -> dict[str, str]:
    """Tiny random-weight checkpoints of the three engines' layouts under ``folder`` (their videos
    are noise): the settings that point at them."""
    written = {}
    for setting, name, architecture in (
        ("REELSMITH_WAN_TI2V_DIR", "wan-ti2v", WAN_TI2V),
        ("REELSMITH_WAN_I2V_DIR", "wan-i2v", WAN_I2V),
        ("REELSMITH_LTX_I2V_DIR", "ltx-i2v", LTX_I2V),
    ):
        written[setting] = str(write_tiny(folder / name, architecture))
    return written
