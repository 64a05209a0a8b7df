"""The real Image to Video engine through the API: clips of the asked length, size and sound,
with motion, the plan stored, new audio on a finished video, effect previews."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from reelsmith.media.probe import probe
from reelsmith.runtime import Runtime
from tests.conftest import Team, run_pending

CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
RESULTS = "/api/open/v4/image2Video/resultsByIds"


def _finish(runtime: Runtime, team: Team, body: dict[str, Any]) -> dict[str, Any]:
    created = team.post(CREATE, body)
    assert created["code"] == 1000, created
    run_pending(runtime)
    [result] = team.post(RESULTS, {"_ids": created["data"]["_id"]})["data"]["result"]
    assert result["status"] == 3, result
    return result  # type: ignore[no-any-return]


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]


def test_effect_clip_has_the_asked_length_size_sound_and_motion(
    runtime: Runtime, pro: Team, media_url: str, tmp_path: Path
) -> None:
    body = {
        "image_url": f"{media_url}/coffee.jpg",
        "prompt": "",
        "effect_code": "zoom_in",
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 1,
    }
    result = _finish(runtime, pro, body)
    video = pro.download(result["video_url"], tmp_path / "zoom.mp4")
    info = probe(video)
    assert (info.width, info.height) == (1280, 720)
    assert info.fps == pytest.approx(30) and info.frame_count == 150
    assert info.duration == pytest.approx(5.0, abs=0.05) and info.has_audio
    frames = _frames(video)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 5  # the picture moved
    assert result["motion_plan"]["source"] == "effect:zoom_in"
    assert result["effect_name"] and result["video_duration"] == pytest.approx(5.0, abs=0.05)


def test_prompt_clip_keeps_the_plan_and_has_no_sound_when_asked(
    runtime: Runtime, pro: Team, media_url: str, tmp_path: Path
) -> None:
    body = {
        "image_url": f"{media_url}/astronaut.png",
        "prompt": "slow zoom into her face, then pan right",
        "negative_prompt": "no shake",
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 3,
    }
    result = _finish(runtime, pro, body)
    kinds = [move["kind"] for move in result["motion_plan"]["moves"]]
    assert "zoom" in kinds and "pan" in kinds and "shake" not in kinds
    assert result["motion_plan"]["description"]
    video = pro.download(result["video_url"], tmp_path / "prompt.mp4")
    info = probe(video)
    assert (info.width, info.height) == (720, 720) and not info.has_audio


def test_given_audio_then_new_audio_on_the_finished_video(
    runtime: Runtime, pro: Team, media_url: str, tmp_path: Path
) -> None:
    body = {
        "image_url": f"{media_url}/coffee.jpg",
        "prompt": "pan left",
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 2,
        "audio_url": f"{media_url}/tone.mp3",
    }
    first = _finish(runtime, pro, body)
    info = probe(pro.download(first["video_url"], tmp_path / "given.mp4"))
    assert info.has_audio and info.duration == pytest.approx(5.0, abs=0.05)
    again = pro.post("/api/open/v4/image2Video/updateVideoAudio", {"pre_video_id": first["_id"], "audio_type": 1})
    assert again["code"] == 1000, again
    run_pending(runtime)
    [second] = pro.post(RESULTS, {"_ids": again["data"]["_id"]})["data"]["result"]
    assert second["status"] == 3 and second["only_add_audio"] is True
    info = probe(pro.download(second["video_url"], tmp_path / "readded.mp4"))
    assert info.has_audio and info.frame_count == 150


def test_catalogs_describe_the_engine_and_previews_render(pro: Team) -> None:
    effects = pro.get("/api/open/v4/image2Video/effects")["data"]
    assert effects["count"] >= 16 and len({e["effect_code"] for e in effects["result"]}) == effects["count"]
    squish = next(e for e in effects["result"] if e["effect_code"] == "squish")
    assert squish["name"] == "Squish" and squish["logo"].startswith("http") and squish["video_url"].endswith(".mp4")
    preview = pro.client.get(squish["video_url"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "video/mp4"
    assert pro.client.get(squish["logo"]).headers["content-type"] == "image/jpeg"
    assert pro.client.get("/api/reelsmith/v1/effects/../secret/preview.mp4").status_code == 404
    [model] = pro.client.get("/api/open/v4/aigModel/list?types[]=1501", headers=pro.headers).json()["data"]
    assert model["value"] == "reelsmith-motion-v1" and model["durationList"] == [5, 10]
    assert [r["unit_credit"] for r in model["resolutionList"]] == [20, 25, 30]


def test_batch_count_gives_distinct_variations(runtime: Runtime, pro: Team, media_url: str, tmp_path: Path) -> None:
    body = {
        "image_url": f"{media_url}/coffee.jpg",
        "prompt": "",
        "effect_code": "pan_right",
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 3,
        "count": 2,
    }
    created = pro.post(CREATE + "/batch", body)["data"]["successList"]
    run_pending(runtime)
    results = pro.post(RESULTS, {"_ids": ",".join(t["_id"] for t in created)})["data"]["result"]
    assert [r["status"] for r in results] == [3, 3]
    first, second = (r["motion_plan"] for r in results)
    assert first["moves"][0]["kind"] == second["moves"][0]["kind"] == "pan"
    assert first["moves"] != second["moves"]
    frames = [_frames(pro.download(r["video_url"], tmp_path / f"{i}.mp4"))[75] for i, r in enumerate(results)]
    assert np.abs(frames[0].astype(int) - frames[1].astype(int)).mean() > 1


def test_last_frame_makes_a_transition(runtime: Runtime, pro: Team, media_url: str, tmp_path: Path) -> None:
    body = {
        "image_url": f"{media_url}/coffee.jpg",
        "last_image_url": f"{media_url}/astronaut.png",
        "prompt": "anything",
        "resolution": "720p",
        "video_length": 5,
        "audio_type": 3,
    }
    [created] = pro.post(CREATE + "/batch", body)["data"]["successList"]
    run_pending(runtime)
    [result] = pro.post(RESULTS, {"_ids": created["_id"]})["data"]["result"]
    assert result["status"] == 3, result
    assert result["motion_plan"]["source"] == "transition"
    frames = _frames(pro.download(result["video_url"], tmp_path / "transition.mp4"))
    assert len(frames) == 150
    first, middle, last = (frames[i].astype(int) for i in (0, 75, 149))
    assert np.abs(first - frames[10].astype(int)).mean() < 2  # held at the start
    assert np.abs(first - last).mean() > 20 and np.abs(middle - first).mean() > 5 and np.abs(middle - last).mean() > 5
