"""Which pixels are the person: MediaPipe's selfie segmentation (landscape model), bundled in
MediaPipe 0.10.21's wheel."""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

_lock = threading.Lock()


def person_mask(picture: np.ndarray) -> np.ndarray:
    """How much each pixel of ``picture`` (H x W x 3 uint8 RGB) is the person: H x W float32, 0-1."""
    with _lock:
        mask = _segmenter().process(np.ascontiguousarray(picture)).segmentation_mask
    return np.clip(mask, 0.0, 1.0).astype(np.float32)


@functools.cache
def _segmenter() -> Any:
    # Imported here: loading MediaPipe takes a second, and only person work needs it.
    import mediapipe as mp

    return mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
