"""Do webhooks slow down task processing? 200 tasks through `reelsmith serve`, once without
webhooks and once with every task's webhook pointing at a receiver that never answers.

Prints the time until all tasks completed in each run and the ratio (issue 3: the hanging
receiver must not slow tasks down, i.e. a ratio close to 1).

    .venv/bin/python bench/webhooks.py [--tasks 200] [--workers 2]

Tasks run the small still-video engine of the test suite (tests/support/engines/still_video.py), so the
measurement is of dispatch and delivery, not of an engine.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.engines.still_video import STILL_ENGINE  # noqa: E402
from tests.support.media import make_image  # noqa: E402
from tests.support.processes import free_port, start, stop, wait_healthy  # noqa: E402

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
RESULTS = "/api/open/v4/image2Video/resultsByIds"


def hanging_receiver() -> tuple[str, socket.socket]:
    """A socket that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/hook", listener


def run(folder: Path, tasks: int, workers: int, webhook: str) -> tuple[float, int]:
    """Seconds from the first create until every task completed, and deliveries pending then."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    folder.mkdir(parents=True)
    log = folder / "serve.log"
    server = start(
        folder / "data",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        log=log,
        REELSMITH_ENGINE_PLUGINS=STILL_ENGINE,
        REELSMITH_ACCESS_LOG="false",
        REELSMITH_DEMO_CREDITS=str(tasks * 20),
        REELSMITH_WEBHOOK_TIMEOUT_SECONDS="30",
    )
    try:
        wait_healthy(base, server)
        key = log.read_text().split("API key : ")[1].split()[0]
        headers = {"x-api-key": key}
        image = make_image(folder / "image.png")
        url = httpx.post(f"{base}/api/reelsmith/v1/upload", content=image.read_bytes(), headers=headers).json()
        body = {
            "image_url": url["data"]["url"],
            "prompt": "zoom",
            "resolution": "720p",
            "video_length": 5,
            "audio_type": 3,
            "webhookUrl": webhook,
        }
        started = time.monotonic()
        with httpx.Client(timeout=60) as client:
            ids = [client.post(base + CREATE, json=body, headers=headers).json()["data"]["_id"] for _ in range(tasks)]
            while True:
                statuses = [
                    r["status"]
                    for chunk in range(0, tasks, 100)
                    for r in client.post(
                        base + RESULTS, json={"_ids": ",".join(ids[chunk : chunk + 100])}, headers=headers
                    ).json()["data"]["result"]
                ]
                if all(s in (3, 4) for s in statuses):
                    break
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            assert statuses.count(3) == tasks, f"{statuses.count(4)} tasks failed"
            pending = sum(
                1
                for task_id in ids[:50]
                for d in client.get(f"{base}/api/reelsmith/v1/tasks/{task_id}/deliveries", headers=headers).json()[
                    "data"
                ]["result"]
                if d["state"] == "pending"
            )
        return elapsed, pending
    finally:
        stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    hook, listener = hanging_receiver()
    with tempfile.TemporaryDirectory() as scratch:
        without, _ = run(Path(scratch) / "plain", args.tasks, args.workers, "")
        hanging, pending = run(Path(scratch) / "hanging", args.tasks, args.workers, hook)
        again, _ = run(Path(scratch) / "plain-again", args.tasks, args.workers, "")
    listener.close()
    baseline = (without + again) / 2
    print(f"{args.tasks} tasks, {args.workers} workers")
    print(f"without webhooks          {without:6.2f} s, again {again:6.2f} s")
    print(f"receiver that hangs       {hanging:6.2f} s  ({pending} of the first 50 deliveries still pending)")
    print(f"hanging / without         {hanging / baseline:.2f}  (target: about 1)")
    print(json.dumps({"without_s": round(baseline, 2), "hanging_s": round(hanging, 2)}))


if __name__ == "__main__":
    main()
