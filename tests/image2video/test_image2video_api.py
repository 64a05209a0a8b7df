"""Image to Video through the API, with the stand-in engine plugged in (tests/support/engines):
answer shapes, batch, results, downloads, new audio, deletion, catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.media.probe import probe
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from tests.conftest import Team, assert_refused, make_settings, run_pending, with_fields
from tests.support.engines.still_video import PREMIUM_STILL, STILL_ENGINE

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
BATCH = CREATE + "/batch"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
DELETE = "/api/open/v4/image2Video/delbyids"
AUDIO = "/api/open/v4/image2Video/updateVideoAudio"
QUOTA = "/api/open/v3/faceswap/quota/info"

CREATE_FIELDS = {
    "_id",
    "create_time",
    "uid",
    "team_id",
    "status",
    "webhookUrl",
    "resolution",
    "file_name",
    "effect_name",
    "effect_code",
    "image_url",
    "prompt",
    "negative_prompt",
    "extend_prompt",
    "audio_type",
    "audio_url",
    "deduction_credit",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]})


def _body(media_url: str, **fields: object) -> dict[str, object]:
    return {
        "image_url": f"{media_url}/face.png",
        "prompt": "Animate this image with smooth camera movement",
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 3,
        **fields,
    }


def test_create_answer_shape(pro: Team, media_url: str) -> None:
    answer = pro.post(CREATE, _body(media_url, audio_type="3", webhookUrl="https://e.com/h"))
    assert answer["code"] == 1000, answer
    data = answer["data"]
    assert CREATE_FIELDS <= set(data)
    assert data["status"] == 1 and data["audio_type"] == 3
    assert data["file_name"] == "Image2Video_Animate this image with .mp4"
    assert data["deduction_credit"] == 20 and data["webhookUrl"] == "https://e.com/h"


@pytest.mark.parametrize(
    ("resolution", "length", "price"), [("720p", 5, 20), ("1080p", 5, 25), ("4k", 5, 30), ("4k", 10, 60)]
)
def test_prices(pro: Team, media_url: str, resolution: str, length: int, price: int) -> None:
    data = pro.post(CREATE, _body(media_url, resolution=resolution, video_length=length, audio_type=1))["data"]
    assert data["deduction_credit"] == price
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - price


def test_finished_task_has_a_signed_downloadable_video(
    runtime: Runtime, client: TestClient, pro: Team, media_url: str, tmp_path: Path
) -> None:
    task_id = pro.post(CREATE, _body(media_url))["data"]["_id"]
    assert run_pending(runtime) == 1
    [result] = pro.post(RESULTS, {"_ids": task_id})["data"]["result"]
    assert result["status"] == 3 and result["only_add_audio"] is False
    assert result["update_time"] >= result["create_time"]
    url = result["video_url"]  # the OUTPUT in this product
    assert "/files/" in url and "signature=" in url and "expires=" in url
    download = client.get(url)
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    saved = tmp_path / "out.mp4"
    saved.write_bytes(download.content)
    assert probe(saved).duration == pytest.approx(1.0, abs=0.15)
    assert result["video_duration"] == pytest.approx(1.0, abs=0.15)
    info = pro.get("/api/open/v3/content/video/infobymodelid", video_model_id=task_id)["data"]
    assert info["video_status"] == 3 and info["video"] == url
    tampered = url.replace("signature=", "signature=0")
    assert client.get(tampered).status_code == 403


def test_engine_failure_refunds_and_says_why(runtime: Runtime, pro: Team, media_url: str) -> None:
    task_id = pro.post(CREATE, _body(media_url, prompt="please fail"))["data"]["_id"]
    run_pending(runtime)
    [result] = pro.post(RESULTS, {"_ids": task_id})["data"]["result"]
    assert result["status"] == 4 and result["deduction_credit"] == 0
    assert "asked this test engine to fail" in result["error_reason"]
    assert pro.get(QUOTA)["data"]["credit"] == 1000


def test_batch_makes_count_variations_with_distinct_seeds(runtime: Runtime, pro: Team, media_url: str) -> None:
    answer = pro.post(BATCH, _body(media_url, count=3, model_name="test-still-v1"))
    data = answer["data"]
    assert data["errorList"] == [] and len(data["successList"]) == 3
    batch_ids = {t["batch_id"] for t in data["successList"]}
    assert len(batch_ids) == 1 and all(
        t["batch_count"] == 3 and t["model_name"] == "test-still-v1" for t in data["successList"]
    )
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - 60
    with runtime.db.read() as session:
        from reelsmith.store.models import Task

        seeds = {session.get(Task, t["_id"]).params["seed"] for t in data["successList"]}  # type: ignore[union-attr]
    assert len(seeds) == 3


def test_results_leave_out_unknown_and_foreign_ids(make_team, media_url: str) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_team(), make_team()
    mine = alice.post(CREATE, _body(media_url))["data"]["_id"]
    theirs = bob.post(CREATE, _body(media_url))["data"]["_id"]
    result = alice.post(RESULTS, {"_ids": f"{mine},{theirs},{'f' * 24},junk"})["data"]["result"]
    assert [r["_id"] for r in result] == [mine]


def test_delete(runtime: Runtime, make_team, media_url: str) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_team(), make_team()
    done = alice.post(CREATE, _body(media_url))["data"]["_id"]
    run_pending(runtime)
    queued = alice.post(CREATE, _body(media_url))["data"]["_id"]
    foreign = bob.post(CREATE, _body(media_url))["data"]["_id"]
    assert alice.get(QUOTA)["data"]["credit"] == 960
    answer = alice.post(DELETE, {"_ids": f"{done},{queued},{foreign}"})
    assert answer["data"]["successIds"] == [done, queued]
    assert answer["data"]["noPermissionItems"] == [{"_id": foreign, "msg": "the content does not exist"}]
    assert alice.get(QUOTA)["data"]["credit"] == 980  # the queued task was cancelled and refunded
    assert alice.post(RESULTS, {"_ids": f"{done},{queued}"})["data"]["result"] == []
    assert bob.post(RESULTS, {"_ids": foreign})["data"]["result"][0]["status"] == 1


def test_update_video_audio(runtime: Runtime, pro: Team, media_url: str) -> None:
    first = pro.post(CREATE, _body(media_url))["data"]["_id"]
    not_done = pro.post(AUDIO, {"pre_video_id": first, "audio_type": 2, "audio_url": f"{media_url}/tone.mp3"})
    assert not_done["code"] == 1003 and "completed" in not_done["msg"]
    run_pending(runtime)
    answer = pro.post(AUDIO, {"pre_video_id": first, "audio_type": 2, "audio_url": f"{media_url}/tone.mp3"})
    assert answer["code"] == 1000, answer
    assert answer["data"]["deduction_credit"] == 5
    [result] = pro.post(RESULTS, {"_ids": answer["data"]["_id"]})["data"]["result"]
    assert result["only_add_audio"] is True
    assert pro.post(AUDIO, {"pre_video_id": "a" * 24, "audio_type": 1})["code"] == 1008
    assert pro.post(AUDIO, {"pre_video_id": first, "audio_type": 2})["code"] == 1003


def test_plans(free: Team, media_url: str) -> None:
    assert free.post(CREATE, _body(media_url, video_length=10))["code"] == 1009
    # No premium model is installed: Akool's demo sends is_premium_model: true on every plan.
    assert free.post(CREATE, _body(media_url, is_premium_model=True))["code"] == 1000
    assert free.post(CREATE, _body(media_url))["code"] == 1000


def test_a_premium_model_installed_needs_pro(tmp_path: Path, media_url: str) -> None:
    runtime = Runtime(make_settings(tmp_path / "data", engine_plugins={"image2video": PREMIUM_STILL}))
    with TestClient(create_app(runtime)) as client:
        for plan, code in (("free", 1009), ("pro", 1000)):
            _, creds = runtime.accounts.create(plan=plan, credits=100)
            team = Team(client, creds.client_id, creds.api_key, 0, "")
            answer = team.post(CREATE, _body(media_url, is_premium_model=True))
            assert answer["code"] == code, answer
            if code == 1009:
                assert answer["msg"] == "is_premium_model needs the Pro plan"


def test_catalogs_come_from_the_installed_engine(pro: Team) -> None:
    effects = pro.get("/api/open/v4/image2Video/effects")["data"]
    assert effects["count"] == 1 and effects["result"][0]["effect_code"] == "still_1"
    models = pro.client.get("/api/open/v4/aigModel/list?types[]=1501", headers=pro.headers).json()["data"]
    assert [m["value"] for m in models] == ["test-still-v1"]


def test_effect_code_names_the_effect(pro: Team, media_url: str) -> None:
    data = pro.post(CREATE, _body(media_url, effect_code="still_1", prompt=""))["data"]
    assert data["effect_name"] == "Still" and data["effect_code"] == "still_1"


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"resolution": "480p"}, "resolution must be one of 720p, 1080p, 4k"),
        ({"video_length": 7}, "video_length must be one of 5, 10"),
        ({"audio_type": 4}, "audio_type must be one of 1, 2, 3"),
        ({"audio_type": "loud"}, "audio_type must be an integer"),
        ({"audio_type": True}, "audio_type must be an integer"),
        ({"video_length": 5.5}, "video_length must be a whole number"),
        ({"audio_type": 2}, "audio_url is required when audio_type is 2"),
        ({"audio_type": 2, "audio_url": "{media}/notes.txt"}, "audio_url"),
        ({"prompt": ""}, "prompt is required when no effect_code is given"),
        ({"prompt": "p" * 501}, "prompt must be at most 500 characters"),
        ({"effect_code": "nope"}, "effect_code 'nope' is not one of the installed effects"),
        ({"image_url": "{media}/clip.mp4"}, "image_url is not a PNG or JPEG"),
        ({"image_url": "http://[::1]:1/x.png"}, "image_url"),
        ({"image_url": "{media}/tiny.png"}, "image_url is 64x64 px; the short side must be at least 256 px"),
        ({"image_url": "{media}/wide.png"}, "the aspect ratio must be at most 3:1"),
        ({"image_url": "{media}/cmyk.jpg"}, "image_url is a CMYK image"),
        ({"image_url": "{media}/animated.png"}, "image_url is animated"),
    ],
)
def test_bad_input(runtime: Runtime, pro: Team, media_url: str, fields: dict[str, object], words: str) -> None:
    assert_refused(runtime, pro, CREATE, with_fields(_body(media_url), fields, media_url), 1003, words)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"count": 11}, "count must be between 1 and 10"),
        ({"count": True}, "count must be an integer"),
        ({"count": 5}, "count must be at most 4"),
        ({"model_name": "sora"}, "model_name 'sora' is not an installed model"),
        ({"last_image_url": "{media}/face.jpg"}, "last_image_url is not supported"),
    ],
)
def test_bad_batch_input(runtime: Runtime, pro: Team, media_url: str, fields: dict[str, object], words: str) -> None:
    assert_refused(runtime, pro, BATCH, with_fields(_body(media_url), fields, media_url), 1003, words)


def test_ids_body_rules(pro: Team) -> None:
    assert pro.post(RESULTS, {"_ids": ""})["msg"] == "_ids must list at least one id"
    assert pro.post(RESULTS, {})["msg"] == "_ids is required"
    assert pro.post(RESULTS, {"_ids": ["a" * 24]})["code"] == 1000
