"""The ONNX face swapper engine (``reelsmith-face-swapper``, issue 20) on tiny random graphs with
inswapper-128's and ArcFace's signatures (``make_tiny``): real replace tasks through the API on
the CPU. The graphs' output is noise, so what is tested is everything around the model: the
listing, the alignment convention, a finished video of the asked size and length with sound,
the face region changed and the rest of the frame kept, progress, credits, cancellation, and
clean failures of broken or missing files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from reelsmith.dispatch import run_task as worker  # noqa: E402
from reelsmith.doctor import check_models  # noqa: E402
from reelsmith.faces.landmarks import FaceMesh  # noqa: E402
from reelsmith.faces.similarity import least_squares_similarity  # noqa: E402
from reelsmith.media.decode import read_frames  # noqa: E402
from reelsmith.media.encode import encode_frames  # noqa: E402
from reelsmith.media.probe import probe  # noqa: E402
from reelsmith.models.face_swapper import (  # noqa: E402
    ARCFACE_POINTS,
    FaceSwapperError,
    alignment_template,
    load_face_swapper,
)
from reelsmith.pipelines.base import Cancelled, Job  # noqa: E402
from reelsmith.pipelines.character_swap.face_swapper import ENGINE, FaceSwapperPipeline, make_tiny  # noqa: E402
from reelsmith.products.character_swap import CharacterSwapParams  # noqa: E402
from reelsmith.runtime import Runtime  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402
from tests.conftest import Team, assert_refused, make_settings, run_pending  # noqa: E402
from tests.support.model_engines import assert_unlisted_and_explained  # noqa: E402

CREATE = "/api/open/v4/characterSwap/create"
INFO = "/api/open/v3/content/video/infobymodelid"
QUOTA = "/api/open/v3/faceswap/quota/info"
MODEL = "reelsmith-face-swapper"
SWAPPER, EMBEDDER = "REELSMITH_FACE_SWAPPER_MODEL", "REELSMITH_FACE_EMBEDDER_MODEL"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_tiny(tmp_path_factory.mktemp("face_swapper"))


@pytest.fixture
def model_files(tiny: dict[str, str], tmp_path: Path) -> tuple[Path, Path]:
    """This test's own copies of the tiny graphs (some tests break them)."""
    folder = tmp_path / "models"
    folder.mkdir()
    return Path(shutil.copy(tiny[SWAPPER], folder)), Path(shutil.copy(tiny[EMBEDDER], folder))


@pytest.fixture
def settings(tmp_path: Path, model_files: tuple[Path, Path]) -> Settings:
    swapper, embedder = model_files
    return make_settings(tmp_path / "data", face_swapper_model=swapper, face_embedder_model=embedder)


def _body(media_url: str, **fields: object) -> dict[str, object]:
    return {
        "image": f"{media_url}/portrait.png",
        "video": f"{media_url}/talking.mp4",
        "mode": "replace",
        "model_name": MODEL,
        "resolution": "480p",
        **fields,
    }


def test_the_model_is_listed_with_its_engine_and_loads_on_the_cpu(runtime: Runtime, pro: Team) -> None:
    listed = {model["value"]: model for model in pro.get("/api/reelsmith/v1/models")["data"]["result"]}
    assert MODEL in listed, listed
    entry = listed[MODEL]
    assert (entry["product"], entry["engine"], entry["modes"]) == ("character_swap", ENGINE, ["replace"])
    assert entry["provider"] == "insightface" and "inswapper" in entry["label"]
    assert ENGINE in runtime.registry.engines
    [check] = [c for c in check_models(runtime) if MODEL in c.name]
    assert check.ok and "loaded on cpu, float32 (onnxruntime CPUExecutionProvider)" in check.detail, check


def test_the_alignment_follows_insightface() -> None:
    # inswapper's 128 template is ArcFace's 112 one moved 8 px right; a crop of 224 is twice 112.
    assert np.allclose(alignment_template(128), ARCFACE_POINTS + [8.0, 0.0])
    assert np.allclose(alignment_template(224), 2 * ARCFACE_POINTS)
    # The fit is the least-squares similarity skimage's SimilarityTransform.estimate makes.
    transform = pytest.importorskip("skimage.transform")
    rng = np.random.default_rng(3)
    points = ARCFACE_POINTS * 3.1 + rng.normal(0, 4, (5, 2)) + [200, 80]
    expected = transform.SimilarityTransform.from_estimate(points, ARCFACE_POINTS)
    assert np.allclose(least_squares_similarity(points, ARCFACE_POINTS).matrix, expected.params, atol=1e-9)


