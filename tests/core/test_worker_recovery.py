"""A worker killed mid-task: the task is taken again by another worker and completes, charged once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx

from reelsmith.media.probe import probe
from tests.support.engines.still_video import STILL_ENGINE
from tests.support.processes import create_account, free_port, reelsmith, start, stop, wait_healthy

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
RESULTS = "/api/open/v4/image2Video/resultsByIds"


def _result(base: str, key: str, task_id: str) -> dict:
    answer = httpx.post(f"{base}{RESULTS}", json={"_ids": task_id}, headers={"x-api-key": key}).json()
    return answer["data"]["result"][0]  # type: ignore[no-any-return]


def _wait_for(predicate, timeout: float, what: str) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_task_is_taken_again_and_completes(tmp_path: Path, media_url: str) -> None:
    data_dir = tmp_path / "data"
    env = {
        "REELSMITH_ENGINE_PLUGINS": STILL_ENGINE,
        "REELSMITH_LEASE_SECONDS": "1.5",
        "REELSMITH_POLL_INTERVAL_SECONDS": "0.05",
        "REELSMITH_TEST_STEPS": "12",
        "REELSMITH_TEST_STEP_SECONDS": "0.25",
    }
    team = create_account(data_dir, plan="pro", credits=100)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = start(data_dir, "api", "--port", str(port), log=tmp_path / "api.log", **env)
    first = start(data_dir, "worker", log=tmp_path / "worker1.log", **env)
    second = None
    try:
        wait_healthy(base, api)
        body = {
            "image_url": f"{media_url}/face.png",
            "prompt": "zoom",
            "resolution": "720p",
            "video_length": 5,
            "audio_type": 3,
        }
        task_id = httpx.post(f"{base}{CREATE}", json=body, headers={"x-api-key": team["apiKey"]}).json()["data"]["_id"]
        _wait_for(
            lambda: (r := _result(base, team["apiKey"], task_id))["status"] == 2 and r["progress"] > 0 and r,
            30,
            "progress",
        )
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(5)
        second = start(data_dir, "worker", log=tmp_path / "worker2.log", **env)
        done = _wait_for(
            lambda: (r := _result(base, team["apiKey"], task_id))["status"] in (3, 4) and r, 60, "completion"
        )
        assert done["status"] == 3, done
        assert done["deduction_credit"] == 20
        quota = httpx.get(f"{base}/api/open/v3/faceswap/quota/info", headers={"x-api-key": team["apiKey"]}).json()
        assert quota["data"]["credit"] == 80
        video = tmp_path / "result.mp4"
        video.write_bytes(httpx.get(done["video_url"]).content)
        assert probe(video).has_video and probe(video).frame_count > 0
        show = reelsmith(data_dir, "tasks", "show", task_id, **env)
        assert '"attempts": 2' in show.stdout
    finally:
        stop(api)
        for process in (first, second):
            if process is not None:
                stop(process)
