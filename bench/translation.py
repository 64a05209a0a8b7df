"""Video Translation speed: wall time per minute of source video, English to Spanish with
burned-in captions, against the encoding floor.

The clip is carphone_pristine.mp4 looped to a minute and scaled to 960x720 (a 720p-class
picture, 30 fps), with English sentences spoken by espeak-ng one after another and a quiet
tone under them. The same script times, in turn:

- the floor: ffmpeg burning the same captions into the same picture with the same encoder
  settings and muxing the sound, nothing recognised, translated or spoken (what any
  captioned output must pay);
- the pipeline, run as a worker runs a task: audio, voice activity, recognition (Whisper base),
  lines, speakers, Apertium, the default voice (Kokoro-82M for Spanish), timing, mix, SRTs,
  both videos; each stage's share is printed from the task's report;
- the same task with ``lipsync``: the difference is lip-sync's added cost (tracking the face,
  warping the lower face on every frame, encoding the made picture), given as frames of output
  per second of added time.

Prints seconds, seconds per minute of video and the ratio to the floor, and lip-sync's added
frames per second. Targets: at most 60 s of wall time per minute of video on 2 cores (issue
7); lip-sync at least 10 frames per second at 720p (issue 8).

    .venv/bin/python bench/translation.py [--seconds 60] [--repeat 1] [--no-lipsync]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reelsmith.media.encode import AUDIO_BITRATE, CRF, PRESET  # noqa: E402
from reelsmith.media.probe import probe  # noqa: E402
from reelsmith.pipelines.base import Job  # noqa: E402
from reelsmith.pipelines.video_translation import VideoTranslationPipeline  # noqa: E402
from reelsmith.products.video_translation import TranslationParams  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402
from tests.support.media import ffmpeg  # noqa: E402
from tests.support.speech import spoken_clip  # noqa: E402

SENTENCES = (
    "Good morning, and welcome to our weekly update.",
    "This week we opened a new office in the city centre.",
    "The team worked hard to finish the project on time.",
    "Our customers told us that they like the new design.",
    "Next month we will travel to three new markets.",
    "Please send your questions to the support team.",
    "We are going to the park with our friends after work.",
    "Thank you for watching, and see you next week.",
)


def make_clip(folder: Path, seconds: float) -> Path:
    sentences: list[str] = []
    while len(sentences) * 3.4 < seconds:
        sentences.append(SENTENCES[len(sentences) % len(SENTENCES)])
    clip = folder / "spoken.mp4"
    spoken_clip(clip, tuple(sentences), size=(960, 720))
    return clip


def pipeline_seconds(
    pipeline: VideoTranslationPipeline, clip: Path, folder: Path, lipsync: bool = False
) -> tuple[float, Path, dict[str, Any]]:
    """One task's wall time, its translated SRT and its report; the speech is recognised
    afresh (the shared transcript of an earlier run is removed first)."""
    shutil.rmtree(pipeline.settings.work_dir / "transcripts", ignore_errors=True)
    work = folder / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    params = TranslationParams(url="", language="es", caption_type=2, lipsync=lipsync)
    job = Job("bench", "video_translation", params, {"video": clip}, work, lambda _: None, lambda: None)
    started = time.perf_counter()
    result = pipeline.run(job)
    elapsed = time.perf_counter() - started
    subtitles = folder / "floor.srt"
    shutil.copy(result.files["translated_srt"], subtitles)
    return elapsed, subtitles, result.fields["translation_report"]


def floor_seconds(clip: Path, subtitles: Path, folder: Path) -> float:
    started = time.perf_counter()
    ffmpeg(
        "-i", str(clip), "-vf", f"subtitles=filename='{subtitles}'",
        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, str(folder / "floor.mp4"),
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the source clip")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of each")
    parser.add_argument("--no-lipsync", action="store_true", help="do not time the task with lipsync")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        clip = make_clip(folder, args.seconds)
        minutes = probe(clip).duration / 60
        settings = Settings(data_dir=folder / "data")
        pipeline = VideoTranslationPipeline(settings)
        for run in range(args.repeat):
            seconds, subtitles, report = pipeline_seconds(pipeline, clip, folder)
            floor = floor_seconds(clip, subtitles, folder)
            print(
                f"run {run + 1}: {minutes * 60:.1f} s of 960x720 video: pipeline {seconds:.1f} s "
                f"({seconds / minutes:.1f} s per minute of video; target 60), "
                f"floor {floor:.1f} s, ratio {seconds / floor:.2f}"
            )
            print(f"  voices: {report['speech']['engine']}; recognition: {report['recognition']['engine']}")
            stages = report["stage_seconds"]
            total = sum(stages.values()) or 1.0
            print("  stages: " + ", ".join(f"{name} {s:.1f} s ({100 * s / total:.0f}%)" for name, s in stages.items()))
            if args.no_lipsync:
                continue
            synced, _, report = pipeline_seconds(pipeline, clip, folder, lipsync=True)
            frames = report["lipsync"]["frames"]
            added = synced - seconds
            print(
                f"run {run + 1}: with lipsync {synced:.1f} s ({synced / minutes:.1f} s per minute of video), "
                f"{report['lipsync']['frames_with_face']} of {frames} frames with a face: lip-sync added "
                f"{added:.1f} s, {frames / added:.1f} frames per second (target 10), "
                f"ratio to the task without it {synced / seconds:.2f}"
            )


if __name__ == "__main__":
    main()
