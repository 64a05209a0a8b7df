"""Rate limits per team (issue 17): code 1005 over the rate for creates, polls, uploads and
redeliveries, one team's use never counting against another's; the allowance comes back with
time; shared through Redis by every API host in scale-out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.errors import ApiError
from reelsmith.runtime import Runtime
from reelsmith.services.rate_limits import Limited, LocalCounter, Rate, RateLimiter, RedisCounter
from reelsmith.settings import Settings
from tests.conftest import Team, make_settings
from tests.support import backend
from tests.support.engines.still_video import STILL_ENGINE

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
INFO = "/api/open/v3/content/video/infobymodelid"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
UPLOAD = "/api/reelsmith/v1/upload"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "data",
        engine_plugins={"image2video": STILL_ENGINE.split("=", 1)[1]},
        rate_limit_creates_per_minute=3,
        rate_limit_polls_per_minute=5,
        rate_limit_uploads_per_minute=2,
        rate_limit_redeliveries_per_minute=1,
    )


def _create(team: Team, media_url: str) -> dict:
    return team.post(CREATE, {"image_url": f"{media_url}/face.png", "prompt": "zoom in"})


def test_creates_over_the_rate_are_1005_and_charge_nothing(make_team, media_url: str) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_team(), make_team()
    assert [_create(alice, media_url)["code"] for _ in range(3)] == [1000, 1000, 1000]
    refused = _create(alice, media_url)
    assert refused["code"] == 1005, refused
    assert refused["msg"].startswith("too many creates: at most 3 a minute for a team; try again in ")
    assert alice.get("/api/open/v3/faceswap/quota/info")["data"]["credit"] == 1000 - 3 * 20
    assert _create(bob, media_url)["code"] == 1000  # another team's rate is its own


def test_polls_over_the_rate_are_1005_on_both_poll_endpoints(pro: Team) -> None:
    answers = [pro.get(INFO, video_model_id="a" * 24)["code"] for _ in range(3)]
    answers += [pro.post(RESULTS, {"_ids": "a" * 24})["code"] for _ in range(3)]
    assert answers == [1008, 1008, 1008, 1000, 1000, 1005]
    assert pro.get(INFO, video_model_id="a" * 24)["code"] == 1005  # the fast path counts too


def test_uploads_over_the_rate_are_1005(pro: Team, media_dir: Path) -> None:
    picture = (media_dir / "face.png").read_bytes()
    codes = [pro.client.post(UPLOAD, content=picture, headers=pro.headers).json()["code"] for _ in range(3)]
    assert codes == [1000, 1000, 1005]


def test_redeliveries_over_the_rate_are_1005(pro: Team) -> None:
    first = pro.post("/api/reelsmith/v1/deliveries/1/redeliver")
    assert first["code"] == 1008  # counted, though there is no such delivery
    assert pro.post("/api/reelsmith/v1/deliveries/1/redeliver")["code"] == 1005


def test_a_minutes_worth_at_once_then_one_per_interval() -> None:
    counter, rate = LocalCounter(), Rate(per_minute=600)  # one each 100 ms
    assert all(counter.take("t", rate) == 0 for _ in range(600))
    wait = counter.take("t", rate)
    assert 0 < wait <= 100
    time.sleep(wait / 1000 + 0.01)
    assert counter.take("t", rate) == 0 and counter.take("t", rate) > 0


def test_zero_means_no_limit(tmp_path: Path) -> None:
    limiter = RateLimiter(make_settings(tmp_path, rate_limit_polls_per_minute=0))
    for _ in range(10_000):
        limiter.check("team", Limited.POLL)


@pytest.mark.skipif(bool(backend.redis_problem()), reason="needs the Redis server at 127.0.0.1:6379")
def test_api_hosts_share_a_teams_rate_through_redis(tmp_path: Path) -> None:
    namespace = f"test-{time.monotonic_ns()}"
    url = "redis://127.0.0.1:6379/0"
    hosts = [
        RateLimiter(make_settings(tmp_path, rate_limit_creates_per_minute=4), RedisCounter(url, namespace))
        for _ in range(2)
    ]
    for index in range(4):
        hosts[index % 2].check("team", Limited.CREATE)
    with pytest.raises(ApiError) as refused:
        hosts[1].check("team", Limited.CREATE)
    assert refused.value.code == 1005
    hosts[0].check("other team", Limited.CREATE)


@pytest.mark.skipif(bool(backend.redis_problem()), reason="needs the Redis server at 127.0.0.1:6379")
def test_two_api_hosts_on_one_redis_refuse_together(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "data",
        redis_url="redis://127.0.0.1:6379/0",
        broker_namespace=f"test-{time.monotonic_ns()}",
        rate_limit_polls_per_minute=4,
    )
    hosts = [Runtime(settings), Runtime(settings)]
    with TestClient(create_app(hosts[0])) as first, TestClient(create_app(hosts[1])) as second:
        _, creds = hosts[0].accounts.create(plan="pro", credits=10)
        headers = {"x-api-key": creds.api_key}
        codes = [
            client.get(INFO, params={"video_model_id": "a" * 24}, headers=headers).json()["code"]
            for client in (first, second, first, second, first)
        ]
    assert codes == [1008, 1008, 1008, 1008, 1005]
