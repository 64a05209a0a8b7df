"""Video Translation through the API: one task per language, all_results, media limits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from reelsmith.api.app import create_app
from reelsmith.media.probe import probe
from reelsmith.media.sound import read_audio
from reelsmith.pipelines.video_translation.speakers import voice_features
from reelsmith.runtime import Runtime
from tests.conftest import Team, assert_refused, make_settings, run_pending, with_fields
from tests.support.media import header_seconds, make_video, with_lying_header

CREATE = "/api/open/v3/content/video/createbytranslate"
INFO = "/api/open/v3/content/video/infobymodelid"
QUOTA = "/api/open/v3/faceswap/quota/info"

TASK_FIELDS = {
    "_id",
    "create_time",
    "uid",
    "team_id",
    "target_video",
    "language",
    "source_language",
    "video_status",
    "video_lock_duration",
    "deduction_lock_duration",
    "video",
    "lipsync",
    "speaker_num",
    "webhookUrl",
}


def test_one_task_per_language_with_all_results(pro: Team, media_url: str) -> None:
    body = {"url": f"{media_url}/clip12.mp4", "language": "es,fr", "webhookurl": "https://e.com/h"}
    answer = pro.post(CREATE, body)
    assert answer["code"] == 1000, answer
    results = answer["all_results"]
    assert [r["data"]["language"] for r in results] == ["es", "fr"]
    assert all(r["code"] == 1000 and r["msg"] == "OK" for r in results)
    assert answer["data"] == results[0]["data"]
    first = answer["data"]
    assert TASK_FIELDS <= set(first)
    assert first["target_video"] == body["url"] and first["video"] == ""
    assert first["video_status"] == 1 and first["source_language"] == "DEFAULT"
    assert first["video_lock_duration"] == pytest.approx(12, abs=0.1)
    assert first["deduction_lock_duration"] == 15
    assert first["webhookUrl"] == "https://e.com/h"
    assert results[0]["data"]["_id"] != results[1]["data"]["_id"]
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - 2 * 15


def test_lipsync_doubles_the_price(pro: Team, media_url: str) -> None:
    pro.post(CREATE, {"url": f"{media_url}/clip.mp4", "language": "es", "lipsync": True})
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - 10


def test_info_shape_and_failure_without_engine(tmp_path: Path, media_url: str) -> None:
    # An operator whose translation engine is missing: the plugin names a module not installed.
    missing = {"video-translation": "reelsmith_missing_engine:Pipeline"}
    runtime = Runtime(make_settings(tmp_path / "data", engine_plugins=missing))
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=100)
        team = Team(client, creds.client_id, creds.api_key, 0, "")
        body = {"url": f"{media_url}/clip.mp4", "language": "es", "caption_url": f"{media_url}/captions.srt"}
        task_id = team.post(CREATE, body)["data"]["_id"]
        queued = team.get(INFO, video_model_id=task_id)["data"]
        assert queued["video_status"] == 1 and queued["progress"] == 0
        assert set(queued["audio_splits"]) == {"original_srt_url", "translated_srt_url", "no_caption_video_url"}
        run_pending(runtime)
        failed = team.get(INFO, video_model_id=task_id)["data"]
        assert failed["video_status"] == 4
        assert "Video Translation engine is not installed" in failed["error_reason"]
        assert failed["error_code"] and failed["deduction_duration"] == 0
        assert team.get(QUOTA)["data"]["credit"] == 100
        assert team.get("/api/open/v3/language/list")["data"] == {"lang_list": []}
    runtime.db.dispose()


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"url": "{media}/silent.mp4"}, 1203, "url has no audio"),
        ({"url": "{media}/long.mp4"}, 1204, "limit is 60 s"),
        ({"url": "{media}/fast.mp4"}, 1210, "fps"),
        ({"url": "{media}/face.png"}, 1003, "url is not an MP4"),
        ({"url": "file:///etc/passwd"}, 1003, "url must be an http or https URL"),
        ({"language": ""}, 1003, "language must not be empty"),
        ({"language": "xx"}, 1003, "language 'xx' is not a known language code"),
        ({"language": "es,,xx"}, 1003, "'xx'"),
        ({"language": "en", "source_language": "en"}, 1003, "same as source_language"),
        ({"source_language": "klingon"}, 1003, "source_language"),
        ({"caption_type": 7}, 1003, "caption_type must be one of 0, 1, 2, 3, 4"),
        ({"speaker_num": -1}, 1003, "speaker_num must be 0 (detect) or more"),
        ({"lipsync": "perhaps"}, 1003, "lipsync must be true or false"),
        ({"studio_voice": {"style": "grumpy"}}, 1003, "studio_voice.style must be one of"),
        ({"studio_voice": []}, 1003, "studio_voice must be an object"),
        ({"speaker_num": True}, 1003, "speaker_num must be an integer"),
        ({"caption_url": "{media}/face.png"}, 1003, "caption_url"),
        ({"language": "de"}, 1003, "language 'de' is not offered by the installed engines"),
        ({"caption_type": 3}, 1003, "caption_type 3 needs caption_url"),
        ({"source_language": "ga"}, 1003, "source_language 'ga' cannot be recognised"),  # Whisper knows no Irish
        ({"voices_map": {"es": {"voice_id": "v1"}}}, 1003, "voices_map.es.voice_id 'v1' is not a voice of 'es'"),
    ],
)
def test_bad_input(
    runtime: Runtime, pro: Team, media_url: str, fields: dict[str, object], code: int, words: str
) -> None:
    body = with_fields({"url": f"{media_url}/clip.mp4", "language": "es"}, fields, media_url)
    assert_refused(runtime, pro, CREATE, body, code, words)


def test_deprecated_fields_are_accepted(pro: Team, media_url: str) -> None:
    body = {
        "url": f"{media_url}/clip.mp4",
        "language": "es",
        "merge_interval": 1,
        "face_enhance": True,
        "voices_map": {"es": {"voice_id": "espeak-es-f2"}},
        "studio_voice": {"style": "calm", "fixed_words": {"a": "b"}},
    }
    assert pro.post(CREATE, body)["code"] == 1000


@pytest.mark.parametrize(
    "fields",
    [
        {"voices_map": {"es": {"voice_id": ""}}},  # what Akool's demo sends for every language
        {"voices_map": {"es": {}}},
        {"voices_map": {"es": {"voice_id": None}}},
        {"speaker_num": 25},  # Akool sets no maximum; voices are reused
    ],
)
def test_what_akools_clients_send_is_accepted(pro: Team, media_url: str, fields: dict[str, object]) -> None:
    answer = pro.post(CREATE, {"url": f"{media_url}/clip.mp4", "language": "es", **fields})
    assert answer["code"] == 1000, answer


def test_not_enough_credits_for_every_language_creates_none(make_team, media_url: str) -> None:  # type: ignore[no-untyped-def]
    team = make_team("free", 15)
    answer = team.post(CREATE, {"url": f"{media_url}/clip.mp4", "language": "es,fr,ca,pt"})
    assert answer["code"] == 1104
    assert team.get(QUOTA)["data"]["credit"] == 15


def test_catalogs_list_what_the_installed_engines_make(pro: Team) -> None:
    # Apertium's installed pairs (eng-spa, eng-cat, en-gl, en-eo, es-fr, es-pt) and espeak-ng.
    languages = pro.get("/api/open/v3/language/list")["data"]["lang_list"]
    codes = {entry["lang_code"] for entry in languages}
    assert {"es", "ca", "eo", "fr", "pt"} <= codes
    # Apertium translates into Galician, but espeak-ng has no Galician voice: not offered.
    assert "gl" not in codes and "de" not in codes and "ja" not in codes
    spanish = next(entry for entry in languages if entry["lang_code"] == "es")
    assert spanish["lang_name"] == "Spanish" and spanish["need_voice_id"] is True
    assert spanish["url"] == spanish["flag_url"] and spanish["url"].endswith("/api/reelsmith/v1/languages/es/badge.svg")
    badge = pro.client.get(spanish["flag_url"])
    assert badge.status_code == 200 and badge.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in badge.content and b">ES</text>" in badge.content
    assert pro.client.get("/api/reelsmith/v1/languages/xx/badge.svg").status_code == 404
    voices = pro.get("/api/open/v4/voice/videoTranslation", language_code="es", page=1, size=100)["data"]
    # Kokoro's three Spanish voices first (its first is the default), then espeak-ng's six.
    assert voices["count"] == 9 and len(voices["result"]) == 9
    assert {voice["gender"] for voice in voices["result"]} == {"Male", "Female"}
    assert all(voice["language_code"] == "es" for voice in voices["result"])
    assert [voice["voice_id"].split("-")[0] for voice in voices["result"]] == ["kokoro"] * 3 + ["espeak"] * 6
    assert pro.get("/api/open/v4/voice/videoTranslation", language_code="de")["data"]["count"] == 0


def test_a_voice_preview_is_that_voice_speaking(pro: Team, tmp_path: Path) -> None:
    voices = pro.get("/api/open/v4/voice/videoTranslation", language_code="es")["data"]["result"]
    male, female = (next(v for v in voices if v["gender"] == gender) for gender in ("Male", "Female"))
    assert male["preview"].startswith("http") and male["preview"].endswith(f"/{male['voice_id']}/preview.mp3")
    pitches = []
    for voice in (male, female):
        response = pro.client.get(voice["preview"])
        assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
        path = tmp_path / f"{voice['voice_id']}.mp3"
        path.write_bytes(response.content)
        assert probe(path).audio_codec.startswith("mp3")
        sound = read_audio(path, 16_000)
        assert len(sound) / 16_000 > 2.0  # a whole sentence
        pitches.append(float(np.exp(voice_features(sound)[-1])))
    assert pitches[1] > 1.3 * pitches[0]  # the woman's voice is higher
    assert pro.client.get("/api/reelsmith/v1/voices/espeak-xx-m3/preview.mp3").status_code == 404


def test_video_over_the_size_limit_is_1207(tmp_path: Path, media_url: str) -> None:
    runtime = Runtime(make_settings(tmp_path / "data", fetch_max_bytes=10_000))
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=100)
        body = {"url": f"{media_url}/clip12.mp4", "language": "es"}
        answer = client.post(CREATE, json=body, headers={"x-api-key": creds.api_key}).json()
    assert answer["code"] == 1207 and "url is larger than" in answer["msg"], answer


@pytest.fixture(scope="module")
def lying_clips(media_dir: Path) -> dict[str, str]:
    """6 s of picture and sound whose MP4 headers (mvhd, tkhd, mdhd) say 3 s and 2 s, served
    beside the other media; with captions for the 2 s one that run past its stated end."""
    for says in (3, 2):
        with_lying_header(make_video(media_dir / f"says{says}s_holds6s.mp4", 6), says)
        assert header_seconds(media_dir / f"says{says}s_holds6s.mp4") == pytest.approx(says)
    (media_dir / "past_the_header.srt").write_text(
        "1\n00:00:00,200 --> 00:00:01,500\nHello there.\n\n"
        "2\n00:00:02,300 --> 00:00:04,800\nSee you soon, my good friends.\n"
    )
    return {"says3": "says3s_holds6s.mp4", "says2": "says2s_holds6s.mp4", "captions": "past_the_header.srt"}


def test_a_header_that_understates_the_length_does_not_slip_under_the_limit(
    tmp_path: Path, media_url: str, lying_clips: dict[str, str]
) -> None:
    # Issue 17: a header saying 40 s on 80 s of sound passed the 60 s limit. Scaled down: a
    # header saying 3 s on 6 s, against a 5 s limit.
    runtime = Runtime(make_settings(tmp_path / "data", translation_max_seconds=5))
    with TestClient(create_app(runtime)) as client:
        _, creds = runtime.accounts.create(plan="pro", credits=100)
        team = Team(client, creds.client_id, creds.api_key, 0, "")
        body = {"url": f"{media_url}/{lying_clips['says3']}", "language": "es"}
        assert_refused(runtime, team, CREATE, body, 1204, "url is 6.0 s long (its header says 3.0 s); the limit is 5 s")
    runtime.db.dispose()


def test_a_lying_header_is_charged_for_what_the_file_holds(
    pro: Team, media_url: str, lying_clips: dict[str, str]
) -> None:
    answer = pro.post(CREATE, {"url": f"{media_url}/{lying_clips['says3']}", "language": "es"})
    assert answer["code"] == 1000, answer
    assert answer["data"]["video_lock_duration"] == pytest.approx(6, abs=0.05)
    assert answer["data"]["deduction_lock_duration"] == 10
    assert pro.get(QUOTA)["data"]["credit"] == 1000 - 10


def test_a_lying_header_neither_fails_the_task_nor_shortens_it(
    runtime: Runtime, pro: Team, media_url: str, lying_clips: dict[str, str], tmp_path: Path
) -> None:
    # Issue 17: with a header saying 4 s on 80 s the task failed in _voice_track (a line placed
    # past the stated end, closer to it than its speech is long). Here the second caption line
    # starts 0.3 s after the header's 2 s.
    body = {
        "url": f"{media_url}/{lying_clips['says2']}",
        "language": "es",
        "source_language": "en",
        "caption_url": f"{media_url}/{lying_clips['captions']}",
    }
    task_id = pro.post(CREATE, body)["data"]["_id"]
    assert run_pending(runtime) == 1
    done = pro.get(INFO, video_model_id=task_id)["data"]
    assert done["video_status"] == 3, done.get("error_reason")
    assert done["video_lock_duration"] == pytest.approx(6, abs=0.05)
    assert done["deduction_lock_duration"] == 10
    output = pro.download(done["video"], tmp_path / "video.mp4")
    assert probe(output).duration == pytest.approx(6, abs=0.1)
    assert header_seconds(output) == pytest.approx(6, abs=0.1)  # what we deliver says the truth


def test_voice_list_paging_rules(pro: Team) -> None:
    assert pro.get("/api/open/v4/voice/videoTranslation", page=0)["msg"] == "page must be at least 1"
    assert pro.get("/api/open/v4/voice/videoTranslation", size=500)["msg"] == "size must be at most 100"