def test_a_replace_task_runs_to_a_video_with_the_face_swapped_and_the_rest_kept(
    runtime: Runtime, pro: Team, media_url: str, media_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[int] = []
    set_progress = runtime.lifecycle.set_progress

    def record(task_id: str, owner: str, progress: int) -> bool:
        reported.append(progress)
        return set_progress(task_id, owner, progress)

    monkeypatch.setattr(runtime.lifecycle, "set_progress", record)
    monkeypatch.setattr(worker, "PROGRESS_MIN_INTERVAL_S", 0.0)
    created = pro.post(CREATE, _body(media_url, duration=2))
    assert created["code"] == 1000, created
    assert created["data"]["model_name"] == MODEL and created["data"]["deduction_credit"] == 5
    assert pro.get(QUOTA)["data"]["credit"] == 995
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["data"]["_id"])["data"]
    assert data["video_status"] == 3, data
    assert data["deduction_credit"] == 5 and pro.get(QUOTA)["data"]["credit"] == 995
    assert data["swap_report"] == {"frames": 60, "frames_with_face": 60}
    # Progress per frame: one report for (nearly) each of the 60 frames, rising.
    assert len(reported) >= 60 and reported == sorted(reported) and reported[-1] >= 95, reported

    output = pro.download(data["video"], tmp_path / "swapped.mp4")
    info = probe(output)
    # carphone's 176x144 (4:3 shown) at a 480 short side, 2 s of 29.97 fps, the tone kept.
    assert (info.width, info.height, info.frame_count) == (642, 480, 60)
    assert info.duration == pytest.approx(2.0, abs=0.05) and data["video_duration"] == pytest.approx(2.0, abs=0.05)
    assert info.has_audio and info.audio_codec == "aac"

    size = (info.width, info.height)
    source = list(read_frames(media_dir / "talking.mp4", size, 2.0))
    encode_frames(iter(source), size, info.fps, tmp_path / "plain.mp4")
    reencoded = list(read_frames(tmp_path / "plain.mp4", size))
    swapped = list(read_frames(output, size))
    with FaceMesh(video=False) as mesh:
        for index in range(0, 60, 10):
            [face, *_] = mesh.find(source[index])
            left, top, right, bottom = face.box
            width, height = right - left, bottom - top
            plain = source[index].astype(np.int16)
            change = np.abs(swapped[index].astype(np.int16) - plain).mean(axis=-1)
            codec = np.abs(reencoded[index].astype(np.int16) - plain).mean(axis=-1)
            # The middle of the face (eyes to mouth) is the model's (the tiny graph's blotches).
            inner = (
                slice(int(top + 0.3 * height), int(bottom - 0.25 * height)),
                slice(int(left + 0.25 * width), int(right - 0.25 * width)),
            )
            # Measured: 19-21 grey levels on average, where re-encoding alone changes 2.
            assert change[inner].mean() > 10 + codec[inner].mean(), (index, change[inner].mean())
            # Away from the face (15% of its width beyond its box) nothing but the codec changes.
            grow = 0.15 * width
            away = np.ones(change.shape, bool)
            away[max(0, int(top - grow)) : int(bottom + grow), max(0, int(left - grow)) : int(right + grow)] = False
            assert change[away].mean() < codec[away].mean() + 0.5, (index, change[away].mean(), codec[away].mean())


def test_frames_without_a_face_pass_through(
    runtime: Runtime, pro: Team, media_url: str, media_dir: Path, tmp_path: Path
) -> None:
    # clip.mp4 is ffmpeg's test pattern (no face), 2 s at 10 fps.
    created = pro.post(CREATE, _body(media_url, video=f"{media_url}/clip.mp4"))["data"]
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["_id"])["data"]
    assert data["video_status"] == 3, data
    assert data["swap_report"] == {"frames": 20, "frames_with_face": 0}
    output = pro.download(data["video"], tmp_path / "out.mp4")
    size = (probe(output).width, probe(output).height)
    for made, source in zip(read_frames(output, size), read_frames(media_dir / "clip.mp4", size), strict=True):
        assert np.abs(made.astype(np.int16) - source.astype(np.int16)).mean() < 3  # re-encoded only


