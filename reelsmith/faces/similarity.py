"""Similarity transforms (turn in the picture plane, uniform scale, shift) between sets of face
landmarks: how a head moved between two frames, undone to compare expressions."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Similarity:
    """x -> scale * R(angle) x + shift, as a 3 x 3 matrix."""

    matrix: np.ndarray

    @classmethod
    def fit(cls, source: np.ndarray, target: np.ndarray) -> Similarity:
        """The least-squares similarity taking ``source`` points (N x 2) onto ``target``."""
        matrix, _ = cv2.estimateAffinePartial2D(source.astype(np.float32), target.astype(np.float32), method=cv2.LMEDS)
        if matrix is None:
            matrix = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        return cls(np.vstack([matrix, [0.0, 0.0, 1.0]]))

    def apply(self, points: np.ndarray) -> np.ndarray:
        return points @ self.matrix[:2, :2].T + self.matrix[:2, 2]

    def inverse(self) -> Similarity:
        return Similarity(np.linalg.inv(self.matrix))

    def then(self, other: Similarity) -> Similarity:
        """This transform followed by ``other``."""
        return Similarity(other.matrix @ self.matrix)

    @property
    def linear(self) -> np.ndarray:
        return self.matrix[:2, :2]
