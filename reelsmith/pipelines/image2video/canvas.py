"""The output frame's size, and the picture fitted into it.

Size: the resolution names the class of the frame's *short* side (720p = 720, 1080p = 1080,
4k = 2160). The frame's shape is whichever of 16:9, 9:16 and 1:1 is nearest to the image's
aspect (compared on a log scale, so 2:1 and 1:2 are equally far from 1:1). A 720p landscape
frame is 1280x720, portrait 720x1280, square 720x720.

Fit: the image always keeps its aspect; it is never stretched.

- If filling the frame needs a crop of at most 12% of one side, the image is scaled to cover the
  frame and cropped (16:10 into 16:9 loses 10% of its width). The crop window is placed so the
  given centre (the main face or subject) is as close to the frame's centre as the image allows.
- Otherwise the image is scaled to fit inside the frame and centred over a blurred, darkened,
  scaled-up copy of itself that fills the frame (the common "blurred background" look), so
  there are no black bars (3:2 into 16:9 would lose 16%, 4:3 into 16:9 or 1:1 25%: padded).

The renderer leaves room for camera moves itself (see ``render.py``): the fitted picture is what
the first frame shows when no move is under way, and positions in the picture (faces, the
subject) are positions in the frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

SHORT_SIDE = {"720p": 720, "1080p": 1080, "4k": 2160}
ASPECTS = ((16, 9), (9, 16), (1, 1))
MAX_CROP = 0.12
# Background of a padded picture: how dark, and how blurred (as a fraction of the short side).
_BACKDROP_BRIGHTNESS = 0.55
_BACKDROP_BLUR = 0.06
# The backdrop is blurred on a small copy: a wide blur is cheap there and looks the same.
_BACKDROP_WORK_SIDE = 160


def output_size(resolution: str, width: int, height: int) -> tuple[int, int]:
    """The frame ``(width, height)`` for ``resolution`` and an image of ``width`` x ``height``.

    Raises ``ValueError`` for an unknown resolution or an empty image.
    """
    try:
        short = SHORT_SIDE[resolution.lower()]
    except KeyError:
        raise ValueError(f"unknown resolution {resolution!r}; use one of {', '.join(SHORT_SIDE)}") from None
    if width <= 0 or height <= 0:
        raise ValueError(f"an image must have a size, got {width}x{height}")
    image_aspect = math.log(width / height)
    across, down = min(ASPECTS, key=lambda aspect: abs(math.log(aspect[0] / aspect[1]) - image_aspect))
    unit = short / min(across, down)
    return _even(across * unit), _even(down * unit)


def fit_picture(image: np.ndarray, size: tuple[int, int], center: tuple[float, float] | None = None) -> np.ndarray:
    """``image`` (H x W x 3 uint8 RGB) fitted into a frame of ``size`` = (width, height).

    ``center`` is the point to keep in view when cropping, as fractions of the image (the main
    face or the subject); the image's centre when None. Returns a new array of shape
    (height, width, 3), uint8. Raises ``ValueError`` for anything but an RGB uint8 image.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"a picture must be H x W x 3 uint8 RGB, got {image.shape} {image.dtype}")
    width, height = size
    crop = crop_fraction(image.shape[1], image.shape[0], width, height)
    if crop <= MAX_CROP:
        return _cover(image, size, center or (0.5, 0.5))
    return _pad(image, size)


def crop_fraction(image_width: int, image_height: int, width: int, height: int) -> float:
    """How much of one side of the image a crop to ``width`` x ``height`` would remove (0 to 1)."""
    image_aspect = image_width / image_height
    frame_aspect = width / height
    return 1.0 - min(image_aspect, frame_aspect) / max(image_aspect, frame_aspect)


def _cover(image: np.ndarray, size: tuple[int, int], center: tuple[float, float]) -> np.ndarray:
    width, height = size
    image_height, image_width = image.shape[:2]
    scale = max(width / image_width, height / image_height)
    # Cut the window out of the original and resize only that: cheaper than resizing it all.
    window_width = min(image_width, round(width / scale))
    window_height = min(image_height, round(height / scale))
    left = _window_start(center[0] * image_width, window_width, image_width)
    top = _window_start(center[1] * image_height, window_height, image_height)
    window = image[top : top + window_height, left : left + window_width]
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    return cv2.resize(window, (width, height), interpolation=interpolation)


def _window_start(focus: float, window: int, extent: int) -> int:
    return round(min(max(focus - window / 2.0, 0.0), extent - window))


def _pad(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    image_height, image_width = image.shape[:2]
    canvas = backdrop(image, size)
    scale = min(width / image_width, height / image_height)
    inner_width = min(width, max(2, round(image_width * scale)))
    inner_height = min(height, max(2, round(image_height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_CUBIC
    inner = cv2.resize(image, (inner_width, inner_height), interpolation=interpolation)
    left = (width - inner_width) // 2
    top = (height - inner_height) // 2
    canvas[top : top + inner_height, left : left + inner_width] = inner
    return canvas


def backdrop(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The image scaled to cover ``size``, blurred and darkened."""
    width, height = size
    work_scale = _BACKDROP_WORK_SIDE / min(width, height)
    small_size = (max(2, round(width * work_scale)), max(2, round(height * work_scale)))
    small = _cover(image, small_size, (0.5, 0.5))
    sigma = _BACKDROP_BLUR * min(small_size)
    blurred = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
    dark = cv2.convertScaleAbs(blurred, alpha=_BACKDROP_BRIGHTNESS)
    return cv2.resize(dark, (width, height), interpolation=cv2.INTER_CUBIC)


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))
