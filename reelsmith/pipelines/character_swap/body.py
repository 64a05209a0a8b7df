"""The driver's body motion carried onto the character's body, joint by joint.

Each joint's motion is taken against the driver's own first frame with a body, scaled by the
ratio of the character's shoulder width to the driver's, and added to the character's joint:
the character keeps its build and stance and moves the way the driver moves. A joint the
character shows but the driver does not (an arm below the frame, a hip behind a desk) moves
with the joint it hangs from, or stays put when it hangs from nothing (the hips). The result is
a set of control points, picture position to frame position, for the body's deformation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelsmith.faces.pose import (
    JOINTS,
    LEFT_HIP,
    LEFT_SHOULDER,
    LIMBS,
    PARENTS,
    RIGHT_HIP,
    RIGHT_SHOULDER,
    SHOULDERS,
    Body,
)

# Trunk control points are placed at these depths below the shoulders, in shoulder-to-hip
# lengths (a shoulder width where the hips are not in the picture).
_TRUNK_DEPTHS = (0.25, 0.5, 1.0)


@dataclass(frozen=True)
class Controls:
    """Points of the character picture (``sources``, N x 2) and where they go (``targets``)."""

    sources: np.ndarray
    targets: np.ndarray


class BodyMotion:
    """The character's body (joints seen on its picture), moved by the driver's bodies."""

    def __init__(self, body: Body) -> None:
        self.body = body
        self.joints = [joint for joint in LIMBS if body.seen[joint]]
        self._reference: Body | None = None
        self._scale = 1.0
        self._moves = np.zeros((JOINTS, 2))  # per joint, in character pixels
        self._driver_centre_move = np.zeros(2)  # the driver's shoulders' centre, driver pixels

    @property
    def started(self) -> bool:
        """Whether the driver has shown a body yet (until then nothing moves)."""
        return self._reference is not None

    def follow(self, driver: Body | None) -> None:
        """Take the driver's body on this frame; without one, the last motion is held."""
        if driver is None:
            return
        if self._reference is None:
            self._reference = driver
            self._scale = self.body.shoulder_width / max(driver.shoulder_width, 1.0)
        reference = self._reference
        both = driver.seen & reference.seen
        moves = np.where(both[:, None], self._scale * (driver.points - reference.points), np.nan)
        for joint in LIMBS:
            if np.isnan(moves[joint, 0]):
                parent = PARENTS.get(joint)
                moves[joint] = moves[parent] if parent is not None else 0.0
        self._moves = np.nan_to_num(moves)
        if both[list(SHOULDERS)].all():
            self._driver_centre_move = driver.shoulder_centre - reference.shoulder_centre

    @property
    def scale(self) -> float:
        """Character pixels per driver pixel for the body's motion."""
        return self._scale

    @property
    def driver_centre_move(self) -> np.ndarray:
        """How far the driver's shoulders' centre has moved (driver pixels)."""
        return self._driver_centre_move

    def controls(self) -> Controls:
        """The character's joints, and points of its trunk, and where they go on this frame."""
        sources = self.body.points[self.joints]
        targets = sources + self._moves[self.joints]
        trunk, trunk_targets = self._trunk()
        return Controls(sources=np.vstack([sources, trunk]), targets=np.vstack([targets, trunk_targets]))

    def _trunk(self) -> tuple[np.ndarray, np.ndarray]:
        """Points down the trunk from the shoulders, and where they go: the shoulders carry
        the trunk as one piece (turned with their line, shifted with their centre), fading
        into the hips' motion where the picture shows hips."""
        left, right = self.body.points[LEFT_SHOULDER], self.body.points[RIGHT_SHOULDER]
        centre, width = (left + right) / 2.0, float(np.linalg.norm(left - right))
        down = np.array([-(left - right)[1], (left - right)[0]]) / max(width, 1e-6)
        if down[1] < 0:
            down = -down  # image y grows downwards; the trunk hangs below the shoulders
        hips = self.body.seen[LEFT_HIP] and self.body.seen[RIGHT_HIP]
        length = float((self.body.points[[LEFT_HIP, RIGHT_HIP]].mean(axis=0) - centre) @ down) if hips else width
        depths = np.array(_TRUNK_DEPTHS) * length
        # The shoulders' centre pins the top of the trunk (the shoulders themselves are joints).
        sources = np.array([centre] + [start + depth * down for depth in depths for start in (left, centre, right)])
        depths = np.concatenate([[0.0], np.repeat(depths, 3)])
        moved_left, moved_right = left + self._moves[LEFT_SHOULDER], right + self._moves[RIGHT_SHOULDER]
        turn = _angle(moved_left - moved_right) - _angle(left - right)
        rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        carried = (sources - centre) @ rotation.T + (moved_left + moved_right) / 2.0
        if not hips:
            return sources, carried
        share = (depths / length)[:, None]
        hip_move = self._moves[[LEFT_HIP, RIGHT_HIP]].mean(axis=0)
        return sources, (1.0 - share) * carried + share * (sources + hip_move)


def _angle(vector: np.ndarray) -> float:
    return float(np.arctan2(vector[1], vector[0]))
