"""Character Swap's animate mode on real footage: carphone (with a tone as sound) drives
skimage's astronaut, and its cameraman (a profile, his camera at his eye).

Measured on the OUTPUT frames with the face mesh: the character's mouth opening and head yaw
follow the driver's over time (correlation at least 0.8); the character blinks where the
driver does (carphone's man blinks twice); the character's face stays the character's; the
output has the driver's frames, length and sound.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from reelsmith.faces.landmarks import FaceMesh
from reelsmith.faces.segmentation import person_mask
from reelsmith.media.decode import read_frames
from reelsmith.media.picture import load_picture
from reelsmith.media.probe import MediaInfo, probe
from reelsmith.pipelines.character_swap.character import Character
from reelsmith.pipelines.character_swap.pipeline import swap_file
from tests.support.faces import texture_distance


@dataclass(frozen=True)
class Motion:
    """Per frame: mouth opening (in eye distances), head yaw (nose offset in face widths) and
    eye openness (lid gap over eye width, both eyes' mean)."""

    mouth: np.ndarray
    yaw: np.ndarray
    eyes: np.ndarray


def _motion(frames: Iterable[np.ndarray]) -> Motion:
    mouth, yaw, eyes = [], [], []
    with FaceMesh(video=True) as mesh:
        for frame in frames:
            faces = mesh.find(frame)
            if not faces:
                mouth.append(np.nan)
                yaw.append(np.nan)
                eyes.append(np.nan)
                continue
            points = faces[0].points[:, :2]
            mouth.append(np.linalg.norm(points[13] - points[14]) / np.linalg.norm(points[33] - points[263]))
            cheeks = (points[234, 0] + points[454, 0]) / 2
            yaw.append((points[1, 0] - cheeks) / np.linalg.norm(points[454] - points[234]))
            right = np.linalg.norm(points[159] - points[145]) / np.linalg.norm(points[33] - points[133])
            left = np.linalg.norm(points[386] - points[374]) / np.linalg.norm(points[362] - points[263])
            eyes.append((right + left) / 2)
    return Motion(np.array(mouth), np.array(yaw), np.array(eyes))


@dataclass(frozen=True)
class Animated:
    info: MediaInfo
    path: Path


@pytest.fixture(scope="module")
def animated(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Animated:
    out = tmp_path_factory.mktemp("animate") / "out.mp4"
    info = swap_file(media_dir / "astronaut.png", media_dir / "talking.mp4", out, "480p", mode="animate")
    return Animated(info=info, path=out)


@pytest.fixture(scope="module")
def driver_motion(media_dir: Path) -> Motion:
    return _motion(read_frames(media_dir / "talking.mp4", (642, 480)))


@pytest.fixture(scope="module")
def character_motion(animated: Animated) -> Motion:
    return _motion(read_frames(animated.path, (480, 480)))


def test_the_output_has_the_drivers_frames_length_and_sound(animated: Animated, media_dir: Path) -> None:
    driver = probe(media_dir / "talking.mp4")
    info = animated.info
    assert (info.width, info.height) == (480, 480)  # the astronaut picture is square
    assert info.frame_count == driver.frame_count == 120
    assert info.fps == pytest.approx(driver.fps, rel=1e-3)
    assert info.duration == pytest.approx(120 / driver.fps, abs=0.05)
    assert info.has_audio


def test_mouth_and_head_turns_follow_the_driver(driver_motion: Motion, character_motion: Motion) -> None:
    driver, character = driver_motion, character_motion
    seen = ~(np.isnan(driver.mouth) | np.isnan(character.mouth))
    assert seen.mean() > 0.95  # the character's face is found on the output frames
    mouth = np.corrcoef(driver.mouth[seen], character.mouth[seen])[0, 1]
    yaw = np.corrcoef(driver.yaw[seen], character.yaw[seen])[0, 1]
    # Measured: 0.90 (mouth) and 0.97 (yaw).
    assert mouth >= 0.8 and yaw >= 0.8, (mouth, yaw)
    assert np.ptp(character.mouth[seen]) > 0.5 * np.ptp(driver.mouth[seen])  # it really opens


def test_the_character_blinks_when_the_driver_does(driver_motion: Motion, character_motion: Motion) -> None:
    driver, character = driver_motion, character_motion
    # Openness against each face's own usual (median) openness.
    driver_share = driver.eyes / np.nanmedian(driver.eyes)
    character_share = character.eyes / np.nanmedian(character.eyes)
    blinks = np.flatnonzero(driver_share < 0.5)
    assert len(blinks) >= 2  # carphone's man blinks at frames 42 and 92
    # Measured: 0.31 and 0.38 where the driver's are 0.22 and 0.42.
    assert np.all(character_share[blinks] < 0.6), (blinks, driver_share[blinks], character_share[blinks])
    # And the character's eyes stay open where the driver's do (measured: at least 0.91).
    assert np.nanmin(character_share[driver_share > 0.85]) > 0.75


def test_the_character_keeps_its_face(animated: Animated, media_dir: Path) -> None:
    character = Character.from_picture(load_picture(media_dir / "astronaut.png"))
    driver = list(read_frames(media_dir / "talking.mp4", (642, 480)))
    output = list(read_frames(animated.path, (480, 480)))
    own, driver_distance = [], []
    with FaceMesh(video=False) as mesh:
        for index in range(0, 120, 10):
            [face, *_] = mesh.find(output[index])
            own.append(texture_distance(output[index], face.points, character))
            [driving, *_] = mesh.find(driver[index])
            driver_distance.append(texture_distance(driver[index], driving.points, character))
    # The output's face is the astronaut's, moved: far closer to her than the driver's face is.
    assert np.mean(own) < 0.6 * np.mean(driver_distance), (own, driver_distance)


# --- a character in profile: skimage's cameraman -------------------------------------------


@pytest.fixture(scope="module")
def cameraman(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cameraman") / "out.mp4"
    swap_file(media_dir / "camera.png", media_dir / "talking.mp4", out, "480p", mode="animate")
    return out


def test_a_profile_character_turns_its_head_with_the_driver(driver_motion: Motion, cameraman: Path) -> None:
    character = _motion(read_frames(cameraman, (480, 480)))
    seen = ~(np.isnan(driver_motion.yaw) | np.isnan(character.yaw))
    assert seen.mean() > 0.95
    yaw = np.corrcoef(driver_motion.yaw[seen], character.yaw[seen])[0, 1]
    # Measured: 0.84 (0.81 while the half-claimed camera ghosted). His mouth is not asserted:
    # the face mesh does not read this profile's mouth (docs/character_swap.md).
    assert yaw >= 0.8, yaw


def test_a_thing_the_segmenter_half_claims_stays_whole_and_still(media_dir: Path, cameraman: Path) -> None:
    """The segmenter gives the cameraman's camera a mask of about 0.5. It must stay in the
    background, whole: not half carried by the moving head and half painted out of the plate."""
    picture = load_picture(media_dir / "camera.png")
    mask = person_mask(picture)
    doubt = ((mask > 0.3) & (mask < 0.7)).astype(np.uint8)
    doubt = cv2.morphologyEx(doubt, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    assert doubt.sum() > 3000  # the camera, 5643 px
    region = cv2.resize(doubt, (480, 480), interpolation=cv2.INTER_NEAREST) > 0
    still = cv2.resize(picture, (480, 480), interpolation=cv2.INTER_AREA).astype(np.float32)
    differences = [float(np.abs(frame - still)[region].mean()) for frame in read_frames(cameraman, (480, 480))]
    # Measured: median 8.0, at most 9.9 grey levels (the head passes over its eyepiece); 67 and
    # 77 when it was half carried.
    assert np.median(differences) < 15 and max(differences) < 20, (np.median(differences), max(differences))
