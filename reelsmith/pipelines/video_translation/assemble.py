"""The finished videos: the source's picture with the new soundtrack, without and with
captions burned in by libass.

With lip-sync the picture is made frame by frame (``lipsync.py``) and encoded first, silent, on
the output's timeline (holds included) by :func:`rendered_picture`; that file then stands in
for the source's picture below, with no holds left to make.

The caption-free video copies the source's picture stream untouched when nothing was held, so
it costs no encoding. Held pictures (``dynamic_duration``) are made by cutting the picture at
each hold and padding the piece with its last frame. Captions that replace on-screen subtitles
first blur the box where those were shown, while they were shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from reelsmith.media.encode import AUDIO_BITRATE, CRF, PRESET, encode_frames, put_audio, run_ffmpeg
from reelsmith.media.probe import ffmpeg_exe
from reelsmith.pipelines.video_translation.captions import Box
from reelsmith.pipelines.video_translation.timing import Timeline


@dataclass(frozen=True)
class Cover:
    """Blur ``box`` from ``start`` to ``end`` (output seconds): an on-screen subtitle's place."""

    box: Box
    start: float
    end: float


def rendered_picture(
    frames: Iterable[np.ndarray],
    size: tuple[int, int],
    fps: float,
    out_path: Path,
    on_frame: Callable[[int], None] | None = None,
    pixel_aspect: float = 1.0,
) -> int:
    """Encode made ``frames`` (uint8 RGB of ``size``) at the source's ``fps`` and
    ``pixel_aspect`` as a silent MP4 to use as the picture of :func:`plain_video` and
    :func:`captioned_video`; returns the frame count."""
    rate = Fraction(fps).limit_denominator(1001)
    return encode_frames(frames, size, rate, out_path, on_frame=on_frame, pixel_aspect=pixel_aspect)


def plain_video(source: Path, soundtrack: Path, timeline: Timeline, seconds: float, out_path: Path) -> None:
    """The source's picture (held where ``timeline`` says) with ``soundtrack``."""
    if not timeline.holds:
        put_audio(source, soundtrack, seconds, out_path)
        return
    graph = _held_picture(timeline, "v")
    run_ffmpeg(_encode_command(source, soundtrack, graph, "v", seconds, out_path), out_path)


def captioned_video(
    source: Path,
    soundtrack: Path,
    timeline: Timeline,
    seconds: float,
    size: tuple[int, int],
    subtitles: Path,
    covers: Sequence[Cover],
    out_path: Path,
) -> None:
    """Like :func:`plain_video`, with the ASS file ``subtitles`` burned in over ``covers``."""
    steps = [_held_picture(timeline, "held") if timeline.holds else "[0:v]null[held]"]
    label = "held"
    for index, cover in enumerate(covers):
        steps.append(_blurred(label, cover, size, f"cover{index}"))
        label = f"cover{index}"
    steps.append(f"[{label}]subtitles=filename='{_filter_path(subtitles)}'[captioned]")
    run_ffmpeg(_encode_command(source, soundtrack, ";".join(steps), "captioned", seconds, out_path), out_path)


def _held_picture(timeline: Timeline, out_label: str) -> str:
    cuts = [0.0, *[at for at, _ in timeline.holds]]
    pads = [seconds for _, seconds in timeline.holds] + [0.0]
    pieces = []
    for index, (start, pad) in enumerate(zip(cuts, pads, strict=True)):
        end = f":end={cuts[index + 1]:.6f}" if index + 1 < len(cuts) else ""
        hold = f",tpad=stop_mode=clone:stop_duration={pad:.6f}" if pad > 0 else ""
        pieces.append(f"[0:v]trim=start={start:.6f}{end},setpts=PTS-STARTPTS{hold}[piece{index}]")
    inputs = "".join(f"[piece{index}]" for index in range(len(pieces)))
    return ";".join(pieces) + f";{inputs}concat=n={len(pieces)}:v=1:a=0[{out_label}]"


def _blurred(label: str, cover: Cover, size: tuple[int, int], out_label: str) -> str:
    width, height = size
    x, y = _even(cover.box.x * width), _even(cover.box.y * height)
    w = max(_even(cover.box.width * width), 16)
    h = max(_even(cover.box.height * height), 16)
    w, h = min(w, width - x), min(h, height - y)
    radius = max(min(h // 4, w // 4, 24), 2)
    enable = f"between(t,{cover.start:.3f},{cover.end:.3f})"
    return (
        f"[{label}]split[{out_label}a][{out_label}b];"
        f"[{out_label}b]crop={w}:{h}:{x}:{y},boxblur=luma_radius={radius}:luma_power=3[{out_label}c];"
        f"[{out_label}a][{out_label}c]overlay={x}:{y}:enable='{enable}'[{out_label}]"
    )


def _even(value: float) -> int:
    return max(int(round(value / 2)) * 2, 0)


def _encode_command(
    source: Path, soundtrack: Path, graph: str, label: str, seconds: float, out_path: Path
) -> list[str]:
    return [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
        "-i", str(source), "-i", str(soundtrack), "-filter_complex", graph,
        "-map", f"[{label}]", "-map", "1:a:0",
        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-t", f"{seconds:.6f}", "-movflags", "+faststart", str(out_path),
    ]  # fmt: skip


def _filter_path(path: Path) -> str:
    # Inside a quoted filter argument only backslash, quote and colon need escaping.
    return str(path).replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:")
