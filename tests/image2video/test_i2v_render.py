"""Image to Video rendering: frame size and fitting, easing, subject layers, effects, frames, MP4.

Pictures are scikit-image's astronaut (a person) and coffee (no person); frames are small
(320x180, 10 fps) so the whole library renders in seconds.
"""

from __future__ import annotations

import math
import wave
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from skimage import data

from reelsmith.pipelines.image2video import compositing as render
from reelsmith.pipelines.image2video.canvas import MAX_CROP, crop_fraction, fit_picture, output_size
from reelsmith.pipelines.image2video.easing import CURVES, ease
from reelsmith.pipelines.image2video.effects import EFFECTS, Effect, effect_by_code, focus_of
from reelsmith.pipelines.image2video.layers import SubjectLayers, build_scene, scene_faces, separate_subject
from reelsmith.pipelines.image2video.plan import MotionPlan, Move, Scene
from reelsmith.pipelines.image2video.render import EncodeError, encode, render_frames

SIZE = (320, 180)
FPS = 10
SECONDS = 1


@dataclass(frozen=True)
class Sample:
    picture: np.ndarray
    layers: SubjectLayers | None
    scene: Scene


def _sample(image: np.ndarray, size: tuple[int, int] = SIZE) -> Sample:
    picture = fit_picture(image, size)
    faces = scene_faces(picture)
    layers = separate_subject(picture, faces)
    return Sample(picture, layers, build_scene(picture, layers, faces))


@pytest.fixture(scope="module")
def astronaut() -> Sample:
    return _sample(data.astronaut())


@pytest.fixture(scope="module")
def coffee() -> Sample:
    return _sample(data.coffee())


@pytest.fixture(scope="module", params=["astronaut", "coffee"])
def sample(request: pytest.FixtureRequest) -> Sample:
    return request.getfixturevalue(request.param)


def _render(sample: Sample, plan: MotionPlan, seconds: int = SECONDS, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    return list(render_frames(sample.picture, plan, size, FPS, seconds, sample.layers))


def _difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# --- output size and fitting ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolution", "width", "height", "expected"),
    [
        ("720p", 1920, 1080, (1280, 720)),
        ("720p", 1080, 1920, (720, 1280)),
        ("720p", 512, 512, (720, 720)),
        ("1080p", 600, 400, (1920, 1080)),  # 3:2 is nearer 16:9 than 1:1
        ("1080p", 500, 400, (1080, 1080)),  # 5:4 is nearer 1:1
        ("4k", 3000, 1000, (3840, 2160)),
        ("4k", 1000, 3000, (2160, 3840)),
        ("4K", 801, 799, (2160, 2160)),
    ],
)
def test_output_size_takes_the_short_side_and_the_nearest_aspect(
    resolution: str, width: int, height: int, expected: tuple[int, int]
) -> None:
    size = output_size(resolution, width, height)
    assert size == expected
    assert size[0] % 2 == 0 and size[1] % 2 == 0


def test_output_size_refuses_unknown_resolutions() -> None:
    with pytest.raises(ValueError, match="resolution"):
        output_size("480p", 640, 480)


def _borders(picture: np.ndarray, depth: int = 2) -> list[np.ndarray]:
    return [picture[:depth], picture[-depth:], picture[:, :depth], picture[:, -depth:]]


@pytest.mark.parametrize("image_name", ["astronaut", "coffee", "chelsea"])
@pytest.mark.parametrize("size", [(320, 180), (180, 320), (240, 240), (288, 180)])
def test_fit_picture_fills_the_frame_without_black_borders(image_name: str, size: tuple[int, int]) -> None:
    image = getattr(data, image_name)()
    picture = fit_picture(image, size)
    assert picture.shape == (size[1], size[0], 3) and picture.dtype == np.uint8
    for border in _borders(picture):
        # Each border line, not just on average: no black bar anywhere along it.
        assert border.reshape(-1, 3).max(axis=1).mean() > 20


