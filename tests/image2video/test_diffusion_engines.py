"""Image to Video on diffusion models (Wan2.2 TI2V-5B, Wan2.2 I2V-A14B, LTX-Video), end to end
through the API on the CPU, with tiny random weights written once for the module in each
engine's layout (``make_tiny``): the models are listed, tasks complete with videos of the size
class and length asked for (and sound where asked), progress moves per denoising step, credits
are right, effect LoRAs apply; missing, mismatched and broken weights, a broken LoRA and running
out of GPU memory fail cleanly. The videos are noise: real quality is not tested here."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be downloaded; every weight is local
pytest.importorskip("diffusers")

from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

from reelsmith.api.app import create_app  # noqa: E402
from reelsmith.dispatch import run_task as run_task_module  # noqa: E402
from reelsmith.doctor import check_models  # noqa: E402
from reelsmith.media.probe import probe  # noqa: E402
from reelsmith.models.video_diffusion import VideoDiffusion  # noqa: E402
from reelsmith.pipelines.base import Cancelled, EngineUnavailable, Job  # noqa: E402
from reelsmith.pipelines.image2video.diffusion import STAGES, WanTI2VPipeline, make_tiny  # noqa: E402
from reelsmith.products.image2video import Image2VideoParams  # noqa: E402
from reelsmith.runtime import Runtime  # noqa: E402
from reelsmith.settings import Settings  # noqa: E402
from tests.conftest import Team, assert_refused, make_settings, run_pending  # noqa: E402

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
BATCH = CREATE + "/batch"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
AUDIO = "/api/open/v4/image2Video/updateVideoAudio"
QUOTA = "/api/open/v3/faceswap/quota/info"
MODELS = "/api/open/v4/aigModel/list"
EFFECTS = "/api/open/v4/image2Video/effects"

TI2V, I2V, LTX = "wan2.2-ti2v-5b", "wan2.2-i2v-a14b", "ltx-video-i2v"
ENGINE_OF = {TI2V: "image2video-wan-ti2v", I2V: "image2video-wan-i2v", LTX: "image2video-ltx"}
# Tiny frames (32x32 to 48x32) and two steps: the model is the cheap part of each task here.
FAST = {"model_steps": 2, "model_max_pixels": 2048}


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The three tiny checkpoints, and an effect table: a working LoRA for both Wan models and
    one whose file is not a LoRA at all."""
    folder = tmp_path_factory.mktemp("weights")
    dirs = make_tiny(folder / "models")
    assert set(dirs) == {"REELSMITH_WAN_TI2V_DIR", "REELSMITH_WAN_I2V_DIR", "REELSMITH_LTX_I2V_DIR"}
    _write_lora(folder / "glow.safetensors", Path(dirs["REELSMITH_WAN_TI2V_DIR"]))
    (folder / "broken.safetensors").write_bytes(b"not a LoRA at all" * 64)
    table = folder / "effects.json"
    table.write_text(
        json.dumps(
            {
                "tiny_glow": {
                    "lora": "glow.safetensors",
                    "trigger": "g10w glowing effect",
                    "name": "Glow",
                    "description": "The subject starts to glow.",
                    "models": [TI2V, I2V],
                },
                "broken_glow": {"lora": "broken.safetensors", "trigger": "b", "name": "Broken", "models": [TI2V]},
                "no_file": {"lora": "missing.safetensors", "trigger": "m", "name": "Missing", "models": [TI2V]},
            }
        )
    )
    settings = {key.removeprefix("REELSMITH_").lower(): value for key, value in dirs.items()}
    return {**settings, "effect_loras_file": table}


@pytest.fixture(scope="module")
def tall_picture(media_dir: Path) -> str:
    """A 9:16 photograph (a portrait cut from the astronaut), served with the test media."""
    Image.fromarray(data.astronaut()).crop((112, 0, 400, 512)).save(media_dir / "tall.png")
    return "tall.png"


