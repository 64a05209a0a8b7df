"""Input checks at creation: a video against the product's limits (codes 1203, 1204, 1209,
1210), a picture by its header size before anything decodes it, and Image to Video's picture
rules. Each refusal is an :class:`ApiError` that names the field and the rule."""

from __future__ import annotations

import warnings
from pathlib import Path

import av
from PIL import Image, UnidentifiedImageError

from reelsmith.errors import ApiError, Code, parameter_error
from reelsmith.media.picture_header import read_picture_header
from reelsmith.media.probe import READ_ERRORS, MediaInfo, ProbeError, format_size, probe

# Video codecs an input may use: the ones our FFmpeg build decodes and that
# phones, cameras and editors actually produce.
VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp9", "av1", "prores", "mjpeg"})
_CODEC_NAMES = "H.264, H.265, MPEG-4, VP9, AV1, ProRes or MJPEG"
IMAGE_CODECS = frozenset({"png", "mjpeg"})
IMAGE_MIN_SIDE = 16
IMAGE_MAX_SIDE = 8192
# Containers often round the duration up by one audio frame; do not refuse for that.
_DURATION_SLACK = 0.05
# Audio packets may hold a little more than their timestamps cover (the last packet's padding,
# an encoder's delay): up to this much plus _HELD_SHARE of the length is not a lie.
_HELD_SLACK = 0.5
_HELD_SHARE = 0.02
_FPS_SLACK = 0.01


def _decodable(codec: str) -> bool:
    try:
        av.codec.Codec(codec, "r")
    except (av.FFmpegError, ValueError):
        return False
    return True


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
    _check_length(info, field)
    if info.video_codec not in VIDEO_CODECS or not _decodable(info.video_codec):
        raise ApiError(
            Code.BAD_ENCODING,
            f"{field} is encoded as {info.video_codec}, which this server does not decode; use {_CODEC_NAMES}",
        )
    if max_seconds is not None and info.duration > max_seconds + _DURATION_SLACK:
        said = _header_says(info)
        raise ApiError(Code.TOO_LONG, f"{field} is {info.duration:.1f} s long{said}; the limit is {max_seconds:g} s")
    if max_fps is not None and info.fps > max_fps + _FPS_SLACK:
        raise ApiError(Code.FPS_TOO_HIGH, f"{field} is {_num(info.fps)} fps; the limit is {max_fps:g} fps")
    if require_audio and not info.has_audio:
        raise ApiError(Code.NO_AUDIO, f"{field} has no audio track, and this task needs one")
    return info


def _check_length(info: MediaInfo, field: str) -> None:
    """Refuse what cannot be measured or whose timing hides what it holds (1003). A header that
    merely disagrees with the streams is not refused: the streams' length is used instead."""
    if info.duration <= 0:
        claim = f" (its header's {info.header_duration:.1f} s is not trusted)" if info.header_duration > 0 else ""
        raise parameter_error(f"{field} has no timed video or audio packets, so its length cannot be measured{claim}")
    if info.audio_held_seconds > info.audio_seconds * (1 + _HELD_SHARE) + _HELD_SLACK:
        raise parameter_error(
            f"{field}'s header times its audio at {info.audio_seconds:.1f} s, but the audio holds "
            f"{info.audio_held_seconds:.1f} s of sound: the header disagrees with the streams"
        )


def _header_says(info: MediaInfo) -> str:
    """A note for a length refusal when the header claims less: the client may have read the
    header and believe the file is within the limit."""
    if not 0 < info.header_duration < info.duration - _DURATION_SLACK:
        return ""
    return f" (its header says {info.header_duration:.1f} s)"


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


def check_image(path: Path, *, field: str, max_pixels: int | None = None) -> tuple[int, int]:
    """Decode a PNG or JPEG input and return ``(width, height)``; sides must be 16 to 8192 px,
    and the picture at most ``max_pixels`` where given (the product's own rule). The size the
    header states is checked before anything decodes: a small file can claim a huge canvas."""
    header = read_picture_header(path)
    if header is not None:
        _check_sides(header.width, header.height, field, max_pixels)
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            stream = container.streams.video[0]
            if stream.codec_context.name == "apng":
                raise parameter_error(f"{field} is animated; send a still PNG or JPEG")
            if stream.codec_context.name not in IMAGE_CODECS:
                raise parameter_error(f"{field} is not a PNG or JPEG image")
            _check_sides(stream.codec_context.width, stream.codec_context.height, field, max_pixels)
            frame = next(container.decode(stream))
    except READ_ERRORS as exc:
        raise parameter_error(f"{field} could not be read as an image") from exc
    _check_sides(frame.width, frame.height, field, max_pixels)
    return frame.width, frame.height


def _check_sides(width: int, height: int, field: str, max_pixels: int | None = None) -> None:
    if not width or not height:
        return
    if min(width, height) < IMAGE_MIN_SIDE or max(width, height) > IMAGE_MAX_SIDE:
        raise parameter_error(
            f"{field} is {width}x{height} px; images must be {IMAGE_MIN_SIDE} to {IMAGE_MAX_SIDE} px on each side"
        )
    if max_pixels is not None and width * height > max_pixels:
        raise parameter_error(f"{field} is {width}x{height} px; at most {max_pixels / 1_000_000:g} MP")


# --- Image to Video's pictures ---------------------------------------------------------------

MIN_SIDE = 256
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
MAX_ASPECT = 3.0


def check_picture(path: Path, field: str) -> tuple[int, int]:
    """``(width, height)`` of a picture fit for Image to Video, else 1003 saying why.

    The size its header states is checked first, so an over-large picture is refused, with its
    size in the message, before Pillow sees it (and decodes nothing)."""
    header = read_picture_header(path)
    if header is not None:
        _check_size(header.width, header.height, field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                _check_size(width, height, field)
                if getattr(image, "n_frames", 1) > 1:
                    raise ApiError(Code.PARAMETER, f"{field} is animated; send a still PNG or JPEG")
                if image.mode == "CMYK":
                    raise ApiError(Code.PARAMETER, f"{field} is a CMYK image; send it in RGB")
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ApiError(Code.PARAMETER, f"{field} has too many pixels (at most {MAX_PIXELS // 1_000_000} MP)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ApiError(Code.PARAMETER, f"{field} could not be read as an image") from exc
    return width, height


def _check_size(width: int, height: int, field: str) -> None:
    if min(width, height) < MIN_SIDE:
        raise ApiError(Code.PARAMETER, f"{field} is {width}x{height} px; the short side must be at least {MIN_SIDE} px")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ApiError(
            Code.PARAMETER,
            f"{field} is {width}x{height} px; at most {MAX_SIDE} px a side and {MAX_PIXELS // 1_000_000} MP",
        )
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise ApiError(
            Code.PARAMETER, f"{field} is {width}x{height} px; the aspect ratio must be at most {MAX_ASPECT:g}:1"
        )
