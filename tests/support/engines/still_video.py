"""A stand-in Image to Video engine for the service-core tests.

The real Image to Video engine is its own issue; these tests need an engine that produces a
real file and takes a controllable time, to exercise dispatch, leases and results. It renders
the input image as a still H.264 clip with ffmpeg, in ``REELSMITH_TEST_STEPS`` steps of
``REELSMITH_TEST_STEP_SECONDS`` each, reporting progress and honouring cancellation. A prompt
containing ``fail`` makes it fail with a user-facing reason. It is plugged in through
``REELSMITH_ENGINE_PLUGINS`` like any operator's engine.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time

from reelsmith.media.probe import ffmpeg_exe, probe
from reelsmith.pipelines.base import Job, PipelineError, PipelineResult, Stage, StageProgress
from reelsmith.products.catalog import Catalog, EffectEntry, ModelEntry
from reelsmith.settings import Settings

# How to plug this engine in: REELSMITH_ENGINE_PLUGINS=<this>
STILL_ENGINE = "image2video=tests.support.engines.still_video:StillVideoPipeline"
# The same engine offering a premium model too (its pipeline for the image2video engine).
PREMIUM_STILL = "tests.support.engines.still_video:PremiumStillVideoPipeline"


class StillVideoPipeline:
    engine = "image2video"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def catalog(self) -> Catalog:
        return Catalog(
            effects=(EffectEntry(code="still_1", name="Still", previews=False),),
            models=(ModelEntry(value="test-still-v1", label="Still", description="test engine", max_count=4),),
        )

    def run(self, job: Job[object]) -> PipelineResult:
        steps = int(os.environ.get("REELSMITH_TEST_STEPS", "1"))
        step_seconds = float(os.environ.get("REELSMITH_TEST_STEP_SECONDS", "0"))
        progress = StageProgress(job, [Stage("wait", 1), Stage("encode", 1)])
        if "fail" in getattr(job.params, "prompt", ""):
            raise PipelineError("the prompt asked this test engine to fail")
        for step in range(steps):
            time.sleep(step_seconds)
            progress.update("wait", (step + 1) / steps)
        output = job.work_dir / "out.mp4"
        source = job.inputs.get("image") or job.inputs["video"]
        seconds = 1
        subprocess.run(
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-loop",
                "1",
                "-i",
                str(source),
                "-t",
                str(seconds),
                "-r",
                "10",
                "-vf",
                "scale=64:-2",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                str(output),
            ],
            check=True,
        )
        progress.update("encode", 1.0)
        return PipelineResult(files={"video": output}, fields={"video_duration": probe(output).duration})


class PremiumStillVideoPipeline(StillVideoPipeline):
    """The still engine with a second, premium model (``isPro``), as an operator's premium
    model would be listed."""

    def catalog(self) -> Catalog:
        catalog = super().catalog()
        premium = dataclasses.replace(catalog.models[0], value="test-still-premium", label="Still premium", is_pro=True)
        return dataclasses.replace(catalog, models=(*catalog.models, premium))


class SecondStillVideoPipeline(StillVideoPipeline):
    """A second Image to Video engine (its own worker queue), as a model-backed one is: its
    model and an effect only it makes."""

    engine = "image2video-second"

    def catalog(self) -> Catalog:
        return Catalog(
            effects=(EffectEntry(code="second_only", name="Second only", previews=False),),
            models=(ModelEntry(value="test-second", label="Second", description="test engine", max_count=2),),
        )


class ReplaceOnlyPipeline(StillVideoPipeline):
    """A Character Swap engine that runs only the replace mode, as the face swapper does."""

    engine = "character-swap-replacer"

    def catalog(self) -> Catalog:
        model = ModelEntry(
            value="test-replacer", label="Replacer", description="test engine", product="character_swap",
            modes=("replace",),
        )  # fmt: skip
        return Catalog(models=(model,))


class StillSwapPipeline(StillVideoPipeline):
    """The still engine in Character Swap's place (it renders the video input's first frame)."""

    engine = "character-swap"

    def catalog(self) -> Catalog:
        model = ModelEntry(
            value="test-still-swap", label="Still swap", description="test engine", product="character_swap"
        )
        return Catalog(models=(model,))
