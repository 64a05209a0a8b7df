"""Character Swap's replace mode with a neural face swapper: the ``character-swap-face-swapper``
engine (``model_name`` ``reelsmith-face-swapper``), running the operator's inswapper-128-compatible
ONNX model and its ArcFace embedder (:mod:`reelsmith.models.face_swapper`) on onnxruntime, on
CUDA where there is one and on the CPU otherwise.

Around the model, everything is ours, as in the landmark engine's replace mode:

  1. character - the picture's face mesh gives five points (eye centres, nose tip, mouth
                 corners); the face aligned to ArcFace's 112 px template gives the identity
                 embedding, which ``emap`` makes the swapper's identity latent (once per task);
  2. swap      - each frame's face tracked (MediaPipe face mesh, One-Euro filtered, cuts
                 reset); its five points give the similarity to the swapper's 128 px template;
                 the aligned crop is swapped, warped back, recoloured to the frame's lighting
                 and blended in through the feathered outline of the face (pulled in at the
                 hairline) where the crop covers it; frames without a face pass untouched;
  3. sound     - the source's sound put back on, cut to the output's exact length.

The models are loaded on the first task (again when their files change), not when a worker
starts; the catalog lists the model only while both files pass a cheap check (ONNX, with the
expected inputs, outputs and shapes).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from reelsmith.faces.alignment import aligned_crop, alignment, five_points
from reelsmith.faces.blending import ColourMatch, face_outline, face_size, outline_mask, paste_face
from reelsmith.faces.landmarks import find_face
from reelsmith.faces.mesh_warp import Box
from reelsmith.faces.tracking import TrackedFace
from reelsmith.media.decode import read_frames
from reelsmith.media.picture import load_picture
from reelsmith.models.face_swapper import (
    EMBED_SIDE,
    SWAP_SIDE,
    FaceSwapper,
    FaceSwapperError,
    alignment_template,
    files_problem,
    load_face_swapper,
    write_tiny_models,
)
from reelsmith.pipelines.base import EngineUnavailable, Job, PipelineError, PipelineResult, StageProgress
from reelsmith.pipelines.character_swap.pipeline import (
    STAGES,
    SwapReport,
    finish_video,
    output_size,
    source_video,
    swap_frames,
)
from reelsmith.products.catalog import Catalog, ModelEntry
from reelsmith.products.character_swap import NAME, CharacterSwapParams
from reelsmith.settings import Settings

ENGINE = "character-swap-face-swapper"
MODEL = ModelEntry(
    value="reelsmith-face-swapper",
    label="ONNX face swapper (inswapper-128 compatible)",
    description=(
        "Replace mode with a neural face swapper: the character's identity (ArcFace) on the "
        "video's face, with reelsmith's tracking, alignment, colour match and blending; CUDA or CPU."
    ),
    provider="insightface",
    product=NAME,
    modes=("replace",),
)
# The swapped crop's rim (pixels of the 128 crop) is left out: its edge pixels are the model's
# least reliable.
_RIM = 2


class FaceSwapperPipeline:
    engine = ENGINE

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model: FaceSwapper | None = None
        self._loaded_version: tuple[tuple[str, int, int], ...] | None = None
        self._lock = threading.Lock()

    def catalog(self) -> Catalog:
        if files_problem(self.settings.face_swapper_model, self.settings.face_embedder_model) is not None:
            return Catalog()
        return Catalog(models=(MODEL,))

    def load_check(self) -> str:
        """Load both models as a task would, run them once, and say where they run."""
        try:
            model = self._loaded()
            model.try_once()
        except FaceSwapperError as exc:
            raise EngineUnavailable(str(exc)) from exc
        return model.where

    def run(self, job: Job[CharacterSwapParams]) -> PipelineResult:
        params = job.params
        if params.mode != "replace":
            raise PipelineError(f"the {MODEL.value} model makes replace mode only, not {params.mode}")
        progress = StageProgress(job, STAGES)
        try:
            model = self._loaded()
        except FaceSwapperError as exc:
            raise PipelineError(f"the face swapper's models could not be loaded: {exc}") from exc
        source, info, seconds = source_video(job)
        size = output_size(info.display_width, info.height, params.resolution)
        latent = character_latent(model, load_picture(job.inputs["image"]))
        progress.update("character", 1.0)
        report = SwapReport()
        replacer = NeuralFaceReplacer(model, latent, size)
        frames = swap_frames(read_frames(source, size, seconds), replacer, info.fps, report)
        return finish_video(job, frames, size, info, seconds, progress, report, every=1)

    def _loaded(self) -> FaceSwapper:
        """The models, loaded on first use and again when their files changed."""
        swapper, embedder = self.settings.face_swapper_model, self.settings.face_embedder_model
        with self._lock:
            version = _version(swapper, embedder)
            if self._model is None or version != self._loaded_version:
                self._model = None
                self._model = load_face_swapper(swapper, embedder, self.settings.model_device)
                self._loaded_version = version
            return self._model


def _version(*paths: Path | None) -> tuple[tuple[str, int, int], ...] | None:
    """The files as this process tells them apart (path, size, modification time); None when
    one is not set or not there (loading says why)."""
    try:
        return tuple((str(path), (stat := path.stat()).st_size, stat.st_mtime_ns) for path in paths if path)
    except OSError:
        return None


def character_latent(model: FaceSwapper, picture: np.ndarray) -> np.ndarray:
    """The swapper's identity latent for the largest face of ``picture`` (uint8 RGB)."""
    face = find_face(picture)
    if face is None:
        raise PipelineError("no face was found in the character image")
    to_crop = alignment(five_points(face.points), alignment_template(EMBED_SIDE))
    try:
        return model.latent(model.embed(aligned_crop(picture, to_crop, EMBED_SIDE)))
    except FaceSwapperError as exc:
        raise PipelineError(str(exc)) from exc


