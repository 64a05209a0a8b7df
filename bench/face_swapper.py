"""The ONNX face swapper engine's speed (issue 20) on tiny random graphs: what our own work around
the model costs (tracking, alignment, colour match, blending, decoding, encoding, sound).

The clip is bench/character_swap.py's (carphone played ``--repeat`` times with a sound track),
the character skimage's astronaut, the models the tiny graphs ``make_tiny`` writes (a real
inswapper_128.onnx adds its own time per frame: about what the "model" column shows for the
tiny one, times the real model's cost). For each resolution, in turn:

- the face swapper engine, the whole task as a worker runs it, on ``--device``;
- the time spent inside the swapper's onnxruntime calls (its share of the above);
- the classical replace engine (``reelsmith-character-v1``) on the same clip.

Prints seconds of work per second of output for each, and the ratio of the two engines.

    .venv/bin/python bench/face_swapper.py [--device cpu|cuda|auto] [--resolutions 480p,720p] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from bench.character_swap import make_clip  # noqa: E402
from reelsmith.media.probe import probe  # noqa: E402
from reelsmith.models.face_swapper import FaceSwapper  # noqa: E402
from reelsmith.pipelines.character_swap.face_swapper import FaceSwapperPipeline, make_tiny  # noqa: E402
from reelsmith.pipelines.character_swap.pipeline import output_size, swap_file  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402


class ModelClock:
    """Adds up the seconds spent in FaceSwapper.swap (the onnxruntime call and its blob)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        original = FaceSwapper.swap

        def timed(model: FaceSwapper, face: Any, latent: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(model, face, latent)
            finally:
                self.seconds += time.perf_counter() - started

        FaceSwapper.swap = timed  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, cuda (cuda:N) or auto (REELSMITH_MODEL_DEVICE)")
    parser.add_argument("--resolutions", default="480p,720p")
    parser.add_argument("--repeat", type=int, default=3, help="times the 4 s clip is played in a row")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-face-swapper-") as work:
        folder = Path(work)
        image = folder / "astronaut.png"
        Image.fromarray(data.astronaut()).save(image)
        clip = make_clip(folder, args.repeat)
        info = probe(clip)
        tiny = make_tiny(folder / "models")
        settings = Settings(
            face_swapper_model=tiny["REELSMITH_FACE_SWAPPER_MODEL"],
            face_embedder_model=tiny["REELSMITH_FACE_EMBEDDER_MODEL"],
            model_device=args.device,
        )
        neural = FaceSwapperPipeline(settings)
        where = neural.load_check()
        clock = ModelClock()
        # Warm-up: MediaPipe's graphs and onnxruntime's sessions load once per process.
        swap_file(image, clip, folder / "warm.mp4", "480p", seconds=1.0, pipeline=neural)
        swap_file(image, clip, folder / "warm.mp4", "480p", seconds=1.0)
        print(f"clip: {info.frame_count} frames, {info.duration:.2f} s; character: skimage astronaut")
        print(f"face swapper: tiny random graphs on {where}")
        print(f"{'resolution':>10} {'size':>9} {'swapper s/s':>12} {'model s/s':>10} {'classic s/s':>12} {'ratio':>6}")
        for resolution in args.resolutions.split(","):
            width, height = output_size(info.display_width, info.height, resolution)
            clock.seconds = 0.0
            started = time.perf_counter()
            out = swap_file(image, clip, folder / f"neural_{resolution}.mp4", resolution, pipeline=neural)
            neural_seconds = time.perf_counter() - started
            model_seconds = clock.seconds
            started = time.perf_counter()
            swap_file(image, clip, folder / f"classic_{resolution}.mp4", resolution)
            classic_seconds = time.perf_counter() - started
            length = out.duration
            print(
                f"{resolution:>10} {width}x{height:<5} {neural_seconds / length:>12.3f} "
                f"{model_seconds / length:>10.3f} {classic_seconds / length:>12.3f} "
                f"{neural_seconds / classic_seconds:>6.2f}"
            )


if __name__ == "__main__":
    main()
