"""Akool's own clients, pointed at reelsmith by base URL only (API.md section 8): the bodies they
send, replayed verbatim against the real engines until the tasks complete; what a browser needs
to download a result; the catalog fields the demos read, typed as Akool's."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from reelsmith.api.app import create_app
from reelsmith.dispatch.webhook_sender import WebhookSender
from reelsmith.media.probe import probe
from reelsmith.runtime import Runtime
from reelsmith.settings import Settings
from tests.conftest import Team, make_settings, run_pending
from tests.support.receiver import Receiver, receiver_decrypt
from tests.support.speech import spoken_clip

BATCH = "/api/open/v4/image2Video/createBySourcePrompt/batch"
CREATE = "/api/open/v4/image2Video/createBySourcePrompt"
RESULTS = "/api/open/v4/image2Video/resultsByIds"
MODELS = "/api/open/v4/aigModel/list"
TRANSLATE = "/api/open/v3/content/video/createbytranslate"
INFO = "/api/open/v3/content/video/infobymodelid"
LANGUAGES = "/api/open/v3/language/list"
VOICES = "/api/open/v4/voice/videoTranslation"
ORIGIN = "http://localhost:5173"  # where the demos' dev servers run

# The image-to-video demo's default negative prompt, as it sends it (597 characters).
DEMO_NEGATIVE_PROMPT = (
    "blurry, distorted hands, missing fingers, unnatural pose, double hands, extra limbs, bad anatomy, low quality, "
    "cartoonish, exaggerated features, open mouth, aggressive expression, modern clothing, pixelated, vibrant colors, "
    "overexposed, flickering, blurry details, subtitles, logo, style, artwork, painting, picture, static, overall "
    "grayish, worst quality, JPEG compression artifacts, ugly, incomplete, extra fingers, poorly drawn hands, poorly "
    "drawn face, deformed, disfigured, malformed limbs, fused fingers, static characters, messy background, three "
    "legs, crowded background, walking backwards"
)


def demo_batch_body(image_url: str, model_name: str) -> dict[str, Any]:
    """The image-to-video demo's Generate with its defaults, exactly as it sends it."""
    return {
        "image_url": image_url,
        "prompt": "Animate this image with smooth camera movement and subtle object motion.",
        "model_name": model_name,
        "negative_prompt": DEMO_NEGATIVE_PROMPT,
        "resolution": "720p",
        "audio_url": "",
        "audio_type": "3",
        "video_length": 5,
        "is_premium_model": True,
        "count": 1,
        "effect_code": "zoom_in",
    }


def demo_translate_body(video_url: str, webhook_url: str) -> dict[str, Any]:
    """The video-translation demo's Translate, exactly as it sends it."""
    return {
        "url": video_url,
        "language": "es",
        "source_language": "DEFAULT",
        "lipsync": True,
        "speaker_num": 0,
        "remove_bgm": False,
        "caption_type": 0,
        "dynamic_duration": False,
        "webhookUrl": webhook_url,
        "voices_map": {"es": {"voice_id": ""}},
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", webhook_retry_base_seconds=0.05, webhook_poll_seconds=0.02)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def speech_url(media_dir: Path, media_url: str) -> str:
    """An English speaker on camera (carphone with espeak-ng's speech), on the media server."""
    spoken_clip(media_dir / "demo_speech.mp4", tone=False)
    return f"{media_url}/demo_speech.mp4"


def _deliver(runtime: Runtime) -> None:
    asyncio.run(WebhookSender(runtime).drain(until=time.monotonic() + 20))


def _is_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def test_image_to_video_demo_generate_completes_on_a_free_account(
    runtime: Runtime, free: Team, media_url: str, tmp_path: Path
) -> None:
    models = free.get(MODELS, **{"types[]": "1501"})["data"]
    model = models[0]
    assert isinstance(model["provider"], str) and model["provider"]
    assert isinstance(model["sort"], int) and isinstance(model["generate_audio"], bool)
    answer = free.post(BATCH, demo_batch_body(f"{media_url}/astronaut.png", model["value"]))
    assert answer["code"] == 1000, answer
    [created] = answer["data"]["successList"]
    assert created["negative_prompt"] == DEMO_NEGATIVE_PROMPT and created["audio_type"] == 3
    assert created["model_name"] == model["value"] and created["deduction_credit"] == 20
    assert run_pending(runtime) == 1
    [result] = free.post(RESULTS, {"_ids": created["_id"]})["data"]["result"]
    assert result["status"] == 3, result.get("error_reason")
    video = free.download(result["video_url"], tmp_path / "video.mp4")
    info = probe(video)
    assert info.duration == pytest.approx(5, abs=0.1)
    # The poster frame is the result's own first frame, at its size.
    cover = free.client.get(result["cover_url"])
    assert cover.status_code == 200 and cover.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(cover.content)).size == (info.width, info.height)


def test_a_published_python_clients_bare_create_takes_the_defaults(
    runtime: Runtime, pro: Team, media_url: str, tmp_path: Path
) -> None:
    answer = pro.post(CREATE, {"image_url": f"{media_url}/coffee.jpg", "prompt": "a slow push in on the cup"})
    assert answer["code"] == 1000, answer
    data = answer["data"]
    assert data["resolution"] == "720p" and data["audio_type"] == 3 and data["deduction_credit"] == 20
    assert run_pending(runtime) == 1
    [result] = pro.post(RESULTS, {"_ids": data["_id"]})["data"]["result"]
    assert result["status"] == 3, result.get("error_reason")
    info = probe(pro.download(result["video_url"], tmp_path / "video.mp4"))
    assert info.duration == pytest.approx(5, abs=0.1) and min(info.width, info.height) == 720
    assert not info.has_audio  # audio_type 3: none


