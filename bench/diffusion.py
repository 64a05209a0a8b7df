"""The diffusion Image to Video engines' speed (issue 20) on tiny random weights: what our own work
around the model costs (fitting the picture, faces and subject, the sound design, scaling the
frames to the output and encoding them, the sound put on, the poster frame).

The weights are the tiny checkpoints ``make_tiny`` writes (their videos are noise; a real model
adds its own denoising and decoding time, which the "model" column shows for the tiny one). For
each engine, a 5 s task at ``--resolution`` with designed sound on skimage's astronaut, run as a
worker runs it on ``--device``; and, as the baseline, the classical engine
(``reelsmith-motion-v1``, a slow zoom) on the same picture in the same run. The weights load
before timing (a worker loads them once). Prints, per second of output video: the whole task,
the model's part (denoising and decoding), ours (the rest), and ours against the classical
engine's whole task.

    .venv/bin/python bench/diffusion.py [--device cpu|cuda|auto] [--resolution 720p] [--repeat 3]
        [--steps 2] [--max-pixels N] [--weights DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from reelsmith.media.probe import probe  # noqa: E402
from reelsmith.pipelines.base import Job, PipelineResult  # noqa: E402
from reelsmith.pipelines.image2video.diffusion import (  # noqa: E402
    DiffusionImage2Video,
    LTXPipeline,
    WanI2VPipeline,
    WanTI2VPipeline,
    make_tiny,
)
from reelsmith.pipelines.image2video.pipeline import Image2VideoPipeline  # noqa: E402
from reelsmith.products.image2video import Image2VideoParams  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402

SECONDS = 5
ENGINES: tuple[type[DiffusionImage2Video], ...] = (WanTI2VPipeline, WanI2VPipeline, LTXPipeline)
MODEL_STAGES = ("load", "denoise", "decode")


def run_task(pipeline: Any, picture: Path, resolution: str, folder: Path, run: int) -> tuple[float, PipelineResult]:
    """Wall time of one task's whole work, as a worker runs it."""
    work = folder / f"work-{run}"
    work.mkdir()
    job = Job(
        task_id=f"bench-{run}",
        product="image2video",
        params=Image2VideoParams(
            image_url="",
            prompt="she smiles while the camera slowly zooms in",
            resolution=resolution,
            video_length=SECONDS,
            audio_type=1,
            seed=run,
        ),
        inputs={"image": picture},
        work_dir=work,
        report_progress=lambda _: None,
        check_cancelled=lambda: None,
    )
    started = time.perf_counter()
    result = pipeline.run(job)
    return time.perf_counter() - started, result


def tiny_weights(folder: Path) -> dict[str, str]:
    """The tiny checkpoints in ``folder``, written there first unless they are already."""
    names = {
        "REELSMITH_WAN_TI2V_DIR": "wan-ti2v",
        "REELSMITH_WAN_I2V_DIR": "wan-i2v",
        "REELSMITH_LTX_I2V_DIR": "ltx-i2v",
    }
    if all((folder / name / "model_index.json").is_file() for name in names.values()):
        return {setting: str(folder / name) for setting, name in names.items()}
    return make_tiny(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (REELSMITH_MODEL_DEVICE)")
    parser.add_argument("--resolution", default="720p", help="720p, 1080p or 4k")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; the fastest is kept")
    parser.add_argument("--steps", type=int, default=2, help="denoising steps (REELSMITH_MODEL_STEPS)")
    parser.add_argument(
        "--max-pixels",
        type=int,
        default=None,
        help="REELSMITH_MODEL_MAX_PIXELS; default 2048 on the CPU (the tiny models at full size take "
        "minutes there), the models' own size (1280x720 of area) elsewhere",
    )
    parser.add_argument("--weights", type=Path, help="where the tiny checkpoints are, or are written (default: anew)")
    args = parser.parse_args()
    max_pixels = args.max_pixels if args.max_pixels is not None else (2048 if args.device == "cpu" else None)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        started = time.perf_counter()
        dirs = tiny_weights(args.weights or folder / "weights")
        print(f"tiny weights ready in {time.perf_counter() - started:.1f} s (imports included)")
        settings = Settings(
            data_dir=folder / "data",
            model_device=args.device,
            model_steps=args.steps,
            model_max_pixels=max_pixels,
            **{key.removeprefix("REELSMITH_").lower(): value for key, value in dirs.items()},  # type: ignore[arg-type]
        )
        picture = folder / "astronaut.png"
        Image.fromarray(data.astronaut()).save(picture)
        runs = iter(range(1_000_000))

        classical = Image2VideoPipeline(settings)
        _, first = run_task(classical, picture, args.resolution, folder, next(runs))  # MediaPipe's graphs, once
        info = probe(first.files["video"])
        baseline = min(run_task(classical, picture, args.resolution, folder, next(runs))[0] for _ in range(args.repeat))
        print(
            f"{SECONDS} s clips at {args.resolution} ({info.width}x{info.height}) with designed sound, skimage's "
            f"astronaut; device {args.device}, {args.steps} steps; fastest of {args.repeat}; seconds per output second"
        )
        print(f"baseline reelsmith-motion-v1 ({info.fps:g} fps): {baseline / SECONDS:.3f}")
        print("engine           generated frames  device          task  model   ours  ours/baseline")
        for engine in ENGINES:
            pipeline = engine(settings)
            where = pipeline.load_check()
            timings = []
            for _ in range(max(1, args.repeat)):
                wall, result = run_task(pipeline, picture, args.resolution, folder, next(runs))
                generation = result.fields["generation"]
                model = sum(generation["seconds"].get(stage, 0.0) for stage in MODEL_STAGES)
                timings.append((wall, model, generation))
            wall, model, generation = min(timings, key=lambda timing: timing[0])
            ours = wall - model
            print(
                f"{pipeline.spec.model:<16} {generation['size']:>9} {generation['frames']:>6}  {where:<13}"
                f" {wall / SECONDS:6.3f} {model / SECONDS:6.3f} {ours / SECONDS:6.3f}  {ours / baseline:13.2f}",
                flush=True,
            )
            stages = dict(generation["seconds"], sound=wall - sum(generation["seconds"].values()))
            print("    seconds by stage: " + ", ".join(f"{name} {spent:.2f}" for name, spent in stages.items()))


if __name__ == "__main__":
    main()
