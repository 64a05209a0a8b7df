"""The input picture: checked at creation (so a bad one is refused with 1003 and nothing is
charged) and loaded as an RGB array for rendering. Pillow reads it: it knows animated PNGs,
CMYK JPEGs, EXIF orientation and decompression bombs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from reelsmith.errors import ApiError, Code
from reelsmith.media.picture_header import read_picture_header

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


def load_picture(path: Path) -> np.ndarray:
    """The picture as an RGB uint8 array, turned upright by its EXIF orientation."""
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image)
        return np.asarray(upright.convert("RGB"))