@pytest.fixture
def settings(tmp_path: Path, weights: dict[str, Any]) -> Settings:
    return make_settings(tmp_path / "data", **weights, **FAST, default_models={"image2video": TI2V})


@pytest.fixture
def progress(monkeypatch: pytest.MonkeyPatch, runtime: Runtime) -> dict[str, list[int]]:
    """Every progress report a task makes, by task id (the worker's half-second throttle off)."""
    monkeypatch.setattr(run_task_module, "PROGRESS_MIN_INTERVAL_S", 0.0)
    reports: dict[str, list[int]] = {}
    set_progress = runtime.lifecycle.set_progress

    def record(task_id: str, owner: str, value: int) -> bool:
        reports.setdefault(task_id, []).append(value)
        return set_progress(task_id, owner, value)

    monkeypatch.setattr(runtime.lifecycle, "set_progress", record)
    return reports


def _write_lora(path: Path, model: Path, rank: int = 2) -> None:
    """A LoRA in diffusers' format on the self-attention of every block of ``model``'s
    transformer (which both Wan layouts share)."""
    import safetensors.torch
    import torch

    config = json.loads((model / "transformer" / "config.json").read_text())
    width = config["num_attention_heads"] * config["attention_head_dim"]
    generator = torch.Generator().manual_seed(0)
    tensors = {}
    for block in range(config["num_layers"]):
        for name in ("to_q", "to_k", "to_v"):
            key = f"transformer.blocks.{block}.attn1.{name}"
            tensors[f"{key}.lora_A.weight"] = torch.randn(rank, width, generator=generator)
            tensors[f"{key}.lora_B.weight"] = torch.randn(width, rank, generator=generator)
    safetensors.torch.save_file(tensors, str(path))


def _body(media_url: str, picture: str = "astronaut.png", **fields: object) -> dict[str, object]:
    return {
        "image_url": f"{media_url}/{picture}",
        "prompt": "she smiles and turns her head while the camera slowly zooms in",
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 3,
        **fields,
    }


def _finished(runtime: Runtime, team: Team, task_id: str) -> dict[str, Any]:
    assert run_pending(runtime) == 1
    [result] = team.post(RESULTS, {"_ids": task_id})["data"]["result"]
    return result  # type: ignore[no-any-return]


def _denoise_span() -> tuple[int, int]:
    """The progress values the denoising stage reports between (its start and end, exclusive)."""
    total = sum(stage.weight for stage in STAGES)
    before = sum(stage.weight for stage in STAGES[: [s.name for s in STAGES].index("denoise")])
    after = before + next(stage.weight for stage in STAGES if stage.name == "denoise")
    return int(99 * before / total), int(99 * after / total)


def _check_video(team: Team, result: dict[str, Any], folder: Path, size: tuple[int, int], seconds: float) -> Any:
    video = probe(team.download(result["video_url"], folder / f"{result['_id']}.mp4"))
    assert (video.width, video.height) == size
    assert video.video_seconds == pytest.approx(seconds, abs=0.05)
    assert video.frame_count == round(video.fps * seconds)
    assert result["video_duration"] == pytest.approx(seconds, abs=0.1)
    cover = Image.open(team.download(result["cover_url"], folder / f"{result['_id']}.jpg"))
    assert cover.size == size
    return video


# --- listed, and what they make -------------------------------------------------------------------


