"""Create and poll throughput and latency of the embedded server, against a ceiling; and polls
while two workers render 1080p clips, against the idle polls of the same run.

Runs `reelsmith serve` with two workers and a bare Starlette endpoint (bench/ceiling_app.py) the
same way (one uvicorn process each, on loopback), loads each with the same client, and prints
the ratios. The workers run only Character Swap (REELSMITH_ENGINES), so the Image to Video tasks
that polls and creates use stay queued and the workers idle; then two 1080p Character Swap
tasks are created and polls are measured again while both workers render them.
Targets (issue 2): poll throughput at least 50% of the ceiling's, poll p99 under 20 ms.
Targets (issue 17): polls while two workers render at least 0.7 of idle throughput, p99 under 10 ms.

    .venv/bin/python bench/api.py [--seconds 8] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from skimage import data

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import build_request, run_load  # noqa: E402
from tests.support.media import carphone, ffmpeg, make_image  # noqa: E402
from tests.support.processes import command_env, create_account, free_port, wait_healthy  # noqa: E402

HOST = "127.0.0.1"


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _uvicorn(app: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port), "--log-level", "warning"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measurement")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--worker-nice", type=int, default=None, help="REELSMITH_WORKER_NICE (default: its default)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        data_dir = folder / "data"
        team = create_account(data_dir, plan="pro", credits=10**9)
        key = team["apiKey"]
        # Neither server writes an access log, so both do the same work per request but their own.
        # One team polls and creates as fast as it can: its rate limits are off.
        env = command_env(
            data_dir,
            REELSMITH_WORKERS="2",
            REELSMITH_ENGINES="character-swap",
            REELSMITH_ACCESS_LOG="false",
            REELSMITH_RATE_LIMIT_POLLS_PER_MINUTE="0",
            REELSMITH_RATE_LIMIT_CREATES_PER_MINUTE="0",
            **({"REELSMITH_WORKER_NICE": str(args.worker_nice)} if args.worker_nice is not None else {}),
        )

        ceiling_port, api_port = free_port(), free_port()
        server = _start(
            [sys.executable, "-m", "reelsmith.cli", "serve", "--host", HOST, "--port", str(api_port)],
            env,
            folder / "api.log",
        )
        ceiling = None
        try:
            wait_healthy(f"http://{HOST}:{api_port}", server)
            base = f"http://{HOST}:{api_port}"
            image = make_image(folder / "image.png")
            upload = httpx.post(
                f"{base}/api/reelsmith/v1/upload", content=image.read_bytes(), headers={"x-api-key": key}
            )
            image_url = upload.json()["data"]["url"]
            body = json.dumps(
                {"image_url": image_url, "prompt": "zoom in", "resolution": "720p", "video_length": 5, "audio_type": 3}
            ).encode()
            create_path = "/api/open/v4/image2Video/createBySourcePrompt"
            headers = {"x-api-key": key, "content-type": "application/json"}
            # Polls cycle through 100 different tasks, as many clients polling their own would.
            task_ids = [
                httpx.post(base + create_path, content=body, headers=headers).json()["data"]["_id"] for _ in range(100)
            ]
            info_path = "/api/open/v3/content/video/infobymodelid?video_model_id="
            # The ceiling answers the same bytes as a real poll, so both send equal bodies.
            sample = httpx.get(base + info_path + task_ids[0], headers={"x-api-key": key}).json()
            (folder / "ceiling.json").write_text(json.dumps(sample))
            ceiling_env = {**env, "PYTHONPATH": str(ROOT), "CEILING_BODY_FILE": str(folder / "ceiling.json")}
            ceiling = _start(_uvicorn("bench.ceiling_app:app", ceiling_port), ceiling_env, folder / "ceiling.log")
            wait_healthy(f"http://{HOST}:{ceiling_port}", ceiling)

            ceiling_request = [build_request("GET", HOST, ceiling_port, "/info", {})]
            poll_request = [build_request("GET", HOST, api_port, info_path + t, {"x-api-key": key}) for t in task_ids]
            create_request = [build_request("POST", HOST, api_port, create_path, {"x-api-key": key}, body)]

            async def measure() -> None:
                # A short warm-up of each, then the measurements, ceiling first and last to see drift.
                for port, request in ((ceiling_port, ceiling_request), (api_port, poll_request)):
                    await run_load(HOST, port, request, connections=args.connections, seconds=1)
                ceiling_a = await run_load(
                    HOST, ceiling_port, ceiling_request, connections=args.connections, seconds=args.seconds
                )
                poll = await run_load(
                    HOST,
                    api_port,
                    poll_request,
                    connections=args.connections,
                    seconds=args.seconds,
                    check=b'"code":1000',
                )
                create = await run_load(
                    HOST,
                    api_port,
                    create_request,
                    connections=args.connections,
                    seconds=args.seconds,
                    check=b'"code":1000',
                )
                ceiling_b = await run_load(
                    HOST, ceiling_port, ceiling_request, connections=args.connections, seconds=args.seconds
                )
                ceiling_rps = (ceiling_a.throughput + ceiling_b.throughput) / 2
                print(f"connections {args.connections}, {args.seconds:g} s each, loopback, 1 uvicorn process each")
                print(f"ceiling (bare Starlette)   {ceiling_a.summary()}")
                print(f"ceiling, again             {ceiling_b.summary()}")
                print(f"poll    (infobymodelid)    {poll.summary()}")
                print(f"create  (image2video)      {create.summary()}")
                print(f"poll / ceiling throughput  {poll.throughput / ceiling_rps:.2f}   (target >= 0.50)")
                print(f"create / ceiling           {create.throughput / ceiling_rps:.2f}")
                print(f"poll p99                   {poll.percentile(99):.2f} ms (target < 20 ms)")

                rendering = await asyncio.to_thread(_start_two_renders, base, key, folder)
                busy = await run_load(
                    HOST, api_port, poll_request, connections=args.connections, seconds=args.seconds,
                    check=b'"code":1000',
                )  # fmt: skip
                still = await asyncio.to_thread(_statuses, base, key, rendering)
                print(f"poll, 2 workers rendering  {busy.summary()}")
                print(f"rendering / idle polls     {busy.throughput / poll.throughput:.2f}   (target >= 0.70)")
                print(f"poll p99 while rendering   {busy.percentile(99):.2f} ms (target < 10 ms)")
                if still != [2, 2]:
                    print(f"warning: the renders were not both running to the end (statuses {still})")

            asyncio.run(measure())
        finally:
            for process in (ceiling, server):
                if process is not None:
                    process.terminate()
                    try:
                        process.wait(20)
                    except subprocess.TimeoutExpired:  # a worker finishing its render
                        process.kill()
                        process.wait(10)


def _start_two_renders(base: str, key: str, folder: Path) -> list[str]:
    """Two 1080p Character Swap tasks (replace, 40 s of a talking head), once both are rendering."""
    headers = {"x-api-key": key}
    source = folder / "talking.mp4"
    ffmpeg(
        "-stream_loop", "-1", "-i", str(carphone()), "-t", "40", "-vf", "scale=352:288",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(source),
    )  # fmt: skip
    portrait = folder / "portrait.png"
    Image.fromarray(data.astronaut()).crop((96, 0, 416, 320)).save(portrait)
    urls = {}
    for name, path in (("video", source), ("image", portrait)):
        answer = httpx.post(f"{base}/api/reelsmith/v1/upload", content=path.read_bytes(), headers=headers, timeout=60)
        urls[name] = answer.json()["data"]["url"]
    body = {**urls, "mode": "replace", "resolution": "1080p"}
    ids = [
        httpx.post(f"{base}/api/open/v4/characterSwap/create", json=body, headers=headers, timeout=60).json()["data"][
            "_id"
        ]
        for _ in range(2)
    ]
    deadline = time.monotonic() + 120
    while _statuses(base, key, ids) != [2, 2]:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the renders did not start: {_statuses(base, key, ids)}")
        time.sleep(0.5)
    time.sleep(2)  # past the start-up, into the frames
    return ids


def _statuses(base: str, key: str, ids: list[str]) -> list[int]:
    info = f"{base}/api/open/v3/content/video/infobymodelid"
    return [
        int(httpx.get(info, params={"video_model_id": i}, headers={"x-api-key": key}).json()["data"]["video_status"])
        for i in ids
    ]


if __name__ == "__main__":
    main()
