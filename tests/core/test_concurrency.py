"""Credits under concurrent creates: two API processes share one database, 100 creates race
for a balance that pays for 50."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from tests.support.processes import create_account, free_port, start, stop, wait_healthy

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"


async def _create_all(urls: list[str], key: str, image_url: str) -> list[dict]:
    body = {"image_url": image_url, "prompt": "zoom in", "resolution": "720p", "video_length": 5, "audio_type": 3}
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(url: str) -> dict:
            response = await client.post(url + CREATE, json=body, headers={"x-api-key": key})
            return response.json()  # type: ignore[no-any-return]

        return await asyncio.gather(*(one(u) for u in urls))


def test_hundred_concurrent_creates_against_a_balance_for_fifty(tmp_path: Path, media_url: str) -> None:
    data_dir = tmp_path / "data"
    team = create_account(data_dir, plan="free", credits=50 * 20)
    ports = [free_port(), free_port()]
    servers = [start(data_dir, "api", "--port", str(port), log=tmp_path / f"api{port}.log") for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, server in zip(bases, servers, strict=True):
            wait_healthy(base, server)
        answers = asyncio.run(_create_all([bases[i % 2] for i in range(100)], team["apiKey"], f"{media_url}/face.png"))
        codes = Counter(answer["code"] for answer in answers)
        assert codes == {1000: 50, 1104: 50}, codes
        quota = httpx.get(f"{bases[0]}/api/open/v3/faceswap/quota/info", headers={"x-api-key": team["apiKey"]})
        assert quota.json()["data"]["credit"] == 0
        ids = [a["data"]["_id"] for a in answers if a["code"] == 1000]
        results = httpx.post(
            f"{bases[1]}/api/open/v4/image2Video/resultsByIds",
            json={"_ids": ",".join(ids)},
            headers={"x-api-key": team["apiKey"]},
        ).json()["data"]["result"]
        assert len(results) == 50 and all(r["deduction_credit"] == 20 for r in results)
        # Refused requests leave no input files behind: one stored image per created task.
        assert len([p for p in (data_dir / "files").rglob("*.png")]) == 50
    finally:
        for server in servers:
            stop(server)