def test_the_models_and_their_effects_are_listed(pro: Team) -> None:
    models = {model["value"]: model for model in pro.get(MODELS, **{"types[]": "1501"})["data"]}
    assert {TI2V, I2V, LTX, "reelsmith-motion-v1"} <= set(models)
    for name in (TI2V, I2V, LTX):
        model = models[name]
        assert model["generate_audio"] is True and model["durationList"] == [5, 10]
        assert [r["value"] for r in model["resolutionList"]] == ["720p", "1080p", "4k"]
        assert model["supportedLastFrame"] is (name == I2V)
        assert model["maxCount"] == 10 and model["provider"] in ("Wan-AI", "Lightricks")
    effects = {effect["effect_code"]: effect for effect in pro.get(EFFECTS)["data"]["result"]}
    # The LoRA effects, without previews; the row whose file is missing is left out.
    assert effects["tiny_glow"]["name"] == "Glow" and effects["tiny_glow"]["logo"] == ""
    assert "broken_glow" in effects and "no_file" not in effects


def test_wan_ti2v_is_the_default_model_and_makes_a_portrait_clip_with_designed_sound(
    runtime: Runtime, pro: Team, media_url: str, tall_picture: str, progress: dict[str, list[int]], tmp_path: Path
) -> None:
    # The single create names no model: the operator's default (REELSMITH_DEFAULT_MODELS) runs.
    data = pro.post(CREATE, _body(media_url, tall_picture, audio_type=1))["data"]
    assert data["deduction_credit"] == 20 and pro.get(QUOTA)["data"]["credit"] == 980
    result = _finished(runtime, pro, data["_id"])
    assert result["status"] == 3, result.get("error_reason")
    assert result["model_name"] == TI2V and result["deduction_credit"] == 20
    video = _check_video(pro, result, tmp_path, (720, 1280), 5.0)
    assert video.has_audio and video.fps == pytest.approx(24)
    plan = result["motion_plan"]
    assert plan["source"] == f"model:{TI2V}" and [move["kind"] for move in plan["moves"]] == ["zoom"]
    reports = progress[data["_id"]]
    start, end = _denoise_span()
    assert reports == sorted(reports) and any(start < value < end for value in reports), reports
    assert pro.get(QUOTA)["data"]["credit"] == 980
    # New sound for it (updateVideoAudio), designed for the motion it was made with.
    again = pro.post(AUDIO, {"pre_video_id": data["_id"], "audio_type": 1})["data"]
    redone = _finished(runtime, pro, again["_id"])
    assert redone["status"] == 3, redone.get("error_reason")
    assert _check_video(pro, redone, tmp_path, (720, 1280), 5.0).has_audio


def test_wan_i2v_ends_on_the_last_frame_without_sound(
    runtime: Runtime, pro: Team, media_url: str, progress: dict[str, list[int]], tmp_path: Path
) -> None:
    body = _body(media_url, model_name=I2V, last_image_url=f"{media_url}/portrait.png", count=1)
    [task] = pro.post(BATCH, body)["data"]["successList"]
    result = _finished(runtime, pro, task["_id"])
    assert result["status"] == 3, result.get("error_reason")
    video = _check_video(pro, result, tmp_path, (720, 720), 5.0)
    assert not video.has_audio and video.fps == pytest.approx(16)
    start, end = _denoise_span()
    assert any(start < value < end for value in progress[task["_id"]])
    assert pro.get(QUOTA)["data"]["credit"] == 980


def test_ltx_makes_ten_seconds_with_the_given_audio(
    runtime: Runtime, pro: Team, media_url: str, progress: dict[str, list[int]], tmp_path: Path
) -> None:
    body = _body(
        media_url, "two_faces.png", model_name=LTX, video_length=10, audio_type=2, audio_url=f"{media_url}/tone.mp3"
    )
    [task] = pro.post(BATCH, body)["data"]["successList"]
    assert task["deduction_credit"] == 40
    result = _finished(runtime, pro, task["_id"])
    assert result["status"] == 3, result.get("error_reason")
    video = _check_video(pro, result, tmp_path, (1280, 720), 10.0)
    assert video.has_audio and video.duration == pytest.approx(10.0, abs=0.1)
    start, end = _denoise_span()
    assert any(start < value < end for value in progress[task["_id"]])
    assert pro.get(QUOTA)["data"]["credit"] == 960


