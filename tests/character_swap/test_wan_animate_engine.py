"""Character Swap on Wan2.2-Animate (``wan2.2-animate-14b``, issue 20) on tiny random weights in
its diffusers layout (``make_tiny``): real tasks of both modes through the API on the CPU. The
weights' output is noise, so what is tested is everything around the model: the listing, a
finished video of the asked size class, length and rate with sound, long clips cut into the
model's segments and stitched as diffusers' own pipeline stitches them, progress, credits,
cancellation, and clean failures of broken or missing weights and of memory running out.

The tiny model generates at most 96x128 here (``REELSMITH_MODEL_MAX_PIXELS``; its videos are
upscaled to the size asked, as a real model's are for 1080p), 2 denoising steps."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("diffusers")

from reelsmith.dispatch import run_task as worker  # noqa: E402
from reelsmith.doctor import check_models  # noqa: E402
from reelsmith.media.decode import read_frames  # noqa: E402
from reelsmith.media.probe import probe  # noqa: E402
from reelsmith.models.wan_animate import Conditioning, Placement, WanAnimateModel, check_layout  # noqa: E402
from reelsmith.pipelines.base import Cancelled, Job  # noqa: E402
from reelsmith.pipelines.character_swap.wan_animate import (  # noqa: E402
    ENGINE,
    Timeline,
    WanAnimatePipeline,
    bounced,
    frame_size,
    make_tiny,
    segment_starts,
    work_size,
)
from reelsmith.products.character_swap import CharacterSwapParams  # noqa: E402
from reelsmith.runtime import Runtime  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402
from tests.conftest import Team, make_settings, run_pending  # noqa: E402
from tests.support.model_engines import assert_unlisted_and_explained  # noqa: E402

CREATE = "/api/open/v4/characterSwap/create"
INFO = "/api/open/v3/content/video/infobymodelid"
QUOTA = "/api/open/v3/faceswap/quota/info"
MODEL = "wan2.2-animate-14b"
DIR = "REELSMITH_WAN_ANIMATE_DIR"
SMALL = {"model_max_pixels": 96 * 128, "model_steps": 2}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(make_tiny(tmp_path_factory.mktemp("wan_animate"))[DIR])


@pytest.fixture
def weights(tiny: Path, tmp_path: Path) -> Path:
    """This test's own copy of the tiny weights (some tests break them)."""
    return Path(shutil.copytree(tiny, tmp_path / "wan_animate"))


@pytest.fixture
def settings(tmp_path: Path, weights: Path) -> Settings:
    return make_settings(tmp_path / "data", wan_animate_dir=weights, **SMALL)


def _body(media_url: str, **fields: object) -> dict[str, object]:
    return {
        "image": f"{media_url}/portrait.png",
        "video": f"{media_url}/talking.mp4",
        "model_name": MODEL,
        "resolution": "480p",
        **fields,
    }


