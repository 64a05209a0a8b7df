"""`reelsmith serve`, the embedded default: one command runs the API and the workers, and on
first start creates a demo account and prints its credentials."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import psutil

from tests.support.engines.still_video import STILL_ENGINE
from tests.support.processes import free_port, start, stop, wait_healthy
from tests.support.receiver import Receiver


def test_serve_runs_tasks_to_completion_and_prints_a_demo_account(tmp_path: Path, media_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    server = start(
        tmp_path / "data",
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
        log=log,
        REELSMITH_ENGINE_PLUGINS=STILL_ENGINE,
    )
    receiver = Receiver().start()
    try:
        wait_healthy(base, server)
        output = log.read_text()
        client_id = re.search(r"clientId: (\S{16})", output)
        api_key = re.search(r"API key : (\S{32})", output)
        assert client_id and api_key, output
        token = httpx.post(
            f"{base}/api/open/v3/getToken", json={"clientId": client_id[1], "clientSecret": api_key[1]}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        body = {
            "image_url": f"{media_url}/face.jpg",
            "prompt": "zoom",
            "resolution": "720p",
            "video_length": 5,
            "audio_type": 3,
            "webhookUrl": receiver.url,
        }
        created = httpx.post(f"{base}/api/open/v4/image2Video/createBySourcePrompt", json=body, headers=headers).json()
        assert created["code"] == 1000, created
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            info = httpx.get(
                f"{base}/api/open/v3/content/video/infobymodelid",
                params={"video_model_id": created["data"]["_id"]},
                headers=headers,
            ).json()["data"]
            if info["video_status"] in (3, 4):
                break
            time.sleep(0.2)
        assert info["video_status"] == 3, info
        assert httpx.get(info["video"]).headers["content-type"] == "video/mp4"
        # The embedded webhook sender delivers it too.
        deadline = time.monotonic() + 30
        while not receiver.accepted and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(receiver.accepted) == 1
    finally:
        receiver.stop()
        stop(server)
    assert server.returncode == 0 or server.returncode == -15


def test_killing_serve_leaves_no_stray_processes_and_workers_yield_the_cpu(tmp_path: Path) -> None:
    port = free_port()
    server = start(tmp_path / "data", "serve", "--port", str(port), "--workers", "2", log=tmp_path / "serve.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        parent = psutil.Process(server.pid)

        def workers() -> list[psutil.Process]:
            # A worker lowers its priority once started: two of them, by REELSMITH_WORKER_NICE (19).
            return [child for child in parent.children() if child.nice() == min(parent.nice() + 19, 19)]

        deadline = time.monotonic() + 30
        while len(workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers()) == 2
        children = parent.children(recursive=True)
        assert len(children) >= 3  # the workers and the webhook sender
        server.kill()  # SIGKILL: no chance to stop anything itself
        server.wait(10)
        gone, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        stop(server)
