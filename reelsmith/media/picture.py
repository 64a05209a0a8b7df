"""A picture loaded as an RGB array for rendering (Pillow: EXIF orientation, every PNG and JPEG
flavour). Whether an input picture may be used is decided at creation (reelsmith/inputs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps


def load_picture(path: Path) -> np.ndarray:
    """The picture as an RGB uint8 array, turned upright by its EXIF orientation."""
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image)
        return np.asarray(upright.convert("RGB"))
