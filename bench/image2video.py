"""Image to Video speed: whole clips against the encoding floor.

For each case, runs the real pipeline exactly as a task does (fit, faces and subject, plan,
render and encode, the designed soundtrack made meanwhile and put on) and, in the same run,
the floor: encoding the same number
of precomputed frames with the same ffmpeg settings. Prints seconds per video and the ratio.

Targets (issue 4): a 5 s 720p video in under 10 s of wall time on 2 cores, within 1.5x of the
floor.

    .venv/bin/python bench/image2video.py [--effects zoom_in,squish,orbit] [--resolution 1080p]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from reelsmith.pipelines.base import Job  # noqa: E402
from reelsmith.pipelines.image2video.pipeline import Image2VideoPipeline, frame_rate  # noqa: E402
from reelsmith.pipelines.image2video.render import encode  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402

SECONDS = 5
PIPELINE = Image2VideoPipeline(Settings())


def clip_seconds(picture, code: str, resolution: str, folder: Path) -> tuple[float, list]:  # type: ignore[no-untyped-def]
    """Wall time of a task's whole work through the real pipeline, and its frames (decoded
    afterwards, for the floor)."""
    source = folder / "picture.png"
    Image.fromarray(picture).save(source)
    work = folder / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    job = Job(
        task_id="bench",
        product="image2video",
        params={"resolution": resolution, "video_length": SECONDS, "audio_type": 1, "effect_code": code, "seed": 0},
        inputs={"image": source},
        work_dir=work,
        report_progress=lambda _: None,
        check_cancelled=lambda: None,
    )
    started = time.perf_counter()
    result = PIPELINE.run(job)
    elapsed = time.perf_counter() - started
    with av.open(str(result.files["video"])) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return elapsed, frames


def floor_seconds(frames: list, resolution: str, folder: Path) -> float:  # type: ignore[type-arg]
    size = (frames[0].shape[1], frames[0].shape[0])
    started = time.perf_counter()
    encode(iter(frames), size, frame_rate(resolution), folder / "floor.mp4", folder / "work" / "sound.wav")
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
        # A worker process builds its MediaPipe graphs once; so does this one, before timing.
        clip_seconds(data.astronaut(), "zoom_in", "720p", folder)
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
