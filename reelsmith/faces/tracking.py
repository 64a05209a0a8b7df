"""One face followed through a video: landmarks per frame, steadied, re-found after cuts.

MediaPipe's video mode already follows a face from frame to frame and looks for faces again
when it loses one (an occlusion, the face leaving the picture). On top of it:

- **Which face.** The largest face is taken when tracking starts; after that, the face nearest
  the one followed so far, so a second person walking past does not steal the swap.
- **Jitter.** Landmarks wobble by a pixel or two from frame to frame even on a still face. A
  One-Euro filter per coordinate (Casiez et al., 2012) smooths slow motion strongly and fast
  motion hardly at all, so a held face stays still and a turning head does not lag.
- **Cuts.** A cut makes the last frame's landmarks meaningless: when the picture changes at once
  (colour histograms far apart), the filter forgets its state and the next face is taken afresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from reelsmith.faces.landmarks import FaceMesh, FoundFace

# One-Euro parameters, in pixels and seconds, tuned on a talking head at 720p: minimum cut-off
# (Hz) for a still face, and how fast the cut-off rises with speed (per pixel per second).
_MIN_CUTOFF = 1.5
_BETA = 0.02
_DERIVATIVE_CUTOFF = 1.0
# Histogram correlation under which two consecutive frames are taken for a cut.
_CUT_CORRELATION = 0.5
# A face whose centre moved further than this share of its size since the last frame is not
# the one followed (unless it is the only face and the track was lost).
_MAX_JUMP = 0.6


class OneEuroFilter:
    """A One-Euro low-pass filter over an array of values (all landmarks at once)."""

    def __init__(self, min_cutoff: float = _MIN_CUTOFF, beta: float = _BETA, d_cutoff: float = _DERIVATIVE_CUTOFF):
        self.min_cutoff = min_cutoff
        self.beta = beta
        self.d_cutoff = d_cutoff
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None

    def reset(self) -> None:
        self._value = None
        self._speed = None

    def __call__(self, value: np.ndarray, dt: float) -> np.ndarray:
        """The filtered ``value``, ``dt`` seconds after the previous one."""
        if self._value is None or self._speed is None or dt <= 0:
            self._value = value.astype(np.float64)
            self._speed = np.zeros_like(self._value)
            return value.copy()
        speed = (value - self._value) / dt
        self._speed = self._speed + _smoothing(self.d_cutoff, dt) * (speed - self._speed)
        cutoff = self.min_cutoff + self.beta * np.abs(self._speed)
        self._value = self._value + _smoothing(cutoff, dt) * (value - self._value)
        return self._value.astype(value.dtype)


def _smoothing(cutoff: float | np.ndarray, dt: float) -> float | np.ndarray:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


@dataclass(frozen=True)
class TrackedFace:
    """The followed face on one frame: filtered landmarks (478 x 3, pixels) and the raw ones."""

    points: np.ndarray
    raw: np.ndarray


class FaceTrack:
    """Follows one face through consecutive frames of a video; call :meth:`next` per frame."""

    def __init__(self, fps: float, max_faces: int = 3) -> None:
        self._mesh = FaceMesh(video=True, max_faces=max_faces)
        self._dt = 1.0 / fps if fps > 0 else 1.0 / 30.0
        self._filter = OneEuroFilter()
        self._last: np.ndarray | None = None  # raw landmarks of the face followed, last frame
        self._histogram: np.ndarray | None = None

    def next(self, frame: np.ndarray) -> TrackedFace | None:
        """The followed face on ``frame`` (H x W x 3 uint8 RGB), or None where there is none."""
        if self._is_cut(frame):
            self._forget()
        face = self._pick(self._mesh.find(frame))
        if face is None:
            self._forget()
            return None
        self._last = face.points
        return TrackedFace(points=self._filter(face.points, self._dt), raw=face.points)

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> FaceTrack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _forget(self) -> None:
        self._filter.reset()
        self._last = None

    def _pick(self, faces: list[FoundFace]) -> FoundFace | None:
        if not faces:
            return None
        if self._last is None:
            return faces[0]  # largest first
        last_centre = self._last[:, :2].mean(axis=0)
        size = float(np.ptp(self._last[:, 0]) + np.ptp(self._last[:, 1])) / 2.0
        nearest = min(faces, key=lambda face: float(np.linalg.norm(face.points[:, :2].mean(axis=0) - last_centre)))
        jump = float(np.linalg.norm(nearest.points[:, :2].mean(axis=0) - last_centre))
        if jump > _MAX_JUMP * max(size, 1.0):
            # Not the same face: start again from the largest one, unfiltered.
            self._filter.reset()
            return faces[0]
        return nearest

    def _is_cut(self, frame: np.ndarray) -> bool:
        small = cv2.resize(frame, (64, 36), interpolation=cv2.INTER_AREA)
        histogram = cv2.calcHist([small], [0, 1, 2], None, [8, 8, 8], [0, 256, 0, 256, 0, 256])
        cv2.normalize(histogram, histogram)
        previous, self._histogram = self._histogram, histogram
        if previous is None:
            return False
        return cv2.compareHist(previous, histogram, cv2.HISTCMP_CORREL) < _CUT_CORRELATION