def test_fit_picture_pads_a_distant_aspect_and_keeps_the_image_unstretched() -> None:
    image = data.astronaut()  # 1:1 into 16:9 would lose 44%: padded
    width, height = SIZE
    picture = fit_picture(image, SIZE)
    inner = cv2.resize(image, (height, height), interpolation=cv2.INTER_AREA)
    left = (width - height) // 2
    assert _difference(picture[:, left : left + height], inner) < 2.0
    # The sides are the blurred, darkened backdrop, not the image.
    assert picture[:, :left].mean() < image.mean()


def test_fit_picture_crops_a_near_aspect_around_the_given_centre() -> None:
    image = cv2.resize(data.coffee(), (400, 240))  # 5:3 into 16:9: a 6% crop
    assert crop_fraction(400, 240, *SIZE) <= MAX_CROP
    # Cropped, not stretched: a 16:9 window of the image, scaled.
    window_height = round(400 * 9 / 16)
    top = (240 - window_height) // 2
    expected = cv2.resize(image[top : top + window_height], SIZE, interpolation=cv2.INTER_AREA)
    assert _similar(fit_picture(image, SIZE), expected)
    # With the centre low in the image, the window moves down to the bottom edge.
    low = fit_picture(image, SIZE, center=(0.5, 0.95))
    expected_low = cv2.resize(image[240 - window_height :], SIZE, interpolation=cv2.INTER_AREA)
    assert _similar(low, expected_low)
    assert not _similar(low, expected)