def test_animate_with_this_model_is_refused_at_creation(runtime: Runtime, pro: Team, media_url: str) -> None:
    assert_refused(
        runtime, pro, CREATE, _body(media_url, mode="animate"), 1003, f"mode 'animate' is not run by the model {MODEL}"
    )


@pytest.mark.parametrize(("damage", "words"), [("broken", "is not an ONNX model"), ("missing", "does not exist")])
def test_files_broken_after_the_task_was_created_fail_it_with_a_reason_and_a_refund(
    runtime: Runtime, pro: Team, media_url: str, model_files: tuple[Path, Path], damage: str, words: str
) -> None:
    created = pro.post(CREATE, _body(media_url, duration=1))["data"]
    assert pro.get(QUOTA)["data"]["credit"] == 995
    swapper, embedder = model_files
    if damage == "broken":
        swapper.write_bytes(b"not a protobuf at all" * 50)
    else:
        embedder.unlink()
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["_id"])["data"]
    assert data["video_status"] == 4
    reason = data["faceswap_fail_reason"]
    assert "the face swapper's models could not be loaded" in reason and words in reason, reason
    assert data["deduction_credit"] == 0 and pro.get(QUOTA)["data"]["credit"] == 1000


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("broken", "is not an ONNX model"),
        ("missing", "does not exist"),
        ("swapped", "has no input 'target'"),
        ("unset", "REELSMITH_FACE_EMBEDDER_MODEL is not set"),
    ],
)
def test_broken_or_missing_files_leave_the_model_unlisted_and_say_why(
    tmp_path: Path, model_files: tuple[Path, Path], damage: str, words: str
) -> None:
    swapper, embedder = model_files
    paths: dict[str, Path | None] = {"face_swapper_model": swapper, "face_embedder_model": embedder}
    if damage == "broken":
        swapper.write_bytes(b"\x08\x07garbage" * 100)
    elif damage == "missing":
        swapper.unlink()
    elif damage == "swapped":
        paths = {"face_swapper_model": embedder, "face_embedder_model": swapper}
    else:
        paths["face_embedder_model"] = None
    assert_unlisted_and_explained(make_settings(tmp_path / "data", **paths), MODEL, ENGINE, FaceSwapperPipeline, words)


def test_cancellation_is_honoured_between_frames(settings: Settings, media_dir: Path, tmp_path: Path) -> None:
    checks = []

    def check_cancelled() -> None:
        checks.append(1)
        if len(checks) > 5:
            raise Cancelled("test")

    job = Job(
        task_id="local",
        product="character_swap",
        params=CharacterSwapParams(image_url="", video_url="", duration=4, resolution="480p", mode="replace"),
        inputs={"image": media_dir / "portrait.png", "video": media_dir / "talking.mp4"},
        work_dir=tmp_path,
        report_progress=lambda _: None,
        check_cancelled=check_cancelled,
    )
    with pytest.raises(Cancelled):
        FaceSwapperPipeline(settings).run(job)
    assert len(checks) == 6  # the character, then one check per frame until the sixth


def test_the_device_setting_is_obeyed_or_refused_with_a_reason(model_files: tuple[Path, Path]) -> None:
    import onnxruntime

    swapper, embedder = model_files
    assert load_face_swapper(swapper, embedder, "cpu").where.startswith("cpu, float32")
    with pytest.raises(FaceSwapperError, match="is not auto, cpu, cuda or cuda:N"):
        load_face_swapper(swapper, embedder, "tpu")
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        assert load_face_swapper(swapper, embedder, "auto").device == "cuda:0"
    else:  # a CPU-only onnxruntime: auto runs on the CPU, cuda says what is missing
        assert load_face_swapper(swapper, embedder, "auto").device == "cpu"
        with pytest.raises(FaceSwapperError, match="this onnxruntime has no CUDA provider"):
            load_face_swapper(swapper, embedder, "cuda")
