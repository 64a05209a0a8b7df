"""Engines that are missing or broken fail their tasks with a reason and a refund, and never
break the API or the workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from tests.conftest import Team, make_settings, run_pending


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path / "data",
        engine_plugins={
            "image2video": "tests.support.engines.broken:BrokenPipeline",
            "video-translation": "tests.support.engines.no_such_module:Pipeline",
        },
    )


def test_a_broken_engine_fails_its_tasks_with_the_reason(runtime: Runtime, pro: Team, media_url: str) -> None:
    for path in ("/api/open/v4/image2Video/effects", "/api/open/v4/aigModel/list", "/api/open/v3/language/list"):
        assert pro.get(path)["code"] == 1000
    body = {
        "image_url": f"{media_url}/face.png",
        "prompt": "zoom",
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 3,
    }
    task_id = pro.post("/api/open/v4/image2Video/createBySourcePrompt", body)["data"]["_id"]
    translation = pro.post(
        "/api/open/v3/content/video/createbytranslate", {"url": f"{media_url}/clip.mp4", "language": "es"}
    )["data"]["_id"]
    assert run_pending(runtime) == 2
    [result] = pro.post("/api/open/v4/image2Video/resultsByIds", {"_ids": task_id})["data"]["result"]
    assert result["status"] == 4 and result["deduction_credit"] == 0
    # The reason names the file, not the server's folders (the log has the whole path).
    assert "failed to load (RuntimeError: model file missing.bin not found)" in result["error_reason"]
    info = pro.get("/api/open/v3/content/video/infobymodelid", video_model_id=translation)["data"]
    assert info["video_status"] == 4 and "not installed" in info["error_reason"]
    assert pro.get("/api/open/v3/faceswap/quota/info")["data"]["credit"] == 1000
