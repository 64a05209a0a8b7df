"""Side-by-side comparison clips: videos and pictures in one row, at one height."""

from __future__ import annotations

from pathlib import Path

from reelsmith.media.encode import AUDIO_BITRATE, CRF, PRESET, run_ffmpeg
from reelsmith.media.probe import ffmpeg_exe, probe


def side_by_side(panels: list[Path], out: Path, seconds: float, height: int = 480, sound_from: int = -1) -> Path:
    """``panels`` (videos or still pictures) next to each other, each scaled to ``height``, for
    ``seconds``, with the sound of panel ``sound_from`` when it has any. Writes ``out`` (MP4)."""
    if not panels:
        raise ValueError("a comparison needs at least one panel")
    infos = [probe(panel) for panel in panels]
    stills = [not info.has_audio and info.frame_count <= 1 for info in infos]
    # Every panel runs at the first video's rate (a looped picture would run at 25 fps).
    rate = next((info.fps for info, still in zip(infos, stills, strict=True) if not still), 25.0)
    inputs: list[str] = []
    chains: list[str] = []
    for index, (panel, still) in enumerate(zip(panels, stills, strict=True)):
        inputs += (["-loop", "1"] if still else []) + ["-i", str(panel)]
        # Scaled by the shown width (pixels may not be square), to even sides.
        scale = f"scale=2*round(iw*sar*{height}/ih/2):{height}"
        chains.append(f"[{index}:v]fps={rate:.6f},{scale},setsar=1,format=yuv420p[p{index}]")
    labels = "".join(f"[p{index}]" for index in range(len(panels)))
    stack = f"{labels}hstack=inputs={len(panels)}[v]" if len(panels) > 1 else "[p0]copy[v]"
    audio: list[str] = []
    if infos[sound_from].has_audio:
        audio = ["-map", f"{sound_from % len(panels)}:a:0", "-c:a", "aac", "-b:a", AUDIO_BITRATE]
    command = [
        ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *inputs,
        "-filter_complex", ";".join([*chains, stack]), "-map", "[v]", *audio, "-t", f"{seconds:.6f}",
        "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p", "-movflags", "+faststart",
        str(out),
    ]  # fmt: skip
    run_ffmpeg(command, out)
    return out