class NeuralFaceReplacer:
    """Puts one identity on the tracked faces of one video's frames through the swapper."""

    def __init__(self, model: FaceSwapper, latent: np.ndarray, frame_size: tuple[int, int]) -> None:
        self.model = model
        self.latent = latent
        self.frame_size = frame_size
        self._template = alignment_template(SWAP_SIDE)
        self._inside = np.zeros((SWAP_SIDE, SWAP_SIDE), np.uint8)
        self._inside[_RIM:-_RIM, _RIM:-_RIM] = 1
        self._colour = ColourMatch()

    def forget(self) -> None:
        """A frame without a face: the next face starts fresh colour statistics."""
        self._colour.reset()

    def apply(self, frame: np.ndarray, face: TrackedFace) -> np.ndarray:
        """``frame`` (H x W x 3 uint8 RGB) with the identity on ``face``; a new array."""
        output = frame.copy()
        points = face.points
        box = Box.around(face_outline(points, np.zeros(2, np.float32)).astype(np.float32), self.frame_size, 1.0)
        if box is None:
            return output
        to_crop = alignment(five_points(points), self._template)
        try:
            swapped = self.model.swap(aligned_crop(frame, to_crop, SWAP_SIDE), self.latent)
        except FaceSwapperError as exc:
            raise PipelineError(str(exc)) from exc
        # The crop's pixels carried back into the box: crop -> frame, then frame -> box.
        back = to_crop.inverse().matrix[:2].copy()
        back[:, 2] -= (box.left, box.top)
        region = (box.width, box.height)
        pixels = cv2.warpAffine(swapped, back, region, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        covered = cv2.warpAffine(self._inside, back, region, flags=cv2.INTER_NEAREST, borderValue=0)
        solid = (outline_mask(points, (box.left, box.top), (box.height, box.width)) > 0) & (covered > 0)
        paste_face(output, pixels, solid, (box.left, box.top), face_size(points), self._colour)
        return output


def make_tiny(folder: Path) -> dict[str, str]:
    """Tiny random ONNX models with the swapper's and the embedder's signatures, written into
    ``folder``; the settings that point at them."""
    swapper, embedder = write_tiny_models(folder)
    return {"REELSMITH_FACE_SWAPPER_MODEL": str(swapper), "REELSMITH_FACE_EMBEDDER_MODEL": str(embedder)}
