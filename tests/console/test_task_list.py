"""``GET /api/reelsmith/v1/tasks``: a team's own tasks, newest first, a page at a time, each with
its status, cost, result links once done and reason once failed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from tests.conftest import Team, make_settings, run_pending
from tests.support.engines.still_video import STILL_ENGINE

TASKS = "/api/reelsmith/v1/tasks"
CREATE = "/api/open/v4/image2Video/createBySourcePrompt"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]})


def _create(team: Team, media_url: str, prompt: str) -> str:
    body = {"image_url": f"{media_url}/face.png", "prompt": prompt, "resolution": "720p", "video_length": 5}
    answer = team.post(CREATE, body)
    assert answer["code"] == 1000, answer
    return str(answer["data"]["_id"])


def test_a_team_sees_only_its_own_tasks_newest_first_in_pages(make_team, media_url: str) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = make_team(), make_team()
    created = [_create(mine, media_url, f"zoom {n}") for n in range(3)]
    other = _create(theirs, media_url, "pan")

    first = mine.get(TASKS, page=1, size=2)
    assert first["code"] == 1000, first
    assert first["data"]["count"] == 3
    assert (first["data"]["page"], first["data"]["size"]) == (1, 2)
    assert [row["_id"] for row in first["data"]["result"]] == created[::-1][:2]
    second = mine.get(TASKS, page=2, size=2)["data"]
    assert [row["_id"] for row in second["result"]] == created[:1]
    assert mine.get(TASKS, page=3, size=2)["data"]["result"] == []

    row = first["data"]["result"][0]
    assert row["product"] == "image2video" and row["title"] == "Image to Video"
    assert (row["status"], row["progress"], row["deduction_credit"]) == (1, 0, 20)
    assert row["results"] == {} and "error_reason" not in row
    assert row["info"]["_id"] == row["_id"] and row["info"]["video_status"] == 1  # infobymodelid's view

    theirs_rows = theirs.get(TASKS)["data"]
    assert [r["_id"] for r in theirs_rows["result"]] == [other] and theirs_rows["count"] == 1


def test_rows_carry_results_once_done_and_the_reason_once_failed(runtime: Runtime, pro: Team, media_url: str) -> None:
    done = _create(pro, media_url, "slow zoom")
    failed = _create(pro, media_url, "please fail")
    assert run_pending(runtime) == 2

    rows = {row["_id"]: row for row in pro.get(TASKS)["data"]["result"]}
    assert rows[done]["status"] == 3 and rows[done]["progress"] == 100
    assert rows[done]["model_name"] == rows[done]["info"]["model_name"]
    video = rows[done]["results"]["video"]
    assert video == rows[done]["info"]["video_url"]
    assert pro.client.get(video).headers["content-type"] == "video/mp4"
    assert rows[failed]["status"] == 4 and rows[failed]["deduction_credit"] == 0  # refunded
    assert "asked this test engine to fail" in rows[failed]["error_reason"]
    assert rows[failed]["results"] == {}


def test_deleted_tasks_are_not_listed(pro: Team, media_url: str) -> None:
    kept, dropped = _create(pro, media_url, "a"), _create(pro, media_url, "b")
    assert pro.post("/api/open/v4/image2Video/delbyids", {"_ids": dropped})["data"]["successIds"] == [dropped]
    listed = pro.get(TASKS)["data"]
    assert [row["_id"] for row in listed["result"]] == [kept] and listed["count"] == 1


@pytest.mark.parametrize(
    ("query", "words"),
    [({"page": 0}, "page must be at least 1"), ({"size": 101}, "size must be at most 100"), ({"size": "x"}, "integer")],
)
def test_bad_paging_is_1003(pro: Team, query: dict[str, object], words: str) -> None:
    answer = pro.get(TASKS, **query)
    assert answer["code"] == 1003 and words in answer["msg"], answer


def test_the_list_needs_a_team(client: httpx.Client) -> None:
    assert client.get(TASKS).json()["code"] == 1102
    assert client.get(TASKS, headers={"x-api-key": "x" * 32}).json()["code"] == 1101


def test_the_console_is_served_by_the_api(client: httpx.Client) -> None:
    moved = client.get("/console", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/app.js">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    script = client.get("/console/js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/console/js/missing.js").status_code == 404