def test_a_result_file_can_be_fetched_cross_origin(runtime: Runtime, pro: Team, media_url: str) -> None:
    task_id = pro.post(CREATE, {"image_url": f"{media_url}/coffee.jpg", "prompt": "zoom in"})["data"]["_id"]
    run_pending(runtime)
    [result] = pro.post(RESULTS, {"_ids": task_id})["data"]["result"]
    url, client = result["video_url"], pro.client
    size = len(client.get(url).content)

    full = client.get(url, headers={"origin": ORIGIN})
    assert full.status_code == 200 and full.headers["access-control-allow-origin"] == "*"
    assert full.headers["content-type"] == "video/mp4" and len(full.content) == size

    head = client.head(url, headers={"origin": ORIGIN})
    assert head.status_code == 200 and head.headers["access-control-allow-origin"] == "*"
    assert int(head.headers["content-length"]) == size and head.content == b""

    part = client.get(url, headers={"origin": ORIGIN, "range": "bytes=0-99"})
    assert part.status_code == 206 and part.headers["access-control-allow-origin"] == "*"
    assert part.headers["content-range"] == f"bytes 0-99/{size}" and part.content == full.content[:100]
    assert "Content-Range" in part.headers["access-control-expose-headers"]

    preflight = client.options(
        url,
        headers={"origin": ORIGIN, "access-control-request-method": "GET", "access-control-request-headers": "range"},
    )
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert preflight.headers["access-control-allow-headers"] == "range"

    # A broken signature is still refused, readably from the page.
    refused = client.get(url.replace("signature=", "signature=0"), headers={"origin": ORIGIN})
    assert refused.status_code == 403 and refused.headers["access-control-allow-origin"] == "*"


def test_video_translation_demo_translate_completes_and_its_webhook_decrypts(
    runtime: Runtime, pro: Team, speech_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    answer = pro.post(TRANSLATE, demo_translate_body(speech_url, receiver.url))
    assert answer["code"] == 1000, answer
    [first] = answer["all_results"]
    assert first["data"]["progress"] == 0 and first["data"]["video_status"] == 1
    task_id = first["data"]["_id"]
    assert run_pending(runtime) == 1
    _deliver(runtime)
    info = pro.get(INFO, video_model_id=task_id)["data"]
    assert info["video_status"] == 3, info.get("error_reason")
    assert info["progress"] == 100 and info["language"] == "es"
    report = info["translation_report"]
    assert report["source_language"] == "en" and report["lipsync"]["frames_with_face"] > 0, report
    srt = pro.client.get(info["audio_splits"]["translated_srt_url"]).text
    assert "-->" in srt
    assert probe(pro.download(info["video"], tmp_path / "dub.mp4")).has_audio
    [body] = receiver.accepted
    payload = receiver_decrypt(body, pro.client_id, pro.api_key)
    assert payload["_id"] == task_id and payload["status"] == 3 and payload["url"] == info["video"]


def test_languages_and_voices_have_the_fields_the_demo_reads(pro: Team) -> None:
    languages = pro.get(LANGUAGES)["data"]["lang_list"]
    assert languages
    for entry in languages:
        assert {key: type(entry[key]) for key in ("lang_code", "lang_name", "url", "flag_url", "need_voice_id")} == {
            "lang_code": str,
            "lang_name": str,
            "url": str,
            "flag_url": str,
            "need_voice_id": bool,
        }
        assert entry["flag_url"].startswith("http")
    voices = pro.get(VOICES, language_code="es", page=1, size=100)["data"]["result"]
    assert voices
    for voice in voices:
        for key in ("_id", "voice_id", "gender", "language", "name", "preview", "thumbnailUrl", "flag_url"):
            assert isinstance(voice[key], str) and voice[key], key
        for key in ("age", "style", "scenario"):
            assert voice[key] and all(isinstance(item, str) for item in voice[key]), key
    thumbnail = pro.client.get(voices[0]["thumbnailUrl"])
    assert thumbnail.status_code == 200 and thumbnail.headers["content-type"].startswith("image/svg+xml")
    preview = pro.client.get(voices[0]["preview"], headers={"origin": ORIGIN})
    assert preview.status_code == 200 and preview.headers["content-type"] == "audio/mpeg"
    assert preview.headers["access-control-allow-origin"] == "*"
    assert _is_mp3(preview.content)


def test_the_api_answers_browsers_only_from_the_origins_the_operator_lists(tmp_path: Path) -> None:
    runtime = Runtime(make_settings(tmp_path / "data", cors_origins=[ORIGIN]))
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=100)
        headers = {"x-api-key": creds.api_key}
        preflight = client.options(
            CREATE,
            headers={
                "origin": ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "x-api-key",
            },
        )
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == ORIGIN
        # The poll path is answered ahead of FastAPI's routing, and is covered too.
        poll = client.get(INFO, params={"video_model_id": "a" * 24}, headers={**headers, "origin": ORIGIN})
        assert poll.json()["code"] == 1008 and poll.headers["access-control-allow-origin"] == ORIGIN
        other = client.get(LANGUAGES, headers={**headers, "origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers


def test_by_default_the_api_sends_no_cors_headers(pro: Team) -> None:
    answer = pro.client.get(LANGUAGES, headers={**pro.headers, "origin": ORIGIN})
    assert answer.json()["code"] == 1000 and "access-control-allow-origin" not in answer.headers
