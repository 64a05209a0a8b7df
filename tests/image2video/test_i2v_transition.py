"""Image to Video transitions (``last_image_url``): a face morph, or a cross-dissolve with motion.

The face pair is scikit-image's astronaut and the same picture mirrored and tinted (her face moves
across the frame); the pair without faces is coffee and chelsea (a cat, which the face mesh does
not take for a person). Clips are small (320x320, 10 fps, 2 s) so the module runs in seconds.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from reelsmith.pipelines.image2video.canvas import fit_picture
from reelsmith.pipelines.image2video.transition import face_landmarks, has_face_pair, transition_frames

SIZE = (320, 320)
FPS = 10
SECONDS = 2
COUNT = FPS * SECONDS
NOSE_TIP = 1
# With 20 frames, frames 0 and 1 (times up to 10% of the clip) hold the first picture, 18 and 19
# the last.
HELD = 2

Pair = tuple[np.ndarray, np.ndarray]
Clip = tuple[Pair, list[np.ndarray]]  # the pictures, and the frames made from them


def _fitted(image: np.ndarray) -> np.ndarray:
    return fit_picture(image, SIZE)


def _distance(frame: np.ndarray, picture: np.ndarray) -> float:
    return float(np.mean(np.abs(frame.astype(np.int16) - picture.astype(np.int16))))


def _nose_x(picture: np.ndarray) -> float:
    landmarks = face_landmarks(picture)
    assert landmarks is not None, "no face found"
    return float(landmarks[NOSE_TIP, 0])


@pytest.fixture(scope="module")
def faces() -> Pair:
    astronaut = data.astronaut()
    # Mirrored, warmer and darker in the blues: another picture of "the same" face, elsewhere.
    tinted = np.clip(astronaut[:, ::-1] * np.array([1.1, 0.95, 0.8]) + 10, 0, 255).astype(np.uint8)
    return _fitted(astronaut), _fitted(tinted)


@pytest.fixture(scope="module")
def no_faces() -> Pair:
    return _fitted(data.coffee()), _fitted(data.chelsea())


@pytest.fixture(scope="module")
def morph(faces: Pair) -> list[np.ndarray]:
    return list(transition_frames(*faces, SIZE, FPS, SECONDS))


@pytest.fixture(scope="module")
def dissolve(no_faces: Pair) -> list[np.ndarray]:
    return list(transition_frames(*no_faces, SIZE, FPS, SECONDS))


@pytest.fixture(scope="module", params=["morph", "dissolve"])
def clip(request: pytest.FixtureRequest) -> Clip:
    pictures = request.getfixturevalue("faces" if request.param == "morph" else "no_faces")
    return pictures, request.getfixturevalue(request.param)


def test_the_path_follows_the_faces(faces: Pair, no_faces: Pair) -> None:
    assert has_face_pair(*faces)
    assert not has_face_pair(*no_faces)
    # One face is not a pair.
    assert not has_face_pair(faces[0], no_faces[1])


def test_frame_count_and_size(clip: Clip) -> None:
    _, frames = clip
    assert len(frames) == COUNT
    for frame in frames:
        assert frame.shape == (SIZE[1], SIZE[0], 3)
        assert frame.dtype == np.uint8


def test_the_ends_are_the_pictures_held(clip: Clip) -> None:
    (first, last), frames = clip
    for frame in frames[:HELD]:
        np.testing.assert_array_equal(frame, first)
    for frame in frames[-HELD:]:
        np.testing.assert_array_equal(frame, last)
    assert not np.array_equal(frames[COUNT // 4], first)


def test_the_middle_frame_is_neither_picture(clip: Clip) -> None:
    (first, last), frames = clip
    middle = frames[COUNT // 2]
    gap = _distance(first, last)
    assert _distance(middle, first) > 0.2 * gap
    assert _distance(middle, last) > 0.2 * gap


def test_the_face_travels_between_the_two(faces: Pair, morph: list[np.ndarray]) -> None:
    start, end = _nose_x(faces[0]), _nose_x(faces[1])
    gap = end - start
    assert gap > 20, "the pictures should put the nose in clearly different places"
    middle = _nose_x(morph[COUNT // 2])
    assert start + 0.2 * gap < middle < end - 0.2 * gap
    # The whole way, the nose moves one way only: the geometry morphs.
    travel = [_nose_x(frame) for frame in morph]
    assert np.all(np.diff(travel) > -1.0), travel


def test_a_plain_dissolve_would_not_move_the_nose(faces: Pair) -> None:
    # The measurement above can tell a morph from a dissolve: on an even mix of the two pictures
    # as they are, the face mesh finds one nose or the other, not one in between.
    start, end = _nose_x(faces[0]), _nose_x(faces[1])
    mixed = _nose_x(cv2.addWeighted(faces[0], 0.5, faces[1], 0.5, 0.0))
    assert min(abs(mixed - start), abs(mixed - end)) < 0.15 * abs(end - start)


def test_the_dissolve_goes_steadily_to_the_last_picture(no_faces: Pair, dissolve: list[np.ndarray]) -> None:
    first, last = no_faces
    to_last = [_distance(frame, last) for frame in dissolve]
    to_first = [_distance(frame, first) for frame in dissolve]
    assert np.all(np.diff(to_last) <= 0.05), to_last
    assert np.all(np.diff(to_first) >= -0.05), to_first
    assert to_last[0] > to_last[COUNT // 2] > to_last[-1]


def test_the_dissolve_moves_about_a_point_chosen_by_seed(no_faces: Pair) -> None:
    # A plain dissolve would not depend on the seed; the push-in's centre does.
    middle = COUNT // 2
    frames = {seed: list(transition_frames(*no_faces, SIZE, FPS, SECONDS, seed=seed))[middle] for seed in (1, 2)}
    again = list(transition_frames(*no_faces, SIZE, FPS, SECONDS, seed=1))[middle]
    np.testing.assert_array_equal(frames[1], again)
    assert _distance(frames[1], frames[2]) > 1.0


def test_bad_input_is_refused(faces: Pair) -> None:
    first, last = faces
    with pytest.raises(ValueError, match="last picture"):
        transition_frames(first, last[:-2], SIZE, FPS, SECONDS)
    with pytest.raises(ValueError, match="fps"):
        transition_frames(first, last, SIZE, 0, SECONDS)
