"""Image to Video speed: whole clips against the encoding floor.

For each case, renders a clip exactly as a task does (fit, subject layers, plan, render,
encode with the designed soundtrack) and, in the same run, the floor: encoding the same number
of precomputed frames with the same ffmpeg settings. Prints seconds per video and the ratio.

Targets (issue 4): a 5 s 720p video in under 10 s of wall time on 2 cores, within 1.5x of the
floor.

    .venv/bin/python bench/image2video.py [--effects zoom_in,squish,orbit] [--resolution 1080p]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skimage import data  # noqa: E402

from reelsmith.pipelines.image2video.audio import design_soundtrack, write_wav  # noqa: E402
from reelsmith.pipelines.image2video.canvas import output_size  # noqa: E402
from reelsmith.pipelines.image2video.effects import effect_by_code  # noqa: E402
from reelsmith.pipelines.image2video.pipeline import SAMPLE_RATE, frame_rate, look_at  # noqa: E402
from reelsmith.pipelines.image2video.render import encode, render_frames  # noqa: E402

SECONDS = 5


def clip_seconds(picture, code: str, resolution: str, folder: Path) -> tuple[float, list]:  # type: ignore[no-untyped-def]
    """Wall time of one task's work, and its frames (kept for the floor)."""
    started = time.perf_counter()
    size = output_size(resolution, picture.shape[1], picture.shape[0])
    fps = frame_rate(resolution)
    framed, layers, scene = look_at(picture, size)
    effect = effect_by_code(code)
    assert effect is not None
    plan = effect.plan(scene, 0, SECONDS)
    write_wav(design_soundtrack(plan, SECONDS, SAMPLE_RATE), SAMPLE_RATE, folder / "sound.wav")
    frames: list = []

    def keep(stream):  # type: ignore[no-untyped-def]
        for frame in stream:
            frames.append(frame)
            yield frame

    encode(
        keep(render_frames(framed, plan, size, fps, SECONDS, layers if plan.uses_subject else None)),
        size,
        fps,
        folder / "clip.mp4",
        folder / "sound.wav",
    )
    return time.perf_counter() - started, frames


def floor_seconds(frames: list, resolution: str, folder: Path) -> float:  # type: ignore[type-arg]
    size = (frames[0].shape[1], frames[0].shape[0])
    started = time.perf_counter()
    encode(iter(frames), size, frame_rate(resolution), folder / "floor.mp4", folder / "sound.wav")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--effects", default="zoom_in,squish,orbit,melt")
    parser.add_argument("--resolution", action="append", help="720p, 1080p or 4k (repeatable); default 720p and 1080p")
    args = parser.parse_args()
    pictures = {"coffee (landscape, no person)": data.coffee(), "astronaut (square, a person)": data.astronaut()}
    print(f"{SECONDS} s clips, designed soundtrack, 2 cores; floor = the same frames encoded alone")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for resolution in args.resolution or ["720p", "1080p"]:
            for label, picture in pictures.items():
                for code in args.effects.split(","):
                    clip, frames = clip_seconds(picture, code, resolution, folder)
                    floor = floor_seconds(frames, resolution, folder)
                    width, height = frames[0].shape[1], frames[0].shape[0]
                    verdict = "ok" if clip < 10 and clip / floor <= 1.5 else "MISSES"
                    print(
                        f"{resolution:>5} {width}x{height} {code:<10} {label:<30} video {clip:5.2f} s"
                        f"  floor {floor:5.2f} s  ratio {clip / floor:4.2f}  {verdict if resolution == '720p' else ''}"
                    )


if __name__ == "__main__":
    main()
