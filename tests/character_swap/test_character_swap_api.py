"""Character Swap through the API: answer shapes, pricing, refusals, isolation, a replace task
run to the end in each mode, and the failure (with a refund) of a video without a face."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelsmith.media.probe import probe
from reelsmith.runtime import Runtime
from tests.conftest import Team, assert_refused, run_pending, with_fields

CREATE = "/api/open/v4/characterSwap/create"
INFO = "/api/open/v3/content/video/infobymodelid"
QUOTA = "/api/open/v3/faceswap/quota/info"

CREATE_FIELDS = {
    "_id",
    "create_time",
    "uid",
    "team_id",
    "status",
    "video_duration",
    "deduction_credit",
    "resolution",
    "file_name",
    "image_url",
    "video_url",
    "prompt",
    "mode",
    "model_name",
    "webhookUrl",
}
INFO_FIELDS = {
    "_id",
    "create_time",
    "update_time",
    "uid",
    "team_id",
    "video_duration",
    "webhookUrl",
    "file_name",
    "image_url",
    "video_url",
    "prompt",
    "resolution",
    "deduction_credit",
    "video_status",
}


def _body(media_url: str, **fields: object) -> dict[str, object]:
    return {"image": f"{media_url}/portrait.png", "video": f"{media_url}/clip12.mp4", **fields}


def test_create_answer_shape_and_price(pro: Team, media_url: str) -> None:
    answer = pro.post(CREATE, _body(media_url, prompt="hello", webhookUrl="https://example.com/hook"))
    assert answer["code"] == 1000, answer
    data = answer["data"]
    assert CREATE_FIELDS <= set(data)
    assert len(data["_id"]) == 24 and int(data["_id"], 16) >= 0
    assert data["status"] == 1 and "video_status" not in data
    assert data["uid"] == pro.uid and data["team_id"] == pro.team_id
    assert data["video_url"] == f"{media_url}/clip12.mp4"  # the INPUT in this product
    assert data["image_url"] == f"{media_url}/portrait.png"
    assert data["mode"] == "animate" and data["resolution"] == "720p"
    assert data["file_name"] == f"CharacterSwap_{data['create_time']}.mp4"
    assert data["webhookUrl"] == "https://example.com/hook"
    assert data["video_duration"] == pytest.approx(12, abs=0.1)
    assert data["deduction_credit"] == 30  # 12 s at 720p = ceil(12/5) x 10
    assert pro.get(QUOTA)["data"]["credit"] == 970


@pytest.mark.parametrize(
    ("resolution", "duration", "price"),
    [("480p", None, 15), ("1080p", None, 45), ("720p", 5, 10), ("720p", 5.5, 20), ("480p", 1, 5)],
)
def test_price_follows_resolution_and_duration(
    pro: Team, media_url: str, resolution: str, duration: float | None, price: int
) -> None:
    fields: dict[str, object] = {"resolution": resolution}
    if duration is not None:
        fields["duration"] = duration
    data = pro.post(CREATE, _body(media_url, **fields))["data"]
    assert data["deduction_credit"] == price
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - price


def test_aliases_are_accepted(pro: Team, media_url: str) -> None:
    body = {
        "image_url": f"{media_url}/portrait.jpg",
        "video_url": f"{media_url}/clip.mp4",
        "webhookurl": "https://e.com/h",
    }
    data = pro.post(CREATE, body)["data"]
    assert data["image_url"].endswith("portrait.jpg") and data["webhookUrl"] == "https://e.com/h"


def test_info_while_queued_uses_video_status(pro: Team, media_url: str) -> None:
    created = pro.post(CREATE, _body(media_url, mode="replace"))["data"]
    info = pro.get(INFO, video_model_id=created["_id"])
    assert info["code"] == 1000
    data = info["data"]
    assert INFO_FIELDS <= set(data)
    assert data["video_status"] == 1 and "status" not in data and "video" not in data
    assert data["video_url"] == created["video_url"] and data["mode"] == "replace"


def test_animate_without_a_driving_face_fails_with_a_reason_and_refunds(
    runtime: Runtime, pro: Team, media_url: str
) -> None:
    created = pro.post(CREATE, _body(media_url))["data"]  # a test pattern drives: no face
    assert pro.get(QUOTA)["data"]["credit"] == 970
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["_id"])["data"]
    assert data["video_status"] == 4
    assert "no face was found in the first 3 seconds of the video" in data["faceswap_fail_reason"]
    assert data["deduction_credit"] == 0
    assert pro.get(QUOTA)["data"]["credit"] == 1000
    assert run_pending(runtime) == 0


@pytest.mark.parametrize(("mode", "size"), [("replace", (642, 480)), ("animate", (480, 480))])
def test_each_mode_runs_to_a_video_with_the_sources_length_and_sound(
    runtime: Runtime, pro: Team, media_url: str, tmp_path: Path, mode: str, size: tuple[int, int]
) -> None:
    # replace keeps the video's shown aspect; animate shows the (square) character picture.
    body = {"image": f"{media_url}/portrait.jpg", "video": f"{media_url}/talking.mp4", "mode": mode}
    created = pro.post(CREATE, {**body, "duration": 1, "resolution": "480p"})["data"]
    assert created["deduction_credit"] == 5
    assert run_pending(runtime) == 1
    data = pro.get(INFO, video_model_id=created["_id"])["data"]
    assert data["video_status"] == 3, data
    assert data["deduction_credit"] == 5
    assert data["swap_report"]["frames"] == 30 and data["swap_report"]["frames_with_face"] >= 28
    assert data["video_duration"] == pytest.approx(1.0, abs=0.05)
    output = pro.download(data["video"], tmp_path / "swapped.mp4")
    info = probe(output)
    assert (info.width, info.height, info.frame_count) == (*size, 30)
    assert info.has_audio and info.duration == pytest.approx(1.0, abs=0.05)


def test_needs_the_pro_plan(free: Team, media_url: str) -> None:
    answer = free.post(CREATE, _body(media_url))
    assert answer["code"] == 1009 and "Pro" in answer["msg"]
    assert free.get(QUOTA)["data"]["credit"] == 1000


def test_insufficient_credits(make_team, media_url: str) -> None:  # type: ignore[no-untyped-def]
    poor = make_team("pro", 29)
    answer = poor.post(CREATE, _body(media_url))
    assert answer["code"] == 1104
    assert poor.get(QUOTA)["data"]["credit"] == 29


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"image": None}, 1003, "image"),
        ({"image": ""}, 1003, "image must not be empty"),
        ({"video": 5}, 1003, "video must be a string"),
        ({"resolution": "4k"}, 1003, "resolution must be one of 480p, 720p, 1080p"),
        ({"mode": "swap"}, 1003, "mode must be one of animate, replace"),
        ({"duration": 0}, 1003, "duration must be between 1 and 120"),
        ({"duration": 121}, 1003, "duration must be between 1 and 120"),
        ({"duration": "long"}, 1003, "duration must be a number"),
        ({"duration": True}, 1003, "duration must be a number"),
        ({"duration": "1_0"}, 1003, "duration must be a number"),
        ({"prompt": "x" * 501}, 1003, "prompt must be at most 500 characters"),
        ({"image": "ftp://example.com/a.png"}, 1003, "image must be an http or https URL"),
        ({"image": "not a url"}, 1003, "image"),
        ({"image": "http://10.1.2.3/a.png"}, 1003, "private"),
        ({"image": "http://169.254.169.254/latest/meta-data"}, 1003, "image"),
        ({"image": "{media}/missing.png"}, 1003, "404"),
        ({"image": "http://127.0.0.1:9/a.png"}, 1003, "image could not be fetched"),
        ({"image": "{media}/notes.txt"}, 1003, "image is not a PNG or JPEG"),
        ({"video": "{media}/face.png"}, 1003, "video is not an MP4"),
        ({"video": "{media}/huge_long.mp4"}, 1204, "limit is 120 s"),
        ({"image": "{media}/coffee.jpg"}, 1003, "image shows no face"),
        ({"image": "{media}/face.png"}, 1003, "image shows no face"),
        ({"image": "{media}/two_faces.png"}, 1003, "image shows 2 faces of similar size"),
        ({"webhookUrl": "ftp://example.com/hook"}, 1003, "webhookUrl must be an http or https URL"),
        ({"webhookurl": "http://"}, 1003, "webhookUrl must"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_rule(
    runtime: Runtime, pro: Team, media_url: str, fields: dict[str, object], code: int, words: str
) -> None:
    assert_refused(runtime, pro, CREATE, with_fields(_body(media_url), fields, media_url), code, words)


def test_a_long_source_is_fine_when_duration_cuts_it(pro: Team, media_url: str) -> None:
    data = pro.post(CREATE, _body(media_url, video=f"{media_url}/huge_long.mp4", duration=60, resolution="480p"))[
        "data"
    ]
    assert data["video_duration"] == 60 and data["deduction_credit"] == 60


def test_other_teams_tasks_do_not_exist(make_team, media_url: str) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_team(), make_team()
    created = alice.post(CREATE, _body(media_url))["data"]
    answer = bob.get(INFO, video_model_id=created["_id"])
    assert answer["code"] == 1008
    assert bob.get(INFO, video_model_id="0" * 24)["code"] == 1008
    assert alice.get(INFO, video_model_id=created["_id"])["code"] == 1000


def test_info_refusals(pro: Team, client) -> None:  # type: ignore[no-untyped-def]
    assert pro.get(INFO, video_model_id="nonsense")["code"] == 1008
    answer = client.get(INFO, headers=pro.headers).json()
    assert answer["code"] == 1003 and "video_model_id is required" in answer["msg"]


def test_info_reads_an_encoded_id_and_ignores_other_query_fields(pro: Team, media_url: str) -> None:
    created = pro.post(CREATE, _body(media_url))["data"]
    query = f"?x=1&video_model_id={created['_id']}&video_model_id=%20{created['_id']}"
    answer = pro.client.get(INFO + query, headers=pro.headers).json()
    assert answer["code"] == 1008  # the last value counts, and " <id>" (decoded, not trimmed) is no id
    answer = pro.client.get(f"{INFO}?x=1&video_model_id={created['_id']}", headers=pro.headers).json()
    assert answer["code"] == 1000 and answer["data"]["_id"] == created["_id"]
