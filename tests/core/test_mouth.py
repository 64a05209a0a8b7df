"""The drawn mouth interior (reelsmith.faces.mouth): where it goes and what colour it takes."""

from __future__ import annotations

import numpy as np

from reelsmith.faces.landmarks import INNER_LIPS
from reelsmith.faces.mouth import draw_mouth, interior_colours

# The far mouth corner's half of the inner lips (INNER_LIPS runs corner 78, upper lip, corner
# 308, lower lip), as a face turned away hides it.
FAR_HALF = INNER_LIPS[7:14]


def _open_mouth() -> np.ndarray:
    """Landmarks (478 x 2) of a mouth open 16 px under eyes 60 px apart, centred at (50, 50)."""
    face = np.zeros((478, 2))
    face[33], face[263] = (20.0, 20.0), (80.0, 20.0)
    angles = np.linspace(np.pi, -np.pi, len(INNER_LIPS), endpoint=False)
    face[list(INNER_LIPS)] = np.stack([50 + 15 * np.cos(angles), 50 - 8 * np.sin(angles)], axis=1)
    return face


def test_a_turned_face_gets_its_mouth_only_inside_the_lips_it_shows() -> None:
    face = _open_mouth()
    # Turned away, the far half's landmarks land beside the face, on the background.
    face[list(FAR_HALF), 0] += 30.0
    shown = set(range(478)) - set(FAR_HALF)
    background = np.full((100, 120, 3), 200, np.uint8)

    drawn = background.copy()
    draw_mouth(drawn, face, at_rest=0.0, shown=shown)
    changed = np.abs(drawn.astype(int) - background).max(axis=2) > 0
    assert changed[46:54, 40:52].all()  # the near half of the opening is drawn
    assert not changed[:, 70:].any()  # nothing beside the face

    everywhere = background.copy()
    draw_mouth(everywhere, face, at_rest=0.0)
    assert (np.abs(everywhere.astype(int) - background).max(axis=2) > 0)[:, 70:].any()


def test_a_black_and_white_picture_gets_a_grey_mouth() -> None:
    for colour in interior_colours(np.array([120.0, 120.0, 120.0])):
        assert colour[0] == colour[1] == colour[2]
    frame = np.full((100, 100, 3), 120, np.uint8)
    draw_mouth(frame, _open_mouth(), at_rest=0.0, skin=np.array([120.0, 120.0, 120.0]))
    assert (frame[..., 0] == frame[..., 1]).all() and (frame[..., 1] == frame[..., 2]).all()
    assert frame.min() < 60  # a dark throat was drawn


def test_skin_coloured_pictures_keep_a_red_tongue_and_warm_throat() -> None:
    throat, teeth, tongue = interior_colours(np.array([200.0, 150.0, 130.0]))
    assert tongue[0] > 2 * tongue[1] and throat[0] > throat[1]
    assert teeth[0] > throat[0]


def test_a_mouth_whose_upper_lip_is_hidden_is_drawn_without_teeth() -> None:
    face = _open_mouth()
    shown = set(range(478)) - set(INNER_LIPS[:11])  # the upper inner lip, corners and all
    frame = np.full((100, 100, 3), 200, np.uint8)
    draw_mouth(frame, face, at_rest=0.0, shown=shown)
    assert frame.min() < 100  # the throat is drawn, and nothing failed