def _similar(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal but for resampling and rounding: a pixel's shift on a textured picture is forgiven."""
    blur = {"ksize": (0, 0), "sigmaX": 1.5}
    return _difference(cv2.GaussianBlur(a, **blur), cv2.GaussianBlur(b, **blur)) < 3.5


# --- easing -------------------------------------------------------------------------------------


def test_every_curve_starts_at_0_and_ends_at_1_on_arrays() -> None:
    t = np.linspace(0.0, 1.0, 101).reshape(1, 101)
    for name in CURVES:
        values = ease(name, t)
        assert values.shape == t.shape
        assert values[0, 0] == pytest.approx(0.0, abs=1e-9)
        assert values[0, -1] == pytest.approx(1.0, abs=1e-9)


def test_curves_have_their_physical_shapes() -> None:
    t = np.linspace(0.0, 1.0, 2001)
    assert -0.15 < ease("anticipate", t).min() < -0.05  # pulls back first
    assert 1.05 < ease("overshoot", t).max() < 1.15  # goes past, then settles
    assert np.all(np.diff(ease("ease_in_out", t)) >= 0)
    elastic = ease("elastic", t)
    assert elastic.max() > 1.1
    crossings = np.count_nonzero(np.diff(np.sign(elastic[1:] - 1.0)))
    assert crossings >= 3  # rings around the end
    bounce = ease("bounce", t)
    assert bounce.max() <= 1.0 + 1e-9
    assert np.count_nonzero(np.diff(np.sign(np.diff(bounce))) < 0) >= 3  # lands, hops, lands...
    assert ease("ease_in", 0.5) < 0.5 < ease("ease_out", 0.5)


def test_unknown_easing_is_refused() -> None:
    with pytest.raises(ValueError, match="easing"):
        ease("wiggle", 0.5)


# --- subject and faces --------------------------------------------------------------------------


def test_astronaut_has_a_face_and_a_subject_around_it(astronaut: Sample) -> None:
    assert astronaut.scene.faces
    face = astronaut.scene.main_face
    assert face is not None
    # The face is near the top of the 1:1 image, centred in the 16:9 frame by the padding.
    assert face.center[0] == pytest.approx(0.47, abs=0.05)
    assert face.center[1] == pytest.approx(0.23, abs=0.05)
    layers = astronaut.layers
    assert layers is not None
    assert layers.mask.dtype == np.float32 and layers.mask.shape == SIZE[::-1]
    assert 0.0 <= layers.mask.min() and layers.mask.max() <= 1.0
    assert 0.05 < layers.area < 0.6
    left, top, right, bottom = layers.bbox
    x, y = face.center[0] * SIZE[0], face.center[1] * SIZE[1]
    assert left < x < right and top < y < bottom
    assert layers.mask[round(y), round(x)] > 0.9
    assert layers.subject_rgba.shape == (*SIZE[::-1], 4) and layers.plate.shape == (*SIZE[::-1], 3)


def test_plate_fills_the_hole_where_the_subject_was(astronaut: Sample) -> None:
    layers = astronaut.layers
    assert layers is not None
    inside = layers.mask > 0.99
    outside = cv2.dilate((layers.mask > 0.01).astype(np.uint8), np.ones((9, 9), np.uint8)) == 0
    picture, plate = astronaut.picture.astype(np.int16), layers.plate.astype(np.int16)
    # Away from the subject the plate is the picture; where the subject was it is filled.
    assert np.abs(picture - plate)[outside].mean() < 1.0
    assert np.abs(picture - plate)[inside].mean() > 10.0
    assert np.abs(np.diff(plate[inside].astype(float), axis=0)).mean() < 40.0


def test_coffee_has_no_face_but_a_subject(coffee: Sample) -> None:
    assert coffee.scene.faces == ()
    assert coffee.layers is not None and coffee.scene.has_subject
    assert 0.1 < coffee.layers.area < 0.7


def test_grabcut_finds_an_object_the_person_model_does_not_see() -> None:
    picture = np.full((180, 320, 3), 235, np.uint8)
    cv2.rectangle(picture, (130, 60), (190, 120), (30, 60, 200), -1)
    layers = separate_subject(picture)
    assert layers is not None
    left, top, right, bottom = layers.bbox
    assert abs(left - 130) <= 3 and abs(top - 60) <= 3 and abs(right - 191) <= 3 and abs(bottom - 121) <= 3
    assert layers.center == pytest.approx((160.5 / 320, 90.5 / 180), abs=0.02)


def test_nothing_is_separated_from_a_flat_picture() -> None:
    assert separate_subject(np.full((180, 320, 3), 128, np.uint8)) is None


# --- effects ------------------------------------------------------------------------------------

REQUIRED_CODES = ("zoom_in", "zoom_out", "pan_left", "pan_right", "dolly_zoom", "orbit", "parallax_float", "squish")
REQUIRED_CODES += ("inflate", "deflate", "wobble", "shake", "spin", "pulse", "melt", "bounce")


def _effect(code: str) -> Effect:
    effect = effect_by_code(code)
    assert effect is not None, code
    return effect


def test_the_library_has_at_least_16_effects_with_stable_codes() -> None:
    codes = [effect.code for effect in EFFECTS]
    assert len(codes) >= 16 and len(set(codes)) == len(codes)
    assert all(code == code.lower() and " " not in code for code in codes)
    assert {effect.category for effect in EFFECTS} == {"camera", "2.5d", "physical"}
    for code in REQUIRED_CODES:
        effect = effect_by_code(code)
        assert isinstance(effect, Effect) and effect.code == code
    assert effect_by_code(" Squish ") is effect_by_code("squish")
    assert effect_by_code("nope") is None


def test_effects_aim_at_the_face_else_the_subject(astronaut: Sample, coffee: Sample) -> None:
    assert focus_of(astronaut.scene) == astronaut.scene.faces[0].center
    assert focus_of(coffee.scene) == coffee.scene.subject_center
    assert focus_of(Scene(width=320, height=180)) is None
    plan = _effect("zoom_in").plan(astronaut.scene, seed=5, seconds=5)
    assert plan.source == "effect:zoom_in" and plan.seed == 5
    assert plan.moves[0].target == astronaut.scene.faces[0].center


@pytest.mark.parametrize("effect", EFFECTS, ids=lambda effect: effect.code)
def test_every_effect_renders_every_frame_with_motion(effect: Effect, sample: Sample) -> None:
    frames = _render(sample, effect.plan(sample.scene, seed=1, seconds=SECONDS))
    assert len(frames) == FPS * SECONDS
    assert all(frame.shape == (SIZE[1], SIZE[0], 3) and frame.dtype == np.uint8 for frame in frames)
    # Effects that settle (squish, wobble...) end where they began, so motion is the largest
    # change from the first frame, not the last frame's.
    motion = max(_difference(frames[0], frame) for frame in frames[1:])
    assert motion > 8.0, f"{effect.code} barely moves: {motion:.2f}"
    for frame in frames:
        for border in _borders(frame, depth=1):
            assert border.reshape(-1, 3).max(axis=1).mean() > 20, f"{effect.code} shows a black edge"


def _zoom_between(first: np.ndarray, last: np.ndarray) -> float:
    """The scale that maps ``first`` onto ``last``: the last frame shrunk by it matches inside the first."""
    gray_first = cv2.cvtColor(first, cv2.COLOR_RGB2GRAY)
    gray_last = cv2.cvtColor(last, cv2.COLOR_RGB2GRAY)
    height, width = gray_last.shape
    best_score, best_scale = -1.0, 1.0
    for scale in np.arange(1.0, 1.61, 0.01):
        template = cv2.resize(gray_last, (round(width / scale), round(height / scale)), interpolation=cv2.INTER_AREA)
        score = float(cv2.matchTemplate(gray_first, template, cv2.TM_CCOEFF_NORMED).max())
        if score > best_score:
            best_score, best_scale = score, float(scale)
    assert best_score > 0.9
    return best_scale


def test_zoom_in_zooms_by_the_planned_amount(coffee: Sample) -> None:
    plan = _effect("zoom_in").plan(coffee.scene, seed=1, seconds=2)
    frames = _render(coffee, plan, seconds=2, size=(640, 360))
    assert _zoom_between(frames[0], frames[-1]) == pytest.approx(plan.moves[0].amount, abs=0.03)


def test_zoom_keeps_its_target_in_place(astronaut: Sample) -> None:
    target = astronaut.scene.faces[0].center
    plan = MotionPlan(moves=(Move("zoom", amount=1.5, target=target),), source="test", description="")
    first, *_, last = (cv2.GaussianBlur(frame, (0, 0), 2.0) for frame in _render(astronaut, plan))

    def drift(point: tuple[float, float]) -> float:
        x, y = round(point[0] * SIZE[0]), round(point[1] * SIZE[1])
        patch = (slice(y - 2, y + 3), slice(x - 2, x + 3))
        return _difference(first[patch], last[patch])

    assert drift(target) < 6.0
    assert drift((0.5, 0.8)) > 3 * drift(target)


PHYSICAL = [effect for effect in EFFECTS if effect.category == "physical"]


@pytest.mark.parametrize("effect", PHYSICAL, ids=lambda effect: effect.code)
def test_physical_effects_move_the_subject_and_leave_the_background(effect: Effect, astronaut: Sample) -> None:
    layers = astronaut.layers
    assert layers is not None
    frames = _render(astronaut, effect.plan(astronaut.scene, seed=1, seconds=2), seconds=2)
    left, top, right, bottom = layers.bbox
    subject = (slice(top, bottom), slice(left, right))
    change = max(_difference(frames[0][subject], frame[subject]) for frame in frames)
    assert change > 10.0
    if effect.code == "spin":
        return  # a whole turn sweeps the subject through the corners
    width, height = SIZE
    corners = [(slice(0, height // 8), slice(0, width // 10)), (slice(0, height // 8), slice(-width // 10, None))]
    for corner in corners:
        assert max(_difference(frames[0][corner], frame[corner]) for frame in frames) < 1.0


LAYERED = [effect for effect in EFFECTS if effect.category != "camera"]


@pytest.mark.parametrize("effect", LAYERED, ids=lambda effect: effect.code)
def test_drawing_by_pieces_matches_blending_the_whole_region(
    effect: Effect, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renderer draws the subject in pieces (straight where it covers the plate, blended
    only at its edges, not at all where it is clear) and leaves the plate out under it. Over
    any plate (noise here, so a wrongly skipped pixel shows), each frame must match blending
    the subject's whole region, with the plate left out nowhere. Pieces warp from their own
    corner, so OpenCV's fixed-point positions may put a pixel 1/32 px off: a few levels, rarely."""
    calls = []
    layout = render._SubjectSource.layout

    def spy(self, size, matrix, warp, plate_moves):  # type: ignore[no-untyped-def]
        drawn = layout(self, size, matrix, warp, plate_moves)
        calls.append((self, size, matrix, warp, drawn))
        return drawn

    monkeypatch.setattr(render._SubjectSource, "layout", spy)
    _render(sample, effect.plan(sample.scene, seed=1, seconds=2), seconds=2)
    assert calls
    rng = np.random.default_rng(0)
    scratch = render._Scratch(SIZE)
    for source, size, matrix, warp, pieces in calls[::2]:
        if pieces is None:
            continue
        plate = rng.integers(0, 256, (size[1], size[0], 3), np.uint8)
        region = source._region((size[1], size[0]), matrix, warp)
        whole = render._Layout(pieces.placed, pieces.maps, pieces.origin, [(*region, False)], [])
        expected = plate.copy()
        source.draw(expected, whole, scratch)
        drawn = plate.copy()
        for x0, y0, x1, y1 in pieces.holes:
            drawn[y0:y1, x0:x1] = 0  # as if the plate were left out there
        source.draw(drawn, pieces, scratch)
        difference = np.abs(expected.astype(np.int16) - drawn.astype(np.int16))
        assert difference.max() <= 8, effect.code
        assert (difference > 2).mean() < 0.001, effect.code


def test_coverage_is_never_wrong_about_a_box() -> None:
    """Boxes called clear hold only alpha 0, boxes called covered only 255, with the pixel
    around them that interpolation may read."""
    rng = np.random.default_rng(3)
    alpha = np.zeros((90, 120), np.uint8)
    alpha[20:70, 30:100] = 255
    alpha[40:50, 50:60] = 128
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.5)
    coverage = render._Coverage.build(alpha)
    left, top = rng.uniform(-10, 125, 500), rng.uniform(-10, 95, 500)
    right, bottom = left + rng.uniform(0, 30, 500), top + rng.uniform(0, 30, 500)
    kinds = coverage.kinds(left, top, right, bottom)
    padded = np.pad(alpha, 2)  # beyond the layer is clear
    for kind, x0, y0, x1, y1 in zip(kinds, left, top, right, bottom, strict=True):
        box = padded[
            max(0, math.floor(y0) + 2) : max(0, math.floor(y1) + 4),
            max(0, math.floor(x0) + 2) : max(0, math.floor(x1) + 4),
        ]
        if kind == 0:
            assert not box.any()
        elif kind == 2:
            assert box.size and (box == 255).all()
    assert {0, 1, 2} <= set(kinds.tolist())


def test_subject_moves_without_layers_move_the_whole_picture(coffee: Sample) -> None:
    no_layers = Sample(coffee.picture, None, Scene(width=SIZE[0], height=SIZE[1]))
    plan = _effect("squish").plan(no_layers.scene, seed=1, seconds=2)
    frames = _render(no_layers, plan, seconds=2)
    assert max(_difference(frames[0], frame) for frame in frames) > 10.0


def test_shake_is_the_same_for_a_seed_and_differs_between_seeds(astronaut: Sample) -> None:
    shake = _effect("shake")

    def shaken(seed: int) -> list[np.ndarray]:
        return _render(astronaut, shake.plan(astronaut.scene, seed=seed, seconds=2), seconds=2)

    first, again, other = shaken(3), shaken(3), shaken(4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert max(_difference(a, b) for a, b in zip(first, other, strict=True)) > 1.0


def test_room_for_a_wide_pan_never_shows_an_edge(coffee: Sample) -> None:
    plan = MotionPlan(
        moves=(Move("pan", amount=0.5), Move("roll", amount=10.0), Move("zoom", amount=0.7)),
        source="test",
        description="",
    )
    for frame in _render(coffee, plan):
        for border in _borders(frame, depth=1):
            assert border.reshape(-1, 3).max(axis=1).min() > 5


def test_render_counts_frames_exactly_for_any_length(astronaut: Sample) -> None:
    plan = MotionPlan(moves=(Move("zoom", amount=1.2),), source="test", description="")
    assert len(list(render_frames(astronaut.picture, plan, (64, 36), 7, 3, None))) == 21
    with pytest.raises(ValueError):
        render_frames(astronaut.picture, plan, (64, 36), 0, 3, None)


# --- encoding -----------------------------------------------------------------------------------


def _write_tone(path: Path, seconds: float, rate: int = 22050) -> None:
    samples = np.arange(round(seconds * rate)) / rate
    tone = (0.3 * 32767 * np.sin(2 * math.pi * 440.0 * samples)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(tone.tobytes())


@dataclass(frozen=True)
class Probe:
    frames: int
    fps: Fraction
    size: tuple[int, int]
    video_seconds: float
    audio_seconds: float | None


def _probe(path: Path) -> Probe:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        size = (video.codec_context.width, video.codec_context.height)
        rate = Fraction(video.average_rate)
        frames = sum(1 for _ in container.decode(video))
        video_seconds = float(video.duration * video.time_base)
        audio_seconds = float(audio.duration * audio.time_base) if audio is not None else None
    return Probe(frames, rate, size, video_seconds, audio_seconds)


def _clip(astronaut: Sample, seconds: int = 2) -> tuple[list[np.ndarray], MotionPlan]:
    plan = _effect("squish").plan(astronaut.scene, seed=1, seconds=seconds)
    return _render(astronaut, plan, seconds=seconds), plan


def test_encode_writes_every_frame_without_audio(astronaut: Sample, tmp_path: Path) -> None:
    frames, _ = _clip(astronaut)
    seen: list[int] = []
    out = tmp_path / "clip.mp4"
    encode(iter(frames), SIZE, FPS, out, on_frame=seen.append)
    probe = _probe(out)
    assert probe.frames == len(frames) == 20
    assert probe.fps == FPS and probe.size == SIZE
    assert probe.audio_seconds is None
    assert seen == list(range(1, 21))
    with open(out, "rb") as handle:
        head = handle.read(64)
    assert b"moov" in head or head[4:8] == b"ftyp"  # +faststart: the index comes before the media


@pytest.mark.parametrize("audio_seconds", [3.5, 0.6])
def test_encode_cuts_or_pads_audio_to_the_video(astronaut: Sample, tmp_path: Path, audio_seconds: float) -> None:
    frames, _ = _clip(astronaut)
    tone = tmp_path / "tone.wav"
    _write_tone(tone, audio_seconds)
    out = tmp_path / "clip.mp4"
    encode(iter(frames), SIZE, FPS, out, audio_path=tone)
    probe = _probe(out)
    assert probe.frames == 20 and probe.fps == FPS and probe.size == SIZE
    assert probe.audio_seconds is not None
    assert probe.audio_seconds == pytest.approx(2.0, abs=0.1)


def test_encode_streams_straight_from_the_renderer(astronaut: Sample, tmp_path: Path) -> None:
    plan = _effect("orbit").plan(astronaut.scene, seed=1, seconds=2)
    out = tmp_path / "clip.mp4"
    encode(render_frames(astronaut.picture, plan, SIZE, FPS, 2, astronaut.layers), SIZE, FPS, out)
    assert _probe(out).frames == 20


def test_a_failing_callback_stops_encoding_and_leaves_no_file(astronaut: Sample, tmp_path: Path) -> None:
    frames, _ = _clip(astronaut)

    def cancel(count: int) -> None:
        if count == 5:
            raise KeyboardInterrupt

    out = tmp_path / "clip.mp4"
    with pytest.raises(KeyboardInterrupt):
        encode(iter(frames), SIZE, FPS, out, on_frame=cancel)
    assert not out.exists()


def test_encode_reports_what_ffmpeg_said(astronaut: Sample, tmp_path: Path) -> None:
    frames, _ = _clip(astronaut)
    not_audio = tmp_path / "noise.wav"
    not_audio.write_bytes(b"this is not a wave file" * 10)
    out = tmp_path / "clip.mp4"
    with pytest.raises(EncodeError, match="ffmpeg"):
        encode(iter(frames), SIZE, FPS, out, audio_path=not_audio)
    assert not out.exists()
    with pytest.raises(EncodeError, match="no frames"):
        encode(iter([]), SIZE, FPS, out)
    with pytest.raises(ValueError, match="even"):
        encode(iter(frames), (321, 180), FPS, out)
