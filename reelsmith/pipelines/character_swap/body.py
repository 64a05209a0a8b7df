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

from reelsmith.faces.pose import JOINTS, LIMBS, PARENTS, SHOULDERS, Body


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
        """The character's joints and where they go on this frame."""
        sources = self.body.points[self.joints]
        return Controls(sources=sources, targets=sources + self._moves[self.joints])