def _record_progress(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reported: list[int] = []
    set_progress = runtime.lifecycle.set_progress

    def record(task_id: str, owner: str, progress: int) -> bool:
        reported.append(progress)
        return set_progress(task_id, owner, progress)

    monkeypatch.setattr(runtime.lifecycle, "set_progress", record)
    monkeypatch.setattr(worker, "PROGRESS_MIN_INTERVAL_S", 0.0)
    return reported


def test_the_model_is_listed_for_both_modes_and_loads_on_the_cpu(runtime: Runtime, pro: Team) -> None:
    listed = {model["value"]: model for model in pro.get("/api/reelsmith/v1/models")["data"]["result"]}
    assert MODEL in listed, listed
    entry = listed[MODEL]
    assert (entry["product"], entry["engine"], entry["modes"]) == ("character_swap", ENGINE, ["animate", "replace"])
    assert entry["provider"] == "Wan-AI" and entry["label"] == "Wan2.2-Animate-14B"
    assert ENGINE in runtime.registry.engines
    [check] = [c for c in check_models(runtime) if MODEL in c.name]
    assert check.ok and "loaded on cpu, float32" in check.detail, check


@pytest.mark.parametrize(
    ("mode", "size", "model_size"), [("animate", (480, 480), "96x96"), ("replace", (640, 480), "128x96")]
)
def test_each_mode_runs_to_a_video_of_the_asked_size_length_and_sound(
    runtime: Runtime,
    pro: Team,
    media_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    size: tuple[int, int],
    model_size: str,
) -> None:
    reported = _record_progress(runtime, monkeypatch)
    created = pro.post(CREATE, _body(media_url, mode=mode, duration=1))
    assert created["code"] == 1000, created
    assert created["data"]["model_name"] == MODEL and created["data"]["deduction_credit"] == 5
    assert pro.get(QUOTA)["data"]["credit"] == 995
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["data"]["_id"])["data"]
    assert data["video_status"] == 3, data
    assert data["deduction_credit"] == 5 and pro.get(QUOTA)["data"]["credit"] == 995
    # One segment of the model (77 frames, the clip's 30 padded), at most 96x128, 29.97 fps.
    report = data["swap_report"]
    assert (report["frames"], report["segments"], report["model_size"], report["model_fps"]) == (
        30,
        1,
        model_size,
        29.97,
    ), report
    assert report["frames_with_face"] >= 28, report
    # Progress: tracking, then each denoising step, rising to the end.
    assert len(reported) >= 5 and reported == sorted(reported) and reported[-1] >= 95, reported

    output = pro.download(data["video"], tmp_path / "animated.mp4")
    info = probe(output)
    # animate: the square character at 480; replace: carphone's 4:3 at 480, sides multiples of 16.
    assert (info.width, info.height, info.frame_count) == (*size, 30)
    assert info.fps == pytest.approx(29.97, abs=0.01)
    assert info.duration == pytest.approx(1.0, abs=0.05) and data["video_duration"] == pytest.approx(1.0, abs=0.05)
    assert info.has_audio and info.audio_codec == "aac"
    frames = np.stack(list(read_frames(output, size)))
    assert frames.std() > 2  # the model's frames (noise), not a black or frozen picture


def test_a_clip_longer_than_a_segment_is_stitched_to_its_full_length(
    runtime: Runtime, pro: Team, media_url: str, tmp_path: Path
) -> None:
    # talking.mp4: 120 frames, 4.0 s: two segments (77, then 76 more after the 1 continued from).
    created = pro.post(CREATE, _body(media_url, mode="animate"))["data"]
    assert created["deduction_credit"] == 5  # 4 s at 480p
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["_id"])["data"]
    assert data["video_status"] == 3, data
    assert data["swap_report"]["segments"] == 2 and data["swap_report"]["frames"] == 120
    info = probe(pro.download(data["video"], tmp_path / "long.mp4"))
    assert (info.width, info.height, info.frame_count) == (480, 480, 120)
    assert info.duration == pytest.approx(4.0, abs=0.05) and info.has_audio


