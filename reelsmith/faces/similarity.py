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


def least_squares_similarity(source: np.ndarray, target: np.ndarray) -> Similarity:
    """The similarity taking ``source`` points (N x 2) onto ``target`` with the least sum of
    squared distances over all the points (Umeyama's fit, without reflection: what skimage's
    ``SimilarityTransform.estimate`` gives); :meth:`Similarity.fit` is the robust one, which may
    leave points out."""
    source, target = source.astype(np.float64), target.astype(np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    x, y = (source - source_mean).T
    u, v = (target - target_mean).T
    spread = float((x * x + y * y).sum())
    if spread <= 1e-12:
        return Similarity(np.eye(3))
    # target - mean = [[a, -b], [b, a]] (source - mean): a and b in closed form.
    a = float((x * u + y * v).sum()) / spread
    b = float((x * v - y * u).sum()) / spread
    linear = np.array([[a, -b], [b, a]])
    shift = target_mean - linear @ source_mean
    return Similarity(np.array([[a, -b, shift[0]], [b, a, shift[1]], [0.0, 0.0, 1.0]]))