def test_an_effect_lora_is_applied_and_only_its_models_make_it(
    runtime: Runtime, pro: Team, media_url: str, tmp_path: Path
) -> None:
    assert_refused(
        runtime, pro, BATCH, _body(media_url, model_name=LTX, effect_code="tiny_glow"), 1003, "is not made by the model"
    )
    [task] = pro.post(BATCH, _body(media_url, model_name=TI2V, effect_code="tiny_glow", prompt=""))["data"][
        "successList"
    ]
    assert task["effect_name"] == "Glow"
    result = _finished(runtime, pro, task["_id"])
    assert result["status"] == 3, result.get("error_reason")
    _check_video(pro, result, tmp_path, (720, 720), 5.0)
    pipeline = runtime.registry.load(ENGINE_OF[TI2V])
    assert isinstance(pipeline, WanTI2VPipeline)
    assert pipeline.model._pipe.get_active_adapters()  # the effect's adapter, switched on


def test_a_lora_that_does_not_load_fails_the_task_and_refunds(runtime: Runtime, pro: Team, media_url: str) -> None:
    [task] = pro.post(BATCH, _body(media_url, model_name=TI2V, effect_code="broken_glow"))["data"]["successList"]
    result = _finished(runtime, pro, task["_id"])
    assert result["status"] == 4 and result["deduction_credit"] == 0
    assert "LoRA could not be loaded into wan2.2-ti2v-5b" in result["error_reason"]
    assert "/" not in result["error_reason"].split("(", 1)[1], result["error_reason"]  # no paths
    assert pro.get(QUOTA)["data"]["credit"] == 1000


def test_last_image_is_refused_by_models_without_it(runtime: Runtime, pro: Team, media_url: str) -> None:
    body = _body(media_url, model_name=LTX, last_image_url=f"{media_url}/portrait.png")
    assert_refused(runtime, pro, BATCH, body, 1003, "last_image_url is not supported by ltx-video-i2v")


