"""The model-backed engines (issue 20): each runs weights an operator configured (a directory or
a file named by a ``REELSMITH_*`` setting; reelsmith never downloads any), is installed only on a
host where they are configured, and has a worker queue of its own, so a GPU host runs them and a
CPU host the rest.

Each engine's pipeline lists its model in the catalog (``model_name`` picks it) and answers
:class:`LoadCheck` for ``reelsmith models check``; its module has a ``make_tiny(folder)`` that
writes tiny random weights in the same layout, so a host can be tested end to end in seconds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from reelsmith.settings import Settings


@runtime_checkable
class LoadCheck(Protocol):
    """A model pipeline that can say whether its weights load, and where."""

    def load_check(self) -> str:
        """Load the weights (as a task would) and say on which device and in which precision
        ("cuda:0, bfloat16"); raise with the reason when they do not load."""
        ...


@dataclass(frozen=True)
class ModelEngine:
    engine: str  # its worker queue and REELSMITH_ENGINES name
    product: str  # the product whose tasks it runs
    model: str  # the model_name that picks it
    title: str
    pipeline: str  # "module:Class"
    weights: Callable[[Settings], Path | None]  # the configured weights, or None
    setting: str  # the setting that names them, for messages

    def make_tiny(self, folder: Path) -> dict[str, str]:
        """Write tiny random weights of this engine's layout into ``folder``; returns the
        ``REELSMITH_*`` settings that point at them."""
        module_name = self.pipeline.partition(":")[0]
        writer: Callable[[Path], dict[str, str]] = importlib.import_module(module_name).make_tiny
        return writer(folder)


MODEL_ENGINES: tuple[ModelEngine, ...] = (
    ModelEngine(
        "image2video-wan-ti2v",
        "image2video",
        "wan2.2-ti2v-5b",
        "Wan2.2 TI2V-5B",
        "reelsmith.pipelines.image2video.diffusion:WanTI2VPipeline",
        lambda settings: settings.wan_ti2v_dir,
        "REELSMITH_WAN_TI2V_DIR",
    ),
    ModelEngine(
        "image2video-wan-i2v",
        "image2video",
        "wan2.2-i2v-a14b",
        "Wan2.2 I2V-A14B",
        "reelsmith.pipelines.image2video.diffusion:WanI2VPipeline",
        lambda settings: settings.wan_i2v_dir,
        "REELSMITH_WAN_I2V_DIR",
    ),
    ModelEngine(
        "image2video-ltx",
        "image2video",
        "ltx-video-i2v",
        "LTX-Video image-to-video",
        "reelsmith.pipelines.image2video.diffusion:LTXPipeline",
        lambda settings: settings.ltx_i2v_dir,
        "REELSMITH_LTX_I2V_DIR",
    ),
    ModelEngine(
        "character-swap-wan-animate",
        "character_swap",
        "wan2.2-animate-14b",
        "Wan2.2-Animate-14B",
        "reelsmith.pipelines.character_swap.wan_animate:WanAnimatePipeline",
        lambda settings: settings.wan_animate_dir,
        "REELSMITH_WAN_ANIMATE_DIR",
    ),
    ModelEngine(
        "character-swap-face-swapper",
        "character_swap",
        "reelsmith-face-swapper",
        "ONNX face swapper (inswapper-128 compatible)",
        "reelsmith.pipelines.character_swap.face_swapper:FaceSwapperPipeline",
        lambda settings: settings.face_swapper_model,
        "REELSMITH_FACE_SWAPPER_MODEL",
    ),
)


def configured_engines(settings: Settings) -> dict[str, str]:
    """The model engines whose weights are configured: engine -> pipeline target."""
    return {engine.engine: engine.pipeline for engine in MODEL_ENGINES if engine.weights(settings) is not None}


def model_engine(engine: str) -> ModelEngine | None:
    return next((candidate for candidate in MODEL_ENGINES if candidate.engine == engine), None)