@pytest.mark.parametrize("mode", ["animate", "replace"])
def test_segments_made_one_by_one_are_the_frames_of_diffusers_own_call(tiny: Path, mode: str) -> None:
    """The segment loop (streamed, one segment held at a time) is diffusers' WanAnimatePipeline
    call, bit for bit: the same noise, the same continuation from the segment before."""
    import torch
    from PIL import Image

    model = WanAnimateModel(tiny, Placement(device="cpu"))
    model.load()
    rng = np.random.default_rng(0)
    height, width, count, length = 32, 48, 17, 9  # two segments of 9, continuing from 1 frame
    image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    pose = rng.integers(0, 256, (count, height, width, 3), dtype=np.uint8)
    face = rng.integers(0, 256, (count, 16, 16, 3), dtype=np.uint8)
    background = rng.integers(0, 256, (count, height, width, 3), dtype=np.uint8)
    mask = np.where(rng.random((count, height, width)) > 0.5, 255, 0).astype(np.uint8)
    replacing = mode == "replace"
    extra: dict[str, Any] = {}
    if replacing:
        extra = {
            "background_video": [Image.fromarray(frame) for frame in background],
            "mask_video": [Image.fromarray(frame, "L") for frame in mask],
        }
    expected = model.pipe()(
        image=Image.fromarray(image),
        pose_video=[Image.fromarray(frame) for frame in pose],
        face_video=[Image.fromarray(frame) for frame in face],
        prompt="the person moves",
        height=height,
        width=width,
        segment_frame_length=length,
        num_inference_steps=3,
        mode=mode,
        prev_segment_conditioning_frames=1,
        generator=torch.Generator("cpu").manual_seed(7),
        output_type="np",
        **extra,
    ).frames[0]
    run = model.start(image, mode, prompt="the person moves", steps=3, seed=7, segment_frames=length)
    steps: list[tuple[int, int]] = []
    made = []
    for start in segment_starts(count, length, 1):
        part = slice(start, start + length)
        inputs = Conditioning(
            pose=pose[part],
            face=face[part],
            background=background[part] if replacing else None,
            mask=mask[part] if replacing else None,
        )
        made.append(run.segment(inputs, lambda done, total: steps.append((done, total))))
    run.close()
    ours = np.concatenate(made)
    assert ours.shape == (count, height, width, 3) and [len(part) for part in made] == [9, 8]
    assert np.array_equal(ours, np.round(expected * 255).astype(np.uint8))
    assert steps == [(1, 3), (2, 3), (3, 3)] * 2


def test_sizes_segments_and_frame_rates() -> None:
    assert frame_size(192, 144, "480p") == (640, 480)  # carphone's shown 4:3
    assert frame_size(320, 320, "720p") == (720, 720)
    assert frame_size(1920, 1080, "1080p") == (1904, 1072)  # 1080 is no multiple of 16
    assert frame_size(1080, 1920, "720p") == (720, 1280)
    assert work_size((1280, 720), 1280 * 720) == (1280, 720)
    assert work_size((1904, 1072), 1280 * 720) == (1264, 720)  # generated smaller, upscaled
    assert work_size((640, 480), 96 * 128) == (128, 96)
    # Segments as diffusers cuts them: 77 frames, each after the first from the last one before.
    assert segment_starts(30, 77, 1) == [0]
    assert segment_starts(77, 77, 1) == [0]
    assert segment_starts(120, 77, 1) == [0, 76]
    assert segment_starts(153, 77, 1) == [0, 76]
    assert segment_starts(154, 77, 1) == [0, 76, 152]
    # The last segment is padded with the clip played backwards, then forwards again.
    assert [bounced(i, 4) for i in range(9)] == [0, 1, 2, 3, 2, 1, 0, 1, 2]
    # A 60 fps source: the model makes 30 fps, each of its frames shown twice.
    sixty = Timeline.of(2.0, 60.0)
    assert (sixty.model_count, sixty.output_count) == (60, 120)
    assert [sixty.source_index(k) for k in range(3)] == [0, 2, 4]
    assert [sixty.model_index(j) for j in range(5)] == [0, 0, 1, 1, 2]
    # At 29.97 fps or less the model runs at the source's own rate, frame for frame.
    own = Timeline.of(4.004, 30000 / 1001)
    assert own.model_count == own.output_count == 120
    assert all(own.model_index(j) == j == own.source_index(j) for j in range(120))


def test_animate_without_a_driving_face_fails_with_a_reason_and_a_refund(
    runtime: Runtime, pro: Team, media_url: str
) -> None:
    created = pro.post(CREATE, _body(media_url, video=f"{media_url}/clip.mp4", mode="animate"))["data"]
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["_id"])["data"]
    assert data["video_status"] == 4
    assert "no face was found in the first 3 seconds of the video" in data["faceswap_fail_reason"]
    assert data["deduction_credit"] == 0 and pro.get(QUOTA)["data"]["credit"] == 1000


