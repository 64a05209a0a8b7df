"""Image to Video speed: whole clips against the encoding floor.

For each case, runs the real pipeline exactly as a task does (fit, faces and subject, plan,
render and encode, the designed soundtrack made meanwhile and put on) and, in the same run,
the floor: encoding the same number of precomputed frames with the same ffmpeg settings. Prints
seconds per video and the ratio.

The machine may be shared: each case runs ``--repeat`` times, clip and floor taking turns, and
the fastest of each is kept (other work only ever adds time). The CPU seconds (this process and
ffmpeg) are printed too: they move less with the machine's load.

Targets (issue 4): a 5 s 720p video in under 10 s of wall time on 2 cores, within 1.5x of the
floor.

    .venv/bin/python bench/image2video.py [--effects zoom_in,squish,orbit | all] [--resolution 1080p] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
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
from reelsmith.pipelines.image2video.effects import EFFECTS  # noqa: E402
from reelsmith.pipelines.image2video.pipeline import Image2VideoPipeline, frame_rate  # noqa: E402
from reelsmith.pipelines.image2video.render import encode  # noqa: E402
from reelsmith.products.image2video import Image2VideoParams  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402

SECONDS = 5
PIPELINE = Image2VideoPipeline(Settings())


def clip_seconds(picture, code: str, resolution: str, folder: Path) -> tuple[float, float, list]:  # type: ignore[no-untyped-def]
    """Wall and CPU time of a task's whole work through the real pipeline, and its frames
    (decoded afterwards, for the floor)."""
    source = folder / "picture.png"
    Image.fromarray(picture).save(source)
    work = folder / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    job = Job(
        task_id="bench",
        product="image2video",
        params=Image2VideoParams(
            image_url="", prompt="", resolution=resolution, video_length=SECONDS, audio_type=1, effect_code=code
        ),
        inputs={"image": source},
        work_dir=work,
        report_progress=lambda _: None,
        check_cancelled=lambda: None,
    )
    cpu = cpu_seconds()
    started = time.perf_counter()
    result = PIPELINE.run(job)
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    with av.open(str(result.files["video"])) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    return elapsed, cpu, frames


def floor_seconds(frames: list, resolution: str, folder: Path) -> tuple[float, float]:  # type: ignore[type-arg]
    """Wall and CPU time of encoding ``frames`` with the pipeline's settings and its sound."""
    size = (frames[0].shape[1], frames[0].shape[0])
    cpu = cpu_seconds()
    started = time.perf_counter()
    encode(iter(frames), size, frame_rate(resolution), folder / "floor.mp4", folder / "work" / "sound.wav")
    return time.perf_counter() - started, cpu_seconds() - cpu


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (ffmpeg) so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--effects", default="zoom_in,squish,orbit,melt", help="effect codes (comma-separated) or all")
    parser.add_argument("--resolution", action="append", help="720p, 1080p or 4k (repeatable); default 720p and 1080p")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the fastest clip and floor are kept")
    args = parser.parse_args()
    pictures = {"coffee (landscape, no person)": data.coffee(), "astronaut (square, a person)": data.astronaut()}
    codes = [effect.code for effect in EFFECTS] if args.effects == "all" else args.effects.split(",")
    print(
        f"{SECONDS} s clips, designed soundtrack, 2 cores; floor = the same frames encoded alone; "
        f"fastest of {args.repeat} runs each"
    )
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        # A worker process builds its MediaPipe graphs once; so does this one, before timing.
        clip_seconds(data.astronaut(), "zoom_in", "720p", folder)
        for resolution in args.resolution or ["720p", "1080p"]:
            missed = []
            for label, picture in pictures.items():
                for code in codes:
                    clips, floors = [], []
                    for _ in range(max(1, args.repeat)):
                        clip_wall, clip_cpu, frames = clip_seconds(picture, code, resolution, folder)
                        clips.append((clip_wall, clip_cpu))
                        floors.append(floor_seconds(frames, resolution, folder))
                    clip, clip_cpu = min(clips)
                    floor, floor_cpu = min(floors)
                    width, height = frames[0].shape[1], frames[0].shape[0]
                    met = clip < 10 and clip / floor <= 1.5
                    if not met:
                        missed.append(f"{code} ({label.split()[0]})")
                    print(
                        f"{resolution:>5} {width}x{height} {code:<14} {label:<30} video {clip:5.2f} s"
                        f"  floor {floor:5.2f} s  ratio {clip / floor:4.2f}  (CPU {clip_cpu:5.2f} / {floor_cpu:5.2f} s"
                        f" = {clip_cpu / floor_cpu:4.2f})  {'ok' if met else 'MISSES'}",
                        flush=True,
                    )
            cases = len(pictures) * len(codes)
            print(f"{resolution}: {len(missed)} of {cases} miss 1.5x: {', '.join(missed) or 'none'}")


if __name__ == "__main__":
    main()
