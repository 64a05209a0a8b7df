"""Media properties, read with PyAV.

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

_KB = 1024
_MB = 1024 * 1024

# Audio decoders whose every packet holds the same number of samples (the last one padded).
_FIXED_FRAME_CODECS = frozenset({"aac", "aac_fixed", "mp3", "mp3float", "mp2", "mp2float", "ac3", "ac3_fixed", "eac3"})

READ_ERRORS = (av.FFmpegError, OSError, ValueError, UnicodeDecodeError, IndexError, StopIteration)


class ProbeError(Exception):
    """The file could not be opened or read as media."""


@dataclass(frozen=True)
class MediaInfo:
    """What an input holds; zeros and empty strings where a stream is missing.

    Lengths are measured on the streams' packets (see :func:`probe`), never read from the
    container's header: ``duration`` is the span the video and audio streams cover together.
    """

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
    # Each stream's own measured length (the video stream alone may be shorter than the file).
    video_seconds: float = 0.0
    audio_seconds: float = 0.0
    # The sound the audio packets hold (packets x samples per packet) where the codec fixes the
    # samples per packet (AAC, MP3, AC-3); 0 where it does not. Set against ``audio_seconds``,
    # it shows timing tables that understate what the stream holds.
    audio_held_seconds: float = 0.0
    # What the container's header says; only for messages, never for limits or prices.
    header_duration: float = 0.0

    @property
    def display_width(self) -> float:
        return self.width * self.pixel_aspect


@functools.cache
def ffmpeg_exe() -> str:
    """The path of the ffmpeg binary bundled with imageio-ffmpeg."""
    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: Path) -> MediaInfo:
    """Read the duration, size, rate and streams of ``path``; :class:`ProbeError` if unreadable.

    Lengths come from demuxing every packet of the first video and audio streams (no
    decoding: about 30 ms for a minute of 720p), because a header's duration is whatever the
    file's maker wrote and a hostile one writes 4 s on 80 s of sound.
    """
    try:
        with av.open(str(path), metadata_errors="replace") as container:
            return _read_info(container)
    except READ_ERRORS as exc:
        raise ProbeError(f"{Path(path).name}: {exc}") from exc


class _Extent:
    """What one stream's packets cover, counted in its time base as they are demuxed."""

    def __init__(self, time_base: Fraction = Fraction(0), frame_seconds: float = 0.0) -> None:
        self.time_base = time_base
        self.frame_seconds = frame_seconds
        # A packet that states no duration (AVI, raw streams) lasts one frame.
        self._step = int(frame_seconds / time_base) if time_base else 0
        self._first: int | None = None
        self._end: int | None = None
        self.packets = 0

    def add(self, packet: av.packet.Packet) -> None:
        self.packets += 1
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is None:
            return
        end = stamp + (packet.duration or self._step)
        # Not in order: with B-frames a later packet may be shown earlier.
        self._first = stamp if self._first is None else min(self._first, stamp)
        self._end = end if self._end is None else max(self._end, end)

    def span(self) -> tuple[float, float] | None:
        """(start, end) in seconds; None when no packet carried a timestamp."""
        if self._first is None or self._end is None:
            return None
        return float(self._first * self.time_base), float(self._end * self.time_base)

    def seconds(self) -> float:
        span = self.span()
        # Without timestamps the packets are all there is to go by: one frame each.
        return span[1] - span[0] if span is not None else self.packets * self.frame_seconds


def _read_info(container: av.container.InputContainer) -> MediaInfo:
    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None
    rate = (video.average_rate or video.guessed_rate) if video is not None else None
    fps = float(rate) if rate else 0.0
    # Samples per packet where the codec fixes them; 0 where it varies them (Opus, Vorbis).
    fixed = audio is not None and audio.codec_context.name in _FIXED_FRAME_CODECS
    frame_size = (audio.codec_context.frame_size or 0) if audio is not None and fixed else 0
    sample_rate = (audio.codec_context.sample_rate or 0) if audio is not None else 0
    pictures = _Extent(Fraction(video.time_base or 0), 1 / fps if fps else 0.0) if video is not None else _Extent()
    sound = (
        _Extent(Fraction(audio.time_base or 0), frame_size / sample_rate if sample_rate else 0.0)
        if audio is not None
        else _Extent()
    )
    pairs = ((video, pictures), (audio, sound))
    _demux(container, {stream.index: extent for stream, extent in pairs if stream is not None})
    return MediaInfo(
        duration=_covered(pictures, sound),
        width=video.codec_context.width if video is not None else 0,
        height=video.codec_context.height if video is not None else 0,
        fps=fps,
        # A stream the header declares but that holds no packets is no stream.
        has_video=pictures.packets > 0,
        has_audio=sound.packets > 0,
        video_codec=video.codec_context.name if video is not None else "",
        audio_codec=audio.codec_context.name if audio is not None else "",
        frame_count=pictures.packets,
        pixel_aspect=(float(video.sample_aspect_ratio or 1) or 1.0) if video is not None else 1.0,
        video_seconds=pictures.seconds(),
        audio_seconds=sound.seconds(),
        audio_held_seconds=sound.packets * sound.frame_seconds if frame_size else 0.0,
        header_duration=_header_duration(container, video or audio),
    )


def _demux(container: av.container.InputContainer, extents: dict[int, _Extent]) -> None:
    if not extents:
        return
    streams = [stream for stream in container.streams if stream.index in extents]
    # Demuxing reads the packets without decoding them: cheap, and what a decoder will be fed.
    # Empty packets flush; discarded ones (an AAC encoder's priming) are never shown or heard.
    for packet in container.demux(*streams):
        if packet.size and not packet.is_discard:
            extents[packet.stream_index].add(packet)


def _covered(*extents: _Extent) -> float:
    """The seconds the streams cover together, from the first one's start to the last one's end."""
    spans = [span for extent in extents if (span := extent.span()) is not None]
    if not spans:
        return max(extent.seconds() for extent in extents)
    return max(0.0, max(end for _, end in spans) - min(start for start, _ in spans))


def _header_duration(container: av.container.InputContainer, stream: av.stream.Stream | None) -> float:
    if container.duration:
        return container.duration / av.time_base
    if stream is not None and stream.duration and stream.time_base:
        return float(stream.duration * Fraction(stream.time_base))
    return 0.0


def format_size(size: int) -> str:
    """A byte count as people read it in a message: ``78.96 GB``, ``300 MB``, ``64 KB``, ``100 bytes``."""
    if size >= 1024 * _MB:
        return f"{size / (1024 * _MB):.4g} GB"
    if size >= _MB:
        return f"{size / _MB:.4g} MB"
    if size >= _KB:
        return f"{size / _KB:.4g} KB"
    return f"{size} bytes"
