"""Malformed requests: every one gets HTTP 200, code 1003 and a message naming the problem."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Team

CREATE = "/api/open/v4/characterSwap/create"


def _post_raw(client: TestClient, team: Team, body: bytes) -> dict:
    response = client.post(CREATE, content=body, headers={**team.headers, "content-type": "application/json"})
    assert response.status_code == 200
    return response.json()


def test_malformed_json(client: TestClient, pro: Team) -> None:
    answer = _post_raw(client, pro, b'{"image": ')
    assert answer["code"] == 1003 and "not valid JSON" in answer["msg"]


def test_empty_body(client: TestClient, pro: Team) -> None:
    answer = _post_raw(client, pro, b"")
    assert answer["code"] == 1003


def test_huge_body_sent_in_chunks(client: TestClient, pro: Team) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"prompt": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    response = client.post(CREATE, content=chunks(), headers={**pro.headers, "content-type": "application/json"})
    assert response.status_code == 200
    assert response.json()["code"] == 1003 and "larger than" in response.json()["msg"]


def test_json_is_read_whatever_the_content_type(client: TestClient, pro: Team) -> None:
    token = client.post(
        "/api/open/v3/getToken",
        content=f'{{"clientId": "{pro.client_id}", "clientSecret": "{pro.api_key}"}}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    ).json()
    assert token["code"] == 1000 and token["token"]


def test_body_that_is_not_an_object(client: TestClient, pro: Team) -> None:
    answer = _post_raw(client, pro, b"[1, 2]")
    assert answer["code"] == 1003 and "JSON object" in answer["msg"]


def test_huge_body(client: TestClient, pro: Team) -> None:
    answer = _post_raw(client, pro, b'{"prompt": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    assert answer["code"] == 1003 and "larger than" in answer["msg"]


def test_auth_is_checked_before_the_body(client: TestClient) -> None:
    response = client.post(CREATE, json={"image": "x"})
    assert response.json()["code"] == 1102


def test_unknown_path_is_a_plain_404(client: TestClient) -> None:
    assert client.get("/api/open/v3/nothing").status_code == 404


def test_openapi_describes_the_real_fields(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/open/v3/getToken",
        "/api/open/v4/characterSwap/create",
        "/api/open/v3/content/video/createbytranslate",
        "/api/open/v3/content/video/infobymodelid",
        "/api/open/v4/image2Video/createBySourcePrompt",
        "/api/open/v4/image2Video/createBySourcePrompt/batch",
        "/api/open/v4/image2Video/resultsByIds",
        "/api/open/v4/image2Video/effects",
        "/api/open/v4/image2Video/updateVideoAudio",
        "/api/open/v4/image2Video/delbyids",
        "/api/open/v4/aigModel/list",
        "/api/open/v3/language/list",
        "/api/open/v4/voice/videoTranslation",
        "/api/reelsmith/v1/upload",
    ):
        assert path in paths, path
    swap = schema["components"]["schemas"]["CharacterSwapRequest"]["properties"]
    assert {"image", "video", "duration", "resolution", "mode", "prompt"} <= set(swap)
    assert client.get("/docs").status_code == 200


def test_health(client: TestClient) -> None:
    assert client.get("/healthz").json()["code"] == 1000
    ready = client.get("/readyz").json()
    assert ready["code"] == 1000 and ready["data"] == {"database": "ok", "storage": "ok", "disk": "ok"}


UNSTORABLE = "the request body is not valid JSON: a string holds a NUL or an unpaired surrogate"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"image": "caf\xe9"}', "the request body is not valid JSON: it must be UTF-8 text"),
        (
            b'{"prompt": "a \\ud800 b"}',
            UNSTORABLE,
        ),
        (
            b'{"prompt": "a \\udc00"}',
            UNSTORABLE,
        ),
        (b'{"x\\u0000": 1}', UNSTORABLE),
        (
            b'{"image": ["\\u0000"]}',
            UNSTORABLE,
        ),
        (b"[" * 100_000 + b"]" * 100_000, "the request body is not valid JSON: it is nested too deeply"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "the request body is not valid JSON: it is nested too deeply"),
        (b'{"image": NaN', "the request body is not valid JSON"),
    ],
)
def test_bodies_that_are_not_json_are_1003(client: TestClient, pro: Team, body: bytes, words: str) -> None:
    answer = _post_raw(client, pro, body)
    assert answer == {"code": 1003, "msg": words}


def test_escaped_text_that_is_fine_is_accepted(client: TestClient, pro: Team) -> None:
    # A paired surrogate (an emoji) and a literal backslash-u are ordinary text.
    answer = _post_raw(client, pro, b'{"image": "x", "video": "y", "prompt": "\\ud83d\\ude00 \\\\ud800"}')
    assert answer["code"] == 1003 and "image must be an http or https URL" in answer["msg"], answer


def test_a_wrong_method_keeps_its_405_and_says_what_is_allowed(client: TestClient, pro: Team) -> None:
    wrong = client.get(CREATE, headers=pro.headers)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    wrong = client.post("/api/open/v3/language/list", headers=pro.headers)
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