def test_running_out_of_gpu_memory_fails_the_task_with_advice(
    runtime: Runtime, pro: Team, media_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import diffusers
    import torch

    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(diffusers.LTXImageToVideoPipeline, "__call__", out_of_memory)
    [task] = pro.post(BATCH, _body(media_url, model_name=LTX))["data"]["successList"]
    result = _finished(runtime, pro, task["_id"])
    assert result["status"] == 4 and result["deduction_credit"] == 0
    assert result["error_reason"].startswith("out of GPU memory while generating 121 frames of 32x32")
    assert "REELSMITH_MODEL_CPU_OFFLOAD" in result["error_reason"]
    assert pro.get(QUOTA)["data"]["credit"] == 1000


# --- missing, mismatched and broken weights -------------------------------------------------------


@contextlib.contextmanager
def _host(tmp_path: Path, **settings: Any) -> Iterator[tuple[Runtime, Team]]:
    """Another server (its own data folder) configured with ``settings``, and a team on it."""
    runtime = Runtime(make_settings(tmp_path / "host", **FAST, **settings))
    runtime.prepare()
    try:
        with TestClient(create_app(runtime)) as client:
            account, creds = runtime.accounts.create(name="host", plan="pro", credits=100)
            yield runtime, Team(client, creds.client_id, creds.api_key, account.id, account.team_id)
    finally:
        runtime.db.dispose()


def test_missing_or_mismatched_weights_are_not_listed(tmp_path: Path, weights: dict[str, Any], media_url: str) -> None:
    wrong = {
        "wan_i2v_dir": tmp_path / "nowhere",
        "ltx_i2v_dir": weights["wan_ti2v_dir"],  # a Wan checkpoint where LTX-Video is expected
        "wan_ti2v_dir": weights["wan_i2v_dir"],  # the 14B two-expert model where the 5B is expected
    }
    with _host(tmp_path, **wrong) as (runtime, team):
        listed = {model["value"] for model in team.get(MODELS)["data"]}
        assert "reelsmith-motion-v1" in listed and not listed & {TI2V, I2V, LTX}
        reasons = {}
        for name, engine in ENGINE_OF.items():
            with pytest.raises(EngineUnavailable) as caught:
                runtime.registry.load(engine)
            reasons[name] = str(caught.value)
        assert "the directory does not exist" in reasons[I2V]
        assert "not the LTXVideoTransformer3DModel of LTX-Video" in reasons[LTX]
        assert "takes 36 input channels where Wan2.2 TI2V-5B takes 16" in reasons[TI2V]
        assert all(str(tmp_path) not in reason for reason in reasons.values())
        # model_name is refused (1003) and nothing is charged.
        assert_refused(runtime, team, BATCH, _body(media_url, model_name=I2V), 1003, "is not an installed model")


def test_broken_weights_fail_the_task_cleanly_and_models_check_says_so(
    tmp_path: Path, weights: dict[str, Any], media_url: str
) -> None:
    broken = tmp_path / "broken-ti2v"
    shutil.copytree(weights["wan_ti2v_dir"], broken)
    (broken / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(b"\x00corrupt" * 512)
    with _host(tmp_path, **{**weights, "wan_ti2v_dir": broken}) as (runtime, team):
        checks = {check.name: check for check in check_models(runtime)}
        ti2v = checks[f"model {TI2V} ({ENGINE_OF[TI2V]})"]
        assert not ti2v.ok and "do not load" in ti2v.detail
        for name in (I2V, LTX):
            check = checks[f"model {name} ({ENGINE_OF[name]})"]
            assert check.ok and check.detail.endswith("loaded on cpu, float32"), check.detail
        # Its structure is sound, so it is listed; the task fails when the weights load, refunded.
        assert TI2V in {model["value"] for model in team.get(MODELS)["data"]}
        [task] = team.post(BATCH, _body(media_url, model_name=TI2V))["data"]["successList"]
        assert team.get(QUOTA)["data"]["credit"] == 80
        result = _finished(runtime, team, task["_id"])
        assert result["status"] == 4 and result["deduction_credit"] == 0
        assert result["error_reason"].startswith("the wan2.2-ti2v-5b model could not be loaded: the weights do not")
        assert str(broken) not in result["error_reason"]
        assert team.get(QUOTA)["data"]["credit"] == 100


# --- the pipeline itself ------------------------------------------------------------------------


def test_a_cancelled_task_stops_between_denoising_steps(tmp_path: Path, weights: dict[str, Any]) -> None:
    pipeline = WanTI2VPipeline(make_settings(tmp_path / "data", **weights, model_steps=4, model_max_pixels=2048))
    steps: list[int] = []
    original = VideoDiffusion.generate

    def counting(self: VideoDiffusion, request: Any, on_step: Any) -> Any:
        return original(self, request, lambda done, total: (steps.append(done), on_step(done, total)))

    picture = tmp_path / "picture.png"
    Image.fromarray(data.astronaut()).save(picture)
    reports: list[int] = []
    start, _ = _denoise_span()

    def check_cancelled() -> None:
        if reports and reports[-1] > start:  # the first step is done: the task was deleted
            raise Cancelled("t")

    job = Job(
        task_id="t",
        product="image2video",
        params=Image2VideoParams(image_url="", prompt="a smile", resolution="720p", video_length=5, audio_type=3),
        inputs={"image": picture},
        work_dir=tmp_path,
        report_progress=reports.append,
        check_cancelled=check_cancelled,
    )
    with pytest.MonkeyPatch.context() as monkey:
        monkey.setattr(VideoDiffusion, "generate", counting)
        with pytest.raises(Cancelled):
            pipeline.run(job)
    assert steps == [1, 2] and not (tmp_path / "video.mp4").exists()
    assert pipeline.load_check() == "cpu, float32"
