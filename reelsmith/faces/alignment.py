"""Five-point face alignment, as face recognition and face swapping models expect their input.

Models in insightface's family (ArcFace embedders, inswapper) take a face cropped by the
similarity transform that brings five points (the eye centres, the nose tip and the mouth
corners) as near as possible to fixed positions in a square. Their detectors give those five
points; here they come from the face mesh (:func:`five_points`), tracked and steadied like every
other landmark, so the crop follows the face as smoothly as the mesh does.
"""

from __future__ import annotations

import cv2
import numpy as np

from reelsmith.faces.landmarks import LEFT_EYE_CORNERS, NOSE_TIP, RIGHT_EYE_CORNERS
from reelsmith.faces.similarity import Similarity, least_squares_similarity

# The outer corners of the lips (the mesh's MOUTH_CORNERS are the inner ones): the person's
# right (left in the picture), then left.
OUTER_MOUTH_CORNERS = (61, 291)


def five_points(points: np.ndarray) -> np.ndarray:
    """The five alignment points of a face mesh (478 x 2 or x 3, pixels), 5 x 2 float32, in the
    order insightface's templates use (left to right in the picture): the person's right eye,
    the left eye, the nose tip, the right and the left mouth corner. An eye's centre is the
    midpoint of its corners, which blinks and gaze do not move."""
    xy = points[:, :2].astype(np.float32)
    return np.stack(
        [
            xy[list(RIGHT_EYE_CORNERS)].mean(axis=0),
            xy[list(LEFT_EYE_CORNERS)].mean(axis=0),
            xy[NOSE_TIP],
            xy[OUTER_MOUTH_CORNERS[0]],
            xy[OUTER_MOUTH_CORNERS[1]],
        ]
    )


def alignment(points: np.ndarray, template: np.ndarray) -> Similarity:
    """The least-squares similarity taking a face's five points (5 x 2) onto ``template``'s."""
    return least_squares_similarity(points, template)


def aligned_crop(picture: np.ndarray, transform: Similarity, side: int) -> np.ndarray:
    """The ``side`` x ``side`` crop of ``picture`` that ``transform`` maps it to (black beyond
    the picture's edges, as the models were trained)."""
    return cv2.warpAffine(
        picture, transform.matrix[:2], (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
