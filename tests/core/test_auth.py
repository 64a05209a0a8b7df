"""Credentials, tokens, bans and key rotation, through the HTTP API."""

from __future__ import annotations

import time

import jwt
from fastapi.testclient import TestClient

from reelsmith.runtime import Runtime
from tests.conftest import Team

QUOTA = "/api/open/v3/faceswap/quota/info"
TOKEN = "/api/open/v3/getToken"


def test_credentials_have_the_lengths_webhook_receivers_need(pro: Team) -> None:
    assert len(pro.client_id) == 16 and pro.client_id.isascii()
    assert len(pro.api_key) == 32 and pro.api_key.isascii()


def test_key_is_stored_hashed(runtime: Runtime, pro: Team) -> None:
    with runtime.db.engine.connect() as connection:
        dump = "\n".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM accounts"))
    assert pro.api_key not in dump


def test_get_token_answers_unwrapped_and_the_token_authenticates(client: TestClient, pro: Team) -> None:
    answer = client.post(TOKEN, json={"clientId": pro.client_id, "clientSecret": pro.api_key}).json()
    assert answer["code"] == 1000 and answer["msg"] == "OK"
    assert "data" not in answer and isinstance(answer["token"], str)
    quota = client.get(QUOTA, headers={"Authorization": f"Bearer {answer['token']}"}).json()
    assert quota == {"code": 1000, "msg": "OK", "data": {"credit": 1000}}


def test_get_token_refusals(client: TestClient, pro: Team) -> None:
    assert client.post(TOKEN, json={"clientId": pro.client_id, "clientSecret": "x" * 32}).json()["code"] == 1101
    assert client.post(TOKEN, json={"clientId": "nobody", "clientSecret": pro.api_key}).json()["code"] == 1101
    assert client.post(TOKEN, json={"clientId": pro.client_id}).json()["code"] == 1102
    assert client.post(TOKEN, json={}).json()["code"] == 1102


def test_missing_and_bad_credentials(client: TestClient) -> None:
    assert client.get(QUOTA).json()["code"] == 1102
    assert client.get(QUOTA, headers={"x-api-key": "wrong"}).json()["code"] == 1101
    assert client.get(QUOTA, headers={"Authorization": "Bearer not-a-jwt"}).json()["code"] == 1101
    assert client.get(QUOTA, headers={"Authorization": "Basic abc"}).json()["code"] == 1101


def test_authorization_wins_over_api_key(client: TestClient, pro: Team) -> None:
    headers = {"x-api-key": pro.api_key, "Authorization": "Bearer forged"}
    assert client.get(QUOTA, headers=headers).json()["code"] == 1101


def test_token_signed_with_another_secret_or_expired_is_refused(
    client: TestClient, runtime: Runtime, pro: Team
) -> None:
    forged = jwt.encode(
        {"sub": str(pro.uid), "kv": 1, "exp": int(time.time()) + 60},
        "a guessed secret of thirty-two bytes!",
        algorithm="HS256",
    )
    assert client.get(QUOTA, headers={"Authorization": f"Bearer {forged}"}).json()["code"] == 1101
    secret = runtime.accounts._token_secret
    expired = jwt.encode({"sub": str(pro.uid), "kv": 1, "exp": int(time.time()) - 5}, secret, algorithm="HS256")
    answer = client.get(QUOTA, headers={"Authorization": f"Bearer {expired}"}).json()
    assert answer["code"] == 1101 and "expired" in answer["msg"]


def test_banned_account_is_refused_everywhere(client: TestClient, runtime: Runtime, pro: Team) -> None:
    token = client.post(TOKEN, json={"clientId": pro.client_id, "clientSecret": pro.api_key}).json()["token"]
    runtime.accounts.set_banned(pro.client_id, True)
    assert client.get(QUOTA, headers=pro.headers).json()["code"] == 1200
    assert client.get(QUOTA, headers={"Authorization": f"Bearer {token}"}).json()["code"] == 1200
    assert client.post(TOKEN, json={"clientId": pro.client_id, "clientSecret": pro.api_key}).json()["code"] == 1200
    runtime.accounts.set_banned(pro.client_id, False)
    assert client.get(QUOTA, headers=pro.headers).json()["code"] == 1000


def test_rotating_the_key_invalidates_old_key_and_tokens(client: TestClient, runtime: Runtime, pro: Team) -> None:
    token = client.post(TOKEN, json={"clientId": pro.client_id, "clientSecret": pro.api_key}).json()["token"]
    fresh = runtime.accounts.rotate_key(pro.client_id)
    assert fresh.client_id == pro.client_id and fresh.api_key != pro.api_key
    assert client.get(QUOTA, headers=pro.headers).json()["code"] == 1101
    assert client.get(QUOTA, headers={"Authorization": f"Bearer {token}"}).json()["code"] == 1101
    assert client.get(QUOTA, headers={"x-api-key": fresh.api_key}).json()["code"] == 1000


def test_a_token_whose_subject_is_not_an_account_id_is_refused(runtime: Runtime, client: TestClient) -> None:
    # Signed with the server's own token secret: only the subject is wrong.
    secret = runtime.accounts._token_secret
    for subject in ("abc", "1e3", "-1", str(2**80), " 1"):
        claims = {"sub": subject, "kv": 1, "exp": int(time.time()) + 60}
        token = jwt.encode(claims, secret, algorithm="HS256")
        answer = client.get(QUOTA, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and answer.json() == {"code": 1101, "msg": "invalid token"}, subject
