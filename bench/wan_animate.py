"""The Wan2.2-Animate Character Swap engine's speed (issue 20) on tiny random weights: what our own
work around the model costs (tracking the driver, the pose, face, background and mask frames,
scaling and re-timing the model's frames, encoding, the sound put back).

The clip is bench/character_swap.py's (carphone played ``--repeat`` times with a sound track),
the character skimage's astronaut, the weights the tiny checkpoint ``make_tiny`` writes (its
videos are noise; a real Wan2.2-Animate-14B adds its own denoising and decoding time, which the
"model" column shows for the tiny one). For each resolution and mode, in turn:

- the Wan-Animate engine, the whole task as a worker runs it, on ``--device``;
- the time spent inside the model (encoding the character, denoising, decoding: its share);
- the classical engine (``reelsmith-character-v1``) in the same mode on the same clip.

Prints seconds of work per second of output for each, ours (the engine less the model) and
the ratio of ours to the classical engine's whole task. The weights load before timing (a
worker loads them once).

    .venv/bin/python bench/wan_animate.py [--device cpu|cuda|auto] [--resolutions 480p,720p]
        [--modes animate,replace] [--repeat 1] [--steps 2] [--max-pixels N]
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

from bench.character_swap import make_clip  # noqa: E402
from reelsmith.media.probe import probe  # noqa: E402
from reelsmith.models.wan_animate import AnimateRun  # noqa: E402
from reelsmith.pipelines.character_swap.pipeline import swap_file  # noqa: E402
from reelsmith.pipelines.character_swap.wan_animate import WanAnimatePipeline, make_tiny  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402


class ModelClock:
    """Adds up the seconds spent in the model: a run's start (the prompt, the character) and
    its segments."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.segments = 0
        init, segment = AnimateRun.__init__, AnimateRun.segment

        def timed_init(run: AnimateRun, *args: Any, **kwargs: Any) -> None:
            started = time.perf_counter()
            try:
                init(run, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        def timed_segment(run: AnimateRun, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return segment(run, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.segments += 1

        AnimateRun.__init__ = timed_init  # type: ignore[method-assign]
        AnimateRun.segment = timed_segment  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, cuda (cuda:N) or auto (REELSMITH_MODEL_DEVICE)")
    parser.add_argument("--resolutions", default="480p")
    parser.add_argument("--modes", default="animate,replace")
    parser.add_argument("--repeat", type=int, default=1, help="times the 4 s clip is played in a row")
    parser.add_argument("--steps", type=int, default=2, help="denoising steps (REELSMITH_MODEL_STEPS)")
    parser.add_argument(
        "--max-pixels", type=int, default=None, help="REELSMITH_MODEL_MAX_PIXELS (default: the model's 1280x720)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-wan-animate-") as work:
        folder = Path(work)
        image = folder / "astronaut.png"
        Image.fromarray(data.astronaut()).save(image)
        clip = make_clip(folder, args.repeat)
        info = probe(clip)
        tiny = make_tiny(folder / "weights")
        settings = Settings(
            wan_animate_dir=Path(tiny["REELSMITH_WAN_ANIMATE_DIR"]),
            model_device=args.device,
            model_steps=args.steps,
            model_max_pixels=args.max_pixels,
        )
        engine = WanAnimatePipeline(settings)
        where = engine.load_check()
        clock = ModelClock()
        # Warm-up: MediaPipe's graphs load once per process, torch's kernels on first use.
        for mode in args.modes.split(","):
            swap_file(image, clip, folder / "warm.mp4", "480p", seconds=1.0, mode=mode, pipeline=engine)
            swap_file(image, clip, folder / "warm.mp4", "480p", seconds=1.0, mode=mode)
        print(f"clip: {info.frame_count} frames, {info.duration:.2f} s; character: skimage astronaut")
        print(f"Wan2.2-Animate: tiny random weights on {where}, {args.steps} steps, max pixels {args.max_pixels}")
        print(
            f"{'resolution':>10} {'mode':>8} {'size':>9} {'model size':>10} {'segs':>4} {'wan s/s':>8} "
            f"{'model s/s':>9} {'ours s/s':>8} {'classic s/s':>11} {'ours/classic':>12}"
        )
        for resolution in args.resolutions.split(","):
            for mode in args.modes.split(","):
                clock.seconds, clock.segments = 0.0, 0
                out = folder / f"wan_{resolution}_{mode}.mp4"
                started = time.perf_counter()
                made = swap_file(image, clip, out, resolution, mode=mode, pipeline=engine)
                wan_seconds = time.perf_counter() - started
                model_seconds, segments = clock.seconds, clock.segments
                started = time.perf_counter()
                swap_file(image, clip, folder / f"classic_{resolution}_{mode}.mp4", resolution, mode=mode)
                classic_seconds = time.perf_counter() - started
                length = made.duration
                ours = wan_seconds - model_seconds
                model_size = _model_size(settings, made.width, made.height)
                print(
                    f"{resolution:>10} {mode:>8} {made.width}x{made.height:<5} {model_size:>10} {segments:>4} "
                    f"{wan_seconds / length:>8.3f} {model_seconds / length:>9.3f} {ours / length:>8.3f} "
                    f"{classic_seconds / length:>11.3f} {ours / classic_seconds:>12.2f}"
                )


def _model_size(settings: Settings, width: int, height: int) -> str:
    from reelsmith.pipelines.character_swap.wan_animate import NATIVE_AREA, work_size

    limit = min(NATIVE_AREA, settings.model_max_pixels or NATIVE_AREA)
    generated = work_size((width, height), limit)
    return f"{generated[0]}x{generated[1]}"


if __name__ == "__main__":
    main()
