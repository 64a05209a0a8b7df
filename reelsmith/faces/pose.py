"""Body landmarks from MediaPipe 0.10.21's bundled pose model: 33 joints per person.

Only ``model_complexity=1`` is used: its model (``pose_landmark_full.tflite``) ships in the
wheel, while the lite and heavy ones would be downloaded at run time.

A joint counts as seen only when MediaPipe is confident it is visible and it lies inside the
picture: the model places every joint, guessing hips and knees far below the frame of a
head-and-shoulders shot, and those guesses must not drive anything. A body is there when both
shoulders are seen.

A :class:`BodyTrack` follows the body through a video with a One-Euro filter per coordinate
(the face tracker's filter, tuned for joints, which jitter more than face landmarks), in
place of MediaPipe's own smoothing, so face and body are steadied the same way.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from reelsmith.faces.tracking import OneEuroFilter

JOINTS = 33
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_ELBOW, RIGHT_ELBOW = 13, 14
LEFT_WRIST, RIGHT_WRIST = 15, 16
LEFT_HIP, RIGHT_HIP = 23, 24
LEFT_KNEE, RIGHT_KNEE = 25, 26
LEFT_ANKLE, RIGHT_ANKLE = 27, 28
SHOULDERS = (LEFT_SHOULDER, RIGHT_SHOULDER)
# Each limb joint and the joint it hangs from, trunk outwards (a joint the driver does not
# show moves with its parent).
PARENTS = {
    LEFT_ELBOW: LEFT_SHOULDER,
    RIGHT_ELBOW: RIGHT_SHOULDER,
    LEFT_WRIST: LEFT_ELBOW,
    RIGHT_WRIST: RIGHT_ELBOW,
    LEFT_KNEE: LEFT_HIP,
    RIGHT_KNEE: RIGHT_HIP,
    LEFT_ANKLE: LEFT_KNEE,
    RIGHT_ANKLE: RIGHT_KNEE,
}
# The joints that bend a body: trunk first, so parents come before their children.
LIMBS = (
    LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP, LEFT_ELBOW, RIGHT_ELBOW,
    LEFT_KNEE, RIGHT_KNEE, LEFT_WRIST, RIGHT_WRIST, LEFT_ANKLE, RIGHT_ANKLE,
)  # fmt: skip
MIN_VISIBILITY = 0.5
# One-Euro parameters for joints, in pixels and seconds (see reelsmith.faces.tracking).
_MIN_CUTOFF = 1.0
_BETA = 0.01


@dataclass(frozen=True)
class Body:
    """One person's joints: ``points`` 33 x 2 (pixels) and ``seen`` 33 bool (visible and
    inside the picture)."""

    points: np.ndarray
    seen: np.ndarray

    @property
    def shoulder_width(self) -> float:
        return float(np.linalg.norm(self.points[LEFT_SHOULDER] - self.points[RIGHT_SHOULDER]))

    @property
    def shoulder_centre(self) -> np.ndarray:
        return (self.points[LEFT_SHOULDER] + self.points[RIGHT_SHOULDER]) / 2.0


class BodyPose:
    """One MediaPipe pose graph. ``video=True`` tracks between calls; ``video=False`` looks at
    every picture afresh. Used by one thread (the graph keeps state and is not thread-safe)."""

    def __init__(self, video: bool) -> None:
        # Imported here: loading MediaPipe takes a second and only body work needs it.
        import mediapipe as mp

        self._graph = mp.solutions.pose.Pose(
            static_image_mode=not video,
            model_complexity=1,
            smooth_landmarks=False,
            enable_segmentation=False,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )
        self._lock = threading.Lock()

    def find(self, picture: np.ndarray) -> Body | None:
        """The body in ``picture`` (H x W x 3 uint8 RGB), or None when both shoulders are not
        seen."""
        height, width = picture.shape[:2]
        with self._lock:
            result = self._graph.process(np.ascontiguousarray(picture))
        if result.pose_landmarks is None:
            return None
        return _body(result.pose_landmarks.landmark, width, height)

    def close(self) -> None:
        with self._lock:
            self._graph.close()

    def __enter__(self) -> BodyPose:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_body(picture: np.ndarray) -> Body | None:
    """The body in a still ``picture`` (H x W x 3 uint8 RGB), or None when none is seen."""
    with BodyPose(video=False) as pose:
        return pose.find(picture)


class BodyTrack:
    """Follows the body through consecutive frames of a video; call :meth:`next` per frame."""

    def __init__(self, fps: float) -> None:
        self._pose = BodyPose(video=True)
        self._dt = 1.0 / fps if fps > 0 else 1.0 / 30.0
        self._filter = OneEuroFilter(min_cutoff=_MIN_CUTOFF, beta=_BETA)

    def next(self, frame: np.ndarray) -> Body | None:
        """The body on ``frame`` (H x W x 3 uint8 RGB) with steadied joints, or None."""
        body = self._pose.find(frame)
        if body is None:
            self._filter.reset()
            return None
        return Body(points=self._filter(body.points, self._dt), seen=body.seen)

    def close(self) -> None:
        self._pose.close()

    def __enter__(self) -> BodyTrack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _body(landmarks: Any, width: int, height: int) -> Body | None:
    values = np.array([(mark.x, mark.y, mark.visibility) for mark in landmarks], dtype=np.float64)
    points = values[:, :2] * (width, height)
    inside = (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)
    seen = inside & (values[:, 2] >= MIN_VISIBILITY)
    if not seen[list(SHOULDERS)].all():
        return None
    return Body(points=points, seen=seen)
