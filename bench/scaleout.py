"""Scale-out throughput: short Image to Video tasks through the production layout, with 1, 2
and 4 worker processes.

Each configuration gets a fresh PostgreSQL database and queue namespace (the servers on
127.0.0.1, as the tests use), an ``reelsmith api`` process and N ``reelsmith worker``
processes consuming Celery queues on Redis. After a warm-up task per worker (loading the
engine), it creates ``--tasks`` tasks at once and times until every one has finished; it
prints tasks per minute and the ratio to one worker. On a 2-core machine the ratio is bounded
by the cores (x264 already uses both), so read it as "does adding workers add throughput
until the cores run out, and never lose any".

    .venv/bin/python bench/scaleout.py [--workers 1,2,4] [--tasks 8]
"""

from __future__ import annotations

import argparse
import http.server
import os
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support import backend  # noqa: E402
from tests.support.media import make_image  # noqa: E402
from tests.support.processes import create_account, free_port, start, stop, wait_healthy  # noqa: E402

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
BODY = {"effect_code": "zoom_in", "resolution": "720p", "video_length": 5, "audio_type": 3}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def serve_folder(folder: Path) -> str:
    handler = partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def run_batch(base: str, key: str, image_url: str, count: int) -> float:
    """Create ``count`` tasks at once; seconds until all have finished (each must succeed)."""
    headers = {"x-api-key": key}
    started = time.perf_counter()
    ids = []
    for _ in range(count):
        answer = httpx.post(f"{base}{CREATE}", json={**BODY, "image_url": image_url}, headers=headers, timeout=60)
        ids.append(answer.json()["data"]["_id"])
    while True:
        results = httpx.post(f"{base}{RESULTS}", json={"_ids": ",".join(ids)}, headers=headers, timeout=60).json()
        statuses = [r["status"] for r in results["data"]["result"]]
        if all(status in (3, 4) for status in statuses):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    if statuses.count(3) != count:
        raise RuntimeError(f"{statuses.count(4)} of {count} tasks failed")
    return elapsed


def measure(workers: int, tasks: int, image_url: str, folder: Path) -> float:
    scaleout = backend.ScaleoutBackend.create()
    env: dict[str, Any] = {**scaleout.environment(), "REELSMITH_ENGINES": "image2video"}
    data_dir = folder / f"w{workers}"
    processes = []
    try:
        team = create_account(data_dir, plan="pro", credits=100_000, **env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        processes.append(start(data_dir, "api", "--port", str(port), log=folder / f"api{workers}.log", **env))
        wait_healthy(base, processes[0])
        for index in range(workers):
            processes.append(start(data_dir, "worker", log=folder / f"worker{workers}-{index}.log", **env))
        run_batch(base, team["apiKey"], image_url, workers)  # warm-up: every worker loads the engine
        return run_batch(base, team["apiKey"], image_url, tasks)
    finally:
        for process in processes:
            stop(process)
        scaleout.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--tasks", type=int, default=8)
    args = parser.parse_args()
    problem = backend.postgres_problem() or backend.redis_problem()
    if problem:
        sys.exit(f"bench/scaleout.py needs PostgreSQL and Redis: {problem}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        media = folder / "media"
        media.mkdir()
        make_image(media / "face.png")
        image_url = f"{serve_folder(media)}/face.png"
        os.environ.setdefault("REELSMITH_ALLOW_NETWORKS", "127.0.0.0/8")
        print(f"{args.tasks} Image to Video tasks ({BODY['effect_code']}, 720p, 5 s) on {os.cpu_count()} cores")
        print(f"{'workers':>8} {'seconds':>8} {'tasks/min':>10} {'vs 1 worker':>12}")
        baseline: float | None = None
        for workers in (int(part) for part in args.workers.split(",")):
            seconds = measure(workers, args.tasks, image_url, folder)
            rate = args.tasks / seconds * 60
            baseline = baseline or rate
            print(f"{workers:>8} {seconds:>8.1f} {rate:>10.1f} {rate / baseline:>11.2f}x", flush=True)


if __name__ == "__main__":
    main()
