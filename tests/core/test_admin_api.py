"""The admin HTTP API: off by default, guarded by REELSMITH_ADMIN_TOKEN."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from tests.conftest import make_settings

ADMIN = "/api/reelsmith/v1/admin/accounts"
TOKEN = {"Authorization": "Bearer admin-secret-token"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", admin_token="admin-secret-token")


def test_admin_manages_a_team_end_to_end(client: TestClient) -> None:
    created = client.post(ADMIN, json={"name": "acme", "plan": "pro", "credits": 100}, headers=TOKEN).json()
    assert created["code"] == 1000
    team = created["data"]
    assert len(team["apiKey"]) == 32 and team["plan"] == "pro" and team["credit"] == 100
    key = {"x-api-key": team["apiKey"]}
    assert client.get("/api/open/v3/faceswap/quota/info", headers=key).json()["data"]["credit"] == 100

    topped = client.post(f"{ADMIN}/{team['clientId']}/topup", json={"credits": 50}, headers=TOKEN).json()
    assert topped["data"]["credit"] == 150
    too_much = client.post(f"{ADMIN}/{team['clientId']}/topup", json={"credits": -500}, headers=TOKEN).json()
    assert too_much["code"] == 1003 and "cannot remove" in too_much["msg"]

    assert client.post(f"{ADMIN}/{team['uid']}/ban", headers=TOKEN).json()["data"]["banned"] is True
    assert client.get("/api/open/v3/faceswap/quota/info", headers=key).json()["code"] == 1200
    assert client.post(f"{ADMIN}/{team['team_id']}/unban", headers=TOKEN).json()["data"]["banned"] is False

    plan = client.post(f"{ADMIN}/{team['clientId']}/plan", json={"plan": "gold"}, headers=TOKEN).json()
    assert plan["code"] == 1003 and "plan must be one of free, pro" in plan["msg"]

    rotated = client.post(f"{ADMIN}/{team['clientId']}/rotate-key", headers=TOKEN).json()["data"]
    assert client.get("/api/open/v3/faceswap/quota/info", headers=key).json()["code"] == 1101
    fresh = {"x-api-key": rotated["apiKey"]}
    assert client.get("/api/open/v3/faceswap/quota/info", headers=fresh).json()["code"] == 1000

    listed = client.get(ADMIN, headers=TOKEN).json()["data"]
    assert listed["count"] == 1 and "apiKey" not in listed["result"][0]
    assert client.get(f"{ADMIN}/nobody", headers=TOKEN).json()["code"] == 1008


def test_admin_refusals(client: TestClient) -> None:
    assert client.get(ADMIN).json()["code"] == 1102
    assert client.get(ADMIN, headers={"Authorization": "Bearer wrong"}).json()["code"] == 1101
    assert client.post(ADMIN, json={"credits": -1}, headers=TOKEN).json()["code"] == 1003
    huge = client.post(ADMIN, json={"credits": 10**20}, headers=TOKEN).json()
    assert huge["code"] == 1003 and "credits must be between 0 and" in huge["msg"]
    team = client.post(ADMIN, json={"credits": 10}, headers=TOKEN).json()["data"]
    overflow = client.post(f"{ADMIN}/{team['uid']}/topup", json={"credits": 10**19}, headers=TOKEN).json()
    assert overflow["code"] == 1003


def test_admin_api_is_off_without_a_token(tmp_path: Path) -> None:
    with TestClient(create_app(Runtime(make_settings(tmp_path / "data")))) as client:
        answer = client.get(ADMIN, headers=TOKEN).json()
    assert answer["code"] == 1009 and "REELSMITH_ADMIN_TOKEN" in answer["msg"]
