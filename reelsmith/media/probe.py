"""Media properties and input checks, read with PyAV.

PyAV links the FFmpeg libraries directly. There is no ``ffprobe`` binary on
the machines this runs on (imageio-ffmpeg ships only ``ffmpeg``), so probing
goes through PyAV, while encoding and filtering run the ``ffmpeg`` binary
that :func:`ffmpeg_exe` finds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg

from reelsmith.errors import ApiError, Code, parameter_error

# Video codecs an input may use: the ones our FFmpeg build decodes and that
# phones, cameras and editors actually produce.
VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp9", "av1", "prores", "mjpeg"})
_CODEC_NAMES = "H.264, H.265, MPEG-4, VP9, AV1, ProRes or MJPEG"
IMAGE_CODECS = frozenset({"png", "mjpeg"})
IMAGE_MIN_SIDE = 16
IMAGE_MAX_SIDE = 8192
_KB = 1024
_MB = 1024 * 1024
# Containers often round the duration up by one audio frame; do not refuse for that.
_DURATION_SLACK = 0.05
_FPS_SLACK = 0.01

_READ_ERRORS = (av.FFmpegError, OSError, ValueError, UnicodeDecodeError, IndexError, StopIteration)


class ProbeError(Exception):
    """The file could not be opened or read as media."""


@dataclass(frozen=True)
class MediaInfo:
    """What an input holds; zeros and empty strings where a stream is missing."""

    duration: float
    width: int
    height: int
    fps: float
    has_video: bool
    has_audio: bool
    video_codec: str
    audio_codec: str
    frame_count: int
    # Width of a pixel over its height (old and broadcast formats store non-square pixels);
    # the picture is shown ``width * pixel_aspect`` wide.
    pixel_aspect: float = 1.0

    @property
    def display_width(self) -> float:
        return self.width * self.pixel_aspect


@functools.cache
def ffmpeg_exe() -> str:
    """The path of the ffmpeg binary bundled with imageio-ffmpeg."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: Path) -> MediaInfo:
    """Read the duration, size, rate and streams of ``path``; :class:`ProbeError` if unreadable."""
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            return _read_info(container)
    except _READ_ERRORS as exc:
        raise ProbeError(f"{Path(path).name}: {exc}") from exc


def _read_info(container: av.container.InputContainer) -> MediaInfo:
    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None
    if video is None:
        return MediaInfo(
            duration=_duration(container, audio),
            width=0,
            height=0,
            fps=0.0,
            has_video=False,
            has_audio=audio is not None,
            video_codec="",
            audio_codec=audio.codec_context.name if audio is not None else "",
            frame_count=0,
        )
    rate = video.average_rate or video.guessed_rate
    duration = _duration(container, video)
    return MediaInfo(
        duration=duration,
        width=video.codec_context.width,
        height=video.codec_context.height,
        fps=float(rate) if rate else 0.0,
        has_video=True,
        has_audio=audio is not None,
        video_codec=video.codec_context.name,
        audio_codec=audio.codec_context.name if audio is not None else "",
        frame_count=video.frames or _count_packets(container, video),
        pixel_aspect=float(video.sample_aspect_ratio or 1) or 1.0,
    )


def _duration(container: av.container.InputContainer, stream: av.stream.Stream | None) -> float:
    if container.duration:
        return container.duration / av.time_base
    if stream is not None and stream.duration and stream.time_base:
        return float(stream.duration * Fraction(stream.time_base))
    return 0.0


def _count_packets(container: av.container.InputContainer, stream: av.stream.Stream) -> int:
    # Some containers (Matroska, WebM) do not store a frame count; demuxing
    # without decoding is cheap enough to count.
    return sum(1 for packet in container.demux(stream) if packet.size)


def _decodable(codec: str) -> bool:
    try:
        av.codec.Codec(codec, "r")
    except (av.FFmpegError, ValueError):
        return False
    return True


def format_size(size: int) -> str:
    """A byte count as people read it in a message: ``300 MB``, ``64 KB``, ``100 bytes``."""
    if size >= _MB:
        return f"{size / _MB:.4g} MB"
    if size >= _KB:
        return f"{size / _KB:.4g} KB"
    return f"{size} bytes"


def _num(value: float) -> str:
    return f"{round(value, 2):g}"


def check_video(
    info_or_path: MediaInfo | Path,
    *,
    field: str,
    max_seconds: float | None,
    max_fps: float | None,
    require_audio: bool,
    max_bytes: int | None = None,
) -> MediaInfo:
    """Check an input video against the contract's limits; :class:`ApiError` names the rule.

    ``max_bytes`` applies only when a path is given.
    """
    if isinstance(info_or_path, MediaInfo):
        info = info_or_path
    else:
        info = _probe_video(Path(info_or_path), field, max_bytes)
    if not info.has_video:
        raise parameter_error(f"{field} could not be read as a video")
    if info.video_codec not in VIDEO_CODECS or not _decodable(info.video_codec):
        raise ApiError(
            Code.BAD_ENCODING,
            f"{field} is encoded as {info.video_codec}, which this server does not decode; use {_CODEC_NAMES}",
        )
    if max_seconds is not None and info.duration > max_seconds + _DURATION_SLACK:
        raise ApiError(Code.TOO_LONG, f"{field} is {info.duration:.1f} s long; the limit is {max_seconds:g} s")
    if max_fps is not None and info.fps > max_fps + _FPS_SLACK:
        raise ApiError(Code.FPS_TOO_HIGH, f"{field} is {_num(info.fps)} fps; the limit is {max_fps:g} fps")
    if require_audio and not info.has_audio:
        raise ApiError(Code.NO_AUDIO, f"{field} has no audio track, and this task needs one")
    return info


def _probe_video(path: Path, field: str, max_bytes: int | None) -> MediaInfo:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise parameter_error(f"{field} could not be read as a video") from exc
    if max_bytes is not None and size > max_bytes:
        raise ApiError(Code.TOO_LARGE, f"{field} is larger than {format_size(max_bytes)}")
    try:
        return probe(path)
    except ProbeError as exc:
        raise parameter_error(f"{field} could not be read as a video") from exc


def check_image(path: Path, *, field: str) -> tuple[int, int]:
    """Decode a PNG or JPEG input and return ``(width, height)``; sides must be 16 to 8192 px."""
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            stream = container.streams.video[0]
            if stream.codec_context.name == "apng":
                raise parameter_error(f"{field} is animated; send a still PNG or JPEG")
            if stream.codec_context.name not in IMAGE_CODECS:
                raise parameter_error(f"{field} is not a PNG or JPEG image")
            # Check the header's size before decoding, so a tiny file that claims
            # a gigantic canvas is refused without allocating it.
            _check_sides(stream.codec_context.width, stream.codec_context.height, field)
            frame = next(container.decode(stream))
    except _READ_ERRORS as exc:
        raise parameter_error(f"{field} could not be read as an image") from exc
    _check_sides(frame.width, frame.height, field)
    return frame.width, frame.height


def _check_sides(width: int, height: int, field: str) -> None:
    if not width or not height:
        return
    if min(width, height) < IMAGE_MIN_SIDE or max(width, height) > IMAGE_MAX_SIDE:
        raise parameter_error(
            f"{field} is {width}x{height} px; images must be {IMAGE_MIN_SIDE} to {IMAGE_MAX_SIDE} px on each side"
        )