@pytest.mark.parametrize(
    ("damage", "words"),
    [("broken", "the weights do not load"), ("missing", "the directory does not exist")],
)
def test_weights_broken_after_the_task_was_created_fail_it_with_a_reason_and_a_refund(
    runtime: Runtime, pro: Team, media_url: str, weights: Path, damage: str, words: str
) -> None:
    created = pro.post(CREATE, _body(media_url, mode="replace", duration=1))["data"]
    assert pro.get(QUOTA)["data"]["credit"] == 995
    if damage == "broken":
        [transformer] = (weights / "transformer").glob("*.safetensors")
        transformer.write_bytes(b"not safetensors" * 20)
    else:
        shutil.rmtree(weights)
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["_id"])["data"]
    assert data["video_status"] == 4
    reason = data["faceswap_fail_reason"]
    assert "the Wan2.2-Animate-14B model could not be loaded" in reason and words in reason, reason
    assert str(weights) not in reason  # reasons reach clients: no server paths
    assert data["deduction_credit"] == 0 and pro.get(QUOTA)["data"]["credit"] == 1000


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("index", "model_index.json does not parse"),
        ("component", "the image_encoder folder is missing"),
        ("weights", "the transformer folder holds no weights file"),
        ("other", "not a WanAnimatePipeline"),
        ("missing", "the directory does not exist"),
    ],
)
def test_broken_or_missing_weights_leave_the_model_unlisted_and_say_why(
    tmp_path: Path, weights: Path, damage: str, words: str
) -> None:
    if damage == "index":
        (weights / "model_index.json").write_text("{not json")
    elif damage == "component":
        shutil.rmtree(weights / "image_encoder")
    elif damage == "weights":
        for path in (weights / "transformer").glob("*.safetensors"):
            path.unlink()
    elif damage == "other":
        index = weights / "model_index.json"
        index.write_text(index.read_text().replace('"WanAnimatePipeline"', '"WanImageToVideoPipeline"'))
    else:
        shutil.rmtree(weights)
    with pytest.raises(Exception, match=words):
        check_layout(weights)
    assert_unlisted_and_explained(
        make_settings(tmp_path / "data", wan_animate_dir=weights, **SMALL), MODEL, ENGINE, WanAnimatePipeline, words
    )


def test_running_out_of_gpu_memory_fails_the_task_with_advice_and_a_refund(
    runtime: Runtime, pro: Team, media_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import diffusers
    import torch

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(diffusers.WanAnimateTransformer3DModel, "forward", out_of_memory)
    created = pro.post(CREATE, _body(media_url, mode="animate", duration=1))["data"]
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["_id"])["data"]
    assert data["video_status"] == 4
    reason = data["faceswap_fail_reason"]
    assert "out of CPU memory while generating 77 frames of 96x96" in reason, reason
    assert "REELSMITH_MODEL_CPU_OFFLOAD" in reason and "REELSMITH_MODEL_MAX_PIXELS" in reason
    assert data["deduction_credit"] == 0 and pro.get(QUOTA)["data"]["credit"] == 1000


def test_cancellation_is_honoured_between_denoising_steps(settings: Settings, media_dir: Path, tmp_path: Path) -> None:
    pipeline = WanAnimatePipeline(settings)
    steps: list[int] = []

    def check_cancelled() -> None:
        if steps:
            raise Cancelled("test")

    def report(progress: int) -> None:
        if progress > 30:  # past tracking: a denoising step was reported
            steps.append(progress)

    job = Job(
        task_id="local",
        product="character_swap",
        params=CharacterSwapParams(image_url="", video_url="", duration=1, resolution="480p", mode="animate"),
        inputs={"image": media_dir / "portrait.png", "video": media_dir / "talking.mp4"},
        work_dir=tmp_path,
        report_progress=report,
        check_cancelled=check_cancelled,
    )
    with pytest.raises(Cancelled):
        pipeline.run(job)
    assert len(steps) == 1  # the first step's report, then the next step's check stopped it
    assert not (tmp_path / "frames.mp4").exists()


