"""Quotes (POST /api/reelsmith/v1/quote, docs/quote.md): for each product, the price the create
then charges, nothing charged, queued or stored by the quote itself, what the test media really
hold, warnings where the result will be poor, the create's own refusals, and the expected time
learnt from a finished task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from reelsmith.api.app import create_app
from reelsmith.runtime import Runtime
from reelsmith.store.models import Task
from tests.conftest import Team, make_settings, run_pending, with_fields
from tests.support.speech import spoken_clip

QUOTE = "/api/reelsmith/v1/quote"
QUOTA = "/api/open/v3/faceswap/quota/info"
SWAP = "/api/open/v4/characterSwap/create"
TRANSLATE = "/api/open/v3/content/video/createbytranslate"
I2V = "/api/open/v4/image2Video/createBySourcePrompt"
I2V_BATCH = I2V + "/batch"
QUOTE_FIELDS = {
    "credit",
    "balance",
    "affordable",
    "expected_seconds",
    "expected_from",
    "queue_ahead",
    "tasks",
    "inputs",
    "warnings",
}


def _quote(team: Team, endpoint: str, body: object) -> dict[str, Any]:
    return team.post(QUOTE, {"endpoint": endpoint, "body": body})


def _quoted(team: Team, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = _quote(team, endpoint, body)
    assert answer["code"] == 1000, answer
    assert set(answer["data"]) == QUOTE_FIELDS
    return answer["data"]


def _task_count(runtime: Runtime) -> int:
    row = runtime.db.read_first(select(func.count()).select_from(Task))
    return int(row[0]) if row else 0


def _left_nothing(runtime: Runtime, team: Team, balance: int) -> None:
    """No charge, no task, no stored file, no scratch folder left by the quote."""
    assert team.get(QUOTA)["data"]["credit"] == balance
    assert _task_count(runtime) == 0
    assert not any(runtime.storage.root.rglob("*.*")), "a quote stored files"
    assert not list(runtime.settings.work_dir.glob("inputs-*")), "a quote left its scratch folder"


@pytest.fixture(scope="module")
def spoken(media_dir: Path) -> str:
    """English sentences (espeak-ng) over carphone, 8.5 s: tests/support/speech.py."""
    spoken_clip(media_dir / "quote_spoken.mp4")
    return "quote_spoken.mp4"


def test_character_swap_quote_is_the_create_price_and_reads_the_media(
    runtime: Runtime, pro: Team, media_url: str
) -> None:
    body = {
        "image": f"{media_url}/portrait.png",
        "video": f"{media_url}/talking.mp4",
        "mode": "replace",
        "duration": 2,
        "resolution": "480p",
    }
    quote = _quoted(pro, SWAP, body)
    _left_nothing(runtime, pro, 1000)
    assert quote["credit"] == 5 and quote["balance"] == 1000 and quote["affordable"] is True
    assert quote["tasks"] == 1 and quote["queue_ahead"] == 0
    assert quote["expected_from"] == "defaults" and quote["expected_seconds"] > 0
    image, video, faces = quote["inputs"]["image"], quote["inputs"]["video"], quote["inputs"]["video_faces"]
    # The astronaut's portrait, 320x320, one face of about a third of it.
    assert (image["width"], image["height"], image["faces"]) == (320, 320, 1)
    assert 80 <= image["largest_face_px"] <= 200
    # carphone: 176x144 stored with wide pixels (shown 193 wide), 29.97 fps, 4 s, a sound track.
    assert (video["width"], video["height"], video["has_audio"]) == (193, 144, True)
    assert video["fps"] == pytest.approx(29.97, abs=0.01) and video["duration"] == pytest.approx(4.0, abs=0.05)
    assert faces["looked_seconds"] == 3 and faces["frames_looked"] == 6
    assert faces["frames_with_face"] == 6 and faces["most_faces"] == 1
    assert 40 <= faces["largest_face_px"] <= 90
    assert quote["inputs"]["seconds_used"] == 2
    assert quote["warnings"] == [
        "the video is 4.0 s long; only its first 2 s are used (duration)",
        "the video is 193x144: the 480p output enlarges it 3.3x, so it will look soft",
    ]

    created = pro.post(SWAP, body)["data"]
    assert created["deduction_credit"] == quote["credit"]
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - quote["credit"]
    assert _quoted(pro, SWAP, body)["queue_ahead"] == 1  # the task just created waits on the engine


def test_translation_quote_hears_the_speech_and_prices_every_language(
    runtime: Runtime, pro: Team, media_url: str, spoken: str
) -> None:
    body = {"url": f"{media_url}/{spoken}", "language": "es,fr"}
    quote = _quoted(pro, TRANSLATE, body)
    _left_nothing(runtime, pro, 1000)
    assert quote["credit"] == 2 * 10 and quote["tasks"] == 2  # 8.5 s: two started 5 s blocks a language
    video, speech = quote["inputs"]["video"], quote["inputs"]["speech"]
    assert video["duration"] == pytest.approx(8.5, abs=0.1) and video["has_audio"] is True
    # Three sentences of 1.4-2.4 s each; English, one voice; the quiet 5 kHz tone well under them.
    assert speech["looked_seconds"] == pytest.approx(video["duration"], abs=0.01)
    assert 5.0 <= speech["seconds"] <= 7.5
    assert speech["language"] == "en" and speech["speakers"] == 1
    assert speech["background_db"] < -6
    assert quote["warnings"] == []

    answer = pro.post(TRANSLATE, body)
    assert sum(result["data"]["deduction_credit"] for result in answer["all_results"]) == quote["credit"]
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - quote["credit"]


def test_translation_warnings_wrong_source_language_and_no_speech(
    runtime: Runtime, pro: Team, media_url: str, spoken: str
) -> None:
    wrong = _quoted(pro, TRANSLATE, {"url": f"{media_url}/{spoken}", "language": "en", "source_language": "es"})
    assert wrong["warnings"] == ["the speech sounds like English (en), but source_language is Spanish (es)"]
    already = _quoted(pro, TRANSLATE, {"url": f"{media_url}/{spoken}", "language": "en,es"})
    assert already["warnings"] == ["the speech already sounds like English (en), one of the target languages"]
    # clip.mp4: 2 s of a test pattern over a tone, no speech at all.
    silent = _quoted(pro, TRANSLATE, {"url": f"{media_url}/clip.mp4", "language": "es"})
    assert silent["inputs"]["speech"]["seconds"] == 0 and silent["inputs"]["speech"]["language"] is None
    assert silent["warnings"] == ["no speech was found in the video: the task would fail, with nothing to translate"]
    _left_nothing(runtime, pro, 1000)


def test_image_to_video_quotes_single_and_batch_then_creates_at_that_price(
    runtime: Runtime, pro: Team, media_url: str
) -> None:
    single = {"image_url": f"{media_url}/astronaut.png", "prompt": "slow zoom into her face"}
    quote = _quoted(pro, I2V, single)
    assert quote["credit"] == 20 and quote["tasks"] == 1
    assert quote["inputs"]["image"]["width"] == 512 and quote["inputs"]["image"]["faces"] == 1
    assert quote["inputs"]["output"] == {"width": 720, "height": 720, "seconds": 5.0}
    assert quote["inputs"]["last_image"] is None
    assert quote["warnings"] == []
    batch = {**single, "resolution": "1080p", "video_length": 10, "count": 3, "last_image_url": ""}
    batch_quote = _quoted(pro, I2V_BATCH, batch)
    assert batch_quote["credit"] == 3 * 50 and batch_quote["tasks"] == 3
    assert batch_quote["inputs"]["output"] == {"width": 1080, "height": 1080, "seconds": 10.0}
    assert batch_quote["expected_seconds"] > 6 * quote["expected_seconds"]  # three times, twice as long, larger
    assert batch_quote["warnings"] == [
        "the picture is 512x512: the 1080p video (1080x1080) enlarges it 2.1x, so it will look soft"
    ]
    _left_nothing(runtime, pro, 1000)

    assert pro.post(I2V, single)["data"]["deduction_credit"] == quote["credit"]
    created = pro.post(I2V_BATCH, batch)["data"]["successList"]
    assert sum(task["deduction_credit"] for task in created) == batch_quote["credit"]
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - quote["credit"] - batch_quote["credit"]


def test_warnings_for_a_picture_without_a_face_and_for_too_few_credits(
    runtime: Runtime, make_team: Any, media_url: str
) -> None:
    poor = make_team("pro", 15)
    body = {"image_url": f"{media_url}/coffee.jpg", "prompt": "the steam rises"}
    quote = _quoted(poor, I2V, body)
    assert quote["inputs"]["image"] == {"width": 600, "height": 400, "faces": 0, "largest_face_px": 0}
    assert quote["affordable"] is False and quote["balance"] == 15 and quote["credit"] == 20
    assert quote["warnings"] == [
        "no face was found in the picture: the motion centres on its main subject, and what a prompt or effect "
        "asks of a face has no face to act on",
        "the picture is 600x400: the 720p video (1280x720) enlarges it 1.8x, so it will look soft",
        "not enough credits: this costs 20 and the balance is 15",
    ]
    _left_nothing(runtime, poor, 15)
    assert poor.post(I2V, body)["code"] == 1104  # the create refuses what the quote warned of


@pytest.mark.parametrize(
    ("endpoint", "fields"),
    [
        (SWAP, {"resolution": "4k"}),
        (SWAP, {"image": "{media}/coffee.jpg"}),  # no face: the create's own check
        (SWAP, {"duration": "soon"}),
        (TRANSLATE, {"url": "{media}/silent.mp4", "language": "es"}),  # 1203
        (TRANSLATE, {"url": "{media}/long.mp4", "language": "es"}),  # 1204
        (TRANSLATE, {"url": "{media}/clip.mp4", "language": "es", "studio_voice": {"style": "grumpy"}}),
        (TRANSLATE, {"url": "{media}/clip.mp4", "language": "xx"}),
        (I2V, {"image_url": "{media}/astronaut.png"}),  # no prompt, no effect
        (I2V, {"image_url": "{media}/tiny.png", "prompt": "zoom"}),
        (I2V, {"image_url": "file:///etc/passwd", "prompt": "zoom"}),
        (I2V_BATCH, {"image_url": "{media}/astronaut.png", "prompt": "zoom", "count": 11}),
    ],
)
def test_a_refused_body_gets_the_creates_own_code_and_message(
    runtime: Runtime, pro: Team, media_url: str, endpoint: str, fields: dict[str, Any]
) -> None:
    base = {"image": f"{media_url}/portrait.png", "video": f"{media_url}/clip.mp4"} if endpoint == SWAP else {}
    body = with_fields(base, fields, media_url)
    quoted = _quote(pro, endpoint, body)
    assert quoted["code"] != 1000
    assert "data" not in quoted
    _left_nothing(runtime, pro, 1000)
    assert pro.post(endpoint, body) == quoted


def test_plan_refusals_are_the_creates_too(free: Team, media_url: str) -> None:
    body = {"image": f"{media_url}/portrait.png", "video": f"{media_url}/clip.mp4"}
    assert (
        _quote(free, SWAP, body) == free.post(SWAP, body) == {"code": 1009, "msg": "Character Swap needs the Pro plan"}
    )


@pytest.mark.parametrize(
    ("request_body", "words"),
    [
        (
            {"endpoint": "/api/open/v4/faceswap/create", "body": {}},
            "endpoint must be one of /api/open/v4/characterSwap",
        ),
        ({"body": {}}, "endpoint is required"),
        ({"endpoint": I2V, "body": "image_url=x"}, "body must be a JSON object"),
        ({"endpoint": I2V}, "body must be a JSON object"),
    ],
)
def test_a_bad_quote_request_names_its_field(pro: Team, request_body: dict[str, Any], words: str) -> None:
    answer = pro.post(QUOTE, request_body)
    assert answer["code"] == 1003 and words in answer["msg"], answer


def test_a_full_endpoint_url_is_taken_by_its_path(pro: Team, media_url: str) -> None:
    body = {"image_url": f"{media_url}/astronaut.png", "prompt": "zoom"}
    assert _quoted(pro, "https://openapi.akool.com" + I2V, body)["credit"] == 20


def test_the_expected_time_is_learnt_from_a_finished_task(runtime: Runtime, pro: Team, media_url: str) -> None:
    body = {"image_url": f"{media_url}/astronaut.png", "prompt": "slow zoom into her face"}
    before = _quoted(pro, I2V, body)
    assert before["expected_from"] == "defaults"
    pro.post(I2V, body)
    assert run_pending(runtime) == 1
    [task] = runtime.db.read_all(select(Task.status, Task.result))
    assert task.status == 3, task.result
    # The worker keeps each stage's wall time, as the pipeline's StageProgress measured it.
    stages = task.result["stage_seconds"]
    assert {"look", "render"} <= set(stages) and stages["render"] > 0
    after = _quoted(pro, I2V, body)
    assert after["expected_from"] == "history"
    # One finished task: its time per documented second, applied to the same work again.
    assert after["expected_seconds"] == pytest.approx(sum(stages.values()), rel=0.05, abs=0.2)
    # Another product's engine has no history yet.
    swap = {"image": f"{media_url}/portrait.png", "video": f"{media_url}/talking.mp4", "duration": 1}
    assert _quoted(pro, SWAP, swap)["expected_from"] == "defaults"


def test_quotes_have_a_rate_of_their_own(tmp_path: Path) -> None:
    runtime = Runtime(make_settings(tmp_path / "data", rate_limit_quotes_per_minute=2))
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=100)
        team = Team(client, creds.client_id, creds.api_key, 0, "")
        request = {"endpoint": "/nowhere", "body": {}}
        codes = [team.post(QUOTE, request)["code"] for _ in range(3)]
        assert codes == [1003, 1003, 1005]
        refused = team.post(QUOTE, request)
        assert refused["msg"].startswith("too many quotes: at most 2 a minute for a team")
        # Creates are counted apart: quoting does not use up a team's creates.
        assert team.post(I2V, {"image_url": "x", "prompt": "y"})["code"] == 1003
    runtime.db.dispose()
