"""Probing media with PyAV and the input checks built on it, on files made by ffmpeg."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from reelsmith.errors import ApiError, Code
from reelsmith.media.probe import MediaInfo, ProbeError, check_image, check_video, ffmpeg_exe, probe

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _ffmpeg(out: Path, *args: str) -> Path:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args, str(out)], check=True, timeout=60)
    return out


def _testsrc(size: str = "160x120", rate: int = 25, seconds: float = 2) -> list[str]:
    return ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("probe")
    sine = ["-f", "lavfi", "-i", "sine=frequency=440:duration=2"]
    text = folder / "notes.txt"
    text.write_text("not media\n")
    return {
        "talking": _ffmpeg(folder / "talking.mp4", *_testsrc(), *sine, *X264, "-c:a", "aac", "-shortest"),
        "silent": _ffmpeg(folder / "silent.mp4", *_testsrc(), *X264, "-an"),
        "fast": _ffmpeg(folder / "fast.mp4", *_testsrc(rate=60, seconds=1), *X264),
        "mpeg4": _ffmpeg(folder / "mpeg4.mp4", *_testsrc(seconds=1), "-c:v", "mpeg4"),
        "webm": _ffmpeg(folder / "clip.webm", *_testsrc(seconds=1), "-c:v", "libvpx-vp9"),
        "png": _ffmpeg(folder / "image.png", *_testsrc(size="64x48"), "-frames:v", "1"),
        "jpg": _ffmpeg(folder / "image.jpg", *_testsrc(size="64x48"), "-frames:v", "1"),
        "tiny": _ffmpeg(folder / "tiny.png", *_testsrc(size="8x8"), "-frames:v", "1"),
        "text": text,
    }


def test_ffmpeg_exe_is_cached_and_runs() -> None:
    assert ffmpeg_exe() is ffmpeg_exe()
    assert os.access(ffmpeg_exe(), os.X_OK)


def test_probe_video_with_audio(files: dict[str, Path]) -> None:
    info = probe(files["talking"])
    assert abs(info.duration - 2.0) < 0.1
    assert (info.width, info.height) == (160, 120)
    assert info.fps == pytest.approx(25.0)
    assert info.has_video and info.has_audio
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.frame_count == 50


def test_probe_video_without_audio(files: dict[str, Path]) -> None:
    info = probe(files["silent"])
    assert info.has_video and not info.has_audio
    assert info.audio_codec == ""
    assert abs(info.duration - 2.0) < 0.1


def test_probe_high_frame_rate(files: dict[str, Path]) -> None:
    info = probe(files["fast"])
    assert info.fps == pytest.approx(60.0)
    assert info.frame_count == 60


def test_probe_counts_frames_where_the_container_does_not(files: dict[str, Path]) -> None:
    info = probe(files["webm"])
    assert info.video_codec == "vp9"
    assert info.frame_count == 25
    assert abs(info.duration - 1.0) < 0.1


def test_probe_unreadable(files: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ProbeError):
        probe(files["text"])
    with pytest.raises(ProbeError):
        probe(tmp_path / "missing.mp4")


def test_check_video_accepts_a_good_video(files: dict[str, Path]) -> None:
    info = check_video(
        files["talking"], field="video_url", max_seconds=60, max_fps=30, require_audio=True, max_bytes=10**6
    )
    assert info == probe(files["talking"])
    assert check_video(files["mpeg4"], field="video_url", max_seconds=None, max_fps=None, require_audio=False)


def _refusal(target: MediaInfo | Path, **limits: object) -> ApiError:
    options: dict[str, object] = {"max_seconds": None, "max_fps": None, "require_audio": False, **limits}
    with pytest.raises(ApiError) as caught:
        check_video(target, field="video_url", **options)  # type: ignore[arg-type]
    return caught.value


def test_check_video_too_long(files: dict[str, Path]) -> None:
    error = _refusal(files["talking"], max_seconds=1)
    assert (error.code, error.msg) == (Code.TOO_LONG, "video_url is 2.0 s long; the limit is 1 s")


def test_check_video_message_for_a_long_video(files: dict[str, Path]) -> None:
    long_one = dataclasses.replace(probe(files["talking"]), duration=75.0)
    error = _refusal(long_one, max_seconds=60)
    assert error.msg == "video_url is 75.0 s long; the limit is 60 s"


def test_check_video_frame_rate(files: dict[str, Path]) -> None:
    error = _refusal(files["fast"], max_fps=30)
    assert (error.code, error.msg) == (Code.FPS_TOO_HIGH, "video_url is 60 fps; the limit is 30 fps")
    ntsc = dataclasses.replace(probe(files["talking"]), fps=30000 / 1001)
    assert check_video(ntsc, field="video_url", max_seconds=None, max_fps=30, require_audio=False)


def test_check_video_needs_audio(files: dict[str, Path]) -> None:
    error = _refusal(files["silent"], require_audio=True)
    assert error.code == Code.NO_AUDIO
    assert error.msg.startswith("video_url has no audio track")


def test_check_video_unreadable(files: dict[str, Path]) -> None:
    for target in (files["text"], files["png"].with_name("missing.mp4")):
        error = _refusal(target)
        assert (error.code, error.msg) == (Code.PARAMETER, "video_url could not be read as a video")


def test_check_video_without_video_stream(files: dict[str, Path]) -> None:
    audio_only = dataclasses.replace(probe(files["talking"]), has_video=False, video_codec="")
    assert _refusal(audio_only).code == Code.PARAMETER


def test_check_video_unsupported_codec(files: dict[str, Path]) -> None:
    odd = dataclasses.replace(probe(files["talking"]), video_codec="ffv1")
    error = _refusal(odd)
    assert error.code == Code.BAD_ENCODING
    assert error.msg.startswith("video_url is encoded as ffv1")


def test_check_video_file_size(files: dict[str, Path]) -> None:
    error = _refusal(files["talking"], max_bytes=100)
    assert (error.code, error.msg) == (Code.TOO_LARGE, "video_url is larger than 100 bytes")


def test_check_image(files: dict[str, Path]) -> None:
    assert check_image(files["png"], field="image_url") == (64, 48)
    assert check_image(files["jpg"], field="image_url") == (64, 48)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("tiny", "image_url is 8x8 px; images must be 16 to 8192 px on each side"),
        ("text", "image_url could not be read as an image"),
        ("talking", "image_url is not a PNG or JPEG image"),
    ],
)
def test_check_image_refusals(name: str, message: str, files: dict[str, Path]) -> None:
    with pytest.raises(ApiError) as caught:
        check_image(files[name], field="image_url")
    assert (caught.value.code, caught.value.msg) == (Code.PARAMETER, message)