def test_the_pose_frames_are_drawn_as_wan_animate_draws_them() -> None:
    from reelsmith.pipelines.character_swap import wan_conditioning as pose

    skeleton = pose.Skeleton.empty()
    for point, xy in {pose.NECK: (100, 100), pose.R_SHOULDER: (60, 100), pose.R_ELBOW: (60, 160)}.items():
        skeleton.points[point], skeleton.seen[point] = xy, True
    frame = pose.draw_pose(skeleton, (200, 300))
    assert frame.shape == (300, 200, 3) and frame.dtype == np.uint8
    # Limbs in OpenPose's colours at 60 % (neck-shoulder red, upper arm orange-yellow), joints
    # in the full colour, everything else black; stick width max(200 / 200 - 1, 1) = 1.
    assert tuple(frame[100, 80]) == (153, 0, 0)
    assert tuple(frame[130, 60]) == (153, 102, 0)
    assert tuple(frame[100, 60]) == pose.COLOURS[pose.R_SHOULDER]
    assert tuple(frame[160, 60]) == pose.COLOURS[pose.R_ELBOW]
    assert (frame.sum(axis=-1) > 0).mean() < 0.01


def test_the_face_crop_is_wan_animates() -> None:
    from reelsmith.pipelines.character_swap.wan_conditioning import face_crop_box

    # A 100 x 100 box grown to 1.3 times its area (114 x 114): 7 px more each side, of the 14 px
    # more height three quarters above (10.5) and one below (3.5).
    points = np.array([[200.0, 200.0], [300.0, 300.0]])
    assert face_crop_box(points, 640, 480) == (192, 189, 307, 303)
    assert face_crop_box(points - 190, 640, 480) == (2, 0, 117, 113)  # clipped to the frame


def test_the_driver_is_retargeted_onto_the_characters_build() -> None:
    from reelsmith.pipelines.character_swap import wan_conditioning as pose

    driver = pose.Skeleton.empty()
    for point, xy in {
        pose.NECK: (100, 100),
        pose.NOSE: (100, 60),
        pose.R_SHOULDER: (70, 100),
        pose.L_SHOULDER: (130, 100),
        pose.R_ELBOW: (70, 140),
    }.items():
        driver.points[point], driver.seen[point] = xy, True
    # The character: the same pose twice the size elsewhere, with a neck half as long.
    character = driver.scaled(2, 2)
    character.points[:] += (300, 50)
    character.points[pose.NOSE] = character.points[pose.NECK] + (0, -40)
    retarget = pose.Retarget(character, driver, fallback_scale=1.0, fallback_anchor=(0.0, 0.0))
    assert retarget.scale == 2.0
    same = retarget(driver)
    assert np.allclose(same.points[same.seen], character.points[driver.seen])
    # The driver steps right by 10 and raises its elbow sideways: the character steps 20 and
    # raises its own elbow (its upper arm 80 long) the same way.
    moved = pose.Skeleton(driver.points.copy(), driver.seen.copy())
    moved.points[driver.seen] += (10, 0)
    moved.points[pose.R_ELBOW] = moved.points[pose.R_SHOULDER] + (-40, 0)
    carried = retarget(moved)
    assert np.allclose(carried.points[pose.NECK], character.points[pose.NECK] + (20, 0))
    assert np.allclose(carried.points[pose.NOSE], carried.points[pose.NECK] + (0, -40))
    assert np.allclose(carried.points[pose.R_ELBOW], carried.points[pose.R_SHOULDER] + (-80, 0))
