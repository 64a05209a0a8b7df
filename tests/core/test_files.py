"""Uploads, signed file URLs and retention."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from reelsmith.storage.base import StoredFile
from reelsmith.storage.retention import sweep_expired
from reelsmith.store.ids import now_ms
from tests.conftest import Team, make_settings

UPLOAD = "/api/reelsmith/v1/upload"


def test_raw_and_multipart_uploads_give_signed_urls(client: TestClient, pro: Team, media_dir: Path) -> None:
    png = (media_dir / "face.png").read_bytes()
    raw = client.post(UPLOAD, content=png, headers={**pro.headers, "content-type": "image/png"}).json()
    assert raw["code"] == 1000 and raw["data"]["kind"] == "image" and raw["data"]["size"] == len(png)
    assert client.get(raw["data"]["url"]).content == png
    mp4 = (media_dir / "clip.mp4").read_bytes()
    form = client.post(UPLOAD, files={"file": ("clip.mp4", mp4, "video/mp4")}, headers=pro.headers).json()
    assert (
        form["code"] == 1000 and form["data"]["kind"] == "video" and form["data"]["url"].split("?")[0].endswith(".mp4")
    )


def test_upload_refusals(client: TestClient, pro: Team) -> None:
    broken = client.post(
        UPLOAD, content=b"--x\r\n", headers={**pro.headers, "content-type": "multipart/form-data"}
    ).json()
    assert broken["code"] == 1003 and "multipart body could not be read" in broken["msg"]
    assert client.post(UPLOAD, content=b"").json()["code"] == 1102
    empty = client.post(UPLOAD, content=b"", headers=pro.headers).json()
    assert empty["code"] == 1003 and "empty" in empty["msg"]
    junk = client.post(UPLOAD, content=b"hello world" * 10, headers=pro.headers).json()
    assert junk["code"] == 1003 and "PNG/JPEG" in junk["msg"]


def test_upload_over_the_limit(tmp_path: Path) -> None:
    runtime = Runtime(make_settings(tmp_path / "data", upload_max_bytes=1000))
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=10)
        answer = client.post(UPLOAD, content=b"\x89PNG\r\n\x1a\n" + b"0" * 2000, headers={"x-api-key": creds.api_key})
    assert answer.json()["code"] == 1207
    assert not any((tmp_path / "data" / "files").rglob("*.*"))


def test_uploaded_urls_are_read_from_storage_even_when_no_network_is_allowed(tmp_path: Path, media_dir: Path) -> None:
    """With the default policy (no private networks) an upload URL on loopback still works,
    because it is read from storage, not fetched."""
    runtime = Runtime(make_settings(tmp_path / "data", allow_networks=[]))
    with TestClient(create_app(runtime), base_url="http://127.0.0.1:8000") as client:
        _, creds = runtime.accounts.create(plan="pro", credits=100)
        headers = {"x-api-key": creds.api_key}
        url = client.post(UPLOAD, content=(media_dir / "face.png").read_bytes(), headers=headers).json()["data"]["url"]
        assert url.startswith("http://127.0.0.1:8000/files/")
        body = {"image_url": url, "prompt": "zoom", "resolution": "720p", "video_length": 5, "audio_type": 3}
        answer = client.post("/api/open/v4/image2Video/createBySourcePrompt", json=body, headers=headers).json()
        assert answer["code"] == 1000, answer
        body["image_url"] = "http://127.0.0.1:8000/elsewhere.png"
        refused = client.post("/api/open/v4/image2Video/createBySourcePrompt", json=body, headers=headers).json()
        assert refused["code"] == 1003 and "private or local address" in refused["msg"]


def test_signed_urls_expire_with_retention(runtime: Runtime, client: TestClient, pro: Team, media_dir: Path) -> None:
    url = client.post(UPLOAD, content=(media_dir / "face.png").read_bytes(), headers=pro.headers).json()["data"]["url"]
    key = runtime.signer.own_key(url)
    assert key is not None and client.get(url).status_code == 200
    # The same file, as if it had been stored one retention period and a second ago.
    created_long_ago = StoredFile(key, now_ms() - runtime.settings.retention_ms - 1000)
    expired = runtime.signer.url("http://testserver", created_long_ago)
    assert runtime.signer.own_key(expired) is None
    assert client.get(expired).status_code == 403


def test_retention_sweep_deletes_expired_files_only(
    runtime: Runtime, client: TestClient, pro: Team, media_dir: Path
) -> None:
    png = (media_dir / "face.png").read_bytes()
    old_url = client.post(UPLOAD, content=png, headers=pro.headers).json()["data"]["url"]
    new_url = client.post(UPLOAD, content=png, headers=pro.headers).json()["data"]["url"]
    old_key = runtime.signer.own_key(old_url)
    assert old_key is not None
    eight_days_ago = time.time() - 8 * 86400
    os.utime(runtime.storage.path(old_key), (eight_days_ago, eight_days_ago))
    assert sweep_expired(runtime.storage, runtime.settings) == 1
    assert not runtime.storage.path(old_key).exists()
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


def test_sweep_removes_scratch_that_a_killed_worker_left(runtime: Runtime) -> None:
    stale = runtime.settings.work_dir / "6b0000000000000000000000-host:1"
    (stale / "frames").mkdir(parents=True)
    (stale / "frames" / "0001.png").write_bytes(b"x")
    fresh = runtime.settings.work_dir / "6b0000000000000000000001-host:2"
    fresh.mkdir()
    two_days_ago = time.time() - 2 * 86400
    for path in (stale / "frames" / "0001.png", stale / "frames", stale):
        os.utime(path, (two_days_ago, two_days_ago))
    sweep_expired(runtime.storage, runtime.settings)
    assert not stale.exists() and fresh.exists()
